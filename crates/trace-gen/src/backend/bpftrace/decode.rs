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
//! The event line (after unescaping) is `O TID PID UID RET TS_ENTRY TS_EXIT COMM0 COMM1 FLAGS
//! PACKED PTR K N CHUNK\n`: thirteen numbers, then the raw piece of path (any bytes, spaces
//! included). Before it come the `R TID TS_ENTRY LEN OFF W0 W1 W2 W3 [LEN OFF W0 W1 W2 W3]`
//! events of its resolved path (see [`super::resolve`]), joined to it on (TID, TS_ENTRY). A
//! path longer than one piece comes as N events with K = 0..N-1, all with the same thread and
//! entry time; bpftrace may print other CPUs' events between them, so they are matched on
//! (TID, TS_ENTRY) and K/N, never on adjacency. That is io_uring's shape, and every open's
//! with `--no-resolve`.
//!
//! A return with a resolved path prints one event for most opens instead (each event costs the
//! traced program an interrupt): `W TID PID|UID<<32 RET TS_ENTRY TS_EXIT COMM0 COMM1 FLAGS
//! PACKED PTR N LENGTHS A0 A1 A2 A3 B0 B1 B2 B3 CHUNK`, the path's first piece with the walk's
//! last one or two name pieces (one when the walk's count of pieces is odd), after `R TID
//! TS_ENTRY LENGTHS W0 .. W7` events of two pieces each for a longer walk (LENGTHS: `LEN_A |
//! OFF_A << 16 | LEN_B << 32 | OFF_B << 48`), and before `C TID TS_ENTRY K CHUNK` events for
//! a path of more than one piece.

use super::{resolve, CHUNK, MAX_CHUNKS};
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
    /// The open flags (Linux numbering).
    pub flags: u64,
    /// `MODE | RESOLVE << 16 | KIND << 32 | RF << 36 | RN << 40` (see [`super::resolve`]).
    pub packed: u64,
    /// The path argument's address.
    pub ptr: u64,
    /// This piece's index.
    pub k: usize,
    /// How many pieces the path has.
    pub n: usize,
    /// The bytes of this piece.
    pub chunk: Vec<u8>,
}

/// A raw path piece as an `O` or `W` event carries it: at most [`CHUNK`] bytes, no NUL.
fn check_chunk(chunk: &[u8]) -> Result<(), String> {
    if chunk.len() > CHUNK || chunk.contains(&0) {
        return Err(format!("a path piece of {} bytes", chunk.len()));
    }
    Ok(())
}

/// The 16 bytes of a process name from the two words the events print.
fn comm_of(c0: u64, c1: u64) -> [u8; 16] {
    let mut comm = [0u8; 16];
    comm[..8].copy_from_slice(&c0.to_le_bytes());
    comm[8..].copy_from_slice(&c1.to_le_bytes());
    comm
}

/// Parses the text of an `O` event (unescaped, without the final newline, after `O `).
fn parse_piece(rest: &[u8]) -> Result<Piece, String> {
    let mut f = rest.splitn(14, |&b| b == b' ');
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
    let flags = hex_u64(next("flags")?).ok_or_else(|| bad("flags"))?;
    let packed = hex_u64(next("details")?).ok_or_else(|| bad("details"))?;
    let ptr = hex_u64(next("pointer")?).ok_or_else(|| bad("pointer"))?;
    let k: usize = decimal(next("piece index")?, false).ok_or_else(|| bad("piece index"))?;
    let n: usize = decimal(next("piece count")?, false).ok_or_else(|| bad("piece count"))?;
    let chunk = next("path piece")?.to_vec();
    if n == 0 || n > MAX_CHUNKS || k >= n {
        return Err(format!("piece {k} of {n}"));
    }
    check_chunk(&chunk)?;
    let comm = comm_of(c0, c1);
    Ok(Piece {
        tid,
        pid,
        uid,
        ret,
        ts_entry,
        ts_exit,
        comm,
        flags,
        packed,
        ptr,
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

/// The fields of a `G TID TS_ENTRY CGROUP_ID` line (after `G `): the cgroup of the process
/// whose thread TID entered an open at TS_ENTRY.
fn parse_cgroup(rest: &[u8]) -> Option<((u32, u64), u64)> {
    let mut f = rest.split(|&b| b == b' ');
    let tid = decimal(f.next()?, false)?;
    let ts = decimal(f.next()?, false)?;
    let id = decimal(f.next()?, false)?;
    f.next().is_none().then_some(((tid, ts), id))
}

/// One piece of a component of a resolved path: LEN OFF W0 W1 W2 W3 in an `R` event (the
/// name's bytes OFF.. as four little-endian words; the name is LEN bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
struct NamePiece {
    len: usize,
    off: usize,
    bytes: Vec<u8>,
}

/// Parses the text of an `R` event (after `R `): its open's key and its one or two pieces,
/// in the walk's order: `R TID TS LEN OFF W0 W1 W2 W3 [LEN OFF W0 W1 W2 W3]`.
fn parse_name_pieces(rest: &[u8]) -> Result<((u32, u64), Vec<NamePiece>), String> {
    let f: Vec<&[u8]> = rest.split(|&b| b == b' ').collect();
    if f.len() != 8 && f.len() != 11 && f.len() != 14 {
        return Err("an R event of another shape".to_owned());
    }
    let bad = |what: &str| format!("bad {what} in an R event");
    let tid = decimal(f[0], false).ok_or_else(|| bad("tid"))?;
    let ts = decimal(f[1], false).ok_or_else(|| bad("time"))?;
    let mut pieces = Vec::with_capacity(2);
    if f.len() == 11 {
        // Two pieces, their lengths and offsets in one word (see `held_lengths`).
        let lengths = hex_u64(f[2]).ok_or_else(|| bad("lengths"))?;
        let words = hex_words(&f[3..]).ok_or_else(|| bad("word"))?;
        pieces.extend(held_pieces(lengths, &words, 2)?);
        return Ok((tid_ts(tid, ts), pieces));
    }
    for p in f[2..].chunks(6) {
        let len: usize = decimal(p[0], false).ok_or_else(|| bad("length"))?;
        let off: usize = decimal(p[1], false).ok_or_else(|| bad("offset"))?;
        let words = hex_words(&p[2..]).ok_or_else(|| bad("word"))?;
        pieces.push(name_piece(len, off, &words)?);
    }
    Ok((tid_ts(tid, ts), pieces))
}

/// Hexadecimal words.
fn hex_words(fields: &[&[u8]]) -> Option<Vec<u64>> {
    fields.iter().map(|w| hex_u64(w)).collect()
}

/// The first `count` (1 or 2) of two name pieces printed as one word of their lengths and
/// offsets (see `held_lengths`) and four words each: an `R` event's two, a `W` event's held.
fn held_pieces(lengths: u64, words: &[u64], count: usize) -> Result<Vec<NamePiece>, String> {
    words
        .chunks(4)
        .take(count)
        .enumerate()
        .map(|(half, w)| {
            let l = lengths >> (32 * half);
            name_piece((l & 0xffff) as usize, ((l >> 16) & 0xffff) as usize, w)
        })
        .collect()
}

/// A name piece: `len - off` bytes (at most 32) of the four little-endian `words`.
fn name_piece(len: usize, off: usize, words: &[u64]) -> Result<NamePiece, String> {
    if len > 4096 || off >= len.max(1) || off % resolve::NAME_PIECE as usize != 0 {
        return Err(format!("a name piece at {off} of {len} bytes"));
    }
    let mut bytes = Vec::with_capacity(32);
    for w in words {
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    bytes.truncate(len - off);
    Ok(NamePiece { len, off, bytes })
}

/// Parses the text of a `W` event (after `W `): an open's first path piece with its details
/// (as an `O` event's, with PID | UID << 32 in one word and no piece index), then the walk's
/// last two pieces, LENGTHS A0 A1 A2 A3 B0 B1 B2 B3 (see `held_lengths`), of which the open
/// has the last one or two ([`held_count`]).
fn parse_open_with_pieces(rest: &[u8]) -> Result<(Piece, u64, Vec<u64>), String> {
    let f: Vec<&[u8]> = rest.splitn(21, |&b| b == b' ').collect();
    if f.len() != 21 {
        return Err("a W event of another shape".to_owned());
    }
    let bad = |what: &str| format!("bad {what} in a W event");
    let tid = decimal(f[0], false).ok_or_else(|| bad("tid"))?;
    let ids = hex_u64(f[1]).ok_or_else(|| bad("pid and uid"))?;
    let ret = decimal(f[2], true).ok_or_else(|| bad("ret"))?;
    let ts_entry = decimal(f[3], false).ok_or_else(|| bad("entry time"))?;
    let ts_exit = decimal(f[4], false).ok_or_else(|| bad("return time"))?;
    let c0 = hex_u64(f[5]).ok_or_else(|| bad("comm"))?;
    let c1 = hex_u64(f[6]).ok_or_else(|| bad("comm"))?;
    let flags = hex_u64(f[7]).ok_or_else(|| bad("flags"))?;
    let packed = hex_u64(f[8]).ok_or_else(|| bad("details"))?;
    let ptr = hex_u64(f[9]).ok_or_else(|| bad("pointer"))?;
    let n: usize = decimal(f[10], false).ok_or_else(|| bad("piece count"))?;
    let lengths = hex_u64(f[11]).ok_or_else(|| bad("lengths"))?;
    let words = hex_words(&f[12..20]).ok_or_else(|| bad("word"))?;
    let chunk = f[20].to_vec();
    if n == 0 || n > MAX_CHUNKS {
        return Err(format!("a path of {n} pieces"));
    }
    check_chunk(&chunk)?;
    let comm = comm_of(c0, c1);
    let piece = Piece {
        tid,
        pid: (ids & 0xffff_ffff) as u32,
        uid: (ids >> 32) as u32,
        ret,
        ts_entry,
        ts_exit,
        comm,
        flags,
        packed,
        ptr,
        k: 0,
        n,
        chunk,
    };
    Ok((piece, lengths, words))
}

/// How many of a `W` event's two pieces are the open's: the walk's last one when its number
/// of pieces (`RN`, in the details) is odd, its last two when even, none without a walk.
fn held_count(packed: u64) -> usize {
    match (packed >> 40) & 0xff {
        0 => 0,
        n if n % 2 == 1 => 1,
        _ => 2,
    }
}

/// A `C` event: the open's key (thread, entry time), the piece's index and its bytes.
type Continuation = ((u32, u64), usize, Vec<u8>);

/// Parses the text of a `C` event (after `C `): piece K of the path of the open of thread TID
/// that entered at TS, `C TID TS K PIECE`.
fn parse_continuation(rest: &[u8]) -> Result<Continuation, String> {
    let f: Vec<&[u8]> = rest.splitn(4, |&b| b == b' ').collect();
    if f.len() != 4 {
        return Err("a C event of another shape".to_owned());
    }
    let bad = |what: &str| format!("bad {what} in a C event");
    let tid = decimal(f[0], false).ok_or_else(|| bad("tid"))?;
    let ts = decimal(f[1], false).ok_or_else(|| bad("time"))?;
    let k: usize = decimal(f[2], false).ok_or_else(|| bad("piece index"))?;
    let chunk = f[3].to_vec();
    if k == 0 || k >= MAX_CHUNKS || chunk.len() > CHUNK || chunk.contains(&0) {
        return Err(format!("path piece {k} of {} bytes", chunk.len()));
    }
    Ok(((tid, ts), k, chunk))
}

fn tid_ts(tid: u32, ts: u64) -> (u32, u64) {
    (tid, ts)
}

/// `O_CREAT` and `__O_TMPFILE`: the calls that can create, whose mode is shown.
const CAN_CREATE: u64 = 0o100 | 0o20000000;

/// The details of an open from its first piece and its resolved path's `R` pieces (leaf
/// first): `via:`, `flags:`, `mode:`, `resolve:`, `fault:` and `resolved:`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Details {
    via: Option<trace_format::Via>,
    flags: Option<u64>,
    mode: Option<u32>,
    resolve: Option<u64>,
    fault: Option<u64>,
    resolved: Option<Vec<u8>>,
}

fn details(first: &Piece, raw: &[u8], names: &[NamePiece]) -> Details {
    use resolve::{kind, walked};
    use trace_format::Via;
    let p = first.packed;
    let k = (p >> 32) & 0xf;
    let rf = (p >> 36) & 0xf;
    let rn = ((p >> 40) & 0xff) as usize;
    let via = match k {
        kind::URING_OPENAT | kind::URING_OPENAT2 => Via::IoUring,
        kind::HANDLE => Via::Handle,
        _ => Via::Syscall,
    };
    let mut d = Details {
        via: Some(via),
        flags: Some(first.flags),
        mode: (first.flags & CAN_CREATE != 0).then_some((p & 0xffff) as u32),
        resolve: matches!(k, kind::OPENAT2 | kind::URING_OPENAT2).then_some((p >> 16) & 0xffff),
        fault: (via == Via::Syscall && first.ret == -14 && raw.is_empty()).then_some(first.ptr),
        resolved: None,
    };
    if rf & walked::NO_NAME != 0 || first.ret == -14 || via == Via::Handle && first.ret < 0 {
        return d;
    }
    if first.ret < 0 && raw.first() == Some(&b'/') {
        d.resolved = Some(raw.to_vec());
        return d;
    }
    if rf & walked::ROOT == 0 || names.len() != rn {
        return d;
    }
    // Components, leaf first, each from its pieces (offsets 0, 32, ...).
    let mut comps: Vec<Vec<u8>> = Vec::new();
    for piece in names {
        if piece.off == 0 {
            comps.push(Vec::new());
        }
        match comps.last_mut() {
            Some(c) if c.len() == piece.off => c.extend_from_slice(&piece.bytes),
            _ => return d,
        }
    }
    let mut path = Vec::new();
    for c in comps.iter().rev() {
        path.push(b'/');
        path.extend_from_slice(c);
    }
    if path.is_empty() {
        path.push(b'/');
    }
    if rf & walked::DELETED != 0 {
        path.extend_from_slice(b" (deleted)");
    }
    if rf & walked::BASE != 0 {
        if path.last() != Some(&b'/') {
            path.push(b'/');
        }
        path.extend_from_slice(raw);
    }
    d.resolved = Some(path);
    d
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
    /// The `R` pieces of resolved paths, by open, until the open's `O` pieces are complete.
    names: HashMap<(u32, u64), Vec<NamePiece>>,
    /// The cgroup ids of opens (`G` lines, with `--cgroup`), by open.
    cgroups: HashMap<(u32, u64), u64>,
    /// The names of the cgroup ids.
    cgroup_names: crate::cgroup::Names,
}

impl JsonDecoder {
    /// Writes one open (entry and return lines, with trace-format's writers). `pieces` holds
    /// the path's pieces in order; a missing one ends the path there, marked as cut. `names`
    /// are the `R` pieces of its resolved path; `killed` the signal of a `K` line.
    fn write(
        first: &Piece,
        pieces: &[Option<Vec<u8>>],
        names: &[NamePiece],
        killed: Option<u32>,
        cgroup: Option<&[u8]>,
        out: &mut Vec<u8>,
    ) {
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
        let d = details(first, &path, names);
        trace_format::write_entry_line(
            out,
            &trace_format::EntryLine {
                uid: first.uid,
                pid: first.pid,
                tid,
                comm: Some(comm),
                path: &path,
                path_truncated: cut,
                ts: first.ts_entry,
                flags: d.flags,
                resolve: d.resolve,
                mode: d.mode,
                via: d.via,
                fault: d.fault,
                cgroup,
            },
        );
        trace_format::write_return_line(
            out,
            &trace_format::ReturnLine {
                uid: first.uid,
                pid: first.pid,
                tid,
                comm: None,
                ret: first.ret,
                ts: first.ts_exit,
                resolved: d.resolved.as_deref(),
                // A failure's directory joined with a cut name is cut too.
                resolved_truncated: cut && d.resolved.is_some() && first.ret < 0,
                killed,
            },
        );
    }

    /// The name of the cgroup of an open, when a `G` line gave it.
    fn cgroup_of(&mut self, key: (u32, u64)) -> Option<Vec<u8>> {
        let id = self.cgroups.remove(&key)?;
        Some(self.cgroup_names.name(id).to_vec())
    }

    /// Takes one piece; writes the open when it is complete.
    fn piece(&mut self, piece: Piece, out: &mut Vec<u8>) -> Result<(), String> {
        let key = (piece.tid, piece.ts_entry);
        if piece.n == 1 && !self.partial.contains_key(&key) {
            let chunk = Some(piece.chunk.clone());
            let killed = self.killed.remove(&key);
            let names = self.names.remove(&key).unwrap_or_default();
            let cgroup = self.cgroup_of(key);
            Self::write(&piece, &[chunk], &names, killed, cgroup.as_deref(), out);
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
            let names = self.names.remove(&key).unwrap_or_default();
            let cgroup = self.cgroup_of(key);
            Self::write(
                &done.first,
                &done.parts,
                &names,
                killed,
                cgroup.as_deref(),
                out,
            );
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
        if let Some(rest) = text.strip_prefix(b"W ") {
            return match parse_open_with_pieces(rest).and_then(|(p, lengths, words)| {
                let held = held_count(p.packed);
                if held > 0 {
                    let pieces = held_pieces(lengths, &words, held)?;
                    self.names
                        .entry((p.tid, p.ts_entry))
                        .or_default()
                        .extend(pieces);
                }
                self.piece(p, out)
            }) {
                Ok(()) => Decoded::Trace,
                Err(why) => Decoded::Malformed(why),
            };
        }
        if let Some(rest) = text.strip_prefix(b"C ") {
            return match parse_continuation(rest).and_then(|(key, k, chunk)| {
                let first = self
                    .partial
                    .get(&key)
                    .map(|p| p.first.clone())
                    .ok_or_else(|| "a path piece whose open's W event is missing".to_owned())?;
                if k >= first.n {
                    return Err(format!("piece {k} of {}", first.n));
                }
                self.piece(Piece { k, chunk, ..first }, out)
            }) {
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
        if let Some(rest) = text.strip_prefix(b"G ") {
            return match parse_cgroup(rest) {
                Some((key, id)) => {
                    self.cgroups.insert(key, id);
                    Decoded::Blank
                }
                None => {
                    Decoded::Malformed("a G line without a tid, a time and a cgroup id".to_owned())
                }
            };
        }
        if let Some(rest) = text.strip_prefix(b"R ") {
            return match parse_name_pieces(rest) {
                Ok((key, pieces)) => {
                    self.names.entry(key).or_default().extend(pieces);
                    Decoded::Trace
                }
                Err(why) => Decoded::Malformed(why),
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
            let key = (p.first.tid, p.first.ts_entry);
            let killed = self.killed.remove(&key);
            let names = self.names.remove(&key).unwrap_or_default();
            let cgroup = self.cgroup_of(key);
            Self::write(&p.first, &p.parts, &names, killed, cgroup.as_deref(), out);
        }
        self.killed.clear();
        self.cgroups.clear();
        self.names.clear();
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
            "O {tid} {tid} 1000 {ret} {ts} {} {c0:x} {c1:x} 8000 0 7ffc0 {k} {n} ",
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
    /// (Flags O_LARGEFILE, an open(2) without a resolved path.)
    fn canonical(tid: u32, ts: u64, comm: &[u8], path: &[u8], ret: i64, cut: bool) -> Vec<u8> {
        let mut o = Vec::new();
        trace_format::write_entry_line(
            &mut o,
            &trace_format::EntryLine {
                uid: 1000,
                pid: tid,
                tid: Some(tid),
                comm: Some(comm),
                path,
                path_truncated: cut,
                ts,
                flags: Some(0x8000),
                via: Some(trace_format::Via::Syscall),
                ..Default::default()
            },
        );
        // A failed absolute name is its own resolved path.
        let resolved = (ret < 0 && ret != -14 && path.first() == Some(&b'/')).then_some(path);
        trace_format::write_return_line(
            &mut o,
            &trace_format::ReturnLine {
                uid: 1000,
                pid: tid,
                tid: Some(tid),
                ret,
                ts: ts + 5,
                resolved,
                resolved_truncated: cut && resolved.is_some(),
                ..Default::default()
            },
        );
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
            "=> uid: 1000 pid: 7 tid: 7 flags: 0x8000 via: syscall comm: cat open: /etc/hostname 100\n\
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
        assert!(out.starts_with(
            b"=> uid: 1000 pid: 1 tid: 1 flags: 0x8000 via: syscall comm: 0123456789abcde open: /x 1\n"
        ));
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
        // 4300 bytes: the script reads 66 full pieces (4158 bytes): cut, marked.
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
            lines[1], "<= uid: 1000 pid: 7 tid: 7 resolved: \"/fifo\" killed: 9 ret: -512 105",
            "{text}"
        );
        assert_eq!(
            lines[3], "<= uid: 1000 pid: 7 tid: 7 resolved: \"/restarted\" ret: -512 205",
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

    /// The `R` event of the name piece `name[off..]` (up to 32 bytes) of a `len`-byte name.
    fn name_event(tid: u32, ts: u64, name: &[u8], off: usize) -> Vec<u8> {
        json(format!("R {tid} {ts} {}\n", piece_fields(name, off)).as_bytes())
    }

    /// The fields `LEN OFF W0 W1 W2 W3` of the piece of `name` at `off`.
    fn piece_fields(name: &[u8], off: usize) -> String {
        let mut w = [0u8; 32];
        let piece = &name[off..name.len().min(off + 32)];
        w[..piece.len()].copy_from_slice(piece);
        // Bytes past the name are whatever follows it in kernel memory.
        if piece.len() < 32 {
            w[piece.len()..].fill(0xa5);
        }
        let words: Vec<String> = w
            .chunks(8)
            .map(|c| format!("{:x}", u64::from_le_bytes(c.try_into().unwrap())))
            .collect();
        format!("{} {off} {}", name.len(), words.join(" "))
    }

    /// An `R` event of two pieces, as the walk prints them.
    fn name_pair_event(tid: u32, ts: u64, a: (&[u8], usize), b: (&[u8], usize)) -> Vec<u8> {
        let (a, b) = (piece_fields(a.0, a.1), piece_fields(b.0, b.1));
        json(format!("R {tid} {ts} {a} {b}\n").as_bytes())
    }

    /// The `O` event of a whole path with these details.
    #[allow(clippy::too_many_arguments)]
    fn detailed_event(ret: i64, flags: u64, packed: u64, ptr: u64, path: &[u8]) -> Vec<u8> {
        let (c0, c1) = comm_words(b"cat");
        let mut d =
            format!("O 7 7 0 {ret} 100 105 {c0:x} {c1:x} {flags:x} {packed:x} {ptr:x} 0 1 ")
                .into_bytes();
        d.extend_from_slice(path);
        d.push(b'\n');
        json(&d)
    }

    fn packed(mode: u64, resolve: u64, kind: u64, rf: u64, rn: u64) -> u64 {
        mode | resolve << 16 | kind << 32 | rf << 36 | rn << 40
    }

    fn return_line(out: &[u8]) -> String {
        String::from_utf8_lossy(out)
            .lines()
            .nth(1)
            .unwrap()
            .to_owned()
    }

    #[test]
    fn resolved_paths_are_joined_from_name_pieces_leaf_first() {
        use resolve::{kind, walked};
        let long = [b'x'; 70];
        // /dev/shm/<70 x>/created, leaf first; the 70-byte name in three pieces.
        let mut lines = vec![name_event(7, 100, b"created", 0)];
        for off in [0, 32, 64] {
            lines.push(name_event(7, 100, &long, off));
        }
        lines.push(name_event(7, 100, b"shm", 0));
        lines.push(name_event(7, 100, b"dev", 0));
        lines.push(detailed_event(
            3,
            0x241,
            packed(0o640, 0, kind::OPEN, walked::ROOT, 6),
            0x5000,
            b"../created",
        ));
        let (out, got, left) = decode(&lines);
        assert!(got.iter().all(|g| *g == Decoded::Trace), "{got:?}");
        assert_eq!(left, 0);
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(
            text.starts_with(
                "=> uid: 0 pid: 7 tid: 7 flags: 0x241 mode: 0640 via: syscall comm: cat open: ../created 100\n"
            ),
            "{text}"
        );
        assert_eq!(
            return_line(&out),
            format!(
                "<= uid: 0 pid: 7 tid: 7 resolved: \"/dev/shm/{}/created\" ret: 3 105",
                "x".repeat(70)
            )
        );
    }

    /// The word of two pieces' lengths and offsets and their eight words, as the return's
    /// walk prints them (`held_lengths`): piece `b` absent is zeros.
    fn held_fields(a: (&[u8], usize), b: Option<(&[u8], usize)>) -> String {
        let split = |f: String| -> (u64, u64, String) {
            let mut it = f.splitn(3, ' ');
            let len = it.next().unwrap().parse().unwrap();
            let off = it.next().unwrap().parse().unwrap();
            (len, off, it.next().unwrap().to_owned())
        };
        let (al, ao, aw) = split(piece_fields(a.0, a.1));
        let (bl, bo, bw) = b.map_or((0, 0, "0 0 0 0".to_owned()), |b| {
            split(piece_fields(b.0, b.1))
        });
        format!("{:x} {aw} {bw}", al | ao << 16 | bl << 32 | bo << 48)
    }

    /// The `W` event of an open of a path of `n` pieces (its first one `first`), with the
    /// walk's last pieces `held` (fields of [`held_fields`]).
    fn open_event(ts: u64, ret: i64, packed: u64, n: usize, held: &str, first: &[u8]) -> Vec<u8> {
        let (c0, c1) = comm_words(b"cat");
        let ids = 7u64 | 1000 << 32;
        let mut d = format!(
            "W 7 {ids:x} {ret} {ts} {} {c0:x} {c1:x} 0 {packed:x} 5000 {n} {held} ",
            ts + 5
        )
        .into_bytes();
        d.extend_from_slice(first);
        d.push(b'\n');
        json(&d)
    }

    /// The return's events: pairs of name pieces in `R` events of one lengths word, the last
    /// one or two in the open's `W` event, a long path's pieces after the first in `C` events.
    #[test]
    fn resolved_paths_are_joined_from_pairs_and_the_pieces_the_open_event_holds() {
        use resolve::{kind, walked};
        let pair = |tid: u32, ts: u64, a: (&[u8], usize), b: (&[u8], usize)| {
            json(format!("R {tid} {ts} {}\n", held_fields(a, Some(b))).as_bytes())
        };
        let long = [b'z'; 40];
        let raw: Vec<u8> = [&b"/a/"[..], &[b'p'; 100][..]].concat();
        // Five pieces: created, zzz..(0), zzz..(32), dir, home; one R pair, then the W of an
        // odd count holds the last one (home, its stale second half ignored), then the raw
        // path's second piece in a C event.
        let lines = vec![
            pair(7, 100, (b"created", 0), (&long, 0)),
            pair(7, 100, (&long, 32), (b"dir", 0)),
            open_event(
                100,
                3,
                packed(0, 0, kind::OPENAT, walked::ROOT, 5),
                2,
                &held_fields((b"home", 0), Some((b"stale", 0))),
                &raw[..63],
            ),
            json(format!("C 7 100 1 {}\n", String::from_utf8_lossy(&raw[63..])).as_bytes()),
            // Two pieces: both in the W event, no R event.
            open_event(
                200,
                4,
                packed(0, 0, kind::OPEN, walked::ROOT, 2),
                1,
                &held_fields((b"hostname", 0), Some((b"etc", 0))),
                b"/etc/hostname",
            ),
            // No walk (an absolute name that failed): nothing held.
            open_event(
                300,
                -2,
                packed(0, 0, kind::OPEN, 0, 0),
                1,
                &held_fields((b"junk", 0), Some((b"junk", 0))),
                b"/nope",
            ),
        ];
        let (out, got, left) = decode(&lines);
        assert!(got.iter().all(|g| *g == Decoded::Trace), "{got:?}");
        assert_eq!(left, 0);
        let text = String::from_utf8_lossy(&out).into_owned();
        let returns: Vec<&str> = text.lines().filter(|l| l.starts_with("<=")).collect();
        assert_eq!(
            returns,
            [
                format!(
                    "<= uid: 1000 pid: 7 tid: 7 resolved: \"/home/dir/{}/created\" ret: 3 105",
                    "z".repeat(40)
                ),
                "<= uid: 1000 pid: 7 tid: 7 resolved: \"/etc/hostname\" ret: 4 205".to_owned(),
                "<= uid: 1000 pid: 7 tid: 7 resolved: \"/nope\" ret: -2 305".to_owned(),
            ],
            "{text}"
        );
        assert!(
            text.contains(&format!("open: {} 100\n", String::from_utf8_lossy(&raw))),
            "the raw path from its W and C pieces: {text}"
        );
        // A C event whose W event is missing is reported, never written.
        let (out, got, _) = decode(&[json(b"C 9 900 1 tail\n")]);
        assert!(out.is_empty());
        assert!(
            matches!(&got[0], Decoded::Malformed(why) if why.contains("W event is missing")),
            "{got:?}"
        );
    }

    #[test]
    fn resolved_paths_are_joined_from_events_of_two_pieces() {
        use resolve::{kind, walked};
        let long = [b'y'; 40];
        // /usr/<40 y>/lib/libc.so.6, leaf first, two pieces an event, the last one alone.
        let lines = vec![
            name_pair_event(7, 100, (b"libc.so.6", 0), (b"lib", 0)),
            name_pair_event(7, 100, (&long, 0), (&long, 32)),
            name_event(7, 100, b"usr", 0),
            detailed_event(
                3,
                0,
                packed(0, 0, kind::OPEN, walked::ROOT, 5),
                0x5000,
                b"libc.so.6",
            ),
        ];
        let (out, got, left) = decode(&lines);
        assert!(got.iter().all(|g| *g == Decoded::Trace), "{got:?}");
        assert_eq!(left, 0);
        assert_eq!(
            return_line(&out),
            format!(
                "<= uid: 0 pid: 7 tid: 7 resolved: \"/usr/{}/lib/libc.so.6\" ret: 3 105",
                "y".repeat(40)
            )
        );
        // An event with a piece and a half is malformed.
        let (_, got, _) = decode(&[json(b"R 7 100 3 0 7273 0 0 0 3 0\n")]);
        assert!(matches!(got[0], Decoded::Malformed(_)), "{got:?}");
    }

    #[test]
    fn failures_deleted_files_faults_and_missing_pieces() {
        use resolve::{kind, walked};
        // A failure through a dirfd: the directory's path joined with the raw name.
        let (out, _, _) = decode(&[
            name_event(7, 100, b"b", 0),
            name_event(7, 100, b"a", 0),
            detailed_event(
                -2,
                0,
                packed(0, 0x8, kind::OPENAT2, walked::BASE | walked::ROOT, 2),
                1,
                b"../x",
            ),
        ]);
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(
            text.contains(" flags: 0x0 resolve: 0x8 via: syscall "),
            "{text}"
        );
        assert!(text.contains("resolved: \"/a/b/../x\" ret: -2"), "{text}");
        // O_TMPFILE: unlinked, " (deleted)".
        let (out, _, _) = decode(&[
            name_event(7, 100, b"#12", 0),
            detailed_event(
                4,
                0x410002,
                packed(
                    0o600,
                    0,
                    kind::URING_OPENAT,
                    walked::DELETED | walked::ROOT,
                    1,
                ),
                0,
                b".",
            ),
        ]);
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(text.contains(" mode: 0600 via: io_uring "), "{text}");
        assert!(
            text.contains("resolved: \"/#12 (deleted)\" ret: 4"),
            "{text}"
        );
        // An unreadable pointer: fault, no resolved path; an empty name is not a fault.
        let (out, _, _) = decode(&[detailed_event(
            -14,
            0,
            packed(0, 0, kind::OPENAT, 0, 0),
            1,
            b"",
        )]);
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(
            text.contains(" fault: 0x1 ") && !text.contains("resolved"),
            "{text}"
        );
        let (out, _, _) = decode(&[detailed_event(
            -2,
            0,
            packed(0, 0, kind::OPENAT, 0, 0),
            1,
            b"",
        )]);
        assert!(!String::from_utf8_lossy(&out).contains("fault"));
        // A piece lost (2 announced, 1 came), or a walk that never reached the root: no
        // resolved path, never a guess.
        for (rf, rn) in [(walked::ROOT, 2), (0, 1)] {
            let (out, _, _) = decode(&[
                name_event(7, 100, b"etc", 0),
                detailed_event(3, 0, packed(0, 0, kind::OPEN, rf, rn), 1, b"/etc"),
            ]);
            assert!(
                !String::from_utf8_lossy(&out).contains("resolved"),
                "{rf} {rn}"
            );
        }
        // A file the kernel names itself (a pipe): none either; a handle: `via: handle`.
        let (out, _, _) = decode(&[detailed_event(
            5,
            0,
            packed(0, 0, kind::HANDLE, walked::NO_NAME, 0),
            0,
            b"",
        )]);
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(
            text.contains(" via: handle ") && !text.contains("resolved"),
            "{text}"
        );
        assert!(!text.contains("fault"), "{text}");
    }
}
