#!/usr/bin/env python3
"""A mode's results do not depend on which other modes run beside it.

For every configuration and workload below, each mode run alone (`run --mode M`) and each subset
of modes (`compare --modes ...`) must report, key for key, what the full `compare` reports for
that mode: the machines share one event stream, one guest and one TLB, but nothing one machine
does may change another's numbers (a researcher quotes `run --mode native` as the baseline of a
`compare`). Only overhead_vs_native (relative to whichever native ran) is left out: the runs hold
no timing field. Usage: test_modes.py AGILESIM
"""
import atexit
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reports import mixed_trace, report  # noqa: E402

BIN = sys.argv[1]
MODES = ["native", "nested", "shadow", "agile"]
SKIP = "overhead_vs_native"
WORKLOADS = ["gups", "kvstore", "compile", "mixed", "dynamic"]
CONFIGS = [
    [],
    ["--caches", "off"],
    ["--shadow-sync", "wp", "--pcid", "off"],
    ["--host-backing", "lazy", "--pcids", "2"],
    ["--guest-page", "2m"],                     # native: a TLB of its own (beside others) or the shared one (alone)
    ["--guest-page", "1g", "--host-page", "2m"],
    ["--host-page", "2m", "--agile-dirty", "ept-ad"],
    ["--agile-start", "shadow", "--agile-interval", "50000", "--agile-ad-hw"],
    ["--warmup", "10000", "--interval", "40000", "--guest-levels", "5", "--host-levels", "5"],
]
SUBSETS = ["native,agile", "nested+shadow"]

tmp = tempfile.mkdtemp(prefix="ags_modes.")
atexit.register(shutil.rmtree, tmp, True)
failures = 0


def strip(d):
    if isinstance(d, dict):
        return {k: strip(v) for k, v in d.items() if k != SKIP}
    if isinstance(d, list):
        return [strip(x) for x in d]
    return d


def runs(args):
    return {(r.get("workload"), r["mode"]): strip(r) for r in report(BIN, args, tmp)["runs"]}


def same(what, full, part, modes):
    global failures
    if len(part) != modes:  # a report without its runs would compare nothing
        print("FAIL: %s: %d runs reported, %d expected" % (what, len(part), modes))
        failures += 1
    for key, v in part.items():
        ref = full.get(key)
        if ref != v:
            keys = sorted(k for k in set(v) | set(ref or {}) if v.get(k) != (ref or {}).get(k))
            print("FAIL: %s: %s/%s differs from compare's in %s" % (what, key[0], key[1], ", ".join(keys)))
            failures += 1


# a trace too (read through the .agt reader, with read-ahead and a cache worker)
trace = mixed_trace(BIN, tmp)
checked = 0
for cfg in CONFIGS:
    for inp in [["--workload", w, "--accesses", "100k"] for w in WORKLOADS] + [[trace, "--threads", "2"]]:
        name = " ".join(inp + cfg)
        full = runs(["compare"] + inp + cfg)
        if len(full) != len(MODES):
            sys.exit("FAIL: compare %s: %d runs reported" % (name, len(full)))
        for m in MODES:
            same("run --mode %s %s" % (m, name), full, runs(["run", "--mode", m] + inp + cfg), 1)
        for sub in SUBSETS:
            same("compare --modes %s %s" % (sub, name), full, runs(["compare", "--modes", sub] + inp + cfg), 2)
        checked += 1
print("%d inputs x configurations, %d modes alone and %d subsets each: %d differences" %
      (checked, len(MODES), len(SUBSETS), failures))
sys.exit(1 if failures else 0)
