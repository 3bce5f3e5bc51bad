//! `--version` and the man page: the crate's version and the git commit the binary was built
//! from (build.rs), or the version alone when it was built outside a git checkout.

use crate::common::{in_ci, trace_merge};
use std::process::Command;

/// The commit checked out here, abbreviated as build.rs does; None outside a git checkout.
fn head() -> Option<String> {
    let out = Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short=12",
            "HEAD",
        ])
        .output()
        .ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}

fn expected_version() -> String {
    let head = head();
    assert!(
        head.is_some() || !in_ci(),
        "CI=true but the tests do not run in a git checkout (or git is missing)"
    );
    match head {
        Some(commit) => format!("{} (commit {commit})", env!("CARGO_PKG_VERSION")),
        None => env!("CARGO_PKG_VERSION").to_string(),
    }
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let out = trace_merge().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("trace-merge {}\n", expected_version())
    );
}

#[test]
fn man_page_names_the_same_version() {
    let out = trace_merge().args(["--generate", "man"]).output().unwrap();
    assert!(out.status.success());
    let man = String::from_utf8_lossy(&out.stdout);
    let th = format!(".TH trace-merge 1  \"trace-merge {}\"", expected_version());
    assert!(man.contains(&th), "{th} missing:\n{man}");
}
