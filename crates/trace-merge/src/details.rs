//! The version-2 details as people read them, the same in every output format: open flags,
//! openat2 resolve flags and creation modes (`O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC`,
//! `RESOLVE_BENEATH`, `0640`; the trace carries numbers, Linux numbering, whatever the traced
//! platform), the signal of a killed open (`SIGKILL`), and the marker shown for a path the
//! tracer could not read (`\<unreadable 0x1>`). `--write` decides here which opens can write.
//!
//! The names and their order are strace's (6.1, checked on real calls): the access mode
//! first, then the flags in strace's order, multi-bit flags (`O_SYNC` = `__O_SYNC|O_DSYNC`,
//! `O_TMPFILE` = `__O_TMPFILE|O_DIRECTORY`) before their parts, and bits with no name as one
//! trailing hex number (`O_RDONLY|0x40000000`). One difference: bit 0x2000 is written
//! `O_ASYNC` (its name in open(2) and fcntl(2)), where strace writes its old alias `FASYNC`.

use std::io::Write as _;

use crate::escape::escape_into;
use crate::event::OpenEvent;

/// `O_ACCMODE`: the two bits of the access mode.
const ACCMODE: u64 = 0o3;

/// The access modes, by value of `flags & O_ACCMODE`.
const ACCESS: [&str; 4] = ["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"];

/// The other open flags, in strace's order; a multi-bit flag comes before its parts.
const OPEN_FLAGS: [(u64, &str); 19] = [
    (0x40, "O_CREAT"),
    (0x80, "O_EXCL"),
    (0x100, "O_NOCTTY"),
    (0x200, "O_TRUNC"),
    (0x400, "O_APPEND"),
    (0x800, "O_NONBLOCK"),
    (0x10_1000, "O_SYNC"),
    (0x1000, "O_DSYNC"),
    (0x4000, "O_DIRECT"),
    (0x8000, "O_LARGEFILE"),
    (0x2_0000, "O_NOFOLLOW"),
    (0x4_0000, "O_NOATIME"),
    (0x8_0000, "O_CLOEXEC"),
    (0x20_0000, "O_PATH"),
    (0x41_0000, "O_TMPFILE"),
    (0x1_0000, "O_DIRECTORY"),
    (0x10_0000, "__O_SYNC"),
    (0x40_0000, "__O_TMPFILE"),
    (0x2000, "O_ASYNC"),
];

/// openat2's `RESOLVE_*` flags.
const RESOLVE_FLAGS: [(u64, &str); 6] = [
    (0x1, "RESOLVE_NO_XDEV"),
    (0x2, "RESOLVE_NO_MAGICLINKS"),
    (0x4, "RESOLVE_NO_SYMLINKS"),
    (0x8, "RESOLVE_BENEATH"),
    (0x10, "RESOLVE_IN_ROOT"),
    (0x20, "RESOLVE_CACHED"),
];

/// The flags that let an open write or create: a write access mode, or one of these.
/// (`O_CREAT`, `O_TRUNC`, `O_APPEND`, `__O_TMPFILE`.)
const WRITE_BITS: u64 = 0x40 | 0x200 | 0x400 | 0x40_0000;

/// Appends `flags` as names: `O_WRONLY|O_CREAT|O_TRUNC`.
pub fn push_open_flags(out: &mut Vec<u8>, flags: u64) {
    out.extend_from_slice(ACCESS[(flags & ACCMODE) as usize].as_bytes());
    push_bits(out, flags & !ACCMODE, &OPEN_FLAGS, true);
}

/// Appends openat2's resolve flags as names (`RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS`), `0` for
/// none.
pub fn push_resolve_flags(out: &mut Vec<u8>, resolve: u64) {
    if resolve == 0 {
        out.push(b'0');
        return;
    }
    push_bits(out, resolve, &RESOLVE_FLAGS, false);
}

/// Appends a creation mode in octal with a leading 0, at least 4 digits: `0640`, `04755`.
pub fn push_mode(out: &mut Vec<u8>, mode: u32) {
    let _ = write!(out, "0{mode:03o}");
}

/// Appends `0x` and the lowercase hex digits of `value` (a fault address: `0x1`).
pub fn push_hex(out: &mut Vec<u8>, value: u64) {
    let _ = write!(out, "{value:#x}");
}

/// Appends the marker shown in place of a path whose pointer the tracer could not read (the
/// `fault:` of the line): `\<unreadable 0x1>`. No path can print as this: in escaped text
/// every backslash of a path is shown `\\`, and an escape is `\n \t \r \xHH \u{..}`, never
/// `\<`. (An empty path, `""`, prints as nothing, as before.)
pub fn push_unreadable(out: &mut Vec<u8>, address: u64) {
    out.extend_from_slice(b"\\<unreadable ");
    push_hex(out, address);
    out.push(b'>');
}

/// Appends the path of `ev` as people read it: escaped, `...` when the tracer cut it, the
/// marker of [`push_unreadable`] for an unreadable pointer. With `full` (`-F`), the resolved
/// path when the trace has one.
pub fn push_path_for_people(out: &mut Vec<u8>, ev: &OpenEvent<'_>, full: bool) {
    if let Some(d) = &ev.detail {
        match d.resolved {
            Some(resolved) if full => {
                escape_into(out, resolved);
                if d.resolved_truncated {
                    out.extend_from_slice(b"...");
                }
                return;
            }
            _ => {}
        }
        if let Some(address) = d.fault {
            push_unreadable(out, address);
            return;
        }
    }
    escape_into(out, ev.path);
    if ev.path_truncated {
        out.extend_from_slice(b"...");
    }
}

/// The name of Linux signal `n` (x86 and arm numbering, as the kernel reports it):
/// `SIGKILL` for 9, `SIGRTMIN+n` for the real-time ones, `SIG` and the number otherwise.
pub fn push_signal_name(out: &mut Vec<u8>, n: u32) {
    const NAMES: [&str; 32] = [
        "",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    match n {
        1..=31 => out.extend_from_slice(NAMES[n as usize].as_bytes()),
        34..=64 => {
            let _ = write!(out, "SIGRTMIN+{}", n - 34);
        }
        _ => {
            let _ = write!(out, "SIG{n}");
        }
    }
}

/// True when an open with these flags can write to or create a file: `O_WRONLY`, `O_RDWR`
/// (or the invalid access mode 3), `O_CREAT`, `O_TRUNC`, `O_APPEND`, `O_TMPFILE`.
pub fn can_write(flags: u64) -> bool {
    flags & ACCMODE != 0 || flags & WRITE_BITS != 0
}

/// The names of the bits of `value` found in `table`, `|`-separated (after a first name when
/// `after_first`), then the rest in hex.
fn push_bits(out: &mut Vec<u8>, value: u64, table: &[(u64, &str)], after_first: bool) {
    let mut rest = value;
    let mut first = !after_first;
    let mut sep = |out: &mut Vec<u8>| {
        if !first {
            out.push(b'|');
        }
        first = false;
    };
    for &(mask, name) in table {
        if rest & mask == mask {
            sep(out);
            out.extend_from_slice(name.as_bytes());
            rest &= !mask;
        }
    }
    if rest != 0 {
        sep(out);
        push_hex(out, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_flags(flags: u64) -> String {
        let mut out = Vec::new();
        push_open_flags(&mut out, flags);
        String::from_utf8(out).unwrap()
    }

    fn resolve(value: u64) -> String {
        let mut out = Vec::new();
        push_resolve_flags(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    /// Each pair is a real call's raw flags and what strace 6.1 printed for it
    /// (`strace -X raw` and `strace`, on this host), `FASYNC` read as `O_ASYNC`.
    #[test]
    fn names_as_strace_prints_them() {
        for (flags, want) in [
            (0x0, "O_RDONLY"),
            (0x80241, "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC"),
            (0x90800, "O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY"),
            (
                0x163502,
                "O_RDWR|O_NOCTTY|O_APPEND|O_SYNC|O_NOFOLLOW|O_NOATIME|O_ASYNC",
            ),
            (0x5081, "O_WRONLY|O_EXCL|O_DSYNC|O_DIRECT"),
            (0x280000, "O_RDONLY|O_CLOEXEC|O_PATH"),
            (0x410002, "O_RDWR|O_TMPFILE"),
            (0x40000003, "O_ACCMODE|0x40000000"),
            (0x2b0000, "O_RDONLY|O_NOFOLLOW|O_CLOEXEC|O_PATH|O_DIRECTORY"),
            (0x490081, "O_WRONLY|O_EXCL|O_CLOEXEC|O_TMPFILE"),
            (
                0x29f000,
                "O_RDONLY|O_DSYNC|O_DIRECT|O_LARGEFILE|O_CLOEXEC|O_PATH|O_DIRECTORY|O_ASYNC",
            ),
            (0x500000, "O_RDONLY|__O_SYNC|__O_TMPFILE"),
            (
                0x7fffffff,
                "O_ACCMODE|O_CREAT|O_EXCL|O_NOCTTY|O_TRUNC|O_APPEND|O_NONBLOCK|O_SYNC|O_DIRECT|\
                 O_LARGEFILE|O_NOFOLLOW|O_NOATIME|O_CLOEXEC|O_PATH|O_TMPFILE|O_ASYNC|0x7f80003c",
            ),
        ] {
            assert_eq!(open_flags(flags), want, "{flags:#x}");
        }
        assert_eq!(
            resolve(0x13f),
            "RESOLVE_NO_XDEV|RESOLVE_NO_MAGICLINKS|RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH|\
             RESOLVE_IN_ROOT|RESOLVE_CACHED|0x100"
        );
        assert_eq!(resolve(0x8), "RESOLVE_BENEATH");
        assert_eq!(resolve(0), "0");
        assert_eq!(resolve(0x40), "0x40");
    }

    #[test]
    fn signals_and_the_unreadable_marker() {
        let show = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut out = Vec::new();
            f(&mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(show(&|o| push_signal_name(o, 9)), "SIGKILL");
        assert_eq!(show(&|o| push_signal_name(o, 15)), "SIGTERM");
        assert_eq!(show(&|o| push_signal_name(o, 31)), "SIGSYS");
        assert_eq!(show(&|o| push_signal_name(o, 34)), "SIGRTMIN+0");
        assert_eq!(show(&|o| push_signal_name(o, 0)), "SIG0");
        assert_eq!(show(&|o| push_signal_name(o, 99)), "SIG99");
        assert_eq!(show(&|o| push_unreadable(o, 1)), "\\<unreadable 0x1>");
        // No path escapes to it: a real backslash is doubled.
        let mut out = Vec::new();
        crate::escape::escape_into(&mut out, b"\\<unreadable 0x1>");
        assert_eq!(out, b"\\\\<unreadable 0x1>");
    }

    #[test]
    fn modes_in_octal() {
        for (mode, want) in [
            (0o640, "0640"),
            (0o600, "0600"),
            (0o4755, "04755"),
            (1, "0001"),
            (0, "0000"),
        ] {
            let mut out = Vec::new();
            push_mode(&mut out, mode);
            assert_eq!(out, want.as_bytes());
        }
    }

    #[test]
    fn which_opens_can_write() {
        for flags in [
            0x1, 0x2, 0x3, 0x40, 0x200, 0x400, 0x410000, 0x80241, 0x400000,
        ] {
            assert!(can_write(flags), "{flags:#x}");
        }
        // Read-only, with flags that do not write (a directory, O_PATH, O_EXCL alone).
        for flags in [0x0, 0x80000, 0x90800, 0x280000, 0x10000, 0x80, 0x100000] {
            assert!(!can_write(flags), "{flags:#x}");
        }
    }
}
