#!/bin/bash
# The patched libspice-client-gtk-3.0.so.5 (tools/spice-gtk/build.sh,
# cached) is ABI-compatible with Debian's:
#   - abidiff finds no change (Debian's library has no debug info, so this
#     compares ELF symbols and their versions);
#   - the same exported symbols with the same versions (nm -D);
#   - spice-gtk-types, linked against Debian's library, prints the same
#     instance and class sizes, properties, signals and enum values when
#     run on the patched one, plus exactly the two new properties.
#
# Usage: test-abi.sh BUILD-SH PROJECT-BUILDDIR SPICE-GTK-TYPES
# Copyright (C) 2026 The spice-sideband authors
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

BUILD_SH=$1 BUILDDIR=$2 TYPES=$3
DEBIAN=/usr/lib/x86_64-linux-gnu/libspice-client-gtk-3.0.so.5
if [ -n "${SSB_SANITIZED:-}" ]; then
    echo "SKIP: sanitizer build (the library is built once, without sanitizers, by the gcc build's run)"
    exit 77
fi
[ -e "$DEBIAN" ] || { echo "SKIP: $DEBIAN not installed"; exit 77; }

if ! out=$("$BUILD_SH" "$BUILDDIR" 2>&1); then
    printf '%s\n' "$out" | tail -n 30
    echo "FAIL: tools/spice-gtk/build.sh"
    exit 1
fi
printf '%s\n' "$out" | sed 's/^/# /'
LIBPATH=$(printf '%s\n' "$out" | sed -n 's/^LD_LIBRARY_PATH=//p' | tail -n1)
PATCHED=${LIBPATH%%:*}/libspice-client-gtk-3.0.so.5
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
failures=0
fail() { echo "not ok: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

if command -v abidiff >/dev/null; then
    if abidiff "$DEBIAN" "$PATCHED" >"$T/abidiff.txt" 2>&1; then
        ok "abidiff: no ABI change"
    else
        fail "abidiff reports changes"; sed 's/^/#   /' "$T/abidiff.txt"
    fi
else
    echo "# abidiff not installed (abigail-tools): skipped that check"
fi

exports() { nm -D --defined-only "$1" | awk '{ print $3 }' | sort; }
exports "$DEBIAN" >"$T/debian.syms"
exports "$PATCHED" >"$T/patched.syms"
if diff -u "$T/debian.syms" "$T/patched.syms" >"$T/syms.diff"; then
    ok "exports: the same $(wc -l <"$T/debian.syms") symbols and versions"
else
    fail "exports differ"; sed 's/^/#   /' "$T/syms.diff"
fi

"$TYPES" | sort >"$T/debian.types" || fail "spice-gtk-types on Debian's library"
LD_LIBRARY_PATH=$LIBPATH "$TYPES" | sort >"$T/patched.types" ||
    fail "spice-gtk-types on the patched library"
removed=$(comm -23 "$T/debian.types" "$T/patched.types")
added=$(comm -13 "$T/debian.types" "$T/patched.types")
expected_added="property SpiceDisplay sideband gboolean flags=3
property SpiceDisplay sideband-path gchararray flags=1"
if [ -z "$removed" ]; then
    ok "types: all $(wc -l <"$T/debian.types") facts of Debian's library unchanged (sizes, properties, signals, enums)"
else
    fail "types: changed or removed:"; printf '#   %s\n' "$removed"
fi
if [ "$added" = "$expected_added" ]; then
    ok "types: added only the sideband and sideband-path properties"
else
    fail "types: unexpected additions:"; printf '#   %s\n' "$added"
fi

if [ "$failures" -ne 0 ]; then echo "$failures failure(s)"; exit 1; fi
echo "all passed"
