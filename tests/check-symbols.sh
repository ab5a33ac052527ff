#!/bin/sh
# Usage: check-symbols.sh NM LIBRARY SYMBOLS-FILE
# Fails when the library's exported (dynamic, defined) symbols differ from
# the checked-in list (lines starting with '#' are comments).
set -eu
nm=$1 lib=$2 list=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$nm" -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWi]$/ {print $3}' \
    | grep -v '^_' | sort -u > "$tmp/actual"
grep -v '^#' "$list" | sed '/^$/d' | sort -u > "$tmp/expected"
if ! diff -u "$tmp/expected" "$tmp/actual"; then
    echo "exported symbols of $lib differ from $list (- expected, + actual)"
    exit 1
fi
echo "$(wc -l < "$tmp/actual") exported symbols match $list"
