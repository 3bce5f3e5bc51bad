//! The private record channel of the D scripts, decoded strictly into canonical trace lines.
//!
//! The script prints one line per record, numbers first and `%S`-quoted strings last, so that
//! no byte of a path or process name can end a field or a line early (`%S` escapes every byte
//! outside `!`..`~` except the space, and `"` and `\`):
//!
//! ```text
//! E ENTRY_TS RETURN_TS UID PID TID RET OK MORE "COMM" "CHUNK0"   one open, at its return
//! C TID MORE "CHUNK"                                             the next chunk of TID's path
//! T TID                                                          TID's path was cut there
//! K TID SIGNAL                         TID's next open never returns: the process was killed
//! P fork PARENT CHILD     P exit PID              a followed process forked, or ended
//! # clock-offset-ns: N    # trace-gen: attached    # trace-gen: fence CPU
//! ```
//!
//! `OK` 0: the path could not be read at all (a bad address: dtrace printed a probe error on
//! stderr). `MORE` 1: a `C` or `T` record of the same thread follows. The records of one
//! event come from one probe firing, on one CPU; they are collected per thread all the same.
//! Every string ends with the NUL `%S` prints as `\0`: one on Oracle's DTrace for Linux, the
//! whole rest of the `strsize` buffer on Solaris, illumos, FreeBSD and macOS. A path or a
//! process name never holds a NUL, so all the final ones are dropped, and a NUL anywhere else
//! is an error.
//!
//! Each event is written with trace-format's writer: an entry line and its return line, the
//! entry's path truncated (`"..."...`) when it was cut or unreadable. A line that does not
//! decode is never passed on: it is [`Decoded::Malformed`], counted and reported.

use crate::backend::{classify_line, Decoded, Decoder as DecodeLines, TracerLine};
use std::collections::HashMap;
use trace_format::Header;

/// One open whose path is still coming in chunks.
#[derive(Debug)]
struct Event {
    entry_ts: u64,
    return_ts: u64,
    uid: u32,
    pid: u32,
    tid: u32,
    ret: i64,
    comm: Vec<u8>,
    path: Vec<u8>,
    /// The process was killed by this signal during the call (a `K` record came first).
    killed: Option<u32>,
}

/// The decoder of one run.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Events whose `MORE` was 1, by thread.
    pending: HashMap<u32, Event>,
    /// `K TID SIGNAL` records, until the thread's `E` record.
    killed: HashMap<u32, u32>,
}

impl Decoder {
    /// Writes `e` as its entry and return lines; `cut` writes the path as truncated.
    fn write(e: &Event, cut: bool, out: &mut Vec<u8>) {
        let write_entry = if cut {
            trace_format::write_truncated_entry
        } else {
            trace_format::write_entry
        };
        write_entry(
            out,
            e.uid,
            e.pid,
            Some(e.tid),
            Some(&e.comm),
            &e.path,
            e.entry_ts,
        );
        trace_format::write_return_line(
            out,
            &trace_format::ReturnLine {
                uid: e.uid,
                pid: e.pid,
                tid: Some(e.tid),
                comm: Some(&e.comm),
                ret: e.ret,
                ts: e.return_ts,
                killed: e.killed,
                ..Default::default()
            },
        );
    }

    /// A record, or why it does not decode.
    fn record(&mut self, line: &[u8], out: &mut Vec<u8>) -> Result<Decoded, &'static str> {
        let mut f = Fields(line);
        match f.word()? {
            b"E" => {
                let entry_ts = f.number()?;
                let return_ts = f.number()?;
                let uid = f.number()?;
                let pid = f.number()?;
                let tid = f.number()?;
                let ret = f.signed()?;
                let ok = f.flag()?;
                let more = f.flag()?;
                let comm = f.string()?;
                let path = f.last_string()?;
                let e = Event {
                    entry_ts,
                    return_ts,
                    uid,
                    pid,
                    tid,
                    ret,
                    comm,
                    path,
                    killed: self.killed.remove(&tid),
                };
                // A thread has one open at a time: an event still waiting for its chunks
                // lost them.
                if let Some(old) = self.pending.remove(&tid) {
                    Self::write(&old, true, out);
                }
                match (ok, more) {
                    (false, _) => Self::write(&e, true, out),
                    (true, false) => Self::write(&e, false, out),
                    (true, true) => {
                        self.pending.insert(tid, e);
                    }
                }
                Ok(Decoded::Trace)
            }
            b"K" => {
                let tid = f.number()?;
                let sig: u32 = f.number()?;
                f.end()?;
                if !(1..=64).contains(&sig) {
                    return Err("a K record without a signal");
                }
                self.killed.insert(tid, sig);
                Ok(Decoded::Blank)
            }
            b"C" => {
                let tid = f.number()?;
                let more = f.flag()?;
                let chunk = f.last_string()?;
                let Some(mut e) = self.pending.remove(&tid) else {
                    return Err("a path chunk of no open");
                };
                e.path.extend_from_slice(&chunk);
                if more {
                    self.pending.insert(tid, e);
                } else {
                    Self::write(&e, false, out);
                }
                Ok(Decoded::Trace)
            }
            b"T" => {
                let tid = f.number()?;
                f.end()?;
                let e = self
                    .pending
                    .remove(&tid)
                    .ok_or("a truncation mark of no open")?;
                Self::write(&e, true, out);
                Ok(Decoded::Trace)
            }
            b"P" => {
                let what = f.word()?;
                let d = match what {
                    b"fork" => Decoded::Fork {
                        parent: f.number()?,
                        child: f.number()?,
                    },
                    b"exit" => Decoded::Exit(f.number()?),
                    _ => return Err("an unknown process record"),
                };
                f.end()?;
                Ok(d)
            }
            b"#" => {
                if f.word()? != b"clock-offset-ns:" {
                    return Err("an unknown header");
                }
                let offset = f.signed()?;
                f.end()?;
                trace_format::write_header(out, &Header::ClockOffset(offset));
                Ok(Decoded::Trace)
            }
            _ => Err("an unknown record"),
        }
    }
}

impl DecodeLines for Decoder {
    fn line(&mut self, line: &[u8], out: &mut Vec<u8>) -> Decoded {
        match classify_line(line) {
            TracerLine::Attached => return Decoded::Attached,
            TracerLine::Fence(cpu) => return Decoded::Fence(cpu),
            TracerLine::Blank => return Decoded::Blank,
            _ => {}
        }
        self.record(line, out)
            .unwrap_or_else(|why| Decoded::Malformed(why.to_owned()))
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> u64 {
        let mut left: Vec<Event> = self.pending.drain().map(|(_, e)| e).collect();
        left.sort_by_key(|e| e.return_ts);
        for e in &left {
            Self::write(e, true, out);
        }
        left.len() as u64
    }
}

/// The fields of one record, read left to right; each is followed by one space, the last by
/// the end of the line.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    /// The next space-separated word (not a string).
    fn word(&mut self) -> Result<&'a [u8], &'static str> {
        let end = self
            .0
            .iter()
            .position(|&b| b == b' ')
            .unwrap_or(self.0.len());
        let (w, rest) = self.0.split_at(end);
        if w.is_empty() {
            return Err("an empty field");
        }
        self.0 = rest.strip_prefix(b" ").unwrap_or(rest);
        Ok(w)
    }

    fn number<T: std::str::FromStr>(&mut self) -> Result<T, &'static str> {
        let w = self.word()?;
        if !w.iter().all(u8::is_ascii_digit) {
            return Err("a malformed number");
        }
        std::str::from_utf8(w)
            .ok()
            .and_then(|w| w.parse().ok())
            .ok_or("a number out of range")
    }

    fn signed(&mut self) -> Result<i64, &'static str> {
        let w = self.word()?;
        let digits = w.strip_prefix(b"-").unwrap_or(w);
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err("a malformed number");
        }
        std::str::from_utf8(w)
            .ok()
            .and_then(|w| w.parse().ok())
            .ok_or("a number out of range")
    }

    fn flag(&mut self) -> Result<bool, &'static str> {
        match self.word()? {
            b"0" => Ok(false),
            b"1" => Ok(true),
            _ => Err("a malformed flag"),
        }
    }

    fn end(&self) -> Result<(), &'static str> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err("extra fields")
        }
    }

    /// A quoted string followed by a space.
    fn string(&mut self) -> Result<Vec<u8>, &'static str> {
        let (s, rest) = unquote(self.0)?;
        self.0 = rest.strip_prefix(b" ").ok_or("fields run together")?;
        Ok(s)
    }

    /// A quoted string that ends the line.
    fn last_string(&mut self) -> Result<Vec<u8>, &'static str> {
        let (s, rest) = unquote(self.0)?;
        if !rest.is_empty() {
            return Err("extra fields");
        }
        self.0 = rest;
        Ok(s)
    }
}

/// The `%S` string at the start of `s` (`"..."`), decoded, without its final NULs; and what
/// follows its closing quote. Only what `%S` writes is accepted: printable ASCII, the escapes
/// `\\ \" \a \b \f \n \r \t \v \0` and three octal digits.
fn unquote(s: &[u8]) -> Result<(Vec<u8>, &[u8]), &'static str> {
    let mut rest = s.strip_prefix(b"\"").ok_or("a string without its quote")?;
    let mut out = Vec::with_capacity(rest.len());
    loop {
        match rest {
            [b'"', tail @ ..] => {
                rest = tail;
                break;
            }
            [b'\\', a @ b'0'..=b'7', b @ b'0'..=b'7', c @ b'0'..=b'7', tail @ ..] => {
                let v = u32::from(a - b'0') * 64 + u32::from(b - b'0') * 8 + u32::from(c - b'0');
                out.push(u8::try_from(v).map_err(|_| "an octal escape above \\377")?);
                rest = tail;
            }
            [b'\\', e, tail @ ..] => {
                out.push(match e {
                    b'\\' => b'\\',
                    b'"' => b'"',
                    b'a' => 7,
                    b'b' => 8,
                    b'f' => 12,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'v' => 11,
                    b'0' => 0,
                    _ => return Err("an unknown escape"),
                });
                rest = tail;
            }
            [b, tail @ ..] if (0x20..0x7f).contains(b) => {
                out.push(*b);
                rest = tail;
            }
            [_, ..] => return Err("a raw control or non-ASCII byte in a string"),
            [] => return Err("a string without its closing quote"),
        }
    }
    let body = out.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    if body == out.len() {
        return Err("a string without its final NUL");
    }
    if out[..body].contains(&0) {
        return Err("a NUL inside a string");
    }
    out.truncate(body);
    Ok((out, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_format::{parse_line, Line};

    /// Decodes `input`: the output, and how many lines were malformed.
    fn decode(input: &[&[u8]]) -> (Vec<u8>, u64) {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        let mut malformed = 0;
        for l in input {
            if let Decoded::Malformed(_) = d.line(l, &mut out) {
                malformed += 1;
            }
        }
        d.finish(&mut out);
        (out, malformed)
    }

    #[test]
    fn one_record_is_an_entry_and_its_return() {
        let (out, lost) = decode(&[br#"E 100 200 0 7 8 -2 1 0 "cat\0" "/tmp/not_exists\0""#]);
        assert_eq!(lost, 0);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "=> uid: 0 pid: 7 tid: 8 comm: cat open: /tmp/not_exists 100\n\
             <= uid: 0 pid: 7 tid: 8 comm: cat ret: -2 200\n"
        );
    }

    #[test]
    fn hostile_names_decode_to_their_bytes_and_are_written_canonically() {
        let line: &[u8] = br#"E 1 2 65534 7 7 -2 1 0 "a open: y\n<= x\0" "/tmp/\"/etc/shadow\"\n<= uid: 0 pid: 1 ret: 3 5\033[31m\342\200\256\377 \0""#;
        let (out, lost) = decode(&[line]);
        assert_eq!(lost, 0);
        let lines: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
        assert_eq!(lines.len(), 3, "{}", String::from_utf8_lossy(&out));
        let Ok(Line::Entry(e)) = parse_line(lines[0]) else {
            panic!("{}", String::from_utf8_lossy(lines[0]))
        };
        assert_eq!(&*e.task.comm.unwrap().to_bytes(), b"a open: y\n<= x");
        assert_eq!(
            &*e.path.to_bytes(),
            b"/tmp/\"/etc/shadow\"\n<= uid: 0 pid: 1 ret: 3 5\x1b[31m\xe2\x80\xae\xff "
        );
        assert!(!e.path.is_truncated());
        // Canonical: what trace-format's writer writes (no raw control byte).
        assert!(lines[0].iter().all(|&b| b >= 0x20 && b != 0x7f));
        let Ok(Line::Return(r)) = parse_line(lines[1]) else {
            panic!()
        };
        assert_eq!((r.ret, r.ts, r.task.uid), (-2, 2, 65534));
    }

    #[test]
    fn a_killed_open_says_by_which_signal() {
        let (out, _) = decode(&[
            b"K 9 9",
            br#"E 1 2 0 7 9 -512 1 0 "cat\0" "/fifo\0""#,
            br#"E 3 4 0 7 9 -512 1 0 "cat\0" "/fifo\0""#,
        ]);
        let text = String::from_utf8(out).unwrap();
        let returns: Vec<&str> = text.lines().filter(|l| l.starts_with("<=")).collect();
        assert_eq!(
            returns,
            [
                "<= uid: 0 pid: 7 tid: 9 killed: 9 comm: cat ret: -512 2",
                "<= uid: 0 pid: 7 tid: 9 comm: cat ret: -512 4"
            ],
            "{text}"
        );
    }

    #[test]
    fn solaris_padding_is_dropped() {
        let (out, _) = decode(&[br#"E 1 2 0 7 7 3 1 0 "cat\0\0\0\0" "/etc/passwd\0\0\0""#]);
        assert!(out.starts_with(b"=> uid: 0 pid: 7 tid: 7 comm: cat open: /etc/passwd 1\n"));
    }

    #[test]
    fn chunks_join_and_a_cut_is_marked() {
        let whole = decode(&[
            br#"E 1 2 0 7 9 3 1 1 "sh\0" "/aaa\0""#,
            br#"E 1 2 0 7 8 3 1 1 "sh\0" "/bbb\0""#,
            br#"C 9 1 "ccc\0""#,
            br#"C 8 0 "ddd\0""#,
            br#"C 9 0 "\0""#,
        ]);
        let text = String::from_utf8(whole.0).unwrap();
        assert!(text.contains("open: /bbbddd 1\n"), "{text}");
        assert!(text.contains("open: /aaaccc 1\n"), "{text}");
        assert_eq!(whole.1, 0);
        let (cut, _) = decode(&[br#"E 1 2 0 7 9 -36 1 1 "sh\0" "/aaa\0""#, b"T 9"]);
        let text = String::from_utf8(cut).unwrap();
        assert!(text.contains(r#"open: "/aaa"... 1"#), "{text}");
        let Ok(Line::Entry(e)) = parse_line(text.lines().next().unwrap().as_bytes()) else {
            panic!()
        };
        assert!(e.path.is_truncated());
        // Unreadable (OK=0), and chunks that never came: truncated, never silently whole.
        let (bad, _) = decode(&[br#"E 1 2 0 7 9 -14 0 0 "sh\0" "\0""#]);
        assert!(String::from_utf8(bad).unwrap().contains(r#"open: ""... 1"#));
        let (open_end, _) = decode(&[br#"E 1 2 0 7 9 3 1 1 "sh\0" "/a\0""#]);
        assert!(String::from_utf8(open_end)
            .unwrap()
            .contains(r#"open: "/a"... 1"#));
    }

    #[test]
    fn markers_and_the_clock_offset() {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        assert_eq!(
            d.line(b"# trace-gen: attached", &mut out),
            Decoded::Attached
        );
        assert_eq!(d.line(b"# trace-gen: fence 1", &mut out), Decoded::Fence(1));
        assert_eq!(d.line(b"", &mut out), Decoded::Blank);
        assert_eq!(d.line(b"# clock-offset-ns: -12", &mut out), Decoded::Trace);
        assert_eq!(out, b"# clock-offset-ns: -12\n");
        assert_eq!(
            d.line(b"P fork 10 11", &mut out),
            Decoded::Fork {
                parent: 10,
                child: 11
            }
        );
        assert_eq!(d.line(b"P exit 11", &mut out), Decoded::Exit(11));
        assert!(matches!(
            d.line(b"P exit 11 12", &mut out),
            Decoded::Malformed(_)
        ));
        assert!(matches!(
            d.line(b"P fork 11", &mut out),
            Decoded::Malformed(_)
        ));
    }

    #[test]
    fn anything_else_is_malformed_and_written_nowhere() {
        for bad in [
            &b"=> uid: 0 pid: 1 tid: 1 comm: x open: /etc/shadow 5"[..],
            b"<= uid: 0 pid: 1 ret: 3 5",
            b"# lost: 999",
            b"Lost 999 events",
            br#"E 1 2 0 7 7 3 1 0 "cat" "/x\0""#,
            br#"E 1 2 0 7 7 3 1 0 "cat\0" "/x\0" "#,
            br#"E 1 2 0 7 7 3 1 0 "cat\0" "/x"#,
            br#"E 1 2 0 7 7 3 1 0 "c at\0" "/x\0\001\0""#,
            br#"E 1 2 0 7 7 3 1 0 "cat\0" "/x\q\0""#,
            b"E 1 2 0 7 7 3 1 0 \"cat\0\" \"/x\n\\0\"",
            br#"E 1 2 0 7 7 3 2 0 "cat\0" "/x\0""#,
            br#"E 1 2 0 x 7 3 1 0 "cat\0" "/x\0""#,
            br#"E 1 2 0 99999999999 7 3 1 0 "cat\0" "/x\0""#,
            br#"C 5 0 "x\0""#,
            b"T 5",
        ] {
            let (out, lost) = decode(&[bad]);
            assert_eq!(
                (out.as_slice(), lost),
                (&b""[..], 1),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    /// `bytes` as DTrace's `%S` prints them (octal for what has no letter escape), with the
    /// string's NUL, or `nuls` of them (the Solaris family prints the whole buffer).
    fn percent_s(bytes: &[u8], nuls: usize) -> Vec<u8> {
        let mut out = vec![b'"'];
        for &b in bytes {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\r' => out.extend_from_slice(b"\\r"),
                7 => out.extend_from_slice(b"\\a"),
                b' '..=b'~' => out.push(b),
                _ => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
            }
        }
        for _ in 0..nuls {
            out.extend_from_slice(b"\\0");
        }
        out.push(b'"');
        out
    }

    #[test]
    fn pseudo_random_names_and_chunked_paths_come_out_exact_and_canonical() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..500 {
            let len = (next() % 700) as usize;
            let path: Vec<u8> = (0..len).map(|_| (next() % 255) as u8 + 1).collect();
            let comm: Vec<u8> = (0..(next() % 16) as usize)
                .map(|_| (next() % 255) as u8 + 1)
                .collect();
            let nuls = if round % 2 == 0 {
                1
            } else {
                1 + (next() % 200) as usize
            };
            let chunks: Vec<&[u8]> = if path.is_empty() {
                vec![&path[..]]
            } else {
                path.chunks(256).collect()
            };
            let mut lines = Vec::new();
            let mut e = format!("E 10 20 0 7 9 3 1 {} ", u8::from(chunks.len() > 1)).into_bytes();
            e.extend(percent_s(&comm, nuls));
            e.push(b' ');
            e.extend(percent_s(chunks[0], nuls));
            lines.push(e);
            for (k, c) in chunks.iter().enumerate().skip(1) {
                let mut l = format!("C 9 {} ", u8::from(k + 1 < chunks.len())).into_bytes();
                l.extend(percent_s(c, nuls));
                lines.push(l);
            }
            let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
            let (out, malformed) = decode(&refs);
            assert_eq!(malformed, 0, "round {round}");
            let text: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
            let Ok(Line::Entry(entry)) = parse_line(text[0]) else {
                panic!("round {round}: {}", String::from_utf8_lossy(text[0]))
            };
            assert_eq!(&*entry.path.to_bytes(), &path[..], "round {round}");
            assert_eq!(&*entry.task.comm.unwrap().to_bytes(), &comm[..]);
            assert!(!entry.path.is_truncated());
            // The writer's own bytes, and never a raw control byte.
            let mut canonical = Vec::new();
            trace_format::write_entry(&mut canonical, 0, 7, Some(9), Some(&comm), &path, 10);
            assert_eq!([text[0], b"\n"].concat(), canonical, "round {round}");
            assert!(out.iter().all(|&b| b == b'\n' || (b >= 0x20 && b != 0x7f)));
        }
    }
}
