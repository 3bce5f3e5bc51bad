//! The parser: one line of bytes in, a borrowed [`Line`] or a [`ParseError`] out.
//!
//! Hand-written over byte slices (no regex) because it is trace-merge's hot path: it runs once
//! per line of multi-gigabyte traces, so it never allocates and reads each byte about once.

use crate::quote;
use crate::{Clock, Entry, Field, Header, Line, ParseError, Return, Task, Text, TextForm};

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
pub fn parse_line(line: &[u8]) -> Result<Line<'_>, ParseError> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
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
    let (task, rest) = parse_task(s, b" open: ", Field::Path)?;
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
    })
}

fn parse_return(s: &[u8]) -> Result<Return<'_>, ParseError> {
    let (task, rest) = parse_task(s, b" ret: ", Field::Ret)?;
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
    Ok(Return { task, ret, ts })
}

/// Parses `uid: U pid: P [tid: T] [comm: C]` and returns the rest, which starts at `sep`
/// (` open: ` or ` ret: `) when the line is well-formed.
fn parse_task<'a>(
    s: &'a [u8],
    sep: &[u8],
    sep_field: Field,
) -> Result<(Task<'a>, &'a [u8]), ParseError> {
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
    let mut comm = None;
    if let Some(after) = rest.strip_prefix(b" comm: ") {
        let (c, r) = split_comm(after, sep).ok_or(ParseError::MissingField(sep_field))?;
        comm = Some(c);
        rest = r;
    }
    Ok((
        Task {
            uid,
            pid,
            tid,
            comm,
        },
        rest,
    ))
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
