#!/usr/bin/python3
"""check_grafana.py — static checker for hamf's Grafana provisioning.

Owns: the structural checks `make check` runs on deploy/grafana/ (Grafana is
not in Debian, so it cannot load the files itself in a test):
  * every YAML file under provisioning/ and every dashboard JSON is well formed
    and uses apiVersion 1;
  * data source uids are unique, and every uid a dashboard, a panel, a query,
    a template variable or an alert rule names resolves to one of them;
  * every dashboard provider path exists (${HAMF_DEPLOY_DIR} = the deploy dir)
    and holds dashboards, with unique uids and panel ids;
  * every PromQL query (panels, variables, alert rules) names at least one
    exported metric and no metric that is not exported, and every $variable
    it uses is defined;
  * alert rules: the condition and every expression reference existing
    refIds, dashboardUid/panelId resolve, no `$` in interpolated fields;
  * the thresholds drawn for accuracy and F1 and the ones in Grafana's alert
    rules equal the ones in the Prometheus rules (deploy/prometheus/rules);
  * contact points and the notification policy tree resolve, and no secret
    (Slack webhook URL, passwords) is written literally.

Usage: check_grafana.py [--deploy DIR] [--metrics FILE] [--prometheus URL]
  --deploy      the deploy/ directory (default: ../../deploy from this script)
  --metrics     a Prometheus text exposition (e.g. a scrape of the exporter):
                exported metric names are taken from it instead of the
                built-in list from the Monitoring issue.
  --prometheus  also run every query against this live Prometheus (template
                variables replaced by ".*", $__interval-style ones by 1m): each
                must be accepted (catches PromQL syntax errors Grafana would
                only show at run time).
Exit 0 and "check_grafana: OK ..." when clean; exit 1 listing every problem.
Python standard library plus python3-yaml (Debian) only.
"""
import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

try:
    import yaml
except ImportError:  # pragma: no cover - install-deps.sh installs python3-yaml
    sys.stderr.write("check_grafana: python3-yaml is missing (scripts/install-deps.sh)\n")
    sys.exit(2)

# The metrics hamf's exporter (and `hamf server` /metrics) export: issue 7
# item 1 and issue 8 item 2; and the scoring server `hamf serve`.
EXPORTED = {
    "mlflow_model_accuracy", "mlflow_model_f1_score", "mlflow_model_precision",
    "mlflow_model_recall", "mlflow_model_last_run_timestamp_seconds",
    "hamf_exporter_up", "hamf_exporter_last_success_timestamp_seconds",
    "hamf_exporter_errors_total", "hamf_feature_drift_psi", "hamf_model_live_accuracy",
    # `hamf serve`'s /metrics (issue 14)
    "hamf_serve_requests_total", "hamf_serve_errors_total", "hamf_serve_rows_total",
    "hamf_serve_positive_rate", "hamf_serve_request_duration_seconds_bucket", "hamf_serve_score_bucket",
    "hamf_serve_drift_window_rows", "hamf_serve_log_rows_total", "hamf_serve_log_dropped_total",
}

# PromQL words that are not metric names.
PROMQL_WORDS = {
    # aggregations and their modifiers
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "by", "without", "on", "ignoring", "group_left",
    "group_right", "offset", "bool", "and", "or", "unless", "atan2",
    # functions
    "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max",
    "clamp_min", "day_of_month", "day_of_week", "day_of_year", "days_in_month",
    "delta", "deriv", "exp", "floor", "histogram_quantile", "holt_winters", "hour",
    "idelta", "increase", "irate", "label_join", "label_replace", "ln", "log2",
    "log10", "minute", "month", "predict_linear", "rate", "resets", "round",
    "scalar", "sgn", "sort", "sort_desc", "sqrt", "time", "timestamp", "vector",
    "year", "avg_over_time", "min_over_time", "max_over_time", "sum_over_time",
    "count_over_time", "quantile_over_time", "stddev_over_time", "stdvar_over_time",
    "last_over_time", "present_over_time", "inf", "nan",
}
GRAFANA_BUILTIN_VARS = {"__interval", "__interval_ms", "__rate_interval", "__range",
                        "__range_s", "__range_ms", "__dashboard", "__from", "__to"}
EXPR_DS_UID = "__expr__"
DURATION_RE = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
ENV_REF_RE = re.compile(r"^\$(\{[A-Z_][A-Z0-9_]*\}|[A-Z_][A-Z0-9_]*)$")
GRAFANA_MATCH_OPS = {"=", "!=", "=~", "!~"}


class Checker:
    def __init__(self, deploy, exported):
        self.deploy = os.path.abspath(deploy)
        self.exported = exported
        self.errors = []
        self.ds_uids = {}
        self.dashboards = {}   # uid -> (file, set of panel ids)
        self.counts = {"datasources": 0, "dashboards": 0, "panels": 0, "queries": 0,
                       "alert_rules": 0, "contact_points": 0}
        self.prom_thresholds = {}  # metric -> threshold from the Prometheus rules
        self.queries = []          # (where, expr) of every PromQL query seen

    def err(self, where, msg):
        self.errors.append(f"{os.path.relpath(where, self.deploy)}: {msg}"
                           if os.path.isabs(where) else f"{where}: {msg}")

    # ---- loading ---------------------------------------------------------
    def load_yaml(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                doc = yaml.safe_load(f)
        except (OSError, yaml.YAMLError) as e:
            self.err(path, f"not well-formed YAML: {e}".replace("\n", " "))
            return None
        if not isinstance(doc, dict):
            self.err(path, "top level is not a mapping")
            return None
        return doc

    def load_json(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            self.err(path, f"not well-formed JSON: {e}")
            return None

    def provisioning_files(self, kind):
        d = os.path.join(self.deploy, "grafana", "provisioning", kind)
        if not os.path.isdir(d):
            self.err(d, "missing directory")
            return []
        files = sorted(os.path.join(d, n) for n in os.listdir(d)
                       if n.endswith((".yml", ".yaml")))
        if not files:
            self.err(d, "no provisioning file")
        out = []
        for p in files:
            doc = self.load_yaml(p)
            if doc is None:
                continue
            if doc.get("apiVersion") != 1:
                self.err(p, f"apiVersion must be 1, is {doc.get('apiVersion')!r}")
            out.append((p, doc))
        return out

    # ---- PromQL ----------------------------------------------------------
    def promql_names(self, expr):
        """Metric names and $variables used by a PromQL expression."""
        variables = set(re.findall(r"\$\{?(\w+)", expr))
        s = re.sub(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])*\'|`[^`]*`', '""', expr)
        s = re.sub(r"\{[^{}]*\}", " ", s)          # label matchers
        s = re.sub(r"\[[^\]]*\]", " ", s)          # range / subquery
        s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
        s = re.sub(r"\$\{?\w+(:\w+)?\}?", " ", s)  # Grafana variables
        s = re.sub(r"\b\d+(\.\d+)?([eE][-+]?\d+)?(ms|s|m|h|d|w|y)?\b", " ", s)
        names = set()
        for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", s):
            w = m.group(0)
            if w.lower() in PROMQL_WORDS:
                continue
            names.add(w)
        return names, variables

    def check_query(self, where, expr, defined_vars):
        self.counts["queries"] += 1
        if not isinstance(expr, str) or not expr.strip():
            self.err(where, "empty query")
            return set()
        self.queries.append((where, expr))
        names, variables = self.promql_names(expr)
        unknown = sorted(n for n in names if n not in self.exported)
        if unknown:
            self.err(where, f"query names metric(s) the exporter does not export: {', '.join(unknown)} (in {expr!r})")
        if not names & self.exported:
            self.err(where, f"query names no exported metric: {expr!r}")
        for v in sorted(variables):
            if v not in defined_vars and v not in GRAFANA_BUILTIN_VARS:
                self.err(where, f"query uses undefined variable ${v}")
        return names

    def ds_ref(self, where, ds, allow_expr=False):
        """Check a datasource reference (dict with uid, or plain uid string)."""
        uid = ds.get("uid") if isinstance(ds, dict) else ds
        if allow_expr and uid == EXPR_DS_UID:
            return uid
        if uid not in self.ds_uids:
            self.err(where, f"datasource uid {uid!r} does not resolve to a provisioned data source "
                            f"(known: {', '.join(sorted(self.ds_uids)) or 'none'})")
        return uid

    # ---- Prometheus rules (source of truth for thresholds) ---------------
    def load_prom_thresholds(self):
        d = os.path.join(self.deploy, "prometheus", "rules")
        for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if not n.endswith((".yml", ".yaml")):
                continue
            doc = self.load_yaml(os.path.join(d, n))
            for g in (doc or {}).get("groups", []) or []:
                for r in g.get("rules", []) or []:
                    m = re.fullmatch(r"\s*([a-z_:][a-z0-9_:]*)\s*<\s*([0-9.]+)\s*", str(r.get("expr", "")))
                    if r.get("alert") in ("ModelAccuracyLow", "ModelF1Low") and m:
                        self.prom_thresholds[m.group(1)] = float(m.group(2))
        for metric in ("mlflow_model_accuracy", "mlflow_model_f1_score"):
            if metric not in self.prom_thresholds:
                self.err(d, f"no `{metric} < N` rule (ModelAccuracyLow / ModelF1Low) found")

    # ---- data sources ----------------------------------------------------
    def check_datasources(self):
        for path, doc in self.provisioning_files("datasources"):
            for i, ds in enumerate(doc.get("datasources") or []):
                where = f"{path}: datasources[{i}]"
                for k in ("name", "type", "uid", "url"):
                    if not ds.get(k):
                        self.err(where, f"missing {k}")
                uid = ds.get("uid")
                if uid in self.ds_uids:
                    self.err(where, f"duplicate uid {uid!r}")
                elif uid:
                    self.ds_uids[uid] = ds.get("type")
                    self.counts["datasources"] += 1
                if "secureJsonData" in ds:
                    for k, v in (ds["secureJsonData"] or {}).items():
                        if not ENV_REF_RE.match(str(v)):
                            self.err(where, f"secureJsonData.{k} is a literal secret; use $ENV_VAR")
        if not self.ds_uids:
            self.err("grafana/provisioning/datasources", "no data source provisioned")

    # ---- dashboards ------------------------------------------------------
    def check_dashboard_providers(self):
        for path, doc in self.provisioning_files("dashboards"):
            providers = doc.get("providers") or []
            if not providers:
                self.err(path, "no providers")
            for i, p in enumerate(providers):
                where = f"{path}: providers[{i}]"
                if p.get("type", "file") != "file":
                    self.err(where, "only file providers are supported")
                raw = ((p.get("options") or {}).get("path")) or ""
                if not raw:
                    self.err(where, "missing options.path")
                    continue
                resolved = re.sub(r"\$\{?HAMF_DEPLOY_DIR\}?", self.deploy, raw)
                if "$" in resolved:
                    self.err(where, f"options.path {raw!r} uses a variable other than HAMF_DEPLOY_DIR")
                    continue
                if not os.path.isdir(resolved):
                    self.err(where, f"options.path {raw!r} -> {resolved} is not a directory")
                    continue
                files = sorted(n for n in os.listdir(resolved) if n.endswith(".json"))
                if not files:
                    self.err(where, f"no dashboard JSON in {resolved}")
                for n in files:
                    self.check_dashboard(os.path.join(resolved, n))

    def walk_panels(self, panels):
        for p in panels or []:
            yield p
            yield from self.walk_panels(p.get("panels"))  # collapsed rows

    def check_dashboard(self, path):
        d = self.load_json(path)
        if d is None:
            return
        if not isinstance(d, dict):
            self.err(path, "top level is not an object")
            return
        uid = d.get("uid")
        if not uid or not d.get("title"):
            self.err(path, "dashboard needs a uid and a title")
        if uid in self.dashboards:
            self.err(path, f"duplicate dashboard uid {uid!r}")
        self.counts["dashboards"] += 1
        variables = set()
        for i, v in enumerate((d.get("templating") or {}).get("list") or []):
            where = f"{path}: templating[{i}] ({v.get('name')})"
            if not v.get("name"):
                self.err(where, "variable without a name")
                continue
            variables.add(v["name"])
        for i, v in enumerate((d.get("templating") or {}).get("list") or []):
            if v.get("type") != "query":
                continue
            where = f"{path}: templating[{i}] ({v.get('name')})"
            self.ds_ref(where, v.get("datasource"))
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", q or "")
            if not m:
                self.err(where, f"expected label_values(<query>, <label>), got {q!r}")
                continue
            self.check_query(where, m.group(1), variables - {v["name"]})
        ids = set()
        panels = list(self.walk_panels(d.get("panels")))
        if not any(p.get("type") != "row" for p in panels):
            self.err(path, "dashboard has no panels")
        for p in panels:
            where = f"{path}: panel {p.get('id')} {p.get('title')!r}"
            pid = p.get("id")
            if not isinstance(pid, int):
                self.err(where, "panel id must be an integer")
            elif pid in ids:
                self.err(where, f"duplicate panel id {pid}")
            ids.add(pid)
            if p.get("type") == "row":
                continue
            self.counts["panels"] += 1
            if p.get("datasource") is None:
                self.err(where, "panel has no datasource")
            else:
                self.ds_ref(where, p.get("datasource"))
            targets = p.get("targets") or []
            if not targets:
                self.err(where, "panel has no queries")
            refids = set()
            used = set()
            for t in targets:
                tw = f"{where} query {t.get('refId')}"
                if t.get("refId") in refids:
                    self.err(tw, "duplicate refId")
                refids.add(t.get("refId"))
                if "datasource" in t:
                    self.ds_ref(tw, t["datasource"])
                used |= self.check_query(tw, t.get("expr"), variables)
            self.check_panel_thresholds(where, p, used)
        if uid:
            self.dashboards[uid] = (path, ids)

    def check_panel_thresholds(self, where, panel, metrics):
        defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
        steps = ((defaults.get("thresholds") or {}).get("steps")) or []
        values = {s.get("value") for s in steps if isinstance(s, dict)}
        for metric, limit in self.prom_thresholds.items():
            if metric not in metrics:
                continue
            if limit not in values:
                self.err(where, f"shows {metric} but does not draw the alert threshold {limit:g} "
                                f"(threshold steps: {sorted(v for v in values if v is not None)})")
            if panel.get("type") == "timeseries":
                mode = (((defaults.get("custom") or {}).get("thresholdsStyle")) or {}).get("mode", "off")
                if mode == "off":
                    self.err(where, f"time series of {metric} hides its threshold (thresholdsStyle off)")

    # ---- alerting --------------------------------------------------------
    def check_alerting(self):
        rules, contact_points, policies = [], {}, []
        for path, doc in self.provisioning_files("alerting"):
            known = {"apiVersion", "groups", "contactPoints", "policies", "templates",
                     "muteTimes", "deleteRules", "deleteContactPoints", "resetPolicies",
                     "deleteTemplates", "deleteMuteTimes"}
            for k in doc:
                if k not in known:
                    self.err(path, f"unknown top-level key {k!r}")
            for g in doc.get("groups") or []:
                rules.append((path, g))
            for i, cp in enumerate(doc.get("contactPoints") or []):
                self.check_contact_point(f"{path}: contactPoints[{i}]", cp, contact_points)
            for i, pol in enumerate(doc.get("policies") or []):
                policies.append((f"{path}: policies[{i}]", pol))
        titles = {}
        rule_uids = set()
        for path, g in rules:
            gw = f"{path}: group {g.get('name')!r}"
            for k in ("name", "folder", "interval"):
                if not g.get(k):
                    self.err(gw, f"missing {k}")
            if g.get("interval") and not DURATION_RE.match(str(g["interval"])):
                self.err(gw, f"interval {g['interval']!r} is not a duration")
            for r in g.get("rules") or []:
                self.check_rule(f"{gw} rule {r.get('title')!r}", r, rule_uids, titles)
        for name in ("ModelAccuracyLow", "ModelF1Low"):
            if name not in titles:
                self.err("grafana/provisioning/alerting", f"no Grafana alert rule titled {name}")
        if not contact_points:
            self.err("grafana/provisioning/alerting", "no contact points")
        types = {t for cp in contact_points.values() for t in cp}
        for t in ("email", "slack"):
            if t not in types:
                self.err("grafana/provisioning/alerting", f"no {t} contact point")
        if not policies:
            self.err("grafana/provisioning/alerting", "no notification policy")
        for where, pol in policies:
            self.check_route(where, pol, contact_points, root=True)

    def check_rule(self, where, r, rule_uids, titles):
        self.counts["alert_rules"] += 1
        for k in ("uid", "title", "condition", "data", "for"):
            if not r.get(k):
                self.err(where, f"missing {k}")
        if r.get("uid") in rule_uids:
            self.err(where, f"duplicate rule uid {r.get('uid')!r}")
        rule_uids.add(r.get("uid"))
        titles[r.get("title")] = r
        if r.get("for") and not DURATION_RE.match(str(r["for"])):
            self.err(where, f"for {r['for']!r} is not a duration")
        for k in ("noDataState",):
            if r.get(k) and r[k] not in ("NoData", "Alerting", "OK", "KeepLast"):
                self.err(where, f"{k} {r[k]!r} invalid")
        if r.get("execErrState") and r["execErrState"] not in ("Error", "Alerting", "OK", "KeepLast"):
            self.err(where, f"execErrState {r['execErrState']!r} invalid")
        for k, v in (r.get("labels") or {}).items():
            if "$" in str(v):
                self.err(where, f"label {k} contains '$', which Grafana provisioning interpolates as an env var")
        data = r.get("data") or []
        refids = [q.get("refId") for q in data]
        dup = {x for x in refids if refids.count(x) > 1}
        if dup:
            self.err(where, f"duplicate refId(s) {sorted(dup)}")
        refset = set(refids)
        if r.get("condition") and r["condition"] not in refset:
            self.err(where, f"condition {r['condition']!r} is not one of the rule's refIds {sorted(refset)}")
        metrics = set()
        thresholds = []
        for q in data:
            qw = f"{where} data {q.get('refId')}"
            model = q.get("model") or {}
            if model.get("refId", q.get("refId")) != q.get("refId"):
                self.err(qw, f"model.refId {model.get('refId')!r} differs from refId")
            uid = self.ds_ref(qw, q.get("datasourceUid"), allow_expr=True)
            if uid == EXPR_DS_UID:
                typ = model.get("type")
                if typ in ("reduce", "threshold", "resample"):
                    refs = {str(model.get("expression", "")).lstrip("$")}
                elif typ == "math":
                    refs = set(re.findall(r"\$\{?(\w+)", str(model.get("expression", ""))))
                elif typ == "classic_conditions":
                    refs = {c.get("query", {}).get("params", [None])[0] for c in model.get("conditions") or []}
                else:
                    self.err(qw, f"unknown expression type {typ!r}")
                    refs = set()
                for ref in refs:
                    if ref not in refset:
                        self.err(qw, f"expression references refId {ref!r}, which the rule does not define")
                    if ref == q.get("refId"):
                        self.err(qw, "expression references itself")
                if typ == "threshold":
                    for c in model.get("conditions") or []:
                        ev = c.get("evaluator") or {}
                        thresholds.append((ev.get("type"), (ev.get("params") or [None])[0]))
            else:
                if "$" in str(model.get("expr", "")):
                    self.err(qw, "query contains '$', which Grafana provisioning interpolates as an env var")
                metrics |= self.check_query(qw, model.get("expr"), set())
        # same threshold as the Prometheus rule for the metric it queries
        for metric, limit in self.prom_thresholds.items():
            if metric in metrics and ("lt", limit) not in thresholds:
                self.err(where, f"queries {metric} but its threshold {thresholds} is not ('lt', {limit:g}) "
                                f"as in deploy/prometheus/rules")
        duid = r.get("dashboardUid")
        if duid is not None:
            if duid not in self.dashboards:
                self.err(where, f"dashboardUid {duid!r} does not resolve")
            elif r.get("panelId") not in self.dashboards[duid][1]:
                self.err(where, f"panelId {r.get('panelId')!r} is not a panel of dashboard {duid!r}")

    def check_contact_point(self, where, cp, contact_points):
        name = cp.get("name")
        if not name:
            self.err(where, "contact point without a name")
            return
        if name in contact_points:
            self.err(where, f"duplicate contact point {name!r}")
        types = contact_points.setdefault(name, set())
        self.counts["contact_points"] += 1
        for i, rc in enumerate(cp.get("receivers") or []):
            rw = f"{where} receivers[{i}]"
            typ = rc.get("type")
            st = rc.get("settings") or {}
            if not rc.get("uid") or not typ:
                self.err(rw, "receiver needs uid and type")
            types.add(typ)
            if typ == "email" and not st.get("addresses"):
                self.err(rw, "email receiver without addresses")
            if typ == "slack":
                if not st.get("url") and not (st.get("token") and st.get("recipient")):
                    self.err(rw, "slack receiver needs url, or token and recipient")
                for k in ("url", "token"):
                    if st.get(k) and not ENV_REF_RE.match(str(st[k])):
                        self.err(rw, f"slack {k} is a literal secret; use $ENV_VAR")
            for k in ("password", "basicAuthPassword", "authorization_credentials", "apiKey"):
                if st.get(k) and not ENV_REF_RE.match(str(st[k])):
                    self.err(rw, f"{k} is a literal secret; use $ENV_VAR")
        if not types:
            self.err(where, "contact point without receivers")

    def check_route(self, where, route, contact_points, root=False):
        rcv = route.get("receiver")
        if root and not rcv:
            self.err(where, "root policy needs a receiver")
        if rcv and rcv not in contact_points:
            self.err(where, f"receiver {rcv!r} is not a provisioned contact point")
        if root and (route.get("matchers") or route.get("object_matchers")):
            self.err(where, "root policy cannot have matchers")
        for m in route.get("object_matchers") or []:
            if not (isinstance(m, list) and len(m) == 3 and m[1] in GRAFANA_MATCH_OPS):
                self.err(where, f"bad object_matcher {m!r}")
            elif m[1] in ("=~", "!~"):
                try:
                    re.compile(m[2])
                except re.error as e:
                    self.err(where, f"bad regex in matcher {m!r}: {e}")
        for k in ("group_wait", "group_interval", "repeat_interval"):
            if route.get(k) and not DURATION_RE.match(str(route[k])):
                self.err(where, f"{k} {route[k]!r} is not a duration")
        for i, child in enumerate(route.get("routes") or []):
            self.check_route(f"{where}.routes[{i}]", child, contact_points)

    def run(self):
        self.load_prom_thresholds()
        self.check_datasources()
        self.check_dashboard_providers()
        self.check_alerting()
        return not self.errors

    def run_live(self, base):
        """Send every query to a live Prometheus; return {where: series count}."""
        results = {}
        for where, expr in self.queries:
            q = re.sub(r"\$\{?__\w+\}?", "1m", expr)
            q = re.sub(r"\$\{?\w+(:\w+)?\}?", ".*", q)
            url = base.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    ans = json.load(r)
            except urllib.error.HTTPError as e:
                try:
                    ans = json.load(e)
                except ValueError:
                    ans = {"status": "error", "error": f"HTTP {e.code}"}
            except (OSError, ValueError) as e:
                self.err(where, f"Prometheus at {base} unreachable: {e}")
                return results
            if ans.get("status") != "success":
                self.err(where, f"Prometheus rejects {q!r}: {ans.get('error')}")
                continue
            results[where] = len(ans["data"]["result"]) if ans["data"].get("resultType") == "vector" else 1
        return results


def metrics_from_exposition(path):
    names = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"#\s*TYPE\s+(\S+)\s", line) or re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)[{\s]", line)
            if m:
                names.add(m.group(1))
    return names


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--deploy", default=os.path.join(here, "..", "..", "deploy"))
    ap.add_argument("--metrics", help="Prometheus text exposition to take exported metric names from")
    ap.add_argument("--prometheus", help="base URL of a live Prometheus to run every query on")
    a = ap.parse_args()
    exported = metrics_from_exposition(a.metrics) if a.metrics else set(EXPORTED)
    c = Checker(a.deploy, exported)
    ok = c.run()
    live = None
    if ok and a.prometheus:
        live = c.run_live(a.prometheus)
        ok = not c.errors
    for e in c.errors:
        print(f"check_grafana: {e}", file=sys.stderr)
    if not ok:
        print(f"check_grafana: FAILED ({len(c.errors)} problem(s))", file=sys.stderr)
        return 1
    n = c.counts
    print(f"check_grafana: OK ({n['datasources']} data source(s), {n['dashboards']} dashboard(s), "
          f"{n['panels']} panels, {n['queries']} queries, {n['alert_rules']} alert rules, "
          f"{n['contact_points']} contact points)")
    if live is not None:
        empty = sum(1 for v in live.values() if v == 0)
        print(f"check_grafana: live: {len(live)} queries accepted by {a.prometheus}, "
              f"{len(live) - empty} returned data, {empty} empty")
    return 0


if __name__ == "__main__":
    sys.exit(main())
