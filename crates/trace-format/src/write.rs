//! The writers: one function per line kind, each appending a whole line (with `\n`) to a
//! buffer. Whatever they write, [`crate::parse_line`] reads back to the same values.

use crate::quote;
use crate::Header;

/// Writes an entry line. `comm` and `path` are the decoded bytes; they are written raw when
/// that is unambiguous and quoted otherwise (see the grammar's writing rules).
///
/// ```
/// let mut out = Vec::new();
/// trace_format::write_entry(&mut out, 0, 7, Some(7), Some(b"cat"), b"/tmp/a b", 42);
/// assert_eq!(out, b"=> uid: 0 pid: 7 tid: 7 comm: cat open: /tmp/a b 42\n");
/// ```
pub fn write_entry(
    out: &mut Vec<u8>,
    uid: u32,
    pid: u32,
    tid: Option<u32>,
    comm: Option<&[u8]>,
    path: &[u8],
    ts: u64,
) {
    out.extend_from_slice(b"=> ");
    write_task(out, uid, pid, tid, comm);
    out.extend_from_slice(b" open: ");
    if quote::needs_quoting(path) {
        quote::quote_into(path, out);
    } else {
        out.extend_from_slice(path);
    }
    out.push(b' ');
    push_u64(out, ts);
    out.push(b'\n');
}

/// Writes an entry line whose path the tracer had to cut: the part it read, always quoted,
/// followed by the truncation mark `...` ([`crate::Text::is_truncated`] reads it back).
///
/// ```
/// let mut out = Vec::new();
/// trace_format::write_truncated_entry(&mut out, 0, 7, Some(7), None, b"/tmp/lo", 42);
/// assert_eq!(out, b"=> uid: 0 pid: 7 tid: 7 open: \"/tmp/lo\"... 42\n");
/// ```
pub fn write_truncated_entry(
    out: &mut Vec<u8>,
    uid: u32,
    pid: u32,
    tid: Option<u32>,
    comm: Option<&[u8]>,
    path: &[u8],
    ts: u64,
) {
    out.extend_from_slice(b"=> ");
    write_task(out, uid, pid, tid, comm);
    out.extend_from_slice(b" open: ");
    quote::quote_into(path, out);
    out.extend_from_slice(b"... ");
    push_u64(out, ts);
    out.push(b'\n');
}

/// Writes a return line; `ret` is a file descriptor or a negative errno.
///
/// ```
/// let mut out = Vec::new();
/// trace_format::write_return(&mut out, 0, 7, None, None, -2, 43);
/// assert_eq!(out, b"<= uid: 0 pid: 7 ret: -2 43\n");
/// ```
pub fn write_return(
    out: &mut Vec<u8>,
    uid: u32,
    pid: u32,
    tid: Option<u32>,
    comm: Option<&[u8]>,
    ret: i64,
    ts: u64,
) {
    out.extend_from_slice(b"<= ");
    write_task(out, uid, pid, tid, comm);
    out.extend_from_slice(b" ret: ");
    if ret < 0 {
        out.push(b'-');
    }
    push_u64(out, ret.unsigned_abs());
    out.push(b' ');
    push_u64(out, ts);
    out.push(b'\n');
}

/// Writes a `# key: value` header line. Control bytes in a name or value (which would end or
/// garble the line) are written as `?`.
///
/// ```
/// let mut out = Vec::new();
/// trace_format::write_header(&mut out, &trace_format::Header::Lost(12));
/// assert_eq!(out, b"# lost: 12\n");
/// ```
pub fn write_header(out: &mut Vec<u8>, header: &Header<'_>) {
    out.extend_from_slice(b"# ");
    match *header {
        Header::Version(v) => {
            out.extend_from_slice(b"trace-format: ");
            push_u64(out, u64::from(v));
        }
        Header::Backend(v) => push_kv(out, b"backend", v),
        Header::Host(v) => push_kv(out, b"host", v),
        Header::Clock(c) => push_kv(out, b"clock", c.name().as_bytes()),
        Header::ClockOffset(n) => {
            out.extend_from_slice(b"clock-offset-ns: ");
            if n < 0 {
                out.push(b'-');
            }
            push_u64(out, n.unsigned_abs());
        }
        Header::Lost(n) => {
            out.extend_from_slice(b"lost: ");
            push_u64(out, n);
        }
        Header::Other { key, value } => push_kv(out, key, value),
    }
    out.push(b'\n');
}

/// Writes a comment line `# text` (control bytes written as `?`). A text that looks like
/// `key: value` would read back as a header; callers that care avoid that shape.
pub fn write_comment(out: &mut Vec<u8>, text: &[u8]) {
    out.extend_from_slice(b"# ");
    push_clean(out, text);
    out.push(b'\n');
}

fn write_task(out: &mut Vec<u8>, uid: u32, pid: u32, tid: Option<u32>, comm: Option<&[u8]>) {
    out.extend_from_slice(b"uid: ");
    push_u64(out, u64::from(uid));
    out.extend_from_slice(b" pid: ");
    push_u64(out, u64::from(pid));
    if let Some(tid) = tid {
        out.extend_from_slice(b" tid: ");
        push_u64(out, u64::from(tid));
    }
    if let Some(comm) = comm {
        out.extend_from_slice(b" comm: ");
        // A raw comm ends at the first ` open: ` (or last ` ret: `), so any comm with a space,
        // or one that would read as quoted, is written quoted.
        if comm.contains(&b' ') || quote::needs_quoting(comm) {
            quote::quote_into(comm, out);
        } else {
            out.extend_from_slice(comm);
        }
    }
}

fn push_kv(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    push_clean(out, key);
    out.extend_from_slice(b": ");
    push_clean(out, value);
}

fn push_clean(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend(
        bytes
            .iter()
            .map(|&b| if b < 0x20 || b == 0x7f { b'?' } else { b }),
    );
}

/// Appends the decimal digits of `n` without going through `fmt`.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}
