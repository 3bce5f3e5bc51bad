//! End-of-run accounting: what was not clean, said once and plainly on stderr.
//!
//! Nothing is printed when the input was clean, so `trace-merge t | ...` stays quiet. When
//! the tracer reported lost events, the report says the output is incomplete: a missing open
//! would otherwise go unnoticed.

use crate::pair::PairStats;
use std::io::{self, Write};

/// Everything counted during one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Lines read, all inputs.
    pub lines: u64,
    /// Lines that did not parse (skipped).
    pub malformed: u64,
    /// How many of them were shown individually.
    pub malformed_shown: u64,
    /// Inputs that could not be opened or read to the end.
    pub unreadable_inputs: u64,
    /// Pairing counts.
    pub pairs: PairStats,
    /// Events the tracer reported lost (`# lost: N`).
    pub lost: u64,
    /// Opens `--write` left out because the trace has no flags for them.
    pub write_unclassified: u64,
}

impl Stats {
    /// True when there is nothing to report.
    pub fn is_clean(&self) -> bool {
        self.malformed == 0
            && self.pairs.returns_without_entry == 0
            && self.pairs.unfinished == 0
            && self.pairs.evicted == 0
            && self.lost == 0
            && self.write_unclassified == 0
    }
}

/// Writes the report (nothing when clean). `max_pending` is quoted in the eviction line.
pub fn write_report(w: &mut dyn Write, s: &Stats, max_pending: usize) -> io::Result<()> {
    if s.is_clean() {
        return Ok(());
    }
    let p = &s.pairs;
    writeln!(
        w,
        "trace-merge: summary: {} opens paired from {} lines",
        p.paired, s.lines
    )?;
    if s.malformed > 0 {
        let shown = if s.malformed > s.malformed_shown {
            format!(" (first {} shown above)", s.malformed_shown)
        } else {
            String::new()
        };
        writeln!(
            w,
            "trace-merge:   {} malformed lines skipped{shown}",
            s.malformed
        )?;
    }
    if p.returns_without_entry > 0 {
        writeln!(
            w,
            "trace-merge:   {} returns without an entry (not printed; the trace may have started mid-call)",
            p.returns_without_entry
        )?;
    }
    if p.unfinished > 0 {
        writeln!(
            w,
            "trace-merge:   {} opens never completed (--unfinished prints them)",
            p.unfinished
        )?;
    }
    if p.evicted > 0 {
        writeln!(
            w,
            "trace-merge:   {} pending opens evicted: more than --max-pending={max_pending} in flight",
            p.evicted
        )?;
    }
    if s.write_unclassified > 0 {
        writeln!(
            w,
            "trace-merge:   --write: {} opens left out because the trace has no flags for them (whether they could write is unknown)",
            s.write_unclassified
        )?;
    }
    if s.lost > 0 {
        writeln!(
            w,
            "trace-merge: WARNING: the tracer reported {} lost events (`# lost:` lines): this output is INCOMPLETE",
            s.lost
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_is_silent_and_lost_is_loud() {
        let mut out = Vec::new();
        write_report(&mut out, &Stats::default(), 10).unwrap();
        assert!(out.is_empty());
        let s = Stats {
            lines: 9,
            lost: 12,
            ..Stats::default()
        };
        write_report(&mut out, &s, 10).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("12 lost events"), "{text}");
        assert!(text.contains("INCOMPLETE"), "{text}");
    }
}
