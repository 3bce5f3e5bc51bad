//! One module per tracer, behind the [`Backend`] trait, and the [`REGISTRY`] that names them.
//!
//! A backend owns everything that differs between tracers: its names and where its binary
//! is, what it needs before it can run, the script in its language and how the tracer is
//! invoked on it, how each line it prints is read, and how its failure is explained. The
//! runner ([`crate::run`]) is the same for all of them.
//!
//! Adding a tracer: one file here implementing [`Backend`], and one [`Registration`] line in
//! [`REGISTRY`] (`--backend NAME` and the completions pick it up from there).

pub mod bpftrace;
pub mod dtrace;
pub mod stap;

use crate::error::{describe_status, Error};
use crate::script::{ScriptSpec, ATTACHED_MARKER, FENCE_MARKER};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

/// Reads an environment variable (the real environment in main, a map in tests).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// A dynamic tracer trace-gen can drive: its identity, its preflight, its script and command
/// line, the reading of its output, and the diagnosis of its failures.
pub trait Backend: std::fmt::Debug + Send + Sync {
    // --- Identity ---

    /// The name `--backend` takes (`bpftrace`, `systemtap`, `dtrace`).
    fn name(&self) -> &'static str;

    /// The tracer's program name: in messages, as the prefix of its stderr lines, and in the
    /// `# backend:` header when [`Backend::version`] has nothing better (`stap`).
    fn program(&self) -> &'static str;

    /// The variable that overrides the tracer's path (`BPFTRACE_PATH`).
    fn path_var(&self) -> &'static str;

    /// The tracer's binary when [`Backend::path_var`] is not set.
    fn default_path(&self, env: Env) -> PathBuf;

    /// How to install the tracer, for the "not found" message.
    fn install_hint(&self) -> &'static str;

    // --- Before the run ---

    /// What must hold before the tracer can run, once its binary was found: each failure is
    /// one error with its fix. By default: root.
    fn preflight(&self) -> Result<(), Error> {
        if !crate::sys::is_root() {
            return Err(Error::NotRoot(self.program()));
        }
        Ok(())
    }

    /// The tracer and its version, for the `# backend:` header. By default the program name.
    fn version(&self, _tracer: &Path) -> String {
        self.program().to_owned()
    }

    // --- The script and the invocation ---

    /// The probe script, exactly as the tracer will read it on its stdin.
    fn script(&self, spec: &ScriptSpec) -> String;

    /// The tracer's arguments (after the binary itself) to read the script from stdin.
    /// `target_pid` is the pid of the `-c` child, when there is one (`None` for
    /// `--print-script`, which shows a placeholder).
    fn args(&self, spec: &ScriptSpec, target_pid: Option<u32>) -> Vec<OsString>;

    /// Environment variables to set for the tracer (bpftrace takes its buffer and string
    /// sizes only this way). `--print-script` shows them before the command line.
    fn env(&self, _spec: &ScriptSpec) -> Vec<(OsString, OsString)> {
        Vec::new()
    }

    /// Why this tracer cannot run `spec` here (one line), if it cannot: trace-gen refuses at
    /// start-up rather than write a silently empty trace. By default it can.
    fn unsupported(&self, _spec: &ScriptSpec) -> Option<String> {
        None
    }

    /// A note trace-gen prints on stderr before tracing (what this tracer does not trace, or
    /// what it costs), if any.
    fn startup_note(&self, _spec: &ScriptSpec) -> Option<String> {
        None
    }

    /// How long the tracer may take to attach its probes before trace-gen gives up and
    /// stops it (a run always ends). By default 60 s.
    fn attach_bound(&self) -> std::time::Duration {
        std::time::Duration::from_secs(60)
    }

    // --- Reading the output ---

    /// Whether the script prints [`FENCE_MARKER`], a space and the CPU number when trace-gen
    /// itself calls `getppid()`. A tracer stopped by SIGINT may drop what is still in its
    /// buffers (bpftrace 0.17 does); with a fence, trace-gen calls `getppid()` on every CPU,
    /// reads on until the marker of each (so everything emitted before has been read), and
    /// only then stops the tracer.
    fn has_fence(&self) -> bool {
        false
    }

    /// How the tracer is ended once its fence proved that trace-gen has read everything it
    /// held ([`Ending`]). By default trace-gen interrupts it and waits for its exit.
    fn ending(&self) -> Ending {
        Ending::Wait
    }

    /// A stateful reader of the tracer's stdout, for a backend whose events are not trace
    /// lines as printed (bpftrace's JSON channel, with paths in chunks). `None` (the default):
    /// each line is read by [`Backend::classify`].
    fn decoder(&self) -> Option<Box<dyn Decoder>> {
        None
    }

    /// Whether the script reports the followed processes' forks and exits
    /// ([`Decoded::Fork`], [`Decoded::Exit`]) for `spec`: then trace-gen keeps the set of live
    /// followed processes and stops when it is empty, as `strace -f` does. Otherwise a `-c`
    /// run stops when the command exits.
    fn reports_processes(&self, _spec: &ScriptSpec) -> bool {
        false
    }

    /// What one line of the tracer's stdout (without its newline) is. By default
    /// [`classify_line`]; a backend adds its own lines (a lost-events report, say).
    fn classify<'a>(&self, line: &'a [u8]) -> TracerLine<'a> {
        classify_line(line)
    }

    /// What one line of the tracer's stderr is. By default every line is shown, and none
    /// counts as lost events.
    fn stderr_line(&self, _line: &str) -> StderrLine {
        StderrLine::Show
    }

    /// Events the tracer lost that can be known only once its output has ended and its
    /// stderr was read (a count the script reported, compared with what arrived). By default
    /// none.
    fn final_lost(&self) -> u64 {
        0
    }

    // --- Failure ---

    /// The one error for a tracer that failed (it ended before its probes were attached, or
    /// on its own), from how it ended and all it printed on stderr. By default
    /// [`Error::TracerFailed`], with the noise lines left out.
    fn diagnose(&self, status: ExitStatus, stderr: &str) -> Error {
        tracer_failed(self, status, stderr)
    }
}

/// [`Error::TracerFailed`] for `backend`: how it ended, and its stderr without the noise.
pub fn tracer_failed<B: Backend + ?Sized>(backend: &B, status: ExitStatus, stderr: &str) -> Error {
    Error::TracerFailed {
        tracer: backend.program(),
        status: describe_status(status),
        stderr: stderr
            .lines()
            .filter(|l| backend.stderr_line(l) != StderrLine::Noise)
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// What a tracer's stdout line is.
#[derive(Debug, PartialEq, Eq)]
pub enum TracerLine<'a> {
    /// An entry or return line, or a header the script printed: copied to the output.
    Trace(&'a [u8]),
    /// The script's "probes attached" line.
    Attached,
    /// The script's fence line, with the CPU it came from.
    Fence(u32),
    /// Events the tracer says it lost: a `# lost: N` line.
    Lost(u64),
    /// Empty: dropped (bpftrace and dtrace print some at exit).
    Blank,
    /// Anything else (`Attaching 9 probes...`, warnings): to stderr.
    Chatter(&'a [u8]),
}

/// What one line of a tracer's output was, once a [`Decoder`] read it.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// Zero or more trace lines were appended to the output (an open whose path comes in
    /// pieces is written once its last piece is read).
    Trace,
    /// The script's "probes attached" line.
    Attached,
    /// The script's fence line, with the CPU it came from.
    Fence(u32),
    /// Events the tracer says it lost: a `# lost: N` line.
    Lost(u64),
    /// Nothing to do (empty lines, the tracer's own bookkeeping).
    Blank,
    /// A followed process made a new process (not a thread).
    Fork {
        /// The process that forked (its thread group id).
        parent: u32,
        /// The new process.
        child: u32,
    },
    /// The last thread of a followed process exited.
    Exit(u32),
    /// A message of the tracer or the script (to stderr, prefixed with the program name).
    Chatter(Vec<u8>),
    /// A line that is none of the shapes the script and the tracer print: never copied,
    /// counted and reported.
    Malformed(String),
}

impl Decoded {
    /// A followed process's report as every backend's script prints it, `P fork PARENT CHILD`
    /// or `P exit PID` (decimal pids), or `None` when `text` is not one. A line that starts
    /// like one but has other fields is [`Decoded::Malformed`].
    pub fn process_report(text: &[u8]) -> Option<Decoded> {
        let pids = |rest: &[u8]| -> Option<Vec<u32>> {
            rest.split(|&b| b == b' ')
                .map(|f| {
                    let digits = !f.is_empty() && f.iter().all(u8::is_ascii_digit);
                    digits.then(|| std::str::from_utf8(f).ok()?.parse().ok())?
                })
                .collect()
        };
        if let Some(rest) = text.strip_prefix(b"P fork ") {
            return Some(match pids(rest).as_deref() {
                Some(&[parent, child]) => Decoded::Fork { parent, child },
                _ => Decoded::Malformed("a P fork line without two pids".to_owned()),
            });
        }
        let rest = text.strip_prefix(b"P exit ")?;
        Some(match pids(rest).as_deref() {
            Some(&[pid]) => Decoded::Exit(pid),
            _ => Decoded::Malformed("a P exit line without a pid".to_owned()),
        })
    }

    /// A line as [`Backend::classify`] saw it; a trace line is copied to `out`.
    pub fn classified(line: TracerLine<'_>, out: &mut Vec<u8>) -> Decoded {
        match line {
            TracerLine::Trace(l) => {
                out.extend_from_slice(l);
                out.push(b'\n');
                Decoded::Trace
            }
            TracerLine::Attached => Decoded::Attached,
            TracerLine::Fence(cpu) => Decoded::Fence(cpu),
            TracerLine::Lost(n) => Decoded::Lost(n),
            TracerLine::Blank => Decoded::Blank,
            TracerLine::Chatter(c) => Decoded::Chatter(c.to_vec()),
        }
    }
}

/// Reads a tracer's stdout line by line when [`Backend::classify`] is not enough: it may keep
/// state between lines (pieces of one event) and writes the trace lines itself.
pub trait Decoder: Send {
    /// Reads one line (without its newline), appending any trace lines it completes to `out`.
    fn line(&mut self, line: &[u8], out: &mut Vec<u8>) -> Decoded;

    /// The output has ended: writes what is still incomplete, marked as cut, and returns how
    /// many events were incomplete.
    fn finish(&mut self, out: &mut Vec<u8>) -> u64;
}

/// How a tracer with a fence is ended once every CPU's fence line was read: after that point
/// its output holds nothing the trace needs, and detaching its probes takes the kernel about
/// 60 ms each (an RCU grace period per tracepoint), a second or more that the user would
/// otherwise wait for (SystemTap's module unload: 1 to 3 s under emulation). Every other stop
/// (no fence, a fence that did not come back, our output gone) interrupts the tracer and waits
/// for it, within the stopper's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// SIGINT, repeated every 100 ms, and its output read to the end: trace-gen exits after
    /// the tracer (a tracer that reports something the trace needs only at its exit).
    Wait,
    /// SIGKILL, not waited for: every kernel object the tracer made is a file descriptor that
    /// the kernel releases at its exit (bpftrace's perf events, programs and maps).
    Kill,
    /// SIGINT once, not waited for: the tracer removes what it made in the kernel itself
    /// (DTrace's BEGIN and END uprobes; SystemTap's module, which stapio stops and unloads
    /// with `staprun -d`), so it runs with SIGPIPE ignored, for its writes to the pipes
    /// trace-gen closed not to kill it before that (killed by SIGPIPE, dtrace leaves its
    /// uprobes behind, and stapio its module loaded).
    Interrupt,
}

/// What a tracer's stderr line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StderrLine {
    /// Shown on trace-gen's stderr, prefixed with the program name.
    Show,
    /// Known noise on every run: neither shown nor quoted in a failure.
    Noise,
    /// Shown, and the tracer lost this many events (a tracer that reports drops on stderr,
    /// as DTrace's `N drops on CPU k`): the trace gets a `# lost: N` line.
    Lost(u64),
    /// A probe could not read the traced program's memory (DTrace's `error in dt_clause_N
    /// ...: invalid address (0x1)`: a program passed a bad path pointer, and its open fails
    /// with EFAULT). Counted, not shown: one note says how many when the tracer's stderr ends.
    Fault,
    /// Shown, and the tracer cannot go on (bpftrace's `Error loading program`: a program the
    /// kernel refused). The tracer is killed at once, so that the run ends with
    /// [`Backend::diagnose`]'s explanation instead of waiting for the attach bound.
    Fatal,
}

/// The lines every script prints: blank lines, [`ATTACHED_MARKER`], [`FENCE_MARKER`] and
/// its CPU, and trace lines (`=> `, `<= `, `#`); anything else is chatter. A `\r` before the
/// newline is dropped.
pub fn classify_line(line: &[u8]) -> TracerLine<'_> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return TracerLine::Blank;
    }
    if line == ATTACHED_MARKER.as_bytes() {
        return TracerLine::Attached;
    }
    if let Some(cpu) = line
        .strip_prefix(FENCE_MARKER.as_bytes())
        .and_then(|r| r.strip_prefix(b" "))
        .and_then(|n| std::str::from_utf8(n).ok())
        .and_then(|n| n.parse().ok())
    {
        return TracerLine::Fence(cpu);
    }
    if line.starts_with(b"=> ") || line.starts_with(b"<= ") || line.starts_with(b"#") {
        return TracerLine::Trace(line);
    }
    TracerLine::Chatter(line)
}

/// A backend in the registry: the name `--backend` takes, its other spellings, and how to
/// make it.
#[derive(Debug)]
pub struct Registration {
    /// The name (`--backend NAME`, and [`Backend::name`]).
    pub name: &'static str,
    /// Other accepted spellings.
    pub aliases: &'static [&'static str],
    /// One line for `--help` and the completions: the platforms, and where the tracer is
    /// found (the aliases are added).
    pub about: &'static str,
    /// Makes the backend (it may look at the machine, as bpftrace reads tracefs).
    pub make: fn() -> Box<dyn Backend>,
}

/// Every backend trace-gen has.
pub const REGISTRY: &[Registration] = &[
    Registration {
        name: "bpftrace",
        aliases: &["bt"],
        about: "bpftrace, Linux (BPFTRACE_PATH, else `bpftrace` from PATH)",
        make: || {
            Box::new(bpftrace::Bpftrace::detect(
                bpftrace::tracefs_events().as_deref(),
            ))
        },
    },
    Registration {
        name: "systemtap",
        aliases: &["stap"],
        about: "SystemTap, Linux (STAP_PATH, else /usr/bin/stap)",
        make: || Box::new(stap::SystemTap),
    },
    Registration {
        name: "dtrace",
        aliases: &[],
        about: "DTrace: Solaris, illumos, FreeBSD, macOS, Oracle Linux (DTRACE_PATH, else /usr/sbin/dtrace)",
        make: || Box::new(dtrace::DTrace),
    },
];

/// The registered backend called `name` (or one of its aliases).
pub fn lookup(name: &str) -> Option<&'static Registration> {
    REGISTRY
        .iter()
        .find(|r| r.name == name || r.aliases.contains(&name))
}

/// Makes the registered backend `name`; panics on a name that is not registered (the
/// command line accepts only registered names).
pub fn make(name: &str) -> Box<dyn Backend> {
    let r = lookup(name).unwrap_or_else(|| panic!("backend {name:?} is not registered"));
    (r.make)()
}

/// The tracer binary of `backend`: its `*_PATH` variable if set and not empty, else its
/// default.
pub fn tracer_path(backend: &dyn Backend, env: Env) -> PathBuf {
    if let Some(p) = env(backend.path_var()).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    backend.default_path(env)
}

/// The backend when none is named: on Linux bpftrace when its binary is found, else
/// SystemTap; DTrace on Solaris, illumos, FreeBSD and macOS.
pub fn host_default(env: Env) -> Result<Box<dyn Backend>, Error> {
    if cfg!(target_os = "linux") {
        let bpftrace = make("bpftrace");
        // BPFTRACE_PATH set means bpftrace, even when it is wrong (that is an error then,
        // never a silent fallback to SystemTap).
        let asked = env(bpftrace.path_var()).is_some_and(|p| !p.is_empty());
        Ok(if asked || is_executable(&tracer_path(&*bpftrace, env)) {
            bpftrace
        } else {
            make("systemtap")
        })
    } else if cfg!(any(
        target_os = "solaris",
        target_os = "illumos",
        target_os = "freebsd",
        target_os = "macos"
    )) {
        Ok(make("dtrace"))
    } else {
        Err(Error::NoDefaultBackend)
    }
}

/// Whether `p` is an executable file.
pub fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The first line `tracer --version` prints on stdout, trimmed, if any.
pub fn version_line(tracer: &Path) -> Option<String> {
    std::process::Command::new(tracer)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::trim).map(str::to_owned))
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_common_lines() {
        assert_eq!(
            classify_line(b"Attaching 9 probes..."),
            TracerLine::Chatter(b"Attaching 9 probes...")
        );
        assert_eq!(
            classify_line(ATTACHED_MARKER.as_bytes()),
            TracerLine::Attached
        );
        assert_eq!(classify_line(b"# trace-gen: fence 3"), TracerLine::Fence(3));
        assert_eq!(
            classify_line(b"# trace-gen: fence x"),
            TracerLine::Trace(b"# trace-gen: fence x")
        );
        assert_eq!(
            classify_line(b"Lost 1234 events"),
            TracerLine::Chatter(b"Lost 1234 events"),
            "only bpftrace reports losses this way"
        );
        assert_eq!(classify_line(b""), TracerLine::Blank);
        assert_eq!(classify_line(b"\r"), TracerLine::Blank);
        let e = b"=> uid: 0 pid: 1 tid: 1 comm: cat open: /x 5";
        assert_eq!(classify_line(e), TracerLine::Trace(e));
        assert_eq!(
            classify_line(b"# clock: monotonic"),
            TracerLine::Trace(b"# clock: monotonic")
        );
    }

    #[test]
    fn registry_names_are_unique_and_found_by_alias() {
        let mut names: Vec<&str> = REGISTRY
            .iter()
            .flat_map(|r| std::iter::once(r.name).chain(r.aliases.iter().copied()))
            .collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "a name or alias is registered twice");
        for r in REGISTRY {
            assert_eq!((r.make)().name(), r.name);
        }
        assert_eq!(lookup("stap").unwrap().name, "systemtap");
        assert_eq!(lookup("bt").unwrap().name, "bpftrace");
        assert!(lookup("perf").is_none());
    }

    #[test]
    fn tracer_paths() {
        let env = |k: &str| (k == "STAP_PATH").then(|| OsString::from("/opt/stap"));
        assert_eq!(
            tracer_path(&*make("systemtap"), &env),
            PathBuf::from("/opt/stap")
        );
        assert_eq!(
            tracer_path(&*make("dtrace"), &env),
            PathBuf::from("/usr/sbin/dtrace")
        );
        let none = |_: &str| None;
        assert_eq!(
            tracer_path(&*make("bpftrace"), &none),
            PathBuf::from("bpftrace")
        );
        let empty = |k: &str| (k == "STAP_PATH").then(OsString::new);
        assert_eq!(
            tracer_path(&*make("systemtap"), &empty),
            PathBuf::from("/usr/bin/stap")
        );
    }

    #[test]
    fn default_on_linux_is_bpftrace_when_found_else_systemtap() {
        if cfg!(target_os = "linux") {
            let none = |k: &str| (k == "PATH").then(|| OsString::from("/nonexistent"));
            assert_eq!(host_default(&none).unwrap().name(), "systemtap");
            let env = |k: &str| (k == "BPFTRACE_PATH").then(|| OsString::from("/bin/sh"));
            assert_eq!(host_default(&env).unwrap().name(), "bpftrace");
            // Set but wrong: still bpftrace (the error comes next), never SystemTap.
            let wrong = |k: &str| match k {
                "BPFTRACE_PATH" => Some(OsString::from("/nonexistent")),
                "PATH" => Some(OsString::from("/nonexistent")),
                _ => None,
            };
            assert_eq!(host_default(&wrong).unwrap().name(), "bpftrace");
        }
    }

    #[test]
    fn default_diagnosis_leaves_out_noise() {
        use std::os::unix::process::ExitStatusExt;
        let e = make("bpftrace").diagnose(
            ExitStatus::from_raw(1 << 8),
            "ERROR: couldn't set RLIMIT_MEMLOCK\nstdin:3:1-4: ERROR: syntax error\n",
        );
        let Error::TracerFailed {
            tracer,
            status,
            stderr,
        } = e
        else {
            panic!("{e}")
        };
        assert_eq!(
            (tracer, status.as_str(), stderr.as_str()),
            (
                "bpftrace",
                "exited with status 1",
                "stdin:3:1-4: ERROR: syntax error"
            )
        );
    }
}
