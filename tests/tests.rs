//! End to end against the real kernel: `trace-gen -B` runs bpftrace, and its lines are read
//! back with trace-format (and through trace-merge). Needs root and bpftrace: FAILS in CI
//! when they are missing, skips with a notice elsewhere. One tracer at a time
//! ([`common::tracer_lock`]).
//!
//! The differential harness against strace -f (ground truth) is the `differential` module;
//! `demo_install` checks that the demo installs only what it runs.
//!
//! Every traced program here works on paths in a fresh scratch directory, so the assertions
//! are exact: each open has a known result.

mod cgroup;
mod common;
mod demo_install;
mod differential;
mod dtrace;
mod faults;
mod guest;
mod resolved;

use common::*;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(120);

/// Runs `trace-gen -B ARGS` to its end.
fn traced(args: &[&str]) -> (std::process::ExitStatus, Trace, String) {
    let mut c = trace_gen();
    c.arg("-B").args(args);
    let (status, out, err) = run_with_limit(c, LIMIT);
    let trace = Trace::parse(&out);
    (status, trace, err)
}

/// The checks every complete trace passes: headers first, every line parses, nothing lost,
/// every entry paired with its return.
fn assert_clean(t: &Trace, err: &str) {
    let keys: Vec<&str> = t.headers.iter().take(5).map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "trace-format",
            "backend",
            "host",
            "clock",
            "clock-offset-ns"
        ],
        "{t:?}"
    );
    assert_eq!(
        t.header("trace-format"),
        Some(trace_format::FORMAT_VERSION.to_string().as_str())
    );
    assert!(t.header("backend").unwrap().starts_with("bpftrace"));
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
    for o in &t.opens {
        assert!(o.return_ts >= o.entry_ts, "{o:?}");
    }
    assert!(
        !err.contains("Attaching") || err.contains("bpftrace: Attaching"),
        "chatter on stderr is labelled"
    );
}

#[test]
fn failed_open_of_cat_is_error_2_through_trace_merge() {
    if !bpftrace_ready("failed_open_of_cat_is_error_2_through_trace_merge") {
        return;
    }
    let _lock = tracer_lock();
    let s = Scratch::new("cat");
    let missing = s.path("not_exists");
    let (status, t, err) = traced(&["-c", &format!("cat {missing}")]);
    assert_eq!(status.code(), Some(1), "cat's status; stderr: {err}");
    assert!(err.contains("the command exited with status 1"), "{err}");
    assert_clean(&t, &err);
    let opens = t.of_path(&missing);
    assert_eq!(opens.len(), 1, "{t:?}");
    assert_eq!(
        (opens[0].ret, opens[0].comm.as_slice(), opens[0].uid),
        (-2, &b"cat"[..], 0)
    );
    // The offset turns the monotonic timestamp into the wall-clock time of the run.
    let offset: i64 = t.header("clock-offset-ns").unwrap().parse().unwrap();
    let unix_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    let when = opens[0].entry_ts as i64 + offset;
    assert!(
        (unix_ns - when).abs() < 600_000_000_000,
        "open at {when}, now {unix_ns}"
    );

    // The README's pipeline, through a real shell pipe.
    let pipeline = format!(
        "'{}' -B -c 'cat {missing}' | '{}'",
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
    assert!(line.contains("ERROR -2"), "{line}");
}

#[test]
fn every_open_of_a_multithreaded_program_is_paired() {
    if !bpftrace_ready("every_open_of_a_multithreaded_program_is_paired") {
        return;
    }
    let _lock = tracer_lock();
    let s = Scratch::new("threads");
    let opener = build_opener(&s.0);
    let (threads, rounds) = (4, 2000);
    let (status, t, err) = traced(&[
        "-c",
        &format!("{} {} {threads} {rounds}", opener.display(), s.0.display()),
    ]);
    assert!(status.success(), "{err}");
    assert_clean(&t, &err);
    let mut worker_tids = Vec::new();
    for n in 0..threads {
        let exists = t.of_path(&s.path(&format!("exists-{n}")));
        let missing = t.of_path(&s.path(&format!("missing-{n}")));
        // One more open of exists-N: main creates it first.
        assert_eq!(exists.len(), rounds + 1, "exists-{n}: {err}");
        assert_eq!(missing.len(), rounds, "missing-{n}: {err}");
        assert!(exists.iter().all(|o| o.ret >= 0), "exists-{n} failed");
        assert!(
            missing.iter().all(|o| o.ret == -2),
            "missing-{n} did not fail with ENOENT"
        );
        let pid = exists[0].pid;
        assert!(exists
            .iter()
            .chain(&missing)
            .all(|o| o.pid == pid && o.comm == b"opener"));
        // The worker's opens are all on one thread, not the main one.
        let tid = missing[0].tid;
        assert_ne!(tid, pid);
        assert!(missing.iter().all(|o| o.tid == tid));
        assert_eq!(exists.iter().filter(|o| o.tid == tid).count(), rounds);
        worker_tids.push(tid);
    }
    worker_tids.sort_unstable();
    worker_tids.dedup();
    assert_eq!(worker_tids.len(), threads);
}

/// The burst the default --buffer-size is sized for (see its help).
#[test]
fn a_burst_of_200000_opens_loses_nothing() {
    if !bpftrace_ready("a_burst_of_200000_opens_loses_nothing") {
        return;
    }
    // The compiler runs under the lock too: nothing else of these tests competes for the
    // CPUs while bpftrace empties its buffers.
    let _lock = tracer_lock();
    let s = Scratch::new("burst");
    let opener = build_opener(&s.0);
    let (status, t, err) = traced(&[
        "-c",
        &format!("{} {} 4 25000", opener.display(), s.0.display()),
    ]);
    assert!(status.success(), "{err}");
    assert_clean(&t, &err);
    let ours = t
        .opens
        .iter()
        .filter(|o| o.path.starts_with(s.0.to_str().unwrap().as_bytes()))
        .count();
    assert_eq!(ours, 200_004);
}

/// The command's last opens come in the last microseconds before its exit (a burst, then
/// exit_group at once): every one is in the trace, whether the run stops when the last
/// followed process is gone or at the command's own exit (`--stop-at-exit`, which does not
/// wait for the exit report). The fence drains what bpftrace's buffers still hold then.
#[test]
fn opens_in_the_last_microsecond_before_the_exit_are_all_traced() {
    if !bpftrace_ready("opens_in_the_last_microsecond_before_the_exit_are_all_traced") {
        return;
    }
    let _lock = tracer_lock();
    let s = Scratch::new("last-open");
    let exe = build_c(&s.0, "last_open", "cc", &[]);
    let prefix = s.path("missing");
    for (stop, n) in [(None, 1), (None, 50_000), (Some("--stop-at-exit"), 50_000)] {
        let command = format!("{} {prefix} {n}", exe.display());
        let mut args: Vec<&str> = stop.into_iter().collect();
        args.extend(["-c", &command]);
        let (status, t, err) = traced(&args);
        assert!(status.success(), "{args:?}: {err}");
        assert_clean(&t, &err);
        assert_every_last_open(&t, &prefix, n, &err);
    }
}

/// With a buffer far too small, events are lost, and every one is accounted for: the opens
/// that came out plus the `# lost:` counts make all the opens the program did.
#[test]
fn losses_are_reported_never_silent() {
    if !bpftrace_ready("losses_are_reported_never_silent") {
        return;
    }
    let _lock = tracer_lock();
    let s = Scratch::new("lost");
    let opener = build_opener(&s.0);
    let cmd = format!("{} {} 4 5000", opener.display(), s.0.display());
    let (status, t, err) = traced(&["--buffer-size", "4K", "-c", &cmd]);
    assert!(status.success(), "{err}");
    assert!(t.lost > 0, "a one-page buffer lost nothing? {err}");
    assert!(
        err.contains(&format!("bpftrace lost {} events", t.lost)),
        "{err}"
    );
    let ours = t
        .opens
        .iter()
        .filter(|o| o.path.starts_with(s.0.to_str().unwrap().as_bytes()))
        .count();
    // One event per open (plus the few of the shell and the loader, and fences).
    assert!(
        ours as u64 + t.lost >= 40_004,
        "{ours} seen + {} lost < 40004",
        t.lost
    );
    assert!(ours < 40_004);
    assert!(t.bad_lines.is_empty() && t.unpaired_entries == 0 && t.unpaired_returns == 0);
}

/// trace-gen with bpftrace and `args`, running live.
fn start_live(args: &[&str]) -> Live {
    let mut cmd = trace_gen();
    cmd.arg("-B").args(args);
    Live::spawn(cmd, None, LIMIT)
}

/// A shell loop that opens OWN itself (a redirection) and CHILD through a `cat` child.
fn looper(s: &Scratch) -> (Child, String, String) {
    let (own, child) = (s.path("own"), s.path("child"));
    std::fs::write(&own, "").unwrap();
    std::fs::write(&child, "").unwrap();
    let target = Command::new("sh")
        .args([
            "-c",
            &format!("while :; do : < {own}; cat {child}; sleep 0.05; done"),
        ])
        .spawn()
        .unwrap();
    (target, own, child)
}

#[test]
fn pid_filter_follows_children_unless_no_follow() {
    if !bpftrace_ready("pid_filter_follows_children_unless_no_follow") {
        return;
    }
    let _lock = tracer_lock();
    let s = Scratch::new("pid");
    let (target, own, child) = looper(&s);
    let target = KillOnDrop(target);
    let pid = target.0.id();

    let mut live = start_live(&["-p", &pid.to_string()]);
    live.wait_for("the loop's own open and its child's", |t| {
        !t.of_path(&own).is_empty() && !t.of_path(&child).is_empty()
    });
    let (status, t, err) = live.interrupt();
    assert_eq!(status.code(), Some(130), "{err}");
    assert_clean(&t, &err);
    assert!(t.of_path(&own).iter().all(|o| o.pid == pid && o.ret >= 0));
    assert!(t
        .of_path(&child)
        .iter()
        .all(|o| o.pid != pid && o.comm == b"cat"));
    for o in &t.opens {
        assert!(
            [&b"sh"[..], b"cat", b"sleep"].contains(&o.comm.as_slice()),
            "not the target's: {o:?}"
        );
    }

    let mut live = start_live(&["-p", &pid.to_string(), "--no-follow"]);
    // Three opens of OWN: the loop went round twice, with a `cat` of CHILD each time.
    live.wait_for("three rounds of the loop", |t| t.of_path(&own).len() >= 3);
    let (status, t, err) = live.interrupt();
    assert_eq!(status.code(), Some(130), "{err}");
    assert_clean(&t, &err);
    assert!(
        t.of_path(&child).is_empty(),
        "a child was traced with --no-follow"
    );
    assert!(t.opens.iter().all(|o| o.pid == pid), "{t:?}");
}

#[test]
fn command_children_are_followed_unless_no_follow() {
    if !bpftrace_ready("command_children_are_followed_unless_no_follow") {
        return;
    }
    let _lock = tracer_lock();
    let s = Scratch::new("follow");
    let (f1, f2, f3) = (s.path("f1"), s.path("f2"), s.path("f3"));
    // f1: a child; f3: a grandchild (through a second shell); f2: the last command, which
    // the shell may exec in place.
    let cmd = format!("cat {f1}; sh -c 'cat {f3}; true'; cat {f2}");
    let (_, t, err) = traced(&["-c", &cmd]);
    assert_clean(&t, &err);
    for f in [&f1, &f2, &f3] {
        assert_eq!(t.of_path(f).len(), 1, "{f}: {err}");
        assert_eq!(t.of_path(f)[0].ret, -2);
    }

    let (_, t, err) = traced(&["--no-follow", "-c", &cmd]);
    assert_clean(&t, &err);
    assert!(
        t.of_path(&f1).is_empty() && t.of_path(&f3).is_empty(),
        "children traced: {t:?}"
    );
    let pids: std::collections::BTreeSet<u32> = t.opens.iter().map(|o| o.pid).collect();
    assert_eq!(pids.len(), 1, "only the command's own pid: {pids:?}");
}

#[test]
fn no_follow_of_a_simple_command_traces_the_command_itself() {
    if !bpftrace_ready("no_follow_of_a_simple_command_traces_the_command_itself") {
        return;
    }
    let _lock = tracer_lock();
    let s = Scratch::new("nofollow-simple");
    let missing = s.path("missing");
    // No shell syntax: the program is exec'd directly, so its own opens are traced.
    let (status, t, err) = traced(&["--no-follow", "-c", &format!("cat {missing}")]);
    assert_eq!(status.code(), Some(1), "cat's status: {err}");
    assert_clean(&t, &err);
    let opens = t.of_path(&missing);
    assert_eq!(opens.len(), 1, "{t:?}\n{err}");
    assert_eq!((opens[0].ret, &opens[0].comm[..]), (-2, &b"cat"[..]));
    assert!(
        t.opens.iter().all(|o| o.comm == b"cat"),
        "only cat, no shell: {t:?}"
    );
}

#[test]
fn an_open_killed_while_blocked_on_a_fifo_says_killed_not_restarted() {
    if !bpftrace_ready("an_open_killed_while_blocked_on_a_fifo_says_killed_not_restarted") {
        return;
    }
    let _lock = tracer_lock();
    let mut c = trace_gen();
    c.arg("-B");
    assert_fifo_open_killed(c, "bt");
}

/// `trace_gen` (a trace-gen command choosing its tracer) with `-c cat FIFO`: cat blocks in
/// open() (no writer) and is killed by SIGKILL there; its return line says `killed: 9`.
pub(crate) fn assert_fifo_open_killed(mut trace_gen: Command, tag: &str) {
    let s = Scratch::new(&format!("fifo-killed-{tag}"));
    let fifo = s.path("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    trace_gen.args(["-c", &format!("cat {fifo}")]);
    let mut live = Live::spawn(trace_gen, None, LIMIT);
    // cat is running once its loader's opens come out; it then blocks in open() of the FIFO
    // (no writer).
    live.wait_for("cat's first opens", |t| !t.opens.is_empty());
    let cat = Trace::parse(&live.seen).opens[0].pid;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(format!("/proc/{cat}/wchan"))
        .is_ok_and(|w| w.contains("wait_for_partner") || w.contains("fifo"))
    {
        assert!(Instant::now() < deadline, "cat never blocked on the FIFO");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(Command::new("kill")
        .args(["-KILL", &cat.to_string()])
        .status()
        .unwrap()
        .success());
    let status = wait_with_limit(&mut live.child, LIMIT);
    while let Ok(l) = live.lines.recv_timeout(Duration::from_secs(5)) {
        live.seen.extend_from_slice(&l);
    }
    assert_eq!(status.code(), Some(137), "cat's status: killed by SIGKILL");
    let text = String::from_utf8_lossy(&live.seen).into_owned();
    let mut killed = Vec::new();
    for line in live.seen.split(|&b| b == b'\n') {
        if let Ok(trace_format::Line::Return(r)) = trace_format::parse_line(line) {
            if r.detail.killed.is_some() {
                killed.push((r.task.pid, r.ret, r.detail.killed));
            }
        }
    }
    assert_eq!(killed, vec![(cat, -512, Some(9))], "{text}");
    assert_eq!(Trace::parse(&live.seen).of_path(&fifo).len(), 1, "{text}");
}

/// `unshare -fp --mount-proc trace-gen ARGS`: trace-gen in a PID namespace of its own (pid 1
/// there, with the namespace's /proc), as in a container.
fn in_pid_namespace(
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> (std::process::ExitStatus, Vec<u8>, String) {
    let mut c = Command::new("unshare");
    c.args(["-fp", "--mount-proc"])
        .arg(bin("trace-gen"))
        .args(args);
    c.env_remove("BPFTRACE_PATH");
    for (k, v) in env {
        c.env(k, v);
    }
    run_with_limit(c, LIMIT)
}

#[test]
fn in_a_pid_namespace_a_command_is_traced_with_the_namespaces_pids() {
    if !bpftrace_ready("in_a_pid_namespace_a_command_is_traced_with_the_namespaces_pids") {
        return;
    }
    let _lock = tracer_lock();
    let s = Scratch::new("pidns");
    let missing = s.path("missing");
    // A child, then the command's own open; the run ends by itself with cat's status.
    let cmd = format!("sh -c 'cat /etc/hostname; true'; cat /etc/hostname {missing}");
    let (status, out, err) = in_pid_namespace(&["-B", "-c", &cmd], &[]);
    assert_eq!(
        status.code(),
        Some(1),
        "cat's status (one file missing): {err}"
    );
    let t = Trace::parse(&out);
    assert_clean(&t, &err);
    let host = t.of_path("/etc/hostname");
    assert_eq!(host.len(), 2, "{t:?}\n{err}");
    assert!(
        host.iter().all(|o| o.ret >= 0 && o.comm == b"cat"),
        "{host:?}"
    );
    assert_eq!(t.of_path(&missing).len(), 1, "{t:?}");
    // Pids as the namespace sees them: trace-gen is 1 there, the others follow closely.
    // The host's pids on this machine are far above (the test runner's own).
    assert!(
        t.opens
            .iter()
            .all(|o| o.pid > 1 && o.pid < std::process::id().min(1000)),
        "pids not from the namespace: {:?}",
        t.opens.iter().map(|o| o.pid).collect::<Vec<_>>()
    );
    // -p of a process of the namespace: a shell that runs cat on a file until a stop file
    // appears, traced by its pid there; the run ends by itself when it exits.
    let (file, stop) = (s.path("watched"), s.path("stop"));
    std::fs::write(&file, "x\n").unwrap();
    let script = format!(
        "sh -c 'while :; do cat {file} > /dev/null; sleep 0.2; [ -e {stop} ] && exit 0; done' & \
         t=$!; {gen} -B -p $t > {out} & g=$!; i=0; \
         until grep -q ' open: {file} ' {out} || [ $i -gt 300 ]; do sleep 0.2; i=$((i+1)); done; \
         : > {stop}; wait $g; echo \"pid $t\" >&2; cat {out}",
        gen = bin("trace-gen").display(),
        out = s.path("trace"),
    );
    let mut c = Command::new("unshare");
    c.args(["-fp", "--mount-proc", "sh", "-c", &script]);
    c.env_remove("BPFTRACE_PATH");
    let (status, out, err) = run_with_limit(c, LIMIT);
    assert!(status.success(), "{err}");
    let t = Trace::parse(&out);
    assert_clean(&t, &err);
    let cats = t.of_path(&file);
    assert!(
        !cats.is_empty(),
        "no open of the file by the -p process's children: {err}"
    );
    // The shell is pid 2 there (unshare's sh is 1); its children, cat, come after.
    assert!(err.contains("pid 2\n"), "{err}");
    assert!(
        cats.iter()
            .all(|o| o.pid > 2 && o.pid < 1000 && o.comm == b"cat"),
        "{cats:?}"
    );
}

#[test]
fn in_a_pid_namespace_dtrace_refuses_at_start_up_in_one_line() {
    let Some(dtrace) =
        dtrace::dtrace_ready("in_a_pid_namespace_dtrace_refuses_at_start_up_in_one_line")
    else {
        return;
    };
    let (status, out, err) = in_pid_namespace(
        &["-D", "-c", "cat /etc/hostname"],
        &[("DTRACE_PATH", dtrace.as_os_str())],
    );
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(out.is_empty(), "no trace at all, never an empty one");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("inside a PID namespace"), "{err}");
    // The real reason (dtrace-utils' own BEGIN probe never fires there), and what to use.
    assert!(err.contains("never fires its own BEGIN probe"), "{err}");
    assert!(err.contains("bpftrace (-B)"), "{err}");
}

#[test]
fn uid_filter_keeps_only_that_user() {
    if !bpftrace_ready("uid_filter_keeps_only_that_user") {
        return;
    }
    let _lock = tracer_lock();
    let s = Scratch::new("uid");
    let (u1, u2) = (s.path("as-nobody"), s.path("as-root"));
    let cmd = format!("setpriv --reuid=65534 --regid=65534 --clear-groups cat {u1}; cat {u2}");
    for user in ["65534", "nobody"] {
        let (_, t, err) = traced(&["-u", user, "-c", &cmd]);
        assert_clean(&t, &err);
        let o = t.of_path(&u1);
        assert_eq!(o.len(), 1, "-u {user}: {err}");
        assert_eq!((o[0].uid, o[0].ret), (65534, -2));
        assert!(t.of_path(&u2).is_empty(), "-u {user}: root's open traced");
        assert!(t.opens.iter().all(|o| o.uid == 65534));
    }
}

#[test]
fn name_filter_keeps_only_that_comm() {
    if !bpftrace_ready("name_filter_keeps_only_that_comm") {
        return;
    }
    let _lock = tracer_lock();
    let s = Scratch::new("comm");
    let ncat = renamed_cat(&s.0, "ncat-e2e");
    let (n1, n2) = (s.path("by-cat"), s.path("by-ncat"));
    // System-wide with -n: nothing but the renamed cat matches.
    let mut live = start_live(&["-n", "ncat-e2e"]);
    // Nothing says from outside when the probes are live: run both programs until the
    // renamed one shows up.
    let start = Instant::now();
    loop {
        let _ = Command::new("cat").arg(&n1).stderr(Stdio::null()).status();
        let _ = Command::new(&ncat).arg(&n2).stderr(Stdio::null()).status();
        if let Ok(l) = live.lines.recv_timeout(Duration::from_millis(500)) {
            live.seen.extend_from_slice(&l);
        }
        if !Trace::parse(&live.seen).of_path(&n2).is_empty() {
            break;
        }
        assert!(start.elapsed() < LIMIT, "the renamed cat never showed up");
    }
    let (status, t, err) = live.interrupt();
    assert_eq!(status.code(), Some(130), "{err}");
    assert_clean(&t, &err);
    assert!(t.of_path(&n1).is_empty(), "plain cat traced");
    assert!(t.opens.iter().all(|o| o.comm == b"ncat-e2e"), "{t:?}");
}

#[test]
fn sigint_stops_trace_gen_with_130_after_draining() {
    if !bpftrace_ready("sigint_stops_trace_gen_with_130_after_draining") {
        return;
    }
    let _lock = tracer_lock();
    let s = Scratch::new("sigint");
    let (s1, s2) = (s.path("s1"), s.path("s2"));
    let mut live = start_live(&["-c", &format!("cat {s1}; cat {s2}; exec sleep 600")]);
    live.wait_for("sleep's start", |t| {
        t.opens.iter().any(|o| o.comm == b"sleep")
    });
    let sleep_pid = Trace::parse(&live.seen)
        .opens
        .iter()
        .find(|o| o.comm == b"sleep")
        .unwrap()
        .pid;
    let (status, t, err) = live.interrupt();
    assert_eq!(status.code(), Some(130), "{err}");
    assert_clean(&t, &err);
    assert_eq!(t.of_path(&s1).len(), 1);
    assert_eq!(t.of_path(&s2).len(), 1);
    // The command got the SIGINT too.
    let start = Instant::now();
    while std::path::Path::new(&format!("/proc/{sleep_pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{sleep_pid}/stat"))
            .is_ok_and(|s| s.contains(") Z "))
    {
        assert!(
            start.elapsed() < LIMIT,
            "the command did not get the signal"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn hostile_file_names_come_out_whole_and_escaped() {
    if !bpftrace_ready("hostile_file_names_come_out_whole_and_escaped") {
        return;
    }
    let _lock = tracer_lock();
    let s = Scratch::new("names");
    // Names come through bpftrace's JSON channel whole; trace-gen writes them quoted where needed.
    let names = [
        "new\nline",
        "two\n\nnewlines\n",
        "a b",
        "esc\x1b[31mred",
        "quote\"q",
        "back\\slash",
        "=> uid: 0 pid: 1 open: x 5",
    ];
    let mut script = String::from("for f in");
    for n in names {
        script.push_str(&format!(" {}", shell_quote(&s.path(n))));
    }
    script.push_str("; do : > \"$f\"; done");
    let (status, t, err) = traced(&["-c", &script]);
    assert_eq!(status.code(), Some(0), "{err}");
    assert_clean(&t, &err);
    for n in names {
        let opens = t.of_path(&s.path(n));
        assert_eq!(opens.len(), 1, "{n:?} in {:?}", t.opens);
        assert!(opens[0].ret >= 0, "{n:?}: {:?}", opens[0]);
    }

    // Through trace-merge: one line per open, the names escaped, nothing malformed.
    let mut merge = trace_merge();
    merge
        .arg("-N")
        .arg("--path")
        .arg(format!("^{}/", s.0.display()));
    let mut gen = trace_gen();
    gen.arg("-B").arg("-c").arg(&script);
    let pipeline = format!("{} | {}", shell_command(&gen), shell_command(&merge));
    let mut c = Command::new("sh");
    c.args(["-c", &pipeline]);
    let (status, out, err) = run_with_limit(c, LIMIT);
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(!err.contains("malformed"), "{err}");
    let text = String::from_utf8(out).unwrap();
    let dir = s.0.display().to_string();
    for shown in [
        r"new\nline",
        r"two\n\nnewlines\n",
        "a b",
        r"esc\x1b[31mred",
        "quote\"q",
        r"back\\slash",
        "=> uid: 0 pid: 1 open: x 5",
    ] {
        let want = format!("{dir}/{shown} => FD ");
        assert_eq!(
            text.lines().filter(|l| l.contains(&want)).count(),
            1,
            "{want:?} in\n{text}"
        );
    }
    assert_eq!(text.lines().count(), names.len(), "{text}");
}

/// `s` quoted for `sh`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A command as one `sh` word list.
fn shell_command(c: &Command) -> String {
    std::iter::once(c.get_program())
        .chain(c.get_args())
        .map(|a| shell_quote(a.to_str().unwrap()))
        .collect::<Vec<_>>()
        .join(" ")
}
