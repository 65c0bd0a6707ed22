#!/usr/bin/env bash
# demo.sh BUILD — the HAMF workflow on the embedded default: a SQLite store
# and generated sample data, everything under ./demo/. SERVE=0 runs and
# exits (scripts, CI); SERVE=1 then serves the tracking UI + MLflow API
# (:5000) and the metrics exporter (:8000) until Ctrl-C.
# Every run starts from a fresh demo/ (its own store demo/hamf.db and
# artifacts demo/mlartifacts), so it tells the same story each time;
# `make demo-clean` removes demo/. With HAMF_DB set, that store is reused
# (and said so): the registry then keeps growing.
set -euo pipefail
BUILD=${1:-build}
HAMF="$(pwd)/$BUILD/hamf"
DEMO_DIR=demo
if [ -n "${HAMF_DB:-}" ]; then
  mkdir -p "$DEMO_DIR"
  echo "== hamf demo, reusing the store HAMF_DB=$HAMF_DB (unset it for a fresh demo store)"
else
  rm -rf "$DEMO_DIR"
  mkdir -p "$DEMO_DIR"
  export HAMF_DB="$DEMO_DIR/hamf.db"
  echo "== hamf demo on a fresh store: $HAMF_DB (make demo-clean removes $DEMO_DIR/)"
fi
ART="$DEMO_DIR/mlartifacts"
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
# Clean labels (--label-noise 0) so the healthy model clears the seed's
# alert thresholds (accuracy >= 98 %, F1 >= 0.95); only drift breaks it.
"$HAMF" workflow run --db "$HAMF_DB" --rows 20000 --data-seed 1 --label-noise 0 --dir "$DEMO_DIR" --artifacts-dir "$ART"

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

# ---- Closed loop: drift -> alert -> retrain -> promotion -------------------
# The champion of PhishingDetectionModel (its first registered version) meets
# a drifted batch (https everywhere, aged domains, more links): `hamf drift`
# shows the PSI and the accuracy drop and records them for /metrics; an
# Alertmanager webhook (posted directly here; in production Prometheus'
# FeatureDriftHigh / ModelAccuracyLow rules send it, see tests/loop) makes
# `hamf server` run one retrain job on the newest labelled batch; the
# challenger is promoted only if it beats the champion on held-out rows.
echo
echo "== Closed loop: drift, alert, retrain, promotion"
mkdir -p "$DEMO_DIR/incoming"
"$HAMF" datagen phishing --rows 4000 --seed 7 --drift 1 --label-noise 0 -o "$DEMO_DIR/drift_raw.csv"
"$HAMF" preprocess "$DEMO_DIR/drift_raw.csv" -o "$DEMO_DIR/incoming/batch.csv" \
  --with 'alexa_rank_scaled = alexa_rank / 1000000' \
  --with 'pathlength_normalized = pathlength / urllength' \
  --with "hassecureconnection_encoded = CASE WHEN hassecureconnection = 'yes' THEN 1 ELSE 0 END" \
  --drop alexa_rank,pathlength,hassecureconnection
"$HAMF" model versions PhishingDetectionModel
echo
"$HAMF" drift --model PhishingDetectionModel "$DEMO_DIR/incoming/batch.csv"
loop_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$HAMF" server --port "$loop_port" --db "$HAMF_DB" --artifacts-dir "$ART" --retrain-data "$DEMO_DIR/incoming" --retrain-cooldown 0 >"$DEMO_DIR/loop-server.log" 2>&1 &
loop_pid=$!
trap 'kill -TERM "$loop_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$loop_port/api/hamf/v1/jobs" 2>/dev/null && break; sleep 0.1; done
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
echo
echo "alert: FeatureDriftHigh firing for PhishingDetectionModel -> POST /api/hamf/v1/alerts"
curl -fsS -X POST -H 'Content-Type: application/json' "http://127.0.0.1:$loop_port/api/hamf/v1/alerts" -d \
  '{"version":"4","groupKey":"{}:{alertname=\"FeatureDriftHigh\", model=\"PhishingDetectionModel\"}","status":"firing","receiver":"hamf-retrain","groupLabels":{"alertname":"FeatureDriftHigh","model":"PhishingDetectionModel"},"commonLabels":{"alertname":"FeatureDriftHigh","model":"PhishingDetectionModel"},"commonAnnotations":{},"externalURL":"","truncatedAlerts":0,"alerts":[{"status":"firing","labels":{"alertname":"FeatureDriftHigh","model":"PhishingDetectionModel","feature":"hassecureconnection_encoded"},"annotations":{},"startsAt":"'"$now"'","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"demo"}]}'
echo
for _ in $(seq 600); do
  curl -fsS "http://127.0.0.1:$loop_port/api/hamf/v1/jobs" | grep -q '"state":"\(queued\|running\)"' || break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$loop_port/api/hamf/v1/jobs" | /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)["jobs"][-1]
r = j["result"] or {}
print("retrain job %d (%s): %s" % (j["job_id"], j["alertname"], j["state"]))
if "error" in r: print("  error:", r["error"])
else:
    print("  champion   v%d: %.2f %% on the newest held-out rows" % (r["champion_version"], r["champion_accuracy"]))
    print("  challenger v%d: %.2f %%" % (r["challenger_version"], r["challenger_accuracy"]))
    print("  decision: %s (%s)" % ("PROMOTED" if r["promoted"] else "kept the champion", r["reason"]))'
kill -TERM "$loop_pid" 2>/dev/null || true
wait "$loop_pid" 2>/dev/null || true
trap - EXIT
echo
"$HAMF" model versions PhishingDetectionModel
echo "(hamf audit list --table model_promotions / retrain_decisions shows every decision)"

# ---- serving (SERVE=1): UI + MLflow API + /metrics on :5000, exporter on :8000
if [ "${SERVE:-0}" = 1 ]; then
  echo
  echo "== Prometheus/Alertmanager too: hamf stack up (see README)."
  exec "$HAMF" workflow serve --db "$HAMF_DB" --artifacts-dir "$ART" --port 5000 --exporter-port 8000
fi
