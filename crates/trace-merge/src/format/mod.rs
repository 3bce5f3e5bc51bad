//! Output formats for paired opens, behind one small trait.
//!
//! Every writer turns one [`OpenEvent`] into bytes appended to the caller's output; the caller
//! (the pipeline) owns the buffered writer and decides when to flush, so live output stays
//! live whatever the format. A writer keeps a scratch buffer and hands each record to the
//! output in one `write_all`.
//!
//! - [`crate::columns::ColumnWriter`]: `-o LIST` / `-T`, an aligned table on a terminal,
//!   tab-separated otherwise.
//! - [`json::JsonWriter`]: `--format json`, JSON Lines.
//! - [`csv::CsvWriter`]: `--format csv`, RFC 4180.
//!
//! The seed-compatible default text belongs to the core pipeline.
//!
//! What a writer needs besides the event is in [`Context`]: user names (from the system, a
//! `--passwd` file, or none with `-n`) and the wall-clock offset of the event's trace.

pub mod csv;
pub mod json;

use std::collections::HashMap;
use std::io;

use crate::event::OpenEvent;

/// uid -> user name. Implemented by the core's cached user database; tests use a map.
pub trait UserNames {
    /// The name of `uid`, when known (bytes, as in a passwd file). `None` means "print the
    /// number".
    fn user_name(&mut self, uid: u32) -> Option<&[u8]>;
}

/// No names at all (`-n/--numeric`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Numeric;

impl UserNames for Numeric {
    fn user_name(&mut self, _uid: u32) -> Option<&[u8]> {
        None
    }
}

impl UserNames for HashMap<u32, String> {
    fn user_name(&mut self, uid: u32) -> Option<&[u8]> {
        self.get(&uid).map(String::as_bytes)
    }
}

impl<T: UserNames + ?Sized> UserNames for &mut T {
    fn user_name(&mut self, uid: u32) -> Option<&[u8]> {
        (**self).user_name(uid)
    }
}

/// What the stages need to know about an event beyond the event itself.
pub struct Context<'a> {
    /// Names for uids.
    pub users: &'a mut dyn UserNames,
    /// Add to the event's timestamps to get Unix time in ns, when the trace says how
    /// (see [`wall_clock_offset`]). `None`: wall-clock time is unknown.
    pub wall_offset_ns: Option<i64>,
}

/// The offset from a trace's timestamps to Unix time, from what its headers say:
/// `# clock-offset-ns: N` gives it; `# clock: realtime` means 0; with no `# clock:` header,
/// timestamps past 2001-09-09 (10^18 ns) are taken as realtime, since a monotonic clock that
/// high would mean 31 years of uptime (the seed's SystemTap probe printed
/// `gettimeofday_ns()` with no header). Otherwise unknown.
pub fn wall_clock_offset(
    clock: Option<trace_format::Clock>,
    clock_offset_ns: Option<i64>,
    sample_ts: u64,
) -> Option<i64> {
    if clock_offset_ns.is_some() {
        return clock_offset_ns;
    }
    match clock {
        Some(trace_format::Clock::Realtime) => Some(0),
        Some(_) => None,
        None if sample_ts >= 1_000_000_000_000_000_000 => Some(0),
        None => None,
    }
}

/// One output format: appends each event to `out`, and whatever closes the output at the end.
pub trait EventWriter {
    /// Writes what comes before the first event (a header row), if anything.
    fn begin(&mut self, out: &mut dyn io::Write) -> io::Result<()>;
    /// Relative times (a `time` column) count from `ns`, the trace's first timestamp, instead
    /// of the first event written. Formats without a time column ignore it.
    fn set_time_base(&mut self, ns: u64) {
        let _ = ns;
    }
    /// Writes one event.
    fn write_event(
        &mut self,
        out: &mut dyn io::Write,
        event: &OpenEvent<'_>,
        ctx: &mut Context<'_>,
    ) -> io::Result<()>;
}

/// The output format chosen with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Human text: the seed's lines, or columns with `-o`/`-T`.
    #[default]
    Text,
    /// JSON Lines.
    Json,
    /// RFC 4180 CSV.
    Csv,
}

/// Appends `bytes` so that they cannot move the terminal or break a tab-separated row: the
/// same escapes as the seed text ([`crate::escape`]): `\\`, `\n` `\t` `\r`, `\xHH` for other
/// control bytes, `\u{hhhh}` for C1 and bidi controls. Other bytes, including non-UTF-8 ones,
/// pass unchanged.
pub fn escape_text(bytes: &[u8], out: &mut Vec<u8>) {
    crate::escape::escape_into(out, bytes);
}

pub(crate) use crate::timefmt::{push_i64, push_u64};

#[cfg(test)]
mod tests {
    use super::*;
    use trace_format::Clock;

    fn escaped(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        escape_text(bytes, &mut out);
        out
    }

    #[test]
    fn escape_keeps_terminals_safe() {
        assert_eq!(escaped(b"/tmp/plain"), b"/tmp/plain");
        assert_eq!(escaped(b"a\nb\tc\rd"), b"a\\nb\\tc\\rd");
        assert_eq!(escaped(b"\x1b[31mred"), b"\\x1b[31mred");
        assert_eq!(escaped(b"\x7f\x00"), b"\\x7f\\x00");
        assert_eq!(escaped(b"back\\slash"), b"back\\\\slash");
        assert_eq!(escaped("evil\u{202e}txt".as_bytes()), b"evil\\u{202e}txt");
        assert_eq!(
            escaped(b"r\xe9sum\xe9 caf\xc3\xa9"),
            b"r\xe9sum\xe9 caf\xc3\xa9"
        );
    }

    #[test]
    fn numbers() {
        for n in [0u64, 7, 10, 12345, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
        for n in [0i64, -1, -4095, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            push_i64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    #[test]
    fn wall_clock_from_headers() {
        assert_eq!(wall_clock_offset(None, Some(-5), 0), Some(-5));
        assert_eq!(
            wall_clock_offset(Some(Clock::Monotonic), Some(7), 0),
            Some(7)
        );
        assert_eq!(wall_clock_offset(Some(Clock::Realtime), None, 5), Some(0));
        assert_eq!(
            wall_clock_offset(Some(Clock::Monotonic), None, 1_795_664_257_567_614_000),
            None
        );
        assert_eq!(
            wall_clock_offset(None, None, 1_795_664_257_567_614_000),
            Some(0)
        );
        assert_eq!(wall_clock_offset(None, None, 123_456_789), None);
    }
}
