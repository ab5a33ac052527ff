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
"

ssb_missing_packages() {
    missing=""
    for p in $SSB_PACKAGES; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing="$missing $p"
        fi
    done
    echo "$missing"
}

ssb_install_deps() {
    missing=$(ssb_missing_packages)
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
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q $missing
}

if [ "${0##*/}" = deps.sh ]; then
    ssb_install_deps
fi
