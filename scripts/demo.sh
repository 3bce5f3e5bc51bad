#!/usr/bin/env bash
# The main job, on a fresh machine: install the tracer (only that: scripts/install-tracer.sh,
# bpftrace and tracefs; the tests' world is scripts/install-deps.sh), build, trace
# `cat /tmp/not_exists` with bpftrace and print the merged result (the failed open shows as
# `ERROR -2`).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-tracer.sh
cargo build --release --quiet --bins
rm -f /tmp/not_exists
# trace-gen exits with cat's status (1: the file is missing, as intended); the demo's status is
# trace-merge's.
set +o pipefail
./target/release/trace-gen -B -c 'cat /tmp/not_exists' | ./target/release/trace-merge
