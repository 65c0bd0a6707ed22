"""mlflow_ui_api.py MODE URL ARTDIR [ROOTDIR] — the parts of MLflow 2.12's
server beyond the protobuf API, against a running `hamf server`, over real
HTTP (requests). MODE:
  proxied  server started with --artifacts-dir ARTDIR (default mode)
  limit    the same with --max-artifact-bytes 1000
  root     server started with --default-artifact-root file://ROOTDIR
Every check prints and the script exits 1 at the end if any failed."""
import json
import os
import sys
import time

import requests

MODE, URL, ARTDIR = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3]
ROOTDIR = sys.argv[4] if len(sys.argv) > 4 else None
API = URL + "/api/2.0/mlflow/"
AJAX = URL + "/ajax-api/2.0/mlflow/"
ART = URL + "/api/2.0/mlflow-artifacts/artifacts"
DOCS = " See the API docs for more information about request parameters."
failed = 0


def check(cond, what, *info):
    global failed
    if cond:
        print("ok  ", what)
    else:
        failed += 1
        print("FAIL:", what, *info)


def post(path, body, base=API):
    return requests.post(base + path, json=body)


def err(r, status, code, message=None, contains=None):
    try:
        j = r.json()
    except ValueError:
        return False
    ok = r.status_code == status and j.get("error_code") == code
    if message is not None:
        ok = ok and j.get("message") == message
    if contains is not None:
        ok = ok and contains in j.get("message", "")
    return ok


def new_exp(name, **kw):
    r = post("experiments/create", {"name": name, **kw})
    assert r.status_code == 200, r.text
    return r.json()["experiment_id"]


def new_run(exp):
    r = post("runs/create", {"experiment_id": exp, "start_time": int(time.time() * 1000)})
    assert r.status_code == 200, r.text
    return r.json()["run"]["info"]


def proxied():
    exp = new_exp("ui-api")
    # ---- /ajax-api/ prefix: the same handlers as /api/
    a = requests.get(API + "experiments/get", params={"experiment_id": exp}).json()
    b = requests.get(AJAX + "experiments/get", params={"experiment_id": exp}).json()
    check(a == b and a["experiment"]["name"] == "ui-api", "/ajax-api/ serves experiments/get like /api/")
    r = requests.post(AJAX + "runs/create", json={"experiment_id": exp})
    check(r.status_code == 200 and r.json()["run"]["info"]["experiment_id"] == exp, "/ajax-api/ POST runs/create")
    check(err(requests.get(AJAX + "no-such-thing"), 404, "ENDPOINT_NOT_FOUND"), "/ajax-api/ unknown path is 404")

    # ---- metrics/get-history-bulk
    r1, r2, r3 = new_run(exp)["run_id"], new_run(exp)["run_id"], new_run(exp)["run_id"]
    hist = [(1, 2, 10.0), (1, 3, 11.0), (1, 3, 12.0), (2, 3, 12.0), (0, 9, 5.0)]  # (ts, step, value)
    for run, off in ((r1, 0.0), (r2, 1.0)):
        metrics = [{"key": "m", "timestamp": ts, "step": st, "value": v + off} for ts, st, v in hist]
        check(post("runs/log-batch", {"run_id": run, "metrics": metrics}).status_code == 200, "log history")
    want = lambda run, off: [
        {"key": "m", "value": v + off, "timestamp": ts, "step": st, "run_id": run}
        for ts, st, v in sorted(hist)]
    r = requests.get(AJAX + "metrics/get-history-bulk", params={"run_id": [r2, r1, r3], "metric_key": "m"})
    got = r.json().get("metrics")
    exp_order = sorted([(r1, 0.0), (r2, 1.0)])
    check(r.status_code == 200 and got == want(*exp_order[0]) + want(*exp_order[1]),
          "history-bulk: runs by id, each by (timestamp, step, value), run_id on each", got)
    r = requests.get(AJAX + "metrics/get-history-bulk", params={"run_id": [r1], "metric_key": "m", "max_results": 2})
    check(r.json().get("metrics") == want(r1, 0.0)[:2], "history-bulk: max_results", r.text[:200])
    check(err(requests.get(AJAX + "metrics/get-history-bulk", params={"metric_key": "m"}), 400,
              "INVALID_PARAMETER_VALUE", "GetMetricHistoryBulk request must specify at least one run_id."),
          "history-bulk: no run_id")
    check(err(requests.get(AJAX + "metrics/get-history-bulk",
                           params={"run_id": ["x%d" % i for i in range(101)], "metric_key": "m"}),
              400, "INVALID_PARAMETER_VALUE",
              "GetMetricHistoryBulk request cannot specify more than 100 run_ids. Received 101 run_ids."),
          "history-bulk: 101 runs")
    check(err(requests.get(AJAX + "metrics/get-history-bulk",
                           params={"run_id": ["x%d" % i for i in range(1000)], "metric_key": "m"}),
              400, "INVALID_PARAMETER_VALUE", contains="Received 1000 run_ids"),
          "history-bulk: a 1000-argument query string is read (400, not a dropped connection)")
    check(err(requests.get(AJAX + "metrics/get-history-bulk", params={"run_id": [r1]}), 400,
              "INVALID_PARAMETER_VALUE", "GetMetricHistoryBulk request must specify a metric_key."),
          "history-bulk: no metric_key")
    check(requests.get(AJAX + "metrics/get-history-bulk", params={"run_id": [r1], "metric_key": "none"}).json()
          == {"metrics": []}, "history-bulk: unknown key is an empty list")

    # ---- metrics/get-history-bulk-interval: MLflow's step sampling
    iv = new_run(exp)["run_id"]
    post("runs/log-batch", {"run_id": iv, "metrics": [
        {"key": "s", "timestamp": 1, "step": i, "value": float(i)} for i in range(10)]})
    steps = lambda r: [m["step"] for m in r.json()["metrics"]]
    r = requests.get(AJAX + "metrics/get-history-bulk-interval",
                     params={"run_ids": [iv], "metric_key": "s", "max_results": 5})
    check(steps(r) == [0, 2, 4, 6, 8, 9] and all(m["run_id"] == iv for m in r.json()["metrics"]),
          "interval: 10 steps sampled to 5 (+ last)", r.text[:200])
    r = requests.get(AJAX + "metrics/get-history-bulk-interval",
                     params={"run_ids": [iv], "metric_key": "s", "start_step": 3, "end_step": 5})
    check(steps(r) == [3, 4, 5], "interval: start_step..end_step", r.text[:200])
    iv2 = new_run(exp)["run_id"]
    post("runs/log-batch", {"run_id": iv2, "metrics": [
        {"key": "s", "timestamp": 1, "step": i, "value": 1.0} for i in range(20)]})
    r = requests.get(AJAX + "metrics/get-history-bulk-interval",
                     params={"run_ids": [iv, iv2], "metric_key": "s", "max_results": 5})
    got = [(m["run_id"], m["step"]) for m in r.json()["metrics"]]
    check(got == [(iv, s) for s in (0, 4, 8, 9)] + [(iv2, s) for s in (0, 4, 8, 9, 12, 16, 19)],
          "interval: steps sampled over both runs, each run's min/max kept", got)
    bad = [({"metric_key": "s"}, "Missing value for required parameter 'run_ids'." + DOCS),
           ({"run_ids": [iv], "metric_key": "s", "max_results": 0}, "max_results must be between 1 and 2500." + DOCS),
           ({"run_ids": [iv], "metric_key": ""}, "Missing value for required parameter 'metric_key'." + DOCS),
           ({"run_ids": [iv], "metric_key": "s", "start_step": 2, "end_step": 1},
            "end_step must be greater than start_step. Found start_step=2 and end_step=1."),
           ({"run_ids": [iv], "metric_key": "s", "start_step": 2},
            "If either start step or end step are specified, both must be specified."),
           ({"run_ids": [iv], "metric_key": "s", "start_step": "x", "end_step": 1},
            "Invalid value x for parameter 'start_step' supplied. Hint: Value was of type 'str'." + DOCS)]
    for params, msg in bad:
        r = requests.get(AJAX + "metrics/get-history-bulk-interval", params=params)
        check(err(r, 400, "INVALID_PARAMETER_VALUE", msg), "interval refuses %s" % params, r.text[:200])

    # ---- experiments/search-datasets
    dexp = new_exp("datasets")
    dr = new_run(dexp)["run_id"]
    ds = lambda n, d: {"name": n, "digest": d, "source_type": "local", "source": "{}"}
    r = post("runs/log-inputs", {"run_id": dr, "datasets": [
        {"dataset": ds("train", "d1"), "tags": [{"key": "mlflow.data.context", "value": "training"}]},
        {"dataset": ds("raw", "d2"), "tags": []}]})
    check(r.status_code == 200, "log-inputs", r.text)
    dr2 = new_run(dexp)["run_id"]
    post("runs/log-inputs", {"run_id": dr2, "datasets": [
        {"dataset": ds("train", "d1"), "tags": [{"key": "mlflow.data.context", "value": "training"}]}]})
    r = post("experiments/search-datasets", {"experiment_ids": [dexp]}, AJAX)
    got = sorted(r.json()["dataset_summaries"], key=lambda d: d["name"])
    check(got == [{"experiment_id": dexp, "name": "raw", "digest": "d2", "context": None},
                  {"experiment_id": dexp, "name": "train", "digest": "d1", "context": "training"}],
          "search-datasets: distinct (experiment, name, digest, context)", got)
    check(post("experiments/search-datasets", {"experiment_ids": [exp]}, AJAX).json() == {"dataset_summaries": []},
          "search-datasets: none")
    check(err(post("experiments/search-datasets", {}, AJAX), 400, "INVALID_PARAMETER_VALUE",
              "SearchDatasets request must specify at least one experiment_id."), "search-datasets: no ids")
    check(err(post("experiments/search-datasets", {"experiment_ids": [str(i) for i in range(21)]}, AJAX), 400,
              "INVALID_PARAMETER_VALUE",
              "SearchDatasets request cannot specify more than 20 experiment_ids. Received 21 experiment_ids."),
          "search-datasets: 21 ids")

    # ---- runs/log-inputs: datasets is required (an empty list is not missing)
    check(err(post("runs/log-inputs", {"run_id": dr}), 400, "INVALID_PARAMETER_VALUE",
              "Missing value for required parameter 'datasets'." + DOCS), "log-inputs: datasets required")
    check(post("runs/log-inputs", {"run_id": dr, "datasets": []}).status_code == 200, "log-inputs: [] accepted")

    # ---- runs/log-model: the client's mlflow.log-model.history tag
    lm = new_run(exp)["run_id"]
    models = [{"artifact_path": "m%d" % i, "flavors": {"python_function": {"loader_module": "x"}},
               "utc_time_created": "2026-12-06 20:00:0%d.000000" % i, "run_id": lm, "model_uuid": "u%d" % i}
              for i in range(3)]
    for i, m in enumerate(models):
        r = post("runs/log-model", {"run_id": lm, "model_json": json.dumps(m)})
        check(r.status_code == 200 and r.json() == {}, "log-model %d" % i, r.text)
        tags = {t["key"]: t["value"] for t in
                requests.get(API + "runs/get", params={"run_id": lm}).json()["run"]["data"]["tags"]}
        check(json.loads(tags["mlflow.log-model.history"]) == models[:i + 1],
              "log-model: history holds %d models in order" % (i + 1))
    check(err(post("runs/log-model", {"run_id": lm, "model_json": "{nope"}), 400, "INVALID_PARAMETER_VALUE",
              contains="Malformed model info"), "log-model: bad JSON")
    r = post("runs/log-model", {"run_id": lm, "model_json": json.dumps({"artifact_path": "x", "run_id": lm})})
    check(err(r, 400, "INVALID_PARAMETER_VALUE", contains="Model json is missing mandatory fields")
          and "'flavors'" in r.json()["message"] and "'utc_time_created'" in r.json()["message"],
          "log-model: missing fields named", r.text)
    check(err(post("runs/log-model", {"run_id": "f" * 32, "model_json": json.dumps(models[0])}), 404,
              "RESOURCE_DOES_NOT_EXIST"), "log-model: unknown run is 404")

    # ---- MLflow's error texts (Python's str() of the value and its type)
    bad = [("runs/log-metric", {"run_id": 31, "key": "m", "value": 1, "timestamp": 1},
            "Invalid value 31 for parameter 'run_id' supplied. Hint: Value was of type 'int'." + DOCS),
           ("runs/log-metric", {"run_id": lm, "key": 1.5, "value": 1, "timestamp": 1},
            "Invalid value 1.5 for parameter 'key' supplied. Hint: Value was of type 'float'." + DOCS),
           ("runs/log-metric", {"run_id": lm, "key": "m", "value": 1, "timestamp": 1, "step": "foo"},
            "Invalid value foo for parameter 'step' supplied. Hint: Value was of type 'str'." + DOCS),
           ("runs/log-metric", {"run_id": lm, "value": 1, "timestamp": 1},
            "Missing value for required parameter 'key'." + DOCS),
           ("runs/set-tag", {"run_id": lm, "key": "k", "value": True},
            "Invalid value True for parameter 'value' supplied. Hint: Value was of type 'bool'." + DOCS),
           ("experiments/create", {"name": ["a", "b's"]},
            "Invalid value ['a', \"b's\"] for parameter 'name' supplied. Hint: Value was of type 'list'." + DOCS),
           ("experiments/create", {"name": "x", "artifact_location": 9.0},
            "Invalid value 9.0 for parameter 'artifact_location' supplied. Hint: Value was of type 'float'." + DOCS),
           ("experiments/create", {"name": "x", "artifact_location": 1e20},
            "Invalid value 1e+20 for parameter 'artifact_location' supplied. Hint: Value was of type 'float'." + DOCS),
           ("experiments/create", {"name": "x", "tags": {"a": None}},
            "Invalid value {'a': None} for parameter 'tags' supplied. Hint: Value was of type 'dict'." + DOCS),
           ("runs/log-batch", {"run_id": lm, "metrics": [{"key": "mae", "value": 2.5}]},
            "Invalid value [{'key': 'mae', 'value': 2.5}] for parameter 'metrics' supplied. "
            "Hint: Value was of type 'list'." + DOCS)]
    for path, body, msg in bad:
        r = post(path, body)
        check(err(r, 400, "INVALID_PARAMETER_VALUE", msg), "error text for %s %s" % (path, body), r.text[:300])

    # ---- artifacts: MIME types, attachment, ?path=<file>, get-artifact
    run = new_run(exp)
    rid, root = run["run_id"], run["artifact_uri"]
    check(root.startswith("mlflow-artifacts:/"), "proxied run artifact root", root)
    rel = root[len("mlflow-artifacts:/"):].lstrip("/")
    types = {"a.txt": "text/plain", "b.pkl": "application/octet-stream", "c.png": "image/png",
             "d.pdf": "application/pdf", "MLmodel": "text/plain", "mlproject": "text/plain",
             "e.json": "text/plain", "f.js": "text/plain", "g.html": "text/html", "h.svg": "image/svg+xml",
             "noext": "application/octet-stream", ".hidden": "application/octet-stream"}
    for name, mime in types.items():
        body = ("<script>alert(1)</script> " + name).encode()
        check(requests.put("%s/%s/dir/%s" % (ART, rel, name), data=body).status_code == 200, "PUT " + name)
        for url, params in (("%s/%s/dir/%s" % (ART, rel, name), None),
                            (URL + "/get-artifact", {"run_id": rid, "path": "dir/" + name}),
                            (URL + "/get-artifact", {"run_uuid": rid, "path": "dir/" + name})):
            r = requests.get(url, params=params, headers={"Accept": "text/html"})
            check(r.status_code == 200 and r.content == body and r.headers["Content-Type"] == mime and
                  r.headers["Content-Disposition"] == 'attachment; filename="%s"' % name and
                  r.headers["X-Content-Type-Options"] == "nosniff",
                  "%s served as %s attachment (%s)" % (name, mime, url.rsplit("/", 1)[-1]),
                  r.status_code, dict(r.headers))
    r = requests.get(ART, params={"path": "%s/dir/a.txt" % rel})
    check(r.status_code == 200 and r.json() == {}, "?path=<a file> lists as empty", r.status_code, r.text)
    r = requests.get(ART, params={"path": "%s/dir" % rel})
    check(r.status_code == 200 and {f["path"] for f in r.json()["files"]} == set(types), "?path=<dir> lists it")
    r = requests.get(API + "artifacts/list", params={"run_id": rid, "path": "dir/a.txt"})
    check(r.status_code == 200 and r.json() == {"root_uri": root}, "artifacts/list of a file: no files", r.text)
    r = requests.get(API + "artifacts/list", params={"run_id": rid, "path": "dir"})
    check(r.status_code == 200 and {f["path"] for f in r.json()["files"]} == {"dir/" + n for n in types},
          "artifacts/list of a dir: paths below the run root")
    for path in ("../x", "dir/../../x", "/etc/passwd", "%2e%2e/x", "a#b", "dir\\..\\x"):
        for url, params in ((API + "artifacts/list", {"run_id": rid, "path": path}),
                            (URL + "/get-artifact", {"run_id": rid, "path": path}),
                            (URL + "/model-versions/get-artifact", {"name": "m", "version": "1", "path": path})):
            r = requests.get(url, params=params)
            check(r.status_code == 400 and r.json() == {"error_code": "INVALID_PARAMETER_VALUE",
                                                        "message": "Invalid path"},
                  "Invalid path %r at %s" % (path, url.rsplit("/", 1)[-1]), r.status_code, r.text[:200])
    r = requests.get(URL + "//model-versions/get-artifact", params={"name": "m", "version": "1", "path": "../x"})
    check(r.status_code == 400 and r.json()["message"] == "Invalid path", "//model-versions/... routes like /...")
    check(err(requests.get(URL + "/get-artifact", params={"run_id": rid, "path": "dir/none.txt"}), 404,
              "RESOURCE_DOES_NOT_EXIST"), "get-artifact: missing file is 404")
    check(err(requests.get(URL + "/get-artifact", params={"run_id": "f" * 32, "path": "a.txt"}), 404,
              "RESOURCE_DOES_NOT_EXIST"), "get-artifact: unknown run is 404")
    check(err(requests.get(URL + "/model-versions/get-artifact", params={"name": "nope", "version": "1",
                                                                        "path": "a.txt"}),
              404, "RESOURCE_DOES_NOT_EXIST"), "model-versions/get-artifact: unknown version is 404")

    # ---- upload-artifact (the UI's)
    r = requests.post(AJAX + "upload-artifact", params={"run_uuid": rid, "path": "ui/note.txt"}, data="hello world")
    check(r.status_code == 200, "upload-artifact", r.text)
    r = requests.get(URL + "/get-artifact", params={"run_uuid": rid, "path": "ui/note.txt"})
    check(r.text == "hello world", "upload-artifact then get-artifact")
    check(open(os.path.join(ARTDIR, rel, "ui", "note.txt")).read() == "hello world",
          "upload-artifact lands under --artifacts-dir")
    for params, data, msg in (({}, "x", "Request must specify run_uuid."),
                              ({"run_uuid": rid}, "x", "Request must specify path."),
                              ({"run_uuid": rid, "path": ""}, "x", "Request must specify path."),
                              ({"run_uuid": rid, "path": "../t.txt"}, "x", "Invalid path"),
                              ({"run_uuid": rid, "path": "t.txt"}, None, "Request must specify data.")):
        r = requests.post(AJAX + "upload-artifact", params=params, data=data)
        check(err(r, 400, "INVALID_PARAMETER_VALUE", msg), "upload-artifact refuses %s" % params, r.text)

    # ---- relative artifact locations are made absolute (server's cwd)
    e2 = new_exp("relative", artifact_location="my_location")
    loc = requests.get(API + "experiments/get", params={"experiment_id": e2}).json()["experiment"]
    check(loc["artifact_location"] == os.path.join(os.getcwd(), "my_location"),
          "relative artifact_location made absolute", loc["artifact_location"])
    e3 = new_exp("s3", artifact_location="s3://bucket/x")
    loc = requests.get(API + "experiments/get", params={"experiment_id": e3}).json()["experiment"]
    check(loc["artifact_location"] == "s3://bucket/x", "a URI location is kept as given")
    outside = new_run(e2)["run_id"]
    r = requests.get(URL + "/get-artifact", params={"run_id": outside, "path": "a.txt"})
    check(err(r, 400, "INVALID_PARAMETER_VALUE", contains="is not served by this server"),
          "artifacts outside the server's roots are not served", r.text)

    # ---- promptlab: validated like MLflow, then refused (not supported)
    full = {"experiment_id": exp, "prompt_template": "t", "prompt_parameters": [{"key": "k", "value": "v"}],
            "model_route": "r", "model_input": "i", "mlflow_version": "2.12.2"}
    for missing in ("experiment_id", "prompt_template", "prompt_parameters", "model_route", "model_input",
                    "mlflow_version"):
        body = {k: v for k, v in full.items() if k != missing}
        check(err(post("runs/create-promptlab-run", body, AJAX), 400, "INVALID_PARAMETER_VALUE",
                  "CreatePromptlabRun request must specify %s." % missing), "promptlab: %s required" % missing)
    before = len(requests.get(API + "runs/search", params={"experiment_ids": exp}).json().get("runs", []))
    check(err(post("runs/create-promptlab-run", full, AJAX), 501, "NOT_IMPLEMENTED"), "promptlab: 501")
    after = len(requests.get(API + "runs/search", params={"experiment_ids": exp}).json().get("runs", []))
    check(before == after, "promptlab: no run created")


def limit():
    exp = new_exp("limit")
    run = new_run(exp)
    rel = run["artifact_uri"][len("mlflow-artifacts:/"):].lstrip("/")
    d = os.path.join(ARTDIR, rel)
    r = requests.put("%s/%s/ok.bin" % (ART, rel), data=b"x" * 1000)
    check(r.status_code == 200, "1000 bytes at a 1000-byte limit", r.text)
    r = requests.put("%s/%s/big.bin" % (ART, rel), data=b"x" * 1001)
    check(err(r, 413, "RESOURCE_LIMIT_EXCEEDED", contains="1000 bytes"), "1001 bytes refused with 413", r.text)

    def chunks():
        for _ in range(100):
            yield b"y" * 65536
    r = requests.put("%s/%s/stream.bin" % (ART, rel), data=chunks())  # chunked, no Content-Length
    check(r.status_code == 413, "chunked 6.5 MB upload refused with 413", r.status_code)
    files = sorted(os.listdir(d))
    check(files == ["ok.bin"], "no partial or temporary file left", files)
    r = requests.put("%s/%s/ok.bin" % (ART, rel), data=b"z" * 5000)
    check(r.status_code == 413 and open(os.path.join(d, "ok.bin"), "rb").read() == b"x" * 1000,
          "a refused overwrite keeps the old file")
    r = requests.post(AJAX + "upload-artifact", params={"run_uuid": run["run_id"], "path": "u.bin"}, data=b"u" * 1001)
    check(err(r, 413, "RESOURCE_LIMIT_EXCEEDED"), "upload-artifact over the limit is 413", r.text)
    check(not os.path.exists(os.path.join(d, "u.bin")), "nothing written")


def root():
    root_uri = "file://" + ROOTDIR
    e0 = requests.get(API + "experiments/get", params={"experiment_id": "0"}).json()["experiment"]
    check(e0["artifact_location"] == root_uri + "/0", "Default experiment under the root", e0)
    exp = new_exp("rooted")
    loc = requests.get(API + "experiments/get", params={"experiment_id": exp}).json()["experiment"]["artifact_location"]
    check(loc == "%s/%s" % (root_uri, exp), "new experiment at <root>/<id>", loc)
    run = new_run(exp)
    check(run["artifact_uri"] == "%s/%s/artifacts" % (loc, run["run_id"]), "run artifact_uri below it",
          run["artifact_uri"])
    # a client writes there directly (as MLflow's LocalArtifactRepository)
    d = os.path.join(ROOTDIR, exp, run["run_id"], "artifacts", "sub")
    os.makedirs(d)
    with open(os.path.join(d, "r.csv"), "w") as f:
        f.write("a,b\n1,2\n")
    r = requests.get(URL + "/get-artifact", params={"run_id": run["run_id"], "path": "sub/r.csv"})
    check(r.status_code == 200 and r.text == "a,b\n1,2\n" and r.headers["Content-Type"] == "text/plain",
          "get-artifact serves a file under the root", r.status_code, r.text[:200])
    r = requests.get(API + "artifacts/list", params={"run_id": run["run_id"], "path": "sub"})
    check(r.json() == {"root_uri": run["artifact_uri"],
                       "files": [{"path": "sub/r.csv", "is_dir": False, "file_size": 8}]},
          "artifacts/list under the root", r.text)
    r = requests.post(AJAX + "upload-artifact", params={"run_uuid": run["run_id"], "path": "up.txt"}, data="u")
    check(r.status_code == 200 and open(os.path.join(ROOTDIR, exp, run["run_id"], "artifacts", "up.txt")).read()
          == "u", "upload-artifact writes under the root")
    # a symlink inside the root is not followed out of it
    os.symlink("/etc/passwd", os.path.join(d, "link"))
    r = requests.get(URL + "/get-artifact", params={"run_id": run["run_id"], "path": "sub/link"})
    check(r.status_code == 400 and "root:" not in r.text, "a symlink is not served", r.status_code)


{"proxied": proxied, "limit": limit, "root": root}[MODE]()
print("%s: %d failed" % (MODE, failed))
sys.exit(1 if failed else 0)
