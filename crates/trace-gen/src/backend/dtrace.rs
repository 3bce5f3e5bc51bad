//! The DTrace backend: renders a [`ScriptSpec`] as a D program for the dialect of
//! `spec.target_os`, runs `dtrace` on it, and decodes what the program prints ([`decode`]).
//!
//! The Linux dialect runs for real (Oracle's DTrace for Linux, in the end-to-end tests); the
//! Solaris, illumos, FreeBSD and macOS dialects are pinned by golden files in `tests/golden/`.
//! `DTRACE.md` justifies each line. In short:
//!
//! - The open-family probes differ per platform ([`entry_groups`]); `-Z` lets the script name
//!   a probe that a given release lacks.
//! - The path pointer is stashed in `self->path` at entry and read at return, when the page is
//!   surely mapped; `self->` variables are per thread.
//! - The script prints private records, not trace lines: numbers first, then the process
//!   name and the path `%S`-quoted, so no byte of either can forge or hide anything.
//!   trace-gen decodes them strictly and writes canonical lines with trace-format's writer.
//! - `strsize` is [`STRING_SIZE`] and the path is read in [`CHUNK`]-byte chunks, up to the
//!   platform's longest path; a path is marked truncated only when it really goes on.
//! - Following (`-c`, `-p`) on Linux is the script's own table of traced processes, fed by
//!   `proc:::create` and emptied by the exit of a process's last thread; other dialects use
//!   `progenyof`.
//! - trace-gen's `getppid()` prints a fence line per CPU (`$ppid`: trace-gen started dtrace),
//!   so everything recorded before the stop is read before the SIGINT.
//! - Drops and probe errors, which dtrace reports on stderr, become `# lost:` lines.

pub(crate) mod btf;
mod decode;
mod detail;

use super::{Backend, Decoder as DecodeLines, Ending, Env, StderrLine};
use crate::script::{CommName, ScriptSpec, Target, TargetOs, ATTACHED_MARKER, FENCE_MARKER};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub use btf::KernelLayout;
pub use decode::Decoder;

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

    /// `dtrace -V` (`dtrace: Oracle D 2.0`) as `dtrace Oracle D 2.0`.
    fn version(&self, tracer: &Path) -> String {
        std::process::Command::new(tracer)
            .arg("-V")
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| {
                let v = s.lines().next()?.trim().strip_prefix("dtrace:")?.trim();
                (!v.is_empty()).then(|| format!("dtrace {v}"))
            })
            .unwrap_or_else(|| "dtrace".to_owned())
    }

    /// On Linux, with the running kernel's struct offsets ([`KernelLayout::running`]).
    fn script(&self, spec: &ScriptSpec) -> String {
        let layout = (spec.target_os == TargetOs::Linux && cfg!(target_os = "linux"))
            .then(KernelLayout::running)
            .flatten();
        self.script_for_kernel(spec, layout.as_ref())
    }

    /// `-q` (only the script's own output), `-Z` (a probe this release lacks is not an
    /// error), `-s /dev/fd/0` (the script on stdin; dtrace-utils rejects `-s -`), and for
    /// `-c` the command's pid as the macro argument `$1`. Neither dtrace's `-c` nor `-p`: dtrace
    /// exits when a `-p` process exits, and trace-gen starts the command itself.
    fn args(&self, spec: &ScriptSpec, target_pid: Option<u32>) -> Vec<OsString> {
        let mut args: Vec<OsString> =
            vec!["-q".into(), "-Z".into(), "-s".into(), "/dev/fd/0".into()];
        if matches!(spec.target, Target::Command) {
            // Without a pid yet (--print-script), a visible placeholder.
            args.push(target_pid.map_or_else(|| "PID".into(), |p| p.to_string().into()));
        }
        args
    }

    /// Inside a PID namespace (not the host's), refused: dtrace-utils never fires its own
    /// `BEGIN` probe there (`unshare -fp --mount-proc dtrace -n 'BEGIN{trace(1);exit(0)}'`
    /// prints nothing and hangs, measured), so it would trace nothing.
    fn unsupported(&self, _spec: &ScriptSpec) -> Option<String> {
        crate::sys::pid_namespace().map(|_| {
            "trace-gen runs inside a PID namespace (a container without the host's pids): \
             DTrace for Linux never fires its own BEGIN probe there, so it traces nothing; \
             use bpftrace (-B) or SystemTap (-S), or run trace-gen on the host"
                .to_owned()
        })
    }

    fn has_fence(&self) -> bool {
        true
    }

    /// Interrupted and not waited for after the drain: dtrace removes its BEGIN and END
    /// uprobes itself, then closes its probes (over a second on this kernel).
    fn ending(&self) -> Ending {
        Ending::Interrupt
    }

    fn decoder(&self) -> Option<Box<dyn DecodeLines>> {
        Some(Box::new(Decoder::default()))
    }

    /// On Linux the script reports forks and exits of the followed processes (`P fork`,
    /// `P exit`): the run ends when the last one has exited.
    fn reports_processes(&self, spec: &ScriptSpec) -> bool {
        reports_processes(spec)
    }

    fn startup_note(&self, spec: &ScriptSpec) -> Option<String> {
        let compat = (spec.target_os == TargetOs::Linux).then(|| {
            if traces_compat(spec.target_os) {
                "32-bit (ia32) opens are traced through rawtp:raw_syscalls: a small probe runs \
                 on every system call of the machine while tracing"
                    .to_owned()
            } else {
                "32-bit (ia32) opens are not traced (DTrace's syscall provider does not see \
                 them; the rawtp clauses are written for x86_64 only)"
                    .to_owned()
            }
        });
        let mut notes: Vec<String> = compat.into_iter().collect();
        notes.push(detail::gaps(spec.target_os).to_owned());
        if spec.target_os == TargetOs::Linux
            && !KernelLayout::running().is_some_and(|l| l.has_uring())
        {
            notes.push(detail::NO_URING.to_owned());
        }
        Some(notes.join("; "))
    }

    /// Drops are lost events. A probe error is shown: the event it hit is in the trace, its
    /// path marked truncated (the script reads paths in clauses of their own).
    fn stderr_line(&self, line: &str) -> StderrLine {
        match lost_events(line) {
            Some(n) => StderrLine::Lost(n),
            None if is_fault(line) => StderrLine::Fault,
            None => StderrLine::Show,
        }
    }
}

/// A probe error of a user address that could not be read: `dtrace: error in dt_clause_14
/// for probe ID 3565 (syscall:vmlinux:openat:return): invalid address (0x1) at BPF pc 1267`
/// (Linux) or `dtrace: error on enabled probe ID 5 (...): invalid address (0x0) in action #1
/// at DIF offset 28` (illumos, FreeBSD, macOS). Other probe errors stay shown.
pub fn is_fault(line: &str) -> bool {
    line.strip_prefix("dtrace: error ")
        .is_some_and(|rest| rest.contains("): invalid address ("))
}

impl DTrace {
    /// The script for `spec`; on Linux the path walk reads struct members at `layout`'s
    /// offsets, or at D's `offsetof` without one (the golden files).
    pub fn script_for_kernel(&self, spec: &ScriptSpec, layout: Option<&KernelLayout>) -> String {
        let seeds = match (&spec.target, spec.follow, spec.target_os) {
            (Target::Pids(pids), true, TargetOs::Linux) => descendants(pids),
            _ => Vec::new(),
        };
        render(spec, &seeds, layout)
    }
}

/// The events a dtrace stderr line says were dropped: `N drops on CPU K`, `N dynamic
/// variable drops` (`with non-empty dirty list`), `N aggregation drops on CPU K`, `N
/// speculative drops`. Any other line: `None`.
pub fn lost_events(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("dtrace: ")?;
    let (n, what) = rest.split_once(' ')?;
    let n: u64 = n.parse().ok()?;
    let on_cpu = |w: &str| {
        w.strip_prefix("on CPU ")
            .is_some_and(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()))
    };
    let known = match what.split_once(' ') {
        Some(("drops", w)) => on_cpu(w),
        Some(("aggregation", w)) => w.strip_prefix("drops ").is_some_and(on_cpu),
        Some(("dynamic", w)) => {
            w == "variable drops" || w == "variable drops with non-empty dirty list"
        }
        Some(("speculative", w)) => w == "drops" || w == "drop",
        _ => false,
    };
    known.then_some(n)
}

/// The processes below `pids` now (their children, and theirs...), each with its parent,
/// from `/proc`: a `-p` process's existing descendants are traced from the start, also once
/// re-parented.
fn descendants(pids: &[u32]) -> Vec<(u32, u32)> {
    let mut parent_of = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // "pid (comm) S ppid ...": the comm may hold anything but ends at the last ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parent_of.push((pid, ppid));
            }
        }
    }
    let mut found: Vec<(u32, u32)> = Vec::new();
    let mut frontier: Vec<u32> = pids.to_vec();
    while let Some(p) = frontier.pop() {
        for &(child, parent) in &parent_of {
            if parent == p && !pids.contains(&child) && !found.iter().any(|f| f.0 == child) {
                found.push((child, parent));
                frontier.push(child);
            }
        }
    }
    found.sort_unstable();
    found
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

/// `strsize`, the same on every platform: each string of a record takes its whole `strsize`
/// in dtrace's buffers (and on Solaris, illumos, FreeBSD and macOS `%S` prints all of it), so
/// a small one keeps a burst from dropping; and Oracle's DTrace for Linux refuses large ones
/// (measured: 3902 and more fail to enable with this script's shape, `failed to create BPF
/// map 'mem': Too big`). Paths are read in chunks of [`CHUNK`] bytes.
const STRING_SIZE: u32 = 257;

/// The bytes of path one `copyinstr(addr, STRING_SIZE)` reads (the rest is its NUL).
const CHUNK: u32 = STRING_SIZE - 1;

/// The longest path the platform accepts with its NUL: `PATH_MAX` 4096 on Linux,
/// `MAXPATHLEN` 1024 on Solaris, illumos, FreeBSD and macOS. The script reads this many bytes
/// at most; a path is marked truncated only when the byte after them is not its NUL (a path
/// the kernel refuses with `ENAMETOOLONG`).
fn path_max(os: TargetOs) -> u32 {
    match os {
        TargetOs::Linux => 4096,
        _ => 1024,
    }
}

/// How often dtrace drains its per-CPU buffers (the default, 1hz, lets a burst fill them).
const SWITCH_RATE: &str = "100hz";

/// Room for the `self->` variables of threads inside an open call and the table of traced
/// processes (default 1m).
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
    /// In the script's table of traced processes, or (processes created between the scan
    /// of `/proc` and the start of tracing) not marked and a descendant of one of these pids.
    Traced(&'a [u32]),
    /// The `-c` command (`$1`) or a descendant.
    CommandProgeny,
    /// The `-c` command itself.
    PidIsCommand,
    /// This real uid.
    UidIs(u32),
    /// This process name.
    CommIs(&'a CommName),
    /// `--cgroup`: in this group or below it (the test, from [`crate::cgroup`]).
    InCgroup(String),
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
            Test::Traced([]) => "traced[pid] == 1".to_owned(),
            Test::Traced(pids) => format!(
                "(traced[pid] == 1 || (traced[pid] == 0 && {}))",
                any_of(pids, |p| format!("progenyof({p})"))
            ),
            Test::CommandProgeny => "progenyof($1)".to_owned(),
            Test::PidIsCommand => "pid == $1".to_owned(),
            Test::UidIs(uid) => format!("uid == {uid}"),
            Test::CommIs(name) => format!("execname == {}", name.string_literal()),
            Test::InCgroup(test) => test.clone(),
        }
    }
}

/// Whether the script keeps its own table of traced processes: following on Linux, where
/// `progenyof` misses children of re-parented processes and of non-main threads (measured).
fn keeps_table(spec: &ScriptSpec) -> bool {
    spec.follow
        && spec.target_os == TargetOs::Linux
        && matches!(spec.target, Target::Command | Target::Pids(_))
}

/// Whether the script prints `P fork` and `P exit` for the followed processes: on Linux, for
/// `-c` and `-p` (with `--no-follow`, only the exits of the targets themselves).
fn reports_processes(spec: &ScriptSpec) -> bool {
    spec.target_os == TargetOs::Linux && !matches!(spec.target, Target::SystemWide { .. })
}

/// Which processes are traced (AND of these); the filters (`-u`, `-n`) come on top.
fn target_tests(spec: &ScriptSpec) -> Vec<Test<'_>> {
    match &spec.target {
        Target::SystemWide { exclude } => {
            let mut t = vec![Test::NotTracer];
            t.extend(exclude.iter().map(|&p| Test::PidIsNot(p)));
            t
        }
        Target::Pids(pids) if keeps_table(spec) => vec![Test::Traced(pids)],
        Target::Pids(pids) if spec.follow => vec![Test::ProgenyOf(pids)],
        Target::Pids(pids) => vec![Test::PidIn(pids)],
        Target::Command if keeps_table(spec) => vec![Test::Traced(&[])],
        Target::Command if spec.follow => vec![Test::CommandProgeny],
        Target::Command => vec![Test::PidIsCommand],
    }
}

/// The conditions an open must meet to be traced, all of them (AND).
fn tests(spec: &ScriptSpec) -> Vec<Test<'_>> {
    let mut tests = target_tests(spec);
    tests.extend(spec.uid.map(Test::UidIs));
    tests.extend(spec.comm.as_ref().map(Test::CommIs));
    let cgroup = spec.cgroup.as_ref();
    tests.extend(
        cgroup
            .and_then(|c| c.under("(uint64_t)curthread", crate::cgroup::D))
            .map(Test::InCgroup),
    );
    tests
}

fn and(tests: &[Test]) -> String {
    let t: Vec<String> = tests.iter().map(Test::render).collect();
    t.join(" && ")
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

/// The script for `spec`; `seeds` are processes (and their parents) traced from the start
/// besides the targets: the descendants of `-p` pids, on Linux.
fn render(spec: &ScriptSpec, seeds: &[(u32, u32)], layout: Option<&KernelLayout>) -> String {
    let os = spec.target_os;
    let filter = and(&tests(spec));
    let groups = entry_groups(os);
    let chunks = path_max(os).div_ceil(CHUNK);

    let mut w = DWriter { out: String::new() };
    w.line("/*");
    w.line(&format!(
        " * Generated by trace-gen for {}: open-family system calls, paths read at",
        os.name()
    ));
    w.line(" * return, paired per thread (self->), monotonic timestamps (timestamp).");
    w.line(" * Records (strings %S-quoted, decoded by trace-gen):");
    w.line(" *   E ENTRY_TS RETURN_TS UID PID TID RET OK MORE \"COMM\" \"PATH\"");
    w.line(" *   C TID MORE \"PATH\"  (the next chunk)   T TID  (the path goes on: cut)");
    if reports_processes(spec) {
        w.line(" *   P fork PARENT CHILD, P exit PID  (the followed processes)");
    }
    w.line(" */");
    w.line("#pragma D option quiet");
    w.line(&format!("#pragma D option bufsize={}", spec.buffer_size));
    w.line(&format!("#pragma D option switchrate={SWITCH_RATE}"));
    w.line(&format!("#pragma D option dynvarsize={DYNVAR_SIZE}"));
    w.line(&format!("#pragma D option strsize={STRING_SIZE}"));
    w.line("");

    let table = keeps_table(spec);
    let mut begin: Vec<String> = Vec::new();
    if table {
        let roots: Vec<String> = match &spec.target {
            Target::Pids(pids) => pids.iter().map(u32::to_string).collect(),
            _ => vec!["$1".to_owned()],
        };
        begin.extend(roots.iter().map(|p| format!("traced[{p}] = 1;")));
        // Followed from the start: trace-gen adds them to the processes it waits for.
        for (child, parent) in seeds {
            begin.push(format!("traced[{child}] = 1;"));
            begin.push(format!("printf(\"P fork {parent} {child}\\n\");"));
        }
    }
    begin
        .push("printf(\"# clock-offset-ns: %d\\n\", (int64_t)(walltimestamp - timestamp));".into());
    begin.push(format!("printf(\"{ATTACHED_MARKER}\\n\");"));
    let begin: Vec<&str> = begin.iter().map(String::as_str).collect();
    w.clause(&["dtrace:::BEGIN".to_owned()], None, &begin);

    if table {
        let traced = and(&target_tests(spec));
        w.clause(
            &["proc:::create".to_owned()],
            Some(&traced),
            &[
                "traced[args[0]->pr_pid] = 1;",
                "printf(\"P fork %d %d\\n\", pid, args[0]->pr_pid);",
            ],
        );
        // The last thread of the process (proc:::exit fires when the main thread exits);
        // marked 2, not deleted (deleting broke later lookups of other keys, measured).
        w.clause(
            &["proc:::lwp-exit".to_owned()],
            Some(&format!("{traced} && curthread->signal->live.counter == 0")),
            &["traced[pid] = 2;", "printf(\"P exit %d\\n\", pid);"],
        );
    } else if reports_processes(spec) {
        // Not following: only the targets' own exits end the run.
        w.clause(
            &["proc:::lwp-exit".to_owned()],
            Some(&format!(
                "{} && curthread->signal->live.counter == 0",
                and(&target_tests(spec))
            )),
            &["printf(\"P exit %d\\n\", pid);"],
        );
    }

    // trace-gen (dtrace's parent) calls getppid() on each CPU before it stops dtrace.
    w.clause(
        &["syscall::getppid:entry".to_owned()],
        Some("pid == $ppid"),
        &[&format!("printf(\"{FENCE_MARKER} %d\\n\", cpu);")],
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
    if os == TargetOs::Linux {
        detail::linux_entry_clauses(&mut w);
    } else {
        detail::solaris_family_entry_clauses(&mut w, os);
    }

    let cgroup = spec
        .cgroup
        .as_ref()
        .map(|c| c.own_id("(uint64_t)curthread", crate::cgroup::D));
    if one_exit_program(os) {
        // Every return on one program: see `one_exit_program`. The thread's flags are read
        // once per system call, and every clause after tests the copies.
        let exit = [SYS_EXIT.to_owned()];
        detail::linux_handle_entry_clause(&mut w, &filter);
        compat_entry_clause(&mut w, &filter);
        w.clause(
            &exit,
            None,
            &[
                "this->ts = self->ts;",
                "this->hts = self->hts;",
                "this->cts = self->cts;",
                "this->walk = 0;",
            ],
        );
        return_clauses(
            &mut w,
            &Returns {
                probes: &exit,
                guard: "this->ts",
                ts: "self->ts",
                path: "self->path",
                ret: "(int)arg1",
                detail: Detail::SharedWalk(layout),
                killed: true,
                cgroup,
            },
            chunks,
        );
        detail::linux_handle_exit_clause(&mut w, &exit);
        if let Some(l) = layout.filter(|l| l.has_uring()) {
            detail::linux_uring_clauses(&mut w, &filter, l);
        }
        compat_return_clauses(&mut w, chunks);
        // No blank line at the end of the program.
        w.out.pop();
        return w.out;
    }
    let returns: Vec<String> = groups
        .iter()
        .flat_map(|g| g.calls.iter().map(|c| format!("syscall::{c}:return")))
        .collect();
    return_clauses(
        &mut w,
        &Returns {
            probes: &returns,
            guard: "self->ts",
            ts: "self->ts",
            path: "self->path",
            ret: "(int)arg0 < 0 ? -errno : (int)arg0",
            detail: Detail::Of(os, layout),
            killed: os == TargetOs::Linux,
            cgroup,
        },
        chunks,
    );
    if os == TargetOs::Linux {
        detail::linux_handle_clauses(&mut w, &filter, layout);
        if let Some(l) = layout.filter(|l| l.has_uring()) {
            detail::linux_uring_clauses(&mut w, &filter, l);
        }
    }
    // No blank line at the end of the program.
    w.out.pop();
    w.out
}

/// The raw tracepoint every system call's return passes through.
const SYS_EXIT: &str = "rawtp:raw_syscalls::sys_exit";

/// Whether every return (the open family's, `open_by_handle_at`'s, the ia32 opens') is one
/// clause list on [`SYS_EXIT`] instead of one per `syscall::NAME:return` probe: DTrace for
/// Linux compiles each probe's clauses into a BPF program of its own, and the kernel's
/// verifier then checks the dentry walk once per program (0.75 s each here, most of the
/// start-up). One program verifies it once. The ia32 returns already need this tracepoint,
/// which runs on every system call of the machine, so one clause reads the thread's flags
/// once per call (cheaper than the per-clause `self->` lookups before). x86_64 only, like the
/// ia32 clauses; elsewhere the `syscall` provider's return probes.
fn one_exit_program(os: TargetOs) -> bool {
    traces_compat(os)
}

/// Where the return clauses find an open: its probes, the thread-local variables its entry
/// set, and its return value.
struct Returns<'a> {
    probes: &'a [String],
    /// What the predicates test: the entry timestamp, or a copy of it in a `this->` variable.
    guard: &'a str,
    /// The entry timestamp (also the "this thread is in a traced open" flag).
    ts: &'a str,
    /// The path's user address.
    path: &'a str,
    /// The return value, `-errno` on failure.
    ret: &'a str,
    /// Which open details the return prints before its `E` record.
    detail: Detail<'a>,
    /// Linux: say when the process was killed during the call (a `K` record).
    killed: bool,
    /// `--cgroup`: the id of the process's group (an expression), for a `G TID ID` record.
    cgroup: Option<String>,
}

/// The open details of a return ([`detail`]).
enum Detail<'a> {
    /// None (the ia32 opens).
    None,
    /// Those of the dialect; on Linux with the kernel's struct offsets.
    Of(TargetOs, Option<&'a KernelLayout>),
    /// Linux, on the program that also has `open_by_handle_at`'s return: one walk for both
    /// ([`detail::linux_shared_return_clauses`]).
    SharedWalk(Option<&'a KernelLayout>),
}

/// The return clauses: the path read in `chunks` chunks, each `copyinstr` in a clause of its
/// own (a bad address aborts only that clause, and the flags set before it say what is
/// missing), one record per chunk.
fn return_clauses(w: &mut DWriter, r: &Returns, chunks: u32) {
    let size = STRING_SIZE;
    let (returns, ts, path) = (r.probes, r.ts, r.path);
    let guard = |extra: &str| format!("{}{extra}", r.guard);
    if r.killed {
        // Linux: a restart code (-512..-516) with SIGKILL pending for the thread
        // (__fatal_signal_pending()) means the call never returns to the program: it was
        // killed. The signal is the group's exit code (9 for another thread's exit_group).
        let ret = r.ret;
        w.clause(
            returns,
            Some(&guard(&format!(
                " && ({ret}) <= -512 && ({ret}) >= -516 && (curthread->pending.signal.sig[0] & 0x100)"
            ))),
            &[
                "this->sig = curthread->signal->group_exit_code & 0x7f;",
                "printf(\"K %d %d\\n\", tid, this->sig ? this->sig : 9);",
            ],
        );
    }
    if let Some(id) = &r.cgroup {
        // --cgroup: the process's own group, before the E record.
        let g = format!("printf(\"G %d %d\\n\", tid, {id});");
        w.clause(returns, Some(&guard("")), &[&g]);
    }
    w.clause(
        returns,
        Some(&guard("")),
        &[
            "this->ok = 0;",
            "this->more = 0;",
            "this->cut = 0;",
            "this->pc = 0;",
            "this->c = \"\";",
        ],
    );
    let read = format!("this->c = copyinstr({path}, {size});");
    let full = format!("this->more = strlen(this->c) == {CHUNK};");
    w.clause(returns, Some(&guard("")), &[&read, "this->ok = 1;", &full]);
    // Only after the last chunk: the path goes on iff the byte after it is not the NUL. Set
    // to 1 first, so that a fault leaves "cut", never a silently whole path.
    let cut_check = |w: &mut DWriter| {
        let byte = format!(
            "this->more = *(uint8_t *)copyin({path} + {}, 1) != 0;",
            chunks * CHUNK
        );
        w.clause(
            returns,
            Some(&guard(" && this->more")),
            &["this->more = 1;", &byte],
        );
    };
    if chunks == 1 {
        cut_check(w);
    }
    match r.detail {
        Detail::None => {}
        Detail::Of(TargetOs::Linux, layout) => detail::linux_return_clauses(
            w,
            &detail::Walk {
                probes: returns,
                ts,
                ret: r.ret,
                dfd: Some("self->dfd"),
                failed: "2",
            },
            path,
            layout,
        ),
        Detail::SharedWalk(layout) => {
            detail::linux_shared_return_clauses(w, returns, r.guard, path, layout);
        }
        Detail::Of(os, _) => detail::solaris_family_return_clauses(w, returns, os),
    }
    let record =
        format!("printf(\"E %d %d %d %d %d %d %d %d \\\"%S\\\" \\\"%S\\\"\\n\", {ts}, timestamp,");
    let values = format!("    uid, pid, tid, {}, this->ok, this->more,", r.ret);
    w.clause(
        returns,
        Some(&guard("")),
        &[&record, &values, "    execname, this->c);"],
    );
    for k in 1..chunks {
        let read = format!("this->c = copyinstr({path} + {}, {size});", k * CHUNK);
        // A fault leaves more = 0 and cut = 1: no further chunk, and the path is marked.
        w.clause(
            returns,
            Some(&guard(" && this->more")),
            &[
                "this->more = 0;",
                "this->cut = 1;",
                &read,
                "this->cut = 0;",
                "this->pc = 1;",
                &full,
            ],
        );
        if k == chunks - 1 {
            cut_check(w);
        }
        w.clause(
            returns,
            Some(&guard(" && this->pc")),
            &[
                "printf(\"C %d %d \\\"%S\\\"\\n\", tid, this->more, this->c);",
                "this->pc = 0;",
            ],
        );
    }
    w.clause(
        returns,
        Some(&guard(" && (this->more || this->cut)")),
        &["printf(\"T %d\\n\", tid);"],
    );
    let clear = [format!("{path} = 0;"), format!("{ts} = 0;")];
    w.clause(returns, Some(&guard("")), &[&clear[0], &clear[1]]);
}

/// Whether the script also traces 32-bit (ia32) opens: the syscall provider of DTrace for
/// Linux does not see them, `rawtp:raw_syscalls` does (x86_64 only: `TS_COMPAT`, `pt_regs`).
fn traces_compat(os: TargetOs) -> bool {
    os == TargetOs::Linux && cfg!(target_arch = "x86_64")
}

/// The ia32 entry clause. Own thread-local variables, so that a native open is never paired
/// with a compat one.
fn compat_entry_clause(w: &mut DWriter, filter: &str) {
    // Compat numbers: 5 open, 8 creat, 295 openat, 437 openat2; the path is the first
    // argument (bx) of open and creat, the second (cx) of openat and openat2.
    w.clause(
        &["rawtp:raw_syscalls::sys_enter".to_owned()],
        Some(&format!(
            "(curthread->thread_info.status & 2) && \
             (arg1 == 5 || arg1 == 8 || arg1 == 295 || arg1 == 437) && {filter}"
        )),
        &[
            "this->regs = (struct pt_regs *)arg0;",
            "self->cpath = arg1 == 295 || arg1 == 437 ? this->regs->cx : this->regs->bx;",
            "self->cts = timestamp;",
        ],
    );
}

/// The ia32 returns, in the same records as the native opens.
fn compat_return_clauses(w: &mut DWriter, chunks: u32) {
    return_clauses(
        w,
        &Returns {
            probes: &[SYS_EXIT.to_owned()],
            guard: "this->cts",
            ts: "self->cts",
            path: "self->cpath",
            ret: "(int)arg1",
            detail: Detail::None,
            killed: true,
            cgroup: None,
        },
        chunks,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_are_lost_events_and_nothing_else_is() {
        assert_eq!(lost_events("dtrace: 24881 drops on CPU 1"), Some(24881));
        assert_eq!(
            lost_events("dtrace: 26650 dynamic variable drops"),
            Some(26650)
        );
        assert_eq!(
            lost_events("dtrace: 3 dynamic variable drops with non-empty dirty list"),
            Some(3)
        );
        assert_eq!(lost_events("dtrace: 5 aggregation drops on CPU 0"), Some(5));
        assert_eq!(lost_events("dtrace: 1 speculative drop"), Some(1));
        for other in [
            "dtrace: error in dt_clause_15 for probe ID 3565 (syscall:vmlinux:openat:return): invalid address (0x0) at BPF pc 1267",
            "dtrace: error on enabled probe ID 5 (ID 3: syscall::open:return): invalid address (0x0) in action #1 at DIF offset 28",
            "dtrace: 12 drops on CPU",
            "dtrace: 12 drops on CPU x",
            "dtrace: x drops on CPU 1",
            "dtrace: could not enable tracing: failed to create BPF map 'mem': Too big",
            "12 drops on CPU 1",
        ] {
            assert_eq!(lost_events(other), None, "{other}");
        }
    }

    #[test]
    fn bad_user_addresses_are_faults_and_nothing_else_is() {
        let d = DTrace;
        for fault in [
            "dtrace: error in dt_clause_15 for probe ID 3565 (syscall:vmlinux:openat:return): invalid address (0x0) at BPF pc 1267",
            "dtrace: error on enabled probe ID 5 (ID 3: syscall::open:return): invalid address (0x0) in action #1 at DIF offset 28",
        ] {
            assert_eq!(d.stderr_line(fault), StderrLine::Fault, "{fault}");
        }
        for other in [
            "dtrace: error in dt_clause_15 for probe ID 3565 (syscall:vmlinux:openat:return): invalid alignment (0x3) at BPF pc 12",
            "dtrace: could not enable tracing: invalid address (0x0)",
            "dtrace: 24881 drops on CPU 1",
        ] {
            assert_ne!(d.stderr_line(other), StderrLine::Fault, "{other}");
        }
    }

    #[test]
    fn descendants_of_this_process_are_found() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let found = descendants(&[std::process::id()]);
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            found.contains(&(child.id(), std::process::id())),
            "{found:?}"
        );
        assert!(!found.iter().any(|f| f.0 == std::process::id()));
    }
}
