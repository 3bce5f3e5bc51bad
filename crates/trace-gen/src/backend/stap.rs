//! The SystemTap backend: renders a [`ScriptSpec`] as a stap script, says how to run `stap`
//! on it, and reads what stap says about lost events and failed builds.
//!
//! What the script does, and why (run for real by `tests/guest.rs`, in a qemu guest booting
//! Debian's 6.1 kernel; every script is also elaborated by `stap -p2` in
//! `crates/trace-gen/tests/scripts.rs`):
//!
//! - On x86_64 it takes every open-family call from the `raw_syscalls` tracepoints: 64-bit
//!   `open`, `creat`, `openat`, `openat2` and their 32-bit (ia32) numbers, the arguments read
//!   from the saved registers (`$regs->cs` tells the two ABIs apart). No kretprobes: a return
//!   kprobe can be missed when too many calls are in flight (a blocked FIFO open holds one),
//!   and stap counts that only as a "skipped probe". Elsewhere the `syscall.*` tapsets.
//! - The entry stashes the path pointer and the time per thread; the next system call exit
//!   of that thread is the open's return, where the path is read (at entry the page may not
//!   be faulted in yet).
//! - Names are quoted by stap itself (`string_quoted`: `\n`, `\"`, `\\`, octal, `\u`), so no
//!   byte of a path or a process name can end a field or a line. A path is read whole, up to
//!   `PATH_MAX - 1` bytes ([`MAX_STRING_LEN`]), and quoted in chunks of [`QUOTE_CHUNK`] bytes
//!   (a quoted byte takes up to 4, and stap cuts any string at `MAXSTRINGLEN`); a path the
//!   kernel would refuse as too long ends with stap's `...` cut mark.
//! - Process names: `string_quoted(execname())`. Statements need no `;` in stap and `return`
//!   takes an optional value, so a bare `return` followed by an assignment on the next line
//!   returns that assignment: every `return` here is `return;`.
//! - Following (`-p`, `-c`), as `strace -f`: a `traced` set of thread-group ids, seeded with
//!   the `-p` roots (`pid2task` drops those that do not exist) or the `-c` command, grown on
//!   `sched_process_fork` whichever thread forks (`fork`, `vfork`, `clone` without
//!   `CLONE_THREAD`), and shrunk on `sched_process_exit` only when the last thread of the
//!   group exits (`signal->live` is 0 there), so a main thread's exit and an `exec` from any
//!   thread keep the process. The script reports each as `P fork PARENT CHILD` and
//!   `P exit PID` ([`Backend::reports_processes`]): trace-gen stops when none is left.
//! - Process ids that change with every run (the `-p` roots, the pids excluded system-wide,
//!   trace-gen's own pid for the fence) are globals set on the command line with `-G`, never
//!   literals, so the script, and the compiled module, are the same on every run: a module
//!   cache (`scripts/guest/stap-cached`) reuses it.
//! - Inside a PID namespace (trace-gen's is not the host's), the script compares, keeps and
//!   prints that namespace's pids (`Ids`): `ns_id(task, thread)`, the task's id in the
//!   namespace of stapio (the runtime's default for its `ns_pid()`, and stapio is trace-gen's
//!   child). Not the tapset's `ns_pid()` and `ns_tid()`: they look for the current task in
//!   the whole task list first, on every call. `-p`'s `pid2task()` runs in the begin probe,
//!   in stapio's context, so it looks the pids up there too. A process outside the namespace
//!   has none there (0): never traced. Proven in the guest (`stap-pid-ns`, `stap-pid-ns-p`,
//!   `stap-pid-ns-system-wide`).
//! - The fence ([`Backend::has_fence`]): a `getppid()` by trace-gen prints [`FENCE_MARKER`]
//!   and the CPU, after the counts of that CPU ([`EMITTED_PREFIX`]). stap's buffers are per
//!   CPU and what is still in them when stap is stopped was measured to be lost (`cat` lost
//!   all of its opens in 3 runs of 7), so trace-gen stops stap only once every CPU's fence
//!   line was read.
//! - The ending ([`Backend::ending`]): once the fence proved the drain, stap gets one SIGINT
//!   and is not waited for. Stopping the module (its probes unregistered, an RCU grace period
//!   each) and unloading it (`staprun -d`, which loads libnss and libstdc++ first) took 1 to
//!   3 s in the guest, after the last event of the run: stapio now does it after trace-gen
//!   has exited (SIGPIPE ignored), and the module still unloads (the guest tests check it).
//!   Inside a PID namespace trace-gen waits for stap's exit instead ([`Backend::ending`]).
//! - Timestamps are `ktime_get_ns()` (`CLOCK_MONOTONIC`). [`ATTACHED_MARKER`] is printed by
//!   the first `sys_exit` probe to fire: stap runs `probe begin` before it registers its
//!   tracepoint probes (measured: a `-c` command released on a marker printed there was not
//!   traced at all), and `sys_exit` is registered last.
//! - Compile options: `-DMAXSTRINGLEN=4096` (whole paths), `-DSTP_NO_OVERLOAD` (stap would
//!   otherwise abort the trace when its probes take too much CPU time, which a burst of opens
//!   under emulation does), `-DMAXMAPENTRIES` for the per-thread and followed-process maps.
//!
//! Precompiled modules: trace-gen runs `$STAP_PATH` with the script on stdin and nothing
//! per-run in the script (pids are `-G` globals), so a `stap` wrapper can map the script and
//! its compile options to a cached module and run it with `staprun`
//! (`scripts/guest/stap-cached`, used by the guest tests, where stap's own passes do not
//! finish). The README's "What the tracers need" says why this is a wrapper and not an option.
//!
//! The open details of trace-format 2 (x86_64; elsewhere the `syscall.*` tapsets give none
//! of them, and start-up says so: [`OPEN_DETAILS_GAP_ELSEWHERE`]):
//! - `flags:`, `mode:` (with `O_CREAT` or `O_TMPFILE`), `resolve:` (openat2): the entry's
//!   registers give the flags, mode and dirfd as they give the path (packed in two per-thread
//!   maps, see [`kind`]); openat2's `how` is read at return, when the kernel has read it.
//! - `fault:`: the path pointer could not be read (`user_string_n()` fails; `user_char()`
//!   would say 0), and the path is empty, never a cut empty name.
//! - `resolved:` at return, by the kernel's own `d_path()` (embedded C, guru mode), exactly
//!   what `readlink /proc/PID/fd/N` shows, ` (deleted)` included: for a success the fd's
//!   file, for a failure the dirfd's file or the cwd, joined with the raw name (an absolute
//!   name as is). No SystemTap tapset does it without the kernel's debuginfo (`task_fd_lookup`,
//!   `fullpath_struct_file` `@cast` to `"kernel"`, and Debian's headers carry no DWARF); the
//!   lookups run under `rcu_read_lock()`, taking no reference (dentries and mounts are freed
//!   after a grace period). Files the kernel names itself (`pipe:[N]`) get none.
//! - `via: io_uring`: `io_uring:io_uring_submit_sqe` (after the request's prep, in the
//!   submitting thread) keeps `struct io_open` (the kernel's copy of the name: it is freed
//!   before the completion; the struct is in no header, so the script carries its layout, the
//!   same from 5.6 to 6.x), `io_uring:io_uring_complete` prints the pair with the result,
//!   resolved as above (in the submitter or an io-wq worker, which share files and cwd). No
//!   system call sees these opens: never counted twice.
//! - `via: handle`: `open_by_handle_at` on `raw_syscalls`, an empty path, its file resolved.
//! - `killed:`: a return of ERESTARTSYS..ERESTART_RESTARTBLOCK with SIGKILL pending for the
//!   thread (the process dies before the call returns), as the bpftrace backend does.
//!
//! The same for ia32 processes (their registers; openat2's `how` has the same layout), proven
//! in the guest with `every_open.c` built with `-m32`.
//!
//! Every change to the script recompiles the guest tests' four modules (15 to 25 s each on
//! the host, cached by `scripts/guest/stap-cached`).
//!
//! At run time stap reports its losses only on stderr, at exit: `There were N transport
//! failures` (a full buffer) and `Number of errors: N, skipped probes: M`. trace-gen does not
//! wait for that report: the fence lines carry the same counts (events printed per CPU,
//! skipped probes, errors: [`EMITTED_PREFIX`]), and what they counted that never arrived is
//! a `# lost:` line ([`Backend::final_lost`]). The exit report is counted only when no fence
//! line came ([`Backend::stderr_line`]: a run stopped without a drain, which waits for stap). On Debian 12's 6.1 kernels SystemTap 4.8's
//! runtime does not compile (`task_work_cancel()` changed its argument);
//! [`Backend::diagnose`] says so and names the fix ([`RUNTIME_VAR`]).

use super::{Backend, Decoded, Decoder, Ending, Env, StderrLine, TracerLine};
use crate::error::Error;
use crate::script::{CommName, ScriptSpec, Target, ATTACHED_MARKER, FENCE_MARKER};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The line the script prints with each fence line, `# trace-gen: emitted N cpu K skipped M
/// errors E`: how many events it had printed on that CPU by then, and how many probes stap had
/// skipped (a global's lock not taken in time, a busy context) or failed with an error in all
/// (read from the runtime, hence guru mode, `-g`). stap 4.8's data channel can lose events
/// without saying so (stapio reads relay buffers while they are written), and stap reports its
/// own losses only at its exit, once its module has been stopped: the counts come with the
/// fence instead, so that trace-gen needs nothing from stap once the fence has proven the
/// drain, and whatever they counted that never arrived is a `# lost:` line at the end.
///
/// Why per CPU: a CPU's buffer is first in, first out, so every event counted on a CPU before
/// its fence line is read before that line (or was lost). A count of every CPU's events would
/// also count those printed on another CPU after its own fence line, which the run does not
/// wait for (a system-wide run goes on until it is stopped): they would look lost.
pub const EMITTED_PREFIX: &str = "# trace-gen: emitted ";

/// What the [`EMITTED_PREFIX`] lines said (one tracer runs per trace-gen process).
#[derive(Debug, Default)]
struct Counts {
    /// The largest count of events printed on each CPU.
    emitted: std::collections::BTreeMap<u32, u64>,
    /// The largest count of skipped probes, and of probes failed with an error: each is at
    /// most one open that was never printed.
    skipped: u64,
    errors: u64,
}

/// The counts read so far; `None` before the first [`EMITTED_PREFIX`] line.
static COUNTS: std::sync::Mutex<Option<Counts>> = std::sync::Mutex::new(None);

fn counts() -> std::sync::MutexGuard<'static, Option<Counts>> {
    COUNTS.lock().unwrap_or_else(|p| p.into_inner())
}

/// The counts of one [`EMITTED_PREFIX`] line (after the prefix): `N cpu K skipped M errors E`
/// as (cpu, emitted, skipped, errors).
fn parse_counts(rest: &[u8]) -> Option<(u32, u64, u64, u64)> {
    let text = std::str::from_utf8(rest).ok()?;
    match text.split(' ').collect::<Vec<_>>()[..] {
        [n, "cpu", k, "skipped", m, "errors", e] => Some((
            k.parse().ok()?,
            n.parse().ok()?,
            m.parse().ok()?,
            e.parse().ok()?,
        )),
        _ => None,
    }
}

/// What the SystemTap script does not show on x86_64 (trace-format 2's open details are all
/// there otherwise).
pub const OPEN_DETAILS_GAP: &str = "io_uring opens refused before they start (an unreadable \
     name, bad flags) are not shown, nor the resolved path of a direct-descriptor io_uring open \
     or of a file the kernel names itself (pipe:[N], socket:[N], anon_inode:...)";

/// What the script does not show outside x86_64 (the `syscall.*` tapsets).
pub const OPEN_DETAILS_GAP_ELSEWHERE: &str = "not x86_64: no openat2, io_uring or \
     open_by_handle_at opens, no resolved paths, and an unreadable path pointer shows as a cut \
     empty name";

/// Returns read from this process's stap.
static RETURNS_READ: AtomicU64 = AtomicU64::new(0);

/// The script's attached line was read: it should report its count at the end.
static ATTACHED_READ: AtomicBool = AtomicBool::new(false);

/// Longest string the script handles (`-DMAXSTRINGLEN`): `PATH_MAX`, so that every path the
/// kernel accepts (4,095 bytes and the NUL) is read whole (stap's default is 512 bytes).
pub const MAX_STRING_LEN: u32 = 4096;

/// The longest path the kernel accepts, without its NUL (`PATH_MAX - 1`): read whole.
pub const PATH_MAX_LEN: u32 = 4095;

/// Bytes of a path read and quoted at once: quoted, each byte takes at most 4 (`\ooo`), plus the two
/// quotes, which must fit in [`MAX_STRING_LEN`] or stap cuts the string.
pub const QUOTE_CHUNK: u32 = 1000;

/// Entries per map (`-DMAXMAPENTRIES`): threads inside an open at once, and followed
/// processes. stap's default is 2,048, and a full map is an error that ends the run.
pub const MAP_ENTRIES: u32 = 65536;

/// Attempts (10 us apart) to take a global's lock before a probe is skipped (`-DMAXTRYLOCK`):
/// stap's 100 (1 ms) skipped dozens of probes of an 8-thread burst in a guest whose virtual
/// CPUs the host preempts. 100,000 is one second.
pub const MAX_TRY_LOCK: u32 = 100_000;

/// Skipped probes before stap aborts the run (`-DMAXSKIPPED`, default 100): a skipped probe is
/// counted as a lost event, and the trace goes on.
pub const MAX_SKIPPED: u32 = 1_000_000;

/// The variable stap reads for its runtime directory (`stap(1)`, ENVIRONMENT): set it to a
/// patched copy where the stock runtime does not compile for the kernel.
pub const RUNTIME_VAR: &str = "SYSTEMTAP_RUNTIME";

/// x86_64 system call numbers (64-bit ABI, `cs` = `__USER_CS`).
const X86_64: Abi = Abi {
    cs: 51,
    open: 2,
    creat: 85,
    openat: 257,
    openat2: 437,
    open_by_handle_at: 304,
    getppid: 110,
    regs: ["di", "si", "dx", "r10"],
};

/// i386 system call numbers (ia32 tasks on x86_64, `cs` = `__USER32_CS`).
const IA32: Abi = Abi {
    cs: 35,
    open: 5,
    creat: 8,
    openat: 295,
    openat2: 437,
    open_by_handle_at: 342,
    getppid: 64,
    regs: ["bx", "cx", "dx", "si"],
};

/// One system call ABI of x86_64: its code segment, its call numbers, and the registers of
/// the first four arguments.
struct Abi {
    cs: u32,
    open: u32,
    creat: u32,
    openat: u32,
    openat2: u32,
    open_by_handle_at: u32,
    getppid: u32,
    regs: [&'static str; 4],
}

/// The kind of an open, as the script keeps it from entry to return: its `via:`, and where
/// its flags, mode and `how.resolve` are.
pub mod kind {
    /// `open(path, flags, mode)`.
    pub const OPEN: u32 = 0;
    /// `openat(dirfd, path, flags, mode)`.
    pub const OPENAT: u32 = 1;
    /// `openat2(dirfd, path, how, size)`: flags, mode and resolve read from `how` at return.
    pub const OPENAT2: u32 = 2;
    /// `creat(path, mode)`: the flags are `O_CREAT|O_WRONLY|O_TRUNC`.
    pub const CREAT: u32 = 3;
    /// `open_by_handle_at(mountdirfd, handle, flags)`: no path, `via: handle`.
    pub const HANDLE: u32 = 4;
}

/// `IORING_OP_OPENAT` and `IORING_OP_OPENAT2` (include/uapi/linux/io_uring.h).
pub const IORING_OP_OPENAT: u32 = 18;
/// See [`IORING_OP_OPENAT`].
pub const IORING_OP_OPENAT2: u32 = 28;

/// `O_CREAT | __O_TMPFILE`: a call with either can create, and shows its mode.
const CAN_CREATE: u32 = 0o100 | 0o20_000_000;

/// `O_LARGEFILE`: io_uring adds it to every open on 64-bit; the program did not pass it.
const O_LARGEFILE: u32 = 0o100_000;

/// io_uring requests in flight at once between submission and completion (the maps of
/// [`IORING_OP_OPENAT`] requests wrap: a request never completed cannot fill them).
pub const URING_ENTRIES: u32 = 4096;

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
        render_in(spec, crate::sys::pid_namespace().is_some())
    }

    /// `-s MB` (stap's per-CPU buffer, in whole megabytes, at least 1), the compile options,
    /// the run's pids as `-G` globals (the `-c` command's too: with `-x PID`, stap's stapio
    /// exits as soon as that process does, dropping what it has not read yet: measured, a
    /// whole 8-thread burst), and `-` to read the script on stdin.
    fn args(&self, spec: &ScriptSpec, target_pid: Option<u32>) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "-s".into(),
            buffer_megabytes(spec.buffer_size).to_string().into(),
            format!("-DMAXSTRINGLEN={MAX_STRING_LEN}").into(),
            format!("-DMAXMAPENTRIES={MAP_ENTRIES}").into(),
            "-DSTP_NO_OVERLOAD".into(),
            // Guru mode: the fence reads stap's count of skipped probes (embedded C).
            "-g".into(),
            format!("-DMAXTRYLOCK={MAX_TRY_LOCK}").into(),
            format!("-DMAXSKIPPED={MAX_SKIPPED}").into(),
        ];
        if matches!(spec.target, Target::Command) {
            // Without a pid yet (--print-script), a visible placeholder.
            args.push("-G".into());
            args.push(
                target_pid.map_or_else(|| "command=PID".into(), |p| format!("command={p}").into()),
            );
        }
        let mut global = |name: String, value: u32| {
            args.push("-G".into());
            args.push(format!("{name}={value}").into());
        };
        global("tracegen".to_owned(), std::process::id());
        for (name, pid) in pid_globals(spec) {
            global(name, pid);
        }
        args.push("-".into());
        args
    }

    /// stap compiles a kernel module before it attaches: minutes on a slow machine.
    fn attach_bound(&self) -> std::time::Duration {
        std::time::Duration::from_secs(15 * 60)
    }

    fn has_fence(&self) -> bool {
        true
    }

    /// Lines as [`Backend::classify`] reads them, and the followed processes' `P fork PARENT
    /// CHILD` and `P exit PID`.
    fn decoder(&self) -> Option<Box<dyn Decoder>> {
        Some(Box::new(StapLines))
    }

    /// What this backend does not write yet (trace-format 2's open details): said, never
    /// guessed.
    fn startup_note(&self, _spec: &ScriptSpec) -> Option<String> {
        Some(if cfg!(target_arch = "x86_64") {
            OPEN_DETAILS_GAP.to_owned()
        } else {
            OPEN_DETAILS_GAP_ELSEWHERE.to_owned()
        })
    }

    /// When following (`-p`, `-c`): the run ends when the last followed process has exited.
    fn reports_processes(&self, spec: &ScriptSpec) -> bool {
        follows(spec)
    }

    /// Adds the script's [`EMITTED_PREFIX`] lines, and counts the returns read (for
    /// [`Backend::final_lost`]).
    fn classify<'a>(&self, line: &'a [u8]) -> TracerLine<'a> {
        if let Some(rest) = line.strip_prefix(EMITTED_PREFIX.as_bytes()) {
            if let Some((cpu, n, skipped, errors)) = parse_counts(rest) {
                let mut counts = counts();
                let c = counts.get_or_insert_with(Counts::default);
                let e = c.emitted.entry(cpu).or_default();
                *e = (*e).max(n);
                c.skipped = c.skipped.max(skipped);
                c.errors = c.errors.max(errors);
                return TracerLine::Blank;
            }
        }
        let line = super::classify_line(line);
        match &line {
            TracerLine::Trace(l) if l.starts_with(b"<= ") => {
                RETURNS_READ.fetch_add(1, Ordering::SeqCst);
            }
            TracerLine::Attached => ATTACHED_READ.store(true, Ordering::SeqCst),
            _ => {}
        }
        line
    }

    /// The events the script had printed on each CPU by its last fence line
    /// ([`EMITTED_PREFIX`]) that never arrived, and the probes skipped or failed.
    fn final_lost(&self) -> u64 {
        let counts = counts().take();
        let read = RETURNS_READ.swap(0, Ordering::SeqCst);
        let Some(c) = counts else {
            if ATTACHED_READ.swap(false, Ordering::SeqCst) {
                eprintln!(
                    "trace-gen: stap did not report how many events it printed: events lost at its end cannot be counted"
                );
            }
            return 0;
        };
        let emitted: u64 = c.emitted.values().sum();
        emitted.saturating_sub(read) + c.skipped + c.errors
    }

    /// stap's exit report of lost events: `There were N transport failures` (a full buffer:
    /// one probe's output each), `Number of errors: N, skipped probes: M` (each skipped or
    /// failed probe is at most one open). Every one becomes lost events, unless a fence line
    /// counted them already ([`EMITTED_PREFIX`]): then the report is only shown. (It comes
    /// only from a stap that trace-gen waits for: one stopped without a proven drain. After a
    /// drain, stap is interrupted and not waited for, and its report goes unread.)
    fn stderr_line(&self, line: &str) -> StderrLine {
        match lost_report(line) {
            Some(n) if counts().is_none() => StderrLine::Lost(n),
            _ => StderrLine::Show,
        }
    }

    /// Interrupted once its fence proved the drain, and not waited for: stapio then stops the
    /// module (its end probes, the probes unregistered) and unloads it with `staprun -d`, a
    /// second or more under emulation, after trace-gen has exited. It runs with SIGPIPE
    /// ignored, so that its writes to the pipes trace-gen closed do not kill it before it has
    /// unloaded the module (stapio takes a failed write as an interrupt, and goes on with its
    /// cleanup). `stap` itself passes the SIGINT on to stapio (as SIGTERM), absorbs up to two
    /// (trace-gen's, and the one its exit sends: `PR_SET_PDEATHSIG`), and removes its
    /// temporary directory once stapio is done. Everything stap reports only at its exit comes
    /// with the fence instead ([`EMITTED_PREFIX`]).
    ///
    /// Inside a PID namespace, trace-gen waits for stap's exit instead ([`Ending::Wait`]):
    /// trace-gen is often the namespace's init (`unshare -fp CMD`), or exits just before it,
    /// and the kernel kills every process of a namespace whose init exits: stapio would die
    /// with its module still loaded (seen in the guest: both modules left, `Live`).
    fn ending(&self) -> Ending {
        if crate::sys::pid_namespace().is_some() {
            Ending::Wait
        } else {
            Ending::Interrupt
        }
    }

    /// Pass 4 of SystemTap 4.8 on Debian 12's 6.1 kernels (and 6.11+): the runtime calls
    /// `task_work_cancel()` with the argument it had before the kernel changed it.
    fn diagnose(&self, status: ExitStatus, stderr: &str) -> Error {
        if is_task_work_cancel_failure(stderr) {
            return Error::StapRuntimeTooOld;
        }
        super::tracer_failed(self, status, stderr)
    }
}

/// Reads stap's stdout: the followed processes' reports, and everything else as
/// [`Backend::classify`] does.
struct StapLines;

impl Decoder for StapLines {
    fn line(&mut self, line: &[u8], out: &mut Vec<u8>) -> Decoded {
        Decoded::process_report(line)
            .unwrap_or_else(|| Decoded::classified(SystemTap.classify(line), out))
    }

    fn finish(&mut self, _out: &mut Vec<u8>) -> u64 {
        0
    }
}

/// Whether stap's stderr is the pass-4 failure of a runtime older than the kernel's
/// `task_work_cancel()` change.
pub fn is_task_work_cancel_failure(stderr: &str) -> bool {
    stderr.contains("kallsyms_task_work_cancel")
        && stderr.contains("incompatible pointer type")
        && stderr.contains("Pass 4: compilation failed")
}

/// The number of events a stap stderr line says were lost, if it says so.
pub fn lost_report(line: &str) -> Option<u64> {
    let number_after = |text: &str, key: &str| -> Option<u64> {
        let rest = &text[text.find(key)? + key.len()..];
        let digits: String = rest
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    };
    if line.contains("transport failures") {
        return number_after(line, "There were");
    }
    if line.contains("Number of errors:") && line.contains("skipped probes:") {
        let n = number_after(line, "Number of errors:")? + number_after(line, "skipped probes:")?;
        return (n > 0).then_some(n);
    }
    None
}

/// stap's `-s` takes whole megabytes per CPU; round up so the buffer is never smaller than
/// asked, and never 0 (stap rejects it).
fn buffer_megabytes(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 20).max(1)
}

/// The `-G` globals that carry the run's process ids: `root_K` (the `-p` pids) or
/// `exclude_K` (pids not traced system-wide).
fn pid_globals(spec: &ScriptSpec) -> Vec<(String, u32)> {
    let (prefix, pids) = match &spec.target {
        Target::Pids(pids) => ("root", pids),
        Target::SystemWide { exclude } => ("exclude", exclude),
        Target::Command => return Vec::new(),
    };
    pids.iter()
        .enumerate()
        .map(|(k, &p)| (format!("{prefix}_{k}"), p))
        .collect()
}

/// One condition of the filter, as a typed value; [`Test::render`] is the only place that
/// turns it into stap code.
enum Test<'a> {
    /// Not stap's own process (`stp_pid()`, the stapio reading the buffers).
    NotTracer,
    /// A process with a pid in trace-gen's PID namespace (run in one): its `ns_id` is 0 for
    /// the others.
    InNamespace,
    /// Not the pid in this global (trace-gen itself).
    PidIsNot(String),
    /// The pid in one of these globals.
    PidIn(Vec<String>),
    /// A pid in the `traced` set (followed processes).
    Traced,
    /// The `-c` command itself.
    PidIsCommand,
    /// This real uid.
    UidIs(u32),
    /// This process name.
    CommIs(&'a CommName),
}

impl Test<'_> {
    /// The condition in stap; `ids` says which pids the globals hold.
    fn render(&self, ids: &Ids) -> String {
        let pid = ids.pid;
        match self {
            Test::NotTracer => "pid() != stp_pid()".to_owned(),
            Test::InNamespace => format!("{pid} != 0"),
            Test::PidIsNot(global) => format!("{pid} != {global}"),
            Test::PidIn(globals) if globals.is_empty() => "0".to_owned(),
            Test::PidIn(globals) => {
                let any: Vec<String> = globals.iter().map(|g| format!("{pid} == {g}")).collect();
                format!("({})", any.join(" || "))
            }
            Test::Traced => format!("{pid} in traced"),
            Test::PidIsCommand => format!("{pid} == command"),
            Test::UidIs(uid) => format!("uid() == {uid}"),
            Test::CommIs(name) => format!("execname() == {}", name.string_literal()),
        }
    }
}

/// Whether the script keeps the `traced` set.
fn follows(spec: &ScriptSpec) -> bool {
    spec.follow && !matches!(spec.target, Target::SystemWide { .. })
}

/// The conditions an open must meet to be traced, all of them (AND).
fn tests(spec: &ScriptSpec, ns: bool) -> Vec<Test<'_>> {
    let names = |spec| pid_globals(spec).into_iter().map(|(n, _)| n);
    let mut tests = match &spec.target {
        Target::SystemWide { .. } => {
            let mut t = vec![Test::NotTracer];
            if ns {
                t.push(Test::InNamespace);
            }
            t.extend(names(spec).map(Test::PidIsNot));
            t
        }
        _ if follows(spec) => vec![Test::Traced],
        Target::Pids(_) => vec![Test::PidIn(names(spec).collect())],
        Target::Command => vec![Test::PidIsCommand],
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

/// The entry of one ABI's open-family calls on `raw_syscalls:sys_enter`: sets `k` (the
/// [`kind`]), `d` (the dirfd), `p` (the path pointer) and `fm` (the flags, and the mode above
/// bit 32; openat2's `how` pointer), or goes to the next probe for any other call. Arguments
/// are 32-bit `int`s and a 16-bit mode: masked, whatever the register's upper bits hold.
fn abi_entry(w: &mut StapWriter, abi: &Abi) {
    let [a0, a1, a2, a3] = abi.regs;
    let int = |r: &str| format!("($regs->{r} & 0xffffffff)");
    let mode = |r: &str| format!("(($regs->{r} & 0xffff) << 32)");
    w.line(&format!(
        "if (id == {}) {{ k = {}; d = -100; p = $regs->{a0}; fm = {} | {} }}",
        abi.open,
        kind::OPEN,
        int(a1),
        mode(a2)
    ));
    w.line(&format!(
        "else if (id == {}) {{ k = {}; d = -100; p = $regs->{a0}; fm = 0x241 | {} }}",
        abi.creat,
        kind::CREAT,
        mode(a1)
    ));
    w.line(&format!(
        "else if (id == {}) {{ k = {}; d = $regs->{a0}; p = $regs->{a1}; fm = {} | {} }}",
        abi.openat,
        kind::OPENAT,
        int(a2),
        mode(a3)
    ));
    w.line(&format!(
        "else if (id == {}) {{ k = {}; d = $regs->{a0}; p = $regs->{a1}; fm = $regs->{a2} }}",
        abi.openat2,
        kind::OPENAT2
    ));
    w.line(&format!(
        "else if (id == {}) {{ k = {}; d = $regs->{a0}; p = 0; fm = {} }}",
        abi.open_by_handle_at,
        kind::HANDLE,
        int(a2)
    ));
    w.line("else next");
}

/// The embedded C the script's details need (guru mode, `-g`, as the fence's count of
/// skipped probes already does): the path of an fd and of the cwd as `d_path()` makes it (what
/// `readlink /proc/PID/fd/N` shows, ` (deleted)` included), the signal of a process being
/// killed, and `struct io_open` (io_uring/openclose.c, in no header; the first member of
/// `struct io_kiocb`).
const EMBEDDED_C: &str = r#"%{
#include <linux/dcache.h>
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/openat2.h>
/* struct io_open of io_uring/openclose.c (Linux 5.6 to 6.x, in io_uring.c before 5.19). */
struct tt_io_open {
	struct file *file;
	int dfd;
	u32 file_slot;
	struct filename *filename;
	struct open_how how;
	unsigned long nofile;
};
/* d_path() of `path` into `buf` (MAXSTRINGLEN bytes), moved to its start; "" when the kernel
 * cannot make it. Under rcu_read_lock(): dentries and mounts are freed after a grace period. */
static void tt_path(const struct path *path, char *buf)
{
	char *p = d_path(path, buf, MAXSTRINGLEN);
	if (IS_ERR(p))
		buf[0] = '\0';
	else
		memmove(buf, p, strlen(p) + 1);
}
%}

# The path of the current process's file descriptor fd, as readlink /proc/PID/fd/FD shows
# it; "" when there is no such fd.
function fd_path:string(fd:long) %{ /* pure */
	struct file *f;
	STAP_RETVALUE[0] = '\0';
	if (!in_task() || !current->files || STAP_ARG_fd < 0 || STAP_ARG_fd > INT_MAX)
		return;
	rcu_read_lock();
	/* files_lookup_fd_raw(): under rcu_read_lock(), the same on Linux 5.11 to 6.x. */
	f = files_lookup_fd_raw(current->files, (unsigned int)STAP_ARG_fd);
	if (f) {
		struct path path = f->f_path;
		tt_path(&path, STAP_RETVALUE);
	}
	rcu_read_unlock();
%}

# The path of the current process's working directory.
function cwd_path:string() %{ /* pure */
	struct fs_struct *fs = current->fs;
	struct path pwd;
	STAP_RETVALUE[0] = '\0';
	if (!in_task() || !fs)
		return;
	rcu_read_lock();
	spin_lock(&fs->lock);
	pwd = fs->pwd;
	spin_unlock(&fs->lock);
	tt_path(&pwd, STAP_RETVALUE);
	rcu_read_unlock();
%}

# The signal killing the current thread (SIGKILL pending: a fatal signal, or another
# thread's exit_group, queues it on every thread, and it is delivered before the return to
# user space): the group's exit code, 9 for an exit_group; 0 when it is not being killed.
function killed_signal:long() %{ /* pure */
	int sig = 0;
	if (sigismember(&current->pending.signal, SIGKILL)) {
		sig = current->signal->group_exit_code & 0x7f;
		if (!sig)
			sig = SIGKILL;
	}
	STAP_RETVALUE = sig;
%}

# A field of an io_uring open request's struct io_open: 0 dfd, 1 file_slot, 2 the kernel's
# copy of the name (a pointer), 3 how.flags, 4 how.mode, 5 how.resolve.
function uring_open:long(req:long, field:long) %{ /* pure */
	struct tt_io_open *o = (struct tt_io_open *)(unsigned long)STAP_ARG_req;
	struct filename *name;
	switch (STAP_ARG_field) {
	case 0: STAP_RETVALUE = kread(&o->dfd); break;
	case 1: STAP_RETVALUE = kread(&o->file_slot); break;
	case 2:
		name = kread(&o->filename);
		STAP_RETVALUE = name ? (long)kread(&name->name) : 0;
		break;
	case 3: STAP_RETVALUE = kread(&o->how.flags); break;
	case 4: STAP_RETVALUE = kread(&o->how.mode); break;
	default: STAP_RETVALUE = kread(&o->how.resolve); break;
	}
	CATCH_DEREF_FAULT();
%}
"#;

/// Which process ids the script compares, keeps and prints: the host's (`pid()`, `tid()`,
/// `task->tgid`), or, when trace-gen runs inside a PID namespace, that namespace's, as `ps`
/// there shows them. stap's runtime names its namespace after stapio's (trace-gen's child, in
/// trace-gen's namespace), by `ns_id(task, thread)` (0 for a process outside it), for the
/// current task and the tasks of the fork and exit tracepoints. The per-thread maps stay
/// keyed by the host's `tid()` (unique on the whole machine).
struct Ids {
    ns: bool,
    pid: &'static str,
    tid: &'static str,
}

impl Ids {
    fn new(ns: bool) -> Ids {
        if ns {
            Ids {
                ns,
                pid: "ns_id(task_current(), 0)",
                tid: "ns_id(task_current(), 1)",
            }
        } else {
            Ids {
                ns,
                pid: "pid()",
                tid: "tid()",
            }
        }
    }

    /// The thread group id of `task` (a task pointer of a tracepoint).
    fn tgid(&self, task: &str) -> String {
        if self.ns {
            format!("ns_id({task}, 0)")
        } else {
            format!("{task}->tgid")
        }
    }
}

/// The script for a run on the host.
#[cfg(test)]
fn render(spec: &ScriptSpec) -> String {
    render_in(spec, false)
}

/// The script; `ns`: trace-gen runs inside a PID namespace (not the host's).
fn render_in(spec: &ScriptSpec, ns: bool) -> String {
    let ids = Ids::new(ns);
    let filter: Vec<String> = tests(spec, ids.ns).iter().map(|t| t.render(&ids)).collect();
    let filter = filter.join(" && ");
    let follow = follows(spec);
    let globals = pid_globals(spec);

    let mut w = StapWriter::new();
    w.line("# Generated by trace-gen: open-family system calls, paths read at return,");
    w.line("# paired per thread, monotonic timestamps (ktime_get_ns).");
    w.line("");
    w.line("# Per thread, stashed at entry: the path's user pointer, the time, the flags and mode");
    w.line("# (or openat2's how pointer), the kind of call and the dirfd.");
    w.line("global entry_path, entry_ts, entry_fm, entry_kd");
    w.line("# io_uring open requests, by request, from submission to completion: the submitter's");
    w.line("# ids and name, the time, the details and the kernel's copy of the name (freed before");
    w.line("# the completion), in two pieces.");
    for m in [
        "u_ts",
        "u_ids",
        "u_pid",
        "u_op",
        "u_dfd",
        "u_flags",
        "u_mode",
        "u_resolve",
        "u_comm",
        "u_name",
        "u_name2",
    ] {
        w.line(&format!("global {m}%[{URING_ENTRIES}]"));
    }
    w.line("# The attached line was printed.");
    w.line("global attached = 0");
    w.line("# Set with -G: trace-gen's pid (the fence), and the run's process ids.");
    w.line("global tracegen = 0");
    for (name, _) in &globals {
        w.line(&format!("global {name} = 0"));
    }
    if matches!(spec.target, Target::Command) {
        w.line("global command = 0");
    }
    if follow {
        w.line("# The followed processes (thread group ids); trace-gen keeps the live ones from");
        w.line("# the P fork and P exit lines, and stops when none is left.");
        w.line(&format!("global traced[{MAP_ENTRIES}]"));
    }
    w.line("");
    w.block("probe begin", |w| {
        if follow {
            match &spec.target {
                Target::Command => w.line("follow(command)"),
                _ => {
                    for (name, _) in &globals {
                        w.line(&format!("if (pid2task({name})) follow({name})"));
                    }
                }
            }
        }
    });
    if follow {
        w.line("");
        w.block("function follow(tgid:long)", |w| {
            w.line("traced[tgid] = 1");
        });
        w.line("");
        w.line("# A new process of a followed one, whichever thread made it (a new thread has");
        w.line("# the same tgid: nothing to add).");
        w.block("probe kernel.trace(\"sched:sched_process_fork\")", |w| {
            w.line(&format!("parent = {}", ids.tgid("$parent")));
            w.line(&format!("child = {}", ids.tgid("$child")));
            w.line("if (!(parent in traced) || child == parent) next");
            w.line("follow(child)");
            w.line("printf(\"P fork %d %d\\n\", parent, child)");
        });
        w.line("# A process ends with its last thread (signal->live is already decremented");
        w.line("# here): a main thread's exit and an exec keep it followed.");
        w.block("probe kernel.trace(\"sched:sched_process_exit\")", |w| {
            w.line(&format!("tgid = {}", ids.tgid("$p")));
            w.line("if (!(tgid in traced)) next");
            w.line("if (@cast($p, \"task_struct\", \"kernel<linux/sched/signal.h>\")->signal->live->counter != 0) next");
            w.line("delete traced[tgid]");
            w.line("printf(\"P exit %d\\n\", tgid)");
        });
    }
    w.line("");
    w.line("%( arch == \"x86_64\" %?");
    w.line("# Every open-family call, 64-bit and ia32, from the raw syscall tracepoints.");
    w.block("probe kernel.trace(\"raw_syscalls:sys_enter\")", |w| {
        w.line("id = $id");
        w.block(&format!("if ($regs->cs == {})", X86_64.cs), |w| {
            w.line(&format!(
                "if (id == {} && {} == tracegen) {{",
                X86_64.getppid, ids.pid
            ));
            w.line(&format!(
                "  printf(\"{EMITTED_PREFIX}%d cpu %d skipped %d errors %d\\n{FENCE_MARKER} %d\\n\", emitted_here(), cpu(), skipped_probes(), probe_errors(), cpu())"
            ));
            w.line("  next");
            w.line("}");
            abi_entry(w, &X86_64);
        });
        w.block(&format!("else if ($regs->cs == {})", IA32.cs), |w| {
            let _ = IA32.getppid;
            abi_entry(w, &IA32);
        });
        w.line("else next");
        w.line(&format!("if (!({filter})) next"));
        w.line("entry_path[tid()] = p");
        w.line("entry_fm[tid()] = fm");
        w.line("entry_kd[tid()] = (k << 32) | (d & 0xffffffff)");
        w.line("entry_ts[tid()] = ktime_get_ns()");
    });
    w.block("probe kernel.trace(\"raw_syscalls:sys_exit\")", |w| {
        w.line("if (!attached) announce()");
        w.line("if (tid() in entry_ts) report($ret)");
    });
    w.line("");
    w.line(
        "# An io_uring open (IORING_OP_OPENAT, OPENAT2), in the submitting thread after its prep",
    );
    w.line(
        "# (the name is the kernel's copy: read here, it is freed before the completion). Named",
    );
    w.line("# io_uring_submit_req since Linux 6.3.");
    w.block(
        "probe kernel.trace(\"io_uring:io_uring_submit_sqe\") ?, kernel.trace(\"io_uring:io_uring_submit_req\") ?",
        |w| {
            w.line("op = $req->opcode");
            w.line(&format!(
                "if (op != {IORING_OP_OPENAT} && op != {IORING_OP_OPENAT2}) next"
            ));
            w.line(&format!("if (!({filter})) next"));
            w.line("uring_submit($req, op)");
        },
    );
    w.line(
        "# Its completion (in the submitter, or an io-wq worker of the same process, sharing its",
    );
    w.line("# files and cwd): both lines, with the submitter's ids.");
    w.block(
        "probe kernel.trace(\"io_uring:io_uring_complete\") ?",
        |w| {
            w.line("if ($req in u_ts) uring_report($req, $res)");
        },
    );
    w.line("%:");
    w.line("# Elsewhere: the syscall tapsets.");
    w.block("probe syscall.getppid", |w| {
        w.line(&format!(
            "if ({} == tracegen) printf(\"{EMITTED_PREFIX}%d cpu %d skipped %d errors %d\\n{FENCE_MARKER} %d\\n\", emitted_here(), cpu(), skipped_probes(), probe_errors(), cpu())",
            ids.pid
        ));
    });
    for (probe, k, dfd, path, flags) in [
        ("syscall.open", kind::OPEN, "-100", 1, "flags"),
        ("syscall.creat", kind::CREAT, "-100", 1, "0x241"),
        ("syscall.openat", kind::OPENAT, "dfd", 2, "flags"),
    ] {
        w.block(&format!("probe {probe}"), |w| {
            w.line(&format!("if (!({filter})) next"));
            w.line(&format!("entry_path[tid()] = pointer_arg({path})"));
            w.line(&format!(
                "entry_fm[tid()] = ({flags} & 0xffffffff) | ((mode & 0xffff) << 32)"
            ));
            w.line(&format!(
                "entry_kd[tid()] = ({k} << 32) | ({dfd} & 0xffffffff)"
            ));
            w.line("entry_ts[tid()] = ktime_get_ns()");
        });
    }
    w.block(
        "probe syscall.open.return, syscall.openat.return, syscall.creat.return",
        |w| w.line("if (tid() in entry_ts) report(retval)"),
    );
    w.line("probe begin { announce() }");
    w.line("%)");
    w.line("");
    w.line("# Probes stap skipped so far (each is at most one open never printed).");
    w.line("function skipped_probes:long () %{ /* pure */");
    w.line("  STAP_RETVALUE = atomic_read(skipped_count());");
    w.line("%}");
    w.line("");
    w.line("# Probes that failed with an error so far (each is at most one open never printed).");
    w.line("function probe_errors:long () %{ /* pure */");
    w.line("  STAP_RETVALUE = atomic_read(error_count());");
    w.line("%}");
    w.line("");
    w.line("# Events printed on each CPU, reported with that CPU's fence line: what the transport");
    w.line(
        "# lost is the difference with what arrived. Per CPU, since a CPU's buffer is first in,",
    );
    w.line(
        "# first out: all it counted is before its fence line. (Probe handlers do not migrate.)",
    );
    w.line("%{");
    w.line("static DEFINE_PER_CPU(unsigned long, tt_emitted);");
    w.line("%}");
    w.line("function count_emitted() %{");
    w.line("  this_cpu_inc(tt_emitted);");
    w.line("%}");
    w.line("function emitted_here:long () %{ /* pure */");
    w.line("  STAP_RETVALUE = this_cpu_read(tt_emitted);");
    w.line("%}");
    if ids.ns {
        w.line("");
        w.line(
            "# A live task's thread group id (thread: its thread id) in stapio's PID namespace,",
        );
        w.line(
            "# trace-gen's, where the runtime's ns_pid() looks (0 when the task has none there).",
        );
        w.line("# The task is current or a tracepoint's: no need to look for it in the task list.");
        w.line("function ns_id:long (task:long, thread:long) %{ /* pure */");
        w.line("  struct task_struct *t = (struct task_struct *)(uintptr_t)STAP_ARG_task;");
        w.line("  struct pid_namespace *ns;");
        w.line("  int64_t r = 0;");
        w.line("  rcu_read_lock();");
        w.line("  ns = get_pid_namespace(_stp_namespaces_pid);");
        w.line("  if (ns) {");
        w.line("    r = STAP_ARG_thread ? task_pid_nr_ns(t, ns) : task_tgid_nr_ns(t, ns);");
        w.line("    put_pid_ns(ns);");
        w.line("  }");
        w.line("  rcu_read_unlock();");
        w.line("  STAP_RETVALUE = r;");
        w.line("%}");
    }
    w.line("");
    w.line("# Says that tracing is live. stap runs its begin probes before it registers the");
    w.line("# tracepoint probes, so on x86_64 this waits for the first system call exit after");
    w.line("# the last of them (the sys_exit probe) was registered.");
    w.block("function announce()", |w| {
        w.line("attached = 1");
        w.line(&format!("printf(\"{ATTACHED_MARKER}\\n\")"));
    });
    w.line("");
    w.out.push_str(EMBEDDED_C);
    w.line("");
    w.line(
        "# Prints the path at user address p, quoted without its quotes, whole: in chunks, since",
    );
    w.line("# user_string() stops one byte short of MAXSTRINGLEN - 1. Returns 1 when it is longer");
    w.line("# than PATH_MAX - 1 (the kernel refuses it) or unreadable past its start: cut.");
    w.block("function put_user_path:long(p:long)", |w| {
        w.line("whole = 0");
        w.block("try", |w| {
            w.block(
                &format!("for (off = 0; !whole && off < {PATH_MAX_LEN}; off += n)"),
                |w| {
                    w.line(&format!(
                        "n = {PATH_MAX_LEN} - off < {QUOTE_CHUNK} ? {PATH_MAX_LEN} - off : {QUOTE_CHUNK}"
                    ));
                    w.line("s = user_string_n(p + off, n)");
                    w.line("q = string_quoted(s)");
                    w.line("print(substr(q, 1, strlen(q) - 2))");
                    w.line("whole = strlen(s) < n");
                },
            );
            w.line(&format!("return !whole && user_char(p + {PATH_MAX_LEN}) != 0;"));
        });
        w.block("catch", |w| w.line("return 1;"));
    });
    w.line("");
    w.line("# Prints s quoted without its quotes, in chunks (a quoted byte takes up to 4).");
    w.block("function put_string(s:string)", |w| {
        w.block(
            &format!("for (off = 0; off < strlen(s); off += {QUOTE_CHUNK})"),
            |w| {
                w.line(&format!("q = string_quoted(substr(s, off, {QUOTE_CHUNK}))"));
                w.line("print(substr(q, 1, strlen(q) - 2))");
            },
        );
    });
    w.line("");
    w.line("# The details of an entry: flags, resolve (openat2), mode (when it can create), via.");
    w.block(
        "function put_details(flags:long, mode:long, resolve:long, with_resolve:long, via:string)",
        |w| {
            w.line("printf(\" flags: 0x%x\", flags)");
            w.line("if (with_resolve) printf(\" resolve: 0x%x\", resolve)");
            w.line(&format!(
                "if (via != \"handle\" && (flags & {CAN_CREATE:#x})) printf(\" mode: 0%o\", mode)"
            ));
            w.line("printf(\" via: %s\", via)");
        },
    );
    w.line("");
    w.line("# The resolved path of a success: the opened file, when the kernel names it by a path");
    w.line("# (not pipe:[N], socket:[N], anon_inode:...).");
    w.block("function put_opened(fd:long)", |w| {
        w.line("s = fd_path(fd)");
        w.line("if (substr(s, 0, 1) != \"/\") return;");
        w.line("print(\" resolved: \\\"\")");
        w.line("put_string(s)");
        w.line("print(\"\\\"\")");
    });
    w.line("");
    w.line("# The start of a failure's resolved path: the directory a relative name was resolved");
    w.line("# against (the dirfd's file, or the cwd) and a slash. Returns 0 when there is none.");
    w.block("function put_base:long(dfd:long)", |w| {
        w.line("dir = dfd == -100 ? cwd_path() : fd_path(dfd)");
        w.line("if (substr(dir, 0, 1) != \"/\") return 0;");
        w.line("print(\" resolved: \\\"\")");
        w.line("put_string(dir)");
        w.line("if (substr(dir, strlen(dir) - 1, 1) != \"/\") print(\"/\")");
        w.line("return 1;");
    });
    w.line("");
    w.line(
        "# Prints the pair for this thread: the details, the path whole and quoted, the resolved",
    );
    w.line("# path, and the signal that kills the process when the call never returns.");
    w.block("function report(ret:long)", |w| {
        w.line("t = tid()");
        w.line("if (!(t in entry_ts)) return;");
        w.line("p = entry_path[t]");
        w.line("fm = entry_fm[t]");
        w.line("kd = entry_kd[t]");
        w.line("ts = entry_ts[t]");
        w.line("delete entry_path[t]");
        w.line("delete entry_fm[t]");
        w.line("delete entry_kd[t]");
        w.line("delete entry_ts[t]");
        w.line("k = kd >> 32");
        w.line("d = kd & 0xffffffff");
        w.line("if (d & 0x80000000) d -= 0x100000000");
        w.line("comm = string_quoted(execname())");
        // The printed ids: the namespace's, or the host's (`t`, the maps' key).
        let printed = if ids.ns {
            format!("{}, {}", ids.pid, ids.tid)
        } else {
            "pid(), t".to_owned()
        };
        w.line(&format!(
            "printf(\"=> uid: %d pid: %d tid: %d\", uid(), {printed})"
        ));
        w.block(&format!("if (k == {})", kind::OPENAT2), |w| {
            w.line("# openat2's how, read at return (the kernel has read it: it is in memory).");
            w.line("try { put_details(user_uint64(fm), user_uint64(fm + 8), user_uint64(fm + 16), 1, \"syscall\") }");
            w.line("catch { print(\" via: syscall\") }");
        });
        w.line(&format!(
            "else put_details(fm & 0xffffffff, fm >> 32, 0, 0, k == {} ? \"handle\" : \"syscall\")",
            kind::HANDLE
        ));
        w.line("# An unreadable path pointer: fault: and an empty path, never a cut empty name");
        w.line("# (user_char() would read an unreadable byte as 0; user_string_n() fails).");
        w.line("abs = 0");
        w.line("fault = 0");
        w.line(&format!(
            "if (k != {}) {{ try {{ abs = substr(user_string_n(p, 2), 0, 1) == \"/\" }} catch {{ fault = 1 }} }}",
            kind::HANDLE
        ));
        w.line("if (fault) printf(\" fault: 0x%x\", p)");
        w.line("printf(\" comm: %s open: \\\"\", comm)");
        w.line("cut = fault || p == 0 ? 0 : put_user_path(p)");
        w.line(&format!("printf(\"\\\"%s %d\\n<= uid: %d pid: %d tid: %d\", cut ? \"...\" : \"\", ts, uid(), {printed})"));
        w.line("if (ret >= 0) put_opened(ret)");
        w.block(&format!("else if (k != {} && !fault)", kind::HANDLE), |w| {
            w.line("# A failure: the directory joined with the name (an absolute name as is).");
            w.block("if (abs || put_base(d))", |w| {
                w.line("if (abs) print(\" resolved: \\\"\")");
                w.line("cut = put_user_path(p)");
                w.line("printf(\"\\\"%s\", cut ? \"...\" : \"\")");
            });
        });
        w.line("# ERESTARTSYS..ERESTART_RESTARTBLOCK with SIGKILL pending: the call never returns.");
        w.block("if (ret <= -512 && ret >= -516)", |w| {
            w.line("sig = killed_signal()");
            w.line("if (sig) printf(\" killed: %d\", sig)");
        });
        w.line("printf(\" comm: %s ret: %d %d\\n\", comm, ret, ktime_get_ns())");
        w.line("count_emitted()");
    });
    w.line("");
    w.line("# Keeps an io_uring open request's details at its submission.");
    w.block("function uring_submit(r:long, op:long)", |w| {
        w.line("name = uring_open(r, 2)");
        w.line("if (!name) return;");
        w.line("u_ts[r] = ktime_get_ns()");
        w.line(&format!("u_ids[r] = (uid() << 32) | {}", ids.tid));
        w.line(&format!("u_pid[r] = {}", ids.pid));
        w.line("u_op[r] = op");
        w.line("u_dfd[r] = (uring_open(r, 0) & 0xffffffff) | (uring_open(r, 1) << 32)");
        w.line(&format!("u_flags[r] = uring_open(r, 3) & ~{O_LARGEFILE:#x}"));
        w.line("u_mode[r] = uring_open(r, 4)");
        w.line("u_resolve[r] = uring_open(r, 5)");
        w.line("u_comm[r] = string_quoted(execname())");
        w.line(&format!("u_name[r] = kernel_string_n(name, {QUOTE_CHUNK})"));
        w.line(&format!(
            "u_name2[r] = strlen(u_name[r]) < {QUOTE_CHUNK} ? \"\" : kernel_string_n(name + {QUOTE_CHUNK}, {})",
            PATH_MAX_LEN - QUOTE_CHUNK
        ));
    });
    w.line("");
    w.line("# Prints an io_uring open at its completion: res is the fd or -errno.");
    w.block("function uring_report(r:long, res:long)", |w| {
        w.line("ids = u_ids[r]");
        w.line("t = ids & 0xffffffff");
        w.line("u = ids >> 32");
        w.line("d = u_dfd[r] & 0xffffffff");
        w.line("if (d & 0x80000000) d -= 0x100000000");
        w.line("slot = u_dfd[r] >> 32");
        w.line("printf(\"=> uid: %d pid: %d tid: %d\", u, u_pid[r], t)");
        w.line(&format!(
            "put_details(u_flags[r], u_mode[r], u_resolve[r], u_op[r] == {IORING_OP_OPENAT2}, \"io_uring\")"
        ));
        w.line("printf(\" comm: %s open: \\\"\", u_comm[r])");
        w.line("put_string(u_name[r])");
        w.line("put_string(u_name2[r])");
        w.line("printf(\"\\\" %d\\n<= uid: %d pid: %d tid: %d\", u_ts[r], u, u_pid[r], t)");
        w.line("# A direct descriptor (file_slot) is no fd: not resolved.");
        w.line("if (res >= 0 && !slot) put_opened(res)");
        w.block("else if (res < 0)", |w| {
            w.line("abs = substr(u_name[r], 0, 1) == \"/\"");
            w.block("if (abs || put_base(d))", |w| {
                w.line("if (abs) print(\" resolved: \\\"\")");
                w.line("put_string(u_name[r])");
                w.line("put_string(u_name2[r])");
                w.line("print(\"\\\"\")");
            });
        });
        w.line("printf(\" comm: %s ret: %d %d\\n\", u_comm[r], res, ktime_get_ns())");
        w.line("count_emitted()");
        for m in [
            "u_ts", "u_ids", "u_pid", "u_op", "u_dfd", "u_flags", "u_mode", "u_resolve", "u_comm",
            "u_name", "u_name2",
        ] {
            w.line(&format!("delete {m}[r]"));
        }
    });
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::TargetOs;

    fn spec(target: Target, follow: bool) -> ScriptSpec {
        ScriptSpec {
            target,
            follow,
            uid: None,
            comm: None,
            cgroup: None,
            buffer_size: 16 << 20,
            target_os: TargetOs::Linux,
            stop_at_exit: false,
            resolve_paths: true,
        }
    }

    #[test]
    fn what_systemtap_cannot_show_is_said_at_start_up() {
        let note = SystemTap
            .startup_note(&spec(Target::Command, true))
            .expect("a start-up note");
        let whats: &[&str] = if cfg!(target_arch = "x86_64") {
            &["io_uring opens refused", "direct-descriptor", "pipe:[N]"]
        } else {
            &[
                "openat2",
                "io_uring",
                "open_by_handle_at",
                "resolved",
                "unreadable",
            ]
        };
        for what in whats {
            assert!(note.contains(what), "{what}: {note}");
        }
    }

    #[test]
    fn in_a_pid_namespace_the_script_compares_and_prints_the_namespaces_pids() {
        for target in [
            Target::Command,
            Target::Pids(vec![7]),
            Target::SystemWide { exclude: vec![9] },
        ] {
            let s = spec(target, true);
            let host = render_in(&s, false);
            assert!(!host.contains("ns_id"));
            let ns = render_in(&s, true);
            // Every comparison with a pid of trace-gen's (its own, -c, -p, the excluded),
            // every printed id and the followed set: the namespace's.
            for host_only in [
                "pid() ==",
                "pid() !=",
                "pid() in",
                "->tgid",
                "uid(), pid(), t)",
                "| tid()",
                "= pid()",
            ] {
                let stray = ns.lines().find(|l| {
                    l.contains(host_only) && !l.contains("ns_id(") && !l.contains("stp_pid()")
                });
                assert!(stray.is_none(), "{host_only}: {stray:?}");
            }
            let (pid, tid) = ("ns_id(task_current(), 0)", "ns_id(task_current(), 1)");
            assert!(ns.contains(&format!("uid(), {pid}, {tid})")));
            assert!(ns.contains(&format!("u_pid[r] = {pid}")));
            assert!(ns.contains(&format!("{pid} == tracegen")));
            if matches!(s.target, Target::SystemWide { .. }) {
                assert!(
                    ns.contains(&format!("{pid} != 0 && {pid} != exclude_0")),
                    "{ns}"
                );
            } else {
                assert!(ns.contains("parent = ns_id($parent, 0)"));
                assert!(ns.contains(&format!("{pid} in traced")));
            }
            // The maps stay keyed by the host's thread id, unique on the machine.
            assert!(ns.contains("entry_ts[tid()] = ktime_get_ns()"));
        }
    }

    #[test]
    fn every_open_detail_is_in_the_script() {
        let script = render(&spec(Target::Command, true));
        for (what, code) in [
            ("flags", "printf(\" flags: 0x%x\", flags)"),
            (
                "mode only when it can create",
                "& 0x400040)) printf(\" mode: 0%o\", mode)",
            ),
            (
                "openat2's how at return",
                "user_uint64(fm + 16), 1, \"syscall\")",
            ),
            ("fault", "printf(\" fault: 0x%x\", p)"),
            ("killed", "printf(\" killed: %d\", sig)"),
            ("open_by_handle_at", "else if (id == 304) { k = 4;"),
            ("ia32 open_by_handle_at", "else if (id == 342) { k = 4;"),
            (
                "io_uring submission",
                "kernel.trace(\"io_uring:io_uring_submit_sqe\") ?",
            ),
            (
                "io_uring completion",
                "if ($req in u_ts) uring_report($req, $res)",
            ),
            ("io_uring flags", "u_flags[r] = uring_open(r, 3) & ~0x8000"),
            ("resolved by d_path", "d_path(path, buf, MAXSTRINGLEN)"),
        ] {
            assert!(script.contains(code), "{what}: no {code:?} in\n{script}");
        }
    }

    #[test]
    fn every_return_statement_ends_with_a_semicolon() {
        // `return` then a newline and an assignment parses as `return <assignment>`.
        for s in [
            spec(Target::Command, true),
            spec(Target::Pids(vec![1, 2]), true),
            spec(Target::SystemWide { exclude: vec![3] }, false),
        ] {
            let script = render(&s);
            for line in script.lines().map(str::trim_start) {
                // A statement: at the start of a line, or after an `if (...)`.
                for (i, _) in line.match_indices("return") {
                    let before = line[..i].trim_end();
                    if before.is_empty() || before.ends_with(')') {
                        // `return;` or `return EXPR;`, never a `return` ending its line.
                        let rest = line[i + "return".len()..].trim_end();
                        assert!(rest.ends_with(';'), "bare return: {line:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn pids_are_globals_set_by_g_never_literals() {
        let s = spec(Target::Pids(vec![4242, 77]), true);
        let script = render(&s);
        assert!(
            !script.contains("4242") && !script.contains("77"),
            "{script}"
        );
        let args: Vec<String> = SystemTap
            .args(&s, None)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let g: Vec<&str> = args
            .windows(2)
            .filter(|w| w[0] == "-G")
            .map(|w| w[1].as_str())
            .collect();
        assert_eq!(
            g,
            [
                format!("tracegen={}", std::process::id()).as_str(),
                "root_0=4242",
                "root_1=77"
            ]
        );
        assert!(script.contains("if (pid2task(root_1)) follow(root_1)"));
    }

    /// The tests that read or change the counts of this process's stap ([`COUNTS`]).
    static COUNTS_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn stap_loss_reports_are_counted() {
        let _lock = COUNTS_TESTS.lock().unwrap_or_else(|p| p.into_inner());
        assert_eq!(
            lost_report("WARNING: There were 2 transport failures. Try stap -s to increase the buffer size from 16."),
            Some(2)
        );
        assert_eq!(
            lost_report("WARNING: Number of errors: 0, skipped probes: 34"),
            Some(34)
        );
        assert_eq!(
            lost_report("WARNING: Number of errors: 1, skipped probes: 2"),
            Some(3)
        );
        assert_eq!(
            lost_report("WARNING: Number of errors: 0, skipped probes: 0"),
            None
        );
        assert_eq!(lost_report("ERROR: division by 0"), None);
        assert_eq!(
            SystemTap.stderr_line("WARNING: There were 7 transport failures."),
            StderrLine::Lost(7),
            "no fence counted them"
        );
        SystemTap.classify(b"# trace-gen: emitted 0 cpu 0 skipped 0 errors 0");
        assert_eq!(
            SystemTap.stderr_line("WARNING: There were 7 transport failures."),
            StderrLine::Show,
            "a fence counted them already"
        );
        SystemTap.final_lost();
    }

    #[test]
    fn events_printed_on_each_cpu_and_not_read_are_lost() {
        let _lock = COUNTS_TESTS.lock().unwrap_or_else(|p| p.into_inner());
        assert_eq!(SystemTap.final_lost(), 0, "no count, no claim");
        for _ in 0..3 {
            SystemTap.classify(b"<= uid: 0 pid: 1 tid: 1 comm: \"a\" ret: 3 5");
        }
        SystemTap.classify(b"=> uid: 0 pid: 1 tid: 1 comm: \"a\" open: \"/x\" 5");
        assert_eq!(
            SystemTap.classify(b"# trace-gen: emitted 2 cpu 0 skipped 1 errors 0"),
            TracerLine::Blank
        );
        // An earlier fence line of CPU 1, then its last.
        SystemTap.classify(b"# trace-gen: emitted 1 cpu 1 skipped 0 errors 0");
        SystemTap.classify(b"# trace-gen: emitted 3 cpu 1 skipped 1 errors 1");
        assert_eq!(
            SystemTap.final_lost(),
            4,
            "5 printed (2 on CPU 0, 3 on CPU 1) and 3 read; 1 skipped, 1 failed"
        );
        assert_eq!(SystemTap.final_lost(), 0, "counted once");
        assert_eq!(
            SystemTap.classify(b"# trace-gen: emitted 2 skipped 1"),
            TracerLine::Trace(b"# trace-gen: emitted 2 skipped 1"),
            "not the script's counts"
        );
        assert_eq!(SystemTap.final_lost(), 0);
    }

    #[test]
    fn process_reports_are_decoded() {
        let mut d = SystemTap.decoder().unwrap();
        let mut out = Vec::new();
        assert_eq!(
            d.line(b"P fork 10 11", &mut out),
            Decoded::Fork {
                parent: 10,
                child: 11
            }
        );
        assert_eq!(d.line(b"P exit 11", &mut out), Decoded::Exit(11));
        assert!(matches!(
            d.line(b"P fork 1", &mut out),
            Decoded::Malformed(_)
        ));
        assert!(matches!(
            d.line(b"P exit x", &mut out),
            Decoded::Malformed(_)
        ));
        assert_eq!(d.line(b"# trace-gen: fence 1", &mut out), Decoded::Fence(1));
        assert!(out.is_empty());
        let e = b"=> uid: 0 pid: 1 tid: 1 comm: \"a\" open: \"/x\" 5";
        assert_eq!(d.line(e, &mut out), Decoded::Trace);
        assert_eq!(out, [&e[..], b"\n"].concat());
    }
}
