//! The validated settings of one run, built from the command line before any input is read,
//! so that the rest of the program never sees raw flags.

use crate::cli::Cli;
use crate::duration::parse_duration;
use crate::input::InputSpec;
use crate::pair::PairConfig;
use crate::users::{PasswdError, UserSource};
use std::io::IsTerminal;
use std::path::Path;

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
    /// Flush after every line (stdout is a terminal).
    pub line_buffered: bool,
    /// Filters, columns, formats, sorting, summaries; `None`: the seed's text, unfiltered.
    pub features: Option<crate::features::FeatureConfig>,
}

/// A flag value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A filter, column, format, sort or summary option.
    #[error(transparent)]
    Features(#[from] crate::features::FeatureError),
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
}

impl Config {
    /// Validates the command line.
    pub fn from_cli(cli: Cli) -> Result<Config, ConfigError> {
        let users = if cli.numeric {
            UserSource::Numeric
        } else if let Some(path) = &cli.passwd {
            UserSource::from_passwd_file(path)?
        } else {
            UserSource::System
        };
        let features = crate::features::FeatureConfig::from_args(&cli.features)?;
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
            line_buffered: std::io::stdout().is_terminal(),
            features,
        })
    }
}
