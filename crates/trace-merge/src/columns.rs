//! Columns: `-o/--columns LIST` picks and orders what is printed for each open, like `ps -o`,
//! and `-T/--timestamps` adds a time column.
//!
//! Every column is one row of [`COLUMNS`]: its name (in `-o`, `--sort`, TSV and CSV headers),
//! its table heading, the names people type from other tools, its alignment and usual width,
//! and the function that writes its value. The rows serve the table printer, the CSV printer
//! (raw values, no escaping) and `--sort` (each row says how opens compare on it). A new
//! column is a [`Column`] variant and its row.

use std::cmp::Ordering;
use std::fmt;
use std::io::Write as _;
use std::str::FromStr;

use crate::details::{
    push_hex, push_mode, push_open_flags, push_path_for_people, push_resolve_flags,
    push_signal_name,
};
use crate::duration::push_human_time;
use crate::errno::name_for_ret;
use crate::escape::escape_into;
use crate::event::{OpenEvent, Outcome};
use crate::number::{push_i64, push_u64};
use crate::printer::Context;
use crate::sort::{by, Key};

/// One column of `-o`; its definition is [`Column::def`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// Entry time: seconds since the first event, or wall-clock time (`--time absolute`).
    Time,
    /// User name (the uid when it has none, or with `-N`).
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
    /// The text format's wording: `FD 3`, `ERROR -2`, `RESTARTED ERESTARTSYS`, or
    /// `UNFINISHED`.
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
    /// The `# host:` header of the open's trace (`-` without one).
    Host,
    /// The file the kernel resolved the path to (`-` when the trace does not say).
    Resolved,
    /// The resolved path when the trace has one, else the path argument (what `-F` shows).
    FullPath,
    /// The open flags, by name (`O_WRONLY|O_CREAT|O_TRUNC`).
    Flags,
    /// openat2's resolve flags, by name (`RESOLVE_BENEATH`).
    Resolve,
    /// The creation mode, octal (`0640`).
    Mode,
    /// How the file was opened: `syscall`, `io_uring`, `handle` (`-` when the trace does not
    /// say; a trace that says nothing holds system calls).
    Via,
    /// The address of a path pointer the tracer could not read (`0x1`).
    Fault,
    /// The process's cgroup v2 path.
    Cgroup,
    /// The signal that killed the process during the call (a number, `9`).
    Killed,
}

/// What there is to know about a column: one row of [`COLUMNS`].
pub struct ColumnDef {
    /// The column.
    pub column: Column,
    /// The name used in `-o`, `--sort`, TSV and CSV headers.
    pub name: &'static str,
    /// The heading of the aligned table.
    pub heading: &'static str,
    /// Other names accepted in `-o` and `--sort`, as people type them from other tools.
    pub aliases: &'static [&'static str],
    /// Right-aligned in the table.
    pub numeric: bool,
    /// The width the aligned table starts with, from the usual values (a 7-digit pid, a
    /// 16-byte comm, a 24-byte path); the column grows when a wider value arrives.
    pub width: usize,
    /// Appends the value for an open.
    pub write: fn(&mut Cell<'_, '_>, &OpenEvent<'_>),
    /// How two opens compare on this column for `--sort` (reversed with `-r`): absent values
    /// last either way ([`by`]).
    pub order: fn(&Key<'_>, &Key<'_>, bool) -> Ordering,
}

/// Every column, in the order of [`Column`] (which `--help` follows).
pub const COLUMNS: [ColumnDef; 23] = [
    ColumnDef {
        column: Column::Time,
        name: "time",
        heading: "TIME",
        aliases: &["ts", "timestamp"],
        numeric: true,
        // `12.000345`; absolute times take [`ABSOLUTE_TIME_WIDTH`].
        width: 12,
        write: |cell, ev| cell.time(ev.start_ns),
        order: |a, b, r| by(Some(a.event.start_ns), Some(b.event.start_ns), r),
    },
    ColumnDef {
        column: Column::User,
        name: "user",
        heading: "USER",
        aliases: &[],
        numeric: false,
        width: 8,
        write: |cell, ev| match cell.ctx.users.known_name(ev.uid) {
            Some(name) => cell.style.text(cell.out, name),
            None => push_u64(cell.out, ev.uid.into()),
        },
        order: |a, b, r| {
            // By name, then by uid for users without one (numbers after names).
            by(a.user, b.user, r).then_with(|| by(Some(a.event.uid), Some(b.event.uid), r))
        },
    },
    ColumnDef {
        column: Column::Uid,
        name: "uid",
        heading: "UID",
        aliases: &[],
        numeric: true,
        width: 7,
        write: |cell, ev| push_u64(cell.out, ev.uid.into()),
        order: |a, b, r| by(Some(a.event.uid), Some(b.event.uid), r),
    },
    ColumnDef {
        column: Column::Pid,
        name: "pid",
        heading: "PID",
        aliases: &[],
        numeric: true,
        width: 7,
        write: |cell, ev| push_u64(cell.out, ev.pid.into()),
        order: |a, b, r| by(Some(a.event.pid), Some(b.event.pid), r),
    },
    ColumnDef {
        column: Column::Tid,
        name: "tid",
        heading: "TID",
        aliases: &[],
        numeric: true,
        width: 7,
        write: |cell, ev| match ev.tid {
            Some(tid) => push_u64(cell.out, tid.into()),
            None => cell.absent(),
        },
        order: |a, b, r| by(a.event.tid, b.event.tid, r),
    },
    ColumnDef {
        column: Column::Comm,
        name: "comm",
        heading: "COMM",
        aliases: &["process", "name"],
        numeric: false,
        width: 16,
        write: |cell, ev| match ev.comm {
            Some(comm) => cell.style.text(cell.out, comm),
            None => cell.absent(),
        },
        order: |a, b, r| by(a.event.comm, b.event.comm, r),
    },
    ColumnDef {
        column: Column::Path,
        name: "path",
        heading: "PATH",
        aliases: &["file", "filename"],
        numeric: false,
        // Not a maximum: a path column that is not the last grows with long paths.
        width: 24,
        write: |cell, ev| match cell.style {
            // `...` when cut, and the marker of an unreadable pointer (CSV: the `fault` column).
            CellStyle::Text => push_path_for_people(cell.out, ev, false),
            _ => cell.style.text(cell.out, ev.path),
        },
        order: |a, b, r| by(Some(a.event.path), Some(b.event.path), r),
    },
    ColumnDef {
        column: Column::Result,
        name: "result",
        heading: "RESULT",
        aliases: &[],
        numeric: false,
        width: 10,
        write: |cell, ev| match ev.outcome {
            Outcome::Returned { ret, .. } if crate::errno::is_restart(ret) => {
                cell.out.extend_from_slice(b"RESTARTED ");
                let name = crate::errno::errno_name(-ret).unwrap_or("");
                cell.out.extend_from_slice(name.as_bytes());
            }
            Outcome::Returned { ret, .. } => {
                cell.out
                    .extend_from_slice(if ret >= 0 { b"FD " } else { b"ERROR " });
                push_i64(cell.out, ret);
            }
            Outcome::Killed { signal, .. } => {
                cell.out.extend_from_slice(b"KILLED ");
                push_signal_name(cell.out, signal);
            }
            Outcome::Unfinished => cell.out.extend_from_slice(b"UNFINISHED"),
        },
        order: |a, b, r| by(a.event.ret(), b.event.ret(), r),
    },
    ColumnDef {
        column: Column::Ret,
        name: "ret",
        heading: "RET",
        aliases: &[],
        numeric: true,
        width: 4,
        write: |cell, ev| match ev.ret() {
            Some(ret) => push_i64(cell.out, ret),
            None => cell.absent(),
        },
        order: |a, b, r| by(a.event.ret(), b.event.ret(), r),
    },
    ColumnDef {
        column: Column::Fd,
        name: "fd",
        heading: "FD",
        aliases: &[],
        numeric: true,
        width: 4,
        write: |cell, ev| match ev.ret() {
            Some(ret) if ret >= 0 => push_i64(cell.out, ret),
            _ => cell.absent(),
        },
        order: |a, b, r| by(fd(&a.event), fd(&b.event), r),
    },
    ColumnDef {
        column: Column::Errno,
        name: "errno",
        heading: "ERRNO",
        aliases: &["err", "error"],
        numeric: false,
        width: 7,
        write: |cell, ev| match ev.ret().and_then(name_for_ret) {
            Some(name) => {
                let _ = write!(cell.out, "{name}");
            }
            None => cell.absent(),
        },
        order: |a, b, r| by(errno(&a.event), errno(&b.event), r),
    },
    ColumnDef {
        column: Column::Duration,
        name: "duration",
        heading: "DURATION",
        aliases: &["lat", "latency"],
        numeric: true,
        width: 10,
        write: |cell, ev| match ev.duration_ns() {
            Some(ns) => push_human_time(cell.out, ns),
            None => cell.absent(),
        },
        order: |a, b, r| by(a.event.duration_ns(), b.event.duration_ns(), r),
    },
    ColumnDef {
        column: Column::DurationNs,
        name: "duration_ns",
        heading: "DURATION_NS",
        aliases: &[],
        numeric: true,
        width: 11,
        write: |cell, ev| match ev.duration_ns() {
            Some(ns) => push_u64(cell.out, ns),
            None => cell.absent(),
        },
        order: |a, b, r| by(a.event.duration_ns(), b.event.duration_ns(), r),
    },
    ColumnDef {
        column: Column::Host,
        name: "host",
        heading: "HOST",
        aliases: &["hostname"],
        numeric: false,
        width: 12,
        write: |cell, _| match &cell.ctx.info.host {
            Some(host) => cell.style.text(cell.out, host),
            None => cell.absent(),
        },
        order: |a, b, r| by(a.host, b.host, r),
    },
    ColumnDef {
        column: Column::Resolved,
        name: "resolved",
        heading: "RESOLVED",
        aliases: &["resolved_path"],
        numeric: false,
        width: 24,
        write: |cell, ev| match &ev.detail {
            Some(d) if d.resolved.is_some() => {
                cell.style.text(cell.out, d.resolved.unwrap_or_default());
                if d.resolved_truncated && cell.style == CellStyle::Text {
                    cell.out.extend_from_slice(b"...");
                }
            }
            _ => cell.absent(),
        },
        order: |a, b, r| by(a.event.resolved(), b.event.resolved(), r),
    },
    ColumnDef {
        column: Column::FullPath,
        name: "full_path",
        heading: "FULL_PATH",
        aliases: &["fullpath"],
        numeric: false,
        width: 24,
        write: |cell, ev| match cell.style {
            CellStyle::Text => push_path_for_people(cell.out, ev, true),
            _ => cell.style.text(cell.out, ev.best_path()),
        },
        order: |a, b, r| by(Some(a.event.best_path()), Some(b.event.best_path()), r),
    },
    ColumnDef {
        column: Column::Flags,
        name: "flags",
        heading: "FLAGS",
        aliases: &[],
        numeric: false,
        width: 16,
        write: |cell, ev| match ev.flags() {
            Some(flags) => push_open_flags(cell.out, flags),
            None => cell.absent(),
        },
        order: |a, b, r| by(a.event.flags(), b.event.flags(), r),
    },
    ColumnDef {
        column: Column::Resolve,
        name: "resolve",
        heading: "RESOLVE",
        aliases: &[],
        numeric: false,
        width: 8,
        write: |cell, ev| match ev.details().resolve {
            Some(resolve) => push_resolve_flags(cell.out, resolve),
            None => cell.absent(),
        },
        order: |a, b, r| by(a.event.details().resolve, b.event.details().resolve, r),
    },
    ColumnDef {
        column: Column::Mode,
        name: "mode",
        heading: "MODE",
        aliases: &[],
        numeric: true,
        width: 5,
        write: |cell, ev| match ev.details().mode {
            Some(mode) => push_mode(cell.out, mode),
            None => cell.absent(),
        },
        order: |a, b, r| by(a.event.details().mode, b.event.details().mode, r),
    },
    ColumnDef {
        column: Column::Via,
        name: "via",
        heading: "VIA",
        aliases: &[],
        numeric: false,
        width: 8,
        write: |cell, ev| match ev.details().via {
            Some(via) => cell.out.extend_from_slice(via.name().as_bytes()),
            None => cell.absent(),
        },
        order: |a, b, r| by(a.event.details().via, b.event.details().via, r),
    },
    ColumnDef {
        column: Column::Fault,
        name: "fault",
        heading: "FAULT",
        aliases: &[],
        numeric: false,
        width: 6,
        write: |cell, ev| match ev.fault() {
            Some(address) => push_hex(cell.out, address),
            None => cell.absent(),
        },
        order: |a, b, r| by(a.event.fault(), b.event.fault(), r),
    },
    ColumnDef {
        column: Column::Cgroup,
        name: "cgroup",
        heading: "CGROUP",
        aliases: &[],
        numeric: false,
        width: 16,
        write: |cell, ev| match ev.cgroup() {
            Some(cgroup) => cell.style.text(cell.out, cgroup),
            None => cell.absent(),
        },
        order: |a, b, r| by(a.event.cgroup(), b.event.cgroup(), r),
    },
    ColumnDef {
        column: Column::Killed,
        name: "killed",
        heading: "KILLED",
        aliases: &["signal"],
        numeric: true,
        width: 6,
        write: |cell, ev| match ev.killed() {
            Some(signal) => push_u64(cell.out, signal.into()),
            None => cell.absent(),
        },
        order: |a, b, r| by(a.event.killed(), b.event.killed(), r),
    },
];

/// The fd of a successful open.
fn fd(event: &OpenEvent<'_>) -> Option<i64> {
    event.ret().filter(|&r| r >= 0)
}

/// The errno name of a failed open.
fn errno(event: &OpenEvent<'_>) -> Option<crate::errno::ErrnoName> {
    event.ret().and_then(name_for_ret)
}

/// The starting width of an absolute time column (`2026-11-26T04:34:05.123456Z`).
pub const ABSOLUTE_TIME_WIDTH: usize = 27;

impl Column {
    /// The columns printed by `-T` alone (the text format's fields, with time first).
    pub const DEFAULT: [Column; 6] = [
        Column::User,
        Column::Pid,
        Column::Comm,
        Column::Path,
        Column::Result,
        Column::Duration,
    ];

    /// This column's row of [`COLUMNS`].
    #[inline]
    pub fn def(self) -> &'static ColumnDef {
        &COLUMNS[self as usize]
    }

    /// The name used in `-o`, `--sort`, TSV and CSV headers.
    pub fn name(self) -> &'static str {
        self.def().name
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name in `-o` or `--sort` that is not a column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown column `{name}` (columns: {})", COLUMNS.map(|c| c.name).join(", "))]
pub struct UnknownColumn {
    /// What was given.
    pub name: String,
}

impl FromStr for Column {
    type Err = UnknownColumn;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let lower = s.to_ascii_lowercase();
        COLUMNS
            .iter()
            .find(|c| c.name == lower || c.aliases.contains(&lower.as_str()))
            .map(|c| c.column)
            .ok_or_else(|| UnknownColumn {
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

impl CellStyle {
    /// Appends text from the trace (a path, a name): escaped for people, raw for CSV.
    #[inline]
    fn text(self, out: &mut Vec<u8>, bytes: &[u8]) {
        match self {
            CellStyle::Text | CellStyle::EscapedRaw => escape_into(out, bytes),
            CellStyle::Raw => out.extend_from_slice(bytes),
        }
    }
}

/// The time column's state: the base of relative times.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeState {
    /// Relative or absolute.
    pub mode: TimeMode,
    /// The timestamp relative times count from; the first event's, unless set before.
    pub base_ns: Option<u64>,
}

/// Where a column's [`ColumnDef::write`] puts its value, with what it needs to know.
pub struct Cell<'a, 'c> {
    /// User names and the trace's headers.
    pub ctx: &'a mut Context<'c>,
    /// The time column's state.
    pub time: &'a mut TimeState,
    /// How values are written.
    pub style: CellStyle,
    /// The cell's bytes.
    pub out: &'a mut Vec<u8>,
}

impl Cell<'_, '_> {
    /// A value that does not apply: `-` for people, an empty CSV field.
    fn absent(&mut self) {
        if self.style == CellStyle::Text {
            self.out.push(b'-');
        }
    }

    /// The time column: relative to the base, or wall-clock time when the trace says how.
    fn time(&mut self, start_ns: u64) {
        let wall_offset_ns = self.ctx.info.wall_clock_offset(start_ns);
        write_time(start_ns, wall_offset_ns, self.time, self.out);
    }
}

/// Appends the value of `column` for `event` to `out`.
#[inline]
pub fn write_cell(
    column: Column,
    event: &OpenEvent<'_>,
    ctx: &mut Context<'_>,
    time: &mut TimeState,
    style: CellStyle,
    out: &mut Vec<u8>,
) {
    let mut cell = Cell {
        ctx,
        time,
        style,
        out,
    };
    (column.def().write)(&mut cell, event);
}

fn write_time(start_ns: u64, wall_offset_ns: Option<i64>, time: &mut TimeState, out: &mut Vec<u8>) {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::info::TraceInfo;
    use crate::users::UserDb;

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
            detail: None,
        }
    }

    fn cell(column: Column, event: &OpenEvent<'_>, style: CellStyle) -> String {
        let mut users = UserDb::from_names(&[(1000, "alice"), (0, "root")]);
        let info = TraceInfo::default();
        let mut ctx = Context {
            users: &mut users,
            info: &info,
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
        for (i, def) in COLUMNS.iter().enumerate() {
            assert_eq!(def.column as usize, i, "COLUMNS is in the order of Column");
            assert_eq!(def.name.parse::<Column>().unwrap(), def.column);
            for alias in def.aliases {
                assert_eq!(alias.parse::<Column>().unwrap(), def.column);
            }
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
            detail: None,
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
}
