#!/usr/bin/python3
"""durability.py write|verify|inflight URL PID STATE_FILE — crash and
shutdown checks for `hamf server`.

write:    log metrics one request at a time, a batch and an artifact, each
          answered 200, then SIGKILL the server right after the last 200 and
          record what was acknowledged in STATE_FILE.
verify:   against a restarted server, everything in STATE_FILE is there.
inflight: start an artifact upload, send SIGTERM half-way through the body,
          finish it: the answer must be 200 and the file complete; the
          server must refuse new connections meanwhile and then exit."""
import http.client
import json
import os
import signal
import socket
import sys
import time
import urllib.parse

import requests

mode, base, pid, state_file = sys.argv[1], sys.argv[2].rstrip("/"), int(sys.argv[3]), sys.argv[4]
API = base + "/api/2.0/mlflow/"
ART = base + "/api/2.0/mlflow-artifacts/artifacts/"
u = urllib.parse.urlparse(base)
S = requests.Session()
H = {"Content-Type": "application/json"}


def ok(r):
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


if mode == "write":
    exp = ok(S.post(API + "experiments/create", json={"name": "durable"}, headers=H))["experiment_id"]
    run = ok(S.post(API + "runs/create", json={"experiment_id": exp, "start_time": 1}, headers=H))["run"]["info"]["run_id"]
    for i in range(200):
        ok(S.post(API + "runs/log-metric", json={"run_id": run, "key": "loss", "value": 1.0 / (i + 1),
                                                 "timestamp": 1000 + i, "step": i}, headers=H))
    ok(S.post(API + "runs/log-batch", json={"run_id": run, "params": [{"key": "p", "value": "v"}],
                                            "metrics": [{"key": "acc", "value": 99.5, "timestamp": 5}]}, headers=H))
    blob = os.urandom(65536)
    r = S.put(ART + "%s/%s/artifacts/model.bin" % (exp, run), data=blob)
    ok(r)
    ok(S.post(API + "runs/set-tag", json={"run_id": run, "key": "last", "value": "yes"}, headers=H))
    os.kill(pid, signal.SIGKILL)  # right after the last 200
    json.dump({"exp": exp, "run": run, "blob": blob.hex()}, open(state_file, "w"))
    print("wrote and killed")
elif mode == "verify":
    st = json.load(open(state_file))
    run = st["run"]
    h = ok(S.get(API + "metrics/get-history", params={"run_id": run, "metric_key": "loss"}))
    assert len(h["metrics"]) == 200, len(h["metrics"])
    d = ok(S.get(API + "runs/get", params={"run_id": run}))["run"]["data"]
    assert {"key": "p", "value": "v"} in d["params"], d
    assert {"key": "last", "value": "yes"} in d["tags"], d
    assert any(m["key"] == "acc" and m["value"] == 99.5 for m in d["metrics"]), d
    r = S.get(ART + "%s/%s/artifacts/model.bin" % (st["exp"], run))
    assert r.status_code == 200 and r.content == bytes.fromhex(st["blob"]), "artifact lost"
    ok(S.get(API + "experiments/get", params={"experiment_id": st["exp"]}))
    print("all acknowledged writes survived kill -9")
elif mode == "inflight":
    # a request MHD drops while reading its head (too many arguments) must
    # not count as in flight forever: the stop below has to be quick
    for n in (2000, 5000):
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=2)
        c.request("GET", "/api/2.0/mlflow/experiments/get?experiment_id=0&" + "x=1&" * n)
        try:
            st = c.getresponse().status
            assert 400 <= st < 500, st
        except (http.client.RemoteDisconnected, ConnectionResetError, TimeoutError):
            pass  # libmicrohttpd drops or stalls such a head; either way not in flight
        c.close()
    body = os.urandom(200000)
    s = socket.create_connection((u.hostname, u.port), timeout=20)
    s.sendall(("PUT /api/2.0/mlflow-artifacts/artifacts/inflight/blob.bin HTTP/1.1\r\nHost: x\r\n"
               "Content-Length: %d\r\nContent-Type: application/octet-stream\r\n\r\n" % len(body)).encode())
    s.sendall(body[:100000])
    time.sleep(0.3)
    os.kill(pid, signal.SIGTERM)
    time.sleep(0.5)
    os.kill(pid, 0)  # still running: it waits for the request in flight
    refused = False
    try:
        c = socket.create_connection((u.hostname, u.port), timeout=2)
        c.sendall(b"GET /api/2.0/mlflow/experiments/get?experiment_id=0 HTTP/1.1\r\nHost: x\r\n\r\n")
        refused = c.recv(100) == b""
        c.close()
    except OSError:
        refused = True
    assert refused, "new connections must be refused while stopping"
    s.sendall(body[100000:])
    resp = b""
    while b"\r\n\r\n" not in resp or not resp.rstrip().endswith(b"}"):
        chunk = s.recv(4096)
        if not chunk:
            break
        resp += chunk
    s.close()
    assert resp.startswith(b"HTTP/1.1 200"), resp[:200]
    with open(os.path.join(state_file, "inflight", "blob.bin"), "rb") as f:
        assert f.read() == body, "in-flight upload incomplete"
    print("in-flight request finished after SIGTERM")
