//! Where completed opens go: the one place that decides which opens are printed and in what
//! order, in front of the printer that formats them.
//!
//! `pairing -> unfinished? -> filters -> --top / --sort -> printer -> buffered stdout`
//!
//! - Unfinished opens are dropped unless `--unfinished` (the summary counts them anyway).
//! - The filters ([`Filter`]) run on each open as it leaves pairing: no memory, live output.
//! - `--top N` without `--sort` keeps the first N opens; with `--sort`, the [`Sorter`] holds
//!   the opens (at most about 2N with `--top`) and replays them sorted at the end. A summary
//!   takes `--top` as its number of rows instead.
//! - The printer is chosen once, by [`printer::build`].

use crate::config::{Config, OutputMode};
use crate::event::{OpenEvent, Outcome};
use crate::filter::Filter;
use crate::info::TraceInfo;
use crate::printer::{self, Context, EndCounts, Print, Printer};
use crate::report::Stats;
use crate::sort::Sorter;
use crate::users::UserDb;
use std::io::{self, Write};

/// In input order (with an optional limit), or buffered and sorted.
enum Order {
    /// Printed as they come; `remaining` counts down `--top`.
    Stream { remaining: Option<usize> },
    /// Held until the end.
    Sort(Sorter),
}

/// The output of a run: selection, order, printer, and the buffered writer.
pub struct Output<W: Write> {
    out: W,
    users: UserDb,
    printer: Printer,
    filter: Filter,
    /// `!filter.is_empty()`, kept so the default path skips the call.
    filtering: bool,
    /// Unfinished opens reach the printer.
    keep_unfinished: bool,
    order: Order,
    /// The printer's header has been written (stream order only).
    begun: bool,
    /// Opens go straight to the printer: begun, no filter, no `--top`, not sorted.
    direct: bool,
}

impl<W: Write> Output<W> {
    /// The output `cfg` asks for, writing to `out` (give it a buffered writer).
    pub fn new(out: W, cfg: &Config) -> Output<W> {
        let printer = printer::build(cfg);
        let order = match &cfg.output {
            OutputMode::Summary(_) => Order::Stream { remaining: None },
            _ if !cfg.sort.is_empty() => {
                Order::Sort(Sorter::new(cfg.sort.clone(), cfg.reverse, cfg.top))
            }
            _ => Order::Stream { remaining: cfg.top },
        };
        Output {
            out,
            users: UserDb::new(cfg.users.clone()),
            keep_unfinished: cfg.unfinished || printer.counts_unfinished(),
            printer,
            filtering: !cfg.filter.is_empty(),
            filter: cfg.filter.clone(),
            order,
            begun: false,
            direct: false,
        }
    }

    /// The header, before the first open in stream order; relative times count from the
    /// trace's first timestamp.
    fn begin(&mut self, info: &TraceInfo) -> io::Result<()> {
        if self.begun {
            return Ok(());
        }
        self.begun = true;
        self.direct = !self.filtering && matches!(self.order, Order::Stream { remaining: None });
        match self.order {
            Order::Stream { .. } => self.printer.begin(&mut self.out, info.first_ts),
            Order::Sort(_) => Ok(()),
        }
    }

    /// One open from pairing (finished or not), with the headers of its trace.
    #[inline]
    pub fn event(&mut self, ev: &OpenEvent<'_>, info: &TraceInfo) -> io::Result<()> {
        if ev.outcome == Outcome::Unfinished && !self.keep_unfinished {
            return Ok(());
        }
        if !self.direct {
            return self.select(ev, info);
        }
        let mut ctx = Context {
            users: &mut self.users,
            info,
        };
        self.printer.event(&mut self.out, ev, &mut ctx)
    }

    /// [`Output::event`] when the open may not go straight to the printer: before the header,
    /// with filters, with `--top`, or sorted.
    #[inline(never)]
    fn select(&mut self, ev: &OpenEvent<'_>, info: &TraceInfo) -> io::Result<()> {
        if !self.begun {
            self.begin(info)?;
        }
        if self.filtering && !self.filter.matches(ev, &mut self.users) {
            return Ok(());
        }
        match &mut self.order {
            Order::Stream { remaining } => {
                if let Some(remaining) = remaining {
                    if *remaining == 0 {
                        return Ok(());
                    }
                    *remaining -= 1;
                }
                let mut ctx = Context {
                    users: &mut self.users,
                    info,
                };
                self.printer.event(&mut self.out, ev, &mut ctx)
            }
            Order::Sort(sorter) => {
                sorter.push(ev, &mut self.users, info.host.as_deref());
                Ok(())
            }
        }
    }

    /// Opens `--write` left out because the trace has no flags for them.
    pub fn write_unclassified(&self) -> u64 {
        self.filter.unclassified()
    }

    /// Hands buffered output to the OS. Called before a read that may block on a pipe, after
    /// each open when stdout is a terminal, and at the end.
    pub fn flush(&mut self) -> io::Result<()> {
        self.printer.drain(&mut self.out)?;
        self.out.flush()
    }

    /// The input has ended: sorted opens, the summary; then flushes.
    pub fn finish(&mut self, info: &TraceInfo, stats: &Stats) -> io::Result<()> {
        self.begin(info)?;
        if let Order::Sort(sorter) = &mut self.order {
            let sorter = std::mem::replace(sorter, Sorter::new(Vec::new(), false, None));
            self.printer
                .begin(&mut self.out, info.first_ts.or(sorter.earliest_ns()))?;
            // Each open with its own trace's host (several hosts merged); the rest of the
            // headers are the run's.
            let mut own = info.clone();
            for (event, host) in sorter.finish() {
                own.host = host;
                let mut ctx = Context {
                    users: &mut self.users,
                    info: &own,
                };
                self.printer
                    .event(&mut self.out, &event.as_event(), &mut ctx)?;
            }
        }
        let counts = EndCounts {
            lost: stats.lost.max(info.lost),
            // With filters, only the unfinished opens that passed them count.
            unfinished: if self.filtering {
                0
            } else {
                stats.pairs.unfinished
            },
            unmatched_returns: stats.pairs.returns_without_entry,
        };
        self.printer.drain(&mut self.out)?;
        self.printer.end(&mut self.out, &mut self.users, &counts)?;
        self.out.flush()
    }
}

impl<W: Write> Drop for Output<W> {
    /// Records a printer gathered go to the writer, as a `BufWriter` writes its buffer when
    /// dropped (a run that ends early still shows what it printed).
    fn drop(&mut self) {
        let _ = self.printer.drain(&mut self.out);
    }
}
