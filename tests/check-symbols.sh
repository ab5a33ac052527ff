#!/bin/sh
# Usage: check-symbols.sh NM LIBRARY SYMBOLS-FILE...
# Fails when the library's exported (dynamic, defined) symbols differ from
# the checked-in lists together (lines starting with '#' are comments); a
# library with optional parts has one list per part.
set -eu
nm=$1 lib=$2
shift 2
list="$*"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$nm" -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWi]$/ {print $3}' \
    | grep -v '^_' | sort -u > "$tmp/actual"
cat "$@" | grep -v '^#' | sed '/^$/d' | sort -u > "$tmp/expected"
if ! diff -u "$tmp/expected" "$tmp/actual"; then
    echo "exported symbols of $lib differ from $list (- expected, + actual)"
    exit 1
fi
echo "$(wc -l < "$tmp/actual") exported symbols match $list"
