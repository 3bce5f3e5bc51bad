//! bpftrace 0.17 cannot escape a string: a file (or process) name holding a newline comes out
//! of its `printf` as several lines, which no reader could pair. trace-gen knows more than a
//! reader: the bpftrace script prints an entry and its return in one `printf`, so everything
//! between an `=> ` line and the next `<= ` line belongs to that entry. [`Rejoiner`] glues
//! those pieces back together with the newlines they lost, and writes the entry again with
//! trace-format's writer, which quotes the path (`"/tmp/new\nline"`) as the grammar requires.
//!
//! An entry that came out whole is passed through untouched (no parsing on that path).

use trace_format::{parse_line, Line};

/// Holds an entry line until the return line that closes it.
#[derive(Debug, Default)]
pub struct Rejoiner {
    entry: Vec<u8>,
    open: bool,
    pieces: usize,
}

/// What to do with a line of tracer output.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Kept as part of an entry: nothing to do yet.
    Held,
    /// Not part of an entry: handle the line as usual, after appending what [`Rejoiner`] wrote.
    Pass,
}

impl Rejoiner {
    /// Feeds one line of tracer output (without its `\n`). A finished entry is appended, with
    /// its newline, to `out`.
    pub fn push(&mut self, line: &[u8], out: &mut Vec<u8>) -> Step {
        if self.open {
            if !line.starts_with(b"<= ") {
                self.entry.push(b'\n');
                self.entry.extend_from_slice(line);
                self.pieces += 1;
                return Step::Held;
            }
            self.finish(out);
        }
        if line.starts_with(b"=> ") {
            self.entry.clear();
            self.entry.extend_from_slice(line);
            self.open = true;
            self.pieces = 1;
            return Step::Held;
        }
        Step::Pass
    }

    /// Appends a held entry to `out` (at a return line, or at the end of the output).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.open {
            return;
        }
        self.open = false;
        if self.pieces > 1 {
            if let Ok(Line::Entry(e)) = parse_line(&self.entry) {
                let comm = e.task.comm.map(|c| c.to_bytes());
                trace_format::write_entry(
                    out,
                    e.task.uid,
                    e.task.pid,
                    e.task.tid,
                    comm.as_deref(),
                    &e.path.to_bytes(),
                    e.ts,
                );
                return;
            }
        }
        // Whole, or not an entry even when joined: as it came (a reader counts the latter).
        out.extend_from_slice(&self.entry);
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(lines: &[&[u8]]) -> (Vec<u8>, Vec<Step>) {
        let mut r = Rejoiner::default();
        let mut out = Vec::new();
        let mut steps = Vec::new();
        for line in lines {
            let step = r.push(line, &mut out);
            if step == Step::Pass {
                out.extend_from_slice(line);
                out.push(b'\n');
            }
            steps.push(step);
        }
        r.finish(&mut out);
        (out, steps)
    }

    #[test]
    fn whole_entries_pass_untouched() {
        let (out, _) = feed(&[
            b"=> uid: 0 pid: 1 tid: 1 comm: cat open: /a b 5",
            b"<= uid: 0 pid: 1 tid: 1 ret: 3 6",
        ]);
        assert_eq!(
            out,
            b"=> uid: 0 pid: 1 tid: 1 comm: cat open: /a b 5\n<= uid: 0 pid: 1 tid: 1 ret: 3 6\n"
        );
    }

    #[test]
    fn a_path_split_by_newlines_is_joined_and_quoted() {
        let (out, steps) = feed(&[
            b"=> uid: 0 pid: 1 tid: 1 comm: touch open: /tmp/new",
            b"line",
            b"",
            b"end 5",
            b"<= uid: 0 pid: 1 tid: 1 ret: 0 6",
        ]);
        assert_eq!(
            steps,
            [Step::Held, Step::Held, Step::Held, Step::Held, Step::Pass]
        );
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "=> uid: 0 pid: 1 tid: 1 comm: touch open: \"/tmp/new\\nline\\n\\nend\" 5\n\
             <= uid: 0 pid: 1 tid: 1 ret: 0 6\n"
        );
        let first = text.lines().next().unwrap();
        let Ok(Line::Entry(e)) = parse_line(first.as_bytes()) else {
            panic!("{first}")
        };
        assert_eq!(&*e.path.to_bytes(), b"/tmp/new\nline\n\nend");
    }

    #[test]
    fn a_comm_with_a_newline_is_quoted() {
        let (out, _) = feed(&[
            b"=> uid: 0 pid: 1 tid: 1 comm: a",
            b"b open: /p 5",
            b"<= uid: 0 pid: 1 tid: 1 ret: 0 6",
        ]);
        assert!(out.starts_with(b"=> uid: 0 pid: 1 tid: 1 comm: \"a\\nb\" open: /p 5\n"));
    }

    #[test]
    fn a_cut_entry_at_the_end_is_kept_for_the_reader_to_count() {
        let (out, _) = feed(&[b"# lost: 1", b"=> uid: 0 pid: 1 tid: 1 comm: a open: /p"]);
        assert_eq!(
            out,
            b"# lost: 1\n=> uid: 0 pid: 1 tid: 1 comm: a open: /p\n"
        );
    }
}
