#!/bin/bash
# spice-sideband-viewer's error exits: bad URI (2), unreachable server (3),
# refused password (4); the right password shows the scanout (0); a server
# without the sideband gets the stock display.  Cairo only, so that the
# sanitizer build checks the error paths for leaks (see lib.sh).
# Usage: test-errors.sh VIEWER DEMO SHOT-CHECK
# Copyright (C) 2026 The spice-sideband authors
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
VIEWER=$1 DEMO=$2 CHECK=$3
. "$(dirname "$0")/lib.sh"
start_xvfb

expect_exit() {   # expect_exit LABEL CODE REGEX ARGS...
    local label=$1 want=$2 regex=$3 rc; shift 3
    timeout 20 "$VIEWER" --timeout 10 "$@" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" = "$want" ] && grep -Eq "$regex" "$T/err"; then
        ok "$label: exit $rc, \"$(head -n1 "$T/err")\""
    else
        fail "$label: exit $rc (want $want), stderr:"; sed 's/^/#   /' "$T/err"
    fi
}

expect_exit "no scheme" 2 'bad URI' "localhost:5900"
expect_exit "bad port" 2 'bad URI.*bad port' "spice://localhost:99999"
expect_exit "relative unix path" 2 'bad URI.*absolute' "spice+unix://relative/path"
expect_exit "no such unix socket" 3 'connect' "spice+unix://$T/nothing.sock"
# a TCP port nobody listens on: bind one, close it
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
expect_exit "closed TCP port" 3 'connect' "spice://127.0.0.1:$PORT"

start_demo demo --scanouts 1 --size 320x240 --password s3cret --listen "unix:$T/spice.sock"
expect_exit "wrong password" 4 'password' --password wrong "$URI"
sleep 0.3
expect_exit "no password" 4 'password' "$URI"
sleep 0.3
if timeout 30 "$VIEWER" --no-gl --password s3cret --screenshot "$T/shots" --frames 3 "$URI" \
        >"$T/out" 2>"$T/err"; then
    convert "$T/shots/scanout-0.png" "$T/s0.ppm" && "$CHECK" "$T/s0.ppm" >"$T/check" &&
        ok "right password: $(grep stamp "$T/check")" ||
        { fail "right password: picture check"; ls "$T/shots"; cat "$T/out" "$T/err" "$T/check"; }
else
    fail "right password: exit $?"; cat "$T/err"
fi
check_sanitizers "$T/demo.err"

# a server without the sideband: the stock SpiceDisplay shows each channel
start_demo plain --scanouts 2 --size 320x240 --no-sideband --listen "unix:$T/plain.sock"
if timeout 30 "$VIEWER" --no-gl --screenshot "$T/stock" "$URI" >"$T/out" 2>"$T/err"; then
    for id in 0 1; do
        convert "$T/stock/display-$id.png" "$T/d$id.ppm" 2>/dev/null &&
            "$CHECK" "$T/d$id.ppm" >"$T/check" && grep -q "scanout=$id " "$T/check" &&
            ok "no sideband: stock display $id: $(grep stamp "$T/check")" ||
            { fail "no sideband: stock display $id"; cat "$T/out" "$T/err"; }
    done
else
    fail "no sideband: exit $?"; cat "$T/out" "$T/err"
fi
grep -q "CRITICAL" "$T/err" && fail "criticals: $(cat "$T/err")"
finish
