#!/usr/bin/env python3
"""backup_load.py URL HAMF DB DEST — issue 18 item 12: 4 writer threads log
metrics through `hamf server` at URL while `hamf store backup` copies DB to
DEST in the middle of the load. Prints the acknowledged writes as JSON
lines ("before" = answered 200 before the backup started) to stdout's last
line; check mode (URL ACKFILE) verifies every "before" write is there."""
import json
import subprocess
import sys
import threading
import time
import urllib.request


def post(url, path, body):
    req = urllib.request.Request(url + "/api/2.0/mlflow/" + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


if sys.argv[1] == "check":
    url, ackfile = sys.argv[2], sys.argv[3]
    acks = json.load(open(ackfile))
    seen = {}
    for run in acks["runs"]:
        got = json.loads(urllib.request.urlopen(url + "/api/2.0/mlflow/metrics/get-history?run_id=%s&metric_key=m"
                                                % run, timeout=30).read())
        seen[run] = {int(m["value"]) for m in got.get("metrics", [])}
    missing = [(r, v) for r, v in acks["before"] if v not in seen[r]]
    after = sum(1 for r, v in acks["after"] if v in seen[r])
    print("restored store: %d of %d writes acknowledged before the backup present (%d missing); "
          "%d of %d later writes present" % (len(acks["before"]) - len(missing), len(acks["before"]),
                                             len(missing), after, len(acks["after"])))
    assert not missing, missing[:10]
    sys.exit(0)

url, hamf, db, dest, ackfile = sys.argv[1:6]
exp = post(url, "experiments/create", {"name": "backup-load"})["experiment_id"]
runs = [post(url, "runs/create", {"experiment_id": exp})["run"]["info"]["run_id"] for _ in range(4)]
acked = []  # (run, value, answered_at)
lock = threading.Lock()
stop = threading.Event()


def writer(run, base):
    v = base
    while not stop.is_set():
        post(url, "runs/log-metric", {"run_id": run, "key": "m", "value": v, "timestamp": v, "step": v})
        with lock:
            acked.append((run, v, time.monotonic()))
        v += 1


ts = [threading.Thread(target=writer, args=(r, i * 1000000)) for i, r in enumerate(runs)]
for t in ts:
    t.start()
time.sleep(1.0)
t0 = time.monotonic()
subprocess.run([hamf, "store", "backup", dest, "--db", db], check=True)
t1 = time.monotonic()
time.sleep(0.5)
stop.set()
for t in ts:
    t.join()
before = [(r, v) for r, v, t in acked if t < t0]
after = [(r, v) for r, v, t in acked if t > t1]
print("writes acknowledged: %d before the backup, %d during it (%.2f s), %d after"
      % (len(before), len(acked) - len(before) - len(after), t1 - t0, len(after)))
assert len(before) > 50 and len(acked) - len(before) > 0, "no load"
json.dump({"runs": runs, "before": before, "after": after}, open(ackfile, "w"))
