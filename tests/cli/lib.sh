# Shared by the shell tests of tests/cli: counters and checks. Source it after setting B (the
# agilesim binary) and T (a temporary folder).
pass=0; fail=0
ok() { pass=$((pass+1)); }
no() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
expect() { # expect NAME ACTUAL EXPECTED
  if [ "$2" = "$3" ]; then ok; else no "$1: got '$2', expected '$3'"; fi
}
check_bad() { # check_bad "PATTERN" ARGS...: exit 2 and one line on stderr matching PATTERN
  local pat="$1"; shift
  "$B" "$@" > "$T/o" 2> "$T/e"; local rc=$?
  if [ $rc -ne 2 ]; then no "exit $rc for: $*"; return; fi
  if [ "$(wc -l < "$T/e")" -ne 1 ] || ! grep -q -- "$pat" "$T/e"; then no "message for: $* -> $(cat "$T/e")"; return; fi
  ok
}
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
