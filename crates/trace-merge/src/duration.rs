//! Durations: as people type them (`--min-duration 1.5ms`) and as every output prints them
//! (`10.17 us`).
//!
//! Parsing is exact: the number is read as decimal digits, never through a float, so
//! `1.5ms` is 1,500,000 ns and not 1,499,999. A value that is not a whole number of
//! nanoseconds (`1.5ns`) is refused rather than rounded.
//!
//! Printing is the seed's `human_time`, reproduced to the byte so that the default output
//! matches the Python baseline: the seed computes `float(ns)`, divides by `1000.0` while the
//! value is at least 1000 (at most three times), and prints `"%.2f %s"`. Python's `%.2f`
//! rounds the exact binary value of the double, ties to even; Rust's `{:.2}` does the same, so
//! the same divisions on the same `f64` give the same text. A fast path avoids the formatter
//! when the rounding is clear-cut, and is checked against `{:.2}` in the tests.

use crate::number::{push_cents, push_u64};
use std::io::Write as _;

/// Why a duration did not parse. The messages complete "invalid duration `X`: ...".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing was given.
    #[error("empty")]
    Empty,
    /// No digits before the unit, or garbage in the number.
    #[error("expected a number followed by a unit (ns, us, ms, s), as in 250ns, 10us, 1.5ms, 2s")]
    BadNumber,
    /// The number has no unit, or an unknown one.
    #[error("unknown or missing unit (use ns, us, ms or s)")]
    BadUnit,
    /// Finer than a nanosecond (`1.5ns`, `0.0000000001s`).
    #[error("not a whole number of nanoseconds")]
    Fractional,
    /// More than u64 nanoseconds (about 584 years).
    #[error("too large")]
    Overflow,
}

/// Parses `250ns`, `10us` (or `10µs`), `1.5ms`, `2s` into nanoseconds, exactly.
pub fn parse_duration(text: &str) -> Result<u64, DurationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or(DurationError::BadUnit)?;
    let (number, unit) = text.split_at(split);
    let scale: u64 = match unit.trim_start() {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        _ => return Err(DurationError::BadUnit),
    };
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(DurationError::BadNumber);
    }
    let mut ns: u64 = 0;
    for b in int_part.bytes() {
        ns = ns
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or(DurationError::Overflow)?;
    }
    ns = ns.checked_mul(scale).ok_or(DurationError::Overflow)?;
    // The fraction: each digit is worth scale / 10^k; it must divide exactly.
    let mut place = scale;
    for b in frac_part.bytes() {
        let digit = u64::from(b - b'0');
        if place % 10 != 0 {
            if digit != 0 {
                return Err(DurationError::Fractional);
            }
            continue;
        }
        place /= 10;
        ns = ns
            .checked_add(digit * place)
            .ok_or(DurationError::Overflow)?;
    }
    Ok(ns)
}

/// Appends the seed's human-readable form of `ns` (e.g. `10.17 us`) to `out`.
#[inline(always)]
pub fn push_human_time(out: &mut Vec<u8>, ns: u64) {
    // Integer fast path. Below 1000 ns the double is the integer itself. Above, the seed's
    // double x is ns / 10^(3u) to within a few ulps, so x * 100 is ns / 10^(3u-2) to within
    // far less than the distance to a rounding tie unless the dropped digits are exactly
    // 5000...: only those ties need the exact float rounding (and so do durations of 1000 s
    // and more, where the error grows).
    // Each unit divides by its own constant: the compiler turns that into a multiplication,
    // where one division by a variable (a `div` instruction, tens of cycles) cost more than
    // the rest of the line's digits.
    #[inline(always)]
    fn cents<const DIV: u64>(ns: u64) -> Option<u64> {
        let (q, rem) = (ns / DIV, ns % DIV);
        (rem != DIV / 2).then_some(q + u64::from(rem > DIV / 2))
    }
    let (r, unit): (Option<u64>, &[u8]) = match ns {
        0..=999 => {
            push_u64(out, ns);
            out.extend_from_slice(b".00 ns");
            return;
        }
        1_000..=999_999 => (
            Some(cents::<10>(ns).unwrap_or_else(|| microsecond_tie(ns))),
            b" us",
        ),
        1_000_000..=999_999_999 => (cents::<10_000>(ns), b" ms"),
        1_000_000_000..=999_999_999_999 => (cents::<10_000_000>(ns), b" s"),
        _ => (None, b""),
    };
    match r {
        Some(r) => {
            push_cents(out, r);
            out.extend_from_slice(unit);
        }
        None => push_human_time_float(out, ns),
    }
}

/// The cents of a microsecond for `ns` from 1000 to 999,999 ending in 5 (a decimal tie, one
/// duration in ten), as the seed rounds it, without the float formatter: its double
/// x = ns / 1000.0 is above, below or exactly at ns / 1000, and `%.2f` rounds that binary
/// value (an exact tie to even). Compared exactly in integers: x = m * 2^e, so x * 1000
/// against ns is m * 1000 against ns * 2^-e.
#[inline(never)]
fn microsecond_tie(ns: u64) -> u64 {
    debug_assert!((1_000..1_000_000).contains(&ns) && ns % 10 == 5);
    let x = ns as f64 / 1000.0;
    let bits = x.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i32 - 1075; // from -52 (x near 1) to -43 (x near 1000)
    let m = (bits & ((1 << 52) - 1)) | (1 << 52);
    let scaled = u128::from(m) * 1000;
    let exact = u128::from(ns) << (-e) as u32;
    let q = ns / 10;
    match scaled.cmp(&exact) {
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Equal => q + (q & 1),
    }
}

/// [`push_human_time`] as a string, for the summary's aligned tables.
pub fn human_time(ns: u64) -> String {
    let mut out = Vec::with_capacity(16);
    push_human_time(&mut out, ns);
    String::from_utf8(out).expect("digits and a unit")
}

/// The seed's algorithm itself, in floating point.
#[inline(never)]
fn push_human_time_float(out: &mut Vec<u8>, ns: u64) {
    let mut x = ns as f64;
    let mut unit: &[u8] = b"s";
    for u in [&b"ns"[..], b"us", b"ms"] {
        if x.abs() < 1000.0 {
            unit = u;
            break;
        }
        x /= 1000.0;
    }
    push_fixed2(out, x);
    out.push(b' ');
    out.extend_from_slice(unit);
}

/// Appends `x` (finite, non-negative) with exactly two decimals, rounded as `{:.2}` does.
fn push_fixed2(out: &mut Vec<u8>, x: f64) {
    // x * 100 is off the exact product by at most half an ulp: below 1e9 that is < 1e-7, so
    // unless the fraction is within 1e-6 of one half, rounding the computed product gives the
    // same digits as rounding the exact value. Near a half (every duration whose last
    // decimal digit is 5), the sign of 200x - (2k+1), computed with one rounding by a fused
    // multiply-add, says exactly on which side of the tie x lies.
    if (0.0..1e7).contains(&x) {
        let y = x * 100.0;
        let k = y.floor();
        let frac = y - k;
        let round_up = if (frac - 0.5).abs() > 1e-6 {
            frac > 0.5
        } else {
            let d = x.mul_add(200.0, -(2.0 * k + 1.0));
            d > 0.0 || (d == 0.0 && (k as u64) % 2 == 1)
        };
        let r = k as u64 + u64::from(round_up);
        push_cents(out, r);
        return;
    }
    let _ = write!(out, "{x:.2}");
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! ok {
        ($text:expr, $ns:expr) => {
            assert_eq!(parse_duration($text), Ok($ns), "{}", $text);
        };
    }
    macro_rules! err {
        ($text:expr, $err:expr) => {
            assert_eq!(parse_duration($text), Err($err), "{}", $text);
        };
    }

    #[test]
    fn parses_each_unit_exactly() {
        ok!("250ns", 250);
        ok!("10us", 10_000);
        ok!("10µs", 10_000);
        ok!("1.5ms", 1_500_000);
        ok!("2s", 2_000_000_000);
        ok!("0.000000001s", 1);
        ok!("1.000001ms", 1_000_001);
        ok!(".5us", 500);
        ok!("3.ms", 3_000_000);
        ok!("0ns", 0);
        ok!(" 7 us ", 7_000);
        ok!("1.00000ns", 1); // zeros below a ns are fine
    }

    #[test]
    fn ms_fraction_is_not_a_float_artifact() {
        // 0.1 + 0.2 style: a float parse of 4.35ms would give 4349999.999...
        ok!("4.35ms", 4_350_000);
        ok!("18446744073.709551615s", u64::MAX);
    }

    #[test]
    fn refuses_what_it_cannot_represent() {
        err!("", DurationError::Empty);
        err!("10", DurationError::BadUnit);
        err!("10m", DurationError::BadUnit);
        err!("10 sec", DurationError::BadUnit);
        err!("ms", DurationError::BadNumber);
        err!(".ms", DurationError::BadNumber);
        err!("1.2.3ms", DurationError::BadNumber);
        err!("-1ms", DurationError::BadUnit);
        err!("1.5ns", DurationError::Fractional);
        err!("0.0000000001s", DurationError::Fractional);
        err!("18446744073.709551616s", DurationError::Overflow);
        err!("99999999999999999999ns", DurationError::Overflow);
    }

    fn human(ns: u64) -> String {
        let mut v = Vec::new();
        push_human_time(&mut v, ns);
        String::from_utf8(v).unwrap()
    }

    /// The reference: the seed's algorithm with the standard formatter.
    fn reference(ns: u64) -> String {
        let mut x = ns as f64;
        for u in ["ns", "us", "ms"] {
            if x.abs() < 1000.0 {
                return format!("{x:.2} {u}");
            }
            x /= 1000.0;
        }
        format!("{x:.2} s")
    }

    #[test]
    fn units_and_boundaries() {
        assert_eq!(human(0), "0.00 ns");
        assert_eq!(human(999), "999.00 ns");
        assert_eq!(human(1000), "1.00 us");
        assert_eq!(human(10170), "10.17 us");
        assert_eq!(human(999_995), "1000.00 us"); // the seed tests the unit before rounding
        assert_eq!(human(1_500_000), "1.50 ms");
        assert_eq!(human(2_000_000_000), "2.00 s");
        assert_eq!(human(7_200_000_000_000), "7200.00 s");
    }

    #[test]
    fn ties_round_like_python() {
        // Exactly representable halves round to even, as Python's "%.2f" does.
        assert_eq!(human(1125), "1.12 us");
        assert_eq!(human(1375), "1.38 us");
        assert_eq!(human(10125), "10.12 us");
        // Not representable: the double is just below or above the decimal tie.
        assert_eq!(human(2675), "2.67 us");
        assert_eq!(human(1005), "1.00 us");
    }

    #[test]
    fn fast_path_matches_formatter() {
        // Every value up to 3 ms, then a deterministic spread up to hours.
        for ns in 0..3_000_000u64 {
            assert_eq!(human(ns), reference(ns), "ns = {ns}");
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..1_000_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let ns = x % (1u64 << (x % 50));
            assert_eq!(human(ns), reference(ns), "ns = {ns}");
        }
        assert_eq!(human(u64::MAX), reference(u64::MAX));
        // Around every unit boundary and near the rounding ties of the integer fast path.
        for base in [1_000u64, 1_000_000, 1_000_000_000, 1_000_000_000_000] {
            for k in 1..1000u64 {
                for ns in [base * k - 1, base * k, base * k + 1] {
                    assert_eq!(human(ns), reference(ns), "ns = {ns}");
                }
                for half in [5u64, 5_000, 5_000_000] {
                    let tie = base * k + half;
                    for ns in [tie - 1, tie, tie + 1] {
                        assert_eq!(human(ns), reference(ns), "ns = {ns}");
                    }
                }
            }
        }
    }
}
