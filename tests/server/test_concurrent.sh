#!/usr/bin/env bash
# test_concurrent.sh — concurrent keep-alive writers through the group
# commit, with both SQLite sync modes: every acknowledged write is stored
# once, rejected writes leave nothing and undo nothing else.
set -euo pipefail
source "$HAMF_ROOT/tests/server/lib.sh"
for mode in normal full; do
  server_start "$T/c-$mode.db" "$T/art" --sync "$mode" --threads 4
  /usr/bin/python3 "$HAMF_ROOT/tests/server/concurrent.py" "$SRV_URL"
  server_stop TERM
  [ "$SRV_RC" -eq 0 ]
done
echo OK
