//! Durations as people type them (`--min-duration 1.5ms`) and as the columns print them.
//!
//! Parsing is exact: the number is read as decimal digits, never through a float, so
//! `1.5ms` is 1,500,000 ns and not 1,499,999. A value that is not a whole number of
//! nanoseconds (`1.5ns`) is refused rather than rounded.

use std::fmt;

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

/// A duration printed the seed's way: two decimals in the largest unit of ns, us, ms, s that
/// keeps the number below 1000 (seconds have no limit). `10170` -> `10.17 us`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub u64);

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Same float steps as the seed's human_time, so both print the same digits.
        let mut value = self.0 as f64;
        for unit in ["ns", "us", "ms"] {
            if value.abs() < 1000.0 {
                return write!(f, "{value:.2} {unit}");
            }
            value /= 1000.0;
        }
        write!(f, "{value:.2} s")
    }
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

    #[test]
    fn human_matches_the_seed() {
        assert_eq!(HumanDuration(0).to_string(), "0.00 ns");
        assert_eq!(HumanDuration(999).to_string(), "999.00 ns");
        assert_eq!(HumanDuration(10_170).to_string(), "10.17 us");
        assert_eq!(HumanDuration(1_500_000).to_string(), "1.50 ms");
        assert_eq!(HumanDuration(999_999_999).to_string(), "1000.00 ms");
        assert_eq!(HumanDuration(2_000_000_000_000).to_string(), "2000.00 s");
    }
}
