#!/usr/bin/env bash
# Benchmarks, one command: builds release binaries and runs scripts/bench.py (trace-merge vs the
# seed baseline and `wc -l`; trace-gen's slowdown and lost events). Options pass through:
#   scripts/bench.sh [--write] [--big] [--runs N] [--lines N] [--no-gen]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo build --release --quiet --bins
exec python3 scripts/bench.py "$@"
