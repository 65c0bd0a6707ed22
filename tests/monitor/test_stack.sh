#!/usr/bin/env bash
# test_stack.sh — `hamf stack up|status|down` on non-default free ports:
# the four components start detached with PID files and logs in --dir,
# Prometheus scrapes the rendered targets and loads deploy/'s rules,
# Alertmanager's retrain webhook points at the stack's server, a run logged
# to the server shows up at the exporter; status reports a killed
# component; a second `up` and an occupied port are refused (leaving
# nothing running); `down` stops everything by PID.
source "$(dirname "$0")/lib.sh"
D="$T/stack"
SP=$(mon_free_port); EP=$(mon_free_port); PP=$(mon_free_port); AP=$(mon_free_port)
ports=(--server-port "$SP" --exporter-port "$EP" --prometheus-port "$PP" --alertmanager-port "$AP")

usage() { local rc; set +e; "$HAMF" stack "$@" >/dev/null 2>&1; rc=$?; set -e; [ "$rc" = 2 ] || fail "hamf stack $*: exit $rc, want 2"; }
usage; usage frob; usage down --server-port 1; usage up --interval 3; usage up --server-port 0
pass "usage errors exit 2"

# On any exit, `hamf stack down` stops what is left (it checks each PID's
# start time, so it never signals a reused PID), then the harness' own PIDs.
trap '"$HAMF" stack down --dir "$D" >/dev/null 2>&1 || true; mon_stop' EXIT
out=$("$HAMF" stack up --dir "$D" --db "$T/stack.db" --interval 1s "${ports[@]}") || fail "stack up: $out"
echo "$out"
for u in "http://127.0.0.1:$SP/" "http://127.0.0.1:$EP/metrics" "http://127.0.0.1:$PP/" "http://127.0.0.1:$AP/"; do
  grep -qF "$u" <<<"$out" || fail "stack up did not print $u"
done
for c in server exporter prometheus alertmanager; do
  [ -s "$D/$c.pid" ] && [ -f "$D/$c.log" ] || fail "no pid file/log for $c"
done
pids=$(cut -d' ' -f1 "$D"/*.pid)
pass "stack up: four components, URLs printed, PIDs and logs in $D"

st=$("$HAMF" stack status --dir "$D") || fail "status not 0 while all up: $st"
[ "$(grep -c ' up ' <<<"$st")" = 4 ] || fail "status: $st"
pass "stack status: all four up"

# Prometheus: the rendered targets and rules; Alertmanager: the webhook.
targets_ok() { curl -fsS "http://127.0.0.1:$PP/api/v1/targets" | "$PY" -c '
import json, sys
want = {"hamf-exporter": "http://127.0.0.1:%s/metrics" % sys.argv[1], "hamf-server": "http://127.0.0.1:%s/metrics" % sys.argv[2]}
got = {t["labels"]["job"]: t["scrapeUrl"] for t in json.load(sys.stdin)["data"]["activeTargets"]}
assert all(got.get(k) == v for k, v in want.items()), got' "$EP" "$SP" 2>/dev/null; }
wait_until 10 "Prometheus targets = the stack's exporter and server" targets_ok
curl -fsS "http://127.0.0.1:$PP/api/v1/rules" | grep -q '"name":"ModelAccuracyLow"' || fail "rules not loaded"
curl -fsS "http://127.0.0.1:$PP/api/v1/alertmanagers" | grep -q "127.0.0.1:$AP" || fail "Prometheus does not send to the stack's Alertmanager"
curl -fsS "http://127.0.0.1:$AP/api/v2/status" | grep -qF "http://127.0.0.1:$SP/api/hamf/v1/alerts" || fail "Alertmanager retrain webhook not rendered"
pass "Prometheus scrapes the stack's exporter and server, loads the rules, alerts the stack's Alertmanager"

e=$(new_experiment "http://127.0.0.1:$SP" stacked)
r=$(log_run "http://127.0.0.1:$SP" "$e" "$(date +%s%3N)" FINISHED M 1 accuracy=97.5 f1_score=0.96)
seen() { scrape "http://127.0.0.1:$EP/metrics" "$T/m.txt" && grep -qF "$r" "$T/m.txt"; }
wait_until 10 "run visible at the stack's exporter" seen
pass "a run logged to the stack's server appears at its exporter"

out2=$("$HAMF" stack up --dir "$D" "${ports[@]}" 2>&1) && fail "second up succeeded"
grep -q "already up" <<<"$out2" || fail "second up: $out2"
pass "second up refused: $out2"

kill -TERM "$(cut -d' ' -f1 "$D/exporter.pid")"
sleep 0.5
set +e; st=$("$HAMF" stack status --dir "$D"); rc=$?; set -e
[ "$rc" = 1 ] && grep -qE '^exporter +down' <<<"$st" && [ "$(grep -c ' up ' <<<"$st")" = 3 ] || fail "status after killing the exporter (rc $rc): $st"
pass "status notices the stopped exporter (exit 1)"

out=$("$HAMF" stack down --dir "$D") || fail "down: $out"
echo "$out"
[ "$(grep -c stopped <<<"$out")" = 3 ] || fail "down should stop 3 components: $out"
for p in $pids; do ! pid_running "$p" || fail "pid $p still running after down"; done
ls "$D"/*.pid 2>/dev/null && fail "pid files left"
set +e; "$HAMF" stack status --dir "$D" >/dev/null; rc=$?; set -e
[ "$rc" = 1 ] || fail "status after down: $rc"
pass "stack down: every PID gone, pid files removed"

# An occupied port: refused, and nothing is left running.
"$PY" -m http.server --bind 127.0.0.1 "$PP" >/dev/null 2>&1 &
mon_register_pid $!
wait_until 5 "blocker listening" curl -fsS -o /dev/null "http://127.0.0.1:$PP/"
set +e; out=$("$HAMF" stack up --dir "$D" --db "$T/stack.db" "${ports[@]}" 2>&1); rc=$?; set -e
[ "$rc" = 1 ] && grep -q "port $PP (prometheus) is already in use" <<<"$out" || fail "occupied port: rc $rc: $out"
ls "$D"/*.pid 2>/dev/null && fail "pid files left after a failed up"
for p in $SP $EP $AP; do ! curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$p/" 2>/dev/null || fail "port $p still served after a failed up"; done
pass "occupied Prometheus port: up fails ($out), the components already started are stopped"
