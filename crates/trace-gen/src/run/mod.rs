//! Running the tracer: the script goes to its stdin, its stdout is filtered into trace lines
//! on ours, its stderr is read on its own thread, and a `-c` command is started only once the
//! probes are attached. Everything that differs between tracers is asked of the
//! [`Backend`](crate::backend::Backend); this module only orders the steps.
//!
//! The order of a run, and why:
//! 1. Checks (tracer present, then the backend's: root, tracefs) so that each failure gets
//!    one clear message ([`tracer::preflight`]).
//! 2. The headers, then `sh -c CMD` is spawned *held* ([`held`]): a small `sh` wrapper waits
//!    for a line on fd 3 before it `exec`s `sh -c CMD`, so the command's pid (the script's
//!    target) is known before the tracer starts, and the command runs only when tracing is
//!    live.
//! 3. The tracer runs ([`tracer`]); when its script prints
//!    [`ATTACHED_MARKER`](crate::script::ATTACHED_MARKER), the command is released
//!    ([`pump`]).
//! 4. When the run is over, the tracer is stopped. With a backend that reports the followed
//!    processes (bpftrace), the run is over when every one has exited, as for `strace -f`
//!    ([`follow`]): the `-c` command and all its descendants, or the `-p` processes and
//!    theirs; with `--stop-at-exit`, or another backend, when the `-c` command exits. The
//!    tracer is stopped only after it has drained: bpftrace
//!    0.17 drops what is still in its buffers on SIGINT (measured: the last opens of
//!    `cat /tmp/not_exists` were missing), so with a backend that has a fence, trace-gen calls
//!    `getppid()` on every CPU and reads on until the script's
//!    [`FENCE_MARKER`](crate::script::FENCE_MARKER) line of every CPU ([`stopper`]). Then
//!    the tracer is ended as its backend says
//!    ([`Backend::ending`](crate::backend::Backend::ending)): bpftrace is killed, DTrace and
//!    SystemTap interrupted, none read on nor waited for (detaching their probes, or
//!    unloading stap's module, takes the kernel a second or more, and nothing they print after
//!    the fence belongs to the run: SystemTap's lost counts come with its fence lines).
//! 5. SIGINT, SIGTERM and SIGHUP sent to trace-gen stop the tracer the same way; the command
//!    gets the signal too ([`stopper::CommandProcess::pass_on`]: its own process group when
//!    trace-gen is not in a terminal's foreground, else the command unless the terminal sent
//!    it, and its followed descendants), and 2 s more to end before SIGKILL. trace-gen exits
//!    with the command's status (128 + n without a command). A second SIGINT ends trace-gen
//!    at once. The tracer runs in its own process group, so a Ctrl-C reaches it only through
//!    trace-gen, after the fence, and it gets SIGINT if trace-gen dies (`PR_SET_PDEATHSIG`).
//!    Every wait on the tracer is bounded ([`stopper::Bounds`], and the attach bound of the
//!    backend): past a bound the run goes on, and the trace says what is unconfirmed
//!    (`# incomplete:`), with status 3 instead of 0.
//! 6. The exit status: the command's (also when our stdout was closed: trace-gen then stops
//!    the tracer and waits for the command), 128 + n after a signal, or the backend's
//!    diagnosis of a tracer that failed
//!    ([`Backend::diagnose`](crate::backend::Backend::diagnose)).

mod command_line;
mod follow;
mod held;
mod pump;
mod stopper;
mod tracer;

pub use command_line::{command_line, print_script, shell_quote};

use crate::config::Config;
use crate::error::Error;
use held::Held;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use stopper::{SignalThread, Stopper};

/// 128 + n for a death by signal n, else the exit code.
fn exit_code_of(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(c), _) => u8::try_from(c & 0xff).unwrap_or(1),
        (None, Some(s)) => u8::try_from(128 + s).unwrap_or(255),
        _ => 1,
    }
}

/// 128 + n, the status of a run stopped by signal n.
fn signal_exit_code(sig: i32) -> u8 {
    u8::try_from(128 + sig).unwrap_or(255)
}

/// Runs the tracer as configured, writing trace lines to `out`. Returns the exit code.
pub fn run(config: &Config, out: &mut dyn Write) -> Result<u8, Error> {
    let backend = &*config.backend;
    tracer::preflight(config)?;
    let program = backend.program();
    pump::write_headers(config, out)?;
    if let Some(note) = backend.startup_note(&config.spec) {
        eprintln!("trace-gen: {note}");
    }

    // Signals are caught from here on, so none is lost between the spawns.
    let signals = stopper::catch().map_err(|e| Error::io("installing signal handlers", e))?;

    let mut held = config.command.as_deref().map(Held::spawn).transpose()?;
    let target_pid = held.as_ref().map(|h| h.pid);

    let mut tracer = tracer::spawn(config, target_pid)?;
    let stderr_lost = Arc::new(AtomicU64::new(0));
    let stderr_thread = tracer::read_stderr(
        &mut tracer,
        Arc::clone(&config.backend),
        Arc::clone(&stderr_lost),
    )?;

    let mut stopper =
        Stopper::new(tracer.id(), backend.has_fence(), backend.ending()).named(program);
    if backend.reports_processes(&config.spec) {
        let targets = match &config.spec.target {
            crate::script::Target::Pids(pids) => pids.clone(),
            _ => target_pid.into_iter().collect(),
        };
        stopper = stopper.following(follow::LiveSet::new(targets));
    }
    let stopper = Arc::new(stopper);
    stopper.watch_attach(backend.attach_bound());
    // The command's own exit ends the run unless the run waits for every followed process.
    let stop_at_command_exit = !stopper.follows() || config.spec.stop_at_exit;
    let sweeper = stopper.follows().then(|| {
        let stopper = Arc::clone(&stopper);
        std::thread::spawn(move || {
            while !stopper.finished() {
                stopper.pause(std::time::Duration::from_millis(500));
                stopper.sweep();
            }
        })
    });
    let signal = Arc::new(AtomicI32::new(0));
    let command_done = Arc::new(AtomicBool::new(false));
    let command_status: Arc<Mutex<Option<ExitStatus>>> = Arc::new(Mutex::new(None));
    let command_process = held.as_ref().map(|h| stopper::CommandProcess {
        pid: h.pid,
        own_group: h.own_group,
    });
    let signal_thread = SignalThread::spawn(
        signals,
        Arc::clone(&stopper),
        Arc::clone(&signal),
        command_process,
        Arc::clone(&command_done),
    );

    // Once attached: the command runs, and its exit stops the tracer.
    let mut waiter = None;
    let release = || {
        if let Some((h, mut child)) = held.as_mut().and_then(|h| h.child.take().map(|c| (h, c))) {
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
                if stop_at_command_exit {
                    stopper.request();
                }
            }));
        }
    };
    crate::sys::make_reads_wakeable().map_err(|e| Error::io("installing a signal handler", e))?;
    stopper.reads_on_this_thread();
    let stdout = TracerOutput {
        pipe: tracer.stdout.take().expect("stdout is piped"),
        stopper: &stopper,
    };
    let mut pumped = pump::pump(backend, stdout, out, &stopper, &stderr_lost, release);
    stopper.finish();
    if let Some(s) = sweeper {
        let _ = s.join();
    }

    // After a proven drain, a tracer that is not waited for detaches its probes on its own
    // (a second or more): its stderr is read up to now, and its status is not asked for (it
    // was ended as its backend asks).
    let (tracer_status, stderr_text) = if stopper.drained() && !stopper.reads_to_end() {
        (ExitStatus::from_raw(0), stderr_thread.finish_now())
    } else {
        let status = wait_tracer(&mut tracer, &stopper)
            .map_err(|e| Error::io(format!("waiting for {program}"), e))?;
        // A tracer that could not be ended may hold its stderr open too.
        let text = if stopper.output_given_up() {
            stderr_thread.finish_now()
        } else {
            stderr_thread.join()
        };
        (status, text)
    };
    signal_thread.close();
    // Losses the tracer reported on stderr after its last output line, and those the backend
    // can tell only now.
    stderr_lost.fetch_add(backend.final_lost(), Ordering::SeqCst);
    let unconfirmed = stopper.unconfirmed();
    if pumped.error.is_none() {
        let mut text = Vec::new();
        pumped.lost += pump::take_stderr_losses(&stderr_lost, &mut text);
        for note in &unconfirmed {
            trace_format::write_header(
                &mut text,
                &trace_format::Header::Other {
                    key: INCOMPLETE_KEY.as_bytes(),
                    value: note.as_bytes(),
                },
            );
        }
        if let Err(e) = out.write_all(&text).and_then(|()| out.flush()) {
            pumped.error = Some(Error::io("writing the trace to stdout", e));
        }
    }

    // A command never released (the tracer failed first): the closed gate ends it.
    if let Some(h) = held.as_mut() {
        h.abort();
    }
    // Stopped by trace-gen (the command ended, or a signal), or on its own (it failed, or was
    // killed): then the command, if any, runs on untraced, and trace-gen does not wait.
    let stopped_by_us = stopper.requested.load(Ordering::SeqCst);
    let sig = signal.load(Ordering::SeqCst);
    // After a signal the command got it too: it has 2 s more to end, then it is killed.
    if let Some(w) = waiter {
        if sig != 0 {
            if !wait_for(&command_done, COMMAND_GRACE) {
                if let Some(c) = command_process {
                    eprintln!(
                        "trace-gen: the command (pid {}) did not end within {} s of the signal, and was killed",
                        c.pid,
                        COMMAND_GRACE.as_secs()
                    );
                    c.pass_on(&stopper, libc::SIGKILL, false, false);
                }
                wait_for(&command_done, COMMAND_GRACE);
            }
            if command_done.load(Ordering::SeqCst) {
                let _ = w.join();
            }
        } else if stopped_by_us {
            let _ = w.join();
        }
    }
    for note in &unconfirmed {
        eprintln!("trace-gen: {note}");
    }
    if pumped.malformed > 0 {
        eprintln!(
            "trace-gen: {} lines of {program}'s output were not what it prints, and were left out",
            pumped.malformed
        );
    }
    if pumped.incomplete > 0 {
        eprintln!(
            "trace-gen: {} opens lost part of their path with lost events; they are marked as cut",
            pumped.incomplete
        );
    }
    if pumped.lost > 0 {
        eprintln!(
            "trace-gen: {program} lost {} events (the trace has `# lost:` lines); raise --buffer-size",
            pumped.lost
        );
    }

    let code = exit_status(
        config,
        pumped,
        &stopper,
        sig,
        target_pid,
        &command_status,
        tracer_status,
        &stderr_text,
    )?;
    // A run whose trace may be incomplete does not end with 0.
    Ok(if code == 0 && !unconfirmed.is_empty() {
        INCOMPLETE_EXIT
    } else {
        code
    })
}

/// How long a command has to end once it was passed a signal, before it is killed.
const COMMAND_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Waits until `done` is set, at most `bound`; whether it was.
fn wait_for(done: &AtomicBool, bound: std::time::Duration) -> bool {
    let start = std::time::Instant::now();
    while !done.load(Ordering::SeqCst) && start.elapsed() < bound {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    done.load(Ordering::SeqCst)
}

/// The `# key:` of the header that says what a run could not confirm (a bound passed).
pub const INCOMPLETE_KEY: &str = "incomplete";

/// The exit status of a run that would have ended with 0, but whose trace may be incomplete
/// (a bound on the tracer passed; the trace has `# incomplete:` lines).
pub const INCOMPLETE_EXIT: u8 = 3;

/// Waits for the tracer once its output has ended, at most the drain bound; then kills its
/// process group, and waits [`stopper::KILLED_GRACE`] more (a process that cannot die is
/// left behind, and its status is taken as killed).
fn wait_tracer(tracer: &mut std::process::Child, stopper: &Stopper) -> std::io::Result<ExitStatus> {
    let start = std::time::Instant::now();
    while start.elapsed() < stopper::Bounds::default().drain_idle {
        if let Some(st) = tracer.try_wait()? {
            return Ok(st);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    crate::sys::kill_group(tracer.id(), libc::SIGKILL);
    stopper.killed_tracer.store(true, Ordering::SeqCst);
    stopper.note(format!(
        "the tracer's output ended but it did not exit within {} s, and was killed",
        stopper::Bounds::default().drain_idle.as_secs()
    ));
    let start = std::time::Instant::now();
    while start.elapsed() < stopper::KILLED_GRACE {
        if let Some(st) = tracer.try_wait()? {
            return Ok(st);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    stopper.note(format!(
        "the tracer (pid {}) did not die within {} s of SIGKILL: it is left behind",
        tracer.id(),
        stopper::KILLED_GRACE.as_secs()
    ));
    Ok(ExitStatus::from_raw(libc::SIGKILL))
}

/// The tracer's stdout, read until its end, or until the stopper gives it up (it stayed open
/// after the tracer was killed): the reader's blocked read is then interrupted, and that is
/// the end.
struct TracerOutput<'a> {
    pipe: std::process::ChildStdout,
    stopper: &'a Stopper,
}

impl pump::TracerPipe for TracerOutput<'_> {
    fn more_within(&self, ms: i32) -> bool {
        use std::os::fd::AsRawFd;
        let fd = self.pipe.as_raw_fd();
        crate::sys::readable([fd, fd], ms).map_or(true, |[ready, _]| ready)
    }
}

impl std::io::Read for TracerOutput<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.pipe.read(buf) {
            Err(e)
                if e.kind() == std::io::ErrorKind::Interrupted
                    && self.stopper.output_given_up() =>
            {
                Ok(0)
            }
            r => r,
        }
    }
}

/// The exit status of a run, once the tracer has ended: see the module doc.
#[allow(clippy::too_many_arguments)]
fn exit_status(
    config: &Config,
    pumped: pump::Pumped,
    stopper: &Stopper,
    sig: i32,
    target_pid: Option<u32>,
    command_status: &Mutex<Option<ExitStatus>>,
    tracer_status: ExitStatus,
    stderr_text: &str,
) -> Result<u8, Error> {
    let backend = &*config.backend;
    let attached = stopper.attached.load(Ordering::SeqCst);
    let stopped_by_us = stopper.requested.load(Ordering::SeqCst);
    let command_code = || {
        command_status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(exit_code_of)
    };
    if let Some(e) = pumped.error {
        return match e.is_broken_pipe() {
            // The reader went away because of the same signal (a Ctrl-C to the pipeline).
            true if sig != 0 => Ok(signal_exit_code(sig)),
            // Nobody reads the trace any more: the command's status all the same.
            true => Ok(command_code().unwrap_or(0)),
            false => Err(e),
        };
    }
    if stopper.attach_timed_out.load(Ordering::SeqCst) {
        return Err(Error::AttachTimeout {
            tracer: backend.program(),
            secs: backend.attach_bound().as_secs(),
        });
    }
    if !attached && sig != 0 {
        // Stopped by a signal while the tracer was still starting: the command never ran.
        return Ok(signal_exit_code(sig));
    }
    if !attached {
        return Err(backend.diagnose(tracer_status, stderr_text));
    }
    if sig != 0 {
        // The command's own status (it got the signal too), else 128 + n.
        return Ok(command_code().unwrap_or_else(|| signal_exit_code(sig)));
    }
    if !stopped_by_us && (target_pid.is_some() || !tracer_status.success()) {
        let mut e = backend.diagnose(tracer_status, stderr_text);
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
            eprintln!(
                "trace-gen: the command {}",
                crate::error::describe_status(status)
            );
        }
        return Ok(code);
    }
    // Killed by trace-gen once a bound passed: the trace says so (`# incomplete:`).
    if !tracer_status.success() && !stopper.killed_tracer.load(Ordering::SeqCst) {
        return Err(backend.diagnose(tracer_status, stderr_text));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code_of(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code_of(ExitStatus::from_raw(libc::SIGINT)), 130);
        assert_eq!(exit_code_of(ExitStatus::from_raw(libc::SIGKILL)), 137);
        assert_eq!(signal_exit_code(libc::SIGTERM), 143);
    }
}
