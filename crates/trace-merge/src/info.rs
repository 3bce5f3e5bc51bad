//! What the trace says about itself: its `# key: value` headers, kept for the outputs.
//!
//! The text format ignores them, but the time column needs the clock and its offset for
//! wall-clock times ([`TraceInfo::wall_clock_offset`], the one place that conversion is made)
//! and the first timestamp for relative ones, and every output must know whether the tracer
//! lost events (`# lost: N`), because then the trace is incomplete.

use trace_format::{Clock, Header};

/// Metadata gathered from the headers and timestamps seen so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceInfo {
    /// `# trace-format: N`.
    pub version: Option<u32>,
    /// `# backend: ...`, e.g. `bpftrace v0.17.0`.
    pub backend: Option<Vec<u8>>,
    /// `# host: ...`.
    pub host: Option<Vec<u8>>,
    /// `# clock: ...`.
    pub clock: Option<Clock>,
    /// `# clock-offset-ns: N`: add to a timestamp to get Unix time in ns.
    pub clock_offset_ns: Option<i64>,
    /// Timestamp of the first entry or return line read.
    pub first_ts: Option<u64>,
    /// Sum of every `# lost: N`: events the tracer dropped.
    pub lost: u64,
    /// Number of `# lost:` lines.
    pub lost_reports: u64,
}

impl TraceInfo {
    /// Records one header line. Unknown keys are ignored, as the grammar requires.
    pub fn header(&mut self, h: &Header<'_>) {
        match *h {
            Header::Version(v) => self.version = Some(v),
            Header::Backend(b) => self.backend = Some(b.to_vec()),
            Header::Host(h) => self.host = Some(h.to_vec()),
            Header::Clock(c) => self.clock = Some(c),
            Header::ClockOffset(o) => self.clock_offset_ns = Some(o),
            Header::Lost(n) => {
                self.lost = self.lost.saturating_add(n);
                self.lost_reports += 1;
            }
            Header::Other { .. } => {}
        }
    }

    /// Records the timestamp of an event line.
    #[inline]
    pub fn saw_timestamp(&mut self, ts: u64) {
        if self.first_ts.is_none() {
            self.first_ts = Some(ts);
        }
    }

    /// The offset from this trace's timestamps to Unix time in ns, from what its headers say:
    /// `# clock-offset-ns: N` gives it; `# clock: realtime` means 0; with no `# clock:`
    /// header, timestamps past 2001-09-09 (10^18 ns, `sample_ts`) are taken as realtime,
    /// since a monotonic clock that high would mean 31 years of uptime (the seed's SystemTap
    /// probe printed `gettimeofday_ns()` with no header). Otherwise unknown.
    pub fn wall_clock_offset(&self, sample_ts: u64) -> Option<i64> {
        if self.clock_offset_ns.is_some() {
            return self.clock_offset_ns;
        }
        match self.clock {
            Some(Clock::Realtime) => Some(0),
            Some(_) => None,
            None if sample_ts >= 1_000_000_000_000_000_000 => Some(0),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_format::{parse_line, Line};

    #[test]
    fn headers_are_kept() {
        let mut info = TraceInfo::default();
        for l in [
            &b"# trace-format: 1"[..],
            b"# backend: bpftrace v0.17.0",
            b"# host: web-1",
            b"# clock: monotonic",
            b"# clock-offset-ns: 1700000000000000000",
            b"# lost: 3",
            b"# lost: 4",
            b"# x-new: whatever",
        ] {
            let Ok(Line::Header(h)) = parse_line(l) else {
                panic!()
            };
            info.header(&h);
        }
        info.saw_timestamp(50);
        info.saw_timestamp(10);
        assert_eq!(info.version, Some(1));
        assert_eq!(info.host.as_deref(), Some(&b"web-1"[..]));
        assert_eq!(info.clock, Some(Clock::Monotonic));
        assert_eq!((info.lost, info.lost_reports), (7, 2));
        assert_eq!(info.first_ts, Some(50));
        assert_eq!(info.wall_clock_offset(5), Some(1_700_000_000_000_000_000));
    }

    #[test]
    fn wall_clock_from_headers() {
        let info = |clock, clock_offset_ns| TraceInfo {
            clock,
            clock_offset_ns,
            ..TraceInfo::default()
        };
        assert_eq!(info(None, Some(-5)).wall_clock_offset(0), Some(-5));
        let monotonic = Some(Clock::Monotonic);
        assert_eq!(info(monotonic, Some(7)).wall_clock_offset(0), Some(7));
        assert_eq!(
            info(Some(Clock::Realtime), None).wall_clock_offset(5),
            Some(0)
        );
        let seed_ts = 1_795_664_257_567_614_000;
        assert_eq!(info(monotonic, None).wall_clock_offset(seed_ts), None);
        assert_eq!(info(None, None).wall_clock_offset(seed_ts), Some(0));
        assert_eq!(info(None, None).wall_clock_offset(123_456_789), None);
    }
}
