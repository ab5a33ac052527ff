#!/bin/sh
# The README's main job: installs what is missing, builds, starts
# spice-sideband-demo and shows it two ways at once:
#   - spice-sideband-dump on the sideband (local shared memory), printing
#     the path, frame rate and latency per scanout and saving each scanout's
#     last frame as PNG;
#   - then Debian's stock remote-viewer on the standard SPICE display
#     channels (proves the core protocol is untouched), one window per
#     scanout.
# They run one after the other: spice-server serves one client at a time.
# With a $DISPLAY, remote-viewer opens there and the demo runs until its
# windows are closed (or Ctrl+C).  Without one, everything runs under Xvfb,
# a screenshot per scanout window is written, and the script prints where.
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

scanouts=${SSB_DEMO_SCANOUTS:-2}
size=${SSB_DEMO_SIZE:-1024x768}
out=${SSB_DEMO_OUT:-$top/_build/demo-output}
rm -rf "$out"
mkdir -p "$out/sideband" "$out/remote-viewer"
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
    --listen "unix:$run/spice.sock" --event-log "$out/events.jsonl" \
    >"$run/demo.out" 2>"$out/demo.log" &
pids="$pids $!"
for _ in $(seq 1 100); do grep -q 'listening on' "$run/demo.out" && break; sleep 0.1; done
uri=$(sed -n 's/^spice-sideband-demo: listening on //p' "$run/demo.out" | head -n1)
[ -n "$uri" ] || { echo "demo: the demo did not start:" >&2; cat "$out/demo.log" >&2; exit 1; }
echo "spice-sideband-demo: $scanouts scanouts of $size, serving $uri"

echo "Sideband (spice-sideband-dump, 5 s):"
"$dump" "$uri" --timeout 5 --png "$out/sideband" | sed 's/^/  /'
sleep 0.5  # let spice-server drop the dump's session before the next client

remote-viewer "$uri" >"$out/remote-viewer.log" 2>&1 &
viewer=$!
pids="$pids $viewer"

window_of() { # remote-viewer's window for monitor $1 (1-based)
    xdotool search --name "^spice-sideband-demo \\($1\\)\$" 2>/dev/null | head -n1 || true
}

if [ -n "$headless" ]; then
    x=0
    for n in $(seq 1 "$scanouts"); do
        win=
        for _ in $(seq 1 100); do
            win=$(window_of "$n")
            [ -n "$win" ] && break
            sleep 0.1
        done
        if [ -z "$win" ]; then
            echo "  remote-viewer window $n did not appear" >&2
            continue
        fi
        xdotool windowmove "$win" "$x" 0
        x=$((x + ${size%x*} + 20))
    done
    sleep 1
    for n in $(seq 1 "$scanouts"); do
        win=$(window_of "$n")
        [ -n "$win" ] && import -window "$win" "$out/remote-viewer/scanout-$((n - 1)).png"
    done
    echo "Screenshots:"
    echo "  stock display channel (remote-viewer): $out/remote-viewer/"
    ls "$out/remote-viewer" | sed 's/^/    /'
    echo "  sideband (shared memory):              $out/sideband/"
    ls "$out/sideband" | sed 's/^/    /'
    echo "  demo log: $out/demo.log; input events: $out/events.jsonl"
else
    echo "remote-viewer is showing the standard display channels; close its windows to stop."
    wait "$viewer" || true
fi
