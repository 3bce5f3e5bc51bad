//! Reading `bpftrace -f json` output: only the exact line shapes bpftrace 0.17 prints are
//! accepted, the printf text is unescaped byte for byte, and the pieces of each open's path
//! are put back together before the open is written as canonical trace lines.
//!
//! Why a hand-written unescaper: bpftrace escapes every byte of the printf text (`\"`, `\\`,
//! `\n`, `\t`, `\r`, `\b`, `\f`, `\u00XX` below 0x20), but a byte of 0x80 or more comes out as
//! `\uffffffXX` (a sign-extended `char` printed with 8 hex digits), which no JSON parser reads
//! as one byte. Anything else after a backslash, or a raw byte that bpftrace would have
//! escaped, is an error: counted and reported, never passed through.
//!
//! The event line (after unescaping) is `O TID PID UID RET TS_ENTRY TS_EXIT COMM0 COMM1 K N
//! CHUNK\n`: eleven numbers, then the raw piece of path (any bytes, spaces included). A path
//! longer than one piece comes as N events with K = 0..N-1, all with the same thread and entry
//! time; bpftrace may print other CPUs' events between them, so they are matched on
//! (TID, TS_ENTRY) and K/N, never on adjacency.

use super::{CHUNK, MAX_CHUNKS};
use crate::backend::{classify_line, Decoded, Decoder, TracerLine};
use std::collections::HashMap;

const PRINTF_HEAD: &[u8] = b"{\"type\": \"printf\", \"data\": \"";
const PRINTF_TAIL: &[u8] = b"\"}";
const LOST_HEAD: &[u8] = b"{\"type\": \"lost_events\", \"data\": {\"events\": ";
const PROBES_HEAD: &[u8] = b"{\"type\": \"attached_probes\", \"data\": {\"probes\": ";
const MAP_HEAD: &[u8] = b"{\"type\": \"map\", \"data\": {\"@";
const NUMBER_TAIL: &[u8] = b"}}";

/// The bytes of a JSON string body as bpftrace 0.17 writes it, or what is wrong with it.
pub fn unescape(body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b != b'\\' {
            if !(0x20..0x80).contains(&b) || b == b'"' {
                return Err(format!("unescaped byte 0x{b:02x} at {i}"));
            }
            out.push(b);
            i += 1;
            continue;
        }
        let Some(&e) = body.get(i + 1) else {
            return Err("a backslash at the end".to_owned());
        };
        let simple = match e {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            _ => None,
        };
        if let Some(v) = simple {
            out.push(v);
            i += 2;
            continue;
        }
        if e != b'u' {
            return Err(format!("unknown escape \\{} at {i}", char::from(e)));
        }
        let rest = &body[i + 2..];
        if let Some(hex) = rest.strip_prefix(b"ffffff") {
            // A byte >= 0x80, sign-extended.
            match hex.get(..2).and_then(hex_byte) {
                Some(v) if v >= 0x80 => {
                    out.push(v);
                    i += 10;
                }
                _ => return Err(format!("bad \\uffffffXX escape at {i}")),
            }
        } else if let Some(hex) = rest.strip_prefix(b"00") {
            match hex.get(..2).and_then(hex_byte) {
                Some(v) if v < 0x20 => {
                    out.push(v);
                    i += 6;
                }
                _ => return Err(format!("unexpected \\u escape at {i}")),
            }
        } else {
            return Err(format!("unexpected \\u escape at {i}"));
        }
    }
    Ok(out)
}

/// Two lowercase hex digits as a byte.
fn hex_byte(d: &[u8]) -> Option<u8> {
    let v = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    match d {
        [h, l] => Some(v(*h)? << 4 | v(*l)?),
        _ => None,
    }
}

/// A decimal number, digits only (a leading `-` when `signed`).
fn decimal<T: std::str::FromStr>(field: &[u8], signed: bool) -> Option<T> {
    let digits = match field.strip_prefix(b"-") {
        Some(d) if signed => d,
        _ => field,
    };
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(field).ok()?.parse().ok()
}

/// A lowercase hex u64 as `%lx` prints it.
fn hex_u64(field: &[u8]) -> Option<u64> {
    if field.is_empty()
        || field.len() > 16
        || !field.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
    {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(field).ok()?, 16).ok()
}

/// One piece of an open, as decoded from an `O` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Thread id.
    pub tid: u32,
    /// Process id (thread group).
    pub pid: u32,
    /// Real uid.
    pub uid: u32,
    /// The return value.
    pub ret: i64,
    /// Entry time (ns).
    pub ts_entry: u64,
    /// Return time (ns).
    pub ts_exit: u64,
    /// The process name's 16 bytes, as the kernel holds them.
    pub comm: [u8; 16],
    /// This piece's index.
    pub k: usize,
    /// How many pieces the path has.
    pub n: usize,
    /// The bytes of this piece.
    pub chunk: Vec<u8>,
}

/// Parses the text of an `O` event (unescaped, without the final newline, after `O `).
fn parse_piece(rest: &[u8]) -> Result<Piece, String> {
    let mut f = rest.splitn(11, |&b| b == b' ');
    let mut next = |what: &str| f.next().ok_or_else(|| format!("no {what}"));
    let bad = |what: &str| format!("bad {what}");
    let tid = decimal(next("tid")?, false).ok_or_else(|| bad("tid"))?;
    let pid = decimal(next("pid")?, false).ok_or_else(|| bad("pid"))?;
    let uid = decimal(next("uid")?, false).ok_or_else(|| bad("uid"))?;
    let ret = decimal(next("ret")?, true).ok_or_else(|| bad("ret"))?;
    let ts_entry = decimal(next("entry time")?, false).ok_or_else(|| bad("entry time"))?;
    let ts_exit = decimal(next("return time")?, false).ok_or_else(|| bad("return time"))?;
    let c0 = hex_u64(next("comm")?).ok_or_else(|| bad("comm"))?;
    let c1 = hex_u64(next("comm")?).ok_or_else(|| bad("comm"))?;
    let k: usize = decimal(next("piece index")?, false).ok_or_else(|| bad("piece index"))?;
    let n: usize = decimal(next("piece count")?, false).ok_or_else(|| bad("piece count"))?;
    let chunk = next("path piece")?.to_vec();
    if n == 0 || n > MAX_CHUNKS || k >= n {
        return Err(format!("piece {k} of {n}"));
    }
    if chunk.len() > CHUNK || chunk.contains(&0) {
        return Err(format!("a path piece of {} bytes", chunk.len()));
    }
    let mut comm = [0u8; 16];
    comm[..8].copy_from_slice(&c0.to_le_bytes());
    comm[8..].copy_from_slice(&c1.to_le_bytes());
    Ok(Piece {
        tid,
        pid,
        uid,
        ret,
        ts_entry,
        ts_exit,
        comm,
        k,
        n,
        chunk,
    })
}

/// The fields of a `K TID TS_ENTRY SIGNAL` line (after `K `): the open of thread TID that
/// entered at TS_ENTRY never returned, its process was killed by SIGNAL (1 to 64).
fn parse_killed(rest: &[u8]) -> Option<(u32, u64, u32)> {
    let mut f = rest.split(|&b| b == b' ');
    let tid = decimal(f.next()?, false)?;
    let ts = decimal(f.next()?, false)?;
    let sig: u32 = decimal(f.next()?, false)?;
    (f.next().is_none() && (1..=64).contains(&sig)).then_some((tid, ts, sig))
}

/// An open whose pieces are still coming.
#[derive(Debug)]
struct Partial {
    first: Piece,
    parts: Vec<Option<Vec<u8>>>,
    received: usize,
}

/// The stateful reader of bpftrace's JSON lines: see the module doc.
#[derive(Debug, Default)]
pub struct JsonDecoder {
    partial: HashMap<(u32, u64), Partial>,
    /// Opens whose process was killed during the call (`K` lines), by (thread, entry time),
    /// until their pieces come.
    killed: HashMap<(u32, u64), u32>,
}

impl JsonDecoder {
    /// Writes one open (entry and return lines, with trace-format's writers). `pieces` holds
    /// the path's pieces in order; a missing one ends the path there, marked as cut.
    fn write(first: &Piece, pieces: &[Option<Vec<u8>>], killed: Option<u32>, out: &mut Vec<u8>) {
        let mut path = Vec::new();
        let mut cut = false;
        for p in pieces {
            match p {
                Some(bytes) => path.extend_from_slice(bytes),
                None => {
                    cut = true;
                    break;
                }
            }
        }
        // Really cut only when every piece was full: the path went on past them.
        if pieces.len() == MAX_CHUNKS
            && pieces[MAX_CHUNKS - 1].as_ref().map(Vec::len) == Some(CHUNK)
        {
            cut = true;
        }
        let comm_len = first.comm.iter().position(|&b| b == 0).unwrap_or(16);
        let comm = &first.comm[..comm_len];
        let tid = Some(first.tid);
        if cut {
            trace_format::write_truncated_entry(
                out,
                first.uid,
                first.pid,
                tid,
                Some(comm),
                &path,
                first.ts_entry,
            );
        } else {
            trace_format::write_entry(
                out,
                first.uid,
                first.pid,
                tid,
                Some(comm),
                &path,
                first.ts_entry,
            );
        }
        trace_format::write_return_line(
            out,
            &trace_format::ReturnLine {
                uid: first.uid,
                pid: first.pid,
                tid,
                ret: first.ret,
                ts: first.ts_exit,
                killed,
                ..Default::default()
            },
        );
    }

    /// Takes one piece; writes the open when it is complete.
    fn piece(&mut self, piece: Piece, out: &mut Vec<u8>) -> Result<(), String> {
        let key = (piece.tid, piece.ts_entry);
        if piece.n == 1 && !self.partial.contains_key(&key) {
            let chunk = Some(piece.chunk.clone());
            let killed = self.killed.remove(&key);
            Self::write(&piece, &[chunk], killed, out);
            return Ok(());
        }
        let entry = self.partial.entry(key).or_insert_with(|| Partial {
            parts: vec![None; piece.n],
            received: 0,
            first: piece.clone(),
        });
        if entry.first.n != piece.n || entry.first.ret != piece.ret || entry.first.pid != piece.pid
        {
            return Err(format!(
                "piece {} of {} does not match the open it belongs to",
                piece.k, piece.n
            ));
        }
        if entry.parts[piece.k].is_some() {
            return Err(format!("piece {} of {} came twice", piece.k, piece.n));
        }
        entry.parts[piece.k] = Some(piece.chunk);
        entry.received += 1;
        if entry.received == entry.first.n {
            let done = self.partial.remove(&key).expect("present");
            let killed = self.killed.remove(&key);
            Self::write(&done.first, &done.parts, killed, out);
        }
        Ok(())
    }

    /// What the unescaped printf text `data` is.
    fn printf(&mut self, data: &[u8], out: &mut Vec<u8>) -> Decoded {
        let Some(text) = data.strip_suffix(b"\n") else {
            return Decoded::Malformed("a printf without its newline".to_owned());
        };
        if let Some(rest) = text.strip_prefix(b"O ") {
            return match parse_piece(rest).and_then(|p| self.piece(p, out)) {
                Ok(()) => Decoded::Trace,
                Err(why) => Decoded::Malformed(why),
            };
        }
        if let Some(rest) = text.strip_prefix(b"K ") {
            return match parse_killed(rest) {
                Some((tid, ts, sig)) => {
                    self.killed.insert((tid, ts), sig);
                    Decoded::Blank
                }
                None => {
                    Decoded::Malformed("a K line without a tid, a time and a signal".to_owned())
                }
            };
        }
        if let Some(report) = Decoded::process_report(text) {
            return report;
        }
        if let Some(rest) = text.strip_prefix(b"E ") {
            return Decoded::Chatter(rest.to_vec());
        }
        match classify_line(text) {
            TracerLine::Attached => Decoded::Attached,
            TracerLine::Fence(cpu) => Decoded::Fence(cpu),
            _ => Decoded::Malformed("a printf the script does not make".to_owned()),
        }
    }
}

/// The number in `line` = `head` + digits + `}}`.
fn number_line(line: &[u8], head: &[u8]) -> Option<u64> {
    decimal(line.strip_prefix(head)?.strip_suffix(NUMBER_TAIL)?, false)
}

impl Decoder for JsonDecoder {
    fn line(&mut self, line: &[u8], out: &mut Vec<u8>) -> Decoded {
        if line.is_empty() {
            // bpftrace prints the (cleared) maps at exit as empty lines.
            return Decoded::Blank;
        }
        if let Some(body) = line
            .strip_prefix(PRINTF_HEAD)
            .and_then(|r| r.strip_suffix(PRINTF_TAIL))
        {
            return match unescape(body) {
                Ok(data) => self.printf(&data, out),
                Err(why) => Decoded::Malformed(why),
            };
        }
        if let Some(n) = number_line(line, LOST_HEAD) {
            return Decoded::Lost(n);
        }
        if number_line(line, PROBES_HEAD).is_some() {
            return Decoded::Blank;
        }
        if line.starts_with(MAP_HEAD) && line.ends_with(NUMBER_TAIL) {
            // A map bpftrace prints at exit: `END` clears them all, but a SIGINT that lands
            // while END runs makes bpftrace print what is left (1 Ctrl-C in 7, measured).
            // The script's maps are its own bookkeeping, never events.
            return Decoded::Blank;
        }
        Decoded::Malformed("not a line bpftrace -f json prints".to_owned())
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> u64 {
        let mut left: Vec<Partial> = self.partial.drain().map(|(_, p)| p).collect();
        left.sort_by_key(|p| p.first.ts_entry);
        for p in &left {
            let killed = self.killed.remove(&(p.first.tid, p.first.ts_entry));
            Self::write(&p.first, &p.parts, killed, out);
        }
        self.killed.clear();
        left.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `data` as bpftrace 0.17's JSON printf line (its json_escape, measured).
    fn json(data: &[u8]) -> Vec<u8> {
        let mut l = PRINTF_HEAD.to_vec();
        for &b in data {
            match b {
                b'"' => l.extend_from_slice(b"\\\""),
                b'\\' => l.extend_from_slice(b"\\\\"),
                b'\n' => l.extend_from_slice(b"\\n"),
                b'\t' => l.extend_from_slice(b"\\t"),
                b'\r' => l.extend_from_slice(b"\\r"),
                0x08 => l.extend_from_slice(b"\\b"),
                0x0c => l.extend_from_slice(b"\\f"),
                0..=0x1f => l.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
                0x80.. => l.extend_from_slice(format!("\\uffffff{b:02x}").as_bytes()),
                _ => l.push(b),
            }
        }
        l.extend_from_slice(PRINTF_TAIL);
        l
    }

    fn comm_words(name: &[u8]) -> (u64, u64) {
        let mut c = [0u8; 16];
        c[..name.len()].copy_from_slice(name);
        (
            u64::from_le_bytes(c[..8].try_into().unwrap()),
            u64::from_le_bytes(c[8..].try_into().unwrap()),
        )
    }

    /// The `O` event the script prints for piece `k` of `n`.
    fn event(
        tid: u32,
        ts: u64,
        comm: &[u8],
        ret: i64,
        k: usize,
        n: usize,
        chunk: &[u8],
    ) -> Vec<u8> {
        let (c0, c1) = comm_words(comm);
        let mut d = format!(
            "O {tid} {tid} 1000 {ret} {ts} {} {c0:x} {c1:x} {k} {n} ",
            ts + 5
        )
        .into_bytes();
        d.extend_from_slice(chunk);
        d.push(b'\n');
        json(&d)
    }

    fn decode(lines: &[Vec<u8>]) -> (Vec<u8>, Vec<Decoded>, u64) {
        let mut d = JsonDecoder::default();
        let mut out = Vec::new();
        let got = lines.iter().map(|l| d.line(l, &mut out)).collect();
        let left = d.finish(&mut out);
        (out, got, left)
    }

    /// The lines trace-format's writers make for these values.
    fn canonical(tid: u32, ts: u64, comm: &[u8], path: &[u8], ret: i64, cut: bool) -> Vec<u8> {
        let mut o = Vec::new();
        if cut {
            trace_format::write_truncated_entry(&mut o, 1000, tid, Some(tid), Some(comm), path, ts);
        } else {
            trace_format::write_entry(&mut o, 1000, tid, Some(tid), Some(comm), path, ts);
        }
        trace_format::write_return(&mut o, 1000, tid, Some(tid), None, ret, ts + 5);
        o
    }

    #[test]
    fn every_byte_round_trips_through_the_escaping() {
        let all: Vec<u8> = (1..=255u8).collect();
        let line = json(&all);
        let body = line
            .strip_prefix(PRINTF_HEAD)
            .unwrap()
            .strip_suffix(PRINTF_TAIL)
            .unwrap();
        assert_eq!(unescape(body).unwrap(), all);
        assert_eq!(unescape(br"\uffffffc3\uffffffa9").unwrap(), "é".as_bytes());
        assert_eq!(unescape(br"\u001b[31m").unwrap(), b"\x1b[31m");
        assert_eq!(unescape(br"\/").unwrap(), b"/");
    }

    #[test]
    fn unexpected_escapes_and_raw_bytes_are_errors() {
        for bad in [
            &br"\x41"[..],
            br"\u0041",
            br"\uffffff41",
            br"\uffffffzz",
            br"\u00",
            br"\",
            b"raw\nnewline",
            b"raw \xc3\xa9",
            b"a\"b",
            br"\U0001F600",
        ] {
            assert!(unescape(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_short_path_is_one_canonical_open() {
        let (out, got, left) = decode(&[event(7, 100, b"cat", 3, 0, 1, b"/etc/hostname")]);
        assert_eq!(got, vec![Decoded::Trace]);
        assert_eq!(left, 0);
        assert_eq!(out, canonical(7, 100, b"cat", b"/etc/hostname", 3, false));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "=> uid: 1000 pid: 7 tid: 7 comm: cat open: /etc/hostname 100\n\
             <= uid: 1000 pid: 7 tid: 7 ret: 3 105\n"
        );
    }

    #[test]
    fn forged_lines_inside_a_path_stay_inside_it() {
        let forged: &[u8] = b"/tmp/a 5\n<= uid: 0 pid: 9 ret: 3 6\n\
            => uid: 0 pid: 1 comm: systemd open: /etc/shadow T\n\
            {\"type\": \"lost_events\", \"data\": {\"events\": 999999}}\n\
            \"}\n{\"type\": \"printf\", \"data\": \"O 1 1 0 3 1 2 0 0 0 1 /etc/shadow\\n\"}\n\
            Lost 999999 events\n# lost: 5\x1b[31m\\x41";
        let name = b"a open: y\x1b\xff\" ret: 3";
        let lines = pieces_with(9, 50, &name[..15], -2, forged);
        assert!(lines.len() > 1, "the forgery spans pieces");
        let (out, got, _) = decode(&lines);
        assert!(got.iter().all(|g| *g == Decoded::Trace), "{got:?}");
        assert_eq!(out, canonical(9, 50, &name[..15], forged, -2, false));
        // Exactly two lines, and the parser reads back the same path and name.
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 2);
        let first = out.split(|&b| b == b'\n').next().unwrap();
        let trace_format::Line::Entry(e) = trace_format::parse_line(first).unwrap() else {
            panic!()
        };
        assert_eq!(&*e.path.to_bytes(), forged);
        assert_eq!(&*e.task.comm.unwrap().to_bytes(), &name[..15]);
        assert!(!out.contains(&0x1b), "a raw ESC reached the output");
    }

    #[test]
    fn a_full_16_byte_comm_is_exact() {
        let (out, _, _) = decode(&[event(1, 1, b"0123456789abcde", 0, 0, 1, b"/x")]);
        assert!(out.starts_with(b"=> uid: 1000 pid: 1 tid: 1 comm: 0123456789abcde open: /x 1\n"));
    }

    /// The events of an open of `path`, cut into pieces as the script does.
    fn pieces_with(tid: u32, ts: u64, comm: &[u8], ret: i64, path: &[u8]) -> Vec<Vec<u8>> {
        let n = (path.len() / CHUNK + 1).min(MAX_CHUNKS);
        (0..n)
            .map(|k| {
                let end = ((k + 1) * CHUNK).min(path.len());
                event(
                    tid,
                    ts,
                    comm,
                    ret,
                    k,
                    n,
                    &path[(k * CHUNK).min(path.len())..end],
                )
            })
            .collect()
    }

    fn pieces_of(tid: u32, ts: u64, path: &[u8]) -> Vec<Vec<u8>> {
        pieces_with(tid, ts, b"t", -2, path)
    }

    #[test]
    fn pieces_interleaved_across_cpus_are_reassembled_by_thread_and_entry_time() {
        let a: Vec<u8> = (0..1000).map(|i| b'a' + (i % 26) as u8).collect();
        let b: Vec<u8> = (0..400).map(|i| b'A' + (i % 26) as u8).collect();
        let pa = pieces_of(1, 10, &a);
        let pb = pieces_of(2, 11, &b);
        // The same thread's next open (a later entry time) must not mix in.
        let pa2 = pieces_of(1, 20, &b);
        let mut lines = Vec::new();
        let mut ia = pa.iter();
        let mut ib = pb.iter().chain(pa2.iter());
        loop {
            match (ia.next(), ib.next()) {
                (None, None) => break,
                (x, y) => lines.extend(x.into_iter().chain(y).cloned()),
            }
        }
        let (out, got, left) = decode(&lines);
        assert!(got.iter().all(|g| *g == Decoded::Trace), "{got:?}");
        assert_eq!(left, 0);
        // Each open is written when its last piece is read: b (5 pieces), then thread 1's
        // second open (5 more, read alongside a's), then a (12).
        let mut want = canonical(2, 11, b"t", &b, -2, false);
        want.extend(canonical(1, 20, b"t", &b, -2, false));
        want.extend(canonical(1, 10, b"t", &a, -2, false));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(want).unwrap()
        );
    }

    #[test]
    fn truncated_only_when_every_piece_is_full() {
        // 4095 bytes: 48 pieces, the last one short: whole.
        let p4095 = vec![b'x'; 4095];
        let (out, _, _) = decode(&pieces_of(1, 1, &p4095));
        assert_eq!(out, canonical(1, 1, b"t", &p4095, -2, false));
        // Exactly one piece's worth: a full piece then an empty one: whole.
        let p175 = vec![b'y'; CHUNK];
        let lines = pieces_of(1, 2, &p175);
        assert_eq!(lines.len(), 2);
        let (out, _, _) = decode(&lines);
        assert_eq!(out, canonical(1, 2, b"t", &p175, -2, false));
        // 4300 bytes: the script reads 49 full pieces (4263 bytes): cut, marked.
        let p4300 = vec![b'z'; 4300];
        let lines = pieces_of(1, 3, &p4300);
        assert_eq!(lines.len(), MAX_CHUNKS);
        let (out, _, _) = decode(&lines);
        assert_eq!(
            out,
            canonical(1, 3, b"t", &p4300[..MAX_CHUNKS * CHUNK], -2, true)
        );
        assert!(String::from_utf8_lossy(&out).contains("\"... 3\n"));
    }

    #[test]
    fn an_open_with_pieces_lost_is_written_cut_and_counted() {
        let p: Vec<u8> = vec![b'q'; 600];
        let mut lines = pieces_of(4, 9, &p);
        lines.remove(2);
        let (out, _, left) = decode(&lines);
        assert_eq!(left, 1);
        assert_eq!(out, canonical(4, 9, b"t", &p[..2 * CHUNK], -2, true));
    }

    #[test]
    fn an_open_killed_in_the_call_says_by_which_signal() {
        let (out, got, _) = decode(&[
            json(b"K 7 100 9\n"),
            event(7, 100, b"cat", -512, 0, 1, b"/fifo"),
            event(7, 200, b"cat", -512, 0, 1, b"/restarted"),
            json(b"K 7 300 0\n"),
            json(b"K 7 x 9\n"),
        ]);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[1], "<= uid: 1000 pid: 7 tid: 7 killed: 9 ret: -512 105",
            "{text}"
        );
        assert_eq!(
            lines[3], "<= uid: 1000 pid: 7 tid: 7 ret: -512 205",
            "{text}"
        );
        assert!(matches!(got[3], Decoded::Malformed(_)), "signal 0: {got:?}");
        assert!(matches!(got[4], Decoded::Malformed(_)), "{got:?}");
    }

    #[test]
    fn tracer_lines_and_markers() {
        let (out, got, _) = decode(&[
            b"{\"type\": \"attached_probes\", \"data\": {\"probes\": 12}}".to_vec(),
            json(b"# trace-gen: attached\n"),
            json(b"# trace-gen: fence 1\n"),
            json(b"P fork 10 11\n"),
            json(b"P exit 11\n"),
            b"{\"type\": \"lost_events\", \"data\": {\"events\": 42}}".to_vec(),
            Vec::new(),
            json(b"E no comm\n"),
            b"{\"type\": \"map\", \"data\": {\"@commoff\": 3152}}".to_vec(),
        ]);
        assert!(out.is_empty());
        assert_eq!(
            got,
            vec![
                Decoded::Blank,
                Decoded::Attached,
                Decoded::Fence(1),
                Decoded::Fork {
                    parent: 10,
                    child: 11
                },
                Decoded::Exit(11),
                Decoded::Lost(42),
                Decoded::Blank,
                Decoded::Chatter(b"no comm".to_vec()),
                Decoded::Blank,
            ]
        );
    }

    #[test]
    fn anything_else_is_malformed_and_never_copied() {
        let bad: Vec<Vec<u8>> = vec![
            b"=> uid: 0 pid: 1 tid: 1 comm: x open: /etc/shadow 5".to_vec(),
            b"Lost 99 events".to_vec(),
            b"{\"type\": \"printf\", \"data\": \"O 1\"}".to_vec(),
            b"{\"type\":\"printf\",\"data\":\"# trace-gen: attached\\n\"}".to_vec(),
            b"{\"type\": \"lost_events\", \"data\": {\"events\": -1}}".to_vec(),
            json(b"=> uid: 0 pid: 1 open: /etc/shadow 5\n"),
            json(b"# lost: 5\n"),
            json(b"O 1 1 0 3 1 2 0 0 0 1 /no/newline"),
            json(b"O 1 1 0 3 1 2 zz 0 0 1 /x\n"),
            json(b"O 1 1 0 3 1 2 0 0 1 1 /x\n"),
            json(b"O 1 1 0 3 1 2 0 0 0 50 /x\n"),
            json(b"O 1 1 0 +3 1 2 0 0 0 1 /x\n"),
            json(b"P fork 1\n"),
            json(b"P exit x\n"),
        ];
        let (out, got, _) = decode(&bad);
        assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
        for (l, g) in bad.iter().zip(&got) {
            assert!(
                matches!(g, Decoded::Malformed(_)),
                "{}: {g:?}",
                String::from_utf8_lossy(l)
            );
        }
    }

    #[test]
    fn random_paths_and_names_come_out_exact_and_canonical() {
        // A fixed pseudo-random sequence (xorshift), so that a failure can be replayed.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..500u32 {
            let len = (next() % 700) as usize;
            let path: Vec<u8> = (0..len).map(|_| (next() % 255 + 1) as u8).collect();
            let clen = (next() % 16) as usize;
            let comm: Vec<u8> = (0..clen).map(|_| (next() % 255 + 1) as u8).collect();
            let lines = pieces_with(i, u64::from(i) * 10, &comm, -2, &path);
            let (out, got, left) = decode(&lines);
            assert!(got.iter().all(|g| *g == Decoded::Trace), "{got:?}");
            assert_eq!(left, 0);
            assert!(
                !out.iter().any(|&b| b < 0x20 && b != b'\n'),
                "raw control byte"
            );
            let entry = out.split(|&b| b == b'\n').next().unwrap();
            let trace_format::Line::Entry(e) = trace_format::parse_line(entry).unwrap() else {
                panic!("not an entry")
            };
            assert_eq!(&*e.path.to_bytes(), &path[..], "path of open {i}");
            assert_eq!(
                &*e.task.comm.unwrap().to_bytes(),
                &comm[..],
                "comm of open {i}"
            );
            assert_eq!(
                out,
                canonical(i, u64::from(i) * 10, &comm, &path, -2, false)
            );
        }
    }

    #[test]
    fn a_piece_that_comes_twice_is_malformed() {
        let p = vec![b'r'; CHUNK + 10];
        let lines = pieces_of(5, 5, &p);
        assert_eq!(lines.len(), 2);
        let (_, got, left) = decode(&[lines[0].clone(), lines[0].clone(), lines[1].clone()]);
        assert!(matches!(got[1], Decoded::Malformed(_)));
        assert_eq!(left, 0);
    }
}
