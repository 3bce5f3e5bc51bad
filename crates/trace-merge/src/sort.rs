//! `--sort KEY[,KEY...]`, `-r`, `--top N`: the one mode that must see the whole input before
//! printing, so the one that buffers (owned copies of the opens that passed the filters).
//!
//! Keys are column names (`--sort duration`, `--sort comm,pid`); each column's order is in its
//! row of [`crate::columns::COLUMNS`]. Ties keep input order (the
//! sort is stable). A key whose value is absent (the fd of a failed open, the duration of an
//! unfinished one, a missing tid) sorts after every present value, also with `-r`, so that
//! `--sort duration -r --top 10` shows the ten slowest completed opens.
//!
//! With `--top N`, at most about 2N opens are held: whenever the buffer reaches 2N it is sorted
//! and cut to N, so memory stays bounded however long the input. Without `--sort`, `--top N`
//! keeps the first N opens in input order.

use std::cmp::Ordering;

use crate::columns::{Column, UnknownColumn};
use crate::event::{OpenEvent, OwnedOpenEvent};
use crate::users::UserDb;

/// Parses `--sort LIST`: column names, comma-separated, most significant first.
pub fn parse_sort_keys(list: &str) -> Result<Vec<Column>, UnknownColumn> {
    list.split(',')
        .filter(|name| !name.trim().is_empty())
        .map(str::parse)
        .collect()
}

/// One buffered open, with what its sort keys need precomputed.
#[derive(Debug)]
struct Held {
    event: OwnedOpenEvent,
    /// The user name, resolved when the open arrived (only when sorting by user).
    user: Option<Vec<u8>>,
    /// The `# host:` of the open's trace (several hosts merged: each open's own).
    host: Option<Vec<u8>>,
    /// Arrival order, for stability when cutting.
    seq: u64,
}

/// Collects opens, then gives them back sorted.
#[derive(Debug)]
pub struct Sorter {
    keys: Vec<Column>,
    reverse: bool,
    top: Option<usize>,
    held: Vec<Held>,
    seq: u64,
    earliest_ns: Option<u64>,
    /// `held[..top]` has been sorted and cut at least once: `held[top - 1]` is the N-th best.
    cut: bool,
}

impl Sorter {
    /// Sorts by `keys` (empty: input order), reversed with `reverse`, keeping the first `top`.
    pub fn new(keys: Vec<Column>, reverse: bool, top: Option<usize>) -> Sorter {
        Sorter {
            keys,
            reverse,
            top,
            held: Vec::new(),
            seq: 0,
            earliest_ns: None,
            cut: false,
        }
    }

    /// Keeps a copy of `event`, from the trace of `host`.
    pub fn push(&mut self, event: &OpenEvent<'_>, users: &mut UserDb, host: Option<&[u8]>) {
        self.earliest_ns = Some(
            self.earliest_ns
                .map_or(event.start_ns, |e| e.min(event.start_ns)),
        );
        if self.top == Some(0) {
            return;
        }
        if self.keys.is_empty() {
            if let Some(top) = self.top {
                if self.held.len() >= top {
                    return; // input order: the first N are final
                }
            }
        }
        let user = if self.keys.contains(&Column::User) {
            users.known_name(event.uid).map(<[u8]>::to_vec)
        } else {
            None
        };
        let seq = self.seq;
        self.seq += 1;
        // Once the best N are known, an open that does not beat the N-th is not copied.
        if let Some(top) = self.top {
            if self.cut && self.held.len() >= top {
                let candidate = Key {
                    event: *event,
                    user: user.as_deref(),
                    host,
                    seq,
                };
                let nth = self.held[top - 1].key();
                if compare(&self.keys, self.reverse, &candidate, &nth) != Ordering::Less {
                    return;
                }
            }
        }
        self.held.push(Held {
            event: event.to_owned_event(),
            user,
            host: host.map(<[u8]>::to_vec),
            seq,
        });
        if let Some(top) = self.top {
            if self.held.len() >= top.saturating_mul(2).max(64) {
                self.sort_and_cut();
            }
        }
    }

    /// How many opens are held now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// The earliest entry timestamp of every open pushed (cut or not): the base of relative
    /// times when the output is not in time order.
    pub fn earliest_ns(&self) -> Option<u64> {
        self.earliest_ns
    }

    fn sort_and_cut(&mut self) {
        let (keys, reverse) = (&self.keys, self.reverse);
        self.held
            .sort_by(|a, b| compare(keys, reverse, &a.key(), &b.key()));
        if let Some(top) = self.top {
            self.held.truncate(top);
            self.cut = true;
        }
    }

    /// The opens, sorted and cut to `--top`, each with the host of its trace.
    pub fn finish(mut self) -> Vec<(OwnedOpenEvent, Option<Vec<u8>>)> {
        self.sort_and_cut();
        self.held.into_iter().map(|h| (h.event, h.host)).collect()
    }
}

/// What the comparison looks at, borrowed from a held open or from one not yet copied.
pub struct Key<'a> {
    /// The open.
    pub event: OpenEvent<'a>,
    /// Its user name, when sorting by user and the uid has one.
    pub user: Option<&'a [u8]>,
    /// The `# host:` of its trace.
    pub host: Option<&'a [u8]>,
    seq: u64,
}

impl Held {
    fn key(&self) -> Key<'_> {
        Key {
            event: self.event.as_event(),
            user: self.user.as_deref(),
            host: self.host.as_deref(),
            seq: self.seq,
        }
    }
}

fn compare(keys: &[Column], reverse: bool, a: &Key<'_>, b: &Key<'_>) -> Ordering {
    for &key in keys {
        let ord = (key.def().order)(a, b, reverse);
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.seq.cmp(&b.seq)
}

/// Present values in the asked order; absent ones last either way.
pub fn by<T: Ord>(a: Option<T>, b: Option<T>, reverse: bool) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) if reverse => y.cmp(&x),
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Outcome;
    use crate::users::UserSource;

    fn event(
        uid: u32,
        pid: u32,
        path: &'static [u8],
        ret: Option<i64>,
        dur: u64,
        start: u64,
    ) -> OpenEvent<'static> {
        OpenEvent {
            uid,
            pid,
            tid: None,
            comm: Some(b"cat"),
            path,
            path_truncated: false,
            start_ns: start,
            outcome: match ret {
                Some(ret) => Outcome::Returned {
                    ret,
                    end_ns: start + dur,
                },
                None => Outcome::Unfinished,
            },
            detail: None,
        }
    }

    fn corpus() -> Vec<OpenEvent<'static>> {
        vec![
            event(1000, 5, b"/b", Some(3), 300, 10),
            event(0, 7, b"/a", Some(-2), 100, 20),
            event(1000, 5, b"/c", None, 0, 30),
            event(2000, 6, b"/a", Some(4), 900, 5),
            event(0, 8, b"/d", Some(-13), 100, 40),
        ]
    }

    fn sorted(keys: &str, reverse: bool, top: Option<usize>) -> Vec<Vec<u8>> {
        let mut users = UserDb::from_names(&[(0, "root"), (1000, "alice")]);
        let mut sorter = Sorter::new(parse_sort_keys(keys).unwrap(), reverse, top);
        for e in corpus() {
            sorter.push(&e, &mut users, None);
        }
        assert_eq!(sorter.earliest_ns(), Some(5));
        sorter.finish().into_iter().map(|(e, _)| e.path).collect()
    }

    fn paths(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|p| p.as_bytes().to_vec()).collect()
    }

    #[test]
    fn keys_parse_as_columns() {
        assert_eq!(
            parse_sort_keys("duration,pid").unwrap(),
            [Column::Duration, Column::Pid]
        );
        assert!(parse_sort_keys("speed").is_err());
    }

    #[test]
    fn by_duration_absent_last_both_ways() {
        assert_eq!(
            sorted("duration", false, None),
            paths(&["/a", "/d", "/b", "/a", "/c"])
        );
        assert_eq!(
            sorted("duration", true, None),
            paths(&["/a", "/b", "/a", "/d", "/c"])
        );
        // The tie (100 ns) keeps input order: /a (pid 7) before /d.
        let mut users = UserDb::new(UserSource::Numeric);
        let mut sorter = Sorter::new(vec![Column::DurationNs], true, None);
        for e in corpus() {
            sorter.push(&e, &mut users, None);
        }
        let pids: Vec<u32> = sorter.finish().iter().map(|(e, _)| e.pid).collect();
        assert_eq!(pids, [6, 5, 7, 8, 5]);
    }

    #[test]
    fn several_keys() {
        assert_eq!(
            sorted("path,pid", false, None),
            paths(&["/a", "/a", "/b", "/c", "/d"])
        );
        let mut users = UserDb::new(UserSource::Numeric);
        let mut sorter = Sorter::new(parse_sort_keys("path,pid").unwrap(), true, None);
        for e in corpus() {
            sorter.push(&e, &mut users, None);
        }
        let got: Vec<(Vec<u8>, u32)> = sorter
            .finish()
            .into_iter()
            .map(|(e, _)| (e.path, e.pid))
            .collect();
        assert_eq!(
            got,
            [
                (b"/d".to_vec(), 8),
                (b"/c".to_vec(), 5),
                (b"/b".to_vec(), 5),
                (b"/a".to_vec(), 7),
                (b"/a".to_vec(), 6)
            ]
        );
    }

    #[test]
    fn by_user_name_then_uid() {
        // alice < root, and uid 2000 has no name: after the names.
        assert_eq!(
            sorted("user", false, None),
            paths(&["/b", "/c", "/a", "/d", "/a"])
        );
    }

    #[test]
    fn by_errno_and_fd() {
        assert_eq!(
            sorted("errno", false, None),
            paths(&["/d", "/a", "/b", "/c", "/a"])
        );
        assert_eq!(
            sorted("fd", true, None),
            paths(&["/a", "/b", "/a", "/c", "/d"])
        );
    }

    #[test]
    fn top_cuts_after_sorting() {
        assert_eq!(sorted("duration", true, Some(2)), paths(&["/a", "/b"]));
        assert_eq!(sorted("time", false, Some(3)), paths(&["/a", "/b", "/a"]));
        assert_eq!(sorted("", false, Some(2)), paths(&["/b", "/a"]));
        assert!(sorted("time", false, Some(0)).is_empty());
    }

    #[test]
    fn top_bounds_memory_on_long_inputs() {
        let mut users = UserDb::new(UserSource::Numeric);
        let mut sorter = Sorter::new(vec![Column::DurationNs], true, Some(5));
        let mut max_held = 0;
        for i in 0..10_000u64 {
            // Durations 0..10000 in a scrambled order.
            let dur = (i * 7919) % 10_000;
            sorter.push(&event(0, 1, b"/x", Some(3), dur, i), &mut users, None);
            max_held = max_held.max(sorter.len());
        }
        assert!(max_held <= 64, "held {max_held}");
        let durations: Vec<u64> = sorter
            .finish()
            .iter()
            .map(|(e, _)| e.as_event().duration_ns().unwrap())
            .collect();
        assert_eq!(durations, [9999, 9998, 9997, 9996, 9995]);
    }
}
