//! Build script: the version `--version` and the man page print, with the git commit the
//! binary was built from, in the `TRACE_TOOLS_VERSION` environment variable of the crate
//! (`0.2.0 (commit 56b8ab4c1a2b)`, or `0.2.0` alone when the commit cannot be known).
//!
//! The commit comes from, in this order:
//! - `.cargo_vcs_info.json`, which `cargo package` writes into every `.crate` (so
//!   `cargo install trace-gen` from a registry still knows its commit);
//! - `git rev-parse HEAD` in the crate's directory (a clone, `cargo install --path`);
//! - nothing: a source tree without git, or no `git` program. The build never fails for it.
//!
//! Cargo reruns this script when HEAD moves (a commit, a checkout), and only then, so an
//! ordinary rebuild costs no `git` call. Uncommitted changes are not marked: nothing would
//! rerun the script when the tree becomes dirty, and a stale "clean" would be a false claim.
//!
//! One file for both binary crates: `crates/trace-merge/build.rs` is a symlink to this one
//! (`cargo package` stores the file it points to).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Hex digits of the commit shown: enough to be unique in this repository for years, as
/// `git log --abbrev=12` would show.
const SHORT: usize = 12;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let version = env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION");
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let commit = packaged_commit(&dir).or_else(|| git_commit(&dir));
    let full = match commit {
        Some(commit) => format!("{version} (commit {commit})"),
        None => version,
    };
    println!("cargo:rustc-env=TRACE_TOOLS_VERSION={full}");
}

/// The commit recorded by `cargo package` in `.cargo_vcs_info.json`
/// (`{"git": {"sha1": "<40 hex>"}, "path_in_vcs": "..."}`).
fn packaged_commit(dir: &Path) -> Option<String> {
    let info = dir.join(".cargo_vcs_info.json");
    let text = fs::read_to_string(&info).ok()?;
    println!("cargo:rerun-if-changed={}", info.display());
    let after = text.split("\"sha1\"").nth(1)?;
    let value = after.trim_start().strip_prefix(':')?.trim_start();
    let value = value.strip_prefix('"')?;
    let hex: String = value.chars().take_while(char::is_ascii_hexdigit).collect();
    (hex.len() >= SHORT).then(|| hex[..SHORT].to_string())
}

/// The commit checked out where the crate is, and the files whose change means HEAD moved.
fn git_commit(dir: &Path) -> Option<String> {
    let commit = git(dir, &["rev-parse", &format!("--short={SHORT}"), "HEAD"])?;
    // Rerun when HEAD moves: HEAD itself (checkout, detached commits), the branch's ref file
    // (a commit on the branch), packed-refs (a ref that `git gc` packed). A worktree has its
    // own HEAD but shares refs with the main repository.
    let git_dir = PathBuf::from(git(dir, &["rev-parse", "--absolute-git-dir"])?);
    println!("cargo:rerun-if-changed={}", git_dir.join("HEAD").display());
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        let common = PathBuf::from(git(dir, &["rev-parse", "--git-common-dir"])?);
        let common = if common.is_absolute() {
            common
        } else {
            dir.join(common)
        };
        // Only files that exist: Cargo reruns on every build for a missing one.
        for file in [common.join(&branch), common.join("packed-refs")] {
            if file.exists() {
                println!("cargo:rerun-if-changed={}", file.display());
            }
        }
    }
    Some(commit)
}

/// `git ARGS` run in `dir`: its one line of output, or None when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let line = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !line.is_empty()).then_some(line)
}
