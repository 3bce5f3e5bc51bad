//! `-o LIST` / `-T`: the chosen columns ([`crate::columns`]) of each open.
//!
//! On a terminal, an aligned table under a header row, each column at least as wide as its
//! usual values and grown (never shrunk) when a wider value arrives, so output stays live with
//! no look-ahead; the last column is never padded. Otherwise (a pipe or file), one
//! tab-separated row per open, still with a header row unless `--no-header`. Cells escape
//! control bytes and backslashes ([`crate::escape`]), which also keeps a tab in a path from
//! breaking a TSV row.

use std::io::{self, Write};

use super::{Context, Print};
use crate::columns::{write_cell, CellStyle, Column, TimeMode, TimeState, ABSOLUTE_TIME_WIDTH};
use crate::event::OpenEvent;

/// Table or tab-separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Aligned columns (stdout is a terminal).
    Aligned,
    /// Tab-separated values.
    Tsv,
}

/// Writes opens as rows of the chosen columns.
#[derive(Debug)]
pub struct TablePrinter {
    columns: Vec<Column>,
    layout: Layout,
    header: bool,
    time: TimeState,
    widths: Vec<usize>,
    cell: Vec<u8>,
    row: Vec<u8>,
}

impl TablePrinter {
    /// A printer of `columns`, aligned when `terminal`; `header` false for `--no-header`.
    pub fn new(columns: Vec<Column>, terminal: bool, header: bool, time: TimeMode) -> Self {
        let layout = if terminal {
            Layout::Aligned
        } else {
            Layout::Tsv
        };
        Self::with_layout(columns, layout, header, time)
    }

    fn with_layout(columns: Vec<Column>, layout: Layout, header: bool, time: TimeMode) -> Self {
        let widths = columns.iter().map(|&c| start_width(c, time)).collect();
        TablePrinter {
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
                    if self.columns[index].def().numeric {
                        self.row.resize(self.row.len() + pad, b' ');
                    }
                    self.row.extend_from_slice(&self.cell);
                    self.row.push(b'\n');
                } else {
                    if self.columns[index].def().numeric {
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

impl Print for TablePrinter {
    fn begin<W: Write>(&mut self, out: &mut W, time_base: Option<u64>) -> io::Result<()> {
        if time_base.is_some() {
            self.time.base_ns = time_base;
        }
        if !self.header {
            return Ok(());
        }
        self.row.clear();
        for i in 0..self.columns.len() {
            let column = self.columns[i];
            self.cell.extend_from_slice(match self.layout {
                Layout::Aligned => column.def().heading.as_bytes(),
                Layout::Tsv => column.def().name.as_bytes(),
            });
            self.push_cell(i);
        }
        out.write_all(&self.row)
    }

    #[inline(never)]
    fn event<W: Write>(
        &mut self,
        out: &mut W,
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

/// The width a column starts with: its usual values, and at least its heading.
fn start_width(column: Column, time: TimeMode) -> usize {
    let def = column.def();
    let typical = match (column, time) {
        (Column::Time, TimeMode::Absolute) => ABSOLUTE_TIME_WIDTH,
        _ => def.width,
    };
    typical.max(def.heading.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::parse_columns;
    use crate::event::Outcome;
    use crate::info::TraceInfo;
    use crate::users::{UserDb, UserSource};

    /// A returned open.
    fn returned<'a>(pid: u32, path: &'a [u8], start_ns: u64, ret: i64, dur: u64) -> OpenEvent<'a> {
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

    fn render(layout: Layout, header: bool, events: &[OpenEvent<'_>]) -> String {
        let mut printer = TablePrinter::with_layout(
            parse_columns("pid,comm,path,errno,duration_ns").unwrap(),
            layout,
            header,
            TimeMode::Relative,
        );
        let mut out = Vec::new();
        printer.begin(&mut out, None).unwrap();
        let mut users = UserDb::new(UserSource::Numeric);
        let info = TraceInfo::default();
        for event in events {
            let mut ctx = Context {
                users: &mut users,
                info: &info,
            };
            printer.event(&mut out, event, &mut ctx).unwrap();
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
