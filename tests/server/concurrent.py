#!/usr/bin/python3
"""concurrent.py URL — many keep-alive clients writing at once (the group
commit path): 8 threads each log 100 metrics to their own run and to one
shared run, with a rejected log-batch (a new param, then a param
overwrite) every 10th request. Every 200 must be in the store afterwards,
and no rejected write may leave a trace or undo a neighbour's write in the
same batch."""
import sys
import threading

import requests

API = sys.argv[1].rstrip("/") + "/api/2.0/mlflow/"
H = {"Content-Type": "application/json"}
N_THREADS, N = 8, 100
s0 = requests.Session()
exp = s0.post(API + "experiments/create", json={"name": "concurrent"}, headers=H).json()["experiment_id"]


def new_run():
    r = s0.post(API + "runs/create", json={"experiment_id": exp}, headers=H)
    return r.json()["run"]["info"]["run_id"]


shared = new_run()
s0.post(API + "runs/log-parameter", json={"run_id": shared, "key": "p", "value": "fixed"}, headers=H)
runs = [new_run() for _ in range(N_THREADS)]
errors = []


def worker(i):
    s = requests.Session()
    try:
        for k in range(N):
            for rid in (runs[i], shared):
                r = s.post(API + "runs/log-metric", headers=H,
                           json={"run_id": rid, "key": "m", "value": k, "timestamp": k, "step": i * 1000 + k})
                if r.status_code != 200:
                    errors.append(("metric", r.status_code, r.text))
            if k % 10 == 0:
                # a fresh param is written before the overwrite is refused:
                # the refusal must undo it (alone in its transaction or not)
                r = s.post(API + "runs/log-batch", headers=H,
                           json={"run_id": shared, "params": [{"key": "q%d_%d" % (i, k), "value": "x"},
                                                              {"key": "p", "value": "other-%d" % i}]})
                if r.status_code != 400 or r.json().get("error_code") != "INVALID_PARAMETER_VALUE":
                    errors.append(("param", r.status_code, r.text))
    except Exception as e:  # noqa: BLE001 — report and fail below
        errors.append(("exception", repr(e)))


ts = [threading.Thread(target=worker, args=(i,)) for i in range(N_THREADS)]
for t in ts:
    t.start()
for t in ts:
    t.join()
assert not errors, errors[:5]
for i, rid in enumerate(runs):
    h = s0.get(API + "metrics/get-history", params={"run_id": rid, "metric_key": "m"}).json()
    assert len(h["metrics"]) == N, (i, len(h["metrics"]))
h = s0.get(API + "metrics/get-history", params={"run_id": shared, "metric_key": "m"}).json()
assert len(h["metrics"]) == N * N_THREADS, len(h["metrics"])
d = s0.get(API + "runs/get", params={"run_id": shared}).json()["run"]["data"]
assert d["params"] == [{"key": "p", "value": "fixed"}], d["params"]
latest = [m for m in d["metrics"] if m["key"] == "m"][0]
assert latest["step"] == (N_THREADS - 1) * 1000 + N - 1, latest
print("concurrent writes: all %d acknowledged writes present" % (N * N_THREADS * 2))
