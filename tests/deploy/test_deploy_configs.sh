#!/usr/bin/env bash
# test_deploy_configs.sh — validates everything under deploy/ with the real
# tools: `promtool check config`, `promtool check rules`, `promtool test
# rules`, `amtool check-config`, `amtool config routes test` (who receives
# which alert), a lint of the rules (severity/summary/description, a firing
# and a not-firing unit test per alert) and of secrets, and
# tests/deploy/check_grafana.py. Every check is also run on a deliberately
# broken copy, which it must reject: a validator that accepts anything fails
# this test. Runs in $T (tests/run.sh gives each test its own temp dir).
set -euo pipefail
ROOT=${HAMF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
T=${T:-$(mktemp -d)}
D="$ROOT/deploy"
PY=/usr/bin/python3
CHECKER="$ROOT/tests/deploy/check_grafana.py"
fails=0
ok()   { echo "ok   $*"; }
bad()  { echo "FAIL $*"; fails=$((fails+1)); }
# expect_ok NAME CMD... / expect_fail NAME PATTERN CMD...: the command must
# succeed / must fail with PATTERN (grep -E) in its output.
expect_ok() {
  local name=$1; shift
  if out=$("$@" 2>&1); then ok "$name"; else bad "$name"; echo "$out" | sed 's/^/    | /'; fi
}
expect_fail() {
  local name=$1 pat=$2; shift 2
  if out=$("$@" 2>&1); then
    bad "$name (accepted a broken input)"; echo "$out" | sed 's/^/    | /'
  elif ! grep -Eq -- "$pat" <<<"$out"; then
    bad "$name (failed, but without /$pat/)"; echo "$out" | sed 's/^/    | /'
  else
    ok "$name (rejected: $(grep -Em1 -- "$pat" <<<"$out" | cut -c1-110))"
  fi
}
# fresh_copy DIR: a private copy of deploy/ to break.
fresh_copy() { rm -rf "$1"; cp -r "$D" "$1"; }
# sub FILE PY_EXPR: rewrite FILE's text with a Python expression over `s`
# (fails if the text did not change, so a stale mutation cannot pass).
sub() {
  "$PY" - "$1" "$2" <<'EOF'
import sys
p, e = sys.argv[1], sys.argv[2]
s = open(p).read()
n = eval(e, {"s": s})
if n == s:
    sys.exit("sub: mutation did not change " + p)
open(p, "w").write(n)
EOF
}

for tool in promtool amtool; do
  command -v $tool >/dev/null || { echo "missing $tool (scripts/install-deps.sh)"; exit 1; }
done

echo "== Prometheus"
expect_ok "promtool check config" promtool check config "$D/prometheus/prometheus.yml"
expect_ok "promtool check rules" promtool check rules "$D"/prometheus/rules/*.yml
expect_ok "promtool test rules" promtool test rules "$D"/prometheus/tests/*.yml

B="$T/broken"
fresh_copy "$B"
sub "$B/prometheus/rules/hamf-alerts.yml" "s.replace('expr: mlflow_model_accuracy < 98', 'expr: mlflow_model_accuracy < < 98')"
expect_fail "promtool check rules: bad PromQL" "parse error|unexpected" promtool check rules "$B/prometheus/rules/hamf-alerts.yml"
expect_fail "promtool check config: rule file with bad PromQL" "parse error|unexpected" promtool check config "$B/prometheus/prometheus.yml"

fresh_copy "$B"
sub "$B/prometheus/rules/hamf-alerts.yml" "s.replace('mlflow_model_accuracy < 98', 'mlflow_model_accuracy < 97')"
expect_fail "promtool test rules: threshold 97 instead of 98" "FAILED|exp:" promtool test rules "$B"/prometheus/tests/*.yml
fresh_copy "$B"
sub "$B/prometheus/rules/hamf-alerts.yml" "s.replace('hamf_feature_drift_psi{source!=\"serving\"} > 0.25\n        for: 10m', 'hamf_feature_drift_psi{source!=\"serving\"} > 0.25\n        for: 15m')"
expect_fail "promtool test rules: FeatureDriftHigh for 15m" "FAILED|exp:" promtool test rules "$B"/prometheus/tests/*.yml
# the serving rules (deploy/prometheus/tests/hamf-serving.test.yml)
for m in "'rate(hamf_serve_requests_total[5m])) > 0.05', 'rate(hamf_serve_requests_total[5m])) > 0.03'@@error rate 3 % instead of 5 %" \
         "'(rate(hamf_serve_request_duration_seconds_bucket[5m]))) > 0.1', '(rate(hamf_serve_request_duration_seconds_bucket[5m]))) > 0.25'@@latency 250 ms instead of 100 ms" \
         "'histogram_quantile(0.99,', 'histogram_quantile(0.9,'@@latency p90 instead of p99" \
         "'hamf_serve_drift_window_rows >= 500', 'hamf_serve_drift_window_rows >= 50'@@drift window guard 50 rows" \
         "'hamf_feature_drift_psi{source!=\"serving\"} > 0.25', 'hamf_feature_drift_psi > 0.25'@@FeatureDriftHigh also on serving PSI" \
         "'hamf-exporter|hamf-server|hamf-serve', 'hamf-exporter|hamf-server'@@ExporterDown ignores hamf-serve"; do
  fresh_copy "$B"
  sub "$B/prometheus/rules/hamf-alerts.yml" "s.replace(${m%%@@*})"
  expect_fail "promtool test rules: ${m##*@@}" "FAILED|exp:" promtool test rules "$B"/prometheus/tests/*.yml
done

fresh_copy "$B"
sub "$B/prometheus/prometheus.yml" "s.replace('scrape_interval: 15s', 'scrape_intervall: 15s')"
expect_fail "promtool check config: unknown field" "not found|unmarshal" promtool check config "$B/prometheus/prometheus.yml"

# Lint: every rule has severity + summary + description, and every alert has
# a firing and a not-firing case in the unit tests.
lint_rules() { # DEPLOY_DIR
  "$PY" - "$1" <<'EOF'
import sys, glob, yaml
d = sys.argv[1]
errs = []
alerts = set()
for f in glob.glob(d + "/prometheus/rules/*.yml"):
    for g in yaml.safe_load(open(f))["groups"]:
        for r in g["rules"]:
            if "alert" not in r:
                continue
            alerts.add(r["alert"])
            if r.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
                errs.append(f"{r['alert']}: severity label missing or not critical|warning|info")
            for a in ("summary", "description"):
                if not r.get("annotations", {}).get(a):
                    errs.append(f"{r['alert']}: annotation {a} missing")
            if "for" not in r:
                errs.append(f"{r['alert']}: no for: duration")
fires, quiet = set(), set()
for f in glob.glob(d + "/prometheus/tests/*.yml"):
    for t in yaml.safe_load(open(f))["tests"]:
        for c in t.get("alert_rule_test", []):
            (fires if c.get("exp_alerts") else quiet).add(c["alertname"])
for a in sorted(alerts):
    if a not in fires: errs.append(f"{a}: no unit test where it fires")
    if a not in quiet: errs.append(f"{a}: no unit test where it does not fire")
for want in ("ModelAccuracyLow", "ModelF1Low", "ModelMetricsStale", "ExporterDown", "FeatureDriftHigh",
             "ServingErrorRateHigh", "ServingLatencyHigh", "ServingFeatureDriftHigh"):
    if want not in alerts: errs.append(f"{want}: rule missing")
for e in errs: print("lint:", e)
sys.exit(1 if errs else 0)
EOF
}
expect_ok "lint rules: severity/summary/description, tests fire and stay quiet" lint_rules "$D"
fresh_copy "$B"
sub "$B/prometheus/rules/hamf-alerts.yml" "s.replace('          severity: warning\n          component: data\n', '          component: data\n')"
expect_fail "lint rules: FeatureDriftHigh without severity" "FeatureDriftHigh: severity" lint_rules "$B"
fresh_copy "$B"
"$PY" - "$B/prometheus/tests/hamf-alerts.test.yml" <<'EOF'
import sys, yaml
p = sys.argv[1]; doc = yaml.safe_load(open(p))
for t in doc["tests"]:
    t["alert_rule_test"] = [c for c in t["alert_rule_test"] if not (c["alertname"] == "ExporterDown" and not c["exp_alerts"])]
yaml.safe_dump(doc, open(p, "w"))
EOF
expect_fail "lint rules: ExporterDown without a not-firing test" "ExporterDown: no unit test where it does not fire" lint_rules "$B"

echo "== Alertmanager"
AM="$D/alertmanager/alertmanager.yml"
expect_ok "amtool check-config" amtool check-config "$AM"
# Who gets what: retraining alerts reach hamf server AND Slack AND email.
routes() { # CONFIG RECEIVERS LABELS...
  local cfg=$1 want=$2; shift 2
  amtool config routes test --config.file="$cfg" --verify.receivers="$want" "$@"
}
for a in ModelAccuracyLow ModelF1Low FeatureDriftHigh ServingFeatureDriftHigh; do
  expect_ok "route $a -> hamf-retrain,ml-slack,ml-email" routes "$AM" hamf-retrain,ml-slack,ml-email alertname=$a severity=critical model=M
done
for a in ExporterDown ModelMetricsStale ServingErrorRateHigh ServingLatencyHigh; do
  expect_ok "route $a -> ml-slack,ml-email" routes "$AM" ml-slack,ml-email alertname=$a severity=warning
done
grep -q 'url: .http://127.0.0.1:5000/api/hamf/v1/alerts' "$AM" && ok "retrain webhook points at hamf server" \
  || bad "retrain webhook is not http://127.0.0.1:5000/api/hamf/v1/alerts"

fresh_copy "$B"
sub "$B/alertmanager/alertmanager.yml" "s.replace('  - name: ml-slack\n', '  - name: ml-slak\n')"
expect_fail "amtool check-config: route to an undefined receiver" "undefined receiver" amtool check-config "$B/alertmanager/alertmanager.yml"
fresh_copy "$B"
sub "$B/alertmanager/alertmanager.yml" "s.replace('      repeat_interval: 1h\n      continue: true\n', '      repeat_interval: 1h\n')"
expect_fail "routes: retrain route without continue starves Slack/email" "did not match|Expected" \
  routes "$B/alertmanager/alertmanager.yml" hamf-retrain,ml-slack,ml-email alertname=ModelAccuracyLow

# Secrets: never literal in the committed config.
lint_secrets() { # ALERTMANAGER_YML
  "$PY" - "$1" <<'EOF'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
errs = []
g = c.get("global", {})
for k in ("smtp_auth_password", "smtp_auth_secret", "slack_api_url", "opsgenie_api_key", "pagerduty_url"):
    if k in g: errs.append(f"global.{k} is a literal secret (use {k}_file or the *_file form)")
for r in c.get("receivers", []):
    for e in r.get("email_configs", []) or []:
        if "auth_password" in e or "auth_secret" in e: errs.append(f"{r['name']}: literal email password")
    for s in r.get("slack_configs", []) or []:
        if "api_url" in s: errs.append(f"{r['name']}: literal slack api_url (use api_url_file)")
    for w in r.get("webhook_configs", []) or []:
        hc = w.get("http_config", {}) or {}
        if "password" in (hc.get("basic_auth") or {}) or "credentials" in (hc.get("authorization") or {}):
            errs.append(f"{r['name']}: literal webhook credential (use *_file)")
if not g.get("smtp_auth_password_file"): errs.append("global.smtp_auth_password_file missing")
if not g.get("slack_api_url_file"): errs.append("global.slack_api_url_file missing")
for e in errs: print("secrets:", e)
sys.exit(1 if errs else 0)
EOF
}
expect_ok "no literal secrets in alertmanager.yml" lint_secrets "$AM"
fresh_copy "$B"
sub "$B/alertmanager/alertmanager.yml" "s.replace(\"  smtp_auth_password_file: '/etc/hamf/secrets/smtp_password'\n\", \"  smtp_auth_password: 'hunter2'\n\")"
expect_ok "amtool accepts the literal-password copy (so the lint is what catches it)" amtool check-config "$B/alertmanager/alertmanager.yml"
expect_fail "lint secrets: literal SMTP password" "smtp_auth_password is a literal secret" lint_secrets "$B/alertmanager/alertmanager.yml"

echo "== Grafana"
expect_ok "check_grafana.py" "$PY" "$CHECKER" --deploy "$D"
# grafana_break NAME PATTERN FILE PY_EXPR: break one thing, the checker must say so.
grafana_break() {
  local name=$1 pat=$2 file=$3 expr=$4
  fresh_copy "$B"
  sub "$B/$file" "$expr"
  expect_fail "check_grafana: $name" "$pat" "$PY" "$CHECKER" --deploy "$B"
}
DASH=grafana/dashboards/hamf-model-quality.json
RULES=grafana/provisioning/alerting/hamf-rules.yml
# dash_break NAME PATTERN PY_STMT: the same, editing the dashboard as JSON (`d`).
dash_break() {
  local name=$1 pat=$2 stmt=$3
  fresh_copy "$B"
  "$PY" - "$B/$DASH" "$stmt" <<'EOF'
import json, sys
p, stmt = sys.argv[1], sys.argv[2]
d = json.load(open(p))
exec(stmt, {"d": d})
json.dump(d, open(p, "w"), indent=2)
EOF
  expect_fail "check_grafana: $name" "$pat" "$PY" "$CHECKER" --deploy "$B"
}
dash_break "panel queries a metric nobody exports" "panel 5 .*does not export: mlflow_model_accuracyy" \
  "t = d['panels'][4]['targets'][0]; t['expr'] = t['expr'].replace('mlflow_model_accuracy', 'mlflow_model_accuracyy')"
dash_break "panel queries nothing the exporter exports" "panel 6 .*names no exported metric" \
  "d['panels'][5]['targets'][0]['expr'] = 'vector(1)'"
dash_break "panel datasource uid does not resolve" "panel 7 .*uid 'hamf-prom' does not resolve" \
  "d['panels'][6]['datasource']['uid'] = 'hamf-prom'"
dash_break "query datasource uid does not resolve" "panel 8 .*query A: datasource uid 'x'" \
  "d['panels'][7]['targets'][0]['datasource'] = {'type': 'prometheus', 'uid': 'x'}"
dash_break "query uses an undefined variable" 'panel 2 .*undefined variable \$experimnt' \
  "t = d['panels'][1]['targets'][0]; t['expr'] = t['expr'].replace('\$experiment', '\$experimnt')"
dash_break "variable query names an unexported metric" 'templating\[0\] .*does not export: mlflow_accuracy' \
  "d['templating']['list'][0]['query'] = 'label_values(mlflow_accuracy, experiment)'"
dash_break "duplicate panel id" "duplicate panel id 3" "d['panels'][3]['id'] = 3"
dash_break "serving latency panel queries a metric hamf serve does not export" "panel 14 .*does not export: hamf_serve_request_seconds_bucket" \
  "t = d['panels'][13]['targets'][0]; t['expr'] = t['expr'].replace('hamf_serve_request_duration_seconds_bucket', 'hamf_serve_request_seconds_bucket')"
dash_break "F1 time series hides its threshold" "panel 6 .*hides its threshold" \
  "d['panels'][5]['fieldConfig']['defaults']['custom']['thresholdsStyle']['mode'] = 'off'"
grafana_break "data source uid renamed under the dashboard" "does not resolve" \
  grafana/provisioning/datasources/prometheus.yml "s.replace('uid: hamf-prometheus', 'uid: other')"
grafana_break "accuracy threshold 98 not drawn" "does not draw the alert threshold 98" \
  "$DASH" "s.replace('\"value\": 98\n', '\"value\": 97\n', 1)"
grafana_break "dashboard JSON malformed" "not well-formed JSON" \
  "$DASH" "s.replace('\"panels\": [', '\"panels\": [,', 1)"
grafana_break "alert condition names a missing refId" "condition 'D' is not one of" \
  "$RULES" "s.replace('condition: C', 'condition: D', 1)"
grafana_break "reduce expression references a missing query" "references refId 'Q'" \
  "$RULES" "s.replace('expression: A', 'expression: Q', 1)"
grafana_break "alert threshold differs from Prometheus rule" "is not \\('lt', 98\\)" \
  "$RULES" "s.replace('params: [98]', 'params: [97]')"
grafana_break "alert rule on a panel that does not exist" "panelId 99 is not a panel" \
  "$RULES" "s.replace('panelId: 5', 'panelId: 99')"
grafana_break "policy routes to an unknown contact point" "'hamf-pager' is not a provisioned contact point" \
  grafana/provisioning/alerting/hamf-policies.yml "s.replace('receiver: hamf-slack', 'receiver: hamf-pager')"
grafana_break "Slack webhook URL committed literally" "slack url is a literal secret" \
  grafana/provisioning/alerting/hamf-contact-points.yml "s.replace('url: \$HAMF_SLACK_WEBHOOK_URL', 'url: https://hooks.slack.com/services/T0/B0/x')"
grafana_break "YAML malformed" "not well-formed YAML" \
  grafana/provisioning/alerting/hamf-policies.yml "s.replace('    routes:', '    routes: [')"
grafana_break "dashboard provider path wrong" "is not a directory" \
  grafana/provisioning/dashboards/hamf.yml "s.replace('/grafana/dashboards', '/grafana/dashbords')"

echo "== configs rendered for tests (tests/lib/monitor_render.py)"
R="$T/rendered"
expect_ok "render" "$PY" "$ROOT/tests/lib/monitor_render.py" --deploy "$D" --out "$R" \
  --prom-port 19090 --am-port 19093 --sink http://127.0.0.1:19999 --exporter 127.0.0.1:18000 \
  --retrain-url http://127.0.0.1:15000/api/hamf/v1/alerts
expect_ok "rendered prometheus.yml passes promtool check config" promtool check config "$R/prometheus.yml"
expect_ok "rendered alertmanager.yml passes amtool check-config" amtool check-config "$R/alertmanager.yml"
expect_ok "rendered routes keep the committed tree" \
  routes "$R/alertmanager.yml" hamf-retrain,ml-slack,ml-email alertname=FeatureDriftHigh model=M
if grep -Eq 'smtp_|email_configs|slack_configs|api_url|example\.org' "$R/alertmanager.yml"; then
  bad "rendered alertmanager.yml still sends email/Slack"
else
  ok "rendered alertmanager.yml only talks to the sink and the retrain URL"
fi
grep -q 'http://127.0.0.1:15000/api/hamf/v1/alerts' "$R/alertmanager.yml" && ok "retrain URL rendered" \
  || bad "retrain URL missing from rendered config"

# --metrics: exported names taken from a scrape instead of the built-in list.
cat >"$T/scrape-full.txt" <<'EOF'
# TYPE mlflow_model_accuracy gauge
mlflow_model_accuracy{experiment="e",run_id="r",model="m",model_version="1"} 99.1
# TYPE mlflow_model_f1_score gauge
mlflow_model_f1_score{experiment="e",run_id="r",model="m",model_version="1"} 0.99
# TYPE mlflow_model_precision gauge
mlflow_model_precision{experiment="e",run_id="r",model="m",model_version="1"} 0.99
# TYPE mlflow_model_recall gauge
mlflow_model_recall{experiment="e",run_id="r",model="m",model_version="1"} 0.99
# TYPE mlflow_model_last_run_timestamp_seconds gauge
mlflow_model_last_run_timestamp_seconds{experiment="e",run_id="r",model="m",model_version="1"} 1.7e9
# TYPE hamf_exporter_up gauge
hamf_exporter_up 1
# TYPE hamf_exporter_last_success_timestamp_seconds gauge
hamf_exporter_last_success_timestamp_seconds 1.7e9
# TYPE hamf_exporter_errors_total counter
hamf_exporter_errors_total 0
# TYPE hamf_feature_drift_psi gauge
hamf_feature_drift_psi{model="m",feature="urllength"} 0.01
# TYPE hamf_model_live_accuracy gauge
hamf_model_live_accuracy{model="m"} 99
# TYPE hamf_serve_requests_total counter
hamf_serve_requests_total{model="m",model_version="1"} 10
# TYPE hamf_serve_errors_total counter
hamf_serve_errors_total{model="m",model_version="1"} 0
# TYPE hamf_serve_positive_rate gauge
hamf_serve_positive_rate{model="m",model_version="1"} 0.3
# TYPE hamf_serve_request_duration_seconds histogram
hamf_serve_request_duration_seconds_bucket{model="m",model_version="1",le="+Inf"} 10
# TYPE hamf_serve_log_rows_total counter
hamf_serve_log_rows_total{model="m",model_version="1"} 10
# TYPE hamf_serve_log_dropped_total counter
hamf_serve_log_dropped_total{model="m",model_version="1"} 0
EOF
expect_ok "check_grafana --metrics with every exported metric" "$PY" "$CHECKER" --deploy "$D" --metrics "$T/scrape-full.txt"
grep -v mlflow_model_recall "$T/scrape-full.txt" >"$T/scrape-norecall.txt"
expect_fail "check_grafana --metrics: exporter without recall" "Recall.*does not export: mlflow_model_recall" \
  "$PY" "$CHECKER" --deploy "$D" --metrics "$T/scrape-norecall.txt"

echo
if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
echo "all deploy config checks passed"
