#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Markdown tables for docs/performance.md from a segloss_bench JSON file.

usage: tools/bench_table.py BENCH.json
(BENCH.json from: segloss_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
 --benchmark_out=BENCH.json --benchmark_out_format=json ...). Prints, per shape, every loss's
median forward and forward+backward time on 2 threads with its roofline fraction, then the
plain-loop baselines and the half-precision rows of the same run.
"""
import json
import re
import sys


def main(path):
    data = json.load(open(path))
    med = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median":
            med[re.sub(r"/real_time$", "", b["run_name"])] = b
    shapes = []
    for name in med:
        shape = name.split("/")[1]
        if shape not in shapes:
            shapes.append(shape)
    for shape in shapes:
        rows = {}
        for name, b in med.items():
            m = re.match(r"segloss/%s/loss:(\d+)/backward:(\d)/threads:2$" % re.escape(shape), name)
            if m:
                rows.setdefault(b["label"], {})[int(m.group(2))] = b
        if not rows:
            continue
        print("### [%s]" % shape.replace("x", ", "))
        print("| loss | fwd ms | fwd roofline | fwd+bwd ms | fwd+bwd GB/s | fwd+bwd roofline |")
        print("|---|---|---|---|---|---|")
        for label, r in rows.items():
            if 0 in r and 1 in r:
                f, g = r[0], r[1]
                print("| %s | %.1f | %.0f%% | %.1f | %.2f | %.0f%% |" % (
                    label, f["real_time"], 100 * f["roofline"], g["real_time"],
                    g["bytes_per_second"] / 1e9, 100 * g["roofline"]))
        extra = []
        for name, b in med.items():
            if name.startswith("plain_loop/%s/" % shape) and "backward:1/threads:2" in name:
                extra.append("plain C++ loop %s fwd+bwd %.1f ms" % (b["label"], b["real_time"]))
            if name.startswith("half/%s/" % shape):
                extra.append("%s fwd+bwd %.1f ms (%.0f%% of the roofline of its half-size bytes)" % (
                    b["label"], b["real_time"], 100 * b["roofline"]))
        for e in extra:
            print("- " + e)
        print()


if __name__ == "__main__":
    main(sys.argv[1])
