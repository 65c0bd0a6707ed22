#!/usr/bin/env bash
# test_sqlite_files.sh — the SQLite store as files, through the CLI: where
# the store is (default ./hamf.db, $HAMF_DB, --db, sqlite:///abs), WAL mode
# and settings, corrupt / unreadable / locked files (one-line error naming
# the file, bounded wait, store unchanged), and two CLI writers at once.
set -euo pipefail
PY=/usr/bin/python3
die() { echo "FAIL: $*" >&2; exit 1; }
one_line_fail() { # rc-var words... ; reads $T/err
  [ "$(wc -l <"$T/err")" -eq 1 ] || die "not one line: $(cat "$T/err")"
  local w
  for w in "$@"; do grep -qF -- "$w" "$T/err" || die "error lacks '$w': $(cat "$T/err")"; done
  echo "  $(cat "$T/err")"
}

echo "== where the store is"
unset HAMF_DB
"$HAMF" feature add a --type numerical >/dev/null
[ -f ./hamf.db ] || die "default ./hamf.db not created"
HAMF_DB="$T/env.db" "$HAMF" feature add b --type numerical >/dev/null
[ -f "$T/env.db" ] || die "HAMF_DB not used"
HAMF_DB="$T/env.db" "$HAMF" feature add c --type numerical --db "sqlite://$T/flag.db" >/dev/null
[ "$(sqlite3 "$T/flag.db" 'SELECT feature_name FROM features_master')" = c ] || die "--db sqlite:/// not used"
[ "$(sqlite3 "$T/env.db" 'SELECT group_concat(feature_name) FROM features_master')" = b ] || die "--db must win over HAMF_DB"
[ "$(sqlite3 hamf.db 'PRAGMA journal_mode')" = wal ] || die "not WAL"
[ "$(sqlite3 hamf.db 'SELECT component || "=" || version FROM schema_version')" = "registry=1" ] || die "schema_version"
# SQLite keeps the FK/CHECK definitions: a raw write that bypasses hamf still fails.
set +e
sqlite3 hamf.db "PRAGMA foreign_keys=ON; INSERT INTO training_results (model_id, accuracy, f1_score, \"precision\", recall, \"timestamp\") VALUES (5, 50, .5, .5, .5, 'x')" 2>/dev/null
rc=$?; set -e
[ "$rc" -ne 0 ] || die "foreign key not enforced at the table"

echo "== corrupt file"
head -c 4096 /dev/urandom >corrupt.db
cp corrupt.db corrupt.orig
set +e; "$HAMF" feature list --db corrupt.db >"$T/out" 2>"$T/err"; rc=$?; set -e
[ "$rc" -eq 1 ] || die "corrupt: exit $rc"
one_line_fail "corrupt.db" "not a hamf database or damaged"
cmp -s corrupt.db corrupt.orig || die "corrupt file was modified"
[ ! -s "$T/out" ] || die "stdout not empty"
printf 'id,name\n1,x\n' >data.csv
set +e; "$HAMF" model add M --algorithm A --version 1 --db data.csv 2>"$T/err" >/dev/null; rc=$?; set -e
[ "$rc" -eq 1 ] || die "csv as db: exit $rc"
one_line_fail "data.csv" "not a hamf database"
[ "$(cat data.csv)" = "$(printf 'id,name\n1,x')" ] || die "csv modified"

echo "== unreadable"
mkdir adir
set +e; "$HAMF" feature list --db adir 2>"$T/err"; rc=$?; set -e
[ "$rc" -eq 1 ] || die "dir: exit $rc"
one_line_fail "adir" "cannot open"
set +e; "$HAMF" feature list --db "$T/missing/dir/x.db" 2>"$T/err"; rc=$?; set -e
[ "$rc" -eq 1 ] || die "missing dir: exit $rc"
one_line_fail "missing/dir/x.db" "cannot open"
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && runuser -u nobody -- test -x "$HAMF"; then
  # Permission checks do not apply to root: ask an unprivileged user.
  cp hamf.db private.db && chmod 600 private.db && chmod 755 "$T"
  set +e; runuser -u nobody -- "$HAMF" feature list --db "$T/private.db" 2>"$T/err"; rc=$?; set -e
  [ "$rc" -eq 1 ] || die "unreadable: exit $rc"
  one_line_fail "private.db"
fi

echo "== locked: bounded wait, then 'database is locked'"
"$HAMF" model add M --algorithm RF --version v1 >/dev/null
sqlite3 hamf.db .dump >before.sql
# Hold the write lock from another process for 4 s.
( echo "BEGIN IMMEDIATE;"; echo "INSERT INTO audit_log (table_name, operation_type, operation_timestamp) VALUES ('x', 'INSERT', 'x');"
  sleep 4; echo "ROLLBACK;" ) | sqlite3 hamf.db &
holder=$!
sleep 0.5
start=$EPOCHREALTIME
set +e
HAMF_BUSY_TIMEOUT_MS=1000 "$HAMF" result add --model-id 1 --accuracy 99 --f1 .9 --precision .9 --recall .9 >"$T/out" 2>"$T/err"
rc=$?
set -e
took=$($PY -c "print(round($EPOCHREALTIME - $start, 2))")
echo "  waited ${took}s"
[ "$rc" -eq 1 ] || die "locked: exit $rc"
one_line_fail "hamf.db" "database is locked"
$PY -c "import sys; sys.exit(0 if 0.9 <= $took < 3.5 else 1)" || die "wait $took s not bounded by 1 s"
# Reading is not blocked by a writer (WAL).
"$HAMF" model list --json | grep -q '"model_id":1' || die "read blocked"
wait $holder
sqlite3 hamf.db .dump >after.sql
cmp -s before.sql after.sql || die "store changed by the failed write"
# With the default bound (5 s) the writer waits out a short lock and succeeds.
( echo "BEGIN IMMEDIATE;"; sleep 1; echo "COMMIT;" ) | sqlite3 hamf.db &
holder=$!
sleep 0.3
"$HAMF" result add --model-id 1 --accuracy 99 --f1 .9 --precision .9 --recall .9 >/dev/null || die "no wait for a short lock"
wait $holder

echo "== two CLI writers at once"
rm -f conc.db*
"$HAMF" model add M --algorithm RF --version v1 --db conc.db >/dev/null
writer() { for i in $(seq 1 100); do "$HAMF" result add --db conc.db --model-id 1 --accuracy "$1" --f1 .5 --precision .5 --recall .5 >>"$T/ids.$1" || exit 1; done; }
writer 10 & w1=$!
writer 20 & w2=$!
wait $w1 || die "writer 1 failed"
wait $w2 || die "writer 2 failed"
[ "$(sqlite3 conc.db 'SELECT count(*) FROM training_results')" = 200 ] || die "rows lost"
[ "$(sqlite3 conc.db 'SELECT count(*) FROM training_results WHERE accuracy = 10')" = 100 ] || die "writer 1 rows"
[ "$(cat "$T/ids.10" "$T/ids.20" | sort -n | uniq | wc -l)" = 200 ] || die "ids printed are not distinct"
[ "$(sqlite3 conc.db 'PRAGMA integrity_check')" = ok ] || die "integrity"
echo OK
