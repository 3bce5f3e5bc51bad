//! Helpers shared by every test module: the trace-gen binary with a clean environment, the
//! rule for a tool that is not installed (a failure under `CI=true`, a notice elsewhere), and
//! running a tool with a script on its stdin.

use std::ffi::OsStr;
use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;

/// The trace-gen binary, without the `*_PATH` variables of the caller's environment.
pub fn trace_gen() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("trace-gen").expect("trace-gen binary");
    c.env_remove("BPFTRACE_PATH")
        .env_remove("STAP_PATH")
        .env_remove("DTRACE_PATH");
    c
}

/// Whether the tests run in CI (`CI=true`), where every tool must be there.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A tool or a machine feature the test needs is missing: a failure in CI; elsewhere a notice
/// on stderr, and the caller returns.
pub fn missing(what: &str) {
    assert!(!in_ci(), "CI=true but {what}");
    eprintln!("notice: skipped, {what}");
}

/// What a tool printed: (success, stdout, stderr).
pub type ToolOutput = (bool, String, String);

/// Runs `program args` with `stdin` on its standard input. `None` when the program is not
/// installed (after [`missing`], so never in CI).
pub fn run_tool(
    program: impl AsRef<OsStr>,
    args: &[impl AsRef<OsStr>],
    stdin: &str,
) -> Option<ToolOutput> {
    let program = program.as_ref();
    let child = std::process::Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            missing(&format!("{} is not installed", program.to_string_lossy()));
            return None;
        }
        Err(e) => panic!("{}: {e}", program.to_string_lossy()),
    };
    // A tool that rejects its arguments may exit before reading: its stderr says why.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// The stap binary (`STAP_PATH`, else /usr/bin/stap) and the newest kernel release with
/// headers installed (for `stap -r`), found on the machine rather than hard-coded. `None`
/// (after [`missing`]) when either is absent.
pub fn stap_setup() -> Option<(PathBuf, String)> {
    let stap = std::env::var_os("STAP_PATH")
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from("/usr/bin/stap"), PathBuf::from);
    if !stap.exists() {
        missing(&format!("{} is not installed", stap.display()));
        return None;
    }
    let Some(release) = headers_release() else {
        missing("no kernel headers (/lib/modules/*/build) are installed");
        return None;
    };
    Some((stap, release))
}

fn headers_release() -> Option<String> {
    let mut releases: Vec<String> = std::fs::read_dir("/lib/modules")
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("build").join("Makefile").exists())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    releases.sort();
    releases.pop()
}
