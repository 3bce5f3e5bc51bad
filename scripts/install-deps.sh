#!/usr/bin/env bash
# Installs what trace-tools' tests need on a Debian machine, as root, and prepares the kernel
# interfaces the tracers use. Idempotent, and quick when everything is already there: apt runs
# only when a package is missing. The demo's part (bpftrace, a toolchain, tracefs) is
# scripts/install-tracer.sh, which this runs first; the demo runs only that.
#
#   bpftrace             the tracer the end-to-end tests run for real (install-tracer.sh)
#   systemtap + linux-headers-amd64
#                        `stap -r <headers> -p2` elaborates every generated SystemTap script
#   Oracle DTrace for Linux (../shared/tools/install-dtrace.sh, when present)
#                        the DTrace end-to-end tests
#   strace, time, gcc, python3
#                        benchmarks (strace baseline, peak RSS), the C test programs, and the
#                        seed's Python post-processor used as the byte-exact baseline; strace
#                        is also the ground truth of the differential tests (tests/differential.rs)
#   gcc-multilib         `gcc -m32 -static`: the static i386 program whose 32-bit opens the
#                        differential tests trace
#   libbpf-tools, linux-perf
#                        opensnoop and `perf trace`, the peers scripts/bench.sh measures next to
#                        trace-gen (start-up, and the cost per open)
#   chromium, fonts-dejavu-core
#                        headless Chromium renders `--heatmap`'s SVG for the screenshot test
#   python3-venv         the virtualenvs holding DuckDB and PySpark (from PyPI) that run the
#                        README's query recipes in the tests: target/duckdb-venv,
#                        target/spark-venv
#   openjdk-17-jre-headless
#                        the Java runtime PySpark starts (the README's Spark recipe)
#   dpkg-dev, man-db, bash-completion, zsh, fish, python3-debian
#                        the package tests (scripts/test-package.sh): cargo-deb's Depends
#                        (dpkg-shlibdeps), `man -w`, each shell loading the installed
#                        completions, the DEP-5 copyright parsed by python3-debian
set -euo pipefail

bash "$(dirname "${BASH_SOURCE[0]}")/install-tracer.sh"

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in systemtap linux-headers-amd64 strace time gcc gcc-multilib libc6-dev python3 \
    make chromium fonts-dejavu-core python3-venv openjdk-17-jre-headless \
    dpkg-dev man-db bash-completion zsh fish python3-debian libbpf-tools linux-perf; do
    have_pkg "$pkg" || need+=("$pkg")
done

if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: missing packages: ${need[*]}; run this script as root" >&2
        exit 1
    fi
    echo "install-deps: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# A real DTrace for the DTrace end-to-end tests: Oracle's DTrace for Linux at
# /opt/dtrace-oracle, installed by the shared tools next to the repository when they are there
# (always in CI). The installer is idempotent, and quick once DTrace is there.
dtrace_installer="$(cd "$(dirname "$0")/.." && pwd)/../shared/tools/install-dtrace.sh"
if [ -f "$dtrace_installer" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        bash "$dtrace_installer" >/dev/null
    elif ! /opt/dtrace-oracle/sbin/dtrace -V >/dev/null 2>&1; then
        echo "install-deps: warning: DTrace is not installed; run this script as root" >&2
    fi
fi

# Warm SystemTap's cache once: its first elaboration on a machine takes about a minute, which
# would otherwise land inside one test's run.
headers=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1)
if [ -n "$headers" ] && command -v stap >/dev/null 2>&1; then
    kver=${headers#/usr/src/linux-headers-}
    stamp="${HOME:-/root}/.systemtap/.trace-tools-warm-$kver"
    if [ ! -e "$stamp" ]; then
        echo "install-deps: warming the SystemTap cache for $kver (about a minute, once)" >&2
        if echo 'probe syscall.openat { printf("%s\n", filename) }' \
            | stap -r "$kver" -p2 - >/dev/null 2>&1; then
            mkdir -p "$(dirname "$stamp")" && touch "$stamp"
        fi
    fi
fi

# DuckDB for the query-recipe test, in a virtualenv of its own under the build directory (the
# test looks for it there). Created once; pip runs only when duckdb does not import.
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${CARGO_TARGET_DIR:-$root/target}/duckdb-venv"
if ! "$venv/bin/python" -c 'import duckdb' >/dev/null 2>&1; then
    echo "install-deps: installing DuckDB from PyPI into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'duckdb>=1.1'
fi

# PySpark for the Spark recipe test, the same way (about 320 MB from PyPI, once; measured
# 1 min 37 s on a 2-core machine). Spark runs on the Java runtime installed above.
spark_venv="${CARGO_TARGET_DIR:-$root/target}/spark-venv"
if ! "$spark_venv/bin/python" -c 'import pyspark' >/dev/null 2>&1; then
    echo "install-deps: installing PySpark from PyPI into $spark_venv" >&2
    python3 -m venv "$spark_venv"
    "$spark_venv/bin/pip" install -q --disable-pip-version-check 'pyspark>=3.5,<4'
fi

# The SystemTap guest (scripts/guest/): qemu, Debian's kernel image matching the headers, static
# busybox; then the patched stap runtime, the initramfs and the PVH kernel in
# /var/cache/trace-tools. Fails loudly when any of it cannot be had.
bash "$(dirname "${BASH_SOURCE[0]}")/guest/install.sh"
