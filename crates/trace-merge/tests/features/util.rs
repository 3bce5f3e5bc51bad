//! Helpers for the issue-4 tests: the command, fixture paths, and a base64 decoder for
//! checking `path_b64` without a dependency.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// `trace-merge` from this build.
pub fn trace_merge() -> Command {
    let mut cmd = Command::cargo_bin("trace-merge").expect("trace-merge binary");
    cmd.env_remove("NO_COLOR");
    cmd
}

/// A fixture under tests/data/features/.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/features")
        .join(name)
}

/// Runs `trace-merge --passwd passwd ARGS small.trace` and returns stdout, asserting success.
pub fn small(args: &[&str]) -> String {
    let out = trace_merge()
        .arg("--passwd")
        .arg(data("passwd"))
        .args(args)
        .arg(data("small.trace"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs with `ARGS` and returns stderr, asserting exit status 2.
pub fn refused(args: &[&str]) -> String {
    let out = trace_merge()
        .args(args)
        .arg(data("small.trace"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?} should be refused");
    assert!(
        out.stdout.is_empty(),
        "{args:?} printed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

/// Standard base64 (RFC 4648) decoding.
pub fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET
            .iter()
            .position(|&a| a == c)
            .expect("base64 character") as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// Runs `command` (a shell command line) with stdout and stderr on a pseudo-terminal, through
/// util-linux `script`, and returns what the terminal received. `None` (with a notice) when
/// `script` is not installed: terminal behaviour cannot be shown without a terminal.
pub fn on_terminal(command: &str) -> Option<String> {
    let out = std::process::Command::new("script")
        .args(["-q", "-e", "-c", command, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output();
    match out {
        Ok(out) => Some(String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")),
        Err(e) => {
            eprintln!("notice: skipping a terminal test, util-linux `script` unavailable: {e}");
            None
        }
    }
}
