#!/usr/bin/python3
"""webhook_sink.py — a tiny Alertmanager webhook receiver for tests, and the
queries tests run on what it received. Python standard library only.

Owns: the notification log format, one JSON object per line:
    {"t": <unix seconds received>, "path": "/<url path>", "body": <webhook JSON>}
(body is Alertmanager's webhook payload, version 4: receiver, status, alerts[]
with status/labels/annotations/startsAt/endsAt, groupLabels, ...).

  webhook_sink.py serve --log FILE --port-file FILE
      Listen on 127.0.0.1, port chosen by the kernel (written atomically to
      --port-file once listening), append every POST body to --log. Bodies
      over 1 MiB or not JSON get 400 and are logged as {"error": ...}.
  webhook_sink.py wait --log FILE --alert NAME --status firing|resolved
                       [--receiver R] [--label k=v]... [--timeout S] [--since T]
      Exit 0 as soon as a notification holds an alert NAME with that status
      (from receiver R, with those labels, received at or after unix time T),
      printing the seconds waited; exit 1 after the timeout (default 30 s).
  webhook_sink.py count --log FILE --alert NAME [--status S] [--receiver R] [--label k=v]...
      Print how many received alerts match (one per alert per notification).
"""
import argparse
import http.server
import json
import os
import sys
import time

MAX_BODY = 1 << 20


def serve(a):
    log = open(a.log, "a", encoding="utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        def _reply(self, code, text):
            data = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # readiness probe
            self._reply(200, "webhook sink\n")

        def do_POST(self):
            try:
                n = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                n = -1
            rec = {"t": time.time(), "path": self.path}
            if n < 0 or n > MAX_BODY:
                rec["error"] = f"bad Content-Length {n}"
                code = 400
            else:
                raw = self.rfile.read(n)
                try:
                    rec["body"] = json.loads(raw)
                    code = 200
                except ValueError as e:
                    rec["error"] = f"not JSON: {e}"
                    code = 400
            log.write(json.dumps(rec, sort_keys=True) + "\n")
            log.flush()
            self._reply(code, "ok\n" if code == 200 else rec["error"] + "\n")

        def log_message(self, fmt, *args):  # keep the test log quiet
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{srv.server_address[1]}\n")
    os.replace(tmp, a.port_file)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


def parse_labels(pairs):
    out = {}
    for p in pairs or []:
        k, sep, v = p.partition("=")
        if not sep:
            sys.exit(f"webhook_sink: --label wants k=v, got {p!r}")
        out[k] = v
    return out


def matches(a, labels):
    """Yield (record, alert) pairs of the log that match the query."""
    try:
        f = open(a.log, encoding="utf-8")
    except FileNotFoundError:
        return
    with f:
        for line in f:
            if not line.endswith("\n"):
                break  # being written
            rec = json.loads(line)
            body = rec.get("body")
            if not isinstance(body, dict):
                continue
            if a.receiver and body.get("receiver") != a.receiver:
                continue
            if getattr(a, "since", None) and rec["t"] < a.since:
                continue
            for al in body.get("alerts") or []:
                lab = al.get("labels") or {}
                if lab.get("alertname") != a.alert:
                    continue
                if a.status and al.get("status") != a.status:
                    continue
                if any(lab.get(k) != v for k, v in labels.items()):
                    continue
                yield rec, al


def wait(a):
    labels = parse_labels(a.label)
    start = time.monotonic()
    while True:
        for rec, al in matches(a, labels):
            print(f"{time.monotonic() - start:.1f}")
            return 0
        if time.monotonic() - start > a.timeout:
            return 1
        time.sleep(0.1)


def count(a):
    labels = parse_labels(a.label)
    print(sum(1 for _ in matches(a, labels)))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--log", required=True)
    s.add_argument("--port-file", required=True)
    for name in ("wait", "count"):
        w = sub.add_parser(name)
        w.add_argument("--log", required=True)
        w.add_argument("--alert", required=True)
        w.add_argument("--status", choices=("firing", "resolved"), required=(name == "wait"))
        w.add_argument("--receiver")
        w.add_argument("--label", action="append")
        if name == "wait":
            w.add_argument("--timeout", type=float, default=30)
            w.add_argument("--since", type=float)
    a = ap.parse_args()
    return {"serve": serve, "wait": wait, "count": count}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
