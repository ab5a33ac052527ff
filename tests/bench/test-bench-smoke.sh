#!/bin/sh
# Smoke test of spice-sideband-bench (suite 'bench'): every path of the
# benchmark delivers stamped frames through the real demo and client, the
# JSON report parses and carries the fields the tables are made of, and the
# plots are made when gnuplot is installed.  Never checks a timing.
#
# Usage: test-bench-smoke.sh BENCH DEMO CLIENT
set -eu

bench=$1 demo=$2 client=$3

if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 not installed (the benchmark driver is a Python script)"
    exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_RUNTIME_DIR="$work"

rc=0
python3 "$bench" --smoke --json --plots "$work/plots" --demo "$demo" --client "$client" \
    > "$work/report.json" || rc=$?
if [ "$rc" -ne 0 ]; then
    echo "FAIL: spice-sideband-bench --smoke exited with $rc"
    cat "$work/report.json"
    exit 1
fi

python3 - "$work/report.json" <<'PY'
import json, os, shutil, sys

report = json.load(open(sys.argv[1]))
want = {"stock-display": "display", "stock-stream": "display", "sb-shm": "shm",
        "sb-dmabuf": "dmabuf", "sb-h264": "h264", "sb-vp8": "vp8"}
ok = True
for result in report["results"]:
    for path, client_path in want.items():
        run = result["paths"].get(path)
        if run is None or "error" in run:
            print(f"FAIL: {result['key']} {path}: {run and run['error']}")
            ok = False
            continue
        active = run["active"]
        for key in ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "fps_per_scanout",
                    "bytes_per_s", "server_cpu_ms_per_frame", "client_cpu_ms_per_frame"):
            if key not in active:
                print(f"FAIL: {path}: no {key}")
                ok = False
        if active["frames"] < 1 or active["latency_p50_ms"] is None:
            print(f"FAIL: {path}: no frames in the measured window")
            ok = False
        if "idle" not in run:
            print(f"FAIL: {path}: no idle window")
            ok = False
        if run["client_path"] != client_path:
            print(f"FAIL: {path} took the {run['client_path']} path, not {client_path}")
            ok = False
        print(f"{path}: {run['client_path']}, {active['frames']} frames, "
              f"p50 {active['latency_p50_ms']} ms")
if not report["ratios"] or not report["targets"]:
    print("FAIL: no ratios or targets in the report")
    ok = False
if shutil.which("gnuplot"):
    if not report["plots"]:
        print("FAIL: gnuplot is installed but no plot was made")
        ok = False
    for png in report["plots"]:
        if not os.path.getsize(png):
            print(f"FAIL: empty plot {png}")
            ok = False
sys.exit(0 if ok else 1)
PY
