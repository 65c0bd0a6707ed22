#!/usr/bin/env bash
# test_api_pg.sh — the same MLflow REST client test as test_api.sh, with the
# tracking store on a real PostgreSQL server (tests/lib/pg.sh): the tracking
# SQL is written once on db.h and must behave the same on both backends.
set -euo pipefail
source "$HAMF_ROOT/tests/lib/pg.sh"
pg_start
url=$(pg_newdb tracking)
source "$HAMF_ROOT/tests/server/lib.sh"
trap 'server_stop KILL; pg_stop' EXIT
server_start "$url" "$T/art"
/usr/bin/python3 "$HAMF_ROOT/tests/server/mlflow_client.py" "$SRV_URL" "$T/art"
server_stop TERM
[ "$SRV_RC" -eq 0 ]
"$HAMF" runs list --db "$url" --experiment "Phishing Detection Experiment" | grep -q first-run
echo OK
