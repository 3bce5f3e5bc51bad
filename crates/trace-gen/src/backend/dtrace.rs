//! The DTrace backend: renders a [`ScriptSpec`] as a D program for the dialect of
//! `spec.target_os` and says how to run `dtrace` on it.
//!
//! DTrace is not installed where trace-gen is developed, so every script this module can
//! write is pinned by a golden file in `tests/golden/`, and `DTRACE.md` justifies each line
//! per platform from the documented probes and arguments. In short:
//!
//! - The open-family probes differ per platform ([`entry_groups`]); `-Z` lets the script name
//!   a probe that a given release lacks.
//! - The path pointer is stashed in `self->path` at entry and copied with `copyinstr` at
//!   return, when the page is surely mapped; `self->` variables are per thread.
//! - The path is printed with `%S` (C-escaped) inside quotes, which the trace-format grammar
//!   decodes; the return value is `-errno` when the call failed, the Linux convention.
//! - Timestamps are `timestamp` (monotonic ns). `dtrace:::BEGIN` prints `# clock-offset-ns:`
//!   from the tracer's own clocks (`walltimestamp - timestamp`; it follows trace-gen's header
//!   and wins, which matters where `timestamp` is not `CLOCK_MONOTONIC`), then
//!   [`ATTACHED_MARKER`].
//! - Filters are literals: numbers, and a [`CommName`] validated to need no escaping (escaped
//!   here all the same).

use super::{Backend, Env};
use crate::script::{CommName, ScriptSpec, Target, TargetOs, ATTACHED_MARKER};
use std::ffi::OsString;
use std::path::PathBuf;

/// The DTrace backend; the dialect comes from `spec.target_os`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DTrace;

impl Backend for DTrace {
    fn name(&self) -> &'static str {
        "dtrace"
    }

    fn program(&self) -> &'static str {
        "dtrace"
    }

    fn path_var(&self) -> &'static str {
        "DTRACE_PATH"
    }

    fn default_path(&self, _env: Env) -> PathBuf {
        PathBuf::from("/usr/sbin/dtrace")
    }

    fn install_hint(&self) -> &'static str {
        "it ships with Solaris, illumos, FreeBSD and macOS; on Linux install Oracle's dtrace-utils"
    }

    fn script(&self, spec: &ScriptSpec) -> String {
        render(spec)
    }

    /// `-q` (only the script's own output), `-Z` (a probe this release lacks is not an
    /// error), `-s /dev/fd/0` (the script on stdin; dtrace-utils rejects `-s -`), and
    /// `-p PID` for `-c`, which makes `$target` that pid. dtrace's own `-c` is not used:
    /// trace-gen starts the command itself.
    fn args(&self, spec: &ScriptSpec, target_pid: Option<u32>) -> Vec<OsString> {
        let mut args: Vec<OsString> =
            vec!["-q".into(), "-Z".into(), "-s".into(), "/dev/fd/0".into()];
        if matches!(spec.target, Target::Command) {
            // Without a pid yet (--print-script), a visible placeholder.
            args.push("-p".into());
            args.push(target_pid.map_or_else(|| "PID".into(), |p| p.to_string().into()));
        }
        args
    }
}

/// System calls whose path is the same argument, probed by one clause.
struct EntryGroup {
    /// `syscall::NAME:` function names.
    calls: &'static [&'static str],
    /// The argument holding the path's user address.
    path_arg: &'static str,
    /// An extra condition on the entry (Solaris 10's `fsat` multiplexes the `*at` calls).
    only_if: Option<&'static str>,
}

/// The open-family system calls of each platform, grouped by the argument that holds the
/// path. Sources for each are in `DTRACE.md`.
fn entry_groups(os: TargetOs) -> Vec<EntryGroup> {
    let group = |calls, path_arg| EntryGroup {
        calls,
        path_arg,
        only_if: None,
    };
    match os {
        TargetOs::Solaris10 => vec![
            group(&["open", "open64", "creat", "creat64"], "arg0"),
            // fsat(code, fd, path, ...): code 0 is openat, 1 is openat64.
            EntryGroup {
                calls: &["fsat"],
                path_arg: "arg2",
                only_if: Some("(arg0 == 0 || arg0 == 1)"),
            },
        ],
        TargetOs::Solaris11 => vec![group(&["openat", "openat64"], "arg1")],
        TargetOs::Illumos => vec![
            group(&["open", "open64"], "arg0"),
            group(&["openat", "openat64"], "arg1"),
        ],
        TargetOs::FreeBsd => vec![group(&["open"], "arg0"), group(&["openat"], "arg1")],
        TargetOs::MacOs => vec![
            group(&["open", "open_nocancel", "open_extended"], "arg0"),
            group(&["openat", "openat_nocancel"], "arg1"),
        ],
        TargetOs::Linux => vec![
            group(&["open", "creat"], "arg0"),
            group(&["openat", "openat2"], "arg1"),
        ],
    }
}

/// `strsize`: the longest path the platform accepts, so paths are never cut (DTrace's
/// default is 256). Linux's `PATH_MAX` is 4096; Solaris, the BSDs and macOS have 1024.
fn string_size(os: TargetOs) -> u32 {
    match os {
        TargetOs::Linux => 4096,
        _ => 1024,
    }
}

/// How often dtrace drains its per-CPU buffers (the default, 1hz, lets a burst fill them).
const SWITCH_RATE: &str = "100hz";

/// Room for the `self->` variables of threads inside an open call (default 1m).
const DYNVAR_SIZE: &str = "16m";

/// One condition of the predicate, as a typed value; [`Test::render`] is the only place
/// that turns it into D.
enum Test<'a> {
    /// Not dtrace itself (`$pid` is the dtrace process).
    NotTracer,
    /// Not this pid (trace-gen itself).
    PidIsNot(u32),
    /// One of these pids.
    PidIn(&'a [u32]),
    /// One of these pids or a descendant.
    ProgenyOf(&'a [u32]),
    /// `$target` (the `-p` pid) or a descendant.
    TargetProgeny,
    /// `$target` itself.
    PidIsTarget,
    /// This real uid.
    UidIs(u32),
    /// This process name.
    CommIs(&'a CommName),
}

/// `(a || b || ...)` of one test per pid; no pid at all matches nothing.
fn any_of(pids: &[u32], test: impl Fn(u32) -> String) -> String {
    match pids {
        [] => "0".to_owned(),
        [pid] => test(*pid),
        pids => {
            let any: Vec<String> = pids.iter().map(|&p| test(p)).collect();
            format!("({})", any.join(" || "))
        }
    }
}

impl Test<'_> {
    fn render(&self) -> String {
        match self {
            Test::NotTracer => "pid != $pid".to_owned(),
            Test::PidIsNot(pid) => format!("pid != {pid}"),
            Test::PidIn(pids) => any_of(pids, |p| format!("pid == {p}")),
            Test::ProgenyOf(pids) => any_of(pids, |p| format!("progenyof({p})")),
            Test::TargetProgeny => "progenyof($target)".to_owned(),
            Test::PidIsTarget => "pid == $target".to_owned(),
            Test::UidIs(uid) => format!("uid == {uid}"),
            Test::CommIs(name) => format!("execname == {}", name.string_literal()),
        }
    }
}

/// The conditions an open must meet to be traced, all of them (AND).
fn tests(spec: &ScriptSpec) -> Vec<Test<'_>> {
    let mut tests = match &spec.target {
        Target::SystemWide { exclude } => {
            let mut t = vec![Test::NotTracer];
            t.extend(exclude.iter().map(|&p| Test::PidIsNot(p)));
            t
        }
        Target::Pids(pids) if spec.follow => vec![Test::ProgenyOf(pids)],
        Target::Pids(pids) => vec![Test::PidIn(pids)],
        Target::Command if spec.follow => vec![Test::TargetProgeny],
        Target::Command => vec![Test::PidIsTarget],
    };
    tests.extend(spec.uid.map(Test::UidIs));
    tests.extend(spec.comm.as_ref().map(Test::CommIs));
    tests
}

/// A D program under construction: lines, tab-indented inside clauses.
struct DWriter {
    out: String,
}

impl DWriter {
    fn line(&mut self, code: &str) {
        self.out.push_str(code);
        self.out.push('\n');
    }

    /// A probe clause: the probe list, one per line, an optional predicate, the body.
    fn clause(&mut self, probes: &[String], predicate: Option<&str>, body: &[&str]) {
        self.line(&probes.join(",\n"));
        if let Some(predicate) = predicate {
            self.line(&format!("/{predicate}/"));
        }
        self.line("{");
        for statement in body {
            self.line(&format!("\t{statement}"));
        }
        self.line("}");
        self.line("");
    }
}

fn render(spec: &ScriptSpec) -> String {
    let os = spec.target_os;
    let filter: Vec<String> = tests(spec).iter().map(Test::render).collect();
    let filter = filter.join(" && ");
    let groups = entry_groups(os);

    let mut w = DWriter { out: String::new() };
    w.line("/*");
    w.line(&format!(
        " * Generated by trace-gen for {}: open-family system calls, paths read at",
        os.name()
    ));
    w.line(" * return, paired per thread (self->), monotonic timestamps (timestamp).");
    w.line(" */");
    w.line("#pragma D option quiet");
    w.line(&format!("#pragma D option bufsize={}", spec.buffer_size));
    w.line(&format!("#pragma D option switchrate={SWITCH_RATE}"));
    w.line(&format!("#pragma D option dynvarsize={DYNVAR_SIZE}"));
    w.line(&format!("#pragma D option strsize={}", string_size(os)));
    w.line("");
    w.clause(
        &["dtrace:::BEGIN".to_owned()],
        None,
        &[
            "printf(\"# clock-offset-ns: %d\\n\", (int64_t)(walltimestamp - timestamp));",
            &format!("printf(\"{ATTACHED_MARKER}\\n\");"),
        ],
    );
    for group in &groups {
        let probes: Vec<String> = group
            .calls
            .iter()
            .map(|c| format!("syscall::{c}:entry"))
            .collect();
        let predicate = match group.only_if {
            Some(only_if) => format!("{only_if} && {filter}"),
            None => filter.clone(),
        };
        let stash = format!("self->path = {};", group.path_arg);
        w.clause(
            &probes,
            Some(&predicate),
            &[&stash, "self->ts = timestamp;"],
        );
    }
    let returns: Vec<String> = groups
        .iter()
        .flat_map(|g| g.calls.iter().map(|c| format!("syscall::{c}:return")))
        .collect();
    w.clause(
        &returns,
        Some("self->ts"),
        &[
            "printf(\"=> uid: %d pid: %d tid: %d comm: %s open: \\\"%S\\\" %d\\n\",",
            "    uid, pid, tid, execname, copyinstr(self->path), self->ts);",
            "printf(\"<= uid: %d pid: %d tid: %d comm: %s ret: %d %d\\n\",",
            "    uid, pid, tid, execname, (int)arg0 < 0 ? -errno : (int)arg0, timestamp);",
            "self->path = 0;",
            "self->ts = 0;",
        ],
    );
    // No blank line at the end of the program.
    w.out.pop();
    w.out
}
