#!/usr/bin/env bash
# tests/serve/test_serve_log.sh — the loop on production traffic:
# `hamf serve models:/NAME@champion --log-dir` logs served rows (a model
# with a preprocessing pipeline, so the log holds raw columns), serving PSI
# is low for traffic like the training data and high for drifted traffic,
# fed-back labels join the rows, `hamf retrain --from-log` trains version 2
# on exactly the labelled rows; rotation, kill -9 recovery and pruning;
# a ServingFeatureDriftHigh webhook to `hamf server --retrain-data LOGDIR`
# runs one retrain job on the log's labelled rows.
# Assertions: serve_log.py.
set -euo pipefail
export HAMF_DB="$T/reg.db" HAMF_ARTIFACTS_DIR="$T/mlartifacts"
NAME=PhishingDetectionModel
cd "$T"
"$HAMF" datagen phishing --rows 3000 --seed 1 --drift 0 -o train.csv
"$HAMF" datagen phishing --rows 1000 --seed 5 --drift 0 -o same.csv
"$HAMF" datagen phishing --rows 1000 --seed 6 --drift 1 -o drift.csv
cat > spec.txt <<'SPEC'
with alexa_rank_scaled = alexa_rank / 1000000
with hassecureconnection_encoded = CASE WHEN hassecureconnection = 'yes' THEN 1 ELSE 0 END
drop alexa_rank, hassecureconnection
SPEC
"$HAMF" train train.csv --target phishing --pipeline spec.txt --n-estimators 20 --db "$HAMF_DB" -o champion.hamf -q >/dev/null
"$HAMF" serve --help | grep -q -- '--log-dir DIR' || { echo "FAIL: serve --help lacks --log-dir"; exit 1; }
"$HAMF" retrain --help | grep -q -- '--from-log DIR' || { echo "FAIL: retrain --help lacks --from-log"; exit 1; }
set +e
"$HAMF" serve champion.hamf --log-max-bytes 10 2>err.txt; rc=$?
set -e
[ "$rc" = 2 ] && grep -q -- '--log-max-bytes' err.txt || { echo "FAIL: bad --log-max-bytes rc=$rc"; cat err.txt; exit 1; }
set +e
"$HAMF" retrain --model "$NAME" train.csv --from-log x 2>err.txt; rc=$?
set -e
[ "$rc" = 2 ] && grep -q 'not both' err.txt || { echo "FAIL: NEW.csv and --from-log rc=$rc"; cat err.txt; exit 1; }
python3 "$HAMF_ROOT/tests/serve/serve_log.py" "$HAMF" "$NAME" same.csv drift.csv
