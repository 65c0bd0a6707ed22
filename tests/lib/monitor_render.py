#!/usr/bin/python3
"""monitor_render.py — renders deploy/'s Prometheus and Alertmanager configs
for a test run on loopback. Python standard library plus python3-yaml.

Owns: the (only) differences between the committed configs and what tests
run, so a test exercises the real rules, routes, receivers and grouping:
  prometheus.yml   1 s scrape/evaluation interval; the hamf-exporter,
                   hamf-server and hamf-serve jobs point at --exporter /
                   --server / --serve (a job without a target is dropped); Prometheus scrapes itself on
                   --prom-port; alerts go to 127.0.0.1:--am-port; rule files
                   are the rendered copies.
  rules/*.yml      identical, except every `for:` becomes --for (the real
                   durations are covered by deploy/prometheus/tests).
  alertmanager.yml same routing tree and receivers, but group_wait /
                   group_interval 1 s, resolve_timeout 10 s, no SMTP/Slack
                   secrets: every email/Slack receiver becomes a webhook to
                   the sink at --sink/<receiver>, the retrain webhook goes to
                   --retrain-url (default the sink) and, when that is not the
                   sink, to the sink as well; send_resolved everywhere.

Usage: monitor_render.py --deploy DIR --out DIR --prom-port P --am-port P
         --sink URL [--exporter HOST:PORT] [--server HOST:PORT] [--serve HOST:PORT]
         [--retrain-url URL] [--for DURATION]
"""
import argparse
import glob
import os
import sys

import yaml

RETRAIN_PATH = "/api/hamf/v1/alerts"


def dump(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("# rendered by tests/lib/monitor_render.py from deploy/ — do not edit\n")
        yaml.safe_dump(doc, f, sort_keys=False)
    os.replace(tmp, path)


def render_rules(a):
    out = os.path.join(a.out, "rules")
    os.makedirs(out, exist_ok=True)
    files = sorted(glob.glob(os.path.join(a.deploy, "prometheus", "rules", "*.yml")))
    if not files:
        sys.exit("monitor_render: no rule files in deploy/prometheus/rules")
    for f in files:
        with open(f, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
        for g in doc.get("groups", []):
            for r in g.get("rules", []):
                if "alert" in r and "for" in r:
                    r["for"] = a.for_
        dump(os.path.join(out, os.path.basename(f)), doc)
    return os.path.join(out, "*.yml")


def render_prometheus(a, rules_glob):
    with open(os.path.join(a.deploy, "prometheus", "prometheus.yml"), encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    g = doc.setdefault("global", {})
    g["scrape_interval"] = "1s"
    g["scrape_timeout"] = "1s"
    g["evaluation_interval"] = "1s"
    doc["rule_files"] = [rules_glob]
    doc["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{a.am_port}"]}]}]}
    targets = {"hamf-exporter": a.exporter, "hamf-server": a.server, "hamf-serve": a.serve,
               "prometheus": f"127.0.0.1:{a.prom_port}"}
    jobs = []
    for job in doc.get("scrape_configs", []):
        name = job.get("job_name")
        if name not in targets:
            sys.exit(f"monitor_render: unknown job {name!r} in deploy/prometheus/prometheus.yml")
        if not targets[name]:
            continue
        for sc in job.get("static_configs", []):
            sc["targets"] = [targets[name]]
        jobs.append(job)
    doc["scrape_configs"] = jobs
    dump(os.path.join(a.out, "prometheus.yml"), doc)


def shorten_route(route):
    for k, v in (("group_wait", "1s"), ("group_interval", "1s")):
        if k in route:
            route[k] = v
    for child in route.get("routes", []) or []:
        shorten_route(child)


def render_alertmanager(a):
    with open(os.path.join(a.deploy, "alertmanager", "alertmanager.yml"), encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    doc["global"] = {"resolve_timeout": "10s"}
    shorten_route(doc["route"])
    doc["route"]["group_wait"] = "1s"
    doc["route"]["group_interval"] = "1s"
    sink = a.sink.rstrip("/")
    found_retrain = False
    for r in doc.get("receivers", []):
        name = r["name"]
        hooks = []
        for w in r.get("webhook_configs", []) or []:
            if w.get("url", "").endswith(RETRAIN_PATH):
                found_retrain = True
                url = a.retrain_url or f"{sink}/{name}"
                hooks.append({"url": url, "send_resolved": True})
                if url != f"{sink}/{name}":
                    hooks.append({"url": f"{sink}/{name}", "send_resolved": True})
            else:
                hooks.append({"url": f"{sink}/{name}", "send_resolved": True})
        if r.get("email_configs") or r.get("slack_configs") or r.get("pagerduty_configs") \
                or r.get("opsgenie_configs"):
            hooks.append({"url": f"{sink}/{name}", "send_resolved": True})
        for k in list(r):
            if k.endswith("_configs"):
                del r[k]
        if hooks:
            r["webhook_configs"] = hooks
    if not found_retrain:
        sys.exit(f"monitor_render: no webhook to {RETRAIN_PATH} in deploy/alertmanager/alertmanager.yml")
    dump(os.path.join(a.out, "alertmanager.yml"), doc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--deploy", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--prom-port", type=int, required=True)
    ap.add_argument("--am-port", type=int, required=True)
    ap.add_argument("--sink", required=True)
    ap.add_argument("--exporter", default="")
    ap.add_argument("--server", default="")
    ap.add_argument("--serve", default="", help="hamf serve HOST:PORT (job hamf-serve)")
    ap.add_argument("--retrain-url", default="")
    ap.add_argument("--for", dest="for_", default="2s")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    render_prometheus(a, render_rules(a))
    render_alertmanager(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
