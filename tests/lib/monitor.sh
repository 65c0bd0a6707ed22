# tests/lib/monitor.sh — sourced by tests that need the real monitoring chain:
# Prometheus and Alertmanager from Debian's packages (/usr/bin/prometheus,
# /usr/bin/prometheus-alertmanager) on free loopback ports with temp data
# dirs, configured from deploy/ (rendered by tests/lib/monitor_render.py:
# 1 s scrape/evaluation, short `for:` and grouping, receivers redirected to a
# webhook sink), plus that sink (tests/lib/webhook_sink.py) recording every
# notification. Owns the lifecycle: everything it starts — and whatever the
# test hands to mon_register_pid — is stopped by PID on exit (EXIT trap,
# chained after any trap the test had set).
#
#   source "$HAMF_ROOT/tests/lib/monitor.sh"
#   mon_start --exporter 127.0.0.1:$PORT [--server 127.0.0.1:$PORT2] [--serve 127.0.0.1:$PORT3]
#             [--retrain-url http://127.0.0.1:$P/api/hamf/v1/alerts] [--for 2s]
#   mon_wait_target_up hamf-exporter 15
#   mon_wait_alert ModelAccuracyLow firing 30 [--receiver ml-email] [--label k=v]
#   mon_alert_count ModelF1Low firing
#   mon_rule_state ModelF1Low          # inactive | pending | firing
#   mon_query 'mlflow_model_accuracy'  # Prometheus /api/v1/query JSON
#   mon_check_metrics http://127.0.0.1:$PORT/metrics   # promtool check metrics
#
# After mon_start: MON_DIR (configs, data, logs), MON_PROM_URL, MON_AM_URL,
# MON_SINK_URL, MON_SINK_LOG. On failure, functions print the reason and the
# tail of the relevant log to stderr and return non-zero.

MON_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MON_ROOT=$(cd "$MON_LIB/../.." && pwd)
MON_PY=/usr/bin/python3
MON_PIDS=()
MON_DIR=""

# mon_register_pid PID...: stop these with everything else on exit.
mon_register_pid() { MON_PIDS+=("$@"); }

# mon_free_port: print a TCP port that is free on 127.0.0.1 right now.
mon_free_port() {
  "$MON_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# mon_wait_http URL TIMEOUT_S: wait until URL answers 2xx.
mon_wait_http() {
  local url=$1 timeout=${2:-15} start=$SECONDS
  until curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; do
    if (( SECONDS - start >= timeout )); then
      echo "monitor: $url not ready after ${timeout}s" >&2; return 1
    fi
    sleep 0.1
  done
}

# mon_stop: stop every registered process (TERM, then KILL after 5 s).
mon_stop() {
  local pid i
  [ ${#MON_PIDS[@]} -eq 0 ] && return 0
  for pid in "${MON_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${MON_PIDS[@]}"; do
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "monitor: pid $pid ignored SIGTERM, killing" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  MON_PIDS=()
}

_mon_prev_exit_trap=""
_mon_trap_set=0
_mon_on_exit() {
  local rc=$?
  mon_stop
  if [ -n "$_mon_prev_exit_trap" ]; then eval "$_mon_prev_exit_trap"; fi
  return $rc
}
# shellcheck disable=SC2120  # `set --` parses `trap -p` output, not arguments
_mon_install_trap() {
  [ "$_mon_trap_set" = 1 ] && return 0
  local prev
  prev=$(trap -p EXIT)
  if [ -n "$prev" ]; then
    eval "set -- $prev"          # trap -- 'command' EXIT
    _mon_prev_exit_trap=$3
  fi
  trap _mon_on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  _mon_trap_set=1
}

# _mon_log_tail NAME: show the end of a component's log.
_mon_log_tail() { [ -f "$MON_DIR/$1.log" ] && tail -n 20 "$MON_DIR/$1.log" | sed "s/^/    [$1] /" >&2; }

# mon_start [--exporter HOST:PORT] [--server HOST:PORT] [--serve HOST:PORT] [--retrain-url URL]
#           [--for DURATION] [--dir DIR]
mon_start() {
  local exporter="" server="" serve="" retrain="" for_dur="2s" dir=""
  while [ $# -gt 0 ]; do
    case $1 in
      --exporter) exporter=$2; shift 2 ;;
      --server) server=$2; shift 2 ;;
      --serve) serve=$2; shift 2 ;;
      --retrain-url) retrain=$2; shift 2 ;;
      --for) for_dur=$2; shift 2 ;;
      --dir) dir=$2; shift 2 ;;
      *) echo "mon_start: unknown option $1" >&2; return 2 ;;
    esac
  done
  if [ -z "$exporter" ] && [ -z "$server" ] && [ -z "$serve" ]; then
    echo "mon_start: give --exporter, --server and/or --serve" >&2; return 2
  fi
  local bin
  for bin in /usr/bin/prometheus /usr/bin/prometheus-alertmanager; do
    [ -x "$bin" ] || { echo "monitor: $bin missing (scripts/install-deps.sh)" >&2; return 1; }
  done
  _mon_install_trap
  MON_DIR=${dir:-$(mktemp -d "${T:-/tmp}/monitor.XXXXXX")}
  mkdir -p "$MON_DIR/prom-data" "$MON_DIR/am-data"

  # 1. the webhook sink: the kernel picks its port, it writes it down.
  MON_SINK_LOG="$MON_DIR/notifications.jsonl"
  : >"$MON_SINK_LOG"
  "$MON_PY" "$MON_LIB/webhook_sink.py" serve --log "$MON_SINK_LOG" \
    --port-file "$MON_DIR/sink.port" >"$MON_DIR/sink.log" 2>&1 &
  mon_register_pid $!
  local i
  for ((i = 0; i < 100; i++)); do [ -s "$MON_DIR/sink.port" ] && break; sleep 0.05; done
  [ -s "$MON_DIR/sink.port" ] || { echo "monitor: webhook sink did not start" >&2; _mon_log_tail sink; return 1; }
  MON_SINK_URL="http://127.0.0.1:$(cat "$MON_DIR/sink.port")"

  # 2. Alertmanager and Prometheus on free ports (retry if a port was taken
  #    between choosing and binding it).
  local attempt am_port prom_port
  for attempt in 1 2 3; do
    am_port=$(mon_free_port); prom_port=$(mon_free_port)
    "$MON_PY" "$MON_LIB/monitor_render.py" --deploy "$MON_ROOT/deploy" --out "$MON_DIR" \
      --prom-port "$prom_port" --am-port "$am_port" --sink "$MON_SINK_URL" \
      --exporter "$exporter" --server "$server" --serve "$serve" --retrain-url "$retrain" --for "$for_dur" \
      || { echo "monitor: rendering configs failed" >&2; return 1; }
    /usr/bin/prometheus-alertmanager --config.file="$MON_DIR/alertmanager.yml" \
      --storage.path="$MON_DIR/am-data" --web.listen-address="127.0.0.1:$am_port" \
      --cluster.listen-address= --log.level=debug >"$MON_DIR/alertmanager.log" 2>&1 &
    MON_AM_PID=$!; mon_register_pid $MON_AM_PID
    /usr/bin/prometheus --config.file="$MON_DIR/prometheus.yml" \
      --storage.tsdb.path="$MON_DIR/prom-data" --web.listen-address="127.0.0.1:$prom_port" \
      --rules.alert.resend-delay=1s --log.level=info >"$MON_DIR/prometheus.log" 2>&1 &
    MON_PROM_PID=$!; mon_register_pid $MON_PROM_PID
    MON_AM_URL="http://127.0.0.1:$am_port"
    MON_PROM_URL="http://127.0.0.1:$prom_port"
    if mon_wait_http "$MON_AM_URL/-/ready" 15 && mon_wait_http "$MON_PROM_URL/-/ready" 15; then
      echo "monitor: prometheus $MON_PROM_URL (pid $MON_PROM_PID), alertmanager $MON_AM_URL (pid $MON_AM_PID), sink $MON_SINK_URL, dir $MON_DIR"
      return 0
    fi
    if grep -q "address already in use" "$MON_DIR"/prometheus.log "$MON_DIR"/alertmanager.log 2>/dev/null; then
      echo "monitor: port race, retrying ($attempt)" >&2
      kill -TERM "$MON_AM_PID" "$MON_PROM_PID" 2>/dev/null || true
      wait "$MON_AM_PID" "$MON_PROM_PID" 2>/dev/null || true
      continue
    fi
    break
  done
  echo "monitor: Prometheus/Alertmanager did not become ready" >&2
  _mon_log_tail prometheus; _mon_log_tail alertmanager
  return 1
}

# mon_check_metrics URL: scrape URL and run `promtool check metrics` on it
# (exposition-format lint: names, HELP/TYPE, counters ending in _total).
mon_check_metrics() {
  local body
  body=$(curl -fsS --max-time 5 "$1") || { echo "monitor: cannot scrape $1" >&2; return 1; }
  promtool check metrics <<<"$body"
}

# mon_query PROMQL: Prometheus instant query, prints the JSON answer.
mon_query() {
  curl -fsS --max-time 5 --data-urlencode "query=$1" "$MON_PROM_URL/api/v1/query"
}

# mon_query_value PROMQL: print the value of a one-sample answer ("" if none).
mon_query_value() {
  mon_query "$1" | "$MON_PY" -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if len(r) == 1 else "")'
}

# mon_wait_target_up JOB [TIMEOUT_S]: wait until Prometheus scraped JOB with up == 1.
mon_wait_target_up() {
  local job=$1 timeout=${2:-15} start=$SECONDS v
  while :; do
    v=$(mon_query_value "up{job=\"$job\"}" 2>/dev/null || true)
    [ "$v" = 1 ] && return 0
    if (( SECONDS - start >= timeout )); then
      echo "monitor: target $job not up after ${timeout}s (up=$v)" >&2
      curl -fsS "$MON_PROM_URL/api/v1/targets" >&2 || true; echo >&2
      return 1
    fi
    sleep 0.2
  done
}

# mon_rule_state ALERTNAME: Prometheus' state of that alerting rule — the
# "highest" over rules sharing the name: firing > pending > inactive.
# Fails if the rule is unknown or has not been evaluated without error.
mon_rule_state() {
  curl -fsS --max-time 5 "$MON_PROM_URL/api/v1/rules?type=alert" | "$MON_PY" -c '
import json, sys
name = sys.argv[1]
rules = [r for g in json.load(sys.stdin)["data"]["groups"] for r in g["rules"] if r["name"] == name]
if not rules:
    sys.exit(f"monitor: no alerting rule {name}")
for r in rules:
    if r.get("health") != "ok":
        sys.exit("monitor: rule %s health %s: %s" % (name, r.get("health"), r.get("lastError")))
order = ["inactive", "pending", "firing"]
print(max((r["state"] for r in rules), key=order.index))' "$1"
}

# mon_wait_alert ALERTNAME firing|resolved [TIMEOUT_S] [--receiver R] [--label k=v]... [--since UNIX]:
# wait until the sink received that alert with that status; prints seconds waited.
mon_wait_alert() {
  local name=$1 status=$2 timeout=30
  shift 2
  if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then timeout=$1; shift; fi
  if ! "$MON_PY" "$MON_LIB/webhook_sink.py" wait --log "$MON_SINK_LOG" --alert "$name" \
       --status "$status" --timeout "$timeout" "$@"; then
    echo "monitor: no $status $name notification within ${timeout}s ($*)" >&2
    echo "monitor: rule state: $(mon_rule_state "$name" 2>&1)" >&2
    echo "monitor: notifications so far:" >&2; cut -c1-300 "$MON_SINK_LOG" >&2
    _mon_log_tail alertmanager
    return 1
  fi
}

# mon_alert_count ALERTNAME [firing|resolved] [--receiver R] [--label k=v]...
mon_alert_count() {
  local name=$1; shift
  local args=()
  if [ $# -gt 0 ] && [[ $1 != --* ]]; then args+=(--status "$1"); shift; fi
  "$MON_PY" "$MON_LIB/webhook_sink.py" count --log "$MON_SINK_LOG" --alert "$name" "${args[@]}" "$@"
}
