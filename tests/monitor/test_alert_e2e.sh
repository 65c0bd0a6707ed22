#!/usr/bin/env bash
# test_alert_e2e.sh — the acceptance test of the monitoring chain, all real
# parts on loopback: `hamf server` (tracking store + its /metrics mount),
# `hamf exporter` reading the server over REST, Prometheus and Alertmanager
# from Debian with deploy/'s rules and routes (tests/lib/monitor.sh: temp
# dirs, free ports, 1 s scrape/evaluation, `for: 2s`, receivers redirected
# to a webhook sink).
#   1. a run logged through the MLflow REST API with accuracy 97.1 and F1
#      0.99: ModelAccuracyLow reaches the sink within 30 s, ModelF1Low
#      (evaluated, healthy) does not;
#   2. a healthy run is logged: the alert resolves.
# Everything started is stopped by PID (and checked to be gone).
source "$(dirname "$0")/lib.sh"
t_start=$SECONDS

export HAMF_METRICS_INTERVAL=500ms
start_server srv "$T/track.db"
start_exporter exp --tracking-uri "$SRV_URL" --interval 500ms
mon_start --exporter "127.0.0.1:$EXP_PORT" --server "127.0.0.1:$SRV_PORT" --for 2s
mon_wait_target_up hamf-exporter 15 || fail "Prometheus does not scrape hamf exporter"
mon_wait_target_up hamf-server 15 || fail "Prometheus does not scrape hamf server's /metrics"
pass "Prometheus scrapes hamf exporter ($EXP_URL) and hamf server ($SRV_URL/metrics)"

# 1. A bad run: accuracy 97.1 %, F1 0.99.
exp_id=$(new_experiment "$SRV_URL" "Phishing Detection Experiment")
t0=$SECONDS
r1=$(log_run "$SRV_URL" "$exp_id" "$(date +%s%3N)" FINISHED PhishingDetectionModel 1 \
       accuracy=97.1 f1_score=0.99 precision=0.97 recall=0.96)
mon_wait_alert ModelAccuracyLow firing 30 --label run_id="$r1" --label model=PhishingDetectionModel >/dev/null ||
  fail "ModelAccuracyLow did not reach the webhook sink within 30 s"
took=$((SECONDS - t0))
(( took <= 30 )) || fail "ModelAccuracyLow took $took s"
pass "ModelAccuracyLow (accuracy 97.1) reached the webhook sink $took s after the run was logged"
[ "$(mon_query_value "mlflow_model_f1_score{job=\"hamf-exporter\",run_id=\"$r1\"}")" = 0.99 ] ||
  fail "F1 0.99 of r1 not in Prometheus"
state=$(mon_rule_state ModelF1Low) || fail "ModelF1Low not evaluated: $state"
[ "$state" = inactive ] || fail "ModelF1Low is $state with F1 0.99"
[ "$(mon_alert_count ModelF1Low)" = 0 ] || fail "ModelF1Low was notified"
"$PY" - "$MON_SINK_LOG" "$r1" <<'PYEOF' || fail "notification content"
import json, sys
log, run = sys.argv[1], sys.argv[2]
for line in open(log):
    for a in json.loads(line)["body"]["alerts"]:
        l = a["labels"]
        if l["alertname"] == "ModelAccuracyLow" and a["status"] == "firing" and l.get("run_id") == run:
            assert l["experiment"] == "Phishing Detection Experiment" and l["model_version"] == "1", l
            assert "97.1" in a["annotations"]["summary"], a["annotations"]
            sys.exit(0)
sys.exit("no firing ModelAccuracyLow for run " + run)
PYEOF
pass "ModelF1Low (F1 0.99) evaluated, inactive, never notified; notification carries the run's labels"

# 2. A healthy run replaces it: the alert resolves.
t0=$SECONDS; since=$(date +%s.%N)
r2=$(log_run "$SRV_URL" "$exp_id" "$(date +%s%3N)" FINISHED PhishingDetectionModel 2 \
       accuracy=99.2 f1_score=0.985 precision=0.99 recall=0.98)
mon_wait_alert ModelAccuracyLow resolved 30 --label run_id="$r1" --since "$since" >/dev/null ||
  fail "ModelAccuracyLow did not resolve after the healthy run"
pass "healthy run (99.2): ModelAccuracyLow resolved after $((SECONDS - t0)) s"
[ "$(mon_alert_count ModelAccuracyLow firing --label run_id="$r2")" = 0 ] || fail "healthy run r2 alerted"
[ "$(mon_alert_count ModelF1Low)" = 0 ] || fail "ModelF1Low was notified"
pass "no alert for the healthy run"

pids=("$SRV_PID" "$EXP_PID" "$MON_PROM_PID" "$MON_AM_PID")
mon_stop
for pid in "${pids[@]}"; do ! kill -0 "$pid" 2>/dev/null || fail "pid $pid still running after stop"; done
pass "server, exporter, Prometheus, Alertmanager, sink stopped by PID ($((SECONDS - t_start)) s in total)"
