#!/bin/sh
# The README's main job: installs what is missing, builds, starts
# spice-sideband-demo and opens spice-sideband-viewer on it.
#   With a $DISPLAY: the viewer opens there (one window per scanout, stats
#   overlay on), on the local path (shared memory); the demo stops when the
#   viewer's windows are closed.
#   Without one: everything runs under Xvfb, and the script writes a
#   screenshot per scanout for each way of viewing the same demo:
#     sideband-local/   spice-sideband-viewer, shared memory
#     sideband-remote/  spice-sideband-viewer --force-remote, H.264 over TCP
#     stock/            Debian's remote-viewer on the standard display
#                       channels (the core protocol is untouched)
#   and prints the sideband's per-scanout figures (spice-sideband-dump).
# The clients run one after the other: spice-server serves one at a time.
#
# Environment: SSB_DEMO_SCANOUTS (2), SSB_DEMO_SIZE (1024x768),
# SSB_DEMO_OUT (output folder, default _build/demo-output).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
. "$top/scripts/deps.sh"
ssb_install_deps

build=${SSB_BUILDDIR:-$top/_build}/gcc
if [ -f "$build/build.ninja" ]; then
    meson setup --reconfigure "$build" -Dwerror=true >/dev/null
else
    meson setup "$build" -Dwerror=true >/dev/null
fi
meson compile -C "$build" >/dev/null
demo=$build/demo/spice-sideband-demo
dump=$build/tools/spice-sideband-dump
viewer=$build/tools/viewer/spice-sideband-viewer

scanouts=${SSB_DEMO_SCANOUTS:-2}
size=${SSB_DEMO_SIZE:-1024x768}
out=${SSB_DEMO_OUT:-$top/_build/demo-output}
rm -rf "$out"
mkdir -p "$out"
run=$(mktemp -d)
chmod 700 "$run"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$run}
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$run"
}
trap cleanup EXIT INT TERM

headless=
if [ -z "${DISPLAY:-}" ]; then
    headless=1
    exec 5>"$run/displayfd"
    Xvfb -displayfd 5 -screen 0 2200x900x24 -nolisten tcp >"$run/xvfb.log" 2>&1 &
    pids="$pids $!"
    exec 5>&-
    for _ in $(seq 1 100); do [ -s "$run/displayfd" ] && break; sleep 0.1; done
    [ -s "$run/displayfd" ] || { echo "demo: Xvfb did not start" >&2; exit 1; }
    export DISPLAY=":$(head -n1 "$run/displayfd")"
    echo "No \$DISPLAY: running under Xvfb on $DISPLAY"
fi

"$demo" --scanouts "$scanouts" --size "$size" --fps 30 --damage 10 \
    --listen "unix:$run/spice.sock" --listen tcp:127.0.0.1:0 \
    --event-log "$out/events.jsonl" >"$run/demo.out" 2>"$out/demo.log" &
pids="$pids $!"
for _ in $(seq 1 100); do
    [ "$(grep -c 'listening on' "$run/demo.out" 2>/dev/null)" = 2 ] && break
    sleep 0.1
done
uri=$(sed -n 's/^spice-sideband-demo: listening on \(spice+unix:.*\)$/\1/p' "$run/demo.out")
tcp_uri=$(sed -n 's/^spice-sideband-demo: listening on \(spice:.*\)$/\1/p' "$run/demo.out")
[ -n "$uri" ] && [ -n "$tcp_uri" ] ||
    { echo "demo: the demo did not start:" >&2; cat "$out/demo.log" >&2; exit 1; }
echo "spice-sideband-demo: $scanouts scanouts of $size, serving $uri and $tcp_uri"

if [ -z "$headless" ]; then
    echo "Opening spice-sideband-viewer on $uri (close its windows to stop)."
    "$viewer" --stats "$uri"
    exit 0
fi

echo "Sideband figures (spice-sideband-dump, 3 s each):"
"$dump" "$uri" --timeout 3 | sed 's/^/  local:  /'
sleep 0.5  # let spice-server drop each session before the next client
"$dump" "$tcp_uri" --force-remote --codec h264 --timeout 3 | sed 's/^/  remote: /'
sleep 0.5

"$viewer" --stats --frames 30 --screenshot "$out/sideband-local" "$uri" \
    >"$out/viewer-local.log" 2>&1 || { cat "$out/viewer-local.log" >&2; exit 1; }
sleep 0.5
"$viewer" --stats --frames 30 --force-remote --codec h264 \
    --screenshot "$out/sideband-remote" "$tcp_uri" \
    >"$out/viewer-remote.log" 2>&1 || { cat "$out/viewer-remote.log" >&2; exit 1; }
sleep 0.5

remote-viewer "$uri" >"$out/remote-viewer.log" 2>&1 &
pids="$pids $!"
window_of() { # remote-viewer's window for monitor $1 (1-based)
    xdotool search --name "^spice-sideband-demo \\($1\\)\$" 2>/dev/null | head -n1 || true
}
mkdir -p "$out/stock"
x=0
for n in $(seq 1 "$scanouts"); do
    win=
    for _ in $(seq 1 100); do
        win=$(window_of "$n")
        [ -n "$win" ] && break
        sleep 0.1
    done
    [ -n "$win" ] || { echo "  remote-viewer window $n did not appear" >&2; continue; }
    xdotool windowmove "$win" "$x" 0
    x=$((x + ${size%x*} + 20))
done
sleep 1
for n in $(seq 1 "$scanouts"); do
    win=$(window_of "$n")
    [ -n "$win" ] && import -window "$win" "$out/stock/scanout-$((n - 1)).png"
done

echo "Screenshots, one per scanout:"
for d in sideband-local sideband-remote stock; do
    echo "  $out/$d/: $(cd "$out/$d" && ls | tr '\n' ' ')"
done
echo "Demo log: $out/demo.log; input events: $out/events.jsonl"
