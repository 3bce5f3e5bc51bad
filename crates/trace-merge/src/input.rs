//! Reading trace lines from files, FIFOs and stdin, fast and live.
//!
//! Input is read in large chunks and split on `\n` with SIMD search, so a multi-GB file costs
//! little more than `wc -l`; lines are handed out as slices of the buffer (no per-line
//! allocation). Each line carries its number for `FILE:LINE` messages. A last line without a
//! newline is still a line; a very long line (a 1 MiB path) grows the buffer; a line longer
//! than [`MAX_LINE`] is skipped and reported rather than buffered without bound.
//!
//! Liveness: when the input is not a regular file (a pipe, a FIFO, a terminal), a read may
//! block waiting for the tracer, so the reader calls a hook first — the caller flushes its
//! output there. `trace-gen | trace-merge` then shows each open as soon as it is paired, while
//! a regular file is read without any flushing.
//!
//! Sources are kept behind [`LineSource`] so that several inputs can later be merged in
//! timestamp order instead of read one after another.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::path::PathBuf;

/// Bytes asked for per `read()`.
pub const CHUNK: usize = 256 * 1024;
/// Longest line kept; longer ones are skipped and reported as malformed.
pub const MAX_LINE: usize = 8 * 1024 * 1024;

/// One input named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSpec {
    /// Standard input (`-`, or no file given).
    Stdin,
    /// A file, FIFO or device.
    Path(PathBuf),
}

impl InputSpec {
    /// The name used in messages: the path as given, or `<stdin>`; escaped as paths are in the
    /// output (a file name with ESC or a newline must not reach the terminal through an error
    /// message).
    pub fn display_name(&self) -> String {
        match self {
            InputSpec::Stdin => "<stdin>".to_owned(),
            InputSpec::Path(p) => {
                use std::os::unix::ffi::OsStrExt;
                let mut out = Vec::new();
                crate::escape::escape_into(&mut out, p.as_os_str().as_bytes());
                String::from_utf8_lossy(&out).into_owned()
            }
        }
    }
}

/// An input that could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// `open()` or `stat()` failed (missing file, permission).
    #[error("{name}: cannot open: {source}")]
    Open {
        /// Input name.
        name: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The path names a directory.
    #[error("{name}: is a directory")]
    IsDirectory {
        /// Input name.
        name: String,
    },
    /// A `read()` failed part way.
    #[error("{name}: read error after line {line}: {source}")]
    Read {
        /// Input name.
        name: String,
        /// Last complete line number.
        line: u64,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

/// What [`LineSource::next_line`] produced.
#[derive(Debug)]
pub enum Next<'a> {
    /// A line, without its `\n` (a `\r` before it is left for the parser to drop).
    Line {
        /// The bytes.
        bytes: &'a [u8],
        /// 1-based line number in this input.
        number: u64,
    },
    /// A line longer than [`MAX_LINE`] was skipped.
    TooLong {
        /// 1-based line number.
        number: u64,
    },
    /// End of input.
    End,
}

/// Why `next_line` stopped: the input failed, or the caller's hook did.
#[derive(Debug)]
pub enum NextError<H> {
    /// Reading the input failed.
    Input(InputError),
    /// The before-blocking hook failed (e.g. flushing output into a closed pipe).
    Hook(H),
}

/// A stream of numbered lines. `before_block` is called before a read that may wait.
pub trait LineSource {
    /// The input's name for messages.
    fn name(&self) -> &str;
    /// The next line, or the end.
    fn next_line<H>(
        &mut self,
        before_block: &mut dyn FnMut() -> Result<(), H>,
    ) -> Result<Next<'_>, NextError<H>>;
}

/// [`LineSource`] over any reader.
pub struct LineReader<R> {
    inner: R,
    name: String,
    buf: Vec<u8>,
    /// Start of unconsumed data.
    start: usize,
    /// End of data read.
    end: usize,
    /// `buf[start..scanned]` is known to hold no `\n`.
    scanned: usize,
    eof: bool,
    may_block: bool,
    line: u64,
    /// Inside an over-long line: drop bytes until the next `\n`.
    skipping: bool,
    newline: NewlineFinder,
}

/// `\n` search. Lines are short (about 70 bytes), so the per-call cost of `memchr::memchr`
/// (choosing an implementation on every call) is a good part of the search: the AVX2 searcher
/// is picked once here instead.
#[derive(Clone, Copy)]
pub(crate) struct NewlineFinder {
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::One>,
}

impl NewlineFinder {
    pub(crate) fn new() -> NewlineFinder {
        NewlineFinder {
            #[cfg(target_arch = "x86_64")]
            avx2: memchr::arch::x86_64::avx2::memchr::One::new(b'\n'),
        }
    }

    #[inline]
    pub(crate) fn find(&self, hay: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(one) = &self.avx2 {
            return one.find(hay);
        }
        memchr::memchr(b'\n', hay)
    }
}

/// Opens one input. A missing file or a directory is an [`InputError`]; a FIFO is fine.
pub fn open(spec: &InputSpec) -> Result<LineReader<Box<dyn Read + Send>>, InputError> {
    let (reader, name, may_block) = open_source(spec)?;
    Ok(LineReader::new(reader, name, may_block))
}

/// Opens one input as a plain reader: the reader, its name for messages, and whether a read
/// may wait for a writer (anything but a regular file: a pipe, a FIFO, a terminal).
pub fn open_source(spec: &InputSpec) -> Result<(Box<dyn Read + Send>, String, bool), InputError> {
    let name = spec.display_name();
    let open_err = |source| InputError::Open {
        name: name.clone(),
        source,
    };
    let (reader, regular): (Box<dyn Read + Send>, bool) = match spec {
        InputSpec::Stdin => {
            let stdin = io::stdin();
            // Ask the fd itself (not the path) whether it is a regular file.
            let regular = stdin
                .as_fd()
                .try_clone_to_owned()
                .map(File::from)
                .and_then(|f| f.metadata())
                .map(|m| m.is_file())
                .unwrap_or(false);
            (Box::new(stdin), regular)
        }
        InputSpec::Path(path) => {
            let file = File::open(path).map_err(open_err)?;
            let meta = file.metadata().map_err(open_err)?;
            if meta.is_dir() {
                return Err(InputError::IsDirectory { name });
            }
            (Box::new(file), meta.is_file())
        }
    };
    Ok((reader, name, !regular))
}

impl<R: Read> LineReader<R> {
    /// Wraps `inner`; `may_block` says whether reads may wait for a writer (pipes, FIFOs).
    pub fn new(inner: R, name: String, may_block: bool) -> LineReader<R> {
        LineReader {
            inner,
            name,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            scanned: 0,
            eof: false,
            may_block,
            line: 0,
            skipping: false,
            newline: NewlineFinder::new(),
        }
    }

    /// Reads more data after the unconsumed tail, growing the buffer for long lines.
    fn fill<H>(
        &mut self,
        before_block: &mut dyn FnMut() -> Result<(), H>,
    ) -> Result<(), NextError<H>> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.scanned -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < CHUNK / 2 {
            let want = (self.end + CHUNK).next_power_of_two();
            self.buf.resize(want, 0);
        } else if self.end == 0 && self.buf.len() > 4 * CHUNK {
            // A long line is done: give the memory back.
            self.buf.truncate(CHUNK);
            self.buf.shrink_to_fit();
        }
        if self.may_block {
            before_block().map_err(NextError::Hook)?;
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(NextError::Input(InputError::Read {
                        name: self.name.clone(),
                        line: self.line,
                        source,
                    }))
                }
            }
        }
    }
}

impl<R: Read> LineSource for LineReader<R> {
    fn name(&self) -> &str {
        &self.name
    }

    fn next_line<H>(
        &mut self,
        before_block: &mut dyn FnMut() -> Result<(), H>,
    ) -> Result<Next<'_>, NextError<H>> {
        loop {
            if let Some(i) = self.newline.find(&self.buf[self.scanned..self.end]) {
                let nl = self.scanned + i;
                let start = self.start;
                self.start = nl + 1;
                self.scanned = self.start;
                self.line += 1;
                if std::mem::take(&mut self.skipping) || nl - start > MAX_LINE {
                    return Ok(Next::TooLong { number: self.line });
                }
                return Ok(Next::Line {
                    bytes: &self.buf[start..nl],
                    number: self.line,
                });
            }
            self.scanned = self.end;
            if self.eof {
                if self.start == self.end && !self.skipping {
                    return Ok(Next::End);
                }
                // A last line without a newline.
                let start = self.start;
                self.start = self.end;
                self.line += 1;
                if std::mem::take(&mut self.skipping) || self.end - start > MAX_LINE {
                    return Ok(Next::TooLong { number: self.line });
                }
                return Ok(Next::Line {
                    bytes: &self.buf[start..self.end],
                    number: self.line,
                });
            }
            if self.end - self.start >= MAX_LINE {
                // Drop what we have of this line and keep reading until its end.
                self.skipping = true;
                self.start = self.end;
                self.scanned = self.end;
            }
            self.fill(before_block)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns its data in fixed small pieces, like a pipe.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn lines(data: &[u8], piece: usize) -> (Vec<(Vec<u8>, u64)>, usize) {
        let mut r = LineReader::new(Trickle(data, piece), "t".into(), true);
        let mut hooks = 0;
        let mut out = Vec::new();
        loop {
            let mut hook = || -> Result<(), ()> {
                hooks += 1;
                Ok(())
            };
            match r.next_line(&mut hook).unwrap() {
                Next::Line { bytes, number } => out.push((bytes.to_vec(), number)),
                Next::TooLong { number } => out.push((b"<too long>".to_vec(), number)),
                Next::End => break,
            }
        }
        (out, hooks)
    }

    #[test]
    fn splits_numbers_and_keeps_last_line() {
        for piece in [1, 3, 7, 1 << 20] {
            let (got, _) = lines(b"a\r\n\nbb\nlast", piece);
            let want: Vec<(Vec<u8>, u64)> = vec![
                (b"a\r".to_vec(), 1),
                (b"".to_vec(), 2),
                (b"bb".to_vec(), 3),
                (b"last".to_vec(), 4),
            ];
            assert_eq!(got, want, "piece {piece}");
        }
        assert!(lines(b"", 5).0.is_empty());
        assert_eq!(lines(b"x\n", 5).0.len(), 1);
    }

    #[test]
    fn long_lines_grow_then_too_long_is_skipped() {
        let mut data = vec![b'a'; 3 * 1024 * 1024];
        data.push(b'\n');
        data.extend(std::iter::repeat_n(b'b', MAX_LINE + 10));
        data.extend_from_slice(b"\nend\n");
        for piece in [1 << 20, 100_000] {
            let (got, _) = lines(&data, piece);
            let summary: Vec<(usize, u64)> = got.iter().map(|(b, n)| (b.len(), *n)).collect();
            assert_eq!(
                summary,
                [(3 * 1024 * 1024, 1), (10, 2), (3, 3)],
                "piece {piece}"
            );
            assert_eq!(got[1].0, b"<too long>");
            assert_eq!(got[2].0, b"end");
        }
    }

    #[test]
    fn hook_runs_before_each_read_of_a_pipe() {
        let (_, hooks) = lines(b"a\nb\nc\n", 2);
        assert_eq!(hooks, 4, "3 data reads + the one that sees the end");
    }
}
