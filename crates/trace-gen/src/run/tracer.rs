//! The tracer process: started from the backend's command line and environment in its own
//! process group, given the script on stdin, with its stderr read on a thread of its own
//! (shown live, prefixed with its name, and kept to explain a failure).

use crate::backend::{Backend, Ending, StderrLine};
use crate::config::Config;
use crate::error::Error;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Checks that the tracer can run here, with the fix in the message when it cannot: the
/// binary is there, then the backend's own checks (root, tracefs...).
pub(super) fn preflight(config: &Config) -> Result<(), Error> {
    let backend = &*config.backend;
    if !crate::backend::is_executable(&config.tracer) {
        return Err(Error::TracerMissing {
            tracer: backend.program(),
            path: config.tracer.clone(),
            hint: format!(
                "{}, or set {} to its path",
                backend.install_hint(),
                backend.path_var()
            ),
        });
    }
    backend.preflight()?;
    match backend.unsupported(&config.spec) {
        Some(why) => Err(Error::Unsupported {
            tracer: backend.program(),
            why,
        }),
        None => Ok(()),
    }
}

/// Starts the tracer on the script for `-c`'s `target_pid`, and writes the script to its
/// stdin. Its stdout and stderr are pipes, for [`super::pump`] and [`read_stderr`].
pub(super) fn spawn(config: &Config, target_pid: Option<u32>) -> Result<Child, Error> {
    let backend = &*config.backend;
    let mut command = Command::new(&config.tracer);
    command
        .args(backend.args(&config.spec, target_pid))
        .envs(backend.env(&config.spec))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group: a Ctrl-C reaches it only through trace-gen, after the fence.
        .process_group(0);
    // The tracer is spawned from the main thread, which lives as long as trace-gen.
    crate::sys::signal_on_parent_death(&mut command, libc::SIGINT);
    if backend.ending() == Ending::Interrupt {
        // It cleans up after trace-gen has gone: the closed pipes must not kill it first.
        crate::sys::ignore_sigpipe(&mut command);
    }
    let mut tracer = command
        .spawn()
        .map_err(|e| Error::io(format!("starting {}", config.tracer.display()), e))?;
    let script = backend.script(&config.spec);
    {
        let mut stdin = tracer.stdin.take().expect("stdin is piped");
        // A tracer that dies at once closes the pipe; its stderr explains why.
        let _ = stdin.write_all(script.as_bytes());
    }
    Ok(tracer)
}

/// The thread that reads the tracer's stderr ([`read_stderr`]).
pub(super) struct StderrReader {
    thread: JoinHandle<String>,
    /// Closed to make the thread stop at what the pipe holds now, before end-of-file.
    stop: File,
}

impl StderrReader {
    /// Waits for the tracer's stderr to end; returns what was read.
    pub fn join(self) -> String {
        let text = self.thread.join().unwrap_or_default();
        drop(self.stop);
        text
    }

    /// Reads what the tracer wrote to its stderr until now, without waiting for more (a
    /// tracer that is not waited for: all it wrote before its last line that was read is in
    /// the pipe already); returns what was read.
    pub fn finish_now(self) -> String {
        drop(self.stop);
        self.thread.join().unwrap_or_default()
    }
}

/// Reads the tracer's stderr on a thread: each line not noise is shown on ours, prefixed
/// with the program name, and the events a line says were lost are added to `lost` (the pump
/// writes them as `# lost:` lines); probe faults (bad user pointers) are counted and said in
/// one note at the end; a line saying the tracer cannot go on kills it (see
/// [`StderrLine::Fatal`]); the thread returns what was read (up to 64 KiB). It reads until
/// end-of-file, or, once [`StderrReader::finish_now`] is called, until the pipe is empty.
pub(super) fn read_stderr(
    tracer: &mut Child,
    backend: Arc<dyn Backend>,
    lost: Arc<AtomicU64>,
) -> Result<StderrReader, Error> {
    let mut stderr = tracer.stderr.take().expect("stderr is piped");
    let tracer_pid = tracer.id();
    let (stopped, stop) =
        crate::sys::pipe().map_err(|e| Error::io("making a pipe for the tracer's stderr", e))?;
    let thread = std::thread::spawn(move || {
        let program = backend.program();
        let mut kept = String::new();
        let mut faults = 0u64;
        let mut line_of = |line: &[u8]| {
            let line = String::from_utf8_lossy(line).into_owned();
            // Prefixed with the program name, once (dtrace names itself already).
            let shown = match line
                .strip_prefix(program)
                .and_then(|l| l.strip_prefix(": "))
            {
                Some(_) => line.clone(),
                None => format!("{program}: {line}"),
            };
            match backend.stderr_line(&line) {
                StderrLine::Show => eprintln!("{shown}"),
                StderrLine::Noise => {}
                StderrLine::Lost(n) => {
                    eprintln!("{shown}");
                    lost.fetch_add(n, Ordering::SeqCst);
                }
                StderrLine::Fault => faults += 1,
                StderrLine::Fatal => {
                    eprintln!("{shown}");
                    crate::sys::kill(tracer_pid, libc::SIGKILL);
                }
            }
            if kept.len() < 1 << 16 {
                kept.push_str(&line);
                kept.push('\n');
            }
        };
        let fds = [stderr.as_raw_fd(), stopped.as_raw_fd()];
        let mut pending = Vec::new();
        let mut buf = [0u8; 8192];
        // Until end-of-file; once stopped, only what the pipe holds already.
        let mut wait = -1;
        while let Ok([data, stop]) = crate::sys::readable(fds, wait) {
            if !data {
                if stop && wait == -1 {
                    wait = 0;
                    continue;
                }
                break;
            }
            match stderr.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                line_of(&pending[..end]);
                pending.drain(..=end);
            }
            if stop {
                wait = 0;
            }
        }
        if !pending.is_empty() {
            line_of(&pending);
        }
        if faults > 0 {
            eprintln!(
                "trace-gen: {program} could not read a traced program's memory {faults} times \
                 (invalid address: a program passed a bad path pointer; the kernel fails such \
                 an open with EFAULT, and its path in the trace is empty or marked cut)"
            );
        }
        kept
    });
    Ok(StderrReader { thread, stop })
}
