//! trace-gen: Generate and run SystemTap, DTrace and bpftrace probe scripts that trace open() calls.
use clap::Parser;

/// Generate and run SystemTap, DTrace and bpftrace probe scripts that trace open() calls.
#[derive(Parser)]
#[command(version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
