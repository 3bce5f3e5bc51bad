//! The command line, as clap sees it. Only parsing and help text live here; [`crate::config`]
//! turns a [`Cli`] into a validated [`crate::config::Config`] before any work starts.

use clap::{Parser, ValueEnum};

use crate::generate::Generate;
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Examples:
  trace-gen -c 'ls /tmp' | trace-merge          live: each open is printed once it returns
  trace-merge saved.trace                       a trace saved earlier
  trace-merge --passwd web1-passwd web1.trace   name users as on the traced host
  trace-merge -N --unfinished saved.trace       uids only; also opens that never returned
  trace-merge web1.trace web2.trace             two hosts' traces, merged in time order
  trace-merge -x -n nginx saved.trace           failed opens of nginx only
  trace-merge -T -o pid,comm,path,errno,duration saved.trace    chosen columns, with time
  trace-merge --path '^/etc/' --min-duration 1ms saved.trace    slow opens under /etc
  trace-merge --sort duration -r --top 10 saved.trace           the ten slowest opens
  trace-merge --format json saved.trace | jq .path              JSON Lines (or --format csv)
  trace-merge --summary saved.trace             totals, p50/p90/p99, top paths, histogram
  trace-merge --summary-by comm saved.trace     one row per process name
  trace-merge -F saved.trace                    the resolved path in place of the argument
  trace-merge --path '^/etc/' saved.trace       opens of files under /etc, however named
                                                (cd /etc; cat passwd is caught)
  trace-merge --write -o pid,comm,flags,mode,resolved saved.trace   opens that can write
  trace-merge --cgroup '^/system.slice/nginx' --summary-by path saved.trace
  trace-merge --summary-by cgroup saved.trace   one row per cgroup (--summary-by via: per
                                                syscall / io_uring / handle)
  trace-merge --generate man > trace-merge.1    man page (or completions-bash|zsh|fish)

Output (the standard text format, as the seed printed it):
  OPEN root 3584 /tmp/not_exists => ERROR -2 [10.17 us]
  OPEN www-data 911 /etc/hosts => FD 3 [4.20 us]
  OPEN root 40 /var/log/app.log => UNFINISHED          (with --unfinished)
  OPEN root 41 /tmp/fifo => RESTARTED ERESTARTSYS [1.20 s]   (a signal interrupted it)
  OPEN root 42 /tmp/fifo => KILLED SIGKILL [2.00 s]    (killed in the call: never returned)
  OPEN root 43 \\<unreadable 0x1> => ERROR -14 [900.00 ns]  (the path pointer was unreadable)

Traces of grammar version 2 may say more about each open: its resolved path, flags,
resolve flags, mode, how it was opened (via), an unreadable pointer (fault), the cgroup,
and whether the process was killed in the call. These are the columns resolved, full_path,
flags, resolve, mode, via, fault, cgroup, killed (-o, --sort, CSV) and JSON keys of the
same names (present only when the trace gave them: an old trace prints exactly as before).
--path, --summary and -F use the resolved path when the trace has one.

Escaping: paths and names are printed as they are (UTF-8 text, accents, CJK and emoji
included), except what a terminal would act on: \\n \\t \\r for those controls, \\xHH for
other C0 bytes and DEL, \\u{hhhh} for C1 controls (U+0080-U+009F) and bidi controls (U+200E
U+200F U+202A-U+202E U+2066-U+2069), \\xHH for each byte that is not part of valid UTF-8
(a lone 0x9b is the 8-bit CSI), and \\\\ for a backslash, so every backslash shown starts an
escape. JSON keeps the exact bytes in path_b64; CSV in a pipe keeps them raw.

Pairing is per thread (tid, else pid). Lines may arrive out of order (per-CPU buffers): a
return is paired with the latest earlier entry of its thread, and a return seen before its
entry waits --reorder-window (trace time) for it.

Problems in the input are counted, not fatal: malformed lines are shown as FILE:LINE (the
first 5) and skipped; a summary on stderr lists them, returns without entry, opens that
never returned, evictions, and events the tracer reported lost (the output is then
incomplete).

Exit status:
  0  all inputs were read (anomalies, if any, are reported on stderr)
  2  an input could not be read (the others are still processed), the output could not be
     written (e.g. a full disk), a malformed line with --strict, or a usage error (including
     -u with a user name the user database, or the --passwd file, does not know), or a
     --heatmap FILE that is an input or an existing file that is not a heat map (no --force)
  A closed output (e.g. `| head -1`) ends the run quietly with status 0.
  Ctrl-C while reading a pipe (`trace-gen | trace-merge`): the first one lets trace-gen
  write out what its tracer still held, and trace-merge ends at the end of the pipe with
  status 0; a second Ctrl-C ends it at once with status 130.";

/// Pair, name, time and print the open() events traced by trace-gen.
///
/// Reads raw trace lines (entry `=> ...` and return `<= ...`, see trace-format's GRAMMAR.md)
/// from the files given, or from standard input, and prints one line per completed open.
#[derive(Debug, Parser)]
// The version and the git commit it was built from (build.rs).
#[command(version = env!("TRACE_TOOLS_VERSION"), about, after_help = AFTER_HELP)]
pub struct Cli {
    /// Trace files to read; `-` or none means standard input. FIFOs work. Several files are
    /// merged in timestamp order while streaming (wall-clock order when each has a
    /// `# clock-offset-ns:` header); files with different `# host:` headers are paired apart.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Print numeric uids instead of user names.
    #[arg(short = 'N', long)]
    pub numeric: bool,

    /// Take user names from this passwd(5) file (e.g. the traced host's /etc/passwd) instead
    /// of this system's user database. At most 16 MiB, lines of at most 64 KiB (exit status
    /// 2 past that).
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

    /// Keep opens of these process ids (repeat or comma-separate for several).
    #[arg(
        short = 'p',
        long = "pid",
        value_name = "PID",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub pids: Vec<u32>,

    /// Keep opens of these thread ids (the pid when the trace has no tids).
    #[arg(
        short = 't',
        long = "tid",
        value_name = "TID",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub tids: Vec<u32>,

    /// Keep opens of these users: a uid, or a name (resolved like the output, so --passwd
    /// applies; a name it does not know is an error, exit 2). As trace-gen's -u.
    #[arg(
        short = 'u',
        long = "user",
        visible_alias = "uid",
        value_name = "UID|USER",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub users: Vec<String>,

    /// Keep opens of processes with this exact name (a name longer than the kernel's 15 bytes
    /// matches its first 15). As trace-gen's -n.
    #[arg(
        short = 'n',
        long = "comm",
        visible_alias = "name",
        value_name = "COMM",
        help_heading = "Filters"
    )]
    pub comms: Vec<String>,

    /// Not an option of trace-merge: `-c` is trace-gen's command. Refused with a pointer to
    /// -n/--comm, which used to be -c here.
    #[arg(short = 'c', value_name = "COMM", hide = true)]
    pub old_comm: Option<String>,

    /// Keep only failed opens (negative return). An open a signal interrupted (shown
    /// `RESTARTED ERESTARTSYS`, the kernel's -512..-516) is not a failure: it is left out.
    #[arg(short = 'x', long, conflicts_with = "ok", help_heading = "Filters")]
    pub failed: bool,

    /// Keep only successful opens.
    #[arg(long, help_heading = "Filters")]
    pub ok: bool,

    /// Keep opens whose path matches this regular expression (Rust regex syntax, searched
    /// anywhere in the path bytes: anchor with ^...$). The resolved path when the trace has
    /// one (so `cd /etc; cat passwd` matches '^/etc/'), else the path argument.
    #[arg(long = "path", value_name = "REGEX", help_heading = "Filters")]
    pub path: Option<String>,

    /// Keep opens whose path argument, as the program passed it (`passwd`, `../a/./b`),
    /// matches this regular expression.
    #[arg(long = "raw-path", value_name = "REGEX", help_heading = "Filters")]
    pub raw_path: Option<String>,

    /// Keep opens whose process's cgroup (v2 path, as in /proc/PID/cgroup) matches this
    /// regular expression; an open whose trace has no cgroup does not match.
    #[arg(long = "cgroup", value_name = "REGEX", help_heading = "Filters")]
    pub cgroup: Option<String>,

    /// Keep opens that can write or create a file: O_WRONLY, O_RDWR, O_CREAT, O_TRUNC,
    /// O_APPEND, O_TMPFILE. Opens whose trace has no flags cannot be classified: they are
    /// left out, and the run says how many on stderr.
    #[arg(long, help_heading = "Filters")]
    pub write: bool,

    /// Keep opens that took at least this long: 250ns, 10us, 1.5ms, 2s.
    #[arg(long, value_name = "DUR", help_heading = "Filters")]
    pub min_duration: Option<String>,

    /// Print these columns, in this order (comma-separated): time, user, uid, pid, tid, comm,
    /// path, result, ret, fd, errno, duration, duration_ns, host, and from version-2 traces
    /// resolved, full_path, flags, resolve, mode, via, fault, cgroup, killed (`-` when the
    /// trace does not say). Aligned under a header on a terminal, tab-separated otherwise.
    #[arg(
        short = 'o',
        long = "columns",
        value_name = "LIST",
        help_heading = "Output"
    )]
    pub columns: Option<String>,

    /// Add a time column (seconds since the first event; see --time).
    #[arg(short = 'T', long, help_heading = "Output")]
    pub timestamps: bool,

    /// Print the resolved path (the file the kernel opened) in place of the path argument,
    /// when the trace has one: in the text format, and as the path column of -o/-T.
    #[arg(short = 'F', long, help_heading = "Output")]
    pub full_path: bool,

    /// What the time column shows (implies -T).
    #[arg(long, value_enum, value_name = "MODE", help_heading = "Output")]
    pub time: Option<TimeArg>,

    /// Do not print the header row of columns, TSV or CSV.
    #[arg(long, help_heading = "Output")]
    pub no_header: bool,

    /// Output format.
    #[arg(
        long,
        value_enum,
        default_value_t,
        value_name = "FORMAT",
        help_heading = "Output"
    )]
    pub format: FormatArg,

    /// With --format csv, write text cells exactly as traced. By default a text cell (path,
    /// comm, user, errno, host, result) that begins with = + - @ TAB or CR gets a leading '
    /// so that a spreadsheet shows it instead of running it as a formula (OWASP's advice
    /// against CSV injection: file and process names come from whoever ran the traced
    /// programs). Numbers (a negative ret too) are never changed. JSON always keeps the bytes.
    #[arg(long, help_heading = "Output")]
    pub csv_raw: bool,

    /// Sort by these columns (comma-separated, most significant first; absent values last).
    /// Buffers the whole input before printing anything: the one mode that is not live.
    #[arg(
        long,
        value_name = "KEY[,KEY...]",
        help_heading = "Sorting and summaries"
    )]
    pub sort: Option<String>,

    /// Reverse the sort order.
    #[arg(
        short = 'r',
        long,
        requires = "sort",
        help_heading = "Sorting and summaries"
    )]
    pub reverse: bool,

    /// Print only the first N opens (after sorting), or N rows per summary table.
    #[arg(long, value_name = "N", help_heading = "Sorting and summaries")]
    pub top: Option<usize>,

    /// Print a summary instead of the opens: totals, latency p50/p90/p99/max (nearest-rank:
    /// exact up to 524,288 opens, within 0.05% past that), top paths and processes by count
    /// and by total time, failures by errno, a log2 latency histogram like bpftrace's hist().
    /// Bounded memory: past 2,048 paths or processes the busiest are kept (space-saving) and
    /// the error is printed.
    #[arg(long, help_heading = "Sorting and summaries")]
    pub summary: bool,

    /// Draw a latency heat map into this SVG file instead of printing the opens: time along x,
    /// latency up y in the log2 buckets of --summary's histogram, colour = opens per cell,
    /// failed opens in a second panel; a tooltip per cell. Filters apply. Bounded memory.
    /// The file is written at the end, through a temporary file renamed over it: never one
    /// of the inputs, and an existing file only when it is a heat map (or with --force).
    #[arg(long, value_name = "FILE.svg", help_heading = "Output")]
    pub heatmap: Option<PathBuf>,

    /// Let --heatmap replace an existing file that is not a heat map written by trace-merge.
    /// Without it such a file is left alone (exit status 2). An input is never replaced.
    #[arg(long, help_heading = "Output")]
    pub force: bool,

    /// Summarize grouped by one key (implies --summary).
    #[arg(long, value_name = "KEY", value_parser = ["path", "comm", "pid", "user", "errno", "cgroup", "via"], help_heading = "Sorting and summaries")]
    pub summary_by: Option<String>,

    /// Print a man page or shell completions and exit: man, completions-bash,
    /// completions-zsh, completions-fish, completions-elvish, completions-powershell.
    #[arg(long, value_enum, value_name = "KIND", hide = true)]
    pub generate: Option<Generate>,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum FormatArg {
    /// The standard `OPEN ...` lines, or columns with -o/-T.
    #[default]
    Text,
    /// JSON Lines: one object per open (keys: ts uid user pid tid comm comm_b64 path
    /// path_b64 path_truncated ret fd errno restarted duration_ns host; null when absent). A path that is
    /// not UTF-8 is in path_b64 exactly (base64) and in path with U+FFFD replacements. Then,
    /// only when the trace gave them: resolved resolved_b64 flags resolve mode via fault
    /// cgroup cgroup_b64 killed.
    Json,
    /// RFC 4180 CSV with a header row; text cells that a spreadsheet would run as a formula
    /// start with ' (see --csv-raw).
    Csv,
    /// The Trace Event Format (one object, its traceEvents array) for Perfetto's UI
    /// (ui.perfetto.dev, Open trace file) and chrome://tracing: each open a complete event
    /// named by its path on its pid/tid track, in microseconds; args: ret, errno, comm, uid.
    // No double quote in a value's help: the fish and zsh completions would break (see
    // tests/options.rs, no_possible_value_help_breaks_the_shell_completions).
    Chrome,
}

/// `--time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum TimeArg {
    /// Seconds since the first event of the trace.
    #[default]
    Relative,
    /// Wall-clock time, UTC (needs `# clock-offset-ns:` or realtime timestamps; `?` otherwise).
    Absolute,
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
