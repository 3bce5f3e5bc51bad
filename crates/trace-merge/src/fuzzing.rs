//! The whole trace-merge pipeline on bytes in memory, for the fuzz targets (`fuzz/`) and the
//! hostile-input tests: the same command-line parsing, validation, reading, pairing, output and
//! report as the binary, with stdout and stderr captured instead of printed.
//!
//! The inputs are written to files in a private temporary directory first, so the run goes
//! through [`crate::input::open`] and [`crate::run::run_with`] exactly as a run on saved traces
//! does (one input: the single-file path; several: the merged path).

use crate::cli::Cli;
use crate::config::Config;
use crate::run::{run_with, Outcome};
use clap::Parser;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// What one in-memory run produced.
#[derive(Debug)]
pub struct MergeRun {
    /// Everything the run wrote on its standard output.
    pub stdout: Vec<u8>,
    /// Messages and the end-of-run report.
    pub stderr: Vec<u8>,
    /// How it ended: the counts, or the error `main` would print (usage errors included).
    pub outcome: Result<Outcome, String>,
}

/// Runs `trace-merge ARGS FILE...` where each FILE holds one of `inputs`. `args` are options
/// only (e.g. `["-N", "--format", "json"]`); no input means an empty stdin is not read: give
/// at least one input.
pub fn merge_bytes(inputs: &[&[u8]], args: &[&str]) -> io::Result<MergeRun> {
    // One directory per thread, made once and reused: a fuzzer calls this thousands of times
    // a second, and creating and removing a directory each time would dominate. The files
    // are removed after each run; the directory lives in `$TMPDIR` (scripts/fuzz.sh points
    // it at its own scratch directory).
    thread_local! {
        static DIR: std::cell::OnceCell<PathBuf> = const { std::cell::OnceCell::new() };
    }
    static THREADS: AtomicU64 = AtomicU64::new(0);
    let dir = DIR.with(|d| {
        d.get_or_init(|| {
            std::env::temp_dir().join(format!(
                "trace-merge-fuzzing-{}-{}",
                std::process::id(),
                THREADS.fetch_add(1, Ordering::Relaxed)
            ))
        })
        .clone()
    });
    std::fs::create_dir_all(&dir)?;
    let result = run_in(&dir, inputs, args);
    for i in 0..inputs.len() {
        let _ = std::fs::remove_file(dir.join(format!("input-{i}.trace")));
    }
    result
}

fn run_in(dir: &std::path::Path, inputs: &[&[u8]], args: &[&str]) -> io::Result<MergeRun> {
    let mut paths: Vec<PathBuf> = Vec::with_capacity(inputs.len());
    for (i, bytes) in inputs.iter().enumerate() {
        let path = dir.join(format!("input-{i}.trace"));
        std::fs::write(&path, bytes)?;
        paths.push(path);
    }
    let argv = std::iter::once("trace-merge".into())
        .chain(args.iter().map(Into::into))
        .chain(paths.iter().map(|p| p.clone().into_os_string()))
        .collect::<Vec<std::ffi::OsString>>();
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            return Ok(MergeRun {
                stdout,
                stderr,
                outcome: Err(e.to_string()),
            })
        }
    };
    let mut cfg = match Config::from_cli(cli) {
        Ok(cfg) => cfg,
        Err(e) => {
            return Ok(MergeRun {
                stdout,
                stderr,
                outcome: Err(e.to_string()),
            })
        }
    };
    // Output to memory, as to a file: no terminal layout, no flush per line.
    cfg.stdout_terminal = false;
    let outcome = run_with(&cfg, &mut stdout, &mut stderr);
    Ok(MergeRun {
        stdout,
        stderr,
        outcome: outcome.map_err(|e| e.to_string()),
    })
}
