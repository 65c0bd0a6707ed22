#!/usr/bin/env bash
# test_limits.sh — issue 18 items 1, 2 and 4 over loopback: oversized heads
# get 414/431 with a JSON body at once (never a hang), non-UTF-8 paths and
# query arguments get 400, and 1,000 slow or silent connections from one
# address neither lock out other clients nor outlive the header deadline
# (limits.py; bounded: about 10 s).
set -euo pipefail
source "$HAMF_ROOT/tests/server/lib.sh"
ulimit -n 4096 2>/dev/null || true
server_start "$T/l.db" "$T/art" --threads 4 --header-timeout 2 --max-connections-per-ip 100
timeout 60 /usr/bin/python3 "$HAMF_ROOT/tests/server/limits.py" "$SRV_URL" 2 100
server_stop TERM
[ "$SRV_RC" -eq 0 ]
# flags are checked
if "$HAMF" server --max-connections-per-ip 0 2>err.txt; then exit 1; fi
grep -q -- '--max-connections-per-ip must be' err.txt
if "$HAMF" server --header-timeout x 2>err.txt; then exit 1; fi
grep -q -- '--header-timeout must be' err.txt
echo OK
