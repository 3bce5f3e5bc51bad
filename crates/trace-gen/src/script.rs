//! What a probe script must do, as plain typed values: the contract between the command line
//! (which validates user input into a [`ScriptSpec`]) and the backends (which render it).
//!
//! Every value here is already validated: ids are numbers, a comm name has passed
//! [`CommName::new`]. Backends render them as literals of their language and never paste
//! user text into code.

/// The line every backend's script prints once its probes are attached (a `# key: value`
/// header, so readers that see it ignore it). trace-gen consumes it, and only then starts a
/// `-c` command.
pub const ATTACHED_MARKER: &str = "# trace-gen: attached";

/// The line a script with a fence prints when trace-gen calls `getppid()` (see
/// [`Backend::has_fence`](crate::backend::Backend::has_fence)); consumed by trace-gen.
pub const FENCE_MARKER: &str = "# trace-gen: fence";

/// Which processes to trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every process on the system, except the tracer's and trace-gen's own.
    SystemWide {
        /// Pids to exclude (trace-gen itself; the tracer excludes itself by its own means).
        exclude: Vec<u32>,
    },
    /// The given processes (`-p`, repeatable), as literals in the script.
    Pids(Vec<u32>),
    /// The process trace-gen started for `-c CMD`. Its pid is not known when the script is
    /// generated; the backend reads it from the tracer's own target mechanism (stap `target()`
    /// with `-x PID`, DTrace `$target` with `-p PID`, bpftrace positional `$2`), so the script
    /// is the same whatever the pid, and `--print-script` shows exactly what runs.
    Command,
}

/// A process name for `-n`, validated so that it can be a string literal in every dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommName(String);

impl CommName {
    /// Accepts 1 to 15 bytes (Linux `TASK_COMM_LEN` - 1; longer never matches) of printable
    /// ASCII other than `"` and `\`, which then need no escaping in any of the three languages.
    pub fn new(name: &str) -> Result<CommName, &'static str> {
        if name.is_empty() {
            return Err("must not be empty");
        }
        if name.len() > 15 {
            return Err("is longer than 15 bytes, the kernel's limit for a process name");
        }
        if !name
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
        {
            return Err("may only hold printable ASCII characters other than '\"' and '\\'");
        }
        Ok(CommName(name.to_owned()))
    }

    /// The validated name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as a double-quoted string literal, the same in bpftrace, SystemTap and D.
    /// Validation already excludes `"`, `\` and control characters; they are escaped anyway
    /// (octal for any byte that is not printable ASCII), so that the literal stays one token
    /// whatever the validation.
    pub fn string_literal(&self) -> String {
        let mut lit = String::from("\"");
        for b in self.0.bytes() {
            match b {
                b'"' => lit.push_str("\\\""),
                b'\\' => lit.push_str("\\\\"),
                b' ' | 0x21..=0x7e => lit.push(char::from(b)),
                _ => lit.push_str(&format!("\\{b:03o}")),
            }
        }
        lit.push('"');
        lit
    }
}

/// Everything a backend needs to write a probe script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptSpec {
    /// Which processes.
    pub target: Target,
    /// Follow children and threads created later (`--no-follow` clears it).
    pub follow: bool,
    /// `-c` with `--stop-at-exit`: stop when the command itself exits, not when it and every
    /// descendant have (for daemons, whose descendants never end).
    pub stop_at_exit: bool,
    /// Resolve the file each open opened (`resolved:`; `--no-resolve` clears it). bpftrace
    /// only: the other backends do not resolve paths yet.
    pub resolve_paths: bool,
    /// `-u`: only this real uid.
    pub uid: Option<u32>,
    /// `-n`: only processes with this name.
    pub comm: Option<CommName>,
    /// `--cgroup`: only processes in this cgroup2 group or below it; each open then carries
    /// its process's group (`cgroup:`).
    pub cgroup: Option<crate::cgroup::CgroupFilter>,
    /// Per-CPU buffer size in bytes for the tracer's event buffer (`--buffer-size`).
    pub buffer_size: u64,
    /// The operating system (and so the DTrace dialect) the script is for (`--target-os`).
    pub target_os: TargetOs,
}

/// The platform a script is written for: it decides which system calls exist, how they name
/// their path argument, and how errors are returned. Only DTrace has several dialects; the
/// other backends are Linux-only and ignore it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetOs {
    /// Solaris 10: `open`/`open64`, path in `arg0`.
    Solaris10,
    /// Solaris 11: `openat`/`openat64`, path in `arg1`.
    Solaris11,
    /// illumos (OpenIndiana, SmartOS, OmniOS): like Solaris 11.
    Illumos,
    /// FreeBSD: `open` and `openat`.
    FreeBsd,
    /// macOS: `open`, `open_nocancel`, `open_extended` and the `openat` variants.
    MacOs,
    /// Linux (Oracle's DTrace for Linux, SystemTap, bpftrace).
    Linux,
}

impl TargetOs {
    /// The name used by `--target-os`.
    pub fn name(self) -> &'static str {
        match self {
            TargetOs::Solaris10 => "solaris10",
            TargetOs::Solaris11 => "solaris11",
            TargetOs::Illumos => "illumos",
            TargetOs::FreeBsd => "freebsd",
            TargetOs::MacOs => "macos",
            TargetOs::Linux => "linux",
        }
    }
}
