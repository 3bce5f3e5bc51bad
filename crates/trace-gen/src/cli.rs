//! The command line, as clap sees it. Nothing here is trusted yet: [`crate::config`] turns a
//! [`Cli`] into a validated [`Config`](crate::config::Config) before any work starts.

use crate::backend::REGISTRY;
use crate::generate::Generate;
use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{ArgGroup, Parser, ValueEnum};

/// Generate and run SystemTap, DTrace and bpftrace probe scripts that trace open() calls.
///
/// Prints raw trace lines (see trace-format's GRAMMAR.md) on stdout, nothing else: pipe them
/// into trace-merge, or save them. Tracer messages go to stderr.
#[derive(Debug, Parser)]
#[command(
    name = "trace-gen",
    // The version and the git commit it was built from (build.rs).
    version = env!("TRACE_TOOLS_VERSION"),
    group(ArgGroup::new("tracer").args(["backend", "stap", "dtrace", "bpftrace"])),
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// The tracer, found where its variable says (below). Default on Linux: bpftrace when it
    /// is found, else SystemTap; DTrace on Solaris, illumos, FreeBSD and macOS.
    #[arg(long, value_name = "NAME", value_parser = backend_names())]
    pub backend: Option<String>,

    /// Use SystemTap: --backend systemtap.
    #[arg(short = 'S', long)]
    pub stap: bool,

    /// Use DTrace: --backend dtrace.
    #[arg(short = 'D', long)]
    pub dtrace: bool,

    /// Use bpftrace: --backend bpftrace.
    #[arg(short = 'B', long)]
    pub bpftrace: bool,

    /// Trace only this process (and, unless --no-follow, the children and threads it creates
    /// later). Repeatable: -p 10 -p 20.
    #[arg(short, long = "pid", value_name = "PID", conflicts_with = "command")]
    pub pid: Vec<u32>,

    /// Trace only processes of this real user, by name or number (0 to 4294967294). Combines
    /// with the other filters (all must match).
    #[arg(short, long, value_name = "UID|USER")]
    pub uid: Option<String>,

    /// Run CMD once the probes are attached, trace it and its descendants, and exit with its
    /// status. A simple command (plain words, no quoting, variables, globs, redirections or
    /// operators, the first word a program) is run directly; anything else with `sh -c`. With bpftrace, tracing goes on until the command and every
    /// descendant have exited, as `strace -f` does (see --stop-at-exit). Its standard output
    /// goes to trace-gen's standard error, so that standard output holds trace lines only.
    #[arg(short, long, value_name = "CMD")]
    pub command: Option<String>,

    /// With -c: stop tracing when the command itself exits, even if processes it started
    /// still run (a daemon that forks into the background never ends).
    #[arg(long)]
    pub stop_at_exit: bool,

    /// Trace only processes with this name (comm): 1 to 15 printable ASCII characters, no `"`
    /// or `\`.
    #[arg(short = 'n', long = "name", value_name = "COMM")]
    pub name: Option<String>,

    /// Trace only processes in this cgroup v2 group and every group below it, filtered in the
    /// kernel (bpftrace, DTrace for Linux). PATH is a directory under the cgroup2 mount
    /// (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host), absolute or relative to
    /// the mount, as /proc/PID/cgroup shows it (`--cgroup /system.slice/nginx.service`).
    /// Each open then carries its process's group (`cgroup: "/a/b"`, or `#ID` for a group
    /// removed before trace-gen named it). `--cgroup /` traces every process, each open with
    /// its group. Combines with the other filters.
    #[arg(long, value_name = "PATH")]
    pub cgroup: Option<std::ffi::OsString>,

    /// With -p or -c (required), trace only the given processes, not the children they
    /// create.
    #[arg(long)]
    pub no_follow: bool,

    /// bpftrace: do not resolve the file each open opened (no `resolved:`, except a failed
    /// absolute name): cheaper per open, since no path is walked or printed. Flags, mode,
    /// `via:` and `fault:` stay.
    #[arg(long)]
    pub no_resolve: bool,

    /// Per-CPU event buffer, in bytes (suffixes K, M, G; bpftrace rounds it up to a power of
    /// two pages). Too small a buffer loses events on a burst of opens; losses are reported
    /// as `# lost: N` lines. Default: 128M shared among the CPUs, at least 16M and at most 64M
    /// each (64M on 2 CPUs, 16M from 8 CPUs up). A burst of 200,000 opens by 4 threads on a
    /// 2-CPU machine lost nothing with 8M on a quiet machine, but with 16M on a busy one it
    /// lost a few thousand events about one time in four.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub buffer_size: Option<u64>,

    /// Print the generated script on stdout and the tracer's command line on stderr, and run
    /// nothing (needs no root).
    #[arg(long)]
    pub print_script: bool,

    /// The platform the script is for (DTrace dialect). Default: this host (Solaris 10 or 11
    /// from `uname -r`).
    #[arg(long, value_enum, value_name = "OS")]
    pub target_os: Option<TargetOsArg>,

    /// Print a man page or shell completions and exit: man, completions-bash,
    /// completions-zsh, completions-fish.
    #[arg(long, value_enum, value_name = "KIND", hide = true)]
    pub generate: Option<Generate>,
}

impl Cli {
    /// The backend named by `--backend` or by `-B`, `-S`, `-D` (at most one of them is
    /// given), as a [`REGISTRY`] name or alias.
    pub fn backend_name(&self) -> Option<&str> {
        if let Some(name) = &self.backend {
            return Some(name);
        }
        [
            (self.bpftrace, "bpftrace"),
            (self.stap, "systemtap"),
            (self.dtrace, "dtrace"),
        ]
        .into_iter()
        .find_map(|(given, name)| given.then_some(name))
    }
}

/// `--backend` takes the name or an alias of each registered backend.
fn backend_names() -> PossibleValuesParser {
    PossibleValuesParser::new(REGISTRY.iter().map(|r| {
        let help = match r.aliases {
            [] => r.about.to_owned(),
            aliases => format!("{}; also: {}", r.about, aliases.join(", ")),
        };
        PossibleValue::new(r.name).aliases(r.aliases).help(help)
    }))
}

/// `--target-os` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetOsArg {
    /// Solaris 10 (`open`, `open64`).
    Solaris10,
    /// Solaris 11 (`openat`, `openat64`).
    Solaris11,
    /// illumos (`openat`, `openat64`).
    Illumos,
    /// FreeBSD (`open`, `openat`).
    Freebsd,
    /// macOS (`open`, `open_nocancel`, `open_extended`, `openat`...).
    Macos,
    /// Linux (Oracle's DTrace for Linux).
    Linux,
}

const AFTER_HELP: &str = "\
Examples:
  sudo trace-gen -c 'cat /tmp/not_exists' | trace-merge
  sudo trace-gen -B -p 1234 -p 1235 > opens.trace
  sudo trace-gen -u www-data -n nginx | trace-merge
  sudo trace-gen --cgroup /system.slice/nginx.service | trace-merge --summary-by cgroup
  trace-gen --backend systemtap -c 'make' --print-script
  trace-gen --generate man > trace-gen.1    man page (or completions-bash|zsh|fish)

Exit status:
  0    -p: every traced process exited; --print-script, --generate
  N    with -c, the command's status (128+N when a signal N killed it), also when the
       trace's reader went away: `trace-gen -c ls 2>&1 | head -2` exits 141 because ls,
       writing into the same closed pipe, died of SIGPIPE (13), as `ls 2>&1 | head -2`
       reports in bash's PIPESTATUS; trace-gen's own closed output is a normal end (0)
  128+N  stopped by signal N: SIGINT (130), SIGTERM (143), SIGHUP (129). trace-gen drains the
       tracer (what it saw before the signal is written) and, with -c, passes the signal to
       the command (and its process group when trace-gen is not in a terminal's foreground:
       there the terminal signals them itself); the status is then the command's, 128+N when
       the signal killed it, 137 when it was still running 2 s after the drain and was
       killed. A second SIGINT ends trace-gen at once (130; SIGKILL to the command).
  3    the run would have ended with 0, but trace-gen could not confirm the trace is whole:
       a wait on the tracer passed its bound (its fence, 2 s without output; its drain after
       SIGINT, 5 s, after which it is killed). The trace and stderr say what is unconfirmed
       (`# incomplete: ...` lines). A tracer that does not attach within 60 s (SystemTap: 15
       min) is stopped, with status 1.
  1    the tracer cannot run or failed: missing, a *_PATH variable set to something that is
       not an executable file (BPFTRACE_PATH, STAP_PATH, DTRACE_PATH: never a fallback), not
       root, tracefs not mounted
  2    a usage error: a bad option or value, options that make no sense together (one line
       names them), -p 0 or a -p PID that is not a running process (gone, or a zombie), -p of a
       thread that is not its process's main thread (give the process id), -u 4294967295,
       a --cgroup PATH that is not a cgroup2 group, --cgroup with SystemTap

Containers: inside a PID namespace, bpftrace and SystemTap take (-p) and show the
namespace's pids (as ps there does) and trace only its processes; DTrace for Linux (its own
BEGIN probe never fires there) is refused. --cgroup PATH traces one cgroup v2 group and the groups below it,
tested in the kernel (bpftrace, DTrace for Linux), each open with its group (`cgroup:`, `#ID`
for a group gone before trace-gen named it). An open whose process was killed during the call gets `killed: SIGNO`
on its return line (bpftrace, DTrace for Linux).

Overhead: every open-family call in the system runs a small probe, even when filtered out;
bpftrace's per-CPU buffer is filled by the kernel and emptied by the tracer. bpftrace, and
DTrace on Linux, trace 32-bit (ia32) opens on x86_64 through raw_syscalls: a small probe then
runs on every system call of the machine while tracing (trace-gen says so at start-up).

Every open as the kernel saw it (bpftrace): each entry carries flags:, mode: (with O_CREAT
or O_TMPFILE), resolve: (openat2), via: (syscall, io_uring, handle) and fault: (an unreadable
name); each return resolved:, the file opened as readlink /proc/PID/fd/N shows it (walked
from the kernel's structures, as the process sees it from its root), or for a failure the
dirfd's or cwd's path joined with the name. io_uring opens and open_by_handle_at are traced.
What bpftrace cannot show (files the kernel names itself, such as pipe:[N]; paths of more
than 160 pieces; io_uring opens refused at prep; direct-descriptor io_uring opens) is said at
start-up. --no-resolve leaves the walk out, for a cheaper probe.";

/// A usage error of clap as one line naming the options: its message (with the possible
/// values, when it lists them), without the usage block and the tips.
pub fn one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let message: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    format!("{message} (see trace-gen --help)")
}

/// Parses `4096`, `64K`, `4M`, `1G` (powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let (digits, mult) = match s.char_indices().last() {
        Some((i, 'K' | 'k')) => (&s[..i], 1u64 << 10),
        Some((i, 'M' | 'm')) => (&s[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size (a number, optionally followed by K, M or G)"))?;
    match n.checked_mul(mult) {
        Some(0) => Err("the buffer size must be at least 1 byte".to_owned()),
        Some(v) if v <= 1 << 32 => Ok(v),
        _ => Err(format!("{s} is too large (at most 4G per CPU)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("4M"), Ok(4 << 20));
        assert!(parse_size("0").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("5G").is_err());
        assert!(parse_size("M").is_err());
    }

    fn backend(args: &[&str]) -> Option<String> {
        let cli = Cli::try_parse_from(std::iter::once("trace-gen").chain(args.iter().copied()));
        cli.unwrap().backend_name().map(str::to_owned)
    }

    #[test]
    fn backend_by_name_alias_or_letter() {
        assert_eq!(
            backend(&["--backend", "bpftrace"]).as_deref(),
            Some("bpftrace")
        );
        assert_eq!(backend(&["--backend", "stap"]).as_deref(), Some("stap"));
        assert_eq!(backend(&["--backend=dtrace"]).as_deref(), Some("dtrace"));
        assert_eq!(backend(&["-B"]).as_deref(), Some("bpftrace"));
        assert_eq!(backend(&["-S"]).as_deref(), Some("systemtap"));
        assert_eq!(backend(&["--dtrace"]).as_deref(), Some("dtrace"));
        assert_eq!(backend(&[]), None);
        let err = Cli::try_parse_from(["trace-gen", "--backend", "perf"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("[possible values: bpftrace, systemtap, dtrace]"),
            "{err}"
        );
    }

    #[test]
    fn usage_errors_are_one_line_naming_the_options() {
        let err = |args: &[&str]| {
            one_line(
                &Cli::try_parse_from(std::iter::once("trace-gen").chain(args.iter().copied()))
                    .unwrap_err(),
            )
        };
        assert_eq!(
            err(&["-p", "1", "-c", "ls"]),
            "the argument '--pid <PID>' cannot be used with '--command <CMD>' (see trace-gen --help)"
        );
        assert_eq!(
            err(&["--backend", "perf"]),
            "invalid value 'perf' for '--backend <NAME>' [possible values: bpftrace, systemtap, \
             dtrace] (see trace-gen --help)"
        );
        assert!(!err(&["-x"]).contains('\n'));
    }

    #[test]
    fn backends_are_exclusive_and_p_conflicts_with_c() {
        assert!(Cli::try_parse_from(["trace-gen", "-S", "-B"]).is_err());
        assert!(Cli::try_parse_from(["trace-gen", "-D", "-S"]).is_err());
        assert!(Cli::try_parse_from(["trace-gen", "--backend", "stap", "-S"]).is_err());
        assert!(Cli::try_parse_from(["trace-gen", "-B", "--backend", "bpftrace"]).is_err());
        assert!(Cli::try_parse_from(["trace-gen", "-p", "1", "-c", "ls"]).is_err());
        assert!(Cli::try_parse_from(["trace-gen", "-p", "x"]).is_err());
        assert!(Cli::try_parse_from(["trace-gen", "-p", "-3"]).is_err());
        let cli = Cli::try_parse_from(["trace-gen", "-p", "1", "-p", "2", "-u", "0"]).unwrap();
        assert_eq!(cli.pid, vec![1, 2]);
    }
}
