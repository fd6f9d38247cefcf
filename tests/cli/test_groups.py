#!/usr/bin/env python3
"""The machines in groups (--groups N: each group a simulation of its own on a thread of its own)
report exactly what one group reports: every key of the JSON report but the command line, for
every configuration and input below; the same error line and exit status on bad input; and a
signal inside a long event stops every group inside it (the runs agree on what was counted).
Usage: test_groups.py AGILESIM TOOLS_DIR
"""
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN, TOOLS = sys.argv[1], sys.argv[2]
sys.path.insert(0, TOOLS)
import agt  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reports import mixed_trace, report  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ["gups", "compile", "mixed", "dynamic"]
CONFIGS = [
    [],
    ["--caches", "off"],
    ["--shadow-sync", "wp", "--pcid", "off", "--threads", "5"],  # groups with cache workers of their own
    ["--host-backing", "lazy", "--pcids", "2"],
    ["--guest-page", "2m"],                     # native: a TLB of its own, or the shared one when alone
    ["--host-page", "2m", "--agile-dirty", "ept-ad"],
    ["--agile-start", "shadow", "--agile-interval", "50000", "--agile-ad-hw"],
    ["--warmup", "10000", "--interval", "40000", "--native-cycles", "3000000"],  # CPI from native's group
]
GROUPS = [2, 3, 4]

tmp = tempfile.mkdtemp(prefix="ags_groups.")
atexit.register(shutil.rmtree, tmp, True)
failures = 0


def fail(msg):
    global failures
    print("FAIL: " + msg)
    failures += 1


def report_nocmd(args):
    d = report(BIN, args, tmp)
    d.pop("command")
    return d


def differences(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            yield from differences(a.get(k), b.get(k), path + "/" + str(k))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from differences(x, y, "%s[%d]" % (path, i))
    elif a != b and not (a != a and b != b):  # NaN == NaN here
        yield path


trace = mixed_trace(BIN, tmp)
checked = 0
for cfg in CONFIGS:
    for inp in [["--workload", w, "--accesses", "100k"] for w in WORKLOADS] + [[trace, "--threads", "2"]]:
        one = report_nocmd(["compare"] + inp + cfg + ["--groups", "1"])
        if len(one["runs"]) != 4 or (("--interval" in cfg) and not one["intervals"]):
            sys.exit("FAIL: compare %s: the report holds %d runs, %d interval rows" %
                     (" ".join(inp + cfg), len(one["runs"]), len(one["intervals"])))
        for g in GROUPS if cfg == CONFIGS[0] else [2, 4]:  # 3 groups (one of two modes) once: the suite's time
            d = list(differences(one, report_nocmd(["compare"] + inp + cfg + ["--groups", str(g)])))
            if d:
                fail("--groups %d %s: differs from one group in %s" % (g, " ".join(inp + cfg), ", ".join(d[:8])))
        checked += 1

# bad input: the same one error line and exit status, whichever group finds the error first
for args in [[os.path.join(HERE, "..", "corpus", "noncanonical.agt")],
             [os.path.join(HERE, "..", "corpus", "truncated.agt")],
             ["--workload", "gups", "--accesses", "100k", "--footprint", "1g", "--guest-memory", "64m"]]:
    seen = []
    for g in [1] + GROUPS:
        p = subprocess.run([BIN, "compare"] + args + ["--quiet", "--groups", str(g)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        seen.append((p.returncode, p.stderr))
    if seen[0][0] == 0 or len(set(seen)) != 1 or seen[0][1].count("\n") != 1:
        fail("bad input %s: one group and %s groups: %s" % (" ".join(args), GROUPS, seen))

# a signal inside a long event (forks of a process with 1 M pages): every group stops inside it,
# within a second; the runs report the same instructions, accesses and guest
forky = os.path.join(tmp, "forky.agt")
agt.forky(forky, pre_path=forky + ".pre")  # .pre: the accesses before the forks, to time them here
t0 = time.time()
subprocess.run([BIN, "compare", forky + ".pre", "--quiet", "--groups", "4"], stdout=subprocess.DEVNULL, check=True)
pre = time.time() - t0
out = os.path.join(tmp, "fk.json")
p = subprocess.Popen([BIN, "compare", forky, "--quiet", "--groups", "4", "--json", out], stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE, text=True)
time.sleep(1.5 * pre + 2)
p.send_signal(signal.SIGTERM)
t0 = time.time()
try:
    p.wait(timeout=2)
    took = time.time() - t0
    err = p.stderr.read()
    if p.returncode != 130:
        fail("SIGTERM during forks, 4 groups: exit %d: %s" % (p.returncode, err))
    else:
        runs = json.load(open(out))["runs"]
        keys = set((r["instructions"], r["accesses"], json.dumps(r["guest"], sort_keys=True)) for r in runs)
        if len(runs) != 4 or not all(r["interrupted"] for r in runs) or len(keys) != 1:
            fail("SIGTERM during forks, 4 groups: the runs disagree: %s" %
                 [(r["mode"], r["instructions"], r["guest"]["processes"]) for r in runs])
        elif runs[0]["guest"]["processes"] < 2:
            fail("SIGTERM during forks, 4 groups: stopped before the forks (%.1f s after the signal)" % took)
except subprocess.TimeoutExpired:
    p.kill()
    p.wait()
    fail("SIGTERM during forks, 4 groups: still running after 2 s")

print("%d inputs x configurations, groups %s against one: %d differences" % (checked, GROUPS, failures))
sys.exit(1 if failures else 0)
