#!/bin/bash
# A scanout resized on the server is followed: ssb-test-vmm (frames from
# tests/server/test-pattern.h, sent on command) resizes scanout 0 from
# 320x240 to 400x300; the viewer window follows and shows the new frame
# pixel-exact, with GL and with cairo.
# Usage: test-resize.sh VIEWER SSB-TEST-VMM SHOT-CHECK
# Copyright (C) 2026 The spice-sideband authors
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
VIEWER=$1 VMM=$2 CHECK=$3
. "$(dirname "$0")/lib.sh"
start_xvfb

run_mode() {   # run_mode gl|cairo
    local mode=$1 args=() run=("${GL_ENV[@]}" "$VIEWER") seq w h geo
    [ "$mode" = cairo ] && args=(--no-gl) run=("$VIEWER")
    mkfifo "$T/vmm-in-$mode"
    "$VMM" --listen "unix:$T/vmm-$mode.sock" --scanouts 1 --size 320x240 \
        --runtime-dir "$XDG_RUNTIME_DIR" <"$T/vmm-in-$mode" >"$T/vmm-$mode.out" 2>"$T/vmm-$mode.err" &
    PIDS+=($!)
    exec 6>"$T/vmm-in-$mode"
    for _ in $(seq 1 100); do grep -q READY "$T/vmm-$mode.out" && break; sleep 0.1; done
    "${run[@]}" "${args[@]}" "spice+unix://$T/vmm-$mode.sock" >"$T/viewer-$mode.out" 2>"$T/viewer-$mode.err" &
    PIDS+=($!)
    local vpid=$!
    if ! wait_window W '^spice-sideband-viewer 0( |$)'; then
        fail "$mode: no viewer window"; cat "$T/viewer-$mode.err"; exec 6>&-; return
    fi
    sleep 1
    for size in 320x240 400x300; do
        w=${size%x*} h=${size#*x}
        if [ "$size" != 320x240 ]; then
            echo "resize 0 $w $h" >&6
            sleep 0.3
        fi
        echo "submit-all" >&6
        # Poll (bounded, 30 s) rather than sleep: sanitizer builds on a busy
        # machine can take seconds to follow.
        for _ in $(seq 1 150); do
            seq=$(sed -n 's/^submitted 0 \([0-9]*\)$/\1/p' "$T/vmm-$mode.out" | tail -n1)
            geo=$(xdotool getwindowgeometry "$W" | sed -n 's/.*Geometry: //p')
            [ -n "$seq" ] && [ "$geo" = "$size" ] && break
            sleep 0.2
        done
        [ "$geo" = "$size" ] && ok "$mode: window follows the scanout: $geo" ||
            fail "$mode: window is $geo, scanout $size"
        for _ in $(seq 1 60); do
            shot "$W" "$T/resize-$mode-$size.ppm"
            out=$("$CHECK" "$T/resize-$mode-$size.ppm" --vmm "0,$seq,$w,$h") && break
            sleep 0.5
        done
        if out=$("$CHECK" "$T/resize-$mode-$size.ppm" --vmm "0,$seq,$w,$h"); then
            ok "$mode: $out"
        else
            fail "$mode: $out"
        fi
    done
    kill "$vpid"; wait "$vpid" 2>/dev/null
    echo quit >&6
    exec 6>&-
    check_sanitizers "$T/viewer-$mode.err" "$T/vmm-$mode.err"
}
run_mode gl
run_mode cairo
finish
