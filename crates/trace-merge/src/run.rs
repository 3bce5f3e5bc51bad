//! One run: every input, line by line, through the parser and the pairing engine into the
//! [`Output`], then the end-of-run report. This is where flushing for live output is decided.

use crate::config::{Config, MALFORMED_SHOWN};
use crate::error::Error;
use crate::event::OpenEvent;
use crate::info::TraceInfo;
use crate::input::{self, InputError, LineSource, NextError};
use crate::merge::{Merged, MergedLines};
use crate::output::Output;
use crate::pair::Pairer;
use crate::reader_thread::{self, Item};
use crate::report::{write_report, Stats};
use std::io::{self, BufWriter, Read, Write};
use trace_format::{parse_line, Line};

/// Output buffer size: large writes for files, flushed early on pipes and terminals. The
/// printers' gathered records ([`crate::printer::GATHER`], the same size) pass through it
/// without a copy.
const OUT_BUF: usize = crate::printer::GATHER;

/// How a run ended when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// What was counted.
    pub stats: Stats,
    /// Some input could not be read (exit status 2).
    pub input_failed: bool,
}

/// Runs with the output on stdout and messages on stderr.
pub fn run(cfg: &Config) -> Result<Outcome, Error> {
    let stdout = BufWriter::with_capacity(OUT_BUF, io::stdout().lock());
    run_with(cfg, stdout, &mut io::stderr().lock())
}

/// Runs with the output on `out` (give it a buffered writer); messages (bad lines, unreadable
/// inputs, the report) go to `err`.
pub fn run_with<W: Write>(cfg: &Config, out: W, err: &mut dyn Write) -> Result<Outcome, Error> {
    let sink = Output::new(out, cfg);
    if cfg.inputs.len() > 1 {
        return run_merged(cfg, sink, err);
    }
    let mut sink = sink;
    let mut state = State {
        pairer: Pairer::new(cfg.pairing),
        info: TraceInfo::default(),
        stats: Stats::default(),
        line_buffered: cfg.stdout_terminal,
        progress: crate::progress::Progress::hidden(),
    };
    let mut input_failed = false;
    for spec in &cfg.inputs {
        let (reader, name, may_block) = match input::open_source(spec) {
            Ok(r) => r,
            Err(e) => {
                input_failed = true;
                report_input_error(&mut sink, err, &e)?;
                continue;
            }
        };
        if let input::InputSpec::Path(path) = spec {
            let waits = cfg.output_waits_for_the_end();
            let stderr_tty = std::io::IsTerminal::is_terminal(&io::stderr());
            state.progress = crate::progress::Progress::for_file(
                path,
                stderr_tty,
                cfg.stdout_terminal && !waits,
            );
        }
        let read = state.read_all(cfg, reader, name, may_block, &mut sink, err);
        state.progress.finish();
        if let Err(e) = read {
            match e {
                RunError::Input(e) => {
                    input_failed = true;
                    report_input_error(&mut sink, err, &e)?;
                }
                RunError::Fatal(e) => {
                    let _ = sink.flush();
                    return Err(e);
                }
            }
        }
    }
    let State {
        mut pairer,
        info,
        mut stats,
        ..
    } = state;
    pairer
        .finish(&mut emitter(&mut sink, &info, false))
        .map_err(Error::Output)?;
    stats.pairs = pairer.stats();
    conclude(cfg, &mut sink, err, &info, stats, input_failed)
}

/// Several inputs, merged in timestamp order while streaming ([`MergedLines`]). Headers are
/// kept per input (each trace has its own clock offset); pairing is per traced host: inputs
/// with different `# host:` headers are paired apart (pid 1 of one machine is not pid 1 of
/// another), inputs with the same host or none share one state, so a trace cut into pieces
/// still pairs an entry in one piece with its return in the next. No progress bar here.
fn run_merged<W: Write>(
    cfg: &Config,
    mut sink: Output<W>,
    err: &mut dyn Write,
) -> Result<Outcome, Error> {
    let mut input_failed = false;
    let mut readers = Vec::new();
    for spec in &cfg.inputs {
        match input::open(spec) {
            Ok(r) => readers.push(r),
            Err(e) => {
                input_failed = true;
                report_input_error(&mut sink, err, &e)?;
            }
        }
    }
    let names: Vec<String> = readers.iter().map(|r| r.name().to_owned()).collect();
    let mut infos = vec![TraceInfo::default(); readers.len()];
    let mut group_of: Vec<Option<usize>> = vec![None; readers.len()];
    // (host, pairing state, first input of the host)
    let mut groups: Vec<(Vec<u8>, Pairer, usize)> = Vec::new();
    let mut stats = Stats::default();
    let mut merged = MergedLines::new(readers);
    let lb = cfg.stdout_terminal;
    loop {
        let mut flush = || sink.flush();
        let (i, bytes, number) = match merged.next_line(&mut flush) {
            Ok(Merged::End) => break,
            Ok(Merged::Line {
                input,
                bytes,
                number,
            }) => (input, bytes, number),
            Ok(Merged::TooLong { input, number }) => {
                stats.lines += 1;
                let reason = format!("line longer than {} MiB, skipped", input::MAX_LINE >> 20);
                malformed(cfg, &mut stats, &names[input], number, reason, err)
                    .inspect_err(|_| drop(sink.flush()))?;
                continue;
            }
            Err((_, NextError::Input(e))) => {
                input_failed = true;
                report_input_error(&mut sink, err, &e)?;
                continue;
            }
            Err((_, NextError::Hook(e))) => return Err(Error::Output(e)),
        };
        stats.lines += 1;
        // Used in place, not moved (see `State::read_all`).
        let parsed = parse_line(bytes);
        let line = match &parsed {
            Ok(l) => l,
            Err(e) => {
                malformed(cfg, &mut stats, &names[i], number, e.to_string(), err)
                    .inspect_err(|_| drop(sink.flush()))?;
                continue;
            }
        };
        let ts = match line {
            Line::Entry(e) => e.ts,
            Line::Return(r) => r.ts,
            Line::Header(h) => {
                infos[i].header(h);
                continue;
            }
            Line::Comment(_) | Line::Blank => continue,
        };
        infos[i].saw_timestamp(ts);
        let g = *group_of[i].get_or_insert_with(|| {
            let host = infos[i].host.clone().unwrap_or_default();
            groups
                .iter()
                .position(|(h, ..)| *h == host)
                .unwrap_or_else(|| {
                    groups.push((host, Pairer::new(cfg.pairing), i));
                    groups.len() - 1
                })
        });
        let pairer = &mut groups[g].1;
        let result = match line {
            Line::Entry(e) => pairer.entry(e, &mut emitter(&mut sink, &infos[i], lb)),
            Line::Return(r) => pairer.ret(r, &mut emitter(&mut sink, &infos[i], lb)),
            _ => Ok(()),
        };
        result.map_err(Error::Output)?;
    }
    for (_, pairer, first) in &mut groups {
        pairer
            .finish(&mut emitter(&mut sink, &infos[*first], false))
            .map_err(Error::Output)?;
        let p = pairer.stats();
        stats.pairs.paired += p.paired;
        stats.pairs.returns_without_entry += p.returns_without_entry;
        stats.pairs.unfinished += p.unfinished;
        stats.pairs.evicted += p.evicted;
        stats.pairs.peak_pending = stats.pairs.peak_pending.max(p.peak_pending);
    }
    // What the sink's end needs: the earliest first timestamp, all lost events.
    let mut info = infos.first().cloned().unwrap_or_default();
    info.first_ts = infos.iter().filter_map(|i| i.first_ts).min();
    info.lost = infos.iter().map(|i| i.lost).sum();
    conclude(cfg, &mut sink, err, &info, stats, input_failed)
}

/// A line that did not parse: counted, shown (the first [`MALFORMED_SHOWN`]), or fatal with
/// `--strict`. The one place for it, for one input and for several.
fn malformed(
    cfg: &Config,
    stats: &mut Stats,
    name: &str,
    number: u64,
    reason: String,
    err: &mut dyn Write,
) -> Result<(), Error> {
    stats.malformed += 1;
    if cfg.strict {
        return Err(Error::Strict {
            name: name.to_owned(),
            line: number,
            reason,
        });
    }
    if stats.malformed <= MALFORMED_SHOWN {
        stats.malformed_shown += 1;
        let _ = writeln!(err, "trace-merge: {name}:{number}: {reason}");
    }
    Ok(())
}

/// The end of a run, one input or several: final counts, the output's end, the report.
fn conclude<W: Write>(
    cfg: &Config,
    sink: &mut Output<W>,
    err: &mut dyn Write,
    info: &TraceInfo,
    mut stats: Stats,
    input_failed: bool,
) -> Result<Outcome, Error> {
    stats.lost = info.lost;
    if input_failed {
        stats.unreadable_inputs += 1;
    }
    sink.finish(info, &stats).map_err(Error::Output)?;
    stats.write_unclassified = sink.write_unclassified();
    let _ = write_report(err, &stats, cfg.pairing.max_pending, cfg.unfinished);
    Ok(Outcome {
        stats,
        input_failed,
    })
}

/// The pairing engine's callback: each finished open to the output, flushed at once when
/// stdout is a terminal.
fn emitter<'a, W: Write>(
    sink: &'a mut Output<W>,
    info: &'a TraceInfo,
    line_buffered: bool,
) -> impl FnMut(&OpenEvent<'_>) -> io::Result<()> + 'a {
    move |ev| {
        sink.event(ev, info)?;
        if line_buffered {
            sink.flush()?;
        }
        Ok(())
    }
}

/// Shows an input error; stdout is flushed first so the message lands after the output it
/// follows.
fn report_input_error<W: Write>(
    sink: &mut Output<W>,
    err: &mut dyn Write,
    e: &InputError,
) -> Result<(), Error> {
    sink.flush().map_err(Error::Output)?;
    let _ = writeln!(err, "trace-merge: {e}");
    Ok(())
}

enum RunError {
    Input(InputError),
    Fatal(Error),
}

struct State {
    pairer: Pairer,
    info: TraceInfo,
    stats: Stats,
    line_buffered: bool,
    /// The progress bar of the input being read (hidden unless wanted, see `progress`).
    progress: crate::progress::Progress,
}

impl State {
    /// One input, read and parsed on the reader thread ([`reader_thread`]), paired and
    /// written here.
    fn read_all<R: Read + Send + 'static, W: Write>(
        &mut self,
        cfg: &Config,
        reader: R,
        name: String,
        may_block: bool,
        sink: &mut Output<W>,
        err: &mut dyn Write,
    ) -> Result<(), RunError> {
        let mut batches = reader_thread::spawn(reader, name.clone(), may_block);
        let lb = self.line_buffered;
        loop {
            let mut flush = || sink.flush();
            let batch = match batches.next(&mut flush) {
                Ok(Some(b)) => b,
                Ok(None) => return Ok(()),
                Err(NextError::Input(e)) => return Err(RunError::Input(e)),
                Err(NextError::Hook(e)) => return Err(RunError::Fatal(Error::Output(e))),
            };
            let mut number = batch.first_line();
            for item in batch.items() {
                let line = match *item {
                    Item::Plain(p) => {
                        // The common shapes, without building a whole `Line`.
                        number += 1;
                        self.stats.lines += 1;
                        let result = match p.to_line() {
                            Line::Entry(e) => {
                                self.info.saw_timestamp(e.ts);
                                self.pairer.entry(&e, &mut emitter(sink, &self.info, lb))
                            }
                            Line::Return(r) => {
                                self.info.saw_timestamp(r.ts);
                                self.pairer.ret(&r, &mut emitter(sink, &self.info, lb))
                            }
                            _ => unreachable!("a plain line is an entry or a return"),
                        };
                        result.map_err(|e: io::Error| RunError::Fatal(Error::Output(e)))?;
                        continue;
                    }
                    Item::Line(i) => batch.line(i),
                    Item::Malformed(e) => {
                        self.stats.lines += 1;
                        self.malformed(cfg, &name, number, e.to_string(), err)?;
                        number += 1;
                        continue;
                    }
                    Item::TooLong => {
                        self.stats.lines += 1;
                        let reason =
                            format!("line longer than {} MiB, skipped", input::MAX_LINE >> 20);
                        self.malformed(cfg, &name, number, reason, err)?;
                        number += 1;
                        continue;
                    }
                };
                number += 1;
                self.stats.lines += 1;
                let result = match line {
                    Line::Entry(e) => {
                        self.info.saw_timestamp(e.ts);
                        self.pairer.entry(e, &mut emitter(sink, &self.info, lb))
                    }
                    Line::Return(r) => {
                        self.info.saw_timestamp(r.ts);
                        self.pairer.ret(r, &mut emitter(sink, &self.info, lb))
                    }
                    Line::Header(h) => {
                        self.info.header(h);
                        Ok(())
                    }
                    Line::Comment(_) | Line::Blank => Ok(()),
                };
                result.map_err(|e: io::Error| RunError::Fatal(Error::Output(e)))?;
            }
            self.progress.advance(batch.bytes());
            batches.recycle(batch);
        }
    }

    fn malformed(
        &mut self,
        cfg: &Config,
        name: &str,
        number: u64,
        reason: String,
        err: &mut dyn Write,
    ) -> Result<(), RunError> {
        malformed(cfg, &mut self.stats, name, number, reason, err).map_err(RunError::Fatal)
    }
}
