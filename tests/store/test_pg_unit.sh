#!/usr/bin/env bash
# test_pg_unit.sh — the registry unit tests (tests/unit/test_store.c,
# backend-independent part) against a real PostgreSQL 15 server started
# here, plus connect bounds: a closed port and a peer that accepts but never
# answers must both fail fast with a clear message.
set -euo pipefail
source "$HAMF_ROOT/tests/lib/pg.sh"
pg_start
url=$(pg_newdb unit)
HAMF_TEST_PG_URL=$url "$HAMF_BUILD/tests/test_store"

# Closed port: refused at once.
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
set +e
out=$("$HAMF" feature list --db "postgresql://hamf@127.0.0.1:$port/x" 2>&1); rc=$?
set -e
echo "$out"
[ "$rc" -eq 1 ]
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ]
grep -q "cannot connect to PostgreSQL at postgresql://hamf@127.0.0.1:$port/x" <<<"$out"

# A peer that accepts TCP but never speaks: bounded by connect_timeout.
/usr/bin/python3 - "$T/port" <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
conns = []
end = time.time() + 30
s.settimeout(1)
while time.time() < end:
    try: conns.append(s.accept()[0])
    except socket.timeout: pass
PY
silent=$!
trap 'kill $silent 2>/dev/null || true; pg_stop' EXIT
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
start=$EPOCHREALTIME
set +e
out=$("$HAMF" feature list --db "postgresql://hamf@127.0.0.1:$(cat "$T/port")/x?connect_timeout=2" 2>&1); rc=$?
set -e
took=$(/usr/bin/python3 -c "print(round($EPOCHREALTIME - $start, 2))")
echo "$out (after ${took}s)"
[ "$rc" -eq 1 ]
grep -q "cannot connect to PostgreSQL" <<<"$out"
grep -qi "timeout" <<<"$out"
/usr/bin/python3 -c "import sys; sys.exit(0 if 1.5 <= $took < 6 else 1)"
# The default bound (5 s) applies when the URL sets none.
start=$EPOCHREALTIME
set +e
"$HAMF" feature list --db "postgresql://hamf@127.0.0.1:$(cat "$T/port")/x" 2>/dev/null; rc=$?
set -e
took=$(/usr/bin/python3 -c "print(round($EPOCHREALTIME - $start, 2))")
echo "default bound: ${took}s"
[ "$rc" -eq 1 ]
/usr/bin/python3 -c "import sys; sys.exit(0 if 4 <= $took < 9 else 1)"
kill $silent 2>/dev/null || true
echo OK
