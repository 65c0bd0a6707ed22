#!/usr/bin/env bash
# test_exporter_pg.sh — `hamf exporter --db postgresql://…` reading the
# tracking store on a real PostgreSQL server (tests/lib/pg.sh) while `hamf
# server` writes to it: the core scenario (labels, missing metrics, RUNNING
# ignored, no stale series, promtool); then PostgreSQL is stopped: the last
# values stay with hamf_exporter_up 0 and errors_total rising; PostgreSQL is
# started again on the same port: the exporter reconnects (up 1).
set -euo pipefail
ROOT=${HAMF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/lib/pg.sh
source "$ROOT/tests/lib/pg.sh"
pg_start || { echo "FAIL: PostgreSQL did not start"; exit 1; }
source "$(dirname "$0")/lib.sh"     # chains its EXIT trap after pg_stop
url=$(pg_newdb tracking) || fail "create database"

start_server srv "$url"
start_exporter exp --db "$url" --interval 200ms
grep -q "source store postgresql://" "$T/exp.log" || fail "not the PostgreSQL store: $(cat "$T/exp.log")"
MAIN_URL=$EXP_URL
pass "server and exporter on $url"
core_scenario "$SRV_URL" "$MAIN_URL"

# Stop PostgreSQL (fast shutdown of the postmaster, by PID).
kill -INT "$PG_PID"
for _ in $(seq 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$PG_PID" 2>/dev/null || fail "PostgreSQL did not stop"
s="$T/down.txt"
down() { scrape "$MAIN_URL" "$s" && [ "$(value "$s" hamf_exporter_up)" = 0 ]; }
wait_until 10 "hamf_exporter_up 0 with PostgreSQL down" down
e1=$(value "$s" hamf_exporter_errors_total)
sleep 1
scrape "$MAIN_URL" "$s"
e2=$(value "$s" hamf_exporter_errors_total)
(( e2 > e1 )) || fail "errors_total did not rise: $e1 -> $e2"
[ "$(value "$s" mlflow_model_accuracy "$CORE_R2")" = 97 ] || fail "last values not kept: $(cat "$s")"
pass "PostgreSQL down: last values kept, hamf_exporter_up 0, errors_total $e1 -> $e2"

_pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
  -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" \
  start >/dev/null || fail "PostgreSQL did not restart on port $PG_PORT"
PG_PID=$(head -n 1 "$PG_DIR/data/postmaster.pid")
up() { scrape "$MAIN_URL" "$s" && [ "$(value "$s" hamf_exporter_up)" = 1 ]; }
wait_until 10 "reconnect after PostgreSQL came back" up
grep -qF "$CORE_R2" "$s" || fail "r2 missing after reconnect"
pass "PostgreSQL back on port $PG_PORT: exporter reconnected, hamf_exporter_up 1"
