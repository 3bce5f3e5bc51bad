//! Fuzz target: trace-gen's reader of bpftrace's JSON lines on arbitrary input (split into
//! lines). It must never panic, and everything it writes must be canonical trace lines: each
//! parses, holds no raw control byte, and is what trace-format's writer makes of its values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trace_format::{parse_line, write_entry, write_return, write_truncated_entry, Line};
use trace_gen::backend::bpftrace::decode::JsonDecoder;
use trace_gen::backend::Decoder;

fuzz_target!(|data: &[u8]| {
    let mut decoder = JsonDecoder::default();
    let mut out = Vec::new();
    for line in data.split(|&b| b == b'\n') {
        decoder.line(line, &mut out);
    }
    decoder.finish(&mut out);
    for line in out.split_inclusive(|&b| b == b'\n') {
        assert!(line.ends_with(b"\n"), "a line without its newline: {line:?}");
        let body = &line[..line.len() - 1];
        assert!(!body.iter().any(|&b| b < 0x20 || b == 0x7f), "a raw control byte: {line:?}");
        let mut again = Vec::new();
        match parse_line(body) {
            Ok(Line::Entry(e)) => {
                let comm = e.task.comm.map(|c| c.to_bytes().into_owned());
                let path = e.path.to_bytes();
                let write = if e.path.is_truncated() { write_truncated_entry } else { write_entry };
                write(&mut again, e.task.uid, e.task.pid, e.task.tid, comm.as_deref(), &path, e.ts);
            }
            Ok(Line::Return(r)) => {
                write_return(&mut again, r.task.uid, r.task.pid, r.task.tid, None, r.ret, r.ts);
            }
            Ok(Line::Header(h)) => trace_format::write_header(&mut again, &h),
            other => panic!("not a trace line: {line:?}: {other:?}"),
        }
        assert_eq!(again, line, "not canonical");
    }
});
