//! Every open as the kernel saw it, in the bpftrace script: the details of each open (flags,
//! mode, openat2's `how`, the dirfd) taken at entry, the resolved path walked from the kernel's
//! own structures at return, and the opens no open-family syscall tracepoint sees
//! (`IORING_OP_OPENAT`/`IORING_OP_OPENAT2`, `open_by_handle_at`). Kept apart from
//! [`super::script`] so that the probe blocks it adds stay in one place.
//!
//! **The resolved path** (no kprobes, no `bpf_d_path()` from a tracepoint: a walk by hand,
//! through BTF). At return, the file is `curtask->files->fdt->fd[ret]` (for a success) or, for
//! a failure of a relative name, the dirfd's file or the cwd (`curtask->fs->pwd`); its
//! `f_path` (dentry, vfsmount) is walked up to the process's root (`curtask->fs->root`, so a
//! chrooted or containerised process's paths are as it sees them), crossing mounts (`struct
//! mount` holds the `vfsmount`: `mnt_mountpoint`, `mnt_parent`). Each component is printed, leaf
//! first, in pieces of [`NAME_PIECE`] bytes (a longer name in several), two pieces an `R`
//! event, every field a number, before the open's own events, on the same CPU, so they arrive
//! first; trace-gen joins them (see [`super::decode`]). Every event costs the traced program
//! an interrupt (the perf buffer's wakeup: on the test VM, 54% of a traced burst's time), so
//! at a return the walk's last one or two pieces ride in the open's own `W` event, and most
//! opens are one event (measured on the 200,000-open burst: 12.8 µs per open with an `R`
//! event for every pair, 10.1 µs now). io_uring's completion, and the return in a PID
//! namespace, whose programs have no room left on the 512-byte BPF stack, print every pair in
//! an `R` event and the last odd piece alone. For a failure it joins the directory with the raw name.
//! What `readlink /proc/PID/fd/N` adds is added: ` (deleted)` for an unlinked file (an
//! `O_TMPFILE` file is `DIR/#INODE (deleted)`). Files whose name the kernel makes up
//! (`pipe:[N]`, `socket:[N]`, `anon_inode:...`: a dentry with `d_dname`) get no resolved path,
//! nor does a path deeper than [`DEPTH`] pieces: never a guess.
//!
//! **io_uring.** `io_uring:io_uring_submit_req` (opcode `IORING_OP_OPENAT`/`OPENAT2`, in the
//! submitting thread, after the request's prep) reads `struct io_open` (the first member of
//! `struct io_kiocb`): the kernel's own copy of the name (`filename->name`, kept in a map in
//! pieces: it is freed before the completion), the dirfd, `how`; `io_uring:io_uring_complete`
//! (in the submitter or an io-wq worker thread of the same process, sharing its files and fs)
//! has the result and resolves it as above. A request refused at prep (an unreadable name,
//! bad flags) never reaches `submit_req`, so it is not seen; a direct-descriptor open
//! (`file_index`) has no fd to resolve.
//!
//! **open_by_handle_at** has its own syscall tracepoints; its raw path is empty (the argument
//! is a handle), its resolved path is the opened file.

/// `KIND`, the open's call, in the `O` event: its `via:` and whether `resolve:` applies.
pub mod kind {
    pub const OPEN: u64 = 0;
    pub const OPENAT: u64 = 1;
    pub const OPENAT2: u64 = 2;
    pub const CREAT: u64 = 3;
    pub const URING_OPENAT: u64 = 4;
    pub const URING_OPENAT2: u64 = 5;
    pub const HANDLE: u64 = 6;
}

/// `RF` bits of the `O` event: what the walk found.
pub mod walked {
    /// The walk is of the directory a failed relative name was resolved against.
    pub const BASE: u64 = 1;
    /// The file is unlinked: readlink adds ` (deleted)`.
    pub const DELETED: u64 = 2;
    /// The kernel makes the file's name up (`d_dname`): not resolved.
    pub const NO_NAME: u64 = 4;
    /// The walk reached the root: the `R` events are the whole path.
    pub const ROOT: u64 = 8;
}

/// Iterations of the walk at most: one per piece of a component (or per mount crossed). A
/// path that needs more gets no resolved path.
pub const DEPTH: u32 = 160;

/// Bytes of a name in one `R` event: four 64-bit words, printed as numbers (no string
/// buffer on the BPF stack; trace-gen keeps the name's `len` bytes).
pub const NAME_PIECE: u64 = 32;

/// `IORING_OP_OPENAT` and `IORING_OP_OPENAT2` (include/uapi/linux/io_uring.h).
pub const IORING_OP_OPENAT: u32 = 18;
pub const IORING_OP_OPENAT2: u32 = 28;

/// `O_LARGEFILE`: io_uring adds it to every open on 64-bit; the program did not pass it.
const O_LARGEFILE: u64 = 0o100000;

/// `AT_FDCWD`.
const AT_FDCWD: i32 = -100;

/// `-EFAULT`: the kernel could not read the name.
const EFAULT: i32 = -14;

/// The statements of an open-family call's entry (in `raw_syscalls:sys_enter`, from its
/// arguments `$a0`..`$a3`, at the same positions in the native and the ia32 ABI), in one map
/// entry, `@d[tid] = (FLAGS, MODE | RESOLVE << 16 | KIND << 32, DFD, PATH, TIME, 0)`: the path
/// pointer is a number read back at return with `uptr()`, the entry time is never 0 (the
/// return's test), and the last 0, read back from the map, is a number the verifier cannot
/// know (the return's `$pz`: no lookup of `@zero` for it). One entry, not three maps: each update, lookup and delete of a hash
/// map costs the traced call (measured on the 200,000-open burst: 13 map operations per open
/// took 12% of the traced program's time). Mode and resolve are packed so that the `O` event
/// fits the 512-byte BPF stack (a mode or `how.resolve` beyond 16 bits is refused by the
/// kernel). openat2's `struct open_how` is three 64-bit words (flags, mode, resolve),
/// read from the caller's memory.
pub fn entry(call: &str) -> String {
    let (k, path, flags, mode, resolve, dfd) = match call {
        "open" => (kind::OPEN, "$a0", "$a1 & 0xffffffff", "$a2", "0", "-100"),
        "openat" => (
            kind::OPENAT,
            "$a1",
            "$a2 & 0xffffffff",
            "$a3",
            "0",
            "(int32)$a0",
        ),
        "openat2" => (
            kind::OPENAT2,
            "$a1",
            "*(uint64 *)uptr($a2)",
            "*(uint64 *)uptr($a2 + 8)",
            "*(uint64 *)uptr($a2 + 16)",
            "(int32)$a0",
        ),
        "creat" => (kind::CREAT, "$a0", "0x241", "$a1", "0", "-100"),
        _ => (
            kind::HANDLE,
            "0",
            "$a2 & 0xffffffff",
            "0",
            "0",
            "(int32)$a0",
        ),
    };
    format!(
        "@d[tid] = ((uint64)({flags}), ((uint64)({mode}) & 0xffff) | ((uint64)({resolve}) & 0xffff) << 16 | {k} << 32, (int64){dfd}, (uint64)({path}), nsecs, (uint64)0);"
    )
}

/// The expressions [`walk`] reads: the open's key (`tid`, `ts`), its result `ret` (fd or
/// -errno, as int64), `kind`, `dfd`, and `abs` (the name starts with `/`). Expressions, not
/// variables: every bpftrace variable is a slot of the 512-byte BPF stack.
pub struct WalkFrom<'a> {
    pub tid: &'a str,
    pub ts: &'a str,
    pub ret: &'a str,
    pub kind: &'a str,
    pub dfd: &'a str,
    pub abs: &'a str,
    /// The last one or two pieces are left for the open's own event ([`held_lengths`], [`held_words`]) instead
    /// of an `R` event of their own.
    pub held: bool,
}

/// The walk: its caller has set `$pz` to 0 read from a map (the entry's last field, or
/// `@zero`). The parity tests add
/// it so that the verifier does not know `$i`'s parity (a branch it can decide marks `$i`
/// exact, and it stops pruning the walk's states: measured over 1,000,000 instructions).
///
/// It prints the `R` events of the open `from` and leaves `$i` (the number of name
/// pieces in them) and `$rf` ([`walked`] bits) for its `O` event. Without `on` (`--no-resolve`), nothing is
/// walked: no `R` event, `$i` and `$rf` are 0.
pub fn walk(on: bool, from: &WalkFrom) -> Vec<String> {
    if !on {
        return vec!["$rf = (uint64)0;".to_owned(), "$i = 0;".to_owned()];
    }
    let WalkFrom {
        tid,
        ts,
        ret,
        kind,
        dfd,
        abs,
        held,
    } = from;
    let mut lines = vec![
        "$rf = (uint64)0;".to_owned(),
        "$dn = (struct dentry *)0;".to_owned(),
        "$mn = (struct vfsmount *)0;".to_owned(),
        "$f = (struct file *)0;".to_owned(),
        format!("if ({ret} >= 0) {{"),
        format!(
            "  if ({ret} < (int64)curtask->files->fdt->max_fds) {{ $f = *(curtask->files->fdt->fd + {ret}); }}"
        ),
        format!(
            "}} else if ({kind} != {} && {ret} != {EFAULT} && !({abs})) {{",
            kind::HANDLE
        ),
        format!("  $rf = {};", walked::BASE),
        format!(
            "  if ({dfd} == {AT_FDCWD}) {{ $dn = curtask->fs->pwd.dentry; $mn = curtask->fs->pwd.mnt; }}"
        ),
        format!(
            "  else {{ if ({dfd} >= 0 && {dfd} < (int64)curtask->files->fdt->max_fds) {{ $f = *(curtask->files->fdt->fd + {dfd}); }} }}"
        ),
        "}".to_owned(),
        "if ($f != 0) {".to_owned(),
        "  $dn = $f->f_path.dentry;".to_owned(),
        "  $mn = $f->f_path.mnt;".to_owned(),
        format!(
            "  if ({ret} >= 0 && $dn->d_hash.pprev == 0 && $dn != $dn->d_parent) {{ $rf = {}; }}",
            walked::DELETED
        ),
        format!(
            "  if ($dn->d_op->d_dname != 0) {{ $rf |= {}; $dn = (struct dentry *)0; }}",
            walked::NO_NAME
        ),
        "}".to_owned(),
        "$i = 0;".to_owned(),
        "$it = 0;".to_owned(),
        "$o = (uint64)0;".to_owned(),
        if *held {
            "$ad = (struct dentry *)0; $ao = (uint64)0; $bd = (struct dentry *)0; $bo = (uint64)0; $hb = 0;".to_owned()
        } else {
            "$hl = (uint64)0; $ho = (uint64)0; $h0 = (uint64)0; $h1 = (uint64)0; $h2 = (uint64)0; $h3 = (uint64)0;".to_owned()
        },
        // The process's root, read once (four field reads fewer in every turn). Compared by
        // XOR, not `==`: the verifier links the two sides of a register comparison, and with
        // `==` it was measured to stop pruning the walk's states (over 1,000,000 instructions).
        "$rd = (uint64)curtask->fs->root.dentry; $rm = (uint64)curtask->fs->root.mnt;".to_owned(),
        format!("while ($it < {DEPTH}) {{"),
        "  $it++;".to_owned(),
        "  if ($dn == 0) { break; }".to_owned(),
        format!(
            "  if (((((uint64)$dn) ^ $rd) | (((uint64)$mn) ^ $rm)) == 0) {{ $rf |= {}; break; }}",
            walked::ROOT
        ),
        "  if ($dn == $mn->mnt_root || $dn == $dn->d_parent) {".to_owned(),
        "    $m = (struct mount *)((uint64)$mn - @mntoff);".to_owned(),
        format!(
            "    if ($dn != $mn->mnt_root || $m->mnt_parent == $m) {{ $rf |= {}; break; }}",
            walked::ROOT
        ),
        "    $dn = $m->mnt_mountpoint;".to_owned(),
        "    $mn = (struct vfsmount *)((uint64)$m->mnt_parent + @mntoff);".to_owned(),
        "    continue;".to_owned(),
        "  }".to_owned(),
    ];
    if *held {
        lines.extend([
            // Pieces go out two to an `R` event, once a third follows them: the last one or
            // two are the open's own event's. A piece is held as its dentry and offset, and
            // read when printed.
            "  if ((($i + $pz) & 1) == 0) {".to_owned(),
            "    if ($hb) {".to_owned(),
            "      $an = (uint64)$ad->d_name.name + $ao; $bn = (uint64)$bd->d_name.name + $bo;".to_owned(),
            format!("      printf(\"R %d %lld %lx %lx %lx %lx %lx %lx %lx %lx %lx\\n\", {tid}, {ts}, {},", held_lengths()),
            format!("        {}, {});", held_words("$an"), held_words("$bn")),
            "    }".to_owned(),
            "    $ad = $dn; $ao = $o;".to_owned(),
            "  } else {".to_owned(),
            "    $bd = $dn; $bo = $o; $hb = 1;".to_owned(),
            "  }".to_owned(),
            "  $i++;".to_owned(),
            format!(
                "  if ($o + {NAME_PIECE} < $dn->d_name.len) {{ $o += {NAME_PIECE}; }} else {{ $o = 0; $dn = $dn->d_parent; }}"
            ),
            "}".to_owned(),
            "$an = (uint64)$ad->d_name.name + $ao; $bn = (uint64)$bd->d_name.name + $bo;".to_owned(),
        ]);
        return lines;
    }
    lines.extend([
        // Pieces go out two to an `R` event: an odd piece is held ($h*) until the next one.
        "  $nw = (uint64)$dn->d_name.name + $o;".to_owned(),
        "  if ((($i + $pz) & 1) == 0) {".to_owned(),
        "    $hl = (uint64)$dn->d_name.len; $ho = $o;".to_owned(),
        "    $h0 = *(uint64 *)$nw; $h1 = *(uint64 *)($nw + 8); $h2 = *(uint64 *)($nw + 16); $h3 = *(uint64 *)($nw + 24);".to_owned(),
        "  } else {".to_owned(),
        format!(
            "    printf(\"R %d %lld %d %d %lx %lx %lx %lx %d %d %lx %lx %lx %lx\\n\", {tid}, {ts}, $hl, $ho, $h0, $h1, $h2, $h3,"
        ),
        "      $dn->d_name.len, $o, *(uint64 *)$nw, *(uint64 *)($nw + 8), *(uint64 *)($nw + 16), *(uint64 *)($nw + 24));".to_owned(),
        "  }".to_owned(),
        "  $i++;".to_owned(),
        format!(
            "  if ($o + {NAME_PIECE} < $dn->d_name.len) {{ $o += {NAME_PIECE}; }} else {{ $o = 0; $dn = $dn->d_parent; }}"
        ),
        "}".to_owned(),
        format!(
            "if ((($i + $pz) & 1) == 1) {{ printf(\"R %d %lld %d %d %lx %lx %lx %lx\\n\", {tid}, {ts}, $hl, $ho, $h0, $h1, $h2, $h3); }}"
        ),
    ]);
    lines
}

/// The lengths and offsets of the two held pieces (`$ad`, `$ao`, `$bd`, `$bo`) in one word:
/// `LEN_A | OFF_A << 16 | LEN_B << 32 | OFF_B << 48` (a name is at most 255 bytes).
pub fn held_lengths() -> String {
    "(uint64)$ad->d_name.len | $ao << 16 | (uint64)$bd->d_name.len << 32 | $bo << 48".to_owned()
}

/// The four words of a held piece's name bytes at `at`.
pub fn held_words(at: &str) -> String {
    format!(
        "*(uint64 *){at}, *(uint64 *)({at} + 8), *(uint64 *)({at} + 16), *(uint64 *)({at} + 24)"
    )
}

/// `BEGIN`'s lines: where `struct mount` holds its `vfsmount` (after `mnt_hash`, `mnt_parent`
/// and `mnt_mountpoint`, as since Linux 3.3), checked on bpftrace's own root mount: the dentry
/// it is mounted on belongs to its parent's superblock.
pub fn begin() -> Vec<String> {
    vec![
        "@zero = 0;".to_owned(),
        "@mntoff = sizeof(struct hlist_node) + 16;".to_owned(),
        "$rmnt = (struct mount *)((uint64)curtask->fs->root.mnt - @mntoff);".to_owned(),
        "if ($rmnt->mnt_mountpoint->d_sb != $rmnt->mnt_parent->mnt.mnt_sb) {".to_owned(),
        format!(
            "  {}",
            super::script::print_literal(
                "E struct mount is not laid out as trace-gen knows it: paths cannot be resolved"
            )
        ),
        "  exit();".to_owned(),
        "}".to_owned(),
    ]
}

/// The body of `io_uring:io_uring_submit_req` for an open request: its details, its time,
/// thread and process name, and the kernel's copy of its name in pieces (`@un[req, K]`; the
/// kernel frees that copy before the completion). `ns`: the thread is kept by its id in
/// trace-gen's PID namespace, as every other event of the run shows it.
pub fn uring_submit_body(ns: bool, req: &str, comm: &str) -> Vec<String> {
    let chunk = super::CHUNK;
    let max = super::MAX_CHUNKS;
    let mut b = vec![
        format!("$r = {req};"),
        "$op = (struct io_open *)$r;".to_owned(),
        format!(
            "$kd = $opc == {IORING_OP_OPENAT2} ? {} : {};",
            kind::URING_OPENAT2,
            kind::URING_OPENAT
        ),
        format!(
            "@ud[$r] = ($op->how.flags & ~{O_LARGEFILE:#x}, ($op->how.mode & 0xffff) | ($op->how.resolve & 0xffff) << 16 | $kd << 32, (int64)$op->dfd);"
        ),
        "$p = $op->filename->name;".to_owned(),
        "$n = 0;".to_owned(),
        "$off = (uint64)0;".to_owned(),
        format!("while ($n < {max}) {{"),
        format!("  @un[$r, $n] = str($p + $off, {});", chunk + 1),
        "  $n++;".to_owned(),
    ];
    b.extend(super::script::piece_has_nul("$p + $off"));
    b.extend([
        "  if ($z) { break; }".to_owned(),
        format!("  $off += {chunk};"),
        "}".to_owned(),
        format!("$c = (uint64)curtask + {comm};"),
        format!(
            "@uq[$r] = ({}, $n, *(uint8 *)$p == 47, *(uint64 *)$c, *(uint64 *)($c + 8));",
            if ns {
                super::script::ns_nr("curtask")
            } else {
                "tid".to_owned()
            }
        ),
        "@ut[$r] = nsecs;".to_owned(),
    ]);
    b
}

/// The body of `io_uring:io_uring_complete` for a request seen at submission: resolves the
/// result ([`walk`]) and prints the open's `O` events with the submitter's thread and name.
/// `ns`: the process id is the one in trace-gen's PID namespace (the completion runs in the
/// submitter or in an io-wq worker, a thread of the same process).
pub fn uring_complete_body(resolve_paths: bool, ns: bool, res: &str) -> Vec<String> {
    let max = super::MAX_CHUNKS;
    let mut b = vec![
        format!("$res = (int64){res};"),
        "$q = @uq[$r];".to_owned(),
        "$d = @ud[$r];".to_owned(),
    ];
    if resolve_paths {
        b.push("$pz = @zero;".to_owned());
    }
    b.extend(walk(
        resolve_paths,
        &WalkFrom {
            tid: "$q.0",
            ts: "@ut[$r]",
            ret: "$res",
            kind: "($d.1 >> 32)",
            dfd: "$d.2",
            abs: "$q.2",
            held: false,
        },
    ));
    b.extend([
        "@n[tid] = $q.1;".to_owned(),
        "$n = @n[tid];".to_owned(),
        "delete(@n[tid]);".to_owned(),
        "$k = 0;".to_owned(),
        format!("while ($k < {max}) {{"),
        "  if ($k >= $n) { break; }".to_owned(),
        format!(
            "  printf(\"O %d %d %d %d %lld %lld %lx %lx %lx %lx %lx %d %d %s\\n\", $q.0, {}, uid, $res,",
            if ns { super::script::ns_nr("curtask->group_leader") } else { "pid".to_owned() }
        ),
        "    @ut[$r], nsecs, $q.3, $q.4, $d.0, $d.1 | $rf << 36 | $i << 40, 0, $k, $n, @un[$r, $k]);".to_owned(),
        "  delete(@un[$r, $k]);".to_owned(),
        "  $k++;".to_owned(),
        "}".to_owned(),
        "delete(@uq[$r]);".to_owned(),
        "delete(@ud[$r]);".to_owned(),
        "delete(@ut[$r]);".to_owned(),
    ]);
    b
}

/// Whether `line` of bpftrace's stderr is part of its "Addrspace mismatch" warning about the
/// walk's use of a syscall's result (a user-space tracepoint field) beside kernel pointers:
/// the warning line, the script line it quotes, or its `~~~` marker. Noise: the values are
/// numbers, read right.
pub fn is_addrspace_warning(line: &str) -> bool {
    let t = line.trim();
    t.ends_with("WARNING: Addrspace mismatch")
        || (!t.is_empty() && t.bytes().all(|b| b == b'~'))
        || t.starts_with("if ((int64)args->ret < (int64)curtask->files->fdt->max_fds)")
        || t.starts_with("} else if (($d.1 >> 32) != 6 && (int64)args->re")
}
