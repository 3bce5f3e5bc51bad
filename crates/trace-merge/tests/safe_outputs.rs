//! Outputs that are safe for what receives them: `--heatmap` never destroys a file (an input,
//! someone else's file, an interrupted run), CSV cells cannot run as spreadsheet formulas,
//! and auxiliary inputs (`--passwd`) are bounded.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{bin, options_data, trace_merge, TempDir};

/// Waits for `child` at most `secs` seconds; kills it and fails past that.
fn wait_bounded(child: &mut Child, secs: u64) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("trace-merge did not end within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The names in `dir`, sorted.
fn listing(dir: &TempDir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A small trace, copied into `dir` as `name`.
fn trace_in(dir: &TempDir, name: &str) -> std::path::PathBuf {
    let path = dir.path(name);
    std::fs::copy(options_data("small.trace"), &path).unwrap();
    path
}

/// `--heatmap app.trace` (the .svg name forgotten) while stdin is a pipe nobody writes to:
/// refused at once, in one line, and the trace is untouched.
#[test]
fn heatmap_over_an_existing_trace_is_refused_before_reading_stdin() {
    let dir = TempDir::new("heatmap-forgotten-name");
    let trace = trace_in(&dir, "app.trace");
    let before = std::fs::read(&trace).unwrap();
    let mut child = Command::new(bin())
        .arg("--heatmap")
        .arg(&trace)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // stdin stays open: the refusal must not wait for it.
    let stdin = child.stdin.take();
    let status = wait_bounded(&mut child, 20);
    drop(stdin);
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--heatmap") && err.contains("not an SVG heat map") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read(&trace).unwrap(), before);
    assert_eq!(listing(&dir), ["app.trace"]);
}

/// The output may not be one of the inputs, by any name (the same name, a hard link, a
/// symlink, stdin redirected from it), even with --force.
#[test]
fn heatmap_over_an_input_is_refused_by_identity() {
    let dir = TempDir::new("heatmap-input");
    let trace = trace_in(&dir, "x.trace");
    let before = std::fs::read(&trace).unwrap();
    std::fs::hard_link(&trace, dir.path("hard.svg")).unwrap();
    std::os::unix::fs::symlink(&trace, dir.path("soft.svg")).unwrap();
    for (out, force) in [
        ("x.trace", false),
        ("x.trace", true),
        ("hard.svg", true),
        ("soft.svg", true),
    ] {
        let mut cmd = trace_merge();
        cmd.arg("--heatmap").arg(dir.path(out)).arg(&trace);
        if force {
            cmd.arg("--force");
        }
        let run = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{out}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("is also an input"), "{err}");
    }
    // stdin redirected from the file named as the output.
    let run = Command::new(bin())
        .arg("--heatmap")
        .arg(dir.path("hard.svg"))
        .arg("--force")
        .stdin(std::fs::File::open(&trace).unwrap())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(std::fs::read(&trace).unwrap(), before);
    assert_eq!(listing(&dir), ["hard.svg", "soft.svg", "x.trace"]);
}

/// An existing file that is not a heat map is refused; --force replaces it; a heat map is
/// replaced without --force.
#[test]
fn heatmap_replaces_only_its_own_kind_of_file_unless_forced() {
    let dir = TempDir::new("heatmap-foreign");
    let trace = trace_in(&dir, "app.trace");
    let notes = dir.path("notes.svg");
    // An SVG, but not a heat map: refused too.
    std::fs::write(&notes, "<?xml version=\"1.0\"?>\n<svg>my drawing</svg>\n").unwrap();
    let run = trace_merge()
        .arg("--heatmap")
        .arg(&notes)
        .arg(&trace)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&notes).unwrap(),
        "<?xml version=\"1.0\"?>\n<svg>my drawing</svg>\n"
    );
    let map = dir.path("map.svg");
    for args in [&["--force"][..], &[], &[]] {
        let run = trace_merge()
            .arg("--heatmap")
            .arg(&map)
            .args(args)
            .arg(&trace)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let run = trace_merge()
        .arg("--heatmap")
        .arg(&notes)
        .arg("--force")
        .arg(&trace)
        .output()
        .unwrap();
    assert!(run.status.success());
    assert!(std::fs::read_to_string(&notes)
        .unwrap()
        .contains("Latency heat map"));
    assert_eq!(listing(&dir), ["app.trace", "map.svg", "notes.svg"]);
}

/// A run interrupted while it reads (SIGTERM, or Ctrl-C twice on a pipe) leaves the old heat
/// map byte for byte, and no temporary file.
#[test]
fn interrupted_heatmap_leaves_the_old_file_intact() {
    let dir = TempDir::new("heatmap-interrupted");
    let trace = trace_in(&dir, "app.trace");
    let map = dir.path("map.svg");
    let run = trace_merge()
        .arg("--heatmap")
        .arg(&map)
        .arg(&trace)
        .output()
        .unwrap();
    assert!(run.status.success());
    let before = std::fs::read(&map).unwrap();
    let lines = std::fs::read(&trace).unwrap();
    for signals in [&["TERM"][..], &["INT", "INT"]] {
        let mut child = Command::new(bin())
            .arg("--heatmap")
            .arg(&map)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&lines).unwrap();
        stdin.flush().unwrap();
        // Midway: some lines read, stdin still open.
        std::thread::sleep(Duration::from_millis(300));
        for sig in signals {
            Command::new("kill")
                .arg(format!("-{sig}"))
                .arg(child.id().to_string())
                .status()
                .unwrap();
            std::thread::sleep(Duration::from_millis(100));
        }
        let status = wait_bounded(&mut child, 20);
        drop(stdin);
        assert!(!status.success(), "{signals:?}: {status:?}");
        assert_eq!(std::fs::read(&map).unwrap(), before, "{signals:?}");
        assert_eq!(listing(&dir), ["app.trace", "map.svg"], "{signals:?}");
    }
}
