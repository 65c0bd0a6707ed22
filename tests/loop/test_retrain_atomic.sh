#!/usr/bin/env bash
# test_retrain_atomic.sh — a retrain writes the challenger's registry records
# (models_master, features map, training_results, model_versions, the
# challenger alias, the decision, the promotion) in ONE transaction on the
# store connection it was given (the same code runs the server's alert jobs):
# a failure at the decision (an SQLite trigger that aborts the insert) leaves
# none of them behind; without the trigger the same retrain registers it all.
set -euo pipefail
PY=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok   $*"; }
NAME=PhishingDetectionModel
DB="$T/loop.db"
sql() { "$PY" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchall(); c.commit(); print("\n".join("|".join(map(str,x)) for x in r))' "$DB" "$1"; }
counts() { sql "SELECT (SELECT COUNT(*) FROM models_master), (SELECT COUNT(*) FROM training_results),
  (SELECT COUNT(*) FROM model_versions), (SELECT COUNT(*) FROM retrain_decisions),
  (SELECT COUNT(*) FROM model_aliases), (SELECT COUNT(*) FROM features_models_map)"; }

"$HAMF" datagen phishing --rows 600 --seed 21 --drift 0 -o "$T/train.csv"
"$HAMF" datagen phishing --rows 600 --seed 22 --drift 1 -o "$T/new.csv"
"$HAMF" train "$T/train.csv" --target phishing --n-estimators 20 --db "$DB" -o "$T/m.hamf" -q >/dev/null
before=$(counts)
[ "${before%%|*}" = 1 ] || fail "one model after train: $before"

sql "CREATE TRIGGER boom BEFORE INSERT ON retrain_decisions BEGIN SELECT RAISE(ABORT, 'injected failure'); END" >/dev/null
set +e
"$HAMF" retrain --model "$NAME" --data "$T/new.csv" --db "$DB" --json >"$T/out" 2>"$T/err"; rc=$?
set -e
[ "$rc" = 1 ] || fail "retrain with a failing decision insert: exit $rc, want 1"
grep -q "injected failure" "$T/err" || fail "message: $(cat "$T/err")"
after=$(counts)
[ "$after" = "$before" ] || fail "registry changed by a failed retrain: before $before, after $after"
pass "a retrain failing at its decision leaves the registry as it was ($after)"

sql "DROP TRIGGER boom" >/dev/null
"$HAMF" retrain --model "$NAME" --data "$T/new.csv" --db "$DB" --json >"$T/out"
ok=$(counts)
IFS='|' read -r m r v d a f <<<"$ok"
[ "$m" = 2 ] && [ "$r" = 2 ] && [ "$v" = 2 ] && [ "$d" = 1 ] || fail "a successful retrain registers it all: $ok"
pass "the same retrain without the failure registers model, result, version and decision ($ok)"
