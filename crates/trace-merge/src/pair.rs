//! The pairing engine: entry + return of the same thread -> one [`OpenEvent`].
//!
//! Pairing is per thread (the `tid`, else the `pid`), because a multi-threaded process has
//! several opens in flight at once; the seed's per-pid dictionary mixes them up.
//!
//! Tracers with per-CPU buffers deliver lines out of timestamp order, so a return can arrive
//! before its entry. Pairing therefore goes by timestamps: a return takes the latest pending
//! entry of its thread whose timestamp is not after its own. A return with no such entry is
//! held for a *reorder window* of trace time; if its entry shows up within the window the two
//! are paired then, otherwise the return is counted as having no entry. Likewise an entry
//! followed by a newer entry of the same thread is counted unfinished only once the window has
//! passed after the newer one, since its return may still be on its way.
//!
//! Every open is emitted as soon as both halves are seen, so output stays live. Memory is
//! bounded by `max_pending` entries, and as many held returns: past it the oldest entry is
//! evicted (emitted as unfinished and counted), or the oldest held return is counted as
//! having no entry. Storage is a slab of slots whose text buffers
//! are reused, and the thread map uses a fast hasher (FxHash): no allocation per event once
//! warmed up.
//!
//! The version-2 details ride along: the entry's (flags, resolve, mode, via, fault, cgroup)
//! in its slot (numbers inline, the cgroup after the path in the slot's buffer), the return's
//! (`resolved:`, `killed:`) taken when the two meet. A line without details costs one check.

use crate::event::{Details, OpenEvent, Outcome, Via};
use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::collections::VecDeque;
use trace_format::{Entry, OpenDetail, Return, ReturnDetail, TextForm};

const NIL: u32 = u32::MAX;

/// Idle thread keys kept before they are cleared out (see `Pairer::threads`). Few, so that
/// the map stays in the L1 cache next to the streaming input and output (4096 made every
/// lookup a cache miss on the bench corpus, whose processes come and go).
const IDLE_KEYS: usize = 256;

/// Pairing limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairConfig {
    /// Most entries kept at once (and, apart, most held returns); more evicts the oldest.
    pub max_pending: usize,
    /// Reorder window in trace time (ns); 0 trusts the input to be in order.
    pub window_ns: u64,
}

/// What the engine counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PairStats {
    /// Opens paired and emitted with their return.
    pub paired: u64,
    /// Returns whose entry never came (not printed).
    pub returns_without_entry: u64,
    /// Entries never completed: replaced by a newer entry of the thread, or still open at the
    /// end of the input.
    pub unfinished: u64,
    /// Entries dropped because more than `max_pending` were in flight.
    pub evicted: u64,
    /// Most entries pending at once.
    pub peak_pending: u64,
}

/// The numeric details of an entry line; its cgroup is in the slot's buffer.
#[derive(Debug, Clone, Copy)]
struct EntryDetail {
    flags: Option<u64>,
    resolve: Option<u64>,
    mode: Option<u32>,
    via: Option<Via>,
    fault: Option<u64>,
    has_cgroup: bool,
}

impl EntryDetail {
    /// The details of an entry line, or `None` when it has none (every version-1 line): one
    /// branch on the hot path, the copy out of line.
    #[inline]
    fn of(d: &OpenDetail<'_>) -> Option<EntryDetail> {
        let any = d.flags.is_some()
            | d.resolve.is_some()
            | d.mode.is_some()
            | d.via.is_some()
            | d.fault.is_some()
            | d.cgroup.is_some();
        if any {
            Some(EntryDetail::copy(d))
        } else {
            None
        }
    }

    #[cold]
    #[inline(never)]
    fn copy(d: &OpenDetail<'_>) -> EntryDetail {
        EntryDetail {
            flags: d.flags,
            resolve: d.resolve,
            mode: d.mode,
            via: d.via,
            fault: d.fault,
            has_cgroup: d.cgroup.is_some(),
        }
    }
}

/// What a return line says beyond its value, owned, for a return held until its entry comes.
#[derive(Debug)]
struct HeldDetail {
    killed: Option<u32>,
    resolved: Option<Vec<u8>>,
    resolved_truncated: bool,
}

/// A return's details as the event needs them: the resolved path (decoded) and its cut mark.
type Resolved<'a> = Option<(&'a [u8], bool)>;

/// The event's details from an entry's (`entry`, with its cgroup) and a return's (not both
/// absent: the caller writes `None` itself, so an old line costs no copy).
#[cold]
#[inline(never)]
fn join_details<'a>(
    entry: Option<EntryDetail>,
    cgroup: &'a [u8],
    resolved: Resolved<'a>,
) -> Option<Details<'a>> {
    if entry.is_none() && resolved.is_none() {
        return None;
    }
    let e = entry.unwrap_or(EntryDetail {
        flags: None,
        resolve: None,
        mode: None,
        via: None,
        fault: None,
        has_cgroup: false,
    });
    Some(Details {
        flags: e.flags,
        resolve: e.resolve,
        mode: e.mode,
        via: e.via,
        fault: e.fault,
        cgroup: e.has_cgroup.then_some(cgroup),
        resolved: resolved.map(|(r, _)| r),
        resolved_truncated: resolved.is_some_and(|(_, cut)| cut),
    })
}

/// The outcome of a return line.
#[inline]
fn outcome_of(ret: i64, end_ns: u64, killed: Option<u32>) -> Outcome {
    match killed {
        None => Outcome::Returned { ret, end_ns },
        Some(signal) => Outcome::Killed { signal, end_ns },
    }
}

/// True when a return line has details.
#[inline]
fn has_return_detail(d: &ReturnDetail<'_>) -> bool {
    d.resolved.is_some() || d.killed.is_some()
}

/// A pending entry. Its text lives in `buf`: the comm, then the path, then the cgroup.
#[derive(Debug)]
struct Slot {
    key: u32,
    uid: u32,
    pid: u32,
    tid: Option<u32>,
    ts: u64,
    /// Timestamp of a newer entry of the same thread (0: none yet).
    replaced_at: u64,
    has_comm: bool,
    path_truncated: bool,
    comm_len: usize,
    path_end: usize,
    detail: Option<EntryDetail>,
    buf: Vec<u8>,
    /// Next older entry of the same thread.
    thread_next: u32,
    /// Arrival-order list, for eviction.
    prev: u32,
    next: u32,
}

/// A return waiting for its late entry.
#[derive(Debug)]
struct Held {
    key: u32,
    ret: i64,
    ts: u64,
    live: bool,
    /// Its details, when it has any (boxed: held returns are rare, details rarer).
    detail: Option<Box<HeldDetail>>,
}

/// The engine. Feed it entries and returns; it calls `emit` with each finished open.
#[derive(Debug)]
pub struct Pairer {
    cfg: PairConfig,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Thread key -> newest pending entry (a list through `Slot::thread_next`, newest first),
    /// or `NIL`: a thread whose list emptied keeps its key, so that its next entry (usually
    /// soon: a thread opens file after file) updates the map instead of inserting again what
    /// its return removed.
    threads: FxHashMap<u32, u32>,
    /// Keys of `threads` whose list is empty; past [`IDLE_KEYS`] and half the map, they are
    /// removed in one pass (memory stays bounded by the threads in flight).
    idle_threads: usize,
    oldest: u32,
    newest: u32,
    pending: usize,
    held: VecDeque<Held>,
    held_per_thread: FxHashMap<u32, u32>,
    held_live: usize,
    max_ts: u64,
    scratch: Vec<u8>,
    stats: PairStats,
}

impl Pairer {
    /// An empty engine.
    pub fn new(cfg: PairConfig) -> Pairer {
        Pairer {
            cfg: PairConfig {
                max_pending: cfg.max_pending.max(1),
                ..cfg
            },
            slots: Vec::new(),
            free: Vec::new(),
            threads: FxHashMap::default(),
            idle_threads: 0,
            oldest: NIL,
            newest: NIL,
            pending: 0,
            held: VecDeque::new(),
            held_per_thread: FxHashMap::default(),
            held_live: 0,
            max_ts: 0,
            scratch: Vec::new(),
            stats: PairStats::default(),
        }
    }

    /// The counts so far.
    pub fn stats(&self) -> PairStats {
        self.stats
    }

    /// Entries waiting for their return.
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// An entry line. Always inlined (as [`Pairer::ret`]): in the reader loop the line's
    /// fields are then used where they are, and a version-1 line's absent details fold away.
    #[inline(always)]
    pub fn entry<E, F>(&mut self, e: &Entry<'_>, emit: &mut F) -> Result<(), E>
    where
        F: FnMut(&OpenEvent<'_>) -> Result<(), E>,
    {
        self.advance(e.ts);
        let key = e.task.thread_key();
        if self.held_live > 0 && self.held_per_thread.contains_key(&key) {
            if let Some((ret, end_ns, held)) = self.take_held(key, e.ts) {
                self.scratch.clear();
                let mut comm_len = 0;
                if let Some(c) = e.task.comm {
                    c.decode_into(&mut self.scratch);
                    comm_len = self.scratch.len();
                }
                e.path.decode_into(&mut self.scratch);
                let path_end = self.scratch.len();
                if let Some(c) = e.detail.cgroup {
                    c.decode_into(&mut self.scratch);
                }
                let killed = held.as_ref().and_then(|h| h.killed);
                let resolved = held
                    .as_ref()
                    .and_then(|h| Some((h.resolved.as_deref()?, h.resolved_truncated)));
                let ev = OpenEvent {
                    uid: e.task.uid,
                    pid: e.task.pid,
                    tid: e.task.tid,
                    comm: e.task.comm.map(|_| &self.scratch[..comm_len]),
                    path: &self.scratch[comm_len..path_end],
                    path_truncated: e.path.is_truncated(),
                    start_ns: e.ts,
                    outcome: outcome_of(ret, end_ns, killed),
                    detail: match (EntryDetail::of(&e.detail), resolved) {
                        (None, None) => None,
                        (entry, resolved) => {
                            join_details(entry, &self.scratch[path_end..], resolved)
                        }
                    },
                };
                self.stats.paired += 1;
                return emit(&ev);
            }
        }
        let idx = self.alloc();
        {
            let s = &mut self.slots[idx as usize];
            s.key = key;
            s.uid = e.task.uid;
            s.pid = e.task.pid;
            s.tid = e.task.tid;
            s.ts = e.ts;
            s.replaced_at = 0;
            s.path_truncated = e.path.is_truncated();
            s.buf.clear();
            s.has_comm = e.task.comm.is_some();
            if let Some(c) = e.task.comm {
                c.decode_into(&mut s.buf);
            }
            s.comm_len = s.buf.len();
            match e.path.form() {
                // The usual raw path: one copy, no call.
                TextForm::Raw => s.buf.extend_from_slice(e.path.as_written()),
                _ => e.path.decode_into(&mut s.buf),
            }
            s.path_end = s.buf.len();
            s.detail = EntryDetail::of(&e.detail);
            if s.detail.is_some() {
                if let Some(c) = e.detail.cgroup {
                    c.decode_into(&mut s.buf);
                }
            }
        }
        let shared = self.thread_insert(key, idx);
        self.lru_push(idx);
        self.pending += 1;
        self.stats.peak_pending = self.stats.peak_pending.max(self.pending as u64);
        if shared {
            self.prune_thread(key, emit)?;
        }
        if self.pending > self.cfg.max_pending {
            self.enforce_bound(emit)
        } else {
            Ok(()) // (held returns did not change)
        }
    }

    /// A return line (always inlined, see [`Pairer::entry`]).
    #[inline(always)]
    pub fn ret<E, F>(&mut self, r: &Return<'_>, emit: &mut F) -> Result<(), E>
    where
        F: FnMut(&OpenEvent<'_>) -> Result<(), E>,
    {
        self.advance(r.ts);
        let key = r.task.thread_key();
        // The entry it returns from, unlinked from its thread's list with one map lookup.
        let found = match self.threads.entry(key) {
            MapEntry::Vacant(_) => None,
            MapEntry::Occupied(mut head) => {
                let mut prev = NIL;
                let mut cur = *head.get();
                while cur != NIL && self.slots[cur as usize].ts > r.ts {
                    prev = cur;
                    cur = self.slots[cur as usize].thread_next;
                }
                (cur != NIL).then(|| {
                    let next = self.slots[cur as usize].thread_next;
                    if prev != NIL {
                        self.slots[prev as usize].thread_next = next;
                    } else {
                        *head.get_mut() = next;
                    }
                    (cur, prev != NIL || next != NIL)
                })
            }
        };
        if let Some((_, false)) = found {
            self.thread_idle();
        }
        let Some((cur, others)) = found else {
            // No entry yet: hold the return in case its entry is late.
            let detail = has_return_detail(&r.detail).then(|| {
                Box::new(HeldDetail {
                    killed: r.detail.killed,
                    resolved: r.detail.resolved.map(|t| t.to_bytes().into_owned()),
                    resolved_truncated: r.detail.resolved.is_some_and(|t| t.is_truncated()),
                })
            });
            self.held.push_back(Held {
                key,
                ret: r.ret,
                ts: r.ts,
                live: true,
                detail,
            });
            *self.held_per_thread.entry(key).or_insert(0) += 1;
            self.held_live += 1;
            self.expire_held();
            return self.enforce_bound(emit);
        };
        self.lru_unlink(cur);
        self.pending -= 1;
        self.stats.paired += 1;
        let outcome = outcome_of(r.ret, r.ts, r.detail.killed);
        let result = match r.detail.resolved {
            None => emit(&self.slots[cur as usize].event(outcome, None)),
            Some(text) => {
                self.scratch.clear();
                text.decode_into(&mut self.scratch);
                let resolved = Some((&self.scratch[..], text.is_truncated()));
                emit(&self.slots[cur as usize].event(outcome, resolved))
            }
        };
        self.release(cur);
        result?;
        if others {
            self.prune_thread(key, emit)?;
        }
        Ok(())
    }

    /// End of input: held returns are counted, pending entries emitted as unfinished.
    pub fn finish<E, F>(&mut self, emit: &mut F) -> Result<(), E>
    where
        F: FnMut(&OpenEvent<'_>) -> Result<(), E>,
    {
        self.stats.returns_without_entry += self.held_live as u64;
        self.held.clear();
        self.held_per_thread.clear();
        self.held_live = 0;
        while self.oldest != NIL {
            self.drop_entry(self.oldest, false, emit)?;
        }
        Ok(())
    }

    /// Moves trace time forward and expires held returns older than the window.
    fn advance(&mut self, ts: u64) {
        self.max_ts = self.max_ts.max(ts);
        if self.held_live > 0 {
            self.expire_held();
        } else if !self.held.is_empty() {
            // (Checked first: a held return owns its details, so clearing walks the deque.)
            self.held.clear();
        }
    }

    fn expire_held(&mut self) {
        while let Some(h) = self.held.front() {
            if h.live && h.ts.saturating_add(self.cfg.window_ns) > self.max_ts {
                break;
            }
            let (live, key) = (h.live, h.key);
            self.held.pop_front();
            if live {
                self.forget_held(key);
                self.stats.returns_without_entry += 1;
            }
        }
    }

    fn forget_held(&mut self, key: u32) {
        self.held_live -= 1;
        if let Some(n) = self.held_per_thread.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.held_per_thread.remove(&key);
            }
        }
    }

    /// The earliest held return of `key` at or after `ts`, removed: its value, time and details.
    fn take_held(&mut self, key: u32, ts: u64) -> Option<(i64, u64, Option<Box<HeldDetail>>)> {
        let i = self
            .held
            .iter()
            .enumerate()
            .filter(|(_, h)| h.live && h.key == key && h.ts >= ts)
            .min_by_key(|(_, h)| h.ts)
            .map(|(i, _)| i)?;
        let h = &mut self.held[i];
        h.live = false;
        let taken = (h.ret, h.ts, h.detail.take());
        self.forget_held(key);
        Some(taken)
    }

    /// Older entries of `key` that a newer one replaced, once the window has passed, are
    /// unfinished.
    fn prune_thread<E, F>(&mut self, key: u32, emit: &mut F) -> Result<(), E>
    where
        F: FnMut(&OpenEvent<'_>) -> Result<(), E>,
    {
        let mut cur = self.threads.get(&key).copied().unwrap_or(NIL);
        while cur != NIL {
            let s = &self.slots[cur as usize];
            let next = s.thread_next;
            if s.replaced_at != 0 && s.replaced_at.saturating_add(self.cfg.window_ns) <= self.max_ts
            {
                self.drop_entry(cur, false, emit)?;
            }
            cur = next;
        }
        Ok(())
    }

    fn enforce_bound<E, F>(&mut self, emit: &mut F) -> Result<(), E>
    where
        F: FnMut(&OpenEvent<'_>) -> Result<(), E>,
    {
        // Entries and held returns are bounded apart: a burst of returns whose entries were
        // evicted must not push out the live entries still waiting for theirs.
        while self.pending > self.cfg.max_pending && self.oldest != NIL {
            self.drop_entry(self.oldest, true, emit)?;
        }
        while self.held_live > self.cfg.max_pending {
            let Some(h) = self.held.pop_front() else {
                break;
            };
            if h.live {
                self.forget_held(h.key);
                self.stats.returns_without_entry += 1;
            }
        }
        Ok(())
    }

    /// Removes an entry that will never be paired and emits it as unfinished.
    fn drop_entry<E, F>(&mut self, idx: u32, evicted: bool, emit: &mut F) -> Result<(), E>
    where
        F: FnMut(&OpenEvent<'_>) -> Result<(), E>,
    {
        let key = self.slots[idx as usize].key;
        let mut prev = NIL;
        let mut cur = self.threads.get(&key).copied().unwrap_or(NIL);
        while cur != idx {
            prev = cur;
            cur = self.slots[cur as usize].thread_next;
        }
        self.thread_unlink(key, prev, idx);
        self.lru_unlink(idx);
        self.pending -= 1;
        if evicted {
            self.stats.evicted += 1;
        } else {
            self.stats.unfinished += 1;
        }
        let result = emit(&self.slots[idx as usize].event(Outcome::Unfinished, None));
        self.release(idx);
        result
    }

    fn alloc(&mut self) -> u32 {
        if let Some(i) = self.free.pop() {
            return i;
        }
        self.slots.push(Slot {
            key: 0,
            uid: 0,
            pid: 0,
            tid: None,
            ts: 0,
            replaced_at: 0,
            has_comm: false,
            path_truncated: false,
            comm_len: 0,
            path_end: 0,
            detail: None,
            buf: Vec::new(),
            thread_next: NIL,
            prev: NIL,
            next: NIL,
        });
        (self.slots.len() - 1) as u32
    }

    fn release(&mut self, idx: u32) {
        let s = &mut self.slots[idx as usize];
        if s.buf.capacity() > 64 * 1024 {
            s.buf = Vec::new(); // do not keep a huge path's buffer around
        }
        self.free.push(idx);
    }

    /// Inserts into the thread's list, kept newest first, and marks replaced entries.
    /// Returns true when the thread has other pending entries.
    fn thread_insert(&mut self, key: u32, idx: u32) -> bool {
        let ts = self.slots[idx as usize].ts;
        let head = match self.threads.entry(key) {
            MapEntry::Occupied(o) => {
                if *o.get() == NIL {
                    self.idle_threads -= 1;
                }
                o.into_mut()
            }
            MapEntry::Vacant(v) => v.insert(NIL),
        };
        let mut prev = NIL;
        let mut cur = *head;
        while cur != NIL && self.slots[cur as usize].ts > ts {
            prev = cur;
            cur = self.slots[cur as usize].thread_next;
        }
        // A newer entry (prev) replaces this one; this one replaces the older ones.
        if prev != NIL {
            self.slots[idx as usize].replaced_at = self.slots[prev as usize].ts;
        }
        self.slots[idx as usize].thread_next = cur;
        if prev == NIL {
            *head = idx;
        } else {
            self.slots[prev as usize].thread_next = idx;
        }
        let shared = prev != NIL || cur != NIL;
        let mut older = cur;
        while older != NIL {
            let s = &mut self.slots[older as usize];
            if s.replaced_at == 0 || s.replaced_at > ts {
                s.replaced_at = ts.max(1);
            }
            older = s.thread_next;
        }
        shared
    }

    fn thread_unlink(&mut self, key: u32, prev: u32, idx: u32) {
        let next = self.slots[idx as usize].thread_next;
        if prev == NIL {
            self.threads.insert(key, next);
            if next == NIL {
                self.thread_idle();
            }
        } else {
            self.slots[prev as usize].thread_next = next;
        }
    }

    /// A thread's list has just emptied (its key stays, see `threads`).
    fn thread_idle(&mut self) {
        self.idle_threads += 1;
        if self.idle_threads > IDLE_KEYS && self.idle_threads > self.threads.len() / 2 {
            self.threads.retain(|_, head| *head != NIL);
            self.idle_threads = 0;
        }
    }

    fn lru_push(&mut self, idx: u32) {
        self.slots[idx as usize].prev = self.newest;
        self.slots[idx as usize].next = NIL;
        if self.newest != NIL {
            self.slots[self.newest as usize].next = idx;
        } else {
            self.oldest = idx;
        }
        self.newest = idx;
    }

    fn lru_unlink(&mut self, idx: u32) {
        let (prev, next) = {
            let s = &self.slots[idx as usize];
            (s.prev, s.next)
        };
        if prev != NIL {
            self.slots[prev as usize].next = next;
        } else {
            self.oldest = next;
        }
        if next != NIL {
            self.slots[next as usize].prev = prev;
        } else {
            self.newest = prev;
        }
    }
}

impl Slot {
    /// The open, ended by `outcome`, with the return's resolved path if any.
    #[inline]
    fn event<'a>(&'a self, outcome: Outcome, resolved: Resolved<'a>) -> OpenEvent<'a> {
        OpenEvent {
            uid: self.uid,
            pid: self.pid,
            tid: self.tid,
            comm: self.has_comm.then(|| &self.buf[..self.comm_len]),
            path: &self.buf[self.comm_len..self.path_end],
            path_truncated: self.path_truncated,
            start_ns: self.ts,
            outcome,
            detail: if self.detail.is_none() && resolved.is_none() {
                None
            } else {
                join_details(self.detail, &self.buf[self.path_end..], resolved)
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_format::{parse_line, Line};

    /// Threads whose opens all returned keep their key for a while, not for ever: a trace of
    /// many short-lived threads does not grow the map without bound.
    #[test]
    fn idle_thread_keys_are_bounded() {
        let mut p = Pairer::new(PairConfig {
            max_pending: 1000,
            window_ns: 0,
        });
        let mut paired = 0;
        let mut emit = |_: &OpenEvent<'_>| -> Result<(), ()> {
            paired += 1;
            Ok(())
        };
        for tid in 0..100_000u64 {
            let entry = format!("=> uid: 0 pid: {tid} open: /p {}", 2 * tid + 1);
            let ret = format!("<= uid: 0 pid: {tid} ret: 3 {}", 2 * tid + 2);
            for l in [entry, ret] {
                match parse_line(l.as_bytes()).unwrap() {
                    Line::Entry(e) => p.entry(&e, &mut emit).unwrap(),
                    Line::Return(r) => p.ret(&r, &mut emit).unwrap(),
                    _ => unreachable!(),
                }
            }
            assert!(p.threads.len() <= 2 * IDLE_KEYS + 2, "{}", p.threads.len());
        }
        assert_eq!(paired, 100_000);
        assert_eq!(p.idle_threads, p.threads.len());
    }

    /// Runs lines through a pairer; returns "path ret|U" strings and the stats.
    fn run(window_ns: u64, max_pending: usize, lines: &[&str]) -> (Vec<String>, PairStats) {
        let mut p = Pairer::new(PairConfig {
            max_pending,
            window_ns,
        });
        let mut out = Vec::new();
        let mut emit = |ev: &OpenEvent<'_>| -> Result<(), ()> {
            let end = match ev.outcome {
                Outcome::Returned { ret, end_ns } => format!("{ret}@{end_ns}"),
                Outcome::Killed { signal, end_ns } => format!("K{signal}@{end_ns}"),
                Outcome::Unfinished => "U".to_owned(),
            };
            out.push(format!("{} {}", String::from_utf8_lossy(ev.path), end));
            Ok(())
        };
        for l in lines {
            match parse_line(l.as_bytes()).unwrap() {
                Line::Entry(e) => p.entry(&e, &mut emit).unwrap(),
                Line::Return(r) => p.ret(&r, &mut emit).unwrap(),
                _ => {}
            }
        }
        p.finish(&mut emit).unwrap();
        assert_eq!(p.pending(), 0);
        (out, p.stats())
    }

    #[test]
    fn per_thread_not_per_pid() {
        let (out, st) = run(
            0,
            100,
            &[
                "=> uid: 0 pid: 10 tid: 11 open: /a 100",
                "=> uid: 0 pid: 10 tid: 12 open: /b 110",
                "<= uid: 0 pid: 10 tid: 11 ret: 3 120",
                "<= uid: 0 pid: 10 tid: 12 ret: -2 130",
            ],
        );
        assert_eq!(out, ["/a 3@120", "/b -2@130"]);
        assert_eq!(st.paired, 2);
        assert_eq!(st.unfinished, 0);
    }

    #[test]
    fn replaced_entry_is_unfinished_and_orphan_counted() {
        let (out, st) = run(
            0,
            100,
            &[
                "<= uid: 0 pid: 1 ret: 5 50",
                "=> uid: 0 pid: 1 open: /lost 100",
                "=> uid: 0 pid: 1 open: /b 200",
                "<= uid: 0 pid: 1 ret: 4 210",
                "=> uid: 0 pid: 2 open: /never 300",
            ],
        );
        assert_eq!(out, ["/lost U", "/b 4@210", "/never U"]);
        assert_eq!(
            (st.returns_without_entry, st.unfinished, st.paired),
            (1, 2, 1)
        );
    }

    #[test]
    fn return_before_entry_pairs_within_window() {
        let (out, st) = run(
            1_000,
            100,
            &[
                "<= uid: 0 pid: 7 tid: 8 ret: 3 150",
                "=> uid: 0 pid: 7 tid: 9 open: /other 140",
                "=> uid: 0 pid: 7 tid: 8 open: /late 100",
                "<= uid: 0 pid: 7 tid: 9 ret: 4 160",
            ],
        );
        assert_eq!(out, ["/late 3@150", "/other 4@160"]);
        assert_eq!(st.returns_without_entry, 0);
    }

    #[test]
    fn out_of_order_entries_of_one_thread() {
        // Thread 8 opened /one (100..150) and /two (200..250); lines arrive shuffled.
        let (out, st) = run(
            1_000,
            100,
            &[
                "=> uid: 0 pid: 8 open: /two 200",
                "=> uid: 0 pid: 8 open: /one 100",
                "<= uid: 0 pid: 8 ret: 6 250",
                "<= uid: 0 pid: 8 ret: 5 150",
            ],
        );
        assert_eq!(out, ["/two 6@250", "/one 5@150"]);
        assert_eq!((st.unfinished, st.returns_without_entry), (0, 0));
    }

    #[test]
    fn orphan_expires_after_window() {
        let (out, st) = run(
            100,
            100,
            &[
                "<= uid: 0 pid: 8 ret: 3 1000",
                "=> uid: 0 pid: 9 open: /x 2000",
                "=> uid: 0 pid: 8 open: /late 900",
                "<= uid: 0 pid: 8 ret: 1 2100",
                "<= uid: 0 pid: 9 ret: 2 2100",
            ],
        );
        // The held return expired when time reached 2000, so /late pairs with the next one.
        assert_eq!(out, ["/late 1@2100", "/x 2@2100"]);
        assert_eq!(st.returns_without_entry, 1);
    }

    #[test]
    fn eviction_is_bounded_and_counted() {
        let mut lines = Vec::new();
        for pid in 0..10 {
            lines.push(format!("=> uid: 0 pid: {pid} open: /p{pid} {}", 100 + pid));
        }
        lines.push("<= uid: 0 pid: 9 ret: 3 500".to_owned());
        lines.push("<= uid: 0 pid: 0 ret: 3 501".to_owned());
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let (out, st) = run(0, 4, &refs);
        assert_eq!(st.evicted, 6);
        assert_eq!(st.peak_pending, 5);
        assert_eq!(
            &out[..6],
            ["/p0 U", "/p1 U", "/p2 U", "/p3 U", "/p4 U", "/p5 U"]
        );
        assert_eq!(out[6], "/p9 3@500");
        assert_eq!(st.returns_without_entry, 1, "pid 0's entry was evicted");
        assert_eq!(st.unfinished, 3);
    }

    /// Runs lines through a pairer; returns "path|resolved|cgroup|flags outcome" strings.
    fn details(window_ns: u64, lines: &[&[u8]]) -> Vec<String> {
        let mut p = Pairer::new(PairConfig {
            max_pending: 10,
            window_ns,
        });
        let mut out = Vec::new();
        let mut emit = |ev: &OpenEvent<'_>| -> Result<(), ()> {
            let text = |b: Option<&[u8]>| {
                b.map_or("-".into(), |b| String::from_utf8_lossy(b).into_owned())
            };
            let end = match ev.outcome {
                Outcome::Returned { ret, .. } => ret.to_string(),
                Outcome::Killed { signal, .. } => format!("K{signal}"),
                Outcome::Unfinished => "U".to_owned(),
            };
            out.push(format!(
                "{}|{}|{}|{:?}|{:?} {end}",
                text(Some(ev.path)),
                text(ev.resolved()),
                text(ev.cgroup()),
                ev.flags(),
                ev.details().via.map(Via::name),
            ));
            assert_eq!(ev.detail.is_none(), ev.details().is_empty());
            Ok(())
        };
        for l in lines {
            match parse_line(l).unwrap() {
                Line::Entry(e) => p.entry(&e, &mut emit).unwrap(),
                Line::Return(r) => p.ret(&r, &mut emit).unwrap(),
                _ => {}
            }
        }
        p.finish(&mut emit).unwrap();
        out
    }

    #[test]
    fn details_of_the_entry_and_the_return_meet() {
        let out = details(
            0,
            &[
                br#"=> uid: 0 pid: 1 tid: 1 flags: 0x241 via: io_uring cgroup: "/a b" comm: x open: f 10"#,
                br#"=> uid: 0 pid: 2 open: /old 11"#,
                br#"<= uid: 0 pid: 1 tid: 1 resolved: "/tmp/f" ret: 3 20"#,
                br#"<= uid: 0 pid: 2 killed: 9 ret: -512 30"#,
                br#"=> uid: 0 pid: 3 flags: 0x0 open: /never 40"#,
                br#"=> uid: 0 pid: 4 open: /plain 50"#,
                br#"<= uid: 0 pid: 4 ret: 5 60"#,
            ],
        );
        assert_eq!(
            out,
            [
                r#"f|/tmp/f|/a b|Some(577)|Some("io_uring") 3"#,
                "/old|-|-|None|None K9",
                "/plain|-|-|None|None 5",
                "/never|-|-|Some(0)|None U",
            ]
        );
    }

    #[test]
    fn a_held_return_keeps_its_details_until_its_entry_comes() {
        let out = details(
            1_000,
            &[
                br#"<= uid: 0 pid: 7 tid: 8 resolved: "/r\n" killed: 15 ret: -512 150"#,
                br#"<= uid: 0 pid: 7 tid: 9 resolved: "/s" ret: 4 160"#,
                br#"=> uid: 0 pid: 7 tid: 8 cgroup: "/c" open: late 100"#,
                br#"=> uid: 0 pid: 7 tid: 9 open: plain 110"#,
            ],
        );
        assert_eq!(
            out,
            ["late|/r\n|/c|None|None K15", "plain|/s|-|None|None 4",]
        );
    }

    #[test]
    fn decoded_comm_and_path() {
        let mut p = Pairer::new(PairConfig {
            max_pending: 10,
            window_ns: 0,
        });
        let mut got = Vec::new();
        let mut emit = |ev: &OpenEvent<'_>| -> Result<(), ()> {
            got.push((
                ev.comm.map(<[u8]>::to_vec),
                ev.path.to_vec(),
                ev.duration_ns(),
            ));
            Ok(())
        };
        for l in [
            &br#"=> uid: 0 pid: 9 tid: 9 comm: "a b" open: "/tmp/new\nline\0" 5"#[..],
            b"<= uid: 0 pid: 9 tid: 9 comm: a b ret: 0 15",
        ] {
            match parse_line(l).unwrap() {
                Line::Entry(e) => p.entry(&e, &mut emit).unwrap(),
                Line::Return(r) => p.ret(&r, &mut emit).unwrap(),
                _ => {}
            }
        }
        assert_eq!(
            got,
            [(Some(b"a b".to_vec()), b"/tmp/new\nline".to_vec(), Some(10))]
        );
    }
}
