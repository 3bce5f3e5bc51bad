//! `--format json`: JSON Lines, one object per open, for `jq`, pandas, and log pipelines.
//!
//! Every object has the same keys in the same order, typed; a value that does not apply is
//! `null`, never a missing key or an empty string:
//!
//! | key              | type            | value                                                 |
//! |------------------|-----------------|-------------------------------------------------------|
//! | `ts`             | integer         | entry timestamp, ns, in the trace's clock             |
//! | `uid`            | integer         |                                                       |
//! | `user`           | string or null  | the user name; null when unknown or with `-N`         |
//! | `pid`            | integer         |                                                       |
//! | `tid`            | integer or null | null when the trace has no thread ids                 |
//! | `comm`           | string or null  | process name                                          |
//! | `comm_b64`       | string or null  | see below                                             |
//! | `path`           | string          | the path                                              |
//! | `path_b64`       | string or null  | see below                                             |
//! | `path_truncated` | boolean         | the tracer cut the path at its string limit           |
//! | `ret`            | integer or null | return value; null when the open never returned       |
//! | `fd`             | integer or null | `ret` when it is a file descriptor                    |
//! | `errno`          | string or null  | `ENOENT` etc. when `ret` is negative (`E4095` if unnamed) |
//! | `restarted`      | boolean         | a signal interrupted the open (`ret` -512..-516, `errno` `ERESTARTSYS` etc.): not a failure; the kernel restarts it or the program gets EINTR |
//! | `duration_ns`    | integer or null | null when the open never returned                     |
//! | `host`           | string or null  | the trace's `# host:` header (several hosts merged: each open's own) |
//!
//! **Version-2 details.** After these, an object has a key for each detail the trace gave
//! for that open, in this order, and no key for one it did not give (so a trace without
//! details, every version-1 trace, prints exactly the objects above):
//!
//! | key            | type           | value                                                  |
//! |----------------|----------------|--------------------------------------------------------|
//! | `resolved`     | string         | the file the kernel opened (or, for a failure, the directory resolved against joined with the name) |
//! | `resolved_b64` | string or null | present with `resolved`: its bytes in base64 when not UTF-8, as `path_b64` |
//! | `flags`        | string         | open flags by name, `O_WRONLY\|O_CREAT\|O_TRUNC\|O_CLOEXEC` |
//! | `resolve`      | string         | openat2's resolve flags by name, `RESOLVE_BENEATH`     |
//! | `mode`         | string         | the creation mode in octal, `0640`                     |
//! | `via`          | string         | `syscall`, `io_uring` or `handle`                      |
//! | `fault`        | string         | the address of a path pointer the tracer could not read, `0x1` (`path` is then `""`) |
//! | `cgroup`       | string         | the process's cgroup v2 path                           |
//! | `cgroup_b64`   | string or null | present with `cgroup`, as `path_b64`                   |
//! | `killed`       | integer        | the process was killed by this signal during the call: the open never returned to the program, so `ret`, `fd`, `errno` are null and `restarted` is false |
//!
//! **Non-UTF-8 paths.** JSON strings are Unicode, paths are bytes. When a path is valid UTF-8,
//! `path` is exactly it and `path_b64` is null. When it is not, `path` is the lossy form (each
//! invalid sequence replaced by U+FFFD, for reading) and `path_b64` holds the exact bytes in
//! standard base64 (RFC 4648, with padding): `jq -r .path_b64 | base64 -d` gives them back.
//! So the rule for a program is: take `path_b64` when it is not null, else `path`. `comm` and
//! `comm_b64` follow the same rule. (A `\u`-escape scheme cannot be lossless: JSON has no
//! escape for a lone byte, and lone surrogates are rejected by strict parsers.)
//!
//! Written by hand rather than through serde: the set of keys is fixed, the writer never
//! allocates per event, and the binary needs no serde at run time; the tests read the output
//! back with `serde_json`.

use std::io::{self, Write};

use super::{Context, Print};
use crate::details::{push_hex, push_mode, push_open_flags, push_resolve_flags};
use crate::errno::{name_for_ret, ErrnoName};
use crate::event::{Details, OpenEvent, Outcome};
use crate::number::{push_i64, push_u64};

/// Writes one JSON object per line.
#[derive(Debug, Default)]
pub struct JsonPrinter {
    /// The records not yet handed to the writer (see [`super::GATHER`]).
    line: Vec<u8>,
}

impl JsonPrinter {
    /// A new printer.
    pub fn new() -> Self {
        JsonPrinter::default()
    }
}

impl Print for JsonPrinter {
    fn begin<W: Write>(&mut self, _out: &mut W, _time_base: Option<u64>) -> io::Result<()> {
        Ok(())
    }

    #[inline(never)]
    fn event<W: Write>(
        &mut self,
        out: &mut W,
        event: &OpenEvent<'_>,
        ctx: &mut Context<'_>,
    ) -> io::Result<()> {
        let line = &mut self.line;
        line.extend_from_slice(b"{\"ts\":");
        push_u64(line, event.start_ns);
        line.extend_from_slice(b",\"uid\":");
        push_u64(line, event.uid.into());
        line.extend_from_slice(b",\"user\":");
        match ctx.users.known_name(event.uid) {
            Some(name) if is_plain_ascii(name) => push_quoted(line, name),
            Some(name) => push_json_str(line, &String::from_utf8_lossy(name)),
            None => line.extend_from_slice(b"null"),
        }
        line.extend_from_slice(b",\"pid\":");
        push_u64(line, event.pid.into());
        match (event.tid, event.comm) {
            // The usual case in one piece.
            (None, None) => {
                line.extend_from_slice(b",\"tid\":null,\"comm\":null,\"comm_b64\":null")
            }
            (tid, comm) => {
                line.extend_from_slice(b",\"tid\":");
                match tid {
                    Some(tid) => push_u64(line, tid.into()),
                    None => line.extend_from_slice(b"null"),
                }
                match comm {
                    Some(comm) => push_bytes_pair(line, "comm", comm),
                    None => line.extend_from_slice(b",\"comm\":null,\"comm_b64\":null"),
                }
            }
        }
        push_bytes_pair(line, "path", event.path);
        line.extend_from_slice(if event.path_truncated {
            b",\"path_truncated\":true"
        } else {
            b",\"path_truncated\":false"
        });
        match event.ret() {
            Some(fd) if fd >= 0 => {
                // A success (the usual case): the fd twice, no errno, not restarted.
                line.extend_from_slice(b",\"ret\":");
                let digits = line.len();
                push_u64(line, fd.unsigned_abs());
                let end = line.len();
                line.extend_from_slice(b",\"fd\":");
                line.extend_from_within(digits..end);
                line.extend_from_slice(b",\"errno\":null,\"restarted\":false,\"duration_ns\":");
            }
            ret => {
                line.extend_from_slice(b",\"ret\":");
                push_opt_i64(line, ret);
                line.extend_from_slice(b",\"fd\":null,\"errno\":");
                match ret.and_then(name_for_ret) {
                    Some(ErrnoName::Known(name)) => push_json_str(line, name),
                    Some(name) => push_json_str(line, &name.to_string()),
                    None => line.extend_from_slice(b"null"),
                }
                line.extend_from_slice(match ret {
                    Some(r) if crate::errno::is_restart(r) => {
                        b",\"restarted\":true,\"duration_ns\":"
                    }
                    _ => b",\"restarted\":false,\"duration_ns\":",
                });
            }
        }
        match event.duration_ns() {
            Some(ns) => push_u64(line, ns),
            None => line.extend_from_slice(b"null"),
        }
        line.extend_from_slice(b",\"host\":");
        match &ctx.info.host {
            Some(host) => push_json_str(line, &String::from_utf8_lossy(host)),
            None => line.extend_from_slice(b"null"),
        }
        if let Some(detail) = &event.detail {
            push_details(line, detail);
        }
        if let Outcome::Killed { signal, .. } = event.outcome {
            line.extend_from_slice(b",\"killed\":");
            push_u64(line, signal.into());
        }
        line.extend_from_slice(b"}\n");
        super::hand_over_full(out, line)
    }

    fn drain<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        super::hand_over(out, &mut self.line)
    }
}

/// The keys of the details the trace gave (see the module's table).
#[cold]
fn push_details(out: &mut Vec<u8>, d: &Details<'_>) {
    if let Some(resolved) = d.resolved {
        push_bytes_pair(out, "resolved", resolved);
    }
    let text = |out: &mut Vec<u8>, key: &[u8], push: &dyn Fn(&mut Vec<u8>)| {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key);
        out.extend_from_slice(b"\":\"");
        push(out);
        out.push(b'"');
    };
    if let Some(flags) = d.flags {
        text(out, b"flags", &|o| push_open_flags(o, flags));
    }
    if let Some(resolve) = d.resolve {
        text(out, b"resolve", &|o| push_resolve_flags(o, resolve));
    }
    if let Some(mode) = d.mode {
        text(out, b"mode", &|o| push_mode(o, mode));
    }
    if let Some(via) = d.via {
        text(out, b"via", &|o| o.extend_from_slice(via.name().as_bytes()));
    }
    if let Some(fault) = d.fault {
        text(out, b"fault", &|o| push_hex(o, fault));
    }
    if let Some(cgroup) = d.cgroup {
        push_bytes_pair(out, "cgroup", cgroup);
    }
}

fn push_opt_i64(out: &mut Vec<u8>, value: Option<i64>) {
    match value {
        Some(v) => push_i64(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

/// `,"KEY":"text","KEY_b64":null` or, for bytes that are not UTF-8, the lossy text and the
/// exact bytes in base64.
/// Inlined: with a constant `key`, the key's bytes are copied as constants.
#[inline(always)]
fn push_bytes_pair(out: &mut Vec<u8>, key: &str, bytes: &[u8]) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    if is_plain_ascii(bytes) {
        // The usual path: valid UTF-8 with nothing to escape.
        push_quoted(out, bytes);
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"_b64\":null");
        return;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            push_json_str(out, text);
            out.extend_from_slice(b",\"");
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b"_b64\":null");
        }
        Err(_) => {
            push_json_str(out, &String::from_utf8_lossy(bytes));
            out.extend_from_slice(b",\"");
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b"_b64\":\"");
            push_base64(out, bytes);
            out.push(b'"');
        }
    }
}

/// True when every byte is printable ASCII other than `"` and `\\` (0x20..=0x7e): the bytes
/// are then valid UTF-8 and their JSON string is themselves in quotes. Checked 8 bytes at a
/// time (exact yes/no answers of the "has a byte below / equal to" bit tricks).
#[inline]
fn is_plain_ascii(bytes: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if bytes.len() >= 16 {
        return sse2::is_plain_ascii(bytes);
    }
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let special = |x: u64| {
        let has_zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
        (x & HI)
            | (x.wrapping_sub(LO * 0x20) & !x & HI)
            | has_zero(x ^ (LO * 0x22))
            | has_zero(x ^ (LO * 0x5c))
            | has_zero(x ^ (LO * 0x7f))
            != 0
    };
    let n = bytes.len();
    if n < 8 {
        return bytes
            .iter()
            .all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
    }
    let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
    let mut i = 0;
    while i + 8 < n {
        if special(word(i)) {
            return false;
        }
        i += 8;
    }
    !special(word(n - 8))
}

/// `"bytes"`, for bytes that [`is_plain_ascii`] accepted.
/// [`is_plain_ascii`] 16 bytes at a time with SSE2 (part of every x86_64).
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    /// [`super::is_plain_ascii`] for 16 bytes or more: 16 at a time, the last 16 overlapping.
    #[inline]
    pub(super) fn is_plain_ascii(bytes: &[u8]) -> bool {
        let n = bytes.len();
        let mut i = 0;
        while i + 16 < n {
            if special(&bytes[i..i + 16]) {
                return false;
            }
            i += 16;
        }
        !special(&bytes[n - 16..])
    }

    /// True when one of the 16 bytes is not printable ASCII, or is `"` or `\\`.
    #[inline(always)]
    fn special(chunk: &[u8]) -> bool {
        assert_eq!(chunk.len(), 16);
        // SAFETY: SSE2 is part of every x86_64; one unaligned 16-byte load inside `chunk`.
        unsafe {
            let x = _mm_loadu_si128(chunk.as_ptr().cast());
            let is = |b: u8| _mm_cmpeq_epi8(x, _mm_set1_epi8(b as i8));
            // Signed: below 0x20 or 0x80 and above.
            let outside = _mm_cmplt_epi8(x, _mm_set1_epi8(0x20));
            let m = _mm_or_si128(
                _mm_or_si128(outside, is(b'"')),
                _mm_or_si128(is(b'\\'), is(0x7f)),
            );
            _mm_movemask_epi8(m) != 0
        }
    }
}

#[inline]
fn push_quoted(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    out.extend_from_slice(bytes);
    out.push(b'"');
}

/// A JSON string literal (RFC 8259): `"` and `\` escaped, control characters as `\n`-style
/// escapes or `\u00XX`; DEL, C1 controls (U+0080-U+009F) and bidi controls (U+200E, U+200F,
/// U+202A-U+202E, U+2066-U+2069) as `\uXXXX` too, so that a path cannot drive a terminal when
/// the JSON is shown there. Parsed, the string is the same text.
pub fn push_json_str(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let escape: &[u8] = match c {
            '"' => b"\\\"",
            '\\' => b"\\\\",
            '\n' => b"\\n",
            '\r' => b"\\r",
            '\t' => b"\\t",
            '\u{8}' => b"\\b",
            '\u{c}' => b"\\f",
            '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}' => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            let code = u32::from(c);
            out.extend_from_slice(b"\\u");
            for shift in [12, 8, 4, 0] {
                out.push(HEX[((code >> shift) & 15) as usize]);
            }
        } else {
            out.extend_from_slice(escape);
        }
        start = i + c.len_utf8();
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Standard base64 with padding (RFC 4648 section 4).
pub fn push_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        let sextet = |shift: u32| ALPHABET[(n >> shift & 63) as usize];
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { b'=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { b'=' });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::TraceInfo;
    use crate::users::{UserDb, UserSource};

    fn json(event: &OpenEvent<'_>, users: &mut UserDb) -> String {
        let mut out = Vec::new();
        let info = TraceInfo::default();
        let mut ctx = Context { users, info: &info };
        let mut printer = JsonPrinter::new();
        printer.event(&mut out, event, &mut ctx).unwrap();
        printer.drain(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_failed_open_exactly() {
        let event = OpenEvent {
            uid: 0,
            pid: 3584,
            tid: Some(3585),
            comm: Some(b"cat"),
            path: b"/tmp/not_exists",
            path_truncated: false,
            start_ns: 1_795_664_257_567_614_000,
            outcome: Outcome::Returned {
                ret: -2,
                end_ns: 1_795_664_257_567_624_170,
            },
            detail: None,
        };
        let mut users = UserDb::from_names(&[(0, "root")]);
        assert_eq!(
            json(&event, &mut users),
            "{\"ts\":1795664257567614000,\"uid\":0,\"user\":\"root\",\"pid\":3584,\"tid\":3585,\
             \"comm\":\"cat\",\"comm_b64\":null,\"path\":\"/tmp/not_exists\",\"path_b64\":null,\
             \"path_truncated\":false,\"ret\":-2,\"fd\":null,\"errno\":\"ENOENT\",\"restarted\":false,\"duration_ns\":10170,\"host\":null}\n"
        );
    }

    #[test]
    fn unfinished_and_anonymous_are_nulls() {
        let event = OpenEvent {
            uid: 7,
            pid: 1,
            tid: None,
            comm: None,
            path: b"/x",
            path_truncated: true,
            start_ns: 5,
            outcome: Outcome::Unfinished,
            detail: None,
        };
        let text = json(&event, &mut UserDb::new(UserSource::Numeric));
        assert!(
            text.contains("\"user\":null,\"pid\":1,\"tid\":null,\"comm\":null,\"comm_b64\":null"),
            "{text}"
        );
        assert!(text.ends_with("\"path_truncated\":true,\"ret\":null,\"fd\":null,\"errno\":null,\"restarted\":false,\"duration_ns\":null,\"host\":null}\n"), "{text}");
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = Vec::new();
        push_json_str(&mut out, "a\"b\\c\nd\te\x1b[0m\x7f\u{8}é\u{9b}\u{202e}x");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""a\"b\\c\nd\te\u001b[0m\u007f\bé\u009b\u202ex""#
        );
    }

    #[test]
    fn plain_ascii_check_matches_byte_definition() {
        let plain = |b: &[u8]| {
            b.iter()
                .all(|&c| (0x20..0x7f).contains(&c) && c != b'"' && c != b'\\')
        };
        for byte in 0..=255u8 {
            for len in 1..50 {
                for pos in 0..len {
                    let mut text = vec![b'a'; len];
                    text[pos] = byte;
                    assert_eq!(
                        is_plain_ascii(&text),
                        plain(&text),
                        "{byte} at {pos} of {len}"
                    );
                    // The fast path writes what the general one writes.
                    if plain(&text) {
                        let mut fast = Vec::new();
                        push_bytes_pair(&mut fast, "path", &text);
                        let mut slow = b",\"path\":".to_vec();
                        push_json_str(&mut slow, std::str::from_utf8(&text).unwrap());
                        slow.extend_from_slice(b",\"path_b64\":null");
                        assert_eq!(fast, slow);
                    }
                }
            }
        }
        assert!(is_plain_ascii(b""));
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = Vec::new();
            push_base64(&mut out, plain.as_bytes());
            assert_eq!(out, coded.as_bytes(), "{plain}");
        }
        let mut out = Vec::new();
        push_base64(&mut out, b"\xff\xfe\x00");
        assert_eq!(out, b"//4A");
    }

    #[test]
    fn non_utf8_path_gets_its_bytes_in_base64() {
        let mut out = Vec::new();
        push_bytes_pair(&mut out, "path", b"/r\xe9sum\xe9");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            ",\"path\":\"/r\u{fffd}sum\u{fffd}\",\"path_b64\":\"L3Lpc3Vt6Q==\""
        );
    }
}
