//! Reading and parsing on a second thread, so that a run uses both cores of a small machine.
//!
//! Reading, splitting and parsing are about half of a run's work on a saved trace, pairing and
//! formatting the rest. A reader thread reads one input straight into a batch buffer, splits
//! it into lines and parses them in place; the main thread receives whole batches (one
//! [`Item`] per line, in order, numbered from [`Batch::first_line`]) and pairs, formats and
//! writes. The line rules are [`crate::input::LineReader`]'s: a last line without a newline is
//! a line, a long line grows the buffer, a line longer than [`MAX_LINE`] is skipped. Memory stays bounded: at most [`QUEUED`] full batches wait in the channel, and used
//! batches are sent back to be refilled instead of being freed.
//!
//! Liveness is kept on pipes, FIFOs and terminals: before a read that may wait for the
//! writer, the reader thread hands over the batch it has (even one line); the main thread
//! calls its own hook (the output flush) before it waits for a batch that is not there yet.

use crate::input::{InputError, NextError, MAX_LINE};
use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::thread::JoinHandle;
use trace_format::{parse_line, parse_plain, Line, ParseError, PlainLine};

/// A batch buffer's usual size: large enough that the hand-over costs nothing per line, small
/// enough that the batches in flight stay in the caches and far below the 16 MB budget.
const BATCH_BYTES: usize = 128 * 1024;
/// A batch is handed over when less room than this is left for the next read.
const MIN_READ: usize = BATCH_BYTES / 4;
/// Full batches waiting for the main thread.
const QUEUED: usize = 2;

/// What one line of the input turned out to be. Small (a fifth of a [`Line`]): a batch holds
/// thousands, written on one core and read on the other.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    /// A parsed line of one of the common shapes.
    Plain(PlainLine<'a>),
    /// Any other parsed line: its index for [`Batch::line`].
    Line(u32),
    /// A line the grammar rejects.
    Malformed(ParseError),
    /// A line longer than [`MAX_LINE`], skipped.
    TooLong,
}

/// Consecutive lines of one input, parsed. The parsed lines borrow from the batch's buffer.
pub struct Batch {
    /// One item per line. The `'static` is a lie kept inside this type: the lines point into
    /// `buf`, which is never moved, resized or written below `len` while `items` is not empty
    /// (reads only write above `len`; `grow` requires no items; `reset` clears `items`
    /// first). They are only lent out for the lifetime of a borrow of the batch
    /// ([`Batch::items`]). All pointers into `buf` come from `as_ptr`/`as_mut_ptr`, which
    /// create no reference to the whole buffer.
    items: Vec<Item<'static>>,
    /// The lines of [`Item::Line`] (same lie, same rules as `items`).
    lines: Vec<Line<'static>>,
    /// The buffer, every byte initialised (its length is its size).
    buf: Vec<u8>,
    /// Bytes of input in `buf`.
    len: usize,
    first_line: u64,
    bytes: u64,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            items: Vec::new(),
            lines: Vec::new(),
            buf: vec![0; BATCH_BYTES],
            len: 0,
            first_line: 0,
            bytes: 0,
        }
    }

    /// The lines, in input order; the first is line [`Batch::first_line`].
    pub fn items(&self) -> &[Item<'_>] {
        &self.items
    }

    /// The line of an [`Item::Line`].
    pub fn line(&self, index: u32) -> &Line<'_> {
        &self.lines[index as usize]
    }

    /// The 1-based number of the first line.
    pub fn first_line(&self) -> u64 {
        self.first_line
    }

    /// Input bytes of the lines that were not skipped (newlines included), for the progress
    /// bar.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn reset(&mut self) {
        self.items.clear();
        self.lines.clear();
        self.len = 0;
        self.bytes = 0;
        if self.buf.len() > 4 * BATCH_BYTES {
            // It held a very long line: give the memory back.
            self.buf = vec![0; BATCH_BYTES];
        }
    }

    /// The input bytes held.
    fn data(&self) -> &[u8] {
        // SAFETY: `len <= buf.len()`, all initialised; a shared view.
        unsafe { std::slice::from_raw_parts(self.buf.as_ptr(), self.len) }
    }

    /// Room for the next read: `buf[len..]`, where no line points.
    fn room(&mut self) -> &mut [u8] {
        let n = self.buf.len() - self.len;
        // SAFETY: in bounds and initialised; no item points at or above `len`.
        unsafe { std::slice::from_raw_parts_mut(self.buf.as_mut_ptr().add(self.len), n) }
    }

    /// Makes at least `MIN_READ` of room. Only without items (the buffer may move).
    fn grow(&mut self) {
        assert!(self.items.is_empty() && self.lines.is_empty());
        if self.buf.len() - self.len < MIN_READ {
            let size = (self.len + BATCH_BYTES).next_power_of_two();
            self.buf.resize(size, 0);
        }
    }

    /// Parses `buf[start..end]` (one line, without its newline).
    fn push_line(&mut self, start: usize, end: usize, number: u64) {
        assert!(start <= end && end <= self.len);
        if self.items.is_empty() {
            self.first_line = number;
        }
        // SAFETY: in bounds of the initialised bytes below `len`, which stay unchanged while
        // `items` is not empty (see the field's comment).
        let stored: &'static [u8] =
            unsafe { std::slice::from_raw_parts(self.buf.as_ptr().add(start), end - start) };
        let item = match parse_plain(stored) {
            Some(p) => Item::Plain(p),
            None => self.push_other(stored),
        };
        self.items.push(item);
        self.bytes += (end - start) as u64 + 1;
    }

    /// A line of another shape, or a bad one.
    #[cold]
    #[inline(never)]
    fn push_other(&mut self, stored: &'static [u8]) -> Item<'static> {
        match parse_line(stored) {
            Ok(l) => {
                self.lines.push(l);
                Item::Line((self.lines.len() - 1) as u32)
            }
            Err(e) => Item::Malformed(e),
        }
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

/// Starts reading and parsing `reader` on a new thread. `name` is for messages; `may_block`
/// says a read may wait for a writer (a pipe, FIFO or terminal), see the module comment.
pub fn spawn<R: Read + Send + 'static>(reader: R, name: String, may_block: bool) -> Batches {
    let (full_tx, full) = mpsc::sync_channel(QUEUED);
    let (empty, empty_rx) = mpsc::channel();
    let src = Source {
        inner: reader,
        name,
        may_block,
        line: 0,
        skipping: false,
        full: full_tx,
        empty: empty_rx,
    };
    let thread = std::thread::Builder::new()
        .name("trace-merge reader".into())
        .spawn(move || src.run())
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

/// The reader thread's state.
struct Source<R> {
    inner: R,
    name: String,
    may_block: bool,
    /// Lines seen so far (the number of the last one).
    line: u64,
    /// Inside a line longer than [`MAX_LINE`]: its bytes are dropped until its newline.
    skipping: bool,
    full: SyncSender<Msg>,
    empty: Receiver<Batch>,
}

/// The main thread is gone (its receiver was dropped after an output error or `--strict`).
struct Gone;

impl<R: Read> Source<R> {
    fn run(mut self) {
        let _ = self.read_all();
    }

    fn send(&self, msg: Msg) -> Result<(), Gone> {
        self.full.send(msg).map_err(|_| Gone)
    }

    /// Hands `batch` over (when it has lines) and continues in a fresh one that starts with
    /// the unfinished line `batch.data()[done..]`.
    fn hand_over(&self, batch: &mut Batch, done: usize) -> Result<(), Gone> {
        if batch.items.is_empty() {
            return Ok(());
        }
        let mut next = self.empty.try_recv().unwrap_or_else(|_| Batch::new());
        let tail = &batch.data()[done..];
        if next.buf.len() < tail.len() + MIN_READ {
            next.buf
                .resize((tail.len() + BATCH_BYTES).next_power_of_two(), 0);
        }
        next.buf[..tail.len()].copy_from_slice(tail);
        next.len = tail.len();
        self.send(Msg::Batch(std::mem::replace(batch, next)))
    }

    /// The line `batch.data()[*done..nl]` (its newline at `nl`) into the batch.
    #[inline(always)]
    fn split_line(&mut self, batch: &mut Batch, done: &mut usize, nl: usize) {
        self.line += 1;
        if std::mem::take(&mut self.skipping) || nl - *done > MAX_LINE {
            batch.push_too_long(self.line);
        } else {
            batch.push_line(*done, nl, self.line);
        }
        *done = nl + 1;
    }

    fn read_all(&mut self) -> Result<(), Gone> {
        let mut batch = self.empty.try_recv().unwrap_or_else(|_| Batch::new());
        // `batch.data()[..done]` is split into items; `[done..scanned]` holds no newline.
        let mut done = 0;
        let mut scanned = 0;
        loop {
            // Lines are short (about 70 bytes), so one pass over the whole read instead of one
            // search per line: 64 bytes are compared at a time into a bit mask whose set bits
            // are the newlines, each line parsed as its newline is found.
            let mut at = scanned;
            while at + 64 <= batch.len {
                let chunk: &[u8; 64] = batch.data()[at..at + 64].try_into().expect("64 bytes");
                let mut mask = newline_mask(chunk);
                while mask != 0 {
                    let nl = at + mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    self.split_line(&mut batch, &mut done, nl);
                }
                at += 64;
            }
            while at < batch.len {
                if batch.data()[at] == b'\n' {
                    self.split_line(&mut batch, &mut done, at);
                }
                at += 1;
            }
            scanned = batch.len;
            if batch.len - done >= MAX_LINE {
                // Drop what there is of this line and read on until its end.
                self.skipping = true;
                batch.len = done;
                scanned = done;
            }
            // Make room; on a pipe, hand over what there is before a read that may wait.
            if self.may_block || batch.buf.len() - batch.len < MIN_READ {
                self.hand_over(&mut batch, done)?;
                if batch.items.is_empty() {
                    scanned -= done;
                    done = 0;
                    batch.grow();
                }
            }
            let n = loop {
                match self.inner.read(batch.room()) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(source) => {
                        if !batch.items.is_empty() {
                            self.send(Msg::Batch(batch))?;
                        }
                        let e = InputError::Read {
                            name: self.name.clone(),
                            line: self.line,
                            source,
                        };
                        return self.send(Msg::Failed(e));
                    }
                }
            };
            if n == 0 {
                break;
            }
            batch.len += n;
        }
        // The end: a last line without a newline is still a line.
        if done < batch.len || self.skipping {
            self.line += 1;
            if std::mem::take(&mut self.skipping) || batch.len - done > MAX_LINE {
                batch.push_too_long(self.line);
            } else {
                batch.push_line(done, batch.len, self.line);
            }
        }
        if !batch.items.is_empty() {
            self.send(Msg::Batch(batch))?;
        }
        self.send(Msg::End)
    }
}

/// Bit `i` set when `chunk[i]` is `\n`.
#[cfg(target_arch = "x86_64")]
#[inline]
fn newline_mask(chunk: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of every x86_64; the four unaligned 16-byte loads are within
    // `chunk`.
    unsafe {
        let nl = _mm_set1_epi8(b'\n' as i8);
        let p = chunk.as_ptr().cast::<__m128i>();
        let m = |k: usize| {
            u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(p.add(k)), nl)) as u16)
        };
        m(0) | m(1) << 16 | m(2) << 32 | m(3) << 48
    }
}

/// Bit `i` set when `chunk[i]` is `\n`.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn newline_mask(chunk: &[u8; 64]) -> u64 {
    chunk
        .iter()
        .enumerate()
        .fold(0, |m, (i, &b)| m | u64::from(b == b'\n') << i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{LineReader, LineSource, Next};

    /// A reader that returns its data in pieces of at most `piece` bytes, like a pipe.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        piece: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = (self.data.len() - self.at).min(self.piece).min(out.len());
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn trickle(data: &[u8], piece: usize) -> Trickle {
        Trickle {
            data: data.to_vec(),
            at: 0,
            piece,
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
        let mut batches = spawn(trickle(data, piece), "t".into(), may_block);
        let mut out = Vec::new();
        while let Some(b) = batches.next(&mut || Ok::<(), ()>(())).unwrap() {
            for (i, item) in b.items().iter().enumerate() {
                let shown = match item {
                    Item::Plain(p) => format!("{:?}", Ok::<_, ParseError>(p.to_line())),
                    Item::Line(i) => format!("{:?}", Ok::<_, ParseError>(*b.line(*i))),
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
            let line = match i % 8 {
                0 => format!(
                    "=> uid: 1 pid: {i} comm: \"a b\" open: /p/{i} {}\n",
                    1000 + i
                ),
                1 => format!("<= uid: 1 pid: {} ret: 3 {}\n", i - 1, 1001 + i),
                2 => format!("=> uid: 2 pid: {i} tid: 9 open: /a b/{i} {}\n", 1000 + i),
                3 => format!("<= uid: 2 pid: {} tid: 9 ret: -2 {}\n", i - 1, 1001 + i),
                4 => "# clock: monotonic\n".to_owned(),
                5 => "garbage\n".to_owned(),
                6 => format!("=> uid: 3 pid: 1 open: \"/q\" {i}\r\n"),
                _ => "\n".to_owned(),
            };
            data.extend_from_slice(line.as_bytes());
        }
        // A line that needs a batch of its own, one too long to keep, then an unfinished last
        // line.
        data.extend(std::iter::repeat_n(b'x', 2 * BATCH_BYTES));
        data.push(b'\n');
        data.extend(std::iter::repeat_n(b'y', MAX_LINE + 1));
        data.extend_from_slice(b"\n=> uid: 1 pid: 2 open: /last 5");
        let want = direct(&data);
        assert_eq!(want.len(), 40_003);
        assert_eq!(want[40_001].1, "too long");
        for (piece, may_block) in [(1 << 20, false), (4096, true), (977, false)] {
            assert_eq!(threaded(&data, piece, may_block), want, "piece {piece}");
        }
    }

    #[test]
    fn newline_mask_marks_every_newline() {
        let mut data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        for i in [0, 1, 63, 64, 65, 127, 128, 500, 998, 999] {
            data[i] = b'\n';
        }
        for start in 0..=data.len() - 64 {
            let chunk: &[u8; 64] = data[start..start + 64].try_into().unwrap();
            let want = (0..64).fold(0u64, |m, i| m | u64::from(chunk[i] == b'\n') << i);
            assert_eq!(newline_mask(chunk), want, "at {start}");
        }
    }

    #[test]
    fn a_pipe_gets_each_line_before_the_next_read() {
        // On a pipe every read hands over what it completed: with one line per read, every
        // batch holds exactly one line.
        let data = b"a\nb\nc\n".to_vec();
        let mut batches = spawn(trickle(&data, 2), "t".into(), true);
        let mut sizes = Vec::new();
        while let Some(b) = batches.next(&mut || Ok::<(), ()>(())).unwrap() {
            sizes.push(b.items().len());
            batches.recycle(b);
        }
        assert_eq!(sizes, [1, 1, 1]);
    }
}
