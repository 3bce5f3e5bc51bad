#!/usr/bin/env bash
# Prints the kernel image qemu should boot for KVER: the uncompressed ELF vmlinux, extracted once
# from /boot/vmlinuz-KVER into the cache, when it has a PVH entry point (Debian's has); else the
# bzImage itself. Under TCG, the bzImage's xz decompressor alone costs about 8 s of every boot
# (21 s vs 13 s wall measured to a powered-off guest); qemu boots a PVH vmlinux directly.
#
#   scripts/guest/kernel.sh [KVER]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

kver=${1:-$(guest_kver)}
bz="/boot/vmlinuz-$kver"
[ -r "$bz" ] || die "no $bz: install linux-image-$kver (scripts/guest/install.sh)"
if [ -n "${TT_GUEST_BZIMAGE:-}" ]; then
    echo "$bz"
    exit 0
fi
key=$(sha256sum "$bz" | cut -c1-12)
out="$TT_CACHE/guest/vmlinux-$kver-$key"
if [ -s "$out" ]; then
    echo "$out"
    exit 0
fi
mkdir -p "$TT_CACHE/guest" || die "cannot create $TT_CACHE/guest"
tmp=$(mktemp "$TT_CACHE/guest/.vmlinux.XXXXXX")
trap 'rm -f "$tmp"' EXIT
# The payload is the first compressed stream that decompresses to an ELF file.
if /usr/bin/python3 - "$bz" "$tmp" <<'PY'
import gzip, lzma, sys, zlib
data = open(sys.argv[1], "rb").read()
for magic, unpack in ((b"\xfd7zXZ\x00", lambda b: lzma.LZMADecompressor().decompress(b)),
                      (b"\x1f\x8b\x08", lambda b: zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(b))):
    off = data.find(magic)
    while off >= 0:
        try:
            elf = unpack(data[off:])
        except (lzma.LZMAError, zlib.error, EOFError):
            elf = b""
        if elf[:4] == b"\x7fELF":
            open(sys.argv[2], "wb").write(elf)
            sys.exit(0)
        off = data.find(magic, off + 1)
sys.exit(1)
PY
then
    # XEN_ELFNOTE_PHYS32_ENTRY (18): the PVH entry point qemu needs to boot an ELF kernel.
    if readelf -n "$tmp" 2>/dev/null | grep -q 'Unknown note type: (0x00000012)'; then
        mv "$tmp" "$out"
        note "extracted the PVH kernel $out"
        echo "$out"
        exit 0
    fi
    note "warning: $bz's vmlinux has no PVH entry point; booting the bzImage (slower under TCG)"
else
    note "warning: cannot extract vmlinux from $bz (not xz or gzip); booting the bzImage (slower under TCG)"
fi
echo "$bz"
