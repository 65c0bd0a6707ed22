#!/usr/bin/env bash
# test_registry_pg.sh — the closed loop's store component on PostgreSQL 15
# (tests/lib/pg.sh) and its CLI errors: hamf train --db registers version 1
# as champion, hamf drift records a report, hamf retrain promotes a better
# challenger and rejects a worse one, promote / rollback work and are
# audited; the same on SQLite is covered by test_closed_loop.sh. Also: usage
# errors exit 2, and a store without versions is a clear error.
set -euo pipefail
source "$HAMF_ROOT/tests/lib/pg.sh"
PY=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok   $*"; }
jq_py() { "$PY" -c "import json,sys; d=json.load(sys.stdin); $1"; }
NAME=PhishingDetectionModel

pg_start
DB=$(pg_newdb loop)
"$HAMF" datagen phishing --rows 2000 --seed 21 --drift 0 -o "$T/train.csv"
"$HAMF" datagen phishing --rows 2000 --seed 22 --drift 1 -o "$T/new.csv"
"$HAMF" train "$T/train.csv" --target phishing --n-estimators 50 --db "$DB" -o "$T/m.hamf" -q >/dev/null
"$HAMF" model versions "$NAME" --db "$DB" --json | jq_py 'assert [(v["version"], v["aliases"]) for v in d] == [(1, "champion")], d' ||
  fail "version 1 on PostgreSQL"
"$HAMF" drift --model "$NAME" "$T/new.csv" --db "$DB" --json | jq_py 'assert d["features"]["hassecureconnection"] > 0.25, d' ||
  fail "drift on PostgreSQL"
[ "$(pg_psql loop -tAc 'SELECT COUNT(*) FROM drift_features')" = 14 ] || fail "drift_features rows"
"$HAMF" retrain --model "$NAME" --data "$T/new.csv" --db "$DB" --json | jq_py 'assert d["promoted"] is True, d' ||
  fail "retrain on PostgreSQL"
"$HAMF" retrain --model "$NAME" "$T/new.csv" --window 20 --db "$DB" --json | jq_py 'assert d["promoted"] is False, d' ||
  fail "worse challenger on PostgreSQL"
"$HAMF" model rollback "$NAME" --db "$DB" >/dev/null
"$HAMF" model versions "$NAME" --db "$DB" --json |
  jq_py 'assert [v["aliases"] for v in d] == ["champion", "", "challenger"], d' || fail "rollback on PostgreSQL"
[ "$(pg_psql loop -tAc "SELECT COUNT(*) FROM audit_log WHERE table_name = 'model_promotions'")" = 3 ] ||
  fail "promotions audited"
pass "registry, drift, retrain, rollback on PostgreSQL"

set +e
"$HAMF" model versions --db "$DB" >/dev/null 2>&1; [ $? = 2 ] || fail "versions without NAME: exit 2"
"$HAMF" model promote "$NAME" zero --db "$DB" >/dev/null 2>&1; [ $? = 2 ] || fail "promote bad VERSION: exit 2"
"$HAMF" model promote "$NAME" 9 --db "$DB" >/dev/null 2>"$T/err"; [ $? = 1 ] || fail "promote unknown version: exit 1"
grep -q "has no version 9" "$T/err" || fail "message: $(cat "$T/err")"
"$HAMF" retrain --model "$NAME" --db "$DB" >/dev/null 2>&1; [ $? = 2 ] || fail "retrain without --data: exit 2"
"$HAMF" drift --model Nope "$T/new.csv" --db "$DB" >/dev/null 2>"$T/err"; [ $? = 1 ] || fail "drift unknown model"
grep -q "has no champion" "$T/err" || fail "message: $(cat "$T/err")"
set -e
pass "usage errors exit 2; unknown versions and models are clear errors"
