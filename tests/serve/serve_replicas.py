"""serve_replicas.py — drive several `hamf serve models:/NAME@ALIAS` replicas
under load while the alias moves; see test_serve_replicas_pg.sh.

  serve_replicas.py --hamf HAMF --db URL --name NAME --score SCORE.csv
      --want V=PRED.csv ... --move JSON [--replicas 2] [--conns 8] [--lag 2]

--want: the probabilities `hamf predict models:/NAME/V` wrote for SCORE.csv.
--move: a JSON list of {"label": TEXT, "cmd": [ARGV...], "version": "V"}:
each command moves the alias; afterwards every replica must answer with
version V (X-Hamf-Model-Version, and hamf_serve_model_info on /metrics)
within --lag seconds of the command returning. --conns keep-alive client
connections (spread round-robin over the replicas) send one CSV row per
request the whole time; every answer must be 200 and score exactly as the
version its header names, and once a replica answered with V, every request
it receives afterwards must be answered by V. 0 failed requests.
"""
import argparse, csv, http.client, json, os, re, subprocess, sys, threading, time

ap = argparse.ArgumentParser()
ap.add_argument("--hamf", required=True)
ap.add_argument("--db", required=True)
ap.add_argument("--name", required=True)
ap.add_argument("--score", required=True)
ap.add_argument("--want", action="append", required=True)
ap.add_argument("--move", required=True)
ap.add_argument("--replicas", type=int, default=2)
ap.add_argument("--conns", type=int, default=8)
ap.add_argument("--lag", type=float, default=2.0)
ap.add_argument("--alias", default="champion")
a = ap.parse_args()

want = {}
for w in a.want:
    v, p = w.split("=", 1)
    with open(p, newline="") as f:
        want[v] = [float(r["probability"]) for r in csv.DictReader(f)]
with open(a.score) as f:
    lines = f.read().splitlines()
header, rows = lines[0], lines[1:]
moves = json.loads(a.move)
fails = []
lock = threading.Lock()


def fail(msg):
    with lock:
        fails.append(msg)


def start_replica(k):
    log = open("replica-%d.log" % k, "w")
    p = subprocess.Popen([a.hamf, "serve", "models:/%s@%s" % (a.name, a.alias), "--db", a.db, "--port", "0"],
                         stdout=log, stderr=subprocess.STDOUT, text=True)
    return p, log


def wait_port(k, p, deadline):
    while time.monotonic() < deadline:
        with open("replica-%d.log" % k) as f:
            text = f.read()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+) \(model .*, version (\S+)\)", text)
        if m:
            return int(m.group(1)), m.group(2)
        if p.poll() is not None:
            sys.exit("replica %d exited %s:\n%s" % (k, p.returncode, text))
        time.sleep(0.05)
    sys.exit("replica %d not listening after 30 s" % k)


procs = [start_replica(k) for k in range(a.replicas)]
stop = False
log = []  # (replica, t_start, t_end, version, ok)
try:
    deadline = time.monotonic() + 30
    ports, first = zip(*(wait_port(k, p, deadline) for k, (p, _) in enumerate(procs)))
    v0 = first[0]
    if any(v != v0 for v in first):
        fail("replicas started on different versions: %s" % (first,))
    print("replicas on ports %s, all serving version %s" % (list(ports), v0))

    def client(c):
        k = c % a.replicas
        conn = http.client.HTTPConnection("127.0.0.1", ports[k], timeout=10)
        i = c
        while not stop:
            row = i % len(rows)
            i += a.conns
            body = (header + "\n" + rows[row] + "\n").encode()
            t0 = time.monotonic()
            ver, ok = None, False
            try:
                conn.request("POST", "/invocations", body=body, headers={"Content-Type": "text/csv"})
                r = conn.getresponse()
                data = r.read()
                ver = r.getheader("X-Hamf-Model-Version")
                if r.status != 200:
                    fail("replica %d: HTTP %d: %s" % (k, r.status, data[:200]))
                else:
                    p = json.loads(data)["predictions"]
                    ok = ver in want and p == [want[ver][row]]
                    if not ok:
                        fail("replica %d row %d: version %s answered %s, want %s" %
                             (k, row, ver, p, want[ver][row] if ver in want else "a known version"))
            except Exception as e:  # a failed request
                fail("replica %d: request failed: %r" % (k, e))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", ports[k], timeout=10)
            with lock:
                log.append((k, t0, time.monotonic(), ver, ok))
        conn.close()

    def metrics_version(k):
        conn = http.client.HTTPConnection("127.0.0.1", ports[k], timeout=5)
        try:
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
        finally:
            conn.close()
        m = re.search(r'^hamf_serve_model_info\{model="%s",model_version="([^"]*)"\} 1$' % re.escape(a.name),
                      text, re.M)
        return (m.group(1) if m else None), text

    threads = [threading.Thread(target=client, args=(c,)) for c in range(a.conns)]
    for t in threads:
        t.start()
    # load is on: every replica has answered a few requests
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with lock:
            seen = [sum(1 for e in log if e[0] == k) for k in range(a.replicas)]
        if min(seen) >= 20:
            break
        time.sleep(0.05)
    else:
        fail("the replicas answered only %s requests in 20 s" % seen)

    for mv in moves:
        target = mv["version"]
        t0 = time.monotonic()
        r = subprocess.run(mv["cmd"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        t1 = time.monotonic()
        if r.returncode != 0:
            fail("%s: exit %d: %s" % (mv["label"], r.returncode, r.stdout))
            break
        # wait (up to 10 s, to report the lag even when it is too long) for
        # every replica to answer with the target, by header and by /metrics
        ans_lag, met_lag = [None] * a.replicas, [None] * a.replicas
        deadline = t1 + 10
        while time.monotonic() < deadline and None in ans_lag + met_lag:
            with lock:
                for k in range(a.replicas):
                    if ans_lag[k] is None:
                        ends = [e[2] for e in log if e[0] == k and e[1] >= t0 and e[3] == target]
                        if ends:
                            ans_lag[k] = min(ends) - t1
            for k in range(a.replicas):
                if met_lag[k] is None and metrics_version(k)[0] == target:
                    met_lag[k] = time.monotonic() - t1
            time.sleep(0.02)
        print("%s (took %.3f s): version %s answering after %s s, on /metrics after %s s" %
              (mv["label"], t1 - t0, target,
               ["%.3f" % x if x is not None else "never" for x in ans_lag],
               ["%.3f" % x if x is not None else "never" for x in met_lag]))
        for k in range(a.replicas):
            if ans_lag[k] is None or ans_lag[k] > a.lag:
                fail("%s: replica %d answered with version %s only after %s s (limit %.1f s)" %
                     (mv["label"], k, target, ans_lag[k], a.lag))
            if met_lag[k] is None or met_lag[k] > a.lag:
                fail("%s: replica %d's /metrics named version %s only after %s s (limit %.1f s)" %
                     (mv["label"], k, target, met_lag[k], a.lag))
        # some load on the new version before the next move: 20 answers each
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with lock:
                n = [sum(1 for e in log if e[0] == k and e[3] == target and e[1] >= t1) for k in range(a.replicas)]
            if min(n) >= 20:
                break
            time.sleep(0.02)
        with lock:
            for k in range(a.replicas):
                firsts = [e[2] for e in log if e[0] == k and e[1] >= t0 and e[3] == target]
                if not firsts:
                    continue
                late = [e for e in log if e[0] == k and e[1] > min(firsts) and e[3] != target]
                if late:
                    fail("%s: replica %d answered %d requests with another version after switching to %s" %
                         (mv["label"], k, len(late), target))
    stop = True
    for t in threads:
        t.join()
    for k in range(a.replicas):
        _, text = metrics_version(k)
        for v in [v0] + [mv["version"] for mv in moves]:
            if not re.search(r'^hamf_serve_requests_total\{model="%s",model_version="%s"\} [1-9]' %
                             (re.escape(a.name), v), text, re.M):
                fail("replica %d's /metrics lacks requests answered by version %s" % (k, v))
    n = len(log)
    nbad = sum(1 for e in log if not e[4])
    print("requests: %d over %d connections, failed or wrong: %d; per replica: %s" %
          (n, a.conns, nbad, [sum(1 for e in log if e[0] == k) for k in range(a.replicas)]))
finally:
    stop = True
    for p, f in procs:
        p.terminate()
    for k, (p, f) in enumerate(procs):
        try:
            rc = p.wait(timeout=30)
            if rc != 0:
                fail("replica %d exited %d on SIGTERM" % (k, rc))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            fail("replica %d did not stop within 30 s of SIGTERM" % k)
        f.close()
        with open("replica-%d.log" % k) as fh:
            out = fh.read()
        print("--- replica %d log (end):\n%s" % (k, out[-800:]))
for f in fails[:20]:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
