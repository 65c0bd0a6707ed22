#!/usr/bin/env bash
# demo.sh BUILD — the HAMF workflow on the embedded default: SQLite file
# ./hamf.db and generated sample data. SERVE=0 runs and exits (scripts, CI).
set -euo pipefail
BUILD=${1:-build}
HAMF="$(pwd)/$BUILD/hamf"
export HAMF_DB="${HAMF_DB:-./hamf.db}"
echo "== hamf demo (store: $HAMF_DB)"
"$HAMF" version

# ---- Step 1: log features, models, the feature map and a training result ----
# Idempotent on purpose: re-running on an existing store registers only
# what is missing (features by name, models by name+version), re-maps the
# features (which refreshes last_used, audited as an UPDATE) and logs the
# seed's result only if that model has none yet. Start from scratch with
# `rm -f hamf.db*`.
echo
echo "== Step 1: registry (features, models, feature map, training result)"
json_field() { # JSON-on-stdin python-expression -> value
  /usr/bin/python3 -c "import json, sys; rows = json.load(sys.stdin); print($1)"
}
existing=$("$HAMF" feature list --json | json_field '" ".join(r["feature_name"] for r in rows)')
added=0
for feature in urllength numberofdots hostage hassecureconnection has_equal \
               alexa_rank has_digits hostlength pathlength registrarname \
               hyperlinks foreignlinks brokenhyperlinks trickyforms phishing; do
  case " urllength numberofdots alexa_rank hostlength pathlength " in
    *" $feature "*) type=numerical ;; *) type=categorical ;;
  esac
  case " $existing " in
    *" $feature "*) ;;
    *) "$HAMF" feature add "$feature" --type "$type" >/dev/null; added=$((added + 1)) ;;
  esac
done
echo "features: $added added, $((15 - added)) already registered"

model_id() { # NAME VERSION ALGORITHM -> $MODEL_ID (registering the model if needed)
  MODEL_ID=$("$HAMF" model list --json |
    json_field "next((r['model_id'] for r in rows if r['model_name'] == '$1' and r['model_version'] == '$2'), '')")
  if [ -z "$MODEL_ID" ]; then
    MODEL_ID=$("$HAMF" model add "$1" --algorithm "$3" --version "$2")
    echo "model $1 $2 ($3): registered as id $MODEL_ID"
  else
    echo "model $1 $2 ($3): already registered as id $MODEL_ID"
  fi
}
model_id PhishingDetectionModel v1.0 RandomForest
rf=$MODEL_ID
# The seed logs its Gradient Boosting result against model id 2: that is
# this second version (id 2 on a fresh store).
model_id PhishingDetectionModel v1.1 GradientBoosting
gb=$MODEL_ID

# The seed maps feature ids 1-14 (every feature but the target, phishing);
# by name, so an older store with other ids maps the same features.
"$HAMF" model map "$rf" --accuracy 99.83 --features \
  urllength,numberofdots,hostage,hassecureconnection,has_equal,alexa_rank,has_digits,hostlength,pathlength,registrarname,hyperlinks,foreignlinks,brokenhyperlinks,trickyforms

if [ "$("$HAMF" result list --model-id "$gb" --json)" = "[]" ]; then
  rid=$("$HAMF" result add --model-id "$gb" --accuracy 99.83 --f1 0.998 --precision 0.999 --recall 0.997 \
        --status completed)
  echo "training result for model $gb: logged as result $rid"
else
  echo "training result for model $gb: already logged"
fi
echo
"$HAMF" model list
echo
"$HAMF" result list
echo
echo "audit log: $("$HAMF" audit list --json | json_field 'len(rows)') entries ('hamf audit list' shows them)"

# --- Data: generate raw phishing data, then the seed's preprocessing step ---
mkdir -p demo
"$HAMF" datagen phishing --rows 20000 --seed 1 -o demo/raw_data.csv
"$HAMF" preprocess demo/raw_data.csv -o demo/processed_data.csv \
  --with 'alexa_rank_scaled = alexa_rank / 1000000' \
  --with 'pathlength_normalized = pathlength / urllength' \
  --with "hassecureconnection_encoded = CASE WHEN hassecureconnection = 'yes' THEN 1 ELSE 0 END" \
  --drop alexa_rank,pathlength,hassecureconnection
head -n 3 demo/processed_data.csv

# --- Learning: retrain on the preprocessed data (seed's train.py: 80/20 split,
# random_state 42), Random Forest and Gradient Boosting, both recorded in the
# registry (models_master, features_models_map, training_results) ---
echo
"$HAMF" train demo/processed_data.csv --target phishing --algorithm random-forest \
  --n-estimators 100 --seed 42 --test-size 0.2 -o demo/rf.hamf -q
echo
"$HAMF" train demo/processed_data.csv --target phishing --algorithm gradient-boosting \
  --n-estimators 1000 --seed 42 --test-size 0.2 -o demo/gb.hamf -q
echo
"$HAMF" predict demo/gb.hamf demo/processed_data.csv -o demo/scored.csv
echo "scored rows: demo/scored.csv ($(($(wc -l < demo/scored.csv) - 1)) rows, columns probability, prediction)"

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
mkdir -p demo/incoming
"$HAMF" datagen phishing --rows 4000 --seed 7 --drift 1 -o demo/drift_raw.csv
"$HAMF" preprocess demo/drift_raw.csv -o demo/incoming/batch.csv \
  --with 'alexa_rank_scaled = alexa_rank / 1000000' \
  --with 'pathlength_normalized = pathlength / urllength' \
  --with "hassecureconnection_encoded = CASE WHEN hassecureconnection = 'yes' THEN 1 ELSE 0 END" \
  --drop alexa_rank,pathlength,hassecureconnection
"$HAMF" model versions PhishingDetectionModel
echo
"$HAMF" drift --model PhishingDetectionModel demo/incoming/batch.csv
loop_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$HAMF" server --port "$loop_port" --db "$HAMF_DB" --retrain-data demo/incoming >demo/loop-server.log 2>&1 &
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

# ---- monitoring: the exporter on :8000 beside the server on :5000 ----------
# (SERVE=1 only; runs until Ctrl-C.) Reuses a server an earlier step left on
# :5000, else starts one; the exporter reads the demo store directly, so it
# works whatever ran before. Both are stopped by PID on exit.
if [ "${SERVE:-0}" = 1 ]; then
  demo_pids=()
  demo_stop() { local p; for p in "${demo_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
                for p in "${demo_pids[@]}"; do wait "$p" 2>/dev/null || true; done; demo_pids=(); }
  trap 'demo_stop' EXIT
  trap 'echo; echo "== stopping"; exit 0' INT TERM
  demo_up() { curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null; }
  if demo_up "http://127.0.0.1:5000/metrics"; then
    echo "== hamf server already on http://127.0.0.1:5000"
  else
    "$HAMF" server --port 5000 --db "$HAMF_DB" &
    demo_pids+=($!)
  fi
  if demo_up "http://127.0.0.1:8000/metrics"; then
    echo "== something already serves :8000; not starting the exporter"
  else
    "$HAMF" exporter --port 8000 --db "$HAMF_DB" &
    demo_pids+=($!)
  fi
  for _ in $(seq 50); do demo_up "http://127.0.0.1:8000/metrics" && break; sleep 0.1; done
  echo "== UI and MLflow API: http://127.0.0.1:5000/   metrics: http://127.0.0.1:8000/metrics (also :5000/metrics)"
  echo "== Prometheus/Alertmanager too: hamf stack up (see README). Ctrl-C to stop."
  if [ ${#demo_pids[@]} -gt 0 ]; then wait "${demo_pids[@]}" || true; fi
fi
