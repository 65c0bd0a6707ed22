#!/usr/bin/env bash
# hamf train with tracking on the local store (--db): the run is read back
# through `hamf runs show` and through the REST API of a `hamf server` on the
# same store and artifacts dir: params, percent accuracy equal to the
# training_results row, loss history with steps, tags, the model directory
# (MLmodel + the model file, byte-identical on download), run_id linked in
# training_results; --no-track, --experiment, and a training that fails
# after its run was created (FAILED).
source "$HAMF_ROOT/tests/track/lib.sh"
cd "$T"
"$HAMF" datagen phishing --rows 3000 --seed 7 -o raw.csv

# 1. GB with a validation fraction: training and validation loss histories
"$HAMF" train raw.csv --target phishing --algorithm gradient-boosting --n-estimators 30 \
  --validation-fraction 0.1 --n-iter-no-change 1000 -o gb.hamf --db t.db --json -q > gb.json
run=$(jget 'd["run_id"]' < gb.json)
[[ "$run" =~ ^[0-9a-f]{32}$ ]] || fail "train --json has no run_id: $(cat gb.json)"
[ "$(newest_run t.db)" = "$run" ] || fail "newest run is not $run"
pass "train --db logs run $run"

"$HAMF" runs show "$run" --db t.db > show.txt
grep -Eq '^status: +FINISHED' show.txt || fail "runs show: not FINISHED: $(cat show.txt)"
grep -Eq '^  n_estimators +30$' show.txt || fail "runs show: n_estimators param"
grep -Eq '^  hamf.model_name +PhishingDetectionModel$' show.txt || fail "runs show: hamf.model_name tag"
grep -Eq '^  hamf.model_version +v1$' show.txt || fail "runs show: hamf.model_version tag"
grep -Eq '^  training_loss .*\(step 29\)$' show.txt || fail "runs show: training_loss at step 29"
pass "runs show: FINISHED, params, tags, last loss step"

# training_results row linked to the run, same accuracy (percent)
"$HAMF" result list --db t.db --json > results.json
[ "$(jget 'd[-1]["run_id"]' < results.json)" = "$run" ] || fail "training_results.run_id is not $run"
acc_reg=$(jget 'd[-1]["accuracy"]' < results.json)

# a server on the same store and the same artifacts dir (./mlartifacts)
"$HAMF" server --port 0 --db t.db --artifacts-dir ./mlartifacts > srv2.log 2>&1 &
SRV_PID=$!; mon_register_pid "$SRV_PID"
SRV_PORT=$(wait_listen srv2.log "$SRV_PID") || fail "server did not start"
SRV_URL="http://127.0.0.1:$SRV_PORT"

"$PY" - "$SRV_URL" "$run" "$acc_reg" gb.json gb.hamf <<'PYEOF' || fail "REST checks"
import json, sys, requests
base, run, acc_reg, out_json, model = sys.argv[1:6]
api = base + "/api/2.0/mlflow/"
r = requests.get(api + "runs/get", params={"run_id": run}, timeout=5).json()["run"]
info, data = r["info"], r["data"]
assert info["status"] == "FINISHED" and info["end_time"] >= info["start_time"], info
metrics = {m["key"]: m["value"] for m in data["metrics"]}
params = {p["key"]: p["value"] for p in data["params"]}
tags = {t["key"]: t["value"] for t in data["tags"]}
trained = json.load(open(out_json))
for k in ("accuracy", "f1_score", "precision", "recall", "roc_auc", "log_loss"):
    assert abs(metrics[k] - trained[k]) < 1e-9, (k, metrics[k], trained[k])
assert 50 < metrics["accuracy"] <= 100, metrics["accuracy"]          # a percent
assert 0 <= metrics["f1_score"] <= 1
assert abs(metrics["accuracy"] - float(acc_reg)) < 1e-9, (metrics["accuracy"], acc_reg)
assert metrics["n_train"] == 2400 and metrics["n_test"] == 600, metrics
for k, v in {"algorithm": "gradient-boosting", "n_estimators": "30", "learning_rate": "0.1", "max_depth": "3",
             "validation_fraction": "0.1", "seed": "42", "target": "phishing", "test_size": "0.2"}.items():
    assert params.get(k) == v, (k, params.get(k))
assert tags["mlflow.runName"] == "gradient-boosting-PhishingDetectionModel-v1", tags
assert tags["mlflow.source.name"] == "hamf train"
assert tags["hamf.model_name"] == "PhishingDetectionModel" and tags["hamf.model_version"] == "v1"
hist = json.loads(tags["mlflow.log-model.history"])
assert hist[0]["artifact_path"] == "model" and hist[0]["flavors"]["hamf"]["model_file"] == "gb.hamf", hist
# loss history: one value per iteration, steps 0..29, training loss going down
for key in ("training_loss", "validation_loss"):
    h = requests.get(api + "metrics/get-history", params={"run_id": run, "metric_key": key}, timeout=5).json()["metrics"]
    steps = sorted(m["step"] for m in h)
    assert steps == list(range(30)), (key, steps)
    by = {m["step"]: m["value"] for m in h}
    assert by[29] < by[0], (key, by[0], by[29])
    assert metrics[key] == by[29], (key, metrics[key], by[29])
# artifacts: listable, downloadable, identical
ls = requests.get(api + "artifacts/list", params={"run_id": run}, timeout=5).json()
assert [f["path"] for f in ls["files"]] == ["model", "shap_importance.json", "shap_importance.svg"] and ls["files"][0]["is_dir"], ls
ls = requests.get(api + "artifacts/list", params={"run_id": run, "path": "model"}, timeout=5).json()
assert sorted(f["path"] for f in ls["files"]) == ["model/MLmodel", "model/code", "model/conda.yaml", "model/gb.hamf", "model/model.json", "model/python_env.yaml", "model/requirements.txt"], ls
root = info["artifact_uri"].split("mlflow-artifacts:/", 1)[1]
got = requests.get(f"{base}/api/2.0/mlflow-artifacts/artifacts/{root}/model/gb.hamf", timeout=5)
assert got.status_code == 200 and got.content == open(model, "rb").read(), got.status_code
mlm = requests.get(f"{base}/api/2.0/mlflow-artifacts/artifacts/{root}/model/MLmodel", timeout=5).text
import yaml
y = yaml.safe_load(mlm)
assert y["artifact_path"] == "model" and y["run_id"] == run, y
fl = y["flavors"]["hamf"]
assert fl["model_file"] == "gb.hamf" and fl["algorithm"] == "gradient-boosting" and fl["n_trees"] == 30, fl
sig = json.loads(y["signature"]["inputs"])
names = [c["name"] for c in sig]
assert "urllength" in names and "phishing" not in names and len(names) == 14, names
assert {c["name"]: c["type"] for c in sig}["registrarname"] == "string"
print("REST ok")
PYEOF
pass "REST: metrics (percent accuracy = training_results), params, tags, loss history, artifacts"

# 2. RF into a named experiment: OOB accuracy, no loss history
"$HAMF" train raw.csv --target phishing --algorithm random-forest --n-estimators 10 -o rf.hamf \
  --db t.db --experiment "Phishing RF" --run-name rf-test -q --json > rf.json
rf_run=$(jget 'd["run_id"]' < rf.json)
"$HAMF" runs list --db t.db --experiment "Phishing RF" --json > rf_runs.json
[ "$(jget 'len(d["runs"])' < rf_runs.json)" = 1 ] || fail "experiment 'Phishing RF' should hold one run"
[ "$(jget 'd["runs"][0]["info"]["run_name"]' < rf_runs.json)" = rf-test ] || fail "--run-name"
jget '[m["key"] for m in d["runs"][0]["data"]["metrics"]]' < rf_runs.json > rf_keys.txt
grep -q oob_accuracy rf_keys.txt || fail "RF run lacks oob_accuracy"
if grep -q training_loss rf_keys.txt; then fail "RF run has a training_loss"; fi
[ -f "mlartifacts/$(jget 'd["runs"][0]["info"]["experiment_id"]' < rf_runs.json)/$rf_run/artifacts/model/rf.hamf" ] ||
  fail "RF model artifact not under ./mlartifacts/<exp>/<run>/artifacts/model"
pass "RF run in experiment 'Phishing RF' with --run-name"

# 3. --no-track: registry row, no run
before=$("$HAMF" runs list --db t.db --json | jget 'len(d.get("runs", []))')
"$HAMF" train raw.csv --target phishing --n-estimators 5 -o nt.hamf --db t.db --no-track -q > /dev/null
after=$("$HAMF" runs list --db t.db --json | jget 'len(d.get("runs", []))')
[ "$before" = "$after" ] || fail "--no-track logged a run ($before -> $after)"
[ "$("$HAMF" result list --db t.db --json | jget 'd[-1]["run_id"]')" = None ] || fail "--no-track result has a run_id"
pass "--no-track"

# 4. a training that fails after its run was created: FAILED with end_time
printf 'a,b,phishing\n1,2,3\n4,5,6\n7,8,9\n' > bad.csv
if "$HAMF" train bad.csv --target phishing -o bad.hamf --db t.db -q 2> bad.err; then fail "training on a non-binary target succeeded"; fi
[ ! -e bad.hamf ] || fail "a failed training wrote a model file"
"$HAMF" runs list --db t.db --json | jget 'd["runs"][0]["info"]' > failed.txt
grep -q "'status': 'FAILED'" failed.txt || fail "the run of a failed training is not FAILED: $(cat failed.txt)"
grep -q "'end_time'" failed.txt || fail "FAILED run without end_time"
pass "failed training leaves a FAILED run"
