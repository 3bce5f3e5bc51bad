//! trace-merge: pair, name, time and print the open() events traced by trace-gen.
//!
//! A thin shell: parse the command line, validate it, run, map the result to an exit status.

use clap::Parser;
use std::process::ExitCode;
use trace_merge::cli::Cli;
use trace_merge::config::Config;
use trace_merge::error::Error;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(what) = cli.generate {
        use clap::CommandFactory;
        let out = &mut std::io::stdout().lock();
        return match trace_merge::generate::generate(what, Cli::command(), out) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                eprintln!("trace-merge: --generate: {e}");
                ExitCode::from(2)
            }
            _ => ExitCode::SUCCESS,
        };
    }
    let result = Config::from_cli(cli).map_err(Error::from).and_then(|cfg| {
        trace_merge::interrupt::defer_sigint_for_pipes(&cfg.inputs);
        trace_merge::run::run(&cfg)
    });
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
