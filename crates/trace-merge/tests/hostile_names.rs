//! The hostile-name corpus as trace-gen really wrote it: tests/data/hostile/
//! names-from-trace-gen.trace is the raw output of the workspace's differential test
//! `hostile_names_as_an_unprivileged_user_match_strace` (saved with
//! `TRACE_TOOLS_SAVE_HOSTILE_TRACE=FILE`): file names that forge `=>`/`<=` lines, `# lost:`
//! headers, `Lost N events` and bpftrace JSON lines, quotes, backslashes, `\x41` text, ESC,
//! CR, TAB, bidi controls, invalid UTF-8, spaces, long and truncated paths, and process names
//! with spaces, ` open: `, ` ret: ` and control bytes, opened as uid 65534.
//!
//! Every output format prints it unambiguously: JSON is the reference (exact bytes through
//! `*_b64`); the text and column formats have one line per open, no raw control byte, and
//! each path escaped whole inside its own line; CSV reads back to the exact bytes; the
//! summary has no raw control byte. Nothing forged appears anywhere.

use crate::common::{hostile_data, trace_merge};

const FIXTURE: &str = "names-from-trace-gen.trace";

fn run(args: &[&str]) -> Vec<u8> {
    let out = trace_merge()
        .args(["-N", "--unfinished"])
        .args(args)
        .arg(hostile_data(FIXTURE))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("malformed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// One open as JSON gives it: pid, comm, path bytes, ret.
#[derive(Debug, PartialEq)]
struct Open {
    uid: u64,
    pid: u64,
    comm: Vec<u8>,
    path: Vec<u8>,
    truncated: bool,
    ret: Option<i64>,
}

fn b64(s: &str) -> Vec<u8> {
    crate::common::base64_decode(s)
}

fn bytes_of(o: &serde_json::Value, key: &str) -> Vec<u8> {
    match o[format!("{key}_b64")].as_str() {
        Some(b) => b64(b),
        None => o[key].as_str().unwrap_or_default().as_bytes().to_vec(),
    }
}

fn json_opens() -> Vec<Open> {
    let out = String::from_utf8(run(&["--format", "json"])).expect("JSON is UTF-8");
    out.lines()
        .map(|l| {
            let o: serde_json::Value = serde_json::from_str(l).unwrap();
            Open {
                uid: o["uid"].as_u64().unwrap(),
                pid: o["pid"].as_u64().unwrap(),
                comm: bytes_of(&o, "comm"),
                path: bytes_of(&o, "path"),
                truncated: o["path_truncated"].as_bool().unwrap(),
                ret: o["ret"].as_i64(),
            }
        })
        .collect()
}

/// The escaping of trace-merge's text formats (see src/escape.rs), written independently.
fn escaped(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            let n = c as u32;
            if n < 0x80 {
                push_ascii(&mut out, n as u8);
            } else if (0x80..=0x9f).contains(&n)
                || [0x200e, 0x200f].contains(&n)
                || (0x202a..=0x202e).contains(&n)
                || (0x2066..=0x2069).contains(&n)
            {
                out.extend_from_slice(format!("\\u{{{n:04x}}}").as_bytes());
            } else {
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
        }
        // Bytes that are not part of valid UTF-8: each as \xHH.
        for b in chunk.invalid() {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
    }
    out
}

fn push_ascii(out: &mut Vec<u8>, b: u8) {
    match b {
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\t' => out.extend_from_slice(b"\\t"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\\' => out.extend_from_slice(b"\\\\"),
        0..=0x1f | 0x7f => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        _ => out.push(b),
    }
}

/// No byte a terminal acts on: C0 controls but the line ends, DEL, raw bidi controls.
fn assert_no_raw_controls(what: &str, out: &[u8]) {
    for (i, line) in out.split(|&b| b == b'\n').enumerate() {
        assert!(
            !line.iter().any(|&b| b < 0x20 && b != b'\t' || b == 0x7f),
            "{what}: raw control byte in line {i}: {}",
            String::from_utf8_lossy(line)
        );
        assert!(
            !String::from_utf8_lossy(line).contains('\u{202e}'),
            "{what}: raw bidi control in line {i}"
        );
    }
}

#[test]
fn json_is_exact_and_nothing_forged_appears() {
    let opens = json_opens();
    let entries = std::fs::read(hostile_data(FIXTURE))
        .unwrap()
        .split(|&b| b == b'\n')
        .filter(|l| l.starts_with(b"=> "))
        .count();
    assert_eq!(opens.len(), entries);
    for o in &opens {
        assert!(o.path != b"/etc/shadow" && o.path != b"x", "forged: {o:?}");
        assert!(![1, 2, 9].contains(&o.pid), "forged: {o:?}");
    }
    let hostile: Vec<&Open> = opens.iter().filter(|o| o.comm != b"sh").collect();
    let names: Vec<&[u8]> = hostile.iter().map(|o| o.comm.as_slice()).collect();
    for comm in [
        &b"a open: y"[..],
        b"x ret: 3 4",
        b"sp ace\nnl",
        b"\x1b[31m\xff\"\\",
        b"fifteen-bytes-x",
    ] {
        assert!(names.contains(&comm), "{:?}", String::from_utf8_lossy(comm));
    }
    let forged_event = opens
        .iter()
        .filter(|o| {
            o.path
                .windows(b"open: /etc/shadow 7\n<= uid".len())
                .any(|w| w == b"open: /etc/shadow 7\n<= uid")
        })
        .count();
    assert_eq!(forged_event, 1);
    assert_eq!(opens.iter().filter(|o| o.truncated).count(), 1);
}

#[test]
fn text_has_one_line_per_open_with_the_whole_path_escaped() {
    let opens = json_opens();
    let out = run(&[]);
    assert_no_raw_controls("text", &out);
    // The fixture's invalid UTF-8 is escaped: the text is valid UTF-8 throughout.
    assert!(
        std::str::from_utf8(&out).is_ok(),
        "raw invalid UTF-8 in text"
    );
    let lines: Vec<&[u8]> = out
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), opens.len());
    for (line, o) in lines.iter().zip(&opens) {
        let mut want = format!("OPEN {} {} ", o.uid, o.pid).into_bytes();
        want.extend_from_slice(&escaped(&o.path));
        if o.truncated {
            want.extend_from_slice(b"...");
        }
        want.extend_from_slice(b" => ");
        assert!(
            line.starts_with(&want),
            "{}\n  expected the path as {}",
            String::from_utf8_lossy(line),
            String::from_utf8_lossy(&want)
        );
        // After the path: the result and the duration, nothing else.
        let rest = String::from_utf8_lossy(&line[want.len()..]).into_owned();
        let result = match o.ret {
            Some(r) if r >= 0 => format!("FD {r} ["),
            Some(r) => format!("ERROR {r} ["),
            None => "UNFINISHED".to_owned(),
        };
        assert!(rest.starts_with(&result), "{rest}");
        assert!(rest.ends_with(']') || o.ret.is_none(), "{rest}");
    }
}

#[test]
fn columns_escape_every_field_and_keep_one_line_per_open() {
    let opens = json_opens();
    let out = run(&["-o", "pid,comm,path,result", "--no-header"]);
    assert_no_raw_controls("columns", &out);
    let lines: Vec<&[u8]> = out
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), opens.len());
    for (line, o) in lines.iter().zip(&opens) {
        let cells: Vec<&[u8]> = line.split(|&b| b == b'\t').collect();
        assert_eq!(cells.len(), 4, "{}", String::from_utf8_lossy(line));
        assert_eq!(cells[0], o.pid.to_string().as_bytes());
        assert_eq!(cells[1], escaped(&o.comm).as_slice());
        let mut path = escaped(&o.path);
        if o.truncated {
            path.extend_from_slice(b"...");
        }
        assert_eq!(cells[2], path.as_slice());
    }
}

#[test]
fn csv_reads_back_to_the_exact_bytes() {
    let opens = json_opens();
    let out = run(&["--format", "csv"]);
    let mut reader = csv::ReaderBuilder::new().from_reader(out.as_slice());
    let header = reader.byte_headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name.as_bytes()).unwrap();
    let (pid, comm, path) = (col("pid"), col("comm"), col("path"));
    let records: Vec<csv::ByteRecord> = reader.byte_records().map(Result::unwrap).collect();
    assert_eq!(records.len(), opens.len());
    for (r, o) in records.iter().zip(&opens) {
        assert_eq!(r[pid], *o.pid.to_string().as_bytes());
        assert_eq!(&r[comm], o.comm.as_slice());
        assert_eq!(&r[path], o.path.as_slice());
    }
}

#[test]
fn summary_has_no_raw_control_byte_and_no_forged_count() {
    let out = run(&["--summary"]);
    assert_no_raw_controls("summary", &out);
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("lost: 0"), "{text}");
    assert!(!text.contains("999999"), "{text}");
}
