//! The SystemTap backend: renders a [`ScriptSpec`] as a stap script and says how to run
//! `stap` on it.
//!
//! What the script does, and why (each point was checked against the SystemTap 4.8 tapsets in
//! `/usr/share/systemtap/tapset/linux/`, and every script is elaborated by `stap -p2` in
//! `tests/scripts.rs`):
//!
//! - Probes the tapset aliases `syscall.open`, `syscall.openat` and `syscall.creat` and their
//!   `.return`s. There is no `syscall.openat2` tapset; on x86_64 the script adds it from the
//!   `raw_syscalls` tracepoints (`$id`/`$regs->orig_ax` 437, path in `$regs->si`), optional
//!   (`?`) so that the script still elaborates where they are missing.
//! - Stashes the user pointer of the path per thread (`tid()`) at entry and reads the string
//!   at return (`user_string_quoted`, C-quoted, `"..."...` when cut): at entry the page may
//!   not be faulted in yet. The tapsets' own `filename` is read at entry, so it is not used.
//!   `pointer_arg(N)` gives the syscall's Nth argument on every route the aliases resolve to
//!   (the kprobe and tracepoint routes point the register context at the syscall's `pt_regs`
//!   before the handler runs).
//! - The return value is the tapset's `retval` (already `fd` or `-errno`), never `$return`,
//!   which `stap -p2` rejects on the tracepoint route.
//! - Timestamps are `ktime_get_ns()` (`CLOCK_MONOTONIC`, comparable across CPUs, the clock
//!   of trace-gen's own `# clock-offset-ns:` header); `probe begin` prints
//!   [`ATTACHED_MARKER`] once every probe is registered.
//! - Filters are literals: numbers, and a [`CommName`] that was validated to need no escaping
//!   (escaped here all the same).

use super::{Backend, Env};
use crate::script::{CommName, ScriptSpec, Target, ATTACHED_MARKER};
use std::ffi::OsString;
use std::path::PathBuf;

/// Longest string the script handles (`-DMAXSTRINGLEN`): `PATH_MAX`, so that every path the
/// kernel accepts is read whole (stap's default is 512 bytes).
pub const MAX_STRING_LEN: u32 = 4096;

/// The x86_64 system call number of `openat2` (the same on every architecture since Linux
/// 5.6, which gave new calls one number everywhere).
const OPENAT2_NR: u32 = 437;

/// `__USER_CS` on x86_64: the code segment of a 64-bit task's system call. A 32-bit task
/// (`__USER32_CS`) passes its arguments in other registers, so its `openat2` is skipped.
const X86_64_USER_CS: u32 = 51;

/// The SystemTap backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemTap;

impl Backend for SystemTap {
    fn name(&self) -> &'static str {
        "systemtap"
    }

    fn program(&self) -> &'static str {
        "stap"
    }

    fn path_var(&self) -> &'static str {
        "STAP_PATH"
    }

    fn default_path(&self, _env: Env) -> PathBuf {
        PathBuf::from("/usr/bin/stap")
    }

    fn install_hint(&self) -> &'static str {
        "install it (Debian/Ubuntu: apt-get install systemtap linux-headers-$(uname -r))"
    }

    fn script(&self, spec: &ScriptSpec) -> String {
        render(spec)
    }

    /// `-s MB` (stap's per-CPU buffer, in whole megabytes, at least 1), the string limit,
    /// `-x PID` for `-c` (then `target()` is that pid), and `-` to read the script on stdin.
    fn args(&self, spec: &ScriptSpec, target_pid: Option<u32>) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "-s".into(),
            buffer_megabytes(spec.buffer_size).to_string().into(),
            format!("-DMAXSTRINGLEN={MAX_STRING_LEN}").into(),
        ];
        if matches!(spec.target, Target::Command) {
            // Without a pid yet (--print-script), a visible placeholder.
            args.push("-x".into());
            args.push(target_pid.map_or_else(|| "PID".into(), |p| p.to_string().into()));
        }
        args.push("-".into());
        args
    }
}

/// stap's `-s` takes whole megabytes per CPU; round up so the buffer is never smaller than
/// asked, and never 0 (stap rejects it).
fn buffer_megabytes(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 20).max(1)
}

/// One condition of the filter, as a typed value; [`Test::render`] is the only place that
/// turns it into stap code.
enum Test<'a> {
    /// Not stap's own process (`stp_pid()`, the stapio reading the buffers).
    NotTracer,
    /// Not this pid (trace-gen itself).
    PidIsNot(u32),
    /// One of these pids.
    PidIn(&'a [u32]),
    /// A pid in the `traced` map (the `-p` pids and their descendants).
    Traced,
    /// `target()` or one of its descendants (the `target_set` tapset).
    TargetSet,
    /// `target()` itself.
    PidIsTarget,
    /// This real uid.
    UidIs(u32),
    /// This process name.
    CommIs(&'a CommName),
}

impl Test<'_> {
    fn render(&self) -> String {
        match self {
            Test::NotTracer => "pid() != stp_pid()".to_owned(),
            Test::PidIsNot(pid) => format!("pid() != {pid}"),
            Test::PidIn([]) => "0".to_owned(),
            Test::PidIn([pid]) => format!("pid() == {pid}"),
            Test::PidIn(pids) => {
                let any: Vec<String> = pids.iter().map(|p| format!("pid() == {p}")).collect();
                format!("({})", any.join(" || "))
            }
            Test::Traced => "pid() in traced".to_owned(),
            Test::TargetSet => "target_set_pid(pid())".to_owned(),
            Test::PidIsTarget => "pid() == target()".to_owned(),
            Test::UidIs(uid) => format!("uid() == {uid}"),
            Test::CommIs(name) => format!("execname() == {}", name.string_literal()),
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
        Target::Pids(_) if spec.follow => vec![Test::Traced],
        Target::Pids(pids) => vec![Test::PidIn(pids)],
        Target::Command if spec.follow => vec![Test::TargetSet],
        Target::Command => vec![Test::PidIsTarget],
    };
    tests.extend(spec.uid.map(Test::UidIs));
    tests.extend(spec.comm.as_ref().map(Test::CommIs));
    tests
}

/// A stap script under construction: lines with their indentation.
struct StapWriter {
    out: String,
    depth: usize,
}

impl StapWriter {
    fn new() -> StapWriter {
        StapWriter {
            out: String::new(),
            depth: 0,
        }
    }

    fn line(&mut self, code: &str) {
        if !code.is_empty() {
            self.out.push_str(&"  ".repeat(self.depth));
            self.out.push_str(code);
        }
        self.out.push('\n');
    }

    /// `head {`, the body written by `body`, `}`.
    fn block(&mut self, head: &str, body: impl FnOnce(&mut StapWriter)) {
        self.line(&format!("{head} {{"));
        self.depth += 1;
        body(self);
        self.depth -= 1;
        self.line("}");
    }
}

/// An entry probe: filter, then stash the path pointer and the time for this thread.
fn entry_probe(w: &mut StapWriter, points: &str, filter: &str, path_ptr: &str) {
    w.block(&format!("probe {points}"), |w| {
        w.line(&format!("if (!({filter})) next"));
        w.line(&format!("entry_path[tid()] = {path_ptr}"));
        w.line("entry_ts[tid()] = ktime_get_ns()");
    });
}

fn render(spec: &ScriptSpec) -> String {
    let filter: Vec<String> = tests(spec).iter().map(Test::render).collect();
    let filter = filter.join(" && ");
    let traced_pids = match &spec.target {
        Target::Pids(pids) if spec.follow => Some(pids),
        _ => None,
    };

    let mut w = StapWriter::new();
    w.line("# Generated by trace-gen: open-family system calls, paths read at return,");
    w.line("# paired per thread, monotonic timestamps (ktime_get_ns).");
    w.line("");
    w.line("# Per thread: the path's user pointer and the time, stashed at entry.");
    w.line("global entry_path%, entry_ts%");
    if traced_pids.is_some() {
        w.line("# The -p pids and their descendants.");
        w.line("global traced%");
    }
    w.line("");
    w.block("probe begin", |w| {
        if let Some(pids) = traced_pids {
            for pid in pids {
                w.line(&format!("traced[{pid}] = 1"));
            }
        }
        w.line(&format!("printf(\"{ATTACHED_MARKER}\\n\")"));
    });
    if traced_pids.is_some() {
        w.line("");
        w.line("# Follow the process tree, as the target_set tapset does for target().");
        w.block("probe process.begin", |w| {
            w.line("if (ppid() in traced) traced[pid()] = 1");
        });
        w.block("probe process.end", |w| w.line("delete traced[pid()]"));
    }
    w.line("");
    entry_probe(
        &mut w,
        "syscall.open, syscall.creat",
        &filter,
        "pointer_arg(1)",
    );
    entry_probe(&mut w, "syscall.openat", &filter, "pointer_arg(2)");
    w.line("");
    w.line("# No openat2 tapset: take it from the raw syscall tracepoints (64-bit tasks).");
    w.line("%( arch == \"x86_64\" %?");
    w.block("probe kernel.trace(\"raw_syscalls:sys_enter\") ?", |w| {
        w.line(&format!(
            "if ($id != {OPENAT2_NR} || $regs->cs != {X86_64_USER_CS}) next"
        ));
        w.line(&format!("if (!({filter})) next"));
        w.line("entry_path[tid()] = $regs->si");
        w.line("entry_ts[tid()] = ktime_get_ns()");
    });
    w.block("probe kernel.trace(\"raw_syscalls:sys_exit\") ?", |w| {
        w.line(&format!("if ($regs->orig_ax == {OPENAT2_NR}) report($ret)"));
    });
    w.line("%)");
    w.line("");
    w.block(
        "probe syscall.open.return, syscall.openat.return, syscall.creat.return",
        |w| w.line("report(retval)"),
    );
    w.line("");
    w.line("# Prints the pair for this thread, if its entry was traced.");
    w.block("function report(ret:long)", |w| {
        w.line("t = tid()");
        w.line("if (!(t in entry_ts)) return");
        w.line("comm = string_quoted(execname())");
        w.line("printf(\"=> uid: %d pid: %d tid: %d comm: %s open: %s %d\\n\",");
        w.line("       uid(), pid(), t, comm, user_string_quoted(entry_path[t]), entry_ts[t])");
        w.line("printf(\"<= uid: %d pid: %d tid: %d comm: %s ret: %d %d\\n\",");
        w.line("       uid(), pid(), t, comm, ret, ktime_get_ns())");
        w.line("delete entry_path[t]");
        w.line("delete entry_ts[t]");
    });
    w.out
}
