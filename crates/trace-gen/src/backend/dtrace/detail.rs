//! The clauses that say more about each open than its path (grammar version 2): the flags,
//! `how.resolve` and mode it asked for, the file it resolved to, and the opens no open-family
//! system call sees (`open_by_handle_at`). Kept apart from the path and filter clauses of
//! `dtrace.rs`; `DTRACE.md` ("Open details") argues each line.
//!
//! Records, printed in the return probe's firing before the `E` record of the same thread:
//!
//! ```text
//! O TID OK FLAGS RESOLVE MODE ADDR   what the call asked for (OK 0: unknown), the path's address
//! N TID "NAME"                       one component of the resolved path, the last one first
//! F TID "PATH"                       the whole resolved path (Solaris, illumos: fds[], cwd)
//! W TID KIND CUT UNLINKED            the walk ended: KIND 1 the opened file, 2 the directory
//!                                    a failed name was resolved against, 0 none; CUT 1 it
//!                                    stopped before the root; UNLINKED 1 the file has no name
//! H ENTRY_TS RETURN_TS UID PID TID RET "COMM"   an open_by_handle_at (no path)
//! ```
//!
//! Linux: the D script cannot call `d_path()` here (Oracle's DTrace for Linux implements it
//! with the `bpf_d_path` helper, which the kernel refuses to tracepoint programs: it prints
//! `<unknown>`, so do `fds[].fi_pathname` and `cwd`). So the script walks the dentries
//! itself, like the kernel's `prepend_path()`: from the file (`fdtable->fd[fd]->f_path`) or
//! the directory (`dirfd`'s file, or `fs->pwd`) up its `d_parent`s, across mount points
//! (`mnt_mountpoint`, `mnt_parent`), to the process's root (`fs->root`) or the top mount,
//! [`WALK_STEPS`] steps at most. The offsets come from the kernel's BTF ([`KernelLayout`]).

use super::btf::{KernelLayout, Member};
use super::DWriter;
use crate::script::TargetOs;

/// The most steps (path components and mount crossings) the Linux walk takes; a deeper path
/// is marked cut (`W ... CUT 1`), its last components kept.
pub const WALK_STEPS: u32 = 40;

/// `O_WRONLY|O_CREAT|O_TRUNC`, what `creat()` opens with.
const CREAT_FLAGS: u32 = 0o1101;

/// One member's offset in the script: the number from BTF, or D's `offsetof` without it.
fn off(layout: Option<&KernelLayout>, m: Member) -> String {
    match layout {
        Some(l) => l.offset(m).to_string(),
        None => format!("offsetof(struct {}, {})", m.0, m.1),
    }
}

/// `*(uintptr_t *)(BASE + OFFSET)`: a pointer read at a member.
fn at(layout: Option<&KernelLayout>, base: &str, m: Member) -> String {
    format!("*(uintptr_t *)({base} + {})", off(layout, m))
}

/// The entry clauses that stash what each Linux open asks for, after the path clauses (whose
/// `self->ts` says the open is traced): `self->dfd`, `self->oflags`, `self->oresolve`,
/// `self->omode`, and `self->ook` (1: read).
pub fn linux_entry_clauses(w: &mut DWriter) {
    let clause = |w: &mut DWriter, call: &str, body: &[&str]| {
        w.clause(&[format!("syscall::{call}:entry")], Some("self->ts"), body);
    };
    let open = [
        "self->dfd = -100;",
        "self->oflags = arg1;",
        "self->omode = arg2;",
    ];
    clause(
        w,
        "open",
        &[&open[..], &["self->oresolve = 0;", "self->ook = 1;"]].concat(),
    );
    let creat_flags = format!("self->oflags = {CREAT_FLAGS};");
    clause(
        w,
        "creat",
        &[
            "self->dfd = -100;",
            &creat_flags,
            "self->omode = arg1;",
            "self->oresolve = 0;",
            "self->ook = 1;",
        ],
    );
    clause(
        w,
        "openat",
        &[
            "self->dfd = (int)arg0;",
            "self->oflags = arg2;",
            "self->omode = arg3;",
            "self->oresolve = 0;",
            "self->ook = 1;",
        ],
    );
    // openat2(dfd, path, how, size): struct open_how { u64 flags, mode, resolve; } in user
    // memory, read in a clause of its own (a bad `how` aborts only it: OK stays 0).
    clause(w, "openat2", &["self->dfd = (int)arg0;", "self->ook = 0;"]);
    clause(
        w,
        "openat2",
        &[
            "this->how = (uint64_t *)copyin(arg2, 24);",
            "self->oflags = this->how[0];",
            "self->omode = this->how[1];",
            "self->oresolve = this->how[2];",
            "self->ook = 1;",
        ],
    );
}

/// Where the walk clauses of one return find their open.
pub struct Walk<'a> {
    /// The return probes.
    pub probes: &'a [String],
    /// The thread-local variable set at entry (the "in a traced open" flag).
    pub ts: &'a str,
    /// The return value: a file descriptor, or `-errno`.
    pub ret: &'a str,
    /// The directory fd a failed name was resolved against (`-100`, `AT_FDCWD`: the cwd), or
    /// `None` when a failure has no name (`open_by_handle_at`).
    pub dfd: Option<&'a str>,
    /// The walk's kind for a failure: `2` (the directory the name was resolved against), `0`
    /// (no name), or an expression choosing.
    pub failed: &'a str,
}

/// The `O` record (what the call asked for) and the walk of its resolved path, for Linux.
pub fn linux_return_clauses(w: &mut DWriter, r: &Walk, path: &str, layout: Option<&KernelLayout>) {
    let guard = |extra: &str| format!("{}{extra}", r.ts);
    let o = format!(
        "printf(\"O %d %d %d %d %d %d\\n\", tid, self->ook, self->oflags, self->oresolve, \
         self->omode, {path});"
    );
    w.clause(r.probes, Some(&guard("")), &[&o]);
    linux_walk(w, r, layout);
    w.clause(r.probes, Some(&guard("")), &CLEAR);
}

/// The `O` records of an open's or an `open_by_handle_at`'s return and one walk for both, on
/// the program both returns share (x86_64: `rawtp:raw_syscalls::sys_exit`, return value
/// `arg1`). `open` is the opens' guard (`this->ts`), `this->hts` the handle's; the walk's
/// own guard is `this->walk`, which the first clause of the program clears.
pub fn linux_shared_return_clauses(
    w: &mut DWriter,
    probes: &[String],
    open: &str,
    path: &str,
    layout: Option<&KernelLayout>,
) {
    let o = format!(
        "printf(\"O %d %d %d %d %d %d\\n\", tid, self->ook, self->oflags, self->oresolve, \
         self->omode, {path});"
    );
    w.clause(probes, Some(open), &[&o, "this->walk = 1;"]);
    w.clause(
        probes,
        Some("this->hts"),
        &[
            "printf(\"O %d 1 %d 0 0 0\\n\", tid, self->hflags);",
            "this->walk = 1;",
        ],
    );
    let failed = format!("({open} ? 2 : 0)");
    linux_walk(
        w,
        &Walk {
            probes,
            ts: "this->walk",
            ret: "(int)arg1",
            dfd: Some("self->dfd"),
            failed: &failed,
        },
        layout,
    );
    w.clause(probes, Some(open), &CLEAR);
}

/// io_uring opens (`IORING_OP_OPENAT` 18, `IORING_OP_OPENAT2` 28), which no system call
/// probe sees. When `io_uring_submit_req` fires the request is prepared (the kernel's copy of
/// the name, `dfd`, `how`): an `S` record prints them with the request's address. When
/// `io_uring_complete` fires for an open request, its `O` and walk records and a `Q` record
/// with the result follow; trace-gen joins `S` and `Q` by the address. Both are `sdt` probes,
/// whose arguments are the tracepoints' fields (the same in 6.1 and 6.18):
/// `submit_req(ctx, req, user_data, opcode, ...)`, `complete(ctx, req, user_data, res, ...)`.
/// Nothing is kept in D between the two (global arrays keyed by the request stopped the
/// tracing of a `-c` command after its exec, measured). Needs the layout: without BTF, no
/// io_uring clauses.
pub fn linux_uring_clauses(w: &mut DWriter, filter: &str, layout: &KernelLayout) {
    let o = |m| layout.offset(m);
    let l = Some(layout);
    let submit = ["sdt:io_uring::io_uring_submit_req".to_owned()];
    let op = format!("(uintptr_t)args[1] + {}", o(("io_kiocb", "cmd")));
    let how = |m| format!("*(uint64_t *)(this->uhow + {})", o(("open_how", m)));
    let lines = [
        format!("this->op = {op};"),
        format!("this->uhow = this->op + {};", o(("io_open", "how"))),
        format!(
            "this->uname = stringof({});",
            at(
                l,
                &at(l, "this->op", ("io_open", "filename")),
                ("filename", "name")
            )
        ),
        // The name is the kernel's copy, read in one string: cut at strsize.
        // io_openat_prep() adds O_LARGEFILE on 64-bit (force_o_largefile()); the system
        // calls' flags are shown as the program passed them, and so are these.
        format!(
            "printf(\"S %d %d %d %d %d %d %d %d %d \\\"%S\\\" \\\"%S\\\"\\n\", \
             (int64_t)args[1], timestamp, uid, pid, tid, {flags} & ~0x8000, {resolve}, {mode}, \
             strlen(this->uname) >= {chunk}, execname, this->uname);",
            flags = how("flags"),
            resolve = how("resolve"),
            mode = how("mode"),
            chunk = super::CHUNK
        ),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    w.clause(
        &submit,
        Some(&format!("(args[3] == 18 || args[3] == 28) && {filter}")),
        &lines,
    );
    let complete = ["sdt:io_uring::io_uring_complete".to_owned()];
    w.clause(&complete, None, &["this->uring = 0;"]);
    let opcode = format!(
        "*(uint8_t *)((uintptr_t)args[1] + {})",
        o(("io_kiocb", "opcode"))
    );
    w.clause(
        &complete,
        Some(&format!("({opcode} == 18 || {opcode} == 28) && {filter}")),
        &[
            &format!("this->op = {op};"),
            &format!(
                "this->udfd = *(int *)(this->op + {});",
                o(("io_open", "dfd"))
            ),
            "this->uring = 1;",
            // The details come with the S record: an O record that says so.
            "printf(\"O %d 0 0 0 0 0\\n\", tid);",
        ],
    );
    linux_walk(
        w,
        &Walk {
            probes: &complete,
            ts: "this->uring",
            ret: "args[3]",
            dfd: Some("this->udfd"),
            failed: "2",
        },
        l,
    );
    w.clause(
        &complete,
        Some("this->uring"),
        &[
            "printf(\"Q %d %d %d %d\\n\", (int64_t)args[1], timestamp, tid, args[3]);",
            "this->uring = 0;",
        ],
    );
}

/// Clears the entry's details once the return has printed them (dynamic variable space).
const CLEAR: [&str; 5] = [
    "self->dfd = 0;",
    "self->oflags = 0;",
    "self->omode = 0;",
    "self->oresolve = 0;",
    "self->ook = 0;",
];

/// The dentry walk (see the module doc).
fn linux_walk(w: &mut DWriter, r: &Walk, layout: Option<&KernelLayout>) {
    let guard = |extra: &str| format!("{}{extra}", r.ts);
    let o = |m| off(layout, m);
    let fd = match r.dfd {
        Some(dfd) => format!("this->wret >= 0 ? this->wret : {dfd}"),
        None => "this->wret".to_owned(),
    };
    let task = "(uintptr_t)curthread";
    let files = at(layout, task, ("task_struct", "files"));
    let lines = [
        format!("this->wret = {};", r.ret),
        format!("this->fs = {};", at(layout, task, ("task_struct", "fs"))),
        format!(
            "this->fdt = {};",
            at(layout, &files, ("files_struct", "fdt"))
        ),
        format!(
            "this->maxfd = *(uint32_t *)(this->fdt + {});",
            o(("fdtable", "max_fds"))
        ),
        format!("this->wfd = {fd};"),
        // A file descriptor in the table: its file; AT_FDCWD (any negative): none, the cwd.
        format!(
            "this->file = this->wfd >= 0 && this->wfd < this->maxfd ? \
             *(uintptr_t *)({} + 8 * this->wfd) : 0;",
            at(layout, "this->fdt", ("fdtable", "fd"))
        ),
        // 1: the opened file; 2: the directory of a failure; 0: a bad dirfd, or no name.
        format!("this->kind = this->wret >= 0 ? 1 : {};", r.failed),
        "this->kind = this->wfd >= 0 && this->file == 0 ? 0 : this->kind;".to_owned(),
        format!(
            "this->wpath = this->file ? this->file + {} : this->fs + {};",
            o(("file", "f_path")),
            o(("fs_struct", "pwd"))
        ),
        format!(
            "this->mnt = {};",
            at(layout, "this->wpath", ("path", "mnt"))
        ),
        format!(
            "this->d = {};",
            at(layout, "this->wpath", ("path", "dentry"))
        ),
        format!(
            "this->rootm = {};",
            at(
                layout,
                &format!("this->fs + {}", o(("fs_struct", "root"))),
                ("path", "mnt")
            )
        ),
        format!(
            "this->rootd = {};",
            at(
                layout,
                &format!("this->fs + {}", o(("fs_struct", "root"))),
                ("path", "dentry")
            )
        ),
        // d_unlinked(): not hashed (d_hash.pprev, the second pointer of an hlist_bl_node, is
        // NULL) and not a root. d_path() then adds " (deleted)" (O_TMPFILE, unlinked files).
        format!(
            "this->unlinked = this->kind == 1 && {} == 0 && {} != this->d;",
            at(layout, "this->d + 8", ("dentry", "d_hash")),
            at(layout, "this->d", ("dentry", "d_parent"))
        ),
        "this->go = this->kind != 0;".to_owned(),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    w.clause(r.probes, Some(&guard("")), &lines);

    let mount = o(("mount", "mnt"));
    let step = [
        "this->go = !(this->d == this->rootd && this->mnt == this->rootm);".to_owned(),
        format!(
            "this->mroot = this->go && {} == this->d;",
            at(layout, "this->mnt", ("vfsmount", "mnt_root"))
        ),
        format!("this->m = this->mnt - {mount};"),
        format!(
            "this->up = this->mroot ? {} : 0;",
            at(layout, "this->m", ("mount", "mnt_parent"))
        ),
        // The top mount's root, or a dentry that is its own parent: the end.
        format!(
            "this->go = this->go && (this->mroot ? this->up != this->m : {} != this->d);",
            at(layout, "this->d", ("dentry", "d_parent"))
        ),
        format!(
            "this->d = this->go && this->mroot ? {} : this->d;",
            at(layout, "this->m", ("mount", "mnt_mountpoint"))
        ),
        format!("this->mnt = this->go && this->mroot ? this->up + {mount} : this->mnt;"),
    ];
    let step: Vec<&str> = step.iter().map(String::as_str).collect();
    let name = format!(
        "printf(\"N %d \\\"%S\\\"\\n\", tid, stringof({}));",
        at(
            layout,
            &format!("this->d + {}", o(("dentry", "d_name"))),
            ("qstr", "name")
        )
    );
    let parent = format!(
        "this->d = {};",
        at(layout, "this->d", ("dentry", "d_parent"))
    );
    for _ in 0..WALK_STEPS {
        w.clause(r.probes, Some(&guard(" && this->go")), &step);
        w.clause(
            r.probes,
            Some(&guard(" && this->go && !this->mroot")),
            &[&name, &parent],
        );
    }
    w.clause(
        r.probes,
        Some(&guard("")),
        &["printf(\"W %d %d %d %d\\n\", tid, this->kind, this->go, this->unlinked);"],
    );
}

/// `open_by_handle_at`'s entry clause: its flags and `self->hts`, the "in a traced call" flag.
pub fn linux_handle_entry_clause(w: &mut DWriter, filter: &str) {
    w.clause(
        &["syscall::open_by_handle_at:entry".to_owned()],
        Some(filter),
        &["self->hflags = arg2;", "self->hts = timestamp;"],
    );
}

/// `open_by_handle_at`'s `H` record, on the program its return shares with the opens' (its
/// `O` record and walk are in [`linux_shared_return_clauses`]).
pub fn linux_handle_exit_clause(w: &mut DWriter, probes: &[String]) {
    w.clause(
        probes,
        Some("this->hts"),
        &[
            "printf(\"H %d %d %d %d %d %d \\\"%S\\\"\\n\", self->hts, timestamp, uid, pid, tid, \
             (int)arg1, execname);",
            "self->hts = 0;",
            "self->hflags = 0;",
        ],
    );
}

/// `open_by_handle_at(mount_fd, handle, flags)`: no path, a file descriptor on success. Its
/// own entry and return clauses (`self->hts`), the walk of the file it opened, an `H` record.
pub fn linux_handle_clauses(w: &mut DWriter, filter: &str, layout: Option<&KernelLayout>) {
    linux_handle_entry_clause(w, filter);
    let probes = ["syscall::open_by_handle_at:return".to_owned()];
    w.clause(
        &probes,
        Some("self->hts"),
        &["printf(\"O %d 1 %d 0 0 0\\n\", tid, self->hflags);"],
    );
    let ret = "(int)arg0 < 0 ? -errno : (int)arg0";
    linux_walk(
        w,
        &Walk {
            probes: &probes,
            ts: "self->hts",
            ret,
            dfd: None,
            failed: "0",
        },
        layout,
    );
    let record = format!(
        "printf(\"H %d %d %d %d %d %d \\\"%S\\\"\\n\", self->hts, timestamp, uid, pid, tid, \
         {ret}, execname);"
    );
    w.clause(
        &probes,
        Some("self->hts"),
        &[&record, "self->hts = 0;", "self->hflags = 0;"],
    );
}

/// Whether `os`'s script resolves paths with `fds[]` and `cwd` (Solaris, illumos).
pub fn has_fds(os: TargetOs) -> bool {
    matches!(
        os,
        TargetOs::Solaris10 | TargetOs::Solaris11 | TargetOs::Illumos
    )
}

/// One open-family call's arguments besides the path, on a Solaris-family platform.
struct Args {
    call: &'static str,
    /// The directory fd (`*at` calls).
    dfd: Option<&'static str>,
    /// The flags argument; `None`: `creat` (`O_WRONLY|O_CREAT|O_TRUNC`).
    flags: Option<&'static str>,
    mode: &'static str,
}

/// The arguments of each probed call (sources [9]-[12] of `DTRACE.md`).
fn solaris_family_args(os: TargetOs) -> Vec<Args> {
    let a = |call, dfd, flags, mode| Args {
        call,
        dfd,
        flags,
        mode,
    };
    match os {
        TargetOs::Solaris10 => vec![
            a("open", None, Some("arg1"), "arg2"),
            a("open64", None, Some("arg1"), "arg2"),
            a("creat", None, None, "arg1"),
            a("creat64", None, None, "arg1"),
            // fsat(code, fd, path, oflag, mode)
            a("fsat", Some("arg1"), Some("arg3"), "arg4"),
        ],
        TargetOs::Solaris11 => vec![
            a("openat", Some("arg0"), Some("arg2"), "arg3"),
            a("openat64", Some("arg0"), Some("arg2"), "arg3"),
        ],
        TargetOs::Illumos => vec![
            a("open", None, Some("arg1"), "arg2"),
            a("open64", None, Some("arg1"), "arg2"),
            a("openat", Some("arg0"), Some("arg2"), "arg3"),
            a("openat64", Some("arg0"), Some("arg2"), "arg3"),
        ],
        TargetOs::FreeBsd => vec![
            a("open", None, Some("arg1"), "arg2"),
            a("openat", Some("arg0"), Some("arg2"), "arg3"),
        ],
        TargetOs::MacOs => vec![
            a("open", None, Some("arg1"), "arg2"),
            a("open_nocancel", None, Some("arg1"), "arg2"),
            // open_extended(path, flags, uid, gid, mode, xsecurity)
            a("open_extended", None, Some("arg1"), "arg4"),
            a("openat", Some("arg0"), Some("arg2"), "arg3"),
            a("openat_nocancel", Some("arg0"), Some("arg2"), "arg3"),
        ],
        TargetOs::Linux => Vec::new(),
    }
}

/// The platform's open flags that have a Linux equivalent: (platform bit, Linux bit), from
/// each platform's `<sys/fcntl.h>` and Linux's `<asm-generic/fcntl.h>`. The access mode (the
/// low two bits) is the same everywhere; other bits are left out (`DTRACE.md`).
fn flag_bits(os: TargetOs) -> &'static [(u32, u32)] {
    match os {
        // O_APPEND O_SYNC O_DSYNC O_NONBLOCK O_CREAT O_TRUNC O_EXCL O_NOCTTY O_LARGEFILE
        // O_NOFOLLOW O_CLOEXEC O_DIRECTORY
        TargetOs::Solaris10 | TargetOs::Solaris11 | TargetOs::Illumos => &[
            (0x8, 0x400),
            (0x10, 0x10_1000),
            (0x40, 0x1000),
            (0x80, 0x800),
            (0x100, 0x40),
            (0x200, 0x200),
            (0x400, 0x80),
            (0x800, 0x100),
            (0x2000, 0x8000),
            (0x2_0000, 0x2_0000),
            (0x80_0000, 0x8_0000),
            (0x100_0000, 0x1_0000),
        ],
        // O_NONBLOCK O_APPEND O_SYNC O_NOFOLLOW O_CREAT O_TRUNC O_EXCL O_NOCTTY O_DIRECT
        // O_DIRECTORY O_CLOEXEC O_DSYNC
        TargetOs::FreeBsd => &[
            (0x4, 0x800),
            (0x8, 0x400),
            (0x80, 0x10_1000),
            (0x100, 0x2_0000),
            (0x200, 0x40),
            (0x400, 0x200),
            (0x800, 0x80),
            (0x8000, 0x100),
            (0x1_0000, 0x4000),
            (0x2_0000, 0x1_0000),
            (0x10_0000, 0x8_0000),
            (0x100_0000, 0x1000),
        ],
        // O_NONBLOCK O_APPEND O_SYNC O_NOFOLLOW O_CREAT O_TRUNC O_EXCL O_NOCTTY O_DIRECTORY
        // O_DSYNC O_CLOEXEC
        TargetOs::MacOs => &[
            (0x4, 0x800),
            (0x8, 0x400),
            (0x80, 0x10_1000),
            (0x100, 0x2_0000),
            (0x200, 0x40),
            (0x400, 0x200),
            (0x800, 0x80),
            (0x2_0000, 0x100),
            (0x10_0000, 0x1_0000),
            (0x40_0000, 0x1000),
            (0x100_0000, 0x8_0000),
        ],
        TargetOs::Linux => &[],
    }
}

/// Solaris's and illumos's `AT_FDCWD`, `0xffd19553` as an `int` (`<sys/fcntl.h>`); the
/// other platforms' scripts do not look at the directory fd.
const SOLARIS_AT_FDCWD: &str = "-3041965";

/// `flags` (a D expression in `os`'s numbering) in Linux's numbering.
fn linux_flags(os: TargetOs, flags: &str) -> String {
    let mut e = format!("({flags} & 3)");
    for (from, to) in flag_bits(os) {
        e.push_str(&format!(" | ({flags} & {from:#x} ? {to:#x} : 0)"));
    }
    e
}

/// The entry clauses of the Solaris-family dialects: the flags (in Linux numbering), the
/// mode and the directory fd, after the path clauses.
pub fn solaris_family_entry_clauses(w: &mut DWriter, os: TargetOs) {
    for a in solaris_family_args(os) {
        let flags = match a.flags {
            Some(f) => linux_flags(os, f),
            None => CREAT_FLAGS.to_string(),
        };
        let lines = [
            format!(
                "self->dfd = {};",
                a.dfd
                    .map_or(SOLARIS_AT_FDCWD.to_owned(), |d| format!("(int){d}"))
            ),
            format!("self->oflags = {flags};"),
            format!("self->omode = {};", a.mode),
            "self->oresolve = 0;".to_owned(),
            "self->ook = 1;".to_owned(),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        w.clause(
            &[format!("syscall::{}:entry", a.call)],
            Some("self->ts"),
            &lines,
        );
    }
}

/// The return clauses of the Solaris-family dialects: the `O` record; on Solaris and
/// illumos the resolved path, `fds[fd].fi_pathname` of the opened file, or of the directory
/// fd, or `cwd`, for a failure (an `F` record and its `W`).
pub fn solaris_family_return_clauses(w: &mut DWriter, probes: &[String], os: TargetOs) {
    let o = "printf(\"O %d %d %d %d %d %d\\n\", tid, self->ook, self->oflags, self->oresolve, \
             self->omode, self->path);";
    w.clause(probes, Some("self->ts"), &[o]);
    if has_fds(os) {
        w.clause(
            probes,
            Some("self->ts && errno == 0"),
            &[
                "printf(\"F %d \\\"%S\\\"\\n\", tid, fds[(int)arg0].fi_pathname);",
                "printf(\"W %d 1 0 0\\n\", tid);",
            ],
        );
        w.clause(
            probes,
            Some("self->ts && errno != 0 && self->dfd == -3041965"),
            &[
                "printf(\"F %d \\\"%S\\\"\\n\", tid, cwd);",
                "printf(\"W %d 2 0 0\\n\", tid);",
            ],
        );
        w.clause(
            probes,
            Some("self->ts && errno != 0 && self->dfd != -3041965"),
            &[
                "printf(\"F %d \\\"%S\\\"\\n\", tid, fds[self->dfd].fi_pathname);",
                "printf(\"W %d 2 0 0\\n\", tid);",
            ],
        );
    }
    w.clause(probes, Some("self->ts"), &CLEAR);
}

/// The start-up note's words when the kernel's BTF lacks the io_uring request's members.
pub const NO_URING: &str = "io_uring opens (IORING_OP_OPENAT, IORING_OP_OPENAT2) are not \
     traced: this kernel's BTF does not describe the io_uring open request";

/// What the dialect's open details cannot show, for trace-gen's start-up note.
pub fn gaps(os: TargetOs) -> &'static str {
    match os {
        TargetOs::Linux => {
            "32-bit opens have no flags, mode or resolved path; a resolved path deeper than \
             40 components (and mount crossings) is marked cut; io_uring opens that fail \
             before submission (an unreadable name) are not seen, and an io_uring name longer \
             than 256 bytes is cut"
        }
        TargetOs::Solaris10 | TargetOs::Solaris11 | TargetOs::Illumos => {
            "open flags are shown in Linux numbering (bits without a Linux equivalent are \
             left out); resolved paths come from fds[].fi_pathname and cwd; io_uring and \
             open-by-handle do not exist here"
        }
        TargetOs::FreeBsd | TargetOs::MacOs => {
            "open flags are shown in Linux numbering (bits without a Linux equivalent are \
             left out); no resolved paths (fds[] and cwd, which resolve them on Solaris and illumos, are not documented for this DTrace)"
        }
    }
}
