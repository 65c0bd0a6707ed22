"""serve_loop.py — the client side of test_serve_loop_e2e.sh: production
traffic for a `hamf serve` scoring server, with and without fed-back labels.

  serve_loop.py send URL DATA.csv --start K --rows N --batch B [--feedback]
      Score rows K..K+N-1 of DATA.csv (its `phishing` column is removed
      from the request and kept as the true label) in requests of B rows
      (dataframe_split JSON); with --feedback, POST /feedback the true
      labels of each answer under its X-Hamf-Request-Id. Prints one JSON
      line: requests, rows, failed, versions (answers per
      X-Hamf-Model-Version), and per version the accuracy (percent) of the
      answers against the true labels, over all of them ("accuracy") and
      over the last 1,000 ("window_accuracy", the server's live window).
      Exit 1 if any request failed.

  serve_loop.py watch URL DATA.csv [--start K] --out FILE
      Until SIGTERM, send one row per request (rows K, K+1, ..., wrapping
      around) over one keep-alive connection and append {"t0", "t1" (Unix seconds), "version", "ok"}
      per answer to FILE (line-buffered JSON lines).
"""
import argparse, csv, http.client, json, signal, sys, time, urllib.parse


def read_rows(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        rows = list(r)
    k = header.index("phishing")
    cols = header[:k] + header[k + 1:]
    data = [row[:k] + row[k + 1:] for row in rows]
    labels = [int(row[k]) for row in rows]
    return cols, data, labels


def cell(x):
    if x == "":
        return None
    try:
        return int(x)
    except ValueError:
        pass
    try:
        return float(x)
    except ValueError:
        return x


class Client:
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def post(self, path, body, ctype="application/json"):
        # no retry: a request that fails is a failed request
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            self.conn.request("POST", path, body=body, headers={"Content-Type": ctype})
            r = self.conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        except Exception:
            self.conn.close()
            self.conn = None
            raise


def send(a):
    cols, data, labels = read_rows(a.data)
    cli = Client(a.url)
    out = {"requests": 0, "rows": 0, "failed": 0, "errors": [], "versions": {}, "accuracy": {},
           "window_accuracy": {}}
    hits = {}  # version -> [1 if the answer was right, ...] in order
    end = a.start + a.rows
    if end > len(data):
        sys.exit("send: %s has %d rows, asked for %d..%d" % (a.data, len(data), a.start, end - 1))
    for i in range(a.start, end, a.batch):
        j = min(i + a.batch, end)
        body = json.dumps({"dataframe_split": {"columns": cols,
                                               "data": [[cell(x) for x in row] for row in data[i:j]]}})
        out["requests"] += 1
        try:
            st, hd, resp = cli.post("/invocations", body)
        except Exception as e:
            st, hd, resp = 0, {}, repr(e).encode()
        if st != 200:
            out["failed"] += 1
            out["errors"].append("HTTP %d: %s" % (st, resp[:200].decode(errors="replace")))
            continue
        ver = hd.get("X-Hamf-Model-Version")
        preds = json.loads(resp)["predictions"]
        out["rows"] += len(preds)
        out["versions"][ver] = out["versions"].get(ver, 0) + len(preds)
        hits.setdefault(ver, []).extend(int(int(p > 0.5) == y) for p, y in zip(preds, labels[i:j]))
        if a.feedback:
            fb = json.dumps({"request_id": hd["X-Hamf-Request-Id"], "labels": labels[i:j]})
            try:
                st, _, resp = cli.post("/feedback", fb)
            except Exception as e:
                st, resp = 0, repr(e).encode()
            if st != 200:
                out["failed"] += 1
                out["errors"].append("feedback HTTP %d: %s" % (st, resp[:200].decode(errors="replace")))
    for v, h in hits.items():
        out["accuracy"][v] = 100.0 * sum(h) / len(h)
        out["window_accuracy"][v] = 100.0 * sum(h[-1000:]) / len(h[-1000:])
    print(json.dumps(out))
    return 1 if out["failed"] else 0


def watch(a):
    cols, data, _ = read_rows(a.data)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    cli = Client(a.url)
    with open(a.out, "a", buffering=1) as f:
        i = a.start
        while not stop:
            row = data[i % len(data)]
            i += 1
            body = json.dumps({"dataframe_split": {"columns": cols, "data": [[cell(x) for x in row]]}})
            t0 = time.time()
            ver, ok = None, False
            try:
                st, hd, _ = cli.post("/invocations", body)
                ver, ok = hd.get("X-Hamf-Model-Version"), st == 200
            except Exception as e:  # a failed request is recorded, not fatal
                ver = "error: %r" % e
            f.write(json.dumps({"t0": t0, "t1": time.time(), "version": ver, "ok": ok}) + "\n")
            time.sleep(0.01)
    return 0


ap = argparse.ArgumentParser()
sub = ap.add_subparsers(dest="cmd", required=True)
s = sub.add_parser("send")
s.add_argument("url")
s.add_argument("data")
s.add_argument("--start", type=int, default=0)
s.add_argument("--rows", type=int, required=True)
s.add_argument("--batch", type=int, default=50)
s.add_argument("--feedback", action="store_true")
w = sub.add_parser("watch")
w.add_argument("url")
w.add_argument("data")
w.add_argument("--start", type=int, default=0)
w.add_argument("--out", required=True)
a = ap.parse_args()
sys.exit(send(a) if a.cmd == "send" else watch(a))
