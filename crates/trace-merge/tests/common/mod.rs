//! Shared helpers for the trace-merge CLI tests: the command under test, fixture paths, and
//! deterministic generated inputs.

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

/// The project's shared/ folder (beside the repository), with the seed baseline scripts.
pub fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
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
