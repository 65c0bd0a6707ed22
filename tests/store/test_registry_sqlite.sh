#!/usr/bin/env bash
# test_registry_sqlite.sh — the registry CLI suite (registry_suite.sh) on
# SQLite files; dumps compare with `sqlite3 FILE .dump`.
set -euo pipefail
BACKEND=sqlite
newdb() { DB="$T/$1.db"; rm -f "$DB" "$DB-wal" "$DB-shm"; }
dump() { sqlite3 "$DB" .dump; }
source "$HAMF_ROOT/tests/store/registry_suite.sh"
run_suite
