//! The differential harness: strace -f is the ground truth for which opens happened and what
//! they returned. Each test runs one command under
//! `strace -f -xx -s 65536 -e trace=open,openat,openat2,creat` and under
//! `trace-gen -B -c CMD | trace-merge --format json --unfinished`, and compares the multisets
//! of (path bytes, file descriptor or -errno); every difference is reported with its path
//! (escaped). File descriptors are compared exactly: the commands are deterministic, so each
//! process gets the same numbers in both runs.
//!
//! What the comparison normalises, and why (see [`Seen`]):
//! - a path of 4096 bytes or more is compared on its first 4095 bytes, with a mark: strace
//!   prints no more of it (then `...`);
//! - strace's `= ? ERESTARTSYS (To be restarted ...)` is -512 (and -513, -514, -516 for the
//!   other restart codes), the value the kernel returned and trace-gen records;
//! - a process that opens its own `/proc/PID/...` entry by number (setpriv reads its status
//!   so) opens a different path in each run: `/proc/<its own pid>/` is compared as
//!   `/proc/<self>/` ([`normalise`]). Nothing is dropped from either side.
//!
//! The corpora are the C programs of tests/data/gen, built here with `cc` (the 32-bit one with
//! `gcc -m32 -static`, from gcc-multilib). Needs root, bpftrace and strace: FAILS in CI when
//! one is missing, skips with a notice elsewhere.

use crate::common::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use trace_format::{parse_line, Line};

const LIMIT: Duration = Duration::from_secs(180);

/// The strace command line of the ground truth, writing its log to `log`.
fn strace(log: &Path) -> Command {
    let mut c = Command::new("strace");
    // Cargo's library path would make every dynamic loader probe a dozen more directories.
    c.env_remove("LD_LIBRARY_PATH");
    c.args(["-f", "-qq", "-y", "-xx", "-s", "65536"])
        .args(["-e", "trace=open,openat,openat2,creat", "-o"])
        .arg(log);
    c
}

/// Whether `trace-gen -c CMD` runs CMD itself (no shell syntax) rather than `sh -c CMD`, as
/// its `--print-script` says: the ground truth must run the same processes.
fn trace_gen_runs_directly(cmd: &str) -> bool {
    let out = Command::new(bin("trace-gen"))
        .args(["-B", "--print-script", "-c", cmd])
        .output()
        .expect("trace-gen --print-script runs");
    // The script on stdout, the command line and how the command runs on stderr.
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "trace-gen --print-script -c {cmd}: {text}"
    );
    text.contains("(run directly: no shell syntax)")
}

/// CMD under strace -f -y, in `cwd`, run as trace-gen runs it (its words, or `sh -c CMD`):
/// its opens, and the files of the successful ones (`-y`).
fn under_strace(cmd: &str, cwd: &Path, log: &Path) -> (Opens, Opens) {
    let mut c = strace(log);
    if trace_gen_runs_directly(cmd) {
        c.args(cmd.split([' ', '\t']).filter(|w| !w.is_empty()));
    } else {
        c.args(["sh", "-c", cmd]);
    }
    c.current_dir(cwd);
    let (status, _, err) = run_with_limit(c, LIMIT);
    assert!(
        status.code().is_some(),
        "strace was killed ({status}): {err}"
    );
    strace_opens_and_resolved(&String::from_utf8_lossy(&std::fs::read(log).unwrap()))
}

/// What trace-gen wrote, and what trace-merge made of it.
struct Traced {
    status: ExitStatus,
    /// trace-gen's stdout, byte for byte.
    raw: Vec<u8>,
    stderr: String,
    /// `trace-merge --format json --unfinished` of `raw`.
    json: Vec<JsonOpen>,
}

impl Traced {
    /// Reads `raw` back through trace-merge (from a file, as `trace-merge saved.trace`).
    fn new(status: ExitStatus, raw: Vec<u8>, stderr: String, scratch: &Path) -> Traced {
        let file = scratch.join("trace-gen.trace");
        std::fs::write(&file, &raw).unwrap();
        let mut c = Command::new(bin("trace-merge"));
        c.args(["--format", "json", "--unfinished"]).arg(&file);
        let (st, out, err) = run_with_limit(c, LIMIT);
        assert!(st.success(), "trace-merge failed: {err}");
        Traced {
            status,
            raw,
            stderr,
            json: json_opens(&out),
        }
    }

    fn opens(&self) -> Opens {
        let mut opens = Opens::new();
        for o in &self.json {
            let seen = Seen::new(
                &o.path,
                o.truncated,
                o.ret.unwrap_or(NO_RESULT),
                o.pid,
                o.tid,
            );
            *opens.entry(seen).or_default() += 1;
        }
        opens
    }

    /// The trace-merge records of `path`.
    fn of_path(&self, path: &[u8]) -> Vec<&JsonOpen> {
        self.json.iter().filter(|o| o.path == path).collect()
    }
}

/// `trace-gen -B FLAGS -c CMD` in `cwd`.
fn under_trace_gen(cmd: &str, flags: &[&str], cwd: &Path, scratch: &Path) -> Traced {
    let mut c = Command::new(bin("trace-gen"));
    c.env_remove("BPFTRACE_PATH")
        .env_remove("LD_LIBRARY_PATH")
        .arg("-B")
        .args(flags)
        .args(["-c", cmd])
        .current_dir(cwd);
    let (status, raw, err) = run_with_limit(c, LIMIT);
    Traced::new(status, raw, err, scratch)
}

/// A scenario's directories: `work` (the command's files, reset before each run) and `logs`.
struct Dirs {
    _scratch: Scratch,
    work: PathBuf,
    logs: PathBuf,
}

impl Dirs {
    fn new(tag: &str) -> Dirs {
        let scratch = Scratch::new(&format!("diff-{tag}"));
        let (work, logs) = (scratch.0.join("work"), scratch.0.join("logs"));
        std::fs::create_dir_all(&work).unwrap();
        std::fs::create_dir_all(&logs).unwrap();
        Dirs {
            _scratch: scratch,
            work,
            logs,
        }
    }

    /// Empties `work`, so that both runs start from the same files.
    fn reset(&self) {
        std::fs::remove_dir_all(&self.work).unwrap();
        std::fs::create_dir_all(&self.work).unwrap();
    }

    fn work(&self) -> String {
        self.work.to_str().unwrap().to_owned()
    }
}

/// Runs `cmd` under both (each after `setup`), and returns the differences and trace-gen's
/// run.
fn compare(
    dirs: &Dirs,
    cmd: &str,
    flags: &[&str],
    setup: impl Fn(),
) -> (Vec<String>, Opens, Traced) {
    setup();
    let (truth, files) = under_strace(cmd, &dirs.work, &dirs.logs.join("strace.log"));
    setup();
    let traced = under_trace_gen(cmd, flags, &dirs.work, &dirs.logs);
    let mut diffs = differences(&truth, &traced.opens());
    // strace -y: the file each successful open resolved to, against trace-gen's `resolved:`.
    diffs.extend(
        differences(&files, &raw_resolved(&traced.raw))
            .into_iter()
            .map(|d| format!("resolved {d}")),
    );
    (diffs, truth, traced)
}

/// Asserts 0 differences, with every difference, trace-gen's status and stderr in the
/// message.
fn assert_same(what: &str, diffs: &[String], truth: &Opens, traced: &Traced) {
    assert!(
        diffs.is_empty(),
        "{what}: {} differences (strace {} opens, trace-gen {}; trace-gen {}):\n  {}\ntrace-gen's stderr:\n{}",
        diffs.len(),
        truth.values().sum::<usize>(),
        traced.json.len(),
        traced.status,
        diffs.join("\n  "),
        traced.stderr
    );
    assert!(traced.status.code().is_some(), "{what}: {}", traced.status);
}

/// Every line of a trace is canonical: it is exactly what trace-format's writer produces for
/// the fields it parses to. Returns the lines that are not.
fn non_canonical_lines(raw: &[u8]) -> Vec<String> {
    let mut bad = Vec::new();
    for line in raw.split_inclusive(|&b| b == b'\n') {
        let mut again = Vec::new();
        match parse_line(line) {
            Ok(Line::Entry(e)) => {
                let comm = e.task.comm.map(|c| c.to_bytes().into_owned());
                let cgroup = e.detail.cgroup.map(|c| c.to_bytes().into_owned());
                trace_format::write_entry_line(
                    &mut again,
                    &trace_format::EntryLine {
                        uid: e.task.uid,
                        pid: e.task.pid,
                        tid: e.task.tid,
                        comm: comm.as_deref(),
                        path: &e.path.to_bytes(),
                        path_truncated: e.path.is_truncated(),
                        ts: e.ts,
                        flags: e.detail.flags,
                        resolve: e.detail.resolve,
                        mode: e.detail.mode,
                        via: e.detail.via,
                        fault: e.detail.fault,
                        cgroup: cgroup.as_deref(),
                    },
                );
            }
            Ok(Line::Return(r)) => {
                let comm = r.task.comm.map(|c| c.to_bytes().into_owned());
                let resolved = r
                    .detail
                    .resolved
                    .map(|t| (t.to_bytes().into_owned(), t.is_truncated()));
                trace_format::write_return_line(
                    &mut again,
                    &trace_format::ReturnLine {
                        uid: r.task.uid,
                        pid: r.task.pid,
                        tid: r.task.tid,
                        comm: comm.as_deref(),
                        ret: r.ret,
                        ts: r.ts,
                        resolved: resolved.as_ref().map(|(b, _)| b.as_slice()),
                        resolved_truncated: resolved.as_ref().is_some_and(|(_, t)| *t),
                        killed: r.detail.killed,
                    },
                );
            }
            Ok(Line::Header(h)) => trace_format::write_header(&mut again, &h),
            Ok(Line::Comment(c)) => trace_format::write_comment(&mut again, &c[1.min(c.len())..]),
            Ok(Line::Blank) => again.push(b'\n'),
            Err(e) => {
                bad.push(format!("{e}: {}", escaped(line)));
                continue;
            }
        }
        if again != line {
            bad.push(format!(
                "{}\n    writer: {}",
                escaped(line),
                escaped(&again)
            ));
        }
    }
    bad
}

// ---------------------------------------------------------------------------------------
// The hostile-name corpus

/// One step of the hostile program: set the process name, or open a path.
#[derive(Debug, Clone)]
enum Step {
    Comm(Vec<u8>),
    /// A path, and whether the test creates it first (an FD), or not (an error).
    Open(Vec<u8>, bool),
}

/// `%XX`-encodes every byte but `[A-Za-z0-9/._-]`, as hostile.c decodes it.
fn percent(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'_' | b'-' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A path of exactly `len` bytes under `dir`, made of 200-byte directory names.
fn deep_path(dir: &str, len: usize) -> Vec<u8> {
    let mut p = dir.as_bytes().to_vec();
    while len - p.len() > 201 {
        p.push(b'/');
        p.extend_from_slice(&[b'd'; 200]);
    }
    p.push(b'/');
    p.resize(len, b'f');
    p
}

/// The corpus: names shaped to forge or hide events, lost counts and headers, every kind of
/// control and quoting byte, long names and paths, and process names with spaces, ` open: `,
/// ` ret: `, control and non-UTF-8 bytes. `dir` is the working directory (relative names are
/// opened there).
fn hostile_corpus(dir: &str) -> Vec<Step> {
    let abs = |name: &[u8]| {
        let mut p = dir.as_bytes().to_vec();
        p.push(b'/');
        p.extend_from_slice(name);
        p
    };
    let forged_event = b"a 5\n<= uid: 0 pid: 9 ret: 3 6\n=> uid: 0 pid: 1 comm: systemd open: /etc/shadow 7\n<= uid: 0 pid: 1 ret: 3 8\n=> uid: 65534 pid: 2 open: x";
    let mut steps = vec![
        Step::Comm(b"a open: y".to_vec()),
        Step::Open(abs(forged_event), false),
        Step::Open(abs(b"hidden\n<= uid: 0 pid: 1 ret: 3 9"), true),
        Step::Comm(b"x ret: 3 4".to_vec()),
        Step::Open(abs(b"x\nLost 999999 events\n"), false),
        Step::Open(abs(b"x\n# lost: 5\n"), false),
        Step::Open(
            abs(b"x\n{\"type\": \"lost_events\", \"data\": {\"events\": 7}}\n"),
            false,
        ),
        Step::Open(
            abs(
                b"x\"}\n{\"type\": \"printf\", \"data\": \"O 1 1 0 3 1 2 0 0 0 1 /etc/shadow\\n\"}",
            ),
            false,
        ),
        Step::Comm(b"sp ace\nnl".to_vec()),
        Step::Open(b"\"/etc/shadow\"".to_vec(), false),
        Step::Open(b"\"\\x41\\x42\"".to_vec(), true),
        Step::Open(abs(b"\\x41 text \\u0041 \\uffffff41"), true),
        Step::Open(abs(b"back\\slash\\"), true),
        Step::Comm(b"\x1b[31m\xff\"\\".to_vec()),
        Step::Open(abs(b"esc\x1b[31mred"), true),
        Step::Open(abs(b"cr\rtab\tbs\x08del\x7f"), true),
        Step::Open(abs("bidi\u{202e}live.txt".as_bytes()), true),
        Step::Open(abs(b"invalid\xff\xfe\xc3("), true),
        Step::Open(abs(b"quote\"in\"side"), true),
        Step::Comm(b"fifteen-bytes-x".to_vec()),
        Step::Open(b" leading space".to_vec(), true),
        Step::Open(b"trailing space ".to_vec(), true),
        Step::Open(abs(b"ends in 42"), true),
        Step::Open(abs(b"ends in 43"), false),
        Step::Open(abs(b"new\nline"), true),
        Step::Open(abs(&[b'n'; 255]), true),
        Step::Open(abs(&[b'n'; 256]), false),
        Step::Open(deep_path(dir, 1000), true),
        Step::Open(deep_path(dir, 4095), true),
        Step::Open(deep_path(dir, 4096), false),
        Step::Open(deep_path(dir, 4300), false),
    ];
    // Every byte but NUL and `/` in one name.
    let all: Vec<u8> = (1..=255u8).filter(|&b| b != b'/').collect();
    steps.push(Step::Open(abs(&all[..]), true));
    steps
}

/// Creates the corpus files that exist (and the directories of the deep paths), readable by
/// everyone.
fn create_corpus(dir: &Path, steps: &[Step]) {
    use std::os::unix::ffi::OsStrExt;
    for s in steps {
        if let Step::Open(p, true) = s {
            let p = dir.join(std::ffi::OsStr::from_bytes(p));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "x").unwrap();
        }
    }
}

/// The path of each open of `steps` (relative ones as given), with the process name it was
/// made under.
fn expected_opens(steps: &[Step]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut comm = b"hostile".to_vec();
    let mut out = Vec::new();
    for s in steps {
        match s {
            Step::Comm(c) => comm = c.clone(),
            Step::Open(p, _) => out.push((p.clone(), comm.clone())),
        }
    }
    out
}

#[test]
fn hostile_names_as_an_unprivileged_user_match_strace() {
    let test = "hostile_names_as_an_unprivileged_user_match_strace";
    if !strace_ready(test) {
        return;
    }
    let _lock = tracer_lock();
    let dirs = Dirs::new("hostile");
    let hostile = build_c(&dirs.logs, "hostile", "cc", &[]);
    let steps = hostile_corpus(&dirs.work());
    create_corpus(&dirs.work, &steps);
    let args: Vec<String> = steps
        .iter()
        .map(|s| match s {
            Step::Comm(c) => format!("--comm={}", percent(c)),
            Step::Open(p, _) => percent(p),
        })
        .collect();
    let cmd = format!(
        "exec setpriv --reuid=65534 --regid=65534 --clear-groups {} {}",
        hostile.display(),
        args.join(" ")
    );
    let (diffs, truth, traced) = compare(&dirs, &cmd, &[], || {});
    // How tests/data/hostile/names-from-trace-gen.trace (trace-merge's fixture) was made.
    if let Some(file) = std::env::var_os("TRACE_TOOLS_SAVE_HOSTILE_TRACE") {
        std::fs::write(file, &traced.raw).unwrap();
    }
    assert_same(test, &diffs, &truth, &traced);
    assert_eq!(traced.status.code(), Some(0), "{}", traced.stderr);

    // trace-gen's own output: canonical, nothing lost, nothing malformed.
    let bad = non_canonical_lines(&traced.raw);
    assert!(bad.is_empty(), "not canonical:\n{}", bad.join("\n"));
    let t = Trace::parse(&traced.raw);
    assert_eq!(t.lost, 0, "a forged lost count: {}", traced.stderr);
    assert!(t.bad_lines.is_empty(), "{:?}", t.bad_lines);
    assert!(!traced.stderr.contains("lost"), "{}", traced.stderr);

    // Nothing forged: no open of /etc/shadow or of `x`, none by pid 1 or 9, none of root's
    // but the shell's before setpriv.
    for o in &traced.json {
        assert!(
            o.path != b"/etc/shadow" && o.path != b"x" && ![1, 2, 9].contains(&o.pid),
            "forged: {o:?}"
        );
        assert!(
            o.uid == 65534 || [&b"sh"[..], b"setpriv"].contains(&o.comm.as_slice()),
            "not the command's: {o:?}"
        );
    }
    // The real opens, each once, with its exact bytes and its exact process name.
    for (path, comm) in expected_opens(&steps) {
        let found: Vec<&JsonOpen> = traced
            .json
            .iter()
            .filter(|o| {
                if o.truncated {
                    path.starts_with(&o.path) && o.path.len() >= 4096
                } else {
                    o.path == path
                }
            })
            .collect();
        assert_eq!(found.len(), 1, "{}: {found:?}", escaped(&path));
        assert_eq!(
            (found[0].uid, escaped(&found[0].comm)),
            (65534, escaped(&comm)),
            "{}",
            escaped(&path)
        );
        assert_eq!(found[0].truncated, path.len() > 4200, "{}", escaped(&path));
    }
}

/// A path longer than trace-gen reads (4,300 bytes: the kernel refuses it, ENAMETOOLONG) is
/// marked truncated, in the raw line and in trace-merge's JSON, and holds the bytes read.
#[test]
fn a_path_cut_by_the_tracer_is_marked_truncated() {
    let test = "a_path_cut_by_the_tracer_is_marked_truncated";
    if !strace_ready(test) {
        return;
    }
    let _lock = tracer_lock();
    let dirs = Dirs::new("cut");
    let hostile = build_c(&dirs.logs, "hostile", "cc", &[]);
    let path = deep_path(&dirs.work(), 4300);
    let cmd = format!("{} {}", hostile.display(), percent(&path));
    let traced = under_trace_gen(&cmd, &[], &dirs.work, &dirs.logs);
    assert_eq!(traced.status.code(), Some(0), "{}", traced.stderr);
    let ours: Vec<&JsonOpen> = traced
        .json
        .iter()
        .filter(|o| o.path.len() > 1000 && path.starts_with(&o.path))
        .collect();
    assert_eq!(ours.len(), 1, "{:?}", traced.json);
    assert!(ours[0].truncated, "{:?}", ours[0]);
    assert_eq!(ours[0].ret, Some(-36));
    assert!(
        ours[0].path.len() >= 4096 && ours[0].path.len() < path.len(),
        "{} bytes",
        ours[0].path.len()
    );
    let raw_marks = raw_entries_of(&traced.raw, &ours[0].path);
    assert_eq!(raw_marks, [true], "the raw line's `...` mark");
}

/// A path of 4,095 bytes (the longest the kernel takes) comes out whole, and not marked.
#[test]
fn a_whole_path_of_4095_bytes_is_not_marked_truncated() {
    let test = "a_whole_path_of_4095_bytes_is_not_marked_truncated";
    if !strace_ready(test) {
        return;
    }
    let _lock = tracer_lock();
    let dirs = Dirs::new("whole");
    let hostile = build_c(&dirs.logs, "hostile", "cc", &[]);
    let path = deep_path(&dirs.work(), 4095);
    let cmd = format!("{} {}", hostile.display(), percent(&path));
    let traced = under_trace_gen(&cmd, &[], &dirs.work, &dirs.logs);
    assert_eq!(traced.status.code(), Some(0), "{}", traced.stderr);
    let ours = traced.of_path(&path);
    assert_eq!(ours.len(), 1, "{:?}", traced.json);
    assert!(!ours[0].truncated, "{:?}", ours[0]);
    assert_eq!(ours[0].ret, Some(-2));
    assert_eq!(raw_entries_of(&traced.raw, &path), [false]);
}

/// The truncation marks of the raw entry lines of `path`.
fn raw_entries_of(raw: &[u8], path: &[u8]) -> Vec<bool> {
    raw.split(|&b| b == b'\n')
        .filter_map(|l| match parse_line(l) {
            Ok(Line::Entry(e)) if *e.path.to_bytes() == *path => Some(e.path.is_truncated()),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The process-tree corpus

/// Builds `program`, runs `program DIR` under both, and asserts 0 differences.
fn tree_scenario(test: &str, program: &str, compiler: &str, flags: &[&str]) {
    if !strace_ready(test) {
        return;
    }
    let _lock = tracer_lock();
    let dirs = Dirs::new(program);
    let exe = build_c(&dirs.logs, program, compiler, flags);
    let cmd = format!("{} {}", exe.display(), dirs.work());
    let (diffs, truth, traced) = compare(&dirs, &cmd, &[], || dirs.reset());
    assert_same(test, &diffs, &truth, &traced);
}

#[test]
fn threads_match_strace() {
    tree_scenario("threads_match_strace", "threads", "cc", &[]);
}

#[test]
fn main_thread_exit_matches_strace() {
    tree_scenario("main_thread_exit_matches_strace", "mainexit", "cc", &[]);
}

#[test]
fn exec_from_a_non_main_thread_matches_strace() {
    tree_scenario(
        "exec_from_a_non_main_thread_matches_strace",
        "threxec",
        "cc",
        &[],
    );
}

#[test]
fn vfork_by_posix_spawn_matches_strace() {
    tree_scenario("vfork_by_posix_spawn_matches_strace", "spawn", "cc", &[]);
}

#[test]
fn clone_without_clone_thread_matches_strace() {
    tree_scenario(
        "clone_without_clone_thread_matches_strace",
        "rawclone",
        "cc",
        &[],
    );
}

#[test]
fn ia32_opens_of_a_static_i386_program_match_strace() {
    tree_scenario(
        "ia32_opens_of_a_static_i386_program_match_strace",
        "compat32",
        "gcc",
        &["-m32", "-static"],
    );
}

/// Opens a signal interrupted: strace's `= ? ERESTARTSYS (To be restarted ...)` and
/// trace-gen's -512 are the same result, and there are two of them before the open that
/// succeeds.
#[test]
fn restarted_opens_of_a_fifo_match_strace() {
    let test = "restarted_opens_of_a_fifo_match_strace";
    if !strace_ready(test) {
        return;
    }
    let _lock = tracer_lock();
    let dirs = Dirs::new("fifo");
    let exe = build_c(&dirs.logs, "fifo", "cc", &[]);
    let cmd = format!("{} {}", exe.display(), dirs.work());
    let (diffs, truth, traced) = compare(&dirs, &cmd, &[], || dirs.reset());
    assert_same(test, &diffs, &truth, &traced);
    let fifo = format!("{}/f", dirs.work());
    let mut rets: Vec<i64> = traced
        .of_path(fifo.as_bytes())
        .iter()
        .filter_map(|o| o.ret)
        .collect();
    rets.sort_unstable();
    assert_eq!(
        rets,
        [-512, -512, 3, 3],
        "the reader's two restarts, then both ends"
    );
}

#[test]
fn background_children_that_outlive_the_shell_match_strace() {
    let test = "background_children_that_outlive_the_shell_match_strace";
    if !strace_ready(test) {
        return;
    }
    let _lock = tracer_lock();
    let dirs = Dirs::new("background");
    let cmd = "(sleep 0.5; cat /etc/hostname >/dev/null) & echo started";
    let (diffs, truth, traced) = compare(&dirs, cmd, &[], || {});
    assert_same(test, &diffs, &truth, &traced);
}

#[test]
fn a_double_forking_daemon_is_followed_to_its_end() {
    let test = "a_double_forking_daemon_is_followed_to_its_end";
    if !strace_ready(test) {
        return;
    }
    let _lock = tracer_lock();
    let dirs = Dirs::new("daemon");
    let exe = build_c(&dirs.logs, "daemon", "cc", &[]);
    let cmd = format!("{} {}", exe.display(), dirs.work());
    let (diffs, truth, traced) = compare(&dirs, &cmd, &[], || dirs.reset());
    assert_same(test, &diffs, &truth, &traced);
}

/// With `--stop-at-exit`, tracing ends with the command's own process: the daemon's
/// grandchild, which opens only after its parents have exited, is not traced. That, and
/// nothing else, is the difference.
#[test]
fn stop_at_exit_leaves_out_only_the_daemon_that_outlives_the_command() {
    let test = "stop_at_exit_leaves_out_only_the_daemon_that_outlives_the_command";
    if !strace_ready(test) {
        return;
    }
    let _lock = tracer_lock();
    let dirs = Dirs::new("daemon-stop");
    let exe = build_c(&dirs.logs, "daemon", "cc", &[]);
    let cmd = format!("{} {}", exe.display(), dirs.work());
    let (_, truth, traced) = compare(&dirs, &cmd, &["--stop-at-exit"], || dirs.reset());
    assert_eq!(traced.status.code(), Some(0), "{}", traced.stderr);
    let mut only_daemon = Opens::new();
    let hostname = Seen::new(b"/etc/hostname", false, 3, 0, 0);
    only_daemon.insert(hostname, 3);
    let missing = format!("{}/daemon-missing", dirs.work());
    only_daemon.insert(Seen::new(missing.as_bytes(), false, -2, 0, 0), 1);
    let mut expected = truth.clone();
    for (k, n) in &only_daemon {
        let left = expected.get_mut(k).map(|c| {
            *c -= n;
            *c
        });
        assert!(left.is_some(), "strace did not see {k:?}: {truth:?}");
        if left == Some(0) {
            expected.remove(k);
        }
    }
    let diffs = differences(&expected, &traced.opens());
    assert_same(
        "strace minus the daemon's opens vs trace-gen --stop-at-exit",
        &diffs,
        &expected,
        &traced,
    );
}

/// `-p` of a running tree that then forks: strace -f -p and trace-gen -p attach to the same
/// process, which forks a child and a grandchild once both have seen it open DIR/ping. The
/// pings are the handshake (their number depends on when each tracer attached) and are left
/// out of the comparison; the child the tree forked before (followed by neither) is not
/// compared either, since neither traces it (the tracers attach once the tree says it has forked
/// it).
#[test]
fn pid_of_a_running_tree_that_then_forks_matches_strace() {
    let test = "pid_of_a_running_tree_that_then_forks_matches_strace";
    if !strace_ready(test) {
        return;
    }
    let _lock = tracer_lock();
    let dirs = Dirs::new("ptree");
    let exe = build_c(&dirs.logs, "tree", "cc", &[]);
    let tree = Command::new(&exe)
        .arg(&dirs.work)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let tree = KillOnDrop(tree);
    let pid = tree.0.id().to_string();
    // Attached before that fork, strace -f would follow the old child (and trace-gen, attached
    // later, would not).
    let start = Instant::now();
    while !dirs.work.join("forked").exists() {
        assert!(
            start.elapsed() < LIMIT,
            "the tree did not fork its old child"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let log = dirs.logs.join("strace.log");
    let mut s = strace(&log);
    let strace_child = s.args(["-p", &pid]).stdin(Stdio::null()).spawn().unwrap();
    let mut strace_child = KillOnDrop(strace_child);
    let mut gen = Command::new(bin("trace-gen"))
        .env_remove("BPFTRACE_PATH")
        .env_remove("LD_LIBRARY_PATH")
        .args(["-B", "-p", &pid])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = read_in_thread(gen.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let stdout = gen.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(mut line) = line else { break };
            line.push(b'\n');
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut gen = KillOnDrop(gen);
    // Both attached: each has seen a ping.
    let ping = format!("{}/ping", dirs.work());
    let ping_hex: String = ping.bytes().map(|b| format!("\\x{b:02x}")).collect();
    let mut raw = Vec::new();
    let start = Instant::now();
    loop {
        // One wait, then what is already queued: the tree pings every 0.05 s, so waiting
        // for a quiet 0.1 s could last for ever and never reach the time limit below.
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
            raw.extend_from_slice(&l);
            while let Ok(l) = rx.try_recv() {
                raw.extend_from_slice(&l);
            }
        }
        let gen_saw = !Trace::parse(&raw).of_path(&ping).is_empty();
        let strace_saw = std::fs::read_to_string(&log).is_ok_and(|l| l.contains(&ping_hex));
        if gen_saw && strace_saw {
            break;
        }
        assert!(
            start.elapsed() < LIMIT,
            "no ping seen (trace-gen {gen_saw}, strace {strace_saw})"
        );
    }
    std::fs::write(dirs.work.join("go"), "").unwrap();
    let status = wait_with_limit(&mut gen.0, LIMIT);
    while let Ok(l) = rx.recv() {
        raw.extend_from_slice(&l);
    }
    let _ = wait_with_limit(&mut strace_child.0, LIMIT);
    let err = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    let traced = Traced::new(status, raw, err, &dirs.logs);
    let without_pings = |o: Opens| -> Opens {
        o.into_iter()
            .filter(|(k, _)| k.path != ping.as_bytes())
            .collect()
    };
    let truth = without_pings(strace_opens(&std::fs::read_to_string(&log).unwrap()));
    let diffs = differences(&truth, &without_pings(traced.opens()));
    assert_same(test, &diffs, &truth, &traced);
    // The tree's new child and grandchild were followed.
    for name in ["tree-new-child", "tree-grandchild", "tree-parent"] {
        let p = format!("{}/{name}", dirs.work());
        assert_eq!(traced.of_path(p.as_bytes()).len(), 1, "{p}");
    }
}
