#!/usr/bin/env bash
# make install into a temporary prefix, then build examples/walks.c against the installed
# library with pkg-config and check its output (walk lengths worked out by hand: native 4,
# nested 24 = 4x4+4+4, shadow 4, agile 24 while the process root is nested).
# Usage: test_install.sh BUILD_DIR SOURCE_DIR CC
set -u
BUILD="$1"; SRC="$2"; CC="$3"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
no() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
cmake --install "$BUILD" --prefix "$T/prefix" > "$T/install.log" 2>&1 || { cat "$T/install.log" >&2; no "cmake --install"; }
for f in lib/libagilesim.a include/agilesim/agilesim.h include/agilesim/error.h bin/agilesim lib/pkgconfig/agilesim.pc; do
  [ -e "$T/prefix/$f" ] && ok || no "not installed: $f"
done
export PKG_CONFIG_PATH="$T/prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs agilesim) && ok || no "pkg-config agilesim"
"$CC" -std=c11 -Wall -Wextra -Werror "$SRC/examples/walks.c" $flags -o "$T/walks" 2> "$T/cc.log" && ok || { cat "$T/cc.log" >&2; no "build the example"; }
"$T/walks" > "$T/out.txt" || no "run the example"
for want in "native  refs/walk 4.0" "nested  refs/walk 24.0" "shadow  refs/walk 4.0" "agile   refs/walk 24.0"; do
  grep -q "^$want " "$T/out.txt" && ok || no "example output lacks '$want': $(cat "$T/out.txt")"
done
"$T/prefix/bin/agilesim" --version | grep -q "^agilesim " && ok || no "installed CLI"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
