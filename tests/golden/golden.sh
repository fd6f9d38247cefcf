#!/usr/bin/env bash
# Golden end-to-end counters (after Cachegrind's *.post.exp): run every case of cases.txt and
# compare every counter of every run with NAME.json exactly. Each case runs twice: with --check
# (every TLB hit verified against the oracle, through the general event loop) and without it
# (the run loop's fast path for common accesses, sim.c run_fast): both must give the golden
# counters (the configuration echo differs only in "check").
# Usage: golden.sh check|regen PATH/TO/agilesim
# `regen` rewrites the NAME.json files: do it only on purpose, and say why in the commit.
set -u
what="$1"; B="$2"
D=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
# the .agt input: a built-in workload converted (the writer is deterministic)
"$B" convert kvstore "$T/k.agt" --accesses 50k --footprint 8m --quiet || { echo "FAIL: convert"; exit 1; }
while IFS='|' read -r name args; do
  name=$(echo "$name" | tr -d ' ')
  case "$name" in ''|\#*) continue;; esac
  args=${args//INPUTS/$D}; args=${args//AGT/$T/k.agt}
  for check in --check ""; do
  # shellcheck disable=SC2086
  if ! "$B" $args --quiet $check --json "$T/$name.json" > /dev/null 2> "$T/err"; then
    echo "FAIL: $name${check:- (no --check)}: agilesim $args: $(cat "$T/err")" >&2; fail=$((fail+1)); continue
  fi
  [ -z "$check" ] && [ "$what" = regen ] && continue
  python3 - "$T/$name.json" "$D/$name.json" "$what" "$name${check:- (no --check)}" <<'PY'
import json, sys
got = json.load(open(sys.argv[1]))
keep = {"config": got["config"], "runs": got["runs"], "workload_params": got["workload_params"]}
for r in keep["runs"]:
    r.pop("interrupted", None)
if not got["config"]["check"]:
    keep["config"]["check"] = 1 # the golden files are written with --check
if sys.argv[3] == "regen":
    json.dump(keep, open(sys.argv[2], "w"), indent=1, sort_keys=True)
    open(sys.argv[2], "a").write("\n")
    sys.exit(0)
try:
    want = json.load(open(sys.argv[2]))
except OSError:
    print("FAIL: %s: no golden file (run golden.sh regen)" % sys.argv[4], file=sys.stderr)
    sys.exit(1)
def diff(a, b, path):
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += diff(a.get(k), b.get(k), path + "." + k)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            tag = x.get("mode", i) if isinstance(x, dict) else i
            out += diff(x, y, "%s[%s]" % (path, tag))
        return out
    return [] if a == b else ["%s: %s, golden %s" % (path, a, b)]
d = diff(keep, want, sys.argv[4])
for line in d[:8]:
    print("FAIL: " + line, file=sys.stderr)
if len(d) > 8:
    print("FAIL: %s: ... %d differences in all" % (sys.argv[4], len(d)), file=sys.stderr)
sys.exit(1 if d else 0)
PY
  if [ $? -eq 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); fi
  done
done < "$D/cases.txt"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
