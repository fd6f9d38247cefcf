#!/usr/bin/env bash
# Re-record the real-program traces of this folder with agilesim's own recorder (agilesim record,
# zstd .agt). Usage: traces/record.sh [PATH/TO/agilesim] — needs valgrind and the built agstrace tool
# (make deps; make). The programs are small on purpose: 25-31 M instructions each, 3-5 MB traced.
# A new recording differs from the committed one in addresses (ASLR) and, for sqlite, in the random
# keys; the counts it gives stay within a few percent.
set -eu
A=${1:-$(dirname "$0")/../build/agilesim}
cd "$(dirname "$0")"
# a shell pipeline: sh forks and execs seq, sort (twice), uniq and tail; they run concurrently
"$A" record -o pipeline.agt -- sh -c 'seq 1 4000 | sort -r | uniq -c | sort -n | tail -1 > /dev/null'
# an interpreter: perl building a hash of 4,001 growing strings
"$A" record -o perl-hash.agt -- perl -e 'my %h; for my $i (1..20000) { $h{$i % 4001} .= "x" } print scalar(keys %h), "\n"' > /dev/null
# a database: sqlite3 in memory, 3,000 rows inserted, indexed and scanned
"$A" record -o sqlite-index.agt -- sqlite3 :memory: "create table t(a integer primary key, b text);
  with recursive c(x) as (select 1 union all select x+1 from c where x < 3000)
  insert into t select x, hex(randomblob(16)) from c;
  create index i on t(b); select count(*) from t where b like 'A%';" > /dev/null
