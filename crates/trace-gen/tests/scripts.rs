//! The generated SystemTap, DTrace and bpftrace scripts, checked without running a trace:
//!
//! - every stap script the option combinations produce is elaborated by the real
//!   `stap -r <headers> -p2` (these tests fail when `CI=true` and stap or the kernel headers
//!   are missing; elsewhere they are skipped with a notice);
//! - bpftrace's golden scripts pass `bpftrace -d` (parser and semantic checks);
//! - the scripts for a fixed set of specs are compared with golden files in `tests/golden/`
//!   (`UPDATE_GOLDEN=1` rewrites them; `DTRACE.md` justifies each D line per platform);
//! - hostile `-n` values are refused by `CommName::new`, and accepted ones appear only as one
//!   string literal: checked with `stap -p1` (the parse tree) and a D tokenizer.

use crate::common::{run_tool, stap_setup, ToolOutput};
use std::path::Path;
use trace_gen::backend::bpftrace::{Bpftrace, LINUX_OPEN_CALLS};
use trace_gen::backend::dtrace::{DTrace, KernelLayout};
use trace_gen::backend::stap::SystemTap;
use trace_gen::backend::Backend;
use trace_gen::script::{CommName, ScriptSpec, Target, TargetOs, ATTACHED_MARKER};

const ALL_OS: [TargetOs; 6] = [
    TargetOs::Solaris10,
    TargetOs::Solaris11,
    TargetOs::Illumos,
    TargetOs::FreeBsd,
    TargetOs::MacOs,
    TargetOs::Linux,
];

fn spec(target: Target, follow: bool, uid: Option<u32>, comm: Option<&str>) -> ScriptSpec {
    ScriptSpec {
        target,
        follow,
        stop_at_exit: false,
        resolve_paths: true,
        uid,
        comm: comm.map(|c| CommName::new(c).unwrap()),
        cgroup: None,
        buffer_size: 16 << 20,
        target_os: TargetOs::Linux,
    }
}

/// Every combination of target kind, follow, uid and comm, with extreme numbers.
fn all_specs() -> Vec<ScriptSpec> {
    let targets = [
        Target::SystemWide { exclude: vec![] },
        Target::SystemWide {
            exclude: vec![4242, u32::MAX],
        },
        Target::Pids(vec![42]),
        Target::Pids(vec![1, 42, u32::MAX]),
        Target::Command,
    ];
    let mut specs = Vec::new();
    for target in &targets {
        for follow in [true, false] {
            for uid in [None, Some(0), Some(u32::MAX)] {
                for comm in [None, Some("cat"), Some("Web Content")] {
                    specs.push(spec(target.clone(), follow, uid, comm));
                }
            }
        }
    }
    specs
}

/// The fixed specs of the golden files, by name.
fn golden_specs() -> Vec<(&'static str, ScriptSpec)> {
    vec![
        (
            "system-wide",
            spec(
                Target::SystemWide {
                    exclude: vec![4242],
                },
                true,
                None,
                None,
            ),
        ),
        (
            "pids-follow",
            spec(Target::Pids(vec![42, 43]), true, None, None),
        ),
        (
            "pid-nofollow-uid",
            spec(Target::Pids(vec![42]), false, Some(1000), None),
        ),
        (
            "command-uid-comm",
            spec(Target::Command, true, Some(1000), Some("cat")),
        ),
        ("command-nofollow", spec(Target::Command, false, None, None)),
    ]
}

/// Runs stap with `args` on `script` (given on stdin); returns (success, stdout, stderr).
fn run_stap(stap: &Path, args: &[std::ffi::OsString], script: &str) -> ToolOutput {
    run_tool(stap, args, script).expect("stap was found by stap_setup")
}

/// `stap -r RELEASE -p2` plus the backend's own arguments (`-s`, `-D`, `-x`, `-`).
fn elaborate_args(release: &str, spec: &ScriptSpec) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = vec!["-r".into(), release.into(), "-p2".into()];
    args.extend(SystemTap.args(spec, Some(1)));
    args
}

/// Elaborates each (script, args) job; returns the failures with stap's messages.
fn elaborate(stap: &Path, jobs: &[(String, Vec<std::ffi::OsString>)]) -> Vec<String> {
    let mut failures = Vec::new();
    for (script, args) in jobs {
        let (ok, stdout, stderr) = run_stap(stap, args, script);
        // The probes must have resolved: pass 2 lists each probe point it kept.
        let resolved = [
            "kernel.trace(\"raw_syscalls:sys_enter\")",
            "kernel.trace(\"raw_syscalls:sys_exit\")",
        ]
        .iter()
        .all(|point| stdout.contains(&format!("<- {point}")));
        if !ok || !resolved {
            failures.push(format!("{script}\n--- stap {args:?}:\n{stderr}"));
        }
    }
    failures
}

#[test]
fn every_stap_script_elaborates() {
    let Some((stap, release)) = stap_setup() else {
        return;
    };
    let mut jobs: Vec<(String, Vec<std::ffi::OsString>)> = Vec::new();
    for spec in all_specs() {
        let job = (SystemTap.script(&spec), elaborate_args(&release, &spec));
        if !jobs.contains(&job) {
            jobs.push(job);
        }
    }
    // Two workers: the machine is small and shared.
    let (left, right) = jobs.split_at(jobs.len() / 2);
    let stap = stap.as_path();
    let failures: Vec<String> = std::thread::scope(|s| {
        let a = s.spawn(move || elaborate(stap, left));
        let b = s.spawn(move || elaborate(stap, right));
        let mut f = a.join().unwrap();
        f.extend(b.join().unwrap());
        f
    });
    assert!(
        failures.is_empty(),
        "{} of {} scripts failed:\n{}",
        failures.len(),
        jobs.len(),
        failures.join("\n\n")
    );
    eprintln!(
        "{} distinct stap scripts elaborated against {release}",
        jobs.len()
    );
}

/// Compares `actual` with the golden file `name`, or rewrites it with `UPDATE_GOLDEN=1`.
fn check_golden(name: &str, actual: &str) -> Result<(), String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return Ok(());
    }
    let expected =
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    if expected == actual {
        Ok(())
    } else {
        Err(format!(
            "{name} differs from the generated script:\n{actual}"
        ))
    }
}

#[test]
fn stap_scripts_match_golden_files() {
    let errors: Vec<String> = golden_specs()
        .iter()
        .filter_map(|(name, spec)| {
            check_golden(&format!("stap-{name}.stp"), &SystemTap.script(spec)).err()
        })
        .collect();
    assert!(
        errors.is_empty(),
        "{}\n(UPDATE_GOLDEN=1 rewrites them)",
        errors.join("\n")
    );
}

/// bpftrace's scripts for every open-family call and ia32 opens (as on x86_64).
fn bpftrace_golden(spec: &ScriptSpec) -> String {
    Bpftrace::new(LINUX_OPEN_CALLS.to_vec(), true).script(spec)
}

#[test]
fn bpftrace_scripts_match_golden_files() {
    let errors: Vec<String> = golden_specs()
        .iter()
        .filter_map(|(name, spec)| {
            check_golden(&format!("bpftrace-{name}.bt"), &bpftrace_golden(spec)).err()
        })
        .collect();
    assert!(
        errors.is_empty(),
        "{}\n(UPDATE_GOLDEN=1 rewrites them)",
        errors.join("\n")
    );
}

/// bpftrace's parser and semantic checks (`bpftrace -d`, which attaches nothing) accept every
/// golden script. Needs bpftrace: fails in CI without it.
#[test]
fn bpftrace_accepts_every_golden_script() {
    let bpftrace = std::env::var_os("BPFTRACE_PATH")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "bpftrace".into());
    for (name, spec) in golden_specs() {
        let script = bpftrace_golden(&spec);
        let Some((ok, _, stderr)) = run_tool(&bpftrace, &["-d", "-"], &script) else {
            return;
        };
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("ERROR") && !l.contains("RLIMIT_MEMLOCK"))
            .collect();
        assert!(ok && errors.is_empty(), "{name}: {stderr}\n{script}");
    }
}

#[test]
fn dtrace_scripts_match_golden_files() {
    let mut errors = Vec::new();
    for os in ALL_OS {
        for (name, spec) in golden_specs() {
            let spec = ScriptSpec {
                target_os: os,
                ..spec
            };
            let golden = format!("dtrace-{}-{name}.d", os.name());
            errors.extend(check_golden(&golden, &DTrace.script_for_kernel(&spec, None)).err());
        }
    }
    assert!(
        errors.is_empty(),
        "{}\n(UPDATE_GOLDEN=1 rewrites them)",
        errors.join("\n")
    );
}

#[test]
fn stap_args_read_stdin_and_size_the_buffer() {
    let command = spec(Target::Command, true, None, None);
    let args = |spec: &ScriptSpec, pid| -> Vec<String> {
        SystemTap
            .args(spec, pid)
            .iter()
            .map(|a| a.to_str().unwrap().to_owned())
            .collect()
    };
    let me = format!("tracegen={}", std::process::id());
    let options = [
        "-DMAXSTRINGLEN=4096",
        "-DMAXMAPENTRIES=65536",
        "-DSTP_NO_OVERLOAD",
        "-g",
        "-DMAXTRYLOCK=100000",
        "-DMAXSKIPPED=1000000",
    ];
    let with = |head: &[&str], tail: &[&str]| -> Vec<String> {
        head.iter()
            .chain(options.iter())
            .chain(tail.iter())
            .map(|s| s.to_string())
            .collect()
    };
    assert_eq!(
        args(&command, Some(77)),
        with(&["-s", "16"], &["-G", "command=77", "-G", &me, "-"])
    );
    // --print-script: no child yet, a visible placeholder where its pid goes.
    assert_eq!(
        args(&command, None),
        with(&["-s", "16"], &["-G", "command=PID", "-G", &me, "-"])
    );
    // The -p pids are globals too; rounded up to whole megabytes, at least 1.
    let pids = ScriptSpec {
        buffer_size: (1 << 20) + 1,
        ..spec(Target::Pids(vec![3]), true, None, None)
    };
    assert_eq!(
        args(&pids, Some(77)),
        with(&["-s", "2"], &["-G", &me, "-G", "root_0=3", "-"])
    );
    let tiny = ScriptSpec {
        buffer_size: 1,
        ..command.clone()
    };
    assert_eq!(args(&tiny, Some(1))[1], "1");
}

#[test]
fn dtrace_args_read_stdin_and_name_the_target() {
    let args = |spec: &ScriptSpec, pid| -> Vec<String> {
        DTrace
            .args(spec, pid)
            .iter()
            .map(|a| a.to_str().unwrap().to_owned())
            .collect()
    };
    let command = spec(Target::Command, true, None, None);
    assert_eq!(
        args(&command, Some(77)),
        ["-q", "-Z", "-s", "/dev/fd/0", "77"]
    );
    assert_eq!(args(&command, None), ["-q", "-Z", "-s", "/dev/fd/0", "PID"]);
    let wide = spec(Target::SystemWide { exclude: vec![1] }, true, None, None);
    assert_eq!(args(&wide, Some(77)), ["-q", "-Z", "-s", "/dev/fd/0"]);
}

#[test]
fn every_script_announces_attachment_once() {
    for spec in all_specs() {
        assert_eq!(SystemTap.script(&spec).matches(ATTACHED_MARKER).count(), 1);
        for os in ALL_OS {
            let d = DTrace.script(&ScriptSpec {
                target_os: os,
                ..spec.clone()
            });
            assert_eq!(d.matches(ATTACHED_MARKER).count(), 1, "{d}");
        }
    }
}

#[test]
fn d_filters_follow_the_spec() {
    let d = |s: ScriptSpec| {
        DTrace.script(&ScriptSpec {
            target_os: TargetOs::FreeBsd,
            ..s
        })
    };
    let wide = d(spec(
        Target::SystemWide {
            exclude: vec![9, 10],
        },
        true,
        None,
        None,
    ));
    assert!(
        wide.contains("/pid != $pid && pid != 9 && pid != 10/"),
        "{wide}"
    );
    let pids = d(spec(Target::Pids(vec![5, 6]), true, Some(7), Some("a b")));
    assert!(
        pids.contains("/(progenyof(5) || progenyof(6)) && uid == 7 && execname == \"a b\"/"),
        "{pids}"
    );
    let pids = d(spec(Target::Pids(vec![5, 6]), false, None, None));
    assert!(pids.contains("/(pid == 5 || pid == 6)/"), "{pids}");
    assert!(d(spec(Target::Command, true, None, None)).contains("/progenyof($1)/"));
    assert!(d(spec(Target::Command, false, None, None)).contains("/pid == $1/"));
    // On Linux, the script's own table of traced processes.
    let linux = |s: ScriptSpec| {
        DTrace.script(&ScriptSpec {
            target_os: TargetOs::Linux,
            ..s
        })
    };
    let cmd = linux(spec(Target::Command, true, Some(7), None));
    assert!(cmd.contains("traced[$1] = 1;"), "{cmd}");
    assert!(cmd.contains("/traced[pid] == 1 && uid == 7/"), "{cmd}");
    assert!(cmd.contains("proc:::create\n/traced[pid] == 1/"), "{cmd}");
    let pids = linux(spec(Target::Pids(vec![5, 6]), true, None, None));
    assert!(
        pids.contains(
            "/(traced[pid] == 1 || (traced[pid] == 0 && (progenyof(5) || progenyof(6))))/"
        ),
        "{pids}"
    );
    assert!(linux(spec(Target::Command, false, None, None)).contains("/pid == $1/"));
}

#[test]
fn stap_filters_follow_the_spec() {
    let wide = SystemTap.script(&spec(
        Target::SystemWide { exclude: vec![9] },
        true,
        Some(7),
        None,
    ));
    assert!(
        wide.contains("if (!(pid() != stp_pid() && pid() != exclude_0 && uid() == 7)) next"),
        "{wide}"
    );
    let pids = SystemTap.script(&spec(Target::Pids(vec![5, 6]), true, None, None));
    assert!(
        pids.contains("if (pid2task(root_0)) follow(root_0)")
            && pids.contains("if (pid2task(root_1)) follow(root_1)"),
        "{pids}"
    );
    assert!(pids.contains("if (!(pid() in traced)) next"), "{pids}");
    let pids = SystemTap.script(&spec(Target::Pids(vec![5, 6]), false, None, Some("cat")));
    assert!(
        pids.contains("if (!((pid() == root_0 || pid() == root_1) && execname() == \"cat\")) next"),
        "{pids}"
    );
    assert!(!pids.contains("global traced"), "{pids}");
    let cmd = SystemTap.script(&spec(Target::Command, true, None, None));
    assert!(cmd.contains("if (!(pid() in traced)) next"), "{cmd}");
    assert!(cmd.contains("follow(command)"), "{cmd}");
    let cmd = SystemTap.script(&spec(Target::Command, false, None, None));
    assert!(cmd.contains("if (!(pid() == command)) next"), "{cmd}");
}

// ---- Hostile input -------------------------------------------------------------------

/// Values for `-n` that must be refused: quotes and backslashes that would end a literal,
/// control characters, non-ASCII, and names the kernel could never report.
const REFUSED_NAMES: &[&str] = &[
    "x\" } system(\"id\") {",
    "\"",
    "a\"b",
    "\\",
    "a\\\"",
    "x\\n",
    "line\nbreak",
    "cr\r",
    "tab\there",
    "nul\0",
    "esc\x1b[31m",
    "del\x7f",
    "caf\u{e9}",
    "\u{202e}rtl",
    "",
    "sixteen-bytes-xx",
    "a much longer name than any comm",
];

/// Values for `-n` that are accepted although they look like code in some dialect.
const TRICKY_NAMES: &[&str] = &[
    "a b",
    " lead",
    "x' y",
    "} next {",
    "%s%n%d",
    "$(id)",
    "`id`",
    "$target",
    "$1",
    "@1",
    "%( 1 %? 2 %)",
    "/* c */",
    "*/ x /*",
    "// c",
    "# c",
    "#pragma D",
    ";exit(0);",
    "x) || (1",
    "'",
    "{}",
];

#[test]
fn hostile_names_are_refused() {
    for name in REFUSED_NAMES {
        let err = CommName::new(name).expect_err(name);
        assert!(!err.is_empty());
    }
    for name in TRICKY_NAMES {
        assert!(CommName::new(name).is_ok(), "{name:?} should be accepted");
    }
}

/// The stap parse tree (`stap -p1`) of `script`.
fn stap_parse_tree(stap: &Path, release: &str, script: &str) -> String {
    // -g: the script reads stap's skipped-probe count in embedded C (guru mode).
    let args = [
        "-r".into(),
        release.into(),
        "-p1".into(),
        "-g".into(),
        "-".into(),
    ];
    let (ok, stdout, stderr) = run_stap(stap, &args, script);
    assert!(ok, "stap -p1 rejects the script:\n{script}\n{stderr}");
    stdout
}

#[test]
fn accepted_names_are_one_stap_literal() {
    let Some((stap, release)) = stap_setup() else {
        return;
    };
    for target in [Target::SystemWide { exclude: vec![1] }, Target::Command] {
        let with = |name: &str| SystemTap.script(&spec(target.clone(), true, Some(5), Some(name)));
        let reference = stap_parse_tree(&stap, &release, &with("REFERENCE"));
        // Two literals: the entry probe on the raw syscall tracepoint and the io_uring
        // submission probe (stap's preprocessor keeps only the x86_64 branch, where the
        // tapsets' entry probes are not used).
        assert_eq!(reference.matches("\"REFERENCE\"").count(), 2, "{reference}");
        for name in TRICKY_NAMES {
            // The same tree with only the literal changed: the name added no code.
            let tree = stap_parse_tree(&stap, &release, &with(name));
            assert_eq!(
                tree.replace(&format!("\"{name}\""), "\"REFERENCE\""),
                reference,
                "{name:?}"
            );
        }
    }
}

/// A D token: a string literal (decoded) or any other lexeme. Comments and the text of
/// `#pragma` lines are skipped as the D compiler's lexer does.
#[derive(Debug, PartialEq)]
enum DToken {
    Str(String),
    Other(String),
}

fn d_tokens(src: &str) -> Vec<DToken> {
    let b = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut line_start = true;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line_start = true;
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if line_start && c == b'#' {
            let end = src[i..].find('\n').map_or(b.len(), |n| i + n);
            tokens.push(DToken::Other(src[i..end].to_owned()));
            i = end;
        } else if src[i..].starts_with("/*") {
            i += src[i..].find("*/").expect("comment is closed") + 2;
        } else if c == b'"' {
            let mut s = String::new();
            i += 1;
            loop {
                match b[i] {
                    b'"' => break,
                    b'\\' => {
                        i += 1;
                        s.push(match b[i] {
                            b'n' => '\n',
                            b'\\' => '\\',
                            b'"' => '"',
                            other => panic!("unexpected escape \\{}", other as char),
                        });
                    }
                    b'\n' => panic!("newline in a string literal"),
                    other => s.push(other as char),
                }
                i += 1;
            }
            i += 1;
            tokens.push(DToken::Str(s));
            line_start = false;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            tokens.push(DToken::Other(src[start..i].to_owned()));
            line_start = false;
        } else {
            tokens.push(DToken::Other((c as char).to_string()));
            i += 1;
            line_start = false;
        }
    }
    tokens
}

#[test]
fn accepted_names_are_one_d_literal() {
    for os in ALL_OS {
        for target in [Target::SystemWide { exclude: vec![1] }, Target::Command] {
            let with = |name: &str| {
                let s = spec(target.clone(), true, Some(5), Some(name));
                d_tokens(&DTrace.script(&ScriptSpec { target_os: os, ..s }))
            };
            let reference = with("REFERENCE");
            let literal = DToken::Str("REFERENCE".into());
            let n = reference.iter().filter(|t| **t == literal).count();
            assert_eq!(n, entry_clauses(os), "one literal per entry clause");
            for name in TRICKY_NAMES {
                let tokens: Vec<DToken> = with(name)
                    .into_iter()
                    .map(|t| {
                        if t == DToken::Str((*name).into()) {
                            DToken::Str("REFERENCE".into())
                        } else {
                            t
                        }
                    })
                    .collect();
                assert_eq!(tokens, reference, "{os:?} {name:?}");
            }
        }
    }
}

fn entry_clauses(os: TargetOs) -> usize {
    match os {
        TargetOs::Solaris11 => 1,
        // And open_by_handle_at's, io_uring's submission and completion (when this
        // kernel's BTF describes the request), and the ia32 clause on
        // rawtp:raw_syscalls::sys_enter.
        TargetOs::Linux => {
            let uring = KernelLayout::running().is_some_and(|l| l.has_uring());
            3 + 2 * usize::from(uring) + usize::from(cfg!(target_arch = "x86_64"))
        }
        _ => 2,
    }
}

#[test]
fn d_tokenizer_sees_code_in_a_broken_literal() {
    // The check above would catch a name that escaped its literal: here, by hand.
    let good = d_tokens(r#"/execname == "a b"/"#);
    let bad = d_tokens(r#"/execname == "x" } system("id") { ""/"#);
    assert_eq!(good.len(), 6);
    assert!(bad.len() > good.len());
    assert!(bad.contains(&DToken::Other("system".into())));
}

/// `--cgroup`: every open probe (entries, ia32, io_uring submissions) tests the group, and
/// every kind of return prints the process's group before the open; the root group needs no
/// test, but its opens still carry their group.
#[test]
fn cgroup_filter_is_on_every_open_probe_and_each_open_names_its_group() {
    use trace_gen::cgroup::{Ancestors, CgroupFilter, Group, Layout};
    let filter = |level| CgroupFilter {
        group: Group {
            path: b"/g".to_vec(),
            id: 987_654,
            level,
        },
        layout: Layout {
            task_cgroups: 11,
            dfl_cgrp: 22,
            level: 33,
            kn: 44,
            kn_id: 55,
            ancestors: Ancestors::Pointers {
                ancestors: 66,
                kn: 44,
                kn_id: 55,
            },
        },
    };
    let with = |level| ScriptSpec {
        cgroup: Some(filter(level)),
        ..spec(Target::SystemWide { exclude: vec![] }, true, None, None)
    };
    let b = Bpftrace::new(LINUX_OPEN_CALLS.to_vec(), true).script(&with(2));
    let test = "(*(int32 *)(*(uint64 *)(*(uint64 *)((uint64)curtask + 11) + 22) + 33) >= 2 && ";
    let probes: Vec<&str> = b.lines().filter(|l| l.starts_with("tracepoint:")).collect();
    let open_probes = b
        .split("\n\n")
        .filter(|block| {
            block.contains("sys_enter_open")
                || block.contains("raw_syscalls:sys_enter")
                || block.contains("io_uring_submit_req")
        })
        .collect::<Vec<_>>();
    assert!(open_probes.len() >= 2, "{probes:?}");
    for block in &open_probes {
        assert!(block.contains(test), "{block}");
        assert!(block.contains("+ 82) + 44) + 55) == 987654)"), "{block}");
    }
    // The one return program of every syscall (native and ia32) and the io_uring completions.
    assert_eq!(b.matches("printf(\"G %d %lld %lld\\n\"").count(), 2, "{b}");
    let root = Bpftrace::new(LINUX_OPEN_CALLS.to_vec(), true).script(&with(0));
    assert!(!root.contains("curtask + 11"), "{root}");
    assert_eq!(root.matches("printf(\"G %d").count(), 2);
    let d = DTrace.script(&with(1));
    assert!(
        d.contains(
            "(*(int *)(*(uint64_t *)(*(uint64_t *)((uint64_t)curthread + 11) + 22) + 33) >= 1 && "
        ),
        "{d}"
    );
    assert!(d.contains("printf(\"G %d %d\\n\", tid, "), "{d}");
    assert!(!DTrace
        .script(&spec(Target::Command, true, None, None))
        .contains("\"G %d"));
}
