#!/usr/bin/env bash
# test_exporter_rest.sh — `hamf exporter --tracking-uri http://…` against a
# real `hamf server` over loopback: labels and values of the latest FINISHED
# run per experiment, missing metrics, RUNNING runs ignored, no stale series
# (core_scenario); --experiment filtering; the same metrics at the server's
# own /metrics mount; the tracking server killed: last values kept with
# hamf_exporter_up 0 and hamf_exporter_errors_total rising, then recovery
# when it is back on the same port; SIGTERM exits 0.
source "$(dirname "$0")/lib.sh"

start_server srv "$T/track.db"
export HAMF_METRICS_INTERVAL=200ms   # for the server's own /metrics mount (next server start)
start_exporter exp --tracking-uri "$SRV_URL" --interval 200ms
MAIN_URL=$EXP_URL; MAIN_PORT=$EXP_PORT
pass "server $SRV_URL, exporter $MAIN_URL"
core_scenario "$SRV_URL" "$MAIN_URL"

# --experiment: only the named ones (a missing name is no error, no series).
start_exporter exp-filtered --tracking-uri "$SRV_URL/" --interval 200ms --experiment other --experiment not-yet
FURL=$EXP_URL; FPID=$EXP_PID
scrape "$FURL" "$T/f.txt"
[ "$(series "$T/f.txt" mlflow_model_accuracy | wc -l)" = 1 ] && grep -q 'experiment="other"' "$T/f.txt" ||
  fail "--experiment other: $(cat "$T/f.txt")"
[ "$(value "$T/f.txt" hamf_exporter_up)" = 1 ] || fail "a missing --experiment made the source fail"
pass "--experiment other --experiment not-yet: only 'other' exported, up 1"
stop_pid "$FPID"
pass "SIGTERM: exporter exits 0"

# MLFLOW_TRACKING_URI selects the REST source too.
MLFLOW_TRACKING_URI=$SRV_URL start_exporter exp-env --interval 200ms
grep -q "MLflow REST $SRV_URL" "$T/exp-env.log" || fail "MLFLOW_TRACKING_URI not used: $(cat "$T/exp-env.log")"
scrape "$EXP_URL" "$T/env.txt"; grep -qF "$CORE_R2" "$T/env.txt" || fail "env exporter lacks r2"
stop_pid "$EXP_PID"
pass "MLFLOW_TRACKING_URI=http://… selects the REST source"

# The tracking server goes away: last values stay, up 0, errors rise.
stop_pid "$SRV_PID"
s="$T/down.txt"
down() { scrape "$MAIN_URL" "$s" && [ "$(value "$s" hamf_exporter_up)" = 0 ]; }
wait_until 5 "hamf_exporter_up 0 after the server stopped" down
e1=$(value "$s" hamf_exporter_errors_total)
grep -qF "$CORE_R2" "$s" || fail "last values not kept while the server is down"
last_ok=$(value "$s" hamf_exporter_last_success_timestamp_seconds)
sleep 1
scrape "$MAIN_URL" "$s"
e2=$(value "$s" hamf_exporter_errors_total)
(( e1 >= 1 && e2 > e1 )) || fail "errors_total did not rise: $e1 -> $e2"
[ "$(value "$s" hamf_exporter_last_success_timestamp_seconds)" = "$last_ok" ] || fail "last success moved while down"
[ "$(value "$s" mlflow_model_accuracy "$CORE_R2")" = 97 ] || fail "accuracy not kept"
grep -q "refresh failed" "$T/exp.log" || fail "exporter did not report the failure on stderr"
pass "server down: r2's values kept, hamf_exporter_up 0, errors_total $e1 -> $e2, last success frozen"

# Back on the same port: recovery, and the server's own /metrics mount.
start_server srv2 "$T/track.db" "$SRV_PORT"
up() { scrape "$MAIN_URL" "$s" && [ "$(value "$s" hamf_exporter_up)" = 1 ]; }
wait_until 5 "recovery after the server came back" up
(( $(value "$s" hamf_exporter_errors_total) >= e2 )) || fail "errors_total went down (counter reset)"
awk -v t="$last_ok" '/^hamf_exporter_last_success_timestamp_seconds /{exit !($2 > t)}' "$s" || fail "last success not updated"
grep -q "refresh works again" "$T/exp.log" || fail "recovery not reported"
pass "server back: hamf_exporter_up 1, last success updated, errors_total kept"

scrape "$SRV_URL/metrics" "$T/srv.txt" || fail "hamf server has no /metrics"
curl -fsS -D - -o /dev/null "$SRV_URL/metrics" | grep -qi '^content-type: text/plain; version=0.0.4' || fail "server /metrics content type"
for f in mlflow_model_accuracy mlflow_model_f1_score mlflow_model_last_run_timestamp_seconds; do
  diff <(series "$s" $f) <(series "$T/srv.txt" $f) >/dev/null || fail "$f differs between exporter and server mount"
done
mon_check_metrics "$SRV_URL/metrics" || fail "promtool on the server's /metrics"
pass "hamf server /metrics: same series as the exporter, passes promtool"
curl -fsS -D - -o /dev/null "$MAIN_URL" | grep -qi '^content-type: text/plain; version=0.0.4' || fail "exporter content type"
curl -fsS "http://127.0.0.1:$MAIN_PORT/" | grep -q 'href="/metrics"' || fail "index page has no link to /metrics"
pass "exporter: Content-Type text/plain; version=0.0.4, / links to /metrics"
