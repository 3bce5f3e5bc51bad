#!/usr/bin/env bash
# Bounded fuzz run of every cargo-fuzz target in fuzz/ (parse_line: the trace-format parser;
# merge_pipeline: trace-merge's whole pipeline on arbitrary bytes). Fails on a crash, leaving
# the crashing input in fuzz/artifacts/TARGET/ (replay: RUSTC_BOOTSTRAP=1 cargo fuzz run -s none
# -a TARGET fuzz/artifacts/TARGET/crash-...).
#
#   FUZZ_SECONDS=60 scripts/fuzz.sh            # each target for 60 s (the default)
#   FUZZ_SECONDS=5 scripts/fuzz.sh parse_line  # one target, 5 s
#
# The seed corpus is tests/data/ (every fixture), copied into a temporary directory per run,
# plus fuzz/corpus/TARGET/ when it exists (git-ignored; keep one there to grow it across runs).
# cargo-fuzz needs nightly features: RUSTC_BOOTSTRAP=1 lets the stable toolchain build it, and
# `-s none` skips the sanitizer (libFuzzer's coverage instrumentation still works). `-a` keeps
# debug assertions and overflow checks on, so an arithmetic overflow is a crash.
# Executions per target are printed at the end and written to $FUZZ_STATS (if set).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
export PATH="$HOME/.cargo/bin:$PATH"
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi
target_dir=(--target-dir "${FUZZ_TARGET_DIR:-fuzz/target}")

if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo fuzz list); fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# merge_pipeline writes its inputs under $TMPDIR: keep them in the scratch directory.
export TMPDIR="$work"

echo "== cargo fuzz build" >&2
cargo fuzz build -s none -a "${target_dir[@]}" >&2

summary=()
for t in "${targets[@]}"; do
    corpus="$work/corpus-$t"
    mkdir -p "$corpus"
    i=0
    while IFS= read -r -d '' f; do
        if [ "$t" = merge_pipeline ]; then
            # The first byte picks the options (format, --unfinished, ...): vary it.
            { printf "\\$(printf '%03o' $((i * 37 % 256)))"; cat "$f"; } >"$corpus/seed-$i"
        else
            cp "$f" "$corpus/seed-$i"
        fi
        i=$((i + 1))
    done < <(find tests/data -type f -size -256k -print0 | sort -z)
    if [ -d "fuzz/corpus/$t" ]; then cp -r "fuzz/corpus/$t/." "$corpus/"; fi
    mkdir -p "fuzz/artifacts/$t"
    echo "== fuzz $t for ${FUZZ_SECONDS}s ($i seeds)" >&2
    log="$work/$t.log"
    status=0
    cargo fuzz run -s none -a "${target_dir[@]}" "$t" "$corpus" -- \
        -max_total_time="$FUZZ_SECONDS" -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log" >&2
        echo "fuzz.sh: $t crashed after ${execs:-?} executions (input in fuzz/artifacts/$t/)" >&2
        exit 1
    fi
    summary+=("$t: ${execs:-?} executions in ${FUZZ_SECONDS}s, no crash")
done
printf '%s\n' "${summary[@]}" >&2
if [ -n "${FUZZ_STATS:-}" ]; then printf '%s\n' "${summary[@]}" >"$FUZZ_STATS"; fi
