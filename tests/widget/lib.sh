# Shared by the widget suite's scripts: a private Xvfb, HOME and XDG dirs,
# Mesa's software GL, sanitizer options, and small helpers.
# Copyright (C) 2026 The spice-sideband authors
# SPDX-License-Identifier: LGPL-2.1-or-later

for tool in Xvfb xdotool import convert; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

# Sanitizer builds: leaks are checked with tests/lsan.supp (third-party
# only) and the slow unwinder its suppressions need, except in processes
# that render with Mesa's llvmpipe: there the slow unwinder deadlocks (LLVM's
# JIT registers EH frames under libgcc's unwinder lock and ASan's malloc
# hook re-enters _Unwind_Backtrace), and llvmpipe's own allocations (frame
# buffers, caches) outlive the context.  Run those as "${GL_ENV[@]}" VIEWER:
# fast unwinding, no leak check; address and UB errors are still caught.
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lsan.supp}
export LSAN_OPTIONS
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1"
# LSAN_OPTIONS is parsed after ASAN_OPTIONS, so both must ask for fast unwinding.
GL_ENV=(env "ASAN_OPTIONS=$ASAN_OPTIONS:fast_unwind_on_malloc=1:detect_leaks=0"
        "LSAN_OPTIONS=$LSAN_OPTIONS:fast_unwind_on_malloc=1")

T=$(mktemp -d)
export HOME="$T/home" XDG_RUNTIME_DIR="$T/run" XDG_CONFIG_HOME="$T/config" \
       XDG_CACHE_HOME="$T/cache" XDG_DATA_HOME="$T/data"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_DATA_HOME"
chmod 700 "$XDG_RUNTIME_DIR"
unset DBUS_SESSION_BUS_ADDRESS WAYLAND_DISPLAY
export GDK_BACKEND=x11 NO_AT_BRIDGE=1 GSETTINGS_BACKEND=memory LIBGL_ALWAYS_SOFTWARE=1

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    if [ -n "${WIDGET_TEST_KEEP:-}" ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

failures=0
fail() { echo "not ok: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
finish() {
    if [ "$failures" -ne 0 ]; then echo "$failures failure(s)"; exit 1; fi
    echo "all passed"; exit 0
}

start_xvfb() {
    exec 5>"$T/displayfd"
    Xvfb -displayfd 5 -screen 0 1280x720x24 -nolisten tcp -noreset >"$T/xvfb.log" 2>&1 &
    PIDS+=($!)
    exec 5>&-
    for _ in $(seq 1 100); do [ -s "$T/displayfd" ] && break; sleep 0.1; done
    [ -s "$T/displayfd" ] || { echo "FAIL: Xvfb did not start"; cat "$T/xvfb.log"; exit 1; }
    export DISPLAY=":$(head -n1 "$T/displayfd")"
    echo "# Xvfb on $DISPLAY"
}

# start_demo NAME ARGS...: runs the demo, sets URI (the first endpoint).
start_demo() {
    local name=$1; shift
    "$DEMO" "$@" >"$T/$name.out" 2>"$T/$name.err" &
    PIDS+=($!)
    DEMO_PID=$!
    for _ in $(seq 1 100); do grep -q 'listening on' "$T/$name.out" 2>/dev/null && break; sleep 0.1; done
    URI=$(sed -n 's/^spice-sideband-demo: listening on \(.*\)$/\1/p' "$T/$name.out" | head -n1)
    [ -n "$URI" ] || { echo "FAIL: demo did not start"; cat "$T/$name.err"; exit 1; }
}

# window_of TITLE-REGEX: the first window whose name matches.
window_of() {
    xdotool search --name "$1" 2>/dev/null | head -n1
}

# wait_window VAR REGEX: waits up to 30 s for a window (sanitizer builds
# with software GL start slowly on a busy machine).
wait_window() {
    local w=
    for _ in $(seq 1 300); do w=$(window_of "$2"); [ -n "$w" ] && break; sleep 0.1; done
    printf -v "$1" '%s' "$w"
    [ -n "$w" ]
}

# shot WINDOW FILE: a PPM of the window's content.
shot() {
    import -window "$1" -depth 8 "ppm:$2" 2>>"$T/import.log"
    if [ -n "${WIDGET_TEST_SCREENSHOTS:-}" ]; then
        mkdir -p "$WIDGET_TEST_SCREENSHOTS"
        convert "$2" "$WIDGET_TEST_SCREENSHOTS/$(basename "$2" .ppm).png" 2>/dev/null
    fi
}

# check_shot WINDOW FILE CHECK-ARGS...: screenshot WINDOW (or "root") and run
# the checker on it, again every 0.5 s for up to 15 s while it fails (frames
# may still be on their way); prints the checker's last output and returns
# its status.
check_shot() {
    local win=$1 file=$2 out rc=1
    shift 2
    for _ in $(seq 1 30); do
        if [ "$win" = root ]; then
            import -window root -depth 8 "ppm:$file" 2>>"$T/import.log"
        else
            shot "$win" "$file"
        fi
        out=$("$CHECK" "$file" "$@")
        rc=$?
        [ $rc = 0 ] && break
        sleep 0.5
    done
    printf '%s\n' "$out"
    return $rc
}

# expect_event FILE LABEL REGEX: a line of FILE from line $EV_FROM (default
# 1) on matches.
expect_event() {
    local line
    for _ in $(seq 1 100); do
        line=$(tail -n +"${EV_FROM:-1}" "$1" | grep -E -m1 "$3")
        [ -n "$line" ] && { ok "$2: $line"; return 0; }
        sleep 0.1
    done
    fail "$2: no event matching $3"
    sed 's/^/#   /' "$1" | tail -n 10
}

check_sanitizers() {   # check_sanitizers FILE...
    if grep -E "runtime error:|ERROR: AddressSanitizer" "$@"; then
        fail "sanitizer reports in $*"
    fi
}
