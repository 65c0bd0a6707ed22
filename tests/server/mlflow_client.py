#!/usr/bin/python3
"""mlflow_client.py BASE_URL ARTIFACTS_DIR — drive a running `hamf server`
with an independent client (Debian's python3-requests and http.client) over
the MLflow REST API subset of shared/specs/mlflow-rest-subset.md: every
endpoint, the error table, omission rules, default ordering, pagination
until the token is gone, the GET form of runs/search, artifact path escapes
and the request-body limit. Every answer is checked to be JSON with a
status below 500 (client mistakes must never look like server errors).
Exits non-zero on the first failed check, printing what differed."""
import http.client
import json
import time
import os
import sys
import urllib.parse

import requests

BASE = sys.argv[1].rstrip("/")
ART_DIR = sys.argv[2]
API = BASE + "/api/2.0/mlflow/"
ART = BASE + "/api/2.0/mlflow-artifacts/artifacts"
HOST, PORT = urllib.parse.urlparse(BASE).hostname, urllib.parse.urlparse(BASE).port
S = requests.Session()  # keep-alive, like MLflow's client
checks = 0


def check(cond, what, *extra):
    global checks
    checks += 1
    if not cond:
        print("FAIL:", what, *extra, file=sys.stderr)
        sys.exit(1)


def answer(r):
    check(r.status_code < 500, "no 5xx for %s %s" % (r.request.method, r.url), r.status_code, r.text[:300])
    ct = r.headers.get("Content-Type", "")
    if ct.startswith("application/json"):
        return r.json()
    return None


def post(ep, body, want=200, raw=None, headers=None):
    h = {"Content-Type": "application/json"}
    if headers is not None:
        h = headers
    r = S.post(API + ep, data=raw if raw is not None else json.dumps(body), headers=h)
    j = answer(r)
    check(r.status_code == want, "POST %s -> %d" % (ep, want), r.status_code, r.text[:400])
    return j


def get(ep, params, want=200):
    r = S.get(API + ep, params=params)
    j = answer(r)
    check(r.status_code == want, "GET %s %s -> %d" % (ep, params, want), r.status_code, r.text[:400])
    return j


def err(j, code):
    check(isinstance(j, dict) and j.get("error_code") == code and isinstance(j.get("message"), str),
          "error_code %s" % code, j)


# ---------------------------------------------------------------- experiments
j = get("experiments/get", {"experiment_id": "0"})
e0 = j["experiment"]
check(e0["experiment_id"] == "0" and e0["name"] == "Default" and e0["lifecycle_stage"] == "active",
      "Default experiment 0", e0)
check(isinstance(e0["creation_time"], int) and "tags" not in e0, "Default shape", e0)

j = post("experiments/create", {"name": "Phishing Detection Experiment"})
check(j == {"experiment_id": "1"}, "first experiment is 1", j)
j = post("experiments/create", {"name": "second", "artifact_location": "mlflow-artifacts:/custom",
                                "tags": [{"key": "team", "value": "sec"}], "unknown_field": 1})
check(j == {"experiment_id": "2"}, "second experiment is 2", j)
err(post("experiments/create", {"name": "second"}, want=400), "RESOURCE_ALREADY_EXISTS")
err(post("experiments/create", {}, want=400), "INVALID_PARAMETER_VALUE")
err(post("experiments/create", {"name": 5}, want=400), "INVALID_PARAMETER_VALUE")
err(get("experiments/get", {"experiment_id": "99"}, want=404), "RESOURCE_DOES_NOT_EXIST")
err(get("experiments/get", {}, want=400), "INVALID_PARAMETER_VALUE")

# the seed's spelling: spaces as '+'
r = S.get(API + "experiments/get-by-name?experiment_name=Phishing+Detection+Experiment")
check(r.status_code == 200 and r.json()["experiment"]["experiment_id"] == "1", "get-by-name with +", r.text)
e2 = get("experiments/get-by-name", {"experiment_name": "second"})["experiment"]
check(e2["artifact_location"] == "mlflow-artifacts:/custom" and e2["tags"] == [{"key": "team", "value": "sec"}],
      "experiment tags as a list", e2)
err(get("experiments/get-by-name", {"experiment_name": "nope"}, want=404), "RESOURCE_DOES_NOT_EXIST")

check(post("experiments/set-experiment-tag", {"experiment_id": "2", "key": "team", "value": "red"}) == {}, "set tag")
check(get("experiments/get", {"experiment_id": "2"})["experiment"]["tags"] == [{"key": "team", "value": "red"}],
      "experiment tag overwritten")
err(post("experiments/set-experiment-tag", {"experiment_id": "77", "key": "a", "value": "b"}, want=404),
    "RESOURCE_DOES_NOT_EXIST")
check(post("experiments/update", {"experiment_id": "2", "new_name": "renamed"}) == {}, "rename")
check(get("experiments/get", {"experiment_id": "2"})["experiment"]["name"] == "renamed", "renamed")
j = post("experiments/update", {"experiment_id": "2", "new_name": "Default"}, want=400)
check(j["error_code"] in ("RESOURCE_ALREADY_EXISTS", "BAD_REQUEST"), "rename onto a taken name", j)
err(post("experiments/update", {"experiment_id": "55", "new_name": "x"}, want=404), "RESOURCE_DOES_NOT_EXIST")

for i in range(3, 6):
    check(post("experiments/create", {"name": "bulk-%d" % i}) == {"experiment_id": str(i)}, "sequential ids")
    time.sleep(0.003)  # creation_time has millisecond resolution; ties order by id ASC (as MLflow)

# search: default order creation_time DESC, pagination, filter, GET form
seen = []
tok = None
while True:
    body = {"max_results": 2}
    if tok:
        body["page_token"] = tok
    j = post("experiments/search", body)
    seen += [e["experiment_id"] for e in j.get("experiments", [])]
    tok = j.get("next_page_token")
    if not tok:
        break
    check(len(seen) < 50, "experiment pagination ends")
check(sorted(seen, key=int) == ["0", "1", "2", "3", "4", "5"] and len(set(seen)) == 6, "all experiments paged", seen)
check(seen[0] == "5", "newest experiment first", seen)
j = post("experiments/search", {"filter": "name LIKE 'bulk-%'", "order_by": ["name DESC"]})
check([e["name"] for e in j["experiments"]] == ["bulk-5", "bulk-4", "bulk-3"], "experiment filter+order", j)
j = get("experiments/search", {"filter": "tags.team = 'red'"})
check([e["experiment_id"] for e in j["experiments"]] == ["2"], "GET experiments/search by tag", j)
check(post("experiments/search", {"filter": "name = 'none'"}) == {}, "no hits gives {}")
err(post("experiments/search", {"filter": "name = 'a' OR name = 'b'"}, want=400), "INVALID_PARAMETER_VALUE")
err(post("experiments/search", {"max_results": 50001}, want=400), "INVALID_PARAMETER_VALUE")

check(post("experiments/delete", {"experiment_id": "4"}) == {}, "delete experiment")
check(get("experiments/get", {"experiment_id": "4"})["experiment"]["lifecycle_stage"] == "deleted",
      "deleted experiment readable")
ids = [e["experiment_id"] for e in post("experiments/search", {})["experiments"]]
check("4" not in ids, "ACTIVE_ONLY hides deleted", ids)
ids = [e["experiment_id"] for e in post("experiments/search", {"view_type": "DELETED_ONLY"})["experiments"]]
check(ids == ["4"], "DELETED_ONLY", ids)
ids = [e["experiment_id"] for e in post("experiments/search", {"view_type": 3})["experiments"]]
check("4" in ids and len(ids) == 6, "ALL (as a number)", ids)
check(get("experiments/get-by-name", {"experiment_name": "bulk-4"})["experiment"]["experiment_id"] == "4",
      "get-by-name finds a deleted experiment")
err(post("runs/create", {"experiment_id": "4"}, want=400), "INVALID_PARAMETER_VALUE")
check(post("experiments/restore", {"experiment_id": "4"}) == {}, "restore experiment")
check(get("experiments/get", {"experiment_id": "4"})["experiment"]["lifecycle_stage"] == "active", "restored")
err(post("experiments/delete", {"experiment_id": "404"}, want=404), "RESOURCE_DOES_NOT_EXIST")

# ----------------------------------------------------------------------- runs
runs = []
for i in range(7):
    body = {"experiment_id": "1", "start_time": 1700000000000 + i * 1000, "user_id": "alice",
            "tags": [{"key": "idx", "value": str(i)}]}
    if i == 0:
        body["run_name"] = "first-run"
    j = post("runs/create", body)
    info = j["run"]["info"]
    check(len(info["run_id"]) == 32 and all(c in "0123456789abcdef" for c in info["run_id"]), "32-hex run id", info)
    check(info["run_uuid"] == info["run_id"] and info["status"] == "RUNNING" and "end_time" not in info,
          "new run info", info)
    check(info["artifact_uri"] == "mlflow-artifacts:/1/%s/artifacts" % info["run_id"], "artifact_uri", info)
    check(j["run"]["data"]["tags"] and isinstance(j["run"]["data"]["tags"], list), "data.tags list")
    runs.append(info["run_id"])
first = get("runs/get", {"run_id": runs[0]})["run"]
check(first["info"]["run_name"] == "first-run", "run_name kept", first)
check({"key": "mlflow.runName", "value": "first-run"} in first["data"]["tags"], "mlflow.runName tag", first)
gen = get("runs/get", {"run_uuid": runs[1]})["run"]["info"]
check(gen.get("run_name") and "-" in gen["run_name"], "generated run name; run_uuid alias", gen)
j = post("runs/create", {"experiment_id": "0"})
check(j["run"]["info"]["start_time"] == 0, "absent start_time is 0", j)
err(post("runs/create", {"experiment_id": "123"}, want=404), "RESOURCE_DOES_NOT_EXIST")
err(get("runs/get", {"run_id": "0" * 32}, want=404), "RESOURCE_DOES_NOT_EXIST")
err(get("runs/get", {}, want=400), "INVALID_PARAMETER_VALUE")

r0 = runs[0]
check(post("runs/log-metric", {"run_id": r0, "run_uuid": r0, "key": "accuracy", "value": 95.2,
                               "timestamp": 1795480087129, "step": 0, "model_id": "ignored"}) == {}, "log-metric")
check(post("runs/log-metric", {"run_id": r0, "key": "accuracy", "value": "96.5", "timestamp": "1795480087130"}) == {},
      "numeric strings accepted")
err(post("runs/log-metric", {"run_id": r0, "key": "accuracy", "value": "abc", "timestamp": 1}, want=400),
    "INVALID_PARAMETER_VALUE")
err(post("runs/log-metric", {"run_id": r0, "key": "accuracy", "value": 1.0}, want=400), "INVALID_PARAMETER_VALUE")
err(post("runs/log-metric", {"run_id": r0, "value": 1.0, "timestamp": 1}, want=400), "INVALID_PARAMETER_VALUE")
err(post("runs/log-metric", {"run_id": "f" * 32, "key": "a", "value": 1.0, "timestamp": 1}, want=404),
    "RESOURCE_DOES_NOT_EXIST")
for step, (v, ts) in enumerate([(0.9, 10), (0.5, 20), (0.7, 15)]):
    post("runs/log-metric", {"run_id": r0, "key": "loss", "value": v, "timestamp": ts, "step": step})
post("runs/log-metric", {"run_id": r0, "key": "loss", "value": 0.1, "timestamp": 1, "step": 0})  # older step
check(post("runs/log-parameter", {"run_id": r0, "key": "max_depth", "value": "6"}) == {}, "log-parameter")
check(post("runs/log-parameter", {"run_id": r0, "key": "max_depth", "value": "6"}) == {}, "same param again: no-op")
err(post("runs/log-parameter", {"run_id": r0, "key": "max_depth", "value": "7"}, want=400), "INVALID_PARAMETER_VALUE")
check(post("runs/set-tag", {"run_id": r0, "key": "note", "value": "a"}) == {}, "set-tag")
check(post("runs/set-tag", {"run_id": r0, "key": "note", "value": "b"}) == {}, "set-tag overwrites")
check(post("runs/set-tag", {"run_id": r0, "key": "gone", "value": "x"}) == {}, "set-tag 2")
check(post("runs/delete-tag", {"run_id": r0, "key": "gone"}) == {}, "delete-tag")
err(post("runs/delete-tag", {"run_id": r0, "key": "never"}, want=404), "RESOURCE_DOES_NOT_EXIST")

run = get("runs/get", {"run_id": r0})["run"]
m = {x["key"]: x for x in run["data"]["metrics"]}
check(isinstance(run["data"]["metrics"], list), "metrics is a list")
check(m["accuracy"] == {"key": "accuracy", "value": 96.5, "timestamp": 1795480087130, "step": 0}, "latest accuracy", m)
check(m["loss"]["value"] == 0.7 and m["loss"]["step"] == 2, "latest = greatest (step, timestamp, value)", m)
check(run["data"]["params"] == [{"key": "max_depth", "value": "6"}], "params", run["data"])
tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
check(tags["note"] == "b" and "gone" not in tags, "tags", tags)

h = get("metrics/get-history", {"run_id": r0, "metric_key": "loss", "max_results": 25000})
check(len(h["metrics"]) == 4 and "next_page_token" not in h, "full history", h)
check([(x["step"], x["value"]) for x in h["metrics"]] == [(0, 0.1), (0, 0.9), (1, 0.5), (2, 0.7)], "history order", h)
pts, tok = [], None
while True:
    p = {"run_id": r0, "metric_key": "loss", "max_results": 3}
    if tok:
        p["page_token"] = tok
    j = get("metrics/get-history", p)
    pts += j.get("metrics", [])
    tok = j.get("next_page_token")
    if not tok:
        break
check(pts == h["metrics"], "history pages", pts)
check(get("metrics/get-history", {"run_id": r0, "metric_key": "never"}) == {}, "never-logged key gives {}")
check(get("metrics/get-history", {"run_id": "e" * 32, "metric_key": "loss"}) == {}, "unknown run gives {} (as MLflow)")
err(get("metrics/get-history", {"run_id": r0}, want=400), "INVALID_PARAMETER_VALUE")

# log-batch: all-or-nothing, last tag wins, limits
r1 = runs[1]
check(post("runs/log-batch", {"run_id": r1,
                              "metrics": [{"key": "accuracy", "value": 91.0, "timestamp": 5, "step": 0},
                                          {"key": "f1_score", "value": 0.8, "timestamp": 5}],
                              "params": [{"key": "lr", "value": "0.1"}, {"key": "lr", "value": "0.1"}],
                              "tags": [{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]}) == {}, "log-batch")
d = get("runs/get", {"run_id": r1})["run"]["data"]
check({"key": "k", "value": "2"} in d["tags"], "last tag of a batch wins", d)
err(post("runs/log-batch", {"run_id": r1, "params": [{"key": "lr", "value": "0.2"}],
                            "metrics": [{"key": "zzz", "value": 1, "timestamp": 1}]}, want=400),
    "INVALID_PARAMETER_VALUE")
check("zzz" not in [x["key"] for x in get("runs/get", {"run_id": r1})["run"]["data"]["metrics"]],
      "failed batch wrote nothing")
err(post("runs/log-batch", {"run_id": r1, "params": [{"key": "fresh", "value": "x"}, {"key": "lr", "value": "0.2"}]},
         want=400), "INVALID_PARAMETER_VALUE")
check("fresh" not in [x["key"] for x in get("runs/get", {"run_id": r1})["run"]["data"]["params"]],
      "a batch refused after its first write leaves none of it")
err(post("runs/log-batch", {"run_id": r1, "metrics": [{"key": "m", "value": 1, "timestamp": 1}] * 1001}, want=400),
    "INVALID_PARAMETER_VALUE")
err(post("runs/log-batch", {"run_id": r1, "params": [{"key": "p%d" % i, "value": "v"} for i in range(101)]}, want=400),
    "INVALID_PARAMETER_VALUE")
err(post("runs/log-batch", {"run_id": r1, "tags": [{"key": "a" * 251, "value": "v"}]}, want=400),
    "INVALID_PARAMETER_VALUE")
err(post("runs/log-parameter", {"run_id": r1, "key": "big", "value": "x" * 6001}, want=400), "INVALID_PARAMETER_VALUE")
check(post("runs/log-parameter", {"run_id": r1, "key": "big", "value": "x" * 6000}) == {}, "6000-char param ok")
# body over 1 MB refused with MLflow's code, not 413/5xx
big = json.dumps({"run_id": r1, "tags": [{"key": "t", "value": "x" * 4000}] * 260})
check(len(big) > 1000000, "big body is big")
err(post("runs/log-batch", None, raw=big, want=400), "INVALID_PARAMETER_VALUE")

# metrics for ordering/filtering: runs 2..5 get accuracy, run 6 none
for i, acc in zip(range(2, 6), [80.0, 99.0, 85.5, 90.0]):
    post("runs/log-metric", {"run_id": runs[i], "key": "accuracy", "value": acc, "timestamp": 1})
    post("runs/log-parameter", {"run_id": runs[i], "key": "model", "value": "gbdt" if i % 2 else "forest"})
post("runs/log-metric", {"run_id": runs[6], "key": "other", "value": 1.0, "timestamp": 1})

check(post("runs/update", {"run_id": runs[2], "status": "FINISHED", "end_time": 1700000009999})["run_info"]["status"]
      == "FINISHED", "runs/update")
info = get("runs/get", {"run_id": runs[2]})["run"]["info"]
check(info["status"] == "FINISHED" and info["end_time"] == 1700000009999, "update stored", info)
check(post("runs/update", {"run_id": runs[3], "status": 4, "run_name": "renamed-run"})["run_info"]["run_name"]
      == "renamed-run", "status as number; rename")
err(post("runs/update", {"run_id": runs[3], "status": "DONE"}, want=400), "INVALID_PARAMETER_VALUE")

# log-inputs
check(post("runs/log-inputs", {"run_id": r0, "datasets": [
    {"tags": [{"key": "mlflow.data.context", "value": "training"}],
     "dataset": {"name": "phish", "digest": "abc123", "source_type": "local", "source": "{\"uri\": \"x.csv\"}",
                 "schema": "{}"}}]}) == {}, "log-inputs")
inp = get("runs/get", {"run_id": r0})["run"]["inputs"]
check(inp == {"dataset_inputs": [{"tags": [{"key": "mlflow.data.context", "value": "training"}],
                                  "dataset": {"name": "phish", "digest": "abc123", "source_type": "local",
                                              "source": "{\"uri\": \"x.csv\"}", "schema": "{}"}}]}, "inputs", inp)


def search(body, want=200):
    return post("runs/search", body, want=want)


def ids_of(j):
    return [r["info"]["run_id"] for r in j.get("runs", [])]


# default order: start_time DESC, so runs[0] is the newest run
j = search({"experiment_ids": ["1"]})
check(ids_of(j) == list(reversed(runs)), "default order newest first", ids_of(j))
check(j["runs"][0]["info"]["start_time"] == 1700000006000, "runs[0] is newest")
# the seed's GET form answers the same as the POST
g = S.get(API + "runs/search?experiment_ids=1")
check(g.status_code == 200 and g.json() == j, "GET runs/search == POST")
j = search({"experiment_ids": ["1"], "order_by": ["metrics.accuracy DESC"]})
check(ids_of(j) == [runs[3], r0, r1, runs[5], runs[4], runs[2], runs[6]], "order by metric desc, missing last",
      ids_of(j))
j = search({"experiment_ids": ["1"], "order_by": ["metrics.accuracy ASC"]})
check(ids_of(j)[0] == runs[2] and ids_of(j)[-1] == runs[6], "asc: missing still last", ids_of(j))
j = search({"experiment_ids": ["1"], "filter": "metrics.accuracy > 90", "order_by": ["metrics.accuracy DESC"]})
check(ids_of(j) == [runs[3], r0, r1], "metric filter", ids_of(j))
j = search({"experiment_ids": ["1"], "filter": "params.model = 'gbdt' and metrics.accuracy >= 85.5"})
check(ids_of(j) == [runs[5], runs[3]], "param + metric filter", ids_of(j))
j = search({"experiment_ids": ["1"], "filter": "tags.note = 'b'"})
check(ids_of(j) == [r0], "tag filter", ids_of(j))
j = search({"experiment_ids": ["1"], "filter": "attributes.status = 'FINISHED'"})
check(ids_of(j) == [runs[2]], "status filter", ids_of(j))
j = search({"experiment_ids": ["1"], "filter": "attributes.run_id IN ('%s', '%s')" % (r0, r1)})
check(ids_of(j) == [r1, r0], "run_id IN", ids_of(j))
j = search({"experiment_ids": ["1"], "filter": "attributes.start_time >= 1700000005000"})
check(ids_of(j) == [runs[6], runs[5]], "start_time filter", ids_of(j))
j = search({"experiment_ids": ["1"], "filter": "params.model LIKE 'GB%'"})
check(ids_of(j) == [], "LIKE is case-sensitive", ids_of(j))
j = search({"experiment_ids": ["1"], "filter": "params.model ILIKE 'GB%'"})
check(ids_of(j) == [runs[5], runs[3]], "ILIKE", ids_of(j))
j = search({"experiment_ids": ["1"], "filter": "datasets.context = 'training'"})
check(ids_of(j) == [r0], "dataset context filter", ids_of(j))
j = search({"experiment_ids": ["1"], "filter": "attributes.run_name = 'first-run'"})
check(ids_of(j) == [r0], "run_name filter", ids_of(j))
j = search({"experiment_ids": ["1"], "order_by": ["attributes.run_name ASC"]})
names = [r["info"]["run_name"] for r in j["runs"]]
check(names == sorted(names) and "first-run" in names, "order by run_name", names)
check(search({"experiment_ids": ["1"], "filter": "metrics.accuracy > 1000"}) == {}, "no hits gives {}")
check(search({"experiment_ids": ["2"]}) == {}, "empty experiment gives {}")
for bad in ["metrics.accuracy > 1 OR metrics.accuracy < 0", "metrics.accuracy >", "foo.bar = 'x'",
            "params.model > 'a'", "metrics.a = 'x"]:
    err(search({"experiment_ids": ["1"], "filter": bad}, want=400), "INVALID_PARAMETER_VALUE")
for bad in ["metrics.accuracy UP", "attributes.nope", "datasets.name"]:
    err(search({"experiment_ids": ["1"], "order_by": [bad]}, want=400), "INVALID_PARAMETER_VALUE")
err(search({"experiment_ids": ["1"], "max_results": 50001}, want=400), "INVALID_PARAMETER_VALUE")
err(search({"experiment_ids": ["1"], "page_token": "not-a-token!"}, want=400), "INVALID_PARAMETER_VALUE")
err(search({"experiment_ids": ["1"], "run_view_type": "SOMETIMES"}, want=400), "INVALID_PARAMETER_VALUE")
err(search({"experiment_ids": "1"}, want=400), "INVALID_PARAMETER_VALUE")

# pagination until the token is gone, same total order as one page
full = ids_of(search({"experiment_ids": ["1"], "order_by": ["metrics.accuracy DESC"]}))
for size in (1, 2, 3, 7):
    got, tok, pages = [], None, 0
    while True:
        body = {"experiment_ids": ["1"], "max_results": size, "order_by": ["metrics.accuracy DESC"]}
        if tok:
            body["page_token"] = tok
        j = search(body)
        got += ids_of(j)
        tok = j.get("next_page_token")
        pages += 1
        check(pages <= 20, "pagination terminates")
        if not tok:
            break
    check(got == full, "pages of %d give the same order" % size, got, full)
# GET form pages too (token travels in the query string)
j = S.get(API + "runs/search", params={"experiment_ids": "1", "max_results": 4}).json()
j2 = S.get(API + "runs/search", params={"experiment_ids": "1", "max_results": 4,
                                        "page_token": j["next_page_token"]}).json()
check(ids_of(j) + ids_of(j2) == list(reversed(runs)) and "next_page_token" not in j2, "GET pages", j2)

# delete / restore runs
check(post("runs/delete", {"run_id": runs[6]}) == {}, "runs/delete")
check(get("runs/get", {"run_id": runs[6]})["run"]["info"]["lifecycle_stage"] == "deleted", "deleted run readable")
check(runs[6] not in ids_of(search({"experiment_ids": ["1"]})), "deleted run hidden")
check(ids_of(search({"experiment_ids": ["1"], "run_view_type": "DELETED_ONLY"})) == [runs[6]], "DELETED_ONLY")
check(len(ids_of(search({"experiment_ids": ["1"], "run_view_type": "ALL"}))) == 7, "ALL")
j = post("runs/log-metric", {"run_id": runs[6], "key": "a", "value": 1, "timestamp": 1}, want=400)
err(j, "INVALID_PARAMETER_VALUE")
check("active" in j["message"], "deleted-run message", j)
err(post("runs/set-tag", {"run_id": runs[6], "key": "a", "value": "b"}, want=400), "INVALID_PARAMETER_VALUE")
check(post("runs/restore", {"run_id": runs[6]}) == {}, "runs/restore")
check(post("runs/set-tag", {"run_id": runs[6], "key": "a", "value": "b"}) == {}, "restored run writable")
err(post("runs/delete", {"run_id": "9" * 32}, want=404), "RESOURCE_DOES_NOT_EXIST")

# ------------------------------------------------------------ request errors
err(post("runs/log-metric", None, raw='{"run_id": "x", "key": ', want=400), "INVALID_PARAMETER_VALUE")
err(post("runs/log-metric", None, raw='[1,2]', want=400), "INVALID_PARAMETER_VALUE")
err(post("runs/log-metric", None, raw=b'{"run_id": "\xff"}', want=400), "INVALID_PARAMETER_VALUE")
err(post("experiments/create", {"name": "ct"}, headers={"Content-Type": "text/plain"}, want=400),
    "INVALID_PARAMETER_VALUE")
err(post("experiments/create", None, raw="name=ct", headers={}, want=400), "INVALID_PARAMETER_VALUE")
r = S.get(API + "no/such/endpoint")
answer(r)
check(r.status_code == 404, "unknown endpoint 404")
err(r.json(), "ENDPOINT_NOT_FOUND")
r = S.delete(API + "runs/get")
answer(r)
check(r.status_code == 405 and "error_code" in r.json(), "wrong method is 405 JSON", r.status_code)
c = http.client.HTTPConnection(HOST, PORT, timeout=10)
c.request("GET", "/api/2.0/mlflow/runs/get?run_id=%zz")
r = c.getresponse()
check(r.status == 400 and json.loads(r.read())["error_code"] == "INVALID_PARAMETER_VALUE", "bad %-escape is 400",
      r.status)
c.close()

# request heads are bounded (128 KiB, room for 1000 query arguments): a
# 200 KB header is refused with 431
c = http.client.HTTPConnection(HOST, PORT, timeout=10)
c.putrequest("GET", "/api/2.0/mlflow/experiments/get?experiment_id=0")
c.putheader("X-Big", "a" * 200000)
c.endheaders()
r = c.getresponse()
check(r.status == 431, "oversized header refused", r.status)
c.close()

# ------------------------------------------------------------------ artifacts
root = "1/%s/artifacts" % r0
r = S.put(ART + "/" + root + "/notes/readme.txt", data=b"hello\n", headers={"Content-Type": "text/plain"})
check(r.status_code == 200 and r.json() == {}, "PUT artifact", r.status_code, r.text)
payload = os.urandom(300000)
r = S.put(ART + "/" + root + "/model/model.hamf", data=payload)
check(r.status_code == 200, "PUT binary artifact")
S.put(ART + "/" + root + "/summary.json", data=b'{"a": 1}')
r = S.get(ART + "/" + root + "/model/model.hamf")
check(r.status_code == 200 and r.content == payload, "GET artifact bytes")
check("attachment" in r.headers.get("Content-Disposition", ""), "attachment")
j = S.get(ART, params={"path": root}).json()
check(j == {"files": [{"path": "model", "is_dir": True}, {"path": "notes", "is_dir": True},
                      {"path": "summary.json", "is_dir": False, "file_size": 8}]}, "artifact list", j)
j = get("artifacts/list", {"run_id": r0})
check(j["root_uri"] == "mlflow-artifacts:/1/%s/artifacts" % r0 and
      [f["path"] for f in j["files"]] == ["model", "notes", "summary.json"], "artifacts/list", j)
j = get("artifacts/list", {"run_id": r0, "path": "notes"})
check(j["files"] == [{"path": "notes/readme.txt", "is_dir": False, "file_size": 6}], "artifacts/list subdir", j)
check(get("artifacts/list", {"run_id": r1}) == {"root_uri": "mlflow-artifacts:/1/%s/artifacts" % r1},
      "empty artifact list omits files")
err(get("artifacts/list", {"run_id": r0, "path": "../../.."}, want=400), "INVALID_PARAMETER_VALUE")
err(get("artifacts/list", {"run_id": "1" * 32}, want=404), "RESOURCE_DOES_NOT_EXIST")
r = S.delete(ART + "/" + root + "/notes/readme.txt")
check(r.status_code == 200 and r.json() == {}, "DELETE artifact")
r = S.get(ART + "/" + root + "/notes/readme.txt")
check(r.status_code == 404, "deleted artifact gone")
err(r.json(), "RESOURCE_DOES_NOT_EXIST")
r = S.delete(ART + "/" + root + "/model")
check(r.status_code == 200 and S.get(ART, params={"path": root + "/model"}).json() == {}, "DELETE directory")

# escapes, sent byte-exact with http.client (no client-side normalisation)
outside = os.path.join(os.path.dirname(os.path.abspath(ART_DIR)), "outside-secret.txt")
with open(outside, "w") as f:
    f.write("secret")
os.symlink(os.path.dirname(outside), os.path.join(ART_DIR, "escape"))


def raw(method, path, body=None):
    c = http.client.HTTPConnection(HOST, PORT, timeout=10)
    c.request(method, path, body=body)
    r = c.getresponse()
    data = r.read()
    c.close()
    check(r.status < 500, "no 5xx for raw %s %s" % (method, path), r.status)
    return r.status, data


for method, body in (("GET", None), ("PUT", b"x"), ("DELETE", None)):
    for p in ["/api/2.0/mlflow-artifacts/artifacts/1/../../outside-secret.txt",
              "/api/2.0/mlflow-artifacts/artifacts/1/%2e%2e/%2e%2e/outside-secret.txt",
              "/api/2.0/mlflow-artifacts/artifacts//etc/passwd",
              "/api/2.0/mlflow-artifacts/artifacts/escape/outside-secret.txt"]:
        st, data = raw(method, p, body)
        check(st == 400 and json.loads(data)["error_code"] == "INVALID_PARAMETER_VALUE",
              "escape refused: %s %s" % (method, p), st, data[:200])
st, data = raw("GET", "/api/2.0/mlflow-artifacts/artifacts?path=escape")
check(st == 400, "list through symlink refused", st, data)
st, data = raw("GET", "/api/2.0/mlflow-artifacts/artifacts?path=../")
check(st == 400, "list with .. refused", st, data)
check(open(outside).read() == "secret", "outside file untouched")

# mangled requests: every endpoint, bodies cut, retyped and garbled; the
# answer is always a 4xx or 200 JSON, never a 5xx, and the server stays up
import random
rnd = random.Random(7)
endpoints = ["experiments/create", "experiments/update", "experiments/delete", "experiments/restore",
             "experiments/set-experiment-tag", "experiments/search", "runs/create", "runs/update", "runs/delete",
             "runs/restore", "runs/search", "runs/log-metric", "runs/log-parameter", "runs/log-batch",
             "runs/set-tag", "runs/delete-tag", "runs/log-inputs"]
fz_exp = post("experiments/create", {"name": "fuzz"})["experiment_id"]
fz_run = post("runs/create", {"experiment_id": fz_exp})["run"]["info"]["run_id"]
samples = [{"run_id": fz_run, "key": "k", "value": 1.5, "timestamp": 1, "step": 2, "experiment_id": fz_exp,
            "name": "n", "metrics": [{"key": "a", "value": 1, "timestamp": 1}], "params": [{"key": "p", "value": "v"}],
            "tags": [{"key": "t", "value": "v"}], "datasets": [{"dataset": {"name": "d", "digest": "x"}}],
            "experiment_ids": [fz_exp], "filter": "metrics.a > 1", "order_by": ["metrics.a"], "max_results": 5}]
weird = [None, True, -1, 2 ** 70, 1e308, "", "x" * 300, [], {}, [1, "a"], {"key": None}, "NaN", "\u0000"]
for i in range(400):
    body = dict(samples[0])
    for _ in range(rnd.randint(1, 4)):
        body[rnd.choice(list(body))] = rnd.choice(weird)
    text = json.dumps(body)
    if rnd.random() < 0.3:
        cut = rnd.randint(0, len(text))
        text = text[:cut] + rnd.choice(["", "}", "]", "\\", "\x00", "\ud800", "\"", "\xff"]) + text[cut:]
    ep = rnd.choice(endpoints)
    r = S.post(API + ep, data=text.encode("utf-8", "surrogatepass"), headers={"Content-Type": "application/json"})
    answer(r)
    check(r.status_code in (200, 400, 404), "mangled %s -> %d" % (ep, r.status_code), text[:200], r.text[:200])
check(get("experiments/get", {"experiment_id": "0"})["experiment"]["name"] == "Default", "alive after mangling")

print("mlflow_client: %d checks passed" % checks)
