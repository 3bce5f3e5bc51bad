//! End to end with a real DTrace: `trace-gen -D` runs Oracle's DTrace for Linux (installed by
//! `../shared/tools/install-dtrace.sh` at /opt/dtrace-oracle), and its trace is read back with
//! trace-format and through trace-merge. The tracer is DTRACE_PATH, else /usr/sbin/dtrace,
//! else /opt/dtrace-oracle/sbin/dtrace, the first that answers `dtrace -V`. Needs root: FAILS
//! in CI when it cannot run, skips with a notice elsewhere. One tracer at a time
//! ([`tracer_lock`]).
//!
//! Every traced program works in a fresh scratch directory, and reports or implies the result
//! of each of its opens, so the assertions are exact. DTrace takes about 2 s to attach and 1 to
//! 2.5 s to stop: each test runs it once or twice.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};
use trace_format::{parse_line, Line};

const LIMIT: Duration = Duration::from_secs(90);

/// The working dtrace, if any: DTRACE_PATH, /usr/sbin/dtrace, /opt/dtrace-oracle/sbin/dtrace.
/// When none works (or not root): panics in CI, prints a notice and returns `None` elsewhere.
pub fn dtrace_ready(test: &str) -> Option<PathBuf> {
    let works = |p: &Path| {
        Command::new(p)
            .arg("-V")
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"dtrace: "))
    };
    let candidates: Vec<PathBuf> = match std::env::var_os("DTRACE_PATH").filter(|p| !p.is_empty()) {
        Some(p) => vec![p.into()],
        None => vec![
            "/usr/sbin/dtrace".into(),
            "/opt/dtrace-oracle/sbin/dtrace".into(),
        ],
    };
    let found = candidates.into_iter().find(|p| works(p));
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    });
    match found {
        Some(p) if root => Some(p),
        found => {
            let why = if found.is_some() {
                "not root"
            } else {
                "no working dtrace (DTRACE_PATH, /usr/sbin/dtrace, /opt/dtrace-oracle/sbin/dtrace; \
                 install with ../shared/tools/install-dtrace.sh)"
            };
            assert!(!in_ci(), "{test}: {why}, and CI must run this test");
            eprintln!("notice: {test} skipped: {why}");
            None
        }
    }
}

fn trace_gen(dtrace: &Path) -> Command {
    let mut c = Command::new(bin("trace-gen"));
    // The loader of the traced commands reads /etc/ld.so.cache first (cargo test sets
    // LD_LIBRARY_PATH).
    c.env("DTRACE_PATH", dtrace)
        .env_remove("LD_LIBRARY_PATH")
        .arg("-D");
    c
}

/// Runs `trace-gen -D ARGS` to its end: status, trace, raw output, stderr.
fn traced(dtrace: &Path, args: &[&str]) -> (std::process::ExitStatus, Trace, Vec<u8>, String) {
    let mut c = trace_gen(dtrace);
    c.args(args);
    let (status, out, err) = run_with_limit(c, LIMIT);
    (status, Trace::parse(&out), out, err)
}

/// Builds tests/data/dtrace/NAME.c into `dir`.
fn build(dir: &Path, name: &str) -> PathBuf {
    build_with(dir, name, &[])
}

/// Builds tests/data/dtrace/NAME.c into `dir` with extra `cc` flags.
fn build_with(dir: &Path, name: &str, flags: &[&str]) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/dtrace/{name}.c"));
    let exe = dir.join(name);
    let out = Command::new("cc")
        .args(["-O2", "-pthread"])
        .args(flags)
        .arg("-o")
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

/// What every complete trace passes: the headers, every line parses, nothing lost, every
/// entry paired with its return, returns after entries.
fn assert_clean(t: &Trace, err: &str) {
    let version = trace_format::FORMAT_VERSION.to_string();
    assert_eq!(t.header("trace-format"), Some(version.as_str()), "{t:?}");
    assert!(
        t.header("backend").unwrap().starts_with("dtrace"),
        "{:?}",
        t.header("backend")
    );
    assert_eq!(t.header("clock"), Some("monotonic"));
    assert!(
        t.bad_lines.is_empty(),
        "unparsable lines: {:?}\nstderr: {err}",
        t.bad_lines
    );
    assert_eq!(t.lost, 0, "events lost; stderr: {err}");
    assert_eq!(
        (t.unpaired_entries, t.unpaired_returns),
        (0, 0),
        "stderr: {err}"
    );
    assert!(t.opens.iter().all(|o| o.return_ts >= o.entry_ts));
    assert!(!err.contains("undecodable"), "{err}");
}

#[test]
fn dtrace_cat_of_a_missing_file_is_error_2_after_the_loader_opens() {
    let Some(dtrace) =
        dtrace_ready("dtrace_cat_of_a_missing_file_is_error_2_after_the_loader_opens")
    else {
        return;
    };
    let _lock = tracer_lock();
    let s = Scratch::new("dt-cat");
    let missing = s.path("not_exists");
    let (status, t, _, err) = traced(&dtrace, &["-c", &format!("cat {missing}")]);
    assert_eq!(status.code(), Some(1), "cat's status; stderr: {err}");
    assert_clean(&t, &err);
    let opens = t.of_path(&missing);
    assert_eq!(opens.len(), 1, "{t:?}\n{err}");
    assert_eq!(
        (opens[0].ret, opens[0].comm.as_slice(), opens[0].uid),
        (-2, &b"cat"[..], 0)
    );
    // The first opens of the command are there: cat's loader, before anything else (a
    // simple command is run directly, with no shell in between).
    assert_eq!(t.opens[0].path, b"/etc/ld.so.cache", "{:?}", t.opens[0]);
    assert_eq!(t.opens[0].comm, b"cat");
    assert!(t.opens.iter().all(|o| o.comm == b"cat"), "no shell: {t:?}");
    // The clock offset is DTrace's own (walltimestamp - timestamp): the time of the run.
    let offset: i64 = t.header("clock-offset-ns").unwrap().parse().unwrap();
    let unix_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    assert!((unix_ns - (opens[0].entry_ts as i64 + offset)).abs() < 600_000_000_000);

    // The README's pipeline, through a real shell pipe.
    let pipeline = format!(
        "DTRACE_PATH='{}' '{}' -D -c 'cat {missing}' | '{}'",
        dtrace.display(),
        bin("trace-gen").display(),
        bin("trace-merge").display()
    );
    let mut c = Command::new("sh");
    c.args(["-c", &pipeline]);
    let (status, out, err) = run_with_limit(c, LIMIT);
    let out = String::from_utf8_lossy(&out);
    assert!(status.success(), "trace-merge failed: {err}");
    let line = out
        .lines()
        .find(|l| l.contains(&missing))
        .unwrap_or_else(|| panic!("{out}\n{err}"));
    assert!(line.contains("ERROR -2") && line.contains("cat"), "{line}");
}

/// As `strace -f`: the run ends when the command and every descendant have exited, also
/// a background child that outlives the shell; `--no-follow` traces the shell alone.
#[test]
fn dtrace_command_descendants_are_followed_to_the_last() {
    let Some(dtrace) = dtrace_ready("dtrace_command_descendants_are_followed_to_the_last") else {
        return;
    };
    let _lock = tracer_lock();
    let s = Scratch::new("dt-follow");
    let (f1, f2, f3) = (s.path("f1"), s.path("f2"), s.path("f3"));
    let cmd = format!("(sleep 0.5; cat {f1}) & sh -c 'cat {f3}; true'; cat {f2}; echo started");
    let (status, t, _, err) = traced(&dtrace, &["-c", &cmd]);
    assert!(status.success(), "{err}");
    assert_clean(&t, &err);
    for f in [&f1, &f2, &f3] {
        let o = t.of_path(f);
        assert_eq!(o.len(), 1, "{f}: {err}");
        assert_eq!((o[0].ret, o[0].comm.as_slice()), (-2, &b"cat"[..]));
    }
    let (_, t, _, err) = traced(&dtrace, &["--no-follow", "-c", &cmd]);
    assert_clean(&t, &err);
    assert!([&f1, &f2, &f3].iter().all(|f| t.of_path(f).is_empty()));
    let pids: std::collections::BTreeSet<u32> = t.opens.iter().map(|o| o.pid).collect();
    assert_eq!(pids.len(), 1, "only the command's own pid: {pids:?}");
    // --stop-at-exit: the run ends with the command, not with a child that outlives it.
    let f4 = s.path("f4");
    let daemon = format!("(sleep 20; cat {f4}) >/dev/null 2>&1 & cat {f2}; true");
    let (status, t, _, err) = traced(&dtrace, &["--stop-at-exit", "-c", &daemon]);
    assert!(status.success(), "{err}");
    assert_clean(&t, &err);
    assert_eq!(t.of_path(&f2).len(), 1);
    assert!(t.of_path(&f4).is_empty());
}

#[test]
fn dtrace_threads_are_exact_with_an_open_blocked_across_the_others() {
    let Some(dtrace) =
        dtrace_ready("dtrace_threads_are_exact_with_an_open_blocked_across_the_others")
    else {
        return;
    };
    let _lock = tracer_lock();
    let s = Scratch::new("dt-threads");
    let exe = build(&s.0, "threads");
    let (workers, rounds, late) = (5, 200, 10);
    let cmd = format!(
        "{} {} {workers} {rounds} {late}",
        exe.display(),
        s.0.display()
    );
    let (status, t, _, err) = traced(&dtrace, &["-c", &cmd]);
    assert!(status.success(), "{err}");
    assert_clean(&t, &err);
    let mut tids = Vec::new();
    for n in 0..workers {
        let exists = t.of_path(&s.path(&format!("exists-{n}")));
        let missing = t.of_path(&s.path(&format!("missing-{n}")));
        // One more open of exists-N: main creates it.
        assert_eq!(exists.len(), rounds + 1, "exists-{n}: {err}");
        assert_eq!(missing.len(), rounds, "missing-{n}: {err}");
        assert!(exists.iter().all(|o| o.ret >= 0));
        assert!(missing.iter().all(|o| o.ret == -2));
        let tid = missing[0].tid;
        assert!(missing.iter().all(|o| o.tid == tid && o.comm == b"threads"));
        tids.push(tid);
    }
    tids.sort_unstable();
    tids.dedup();
    assert_eq!(tids.len(), workers);
    // The FIFO: opened by the reader thread (blocked) and by main, which unblocked it.
    let fifo = t.of_path(&s.path("fifo"));
    assert_eq!(fifo.len(), 2, "{fifo:?}");
    let (blocked, writer) = if fifo[0].tid == fifo[0].pid {
        (fifo[1], fifo[0])
    } else {
        (fifo[0], fifo[1])
    };
    assert_ne!(blocked.tid, blocked.pid);
    assert!(blocked.ret >= 0 && writer.ret >= 0);
    let workers_opens: Vec<&Open> = t
        .opens
        .iter()
        .filter(|o| o.path.starts_with(s.path("missing-").as_bytes()))
        .collect();
    assert!(
        workers_opens
            .iter()
            .all(|o| o.entry_ts > blocked.entry_ts && o.return_ts < blocked.return_ts),
        "every worker open happened while the reader was blocked"
    );
    assert!(writer.entry_ts < blocked.return_ts);
    // After main's pthread_exit, the last thread's opens are still traced.
    let late_opens = t.of_path(&s.path("late"));
    assert_eq!(late_opens.len(), late + 1, "{err}");
    assert_eq!(
        late_opens
            .iter()
            .filter(|o| o.tid != o.pid && o.ret >= 0)
            .count(),
        late
    );
}

/// A copy of `cat` named `name` in `dir`.
fn renamed_cat(dir: &Path, name: &str) -> String {
    let p = dir.join(name);
    std::fs::copy("/bin/cat", &p).unwrap();
    p.to_str().unwrap().to_owned()
}

#[test]
fn dtrace_uid_and_name_filters() {
    let Some(dtrace) = dtrace_ready("dtrace_uid_and_name_filters") else {
        return;
    };
    let _lock = tracer_lock();
    let s = Scratch::new("dt-filters");
    let ncat = renamed_cat(&s.0, "ncat-dt");
    let (u1, u2, n1) = (s.path("as-nobody"), s.path("as-root"), s.path("by-cat"));
    let cmd = format!(
        "setpriv --reuid=65534 --regid=65534 --clear-groups {ncat} {u1}; {ncat} {u2}; cat {n1}"
    );
    let (_, t, _, err) = traced(&dtrace, &["-u", "65534", "-c", &cmd]);
    assert_clean(&t, &err);
    let o = t.of_path(&u1);
    assert_eq!(o.len(), 1, "{err}");
    assert_eq!(
        (o[0].uid, o[0].ret, o[0].comm.as_slice()),
        (65534, -2, &b"ncat-dt"[..])
    );
    assert!(t.of_path(&u2).is_empty() && t.of_path(&n1).is_empty());
    assert!(t.opens.iter().all(|o| o.uid == 65534));

    let (_, t, _, err) = traced(&dtrace, &["-n", "ncat-dt", "-c", &cmd]);
    assert_clean(&t, &err);
    assert_eq!(t.of_path(&u1).len(), 1, "{err}");
    assert_eq!(t.of_path(&u2).len(), 1, "{err}");
    assert!(t.of_path(&n1).is_empty(), "plain cat traced");
    assert!(t.opens.iter().all(|o| o.comm == b"ncat-dt"), "{t:?}");
}

/// trace-gen with this DTrace and `args`, running live (see [`Live::spawn`] for the gate).
fn start_live(dtrace: &Path, args: &[&str], gate: Option<Receiver<()>>) -> Live {
    let mut cmd = trace_gen(dtrace);
    cmd.args(args);
    Live::spawn(cmd, gate, LIMIT)
}

#[test]
fn dtrace_an_open_killed_while_blocked_on_a_fifo_says_killed() {
    let Some(dtrace) = dtrace_ready("dtrace_an_open_killed_while_blocked_on_a_fifo_says_killed")
    else {
        return;
    };
    let _lock = tracer_lock();
    crate::assert_fifo_open_killed(trace_gen(&dtrace), "dt");
}

#[test]
fn dtrace_pid_follows_children_unless_no_follow() {
    let Some(dtrace) = dtrace_ready("dtrace_pid_follows_children_unless_no_follow") else {
        return;
    };
    let _lock = tracer_lock();
    let s = Scratch::new("dt-pid");
    let (own, child, bg) = (s.path("own"), s.path("child"), s.path("background"));
    let (stop, bg_pid) = (s.path("stop"), s.path("bg-pid"));
    for f in [&own, &child, &bg] {
        std::fs::write(f, "").unwrap();
    }
    // The target loops until STOP exists, opening OWN itself and CHILD through a `cat`. Its
    // background shell, started before tracing, forks a `cat` of BACKGROUND over and over,
    // and outlives it (then re-parented).
    let target = Command::new("sh")
        .args([
            "-c",
            &format!(
                "sh -c 'echo $$ > {bg_pid}; while :; do cat {bg}; sleep 0.1; done' & \
                 while [ ! -e {stop} ]; do : < {own}; cat {child}; sleep 0.05; done"
            ),
        ])
        .spawn()
        .unwrap();
    let mut target = KillOnDrop(target);
    let pid = target.0.id();
    let start = Instant::now();
    let background = loop {
        if let Some(p) = std::fs::read_to_string(&bg_pid)
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
        {
            break p;
        }
        assert!(start.elapsed() < LIMIT);
        std::thread::sleep(Duration::from_millis(10));
    };
    struct KillPid(i32);
    impl Drop for KillPid {
        fn drop(&mut self) {
            let _ = Command::new("kill").arg(self.0.to_string()).status();
        }
    }
    let _background = KillPid(background);

    let mut live = start_live(&dtrace, &["-p", &pid.to_string(), "--no-follow"], None);
    live.wait_for("three rounds of the loop", |t| t.of_path(&own).len() >= 3);
    let (status, t, err) = live.interrupt();
    assert_eq!(status.code(), Some(130), "{err}");
    assert_clean(&t, &err);
    assert!(t.of_path(&child).is_empty() && t.of_path(&bg).is_empty());
    assert!(t.opens.iter().all(|o| o.pid == pid), "{t:?}");

    let mut live = start_live(&dtrace, &["-p", &pid.to_string()], None);
    live.wait_for(
        "the loop's own open, its child's and the background's",
        |t| {
            !t.of_path(&own).is_empty()
                && !t.of_path(&child).is_empty()
                && !t.of_path(&bg).is_empty()
        },
    );
    // The target ends; its background shell, re-parented, is still followed.
    std::fs::write(&stop, "").unwrap();
    let _ = wait_with_limit(&mut target.0, LIMIT);
    live.take_arrived();
    let so_far = Trace::parse(&live.seen).of_path(&bg).len();
    live.wait_for("two more opens of the background's cat", |t| {
        t.of_path(&bg).len() >= so_far + 2
    });
    let (status, t, err) = live.interrupt();
    assert_eq!(status.code(), Some(130), "{err}");
    assert_clean(&t, &err);
    assert!(t.of_path(&own).iter().all(|o| o.pid == pid && o.ret >= 0));
    assert!(t
        .of_path(&child)
        .iter()
        .chain(&t.of_path(&bg))
        .all(|o| o.pid != pid && o.comm == b"cat" && o.ret >= 0));
    for o in &t.opens {
        assert!(
            [&b"sh"[..], b"cat", b"sleep"].contains(&o.comm.as_slice()),
            "not the target's: {o:?}"
        );
    }
}

/// The command's last opens come in the last microseconds before its exit (a burst, then
/// exit_group at once): every one is in the trace, whether the run stops when the last
/// followed process is gone or at the command's own exit (`--stop-at-exit`). The fence drains
/// what dtrace's buffers still hold then.
#[test]
fn dtrace_opens_in_the_last_microsecond_before_the_exit_are_all_traced() {
    let Some(dtrace) =
        dtrace_ready("dtrace_opens_in_the_last_microsecond_before_the_exit_are_all_traced")
    else {
        return;
    };
    let _lock = tracer_lock();
    let s = Scratch::new("dtrace-last-open");
    let exe = build_c(&s.0, "last_open", "cc", &[]);
    let prefix = s.path("missing");
    for (stop, n) in [(None, 1), (None, 50_000), (Some("--stop-at-exit"), 50_000)] {
        let command = format!("{} {prefix} {n}", exe.display());
        let mut args: Vec<&str> = stop.into_iter().collect();
        args.extend(["-c", &command]);
        let (status, t, _, err) = traced(&dtrace, &args);
        assert!(status.success(), "{args:?}: {err}");
        assert_clean(&t, &err);
        assert_every_last_open(&t, &prefix, n, &err);
    }
}

/// SIGINT once a burst is over, while its events are still in dtrace's buffers (nothing of
/// trace-gen's output has been read yet): every one of them comes out.
#[test]
fn dtrace_ctrl_c_drains_every_emitted_event() {
    let Some(dtrace) = dtrace_ready("dtrace_ctrl_c_drains_every_emitted_event") else {
        return;
    };
    let _lock = tracer_lock();
    let s = Scratch::new("dt-drain");
    let opener = build_opener(&s.0);
    let done = s.path("done");
    let (threads, rounds) = (4, 5_000);
    let cmd = format!(
        "{} {} {threads} {rounds} && : > {done} && exec sleep 600",
        opener.display(),
        s.0.display()
    );
    let (open_gate, gate) = mpsc::channel();
    let mut live = start_live(&dtrace, &["-c", &cmd], Some(gate));
    let start = Instant::now();
    while !Path::new(&done).exists() {
        assert!(start.elapsed() < LIMIT, "the burst never ended");
        std::thread::sleep(Duration::from_millis(10));
    }
    live.take_arrived();
    let before = Trace::parse(&live.seen).opens.len();
    let stop = Instant::now();
    // One SIGINT (a second one would end trace-gen at once, without the drain), sent while
    // trace-gen is still blocked on its full output pipe; then its output is read.
    let pid = live.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    drop(open_gate);
    let (status, t, err) = live.finish();
    let stopped_in = stop.elapsed();
    assert_eq!(status.code(), Some(130), "{err}");
    assert_clean(&t, &err);
    let dir = s.0.to_str().unwrap().as_bytes();
    let ours = t.opens.iter().filter(|o| o.path.starts_with(dir)).count();
    // Every open of the burst (main creates each exists-N once), and the shell's of DONE.
    assert_eq!(ours, 2 * threads * rounds + threads + 1, "{err}");
    eprintln!(
        "drain: {before} opens read when SIGINT was sent, {} after the drain ({stopped_in:?})",
        t.opens.len()
    );
}

/// The hostile names: each a file in the scratch directory (created by the traced program),
/// plus paths of 1000, 4095 and 5000 bytes.
fn hostile_names(dir: &str) -> Vec<Vec<u8>> {
    let mut names: Vec<Vec<u8>> = [
        &b"nl\nline"[..],
        b"forge 5\n<= uid: 0 pid: 1 ret: 3 5\n=> uid: 0 pid: 1 comm: systemd open: /etc/shadow 6",
        b"lost\n# lost: 999\nLost 999999 events\n",
        b"E 1 2 0 1 1 3 1 0 \"x\\0\" \"/etc/shadow\\0\"",
        b"quote\"q",
        b"\"/etc/shadow\"",
        b"back\\slash",
        b"\"\\x41\\x42\"",
        b"esc\x1b[31mred",
        b"cr\rx",
        b"tab\tx",
        b"del\x7f\x01\x02",
        b"bidi\xe2\x80\xaetxt.exe",
        b"bad\xff\xfe",
        b" lead",
        b"trail ",
        b"num 5",
        b"\\0nul-text\\0",
    ]
    .iter()
    .map(|n| [dir.as_bytes(), b"/", n].concat())
    .collect();
    names.push([dir.as_bytes(), b"/", &[b'n'; 255]].concat());
    // Deep paths in directories that do not exist: ENOENT, or ENAMETOOLONG past PATH_MAX.
    for len in [1000, 4095, 5000] {
        let mut p = format!("{dir}/deep").into_bytes();
        while p.len() < len {
            p.push(if p.len() % 200 == 0 { b'/' } else { b'd' });
        }
        names.push(p);
    }
    names
}

#[test]
fn dtrace_hostile_names_come_out_exact_with_the_comm() {
    let Some(dtrace) = dtrace_ready("dtrace_hostile_names_come_out_exact_with_the_comm") else {
        return;
    };
    let _lock = tracer_lock();
    let s = Scratch::new("dt-names");
    let exe = build(&s.0, "names");
    let dir = s.path("n");
    std::fs::create_dir(&dir).unwrap();
    let names = hostile_names(&dir);
    let list = s.path("list");
    std::fs::write(
        &list,
        names
            .iter()
            .flat_map(|n| [&n[..], b"\0"].concat())
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let report = s.path("report");
    let comm = "a open: y\n<= x";
    let cmd = format!("{} {list} '{comm}' {report}", exe.display());
    let (status, t, raw, err) = traced(&dtrace, &["-c", &cmd]);
    assert!(status.success(), "{err}");
    assert_clean(&t, &err);
    let rets: Vec<i64> = std::fs::read_to_string(&report)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(rets.len(), names.len() + 1);
    // In the program's order (one thread): the opens of the renamed process, all of them.
    let opens: Vec<&Open> = t
        .opens
        .iter()
        .filter(|o| o.comm == comm.as_bytes())
        .collect();
    assert_eq!(opens.len(), names.len() + 1, "{err}");
    for (i, name) in names.iter().enumerate() {
        let o = opens[i];
        let want = if name.len() > 4096 {
            &name[..4096]
        } else {
            &name[..]
        };
        assert_eq!(
            (o.path.as_slice(), o.ret),
            (want, rets[i]),
            "name {i}: {}",
            String::from_utf8_lossy(name)
        );
    }
    // openat(NULL): EFAULT, its path unknown and marked so.
    assert_eq!(
        (opens[names.len()].ret, opens[names.len()].path.len()),
        (-14, 0)
    );
    assert!(
        err.contains("could not read a traced program's memory 1 times"),
        "the probe error is said, once, as a note: {err}"
    );
    // Only the path the kernel refused for its length is marked truncated; the unread one
    // is `fault: 0x0`, its path empty and not cut.
    let truncated: Vec<Vec<u8>> = raw
        .split(|&b| b == b'\n')
        .filter_map(|l| match parse_line(l) {
            Ok(Line::Entry(e)) if e.path.is_truncated() => Some(e.path.to_bytes().into_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(truncated.len(), 1, "{truncated:?}");
    assert_eq!(truncated[0].len(), 4096);
    let faults: Vec<u64> = raw
        .split(|&b| b == b'\n')
        .filter_map(|l| match parse_line(l) {
            Ok(Line::Entry(e)) => e.detail.fault,
            _ => None,
        })
        .collect();
    assert_eq!(faults, [0]);
    // Canonical text: no raw control byte on any line.
    assert!(raw.iter().all(|&b| b == b'\n' || (b >= 0x20 && b != 0x7f)));
}

/// With a buffer far too small, dtrace drops records and says so on stderr: every drop is a
/// `# lost:` line, and the opens that came out plus the losses make all that happened.
#[test]
fn dtrace_drops_are_reported_never_silent() {
    let Some(dtrace) = dtrace_ready("dtrace_drops_are_reported_never_silent") else {
        return;
    };
    let _lock = tracer_lock();
    let s = Scratch::new("dt-lost");
    let opener = build_opener(&s.0);
    let cmd = format!("{} {} 4 5000", opener.display(), s.0.display());
    let (status, t, _, err) = traced(&dtrace, &["--buffer-size", "16K", "-c", &cmd]);
    assert!(status.success(), "{err}");
    assert!(t.lost > 0, "a 16 KiB buffer lost nothing? {err}");
    assert!(err.contains(" drops on CPU "), "{err}");
    assert!(
        err.contains(&format!("dtrace lost {} events", t.lost)),
        "{err}"
    );
    let ours = t
        .opens
        .iter()
        .filter(|o| o.path.starts_with(s.0.to_str().unwrap().as_bytes()))
        .count() as u64;
    assert!(ours < 40_004);
    assert!(ours + t.lost >= 40_004, "{ours} seen + {} lost", t.lost);
    assert!(t.bad_lines.is_empty() && t.unpaired_entries == 0 && t.unpaired_returns == 0);
}

/// 32-bit opens (int 0x80), which the syscall provider does not see, come through
/// `rawtp:raw_syscalls` with their paths and results, as strace shows them.
#[test]
fn dtrace_ia32_opens_are_traced() {
    let Some(dtrace) = dtrace_ready("dtrace_ia32_opens_are_traced") else {
        return;
    };
    if !cfg!(target_arch = "x86_64") {
        eprintln!("notice: dtrace_ia32_opens_are_traced skipped: not x86_64");
        return;
    }
    let _lock = tracer_lock();
    let s = Scratch::new("dt-ia32");
    let exe = build_with(&s.0, "ia32", &["-static", "-no-pie", "-O0"]);
    let (status, t, _, err) = traced(&dtrace, &["-c", exe.to_str().unwrap()]);
    assert!(status.success(), "{err}");
    assert_clean(&t, &err);
    let compat: Vec<(&[u8], bool)> = t
        .opens
        .iter()
        .filter(|o| o.comm == b"ia32")
        .map(|o| (o.path.as_slice(), o.ret >= 0))
        .collect();
    assert_eq!(
        compat,
        [
            (&b"/etc/hostname"[..], true),
            (b"/nonexistent-ia32", false),
            (b"/etc/hostname", true)
        ]
    );
    assert_eq!(t.of_path("/nonexistent-ia32")[0].ret, -2);
}

/// A program that passes bad path pointers: dtrace's raw `error in dt_clause_N ... invalid
/// address` lines become one note with their count; the opens are in the trace, failed with
/// EFAULT and their paths marked cut.
#[test]
fn dtrace_bad_user_pointers_are_one_note() {
    let Some(dtrace) = dtrace_ready("dtrace_bad_user_pointers_are_one_note") else {
        return;
    };
    let _lock = tracer_lock();
    let s = Scratch::new("dt-fault");
    let prog = build(&s.0, "bad_pointer");
    let missing = s.path("missing-after-bad-pointers");
    let cmd = format!("{} {missing}", prog.display());
    let (status, t, _, err) = traced(&dtrace, &["-c", &cmd]);
    assert!(status.success(), "{err}");
    assert!(!err.contains("dt_clause"), "raw probe errors shown: {err}");
    assert!(
        !err.contains("invalid address ("),
        "raw probe errors shown: {err}"
    );
    let notes: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("could not read a traced program's memory"))
        .collect();
    assert_eq!(notes.len(), 1, "{err}");
    let efault: Vec<_> = t.opens.iter().filter(|o| o.ret == -14).collect();
    assert_eq!(efault.len(), 3, "{err}");
    assert!(efault.iter().all(|o| o.path.is_empty()), "{efault:?}");
    assert!(notes[0].contains(" 3 times"), "{err}");
    assert_eq!(t.of_path(&missing).len(), 1, "{err}");
}

/// tests/data/gen/every_open.c under DTrace for Linux: each of its records (what it opened,
/// as it sees it itself: system calls, io_uring requests, open_by_handle_at) is matched by
/// exactly one event with the same way of opening, result, path, flags, mode, `how.resolve`,
/// fault and resolved path.
#[test]
fn dtrace_every_open_matches_its_own_ground_truth() {
    let Some(dtrace) = dtrace_ready("dtrace_every_open_matches_its_own_ground_truth") else {
        return;
    };
    let _lock = tracer_lock();
    let s = Scratch::new("dt-every-open");
    let exe = build_c(&s.0, "every_open", "cc", &[]);
    // On tmpfs when there is one: resolution crosses a mount.
    let top = if Path::new("/dev/shm").is_dir() {
        format!(
            "/dev/shm/trace-gen-e2e-dt-every-open-{}",
            std::process::id()
        )
    } else {
        s.path("top")
    };
    let _ = std::fs::remove_dir_all(&top);
    let records = s.path("records");
    let command = format!("{} {top} > {records}", exe.display());
    let (status, t, raw, err) = traced(&dtrace, &["-c", &command]);
    let _ = std::fs::remove_dir_all(&top);
    assert!(status.success(), "every_open failed: {err}");
    assert!(t.bad_lines.is_empty(), "{:?}\n{err}", t.bad_lines);
    let truth = ground_truth(&std::fs::read(&records).unwrap());
    assert!(truth.len() >= 13, "{truth:?}");
    // Every return has its entry.
    assert_eq!(t.unpaired_returns, 0, "{err}");
    let events = detailed(&raw);
    for r in &truth {
        let via = match r.how.as_str() {
            "handle" => Some(trace_format::Via::Handle),
            "io_uring" => Some(trace_format::Via::IoUring),
            _ => None,
        };
        let path = r.path.clone().unwrap_or_default();
        let matching: Vec<&Detailed> = events
            .iter()
            .filter(|e| e.pid == r.pid && e.via == via && e.ret == r.ret && e.path == path)
            .collect();
        assert_eq!(matching.len(), 1, "{r:?}\n{events:#?}");
        let e = matching[0];
        let creates = r.how != "handle" && r.flags & (0o100 | 0o20_000_000) != 0;
        let fault = r
            .fault
            .as_deref()
            .map(|f| u64::from_str_radix(f.trim_start_matches("0x"), 16).unwrap());
        let want = (
            Some(r.flags),
            (r.resolve != 0).then_some(r.resolve),
            creates.then_some(r.mode as u32),
            fault,
            r.resolved.as_deref(),
        );
        let got = (e.flags, e.resolve, e.mode, e.fault, e.resolved.as_deref());
        assert_eq!(got, want, "{}: {e:?}", r.case);
    }
    // As many io_uring events as requests: none counted twice.
    let uring = |how: &str| truth.iter().filter(|r| r.how == how).count();
    let events_via = |v| events.iter().filter(|e| e.via == Some(v)).count();
    assert_eq!(events_via(trace_format::Via::IoUring), uring("io_uring"));
    assert_eq!(events_via(trace_format::Via::Handle), uring("handle"));
}
