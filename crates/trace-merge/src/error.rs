//! The errors that end a run (exit status 2), each naming the flag, file or line involved.

use crate::config::ConfigError;
use std::io;

/// A fatal error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag value was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `--strict` and a malformed line.
    #[error("{name}:{line}: {reason} (--strict)")]
    Strict {
        /// Input name.
        name: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// Writing the output failed (a broken pipe is handled by the caller as success).
    #[error("writing output: {0}")]
    Output(#[source] io::Error),
}

impl Error {
    /// True when the output was closed by the reader (`| head`): not an error for a filter.
    pub fn is_broken_pipe(&self) -> bool {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(e) = source {
            if let Some(io) = e.downcast_ref::<io::Error>() {
                if io.kind() == io::ErrorKind::BrokenPipe {
                    return true;
                }
            }
            source = e.source();
        }
        false
    }
}
