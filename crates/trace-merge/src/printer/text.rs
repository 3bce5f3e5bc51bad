//! The standard text format, the default, byte for byte what the seed printed:
//! `OPEN root 3584 /tmp/not_exists => ERROR -2 [10.17 us]`.
//!
//! `OPEN user pid path => FD n` for a success, `ERROR -errno` for a failure, then the duration
//! ([`crate::duration::push_human_time`]). Additions that the seed's inputs never trigger: an
//! unfinished open (with `--unfinished`) ends in `=> UNFINISHED`; an open a signal interrupted
//! (-512..-516, see [`crate::errno::is_restart`]) shows `=> RESTARTED ERESTARTSYS` (as strace's
//! "To be restarted"), not as an error; a path the tracer truncated
//! ends in `...`; control characters in the path and user name are escaped
//! ([`crate::escape`]). Lines are gathered in one reusable buffer and written together
//! (see [`super::GATHER`]).
//!
//! From version-2 traces only (an old trace never has them, so its lines are unchanged): an
//! open whose process was killed during the call ends in `=> KILLED SIGKILL [duration]` (it
//! never returned to the program); a path the tracer could not read shows as
//! `\<unreadable 0x1>` ([`crate::details::push_unreadable`]); with `-F/--full-path` the
//! resolved path replaces the argument when the trace has one.

use super::{Context, Print};
use crate::details::{push_path_for_people, push_signal_name};
use crate::duration::push_human_time;
use crate::escape::escape_into;
use crate::event::{OpenEvent, Outcome};
use crate::number::{push_i64, push_u64};
use std::io::{self, Write};

/// Writes opens as `OPEN ...` lines.
pub struct TextPrinter {
    /// `-F`: the resolved path in place of the argument, when there is one.
    full_path: bool,
    /// The lines not yet handed to the writer.
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

impl TextPrinter {
    /// A printer with an empty cache; `full_path` for `-F`.
    pub fn new(full_path: bool) -> TextPrinter {
        TextPrinter {
            full_path,
            line: Vec::with_capacity(super::GATHER + 4096),
            prefixes: (0..PREFIX_SLOTS)
                .map(|_| Prefix {
                    uid: None,
                    bytes: Vec::new(),
                })
                .collect(),
        }
    }
}

/// The line from the pid on.
#[inline]
fn format_after_user(line: &mut Vec<u8>, ev: &OpenEvent<'_>, full_path: bool) {
    push_u64(line, u64::from(ev.pid));
    line.push(b' ');
    if ev.detail.is_none() {
        escape_into(line, ev.path);
        if ev.path_truncated {
            line.extend_from_slice(b"...");
        }
    } else {
        push_path_for_people(line, ev, full_path);
    }
    match ev.outcome {
        Outcome::Returned { ret, .. } => {
            // Two fixed-size appends (one variable-size one is a memcpy call).
            if ret >= 0 {
                line.extend_from_slice(b" => FD ");
                push_i64(line, ret);
            } else if crate::errno::is_restart(ret) {
                line.extend_from_slice(b" => RESTARTED ");
                line.extend_from_slice(crate::errno::errno_name(-ret).unwrap_or("").as_bytes());
            } else {
                line.extend_from_slice(b" => ERROR ");
                push_i64(line, ret);
            }
            line.extend_from_slice(b" [");
            push_human_time(line, ev.duration_ns().unwrap_or(0));
            line.extend_from_slice(b"]\n");
        }
        Outcome::Killed { signal, .. } => {
            line.extend_from_slice(b" => KILLED ");
            push_signal_name(line, signal);
            line.extend_from_slice(b" [");
            push_human_time(line, ev.duration_ns().unwrap_or(0));
            line.extend_from_slice(b"]\n");
        }
        Outcome::Unfinished => line.extend_from_slice(b" => UNFINISHED\n"),
    }
}

impl Print for TextPrinter {
    fn begin<W: Write>(&mut self, _out: &mut W, _time_base: Option<u64>) -> io::Result<()> {
        Ok(())
    }

    #[inline(always)]
    fn event<W: Write>(
        &mut self,
        out: &mut W,
        ev: &OpenEvent<'_>,
        ctx: &mut Context<'_>,
    ) -> io::Result<()> {
        let slot = &mut self.prefixes[ev.uid as usize % PREFIX_SLOTS];
        if slot.uid != Some(ev.uid) {
            slot.bytes.clear();
            slot.bytes.extend_from_slice(b"OPEN ");
            escape_into(&mut slot.bytes, ctx.users.name(ev.uid));
            slot.bytes.push(b' ');
            slot.uid = Some(ev.uid);
        }
        self.line.extend_from_slice(&slot.bytes);
        format_after_user(&mut self.line, ev, self.full_path);
        super::hand_over_full(out, &mut self.line)
    }

    fn drain<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        super::hand_over(out, &mut self.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::TraceInfo;
    use crate::users::{UserDb, UserSource};

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
            detail: None,
        }
    }

    fn text(events: &[OpenEvent<'_>], users: &mut UserDb) -> String {
        let mut printer = TextPrinter::new(false);
        let mut out = Vec::new();
        let info = TraceInfo::default();
        for e in events {
            let mut ctx = Context { users, info: &info };
            printer.event(&mut out, e, &mut ctx).unwrap();
        }
        printer.drain(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn root() -> UserDb {
        UserDb::from_names(&[(0, "root")])
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
            text(&[e], &mut root()),
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
            text(&[ok, cut], &mut root()),
            "OPEN root 3584 /etc/\\x1b]0;pwned\\x07 => FD 3 [999.00 ns]\n\
             OPEN root 3584 /very/long... => UNFINISHED\n"
        );
    }

    #[test]
    fn user_cache_slots_shared_by_several_uids() {
        let far = 1 + PREFIX_SLOTS as u32;
        let mut users = UserDb::new(UserSource::Passwd(
            [(1, b"one".to_vec()), (far, b"esc\x1b".to_vec())]
                .into_iter()
                .collect(),
        ));
        let done = Outcome::Returned {
            ret: 3,
            end_ns: 1_795_664_257_567_615_000,
        };
        let events: Vec<OpenEvent<'_>> = [1, far, 1, 2, far]
            .into_iter()
            .map(|uid| OpenEvent {
                uid,
                ..ev(b"/p", done)
            })
            .collect();
        assert_eq!(
            text(&events, &mut users),
            "OPEN one 3584 /p => FD 3 [1.00 us]\n\
             OPEN esc\\x1b 3584 /p => FD 3 [1.00 us]\n\
             OPEN one 3584 /p => FD 3 [1.00 us]\n\
             OPEN 2 3584 /p => FD 3 [1.00 us]\n\
             OPEN esc\\x1b 3584 /p => FD 3 [1.00 us]\n"
        );
    }
}
