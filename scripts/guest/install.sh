#!/usr/bin/env bash
# Installs and prepares everything the SystemTap guest needs, as root on Debian. Idempotent and
# quick when all is there (apt runs only when a package is missing):
#
#   qemu-system-x86, busybox-static     the TCG guest and its initramfs
#   linux-image-amd64, linux-headers-amd64
#                                       Debian's current kernel: the guest boots the image, stap
#                                       compiles against the headers (the metapackages keep
#                                       their versions equal)
#   systemtap                           stap (host, compile) and staprun (guest, run)
#
# Then it prepares the caches under /var/cache/trace-tools (TT_CACHE): the patched SystemTap
# runtime when the kernel needs it (task_work_cancel_func, see lib.sh), the initramfs, and the
# uncompressed kernel the guest boots.
# With --check-boot it also boots the guest once and fails if it does not come up.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

check_boot=0
for arg in "$@"; do
    case "$arg" in
        --check-boot) check_boot=1 ;;
        *) die "unknown option '$arg' (usage: install.sh [--check-boot])" ;;
    esac
done

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
need=()
for pkg in qemu-system-x86 busybox-static linux-image-amd64 linux-headers-amd64 systemtap \
    kmod cpio gzip python3; do
    have_pkg "$pkg" || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "missing packages: ${need[*]}; run this script as root"
    note "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
        || die "apt-get install ${need[*]} failed"
fi

kver=$(guest_kver)
# The metapackages moved on together; an image or headers left from an older kernel would not
# match. Install the exact image for the headers' version if the metapackage did not bring it.
if [ ! -r "/boot/vmlinuz-$kver" ] || [ ! -d "/lib/modules/$kver/kernel" ]; then
    [ "$(id -u)" -eq 0 ] || die "missing linux-image-$kver; run this script as root"
    note "installing linux-image-$kver to match the headers"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "linux-image-$kver" >/dev/null || die "apt-get install linux-image-$kver failed"
fi
check_guest_kernel "$kver"

runtime=$(stap_runtime_dir "$kver")
initrd=$("$here/initramfs.sh" "$kver")
kernel=$("$here/kernel.sh" "$kver")
note "guest kernel $kver ($kernel); SystemTap runtime $runtime; initramfs $initrd"

if [ "$check_boot" -eq 1 ]; then
    out=$("$here/run.sh" --timeout 300 -- uname -r) || die "the guest did not boot (see above)"
    [ "$out" = "$kver" ] || die "the guest booted '$out', expected $kver"
    note "the guest boots $kver"
fi
