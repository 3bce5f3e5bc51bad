//! The canonical form: every line the writers produce (an entry, a truncated entry, a return)
//! reads back to the same fields (the truncation mark included), and
//! writing those fields again gives the same bytes. So a trace written by trace-tools has one
//! spelling per event: a reader can check a line by rewriting it (trace-gen's output on the
//! hostile-name corpus is checked so, in the workspace's differential tests), and no bytes in
//! a path or a process name can make a line that reads as anything else.

use proptest::prelude::*;
use trace_format::{parse_line, write_entry, write_return, write_truncated_entry, Line};

/// Text fields as an attacker would choose them: any bytes but NUL (no path or process name
/// holds one), weighted towards the bytes and shapes the grammar gives meaning to.
fn text() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        (1..=255u8).prop_map(|b| vec![b]),
        Just(b" ".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"\x1b[31m".to_vec()),
        Just(b"\x7f".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just("\u{202e}".as_bytes().to_vec()),
        Just(b"\\x41".to_vec()),
        Just(b"\\n".to_vec()),
        Just(b"...".to_vec()),
        Just(b" 42".to_vec()),
        Just(b"7".to_vec()),
        Just(b" open: ".to_vec()),
        Just(b" ret: ".to_vec()),
        Just(b"=> uid: 0 pid: 1 open: /etc/shadow 5".to_vec()),
        Just(b"<= uid: 0 pid: 1 ret: 3 6".to_vec()),
        Just(b"# lost: 999".to_vec()),
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

/// The line parsed and written again.
fn rewrite(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match parse_line(line).expect("the writer's line parses") {
        Line::Entry(e) => {
            let comm = e.task.comm.map(|c| c.to_bytes().into_owned());
            let write = if e.path.is_truncated() {
                write_truncated_entry
            } else {
                write_entry
            };
            write(
                &mut out,
                e.task.uid,
                e.task.pid,
                e.task.tid,
                comm.as_deref(),
                &e.path.to_bytes(),
                e.ts,
            );
        }
        Line::Return(r) => {
            let comm = r.task.comm.map(|c| c.to_bytes().into_owned());
            write_return(
                &mut out,
                r.task.uid,
                r.task.pid,
                r.task.tid,
                comm.as_deref(),
                r.ret,
                r.ts,
            );
        }
        other => panic!("the writer's line read as {other:?}"),
    }
    out
}

/// No raw control byte: the line is one line, and nothing reaches a terminal raw.
fn has_raw_control(line: &[u8]) -> bool {
    line[..line.len() - 1]
        .iter()
        .any(|&b| b < 0x20 || b == 0x7f)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn canonical_entry(uid: u32, pid: u32, tid: Option<u32>, comm in proptest::option::of(text()),
                       path in text(), truncated: bool, ts: u64) {
        let mut line = Vec::new();
        let write = if truncated { write_truncated_entry } else { write_entry };
        write(&mut line, uid, pid, tid, comm.as_deref(), &path, ts);
        prop_assert!(!has_raw_control(&line), "{:?}", String::from_utf8_lossy(&line));
        let Ok(Line::Entry(e)) = parse_line(&line) else {
            panic!("not an entry: {:?}", String::from_utf8_lossy(&line))
        };
        prop_assert_eq!((e.task.uid, e.task.pid, e.task.tid, e.ts), (uid, pid, tid, ts));
        prop_assert_eq!(e.task.comm.map(|c| c.to_bytes().into_owned()), comm);
        prop_assert_eq!(e.path.to_bytes().into_owned(), path);
        prop_assert_eq!(e.path.is_truncated(), truncated);
        prop_assert_eq!(rewrite(&line), line);
    }

    #[test]
    fn canonical_return(uid: u32, pid: u32, tid: Option<u32>, comm in proptest::option::of(text()),
                        ret: i64, ts: u64) {
        let mut line = Vec::new();
        write_return(&mut line, uid, pid, tid, comm.as_deref(), ret, ts);
        prop_assert!(!has_raw_control(&line), "{:?}", String::from_utf8_lossy(&line));
        let Ok(Line::Return(r)) = parse_line(&line) else {
            panic!("not a return: {:?}", String::from_utf8_lossy(&line))
        };
        prop_assert_eq!((r.task.uid, r.task.pid, r.task.tid, r.ret, r.ts), (uid, pid, tid, ret, ts));
        prop_assert_eq!(r.task.comm.map(|c| c.to_bytes().into_owned()), comm);
        prop_assert_eq!(rewrite(&line), line);
    }
}
