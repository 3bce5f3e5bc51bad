//! The bpftrace script, built from a [`ScriptSpec`] as a list of typed probe blocks: every
//! value in it is a number formatted here or a validated [`CommName`](crate::script::CommName)
//! literal, and each block carries the comment that says why it is there (the comments are in
//! the generated script, for whoever reads `--print-script`).
//!
//! The shape of every event line (before bpftrace's JSON escaping) is the contract with
//! [`super::decode`]:
//!
//! ```text
//! R TID TS_ENTRY LEN OFF W0 W1 W2 W3                           a piece of a resolved path's name
//! O TID PID UID RET TS_ENTRY TS_EXIT COMM0 COMM1 FLAGS PACKED PTR K N CHUNK
//!                                                              an open, piece K of N of its path
//! P fork PARENT CHILD                                          a followed process forked
//! P exit PID                                                   its last thread exited
//! K TID TS_ENTRY SIGNAL                                        the open never returns: killed
//! G TID TS_ENTRY CGROUP_ID                                     its process's cgroup (--cgroup)
//! # trace-gen: attached / # trace-gen: fence CPU               the markers
//! E MESSAGE                                                    the script cannot run here
//! ```

use super::{resolve, Bpftrace, CHUNK, MAX_CHUNKS};
use crate::cgroup::BPFTRACE;
use crate::script::{ScriptSpec, Target, ATTACHED_MARKER, FENCE_MARKER};
use std::fmt::Write as _;

/// The ia32 system call numbers of the open family (arch/x86/entry/syscalls/syscall_32.tbl).
pub const IA32_OPEN_CALLS: [(&str, u32); 5] = [
    ("open", 5),
    ("creat", 8),
    ("openat", 295),
    ("openat2", 437),
    ("open_by_handle_at", 342),
];

/// `CLONE_THREAD`: a new task with it is a thread of the same process, not a new process.
const CLONE_THREAD: u32 = 0x0001_0000;

/// `TS_COMPAT` in x86's `thread_info.status`: the current system call is an ia32 one.
const TS_COMPAT: u32 = 0x0002;

/// "bpftrace" as a little-endian u64: the first word of bpftrace's own `comm`, which `BEGIN`
/// (run in bpftrace's process) looks for in its `task_struct`.
const BPFTRACE_COMM_WORD: u64 = u64::from_le_bytes(*b"bpftrace");

/// How far into `task_struct` `BEGIN` looks for `comm` (it is about 3 KiB in on 6.x).
const COMM_SEARCH_LIMIT: u32 = 8192;

/// One probe block: why it exists, where it attaches, its predicate and its statements.
struct Block {
    why: Vec<String>,
    probes: Vec<String>,
    predicate: Option<String>,
    body: Vec<String>,
}

impl Block {
    fn new(why: &[&str], probes: Vec<String>) -> Block {
        Block {
            why: why.iter().map(|&s| s.to_owned()).collect(),
            probes,
            predicate: None,
            body: Vec::new(),
        }
    }

    fn when(mut self, predicate: Option<String>) -> Block {
        self.predicate = predicate;
        self
    }

    fn body<S: Into<String>>(mut self, lines: impl IntoIterator<Item = S>) -> Block {
        self.body.extend(lines.into_iter().map(Into::into));
        self
    }

    fn render(&self, s: &mut String) {
        for w in &self.why {
            let _ = writeln!(s, "// {w}");
        }
        s.push_str(&self.probes.join(",\n"));
        s.push('\n');
        if let Some(p) = &self.predicate {
            let _ = writeln!(s, "/{p}/");
        }
        s.push_str("{\n");
        for line in &self.body {
            if line.is_empty() {
                s.push('\n');
            } else {
                let _ = writeln!(s, "  {line}");
            }
        }
        s.push_str("}\n\n");
    }
}

/// A printf statement for `text` (no format directives, no quotes or backslashes in it).
pub(super) fn print_literal(text: &str) -> String {
    debug_assert!(!text.contains(['"', '\\', '%']));
    format!("printf(\"{text}\\n\");")
}

/// Whether the run follows processes through the `@traced` map.
fn follows(spec: &ScriptSpec) -> bool {
    spec.follow && !matches!(spec.target, Target::SystemWide { .. })
}

/// The terms that select the processes whose opens are traced (all must hold). In a PID
/// namespace (`ns`), the pids in the kernel are the host's: trace-gen is `@tg`, the command
/// `@cmd`, and system-wide only the processes with a pid in the namespace are traced.
fn target_terms(spec: &ScriptSpec, ns: Option<u64>) -> Vec<String> {
    let mut terms = Vec::new();
    match &spec.target {
        Target::SystemWide { exclude } => {
            terms.push("pid != @tracer".to_owned());
            match ns {
                Some(inode) => {
                    terms.push("pid != @tg".to_owned());
                    terms.push(in_ns(inode));
                }
                None => terms.extend(exclude.iter().map(|p| format!("pid != {p}"))),
            }
        }
        _ => terms.push(who(spec, ns)),
    }
    terms
}

/// In a PID namespace, the `-p` processes (their pids there are the keys of `@want`): a
/// process of the namespace whose number there is wanted. Its host pid is not known before
/// its first event, so this is tested on every event that `@traced` does not take.
fn wanted(inode: u64) -> String {
    format!(
        "({} && @want[{}])",
        in_ns(inode),
        ns_nr("curtask->group_leader")
    )
}

/// Who the process probes (fork, exit, opens) are for: `@traced[pid]` when following, else
/// the given pids or the command; in a PID namespace `-p` adds [`wanted`].
fn who(spec: &ScriptSpec, ns: Option<u64>) -> String {
    match (&spec.target, ns) {
        (Target::Pids(_), Some(inode)) if follows(spec) => {
            format!("(@traced[pid] || {})", wanted(inode))
        }
        (Target::Pids(_), Some(inode)) => wanted(inode),
        _ if follows(spec) => "@traced[pid]".to_owned(),
        (Target::Pids(pids), None) => any_pid(pids),
        _ => command_pid(ns),
    }
}

/// `pid == $2`, the `-c` command (`pid == @cmd` in a PID namespace).
fn command_pid(ns: Option<u64>) -> String {
    if ns.is_some() {
        "pid == @cmd".to_owned()
    } else {
        "pid == $2".to_owned()
    }
}

/// `pid == A || pid == B`, parenthesised when there are several.
fn any_pid(pids: &[u32]) -> String {
    let any: Vec<String> = pids.iter().map(|p| format!("pid == {p}")).collect();
    if any.len() == 1 {
        any[0].clone()
    } else {
        format!("({})", any.join(" || "))
    }
}

/// The user filters (`-u`, `-n`), applied to opens only: a process is followed whoever it
/// runs as and whatever its name.
fn filter_terms(spec: &ScriptSpec) -> Vec<String> {
    let mut terms = Vec::new();
    if let Some(uid) = spec.uid {
        terms.push(format!("uid == {uid}"));
    }
    if let Some(comm) = &spec.comm {
        // CommName holds printable ASCII without '"' or '\': a valid string literal as is.
        terms.push(format!("comm == {}", comm.string_literal()));
    }
    // --cgroup: the process's group is the target or below it (crate::cgroup).
    if let Some(t) = spec
        .cgroup
        .as_ref()
        .and_then(|c| c.under("(uint64)curtask", BPFTRACE))
    {
        terms.push(t);
    }
    terms
}

/// With `--cgroup`, the statement that prints `G TID TS_ENTRY CGROUP_ID` for an open (before
/// its `O` lines): the id of the process's own group (`bpf_get_current_cgroup_id()`), named
/// in user space.
fn cgroup_line(spec: &ScriptSpec, tid: &str, ts: &str) -> Option<String> {
    spec.cgroup
        .as_ref()
        .map(|_| format!("printf(\"G %d %lld %lld\\n\", {tid}, {ts}, cgroup);"))
}

fn and(terms: Vec<String>) -> Option<String> {
    (!terms.is_empty()).then(|| terms.join(" && "))
}

/// The number of `task` (an expression) in trace-gen's PID namespace: `numbers[@lvl].nr` of
/// its `struct pid`, found at `@numoff` by `BEGIN` (bpftrace 0.17 has no `offsetof` and no
/// indexing of a flexible array).
pub(super) fn ns_nr(task: &str) -> String {
    format!("*(int32 *)((uint64){task}->thread_pid + @numoff + 16 * @lvl)")
}

/// Whether the current task has a pid in trace-gen's PID namespace (it is in it or below).
fn in_ns(inode: u64) -> String {
    format!(
        "curtask->thread_pid->level >= @lvl && ((struct pid_namespace *)*(uint64 *)((uint64)curtask->thread_pid + @numoff + 16 * @lvl + 8))->ns.inum == {inode}"
    )
}

/// `BEGIN`'s statements in a PID namespace: where `struct pid` keeps `numbers[]` (found
/// from bpftrace's own: the host's level 0 holds its tid and the initial namespace), the
/// level of trace-gen's namespace (bpftrace's own), trace-gen's host pid (bpftrace's
/// parent), and for `-c` the command's host pid: bpftrace is the last child trace-gen's
/// main thread made, the held command one made before, so it is found by walking back the
/// `sibling` list (at the offset of `children.prev` in bpftrace's own task) to the child
/// whose number here is `$2`.
fn ns_begin(inode: u64, command: bool, known: Option<u64>) -> Vec<String> {
    let mut b = vec!["$pp = (uint64)curtask->thread_pid;".to_owned()];
    // Known from BTF, `numbers[]` is taken as it is: the check below (the namespace found at
    // bpftrace's own level) still refuses a wrong one.
    b.extend(match known {
        Some(off) => vec![format!("@numoff = (uint64){off};")],
        None => vec![
            "$off = (uint64)8;".to_owned(),
            "@numoff = (uint64)0;".to_owned(),
            "while ($off < 512) {".to_owned(),
            format!(
                "  if (*(int32 *)($pp + $off) == (int32)tid) {{ if (((struct pid_namespace *)*(uint64 *)($pp + $off + 8))->ns.inum == {:#x}) {{ @numoff = $off; break; }} }}",
                crate::sys::INIT_PID_NAMESPACE
            ),
            "  $off += 8;".to_owned(),
            "}".to_owned(),
        ],
    });
    b.extend([
        "@lvl = (uint64)curtask->thread_pid->level;".to_owned(),
        format!(
            "if (@numoff == 0 || ((struct pid_namespace *)*(uint64 *)($pp + @numoff + 16 * @lvl + 8))->ns.inum != {inode}) {{"
        ),
        format!(
            "  {}",
            print_literal("E the PID namespace of trace-gen was not found in bpftrace's struct pid")
        ),
        "  exit();".to_owned(),
        "}".to_owned(),
        "@tg = (uint64)curtask->real_parent->tgid;".to_owned(),
        "@siboff = (uint64)curtask->real_parent->children.prev - (uint64)curtask;".to_owned(),
    ]);
    if command {
        b.extend([
            "$s = (uint64)curtask->sibling.prev;".to_owned(),
            "$i = 0;".to_owned(),
            "@cmd = 0;".to_owned(),
            "while ($i < 16) {".to_owned(),
            "  $k = (struct task_struct *)($s - @siboff);".to_owned(),
            format!(
                "  if ({} == $2) {{ @cmd = (uint64)$k->tgid; break; }}",
                ns_nr("$k")
            ),
            "  $s = (uint64)$k->sibling.prev;".to_owned(),
            "  $i++;".to_owned(),
            "}".to_owned(),
            "if (@cmd == 0) {".to_owned(),
            format!(
                "  {}",
                print_literal("E the -c command was not found among trace-gen's children")
            ),
            "  exit();".to_owned(),
            "}".to_owned(),
        ]);
    }
    b
}

/// `SIGKILL` as a bit of `sigset_t`'s first word (bit `SIGKILL - 1`).
const SIGKILL_BIT: u64 = 1 << 8;

/// The statement, in the return program, that prints `K TID TS_ENTRY SIGNAL` before the
/// open's pieces when the call will never return to the program: the kernel's restart codes
/// (-512 to -516: ERESTARTSYS..ERESTART_RESTARTBLOCK) with SIGKILL pending for the thread
/// (`__fatal_signal_pending()`: a fatal signal, or another thread's exit_group, queues
/// SIGKILL on every thread), which is delivered before the return to user space. The
/// signal is the group's exit code (the signal that killed it), 9 when the group exits by
/// exit_group (the thread itself got SIGKILL).
fn killed_check(tid: &str) -> String {
    format!(
        "if ($ret <= -512 && $ret >= -516) {{ \
         if (curtask->pending.signal.sig[0] & {SIGKILL_BIT:#x}) {{ \
         $sig = curtask->signal->group_exit_code & 0x7f; if ($sig == 0) {{ $sig = 9; }} \
         printf(\"K %d %lld %d\\n\", {tid}, $d.4, $sig); }} }}"
    )
}

/// `$id == N || ...` for the numbers of the open family's system calls, native and ia32,
/// once each: what the entry and the return test first, so that every other system call of
/// the machine leaves their programs after a few compares.
fn open_family_test(bpftrace: &Bpftrace) -> String {
    let mut ids: Vec<String> = bpftrace
        .syscalls
        .iter()
        .filter_map(|c| super::native_nr(c.name).map(|nr| nr.to_string()))
        .collect();
    if bpftrace.compat {
        ids.extend(IA32_OPEN_CALLS.iter().map(|&(_, id)| id.to_string()));
    }
    let mut seen = std::collections::BTreeSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    let any: Vec<String> = ids.iter().map(|id| format!("$id == {id}")).collect();
    any.join(" || ")
}

/// The one program every open's entry runs: `raw_syscalls:sys_enter`, which fires for every
/// system call (with its number and six arguments), native and ia32. One program instead of
/// one per `syscalls:sys_enter_*` tracepoint: bpftrace compiles, and the kernel verifies,
/// each program apart, and reads tracefs' whole event list about twenty times for each
/// `args` in the script (measured: half of its start-up). The arguments are read once.
fn entry_program(bpftrace: &Bpftrace, predicate: Option<String>) -> Block {
    let mut body = vec![
        "$a0 = args->args[0]; $a1 = args->args[1]; $a2 = args->args[2]; $a3 = args->args[3];"
            .to_owned(),
    ];
    let native: Vec<String> = bpftrace
        .syscalls
        .iter()
        .filter_map(|c| {
            super::native_nr(c.name).map(|nr| {
                format!(
                    "if ($id == {nr}) {{ {} }} // {}",
                    resolve::entry(c.name),
                    c.name
                )
            })
        })
        .collect();
    if bpftrace.compat {
        body.push(format!(
            "if (curtask->thread_info.status & {TS_COMPAT:#x}) {{"
        ));
        body.extend(IA32_OPEN_CALLS.iter().map(|(name, id)| {
            format!(
                "  if ($id == {id}) {{ {} }} // {name} (ia32)",
                resolve::entry(name)
            )
        }));
        body.push("} else {".to_owned());
        body.extend(native.iter().map(|l| format!("  {l}")));
        body.push("}".to_owned());
    } else {
        body.extend(native);
    }
    let mut why = vec![
        "Entry of every open: the path pointer (a number, read back at return), the time and the",
        "details, per thread, for the return. raw_syscalls:sys_enter, with the system call's",
        "number: one program for every call of the open family (bpftrace builds, and the",
        "kernel verifies, one program per tracepoint). Cost: this probe runs on every system",
        "call of the machine while tracing.",
    ];
    if bpftrace.compat {
        why.extend([
            "ia32 opens (32-bit programs, int 0x80) fire it with the ia32 numbers, the arguments",
            "at the same positions; TS_COMPAT marks an ia32 call in progress.",
        ]);
    }
    why.extend([
        "The call's number is tested first, before any map lookup: every other system call of",
        "the machine leaves after a few compares.",
    ]);
    let mut outer = vec![
        "$id = args->id;".to_owned(),
        format!("if ({}) {{", open_family_test(bpftrace)),
    ];
    let inner = if predicate.is_some() { "    " } else { "  " };
    if let Some(p) = &predicate {
        outer.push(format!("  if ({p}) {{"));
    }
    outer.extend(body.iter().map(|l| format!("{inner}{l}")));
    if predicate.is_some() {
        outer.push("  }".to_owned());
    }
    outer.push("}".to_owned());
    Block::new(&why, vec!["tracepoint:raw_syscalls:sys_enter".to_owned()]).body(outer)
}

/// `0x0101010101010101`: subtracted from a word, it borrows through (and so sets bit 7 of)
/// a zero byte.
const BYTE_ONES: u64 = 0x0101_0101_0101_0101;

/// Bit 7 of every byte of a word.
const BYTE_HIGHS: u64 = 0x8080_8080_8080_8080;

/// The statements (indented for a loop body) that set `$z` non-zero exactly when the
/// [`CHUNK`] bytes at `at` (an address expression) hold a NUL: 64-bit words read and
/// tested with `(w - 0x01..01) & !w & 0x80..80` (non-zero iff some byte of `w` is 0), the
/// eighth word's last byte (the next piece's first) forced non-zero; the last four words
/// only when the first four hold no NUL (each word is a read of the caller's memory, a
/// helper call, and most names end in their first 32 bytes). A word the kernel
/// cannot read comes back 0: the string cannot go on past it. This replaces comparing
/// `str(at, 63)` with `str(at, 62)`: the same answer, but straight-line arithmetic that the
/// kernel's verifier walks once per piece instead of byte by byte (measured: 173,000
/// instructions processed for the return program, 8,000 now).
pub(super) fn piece_has_nul(at: &str) -> Vec<String> {
    const _: () = assert!(CHUNK == 63, "eight words cover a piece and one byte more");
    let mut lines = Vec::new();
    for word in 0..8 {
        let read = if word == 0 {
            format!("*(uint64 *)({at})")
        } else if word < 7 {
            format!("*(uint64 *)({at} + {})", word * 8)
        } else {
            format!("(*(uint64 *)({at} + 56) | 0xff00000000000000)")
        };
        let op = if word % 4 == 0 { "=" } else { "|=" };
        let indent = if word < 4 { "  " } else { "    " };
        if word == 4 {
            // Most names end in their first 32 bytes: the other four words (each a read of
            // user memory, a helper call) only when they did not.
            lines.push("  if ($z == 0) {".to_owned());
        }
        lines.push(format!(
            "{indent}$w = {read}; $z {op} ($w - {BYTE_ONES:#x}) & ~$w;"
        ));
        if word % 4 == 3 {
            lines.push(format!("{indent}$z &= {BYTE_HIGHS:#x};"));
        }
    }
    lines.push("  }".to_owned());
    lines
}

/// The one program every open's return runs (`raw_syscalls:sys_exit`, for the threads whose
/// entry set `@d`): the path's pieces counted, the killed check, the resolved-path walk, the
/// open's `W` event and `C` events (`O` events without the walk). One program, not one per `syscalls:sys_exit_*` tracepoint: bpftrace builds and
/// the kernel verifies each copy apart (measured: 0.2-0.4 s each with the walk).
fn exit_program(
    open_family: &str,
    ns: bool,
    resolve_paths: bool,
    comm: &str,
    cgroup_line: Option<String>,
) -> Block {
    let ids = if ns { "$ntid, $npid" } else { "tid, pid" };
    let mut body = vec![
        "$ret = args->ret;".to_owned(),
        "$p = uptr((int8 *)$d.3);".to_owned(),
        // `$pz`, the entry's 0 (read from the map, so an unknown number to the verifier: see
        // the comment and the walk), without a lookup of `@zero`.
        "$pz = $d.5;".to_owned(),
        "$n = 1;".to_owned(),
        "$off = (uint64)0;".to_owned(),
        format!("while ($n < {MAX_CHUNKS}) {{"),
    ];
    body.extend(piece_has_nul("$p + $off"));
    body.extend([
        "  if ($z) { break; }".to_owned(),
        "  $n++;".to_owned(),
        format!("  $off += {CHUNK};"),
        "}".to_owned(),
        // Plus a map's 0: an unknown number to the verifier (see the comment).
        "$n = $n + $pz;".to_owned(),
        // The ids every line of this open prints (the K, R and O lines are joined by them).
        if ns {
            format!(
                "$c = (uint64)curtask + {comm}; $ntid = {}; $npid = {};",
                ns_nr("curtask"),
                ns_nr("curtask->group_leader")
            )
        } else {
            format!("$c = (uint64)curtask + {comm};")
        },
        killed_check(if ns { "$ntid" } else { "tid" }),
        // The resolved path (resolve.rs): R events before the O events.
        "$ts = $d.4;".to_owned(),
    ]);
    body.extend(cgroup_line);
    body.extend(resolve::walk(
        resolve_paths,
        &resolve::WalkFrom {
            tid: if ns { "$ntid" } else { "tid" },
            ts: "$ts",
            ret: "$ret",
            kind: "($d.1 >> 32)",
            dfd: "$d.2",
            abs: "*(uint8 *)$p == 47",
            held: resolve_paths && !ns,
        },
    ));
    body.extend([
        // Every number the pieces share, read once: the loop's body stays small.
        "$now = nsecs; $uid = uid; $c0 = *(uint64 *)$c; $c1 = *(uint64 *)($c + 8);".to_owned(),
        "$fl = $d.0; $pk = $d.1 | $rf << 36 | $i << 40;".to_owned(),
    ]);
    // In a PID namespace, the namespace's ids leave no room on the BPF stack for the W
    // event: the walk's pieces all go in R events there, and the open in O events.
    if resolve_paths && !ns {
        // One event for the open (`W`): its details, the walk's last pieces and the path's
        // first piece; a longer path goes on in `C` events.
        body.extend([
            "printf(\"W %d %lx %d %lld %lld %lx %lx %lx %lx %lx %d %lx %lx %lx %lx %lx %lx %lx %lx %lx %s\\n\", tid, (uint64)pid | (uint64)$uid << 32, $ret,".to_owned(),
            "  $ts, $now, $c0, $c1, $fl, $pk, (uint64)$p, $n,".to_owned(),
            format!("  {}, {}, {},", resolve::held_lengths(), resolve::held_words("$an"), resolve::held_words("$bn")),
            format!("  str($p, {}));", CHUNK + 1),
            "$k = 1;".to_owned(),
            format!("while ($k < {MAX_CHUNKS}) {{"),
            "  if ($k >= $n) { break; }".to_owned(),
            format!("  printf(\"C %d %lld %d %s\\n\", tid, $ts, $k, str($p + $k * {CHUNK}, {}));", CHUNK + 1),
            "  $k++;".to_owned(),
            "}".to_owned(),
        ]);
    } else {
        body.extend([
            "$k = 0;".to_owned(),
            format!("while ($k < {MAX_CHUNKS}) {{"),
            "  if ($k >= $n) { break; }".to_owned(),
            format!("  printf(\"O %d %d %d %d %lld %lld %lx %lx %lx %lx %lx %d %d %s\\n\", {ids}, $uid, $ret,"),
            format!(
                "    $ts, $now, $c0, $c1, $fl, $pk, (uint64)$p, $k, $n, str($p + $k * {CHUNK}, {}));",
                CHUNK + 1
            ),
            "  $k++;".to_owned(),
            "}".to_owned(),
        ]);
    }
    body.push("delete(@d[tid]);".to_owned());
    // The call's number first (every other system call of the machine leaves after a few
    // compares), then one lookup of the thread's entry, which is the test (no predicate:
    // that would be a second lookup of every open).
    let mut outer = vec![
        "$id = args->id;".to_owned(),
        format!("if ({open_family}) {{"),
        "  $d = @d[tid];".to_owned(),
        "  if ($d.4) {".to_owned(),
    ];
    outer.extend(body.into_iter().map(|l| format!("    {l}")));
    outer.extend(["  }".to_owned(), "}".to_owned()]);
    Block::new(
        &[
            "At return of every open, native or ia32 (the path is read now: at entry its page may",
            "not be there yet). This probe runs on every system call of the machine: it tests the",
            "call's number, then looks the open up once (its value is used, not looked up again).",
            "First, how",
            &format!(
                "many {CHUNK}-byte pieces the path needs, at most {MAX_CHUNKS} ({} bytes, more than PATH_MAX):",
                MAX_CHUNKS * CHUNK
            ),
            &format!(
                "a piece is full when its {CHUNK} bytes hold no NUL (tested on 64-bit words: a word w"
            ),
            "has a zero byte exactly when (w - 0x01..01) & ~w & 0x80..80 is not 0; straight-line",
            "arithmetic that the kernel verifies once, not byte by byte). Then one printf per piece, all numbers",
            "but the piece, which is last: bpftrace -f json escapes it, so one printf is one line",
            "whatever the bytes. The process name is printed as two numbers (its 16 bytes). One",
            "program for the whole event (two on one tracepoint were measured to diverge), and one",
            "printf statement (each gets its own slot on the 512-byte BPF stack). N gets the entry's",
            "0 added (read from the map), so that the verifier sees an unknown number, not one of",
            "66 constants: Linux 6.1's",
            "verifier otherwise walks the printing loop once per constant, and refuses it. With",
            "the walk, the first piece is in the open's W event with the walk's last name pieces,",
            "the others in C events (most opens are one event: each costs the traced program an",
            "interrupt).",
        ],
        vec!["tracepoint:raw_syscalls:sys_exit".to_owned()],
    )
    .body(outer)
}

/// Where `task_struct` keeps `comm`, as the programs of every event read it: the number
/// itself when the kernel's BTF gave it (`BEGIN` ends the run if it is wrong), else
/// `@commoff` (a map lookup in every event).
pub(super) fn comm_offset(known: Option<u64>) -> String {
    match known {
        Some(off) => off.to_string(),
        None => "@commoff".to_owned(),
    }
}

/// `BEGIN`'s first statements: `@commoff`, where `task_struct` keeps `comm`. Known from the
/// kernel's BTF (`known`), it is checked once on bpftrace's own name; otherwise it is searched
/// for, eight bytes at a time up to [`COMM_SEARCH_LIMIT`] (a loop the kernel's verifier walks
/// for about 67,000 instructions, 50 ms of every start).
fn comm_begin(known: Option<u64>) -> Vec<String> {
    let mut b = match known {
        Some(off) => vec![
            format!("@commoff = (uint64){off};"),
            format!(
                "if (*(uint64 *)((uint64)curtask + {off}) != {BPFTRACE_COMM_WORD:#x} || *(uint64 *)((uint64)curtask + {}) != 0) {{ @commoff = 0; }}",
                off + 8
            ),
        ],
        None => vec![
            "$t = (uint64)curtask;".to_owned(),
            "$off = (uint64)0;".to_owned(),
            "@commoff = (uint64)0;".to_owned(),
            format!("while ($off < {COMM_SEARCH_LIMIT}) {{"),
            format!("  if (*(uint64 *)($t + $off) == {BPFTRACE_COMM_WORD:#x}) {{"),
            "    if (*(uint64 *)($t + $off + 8) == 0) { @commoff = $off; break; }".to_owned(),
            "  }".to_owned(),
            "  $off += 8;".to_owned(),
            "}".to_owned(),
        ],
    };
    b.extend([
        "if (@commoff == 0) {".to_owned(),
        format!(
            "  {}",
            print_literal(
                "E the process name was not found in task_struct: the tracer must run as bpftrace"
            )
        ),
        "  exit();".to_owned(),
        "}".to_owned(),
    ]);
    b
}

/// The whole script for `spec`.
pub fn render(bpftrace: &Bpftrace, spec: &ScriptSpec) -> String {
    let mut blocks = Vec::new();
    let follow = follows(spec);
    let system_wide = matches!(spec.target, Target::SystemWide { .. });
    let ns = bpftrace.pid_namespace();

    // BEGIN: the comm offset, the seeds, the attached marker.
    let mut begin = comm_begin(bpftrace.offsets().comm);
    if let Some(inode) = ns {
        begin.extend(ns_begin(
            inode,
            matches!(spec.target, Target::Command),
            bpftrace.offsets().pid_numbers,
        ));
    }
    begin.extend(resolve::begin());
    match &spec.target {
        Target::SystemWide { .. } => begin.push("@tracer = pid;".to_owned()),
        Target::Pids(pids) if ns.is_some() => {
            begin.extend(pids.iter().map(|p| format!("@want[{p}] = 1;")));
        }
        Target::Pids(pids) if follow => {
            begin.extend(pids.iter().map(|p| format!("@traced[{p}] = 1;")));
        }
        Target::Command if follow && ns.is_some() => begin.push("@traced[@cmd] = 1;".to_owned()),
        Target::Command if follow => begin.push("@traced[$2] = 1;".to_owned()),
        _ => {}
    }
    begin.push(print_literal(ATTACHED_MARKER));
    let mut why_begin = vec![
        "Runs in bpftrace's own process, before any event: finds where task_struct keeps comm (its",
        "16 bytes read \"bpftrace\" then NULs here), so that events can print a process name as two",
        "numbers, never as text; then says the probes are attached (bpftrace reads its buffers",
        "only once every probe is).",
    ];
    if system_wide {
        why_begin
            .push("@tracer: bpftrace's pid, left out so that the tracer does not trace itself.");
    }
    if follow {
        why_begin
            .push("@traced: the followed processes (thread group ids), seeded with the targets.");
    }
    blocks.push(Block::new(&why_begin, vec!["BEGIN".to_owned()]).body(begin));

    blocks.push(
        Block::new(
            &[
                "The fence: trace-gen calls getppid() on every CPU before it stops bpftrace, and reads",
                "on until this line of each CPU, so that nothing still buffered is dropped.",
            ],
            vec!["tracepoint:syscalls:sys_enter_getppid".to_owned()],
        )
        .when(Some(if ns.is_some() { "pid == @tg" } else { "pid == $1" }.to_owned()))
        .body([format!("printf(\"{FENCE_MARKER} %d\\n\", cpu);")]),
    );

    if follow {
        blocks.push(
            Block::new(
                &[
                    "A new process (not a thread: no CLONE_THREAD) made by any thread of a followed",
                    "process is followed: fork, vfork, posix_spawn, clone. This fires in the parent",
                    "before the child can run. trace-gen keeps the live set from these lines.",
                ],
                vec!["tracepoint:task:task_newtask".to_owned()],
            )
            .when(Some(who(spec, ns)))
            .body({
                const TP: &str = "task:task_newtask";
                let f = bpftrace.tracepoint_fields();
                let child = f.get(TP, "pid");
                let mut b: Vec<String> = f.bind(TP).into_iter().collect();
                b.push(format!(
                    "if (!({} & {CLONE_THREAD:#x})) {{",
                    f.get(TP, "clone_flags")
                ));
                b.push(format!("  $cp = {child};"));
                b.push("  @traced[$cp] = 1;".to_owned());
                if ns.is_some() {
                    // The child is the last of the forking thread's children (unless
                    // CLONE_PARENT: then no report; the sweep finds it gone).
                    b.push("  $k = (struct task_struct *)((uint64)curtask->children.prev - @siboff);".to_owned());
                    b.push(format!(
                        "  if ($k->tgid == $cp) {{ printf(\"P fork %d %d\\n\", {}, {}); }}",
                        ns_nr("curtask->group_leader"),
                        ns_nr("$k")
                    ));
                } else {
                    b.push("  printf(\"P fork %d %d\\n\", pid, $cp);".to_owned());
                }
                b.push("}".to_owned());
                b
            }),
        );
    }
    if !system_wide {
        let who = who(spec, ns);
        let mut body = Vec::new();
        if follow {
            body.push("delete(@traced[pid]);".to_owned());
        }
        if ns.is_some() {
            body.push(format!(
                "printf(\"P exit %d\\n\", {});",
                ns_nr("curtask->group_leader")
            ));
        } else {
            body.push("printf(\"P exit %d\\n\", pid);".to_owned());
        }
        blocks.push(
            Block::new(
                &[
                    "A process is gone when its LAST thread exits: do_exit() counts down signal->live",
                    "before this tracepoint. A main thread's pthread_exit(), or exec from another",
                    "thread, leaves live > 0: the process stays traced. trace-gen stops once every",
                    "traced process has exited.",
                ],
                vec!["tracepoint:sched:sched_process_exit".to_owned()],
            )
            .when(Some(format!("{who} && curtask->signal->live.counter == 0")))
            .body(body),
        );
    }

    // Entries.
    let mut terms = target_terms(spec, ns);
    terms.extend(filter_terms(spec));
    let entry_pred = and(terms.clone());
    // (The cgroup predicate, when there is one, belongs in `terms`: entries and io_uring.)
    if !bpftrace.syscalls.is_empty() || bpftrace.compat {
        blocks.push(entry_program(bpftrace, entry_pred));
    }
    if !bpftrace.syscalls.is_empty() || bpftrace.compat {
        blocks.push(exit_program(
            &open_family_test(bpftrace),
            ns.is_some(),
            spec.resolve_paths,
            &comm_offset(bpftrace.offsets().comm),
            cgroup_line(spec, if ns.is_some() { "$ntid" } else { "tid" }, "$ts"),
        ));
    }

    if bpftrace.io_uring {
        const SUBMIT: &str = "io_uring:io_uring_submit_req";
        const COMPLETE: &str = "io_uring:io_uring_complete";
        let f = bpftrace.tracepoint_fields();
        let mut submit: Vec<String> = f.bind(SUBMIT).into_iter().collect();
        submit.push(format!("$opc = {};", f.get(SUBMIT, "opcode")));
        submit.push(format!(
            "if ($opc == {} || $opc == {}) {{",
            resolve::IORING_OP_OPENAT,
            resolve::IORING_OP_OPENAT2
        ));
        submit.extend(
            resolve::uring_submit_body(
                ns.is_some(),
                &f.get(SUBMIT, "req"),
                &comm_offset(bpftrace.offsets().comm),
            )
            .into_iter()
            .map(|l| format!("  {l}")),
        );
        submit.push("}".to_owned());
        blocks.push(
            Block::new(
                &[
                    "An io_uring open (IORING_OP_OPENAT, OPENAT2), in the submitting thread after its prep:",
                    "struct io_open is the request's first member. The kernel's copy of the name is kept",
                    "in pieces (it is freed before the completion), with the details, thread and name.",
                ],
                vec![format!("tracepoint:{SUBMIT}")],
            )
            .when(and(terms.clone()))
            .body(submit),
        );
        let mut complete: Vec<String> = f.bind(COMPLETE).into_iter().collect();
        complete.push(format!("$r = {};", f.get(COMPLETE, "req")));
        complete.push("if (@ut[$r]) {".to_owned());
        complete.extend(
            cgroup_line(spec, "@uq[$r].0", "@ut[$r]")
                .into_iter()
                .chain(resolve::uring_complete_body(
                    spec.resolve_paths,
                    ns.is_some(),
                    &f.get(COMPLETE, "res"),
                ))
                .map(|l| format!("  {l}")),
        );
        complete.push("}".to_owned());
        blocks.push(
            Block::new(
                &[
                    "Its completion (in the submitter or an io-wq worker of the same process, which",
                    "shares its files and fs), for a request seen at submission: the result resolved,",
                    "then the open's O events.",
                ],
                vec![format!("tracepoint:{COMPLETE}")],
            )
            .body(complete),
        );
    }

    let mut maps = vec!["@commoff", "@d", "@mntoff"];
    if bpftrace.io_uring {
        maps.extend(["@n", "@ud", "@un", "@uq", "@ut"]);
    }
    if follow {
        maps.push("@traced");
    }
    if system_wide {
        maps.push("@tracer");
    }
    if ns.is_some() {
        maps.extend(["@numoff", "@lvl", "@tg", "@siboff"]);
        match spec.target {
            Target::Command => maps.push("@cmd"),
            Target::Pids(_) => maps.push("@want"),
            Target::SystemWide { .. } => {}
        }
    }
    blocks.push(
        Block::new(
            &["Maps left at the end would be printed: clear them."],
            vec!["END".to_owned()],
        )
        .body(maps.iter().map(|m| format!("clear({m});"))),
    );

    let mut s = String::from(
        "// Generated by trace-gen: open-family system calls, one event per open (whole path, in\n\
         // pieces), for bpftrace -f json with BPFTRACE_STRLEN set by trace-gen.\n\n",
    );
    for b in &blocks {
        b.render(&mut s);
    }
    s.truncate(s.trim_end().len());
    s.push('\n');
    s
}
