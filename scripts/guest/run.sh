#!/usr/bin/env bash
# Boots Debian's kernel (the version of the installed headers) under qemu TCG with the host's /
# as the guest's root (read-only 9p under a tmpfs overlay), runs one command in it as root, and
# exits with that command's status. The command's stdout and stderr stream back live through a
# writable 9p share; the current directory and PATH are the caller's (same paths: / is shared).
#
#   scripts/guest/run.sh [--timeout S] [--share DIR] [--env NAME=VALUE]... [--verbose] -- CMD...
#
#   --timeout S   whole run, boot included (default 600); then qemu is killed: status 124
#   --share DIR   writable host directory, mounted at the same path in the guest (default: a
#                 fresh temporary directory, removed afterwards); the command sees it as
#                 $TT_GUEST_IO. run.sh writes guest-cmd.sh, stdout, stderr, status,
#                 console.log and qemu.log there
#   --env N=V     set in the command's environment (CI, RUST_BACKTRACE, ... are passed already)
#   --verbose     copy the guest's console to stderr, and print boot timings
#
# Exit status: the command's; 124 on timeout; 126 when the guest's kernel locked up (a soft
# lockup on its console: qemu is stopped then); 125 when the guest did not boot or did not run
# the command (the console's tail is printed). Memory and CPUs: TT_GUEST_MEM (MiB, default
# 3072), TT_GUEST_SMP (default 2); more kernel parameters: TT_GUEST_APPEND (after the defaults,
# so they win: `mitigations=auto` restores the retpolines, which make a syscall 2.3 times slower
# under TCG: 200,000 one-byte dd copies took 1.44 s with them, 0.62 s without). The console
# (console.log in the share) gets the kernel's warnings and worse, with the backtraces of a
# soft lockup on every CPU (`loglevel=5 softlockup_all_cpu_backtrace=1`). Nested KVM does not
# work on the CI machines, so this is TCG (`-accel tcg -cpu max`): about 10 to 15 s of boot, with
# the uncompressed kernel from kernel.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

timeout_s=600
share=
verbose=0
envs=()
while [ $# -gt 0 ]; do
    case "$1" in
        --timeout) timeout_s=${2:?--timeout needs seconds}; shift 2 ;;
        --share) share=${2:?--share needs a directory}; shift 2 ;;
        --env) envs+=("${2:?--env needs NAME=VALUE}"); shift 2 ;;
        --verbose) verbose=1; shift ;;
        --) shift; break ;;
        *) die "unknown option '$1' (usage: run.sh [--timeout S] [--share DIR] [--env N=V] [--verbose] -- CMD...)" ;;
    esac
done
[ $# -gt 0 ] || die "no command (usage: run.sh [options] -- CMD...)"
case "$timeout_s" in ''|*[!0-9]*) die "--timeout: '$timeout_s' is not a number of seconds" ;; esac
[ "$(id -u)" -eq 0 ] || die "must run as root (qemu exports / with security_model=none)"
command -v qemu-system-x86_64 >/dev/null || die "no qemu-system-x86_64: run scripts/guest/install.sh"

kver=$(guest_kver)
check_guest_kernel "$kver"
initrd=$("$here/initramfs.sh" "$kver")
kernel=$("$here/kernel.sh" "$kver")

cleanup_share=0
if [ -z "$share" ]; then
    share=$(mktemp -d /tmp/tt-guest.XXXXXX)
    cleanup_share=1
else
    mkdir -p "$share" || die "cannot create --share $share"
    share=$(cd "$share" && pwd -P)
fi
case "$share" in *[[:space:]]*) die "--share path must not contain whitespace: '$share'" ;; esac
io="$share"
rm -f "$io/guest-cmd.sh" "$io/stdout" "$io/stderr" "$io/status" "$io/console.log"
: >"$io/stdout"
: >"$io/stderr"

# The command, with its environment, as a bash script (printf %q quotes every byte).
{
    echo '#!/bin/bash'
    echo '# Written by scripts/guest/run.sh: runs in the guest as pid 1 after switch_root.'
    echo 'echo "tt-guest: shell at $(cut -d" " -f1 /proc/uptime) s" >/dev/console'
    printf 'export PATH=%q\n' "$PATH:/usr/local/sbin:/usr/sbin:/sbin"
    printf 'export HOME=%q\n' "${HOME:-/root}"
    echo 'export TERM=dumb'
    printf 'export TT_GUEST_IO=%q TT_IN_GUEST=1\n' "$io"
    for name in CI RUST_BACKTRACE RUST_LOG CARGO_TARGET_DIR CARGO_HOME RUSTUP_HOME LANG LC_ALL TT_CACHE STAP_PATH BPFTRACE_PATH; do
        [ -n "${!name+x}" ] && printf 'export %s=%q\n' "$name" "${!name}"
    done
    for kv in "${envs[@]}"; do
        case "$kv" in [A-Za-z_]*=*) ;; *) die "--env '$kv' is not NAME=VALUE" ;; esac
        printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
    done
    printf 'cd %q || { echo "tt-guest: cannot cd to %q" >&2; exit 125; }\n' "$PWD" "$PWD"
    printf 'io=%q\n' "$io"
    # Through pipes and cat: cat writes what it has read in big chunks, where the command's own
    # small writes to the 9p share (cache=none) would cost a round trip each (20,000 echo lines
    # took 95 s straight to the share). Streams all the same.
    echo 'mkfifo /run/tt-stdout /run/tt-stderr || exit 125'
    echo 'cat /run/tt-stdout >"$io/stdout" & out=$!'
    echo 'cat /run/tt-stderr >"$io/stderr" & err=$!'
    echo '('
    printf ' exec'
    printf ' %q' "$@"
    echo
    echo ') <"/dev/null" >/run/tt-stdout 2>/run/tt-stderr'
    echo 'status=$?'
    echo '# Until every writer is gone (also what the command left running in the background).'
    echo 'wait "$out" "$err"'
    echo 'echo "$status" >"$io/status.tmp" && mv "$io/status.tmp" "$io/status"'
    echo 'echo "tt-guest: command done at $(cut -d" " -f1 /proc/uptime) s, status $status" >/dev/console'
    echo 'sync'
    echo 'echo o >/proc/sysrq-trigger'
    echo '# Wait for the power-off with builtins only (the 9p root goes away under a new process).'
    echo 'mkfifo /run/tt-poweroff && read -r -t 30 _ <>/run/tt-poweroff'
} >"$io/guest-cmd.sh"

smp=${TT_GUEST_SMP:-2}
mem=${TT_GUEST_MEM:-3072}
start=$(date +%s.%N)
qpid=
tails=()
cleanup() {
    local p
    # Interrupted (Ctrl-C, TERM): the background qemu ignores SIGINT, so end it here.
    if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
        kill "$qpid" 2>/dev/null || true
        wait "$qpid" 2>/dev/null || true
    fi
    for p in "${tails[@]}"; do kill "$p" 2>/dev/null || true; done
    if [ "$cleanup_share" -eq 1 ]; then rm -rf "$share"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

: >"$io/console.log"
timeout -k 5 "$timeout_s" qemu-system-x86_64 \
    -accel tcg -cpu max -smp "$smp" -m "$mem" \
    -nodefaults -no-user-config -display none -no-reboot \
    -chardev "file,id=console,path=$io/console.log" -serial chardev:console \
    -kernel "$kernel" -initrd "$initrd" \
    -append "console=ttyS0 quiet loglevel=5 softlockup_all_cpu_backtrace=1 panic=-1 mitigations=off ${TT_GUEST_APPEND:-} tt.io=$io" \
    -virtfs "local,path=/,mount_tag=ttroot,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$io,mount_tag=ttio,security_model=none,multidevs=remap" \
    </dev/null >"$io/qemu.log" 2>&1 &
qpid=$!

# Live output: follow the files the guest writes (9p cache=none: each write lands on the host).
# --pid: each tail prints what is left and exits once qemu has.
tail -n +1 -F --pid="$qpid" "$io/stdout" 2>/dev/null &
tails+=($!)
tail -n +1 -F --pid="$qpid" "$io/stderr" >&2 2>/dev/null &
tails+=($!)
if [ "$verbose" -eq 1 ]; then
    tail -n +1 -F --pid="$qpid" "$io/console.log" >&2 2>/dev/null &
    tails+=($!)
fi
# A soft lockup of the emulated kernel never ends by itself (seen under TCG: a vCPU spinning
# at a jump-label site of syscall_trace_enter just patched as a stap module's tracepoints
# went away): qemu is stopped at once, and the status is 126, not a wait for the timeout.
(
    while kill -0 "$qpid" 2>/dev/null; do
        if grep -q "BUG: soft lockup" "$io/console.log" 2>/dev/null; then
            : >"$io/lockup"
            kill "$qpid" 2>/dev/null
            exit 0
        fi
        sleep 2
    done
) &
tails+=($!)

qstatus=0
wait "$qpid" || qstatus=$?
qpid=
end=$(date +%s.%N)
for p in "${tails[@]}"; do wait "$p" 2>/dev/null || true; done
tails=()

if [ -e "$io/lockup" ]; then
    echo "run.sh: error: the guest's kernel locked up (qemu stopped); console:" >&2
    grep -m 1 -A 8 "BUG: soft lockup" "$io/console.log" >&2 || true
    exit 126
fi
if [ "$qstatus" -eq 124 ] || [ "$qstatus" -eq 137 ]; then
    echo "run.sh: error: the guest did not finish within ${timeout_s}s (qemu killed); console tail:" >&2
    tail -n 20 "$io/console.log" >&2 || true
    exit 124
fi
if [ ! -s "$io/status" ]; then
    echo "run.sh: error: the guest did not run the command (qemu exit $qstatus); qemu said:" >&2
    tail -n 5 "$io/qemu.log" >&2 || true
    echo "run.sh: console tail (all kernel messages: TT_GUEST_APPEND=loglevel=7):" >&2
    tail -n 20 "$io/console.log" >&2 || true
    exit 125
fi
status=$(cat "$io/status")
if [ "$verbose" -eq 1 ]; then
    shell_at=$(sed -n 's/^tt-guest: shell at \([0-9.]*\) s.*/\1/p' "$io/console.log" | head -n 1)
    done_at=$(sed -n 's/^tt-guest: command done at \([0-9.]*\) s.*/\1/p' "$io/console.log" | head -n 1)
    awk -v s="$start" -v e="$end" -v sh="${shell_at:-?}" -v d="${done_at:-?}" 'BEGIN {
        printf "run.sh: wall %.1f s; guest uptime at shell %s s, at command end %s s\n", e - s, sh, d
    }' >&2
fi
exit "$status"
