//! The parser: one line of bytes in, a borrowed [`Line`] or a [`ParseError`] out.
//!
//! Hand-written over byte slices (no regex) because it is trace-merge's hot path: it runs once
//! per line of multi-gigabyte traces, so it never allocates and reads each byte about once.

use crate::quote;
use crate::{
    Clock, Entry, Field, Header, Line, OpenDetail, ParseError, Return, ReturnDetail, Task, Text,
    TextForm, Via,
};

/// One of the two line shapes tracers print millions of times, as [`parse_plain`] reads it:
/// the same values as [`parse_line`]'s [`Line`] (see [`PlainLine::to_line`]), in a fifth of
/// its size, for readers that keep many parsed lines at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainLine<'a> {
    /// `=> uid: U pid: P [tid: T] open: PATH TS`: no comm, no details, a raw (unquoted) path.
    Entry {
        /// `uid:`.
        uid: u32,
        /// `pid:`.
        pid: u32,
        /// `tid:`, when present.
        tid: Option<u32>,
        /// The path, as written (raw).
        path: &'a [u8],
        /// The timestamp.
        ts: u64,
    },
    /// `<= uid: U pid: P [tid: T] ret: R TS`: no comm, no details.
    Return {
        /// `uid:`.
        uid: u32,
        /// `pid:`.
        pid: u32,
        /// `tid:`, when present.
        tid: Option<u32>,
        /// `ret:`.
        ret: i64,
        /// The timestamp.
        ts: u64,
    },
}

impl<'a> PlainLine<'a> {
    /// The [`Line`] that [`parse_line`] gives for the same line.
    #[inline]
    pub fn to_line(self) -> Line<'a> {
        match self {
            PlainLine::Entry {
                uid,
                pid,
                tid,
                path,
                ts,
            } => Line::Entry(Entry {
                task: Task {
                    uid,
                    pid,
                    tid,
                    comm: None,
                },
                path: Text::raw(path),
                ts,
                detail: OpenDetail::default(),
            }),
            PlainLine::Return {
                uid,
                pid,
                tid,
                ret,
                ts,
            } => Line::Return(Return {
                task: Task {
                    uid,
                    pid,
                    tid,
                    comm: None,
                },
                ret,
                ts,
                detail: ReturnDetail::default(),
            }),
        }
    }
}

/// Parses one line when it has one of the [`PlainLine`] shapes, well-formed; `None` says
/// nothing about the line (it may be any other valid line, or an invalid one): give it to
/// [`parse_line`] then. When it answers, [`parse_line`] gives the same ([`PlainLine::to_line`]).
/// A trailing `\n`, and then a trailing `\r`, are ignored.
///
/// ```
/// use trace_format::{parse_line, parse_plain};
///
/// let line = b"<= uid: 0 pid: 3584 ret: -2 1795664257567624170\n";
/// assert_eq!(Ok(parse_plain(line).unwrap().to_line()), parse_line(line));
/// assert_eq!(parse_plain(b"=> uid: 0 pid: 1 comm: sh open: /x 5"), None);
/// ```
#[inline(always)] // the caller gets the line in registers (see `fast::entry`)
pub fn parse_plain(line: &[u8]) -> Option<PlainLine<'_>> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    fast::parse(line)
}

/// Parses one line. A trailing `\n`, and then a trailing `\r`, are ignored.
///
/// ```
/// use trace_format::{parse_line, Line};
///
/// let line = parse_line(b"=> uid: 0 pid: 3584 open: /tmp/not_exists 1795664257567614000\n")?;
/// let Line::Entry(entry) = line else { panic!() };
/// assert_eq!(entry.task.pid, 3584);
/// assert_eq!(&*entry.path.to_bytes(), b"/tmp/not_exists");
/// # Ok::<(), trace_format::ParseError>(())
/// ```
#[inline]
pub fn parse_line(line: &[u8]) -> Result<Line<'_>, ParseError> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match fast::parse(line) {
        Some(l) => Ok(l.to_line()),
        None => parse_general(line),
    }
}

/// The whole grammar, byte by byte: every line the fast path declines comes here, so the fast
/// path only has to be right about the lines it accepts.
#[cold]
#[inline(never)]
fn parse_general(line: &[u8]) -> Result<Line<'_>, ParseError> {
    if let Some(rest) = line.strip_prefix(b"=> ") {
        parse_entry(rest).map(Line::Entry)
    } else if let Some(rest) = line.strip_prefix(b"<= ") {
        parse_return(rest).map(Line::Return)
    } else if let Some(rest) = line.strip_prefix(b"#") {
        parse_hash(rest)
    } else if line.is_empty() {
        Ok(Line::Blank)
    } else {
        Err(ParseError::NotATraceLine)
    }
}

fn parse_entry(s: &[u8]) -> Result<Entry<'_>, ParseError> {
    let (mut task, rest) = parse_ids(s)?;
    let (detail, rest) = parse_open_detail(rest)?;
    let (comm, rest) = parse_comm(rest, b" open: ", Field::Path)?;
    task.comm = comm;
    let rest = rest
        .strip_prefix(b" open: ")
        .ok_or(ParseError::MissingField(Field::Path))?;
    // The path is everything up to the last space; the timestamp is what follows it.
    let space = rest
        .iter()
        .rposition(|&b| b == b' ')
        .ok_or(ParseError::MissingField(Field::Timestamp))?;
    let ts = parse_u64(&rest[space + 1..], Field::Timestamp)?;
    Ok(Entry {
        task,
        path: text(&rest[..space]),
        ts,
        detail,
    })
}

fn parse_return(s: &[u8]) -> Result<Return<'_>, ParseError> {
    let (mut task, rest) = parse_ids(s)?;
    let (detail, rest) = parse_return_detail(rest)?;
    let (comm, rest) = parse_comm(rest, b" ret: ", Field::Ret)?;
    task.comm = comm;
    let rest = rest
        .strip_prefix(b" ret: ")
        .ok_or(ParseError::MissingField(Field::Ret))?;
    let (ret, rest) = split_word(rest);
    let ret = parse_i64(ret, Field::Ret)?;
    let rest = rest
        .strip_prefix(b" ")
        .ok_or(ParseError::MissingField(Field::Timestamp))?;
    let (ts, rest) = split_word(rest);
    let ts = parse_u64(ts, Field::Timestamp)?;
    if !rest.is_empty() {
        return Err(ParseError::TrailingData);
    }
    Ok(Return {
        task,
        ret,
        ts,
        detail,
    })
}

/// Parses `uid: U pid: P [tid: T]` (the task without its comm, which comes after the
/// optional details) and returns the rest.
fn parse_ids(s: &[u8]) -> Result<(Task<'_>, &[u8]), ParseError> {
    let (uid, rest) = numeric_field(s, b"uid: ", Field::Uid)?;
    let rest = rest
        .strip_prefix(b" ")
        .ok_or(ParseError::MissingField(Field::Pid))?;
    let (pid, mut rest) = numeric_field(rest, b"pid: ", Field::Pid)?;
    let mut tid = None;
    if rest.starts_with(b" tid: ") {
        let (t, r) = numeric_field(&rest[1..], b"tid: ", Field::Tid)?;
        tid = Some(t);
        rest = r;
    }
    let task = Task {
        uid,
        pid,
        tid,
        comm: None,
    };
    Ok((task, rest))
}

/// Parses an entry's optional details, each ` key: value`, in the grammar's order.
fn parse_open_detail(mut rest: &[u8]) -> Result<(OpenDetail<'_>, &[u8]), ParseError> {
    let mut detail = OpenDetail::default();
    if let Some((v, r)) = optional_word(rest, b" flags: ") {
        detail.flags = Some(parse_hex(v, Field::Flags)?);
        rest = r;
    }
    if let Some((v, r)) = optional_word(rest, b" resolve: ") {
        detail.resolve = Some(parse_hex(v, Field::Resolve)?);
        rest = r;
    }
    if let Some((v, r)) = optional_word(rest, b" mode: ") {
        detail.mode = Some(parse_octal(v, Field::Mode)?);
        rest = r;
    }
    if let Some((v, r)) = optional_word(rest, b" via: ") {
        detail.via = Some(Via::from_name(v).ok_or(ParseError::InvalidValue(Field::Via))?);
        rest = r;
    }
    if let Some((v, r)) = optional_word(rest, b" fault: ") {
        detail.fault = Some(parse_hex(v, Field::Fault)?);
        rest = r;
    }
    if let Some(after) = rest.strip_prefix(b" cgroup: ") {
        let (t, r) = quoted_field(after, Field::Cgroup)?;
        detail.cgroup = Some(t);
        rest = r;
    }
    Ok((detail, rest))
}

/// Parses a return's optional details, in the grammar's order.
fn parse_return_detail(mut rest: &[u8]) -> Result<(ReturnDetail<'_>, &[u8]), ParseError> {
    let mut detail = ReturnDetail::default();
    if let Some(after) = rest.strip_prefix(b" resolved: ") {
        let (t, r) = quoted_field(after, Field::Resolved)?;
        detail.resolved = Some(t);
        rest = r;
    }
    if let Some((v, r)) = optional_word(rest, b" killed: ") {
        let n = parse_u64(v, Field::Killed)?;
        detail.killed =
            Some(u32::try_from(n).map_err(|_| ParseError::NumberTooLarge(Field::Killed))?);
        rest = r;
    }
    Ok((detail, rest))
}

/// When `rest` starts with `key` (` name: `), the word after it and what follows the word.
fn optional_word<'a>(rest: &'a [u8], key: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    rest.strip_prefix(key).map(split_word)
}

/// A field that is always quoted (it may hold any byte): one well-formed quoted string,
/// optionally followed by the truncation mark `...`, then a space.
fn quoted_field(s: &[u8], field: Field) -> Result<(Text<'_>, &[u8]), ParseError> {
    let n = quote::quoted_len(s).ok_or(ParseError::InvalidValue(field))?;
    let (n, form) = if s[n..].starts_with(b"... ") {
        (n + 3, TextForm::QuotedTruncated)
    } else {
        (n, TextForm::Quoted)
    };
    if !s[n..].starts_with(b" ") {
        return Err(ParseError::InvalidValue(field));
    }
    Ok((Text { raw: &s[..n], form }, &s[n..]))
}

/// `0x` and 1 to 16 hex digits.
fn parse_hex(s: &[u8], field: Field) -> Result<u64, ParseError> {
    let digits = s
        .strip_prefix(b"0x")
        .filter(|d| !d.is_empty())
        .ok_or(ParseError::InvalidNumber(field))?;
    let mut n: u64 = 0;
    for &b in digits {
        let d = (b as char)
            .to_digit(16)
            .ok_or(ParseError::InvalidNumber(field))?;
        n = n
            .checked_mul(16)
            .map(|n| n | u64::from(d))
            .ok_or(ParseError::NumberTooLarge(field))?;
    }
    Ok(n)
}

/// A `0` and octal digits (`0`, `0644`), fitting a u32.
fn parse_octal(s: &[u8], field: Field) -> Result<u32, ParseError> {
    if s.first() != Some(&b'0') {
        return Err(ParseError::InvalidNumber(field));
    }
    let mut n: u32 = 0;
    for &b in &s[1..] {
        let d = b.wrapping_sub(b'0');
        if d > 7 {
            return Err(ParseError::InvalidNumber(field));
        }
        n = n
            .checked_mul(8)
            .map(|n| n | u32::from(d))
            .ok_or(ParseError::NumberTooLarge(field))?;
    }
    Ok(n)
}

/// Parses an optional ` comm: C`; the rest then starts at `sep` (` open: ` or ` ret: `) when
/// the line is well-formed.
fn parse_comm<'a>(
    rest: &'a [u8],
    sep: &[u8],
    sep_field: Field,
) -> Result<(Option<Text<'a>>, &'a [u8]), ParseError> {
    match rest.strip_prefix(b" comm: ") {
        Some(after) => {
            let (c, r) = split_comm(after, sep).ok_or(ParseError::MissingField(sep_field))?;
            Ok((Some(c), r))
        }
        None => Ok((None, rest)),
    }
}

/// Splits `comm` from what follows. A well-formed quoted comm directly followed by `sep` is
/// taken as quoted; otherwise the comm is raw up to the first `sep` (for ` open: `) or the
/// last one (for ` ret: `, whose tail `R TS` can never contain it).
fn split_comm<'a>(s: &'a [u8], sep: &[u8]) -> Option<(Text<'a>, &'a [u8])> {
    if let Some(n) = quote::quoted_len(s) {
        if s[n..].starts_with(sep) {
            let comm = Text {
                raw: &s[..n],
                form: TextForm::Quoted,
            };
            return Some((comm, &s[n..]));
        }
    }
    let at = if sep == b" ret: " {
        find_last(s, sep)?
    } else {
        find_first(s, sep)?
    };
    Some((Text::raw(&s[..at]), &s[at..]))
}

/// Classifies a path field: quoted when the whole field is one well-formed quoted string
/// (optionally followed by `...`, SystemTap's truncation mark), raw otherwise.
fn text(s: &[u8]) -> Text<'_> {
    let form = match quote::quoted_len(s) {
        Some(n) if n == s.len() => TextForm::Quoted,
        Some(n) if n + 3 == s.len() && s.ends_with(b"...") => TextForm::QuotedTruncated,
        _ => TextForm::Raw,
    };
    Text { raw: s, form }
}

fn numeric_field<'a>(
    s: &'a [u8],
    name: &[u8],
    field: Field,
) -> Result<(u32, &'a [u8]), ParseError> {
    let rest = s
        .strip_prefix(name)
        .ok_or(ParseError::MissingField(field))?;
    let (digits, rest) = split_word(rest);
    let n = parse_u64(digits, field)?;
    let n = u32::try_from(n).map_err(|_| ParseError::NumberTooLarge(field))?;
    Ok((n, rest))
}

/// Splits at the first space: (word, rest starting with the space).
fn split_word(s: &[u8]) -> (&[u8], &[u8]) {
    let end = s.iter().position(|&b| b == b' ').unwrap_or(s.len());
    s.split_at(end)
}

fn parse_u64(s: &[u8], field: Field) -> Result<u64, ParseError> {
    if s.is_empty() {
        return Err(if field == Field::Timestamp {
            ParseError::MissingField(field)
        } else {
            ParseError::InvalidNumber(field)
        });
    }
    // Up to 19 digits cannot overflow a u64: no per-digit overflow check on that (hot) path.
    let (fast, slow) = s.split_at(s.len().min(19));
    let mut n: u64 = 0;
    for &b in fast {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return Err(ParseError::InvalidNumber(field));
        }
        n = n * 10 + u64::from(d);
    }
    for &b in slow {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return Err(ParseError::InvalidNumber(field));
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d)))
            .ok_or(ParseError::NumberTooLarge(field))?;
    }
    Ok(n)
}

fn parse_i64(s: &[u8], field: Field) -> Result<i64, ParseError> {
    let (neg, digits) = match s.strip_prefix(b"-") {
        Some(d) => (true, d),
        None => (false, s),
    };
    let n = parse_u64(digits, field)?;
    if neg {
        0i64.checked_sub_unsigned(n)
    } else {
        i64::try_from(n).ok()
    }
    .ok_or(ParseError::NumberTooLarge(field))
}

/// Parses what follows `#`: a `# key: value` header, or else a comment.
fn parse_hash(s: &[u8]) -> Result<Line<'_>, ParseError> {
    let Some(body) = s.strip_prefix(b" ") else {
        return Ok(Line::Comment(s));
    };
    let key_len = body
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .unwrap_or(body.len());
    let (key, rest) = body.split_at(key_len);
    let Some(value) = rest.strip_prefix(b": ") else {
        return Ok(Line::Comment(s));
    };
    if key.is_empty() {
        return Ok(Line::Comment(s));
    }
    let header = match key {
        b"trace-format" => Header::Version(
            u32::try_from(header_u64(value, "trace-format")?)
                .map_err(|_| ParseError::InvalidHeader("trace-format"))?,
        ),
        b"backend" => Header::Backend(value),
        b"host" => Header::Host(value),
        b"clock" => Header::Clock(match value {
            b"monotonic" => Clock::Monotonic,
            b"realtime" => Clock::Realtime,
            _ => return Err(ParseError::InvalidHeader("clock")),
        }),
        b"clock-offset-ns" => Header::ClockOffset(
            parse_i64(value, Field::Timestamp)
                .map_err(|_| ParseError::InvalidHeader("clock-offset-ns"))?,
        ),
        b"lost" => Header::Lost(header_u64(value, "lost")?),
        _ => Header::Other { key, value },
    };
    Ok(Line::Header(header))
}

fn header_u64(value: &[u8], key: &'static str) -> Result<u64, ParseError> {
    parse_u64(value, Field::Uid).map_err(|_| ParseError::InvalidHeader(key))
}

fn find_first(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// The fast path for the shapes tracers print millions of times: `=> uid: U pid: P [tid: T]
/// open: PATH TS` and `<= uid: U pid: P [tid: T] ret: R TS` (no comm), well-formed, plain
/// (unquoted) path. Numbers are read while they are scanned, the timestamp 8 digits at a
/// time. Anything else, including every error, answers `None` and goes to the general parser,
/// which then gives the same result it always did; the tests below check both agree.
mod fast {
    use super::PlainLine;

    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;

    #[inline(always)]
    pub(super) fn parse(line: &[u8]) -> Option<PlainLine<'_>> {
        // The 8-byte line start, compared as one word.
        let head = u64::from_le_bytes(line.get(..8)?.try_into().ok()?);
        let is_entry = if head == u64::from_le_bytes(*b"=> uid: ") {
            true
        } else if head == u64::from_le_bytes(*b"<= uid: ") {
            false
        } else {
            return None;
        };
        let (uid, i) = id_at(line, 8)?;
        if line.get(i..i + 6)? != b" pid: " {
            return None;
        }
        let (pid, mut i) = id_at(line, i + 6)?;
        let mut tid = None;
        if line.get(i..i + 6) == Some(b" tid: ") {
            let (t, j) = id_at(line, i + 6)?;
            tid = Some(t);
            i = j;
        }
        if is_entry {
            if line.get(i..i + 7)? != b" open: " {
                return None;
            }
            let (path, ts) = entry(&line[i + 7..])?;
            Some(PlainLine::Entry {
                uid,
                pid,
                tid,
                path,
                ts,
            })
        } else {
            if line.get(i..i + 6)? != b" ret: " {
                return None;
            }
            let (ret, ts) = ret(&line[i + 6..])?;
            Some(PlainLine::Return {
                uid,
                pid,
                tid,
                ret,
                ts,
            })
        }
    }

    /// `PATH TS`: the path and the timestamp. Always inlined, as [`ret`]: called, each handed
    /// its pair back through memory, where `parse` read it as one 16-byte load that the CPU
    /// cannot forward from two 8-byte stores (a stall on every line).
    #[inline(always)]
    fn entry(rest: &[u8]) -> Option<(&[u8], u64)> {
        let (ts, space) = match last_word_19_digits(rest) {
            Some(found) => found,
            None => {
                // The timestamp: the digits after the last space.
                let digits = trailing_digits(rest);
                if digits == 0 || digits > 19 || digits >= rest.len() {
                    return None;
                }
                let space = rest.len() - digits - 1;
                if rest[space] != b' ' {
                    return None;
                }
                (digits_value(&rest[space + 1..]), space)
            }
        };
        let path = &rest[..space];
        if path.first() == Some(&b'"') {
            return None; // maybe quoted: the general parser classifies it
        }
        Some((path, ts))
    }

    /// A 19-digit timestamp (the usual nanoseconds since 1970) after a space ending `s`: its
    /// value and the position of the space.
    #[inline]
    fn last_word_19_digits(s: &[u8]) -> Option<(u64, usize)> {
        let n = s.len();
        if n < 20 || s[n - 20] != b' ' {
            return None;
        }
        Some((nineteen_digits(&s[n - 19..])?, n - 20))
    }

    /// The value of `d` when it is exactly 19 ASCII digits: 3 one by one, then 8 and 8.
    #[inline]
    fn nineteen_digits(d: &[u8]) -> Option<u64> {
        if d.len() != 19 {
            return None;
        }
        let w1 = word(d, 3);
        let w2 = word(d, 11);
        if digit_bits(w1) & digit_bits(w2) != HI || !d[..3].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let head = d[..3].iter().fold(0, |n, &b| n * 10 + u64::from(b - b'0'));
        Some((head * 100_000_000 + eight_digits(w1)) * 100_000_000 + eight_digits(w2))
    }

    /// `R TS`: the return value and the timestamp (always inlined, see [`entry`]).
    #[inline(always)]
    fn ret(rest: &[u8]) -> Option<(i64, u64)> {
        let (neg, rest) = match rest.strip_prefix(b"-") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let (r, rest) = small_number(rest, 18)?;
        let ts = rest.strip_prefix(b" ")?;
        let ts = match nineteen_digits(ts) {
            Some(v) => v,
            None => {
                if ts.is_empty() || ts.len() > 19 || trailing_digits(ts) != ts.len() {
                    return None;
                }
                digits_value(ts)
            }
        };
        Some((if neg { -(r as i64) } else { r as i64 }, ts))
    }

    /// The 8 bytes at `s[i..]`, first in the low byte.
    #[inline]
    fn word(s: &[u8], i: usize) -> u64 {
        u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"))
    }

    /// A u32 at `s[i..]` (1 to 10 digits) followed by a space: its value and the position of
    /// the space. Up to 7 digits are read as one word.
    #[inline(always)]
    fn id_at(s: &[u8], i: usize) -> Option<(u32, usize)> {
        if s.len() >= i + 8 {
            let w = word(s, i);
            let k = ((!digit_bits(w) & HI).trailing_zeros() / 8) as usize;
            if k < 8 {
                if k == 0 || (w >> (8 * k)) as u8 != b' ' {
                    return None;
                }
                // Move the k digits to the top and fill the bottom with '0's (leading zeros).
                let w = (w << (8 * (8 - k))) | ((LO * 0x30) >> (8 * k));
                return Some((eight_digits(w) as u32, i + k));
            }
        }
        let (n, rest) = small_number(&s[i..], 10)?;
        Some((u32::try_from(n).ok()?, s.len() - rest.len()))
    }

    /// 1 to `max` digits ending at a space: their value and the rest from that space.
    #[inline]
    fn small_number(s: &[u8], max: usize) -> Option<(u64, &[u8])> {
        let mut n = 0u64;
        for (i, &b) in s.iter().enumerate().take(max + 1) {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return (b == b' ' && i > 0).then(|| (n, &s[i..]));
            }
            n = n * 10 + u64::from(d);
        }
        None
    }

    /// High bit set in each byte of `x` that is an ASCII digit (exact per byte: no carries
    /// cross byte boundaries).
    #[inline]
    fn digit_bits(x: u64) -> u64 {
        let at_least_0 = (x | HI) - LO * 0x30; // (b & 0x7f) >= '0'
        let above_9 = (x & !HI) + LO * (0x80 - 0x3a); // (b & 0x7f) > '9'
        at_least_0 & !above_9 & !x & HI
    }

    /// How many bytes at the end of `s` are digits (counted 8 at a time, at most 24).
    #[inline]
    pub(super) fn trailing_digits(s: &[u8]) -> usize {
        let mut end = s.len();
        let mut n = 0;
        while end >= 8 {
            let w = u64::from_le_bytes(s[end - 8..end].try_into().expect("8 bytes"));
            let not_digits = !digit_bits(w) & HI;
            let k = (not_digits.leading_zeros() / 8) as usize;
            n += k;
            if k < 8 || n >= 24 {
                return n;
            }
            end -= 8;
        }
        n + s[..end]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count()
    }

    /// The value of 1 to 19 ASCII digits (checked by the caller), 8 at a time.
    #[inline]
    pub(super) fn digits_value(d: &[u8]) -> u64 {
        let head = d.len() % 8;
        let mut n = 0u64;
        for &b in &d[..head] {
            n = n * 10 + u64::from(b - b'0');
        }
        for c in d[head..].chunks_exact(8) {
            n = n * 100_000_000 + eight_digits(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        n
    }

    /// The value of 8 ASCII digits loaded little-endian (first digit in the low byte).
    #[inline]
    fn eight_digits(x: u64) -> u64 {
        // Pairs, then quads, then all eight; the multiplications shift the top lane out.
        let x = x - LO * 0x30;
        let x = (x * 10 + (x >> 8)) & 0x00ff_00ff_00ff_00ff;
        let x = (x.wrapping_mul(1 + (100 << 16)) >> 16) & 0x0000_ffff_0000_ffff;
        x.wrapping_mul(1 + (10_000 << 32)) >> 32
    }
}

#[cfg(test)]
mod tests {
    use super::{fast, parse_general, parse_line, parse_plain};

    #[test]
    fn digit_helpers() {
        for s in [
            &b"1795664257000001717"[..],
            b"0",
            b"12345678",
            b"123456789",
            b"9999999999999999999",
            b"0000000000000000001",
        ] {
            let want: u64 = std::str::from_utf8(s).unwrap().parse().unwrap();
            assert_eq!(fast::digits_value(s), want);
            assert_eq!(fast::trailing_digits(s), s.len());
        }
        for b in 0..=255u8 {
            let mut s = *b"x1234567890123456789012";
            for pos in 1..s.len() {
                s[pos] = b;
                let want = s.iter().rev().take_while(|c| c.is_ascii_digit()).count();
                assert_eq!(fast::trailing_digits(&s), want.min(24), "{b} at {pos}");
                s[pos] = b'5';
            }
        }
    }

    /// Lines near the fast path's shapes, each mutated at every byte: the fast path must give
    /// what the general parser gives, or decline.
    #[test]
    fn fast_path_agrees_with_general_parser() {
        let lines: [&[u8]; 14] = [
            b"=> uid: 12345678 pid: 123456789 tid: 1234567 open: /a b 01795664257000001717",
            b"=> uid: 1 pid: 2 open: /a/b/c 1795664257000001717 1795664257000001717",
            b"=> uid: 1 pid: 2 open: x1795664257000001717",
            b"<= uid: 7 pid: 8 tid: 9 ret: 3 1795664257000015134",
            b"=> uid: 33 pid: 686900 open: /etc/report final.pdf 1795664257000001717",
            b"<= uid: 0 pid: 2839208 ret: 355 1795664257000015134",
            b"<= uid: 0 pid: 2839208 ret: -2 15134",
            b"=> uid: 0 pid: 1 tid: 2 open: a 0",
            b"<= uid: 4294967295 pid: 4294967296 tid: 3 ret: -9223372036854775808 18446744073709551615",
            b"<= uid: 1 pid: 1 ret: 9223372036854775807 99999999999999999999",
            b"=> uid: 1 pid: 2 open: \"quoted\" 5",
            b"=> uid: 1 pid: 2 open:  5",
            b"=> uid: 1 pid: 2 comm: sh open: /x 5",
            b"<= uid: 01 pid: 02 ret: 00 0000000000000000000",
        ];
        let swaps = [
            b' ', b'0', b'9', b'-', b'x', b'"', b'\\', b':', 0, 0x80, 0xff, b'/',
        ];
        for line in lines {
            let mut buf = line.to_vec();
            check(&buf);
            for i in 0..buf.len() {
                let orig = buf[i];
                for &b in &swaps {
                    buf[i] = b;
                    check(&buf);
                }
                buf[i] = orig;
                let mut cut = buf.clone();
                cut.remove(i);
                check(&cut);
                check(&buf[..i]);
            }
        }
    }

    fn check(line: &[u8]) {
        if let Some(fast) = fast::parse(line) {
            assert_eq!(
                Ok(fast.to_line()),
                parse_general(line),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        assert_eq!(parse_line(line), parse_general(line));
        for end in [&b""[..], b"\n", b"\r\n"] {
            let whole = [line, end].concat();
            if let Some(plain) = parse_plain(&whole) {
                assert_eq!(Ok(plain.to_line()), parse_line(&whole));
            }
        }
    }
}
