//! `--summary` and `--summary-by KEY`: what `strace -c` and bpftrace's `hist()` give together,
//! printed instead of the events.
//!
//! - totals: completed opens, failures, restarted opens (interrupted by a signal, -512..-516:
//!   not failures; shown only when there are some), unfinished opens, events the tracer lost;
//! - latency percentiles p50, p90, p99 and the maximum: the nearest-rank percentile, the value
//!   at 1-based rank `ceil(p/100 * n)` of the sorted durations, exact up to 524,288 opens
//!   (so a duration that was really measured) and within 0.05% past that, as the output then
//!   says ([`crate::latency::LatencySketch`]); the maximum is always exact;
//! - the top paths and processes (pid and comm) by count and by total time (`--top N`,
//!   10 by default), failures by errno name;
//! - a log2 histogram of latency in ns, drawn as bpftrace 0.17 draws `hist()`: the bucket
//!   label left-aligned in 16 columns, the count right-aligned in 8, a bar of up to 52 `@`
//!   scaled to the largest bucket, only the buckets from the first to the last non-empty one.
//!   (bpftrace scales in `float`; this scales in integers, `count * 52 / max`, so a bar can be
//!   one `@` longer than bpftrace's when the float rounds down.)
//!
//! With `--summary-by path|comm|pid|user|errno|cgroup|via`, the top tables are replaced by one
//! table with a row per value of that key (count, failures, total, average and maximum time),
//! most frequent first.
//!
//! From version-2 traces (an old trace prints as before): paths are grouped by the resolved
//! path when the trace has one, else by the argument, so `b/x`, `./b/x` and `/tmp/a/b/x` are
//! one row; a path the tracer could not read is a row of its own, `\<unreadable 0x1>`. An
//! open whose process was killed during the call never returned: it is counted apart
//! (`killed: N` in the totals, only when there are some), like the unfinished opens, and is
//! in neither the failures, the latency, nor the tables. `cgroup` and `via` group by the
//! process's cgroup and by how the file was opened (`-` when the trace does not say).
//!
//! Memory is bounded whatever the input: at most 4 MB of exact durations, then a fixed
//! histogram; at most 2,048 paths, processes or groups (or twice `--top`), the busiest kept by
//! the space-saving scheme of [`crate::top_groups`]. When groups had to be dropped, the output
//! says so under the table, with the most any figure shown may be too high.

use rustc_hash::FxHashMap as HashMap;
use std::io::{self, Write};

use super::{Context, Print};
use crate::details::push_unreadable;
use crate::duration::human_time;
use crate::errno::{name_for_ret, ErrnoName};
use crate::escape::escape_into;
use crate::event::{OpenEvent, Outcome};
use crate::group_key::GroupKey;
use crate::latency::{log2_bucket_label, LatencySketch, EXACT_LIMIT, RELATIVE_ERROR_TEXT};
use crate::top_groups::{Over, Tally, TopGroups};
use crate::users::UserDb;

/// Groups kept at least per table (twice as many at most); more with a larger `--top`.
const KEEP_GROUPS: usize = 1024;

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
    total: Tally,
    unfinished_seen: u64,
    killed_seen: u64,
    /// The key of an unreadable path, built once per open that has one.
    fault_key: Vec<u8>,
    durations: LatencySketch,
    paths: TopGroups<Vec<u8>>,
    procs: TopGroups<ProcessKey>,
    errnos: HashMap<ErrnoName, u64>,
    groups: TopGroups<GroupValue>,
}

impl SummaryPrinter {
    /// A summary with the top tables of `top` rows each, or grouped `by` one key (all rows,
    /// or the first `top` when given).
    pub fn new(by: Option<GroupKey>, top: Option<usize>) -> SummaryPrinter {
        let top = top.unwrap_or(if by.is_some() { usize::MAX } else { 10 });
        let keep = if top == usize::MAX {
            KEEP_GROUPS
        } else {
            KEEP_GROUPS.max(top)
        };
        SummaryPrinter {
            by,
            top,
            total: Tally::default(),
            unfinished_seen: 0,
            killed_seen: 0,
            fault_key: Vec::new(),
            durations: LatencySketch::new(),
            paths: TopGroups::new(keep, Vec::len),
            procs: TopGroups::new(keep, |(_, comm)| comm.as_ref().map_or(0, Vec::len)),
            errnos: HashMap::default(),
            groups: TopGroups::new(keep, |value| match value {
                GroupValue::Bytes(bytes) => bytes.len(),
                _ => 0,
            }),
        }
    }

    /// Counts one open.
    fn add(&mut self, event: &OpenEvent<'_>) {
        let ret = match event.outcome {
            Outcome::Returned { ret, .. } => ret,
            Outcome::Killed { .. } => {
                self.killed_seen += 1;
                return;
            }
            Outcome::Unfinished => {
                self.unfinished_seen += 1;
                return;
            }
        };
        let path = match event.fault() {
            Some(address) if event.resolved().is_none() => {
                self.fault_key.clear();
                self.fault_key.push(UNREADABLE_KEY);
                self.fault_key.extend_from_slice(&address.to_le_bytes());
                &self.fault_key[..]
            }
            _ => event.best_path(),
        };
        let ns = event.duration_ns().unwrap_or(0);
        self.total.add(ret, ns);
        self.durations.record(ns);
        let errno = name_for_ret(ret).filter(|_| !crate::errno::is_restart(ret));
        if let Some(name) = errno {
            *self.errnos.entry(name).or_default() += 1;
        }
        match self.by {
            None => {
                self.paths.add(path, ret, ns);
                let key = (event.pid, event.comm.map(<[u8]>::to_vec));
                self.procs.add(&key, ret, ns);
            }
            Some(by) => {
                let value = match by {
                    GroupKey::Path => GroupValue::Bytes(path.to_vec()),
                    GroupKey::Comm => GroupValue::Bytes(event.comm.unwrap_or(b"-").to_vec()),
                    GroupKey::Pid => GroupValue::Number(event.pid),
                    GroupKey::User => GroupValue::Number(event.uid),
                    GroupKey::Errno => GroupValue::Errno(errno),
                    GroupKey::Cgroup => GroupValue::Bytes(event.cgroup().unwrap_or(b"-").to_vec()),
                    GroupKey::Via => GroupValue::Bytes(match event.details().via {
                        Some(via) => via.name().as_bytes().to_vec(),
                        None => b"-".to_vec(),
                    }),
                };
                self.groups.add(&value, ret, ns);
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
        if self.killed_seen > 0 {
            write!(out, "  killed: {}", self.killed_seen)?;
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
        if self.durations.count() > 0 {
            write!(
                out,
                "\nlatency of {} completed opens",
                self.durations.count()
            )?;
            if self.durations.is_exact() {
                writeln!(out, ":")?;
            } else {
                writeln!(
                    out,
                    " (more than {EXACT_LIMIT}: percentiles within {RELATIVE_ERROR_TEXT}, \
                     from a log-linear histogram; max exact):"
                )?;
            }
            let labels = ["p50", "p90", "p99", "max"];
            let values = self.durations.percentiles(&[50, 90, 99, 100]);
            for (label, ns) in labels.into_iter().zip(values) {
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
        if self.durations.count() > 0 {
            writeln!(out, "\nlatency histogram (ns):")?;
            out.write_all(histogram(self.durations.log2_counts()).as_bytes())?;
        }
        Ok(())
    }

    fn write_tops(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut label = Vec::new();
        for by_time in [false, true] {
            let mut rows: Vec<(&Vec<u8>, &Tally)> = self.paths.iter().collect();
            sort_rows(&mut rows, by_time, self.top);
            let what = if by_time { "total time" } else { "count" };
            writeln!(out, "\ntop paths by {what}:")?;
            writeln!(
                out,
                "  {:>7} {:>7} {:>12}  PATH",
                "COUNT", "FAILED", "TOTAL"
            )?;
            for (path, agg) in &rows {
                label.clear();
                push_path_label(&mut label, path);
                write_agg_row(out, agg, false, &label)?;
            }
            write_dropped_note(out, &self.paths, rows.iter().map(|r| r.1), "paths")?;
        }
        for by_time in [false, true] {
            let mut rows: Vec<(&ProcessKey, &Tally)> = self.procs.iter().collect();
            sort_rows(&mut rows, by_time, self.top);
            let what = if by_time { "total time" } else { "count" };
            writeln!(out, "\ntop processes by {what}:")?;
            writeln!(
                out,
                "  {:>7} {:>7} {:>12}  {:>7} COMM",
                "COUNT", "FAILED", "TOTAL", "PID"
            )?;
            for ((pid, comm), agg) in &rows {
                label.clear();
                write!(label, "{pid:>7} ")?;
                escape_into(&mut label, comm.as_deref().unwrap_or(b"-"));
                write_agg_row(out, agg, false, &label)?;
            }
            write_dropped_note(out, &self.procs, rows.iter().map(|r| r.1), "processes")?;
        }
        Ok(())
    }

    fn write_groups(
        &self,
        out: &mut dyn Write,
        by: GroupKey,
        users: &mut UserDb,
    ) -> io::Result<()> {
        let mut rows: Vec<(&GroupValue, &Tally)> = self.groups.iter().collect();
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
        for (value, agg) in &rows {
            label.clear();
            match value {
                GroupValue::Bytes(bytes) if by == GroupKey::Path => {
                    push_path_label(&mut label, bytes)
                }
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
        write_dropped_note(out, &self.groups, rows.iter().map(|r| r.1), "groups")
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

/// The first byte of the key of an unreadable path (then its address, 8 bytes little-endian):
/// a NUL, which no file name holds.
const UNREADABLE_KEY: u8 = 0;

/// A path key as shown: escaped, or the marker of an unreadable pointer.
fn push_path_label(label: &mut Vec<u8>, key: &[u8]) {
    match key.split_first() {
        Some((&UNREADABLE_KEY, address)) if address.len() == 8 => {
            let address = u64::from_le_bytes(address.try_into().expect("8 bytes"));
            push_unreadable(label, address);
        }
        _ => escape_into(label, key),
    }
}

/// Under a table whose groups had to be dropped to bound memory: how far its figures may be
/// off ([`crate::top_groups`]).
fn write_dropped_note<'t, K: std::hash::Hash + Ord + Clone>(
    out: &mut dyn Write,
    table: &TopGroups<K>,
    shown: impl Iterator<Item = &'t Tally>,
    what: &str,
) -> io::Result<()> {
    if table.dropped() == 0 {
        return Ok(());
    }
    let over = shown.fold(Over::default(), |a, t| Over {
        count: a.count.max(t.over.count),
        failed: a.failed.max(t.over.failed),
        total_ns: a.total_ns.max(t.over.total_ns),
    });
    writeln!(
        out,
        "  (more than {} {what}: the busiest are kept (space-saving), {} dropped on the way; \
         a figure above is at most {} opens, {} failures, {} too high; MAX, AVG approximate)",
        2 * table.keep(),
        table.dropped(),
        over.count,
        over.failed,
        human_time(over.total_ns)
    )
}

/// Most first (by count or by total time); ties by key, so output is deterministic. Only the
/// first `top` rows are kept: they are selected first and only they are sorted (a summary of
/// millions of opens may have a million processes and show ten).
fn sort_rows<K: Ord>(rows: &mut Vec<(K, &Tally)>, by_time: bool, top: usize) {
    let order = |a: &(K, &Tally), b: &(K, &Tally)| {
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

fn write_agg_row(out: &mut dyn Write, agg: &Tally, detail: bool, label: &[u8]) -> io::Result<()> {
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

/// The histogram of the log2 bucket counts, one line per bucket from the first non-empty to
/// the last.
pub fn histogram(counts: &[u64; 65]) -> String {
    let Some(first) = counts.iter().position(|&c| c > 0) else {
        return String::new();
    };
    let last = counts.iter().rposition(|&c| c > 0).unwrap_or(first);
    let max = counts.iter().copied().max().unwrap_or(1);
    let mut text = String::new();
    for (k, &count) in counts.iter().enumerate().take(last + 1).skip(first) {
        let label = log2_bucket_label(k);
        let bar = "@".repeat((u128::from(count) * 52 / u128::from(max)) as usize);
        text.push_str(&format!("{label:<16}{count:>8} |{bar:<52}|\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::UserSource;

    fn log2_counts(values: &[u64]) -> [u64; 65] {
        let mut counts = [0; 65];
        for &v in values {
            counts[crate::latency::log2_bucket(v)] += 1;
        }
        counts
    }

    #[test]
    fn histogram_matches_bpftrace_output() {
        // The same values given to bpftrace 0.17's hist() (0, 1, 1, 5, 3000 x3, 2000000), whose
        // output is copied here from a real run, trimmed to the buckets between [0] and [1M, 2M).
        let text = histogram(&log2_counts(&[0, 1, 1, 5, 3000, 3000, 3000, 2_000_000]));
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
        assert_eq!(histogram(&[0; 65]), "");
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
            detail: None,
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
    fn bounded_memory_is_stated_in_the_output() {
        // 600,000 opens over 3,000 paths: more than the exact durations and the groups kept.
        let mut summary = SummaryPrinter::new(None, None);
        let names: Vec<Vec<u8>> = (0..3000).map(|i| format!("/p/{i}").into_bytes()).collect();
        for i in 0..600_000u64 {
            let path: &[u8] = if i % 2 == 0 {
                b"/hot"
            } else {
                &names[(i / 2 % 3000) as usize]
            };
            let e = OpenEvent {
                path,
                ..ev(
                    1,
                    b"app",
                    b"",
                    if i % 4 == 1 { -2 } else { 3 },
                    1000 + i % 7919,
                )
            };
            summary.add(&e);
        }
        let mut out = Vec::new();
        summary
            .write(
                &mut out,
                &mut UserDb::new(UserSource::Numeric),
                &EndCounts::default(),
            )
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(
                "latency of 600000 completed opens (more than 524288: percentiles within 0.05%"
            ),
            "{text}"
        );
        // The hot path is counted exactly: it never left the table.
        assert!(text.contains("   300000       0"), "{text}");
        assert!(
            text.contains("(more than 2048 paths: the busiest are kept (space-saving)"),
            "{text}"
        );
        assert!(summary.paths.iter().count() <= 2048);
        // Exact under the limits: no note.
        let small = summary_text(None, None);
        assert!(
            !small.contains("space-saving") && !small.contains("within"),
            "{small}"
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
