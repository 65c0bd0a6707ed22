"""serve_log.py HAMF NAME SAME.csv DRIFT.csv — drives `hamf serve
models:/NAME@champion --log-dir` over real HTTP and checks, with the files
and the registry it leaves:

  * serving drift: hamf_feature_drift_psi{source="serving"} stays low for
    traffic like the training data and goes high for drifted traffic;
  * the prediction log: rotated files appear whole (every line parses, the
    logged score of each row is the one the server answered), feedback
    labels land in the feedback series keyed by request id + row;
  * kill -9: a torn tail is cut at the next start and nothing before it is
    lost; pruning keeps --log-max-files;
  * `hamf retrain --from-log`: the labelled served rows (and only those)
    train a new version; late labels (after a restart) still reach the log;
  * a ServingFeatureDriftHigh webhook to `hamf server --retrain-data LOGDIR`
    runs one retrain job on the log's labelled rows.
"""
import csv, glob, io, json, os, re, signal, subprocess, sys, time, urllib.request, urllib.error

hamf, name, same_path, drift_path = sys.argv[1:5]
fails = []


def check(cond, what):
    if not cond:
        fails.append(what)
        print("FAIL:", what)
    return cond


def read_rows(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        return header, list(r)


same_h, same = read_rows(same_path)
drift_h, drift = read_rows(drift_path)
yi = same_h.index("phishing")


def start(logdir, *extra):
    p = subprocess.Popen([hamf, "serve", "models:/%s@champion" % name, "--port", "0", "--log-dir", logdir] + list(extra),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not m:
        p.kill()
        sys.exit("no listening line: %r %s" % (line, p.stderr.read()))
    return p, "http://127.0.0.1:%s" % m.group(1)


def req(base, path, body=None, ctype=None):
    data = body.encode() if isinstance(body, str) else body
    r = urllib.request.Request(base + path, data=data, method="POST" if data is not None else "GET")
    if ctype:
        r.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, resp.headers, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def typed(v):
    for t in (int, float):
        try:
            return t(v)
        except ValueError:
            pass
    return None if v == "" else v


sent = {}  # request id -> (rows, scores)


def score(base, header, rows, fmt):
    """Score rows (the label column stays out of the request)."""
    cols = [c for c in header if c != "phishing"]
    idx = [header.index(c) for c in cols]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([r[i] for i in idx])
        st, h, b = req(base, "/invocations", buf.getvalue(), "text/csv")
    else:
        recs = [{c: typed(r[i]) for c, i in zip(cols, idx)} for r in rows]
        st, h, b = req(base, "/invocations", json.dumps({"dataframe_records": recs}), "application/json")
    check(st == 200, "scoring answered %s: %s" % (st, b[:200]))
    rid = h.get("X-Hamf-Request-Id")
    sent[rid] = (rows, json.loads(b)["predictions"])
    return rid


def metrics(base):
    st, _, b = req(base, "/metrics")
    check(st == 200, "/metrics")
    psi = {}
    vals = {}
    for ln in b.splitlines():
        m = re.match(r'hamf_feature_drift_psi\{.*feature="([^"]+)",source="serving"\} (\S+)', ln)
        if m:
            psi[m.group(1)] = float(m.group(2))
        m = re.match(r'(hamf_serve_\w+)\{[^}]*\} (\S+)$', ln)
        if m:
            vals[m.group(1)] = float(m.group(2))
    return psi, vals


def wait_logged(base, want):
    for _ in range(100):
        _, v = metrics(base)
        if v.get("hamf_serve_log_rows_total", 0) >= want:
            return v
        time.sleep(0.05)
    return v


def feedback(base, rid, labels):
    st, _, b = req(base, "/feedback", json.dumps({"request_id": rid, "labels": labels}), "application/json")
    check(st == 200 and '"live": true' in b, "feedback %s: %s %s" % (rid, st, b[:200]))


def parse_log(path):
    """Every line of a log file must parse as CSV with the header's width."""
    with open(path, newline="") as f:
        text = f.read()
    rows = list(csv.reader(io.StringIO(text)))
    check(text.endswith("\n"), "%s ends with a whole line" % path)
    w = len(rows[0])
    bad = [i for i, r in enumerate(rows) if len(r) != w]
    check(not bad, "%s: lines %s do not have %d fields" % (path, bad[:5], w))
    return rows


# ---- 1. drift and the log on one server ----------------------------------
p, base = start("log", "--log-max-bytes", "65536", "--log-max-files", "50", "--drift-window", "1000")
try:
    fb_ids = []
    for k in range(0, 1000, 50):
        rid = score(base, same_h, same[k:k + 50], "csv" if (k // 50) % 2 else "json")
        fb_ids.append(rid)
    # a second server on the same log directory is refused
    r = subprocess.run([hamf, "serve", "models:/%s@champion" % name, "--port", "0", "--log-dir", "log"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "another hamf serve writes to log" in r.stderr, "second writer refused: %s" % r.stderr)
    psi_same, v = metrics(base)
    check(v.get("hamf_serve_drift_window_rows") == 1000, "drift window holds 1000 rows: %s" % v.get("hamf_serve_drift_window_rows"))
    check(len(psi_same) >= 10, "serving PSI for every feature: %s" % sorted(psi_same))
    for k in range(0, 1000, 50):
        rid = score(base, drift_h, drift[k:k + 50], "json" if (k // 50) % 2 else "csv")
        fb_ids.append(rid)
    psi_drift, _ = metrics(base)
    # the exposition with drift and log metrics is valid for Prometheus
    _, _, text = req(base, "/metrics")
    pc = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    check(pc.returncode == 0, "promtool check metrics: %s %s" % (pc.stdout[-500:], pc.stderr[-500:]))
    ms, md = max(psi_same.values() or [9]), max(psi_drift.values() or [0])
    print("serving PSI max: undrifted %.4f, drifted %.4f (%s)" % (ms, md, max(psi_drift, key=psi_drift.get)))
    check(ms < 0.1, "undrifted traffic: max serving PSI %.4f < 0.1" % ms)
    check(md > 0.25, "drifted traffic: max serving PSI %.4f > 0.25" % md)
    # labels for all but every 4th request: those rows must not be trained on
    labelled = 0
    for i, rid in enumerate(fb_ids):
        if i % 4 == 3:
            continue
        rows, _ = sent[rid]
        feedback(base, rid, [int(r[yi]) for r in rows])
        labelled += len(rows)
    v = wait_logged(base, 2000)
    check(v.get("hamf_serve_log_rows_total") == 2000, "2000 rows logged: %s" % v.get("hamf_serve_log_rows_total"))
    check(v.get("hamf_serve_log_dropped_total") == 0, "no row dropped")
finally:
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
check("Sanitizer" not in err, "serve stderr: %s" % err[-2000:])
check(p.returncode == 0, "serve exit %s: %s" % (p.returncode, err[-300:]))

pf = sorted(glob.glob("log/predictions-*.csv"))
ff = sorted(glob.glob("log/feedback-*.csv"))
check(not glob.glob("log/*.active.csv"), "a clean stop finishes the active files: %s" % os.listdir("log"))
check(len(pf) >= 4, "rotation at 64 KiB made several prediction files: %d" % len(pf))
# JSON (quoted names) and CSV requests with the same columns share files:
# only size rotates them
check(all(os.path.getsize(f) > 60000 for f in pf[:-1]),
      "files rotate only at the size bound: %s" % [os.path.getsize(f) for f in pf])
logged = {}
for path in pf:
    rows = parse_log(path)
    check(os.path.getsize(path) <= 65536 + 4096, "%s stays near --log-max-bytes (%d)" % (path, os.path.getsize(path)))
    check(rows[0][:6] == ["hamf_request_id", "hamf_row", "hamf_time", "hamf_model", "hamf_model_version", "hamf_score"],
          "prediction header: %s" % rows[0][:6])
    check("urllength" in rows[0] and "phishing" not in rows[0], "the request's own columns are logged")
    for r in rows[1:]:
        logged[(r[0], int(r[1]))] = r
check(len(logged) == 2000, "2000 distinct (request id, row) logged: %d" % len(logged))
bad = 0
for rid, (rows, preds) in sent.items():
    for i, pr in enumerate(preds):
        r = logged.get((rid, i))
        if r is None or float(r[5]) != pr or r[3] != name or r[4] != "1":
            bad += 1
check(bad == 0, "every logged score/model/version matches the answer (%d differ)" % bad)
nfb = sum(len(parse_log(f)) - 1 for f in ff)
check(nfb == labelled, "feedback log holds %d labels: %d" % (labelled, nfb))

# ---- retrain --from-log: the labelled served rows are the new data --------
r = subprocess.run([hamf, "retrain", "--model", name, "--from-log", "log", "--json"], capture_output=True, text=True)
check(r.returncode == 0, "retrain --from-log: %s" % r.stderr[-400:])
if r.returncode == 0:
    res = json.loads(r.stdout)
    check(res["challenger_version"] == 2, "a new version 2: %s" % res)
    check(res["n_train"] + res["n_holdout"] == labelled, "trained + held out = the %d labelled rows: %s" % (labelled, res))
    joined = sorted(glob.glob("log/joined/retrain-*.csv"))
    check(len(joined) == 1, "the joined file is kept: %s" % joined)
    check(not glob.glob("log/joined/.snapshot-*"), "the join's snapshot links are removed")
    if joined:
        jh, jr = read_rows(joined[0])
        check(jh[-1] == "phishing" and "urllength" in jh, "joined header: %s" % jh)
        want = []
        for rid in sorted(sent, key=int):
            if fb_ids.index(rid) % 4 == 3:
                continue
            want += [[x for c, x in zip(same_h, row) if c != "phishing"] + [row[yi]] for row in sent[rid][0]]
        got = [[x for c, x in zip(jh, row)] for row in jr]
        check([[typed(x) for x in w] for w in want] == [[typed(x) for x in g] for g in got],
              "joined rows are the labelled served rows, oldest first, with their fed-back labels")
    v = subprocess.run([hamf, "model", "versions", name], capture_output=True, text=True).stdout
    check(re.search(r"^\s*2\b", v, re.M) is not None, "model versions lists version 2:\n" + v)
# errors: no log, a log without labels
os.makedirs("empty", exist_ok=True)
r = subprocess.run([hamf, "retrain", "--model", name, "--from-log", "empty"], capture_output=True, text=True)
check(r.returncode != 0 and "holds no prediction log" in r.stderr, "retrain --from-log on an empty dir: %s" % r.stderr)

# ---- 2. kill -9: a torn tail is cut, nothing before it is lost -------------
p, base = start("log2", "--drift-window", "100")
try:
    killed_ids = []
    for k in range(0, 300, 100):
        killed_ids.append(score(base, same_h, same[k:k + 100], "csv"))
    wait_logged(base, 300)
finally:
    p.kill()
    p.wait()
act = "log2/predictions.active.csv"
check(os.path.exists(act), "after kill -9 the active file is there")
with open(act, "a") as f:
    f.write('999,0,2026-01-01T00:00:00.000Z,%s,1,0.5,12,"torn' % name)  # a record cut mid-write
# the reader skips the torn record too
r = subprocess.run([hamf, "retrain", "--model", name, "--from-log", "log2"], capture_output=True, text=True)
check(r.returncode != 0 and "300 served rows but none with a fed-back label" in r.stderr,
      "retrain on a log without labels (torn tail skipped): %s" % r.stderr)
p, base = start("log2")
# labels for a request answered before the restart: not in the live window,
# but logged ("live": false); an id never issued is 404
rows0, _ = sent[killed_ids[0]]
st, _, b = req(base, "/feedback", json.dumps({"request_id": killed_ids[0], "labels": [int(r[yi]) for r in rows0]}),
               "application/json")
check(st == 200 and '"live": false' in b, "feedback after a restart is logged: %s %s" % (st, b))
st, _, b = req(base, "/feedback", json.dumps({"request_id": str(int(killed_ids[0]) * 2), "labels": [1]}), "application/json")
check(st == 404, "feedback for an id never issued: %s %s" % (st, b))
p.send_signal(signal.SIGTERM)
out, err = p.communicate(timeout=30)
check(p.returncode == 0 and "Sanitizer" not in err, "restarted serve: rc %s %s" % (p.returncode, err[-2000:]))
fbf = glob.glob("log2/feedback-*.csv")
check(len(fbf) == 1 and len(parse_log(fbf[0])) == 101, "the 100 late labels are in the feedback log: %s" % fbf)
check("cut a torn last record" in err, "restart reports the cut: %s" % err[-300:])
files = sorted(glob.glob("log2/predictions-*.csv"))
check(len(files) == 1 and not os.path.exists(act), "the recovered file got a finished name: %s" % os.listdir("log2"))
if files:
    rows = parse_log(files[0])
    check(len(rows) == 301, "all 300 rows written before kill -9 survive, the torn one is gone: %d" % (len(rows) - 1))


# ---- 3. pruning keeps --log-max-files -------------------------------------
p, base = start("log", "--log-max-files", "2")
score(base, same_h, same[:10], "csv")
p.send_signal(signal.SIGTERM)
out, err = p.communicate(timeout=30)
check(p.returncode == 0 and "Sanitizer" not in err, "pruning serve: rc %s %s" % (p.returncode, err[-2000:]))
check(len(glob.glob("log/predictions-*.csv")) == 2, "--log-max-files 2 prunes to 2: %d" % len(glob.glob("log/predictions-*.csv")))

# ---- 4. an alert-triggered retrain job on a prediction log ----------------
# `hamf server --retrain-data DIR` with DIR a prediction log: a
# ServingFeatureDriftHigh webhook makes one job that trains on log2's 100
# labelled rows.
srv = subprocess.Popen([hamf, "server", "--port", "0", "--artifacts-dir", "art", "--retrain-data", "log2"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
try:
    m = None
    for _ in range(20):
        line = srv.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if m or not line:
            break
    check(m is not None, "hamf server listening")
    sbase = "http://127.0.0.1:%s" % m.group(1)
    labels = {"alertname": "ServingFeatureDriftHigh", "model": name, "feature": "hassecureconnection_encoded",
              "source": "serving", "severity": "warning"}
    hook = {"version": "4", "groupKey": "{}/{}:{alertname=\"ServingFeatureDriftHigh\"}", "truncatedAlerts": 0,
            "status": "firing", "receiver": "hamf-retrain", "groupLabels": {"alertname": "ServingFeatureDriftHigh", "model": name},
            "commonLabels": labels, "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093",
            "alerts": [{"status": "firing", "labels": labels, "annotations": {"summary": "drift"},
                        "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "",
                        "fingerprint": "0123456789abcdef"}]}
    st, _, b = req(sbase, "/api/hamf/v1/alerts", json.dumps(hook), "application/json")
    check(st == 200, "webhook accepted: %s %s" % (st, b))
    job = None
    for _ in range(200):
        _, _, b = req(sbase, "/api/hamf/v1/jobs")
        jobs = json.loads(b)["jobs"]
        if jobs and jobs[-1]["state"] in ("succeeded", "failed"):
            job = jobs[-1]
            break
        time.sleep(0.1)
    check(job is not None and job["state"] == "succeeded", "the retrain job succeeded: %s" % job)
    if job and job["state"] == "succeeded":
        res = job["result"] if isinstance(job["result"], dict) else json.loads(job["result"])
        print("retrain job %s on %s: n_train %d, n_holdout %d" % (job["job_id"], res.get("data"), res["n_train"], res["n_holdout"]))
        check(res.get("data") == "log2" and res["n_train"] + res["n_holdout"] == 100,
              "the job trained on the log's 100 labelled rows: %s" % res)
finally:
    srv.terminate()
    srv.communicate(timeout=30)

# ---- 5. joining while a server rotates and prunes under load --------------
import threading
p, base = start("log5", "--log-max-bytes", "16384", "--log-max-files", "4")
stop_load = threading.Event()
def load():
    k = 0
    while not stop_load.is_set():
        rows = same[(k * 10) % 990:(k * 10) % 990 + 10]
        rid = score(base, same_h, rows, "csv")
        feedback(base, rid, [int(r[yi]) for r in rows])
        k += 1
for k in range(0, 400, 10):  # enough labelled rows of both classes first
    rid = score(base, same_h, same[k:k + 10], "csv")
    feedback(base, rid, [int(r[yi]) for r in same[k:k + 10]])
th = threading.Thread(target=load)
th.start()
try:
    time.sleep(0.5)
    for _ in range(3):
        r = subprocess.run([hamf, "retrain", "--model", name, "--from-log", "log5", "--json"], capture_output=True, text=True)
        check(r.returncode == 0,
              "retrain --from-log during rotation: rc %d %s" % (r.returncode, r.stderr[-400:]))
finally:
    stop_load.set()
    th.join()
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
check(p.returncode == 0 and "Sanitizer" not in err, "loaded serve: rc %s %s" % (p.returncode, err[-2000:]))
check(len(glob.glob("log5/predictions-*.csv")) <= 4 and len(glob.glob("log5/feedback-*.csv")) <= 4,
      "pruned to 4 files per series under load: %s" % sorted(os.listdir("log5")))
for f in glob.glob("log5/*.csv"):
    parse_log(f)

if fails:
    print("%d check(s) failed" % len(fails))
    sys.exit(1)
print("serve log checks passed; labelled rows %d" % labelled)
