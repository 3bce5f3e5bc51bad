//! Script injection: every option of trace-gen that reaches a probe script
//! (-p, -u, -n, --buffer-size, -c) against a table of hostile values, for every backend
//! (bpftrace, SystemTap, and DTrace for each --target-os). Each value must be either refused
//! with a clear error naming the option (exit status 2, nothing on stdout), or appear in the
//! script only as a literal: the script with the value is the script with a reference value,
//! literal for literal. The real parsers confirm it where they run here: `bpftrace -d` (dry
//! run: the parser's AST, nothing attached) and `stap -p1` (parse tree); D scripts are
//! compared token by token (trace-gen's scripts.rs has the D tokenizer tests).
//!
//! The scripts are produced through the same path as the binary (clap parsing, then
//! `Config::from_cli`, then the backend), plus `--print-script` runs of the binary itself.

use crate::common::{run_tool, stap_setup, trace_gen};
use clap::Parser;
use std::ffi::OsString;
use trace_gen::backend::bpftrace::tracefs_events;
use trace_gen::backend::bpftrace::Bpftrace;
use trace_gen::backend::dtrace::DTrace;
use trace_gen::backend::stap::SystemTap;
use trace_gen::backend::Backend;
use trace_gen::cli::Cli;
use trace_gen::config::Config;

/// Backends as `(label, extra args, backend)`.
fn backends() -> Vec<(&'static str, Vec<&'static str>, Box<dyn Backend>)> {
    let mut v: Vec<(&'static str, Vec<&'static str>, Box<dyn Backend>)> = vec![
        (
            "bpftrace",
            vec!["-B"],
            Box::new(Bpftrace::detect(tracefs_events().as_deref())),
        ),
        ("stap", vec!["-S"], Box::new(SystemTap)),
    ];
    for os in [
        "solaris10",
        "solaris11",
        "illumos",
        "freebsd",
        "macos",
        "linux",
    ] {
        v.push(("dtrace", vec!["-D", "--target-os", os], Box::new(DTrace)));
    }
    v
}

/// The script, the tracer's arguments and its environment.
type Rendered = (String, Vec<OsString>, Vec<(OsString, OsString)>);

/// What trace-gen would hand the tracer for `args`: (script, tracer args, tracer env), or
/// the error message.
fn render(backend: &dyn Backend, args: &[&str]) -> Result<Rendered, String> {
    // --print-script: the pids given need not exist (as when a script is made for later).
    let argv = std::iter::once("trace-gen")
        .chain(args.iter().copied())
        .chain(["--print-script"]);
    let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    let cfg = Config::from_cli(cli, |_| None).map_err(|e| e.to_string())?;
    let pid = cfg.command.is_some().then_some(4242);
    Ok((
        backend.script(&cfg.spec),
        backend.args(&cfg.spec, pid),
        backend.env(&cfg.spec),
    ))
}

/// Refused through the binary: exit 2, nothing on stdout, the option named on stderr.
fn assert_refused(backend_args: &[&str], flag: &[&str], value: &str, names: &[&str]) {
    let out = trace_gen()
        .args(backend_args)
        // `--flag=VALUE`, so that a value starting with `-` is the value, not an option.
        .arg(format!("{}={value}", flag[0]))
        .arg("--print-script")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{backend_args:?} {flag:?} {value:?}: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "{flag:?} {value:?}: a script was printed"
    );
    assert!(
        names.iter().any(|n| stderr.contains(n)),
        "{flag:?} {value:?}: the error does not name the option: {stderr}"
    );
    assert!(stderr.lines().count() <= 4, "one clear message: {stderr}");
}

/// Names refused by `-n`: quotes and backslashes (string breakout in every dialect),
/// controls, non-ASCII, empty, longer than a comm.
const REFUSED_NAMES: &[&str] = &[
    r#"x" } system("id") {"#,
    r#"x"||1||""#,
    "\"",
    "a\\",
    "a\\\"b",
    "a\nb",
    "\x1b[31m",
    "tab\there",
    "",
    "abcdefghijklmnop",
    "caf\u{e9}",
    "\u{202e}x",
    "x\x7f",
];

/// Names accepted by `-n` (printable ASCII without `"` and `\`): each must stay one literal.
const ACCEPTED_NAMES: &[&str] = &[
    "nginx",
    "a b",
    "$(id)",
    "`id`",
    "x' ; id",
    "}{",
    "/*",
    "*/ system",
    "%s%n%x",
    "#include <x>",
    "@path[tid]",
    "$1 $target",
    "str(1)",
    "a/ && 1 /b",
    "?:!~",
];

#[test]
fn hostile_names_are_refused_by_every_backend() {
    for (label, args, _) in backends() {
        for name in REFUSED_NAMES {
            assert_refused(&args, &["--name"], name, &["-n", "--name"]);
            let _ = label;
        }
    }
}

/// `script` with every `"value"` literal replaced by `"REFERENCE"`.
fn with_reference(script: &str, value: &str) -> String {
    script.replace(&format!("\"{value}\""), "\"REFERENCE\"")
}

#[test]
fn accepted_names_are_one_literal_in_every_backend() {
    for (label, args, backend) in backends() {
        for extra in [&[][..], &["-p", "77"], &["-c", "true"], &["-u", "0"]] {
            let mut base: Vec<&str> = args.clone();
            base.extend_from_slice(extra);
            let reference = {
                let mut a = base.clone();
                a.extend_from_slice(&["-n", "REFERENCE"]);
                render(&*backend, &a).unwrap()
            };
            assert!(
                reference.0.contains("\"REFERENCE\""),
                "{label} {extra:?}: no literal"
            );
            for name in ACCEPTED_NAMES {
                let mut a = base.clone();
                a.extend_from_slice(&["-n", name]);
                let (script, targs, env) =
                    render(&*backend, &a).unwrap_or_else(|e| panic!("{label} {name:?}: {e}"));
                assert_eq!(
                    with_reference(&script, name),
                    reference.0,
                    "{label} {extra:?} {name:?}: the name is more than one literal"
                );
                assert_eq!((targs, env), (reference.1.clone(), reference.2.clone()));
            }
        }
    }
}

/// Refused `-p` values: not a u32 (Rust's parser takes `+1` as 1: still only a number).
const REFUSED_PIDS: &[&str] = &[
    "1;id",
    "-1",
    "4294967296",
    "0x10",
    " 1",
    "1 ",
    "$(id)",
    "",
    "1e3",
    "1,2",
    "１",
];

#[test]
fn pids_are_u32_numbers_or_refused() {
    for (_, args, backend) in backends() {
        for pid in REFUSED_PIDS {
            assert_refused(&args, &["--pid"], pid, &["--pid"]);
        }
        // An accepted pid appears as a number: the script for 4294967295 is the script for
        // 1234567 with the digits changed, nothing else.
        let mut a = args.clone();
        a.extend_from_slice(&["-p", "1234567"]);
        let reference = render(&*backend, &a).unwrap();
        // A number in the script, or an argument (`1234567`, or a stap `-G root_0=1234567`).
        assert!(
            reference.0.contains("1234567")
                || reference
                    .1
                    .iter()
                    .any(|x| x == "1234567" || x.to_string_lossy().ends_with("=1234567"))
        );
        let mut b = args.clone();
        b.extend_from_slice(&["-p", "4294967295"]);
        let big = render(&*backend, &b).unwrap();
        assert_eq!(big.0.replace("4294967295", "1234567"), reference.0);
        assert_eq!(
            format!("{:?}", big.1).replace("4294967295", "1234567"),
            format!("{:?}", reference.1)
        );
    }
}

#[test]
fn users_are_resolved_to_numbers_or_refused() {
    for (_, args, backend) in backends() {
        for user in [
            "root;id",
            "-1",
            "4294967296",
            "no-such-user-xyz",
            "root\"",
            "",
            "$(id)",
            "0 || 1",
        ] {
            assert_refused(&args, &["--uid"], user, &["-u", "--uid"]);
        }
        // A name becomes its uid: `-u root` renders exactly as `-u 0`.
        let by_name = render(&*backend, &[&args[..], &["-u", "root"]].concat()).unwrap();
        let by_uid = render(&*backend, &[&args[..], &["-u", "0"]].concat()).unwrap();
        assert_eq!(by_name, by_uid);
        // (The resolved-path walk names the kernel fields fs->root and mnt_root.)
        let script = by_name.0.replace("fs->root", "").replace("mnt_root", "");
        assert!(
            !script.contains("root"),
            "the name itself never reaches the script"
        );
    }
}

#[test]
fn buffer_sizes_are_numbers_or_refused() {
    for (_, args, backend) in backends() {
        for size in [
            "4M;x",
            "-1",
            "0",
            "5G",
            "1e6",
            "4M\"",
            "",
            "18446744073709551616K",
            "4 M",
            "0x10",
        ] {
            assert_refused(&args, &["--buffer-size"], size, &["--buffer-size"]);
        }
        // What the size becomes (script text, tracer arguments, environment) holds only the
        // digits the size computes to: the value as typed never appears.
        let (script, targs, env) =
            render(&*backend, &[&args[..], &["--buffer-size", "64k"]].concat()).unwrap();
        let all = format!("{script}{targs:?}{env:?}");
        assert!(!all.contains("64k"), "{all}");
        for (_, v) in env {
            assert!(
                v.to_str().unwrap().bytes().all(|b| b.is_ascii_digit()),
                "{v:?}"
            );
        }
    }
}

#[test]
fn a_command_never_reaches_the_script() {
    let hostile = r#"echo "x" } INJECTED("id") { "; $(id) `id` '\'' %s"#;
    for (label, args, backend) in backends() {
        let plain = render(&*backend, &[&args[..], &["-c", "true"]].concat()).unwrap();
        let evil = render(&*backend, &[&args[..], &["-c", hostile]].concat()).unwrap();
        assert_eq!(evil, plain, "{label}: -c changed what the tracer gets");
        assert!(!evil.0.contains("INJECTED"), "{label}");
    }
}

#[test]
fn print_script_of_the_binary_matches_for_bpftrace_and_stap() {
    // The binary's --print-script path: hostile -n refused above; here an accepted one.
    for flag in ["-B", "-S"] {
        let out = trace_gen()
            .args([flag, "-n", "$(id)", "-u", "root", "--print-script"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains("\"$(id)\""), "{script}");
    }
}

#[test]
fn print_script_of_the_binary_works_for_dtrace() {
    let out = trace_gen()
        .args([
            "-D",
            "--target-os",
            "solaris11",
            "-p",
            "77",
            "--print-script",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// bpftrace's parser AST (`bpftrace -d -`, the "AST after: parser" part): a dry run that
/// attaches nothing. BPFTRACE_PATH names the bpftrace to use, as for trace-gen.
fn bpftrace_ast(script: &str) -> Option<String> {
    let bpftrace = std::env::var_os("BPFTRACE_PATH")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "bpftrace".into());
    let (_, stdout, stderr) = run_tool(bpftrace, &["-d", "-"], script)?;
    let all = format!("{stdout}{stderr}");
    let start = all
        .find("AST after: parser")
        .unwrap_or_else(|| panic!("bpftrace -d printed no AST:\n{all}"));
    let rest = &all[start + 17..];
    let end = rest.find("AST after:").unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

#[test]
fn bpftrace_parses_each_accepted_name_as_one_string() {
    let backend = Bpftrace::detect(tracefs_events().as_deref());
    let Some(reference) = bpftrace_ast(&render(&backend, &["-B", "-n", "REFERENCE"]).unwrap().0)
    else {
        return;
    };
    assert!(reference.contains("string: REFERENCE"), "{reference}");
    for name in ACCEPTED_NAMES {
        let script = render(&backend, &["-B", "-n", name]).unwrap().0;
        let ast = bpftrace_ast(&script).unwrap();
        assert_eq!(
            ast.replace(&format!("string: {name} ::"), "string: REFERENCE ::"),
            reference,
            "{name:?}: bpftrace parsed more than a string"
        );
    }
}

#[test]
fn stap_parses_each_accepted_name_as_one_string() {
    let Some((stap, release)) = stap_setup() else {
        return;
    };
    let tree = |name: &str| -> Option<String> {
        let script = render(&SystemTap, &["-S", "-n", name]).unwrap().0;
        let (ok, stdout, stderr) = run_tool(&stap, &["-r", &release, "-p1", "-g", "-"], &script)?;
        assert!(ok, "stap -p1 rejects -n {name:?}:\n{stderr}");
        Some(stdout)
    };
    let Some(reference) = tree("REFERENCE") else {
        return;
    };
    for name in ACCEPTED_NAMES {
        let t = tree(name).unwrap();
        assert_eq!(with_reference(&t, name), reference, "{name:?}");
    }
}
