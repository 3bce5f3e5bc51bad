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
