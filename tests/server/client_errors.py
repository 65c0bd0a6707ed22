#!/usr/bin/env python3
"""client_errors.py URL ARTDIR FILLER — issue 18 items 3 and 4 against a
running `hamf server` whose store and artifacts live on a small tmpfs
(FILLER: a path on it to fill the disk with; empty when no tmpfs).
Client mistakes get 4xx with MLflow's JSON error body; a full disk gets
507 with a clear message and the server recovers once space is freed;
every reply is valid UTF-8 even for artifact names that are not."""
import json
import os
import sys
import urllib.error
import urllib.request

BASE, ARTDIR, FILLER = sys.argv[1], sys.argv[2], sys.argv[3]
API = BASE + "/api/2.0/mlflow/"
ART = BASE + "/api/2.0/mlflow-artifacts/artifacts/"


def call(method, url, body=None, ctype="application/json"):
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": ctype} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            st = r.status
    except urllib.error.HTTPError as e:
        raw, st = e.read(), e.code
    text = raw.decode("utf-8")  # every reply is UTF-8 (raises otherwise)
    return st, (json.loads(text) if text and text[0] in "{[" else text)


def want(st_body, status, code=None):
    st, body = st_body
    assert st == status, (st, status, body)
    if code:
        assert body["error_code"] == code, body
    return body


exp = want(call("POST", API + "experiments/create", {"name": "errs"}), 200)["experiment_id"]
run = want(call("POST", API + "runs/create", {"experiment_id": exp}), 200)["run"]["info"]["run_id"]

# ---- item 3: client mistakes are 4xx ----
f = " AND ".join("metrics.m%d > %d" % (i, i) for i in range(2001))
b = want(call("POST", API + "runs/search", {"experiment_ids": [exp], "filter": f}), 400, "INVALID_PARAMETER_VALUE")
assert "too complex" in b["message"], b
print("2001-clause filter: 400", b["message"])
f = " AND ".join("metrics.m%d > %d" % (i, i) for i in range(200))
want(call("POST", API + "runs/search", {"experiment_ids": [exp], "filter": f}), 200)
b = want(call("PUT", ART + "%s/%s/artifacts/%s.txt" % (exp, run, "n" * 300), b"hello", "text/plain"), 400,
         "INVALID_PARAMETER_VALUE")
print("300-character artifact name: 400", b["message"])
want(call("PUT", ART + "%s/%s/artifacts/%s.txt" % (exp, run, "n" * 200), b"hello", "text/plain"), 200)

# ---- item 4: UTF-8 ----
b = want(call("GET", API + "experiments/get-by-name?experiment_name=%ff"), 400, "INVALID_PARAMETER_VALUE")
b = want(call("PUT", ART + "%s/%s/artifacts/x%%ff%%fe.txt" % (exp, run), b"hi", "text/plain"), 400,
         "INVALID_PARAMETER_VALUE")
print("non-UTF-8 artifact name at upload: 400", b["message"])
# a file that got there some other way is listed with U+FFFD
d = os.path.join(ARTDIR, exp, run, "artifacts")
with open(os.path.join(d.encode(), b"y\xff\xfe.txt"), "wb") as fh:
    fh.write(b"z")
st, body = call("GET", ART[:-1] + "?path=%s/%s/artifacts" % (exp, run))
assert st == 200, (st, body)
names = [x["path"] for x in body.get("files", [])]
assert "y\ufffd\ufffd.txt" in names, names
print("listing of a non-UTF-8 file name: valid UTF-8,", names)

# ---- item 3: disk full -> 507, then recovery ----
if FILLER:
    filler = open(FILLER, "wb")  # created while there is room for it
    got = None
    blob = os.urandom(64 * 1024)
    # fill with artifacts until the disk is full
    for i in range(200):
        st, body = call("PUT", ART + "%s/%s/artifacts/fill%d.bin" % (exp, run, i), blob, "application/octet-stream")
        if st != 200:
            got = (st, body)
            break
    assert got and got[0] == 507 and got[1]["error_code"] == "RESOURCE_EXHAUSTED", got
    assert "No space left" in got[1]["message"], got
    print("artifact upload on a full disk: 507", got[1]["message"])
    # and metadata writes: free the artifacts, fill the disk with one
    # file, log until refused
    for i in range(200):
        try:
            os.unlink(os.path.join(d, "fill%d.bin" % i))
        except FileNotFoundError:
            pass
    try:
        while True:
            filler.write(os.urandom(4096))
            filler.flush()
    except OSError:
        pass
    got = None
    for i in range(2000):
        batch = {"run_id": run, "metrics": [{"key": "k%d" % j, "value": j, "timestamp": i, "step": i}
                                           for j in range(100)]}
        st, body = call("POST", API + "runs/log-batch", batch)
        if st != 200:
            got = (st, body)
            break
    assert got and got[0] == 507 and got[1]["error_code"] == "RESOURCE_EXHAUSTED", got
    assert "full" in got[1]["message"], got
    print("log-batch on a full disk: 507", got[1]["message"])
    try:
        filler.close()
    except OSError:
        pass
    os.unlink(FILLER)
    want(call("POST", API + "runs/log-metric", {"run_id": run, "key": "after", "value": 1, "timestamp": 1}), 200)
    want(call("PUT", ART + "%s/%s/artifacts/after.txt" % (exp, run), b"ok", "text/plain"), 200)
    print("after freeing space: writes succeed again")
print("OK")
