//! Where the tracepoint fields the rarely firing probes read (`task_newtask`'s `pid` and
//! `clone_flags`, the io_uring request, opcode and result) sit in the tracepoint's record, read
//! from tracefs' `format` files in user space.
//!
//! Why: bpftrace 0.17 reads tracefs' whole `available_events` list about twenty times for
//! every `args->FIELD` in a script, and ten for a bare `args` (measured with strace: 327 reads
//! for trace-gen's script, 0.15 s of CPU of every start). With the offsets known, each of these
//! probes names `args` once (`$a = (uint64)args`) and reads its fields at their offsets. The
//! per-system-call programs (`raw_syscalls`) keep `args->` (a direct load of the record, no
//! helper call). Without tracefs (`--print-script` as a user, golden files) the script names
//! the fields as `args->FIELD`, as before.

use std::collections::BTreeMap;
use std::path::Path;

/// A field of a tracepoint's record: its offset, size and signedness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub offset: u64,
    pub size: u64,
    pub signed: bool,
}

/// The fields read through offsets: (category, tracepoint, fields).
pub const READ: [(&str, &str, &[&str]); 3] = [
    ("task", "task_newtask", &["pid", "clone_flags"]),
    ("io_uring", "io_uring_submit_req", &["req", "opcode"]),
    ("io_uring", "io_uring_complete", &["req", "res"]),
];

/// The offsets found, by `category:tracepoint:field`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TracepointFields {
    fields: BTreeMap<String, Field>,
}

impl TracepointFields {
    /// The fields of [`READ`] from the `format` files under `events` (tracefs' `events`
    /// directory); those not found are read as `args->FIELD`.
    pub fn read(events: &Path) -> TracepointFields {
        let mut t = TracepointFields::default();
        for (cat, tp, names) in READ {
            let Ok(text) = std::fs::read_to_string(events.join(cat).join(tp).join("format")) else {
                continue;
            };
            for (name, field) in parse_format(&text) {
                if names.contains(&name.as_str()) {
                    t.insert(cat, tp, &name, field);
                }
            }
        }
        t
    }

    /// Adds one field (tests, golden files).
    pub fn insert(&mut self, cat: &str, tp: &str, name: &str, field: Field) {
        self.fields.insert(format!("{cat}:{tp}:{name}"), field);
    }

    /// The expression that reads field `name` of `tp` (`category:tracepoint`): through `$a`
    /// (bound by [`TracepointFields::bind`]) at its offset when known, else `args->name`.
    pub fn get(&self, tp: &str, name: &str) -> String {
        match self.fields.get(&format!("{tp}:{name}")) {
            Some(f) => {
                let ty = match (f.size, f.signed) {
                    (1, false) => "uint8",
                    (1, true) => "int8",
                    (2, false) => "uint16",
                    (2, true) => "int16",
                    (4, false) => "uint32",
                    (4, true) => "int32",
                    (_, false) => "uint64",
                    (_, true) => "int64",
                };
                format!("*({ty} *)($a + {})", f.offset)
            }
            None => format!("args->{name}"),
        }
    }

    /// `$a = (uint64)args;` when some field of `tp` is read at its offset.
    pub fn bind(&self, tp: &str) -> Option<String> {
        let prefix = format!("{tp}:");
        self.fields
            .keys()
            .any(|k| k.starts_with(&prefix))
            .then(|| "$a = (uint64)args;".to_owned())
    }
}

/// The fields of a tracefs `format` file: `field:TYPE NAME; offset:N; size:N; signed:N;`
/// lines (an array's `[N]` left out of its name).
pub fn parse_format(text: &str) -> Vec<(String, Field)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut decl = None;
        let (mut offset, mut size, mut signed) = (None, None, None);
        for part in line.split(';') {
            let part = part.trim();
            if let Some(d) = part.strip_prefix("field:") {
                decl = Some(d);
            } else if let Some(v) = part.strip_prefix("offset:") {
                offset = v.parse().ok();
            } else if let Some(v) = part.strip_prefix("size:") {
                size = v.parse().ok();
            } else if let Some(v) = part.strip_prefix("signed:") {
                signed = v.parse::<u8>().ok().map(|s| s == 1);
            }
        }
        let (Some(decl), Some(offset), Some(size), Some(signed)) = (decl, offset, size, signed)
        else {
            continue;
        };
        let Some(name) = decl.split_whitespace().last() else {
            continue;
        };
        let name = name.split('[').next().unwrap_or(name);
        out.push((
            name.to_owned(),
            Field {
                offset,
                size,
                signed,
            },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPLETE: &str = "name: io_uring_complete\nID: 2141\nformat:\n\
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
        \tfield:void * req;\toffset:16;\tsize:8;\tsigned:0;\n\
        \tfield:int res;\toffset:32;\tsize:4;\tsigned:1;\n\
        \tfield:char comm[16];\toffset:40;\tsize:16;\tsigned:0;\n\
        \nprint fmt: \"ring %p, req %p\", REC->ctx, REC->req\n";

    #[test]
    fn a_format_file_gives_each_fields_offset_size_and_sign() {
        let f = parse_format(COMPLETE);
        let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["common_type", "req", "res", "comm"]);
        assert_eq!(
            f[2].1,
            Field {
                offset: 32,
                size: 4,
                signed: true
            }
        );
    }

    #[test]
    fn known_fields_are_read_at_their_offset_others_through_args() {
        let mut t = TracepointFields::default();
        for (name, field) in parse_format(COMPLETE) {
            t.insert("io_uring", "io_uring_complete", &name, field);
        }
        let tp = "io_uring:io_uring_complete";
        assert_eq!(t.get(tp, "res"), "*(int32 *)($a + 32)");
        assert_eq!(t.get(tp, "req"), "*(uint64 *)($a + 16)");
        assert_eq!(t.get(tp, "cflags"), "args->cflags");
        assert_eq!(t.bind(tp).as_deref(), Some("$a = (uint64)args;"));
        assert_eq!(t.bind("task:task_newtask"), None);
        assert_eq!(
            TracepointFields::default().get("task:task_newtask", "pid"),
            "args->pid"
        );
    }

    #[test]
    fn this_machines_tracepoints_have_every_field_read() {
        // Under CI the tracefs of the test machine must be there (tests/ need it too).
        let Some(events) = super::super::tracefs_events() else {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "no tracefs");
            return;
        };
        if !crate::sys::is_root() {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "not root");
            return;
        }
        let t = TracepointFields::read(&events);
        for (cat, tp, names) in READ {
            if events.join(cat).join(tp).is_dir() {
                for name in names {
                    assert!(
                        !t.get(&format!("{cat}:{tp}"), name).starts_with("args->"),
                        "{cat}:{tp}:{name}"
                    );
                }
            }
        }
    }
}
