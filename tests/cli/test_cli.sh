#!/usr/bin/env bash
# End-to-end tests of the agilesim command line: exact anchor values of docs/model.md §3 (walk lengths), reports,
# bad input, interruption. Usage: test_cli.sh PATH/TO/agilesim
set -u
B="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

OFF="--tlb off --pwc off --ntlb off --caches off --quiet --check --accesses 20000 --warmup 0 --footprint 64m"

# --- walk-length anchors (docs/model.md §3): references per walk, caches off
"$B" compare gups $OFF --json "$T/a.json" >/dev/null || no "compare gups"
for m in native:4 nested:24 shadow:4 agile:24; do
  mode=${m%%:*}; want=${m##*:}
  got=$(json "$T/a.json" "[r['walk_refs']/r['walks'] for r in d['runs'] if r['mode']=='$mode'][0]")
  expect "refs/walk $mode" "$got" "$want.0"
done
expect "checksums equal" "$(json "$T/a.json" "len(set(r['translation_checksum'] for r in d['runs']))")" 1
"$B" compare gups $OFF --modes native,nested --guest-levels 5 --host-levels 5 --json "$T/b.json" >/dev/null
expect "5-level nested" "$(json "$T/b.json" "d['runs'][1]['walk_refs']/d['runs'][1]['walks']")" "35.0"
expect "5-level native" "$(json "$T/b.json" "d['runs'][0]['walk_refs']/d['runs'][0]['walks']")" "5.0"
"$B" compare gups $OFF --modes native,nested,shadow --guest-page 2m --host-page 2m --json "$T/c.json" >/dev/null
expect "2M/2M nested" "$(json "$T/c.json" "d['runs'][1]['walk_refs']/d['runs'][1]['walks']")" "15.0"
expect "2M/2M native" "$(json "$T/c.json" "d['runs'][0]['walk_refs']/d['runs'][0]['walks']")" "3.0"
expect "2M/2M shadow" "$(json "$T/c.json" "d['runs'][2]['walk_refs']/d['runs'][2]['walks']")" "3.0"
for L in 1:4 2:8 3:12 4:16 5:24; do
  "$B" run --mode agile gups $OFF --agile-force-level ${L%%:*} --json "$T/f.json" >/dev/null
  expect "agile force ${L%%:*}" "$(json "$T/f.json" "d['runs'][0]['walk_refs']/d['runs'][0]['walks']")" "${L##*:}.0"
done

# --- every workload: shadow walks like native (4), nested 24, with walk caches off
"$B" compare $OFF --pwc off --ntlb off --accesses 30000 --json "$T/all.json" >/dev/null || no "suite, caches off"
expect "suite refs/walk" "$(json "$T/all.json" "sorted({(r['mode'], r['walk_refs']/r['walks']) for r in d['runs']})")" \
  "[('agile', 24.0), ('native', 4.0), ('nested', 24.0), ('shadow', 4.0)]"
expect "suite checksums" "$(json "$T/all.json" "all(len({r['translation_checksum'] for r in d['runs'] if r['workload']==w})==1 for w in {r['workload'] for r in d['runs']})")" True

# --- reports: JSON keys of docs/cli.md, CSV, SVG
"$B" compare --workload gups --accesses 50000 --footprint 64m --quiet --interval 20000 \
    --json "$T/r.json" --csv "$T/r.csv" --svg "$T/r.svg" > "$T/out.txt" || no "compare with reports"
python3 - "$T/r.json" <<'PY' || no "JSON keys"
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("schema_version", "tool", "version", "command", "config", "runs"):
    assert k in d, k
assert d["schema_version"] == 1 and d["tool"] == "agilesim"
assert [r["mode"] for r in d["runs"]] == ["native", "nested", "shadow", "agile"]
for r in d["runs"]:
    for k in ("workload", "mode", "instructions", "accesses", "tlb_misses", "walks", "walk_refs",
              "walk_refs_hist", "vm_exits", "agile", "cycles", "overhead_vs_native",
              "translation_checksum", "interrupted"):
        assert k in r, k
    assert set(r["vm_exits"]) >= {"total", "pt_write", "hidden_fault", "guest_fault", "cr3_write", "invlpg", "dirty", "ept_violation"}
    assert set(r["agile"]) >= {"to_nested", "to_shadow", "walks_full_shadow"}
    assert set(r["cycles"]) >= {"total", "base", "walk", "vmm", "guest_kernel"}
    c = r["cycles"]; assert c["total"] == c["base"] + c["walk"] + c["vmm"] + c["guest_kernel"]
    assert sum(r["walk_refs_hist"].values()) == r["walks"]
    assert sum(int(k) * v for k, v in r["walk_refs_hist"].items()) == r["walk_refs"]
    assert r["interrupted"] is False
assert d["runs"][0]["overhead_vs_native"] == 0
assert len(d["intervals"][0]["rows"]) >= 2
assert d["config"]["agile_threshold"] == 2 and d["config"]["shadow_sync"] == "unsync"
assert d["config"]["shadow_prefetch"] == 8 and d["config"]["agile_dirty"] == "pt-write"
for r in d["runs"]:
    assert r["tlb_misses"] == r["walks"], r["mode"]   # every miss walks, shared or after a VMM flush
    assert r["vmm_flush_misses"] <= r["vmm_tlb_flushes"] * 2000, r["mode"]
    assert "prefetched" in r["shadow_pages"]
assert [r["vmm_tlb_flushes"] for r in d["runs"][:2]] == [0, 0]   # native and nested never flush
PY
python3 - "$T/r.csv" <<'PY' || no "CSV"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
runs = [r for r in rows if r["kind"] == "run"]
assert [r["mode"] for r in runs] == ["native", "nested", "shadow", "agile"]
assert len({r["translation_checksum"] for r in runs}) == 1
assert any(r["kind"] == "interval" for r in rows)
PY
python3 - "$T/r.svg" <<'PY' || no "SVG"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
groups = [g for g in root.iter(ns + "g") if g.get("class") == "workload"]
assert len(groups) == 1 and groups[0].get("id") == "wl-gups"
assert len(list(groups[0].iter(ns + "rect"))) == 16   # 4 modes x 4 stacked parts
PY
grep -q "best virtualized" "$T/out.txt" && ok || no "text verdict"

# --- bad input: one clear line, exit 2, nothing half-written
check_bad "unknown option '--bogus'" compare --bogus
check_bad "--l2-tlb 100:7: entries must be a multiple of ways" compare --l2-tlb 100:7 --quiet
check_bad "sets a power of two" compare --l2-tlb 96:4 --quiet
check_bad "--guest-levels: invalid value '3'" compare --guest-levels 3
check_bad "--accesses: invalid value 'lots'" compare --accesses lots
check_bad "unknown workload 'nosuch'" compare --workload nosuch
check_bad "run needs --mode" run gups
check_bad "--json /nonexistent/dir/x.json: cannot write there" compare gups --json /nonexistent/dir/x.json
check_bad "--agile-force-level must be" compare gups --agile-force-level 6 --guest-levels 4
check_bad "unknown command" frobnicate
check_bad "--warmup: invalid value '120%'" compare gups --warmup 120%
ls "$T"/*.tmp.* >/dev/null 2>&1 && no "temporary files left behind" || ok

# --- SIGTERM (a background job of a script ignores SIGINT, which agilesim respects): partial
# statistics, exit 130, complete outputs
"$B" compare gups --accesses 2000M --warmup 0 --quiet --json "$T/i.json" --csv "$T/i.csv" > "$T/i.txt" 2>/dev/null &
pid=$!
sleep 2
kill -TERM $pid
wait $pid; rc=$?
expect "SIGINT exit code" "$rc" 130
expect "interrupted flag" "$(json "$T/i.json" "all(r['interrupted'] for r in d['runs'])")" True
expect "partial accesses" "$(json "$T/i.json" "0 < d['runs'][0]['accesses'] < 2000000000")" True
python3 -c "import csv,sys; rows=list(csv.DictReader(open(sys.argv[1]))); assert len(rows)==4 and rows[0]['interrupted']=='1'" "$T/i.csv" && ok || no "interrupted CSV"
grep -q "interrupted" "$T/i.txt" && ok || no "interrupted text"

# --- run lengths: a trace's header and JSON say what was counted; instructions; warm-up never reached
"$B" convert gups "$T/g.agt" --accesses 100k --quiet
# convert --accesses on a trace: its first N accesses (and the events before the N-th)
"$B" convert "$T/g.agt" "$T/g4.agt" --accesses 40k --quiet || no "convert --accesses of a trace"
expect "convert --accesses of a trace" "$("$B" info "$T/g4.agt" | sed -n 's/^accesses: *\([0-9]*\).*/\1/p')" 40000
"$B" compare "$T/g.agt" --quiet --json "$T/t.json" > "$T/t.txt" || no "compare trace"
grep -q "^# g.agt: counted 100000 accesses, 300000 instructions, no warm-up$" "$T/t.txt" && ok || no "trace header: $(head -3 "$T/t.txt")"
expect "trace JSON" "$(json "$T/t.json" "(d['config']['warmup'], d['runs'][0]['counted_accesses'], d['runs'][0]['counted_from_instruction'], d['runs'][0]['warmup_incomplete'])")" "(0, 100000, 0, False)"
"$B" compare gups --quiet --instructions 300k --warmup-instructions 90k --json "$T/n.json" > /dev/null || no "--instructions"
expect "--instructions counts N (+ the last event's)" "$(json "$T/n.json" "all(300000 <= r['counted_instructions'] < 300008 and 90000 <= r['counted_from_instruction'] < 90008 for r in d['runs'])")" True
"$B" compare "$T/g.agt" --quiet --warmup 200k --json "$T/wi.json" > /dev/null 2> "$T/wi.err"; rc=$?
expect "warm-up never reached: exit" "$rc" 2
grep -q "g.agt: the input ended before the warm-up (200000 accesses) ended: nothing was counted" "$T/wi.err" && ok || no "warm-up message: $(cat "$T/wi.err")"
expect "warm-up never reached: JSON" "$(json "$T/wi.json" "[(r['warmup_incomplete'], r['accesses']) for r in d['runs']][0]")" "(True, 0)"
grep -q "agile: 0 dirty scans in the counted run.*warning: fewer than 3 scans" "$T/t.txt" && ok || no "short-run warning: $(tail -2 "$T/t.txt")"
check_bad "--accesses and --instructions: give one of them" compare gups --accesses 1M --instructions 1M
check_bad "percentage applies to built-in workloads" compare gups "$T/g.agt" --warmup 10% --json "$T/late.json"
[ -e "$T/late.json" ] && no "late usage error wrote a report" || ok
check_bad "nosuch.agt: cannot open" compare gups "$T/nosuch.agt"

# --- SIGTERM during the warm-up: nothing counted, exit 130, the reports say warmup_incomplete
"$B" compare gups --accesses 2000M --quiet --json "$T/iw.json" > /dev/null 2> "$T/iw.err" &
pid=$!
sleep 1
kill -TERM $pid
wait $pid; rc=$?
expect "SIGINT in warm-up: exit" "$rc" 130
expect "SIGINT in warm-up: JSON" "$(json "$T/iw.json" "all(r['warmup_incomplete'] and r['interrupted'] and r['accesses'] == 0 for r in d['runs'])")" True
grep -q "interrupted before the warm-up" "$T/iw.err" && ok || no "SIGINT in warm-up: $(cat "$T/iw.err")"

# --- outputs: a symlink's target is replaced, a FIFO written through, '-' is standard output;
# a directory, one file for two outputs, or an output on an input are refused before simulating
Q="compare gups --accesses 20k --quiet --modes native"
echo old > "$T/target.json"; ln -s target.json "$T/link.json"
"$B" $Q --json "$T/link.json" > /dev/null && [ -L "$T/link.json" ] && json "$T/target.json" "d['tool']" | grep -q agilesim && ok || no "symlink output"
mkfifo "$T/out.fifo"; (cat "$T/out.fifo" > "$T/fifo.txt" &)
"$B" $Q --json "$T/out.fifo" > /dev/null && [ -p "$T/out.fifo" ] && ok || no "FIFO output"
sleep 0.3; json "$T/fifo.txt" "d['tool']" | grep -q agilesim && ok || no "FIFO output content"
expect "--json - is standard output" "$("$B" $Q --json - | python3 -c "import json,sys; print(json.load(sys.stdin)['tool'])")" agilesim
check_bad "--json and --csv name the same file" $Q --json "$T/same" --csv "$T/same"
check_bad "is a directory" $Q --json "$T"
"$B" convert gups "$T/in.agt" --accesses 1k --quiet
check_bad "is an input trace" compare "$T/in.agt" --json "$T/in.agt"
"$B" $Q --json /dev/full > /dev/null 2> "$T/e"; rc=$?
[ $rc -eq 1 ] && grep -q "/dev/full: write failed: No space left on device" "$T/e" && ok || no "/dev/full: rc $rc $(cat "$T/e")"
"$B" $Q > /dev/full 2> "$T/e"; rc=$?
[ $rc -eq 1 ] && grep -q "standard output: write failed" "$T/e" && ok || no "stdout on /dev/full: rc $rc"
"$B" $Q >&- 2> "$T/e"; rc=$?
[ $rc -eq 1 ] && ok || no "closed stdout: rc $rc"
ls "$T"/*.tmp.* >/dev/null 2>&1 && no "temporary files left" || ok

# --- signals while blocked on input: a stalled pipe, a FIFO with no writer; SIGHUP as SIGTERM
mkfifo "$T/in.fifo"
"$B" compare gups --accesses 20k "$T/in.fifo" --quiet --modes native --json "$T/f.json" > /dev/null 2>&1 &
pid=$!; sleep 1.5; kill -TERM $pid; wait $pid; rc=$?
expect "FIFO without a writer, SIGTERM: exit" "$rc" 130
expect "FIFO without a writer: finished input kept" "$(json "$T/f.json" "[r['workload'] for r in d['runs']]")" "['gups']"
mkfifo "$T/stall.fifo"
sleep 30 > "$T/stall.fifo" 2>/dev/null &
spid=$!
"$B" compare - --quiet --json "$T/p.json" < "$T/stall.fifo" > /dev/null 2>&1 &
pid=$!; sleep 1; kill -TERM $pid; wait $pid; rc=$?
kill $spid 2>/dev/null; wait $spid 2>/dev/null
expect "stalled standard input, SIGTERM: exit" "$rc" 130
"$B" compare gups --accesses 2000M --warmup 0 --quiet --modes native --json "$T/h.json" > /dev/null 2>&1 &
pid=$!; sleep 1; kill -HUP $pid; wait $pid; rc=$?
expect "SIGHUP: exit" "$rc" 130
expect "SIGHUP: complete JSON" "$(json "$T/h.json" "d['runs'][0]['interrupted']")" True

# --- calibration (docs/model.md section 11): the built-in workloads that fault do so every 2,000 to
# 130,000 instructions, as recorded real programs do; the stress tests far more often
"$B" compare kvstore compile mixed dynamic compile-stress mixed-stress kvstore-stress --modes native --quiet \
    --accesses 2M --json "$T/cal.json" > "$T/cal.txt" || no "calibration run"
python3 - "$T/cal.json" <<'PY' || no "calibration ranges"
import json, sys
for r in json.load(open(sys.argv[1]))["runs"]:
    g = r["guest"]; f = g["page_faults"] + g["cow_faults"]
    ipf = r["instructions"] / max(f, 1)
    stress = r["workload"] in ("dynamic", "compile-stress", "mixed-stress", "kvstore-stress")
    assert (ipf < 2000) if stress else (2000 <= ipf <= 130000), (r["workload"], ipf)
PY
grep -q "^# dynamic (stress test" "$T/cal.txt" && ok || no "stress named in the text output"
"$B" compare --modes native --accesses 20k --quiet --json "$T/suite.json" > /dev/null
expect "default suite has no stress tests" "$(json "$T/suite.json" "sorted({r['workload'] for r in d['runs']})")" \
  "['compile', 'graph', 'gups', 'kvstore', 'mixed', 'static']"

# --- who wins where (issues 3 and 4), at a reduced but warmed-up size: on static (stable) shadow
# beats nested; on compile (churn) nested beats shadow; agile is within 2% of the better one
# (the scan interval is scaled down with the run: 5M instead of 10M instructions)
"$B" compare static compile --quiet --accesses 3M --warmup 3M --footprint 16m --agile-interval 5M --json "$T/w.json" >/dev/null
python3 - "$T/w.json" <<'PY' || no "mode ordering"
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
c = {(r["workload"], r["mode"]): r["cycles"]["total"] for r in runs}
assert c[("static", "shadow")] < c[("static", "nested")], c
assert c[("compile", "nested")] < c[("compile", "shadow")], c
for w in ("static", "compile"):
    best = min(c[(w, "shadow")], c[(w, "nested")])
    assert c[(w, "agile")] <= 1.02 * best, (w, c[(w, "agile")], best)
PY

# per-command help: the synopsis and only that command's options (from the option table)
"$B" compare --help > "$T/h.txt" && grep -q -- "^  --modes LIST" "$T/h.txt" && ! grep -q -- "--recorder" "$T/h.txt" && ok ||
  no "compare --help"
"$B" record -h > "$T/h.txt" && grep -q -- "^  --roi" "$T/h.txt" && ! grep -q -- "--modes" "$T/h.txt" && ok || no "record -h"
"$B" help convert | head -1 | grep -q "^usage: agilesim convert" && ok || no "help convert"
"$B" help nosuch > /dev/null 2>&1; expect "help of an unknown command" $? 2
"$B" record -o "$T/x.agt" true 2> "$T/e"; rc=$?
[ $rc -eq 2 ] && grep -q "goes after --" "$T/e" && ok || no "record without --: rc=$rc $(cat "$T/e")"

# --- simulated memory (issue 13, item 8). The reservation is sized from --guest-memory and the
# modes, and cut to fit under RLIMIT_AS: the results do not change, a run that needs more than fits
# ends with one line naming the limit. (ASan reserves its own shadow memory and cannot start under
# a small limit: the ulimit cases are not run there.)
if ! nm -C "$B" 2>/dev/null | grep -q __asan_init; then
  "$B" compare gups --accesses 2000 --quiet --json "$T/u0.json" > /dev/null
  (ulimit -v 4000000; "$B" compare gups --accesses 2000 --json "$T/u1.json" > /dev/null 2> "$T/e"); rc=$?
  [ $rc -eq 0 ] && grep -q "note: RLIMIT_AS (ulimit -v) leaves room for" "$T/e" && ok || no "ulimit -v 4 GB: rc=$rc $(cat "$T/e")"
  expect "results under ulimit -v" "$(json "$T/u1.json" "d['runs']==json.load(open('$T/u0.json'))['runs']")" True
  (ulimit -v 1000000; "$B" compare gups --accesses 1M --footprint 4g --quiet > /dev/null 2> "$T/e"); rc=$?
  [ $rc -eq 1 ] && [ "$(wc -l < "$T/e")" -eq 1 ] &&
    grep -q "the guest's physical memory (.*) is exhausted: RLIMIT_AS (ulimit -v 976 MiB)" "$T/e" && ok ||
    no "ulimit -v 1 GB, 4 GiB footprint: rc=$rc $(cat "$T/e")"
fi
"$B" compare gups --accesses 100k --footprint 1g --guest-memory 64m --quiet > /dev/null 2> "$T/e"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < "$T/e")" -eq 1 ] && grep -q "the guest's physical memory (64 MiB, --guest-memory) is exhausted" "$T/e" &&
  ok || no "--guest-memory 64m exhausted: rc=$rc $(cat "$T/e")"
check_bad "--guest-memory" compare gups --guest-memory 1m
check_bad "--max-memory" compare gups --max-memory lots
# --max-memory: a run whose resident size passes the budget stops with the statistics so far
# (instead of the OOM killer's silent end); gups over 4 TiB needs about 5 KB per access at first
"$B" compare gups --accesses 20M --footprint 4t --warmup 0 --max-memory 200m --quiet --json "$T/mm.json" > /dev/null 2> "$T/e"; rc=$?
[ $rc -eq 1 ] && grep -q "stopped: agilesim's resident memory reached .* over the budget of 0.20 GiB (--max-memory)" "$T/e" &&
  [ "$(json "$T/mm.json" "all(r['interrupted'] and 0 < r['accesses'] < 20000000 for r in d['runs'])")" = True ] && ok ||
  no "--max-memory: rc=$rc $(cat "$T/e")"

# --- a signal inside a long event: 3,000 forks of a process with 1 M pages (minutes of events, 4,096
# to a batch) stop at the next page table, within a second, not at the end of the batch
python3 -c "import sys; sys.path.insert(0, sys.argv[2]); import agt; agt.forky(sys.argv[1])" "$T/forky.agt" "$(dirname "$0")/../tools"
"$B" compare "$T/forky.agt" --quiet --json "$T/fk.json" > /dev/null 2> "$T/e" &
pid=$!
sleep 6
kill -TERM $pid
for i in $(seq 20); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then kill -KILL $pid; no "SIGTERM during forks: still running after 2 s"; wait $pid
else wait $pid; rc=$?; [ $rc -eq 130 ] && [ "$(json "$T/fk.json" "all(r['interrupted'] for r in d['runs'])")" = True ] && ok ||
  no "SIGTERM during forks: rc=$rc $(cat "$T/e")"; fi

# --- the text table explains itself (issue 16): a legend with --legend (not when piped by default),
# the verdict says what it compares against, small values stay visible
"$B" compare gups compile --accesses 200k --quiet --legend --json "$T/d1.json" > "$T/t.txt"
grep -q "^  MPKI          TLB misses per 1,000 guest instructions" "$T/t.txt" && ok || no "legend"
grep -q "best virtualized: .* against native); against " "$T/t.txt" && ok || no "verdict names its reference"
"$B" compare gups --accesses 20k --quiet > "$T/t2.txt"; ! grep -q "MPKI          TLB" "$T/t2.txt" && ok || no "no legend on a pipe"
grep "^compile  shadow" "$T/t.txt" | awk '$7 != "0.00" && $7 + 0 > 0 && $7 + 0 < 0.005 { f = 1 } END { exit !f }' && ok ||
  no "a small VMM Mcyc keeps its digits: $(grep '^compile  shadow' "$T/t.txt")"
# --- diff: two reports side by side, the configuration that differs, runs in one only
"$B" compare gups --accesses 200k --agile-threshold 8 --modes native,nested,agile --quiet --json "$T/d2.json" > /dev/null
"$B" diff "$T/d1.json" "$T/d2.json" > "$T/diff.txt"; expect "diff exit" $? 0
grep -q "^# config agile_threshold: 2 -> 8" "$T/diff.txt" && grep -q "^gups     native .*=" "$T/diff.txt" &&
  grep -q "^compile  agile   only in A" "$T/diff.txt" && ! grep -q "^gups     shadow .*[0-9]" "$T/diff.txt" && ok ||
  no "diff: $(cat "$T/diff.txt")"
printf '{"runs": [], "config": {"a": "abc' > "$T/cut.json"
check_bad "cut.json: byte 33: not an agilesim JSON report: unterminated string" diff "$T/d1.json" "$T/cut.json"
check_bad "/dev/null: byte 0: not an agilesim JSON report: unexpected end" diff "$T/d1.json" /dev/null
echo '{"runs": 3, "config": {}}' > "$T/nr.json"
check_bad "nr.json: not an agilesim JSON report (no runs or config)" diff "$T/nr.json" "$T/d1.json"

# --- time series: --interval-svg charts the interval rows (overhead, exits, agile's pages) per input
"$B" compare mixed gups --accesses 400k --interval 200000 --interval-svg "$T/ts.svg" --quiet > /dev/null; expect "interval-svg exit" $? 0
python3 - "$T/ts.svg" <<'PY' && ok || no "interval SVG"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
lines = root.findall(".//" + ns + "polyline")
texts = [t.text or "" for t in root.iter(ns + "text")]
assert len(lines) == 2 * (3 + 3 + 2), len(lines)  # two inputs: 3 overhead, 3 exits, 2 agile page series
assert all(len(l.get("points").split()) >= 5 for l in lines)
assert "mixed" in texts and "gups" in texts and any("agile: guest page-table pages" in t for t in texts)
PY
check_bad "--interval-svg .*give --interval N too" compare gups --interval-svg "$T/x.svg"

# --- the bar chart: a y-axis label, a title that is not clipped with one workload, long names cut
# in the middle (the full name in the tooltip)
"$B" convert gups --accesses 3000 "$T/a_trace_with_a_rather_long_name_7.agt" --quiet
"$B" compare gups "$T/a_trace_with_a_rather_long_name_7.agt" --accesses 3000 --svg "$T/bars.svg" --quiet > /dev/null
python3 - "$T/bars.svg" <<'PY' && ok || no "bar chart layout"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
texts = [t.text or "" for t in root.iter(ns + "text")]
assert "cycles / native's cycles" in texts
title = [t for t in texts if t.startswith("agilesim: cycles per mode")][0]
assert float(root.get("width")) >= 20 + 8.5 * len(title), (root.get("width"), title)
shown = [(t.find(ns + "title").tail or "", t.find(ns + "title").text) for t in root.iter(ns + "text") if t.find(ns + "title") is not None]
cut = [(v, full) for v, full in shown if "\u2026" in v]
assert len(cut) == 1 and cut[0][0].startswith("a_trac") and cut[0][0].endswith("_7.agt"), shown
assert cut[0][1].endswith("a_trace_with_a_rather_long_name_7.agt"), cut
PY

# --- "did you mean" for a misspelled option or workload (nothing when nothing is close)
check_bad "unknown option '--mdoes' (did you mean '--modes'?)" compare --mdoes all
check_bad "unknown workload or argument 'gpus' (did you mean 'gups'?)" compare gpus
check_bad "unknown workload 'kvstor' (did you mean 'kvstore'?)" compare --workload kvstor
check_bad "unknown option '--zzzzzz' (see" compare --zzzzzz

# --- --threads N: the cache models replay on worker threads; results are identical for every N
for t in 1 2 5; do
  "$B" compare gups mixed --accesses 300k --interval 100000 --threads $t --quiet --json "$T/th$t.json" > /dev/null || no "--threads $t"
done
expect "--threads 1/2/5 give the same JSON" "$(python3 -c "
import json, sys
d = [json.load(open(sys.argv[i])) for i in (1, 2, 3)]
key = lambda x: (x['runs'], x['config'], x['intervals'])
print(key(d[0]) == key(d[1]) == key(d[2]))" "$T/th1.json" "$T/th2.json" "$T/th5.json")" True
check_bad "--threads" compare gups --threads 0

# --- read-ahead (a thread beyond the cache workers, here with caches off, decodes the next batch
# while the simulator runs this one): the same results and the same error for a truncated trace
# as reading in the loop, and SIGTERM still stops the run with its statistics
"$B" convert mixed "$T/ra.agt" --accesses 600k --quiet
for t in 1 2; do
  "$B" compare "$T/ra.agt" --caches off --interval 100000 --threads $t --quiet --json "$T/ra$t.json" > /dev/null || no "read-ahead --threads $t"
done
# same_run A.json B.json N: the two runs' results, configuration and intervals are equal, N accesses
same_run() {
  python3 -c "
import json, sys
d = [json.load(open(sys.argv[i])) for i in (1, 2)]
key = lambda x: (x['runs'], x['config'], x['intervals'])
print(key(d[0]) == key(d[1]) and d[0]['runs'][0]['accesses'] == int(sys.argv[3]))" "$1" "$2" "$3"
}
expect "read-ahead: the same JSON" "$(same_run "$T/ra1.json" "$T/ra2.json" 600000)" True
head -c 300000 "$T/ra.agt" > "$T/ra-cut.agt"
for t in 1 2; do
  "$B" run --mode native --caches off "$T/ra-cut.agt" --threads $t --quiet > /dev/null 2> "$T/racut$t.err"
  echo "exit $?" >> "$T/racut$t.err"
done
grep -q "ra-cut.agt: truncated" "$T/racut2.err" && cmp -s "$T/racut1.err" "$T/racut2.err" && ok || no "read-ahead: truncated trace: $(cat "$T/racut1.err" "$T/racut2.err")"
"$B" compare gups --accesses 2000M --warmup 0 --caches off --threads 2 --quiet --json "$T/ra-sig.json" > /dev/null 2>&1 &
pid=$!
sleep 1
kill -TERM $pid
wait $pid; rc=$?
expect "read-ahead: SIGTERM exit code" "$rc" 130
expect "read-ahead: SIGTERM statistics" "$(json "$T/ra-sig.json" "all(r['interrupted'] and 0 < r['accesses'] < 2000000000 for r in d['runs'])")" True

# --- a compressed trace decompressed on a thread of its own (a thread to spare beyond read-ahead and
# the cache workers: here caches off, --threads 3): the same JSON as one thread, the same error for a
# file cut short, SIGTERM still stops
"$B" convert mixed "$T/dz.agt.zst" --accesses 1500k --zstd --quiet
for t in 1 3; do
  "$B" compare "$T/dz.agt.zst" --caches off --interval 200000 --threads $t --quiet --json "$T/dz$t.json" > /dev/null || no "zstd thread --threads $t"
done
expect "zstd thread: the same JSON" "$(same_run "$T/dz1.json" "$T/dz3.json" 1500000)" True
head -c $(( $(wc -c < "$T/dz.agt.zst") * 3 / 5 )) "$T/dz.agt.zst" > "$T/dz-cut.agt.zst"
for t in 1 3; do
  "$B" run --mode native --caches off "$T/dz-cut.agt.zst" --threads $t --quiet --json "$T/dzcut$t.json" > /dev/null 2> "$T/dzcut$t.err"
  echo "exit $?" >> "$T/dzcut$t.err"
done
grep -q "dz-cut.agt.zst: truncated zstd stream after" "$T/dzcut3.err" && grep -q "^exit 2" "$T/dzcut3.err" &&
  cmp -s "$T/dzcut1.err" "$T/dzcut3.err" && [ ! -e "$T/dzcut3.json" ] && ok ||
  no "zstd thread: truncated trace: $(cat "$T/dzcut1.err" "$T/dzcut3.err")"
"$B" convert gups "$T/dz-big.agt.zst" --accesses 40M --zstd --quiet
"$B" compare "$T/dz-big.agt.zst" --caches off --threads 3 --quiet --json "$T/dz-sig.json" > /dev/null 2>&1 &
pid=$!
sleep 0.5 # the whole run takes 3 s here
kill -TERM $pid
wait $pid; rc=$?
expect "zstd thread: SIGTERM exit code" "$rc" 130
expect "zstd thread: SIGTERM statistics" "$(json "$T/dz-sig.json" "all(r['interrupted'] and 0 < r['accesses'] < 40000000 for r in d['runs'])")" True
rm -f "$T/dz-big.agt.zst"

# --- attribution by region (issue 16): every run's regions add up to its totals, every walk belongs
# to an access's region (none to "no-access"), and --by region|process print their tables
"$B" compare mixed compile --accesses 1M --quiet --json "$T/rg.json" --by region > "$T/rg.txt"; expect "--by region exit" $? 0
python3 - "$T/rg.json" <<'PY' && ok || no "regions add up to the totals"
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["runs"]:
    rg = r["regions"]
    tot = lambda k: sum(x[k] for x in rg)
    assert tot("accesses") == r["accesses"], r["mode"]
    assert tot("walks") == r["walks"] and tot("walk_refs") == r["walk_refs"], r["mode"]
    assert tot("walk_cycles") == r["cycles"]["walk"] and tot("vmm_cycles") == r["cycles"]["vmm"], r["mode"]
    assert tot("vm_exits") == r["vm_exits"]["total"], r["mode"]
    assert tot("walks_full_shadow") == r["agile"]["walks_full_shadow"], r["mode"]
    z = [x for x in rg if x["kind"] == "no-access"][0]
    assert z["accesses"] == 0 and z["walks"] == 0 and z["walk_cycles"] == 0, z
    assert len([x for x in rg if x["kind"] == "vma"]) >= 2
PY
grep -q "^mixed    cost by region" "$T/rg.txt" && grep -q "^  pid 1 r-x 400000-600000" "$T/rg.txt" &&
  grep -q "^  (no access: address-space events, scans)" "$T/rg.txt" && ok || no "--by region table: $(cat "$T/rg.txt")"
"$B" compare compile --accesses 200k --quiet --by process > "$T/bp.txt"
grep -q "^compile  cost by process" "$T/bp.txt" && [ "$(grep -c '^  pid [0-9]*  ' "$T/bp.txt")" -ge 1 ] && ok || no "--by process: $(cat "$T/bp.txt")"
check_bad "--by" compare gups --by vma

# --- the manual page and the bash completion are generated from the option table
"$B" help --man > "$T/a.1" && groff -man -Tascii -ww "$T/a.1" 2> "$T/e" | col -bx > "$T/man.txt" && [ ! -s "$T/e" ] && ok ||
  no "man page renders: $(head -3 "$T/e")"
missing=$("$B" help | grep -o '^  --[a-z0-9-]*' | sort -u | while read -r o; do grep -q -- "$o" "$T/man.txt" || echo "$o"; done)
expect "every option in the man page" "$missing" ""
cmp -s "$T/a.1" "$(dirname "$B")/agilesim.1" && ok || no "build/agilesim.1 is the generated page"
comp() { bash -c 'source "$1"; PATH=$(dirname "$2"):$PATH; shift 2; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _agilesim; echo "${COMPREPLY[*]}"' \
  _ "$(dirname "$B")/agilesim.bash" "$B" "$@"; }
expect "complete compare --mo" "$(comp agilesim compare --mo)" "--modes"
expect "complete run --mode n" "$(comp agilesim run --mode n)" "native nested"
expect "complete record options" "$(comp agilesim record --ro)" "--roi"
expect "complete a workload" "$(comp agilesim compare gu)" "gups"
expect "nothing after --" "$(comp agilesim compare -- ls --mo)" ""

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
