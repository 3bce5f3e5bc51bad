//! trace-merge: Pair, name, time and print the open() events traced by trace-gen.
use clap::Parser;

/// Pair, name, time and print the open() events traced by trace-gen.
#[derive(Parser)]
#[command(version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
