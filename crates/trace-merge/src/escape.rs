//! Making paths and process names safe to print on a terminal.
//!
//! A traced path is chosen by whoever created the file, so it may hold bytes that a terminal
//! would act on (ESC sequences that recolour or retitle the window, a carriage return that
//! overwrites the line, bidi controls that reorder it). Text output shows those as visible
//! escapes instead. The form, documented in `--help`:
//!
//! | input                                      | shown as                    |
//! |--------------------------------------------|-----------------------------|
//! | newline, tab, carriage return              | `\n`, `\t`, `\r`            |
//! | other C0 control bytes (0x00-0x1f), DEL    | `\xHH` (`\x1b` for ESC)     |
//! | backslash                                  | `\\`                        |
//! | C1 controls U+0080-U+009F (UTF-8 encoded)  | `\u{0085}`                  |
//! | bidi controls U+200E, U+200F, U+202A-U+202E, U+2066-U+2069 | `\u{202e}`  |
//!
//! Every backslash in the output therefore starts an escape, so the form is unambiguous.
//! All other bytes, including invalid UTF-8, pass through unchanged.

/// Bytes that may start something to escape; everything else is copied as is.
const fn special_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[0x7f] = true;
    t[b'\\' as usize] = true;
    t[0xc2] = true; // lead byte of U+0080..U+00BF (C1 controls are U+0080..U+009F)
    t[0xe2] = true; // lead byte of U+2000..U+2FFF (bidi controls)
    t
}

static SPECIAL: [bool; 256] = special_table();

const HEX: &[u8; 16] = b"0123456789abcdef";

/// True when one of the 8 bytes of `x` may need escaping (below 0x20, DEL, `\\`, or a lead
/// byte 0xc2/0xe2). Exact as a yes/no answer: the classic "has a zero byte" bit trick.
#[inline]
fn chunk_may_need_escape(x: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let below_space = x.wrapping_sub(LO * 0x20) & !x & HI;
    (below_space
        | has_zero(x ^ (LO * 0x5c))
        | has_zero(x ^ (LO * 0x7f))
        | has_zero(x ^ (LO * 0xc2))
        | has_zero(x ^ (LO * 0xe2)))
        != 0
}

/// Appends `bytes` to `out`, escaping control characters and backslashes (see module docs).
#[inline]
pub fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
    // Paths almost never need escaping: check the whole text a word at a time, then copy it
    // in one piece.
    if is_clean(bytes) {
        out.extend_from_slice(bytes);
    } else {
        escape_slow(out, bytes);
    }
}

/// True when no byte of `bytes` may start an escape (a 0xc2/0xe2 lead byte counts as one,
/// whatever follows it: the slow path decides).
#[inline]
fn is_clean(bytes: &[u8]) -> bool {
    let n = bytes.len();
    #[cfg(target_arch = "x86_64")]
    if n >= 16 {
        return sse2::is_clean(bytes);
    }
    if n < 8 {
        return bytes.iter().all(|&b| !SPECIAL[b as usize]);
    }
    let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
    let mut i = 0;
    while i + 8 < n {
        if chunk_may_need_escape(word(i)) {
            return false;
        }
        i += 8;
    }
    // The last (possibly overlapping) word.
    !chunk_may_need_escape(word(n - 8))
}

/// [`is_clean`] 16 bytes at a time with SSE2 (part of every x86_64): about half the work of
/// the word-at-a-time check on a usual path.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    /// [`super::is_clean`] for 16 bytes or more: 16 at a time, the last 16 overlapping.
    #[inline]
    pub(super) fn is_clean(bytes: &[u8]) -> bool {
        let n = bytes.len();
        let mut i = 0;
        while i + 16 < n {
            if may_need_escape(&bytes[i..i + 16]) {
                return false;
            }
            i += 16;
        }
        !may_need_escape(&bytes[n - 16..])
    }

    /// True when one of the 16 bytes is below 0x20, DEL, `\\`, 0xc2 or 0xe2.
    #[inline(always)]
    fn may_need_escape(chunk: &[u8]) -> bool {
        assert_eq!(chunk.len(), 16);
        // SAFETY: SSE2 is part of every x86_64; one unaligned 16-byte load inside `chunk`.
        unsafe {
            let x = _mm_loadu_si128(chunk.as_ptr().cast());
            let is = |b: u8| _mm_cmpeq_epi8(x, _mm_set1_epi8(b as i8));
            // b < 0x20 exactly when min(b, 0x1f) == b (unsigned).
            let control = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);
            let m = _mm_or_si128(
                _mm_or_si128(control, is(b'\\')),
                _mm_or_si128(is(0x7f), _mm_or_si128(is(0xc2), is(0xe2))),
            );
            _mm_movemask_epi8(m) != 0
        }
    }
}

/// [`escape_into`] for text that holds something to escape.
#[cold]
fn escape_slow(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Skip 8 clean bytes at a time: paths almost never need escaping.
        if let Some(chunk) = bytes.get(i..i + 8) {
            let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            if !chunk_may_need_escape(x) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        if !SPECIAL[b as usize] {
            i += 1;
            continue;
        }
        // How many bytes of the input the escape replaces, and what it writes.
        let consumed = match b {
            b'\\' | b'\n' | b'\t' | b'\r' | 0..=0x1f | 0x7f => 1,
            0xc2 => match bytes.get(i + 1) {
                Some(0x80..=0x9f) => 2,
                _ => 0,
            },
            _ => match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(0x80), Some(0x8e | 0x8f | 0xaa..=0xae)) | (Some(0x81), Some(0xa6..=0xa9)) => {
                    3
                }
                _ => 0,
            },
        };
        if consumed == 0 {
            i += 1;
            continue;
        }
        out.extend_from_slice(&bytes[copied..i]);
        match consumed {
            1 => match b {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\r' => out.extend_from_slice(b"\\r"),
                _ => out.extend_from_slice(&[
                    b'\\',
                    b'x',
                    HEX[(b >> 4) as usize],
                    HEX[(b & 15) as usize],
                ]),
            },
            2 => push_unicode_escape(out, u32::from(bytes[i + 1])),
            _ => {
                let cp = (u32::from(b & 0x0f) << 12)
                    | (u32::from(bytes[i + 1] & 0x3f) << 6)
                    | u32::from(bytes[i + 2] & 0x3f);
                push_unicode_escape(out, cp);
            }
        }
        i += consumed;
        copied = i;
    }
    out.extend_from_slice(&bytes[copied..]);
}

/// `\u{hhhh}`, four lowercase hex digits (all escaped code points are below U+10000).
fn push_unicode_escape(out: &mut Vec<u8>, cp: u32) {
    out.extend_from_slice(b"\\u{");
    for shift in [12, 8, 4, 0] {
        out.push(HEX[((cp >> shift) & 15) as usize]);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::escape_into;

    fn esc(b: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        escape_into(&mut v, b);
        v
    }

    macro_rules! case {
        ($name:ident, $input:expr, $want:expr) => {
            #[test]
            fn $name() {
                assert_eq!(
                    String::from_utf8_lossy(&esc($input)),
                    String::from_utf8_lossy($want)
                );
                assert_eq!(esc($input), $want.to_vec());
            }
        };
    }

    case!(plain, b"/etc/passwd", b"/etc/passwd");
    case!(
        space_kept,
        b"/home/My Documents/a b",
        b"/home/My Documents/a b"
    );
    case!(newline, b"/tmp/new\nline", b"/tmp/new\\nline");
    case!(tab_cr, b"a\tb\rc", b"a\\tb\\rc");
    case!(esc_seq, b"/tmp/esc\x1b[31mred", b"/tmp/esc\\x1b[31mred");
    case!(nul_del, b"a\x00b\x7f", b"a\\x00b\\x7f");
    case!(backslash, b"back\\slash", b"back\\\\slash");
    case!(c1_csi, "x\u{9b}31m".as_bytes(), b"x\\u{009b}31m");
    case!(c1_nel, "\u{85}".as_bytes(), b"\\u{0085}");
    case!(latin1_kept, "café ©".as_bytes(), "café ©".as_bytes());
    case!(
        rlo,
        "evil\u{202e}fdp.exe".as_bytes(),
        b"evil\\u{202e}fdp.exe"
    );
    case!(
        lrm_rlm,
        "\u{200e}\u{200f}".as_bytes(),
        b"\\u{200e}\\u{200f}"
    );
    case!(
        isolates,
        "\u{2066}\u{2069}".as_bytes(),
        b"\\u{2066}\\u{2069}"
    );
    case!(
        other_e2_kept,
        "a\u{2014}b\u{20ac}".as_bytes(),
        "a\u{2014}b\u{20ac}".as_bytes()
    );
    case!(invalid_utf8_kept, b"bad\xff\xc2", b"bad\xff\xc2");
    case!(truncated_e2_kept, b"x\xe2\x80", b"x\xe2\x80");
    case!(lone_c1_byte_kept, b"x\x9by", b"x\x9by");

    /// The byte-at-a-time definition, to check the 8-bytes-at-a-time skipping against.
    fn reference(bytes: &[u8]) -> Vec<u8> {
        let s = String::from_utf8_lossy(bytes);
        let mut out = Vec::new();
        let mut i = 0;
        for c in s.chars() {
            let len = if c == '\u{fffd}' && !bytes[i..].starts_with("\u{fffd}".as_bytes()) {
                1 // an invalid byte (lossy gives one U+FFFD per invalid sequence; ours are single bytes)
            } else {
                c.len_utf8()
            };
            match c {
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\0'..='\x1f' | '\x7f' => {
                    out.extend_from_slice(format!("\\x{:02x}", c as u32).as_bytes())
                }
                '\u{80}'..='\u{9f}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}' => {
                    out.extend_from_slice(format!("\\u{{{:04x}}}", c as u32).as_bytes())
                }
                _ => out.extend_from_slice(&bytes[i..i + len]),
            }
            i += len;
        }
        out
    }

    #[test]
    fn word_skipping_matches_byte_definition_at_every_offset() {
        let specials: [&[u8]; 9] = [
            b"\n",
            b"\x1b",
            b"\x00",
            b"\x7f",
            b"\\",
            "\u{9b}".as_bytes(),
            "\u{202e}".as_bytes(),
            "\u{2069}".as_bytes(),
            b"\xff",
        ];
        for special in specials {
            for pos in 0..40 {
                for len in pos..pos + 40 {
                    let mut input = vec![b'a'; len];
                    input.splice(pos..pos, special.iter().copied());
                    assert_eq!(
                        esc(&input),
                        reference(&input),
                        "{special:?} at {pos} in {len}"
                    );
                }
            }
        }
    }
}
