# shellcheck shell=bash
# Shared by the guest scripts (sourced, not run): which kernel the guest boots, where the caches
# live, and the patched SystemTap runtime. The guest's kernel is always the one whose headers are
# installed (`linux-headers-amd64` pulls the newest), never a hard-coded version: Debian's archive
# moves on (6.1.0-56 became -57), and the image, the modules and the headers must all match.

# Root of every cache: patched runtime copies, the initramfs, compiled modules. Visible inside
# the guest at the same path, since the guest's root is the host's `/`.
TT_CACHE=${TT_CACHE:-/var/cache/trace-tools}

die() {
    echo "${0##*/}: error: $*" >&2
    exit 1
}

note() { echo "${0##*/}: $*" >&2; }

# The kernel version of the newest installed Debian amd64 headers (e.g. 6.1.0-57-amd64), or
# $TT_GUEST_KVER when set.
guest_kver() {
    if [ -n "${TT_GUEST_KVER:-}" ]; then
        echo "$TT_GUEST_KVER"
        return
    fi
    local headers
    headers=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1)
    [ -n "$headers" ] || die "no /usr/src/linux-headers-*-amd64: run scripts/guest/install.sh"
    echo "${headers#/usr/src/linux-headers-}"
}

# Checks that the kernel image, its modules and its headers are all there for $1.
check_guest_kernel() {
    local kver=$1
    [ -r "/boot/vmlinuz-$kver" ] \
        || die "no /boot/vmlinuz-$kver (headers are for $kver): apt-get install linux-image-amd64 linux-headers-amd64, or run scripts/guest/install.sh"
    [ -d "/lib/modules/$kver/kernel" ] \
        || die "no /lib/modules/$kver/kernel: install linux-image-$kver (scripts/guest/install.sh)"
    [ -d "/lib/modules/$kver/build" ] \
        || die "no /lib/modules/$kver/build: install linux-headers-$kver (scripts/guest/install.sh)"
}

# SystemTap's version, e.g. 4.8.
stap_version() {
    stap -V 2>&1 | sed -n 's/.*version \([0-9][0-9.]*\).*/\1/p' | head -n 1
}

# The kernel header that says whether task_work_cancel() takes a callback_head (the 6.1.y
# backport): the -common package holds include/linux, reached through the build tree's source.
task_work_header() {
    local kver=$1 f
    for f in "/lib/modules/$kver/source/include/linux/task_work.h" \
        "/lib/modules/$kver/build/include/linux/task_work.h" \
        /usr/src/linux-headers-"${kver%-amd64}"-common/include/linux/task_work.h; do
        [ -r "$f" ] && { echo "$f"; return; }
    done
    die "cannot find include/linux/task_work.h for $kver"
}

# The runtime patch, as sed expressions on runtime/stp_task_work.c. Kernels with
# task_work_cancel_func() (6.1.y since the backport, 6.11+) changed task_work_cancel() to take a
# struct callback_head *; SystemTap 4.8 calls it with a task_work_func_t. The copy resolves and
# calls task_work_cancel_func() instead, which has the old signature.
RUNTIME_PATCH_SED='s/typedef typeof(&task_work_cancel) task_work_cancel_fn;/typedef typeof(\&task_work_cancel_func) task_work_cancel_fn;/
s/kallsyms_lookup_name("task_work_cancel")/kallsyms_lookup_name("task_work_cancel_func")/'

# The transport patch, on runtime/transport/relay_v2.c and transport.c. SystemTap 4.8's runtime
# splits a probe's output across two relay sub-buffers when it does not fit in what is left of
# the current one (and leaves unwritten bytes when not even its 8-byte header fits), and 4.8's
# stapio then loses the framing and silently drops whole buffers: measured in the guest, 551 to
# 1,736 of 2,410 opens of an 8-thread burst came out, with no warning. The copy starts a new
# sub-buffer instead (relay skips the padding), and makes sub-buffers 16 KiB so that every flush
# of the 8 KiB print buffer fits in one. A read switches the sub-buffer being written (so that
# stapio sees partial ones) under the print lock of the reader's CPU: only when that is the
# buffer's CPU, or it races with the writer there.
TRANSPORT_PATCH_SED='s/^\(\t*\)size_request = buf->chan->subbuf_size - buf->offset;$/\1size_request = size_request <= buf->chan->subbuf_size ? __stp_relay_switch_subbuf(buf, size_request) : buf->chan->subbuf_size - buf->offset; \/* trace-tools: no split messages *\/\n\1if (!size_request) return 0;/
s/_stp_subbuf_size = 1 << PAGE_SHIFT;/_stp_subbuf_size = 4 << PAGE_SHIFT; \/* trace-tools: 16 KiB sub-buffers *\//
s/^\(\t*\)if (buf->offset)$/\1if (buf->offset \&\& buf->cpu == smp_processor_id()) \/* trace-tools: only the writer CPU switches *\//'

# Names the runtime a module was built with: SystemTap's full version line (Debian revision
# included) and the patches.
runtime_patch_hash() {
    { stap -V 2>&1 | head -n 1; printf '%s' "$RUNTIME_PATCH_SED" "$TRANSPORT_PATCH_SED"; } | sha256sum | cut -c1-12
}

# Prints the SystemTap runtime directory to pass as `stap -R` for kernel $1: the stock one when
# the kernel needs no patch, else a patched copy under $TT_CACHE (made once, atomically; needs
# write access to $TT_CACHE).
stap_runtime_dir() {
    local kver=$1 stock=/usr/share/systemtap/runtime header ver dir tmp
    [ -d "$stock" ] || die "no $stock: install systemtap (scripts/guest/install.sh)"
    header=$(task_work_header "$kver")
    if ! grep -q 'task_work_cancel_func' "$header"; then
        echo "$stock"
        return
    fi
    ver=$(stap_version)
    [ -n "$ver" ] || die "cannot read stap's version (stap -V)"
    dir="$TT_CACHE/stap-runtime-$ver-$(runtime_patch_hash)"
    if [ ! -e "$dir/.trace-tools-patched" ]; then
        mkdir -p "$TT_CACHE" || die "cannot create $TT_CACHE"
        tmp=$(mktemp -d "$TT_CACHE/.stap-runtime.XXXXXX")
        cp -a "$stock/." "$tmp/"
        sed -i "$RUNTIME_PATCH_SED" "$tmp/stp_task_work.c"
        if ! grep -q 'typeof(&task_work_cancel_func) task_work_cancel_fn' "$tmp/stp_task_work.c" \
            || ! grep -q 'kallsyms_lookup_name("task_work_cancel_func")' "$tmp/stp_task_work.c"; then
            rm -rf "$tmp"
            die "the task_work_cancel_func patch did not apply to $stock/stp_task_work.c (SystemTap $ver): patch it by hand or upgrade SystemTap"
        fi
        sed -i "$TRANSPORT_PATCH_SED" "$tmp/transport/relay_v2.c" "$tmp/transport/transport.c"
        if [ "$(cat "$tmp/transport/relay_v2.c" "$tmp/transport/transport.c" | grep -c 'trace-tools:')" != 3 ]; then
            rm -rf "$tmp"
            die "the transport patch did not apply to $stock/transport (SystemTap $ver)"
        fi
        touch "$tmp/.trace-tools-patched"
        # Atomic: a concurrent run that got there first wins, and its copy is the same.
        if mv -T "$tmp" "$dir" 2>/dev/null; then
            note "patched SystemTap runtime (task_work_cancel_func, transport framing) in $dir"
        else
            rm -rf "$tmp"
            [ -e "$dir/.trace-tools-patched" ] \
                || die "cannot create the patched runtime $dir (remove it if it is a leftover)"
        fi
    fi
    echo "$dir"
}
