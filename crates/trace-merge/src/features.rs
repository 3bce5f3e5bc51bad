//! The options of issue 4 (filters, columns, formats, sorting, summaries, `--generate`) in one
//! place: their clap definition ([`FeatureArgs`], flattened into [`crate::cli::Cli`]), their
//! validation into a plain [`FeatureConfig`], and the [`FeatureSink`] that runs them.
//!
//! When none of them is given, the core's seed-text sink runs unchanged (its byte-identity
//! with the seed is tested there); otherwise the pipeline feeds [`FeatureSink`]:
//! filter -> (sort buffer | summary | straight on) -> writer (seed text, columns, JSON, CSV).

use std::io::{self, Write};

use clap::{Args, ValueEnum};

use crate::columns::{
    parse_columns, Column, ColumnListError, ColumnWriter, Layout, TimeMode, UnknownColumn,
};
use crate::duration::{parse_duration, DurationError};
use crate::event::{OpenEvent, Outcome};
use crate::filter::{Filter, FilterError, ResultFilter, UserSpec};
use crate::format::csv::CsvWriter;
use crate::format::json::JsonWriter;
use crate::format::{wall_clock_offset, Context, EventWriter, UserNames};
use crate::generate::Generate;
use crate::info::TraceInfo;
use crate::output::text::format_line;
use crate::output::Sink;
use crate::report::Stats;
use crate::sort::{parse_sort_keys, Sorter};
use crate::summary::{EndCounts, GroupKey, Summary};
use crate::users::UserDb;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum FormatArg {
    /// The seed's lines, or columns with -o/-T.
    #[default]
    Text,
    /// JSON Lines: one object per open (keys: ts uid user pid tid comm comm_b64 path
    /// path_b64 path_truncated ret fd errno duration_ns; null when absent). A path that is
    /// not UTF-8 is in path_b64 exactly (base64) and in path with U+FFFD replacements.
    Json,
    /// RFC 4180 CSV with a header row.
    Csv,
}

/// `--time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum TimeArg {
    /// Seconds since the first event of the trace.
    #[default]
    Relative,
    /// Wall-clock time, UTC (needs `# clock-offset-ns:` or realtime timestamps; `?` otherwise).
    Absolute,
}

/// The issue-4 options, flattened into the command line.
#[derive(Debug, Clone, Default, Args)]
pub struct FeatureArgs {
    /// Keep opens of these process ids (repeat or comma-separate for several).
    #[arg(
        short = 'p',
        long = "pid",
        value_name = "PID",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub pids: Vec<u32>,

    /// Keep opens of these thread ids (the pid when the trace has no tids).
    #[arg(
        short = 't',
        long = "tid",
        value_name = "TID",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub tids: Vec<u32>,

    /// Keep opens of these users: a uid, or a name (resolved like the output, so --passwd
    /// applies).
    #[arg(
        short = 'u',
        long = "user",
        value_name = "UID|NAME",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub users: Vec<String>,

    /// Keep opens of processes with this exact name (a name longer than the kernel's 15 bytes
    /// matches its first 15).
    #[arg(
        short = 'c',
        long = "comm",
        value_name = "NAME",
        help_heading = "Filters"
    )]
    pub comms: Vec<String>,

    /// Keep only failed opens (negative return).
    #[arg(short = 'x', long, conflicts_with = "ok", help_heading = "Filters")]
    pub failed: bool,

    /// Keep only successful opens.
    #[arg(long, help_heading = "Filters")]
    pub ok: bool,

    /// Keep opens whose path matches this regular expression (Rust regex syntax, searched
    /// anywhere in the path bytes: anchor with ^...$).
    #[arg(long = "path", value_name = "REGEX", help_heading = "Filters")]
    pub path: Option<String>,

    /// Keep opens that took at least this long: 250ns, 10us, 1.5ms, 2s.
    #[arg(long, value_name = "DUR", help_heading = "Filters")]
    pub min_duration: Option<String>,

    /// Print these columns, in this order (comma-separated): time, user, uid, pid, tid, comm,
    /// path, result, ret, fd, errno, duration, duration_ns. Aligned under a header on a
    /// terminal, tab-separated otherwise.
    #[arg(
        short = 'o',
        long = "columns",
        value_name = "LIST",
        help_heading = "Output"
    )]
    pub columns: Option<String>,

    /// Add a time column (seconds since the first event; see --time).
    #[arg(short = 'T', long, help_heading = "Output")]
    pub timestamps: bool,

    /// What the time column shows (implies -T).
    #[arg(long, value_enum, value_name = "MODE", help_heading = "Output")]
    pub time: Option<TimeArg>,

    /// Do not print the header row of columns, TSV or CSV.
    #[arg(long, help_heading = "Output")]
    pub no_header: bool,

    /// Output format.
    #[arg(
        long,
        value_enum,
        default_value_t,
        value_name = "FORMAT",
        help_heading = "Output"
    )]
    pub format: FormatArg,

    /// Sort by these columns (comma-separated, most significant first; absent values last).
    /// Buffers the whole input before printing anything: the one mode that is not live.
    #[arg(
        long,
        value_name = "KEY[,KEY...]",
        help_heading = "Sorting and summaries"
    )]
    pub sort: Option<String>,

    /// Reverse the sort order.
    #[arg(
        short = 'r',
        long,
        requires = "sort",
        help_heading = "Sorting and summaries"
    )]
    pub reverse: bool,

    /// Print only the first N opens (after sorting), or N rows per summary table.
    #[arg(long, value_name = "N", help_heading = "Sorting and summaries")]
    pub top: Option<usize>,

    /// Print a summary instead of the opens: totals, latency p50/p90/p99/max (exact,
    /// nearest-rank), top paths and processes by count and by total time, failures by errno,
    /// a log2 latency histogram like bpftrace's hist(). Keeps 8 bytes per open until the end.
    #[arg(long, help_heading = "Sorting and summaries")]
    pub summary: bool,

    /// Summarize grouped by one key (implies --summary).
    #[arg(long, value_name = "KEY", value_parser = ["path", "comm", "pid", "user", "errno"], help_heading = "Sorting and summaries")]
    pub summary_by: Option<String>,

    /// Print a man page or shell completions and exit: man, completions-bash,
    /// completions-zsh, completions-fish, completions-elvish, completions-powershell.
    #[arg(long, value_enum, value_name = "KIND", hide = true)]
    pub generate: Option<Generate>,
}

/// An issue-4 option that cannot be used as given.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// `--path`.
    #[error(transparent)]
    Filter(#[from] FilterError),
    /// `--min-duration`.
    #[error("--min-duration `{value}`: {reason}")]
    MinDuration {
        /// As given.
        value: String,
        /// Why.
        reason: DurationError,
    },
    /// `-o`.
    #[error("-o/--columns: {0}")]
    Columns(#[from] ColumnListError),
    /// `--sort`.
    #[error("--sort: {0}")]
    Sort(UnknownColumn),
    /// Options that do not go together.
    #[error("{0}")]
    Conflict(&'static str),
}

/// What is printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputMode {
    /// The seed's lines.
    Seed,
    /// Chosen columns.
    Columns(Vec<Column>),
    /// JSON Lines.
    Json,
    /// CSV: chosen columns, or the default fields.
    Csv(Option<Vec<Column>>),
    /// A summary instead of the opens.
    Summary(Option<GroupKey>),
}

/// The validated issue-4 settings.
#[derive(Debug, Clone)]
pub struct FeatureConfig {
    /// Which opens to keep.
    pub filter: Filter,
    /// What to print.
    pub output: OutputMode,
    /// Header row for columns/TSV/CSV.
    pub header: bool,
    /// The time column's mode.
    pub time: TimeMode,
    /// `--sort` keys (empty: input order).
    pub sort: Vec<Column>,
    /// `-r`.
    pub reverse: bool,
    /// `--top`.
    pub top: Option<usize>,
}

impl FeatureConfig {
    /// Validates the options; `None` when none was given, so that the core's seed sink runs.
    pub fn from_args(args: &FeatureArgs) -> Result<Option<FeatureConfig>, FeatureError> {
        let mut filter = Filter {
            pids: args.pids.clone(),
            tids: args.tids.clone(),
            users: args.users.iter().map(|u| UserSpec::parse(u)).collect(),
            comms: args.comms.iter().map(|c| c.as_bytes().to_vec()).collect(),
            result: if args.failed {
                ResultFilter::Failed
            } else if args.ok {
                ResultFilter::Ok
            } else {
                ResultFilter::Any
            },
            ..Filter::default()
        };
        if let Some(re) = &args.path {
            filter.path = Some(Filter::path_regex(re)?);
        }
        if let Some(text) = &args.min_duration {
            let ns = parse_duration(text).map_err(|reason| FeatureError::MinDuration {
                value: text.clone(),
                reason,
            })?;
            filter.min_duration_ns = Some(ns);
        }
        let time = match args.time.unwrap_or_default() {
            TimeArg::Relative => TimeMode::Relative,
            TimeArg::Absolute => TimeMode::Absolute,
        };
        let with_time = args.timestamps || args.time.is_some();
        let columns = match &args.columns {
            Some(list) => {
                let mut columns = parse_columns(list)?;
                if with_time && !columns.contains(&Column::Time) {
                    columns.insert(0, Column::Time);
                }
                Some(columns)
            }
            None if with_time => Some([&[Column::Time][..], &Column::DEFAULT].concat()),
            None => None,
        };
        let sort = match &args.sort {
            Some(list) => parse_sort_keys(list).map_err(FeatureError::Sort)?,
            None => Vec::new(),
        };
        let summary = args.summary || args.summary_by.is_some();
        let output = if summary {
            if args.format != FormatArg::Text {
                return Err(FeatureError::Conflict(
                    "--summary prints text: it cannot be used with --format json or csv",
                ));
            }
            if columns.is_some() {
                return Err(FeatureError::Conflict(
                    "--summary cannot be used with -o/--columns or -T",
                ));
            }
            if args.sort.is_some() {
                return Err(FeatureError::Conflict(
                    "--summary cannot be used with --sort (its tables are sorted already)",
                ));
            }
            let by = args
                .summary_by
                .as_deref()
                .map(|k| k.parse::<GroupKey>().expect("clap checked the value"));
            OutputMode::Summary(by)
        } else {
            match args.format {
                FormatArg::Text => columns.map_or(OutputMode::Seed, OutputMode::Columns),
                FormatArg::Json if columns.is_some() => {
                    return Err(FeatureError::Conflict("-o/--columns and -T apply to text and CSV output, not to --format json (its keys are fixed)"));
                }
                FormatArg::Json => OutputMode::Json,
                FormatArg::Csv => OutputMode::Csv(columns),
            }
        };
        let config = FeatureConfig {
            filter,
            output,
            header: !args.no_header,
            time,
            sort,
            reverse: args.reverse,
            top: args.top,
        };
        Ok(if config.is_plain() {
            None
        } else {
            Some(config)
        })
    }

    /// True when the options change nothing (seed text, no filter, sort or limit).
    fn is_plain(&self) -> bool {
        self.filter.is_empty()
            && self.output == OutputMode::Seed
            && self.sort.is_empty()
            && self.top.is_none()
    }

    /// True when nothing is printed before the input ends (sorting, summaries), so a progress
    /// bar does not fight with the output.
    pub fn output_waits_for_the_end(&self) -> bool {
        !self.sort.is_empty() || matches!(self.output, OutputMode::Summary(_))
    }
}

/// uid names through the core's cached database; `None` when it only has the number.
impl UserNames for UserDb {
    fn user_name(&mut self, uid: u32) -> Option<&[u8]> {
        self.known_name(uid)
    }
}

/// The seed's lines through the [`EventWriter`] interface, for when filters or `--top` are
/// used without another format.
#[derive(Debug, Default)]
pub struct SeedWriter {
    line: Vec<u8>,
    user: Vec<u8>,
}

impl EventWriter for SeedWriter {
    fn begin(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }

    fn write_event(
        &mut self,
        out: &mut dyn Write,
        event: &OpenEvent<'_>,
        ctx: &mut Context<'_>,
    ) -> io::Result<()> {
        self.user.clear();
        match ctx.users.user_name(event.uid) {
            Some(name) => self.user.extend_from_slice(name),
            None => self
                .user
                .extend_from_slice(event.uid.to_string().as_bytes()),
        }
        self.line.clear();
        format_line(&mut self.line, event, &self.user);
        out.write_all(&self.line)
    }
}

enum Stage {
    Stream(Box<dyn EventWriter>),
    Sort(Sorter, Box<dyn EventWriter>),
    Summary(Box<Summary>),
}

/// The sink for every run that uses an issue-4 option.
pub struct FeatureSink<W: Write> {
    out: W,
    users: UserDb,
    filter: Filter,
    show_unfinished: bool,
    stage: Stage,
    begun: bool,
    /// `--top` without `--sort`: opens still to print.
    remaining: Option<usize>,
}

impl<W: Write> FeatureSink<W> {
    /// A sink printing to `out` (a buffered writer) as `cfg` says; `stdout_is_terminal` picks
    /// the aligned table over TSV; `show_unfinished` is the core's `--unfinished`.
    pub fn new(
        out: W,
        users: UserDb,
        cfg: &FeatureConfig,
        stdout_is_terminal: bool,
        show_unfinished: bool,
    ) -> Self {
        let writer: Box<dyn EventWriter> = match &cfg.output {
            OutputMode::Seed | OutputMode::Summary(_) => Box::new(SeedWriter::default()),
            OutputMode::Columns(columns) => {
                let layout = if stdout_is_terminal {
                    Layout::Aligned
                } else {
                    Layout::Tsv
                };
                Box::new(ColumnWriter::new(
                    columns.clone(),
                    layout,
                    cfg.header,
                    cfg.time,
                ))
            }
            OutputMode::Json => Box::new(JsonWriter::new()),
            OutputMode::Csv(columns) => Box::new(CsvWriter::new(
                columns.clone(),
                cfg.header,
                cfg.time,
                stdout_is_terminal,
            )),
        };
        let (stage, remaining) = match &cfg.output {
            OutputMode::Summary(by) => (Stage::Summary(Box::new(Summary::new(*by, cfg.top))), None),
            _ if !cfg.sort.is_empty() => (
                Stage::Sort(Sorter::new(cfg.sort.clone(), cfg.reverse, cfg.top), writer),
                None,
            ),
            _ => (Stage::Stream(writer), cfg.top),
        };
        FeatureSink {
            out,
            users,
            filter: cfg.filter.clone(),
            show_unfinished,
            stage,
            begun: false,
            remaining,
        }
    }

    /// The writer back (tests).
    pub fn into_inner(self) -> W {
        self.out
    }

    fn begin(&mut self, info: &TraceInfo) -> io::Result<()> {
        if self.begun {
            return Ok(());
        }
        self.begun = true;
        match &mut self.stage {
            Stage::Stream(writer) => {
                if let Some(first) = info.first_ts {
                    writer.set_time_base(first);
                }
                writer.begin(&mut self.out)
            }
            Stage::Sort(..) | Stage::Summary(_) => Ok(()),
        }
    }
}

impl<W: Write> Sink for FeatureSink<W> {
    fn event(&mut self, ev: &OpenEvent<'_>, info: &TraceInfo) -> io::Result<()> {
        self.begin(info)?;
        let unfinished = ev.outcome == Outcome::Unfinished;
        if unfinished && !self.show_unfinished && !matches!(self.stage, Stage::Summary(_)) {
            return Ok(());
        }
        if !self.filter.is_empty() && !self.filter.matches(ev, &mut self.users) {
            return Ok(());
        }
        let wall_offset_ns = wall_clock_offset(info.clock, info.clock_offset_ns, ev.start_ns);
        match &mut self.stage {
            Stage::Summary(summary) => summary.add(ev),
            Stage::Sort(sorter, _) => sorter.push(ev, &mut self.users),
            Stage::Stream(writer) => {
                if let Some(remaining) = &mut self.remaining {
                    if *remaining == 0 {
                        return Ok(());
                    }
                    *remaining -= 1;
                }
                let mut ctx = Context {
                    users: &mut self.users,
                    wall_offset_ns,
                };
                writer.write_event(&mut self.out, ev, &mut ctx)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, info: &TraceInfo, stats: &Stats) -> io::Result<()> {
        self.begin(info)?;
        match &mut self.stage {
            Stage::Stream(_) => {}
            Stage::Sort(sorter, writer) => {
                let sorter = std::mem::replace(sorter, Sorter::new(Vec::new(), false, None));
                if let Some(base) = info.first_ts.or(sorter.earliest_ns()) {
                    writer.set_time_base(base);
                }
                writer.begin(&mut self.out)?;
                for event in sorter.finish() {
                    let ev = event.as_event();
                    let wall_offset_ns =
                        wall_clock_offset(info.clock, info.clock_offset_ns, ev.start_ns);
                    let mut ctx = Context {
                        users: &mut self.users,
                        wall_offset_ns,
                    };
                    writer.write_event(&mut self.out, &ev, &mut ctx)?;
                }
            }
            Stage::Summary(summary) => {
                let counts = EndCounts {
                    lost: stats.lost.max(info.lost),
                    // With filters, only the unfinished opens that passed them count.
                    unfinished: if self.filter.is_empty() {
                        stats.pairs.unfinished
                    } else {
                        0
                    },
                    unmatched_returns: stats.pairs.returns_without_entry,
                };
                summary.write(&mut self.out, &mut self.users, &counts)?;
            }
        }
        self.out.flush()
    }
}
