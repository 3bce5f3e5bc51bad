//! Ctrl-C in a live pipeline, `trace-gen ... | trace-merge`: the terminal sends SIGINT to both.
//! trace-gen then stops its tracer and writes out every event still in the tracer's buffers;
//! if trace-merge died at once, those events (often the last, most interesting ones) would
//! be lost. So while trace-merge reads a pipe it lets the first SIGINT pass and ends at the
//! pipe's end of file instead; a second SIGINT ends it at once (status 130).
//!
//! A file or a terminal on stdin keeps the default behaviour: nothing upstream to wait for.

use crate::input::InputSpec;
use std::os::unix::fs::FileTypeExt;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Installs the SIGINT handling described above when one of `inputs` is stdin and stdin is a
/// pipe or FIFO. Failure to install leaves the default behaviour, which is still correct.
pub fn defer_sigint_for_pipes(inputs: &[InputSpec]) {
    if !inputs.iter().any(|i| matches!(i, InputSpec::Stdin)) || !stdin_is_pipe() {
        return;
    }
    let seen = Arc::new(AtomicBool::new(false));
    // Order matters: the conditional shutdown checks the flag before the second handler sets it.
    let _ = signal_hook::flag::register_conditional_shutdown(
        signal_hook::consts::SIGINT,
        130,
        Arc::clone(&seen),
    );
    let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, seen);
}

fn stdin_is_pipe() -> bool {
    std::fs::metadata("/dev/stdin").is_ok_and(|m| m.file_type().is_fifo())
}
