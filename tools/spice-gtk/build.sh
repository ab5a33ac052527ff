#!/bin/sh
# Builds Debian bookworm's spice-gtk with patches/spice-gtk/ applied: a
# libspice-client-gtk-3.0.so.5 that gives SpiceDisplay (so remote-viewer)
# the sideband.  It links the project's libspice-sideband-client, found
# through the project build's meson-uninstalled/ pkg-config files, and
# Debian's own libspice-client-glib at run time.
#
# Usage: tools/spice-gtk/build.sh [PROJECT-BUILDDIR]   (default: _build/gcc)
#
# Cached in ${SSB_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/spice-sideband}/
# spice-gtk/<source-version>-<hash>/, the hash covering the patches, this
# script and the client library's header and symbol list, so another clone
# on the same machine reuses it.  The Debian source package is kept in
# spice-gtk/src/ there.  Fetching needs deb-src entries (added as root) and
# the build dependencies (installed as root when missing).
#
# Last line of output: LD_LIBRARY_PATH=DIR:CLIENT-DIR, the directory of the
# patched library and of libspice-sideband-client, to put first in the
# library path of a SpiceDisplay program:
#   env LD_LIBRARY_PATH=... remote-viewer spice://HOST:PORT
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
builddir=$(cd "${1:-$top/_build/gcc}" && pwd)
. "$top/scripts/deps.sh"

uninstalled=$builddir/meson-uninstalled
if [ ! -f "$uninstalled/spice-sideband-client-uninstalled.pc" ] ||
   [ ! -e "$builddir/client/libspice-sideband-client.so" ]; then
    echo "spice-gtk: build the project first (meson compile -C $builddir)" >&2
    exit 1
fi

# The version the patched library replaces: the installed one.
version=$(dpkg-query -W -f='${Version}' libspice-client-gtk-3.0-5 2>/dev/null || true)
if [ -z "$version" ]; then
    echo "spice-gtk: libspice-client-gtk-3.0-5 is not installed" >&2
    exit 1
fi
hash=$(cat "$top"/patches/spice-gtk/*.patch "$0" \
           "$top/client/include/spice-sideband/client.h" \
           "$top/client/spice-sideband-client.symbols" | sha256sum | cut -c1-12)
cache_root=${SSB_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/spice-sideband}/spice-gtk
cache=$cache_root/$version-$hash
lib=libspice-client-gtk-3.0.so.5

if [ -f "$cache/done" ]; then
    echo "spice-gtk: cached $cache"
    echo "LD_LIBRARY_PATH=$cache/lib:$builddir/client"
    exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9          # one build at a time; a concurrent one may have finished
if [ -f "$cache/done" ]; then
    echo "spice-gtk: cached $cache"
    echo "LD_LIBRARY_PATH=$cache/lib:$builddir/client"
    exit 0
fi

# spice-gtk 0.42 with gtk + egl, optional features off, plus what the Debian
# library links that changes SpiceDisplay's behaviour (wayland pointer
# constraints, libva for video overlays).
ssb_install_deps meson ninja-build pkg-config dpkg-dev git python3 \
    libglib2.0-dev libgtk-3-dev libepoxy-dev libspice-protocol-dev libpixman-1-dev \
    libssl-dev zlib1g-dev libjson-glib-dev libgstreamer1.0-dev \
    libgstreamer-plugins-base1.0-dev libwayland-dev wayland-protocols libva-dev libx11-dev

src_dir=$cache_root/src/$version
upstream=${version%-*}
if ! ls "$src_dir"/spice-gtk_"$version".dsc >/dev/null 2>&1; then
    ssb_enable_deb_src
    mkdir -p "$src_dir.tmp"
    (cd "$src_dir.tmp" &&
        apt-get -o DPkg::Lock::Timeout=600 source --download-only "spice-gtk=$version")
    rm -rf "$src_dir"
    mv "$src_dir.tmp" "$src_dir"
fi

work=$cache.tmp
rm -rf "$work"
mkdir -p "$work"
start=$(date +%s)
# dpkg-source applies Debian's quilt patches, if any.
dpkg-source --no-check -x "$src_dir/spice-gtk_$version.dsc" "$work/spice-gtk" >/dev/null
(
    cd "$work/spice-gtk"
    git init -q
    git add -A
    git -c user.name=build -c user.email=build@localhost commit -q \
        -m "spice-gtk $version (Debian source, quilt patches applied)"
    # git am: the series must apply as it is mailed.
    for patch in "$top"/patches/spice-gtk/*.patch; do
        [ "${patch##*/}" = 0000-cover-letter.patch ] && continue
        git -c user.name=build -c user.email=build@localhost am -q "$patch"
    done
)

PKG_CONFIG_PATH=$uninstalled${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH} \
nice meson setup "$work/build" "$work/spice-gtk" \
    --prefix=/usr --libdir=lib/x86_64-linux-gnu --buildtype=debugoptimized \
    -Dauto_features=disabled -Dgtk=enabled -Degl=enabled -Dwayland-protocols=enabled \
    -Dsideband=enabled -Dbuiltin-mjpeg=false -Dintrospection=disabled -Dvapi=disabled \
    -Dgtk_doc=disabled -Dusb-acl-helper-dir=/usr/libexec >"$work/setup.log" 2>&1 ||
    { tail -n 40 "$work/setup.log" >&2; exit 1; }
nice ninja -C "$work/build" -j "${SSB_JOBS:-2}" >"$work/build.log" 2>&1 ||
    { tail -n 40 "$work/build.log" >&2; exit 1; }
# installing drops the build tree's RUNPATH
DESTDIR=$work/install meson install -C "$work/build" --no-rebuild --tags runtime \
    >"$work/install.log" 2>&1 || { tail -n 20 "$work/install.log" >&2; exit 1; }
mkdir -p "$work/lib"
cp -P "$work/install/usr/lib/x86_64-linux-gnu/$lib"* "$work/lib/"
(cd "$work/spice-gtk" && git log --oneline) > "$work/series.txt"
echo "$(( $(date +%s) - start ))" > "$work/build-seconds"
rm -rf "$work/spice-gtk" "$work/build" "$work/install" "$work"/spice-gtk_*
rm -rf "$cache"
mv "$work" "$cache"
touch "$cache/done"
echo "spice-gtk: built $cache in $(cat "$cache/build-seconds") s"
echo "LD_LIBRARY_PATH=$cache/lib:$builddir/client"
