//! Running the tracer: the script goes to its stdin, its stdout is filtered into trace lines
//! on ours, its stderr is read on its own thread, and a `-c` command is started only once the
//! probes are attached.
//!
//! The order of a run, and why:
//! 1. Checks (tracer present, root, tracefs) so that each failure gets one clear message.
//! 2. The headers, then `sh -c CMD` is spawned *held*: a small `sh` wrapper waits for a line
//!    on fd 3 before it `exec`s `sh -c CMD`, so the command's pid (the script's target) is
//!    known before the tracer starts, and the command runs only when tracing is live.
//! 3. The tracer runs; when its script prints [`ATTACHED_MARKER`], the command is released.
//! 4. When the command exits, the tracer is stopped, but only after it has drained: bpftrace
//!    0.17 drops what is still in its buffers on SIGINT (measured: the last opens of
//!    `cat /tmp/not_exists` were missing), so with a backend that has a fence, trace-gen calls
//!    `getppid()` on every CPU, reads on until the script's [`FENCE_MARKER`] line of every
//!    CPU, then sends SIGINT and reads to end-of-file (see [`Stopper::trigger`]).
//! 5. SIGINT, SIGTERM and SIGHUP sent to trace-gen stop the tracer the same way; the command
//!    gets the signal too, unless it came from the terminal (which sent it to the command
//!    already). trace-gen exits 128 + n after the drain. The tracer runs in its own process
//!    group, so a Ctrl-C reaches it only through trace-gen, after the fence, and it gets
//!    SIGINT if trace-gen dies (`PR_SET_PDEATHSIG`).

use crate::backend::Backend;
use crate::config::{is_executable, tracefs_events, BackendKind, Config};
use crate::error::Error;
use crate::rejoin::{Rejoiner, Step};
use crate::script::{ScriptSpec, ATTACHED_MARKER, FENCE_MARKER};
use signal_hook::iterator::{exfiltrator::WithOrigin, SignalsInfo};
use signal_hook::low_level::siginfo::Cause;
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use trace_format::Header;

/// Prints the script on `out` and the tracer's command line on `err` (`--print-script`).
pub fn print_script(
    config: &Config,
    backend: &dyn Backend,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    out.write_all(backend.script(&config.spec).as_bytes())?;
    out.flush()?;
    let line = command_line(config, backend, &config.spec, None);
    writeln!(err, "{line}")?;
    if let Some(cmd) = &config.command {
        writeln!(
            err,
            "# PID: the pid of `sh -c {}`, started once the probes are attached",
            shell_quote(cmd)
        )?;
    }
    Ok(())
}

/// The tracer's command line as a shell would read it, variables first, script on stdin.
pub fn command_line(
    config: &Config,
    backend: &dyn Backend,
    spec: &ScriptSpec,
    pid: Option<u32>,
) -> String {
    let mut words: Vec<String> = backend
        .env(spec)
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                k.to_string_lossy(),
                shell_quote(&v.to_string_lossy())
            )
        })
        .collect();
    words.push(shell_quote(&config.tracer.to_string_lossy()));
    words.extend(
        backend
            .args(spec, pid)
            .iter()
            .map(|a| shell_quote(&a.to_string_lossy())),
    );
    words.push("< script".to_owned());
    words.join(" ")
}

/// Quotes `s` for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Checks that the tracer can run here, with the fix in the message when it cannot.
fn preflight(config: &Config) -> Result<(), Error> {
    let program = config.backend.program();
    if !is_executable(&config.tracer) {
        return Err(Error::TracerMissing {
            tracer: program,
            path: config.tracer.clone(),
            hint: format!(
                "{}, or set {} to its path",
                config.backend.install_hint(),
                config.backend.path_var()
            ),
        });
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err(Error::NotRoot(program));
    }
    if config.backend == BackendKind::Bpftrace && tracefs_events().is_none() {
        return Err(Error::NoTracefs);
    }
    Ok(())
}

/// The first line of `tracer --version`, for the `# backend:` header (bpftrace prints
/// `bpftrace v0.17.0`); the program name when that fails.
fn tracer_version(config: &Config) -> String {
    let program = config.backend.program();
    if config.backend != BackendKind::Bpftrace {
        return program.to_owned();
    }
    Command::new(&config.tracer)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::trim).map(str::to_owned))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| program.to_owned())
}

fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".to_owned();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// `sh -c CMD`, held until [`Held::release`]: a wrapper shell blocks reading a line on fd 3
/// (a pipe whose write end only trace-gen holds) and then `exec`s the command in the same
/// process, so the pid given to the tracer is the command's. If trace-gen dies before the
/// release, the pipe reads end-of-file and the wrapper exits 125 without running CMD.
struct Held {
    /// The wrapper, until it is handed to the thread that waits for it.
    child: Option<Child>,
    pid: u32,
    gate: Option<std::fs::File>,
}

impl Held {
    fn spawn(cmd: &str) -> Result<Held, Error> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: fds is a valid array of two ints; pipe2 fills it.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(Error::io(
                "creating the pipe that holds -c",
                std::io::Error::last_os_error(),
            ));
        }
        use std::os::fd::FromRawFd;
        // SAFETY: both fds were just created and are owned here only.
        let (read_end, write_end) = unsafe {
            (
                std::fs::File::from_raw_fd(fds[0]),
                std::fs::File::from_raw_fd(fds[1]),
            )
        };
        let read_fd = fds[0];
        let mut command = Command::new("/bin/sh");
        command.args([
            "-c",
            "IFS= read -r _ <&3 || exit 125; exec 3<&-; exec /bin/sh -c \"$1\"",
            "trace-gen-held",
            cmd,
        ]);
        // SAFETY: only async-signal-safe calls (dup2, fcntl) between fork and exec. dup2 puts
        // the read end on fd 3 without close-on-exec; if it already is fd 3, the flag is
        // cleared by hand.
        unsafe {
            command.pre_exec(move || {
                if read_fd == 3 {
                    if libc::fcntl(3, libc::F_SETFD, 0) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                } else if libc::dup2(read_fd, 3) != 3 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        // stdout is for trace lines only: the command's output goes to trace-gen's stderr.
        use std::os::fd::AsFd;
        let stderr = std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| Error::io("duplicating stderr for -c", e))?;
        command.stdout(Stdio::from(stderr));
        let child = command
            .spawn()
            .map_err(|e| Error::io(format!("starting sh -c {}", shell_quote(cmd)), e))?;
        drop(read_end);
        Ok(Held {
            pid: child.id(),
            child: Some(child),
            gate: Some(write_end),
        })
    }

    /// Lets the command run.
    fn release(&mut self) {
        if let Some(mut gate) = self.gate.take() {
            // If the wrapper is gone already, its exit status says so.
            let _ = gate.write_all(b"go\n");
        }
    }
}

/// Stops the tracer once, after a drain when the backend has a fence.
struct Stopper {
    tracer_pid: u32,
    fence: bool,
    requested: AtomicBool,
    attached: AtomicBool,
    /// The fence thread is running.
    fencing: AtomicBool,
    /// CPUs the fence was fired on, and CPUs whose fence line was read.
    cpus: Mutex<(BTreeSet<u32>, BTreeSet<u32>)>,
    /// The tracer's output has ended.
    finished: AtomicBool,
    /// Our output is gone: stop the tracer without waiting for a drain.
    abandon: AtomicBool,
}

impl Stopper {
    /// Asks the tracer to stop: with a fence, once the fence has been read from every CPU;
    /// without one, SIGINT now.
    fn request(self: &Arc<Self>) {
        self.requested.store(true, Ordering::SeqCst);
        if self.attached.load(Ordering::SeqCst) {
            self.trigger();
        }
    }

    /// Stops the tracer without a drain (nobody reads our output any more), SIGINT repeated
    /// as in [`Stopper::trigger`].
    fn abandon(self: &Arc<Self>) {
        self.abandon.store(true, Ordering::SeqCst);
        self.requested.store(true, Ordering::SeqCst);
        kill(self.tracer_pid, libc::SIGINT);
        if self.fence {
            self.trigger();
        }
    }

    /// The reader saw the fence line of `cpu`.
    fn fence_seen(&self, cpu: u32) {
        self.cpus
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .insert(cpu);
    }

    /// Fires the fence on every CPU, until each one's fence line has been read; then sends
    /// SIGINT, every 100 ms until the tracer's output ends.
    ///
    /// Why per CPU: the tracer's buffers are per CPU and read one after the other, and
    /// bpftrace 0.17 discards whatever it has not printed yet when SIGINT arrives (measured:
    /// with one fence, a burst lost the last 2% of two threads' opens, still queued on the
    /// other CPU). A CPU's buffer is first in, first out, so its fence line means all it held
    /// before is out. Why repeated: a fence event can be lost like any other when a buffer is
    /// full, and bpftrace acts on SIGINT only when it arrives during its `epoll_wait` (one
    /// that lands while it prints sets a flag that it does not look at again: it then waits
    /// forever, as measured).
    fn trigger(self: &Arc<Self>) {
        if !self.fence {
            kill(self.tracer_pid, libc::SIGINT);
            return;
        }
        if self.fencing.swap(true, Ordering::SeqCst) {
            return;
        }
        let me = Arc::clone(self);
        std::thread::spawn(move || {
            let cpus = cpu_count();
            while !me.finished.load(Ordering::SeqCst) {
                let (fired, seen) = me.cpus.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let drained = !fired.is_empty() && fired.is_subset(&seen);
                if drained || me.abandon.load(Ordering::SeqCst) {
                    kill(me.tracer_pid, libc::SIGINT);
                } else {
                    for cpu in (0..cpus).filter(|c| !seen.contains(c)) {
                        if pin_to_cpu(cpu) {
                            me.cpus
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .0
                                .insert(cpu);
                            // SAFETY: getppid has no preconditions; the script's probe on it
                            // is the fence.
                            unsafe { libc::getppid() };
                        }
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        });
    }
}

/// CPUs that may run tasks (configured, online or not).
fn cpu_count() -> u32 {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) };
    u32::try_from(n).unwrap_or(1).clamp(1, 4096)
}

/// Moves the calling thread to `cpu`; false when that CPU is offline or not allowed.
fn pin_to_cpu(cpu: u32) -> bool {
    let Ok(cpu) = usize::try_from(cpu) else {
        return false;
    };
    // SAFETY: cpu_set_t is plain data, zeroed is the empty set; CPU_SET stays in bounds
    // (checked against CPU_SETSIZE); sched_setaffinity(0, ...) applies to this thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if cpu >= usize::try_from(libc::CPU_SETSIZE).unwrap_or(0) {
            return false;
        }
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// Sends `sig` to `pid`.
fn kill(pid: u32, sig: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(pid, sig) };
    }
}

/// 128 + n for a death by signal n, else the exit code.
fn exit_code_of(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(c), _) => u8::try_from(c & 0xff).unwrap_or(1),
        (None, Some(s)) => u8::try_from(128 + s).unwrap_or(255),
        _ => 1,
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
    /// bpftrace's `Lost N events`.
    Lost(u64),
    /// Empty: dropped (bpftrace and dtrace print some at exit).
    Blank,
    /// Anything else (`Attaching 9 probes...`, warnings): to stderr.
    Chatter(&'a [u8]),
}

/// Sorts one line of tracer stdout (without its newline).
pub fn classify(line: &[u8]) -> TracerLine<'_> {
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
    if let Some(n) = line
        .strip_prefix(b"Lost ")
        .and_then(|r| r.strip_suffix(b" events"))
        .and_then(|n| std::str::from_utf8(n).ok())
        .and_then(|n| n.parse().ok())
    {
        return TracerLine::Lost(n);
    }
    TracerLine::Chatter(line)
}

/// Tracer stderr lines that are noise on every run (bpftrace 0.17 cannot raise
/// RLIMIT_MEMLOCK where the kernel accounts BPF memory by cgroup, and says so as an ERROR).
fn is_noise(line: &str) -> bool {
    line.contains("couldn't set RLIMIT_MEMLOCK")
}

/// Runs the tracer as configured, writing trace lines to `out`. Returns the exit code.
pub fn run(config: &Config, backend: &dyn Backend, out: &mut dyn Write) -> Result<u8, Error> {
    preflight(config)?;
    let program = config.backend.program();
    let write_err = |e| Error::io("writing the trace to stdout", e);

    let mut head = Vec::new();
    trace_format::write_header(&mut head, &Header::Version(trace_format::FORMAT_VERSION));
    trace_format::write_header(
        &mut head,
        &Header::Backend(tracer_version(config).as_bytes()),
    );
    trace_format::write_header(&mut head, &Header::Host(host_name().as_bytes()));
    trace_format::write_header(&mut head, &Header::Clock(trace_format::Clock::Monotonic));
    trace_format::write_header(
        &mut head,
        &Header::ClockOffset(crate::clock::realtime_offset_ns()),
    );
    out.write_all(&head).map_err(write_err)?;
    out.flush().map_err(write_err)?;

    // Signals are caught from here on, so none is lost between the spawns.
    let mut signals = SignalsInfo::<WithOrigin>::new([libc::SIGINT, libc::SIGTERM, libc::SIGHUP])
        .map_err(|e| Error::io("installing signal handlers", e))?;
    let signals_handle = signals.handle();

    let mut held = config.command.as_deref().map(Held::spawn).transpose()?;
    let target_pid = held.as_ref().map(|h| h.pid);

    let env: Vec<(OsString, OsString)> = backend.env(&config.spec);
    let mut command = Command::new(&config.tracer);
    command
        .args(backend.args(&config.spec, target_pid))
        .envs(env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: prctl is async-signal-safe. The tracer is spawned from the main thread, which
    // lives as long as trace-gen, so the signal comes when trace-gen exits or dies.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT);
            Ok(())
        });
    }
    let mut tracer = command
        .spawn()
        .map_err(|e| Error::io(format!("starting {}", config.tracer.display()), e))?;
    let tracer_pid = tracer.id();
    let script = backend.script(&config.spec);
    {
        let mut stdin = tracer.stdin.take().expect("stdin is piped");
        // A tracer that dies at once closes the pipe; its stderr explains why.
        let _ = stdin.write_all(script.as_bytes());
    }

    // stderr: shown live (except known noise), kept to explain a failure.
    let stderr = tracer.stderr.take().expect("stderr is piped");
    let stderr_thread = std::thread::spawn(move || {
        let mut kept = String::new();
        for line in BufReader::new(stderr).split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line).into_owned();
            if !is_noise(&line) {
                eprintln!("{program}: {line}");
            }
            if kept.len() < 1 << 16 {
                kept.push_str(&line);
                kept.push('\n');
            }
        }
        kept
    });

    let stopper = Arc::new(Stopper {
        tracer_pid,
        fence: backend.has_fence(),
        requested: AtomicBool::new(false),
        attached: AtomicBool::new(false),
        fencing: AtomicBool::new(false),
        cpus: Mutex::new((BTreeSet::new(), BTreeSet::new())),
        finished: AtomicBool::new(false),
        abandon: AtomicBool::new(false),
    });
    let signal = Arc::new(AtomicI32::new(0));
    let command_done = Arc::new(AtomicBool::new(false));
    let command_status: Arc<Mutex<Option<ExitStatus>>> = Arc::new(Mutex::new(None));

    let signal_thread = {
        let signal = Arc::clone(&signal);
        let command_done = Arc::clone(&command_done);
        let stopper = Arc::clone(&stopper);
        std::thread::spawn(move || {
            for origin in signals.forever() {
                signal.store(origin.signal, Ordering::SeqCst);
                stopper.request();
                if let Some(pid) = target_pid {
                    // A terminal's signal (sent by the kernel) reached the command already.
                    if !command_done.load(Ordering::SeqCst) && origin.cause != Cause::Kernel {
                        kill(pid, origin.signal);
                    }
                }
            }
        })
    };

    let mut waiter = None;
    let mut lost_total = 0u64;
    let mut reader =
        BufReader::with_capacity(1 << 16, tracer.stdout.take().expect("stdout is piped"));
    let mut line = Vec::with_capacity(512);
    let mut out_err: Option<Error> = None;
    let mut text = Vec::with_capacity(1024);
    let mut rejoiner = backend.rejoins_raw_names().then(Rejoiner::default);
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                out_err = Some(Error::io(format!("reading {program}'s output"), e));
                break;
            }
        }
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let in_entry = rejoiner
            .as_mut()
            .is_some_and(|r| r.push(body, &mut text) == Step::Held);
        if in_entry {
            continue;
        }
        match classify(body) {
            TracerLine::Trace(l) => {
                text.extend_from_slice(l);
                text.push(b'\n');
            }
            TracerLine::Attached => {
                if stopper.attached.swap(true, Ordering::SeqCst) {
                    continue;
                }
                if stopper.requested.load(Ordering::SeqCst) {
                    // Stopped before the probes were live: the fence can fire only now.
                    stopper.trigger();
                } else if let Some((h, mut child)) =
                    held.as_mut().and_then(|h| h.child.take().map(|c| (h, c)))
                {
                    h.release();
                    let done = Arc::clone(&command_done);
                    let status = Arc::clone(&command_status);
                    let stopper = Arc::clone(&stopper);
                    waiter = Some(std::thread::spawn(move || {
                        let st = child.wait();
                        done.store(true, Ordering::SeqCst);
                        if let Ok(st) = st {
                            *status.lock().unwrap_or_else(|p| p.into_inner()) = Some(st);
                        }
                        stopper.request();
                    }));
                }
            }
            TracerLine::Fence(cpu) => {
                if stopper.requested.load(Ordering::SeqCst) {
                    stopper.fence_seen(cpu);
                }
            }
            TracerLine::Blank => {}
            TracerLine::Lost(n) => {
                lost_total += n;
                trace_format::write_header(&mut text, &Header::Lost(n));
            }
            TracerLine::Chatter(c) => eprintln!("{program}: {}", String::from_utf8_lossy(c)),
        }
        if reader.buffer().is_empty() || text.len() >= 1 << 16 {
            let r = out.write_all(&text).and_then(|()| {
                if reader.buffer().is_empty() {
                    out.flush()
                } else {
                    Ok(())
                }
            });
            text.clear();
            if let Err(e) = r {
                out_err = Some(write_err(e));
                break;
            }
        }
    }
    if let Some(r) = rejoiner.as_mut() {
        r.finish(&mut text);
    }
    if out_err.is_none() {
        if let Err(e) = out.write_all(&text).and_then(|()| out.flush()) {
            out_err = Some(write_err(e));
        }
    }
    if out_err.is_some() {
        // Our reader is gone (broken pipe) or the tracer's output failed: stop the tracer and
        // let its remaining output go.
        stopper.abandon();
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    }
    let attached = stopper.attached.load(Ordering::SeqCst);
    stopper.finished.store(true, Ordering::SeqCst);

    let tracer_status = tracer
        .wait()
        .map_err(|e| Error::io(format!("waiting for {program}"), e))?;
    let stderr_text = stderr_thread.join().unwrap_or_default();
    signals_handle.close();
    let _ = signal_thread.join();

    // A command never released (the tracer failed first): the closed gate ends it.
    if let Some(h) = held.as_mut() {
        h.gate = None;
        if let Some(mut child) = h.child.take() {
            let _ = child.wait();
        }
    }
    // Stopped by trace-gen (the command ended, or a signal), or on its own (it failed, or was
    // killed): then the command, if any, runs on untraced, and trace-gen does not wait.
    let stopped_by_us = stopper.requested.load(Ordering::SeqCst);
    let sig = signal.load(Ordering::SeqCst);
    // After a signal the command got it too; trace-gen does not wait for a command that
    // ignores it.
    if let Some(w) = waiter {
        if stopped_by_us && sig == 0 {
            let _ = w.join();
        }
    }
    if lost_total > 0 {
        eprintln!("trace-gen: {program} lost {lost_total} events (the trace has `# lost:` lines); raise --buffer-size");
    }

    if let Some(e) = out_err {
        return match e.is_broken_pipe() {
            // The reader went away because of the same signal (a Ctrl-C to the pipeline).
            true if sig != 0 => Ok(u8::try_from(128 + sig).unwrap_or(255)),
            true => Ok(0),
            false => Err(e),
        };
    }
    if !attached {
        return Err(tracer_failure(program, tracer_status, stderr_text));
    }
    if sig != 0 {
        return Ok(u8::try_from(128 + sig).unwrap_or(255));
    }
    if !stopped_by_us && (target_pid.is_some() || !tracer_status.success()) {
        let mut e = tracer_failure(program, tracer_status, stderr_text);
        if let (Some(pid), Error::TracerFailed { status, .. }) = (target_pid, &mut e) {
            status.push_str(&format!(
                ", before the command (pid {pid}) ended; it runs on untraced"
            ));
        }
        return Err(e);
    }
    if let Some(status) = *command_status.lock().unwrap_or_else(|p| p.into_inner()) {
        let code = exit_code_of(status);
        if code != 0 {
            eprintln!("trace-gen: the command {}", describe(status));
        }
        return Ok(code);
    }
    if !tracer_status.success() {
        return Err(tracer_failure(program, tracer_status, stderr_text));
    }
    Ok(0)
}

fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exited with status {c}"),
        (None, Some(s)) => format!("was killed by signal {s}"),
        _ => "ended".to_owned(),
    }
}

fn tracer_failure(program: &'static str, status: ExitStatus, stderr: String) -> Error {
    if stderr.contains("tracepoint not found") && tracefs_events().is_none() {
        return Error::NoTracefs;
    }
    let stderr = stderr
        .lines()
        .filter(|l| !is_noise(l))
        .collect::<Vec<_>>()
        .join("\n");
    Error::TracerFailed {
        tracer: program,
        status: describe(status),
        stderr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_tracer_output() {
        assert_eq!(
            classify(b"Attaching 9 probes..."),
            TracerLine::Chatter(b"Attaching 9 probes...")
        );
        assert_eq!(classify(ATTACHED_MARKER.as_bytes()), TracerLine::Attached);
        assert_eq!(classify(b"Lost 1234 events"), TracerLine::Lost(1234));
        assert_eq!(classify(b"# trace-gen: fence 3"), TracerLine::Fence(3));
        assert_eq!(
            classify(b"# trace-gen: fence x"),
            TracerLine::Trace(b"# trace-gen: fence x")
        );
        assert_eq!(
            classify(b"Lost many events"),
            TracerLine::Chatter(b"Lost many events")
        );
        assert_eq!(classify(b""), TracerLine::Blank);
        assert_eq!(classify(b"\r"), TracerLine::Blank);
        let e = b"=> uid: 0 pid: 1 tid: 1 comm: cat open: /x 5";
        assert_eq!(classify(e), TracerLine::Trace(e));
        assert_eq!(
            classify(b"# clock: monotonic"),
            TracerLine::Trace(b"# clock: monotonic")
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("bpftrace"), "bpftrace");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code_of(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code_of(ExitStatus::from_raw(libc::SIGINT)), 130);
        assert_eq!(exit_code_of(ExitStatus::from_raw(libc::SIGKILL)), 137);
    }
}
