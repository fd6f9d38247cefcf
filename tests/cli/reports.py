"""Run agilesim with --json into a scratch file and return the report (tests/cli helpers)."""
import json
import os
import subprocess
import sys


def report(binary, args, tmp):
    """The JSON report of `binary args --json ... --quiet`; exits the test on a non-zero status."""
    out = os.path.join(tmp, "r.json")
    p = subprocess.run([binary] + args + ["--json", out, "--quiet"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode:
        sys.exit("FAIL: %s exited %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
    with open(out) as f:
        return json.load(f)


def mixed_trace(binary, tmp):
    """The built-in mixed workload (100k accesses) converted to tmp/mixed.agt; its path."""
    trace = os.path.join(tmp, "mixed.agt")
    subprocess.run([binary, "convert", "--workload", "mixed", "--accesses", "100k", trace], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return trace
