#!/usr/bin/python3
"""populate.py URL N — create experiment "bench" with N runs, each with 3
params, 4 metrics (accuracy, f1_score, precision, recall) and a tag, using
8 keep-alive clients. Prints the experiment id."""
import random
import sys
import threading

import requests

API = sys.argv[1].rstrip("/") + "/api/2.0/mlflow/"
N = int(sys.argv[2])
H = {"Content-Type": "application/json"}
exp = requests.post(API + "experiments/create", json={"name": "bench"}, headers=H).json()["experiment_id"]


def worker(k):
    s = requests.Session()
    rnd = random.Random(k)
    for i in range(k, N, 8):
        run = s.post(API + "runs/create", headers=H,
                     json={"experiment_id": exp, "start_time": 1700000000000 + i}).json()["run"]["info"]["run_id"]
        acc = rnd.uniform(40, 100)
        r = s.post(API + "runs/log-batch", headers=H, json={
            "run_id": run,
            "metrics": [{"key": "accuracy", "value": acc, "timestamp": 1},
                        {"key": "f1_score", "value": acc / 100, "timestamp": 1},
                        {"key": "precision", "value": rnd.random(), "timestamp": 1},
                        {"key": "recall", "value": rnd.random(), "timestamp": 1}],
            "params": [{"key": "max_depth", "value": str(rnd.randint(2, 12))},
                       {"key": "learning_rate", "value": "0.1"}, {"key": "n_estimators", "value": "100"}],
            "tags": [{"key": "model", "value": rnd.choice(["gbdt", "forest"])}]})
        assert r.status_code == 200, r.text


ts = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(exp)
