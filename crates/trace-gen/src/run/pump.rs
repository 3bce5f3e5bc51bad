//! trace-gen's stdout: the header lines, then the tracer's stdout read line by line, each
//! decoded by the backend ([`Backend::decoder`], else [`Backend::classify`]) into trace lines,
//! lost counts (`# lost: N`), the attached and fence markers (consumed), the followed
//! processes' forks and exits (to the [`Stopper`]), chatter (to stderr) and malformed lines
//! (counted and reported, never copied). Output is buffered and flushed whenever the tracer
//! has nothing more to read for [`FLUSH_AFTER_MS`], so a live pipe sees each event within a
//! millisecond, and a burst is written in 64 KiB blocks, not line by line (each write of a
//! line woke the reader downstream: on the 200,000-open burst, trace-merge's CPU time fell
//! from 0.91 s to 0.12 s, trace-gen's rose from 0.75 s to 1.15 s with its polls, and the
//! traced program ran 8% faster).

use super::stopper::Stopper;
use crate::backend::{Backend, Decoded};
use crate::config::Config;
use crate::error::Error;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
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

/// How long the tracer's output may be quiet before what was read is flushed: the longest a
/// live pipe waits for an event.
pub(super) const FLUSH_AFTER_MS: i32 = 1;

/// The tracer's output as the pump reads it: it can also say whether more comes soon.
pub(super) trait TracerPipe: Read {
    /// Whether something can be read (or the end is reached) within `ms` milliseconds.
    fn more_within(&self, ms: i32) -> bool;
}

/// How the copy of the tracer's output ended.
pub(super) struct Pumped {
    /// Events the tracer said it lost.
    pub lost: u64,
    /// Lines that were none of the shapes the tracer and the script print.
    pub malformed: u64,
    /// Events still incomplete at the end (pieces lost), written marked as cut.
    pub incomplete: u64,
    /// Why the copy stopped early: our output failed (a broken pipe, most often), or the
    /// tracer's output could not be read. The tracer was then stopped without a drain.
    pub error: Option<Error>,
}

/// Appends `# lost: N` for the losses the tracer reported on stderr since the last call
/// ([`crate::backend::StderrLine::Lost`], counted in `pending` by the stderr thread); returns
/// N.
pub(super) fn take_stderr_losses(pending: &AtomicU64, text: &mut Vec<u8>) -> u64 {
    let n = pending.swap(0, Ordering::SeqCst);
    if n > 0 {
        trace_format::write_header(text, &Header::Lost(n));
    }
    n
}

/// Copies the tracer's stdout to `out` until it ends, or until the fence line that proves
/// the drain of a tracer that is not read to its end ([`Stopper::fence_seen`]).
/// `on_attached` runs once, when the script says its probes are live and no stop was asked
/// for before. Losses the tracer reported on stderr (`stderr_lost`) are written as `# lost:`
/// lines when the output is flushed.
pub(super) fn pump(
    backend: &dyn Backend,
    stdout: impl TracerPipe,
    out: &mut dyn Write,
    stopper: &Arc<Stopper>,
    stderr_lost: &AtomicU64,
    mut on_attached: impl FnMut(),
) -> Pumped {
    let program = backend.program();
    let mut lost = 0u64;
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut line = Vec::with_capacity(512);
    let mut error: Option<Error> = None;
    let mut text = Vec::with_capacity(1024);
    let mut decoder = backend.decoder();
    let mut malformed = 0u64;
    let mut drained = false;
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
        stopper.progress();
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let decoded = match decoder.as_mut() {
            Some(d) => d.line(body, &mut text),
            None => Decoded::classified(backend.classify(body), &mut text),
        };
        match decoded {
            Decoded::Trace | Decoded::Blank => {}
            Decoded::Attached => {
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
            Decoded::Fence(cpu) => {
                // The drain is proven, and the tracer is being ended without a wait: what it
                // prints from here on is not part of the run.
                drained = stopper.fence_seen(cpu);
            }
            Decoded::Lost(n) => {
                lost += n;
                trace_format::write_header(&mut text, &Header::Lost(n));
            }
            Decoded::Fork { child, .. } => stopper.forked(child),
            Decoded::Exit(pid) => stopper.exited(pid),
            Decoded::Chatter(c) => eprintln!("{program}: {}", String::from_utf8_lossy(&c)),
            Decoded::Malformed(why) => {
                malformed += 1;
                if malformed <= 10 {
                    eprintln!(
                        "trace-gen: {program} printed a line it should not ({why}), left out: {}",
                        String::from_utf8_lossy(&body.escape_ascii().collect::<Vec<u8>>())
                    );
                }
            }
        }
        // Flushed when the tracer has gone quiet, not at each line it writes alone.
        let quiet = reader.buffer().is_empty() && !reader.get_ref().more_within(FLUSH_AFTER_MS);
        if quiet || text.len() >= 1 << 16 || drained {
            lost += take_stderr_losses(stderr_lost, &mut text);
            let r = out
                .write_all(&text)
                .and_then(|()| if quiet { out.flush() } else { Ok(()) });
            text.clear();
            if let Err(e) = r {
                error = Some(write_err(e));
                break;
            }
        }
        if drained {
            break;
        }
    }
    let incomplete = decoder.as_mut().map_or(0, |d| d.finish(&mut text));
    lost += take_stderr_losses(stderr_lost, &mut text);
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
    Pumped {
        lost,
        malformed,
        incomplete,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{make, Ending};

    /// Pumps `input` as `backend`'s stdout; returns (output, what the pump counted, attached
    /// callbacks).
    fn pumped(backend: &str, input: &[u8], stderr_lost: u64) -> (String, Pumped, usize) {
        let backend = make(backend);
        let stopper = Arc::new(Stopper::new(u32::MAX, false, Ending::Wait));
        let pending = AtomicU64::new(stderr_lost);
        let mut out = Vec::new();
        let mut attached = 0;
        let p = pump(&*backend, input, &mut out, &stopper, &pending, || {
            attached += 1
        });
        assert!(p.error.is_none());
        (String::from_utf8(out).unwrap(), p, attached)
    }

    #[test]
    fn trace_lines_pass_markers_are_consumed() {
        let (out, p, attached) = pumped(
            "systemtap",
            b"# trace-gen: attached\n\
              => uid: 0 pid: 1 tid: 1 comm: cat open: /a 5\n\
              <= uid: 0 pid: 1 tid: 1 ret: 3 6\n\
              \n# trace-gen: attached\n",
            0,
        );
        assert_eq!(
            out,
            "=> uid: 0 pid: 1 tid: 1 comm: cat open: /a 5\n\
             <= uid: 0 pid: 1 tid: 1 ret: 3 6\n"
        );
        assert_eq!((p.lost, p.malformed, attached), (0, 0, 1), "attached once");
    }

    #[test]
    fn bpftrace_json_is_decoded_losses_counted_and_raw_lines_left_out() {
        let (out, p, attached) = pumped(
            "bpftrace",
            br##"{"type": "attached_probes", "data": {"probes": 9}}
{"type": "printf", "data": "# trace-gen: attached\n"}
{"type": "printf", "data": "O 1 1 0 3 5 6 746163 0 0 0 0 0 1 /a\nb\n"}
=> uid: 0 pid: 1 tid: 1 comm: cat open: /etc/shadow 5
{"type": "lost_events", "data": {"events": 7}}
{"type": "printf", "data": "O 2 2 0 -2 8 9 746163 0 0 0 0 1 2 tail\n"}

"##,
            0,
        );
        assert_eq!(
            out,
            "=> uid: 0 pid: 1 tid: 1 flags: 0x0 via: syscall comm: cat open: \"/a\\nb\" 5\n\
             <= uid: 0 pid: 1 tid: 1 ret: 3 6\n# lost: 7\n\
             => uid: 0 pid: 2 tid: 2 flags: 0x0 via: syscall comm: cat open: \"\"... 8\n\
             <= uid: 0 pid: 2 tid: 2 ret: -2 9\n"
        );
        assert_eq!((p.lost, p.malformed, p.incomplete, attached), (7, 1, 1, 1));
    }

    /// Bytes in memory: everything is there at once.
    impl TracerPipe for &[u8] {
        fn more_within(&self, _ms: i32) -> bool {
            true
        }
    }

    impl TracerPipe for LosesAtEnd<'_> {
        fn more_within(&self, _ms: i32) -> bool {
            true
        }
    }

    /// The tracer's stdout, during which its stderr reports `lose` lost events at the end.
    struct LosesAtEnd<'a> {
        data: &'a [u8],
        pending: &'a AtomicU64,
        lose: u64,
    }

    impl Read for LosesAtEnd<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.data.is_empty() {
                self.pending
                    .fetch_add(std::mem::take(&mut self.lose), Ordering::SeqCst);
            }
            self.data.read(buf)
        }
    }

    #[test]
    fn losses_reported_after_the_last_line_are_written_at_the_end() {
        let pending = AtomicU64::new(0);
        let input = LosesAtEnd {
            data: b"<= uid: 0 pid: 1 tid: 1 ret: 3 6\n",
            pending: &pending,
            lose: 5,
        };
        let stopper = Arc::new(Stopper::new(u32::MAX, false, Ending::Wait));
        let mut out = Vec::new();
        let p = pump(
            &*make("systemtap"),
            input,
            &mut out,
            &stopper,
            &pending,
            || {},
        );
        assert_eq!(out, b"<= uid: 0 pid: 1 tid: 1 ret: 3 6\n# lost: 5\n");
        assert_eq!(p.lost, 5);
    }

    /// A tracer that writes one line at a time; `pauses` says whether it goes quiet after
    /// each.
    struct LineByLine<'a> {
        lines: Vec<&'a [u8]>,
        pauses: bool,
    }

    impl Read for LineByLine<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.lines.is_empty() {
                return Ok(0);
            }
            let line = self.lines.remove(0);
            buf[..line.len()].copy_from_slice(line);
            Ok(line.len())
        }
    }

    impl TracerPipe for LineByLine<'_> {
        fn more_within(&self, _ms: i32) -> bool {
            !self.pauses
        }
    }

    /// Our stdout: what was written, and what had been written at each flush.
    #[derive(Default)]
    struct Flushes {
        data: Vec<u8>,
        at_flush: Vec<usize>,
    }

    impl Write for Flushes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.data.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.at_flush.push(self.data.len());
            Ok(())
        }
    }

    /// Lines of a burst are flushed together; a line after which the tracer goes quiet is
    /// flushed at once.
    #[test]
    fn output_is_flushed_when_the_tracer_goes_quiet_not_line_by_line() {
        let lines: Vec<&[u8]> = vec![
            b"<= uid: 0 pid: 1 tid: 1 ret: 3 6\n",
            b"<= uid: 0 pid: 1 tid: 1 ret: 4 7\n",
            b"<= uid: 0 pid: 1 tid: 1 ret: 5 8\n",
        ];
        let one = lines[0].len();
        for (pauses, want) in [
            (false, vec![3 * one]),
            (true, vec![one, 2 * one, 3 * one, 3 * one]),
        ] {
            let stopper = Arc::new(Stopper::new(u32::MAX, false, Ending::Wait));
            let mut out = Flushes::default();
            let input = LineByLine {
                lines: lines.clone(),
                pauses,
            };
            let p = pump(
                &*make("systemtap"),
                input,
                &mut out,
                &stopper,
                &AtomicU64::new(0),
                || {},
            );
            assert!(p.error.is_none());
            assert_eq!(out.data, lines.concat());
            assert_eq!(out.at_flush, want, "pauses: {pauses}");
        }
    }

    #[test]
    fn losses_reported_on_stderr_become_lost_lines() {
        let (out, p, _) = pumped("systemtap", b"<= uid: 0 pid: 1 tid: 1 ret: 3 6\n", 12);
        assert_eq!(out, "<= uid: 0 pid: 1 tid: 1 ret: 3 6\n# lost: 12\n");
        assert_eq!(p.lost, 12);
    }

    #[test]
    fn dtrace_records_are_decoded_and_forks_reach_the_stopper() {
        let (out, p, attached) = pumped(
            "dtrace",
            b"# trace-gen: attached\n# clock-offset-ns: 7\nP fork 1 2\n\
              E 5 6 0 1 1 3 1 0 \"x\\0\" \"/y\\0\"\n\
              => uid: 0 pid: 1 tid: 1 comm: x open: /etc/shadow 5\nP exit 2\n\n",
            3,
        );
        assert_eq!(
            out,
            "# clock-offset-ns: 7\n\
             => uid: 0 pid: 1 tid: 1 comm: x open: /y 5\n\
             <= uid: 0 pid: 1 tid: 1 comm: x ret: 3 6\n# lost: 3\n"
        );
        assert_eq!((p.lost, p.malformed, attached), (3, 1, 1));
    }
}
