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
[ "$fails" = 0 ]
