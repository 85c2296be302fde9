#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""tools/plot-bench on a hand-made benchmark JSON: medians, spreads, speed-ups, roofline and floor
fractions in its table are the ones worked out below from the rows; rows it must skip (other
aggregates, failed runs, names outside the scheme) are skipped; the PNGs are written when
gnuplot is installed. usage: test_plot_bench.py ROOT"""
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(sys.argv[1])
TOOL = ROOT / "tools" / "plot-bench"


def row(name, ms, gbs, roofline, aggregate=None, error=False):
    r = {"name": name + ("_" + aggregate if aggregate else ""), "run_name": name, "real_time": ms,
         "time_unit": "ms", "bytes_per_second": gbs * 1e9, "roofline_fraction": roofline, "bandwidth_GBps": 20.0,
         "run_type": "aggregate" if aggregate else "iteration"}
    if aggregate:
        r["aggregate_name"] = aggregate
    if error:
        r["error_occurred"] = True
    return r


seg = "segloss/ce/fwdbwd/2x4x1x8x8/threads:2/real_time"
torch = "torch/ce/fwdbwd/2x4x1x8x8/threads:2/real_time"
rows = [
    # segloss: repetitions 2, 3, 2.5 ms and their median aggregate 2.5: median 2.5, spread
    # (3 - 2) / 2.5 = 40%, printed as half the range, +-20%.
    row(seg, 2.0, 5.0, 0.25), row(seg, 3.0, 3.3, 0.17), row(seg, 2.5, 4.0, 0.20),
    row(seg, 2.5, 4.0, 0.20, "median"), row(seg, 99.0, 0.1, 0.01, "mean"),
    # torch: one run of 10 ms: speed-up 10 / 2.5 = 4.0x, 2% of the roofline.
    row(torch, 10.0, 1.0, 0.02),
    # The floors: stream_pointwise moves segloss ce's bytes (1 ms at 10 GB/s = 2.5 ms at 4 GB/s):
    # 1 / 2.5 = 40% of the floor; stream_region moves other bytes and must not be taken.
    row("plain/stream_pointwise/fwdbwd/2x4x1x8x8/threads:2/real_time", 1.0, 10.0, 0.5),
    row("plain/stream_region/fwdbwd/2x4x1x8x8/threads:2/real_time", 0.5, 10.0, 0.5),
    # Skipped: a failed run and a name outside the scheme.
    row("segloss/dice/fwdbwd/2x4x1x8x8/threads:2/real_time", 1.0, 1.0, 0.5, error=True),
    row("BM_something_else/8", 1.0, 1.0, 0.5),
]
failures = []
with tempfile.TemporaryDirectory() as tmp:
    path = pathlib.Path(tmp) / "b.json"
    path.write_text(json.dumps({"context": {}, "benchmarks": rows}))
    plot = shutil.which("gnuplot") is not None
    args = [sys.executable, str(TOOL), str(path), "--out", str(pathlib.Path(tmp) / "img" / "b")]
    r = subprocess.run(args + ([] if plot else ["--no-plot"]), capture_output=True, text=True)
    print(r.stdout, r.stderr)
    if r.returncode != 0:
        failures.append(f"exit {r.returncode}")
    expected = "| ce | 2.5 (±20%) | 4.00 | 20% | 40% | 10.0 | 2.0% | 4.0x |"
    if expected not in r.stdout:
        failures.append("missing row: " + expected)
    if "bandwidth 20.0 GB/s" not in r.stdout:
        failures.append("missing the bandwidth")
    if "| dice |" in r.stdout or "something_else" in r.stdout:
        failures.append("a skipped row was printed")
    if plot:
        for png in ("b-roofline.png", "b-speedup.png"):
            f = pathlib.Path(tmp) / "img" / png
            if not f.exists() or f.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
                failures.append(f"no PNG {png}")
    else:
        print("gnuplot not installed: the table only")
    # No rows at all: a clear failure, not an empty table.
    empty = pathlib.Path(tmp) / "empty.json"
    empty.write_text(json.dumps({"benchmarks": []}))
    r = subprocess.run([sys.executable, str(TOOL), str(empty), "--no-plot"], capture_output=True, text=True)
    if r.returncode == 0 or "no segloss_bench rows" not in r.stderr:
        failures.append("an empty JSON did not fail clearly")
if failures:
    print("FAILED: " + "; ".join(failures))
    sys.exit(1)
print("plot-bench table checked")
