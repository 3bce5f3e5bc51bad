//! trace-gen's stdout: the header lines, then the tracer's stdout read line by line, each
//! classified by the backend ([`Backend::classify`]) into trace lines (copied, rejoined when a
//! raw name split them), lost counts (`# lost: N`), the attached and fence markers (consumed),
//! and chatter (to stderr). Output is buffered and flushed whenever the tracer has nothing
//! more to read, so a live pipe sees each event promptly.

use super::stopper::Stopper;
use crate::backend::{Backend, TracerLine};
use crate::config::Config;
use crate::error::Error;
use crate::rejoin::{Rejoiner, Step};
use std::io::{BufRead, BufReader, Write};
use std::process::ChildStdout;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use trace_format::Header;

fn write_err(e: std::io::Error) -> Error {
    Error::io("writing the trace to stdout", e)
}

/// Writes the header lines: format version, backend and its version, host, clock and clock
/// offset.
pub(super) fn write_headers(config: &Config, out: &mut dyn Write) -> Result<(), Error> {
    let mut head = Vec::new();
    trace_format::write_header(&mut head, &Header::Version(trace_format::FORMAT_VERSION));
    let version = config.backend.version(&config.tracer);
    trace_format::write_header(&mut head, &Header::Backend(version.as_bytes()));
    let host = crate::sys::host_name().map_or_else(
        || "unknown".to_owned(),
        |h| String::from_utf8_lossy(&h).into_owned(),
    );
    trace_format::write_header(&mut head, &Header::Host(host.as_bytes()));
    trace_format::write_header(&mut head, &Header::Clock(trace_format::Clock::Monotonic));
    trace_format::write_header(
        &mut head,
        &Header::ClockOffset(crate::clock::realtime_offset_ns()),
    );
    out.write_all(&head).map_err(write_err)?;
    out.flush().map_err(write_err)
}

/// How the copy of the tracer's output ended.
pub(super) struct Pumped {
    /// Events the tracer said it lost.
    pub lost: u64,
    /// Why the copy stopped early: our output failed (a broken pipe, most often), or the
    /// tracer's output could not be read. The tracer was then stopped without a drain.
    pub error: Option<Error>,
}

/// Copies the tracer's stdout to `out` until it ends. `on_attached` runs once, when the
/// script says its probes are live and no stop was asked for before.
pub(super) fn pump(
    backend: &dyn Backend,
    stdout: ChildStdout,
    out: &mut dyn Write,
    stopper: &Arc<Stopper>,
    mut on_attached: impl FnMut(),
) -> Pumped {
    let program = backend.program();
    let mut lost = 0u64;
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut line = Vec::with_capacity(512);
    let mut error: Option<Error> = None;
    let mut text = Vec::with_capacity(1024);
    let mut rejoiner = backend.rejoins_raw_names().then(Rejoiner::default);
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                error = Some(Error::io(format!("reading {program}'s output"), e));
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
        match backend.classify(body) {
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
                } else {
                    on_attached();
                }
            }
            TracerLine::Fence(cpu) => {
                if stopper.requested.load(Ordering::SeqCst) {
                    stopper.fence_seen(cpu);
                }
            }
            TracerLine::Blank => {}
            TracerLine::Lost(n) => {
                lost += n;
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
                error = Some(write_err(e));
                break;
            }
        }
    }
    if let Some(r) = rejoiner.as_mut() {
        r.finish(&mut text);
    }
    if error.is_none() {
        if let Err(e) = out.write_all(&text).and_then(|()| out.flush()) {
            error = Some(write_err(e));
        }
    }
    if error.is_some() {
        // Our reader is gone (broken pipe) or the tracer's output failed: stop the tracer and
        // let its remaining output go.
        stopper.abandon();
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    }
    Pumped { lost, error }
}
