#!/usr/bin/env bash
# One bad cell in a numeric column: training still reads the column as text
# (like Spark's inferSchema) but warns, naming the column, the count and the
# first cell's CSV line and value; --strict-types refuses; predict names it
# too before the type mismatch. Real text columns get no warning.
set -u
fail() { echo "FAIL: $*"; exit 1; }
"$HAMF" datagen phishing --rows 3000 --seed 4 -o raw.csv
python3 - <<'PY'
lines = open("raw.csv").read().split("\n")
f = lines[500].split(","); f[0] = "abc"; lines[500] = ",".join(f)   # CSV line 501
open("bad.csv", "w").write("\n".join(lines))
PY
"$HAMF" train raw.csv --target phishing -o good.hamf --n-estimators 10 -q --no-register >/dev/null 2>good.err || fail "clean train"
[ ! -s good.err ] || fail "warning on clean data: $(cat good.err)"
"$HAMF" train bad.csv --target phishing -o m.hamf --n-estimators 10 -q --no-register >/dev/null 2>warn.err || fail "train with a bad cell should still run"
want="hamf train: warning: column 'urllength' is read as text: 1 of 2997 cells is not a number (first at bad.csv:501, 'abc')"
grep -qF "$want" warn.err || fail "warning: $(cat warn.err)"
[ "$(grep -c . warn.err)" = 1 ] || fail "more than one line: $(cat warn.err)"
rc=0; "$HAMF" train bad.csv --target phishing -o s.hamf --n-estimators 10 -q --no-register --strict-types >/dev/null 2>strict.err || rc=$?
[ $rc = 1 ] || fail "--strict-types exit $rc"
[ ! -e s.hamf ] || fail "--strict-types wrote a model"
grep -q "^hamf train: column 'urllength' is read as text.*bad.csv:501.*(--strict-types)$" strict.err || fail "strict: $(cat strict.err)"
rc=0; "$HAMF" predict good.hamf bad.csv -o out.csv 2>pred.err || rc=$?
[ $rc = 1 ] && grep -q "bad.csv:501, 'abc'" pred.err || fail "predict: rc=$rc $(cat pred.err)"
echo ok
