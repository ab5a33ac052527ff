#!/bin/sh
# Installs the Debian bookworm packages the project needs, only if missing.
# Sourced-safe and idempotent: a second run with everything present does not
# touch apt at all.  Must run as root when something is missing.
set -eu

SSB_PACKAGES="
build-essential meson ninja-build pkg-config clang libfuzzer-14-dev
libglib2.0-dev libspice-server-dev libspice-protocol-dev
libspice-client-glib-2.0-dev libspice-client-gtk-3.0-dev libgtk-3-dev
libepoxy-dev libdrm-dev libpixman-1-dev libgdk-pixbuf-2.0-dev
libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
gstreamer1.0-plugins-ugly gstreamer1.0-libav
xvfb xauth xdotool imagemagick spice-client-gtk virt-viewer
python3 valgrind procps
qemu-system-x86 busybox-static cpio kmod xz-utils
libvirglrenderer-dev libegl-dev libegl-mesa0 libgl1-mesa-dri
gnuplot-nox
"

# Prints those of the named packages (default: $SSB_PACKAGES) not installed.
ssb_missing_packages() {
    missing=""
    for p in ${*:-$SSB_PACKAGES}; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing="$missing $p"
        fi
    done
    echo "$missing"
}

# Installs the named packages (default: $SSB_PACKAGES) that are missing.
ssb_install_deps() {
    missing=$(ssb_missing_packages "$@")
    if [ -z "$missing" ]; then
        echo "deps: all packages present"
        return 0
    fi
    echo "deps: installing:$missing"
    if [ "$(id -u)" != 0 ]; then
        echo "deps: missing packages and not root; run as root (apt-get install$missing)" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -q
    # shellcheck disable=SC2086
    apt-get -o DPkg::Lock::Timeout=600 install -y -q $missing
}

# Makes `apt-get source` work: adds deb-src entries mirroring the machine's
# Debian deb822 sources (once) and refreshes the lists.
ssb_enable_deb_src() {
    list=/etc/apt/sources.list.d/spice-sideband-src.sources
    [ -f "$list" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "deps: deb-src entries needed and not root" >&2
        return 1
    fi
    src=/etc/apt/sources.list.d/debian.sources
    if [ -f "$src" ]; then
        sed -n '/^Types:/s/.*/Types: deb-src/p; /^URIs:/p; /^Suites:/p; /^Components:/p; /^Signed-By:/p; /^$/p' \
            "$src" > "$list.tmp"
    else
        printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n' \
            > "$list.tmp"
    fi
    mv "$list.tmp" "$list"
    apt-get -o DPkg::Lock::Timeout=600 update -q
}

if [ "${0##*/}" = deps.sh ]; then
    ssb_install_deps
fi
