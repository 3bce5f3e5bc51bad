//! C-style quoting of byte strings, as SystemTap's `filename` and DTrace's `"%S"` print them.
//!
//! Kept apart from the line parser because it is used in both directions: the parser recognises
//! and decodes quoted fields lazily (only when a consumer asks for the bytes), and the writer
//! quotes fields that could not be written raw.

/// Length of the quoted string at the start of `s` (opening and closing quote included), or
/// `None` when `s` does not start with a well-formed quoted string.
///
/// Well-formed means: an opening `"`, then any bytes except an unescaped `"`, with every `\`
/// followed by a recognised escape (see [`unquote_into`]), then a closing `"`.
pub(crate) fn quoted_len(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            b'"' => return Some(i + 1),
            b'\\' => i += 1 + escape_len(&s[i + 1..])?,
            _ => i += 1,
        }
    }
    None
}

/// Number of bytes after a backslash that form one escape, or `None` if it is not one.
fn escape_len(s: &[u8]) -> Option<usize> {
    match *s.first()? {
        b'n' | b't' | b'r' | b'v' | b'b' | b'f' | b'a' | b'e' | b'\\' | b'"' | b'\'' | b'?' => {
            Some(1)
        }
        b'0'..=b'7' => Some(
            s.iter()
                .take(3)
                .take_while(|c| matches!(c, b'0'..=b'7'))
                .count(),
        )
        .filter(|&n| n < 3 || s[0] <= b'3'),
        b'x' => {
            let n = s[1..]
                .iter()
                .take(2)
                .take_while(|c| c.is_ascii_hexdigit())
                .count();
            (n > 0).then_some(1 + n)
        }
        b'u' => unicode_escape(&s[1..], 4).map(|_| 5),
        b'U' => unicode_escape(&s[1..], 8).map(|_| 9),
        _ => None,
    }
}

/// The character of a `\\u` (4 hex digits) or `\\U` (8 hex digits) escape, as SystemTap prints
/// valid multi-byte UTF-8 in quoted strings. Exactly `digits` hex digits, and a valid scalar.
fn unicode_escape(s: &[u8], digits: usize) -> Option<char> {
    let hex = s.get(..digits)?;
    if !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    char::from_u32(
        hex.iter()
            .fold(0u32, |acc, &d| acc * 16 + u32::from(hex_value(d))),
    )
}

/// Decodes the body of a quoted string (without its quotes) and appends the bytes to `out`.
///
/// Escapes: `\n \t \r \v \b \f \a \e \\ \" \' \?`, octal `\o`, `\oo`, `\ooo` (at most `\377`),
/// hex `\xH`, `\xHH`, and Unicode `\uHHHH`, `\UHHHHHHHH` (written out as UTF-8). The body must have been checked by [`quoted_len`].
pub(crate) fn unquote_into(body: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c != b'\\' || i + 1 >= body.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let rest = &body[i + 1..];
        let n = escape_len(rest).unwrap_or(0);
        let byte = match rest[0] {
            b'n' => b'\n',
            b't' => b'\t',
            b'r' => b'\r',
            b'v' => 0x0b,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'a' => 0x07,
            b'e' => 0x1b,
            b'0'..=b'7' => rest[..n]
                .iter()
                .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'))
                as u8,
            b'x' => rest[1..n]
                .iter()
                .fold(0u8, |acc, d| acc * 16 + hex_value(*d)),
            b'u' | b'U' => {
                if let Some(c) = unicode_escape(&rest[1..], n - 1) {
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                i += 1 + n;
                continue;
            }
            other => other,
        };
        out.push(byte);
        i += 1 + n.max(1);
    }
}

fn hex_value(d: u8) -> u8 {
    match d {
        b'0'..=b'9' => d - b'0',
        b'a'..=b'f' => d - b'a' + 10,
        _ => d - b'A' + 10,
    }
}

/// True when `bytes` must be quoted to survive as a field: it holds a control byte (which
/// could end the line or hide in a terminal), a byte a terminal could act on among those of
/// 0x80 and above (see [`for_each_unit`]), or starts with `"` (which would read as quoted).
pub(crate) fn needs_quoting(bytes: &[u8]) -> bool {
    let mut high = false;
    for &b in bytes {
        if b < 0x20 || b == 0x7f {
            return true;
        }
        high |= b >= 0x80;
    }
    bytes.first() == Some(&b'"') || (high && has_terminal_units(bytes))
}

/// Appends `bytes` in quoted form: `"` + escaped body + `"`. Printable ASCII stays as is,
/// `\` and `"` are escaped, `\n \t \r` use their letters, other control bytes use
/// three-digit octal (as DTrace's `%S` does). Bytes of 0x80 and above stay raw when they are
/// valid UTF-8 (a name stays readable), and are written in octal too when a terminal could
/// act on them: a byte that is not UTF-8 (a lone 0x9b is the 8-bit CSI), a C1 control
/// (U+0080-U+009F) or a bidi control (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069).
pub(crate) fn quote_into(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for_each_unit(bytes, |unit, act| {
        if act {
            unit.iter().for_each(|&b| push_octal(out, b));
            return;
        }
        for &b in unit {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\r' => out.extend_from_slice(b"\\r"),
                0..=0x1f | 0x7f => push_octal(out, b),
                _ => out.push(b),
            }
        }
    });
    out.push(b'"');
}

fn push_octal(out: &mut Vec<u8>, b: u8) {
    out.extend_from_slice(&[
        b'\\',
        b'0' + (b >> 6),
        b'0' + ((b >> 3) & 7),
        b'0' + (b & 7),
    ]);
}

/// Calls `f` on `bytes` cut into units, each with whether a terminal could act on it among
/// the bytes of 0x80 and above: a run of ASCII or harmless UTF-8 (`false`), one byte that is
/// not part of valid UTF-8 (`true`), or one C1 or bidi control character (`true`). ASCII
/// control bytes are the caller's business. Linear in the length, whatever the bytes.
pub(crate) fn for_each_unit(bytes: &[u8], mut f: impl FnMut(&[u8], bool)) {
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let mut start = 0;
        for (i, c) in valid.char_indices() {
            if acts_on_terminal(c) {
                if start < i {
                    f(&valid.as_bytes()[start..i], false);
                }
                start = i + c.len_utf8();
                f(&valid.as_bytes()[i..start], true);
            }
        }
        if start < valid.len() {
            f(&valid.as_bytes()[start..], false);
        }
        chunk.invalid().chunks(1).for_each(|b| f(b, true));
    }
}

/// True when a terminal could act on one of the bytes of 0x80 and above (see
/// [`for_each_unit`]).
fn has_terminal_units(bytes: &[u8]) -> bool {
    bytes
        .utf8_chunks()
        .any(|c| !c.invalid().is_empty() || c.valid().chars().any(acts_on_terminal))
}

/// C1 controls and the bidi controls that reorder what a terminal shows.
fn acts_on_terminal(c: char) -> bool {
    matches!(c, '\u{80}'..='\u{9f}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unquote(s: &[u8]) -> Vec<u8> {
        let n = quoted_len(s).expect("well-formed");
        let mut out = Vec::new();
        unquote_into(&s[1..n - 1], &mut out);
        out
    }

    #[test]
    fn escapes_decode() {
        assert_eq!(unquote(br#""a\nb""#), b"a\nb");
        assert_eq!(unquote(br#""\033[31m""#), b"\x1b[31m");
        assert_eq!(unquote(br#""caf\303\251""#), "café".as_bytes());
        assert_eq!(unquote(br#""\x41\x7""#), b"A\x07");
        assert_eq!(unquote(br#""q\"q\\""#), b"q\"q\\");
        assert_eq!(unquote(br#""\0""#), b"\0");
        assert_eq!(unquote(br#""\1234""#), b"S4");
        assert_eq!(unquote(br#""caf\u00e9 \U0001F600""#), "café 😀".as_bytes());
    }

    #[test]
    fn malformed_is_not_quoted() {
        assert_eq!(quoted_len(b"\"abc"), None);
        assert_eq!(quoted_len(b"\"a\\qb\""), None);
        assert_eq!(quoted_len(b"\"\\400\""), None);
        assert_eq!(quoted_len(b"\"\\x\""), None);
        assert_eq!(quoted_len(b"abc\""), None);
        assert_eq!(quoted_len(b"\"\\"), None);
        assert_eq!(quoted_len(b"\"\\u12\""), None);
        assert_eq!(quoted_len(b"\"\\ud800\""), None);
        assert_eq!(quoted_len(b"\"\\U00110000\""), None);
    }

    #[test]
    fn bytes_a_terminal_acts_on_are_quoted_in_octal() {
        let quoted = |b: &[u8]| {
            let mut q = Vec::new();
            quote_into(b, &mut q);
            q
        };
        // A lone 0x9b (the 8-bit CSI), a C1 control, a bidi override, a truncated sequence.
        for (raw, want) in [
            (&b"a\x9b[2Jb"[..], &br#""a\233[2Jb""#[..]),
            ("x\u{9b}y".as_bytes(), br#""x\302\233y""#),
            ("x\u{202e}y".as_bytes(), br#""x\342\200\256y""#),
            (b"caf\xc3", br#""caf\303""#),
            (b"\xc0\xaf", br#""\300\257""#),
            (b"\xed\xa0\x80", br#""\355\240\200""#),
        ] {
            assert!(needs_quoting(raw), "{raw:?}");
            assert_eq!(quoted(raw), want, "{raw:?}");
            assert_eq!(unquote(want), raw);
        }
        // Valid UTF-8 that a terminal only prints stays raw, and unquoted.
        for raw in ["caf\u{e9}", "\u{65e5}\u{672c}", "\u{1f600}", "\u{a0}"] {
            assert!(!needs_quoting(raw.as_bytes()), "{raw}");
            assert_eq!(quoted(raw.as_bytes()), format!("\"{raw}\"").as_bytes());
        }
    }

    #[test]
    fn quote_then_unquote_is_identity() {
        let all: Vec<u8> = (0..=255).collect();
        let mut q = Vec::new();
        quote_into(&all, &mut q);
        assert_eq!(quoted_len(&q), Some(q.len()));
        assert_eq!(unquote(&q), all);
    }
}
