#!/usr/bin/env bash
# test_public_api.sh — the servers through include/hamf.h only
# (examples/monitor.c: hamf_server_start on a store, hamf_exporter_start
# reading that server over REST, SIGTERM, both stopped): the exporter
# publishes the runs logged through the server (the same scenario as
# test_exporter_rest.sh), the server answers the MLflow API, a stop exits
# 0 within 5 s; a damaged store is refused by hamf_server_start with
# hamf_last_error() naming it, exit 1.
source "$(dirname "$0")/lib.sh"
MON="$HAMF_BUILD/examples/monitor"
[ -x "$MON" ] || fail "examples/monitor not built"

start_monitor() { # NAME DB: sets MON_PID, SRV_URL, EXP_URL
  (cd "$T" && exec "$MON" "$2" 200ms) >"$T/$1.log" 2>"$T/$1.err" &
  MON_PID=$!; mon_register_pid "$MON_PID"
  local i
  for ((i = 0; i < 100; i++)); do grep -q '^exporter ' "$T/$1.log" && break; sleep 0.05; done
  grep -q '^exporter .*(REST)$' "$T/$1.log" || fail "monitor did not start: $(cat "$T/$1.log" "$T/$1.err")"
  SRV_URL=$(sed -n 's/^server //p' "$T/$1.log")
  EXP_URL=$(sed -n 's/^exporter \([^ ]*\) .*/\1/p' "$T/$1.log")
}

start_monitor mon "$T/track.db"
pass "hamf_server_start + hamf_exporter_start: server $SRV_URL, exporter $EXP_URL"
curl -fsS "$SRV_URL/api/2.0/mlflow/experiments/search?max_results=5" | grep -q '"name":"Default"' ||
  fail "server: experiments/search"
core_scenario "$SRV_URL" "$EXP_URL"
stop_pid "$MON_PID"
pass "SIGTERM: hamf_exporter_stop + hamf_server_stop, exit 0"

printf 'this is not a database, just text long enough to be read as a header.%.0s' {1..80} >"$T/bad.db"
set +e
(cd "$T" && "$MON" "$T/bad.db") >"$T/bad.log" 2>"$T/bad.err"; rc=$?
set -e
[ "$rc" = 1 ] || fail "damaged store: exit $rc, want 1"
grep -q "bad.db" "$T/bad.err" || fail "damaged store: message does not name it: $(cat "$T/bad.err")"
pass "a damaged store: hamf_server_start fails naming it ($(head -c 120 "$T/bad.err"))"
