//! The seed's `human_time`: a duration in ns, us, ms or s with two decimals, reproduced to the
//! byte so that default output matches the Python baseline.
//!
//! The seed computes `float(ns)`, divides by `1000.0` while the value is at least 1000 (at
//! most three times), and prints `"%.2f %s"`. Python's `%.2f` rounds the exact binary value
//! of the double, ties to even; Rust's `{:.2}` does the same, so the same divisions on the same
//! `f64` give the same text. A fast path avoids the formatter when the rounding is clear-cut,
//! and is checked against `{:.2}` in the tests.

use std::io::Write as _;

/// Appends the seed's human-readable form of `ns` (e.g. `10.17 us`) to `out`.
#[inline]
pub fn push_human_time(out: &mut Vec<u8>, ns: u64) {
    // Integer fast path. Below 1000 ns the double is the integer itself. Above, the seed's
    // double x is ns / 10^(3u) to within a few ulps, so x * 100 is ns / 10^(3u-2) to within
    // far less than the distance to a rounding tie unless the dropped digits are exactly
    // 5000...: only those ties need the exact float rounding (and so do durations of 1000 s
    // and more, where the error grows).
    let (div, unit): (u64, &[u8]) = match ns {
        0..=999 => {
            push_u64(out, ns);
            out.extend_from_slice(b".00 ns");
            return;
        }
        1_000..=999_999 => (10, b" us"),
        1_000_000..=999_999_999 => (10_000, b" ms"),
        1_000_000_000..=999_999_999_999 => (10_000_000, b" s"),
        _ => return push_human_time_float(out, ns),
    };
    let (q, rem) = (ns / div, ns % div);
    if rem == div / 2 {
        return push_human_time_float(out, ns);
    }
    let r = q + u64::from(rem > div / 2);
    push_cents(out, r);
    out.extend_from_slice(unit);
}

/// `r / 100` with two decimals.
#[inline]
fn push_cents(out: &mut Vec<u8>, r: u64) {
    push_u64(out, r / 100);
    let c = (r % 100) as usize * 2;
    out.extend_from_slice(&[b'.', DIGIT_PAIRS[c], DIGIT_PAIRS[c + 1]]);
}

/// The seed's algorithm itself, in floating point.
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
pub fn push_fixed2(out: &mut Vec<u8>, x: f64) {
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

/// "00" to "99": two digits per division.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// 10^0 to 10^19.
const POW10: [u64; 20] = {
    let mut p = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// Appends the decimal digits of `n`.
#[inline]
pub fn push_u64(out: &mut Vec<u8>, n: u64) {
    if n < 10 {
        out.push(b'0' + n as u8);
        return;
    }
    if n < 100_000_000 {
        // Digits from the bit length (log10(2) ~ 1233 / 4096), corrected by one comparison.
        let t = (((64 - n.leading_zeros()) * 1233) >> 12) as usize;
        let len = t + 1 - usize::from(n < POW10[t]);
        // All 8 digits at once, leading zeros shifted out, appended as one word.
        let start = out.len();
        let word = eight_digits_ascii(n as u32) >> (8 * (8 - len));
        out.extend_from_slice(&word.to_le_bytes());
        out.truncate(start + len);
        return;
    }
    push_large(out, n);
}

/// [`push_u64`] for 10^8 and more (nanosecond timestamps): the digits above the last eight,
/// then those eight with their leading zeros, one word each.
fn push_large(out: &mut Vec<u8>, n: u64) {
    push_u64(out, n / 100_000_000);
    out.extend_from_slice(&eight_digits_ascii((n % 100_000_000) as u32).to_le_bytes());
}

/// `n` (below 10^8) as 8 ASCII digits with leading zeros, the first digit in the low byte:
/// split into halves of 4 digits, then 2, then 1, each split done in every lane at once
/// (the products stay inside their lanes for these ranges).
#[inline]
fn eight_digits_ascii(n: u32) -> u64 {
    let v = u64::from(n / 10_000) | (u64::from(n % 10_000) << 32);
    let hundreds = ((v * 5243) >> 19) & 0x0000_007f_0000_007f; // x / 100 for x < 43699
    let v = hundreds | ((v - hundreds * 100) << 16);
    let tens = ((v * 103) >> 10) & 0x000f_000f_000f_000f; // x / 10 for x < 179
    let v = tens | ((v - tens * 10) << 8);
    v + 0x3030_3030_3030_3030
}

/// Appends `n` in decimal with a `-` when negative.
pub fn push_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_u64(out, n.unsigned_abs());
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn integers() {
        let mut v = Vec::new();
        push_i64(&mut v, -2);
        v.push(b' ');
        push_i64(&mut v, i64::MIN);
        v.push(b' ');
        push_u64(&mut v, u64::MAX);
        assert_eq!(v, b"-2 -9223372036854775808 18446744073709551615");
        for n in (0..1_000_000u64).chain((0..100_000_000).step_by(997)) {
            v.clear();
            push_u64(&mut v, n);
            assert_eq!(v, n.to_string().as_bytes());
        }
        let mut p = 1u64;
        for _ in 0..20 {
            for n in [p - 1, p, p + 1, p.wrapping_mul(7) / 3] {
                v.clear();
                push_u64(&mut v, n);
                assert_eq!(v, n.to_string().as_bytes());
            }
            p = p.wrapping_mul(10);
        }
    }
}
