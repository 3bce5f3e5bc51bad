//! Making paths and process names safe to print on a terminal.
//!
//! A traced path is chosen by whoever created the file, so it may hold bytes that a terminal
//! would act on (ESC sequences that recolour or retitle the window, a carriage return that
//! overwrites the line, bidi controls that reorder it, a lone 0x9b byte that a terminal in
//! 8-bit mode reads as the C1 CSI and so starts an escape sequence without any ESC). Text
//! output shows those as visible escapes instead. The form, documented in `--help`:
//!
//! | input                                      | shown as                    |
//! |--------------------------------------------|-----------------------------|
//! | newline, tab, carriage return              | `\n`, `\t`, `\r`            |
//! | other C0 control bytes (0x00-0x1f), DEL    | `\xHH` (`\x1b` for ESC)     |
//! | backslash                                  | `\\`                        |
//! | C1 controls U+0080-U+009F (UTF-8 encoded)  | `\u{0085}`                  |
//! | bidi controls U+200E, U+200F, U+202A-U+202E, U+2066-U+2069 | `\u{202e}`  |
//! | each byte that is not part of valid UTF-8 (a lone 0x9b, a cut or overlong sequence, an encoded surrogate) | `\xHH` (`\x9b`) |
//!
//! Every backslash in the output therefore starts an escape, so the form is unambiguous, and
//! the output is always valid UTF-8. All other text, including non-ASCII characters (accents,
//! CJK, emoji), passes through unchanged.
//!
//! The usual path is ASCII without controls: it is checked 16 bytes at a time and copied in
//! one piece. Any byte of 0x80 or more sends the text to the slow path, which validates it
//! with `std::str::from_utf8` (one call per valid run, see [`escape_slow`]).

/// Bytes of valid UTF-8 text that may start something to escape; everything else is copied
/// as is (used by [`escape_valid`], on text already known to be valid UTF-8).
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

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in the bytes of `v` that are zero (exact as a yes/no answer: the classic
/// "has a zero byte" bit trick).
#[inline(always)]
fn zero_bytes(v: u64) -> u64 {
    v.wrapping_sub(LO) & !v & HI
}

/// True when one of the 8 bytes of `x` may need escaping in valid UTF-8 text (below 0x20,
/// DEL, `\\`, or a lead byte 0xc2/0xe2). Exact as a yes/no answer.
#[inline]
fn chunk_may_need_escape(x: u64) -> bool {
    let below_space = x.wrapping_sub(LO * 0x20) & !x & HI;
    (below_space
        | zero_bytes(x ^ (LO * 0x5c))
        | zero_bytes(x ^ (LO * 0x7f))
        | zero_bytes(x ^ (LO * 0xc2))
        | zero_bytes(x ^ (LO * 0xe2)))
        != 0
}

/// True when one of the 8 bytes of `x` is not plain printable ASCII other than `\\`: below
/// 0x20, DEL, `\\`, or 0x80 and above (which may be invalid UTF-8). Exact as a yes/no answer.
#[inline]
fn chunk_not_plain(x: u64) -> bool {
    let below_space = x.wrapping_sub(LO * 0x20) & !x & HI;
    (below_space | zero_bytes(x ^ (LO * 0x5c)) | zero_bytes(x ^ (LO * 0x7f)) | (x & HI)) != 0
}

/// One byte of [`chunk_not_plain`].
#[inline(always)]
fn byte_not_plain(b: u8) -> bool {
    b < 0x20 || b == 0x7f || b == b'\\' || b >= 0x80
}

/// Appends `bytes` to `out`, escaping control characters, backslashes and bytes that are not
/// valid UTF-8 (see module docs).
#[inline]
pub fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
    // Paths almost never need escaping: check the whole text 16 bytes at a time, then copy it
    // in one piece.
    if is_plain(bytes) {
        out.extend_from_slice(bytes);
    } else {
        escape_slow(out, bytes);
    }
}

/// True when every byte of `bytes` is printable ASCII other than `\\` (so the text is valid
/// UTF-8 with nothing to escape).
#[inline]
fn is_plain(bytes: &[u8]) -> bool {
    let n = bytes.len();
    #[cfg(target_arch = "x86_64")]
    if n >= 16 {
        return sse2::is_plain(bytes);
    }
    if n < 8 {
        return !bytes.iter().any(|&b| byte_not_plain(b));
    }
    let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
    let mut i = 0;
    while i + 8 < n {
        if chunk_not_plain(word(i)) {
            return false;
        }
        i += 8;
    }
    // The last (possibly overlapping) word.
    !chunk_not_plain(word(n - 8))
}

/// [`is_plain`] 16 bytes at a time with SSE2 (part of every x86_64): about half the work of
/// the word-at-a-time check on a usual path.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    /// [`super::is_plain`] for 16 bytes or more: 16 at a time, the last 16 overlapping.
    #[inline]
    pub(super) fn is_plain(bytes: &[u8]) -> bool {
        let n = bytes.len();
        let mut i = 0;
        while i + 16 < n {
            if not_plain(&bytes[i..i + 16]) {
                return false;
            }
            i += 16;
        }
        !not_plain(&bytes[n - 16..])
    }

    /// True when one of the 16 bytes is below 0x20, DEL, `\\`, or 0x80 and above.
    #[inline(always)]
    fn not_plain(chunk: &[u8]) -> bool {
        assert_eq!(chunk.len(), 16);
        // SAFETY: SSE2 is part of every x86_64; one unaligned 16-byte load inside `chunk`.
        unsafe {
            let x = _mm_loadu_si128(chunk.as_ptr().cast());
            let is = |b: u8| _mm_cmpeq_epi8(x, _mm_set1_epi8(b as i8));
            // b < 0x20 exactly when min(b, 0x1f) == b (unsigned).
            let control = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);
            // The byte mask takes the high bit of each byte: bytes of 0x80 and more count
            // as they are.
            let m = _mm_or_si128(_mm_or_si128(control, is(b'\\')), _mm_or_si128(is(0x7f), x));
            _mm_movemask_epi8(m) != 0
        }
    }
}

/// [`escape_into`] for text that holds something to escape or a byte of 0x80 or more: each
/// valid UTF-8 run goes through [`escape_valid`], each byte of an invalid sequence is shown
/// as `\xHH`.
#[cold]
fn escape_slow(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => return escape_valid(out, valid.as_bytes()),
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                escape_valid(out, valid);
                // The invalid sequence (or, at the end, the cut one), byte by byte.
                let bad = e.error_len().unwrap_or(after.len());
                for &b in &after[..bad] {
                    push_hex_escape(out, b);
                }
                rest = &after[bad..];
            }
        }
    }
}

/// `\xhh`, two lowercase hex digits.
#[inline]
fn push_hex_escape(out: &mut Vec<u8>, b: u8) {
    out.extend_from_slice(&[b'\\', b'x', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
}

/// Escapes `bytes`, which is valid UTF-8: controls, backslashes, C1 and bidi controls.
fn escape_valid(out: &mut Vec<u8>, bytes: &[u8]) {
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
                _ => push_hex_escape(out, b),
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
    case!(invalid_bytes_hex, b"bad\xff\xc2", b"bad\\xff\\xc2");
    case!(lone_c1_csi_byte, b"/tmp/x\x9b31mred", b"/tmp/x\\x9b31mred");
    case!(
        lone_csi_in_long_ascii,
        b"/usr/share/locale/\x9b2J/LC_MESSAGES/libc.mo",
        b"/usr/share/locale/\\x9b2J/LC_MESSAGES/libc.mo"
    );
    case!(truncated_at_end, b"x\xe2\x80", b"x\\xe2\\x80");
    case!(
        truncated_emoji_at_end,
        b"/tmp/\xf0\x9f\x98",
        b"/tmp/\\xf0\\x9f\\x98"
    );
    case!(overlong_slash, b"a\xc0\xafb", b"a\\xc0\\xafb");
    case!(encoded_surrogate, b"a\xed\xa0\x80b", b"a\\xed\\xa0\\x80b");
    case!(lone_continuation, b"\x80", b"\\x80");
    case!(
        valid_multibyte_kept,
        "/home/zo\u{e9}/\u{65e5}\u{672c}\u{8a9e}/\u{1f600}.txt".as_bytes(),
        "/home/zo\u{e9}/\u{65e5}\u{672c}\u{8a9e}/\u{1f600}.txt".as_bytes()
    );
    case!(
        valid_then_invalid_then_valid,
        "\u{e9}\u{9b}"
            .as_bytes()
            .iter()
            .chain(b"\x9b\xe2\x80\xae")
            .copied()
            .collect::<Vec<u8>>()
            .as_slice(),
        b"\xc3\xa9\\u{009b}\\x9b\\u{202e}"
    );

    /// The character-at-a-time definition, to check the fast paths and the 8-bytes-at-a-time
    /// skipping against: `utf8_chunks` splits valid text from invalid bytes.
    fn reference(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in bytes.utf8_chunks() {
            for c in chunk.valid().chars() {
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
                    _ => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                }
            }
            for b in chunk.invalid() {
                out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
            }
        }
        out
    }

    #[test]
    fn word_skipping_matches_byte_definition_at_every_offset() {
        let specials: [&[u8]; 17] = [
            b"\n",
            b"\x1b",
            b"\x00",
            b"\x7f",
            b"\\",
            "\u{9b}".as_bytes(),
            "\u{202e}".as_bytes(),
            "\u{2069}".as_bytes(),
            b"\xff",
            b"\x9b",
            b"\xe2\x80",
            b"\xc0\xaf",
            b"\xed\xa0\x80",
            b"\xf4\x90\x80\x80",
            "\u{e9}".as_bytes(),
            "\u{65e5}".as_bytes(),
            "\u{1f600}".as_bytes(),
        ];
        for special in specials {
            for pos in 0..40 {
                for len in pos..pos + 40 {
                    let mut input = vec![b'a'; len];
                    input.splice(pos..pos, special.iter().copied());
                    let got = esc(&input);
                    assert_eq!(got, reference(&input), "{special:?} at {pos} in {len}");
                    assert!(std::str::from_utf8(&got).is_ok(), "{got:?} is not UTF-8");
                }
            }
        }
    }
}
