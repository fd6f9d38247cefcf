#!/usr/bin/env python3
"""The numbers the documentation quotes, computed by running agilesim.

Every generated figure in README.md and docs/*.md sits between <!-- gen:NAME --> and
<!-- /gen --> (invisible in rendered Markdown). This script runs the commands behind them and
  --check   fails, naming each figure whose text differs from what agilesim prints now (the test);
  --update  rewrites them in place.
usage: docnumbers.py PATH/TO/agilesim --check|--update
docs/validation.md is generated whole by `make validate` (validate/validate.py) and is not checked here.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILES = ["README.md", "docs/model.md"]
SPAN = re.compile(r"<!-- gen:([a-z0-9-]+) -->(.*?)<!-- /gen -->", re.S)


def compute(agilesim):
    tmp = tempfile.mkdtemp()
    out = {}
    # README's example: the command shown, its output as printed
    js = os.path.join(tmp, "r.json")
    r = subprocess.run([agilesim, "compare", "gups", "compile", "mixed", "--no-legend", "--quiet", "--json", js],
                       capture_output=True, text=True, check=True)
    out["readme-example"] = ("\n```\n$ ./build/agilesim compare gups compile mixed --no-legend\n" + r.stdout + "```\n")
    runs = {(x["workload"], x["mode"]): x for x in json.load(open(js))["runs"]}
    pct = lambda w, m: f"{100 * runs[(w, m)]['overhead_vs_native']:.0f}%"
    out["readme-gups-nested"] = pct("gups", "nested")
    out["readme-compile-shadow"] = pct("compile", "shadow")
    # docs/model.md section 9: agile's dirty scans on gups at the default size and at 4 M accesses
    out["model-gups-scans-16m"] = str(runs[("gups", "agile")]["agile"]["scans"])
    js4 = os.path.join(tmp, "g4.json")
    subprocess.run([agilesim, "run", "--mode", "agile", "gups", "--accesses", "4M", "--quiet", "--json", js4],
                   capture_output=True, check=True)
    s4 = json.load(open(js4))["runs"][0]["agile"]["scans"]
    out["model-gups-scans-4m"] = "none" if s4 == 0 else str(s4)
    return out


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("--check", "--update"):
        sys.exit(__doc__)
    values = compute(os.path.abspath(sys.argv[1]))
    seen, bad = set(), 0
    for rel in FILES:
        path = os.path.join(ROOT, rel)
        text = open(path).read()

        def sub(m):
            nonlocal bad
            name, old = m.group(1), m.group(2)
            seen.add(name)
            if name not in values:
                print(f"{rel}: gen:{name}: no such figure in docnumbers.py", file=sys.stderr)
                bad += 1
                return m.group(0)
            if old != values[name]:
                bad += sys.argv[2] == "--check"
                print(f"{rel}: gen:{name}: the document says {old.strip()[:200]!r}, agilesim now gives "
                      f"{values[name].strip()[:200]!r}", file=sys.stderr)
            return f"<!-- gen:{name} -->{values[name]}<!-- /gen -->"

        new = SPAN.sub(sub, text)
        if sys.argv[2] == "--update" and new != text:
            open(path, "w").write(new)
    for name in sorted(set(values) - seen):
        print(f"gen:{name}: computed but quoted nowhere", file=sys.stderr)
        bad += 1
    if bad:
        sys.exit(f"docnumbers: {bad} figure(s) differ; if the change is intended: "
                 f"python3 tests/docs/docnumbers.py {sys.argv[1]} --update")
    print(f"docnumbers: {len(seen)} figures as documented")


if __name__ == "__main__":
    main()
