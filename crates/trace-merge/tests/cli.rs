//! trace-merge's command-line behaviour, one section per concern.
//! Fixtures live in the repository's tests/data/merge/; large or random inputs are generated
//! here, deterministically.

use crate::common::{bin, data, generated_trace, in_ci, repo_data, trace_merge, Rng, TempDir};
use predicates::prelude::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command as StdCommand, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const SEED_LINE: &str = "OPEN root 3584 /tmp/not_exists => ERROR -2 [10.17 us]\n";

// ---- Standard text output (the seed's bytes) ----------------------------------------------

#[test]
fn seed_example_is_printed_as_the_seed_does() {
    trace_merge()
        .arg(data("seed-example.trace"))
        .assert()
        .success()
        .stdout(SEED_LINE)
        .stderr("");
}

#[test]
fn stdin_when_no_file_and_dash() {
    let input = std::fs::read(data("seed-example.trace")).unwrap();
    trace_merge()
        .write_stdin(input.clone())
        .assert()
        .success()
        .stdout(SEED_LINE);
    trace_merge()
        .arg("-")
        .write_stdin(input)
        .assert()
        .success()
        .stdout(SEED_LINE);
}

/// The byte-identical check against the Python baseline on a 200,000-line corpus.
#[test]
fn byte_identical_to_seed_baseline_on_generated_corpus() {
    let python = StdCommand::new("python3").arg("--version").output();
    if python.is_err() {
        assert!(
            !in_ci(),
            "python3 is required in CI for the seed baseline comparison"
        );
        eprintln!("SKIPPED: python3 not found (needed for the seed baseline comparison)");
        return;
    }
    let gen = repo_data("bench/gen_trace.py");
    let seed = repo_data("bench/seed_merge.py");
    assert!(
        gen.exists() && seed.exists(),
        "missing {} or {}",
        gen.display(),
        seed.display()
    );
    let dir = TempDir::new("seed");
    let corpus = dir.path("corpus.trace");
    let out = StdCommand::new("python3")
        .arg(&gen)
        .arg("200000")
        .output()
        .unwrap();
    assert!(out.status.success(), "gen_trace.py failed");
    std::fs::write(&corpus, &out.stdout).unwrap();
    assert_eq!(out.stdout.iter().filter(|&&b| b == b'\n').count(), 200_000);

    let expected = StdCommand::new("python3")
        .arg(&seed)
        .arg(&corpus)
        .output()
        .unwrap();
    assert!(expected.status.success(), "seed_merge.py failed");
    assert!(expected.stdout.len() > 1_000_000);

    let got = trace_merge().arg(&corpus).output().unwrap();
    assert!(got.status.success());
    if got.stdout != expected.stdout {
        let first_diff = got
            .stdout
            .split(|&b| b == b'\n')
            .zip(expected.stdout.split(|&b| b == b'\n'))
            .position(|(a, b)| a != b);
        panic!("output differs from seed_merge.py (first differing line index: {first_diff:?})");
    }
    // The same through a pipe.
    let piped = trace_merge().pipe_stdin(&corpus).unwrap().output().unwrap();
    assert!(
        piped.stdout == expected.stdout,
        "piped output differs from seed_merge.py"
    );
}

// ---- Pairing per thread ---------------------------------------------------------------

#[test]
fn multithreaded_process_pairs_per_thread() {
    // Per-pid pairing would print one line, `/b => FD 3 [900.00 ns]`.
    trace_merge()
        .arg(data("threads.trace"))
        .assert()
        .success()
        .stdout("OPEN root 100 /a => FD 3 [1.00 us]\nOPEN root 100 /b => ERROR -2 [4.00 us]\n")
        .stderr("");
}

#[test]
fn replaced_entry_is_unfinished_and_return_without_entry_is_counted() {
    let input = "<= uid: 0 pid: 9 ret: 3 5\n=> uid: 0 pid: 6 open: /a 20\n=> uid: 0 pid: 6 open: /b 30\n<= uid: 0 pid: 6 ret: 3 40\n";
    trace_merge()
        .write_stdin(input)
        .assert()
        .success()
        .stdout("OPEN root 6 /b => FD 3 [10.00 ns]\n")
        .stderr(
            predicate::str::contains("1 returns without an entry")
                .and(predicate::str::contains("1 opens never completed")),
        );
}

// ---- Out of order, live ------------------------------------------------------------

#[test]
fn return_before_entry_is_paired() {
    trace_merge()
        .arg(data("reorder.trace"))
        .assert()
        .success()
        .stdout("OPEN root 200 /late => FD 4 [1.50 us]\nOPEN root 300 /other => ERROR -13 [100.00 ns]\n")
        .stderr("");
}

#[test]
fn zero_reorder_window_trusts_input_order() {
    trace_merge()
        .args(["--reorder-window", "0ns"])
        .arg(data("reorder.trace"))
        .assert()
        .success()
        .stdout("OPEN root 300 /other => ERROR -13 [100.00 ns]\n")
        .stderr(
            predicate::str::contains("1 returns without an entry")
                .and(predicate::str::contains("1 opens never completed")),
        );
}

#[test]
fn bad_reorder_window_names_the_flag() {
    trace_merge()
        .args(["--reorder-window", "soon"])
        .arg(data("reorder.trace"))
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "trace-merge: --reorder-window `soon`:",
        ));
}

/// Writes one entry and one return into a live pipe and reads the paired line back before
/// closing the input: output must not wait for the end of input or a full buffer.
#[test]
fn live_pipe_prints_before_input_ends() {
    assert_eq!(
        first_line_while_input_open(&[]).expect("no output while the input was still open"),
        SEED_LINE
    );
}

/// The same for JSON Lines, whose printer also gathers records before writing them.
#[test]
fn live_pipe_prints_json_before_input_ends() {
    let line = first_line_while_input_open(&["--format", "json"])
        .expect("no output while the input was still open");
    assert!(
        line.starts_with("{\"ts\":1795664257567614000,") && line.contains("/tmp/not_exists"),
        "{line}"
    );
}

/// trace-merge with `args` on a pipe: one entry and its return written, the first output
/// line read while stdin is still open (None when none came within a generous timeout).
fn first_line_while_input_open(args: &[&str]) -> Option<String> {
    let mut child = StdCommand::new(bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        tx.send(line).unwrap();
    });
    stdin
        .write_all(b"=> uid: 0 pid: 3584 open: /tmp/not_exists 1795664257567614000\n")
        .unwrap();
    stdin.flush().unwrap();
    stdin
        .write_all(b"<= uid: 0 pid: 3584 ret: -2 1795664257567624170\n")
        .unwrap();
    stdin.flush().unwrap();
    // A generous timeout: this checks liveness (the line comes while stdin is still open),
    // not speed.
    let line = rx.recv_timeout(Duration::from_secs(10)).ok();
    drop(stdin);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert!(status.success());
    line
}

// ---- Users ------------------------------------------------------------------------

#[test]
fn system_user_names_with_number_fallback() {
    trace_merge()
        .arg(data("users.trace"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "OPEN root 3 /root/y => FD 5 [100.00 ns]\n",
        ))
        .stdout(predicate::str::contains(
            "OPEN 4242 2 /tmp/x => ERROR -2 [100.00 ns]\n",
        ));
}

#[test]
fn passwd_file_names_users_first_entry_wins() {
    trace_merge()
        .arg("--passwd")
        .arg(data("other-host.passwd"))
        .arg(data("users.trace"))
        .assert()
        .success()
        .stdout(
            "OPEN alice 1 /home/alice/notes => FD 3 [100.00 ns]\n\
             OPEN 4242 2 /tmp/x => ERROR -2 [100.00 ns]\n\
             OPEN toor 3 /root/y => FD 5 [100.00 ns]\n",
        );
}

#[test]
fn numeric_prints_uids() {
    trace_merge()
        .arg("-N")
        .arg(data("users.trace"))
        .assert()
        .success()
        .stdout(
            "OPEN 1000 1 /home/alice/notes => FD 3 [100.00 ns]\n\
             OPEN 4242 2 /tmp/x => ERROR -2 [100.00 ns]\n\
             OPEN 0 3 /root/y => FD 5 [100.00 ns]\n",
        );
}

#[test]
fn missing_passwd_file_is_an_error_naming_the_flag() {
    trace_merge()
        .args(["--passwd", "/nonexistent/passwd"])
        .arg(data("users.trace"))
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "trace-merge: --passwd /nonexistent/passwd:",
        ));
}

// ---- Streaming and bounded --------------------------------------------------------

#[test]
fn max_pending_evicts_oldest_and_counts() {
    let mut input = String::new();
    for pid in 0..10 {
        input.push_str(&format!(
            "=> uid: 0 pid: {pid} open: /p{pid} {}\n",
            100 + pid
        ));
    }
    for pid in 0..10 {
        input.push_str(&format!("<= uid: 0 pid: {pid} ret: 3 {}\n", 200 + pid));
    }
    let expected: String = (6..10)
        .map(|pid| format!("OPEN root {pid} /p{pid} => FD 3 [100.00 ns]\n"))
        .collect();
    trace_merge()
        .args(["--max-pending", "4", "--reorder-window", "0s"])
        .write_stdin(input.clone())
        .assert()
        .success()
        .stdout(expected)
        .stderr(
            predicate::str::contains("6 pending opens evicted: more than --max-pending=4")
                .and(predicate::str::contains("6 returns without an entry")),
        );
    // With room for all, nothing is evicted.
    trace_merge()
        .args(["--max-pending", "10"])
        .write_stdin(input)
        .assert()
        .success()
        .stderr("");
    trace_merge()
        .args(["--max-pending", "0"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--max-pending must be at least 1"));
}

#[test]
fn large_generated_input_streams_completely() {
    let dir = TempDir::new("stream");
    let path = dir.path("big.trace");
    std::fs::write(&path, generated_trace(150_000)).unwrap();
    let out = trace_merge().arg(&path).output().unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = out.stdout.iter().filter(|&&b| b == b'\n').count();
    assert!(lines >= 150_000, "{lines} lines");
}

// ---- Accounting ---------------------------------------------------------------------

#[test]
fn unfinished_is_counted_and_printed_on_request() {
    trace_merge()
        .arg(data("unfinished.trace"))
        .assert()
        .success()
        .stdout("OPEN root 6 /b => FD 3 [10.00 ns]\n")
        .stderr(predicate::str::contains(
            "2 opens never completed (--unfinished prints them)",
        ));
    trace_merge()
        .arg("--unfinished")
        .arg(data("unfinished.trace"))
        .assert()
        .success()
        .stdout(
            "OPEN root 6 /b => FD 3 [10.00 ns]\n\
             OPEN root 5 /never => UNFINISHED\n\
             OPEN root 6 /a => UNFINISHED\n",
        );
}

#[test]
fn lost_events_say_the_output_is_incomplete() {
    trace_merge()
        .arg(data("lost.trace"))
        .assert()
        .success()
        .stdout("OPEN root 7 /etc/hosts => FD 3 [2.50 us]\n")
        .stderr(
            predicate::str::contains("17 lost events").and(predicate::str::contains("INCOMPLETE")),
        );
}

#[test]
fn clean_input_gives_empty_stderr() {
    trace_merge()
        .arg(data("threads.trace"))
        .assert()
        .success()
        .stderr("");
}

// ---- Bad input ----------------------------------------------------------------------

#[test]
fn malformed_lines_first_five_shown_then_counted() {
    let f = data("malformed.trace");
    let name = f.display().to_string();
    let out = trace_merge().arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"OPEN root 1 /ok => FD 3 [100.00 ns]\n");
    let err = String::from_utf8(out.stderr).unwrap();
    let shown: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with(&format!("trace-merge: {name}:")))
        .collect();
    assert_eq!(shown.len(), 5, "{err}");
    assert!(
        shown[0].ends_with(":2: not a trace line (expected `=> `, `<= `, `#` or an empty line)"),
        "{err}"
    );
    assert!(
        shown[1].ends_with(":3: missing timestamp at end of line (truncated line?)"),
        "{err}"
    );
    assert!(
        shown[2].ends_with(":4: invalid number in `pid` field"),
        "{err}"
    );
    assert!(
        err.contains("7 malformed lines skipped (first 5 shown above)"),
        "{err}"
    );
}

#[test]
fn strict_stops_at_first_malformed_line() {
    let f = data("malformed.trace");
    trace_merge()
        .arg("--strict")
        .arg(&f)
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!(
            "trace-merge: {}:2: not a trace line (expected `=> `, `<= `, `#` or an empty line) (--strict)\n",
            f.display()
        ));
}

#[test]
fn crlf_input_is_read_like_lf() {
    trace_merge()
        .arg(data("crlf.trace"))
        .assert()
        .success()
        .stdout(SEED_LINE)
        .stderr("");
}

#[test]
fn last_line_without_newline_is_read() {
    trace_merge()
        .write_stdin("=> uid: 0 pid: 3584 open: /tmp/not_exists 1795664257567614000\n<= uid: 0 pid: 3584 ret: -2 1795664257567624170")
        .assert()
        .success()
        .stdout(SEED_LINE);
}

#[test]
fn one_mebibyte_path_is_kept_whole() {
    let path = format!("/{}", "d/".repeat(600 * 1024)); // 1.2 MB
    let input = format!("=> uid: 0 pid: 1 open: {path} 100\n<= uid: 0 pid: 1 ret: 3 250\n");
    assert!(input.len() > 1 << 20);
    trace_merge()
        .write_stdin(input)
        .assert()
        .success()
        .stdout(format!("OPEN root 1 {path} => FD 3 [150.00 ns]\n"))
        .stderr("");
}

#[test]
fn random_binary_garbage_is_counted_not_fatal() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut input: Vec<u8> = (0..1_000_000).map(|_| rng.next() as u8).collect();
    input.extend_from_slice(b"\n=> uid: 0 pid: 3584 open: /tmp/not_exists 1795664257567614000\n");
    input.extend_from_slice(b"<= uid: 0 pid: 3584 ret: -2 1795664257567624170\n");
    let out = trace_merge().write_stdin(input).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.ends_with(SEED_LINE.as_bytes()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("malformed lines skipped (first 5 shown above)"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unreadable_inputs_exit_2_but_others_are_processed() {
    let dir = TempDir::new("unreadable");
    trace_merge()
        .arg(dir.path("missing.trace"))
        .arg(&dir.0)
        .arg(data("seed-example.trace"))
        .assert()
        .code(2)
        .stdout(SEED_LINE)
        .stderr(
            predicate::str::contains("missing.trace: cannot open: No such file or directory")
                .and(predicate::str::contains(": is a directory")),
        );
}

#[test]
fn fifo_input_is_read() {
    let dir = TempDir::new("fifo");
    let fifo = dir.path("trace.fifo");
    let status = StdCommand::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(writer_path)
            .unwrap();
        f.write_all(&std::fs::read(data("seed-example.trace")).unwrap())
            .unwrap();
    });
    trace_merge()
        .arg(&fifo)
        .timeout(Duration::from_secs(30))
        .assert()
        .success()
        .stdout(SEED_LINE);
    writer.join().unwrap();
}

#[test]
fn non_utf8_bytes_and_controls_are_escaped() {
    // Latin-1 bytes (not UTF-8) and a lone 0x9b (the 8-bit CSI) show as \xHH; valid UTF-8
    // (the UTF-8 e-acute) is kept.
    let input = b"=> uid: 0 pid: 1 open: /tmp/r\xe9sum\xe9 \x1b[2J\xc2\x9b\xe2\x80\xae\x9b2J\xc3\xa9 10\n<= uid: 0 pid: 1 ret: 3 20\n";
    trace_merge()
        .write_stdin(&input[..])
        .assert()
        .success()
        .stdout(
            &b"OPEN root 1 /tmp/r\\xe9sum\\xe9 \\x1b[2J\\u{009b}\\u{202e}\\x9b2J\xc3\xa9 => FD 3 [10.00 ns]\n"[..],
        );
}

/// A real capture from Oracle's DTrace for Linux (`%S` quoting): every open pairs and the
/// hostile names come out escaped.
#[test]
fn dtrace_linux_capture_is_read_exactly() {
    let out = trace_merge()
        .arg(repo_data("traces/dtrace-linux-names.trace"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&[u8]> = out
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 109, "every open paired");
    let expected: [&[u8]; 8] = [
        b"OPEN root 29635 /tmp/not_exists => ERROR -2 [",
        b"OPEN root 29636 /tmp/weird/a b => FD 3 [51.84 us]",
        b"OPEN root 29636 /tmp/weird/new\\nline => FD 0 [18.89 us]",
        b"OPEN root 29636 /tmp/weird/back\\\\slash => FD 0 [17.44 us]",
        b"OPEN root 29636 /tmp/weird/esc\\x1b[31mred => FD 0 [21.73 us]",
        b"OPEN root 29636 /tmp/weird/quote\"q => FD 0 [17.16 us]",
        "OPEN root 29636 /tmp/weird/café => FD 0 [15.80 us]".as_bytes(),
        b"OPEN root 29636 /tmp/weird/bad\\xff => FD 0 [15.33 us]",
    ];
    for want in expected {
        assert!(
            lines.iter().any(|l| l.starts_with(want)),
            "missing line {:?}",
            String::from_utf8_lossy(want)
        );
    }
    assert!(
        !out.stdout.contains(&0x1b),
        "no raw ESC reaches the terminal"
    );
}

// ---- Unix manners -----------------------------------------------------------------

/// `trace-merge big | head -1`: the reader goes away, trace-merge exits 0 silently.
#[test]
fn closed_output_pipe_exits_quietly_with_zero() {
    let dir = TempDir::new("head");
    let path = dir.path("big.trace");
    std::fs::write(&path, generated_trace(200_000)).unwrap();
    let mut child = StdCommand::new(bin())
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    let n = stdout.read(&mut first).unwrap();
    assert!(n > 0 && first.starts_with(b"OPEN root "));
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn help_documents_exit_codes_and_escaping() {
    trace_merge().arg("--help").assert().success().stdout(
        predicate::str::contains("Exit status:")
            .and(predicate::str::contains("--max-pending"))
            .and(predicate::str::contains("\\xHH"))
            .and(predicate::str::contains("Examples:")),
    );
}
