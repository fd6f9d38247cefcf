#!/usr/bin/env bash
# Build the libFuzzer targets (one per reader, the format detection, and the simulator under
# --check) and run each for FUZZ_SECONDS (default 60) on a corpus seeded from tests/corpus. Findings are left in build-fuzz/ as crash-* files.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v clang >/dev/null || { apt-get update -qq && apt-get install -y -qq clang; }
SECS=${FUZZ_SECONDS:-60}
OUT=build-fuzz
mkdir -p "$OUT"
SRC=$(ls src/*/*.c src/*.c)
ZSTD_LIBS="-lzstd -llzma -lz -lm"
# zstd windows up to 128 MiB (zstd's own default limit), not the 2 GiB of zstd --long=31 files:
# a mutated frame header asking for 2 GiB would otherwise make each run allocate it (libFuzzer
# stops on an allocation above its RSS limit; ASan poisons it), which no parsing needs.
# tests/corpus/bigwindow.champsim.zst checks the 2 GiB path in the test suite.
WIN=-DAGS_ZSTD_WINDOW_LOG_MAX=27
i=-1
for fmt in auto agt lackey pinatrace champsim; do
  i=$((i+1)) # 0: the format is detected from the content
  clang -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c11 \
    -D_POSIX_C_SOURCE=200809L -D_GNU_SOURCE -DAGS_VERSION='"fuzz"' -DAGS_FUZZ_FORMAT=$i $WIN \
    -Iinclude -Isrc tests/fuzz/fuzz_reader.c $SRC $ZSTD_LIBS -o "$OUT/fuzz_$fmt"
  mkdir -p "$OUT/corpus_$fmt"
  cp tests/corpus/* "$OUT/corpus_$fmt/" 2>/dev/null || true
  rm -f "$OUT/corpus_$fmt/EXPECTED"
  echo "== fuzz_$fmt: ${SECS}s"
  (cd "$OUT" && ./fuzz_$fmt -max_total_time=$SECS -max_len=8192 -rss_limit_mb=2048 corpus_$fmt 2>&1 | tail -3)
done
clang -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c11 \
  -D_POSIX_C_SOURCE=200809L -D_GNU_SOURCE -DAGS_VERSION='"fuzz"' $WIN \
  -Iinclude -Isrc tests/fuzz/fuzz_sim.c $SRC $ZSTD_LIBS -o "$OUT/fuzz_sim"
mkdir -p "$OUT/corpus_sim"
echo "== fuzz_sim: ${SECS}s"
(cd "$OUT" && ./fuzz_sim -max_total_time=$SECS -max_len=4096 -rss_limit_mb=4096 corpus_sim 2>&1 | tail -3)
