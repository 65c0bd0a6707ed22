"""serve_protocol.py HAMF MODEL RAW.csv PRED.csv — drives `hamf serve` over
real HTTP: every request format against `hamf predict`'s probabilities
(PRED.csv), labels, the version header, the health routes and MLflow's
error shape for each kind of bad input."""
import csv, json, subprocess, sys, time, re, urllib.request, urllib.error

hamf, model, raw_path, pred_path = sys.argv[1:5]
fails = []

def check(cond, what):
    if not cond:
        fails.append(what)
        print("FAIL:", what)

with open(raw_path, newline="") as f:
    rows = list(csv.DictReader(f))
with open(pred_path, newline="") as f:
    pred = list(csv.DictReader(f))
want = [float(r["probability"]) for r in pred]
want_label = [int(r["prediction"]) for r in pred]
cols = [c for c in rows[0].keys() if c != "phishing"]

def typed(v):
    for t in (int, float):
        try:
            return t(v)
        except ValueError:
            pass
    return v

recs = [{c: typed(r[c]) for c in cols} for r in rows]

proc = subprocess.Popen([hamf, "serve", model, "--port", "0", "--max-body", "200000", "--model-version", "v7"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
try:
    line = proc.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    assert m, "no listening line: " + line
    base = "http://127.0.0.1:%s" % m.group(1)

    def req(path, body=None, ctype=None, method=None):
        data = body.encode() if isinstance(body, str) else body
        r = urllib.request.Request(base + path, data=data, method=method or ("POST" if data is not None else "GET"))
        if ctype:
            r.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(r, timeout=30) as resp:
                return resp.status, resp.headers, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    counts = {"req": 0, "err": 0, "rows": 0, "pos": 0}

    def score(payload, query="", ctype="application/json", want_id=False):
        body = payload if isinstance(payload, str) else json.dumps(payload)
        st, h, b = req("/invocations" + query, body, ctype)
        check(h.get("X-Hamf-Model-Version") == "v7", "version header on %s %s" % (st, b[:80]))
        counts["req"] += 1
        if st != 200:
            counts["err"] += 1
        else:
            p = json.loads(b)["predictions"]
            counts["rows"] += len(p)
            counts["pos"] += sum(1 for x in p if (x["label"] if isinstance(x, dict) else x if query == "?output=label" else x > 0.5))
            check(re.fullmatch(r"\d+", h.get("X-Hamf-Request-Id", "")), "request id header")
        return (st, b, h.get("X-Hamf-Request-Id")) if want_id else (st, b)

    def preds(payload, query="", ctype="application/json", n=None):
        st, b = score(payload, query, ctype)
        check(st == 200, "status 200, got %s: %s" % (st, b[:200]))
        return json.loads(b)["predictions"] if st == 200 else None

    # --- each format gives hamf predict's probabilities, bit for bit
    with open(raw_path) as f:
        raw_text = f.read()
    check(preds(raw_text, ctype="text/csv") == want, "text/csv = hamf predict")
    check(preds(raw_text, ctype="text/csv; charset=utf-8") == want, "text/csv with charset")
    split = {"columns": cols, "data": [[r[c] for c in cols] for r in recs]}
    check(preds({"dataframe_split": split}) == want, "dataframe_split = hamf predict")
    check(preds({"dataframe_records": recs}) == want, "dataframe_records = hamf predict")
    check(preds({"instances": recs}) == want, "instances (records) = hamf predict")
    check(preds({"inputs": {c: [r[c] for r in recs] for c in cols}}) == want, "inputs (columns) = hamf predict")
    # cells of other JSON types read as the CSV text of the same values: numbers
    # as floats (87.0) or as strings ("87"), empty cells as null
    def as_float(v): return float(v) if isinstance(v, int) else v
    def as_text(v): return str(v) if isinstance(v, (int, float)) else v
    def as_null(v): return None if v == "" else v
    for name, conv in (("floats", as_float), ("strings", as_text), ("nulls", as_null)):
        data = [[conv(r[c]) for c in cols] for r in recs]
        check(preds({"dataframe_split": {"columns": cols, "data": data}}) == want, "dataframe_split with %s" % name)
    # a string with quotes, a mixed string/number column and a -0.0: the JSON
    # body scores as the CSV body with the same text
    odd = [dict(r) for r in recs[:40]]
    for i, r in enumerate(odd):
        if i % 3 == 0: r["registrarname"] = 'A "quoted", registrar'
        if i % 5 == 0: r["registrarname"] = 12345
        if i % 7 == 0: r["hostlength"] = -0.0
        if i % 11 == 0: r["urllength"] = 1e20
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in odd:
        w.writerow(["-0.0" if isinstance(r[c], float) and r[c] == 0 else "100000000000000000000.0" if r[c] == 1e20 else r[c] for c in cols])
    want_odd = preds(buf.getvalue(), ctype="text/csv")
    check(want_odd is not None and len(want_odd) == 40, "odd cells as CSV")
    check(preds({"dataframe_records": odd}) == want_odd, "odd cells: JSON = CSV")
    check(preds({"dataframe_split": {"columns": cols, "data": [[r[c] for c in cols] for r in odd]}}) == want_odd,
          "odd cells: dataframe_split = CSV")
    # one row at a time (the single-row path) and a scalar-valued inputs object
    for i in (0, 1, 17, len(recs) - 1):
        check(preds({"dataframe_records": [recs[i]]}) == [want[i]], "single row %d" % i)
        check(preds({"inputs": recs[i]}) == [want[i]], "inputs scalar object row %d" % i)
    # extra columns are dropped silently
    extra = [dict(r, zz_extra="x", zz_num=1.5) for r in recs[:20]]
    check(preds({"dataframe_records": extra}) == want[:20], "extra columns ignored")
    # labels and both, per request
    check(preds({"dataframe_records": recs}, "?output=label") == want_label, "?output=label = prediction column")
    both = preds({"dataframe_records": recs[:5]}, "?output=both")
    check(both == [{"probability": want[i], "label": want_label[i]} for i in range(5)], "?output=both")
    check(preds({"dataframe_records": []}) == [], "no rows -> []")

    # --- health routes
    for p in ("/ping", "/health"):
        st, h, b = req(p)
        check(st == 200 and h.get("X-Hamf-Model-Version") == "v7", p)
    st, h, b = req("/version")
    check(st == 200 and re.fullmatch(r"\d+\.\d+\.\d+", b), "/version bare: %r" % b)

    # --- errors: MLflow's shape, naming the field / column / row
    def err(payload, status, code, needle, query="", ctype="application/json", what=""):
        st, b = score(payload, query, ctype)
        try:
            j = json.loads(b)
        except ValueError:
            j = {}
        ok = st == status and j.get("error_code") == code and needle in j.get("message", "")
        check(ok, "%s: want %s %s ~%r, got %s %s" % (what, status, code, needle, st, b[:300]))

    err("{\"dataframe_split\": ", 400, "BAD_REQUEST", "json", what="malformed JSON")
    err({"dataframe_splitt": split}, 400, "BAD_REQUEST", "dataframe_split", what="unknown field")
    err({"dataframe_split": split, "inputs": recs}, 400, "BAD_REQUEST", "exactly one", what="two fields")
    err({"dataframe_split": {"data": [[1]]}}, 400, "BAD_REQUEST", "columns", what="split without columns")
    bad = {"columns": cols, "data": [split["data"][0], split["data"][1][:-1]]}
    err({"dataframe_split": bad}, 400, "BAD_REQUEST", "row 1", what="short row")
    err({"dataframe_records": [recs[0], 5]}, 400, "BAD_REQUEST", "dataframe_records[1]", what="non-object record")
    nested = [dict(recs[0], urllength=[1, 2])]
    err({"dataframe_records": nested}, 400, "BAD_REQUEST", "'urllength'", what="nested value")
    err({"instances": [[1, 2, 3]]}, 400, "BAD_REQUEST", "named columns", what="tensor input")
    missing = [{c: v for c, v in r.items() if c != "numberofdots"} for r in recs[:3]]
    err({"dataframe_records": missing}, 400, "INVALID_PARAMETER_VALUE", "'numberofdots'", what="missing column")
    missing_raw = [{c: v for c, v in r.items() if c != "alexa_rank"} for r in recs[:3]]
    err({"dataframe_records": missing_raw}, 400, "INVALID_PARAMETER_VALUE", "'alexa_rank'",
        what="missing raw column (through the pipeline)")
    wrong = [dict(r) for r in recs[:3]]
    wrong[2]["numberofdots"] = "many"
    err({"dataframe_records": wrong}, 400, "BAD_REQUEST", "'numberofdots'", what="wrong type")
    err({"dataframe_records": wrong}, 400, "BAD_REQUEST", "row 2", what="wrong type names the row")
    err(raw_text.replace(",", ";", 3), 400, "BAD_REQUEST", "request body", ctype="text/csv", what="ragged CSV")
    err({"dataframe_records": recs[:2]}, 400, "INVALID_PARAMETER_VALUE", "output", query="?output=x",
        what="bad ?output")
    err(raw_text, 415, "BAD_REQUEST", "text/plain", ctype="text/plain", what="415 content type")
    # bodies past --max-body are refused
    big = json.dumps({"dataframe_records": recs * 3})
    check(len(big) > 200000, "big body is big")
    st, h, b = req("/invocations", big, "application/json")
    check(st in (400, 413), "oversized body refused, got %s" % st)
    st, h, b = req("/invocations", "{}", "application/json", method="GET")
    check(st in (404, 405), "GET /invocations refused, got %s" % st)
    # still serving after all of that
    check(preds({"dataframe_records": recs[:3]}) == want[:3], "serves after errors")

    # --- feedback -> live quality under the names the shipped rules read
    n = 300
    st, b, rid = score({"dataframe_records": recs[:n]}, want_id=True)
    check(st == 200, "scored for feedback")
    truth = [int(r["phishing"]) for r in rows[:n]]
    def fb(body):
        st, h, b = req("/feedback", json.dumps(body), "application/json")
        return st, b
    st, b = fb({"request_id": rid, "labels": truth[:-1]})
    check(st == 400 and "INVALID_PARAMETER_VALUE" in b and "300" in b, "feedback row count: %s %s" % (st, b))
    st, b = fb({"request_id": rid, "labels": truth[:-1] + [2]})
    check(st == 400 and "labels[299]" in b, "feedback label 2: %s %s" % (st, b))
    st, b = fb({"request_id": "999999", "labels": truth})
    check(st == 404 and "RESOURCE_DOES_NOT_EXIST" in b, "feedback unknown id: %s %s" % (st, b))
    st, b = fb({"request_id": rid, "labels": truth})
    check(st == 200, "feedback accepted: %s %s" % (st, b))
    st, b = fb({"request_id": rid, "labels": truth})
    check(st == 400 and "already" in b, "feedback twice: %s %s" % (st, b))
    st, h, text = req("/metrics")
    check(st == 200 and h.get("Content-Type", "").startswith("text/plain"), "/metrics")
    metrics = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            metrics[k] = float(v)
    lab = 'model="pipe",model_version="v7"'
    def metric(name, extra=""):
        key = "%s{%s%s}" % (name, lab, extra)
        check(key in metrics, "metric %s present" % key)
        return metrics.get(key)
    check(metric("hamf_serve_requests_total") == counts["req"], "requests_total = %d" % counts["req"])
    check(metric("hamf_serve_errors_total") == counts["err"], "errors_total = %d" % counts["err"])
    check(metric("hamf_serve_rows_total") == counts["rows"], "rows_total = %d" % counts["rows"])
    check(metric("hamf_serve_positive_rows_total") == counts["pos"], "positive rows = %d" % counts["pos"])
    check(abs(metric("hamf_serve_positive_rate") - counts["pos"] / counts["rows"]) < 1e-12, "positive rate")
    check(metric("hamf_serve_score_count") == counts["rows"], "score histogram count")
    check(metric("hamf_serve_request_duration_seconds_count") == counts["req"], "latency histogram count")
    check(metric("hamf_serve_request_duration_seconds_bucket", ',le="+Inf"') == counts["req"], "latency +Inf")
    tp = sum(1 for i in range(n) if want_label[i] and truth[i]); fp = sum(1 for i in range(n) if want_label[i] and not truth[i])
    fn = sum(1 for i in range(n) if not want_label[i] and truth[i]); tn = n - tp - fp - fn
    prec = tp / (tp + fp); rec = tp / (tp + fn); f1 = 2 * prec * rec / (prec + rec)
    ex = ',experiment="serving",source="serving"'
    check(abs(metric("mlflow_model_accuracy", ex) - 100.0 * (tp + tn) / n) < 1e-9, "live accuracy (percent)")
    check(abs(metric("mlflow_model_f1_score", ex) - f1) < 1e-9, "live F1")
    check(abs(metric("mlflow_model_precision", ex) - prec) < 1e-9, "live precision")
    check(abs(metric("mlflow_model_recall", ex) - rec) < 1e-9, "live recall")
    check(metric("hamf_serve_feedback_rows_total") == n, "feedback rows")
    import shutil
    if shutil.which("promtool"):
        pr = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        check(pr.returncode == 0, "promtool check metrics: " + pr.stdout + pr.stderr)
finally:
    proc.terminate()
    try:
        rc = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = -9
    out = proc.stdout.read()
check(rc == 0, "clean exit on SIGTERM, rc=%s %s" % (rc, out[-300:]))
print("%d failures" % len(fails))
sys.exit(1 if fails else 0)
