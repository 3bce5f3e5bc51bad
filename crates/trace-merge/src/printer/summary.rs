//! `--summary` and `--summary-by KEY`: what `strace -c` and bpftrace's `hist()` give together,
//! printed instead of the events.
//!
//! - totals: completed opens, failures, restarted opens (interrupted by a signal, -512..-516:
//!   not failures; shown only when there are some), unfinished opens, events the tracer lost;
//! - latency percentiles p50, p90, p99 and the maximum, exact: every duration is kept
//!   (8 bytes per completed open) and the percentile is the nearest-rank one, the value at
//!   1-based rank `ceil(p/100 * n)` of the sorted durations, so it is always a duration that
//!   was really measured;
//! - the top paths and processes (pid and comm) by count and by total time (`--top N`,
//!   10 by default), failures by errno name;
//! - a log2 histogram of latency in ns, drawn as bpftrace 0.17 draws `hist()`: the bucket
//!   label left-aligned in 16 columns, the count right-aligned in 8, a bar of up to 52 `@`
//!   scaled to the largest bucket, only the buckets from the first to the last non-empty one.
//!   (bpftrace scales in `float`; this scales in integers, `count * 52 / max`, so a bar can be
//!   one `@` longer than bpftrace's when the float rounds down.)
//!
//! With `--summary-by path|comm|pid|user|errno`, the top tables are replaced by one table with
//! a row per value of that key (count, failures, total, average and maximum time), most
//! frequent first.
//!
//! Memory grows with the number of completed opens and of distinct paths and processes; the
//! event modes, unlike this one, are bounded.

use rustc_hash::FxHashMap as HashMap;
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use super::{Context, Print};
use crate::duration::human_time;
use crate::errno::{name_for_ret, ErrnoName};
use crate::escape::escape_into;
use crate::event::{OpenEvent, Outcome};
use crate::users::UserDb;

/// What `--summary-by` groups on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupKey {
    /// The path opened.
    Path,
    /// The process name.
    Comm,
    /// The process id.
    Pid,
    /// The user.
    User,
    /// The errno name (`-` for opens that succeeded).
    Errno,
}

impl GroupKey {
    /// The name in `--summary-by`.
    pub fn name(self) -> &'static str {
        match self {
            GroupKey::Path => "path",
            GroupKey::Comm => "comm",
            GroupKey::Pid => "pid",
            GroupKey::User => "user",
            GroupKey::Errno => "errno",
        }
    }
}

/// A `--summary-by` value that is not a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--summary-by: unknown key `{0}` (keys: path, comm, pid, user, errno)")]
pub struct UnknownGroupKey(pub String);

impl FromStr for GroupKey {
    type Err = UnknownGroupKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            GroupKey::Path,
            GroupKey::Comm,
            GroupKey::Pid,
            GroupKey::User,
            GroupKey::Errno,
        ]
        .into_iter()
        .find(|k| k.name() == s)
        .ok_or_else(|| UnknownGroupKey(s.to_string()))
    }
}

impl fmt::Display for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Counts the pipeline knows and the summary cannot see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndCounts {
    /// Events the tracer reported lost (`# lost: N`).
    pub lost: u64,
    /// Opens that never returned (the larger of this and the unfinished opens passed to
    /// the summary is printed, so the pipeline may do either).
    pub unfinished: u64,
    /// Returns that had no entry.
    pub unmatched_returns: u64,
}

/// Count, failures and time of a group of opens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Agg {
    count: u64,
    failed: u64,
    /// Opens a signal interrupted (-512..-516): not failures, counted apart.
    restarted: u64,
    total_ns: u64,
    max_ns: u64,
}

impl Agg {
    fn add(&mut self, ret: i64, ns: u64) {
        self.count += 1;
        self.failed += u64::from(crate::errno::is_failure(ret));
        self.restarted += u64::from(crate::errno::is_restart(ret));
        self.total_ns = self.total_ns.saturating_add(ns);
        self.max_ns = self.max_ns.max(ns);
    }
}

/// A process: pid and comm (a pid reused by another program is another process).
type ProcessKey = (u32, Option<Vec<u8>>);

/// A value of the `--summary-by` key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum GroupValue {
    Bytes(Vec<u8>),
    Number(u32),
    Errno(Option<ErrnoName>),
}

/// Accumulates opens, then prints the summary.
#[derive(Debug)]
pub struct SummaryPrinter {
    by: Option<GroupKey>,
    top: usize,
    total: Agg,
    unfinished_seen: u64,
    durations: Vec<u64>,
    paths: HashMap<Vec<u8>, Agg>,
    procs: HashMap<ProcessKey, Agg>,
    errnos: HashMap<ErrnoName, u64>,
    groups: HashMap<GroupValue, Agg>,
}

impl SummaryPrinter {
    /// A summary with the top tables of `top` rows each, or grouped `by` one key (all rows,
    /// or the first `top` when given).
    pub fn new(by: Option<GroupKey>, top: Option<usize>) -> SummaryPrinter {
        SummaryPrinter {
            by,
            top: top.unwrap_or(if by.is_some() { usize::MAX } else { 10 }),
            total: Agg::default(),
            unfinished_seen: 0,
            durations: Vec::new(),
            paths: HashMap::default(),
            procs: HashMap::default(),
            errnos: HashMap::default(),
            groups: HashMap::default(),
        }
    }

    /// Counts one open.
    fn add(&mut self, event: &OpenEvent<'_>) {
        let Outcome::Returned { ret, .. } = event.outcome else {
            self.unfinished_seen += 1;
            return;
        };
        let ns = event.duration_ns().unwrap_or(0);
        self.total.add(ret, ns);
        self.durations.push(ns);
        let errno = name_for_ret(ret).filter(|_| !crate::errno::is_restart(ret));
        if let Some(name) = errno {
            *self.errnos.entry(name).or_default() += 1;
        }
        match self.by {
            None => {
                get_or_insert(&mut self.paths, event.path).add(ret, ns);
                let key = (event.pid, event.comm.map(<[u8]>::to_vec));
                self.procs.entry(key).or_default().add(ret, ns);
            }
            Some(by) => {
                let value = match by {
                    GroupKey::Path => GroupValue::Bytes(event.path.to_vec()),
                    GroupKey::Comm => GroupValue::Bytes(event.comm.unwrap_or(b"-").to_vec()),
                    GroupKey::Pid => GroupValue::Number(event.pid),
                    GroupKey::User => GroupValue::Number(event.uid),
                    GroupKey::Errno => GroupValue::Errno(errno),
                };
                self.groups.entry(value).or_default().add(ret, ns);
            }
        }
    }

    /// Prints the summary.
    fn write(
        &mut self,
        out: &mut dyn Write,
        users: &mut UserDb,
        counts: &EndCounts,
    ) -> io::Result<()> {
        let t = self.total;
        write!(out, "opens: {}  failed: {}", t.count, t.failed)?;
        if let Some(permille) = (t.failed * 1000).checked_div(t.count) {
            write!(out, " ({}.{}%)", permille / 10, permille % 10)?;
        }
        if t.restarted > 0 {
            write!(out, "  restarted: {}", t.restarted)?;
        }
        writeln!(
            out,
            "  unfinished: {}  lost: {}",
            counts.unfinished.max(self.unfinished_seen),
            counts.lost
        )?;
        if counts.lost > 0 {
            writeln!(
                out,
                "warning: the tracer lost {} events: these figures are incomplete",
                counts.lost
            )?;
        }
        if counts.unmatched_returns > 0 {
            writeln!(
                out,
                "returns without an entry: {}",
                counts.unmatched_returns
            )?;
        }
        if !self.durations.is_empty() {
            writeln!(
                out,
                "\nlatency of {} completed opens:",
                self.durations.len()
            )?;
            // Selected, not sorted: each rank is found in what lies above the previous one.
            let mut below = 0;
            for (label, p) in [("p50", 50), ("p90", 90), ("p99", 99), ("max", 100)] {
                let ns = select_nearest_rank(&mut self.durations, &mut below, p);
                writeln!(out, "  {label} {:>12}  ({ns} ns)", human_time(ns))?;
            }
        }
        match self.by {
            _ if t.count == 0 => {}
            None => self.write_tops(out)?,
            Some(by) => self.write_groups(out, by, users)?,
        }
        if !self.errnos.is_empty() {
            writeln!(out, "\nfailures by errno:\n  {:>7}  ERRNO", "COUNT")?;
            let mut rows: Vec<(&ErrnoName, &u64)> = self.errnos.iter().collect();
            rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.to_string().cmp(&b.0.to_string())));
            for (name, count) in rows {
                writeln!(out, "  {count:>7}  {name}")?;
            }
        }
        if !self.durations.is_empty() {
            writeln!(out, "\nlatency histogram (ns):")?;
            out.write_all(histogram(&self.durations).as_bytes())?;
        }
        Ok(())
    }

    fn write_tops(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut label = Vec::new();
        for by_time in [false, true] {
            let mut rows: Vec<(&Vec<u8>, &Agg)> = self.paths.iter().collect();
            sort_rows(&mut rows, by_time, self.top);
            let what = if by_time { "total time" } else { "count" };
            writeln!(out, "\ntop paths by {what}:")?;
            writeln!(
                out,
                "  {:>7} {:>7} {:>12}  PATH",
                "COUNT", "FAILED", "TOTAL"
            )?;
            for (path, agg) in rows.into_iter().take(self.top) {
                label.clear();
                escape_into(&mut label, path);
                write_agg_row(out, agg, false, &label)?;
            }
        }
        for by_time in [false, true] {
            let mut rows: Vec<(&ProcessKey, &Agg)> = self.procs.iter().collect();
            sort_rows(&mut rows, by_time, self.top);
            let what = if by_time { "total time" } else { "count" };
            writeln!(out, "\ntop processes by {what}:")?;
            writeln!(
                out,
                "  {:>7} {:>7} {:>12}  {:>7} COMM",
                "COUNT", "FAILED", "TOTAL", "PID"
            )?;
            for ((pid, comm), agg) in rows.into_iter().take(self.top) {
                label.clear();
                write!(label, "{pid:>7} ")?;
                escape_into(&mut label, comm.as_deref().unwrap_or(b"-"));
                write_agg_row(out, agg, false, &label)?;
            }
        }
        Ok(())
    }

    fn write_groups(
        &self,
        out: &mut dyn Write,
        by: GroupKey,
        users: &mut UserDb,
    ) -> io::Result<()> {
        let mut rows: Vec<(&GroupValue, &Agg)> = self.groups.iter().collect();
        sort_rows(&mut rows, false, self.top);
        writeln!(out, "\nsummary by {by}:")?;
        writeln!(
            out,
            "  {:>7} {:>7} {:>12} {:>12} {:>12}  {}",
            "COUNT",
            "FAILED",
            "TOTAL",
            "AVG",
            "MAX",
            by.name().to_ascii_uppercase()
        )?;
        let mut label = Vec::new();
        for (value, agg) in rows.into_iter().take(self.top) {
            label.clear();
            match value {
                GroupValue::Bytes(bytes) => escape_into(&mut label, bytes),
                GroupValue::Number(uid) if by == GroupKey::User => match users.known_name(*uid) {
                    Some(name) => escape_into(&mut label, name),
                    None => write!(label, "{uid}")?,
                },
                GroupValue::Number(n) => write!(label, "{n}")?,
                GroupValue::Errno(Some(name)) => write!(label, "{name}")?,
                GroupValue::Errno(None) => label.push(b'-'),
            }
            write_agg_row(out, agg, true, &label)?;
        }
        Ok(())
    }
}

impl Print for SummaryPrinter {
    fn begin<W: Write>(&mut self, _out: &mut W, _time_base: Option<u64>) -> io::Result<()> {
        Ok(())
    }

    #[inline(never)]
    fn event<W: Write>(
        &mut self,
        _out: &mut W,
        event: &OpenEvent<'_>,
        _ctx: &mut Context<'_>,
    ) -> io::Result<()> {
        self.add(event);
        Ok(())
    }

    fn end<W: Write>(
        &mut self,
        out: &mut W,
        users: &mut UserDb,
        counts: &EndCounts,
    ) -> io::Result<()> {
        self.write(out, users, counts)
    }
}

fn get_or_insert<'m>(map: &'m mut HashMap<Vec<u8>, Agg>, key: &[u8]) -> &'m mut Agg {
    // Avoids allocating the key for paths already seen (the common case).
    if !map.contains_key(key) {
        map.insert(key.to_vec(), Agg::default());
    }
    map.get_mut(key).expect("inserted above")
}

/// Most first (by count or by total time); ties by key, so output is deterministic. Only the
/// first `top` rows are kept: they are selected first and only they are sorted (a summary of
/// millions of opens may have a million processes and show ten).
fn sort_rows<K: Ord>(rows: &mut Vec<(K, &Agg)>, by_time: bool, top: usize) {
    let order = |a: &(K, &Agg), b: &(K, &Agg)| {
        let (x, y) = if by_time {
            (a.1.total_ns, b.1.total_ns)
        } else {
            (a.1.count, b.1.count)
        };
        y.cmp(&x).then_with(|| a.0.cmp(&b.0))
    };
    if top == 0 {
        rows.clear();
        return;
    }
    if rows.len() > top {
        rows.select_nth_unstable_by(top - 1, order);
        rows.truncate(top);
    }
    rows.sort_by(order);
}

fn write_agg_row(out: &mut dyn Write, agg: &Agg, detail: bool, label: &[u8]) -> io::Result<()> {
    write!(
        out,
        "  {:>7} {:>7} {:>12}",
        agg.count,
        agg.failed,
        human_time(agg.total_ns)
    )?;
    if detail {
        let avg = agg.total_ns / agg.count.max(1);
        write!(
            out,
            " {:>12} {:>12}",
            human_time(avg),
            human_time(agg.max_ns)
        )?;
    }
    out.write_all(b"  ")?;
    out.write_all(label)?;
    out.write_all(b"\n")
}

/// The value at 1-based rank `ceil(p * n / 100)` of `sorted` (the definition that
/// [`select_nearest_rank`] is tested against).
#[cfg(test)]
fn nearest_rank(sorted: &[u64], p: u32) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as u128;
    let rank = (u128::from(p) * n).div_ceil(100).clamp(1, n);
    Some(sorted[(rank - 1) as usize])
}

/// [`nearest_rank`] without sorting, for increasing `p` in turn: `values[..*below]` are known
/// to be no larger than the rest (from the previous call), so the rank is selected in the rest.
fn select_nearest_rank(values: &mut [u64], below: &mut usize, p: u32) -> u64 {
    let n = values.len() as u128;
    let rank = (u128::from(p) * n).div_ceil(100).clamp(1, n);
    let k = (rank - 1) as usize;
    debug_assert!(k >= *below, "ranks asked in increasing order");
    values[*below..].select_nth_unstable(k - *below);
    *below = k;
    values[k]
}

/// bpftrace's log2 bucket: 0 for 0, 1 for 1, k for [2^(k-1), 2^k).
fn bucket(ns: u64) -> usize {
    if ns == 0 {
        0
    } else {
        64 - ns.leading_zeros() as usize
    }
}

/// `2^power` as bpftrace labels it: `512`, `1K`, `4M`, `16E`.
fn power_label(power: usize) -> String {
    let step = (power / 10).min(6);
    let suffix = ["", "K", "M", "G", "T", "P", "E"][step];
    format!("{}{suffix}", 1u64 << (power - step * 10))
}

/// The histogram, one line per bucket from the first non-empty to the last.
pub fn histogram(durations: &[u64]) -> String {
    let mut counts = [0u64; 65];
    for &ns in durations {
        counts[bucket(ns)] += 1;
    }
    let Some(first) = counts.iter().position(|&c| c > 0) else {
        return String::new();
    };
    let last = counts.iter().rposition(|&c| c > 0).unwrap_or(first);
    let max = counts.iter().copied().max().unwrap_or(1);
    let mut text = String::new();
    for (k, &count) in counts.iter().enumerate().take(last + 1).skip(first) {
        let label = match k {
            0 => "[0]".to_string(),
            1 => "[1]".to_string(),
            _ => format!("[{}, {})", power_label(k - 1), power_label(k)),
        };
        let bar = "@".repeat((u128::from(count) * 52 / u128::from(max)) as usize);
        text.push_str(&format!("{label:<16}{count:>8} |{bar:<52}|\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::UserSource;

    #[test]
    fn nearest_rank_by_hand() {
        // n = 10: p50 -> rank 5, p90 -> rank 9, p99 -> rank ceil(9.9) = 10.
        let ten: Vec<u64> = (1..=10).map(|i| i * 100).collect();
        assert_eq!(nearest_rank(&ten, 50), Some(500));
        assert_eq!(nearest_rank(&ten, 90), Some(900));
        assert_eq!(nearest_rank(&ten, 99), Some(1000));
        assert_eq!(nearest_rank(&ten, 100), Some(1000));
        // n = 3: p50 -> rank ceil(1.5) = 2; p1 -> rank 1.
        assert_eq!(nearest_rank(&[7, 8, 9], 50), Some(8));
        assert_eq!(nearest_rank(&[7, 8, 9], 1), Some(7));
        assert_eq!(nearest_rank(&[42], 99), Some(42));
        assert_eq!(nearest_rank(&[], 50), None);
    }

    #[test]
    fn selected_ranks_match_sorted_ones() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for n in [1usize, 2, 3, 10, 99, 100, 101, 1000, 4097] {
            let mut values: Vec<u64> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x % 5000
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let mut below = 0;
            for p in [1, 50, 50, 90, 99, 100] {
                assert_eq!(
                    Some(select_nearest_rank(&mut values, &mut below, p)),
                    nearest_rank(&sorted, p),
                    "n = {n}, p = {p}"
                );
            }
        }
    }

    #[test]
    fn buckets_and_labels_like_bpftrace() {
        assert_eq!(
            [0, 1, 2, 3, 4, 7, 8, 1023, 1024].map(bucket),
            [0, 1, 2, 2, 3, 3, 4, 10, 11]
        );
        assert_eq!(bucket(u64::MAX), 64);
        assert_eq!(power_label(9), "512");
        assert_eq!(power_label(10), "1K");
        assert_eq!(power_label(12), "4K");
        assert_eq!(power_label(21), "2M");
        assert_eq!(power_label(64), "16E");
    }

    #[test]
    fn histogram_matches_bpftrace_output() {
        // The same values given to bpftrace 0.17's hist() (0, 1, 1, 5, 3000 x3, 2000000), whose
        // output is copied here from a real run, trimmed to the buckets between [0] and [1M, 2M).
        let text = histogram(&[0, 1, 1, 5, 3000, 3000, 3000, 2_000_000]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 22);
        assert_eq!(
            lines[0],
            "[0]                    1 |@@@@@@@@@@@@@@@@@                                   |"
        );
        assert_eq!(
            lines[1],
            "[1]                    2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@                  |"
        );
        assert_eq!(
            lines[2],
            "[2, 4)                 0 |                                                    |"
        );
        assert_eq!(
            lines[3],
            "[4, 8)                 1 |@@@@@@@@@@@@@@@@@                                   |"
        );
        assert_eq!(
            lines[10],
            "[512, 1K)              0 |                                                    |"
        );
        assert_eq!(
            lines[12],
            "[2K, 4K)               3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|"
        );
        assert_eq!(
            lines[21],
            "[1M, 2M)               1 |@@@@@@@@@@@@@@@@@                                   |"
        );
        assert_eq!(histogram(&[]), "");
    }

    fn ev(
        pid: u32,
        comm: &'static [u8],
        path: &'static [u8],
        ret: i64,
        dur: u64,
    ) -> OpenEvent<'static> {
        OpenEvent {
            uid: pid % 2,
            pid,
            tid: None,
            comm: Some(comm),
            path,
            path_truncated: false,
            start_ns: 0,
            outcome: Outcome::Returned { ret, end_ns: dur },
        }
    }

    fn fixture() -> Vec<OpenEvent<'static>> {
        vec![
            ev(10, b"cat", b"/etc/passwd", 3, 1_000),
            ev(10, b"cat", b"/nope", -2, 4_000),
            ev(11, b"ls", b"/etc/passwd", 3, 2_000),
            ev(11, b"ls", b"/root", -13, 9_000),
            ev(12, b"cat", b"/nope", -2, 3_000),
        ]
    }

    fn summary_text(by: Option<GroupKey>, top: Option<usize>) -> String {
        let mut summary = SummaryPrinter::new(by, top);
        for e in fixture() {
            summary.add(&e);
        }
        summary.add(&OpenEvent {
            outcome: Outcome::Unfinished,
            ..ev(9, b"x", b"/x", 0, 0)
        });
        let mut out = Vec::new();
        let counts = EndCounts {
            lost: 4,
            unfinished: 0,
            unmatched_returns: 0,
        };
        summary
            .write(&mut out, &mut UserDb::new(UserSource::Numeric), &counts)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn totals_percentiles_and_tops() {
        let text = summary_text(None, Some(1));
        assert!(
            text.starts_with("opens: 5  failed: 3 (60.0%)  unfinished: 1  lost: 4\n"),
            "{text}"
        );
        assert!(text.contains("the tracer lost 4 events"), "{text}");
        // Sorted: 1000 2000 3000 4000 9000. p50 rank 3, p90 rank ceil(4.5)=5, p99 rank 5.
        assert!(text.contains("  p50      3.00 us  (3000 ns)\n"), "{text}");
        assert!(text.contains("  p90      9.00 us  (9000 ns)\n"), "{text}");
        assert!(text.contains("  p99      9.00 us  (9000 ns)\n"), "{text}");
        assert!(text.contains("  max      9.00 us  (9000 ns)\n"), "{text}");
        // /etc/passwd and /nope both have 2 opens: the tie goes to the smaller path.
        assert!(text.contains("top paths by count:\n    COUNT  FAILED        TOTAL  PATH\n        2       0      3.00 us  /etc/passwd\n\n"), "{text}");
        // By total time: /root 9 us beats /nope 7 us.
        assert!(text.contains("top paths by total time:\n    COUNT  FAILED        TOTAL  PATH\n        1       1      9.00 us  /root\n"), "{text}");
        assert!(text.contains("top processes by total time:\n    COUNT  FAILED        TOTAL      PID COMM\n        2       1     11.00 us       11 ls\n"), "{text}");
        assert!(
            text.contains(
                "failures by errno:\n    COUNT  ERRNO\n        2  ENOENT\n        1  EACCES\n"
            ),
            "{text}"
        );
        // Buckets: [512, 1K) 1000; [1K, 2K) 2000; [2K, 4K) 3000 4000; [4K, 8K) none; [8K, 16K) 9000.
        let histogram = &text[text.find("latency histogram (ns):\n").unwrap()..];
        let bars: Vec<(&str, usize)> = histogram
            .lines()
            .skip(1)
            .map(|l| (l[..16].trim_end(), l.matches('@').count()))
            .collect();
        assert_eq!(
            bars,
            [
                ("[512, 1K)", 26),
                ("[1K, 2K)", 26),
                ("[2K, 4K)", 52),
                ("[4K, 8K)", 0),
                ("[8K, 16K)", 26)
            ]
        );
    }

    #[test]
    fn grouped_by_comm_and_errno() {
        let text = summary_text(Some(GroupKey::Comm), None);
        assert!(
            text.contains(concat!(
                "summary by comm:\n",
                "    COUNT  FAILED        TOTAL          AVG          MAX  COMM\n",
                "        3       2      8.00 us      2.67 us      4.00 us  cat\n",
                "        2       1     11.00 us      5.50 us      9.00 us  ls\n",
            )),
            "{text}"
        );
        assert!(!text.contains("top paths"), "{text}");
        let text = summary_text(Some(GroupKey::Errno), None);
        assert!(
            text.contains("        2       0      3.00 us      1.50 us      2.00 us  -\n"),
            "{text}"
        );
        assert!(
            text.contains("        2       2      7.00 us      3.50 us      4.00 us  ENOENT\n"),
            "{text}"
        );
    }

    #[test]
    fn group_keys_parse() {
        assert_eq!("pid".parse::<GroupKey>(), Ok(GroupKey::Pid));
        assert!("size"
            .parse::<GroupKey>()
            .unwrap_err()
            .to_string()
            .contains("--summary-by"));
    }
}
