//! Helpers of the end-to-end tests: the built binaries, the check that bpftrace can run
//! (a failure in CI, a skip with a notice elsewhere), one lock so that only one tracer runs at
//! a time, scratch directories, the test program built with `cc`, and a reader that pairs a
//! trace's lines with trace-format.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use trace_format::{parse_line, Header, Line};

/// A built binary of the workspace.
pub fn bin(name: &str) -> PathBuf {
    let p = assert_cmd::cargo::cargo_bin(name);
    assert!(
        p.exists(),
        "{} missing: build the workspace (cargo test --workspace)",
        p.display()
    );
    p
}

/// `trace-gen` from this build, finding bpftrace on PATH (not through an inherited
/// BPFTRACE_PATH).
pub fn trace_gen() -> Command {
    let mut c = Command::new(bin("trace-gen"));
    c.env_remove("BPFTRACE_PATH");
    c
}

/// `trace-merge` from this build.
pub fn trace_merge() -> Command {
    Command::new(bin("trace-merge"))
}

/// Whether the tests run in CI (where nothing may be skipped).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    })
}

/// True when bpftrace can trace here (installed, root). Otherwise: panics in CI, prints a
/// notice and returns false elsewhere.
pub fn bpftrace_ready(test: &str) -> bool {
    let found = Command::new("bpftrace")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let root = is_root();
    if found && root {
        return true;
    }
    let why = if found {
        "not root"
    } else {
        "bpftrace is not installed"
    };
    assert!(!in_ci(), "{test}: {why}, and CI must run this test");
    eprintln!("notice: {test} skipped: {why}");
    false
}

static TRACER: Mutex<()> = Mutex::new(());

/// Held while a tracer runs: on 2 CPUs, two bpftrace sessions at once slow each other down
/// enough to lose events.
pub fn tracer_lock() -> MutexGuard<'static, ()> {
    TRACER.lock().unwrap_or_else(|p| p.into_inner())
}

/// A fresh directory under /tmp, removed at drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("trace-gen-e2e-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// A path inside, as a string (for commands).
    pub fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Builds tests/data/gen/opener.c into `dir` with `cc`.
pub fn build_opener(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gen/opener.c");
    let exe = dir.join("opener");
    let out = Command::new("cc")
        .args(["-O2", "-pthread", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("cc is needed to build the test program (apt-get install gcc)");
    assert!(
        out.status.success(),
        "cc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// A copy of `cat` under another name, so that its process name (comm) is unique.
pub fn renamed_cat(dir: &Path, name: &str) -> String {
    let p = dir.join(name);
    std::fs::copy("/bin/cat", &p).unwrap();
    p.to_str().unwrap().to_owned()
}

/// Runs a command to its end, failing the test after `limit` (a hang is a bug, not slowness:
/// the limit is generous).
pub fn run_with_limit(mut cmd: Command, limit: Duration) -> (ExitStatus, Vec<u8>, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = read_in_thread(child.stdout.take().unwrap());
    let err = read_in_thread(child.stderr.take().unwrap());
    let status = wait_with_limit(&mut child, limit);
    let out = out.join().unwrap();
    let err = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
    (status, out, err)
}

/// Reads `r` to its end on a thread.
pub fn read_in_thread(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = r.read_to_end(&mut v);
        v
    })
}

/// Waits for `child`, killing it and failing the test after `limit`.
pub fn wait_with_limit(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if start.elapsed() > limit {
            // SIGINT first, so that the tracer's probes are removed cleanly.
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            std::thread::sleep(Duration::from_secs(3));
            let _ = child.kill();
            panic!("pid {} still running after {limit:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One open, entry and return paired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub uid: u32,
    pub pid: u32,
    pub tid: u32,
    pub comm: Vec<u8>,
    pub path: Vec<u8>,
    pub ret: i64,
    pub entry_ts: u64,
    pub return_ts: u64,
}

/// A trace read back with trace-format.
#[derive(Debug, Default)]
pub struct Trace {
    pub opens: Vec<Open>,
    /// `# key: value` headers, in order, as text.
    pub headers: Vec<(String, String)>,
    pub lost: u64,
    /// Entries without a return (per thread: a second entry came first, or none came).
    pub unpaired_entries: usize,
    /// Returns without an entry.
    pub unpaired_returns: usize,
    /// Lines that do not parse.
    pub bad_lines: Vec<String>,
}

impl Trace {
    pub fn parse(bytes: &[u8]) -> Trace {
        let mut t = Trace::default();
        let mut pending: std::collections::HashMap<u32, Open> = std::collections::HashMap::new();
        for raw in bytes.split(|&b| b == b'\n') {
            if raw.is_empty() {
                continue;
            }
            match parse_line(raw) {
                Ok(Line::Entry(e)) => {
                    let open = Open {
                        uid: e.task.uid,
                        pid: e.task.pid,
                        tid: e.task.thread_key(),
                        comm: e
                            .task
                            .comm
                            .map(|c| c.to_bytes().into_owned())
                            .unwrap_or_default(),
                        path: e.path.to_bytes().into_owned(),
                        ret: 0,
                        entry_ts: e.ts,
                        return_ts: 0,
                    };
                    let old = pending.insert(e.task.thread_key(), open);
                    t.unpaired_entries += usize::from(old.is_some());
                }
                Ok(Line::Return(r)) => match pending.remove(&r.task.thread_key()) {
                    Some(mut open) => {
                        assert_eq!(
                            (open.uid, open.pid),
                            (r.task.uid, r.task.pid),
                            "return of another task"
                        );
                        open.ret = r.ret;
                        open.return_ts = r.ts;
                        t.opens.push(open);
                    }
                    None => t.unpaired_returns += 1,
                },
                Ok(Line::Header(Header::Lost(n))) => {
                    t.lost += n;
                    t.headers.push(("lost".into(), n.to_string()));
                }
                Ok(Line::Header(_)) | Ok(Line::Comment(_)) => {
                    let s = String::from_utf8_lossy(raw).into_owned();
                    let (k, v) = s
                        .trim_start_matches("# ")
                        .split_once(": ")
                        .unwrap_or((&s, ""));
                    t.headers.push((k.to_owned(), v.to_owned()));
                }
                Ok(Line::Blank) => {}
                Err(_) => t.bad_lines.push(String::from_utf8_lossy(raw).into_owned()),
            }
        }
        t.unpaired_entries += pending.len();
        t
    }

    /// The value of the first header `key`.
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The opens of `path`.
    pub fn of_path(&self, path: &str) -> Vec<&Open> {
        self.opens
            .iter()
            .filter(|o| o.path == path.as_bytes())
            .collect()
    }
}
