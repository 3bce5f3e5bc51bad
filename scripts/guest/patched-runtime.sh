#!/usr/bin/env bash
# Prints the SystemTap runtime directory that builds modules for kernel KVER (default: the
# running kernel when its headers are installed, else the guest's kernel): the stock one, or a
# copy patched for task_work_cancel_func() (Debian 12's 6.1.y kernels backported the change that
# SystemTap 4.8's runtime does not know; stap's pass 4 then fails in stp_task_work.c). Made once
# under $TT_CACHE (default /var/cache/trace-tools). Use it as stap's runtime:
#
#   export SYSTEMTAP_RUNTIME=$(scripts/guest/patched-runtime.sh)   # then trace-gen -S ...
#   stap -R "$(scripts/guest/patched-runtime.sh 6.1.0-57-amd64)" -r 6.1.0-57-amd64 ...
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
kver=${1:-}
if [ -z "$kver" ]; then
    if [ -d "/lib/modules/$(uname -r)/build" ]; then kver=$(uname -r); else kver=$(guest_kver); fi
fi
stap_runtime_dir "$kver"
