#!/usr/bin/env bash
# Proves the guest end to end, and fails loudly when it cannot: compiles opens.stp on the host
# (stap-cached, cached), boots the guest, runs the module there with staprun on
# `cat /tmp/not_exists` and checks the ENOENT open with comm "cat"; runs bpftrace in the guest on
# the same command and checks its -2. Prints the times of each step.
#
#   scripts/guest/selftest.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

t0=$(date +%s.%N)
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

module=$("$here/stap-cached" --compile -DMAXSTRINGLEN=4096 "$here/opens.stp")
note "module $module ready in $(secs "$t0") s"

io=$(mktemp -d /tmp/tt-guest-selftest.XXXXXX)
trap 'rm -rf "$io"' EXIT
t1=$(date +%s.%N)
# The guest's /tmp is the host's (overlaid): the file must not exist on the host either.
[ ! -e /tmp/not_exists ] || die "/tmp/not_exists exists on the host; remove it"
"$here/run.sh" --timeout 600 --share "$io" -- bash -c '
    set -u
    s=$(date +%s%N)
    "$0" -DMAXSTRINGLEN=4096 -c "cat /tmp/not_exists" "$1" >"$TT_GUEST_IO/stap.out" 2>"$TT_GUEST_IO/stap.err"
    echo "stap-cached+staprun: status $?, $(( ($(date +%s%N) - s) / 1000000 )) ms" >"$TT_GUEST_IO/times"
    s=$(date +%s%N)
    bpftrace -e "tracepoint:syscalls:sys_exit_openat /comm == \"cat\"/ { printf(\"ret %d\n\", args->ret); }" \
        -c "/usr/bin/cat /tmp/not_exists" >"$TT_GUEST_IO/bpftrace.out" 2>"$TT_GUEST_IO/bpftrace.err"
    echo "bpftrace: status $?, $(( ($(date +%s%N) - s) / 1000000 )) ms" >>"$TT_GUEST_IO/times"
    uname -r >"$TT_GUEST_IO/uname"
' "$here/stap-cached" "$here/opens.stp" || die "the guest run failed (status $?)"
note "guest run in $(secs "$t1") s: $(tr '\n' ';' <"$io/times")"

fail=0
[ "$(cat "$io/uname")" = "$(guest_kver)" ] || { echo "selftest: guest kernel is $(cat "$io/uname")" >&2; fail=1; }
if grep -qx 'open comm=cat path="/tmp/not_exists" ret=-2 (ENOENT)' "$io/stap.out"; then
    note "SystemTap in the guest: cat's open of /tmp/not_exists is ret=-2 (ENOENT)"
else
    echo "selftest: SystemTap did not show cat's ENOENT open; stdout:" >&2
    cat "$io/stap.out" >&2
    echo "stderr:" >&2
    cat "$io/stap.err" >&2
    fail=1
fi
if grep -qx 'ret -2' "$io/bpftrace.out"; then
    note "bpftrace in the guest: an openat of cat returned -2"
else
    echo "selftest: bpftrace did not show cat's -2; stdout:" >&2
    cat "$io/bpftrace.out" >&2
    echo "stderr:" >&2
    cat "$io/bpftrace.err" >&2
    fail=1
fi
[ "$fail" -eq 0 ] || die "self-test failed"
note "passed in $(secs "$t0") s"
