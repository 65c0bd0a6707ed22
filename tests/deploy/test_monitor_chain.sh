#!/usr/bin/env bash
# test_monitor_chain.sh — proves tests/lib/monitor.sh and deploy/'s rules and
# routes work end to end with the REAL Prometheus and Alertmanager. The
# scrape target is a throwaway stdlib HTTP server speaking the text
# exposition format with the metric names and labels hamf's exporter uses
# (its output passes `promtool check metrics`); the real exporter reuses this
# harness in its own end-to-end test.
#   1. run r1 with accuracy 97.1 and F1 0.99: ModelAccuracyLow reaches the
#      webhook sink within 30 s, through all three receivers (retrain webhook,
#      Slack, email) with rendered annotations; ModelF1Low — evaluated, healthy
#      — does not, nor does any other rule;
#   2. the dashboard's and Grafana alert rules' queries all run on this
#      Prometheus (check_grafana.py --prometheus), a broken one is rejected;
#   3. r1's accuracy goes to 99: the alert resolves (resolved notification);
#   4. a new bad run r2 replaces r1 and fires again; the healthy run r3
#      replaces r2 (r2's series disappear, as the exporter drops old label
#      sets): the r2 alert resolves.
set -euo pipefail
ROOT=${HAMF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
T=${T:-$(mktemp -d)}
PY=/usr/bin/python3
# shellcheck source=tests/lib/monitor.sh
source "$ROOT/tests/lib/monitor.sh"
t_start=$SECONDS
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok   $*"; }

# ---- the stand-in exporter: serves $T/run.json's values at /metrics --------
cat >"$T/target.py" <<'EOF'
import http.server, json, os, sys, time
state_file, port_file = sys.argv[1], sys.argv[2]
HELP = {
    "mlflow_model_accuracy": "Accuracy in percent of the latest finished run.",
    "mlflow_model_f1_score": "F1 score of the latest finished run.",
    "mlflow_model_precision": "Precision of the latest finished run.",
    "mlflow_model_recall": "Recall of the latest finished run.",
    "mlflow_model_last_run_timestamp_seconds": "End time of the latest finished run.",
}
def render():
    st = json.load(open(state_file))
    lab = 'experiment="phish",run_id="%s",model="PhishingDetectionModel",model_version="%s"' % (st["run_id"], st["version"])
    out = []
    for name, key in (("mlflow_model_accuracy", "accuracy"), ("mlflow_model_f1_score", "f1"),
                      ("mlflow_model_precision", "precision"), ("mlflow_model_recall", "recall"),
                      ("mlflow_model_last_run_timestamp_seconds", "end")):
        out += ["# HELP %s %s" % (name, HELP[name]), "# TYPE %s gauge" % name, "%s{%s} %r" % (name, lab, st[key])]
    out += ["# HELP hamf_feature_drift_psi Population stability index of a feature.",
            "# TYPE hamf_feature_drift_psi gauge",
            'hamf_feature_drift_psi{model="PhishingDetectionModel",feature="urllength"} 0.03',
            "# HELP hamf_exporter_up 1 if the last refresh reached the tracking store.",
            "# TYPE hamf_exporter_up gauge", "hamf_exporter_up 1",
            "# HELP hamf_exporter_last_success_timestamp_seconds Time of the last successful refresh.",
            "# TYPE hamf_exporter_last_success_timestamp_seconds gauge",
            "hamf_exporter_last_success_timestamp_seconds %.3f" % time.time(),
            "# HELP hamf_exporter_errors_total Failed refreshes.",
            "# TYPE hamf_exporter_errors_total counter", "hamf_exporter_errors_total 0"]
    return ("\n".join(out) + "\n").encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/metrics":
            self.send_error(404); return
        body = render()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(port_file + ".tmp", "w").write(str(srv.server_address[1]))
os.replace(port_file + ".tmp", port_file)
srv.serve_forever(poll_interval=0.2)
EOF
# set_run RUN_ID VERSION ACCURACY F1: what the "latest finished run" is now.
set_run() {
  "$PY" - "$T/run.json" "$@" <<'EOF'
import json, os, sys, time
p, run, ver, acc, f1 = sys.argv[1:6]
st = {"run_id": run, "version": ver, "accuracy": float(acc), "f1": float(f1),
      "precision": 0.97, "recall": 0.96, "end": round(time.time(), 3)}
json.dump(st, open(p + ".tmp", "w")); os.replace(p + ".tmp", p)
EOF
}

set_run r1 1 97.1 0.99
"$PY" "$T/target.py" "$T/run.json" "$T/target.port" >"$T/target.log" 2>&1 &
mon_register_pid $!
for _ in $(seq 50); do [ -s "$T/target.port" ] && break; sleep 0.1; done
TARGET="127.0.0.1:$(cat "$T/target.port")"
mon_check_metrics "http://$TARGET/metrics" || fail "stand-in exporter output is not valid exposition format"
pass "stand-in exporter at $TARGET passes promtool check metrics"

# ---- the chain --------------------------------------------------------------
mon_start --exporter "$TARGET" --for 2s
mon_wait_target_up hamf-exporter 15 || fail "Prometheus does not scrape the target"
pass "Prometheus scrapes hamf-exporter"
[ "$(mon_query_value 'mlflow_model_accuracy{experiment="phish"}')" = 97.1 ] || fail "accuracy 97.1 not in Prometheus"

# 1. ModelAccuracyLow reaches every receiver within 30 s of the bad run.
t0=$SECONDS
for rcv in ml-email ml-slack hamf-retrain; do
  mon_wait_alert ModelAccuracyLow firing 30 --receiver "$rcv" --label run_id=r1 >/dev/null \
    || fail "ModelAccuracyLow did not reach $rcv"
done
(( SECONDS - t0 <= 30 )) || fail "ModelAccuracyLow took $((SECONDS - t0)) s (> 30 s) to reach all receivers"
pass "ModelAccuracyLow (97.1) reached email, Slack and retrain receivers after $((SECONDS - t0)) s"
"$PY" - "$MON_SINK_LOG" <<'EOF' || fail "ModelAccuracyLow notification content"
import json, sys
for line in open(sys.argv[1]):
    b = json.loads(line)["body"]
    for a in b["alerts"]:
        if a["labels"]["alertname"] == "ModelAccuracyLow" and a["status"] == "firing":
            assert b["version"] == "4", b["version"]
            assert a["labels"]["severity"] == "critical", a["labels"]
            assert a["labels"]["model"] == "PhishingDetectionModel" and a["labels"]["experiment"] == "phish", a["labels"]
            assert a["annotations"]["summary"] == "Model accuracy 97.10 % is below 98 % (phish)", a["annotations"]
            assert "run r1 of experiment" in a["annotations"]["description"], a["annotations"]
            print("ok   notification: version 4, labels and rendered annotations as expected")
            sys.exit(0)
sys.exit("no firing ModelAccuracyLow in the sink log")
EOF

# ModelF1Low: evaluated without error, inactive, never notified. The other
# rules stay quiet on a healthy exporter too.
[ "$(mon_rule_state ModelF1Low)" = inactive ] || fail "ModelF1Low is $(mon_rule_state ModelF1Low) with F1 0.99"
for r in ModelF1Low FeatureDriftHigh ExporterDown ModelMetricsStale; do
  [ "$(mon_alert_count "$r")" = 0 ] || fail "$r was notified"
  [ "$(mon_rule_state "$r")" = inactive ] || fail "$r is not inactive"
done
pass "ModelF1Low (0.99), FeatureDriftHigh, ExporterDown, ModelMetricsStale: evaluated, inactive, not notified"

# 2. Grafana's queries on the real Prometheus.
"$PY" "$ROOT/tests/deploy/check_grafana.py" --prometheus "$MON_PROM_URL" || fail "Grafana queries on live Prometheus"
rm -rf "$T/deploy-broken"; cp -r "$ROOT/deploy" "$T/deploy-broken"
"$PY" - "$T/deploy-broken/grafana/dashboards/hamf-model-quality.json" <<'EOF'
import json, sys
p = sys.argv[1]; d = json.load(open(p))
t = d["panels"][4]["targets"][0]
t["expr"] = t["expr"].replace("max by (", "max by ((", 1)   # unbalanced: PromQL syntax error
json.dump(d, open(p, "w"))
EOF
if out=$("$PY" "$ROOT/tests/deploy/check_grafana.py" --deploy "$T/deploy-broken" --prometheus "$MON_PROM_URL" 2>&1); then
  fail "check_grafana --prometheus accepted a query with a syntax error"
fi
grep -q "Prometheus rejects" <<<"$out" || fail "check_grafana failed for another reason: $out"
pass "check_grafana --prometheus rejects a PromQL syntax error"

# 3. Accuracy goes to 99: the alert resolves.
t0=$SECONDS; since=$(date +%s.%N)
set_run r1 1 99 0.99
mon_wait_alert ModelAccuracyLow resolved 30 --receiver ml-email --label run_id=r1 --since "$since" >/dev/null || fail "no resolve"
mon_wait_alert ModelAccuracyLow resolved 10 --receiver hamf-retrain --label run_id=r1 --since "$since" >/dev/null || fail "retrain webhook got no resolve"
pass "ModelAccuracyLow resolved $((SECONDS - t0)) s after accuracy went to 99"

# 4. A new bad run replaces it, then a healthy run replaces that one.
t0=$SECONDS
set_run r2 2 96.5 0.93
mon_wait_alert ModelAccuracyLow firing 30 --receiver ml-email --label run_id=r2 >/dev/null || fail "r2 accuracy alert"
mon_wait_alert ModelF1Low firing 30 --receiver hamf-retrain --label run_id=r2 >/dev/null || fail "r2 F1 alert"
pass "bad run r2 (96.5, F1 0.93): ModelAccuracyLow and ModelF1Low fired after $((SECONDS - t0)) s"
t0=$SECONDS
set_run r3 3 99.4 0.99
mon_wait_alert ModelAccuracyLow resolved 30 --receiver ml-email --label run_id=r2 >/dev/null || fail "r2 alert did not resolve when r3 replaced it"
mon_wait_alert ModelF1Low resolved 30 --receiver ml-email --label run_id=r2 >/dev/null || fail "r2 F1 alert did not resolve"
[ "$(mon_alert_count ModelAccuracyLow firing --label run_id=r3)" = 0 ] || fail "healthy run r3 alerted"
pass "healthy run r3 replaced r2: both alerts resolved after $((SECONDS - t0)) s"

mon_stop
for pid in $MON_PROM_PID $MON_AM_PID; do
  ! kill -0 "$pid" 2>/dev/null || fail "pid $pid still running after mon_stop"
done
pass "everything stopped ($(( SECONDS - t_start )) s in total)"
