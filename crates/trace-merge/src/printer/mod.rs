//! The output formats, one file each, behind one trait: [`text`] (the standard
//! `OPEN user pid path => FD n [duration]` line), [`table`] (chosen columns), [`json`],
//! [`csv`], [`chrome`] (Trace Event Format), [`summary`] and [`heatmap`] (an SVG file).
//! [`build`] is the only place a format is chosen.
//!
//! A printer turns each [`OpenEvent`] into bytes on the caller's writer; the caller
//! ([`crate::output::Output`]) owns the buffered writer and decides when to flush, so live
//! output stays live whatever the format. The text and JSON printers, which write a record
//! for every open, gather records in their own buffer and hand it over in one `write_all` of
//! [`GATHER`] bytes or more (a copy and a call per record cost as much as a record's digits);
//! [`Print::drain`] hands over the rest, and the caller calls it before every flush and before
//! [`Print::end`]. [`Printer`] is an enum over the
//! printers, so the per-event call is a `match`, not a virtual call.

mod chrome;
mod csv;
mod heatmap;
mod json;
mod summary;
mod table;
mod text;

use std::io::{self, Write};

use crate::config::{Config, OutputMode};
use crate::event::OpenEvent;
use crate::users::UserDb;

pub use crate::context::Context;
pub use summary::EndCounts;

/// Bytes of records a printer gathers before one `write_all` (see the module comment): as
/// much as the run's `BufWriter` holds (`run::OUT_BUF` is this), so that it passes the bytes
/// to the system without copying them into its own buffer first.
pub const GATHER: usize = 128 * 1024;

/// Hands `buf` to `out` once it holds [`GATHER`] bytes or more.
#[inline(always)]
fn hand_over_full<W: Write>(out: &mut W, buf: &mut Vec<u8>) -> io::Result<()> {
    if buf.len() >= GATHER {
        hand_over(out, buf)?;
    }
    Ok(())
}

/// Hands all of `buf` to `out`.
#[inline(never)]
fn hand_over<W: Write>(out: &mut W, buf: &mut Vec<u8>) -> io::Result<()> {
    if buf.is_empty() {
        return Ok(());
    }
    let result = out.write_all(buf);
    buf.clear();
    result
}

/// One output format.
pub trait Print {
    /// Writes what comes before the first event (a header row), if anything. Relative times
    /// count from `time_base` when given (the trace's first timestamp), else from the first
    /// event written.
    fn begin<W: Write>(&mut self, out: &mut W, time_base: Option<u64>) -> io::Result<()>;

    /// Writes (or, for a summary, counts) one open.
    fn event<W: Write>(
        &mut self,
        out: &mut W,
        event: &OpenEvent<'_>,
        ctx: &mut Context<'_>,
    ) -> io::Result<()>;

    /// Writes the records the printer has gathered and not yet written (see the module
    /// comment). Called before every flush of `out` and before [`Print::end`].
    fn drain<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        let _ = out;
        Ok(())
    }

    /// The input has ended: writes what comes after the events (a summary), if anything.
    fn end<W: Write>(
        &mut self,
        out: &mut W,
        users: &mut UserDb,
        counts: &EndCounts,
    ) -> io::Result<()> {
        let _ = (out, users, counts);
        Ok(())
    }
}

/// Every printer.
pub enum Printer {
    /// `OPEN root 3584 /tmp/not_exists => ERROR -2 [10.17 us]` (the default).
    Text(text::TextPrinter),
    /// `-o LIST` / `-T`: aligned columns on a terminal, tab-separated otherwise.
    Table(table::TablePrinter),
    /// `--format json`: JSON Lines.
    Json(json::JsonPrinter),
    /// `--format csv`: RFC 4180.
    Csv(csv::CsvPrinter),
    /// `--format chrome`: the Trace Event Format, for Perfetto and chrome://tracing.
    Chrome(chrome::ChromePrinter),
    /// `--summary`, `--summary-by KEY`: tables printed at the end instead of the opens.
    Summary(Box<summary::SummaryPrinter>),
    /// `--heatmap FILE`: a latency heat map written to FILE at the end.
    Heatmap(Box<heatmap::HeatmapPrinter>),
}

/// The printer `cfg` asks for. `cfg.stdout_terminal` picks the aligned table over TSV and
/// escapes CSV fields.
pub fn build(cfg: &Config) -> Printer {
    match &cfg.output {
        OutputMode::Text => Printer::Text(text::TextPrinter::new(cfg.full_path)),
        OutputMode::Table(columns) => Printer::Table(table::TablePrinter::new(
            columns.clone(),
            cfg.stdout_terminal,
            cfg.header,
            cfg.time,
        )),
        OutputMode::Json => Printer::Json(json::JsonPrinter::new()),
        OutputMode::Csv(columns) => Printer::Csv(csv::CsvPrinter::new(
            columns.clone(),
            cfg.header,
            cfg.time,
            cfg.stdout_terminal,
            !cfg.csv_raw,
        )),
        OutputMode::Chrome => Printer::Chrome(chrome::ChromePrinter::new()),
        OutputMode::Summary(by) => {
            Printer::Summary(Box::new(summary::SummaryPrinter::new(*by, cfg.top)))
        }
        OutputMode::Heatmap(file) => {
            let command: Vec<String> = std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            Printer::Heatmap(Box::new(heatmap::HeatmapPrinter::new(
                file.clone(),
                command.join(" ").as_bytes(),
            )))
        }
    }
}

impl Print for Printer {
    fn begin<W: Write>(&mut self, out: &mut W, time_base: Option<u64>) -> io::Result<()> {
        match self {
            Printer::Text(p) => p.begin(out, time_base),
            Printer::Table(p) => p.begin(out, time_base),
            Printer::Json(p) => p.begin(out, time_base),
            Printer::Csv(p) => p.begin(out, time_base),
            Printer::Chrome(p) => p.begin(out, time_base),
            Printer::Summary(p) => p.begin(out, time_base),
            Printer::Heatmap(p) => p.begin(out, time_base),
        }
    }

    // The default text format inlined here; the others are calls, which keeps this function
    // (and the pairing callback it is inlined into) small on the hot path.
    #[inline(always)]
    fn event<W: Write>(
        &mut self,
        out: &mut W,
        event: &OpenEvent<'_>,
        ctx: &mut Context<'_>,
    ) -> io::Result<()> {
        match self {
            Printer::Text(p) => p.event(out, event, ctx),
            Printer::Table(p) => p.event(out, event, ctx),
            Printer::Json(p) => p.event(out, event, ctx),
            Printer::Csv(p) => p.event(out, event, ctx),
            Printer::Chrome(p) => p.event(out, event, ctx),
            Printer::Summary(p) => p.event(out, event, ctx),
            Printer::Heatmap(p) => p.event(out, event, ctx),
        }
    }

    fn drain<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        match self {
            Printer::Text(p) => p.drain(out),
            Printer::Json(p) => p.drain(out),
            _ => Ok(()),
        }
    }

    fn end<W: Write>(
        &mut self,
        out: &mut W,
        users: &mut UserDb,
        counts: &EndCounts,
    ) -> io::Result<()> {
        match self {
            Printer::Text(p) => p.end(out, users, counts),
            Printer::Table(p) => p.end(out, users, counts),
            Printer::Json(p) => p.end(out, users, counts),
            Printer::Csv(p) => p.end(out, users, counts),
            Printer::Chrome(p) => p.end(out, users, counts),
            Printer::Summary(p) => p.end(out, users, counts),
            Printer::Heatmap(p) => p.end(out, users, counts),
        }
    }
}

impl Printer {
    /// True for the summary, which counts unfinished opens even without `--unfinished`.
    pub fn counts_unfinished(&self) -> bool {
        matches!(self, Printer::Summary(_))
    }
}
