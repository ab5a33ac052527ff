#!/bin/sh
# The patched QEMU (tools/qemu/build.sh, cached) with the test guest
# (tests/guest/build-guest.sh, cached) and -spice ...,sideband=on.
#
# Usage: test-qemu.sh MODE BUILDDIR SANITIZE GUESTDIR DUMP STAMP-FIND SPICE-HEADS
# MODE:
#   bad-option  -spice sideband=bogus fails with a clear message
#   unit        QEMU's own unit test of the series (patch 6,
#               tests/unit/test-spice-sideband: the GL scanout path with a
#               memfd standing in for a DMA-BUF)
#   local       spice-sideband-dump over a unix socket: both heads through
#               shared memory, each with its own stamp
#   remote      the same over TCP with --force-remote --codec h264
#   stock       spice-heads (spice-client-glib, the standard display
#               channels) still sees both heads moving with the sideband on
set -eu

mode=$1 builddir=$2 sanitize=$3 guestdir=$4 dump=$5 stamp_find=$6 spice_heads=$7
top=$(cd "$(dirname "$0")/../.." && pwd)

if [ "$sanitize" != none ]; then
    # QEMU is not built with the sanitizer runtime, so it cannot load this
    # build's instrumented library; the gcc build runs this suite.
    echo "SKIP: $sanitize build; the qemu suite runs in the plain build"
    exit 77
fi

# SSB_QEMU_SIDEBAND: an already patched QEMU instead of tools/qemu/build.sh's
if [ -n "${SSB_QEMU_SIDEBAND:-}" ]; then
    qemu=$SSB_QEMU_SIDEBAND
else
    qemu=$(SSB_SIDEBAND_PKG_CONFIG_PATH=$builddir/meson-uninstalled "$top/tools/qemu/build.sh" | tail -n 1)
fi
LD_LIBRARY_PATH=$builddir/server:$builddir/protocol${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH

if [ "$mode" = unit ]; then
    unit=$(dirname "$qemu")/tests/unit/test-spice-sideband
    if [ ! -x "$unit" ]; then
        echo "SKIP: no $unit next to $qemu (not built by tools/qemu/build.sh)"
        exit 77
    fi
    exec "$unit" --tap -k
fi

if [ "$mode" = bad-option ]; then
    if "$qemu" -display none -machine none -spice sideband=bogus > bad.log 2>&1; then
        echo "FAIL: sideband=bogus was accepted"; exit 1
    fi
    cat bad.log
    grep -q "Parameter 'sideband' expects 'on' or 'off'" bad.log
    sock=$(mktemp -u "${TMPDIR:-/tmp}/ssb-qemu-bad.XXXXXX")
    if "$qemu" -display none -machine none \
            -spice "unix=on,addr=$sock,disable-ticketing=on,sideband=on,sideband-codecs=h264:nope" \
            > bad.log 2>&1; then
        echo "FAIL: an unknown codec was accepted"; exit 1
    fi
    rm -f "$sock"
    cat bad.log
    grep -q "unknown sideband codec 'nope'" bad.log
    exit 0
fi

"$top/tests/guest/build-guest.sh" "$guestdir" > /dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/ssb-qemu-test.XXXXXX")
qemu_pid=
cleanup() {
    if [ -n "$qemu_pid" ]; then
        kill "$qemu_pid" 2> /dev/null || true
        wait "$qemu_pid" 2> /dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkfifo "$work/console"
exec 8<> "$work/console"

port=$((20000 + $$ % 20000))
case $mode in
remote) spice="port=$port,addr=127.0.0.1,disable-ticketing=on,sideband=on,sideband-codecs=h264"
        uri=spice://127.0.0.1:$port ;;
*)      spice="unix=on,addr=$work/spice.sock,disable-ticketing=on,sideband=on"
        uri=spice+unix://$work/spice.sock ;;
esac
"$top/tests/guest/run-guest.sh" --qemu "$qemu" --serial "file:$work/console" \
    --spice "$spice" "$guestdir" > "$work/qemu.log" 2>&1 &
qemu_pid=$!

# the server listens once QEMU has parsed its options
i=0
while [ $i -lt 100 ]; do
    case $mode in
    remote) (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break ;;
    *) [ -S "$work/spice.sock" ] && break ;;
    esac
    sleep 0.1; i=$((i + 1))
done 2> /dev/null

status=0
case $mode in
local|remote)
    mkdir "$work/png"
    set -- --frames 60 --timeout 90 --json --png "$work/png"
    [ "$mode" = local ] || set -- "$@" --force-remote --codec h264
    "$dump" "$@" "$uri" > "$work/dump.json" || status=$?
    cat "$work/dump.json"
    [ $status = 0 ] || { cat "$work/qemu.log"; exit 1; }
    python3 - "$work/dump.json" "$mode" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
want = {'local': 'shm', 'remote': 'h264'}[sys.argv[2]]
assert d['path'] == {'local': 'local', 'remote': 'video'}[sys.argv[2]], d['path']
ids = sorted(s['id'] for s in d['scanouts'])
assert ids == [0, 1], 'scanouts %r, want both heads' % ids
for s in d['scanouts']:
    assert s['path'] == want, 'scanout %d on %s, want %s' % (s['id'], s['path'], want)
    assert s['display_channel_id'] == s['id'], s
    assert (s['width'], s['height']) == (1024, 768), s
    assert s['frames'] >= 60, s
    if want == 'h264':
        assert s['codec'] == 'h264', s
PY
    for id in 0 1; do
        convert "$work/png/scanout-$id.png" "ppm:$work/s$id.ppm"
        "$stamp_find" "$work/s$id.ppm" > "$work/s$id.txt" || { echo "FAIL: no stamp on scanout $id"; exit 1; }
        cat "$work/s$id.txt"
        grep -q "^stamp x=0 y=0 scanout=$id seq=[1-9]" "$work/s$id.txt" ||
            { echo "FAIL: scanout $id does not show head $id's stamp"; exit 1; }
    done
    ;;
stock)
    "$spice_heads" --unix "$work/spice.sock" --serial "$work/console" --heads 2 \
        --frames 60 --timeout 120 || status=$?
    ;;
esac
if ! kill -0 "$qemu_pid" 2> /dev/null; then
    echo "QEMU exited early:"
    cat "$work/qemu.log"
    status=1
fi
exit $status
