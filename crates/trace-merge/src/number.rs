//! Decimal digits without the formatter: integers as trace-merge prints millions of them
//! (pids, fds, timestamps), and fixed two-decimal values for durations.

/// `r / 100` with two decimals.
#[inline]
pub fn push_cents(out: &mut Vec<u8>, r: u64) {
    push_u64(out, r / 100);
    let c = (r % 100) as usize * 2;
    out.extend_from_slice(&[b'.', DIGIT_PAIRS[c], DIGIT_PAIRS[c + 1]]);
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
    if n < 10_000 {
        // fds, errnos, durations' cents: one or two digit pairs from the table.
        push_below_10_000(out, n as u32);
        return;
    }
    if n < 100_000_000 {
        push_below_1e8(out, n as u32);
        return;
    }
    push_large(out, n);
}

/// [`push_u64`] for 10 to 9999: short, and without a chain of multiplications.
#[inline(always)]
fn push_below_10_000(out: &mut Vec<u8>, n: u32) {
    let pair = |v: u32| {
        let i = v as usize * 2;
        [DIGIT_PAIRS[i], DIGIT_PAIRS[i + 1]]
    };
    if n < 100 {
        out.extend_from_slice(&pair(n));
        return;
    }
    let (high, [c, d]) = (n / 100, pair(n % 100));
    if high < 10 {
        out.extend_from_slice(&[b'0' + high as u8, c, d]);
    } else {
        let [a, b] = pair(high);
        out.extend_from_slice(&[a, b, c, d]);
    }
}

/// [`push_u64`] for 10 to 10^8 - 1.
#[inline(always)]
fn push_below_1e8(out: &mut Vec<u8>, n: u32) {
    // Digits from the bit length (log10(2) ~ 1233 / 4096), corrected by one comparison.
    let t = (((32 - n.leading_zeros()) * 1233) >> 12) as usize;
    let len = t + 1 - usize::from(u64::from(n) < POW10[t]);
    // All 8 digits at once, leading zeros shifted out, appended as one word.
    let start = out.len();
    let word = eight_digits_ascii(n) >> (8 * (8 - len));
    out.extend_from_slice(&word.to_le_bytes());
    out.truncate(start + len);
}

/// [`push_u64`] for 10^8 and more (nanosecond timestamps): the digits above the last eight
/// (up to 12: as 4 and 8 when more than 8), then those eight with their leading zeros, one
/// word each, without recursion.
#[inline(never)]
fn push_large(out: &mut Vec<u8>, n: u64) {
    let high = n / 100_000_000;
    if high < 100_000_000 {
        push_small(out, high as u32);
    } else {
        push_small(out, (high / 100_000_000) as u32);
        out.extend_from_slice(&eight_digits_ascii((high % 100_000_000) as u32).to_le_bytes());
    }
    out.extend_from_slice(&eight_digits_ascii((n % 100_000_000) as u32).to_le_bytes());
}

/// 1 to 10^8 - 1.
#[inline(always)]
fn push_small(out: &mut Vec<u8>, n: u32) {
    if n < 10 {
        out.push(b'0' + n as u8);
    } else {
        push_below_1e8(out, n);
    }
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
