#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""tools/tune's schedule files: a re-run without the autoschedulers (--schedulers none) keeps
the autoschedulers' rows of the file's earlier run, marked with that run's commit, and
--summary reads them back (the table of hand-structured against auto-scheduled); a run that
times an autoscheduler replaces its earlier row. Run on a scratch copy of the file layout,
without compiling or timing anything. usage: test_tune_records.py ROOT"""
import argparse
import importlib.machinery
import importlib.util
import io
import pathlib
import sys
import tempfile
from contextlib import redirect_stdout

ROOT = pathlib.Path(sys.argv[1])
loader = importlib.machinery.SourceFileLoader("tune", str(ROOT / "tools" / "tune"))
spec = importlib.util.spec_from_loader("tune", loader)
tune = importlib.util.module_from_spec(spec)
loader.exec_module(tune)

EARLIER = """# region_stats for x86-64-linux-avx512_skylake: written by tools/tune on 2026-11-27 (commit abc1234),
# on a machine, 2 threads.
#   vector=32 grain=64 helpers=0       0.800  30.8 28.6
#   vector=16 grain=8 helpers=0        0.996  44.1 36.8 (committed before)
#   Adams2019                          2.436  83.7 153.7
#   Li2018                             8.027  468.6 314.6
#   Mullapudi2016                      Unhandled exception: Error: AutoSchedule: cannot auto-schedule function "stats_lanes" since it has partially specified bounds
# Chosen: vector=32 grain=64 helpers=0.
vector = 32
grain = 64
helpers = 0
"""


class FakeTuner:
    def __init__(self, results):
        self.results = results


def result(score, *ms):
    return {"score": score, "ms": list(ms), "error": None}


failures = []


def check(what, ok):
    if not ok:
        failures.append(what)
        print("FAIL:", what)


with tempfile.TemporaryDirectory() as tmp:
    tune.ROOT = pathlib.Path(tmp)
    folder = tune.ROOT / "schedules" / "x86-64-avx512"
    folder.mkdir(parents=True)
    path = folder / "region_stats.params"
    path.write_text(EARLIER)
    args = argparse.Namespace(target="x86-64-linux-avx512_skylake", threads=2, reps=3, shapes="2,4,8,8,8")
    start = {"vector": 32, "grain": 64, "helpers": 0}
    winner = dict(start)

    # A re-run that timed no autoscheduler but Li2018 (its row is new, the others carried).
    results = {"vector=32 grain=64 helpers=0": result(0.998, 24.4, 17.4),
               "vector=32 grain=128 helpers=0": result(1.010, 27.5, 17.8),
               "Li2018": result(7.5, 400.0, 300.0)}
    with redirect_stdout(io.StringIO()):
        tune.write(args, "x86-64-avx512", "region_stats", [("dice", 0)], FakeTuner(results), start, winner)
    text = path.read_text()
    print(text)
    lines = text.splitlines()
    check("the earlier Adams2019 row is kept, marked with its commit",
          any(l.startswith("#   Adams2019") and "2.436" in l and "(earlier run, commit abc1234)" in l for l in lines))
    check("the earlier Mullapudi2016 failure is kept",
          any(l.startswith("#   Mullapudi2016") and "partially specified bounds" in l and "abc1234" in l for l in lines))
    check("the re-timed Li2018 replaces the earlier row",
          [l for l in lines if l.startswith("#   Li2018")] == [l for l in lines if l.startswith("#   Li2018") and "7.500" in l]
          and sum(l.startswith("#   Li2018") for l in lines) == 1)
    check("the hand-structured rows are this run's only",
          not any("0.800" in l for l in lines) and any("0.998" in l and "(committed before)" in l for l in lines))
    check("the parameters are the winner's", "vector = 32" in lines and "grain = 64" in lines)

    # A second re-run keeps the same marks (no double marking, the first commit stays).
    with redirect_stdout(io.StringIO()):
        tune.write(args, "x86-64-avx512", "region_stats", [("dice", 0)],
                   FakeTuner({"vector=32 grain=64 helpers=0": result(1.0, 24.0, 17.0)}), start, winner)
    lines = path.read_text().splitlines()
    adams = [l for l in lines if l.startswith("#   Adams2019")]
    check("a second re-run keeps one Adams2019 row with the first commit",
          len(adams) == 1 and adams[0].count("(earlier run") == 1 and "abc1234" in adams[0])
    check("Li2018's row of the run before is carried now",
          any(l.startswith("#   Li2018") and "7.500" in l and "(earlier run" in l for l in lines))

    # --summary reads the carried rows: scores, marked as an earlier run's, and the failure.
    out = io.StringIO()
    with redirect_stdout(out):
        tune.summary("x86-64-avx512")
    table = out.getvalue()
    print(table)
    row = next((l for l in table.splitlines() if l.startswith("| region_stats |")), "")
    check("summary shows Adams2019's earlier score", "2.436 (earlier run)" in row)
    check("summary shows Mullapudi2016's failure", "refuses .bound()" in row)
    check("summary's chosen and before", "vector=32 grain=64 helpers=0 (1.000)" in row)

sys.exit(1 if failures else 0)
