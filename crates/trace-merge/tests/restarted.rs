//! Restarted opens: a signal that interrupts a blocking open makes the system call return
//! -ERESTARTSYS (-512) or one of the other restart codes (-513, -514, -516) to the tracer; the
//! kernel restarts the call, or the program sees EINTR. Such an open is not a failure: every
//! format shows it as restarted (text `=> RESTARTED ERESTARTSYS`, JSON `"restarted": true`),
//! `-x` and `--ok` leave it out, and `--summary` counts it apart from the failures.
//!
//! tests/data/merge/restarted.trace: pid 10 (`fifo`) opens /tmp/fifo five times: -512, -513,
//! -514, -516, then FD 3; pid 11 (`cat`) fails twice: /missing ENOENT, /tmp/fifo EINTR (a
//! real failure: the program saw it).

use crate::common::{data, trace_merge};

fn run(args: &[&str]) -> String {
    let out = trace_merge()
        .arg("-N")
        .args(args)
        .arg(data("restarted.trace"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn text_shows_restarted_opens_by_name_not_as_errors() {
    assert_eq!(
        run(&[]),
        "OPEN 0 10 /tmp/fifo => RESTARTED ERESTARTSYS [1.00 us]\n\
         OPEN 0 10 /tmp/fifo => RESTARTED ERESTARTNOINTR [1.00 us]\n\
         OPEN 0 10 /tmp/fifo => RESTARTED ERESTARTNOHAND [1.00 us]\n\
         OPEN 0 10 /tmp/fifo => RESTARTED ERESTART_RESTARTBLOCK [1.00 us]\n\
         OPEN 0 10 /tmp/fifo => FD 3 [1.00 us]\n\
         OPEN 0 11 /missing => ERROR -2 [1.00 us]\n\
         OPEN 0 11 /tmp/fifo => ERROR -4 [1.00 us]\n"
    );
}

#[test]
fn failed_and_ok_filters_leave_restarted_opens_out() {
    assert_eq!(
        run(&["-x"]),
        "OPEN 0 11 /missing => ERROR -2 [1.00 us]\n\
         OPEN 0 11 /tmp/fifo => ERROR -4 [1.00 us]\n"
    );
    assert_eq!(run(&["--ok"]), "OPEN 0 10 /tmp/fifo => FD 3 [1.00 us]\n");
}

#[test]
fn summary_counts_restarted_opens_apart_from_failures() {
    let text = run(&["--summary"]);
    assert!(
        text.starts_with("opens: 7  failed: 2 (28.5%)  restarted: 4  unfinished: 0  lost: 0\n"),
        "{text}"
    );
    let errnos = text.split("failures by errno:").nth(1).unwrap();
    assert!(
        errnos.contains("ENOENT") && errnos.contains("EINTR"),
        "{text}"
    );
    assert!(!errnos.contains("ERESTART"), "{text}");
}

#[test]
fn json_csv_and_columns_carry_the_restart() {
    let json = run(&["--format", "json"]);
    let rows: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let restarted: Vec<(i64, &str)> = rows
        .iter()
        .filter(|r| r["restarted"] == true)
        .map(|r| (r["ret"].as_i64().unwrap(), r["errno"].as_str().unwrap()))
        .collect();
    assert_eq!(
        restarted,
        [
            (-512, "ERESTARTSYS"),
            (-513, "ERESTARTNOINTR"),
            (-514, "ERESTARTNOHAND"),
            (-516, "ERESTART_RESTARTBLOCK")
        ]
    );
    assert!(rows
        .iter()
        .filter(|r| r["restarted"] == false)
        .all(|r| r["ret"].as_i64().unwrap() > -512));
    let csv = run(&["--format", "csv"]);
    assert!(
        csv.lines().nth(1).unwrap().contains(",-512,,ERESTARTSYS,"),
        "{csv}"
    );
    let results = run(&["-o", "result", "--no-header"]);
    assert_eq!(
        results.lines().next().map(str::trim_end),
        Some("RESTARTED ERESTARTSYS")
    );
}
