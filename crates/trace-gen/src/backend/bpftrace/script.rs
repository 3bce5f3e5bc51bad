//! The bpftrace script, built from a [`ScriptSpec`] as a list of typed probe blocks: every
//! value in it is a number formatted here or a validated [`CommName`](crate::script::CommName)
//! literal, and each block carries the comment that says why it is there (the comments are in
//! the generated script, for whoever reads `--print-script`).
//!
//! The shape of every event line (before bpftrace's JSON escaping) is the contract with
//! [`super::decode`]:
//!
//! ```text
//! O TID PID UID RET TS_ENTRY TS_EXIT COMM0 COMM1 K N CHUNK     an open, piece K of N of its path
//! P fork PARENT CHILD                                          a followed process forked
//! P exit PID                                                   its last thread exited
//! # trace-gen: attached / # trace-gen: fence CPU               the markers
//! E MESSAGE                                                    the script cannot run here
//! ```

use super::{Bpftrace, CHUNK, MAX_CHUNKS};
use crate::script::{ScriptSpec, Target, ATTACHED_MARKER, FENCE_MARKER};
use std::fmt::Write as _;

/// The ia32 system call numbers of the open family (arch/x86/entry/syscalls/syscall_32.tbl),
/// with the argument that holds the path.
pub const IA32_OPEN_CALLS: [(&str, u32, u32); 4] = [
    ("open", 5, 0),
    ("creat", 8, 0),
    ("openat", 295, 1),
    ("openat2", 437, 1),
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
fn print_literal(text: &str) -> String {
    debug_assert!(!text.contains(['"', '\\', '%']));
    format!("printf(\"{text}\\n\");")
}

/// Whether the run follows processes through the `@traced` map.
fn follows(spec: &ScriptSpec) -> bool {
    spec.follow && !matches!(spec.target, Target::SystemWide { .. })
}

/// The terms that select the processes whose opens are traced (all must hold).
fn target_terms(spec: &ScriptSpec) -> Vec<String> {
    let mut terms = Vec::new();
    match &spec.target {
        Target::SystemWide { exclude } => {
            terms.push("pid != @tracer".to_owned());
            terms.extend(exclude.iter().map(|p| format!("pid != {p}")));
        }
        _ if follows(spec) => terms.push("@traced[pid]".to_owned()),
        Target::Pids(pids) => terms.push(any_pid(pids)),
        Target::Command => terms.push("pid == $2".to_owned()),
    }
    terms
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
    terms
}

fn and(terms: Vec<String>) -> Option<String> {
    (!terms.is_empty()).then(|| terms.join(" && "))
}

/// The one program every open's return runs: `ptr` is the path pointer (an expression),
/// `state` the per-thread maps to delete afterwards.
fn exit_program(probes: &[String], guard: &str, ptr: &str, state: &[&str]) -> Block {
    let mut body = vec![
        format!("$p = {ptr};"),
        "$n = 1;".to_owned(),
        "$off = (uint64)0;".to_owned(),
        format!("while ($n < {MAX_CHUNKS}) {{"),
        format!(
            "  if (str($p + $off, {CHUNK}) == str($p + $off, {})) {{ break; }}",
            CHUNK - 1
        ),
        "  $n++;".to_owned(),
        format!("  $off += {CHUNK};"),
        "}".to_owned(),
        "@n[tid] = $n;".to_owned(),
        "$n = @n[tid];".to_owned(),
        "delete(@n[tid]);".to_owned(),
        "$k = 0;".to_owned(),
        "$c = (uint64)curtask + @commoff;".to_owned(),
        format!("while ($k < {MAX_CHUNKS}) {{"),
        "  if ($k >= $n) { break; }".to_owned(),
        "  printf(\"O %d %d %d %d %lld %lld %lx %lx %d %d %s\\n\", tid, pid, uid, args->ret,".to_owned(),
        format!(
            "    @t[tid], nsecs, *(uint64 *)$c, *(uint64 *)($c + 8), $k, $n, str($p + $k * {CHUNK}, {}));",
            CHUNK + 1
        ),
        "  $k++;".to_owned(),
        "}".to_owned(),
    ];
    body.extend(state.iter().map(|m| format!("delete({m}[tid]);")));
    Block::new(
        &[
            "At return (the path is read now: at entry its page may not be there yet). First, how",
            &format!(
                "many {CHUNK}-byte pieces the path needs, at most {MAX_CHUNKS} ({} bytes, more than PATH_MAX):",
                MAX_CHUNKS * CHUNK
            ),
            &format!(
                "str(p, n) yields min(n, STRLEN - 1) bytes, so a piece is full (no NUL in its {CHUNK} bytes)"
            ),
            &format!(
                "exactly when str(p, {CHUNK}) and str(p, {}) differ. Then one printf per piece, all numbers",
                CHUNK - 1
            ),
            "but the piece, which is last: bpftrace -f json escapes it, so one printf is one line",
            "whatever the bytes. The process name is printed as two numbers (its 16 bytes). One",
            "program for the whole event (two on one tracepoint were measured to diverge), and one",
            "printf statement (each gets its own slot on the 512-byte BPF stack). N goes through",
            "@n so that the verifier sees an unknown number, not one of 49 constants: Linux 6.1's",
            "verifier otherwise walks the printing loop once per constant, and refuses it.",
        ],
        probes.to_vec(),
    )
    .when(Some(guard.to_owned()))
    .body(body)
}

/// The predicate term that holds in `sched_process_exit` when the last thread of the process
/// exits: the tracepoint's own `group_dead` where it has one, else `signal->live` through BTF
/// (which costs bpftrace about 0.4 s of CPU at start-up, measured: it parses the kernel's
/// types with clang).
fn last_thread(bpftrace: &Bpftrace) -> &'static str {
    if bpftrace.group_dead {
        "args->group_dead"
    } else {
        "curtask->signal->live.counter == 0"
    }
}

/// The whole script for `spec`.
pub fn render(bpftrace: &Bpftrace, spec: &ScriptSpec) -> String {
    let mut blocks = Vec::new();
    let follow = follows(spec);
    let system_wide = matches!(spec.target, Target::SystemWide { .. });

    // BEGIN: the comm offset, the seeds, the attached marker.
    let mut begin = vec![
        "$t = (uint64)curtask;".to_owned(),
        "$off = (uint64)0;".to_owned(),
        "@commoff = (uint64)0;".to_owned(),
        format!("while ($off < {COMM_SEARCH_LIMIT}) {{"),
        format!("  if (*(uint64 *)($t + $off) == {BPFTRACE_COMM_WORD:#x}) {{"),
        "    if (*(uint64 *)($t + $off + 8) == 0) { @commoff = $off; break; }".to_owned(),
        "  }".to_owned(),
        "  $off += 8;".to_owned(),
        "}".to_owned(),
        "if (@commoff == 0) {".to_owned(),
        format!(
            "  {}",
            print_literal(
                "E the process name was not found in task_struct: the tracer must run as bpftrace"
            )
        ),
        "  exit();".to_owned(),
        "}".to_owned(),
    ];
    match &spec.target {
        Target::SystemWide { .. } => begin.push("@tracer = pid;".to_owned()),
        Target::Pids(pids) if follow => {
            begin.extend(pids.iter().map(|p| format!("@traced[{p}] = 1;")));
        }
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
        .when(Some("pid == $1".to_owned()))
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
            .when(Some(format!(
                "@traced[pid] && !(args->clone_flags & {CLONE_THREAD:#x})"
            )))
            .body([
                "@traced[args->pid] = 1;".to_owned(),
                "printf(\"P fork %d %d\\n\", pid, args->pid);".to_owned(),
            ]),
        );
    }
    if !system_wide {
        let who = if follow {
            "@traced[pid]".to_owned()
        } else {
            match &spec.target {
                Target::Pids(pids) => any_pid(pids),
                _ => "pid == $2".to_owned(),
            }
        };
        let mut body = Vec::new();
        if follow {
            body.push("delete(@traced[pid]);".to_owned());
        }
        body.push("printf(\"P exit %d\\n\", pid);".to_owned());
        blocks.push(
            Block::new(
                &[
                    "A process is gone when its LAST thread exits: do_exit() counts down signal->live",
                    "before this tracepoint. A main thread's pthread_exit(), or exec from another",
                    "thread, leaves live > 0: the process stays traced. trace-gen stops once every",
                    "traced process has exited. group_dead, where the tracepoint has it, is that",
                    "count reaching 0, read without BTF (whose types cost bpftrace 0.4 s to load).",
                ],
                vec!["tracepoint:sched:sched_process_exit".to_owned()],
            )
            .when(Some(format!("{who} && {}", last_thread(bpftrace))))
            .body(body),
        );
    }

    // Entries.
    let mut terms = target_terms(spec);
    terms.extend(filter_terms(spec));
    let entry_pred = and(terms.clone());
    // With raw_syscalls (for ia32), every open returns through its one sys_exit program: the
    // path pointer is kept as a number (@cp) for both.
    let one_exit = bpftrace.compat;
    for call in &bpftrace.syscalls {
        let keep = if one_exit {
            format!("@cp[tid] = (uint64)args->{};", call.path_arg)
        } else {
            format!("@p[tid] = args->{};", call.path_arg)
        };
        blocks.push(
            Block::new(
                &[&format!(
                    "Entry of {}: the path pointer and the time, per thread, for the return.",
                    call.name
                )],
                vec![format!("tracepoint:syscalls:sys_enter_{}", call.name)],
            )
            .when(entry_pred.clone())
            .body([keep, "@t[tid] = nsecs;".to_owned()]),
        );
    }
    if !bpftrace.syscalls.is_empty() && !one_exit {
        let exits: Vec<String> = bpftrace
            .syscalls
            .iter()
            .map(|c| format!("tracepoint:syscalls:sys_exit_{}", c.name))
            .collect();
        blocks.push(exit_program(&exits, "@t[tid]", "@p[tid]", &["@p", "@t"]));
    }

    if bpftrace.compat {
        let status = match bpftrace.status_offset {
            Some(off) => format!("*(uint32 *)((uint64)curtask + {off})"),
            None => "curtask->thread_info.status".to_owned(),
        };
        let mut compat_terms = vec![format!("({status} & {TS_COMPAT:#x})")];
        compat_terms.extend(terms);
        let mut body = vec!["$id = args->id;".to_owned()];
        for (name, id, arg) in IA32_OPEN_CALLS {
            body.push(format!(
                "if ($id == {id}) {{ @cp[tid] = args->args[{arg}]; @t[tid] = nsecs; }} // {name}"
            ));
        }
        blocks.push(
            Block::new(
                &[
                    "ia32 opens (32-bit programs, int 0x80): they do not fire the syscalls:* tracepoints,",
                    "raw_syscalls does, with the ia32 numbers. TS_COMPAT marks an ia32 call in progress",
                    "(thread_info.status, read at its offset in task_struct when the kernel version",
                    "gives it, so that the script needs no BTF: 0.4 s less start-up).",
                    "Cost: this probe runs on every system call of the machine while tracing.",
                    "The pointer is kept as a number and read back with uptr() (a user address).",
                ],
                vec!["tracepoint:raw_syscalls:sys_enter".to_owned()],
            )
            .when(and(compat_terms))
            .body(body),
        );
        let mut exit = exit_program(
            &["tracepoint:raw_syscalls:sys_exit".to_owned()],
            "@t[tid]",
            "uptr((int8 *)@cp[tid])",
            &["@cp", "@t"],
        );
        exit.why.extend(
            [
                "This one program is also the return of the native opens above (their entry",
                "set @t): bpftrace loads a program per tracepoint, and the kernel's verifier",
                "takes 0.2-0.4 s for each copy of this one (measured), while this probe runs",
                "on every system call anyway.",
            ]
            .map(str::to_owned),
        );
        blocks.push(exit);
    }

    let mut maps = vec!["@t", "@n", "@commoff"];
    if bpftrace.compat {
        maps.push("@cp");
    } else {
        maps.push("@p");
    }
    if follow {
        maps.push("@traced");
    }
    if system_wide {
        maps.push("@tracer");
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
