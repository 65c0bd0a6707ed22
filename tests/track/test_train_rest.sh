#!/usr/bin/env bash
# hamf train --tracking-uri http://... logs through the MLflow REST API to a
# running `hamf server` on ANOTHER store (the registry stays in --db):
# run, metrics, history, artifacts uploaded through the proxied artifact
# API; MLFLOW_TRACKING_URI does the same; a tracking server that is down
# fails the command at once with a clear message, exit 1, and writes
# neither the model file nor a registry row.
source "$HAMF_ROOT/tests/track/lib.sh"
cd "$T"
"$HAMF" datagen phishing --rows 2000 --seed 3 -o raw.csv
start_server remote remote.db

"$HAMF" train raw.csv --target phishing --n-estimators 20 --validation-fraction 0.2 -o gb.hamf \
  --db reg.db --tracking-uri "$SRV_URL" --experiment "Remote Exp" -q --json > gb.json
run=$(jget 'd["run_id"]' < gb.json)
[ "$(newest_run remote.db)" = "$run" ] || fail "run $run is not in the server's store"
if "$HAMF" runs list --db reg.db --json | grep -q "$run"; then fail "the run was logged to the local store too"; fi
[ "$("$HAMF" result list --db reg.db --json | jget 'd[-1]["run_id"]')" = "$run" ] || fail "training_results.run_id"
pass "train --tracking-uri $SRV_URL: run $run on the server, result linked in reg.db"

"$PY" - "$SRV_URL" "$run" gb.json gb.hamf <<'PYEOF' || fail "REST checks"
import json, sys, requests
base, run, out_json, model = sys.argv[1:5]
api = base + "/api/2.0/mlflow/"
r = requests.get(api + "runs/get", params={"run_id": run}, timeout=5).json()["run"]
exp = requests.get(api + "experiments/get", params={"experiment_id": r["info"]["experiment_id"]}, timeout=5).json()
assert exp["experiment"]["name"] == "Remote Exp", exp
assert r["info"]["status"] == "FINISHED" and r["info"].get("end_time"), r["info"]
metrics = {m["key"]: m["value"] for m in r["data"]["metrics"]}
trained = json.load(open(out_json))
assert abs(metrics["accuracy"] - trained["accuracy"]) < 1e-9 and metrics["accuracy"] > 50
tags = {t["key"]: t["value"] for t in r["data"]["tags"]}
assert tags["hamf.model_name"] == "PhishingDetectionModel" and tags["hamf.model_version"] == "v1", tags
h = requests.get(api + "metrics/get-history", params={"run_id": run, "metric_key": "validation_loss"}, timeout=5).json()
assert sorted(m["step"] for m in h["metrics"]) == list(range(20)), h
ls = requests.get(api + "artifacts/list", params={"run_id": run, "path": "model"}, timeout=5).json()
assert sorted(f["path"] for f in ls["files"]) == ["model/MLmodel", "model/code", "model/conda.yaml", "model/gb.hamf", "model/model.json", "model/python_env.yaml", "model/requirements.txt"], ls
root = r["info"]["artifact_uri"].split("mlflow-artifacts:/", 1)[1]
got = requests.get(f"{base}/api/2.0/mlflow-artifacts/artifacts/{root}/model/gb.hamf", timeout=5)
assert got.status_code == 200 and got.content == open(model, "rb").read()
print("REST ok")
PYEOF
pass "REST: experiment, metrics, validation_loss history, uploaded artifacts identical"

# MLFLOW_TRACKING_URI, no --db: logs to the server, default experiment
MLFLOW_TRACKING_URI=$SRV_URL "$HAMF" train raw.csv --target phishing --algorithm rf --n-estimators 5 -o rf.hamf -q --json > rf.json
run2=$(jget 'd["run_id"]' < rf.json)
curl -fsS "$SRV_URL/api/2.0/mlflow/experiments/get-by-name?experiment_name=Phishing%20Detection%20Experiment" > e.json ||
  fail "default experiment not created on the server"
[ "$(newest_run remote.db)" = "$run2" ] || fail "MLFLOW_TRACKING_URI run not on the server"
pass "MLFLOW_TRACKING_URI: run $run2 in 'Phishing Detection Experiment'"

# an experiment whose artifact root is a local file:// path (an MLflow server
# without proxied artifacts, on this machine): the files are written there
api "$SRV_URL" experiments/create "{\"name\":\"Files\",\"artifact_location\":\"file://$T/filestore\"}" > /dev/null
"$HAMF" train raw.csv --target phishing --n-estimators 5 -o f.hamf --tracking-uri "$SRV_URL" --experiment Files -q --json > f.json
run3=$(jget 'd["run_id"]' < f.json)
cmp -s "filestore/$run3/artifacts/model/f.hamf" f.hamf || fail "file:// artifact root: model not written under $T/filestore"
grep -q '^  hamf:' "filestore/$run3/artifacts/model/MLmodel" || fail "file:// artifact root: MLmodel"
pass "file:// artifact root: artifacts written to the path"

# hamf workflow run logging over REST: runs on the server, registry in wf.db,
# and its Step 4 reads the exported metrics back through the REST API
"$HAMF" workflow run --db wf.db --tracking-uri "$SRV_URL" --experiment "WF REST" --rows 1000 \
  --rf-estimators 10 --gb-estimators 20 --dir wf --json > wf.json || fail "workflow run over REST"
gbrun=$(jget 'd["models"][1]["run_id"]' < wf.json)
[ "$(newest_run remote.db)" = "$gbrun" ] || fail "workflow GB run $gbrun is not the server's newest"
[ "$("$HAMF" result list --db wf.db --json | jget 'd[-1]["run_id"]')" = "$gbrun" ] || fail "workflow result not linked"
pass "workflow run --tracking-uri: runs on the server, results linked in wf.db"

# tracking server down: clear error, exit 1, nothing written
down=$(mon_free_port)
rc=0
"$HAMF" train raw.csv --target phishing --n-estimators 5 -o down.hamf --db reg.db \
  --tracking-uri "http://127.0.0.1:$down" -q 2> down.err || rc=$?
[ "$rc" = 1 ] || fail "server down: exit $rc, want 1"
grep -q "hamf train: tracking is on but no run could be created" down.err || fail "unclear error: $(cat down.err)"
grep -q "127.0.0.1:$down" down.err || fail "error does not name the server: $(cat down.err)"
[ ! -e down.hamf ] || fail "server down: the model file was written"
n=$("$HAMF" result list --db reg.db --json | jget 'len(d)')
[ "$n" = 1 ] || fail "server down: registry has $n results, want 1"
pass "server down: $(head -c 160 down.err)"

# --no-track ignores MLFLOW_TRACKING_URI
MLFLOW_TRACKING_URI="http://127.0.0.1:$down" "$HAMF" train raw.csv --target phishing --n-estimators 5 \
  -o nt.hamf --no-track -q > /dev/null || fail "--no-track still contacted the tracking server"
pass "--no-track with MLFLOW_TRACKING_URI set"
