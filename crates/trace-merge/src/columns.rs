//! Columns: `-o/--columns LIST` picks and orders what is printed for each open, like `ps -o`,
//! and `-T/--timestamps` adds a time column.
//!
//! The same column definitions serve three places: the text table here, the CSV writer
//! (raw values, no escaping) and the sort keys (`--sort` names columns).
//!
//! Text layout: on a terminal, an aligned table under a header row, each column at least as
//! wide as its usual values and grown (never shrunk) when a wider value arrives, so output
//! stays live with no look-ahead; the last column is never padded. Otherwise
//! (a pipe or file), one tab-separated row per open, still with a header row unless
//! `--no-header`. Text cells escape control bytes and backslashes ([`escape_text`]), which
//! also keeps a tab in a path from breaking a TSV row.

use std::fmt;
use std::io;
use std::str::FromStr;

use crate::duration::HumanDuration;
use crate::errno::name_for_ret;
use crate::event::{OpenEvent, Outcome};
use crate::format::{escape_text, push_i64, push_u64, Context, EventWriter};

/// One column of `-o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// Entry time: seconds since the first event, or wall-clock time (`--time absolute`).
    Time,
    /// User name (the uid when it has none, or with `-n`).
    User,
    /// Numeric uid.
    Uid,
    /// Process id.
    Pid,
    /// Thread id (`-` when the trace has none).
    Tid,
    /// Process name (`-` when the trace has none).
    Comm,
    /// The path opened.
    Path,
    /// The seed's wording: `FD 3`, `ERROR -2`, or `UNFINISHED`.
    Result,
    /// The raw return value.
    Ret,
    /// The file descriptor, on success.
    Fd,
    /// The errno name (`ENOENT`), on failure.
    Errno,
    /// Duration, human-readable (`10.17 us`).
    Duration,
    /// Duration in integer nanoseconds.
    DurationNs,
}

impl Column {
    /// Every column, in the order `--help` lists them.
    pub const ALL: [Column; 13] = [
        Column::Time,
        Column::User,
        Column::Uid,
        Column::Pid,
        Column::Tid,
        Column::Comm,
        Column::Path,
        Column::Result,
        Column::Ret,
        Column::Fd,
        Column::Errno,
        Column::Duration,
        Column::DurationNs,
    ];

    /// The columns printed by `-T` alone (the seed's fields, with time first).
    pub const DEFAULT: [Column; 6] = [
        Column::User,
        Column::Pid,
        Column::Comm,
        Column::Path,
        Column::Result,
        Column::Duration,
    ];

    /// The name used in `-o`, `--sort`, TSV and CSV headers.
    pub fn name(self) -> &'static str {
        match self {
            Column::Time => "time",
            Column::User => "user",
            Column::Uid => "uid",
            Column::Pid => "pid",
            Column::Tid => "tid",
            Column::Comm => "comm",
            Column::Path => "path",
            Column::Result => "result",
            Column::Ret => "ret",
            Column::Fd => "fd",
            Column::Errno => "errno",
            Column::Duration => "duration",
            Column::DurationNs => "duration_ns",
        }
    }

    /// The heading of the aligned table.
    pub fn heading(self) -> &'static str {
        match self {
            Column::Time => "TIME",
            Column::User => "USER",
            Column::Uid => "UID",
            Column::Pid => "PID",
            Column::Tid => "TID",
            Column::Comm => "COMM",
            Column::Path => "PATH",
            Column::Result => "RESULT",
            Column::Ret => "RET",
            Column::Fd => "FD",
            Column::Errno => "ERRNO",
            Column::Duration => "DURATION",
            Column::DurationNs => "DURATION_NS",
        }
    }

    /// Numbers are right-aligned in the table.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Column::Time
                | Column::Uid
                | Column::Pid
                | Column::Tid
                | Column::Ret
                | Column::Fd
                | Column::Duration
                | Column::DurationNs
        )
    }

    /// The width the table starts with, from the usual values (a 7-digit pid, a 16-byte
    /// comm, a 24-byte path, `2026-11-26T04:34:05.123456Z`).
    fn min_width(self, time: TimeMode) -> usize {
        let typical = match self {
            Column::Time => match time {
                TimeMode::Relative => 12,
                TimeMode::Absolute => 27,
            },
            Column::User => 8,
            Column::Uid | Column::Pid | Column::Tid => 7,
            Column::Comm => 16,
            // Not a maximum: a path column that is not the last grows with long paths.
            Column::Path => 24,
            Column::Result => 10,
            Column::Ret | Column::Fd => 4,
            Column::Errno => 7,
            Column::Duration => 10,
            Column::DurationNs => 11,
        };
        typical.max(self.heading().len())
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name in `-o` or `--sort` that is not a column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown column `{name}` (columns: {})", Column::ALL.map(Column::name).join(", "))]
pub struct UnknownColumn {
    /// What was given.
    pub name: String,
}

impl FromStr for Column {
    type Err = UnknownColumn;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        // A few aliases people type from other tools.
        let alias = match s.to_ascii_lowercase().as_str() {
            "ts" | "timestamp" => Some(Column::Time),
            "process" | "name" => Some(Column::Comm),
            "file" | "filename" => Some(Column::Path),
            "err" | "error" => Some(Column::Errno),
            "lat" | "latency" => Some(Column::Duration),
            other => Column::ALL.into_iter().find(|c| c.name() == other),
        };
        alias.ok_or_else(|| UnknownColumn {
            name: s.to_string(),
        })
    }
}

/// Parses `-o LIST`: names separated by commas (or spaces), in the order to print them.
pub fn parse_columns(list: &str) -> Result<Vec<Column>, ColumnListError> {
    let mut columns = Vec::new();
    for name in list.split([',', ' ']).filter(|n| !n.is_empty()) {
        let column: Column = name.parse()?;
        if columns.contains(&column) {
            return Err(ColumnListError::Repeated(column));
        }
        columns.push(column);
    }
    if columns.is_empty() {
        return Err(ColumnListError::Empty);
    }
    Ok(columns)
}

/// Why `-o LIST` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColumnListError {
    /// A name that is no column.
    #[error(transparent)]
    Unknown(#[from] UnknownColumn),
    /// The same column twice.
    #[error("column `{0}` is listed twice")]
    Repeated(Column),
    /// Nothing listed.
    #[error("no column listed")]
    Empty,
}

/// What the time column shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeMode {
    /// Seconds since the first event, with microseconds (`12.000345`).
    #[default]
    Relative,
    /// Wall-clock time, RFC 3339 in UTC with microseconds (`2026-11-26T04:34:05.123456Z`),
    /// when the trace's clock offset is known; `?` otherwise.
    Absolute,
}

/// How a cell is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellStyle {
    /// For people: escaped text, `-` for a value that is absent.
    Text,
    /// For CSV: raw bytes (the CSV writer quotes), empty for a value that is absent.
    Raw,
    /// For CSV shown on a terminal: escaped text (as [`CellStyle::Text`]), empty for a value
    /// that is absent.
    EscapedRaw,
}

/// The time column's state: the base of relative times.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeState {
    /// Relative or absolute.
    pub mode: TimeMode,
    /// The timestamp relative times count from; the first event's, unless set before.
    pub base_ns: Option<u64>,
}

/// Appends the value of `column` for `event` to `out`.
pub fn write_cell(
    column: Column,
    event: &OpenEvent<'_>,
    ctx: &mut Context<'_>,
    time: &mut TimeState,
    style: CellStyle,
    out: &mut Vec<u8>,
) {
    let absent: &[u8] = match style {
        CellStyle::Text => b"-",
        CellStyle::Raw | CellStyle::EscapedRaw => b"",
    };
    let text = |bytes: &[u8], out: &mut Vec<u8>| match style {
        CellStyle::Text | CellStyle::EscapedRaw => escape_text(bytes, out),
        CellStyle::Raw => out.extend_from_slice(bytes),
    };
    match column {
        Column::Time => write_time(event.start_ns, ctx.wall_offset_ns, time, out),
        Column::User => match ctx.users.user_name(event.uid) {
            Some(name) => text(name, out),
            None => push_u64(out, event.uid.into()),
        },
        Column::Uid => push_u64(out, event.uid.into()),
        Column::Pid => push_u64(out, event.pid.into()),
        Column::Tid => match event.tid {
            Some(tid) => push_u64(out, tid.into()),
            None => out.extend_from_slice(absent),
        },
        Column::Comm => match event.comm {
            Some(comm) => text(comm, out),
            None => out.extend_from_slice(absent),
        },
        Column::Path => {
            text(event.path, out);
            if event.path_truncated && style == CellStyle::Text {
                out.extend_from_slice(b"...");
            }
        }
        Column::Result => match event.outcome {
            Outcome::Returned { ret, .. } if ret >= 0 => {
                out.extend_from_slice(b"FD ");
                push_i64(out, ret);
            }
            Outcome::Returned { ret, .. } => {
                out.extend_from_slice(b"ERROR ");
                push_i64(out, ret);
            }
            Outcome::Unfinished => out.extend_from_slice(b"UNFINISHED"),
        },
        Column::Ret => match event.ret() {
            Some(ret) => push_i64(out, ret),
            None => out.extend_from_slice(absent),
        },
        Column::Fd => match event.ret() {
            Some(ret) if ret >= 0 => push_i64(out, ret),
            _ => out.extend_from_slice(absent),
        },
        Column::Errno => match event.ret().and_then(name_for_ret) {
            Some(name) => out.extend_from_slice(name.to_string().as_bytes()),
            None => out.extend_from_slice(absent),
        },
        Column::Duration => match event.duration_ns() {
            Some(ns) => {
                use std::io::Write as _;
                let _ = write!(out, "{}", HumanDuration(ns));
            }
            None => out.extend_from_slice(absent),
        },
        Column::DurationNs => match event.duration_ns() {
            Some(ns) => push_u64(out, ns),
            None => out.extend_from_slice(absent),
        },
    }
}

fn write_time(start_ns: u64, wall_offset_ns: Option<i64>, time: &mut TimeState, out: &mut Vec<u8>) {
    use std::io::Write as _;
    match time.mode {
        TimeMode::Relative => {
            let base = *time.base_ns.get_or_insert(start_ns);
            let (sign, delta) = if start_ns >= base {
                ("", start_ns - base)
            } else {
                ("-", base - start_ns)
            };
            let _ = write!(
                out,
                "{sign}{}.{:06}",
                delta / 1_000_000_000,
                delta % 1_000_000_000 / 1000
            );
        }
        TimeMode::Absolute => match wall_offset_ns {
            Some(offset) => {
                let unix_ns = i128::from(start_ns) + i128::from(offset);
                write_rfc3339(unix_ns, out);
            }
            None => out.push(b'?'),
        },
    }
}

/// `2026-11-26T04:34:05.123456Z` for a Unix time in ns (microseconds kept, UTC).
fn write_rfc3339(unix_ns: i128, out: &mut Vec<u8>) {
    use std::io::Write as _;
    let secs = unix_ns.div_euclid(1_000_000_000);
    let micros = unix_ns.rem_euclid(1_000_000_000) / 1000;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days as i64);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Table or tab-separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Aligned columns (stdout is a terminal).
    Aligned,
    /// Tab-separated values.
    Tsv,
}

/// Writes events as rows of the chosen columns.
#[derive(Debug)]
pub struct ColumnWriter {
    columns: Vec<Column>,
    layout: Layout,
    header: bool,
    time: TimeState,
    widths: Vec<usize>,
    cell: Vec<u8>,
    row: Vec<u8>,
}

impl ColumnWriter {
    /// A writer of `columns`; `header` false for `--no-header`.
    pub fn new(columns: Vec<Column>, layout: Layout, header: bool, time: TimeMode) -> Self {
        let widths = columns.iter().map(|c| c.min_width(time)).collect();
        ColumnWriter {
            columns,
            layout,
            header,
            time: TimeState {
                mode: time,
                base_ns: None,
            },
            widths,
            cell: Vec::new(),
            row: Vec::new(),
        }
    }

    /// The columns, in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    fn push_cell(&mut self, index: usize) {
        let last = index + 1 == self.columns.len();
        match self.layout {
            Layout::Tsv => {
                self.row.extend_from_slice(&self.cell);
                self.row.push(if last { b'\n' } else { b'\t' });
            }
            Layout::Aligned => {
                let width = display_width(&self.cell);
                if width > self.widths[index] {
                    self.widths[index] = width;
                }
                let pad = self.widths[index] - width;
                if last {
                    if self.columns[index].is_numeric() {
                        self.row.resize(self.row.len() + pad, b' ');
                    }
                    self.row.extend_from_slice(&self.cell);
                    self.row.push(b'\n');
                } else {
                    if self.columns[index].is_numeric() {
                        self.row.resize(self.row.len() + pad, b' ');
                        self.row.extend_from_slice(&self.cell);
                    } else {
                        self.row.extend_from_slice(&self.cell);
                        self.row.resize(self.row.len() + pad, b' ');
                    }
                    self.row.push(b' ');
                }
            }
        }
        self.cell.clear();
    }
}

/// Columns a cell takes on a terminal: UTF-8 characters count one each, any other byte one.
fn display_width(cell: &[u8]) -> usize {
    cell.iter().filter(|&&b| b & 0xc0 != 0x80).count()
}

impl EventWriter for ColumnWriter {
    fn set_time_base(&mut self, ns: u64) {
        self.time.base_ns = Some(ns);
    }

    fn begin(&mut self, out: &mut dyn io::Write) -> io::Result<()> {
        if !self.header {
            return Ok(());
        }
        self.row.clear();
        for i in 0..self.columns.len() {
            let column = self.columns[i];
            self.cell.extend_from_slice(match self.layout {
                Layout::Aligned => column.heading().as_bytes(),
                Layout::Tsv => column.name().as_bytes(),
            });
            self.push_cell(i);
        }
        out.write_all(&self.row)
    }

    fn write_event(
        &mut self,
        out: &mut dyn io::Write,
        event: &OpenEvent<'_>,
        ctx: &mut Context<'_>,
    ) -> io::Result<()> {
        self.row.clear();
        for i in 0..self.columns.len() {
            let mut cell = std::mem::take(&mut self.cell);
            write_cell(
                self.columns[i],
                event,
                ctx,
                &mut self.time,
                CellStyle::Text,
                &mut cell,
            );
            self.cell = cell;
            self.push_cell(i);
        }
        out.write_all(&self.row)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::format::Numeric;
    use std::collections::HashMap;

    /// A returned open, for tests of every stage.
    pub(crate) fn returned<'a>(
        pid: u32,
        path: &'a [u8],
        start_ns: u64,
        ret: i64,
        dur: u64,
    ) -> OpenEvent<'a> {
        OpenEvent {
            uid: 1000,
            pid,
            tid: Some(pid + 1),
            comm: Some(b"cat"),
            path,
            path_truncated: false,
            start_ns,
            outcome: Outcome::Returned {
                ret,
                end_ns: start_ns + dur,
            },
        }
    }

    fn names() -> HashMap<u32, String> {
        HashMap::from([(1000, "alice".to_string()), (0, "root".to_string())])
    }

    fn cell(column: Column, event: &OpenEvent<'_>, style: CellStyle) -> String {
        let mut users = names();
        let mut ctx = Context {
            users: &mut users,
            wall_offset_ns: None,
        };
        let mut out = Vec::new();
        write_cell(
            column,
            event,
            &mut ctx,
            &mut TimeState::default(),
            style,
            &mut out,
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn parses_lists_in_order() {
        assert_eq!(
            parse_columns("pid,comm,path,errno").unwrap(),
            [Column::Pid, Column::Comm, Column::Path, Column::Errno]
        );
        assert_eq!(
            parse_columns("duration_ns , time").unwrap(),
            [Column::DurationNs, Column::Time]
        );
        assert_eq!(
            parse_columns("ts,latency").unwrap(),
            [Column::Time, Column::Duration]
        );
        for column in Column::ALL {
            assert_eq!(column.name().parse::<Column>().unwrap(), column);
        }
    }

    #[test]
    fn refuses_bad_lists() {
        let err = parse_columns("pid,bogus").unwrap_err();
        assert!(err.to_string().contains("unknown column `bogus`"), "{err}");
        assert!(
            err.to_string().contains("duration_ns"),
            "lists the valid ones: {err}"
        );
        assert_eq!(
            parse_columns("pid,pid"),
            Err(ColumnListError::Repeated(Column::Pid))
        );
        assert_eq!(parse_columns(" , "), Err(ColumnListError::Empty));
    }

    #[test]
    fn cells_of_a_failure_and_a_success() {
        let fail = returned(42, b"/tmp/not_exists", 1000, -2, 10_170);
        let ok = returned(42, b"/etc/hosts", 1000, 3, 999);
        assert_eq!(cell(Column::User, &fail, CellStyle::Text), "alice");
        assert_eq!(cell(Column::Uid, &fail, CellStyle::Text), "1000");
        assert_eq!(cell(Column::Tid, &fail, CellStyle::Text), "43");
        assert_eq!(cell(Column::Result, &fail, CellStyle::Text), "ERROR -2");
        assert_eq!(cell(Column::Result, &ok, CellStyle::Text), "FD 3");
        assert_eq!(cell(Column::Ret, &fail, CellStyle::Text), "-2");
        assert_eq!(cell(Column::Fd, &fail, CellStyle::Text), "-");
        assert_eq!(cell(Column::Fd, &fail, CellStyle::Raw), "");
        assert_eq!(cell(Column::Fd, &ok, CellStyle::Text), "3");
        assert_eq!(cell(Column::Errno, &fail, CellStyle::Text), "ENOENT");
        assert_eq!(cell(Column::Errno, &ok, CellStyle::Text), "-");
        assert_eq!(cell(Column::Duration, &fail, CellStyle::Text), "10.17 us");
        assert_eq!(cell(Column::DurationNs, &fail, CellStyle::Text), "10170");
    }

    #[test]
    fn cells_of_an_unfinished_open_without_tid_or_comm() {
        let event = OpenEvent {
            uid: 7,
            pid: 1,
            tid: None,
            comm: None,
            path: b"/x",
            path_truncated: true,
            start_ns: 5,
            outcome: Outcome::Unfinished,
        };
        assert_eq!(cell(Column::User, &event, CellStyle::Text), "7");
        assert_eq!(cell(Column::Tid, &event, CellStyle::Text), "-");
        assert_eq!(cell(Column::Comm, &event, CellStyle::Raw), "");
        assert_eq!(cell(Column::Result, &event, CellStyle::Text), "UNFINISHED");
        assert_eq!(cell(Column::Duration, &event, CellStyle::Text), "-");
        assert_eq!(cell(Column::Path, &event, CellStyle::Text), "/x...");
        assert_eq!(cell(Column::Path, &event, CellStyle::Raw), "/x");
    }

    #[test]
    fn text_cells_are_escaped_raw_cells_are_not() {
        let event = returned(1, b"/tmp/a\tb\x1b[2J", 0, 3, 1);
        assert_eq!(
            cell(Column::Path, &event, CellStyle::Text),
            "/tmp/a\\tb\\x1b[2J"
        );
        assert_eq!(
            cell(Column::Path, &event, CellStyle::Raw),
            "/tmp/a\tb\x1b[2J"
        );
    }

    #[test]
    fn relative_time_counts_from_the_first_event() {
        let mut time = TimeState::default();
        let mut out = Vec::new();
        for (ts, want) in [
            (5_000_000_000u64, "0.000000"),
            (6_234_567_891, "1.234567"),
            (4_999_999_000, "-0.000001"),
        ] {
            out.clear();
            write_time(ts, None, &mut time, &mut out);
            assert_eq!(String::from_utf8_lossy(&out), want);
        }
    }

    #[test]
    fn absolute_time_needs_an_offset() {
        let mut time = TimeState {
            mode: TimeMode::Absolute,
            base_ns: None,
        };
        let mut out = Vec::new();
        // The seed's example timestamp (gettimeofday_ns); python3: datetime.datetime.fromtimestamp(
        // 1795664257.567614, datetime.timezone.utc) -> 2026-11-26 03:37:37.567614+00:00
        write_time(1_795_664_257_567_614_000, Some(0), &mut time, &mut out);
        assert_eq!(String::from_utf8_lossy(&out), "2026-11-26T03:37:37.567614Z");
        out.clear();
        // Monotonic 1 s after boot, booted at Unix time 86400 (1970-01-02) minus 1 ns.
        write_time(
            1_000_000_000,
            Some(86_400_000_000_000 - 1),
            &mut time,
            &mut out,
        );
        assert_eq!(String::from_utf8_lossy(&out), "1970-01-02T00:00:00.999999Z");
        out.clear();
        write_time(5, None, &mut time, &mut out);
        assert_eq!(out, b"?");
        out.clear();
        write_rfc3339(951_782_400_000_000_000, &mut out); // leap day
        assert_eq!(String::from_utf8_lossy(&out), "2000-02-29T00:00:00.000000Z");
    }

    fn render(layout: Layout, header: bool, events: &[OpenEvent<'_>]) -> String {
        let mut writer = ColumnWriter::new(
            parse_columns("pid,comm,path,errno,duration_ns").unwrap(),
            layout,
            header,
            TimeMode::Relative,
        );
        let mut out = Vec::new();
        writer.begin(&mut out).unwrap();
        let mut users = Numeric;
        for event in events {
            let mut ctx = Context {
                users: &mut users,
                wall_offset_ns: None,
            };
            writer.write_event(&mut out, event, &mut ctx).unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn tsv_rows() {
        let events = [
            returned(42, b"/a b", 0, -13, 250),
            returned(7, b"/c", 0, 4, 1_000_000),
        ];
        assert_eq!(
            render(Layout::Tsv, true, &events),
            "pid\tcomm\tpath\terrno\tduration_ns\n42\tcat\t/a b\tEACCES\t250\n7\tcat\t/c\t-\t1000000\n"
        );
        assert!(render(Layout::Tsv, false, &events).starts_with("42\t"));
    }

    #[test]
    fn aligned_rows_line_up_and_grow() {
        let long_comm = OpenEvent {
            comm: Some(b"a-very-long-process-name"),
            ..returned(1, b"/p", 0, 3, 1)
        };
        let events = [
            returned(42, b"/a", 0, -2, 250),
            long_comm,
            returned(7, b"/c", 0, -2, 5),
        ];
        let text = render(Layout::Aligned, true, &events);
        let lines: Vec<&str> = text.lines().collect();
        let row = |pid: &str, comm: &str, comm_w: usize, path: &str, errno: &str, ns: &str| {
            format!("{pid:>7} {comm:<comm_w$} {path:<24} {errno:<7} {ns:>11}")
        };
        assert_eq!(
            lines[0],
            row("PID", "COMM", 16, "PATH", "ERRNO", "DURATION_NS")
        );
        assert_eq!(lines[1], row("42", "cat", 16, "/a", "ENOENT", "250"));
        // The wide comm pushes the later columns right, and they stay there.
        assert_eq!(
            lines[2],
            row("1", "a-very-long-process-name", 24, "/p", "-", "1")
        );
        assert_eq!(lines[3], row("7", "cat", 24, "/c", "ENOENT", "5"));
    }
}
