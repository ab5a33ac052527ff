#!/bin/bash
# spice-sideband-viewer against spice-sideband-demo (2 scanouts, 320x240)
# under Xvfb, with one renderer: "gl" (Mesa software GL) or "cairo".
# - --screenshot after N frames: each scanout's picture carries its stamp
#   and the exact reference bars (shared memory at scale 1 is pixel-exact);
# - windows: both scanouts exact on screen; xdotool pointer motion, clicks,
#   wheel and keys reach the demo's event log with the right display id and
#   scancodes; Ctrl+Alt releases the keyboard grab;
# - window resizes letterbox the picture with the bars where the scaling
#   puts them, and pointer positions are scaled back.
# Usage: test-viewer.sh gl|cairo VIEWER DEMO SHOT-CHECK
# Set WIDGET_TEST_SCREENSHOTS=DIR to keep the screenshots as PNG.
# Copyright (C) 2026 The spice-sideband authors
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
MODE=$1 VIEWER=$2 DEMO=$3 CHECK=$4
. "$(dirname "$0")/lib.sh"
if [ "$MODE" = cairo ]; then
    GL_ARGS=(--no-gl)
    RUN=("$VIEWER")
else
    GL_ARGS=()
    RUN=("${GL_ENV[@]}" "$VIEWER")
fi
start_xvfb
EV="$T/events.jsonl"
start_demo demo --scanouts 2 --size 320x240 --fps 30 --listen "unix:$T/spice.sock" \
    --event-log "$EV"
ok "demo on $URI"

# --- --screenshot --------------------------------------------------------------
if "${RUN[@]}" "${GL_ARGS[@]}" --screenshot "$T/shots" --frames 10 --timeout 20 "$URI" \
        >"$T/shot.out" 2>"$T/shot.err"; then
    ok "--screenshot exited 0"
else
    fail "--screenshot exit status $?"; cat "$T/shot.out" "$T/shot.err"
fi
grep -q "scanout 0: renderer $MODE" "$T/shot.out" && ok "renderer $MODE in use" ||
    { fail "renderer $MODE not in use"; cat "$T/shot.out"; }
for id in 0 1; do
    png="$T/shots/scanout-$id.png"
    if [ ! -f "$png" ]; then fail "no $png"; continue; fi
    convert "$png" "$T/s$id.ppm"
    [ -n "${WIDGET_TEST_SCREENSHOTS:-}" ] && mkdir -p "$WIDGET_TEST_SCREENSHOTS" &&
        cp "$png" "$WIDGET_TEST_SCREENSHOTS/$MODE-screenshot-$id.png"
    out=$("$CHECK" "$T/s$id.ppm")
    rc=$?
    echo "$out" | sed 's/^/# /'
    if [ $rc = 0 ] && grep -q "stamp x=0 y=0 scanout=$id .*ref_psnr=inf" <<<"$out"; then
        ok "scanout-$id.png: stamp of scanout $id at 0,0, reference bars exact"
    else
        fail "scanout-$id.png: stamp/bars check"
    fi
done

# --- the cairo fallback without --no-gl: SSB_DISPLAY_GL=0, and GL failing at
# realize time (GDK_GL=disable makes GtkGLArea's context creation fail)
if [ "$MODE" = gl ]; then
    for envvar in SSB_DISPLAY_GL=0 GDK_GL=disable; do
        rm -rf "$T/fb"
        env "$envvar" "$VIEWER" --screenshot "$T/fb" --frames 3 --timeout 20 "$URI" \
            >"$T/fb.out" 2>"$T/fb.err"
        convert "$T/fb/scanout-0.png" "$T/fb.ppm" 2>/dev/null
        if grep -q "scanout 0: renderer cairo" "$T/fb.out" && "$CHECK" "$T/fb.ppm" >/dev/null; then
            ok "$envvar: cairo renderer, picture exact"
        else
            fail "$envvar: no cairo fallback"; cat "$T/fb.out" "$T/fb.err"
        fi
    done
fi

# --- windows and input --------------------------------------------------------
"${RUN[@]}" "${GL_ARGS[@]}" "$URI" >"$T/viewer.out" 2>"$T/viewer.err" &
VIEWER_PID=$!
PIDS+=($VIEWER_PID)
if ! wait_window W0 '^spice-sideband-viewer 0( |$)' || ! wait_window W1 '^spice-sideband-viewer 1( |$)'; then
    fail "viewer windows did not appear"; cat "$T/viewer.out" "$T/viewer.err"; finish
fi
xdotool windowmove "$W0" 0 0; xdotool windowmove "$W1" 640 0
both_exact() {
    grep -q "x=0 y=0 scanout=0 .*inf" <<<"$out" && grep -q "x=640 y=0 scanout=1 .*inf" <<<"$out"
}
for _ in $(seq 1 30); do   # until the moves and the next frames are on screen
    import -window root -depth 8 "ppm:$T/root.ppm" 2>>"$T/import.log"
    out=$("$CHECK" "$T/root.ppm")
    rc=$?
    [ $rc = 0 ] && both_exact && break
    sleep 0.5
done
echo "$out" | sed 's/^/# /'
if [ $rc = 0 ] && both_exact; then
    ok "both windows show their scanout pixel-exact"
else
    fail "windows: expected scanout 0 at 0,0 and 1 at 640,0, exact"
fi

# pointer onto scanout 1 at (300, 200); click (grabs the keyboard); keys
xdotool mousemove 940 200; sleep 0.3
xdotool click 1; sleep 0.3
expect_event "$EV" "motion on display 1" '"type":"motion","display":1,"source":"agent","x":300,"y":200,'
expect_event "$EV" "left click on display 1" '"type":"button","display":1,"source":"agent","x":300,"y":200,"buttons":1\}'
expect_event "$EV" "left release on display 1" '"type":"button","display":1,"source":"agent","x":300,"y":200,"buttons":0\}'
name=$(xdotool getwindowname "$W1")
[[ "$name" == *"Ctrl+Alt"* ]] && ok "click grabbed the keyboard: \"$name\"" ||
    fail "no keyboard grab after a click: \"$name\""
xdotool type --delay 60 ab; sleep 0.2
xdotool key KP_Enter Up Control_R; sleep 0.3
expect_event "$EV" "key a = 30" '"type":"key","display":1,"source":"keyboard","scancode":30,"down":true'
expect_event "$EV" "key a up" '"type":"key","display":1,"source":"keyboard","scancode":30,"down":false'
expect_event "$EV" "key b = 48" '"type":"key","display":1,"source":"keyboard","scancode":48,"down":true'
expect_event "$EV" "KP_Enter = 0xe01c" '"scancode":57372,"down":true'
expect_event "$EV" "Up = 0xe048" '"scancode":57416,"down":true'
expect_event "$EV" "Control_R = 0xe01d" '"scancode":57373,"down":true'

# Ctrl+Alt releases the grab (and lets both keys up in the guest)
xdotool key ctrl+alt; sleep 0.3
name=$(xdotool getwindowname "$W1")
[[ "$name" != *"Ctrl+Alt"* ]] && ok "Ctrl+Alt released the grab: \"$name\"" ||
    fail "Ctrl+Alt did not release the grab: \"$name\""
expect_event "$EV" "Ctrl released in the guest" '"scancode":29,"down":false'

# then scanout 0 at (250, 220): right click and wheel
xdotool mousemove 250 220; sleep 0.3
xdotool click 3; sleep 0.2
xdotool click 5; sleep 0.3
expect_event "$EV" "motion on display 0" '"type":"motion","display":0,"source":"agent","x":250,"y":220,'
expect_event "$EV" "right click on display 0" '"type":"button","display":0,"source":"agent","x":250,"y":220,"buttons":4\}'
expect_event "$EV" "wheel down on display 0" '"type":"wheel","display":0,.*"dz":1\}'

# --- window resizes: letterbox ----------------------------------------------------
letterbox() {   # letterbox W H SX SY: resize window 0, check the picture, and
                # that a pointer on scanout pixel (SX, SY) is sent as that
    local w=$1 h=$2 sx=$3 sy=$4 vx vy vw vh px py
    xdotool windowsize "$W0" "$w" "$h"
    if out=$(check_shot "$W0" "$T/lb-$MODE-${w}x$h.ppm" --letterbox "$w,$h,320,240"); then
        ok "window ${w}x$h: letterboxed, bars exact at the scaled positions"
    else
        fail "window ${w}x$h: letterbox check"; echo "$out" | sed 's/^/#   /'
    fi
    read -r vx vy vw vh <<<"$(sed -n 's/^viewport \([0-9]*\),\([0-9]*\) \([0-9]*\)x\([0-9]*\).*/\1 \2 \3 \4/p' <<<"$out")"
    # the pixel's centre, scaled
    px=$((vx + ((2 * sx + 1) * vw) / 640)); py=$((vy + ((2 * sy + 1) * vh) / 480))
    EV_FROM=$(($(wc -l <"$EV") + 1))
    xdotool mousemove "$px" "$py"; sleep 0.3
    expect_event "$EV" "pointer scaled back in ${w}x$h" \
        "\"type\":\"motion\",\"display\":0,\"source\":\"agent\",\"x\":$sx,\"y\":$sy,"
}
letterbox 640 300 100 60
letterbox 200 400 200 150

kill "$VIEWER_PID"; wait "$VIEWER_PID" 2>/dev/null
check_sanitizers "$T/viewer.err" "$T/shot.err" "$T/demo.err"
finish
