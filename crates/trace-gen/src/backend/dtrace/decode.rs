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
//! G TID CGROUP_ID                      the cgroup of TID's process, for its next open (--cgroup)
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
use trace_format::{EntryLine, Header, ReturnLine, Via};

/// What the `O`, `N`, `F` and `W` records before an `E` or `H` record said about it (see
/// `detail.rs` of the script side).
#[derive(Debug, Default)]
struct Detail {
    /// The call's arguments were read (`O ... OK 1`).
    ok: bool,
    flags: u64,
    resolve: u64,
    mode: u64,
    /// The path argument's address.
    addr: u64,
    /// The resolved path's components, the last one first (`N`), or the whole path (`F`).
    names: Vec<Vec<u8>>,
    whole: Option<Vec<u8>>,
    /// The walk's end (`W`): what was walked, whether it stopped early, whether the file is
    /// unlinked.
    walk: Option<(u8, bool, bool)>,
}

/// Linux's `O_CREAT`, `__O_TMPFILE`: a call with either can create, so its mode is shown.
const CREATES: u64 = 0o100 | 0o20_000_000;

/// The version-2 details of one event, decoded.
#[derive(Debug, Default)]
struct Details {
    flags: Option<u64>,
    resolve: Option<u64>,
    mode: Option<u32>,
    via: Option<Via>,
    fault: Option<u64>,
    resolved: Option<(Vec<u8>, bool)>,
}

impl Detail {
    /// The resolved path: a success's file (with d_path's ` (deleted)` for an unlinked one),
    /// or a failure's directory joined with the name (an absolute name as it is); with
    /// whether it is cut.
    fn resolved(&self, ret: i64, name: Option<(&[u8], bool)>) -> Option<(Vec<u8>, bool)> {
        let (kind, cut, unlinked) = self.walk?;
        let base = match &self.whole {
            // fds[].fi_pathname and cwd print "<unknown>" and the like when they cannot say.
            Some(whole) => whole.starts_with(b"/").then(|| whole.clone())?,
            None => {
                let mut p = Vec::new();
                for n in self.names.iter().rev() {
                    p.push(b'/');
                    p.extend_from_slice(n);
                }
                if p.is_empty() {
                    p.push(b'/');
                }
                p
            }
        };
        match (kind, ret >= 0, name) {
            (1, true, _) => {
                let mut p = base;
                if unlinked {
                    p.extend_from_slice(b" (deleted)");
                }
                Some((p, cut))
            }
            (2, false, Some((name, name_cut))) => {
                if name.starts_with(b"/") {
                    return Some((name.to_vec(), name_cut));
                }
                // DIR + "/" + name, as written (an empty name leaves "DIR/").
                let mut p = base;
                if p != b"/" {
                    p.push(b'/');
                }
                p.extend_from_slice(name);
                Some((p, cut || name_cut))
            }
            _ => None,
        }
    }

    /// The line fields of an event that returned `ret`, read its path `name` (`None`: a
    /// fault) and was opened `via`.
    fn details(&self, ret: i64, name: Option<(&[u8], bool)>, via: Option<Via>) -> Details {
        let flags = self.ok.then_some(self.flags);
        let creates = via != Some(Via::Handle) && flags.is_some_and(|f| f & CREATES != 0);
        Details {
            flags,
            resolve: (self.ok && self.resolve != 0).then_some(self.resolve),
            mode: creates.then_some((self.mode & 0o7777) as u32),
            via,
            fault: match (name, via) {
                (None, None) => Some(self.addr),
                _ => None,
            },
            resolved: self.resolved(ret, name),
        }
    }
}

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
    /// What the records before it said (`None` for the ia32 opens, whose script prints none).
    detail: Option<Detail>,
    /// The path could not be read at all (`OK` 0).
    fault: bool,
    /// The process was killed by this signal during the call (a `K` record came first).
    killed: Option<u32>,
    /// The process's cgroup (a `G` record came first, with `--cgroup`).
    cgroup: Option<Vec<u8>>,
}

/// The decoder of one run.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Events whose `MORE` was 1, by thread.
    pending: HashMap<u32, Event>,
    /// The details of the next event of each thread.
    details: HashMap<u32, Detail>,
    /// io_uring open requests submitted and not yet completed, by address.
    submits: HashMap<i64, Submit>,
    /// `K TID SIGNAL` records, until the thread's `E` record.
    killed: HashMap<u32, u32>,
    /// `G TID CGROUP_ID` records, until the thread's `E` record.
    cgroups: HashMap<u32, u64>,
    /// The names of the cgroup ids.
    cgroup_names: crate::cgroup::Names,
}

/// An io_uring open request as submitted (`S`).
#[derive(Debug)]
struct Submit {
    entry_ts: u64,
    uid: u32,
    pid: u32,
    tid: u32,
    flags: u64,
    resolve: u64,
    mode: u64,
    /// The name was cut at the string size.
    cut: bool,
    comm: Vec<u8>,
    path: Vec<u8>,
}

impl Decoder {
    /// Writes `e` as its entry and return lines; `cut` writes the path as truncated.
    fn write(e: &Event, cut: bool, out: &mut Vec<u8>) {
        if let Some(detail) = &e.detail {
            let name = (!e.fault).then_some((e.path.as_slice(), cut));
            // `E` records are system calls: the line leaves `via:` out.
            let d = detail.details(e.ret, name, None);
            return Self::write_detailed(e, cut && !e.fault, &d, out);
        }
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

    /// Writes `e` with its version-2 details.
    fn write_detailed(e: &Event, cut: bool, d: &Details, out: &mut Vec<u8>) {
        trace_format::write_entry_line(
            out,
            &EntryLine {
                uid: e.uid,
                pid: e.pid,
                tid: Some(e.tid),
                comm: Some(&e.comm),
                path: &e.path,
                path_truncated: cut,
                ts: e.entry_ts,
                flags: d.flags,
                resolve: d.resolve,
                mode: d.mode,
                via: d.via,
                fault: d.fault,
                cgroup: e.cgroup.as_deref(),
            },
        );
        trace_format::write_return_line(
            out,
            &ReturnLine {
                uid: e.uid,
                pid: e.pid,
                tid: Some(e.tid),
                comm: Some(&e.comm),
                ret: e.ret,
                ts: e.return_ts,
                resolved: d.resolved.as_ref().map(|r| r.0.as_slice()),
                resolved_truncated: d.resolved.as_ref().is_some_and(|r| r.1),
                killed: e.killed,
            },
        );
    }

    /// The details of `tid`'s next event, for an `N`, `F` or `W` record.
    fn detail_of(&mut self, tid: u32) -> Result<&mut Detail, &'static str> {
        self.details
            .get_mut(&tid)
            .ok_or("an open detail of no open")
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
                    detail: self.details.remove(&tid),
                    fault: !ok,
                    killed: self.killed.remove(&tid),
                    cgroup: self
                        .cgroups
                        .remove(&tid)
                        .map(|id| self.cgroup_names.name(id).to_vec()),
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
            b"O" => {
                let tid = f.number()?;
                let detail = Detail {
                    ok: f.flag()?,
                    flags: f.number()?,
                    resolve: f.number()?,
                    mode: f.number()?,
                    addr: f.number()?,
                    ..Detail::default()
                };
                f.end()?;
                self.details.insert(tid, detail);
                Ok(Decoded::Trace)
            }
            b"N" => {
                let tid = f.number()?;
                let name = f.last_string()?;
                self.detail_of(tid)?.names.push(name);
                Ok(Decoded::Trace)
            }
            b"F" => {
                let tid = f.number()?;
                let whole = f.last_string()?;
                self.detail_of(tid)?.whole = Some(whole);
                Ok(Decoded::Trace)
            }
            b"W" => {
                let tid = f.number()?;
                let kind = f.number()?;
                if kind > 2 {
                    return Err("an unknown kind of walk");
                }
                let walk = (kind, f.flag()?, f.flag()?);
                f.end()?;
                self.detail_of(tid)?.walk = Some(walk);
                Ok(Decoded::Trace)
            }
            b"H" => {
                let entry_ts = f.number()?;
                let return_ts = f.number()?;
                let uid = f.number()?;
                let pid = f.number()?;
                let tid = f.number()?;
                let ret = f.signed()?;
                let comm = f.last_string()?;
                let detail = self
                    .details
                    .remove(&tid)
                    .ok_or("a handle open without its details")?;
                let e = Event {
                    entry_ts,
                    return_ts,
                    uid,
                    pid,
                    tid,
                    ret,
                    comm,
                    path: Vec::new(),
                    detail: None,
                    fault: false,
                    killed: None,
                    cgroup: None,
                };
                let d = detail.details(ret, Some((b"", false)), Some(Via::Handle));
                Self::write_detailed(&e, false, &d, out);
                Ok(Decoded::Trace)
            }
            b"S" => {
                let req = f.signed()?;
                let submit = Submit {
                    entry_ts: f.number()?,
                    uid: f.number()?,
                    pid: f.number()?,
                    tid: f.number()?,
                    flags: f.number()?,
                    resolve: f.number()?,
                    mode: f.number()?,
                    cut: f.flag()?,
                    comm: f.string()?,
                    path: f.last_string()?,
                };
                self.submits.insert(req, submit);
                Ok(Decoded::Trace)
            }
            b"Q" => {
                let req = f.signed()?;
                let return_ts = f.number()?;
                let tid = f.number()?;
                let ret = f.signed()?;
                f.end()?;
                let walk = self
                    .details
                    .remove(&tid)
                    .ok_or("an io_uring completion without its details")?;
                // Submitted before tracing started, or failed before its submission (an
                // unreadable name): not an open of this trace (the start-up note says so).
                let Some(s) = self.submits.remove(&req) else {
                    return Ok(Decoded::Blank);
                };
                let detail = Detail {
                    ok: true,
                    flags: s.flags,
                    resolve: s.resolve,
                    mode: s.mode,
                    ..walk
                };
                let d = detail.details(ret, Some((&s.path, s.cut)), Some(Via::IoUring));
                let e = Event {
                    entry_ts: s.entry_ts,
                    return_ts,
                    uid: s.uid,
                    pid: s.pid,
                    tid: s.tid,
                    ret,
                    comm: s.comm,
                    path: s.path,
                    detail: None,
                    fault: false,
                    killed: None,
                    cgroup: None,
                };
                Self::write_detailed(&e, s.cut, &d, out);
                Ok(Decoded::Trace)
            }
            b"G" => {
                let tid = f.number()?;
                let id = f.number()?;
                f.end()?;
                self.cgroups.insert(tid, id);
                Ok(Decoded::Blank)
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

    /// The return line's `resolved:` and the entry's details of one decoded event.
    fn detailed(input: &[&[u8]]) -> (String, String) {
        let (out, malformed) = decode(input);
        assert_eq!(malformed, 0, "{}", String::from_utf8_lossy(&out));
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines().map(str::to_owned);
        (lines.next().unwrap(), lines.next().unwrap())
    }

    #[test]
    fn a_success_resolves_to_its_file_and_shows_flags_and_mode() {
        // open("b/new", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0640) = 3 in /tmp/r/a.
        let (entry, ret) = detailed(&[
            b"O 8 1 557633 0 416 4096",
            br#"N 8 "new\0""#,
            br#"N 8 "b\0""#,
            br#"N 8 "a\0""#,
            br#"N 8 "r\0""#,
            br#"N 8 "tmp\0""#,
            b"W 8 1 0 0",
            br#"E 1 2 0 7 8 3 1 0 "cat\0" "b/new\0""#,
        ]);
        assert_eq!(
            entry,
            "=> uid: 0 pid: 7 tid: 8 flags: 0x88241 mode: 0640 comm: cat open: b/new 1"
        );
        assert_eq!(
            ret,
            r#"<= uid: 0 pid: 7 tid: 8 resolved: "/tmp/r/a/b/new" comm: cat ret: 3 2"#
        );
        // Unlinked (O_TMPFILE): d_path's mark.
        let (_, ret) = detailed(&[
            b"O 8 1 4259842 0 384 4096",
            br##"N 8 "#12\0""##,
            br#"N 8 "tmp\0""#,
            b"W 8 1 0 1",
            br#"E 1 2 0 7 8 4 1 0 "t\0" "/tmp\0""#,
        ]);
        assert!(ret.contains(r##"resolved: "/tmp/#12 (deleted)""##), "{ret}");
    }

    #[test]
    fn a_failure_resolves_to_its_directory_joined_with_the_name() {
        let failed = |name: &str, kind: u8| {
            let e = format!(r#"E 1 2 0 7 8 -2 1 0 "cat\0" "{name}\0""#);
            let w = format!("W 8 {kind} 0 0");
            detailed(&[
                b"O 8 1 0 0 0 4096",
                br#"N 8 "d\0""#,
                w.as_bytes(),
                e.as_bytes(),
            ])
            .1
        };
        assert!(failed("x/missing", 2).contains(r#"resolved: "/d/x/missing""#));
        // An absolute name as it is; an empty one leaves "DIR/"; no directory: nothing.
        assert!(failed("/etc/missing", 2).contains(r#"resolved: "/etc/missing""#));
        assert!(failed("", 2).contains(r#"resolved: "/d/""#));
        assert!(!failed("missing", 0).contains("resolved:"));
        // A walk that stopped early marks the path cut.
        let (_, ret) = detailed(&[
            b"O 8 1 0 0 0 4096",
            br#"N 8 "deep\0""#,
            b"W 8 1 1 0",
            br#"E 1 2 0 7 8 3 1 0 "cat\0" "deep\0""#,
        ]);
        assert!(ret.contains(r#"resolved: "/deep"..."#), "{ret}");
    }

    #[test]
    fn an_unreadable_name_is_a_fault_not_an_empty_name() {
        let (entry, ret) = detailed(&[
            b"O 8 1 0 0 0 1",
            b"W 8 2 0 0",
            br#"E 1 2 0 7 8 -14 0 0 "cat\0" "\0""#,
        ]);
        assert_eq!(
            entry,
            "=> uid: 0 pid: 7 tid: 8 flags: 0x0 fault: 0x1 comm: cat open:  1"
        );
        assert!(!ret.contains("resolved:"), "{ret}");
    }

    #[test]
    fn handle_and_io_uring_opens_say_how() {
        let (entry, ret) = detailed(&[
            b"O 8 1 0 0 0 0",
            br#"N 8 "f\0""#,
            b"W 8 1 0 0",
            br#"H 1 2 0 7 8 5 "h\0""#,
        ]);
        assert_eq!(
            entry,
            "=> uid: 0 pid: 7 tid: 8 flags: 0x0 via: handle comm: h open:  1"
        );
        assert!(ret.contains(r#"resolved: "/f" comm: h ret: 5 2"#), "{ret}");
        // io_uring: submitted by thread 8, completed on the worker 9, joined by address.
        let (entry, ret) = detailed(&[
            br#"S -77 10 0 7 8 577 0 420 0 "u\0" "by-uring\0""#,
            b"O 9 0 0 0 0 0",
            br#"N 9 "by-uring\0""#,
            b"W 9 1 0 0",
            b"Q -77 20 9 6",
        ]);
        assert_eq!(
            entry,
            "=> uid: 0 pid: 7 tid: 8 flags: 0x241 mode: 0644 via: io_uring comm: u open: by-uring 10"
        );
        assert!(
            ret.contains(r#"resolved: "/by-uring" comm: u ret: 6 20"#),
            "{ret}"
        );
        // A completion of a request submitted before tracing started: no event.
        let (out, malformed) = decode(&[b"O 9 0 0 0 0 0", b"W 9 1 0 0", b"Q -78 20 9 6"]);
        assert_eq!((out.as_slice(), malformed), (&b""[..], 0));
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
            br#"N 5 "x\0""#,
            b"W 5 1 0 0",
            b"W 5 3 0 0",
            b"O 5 1 0 0 0",
            b"Q 1 2 3 4",
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
