#!/usr/bin/env bash
# Bad inputs to explain/export/import: one clear line on stderr, exit != 0,
# no output file, the store unchanged.
set -euo pipefail
"$HAMF" datagen phishing --rows 600 --seed 5 -o d.csv >/dev/null
"$HAMF" train d.csv --target phishing -o m.hamf -q --n-estimators 20 >/dev/null
export HAMF_DB="$T/reg.db"
"$HAMF" model export m.hamf --format xgboost-json -o m.json
"$HAMF" model import m.json --name Good -o good.hamf --data d.csv >/dev/null   # creates the store
# registered like a trained model: models_master, training_results, a registry version
"$HAMF" model list --json | grep -q '"model_name":"Good"'
"$HAMF" result list --json | grep -q '"model_id":1'
"$HAMF" model versions Good --json | grep -q '"version":1'
dump() { sqlite3 "$HAMF_DB" .dump | grep -v '^PRAGMA'; }
before=$(dump)

expect_fail() { # substring cmd...
  local want=$1; shift
  set +e
  "$@" >out.txt 2>err.txt
  local rc=$?
  set -e
  cat err.txt
  [ "$rc" -ne 0 ] || { echo "expected failure: $*"; exit 1; }
  # one line (usage errors add the conventional "Try 'hamf ... --help'.")
  [ "$(grep -vc "^Try 'hamf" err.txt)" -eq 1 ] || { echo "expected one line on stderr"; exit 1; }
  grep -q -- "$want" err.txt || { echo "expected '$want' in the message"; exit 1; }
}

# explain: a CSV lacking a model column
/usr/bin/python3 -c "import pandas as pd; pd.read_csv('d.csv', keep_default_na=False).drop(columns=['registrarname']).to_csv('lacking.csv', index=False)"
expect_fail "registrarname" "$HAMF" explain m.hamf lacking.csv -o c.csv
[ ! -e c.csv ]
expect_fail "needs --json" "$HAMF" explain m.hamf d.csv -o -
expect_fail "--top" "$HAMF" explain m.hamf d.csv -o c.csv --top 0
[ ! -e c.csv ]

# import: not an XGBoost model, not JSON, unsupported objective / booster
echo '{"name": "not a model", "trees": []}' > other.json
expect_fail "not an XGBoost JSON model" "$HAMF" model import other.json --name Bad -o bad.hamf --data d.csv
printf '{"learner": {' > trunc.json
expect_fail "not an XGBoost JSON model" "$HAMF" model import trunc.json --name Bad -o bad.hamf --data d.csv
sed 's/"binary:logistic"/"reg:squarederror"/' m.json > regression.json
expect_fail "objective 'reg:squarederror'" "$HAMF" model import regression.json --name Bad -o bad.hamf --data d.csv
sed 's/"binary:logistic"/"multi:softprob"/' m.json > multi.json
expect_fail "objective 'multi:softprob'" "$HAMF" model import multi.json --name Bad -o bad.hamf --data d.csv
sed 's/"name":"gbtree"/"name":"gblinear"/' m.json > linear.json
expect_fail "booster 'gblinear'" "$HAMF" model import linear.json --name Bad -o bad.hamf --data d.csv
expect_fail "cannot open" "$HAMF" model import nosuch.json --name Bad -o bad.hamf --data d.csv
expect_fail "registrarname" "$HAMF" model import m.json --name Bad -o bad.hamf --data lacking.csv
[ ! -e bad.hamf ]
[ "$before" = "$(dump)" ] || { echo "the store changed"; exit 1; }

# export: unknown format
expect_fail "unknown --format" "$HAMF" model export m.hamf --format onnx -o x.json
[ ! -e x.json ]
echo "bad inputs ok"
