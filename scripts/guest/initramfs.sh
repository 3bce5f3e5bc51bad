#!/usr/bin/env bash
# Prints the path of the guest's busybox initramfs for the guest kernel, building it first if it
# is not in the cache. The cache key covers the kernel version, busybox, the module list and
# initramfs-init, so a change to any of them builds a new one (a few seconds, once).
#
#   scripts/guest/initramfs.sh [KVER]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

kver=${1:-$(guest_kver)}
check_guest_kernel "$kver"
busybox=/bin/busybox
[ -x "$busybox" ] && "$busybox" --list 2>/dev/null | grep -x switch_root >/dev/null \
    || die "no static busybox at $busybox: apt-get install busybox-static (scripts/guest/install.sh)"
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' \
    || ldd "$busybox" 2>&1 | grep -q 'not a dynamic' \
    || die "$busybox is not statically linked: install busybox-static"

# The modules the guest needs before its root exists, in load order (dependencies first, each
# once). Built-in ones are skipped.
wanted=(virtio_pci 9pnet_virtio 9p overlay)
mapfile -t ko < <(for m in "${wanted[@]}"; do
    modprobe -S "$kver" --show-depends "$m" || echo "missing $m"
done | awk '$1 == "missing" { print; next } $1 == "insmod" && !seen[$2]++ { print $2 }')
for k in "${ko[@]}"; do
    case "$k" in missing*) die "modprobe -S $kver cannot resolve module ${k#missing }";; esac
done

key=$( {
    echo "$kver"
    "$busybox" 2>&1 | head -n 1
    printf '%s\n' "${ko[@]}"
    cat "$here/initramfs-init"
} | sha256sum | cut -c1-12)
out="$TT_CACHE/guest/initramfs-$kver-$key.cpio.gz"
if [ -s "$out" ]; then
    echo "$out"
    exit 0
fi

mkdir -p "$TT_CACHE/guest" || die "cannot create $TT_CACHE/guest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/bin" "$tmp/root/modules"
cp "$busybox" "$tmp/root/bin/busybox"
install -m 755 "$here/initramfs-init" "$tmp/root/init"
for k in "${ko[@]}"; do
    name=$(basename "$k")
    case "$name" in
        *.ko) cp "$k" "$tmp/root/modules/$name" ;;
        *.ko.xz) xz -dc "$k" >"$tmp/root/modules/${name%.xz}"; name=${name%.xz} ;;
        *.ko.zst) zstd -qdc "$k" >"$tmp/root/modules/${name%.zst}"; name=${name%.zst} ;;
        *.ko.gz) gzip -dc "$k" >"$tmp/root/modules/${name%.gz}"; name=${name%.gz} ;;
        *) die "unexpected module file $k" ;;
    esac
    echo "$name" >>"$tmp/root/modules/order"
done
(cd "$tmp/root" && find . -print0 | sort -z | cpio --null -o -H newc --quiet -R 0:0) \
    | gzip -9n >"$tmp/initramfs.cpio.gz"
mv "$tmp/initramfs.cpio.gz" "$out"
note "built $out (${#ko[@]} modules for $kver)"
echo "$out"
