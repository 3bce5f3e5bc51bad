//! The bpftrace backend (bpftrace 0.17+): every open of the open family, with its whole path
//! and exact process name, carried on a channel that no file or process name can forge.
//!
//! **The channel.** bpftrace runs with `-f json`: each `printf` becomes one line
//! `{"type": "printf", "data": "..."}` in which every byte of the text is escaped (bytes of
//! 0x80 and up as `\uffffffXX`), so one event is one line whatever bytes a path holds, and
//! nothing in it can start another line. Every event is ONE `printf` whose fields are all
//! numbers except the last, the path piece ([`decode`] reads them strictly: any other shape is
//! counted and reported, never copied). Lost events come as `lost_events` lines
//! (`# lost: N`).
//!
//! **Whole paths, in pieces.** A bpftrace string lives on the 512-byte BPF stack: with
//! `BPFTRACE_STRLEN` = [`STRLEN`] one `str()` yields at most [`CHUNK`] bytes. Each return
//! runs one program: a loop counts the pieces the path needs (a piece is full when none of
//! its 63 bytes is NUL, tested a 64-bit word at a time), a second loop prints piece K of N (one `printf`
//! statement, one stack slot; N reaches it through the map `@n`, so that Linux 6.1's verifier
//! sees one unknown number rather than 49 constants, each walked apart: it refused that).
//! [`MAX_CHUNKS`] x [`CHUNK`] = 4,158 bytes, more than PATH_MAX:
//! a path is marked cut (`path_truncated`, `...`) only when all 66 pieces were full. (Two
//! programs on one tracepoint, count then print, would allow 175-byte pieces, but were
//! measured to run a different number of times under load: opens went missing silently.)
//! trace-gen joins the pieces on (thread, entry time) and K/N, never on adjacency: bpftrace
//! drains its per-CPU buffers in turns and may print other CPUs' events between them.
//!
//! **Every open as the kernel saw it** ([`resolve`]): each `O` event also carries the open
//! flags, `MODE | RESOLVE << 16 | KIND << 32 | RF << 36 | RN << 40` and the path pointer; the
//! open's resolved path comes first as RN `R` events (a component's name as four numbers),
//! walked from the kernel's structures at return; io_uring opens come from the `io_uring`
//! tracepoints, `open_by_handle_at` from its own. trace-gen writes `flags:`, `mode:`,
//! `resolve:`, `via:`, `fault:` and `resolved:` (trace-format version 2).
//!
//! **Process names** are never formatted as text: the offset of `comm` in `task_struct` is
//! read from the kernel's BTF in user space ([`KernelOffsets`]) and checked by `BEGIN` (run in
//! bpftrace's own process) on "bpftrace"; without BTF, `BEGIN` searches for it. Each event
//! prints the 16 bytes as two `%lx` numbers (`%rx` of a buffer is exact too, but costs about
//! 23 us of bpftrace's CPU per event).
//!
//! **Start-up** is bpftrace's: its compiler, clang on the kernel types the script names,
//! the verifier (the return programs' walks, about 110,000 and 160,000 instructions), and
//! tracefs' event list, which bpftrace reads about twenty times for every `args->FIELD`: the
//! rarely firing probes read their fields at offsets from tracefs ([`fields`]), and no
//! offset is searched for in `BEGIN` (measured: 67,531 verifier instructions for the `comm`
//! search, 190 for the check).
//!
//! **Following** (`-p`, `-c`, as `strace -f`): `@traced[tgid]` is seeded in `BEGIN`; a new
//! task without `CLONE_THREAD` made by any thread of a traced process is added
//! (`task:task_newtask`, in the parent, before the child runs); a process is removed when
//! its LAST thread exits (`sched_process_exit` with `signal->live` at 0), so a main thread's
//! `pthread_exit` or an `exec` from another thread keeps it traced. Both print `P fork`/`P
//! exit` lines: trace-gen keeps the live set and stops when it is empty (after a fence, and
//! only if still empty), or at the `-c` command's own exit with `--stop-at-exit`.
//!
//! **One entry and one return program for every open** (`raw_syscalls:sys_enter`/`sys_exit`,
//! dispatching on the system call's number, [`native_nr`]): bpftrace builds, and the kernel
//! verifies, one program per tracepoint, and reads tracefs' whole event list about twenty
//! times for every `args` in the script; with the resolved-path walk in every
//! `syscalls:sys_exit_*` copy, start-up took 5-7 s (measured; 1.3 s of CPU now). These
//! probes run on every system call of the machine while tracing (a predicate: one map lookup
//! or pid test, then nothing); trace-gen says so at start-up.
//!
//! **ia32 opens** (32-bit programs on x86_64) do not fire the `syscalls` tracepoints:
//! `raw_syscalls` does, with the ia32 numbers, and `TS_COMPAT` in `thread_info.status` marks
//! them.
//!
//! **The read-at-return race.** The path is read from the caller's memory when the call
//! returns (at entry its page may not be there yet). Another thread of the process can
//! rewrite that buffer during the call: the trace then shows bytes the kernel never opened.
//! strace reads at entry and can be fooled the other way (a rewrite between its read and the
//! kernel's copy). The exact answer is the kernel's own copy (`struct filename` from
//! `getname()`, e.g. a kprobe on `do_filp_open`), a kernel-internal interface that trace-gen
//! does not use; treat a path of a process that races itself as what its memory held then.
//!
//! Also: the entry program knows the open-family calls the kernel has ([`Bpftrace::detect`]
//! reads tracefs); system-wide, bpftrace's and trace-gen's
//! own pids are left out; `BEGIN` prints [`ATTACHED_MARKER`] (bpftrace reads its buffers only
//! once every probe is attached); `END` clears every map; bpftrace 0.17 drops what is still
//! buffered on SIGINT, so the script has a fence (a `getppid()` by trace-gen prints
//! [`FENCE_MARKER`] and the CPU). At run time it needs root and tracefs, and its
//! `RLIMIT_MEMLOCK` complaint on every run is noise.
//!
//! User values reach the script only as numbers (`u32` formatted by Rust) or as a validated
//! [`CommName`](crate::script::CommName) inside a string literal.

pub mod decode;
pub mod fields;
pub mod resolve;
pub mod script;

use super::{is_executable, Backend, Decoder, Ending, Env, StderrLine};
use crate::error::Error;
use crate::script::{ScriptSpec, Target};
#[cfg(doc)]
use crate::script::{ATTACHED_MARKER, FENCE_MARKER};
use std::ffi::OsString;
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

/// `BPFTRACE_STRLEN`: small enough that the return program (two strings compared, the
/// resolved-path walk of [`resolve`] with its own printf, then a printf of ten numbers, two
/// 64-bit words and one string, in loops) fits the 512-byte BPF stack of bpftrace 0.17: every
/// `str()` temporary takes STRLEN bytes (measured: 88 fails with the walk, 96 without it).
pub const STRLEN: usize = 64;

/// The bytes of path in one piece: `str(p, n)` yields at most `STRLEN - 1` bytes.
pub const CHUNK: usize = STRLEN - 1;

/// Pieces read at most: 66 x 63 = 4,158 bytes, more than PATH_MAX (4,096 with its NUL).
pub const MAX_CHUNKS: usize = 66;

/// Keys per map (`BPFTRACE_MAP_KEYS_MAX`): threads inside an open at once, and followed
/// processes. bpftrace's default is 4096.
pub const MAP_KEYS_MAX: u32 = 65536;

/// An open-family system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syscall {
    /// The call, as in `sys_enter_NAME`.
    pub name: &'static str,
}

/// The number of the open-family call `name` in the build architecture's native ABI (the
/// `id` of `raw_syscalls:sys_enter`), when the architecture has it.
pub fn native_nr(name: &str) -> Option<libc::c_long> {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "arm"))]
    let legacy: [(&str, libc::c_long); 2] = [("open", libc::SYS_open), ("creat", libc::SYS_creat)];
    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86", target_arch = "arm")))]
    let legacy: [(&str, libc::c_long); 0] = [];
    [
        ("openat", libc::SYS_openat),
        ("openat2", libc::SYS_openat2),
        ("open_by_handle_at", libc::SYS_open_by_handle_at),
    ]
    .into_iter()
    .chain(legacy)
    .find(|(n, _)| *n == name)
    .map(|(_, nr)| nr)
}

/// Every open-family call Linux has on some architecture (arm64 and riscv have only the
/// `openat` ones), and `open_by_handle_at` (no path argument: its handle is opened).
pub const LINUX_OPEN_CALLS: [Syscall; 5] = [
    Syscall { name: "open" },
    Syscall { name: "openat" },
    Syscall { name: "openat2" },
    Syscall { name: "creat" },
    Syscall {
        name: "open_by_handle_at",
    },
];

/// The bpftrace backend, with the system calls to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bpftrace {
    syscalls: Vec<Syscall>,
    /// Whether ia32 opens are traced through `raw_syscalls` (x86_64).
    compat: bool,
    /// The inode of trace-gen's PID namespace when it is not the host's (the initial one):
    /// pids are then translated into it ([`crate::sys::pid_namespace`]).
    pid_ns: Option<u64>,
    /// Whether io_uring opens are traced (the `io_uring` tracepoints exist).
    io_uring: bool,
    /// Where the running kernel keeps what `BEGIN` would otherwise search for, read from its
    /// BTF ([`KernelOffsets::running`]); `None`: `BEGIN` searches.
    offsets: KernelOffsets,
    /// The offsets of the fields the rarely firing probes read ([`fields`]).
    tp_fields: fields::TracepointFields,
    /// Whether the script made for the run resolves paths (set by [`Backend::script`]): a
    /// refused walk is then explained ([`Backend::diagnose`]).
    resolving: std::sync::OnceLock<bool>,
}

/// The probes whose programs hold the resolved-path walk: the ones a kernel's verifier may
/// refuse (Linux 6.1's refuses `sys_exit`'s; measured in the Debian guest).
const WALK_PROBES: [&str; 2] = [
    "tracepoint:raw_syscalls:sys_exit",
    "tracepoint:io_uring:io_uring_complete",
];

/// The probe of bpftrace's "Error loading program: PROBE (try -v)" line in `stderr`: the
/// kernel refused that program.
pub fn refused_program(stderr: &str) -> Option<&str> {
    stderr.lines().find_map(|l| {
        let rest = l.split_once("Error loading program: ")?.1;
        Some(rest.split_whitespace().next().unwrap_or(rest))
    })
}

/// Byte offsets in kernel structs, read from the running kernel's BTF in user space so that
/// `BEGIN` does not search for them: the search for `comm` alone made the kernel's verifier
/// walk 67,000 instructions (about 50 ms of every start, measured).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelOffsets {
    /// `task_struct.comm`.
    pub comm: Option<u64>,
    /// `struct pid`'s `numbers[]` (the PID-namespace translation).
    pub pid_numbers: Option<u64>,
}

impl KernelOffsets {
    /// The running kernel's, from `/sys/kernel/btf/vmlinux` (none without BTF).
    pub fn running() -> KernelOffsets {
        let o = crate::backend::dtrace::btf::running_offsets(&[
            ("task_struct", "comm"),
            ("pid", "numbers"),
        ]);
        match o.as_deref() {
            Some(&[comm, pid_numbers]) => KernelOffsets { comm, pid_numbers },
            _ => KernelOffsets::default(),
        }
    }
}

impl Bpftrace {
    /// A backend probing exactly these calls, and ia32 opens on x86_64.
    pub fn with_syscalls(syscalls: Vec<Syscall>) -> Bpftrace {
        Bpftrace {
            syscalls,
            compat: cfg!(target_arch = "x86_64"),
            pid_ns: None,
            io_uring: true,
            offsets: KernelOffsets::default(),
            tp_fields: fields::TracepointFields::default(),
            resolving: std::sync::OnceLock::new(),
        }
    }

    /// A backend probing exactly these calls, and ia32 opens when `ia32` (golden files are
    /// made this way, whatever the build machine).
    pub fn new(syscalls: Vec<Syscall>, ia32: bool) -> Bpftrace {
        Bpftrace {
            syscalls,
            compat: ia32,
            pid_ns: None,
            io_uring: true,
            offsets: KernelOffsets::default(),
            tp_fields: fields::TracepointFields::default(),
            resolving: std::sync::OnceLock::new(),
        }
    }

    /// The calls this machine has: those of [`LINUX_OPEN_CALLS`] whose `sys_enter_` and
    /// `sys_exit_` tracepoints exist under `events_dir` (`.../tracing/events`). When tracefs
    /// cannot be read (not mounted, or not root, as for `--print-script`), every call the
    /// build architecture is known to have.
    pub fn detect(events_dir: Option<&Path>) -> Bpftrace {
        let mut b = Bpftrace::detect_calls(events_dir);
        b.pid_ns = crate::sys::pid_namespace();
        b.offsets = KernelOffsets::running();
        b
    }

    /// The same backend, with these kernel offsets in the script (golden files, tests).
    pub fn with_offsets(mut self, offsets: KernelOffsets) -> Bpftrace {
        self.offsets = offsets;
        self
    }

    /// The kernel offsets written into the script as numbers.
    pub fn offsets(&self) -> KernelOffsets {
        self.offsets
    }

    /// The same backend, reading these tracepoint fields at their offsets (tests).
    pub fn with_tracepoint_fields(mut self, f: fields::TracepointFields) -> Bpftrace {
        self.tp_fields = f;
        self
    }

    /// The tracepoint fields read at their offsets.
    pub fn tracepoint_fields(&self) -> &fields::TracepointFields {
        &self.tp_fields
    }

    /// The same backend, for trace-gen running in the PID namespace `inode` (not the host's).
    pub fn in_pid_namespace(mut self, inode: u64) -> Bpftrace {
        self.pid_ns = Some(inode);
        self
    }

    /// The PID namespace the script translates pids into, when not the host's.
    pub fn pid_namespace(&self) -> Option<u64> {
        self.pid_ns
    }

    /// [`Bpftrace::detect`] without the namespace.
    fn detect_calls(events_dir: Option<&Path>) -> Bpftrace {
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
                    let mut b = Bpftrace::with_syscalls(found);
                    b.compat &= dir
                        .parent()
                        .is_some_and(|events| events.join("raw_syscalls/sys_enter").is_dir());
                    b.io_uring = dir.parent().is_some_and(|events| {
                        ["io_uring_submit_req", "io_uring_complete"]
                            .iter()
                            .all(|t| events.join("io_uring").join(t).is_dir())
                    });
                    if let Some(events) = dir.parent() {
                        b.tp_fields = fields::TracepointFields::read(events);
                    }
                    return b;
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

    /// Whether ia32 opens are traced (through `raw_syscalls`).
    pub fn traces_ia32(&self) -> bool {
        self.compat
    }

    /// `BPFTRACE_PERF_RB_PAGES` for a per-CPU buffer of `bytes`: 4 KiB pages, rounded up to
    /// the power of two the perf ring buffer requires.
    pub fn ring_buffer_pages(bytes: u64) -> u64 {
        bytes.div_ceil(4096).max(1).next_power_of_two()
    }
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

    /// bpftrace's `-f json` lines, read strictly, pieces of paths joined
    /// ([`decode::JsonDecoder`]).
    fn decoder(&self) -> Option<Box<dyn Decoder>> {
        Some(Box::<decode::JsonDecoder>::default())
    }

    /// The script prints `P fork`/`P exit` lines whenever it traces chosen processes.
    fn reports_processes(&self, spec: &ScriptSpec) -> bool {
        !matches!(spec.target, Target::SystemWide { .. })
    }

    /// bpftrace 0.17 cannot raise RLIMIT_MEMLOCK where the kernel accounts BPF memory by
    /// cgroup, and says so as an ERROR on every run: noise.
    fn stderr_line(&self, line: &str) -> StderrLine {
        if line.contains("couldn't set RLIMIT_MEMLOCK") || resolve::is_addrspace_warning(line) {
            StderrLine::Noise
        } else if refused_program(line).is_some() {
            // bpftrace may go on printing the verifier's log for a long while (minutes in
            // an emulated guest) before it exits: diagnosed now instead.
            StderrLine::Fatal
        } else {
            StderrLine::Show
        }
    }

    /// bpftrace says only "tracepoint not found" when tracefs is not mounted.
    fn diagnose(&self, status: ExitStatus, stderr: &str) -> Error {
        if stderr.contains("tracepoint not found") && tracefs_events().is_none() {
            return Error::NoTracefs;
        }
        if let Some(probe) = refused_program(stderr) {
            if WALK_PROBES.contains(&probe) && self.resolving.get() == Some(&true) {
                return Error::Unsupported {
                    tracer: self.program(),
                    why: format!(
                        "this kernel's BPF verifier refused the program of {probe}, which \
                         resolves each open's path (a walk of the kernel's dentries that older \
                         verifiers, as Linux 6.1's, cannot prove bounded): nothing was traced; \
                         --no-resolve traces the same opens without resolved paths"
                    ),
                };
            }
        }
        super::tracer_failed(self, status, stderr)
    }

    fn script(&self, spec: &ScriptSpec) -> String {
        let _ = self.resolving.set(spec.resolve_paths);
        script::render(self, spec)
    }

    fn args(&self, spec: &ScriptSpec, target_pid: Option<u32>) -> Vec<OsString> {
        // JSON lines: the unforgeable channel. `$1`: trace-gen's pid, for the fence.
        let mut args = vec![
            OsString::from("-f"),
            "json".into(),
            "-".into(),
            std::process::id().to_string().into(),
        ];
        if matches!(spec.target, Target::Command) {
            // `$2`. Without a pid yet (--print-script), a visible placeholder.
            args.push(target_pid.map_or_else(|| "PID".into(), |p| p.to_string().into()));
        }
        args
    }

    /// The cost of tracing ia32 opens, and what the resolved paths cannot show, said once at
    /// start-up.
    fn startup_note(&self, _spec: &ScriptSpec) -> Option<String> {
        let ia32 = if self.compat {
            "opens, native and 32-bit (ia32), are traced through raw_syscalls: a small probe \
             runs at the entry and return of every system call of the machine while tracing"
        } else {
            "opens are traced through raw_syscalls: a small probe runs at the entry and return \
             of every system call of the machine while tracing; 32-bit (ia32) opens are not \
             traced on this machine (not x86_64)"
        };
        let uring = if self.io_uring {
            "io_uring opens refused before they start (an unreadable name, bad flags) and \
             direct-descriptor opens are not shown"
        } else {
            "io_uring opens are not traced on this machine (no io_uring tracepoints)"
        };
        Some(format!(
            "{ia32}; {uring}; no resolved path for files the kernel names itself (pipe:[N], \
             socket:[N], anon_inode:...) nor for paths of more than {} pieces (32 bytes of a name each, or a mount crossed)",
            resolve::DEPTH
        ))
    }

    fn has_fence(&self) -> bool {
        true
    }

    /// Killed after the drain and not waited for: its probes, programs, maps and buffers are
    /// file descriptors the kernel releases at its exit (about 60 ms per probe, an RCU grace
    /// period each, over a second in all, that trace-gen does not wait for).
    fn ending(&self) -> Ending {
        Ending::Kill
    }

    fn env(&self, spec: &ScriptSpec) -> Vec<(OsString, OsString)> {
        vec![
            ("BPFTRACE_STRLEN".into(), STRLEN.to_string().into()),
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
    use crate::script::{CommName, TargetOs, ATTACHED_MARKER};

    fn spec(target: Target) -> ScriptSpec {
        ScriptSpec {
            target,
            follow: true,
            stop_at_exit: false,
            resolve_paths: true,
            uid: None,
            comm: None,
            cgroup: None,
            buffer_size: 1 << 20,
            target_os: TargetOs::Linux,
        }
    }

    fn all() -> Bpftrace {
        Bpftrace {
            syscalls: LINUX_OPEN_CALLS.to_vec(),
            compat: true,
            pid_ns: None,
            io_uring: true,
            offsets: KernelOffsets::default(),
            tp_fields: fields::TracepointFields::default(),
            resolving: std::sync::OnceLock::new(),
        }
    }

    /// The block of `s` that starts with the line `head`.
    fn block<'a>(s: &'a str, head: &str) -> &'a str {
        let start = s
            .find(&format!("\n{head}\n"))
            .unwrap_or_else(|| panic!("no {head:?} in\n{s}"))
            + 1;
        let end = s[start..].find("\n}\n").unwrap() + start + 3;
        &s[start..end]
    }

    #[test]
    fn probes_every_call_and_reads_the_path_at_return_in_pieces() {
        let s = all().script(&spec(Target::SystemWide { exclude: vec![77] }));
        // One entry program and one return program for every call, native and ia32.
        let entry = block(&s, "tracepoint:raw_syscalls:sys_enter");
        // The call's number first (every open-family number, native and ia32, once), then
        // the predicate, before any map lookup.
        assert!(
            entry.contains("{\n  $id = args->id;\n  if ($id == 2 || $id == 257 || $id == 437 || $id == 85 || $id == 304 || $id == 5 || $id == 8 || $id == 295 || $id == 342) {\n    if (pid != @tracer && pid != 77) {\n"),
            "{entry}"
        );
        assert!(
            !entry.contains("\n/"),
            "no predicate before the number: {entry}"
        );
        for call in LINUX_OPEN_CALLS {
            if let Some(nr) = native_nr(call.name) {
                assert!(
                    entry.contains(&format!("  if ($id == {nr}) {{ @d[tid] = ")),
                    "{entry}"
                );
                assert!(entry.contains(&format!("}} // {}\n", call.name)), "{entry}");
            }
        }
        assert!(
            !s.contains("sys_enter_open") && !s.contains("sys_exit_"),
            "{s}"
        );
        assert_eq!(s.matches("tracepoint:raw_syscalls:sys_exit\n").count(), 1);
        assert!(
            entry.contains("@d[tid] = ((uint64)(0x241),")
                && entry.contains("(uint64)($a0), nsecs, (uint64)0); } // creat\n"),
            "creat: its path is the first argument, its flags O_CREAT|O_WRONLY|O_TRUNC: {entry}"
        );
        assert!(!s.contains("str(args->"), "never read at entry");
        assert_eq!(
            s.matches("args->").count(),
            11,
            "each args field read once (bpftrace reads tracefs' event list for each): {s}"
        );
        // With the fields' offsets known, the rare probes name `args` once each; the
        // per-system-call ones keep their direct loads.
        let mut f = fields::TracepointFields::default();
        let field = |offset, size, signed| fields::Field {
            offset,
            size,
            signed,
        };
        f.insert("task", "task_newtask", "pid", field(8, 4, true));
        f.insert("task", "task_newtask", "clone_flags", field(32, 8, false));
        f.insert(
            "io_uring",
            "io_uring_submit_req",
            "req",
            field(16, 8, false),
        );
        f.insert(
            "io_uring",
            "io_uring_submit_req",
            "opcode",
            field(32, 1, false),
        );
        f.insert("io_uring", "io_uring_complete", "req", field(16, 8, false));
        f.insert("io_uring", "io_uring_complete", "res", field(32, 4, true));
        let s2 = all()
            .with_tracepoint_fields(f)
            .script(&spec(Target::Command));
        assert_eq!(s2.matches("args->").count(), 7, "{s2}");
        assert_eq!(s2.matches("$a = (uint64)args;").count(), 3, "{s2}");
        let fork = block(&s2, "tracepoint:task:task_newtask");
        assert!(
            fork.contains(
                "  if (!(*(uint64 *)($a + 32) & 0x10000)) {\n    $cp = *(int32 *)($a + 8);"
            ),
            "{fork}"
        );
        let submit = block(&s2, "tracepoint:io_uring:io_uring_submit_req");
        assert!(
            submit.contains("  $opc = *(uint8 *)($a + 32);\n  if ($opc == 18 || $opc == 28) {\n    $r = *(uint64 *)($a + 16);"),
            "{submit}"
        );
        let complete = block(&s2, "tracepoint:io_uring:io_uring_complete");
        assert!(
            complete.contains("  $r = *(uint64 *)($a + 16);\n  if (@ut[$r]) {\n    $res = (int64)*(int32 *)($a + 32);"),
            "{complete}"
        );
        // One program per return: the count, then the print loop with ONE printf.
        assert_eq!(
            s.matches("while ($n < 66)").count(),
            2,
            "every return, and io_uring's copy of the name: {s}"
        );
        // Four words, then the other four only when the first 32 bytes hold no NUL.
        assert_eq!(s.matches("$z &= 0x8080808080808080;\n").count(), 4);
        assert_eq!(
            s.matches("$z &= 0x8080808080808080;\n        if ($z == 0) {\n          $w = *(uint64 *)($p + $off + 32); $z = ").count(),
            1,
            "{s}"
        );
        assert_eq!(s.matches("  if ($z) { break; }\n").count(), 2);
        assert!(
            !s.contains("== str("),
            "pieces are counted with words, not strings"
        );
        assert_eq!(
            (
                s.matches("printf(\"W ").count(),
                s.matches("printf(\"O ").count()
            ),
            (1, 1),
            "every return (W, then C for a long path), and io_uring (O)"
        );
        assert!(
            s.contains("      str($p, 64));\n      $k = 1;\n")
                && s.contains(
                    "printf(\"C %d %lld %d %s\\n\", tid, $ts, $k, str($p + $k * 63, 64));"
                ),
            "{s}"
        );
        let mut sp = spec(Target::Command);
        sp.resolve_paths = false;
        let nr = all().script(&sp);
        assert!(
            nr.contains("$k, $n, str($p + $k * 63, 64));") && !nr.contains("printf(\"W "),
            "without the walk, the O events: {nr}"
        );
        // N reaches the printing loop plus the entry's 0 (read from the map, an unknown
        // number to the verifier): with N a constant per path, Linux 6.1's verifier refuses
        // the program.
        assert_eq!(s.matches("$n = $n + $pz;").count(), 1, "{s}");
        assert!(s.contains("      $pz = $d.5;\n      $n = 1;\n"), "{s}");
        assert!(
            s.contains("$c0 = *(uint64 *)$c; $c1 = *(uint64 *)($c + 8);"),
            "comm as two words"
        );
        assert!(
            !s.contains("%s\", comm") && !s.contains(", comm,"),
            "comm never as text"
        );
        assert!(s.contains("clear(@tracer)"));
        assert!(!s.contains("task_newtask") && !s.contains("sched_process_exit"));
    }

    #[test]
    fn the_comm_offset_is_found_from_bpftraces_own_name() {
        let s = all().script(&spec(Target::Command));
        let begin = block(&s, "BEGIN");
        assert!(begin.contains("== 0x6563617274667062)"), "{begin}");
        assert!(begin.contains("printf(\"E "), "{begin}");
        assert!(
            begin.ends_with(&format!("  printf(\"{ATTACHED_MARKER}\\n\");\n}}\n")),
            "{begin}"
        );
    }

    #[test]
    fn offsets_known_from_btf_are_numbers_checked_once_not_searched() {
        let known = KernelOffsets {
            comm: Some(1752),
            pid_numbers: Some(96),
        };
        let s = all().with_offsets(known).script(&spec(Target::Command));
        let begin = block(&s, "BEGIN");
        assert!(begin.contains("  @commoff = (uint64)1752;\n"), "{begin}");
        assert!(
            begin.contains("if (*(uint64 *)((uint64)curtask + 1752) != 0x6563617274667062 || *(uint64 *)((uint64)curtask + 1760) != 0) { @commoff = 0; }"),
            "still checked on bpftrace's own name: {begin}"
        );
        assert!(begin.contains("printf(\"E "), "{begin}");
        assert!(!begin.contains("while"), "no search: {begin}");
        // Every event reads comm at the number (BEGIN ended the run if it was wrong), not
        // through a map lookup.
        let uring = all().with_offsets(known).script(&spec(Target::Command));
        assert!(uring.contains("io_uring_submit_req"), "{uring}");
        assert_eq!(
            uring.matches("$c = (uint64)curtask + 1752;").count(),
            2,
            "the return and io_uring's submission: {uring}"
        );
        assert!(!uring.replace(begin, "").contains("@commoff;"), "{uring}");
        let searched = all().script(&spec(Target::Command));
        assert_eq!(
            searched.matches("$c = (uint64)curtask + @commoff;").count(),
            2,
            "{searched}"
        );
        let ns = all()
            .with_offsets(known)
            .in_pid_namespace(4026532000)
            .script(&spec(Target::Command));
        let begin = block(&ns, "BEGIN");
        assert!(begin.contains("  @numoff = (uint64)96;\n"), "{begin}");
        assert!(!begin.contains("while ($off"), "no search: {begin}");
        assert!(
            begin.contains("->ns.inum != 4026532000)"),
            "still checked: {begin}"
        );
        // Without BTF, both are searched for.
        let ns = all()
            .in_pid_namespace(4026532000)
            .script(&spec(Target::Command));
        let begin = block(&ns, "BEGIN");
        assert!(begin.contains("while ($off < 8192)") && begin.contains("while ($off < 512)"));
    }

    #[test]
    fn the_running_kernels_offsets_come_from_its_btf() {
        // This machine has BTF (as every kernel bpftrace's BTF support needs): comm is found.
        if std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
            let o = KernelOffsets::running();
            assert!(o.comm.is_some_and(|c| c > 0 && c % 8 == 0), "{o:?}");
            assert!(o.pid_numbers.is_some(), "{o:?}");
        } else {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "no BTF here");
        }
    }

    #[test]
    fn ia32_opens_go_through_raw_syscalls_with_ts_compat() {
        let s = all().script(&spec(Target::Pids(vec![5])));
        let enter = block(&s, "tracepoint:raw_syscalls:sys_enter");
        assert!(enter.contains("\n    if (@traced[pid]) {\n"), "{enter}");
        let (ia32, native) = enter
            .split_once("      if (curtask->thread_info.status & 0x2) {\n")
            .and_then(|(_, rest)| rest.split_once("      } else {\n"))
            .unwrap_or_else(|| panic!("ia32 calls apart: {enter}"));
        for (id, path) in [(5, 0), (8, 0), (295, 1), (437, 1), (342, 9)] {
            let path = if path == 9 {
                "0".to_owned()
            } else {
                format!("$a{path}")
            };
            assert!(
                ia32.contains(&format!("        if ($id == {id}) {{ @d[tid] = "))
                    && ia32.contains(&format!("(uint64)({path}), nsecs, (uint64)0); }} //")),
                "{ia32}"
            );
        }
        assert!(
            native.contains("// openat\n") && !native.contains("(ia32)"),
            "{native}"
        );
        assert!(
            ia32.contains("@d[tid] = ((uint64)(*(uint64 *)uptr($a2)), ((uint64)(*(uint64 *)uptr($a2 + 8)) & 0xffff) | ((uint64)(*(uint64 *)uptr($a2 + 16)) & 0xffff) << 16 | 2 << 32,"),
            "openat2's how, read for ia32 too: {ia32}"
        );
        // The return tests the call's number as the entry does, then looks the thread's
        // entry up once: its value is the test, no predicate.
        let ids = "$id == 2 || $id == 257 || $id == 437 || $id == 85 || $id == 304 || $id == 5 || $id == 8 || $id == 295 || $id == 342";
        assert!(
            s.contains(&format!("tracepoint:raw_syscalls:sys_exit\n{{\n  $id = args->id;\n  if ({ids}) {{\n    $d = @d[tid];\n    if ($d.4) {{\n      $ret = args->ret;\n      $p = uptr((int8 *)$d.3);")),
            "{s}"
        );
        assert!(
            s.contains(&format!(
                "tracepoint:raw_syscalls:sys_enter\n{{\n  $id = args->id;\n  if ({ids}) {{\n"
            )),
            "{s}"
        );
        // Ten entries (five calls, native and ia32), then one lookup and one delete.
        assert_eq!(s.matches("@d[tid]").count(), 10 + 2, "{s}");
        let mut b = all();
        b.compat = false;
        let s = b.script(&spec(Target::Command));
        assert!(!s.contains("thread_info") && !s.contains("(ia32)"), "{s}");
        assert!(
            s.contains("tracepoint:raw_syscalls:sys_exit\n"),
            "every return: {s}"
        );
    }

    #[test]
    fn only_detected_calls_are_named() {
        let b = Bpftrace::with_syscalls(vec![LINUX_OPEN_CALLS[1]]);
        let s = b.script(&spec(Target::Pids(vec![5])));
        assert!(s.contains("} // openat\n"), "{s}");
        for other in ["open", "openat2", "creat", "open_by_handle_at"] {
            assert!(!s.contains(&format!("}} // {other}\n")), "{other}: {s}");
        }
    }

    #[test]
    fn following_adds_new_processes_and_removes_them_at_their_last_thread() {
        let s = all().script(&spec(Target::Pids(vec![10, 20])));
        assert!(s.contains("@traced[10] = 1;\n  @traced[20] = 1;"), "{s}");
        let fork = block(&s, "tracepoint:task:task_newtask");
        assert!(fork.contains("/@traced[pid]/"), "{fork}");
        assert!(
            fork.contains("  if (!(args->clone_flags & 0x10000)) {\n    $cp = args->pid;\n    @traced[$cp] = 1;\n"),
            "{fork}"
        );
        assert!(
            fork.contains("printf(\"P fork %d %d\\n\", pid, $cp);"),
            "{fork}"
        );
        let exit = block(&s, "tracepoint:sched:sched_process_exit");
        assert!(
            exit.contains("/@traced[pid] && curtask->signal->live.counter == 0/"),
            "{exit}"
        );
        assert!(exit.contains("delete(@traced[pid]);"));
        assert!(exit.contains("printf(\"P exit %d\\n\", pid);"));
        let entry = block(&s, "tracepoint:raw_syscalls:sys_enter");
        assert!(entry.contains("    if (@traced[pid]) {\n"), "{entry}");
    }

    #[test]
    fn no_follow_uses_literal_pids_and_still_reports_their_exit() {
        let mut sp = spec(Target::Pids(vec![10, 20]));
        sp.follow = false;
        let s = all().script(&sp);
        assert!(s.contains("/(pid == 10 || pid == 20)/"), "{s}");
        assert!(!s.contains("@traced") && !s.contains("task_newtask"));
        assert!(s.contains("/(pid == 10 || pid == 20) && curtask->signal->live.counter == 0/"));
        sp.target = Target::Command;
        let s = all().script(&sp);
        assert!(s.contains("/pid == $2/"), "{s}");
    }

    #[test]
    fn command_target_is_a_positional_parameter_and_output_is_json() {
        let sp = spec(Target::Command);
        let s = all().script(&sp);
        assert!(s.contains("@traced[$2] = 1;"));
        let me = OsString::from(std::process::id().to_string());
        let json = ["-f".into(), "json".into(), OsString::from("-"), me];
        let mut want = json.to_vec();
        want.push("4242".into());
        assert_eq!(all().args(&sp, Some(4242)), want);
        assert_eq!(
            all().args(&spec(Target::Pids(vec![1])), None),
            json.to_vec()
        );
        assert!(
            s.contains(
                "sys_enter_getppid\n/pid == $1/\n{\n  printf(\"# trace-gen: fence %d\\n\", cpu);"
            ),
            "{s}"
        );
    }

    #[test]
    fn uid_and_comm_filter_opens_only() {
        let mut sp = spec(Target::Pids(vec![3]));
        sp.uid = Some(1000);
        sp.comm = Some(CommName::new("Web Content").unwrap());
        let s = all().script(&sp);
        let entry = block(&s, "tracepoint:raw_syscalls:sys_enter");
        assert!(
            entry.contains("    if (@traced[pid] && uid == 1000 && comm == \"Web Content\") {\n"),
            "{entry}"
        );
        let fork = block(&s, "tracepoint:task:task_newtask");
        assert!(!fork.contains("uid =="), "followed whoever it runs as");
    }

    #[test]
    fn ring_buffer_pages_are_a_power_of_two_and_strings_fit_the_stack() {
        assert_eq!(Bpftrace::ring_buffer_pages(1), 1);
        assert_eq!(Bpftrace::ring_buffer_pages(4096), 1);
        assert_eq!(Bpftrace::ring_buffer_pages(4097), 2);
        assert_eq!(Bpftrace::ring_buffer_pages(3 << 20), 1024);
        let env = all().env(&spec(Target::Command));
        assert!(env.contains(&("BPFTRACE_STRLEN".into(), "64".into())));
        assert!(env.contains(&("BPFTRACE_PERF_RB_PAGES".into(), "256".into())));
        const { assert!(MAX_CHUNKS * CHUNK >= 4096) };
    }

    #[test]
    fn a_refused_walk_says_why_and_that_no_resolve_traces_without_it() {
        use std::os::unix::process::ExitStatusExt;
        let failed = std::process::ExitStatus::from_raw(1 << 8);
        let stderr = "Attaching 9 probes...\nERROR: Error loading program: tracepoint:raw_syscalls:sys_exit (try -v)\n";
        assert_eq!(
            refused_program(stderr),
            Some("tracepoint:raw_syscalls:sys_exit")
        );
        let b = all();
        let _ = b.script(&spec(Target::Command));
        let e = b.diagnose(failed, stderr).to_string();
        assert!(
            e.contains("verifier refused the program of tracepoint:raw_syscalls:sys_exit")
                && e.contains("--no-resolve traces the same opens without resolved paths"),
            "{e}"
        );
        // Without resolution, or another program refused: bpftrace's own failure, as it said.
        let mut sp = spec(Target::Command);
        sp.resolve_paths = false;
        let b = all();
        let _ = b.script(&sp);
        assert!(!b
            .diagnose(failed, stderr)
            .to_string()
            .contains("--no-resolve"));
        let b = all();
        let _ = b.script(&spec(Target::Command));
        let other = "ERROR: Error loading program: tracepoint:raw_syscalls:sys_enter (try -v)\n";
        assert!(!b
            .diagnose(failed, other)
            .to_string()
            .contains("--no-resolve"));
    }

    #[test]
    fn memlock_noise_is_dropped() {
        let b = all();
        assert_eq!(
            b.stderr_line("ERROR: couldn't set RLIMIT_MEMLOCK: x"),
            StderrLine::Noise
        );
        assert_eq!(b.stderr_line("stdin:1: ERROR"), StderrLine::Show);
        assert!(b.reports_processes(&spec(Target::Command)));
        assert!(!b.reports_processes(&spec(Target::SystemWide { exclude: vec![] })));
    }

    #[test]
    fn in_a_pid_namespace_pids_are_translated_and_p_is_refused() {
        let b = all().in_pid_namespace(4026532000);
        let s = b.script(&spec(Target::Command));
        let begin = block(&s, "BEGIN");
        assert!(begin.contains("->ns.inum != 4026532000)"), "{begin}");
        assert!(begin.contains("@traced[@cmd] = 1;"), "{begin}");
        assert!(!s.contains("$1") && !s.contains("@traced[$2]"), "{s}");
        assert!(s.contains("sys_enter_getppid\n/pid == @tg/"), "{s}");
        assert!(
            s.contains("$ntid, $npid, $uid, $ret") && !s.contains("printf(\"W "),
            "opens print the namespace's ids, in O events (no room for a W event): {s}"
        );
        let exit = block(&s, "tracepoint:sched:sched_process_exit");
        assert!(
            exit.contains("printf(\"P exit %d\\n\", *(int32 *)"),
            "{exit}"
        );
        let sw = b.script(&spec(Target::SystemWide { exclude: vec![1] }));
        let entry = block(&sw, "tracepoint:raw_syscalls:sys_enter");
        assert!(
            entry.contains("pid != @tg && curtask->thread_pid->level >= @lvl"),
            "only processes of the namespace: {entry}"
        );
        let p = b.script(&spec(Target::Pids(vec![5])));
        assert!(p.contains("@want[5] = 1;"), "{p}");
        let entry = block(&p, "tracepoint:raw_syscalls:sys_enter");
        assert!(
            entry.contains("    if ((@traced[pid] || (curtask->thread_pid->level >= @lvl"),
            "the -p process is found by its pid in the namespace: {entry}"
        );
    }

    #[test]
    fn resolved_paths_are_walked_at_every_return_unless_no_resolve() {
        let mut sp = spec(Target::Command);
        let s = all().script(&sp);
        // Every return (native and ia32) and io_uring's: one walk each, bounded, crossing mounts.
        // The return's walk: two pieces an `R` event once a third follows, the last one or two
        // in the `W` event. io_uring's: two pieces an `R` event, the last odd one alone.
        assert_eq!(s.matches("printf(\"R ").count(), 3, "{s}");
        assert_eq!(
            s.matches("printf(\"R %d %lld %lx %lx %lx %lx %lx %lx %lx %lx %lx\\n\", tid, $ts, (uint64)$ad->d_name.len | $ao << 16 | (uint64)$bd->d_name.len << 32 | $bo << 48,")
                .count(),
            1,
            "{s}"
        );
        assert_eq!(
            s.matches("printf(\"R %d %lld %d %d %lx %lx %lx %lx %d %d %lx %lx %lx %lx\\n\"")
                .count(),
            1,
            "{s}"
        );
        assert!(
            s.contains(
                "$ad = $dn; $ao = $o;\n        } else {\n          $bd = $dn; $bo = $o; $hb = 1;\n"
            ),
            "the pieces held as dentries and offsets: {s}"
        );
        assert_eq!(
            s.matches("if ((($i + $pz) & 1) == 0) {").count(),
            2,
            "the parity hidden from the verifier (a parity it knows stops its pruning)"
        );
        assert_eq!(s.matches("while ($it < 160)").count(), 2);
        assert_eq!(s.matches("$dn = $m->mnt_mountpoint;").count(), 2);
        assert_eq!(
            s.matches("if (((((uint64)$dn) ^ $rd) | (((uint64)$mn) ^ $rm)) == 0)")
                .count(),
            2,
            "the root read once, compared by XOR (with == the verifier stops pruning)"
        );
        assert!(s.contains("tracepoint:io_uring:io_uring_submit_req\n/@traced[pid]/\n{\n  $opc = args->opcode;\n  if ($opc == 18 || $opc == 28) {"), "{s}");
        assert!(s.contains(&format!(
            "if ($id == {}) {{ @d[tid] = ((uint64)($a2 & 0xffffffff), ((uint64)(0) & 0xffff) | ((uint64)(0) & 0xffff) << 16 | 6 << 32, (int64)(int32)$a0, (uint64)(0), nsecs, (uint64)0);",
            native_nr("open_by_handle_at").unwrap()
        )));
        assert!(
            s.contains("@d[tid] = ((uint64)(*(uint64 *)uptr($a2)),"),
            "{s}"
        );
        sp.resolve_paths = false;
        let s = all().script(&sp);
        assert!(
            !s.contains("printf(\"R ") && !s.contains("mnt_mountpoint;"),
            "{s}"
        );
        assert!(s.contains("printf(\"O "), "the details stay");
    }

    #[test]
    fn maps_are_cleared_at_end() {
        let s = all().script(&spec(Target::Command));
        let end = block(&s, "END");
        for map in ["@d", "@n", "@commoff", "@traced"] {
            assert!(end.contains(&format!("clear({map});")), "{end}");
        }
    }

    /// bpftrace refuses a script that clears a map it never sets ("Undefined map"): every map
    /// END clears is used before END, with io_uring's probes or without.
    #[test]
    fn every_map_cleared_at_end_is_used_before() {
        for io_uring in [true, false] {
            for resolve_paths in [true, false] {
                let mut b = all();
                b.io_uring = io_uring;
                let mut sp = spec(Target::Command);
                sp.resolve_paths = resolve_paths;
                let s = b.script(&sp);
                let end = block(&s, "END");
                let before = &s[..s.find("\nEND\n").expect("an END block")];
                for line in end.lines().filter_map(|l| l.trim().strip_prefix("clear(")) {
                    let map = line.trim_end_matches(");");
                    assert!(
                        before.contains(&format!("{map}[")) || before.contains(&format!("{map} =")),
                        "io_uring {io_uring}, resolve {resolve_paths}: {map} is cleared, never set\n{s}"
                    );
                }
            }
        }
    }
}
