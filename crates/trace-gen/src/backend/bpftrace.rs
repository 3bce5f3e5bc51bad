//! The bpftrace backend: a script for bpftrace 0.17+ on the `syscalls` tracepoints.
//!
//! What the script does, and why:
//! - one entry probe per open-family call the kernel has (`open`, `openat`, `openat2`,
//!   `creat`). bpftrace refuses a lone tracepoint that does not exist and fails to generate
//!   code when one of a list is missing, so the list is decided before the script is written
//!   ([`Bpftrace::detect`] reads tracefs) and only existing tracepoints are named;
//! - the entry stashes the user pointer and the time per thread (`@path[tid]`, `@ts[tid]`);
//!   the return reads the string (at entry the page may not be faulted in yet: bpftrace #2005)
//!   and prints the entry and the return line with ONE `printf`, one event: bpftrace reads
//!   its per-CPU buffers while the probes write them, and with two `printf`s it was measured
//!   to print other CPUs' events between a thread's entry and its return, among them older
//!   events of the same thread (it had migrated), which pairs them wrongly. One event cannot
//!   be split. The return line has no `comm:` (it is optional in the grammar): with two
//!   copies of `comm` and the 200-byte path the event no longer fits the 512-byte BPF stack;
//! - timestamps are `nsecs` (CLOCK_MONOTONIC); trace-gen writes the clock headers;
//! - following (`-p`, `-c`): `@traced[tgid]` is seeded in `BEGIN` and grown on
//!   `sched_process_fork`, entries of exited tasks are removed on `sched_process_exit`;
//! - system-wide, bpftrace's own pid (`pid` in `BEGIN`, which runs in bpftrace's process) and
//!   trace-gen's pid are excluded, so the tracer does not trace itself;
//! - `BEGIN` prints [`ATTACHED_MARKER`]: bpftrace starts reading its event buffers only after
//!   every probe is attached, so when trace-gen reads the marker, tracing is live;
//! - `END` clears every map, or bpftrace would print them on stdout at exit;
//! - bpftrace 0.17 drops the events still in its buffers when it gets SIGINT, so the script
//!   has a fence: a `getppid()` by trace-gen (positional `$1`) prints [`FENCE_MARKER`] and the
//!   CPU, and trace-gen stops bpftrace only once it has read that line from every CPU. The
//!   `-c` command's pid is `$2`.
//!
//! At run time, bpftrace needs root and tracefs ([`Backend::preflight`]); it reports lost
//! events as `Lost N events` on stdout ([`Backend::classify`]), prints names raw (trace-gen
//! rejoins split entries), and says only "tracepoint not found" when tracefs is missing
//! ([`Backend::diagnose`] names the mount command).
//!
//! User values reach the script only as numbers (`u32` formatted by Rust) or as a validated
//! [`CommName`](crate::script::CommName) inside a string literal.

use super::{classify_line, is_executable, Backend, Env, StderrLine, TracerLine};
use crate::error::Error;
use crate::script::{ScriptSpec, Target, ATTACHED_MARKER, FENCE_MARKER};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

/// The tracefs `events` directory, where it is mounted.
pub fn tracefs_events() -> Option<PathBuf> {
    [
        "/sys/kernel/tracing/events",
        "/sys/kernel/debug/tracing/events",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_dir())
}

/// bpftrace 0.17's largest `BPFTRACE_STRLEN` (strings live on the 512-byte BPF stack).
pub const MAX_STRLEN: u32 = 200;

/// Keys per map (`BPFTRACE_MAP_KEYS_MAX`): threads inside an open at once, and followed
/// processes. bpftrace's default is 4096.
pub const MAP_KEYS_MAX: u32 = 65536;

/// An open-family system call and the name of its path argument in the tracepoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syscall {
    /// The call, as in `sys_enter_NAME`.
    pub name: &'static str,
    /// The tracepoint field holding the path pointer.
    pub path_arg: &'static str,
}

/// Every open-family call Linux has on some architecture (arm64 and riscv have only the
/// `openat` ones).
pub const LINUX_OPEN_CALLS: [Syscall; 4] = [
    Syscall {
        name: "open",
        path_arg: "filename",
    },
    Syscall {
        name: "openat",
        path_arg: "filename",
    },
    Syscall {
        name: "openat2",
        path_arg: "filename",
    },
    Syscall {
        name: "creat",
        path_arg: "pathname",
    },
];

/// The bpftrace backend, with the system calls to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bpftrace {
    syscalls: Vec<Syscall>,
}

impl Bpftrace {
    /// A backend probing exactly these calls.
    pub fn with_syscalls(syscalls: Vec<Syscall>) -> Bpftrace {
        Bpftrace { syscalls }
    }

    /// The calls this machine has: those of [`LINUX_OPEN_CALLS`] whose `sys_enter_` and
    /// `sys_exit_` tracepoints exist under `events_dir` (`.../tracing/events`). When tracefs
    /// cannot be read (not mounted, or not root, as for `--print-script`), every call the
    /// build architecture is known to have.
    pub fn detect(events_dir: Option<&Path>) -> Bpftrace {
        if let Some(dir) = events_dir {
            let dir = dir.join("syscalls");
            if dir.is_dir() {
                let has = |name: &str| {
                    dir.join(format!("sys_enter_{name}")).is_dir()
                        && dir.join(format!("sys_exit_{name}")).is_dir()
                };
                let found: Vec<Syscall> = LINUX_OPEN_CALLS
                    .iter()
                    .copied()
                    .filter(|s| has(s.name))
                    .collect();
                if !found.is_empty() {
                    return Bpftrace::with_syscalls(found);
                }
            }
        }
        let legacy = cfg!(any(
            target_arch = "x86_64",
            target_arch = "x86",
            target_arch = "arm"
        ));
        Bpftrace::with_syscalls(
            LINUX_OPEN_CALLS
                .iter()
                .copied()
                .filter(|s| legacy || s.name.starts_with("openat"))
                .collect(),
        )
    }

    /// The calls probed.
    pub fn syscalls(&self) -> &[Syscall] {
        &self.syscalls
    }

    /// `BPFTRACE_PERF_RB_PAGES` for a per-CPU buffer of `bytes`: 4 KiB pages, rounded up to
    /// the power of two the perf ring buffer requires.
    pub fn ring_buffer_pages(bytes: u64) -> u64 {
        bytes.div_ceil(4096).max(1).next_power_of_two()
    }
}

/// The predicate (without slashes) an entry probe needs, or `None` for none.
fn entry_predicate(spec: &ScriptSpec) -> Option<String> {
    let mut terms: Vec<String> = Vec::new();
    match &spec.target {
        Target::SystemWide { exclude } => {
            terms.push("pid != @tracer".to_owned());
            for pid in exclude {
                terms.push(format!("pid != {pid}"));
            }
        }
        Target::Pids(pids) if spec.follow => {
            let _ = pids; // seeded into @traced in BEGIN
            terms.push("@traced[pid]".to_owned());
        }
        Target::Pids(pids) => {
            let any: Vec<String> = pids.iter().map(|p| format!("pid == {p}")).collect();
            terms.push(if any.len() == 1 {
                any[0].clone()
            } else {
                format!("({})", any.join(" || "))
            });
        }
        Target::Command if spec.follow => terms.push("@traced[pid]".to_owned()),
        Target::Command => terms.push("pid == $2".to_owned()),
    }
    if let Some(uid) = spec.uid {
        terms.push(format!("uid == {uid}"));
    }
    if let Some(comm) = &spec.comm {
        // CommName holds printable ASCII without '"' or '\': a valid string literal as is.
        terms.push(format!("comm == {}", comm.string_literal()));
    }
    (!terms.is_empty()).then(|| terms.join(" && "))
}

impl Backend for Bpftrace {
    fn name(&self) -> &'static str {
        "bpftrace"
    }

    fn program(&self) -> &'static str {
        "bpftrace"
    }

    fn path_var(&self) -> &'static str {
        "BPFTRACE_PATH"
    }

    /// `bpftrace` from PATH (the bare name when it is not there, for the message).
    fn default_path(&self, env: Env) -> PathBuf {
        env("PATH")
            .and_then(|path| {
                std::env::split_paths(&path)
                    .map(|d| d.join("bpftrace"))
                    .find(|p| is_executable(p))
            })
            .unwrap_or_else(|| PathBuf::from("bpftrace"))
    }

    fn install_hint(&self) -> &'static str {
        "install it (Debian/Ubuntu: apt-get install bpftrace; Fedora: dnf install bpftrace)"
    }

    /// Root, and the syscall tracepoints in tracefs.
    fn preflight(&self) -> Result<(), Error> {
        if !crate::sys::is_root() {
            return Err(Error::NotRoot(self.program()));
        }
        if tracefs_events().is_none() {
            return Err(Error::NoTracefs);
        }
        Ok(())
    }

    /// The first line of `bpftrace --version` (`bpftrace v0.17.0`).
    fn version(&self, tracer: &Path) -> String {
        super::version_line(tracer).unwrap_or_else(|| self.program().to_owned())
    }

    /// Adds `Lost N events`, which bpftrace prints when a per-CPU buffer was full.
    fn classify<'a>(&self, line: &'a [u8]) -> TracerLine<'a> {
        match classify_line(line) {
            TracerLine::Chatter(l) => l
                .strip_prefix(b"Lost ")
                .and_then(|r| r.strip_suffix(b" events"))
                .and_then(|n| std::str::from_utf8(n).ok())
                .and_then(|n| n.parse().ok())
                .map_or(TracerLine::Chatter(l), TracerLine::Lost),
            other => other,
        }
    }

    /// bpftrace 0.17 cannot raise RLIMIT_MEMLOCK where the kernel accounts BPF memory by
    /// cgroup, and says so as an ERROR on every run: noise.
    fn stderr_line(&self, line: &str) -> StderrLine {
        if line.contains("couldn't set RLIMIT_MEMLOCK") {
            StderrLine::Noise
        } else {
            StderrLine::Show
        }
    }

    /// bpftrace says only "tracepoint not found" when tracefs is not mounted.
    fn diagnose(&self, status: ExitStatus, stderr: &str) -> Error {
        if stderr.contains("tracepoint not found") && tracefs_events().is_none() {
            return Error::NoTracefs;
        }
        super::tracer_failed(self, status, stderr)
    }

    fn script(&self, spec: &ScriptSpec) -> String {
        let mut s = String::new();
        s.push_str("// Generated by trace-gen: open-family system calls, one entry and one return line each.\n");
        let follow = spec.follow && !matches!(spec.target, Target::SystemWide { .. });

        s.push_str("BEGIN\n{\n");
        match &spec.target {
            Target::SystemWide { .. } => s.push_str("  @tracer = pid;\n"),
            Target::Pids(pids) if follow => {
                for pid in pids {
                    let _ = writeln!(s, "  @traced[{pid}] = 1;");
                }
            }
            Target::Command if follow => s.push_str("  @traced[$2] = 1;\n"),
            _ => {}
        }
        let _ = writeln!(s, "  printf(\"{ATTACHED_MARKER}\\n\");\n}}\n");
        let _ = writeln!(
            s,
            "tracepoint:syscalls:sys_enter_getppid\n/pid == $1/\n{{\n  printf(\"{FENCE_MARKER} %d\\n\", cpu);\n}}\n"
        );

        if follow {
            s.push_str(
                "tracepoint:sched:sched_process_fork\n/@traced[pid]/\n{\n  @traced[args->child_pid] = 1;\n}\n\n",
            );
            s.push_str("tracepoint:sched:sched_process_exit\n/@traced[tid]/\n{\n  delete(@traced[tid]);\n}\n\n");
        }

        let predicate = entry_predicate(spec);
        for call in &self.syscalls {
            let _ = writeln!(s, "tracepoint:syscalls:sys_enter_{}", call.name);
            if let Some(p) = &predicate {
                let _ = writeln!(s, "/{p}/");
            }
            let _ = writeln!(
                s,
                "{{\n  @path[tid] = args->{};\n  @ts[tid] = nsecs;\n}}\n",
                call.path_arg
            );
        }

        if !self.syscalls.is_empty() {
            let exits: Vec<String> = self
                .syscalls
                .iter()
                .map(|c| format!("tracepoint:syscalls:sys_exit_{}", c.name))
                .collect();
            s.push_str(&exits.join(",\n"));
            s.push_str(
                "\n/@ts[tid]/\n{\n  \
                 printf(\"=> uid: %d pid: %d tid: %d comm: %s open: %s %lld\\n<= uid: %d pid: %d tid: %d ret: %d %lld\\n\",\n    \
                 uid, pid, tid, comm, str(@path[tid]), @ts[tid], uid, pid, tid, args->ret, nsecs);\n  \
                 delete(@path[tid]);\n  delete(@ts[tid]);\n}\n\n",
            );
        }

        s.push_str("END\n{\n  clear(@path);\n  clear(@ts);\n");
        if follow {
            s.push_str("  clear(@traced);\n");
        }
        if matches!(spec.target, Target::SystemWide { .. }) {
            s.push_str("  clear(@tracer);\n");
        }
        s.push_str("}\n");
        s
    }

    fn args(&self, spec: &ScriptSpec, target_pid: Option<u32>) -> Vec<OsString> {
        // `$1`: trace-gen's pid, for the fence.
        let mut args = vec![OsString::from("-"), std::process::id().to_string().into()];
        if matches!(spec.target, Target::Command) {
            // `$2`. Without a pid yet (--print-script), a visible placeholder.
            args.push(target_pid.map_or_else(|| "PID".into(), |p| p.to_string().into()));
        }
        args
    }

    fn has_fence(&self) -> bool {
        true
    }

    fn rejoins_raw_names(&self) -> bool {
        true
    }

    fn env(&self, spec: &ScriptSpec) -> Vec<(OsString, OsString)> {
        vec![
            ("BPFTRACE_STRLEN".into(), MAX_STRLEN.to_string().into()),
            (
                "BPFTRACE_PERF_RB_PAGES".into(),
                Bpftrace::ring_buffer_pages(spec.buffer_size)
                    .to_string()
                    .into(),
            ),
            (
                "BPFTRACE_MAP_KEYS_MAX".into(),
                MAP_KEYS_MAX.to_string().into(),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::{CommName, TargetOs};

    fn spec(target: Target) -> ScriptSpec {
        ScriptSpec {
            target,
            follow: true,
            uid: None,
            comm: None,
            buffer_size: 1 << 20,
            target_os: TargetOs::Linux,
        }
    }

    fn all() -> Bpftrace {
        Bpftrace::with_syscalls(LINUX_OPEN_CALLS.to_vec())
    }

    #[test]
    fn probes_every_call_and_reads_the_path_at_return() {
        let s = all().script(&spec(Target::SystemWide { exclude: vec![77] }));
        for call in ["open", "openat", "openat2", "creat"] {
            assert!(
                s.contains(&format!("tracepoint:syscalls:sys_enter_{call}\n")),
                "{s}"
            );
            assert!(
                s.contains(&format!("tracepoint:syscalls:sys_exit_{call}")),
                "{s}"
            );
        }
        assert!(
            s.contains("@path[tid] = args->pathname;"),
            "creat names it pathname"
        );
        assert!(s.contains("str(@path[tid])"), "read at return");
        // One printf for both lines, so that nothing can come between them.
        assert_eq!(s.matches("printf(\"=> ").count(), 1, "{s}");
        assert!(
            s.contains("%lld\\n<= uid: %d pid: %d tid: %d ret: %d %lld\\n\""),
            "{s}"
        );
        assert!(!s.contains("str(args->"), "never read at entry");
        assert!(s.contains("/pid != @tracer && pid != 77/"), "{s}");
        assert!(s.contains("clear(@tracer)"));
    }

    #[test]
    fn only_detected_calls_are_named() {
        let b = Bpftrace::with_syscalls(vec![LINUX_OPEN_CALLS[1]]);
        let s = b.script(&spec(Target::Pids(vec![5])));
        assert!(s.contains("sys_enter_openat\n"));
        assert!(!s.contains("sys_enter_open\n") && !s.contains("openat2") && !s.contains("creat"));
    }

    #[test]
    fn pids_are_followed_through_a_fork_map() {
        let s = all().script(&spec(Target::Pids(vec![10, 20])));
        assert!(s.contains("@traced[10] = 1;\n  @traced[20] = 1;"), "{s}");
        assert!(s.contains("sched_process_fork\n/@traced[pid]/"));
        assert!(s.contains("/@traced[pid]/\n{\n  @path[tid]"));
    }

    #[test]
    fn no_follow_uses_literal_pids() {
        let mut sp = spec(Target::Pids(vec![10, 20]));
        sp.follow = false;
        let s = all().script(&sp);
        assert!(s.contains("/(pid == 10 || pid == 20)/"), "{s}");
        assert!(!s.contains("@traced"));
        sp.target = Target::Command;
        let s = all().script(&sp);
        assert!(s.contains("/pid == $2/"), "{s}");
    }

    #[test]
    fn command_target_is_a_positional_parameter() {
        let sp = spec(Target::Command);
        let s = all().script(&sp);
        assert!(s.contains("@traced[$2] = 1;"));
        let me = OsString::from(std::process::id().to_string());
        assert_eq!(
            all().args(&sp, Some(4242)),
            vec!["-".into(), me.clone(), "4242".into()]
        );
        assert_eq!(
            all().args(&spec(Target::Pids(vec![1])), None),
            vec!["-".into(), me]
        );
        assert!(
            s.contains(
                "sys_enter_getppid\n/pid == $1/\n{\n  printf(\"# trace-gen: fence %d\\n\", cpu);"
            ),
            "{s}"
        );
    }

    #[test]
    fn uid_and_comm_combine_with_and() {
        let mut sp = spec(Target::Pids(vec![3]));
        sp.uid = Some(1000);
        sp.comm = Some(CommName::new("Web Content").unwrap());
        let s = all().script(&sp);
        assert!(
            s.contains("/@traced[pid] && uid == 1000 && comm == \"Web Content\"/"),
            "{s}"
        );
    }

    #[test]
    fn hostile_names_never_reach_the_script() {
        for bad in [
            r#"x" } system("id") {"#,
            "a\\\"b",
            "x\n}",
            "",
            "0123456789abcdef",
            "caf\u{e9}",
        ] {
            assert!(CommName::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn ring_buffer_pages_are_a_power_of_two() {
        assert_eq!(Bpftrace::ring_buffer_pages(1), 1);
        assert_eq!(Bpftrace::ring_buffer_pages(4096), 1);
        assert_eq!(Bpftrace::ring_buffer_pages(4097), 2);
        assert_eq!(Bpftrace::ring_buffer_pages(3 << 20), 1024);
        let env = all().env(&spec(Target::Command));
        assert!(env.contains(&("BPFTRACE_STRLEN".into(), "200".into())));
        assert!(env.contains(&("BPFTRACE_PERF_RB_PAGES".into(), "256".into())));
    }

    #[test]
    fn lost_events_are_read_and_other_lines_classified_as_for_all() {
        let b = all();
        assert_eq!(b.classify(b"Lost 1234 events"), TracerLine::Lost(1234));
        assert_eq!(
            b.classify(b"Lost many events"),
            TracerLine::Chatter(b"Lost many events")
        );
        assert_eq!(b.classify(ATTACHED_MARKER.as_bytes()), TracerLine::Attached);
        assert_eq!(b.classify(b"# trace-gen: fence 1"), TracerLine::Fence(1));
        assert_eq!(
            b.stderr_line("ERROR: couldn't set RLIMIT_MEMLOCK: x"),
            StderrLine::Noise
        );
        assert_eq!(b.stderr_line("stdin:1: ERROR"), StderrLine::Show);
    }

    #[test]
    fn maps_are_cleared_at_end() {
        let s = all().script(&spec(Target::Command));
        let end = &s[s.find("END\n").unwrap()..];
        for map in ["@path", "@ts", "@traced"] {
            assert!(end.contains(&format!("clear({map});")), "{end}");
        }
    }
}
