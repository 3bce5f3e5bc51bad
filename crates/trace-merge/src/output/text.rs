//! The seed's output format, byte for byte:
//! `OPEN root 3584 /tmp/not_exists => ERROR -2 [10.17 us]`.
//!
//! `OPEN user pid path => FD n` for a success, `ERROR -errno` for a failure, then the duration
//! as the seed's `human_time`. Additions that the seed's inputs never trigger: an unfinished
//! open (with `--unfinished`) ends in `=> UNFINISHED`; a path the tracer truncated ends in
//! `...`; control characters in the path and user name are escaped ([`crate::escape`]).
//! Each line is built in one reusable buffer and written with one call.

use super::Sink;
use crate::escape::escape_into;
use crate::event::{OpenEvent, Outcome};
use crate::info::TraceInfo;
use crate::timefmt::{push_human_time, push_i64, push_u64};
use crate::users::UserDb;
use std::io::{self, Write};

/// Writes opens in the seed's format.
pub struct TextSink<W: Write> {
    out: W,
    users: UserDb,
    show_unfinished: bool,
    line: Vec<u8>,
    /// `OPEN <escaped user> ` per uid, direct-mapped by `uid % PREFIX_SLOTS`: most events
    /// then cost no user lookup and no escaping of the name.
    prefixes: Vec<Prefix>,
}

/// Slots of the per-uid line-start cache (a trace has a handful of users).
const PREFIX_SLOTS: usize = 64;

/// One cached line start.
struct Prefix {
    uid: Option<u32>,
    bytes: Vec<u8>,
}

impl<W: Write> TextSink<W> {
    /// A sink writing to `out` (give it a buffered writer), naming users with `users`.
    pub fn new(out: W, users: UserDb, show_unfinished: bool) -> TextSink<W> {
        TextSink {
            out,
            users,
            show_unfinished,
            line: Vec::with_capacity(512),
            prefixes: (0..PREFIX_SLOTS)
                .map(|_| Prefix {
                    uid: None,
                    bytes: Vec::new(),
                })
                .collect(),
        }
    }

    /// The writer back (tests).
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Appends one seed-format line for `ev` to `line`.
pub fn format_line(line: &mut Vec<u8>, ev: &OpenEvent<'_>, user: &[u8]) {
    line.extend_from_slice(b"OPEN ");
    escape_into(line, user);
    line.push(b' ');
    format_after_user(line, ev);
}

/// The line from the pid on.
#[inline]
fn format_after_user(line: &mut Vec<u8>, ev: &OpenEvent<'_>) {
    push_u64(line, u64::from(ev.pid));
    line.push(b' ');
    escape_into(line, ev.path);
    if ev.path_truncated {
        line.extend_from_slice(b"...");
    }
    match ev.outcome {
        Outcome::Returned { ret, .. } => {
            // Two fixed-size appends (one variable-size one is a memcpy call).
            if ret >= 0 {
                line.extend_from_slice(b" => FD ");
            } else {
                line.extend_from_slice(b" => ERROR ");
            }
            push_i64(line, ret);
            line.extend_from_slice(b" [");
            push_human_time(line, ev.duration_ns().unwrap_or(0));
            line.extend_from_slice(b"]\n");
        }
        Outcome::Unfinished => line.extend_from_slice(b" => UNFINISHED\n"),
    }
}

impl<W: Write> Sink for TextSink<W> {
    #[inline]
    fn event(&mut self, ev: &OpenEvent<'_>, _info: &TraceInfo) -> io::Result<()> {
        if ev.outcome == Outcome::Unfinished && !self.show_unfinished {
            return Ok(());
        }
        self.line.clear();
        let slot = &mut self.prefixes[ev.uid as usize % PREFIX_SLOTS];
        if slot.uid != Some(ev.uid) {
            slot.bytes.clear();
            slot.bytes.extend_from_slice(b"OPEN ");
            escape_into(&mut slot.bytes, self.users.name(ev.uid));
            slot.bytes.push(b' ');
            slot.uid = Some(ev.uid);
        }
        self.line.extend_from_slice(&slot.bytes);
        format_after_user(&mut self.line, ev);
        self.out.write_all(&self.line)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::UserSource;

    fn ev(path: &[u8], outcome: Outcome) -> OpenEvent<'_> {
        OpenEvent {
            uid: 0,
            pid: 3584,
            tid: None,
            comm: None,
            path,
            path_truncated: false,
            start_ns: 1_795_664_257_567_614_000,
            outcome,
        }
    }

    fn text(events: &[OpenEvent<'_>], show_unfinished: bool) -> String {
        let mut sink = TextSink::new(Vec::new(), UserDb::new(UserSource::System), show_unfinished);
        for e in events {
            sink.event(e, &TraceInfo::default()).unwrap();
        }
        String::from_utf8(sink.into_inner()).unwrap()
    }

    #[test]
    fn the_seed_example() {
        let e = ev(
            b"/tmp/not_exists",
            Outcome::Returned {
                ret: -2,
                end_ns: 1_795_664_257_567_624_170,
            },
        );
        assert_eq!(
            text(&[e], false),
            "OPEN root 3584 /tmp/not_exists => ERROR -2 [10.17 us]\n"
        );
    }

    #[test]
    fn fd_unfinished_truncated_and_escaped() {
        let ok = ev(
            b"/etc/\x1b]0;pwned\x07",
            Outcome::Returned {
                ret: 3,
                end_ns: 1_795_664_257_567_614_999,
            },
        );
        let mut cut = ev(b"/very/long", Outcome::Unfinished);
        cut.path_truncated = true;
        assert_eq!(
            text(&[ok, cut], true),
            "OPEN root 3584 /etc/\\x1b]0;pwned\\x07 => FD 3 [999.00 ns]\n\
             OPEN root 3584 /very/long... => UNFINISHED\n"
        );
        assert_eq!(text(&[cut], false), "");
    }

    #[test]
    fn user_cache_slots_shared_by_several_uids() {
        let mut map = rustc_hash::FxHashMap::default();
        map.insert(1, b"one".to_vec());
        map.insert(1 + PREFIX_SLOTS as u32, b"esc\x1b".to_vec());
        let mut sink = TextSink::new(Vec::new(), UserDb::new(UserSource::Passwd(map)), false);
        let done = Outcome::Returned {
            ret: 3,
            end_ns: 1_795_664_257_567_615_000,
        };
        for uid in [1, 1 + PREFIX_SLOTS as u32, 1, 2, 1 + PREFIX_SLOTS as u32] {
            let mut e = ev(b"/p", done);
            e.uid = uid;
            sink.event(&e, &TraceInfo::default()).unwrap();
        }
        assert_eq!(
            String::from_utf8(sink.into_inner()).unwrap(),
            "OPEN one 3584 /p => FD 3 [1.00 us]\n\
             OPEN esc\\x1b 3584 /p => FD 3 [1.00 us]\n\
             OPEN one 3584 /p => FD 3 [1.00 us]\n\
             OPEN 2 3584 /p => FD 3 [1.00 us]\n\
             OPEN esc\\x1b 3584 /p => FD 3 [1.00 us]\n"
        );
    }
}
