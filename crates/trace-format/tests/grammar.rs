//! Table tests for every rule of GRAMMAR.md, and the round-trip property over generated values.

use proptest::prelude::*;
use trace_format::{
    parse_line, write_entry, write_header, write_return, Clock, Field, Header, Line, ParseError,
    TextForm,
};

/// `entry!(line => uid, pid, tid, comm, path, ts)`: the line parses to these decoded values.
macro_rules! entry {
    ($name:ident: $line:expr => $uid:expr, $pid:expr, $tid:expr, $comm:expr, $path:expr, $ts:expr) => {
        #[test]
        fn $name() {
            let Line::Entry(e) = parse_line($line).unwrap() else {
                panic!("not an entry")
            };
            assert_eq!(e.task.uid, $uid);
            assert_eq!(e.task.pid, $pid);
            assert_eq!(e.task.tid, $tid);
            let comm: Option<&[u8]> = $comm;
            assert_eq!(
                e.task.comm.map(|c| c.to_bytes().into_owned()),
                comm.map(|c| c.to_vec())
            );
            let path: &[u8] = $path;
            assert_eq!(&*e.path.to_bytes(), path);
            assert_eq!(e.ts, $ts);
        }
    };
}

/// `ret!(line => uid, pid, tid, comm, ret, ts)`.
macro_rules! ret {
    ($name:ident: $line:expr => $uid:expr, $pid:expr, $tid:expr, $comm:expr, $ret:expr, $ts:expr) => {
        #[test]
        fn $name() {
            let Line::Return(r) = parse_line($line).unwrap() else {
                panic!("not a return")
            };
            assert_eq!((r.task.uid, r.task.pid, r.task.tid), ($uid, $pid, $tid));
            let comm: Option<&[u8]> = $comm;
            assert_eq!(
                r.task.comm.map(|c| c.to_bytes().into_owned()),
                comm.map(|c| c.to_vec())
            );
            assert_eq!((r.ret, r.ts), ($ret, $ts));
        }
    };
}

/// `err!(line => error)`.
macro_rules! err {
    ($name:ident: $line:expr => $err:expr) => {
        #[test]
        fn $name() {
            assert_eq!(parse_line($line), Err($err));
        }
    };
}

// Rule 1: the seed's lines.
entry!(seed_entry: b"=> uid: 0 pid: 3584 open: /tmp/not_exists 1795664257567614000"
    => 0, 3584, None, None, b"/tmp/not_exists", 1795664257567614000);
ret!(seed_return: b"<= uid: 0 pid: 3584 ret: -2 1795664257567624170"
    => 0, 3584, None, None, -2, 1795664257567624170);
ret!(return_fd: b"<= uid: 33 pid: 1 ret: 3 7" => 33, 1, None, None, 3, 7);

// Rule 2: optional tid and comm.
entry!(with_tid: b"=> uid: 0 pid: 10 tid: 11 open: /a 1" => 0, 10, Some(11), None, b"/a", 1);
entry!(with_comm: b"=> uid: 0 pid: 10 comm: cat open: /a 1" => 0, 10, None, Some(b"cat"), b"/a", 1);
entry!(with_both: b"=> uid: 0 pid: 10 tid: 12 comm: cat open: /a 1" => 0, 10, Some(12), Some(b"cat"), b"/a", 1);
entry!(comm_with_space: b"=> uid: 0 pid: 1 comm: Web Content open: /a 1" => 0, 1, None, Some(b"Web Content"), b"/a", 1);
entry!(comm_empty: b"=> uid: 0 pid: 1 comm:  open: /a 1" => 0, 1, None, Some(b""), b"/a", 1);
entry!(comm_first_open_wins: b"=> uid: 0 pid: 1 comm: a open: b open: /c 1" => 0, 1, None, Some(b"a"), b"b open: /c", 1);
entry!(comm_quoted: b"=> uid: 0 pid: 1 comm: \"a open: b\" open: /c 1" => 0, 1, None, Some(b"a open: b"), b"/c", 1);
ret!(ret_comm_last_ret_wins: b"<= uid: 0 pid: 1 comm: x ret: y ret: 3 9" => 0, 1, None, Some(b"x ret: y"), 3, 9);
ret!(ret_with_both: b"<= uid: 5 pid: 6 tid: 7 comm: sh ret: -13 9" => 5, 6, Some(7), Some(b"sh"), -13, 9);

// Rule 3: paths.
entry!(path_spaces: b"=> uid: 0 pid: 1 open: /home/alice/My Documents/report final.pdf 5"
    => 0, 1, None, None, b"/home/alice/My Documents/report final.pdf", 5);
entry!(path_trailing_space: b"=> uid: 0 pid: 1 open: /a  5" => 0, 1, None, None, b"/a ", 5);
entry!(path_empty: b"=> uid: 0 pid: 1 open:  5" => 0, 1, None, None, b"", 5);
entry!(path_non_utf8: b"=> uid: 0 pid: 1 open: /tmp/bad\xff\xfe 5" => 0, 1, None, None, b"/tmp/bad\xff\xfe", 5);
entry!(path_crlf: b"=> uid: 0 pid: 1 open: /a 5\r\n" => 0, 1, None, None, b"/a", 5);
entry!(path_newline_only: b"=> uid: 0 pid: 1 open: /a 5\n" => 0, 1, None, None, b"/a", 5);
entry!(path_looks_like_entry: b"=> uid: 0 pid: 1 open: /x => uid: 0 pid: 2 open: /y 3 5"
    => 0, 1, None, None, b"/x => uid: 0 pid: 2 open: /y 3", 5);
entry!(quoted_newline: br#"=> uid: 0 pid: 1 open: "/tmp/new\nline" 5"# => 0, 1, None, None, b"/tmp/new\nline", 5);
entry!(quoted_dtrace_nul: br#"=> uid: 0 pid: 1 open: "/tmp/a b\0" 5"# => 0, 1, None, None, b"/tmp/a b", 5);
entry!(quoted_escapes: br#"=> uid: 0 pid: 1 open: "q\"q\\s\033\x41\t" 5"# => 0, 1, None, None, b"q\"q\\s\x1bA\t", 5);
entry!(quoted_solaris_nuls: br#"=> uid: 0 pid: 1 open: "/etc/passwd\0\0\0\0" 5"# => 0, 1, None, None, b"/etc/passwd", 5);
entry!(quoted_stap_unicode: br#"=> uid: 0 pid: 1 comm: "caf\u00e9" open: "/tmp/\u00e9t\u00e9 \U0001f600" 5"# => 0, 1, None, Some("café".as_bytes()), "/tmp/été 😀".as_bytes(), 5);
entry!(quoted_octal_utf8: br#"=> uid: 0 pid: 1 open: "caf\303\251" 5"# => 0, 1, None, None, "café".as_bytes(), 5);
entry!(quoted_bad_escape_is_raw: br#"=> uid: 0 pid: 1 open: "a\qb" 5"# => 0, 1, None, None, br#""a\qb""#, 5);
entry!(unbalanced_quote_is_raw: br#"=> uid: 0 pid: 1 open: "abc 5"# => 0, 1, None, None, br#""abc"#, 5);
entry!(inner_quote_is_raw: br#"=> uid: 0 pid: 1 open: "a"b" 5"# => 0, 1, None, None, br#""a"b""#, 5);
entry!(stap_truncated: br#"=> uid: 0 pid: 1 open: "/very/lo"... 5"# => 0, 1, None, None, b"/very/lo", 5);
entry!(stap_fault_address: b"=> uid: 0 pid: 1 open: 0x7ffd1234 5" => 0, 1, None, None, b"0x7ffd1234", 5);

#[test]
fn path_forms_are_reported() {
    let form = |l: &[u8]| match parse_line(l).unwrap() {
        Line::Entry(e) => (e.path.form(), e.path.is_truncated()),
        _ => unreachable!(),
    };
    assert_eq!(form(b"=> uid: 0 pid: 1 open: /a 5"), (TextForm::Raw, false));
    assert_eq!(
        form(b"=> uid: 0 pid: 1 open: \"/a\" 5"),
        (TextForm::Quoted, false)
    );
    assert_eq!(
        form(b"=> uid: 0 pid: 1 open: \"/a\"... 5"),
        (TextForm::QuotedTruncated, true)
    );
}

#[test]
fn raw_path_borrows_from_line() {
    let line = b"=> uid: 0 pid: 1 open: /a b 5".to_vec();
    let Line::Entry(e) = parse_line(&line).unwrap() else {
        unreachable!()
    };
    assert!(matches!(e.path.to_bytes(), std::borrow::Cow::Borrowed(_)));
    assert_eq!(e.path.as_written(), b"/a b");
}

// Rule 4: headers and comments.
#[test]
fn headers() {
    fn h(l: &[u8]) -> Line<'_> {
        parse_line(l).unwrap()
    }
    assert_eq!(h(b"# trace-format: 1"), Line::Header(Header::Version(1)));
    assert_eq!(
        h(b"# backend: bpftrace v0.17.0"),
        Line::Header(Header::Backend(b"bpftrace v0.17.0"))
    );
    assert_eq!(h(b"# host: db-7"), Line::Header(Header::Host(b"db-7")));
    assert_eq!(
        h(b"# clock: realtime\r\n"),
        Line::Header(Header::Clock(Clock::Realtime))
    );
    assert_eq!(
        h(b"# clock-offset-ns: -12"),
        Line::Header(Header::ClockOffset(-12))
    );
    assert_eq!(
        h(b"# clock-offset-ns: 1795664257000000000"),
        Line::Header(Header::ClockOffset(1795664257000000000))
    );
    assert_eq!(h(b"# lost: 0"), Line::Header(Header::Lost(0)));
    assert_eq!(
        h(b"# future_key: anything: at all"),
        Line::Header(Header::Other {
            key: b"future_key",
            value: b"anything: at all"
        })
    );
    assert_eq!(h(b"#no space"), Line::Comment(b"no space"));
    assert_eq!(h(b"#"), Line::Comment(b""));
    assert_eq!(h(b"# : empty key"), Line::Comment(b" : empty key"));
    assert_eq!(h(b"# two words: here"), Line::Comment(b" two words: here"));
    assert_eq!(h(b""), Line::Blank);
    assert_eq!(h(b"\n"), Line::Blank);
    assert_eq!(h(b"\r\n"), Line::Blank);
}

err!(header_bad_lost: b"# lost: -1" => ParseError::InvalidHeader("lost"));
err!(header_bad_clock: b"# clock: sundial" => ParseError::InvalidHeader("clock"));
err!(header_bad_version: b"# trace-format: 99999999999" => ParseError::InvalidHeader("trace-format"));
err!(header_bad_offset: b"# clock-offset-ns: 1e9" => ParseError::InvalidHeader("clock-offset-ns"));

// Rule 5: everything else is a typed error.
err!(chatter: b"Attaching 4 probes..." => ParseError::NotATraceLine);
err!(lost_chatter: b"Lost 12 events" => ParseError::NotATraceLine);
err!(leading_space: b" => uid: 0 pid: 1 open: /a 5" => ParseError::NotATraceLine);
err!(whitespace_only: b"  " => ParseError::NotATraceLine);
err!(arrow_only: b"=>" => ParseError::NotATraceLine);
err!(no_uid: b"=> pid: 1 open: /a 5" => ParseError::MissingField(Field::Uid));
err!(no_pid: b"=> uid: 0 open: /a 5" => ParseError::MissingField(Field::Pid));
err!(truncated_after_uid: b"=> uid: 0" => ParseError::MissingField(Field::Pid));
err!(truncated_in_pid: b"=> uid: 0 pid: " => ParseError::InvalidNumber(Field::Pid));
err!(no_open: b"=> uid: 0 pid: 1 /a 5" => ParseError::MissingField(Field::Path));
err!(comm_without_open: b"=> uid: 0 pid: 1 comm: cat" => ParseError::MissingField(Field::Path));
err!(no_ts: b"=> uid: 0 pid: 1 open: /a" => ParseError::MissingField(Field::Timestamp));
err!(empty_ts: b"=> uid: 0 pid: 1 open: /a " => ParseError::MissingField(Field::Timestamp));
err!(bad_ts: b"=> uid: 0 pid: 1 open: /a 12x" => ParseError::InvalidNumber(Field::Timestamp));
err!(ts_overflow: b"=> uid: 0 pid: 1 open: /a 18446744073709551616" => ParseError::NumberTooLarge(Field::Timestamp));
err!(uid_overflow: b"=> uid: 4294967296 pid: 1 open: /a 5" => ParseError::NumberTooLarge(Field::Uid));
err!(tid_bad: b"=> uid: 0 pid: 1 tid: x open: /a 5" => ParseError::InvalidNumber(Field::Tid));
err!(neg_pid: b"<= uid: 0 pid: -5 ret: 3 5" => ParseError::InvalidNumber(Field::Pid));
err!(plus_sign: b"<= uid: 0 pid: +5 ret: 3 5" => ParseError::InvalidNumber(Field::Pid));
err!(ret_missing: b"<= uid: 0 pid: 1 5" => ParseError::MissingField(Field::Ret));
err!(ret_bad: b"<= uid: 0 pid: 1 ret: x 5" => ParseError::InvalidNumber(Field::Ret));
err!(ret_overflow: b"<= uid: 0 pid: 1 ret: -9223372036854775809 5" => ParseError::NumberTooLarge(Field::Ret));
err!(ret_no_ts: b"<= uid: 0 pid: 1 ret: 3" => ParseError::MissingField(Field::Timestamp));
err!(ret_trailing: b"<= uid: 0 pid: 1 ret: 3 5 6" => ParseError::TrailingData);
err!(ret_double_space: b"<= uid: 0 pid: 1 ret: 3  5" => ParseError::MissingField(Field::Timestamp));
ret!(ret_min: b"<= uid: 0 pid: 1 ret: -9223372036854775808 5" => 0, 1, None, None, i64::MIN, 5);
ret!(max_ids: b"<= uid: 4294967295 pid: 4294967295 tid: 4294967295 ret: 9223372036854775807 18446744073709551615"
    => u32::MAX, u32::MAX, Some(u32::MAX), None, i64::MAX, u64::MAX);

// Version 2: the optional details, in their order, and what is wrong with them.
err!(flags_not_hex: b"=> uid: 0 pid: 1 flags: 641 open: /a 5" => ParseError::InvalidNumber(Field::Flags));
err!(flags_empty_hex: b"=> uid: 0 pid: 1 flags: 0x open: /a 5" => ParseError::InvalidNumber(Field::Flags));
err!(flags_overflow: b"=> uid: 0 pid: 1 flags: 0x10000000000000000 open: /a 5" => ParseError::NumberTooLarge(Field::Flags));
err!(mode_not_octal: b"=> uid: 0 pid: 1 mode: 0648 open: /a 5" => ParseError::InvalidNumber(Field::Mode));
err!(mode_without_zero: b"=> uid: 0 pid: 1 mode: 644 open: /a 5" => ParseError::InvalidNumber(Field::Mode));
err!(via_unknown: b"=> uid: 0 pid: 1 via: ptrace open: /a 5" => ParseError::InvalidValue(Field::Via));
err!(fault_decimal: b"=> uid: 0 pid: 1 fault: 1 open:  5" => ParseError::InvalidNumber(Field::Fault));
err!(cgroup_unquoted: b"=> uid: 0 pid: 1 cgroup: /a open: /a 5" => ParseError::InvalidValue(Field::Cgroup));
err!(resolved_unquoted: b"<= uid: 0 pid: 1 resolved: /a ret: 3 5" => ParseError::InvalidValue(Field::Resolved));
err!(resolved_unterminated: b"<= uid: 0 pid: 1 resolved: \"/a ret: 3 5" => ParseError::InvalidValue(Field::Resolved));
err!(killed_bad: b"<= uid: 0 pid: 1 killed: KILL ret: -512 5" => ParseError::InvalidNumber(Field::Killed));
// Out of order, a detail is not a detail: it falls where the next field is expected.
err!(details_out_of_order: b"=> uid: 0 pid: 1 mode: 0644 flags: 0x41 open: /a 5" => ParseError::MissingField(Field::Path));
err!(detail_after_comm_is_comm: b"<= uid: 0 pid: 1 comm: cat resolved: \"/a\" ret: x 5" => ParseError::InvalidNumber(Field::Ret));

#[test]
fn details_parse_in_order_and_old_lines_have_none() {
    let line = br#"=> uid: 5 pid: 1 tid: 2 flags: 0x80241 resolve: 0x8 mode: 0640 via: io_uring fault: 0xdeadBEEF cgroup: "/system.slice/a b.service" comm: x y open: "" 9"#;
    let Line::Entry(e) = parse_line(line).unwrap() else {
        panic!("not an entry")
    };
    assert_eq!(e.detail.flags, Some(0x80241));
    assert_eq!(e.detail.resolve, Some(8));
    assert_eq!(e.detail.mode, Some(0o640));
    assert_eq!(e.detail.via, Some(trace_format::Via::IoUring));
    assert_eq!(e.detail.fault, Some(0xdead_beef));
    assert_eq!(
        &*e.detail.cgroup.unwrap().to_bytes(),
        b"/system.slice/a b.service"
    );
    assert_eq!(&*e.task.comm.unwrap().to_bytes(), b"x y");
    assert_eq!(&*e.path.to_bytes(), b"");

    // A resolved path may hold what looks like the fields after it, and be cut.
    let line = br#"<= uid: 5 pid: 1 resolved: "/x ret: 3 comm: y"... killed: 9 ret: -512 9"#;
    let Line::Return(r) = parse_line(line).unwrap() else {
        panic!("not a return")
    };
    let resolved = r.detail.resolved.unwrap();
    assert!(resolved.is_truncated());
    assert_eq!(&*resolved.to_bytes(), b"/x ret: 3 comm: y");
    assert_eq!((r.detail.killed, r.ret, r.task.comm), (Some(9), -512, None));

    // Version 1 lines: no details.
    for line in [
        &b"=> uid: 0 pid: 3584 open: /tmp/not_exists 1795664257567614000"[..],
        b"=> uid: 0 pid: 1 tid: 2 comm: flags: 0x1 open: /a 5",
    ] {
        let Line::Entry(e) = parse_line(line).unwrap() else {
            panic!("not an entry")
        };
        assert_eq!(e.detail, trace_format::OpenDetail::default());
    }
    let Line::Return(r) = parse_line(b"<= uid: 0 pid: 1 comm: resolved: ret: 3 5").unwrap() else {
        panic!("not a return")
    };
    assert_eq!(r.detail, trace_format::ReturnDetail::default());
    assert_eq!(&*r.task.comm.unwrap().to_bytes(), b"resolved:");
}

#[test]
fn errors_have_fixed_messages() {
    assert_eq!(
        ParseError::MissingField(Field::Pid).to_string(),
        "missing `pid:` field (truncated line?)"
    );
    assert_eq!(
        ParseError::NumberTooLarge(Field::Timestamp).to_string(),
        "number too large in `timestamp` field"
    );
    assert!(ParseError::NotATraceLine
        .to_string()
        .starts_with("not a trace line"));
}

#[test]
fn dtrace_linux_capture_parses_whole() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/traces/dtrace-linux-names.trace"
    );
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut paths = Vec::new();
    for (n, line) in data.split(|&b| b == b'\n').enumerate() {
        match parse_line(line) {
            Ok(Line::Entry(e)) => paths.push(e.path.to_bytes().into_owned()),
            Ok(Line::Return(_)) | Ok(Line::Blank) => {}
            other => panic!("line {}: {other:?}", n + 1),
        }
    }
    for want in [
        &b"/tmp/weird/a b"[..],
        b"/tmp/weird/new\nline",
        b"/tmp/weird/back\\slash",
        b"/tmp/weird/esc\x1b[31mred",
        b"/tmp/weird/quote\"q",
        "/tmp/weird/café".as_bytes(),
        b"/tmp/weird/bad\xff",
        b"/tmp/not_exists",
    ] {
        assert!(
            paths.iter().any(|p| p == want),
            "{:?} not found",
            String::from_utf8_lossy(want)
        );
    }
}

// Rule 6: round trip over generated values, and no panic on any bytes.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..40),
        "[ -~]{0,40}".prop_map(String::into_bytes),
        proptest::collection::vec(
            prop_oneof![
                Just(b' '),
                Just(b'"'),
                Just(b'\\'),
                Just(b'\n'),
                Just(b'0'),
                Just(b'o'),
                Just(b'p'),
                Just(b':')
            ],
            0..30
        ),
    ]
}

proptest! {
    #[test]
    fn entry_round_trip(uid: u32, pid: u32, tid: Option<u32>, comm in proptest::option::of(bytes()), path in bytes(), ts: u64) {
        // A path that decodes with final NULs cannot be told from DTrace's "\0" terminators.
        prop_assume!(path.last() != Some(&0));
        prop_assume!(comm.as_ref().is_none_or(|c| c.last() != Some(&0)));
        let mut out = Vec::new();
        write_entry(&mut out, uid, pid, tid, comm.as_deref(), &path, ts);
        prop_assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        let Line::Entry(e) = parse_line(&out).unwrap() else { panic!("not an entry") };
        prop_assert_eq!((e.task.uid, e.task.pid, e.task.tid, e.ts), (uid, pid, tid, ts));
        prop_assert_eq!(e.task.comm.map(|c| c.to_bytes().into_owned()), comm);
        prop_assert_eq!(e.path.to_bytes().into_owned(), path);
    }

    #[test]
    fn return_round_trip(uid: u32, pid: u32, tid: Option<u32>, comm in proptest::option::of(bytes()), ret: i64, ts: u64) {
        prop_assume!(comm.as_ref().is_none_or(|c| c.last() != Some(&0)));
        let mut out = Vec::new();
        write_return(&mut out, uid, pid, tid, comm.as_deref(), ret, ts);
        let Line::Return(r) = parse_line(&out).unwrap() else { panic!("not a return") };
        prop_assert_eq!((r.task.uid, r.task.pid, r.task.tid, r.ret, r.ts), (uid, pid, tid, ret, ts));
        prop_assert_eq!(r.task.comm.map(|c| c.to_bytes().into_owned()), comm);
    }

    #[test]
    fn header_round_trip(lost: u64, off: i64, v: u32, host in "[ -~]{0,30}", key in "[a-z][a-z0-9_-]{0,10}", value in "[ -~]{0,30}") {
        prop_assume!(!["trace-format", "backend", "host", "clock", "clock-offset-ns", "lost"].contains(&key.as_str()));
        for h in [Header::Lost(lost), Header::ClockOffset(off), Header::Version(v), Header::Host(host.as_bytes()),
                  Header::Backend(host.as_bytes()), Header::Clock(Clock::Monotonic), Header::Clock(Clock::Realtime),
                  Header::Other { key: key.as_bytes(), value: value.as_bytes() }] {
            let mut out = Vec::new();
            write_header(&mut out, &h);
            prop_assert_eq!(parse_line(&out), Ok(Line::Header(h)));
        }
    }

    /// Whatever the bytes of a name, a written line is UTF-8 with no control byte but its
    /// newline, and no C1 or bidi control: printed on a terminal, it cannot drive it.
    #[test]
    fn written_lines_cannot_drive_a_terminal(comm in proptest::option::of(bytes()), path in bytes(), text in bytes()) {
        let mut out = Vec::new();
        write_entry(&mut out, 0, 1, Some(1), comm.as_deref(), &path, 2);
        write_return(&mut out, 0, 1, Some(1), comm.as_deref(), 3, 4);
        trace_format::write_comment(&mut out, &text);
        let s = std::str::from_utf8(&out);
        prop_assert!(s.is_ok(), "{:?}", out);
        let bad = |c: char| (c.is_control() && c != '\n')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        prop_assert!(!s.unwrap().chars().any(bad), "{:?}", out);
    }

    #[test]
    fn never_panics(line in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_line(&line);
    }

    #[test]
    fn never_panics_near_grammar(tail in proptest::collection::vec(prop_oneof![any::<u8>(), Just(b' '), Just(b'"'), Just(b'\\'), Just(b'7')], 0..60),
                                 head in prop_oneof![Just(&b"=> uid: 0 pid: 1 comm: "[..]), Just(&b"=> uid: 0 pid: 1 open: "[..]), Just(&b"<= uid: 0 pid: 1 comm: "[..]), Just(&b"# lost: "[..])]) {
        let mut line = head.to_vec();
        line.extend_from_slice(&tail);
        if let Ok(Line::Entry(e)) = parse_line(&line) {
            let _ = e.path.to_bytes();
            let _ = e.task.comm.map(|c| c.to_bytes());
        }
    }
}
