//! `--format csv`: RFC 4180 CSV with a header row, for spreadsheets, `pandas.read_csv`,
//! `sqlite3 .import`, and the `csv` crate.
//!
//! Records end with CRLF, as RFC 4180 says (every CSV reader accepts it). A field is quoted
//! when it holds a comma, a double quote, CR or LF, and inner quotes are doubled. Fields are
//! the raw bytes, not escaped: a non-UTF-8 path is written byte for byte, so reading it
//! back as bytes (`csv::ByteRecord`, Python's `open(..., 'rb')`) is lossless. An absent value
//! (no tid, a failed open's fd, an unfinished open's ret) is an empty field.
//!
//! Fields: with `-o LIST`, those columns (named as in `-o`, values as in the text table but
//! unescaped); otherwise the JSON keys: `ts,uid,user,pid,tid,comm,path,ret,fd,errno,duration_ns`,
//! where `ts` is the raw entry timestamp in ns and `user` is empty when the name is unknown.
//!
//! Written by hand: quoting is ten lines, and the writer keeps one buffer for all records.

use std::io::{self, Write};

use super::{Context, Print};
use crate::columns::{write_cell, CellStyle, Column, TimeMode, TimeState};
use crate::event::OpenEvent;
use crate::number::push_u64;

/// The header of the default field set.
pub const DEFAULT_FIELDS: [&str; 11] = [
    "ts",
    "uid",
    "user",
    "pid",
    "tid",
    "comm",
    "path",
    "ret",
    "fd",
    "errno",
    "duration_ns",
];

/// Writes one CSV record per open.
#[derive(Debug)]
pub struct CsvPrinter {
    /// `None`: the default fields.
    columns: Option<Vec<Column>>,
    header: bool,
    time: TimeState,
    /// Raw bytes, or escaped when the CSV is shown on a terminal.
    style: CellStyle,
    field: Vec<u8>,
    record: Vec<u8>,
}

impl CsvPrinter {
    /// A printer of `columns` (`None` for the default fields); `header` false for `--no-header`;
    /// `escape` when the output is a terminal.
    pub fn new(columns: Option<Vec<Column>>, header: bool, time: TimeMode, escape: bool) -> Self {
        CsvPrinter {
            style: if escape {
                CellStyle::EscapedRaw
            } else {
                CellStyle::Raw
            },
            columns,
            header,
            time: TimeState {
                mode: time,
                base_ns: None,
            },
            field: Vec::new(),
            record: Vec::new(),
        }
    }

    fn end_field(&mut self, last: bool) {
        push_field(&mut self.record, &self.field);
        self.record
            .extend_from_slice(if last { b"\r\n" } else { b"," });
        self.field.clear();
    }
}

/// Appends one field, quoted when RFC 4180 requires it.
pub fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    if field
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        out.push(b'"');
        for &b in field {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field);
    }
}

impl Print for CsvPrinter {
    fn begin<W: Write>(&mut self, out: &mut W, time_base: Option<u64>) -> io::Result<()> {
        if time_base.is_some() {
            self.time.base_ns = time_base;
        }
        if !self.header {
            return Ok(());
        }
        self.record.clear();
        let names: Vec<&str> = match &self.columns {
            Some(columns) => columns.iter().map(|c| c.name()).collect(),
            None => DEFAULT_FIELDS.to_vec(),
        };
        for (i, name) in names.iter().enumerate() {
            self.field.extend_from_slice(name.as_bytes());
            self.end_field(i + 1 == names.len());
        }
        out.write_all(&self.record)
    }

    #[inline(never)]
    fn event<W: Write>(
        &mut self,
        out: &mut W,
        event: &OpenEvent<'_>,
        ctx: &mut Context<'_>,
    ) -> io::Result<()> {
        self.record.clear();
        match self.columns.take() {
            Some(columns) => {
                for (i, &column) in columns.iter().enumerate() {
                    let mut field = std::mem::take(&mut self.field);
                    write_cell(column, event, ctx, &mut self.time, self.style, &mut field);
                    self.field = field;
                    self.end_field(i + 1 == columns.len());
                }
                self.columns = Some(columns);
            }
            None => {
                push_u64(&mut self.field, event.start_ns);
                self.end_field(false);
                push_u64(&mut self.field, event.uid.into());
                self.end_field(false);
                if let Some(name) = ctx.users.known_name(event.uid) {
                    if self.style == CellStyle::Raw {
                        self.field.extend_from_slice(name);
                    } else {
                        crate::escape::escape_into(&mut self.field, name);
                    }
                }
                self.end_field(false);
                for column in [
                    Column::Pid,
                    Column::Tid,
                    Column::Comm,
                    Column::Path,
                    Column::Ret,
                    Column::Fd,
                    Column::Errno,
                    Column::DurationNs,
                ] {
                    let mut field = std::mem::take(&mut self.field);
                    write_cell(column, event, ctx, &mut self.time, self.style, &mut field);
                    self.field = field;
                    self.end_field(column == Column::DurationNs);
                }
            }
        }
        out.write_all(&self.record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Outcome;
    use crate::info::TraceInfo;
    use crate::users::{UserDb, UserSource};

    fn field(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        push_field(&mut out, bytes);
        out
    }

    #[test]
    fn quoting_follows_rfc4180() {
        assert_eq!(field(b"/etc/hosts"), b"/etc/hosts");
        assert_eq!(field(b"a,b"), b"\"a,b\"");
        assert_eq!(field(b"say \"hi\""), b"\"say \"\"hi\"\"\"");
        assert_eq!(field(b"two\nlines"), b"\"two\nlines\"");
        assert_eq!(field(b"cr\r"), b"\"cr\r\"");
        assert_eq!(field(b""), b"");
        assert_eq!(field(b"r\xe9sum\xe9 x"), b"r\xe9sum\xe9 x");
    }

    fn render(columns: Option<Vec<Column>>, header: bool) -> String {
        let events = [
            OpenEvent {
                uid: 1000,
                pid: 9,
                tid: None,
                comm: Some(b"my,tool"),
                path: b"/a\"b",
                path_truncated: false,
                start_ns: 100,
                outcome: Outcome::Returned {
                    ret: 3,
                    end_ns: 350,
                },
                detail: None,
            },
            OpenEvent {
                uid: 0,
                pid: 9,
                tid: Some(10),
                comm: None,
                path: b"/x",
                path_truncated: false,
                start_ns: 1_500_000_100,
                outcome: Outcome::Unfinished,
                detail: None,
            },
        ];
        let mut printer = CsvPrinter::new(columns, header, TimeMode::Relative, false);
        let mut out = Vec::new();
        printer.begin(&mut out, None).unwrap();
        let mut users = UserDb::new(UserSource::Numeric);
        let info = TraceInfo::default();
        for event in &events {
            let mut ctx = Context {
                users: &mut users,
                info: &info,
            };
            printer.event(&mut out, event, &mut ctx).unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn default_fields() {
        assert_eq!(
            render(None, true),
            "ts,uid,user,pid,tid,comm,path,ret,fd,errno,duration_ns\r\n\
             100,1000,,9,,\"my,tool\",\"/a\"\"b\",3,3,,250\r\n\
             1500000100,0,,9,10,,/x,,,,\r\n"
        );
    }

    #[test]
    fn chosen_columns_without_header() {
        assert_eq!(
            render(Some(vec![Column::Time, Column::Pid, Column::Result]), false),
            "0.000000,9,FD 3\r\n1.500000,9,UNFINISHED\r\n"
        );
    }
}
