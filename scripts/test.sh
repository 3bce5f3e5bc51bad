#!/usr/bin/env bash
# The whole test suite, as README and CI run it: install what the tests need, then formatting,
# lints, every test of the workspace (unit, grammar properties, trace-merge CLI and pictures,
# DuckDB recipes, real bpftrace and DTrace end to end, the strace -f differential tests, stap -p2
# elaboration, golden scripts, and SystemTap and bpftrace run for
# real in one boot of a qemu guest on Debian's 6.1 kernel: tests/guest.rs, with the SystemTap
# modules compiled on the host and cached in /var/cache/trace-tools), the Debian package and
# both installs checked for real (scripts/test-package.sh), and a bounded fuzz run of each fuzz
# target (FUZZ_SECONDS each, default 60).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test" >&2
cargo test --workspace
echo "== package and install" >&2
bash scripts/test-package.sh
echo "== fuzz (bounded)" >&2
FUZZ_SECONDS="${FUZZ_SECONDS:-60}" bash scripts/fuzz.sh
