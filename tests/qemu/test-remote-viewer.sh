#!/bin/bash
# Debian's own remote-viewer against the patched QEMU (tools/qemu/build.sh)
# running the two-head test guest with -spice unix=on,...,sideband=on, under
# Xvfb:
#   - stock: Debian's libraries, so the standard display channels: one
#     window per head, each showing its own head's stamp, moving;
#   - sideband: the patched libspice-client-gtk (tools/spice-gtk/build.sh)
#     first in the library path: the library is mapped, it reports the
#     shared-memory path for both heads, and the same windows show each
#     head's stamp, moving;
#   - SPICE_SIDEBAND=0 with the patched library: back on the display
#     channels, the same pictures.
#
# Usage: test-remote-viewer.sh BUILDDIR SANITIZE GUESTDIR STAMP-FIND SPICE-GTK-BUILD-SH
# Copyright (C) 2026 The spice-sideband authors
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

BUILDDIR=$1 SANITIZE=$2 GUESTDIR=$3 STAMP_FIND=$4 SPICE_GTK_BUILD_SH=$5
top=$(cd "$(dirname "$0")/../.." && pwd)
W=640 H=480

if [ "$SANITIZE" != none ]; then
    # Neither QEMU nor Debian's remote-viewer can load this build's
    # ASan-instrumented libraries; the plain build runs this test.
    echo "SKIP: $SANITIZE build; this test runs in the plain build"
    exit 77
fi
command -v remote-viewer >/dev/null || { echo "SKIP: remote-viewer not installed"; exit 77; }

# The builds first: lib.sh points HOME (and so the default cache) at a
# temporary directory.
qemu=$(SSB_SIDEBAND_PKG_CONFIG_PATH=$BUILDDIR/meson-uninstalled "$top/tools/qemu/build.sh" | tail -n 1) ||
    { echo "FAIL: tools/qemu/build.sh"; exit 1; }
if ! out=$("$SPICE_GTK_BUILD_SH" "$BUILDDIR" 2>&1); then
    printf '%s\n' "$out" | tail -n 30
    echo "FAIL: tools/spice-gtk/build.sh"
    exit 1
fi
LIBPATH=$(printf '%s\n' "$out" | sed -n 's/^LD_LIBRARY_PATH=//p' | tail -n1)
PATCHED=${LIBPATH%%:*}/libspice-client-gtk-3.0.so.5
"$top/tests/guest/build-guest.sh" "$GUESTDIR" >/dev/null || { echo "FAIL: build-guest.sh"; exit 1; }

. "$top/tests/widget/lib.sh"
export LD_LIBRARY_PATH=$BUILDDIR/server:$BUILDDIR/protocol${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

start_xvfb
"$top/tests/guest/run-guest.sh" --qemu "$qemu" --size ${W}x${H} --serial "file:$T/console" \
    --spice "unix=on,addr=$T/spice.sock,disable-ticketing=on,sideband=on" \
    "$GUESTDIR" -- -name ssb-guest >"$T/qemu.log" 2>&1 &
QEMU_PID=$!
PIDS+=($QEMU_PID)
for _ in $(seq 1 100); do [ -S "$T/spice.sock" ] && break; sleep 0.1; done
[ -S "$T/spice.sock" ] || { echo "FAIL: QEMU did not listen"; cat "$T/qemu.log"; exit 1; }

RV_PID=
# start_viewer LABEL LIBRARY-PATH [VAR=VALUE...]: remote-viewer on the
# guest; waits for both heads' windows and puts them side by side.
start_viewer() {
    local label=$1 libpath=$2
    shift 2
    RVLOG=$T/rv-$label.log
    env LD_LIBRARY_PATH="$libpath" G_MESSAGES_DEBUG=GSpice "$@" \
        /usr/bin/remote-viewer "spice+unix://$T/spice.sock" >"$RVLOG" 2>&1 &
    RV_PID=$!
    PIDS+=($RV_PID)
    W1= W2=
    for _ in $(seq 1 300); do
        W1=$(window_of '^ssb-guest \(1\)')
        W2=$(window_of '^ssb-guest \(2\)')
        [ -n "$W1" ] && [ -n "$W2" ] && break
        sleep 0.1
    done
    if [ -z "$W1" ] || [ -z "$W2" ]; then
        fail "$label: remote-viewer did not open a window per head"
        tail -n 20 "$RVLOG"
        return 1
    fi
    xdotool windowmove "$W1" 0 0
    xdotool windowmove "$W2" 640 0
    ok "$label: a window per head"
}

stop_viewer() {
    kill "$RV_PID" 2>/dev/null
    wait "$RV_PID" 2>/dev/null
    RV_PID=
    sleep 0.3   # spice-server replaces a session; let the old one go
}

# seqs: from one screenshot, "SEQ0 SEQ1" of the stamps of head 0 in the
# left window and head 1 in the right one; fails unless both are there.
seqs() {
    local out s0= s1= line x s
    import -window root -depth 8 "ppm:$T/shot.ppm" 2>>"$T/import.log" || return 1
    out=$("$STAMP_FIND" "$T/shot.ppm") || return 1
    while read -r line; do
        x=$(sed -n 's/.* x=\([0-9]*\) .*/\1/p' <<<"$line")
        s=$(sed -n 's/.* scanout=\([0-9]*\) .*/\1/p' <<<"$line")
        [ -n "$x" ] || continue
        if [ "$s" = 0 ] && [ "$x" -lt 640 ]; then s0=$(sed -n 's/.* seq=\([0-9]*\).*/\1/p' <<<"$line"); fi
        if [ "$s" = 1 ] && [ "$x" -ge 640 ]; then s1=$(sed -n 's/.* seq=\([0-9]*\).*/\1/p' <<<"$line"); fi
    done <<<"$(grep '^stamp' <<<"$out")"
    [ -n "$s0" ] && [ -n "$s1" ] && echo "$s0 $s1"
}

# expect_heads LABEL: both windows show their own head and both move.
expect_heads() {
    local first= now a b
    for _ in $(seq 1 40); do
        if now=$(seqs); then
            if [ -z "$first" ]; then
                first=$now
            else
                read -r a b <<<"$first"
                set -- $now
                if [ "$1" -gt "$a" ] && [ "$2" -gt "$b" ]; then
                    ok "$LABEL: head 0 seq $a -> $1, head 1 seq $b -> $2"
                    return 0
                fi
            fi
        fi
        sleep 0.5
    done
    fail "$LABEL: both heads' stamps, moving, not seen (first: ${first:-none}, last: ${now:-none})"
    [ -n "${WIDGET_TEST_SCREENSHOTS:-}" ] && mkdir -p "$WIDGET_TEST_SCREENSHOTS" &&
        convert "$T/shot.ppm" "$WIDGET_TEST_SCREENSHOTS/qemu-remote-viewer-$LABEL.png"
    return 1
}

expect_log() {   # expect_log LABEL REGEX
    for _ in $(seq 1 100); do
        grep -Eq "$2" "$RVLOG" && { ok "$1: $(grep -E -m1 -o "$2" "$RVLOG")"; return 0; }
        sleep 0.1
    done
    fail "$1: no log line matching '$2'"
    grep -i sideband "$RVLOG" | tail -n 10 | sed 's/^/#   /'
}

# --- Debian's remote-viewer and libraries: the standard display channels ------
LABEL=stock
if start_viewer stock "${LD_LIBRARY_PATH}"; then
    expect_heads
    grep -q ' sideband: ' "$RVLOG" && fail "stock: the stock library spoke of a sideband"
    stop_viewer
fi

# --- the patched library: the sideband, shared memory ----------------------------
LABEL=sideband
if start_viewer sideband "$LIBPATH:$LD_LIBRARY_PATH"; then
    if grep -q " ${PATCHED%.so.5}.so" "/proc/$RV_PID/maps"; then
        ok "sideband: remote-viewer runs the patched $PATCHED"
    else
        fail "sideband: $PATCHED is not mapped in remote-viewer"
    fi
    expect_log sideband 'sideband: display 0:0 path shm'
    expect_log sideband 'sideband: display 1:0 path shm'
    expect_heads
    stop_viewer
fi

# --- the patched library with SPICE_SIDEBAND=0: the display channels again ------
LABEL=off
if start_viewer off "$LIBPATH:$LD_LIBRARY_PATH" SPICE_SIDEBAND=0; then
    expect_log off 'sideband: off \(SPICE_SIDEBAND=0\)'
    expect_heads
    grep -q 'path shm' "$RVLOG" && fail "off: the sideband was used anyway"
    stop_viewer
fi

kill -0 "$QEMU_PID" 2>/dev/null || { fail "QEMU exited early"; cat "$T/qemu.log"; }
finish
