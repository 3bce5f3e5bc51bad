//! Reading and parsing on a second thread, so that a run uses both cores of a small machine.
//!
//! Splitting and parsing are about 40% of a run's work on a saved trace, pairing and
//! formatting the rest. A reader thread reads one input through [`LineReader`], copies each
//! line into a batch and parses it there; the main thread receives whole batches (one
//! [`Item`] per line, in order, numbered from [`Batch::first_line`]) and pairs, formats and
//! writes. Memory stays bounded: at most [`QUEUED`] full batches wait in the channel, and used
//! batches are sent back to be refilled instead of being freed.
//!
//! Liveness is kept on pipes, FIFOs and terminals: before a read that may wait for the
//! writer, the reader thread hands over the batch it has (even one line); the main thread
//! calls its own hook (the output flush) before it waits for a batch that is not there yet.

use crate::input::{InputError, LineReader, LineSource, Next, NextError};
use std::io::Read;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::thread::JoinHandle;
use trace_format::{parse_line, Line, ParseError};

/// Line text per batch: large enough that the hand-over costs nothing per line, small enough
/// that the batches in flight stay far below the 16 MB budget.
const BATCH_BYTES: usize = 512 * 1024;
/// Full batches waiting for the main thread.
const QUEUED: usize = 2;

/// What one line of the input turned out to be.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    /// A parsed line.
    Line(Line<'a>),
    /// A line the grammar rejects.
    Malformed(ParseError),
    /// A line longer than [`crate::input::MAX_LINE`], skipped.
    TooLong,
}

/// Consecutive lines of one input, parsed. The parsed lines borrow from the batch's own copy
/// of their text.
pub struct Batch {
    /// One item per line. The `'static` is a lie kept inside this type: the lines point into
    /// `text`, whose heap buffer never moves or changes while `items` is not empty (lines are
    /// only appended within its capacity, and `reset` clears `items` before `text`). They are
    /// only ever lent out for the lifetime of a borrow of the batch (see [`Batch::items`]).
    items: Vec<Item<'static>>,
    text: Vec<u8>,
    first_line: u64,
    bytes: u64,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            items: Vec::new(),
            text: Vec::with_capacity(BATCH_BYTES),
            first_line: 0,
            bytes: 0,
        }
    }

    /// The lines, in input order; the first is line [`Batch::first_line`].
    pub fn items(&self) -> &[Item<'_>] {
        &self.items
    }

    /// The 1-based number of the first line.
    pub fn first_line(&self) -> u64 {
        self.first_line
    }

    /// Input bytes of the lines that were read whole (newlines included), for the progress bar.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn reset(&mut self) {
        self.items.clear();
        self.text.clear();
        if self.text.capacity() > 4 * BATCH_BYTES {
            // It held a very long line: give the memory back.
            self.text = Vec::with_capacity(BATCH_BYTES);
        }
        self.bytes = 0;
    }

    /// Copies `line` in and parses the copy. The caller checked that it fits in the capacity.
    fn push_line(&mut self, line: &[u8], number: u64) {
        debug_assert!(self.text.capacity() - self.text.len() >= line.len());
        if self.items.is_empty() {
            self.first_line = number;
        }
        let start = self.text.len();
        self.text.extend_from_slice(line);
        // SAFETY: the bytes live in `text`'s heap buffer, which was not reallocated (the line
        // fit in the capacity) and is neither reallocated nor changed until `reset` has
        // cleared `items` (see the field's comment).
        let stored: &'static [u8] =
            unsafe { std::slice::from_raw_parts(self.text.as_ptr().add(start), line.len()) };
        self.items.push(match parse_line(stored) {
            Ok(l) => Item::Line(l),
            Err(e) => Item::Malformed(e),
        });
        self.bytes += line.len() as u64 + 1;
    }

    fn push_too_long(&mut self, number: u64) {
        if self.items.is_empty() {
            self.first_line = number;
        }
        self.items.push(Item::TooLong);
    }
}

enum Msg {
    Batch(Batch),
    Failed(InputError),
    End,
}

/// The main thread's end: batches in order, then the end or the input's error.
pub struct Batches {
    full: Receiver<Msg>,
    empty: Sender<Batch>,
    may_block: bool,
    thread: Option<JoinHandle<()>>,
}

/// Starts reading and parsing `reader` on a new thread.
pub fn spawn<R: Read + Send + 'static>(reader: LineReader<R>) -> Batches {
    let (full_tx, full) = mpsc::sync_channel(QUEUED);
    let (empty, empty_rx) = mpsc::channel();
    let may_block = reader.may_block();
    let thread = std::thread::Builder::new()
        .name("trace-merge reader".into())
        .spawn(move || read_loop(reader, full_tx, empty_rx))
        .expect("cannot start the reader thread");
    Batches {
        full,
        empty,
        may_block,
        thread: Some(thread),
    }
}

impl Batches {
    /// The next batch, `Ok(None)` at the end. On a pipe, `before_block` runs first when no
    /// batch is ready yet.
    pub fn next<H>(
        &mut self,
        before_block: &mut dyn FnMut() -> Result<(), H>,
    ) -> Result<Option<Batch>, NextError<H>> {
        let msg = match self.full.try_recv() {
            Ok(m) => Ok(m),
            Err(TryRecvError::Empty) => {
                if self.may_block {
                    before_block().map_err(NextError::Hook)?;
                }
                self.full.recv()
            }
            Err(TryRecvError::Disconnected) => Err(mpsc::RecvError),
        };
        match msg {
            Ok(Msg::Batch(b)) => Ok(Some(b)),
            Ok(Msg::Failed(e)) => Err(NextError::Input(e)),
            Ok(Msg::End) => Ok(None),
            Err(mpsc::RecvError) => {
                // The thread ended without saying so: it panicked. Pass the panic on.
                if let Some(t) = self.thread.take() {
                    if let Err(panic) = t.join() {
                        std::panic::resume_unwind(panic);
                    }
                }
                Ok(None)
            }
        }
    }

    /// Gives a used batch back to be refilled.
    pub fn recycle(&self, mut batch: Batch) {
        batch.reset();
        let _ = self.empty.send(batch);
    }
}

/// The reader thread. It stops at the end, at a read error, or when the main thread has gone
/// (its receiver dropped after an output error or `--strict`).
fn read_loop<R: Read>(mut reader: LineReader<R>, full: SyncSender<Msg>, empty: Receiver<Batch>) {
    let fresh = |empty: &Receiver<Batch>| empty.try_recv().unwrap_or_else(|_| Batch::new());
    let mut batch = fresh(&empty);
    loop {
        // Before a read that may wait: hand over what there is, so the output stays live.
        let mut hand_over = || -> Result<(), ()> {
            if batch.items.is_empty() {
                return Ok(());
            }
            let next = fresh(&empty);
            full.send(Msg::Batch(std::mem::replace(&mut batch, next)))
                .map_err(drop)
        };
        let next = match reader.next_line(&mut hand_over) {
            Ok(n) => n,
            Err(NextError::Hook(())) => return,
            Err(NextError::Input(e)) => {
                if !batch.items.is_empty() && full.send(Msg::Batch(batch)).is_err() {
                    return;
                }
                let _ = full.send(Msg::Failed(e));
                return;
            }
        };
        match next {
            Next::Line { bytes, number } => {
                if batch.text.capacity() - batch.text.len() < bytes.len() {
                    if !batch.items.is_empty() {
                        let next = fresh(&empty);
                        let done = std::mem::replace(&mut batch, next);
                        if full.send(Msg::Batch(done)).is_err() {
                            return;
                        }
                    }
                    batch.text.reserve(bytes.len());
                }
                batch.push_line(bytes, number);
            }
            Next::TooLong { number } => batch.push_too_long(number),
            Next::End => {
                if !batch.items.is_empty() && full.send(Msg::Batch(batch)).is_err() {
                    return;
                }
                let _ = full.send(Msg::End);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns its data in fixed small pieces, like a pipe.
    struct Trickle(Vec<u8>, usize);
    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(self.1).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            Ok(n)
        }
    }

    /// Every line, numbered, as the single-threaded reader and parser see it.
    fn direct(data: &[u8]) -> Vec<(u64, String)> {
        let mut r = LineReader::new(std::io::Cursor::new(data.to_vec()), "t".into(), false);
        let mut out = Vec::new();
        loop {
            match r.next_line(&mut || Ok::<(), ()>(())).unwrap() {
                Next::Line { bytes, number } => {
                    out.push((number, format!("{:?}", parse_line(bytes))));
                }
                Next::TooLong { number } => out.push((number, "too long".into())),
                Next::End => return out,
            }
        }
    }

    fn threaded(data: &[u8], piece: usize, may_block: bool) -> Vec<(u64, String)> {
        let r = LineReader::new(Trickle(data.to_vec(), piece), "t".into(), may_block);
        let mut batches = spawn(r);
        let mut out = Vec::new();
        while let Some(b) = batches.next(&mut || Ok::<(), ()>(())).unwrap() {
            for (i, item) in b.items().iter().enumerate() {
                let shown = match item {
                    Item::Line(l) => format!("{:?}", Ok::<_, ParseError>(*l)),
                    Item::Malformed(e) => format!("{:?}", Err::<Line<'_>, _>(*e)),
                    Item::TooLong => "too long".into(),
                };
                out.push((b.first_line() + i as u64, shown));
            }
            batches.recycle(b);
        }
        out
    }

    #[test]
    fn same_lines_numbers_and_results_as_the_direct_path() {
        let mut data = Vec::new();
        for i in 0..40_000u64 {
            let line = match i % 5 {
                0 => format!(
                    "=> uid: 1 pid: {i} comm: \"a b\" open: /p/{i} {}\n",
                    1000 + i
                ),
                1 => format!("<= uid: 1 pid: {} ret: 3 {}\n", i - 1, 1001 + i),
                2 => "# clock: monotonic\n".to_owned(),
                3 => "garbage\n".to_owned(),
                _ => "\n".to_owned(),
            };
            data.extend_from_slice(line.as_bytes());
        }
        // A line that needs a batch of its own, then an unfinished last line.
        data.extend(std::iter::repeat_n(b'x', 2 * BATCH_BYTES));
        data.extend_from_slice(b"\n=> uid: 1 pid: 2 open: /last 5");
        let want = direct(&data);
        assert_eq!(want.len(), 40_002);
        for (piece, may_block) in [(1 << 20, false), (4096, true), (977, false)] {
            assert_eq!(threaded(&data, piece, may_block), want, "piece {piece}");
        }
    }

    #[test]
    fn a_pipe_gets_each_line_before_the_next_read() {
        // On a pipe every read hands over what it completed: with one line per read, every
        // batch holds exactly one line.
        let data = b"a\nb\nc\n".to_vec();
        let r = LineReader::new(Trickle(data, 2), "t".into(), true);
        let mut batches = spawn(r);
        let mut sizes = Vec::new();
        while let Some(b) = batches.next(&mut || Ok::<(), ()>(())).unwrap() {
            sizes.push(b.items().len());
            batches.recycle(b);
        }
        assert_eq!(sizes, [1, 1, 1]);
    }
}
