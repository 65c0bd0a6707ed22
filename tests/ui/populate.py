#!/usr/bin/python3
"""populate.py BASE_URL OUT_DIR — fill a tracking server with the runs the
browser test looks at, through MLflow's REST API only (python3-requests
from Debian), and write OUT_DIR/data.json describing what was logged (ids,
values, histories, the artifact bytes in OUT_DIR/model.bin) so the browser
test derives every expectation from the data, not from the UI.

Six runs in one experiment: five with an accuracy (percent) and a 10-step
loss history, one with params only (so "runs lacking the sort key come
last" is visible); the best run gets artifacts: summary.json at the top and
model/MLmodel + model/model.bin (all 256 byte values) in a folder.
"""
import json
import os
import sys

import requests

BASE, OUT = sys.argv[1].rstrip("/"), sys.argv[2]
API = BASE + "/api/2.0/mlflow/"
S = requests.Session()

T0 = 1_790_000_000_000  # fixed epoch-ms origin: start times are distinct and ordered


def call(method, endpoint, **fields):
    if method == "GET":
        r = S.get(API + endpoint, params=fields, timeout=10)
    else:
        r = S.post(API + endpoint, json=fields, timeout=10)
    if r.status_code != 200:
        raise SystemExit(f"populate: {method} {endpoint}: HTTP {r.status_code}: {r.text[:300]}")
    return r.json()


RUNS = [
    # name, algorithm, max_depth, n_estimators, accuracy (percent), f1
    ("rf-baseline", "rf", "8", "100", 97.1, 0.969),
    ("rf-deep", "rf", "16", "300", 99.2, 0.991),
    ("gbdt-small", "gbdt", "4", "50", 95.4, 0.951),
    ("gbdt-large", "gbdt", "6", "400", 98.7, 0.986),
    ("rf-shallow", "rf", "3", "100", 93.3, 0.928),
    ("params-only", "gbdt", "5", "10", None, None),
]

exp_id = call("POST", "experiments/create", name="UI test experiment")["experiment_id"]
out = {"base": BASE, "experiment_id": exp_id, "experiment_name": "UI test experiment", "runs": []}

for i, (name, algo, depth, trees, acc, f1) in enumerate(RUNS):
    start = T0 + i * 60_000
    run = call("POST", "runs/create", experiment_id=exp_id, run_name=name, start_time=start,
               user_id="ui-test", tags=[{"key": "team", "value": "phishing"}])["run"]
    run_id = run["info"]["run_id"]
    params = {"algorithm": algo, "max_depth": depth, "n_estimators": trees, "learning_rate": "0.1"}
    metrics, loss = [], []
    if acc is not None:
        # A loss curve that falls with the step, different per run.
        loss = [round(1.0 / (s + 1) + (100 - acc) / 100, 6) for s in range(10)]
        metrics += [{"key": "loss", "value": v, "timestamp": start + 1000 * s, "step": s}
                    for s, v in enumerate(loss)]
        metrics += [{"key": "accuracy", "value": acc, "timestamp": start + 20_000, "step": 0},
                    {"key": "f1_score", "value": f1, "timestamp": start + 20_000, "step": 0}]
    call("POST", "runs/log-batch", run_id=run_id, metrics=metrics,
         params=[{"key": k, "value": v} for k, v in params.items()],
         tags=[{"key": "stage", "value": "candidate" if acc and acc > 98 else "baseline"}])
    call("POST", "runs/update", run_id=run_id, status="FINISHED", end_time=start + 30_000)
    out["runs"].append({"run_id": run_id, "name": name, "start_time": start, "params": params,
                        "accuracy": acc, "f1_score": f1, "loss": loss,
                        "artifact_uri": run["info"]["artifact_uri"]})

# Artifacts on the best run, through the proxied artifact store.
best = max((r for r in out["runs"] if r["accuracy"] is not None), key=lambda r: r["accuracy"])
prefix = f"{exp_id}/{best['run_id']}/artifacts"
model_bin = bytes(range(256)) * 8 + b"hamf\n"
files = {
    "summary.json": json.dumps({"accuracy": best["accuracy"]}).encode(),
    "model/MLmodel": b"artifact_path: model\nflavors:\n  hamf:\n    model_file: model.bin\n",
    "model/model.bin": model_bin,
}
for path, data in files.items():
    r = S.put(f"{BASE}/api/2.0/mlflow-artifacts/artifacts/{prefix}/{path}", data=data,
              headers={"Content-Type": "application/octet-stream"}, timeout=10)
    if r.status_code != 200:
        raise SystemExit(f"populate: PUT artifact {path}: HTTP {r.status_code}: {r.text[:300]}")
with open(os.path.join(OUT, "model.bin"), "wb") as f:
    f.write(model_bin)
out["artifact_run_id"] = best["run_id"]
out["artifact_files"] = sorted(files)
out["artifact_download"] = {"dir": "model", "name": "model.bin", "local": os.path.join(OUT, "model.bin")}

# The Model Registry, through MLflow's registry API: two versions of one
# model from the best and the worst run, aliases, a tag, a stage.
worst = min((r for r in out["runs"] if r["accuracy"] is not None), key=lambda r: r["accuracy"])
reg = "phish-ui"
call("POST", "registered-models/create", name=reg, description="UI test model")
for r in (best, worst):
    S.post(API + "model-versions/create", json={"name": reg, "source": f"runs:/{r['run_id']}/model",
                                                "run_id": r["run_id"]}, timeout=10).raise_for_status()
call("POST", "registered-models/alias", name=reg, alias="champion", version="1")
call("POST", "registered-models/alias", name=reg, alias="challenger", version="2")
call("POST", "model-versions/set-tag", name=reg, version="2", key="reviewed", value="no")
call("POST", "model-versions/transition-stage", name=reg, version="1", stage="Production",
     archive_existing_versions=False)
out["registry"] = {"name": reg, "versions": {"1": {"run_id": best["run_id"], "aliases": ["champion"],
                                                   "stage": "Production"},
                                             "2": {"run_id": worst["run_id"], "aliases": ["challenger"],
                                                   "tags": "reviewed=no", "stage": "None"}}}

with open(os.path.join(OUT, "data.json"), "w") as f:
    json.dump(out, f, indent=1)
print(f"populate: experiment {exp_id}, {len(out['runs'])} runs, artifacts on {best['name']}")
