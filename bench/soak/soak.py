#!/usr/bin/env python3
"""soak.py URL PID SECONDS CLIENTS DBDIR — the load of bench/soak/run: CLIENTS
keep-alive connections (one thread each, http.client) send mixed MLflow
traffic to `hamf server` at URL for SECONDS: log-metric, log-batch,
runs/get, runs/search, artifact PUT + GET and listing. Every answer is
checked (status and content); the server's RSS (PID) is sampled every 5 s.
Prints a JSON summary on the last line."""
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
import urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
PID, SECS, N = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
DBDIR = sys.argv[5]
API = "/api/2.0/mlflow/"
ART = "/api/2.0/mlflow-artifacts/artifacts/"
H = {"Content-Type": "application/json"}

lat = {}          # op -> [seconds]
errors = []       # (op, detail)
lock = threading.Lock()
stop_at = None


def call(c, method, path, body=None, headers=H):
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    return r.status, r.read()


def rss_kb():
    """(VmRSS, RssAnon, RssFile) in kB: the file part is SQLite's mmap of
    the database (mmap_size), which grows with the database; the anonymous
    part is the heap, which must stay flat."""
    v = {}
    with open("/proc/%d/status" % PID) as f:
        for line in f:
            k = line.split(":")[0]
            if k in ("VmRSS", "RssAnon", "RssFile"):
                v[k] = int(line.split()[1])
    return v.get("VmRSS", 0), v.get("RssAnon", 0), v.get("RssFile", 0)


setup = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
st, b = call(setup, "POST", API + "experiments/create", json.dumps({"name": "soak-%d" % os.getpid()}))
assert st == 200, (st, b)
EXP = json.loads(b)["experiment_id"]


def client(i):
    rnd = random.Random(i)
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    st, b = call(c, "POST", API + "runs/create", json.dumps({"experiment_id": EXP}))
    if st != 200:
        with lock:
            errors.append(("runs/create", st))
        return
    run = json.loads(b)["run"]["info"]["run_id"]
    step = 0
    mine = {}
    ops = ["log-metric"] * 40 + ["log-batch"] * 15 + ["runs/get"] * 20 + ["runs/search"] * 10 + \
          ["artifact"] * 10 + ["artifact-list"] * 5
    while time.monotonic() < stop_at:
        op = rnd.choice(ops)
        t = time.monotonic()
        try:
            if op == "log-metric":
                step += 1
                st, b = call(c, "POST", API + "runs/log-metric", json.dumps(
                    {"run_id": run, "key": "loss", "value": 1.0 / step, "timestamp": step, "step": step}))
                ok = st == 200
            elif op == "log-batch":
                step += 1
                st, b = call(c, "POST", API + "runs/log-batch", json.dumps(
                    {"run_id": run, "metrics": [{"key": "m%d" % k, "value": k * step, "timestamp": step,
                                                 "step": step} for k in range(10)],
                     "tags": [{"key": "t", "value": str(step)}]}))
                ok = st == 200
            elif op == "runs/get":
                st, b = call(c, "GET", API + "runs/get?run_id=" + run)
                ok = st == 200 and json.loads(b)["run"]["info"]["run_id"] == run
            elif op == "runs/search":
                st, b = call(c, "POST", API + "runs/search", json.dumps(
                    {"experiment_ids": [EXP], "filter": "metrics.loss < 0.5", "max_results": 20,
                     "order_by": ["metrics.loss ASC"]}))
                ok = st == 200 and "runs" in json.loads(b) or (st == 200 and b == b"{}")
            elif op == "artifact":
                name = "f%d.txt" % rnd.randrange(20)
                data = os.urandom(rnd.randrange(1, 4096))
                p = ART + "%s/%s/artifacts/%s" % (EXP, run, name)
                st, b = call(c, "PUT", p, data, {"Content-Type": "application/octet-stream"})
                ok = st == 200
                if ok:
                    st, b = call(c, "GET", p, headers={})
                    ok = st == 200 and b == data
            else:
                st, b = call(c, "GET", ART[:-1] + "?path=%s/%s/artifacts" % (EXP, run), headers={})
                ok = st == 200
        except Exception as e:  # a dropped connection is an error too
            st, b, ok = -1, repr(e).encode(), False
            c.close()
            c = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        dt = time.monotonic() - t
        with lock:
            lat.setdefault(op, []).append(dt)
            if not ok:
                errors.append((op, st, b[:200]))


stop_at = time.monotonic() + SECS
ts = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(N)]
for t in ts:
    t.start()
rss = []
t0 = time.monotonic()
while time.monotonic() < stop_at:
    rss.append((round(time.monotonic() - t0), rss_kb()))
    time.sleep(5)
for t in ts:
    t.join(120)
rss.append((round(time.monotonic() - t0), rss_kb()))


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


allv = [x for v in lat.values() for x in v]
warm = [r for s, r in rss if s >= 60] or [r for s, r in rss]
anon = [r[1] for r in warm]
dbsize = sum(os.path.getsize(os.path.join(DBDIR, f)) for f in os.listdir(DBDIR) if f.startswith("soak.db"))
summary = {
    "seconds": SECS, "clients": N, "requests": len(allv), "errors": len(errors),
    "req_per_s": round(len(allv) / SECS, 1),
    "p50_ms": round(pct(allv, 0.5) * 1000, 2), "p99_ms": round(pct(allv, 0.99) * 1000, 2),
    "max_ms": round(max(allv) * 1000, 1) if allv else None,
    "per_op": {k: {"n": len(v), "p50_ms": round(pct(v, 0.5) * 1000, 2), "p99_ms": round(pct(v, 0.99) * 1000, 2)}
               for k, v in sorted(lat.items())},
    "rss_kb_first_after_warmup": warm[0][0], "rss_kb_last": warm[-1][0], "rss_kb_max_after_warmup": max(w[0] for w in warm),
    "anon_kb_first_after_warmup": anon[0], "anon_kb_last": anon[-1], "anon_kb_max_after_warmup": max(anon),
    "db_kb_at_end": dbsize // 1024,
    "rss_kb_samples": rss,
    "first_errors": [str(e) for e in errors[:5]],
}
print(json.dumps(summary))
