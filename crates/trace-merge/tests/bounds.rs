//! Resource bounds: a trace of 10 million distinct threads whose opens
//! never return, streamed into trace-merge's stdin by the test (never a file), must keep
//! trace-merge's memory bounded by `--max-pending` (default 65,536), not by the trace, and
//! every eviction must be counted in the report.
//!
//! Held in memory, 10 million pending opens would take at least 10 M x ~40 bytes of path,
//! key and timestamps, i.e. hundreds of MB; the bound allows only the default 65,536 of them.
//! Peak RSS is read from `/proc/PID/status` (`VmHWM`) after the last line has been written and
//! consumed, while trace-merge waits for more input, so the figure covers the whole trace.
//! `TRACE_MERGE_BOUND_IDS` changes the number of threads (e.g. for a quick local run).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Peak resident memory of `pid` in KiB.
fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/PID/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Appends `n` in decimal (the generator writes 10 M lines: no `format!` per line).
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

#[test]
fn ten_million_threads_that_never_return_stay_within_max_pending() {
    let ids: u64 = std::env::var("TRACE_MERGE_BOUND_IDS")
        .ok()
        .map(|v| v.parse().expect("TRACE_MERGE_BOUND_IDS"))
        .unwrap_or(10_000_000);
    const MAX_PENDING: u64 = 65_536;
    assert!(ids > 10 * MAX_PENDING, "the trace must dwarf the bound");
    let mut child = Command::new(crate::common::bin())
        .arg("-N")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    // Nothing completes, so nothing is printed until the end; drain stdout anyway.
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).unwrap();
        v
    });
    let err_thread = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map(|l| l.unwrap())
            .collect::<Vec<_>>()
    });
    let mut buf = Vec::with_capacity(1 << 20);
    for id in 1..=ids {
        // `=> uid: 0 pid: ID tid: ID open: /data/ID TS`: distinct thread, distinct path.
        buf.extend_from_slice(b"=> uid: 0 pid: ");
        push_u64(&mut buf, id);
        buf.extend_from_slice(b" tid: ");
        push_u64(&mut buf, id);
        buf.extend_from_slice(b" open: /data/");
        push_u64(&mut buf, id);
        buf.push(b' ');
        push_u64(&mut buf, 1_000_000_000 + id * 100);
        buf.push(b'\n');
        if buf.len() >= (1 << 20) - 128 {
            stdin.write_all(&buf).unwrap();
            buf.clear();
        }
    }
    stdin.write_all(&buf).unwrap();
    stdin.flush().unwrap();
    // All lines are in the pipe; once the pipe is drained trace-merge blocks on read and its
    // peak covers the whole trace. Wait until its CPU time stops moving (it is then blocked).
    let cpu = || -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after.split(' ').collect();
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    };
    let mut last = cpu();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let now = cpu();
        if now == last {
            break;
        }
        last = now;
    }
    let peak_kib = vm_hwm_kib(pid);
    drop(stdin);
    let status = child.wait().unwrap();
    let stdout = out_thread.join().unwrap();
    let stderr = err_thread.join().unwrap();
    eprintln!(
        "{ids} threads never returning: peak RSS {} MiB",
        peak_kib / 1024
    );
    assert_eq!(status.code(), Some(0), "{stderr:?}");
    assert!(stdout.is_empty(), "nothing completed, nothing printed");
    assert!(
        peak_kib < 200 * 1024,
        "peak RSS {peak_kib} KiB: memory grew with the trace, not with --max-pending"
    );
    // Every entry is accounted for: evicted beyond the bound, the rest unfinished at the end.
    let expect = [
        format!("trace-merge: summary: 0 opens paired from {ids} lines"),
        format!("trace-merge:   {MAX_PENDING} opens never completed (--unfinished prints them)"),
        format!(
            "trace-merge:   {} pending opens evicted: more than --max-pending={MAX_PENDING} in flight",
            ids - MAX_PENDING
        ),
    ];
    assert_eq!(stderr, expect);
}
