#!/bin/bash
# Runs inside the guest (scripts/guest/run.sh): the end-to-end scenarios of trace-gen with
# SystemTap (modules precompiled on the host, run by scripts/guest/stap-cached) and with
# bpftrace, on the guest's Debian kernel. Each scenario writes what it saw to OUT/NAME/:
# trace (trace-gen's stdout), err (its stderr), status, merged (trace-merge's output) and
# whatever else it needs; tests/guest.rs asserts on them on the host. This script asserts
# nothing itself, and never stops early: every scenario runs, bounded by `timeout`.
#
#   scenarios.sh OUT TRACE-GEN TRACE-MERGE BIN [NAME...]
#
# BIN holds the test programs built on the host (fifo_threads, guest_hostile, every_open,
# last_open, and every_open32 built with -m32). NAMEs select
# scenarios (default: all).
set -u
out=$1 tg=$2 tm=$3 bin=$4
shift 4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export STAP_PATH="$here/stap-cached"
scratch=/run/tt-scenarios
mkdir -p "$scratch" "$out"

ms() { date +%s%N | cut -c1-13; }

# begin NAME: a fresh OUT/NAME and scratch directory; sets $o and $d.
begin() {
    name=$1
    o="$out/$name"
    d="$scratch/$name"
    rm -rf "$o" "$d"
    mkdir -p "$o" "$d"
    t0=$(ms)
}

# end: records the scenario's wall time.
end() { echo "$name $(($(ms) - t0)) ms" >>"$out/times"; }

# pipeline BACKEND-FLAG ARGS...: trace-gen ARGS | tee trace | trace-merge, statuses of both.
pipeline() {
    timeout -s INT -k 10 180 "$tg" "$@" 2>"$o/err" | tee "$o/trace" | "$tm" >"$o/merged" 2>"$o/merge.err"
    echo "${PIPESTATUS[0]} ${PIPESTATUS[2]}" >"$o/status"
}

# wait_for FILE TEXT: until FILE holds TEXT (at most 60 s).
wait_for() {
    local i
    for i in $(seq 600); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

stap_cat() {
    begin stap-cat
    rm -f /tmp/not_exists
    pipeline -S -c 'cat /tmp/not_exists'
    end
}

stap_threads() {
    begin stap-threads
    echo "$d" >"$o/dir"
    pipeline -S -c "$bin/fifo_threads $d 8 150"
    end
}

stap_hostile() {
    begin stap-hostile
    echo "$d" >"$o/dir"
    pipeline -S -c "$bin/guest_hostile $d $o/expected"
    end
}

# -p PID of a shell that execs another, whose children fork: trace-gen follows all of it and
# ends by itself when the last one has exited.
stap_follow_pid() {
    begin stap-follow-pid
    echo "$d" >"$o/dir"
    (
        while [ ! -e "$d/go" ]; do
            cat "$d/ping" 2>/dev/null
            sleep 0.2
        done
        exec bash -c ": <'$d/own-after-exec' 2>/dev/null; cat '$d/child-after-exec' 2>/dev/null; bash -c \"cat '$d/grandchild' 2>/dev/null; true\"; sleep 0.3"
    ) &
    local target=$!
    echo "$target" >"$o/pid"
    timeout -s INT -k 10 120 "$tg" -S -p "$target" >"$o/trace" 2>"$o/err" &
    local tgpid=$!
    wait_for "$o/trace" "$d/ping" || echo "never attached" >>"$o/err"
    touch "$d/go"
    wait "$tgpid"
    echo "$?" >"$o/status"
    wait "$target" 2>/dev/null
    end
}

stap_uid() {
    begin stap-uid
    echo "$d" >"$o/dir"
    pipeline -S -u 65534 -c "cat $d/as-root; setpriv --reuid=65534 --regid=65534 --clear-groups cat $d/as-nobody"
    end
}

# System-wide with -n, stopped by SIGINT: every open emitted before the signal is in the trace.
stap_comm_sigint() {
    begin stap-comm-sigint
    echo "$d" >"$o/dir"
    cp /bin/cat "$d/tt-ncat"
    timeout -s KILL 180 "$tg" -S -n tt-ncat >"$o/trace" 2>"$o/err" &
    local tgpid=$! i
    for i in $(seq 300); do
        "$d/tt-ncat" "$d/ping" 2>/dev/null
        grep -qF "$d/ping" "$o/trace" && break
        sleep 0.2
    done
    for i in $(seq 1 50); do
        "$d/tt-ncat" "$d/n-$i" 2>/dev/null
        cat "$d/plain-$i" 2>/dev/null
    done
    kill -INT "$tgpid"
    wait "$tgpid"
    echo "$?" >"$o/status"
    end
}

# tests/data/gen/every_open.c: every way of opening, with the program's own record of each.
stap_every_open() {
    begin stap-every-open
    echo "$d" >"$o/dir"
    pipeline -S -c "$bin/every_open $d/top >$o/records"
    end
}

# The same, built for i386 (every call through the ia32 system call ABI).
stap_every_open_ia32() {
    begin stap-every-open-ia32
    echo "$d" >"$o/dir"
    pipeline -S -c "$bin/every_open32 $d/top >$o/records"
    end
}

# A process killed by SIGKILL while blocked in open() of a FIFO: the open never returns.
stap_fifo_killed() {
    begin stap-fifo-killed
    echo "$d" >"$o/dir"
    mkfifo "$d/fifo"
    timeout -s INT -k 10 120 "$tg" -S -c "cat $d/fifo" >"$o/trace" 2>"$o/err" &
    local tgpid=$! pid= i
    for i in $(seq 600); do
        pid=$(pgrep -x -f "cat $d/fifo" | head -n 1)
        [ -n "$pid" ] && [ "$(cat "/proc/$pid/wchan" 2>/dev/null)" = wait_for_partner ] && break
        pid=
        sleep 0.1
    done
    [ -n "$pid" ] || echo "cat never blocked in the FIFO's open" >>"$o/err"
    [ -n "$pid" ] && kill -KILL "$pid"
    wait "$tgpid"
    echo "$?" >"$o/status"
    end
}

# The command's last opens in the last microseconds before its exit (last_open: a burst, then
# exit_group at once), the run ending when the last followed process has gone and, with
# --stop-at-exit, at the command's own exit. trace-gen exits once the fence has drained stap,
# without waiting for the module's unload: that goes on after it, and must end by itself
# (bounded here: 60 s). Last of the stap scenarios, so it sees every module they left unloading.
stap_last_open() {
    begin stap-last-open
    echo "$d" >"$o/dir"
    timeout -s INT -k 10 120 "$tg" -S -c "$bin/last_open $d/missing 500" >"$o/trace" 2>"$o/err"
    echo "$?" >"$o/status"
    timeout -s INT -k 10 120 "$tg" -S --stop-at-exit -c "$bin/last_open $d/at-exit 500" \
        >"$o/trace-at-exit" 2>"$o/err-at-exit"
    echo "$?" >"$o/status-at-exit"
    local i
    for i in $(seq 600); do
        grep -q '^tt_' /proc/modules || break
        sleep 0.1
    done
    grep '^tt_' /proc/modules >"$o/modules-left"
    pgrep -l 'stapio|staprun' >"$o/procs-left"
    end
}

# Inside a PID namespace (unshare -fp --mount-proc): pids as the namespace sees them. The
# child writes its own pid ($$ there) before it execs cat; trace-gen is pid 1.
stap_pid_ns() {
    begin stap-pid-ns
    echo "$d" >"$o/dir"
    timeout -s INT -k 10 180 unshare -fp --mount-proc --kill-child=SIGINT "$tg" -S \
        -c "sh -c 'echo \$\$ >$o/child-pid; exec cat /etc/hostname'; cat /etc/hostname $d/missing" \
        2>"$o/err" | tee "$o/trace" | "$tm" >"$o/merged" 2>"$o/merge.err"
    echo "${PIPESTATUS[0]} ${PIPESTATUS[2]}" >"$o/status"
    end
}

# -p inside a PID namespace: the namespace's pid of a running shell, which opens a file once
# trace-gen is attached; trace-gen ends by itself when it exits.
stap_pid_ns_p() {
    begin stap-pid-ns-p
    echo "$d" >"$o/dir"
    TT_TG=$tg TT_D=$d TT_O=$o timeout -s INT -k 10 180 unshare -fp --mount-proc --kill-child=SIGINT bash -c '
        d=$TT_D o=$TT_O
        (
            while [ ! -e "$d/go" ]; do
                cat "$d/ping" 2>/dev/null
                sleep 0.2
            done
            cat /etc/hostname "$d/after" 2>/dev/null
        ) &
        target=$!
        echo "$target" >"$o/pid"
        "$TT_TG" -S -p "$target" >"$o/trace" 2>"$o/err" &
        tgpid=$!
        for i in $(seq 600); do
            grep -qF "$d/ping" "$o/trace" && break
            sleep 0.1
        done
        touch "$d/go"
        wait "$tgpid"
        echo "$?" >"$o/status"
    '
    end
}

# System-wide (-n) inside a PID namespace: a tt-ncat outside it, opening all along, is not
# traced (it has no pid there); the namespace's are, with its pids. Stopped by SIGINT.
stap_pid_ns_system_wide() {
    begin stap-pid-ns-system-wide
    echo "$d" >"$o/dir"
    cp /bin/cat "$d/tt-ncat"
    (
        while [ ! -e "$d/stop" ]; do
            "$d/tt-ncat" "$d/outside" 2>/dev/null
            sleep 0.1
        done
    ) &
    local outer=$!
    TT_TG=$tg TT_D=$d TT_O=$o timeout -s INT -k 10 180 unshare -fp --mount-proc --kill-child=SIGINT bash -c '
        d=$TT_D o=$TT_O
        "$TT_TG" -S -n tt-ncat >"$o/trace" 2>"$o/err" &
        tgpid=$!
        for i in $(seq 300); do
            "$d/tt-ncat" "$d/ping" 2>/dev/null
            grep -qF "$d/ping" "$o/trace" && break
            sleep 0.2
        done
        "$d/tt-ncat" "$d/last" 2>/dev/null &
        echo "$!" >"$o/last-pid"
        wait "$!"
        sleep 1
        kill -INT "$tgpid"
        wait "$tgpid"
        echo "$?" >"$o/status"
    '
    touch "$d/stop"
    wait "$outer"
    end
}

bpftrace_cat() {
    begin bpftrace-cat
    rm -f /tmp/not_exists
    # --no-resolve: Linux 6.1's verifier refuses the resolved-path walk of the return
    # programs ("Error loading program"); the README's bpftrace row says so.
    pipeline -B --no-resolve -c 'cat /tmp/not_exists'
    end
}

bpftrace_threads() {
    begin bpftrace-threads
    echo "$d" >"$o/dir"
    pipeline -B --no-resolve -c "$bin/fifo_threads $d 8 150"
    end
}

all=(stap_cat stap_threads stap_hostile stap_follow_pid stap_uid stap_comm_sigint stap_every_open stap_every_open_ia32 stap_fifo_killed stap_pid_ns stap_pid_ns_p stap_pid_ns_system_wide stap_last_open bpftrace_cat bpftrace_threads)
[ $# -gt 0 ] && all=("$@")
uname -r >"$out/kernel"
for s in "${all[@]}"; do
    "$s"
done
echo done >"$out/finished"
