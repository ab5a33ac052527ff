#!/bin/sh
# spice-sideband-demo command line: bad arguments exit 2 with a clear
# message, unusable endpoints exit 1 with one, --frames and signals exit 0.
#
# Usage: test-cli.sh PATH-TO-spice-sideband-demo
# Copyright (C) 2026 The spice-sideband authors
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

DEMO=$1
# Sanitizer builds: spice-server 0.15.1's own leaks (see lsan.supp).
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(cd "$(dirname "$0")/.." && pwd)/lsan.supp:fast_unwind_on_malloc=0}
export LSAN_OPTIONS
# glib has no frame pointers: only the slow unwinder reaches libspice-server.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
T=$(mktemp -d)
export HOME="$T" XDG_RUNTIME_DIR="$T/run" XDG_CONFIG_HOME="$T/config" XDG_CACHE_HOME="$T/cache"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
failures=0

fail() {
    echo "not ok: $*"
    failures=$((failures + 1))
}

# expect STATUS PATTERN ARGS...: runs the demo, checks the exit status and
# that stderr/stdout match PATTERN (grep -E).
expect() {
    want=$1; pattern=$2; shift 2
    timeout 20 "$DEMO" "$@" >"$T/out" 2>&1
    got=$?
    if [ "$got" != "$want" ]; then
        fail "'$*': exit $got, expected $want"; sed 's/^/    /' "$T/out"; return
    fi
    if ! grep -Eq -- "$pattern" "$T/out"; then
        fail "'$*': output does not match '$pattern'"; sed 's/^/    /' "$T/out"; return
    fi
    echo "ok: '$*' -> $got: $(grep -E -m1 -- "$pattern" "$T/out")"
}

L="--listen unix:$T/ok.sock"

expect 2 "too small" --size 10x10 $L
expect 2 "expected WIDTHxHEIGHT" --size 1024 $L
expect 2 "expected WIDTHxHEIGHT" --size 1024x-768 $L
expect 2 "too large" --size 100000x768 $L
expect 2 "--scanouts '0': expected 1..16" --scanouts 0 $L
expect 2 "--scanouts '17'" --scanouts 17 $L
expect 2 "--scanouts 'two'" --scanouts two $L
expect 2 "--fps '0'" --fps 0 $L
expect 2 "--damage '0'" --damage 0 $L
expect 2 "--damage '101'" --damage 101 $L
expect 2 "--frames '0'" --frames 0 $L
expect 2 "expected tcp:HOST:PORT or unix:PATH" --listen foo:bar
expect 2 "bad port '70000'" --listen tcp:127.0.0.1:70000
expect 2 "expected tcp:HOST:PORT" --listen tcp:5900
expect 2 "empty path" --listen unix:
expect 2 "path longer than" --listen "unix:/tmp/$(printf 'x%.0s' $(seq 1 120))"
expect 2 "unknown codec 'foo'" --codecs h264,foo $L
expect 2 "--streaming-video 'sometimes'" --streaming-video sometimes $L
expect 2 "unrecognized option|unknown option" --bogus
expect 2 "requires an argument" --size
expect 2 "unexpected argument 'extra'" $L extra
expect 0 "Usage: spice-sideband-demo" --help

# Unusable endpoints: exit 1 before anything starts.
touch "$T/file"
expect 1 "exists and is not a socket" --listen "unix:$T/file" --frames 1
expect 1 "unix:$T/nodir/s.sock: cannot listen" --listen "unix:$T/nodir/s.sock" --frames 1
expect 1 "--event-log $T/nodir/log" --event-log "$T/nodir/log" $L --frames 1

# A running demo holds a TCP port and a unix socket.
"$DEMO" --listen tcp:127.0.0.1:0 --listen "unix:$T/live.sock" --scanouts 1 --size 320x240 \
    >"$T/first.out" 2>"$T/first.err" &
FIRST=$!
PIDS="$PIDS $FIRST"
for _ in $(seq 1 100); do
    [ "$(grep -c 'listening on' "$T/first.out" 2>/dev/null)" = 2 ] && break
    sleep 0.1
done
port=$(sed -n 's|.*listening on spice://127.0.0.1:\([0-9]*\)$|\1|p' "$T/first.out")
if [ -z "$port" ]; then
    fail "first demo did not announce a TCP port"; cat "$T/first.out" "$T/first.err"
else
    echo "ok: announced $(cat "$T/first.out" | tr '\n' ' ')"
    grep -q "listening on spice+unix://$T/live.sock" "$T/first.out" ||
        fail "first demo did not announce the unix socket"
    expect 1 "tcp:127.0.0.1:$port: address already in use" --listen "tcp:127.0.0.1:$port" --frames 1
    expect 1 "unix:$T/live.sock is in use by another server" --listen "unix:$T/live.sock" --frames 1
fi
kill -TERM "$FIRST"
wait "$FIRST"
rc=$?
[ "$rc" = 0 ] && echo "ok: SIGTERM -> exit 0" || fail "SIGTERM: exit $rc"
[ -e "$T/live.sock" ] && fail "unix socket left behind after exit"

# A stale socket file (nobody listening) is replaced.
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/stale.sock" 2>/dev/null ||
    cp -a "$T/live.sock" "$T/stale.sock" 2>/dev/null
if [ -S "$T/stale.sock" ]; then
    expect 0 "listening on spice\+unix://$T/stale.sock" --listen "unix:$T/stale.sock" --frames 3 --fps 100
fi

# --frames: runs the given number of frames and exits 0; SIGINT as well.
expect 0 "scanout 1: 5 frames" --frames 5 --fps 60 $L --no-sideband
"$DEMO" $L --size 320x240 >"$T/int.out" 2>&1 &
P=$!
PIDS="$PIDS $P"
for _ in $(seq 1 100); do grep -q 'listening on' "$T/int.out" 2>/dev/null && break; sleep 0.1; done
kill -INT "$P"
wait "$P"
rc=$?
[ "$rc" = 0 ] && echo "ok: SIGINT -> exit 0" || { fail "SIGINT: exit $rc"; cat "$T/int.out"; }

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all passed"
