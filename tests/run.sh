#!/usr/bin/env bash
# tests/run.sh BUILD — run every test: unit binaries in BUILD/tests, then the
# shell tests tests/*/test_*.sh (each gets HAMF=<abs path to hamf>, its own
# temp dir as cwd, and T=<that dir>). Prints "N passed, N failed" last.
# TESTS=pattern runs only tests whose name contains the pattern.
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export HAMF="$ROOT/$BUILD/hamf" HAMF_ROOT="$ROOT" HAMF_BUILD="$ROOT/$BUILD"
export PATH="$ROOT/$BUILD:$PATH"
pass=0; fail=0; failed=()
LOGDIR="$ROOT/$BUILD/test-logs"; mkdir -p "$LOGDIR"
run_one() { # name cmd...
  local name=$1; shift
  if [ -n "${TESTS:-}" ] && [[ "$name" != *"$TESTS"* ]]; then return; fi
  local t; t=$(mktemp -d /tmp/hamf-test.XXXXXX)
  local start=$SECONDS
  mkdir -p "$(dirname "$LOGDIR/$name.log")"
  if (cd "$t" && T="$t" "$@") >"$LOGDIR/$name.log" 2>&1; then
    pass=$((pass+1)); echo "PASS $name ($((SECONDS-start))s)"
    rm -rf "$t"
  else
    fail=$((fail+1)); failed+=("$name"); echo "FAIL $name ($((SECONDS-start))s) — log: $LOGDIR/$name.log"
    tail -n 30 "$LOGDIR/$name.log" | sed 's/^/    | /'
    rm -rf "$t"
  fi
}
for b in "$ROOT/$BUILD"/tests/test_*; do
  [ -x "$b" ] || continue
  run_one "unit/$(basename "$b")" "$b"
done
for s in "$ROOT"/tests/*/test_*.sh; do
  [ -f "$s" ] || continue
  rel=${s#"$ROOT/tests/"}
  run_one "${rel%.sh}" bash "$s"
done
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
