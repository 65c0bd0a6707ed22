#!/usr/bin/env bash
# bench/server/run.sh [BUILD] — `hamf server` figures in one run, on loopback
# with a fresh SQLite store (bounded: about a minute):
#   1. runs/log-metric throughput and latency with 8 and 64 keep-alive
#      connections (wrk, POST bodies from log_metric.lua), --sync normal
#      (default) and 8 connections with --sync full;
#   2. runs/search with a metric filter and a metric order over 10,000 runs
#      (search.lua), one page of 100 and of 1000 runs.
# Needs wrk and python3-requests (scripts/install-deps.sh). DUR=seconds per
# wrk run (default 5), RUNS=number of runs for the search (default 10000).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
HAMF="$ROOT/$BUILD/hamf"
DUR=${DUR:-5}
RUNS=${RUNS:-10000}
W=$(mktemp -d /tmp/hamf-bench.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

start() { # db sync
  "$HAMF" server --port 0 --db "$W/$1" --artifacts-dir "$W/art" --sync "$2" >"$W/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do
    URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$W/server.log" | head -n 1 || true)
    [ -n "$URL" ] && return 0
    sleep 0.05
  done
  cat "$W/server.log"; exit 1
}
stop() { kill -TERM "$PID"; wait "$PID" || true; PID=; }
new_run() {
  curl -s -XPOST -H 'Content-Type: application/json' "$URL/api/2.0/mlflow/runs/create" -d '{"experiment_id":"0"}' |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["run"]["info"]["run_id"])'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
report() { # label, wrk output file, server CPU ticks used during the run
  local rps p50 p99 n cpu
  rps=$(awk '/Requests\/sec/ {print $2}' "$2")
  p50=$(awk '$1=="50%" {print $2}' "$2")
  p99=$(awk '$1=="99%" {print $2}' "$2")
  n=$(awk '/requests in/ {print $1}' "$2")
  # server CPU time per request: a figure that other load on the machine
  # does not inflate the way it inflates wall-clock latency
  cpu=$(awk -v t="$3" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", n ? t * 1000 / hz / n : 0 }')
  printf '%-44s %10s req/s   p50 %8s   p99 %8s   server CPU %s ms/req\n' "$1" "$rps" "$p50" "$p99" "$cpu"
  grep -q 'Non-2xx' "$2" && { echo "  non-2xx answers:"; grep 'Non-2xx' "$2"; }
  return 0
}

echo "hamf server benchmark ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
for sync in normal full; do
  start "lm-$sync.db" "$sync"
  for c in 8 64; do
    [ "$sync" = full ] && [ "$c" = 64 ] && continue
    rid=$(new_run)
    t0=$(cpu_ticks)
    RUN_ID=$rid wrk -t2 -c"$c" -d"${DUR}s" --latency -s "$ROOT/bench/server/log_metric.lua" "$URL" >"$W/wrk.out" 2>&1
    report "log-metric, $c connections, --sync $sync" "$W/wrk.out" $(($(cpu_ticks) - t0))
  done
  stop
done

start search.db normal
t0=$SECONDS
EXP_ID=$(/usr/bin/python3 "$ROOT/bench/server/populate.py" "$URL" "$RUNS")
echo "populated $RUNS runs (create + log-batch each) in $((SECONDS - t0)) s"
for page in 100 1000; do
  t0=$(cpu_ticks)
  EXP_ID=$EXP_ID MAX_RESULTS=$page wrk -t1 -c1 -d"${DUR}s" --latency -s "$ROOT/bench/server/search.lua" \
    "$URL/api/2.0/mlflow/runs/search" >"$W/wrk.out" 2>&1
  report "runs/search filter+order, $RUNS runs, page $page" "$W/wrk.out" $(($(cpu_ticks) - t0))
done
stop
