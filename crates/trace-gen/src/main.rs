//! trace-gen: generate and run SystemTap, DTrace and bpftrace probe scripts that trace
//! open() calls. This file only wires the command line to the library; see `run/mod.rs`.

#![forbid(unsafe_code)]

use clap::{CommandFactory, Parser};
use std::io::Write;
use std::process::ExitCode;
use trace_gen::{cli::Cli, config::Config, error::Error, run};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            eprintln!("trace-gen: {}", trace_gen::cli::one_line(&e));
            return ExitCode::from(2);
        }
    };
    if let Some(what) = cli.generate {
        let out = &mut std::io::stdout().lock();
        return match trace_gen::generate::generate(what, Cli::command(), out) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                eprintln!("trace-gen: --generate: {e}");
                ExitCode::from(2)
            }
            _ => ExitCode::SUCCESS,
        };
    }
    match try_main(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trace-gen: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn try_main(cli: Cli) -> Result<u8, Error> {
    let config = Config::from_cli(cli, |k| std::env::var_os(k))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    if config.print_script {
        run::print_script(&config, &mut out, &mut std::io::stderr())
            .map_err(|e| Error::io("writing the script to stdout", e))?;
        out.flush()
            .map_err(|e| Error::io("writing the script to stdout", e))?;
        return Ok(0);
    }
    run::run(&config, &mut out)
}
