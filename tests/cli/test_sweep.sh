#!/usr/bin/env bash
# agilesim sweep and merge: the grid, merged JSON/CSV/SVG, resuming, interruption, failing points,
# the same sweep through --emit-jobs + GNU parallel and through the Slurm script, bad arguments,
# --label. Usage: test_sweep.sh PATH/TO/agilesim
set -u
B="$1"
T=$(mktemp -d)
trap 'pkill -TERM -f "$T/" 2>/dev/null; rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
GRID="--param agile-threshold=1,4 --param agile-interval=1M,100k --workload gups,mixed --accesses 60k --footprint 64m"

# --- a 2 x 2 grid over 2 inputs on both cores
"$B" sweep -o "$T/s" $GRID -j 2 > "$T/s.out" 2> "$T/s.err"; rc=$?
expect "sweep exit" "$rc" 0
expect "points" "$(json "$T/s/sweep.json" "(d['sweep']['points'], d['sweep']['complete'], len(d['runs']), d['sweep']['missing'])")" "(8, 8, 32, [])"
expect "params per run" "$(json "$T/s/sweep.json" "sorted({(r['params']['agile-threshold'], r['params']['agile-interval']) for r in d['runs']})")" \
  "[('1', '100k'), ('1', '1M'), ('4', '100k'), ('4', '1M')]"
expect "point order" "$(json "$T/s/sweep.json" "[(r['point'], r['workload']) for r in d['runs'] if r['mode'] == 'agile'][2:4]")" \
  "[(2, 'gups'), (3, 'gups')]"
expect "jobs.txt" "$(wc -l < "$T/s/jobs.txt")" 8
expect "table rows" "$(grep -c '^ *[0-9]' "$T/s.out")" 8
for p in agile-threshold agile-interval; do
  grep -q '</svg>' "$T/s/sweep-$p.svg" && ok || no "sweep-$p.svg"
done
expect "CSV header" "$(head -1 "$T/s/sweep.csv" | cut -d, -f1-6)" "agile-threshold,agile-interval,point,kind,workload,mode"
expect "CSV rows" "$(($(wc -l < "$T/s/sweep.csv") - 1))" 32
# a point's own CSV (its command again, with --csv) has the same values as the merged rows
cmd=$(sed -n 7p "$T/s/jobs.txt"); cmd=${cmd% >*}; cmd=${cmd/points\/0006.json/p6.json}
eval "$cmd --csv '$T/p6.csv'" > /dev/null 2>&1 || no "point 6 again"
python3 - "$T/p6.csv" "$T/s/sweep.csv" <<'PY' || no "merged CSV = the point's CSV"
import csv, sys
own = list(csv.DictReader(open(sys.argv[1])))
merged = [r for r in csv.DictReader(open(sys.argv[2])) if r["point"] == "6"]
assert len(own) == 4 and len(merged) == 4, (len(own), len(merged))
for a, b in zip(own, merged):
    for k, v in a.items():
        if k == "overhead_vs_native":
            assert abs(float(v) - float(b[k])) < 1e-5, (k, v, b[k])
        else:
            assert v == b[k], (k, v, b[k])
PY

# --- started again: nothing is redone, the results stay
stamp=$(stat -c %Y.%s "$T"/s/points/*.json | md5sum)
"$B" sweep -o "$T/s" $GRID -j 2 > /dev/null 2> "$T/s2.err" || no "resumed sweep"
grep -q "8 complete from an earlier run, 0 to run" "$T/s2.err" && ok || no "resume: $(head -1 "$T/s2.err")"
expect "resume touched nothing" "$(stat -c %Y.%s "$T"/s/points/*.json | md5sum)" "$stamp"
# a half-done point (its JSON gone, or interrupted) is redone, and only that one
rm "$T/s/points/0005.json"
python3 - "$T/s/points/0002.json" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read().replace('"interrupted": false', '"interrupted": true', 1); open(p, "w").write(s)
PY
"$B" sweep -o "$T/s" $GRID -j 2 > /dev/null 2> "$T/s3.err" || no "sweep redoing 2 points"
grep -q "6 complete from an earlier run, 2 to run" "$T/s3.err" && ok || no "redo: $(head -1 "$T/s3.err")"
expect "redone" "$(json "$T/s/sweep.json" "d['sweep']['complete']")" 8

# --- the same grid as commands for GNU parallel, then merge: the same results
"$B" sweep -o "$T/p" $GRID --emit-jobs "$T/jobs" --emit-slurm "$T/s.sbatch" 2> "$T/e" || no "emit"
expect "emitted only" "$(ls "$T/p/points" | wc -l)" 0
if command -v parallel > /dev/null; then
  parallel --will-cite -j 2 < "$T/jobs" || no "GNU parallel"
  "$B" merge "$T/p" > /dev/null 2>&1 || no "merge after parallel"
  python3 - "$T/s/sweep.json" "$T/p/sweep.json" "$T/s" "$T/p" <<'PY' || no "parallel = local sweep"
import json, sys
a, b = (json.loads(open(p).read().replace(d + "/", "DIR/")) for p, d in ((sys.argv[1], sys.argv[3]), (sys.argv[2], sys.argv[4])))
a.pop("command"); b.pop("command")
assert a == b
PY
  expect "parallel CSV" "$(sed "s#$T/p/#DIR/#g" "$T/p/sweep.csv" | md5sum)" "$(sed "s#$T/s/#DIR/#g" "$T/s/sweep.csv" | md5sum)"
else
  no "GNU parallel is not installed (make deps installs it)"
fi
# the Slurm script: syntax, one array index by hand, and merge naming the missing points
bash -n "$T/s.sbatch" && ok || no "sbatch syntax"
grep -q '^#SBATCH --array=0-7$' "$T/s.sbatch" && ok || no "sbatch array"
rm -rf "$T/p/points"/* "$T/p/sweep.json"
SLURM_ARRAY_TASK_ID=3 bash "$T/s.sbatch" || no "array task 3"
expect "task 3 wrote its point" "$(ls "$T/p/points" | tr '\n' ' ')" "0003.json 0003.log 0003.txt "
"$B" merge "$T/p" > /dev/null 2> "$T/e"; rc=$?
expect "merge with missing points" "$rc" 1
grep -q "7 of 8 points missing: 0 1 2 4 5 6 7" "$T/e" && ok || no "missing: $(cat "$T/e")"
expect "missing in JSON" "$(json "$T/p/sweep.json" "[m['point'] for m in d['sweep']['missing']]")" "[0, 1, 2, 4, 5, 6, 7]"
SLURM_ARRAY_TASK_ID=8 bash "$T/s.sbatch" 2> "$T/e"; expect "no task 8" "$? $(cat "$T/e")" "2 agilesim sweep: no point 8 in $T/p/jobs.txt"

# --- a failing point is named with its command's line and error; the others are merged
"$B" sweep -o "$T/f" --param guest-memory=64m,1g --workload gups --footprint 256m --accesses 40k > /dev/null 2> "$T/e"; rc=$?
expect "failed point exit" "$rc" 1
grep -q "point 0 (gups, guest-memory=64m) failed (exit 1): agilesim: gups: event [0-9]*: the guest's physical memory (64 MiB, --guest-memory) is exhausted.*line 1 of $T/f/jobs.txt" "$T/e" \
  && ok || no "failed point message: $(cat "$T/e")"
expect "failed point missing" "$(json "$T/f/sweep.json" "(d['sweep']['complete'], 'exhausted' in d['sweep']['missing'][0]['why'])")" "(1, True)"

# --- interrupted: exit 130, no process left, the complete points kept and the rest listed as
# missing (that a started-again sweep redoes exactly those is tested above). Point 0 is short,
# point 1 runs for minutes: the signal comes while point 1 runs.
"$B" sweep -o "$T/i" --param accesses=20k,50M,50M --workload gups --footprint 64m -j 1 > /dev/null 2> "$T/i.err" & pid=$!
for _ in $(seq 1200); do [ -e "$T/i/points/0001.log" ] && break; sleep 0.05; done
sleep 0.2
kill -TERM $pid; wait $pid; rc=$?
expect "interrupted sweep" "$rc" 130
expect "no point left running" "$(pgrep -f "$T/i/" | wc -l)" 0
# point 1 wrote its interrupted JSON, or (the signal before its handlers were set) none
expect "after the signal" "$(json "$T/i/sweep.json" "(d['sweep']['complete'], [(m['point'], m['why'] in ('interrupted', 'no result')) for m in d['sweep']['missing']], d['sweep']['missing'][1]['why'])")" \
  "(1, [(1, True), (2, True)], 'no result')"
grep -q "interrupted: the same command resumes" "$T/i.err" && ok || no "interrupted message: $(cat "$T/i.err")"

# --- bad arguments: one line, exit 2
check_bad "sweep: -o DIR is required" sweep --param agile-threshold=1,2
check_bad "sweep: --param bogus: not an option of compare" sweep -o "$T/b" --param bogus=1
check_bad "sweep: --param check: a flag" sweep -o "$T/b" --param check=on
check_bad "sweep: --param workload: not a parameter" sweep -o "$T/b" --param workload=gups
check_bad "sweep: --param: invalid value 'agile-threshold'" sweep -o "$T/b" --param agile-threshold
check_bad "invalid list '1,,2'" sweep -o "$T/b" --param agile-threshold=1,,2
check_bad "sweep: --param agile-threshold given twice" sweep -o "$T/b" --param agile-threshold=1 --param agile-threshold=2
check_bad "--agile-threshold: invalid value 'x'" sweep -o "$T/b" --param agile-threshold=1,x
check_bad "sweep: --json: sweep writes the reports" sweep -o "$T/b" --json x.json
check_bad "sweep: -j: invalid value '0'" sweep -o "$T/b" -j 0
check_bad "sweep: a live command" sweep -o "$T/b" -- /bin/true
check_bad "unknown option '--bogus'" sweep -o "$T/b" --bogus
check_bad "sweep: -o /dev/null: not a directory" sweep -o /dev/null --param agile-threshold=1
check_bad "merge: .*sweep.tsv: cannot open" merge "$T"
check_bad "merge: usage" merge
# --modes as a swept value: a list joined with +
"$B" sweep -o "$T/m" --param modes=native+nested,native+agile --workload gups --accesses 20k --quiet || no "modes sweep"
expect "modes swept" "$(json "$T/m/sweep.json" "[(r['params']['modes'], r['mode']) for r in d['runs']]")" \
  "[('native+nested', 'native'), ('native+nested', 'nested'), ('native+agile', 'native'), ('native+agile', 'agile')]"

# --- --label: JSON "labels" and leading CSV columns
"$B" compare --workload gups --accesses 20k --quiet --label study=a --label x=1,2 --json "$T/l.json" --csv "$T/l.csv" > /dev/null || no "--label"
expect "labels" "$(json "$T/l.json" "d['labels']")" "{'study': 'a', 'x': '1,2'}"
expect "label columns" "$(head -2 "$T/l.csv" | cut -c1-24 | tr '\n' '|')" 'study,x,kind,workload,mo|a,"1,2",run,gups,native,|'
check_bad "--label: invalid value 'a b=1'" compare --workload gups --label "a b=1"
check_bad "--label: key 'k' given twice" compare --workload gups --label k=1 --label k=2

# --- the real-program traces of make demo: readable, the pipeline's processes there; a trace input
# in a sweep is named by its absolute path in the commands and by its file name in the results
TR=$(cd "$(dirname "$0")/../../traces" && pwd)
for t in pipeline perl-hash sqlite-index; do
  "$B" info "$TR/$t.agt" > "$T/info" 2>&1 && ok || no "info $t.agt: $(tail -1 "$T/info")"
done
"$B" info "$TR/pipeline.agt" | grep -q "fork 5 exec 5 exit 6" && ok || no "pipeline.agt: forks"
"$B" sweep -o "$T/t" --param agile-threshold=1,8 "$TR/sqlite-index.agt" --accesses 300k --quiet || no "sweep over a trace"
grep -q " $TR/sqlite-index.agt " "$T/t/jobs.txt" && ok || no "trace path in jobs.txt"
expect "trace in results" "$(json "$T/t/sweep.json" "sorted({r['workload'] for r in d['runs']}), d['sweep']['inputs']")" \
  "['sqlite-index.agt'] ['sqlite-index.agt']"

echo "sweep tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
