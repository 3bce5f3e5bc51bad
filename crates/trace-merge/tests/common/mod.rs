//! The one helper module of trace-merge's integration tests: the command under test, fixture
//! paths, runs on the small fixture, a pseudo-terminal, deterministic generated inputs, and
//! whether the tests run in CI (where a missing tool fails a test instead of skipping it).

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// `trace-merge` from this build, with no inherited surprises.
pub fn trace_merge() -> Command {
    let mut cmd = Command::cargo_bin("trace-merge").expect("trace-merge binary");
    cmd.env_remove("NO_COLOR");
    cmd
}

/// The built binary's path, for tests that spawn it themselves.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("trace-merge")
}

/// A fixture under the repository's tests/data/merge/.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/merge")
        .join(name)
}

/// A fixture under the repository's tests/data/options/ (filters, columns, formats, sorting,
/// summaries).
pub fn options_data(name: &str) -> PathBuf {
    repo_data("options").join(name)
}

/// A fixture under the repository's tests/data/hostile/.
pub fn hostile_data(name: &str) -> PathBuf {
    repo_data("hostile").join(name)
}

/// A file under the repository's tests/data/ (e.g. `bench/seed_merge.py`, the seed baseline,
/// or `traces/dtrace-linux-names.trace`, a real capture).
pub fn repo_data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(rel)
}

/// A fresh temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "trace-merge-test-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// xorshift64: deterministic bytes without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A well-formed trace of at least `opens` opens over 64 interleaved threads, every one of
/// them completed, so trace-merge prints one line per open and no report.
pub fn generated_trace(opens: usize) -> Vec<u8> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut out = Vec::with_capacity(opens * 80);
    let mut pending: Vec<Option<u64>> = vec![None; 64];
    let mut ts: u64 = 1_000_000_000;
    let mut done = 0;
    while done < opens {
        ts += 100 + rng.next() % 3000;
        let t = (rng.next() % 64) as usize;
        let tid = 1000 + t as u64;
        match pending[t] {
            None => {
                out.extend_from_slice(
                    format!(
                        "=> uid: 0 pid: {tid} tid: {tid} open: /data/file-{} {ts}\n",
                        rng.next() % 997
                    )
                    .as_bytes(),
                );
                pending[t] = Some(ts);
            }
            Some(_) => {
                out.extend_from_slice(
                    format!("<= uid: 0 pid: {tid} tid: {tid} ret: 3 {ts}\n").as_bytes(),
                );
                pending[t] = None;
                done += 1;
            }
        }
    }
    for (t, p) in pending.iter().enumerate() {
        if p.is_some() {
            ts += 10;
            out.extend_from_slice(
                format!("<= uid: 0 pid: {0} tid: {0} ret: 3 {ts}\n", 1000 + t).as_bytes(),
            );
        }
    }
    out
}

/// True when running in CI, where a missing tool must fail the test instead of skipping it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Runs `trace-merge --passwd passwd ARGS small.trace` and returns stdout, asserting success.
pub fn small(args: &[&str]) -> String {
    let out = trace_merge()
        .arg("--passwd")
        .arg(options_data("passwd"))
        .args(args)
        .arg(options_data("small.trace"))
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
        .arg(options_data("small.trace"))
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
/// util-linux `script`, and returns what the terminal received. When `script` is not
/// installed, a terminal cannot be shown: the test fails under `CI=true`, and elsewhere gets
/// `None` after a notice naming it.
pub fn on_terminal(test: &str, command: &str) -> Option<String> {
    let out = std::process::Command::new("script")
        .args(["-q", "-e", "-c", command, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output();
    match out {
        Ok(out) => Some(String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")),
        Err(e) => {
            assert!(
                !in_ci(),
                "{test}: util-linux `script` is needed for a pseudo-terminal, and CI must run this test: {e}"
            );
            eprintln!("notice: {test} skipped: util-linux `script` unavailable: {e}");
            None
        }
    }
}
