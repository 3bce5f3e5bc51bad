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

/// Names a spreadsheet would run as formulas (OWASP's examples, and the leading TAB and CR).
const FORMULA_NAMES: [&str; 7] = [
    "=HYPERLINK(\"http://x\")",
    "+cmd|calc",
    "-2+3+cmd",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "=1,2",
];

/// A trace whose paths, process names, user name and host are all [`FORMULA_NAMES`], every
/// open failing (a negative `ret`, an errno) or not; with its passwd file.
fn formula_trace(dir: &TempDir) -> (std::path::PathBuf, std::path::PathBuf) {
    let quote = |s: &str| {
        let mut q = String::from("\"");
        for c in s.chars() {
            match c {
                '\t' => q.push_str("\\t"),
                '\r' => q.push_str("\\r"),
                '"' => q.push_str("\\\""),
                '\\' => q.push_str("\\\\"),
                c => q.push(c),
            }
        }
        q.push('"');
        q
    };
    let mut trace = String::from("# trace-format: 1\n# host: @host\n");
    for (i, name) in FORMULA_NAMES.iter().enumerate() {
        let pid = 100 + i;
        let ts = 1000 + i * 100;
        let ret = if i % 2 == 0 { -2 } else { 3 };
        trace.push_str(&format!(
            "=> uid: 1000 pid: {pid} tid: {pid} comm: {} open: {} {ts}\n<= uid: 1000 pid: {pid} tid: {pid} ret: {ret} {}\n",
            quote(name),
            quote(name),
            ts + 50
        ));
    }
    let path = dir.path("formulas.trace");
    std::fs::write(&path, trace).unwrap();
    let passwd = dir.path("passwd");
    std::fs::write(
        &passwd,
        "-=cmd:x:1000:1000::/:/bin/sh\n=cmd:x:1000:1000::/:/bin/sh\n",
    )
    .unwrap();
    (path, passwd)
}

/// Every cell of a CSV file as Python's `csv` module reads it.
fn python_csv_cells(csv: &std::path::Path) -> Vec<Vec<String>> {
    let script = "import csv, json, sys\n\
                  with open(sys.argv[1], newline='', encoding='utf-8') as f:\n\
                  \x20   json.dump(list(csv.reader(f)), sys.stdout)\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(csv)
        .output()
        .expect("python3 (installed by scripts/install-deps.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn is_number(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    !digits.is_empty()
        && digits
            .split('.')
            .all(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Hostile names in CSV, read back by Python: no cell starts with a formula character unless
/// it is a number; the neutralised cells are the names with a `'` in front; `--csv-raw` gives
/// the names exactly.
#[test]
fn csv_cells_never_start_a_formula_unless_raw_is_asked_for() {
    let dir = TempDir::new("csv-formulas");
    let (trace, passwd) = formula_trace(&dir);
    let all_columns =
        "time,user,uid,pid,tid,comm,path,result,ret,fd,errno,duration,duration_ns,host";
    for (columns, raw) in [
        (None, false),
        (Some(all_columns), false),
        (None, true),
        (Some(all_columns), true),
    ] {
        let csv = dir.path("opens.csv");
        let mut cmd = trace_merge();
        cmd.args(["--format", "csv", "--passwd"]).arg(&passwd);
        if let Some(list) = columns {
            cmd.args(["-o", list]);
        }
        if raw {
            cmd.arg("--csv-raw");
        }
        let out = cmd.arg(&trace).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&csv, &out.stdout).unwrap();
        let rows = python_csv_cells(&csv);
        let header = &rows[0];
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(rows.len(), 1 + FORMULA_NAMES.len());
        let mut negative_numbers = 0;
        for (row, name) in rows[1..].iter().zip(FORMULA_NAMES) {
            let expected = |cell: &str| {
                if raw {
                    cell.to_owned()
                } else {
                    format!("'{cell}")
                }
            };
            assert_eq!(row[col("path")], expected(name), "{row:?}");
            assert_eq!(row[col("comm")], expected(name), "{row:?}");
            assert_eq!(row[col("user")], expected("=cmd"), "{row:?}");
            if columns.is_some() {
                assert_eq!(row[col("host")], expected("@host"), "{row:?}");
            }
            for cell in row {
                if cell.starts_with(['-']) && is_number(cell) {
                    negative_numbers += 1;
                } else if !raw {
                    assert!(
                        !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                        "cell {cell:?} in {row:?}"
                    );
                }
            }
        }
        // The failed opens' ret stays a number.
        assert!(negative_numbers >= FORMULA_NAMES.len() / 2, "{rows:?}");
    }
}

/// The peak resident memory of a finished child, in KiB (`VmHWM` read just before it is
/// reaped, through `/proc/PID/status`).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `--passwd /dev/zero` (no end, no newline) and a passwd file past the cap end with one line
/// and exit status 2, in bounded memory.
#[test]
fn passwd_is_bounded() {
    let dir = TempDir::new("passwd-bounded");
    let big = dir.path("big-passwd");
    // 17 MiB of short, valid lines: past the size cap, though no line is long.
    let line = "user:x:1000:1000::/home/user:/bin/sh\n";
    let long = dir.path("long-line-passwd");
    std::fs::write(&long, "x".repeat(100 << 10)).unwrap();
    std::fs::write(&big, line.repeat((17 << 20) / line.len())).unwrap();
    for (passwd, what) in [
        ("/dev/zero", "larger than 16 MiB"),
        (big.to_str().unwrap(), "larger than 16 MiB"),
    ] {
        let mut child = Command::new(bin())
            .args(["--passwd", passwd])
            .arg(options_data("small.trace"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Sample the child's memory while it runs (a zombie has no memory figures left).
        let mut peak = 0;
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(kib) = peak_rss_kib(child.id()) {
                peak = peak.max(kib);
            }
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline || peak > 64 << 10 {
                let _ = child.kill();
                let _ = child.wait();
                panic!("--passwd {passwd}: still running after 20 s or past 64 MiB ({peak} KiB)");
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(2), "{passwd}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("--passwd") && err.contains(what), "{err}");
        eprintln!("--passwd {passwd}: peak RSS {peak} KiB");
        assert!(peak < 64 << 10, "--passwd {passwd}: peak RSS {peak} KiB");
    }
}
