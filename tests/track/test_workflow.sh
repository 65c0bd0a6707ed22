#!/usr/bin/env bash
# hamf workflow run end to end on a small generated dataset: the report,
# the registry tables (seed rows + the two trained versions with their
# training_results linked to FINISHED runs), re-running on the same store
# (idempotent Step 1), /metrics from `hamf exporter` on the same store,
# --data, a bad --data, and --serve (server + UI + /metrics and the
# exporter in-process, stopped by SIGINT with exit 0).
source "$HAMF_ROOT/tests/track/lib.sh"
cd "$T"
W=("$HAMF" workflow run --db w.db --rows 3000 --gb-estimators 100 --dir out)

"${W[@]}" --json > run1.json || fail "workflow run failed"
"$PY" - run1.json <<'PYEOF' || fail "report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["features_added"] == 15 and r["rows"] == 3000, r
assert [m["algorithm"] for m in r["models"]] == ["random-forest", "gradient-boosting"], r
for m in r["models"]:
    assert 80 < m["accuracy"] <= 100 and 0 < m["f1_score"] <= 1, m
    assert len(m["run_id"]) == 32 and m["n_train"] == 2400 and m["n_test"] == 600, m
assert r["models"][0]["n_trees"] == 100 and r["models"][1]["n_trees"] == 100
assert [m["model_version"] for m in r["models"]] == ["v1", "v2"], r
PYEOF
[ -s out/raw_data.csv ] && [ -s out/processed_data.csv ] && [ -s out/rf.hamf ] && [ -s out/gb.hamf ] || fail "output files"
head -n1 out/processed_data.csv | grep -q 'alexa_rank_scaled' || fail "processed data lacks the seed's derived column"
if head -n1 out/processed_data.csv | grep -q 'hassecureconnection,'; then fail "processed data kept a dropped column"; fi
pass "workflow run: report, files"

# registry
# the seed's 15, plus the 3 columns the preprocessing derived (the trained models' inputs)
"$HAMF" feature list --db w.db --json | jget '" ".join(f["feature_name"] for f in d)' > features.txt
grep -qx 'urllength numberofdots hostage hassecureconnection has_equal alexa_rank has_digits hostlength pathlength registrarname hyperlinks foreignlinks brokenhyperlinks trickyforms phishing alexa_rank_scaled pathlength_normalized hassecureconnection_encoded' features.txt ||
  fail "features_master: $(cat features.txt)"
"$HAMF" model list --db w.db --json > models.json
jget '" ".join(m["model_version"] + ":" + m["algorithm"] for m in d)' < models.json > models.txt
grep -qx 'v1.0:RandomForest v1.1:GradientBoosting v1:RandomForest v2:GradientBoosting' models.txt ||
  fail "models_master: $(cat models.txt)"
"$HAMF" result list --db w.db --json > results.json
"$PY" - results.json run1.json w.db "$HAMF" <<'PYEOF' || fail "training_results"
import json, subprocess, sys
res, r, db, hamf = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
assert len(res) == 3, res
seed = res[0]
assert seed["model_id"] == 2 and seed["accuracy"] == 99.83 and seed["run_id"] is None, seed
for row, m in zip(res[1:], r["models"]):
    assert row["model_id"] == m["model_id"] and row["result_id"] == m["result_id"], (row, m)
    assert row["run_id"] == m["run_id"] and abs(row["accuracy"] - m["accuracy"]) < 1e-9, (row, m)
    out = subprocess.run([hamf, "runs", "show", m["run_id"], "--db", db], capture_output=True, text=True, check=True).stdout
    assert "FINISHED" in out and "hamf.model_version" in out and m["model_version"] in out, out
    assert "hamf workflow run" in out, out
PYEOF
pass "registry: 15 features, seed models v1.0/v1.1 + trained v1/v2, results linked to FINISHED runs"

# exporter on the same store: the latest run is the GB one
start_exporter exp --db w.db --interval 1s
curl -fsS "$EXP_URL" > metrics.txt || fail "exporter scrape"
gb_acc=$(jget 'd["models"][1]["accuracy"]' < run1.json)
gb_run=$(jget 'd["models"][1]["run_id"]' < run1.json)
line=$(grep '^mlflow_model_accuracy{' metrics.txt) || fail "no mlflow_model_accuracy: $(cat metrics.txt)"
[[ "$line" == *"run_id=\"$gb_run\""* && "$line" == *'model_version="v2"'* ]] || fail "exporter labels: $line"
"$PY" -c "import sys; assert abs(float('${line##* }') - $gb_acc) < 1e-9" || fail "exported accuracy ${line##* } != $gb_acc"
pass "hamf exporter: $line"

# again on the same store, on the same raw data: step 1 adds nothing, new versions v3/v4
"${W[@]}" --data out/raw_data.csv --json > run2.json || fail "second run failed"
"$PY" - run2.json run1.json <<'PYEOF' || fail "second run"
import json, sys
r2, r1 = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert r2["features_added"] == 0 and r2["seed_models"] == r1["seed_models"], r2
assert [m["model_version"] for m in r2["models"]] == ["v3", "v4"], r2
# same data, same seeds: the same figures
for a, b in zip(r1["models"], r2["models"]):
    assert a["accuracy"] == b["accuracy"] and a["f1_score"] == b["f1_score"], (a, b)
PYEOF
[ "$("$HAMF" result list --db w.db --model-id 2 --json | jget 'len(d)')" = 1 ] || fail "seed result logged twice"
pass "re-run: idempotent registry, same figures from --data, versions v3/v4"

# a bad --data: clear error naming the step, exit 1
rc=0; "$HAMF" workflow run --db w.db --data nope.csv -q 2> bad.err || rc=$?
[ "$rc" = 1 ] && grep -q 'step 2 (data)' bad.err && grep -q 'nope.csv' bad.err || fail "bad --data: rc=$rc $(cat bad.err)"
pass "bad --data: $(cat bad.err)"

# --serve: server (UI, API, /metrics) and exporter in-process until SIGINT
"${W[@]}" --gb-estimators 20 --serve --port 0 --exporter-port 0 -q > serve.log 2>&1 &
wpid=$!; mon_register_pid "$wpid"
for _ in $(seq 200); do grep -q '^== Serving' serve.log && break; kill -0 "$wpid" 2>/dev/null || break; sleep 0.1; done
grep -q '^== Serving' serve.log || fail "--serve did not start: $(cat serve.log)"
sport=$(sed -n 's|.*MLflow API http://127.0.0.1:\([0-9]*\)/.*|\1|p' serve.log)
eport=$(sed -n 's|.*exporter http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' serve.log)
curl -fsS "http://127.0.0.1:$sport/" | grep -qi '<html' || fail "UI not served"
curl -fsS "http://127.0.0.1:$eport/metrics" | grep -q '^mlflow_model_accuracy{.*model_version="v6"' || fail "exporter /metrics"
curl -fsS "http://127.0.0.1:$sport/metrics" | grep -q '^mlflow_model_accuracy{' || fail "server /metrics"
newest=$(curl -fsS "http://127.0.0.1:$sport/api/2.0/mlflow/runs/search?experiment_ids=1" | jget 'd["runs"][0]["info"]')
[[ "$newest" == *"gradient-boosting-PhishingDetectionModel-v6"* ]] || fail "runs/search runs[0]: $newest"
uri=$(curl -fsS "http://127.0.0.1:$sport/api/2.0/mlflow/runs/search?experiment_ids=1" | jget 'd["runs"][0]["info"]["artifact_uri"]')
curl -fsS "http://127.0.0.1:$sport/api/2.0/mlflow-artifacts/artifacts/${uri#mlflow-artifacts:/}/model/gb.hamf" -o dl.hamf
cmp -s dl.hamf out/gb.hamf || fail "downloaded gb.hamf differs"
kill -INT "$wpid"
rc=0; wait "$wpid" || rc=$?
[ "$rc" = 0 ] || fail "--serve exit $rc after SIGINT: $(tail -3 serve.log)"
pass "--serve: UI, API, artifacts, /metrics on both ports; SIGINT -> exit 0"
