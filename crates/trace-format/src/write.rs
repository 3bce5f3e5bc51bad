//! The writers: one function per line kind, each appending a whole line (with `\n`) to a
//! buffer. Whatever they write, [`crate::parse_line`] reads back to the same values.

use crate::quote;
use crate::Header;

/// An entry line to write: decoded bytes and numbers, every optional field an `Option`.
/// `..EntryLine::default()` fills what a tracer does not know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntryLine<'a> {
    /// Real user id.
    pub uid: u32,
    /// Process id.
    pub pid: u32,
    /// Thread id.
    pub tid: Option<u32>,
    /// Process name (decoded bytes).
    pub comm: Option<&'a [u8]>,
    /// The path argument (decoded bytes).
    pub path: &'a [u8],
    /// The tracer could not read the whole path: `path` is the part it read.
    pub path_truncated: bool,
    /// Timestamp in nanoseconds.
    pub ts: u64,
    /// `flags:` the open flags.
    pub flags: Option<u64>,
    /// `resolve:` openat2's `how.resolve`.
    pub resolve: Option<u64>,
    /// `mode:` the creation mode.
    pub mode: Option<u32>,
    /// `via:` how the file was opened (absent: a system call).
    pub via: Option<crate::Via>,
    /// `fault:` the address of a path argument that could not be read.
    pub fault: Option<u64>,
    /// `cgroup:` the process's cgroup v2 path (decoded bytes; always written quoted).
    pub cgroup: Option<&'a [u8]>,
}

/// A return line to write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReturnLine<'a> {
    /// Real user id.
    pub uid: u32,
    /// Process id.
    pub pid: u32,
    /// Thread id.
    pub tid: Option<u32>,
    /// Process name (decoded bytes).
    pub comm: Option<&'a [u8]>,
    /// A file descriptor or a negative errno.
    pub ret: i64,
    /// Timestamp in nanoseconds.
    pub ts: u64,
    /// `resolved:` the file opened, or the directory resolved against joined with the name
    /// (decoded bytes; always written quoted).
    pub resolved: Option<&'a [u8]>,
    /// The tracer could not read the whole resolved path: `resolved` is the part it read.
    pub resolved_truncated: bool,
    /// `killed:` the process was killed by this signal while the call was in progress.
    pub killed: Option<u32>,
}

/// Writes an entry line with all its fields. `comm` and `path` are written raw when that is
/// unambiguous and quoted otherwise (see the grammar's writing rules); a truncated path is
/// always quoted and followed by `...`.
///
/// ```
/// use trace_format::{write_entry_line, EntryLine, Via};
/// let mut out = Vec::new();
/// write_entry_line(&mut out, &EntryLine {
///     uid: 0, pid: 7, tid: Some(7), comm: Some(b"cat"), path: b"b/new", ts: 42,
///     flags: Some(0o1101), mode: Some(0o640), via: Some(Via::Syscall),
///     ..EntryLine::default()
/// });
/// assert_eq!(out, b"=> uid: 0 pid: 7 tid: 7 flags: 0x241 mode: 0640 via: syscall comm: cat open: b/new 42\n");
/// ```
pub fn write_entry_line(out: &mut Vec<u8>, line: &EntryLine<'_>) {
    out.extend_from_slice(b"=> ");
    write_ids(out, line.uid, line.pid, line.tid);
    if let Some(flags) = line.flags {
        out.extend_from_slice(b" flags: ");
        push_hex(out, flags);
    }
    if let Some(resolve) = line.resolve {
        out.extend_from_slice(b" resolve: ");
        push_hex(out, resolve);
    }
    if let Some(mode) = line.mode {
        out.extend_from_slice(b" mode: ");
        push_octal(out, mode);
    }
    if let Some(via) = line.via {
        out.extend_from_slice(b" via: ");
        out.extend_from_slice(via.name().as_bytes());
    }
    if let Some(fault) = line.fault {
        out.extend_from_slice(b" fault: ");
        push_hex(out, fault);
    }
    if let Some(cgroup) = line.cgroup {
        out.extend_from_slice(b" cgroup: ");
        quote::quote_into(cgroup, out);
    }
    write_comm(out, line.comm);
    out.extend_from_slice(b" open: ");
    if line.path_truncated {
        quote::quote_into(line.path, out);
        out.extend_from_slice(b"...");
    } else if quote::needs_quoting(line.path) {
        quote::quote_into(line.path, out);
    } else {
        out.extend_from_slice(line.path);
    }
    out.push(b' ');
    push_u64(out, line.ts);
    out.push(b'\n');
}

/// Writes a return line with all its fields.
///
/// ```
/// use trace_format::{write_return_line, ReturnLine};
/// let mut out = Vec::new();
/// write_return_line(&mut out, &ReturnLine {
///     uid: 0, pid: 7, tid: Some(7), ret: 3, ts: 43, resolved: Some(b"/tmp/r/a/b/new"),
///     ..ReturnLine::default()
/// });
/// assert_eq!(out, b"<= uid: 0 pid: 7 tid: 7 resolved: \"/tmp/r/a/b/new\" ret: 3 43\n");
/// ```
pub fn write_return_line(out: &mut Vec<u8>, line: &ReturnLine<'_>) {
    out.extend_from_slice(b"<= ");
    write_ids(out, line.uid, line.pid, line.tid);
    if let Some(resolved) = line.resolved {
        out.extend_from_slice(b" resolved: ");
        quote::quote_into(resolved, out);
        if line.resolved_truncated {
            out.extend_from_slice(b"...");
        }
    }
    if let Some(killed) = line.killed {
        out.extend_from_slice(b" killed: ");
        push_u64(out, u64::from(killed));
    }
    write_comm(out, line.comm);
    out.extend_from_slice(b" ret: ");
    if line.ret < 0 {
        out.push(b'-');
    }
    push_u64(out, line.ret.unsigned_abs());
    out.push(b' ');
    push_u64(out, line.ts);
    out.push(b'\n');
}

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
    let line = EntryLine {
        uid,
        pid,
        tid,
        comm,
        path,
        ts,
        ..EntryLine::default()
    };
    write_entry_line(out, &line);
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
    let line = EntryLine {
        uid,
        pid,
        tid,
        comm,
        path,
        path_truncated: true,
        ts,
        ..EntryLine::default()
    };
    write_entry_line(out, &line);
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
    let line = ReturnLine {
        uid,
        pid,
        tid,
        comm,
        ret,
        ts,
        ..ReturnLine::default()
    };
    write_return_line(out, &line);
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

/// Writes a comment line `# text` (control bytes, and bytes a terminal could act on among
/// those of 0x80 and above, written as `?`). A text that looks like `key: value` would read back as a header; callers that care avoid that shape.
pub fn write_comment(out: &mut Vec<u8>, text: &[u8]) {
    out.extend_from_slice(b"# ");
    push_clean(out, text);
    out.push(b'\n');
}

fn write_ids(out: &mut Vec<u8>, uid: u32, pid: u32, tid: Option<u32>) {
    out.extend_from_slice(b"uid: ");
    push_u64(out, u64::from(uid));
    out.extend_from_slice(b" pid: ");
    push_u64(out, u64::from(pid));
    if let Some(tid) = tid {
        out.extend_from_slice(b" tid: ");
        push_u64(out, u64::from(tid));
    }
}

fn write_comm(out: &mut Vec<u8>, comm: Option<&[u8]>) {
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

fn push_hex(out: &mut Vec<u8>, n: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"0x");
    let width = (64 - n.leading_zeros()).div_ceil(4).max(1);
    for i in (0..width).rev() {
        out.push(DIGITS[((n >> (i * 4)) & 0xf) as usize]);
    }
}

fn push_octal(out: &mut Vec<u8>, n: u32) {
    out.push(b'0');
    let width = (32 - n.leading_zeros()).div_ceil(3);
    for i in (0..width).rev() {
        out.push(b'0' + ((n >> (i * 3)) & 7) as u8);
    }
}

fn push_kv(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    push_clean(out, key);
    out.extend_from_slice(b": ");
    push_clean(out, value);
}

/// Header and comment text: a control byte, and each byte of a sequence a terminal could act
/// on (see `quote::needs_quoting`), is written as `?`.
fn push_clean(out: &mut Vec<u8>, bytes: &[u8]) {
    quote::for_each_unit(bytes, |unit, act| {
        if act {
            out.extend(unit.iter().map(|_| b'?'));
        } else {
            out.extend(
                unit.iter()
                    .map(|&b| if b < 0x20 || b == 0x7f { b'?' } else { b }),
            );
        }
    });
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
