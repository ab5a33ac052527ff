#!/bin/bash
# End to end with a stock viewer: Debian's remote-viewer connects to
# spice-sideband-demo (unix socket, then TCP) under Xvfb and shows both
# scanouts through the standard display channels.  Screenshots are checked
# for the stamp (seq advancing, scanout id) and the reference bars (PSNR);
# xdotool moves, clicks and types into the windows and the demo's event log
# must show the events with the right display id and coordinates, and the
# crosshair / key boxes must appear in the next screenshot.
#
# Usage: test-viewer.sh PATH-TO-spice-sideband-demo PATH-TO-stamp-find
# Skips (77) without Xvfb or remote-viewer.  Set DEMO_TEST_SCREENSHOTS=DIR
# to keep the screenshots as PNG.
# Copyright (C) 2026 The spice-sideband authors
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

DEMO=$1
STAMP_FIND=$2
W=400 H=300            # scanout size
for tool in Xvfb remote-viewer; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
for tool in xdotool import; do
    command -v "$tool" >/dev/null ||
        { echo "FAIL: $tool not installed (apt-get install xdotool imagemagick)"; exit 1; }
done

# Sanitizer builds: spice-server 0.15.1's own leaks (see lsan.supp).
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(cd "$(dirname "$0")/.." && pwd)/lsan.supp:fast_unwind_on_malloc=0}
export LSAN_OPTIONS
# glib has no frame pointers: only the slow unwinder reaches libspice-server.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
T=$(mktemp -d)
export HOME="$T/home" XDG_RUNTIME_DIR="$T/run" XDG_CONFIG_HOME="$T/config" \
       XDG_CACHE_HOME="$T/cache" XDG_DATA_HOME="$T/data"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_DATA_HOME"
chmod 700 "$XDG_RUNTIME_DIR"
unset DBUS_SESSION_BUS_ADDRESS
export GDK_BACKEND=x11 NO_AT_BRIDGE=1 GSETTINGS_BACKEND=memory
XVFB_PID= DEMO_PID= RV_PID=
cleanup() {
    [ -n "$RV_PID" ] && kill "$RV_PID" 2>/dev/null
    [ -n "$DEMO_PID" ] && kill "$DEMO_PID" 2>/dev/null
    [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
failures=0
fail() { echo "not ok: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# --- X server on a free display --------------------------------------------
exec 5>"$T/displayfd"
Xvfb -displayfd 5 -screen 0 1280x720x24 -nolisten tcp -noreset >"$T/xvfb.log" 2>&1 &
XVFB_PID=$!
exec 5>&-
for _ in $(seq 1 100); do [ -s "$T/displayfd" ] && break; sleep 0.1; done
[ -s "$T/displayfd" ] || { echo "FAIL: Xvfb did not start"; cat "$T/xvfb.log"; exit 1; }
export DISPLAY=":$(head -n1 "$T/displayfd")"
echo "# Xvfb on $DISPLAY"

# --- the demo ---------------------------------------------------------------
"$DEMO" --scanouts 2 --size ${W}x${H} --fps 30 --damage 10 \
    --listen "unix:$T/spice.sock" --listen tcp:127.0.0.1:0 \
    --event-log "$T/events.jsonl" >"$T/demo.out" 2>"$T/demo.err" &
DEMO_PID=$!
for _ in $(seq 1 100); do
    [ "$(grep -c 'listening on' "$T/demo.out" 2>/dev/null)" = 2 ] && break
    sleep 0.1
done
UNIX_URI=$(sed -n 's/^spice-sideband-demo: listening on \(spice+unix:.*\)$/\1/p' "$T/demo.out")
TCP_URI=$(sed -n 's/^spice-sideband-demo: listening on \(spice:.*\)$/\1/p' "$T/demo.out")
if [ -z "$UNIX_URI" ] || [ -z "$TCP_URI" ]; then
    echo "FAIL: demo did not announce its endpoints"; cat "$T/demo.out" "$T/demo.err"; exit 1
fi
ok "demo: $UNIX_URI $TCP_URI"

window_of() {   # window_of N: remote-viewer's window for monitor N (1-based)
    xdotool search --name "^spice-sideband-demo \\($1\\)\$" 2>/dev/null | head -n1
}

# start_viewer URI [WINDOWS]: starts remote-viewer, waits for its windows
# (default 2) and places them side by side.
start_viewer() {
    local want=${2:-2}
    remote-viewer "$1" >"$T/rv.log" 2>&1 &
    RV_PID=$!
    W1= W2=
    for _ in $(seq 1 300); do
        W1=$(window_of 1); W2=$(window_of 2)
        [ -n "$W1" ] && { [ "$want" = 1 ] || [ -n "$W2" ]; } && break
        sleep 0.1
    done
    if [ -z "$W1" ] || { [ "$want" = 2 ] && [ -z "$W2" ]; }; then
        fail "remote-viewer $1: windows did not appear"; cat "$T/rv.log"; return 1
    fi
    xdotool windowmove "$W1" 0 0
    [ -n "$W2" ] && xdotool windowmove "$W2" 640 0
    sleep 1.5
    ok "remote-viewer ${1%%\?*}: windows $W1 $W2"
}

stop_viewer() {
    kill "$RV_PID" 2>/dev/null
    wait "$RV_PID" 2>/dev/null
    RV_PID=
    sleep 0.5   # spice-server replaces a session; let the old one go
}

# screenshot [X,Y]...: takes a screenshot, prints stamp-find's output.
screenshot() {
    import -window root -depth 8 "ppm:$T/shot.ppm" 2>>"$T/import.log" || return 1
    if [ -n "${DEMO_TEST_SCREENSHOTS:-}" ]; then
        mkdir -p "$DEMO_TEST_SCREENSHOTS"
        local n
        n=$(find "$DEMO_TEST_SCREENSHOTS" -name 'viewer-*.png' | wc -l)
        import -window root "$DEMO_TEST_SCREENSHOTS/viewer-$(printf %02d $((n + 1))).png" 2>/dev/null
    fi
    "$STAMP_FIND" "$T/shot.ppm" "$@"
}

field() {   # field NAME LINE
    sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}

# check_stamps LABEL: both scanouts visible, stamps valid, reference exact,
# and the picture moving.  Sets SX0 SY0 SX1 SY1 (screen origin of each
# scanout) and SEQ (the larger seq seen).
check_stamps() {
    local out line s seq psnr seq_a
    out=$(screenshot) || { fail "$1: no stamp found on screen"; return 1; }
    echo "$out" | sed 's/^/# /'
    SX0= SX1=
    while read -r line; do
        s=$(field scanout "$line"); seq=$(field seq "$line"); psnr=$(field ref_psnr "$line")
        case "$s" in
            0) SX0=$(field x "$line"); SY0=$(field y "$line"); seq_a=$seq ;;
            1) SX1=$(field x "$line"); SY1=$(field y "$line") ;;
            *) fail "$1: unexpected scanout $s" ;;
        esac
        if [ "$psnr" != inf ] && [ "${psnr%.*}" -lt 30 ]; then
            fail "$1: reference bars of scanout $s: PSNR $psnr dB < 30"
        fi
        [ "$seq" -gt 0 ] || fail "$1: scanout $s seq $seq"
    done <<<"$(grep '^stamp' <<<"$out")"
    if [ -z "$SX0" ] || [ -z "$SX1" ]; then
        fail "$1: expected both scanouts on screen"; return 1
    fi
    [ "$SX0" -lt 640 ] && [ "$SX1" -ge 640 ] ||
        fail "$1: scanout 0 should be in the left window, 1 in the right"
    # the picture keeps moving: a second shot has a later seq
    sleep 0.5
    out=$(screenshot) || { fail "$1: stamp lost"; return 1; }
    seq=$(field seq "$(grep 'scanout=0' <<<"$out")")
    if [ -n "$seq" ] && [ "$seq" -gt "$seq_a" ]; then
        ok "$1: stamps decode, scanout 0 seq $seq_a -> $seq, reference bars exact"
    else
        fail "$1: seq did not advance ($seq_a -> $seq)"
    fi
    SEQ=$seq
}

EVENTS="$T/events.jsonl"
expect_event() {   # expect_event LABEL REGEX
    local i
    for i in $(seq 1 30); do
        grep -Eq "$2" "$EVENTS" && { ok "$1: $(grep -E -m1 "$2" "$EVENTS")"; return 0; }
        sleep 0.1
    done
    fail "$1: no event matching $2"
    sed 's/^/#   /' "$EVENTS" | tail -n 20
}

expect_pixel() {   # expect_pixel LABEL X,Y RRGGBB|!RRGGBB
    local got
    got=$(screenshot "$2" | sed -n 's/^pixel [0-9]* [0-9]* //p')
    if [ "${3#!}" != "$3" ]; then
        [ -n "$got" ] && [ "$got" != "${3#!}" ] && ok "$1: pixel $2 is $got, not ${3#!}" ||
            fail "$1: pixel $2 is ${got:-?}, expected anything but ${3#!}"
    else
        [ "$got" = "$3" ] && ok "$1: pixel $2 is $3" || fail "$1: pixel $2 is ${got:-?}, expected $3"
    fi
}

# --- unix socket -------------------------------------------------------------
if start_viewer "$UNIX_URI"; then
    check_stamps "unix"
    UNIX_SEQ=${SEQ:-0}

    if [ -n "$SX1" ]; then
        # pointer onto scanout 1 (display channel 1) at (300, 200), click, type
        xdotool mousemove $((SX1 + 300)) $((SY1 + 200)); sleep 0.3
        xdotool click 1; sleep 0.3
        expect_event "motion on display 1" \
            '"type":"motion","display":1,"source":"agent","x":300,"y":200,'
        expect_event "left click on display 1" \
            '"type":"button","display":1,"source":"agent","x":300,"y":200,"buttons":1\}'
        xdotool windowfocus "$W2"; sleep 0.3
        xdotool type --delay 60 ab; sleep 0.3
        expect_event "key a (0x1e) on display 1" '"type":"key","display":1,.*"scancode":30,"down":true'
        expect_event "key b (0x30) on display 1" '"type":"key","display":1,.*"scancode":48,"down":true'
        expect_event "key release" '"type":"key","display":1,.*"scancode":48,"down":false'
        sleep 0.5
        # crosshair (white column x-1, black column x) and the key boxes
        expect_pixel "crosshair on scanout 1" $((SX1 + 299)),$((SY1 + 250)) ffffff
        expect_pixel "crosshair on scanout 1" $((SX1 + 300)),$((SY1 + 250)) 000000
        expect_pixel "key box border on scanout 1" $((SX1 + 8)),$((SY1 + H - 48)) 000000
        expect_pixel "key box on scanout 1" $((SX1 + 11)),$((SY1 + H - 45)) ffffff

        # then onto scanout 0 at (250, 220): right click and wheel
        xdotool mousemove $((SX0 + 250)) $((SY0 + 220)); sleep 0.3
        xdotool click 3; sleep 0.2
        xdotool click 5; sleep 0.3
        expect_event "motion on display 0" \
            '"type":"motion","display":0,"source":"agent","x":250,"y":220,'
        expect_event "right click on display 0" \
            '"type":"button","display":0,"source":"agent","x":250,"y":220,"buttons":4\}'
        expect_event "wheel down on display 0" '"type":"wheel","display":0,.*"dz":1\}'
        sleep 0.5
        expect_pixel "crosshair moved to scanout 0" $((SX0 + 249)),$((SY0 + 200)) ffffff
        expect_pixel "crosshair left scanout 1" $((SX1 + 299)),$((SY1 + 180)) '!ffffff'
    fi
    stop_viewer
fi

# --- TCP -----------------------------------------------------------------------
if start_viewer "$TCP_URI"; then
    check_stamps "tcp"
    [ "${SEQ:-0}" -gt "${UNIX_SEQ:-0}" ] && ok "tcp: seq $SEQ after unix $UNIX_SEQ" ||
        fail "tcp: seq ${SEQ:-?} not after the unix session's ${UNIX_SEQ:-?}"
    stop_viewer
fi

grep -q "client connected (unix)" "$T/demo.err" && ok "demo saw a unix client" ||
    fail "demo did not report a unix client"
grep -q "client connected (tcp)" "$T/demo.err" && ok "demo saw a TCP client" ||
    fail "demo did not report a TCP client"

kill -TERM "$DEMO_PID"
wait "$DEMO_PID"
rc=$?
DEMO_PID=
[ "$rc" = 0 ] && ok "demo exited 0 on SIGTERM" || { fail "demo exit status $rc"; cat "$T/demo.err"; }
if grep -E "runtime error:|Sanitizer" "$T/demo.err"; then
    fail "sanitizer reports in the demo's stderr"
fi

# --- one scanout, no agent, a password: the tablet path -----------------------
# spice-server 0.15.1 allows absolute (client) mouse mode with a tablet only
# for a single QXL instance, and the tablet learns no display id.
"$DEMO" --scanouts 1 --no-agent --size ${W}x${H} --password s3cret \
    --listen tcp:127.0.0.1:0 --event-log "$T/events-tablet.jsonl" >"$T/demo2.out" 2>"$T/demo2.err" &
DEMO_PID=$!
# (new file names: the shell may not have truncated old ones yet)
for _ in $(seq 1 100); do grep -q 'listening on' "$T/demo2.out" 2>/dev/null && break; sleep 0.1; done
TCP_URI=$(sed -n 's/^spice-sideband-demo: listening on \(spice:.*\)$/\1/p' "$T/demo2.out")
EVENTS="$T/events-tablet.jsonl"
if [ -n "$TCP_URI" ] && start_viewer "$TCP_URI?password=s3cret" 1; then
    out=$(screenshot) && echo "$out" | sed 's/^/# /'
    line=$(grep 'scanout=0' <<<"$out")
    if [ -n "$line" ]; then
        SX0=$(field x "$line"); SY0=$(field y "$line")
        xdotool mousemove $((SX0 + 123)) $((SY0 + 201)); sleep 0.3
        xdotool click 1; sleep 0.3
        expect_event "tablet motion" '"type":"motion","display":0,"source":"tablet","x":123,"y":201,'
        expect_event "tablet click" '"type":"button","display":0,"source":"tablet","x":123,"y":201,"buttons":1\}'
        expect_event "tablet release" '"type":"button","display":0,"source":"tablet","x":123,"y":201,"buttons":0\}'
    else
        fail "tablet: scanout 0 not on screen (password refused?)"
    fi
    stop_viewer
else
    fail "tablet: demo or viewer did not start"; cat "$T/demo2.err"
fi
kill -TERM "$DEMO_PID"
wait "$DEMO_PID"
rc=$?
DEMO_PID=
[ "$rc" = 0 ] && ok "tablet demo exited 0 on SIGTERM" || fail "tablet demo exit status $rc"
if grep -E "runtime error:|Sanitizer" "$T/demo2.err"; then
    fail "sanitizer reports in the tablet demo's stderr"
fi

if [ "$failures" -ne 0 ]; then
    echo "# demo stderr:"; sed 's/^/#   /' "$T/demo.err"
    echo "# tablet demo stderr:"; sed 's/^/#   /' "$T/demo2.err" 2>/dev/null
    echo "$failures failure(s)"
    exit 1
fi
echo "all passed"
