//! Terminal safety: file names and process names are chosen by whoever
//! runs the traced programs, and trace-merge runs as root on an operator's terminal. ANSI CSI
//! and OSC sequences, `\r`, backspace, DEL, C1 controls and bidi controls in a path or a comm
//! must come out escaped (visible, not interpreted) in every output a terminal shows: the
//! standard text, columns, summaries, sorted output, and the messages on stderr. JSON escapes by
//! its own rules and must still read back to the original text.

use crate::common::trace_merge;
use std::path::PathBuf;

/// Path and comm payloads: (raw bytes, how the text escaping shows them).
const PAYLOADS: &[(&[u8], &str)] = &[
    (b"\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"),
    (b"\x1b]0;owned title\x07", "\\x1b]0;owned title\\x07"),
    (
        b"\x1b]8;;http://evil\x1b\\link",
        "\\x1b]8;;http://evil\\x1b\\\\link",
    ),
    (b"safe\rEVIL", "safe\\rEVIL"),
    (b"abc\x08\x08\x08xyz", "abc\\x08\\x08\\x08xyz"),
    (b"del\x7f", "del\\x7f"),
    ("c1\u{9b}31m".as_bytes(), "c1\\u{009b}31m"),
    ("exe.\u{202e}txt".as_bytes(), "exe.\\u{202e}txt"),
    (
        "iso\u{2066}late\u{2069}".as_bytes(),
        "iso\\u{2066}late\\u{2069}",
    ),
    ("mark\u{200f}".as_bytes(), "mark\\u{200f}"),
    (b"tab\there", "tab\\there"),
];

/// A trace where every payload is a path (quoted form, so any byte can be carried) and a
/// comm, one thread each; returns ok.
fn hostile_trace() -> Vec<u8> {
    let mut out = b"# trace-format: 1\n".to_vec();
    for (i, (raw, _)) in PAYLOADS.iter().enumerate() {
        let tid = 100 + i as u32;
        let mut comm = raw.to_vec();
        comm.truncate(15);
        let ts = 1000 + i as u64 * 10;
        trace_format::write_entry(&mut out, 0, tid, Some(tid), Some(&comm), raw, ts);
        trace_format::write_return(&mut out, 0, tid, Some(tid), Some(&comm), 3, ts + 5);
    }
    out
}

fn write_trace(tag: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("trace-merge-tty-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hostile.trace");
    std::fs::write(&path, hostile_trace()).unwrap();
    (dir, path)
}

/// The first byte sequence a terminal would act on: C0 controls other than `\n` (and `\t`
/// when `tab_ok`, the TSV separator), DEL, C1 controls (UTF-8 `C2 80`-`C2 9F`), bidi
/// controls (U+200E/F, U+202A-E, U+2066-9), and any byte that is not part of valid UTF-8
/// (a lone 0x9b is the C1 CSI on a terminal in 8-bit mode).
fn first_active(out: &[u8], tab_ok: bool) -> Option<usize> {
    if let Err(e) = std::str::from_utf8(out) {
        return Some(e.valid_up_to());
    }
    (0..out.len()).find(|&i| match out[i] {
        b'\n' => false,
        b'\t' => !tab_ok,
        0..=0x1f | 0x7f => true,
        0xc2 => matches!(out.get(i + 1), Some(0x80..=0x9f)),
        0xe2 => matches!(
            (out.get(i + 1), out.get(i + 2)),
            (Some(0x80), Some(0x8e | 0x8f | 0xaa..=0xae)) | (Some(0x81), Some(0xa6..=0xa9))
        ),
        _ => false,
    })
}

pub fn assert_safe(what: &str, out: &[u8], tab_ok: bool) {
    if let Some(i) = first_active(out, tab_ok) {
        panic!(
            "{what}: raw control at byte {i}: {:?}",
            String::from_utf8_lossy(&out[i.saturating_sub(30)..(i + 30).min(out.len())])
        );
    }
}

fn run(path: &PathBuf, args: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let out = trace_merge()
        .arg("-N")
        .args(args)
        .arg(path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    (out.stdout, out.stderr)
}

#[test]
fn seed_text_shows_every_payload_escaped() {
    let (_dir, path) = write_trace("seed");
    let (stdout, _) = run(&path, &[]);
    assert_safe("standard text", &stdout, false);
    let text = String::from_utf8(stdout).unwrap();
    for (i, (_, shown)) in PAYLOADS.iter().enumerate() {
        let line = format!("OPEN 0 {} {shown} => FD 3 [5.00 ns]", 100 + i);
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

#[test]
fn columns_show_paths_and_comms_escaped() {
    let (_dir, path) = write_trace("cols");
    let (stdout, _) = run(&path, &["-o", "pid,comm,path", "--no-header"]);
    assert_safe("columns (TSV)", &stdout, true);
    let text = String::from_utf8(stdout).unwrap();
    for (i, (raw, shown)) in PAYLOADS.iter().enumerate() {
        // The comm column shows the comm's first 15 bytes, escaped the same way.
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("{}\t", 100 + i)))
            .unwrap_or_else(|| panic!("no row for pid {}", 100 + i));
        let cells: Vec<&str> = row.split('\t').collect();
        assert_eq!(
            cells.len(),
            3,
            "{row:?}: a tab in a name must not add a cell"
        );
        assert_eq!(cells[2], *shown, "{row:?}");
        let mut comm = raw.to_vec();
        comm.truncate(15);
        assert!(
            first_active(cells[1].as_bytes(), false).is_none(),
            "{row:?}"
        );
        assert!(!cells[1].is_empty() && cells[1] != "-", "{row:?}");
    }
}

#[test]
fn summaries_and_sorted_output_are_escaped() {
    let (_dir, path) = write_trace("sum");
    for args in [
        &["--summary"][..],
        &["--summary-by", "comm"],
        &["--summary-by", "path"],
        &["--sort", "path"],
        &["--sort", "comm", "-o", "comm,path"],
        &["-T", "--time", "relative"],
    ] {
        let (stdout, stderr) = run(&path, args);
        assert_safe(
            &format!("{args:?}"),
            &stdout,
            args.contains(&"-o") || args.contains(&"-T"),
        );
        assert_safe(&format!("{args:?} stderr"), &stderr, false);
        let text = String::from_utf8_lossy(&stdout);
        if args != ["--summary-by", "comm"] {
            assert!(
                text.contains("\\x1b]0;owned title\\x07"),
                "{args:?}:\n{text}"
            );
        }
    }
}

/// Bytes that are not valid UTF-8 in a path and a comm: a lone 0x9b (the 8-bit CSI, which
/// builds an escape sequence without any ESC), a sequence cut at the end, an overlong `/`,
/// an encoded surrogate. Each byte is shown as `\xHH` in every text output; valid UTF-8
/// next to them is kept.
#[test]
fn bytes_that_are_not_utf8_never_reach_the_terminal_raw() {
    let names: [(&[u8], &str); 5] = [
        (b"csi\x9b2J\x9b31mred", "csi\\x9b2J\\x9b31mred"),
        (b"cut\xe2\x80", "cut\\xe2\\x80"),
        (b"over\xc0\xaflong", "over\\xc0\\xaflong"),
        (b"sur\xed\xa0\x80", "sur\\xed\\xa0\\x80"),
        (
            "caf\u{e9}\u{65e5}\u{1f600}".as_bytes(),
            "caf\u{e9}\u{65e5}\u{1f600}",
        ),
    ];
    let mut trace = b"# trace-format: 1\n".to_vec();
    for (i, (raw, _)) in names.iter().enumerate() {
        let tid = 200 + i as u32;
        let ts = 1000 + i as u64 * 10;
        let comm = [&b"c\x9b"[..], &raw[..raw.len().min(10)]].concat();
        trace_format::write_entry(&mut trace, 0, tid, Some(tid), Some(&comm), raw, ts);
        trace_format::write_return(&mut trace, 0, tid, Some(tid), Some(&comm), 3, ts + 5);
    }
    let dir = std::env::temp_dir().join(format!("trace-merge-tty-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("not-utf8.trace");
    std::fs::write(&path, &trace).unwrap();

    let (stdout, _) = run(&path, &[]);
    assert_safe("standard text", &stdout, false);
    let text = String::from_utf8(stdout).expect("text output is valid UTF-8");
    for (i, (_, shown)) in names.iter().enumerate() {
        let line = format!("OPEN 0 {} {shown} => FD 3 [5.00 ns]", 200 + i);
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    for args in [
        &["-o", "pid,comm,path"][..],
        &["--summary-by", "comm"],
        &["--summary-by", "path"],
        &["--sort", "comm", "-o", "comm,path"],
    ] {
        let (stdout, stderr) = run(&path, args);
        assert_safe(&format!("{args:?}"), &stdout, args.contains(&"-o"));
        assert_safe(&format!("{args:?} stderr"), &stderr, false);
        let text = String::from_utf8_lossy(&stdout);
        assert!(
            text.contains("\\x9b"),
            "{args:?}: 0x9b shown as \\x9b:\n{text}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_escapes_controls_and_reads_back_exactly() {
    let (_dir, path) = write_trace("json");
    let (stdout, _) = run(&path, &["--format", "json"]);
    // JSON's own rules: no raw C0 or DEL byte in a string.
    assert!(
        !stdout.iter().any(|&b| b < 0x20 && b != b'\n' || b == 0x7f),
        "raw control in JSON"
    );
    let mut seen = 0;
    for (line, (raw, _)) in stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .zip(PAYLOADS)
    {
        let v: serde_json::Value = serde_json::from_slice(line).unwrap();
        assert_eq!(v["path"].as_str().unwrap().as_bytes(), *raw, "{v}");
        seen += 1;
    }
    assert_eq!(seen, PAYLOADS.len());
}

#[test]
fn json_escapes_c1_and_bidi_controls_too() {
    let (_dir, path) = write_trace("json-c1");
    let (stdout, _) = run(&path, &["--format", "json"]);
    assert_safe("JSON", &stdout, false);
}

// CSV on a terminal is escaped: tests/options.rs `csv_on_a_terminal_is_escaped_and_raw_in_a_pipe`
// (it needs a pseudo-terminal; here stdout is a pipe, where CSV keeps the raw bytes).

#[test]
fn csv_keeps_the_raw_bytes_for_readers() {
    // What CSV promises today (see csv.rs): lossless bytes, RFC 4180 quoting.
    let (_dir, path) = write_trace("csv-raw");
    let (stdout, _) = run(&path, &["--format", "csv"]);
    let mut reader = csv::ReaderBuilder::new().from_reader(&stdout[..]);
    let paths: Vec<Vec<u8>> = reader
        .byte_records()
        .map(|r| r.unwrap().get(6).unwrap().to_vec())
        .collect();
    let expected: Vec<Vec<u8>> = PAYLOADS.iter().map(|(raw, _)| raw.to_vec()).collect();
    assert_eq!(paths, expected);
}

#[test]
fn input_file_names_are_escaped_in_messages() {
    let (dir, _) = write_trace("names");
    let evil = dir.join("\x1b]0;owned\x07\nfake: line.trace");
    std::fs::write(&evil, b"junk\n").unwrap();
    let out = trace_merge()
        .arg("-N")
        .arg(&evil)
        .arg(dir.join("\x1b[31mmissing"))
        .output()
        .unwrap();
    assert_safe("stderr", &out.stderr, false);
}

/// The same payloads as a resolved path and a cgroup (version-2 details): escaped in the text
/// format with -F, in columns, summaries and sorted output; exact in JSON.
#[test]
fn resolved_paths_and_cgroups_are_escaped_too() {
    let mut trace = b"# trace-format: 2\n".to_vec();
    for (i, (raw, _)) in PAYLOADS.iter().enumerate() {
        let pid = 100 + i as u32;
        let ts = 1000 + i as u64 * 10;
        trace_format::write_entry_line(
            &mut trace,
            &trace_format::EntryLine {
                pid,
                tid: Some(pid),
                path: b"x",
                ts,
                flags: Some(0),
                cgroup: Some(raw),
                ..Default::default()
            },
        );
        trace_format::write_return_line(
            &mut trace,
            &trace_format::ReturnLine {
                pid,
                tid: Some(pid),
                ret: 3,
                ts: ts + 5,
                resolved: Some(raw),
                ..Default::default()
            },
        );
    }
    let dir = std::env::temp_dir().join(format!("trace-merge-tty-v2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hostile-v2.trace");
    std::fs::write(&path, trace).unwrap();
    let (text, _) = run(&path, &["-F"]);
    assert_safe("-F", &text, false);
    let text = String::from_utf8(text).unwrap();
    for (i, (_, shown)) in PAYLOADS.iter().enumerate() {
        let line = format!("OPEN 0 {} {shown} => FD 3 [5.00 ns]", 100 + i);
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    let (cols, _) = run(
        &path,
        &["-o", "pid,resolved,cgroup,full_path", "--no-header"],
    );
    assert_safe("columns", &cols, true);
    let cols = String::from_utf8(cols).unwrap();
    for (i, (_, shown)) in PAYLOADS.iter().enumerate() {
        let row = format!("{}\t{shown}\t{shown}\t{shown}", 100 + i);
        assert!(cols.lines().any(|l| l == row), "missing {row:?} in\n{cols}");
    }
    for args in [
        &["--summary"][..],
        &["--summary-by", "cgroup"],
        &["--summary-by", "path"],
        &["--sort", "resolved", "-o", "resolved"],
        &["--sort", "cgroup", "-F"],
    ] {
        let (stdout, stderr) = run(&path, args);
        assert_safe(&format!("{args:?}"), &stdout, args.contains(&"-o"));
        assert_safe(&format!("{args:?} stderr"), &stderr, false);
        let text = String::from_utf8_lossy(&stdout);
        assert!(
            text.contains("\\x1b]0;owned title\\x07"),
            "{args:?}:\n{text}"
        );
    }
    let (json, _) = run(&path, &["--format", "json"]);
    assert_safe("JSON", &json, false);
    for (line, (raw, _)) in json
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .zip(PAYLOADS)
    {
        let v: serde_json::Value = serde_json::from_slice(line).unwrap();
        assert_eq!(v["resolved"].as_str().unwrap().as_bytes(), *raw, "{v}");
        assert_eq!(v["cgroup"].as_str().unwrap().as_bytes(), *raw, "{v}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
