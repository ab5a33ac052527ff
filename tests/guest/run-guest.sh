#!/bin/sh
# Boots the test guest (tests/guest/build-guest.sh GUESTDIR first) under TCG
# with a virtio-gpu of N heads and SPICE; execs QEMU.
#
# Usage: tests/guest/run-guest.sh [options] GUESTDIR [-- QEMU-ARGS...]
#   --qemu PATH     QEMU binary (default: $SSB_QEMU, else qemu-system-x86_64)
#   --spice OPTS    the -spice argument (default:
#                   unix=on,addr=$XDG_RUNTIME_DIR/ssb-guest.sock,disable-ticketing=on,
#                   /tmp when XDG_RUNTIME_DIR is unset)
#   --heads N       virtio-gpu max_outputs, every head connected (default 2)
#   --size WxH      mode of every head (default 1024x768)
#   --append ARGS   more kernel arguments: ssb.fps=N ssb.damage=PCT
#                   ssb.mode=dirty|flip ssb.frames=N ssb.quiet=1 (no
#                   ssb-frame lines)
#   --serial CHR    the -serial argument (default: stdio); the guest prints
#                   "ssb-guest: ..." markers and "ssb-frame HEAD SEQ" per frame
#   --qmp PATH      a QMP server on unix socket PATH
# The virtio-gpu device has id "gpu0" (QMP: screendump device=gpu0 head=N).
# QEMU exits when the guest powers off (after ssb.frames=N frames, or on an
# error in the guest).
set -eu

qemu=${SSB_QEMU:-qemu-system-x86_64}
spice="unix=on,addr=${XDG_RUNTIME_DIR:-/tmp}/ssb-guest.sock,disable-ticketing=on"
heads=2
size=1024x768
append=
serial=stdio
qmp=

usage() {
    sed -n '/^# Usage/,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --qemu) qemu=$2; shift 2 ;;
    --spice) spice=$2; shift 2 ;;
    --heads) heads=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --append) append=$2; shift 2 ;;
    --serial) serial=$2; shift 2 ;;
    --qmp) qmp=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || usage
dir=$1
shift
if [ $# -gt 0 ]; then
    [ "$1" = -- ] || usage
    shift
fi
case $heads in ''|*[!0-9]*) usage ;; esac
case $size in *x*) ;; *) usage ;; esac
for f in vmlinux initramfs.cpio.gz; do
    [ -e "$dir/$f" ] || { echo "run-guest: no $dir/$f (run build-guest.sh $dir)" >&2; exit 1; }
done

# Without video=Virtual-N:...e a head other than the first stays
# disconnected; "e" forces it on.
cmdline="console=ttyS0 quiet panic=-1"
i=1
while [ "$i" -le "$heads" ]; do
    cmdline="$cmdline video=Virtual-$i:${size}e"
    i=$((i + 1))
done
[ -z "$append" ] || cmdline="$cmdline $append"

# A QEMU built from source looks for pvh.bin and the BIOS in its own
# prefix; point it at Debian's.
for d in /usr/share/qemu /usr/share/seabios; do
    [ -d "$d" ] && set -- -L "$d" "$@"
done
[ -z "$qmp" ] || set -- -qmp "unix:$qmp,server=on,wait=off" "$@"

exec "$qemu" -accel tcg -m 512 -smp 1 -no-reboot -vga none -nic none \
    -kernel "$dir/vmlinux" -initrd "$dir/initramfs.cpio.gz" -append "$cmdline" \
    -device "virtio-gpu-pci,id=gpu0,max_outputs=$heads" \
    -serial "$serial" -monitor none -display none -spice "$spice" "$@"
