//! `--format chrome`: the Trace Event Format of Chrome's `about:tracing`, which Perfetto's UI
//! (<https://ui.perfetto.dev>, "Open trace file") and `chrome://tracing` load, so the opens
//! can be browsed as a timeline: one track per process and thread, one bar per open.
//!
//! The output is one JSON object, `{"traceEvents":[...]}` (the "JSON Object Format" of the
//! specification), written as the events come, one event per line:
//!
//! - each open that returned is a complete event: `"ph":"X"`, `"ts"` its entry time and
//!   `"dur"` its duration, both in microseconds with three decimals (so the nanoseconds are
//!   exact in the text), `"pid"` and `"tid"` its process and thread (the pid when the trace
//!   has no thread ids), `"name"` its path, `"cat":"open"` (`"open,failed"` for a failure, so
//!   the viewers can filter on it), and `"args"` its `ret`, `errno`, `comm` and `uid`
//!   (and `path_b64`, the exact bytes, when the path is not UTF-8; see `--format json`);
//! - an open that never returned is an instant event (`"ph":"i"`, thread scope) at its entry,
//!   with `"args":{"unfinished":true,...}`;
//! - from a version-2 trace: a bar is named by the resolved path when the trace has one (the
//!   argument is then in `args.path`), or by `\<unreadable 0x1>` for a path the tracer could
//!   not read; `args` adds `flags`, `mode`, `via`, `cgroup` (as `--format json` writes them)
//!   when the trace gives them; an open whose process was killed during the call is a bar of
//!   category `open,killed` with `args.killed` (the signal) and a null `ret`;
//! - the first time a process or thread is seen, and when its name changes (exec), a metadata
//!   event (`"ph":"M"`, `process_name` / `thread_name`) names its track after its comm (a
//!   process after its main thread's, or the first thread seen).
//!
//! Memory: the names already announced are remembered for at most 65,536 threads; past
//! that the memory is emptied and names are announced again (the viewers keep the last one).

use std::hash::BuildHasher;
use std::io::{self, Write};

use rustc_hash::FxHashMap as HashMap;

use super::json::{push_base64, push_json_str};
use super::{Context, EndCounts, Print};
use crate::details::{push_mode, push_open_flags, push_unreadable};
use crate::errno::{name_for_ret, ErrnoName};
use crate::event::{Details, OpenEvent, Outcome};
use crate::number::{push_i64, push_u64};
use crate::users::UserDb;

/// Threads whose names are remembered before the memory is emptied.
const NAMED_LIMIT: usize = 1 << 16;

/// Writes the Trace Event Format, one event per line.
#[derive(Debug, Default)]
pub struct ChromePrinter {
    line: Vec<u8>,
    started: bool,
    /// (pid, tid) -> hash of the comm last announced for it (tid = pid: the process).
    named: HashMap<(u32, u32), u64>,
}

impl ChromePrinter {
    /// A new printer.
    pub fn new() -> Self {
        ChromePrinter::default()
    }
}

impl Print for ChromePrinter {
    /// The opening of the object.
    fn begin<W: Write>(&mut self, out: &mut W, _time_base: Option<u64>) -> io::Result<()> {
        out.write_all(b"{\"traceEvents\":[\n")
    }

    /// One open (and the names of its tracks, the first time).
    #[inline(never)]
    fn event<W: Write>(
        &mut self,
        out: &mut W,
        event: &OpenEvent<'_>,
        _ctx: &mut Context<'_>,
    ) -> io::Result<()> {
        let tid = event.tid.unwrap_or(event.pid);
        self.line.clear();
        if let Some(comm) = event.comm {
            if self.named.len() >= NAMED_LIMIT {
                self.named.clear();
            }
            let hash = rustc_hash::FxBuildHasher.hash_one(comm);
            // The process is named after its main thread (tid = pid), or after the first
            // thread seen; each other thread after its own comm (threads may rename
            // themselves).
            let process = (event.pid, event.pid);
            let announce_process = if tid == event.pid {
                self.named.insert(process, hash) != Some(hash)
            } else {
                !self.named.contains_key(&process) && self.named.insert(process, hash).is_none()
            };
            if announce_process {
                self.push_name(event.pid, event.pid, "process_name", comm);
            }
            if tid != event.pid && self.named.insert((event.pid, tid), hash) != Some(hash) {
                self.push_name(event.pid, tid, "thread_name", comm);
            }
        }
        self.started_line();
        push_open(&mut self.line, event, tid);
        out.write_all(&self.line)
    }

    /// The end of the object.
    fn end<W: Write>(
        &mut self,
        out: &mut W,
        _users: &mut UserDb,
        _counts: &EndCounts,
    ) -> io::Result<()> {
        out.write_all(b"\n]}\n")
    }
}

impl ChromePrinter {
    /// The separator before an event: none before the first.
    fn started_line(&mut self) {
        if self.started {
            self.line.extend_from_slice(b",\n");
        }
        self.started = true;
    }

    fn push_name(&mut self, pid: u32, tid: u32, what: &str, comm: &[u8]) {
        self.started_line();
        let line = &mut self.line;
        line.extend_from_slice(b"{\"name\":\"");
        line.extend_from_slice(what.as_bytes());
        line.extend_from_slice(b"\",\"ph\":\"M\",\"pid\":");
        push_u64(line, pid.into());
        line.extend_from_slice(b",\"tid\":");
        push_u64(line, tid.into());
        line.extend_from_slice(b",\"args\":{\"name\":");
        push_json_str(line, &String::from_utf8_lossy(comm));
        line.extend_from_slice(b"}}");
    }
}

/// `ns` as microseconds with three decimals: `1234.567`.
fn push_micros(out: &mut Vec<u8>, ns: u64) {
    push_u64(out, ns / 1000);
    let frac = ns % 1000;
    out.extend_from_slice(&[
        b'.',
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]);
}

fn push_open(line: &mut Vec<u8>, event: &OpenEvent<'_>, tid: u32) {
    line.extend_from_slice(b"{\"name\":");
    match event.fault() {
        Some(address) if event.resolved().is_none() => {
            let mut marker = Vec::new();
            push_unreadable(&mut marker, address);
            push_json_str(line, &String::from_utf8_lossy(&marker));
        }
        _ => push_json_str(line, &String::from_utf8_lossy(event.best_path())),
    }
    let ret = event.ret();
    line.extend_from_slice(match event.outcome {
        Outcome::Returned { ret, .. } if ret < 0 => {
            b",\"cat\":\"open,failed\",\"ph\":\"X\",\"ts\":"
        }
        Outcome::Returned { .. } => b",\"cat\":\"open\",\"ph\":\"X\",\"ts\":",
        Outcome::Killed { .. } => b",\"cat\":\"open,killed\",\"ph\":\"X\",\"ts\":",
        Outcome::Unfinished => b",\"cat\":\"open,unfinished\",\"ph\":\"i\",\"s\":\"t\",\"ts\":",
    });
    push_micros(line, event.start_ns);
    if let Some(ns) = event.duration_ns() {
        line.extend_from_slice(b",\"dur\":");
        push_micros(line, ns);
    }
    line.extend_from_slice(b",\"pid\":");
    push_u64(line, event.pid.into());
    line.extend_from_slice(b",\"tid\":");
    push_u64(line, tid.into());
    line.extend_from_slice(b",\"args\":{");
    match (ret, event.outcome) {
        (Some(ret), _) => {
            line.extend_from_slice(b"\"ret\":");
            push_i64(line, ret);
        }
        (None, Outcome::Killed { signal, .. }) => {
            line.extend_from_slice(b"\"killed\":");
            push_u64(line, signal.into());
            line.extend_from_slice(b",\"ret\":null");
        }
        (None, _) => line.extend_from_slice(b"\"unfinished\":true,\"ret\":null"),
    }
    line.extend_from_slice(b",\"errno\":");
    match ret.and_then(name_for_ret) {
        Some(ErrnoName::Known(name)) => push_json_str(line, name),
        Some(name) => push_json_str(line, &name.to_string()),
        None => line.extend_from_slice(b"null"),
    }
    line.extend_from_slice(b",\"comm\":");
    match event.comm {
        Some(comm) => push_json_str(line, &String::from_utf8_lossy(comm)),
        None => line.extend_from_slice(b"null"),
    }
    line.extend_from_slice(b",\"uid\":");
    push_u64(line, event.uid.into());
    if let Some(d) = &event.detail {
        push_detail_args(line, event, d);
    }
    if std::str::from_utf8(event.path).is_err() {
        line.extend_from_slice(b",\"path_b64\":\"");
        push_base64(line, event.path);
        line.push(b'"');
    }
    line.extend_from_slice(b"}}");
}

/// The args from a version-2 trace: the argument when the bar is named by the resolved
/// path, and the flags, mode, via and cgroup the trace gave.
#[cold]
fn push_detail_args(line: &mut Vec<u8>, event: &OpenEvent<'_>, d: &Details<'_>) {
    if let Some(resolved) = d.resolved {
        line.extend_from_slice(b",\"path\":");
        push_json_str(line, &String::from_utf8_lossy(event.path));
        if std::str::from_utf8(resolved).is_err() {
            line.extend_from_slice(b",\"resolved_b64\":\"");
            push_base64(line, resolved);
            line.push(b'"');
        }
    }
    let mut text = Vec::new();
    let arg = |line: &mut Vec<u8>, key: &[u8], value: &[u8]| {
        line.extend_from_slice(b",\"");
        line.extend_from_slice(key);
        line.extend_from_slice(b"\":");
        push_json_str(line, &String::from_utf8_lossy(value));
    };
    if let Some(flags) = d.flags {
        push_open_flags(&mut text, flags);
        arg(line, b"flags", &text);
        text.clear();
    }
    if let Some(mode) = d.mode {
        push_mode(&mut text, mode);
        arg(line, b"mode", &text);
        text.clear();
    }
    if let Some(via) = d.via {
        arg(line, b"via", via.name().as_bytes());
    }
    if let Some(cgroup) = d.cgroup {
        arg(line, b"cgroup", cgroup);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::TraceInfo;
    use crate::users::UserSource;
    use serde_json::Value;

    fn ev(
        pid: u32,
        tid: Option<u32>,
        comm: Option<&'static [u8]>,
        path: &'static [u8],
        start_ns: u64,
        outcome: Outcome,
    ) -> OpenEvent<'static> {
        OpenEvent {
            uid: 1000,
            pid,
            tid,
            comm,
            path,
            path_truncated: false,
            start_ns,
            outcome,
            detail: None,
        }
    }

    fn chrome(events: &[OpenEvent<'_>]) -> String {
        let mut w = ChromePrinter::new();
        let mut out = Vec::new();
        let mut users = UserDb::new(UserSource::Numeric);
        let info = TraceInfo::default();
        w.begin(&mut out, None).unwrap();
        for e in events {
            let mut ctx = Context {
                users: &mut users,
                info: &info,
            };
            w.event(&mut out, e, &mut ctx).unwrap();
        }
        w.end(&mut out, &mut users, &EndCounts::default()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn complete_events_metadata_and_instants() {
        let events = [
            ev(
                10,
                Some(10),
                Some(b"cat"),
                b"/etc/passwd",
                1_000_123,
                Outcome::Returned {
                    ret: 3,
                    end_ns: 1_004_500,
                },
            ),
            ev(
                10,
                Some(11),
                Some(b"cat"),
                b"/nope",
                2_000_000,
                Outcome::Returned {
                    ret: -2,
                    end_ns: 2_000_001,
                },
            ),
            ev(
                10,
                Some(11),
                Some(b"cat"),
                b"/again",
                3_000_000,
                Outcome::Returned {
                    ret: 4,
                    end_ns: 3_000_010,
                },
            ),
            ev(
                12,
                None,
                None,
                b"/x\xff\"y\x1b",
                4_000_000,
                Outcome::Unfinished,
            ),
        ];
        let text = chrome(&events);
        let doc: Value = serde_json::from_str(&text).expect("valid JSON");
        let all = doc["traceEvents"].as_array().unwrap();
        let meta: Vec<&Value> = all.iter().filter(|e| e["ph"] == "M").collect();
        assert_eq!(meta.len(), 2, "{text}");
        assert_eq!(meta[0]["name"], "process_name");
        assert_eq!(
            (meta[0]["pid"].as_u64(), meta[0]["args"]["name"].as_str()),
            (Some(10), Some("cat"))
        );
        assert_eq!(meta[1]["name"], "thread_name");
        assert_eq!(meta[1]["tid"], 11);
        let opens: Vec<&Value> = all.iter().filter(|e| e["ph"] != "M").collect();
        assert_eq!(opens.len(), 4);
        assert_eq!(opens[0]["ph"], "X");
        assert_eq!(opens[0]["name"], "/etc/passwd");
        assert_eq!(opens[0]["ts"].as_f64(), Some(1000.123));
        assert_eq!(opens[0]["dur"].as_f64(), Some(4.377));
        assert_eq!(opens[0]["args"]["ret"], 3);
        assert_eq!(opens[0]["args"]["errno"], Value::Null);
        assert_eq!(opens[0]["args"]["comm"], "cat");
        assert_eq!(opens[1]["cat"], "open,failed");
        assert_eq!(opens[1]["args"]["errno"], "ENOENT");
        assert_eq!(opens[1]["dur"].as_f64(), Some(0.001));
        assert_eq!(
            (opens[1]["pid"].as_u64(), opens[1]["tid"].as_u64()),
            (Some(10), Some(11))
        );
        // The unfinished open: an instant on the pid's track, the path's bytes kept.
        assert_eq!(opens[3]["ph"], "i");
        assert_eq!(opens[3]["tid"], 12);
        assert!(opens[3].get("dur").is_none());
        assert_eq!(opens[3]["args"]["unfinished"], true);
        assert_eq!(opens[3]["args"]["path_b64"], "L3j/Inkb");
        assert_eq!(opens[3]["name"], "/x\u{fffd}\"y\u{1b}");
        // No raw control byte reaches the output.
        assert!(!text.bytes().any(|b| b < 0x20 && b != b'\n'));
        // Exact nanoseconds in the text.
        assert!(text.contains("\"ts\":1000.123,\"dur\":4.377,"), "{text}");
    }

    #[test]
    fn renamed_threads_are_announced_again() {
        let ret = Outcome::Returned { ret: 3, end_ns: 10 };
        let events = [
            ev(5, None, Some(b"sh"), b"/a", 1, ret),
            ev(5, None, Some(b"sh"), b"/b", 2, ret),
            ev(5, None, Some(b"python3"), b"/c", 3, ret),
        ];
        let text = chrome(&events);
        let doc: Value = serde_json::from_str(&text).unwrap();
        let names: Vec<&str> = doc["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["ph"] == "M")
            .map(|e| e["args"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["sh", "python3"]);
        assert_eq!(chrome(&[]), "{\"traceEvents\":[\n\n]}\n");
        let mut micros = Vec::new();
        push_micros(&mut micros, 1_795_664_257_567_614_007);
        assert_eq!(micros, b"1795664257567614.007");
    }
}
