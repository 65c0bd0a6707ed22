#!/usr/bin/env bash
# tests/serve/test_serve_loop_e2e.sh — the closed loop on production traffic
# (issue 14), all real parts on loopback:
#   hamf server (tracking + registry; Alertmanager webhook -> retrain jobs
#   on --retrain-data) and `hamf serve models:/NAME@champion` on one SQLite
#   registry; the real Prometheus scrapes the scoring server's /metrics with
#   deploy/'s rules, the real Alertmanager routes to the server's webhook
#   (configs rendered into a temp dir by tests/lib/monitor.sh: 1 s scrape,
#   evaluation and grouping, every `for:` 2 s).
#   1. drifted traffic WITHOUT labels: no live-quality series, and
#      ModelAccuracyLow stays inactive;
#   2. drifted traffic WITH fed-back labels: the scoring server's live
#      accuracy (mlflow_model_accuracy{source="serving"}) equals the
#      client's own count and is far below 98 % -> ModelAccuracyLow fires
#      -> Alertmanager -> webhook -> exactly one retrain job -> the
#      challenger (better on the new data) is promoted;
#   3. the scoring server answers with the new version (header, /metrics,
#      and in Prometheus) within 2 s of the promotion, with 0 failed
#      requests from a client that scored all along;
#   4. the new version's live accuracy on the same kind of traffic is far
#      higher, computed on its own answers only; no second retrain starts.
source "$HAMF_ROOT/tests/monitor/lib.sh"
t_start=$SECONDS
DB="$T/loop.db"
NAME=PhishingDetectionModel
LOOP="$HAMF_ROOT/tests/serve/serve_loop.py"
jq_py() { "$PY" -c "import json,sys; d=json.load(sys.stdin); $1"; }
cd "$T"

# ---- champion, the new labelled data, production traffic -----------------
"$HAMF" datagen phishing --rows 4000 --seed 31 --drift 0 -o train.csv
mkdir -p newdata
"$HAMF" datagen phishing --rows 3000 --seed 32 --drift 1 -o newdata/batch1.csv
"$HAMF" datagen phishing --rows 3000 --seed 33 --drift 1 -o traffic.csv
"$HAMF" train train.csv --target phishing --n-estimators 50 --db "$DB" -o champion.hamf -q >/dev/null

# ---- the servers and the monitoring chain ---------------------------------
"$HAMF" server --port 0 --db "$DB" --artifacts-dir "$T/art" --retrain-data "$T/newdata" >srv.log 2>&1 &
SRV_PID=$!; mon_register_pid "$SRV_PID"
SRV_PORT=$(wait_listen srv.log "$SRV_PID") || fail "hamf server did not start"
SRV_URL="http://127.0.0.1:$SRV_PORT"
"$HAMF" serve "models:/$NAME@champion" --db "$DB" --port 0 >serve.log 2>&1 &
SERVE_PID=$!; mon_register_pid "$SERVE_PID"
SERVE_PORT=$(wait_listen serve.log "$SERVE_PID") || fail "hamf serve did not start"
SERVE_URL="http://127.0.0.1:$SERVE_PORT"
grep -q "version 1)" serve.log || fail "hamf serve does not start on version 1: $(cat serve.log)"
# Prometheus scrapes the scoring server only (in the exporter's job, whose
# scrape settings deploy/ ships): every quality alert here comes from served
# traffic, none from training runs.
mon_start --exporter "127.0.0.1:$SERVE_PORT" --retrain-url "$SRV_URL/api/hamf/v1/alerts" --for 2s
mon_wait_target_up hamf-exporter 20 || fail "Prometheus does not scrape the scoring server's /metrics"

# ---- 1. drifted traffic without labels -------------------------------------
"$PY" "$LOOP" send "$SERVE_URL" traffic.csv --start 0 --rows 500 --batch 50 >send0.json ||
  fail "unlabelled traffic: $(cat send0.json)"
jq_py 'assert d["rows"] == 500 and d["versions"] == {"1": 500}, d' <send0.json || fail "unlabelled traffic: $(cat send0.json)"
scraped_rows() { [ "$(mon_query_value "sum(hamf_serve_rows_total{model=\"$NAME\"})")" = 500 ]; }
wait_until 20 "Prometheus scraped the 500 unlabelled rows" scraped_rows
# the rules were evaluated for longer than `for:` (2 s) after that
t_scraped=$(date +%s.%N)
evaluated_since() { # the quality rules' last evaluation is 3 s past t_scraped
  curl -fsS --max-time 5 "$MON_PROM_URL/api/v1/rules?type=alert" | "$PY" -c '
import datetime, json, sys
since = float(sys.argv[1]) + 3
g = [g for g in json.load(sys.stdin)["data"]["groups"] if g["name"] == "hamf-model-quality"][0]
t = g["lastEvaluation"]  # RFC 3339, nanoseconds
d, frac = t.rstrip("Z").split(".") if "." in t else (t.rstrip("Z"), "0")
ts = datetime.datetime.strptime(d, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
sys.exit(0 if ts + float("0." + frac) >= since else 1)' "$t_scraped"
}
wait_until 20 "Prometheus evaluating the quality rules 3 s after the scrape" evaluated_since
curl -fsS "$SERVE_URL/metrics" >m0.txt
! grep -q '^mlflow_model_accuracy' m0.txt || fail "live accuracy without any fed-back label: $(grep mlflow_ m0.txt)"
[ "$(mon_rule_state ModelAccuracyLow)" = inactive ] || fail "ModelAccuracyLow is $(mon_rule_state ModelAccuracyLow) without labels"
[ "$(mon_alert_count ModelAccuracyLow firing)" = 0 ] || fail "ModelAccuracyLow notified without labels"
pass "drifted traffic without labels: no live-quality series, ModelAccuracyLow inactive"

# ---- 2. labels fed back -> alert -> webhook -> retrain job -> promotion -----
"$PY" "$LOOP" watch "$SERVE_URL" traffic.csv --out watch.jsonl &
WATCH_PID=$!; mon_register_pid "$WATCH_PID"
"$PY" "$LOOP" send "$SERVE_URL" traffic.csv --start 500 --rows 1000 --batch 50 --feedback >send1.json ||
  fail "labelled traffic: $(cat send1.json)"
ACC1=$(jq_py 'assert d["versions"] == {"1": 1000}, d; print(repr(d["accuracy"]["1"]))' <send1.json) ||
  fail "labelled traffic: $(cat send1.json)"
curl -fsS "$SERVE_URL/metrics" >m1.txt
"$PY" - m1.txt "$ACC1" "$NAME" <<'PYEOF' || fail "live quality on /metrics: $(grep -E '^(mlflow_|hamf_serve_feedback)' m1.txt)"
import re, sys
text, acc, name = open(sys.argv[1]).read(), float(sys.argv[2]), sys.argv[3]
lab = r'\{model="%s",model_version="1",experiment="serving",source="serving"\}' % name
m = re.search(r"^mlflow_model_accuracy%s (\S+)$" % lab, text, re.M)
assert m, "no mlflow_model_accuracy for version 1"
live = float(m.group(1))
assert abs(live - acc) < 1e-9, (live, acc)
assert live < 85, "drifted traffic should score far below the 98 %% threshold, got %.2f" % live
assert re.search(r'^hamf_serve_feedback_rows_total\{model="%s",model_version="1"\} 1000$' % name, text, re.M)
assert re.search(r"^mlflow_model_f1_score%s " % lab, text, re.M)
print("   live accuracy of version 1 on drifted traffic: %.2f %% (client count %.2f %%)" % (live, acc))
PYEOF
t0=$SECONDS
mon_wait_alert ModelAccuracyLow firing 40 --label model="$NAME" --label source=serving --label model_version=1 >/dev/null ||
  fail "ModelAccuracyLow did not fire on the served live accuracy"
pass "ModelAccuracyLow fired from the scoring server's live accuracy through Prometheus and Alertmanager ($((SECONDS - t0)) s)"
state=""
for _ in $(seq 900); do
  state=$(curl -fsS "$SRV_URL/api/hamf/v1/jobs" | jq_py 'print(" ".join(j["state"] for j in d["jobs"]))')
  case $state in succeeded|failed) break ;; esac
  sleep 0.1
done
[ "$state" = succeeded ] || { cat srv.log; fail "retrain job state: '$state'"; }
curl -fsS "$SRV_URL/api/hamf/v1/jobs" >jobs1.json
jq_py '
[j] = d["jobs"]
assert j["model"] == "'"$NAME"'" and j["alertname"] in ("ModelAccuracyLow", "ModelF1Low"), j
r = j["result"]
assert r["promoted"] is True and r["champion_version"] == 1 and r["challenger_version"] == 2, r
assert r["challenger_accuracy"] > r["champion_accuracy"], r
assert r["data"].endswith("newdata/batch1.csv"), r
print("   job %d (%s): champion %.2f %% -> challenger %.2f %% on the new data: promoted" %
      (j["job_id"], j["alertname"], r["champion_accuracy"], r["challenger_accuracy"]))' <jobs1.json ||
  fail "job: $(cat jobs1.json)"
pass "the webhook started one retrain job; the better challenger was promoted ($((SECONDS - t0)) s after the alert)"

# ---- 3. the scoring server switches ----------------------------------------
# when the registry moved the alias (its audit record; written just before
# the transaction commits, so the lag below is if anything overstated)
PROMOTED_AT=$("$HAMF" audit list --db "$DB" --json | jq_py '
al = [json.loads(r["new_data"]) for r in d if r["table_name"] == "model_aliases"]
p = [n for n in al if n["alias"] == "champion" and n["version"] == 2]
assert len(p) == 1, al
print(p[0]["updated_at"])') || fail "no audited move of champion to version 2"
v2_seen() { grep -q '"version": "2"' watch.jsonl; }
wait_until 15 "the scoring server answering with version 2" v2_seen
v2_answers() { [ "$(grep -c '"version": "2"' watch.jsonl)" -ge 20 ]; }
wait_until 10 "20 answers from version 2" v2_answers
kill -TERM "$WATCH_PID"; wait "$WATCH_PID" || fail "the watching client failed"
"$PY" - watch.jsonl "$PROMOTED_AT" <<'PYEOF' || fail "switch under traffic"
import datetime, json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
at = datetime.datetime.strptime(sys.argv[2], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
bad = [e for e in log if not e["ok"]]
assert not bad, "%d failed requests, e.g. %s" % (len(bad), bad[:3])
first2 = min(e["t1"] for e in log if e["version"] == "2")
late1 = [e for e in log if e["t0"] > first2 and e["version"] != "2"]
assert not late1, "answers from another version after version 2 answered: %s" % late1[:3]
assert all(e["version"] == "1" for e in log if e["t1"] < at), "a version other than 1 before the promotion"
lag = first2 - at
print("   %d requests while the loop ran, 0 failed; version 2 answering %.3f s after the promotion" % (len(log), lag))
assert lag <= 2.0, "version 2 answered %.3f s after the promotion (limit 2 s)" % lag
PYEOF
curl -fsS "$SERVE_URL/metrics" >m_switch.txt
grep -qxF "hamf_serve_model_info{model=\"$NAME\",model_version=\"2\"} 1" m_switch.txt ||
  fail "the scoring server's /metrics does not name version 2 as in use"
prom_v2() { [ "$(mon_query_value "hamf_serve_model_info{model=\"$NAME\",model_version=\"2\"}")" = 1 ]; }
wait_until 10 "Prometheus seeing version 2 in use" prom_v2
pass "the scoring server answers with version 2 within 2 s of the promotion (header, /metrics, Prometheus), 0 failed requests"

# ---- 4. the new champion on the same traffic --------------------------------
"$PY" "$LOOP" send "$SERVE_URL" traffic.csv --start 1500 --rows 500 --batch 50 --feedback >send2.json ||
  fail "labelled traffic on version 2: $(cat send2.json)"
ACC2=$(jq_py 'assert d["versions"] == {"2": 500}, d; print(repr(d["accuracy"]["2"]))' <send2.json) ||
  fail "labelled traffic on version 2: $(cat send2.json)"
curl -fsS "$SERVE_URL/metrics" >m2.txt
"$PY" - m2.txt "$ACC1" "$ACC2" "$NAME" <<'PYEOF' || fail "live quality of version 2: $(grep -E '^(mlflow_|hamf_serve_feedback)' m2.txt)"
import re, sys
text, acc1, acc2, name = open(sys.argv[1]).read(), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
lab = r'\{model="%s",model_version="2",experiment="serving",source="serving"\}' % name
m = re.search(r"^mlflow_model_accuracy%s (\S+)$" % lab, text, re.M)
assert m, "no mlflow_model_accuracy for version 2"
live = float(m.group(1))
# computed on version 2's own answers only: exactly the client's count
assert abs(live - acc2) < 1e-9, (live, acc2)
assert live > acc1 + 15, (acc1, live)
assert not re.search(r'^mlflow_model_accuracy\{[^}]*model_version="1"', text, re.M), "version 1's live quality is still exported"
assert re.search(r'^hamf_serve_feedback_window_rows\{model="%s",model_version="2"\} 500$' % name, text, re.M), \
    "version 2's window should hold its 500 labelled rows"
print("   live accuracy on drifted traffic: version 1 %.2f %%, version 2 %.2f %%" % (acc1, live))
PYEOF
# version 2 is still below the 98 % threshold: its own alert reaches the
# webhook too, and the cooldown keeps it from starting a second retrain
mon_wait_alert ModelAccuracyLow firing 30 --label model="$NAME" --label source=serving --label model_version=2 \
  --receiver hamf-retrain >/dev/null || fail "version 2's ModelAccuracyLow did not reach the webhook"
for _ in 1 2 3 4 5; do # Alertmanager posts to the sink and the server in parallel: watch a while
  curl -fsS "$SRV_URL/api/hamf/v1/jobs" | jq_py 'assert len(d["jobs"]) == 1, d["jobs"]' || fail "a second retrain job started"
  sleep 0.2
done
"$HAMF" model versions "$NAME" --db "$DB" --json | jq_py '
assert [(v["version"], "champion" in v["aliases"].split(","), v["decision"]) for v in d] == \
    [(1, False, None), (2, True, "promoted")], d' || fail "model versions"
pass "version 2's live accuracy on its own answers is far higher; its own alert started no second retrain (cooldown)"
mon_stop
pass "serve -> feedback -> alert -> retrain -> promote -> switch done in $((SECONDS - t_start)) s"
