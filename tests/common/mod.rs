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

/// Whether the tests run as root.
pub fn is_root() -> bool {
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

/// True when trace-gen can run a tracer here (root, tracefs), whatever the tracer: for tests
/// that run a stand-in through a `*_PATH` variable. Otherwise: panics in CI, prints a notice
/// and returns false elsewhere.
pub fn root_ready(test: &str) -> bool {
    let tracefs = Path::new("/sys/kernel/tracing/events").is_dir()
        || Path::new("/sys/kernel/debug/tracing/events").is_dir();
    if is_root() && tracefs {
        return true;
    }
    assert!(
        !in_ci(),
        "{test}: not root or no tracefs, and CI must run this test"
    );
    eprintln!("notice: {test} skipped: not root or no tracefs");
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

/// True when strace can run here too (besides bpftrace, see [`bpftrace_ready`]). Otherwise:
/// panics in CI, prints a notice and returns false elsewhere.
pub fn strace_ready(test: &str) -> bool {
    if !bpftrace_ready(test) {
        return false;
    }
    let found = Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    assert!(
        !in_ci(),
        "{test}: strace is not installed, and CI must run this test"
    );
    eprintln!("notice: {test} skipped: strace is not installed");
    false
}

/// Builds tests/data/gen/`name`.c into `dir` with `compiler` and `flags` (`cc`; `gcc -m32
/// -static` for the 32-bit program, which needs gcc-multilib).
pub fn build_c(dir: &Path, name: &str, compiler: &str, flags: &[&str]) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gen")
        .join(format!("{name}.c"));
    let exe = dir.join(name);
    let out = Command::new(compiler)
        .args(flags)
        .args(["-O2", "-Wall", "-pthread", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("{compiler} is needed to build {name}.c: {e}"));
    assert!(
        out.status.success(),
        "{compiler} {flags:?} {name}.c failed (gcc -m32 needs gcc-multilib): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// An open as the differential harness compares it: the path bytes (cut to the 4095 bytes
/// strace shows of a longer one, and marked so), and the result (a file descriptor, or
/// -errno; strace's "To be restarted" results are -512..-516 as the kernel returns them).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seen {
    pub path: Vec<u8>,
    /// The path was 4096 bytes or longer: only its first 4095 bytes are compared.
    pub cut: bool,
    pub ret: i64,
}

/// The result of an open that never returned (strace's `= ?`, trace-merge's `"ret": null`).
pub const NO_RESULT: i64 = i64::MIN;

/// A multiset of opens.
pub type Opens = std::collections::BTreeMap<Seen, usize>;

/// strace prints at most this many bytes of a path (PATH_MAX - 1), then `...`.
const STRACE_PATH_MAX: usize = 4095;

impl Seen {
    /// The open of `path` by thread `tid` of process `pid`, normalised (see [`normalise`]).
    pub fn new(path: &[u8], cut: bool, ret: i64, pid: u32, tid: u32) -> Seen {
        let mut path = normalise(path, pid, tid);
        let cut = cut || path.len() > STRACE_PATH_MAX;
        path.truncate(STRACE_PATH_MAX);
        Seen { path, cut, ret }
    }
}

/// The one per-run difference the harness removes: a process that opens its own `/proc`
/// directory by number (`/proc/PID/...` or `/proc/PID/task/TID/...`, as `setpriv` reads its own
/// status) opens a path that holds its pid, which differs between the two runs. Such a path
/// is compared as `/proc/<self>/...`. Only the opener's own pid or tid is replaced, so an open
/// of another process's `/proc` entry still counts as itself.
pub fn normalise(path: &[u8], pid: u32, tid: u32) -> Vec<u8> {
    for id in [pid, tid] {
        let prefix = format!("/proc/{id}/");
        if let Some(rest) = path.strip_prefix(prefix.as_bytes()) {
            let mut p = b"/proc/<self>/".to_vec();
            p.extend_from_slice(rest);
            return p;
        }
    }
    path.to_vec()
}

/// The errno names strace prints (x86_64 Linux numbers), and the kernel's restart codes.
const ERRNOS: &[(&str, i64)] = &[
    ("EPERM", 1),
    ("ENOENT", 2),
    ("ESRCH", 3),
    ("EINTR", 4),
    ("EIO", 5),
    ("ENXIO", 6),
    ("E2BIG", 7),
    ("ENOEXEC", 8),
    ("EBADF", 9),
    ("ECHILD", 10),
    ("EAGAIN", 11),
    ("EWOULDBLOCK", 11),
    ("ENOMEM", 12),
    ("EACCES", 13),
    ("EFAULT", 14),
    ("ENOTBLK", 15),
    ("EBUSY", 16),
    ("EEXIST", 17),
    ("EXDEV", 18),
    ("ENODEV", 19),
    ("ENOTDIR", 20),
    ("EISDIR", 21),
    ("EINVAL", 22),
    ("ENFILE", 23),
    ("EMFILE", 24),
    ("ENOTTY", 25),
    ("ETXTBSY", 26),
    ("EFBIG", 27),
    ("ENOSPC", 28),
    ("ESPIPE", 29),
    ("EROFS", 30),
    ("EMLINK", 31),
    ("EPIPE", 32),
    ("EDOM", 33),
    ("ERANGE", 34),
    ("EDEADLK", 35),
    ("ENAMETOOLONG", 36),
    ("ENOLCK", 37),
    ("ENOSYS", 38),
    ("ENOTEMPTY", 39),
    ("ELOOP", 40),
    ("ENOMSG", 42),
    ("EIDRM", 43),
    ("ENODATA", 61),
    ("ETIME", 62),
    ("ENOLINK", 67),
    ("EPROTO", 71),
    ("EOVERFLOW", 75),
    ("EILSEQ", 84),
    ("EOPNOTSUPP", 95),
    ("ENOTSUP", 95),
    ("ESTALE", 116),
    ("EDQUOT", 122),
    ("ENOMEDIUM", 123),
    ("ECANCELED", 125),
    ("EOWNERDEAD", 130),
    ("ERESTARTSYS", 512),
    ("ERESTARTNOINTR", 513),
    ("ERESTARTNOHAND", 514),
    ("ENOIOCTLCMD", 515),
    ("ERESTART_RESTARTBLOCK", 516),
];

fn errno_number(name: &str) -> i64 {
    ERRNOS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, v)| v)
        .unwrap_or_else(|| panic!("strace printed an errno the harness does not know: {name}"))
}

/// The opens in an `strace -f -xx -o FILE` log (every path byte as `\xNN`), of the system
/// calls open, openat, openat2 and creat, with `<unfinished ...>` / `<... resumed>` joined.
/// A line of those calls that cannot be read fails the test: nothing is skipped silently.
pub fn strace_opens(log: &str) -> Opens {
    strace_opens_and_resolved(log).0
}

/// [`strace_opens`], and the files of the successful ones as `strace -y` prints them
/// (`= FD<\xNN...>`): a multiset of (resolved path, fd).
pub fn strace_opens_and_resolved(log: &str) -> (Opens, Opens) {
    let mut resolved = Opens::new();
    let mut pending: std::collections::HashMap<u32, String> = Default::default();
    let mut opens = Opens::new();
    for line in log.lines() {
        let Some((tid, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(tid) = tid.parse::<u32>() else {
            continue;
        };
        let rest = rest.trim_start();
        let whole = if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            pending.insert(tid, head.to_owned());
            continue;
        } else if let Some(tail) = rest.strip_prefix("<... ") {
            let Some((_, tail)) = tail.split_once(" resumed>") else {
                continue;
            };
            match pending.remove(&tid) {
                Some(head) => head + tail,
                None => continue,
            }
        } else {
            rest.to_owned()
        };
        let Some((name, args)) = whole.split_once('(') else {
            continue;
        };
        if !["open", "openat", "openat2", "creat"].contains(&name) {
            continue;
        }
        let bad = || panic!("strace line not understood: {line}");
        let Some(q) = args.find('"') else { bad() };
        let body = &args[q + 1..];
        let Some(end) = body.find('"') else { bad() };
        let mut path = Vec::new();
        for hex in body[..end].split("\\x").skip(1) {
            path.push(u8::from_str_radix(hex, 16).unwrap_or_else(|_| bad()));
        }
        let cut = body[end + 1..].starts_with("...");
        // `) = RESULT`, with spaces before `=` after a `<... resumed>`.
        let Some((_, result)) = body[end..].rsplit_once(" = ") else {
            bad()
        };
        let mut words = result.split(' ');
        let ret = match (words.next(), words.next()) {
            (Some("?"), None) => NO_RESULT,
            (Some("?"), Some(e)) | (Some("-1"), Some(e)) => -errno_number(e),
            (Some(n), _) => {
                // `-y`: `FD<\xNN...>`, the file opened.
                let (n, file) = n.split_once('<').unwrap_or((n, ""));
                let fd = n.parse().unwrap_or_else(|_| bad());
                if let Some(file) = file.strip_suffix('>') {
                    let mut r = Vec::new();
                    for hex in file.split("\\x").skip(1) {
                        r.push(u8::from_str_radix(hex, 16).unwrap_or_else(|_| bad()));
                    }
                    *resolved
                        .entry(Seen::new(&r, false, fd, tid, tid))
                        .or_default() += 1;
                }
                fd
            }
            _ => bad(),
        };
        // strace -f prints the thread id only: `/proc/TID/` is normalised (the programs that
        // read their own /proc entry by number, as setpriv, are single-threaded).
        *opens
            .entry(Seen::new(&path, cut, ret, tid, tid))
            .or_default() += 1;
    }
    assert!(
        pending.is_empty(),
        "strace calls never resumed: {pending:?}"
    );
    (opens, resolved)
}

/// The successful opens of a raw trace with their `resolved:` file: a multiset of (resolved
/// path, fd); one without a resolved path counts as the path `<none>`.
pub fn raw_resolved(raw: &[u8]) -> Opens {
    let mut entries: std::collections::HashMap<u32, u32> = Default::default();
    let mut out = Opens::new();
    for l in raw.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        match parse_line(l) {
            Ok(Line::Entry(e)) => {
                entries.insert(e.task.thread_key(), e.task.pid);
            }
            Ok(Line::Return(r)) if r.ret >= 0 => {
                let tid = r.task.thread_key();
                let pid = entries.remove(&tid).unwrap_or(r.task.pid);
                let path = r
                    .detail
                    .resolved
                    .map_or_else(|| b"<none>".to_vec(), |t| t.to_bytes().into_owned());
                *out.entry(Seen::new(&path, false, r.ret, pid, tid))
                    .or_default() += 1;
            }
            _ => {}
        }
    }
    out
}

/// Decodes standard base64 (with padding), as trace-merge's JSON carries non-UTF-8 bytes.
pub fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {s:?}"),
        }
    };
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let data: Vec<u8> = chunk.iter().copied().filter(|&c| c != b'=').collect();
        let n = data.iter().fold(0u32, |acc, &c| acc << 6 | val(c)) << (6 * (4 - data.len()));
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..data.len()]);
    }
    out
}

/// One record of `trace-merge --format json`, with the exact bytes of its path and comm.
#[derive(Debug, Clone)]
pub struct JsonOpen {
    pub uid: u32,
    pub pid: u32,
    pub tid: u32,
    pub comm: Vec<u8>,
    pub path: Vec<u8>,
    pub truncated: bool,
    /// None: the open never returned.
    pub ret: Option<i64>,
}

/// The exact bytes of `key` (or of `key_b64` when set) of a trace-merge JSON object.
fn json_bytes(o: &serde_json::Value, key: &str) -> Vec<u8> {
    match o[format!("{key}_b64")].as_str() {
        Some(b) => base64_decode(b),
        None => o[key].as_str().unwrap_or_default().as_bytes().to_vec(),
    }
}

/// Reads `trace-merge --format json` output.
pub fn json_opens(out: &[u8]) -> Vec<JsonOpen> {
    let text = std::str::from_utf8(out).expect("trace-merge's JSON is UTF-8");
    text.lines()
        .map(|l| {
            let o: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            let pid = o["pid"].as_u64().unwrap() as u32;
            JsonOpen {
                uid: o["uid"].as_u64().unwrap() as u32,
                pid,
                tid: o["tid"].as_u64().map_or(pid, |t| t as u32),
                comm: json_bytes(&o, "comm"),
                path: json_bytes(&o, "path"),
                truncated: o["path_truncated"].as_bool().unwrap(),
                ret: o["ret"].as_i64(),
            }
        })
        .collect()
}

/// A path for messages: printable ASCII as is, every other byte as `\xNN`, `\` as `\\`.
pub fn escaped(path: &[u8]) -> String {
    let mut s = String::new();
    for &b in path {
        match b {
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

/// The differences between strace's opens and trace-gen's, one line each with its path
/// (escaped); empty when the multisets are equal.
pub fn differences(strace: &Opens, traced: &Opens) -> Vec<String> {
    let mut out = Vec::new();
    let keys: std::collections::BTreeSet<&Seen> = strace.keys().chain(traced.keys()).collect();
    for k in keys {
        let (s, t) = (
            strace.get(k).copied().unwrap_or(0),
            traced.get(k).copied().unwrap_or(0),
        );
        if s != t {
            out.push(format!(
                "{} = {}: strace {s}, trace-gen {t}{}",
                escaped(&k.path),
                k.ret,
                if k.cut { " (first 4095 bytes)" } else { "" }
            ));
        }
    }
    out
}

/// trace-gen running live, its stdout lines read on a thread.
pub struct Live {
    pub child: Child,
    pub lines: std::sync::mpsc::Receiver<Vec<u8>>,
    pub seen: Vec<u8>,
    stderr: std::thread::JoinHandle<Vec<u8>>,
    limit: Duration,
}

impl Live {
    /// Starts `trace_gen` (a trace-gen command with its arguments). With a gate, its stdout
    /// is read only once the gate opens (its sender sends or is dropped): until then
    /// trace-gen, and the tracer behind it, are blocked on full pipes. `limit` bounds every
    /// wait.
    pub fn spawn(
        mut trace_gen: Command,
        gate: Option<std::sync::mpsc::Receiver<()>>,
        limit: Duration,
    ) -> Live {
        let mut child = trace_gen
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let stderr = read_in_thread(child.stderr.take().unwrap());
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            if let Some(gate) = gate {
                let _ = gate.recv();
            }
            for line in std::io::BufReader::new(out).split(b'\n') {
                let Ok(mut line) = line else { break };
                line.push(b'\n');
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Live {
            child,
            lines,
            seen: Vec::new(),
            stderr,
            limit,
        }
    }

    /// Reads lines until the trace so far satisfies `done`.
    pub fn wait_for(&mut self, what: &str, done: impl Fn(&Trace) -> bool) {
        let start = Instant::now();
        while !done(&Trace::parse(&self.seen)) {
            let left = self.limit.checked_sub(start.elapsed()).unwrap_or_default();
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.extend_from_slice(&l),
                Err(_) => {
                    let _ = Command::new("kill")
                        .args(["-INT", &self.child.id().to_string()])
                        .status();
                    panic!(
                        "never saw {what}; trace so far:\n{}",
                        String::from_utf8_lossy(&self.seen)
                    );
                }
            }
        }
    }

    /// Takes the lines that have arrived so far, without waiting.
    pub fn take_arrived(&mut self) {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.extend_from_slice(&l);
        }
    }

    /// SIGINT to trace-gen; its status and the whole trace.
    pub fn interrupt(self) -> (ExitStatus, Trace, String) {
        let st = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        self.finish()
    }

    /// Waits for trace-gen to end (after a signal sent by the caller); its status and the
    /// whole trace.
    pub fn finish(mut self) -> (ExitStatus, Trace, String) {
        let status = wait_with_limit(&mut self.child, self.limit);
        while let Ok(l) = self.lines.recv() {
            self.seen.extend_from_slice(&l);
        }
        let err = String::from_utf8_lossy(&self.stderr.join().unwrap()).into_owned();
        (status, Trace::parse(&self.seen), err)
    }
}

/// A child process killed (and reaped) when the test is done with it, passed or not.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One record of tests/data/gen/every_open.c: an open as the program itself saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroundTruth {
    /// A unique name of the case ("cwd-create", "uring", "handle", ...).
    pub case: String,
    pub pid: u32,
    pub tid: u32,
    /// "syscall", "io_uring" or "handle": trace-format's `via:`.
    pub how: String,
    /// The system call or io_uring opcode.
    pub call: String,
    /// The name as passed (None: a handle, or an unreadable pointer).
    pub path: Option<Vec<u8>>,
    /// The unreadable pointer, as "0x1".
    pub fault: Option<String>,
    /// The fd, or -errno.
    pub ret: i64,
    /// readlink(/proc/self/fd/FD) of a success; the directory's realpath joined with the
    /// name of a failure; None without a name.
    pub resolved: Option<Vec<u8>>,
    /// Linux open flags as passed (creat: O_CREAT|O_WRONLY|O_TRUNC).
    pub flags: u64,
    /// The mode as passed (a tracer shows it only with O_CREAT or O_TMPFILE).
    pub mode: u64,
    /// openat2's how.resolve, else 0.
    pub resolve: u64,
}

/// Reads every_open's stdout: one JSON object per line, strings as bytes (one character
/// U+0000..U+00FF per byte).
pub fn ground_truth(out: &[u8]) -> Vec<GroundTruth> {
    let text = std::str::from_utf8(out).expect("every_open prints ASCII");
    let bytes = |v: &serde_json::Value| -> Option<Vec<u8>> {
        v.as_str().map(|s| {
            s.chars()
                .map(|c| u8::try_from(u32::from(c)).expect("one byte per character"))
                .collect()
        })
    };
    text.lines()
        .map(|l| {
            let o: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            let num = |k: &str| o[k].as_u64().unwrap_or_else(|| panic!("no {k}: {l}"));
            GroundTruth {
                case: o["case"].as_str().unwrap().to_owned(),
                pid: num("pid") as u32,
                tid: num("tid") as u32,
                how: o["how"].as_str().unwrap().to_owned(),
                call: o["call"].as_str().unwrap().to_owned(),
                path: bytes(&o["path"]),
                fault: o["fault"].as_str().map(str::to_owned),
                ret: o["ret"].as_i64().unwrap(),
                resolved: bytes(&o["resolved"]),
                flags: num("flags"),
                mode: num("mode"),
                resolve: num("resolve"),
            }
        })
        .collect()
}

/// The opens of `tests/data/gen/last_open.c PREFIX N` (all of missing files) that `t` holds:
/// every one, once, in order, each failing with ENOENT; panics with what is missing.
pub fn assert_every_last_open(t: &Trace, prefix: &str, n: usize, err: &str) {
    let ours: Vec<&Open> = t
        .opens
        .iter()
        .filter(|o| o.path.starts_with(format!("{prefix}-").as_bytes()))
        .collect();
    let want: Vec<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
    let got: Vec<String> = ours
        .iter()
        .map(|o| String::from_utf8_lossy(&o.path).into_owned())
        .collect();
    if got != want {
        let traced: std::collections::HashSet<&String> = got.iter().collect();
        let missing: Vec<&String> = want.iter().filter(|w| !traced.contains(w)).collect();
        panic!(
            "{} of {n} opens traced; missing (first 5 of {}): {:?}\nstderr: {err}",
            got.len(),
            missing.len(),
            &missing[..missing.len().min(5)]
        );
    }
    assert!(ours.iter().all(|o| o.ret == -2), "{ours:?}");
}

/// One open of a raw trace with its version-2 details (entry and return paired per thread):
/// what the ground-truth tests (every_open.c) match their records against.
#[derive(Debug, Clone)]
pub struct Detailed {
    pub pid: u32,
    pub tid: u32,
    pub path: Vec<u8>,
    pub ret: i64,
    pub flags: Option<u64>,
    pub mode: Option<u32>,
    pub resolve: Option<u64>,
    pub via: Option<trace_format::Via>,
    pub fault: Option<u64>,
    pub resolved: Option<Vec<u8>>,
    pub killed: Option<u32>,
}

/// The opens of trace-gen's raw output, entry and return paired per thread (a return
/// without an entry is left out: `Trace::unpaired_returns` counts it).
pub fn detailed(raw: &[u8]) -> Vec<Detailed> {
    use trace_format::{parse_line, Line};
    let mut pending: std::collections::HashMap<u32, Detailed> = Default::default();
    let mut out = Vec::new();
    for l in raw.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        match parse_line(l) {
            Ok(Line::Entry(e)) => {
                pending.insert(
                    e.task.thread_key(),
                    Detailed {
                        pid: e.task.pid,
                        tid: e.task.thread_key(),
                        path: e.path.to_bytes().into_owned(),
                        ret: 0,
                        flags: e.detail.flags,
                        mode: e.detail.mode,
                        resolve: e.detail.resolve,
                        via: e.detail.via,
                        fault: e.detail.fault,
                        resolved: None,
                        killed: None,
                    },
                );
            }
            Ok(Line::Return(r)) => {
                if let Some(mut d) = pending.remove(&r.task.thread_key()) {
                    d.ret = r.ret;
                    d.resolved = r.detail.resolved.map(|t| t.to_bytes().into_owned());
                    d.killed = r.detail.killed;
                    out.push(d);
                }
            }
            _ => {}
        }
    }
    out
}
