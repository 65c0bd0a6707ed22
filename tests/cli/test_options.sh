#!/usr/bin/env bash
# Option parsing is strict and says one thing: abbreviated long options are
# refused (with the full name suggested), every mistake prints exactly one
# error line (plus the "Try --help" hint) naming the command, exit code 2.
set -u
fails=0
check() { # name expected-rc expected-first-line cmd...
  local name=$1 want_rc=$2 want=$3; shift 3
  local err rc
  err=$("$@" 2>&1 >/dev/null); rc=$?
  local n; n=$(printf '%s\n' "$err" | grep -c .)
  local first; first=$(printf '%s\n' "$err" | head -n 1)
  if [ "$rc" != "$want_rc" ] || [ "$first" != "$want" ] || { [ "$want_rc" = 2 ] && [ "$n" != 2 ]; }; then
    echo "FAIL $name: rc=$rc (want $want_rc), $n lines, first: '$first' (want '$want')"; fails=$((fails+1))
  else
    echo "ok   $name"
  fi
}
check prefix-refused 2 "hamf train: unknown option '--n-estimator' (did you mean --n-estimators?)" \
  "$HAMF" train data.csv --n-estimator 10
check unknown-long 2 "hamf server: unknown option '--prot'" "$HAMF" server --prot 5001
check missing-short-value 2 "hamf datagen: -o needs a value" "$HAMF" datagen phishing --rows 10 -o
check missing-long-value 2 "hamf datagen: --rows needs a value" "$HAMF" datagen phishing --rows
check unknown-short 2 "hamf predict: unknown option '-x'" "$HAMF" predict -x m.hamf d.csv
check flag-with-value 2 "hamf model: option '--json' takes no value" "$HAMF" model list --json=1
check prefix-with-equals 2 "hamf datagen: unknown option '--row' (did you mean --rows?)" \
  "$HAMF" datagen phishing --row=10 -o x.csv
# Spelled out in full, both forms work; a value that looks like an option is
# a value, not an option.
"$HAMF" datagen phishing --rows=50 --seed 3 --output=a.csv || { echo "FAIL full spelling"; fails=$((fails+1)); }
[ "$(wc -l < a.csv)" = 51 ] || { echo "FAIL: a.csv rows"; fails=$((fails+1)); }
"$HAMF" preprocess a.csv -o b.csv --with 'x = urllength - 1' || { echo "FAIL preprocess --with"; fails=$((fails+1)); }
# Accuracy is a percent everywhere: a fraction is refused with the percent
# suggested, unless --fraction says so (then it is stored as a percent).
"$HAMF" model add PM --algorithm RF --version v1 --db p.db >/dev/null || { echo "FAIL model add"; fails=$((fails+1)); }
err=$("$HAMF" result add --db p.db --model-id 1 --accuracy 0.98 --f1 0.9 --precision 0.9 --recall 0.9 2>&1); rc=$?
if [ $rc != 2 ] || [[ "$err" != *"accuracy is a percent (0-100); did you mean 98?"* ]] || [ "$(grep -c . <<<"$err")" != 1 ]; then
  echo "FAIL fraction refused: rc=$rc '$err'"; fails=$((fails+1)); fi
[ "$("$HAMF" result list --db p.db --json)" = "[]" ] || { echo "FAIL: refused result was stored"; fails=$((fails+1)); }
"$HAMF" result add --db p.db --model-id 1 --accuracy 0.98 --fraction --f1-score 0.9 --precision 0.9 --recall 0.9 >/dev/null \
  || { echo "FAIL --fraction"; fails=$((fails+1)); }
acc=$("$HAMF" result list --db p.db --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["accuracy"])')
python3 -c "import sys; sys.exit(0 if abs($acc - 98) < 1e-9 else 1)" || { echo "FAIL: --fraction stored $acc"; fails=$((fails+1)); }
err=$("$HAMF" model map 1 --feature-ids 1 --accuracy 1 --db p.db 2>&1); rc=$?
[ $rc = 2 ] && [[ "$err" == *"did you mean 100?"* ]] || { echo "FAIL model map fraction: $rc '$err'"; fails=$((fails+1)); }
# the same option name for the same thing: model add takes --model-version like train
"$HAMF" model add MV --algorithm RF --model-version v9 --db mv.db >/dev/null || { echo "FAIL model add --model-version"; fails=$((fails+1)); }
"$HAMF" model list --db mv.db --json | grep -q '"model_version":"v9"' || { echo "FAIL: --model-version not stored"; fails=$((fails+1)); }
echo "fails=$fails"
[ "$fails" = 0 ]
