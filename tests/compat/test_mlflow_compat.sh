#!/usr/bin/env bash
# test_mlflow_compat.sh — part of tests/run.sh (make check) only where
# MLflow's source is present: runs MLflow 2.12.2's own server tests against
# `hamf server` (run_mlflow_tests.sh) and fails if a test fails that is not
# in tests/compat/hamf_known_failures.txt (each listed with its reason).
# Listed tests that pass are reported, so the list can shrink.
# Source: $HAMF_MLFLOW_SRC (e.g. /work/ext/mlflow-2.12.2, a checkout of tag
# v2.12.2); unset or absent -> "skipped", exit 0 (CI has no copy; MLflow's
# code is never committed). Opt-in because it adds 3-6 minutes.
set -u
SRC=${HAMF_MLFLOW_SRC:-}
if [ -z "$SRC" ] || [ ! -f "$SRC/tests/tracking/test_rest_tracking.py" ]; then
  echo "skipped: no MLflow source (set HAMF_MLFLOW_SRC to a v2.12.2 checkout)"
  exit 0
fi
OUT=${T:-$(mktemp -d)}/compat
HAMF=${HAMF:?} OUT="$OUT" bash "$HAMF_ROOT/tests/compat/run_mlflow_tests.sh" "$SRC" hamf >/dev/null 2>&1
[ -f "$OUT/junit.xml" ] || { echo "no results"; tail -50 "$OUT/pytest.log"; exit 1; }
cat "$OUT/summary.txt" | sed -n '1,4p'
/usr/bin/python3 "$HAMF_ROOT/tests/compat/summarize.py" "$OUT/junit.xml" --list > "$OUT/outcomes.txt"
/usr/bin/python3 - "$OUT/outcomes.txt" "$HAMF_ROOT/tests/compat/hamf_known_failures.txt" <<'PY'
import sys
outcomes = dict(l.rsplit(" ", 1) for l in open(sys.argv[1]).read().split("\n") if l)
known = {}
for line in open(sys.argv[2]):
    line = line.strip()
    if line and not line.startswith("#"):
        name, _, why = line.partition("  ")
        known[name.strip()] = why.strip()
bad = [n for n, o in outcomes.items() if o in ("failed", "error") and n not in known]
fixed = [n for n in known if outcomes.get(n) == "passed"]
for n in fixed:
    print("now passing (remove from hamf_known_failures.txt):", n)
for n in bad:
    print("UNEXPECTED FAILURE:", n)
missing = [n for n in known if n not in outcomes]
for n in missing:
    print("listed but not run:", n)
sys.exit(1 if bad else 0)
PY
