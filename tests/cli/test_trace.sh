#!/usr/bin/env bash
# End-to-end trace tests: convert/info round trips, Lackey vs .agt, record, the broken-input
# corpus (one line, exit 2, nothing written). Usage: test_trace.sh agilesim CORPUS_DIR
set -u
B="$1"; C="$2"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
runs_key() { python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
print(';'.join('%s:%s' % (r['mode'], ','.join(str(r[k]) for k in sys.argv[2].split(','))) for r in d['runs']))" "$1" "$2"; }
Q="--quiet --caches off"

# --- a workload, its .agt and its zstd .agt simulate identically
"$B" convert mixed "$T/m.agt" --accesses 200000 --quiet || no "convert"
"$B" convert "$T/m.agt" "$T/m.agt.zst" --zstd --quiet || no "convert to zstd"
K=instructions,accesses,tlb_misses,walks,walk_refs,cycles,translation_checksum
"$B" compare mixed --accesses 200000 --warmup 0 $Q --json "$T/w.json" >/dev/null
"$B" compare "$T/m.agt" $Q --json "$T/a.json" >/dev/null
"$B" compare "$T/m.agt.zst" $Q --json "$T/z.json" >/dev/null
expect "workload == .agt" "$(runs_key "$T/a.json" $K)" "$(runs_key "$T/w.json" $K)"
expect ".agt == .agt+zstd" "$(runs_key "$T/z.json" $K)" "$(runs_key "$T/w.json" $K)"
cat "$T/m.agt" | "$B" compare - $Q --json "$T/s.json" >/dev/null
expect "stdin" "$(runs_key "$T/s.json" $K)" "$(runs_key "$T/w.json" $K)"
# a zstd file that starts with a skippable frame (as pzstd writes) and a --long=31 window
python3 -c "
import struct,sys
d=open(sys.argv[1],'rb').read()
open(sys.argv[2],'wb').write(b'\x50\x2a\x4d\x18'+struct.pack('<I',4)+b'pzst'+d)" "$T/m.agt.zst" "$T/skip.agt.zst"
"$B" compare "$T/skip.agt.zst" $Q --json "$T/sk.json" >/dev/null || no "skippable zstd frame"
expect "skippable frame == .agt" "$(runs_key "$T/sk.json" $K)" "$(runs_key "$T/w.json" $K)"
if command -v zstd >/dev/null; then
  zstd -q --long=31 -f "$T/m.agt" -o "$T/l31.agt.zst"
  "$B" compare "$T/l31.agt.zst" $Q --json "$T/l31.json" >/dev/null || no "zstd --long=31"
  expect "zstd --long=31 == .agt" "$(runs_key "$T/l31.json" $K)" "$(runs_key "$T/w.json" $K)"
fi
"$B" info nosuchfile > /dev/null 2> "$T/e"; grep -q "nosuchfile: cannot open" "$T/e" && ok || no "info of a missing file: $(cat "$T/e")"
"$B" info "$T/m.agt" > "$T/info.txt" || no "info"
grep -q "^accesses:     200000 " "$T/info.txt" && ok || no "info accesses: $(cat "$T/info.txt")"
"$B" compare "$T/m.agt" $Q --accesses 1000 --json "$T/c.json" >/dev/null
expect "--accesses caps a trace" "$(python3 -c "import json;print(json.load(open('$T/c.json'))['runs'][0]['accesses'])")" 1000

# --- Lackey: the same log, read directly and through its .agt conversion, gives identical results
if command -v valgrind >/dev/null; then
  valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes --log-file="$T/true.lackey" /bin/true
  "$B" convert "$T/true.lackey" "$T/true.agt" --quiet || no "convert lackey"
  "$B" compare "$T/true.lackey" --format lackey --quiet --json "$T/l1.json" >/dev/null || no "compare lackey"
  "$B" compare "$T/true.agt" --quiet --json "$T/l2.json" >/dev/null
  K2=instructions,accesses,tlb_misses,walks,walk_refs,vm_exits,cycles,walk_ref_hits,translation_checksum
  expect "lackey == its .agt" "$(runs_key "$T/l2.json" $K2)" "$(runs_key "$T/l1.json" $K2)"
  # record: a separate Valgrind run of the same program translates identically
  "$B" record -o "$T/rec.agt" --quiet -- /bin/true || no "record"
  "$B" compare "$T/rec.agt" --quiet --json "$T/l3.json" >/dev/null
  # two Valgrind runs differ by a few start-up instructions, and may place a mapping at another
  # address (so the checksums of two runs are not compared); the counts are the same
  K3=tlb_misses,walks,walk_refs,vm_exits
  expect "record == lackey (translation)" "$(runs_key "$T/l3.json" $K3)" "$(runs_key "$T/l1.json" $K3)"
  expect "record: checksums equal across modes" \
    "$(python3 -c "import json;print(len({r['translation_checksum'] for r in json.load(open('$T/l3.json'))['runs']}))")" 1
  # children: a shell that runs two programs -> 3 processes, 2 forks, 2 execs, 3 exits
  printf '#!/bin/sh\n/bin/true\n/bin/true\n' > "$T/two.sh"; chmod +x "$T/two.sh"
  "$B" record -o "$T/two.agt" --quiet -- "$T/two.sh" || no "record children"
  "$B" info "$T/two.agt" > "$T/two.txt"
  grep -q "^processes:    3$" "$T/two.txt" && ok || no "record children: $(cat "$T/two.txt")"
  grep -q "fork 2 exec 2 exit 3" "$T/two.txt" && ok || no "record children events: $(grep events: "$T/two.txt")"
  "$B" compare "$T/two.agt" --quiet --check --json "$T/two.json" >/dev/null || no "compare children trace"
  expect "children: checksums equal" \
    "$(python3 -c "import json;print(len({r['translation_checksum'] for r in json.load(open('$T/two.json'))['runs']}))")" 1
  # bash forks with clone(flags printed in hex without 0x): 3 children, each forked and exec'd
  AGS_RECORD_DEBUG=1 "$B" record -o "$T/bash.agt" -- bash -c '/bin/true; /bin/true; date >/dev/null' 2> "$T/bash.err" || no "record bash"
  "$B" info "$T/bash.agt" > "$T/bash.txt"
  grep -q "^processes:    4$" "$T/bash.txt" && ok || no "record bash: $(cat "$T/bash.txt")"
  grep -q "fork 3 exec 3 exit 4" "$T/bash.txt" && ok || no "record bash events: $(grep events: "$T/bash.txt") $(cat "$T/bash.err")"
  "$B" record -o "$T/x.agt" --quiet -- /nonexistent/prog > /dev/null 2>&1; rc=$?
  [ $rc -ne 0 ] && [ ! -e "$T/x.agt" ] && ok || no "record of a missing program: rc=$rc"
else
  no "valgrind missing"
fi

# --- convert's output follows the rules of every output: '-' is standard output, a symlink's
# target is replaced (the link stays), a FIFO is written through, a directory or the input refused
"$B" convert mixed - --accesses 1000 --quiet | "$B" info - > "$T/ci.txt" && grep -q "^accesses:     1000 " "$T/ci.txt" && ok ||
  no "convert to -: $(cat "$T/ci.txt")"
ln -s "$T/target.agt" "$T/link.agt"
"$B" convert mixed "$T/link.agt" --accesses 1000 --quiet && [ -L "$T/link.agt" ] && [ -f "$T/target.agt" ] && ok ||
  no "convert through a symlink"
"$B" convert "$T/target.agt" "$T/target.agt" 2> "$T/e"; rc=$?
[ $rc -eq 2 ] && grep -q "is the input trace" "$T/e" && "$B" info "$T/target.agt" > /dev/null && ok || no "convert onto its input: rc=$rc $(cat "$T/e")"
"$B" convert mixed "$T" --accesses 10 2> "$T/e"; rc=$?
[ $rc -eq 2 ] && grep -q "is a directory" "$T/e" && ok || no "convert to a directory: rc=$rc $(cat "$T/e")"
mkfifo "$T/fifo"
cat "$T/fifo" > "$T/fromfifo.agt" & cpid=$!
"$B" convert mixed "$T/fifo" --accesses 1000 --quiet; wait $cpid
[ -p "$T/fifo" ] && "$B" info "$T/fromfifo.agt" | grep -q "^accesses:     1000 " && ok || no "convert to a FIFO"
ls "$T"/*.tmp.* > /dev/null 2>&1 && no "convert left temporary files" || ok

# --- a trace name with bytes that are not UTF-8, markup and a comma: valid JSON, SVG and CSV
N="$T/"$'odd\xff<&>"x,y.agt'
cp "$T/m.agt" "$N"
"$B" compare "$N" $Q --accesses 1000 --json "$T/odd.json" --svg "$T/odd.svg" --csv "$T/odd.csv" > /dev/null || no "odd name: compare"
python3 -c "
import json, sys, csv, xml.etree.ElementTree as ET
d = json.load(open(sys.argv[1], encoding='utf-8'))
assert d['runs'][0]['workload'] == 'odd\ufffd<&>\"x,y.agt', d['runs'][0]['workload']
ET.parse(sys.argv[2])
rows = list(csv.reader(open(sys.argv[3], encoding='utf-8', errors='replace')))
assert all(len(r) == len(rows[0]) for r in rows), [len(r) for r in rows]
" "$T/odd.json" "$T/odd.svg" "$T/odd.csv" && ok || no "odd name: JSON, SVG or CSV invalid"

# --- pathological events finish at once: a 64 TiB mremap of a sparse range (its mapped leaves are
# moved, not its 2^34 pages) and an access retiring 2^32-1 instructions with --interval 1000
# (the next interval is computed, not stepped to). The timeout only detects a hang.
PYTHONPATH="$(dirname "$0")/../tools" python3 -c "
import agt, sys
r = agt.event(1, 1, 0, 0x10000000, 1 << 20, 3) + b'\xff' + agt.varint(1) + agt.access(1, 0x10000000, icount=0xffffffff)
r += agt.event(5, 1, 0, 0x10000000, 1 << 46, 0x400000000000, 1 << 46)
agt.write(sys.argv[1], r, 3)" "$T/huge.agt"
timeout 60 "$B" compare "$T/huge.agt" --quiet --interval 1000 --csv "$T/huge.csv" > /dev/null; rc=$?
expect "huge mremap and icount: exit" $rc 0
expect "huge icount: one interval row per mode" "$(grep -c "^interval," "$T/huge.csv")" 4

# --- broken inputs: one line naming file and place, exit 2, no report written
while IFS='|' read -r f msg; do
  case "$f" in ''|\#*) continue;; esac
  "$B" compare "$C/$f" --quiet --json "$T/bad.json" > /dev/null 2> "$T/e"; rc=$?
  if [ $rc -ne 2 ]; then no "$f: exit $rc"; continue; fi
  if [ "$(wc -l < "$T/e")" -ne 1 ] || ! grep -qF -- "$msg" "$T/e"; then no "$f: $(cat "$T/e")"; continue; fi
  [ -e "$T/bad.json" ] && no "$f: report written" || ok
done < "$C/EXPECTED"
ls "$T"/*.tmp.* >/dev/null 2>&1 && no "temporary files left" || ok

# --- a zstd window or an xz dictionary that cannot be allocated is named as such, not as
# corruption (bigwindow's header asks for 2 GiB): under a 1 GiB address-space limit. A
# sanitizer's shadow memory does not start under such a limit; there the check is skipped.
bash -c 'ulimit -v 1048576; "$0" compare "$1" --quiet --json "$2"; exit $?' "$B" "$C/bigwindow.champsim.zst" "$T/bw.json" \
  > /dev/null 2> "$T/e"; rc=$?
if grep -q -i "sanitizer\|shadow" "$T/e"; then
  echo "skipped: a 2 GiB zstd window and a 1.5 GiB xz dictionary under a memory limit (sanitizer build)"
else
  expect "zstd window beyond memory: exit" $rc 2
  expect "zstd window beyond memory: one line" "$(wc -l < "$T/e")" 1
  grep -qF "bigwindow.champsim.zst: the zstd frame at decoded byte 0 needs a larger window than memory allows" "$T/e" \
    && ok || no "zstd window beyond memory: $(cat "$T/e")"
  [ -e "$T/bw.json" ] && no "zstd window beyond memory: report written" || ok
  # the same for xz: a block header whose LZMA2 dictionary is 1.5 GiB (property byte 37; the
  # header's CRC32 recomputed), made here rather than kept in the corpus, which the fuzzer reads
  python3 -c "
import lzma, struct, sys, zlib
x = bytearray(lzma.compress(bytes(192), format=lzma.FORMAT_XZ, filters=[{'id': lzma.FILTER_LZMA2, 'dict_size': 4096}]))
n = (x[12] + 1) * 4
assert x[13] & 0xc0 == 0 and x[14:16] == b'\x21\x01', x[12:12 + n].hex()
x[16] = 37
x[12 + n - 4:12 + n] = struct.pack('<I', zlib.crc32(bytes(x[12:12 + n - 4])))
open(sys.argv[1], 'wb').write(x)" "$T/bigdict.champsim.xz"
  bash -c 'ulimit -v 1048576; "$0" compare "$1" --quiet; exit $?' "$B" "$T/bigdict.champsim.xz" > /dev/null 2> "$T/e"; rc=$?
  expect "xz dictionary beyond memory: exit" $rc 2
  grep -qF "bigdict.champsim.xz: the xz decoder at decoded byte 0 needs more memory than is available" "$T/e" \
    && [ "$(wc -l < "$T/e")" -eq 1 ] && ok || no "xz dictionary beyond memory: $(cat "$T/e")"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
