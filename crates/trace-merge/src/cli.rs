//! The command line, as clap sees it. Only parsing and help text live here; [`crate::config`]
//! turns a [`Cli`] into a validated [`crate::config::Config`] before any work starts.

use clap::Parser;
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Examples:
  trace-gen -c 'ls /tmp' | trace-merge          live: each open is printed once it returns
  trace-merge saved.trace                       a trace saved earlier
  trace-merge --passwd web1-passwd web1.trace   name users as on the traced host
  trace-merge -n --unfinished saved.trace       uids only; also opens that never returned
  trace-merge web1.trace web2.trace             two hosts' traces, merged in time order
  trace-merge -x -c nginx saved.trace           failed opens of nginx only
  trace-merge -T -o pid,comm,path,errno,duration saved.trace    chosen columns, with time
  trace-merge --path '^/etc/' --min-duration 1ms saved.trace    slow opens under /etc
  trace-merge --sort duration -r --top 10 saved.trace           the ten slowest opens
  trace-merge --format json saved.trace | jq .path              JSON Lines (or --format csv)
  trace-merge --summary saved.trace             totals, p50/p90/p99, top paths, histogram
  trace-merge --summary-by comm saved.trace     one row per process name
  trace-merge --generate man > trace-merge.1    man page (or completions-bash|zsh|fish)

Output (the seed's format):
  OPEN root 3584 /tmp/not_exists => ERROR -2 [10.17 us]
  OPEN www-data 911 /etc/hosts => FD 3 [4.20 us]
  OPEN root 40 /var/log/app.log => UNFINISHED          (with --unfinished)

Escaping: paths and names are printed byte for byte (non-UTF-8 included), except what a
terminal would act on: \\n \\t \\r for those controls, \\xHH for other C0 bytes and DEL,
\\u{hhhh} for C1 controls (U+0080-U+009F) and bidi controls (U+200E U+200F U+202A-U+202E
U+2066-U+2069), and \\\\ for a backslash, so every backslash shown starts an escape.

Pairing is per thread (tid, else pid). Lines may arrive out of order (per-CPU buffers): a
return is paired with the latest earlier entry of its thread, and a return seen before its
entry waits --reorder-window (trace time) for it.

Problems in the input are counted, not fatal: malformed lines are shown as FILE:LINE (the
first 5) and skipped; a summary on stderr lists them, returns without entry, opens that
never returned, evictions, and events the tracer reported lost (the output is then
incomplete).

Exit status:
  0  all inputs were read (anomalies, if any, are reported on stderr)
  2  an input could not be read (the others are still processed), a malformed line with
     --strict, or a usage error
  A closed output (e.g. `| head -1`) ends the run quietly with status 0.
  Ctrl-C while reading a pipe (`trace-gen | trace-merge`): the first one lets trace-gen
  write out what its tracer still held, and trace-merge ends at the end of the pipe with
  status 0; a second Ctrl-C ends it at once with status 130.";

/// Pair, name, time and print the open() events traced by trace-gen.
///
/// Reads raw trace lines (entry `=> ...` and return `<= ...`, see trace-format's GRAMMAR.md)
/// from the files given, or from standard input, and prints one line per completed open.
#[derive(Debug, Parser)]
#[command(version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// Trace files to read; `-` or none means standard input. FIFOs work. Several files are
    /// merged in timestamp order while streaming (wall-clock order when each has a
    /// `# clock-offset-ns:` header); files with different `# host:` headers are paired apart.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Print numeric uids instead of user names.
    #[arg(short = 'n', long)]
    pub numeric: bool,

    /// Take user names from this passwd(5) file (e.g. the traced host's /etc/passwd) instead
    /// of this system's user database.
    #[arg(long, value_name = "FILE", conflicts_with = "numeric")]
    pub passwd: Option<PathBuf>,

    /// Also print opens that never returned, as `OPEN ... => UNFINISHED` (at the end of the
    /// input, or when the thread opened again).
    #[arg(long)]
    pub unfinished: bool,

    /// Stop at the first malformed line, with exit status 2.
    #[arg(long)]
    pub strict: bool,

    /// Most opens kept waiting for their return; beyond it the oldest is evicted and counted.
    /// Memory is about this many times the length of a path.
    #[arg(long, value_name = "N", default_value_t = 65_536)]
    pub max_pending: usize,

    /// How far out of order (in trace time) lines may arrive: a return seen before its entry
    /// waits this long for it, and an open replaced by a newer one of its thread is declared
    /// unfinished only after it. 0 trusts the input order. Units: ns, us, ms, s.
    #[arg(long, value_name = "DUR", default_value = "1s")]
    pub reorder_window: String,

    /// Filters, columns, formats, sorting and summaries (see `features`).
    #[command(flatten)]
    pub features: crate::features::FeatureArgs,
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
