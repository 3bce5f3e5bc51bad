//! Filters: which opens to keep (`-p`, `-t`, `-u`, `-n`, `-x`, `--ok`, `--path`,
//! `--raw-path`, `--cgroup`, `--write`, `--min-duration`).
//!
//! `--path` matches the path the open is about: the resolved one when the trace has it
//! (version 2), else the argument, so `cd /etc; cat passwd` is kept by `--path '^/etc/'`.
//! `--raw-path` matches the argument as the program passed it. `--write` keeps the opens
//! whose flags can write or create; an open whose trace has no flags cannot be classified:
//! it is left out and counted ([`Filter::unclassified`]), and the run says how many.
//!
//! Different options are AND-combined: `-p 42 -x` keeps the failed opens of pid 42. One option
//! given several times (or with a comma list, `-p 42,43`) keeps an open that matches any of
//! its values. A filter runs on each completed open as it leaves pairing, so it costs nothing
//! in memory and keeps output live.

use regex::bytes::Regex;
use std::cell::Cell;

use crate::event::OpenEvent;
use crate::users::UserDb;

/// `-u`: a uid, or a name looked up through the same user database as the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSpec {
    /// All digits: a uid.
    Uid(u32),
    /// Anything else: a user name, compared with the name of each open's uid.
    Name(Vec<u8>),
}

impl UserSpec {
    /// `1000` is a uid, `alice` is a name.
    pub fn parse(text: &str) -> UserSpec {
        match text.parse() {
            Ok(uid) => UserSpec::Uid(uid),
            Err(_) => UserSpec::Name(text.as_bytes().to_vec()),
        }
    }
}

/// `-x/--failed` or `--ok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResultFilter {
    /// Both (the default).
    #[default]
    Any,
    /// Only opens that returned an error (`ret < 0`, restarted opens excepted: see
    /// [`crate::errno::is_restart`]).
    Failed,
    /// Only opens that returned a file descriptor.
    Ok,
}

/// Why a filter option was refused.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// A regular expression that did not compile.
    #[error("{flag}: invalid regular expression: {error}")]
    Regex {
        /// `--path`, `--raw-path` or `--cgroup`.
        flag: &'static str,
        /// Why.
        error: regex::Error,
    },
}

/// The process name length the kernel keeps (TASK_COMM_LEN - 1).
const COMM_LEN: usize = 15;

/// All filters; the default keeps everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `-p`: keep these pids (any of them); empty: all.
    pub pids: Vec<u32>,
    /// `-t`: keep these thread ids; an open whose trace has no tid is kept only when its pid
    /// is listed (a single-threaded process's tid is its pid).
    pub tids: Vec<u32>,
    /// `-u`: keep these users.
    pub users: Vec<UserSpec>,
    /// `-n`: keep these process names, compared exactly, except that a name longer than the
    /// kernel's 15 bytes matches its first 15 (what the kernel stored).
    pub comms: Vec<Vec<u8>>,
    /// `-x` / `--ok`. Unfinished opens pass only `Any`.
    pub result: ResultFilter,
    /// `--path`: a regular expression searched in the path bytes (not anchored: use `^...$`
    /// for a whole path): the resolved path when the trace has one, else the argument.
    /// Invalid UTF-8 in a path is matched byte for byte.
    pub path: Option<Regex>,
    /// `--raw-path`: the same, on the path argument as the program passed it.
    pub raw_path: Option<Regex>,
    /// `--cgroup`: the same, on the process's cgroup; an open whose trace has no cgroup never
    /// matches.
    pub cgroup: Option<Regex>,
    /// `--write`: keep opens that can write or create ([`crate::details::can_write`]).
    pub write: bool,
    /// Opens `--write` left out because their trace has no flags (they passed every other
    /// filter).
    pub unclassified: Cell<u64>,
    /// `--min-duration`: keep opens at least this long (ns). Unfinished opens never pass.
    pub min_duration_ns: Option<u64>,
}

impl Filter {
    /// Compiles `--path REGEX`.
    pub fn path_regex(pattern: &str) -> Result<Regex, FilterError> {
        Filter::regex("--path", pattern)
    }

    /// Compiles the REGEX of `flag` (`--path`, `--raw-path`, `--cgroup`).
    pub fn regex(flag: &'static str, pattern: &str) -> Result<Regex, FilterError> {
        Regex::new(pattern).map_err(|error| FilterError::Regex { flag, error })
    }

    /// Opens `--write` left out because their trace says nothing of their flags.
    pub fn unclassified(&self) -> u64 {
        self.unclassified.get()
    }

    /// True when nothing is filtered (the caller can skip [`Filter::matches`]).
    pub fn is_empty(&self) -> bool {
        self.pids.is_empty()
            && self.tids.is_empty()
            && self.users.is_empty()
            && self.comms.is_empty()
            && self.result == ResultFilter::Any
            && self.path.is_none()
            && self.raw_path.is_none()
            && self.cgroup.is_none()
            && !self.write
            && self.min_duration_ns.is_none()
    }

    /// True when `event` passes every filter. Cheap checks run first; the regex last.
    pub fn matches(&self, event: &OpenEvent<'_>, users: &mut UserDb) -> bool {
        if !self.pids.is_empty() && !self.pids.contains(&event.pid) {
            return false;
        }
        if !self.tids.is_empty() && !self.tids.contains(&event.tid.unwrap_or(event.pid)) {
            return false;
        }
        match (self.result, event.ret()) {
            (ResultFilter::Any, _) => {}
            (ResultFilter::Failed, Some(ret)) if crate::errno::is_failure(ret) => {}
            (ResultFilter::Ok, Some(ret)) if ret >= 0 => {}
            _ => return false,
        }
        if let Some(min) = self.min_duration_ns {
            match event.duration_ns() {
                Some(ns) if ns >= min => {}
                _ => return false,
            }
        }
        if !self.comms.is_empty() {
            let Some(comm) = event.comm else { return false };
            if !self.comms.iter().any(|want| comm_matches(want, comm)) {
                return false;
            }
        }
        if !self.users.is_empty() {
            let uid = event.uid;
            let mut name_matches = |want: &[u8]| users.known_name(uid) == Some(want);
            let any = self.users.iter().any(|spec| match spec {
                UserSpec::Uid(u) => *u == uid,
                UserSpec::Name(name) => name_matches(name),
            });
            if !any {
                return false;
            }
        }
        if let Some(re) = &self.path {
            if !re.is_match(event.best_path()) {
                return false;
            }
        }
        if let Some(re) = &self.raw_path {
            if !re.is_match(event.path) {
                return false;
            }
        }
        if let Some(re) = &self.cgroup {
            if !event.cgroup().is_some_and(|c| re.is_match(c)) {
                return false;
            }
        }
        if self.write {
            match event.flags() {
                Some(flags) if crate::details::can_write(flags) => {}
                Some(_) => return false,
                None => {
                    self.unclassified.set(self.unclassified.get() + 1);
                    return false;
                }
            }
        }
        true
    }
}

fn comm_matches(want: &[u8], comm: &[u8]) -> bool {
    want == comm || (want.len() > COMM_LEN && comm.len() == COMM_LEN && want.starts_with(comm))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Outcome;
    use crate::users::UserSource;

    fn event(
        pid: u32,
        tid: Option<u32>,
        comm: &'static [u8],
        path: &'static [u8],
        outcome: Outcome,
    ) -> OpenEvent<'static> {
        OpenEvent {
            uid: if pid == 1 { 0 } else { 1000 },
            pid,
            tid,
            comm: Some(comm),
            path,
            path_truncated: false,
            start_ns: 1000,
            outcome,
            detail: None,
        }
    }

    fn ok(ret: i64, dur: u64) -> Outcome {
        Outcome::Returned {
            ret,
            end_ns: 1000 + dur,
        }
    }

    /// A small set of opens; each test counts which pass.
    fn corpus() -> Vec<OpenEvent<'static>> {
        vec![
            event(1, Some(1), b"systemd", b"/etc/passwd", ok(3, 5_000)),
            event(42, Some(42), b"cat", b"/tmp/not_exists", ok(-2, 10_170)),
            event(42, Some(43), b"cat", b"/etc/hosts", ok(4, 250)),
            event(
                77,
                None,
                b"Web Content",
                b"/home/al ice/r\xe9sum\xe9.pdf",
                ok(-13, 2_000_000),
            ),
            event(77, Some(78), b"Web Content", b"/tmp/x", Outcome::Unfinished),
            event(
                90,
                Some(90),
                b"averyverylongna",
                b"/var/log/syslog",
                ok(5, 1_500_000),
            ),
        ]
    }

    fn kept(filter: &Filter) -> Vec<usize> {
        let mut users = UserDb::from_names(&[(0, "root"), (1000, "alice")]);
        corpus()
            .iter()
            .enumerate()
            .filter(|(_, e)| filter.matches(e, &mut users))
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn empty_filter_keeps_all() {
        let filter = Filter::default();
        assert!(filter.is_empty());
        assert_eq!(kept(&filter), [0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn pid_and_tid() {
        assert_eq!(
            kept(&Filter {
                pids: vec![42],
                ..Filter::default()
            }),
            [1, 2]
        );
        assert_eq!(
            kept(&Filter {
                pids: vec![42, 1],
                ..Filter::default()
            }),
            [0, 1, 2]
        );
        assert_eq!(
            kept(&Filter {
                tids: vec![43],
                ..Filter::default()
            }),
            [2]
        );
        // No tid in the trace: the pid stands for it.
        assert_eq!(
            kept(&Filter {
                tids: vec![77],
                ..Filter::default()
            }),
            [3]
        );
    }

    #[test]
    fn users_by_uid_and_name() {
        assert_eq!(
            kept(&Filter {
                users: vec![UserSpec::parse("0")],
                ..Filter::default()
            }),
            [0]
        );
        assert_eq!(
            kept(&Filter {
                users: vec![UserSpec::parse("root")],
                ..Filter::default()
            }),
            [0]
        );
        assert_eq!(
            kept(&Filter {
                users: vec![UserSpec::parse("alice")],
                ..Filter::default()
            }),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(
            kept(&Filter {
                users: vec![UserSpec::parse("nobody")],
                ..Filter::default()
            }),
            [] as [usize; 0]
        );
        // Without names (-n), a name matches nothing.
        let filter = Filter {
            users: vec![UserSpec::parse("root")],
            ..Filter::default()
        };
        assert!(!filter.matches(&corpus()[0], &mut UserDb::new(UserSource::Numeric)));
    }

    #[test]
    fn comm_exact_and_kernel_truncated() {
        assert_eq!(
            kept(&Filter {
                comms: vec![b"cat".to_vec()],
                ..Filter::default()
            }),
            [1, 2]
        );
        assert_eq!(
            kept(&Filter {
                comms: vec![b"ca".to_vec()],
                ..Filter::default()
            }),
            [] as [usize; 0]
        );
        assert_eq!(
            kept(&Filter {
                comms: vec![b"Web Content".to_vec()],
                ..Filter::default()
            }),
            [3, 4]
        );
        assert_eq!(
            kept(&Filter {
                comms: vec![b"averyverylongname".to_vec()],
                ..Filter::default()
            }),
            [5]
        );
    }

    #[test]
    fn failed_and_ok_exclude_unfinished() {
        assert_eq!(
            kept(&Filter {
                result: ResultFilter::Failed,
                ..Filter::default()
            }),
            [1, 3]
        );
        assert_eq!(
            kept(&Filter {
                result: ResultFilter::Ok,
                ..Filter::default()
            }),
            [0, 2, 5]
        );
    }

    #[test]
    fn path_regex_on_bytes() {
        let path = |re: &str| Filter {
            path: Some(Filter::path_regex(re).unwrap()),
            ..Filter::default()
        };
        assert_eq!(kept(&path("^/etc/")), [0, 2]);
        assert_eq!(kept(&path("tmp")), [1, 4]);
        // An invalid byte in the path does not stop matching around it; (?-u:\xe9) matches it,
        // while a Unicode `.` does not (it matches characters, and \xe9 alone is none).
        assert_eq!(kept(&path(r"\.pdf$")), [3]);
        assert_eq!(kept(&path(r"r.sum")), [] as [usize; 0]);
        assert_eq!(kept(&path(r"r(?-u:.)sum")), [3]);
        assert_eq!(kept(&path(r"(?-u:\xe9)")), [3]);
        let err = Filter::path_regex("(unclosed").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("--path: invalid regular expression"),
            "{err}"
        );
    }

    #[test]
    fn min_duration_inclusive() {
        let min = |ns| Filter {
            min_duration_ns: Some(ns),
            ..Filter::default()
        };
        assert_eq!(kept(&min(10_170)), [1, 3, 5]);
        assert_eq!(kept(&min(10_171)), [3, 5]);
        assert_eq!(kept(&min(0)), [0, 1, 2, 3, 5]);
    }

    #[test]
    fn options_are_and_combined() {
        let filter = Filter {
            pids: vec![42, 77],
            result: ResultFilter::Failed,
            min_duration_ns: Some(1_000_000),
            ..Filter::default()
        };
        assert!(!filter.is_empty());
        assert_eq!(kept(&filter), [3]);
        let filter = Filter {
            comms: vec![b"cat".to_vec()],
            path: Some(Filter::path_regex("hosts").unwrap()),
            ..Filter::default()
        };
        assert_eq!(kept(&filter), [2]);
    }
}
