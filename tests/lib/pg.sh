# tests/lib/pg.sh — sourced by tests that need a real PostgreSQL 15 server.
#
#   source "$HAMF_ROOT/tests/lib/pg.sh"
#   pg_start                 # initdb + start a throwaway server; sets PG_PORT,
#                            # PG_HOST, PG_URL (database "postgres"); stops
#                            # it on EXIT
#   url=$(pg_newdb name)     # a fresh, empty database; prints its URL
#   pg_psql db -c 'SQL'      # run psql against database db
#   pg_stop                  # stop now (also runs on EXIT)
#
# The server lives in a temp dir on a free loopback port with its unix socket
# in the same dir, fsync off (tests only), trust auth for user "hamf". initdb
# and postgres refuse to run as root, so as root they run as the `postgres`
# system user (runuser) in a dir owned by it. Stopping is by the postmaster's
# PID (SIGINT = fast shutdown, SIGKILL after 10 s), never by name.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR= PG_PID= PG_PORT= PG_HOST=127.0.0.1 PG_URL=

_pg_as() { # run a command as the server's user
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

_pg_free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pg_start() {
  [ -x "$PG_BIN/initdb" ] || { echo "pg.sh: $PG_BIN/initdb not found (apt-get install postgresql)" >&2; return 1; }
  PG_DIR=$(mktemp -d /tmp/hamf-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DIR"
  trap pg_stop EXIT
  if ! _pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U hamf -A trust -E UTF8 --no-sync \
        >"$PG_DIR/initdb.log" 2>&1; then
    cat "$PG_DIR/initdb.log" >&2; return 1
  fi
  local try
  for try in 1 2 3; do
    PG_PORT=$(_pg_free_port)
    if _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
         -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" \
         start >/dev/null 2>&1; then
      PG_PID=$(head -n 1 "$PG_DIR/data/postmaster.pid")
      PG_URL="postgresql://hamf@$PG_HOST:$PG_PORT/postgres"
      _pg_watch $$ "$PG_PID" "$PG_DIR"
      return 0
    fi
  done
  cat "$PG_DIR/server.log" >&2
  return 1
}

# If the test shell dies without its EXIT trap (SIGKILL, a killed runner),
# this watcher stops the server; it exits by itself within a second of the
# server stopping normally.
_pg_watch() { # owner-pid server-pid dir
  ( trap '' INT TERM HUP
    while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
    if kill -0 "$2" 2>/dev/null; then
      kill -INT "$2" 2>/dev/null; sleep 3; kill -KILL "$2" 2>/dev/null; rm -rf "$3"
    fi ) </dev/null >/dev/null 2>&1 &
}

pg_psql() { # db args...
  local db=$1; shift
  psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U hamf -d "$db" "$@"
}

pg_newdb() { # name -> prints URL of a fresh database
  PGOPTIONS="-c client_min_messages=warning" pg_psql postgres -c "DROP DATABASE IF EXISTS \"$1\"" -c "CREATE DATABASE \"$1\"" >/dev/null || return 1
  echo "postgresql://hamf@$PG_HOST:$PG_PORT/$1"
}

pg_stop() { # safe under set -e, from an EXIT trap, and when called twice
  if [ -n "$PG_PID" ] && kill -0 "$PG_PID" 2>/dev/null; then
    kill -INT "$PG_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$PG_PID" 2>/dev/null; then kill -KILL "$PG_PID" 2>/dev/null || true; fi
  fi
  PG_PID=
  if [ -n "$PG_DIR" ]; then rm -rf "$PG_DIR" || true; fi
  PG_DIR=
  return 0
}
