#!/usr/bin/env bash
# test_durability.sh — every write answered 200 survives kill -9 of the
# server (SQLite WAL, commit before answering; artifacts fsynced and renamed
# into place), and SIGTERM finishes the request in flight before exiting 0.
set -euo pipefail
source "$HAMF_ROOT/tests/server/lib.sh"
server_start "$T/d.db" "$T/art"
/usr/bin/python3 "$HAMF_ROOT/tests/server/durability.py" write "$SRV_URL" "$SRV_PID" "$T/state.json"
server_stop KILL
[ "$SRV_RC" -eq 137 ] || { echo "expected SIGKILL exit, got $SRV_RC"; exit 1; }
server_start "$T/d.db" "$T/art"
/usr/bin/python3 "$HAMF_ROOT/tests/server/durability.py" verify "$SRV_URL" "$SRV_PID" "$T/state.json"
# no temp files left behind by completed uploads
if find "$T/art" -name '.hamf-upload-*' | grep -q .; then echo "leftover temp file"; exit 1; fi

# graceful stop with a request in flight
/usr/bin/python3 "$HAMF_ROOT/tests/server/durability.py" inflight "$SRV_URL" "$SRV_PID" "$T/art"
t0=$SECONDS
SRV_RC=0; wait "$SRV_PID" || SRV_RC=$?; SRV_PID=
[ $((SECONDS - t0)) -lt 10 ] || { echo "stop waited $((SECONDS - t0)) s: a request was counted in flight forever"; exit 1; }
[ "$SRV_RC" -eq 0 ] || { echo "server exit $SRV_RC after SIGTERM"; cat "$SRV_LOG"; exit 1; }
grep -q "SIGTERM received" "$SRV_LOG"
grep -q "stopped" "$SRV_LOG"
echo OK
