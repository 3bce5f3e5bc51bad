//! Filters, columns, formats, sorting, summaries, progress and
//! discoverability, each on fixtures with answers worked out by hand below.
//!
//! tests/data/options/small.trace (users from tests/data/options/passwd: 0 root,
//! 33 www-data, 1000 alice; timestamps are 1 s + the start column, monotonic, with
//! `# clock-offset-ns: 1700000000000000000`, and a `# lost: 2` in the middle):
//!
//! | #  | uid  | pid | tid | comm    | path                | start ns | duration ns | ret |
//! |----|------|-----|-----|---------|---------------------|----------|-------------|-----|
//! | 1  | 0    | 100 | 100 | cat     | /etc/passwd         | 0        | 1000        | 3   |
//! | 2  | 1000 | 200 | 201 | nginx   | /var/www/index.html | 2000     | 4000        | -2  |
//! | 3  | 1000 | 200 | 202 | nginx   | /etc/hosts          | 10000    | 2000        | 5   |
//! | 4  | 0    | 100 | 100 | cat     | /root/secret        | 20000    | 9000        | -13 |
//! | 5  | 33   | 300 | 300 | php-fpm | /etc/hosts          | 30000    | 3000        | 4   |
//! | 6  | 1000 | 200 | 201 | nginx   | /var/www/missing    | 40000    | 6000        | -2  |
//! | 7  | 0    | 100 | 100 | cat     | /etc/ld.so.cache    | 50000    | 500         | 3   |
//! | 8  | 33   | 300 | 300 | php-fpm | /tmp/sess_abc       | 60000    | 10000       | 7   |
//! | 9  | 0    | 400 | 400 | sleepy  | /dev/tty            | 80000    | (never returns)   |
//! | 10 | 0    | 500 | 500 | bash    | /etc/profile        | 90000    | 8000        | 3   |
//! | 11 | 0    | 500 | 500 | bash    | /etc/bash.bashrc    | 100000   | 700         | -2  |

use crate::common::{
    base64_decode, on_terminal, options_data as data, refused, small, trace_merge,
};

/// The rows of a TSV output without header: one Vec of cells per line.
fn rows(text: &str) -> Vec<Vec<&str>> {
    text.lines().map(|l| l.split('\t').collect()).collect()
}

/// The single column printed by `-o COL --no-header`.
fn column(args: &[&str], col: &str) -> Vec<String> {
    let mut all = vec!["--no-header", "-o", col];
    all.extend_from_slice(args);
    small(&all).lines().map(str::to_string).collect()
}

// ---------------------------------------------------------------------------------------------
// Filters

#[test]
fn filter_pid_and_tid() {
    assert_eq!(
        column(&["-p", "200"], "path"),
        ["/var/www/index.html", "/etc/hosts", "/var/www/missing"]
    );
    assert_eq!(
        column(&["-p", "300,500"], "path"),
        [
            "/etc/hosts",
            "/tmp/sess_abc",
            "/etc/profile",
            "/etc/bash.bashrc"
        ]
    );
    assert_eq!(column(&["-p", "300", "-p", "100"], "pid").len(), 5);
    assert_eq!(column(&["-t", "202"], "path"), ["/etc/hosts"]);
    assert_eq!(
        column(&["--tid", "201"], "path"),
        ["/var/www/index.html", "/var/www/missing"]
    );
}

#[test]
fn filter_user_by_uid_and_by_name() {
    assert_eq!(
        column(&["-u", "33"], "path"),
        ["/etc/hosts", "/tmp/sess_abc"]
    );
    assert_eq!(
        column(&["-u", "www-data"], "path"),
        ["/etc/hosts", "/tmp/sess_abc"]
    );
    assert_eq!(
        column(&["-u", "alice,33"], "pid"),
        ["200", "200", "300", "200", "300"]
    );
    // A name the --passwd file does not know is refused: unknown_user.rs.
}

#[test]
fn filter_comm_is_exact() {
    assert_eq!(column(&["-n", "nginx"], "tid"), ["201", "202", "201"]);
    assert!(column(&["-n", "ngin"], "tid").is_empty());
    assert_eq!(column(&["-n", "bash", "-n", "cat"], "path").len(), 5);
}

/// The letters mean what they mean in trace-gen (and opensnoop): -n a process name, -u a user,
/// -p a pid. -c, trace-gen's command, is refused with a pointer to -n; numeric uids are -N.
#[test]
fn letters_as_in_trace_gen() {
    assert_eq!(
        column(&["--name", "nginx"], "tid"),
        column(&["-n", "nginx"], "tid")
    );
    assert_eq!(
        column(&["--uid", "33"], "path"),
        ["/etc/hosts", "/tmp/sess_abc"]
    );
    let err = refused(&["-c", "nginx"]);
    assert!(
        err.contains("filter by process name with -n/--comm nginx"),
        "{err}"
    );
    let out = trace_merge()
        .args(["-N", "-n", "php-fpm", "-o", "user", "--no-header"])
        .arg(data("small.trace"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "33\n33\n");
}

#[test]
fn filter_failed_and_ok() {
    // Failures: rows 2, 4, 6, 11. Successes: 1, 3, 5, 7, 8, 10. The unfinished open is neither.
    assert_eq!(
        column(&["-x"], "path"),
        [
            "/var/www/index.html",
            "/root/secret",
            "/var/www/missing",
            "/etc/bash.bashrc"
        ]
    );
    assert_eq!(column(&["--ok"], "fd"), ["3", "5", "4", "3", "7", "3"]);
    assert!(refused(&["-x", "--ok"]).contains("cannot be used with"));
}

#[test]
fn filter_path_regex() {
    assert_eq!(
        column(&["--path", "^/etc/"], "path"),
        [
            "/etc/passwd",
            "/etc/hosts",
            "/etc/hosts",
            "/etc/ld.so.cache",
            "/etc/profile",
            "/etc/bash.bashrc"
        ]
    );
    assert_eq!(
        column(&["--path", "www/.*ing$"], "path"),
        ["/var/www/missing"]
    );
    // Non-UTF-8 bytes are matched as bytes.
    let out = trace_merge()
        .args(["--path", r"r(?-u:\xe9)sum", "-o", "path", "--no-header"])
        .arg(data("odd-paths.trace"))
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"/home/al ice/r\\xe9sum\\xe9.pdf\n");
    let err = refused(&["--path", "(unclosed"]);
    assert!(err.contains("--path: invalid regular expression"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let err = refused(&["--path", "("]);
    assert_eq!(
        err,
        "trace-merge: --path: invalid regular expression `(`: unclosed group\n"
    );
}

#[test]
fn filter_min_duration_with_units() {
    // Durations >= 5 us: 9000 (row 4), 6000 (6), 10000 (8), 8000 (10).
    assert_eq!(
        column(&["--min-duration", "5us"], "duration_ns"),
        ["9000", "6000", "10000", "8000"]
    );
    assert_eq!(
        column(&["--min-duration", "0.008ms"], "duration_ns"),
        ["9000", "10000", "8000"]
    );
    assert_eq!(
        column(&["--min-duration", "9000ns"], "duration_ns"),
        ["9000", "10000"]
    );
    assert!(column(&["--min-duration", "1s"], "duration_ns").is_empty());
    let err = refused(&["--min-duration", "1.5ns"]);
    assert!(
        err.contains("--min-duration `1.5ns`: not a whole number of nanoseconds"),
        "{err}"
    );
    assert!(refused(&["--min-duration", "10"]).contains("unit"));
}

#[test]
fn filters_are_and_combined_in_seed_format() {
    // Failed opens of nginx longer than 5 us: only row 6.
    assert_eq!(
        small(&["-x", "-n", "nginx", "--min-duration", "5us"]),
        "OPEN alice 200 /var/www/missing => ERROR -2 [6.00 us]\n"
    );
    assert_eq!(
        small(&["-u", "root", "--path", "^/etc/", "--ok"]),
        "OPEN root 100 /etc/passwd => FD 3 [1.00 us]\n\
         OPEN root 100 /etc/ld.so.cache => FD 3 [500.00 ns]\n\
         OPEN root 500 /etc/profile => FD 3 [8.00 us]\n"
    );
}

// ---------------------------------------------------------------------------------------------
// Columns and time

#[test]
fn columns_pick_and_order_with_header() {
    let out = small(&["-o", "errno,pid,comm,path,result,duration", "-x"]);
    let rows = rows(&out);
    assert_eq!(
        rows[0],
        ["errno", "pid", "comm", "path", "result", "duration"]
    );
    assert_eq!(
        rows[1],
        [
            "ENOENT",
            "200",
            "nginx",
            "/var/www/index.html",
            "ERROR -2",
            "4.00 us"
        ]
    );
    assert_eq!(
        rows[2],
        [
            "EACCES",
            "100",
            "cat",
            "/root/secret",
            "ERROR -13",
            "9.00 us"
        ]
    );
    assert_eq!(rows.len(), 5);
}

#[test]
fn every_column_of_one_open() {
    let all = "time,user,uid,pid,tid,comm,path,result,ret,fd,errno,duration,duration_ns";
    let out = small(&["-o", all, "--no-header", "-t", "202"]);
    // Row 3 starts 10000 ns after the first event: 0.000010 s.
    assert_eq!(
        rows(&out),
        [[
            "0.000010",
            "alice",
            "1000",
            "200",
            "202",
            "nginx",
            "/etc/hosts",
            "FD 5",
            "5",
            "5",
            "-",
            "2.00 us",
            "2000"
        ]]
    );
    let out = small(&["-o", all, "--no-header", "--unfinished", "-p", "400"]);
    assert_eq!(
        rows(&out),
        [[
            "0.000080",
            "root",
            "0",
            "400",
            "400",
            "sleepy",
            "/dev/tty",
            "UNFINISHED",
            "-",
            "-",
            "-",
            "-",
            "-"
        ]]
    );
}

#[test]
fn timestamps_relative_and_absolute() {
    // -T alone: time first, then the default columns.
    let out = small(&["-T", "-p", "100"]);
    let rows = rows(&out);
    assert_eq!(
        rows[0],
        ["time", "user", "pid", "comm", "path", "result", "duration"]
    );
    assert_eq!(
        rows[1],
        [
            "0.000000",
            "root",
            "100",
            "cat",
            "/etc/passwd",
            "FD 3",
            "1.00 us"
        ]
    );
    assert_eq!(rows[2][0], "0.000020");
    assert_eq!(rows[3][0], "0.000050");
    // Absolute: 1700000000 s + 1 s + 20 us; `date -u -d @1700000001` = 2023-11-14 22:13:21.
    let out = small(&[
        "--time",
        "absolute",
        "-o",
        "path",
        "--no-header",
        "-p",
        "100",
    ]);
    assert_eq!(
        out,
        "2023-11-14T22:13:21.000000Z\t/etc/passwd\n\
         2023-11-14T22:13:21.000020Z\t/root/secret\n\
         2023-11-14T22:13:21.000050Z\t/etc/ld.so.cache\n"
    );
    // Realtime timestamps need no offset: the seed's example instant.
    let out = trace_merge()
        .args(["--time", "absolute", "-o", "path", "--no-header", "--ok"])
        .arg(data("odd-paths.trace"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("2026-11-26T03:37:37.567614Z\t/home/al ice/r"),
        "{text}"
    );
}

#[test]
fn absolute_time_without_an_offset_is_a_question_mark() {
    let dir = std::env::temp_dir().join(format!("tm-options-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("mono.trace");
    std::fs::write(
        &trace,
        "# clock: monotonic\n=> uid: 0 pid: 1 open: /x 5000\n<= uid: 0 pid: 1 ret: 3 6000\n",
    )
    .unwrap();
    let out = trace_merge()
        .args(["--time", "absolute", "-N", "--no-header", "-o", "path"])
        .arg(&trace)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "?\t/x\n");
}

#[test]
fn text_columns_escape_control_bytes() {
    let out = trace_merge()
        .args(["-o", "path", "--no-header"])
        .arg(data("odd-paths.trace"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        4,
        "a newline in a path must not split a row: {text:?}"
    );
    assert_eq!(lines[2], "/tmp/new\\nline\\x1b[31m");
    assert_eq!(
        lines[3], "/tmp/café tab\\there",
        "a tab in a path must not split a TSV cell"
    );
}

#[test]
fn bad_column_lists_are_refused() {
    let err = refused(&["-o", "pid,colour"]);
    assert!(
        err.contains("-o/--columns: unknown column `colour`"),
        "{err}"
    );
    assert!(
        err.contains("duration_ns"),
        "lists the valid columns: {err}"
    );
    assert!(refused(&["-o", "pid,pid"]).contains("listed twice"));
}

// ---------------------------------------------------------------------------------------------
// JSON and CSV, read back by standard parsers

#[test]
fn json_lines_read_back_with_serde_json() {
    let out = small(&["--format", "json"]);
    let objects: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON value"))
        .collect();
    assert_eq!(objects.len(), 10);
    let keys: Vec<&str> = objects[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = vec![
        "ts",
        "uid",
        "user",
        "pid",
        "tid",
        "comm",
        "comm_b64",
        "path",
        "path_b64",
        "path_truncated",
        "ret",
        "fd",
        "errno",
        "restarted",
        "duration_ns",
        "host",
    ];
    want.sort_unstable();
    let mut got = keys.clone();
    got.sort_unstable();
    assert_eq!(got, want);
    // Row 2, typed.
    let o = &objects[1];
    assert_eq!(o["ts"], serde_json::json!(1_000_002_000u64));
    assert_eq!(o["uid"], 1000);
    assert_eq!(o["user"], "alice");
    assert_eq!(o["pid"], 200);
    assert_eq!(o["tid"], 201);
    assert_eq!(o["comm"], "nginx");
    assert_eq!(o["path"], "/var/www/index.html");
    assert!(o["path_b64"].is_null());
    assert_eq!(o["path_truncated"], false);
    assert_eq!(o["ret"], -2);
    assert!(o["fd"].is_null());
    assert_eq!(o["errno"], "ENOENT");
    assert_eq!(o["duration_ns"], 4000);
    assert_eq!(objects[2]["fd"], 5);
    assert!(objects[2]["errno"].is_null());
    // The sum of the ten durations: 1000+4000+2000+9000+3000+6000+500+10000+8000+700.
    let total: u64 = objects
        .iter()
        .map(|o| o["duration_ns"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 44_200);
}

#[test]
fn json_unfinished_and_numeric_users_are_null() {
    let out = trace_merge()
        .args(["--format", "json", "-N", "--unfinished", "-p", "400"])
        .arg(data("small.trace"))
        .output()
        .unwrap();
    let o: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(o["user"].is_null(), "-n: no names");
    assert!(
        o["ret"].is_null()
            && o["fd"].is_null()
            && o["errno"].is_null()
            && o["duration_ns"].is_null(),
        "{o}"
    );
    assert_eq!(o["path"], "/dev/tty");
}

#[test]
fn json_paths_are_lossless() {
    let out = trace_merge()
        .args(["--format", "json"])
        .arg(data("odd-paths.trace"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let objects: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .expect("JSON Lines output is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let exact = |o: &serde_json::Value| -> Vec<u8> {
        match o["path_b64"].as_str() {
            Some(b64) => base64_decode(b64),
            None => o["path"].as_str().unwrap().as_bytes().to_vec(),
        }
    };
    let want: [&[u8]; 4] = [
        b"/home/al ice/r\xe9sum\xe9.pdf",
        b"/tmp/a,\"b\"",
        b"/tmp/new\nline\x1b[31m",
        "/tmp/café tab\there".as_bytes(),
    ];
    for (o, want) in objects.iter().zip(want) {
        assert_eq!(exact(o), want, "{o}");
    }
    // The non-UTF-8 path still reads as text, with replacement characters.
    assert_eq!(objects[0]["path"], "/home/al ice/r\u{fffd}sum\u{fffd}.pdf");
    assert!(objects[1]["path_b64"].is_null());
}

#[test]
fn csv_reads_back_with_the_csv_crate() {
    let out = small(&["--format", "csv"]);
    assert!(out.contains("\r\n"), "RFC 4180 records end in CRLF");
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "ts",
            "uid",
            "user",
            "pid",
            "tid",
            "comm",
            "path",
            "ret",
            "fd",
            "errno",
            "duration_ns"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 10);
    assert_eq!(
        records[3].iter().collect::<Vec<_>>(),
        [
            "1000020000",
            "0",
            "root",
            "100",
            "100",
            "cat",
            "/root/secret",
            "-13",
            "",
            "EACCES",
            "9000"
        ]
    );
    let durations: u64 = records.iter().map(|r| r[10].parse::<u64>().unwrap()).sum();
    assert_eq!(durations, 44_200);
}

#[test]
fn csv_paths_are_lossless_bytes() {
    let out = trace_merge()
        .args(["--format", "csv"])
        .arg(data("odd-paths.trace"))
        .output()
        .unwrap();
    let mut reader = csv::ReaderBuilder::new().from_reader(&out.stdout[..]);
    let paths: Vec<Vec<u8>> = reader
        .byte_records()
        .map(|r| r.unwrap()[6].to_vec())
        .collect();
    let want: [&[u8]; 4] = [
        b"/home/al ice/r\xe9sum\xe9.pdf",
        b"/tmp/a,\"b\"",
        b"/tmp/new\nline\x1b[31m",
        "/tmp/café tab\there".as_bytes(),
    ];
    assert_eq!(paths, want);
}

#[test]
fn csv_with_chosen_columns_and_no_header() {
    let out = small(&[
        "--format",
        "csv",
        "-o",
        "pid,path,errno",
        "-x",
        "--no-header",
    ]);
    assert_eq!(out, "200,/var/www/index.html,ENOENT\r\n100,/root/secret,EACCES\r\n200,/var/www/missing,ENOENT\r\n500,/etc/bash.bashrc,ENOENT\r\n");
    assert!(refused(&["--format", "json", "-o", "pid"]).contains("not to --format json"));
}

// ---------------------------------------------------------------------------------------------
// Sorting

#[test]
fn sort_by_duration_reversed_top() {
    assert_eq!(
        small(&[
            "--sort",
            "duration",
            "-r",
            "--top",
            "3",
            "-o",
            "path,duration_ns",
            "--no-header"
        ]),
        "/tmp/sess_abc\t10000\n/root/secret\t9000\n/etc/profile\t8000\n"
    );
    // Ascending: the two shortest.
    assert_eq!(
        column(&["--sort", "duration_ns", "--top", "2"], "duration_ns"),
        ["500", "700"]
    );
}

#[test]
fn sort_by_several_keys_is_stable() {
    // comm ascending, then duration ascending within each comm.
    assert_eq!(
        small(&["--sort", "comm,duration", "-o", "comm,duration_ns", "--no-header"]),
        "bash\t700\nbash\t8000\ncat\t500\ncat\t1000\ncat\t9000\nnginx\t2000\nnginx\t4000\nnginx\t6000\nphp-fpm\t3000\nphp-fpm\t10000\n"
    );
    // Equal keys keep input order: both /etc/hosts opens, row 3 (tid 202) then row 5 (tid 300).
    assert_eq!(
        column(&["--sort", "path", "--path", "hosts"], "tid"),
        ["202", "300"]
    );
}

#[test]
fn sort_by_user_name_and_errno_in_seed_format() {
    assert_eq!(
        small(&["--sort", "user", "--top", "4"]),
        "OPEN alice 200 /var/www/index.html => ERROR -2 [4.00 us]\n\
         OPEN alice 200 /etc/hosts => FD 5 [2.00 us]\n\
         OPEN alice 200 /var/www/missing => ERROR -2 [6.00 us]\n\
         OPEN root 100 /etc/passwd => FD 3 [1.00 us]\n"
    );
    // EACCES < ENOENT; successes (no errno) last.
    assert_eq!(
        column(&["--sort", "errno", "--top", "3"], "errno"),
        ["EACCES", "ENOENT", "ENOENT"]
    );
}

#[test]
fn top_without_sort_keeps_the_first() {
    assert_eq!(
        column(&["--top", "2"], "path"),
        ["/etc/passwd", "/var/www/index.html"]
    );
}

#[test]
fn sort_errors_and_help() {
    assert!(refused(&["--sort", "speed"]).contains("--sort: unknown column `speed`"));
    let out = trace_merge()
        .arg("-r")
        .arg(data("small.trace"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "-r needs --sort");
    let help = trace_merge().arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(
        help.contains("Buffers the whole input"),
        "--sort says it buffers: {help}"
    );
}

// ---------------------------------------------------------------------------------------------
// Summaries

#[test]
fn summary_totals_and_exact_percentiles() {
    let out = small(&["--summary"]);
    // 10 completed, 4 failed (rows 2, 4, 6, 11), row 9 unfinished, `# lost: 2`.
    assert!(
        out.starts_with("opens: 10  failed: 4 (40.0%)  unfinished: 1  lost: 2\n"),
        "{out}"
    );
    assert!(out.contains("the tracer lost 2 events"), "{out}");
    // Sorted durations: 500 700 1000 2000 3000 4000 6000 8000 9000 10000 (n = 10).
    // Nearest rank: p50 = rank 5 -> 3000; p90 = rank 9 -> 9000; p99 = rank ceil(9.9) = 10 -> 10000.
    assert!(out.contains("  p50      3.00 us  (3000 ns)\n"), "{out}");
    assert!(out.contains("  p90      9.00 us  (9000 ns)\n"), "{out}");
    assert!(out.contains("  p99     10.00 us  (10000 ns)\n"), "{out}");
    assert!(out.contains("  max     10.00 us  (10000 ns)\n"), "{out}");
}

#[test]
fn summary_tops_errnos_and_histogram() {
    let out = small(&["--summary", "--top", "2"]);
    // /etc/hosts is the only path opened twice (2000 + 3000 ns).
    assert!(out.contains("top paths by count:\n    COUNT  FAILED        TOTAL  PATH\n        2       0      5.00 us  /etc/hosts\n"), "{out}");
    assert!(out.contains("top paths by total time:\n    COUNT  FAILED        TOTAL  PATH\n        1       0     10.00 us  /tmp/sess_abc\n        1       1      9.00 us  /root/secret\n\n"), "{out}");
    // php-fpm: 3000 + 10000; nginx: 4000 + 2000 + 6000; cat: 1000 + 9000 + 500.
    assert!(out.contains("top processes by total time:\n    COUNT  FAILED        TOTAL      PID COMM\n        2       0     13.00 us      300 php-fpm\n        3       2     12.00 us      200 nginx\n\n"), "{out}");
    assert!(
        out.contains(
            "failures by errno:\n    COUNT  ERRNO\n        3  ENOENT\n        1  EACCES\n"
        ),
        "{out}"
    );
    // log2 buckets (K = 1024): [256, 512) 500; [512, 1K) 700 1000; [1K, 2K) 2000;
    // [2K, 4K) 3000 4000 (4000 < 4096); [4K, 8K) 6000 8000 (8000 < 8192); [8K, 16K) 9000 10000.
    // The largest bucket holds 2: bars are count * 52 / 2 -> 26 or 52.
    let hist: Vec<&str> = out[out.find("latency histogram (ns):\n").unwrap()..]
        .lines()
        .skip(1)
        .collect();
    let half = format!("|{}{}|", "@".repeat(26), " ".repeat(26));
    let full = format!("|{}|", "@".repeat(52));
    assert_eq!(
        hist,
        [
            format!("[256, 512)             1 {half}"),
            format!("[512, 1K)              2 {full}"),
            format!("[1K, 2K)               1 {half}"),
            format!("[2K, 4K)               2 {full}"),
            format!("[4K, 8K)               2 {full}"),
            format!("[8K, 16K)              2 {full}"),
        ]
    );
}

#[test]
fn summary_by_each_key() {
    let table = |key: &str| -> Vec<String> {
        let out = small(&["--summary-by", key]);
        let start = out
            .find(&format!("summary by {key}:\n"))
            .expect("the grouped table");
        out[start..]
            .lines()
            .skip(2)
            .take_while(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    // comm: cat 3 opens (1 failed) 10500 ns, avg 3500, max 9000; nginx 3 (2) 12000, 4000, 6000;
    // bash 2 (1) 8700, 4350, 8000; php-fpm 2 (0) 13000, 6500, 10000. Ties by name.
    assert_eq!(
        table("comm"),
        [
            "        3       1     10.50 us      3.50 us      9.00 us  cat",
            "        3       2     12.00 us      4.00 us      6.00 us  nginx",
            "        2       1      8.70 us      4.35 us      8.00 us  bash",
            "        2       0     13.00 us      6.50 us     10.00 us  php-fpm",
        ]
    );
    // user: root has rows 1, 4, 7, 10, 11 (5 opens); alice 3; www-data 2.
    let users: Vec<String> = table("user")
        .iter()
        .map(|l| {
            l.split_whitespace().next().unwrap().to_string() + " " + l.rsplit("  ").next().unwrap()
        })
        .collect();
    assert_eq!(users, ["5 root", "3 alice", "2 www-data"]);
    let errnos: Vec<String> = table("errno")
        .iter()
        .map(|l| l.rsplit("  ").next().unwrap().to_string())
        .collect();
    assert_eq!(errnos, ["-", "ENOENT", "EACCES"]);
    assert_eq!(table("pid").len(), 4);
    assert_eq!(table("path").len(), 9);
    let out = trace_merge()
        .args(["--summary-by", "size"])
        .arg(data("small.trace"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn summary_respects_filters_and_refuses_other_formats() {
    let out = small(&["--summary", "-n", "nginx"]);
    // The unfinished open (sleepy) is not nginx's: 0.
    assert!(
        out.starts_with("opens: 3  failed: 2 (66.6%)  unfinished: 0  lost: 2\n"),
        "{out}"
    );
    // nginx durations 2000 4000 6000: p50 = rank 2 -> 4000.
    assert!(out.contains("  p50      4.00 us  (4000 ns)\n"), "{out}");
    let out = small(&["--summary", "-n", "sleepy"]);
    assert!(
        out.starts_with("opens: 0  failed: 0  unfinished: 1  lost: 2\n"),
        "{out}"
    );
    assert!(
        !out.contains("latency"),
        "no completed opens, no latency: {out}"
    );
    assert!(refused(&["--summary", "--format", "csv"]).contains("--summary prints text"));
    assert!(
        refused(&["--summary", "--sort", "pid"]).contains("--summary cannot be used with --sort")
    );
}

// ---------------------------------------------------------------------------------------------
// Progress, help, completions, man page

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    // A clean 9 MB trace (bigger than the bar's threshold) with the summary mode, where the
    // bar would show on a terminal; here stderr is a pipe, so it must stay empty. The bar is
    // drawn on a plain terminal handle that does not hide itself, so this fails if
    // progress::wanted stops checking that stderr is a terminal.
    let dir = std::env::temp_dir().join(format!("tm-options-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.trace");
    let mut text = String::with_capacity(10 << 20);
    let mut ts = 1000u64;
    while text.len() < 9 << 20 {
        use std::fmt::Write as _;
        let _ = writeln!(
            text,
            "=> uid: 0 pid: 7 tid: 7 comm: worker open: /var/lib/some/fairly/long/path.dat {ts}"
        );
        let _ = writeln!(
            text,
            "<= uid: 0 pid: 7 tid: 7 comm: worker ret: 3 {}",
            ts + 100
        );
        ts += 1000;
    }
    std::fs::write(&path, &text).unwrap();
    let out = trace_merge()
        .args(["-N", "--summary"])
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "nothing on a non-terminal stderr"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("  p50    100.00 ns  (100 ns)"));
}

#[test]
fn help_documents_the_options_with_examples() {
    let help = String::from_utf8(trace_merge().arg("--help").output().unwrap().stdout).unwrap();
    for needle in [
        "--pid",
        "--tid",
        "--user",
        "--comm",
        "--failed",
        "--ok",
        "--path",
        "--min-duration",
        "--columns",
        "--timestamps",
        "--time",
        "--no-header",
        "--format",
        "--sort",
        "--reverse",
        "--top",
        "--summary",
        "--summary-by",
        "trace-merge --sort duration -r --top 10",
        "trace-merge --generate man",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
    assert!(
        !help.contains("completions-powershell"),
        "--generate is hidden from --help"
    );
}

#[test]
fn generate_man_page_and_completions() {
    let run = |kind: &str| {
        let out = trace_merge().args(["--generate", kind]).output().unwrap();
        assert!(out.status.success(), "{kind}");
        String::from_utf8(out.stdout).unwrap()
    };
    let man = run("man");
    assert!(man.contains(".TH trace-merge 1"), "{man}");
    assert!(
        man.contains("\\-\\-summary\\-by"),
        "the man page lists the options"
    );
    assert!(
        man.contains("trace\\-merge \\-\\-sort duration"),
        "and the examples"
    );
    let bash = run("completions-bash");
    assert!(
        bash.contains("--min-duration") && bash.contains("relative absolute"),
        "{bash}"
    );
    assert!(run("completions-zsh").starts_with("#compdef trace-merge"));
    assert!(run("completions-fish").contains("complete -c trace-merge -l summary-by"));
}

/// clap_complete 4.6 writes a possible value's help inside double quotes in the fish and zsh
/// scripts without escaping `"` (clap-rs/clap#6458 for zsh; fish alike): one `"` in a value's
/// doc comment made fish refuse the whole `--format` line ("complete: too many arguments")
/// and zsh's completion of the option fail. So no value's help may hold one.
#[test]
fn no_possible_value_help_breaks_the_shell_completions() {
    use clap::CommandFactory;
    let command = trace_merge::cli::Cli::command();
    for arg in command.get_arguments() {
        for value in arg.get_possible_values() {
            let help = value
                .get_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            assert!(
                !help.contains('"'),
                "--{} {}: a double quote in its help: {help}",
                arg.get_id(),
                value.get_name()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Several inputs

#[test]
fn each_open_keeps_its_host_in_columns_json_and_sorted_output() {
    let run = |args: &[&str]| {
        let out = trace_merge()
            .args(["-N"])
            .args(args)
            .arg(data("host-a.trace"))
            .arg(data("host-b.trace"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // In time order (see the merge test below), and sorted by host, then by path reversed.
    assert_eq!(
        run(&["-o", "host,path", "--no-header"]),
        "a\t/a/one\nb\t/b/one\na\t/a/two\nb\t/b/two\n"
    );
    assert_eq!(
        run(&[
            "-o",
            "path,host",
            "--no-header",
            "--sort",
            "host,path",
            "-r"
        ]),
        "/b/two\tb\n/b/one\tb\n/a/two\ta\n/a/one\ta\n"
    );
    let hosts: Vec<String> = run(&["--format", "json"])
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{}{}",
                v["host"].as_str().unwrap(),
                v["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(hosts, ["a/a/one", "b/b/one", "a/a/two", "b/b/two"]);
    // Sorted JSON keeps each open's host too.
    let sorted = run(&["--format", "json", "--sort", "path"]);
    assert!(
        sorted.lines().next().unwrap().ends_with(",\"host\":\"a\"}"),
        "{sorted}"
    );
    assert!(
        sorted.lines().last().unwrap().ends_with(",\"host\":\"b\"}"),
        "{sorted}"
    );
}

#[test]
fn several_hosts_merge_in_wall_clock_order_and_pair_apart() {
    // host-a.trace booted at Unix 1000 s, host-b.trace at 1004 s; both trace pid/tid 42.
    // Wall-clock entries: a/one 1005 s, b/one 1006 s, a/two 1007 s, b/two 1007.000001 s, and
    // b/two's entry falls between a/two's entry and return: shared pairing state would give
    // a/two's return to b/two's entry.
    let expected = "OPEN 0 42 /a/one => FD 3 [1.00 us]\n\
                    OPEN 0 42 /b/one => FD 5 [500.00 ns]\n\
                    OPEN 0 42 /a/two => ERROR -2 [2.00 us]\n\
                    OPEN 0 42 /b/two => FD 4 [4.00 us]\n";
    for (first, second) in [
        ("host-a.trace", "host-b.trace"),
        ("host-b.trace", "host-a.trace"),
    ] {
        let out = trace_merge()
            .arg("-N")
            .arg(data(first))
            .arg(data(second))
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            expected,
            "{first} {second}"
        );
        assert!(
            out.stderr.is_empty(),
            "clean: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = trace_merge()
        .args(["-N", "--time", "absolute", "-o", "path", "--no-header"])
        .arg(data("host-b.trace"))
        .arg(data("host-a.trace"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1970-01-01T00:16:45.000000Z\t/a/one\n\
         1970-01-01T00:16:46.000000Z\t/b/one\n\
         1970-01-01T00:16:47.000000Z\t/a/two\n\
         1970-01-01T00:16:47.000001Z\t/b/two\n"
    );
}

#[test]
fn pieces_of_one_trace_pair_across_files() {
    // No host header: one pairing state; /split/across enters in piece 1 and returns in 2.
    let out = trace_merge()
        .arg("-N")
        .arg(data("piece-1.trace"))
        .arg(data("piece-2.trace"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "OPEN 0 9 /split/first => FD 3 [100.00 ns]\n\
         OPEN 0 9 /split/across => FD 4 [250.00 ns]\n\
         OPEN 0 9 /split/last => ERROR -2 [100.00 ns]\n"
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn merged_summary_counts_every_input_and_a_missing_one_fails() {
    let out = trace_merge()
        .args(["-N", "--summary"])
        .arg(data("host-a.trace"))
        .arg(data("no-such.trace"))
        .arg(data("host-b.trace"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unreadable input is exit status 2"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("opens: 4  failed: 1 (25.0%)"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such.trace"));
}

// ---------------------------------------------------------------------------------------------
// On a terminal

/// Quotes a path for `sh -c`.
fn sh_quote(path: &std::path::Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

#[test]
fn columns_are_aligned_on_a_terminal() {
    let bin = crate::common::bin();
    let command = format!(
        "{} --passwd {} -o pid,comm,path,errno,duration_ns -x {} 2>/dev/null",
        sh_quote(&bin),
        sh_quote(&data("passwd")),
        sh_quote(&data("small.trace"))
    );
    let Some(screen) = on_terminal(module_path!(), &command) else {
        return;
    };
    let row = |pid: &str, comm: &str, path: &str, errno: &str, ns: &str| {
        format!("{pid:>7} {comm:<16} {path:<24} {errno:<7} {ns:>11}")
    };
    let want = [
        row("PID", "COMM", "PATH", "ERRNO", "DURATION_NS"),
        row("200", "nginx", "/var/www/index.html", "ENOENT", "4000"),
        row("100", "cat", "/root/secret", "EACCES", "9000"),
        row("200", "nginx", "/var/www/missing", "ENOENT", "6000"),
        row("500", "bash", "/etc/bash.bashrc", "ENOENT", "700"),
    ];
    assert_eq!(screen.lines().collect::<Vec<_>>(), want, "{screen:?}");
}

#[test]
fn csv_on_a_terminal_is_escaped_and_raw_in_a_pipe() {
    let bin = crate::common::bin();
    let command = format!(
        "{} -N --format csv {} 2>/dev/null",
        sh_quote(&bin),
        sh_quote(&data("odd-paths.trace"))
    );
    let Some(screen) = on_terminal(module_path!(), &command) else {
        return;
    };
    // On the terminal: the newline, the ESC and the tab of the file names are shown escaped,
    // and no raw control byte reaches the screen.
    assert!(screen.contains(r"/tmp/new\nline\x1b[31m"), "{screen:?}");
    assert!(screen.contains(r"tab\there"), "{screen:?}");
    assert!(
        !screen.bytes().any(|b| b == 0x1b || b == b'\t'),
        "raw control on the terminal: {screen:?}"
    );
    // Through a pipe the same CSV keeps the raw bytes (lossless for readers).
    let piped = trace_merge()
        .args(["-N", "--format", "csv"])
        .arg(data("odd-paths.trace"))
        .output()
        .unwrap();
    let piped = String::from_utf8_lossy(&piped.stdout);
    assert!(piped.contains("\"/tmp/new\nline\x1b[31m\""), "{piped:?}");
}

#[test]
fn progress_bar_on_a_terminal_for_a_big_file() {
    let dir = std::env::temp_dir().join(format!("tm-options-pty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big-progress.trace");
    let line =
        "=> uid: 0 pid: 7 tid: 7 comm: worker open: /var/lib/some/fairly/long/path.dat 1000\n\
                <= uid: 0 pid: 7 tid: 7 comm: worker ret: 3 1100\n";
    std::fs::write(&path, line.repeat((9 << 20) / line.len() + 1)).unwrap();
    let bin = crate::common::bin();
    // The summary is printed at the end only, so the bar may use the terminal meanwhile.
    let with_summary = on_terminal(
        module_path!(),
        &format!(
            "{} -N --summary {} >/dev/null",
            sh_quote(&bin),
            sh_quote(&path)
        ),
    );
    // Output on the same terminal while reading (stdout is the terminal; --top 1 keeps the
    // screen short): no bar. Through a pipe (`| tail -1`), stdout is not the terminal: a bar.
    let scrolling = on_terminal(
        module_path!(),
        &format!("{} -N --top 1 {}", sh_quote(&bin), sh_quote(&path)),
    );
    let piped = on_terminal(
        module_path!(),
        &format!("{} -N {} | tail -1", sh_quote(&bin), sh_quote(&path)),
    );
    let small = on_terminal(
        module_path!(),
        &format!(
            "{} -N --summary {} >/dev/null",
            sh_quote(&bin),
            sh_quote(&data("small.trace"))
        ),
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let (Some(with_summary), Some(scrolling), Some(piped), Some(small)) =
        (with_summary, scrolling, piped, small)
    else {
        return;
    };
    assert!(
        with_summary.contains("big-progress.trace [") && with_summary.contains("MiB"),
        "{with_summary:?}"
    );
    assert_eq!(
        scrolling,
        "OPEN 0 7 /var/lib/some/fairly/long/path.dat => FD 3 [100.00 ns]\n"
    );
    assert!(piped.contains("MiB"), "{piped:?}");
    assert!(piped.ends_with("OPEN 0 7 /var/lib/some/fairly/long/path.dat => FD 3 [100.00 ns]\n"));
    assert!(
        !small.contains("small.trace ["),
        "small files get no bar: {small:?}"
    );
}
