#!/usr/bin/env bash
# agilesim record with agilesim's Valgrind tool (agstrace): exact process trees (a shell, Python's
# subprocess, posix_spawn, make -j2, threads), live simulation equal to record-then-simulate,
# bounds (--max-instructions, --skip-instructions, --roi) and the bad cases (valgrind missing, an
# unwritable output, SIGTERM mid-run, another user opening the channel).
# Usage: test_record.sh agilesim CC SOURCE_DIR
set -u
B="$1"; CC="$2"; S="$3"
T=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
info_line() { "$B" info "$1" | sed -n "s/^$2: *//p"; }
events() { "$B" info "$1" | sed -n 's/^address-space events: //p' | grep -o 'fork [0-9]* exec [0-9]* exit [0-9]*'; }

if ! command -v valgrind >/dev/null; then echo "SKIP: valgrind is not installed"; exit 0; fi
P="$S/tests/cli/progs"
for p in threads spawn roi spin; do
  "$CC" -O1 -gdwarf-4 -pthread -I"$S/include" -o "$T/$p" "$P/$p.c" || { no "build $p"; exit 1; }
done
# the real interpreter, not a shim script (a shim would be traced as one more process)
PY=$(python3 -c 'import os,sys; print(os.path.realpath(sys.executable))')

# --- process trees: exact fork/exec/exit counts
rec() { "$B" record --quiet -o "$T/$1.agt" -- "${@:2}" > /dev/null || no "record $1"; }
rec bash bash -c 'ls /; date'          # bash forks ls, then execs date itself
expect "bash -c: processes" "$(info_line "$T/bash.agt" processes)" 2
expect "bash -c: events" "$(events "$T/bash.agt")" "fork 1 exec 2 exit 2"
rec py "$PY" -S -c 'import subprocess; subprocess.run(["/bin/true"])'
expect "python subprocess: processes" "$(info_line "$T/py.agt" processes)" 2
expect "python subprocess: events" "$(events "$T/py.agt")" "fork 1 exec 1 exit 2"
rec spawn "$T/spawn"
expect "posix_spawn: processes" "$(info_line "$T/spawn.agt" processes)" 3
expect "posix_spawn: events" "$(events "$T/spawn.agt")" "fork 2 exec 2 exit 3"
printf 'all: a b\na:\n\t/bin/true a\nb:\n\t/bin/true b\n' > "$T/Makefile"
rec make make -s -j2 -C "$T"
expect "make -j2: processes" "$(info_line "$T/make.agt" processes)" 3
expect "make -j2: events" "$(events "$T/make.agt")" "fork 2 exec 2 exit 3"
rec thr "$T/threads"
expect "threads: processes" "$(info_line "$T/thr.agt" processes)" 1
expect "threads: tids" "$(info_line "$T/thr.agt" threads | cut -d' ' -f1)" 4
expect "threads: events" "$(events "$T/thr.agt")" "fork 0 exec 0 exit 1"
# the Lackey path is kept
"$B" record --recorder lackey --quiet -o "$T/lk.agt" -- bash -c 'ls /; date' > /dev/null || no "record --recorder lackey"
expect "lackey bash -c: events" "$(events "$T/lk.agt")" "fork 1 exec 2 exit 2"

# the tool and Lackey record the same accesses and address-space events of a single process
# (given the same environment: the tool's runs carry VALGRIND_LIB, a few loader instructions more)
"$B" record --quiet -o "$T/r1.agt" -- "$T/roi" > /dev/null || no "record roi"
VALGRIND_LIB="$(dirname "$(realpath "$B")")/vglib" "$B" record --recorder lackey --quiet -o "$T/r2.agt" -- "$T/roi" > /dev/null ||
  no "record --recorder lackey roi"
same() { "$B" info "$1" | grep -v -e '^trace:' -e '^threads:'; }
expect "agstrace == lackey (single process)" "$(same "$T/r1.agt")" "$(same "$T/r2.agt")"

# --- compare -- CMD: simulated while it runs, equal to recording and then simulating
strip() { python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
for r in d['runs']:
    r.pop('workload', None)
    for g in r.get('regions', []): g.pop('pid')  # the two runs' processes have different pids
print(json.dumps(d['runs'], sort_keys=True))" "$1"; }
rec true /bin/true
"$B" compare --quiet --json "$T/rec.json" "$T/true.agt" > /dev/null || no "compare the recording"
"$B" compare --quiet --json "$T/live.json" -- /bin/true > /dev/null || no "compare -- /bin/true"
expect "compare -- CMD == record + compare" "$(strip "$T/live.json")" "$(strip "$T/rec.json")"
"$B" run --mode agile --quiet --json "$T/run.json" -- /bin/true > /dev/null || no "run -- /bin/true"
expect "run -- CMD: one run" "$(python3 -c "import json;print(len(json.load(open('$T/run.json'))['runs']))")" 1

# --- bounds
all=$(info_line "$T/true.agt" instructions)
"$B" record --quiet --max-instructions 50000 -o "$T/max.agt" -- /bin/true || no "record --max-instructions"
expect "--max-instructions" "$(info_line "$T/max.agt" instructions)" 50000
"$B" info "$T/max.agt" | grep -q '^truncated:.*max-instructions' && ok || no "--max-instructions: not marked truncated"
"$B" info "$T/true.agt" | grep -q '^truncated' && no "a complete recording marked truncated" || ok
"$B" record --quiet --skip-instructions 10000 -o "$T/skip.agt" -- /bin/true || no "record --skip-instructions"
expect "--skip-instructions" "$(info_line "$T/skip.agt" instructions)" $((all - 10000))
"$B" record --quiet -o "$T/full.agt" -- "$T/roi" > /dev/null || no "record roi program"
"$B" record --quiet --roi -o "$T/roi.agt" -- "$T/roi" > /dev/null || no "record --roi"
full=$(info_line "$T/full.agt" instructions); roi=$(info_line "$T/roi.agt" instructions)
# the marked loop is 1,000 iterations of a few instructions; the whole program over 400,000
[ "$roi" -gt 1000 ] && [ "$roi" -lt 20000 ] && [ "$full" -gt 1000000 ] && ok || no "--roi: $roi of $full instructions"

# --- bad cases: one line, non-zero, nothing written, nothing left running
PATH=/nonexistent "$B" record -o "$T/nv.agt" -- /bin/true 2> "$T/e"; rc=$?
[ $rc -eq 1 ] && [ ! -e "$T/nv.agt" ] && [ "$(wc -l < "$T/e")" -eq 1 ] && grep -q "valgrind is not installed" "$T/e" && ok ||
  no "record without valgrind: rc=$rc $(cat "$T/e")"
PATH=/nonexistent "$B" compare -- /bin/true > /dev/null 2> "$T/e"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < "$T/e")" -eq 1 ] && ok || no "compare -- without valgrind: rc=$rc $(cat "$T/e")"
AGILESIM_VALGRIND_LIB="$T" "$B" record -o "$T/nt.agt" -- /bin/true 2> "$T/e"; rc=$?
[ $rc -eq 1 ] && [ ! -e "$T/nt.agt" ] && grep -q "agstrace) is not built" "$T/e" && ok || no "record without the tool: rc=$rc $(cat "$T/e")"
"$B" record -o /nonexistent/dir/x.agt -- /bin/true 2> "$T/e"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l < "$T/e")" -eq 1 ] && grep -q "/nonexistent/dir/x.agt" "$T/e" && ok || no "unwritable output: rc=$rc $(cat "$T/e")"
"$B" record -o "$T/np.agt" -- /nonexistent/prog > /dev/null 2> "$T/e"; rc=$?
[ $rc -ne 0 ] && [ ! -e "$T/np.agt" ] && grep -q "agilesim: record: valgrind could not run /nonexistent/prog" "$T/e" && ok ||
  no "missing program: rc=$rc $(cat "$T/e")"

# SIGTERM mid-run: a valid, shorter trace marked truncated, exit 130, no process or folder left
mkdir "$T/tmp"
TMPDIR="$T/tmp" "$B" record --quiet -o "$T/spin.agt" -- "$T/spin" & pid=$!
for _ in $(seq 100); do [ -p "$T"/tmp/agilesim-record.*/stream ] 2>/dev/null && break; sleep 0.1; done
d=$(echo "$T"/tmp/agilesim-record.*)
expect "private folder mode" "$(stat -c %a "$d" 2>/dev/null)" 700
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  # another user cannot reach the channel (nor inject into it)
  setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "echo x > '$d/stream'" 2>/dev/null && no "another user opened the FIFO" || ok
fi
sleep 1
kill -TERM $pid; wait $pid; rc=$?
expect "SIGTERM: exit status" $rc 130
"$B" info "$T/spin.agt" > "$T/spin.txt" 2>&1 || no "SIGTERM: trace unreadable: $(cat "$T/spin.txt")"
grep -q '^truncated:.*signal' "$T/spin.txt" && ok || no "SIGTERM: not marked truncated: $(cat "$T/spin.txt")"
sleep 0.2
pgrep -f "$T/spin" > /dev/null && no "SIGTERM: a traced process is left: $(pgrep -af "$T/spin")" || ok
expect "SIGTERM: folder removed" "$(ls -A "$T/tmp")" ""
# live: SIGTERM stops the program and prints what was simulated so far
TMPDIR="$T/tmp" "$B" run --mode native --quiet --json "$T/spinlive.json" -- "$T/spin" > "$T/spinlive.txt" & pid=$!
sleep 3
kill -TERM $pid; wait $pid; rc=$?
expect "live SIGTERM: exit status" $rc 130
python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['runs'][0]; sys.exit(not (r['interrupted'] and r['accesses'] > 0))" "$T/spinlive.json" && ok ||
  no "live SIGTERM: no interrupted partial report"
sleep 0.2
pgrep -f "$T/spin" > /dev/null && no "live SIGTERM: a process is left: $(pgrep -af "$T/spin")" || ok
expect "live SIGTERM: folder removed" "$(ls -A "$T/tmp")" ""

echo "test_record: $pass passed, $fail failed"
[ $fail -eq 0 ]
