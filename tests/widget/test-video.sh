#!/bin/bash
# The remote path (--force-remote): decoded video frames shown by the widget
# must keep the reference bars at PSNR >= 35 dB.  Skips (77) while the
# client library delivers no video frames (SSB_FRAME_BACKING_VIDEO reserved).
# Usage: test-video.sh VIEWER DEMO SHOT-CHECK
# Copyright (C) 2026 The spice-sideband authors
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
VIEWER=$1 DEMO=$2 CHECK=$3
. "$(dirname "$0")/lib.sh"
start_xvfb
start_demo demo --scanouts 1 --size 320x240 --fps 30 --listen "unix:$T/spice.sock"
for mode in gl cairo; do
    if [ "$mode" = gl ]; then run=("${GL_ENV[@]}" "$VIEWER"); else run=("$VIEWER" --no-gl); fi
    rm -rf "$T/shots"
    timeout 30 "${run[@]}" --force-remote --screenshot "$T/shots" --frames 30 --timeout 6 "$URI" \
        >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" = 7 ] || [ ! -f "$T/shots/scanout-0.png" ]; then
        echo "SKIP: no video frames on the remote path yet (viewer exit $rc)"
        exit 77
    fi
    convert "$T/shots/scanout-0.png" "$T/s0.ppm"
    if grep -q "renderer $mode" "$T/out" && "$CHECK" "$T/s0.ppm" --min-psnr 35 >"$T/check"; then
        ok "video, $mode: $(grep stamp "$T/check")"
    else
        fail "video, $mode: renderer or reference bars below 35 dB"; cat "$T/out" "$T/check"
    fi
    sleep 0.3
done
finish
