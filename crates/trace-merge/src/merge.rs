//! Several inputs merged in timestamp order, while streaming: traces of several hosts, or of
//! one host taken in pieces, read as one.
//!
//! [`MergedLines`] holds the next line of each input and hands out the one with the earliest
//! timestamp, so each input is read once, front to back, with one line of look-ahead: memory
//! does not grow with the inputs' size. Lines without a timestamp (headers, comments, blank or
//! malformed lines) are handed out as soon as they are read, since they belong to their own
//! input's state and not to the timeline. Each line says which input it came from, so the
//! caller keeps one pairing state and one set of headers per input (a pid on one host is not
//! the same process as that pid on another).
//!
//! Timestamps are compared in wall-clock time when an input's `# clock-offset-ns:` header gave
//! its offset (the traces of two machines, each with its own monotonic clock, line up then),
//! and as they are otherwise (realtime traces, or pieces of one trace). Within an input the
//! order is never changed: if one input is out of order, its lines stay as they were and the
//! pairing's reorder window deals with them.
//!
//! On pipes the merge waits until every input still open has a line (or has ended) before
//! handing one out: it cannot know that a quiet input will not produce an earlier timestamp.

use crate::input::{LineSource, Next, NextError};
use trace_format::{parse_line, Header, Line};

/// What [`MergedLines::next_line`] produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Merged<'a> {
    /// A line of input number `input` (an index into the sources given).
    Line {
        /// Which input.
        input: usize,
        /// The bytes, without the newline.
        bytes: &'a [u8],
        /// 1-based line number in that input.
        number: u64,
    },
    /// Input `input` skipped a line longer than the reader's limit.
    TooLong {
        /// Which input.
        input: usize,
        /// 1-based line number.
        number: u64,
    },
    /// Every input has ended.
    End,
}

#[derive(Debug)]
enum Peeked {
    /// Nothing read ahead yet.
    Empty,
    /// The next line, with its merge key (`None`: not an event line).
    Line { number: u64, key: Option<i128> },
    /// The next thing is a skipped over-long line.
    TooLong { number: u64 },
    /// Ended (or failed).
    Done,
}

#[derive(Debug)]
struct Input<S> {
    source: S,
    peeked: Peeked,
    /// The peeked line's bytes (valid with `Peeked::Line`).
    line: Vec<u8>,
    /// `# clock-offset-ns:` of this input, 0 until seen.
    offset_ns: i64,
}

/// Lines of several sources, earliest timestamp first.
#[derive(Debug)]
pub struct MergedLines<S> {
    inputs: Vec<Input<S>>,
    /// The line handed out last.
    current: Vec<u8>,
}

impl<S: LineSource> MergedLines<S> {
    /// Merges `sources`; lines say their source by index in this vector.
    pub fn new(sources: Vec<S>) -> MergedLines<S> {
        MergedLines {
            inputs: sources
                .into_iter()
                .map(|source| Input {
                    source,
                    peeked: Peeked::Empty,
                    line: Vec::new(),
                    offset_ns: 0,
                })
                .collect(),
            current: Vec::new(),
        }
    }

    /// The name of input `input`, for messages.
    #[cfg(test)]
    pub fn name(&self, input: usize) -> &str {
        self.inputs[input].source.name()
    }

    /// The next line in timestamp order. An input that fails is reported once, with its
    /// index, and is not read again; the others go on.
    pub fn next_line<H>(
        &mut self,
        before_block: &mut dyn FnMut() -> Result<(), H>,
    ) -> Result<Merged<'_>, (usize, NextError<H>)> {
        for (i, input) in self.inputs.iter_mut().enumerate() {
            if matches!(input.peeked, Peeked::Empty) {
                input.fill(before_block).map_err(|e| (i, e))?;
            }
        }
        // Not on the timeline: out at once, first input first.
        let mut pick = self.inputs.iter().position(|input| {
            matches!(
                input.peeked,
                Peeked::TooLong { .. } | Peeked::Line { key: None, .. }
            )
        });
        if pick.is_none() {
            let mut best: Option<(i128, usize)> = None;
            for (i, input) in self.inputs.iter().enumerate() {
                if let Peeked::Line { key: Some(key), .. } = input.peeked {
                    if best.map_or(true, |(k, _)| key < k) {
                        best = Some((key, i));
                    }
                }
            }
            pick = best.map(|(_, i)| i);
        }
        let Some(i) = pick else {
            return Ok(Merged::End);
        };
        let input = &mut self.inputs[i];
        match std::mem::replace(&mut input.peeked, Peeked::Empty) {
            Peeked::Line { number, .. } => {
                std::mem::swap(&mut self.current, &mut input.line);
                Ok(Merged::Line {
                    input: i,
                    bytes: &self.current,
                    number,
                })
            }
            Peeked::TooLong { number } => Ok(Merged::TooLong { input: i, number }),
            Peeked::Empty | Peeked::Done => unreachable!("picked inputs have a line"),
        }
    }
}

impl<S: LineSource> Input<S> {
    fn fill<H>(
        &mut self,
        before_block: &mut dyn FnMut() -> Result<(), H>,
    ) -> Result<(), NextError<H>> {
        let next = match self.source.next_line(before_block) {
            Ok(next) => next,
            Err(e) => {
                self.peeked = Peeked::Done;
                return Err(e);
            }
        };
        self.peeked = match next {
            Next::End => Peeked::Done,
            Next::TooLong { number } => Peeked::TooLong { number },
            Next::Line { bytes, number } => {
                self.line.clear();
                self.line.extend_from_slice(bytes);
                let key =
                    event_timestamp(bytes).map(|ts| i128::from(ts) + i128::from(self.offset_ns));
                if bytes.first() == Some(&b'#') {
                    if let Ok(Line::Header(Header::ClockOffset(offset))) = parse_line(bytes) {
                        self.offset_ns = offset;
                    }
                }
                Peeked::Line { number, key }
            }
        };
        Ok(())
    }
}

/// The timestamp of an entry or return line: the digits after its last space. Anything else
/// (or a line whose end is not a number) has none and is not ordered.
fn event_timestamp(line: &[u8]) -> Option<u64> {
    if !(line.starts_with(b"=> ") || line.starts_with(b"<= ")) {
        return None;
    }
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let space = line.iter().rposition(|&b| b == b' ')?;
    let digits = &line[space + 1..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::LineReader;
    use std::io::Cursor;

    fn source(name: &str, text: &str) -> LineReader<Cursor<Vec<u8>>> {
        LineReader::new(
            Cursor::new(text.as_bytes().to_vec()),
            name.to_string(),
            false,
        )
    }

    /// (input, line) in the order handed out.
    fn merged(texts: &[&str]) -> Vec<(usize, String)> {
        let sources = texts
            .iter()
            .enumerate()
            .map(|(i, t)| source(&format!("in{i}"), t))
            .collect();
        let mut merge = MergedLines::new(sources);
        let mut out = Vec::new();
        let mut hook = || Ok::<(), ()>(());
        loop {
            match merge.next_line(&mut hook).unwrap() {
                Merged::Line { input, bytes, .. } => {
                    out.push((input, String::from_utf8_lossy(bytes).into_owned()))
                }
                Merged::TooLong { .. } => panic!("no long lines here"),
                Merged::End => return out,
            }
        }
    }

    #[test]
    fn timestamps_of_event_lines_only() {
        assert_eq!(
            event_timestamp(b"=> uid: 0 pid: 1 open: /a b 123"),
            Some(123)
        );
        assert_eq!(
            event_timestamp(b"<= uid: 0 pid: 1 ret: -2 456\r"),
            Some(456)
        );
        assert_eq!(event_timestamp(b"# clock: monotonic"), None);
        assert_eq!(event_timestamp(b"=> uid: 0 pid: 1 open: /x"), None);
        assert_eq!(event_timestamp(b"Attaching 4 probes... 5"), None);
        assert_eq!(event_timestamp(b""), None);
    }

    #[test]
    fn interleaves_by_timestamp() {
        let a = "=> uid: 0 pid: 1 open: /a1 10\n<= uid: 0 pid: 1 ret: 3 40\n=> uid: 0 pid: 1 open: /a2 50\n";
        let b = "=> uid: 0 pid: 1 open: /b1 20\n<= uid: 0 pid: 1 ret: 4 30\n<= uid: 0 pid: 1 ret: 5 60\n";
        let order: Vec<(usize, String)> = merged(&[a, b]);
        let stamps: Vec<(usize, &str)> = order
            .iter()
            .map(|(i, l)| (*i, l.rsplit(' ').next().unwrap()))
            .collect();
        assert_eq!(
            stamps,
            [
                (0, "10"),
                (1, "20"),
                (1, "30"),
                (0, "40"),
                (0, "50"),
                (1, "60")
            ]
        );
    }

    #[test]
    fn headers_go_first_and_offsets_align_clocks() {
        // Host a booted at Unix time 1000 s, host b at 2000 s: b's monotonic 5 s is a's 1005 s.
        let a = "# clock-offset-ns: 1000000000000\n=> uid: 0 pid: 1 open: /a 1004000000000\n=> uid: 0 pid: 1 open: /a 1006000000000\n";
        let b =
            "# host: b\n# clock-offset-ns: 2000000000000\n=> uid: 0 pid: 1 open: /b 5000000000\n";
        let order: Vec<(usize, String)> = merged(&[a, b]);
        let inputs: Vec<usize> = order.iter().map(|(i, _)| *i).collect();
        assert!(order[0].1.starts_with("# clock-offset-ns") && order[1].1 == "# host: b");
        // a at 2004 s, b at 2005 s, a at 2006 s (in Unix time).
        assert_eq!(&inputs[3..], [0, 1, 0]);
    }

    #[test]
    fn keeps_each_input_in_its_own_order_and_ends_when_all_end() {
        // Input 0 is out of order (per-CPU buffers): it is not reordered.
        let a = "<= uid: 0 pid: 1 ret: 3 30\n=> uid: 0 pid: 1 open: /a 10\n";
        let b = "garbage line\n=> uid: 0 pid: 2 open: /b 20\n";
        let order = merged(&[a, b, ""]);
        let lines: Vec<&str> = order.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            lines,
            [
                "garbage line",
                "=> uid: 0 pid: 2 open: /b 20",
                "<= uid: 0 pid: 1 ret: 3 30",
                "=> uid: 0 pid: 1 open: /a 10"
            ]
        );
        assert!(merged(&["", ""]).is_empty());
    }

    #[test]
    fn line_numbers_and_names_are_per_input() {
        let mut merge = MergedLines::new(vec![
            source("first", "=> uid: 0 pid: 1 open: /a 5\n"),
            source("second", "# c\n=> uid: 0 pid: 1 open: /b 1\n"),
        ]);
        let mut hook = || Ok::<(), ()>(());
        assert_eq!(
            merge.next_line(&mut hook).unwrap(),
            Merged::Line {
                input: 1,
                bytes: b"# c",
                number: 1
            }
        );
        assert_eq!(
            merge.next_line(&mut hook).unwrap(),
            Merged::Line {
                input: 1,
                bytes: b"=> uid: 0 pid: 1 open: /b 1",
                number: 2
            }
        );
        assert_eq!(
            merge.next_line(&mut hook).unwrap(),
            Merged::Line {
                input: 0,
                bytes: b"=> uid: 0 pid: 1 open: /a 5",
                number: 1
            }
        );
        assert_eq!(merge.next_line(&mut hook).unwrap(), Merged::End);
        assert_eq!(merge.name(1), "second");
    }
}
