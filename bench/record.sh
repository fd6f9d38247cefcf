#!/usr/bin/env bash
# Recording speed (make bench-record): each program natively, under `agilesim record` (agilesim's
# Valgrind tool) and under `agilesim record --recorder lackey`, in one run on this machine.
# Prints a table and writes it as JSON to $BUILD/bench-record.json. Usage: record.sh BUILD_DIR
set -eu
BUILD="${1:-build}"
B="$BUILD/agilesim"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
command -v valgrind >/dev/null || { echo "bench-record: valgrind is not installed (make deps)"; exit 1; }
command -v sqlite3 >/dev/null || echo "bench-record: sqlite3 is not installed: its row is skipped (apt-get install sqlite3)"
PY=$(python3 -c 'import os,sys; print(os.path.realpath(sys.executable))')
cat > "$T/sql.txt" <<'SQL'
CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 4000)
INSERT INTO t SELECT x, printf('%08d-%s', x * 7919 % 100003, hex(randomblob(16))) FROM c;
CREATE INDEX tv ON t(v);
SELECT count(*), sum(length(v)) FROM t WHERE v LIKE '0001%';
SELECT k FROM t ORDER BY v LIMIT 5 OFFSET 1000;
SQL
cat > "$T/script.py" <<'PY'
d = {}
for i in range(15000):
    d[str(i * 7919 % 100003)] = [i] * 4
s = sorted(d.items())[:10]
print(len(d), s[0][0])
PY
secs() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; t1=$(date +%s.%N); python3 -c "print(f'{$t1-$t0:.3f}')"; }
rows=()
run() {
  local name="$1"; shift
  local nat ags lk acc
  nat=$(secs "$@")
  ags=$(secs "$B" record --quiet -o "$T/a.agt" -- "$@")
  acc=$("$B" info "$T/a.agt" | sed -n 's/^accesses: *\([0-9]*\).*/\1/p')
  lk=$(secs "$B" record --recorder lackey --quiet -o "$T/l.agt" -- "$@")
  local size; size=$(stat -c %s "$T/a.agt")
  rows+=("$name $nat $ags $lk $acc $size")
}
command -v sqlite3 >/dev/null && run "sqlite3-4k-rows" sqlite3 :memory: ".read $T/sql.txt"
run "python3-dict-sort" "$PY" -S "$T/script.py"
python3 - "$BUILD/bench-record.json" "${rows[@]}" <<'PYEOF'
import json, sys
out, rows = sys.argv[1], [r.split() for r in sys.argv[2:]]
res = []
print(f"{'program':<20} {'native s':>9} {'agstrace s':>11} {'slowdown':>9} {'M acc/s':>8} {'lackey s':>9} {'speed-up':>9} {'accesses':>12} {'.agt.zst MB':>11}")
for name, nat, ags, lk, acc, size in rows:
    nat, ags, lk, acc, size = float(nat), float(ags), float(lk), int(acc), int(size)
    r = dict(program=name, native_s=nat, agstrace_s=ags, lackey_s=lk, accesses=acc, trace_bytes=size,
             slowdown_vs_native=ags / nat if nat else None, accesses_per_s=acc / ags, speedup_vs_lackey=lk / ags)
    res.append(r)
    print(f"{name:<20} {nat:>9.2f} {ags:>11.2f} {ags/nat if nat else 0:>8.0f}x {acc/ags/1e6:>8.1f} {lk:>9.2f} {lk/ags:>8.1f}x {acc:>12} {size/1e6:>11.1f}")
json.dump(dict(benchmark="record", runs=res), open(out, "w"), indent=1)
print("written to", out)
PYEOF
