#!/usr/bin/env bash
# test_closed_loop.sh — the closed-loop acceptance test (issue 8), all real
# parts on loopback:
#   1. a champion trained on `datagen --drift 0` (hamf train --db) becomes
#      version 1 / champion of its name;
#   2. `hamf drift`: a batch like the training data has PSI < 0.1 on every
#      feature; a labelled batch from `--drift 1` has PSI > 0.25 on the
#      drifted features and a live accuracy at least 10 points lower;
#   3. the real chain: `hamf server` (its /metrics publishes the recorded
#      drift) scraped by Prometheus with deploy/'s rules, Alertmanager routing
#      FeatureDriftHigh to the server's /api/hamf/v1/alerts; exactly one
#      retrain job runs, the challenger (trained on the drifted data) wins and
#      is promoted;
#   4. a deliberately worse challenger (`--window 30`) is not promoted;
#   5. every decision is in `hamf model versions` and the audit log;
#      rollback returns the previous champion;
#   6. jobs live in the store: after a restart the job list is the same, and
#      re-posting the same webhook does not start a second retrain.
source "$HAMF_ROOT/tests/monitor/lib.sh"
t_start=$SECONDS
DB="$T/loop.db"
NAME=PhishingDetectionModel
jq_py() { "$PY" -c "import json,sys; d=json.load(sys.stdin); $1"; }

# ---- 1. champion ---------------------------------------------------------
"$HAMF" datagen phishing --rows 4000 --seed 11 --drift 0 -o "$T/train.csv"
"$HAMF" datagen phishing --rows 3000 --seed 12 --drift 0 -o "$T/same.csv"
"$HAMF" datagen phishing --rows 3000 --seed 13 --drift 1 -o "$T/drifted.csv"
mkdir -p "$T/newdata"
"$HAMF" datagen phishing --rows 3000 --seed 14 --drift 1 -o "$T/newdata/batch1.csv"
"$HAMF" train "$T/train.csv" --target phishing --n-estimators 100 --db "$DB" -o "$T/champion.hamf" -q >/dev/null
"$HAMF" model versions "$NAME" --db "$DB" --json | jq_py '
assert len(d) == 1 and d[0]["version"] == 1 and d[0]["aliases"] == "champion", d
assert d[0]["artifact_path"].endswith("/champion.hamf") and d[0]["model_id"] == 1, d' ||
  fail "hamf train did not create version 1 as champion"
pass "hamf train --db registered version 1 of $NAME as champion"

# a command about a registered model never creates the store it names
for verb in drift retrain; do
  if "$HAMF" "$verb" --model "$NAME" "$T/same.csv" --db "$T/none.db" 2>"$T/none.err"; then
    fail "hamf $verb on a missing store succeeded"
  fi
  grep -q "no store at $T/none.db" "$T/none.err" && [ ! -e "$T/none.db" ] ||
    fail "hamf $verb on a missing store: $(cat "$T/none.err")"
done
pass "drift and retrain refuse a missing store and do not create it"

# ---- 2. drift --------------------------------------------------------------
"$HAMF" drift --model "$NAME" "$T/same.csv" --db "$DB" --json --no-record >"$T/same.json"
"$HAMF" drift --model "$NAME" "$T/drifted.csv" --db "$DB" --json >"$T/drift.json"
"$PY" - "$T/same.json" "$T/drift.json" <<'PYEOF' || fail "drift figures"
import json, sys
same, drift = (json.load(open(p)) for p in sys.argv[1:3])
assert max(same["features"].values()) < 0.1, same
high = {f for f, v in drift["features"].items() if v > 0.25}
# the generator's drift: https everywhere, aged domains, more hyperlinks
assert {"hassecureconnection", "hostage", "hyperlinks"} <= high, drift["features"]
assert drift["accuracy"] < same["accuracy"] - 10, (same["accuracy"], drift["accuracy"])
print("   same-distribution accuracy %.2f %%, drifted %.2f %%; PSI > 0.25: %s" %
      (same["accuracy"], drift["accuracy"], ", ".join(sorted(high))))
PYEOF
pass "drift: PSI high on the drifted features, live accuracy dropped"

# ---- 3. the real Prometheus / Alertmanager chain -------------------------
export HAMF_METRICS_INTERVAL=500ms
"$HAMF" server --port 0 --db "$DB" --artifacts-dir "$T/art" --retrain-data "$T/newdata" >"$T/srv1.log" 2>&1 &
SRV_PID=$!; mon_register_pid "$SRV_PID"
SRV_PORT=$(wait_listen "$T/srv1.log" "$SRV_PID") || fail "hamf server did not start"
SRV_URL="http://127.0.0.1:$SRV_PORT"
curl -fsS "$SRV_URL/metrics" | grep -q "hamf_feature_drift_psi{model=\"$NAME\",feature=\"hostage\"}" ||
  fail "the server's /metrics lacks hamf_feature_drift_psi"
curl -fsS "$SRV_URL/metrics" | grep -q "hamf_model_live_accuracy{model=\"$NAME\"}" ||
  fail "the server's /metrics lacks hamf_model_live_accuracy"
mon_start --server "127.0.0.1:$SRV_PORT" --retrain-url "$SRV_URL/api/hamf/v1/alerts" --for 2s
mon_wait_target_up hamf-server 15 || fail "Prometheus does not scrape hamf server's /metrics"
t0=$SECONDS
mon_wait_alert FeatureDriftHigh firing 40 --label model="$NAME" >/dev/null ||
  fail "FeatureDriftHigh did not fire"
pass "FeatureDriftHigh fired through Prometheus and Alertmanager ($((SECONDS - t0)) s)"
state=""
for _ in $(seq 600); do
  state=$(curl -fsS "$SRV_URL/api/hamf/v1/jobs" | jq_py 'print(" ".join(j["state"] for j in d["jobs"]))')
  case $state in succeeded|failed) break ;; esac
  sleep 0.1
done
[ "$state" = succeeded ] || { cat "$T/srv1.log"; fail "retrain job state: '$state'"; }
sleep 3 # Alertmanager keeps notifying the firing group: still one job
curl -fsS "$SRV_URL/api/hamf/v1/jobs" >"$T/jobs1.json"
jq_py '
jobs = d["jobs"]
assert len(jobs) == 1, jobs
j = jobs[0]
# FeatureDriftHigh, or ModelAccuracyLow / ModelF1Low: the training run of the champion (95-96 %
# on this generator, below the 98 % rule) alerts too; whichever Alertmanager
# delivers first makes the job, the other finds it running or in cooldown
assert j["model"] == "'"$NAME"'" and j["alertname"] in ("FeatureDriftHigh", "ModelAccuracyLow", "ModelF1Low"), j
assert j["state"] == "succeeded", j
r = j["result"]
assert r["promoted"] is True and r["challenger_version"] == 2 and r["champion_version"] == 1, r
assert r["challenger_accuracy"] > r["champion_accuracy"], r
assert r["data"].endswith("newdata/batch1.csv"), r
print("   job %d (%s): champion %.2f %% -> challenger %.2f %% (promoted)" %
      (j["job_id"], j["alertname"], r["champion_accuracy"], r["challenger_accuracy"]))' <"$T/jobs1.json" ||
  fail "job: $(cat "$T/jobs1.json")"
pass "the webhook started exactly one retrain; the challenger won and was promoted ($((SECONDS - t0)) s)"
mon_stop

# ---- 4. a worse challenger -------------------------------------------------
"$HAMF" retrain --model "$NAME" --data "$T/newdata/batch1.csv" --window 30 --db "$DB" --json >"$T/worse.json"
jq_py 'assert d["promoted"] is False and d["challenger_version"] == 3 and d["champion_version"] == 2, d
assert "insufficient" in d["reason"] or "too large" in d["reason"], d' <"$T/worse.json" ||
  fail "worse challenger: $(cat "$T/worse.json")"
pass "a challenger trained on 30 rows was not promoted"

# ---- 5. versions and audit -------------------------------------------------
"$HAMF" model versions "$NAME" --db "$DB" --json | jq_py '
v = {x["version"]: x for x in d}
assert v[1]["aliases"] == "" and v[1]["source"] == "train", v[1]
assert v[2]["aliases"] == "champion" and v[2]["decision"] == "promoted" and v[2]["run_id"], v[2]
assert v[3]["aliases"] == "challenger" and v[3]["decision"] == "rejected", v[3]' ||
  fail "model versions: $("$HAMF" model versions "$NAME" --db "$DB")"
"$HAMF" audit list --db "$DB" --json | jq_py '
rows = [(r["table_name"], json.loads(r["new_data"] or "{}")) for r in d]
dec = [n for t, n in rows if t == "retrain_decisions"]
assert [(n["challenger_version"], n["decision"]) for n in dec] == [(2, "promoted"), (3, "rejected")], dec
pro = [n for t, n in rows if t == "model_promotions"]
assert [(n["to_version"], n["action"]) for n in pro] == [(1, "initial"), (2, "promote")], pro
jobs = [n for t, n in rows if t == "retrain_jobs"]
assert [n["state"] for n in jobs] == ["queued", "running", "succeeded"], jobs' ||
  fail "audit log"
"$HAMF" model rollback "$NAME" --db "$DB" | grep -q "version 1 is the champion" || fail "rollback"
"$HAMF" model promote "$NAME" 2 --db "$DB" >/dev/null || fail "promote"
"$HAMF" audit list --db "$DB" --json | jq_py '
pro = [json.loads(r["new_data"]) for r in d if r["table_name"] == "model_promotions"]
assert [(n["to_version"], n["action"]) for n in pro][-2:] == [(1, "rollback"), (2, "promote")], pro' ||
  fail "rollback/promote not audited"
pass "decisions in model versions and audit_log; rollback and promote audited"

# ---- 6. jobs survive a restart and never run twice per alert group --------
hook='{"version":"4","groupKey":"{}/{alertname=~\"ModelAccuracyLow|ModelF1Low|FeatureDriftHigh\"}:{alertname=\"ModelAccuracyLow\", model=\"'"$NAME"'\"}","truncatedAlerts":0,"status":"firing","receiver":"hamf-retrain","groupLabels":{"alertname":"ModelAccuracyLow","model":"'"$NAME"'"},"commonLabels":{"alertname":"ModelAccuracyLow","model":"'"$NAME"'"},"commonAnnotations":{},"externalURL":"http://127.0.0.1:9093","alerts":[{"status":"firing","labels":{"alertname":"ModelAccuracyLow","model":"'"$NAME"'","severity":"critical"},"annotations":{"summary":"low"},"startsAt":"2026-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"0123456789abcdef"}]}'
start_loop_server() { # NAME
  "$HAMF" server --port 0 --db "$DB" --artifacts-dir "$T/art" --retrain-data "$T/newdata" \
    --retrain-cooldown 0 >"$T/$1.log" 2>&1 &
  SRV_PID=$!; mon_register_pid "$SRV_PID"
  SRV_PORT=$(wait_listen "$T/$1.log" "$SRV_PID") || fail "hamf server $1 did not start"
  SRV_URL="http://127.0.0.1:$SRV_PORT"
}
post_hook() { curl -fsS -X POST -H 'Content-Type: application/json' "$SRV_URL/api/hamf/v1/alerts" -d "$hook"; }
start_loop_server srv2
post_hook | jq_py 'm = d["models"]; assert len(m) == 1 and m[0]["enqueued"] is True, d' || fail "webhook not enqueued"
for _ in $(seq 600); do
  n=$(curl -fsS "$SRV_URL/api/hamf/v1/jobs" | jq_py 'print(sum(j["state"] in ("queued", "running") for j in d["jobs"]))')
  [ "$n" = 0 ] && break; sleep 0.1
done
curl -fsS "$SRV_URL/api/hamf/v1/jobs" >"$T/jobs2.json"
kill -TERM "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true
start_loop_server srv3
curl -fsS "$SRV_URL/api/hamf/v1/jobs" >"$T/jobs3.json"
cmp -s "$T/jobs2.json" "$T/jobs3.json" || fail "jobs changed across the restart"
post_hook | jq_py 'm = d["models"][0]; assert m["enqueued"] is False and m["reason"].startswith("duplicate"), d' ||
  fail "the same alert group was enqueued again after a restart"
sleep 1.5
curl -fsS "$SRV_URL/api/hamf/v1/jobs" | jq_py '
jobs = d["jobs"]
assert len(jobs) == 2 and [j["state"] for j in jobs] == ["succeeded", "succeeded"], jobs
assert jobs[1]["alertname"] == "ModelAccuracyLow", jobs' || fail "jobs after the restart"
[ "$("$HAMF" model versions "$NAME" --db "$DB" --json | jq_py 'print(len(d))')" = 4 ] ||
  fail "a second retrain ran for the same alert group"
pass "jobs survive a restart (same list); the re-posted alert group did not retrain again"
mon_stop
pass "closed loop done in $((SECONDS - t_start)) s"
