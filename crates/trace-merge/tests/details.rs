//! The version-2 details (resolved paths, flags, resolve flags, modes, how a file was opened,
//! unreadable pointers, cgroups, killed opens) through every stage of trace-merge, on the
//! hand-written tests/data/merge/details.trace (the cases of GRAMMAR.md and of a program that
//! opens one file five ways) and on generated traces; and the promise that a trace without
//! them (every version-1 trace) prints byte for byte as before, in every mode.

use crate::common::{base64_decode, data, options_data, repo_data, trace_merge, Rng, TempDir};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// Runs `trace-merge --passwd passwd ARGS details.trace`: stdout and stderr, asserting exit 0.
fn details(args: &[&str]) -> (String, String) {
    let out = trace_merge()
        .arg("--passwd")
        .arg(options_data("passwd"))
        .args(args)
        .arg(data("details.trace"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn stdout(args: &[&str]) -> String {
    details(args).0
}

/// The pids of the opens printed by `-o pid`.
fn pids(args: &[&str]) -> Vec<u32> {
    let mut all = vec!["-o", "pid", "--no-header"];
    all.extend_from_slice(args);
    stdout(&all).lines().map(|l| l.parse().unwrap()).collect()
}

// ---- Old traces: byte for byte as before --------------------------------------------------

/// tests/data/merge/v1-golden holds, for each mode of its modes.txt, the output of the build
/// before version-2 details on every version-1 fixture of tests/data (gen.sh made them). The
/// same runs today must give the same bytes and exit status, but for one deliberate change
/// since: the text outputs show each byte that is not part of valid UTF-8 as `\xHH` (CSV in a
/// pipe keeps the raw bytes; JSON and Chrome were UTF-8 already), applied to the old bytes by
/// [`invalid_utf8_escaped`].
#[test]
fn version_1_fixtures_print_as_before_in_every_mode() {
    let golden = repo_data("merge/v1-golden");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let modes = std::fs::read_to_string(golden.join("modes.txt")).unwrap();
    let mut runs = 0;
    for line in modes
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (name, args) = line.split_once('\t').unwrap();
        let args: Vec<&str> = args.split(' ').collect();
        let mut expected = std::fs::read(golden.join(format!("{name}.out"))).unwrap();
        if name != "csv" {
            expected = invalid_utf8_escaped(&expected);
        }
        let mut got = Vec::new();
        // The fixtures are the ones named in the file, not whatever tests/data holds today.
        for header in expected
            .split(|&b| b == b'\n')
            .filter(|l| l.starts_with(b"==> "))
        {
            let header = std::str::from_utf8(header).unwrap();
            let trace = &header["==> ".len()..header.len() - " <==".len()];
            let out = trace_merge()
                .current_dir(&root)
                .args(&args)
                .arg(trace)
                .output()
                .unwrap();
            got.extend_from_slice(format!("==> {trace} <==\n").as_bytes());
            got.extend_from_slice(&out.stdout);
            got.extend_from_slice(
                format!("<== exit {}\n", out.status.code().unwrap_or(-1)).as_bytes(),
            );
            runs += 1;
        }
        if got != expected {
            let at = got.iter().zip(&expected).position(|(a, b)| a != b);
            let at = at.unwrap_or(got.len().min(expected.len()));
            let from = at.saturating_sub(200);
            panic!(
                "mode {name}: output differs from the version-1 build at byte {at}:\n--- now\n{}\n--- before\n{}",
                String::from_utf8_lossy(&got[from..(at + 200).min(got.len())]),
                String::from_utf8_lossy(&expected[from..(at + 200).min(expected.len())])
            );
        }
    }
    assert!(runs >= 10 * 45, "only {runs} runs: golden files missing?");
}

/// `bytes` with each byte that is not part of valid UTF-8 written as `\xHH`.
fn invalid_utf8_escaped(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in bytes.utf8_chunks() {
        out.extend_from_slice(chunk.valid().as_bytes());
        for b in chunk.invalid() {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
    }
    out
}

// ---- The text format -------------------------------------------------------------------

const TEXT: &str = "\
OPEN alice 10 b/created => FD 3 [1.00 us]
OPEN alice 10 ../a/./b/created => FD 4 [500.00 ns]
OPEN alice 10 /tmp/r/link/created => FD 5 [600.00 ns]
OPEN alice 10 created => FD 6 [700.00 ns]
OPEN alice 10 missing => ERROR -2 [800.00 ns]
OPEN root 20 passwd => FD 3 [900.00 ns]
OPEN alice 30 /tmp/r/a/b/created => FD 7 [200.00 ns]
OPEN alice 30  => FD 8 [300.00 ns]
OPEN alice 40 \\<unreadable 0x1> => ERROR -14 [100.00 ns]
OPEN root 50 /tmp/fifo => KILLED SIGKILL [2.00 s]
OPEN root 51 /tmp/fifo => RESTARTED ERESTARTSYS [500.00 ms]
OPEN root 60 /tmp => FD 3 [400.00 ns]
OPEN root 61 ../x => ERROR -18 [200.00 ns]
OPEN root 80 /etc/hosts => FD 3 [100.00 ns]
";

#[test]
fn text_shows_the_argument_killed_opens_and_unreadable_pointers() {
    let (text, report) = details(&[]);
    assert_eq!(text, TEXT);
    assert_eq!(report, "", "a clean trace gives no report");
}

#[test]
fn full_path_prints_the_resolved_path_else_the_argument() {
    let text = stdout(&["-F"]);
    let want = TEXT
        .replace("10 b/created", "10 /tmp/r/a/b/created")
        .replace("10 ../a/./b/created", "10 /tmp/r/a/b/created")
        .replace("10 /tmp/r/link/created", "10 /tmp/r/a/b/created")
        .replace("10 created", "10 /tmp/r/a/b/created")
        .replace("10 missing", "10 /tmp/r/a/b/missing")
        .replace("20 passwd", "20 /etc/passwd")
        .replace("30  =>", "30 /tmp/r/a/b/created =>")
        .replace("60 /tmp =>", "60 /tmp/#1234 (deleted) =>")
        .replace("61 ../x", "61 /tmp/r/x");
    assert_eq!(text, want);
    // Unchanged: no resolved path (the unreadable pointer, the killed open, the old line).
    for line in [
        "OPEN alice 40 \\<unreadable 0x1> => ERROR -14 [100.00 ns]",
        "OPEN root 50 /tmp/fifo => KILLED SIGKILL [2.00 s]",
        "OPEN root 80 /etc/hosts => FD 3 [100.00 ns]",
    ] {
        assert!(text.contains(line), "{line}");
    }
    // With columns, -F makes the path column the full path.
    let cols = stdout(&["-F", "-o", "pid,path", "--no-header"]);
    assert!(cols.starts_with("10\t/tmp/r/a/b/created\n"), "{cols}");
    assert!(cols.contains("20\t/etc/passwd\n"), "{cols}");
}

// ---- Filters ------------------------------------------------------------------------------

#[test]
fn path_matches_the_resolved_path_and_raw_path_the_argument() {
    // cd /etc; cat passwd: caught by the file it opened.
    assert_eq!(pids(&["--path", "^/etc/"]), [20, 80]);
    assert_eq!(pids(&["--raw-path", "^/etc/"]), [80]);
    // The five ways to name /tmp/r/a/b/created and the miss next to it, io_uring and
    // open_by_handle_at included; the argument alone finds two of them.
    assert_eq!(
        pids(&["--path", "^/tmp/r/a/b/"]),
        [10, 10, 10, 10, 10, 30, 30]
    );
    assert_eq!(pids(&["--raw-path", "^/tmp/r/"]), [10, 30]);
    // Both given: both must match.
    assert_eq!(
        pids(&["--path", "created$", "--raw-path", "^[^/]"]),
        [10, 10, 10]
    );
    let err = trace_merge()
        .args(["--raw-path", "(", "-"])
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&err.stderr).contains("--raw-path: invalid regular expression"),
        "{}",
        String::from_utf8_lossy(&err.stderr)
    );
}

#[test]
fn write_keeps_opens_that_can_write_and_counts_those_it_cannot_classify() {
    let (out, report) = details(&["--write", "-o", "pid,flags,mode", "--no-header"]);
    assert_eq!(
        out,
        "10\tO_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC\t0640\n\
         10\tO_RDWR|O_APPEND\t-\n\
         60\tO_RDWR|O_TMPFILE\t0600\n"
    );
    // The version-1 line has no flags: left out, and said so.
    assert!(
        report.contains("--write: 1 opens left out because the trace has no flags for them"),
        "{report}"
    );
    // Only those that passed the other filters are counted.
    let (_, report) = details(&["--write", "-p", "10"]);
    assert!(!report.contains("--write"), "{report}");
}

#[test]
fn cgroup_filter_and_summary_by_cgroup() {
    assert_eq!(
        pids(&["--cgroup", "^/user\\.slice/"]),
        [10, 10, 10, 10, 10, 30, 30]
    );
    assert_eq!(pids(&["--cgroup", "cron"]), [20]);
    // An open whose trace has no cgroup matches no pattern, not even an empty one.
    assert_eq!(pids(&["--cgroup", ""]).len(), 8);
    let summary = stdout(&["--summary-by", "cgroup"]);
    assert!(
        summary.contains(concat!(
            "summary by cgroup:\n",
            "    COUNT  FAILED        TOTAL          AVG          MAX  CGROUP\n",
            "        7       1      4.10 us    585.00 ns      1.00 us  /user.slice/app.scope\n",
            "        5       2    500.00 ms    100.00 ms    500.00 ms  -\n",
            "        1       0    900.00 ns    900.00 ns    900.00 ns  /system.slice/cron.service\n",
        )),
        "{summary}"
    );
    let by_via = stdout(&["--summary-by", "via"]);
    for row in [
        "        5       1      3.60 us    720.00 ns      1.00 us  syscall\n",
        "        1       0    300.00 ns    300.00 ns    300.00 ns  handle\n",
        "        1       0    200.00 ns    200.00 ns    200.00 ns  io_uring\n",
    ] {
        assert!(by_via.contains(row), "{row}\n{by_via}");
    }
}

#[test]
fn killed_opens_are_neither_failures_nor_restarts_nor_unfinished() {
    // -x and --ok: the killed open returned nothing to the program.
    assert_eq!(pids(&["-x"]), [10, 40, 61]);
    assert_eq!(pids(&["--ok"]), [10, 10, 10, 10, 20, 30, 30, 60, 80]);
    let rows = stdout(&[
        "-o",
        "pid,result,ret,errno,killed",
        "-p",
        "50,51",
        "--no-header",
    ]);
    assert_eq!(
        rows,
        "50\tKILLED SIGKILL\t-\t-\t9\n51\tRESTARTED ERESTARTSYS\t-512\tERESTARTSYS\t-\n"
    );
    let summary = stdout(&["--summary"]);
    assert!(
        summary.starts_with(
            "opens: 13  failed: 3 (23.0%)  restarted: 1  killed: 1  unfinished: 0  lost: 0\n"
        ),
        "{summary}"
    );
    // Not in the latency: the 2 s it waited is not an open's latency.
    assert!(
        summary.contains("latency of 13 completed opens:"),
        "{summary}"
    );
    assert!(summary.contains("  max    500.00 ms"), "{summary}");
}

// ---- Summaries ----------------------------------------------------------------------------

#[test]
fn summary_groups_paths_by_resolved_path() {
    let summary = stdout(&["--summary"]);
    assert!(
        summary.contains(concat!(
            "top paths by count:\n",
            "    COUNT  FAILED        TOTAL  PATH\n",
            "        6       0      3.30 us  /tmp/r/a/b/created\n",
            "        1       1    100.00 ns  \\<unreadable 0x1>\n",
        )),
        "{summary}"
    );
    let by_path = stdout(&["--summary-by", "path"]);
    assert!(
        by_path.contains(
            "        6       0      3.30 us    550.00 ns      1.00 us  /tmp/r/a/b/created\n"
        ),
        "{by_path}"
    );
    assert!(by_path.contains("  \\<unreadable 0x1>\n"), "{by_path}");
    assert!(!by_path.contains("  passwd\n"), "{by_path}");
}

// ---- JSON, CSV, columns, sorting, Chrome -----------------------------------------------------

/// The keys every object has (version 1), in order.
const V1_KEYS: [&str; 16] = [
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

fn json_objects(args: &[&str]) -> Vec<serde_json::Map<String, Value>> {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    stdout(&all)
        .lines()
        .map(|l| match serde_json::from_str(l).unwrap() {
            Value::Object(map) => map,
            v => panic!("not an object: {v}"),
        })
        .collect()
}

/// The keys of a one-level JSON object, in the order written (serde_json's map sorts them).
fn keys_in_order(line: &str) -> Vec<String> {
    serde_json::from_str::<Value>(line).unwrap();
    let mut keys = Vec::new();
    let (mut in_string, mut escaped, mut start) = (false, false, 0);
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' if in_string => {
                in_string = false;
                if line[i + 1..].starts_with(':') {
                    keys.push(line[start..i].to_owned());
                }
            }
            '"' => {
                in_string = true;
                start = i + 1;
            }
            _ => {}
        }
    }
    keys
}

#[test]
fn json_has_a_key_for_each_detail_given_and_none_for_the_others() {
    let lines = stdout(&["--format", "json"]);
    let objects = json_objects(&[]);
    assert_eq!(objects.len(), 14);
    let first = lines.lines().next().unwrap();
    assert_eq!(
        keys_in_order(first),
        [
            &V1_KEYS[..],
            &[
                "resolved",
                "resolved_b64",
                "flags",
                "mode",
                "via",
                "cgroup",
                "cgroup_b64"
            ]
        ]
        .concat()
    );
    let o = &objects[0];
    assert_eq!(o["path"], "b/created");
    assert_eq!(o["resolved"], "/tmp/r/a/b/created");
    assert_eq!(o["resolved_b64"], Value::Null);
    assert_eq!(o["flags"], "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC");
    assert_eq!(o["mode"], "0640");
    assert_eq!(o["via"], "syscall");
    assert_eq!(o["cgroup"], "/user.slice/app.scope");
    assert!(!o.contains_key("resolve") && !o.contains_key("fault") && !o.contains_key("killed"));
    let by_pid = |pid: u64| objects.iter().find(|o| o["pid"] == pid).unwrap();
    assert_eq!(by_pid(30)["via"], "io_uring");
    assert_eq!(by_pid(61)["resolve"], "RESOLVE_BENEATH");
    assert_eq!(by_pid(61)["errno"], "EXDEV");
    assert_eq!(by_pid(60)["flags"], "O_RDWR|O_TMPFILE");
    let fault = by_pid(40);
    assert_eq!(
        (&fault["path"], &fault["fault"]),
        (&Value::from(""), &Value::from("0x1"))
    );
    assert!(!fault.contains_key("resolved"));
    let killed = by_pid(50);
    assert_eq!(killed["killed"], 9);
    assert_eq!(killed["restarted"], false);
    for key in ["ret", "fd", "errno"] {
        assert_eq!(killed[key], Value::Null, "{key}");
    }
    assert_eq!(killed["duration_ns"], 2_000_000_000u64);
    let restarted = by_pid(51);
    assert_eq!(
        (&restarted["restarted"], &restarted["ret"]),
        (&Value::from(true), &Value::from(-512))
    );
    assert!(!restarted.contains_key("killed"));
    // The version-1 line: exactly the version-1 keys.
    let old = lines.lines().last().unwrap();
    assert_eq!(keys_in_order(old), V1_KEYS);
}

#[test]
fn columns_csv_and_sorting_of_every_detail() {
    let all = "pid,path,resolved,full_path,flags,resolve,mode,via,fault,cgroup,killed";
    let tsv = stdout(&["-o", all, "-p", "10,40,50,61", "--no-header"]);
    let rows: Vec<&str> = tsv.lines().collect();
    assert_eq!(
        rows[0],
        "10\tb/created\t/tmp/r/a/b/created\t/tmp/r/a/b/created\tO_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC\t-\t0640\tsyscall\t-\t/user.slice/app.scope\t-"
    );
    assert!(
        rows.contains(
            &"40\t\\<unreadable 0x1>\t-\t\\<unreadable 0x1>\tO_RDONLY\t-\t-\t-\t0x1\t-\t-"
        ),
        "{tsv}"
    );
    assert!(
        rows.contains(&"50\t/tmp/fifo\t-\t/tmp/fifo\tO_RDONLY\t-\t-\t-\t-\t-\t9"),
        "{tsv}"
    );
    assert!(
        rows.contains(&"61\t../x\t/tmp/r/x\t/tmp/r/x\tO_RDONLY\tRESOLVE_BENEATH\t-\t-\t-\t-\t-"),
        "{tsv}"
    );
    // CSV: raw values, empty when absent; the unreadable path is empty, its fault says why.
    let csv_out = stdout(&["--format", "csv", "-o", all]);
    let mut reader = csv::Reader::from_reader(csv_out.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        all.split(',').collect::<Vec<_>>()
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 14);
    let fault = records.iter().find(|r| &r[0] == "40").unwrap();
    assert_eq!((&fault[1], &fault[3], &fault[8]), ("", "", "0x1"));
    let old = records.iter().find(|r| &r[0] == "80").unwrap();
    assert_eq!(
        old.iter().skip(2).filter(|f| !f.is_empty()).count(),
        1,
        "only full_path: {old:?}"
    );
    // Sorting: present values first, absent last, either way.
    let sorted = |args: &[&str]| -> Vec<u32> {
        let mut all = vec!["--sort"];
        all.extend_from_slice(args);
        pids(&all)
    };
    assert_eq!(sorted(&["killed"])[0], 50);
    assert_eq!(sorted(&["flags", "-r"])[..2], [60, 10]);
    assert_eq!(sorted(&["resolve"])[0], 61);
    assert_eq!(sorted(&["resolved,pid"])[..3], [20, 60, 51]);
    assert_eq!(*sorted(&["resolved"]).last().unwrap(), 80);
    assert_eq!(sorted(&["via,pid"])[..3], [10, 10, 10]);
    assert_eq!(sorted(&["via", "-r"])[..2], [30, 30]);
    assert_eq!(sorted(&["cgroup", "-r"])[0], 10);
    assert_eq!(sorted(&["mode"])[..2], [60, 10]);
    assert_eq!(sorted(&["fault"])[0], 40);
    assert_eq!(sorted(&["full_path,pid"])[..3], [40, 80, 20]);
}

#[test]
fn chrome_bars_are_named_by_the_resolved_path() {
    let out = stdout(&["--format", "chrome"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let opens: Vec<&Value> = v["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] != "M")
        .collect();
    assert_eq!(opens.len(), 14);
    let first = opens[0];
    assert_eq!(first["name"], "/tmp/r/a/b/created");
    assert_eq!(first["args"]["path"], "b/created");
    assert_eq!(first["args"]["flags"], "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC");
    assert_eq!(first["args"]["mode"], "0640");
    assert_eq!(first["args"]["via"], "syscall");
    assert_eq!(first["args"]["cgroup"], "/user.slice/app.scope");
    let killed = opens.iter().find(|e| e["pid"] == 50).unwrap();
    assert_eq!(killed["cat"], "open,killed");
    assert_eq!(killed["args"]["killed"], 9);
    assert_eq!(killed["dur"], 2_000_000.0);
    let fault = opens.iter().find(|e| e["pid"] == 40).unwrap();
    assert_eq!(fault["name"], "\\<unreadable 0x1>");
    let old = opens.iter().find(|e| e["pid"] == 80).unwrap();
    assert_eq!(old["name"], "/etc/hosts");
    assert!(old["args"].get("path").is_none());
}

// ---- Generated traces ---------------------------------------------------------------------

/// Random details on many opens, written by trace-format's writer: whatever bytes a
/// resolved path or a cgroup holds, JSON (`*_b64` when not UTF-8) and CSV give them back
/// exactly, the flags read back as names that add up to the number, and every terminal
/// format stays free of raw controls.
#[test]
fn generated_details_read_back_exactly() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut trace = b"# trace-format: 2\n".to_vec();
    let mut expected = Vec::new();
    for i in 0..300u32 {
        // Any byte but NUL (no name holds one), after a `/`.
        let bytes = |rng: &mut Rng| -> Vec<u8> {
            let len = rng.next() % 24;
            std::iter::once(b'/')
                .chain((0..len).map(|_| match rng.next() % 4 {
                    0 => (1 + rng.next() % 255) as u8,
                    _ => b"/abc\xc3\xa9._ x"[(rng.next() % 10) as usize],
                }))
                .collect()
        };
        let resolved = (rng.next() % 3 != 0).then(|| bytes(&mut rng));
        let cgroup = (rng.next() % 2 == 0).then(|| bytes(&mut rng));
        let flags = (rng.next() % 4 != 0).then(|| rng.next() & 0x7fff_ffff);
        let killed = (rng.next() % 10 == 0).then_some(9);
        let pid = 100 + i;
        let ts = 1000 + u64::from(i) * 100;
        trace_format::write_entry_line(
            &mut trace,
            &trace_format::EntryLine {
                uid: 0,
                pid,
                tid: Some(pid),
                path: b"p",
                ts,
                flags,
                cgroup: cgroup.as_deref(),
                ..Default::default()
            },
        );
        trace_format::write_return_line(
            &mut trace,
            &trace_format::ReturnLine {
                uid: 0,
                pid,
                tid: Some(pid),
                ret: 3,
                ts: ts + 10,
                resolved: resolved.as_deref(),
                killed,
                ..Default::default()
            },
        );
        expected.push((resolved, cgroup, flags, killed));
    }
    let dir = TempDir::new("details-gen");
    let path = dir.path("gen.trace");
    std::fs::write(&path, &trace).unwrap();
    let run = |args: &[&str]| -> Vec<u8> {
        let out = trace_merge()
            .arg("-N")
            .args(args)
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        out.stdout
    };
    let json = run(&["--format", "json"]);
    let exact = |o: &Value, key: &str| -> Option<Vec<u8>> {
        match (&o[key], &o[format!("{key}_b64").as_str()]) {
            (Value::Null, _) => None,
            (_, Value::String(b64)) => Some(base64_decode(b64)),
            (Value::String(text), _) => Some(text.as_bytes().to_vec()),
            other => panic!("{key}: {other:?}"),
        }
    };
    let lines: Vec<&[u8]> = json
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), expected.len());
    for (line, (resolved, cgroup, flags, killed)) in lines.iter().zip(&expected) {
        let o: Value = serde_json::from_slice(line).unwrap();
        assert_eq!(exact(&o, "resolved"), *resolved, "{o}");
        assert_eq!(exact(&o, "cgroup"), *cgroup, "{o}");
        assert_eq!(o["killed"].as_u64(), killed.map(u64::from), "{o}");
        match flags {
            None => assert!(o.get("flags").is_none(), "{o}"),
            Some(flags) => assert_eq!(flags_value(o["flags"].as_str().unwrap()), *flags, "{o}"),
        }
    }
    let csv_out = run(&["--format", "csv", "-o", "pid,resolved,cgroup"]);
    let mut reader = csv::Reader::from_reader(&csv_out[..]);
    for (record, (resolved, cgroup, _, _)) in reader.byte_records().zip(&expected) {
        let record = record.unwrap();
        assert_eq!(
            record.get(1).unwrap(),
            resolved.as_deref().unwrap_or_default()
        );
        assert_eq!(
            record.get(2).unwrap(),
            cgroup.as_deref().unwrap_or_default()
        );
    }
    for args in [
        &["-F"][..],
        &["-o", "resolved,cgroup,full_path,flags"],
        &["--summary"],
        &["--summary-by", "cgroup"],
        &["--sort", "resolved", "-o", "resolved"],
    ] {
        crate::terminal_safety::assert_safe(&format!("{args:?}"), &run(args), args.contains(&"-o"));
    }
}

/// The number named by `O_...|...|0x...` (Linux numbering).
fn flags_value(names: &str) -> u64 {
    let bits: std::collections::HashMap<&str, u64> = [
        ("O_RDONLY", 0),
        ("O_WRONLY", 1),
        ("O_RDWR", 2),
        ("O_ACCMODE", 3),
        ("O_CREAT", 0x40),
        ("O_EXCL", 0x80),
        ("O_NOCTTY", 0x100),
        ("O_TRUNC", 0x200),
        ("O_APPEND", 0x400),
        ("O_NONBLOCK", 0x800),
        ("O_DSYNC", 0x1000),
        ("O_ASYNC", 0x2000),
        ("O_DIRECT", 0x4000),
        ("O_LARGEFILE", 0x8000),
        ("O_DIRECTORY", 0x10000),
        ("O_NOFOLLOW", 0x20000),
        ("O_NOATIME", 0x40000),
        ("O_CLOEXEC", 0x80000),
        ("__O_SYNC", 0x100000),
        ("O_SYNC", 0x101000),
        ("O_PATH", 0x200000),
        ("__O_TMPFILE", 0x400000),
        ("O_TMPFILE", 0x410000),
    ]
    .into_iter()
    .collect();
    let mut seen = BTreeSet::new();
    names
        .split('|')
        .map(|name| {
            assert!(seen.insert(name), "{name} twice in {names}");
            match name.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
                None => bits[name],
            }
        })
        .fold(0, |a, b| a | b)
}

#[test]
fn heat_map_says_how_many_killed_opens_it_did_not_draw() {
    let dir = TempDir::new("details-heatmap");
    let svg = dir.path("map.svg");
    let out = trace_merge()
        .arg("--heatmap")
        .arg(&svg)
        .arg(data("details.trace"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("1 killed opens not drawn"), "{text}");
}
