#!/bin/sh
# Builds the test guest: Debian bookworm's current kernel, unpacked to an
# uncompressed vmlinux (QEMU boots it through PVH), and a busybox initramfs
# with the virtio-gpu modules and guest-draw.  See tests/guest/README.md.
#
# Usage: tests/guest/build-guest.sh OUTDIR
#
# Writes into OUTDIR:
#   vmlinux             symlink to the cached kernel
#   initramfs.cpio.gz   symlink to the cached initramfs
#   cmdline             the default kernel command line (two 1024x768 heads)
#   kernel-version      e.g. "linux-image-6.1.0-57-amd64 6.1.192-3"
# and prints "vmlinux PATH" and "initramfs PATH".
#
# Results are cached under ${SSB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/spice-sideband}/guest/,
# the kernel by package and version, the initramfs also by a hash of the
# guest's sources, so a second run (from any checkout) only makes the links.
# SSB_GUEST_KERNEL names another kernel package than the one
# linux-image-amd64 depends on.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
outdir=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
guest=$top/tests/guest
cache=${SSB_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/spice-sideband}/guest

. "$top/scripts/deps.sh"
# gcc and libc6-dev for a static guest-draw, libdrm-dev for the kernel's DRM
# uAPI headers, xz-utils and gzip to unpack the kernel, kmod for depmod and
# modprobe --show-depends; qemu-system-x86 runs the result.
ssb_install_deps gcc libc6-dev libdrm-dev busybox-static cpio gzip xz-utils kmod \
    qemu-system-x86 >&2

log() { echo "build-guest: $*" >&2; }

# ---- which kernel --------------------------------------------------------

# Prints "PACKAGE VERSION" of the kernel to use.  One apt-cache call when
# the metapackage pins its kernel's version, as Debian's do.
kernel_package() {
    pkg=${SSB_GUEST_KERNEL:-}
    if [ -z "$pkg" ]; then
        pinned=$(apt-cache show --no-all-versions linux-image-amd64 2> /dev/null |
            sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*\) (= \([^)]*\)).*/\1 \2/p' |
            head -n 1)
        if [ -n "$pinned" ]; then
            echo "$pinned"
            return
        fi
        pkg=$(apt-cache depends linux-image-amd64 2> /dev/null |
            sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
    fi
    [ -n "$pkg" ] || return 0
    ver=$(apt-cache show --no-all-versions "$pkg" 2> /dev/null | sed -n 's/^Version: //p' |
        head -n 1)
    [ -z "$ver" ] || echo "$pkg $ver"
}

kernel=$(kernel_package)
if [ -z "$kernel" ] && [ "$(id -u)" = 0 ]; then
    apt-get -o DPkg::Lock::Timeout=600 update -q >&2
    kernel=$(kernel_package)
fi
[ -n "$kernel" ] || { log "cannot resolve the kernel package (apt-get update as root)"; exit 1; }
kpkg=${kernel% *}
kver=${kernel#* }
kdir=$cache/kernel-$kpkg-$kver

mkdir -p "$cache"
tmp=
trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT
# One builder at a time (the gcc and ASan test builds may start together).
exec 9> "$cache/lock"
flock 9

# ---- kernel: vmlinux and the modules -------------------------------------

is_elf() {
    [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]
}

decompress() { # format
    case $1 in
    xz) xz -dc --single-stream ;;
    gzip) gzip -dc ;;
    zstd) zstd -dc ;;
    esac
}

# The kernel tree's scripts/extract-vmlinux: try every compressed stream
# start in the bzImage until one unpacks to an ELF file.
extract_vmlinux() { # vmlinuz out
    for fmt in xz gzip zstd; do
        case $fmt in
        xz) magic='\xfd7zXZ\x00' ;;
        gzip) magic='\x1f\x8b\x08' ;;
        zstd) magic='\x28\xb5\x2f\xfd' ;;
        esac
        command -v "$fmt" > /dev/null || continue
        for off in $(LC_ALL=C grep -aboP "$magic" "$1" | cut -d: -f1); do
            tail -c "+$((off + 1))" "$1" | decompress "$fmt" > "$2" 2> /dev/null || true
            if is_elf "$2"; then
                return 0
            fi
        done
    done
    return 1
}

build_kernel() {
    tmp=$(mktemp -d "$cache/kernel.XXXXXX")
    log "downloading $kpkg $kver"
    (cd "$tmp" && apt-get -q download "$kpkg=$kver" >&2)
    deb=$(ls "$tmp"/*.deb)
    log "$(du -k "$deb" | cut -f1) KiB; unpacking"
    mkdir "$tmp/root"
    dpkg-deb -x "$deb" "$tmp/root"
    rm -f "$deb"
    release=$(ls "$tmp/root/lib/modules")
    depmod -b "$tmp/root" "$release"

    mkdir -p "$tmp/out/modules"
    extract_vmlinux "$tmp/root/boot/vmlinuz-$release" "$tmp/out/vmlinux" ||
        { log "no vmlinux in vmlinuz-$release"; exit 1; }
    # virtio_pci finds the device, virtio-gpu drives it; keep their
    # dependency closure in load order (duplicates dropped).
    modprobe -d "$tmp/root" -S "$release" --show-depends -a virtio_pci virtio-gpu |
        sed -n 's|^insmod .*/lib/modules/[^/]*/||p' | sed 's/ *$//' |
        awk '!seen[$0]++' > "$tmp/out/load-order"
    while read -r mod; do
        mkdir -p "$tmp/out/modules/$(dirname "$mod")"
        cp "$tmp/root/lib/modules/$release/$mod" "$tmp/out/modules/$mod"
    done < "$tmp/out/load-order"
    echo "$release" > "$tmp/out/release"
    rm -rf "$tmp/root" "$kdir"
    mv "$tmp/out" "$kdir"
    rmdir "$tmp"
    tmp=
}

if [ ! -f "$kdir/release" ]; then
    build_kernel
fi

# ---- initramfs -----------------------------------------------------------

sources="$guest/build-guest.sh $guest/init $guest/guest-draw.c $top/common/pattern.c
$top/common/pattern.h $top/protocol/include/spice-sideband/proto.h"
busybox_version=$(dpkg-query -W -f='${Version}' busybox-static)
# shellcheck disable=SC2086
hash=$( (cat $sources; echo "$busybox_version"; gcc --version | head -n 1) |
    sha256sum | cut -c1-16)
initramfs=$kdir/initramfs-$hash.cpio.gz

build_initramfs() {
    tmp=$(mktemp -d "$cache/initramfs.XXXXXX")
    root=$tmp/root
    mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/lib/modules"
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(/bin/busybox --list); do
        [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
    done
    # shellcheck disable=SC2046
    gcc -static -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
        -Wno-missing-field-initializers -I"$top/common" -I"$top/protocol/include" \
        $(pkg-config --cflags libdrm) \
        "$guest/guest-draw.c" "$top/common/pattern.c" -lm -o "$root/bin/guest-draw"
    strip "$root/bin/guest-draw"
    cp "$guest/init" "$root/init"
    chmod 755 "$root/init"
    cp -r "$kdir/modules/." "$root/lib/modules/"
    cp "$kdir/load-order" "$root/lib/modules/load-order"
    (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
        gzip -1 > "$tmp/initramfs.cpio.gz"
    mv "$tmp/initramfs.cpio.gz" "$initramfs"
    rm -rf "$tmp"
    tmp=
}

if [ ! -f "$initramfs" ]; then
    log "building initramfs $hash"
    build_initramfs
    # Other checkouts' images stay a while; old ones go.
    find "$kdir" -name 'initramfs-*.cpio.gz' -mtime +30 -delete
fi
exec 9>&-

mkdir -p "$outdir"
ln -sf "$kdir/vmlinux" "$outdir/vmlinux"
ln -sf "$initramfs" "$outdir/initramfs.cpio.gz"
echo "console=ttyS0 quiet panic=-1 video=Virtual-1:1024x768e video=Virtual-2:1024x768e" \
    > "$outdir/cmdline"
echo "$kpkg $kver" > "$outdir/kernel-version"
echo "vmlinux $outdir/vmlinux"
echo "initramfs $outdir/initramfs.cpio.gz"
