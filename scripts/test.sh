#!/bin/sh
# The README's test command: installs what is missing, builds with warnings
# as errors, runs the whole suite, then the same suite in an ASan/UBSan build,
# then each libFuzzer target briefly over its committed corpus.  Ends with one
# summary line: "N passed, N failed, N skipped".
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
. "$top/scripts/deps.sh"
ssb_install_deps

builddir=${SSB_BUILDDIR:-$top/_build}
fuzz_seconds=${SSB_FUZZ_SECONDS:-60}
mkdir -p "$builddir"
status=0

setup() { # dir, meson args...
    dir=$1; shift
    if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@"
    fi
}

run_suite() { # name, dir
    echo "=== $1: meson test"
    meson test -C "$2" --print-errorlogs --num-processes 2 \
        --timeout-multiplier "${SSB_TIMEOUT_MULTIPLIER:-3}" || status=1
}

echo "=== gcc -Werror build"
setup "$builddir/gcc" -Dwerror=true
meson compile -C "$builddir/gcc"
run_suite gcc "$builddir/gcc"

# e2e-video is left out: its pacing checks (no keyframe request on a late
# join) do not hold at valgrind's speed.
echo "=== valgrind memcheck: the e2e suite but e2e-video"
meson test -C "$builddir/gcc" --setup valgrind --print-errorlogs --num-processes 1 \
    e2e-lifecycle e2e-buffers e2e-stall e2e-many e2e-reconnect e2e-token e2e-dump || status=1

echo "=== ASan/UBSan build"
setup "$builddir/asan" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C "$builddir/asan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
LSAN_OPTIONS=suppressions=$top/tests/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0 \
SSB_HOSTILE_CASES=${SSB_HOSTILE_CASES:-200} SSB_CYCLES=${SSB_CYCLES:-300} \
SSB_SOAK_SECONDS=${SSB_SOAK_SECONDS:-30} \
    run_suite asan "$builddir/asan"

echo "=== libFuzzer build (clang), ${fuzz_seconds}s per target"
CC=clang setup "$builddir/fuzz" -Dwerror=true -Dfuzzers=true \
    -Dserver=disabled -Dclient=disabled -Dgtk=disabled -Ddemo=disabled
meson compile -C "$builddir/fuzz"
fuzz_results=$builddir/fuzz-results.txt
: > "$fuzz_results"
for corpus in "$top"/tests/fuzz/corpus/*/; do
    target=$(basename "$corpus")
    bin=$builddir/fuzz/tests/fuzz/$target
    [ -x "$bin" ] || { echo "FAIL $target: no fuzzer binary" >> "$fuzz_results"; continue; }
    work=$(mktemp -d)
    cp -r "$corpus". "$work/"
    if "$bin" -max_total_time="$fuzz_seconds" -print_final_stats=1 \
            -artifact_prefix="$builddir/fuzz-$target-" "$work" \
            > "$builddir/fuzz-$target.log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$builddir/fuzz-$target.log")
        echo "OK   $target: ${execs:-?} executions, no finding" >> "$fuzz_results"
    else
        tail -n 30 "$builddir/fuzz-$target.log"
        echo "FAIL $target: finding, see $builddir/fuzz-$target.log" >> "$fuzz_results"
        status=1
    fi
    rm -rf "$work"
done
cat "$fuzz_results"

python3 "$top/scripts/summary.py" "$builddir/gcc" "$builddir/asan" --extra "$fuzz_results"
exit $status
