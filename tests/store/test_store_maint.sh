#!/usr/bin/env bash
# test_store_maint.sh — issue 18 items 7 and 12: a 0-byte, cut-short or
# damaged store file is refused (commands, `hamf store check`, and the
# server before it listens) instead of being served or silently made a new
# empty store; a new path still starts a store. `hamf store backup` under a
# write load through the server gives a consistent copy holding every write
# acknowledged before it started; `hamf store restore` puts it back.
set -euo pipefail
source "$HAMF_ROOT/tests/server/lib.sh"
fails() { # fails PATTERN cmd... : exit 1 and PATTERN on stderr
  local pat=$1; shift
  local rc=0; "$@" >out.txt 2>err.txt || rc=$?
  [ "$rc" -eq 1 ] || { echo "FAIL: $* exited $rc"; cat out.txt err.txt; exit 1; }
  grep -q "$pat" err.txt || { echo "FAIL: $* said:"; cat err.txt; exit 1; }
}

# a new path starts a store
"$HAMF" feature add f1 --type numerical --db s.db
for i in $(seq 40); do "$HAMF" feature add "g$i" --type categorical --db s.db >/dev/null; done
[ "$("$HAMF" store check --db s.db)" = ok ]
[ "$("$HAMF" store check --full --db s.db)" = ok ]
cp s.db good.db

# 0 bytes: refused everywhere, nothing initialised
: > s.db
fails 'the file is empty (0 bytes)' "$HAMF" feature list --db s.db
[ "$(stat -c %s s.db)" -eq 0 ]
fails 'the file is empty (0 bytes)' "$HAMF" store check --db s.db
fails 'the file is empty (0 bytes)' "$HAMF" server --port 0 --db s.db --artifacts-dir art

# last byte cut off
cp good.db s.db; truncate -s -1 s.db
fails 'not a whole number of 4096-byte pages' "$HAMF" feature list --db s.db
fails 'not a whole number' "$HAMF" server --port 0 --db s.db --artifacts-dir art

# a damaged b-tree page: quick_check at server start
cp good.db s.db
python3 -c "f=open('s.db','r+b'); f.seek(4096*3); f.write(b'\xff'*4); f.close()"
fails 'damaged (quick_check)' "$HAMF" store check --db s.db
fails 'damaged (quick_check)' "$HAMF" server --port 0 --db s.db --artifacts-dir art

# restore puts the good copy back
"$HAMF" store restore good.db --db s.db
"$HAMF" feature list --db s.db | grep -q g40
fails 'already exists' "$HAMF" store backup good.db --db s.db
echo 'not a database' > junk.txt; : > empty.db
fails 'not a hamf store backup' "$HAMF" store restore junk.txt --db s.db
fails 'not a hamf store backup' "$HAMF" store restore empty.db --db s.db
"$HAMF" feature list --db s.db | grep -q g40
fails 'pg_dump' "$HAMF" store backup x.db --db postgresql://u@127.0.0.1:1/x

# backup during a write load, then restore: every acknowledged write is there
server_start "$T/load.db" "$T/art" --threads 4
python3 "$HAMF_ROOT/tests/store/backup_load.py" "$SRV_URL" "$HAMF" "$T/load.db" "$T/backup.db" acks.json
server_stop TERM
[ "$SRV_RC" -eq 0 ]
[ "$("$HAMF" store check --full --db "$T/backup.db")" = ok ]
"$HAMF" store restore "$T/backup.db" --db "$T/load.db"
server_start "$T/load.db" "$T/art" --threads 2
python3 "$HAMF_ROOT/tests/store/backup_load.py" check "$SRV_URL" acks.json
server_stop TERM
echo OK
