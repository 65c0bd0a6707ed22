#!/usr/bin/env python3
"""wal_load.py URL DIR SECONDS — issue 18 item 10: 4 threads overwrite tags
and update runs (pages rewritten, the database hardly grows) through
`hamf server` for SECONDS; the store lives on a small file system at DIR.
Every write must be answered 200 (no 507, no 500), and the WAL file must
stay small; prints the largest WAL and database sizes seen."""
import glob
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

URL, DIR, SECS = sys.argv[1], sys.argv[2], float(sys.argv[3])


def post(path, body):
    req = urllib.request.Request(URL + "/api/2.0/mlflow/" + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


st, b = post("experiments/create", {"name": "wal"})
exp = json.loads(b)["experiment_id"]
runs = [json.loads(post("runs/create", {"experiment_id": exp})[1])["run"]["info"]["run_id"] for _ in range(4)]
bad = []
n = [0]
stop = time.monotonic() + SECS
big = "x" * 3000


def writer(run):
    i = 0
    while time.monotonic() < stop and not bad:
        i += 1
        st, b = post("runs/set-tag", {"run_id": run, "key": "t%d" % (i % 8), "value": big + str(i)})
        if st != 200:
            bad.append((st, b[:200]))
        n[0] += 1


ts = [threading.Thread(target=writer, args=(r,)) for r in runs]
for t in ts:
    t.start()
wal_max = db_max = 0
while any(t.is_alive() for t in ts):
    for f in glob.glob(os.path.join(DIR, "*.db-wal")):
        wal_max = max(wal_max, os.path.getsize(f))
    for f in glob.glob(os.path.join(DIR, "*.db")):
        db_max = max(db_max, os.path.getsize(f))
    time.sleep(0.05)
st = os.statvfs(DIR)
print("%d writes in %.0f s; largest WAL %d KiB, database %d KiB; free %d KiB of %d KiB; errors %s"
      % (n[0], SECS, wal_max // 1024, db_max // 1024, st.f_bavail * st.f_frsize // 1024,
         st.f_blocks * st.f_frsize // 1024, bad[:2]))
assert not bad, bad[:3]
assert n[0] > 500, n[0]
limit = int(os.environ.get("WAL_BOUND_KIB", "3072"))
assert wal_max // 1024 <= limit, "WAL grew to %d KiB (bound %d KiB)" % (wal_max // 1024, limit)
