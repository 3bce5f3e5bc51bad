//! Every way trace-gen can fail, each with a message that names the flag or the fix.

use std::path::PathBuf;

/// A trace-gen error. Usage errors (bad flag values) exit 2, the rest 1.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `-u` named a user that does not exist.
    #[error("-u {0}: no such user (give a user name or a numeric uid)")]
    UnknownUser(String),
    /// `-u` gave a number that is not a uid.
    #[error("-u {0}: not a valid uid (0 to 4294967294; 4294967295 is (uid_t)-1, no user)")]
    BadUid(String),
    /// `-p` gave a pid that is not a running process.
    #[error("-p {pid}: {why}")]
    BadPid {
        /// What was given.
        pid: u32,
        /// What is wrong with it.
        why: &'static str,
    },
    /// `-p` gave a thread id that is not its process's id.
    #[error("-p {tid}: a thread of process {pid}, not a process: give -p {pid} (trace-gen traces whole processes, every thread of them)")]
    ThreadNotProcess {
        /// What was given.
        tid: u32,
        /// Its process.
        pid: u32,
    },
    /// `--cgroup` does not name a cgroup2 group.
    #[error("--cgroup {path}: {why}")]
    BadCgroup {
        /// What was given.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// The kernel's `struct cgroup` cannot be read (no BTF, an unknown layout).
    #[error("--cgroup: {0}")]
    CgroupLayout(String),
    /// Options that make no sense together (or one without the option it needs).
    #[error("{options}: {why}")]
    BadCombination {
        /// The options, as typed (`--no-follow without -p or -c`).
        options: &'static str,
        /// Why it is refused.
        why: &'static str,
    },
    /// A `*_PATH` variable is set, but not to an executable file: never a fallback.
    #[error("{var}={path}: {why} (set {var} to the tracer's binary, or unset it to use {default})", path = .path.display(), default = .default.display())]
    BadPathVariable {
        /// BPFTRACE_PATH, STAP_PATH, DTRACE_PATH.
        var: &'static str,
        /// Its value.
        path: PathBuf,
        /// no such file, not executable...
        why: &'static str,
        /// What is used when it is not set.
        default: PathBuf,
    },
    /// `-n` is not a name every dialect can hold.
    #[error("-n {name:?}: a process name {why}")]
    BadComm {
        /// What was given.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// No backend flag, and none is standard here.
    #[error("no tracer is standard on this platform: choose one with --backend (bpftrace, systemtap or dtrace; or -B, -S, -D)")]
    NoDefaultBackend,
    /// The tracer binary cannot be found.
    #[error("{tracer} not found at {path}: {hint}")]
    TracerMissing {
        /// bpftrace, stap, dtrace.
        tracer: &'static str,
        /// Where it was looked for.
        path: PathBuf,
        /// How to install it, or the variable to set.
        hint: String,
    },
    /// Tracing needs root.
    #[error("{0} needs root to load probes: run trace-gen with sudo (or use --print-script to see the script)")]
    NotRoot(&'static str),
    /// bpftrace needs the tracepoints in tracefs.
    #[error("tracefs is not mounted, so the syscall tracepoints cannot be found: run `mount -t tracefs nodev /sys/kernel/tracing` as root")]
    NoTracefs,
    /// A system call or I/O step failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// SystemTap's runtime does not compile for this kernel: it calls `task_work_cancel()`
    /// as it was before the kernel changed its argument (Debian 12's 6.1.y, Linux 6.11+).
    #[error("stap could not build its module: SystemTap's runtime predates this kernel's task_work_cancel() (now task_work_cancel_func()); make a patched copy with scripts/guest/patched-runtime.sh and set SYSTEMTAP_RUNTIME to the directory it prints")]
    StapRuntimeTooOld,
    /// The tracer cannot do what was asked here.
    #[error("{tracer}: {why}")]
    Unsupported {
        /// bpftrace, stap, dtrace.
        tracer: &'static str,
        /// Why, and what to do instead.
        why: String,
    },
    /// The tracer did not attach its probes within its bound: it was stopped.
    #[error("{tracer} did not attach its probes within {secs} s, and was stopped (nothing was traced; a -c command was not started)")]
    AttachTimeout {
        /// bpftrace, stap, dtrace.
        tracer: &'static str,
        /// The bound.
        secs: u64,
    },
    /// The tracer exited with an error (its stderr was shown as it came).
    #[error("{tracer} failed ({status}){}", stderr_tail(.stderr))]
    TracerFailed {
        /// bpftrace, stap, dtrace.
        tracer: &'static str,
        /// How it ended.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
}

/// The tracer's stderr was shown live, line by line, prefixed with its name: point there
/// rather than print it twice.
fn stderr_tail(stderr: &str) -> String {
    if stderr.trim().is_empty() {
        " without a message".to_owned()
    } else {
        "; its messages are above, prefixed with its name".to_owned()
    }
}

/// How a process ended, for messages: `exited with status 3`, `was killed by signal 9`.
pub fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exited with status {c}"),
        (None, Some(s)) => format!("was killed by signal {s}"),
        _ => "ended".to_owned(),
    }
}

impl Error {
    /// Wraps an I/O error with what was being done.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    /// The process exit code for this error (the list is in `--help`).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::UnknownUser(_)
            | Error::BadUid(_)
            | Error::BadPid { .. }
            | Error::ThreadNotProcess { .. }
            | Error::BadCombination { .. }
            | Error::BadCgroup { .. }
            | Error::BadComm { .. }
            | Error::NoDefaultBackend => 2,
            _ => 1,
        }
    }

    /// Whether this is a broken pipe on our output (a quiet exit 0).
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}
