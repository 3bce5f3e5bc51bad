//! Hostile input: every fixture in tests/data/hostile/ run through the
//! trace-merge binary, each with its expected output and its expected end-of-run report, so
//! that nothing panics, nothing valid is lost, and every skipped line is counted. Cases that
//! cannot be files in git (a 10 MB line, a directory, a FIFO, odd input file names) are made
//! at test time.
//!
//! Every fixture also goes through every output format (columns, JSON, CSV, summaries) with
//! `--max-pending 2 --reorder-window 0`: no panic, exit 0, the same counts.

use crate::common::trace_merge;
use std::io::Write;
use std::process::Stdio;

use crate::common::{hostile_data as hostile, TempDir};

/// The counts of the stderr report (all zero when the report is absent: a clean run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    /// `N opens paired from L lines`: (N, L).
    paired: u64,
    lines: u64,
    malformed: u64,
    no_entry: u64,
    unfinished: u64,
    evicted: u64,
    lost: u64,
}

/// Reads the report back. Panics on a report line it does not know, so a new kind of
/// message cannot slip by unasserted.
fn report(stderr: &str) -> Counts {
    let mut c = Counts::default();
    let num = |s: &str| -> u64 { s.trim().parse().unwrap_or_else(|_| panic!("count {s:?}")) };
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix("trace-merge: ") else {
            panic!("unprefixed stderr line {line:?}")
        };
        if let Some(s) = rest.strip_prefix("summary: ") {
            let (paired, lines) = s
                .strip_suffix(" lines")
                .and_then(|s| s.split_once(" opens paired from "))
                .unwrap_or_else(|| panic!("summary line {line:?}"));
            (c.paired, c.lines) = (num(paired), num(lines));
        } else if let Some(s) = rest.trim_start().split_once(" malformed lines skipped") {
            c.malformed = num(s.0);
        } else if let Some(s) = rest.trim_start().split_once(" returns without an entry") {
            c.no_entry = num(s.0);
        } else if let Some(s) = rest.trim_start().split_once(" opens never completed") {
            c.unfinished = num(s.0);
        } else if let Some(s) = rest.trim_start().split_once(" pending opens evicted") {
            c.evicted = num(s.0);
        } else if let Some(s) = rest.strip_prefix("WARNING: the tracer reported ") {
            c.lost = num(s.split_once(' ').expect("lost count").0);
        } else if rest.contains(": ") {
            // `FILE:LINE: reason` or `FILE: is a directory`: checked by the callers.
        } else {
            panic!("unknown report line {line:?}");
        }
    }
    c
}

/// The line numbers of the `FILE:LINE: reason` messages for `file`.
fn shown_bad_lines(stderr: &str, file: &str) -> Vec<u64> {
    let prefix = format!("trace-merge: {file}:");
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|l| l.split_once(": ").and_then(|(n, _)| n.parse().ok()))
        .collect()
}

struct Case {
    file: &'static str,
    /// Exact stdout of `trace-merge -N --unfinished FILE`.
    stdout: &'static [u8],
    /// The report (zero when none is expected).
    counts: Counts,
    /// Lines reported as malformed, in order (at most the first 5 are shown).
    bad: &'static [u64],
}

const fn c(paired: u64, lines: u64, malformed: u64, no_entry: u64, unfinished: u64) -> Counts {
    Counts {
        paired,
        lines,
        malformed,
        no_entry,
        unfinished,
        evicted: 0,
        lost: 0,
    }
}

const CLEAN: Counts = c(0, 0, 0, 0, 0);

const CASES: &[Case] = &[
    Case {
        // Version-2 fields that try to forge others from inside a quoted cgroup or resolved
        // path, a comm that looks like details, and invalid details (counted as malformed).
        // The fields come in a fixed order before `comm:`; a quoted value cannot hold its
        // closing quote: nothing is forged.
        file: "details-forgery.trace",
        stdout: b"OPEN 0 5 /real => FD 3 [1.00 us]\n\
                  OPEN 0 7 /comm-looks-like-flags => FD 3 [100.00 ns]\n\
                  OPEN 0 11 x fault: 0x1 => FD 3 [100.00 ns]\n\
                  OPEN 0 9 /p => UNFINISHED\n",
        counts: c(3, 14, 4, 3, 1),
        bad: &[3, 7, 10, 11],
    },
    Case {
        file: "truncated-lines.trace",
        stdout: b"OPEN 0 5 /ok => FD 3 [1.00 us]\n",
        counts: c(1, 6, 4, 0, 0),
        bad: &[2, 4, 5, 6],
    },
    Case {
        file: "no-newline-at-eof.trace",
        stdout: b"OPEN 0 5 /last => FD 4 [2.00 us]\n",
        counts: CLEAN,
        bad: &[],
    },
    Case {
        // A NUL inside a raw path is kept (and shown escaped); NUL in the syntax is an error.
        file: "nul-bytes.trace",
        stdout: b"OPEN 0 5 /tmp/a\\x00b => FD 3 [1.00 us]\n",
        counts: c(1, 5, 2, 1, 0),
        bad: &[3, 4],
    },
    Case {
        // Bytes that are not UTF-8 show as \xHH; a line of pure garbage is counted.
        file: "invalid-utf8.trace",
        stdout: b"OPEN 0 5 /tmp/r\\xe9sum\\xe9\\xff\\xfe => FD 3 [1.00 us]\n",
        counts: c(1, 3, 1, 0, 0),
        bad: &[3],
    },
    Case {
        // u64::MAX - 1 to u64::MAX is fine (1 ns); one more digit's worth is refused.
        file: "overflow-u64-timestamp.trace",
        stdout: b"OPEN 0 6 /max => FD 3 [1.00 ns]\n",
        counts: c(1, 4, 2, 0, 0),
        bad: &[1, 4],
    },
    Case {
        // i64::MIN and i64::MAX are valid returns; one beyond either is refused, so /a's
        // return is lost and /a stays unfinished.
        file: "overflow-i64-ret.trace",
        stdout: b"OPEN 0 6 /min => ERROR -9223372036854775808 [1.00 us]\n\
                  OPEN 0 7 /max => FD 9223372036854775807 [1.00 us]\n\
                  OPEN 0 5 /a => UNFINISHED\n",
        counts: c(2, 7, 2, 0, 1),
        bad: &[2, 7],
    },
    Case {
        file: "overflow-u32-ids.trace",
        stdout: b"OPEN 4294967295 4294967295 /max => FD 3 [1.00 us]\n",
        counts: c(1, 5, 3, 0, 0),
        bad: &[1, 2, 3],
    },
    Case {
        file: "negative-pids.trace",
        stdout: b"OPEN 0 9 /fine => FD 3 [1.00 us]\n",
        counts: c(1, 6, 4, 0, 0),
        bad: &[1, 2, 3, 4],
    },
    Case {
        // Trace time going backwards between threads is fine; a return stamped before its
        // own thread's entry cannot be its return (negative duration): counted, the entry
        // shown unfinished.
        file: "timestamps-backwards.trace",
        stdout: b"OPEN 0 5 /first => FD 3 [1.00 us]\n\
                  OPEN 0 6 /second => FD 4 [500.00 ns]\n\
                  OPEN 0 7 /ret-before-entry => UNFINISHED\n",
        counts: c(2, 6, 0, 1, 1),
        bad: &[],
    },
    Case {
        file: "duplicate-entries.trace",
        stdout: b"OPEN 0 5 /dup => FD 3 [1.00 us]\nOPEN 0 5 /dup => UNFINISHED\n",
        counts: c(1, 3, 0, 0, 1),
        bad: &[],
    },
    Case {
        file: "duplicate-returns.trace",
        stdout: b"OPEN 0 5 /once => FD 3 [1.00 us]\n",
        counts: c(1, 3, 0, 1, 0),
        bad: &[],
    },
    Case {
        file: "returns-without-entries.trace",
        stdout: b"",
        counts: c(0, 3, 0, 3, 0),
        bad: &[],
    },
    Case {
        file: "pid-reuse.trace",
        stdout:
            b"OPEN 0 100 /before => FD 3 [1.00 us]\nOPEN 1000 100 /after => ERROR -13 [2.00 us]\n",
        counts: CLEAN,
        bad: &[],
    },
    Case {
        // bpftrace's own lines mixed into the event stream: counted, events intact.
        file: "tracer-chatter.trace",
        stdout: b"OPEN 0 5 /a => FD 3 [1.00 us]\nOPEN 0 6 /b => ERROR -2 [1.00 us]\n",
        counts: c(2, 10, 5, 0, 0),
        bad: &[1, 3, 5, 7, 9],
    },
    Case {
        file: "crlf.trace",
        stdout: b"OPEN 0 5 /etc/hosts => FD 3 [1.00 us]\n",
        counts: CLEAN,
        bad: &[],
    },
    Case {
        file: "empty.trace",
        stdout: b"",
        counts: CLEAN,
        bad: &[],
    },
    Case {
        file: "headers-only.trace",
        stdout: b"",
        counts: CLEAN,
        bad: &[],
    },
    Case {
        file: "paths-with-spaces.trace",
        stdout: b"OPEN 0 5 /home/al ice/my file .txt => FD 3 [1.00 us]\n\
                  OPEN 0 6   leading and trailing   => FD 4 [1.00 us]\n",
        counts: CLEAN,
        bad: &[],
    },
    Case {
        // Well-formed quoted form is decoded (also the empty `""`); a lone `"` or an inner
        // `"` is a raw byte of the name.
        file: "quotes.trace",
        stdout: b"OPEN 0 5 /tmp/quoted => FD 3 [1.00 us]\n\
                  OPEN 0 6 /tmp/a\"b => FD 4 [1.00 us]\n\
                  OPEN 0 7 \"unterminated => FD 5 [1.00 us]\n\
                  OPEN 0 8  => FD 6 [1.00 us]\n",
        counts: CLEAN,
        bad: &[],
    },
    Case {
        // A newline in the quoted form survives (shown as \n); printed raw it splits the
        // event into two malformed lines and an orphan return, all counted.
        file: "newline-quoted.trace",
        stdout: b"OPEN 0 5 /tmp/new\\nline => FD 3 [1.00 us]\n",
        counts: c(1, 5, 2, 1, 0),
        bad: &[3, 4],
    },
    Case {
        // Escapes decode to the real bytes, which are then shown escaped, never sent raw; an
        // unknown escape makes the field raw (its backslash shown as \\).
        file: "escape-sequences.trace",
        stdout: b"OPEN 0 5 \\x1b[31mred\\x1b]0;owned\\x07\\u{202e}\\r\\x08 => FD 3 [1.00 us]\n\
                  OPEN 0 6 \"bad \\\\q escape\" => FD 4 [1.00 us]\n",
        counts: CLEAN,
        bad: &[],
    },
    Case {
        file: "octal-hex-unicode.trace",
        // \303\251 and \u00e9 are UTF-8 e-acute, \xe9 one raw byte, \U0001F600 four bytes;
        // the trailing \0s (DTrace's %S buffer) are dropped.
        stdout: b"OPEN 0 5 /\xc3\xa9\\xe9\xc3\xa9\xf0\x9f\x98\x80 => FD 3 [1.00 us]\n",
        counts: CLEAN,
        bad: &[],
    },
    Case {
        // `=> uid:` and ` ret: ` inside a path or comm do not start a new record.
        file: "uid-marker-in-path.trace",
        stdout: b"OPEN 0 5 /tmp/x => uid: 0 pid: 9 open: /y 7 => FD 3 [1.00 us]\n\
                  OPEN 0 6 /p ret: 9 => FD 4 [1.00 us]\n\
                  OPEN 0 7 /z <= uid: 0 pid: 7 ret: 1 => FD 5 [1.00 us]\n",
        counts: CLEAN,
        bad: &[],
    },
    Case {
        file: "lost-header.trace",
        stdout: b"OPEN 0 5 /a => FD 3 [1.00 us]\n",
        counts: Counts {
            lost: 42,
            ..c(1, 4, 0, 0, 0)
        },
        bad: &[],
    },
    Case {
        // A known header with a bad value is malformed; an unknown key and a comment are not.
        file: "bad-headers.trace",
        stdout: b"OPEN 0 5 /a => FD 3 [1.00 us]\n",
        counts: c(1, 7, 3, 0, 0),
        bad: &[1, 2, 3],
    },
    Case {
        file: "whitespace-lines.trace",
        stdout: b"OPEN 0 5 /a => FD 3 [1.00 us]\n",
        counts: c(1, 5, 3, 0, 0),
        bad: &[1, 2, 4],
    },
    Case {
        // A byte-order mark makes the first line unknown; its return is then an orphan.
        file: "utf8-bom.trace",
        stdout: b"",
        counts: c(0, 2, 1, 1, 0),
        bad: &[1],
    },
    Case {
        file: "tabs-not-spaces.trace",
        stdout: b"",
        counts: c(0, 3, 2, 1, 0),
        bad: &[1, 2],
    },
    Case {
        file: "trailing-garbage.trace",
        stdout: b"OPEN 0 6 /b => FD 3 [1.00 us]\n",
        counts: c(1, 5, 3, 0, 0),
        bad: &[1, 2, 4],
    },
    Case {
        file: "raw-controls-in-names.trace",
        stdout: b"OPEN 0 5 /tmp/\\x1b]0;title\\x07\\r\\x08\\x7f => FD 3 [1.00 us]\n\
                  OPEN 0 6 /bidi/\\u{202e}txt.exe\\u{009b} => FD 4 [1.00 us]\n",
        counts: CLEAN,
        bad: &[],
    },
    Case {
        file: "many-pending.trace",
        stdout: b"OPEN 0 5 /p10 => FD 3 [1.00 us]\nOPEN 0 5 /p11 => FD 3 [1.00 us]\n\
                  OPEN 0 5 /p12 => FD 3 [1.00 us]\nOPEN 0 5 /p13 => FD 3 [1.00 us]\n\
                  OPEN 0 5 /p14 => FD 3 [1.00 us]\n",
        counts: CLEAN,
        bad: &[],
    },
    Case {
        // Per-thread pairing: /b and /c on one thread, /a on another, interleaved.
        file: "interleaved-threads.trace",
        stdout: b"OPEN 0 5 /b => FD 4 [100.00 ns]\nOPEN 0 5 /a => FD 3 [400.00 ns]\n\
                  OPEN 0 5 /c => ERROR -2 [200.00 ns]\n",
        counts: CLEAN,
        bad: &[],
    },
];

#[test]
fn corpus_has_at_least_thirty_cases_and_each_is_asserted() {
    let dir = hostile("");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut listed: Vec<String> = CASES.iter().map(|c| c.file.to_owned()).collect();
    listed.push("binary-garbage.trace".to_owned());
    // trace-gen's real output on the hostile-name corpus: asserted in hostile_names.rs.
    listed.push("names-from-trace-gen.trace".to_owned());
    listed.sort();
    assert_eq!(
        files, listed,
        "every fixture has a case, every case a fixture"
    );
    // Plus the cases made at test time below: 10 MB line, directory, FIFO, odd file names,
    // eviction.
    assert!(files.len() + 5 >= 30, "{} fixtures", files.len());
}

#[test]
fn each_fixture_gives_its_output_and_its_report() {
    for case in CASES {
        let out = trace_merge()
            .args(["-N", "--unfinished"])
            .arg(case.file)
            .current_dir(hostile(""))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{}: {stderr}", case.file);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(case.stdout),
            "{}: stdout",
            case.file
        );
        assert_eq!(out.stdout, case.stdout, "{}: stdout bytes", case.file);
        assert_eq!(
            report(&stderr),
            case.counts,
            "{}: report\n{stderr}",
            case.file
        );
        assert_eq!(
            shown_bad_lines(&stderr, case.file),
            case.bad,
            "{}: {stderr}",
            case.file
        );
    }
}

#[test]
fn binary_garbage_every_nonblank_line_is_counted() {
    let bytes = std::fs::read(hostile("binary-garbage.trace")).unwrap();
    // What the grammar says independently of trace-merge: a line (the last one may lack its
    // newline) that is empty is blank, one starting with '#' a comment or header (it is
    // random, so not a valid header only by chance: check), anything else here is garbage.
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let lines = &lines[..lines.len() - usize::from(bytes.ends_with(b"\n"))];
    let garbage = lines
        .iter()
        .filter(|l| trace_format::parse_line(l).is_err())
        .count() as u64;
    assert!(
        garbage >= lines.len() as u64 - 2,
        "random bytes are mostly garbage"
    );
    let out = trace_merge()
        .args(["-N", "binary-garbage.trace"])
        .current_dir(hostile(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let counts = report(&stderr);
    assert_eq!(counts.malformed, garbage, "{stderr}");
    assert_eq!(counts.lines, lines.len() as u64, "{stderr}");
    assert_eq!(shown_bad_lines(&stderr, "binary-garbage.trace").len(), 5);
    assert!(stderr.contains("(first 5 shown above)"), "{stderr}");
}

#[test]
fn every_fixture_in_every_format_exits_zero_with_the_same_counts() {
    let formats: &[&[&str]] = &[
        &[
            "-o",
            "time,user,uid,pid,tid,comm,path,result,ret,fd,errno,duration,duration_ns",
        ],
        &["--format", "json"],
        &["--format", "csv"],
        &["--summary"],
        &["--summary-by", "comm"],
        &["--sort", "duration", "--top", "2"],
    ];
    let mut files: Vec<&str> = CASES.iter().map(|c| c.file).collect();
    files.push("binary-garbage.trace");
    for file in files {
        let base = trace_merge()
            .args(["-N", "--max-pending", "2", "--reorder-window", "0", file])
            .current_dir(hostile(""))
            .output()
            .unwrap();
        assert_eq!(base.status.code(), Some(0), "{file}");
        let base_counts = report(&String::from_utf8_lossy(&base.stderr));
        for args in formats {
            let out = trace_merge()
                .args(["-N", "--max-pending", "2", "--reorder-window", "0"])
                .args(*args)
                .arg(file)
                .current_dir(hostile(""))
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{file} {args:?}: {stderr}");
            assert!(!stderr.contains("panicked"), "{file} {args:?}: {stderr}");
            assert_eq!(report(&stderr), base_counts, "{file} {args:?}");
        }
    }
}

#[test]
fn more_threads_in_flight_than_max_pending_are_evicted_and_counted() {
    // 5 threads open at once, --max-pending 2: the 3 oldest are evicted, their returns then
    // have no entry; the 2 newest still pair.
    let out = trace_merge()
        .args([
            "-N",
            "--max-pending",
            "2",
            "--reorder-window",
            "0",
            "many-pending.trace",
        ])
        .current_dir(hostile(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        out.stdout,
        b"OPEN 0 5 /p13 => FD 3 [1.00 us]\nOPEN 0 5 /p14 => FD 3 [1.00 us]\n"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let counts = report(&stderr);
    assert_eq!(
        counts,
        Counts {
            evicted: 3,
            ..c(2, 10, 0, 3, 0)
        },
        "{stderr}"
    );
    assert!(stderr.contains("--max-pending=2"), "{stderr}");
}

#[test]
fn evicted_entries_returns_do_not_evict_live_entries() {
    // Same as above with the default --reorder-window 1s: the returns of /p10-/p12 have no
    // entry any more and wait for one; they must not push out /p13 and /p14.
    let out = trace_merge()
        .args(["-N", "--max-pending", "2", "many-pending.trace"])
        .current_dir(hostile(""))
        .output()
        .unwrap();
    assert_eq!(
        out.stdout,
        b"OPEN 0 5 /p13 => FD 3 [1.00 us]\nOPEN 0 5 /p14 => FD 3 [1.00 us]\n"
    );
}

#[test]
fn a_ten_megabyte_line_is_skipped_and_counted_and_its_neighbours_kept() {
    let dir = TempDir::new("10mb");
    let path = dir.0.join("big.trace");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    f.write_all(b"=> uid: 0 pid: 5 open: /before 1000\n")
        .unwrap();
    f.write_all(b"=> uid: 0 pid: 6 open: /").unwrap();
    f.write_all(&vec![b'x'; 10 << 20]).unwrap();
    f.write_all(b" 1100\n<= uid: 0 pid: 6 ret: 3 1200\n")
        .unwrap();
    // A long but allowed line (2 MiB path) right after is kept whole.
    f.write_all(b"=> uid: 0 pid: 7 open: /").unwrap();
    f.write_all(&vec![b'y'; 2 << 20]).unwrap();
    f.write_all(b" 1300\n<= uid: 0 pid: 7 ret: 4 1400\n<= uid: 0 pid: 5 ret: 3 2000\n")
        .unwrap();
    drop(f);
    let out = trace_merge().arg("-N").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = out.stdout;
    let mut expected = b"OPEN 0 7 /".to_vec();
    expected.extend_from_slice(&vec![b'y'; 2 << 20]);
    expected.extend_from_slice(b" => FD 4 [100.00 ns]\nOPEN 0 5 /before => FD 3 [1.00 us]\n");
    assert!(
        stdout == expected,
        "stdout differs ({} bytes)",
        stdout.len()
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(":2: line longer than 8 MiB, skipped"),
        "{stderr}"
    );
    let counts = report(&stderr);
    assert_eq!(
        (counts.paired, counts.malformed, counts.no_entry),
        (2, 1, 1),
        "{stderr}"
    );
}

#[test]
fn a_directory_is_refused_and_the_other_inputs_still_read() {
    for args in [vec!["-N", ".", "crlf.trace"], vec!["-N", "crlf.trace", "."]] {
        let out = trace_merge()
            .args(&args)
            .current_dir(hostile(""))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            out.stdout, b"OPEN 0 5 /etc/hosts => FD 3 [1.00 us]\n",
            "{args:?}"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("trace-merge: .: is a directory"),
            "{stderr}"
        );
    }
}

#[test]
fn a_missing_file_is_refused_and_the_other_inputs_still_read() {
    let out = trace_merge()
        .args(["-N", "no such file.trace", "crlf.trace"])
        .current_dir(hostile(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(out.stdout, b"OPEN 0 5 /etc/hosts => FD 3 [1.00 us]\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no such file.trace: cannot open"),
        "{stderr}"
    );
}

#[test]
fn a_fifo_is_read_like_a_file() {
    let dir = TempDir::new("fifo");
    let fifo = dir.0.join("live fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let child = std::process::Command::new(crate::common::bin())
        .arg("-N")
        .arg(&fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let bytes = std::fs::read(hostile("tracer-chatter.trace")).unwrap();
    let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    w.write_all(&bytes).unwrap();
    drop(w);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        out.stdout,
        b"OPEN 0 5 /a => FD 3 [1.00 us]\nOPEN 0 6 /b => ERROR -2 [1.00 us]\n"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(report(&stderr), c(2, 10, 5, 0, 0), "{stderr}");
}

#[test]
fn input_file_names_with_spaces_quotes_and_controls() {
    let dir = TempDir::new("names");
    let names = [
        "with space.trace",
        "it's \"quoted\".trace",
        "new\nline.trace",
        "\x1b[31mred.trace",
    ];
    for name in names {
        let path = dir.0.join(name);
        std::fs::write(
            &path,
            b"garbage\n=> uid: 0 pid: 5 open: /a 1000\n<= uid: 0 pid: 5 ret: 3 2000\n",
        )
        .unwrap();
        let out = trace_merge().arg("-N").arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{name:?}");
        assert_eq!(out.stdout, b"OPEN 0 5 /a => FD 3 [1.00 us]\n", "{name:?}");
        // (The names themselves are checked by the terminal-safety tests.)
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("\ntrace-merge:   1 malformed lines skipped\n"),
            "{name:?}: {stderr}"
        );
    }
}
