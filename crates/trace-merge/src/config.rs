//! The validated settings of one run, built from the command line before any input is read,
//! so that the rest of the program never sees raw flags.

use crate::cli::{Cli, FormatArg, TimeArg};
use crate::columns::{parse_columns, Column, ColumnListError, TimeMode, UnknownColumn};
use crate::duration::{parse_duration, DurationError};
use crate::filter::{Filter, FilterError, ResultFilter, UserSpec};
use crate::input::InputSpec;
use crate::pair::PairConfig;
use crate::printer::GroupKey;
use crate::sort::parse_sort_keys;
use crate::users::{PasswdError, UserSource};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// How many malformed lines are shown individually before only counting.
pub const MALFORMED_SHOWN: u64 = 5;

/// Everything a run needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    /// Inputs, in order.
    pub inputs: Vec<InputSpec>,
    /// Where user names come from.
    pub users: UserSource,
    /// Print unfinished opens.
    pub unfinished: bool,
    /// Stop at the first malformed line.
    pub strict: bool,
    /// Pairing limits.
    pub pairing: PairConfig,
    /// stdout is a terminal: flush after every line, align tables, escape CSV fields.
    pub stdout_terminal: bool,
    /// Which opens to keep.
    pub filter: Filter,
    /// What is printed.
    pub output: OutputMode,
    /// Header row for tables and CSV (`--no-header` clears it).
    pub header: bool,
    /// What the time column shows.
    pub time: TimeMode,
    /// `--sort` keys (empty: input order).
    pub sort: Vec<Column>,
    /// `-r`.
    pub reverse: bool,
    /// `--top`: the first N opens (after sorting), or N rows per summary table.
    pub top: Option<usize>,
    /// `-F`: the text format prints the resolved path in place of the argument (the `path`
    /// column of `-o` is then `full_path`).
    pub full_path: bool,
}

/// What is printed: one output format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputMode {
    /// The standard `OPEN ...` lines (the default).
    Text,
    /// Chosen columns (`-o`, `-T`).
    Table(Vec<Column>),
    /// JSON Lines.
    Json,
    /// CSV: chosen columns, or the default fields.
    Csv(Option<Vec<Column>>),
    /// The Trace Event Format (`--format chrome`).
    Chrome,
    /// A summary instead of the opens, optionally grouped by one key.
    Summary(Option<GroupKey>),
    /// A latency heat map written to this SVG file instead of printing the opens.
    Heatmap(PathBuf),
}

/// A flag value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--passwd FILE` unreadable.
    #[error(transparent)]
    Passwd(#[from] PasswdError),
    /// `--max-pending 0`.
    #[error("--max-pending must be at least 1")]
    MaxPendingZero,
    /// `--reorder-window` does not parse.
    #[error("--reorder-window `{value}`: {reason}")]
    ReorderWindow {
        /// As given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
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
    /// `-c`, which trace-gen uses for a command.
    #[error("-c {0}: trace-merge has no -c (in trace-gen it runs a command); filter by process name with -n/--comm {0}")]
    CommandLetter(String),
    /// `--heatmap FILE` cannot be created.
    #[error("--heatmap {}: {error}", path.display())]
    Heatmap {
        /// As given.
        path: PathBuf,
        /// Why it cannot be written.
        error: std::io::Error,
    },
    /// Options that do not go together.
    #[error("{0}")]
    Conflict(&'static str),
    /// `-u NAME` that the user database does not know. An error, not a warning: names are
    /// matched through the same database as the output's user column, so an unknown name
    /// could match no open at all, and an empty output would look like "that user opened
    /// nothing". A trace from another host is read with that host's `--passwd FILE`, or
    /// filtered by uid, which needs no database.
    #[error("-u {name}: no such user {place} (give a uid, or for a trace from another host its passwd file with --passwd FILE)")]
    UnknownUser {
        /// As given.
        name: String,
        /// Where it was looked up.
        place: &'static str,
    },
}

impl Config {
    /// Validates the command line.
    pub fn from_cli(cli: Cli) -> Result<Config, ConfigError> {
        if let Some(comm) = cli.old_comm {
            return Err(ConfigError::CommandLetter(comm));
        }
        let users = if cli.numeric {
            UserSource::Numeric
        } else if let Some(path) = &cli.passwd {
            UserSource::from_passwd_file(path)?
        } else {
            UserSource::System
        };
        for name in &cli.users {
            if let UserSpec::Name(n) = UserSpec::parse(name) {
                if !users.has_name(&n) {
                    return Err(ConfigError::UnknownUser {
                        name: name.clone(),
                        place: match users {
                            UserSource::System => "in this system's user database",
                            UserSource::Passwd(_) => "in the --passwd file",
                            UserSource::Numeric => "(-N prints and matches uids only)",
                        },
                    });
                }
            }
        }
        let mut filter = Filter {
            pids: cli.pids,
            tids: cli.tids,
            users: cli.users.iter().map(|u| UserSpec::parse(u)).collect(),
            comms: cli.comms.iter().map(|c| c.as_bytes().to_vec()).collect(),
            result: if cli.failed {
                ResultFilter::Failed
            } else if cli.ok {
                ResultFilter::Ok
            } else {
                ResultFilter::Any
            },
            ..Filter::default()
        };
        if let Some(re) = &cli.path {
            filter.path = Some(Filter::path_regex(re)?);
        }
        if let Some(re) = &cli.raw_path {
            filter.raw_path = Some(Filter::regex("--raw-path", re)?);
        }
        if let Some(re) = &cli.cgroup {
            filter.cgroup = Some(Filter::regex("--cgroup", re)?);
        }
        filter.write = cli.write;
        if let Some(text) = &cli.min_duration {
            let ns = parse_duration(text).map_err(|reason| ConfigError::MinDuration {
                value: text.clone(),
                reason,
            })?;
            filter.min_duration_ns = Some(ns);
        }
        let time = match cli.time.unwrap_or_default() {
            TimeArg::Relative => TimeMode::Relative,
            TimeArg::Absolute => TimeMode::Absolute,
        };
        let with_time = cli.timestamps || cli.time.is_some();
        let columns = match &cli.columns {
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
        // -F: the path column shows what the text format shows.
        let columns = columns.map(|columns| {
            columns
                .into_iter()
                .map(|c| match c {
                    Column::Path if cli.full_path => Column::FullPath,
                    c => c,
                })
                .collect::<Vec<_>>()
        });
        let sort = match &cli.sort {
            Some(list) => parse_sort_keys(list).map_err(ConfigError::Sort)?,
            None => Vec::new(),
        };
        let output = if let Some(path) = &cli.heatmap {
            if cli.summary || cli.summary_by.is_some() || cli.format != FormatArg::Text {
                return Err(ConfigError::Conflict(
                    "--heatmap writes its own file instead of the opens: it cannot be used with --summary or --format",
                ));
            }
            if columns.is_some() || cli.sort.is_some() {
                return Err(ConfigError::Conflict(
                    "--heatmap cannot be used with -o/--columns, -T or --sort (it draws every open kept by the filters)",
                ));
            }
            // Created now, so that a path that cannot be written is refused before reading.
            std::fs::File::create(path).map_err(|error| ConfigError::Heatmap {
                path: path.clone(),
                error,
            })?;
            OutputMode::Heatmap(path.clone())
        } else if cli.summary || cli.summary_by.is_some() {
            if cli.format != FormatArg::Text {
                return Err(ConfigError::Conflict(
                    "--summary prints text: it cannot be used with --format json or csv",
                ));
            }
            if columns.is_some() {
                return Err(ConfigError::Conflict(
                    "--summary cannot be used with -o/--columns or -T",
                ));
            }
            if cli.sort.is_some() {
                return Err(ConfigError::Conflict(
                    "--summary cannot be used with --sort (its tables are sorted already)",
                ));
            }
            let by = cli
                .summary_by
                .as_deref()
                .map(|k| k.parse::<GroupKey>().expect("clap checked the value"));
            OutputMode::Summary(by)
        } else {
            match cli.format {
                FormatArg::Text => columns.map_or(OutputMode::Text, OutputMode::Table),
                FormatArg::Json if columns.is_some() => {
                    return Err(ConfigError::Conflict("-o/--columns and -T apply to text and CSV output, not to --format json (its keys are fixed)"));
                }
                FormatArg::Json => OutputMode::Json,
                FormatArg::Chrome if columns.is_some() => {
                    return Err(ConfigError::Conflict("-o/--columns and -T apply to text and CSV output, not to --format chrome (its fields are fixed)"));
                }
                FormatArg::Chrome => OutputMode::Chrome,
                FormatArg::Csv => OutputMode::Csv(columns),
            }
        };
        if cli.max_pending == 0 {
            return Err(ConfigError::MaxPendingZero);
        }
        // A bare `0` needs no unit (the help offers `0` to trust the input order).
        let window_ns = match cli.reorder_window.trim() {
            "0" => Ok(0),
            text => parse_duration(text),
        }
        .map_err(|e| ConfigError::ReorderWindow {
            value: cli.reorder_window.clone(),
            reason: e.to_string(),
        })?;
        let inputs = if cli.files.is_empty() {
            vec![InputSpec::Stdin]
        } else {
            cli.files
                .into_iter()
                .map(|p| {
                    if p == Path::new("-") {
                        InputSpec::Stdin
                    } else {
                        InputSpec::Path(p)
                    }
                })
                .collect()
        };
        Ok(Config {
            inputs,
            users,
            unfinished: cli.unfinished,
            strict: cli.strict,
            pairing: PairConfig {
                max_pending: cli.max_pending,
                window_ns,
            },
            stdout_terminal: std::io::stdout().is_terminal(),
            filter,
            output,
            header: !cli.no_header,
            time,
            sort,
            reverse: cli.reverse,
            top: cli.top,
            full_path: cli.full_path,
        })
    }

    /// True when nothing is printed before the input ends (sorting, summaries), so a progress
    /// bar does not fight with the output.
    pub fn output_waits_for_the_end(&self) -> bool {
        !self.sort.is_empty()
            || matches!(self.output, OutputMode::Summary(_) | OutputMode::Heatmap(_))
    }
}
