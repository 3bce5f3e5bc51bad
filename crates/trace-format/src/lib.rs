#![doc = include_str!("../GRAMMAR.md")]
//!
//! # The API
//!
//! [`parse_line`] turns one line into a [`Line`] borrowing from it, or a [`ParseError`].
//! The `write_*` functions append one line (with its `\n`) to a `Vec<u8>`. Nothing here does
//! I/O, allocates while parsing, or panics on any input.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod parse;
mod quote;
mod write;

pub use parse::{parse_line, parse_plain, PlainLine};
pub use write::{
    write_comment, write_entry, write_entry_line, write_header, write_return, write_return_line,
    write_truncated_entry, EntryLine, ReturnLine,
};

use std::borrow::Cow;
use std::fmt;

/// The format version this crate writes (`# trace-format: 2`). Version 2 added the optional
/// open details (`flags:`, `resolve:`, `mode:`, `via:`, `fault:`, `cgroup:`, `resolved:`,
/// `killed:`); every version-1 line is a version-2 line.
pub const FORMAT_VERSION: u32 = 2;

/// One parsed line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// `=> ...`: a thread entered an open-family call.
    Entry(Entry<'a>),
    /// `<= ...`: the call returned.
    Return(Return<'a>),
    /// `# key: value`: metadata about the trace.
    Header(Header<'a>),
    /// Any other line starting with `#`: the text after `#`, for people only.
    Comment(&'a [u8]),
    /// An empty line (DTrace prints one at exit).
    Blank,
}

/// The task (thread) an event belongs to: the fields shared by entry and return lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task<'a> {
    /// Real user id of the process.
    pub uid: u32,
    /// Process id (thread group id on Linux).
    pub pid: u32,
    /// Thread id, when the tracer printed one.
    pub tid: Option<u32>,
    /// Process name (`comm`, `execname`), when the tracer printed one.
    pub comm: Option<Text<'a>>,
}

impl Task<'_> {
    /// The key that pairs a return with its entry: the thread id when known, else the pid.
    pub fn thread_key(&self) -> u32 {
        self.tid.unwrap_or(self.pid)
    }
}

/// An entry line: `=> uid: U pid: P [tid: T] [comm: C] open: PATH TS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Who opened.
    pub task: Task<'a>,
    /// The path argument, as printed (raw or quoted).
    pub path: Text<'a>,
    /// Timestamp in nanoseconds (see the `clock` header for its origin).
    pub ts: u64,
    /// What the line says about the open beyond its path (all optional).
    pub detail: OpenDetail<'a>,
}

/// The optional fields of an entry line, between `tid:` and `comm:`, in this order:
/// `flags: 0xHEX resolve: 0xHEX mode: 0OCTAL via: WORD fault: 0xHEX cgroup: "QUOTED"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenDetail<'a> {
    /// The open flags (`O_*`, Linux numbering), openat2's `how.flags` included.
    pub flags: Option<u64>,
    /// openat2's `how.resolve` (`RESOLVE_*`).
    pub resolve: Option<u64>,
    /// The mode argument, when the call can create (`O_CREAT`, `O_TMPFILE`).
    pub mode: Option<u32>,
    /// How the file was opened; absent means a system call.
    pub via: Option<Via>,
    /// The path argument's address, when the tracer could not read it (the path is then
    /// empty): an unreadable pointer, never to be confused with an empty name.
    pub fault: Option<u64>,
    /// The cgroup (v2) of the process, relative to the cgroup2 mount, as in `/proc/PID/cgroup`.
    pub cgroup: Option<Text<'a>>,
}

/// How a file was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Via {
    /// An open-family system call (`open`, `openat`, `openat2`, `creat`).
    Syscall,
    /// An io_uring request (`IORING_OP_OPENAT`, `IORING_OP_OPENAT2`).
    IoUring,
    /// `open_by_handle_at()`.
    Handle,
}

impl Via {
    /// The word used in the line (and in trace-merge's output).
    pub fn name(self) -> &'static str {
        match self {
            Via::Syscall => "syscall",
            Via::IoUring => "io_uring",
            Via::Handle => "handle",
        }
    }

    /// The value for a word of the line, if it is one.
    pub fn from_name(word: &[u8]) -> Option<Via> {
        match word {
            b"syscall" => Some(Via::Syscall),
            b"io_uring" => Some(Via::IoUring),
            b"handle" => Some(Via::Handle),
            _ => None,
        }
    }
}

/// A return line: `<= uid: U pid: P [tid: T] [comm: C] ret: R TS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Return<'a> {
    /// Who returned.
    pub task: Task<'a>,
    /// The return value, Linux convention: a file descriptor, or a negative errno.
    pub ret: i64,
    /// Timestamp in nanoseconds.
    pub ts: u64,
    /// What the line says about the outcome beyond its value (all optional).
    pub detail: ReturnDetail<'a>,
}

/// The optional fields of a return line, between `tid:` and `comm:`, in this order:
/// `resolved: "QUOTED" killed: SIGNO`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReturnDetail<'a> {
    /// The file the kernel opened (for a success), or the directory the name was resolved
    /// against joined with the name (for a failure). Always quoted in the line.
    pub resolved: Option<Text<'a>>,
    /// The call never returned to the program: the process was killed by this signal while
    /// the call was in progress (the `ret` is then the kernel's internal restart value).
    pub killed: Option<u32>,
}

/// A text field (path or comm) exactly as it stands in the line.
///
/// It is decoded only on demand, so parsing never allocates: a raw field is its own bytes, a
/// quoted one is unescaped by [`Text::decode_into`] or [`Text::to_bytes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text<'a> {
    raw: &'a [u8],
    form: TextForm,
}

/// How a [`Text`] field was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextForm {
    /// The bytes themselves, kept byte-exact (spaces and non-UTF-8 included).
    Raw,
    /// A C-quoted string: `"..."` with backslash escapes.
    Quoted,
    /// A C-quoted string followed by `...`: the tracer cut it at its string size limit.
    QuotedTruncated,
}

impl<'a> Text<'a> {
    /// A raw field (for building values to write, and in tests).
    pub fn raw(bytes: &'a [u8]) -> Text<'a> {
        Text {
            raw: bytes,
            form: TextForm::Raw,
        }
    }

    /// The field as it stands in the line, quotes and escapes included.
    pub fn as_written(&self) -> &'a [u8] {
        self.raw
    }

    /// How the field was written.
    pub fn form(&self) -> TextForm {
        self.form
    }

    /// True when the tracer truncated the value (a quoted string followed by `...`).
    pub fn is_truncated(&self) -> bool {
        self.form == TextForm::QuotedTruncated
    }

    /// Appends the decoded bytes to `out`: raw bytes as they are; quoted ones unescaped, with
    /// final NUL bytes dropped (DTrace's `%S` prints the terminating NUL as `\0`; on Solaris,
    /// illumos, FreeBSD and macOS it prints the whole fixed-size string buffer, `\0\0\0...`).
    pub fn decode_into(&self, out: &mut Vec<u8>) {
        match self.form {
            TextForm::Raw => out.extend_from_slice(self.raw),
            TextForm::Quoted | TextForm::QuotedTruncated => {
                let body_end = self.raw.len() - if self.is_truncated() { 4 } else { 1 };
                let start = out.len();
                quote::unquote_into(&self.raw[1..body_end], out);
                while out.len() > start && out.last() == Some(&0) {
                    out.pop();
                }
            }
        }
    }

    /// The decoded bytes, borrowed when the field is raw.
    pub fn to_bytes(&self) -> Cow<'a, [u8]> {
        match self.form {
            TextForm::Raw => Cow::Borrowed(self.raw),
            _ => {
                let mut out = Vec::with_capacity(self.raw.len());
                self.decode_into(&mut out);
                Cow::Owned(out)
            }
        }
    }
}

/// A `# key: value` line. Keys are ASCII letters, digits, `-` and `_`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header<'a> {
    /// `# trace-format: N`: the grammar version (this crate: [`FORMAT_VERSION`]).
    Version(u32),
    /// `# backend: NAME [VERSION]`: the tracer that produced the lines.
    Backend(&'a [u8]),
    /// `# host: NAME`: the machine traced.
    Host(&'a [u8]),
    /// `# clock: monotonic|realtime`: what the timestamps count from.
    Clock(Clock),
    /// `# clock-offset-ns: N`: nanoseconds to add to a timestamp to get Unix time (may be
    /// negative); meaningful with a monotonic clock.
    ClockOffset(i64),
    /// `# lost: N`: the tracer reported N events lost at this point; the trace is incomplete.
    Lost(u64),
    /// Any other key: kept for whoever knows it, never an error.
    Other {
        /// The key, before `: `.
        key: &'a [u8],
        /// Everything after `: `.
        value: &'a [u8],
    },
}

/// The clock behind the timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Time since boot (CLOCK_MONOTONIC, DTrace `timestamp`, bpftrace `nsecs`).
    Monotonic,
    /// Unix time in nanoseconds (SystemTap `gettimeofday_ns()`, DTrace `walltimestamp`).
    Realtime,
}

impl Clock {
    /// The name used in the `# clock:` header.
    pub fn name(self) -> &'static str {
        match self {
            Clock::Monotonic => "monotonic",
            Clock::Realtime => "realtime",
        }
    }
}

/// A field of an entry or return line, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `uid:`
    Uid,
    /// `pid:`
    Pid,
    /// `tid:`
    Tid,
    /// `comm:`
    Comm,
    /// `open:` (the path)
    Path,
    /// `ret:`
    Ret,
    /// The final timestamp.
    Timestamp,
    /// `flags:`
    Flags,
    /// `resolve:`
    Resolve,
    /// `mode:`
    Mode,
    /// `via:`
    Via,
    /// `fault:`
    Fault,
    /// `cgroup:`
    Cgroup,
    /// `resolved:`
    Resolved,
    /// `killed:`
    Killed,
}

impl Field {
    /// The field's name as it appears in a line (`timestamp` for the unnamed last field).
    pub fn name(self) -> &'static str {
        match self {
            Field::Uid => "uid",
            Field::Pid => "pid",
            Field::Tid => "tid",
            Field::Comm => "comm",
            Field::Path => "open",
            Field::Ret => "ret",
            Field::Timestamp => "timestamp",
            Field::Flags => "flags",
            Field::Resolve => "resolve",
            Field::Mode => "mode",
            Field::Via => "via",
            Field::Fault => "fault",
            Field::Cgroup => "cgroup",
            Field::Resolved => "resolved",
            Field::Killed => "killed",
        }
    }
}

/// Why a line is not in the grammar. Small, `Copy`, with fixed messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// The line starts with neither `=> `, `<= `, `#`, nor is empty: tracer chatter or garbage.
    NotATraceLine,
    /// A required field (or the separator before it) is missing: a truncated or foreign line.
    MissingField(Field),
    /// A numeric field holds something other than digits (and `-` for `ret`; `0x` and hex
    /// digits for `flags`, `resolve` and `fault`; a `0` and octal digits for `mode`).
    InvalidNumber(Field),
    /// A field's value is not one of its own: an unknown `via:` word, or a `cgroup:` or
    /// `resolved:` that is not one well-formed quoted string.
    InvalidValue(Field),
    /// A numeric field is too large for its type (u32 ids, i64 ret, u64 timestamp).
    NumberTooLarge(Field),
    /// Bytes follow the timestamp of a return line.
    TrailingData,
    /// A known header key has a value that is not valid for it.
    InvalidHeader(&'static str),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NotATraceLine => {
                f.write_str("not a trace line (expected `=> `, `<= `, `#` or an empty line)")
            }
            ParseError::MissingField(Field::Timestamp) => {
                f.write_str("missing timestamp at end of line (truncated line?)")
            }
            ParseError::MissingField(field) => {
                write!(f, "missing `{}:` field (truncated line?)", field.name())
            }
            ParseError::InvalidNumber(field) => {
                write!(f, "invalid number in `{}` field", field.name())
            }
            ParseError::InvalidValue(field) => {
                write!(f, "invalid value in `{}` field", field.name())
            }
            ParseError::NumberTooLarge(field) => {
                write!(f, "number too large in `{}` field", field.name())
            }
            ParseError::TrailingData => f.write_str("unexpected data after the timestamp"),
            ParseError::InvalidHeader(key) => write!(f, "invalid value for header `# {key}:`"),
        }
    }
}

impl std::error::Error for ParseError {}
