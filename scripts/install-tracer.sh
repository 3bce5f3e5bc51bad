#!/usr/bin/env bash
# Installs only what the demo (scripts/demo.sh) needs on a Debian machine, as root: bpftrace,
# the tracer it runs, and a Rust toolchain when there is none; mounts tracefs, where bpftrace
# finds the tracepoints. Idempotent: apt runs only when a package is missing.
# scripts/install-deps.sh runs this first, then installs what the tests need besides.
#
#   scripts/install-tracer.sh           install
#   scripts/install-tracer.sh --list    print the packages it installs, one a line (the test
#                                       of the demo's install list reads them)
set -euo pipefail

# bpftrace: `trace-gen -B`, the demo's tracer.
packages=(bpftrace)
if ! command -v cargo >/dev/null 2>&1; then
    # A machine without rustup: Debian's toolchain (may be older than the workspace's MSRV).
    packages+=(cargo rustc)
fi

if [ "${1:-}" = "--list" ]; then
    printf '%s\n' "${packages[@]}"
    exit 0
fi

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
need=()
for pkg in "${packages[@]}"; do
    have_pkg "$pkg" || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-tracer: missing packages: ${need[*]}; run this script as root" >&2
        exit 1
    fi
    echo "install-tracer: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# bpftrace attaches to tracepoints through tracefs; without it, it says only
# "tracepoint not found".
if [ "$(id -u)" -eq 0 ] && [ ! -e /sys/kernel/tracing/events ]; then
    mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null \
        || mount -t debugfs nodev /sys/kernel/debug 2>/dev/null || true
fi
if [ ! -e /sys/kernel/tracing/events ] && [ ! -e /sys/kernel/debug/tracing/events ]; then
    echo "install-tracer: warning: tracefs is not mounted; bpftrace will not find tracepoints" >&2
fi
