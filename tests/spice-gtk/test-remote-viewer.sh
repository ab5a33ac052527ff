#!/bin/bash
# Debian's own remote-viewer with the patched libspice-client-gtk first in
# the library path (tools/spice-gtk/build.sh, cached), against
# spice-sideband-demo --tag-sideband under Xvfb.  The demo puts a tag (a
# white and a black square, top right) on its sideband frames only, so a
# screenshot tells the sideband's picture from the display channel's:
#   - unix socket: the patched library is loaded, each head's window shows
#     the tag and a moving stamp, the log says "path shm"; a click and keys
#     reach the demo on the right display and its crosshair shows up in the
#     sideband picture;
#   - the demo stops its sideband (SIGUSR2): the same windows fall back to
#     the display channels' pictures (no tag, still moving), path none;
#   - SPICE_SIDEBAND=0: same windows, stamps moving, no tag (display
#     channel), "sideband: off" in the log; input still reaches the demo;
#   - TCP with SPICE_SIDEBAND=remote: the remote path, "path video", the
#     tag through the video codec;
#   - a SpiceDisplay of the patched library in a program of its own: its
#     "sideband" property turns the sideband off and on again, and
#     "sideband-path" reports none / shm.
#
# Usage: test-remote-viewer.sh BUILD-SH PROJECT-BUILDDIR DEMO STAMP-FIND DISPLAY-PATH
# Skips (77) without remote-viewer or Xvfb, and in sanitizer builds.
# Copyright (C) 2026 The spice-sideband authors
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

BUILD_SH=$1 BUILDDIR=$2 DEMO=$3 STAMP_FIND=$4 DISPLAY_PATH=$5
W=400 H=300

if [ -n "${SSB_SANITIZED:-}" ]; then
    # Debian's remote-viewer is not built with ASan: it cannot load the
    # sanitized libspice-sideband-client of this build.
    echo "SKIP: sanitizer build (remote-viewer cannot load ASan libraries)"
    exit 77
fi
for tool in remote-viewer Xvfb; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

# Before lib.sh, which points HOME (so the default cache) at a temporary dir.
if ! out=$("$BUILD_SH" "$BUILDDIR" 2>&1); then
    printf '%s\n' "$out" | tail -n 30
    echo "FAIL: tools/spice-gtk/build.sh"
    exit 1
fi
printf '%s\n' "$out" | sed 's/^/# /'
LIBPATH=$(printf '%s\n' "$out" | sed -n 's/^LD_LIBRARY_PATH=//p' | tail -n1)
PATCHED=${LIBPATH%%:*}/libspice-client-gtk-3.0.so.5

. "$(dirname "$0")/../widget/lib.sh"

start_xvfb
EVENTS=$T/events.jsonl
"$DEMO" --scanouts 2 --size ${W}x${H} --fps 30 --damage 10 --tag-sideband \
    --listen "unix:$T/spice.sock" --listen tcp:127.0.0.1:0 --event-log "$EVENTS" \
    >"$T/demo.out" 2>"$T/demo.err" &
DEMO_PID=$!
PIDS+=($DEMO_PID)
for _ in $(seq 1 100); do
    [ "$(grep -c 'listening on' "$T/demo.out" 2>/dev/null)" = 2 ] && break
    sleep 0.1
done
UNIX_URI=$(sed -n 's/^spice-sideband-demo: listening on \(spice+unix:.*\)$/\1/p' "$T/demo.out")
TCP_URI=$(sed -n 's/^spice-sideband-demo: listening on \(spice:.*\)$/\1/p' "$T/demo.out")
[ -n "$UNIX_URI" ] && [ -n "$TCP_URI" ] ||
    { echo "FAIL: demo did not start"; cat "$T/demo.err"; exit 1; }

RV_PID=
# start_viewer LABEL URI [VAR=VALUE...]: Debian's remote-viewer on the
# patched library; waits for both windows, puts them side by side.
start_viewer() {
    local label=$1 uri=$2
    shift 2
    env LD_LIBRARY_PATH="$LIBPATH" G_MESSAGES_DEBUG=GSpice "$@" \
        /usr/bin/remote-viewer "$uri" >"$T/rv-$label.log" 2>&1 &
    RV_PID=$!
    PIDS+=($RV_PID)
    RVLOG=$T/rv-$label.log
    W1= W2=
    for _ in $(seq 1 300); do
        W1=$(window_of '^spice-sideband-demo \(1\)$')
        W2=$(window_of '^spice-sideband-demo \(2\)$')
        [ -n "$W1" ] && [ -n "$W2" ] && break
        sleep 0.1
    done
    if [ -z "$W1" ] || [ -z "$W2" ]; then
        fail "$label: remote-viewer windows did not appear"; cat "$RVLOG"; return 1
    fi
    xdotool windowmove "$W1" 0 0
    xdotool windowmove "$W2" 640 0
    if grep -q " ${PATCHED%.so.5}.so" "/proc/$RV_PID/maps"; then
        ok "$label: remote-viewer runs the patched $PATCHED"
    else
        fail "$label: $PATCHED is not mapped in remote-viewer"
    fi
}

stop_viewer() {
    kill "$RV_PID" 2>/dev/null
    wait "$RV_PID" 2>/dev/null
    RV_PID=
    sleep 0.3   # spice-server replaces a session; let the old one go
}

expect_log() {   # expect_log LABEL REGEX
    for _ in $(seq 1 100); do
        grep -Eq "$2" "$RVLOG" && { ok "$1: $(grep -E -m1 -o "$2" "$RVLOG")"; return 0; }
        sleep 0.1
    done
    fail "$1: no log line matching '$2'"
    grep -i sideband "$RVLOG" | tail -n 10 | sed 's/^/#   /'
}

field() {   # field NAME LINE
    sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}

channel() {   # channel HEX SHIFT: one 8-bit channel of RRGGBB
    echo $(( (16#$1 >> $2) & 255 ))
}
near() {   # near HEX white|black: every channel within 0x30 of it
    local c v
    for c in 16 8 0; do
        v=$(channel "$1" $c)
        if [ "$2" = white ]; then [ "$v" -ge 207 ] || return 1; else [ "$v" -le 48 ] || return 1; fi
    done
}

# look LABEL: one screenshot; sets SX0 SY0 SX1 SY1 SEQ0 (stamps of scanouts
# 0 and 1, in the left and the right window) and TAG0 TAG1 (yes/no: the tag
# is on that scanout's picture).  Returns 1 unless both stamps are there.
look() {
    local out line s x y tag
    import -window root -depth 8 "ppm:$T/shot.ppm" 2>>"$T/import.log" || return 1
    out=$("$STAMP_FIND" "$T/shot.ppm") || return 1
    SX0= SX1= SEQ0= TAG0= TAG1=
    while read -r line; do
        s=$(field scanout "$line"); x=$(field x "$line"); y=$(field y "$line")
        [ -n "$x" ] && [ "$x" -lt $((1280 - W)) ] || continue
        local px
        px=$("$STAMP_FIND" "$T/shot.ppm" $((x + W - 32)),$((y + 16)) $((x + W - 16)),$((y + 16)) |
             sed -n 's/^pixel [0-9]* [0-9]* //p' | tr '\n' ' ')
        set -- $px
        if [ $# = 2 ] && near "$1" white && near "$2" black; then tag=yes; else tag=no; fi
        case "$s" in
            0) SX0=$x SY0=$y SEQ0=$(field seq "$line") TAG0=$tag ;;
            1) SX1=$x SY1=$y TAG1=$tag ;;
        esac
    done <<<"$(grep '^stamp' <<<"$out")"
    [ -n "$SX0" ] && [ -n "$SX1" ] && [ "$SX0" -lt 640 ] && [ "$SX1" -ge 640 ]
}

# expect_picture LABEL yes|no: both windows show their scanout with (yes)
# or without (no) the sideband's tag, and the picture moves.  Retries for
# up to 10 s while frames are on their way.
expect_picture() {
    local seq_a=
    for _ in $(seq 1 20); do
        if look && [ "$TAG0" = "$2" ] && [ "$TAG1" = "$2" ]; then
            [ -z "$seq_a" ] && seq_a=$SEQ0
            [ "$SEQ0" -gt "$seq_a" ] && {
                ok "$1: both windows show their scanout, tag=$2, seq $seq_a -> $SEQ0"
                return 0
            }
        fi
        sleep 0.5
    done
    fail "$1: expected both scanouts with tag=$2 and moving; last: scanout 0 at ${SX0:-?},${SY0:-?} tag ${TAG0:-?}, scanout 1 at ${SX1:-?},${SY1:-?} tag ${TAG1:-?}"
    [ -n "${WIDGET_TEST_SCREENSHOTS:-}" ] && mkdir -p "$WIDGET_TEST_SCREENSHOTS" &&
        convert "$T/shot.ppm" "$WIDGET_TEST_SCREENSHOTS/remote-viewer-$1.png"
    return 1
}

# expect_input LABEL: a click and two keys on display 1 reach the demo.
expect_input() {
    local label=$1
    EV_FROM=$(( $(wc -l <"$EVENTS") + 1 ))
    xdotool mousemove $((SX1 + 300)) $((SY1 + 200)); sleep 0.3
    xdotool click 1; sleep 0.3
    expect_event "$EVENTS" "$label: click on display 1" \
        '"type":"button","display":1,"source":"agent","x":300,"y":200,"buttons":1\}'
    xdotool windowfocus "$W2"; sleep 0.3
    xdotool type --delay 60 ab; sleep 0.3
    expect_event "$EVENTS" "$label: key a on display 1" '"type":"key","display":1,.*"scancode":30,"down":true'
    expect_event "$EVENTS" "$label: key b on display 1" '"type":"key","display":1,.*"scancode":48,"down":true'
}

# expect_crosshair LABEL: the demo's crosshair at (300, 200) of scanout 1
# (white column x-1, black column x) is on screen.
expect_crosshair() {
    local px
    for _ in $(seq 1 20); do
        import -window root -depth 8 "ppm:$T/shot.ppm" 2>>"$T/import.log"
        px=$("$STAMP_FIND" "$T/shot.ppm" $((SX1 + 299)),$((SY1 + 250)) $((SX1 + 300)),$((SY1 + 250)) |
             sed -n 's/^pixel [0-9]* [0-9]* //p' | tr '\n' ' ')
        [ "$px" = "ffffff 000000 " ] && { ok "$1: crosshair on scanout 1"; return 0; }
        sleep 0.5
    done
    fail "$1: no crosshair at scanout 1 (300, 250): $px"
}

# --- unix socket: local path, shared memory -----------------------------------
if start_viewer shm "$UNIX_URI"; then
    expect_log "shm" 'sideband: display 0:0 path shm'
    expect_log "shm" 'sideband: display 1:0 path shm'
    if expect_picture "shm" yes; then
        expect_input "shm"
        expect_crosshair "shm"
        look && [ "$TAG1" = yes ] && ok "shm: crosshair drawn on the sideband picture" ||
            fail "shm: the picture with the crosshair is not the sideband's"
    fi
    # The sideband goes away (the demo removes its port and local socket):
    # the same windows go on with the display channels' pictures.
    kill -USR2 "$DEMO_PID"
    expect_log "fallback" 'sideband: display 0:0 path none'
    expect_log "fallback" 'sideband: display 1:0 path none'
    expect_picture "fallback" no
    kill -0 "$RV_PID" 2>/dev/null && ok "fallback: remote-viewer still runs" ||
        fail "fallback: remote-viewer exited"
    stop_viewer
    kill -USR2 "$DEMO_PID"   # a new sideband for the cases below
    for _ in $(seq 1 50); do grep -q 'sideband started' "$T/demo.err" && break; sleep 0.1; done
    grep -q 'sideband started' "$T/demo.err" && ok "demo: sideband started again" ||
        fail "demo: the sideband did not start again"
fi

# --- SPICE_SIDEBAND=0: the display channels ------------------------------------
if start_viewer off "$UNIX_URI" SPICE_SIDEBAND=0; then
    expect_log "off" 'sideband: off \(SPICE_SIDEBAND=0\)'
    if expect_picture "off" no; then
        expect_input "off"
        expect_crosshair "off"
    fi
    grep -q 'path shm' "$RVLOG" && fail "off: the sideband was used anyway"
    stop_viewer
fi

# --- TCP, SPICE_SIDEBAND=remote: remote path, encoded video ----------------------
# (on this host the local socket is reachable over TCP too)
if start_viewer video "$TCP_URI" SPICE_SIDEBAND=remote; then
    expect_log "video" 'sideband: display 0:0 path video'
    expect_log "video" 'sideband: display 1:0 path video'
    expect_picture "video" yes
    stop_viewer
fi

# --- the widget's properties ------------------------------------------------------
if env LD_LIBRARY_PATH="$LIBPATH" "$DISPLAY_PATH" "$UNIX_URI" >"$T/display-path.log" 2>&1; then
    sed -n 's/^ok: /ok: properties: /p' "$T/display-path.log"
else
    fail "properties: $(tail -n 3 "$T/display-path.log" | tr '\n' ' ')"
fi

kill -TERM "$DEMO_PID"
wait "$DEMO_PID"
rc=$?
[ "$rc" = 0 ] && ok "demo exited 0" || { fail "demo exit status $rc"; cat "$T/demo.err"; }
grep -q "client connected (unix)" "$T/demo.err" && grep -q "client connected (tcp)" "$T/demo.err" ||
    fail "demo did not see both a unix and a TCP client"
if [ "$failures" -ne 0 ]; then
    for f in "$T"/rv-*.log; do
        echo "# $f:"; grep -v '^$' "$f" | tail -n 15 | sed 's/^/#   /'
    done
fi
finish
