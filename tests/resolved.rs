//! Resolved paths against the ground truth of the traced program itself:
//! tests/data/gen/every_open.c opens files every way (cwd, `..`, a symlinked directory, a
//! dirfd, O_TMPFILE, openat2, io_uring, open_by_handle_at, an empty name, an unreadable
//! pointer, other mounts) under a fresh directory on tmpfs (so that resolution crosses a
//! mount), and prints after each open what it opened (`readlink /proc/self/fd/N`), or for a
//! failure the directory's realpath joined with the name.

use crate::common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);

/// A fresh directory for every_open to create, on another mount than / (tmpfs /dev/shm when
/// there is one), so that a resolved path crosses a mount.
fn fresh_dir(scratch: &Scratch, tag: &str) -> String {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        format!("/dev/shm/trace-gen-e2e-{tag}-{}", std::process::id())
    } else {
        scratch.path("top")
    }
}

/// every_open's records, run untraced.
#[test]
fn every_open_behaves_as_planned() {
    let s = Scratch::new("every-open-plain");
    let exe = build_c(&s.0, "every_open", "cc", &[]);
    let top = fresh_dir(&s, "plain");
    let _ = std::fs::remove_dir_all(&top);
    let mut c = Command::new(&exe);
    c.arg(&top);
    let (status, out, err) = run_with_limit(c, LIMIT);
    let _ = std::fs::remove_dir_all(&top);
    let records = ground_truth(&out);
    let root = is_root();
    assert!(
        status.success() || !root,
        "every_open failed as root: {err}"
    );
    let cases: Vec<&str> = records.iter().map(|r| r.case.as_str()).collect();
    for want in [
        "cwd-create",
        "cwd-missing",
        "dot-dot",
        "symlinked-dir",
        "dirfd",
        "dirfd-missing",
        "tmpfile",
        "openat2-beneath",
        "empty",
        "fault",
        "uring",
        "uring-missing",
        "handle",
    ] {
        assert!(cases.contains(&want), "no case {want}: {cases:?}\n{err}");
    }
    let created = records.iter().find(|r| r.case == "cwd-create").unwrap();
    let resolved = String::from_utf8(created.resolved.clone().unwrap()).unwrap();
    assert!(resolved.ends_with("/a/b/created"), "{resolved}");
    for r in &records {
        if r.case != "handle" || root {
            let same = r.resolved.as_deref() == created.resolved.as_deref();
            let wants_created = matches!(
                r.case.as_str(),
                "dot-dot" | "symlinked-dir" | "dirfd" | "openat2-beneath" | "uring" | "handle"
            );
            assert!(!wants_created || same, "{r:?}");
        }
    }
    let fault = records.iter().find(|r| r.case == "fault").unwrap();
    assert_eq!(
        (fault.ret, fault.fault.as_deref(), fault.resolved.as_deref()),
        (-14, Some("0x1"), None)
    );
}

/// `O_CREAT` and `__O_TMPFILE`: a tracer shows the mode only with one of them.
const CAN_CREATE: u64 = 0o100 | 0o20000000;

/// Every record of every_open, run under `trace-gen -B`, is matched by exactly one event with
/// the same result, resolved path, flags, mode, resolve and `via:` (the cases: cwd, failing
/// at the cwd, `..` and `.`, a symlinked directory, a dirfd and failing through it, creat,
/// O_TMPFILE, openat2 with RESOLVE_BENEATH and escaping it, an empty name, an unreadable
/// pointer, other mounts, io_uring OPENAT/OPENAT2 found, missing and created, and
/// open_by_handle_at).
#[test]
fn every_open_matches_its_own_ground_truth_under_bpftrace() {
    if !bpftrace_ready("every_open_matches_its_own_ground_truth_under_bpftrace") {
        return;
    }
    every_open_matches_under_bpftrace("every-open-bpf", false);
}

/// The same inside a PID namespace (`unshare -fp --mount-proc`, as in a container): every
/// event, io_uring's completions included (they may run in an io-wq worker), carries the ids
/// the program sees of itself there.
#[test]
fn every_open_matches_its_own_ground_truth_under_bpftrace_in_a_pid_namespace() {
    if !bpftrace_ready("every_open_matches_its_own_ground_truth_under_bpftrace_in_a_pid_namespace")
    {
        return;
    }
    every_open_matches_under_bpftrace("every-open-bpf-ns", true);
}

fn every_open_matches_under_bpftrace(tag: &str, pid_namespace: bool) {
    let _lock = tracer_lock();
    let s = Scratch::new(tag);
    let exe = build_c(&s.0, "every_open", "cc", &[]);
    let top = fresh_dir(&s, tag);
    let _ = std::fs::remove_dir_all(&top);
    let records_file = s.path("records");
    let mut c = if pid_namespace {
        let mut c = Command::new("unshare");
        c.args(["-fp", "--mount-proc"]).arg(bin("trace-gen"));
        c.env_remove("BPFTRACE_PATH");
        c
    } else {
        trace_gen()
    };
    c.args(["-B", "-c"])
        .arg(format!("'{}' '{top}' > '{records_file}'", exe.display()));
    let (status, raw, err) = run_with_limit(c, LIMIT);
    let _ = std::fs::remove_dir_all(&top);
    assert!(status.success(), "every_open under trace-gen: {err}");
    let records = ground_truth(&std::fs::read(&records_file).unwrap());
    assert!(records.len() >= 20, "{records:?}\n{err}");
    let events = detailed(&raw);
    let mut wrong = Vec::new();
    for r in &records {
        let path = r.path.clone().unwrap_or_default();
        let same: Vec<&Detailed> = events
            .iter()
            .filter(|e| e.tid == r.tid && e.pid == r.pid && e.path == path && e.ret == r.ret)
            .filter(|e| e.via.map(|v| v.name()) == Some(r.how.as_str()))
            .filter(|e| e.flags == Some(r.flags))
            .collect();
        if same.len() != 1 {
            wrong.push(format!("{}: {} events match {r:?}", r.case, same.len()));
            continue;
        }
        let e = same[0];
        let mode = (r.flags & CAN_CREATE != 0).then_some(r.mode as u32);
        let resolve = r
            .call
            .to_lowercase()
            .contains("openat2")
            .then_some(r.resolve);
        let fault = r
            .fault
            .as_ref()
            .map(|f| u64::from_str_radix(&f[2..], 16).unwrap());
        if (e.mode, e.resolve, e.fault, &e.resolved) != (mode, resolve, fault, &r.resolved) {
            wrong.push(format!(
                "{}: traced mode {:?} resolve {:?} fault {:?} resolved {:?}; the program saw mode \
                 {mode:?} resolve {resolve:?} fault {fault:?} resolved {:?}",
                r.case,
                e.mode,
                e.resolve,
                e.fault,
                e.resolved.as_deref().map(escaped),
                r.resolved.as_deref().map(escaped)
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} records differ:\n{}\nstderr: {err}",
        wrong.len(),
        records.len(),
        wrong.join("\n")
    );
}
