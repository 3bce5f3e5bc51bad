//! The canonical form: every line the writers produce (an entry, a truncated entry, a return)
//! reads back to the same fields (the truncation mark included), and
//! writing those fields again gives the same bytes. So a trace written by trace-tools has one
//! spelling per event: a reader can check a line by rewriting it (trace-gen's output on the
//! hostile-name corpus is checked so, in the workspace's differential tests), and no bytes in
//! a path or a process name can make a line that reads as anything else.

use proptest::prelude::*;
use trace_format::{
    parse_line, write_entry, write_entry_line, write_return, write_return_line,
    write_truncated_entry, EntryLine, Line, ReturnLine, Via,
};

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

/// The line parsed and written again, every field it holds included.
fn rewrite(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match parse_line(line).expect("the writer's line parses") {
        Line::Entry(e) => {
            let comm = e.task.comm.map(|c| c.to_bytes().into_owned());
            let path = e.path.to_bytes();
            let cgroup = e.detail.cgroup.map(|c| c.to_bytes().into_owned());
            let line = EntryLine {
                uid: e.task.uid,
                pid: e.task.pid,
                tid: e.task.tid,
                comm: comm.as_deref(),
                path: &path,
                path_truncated: e.path.is_truncated(),
                ts: e.ts,
                flags: e.detail.flags,
                resolve: e.detail.resolve,
                mode: e.detail.mode,
                via: e.detail.via,
                fault: e.detail.fault,
                cgroup: cgroup.as_deref(),
            };
            write_entry_line(&mut out, &line);
        }
        Line::Return(r) => {
            let comm = r.task.comm.map(|c| c.to_bytes().into_owned());
            let resolved = r.detail.resolved.map(|c| c.to_bytes().into_owned());
            let line = ReturnLine {
                uid: r.task.uid,
                pid: r.task.pid,
                tid: r.task.tid,
                comm: comm.as_deref(),
                ret: r.ret,
                ts: r.ts,
                resolved: resolved.as_deref(),
                resolved_truncated: r.detail.resolved.is_some_and(|t| t.is_truncated()),
                killed: r.detail.killed,
            };
            write_return_line(&mut out, &line);
        }
        other => panic!("the writer's line read as {other:?}"),
    }
    out
}

fn via() -> impl Strategy<Value = Option<Via>> {
    proptest::option::of(prop_oneof![
        Just(Via::Syscall),
        Just(Via::IoUring),
        Just(Via::Handle)
    ])
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

    #[test]
    fn canonical_entry_with_details(pid: u32, tid: Option<u32>, comm in proptest::option::of(text()),
                                    path in text(), truncated: bool, ts: u64, flags: Option<u64>,
                                    resolve: Option<u64>, mode: Option<u32>, via in via(),
                                    fault: Option<u64>, cgroup in proptest::option::of(text())) {
        let fields = EntryLine {
            uid: 0, pid, tid, comm: comm.as_deref(), path: &path, path_truncated: truncated, ts,
            flags, resolve, mode, via, fault, cgroup: cgroup.as_deref(),
        };
        let mut line = Vec::new();
        write_entry_line(&mut line, &fields);
        prop_assert!(!has_raw_control(&line), "{:?}", String::from_utf8_lossy(&line));
        let Ok(Line::Entry(e)) = parse_line(&line) else {
            panic!("not an entry: {:?}", String::from_utf8_lossy(&line))
        };
        prop_assert_eq!((e.task.pid, e.task.tid, e.ts), (pid, tid, ts));
        prop_assert_eq!(e.task.comm.map(|c| c.to_bytes().into_owned()), comm);
        prop_assert_eq!(e.path.to_bytes().into_owned(), path);
        prop_assert_eq!(e.path.is_truncated(), truncated);
        prop_assert_eq!((e.detail.flags, e.detail.resolve, e.detail.mode, e.detail.via, e.detail.fault),
                        (flags, resolve, mode, via, fault));
        prop_assert_eq!(e.detail.cgroup.map(|c| c.to_bytes().into_owned()), cgroup);
        prop_assert_eq!(rewrite(&line), line);
    }

    #[test]
    fn canonical_return_with_details(pid: u32, tid: Option<u32>, comm in proptest::option::of(text()),
                                     ret: i64, ts: u64, resolved in proptest::option::of(text()),
                                     truncated: bool, killed: Option<u32>) {
        let fields = ReturnLine {
            uid: 0, pid, tid, comm: comm.as_deref(), ret, ts, resolved: resolved.as_deref(),
            resolved_truncated: truncated && resolved.is_some(), killed,
        };
        let mut line = Vec::new();
        write_return_line(&mut line, &fields);
        prop_assert!(!has_raw_control(&line), "{:?}", String::from_utf8_lossy(&line));
        let Ok(Line::Return(r)) = parse_line(&line) else {
            panic!("not a return: {:?}", String::from_utf8_lossy(&line))
        };
        prop_assert_eq!((r.task.pid, r.task.tid, r.ret, r.ts), (pid, tid, ret, ts));
        prop_assert_eq!(r.detail.resolved.map(|c| c.to_bytes().into_owned()), resolved.clone());
        prop_assert_eq!(r.task.comm.map(|c| c.to_bytes().into_owned()), comm.clone());
        let truncated = fields.resolved_truncated;
        prop_assert_eq!(r.detail.resolved.is_some_and(|t| t.is_truncated()), truncated);
        prop_assert_eq!(r.detail.killed, killed);
        prop_assert_eq!(rewrite(&line), line);
    }
}
