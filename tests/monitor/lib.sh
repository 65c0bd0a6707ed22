# shellcheck shell=bash disable=SC2034  # SRV_URL, EXP_URL, CORE_R2 are read by the sourcing tests
# tests/monitor/lib.sh — sourced by tests/monitor/test_*.sh: start `hamf
# server` / `hamf exporter` on free loopback ports (port 0, the port read
# back from their "listening on" line), log runs through the MLflow REST
# API with curl, scrape and read gauges. Processes are registered with
# tests/lib/monitor.sh, which stops them by PID on exit.
set -euo pipefail
ROOT=${HAMF_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
HAMF=${HAMF:-$ROOT/build/hamf}
T=${T:-$(mktemp -d)}
PY=/usr/bin/python3
# shellcheck source=tests/lib/monitor.sh
source "$ROOT/tests/lib/monitor.sh"
_mon_install_trap

fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok   $*"; }

# wait_listen LOG PID [TIMEOUT_S]: print the port from "listening on http://H:P".
wait_listen() {
  local log=$1 pid=$2 timeout=${3:-10} start=$SECONDS p
  while :; do
    p=$(grep -o 'listening on http://[^:]*:[0-9]*' "$log" 2>/dev/null | head -n1 | sed 's/.*://') || true
    [ -n "$p" ] && { echo "$p"; return 0; }
    kill -0 "$pid" 2>/dev/null || { echo "process $pid died:" >&2; cat "$log" >&2; return 1; }
    (( SECONDS - start >= timeout )) && { echo "not listening after ${timeout}s:" >&2; cat "$log" >&2; return 1; }
    sleep 0.05
  done
}

# start_server NAME DB [PORT]: sets SRV_PID, SRV_PORT, SRV_URL.
start_server() {
  local name=$1 db=$2 port=${3:-0}
  "$HAMF" server --port "$port" --db "$db" --artifacts-dir "$T/art-$name" >"$T/$name.log" 2>&1 &
  SRV_PID=$!; mon_register_pid "$SRV_PID"
  SRV_PORT=$(wait_listen "$T/$name.log" "$SRV_PID") || fail "hamf server $name did not start"
  SRV_URL="http://127.0.0.1:$SRV_PORT"
}

# start_exporter NAME ARGS...: sets EXP_PID, EXP_PORT, EXP_URL (…/metrics).
start_exporter() {
  local name=$1; shift
  "$HAMF" exporter --port 0 "$@" >"$T/$name.log" 2>&1 &
  EXP_PID=$!; mon_register_pid "$EXP_PID"
  EXP_PORT=$(wait_listen "$T/$name.log" "$EXP_PID") || fail "hamf exporter $name did not start"
  EXP_URL="http://127.0.0.1:$EXP_PORT/metrics"
}

# api BASE_URL ENDPOINT JSON: POST to the MLflow API, print the answer; fails on non-200.
api() {
  curl -fsS --max-time 5 -X POST -H 'Content-Type: application/json' \
    "$1/api/2.0/mlflow/$2" -d "$3" || fail "POST $2 $3"
}

# new_experiment BASE NAME: print the id.
new_experiment() {
  api "$1" experiments/create "{\"name\":\"$2\"}" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["experiment_id"])'
}

# log_run BASE EXP_ID START_MS STATUS MODEL VERSION key=value...: create a run
# with those metrics, tags hamf.model_name/_version (skipped when "-"),
# then set STATUS (FINISHED with end_time START_MS+1000; RUNNING = leave).
# Prints the run id.
log_run() {
  local base=$1 exp=$2 start=$3 status=$4 model=$5 version=$6; shift 6
  local run metrics="" tags="" kv
  run=$(api "$base" runs/create "{\"experiment_id\":\"$exp\",\"start_time\":$start}" |
        "$PY" -c 'import json,sys; print(json.load(sys.stdin)["run"]["info"]["run_id"])')
  for kv in "$@"; do
    metrics+="${metrics:+,}{\"key\":\"${kv%%=*}\",\"value\":${kv#*=},\"timestamp\":$start,\"step\":0}"
  done
  [ "$model" != - ] && tags+="{\"key\":\"hamf.model_name\",\"value\":\"$model\"}"
  [ "$version" != - ] && tags+="${tags:+,}{\"key\":\"hamf.model_version\",\"value\":\"$version\"}"
  api "$base" runs/log-batch "{\"run_id\":\"$run\",\"metrics\":[$metrics],\"tags\":[$tags]}" >/dev/null
  if [ "$status" != RUNNING ]; then
    api "$base" runs/update "{\"run_id\":\"$run\",\"status\":\"$status\",\"end_time\":$((start + 1000))}" >/dev/null
  fi
  echo "$run"
}

# scrape URL FILE: save one scrape.
scrape() { curl -fsS --max-time 2 "$1" >"$2"; }

# series FILE NAME [LABEL_SUBSTRING]: the sample lines of metric NAME.
series() { grep -E "^$2(\{| )" "$1" | { if [ -n "${3:-}" ]; then grep -F -- "$3"; else cat; fi; } || true; }

# value FILE NAME [LABEL_SUBSTRING]: the value of the single matching sample ("" if none).
value() {
  local lines; lines=$(series "$@")
  [ -z "$lines" ] && { echo ""; return 0; }
  [ "$(wc -l <<<"$lines")" -eq 1 ] || fail "more than one sample of $2 ${3:-}: $lines"
  awk '{print $NF}' <<<"$lines"
}

# wait_until TIMEOUT_S DESCRIPTION COMMAND...: poll every 0.1 s.
wait_until() {
  local timeout=$1 what=$2 start=$SECONDS; shift 2
  until "$@"; do
    (( SECONDS - start >= timeout )) && fail "$what: not within ${timeout}s"
    sleep 0.1
  done
}

# stop_pid PID: TERM, wait (at most 5 s), expect exit 0.
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid"
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "pid $pid did not stop within 5 s of SIGTERM"
  wait "$pid"
}

# core_scenario WRITER_BASE_URL METRICS_URL: runs logged through the REST
# API of WRITER_BASE_URL must show up at METRICS_URL (an exporter refreshing
# every 200 ms) with the right labels; a metric a run lacks has no series; a
# RUNNING run is ignored; a newer FINISHED run replaces the old label set.
core_scenario() {
  local base=$1 url=$2 s="$T/scrape.txt" t0 e1 e2 r1 o1 rr r2 lab
  scrape "$url" "$s" || fail "cannot scrape $url"
  [ "$(value "$s" hamf_exporter_up)" = 1 ] || fail "hamf_exporter_up is not 1 on an empty store: $(cat "$s")"
  [ -z "$(series "$s" mlflow_model_accuracy)" ] || fail "series on an empty store"
  pass "empty store: hamf_exporter_up 1, no model series"

  t0=$(( $(date +%s) * 1000 - 600000 ))
  e1=$(new_experiment "$base" phish)
  e2=$(new_experiment "$base" other)
  r1=$(log_run "$base" "$e1" "$t0" FINISHED Phish 3 accuracy=99.1 f1_score=0.97 precision=0.98 recall=0.96)
  o1=$(log_run "$base" "$e2" "$t0" FINISHED - - accuracy=98.5 f1_score=0.96)
  has_r1() { scrape "$url" "$s" && [ -n "$(series "$s" mlflow_model_accuracy "$r1")" ] &&
             [ -n "$(series "$s" mlflow_model_accuracy "$o1")" ]; }
  wait_until 5 "runs r1/o1 exported" has_r1
  lab="{experiment=\"phish\",run_id=\"$r1\",model=\"Phish\",model_version=\"3\"}"
  grep -qxF "mlflow_model_accuracy$lab 99.1" "$s" || fail "accuracy of r1: $(cat "$s")"
  grep -qxF "mlflow_model_f1_score$lab 0.97" "$s" || fail "f1 of r1"
  grep -qxF "mlflow_model_precision$lab 0.98" "$s" || fail "precision of r1"
  grep -qxF "mlflow_model_recall$lab 0.96" "$s" || fail "recall of r1"
  grep -qxF "mlflow_model_last_run_timestamp_seconds$lab $(( (t0 + 1000) / 1000 ))" "$s" || fail "end time of r1: want $(( (t0 + 1000) / 1000 )), got $(series "$s" mlflow_model_last_run_timestamp_seconds)"
  pass "run r1: accuracy/f1/precision/recall/end time with labels experiment, run_id, model, model_version"
  lab="{experiment=\"other\",run_id=\"$o1\",model=\"\",model_version=\"\"}"
  grep -qxF "mlflow_model_accuracy$lab 98.5" "$s" || fail "accuracy of o1"
  grep -qxF "mlflow_model_f1_score$lab 0.96" "$s" || fail "f1 of o1"
  [ -z "$(series "$s" mlflow_model_precision "$o1")$(series "$s" mlflow_model_recall "$o1")" ] ||
    fail "o1 has no precision/recall but got series"
  [ "$(series "$s" mlflow_model_precision | wc -l)" = 1 ] || fail "precision: expected only r1's series"
  pass "run o1 without precision/recall: only those two series missing, empty model labels without tags"

  rr=$(log_run "$base" "$e1" $((t0 + 5000)) RUNNING Phish 4 accuracy=50 f1_score=0.5)
  local errs_before; errs_before=$(value "$s" hamf_exporter_errors_total)
  sleep 1   # five refreshes
  scrape "$url" "$s"
  ! grep -qF "$rr" "$s" || fail "RUNNING run $rr is exported"
  [ -n "$(series "$s" mlflow_model_accuracy "$r1")" ] || fail "r1 vanished while a run is RUNNING"
  [ "$(value "$s" hamf_exporter_errors_total)" = "$errs_before" ] || fail "errors while healthy"
  pass "RUNNING run (newer) ignored; r1 still exported"

  r2=$(log_run "$base" "$e1" $((t0 + 10000)) FINISHED Phish 5 accuracy=97 f1_score=0.94)
  has_r2() { scrape "$url" "$s" && [ -n "$(series "$s" mlflow_model_accuracy "$r2")" ]; }
  wait_until 5 "run r2 exported" has_r2
  ! grep -qF "$r1" "$s" || fail "stale series of r1 after r2 took over: $(grep -F "$r1" "$s")"
  lab="{experiment=\"phish\",run_id=\"$r2\",model=\"Phish\",model_version=\"5\"}"
  grep -qxF "mlflow_model_accuracy$lab 97" "$s" || fail "accuracy of r2"
  [ -z "$(series "$s" mlflow_model_precision)" ] || fail "precision family should be gone (r2 lacks it)"
  [ "$(series "$s" mlflow_model_accuracy | wc -l)" = 2 ] || fail "expected exactly 2 accuracy series"
  pass "newer FINISHED run r2 replaced r1's label set (no stale series)"

  mon_check_metrics "$url" || fail "promtool check metrics on the live output"
  pass "promtool check metrics accepts the live output"
  CORE_R2=$r2
}

# pid_running PID: alive and not a zombie (detached processes are reaped by
# whatever PID 1 is, possibly late).
pid_running() {
  local st
  st=$(awk '{sub(/.*\) /, ""); print $1}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
