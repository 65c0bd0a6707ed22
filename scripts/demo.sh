#!/usr/bin/env bash
# demo.sh BUILD — the HAMF workflow on the embedded default: SQLite file
# ./hamf.db and generated sample data. SERVE=0 runs and exits (scripts, CI);
# SERVE=1 then serves the tracking UI + MLflow API (:5000) and the metrics
# exporter (:8000) until Ctrl-C. Re-runnable on an existing ./hamf.db (start
# from scratch with `rm -rf hamf.db* demo mlartifacts`).
set -euo pipefail
BUILD=${1:-build}
HAMF="$(pwd)/$BUILD/hamf"
export HAMF_DB="${HAMF_DB:-./hamf.db}"
DEMO_DIR=demo
echo "== hamf demo (store: $HAMF_DB)"
"$HAMF" version
json_field() { # JSON-on-stdin python-expression -> value
  /usr/bin/python3 -c "import json, sys; rows = json.load(sys.stdin); print($1)"
}

# ---- the seed's four steps in one command ----------------------------------
# Step 1 registry (15 features, PhishingDetectionModel v1.0 RandomForest and
# v1.1 GradientBoosting, the feature map, the seed's result; only what is
# missing is added), Step 2 generated raw data + the seed's preprocessing,
# Step 3 Random Forest and Gradient Boosting (1000 trees, seed 42, 80/20)
# registered as new versions and logged as MLflow runs (params, metrics,
# loss history, model/MLmodel + model file under ./mlartifacts), Step 4 the
# Prometheus metrics the exporter publishes for the latest run.
"$HAMF" workflow run --db "$HAMF_DB" --rows 20000 --seed 1 --dir "$DEMO_DIR"

# ---- what the registry and the data look like now ---------------------------
echo
"$HAMF" model list
echo
"$HAMF" result list
echo
echo "audit log: $("$HAMF" audit list --json | json_field 'len(rows)') entries ('hamf audit list' shows them)"
echo
echo "processed data ($DEMO_DIR/processed_data.csv):"
head -n 3 "$DEMO_DIR/processed_data.csv"
echo
runs=$("$HAMF" runs list --experiment "Phishing Detection Experiment")
sed -n '1,5p' <<< "$runs"
echo
"$HAMF" predict "$DEMO_DIR/gb.hamf" "$DEMO_DIR/processed_data.csv" -o "$DEMO_DIR/scored.csv"
echo "scored rows: $DEMO_DIR/scored.csv ($(($(wc -l < "$DEMO_DIR/scored.csv") - 1)) rows, columns probability, prediction)"

# ---- closed loop (hook) -------------------------------------------------------
# The champion is the Gradient Boosting model just trained: file
# $DEMO_DIR/gb.hamf, registry name PhishingDetectionModel (newest version),
# its run the newest in "Phishing Detection Experiment". The closed-loop
# steps go here: a drifted batch (datagen --drift), the accuracy drop and
# the alert, the retrain and the promotion.

# ---- serving (SERVE=1): UI + MLflow API + /metrics on :5000, exporter on :8000
if [ "${SERVE:-0}" = 1 ]; then
  echo
  echo "== Prometheus/Alertmanager too: hamf stack up (see README)."
  exec "$HAMF" workflow serve --db "$HAMF_DB" --port 5000 --exporter-port 8000
fi
