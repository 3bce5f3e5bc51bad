#!/bin/bash
# Runs inside the guest (scripts/guest/run.sh), for scripts/bench.py: what a user waits with
# SystemTap. RUNS times, `trace-gen -S -c STAMP`, STAMP a script whose last act writes the time
# (`date +%s.%N`, as bench.py's other rows), printing `stap-times START STAMP END`, then
# `trace-gen -S -c true`, printing `stap-whole START END` (CLOCK_REALTIME seconds; bench.py
# takes the differences). The module is precompiled on the host (stap-cached --prepare).
# Finally waits (at most 60 s) until no module of these runs is loaded, and prints
# `stap-unloaded SECONDS` (after the last run's end) or `stap-still-loaded NAMES`.
#
#   bench-ending.sh TRACE-GEN RUNS
set -u
tg=$1 runs=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export STAP_PATH="$here/stap-cached"
w=/run/tt-bench
mkdir -p "$w"
printf '#!/bin/sh\nexec date +%%s.%%N >%s/stamp\n' "$w" >"$w/stamp.sh"
chmod +x "$w/stamp.sh"
for _ in $(seq "$runs"); do
    rm -f "$w/stamp"
    t0=$EPOCHREALTIME
    timeout -s INT -k 10 120 "$tg" -S -c "$w/stamp.sh" >/dev/null 2>"$w/err" \
        || { echo "stap-failed $?"; cat "$w/err" >&2; }
    t1=$EPOCHREALTIME
    echo "stap-times $t0 $(cat "$w/stamp" 2>/dev/null || echo -) $t1"
    t0=$EPOCHREALTIME
    timeout -s INT -k 10 120 "$tg" -S -c true >/dev/null 2>"$w/err" \
        || { echo "stap-failed $?"; cat "$w/err" >&2; }
    t1=$EPOCHREALTIME
    echo "stap-whole $t0 $t1"
done
for _ in $(seq 600); do
    grep -q '^tt_' /proc/modules || break
    sleep 0.1
done
left=$(grep '^tt_' /proc/modules | cut -d' ' -f1)
if [ -n "$left" ]; then
    echo "stap-still-loaded $left"
else
    echo "stap-unloaded $(awk -v a="$EPOCHREALTIME" -v b="$t1" 'BEGIN { printf "%.3f", a - b }')"
fi
