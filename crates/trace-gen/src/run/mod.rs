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
//!    `getppid()` on every CPU, reads on until the script's
//!    [`FENCE_MARKER`](crate::script::FENCE_MARKER) line of every CPU, then sends SIGINT and
//!    reads to end-of-file ([`stopper`]).
//! 5. SIGINT, SIGTERM and SIGHUP sent to trace-gen stop the tracer the same way; the command
//!    gets the signal too, unless it came from the terminal (which sent it to the command
//!    already). trace-gen exits 128 + n after the drain. The tracer runs in its own process
//!    group, so a Ctrl-C reaches it only through trace-gen, after the fence, and it gets
//!    SIGINT if trace-gen dies (`PR_SET_PDEATHSIG`).
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

    let mut stopper = Stopper::new(tracer.id(), backend.has_fence(), backend.ending());
    if backend.reports_processes(&config.spec) {
        let targets = match &config.spec.target {
            crate::script::Target::Pids(pids) => pids.clone(),
            _ => target_pid.into_iter().collect(),
        };
        stopper = stopper.following(follow::LiveSet::new(targets));
    }
    let stopper = Arc::new(stopper);
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
    let signal_thread = SignalThread::spawn(
        signals,
        Arc::clone(&stopper),
        Arc::clone(&signal),
        target_pid,
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
    let stdout = tracer.stdout.take().expect("stdout is piped");
    let mut pumped = pump::pump(backend, stdout, out, &stopper, &stderr_lost, release);
    let attached = stopper.attached.load(Ordering::SeqCst);
    stopper.finish();
    if let Some(s) = sweeper {
        let _ = s.join();
    }

    // After a proven drain, a tracer that is not waited for detaches its probes on its own
    // (about a second): its stderr is read up to now, and its status is not asked for.
    let (tracer_status, stderr_text) = if stopper.drained() && !stopper.reads_to_end() {
        (None, stderr_thread.finish_now())
    } else {
        let status = tracer
            .wait()
            .map_err(|e| Error::io(format!("waiting for {program}"), e))?;
        (Some(status), stderr_thread.join())
    };
    // Not waited for: it was ended as asked, after the drain.
    let tracer_status = tracer_status.unwrap_or_else(|| ExitStatus::from_raw(0));
    signal_thread.close();
    // Losses the tracer reported on stderr after its last output line, and those the backend
    // can tell only now.
    stderr_lost.fetch_add(backend.final_lost(), Ordering::SeqCst);
    if pumped.error.is_none() {
        let mut text = Vec::new();
        pumped.lost += pump::take_stderr_losses(&stderr_lost, &mut text);
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
    // After a signal the command got it too; trace-gen does not wait for a command that
    // ignores it.
    if let Some(w) = waiter {
        if stopped_by_us && sig == 0 {
            let _ = w.join();
        }
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
    if !attached {
        return Err(backend.diagnose(tracer_status, &stderr_text));
    }
    if sig != 0 {
        return Ok(signal_exit_code(sig));
    }
    if !stopped_by_us && (target_pid.is_some() || !tracer_status.success()) {
        let mut e = backend.diagnose(tracer_status, &stderr_text);
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
    if !tracer_status.success() {
        return Err(backend.diagnose(tracer_status, &stderr_text));
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
