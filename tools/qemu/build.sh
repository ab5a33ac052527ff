#!/bin/sh
# Builds Debian bookworm's QEMU 7.2 with the patches/qemu series applied:
# a minimal qemu-system-x86_64 (spice, opengl, kvm/tcg) linked against
# libspice-sideband-server, found with pkg-config.
#
# The build lives in a cache keyed by the Debian source version and a hash
# of the series and of the library's public headers, so a second run (or a
# fresh clone on the same machine) is instant:
#   ${SSB_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/spice-sideband}/qemu/<version>-<hash>/
#
# SSB_SIDEBAND_PKG_CONFIG_PATH: where spice-sideband-server.pc (or its
# -uninstalled variant, e.g. BUILDDIR/meson-uninstalled) is; default: the
# system's pkg-config path (an installed library).  The binary gets a
# RUNPATH to the library's directory; LD_LIBRARY_PATH overrides it.
#
# Also builds QEMU's unit test of the series, tests/unit/test-spice-sideband
# in the same build directory.  Prints the path of qemu-system-x86_64 as its
# last line.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/deps.sh"

cache=${SSB_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/spice-sideband}/qemu
# Debian's own python3, meson and ninja: QEMU's configure rejects others.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

log() { echo "qemu-build: $*" >&2; }

fetch_source() {
    dl=$cache/source
    if ! ls "$dl"/qemu_*.dsc >/dev/null 2>&1; then
        ssb_install_deps dpkg-dev >&2
        ssb_enable_deb_src >&2
        rm -rf "$dl.tmp" && mkdir -p "$dl.tmp"
        (cd "$dl.tmp" && apt-get -o DPkg::Lock::Timeout=600 source --download-only qemu) >&2
        rm -rf "$dl" && mv "$dl.tmp" "$dl"
    fi
    ls "$dl"/qemu_*.dsc | head -n 1
}

ssb_install_deps dpkg-dev libfdt-dev libglib2.0-dev libpixman-1-dev \
    libspice-server-dev libspice-protocol-dev libepoxy-dev libgbm-dev \
    meson ninja-build python3 seabios qemu-system-data >&2
mkdir -p "$cache"
dsc=$(fetch_source)
version=$(sed -n 's/^Version: //p' "$dsc")
version=${version#*:}  # no epoch: configure refuses colons in paths
hash=$(cat "$top"/patches/qemu/*.patch \
           "$top/server/include/spice-sideband/server.h" \
           "$top/protocol/include/spice-sideband/proto.h" | sha256sum | cut -c1-12)
dir=$cache/$version-$hash
bin=$dir/build/qemu-system-x86_64

if [ -f "$dir/done" ] && [ -x "$bin" ]; then
    log "cached: $dir"
    echo "$bin"
    exit 0
fi

if [ ! -f "$dir/src/.patched" ]; then
    log "unpacking $version and applying the series"
    rm -rf "$dir"
    mkdir -p "$dir"
    dpkg-source --no-check -x "$dsc" "$dir/src" >&2
    for p in "$top"/patches/qemu/0*.patch; do
        case $p in */0000-cover-letter.patch) continue ;; esac
        patch -d "$dir/src" -p1 -s --no-backup-if-mismatch < "$p"
    done
    touch "$dir/src/.patched"
fi

if [ -n "${SSB_SIDEBAND_PKG_CONFIG_PATH:-}" ]; then
    PKG_CONFIG_PATH=$SSB_SIDEBAND_PKG_CONFIG_PATH${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
    export PKG_CONFIG_PATH
fi
if ! pkg-config --exists spice-sideband-server; then
    log "spice-sideband-server not found by pkg-config; install the library or set SSB_SIDEBAND_PKG_CONFIG_PATH"
    exit 1
fi
rpath=""
for l in $(pkg-config --libs-only-L spice-sideband-server spice-sideband-proto); do
    rpath="$rpath -Wl,-rpath,${l#-L}"
done

mkdir -p "$dir/build"
cd "$dir/build"
if [ ! -f build.ninja ]; then
    log "configuring"
    ../src/configure --target-list=x86_64-softmmu --without-default-features \
        --enable-fdt=system --enable-kvm --enable-tcg --enable-spice \
        --enable-spice-protocol --enable-spice-sideband --enable-opengl \
        --enable-gio --disable-docs --disable-tools --disable-install-blobs \
        --meson=/usr/bin/meson --extra-ldflags="-Wl,--enable-new-dtags$rpath" >&2
fi
log "building (ninja -j2 qemu-system-x86_64 tests/unit/test-spice-sideband)"
nice ninja -j2 qemu-system-x86_64 tests/unit/test-spice-sideband >&2
touch "$dir/done"
echo "$bin"
