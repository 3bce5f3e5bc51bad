//! A progress bar on stderr for long runs over big trace files.
//!
//! Shown only when all of these hold: the input is a regular file of at least
//! [`MIN_BYTES`] (its size gives the bar an end); stderr is a terminal (never in a pipe, a
//! log or CI); and the bar would not fight with the output for the same screen: stdout is not
//! a terminal, or nothing is printed before the end (`--summary`, `--sort`).
//!
//! The reading loop calls [`Progress::advance`] per line; it only adds to a counter and
//! touches the bar once per [`STEP`] bytes, so the cost is nil when hidden and small when shown.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Smaller files are read in well under a second: no bar.
pub const MIN_BYTES: u64 = 8 << 20;

/// Bytes between two updates of the bar.
pub const STEP: u64 = 1 << 20;

/// Whether a bar is wanted; see the module documentation.
pub fn wanted(
    file_len: Option<u64>,
    stderr_is_terminal: bool,
    output_on_screen_while_reading: bool,
) -> bool {
    matches!(file_len, Some(len) if len >= MIN_BYTES)
        && stderr_is_terminal
        && !output_on_screen_while_reading
}

/// The bar of one input file (or none).
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    pending: u64,
}

impl Progress {
    /// No bar.
    pub fn hidden() -> Progress {
        Progress {
            bar: None,
            pending: 0,
        }
    }

    /// A bar for a file of `len` bytes named `name`, drawn on stderr. Drawn unconditionally
    /// (indicatif's own stderr target would hide itself off a terminal): [`wanted`] alone
    /// decides, so its tests are the ones that matter.
    pub fn new(name: &str, len: u64) -> Progress {
        let stderr = Box::new(console::Term::buffered_stderr());
        let target = ProgressDrawTarget::term_like_with_hz(stderr, 20);
        let bar = ProgressBar::with_draw_target(Some(len), target);
        let style = ProgressStyle::with_template(
            "{prefix} [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(name.to_string());
        Progress {
            bar: Some(bar),
            pending: 0,
        }
    }

    /// A bar for `path` when [`wanted`]; hidden otherwise.
    pub fn for_file(
        path: &std::path::Path,
        stderr_is_terminal: bool,
        output_on_screen_while_reading: bool,
    ) -> Progress {
        let len = std::fs::metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        match len {
            Some(len)
                if wanted(
                    Some(len),
                    stderr_is_terminal,
                    output_on_screen_while_reading,
                ) =>
            {
                // The file name only: the bar fits the terminal's width.
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                Progress::new(&name, len)
            }
            _ => Progress::hidden(),
        }
    }

    /// True when a bar is drawn.
    #[cfg(test)]
    pub fn is_shown(&self) -> bool {
        self.bar.is_some()
    }

    /// `bytes` more were read (a line and its newline).
    #[inline]
    pub fn advance(&mut self, bytes: u64) {
        if let Some(bar) = &self.bar {
            self.pending += bytes;
            if self.pending >= STEP {
                bar.inc(self.pending);
                self.pending = 0;
            }
        }
    }

    /// Removes the bar, before the end-of-run report is written to stderr.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.inc(self.pending);
            bar.finish_and_clear();
        }
    }

    /// Bytes counted so far (for tests).
    #[cfg(test)]
    pub fn position(&self) -> u64 {
        self.bar.as_ref().map_or(0, |b| b.position() + self.pending)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_big_files_on_a_terminal_without_competing_output() {
        assert!(wanted(Some(MIN_BYTES), true, false));
        assert!(!wanted(Some(MIN_BYTES - 1), true, false));
        assert!(!wanted(None, true, false), "stdin: no size, no bar");
        assert!(
            !wanted(Some(1 << 30), false, false),
            "stderr not a terminal"
        );
        assert!(
            !wanted(Some(1 << 30), true, true),
            "output scrolling on the same screen"
        );
    }

    #[test]
    fn for_file_is_hidden_for_small_or_missing_files() {
        let dir = std::env::temp_dir().join(format!("trace-merge-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let small = dir.join("small.trace");
        std::fs::write(&small, b"=> uid: 0 pid: 1 open: /x 1\n").unwrap();
        assert!(!Progress::for_file(&small, true, false).is_shown());
        assert!(!Progress::for_file(&dir.join("missing"), true, false).is_shown());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn counts_in_steps() {
        // Drawn to a hidden target so the test prints nothing.
        let mut progress = Progress {
            bar: Some(ProgressBar::hidden()),
            pending: 0,
        };
        for _ in 0..1000 {
            progress.advance(100);
        }
        assert_eq!(progress.position(), 100_000);
        progress.advance(STEP);
        assert_eq!(progress.bar.as_ref().unwrap().position(), 100_000 + STEP);
        let mut hidden = Progress::hidden();
        hidden.advance(5);
        assert_eq!(hidden.position(), 0);
    }
}
