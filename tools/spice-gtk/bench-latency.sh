#!/bin/bash
# Latency of Debian's remote-viewer on stock SPICE and on the sideband
# (patched libspice-client-gtk), same demo frames, measured on the screen.
#
# spice-sideband-demo (N scanouts, WxH, FPS, damage) serves a unix socket and
# TCP loopback under a private Xvfb; for each viewer setup remote-viewer opens both heads and
# screen-latency grabs the top of the screen every 20 ms for S seconds
# (the grabs that show a frame's stamp are counted, with how many distinct
# frames they saw):
# the age of a picture is the grab's CLOCK_MONOTONIC minus the t_us stamped
# into the frame by the demo at submit (same host, same clock).  Also the
# viewer's CPU time over the measurement.
#
#   stock      Debian's remote-viewer and libraries, display channels, unix
#   stock-tcp  the same over TCP
#   shm        the patched library: sideband, local path (shared memory), unix
#   video      the patched library, SPICE_SIDEBAND=remote, TCP: sideband,
#              encoded video (H.264 here), as a client on another host gets it
#   off        the patched library, SPICE_SIDEBAND=0: display channels, unix
#
# Usage: tools/spice-gtk/bench-latency.sh [PROJECT-BUILDDIR]
# Environment: BENCH_SCANOUTS (2), BENCH_SIZE (1024x768), BENCH_FPS (60),
# BENCH_DAMAGE (10: percent of the rows repainted per frame), BENCH_SECONDS
# (10), BENCH_MODES ("stock stock-tcp shm video off").  Prints a markdown table.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
builddir=$(cd "${1:-$top/_build/gcc}" && pwd)
scanouts=${BENCH_SCANOUTS:-2}
size=${BENCH_SIZE:-1024x768}
damage=${BENCH_DAMAGE:-10}
fps=${BENCH_FPS:-60}
seconds=${BENCH_SECONDS:-10}
modes=${BENCH_MODES:-stock stock-tcp shm video off}
w=${size%x*} h=${size#*x}
demo=$builddir/demo/spice-sideband-demo
grab=$builddir/tools/screen-latency
[ -x "$demo" ] && [ -x "$grab" ] || { echo "build the project first" >&2; exit 1; }

out=$("$top/tools/spice-gtk/build.sh" "$builddir") || { echo "$out" >&2; exit 1; }
libpath=$(sed -n 's/^LD_LIBRARY_PATH=//p' <<<"$out" | tail -n1)

T=$(mktemp -d)
export HOME="$T/home" XDG_RUNTIME_DIR="$T/run" XDG_CONFIG_HOME="$T/config" XDG_CACHE_HOME="$T/cache"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
chmod 700 "$XDG_RUNTIME_DIR"
unset DBUS_SESSION_BUS_ADDRESS WAYLAND_DISPLAY
export GDK_BACKEND=x11 NO_AT_BRIDGE=1 GSETTINGS_BACKEND=memory
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

screen_w=$(( scanouts * (w + 40) )) screen_h=$(( h + 120 ))
exec 5>"$T/displayfd"
Xvfb -displayfd 5 -screen 0 ${screen_w}x${screen_h}x24 -nolisten tcp -noreset >"$T/xvfb.log" 2>&1 &
PIDS+=($!)
exec 5>&-
for _ in $(seq 1 100); do [ -s "$T/displayfd" ] && break; sleep 0.1; done
export DISPLAY=":$(head -n1 "$T/displayfd")"

"$demo" --scanouts "$scanouts" --size "$size" --fps "$fps" --damage "$damage" \
    --listen "unix:$T/spice.sock" --listen tcp:127.0.0.1:0 >"$T/demo.out" 2>"$T/demo.err" &
PIDS+=($!)
for _ in $(seq 1 100); do
    [ "$(grep -c 'listening on' "$T/demo.out" 2>/dev/null)" = 2 ] && break
    sleep 0.1
done
unix_uri=$(sed -n 's/^spice-sideband-demo: listening on \(spice+unix:.*\)$/\1/p' "$T/demo.out")
tcp_uri=$(sed -n 's/^spice-sideband-demo: listening on \(spice:.*\)$/\1/p' "$T/demo.out")

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

echo "| viewer | path | scanout | grabs with a stamp (distinct frames) | age p50 | p90 | p99 | max | viewer CPU |"
echo "|---|---|---|---|---|---|---|---|---|"
for mode in $modes; do
    envs=() uri=$unix_uri
    case $mode in
        stock) ;;
        stock-tcp) uri=$tcp_uri ;;
        shm) envs=(LD_LIBRARY_PATH="$libpath") ;;
        video) envs=(LD_LIBRARY_PATH="$libpath" SPICE_SIDEBAND=remote) uri=$tcp_uri ;;
        off) envs=(LD_LIBRARY_PATH="$libpath" SPICE_SIDEBAND=0) ;;
        *) echo "unknown mode $mode" >&2; exit 2 ;;
    esac
    env "${envs[@]}" G_MESSAGES_DEBUG=GSpice /usr/bin/remote-viewer "$uri" >"$T/rv-$mode.log" 2>&1 &
    rv=$!
    PIDS+=($rv)
    w1= w2=
    for _ in $(seq 1 300); do
        w1=$(xdotool search --name '^spice-sideband-demo( \(1\))?$' 2>/dev/null | head -n1)
        w2=$(xdotool search --name '^spice-sideband-demo \(2\)$' 2>/dev/null | head -n1)
        [ -n "$w1" ] && { [ "$scanouts" = 1 ] || [ -n "$w2" ]; } && break
        sleep 0.1
    done
    xdotool windowmove "$w1" 0 0 2>/dev/null
    [ -n "$w2" ] && xdotool windowmove "$w2" $((w + 40)) 0 2>/dev/null
    sleep 3
    path=$(sed -n 's/.*sideband: display 0:0 path \([a-z]*\).*/\1/p' "$T/rv-$mode.log" | tail -n1)
    c0=$(cpu_ticks "$rv")
    result=$("$grab" --seconds "$seconds" --interval-ms 20 --height 260)
    c1=$(cpu_ticks "$rv")
    cpu=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v s="$seconds" \
        'BEGIN { printf "%.0f%%", 100 * t / hz / s }')
    while read -r line; do
        case $line in scanout=*) ;; *) continue ;; esac
        f() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$line"; }
        echo "| $mode | ${path:-display channel} | $(f scanout) | $(f grabs) ($(f frames)) |" \
             "$(f age_p50_ms) ms | $(f age_p90_ms) ms | $(f age_p99_ms) ms | $(f age_max_ms) ms | $cpu |"
    done <<<"$result"
    sed -n 's/^grabs=\([0-9]*\) grab_ms_p50=\(.*\)/<!-- '"$mode"': \1 grabs, XGetImage p50 \2 ms -->/p' <<<"$result"
    kill "$rv"; wait "$rv" 2>/dev/null
    sleep 0.5
done
