# tests/server/lib.sh — sourced by the server tests: start `hamf server` on a
# free loopback port (--port 0; the port is read from its "listening on"
# line), and stop it by PID (never by name).
#
#   server_start DB_URL ARTIFACTS_DIR [extra args]  # sets SRV_PID, SRV_URL, SRV_LOG
#   server_stop [SIGNAL]                            # default TERM; waits for exit, sets SRV_RC

SRV_PID= SRV_URL= SRV_LOG= SRV_RC=

server_start() {
  local db=$1 art=$2; shift 2
  SRV_LOG=$(mktemp "${T:-/tmp}/server.XXXXXX.log")
  "$HAMF" server --port 0 --db "$db" --artifacts-dir "$art" "$@" >"$SRV_LOG" 2>&1 &
  SRV_PID=$!
  local i
  for i in $(seq 1 100); do
    SRV_URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$SRV_LOG" | head -n 1 || true)
    [ -n "$SRV_URL" ] && return 0
    kill -0 "$SRV_PID" 2>/dev/null || { cat "$SRV_LOG" >&2; return 1; }
    sleep 0.05
  done
  echo "server did not start" >&2; cat "$SRV_LOG" >&2
  return 1
}

server_stop() {
  local sig=${1:-TERM}
  [ -n "$SRV_PID" ] || return 0
  kill -"$sig" "$SRV_PID" 2>/dev/null || true
  SRV_RC=0
  wait "$SRV_PID" || SRV_RC=$?
  SRV_PID=
}

trap 'server_stop KILL' EXIT
