//! trace-merge: pair, name, time and print the open() events traced by trace-gen.
//!
//! A thin shell: parse the command line, validate it, run, map the result to an exit status.

use clap::Parser;
use std::process::ExitCode;
use trace_merge::cli::Cli;
use trace_merge::config::Config;
use trace_merge::error::Error;

fn main() -> ExitCode {
    let result = Config::from_cli(Cli::parse())
        .map_err(Error::from)
        .and_then(|cfg| trace_merge::run::run(&cfg));
    match result {
        Ok(outcome) if outcome.input_failed => ExitCode::from(2),
        Ok(_) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trace-merge: {e}");
            ExitCode::from(2)
        }
    }
}
