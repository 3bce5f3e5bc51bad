//! Where completed opens go. Every output format is one [`Sink`]: it receives each
//! [`OpenEvent`] (paired or unfinished) with the trace's metadata, and is told when to flush
//! and when the input has ended.
//!
//! The seed's text format is [`text::TextSink`]; columns, JSON, CSV and summaries (issue 4)
//! are further implementations of the same trait, so the pipeline does not change when a
//! format is added.

pub mod text;

use crate::event::OpenEvent;
use crate::info::TraceInfo;
use crate::report::Stats;
use std::io;

/// An output format.
pub trait Sink {
    /// One open: paired, or [`crate::event::Outcome::Unfinished`] (a sink that does not show
    /// unfinished opens just skips those).
    fn event(&mut self, ev: &OpenEvent<'_>, info: &TraceInfo) -> io::Result<()>;

    /// Hands buffered output to the OS. Called before a read that may block on a pipe, after
    /// each event when stdout is a terminal, and at the end.
    fn flush(&mut self) -> io::Result<()>;

    /// The input has ended (footers, summaries); then flushes.
    fn finish(&mut self, info: &TraceInfo, stats: &Stats) -> io::Result<()> {
        let _ = (info, stats);
        self.flush()
    }
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn event(&mut self, ev: &OpenEvent<'_>, info: &TraceInfo) -> io::Result<()> {
        (**self).event(ev, info)
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
    fn finish(&mut self, info: &TraceInfo, stats: &Stats) -> io::Result<()> {
        (**self).finish(info, stats)
    }
}
