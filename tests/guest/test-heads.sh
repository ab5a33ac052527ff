#!/bin/sh
# Boots the test guest in Debian's QEMU with stock SPICE and checks with
# spice-heads that both heads show guest-draw's pattern, each with its own
# scanout index, and move.  Builds the guest first (cached).
#
# Usage: test-heads.sh SPICE-HEADS GUESTDIR [KERNEL-ARGS]
# KERNEL-ARGS go to the guest (run-guest.sh --append), e.g. ssb.mode=flip.
set -eu

heads_exe=$1
guestdir=$2
append=${3:-}
here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" != 0 ] && ! command -v qemu-system-x86_64 > /dev/null; then
    echo "SKIP: no qemu-system-x86_64 and not root to install it"
    exit 77
fi
"$here/build-guest.sh" "$guestdir"

work=$(mktemp -d "${TMPDIR:-/tmp}/ssb-guest-test.XXXXXX")
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

# The console goes through a FIFO so spice-heads timestamps each line on
# arrival.  Holding it open read-write here keeps both opens from blocking.
mkfifo "$work/console"
exec 8<> "$work/console"

"$here/run-guest.sh" --serial "file:$work/console" --append "$append" \
    --spice "unix=on,addr=$work/spice.sock,disable-ticketing=on" \
    "$guestdir" > "$work/qemu.log" 2>&1 &
qemu_pid=$!

status=0
"$heads_exe" --unix "$work/spice.sock" --serial "$work/console" --heads 2 --frames 60 \
    --timeout 120 || status=$?
if ! kill -0 "$qemu_pid" 2> /dev/null; then
    echo "QEMU exited early:"
    cat "$work/qemu.log"
    status=1
fi
exit $status
