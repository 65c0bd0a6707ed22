#!/usr/bin/env bash
# test_mlflow_ui_api_pg.sh — test_mlflow_ui_api.sh's checks with the
# tracking store on a real PostgreSQL server (tests/lib/pg.sh): the store
# change behind --default-artifact-root (the Default experiment's and new
# experiments' locations) and the store reads the UI routes use (metric
# history, run search with inputs) must behave the same on both backends.
set -euo pipefail
source "$HAMF_ROOT/tests/lib/pg.sh"
pg_start
source "$HAMF_ROOT/tests/server/lib.sh"
trap 'server_stop KILL; pg_stop' EXIT
PY=/usr/bin/python3
mkdir -p work && cd work

server_start "$(pg_newdb uiproxied)" "$T/art"
$PY "$HAMF_ROOT/tests/server/mlflow_ui_api.py" proxied "$SRV_URL" "$T/art"
server_stop TERM
[ "$SRV_RC" -eq 0 ]

mkdir -p "$T/root"
url=$(pg_newdb uiroot)
server_start "$url" "$T/art3" --default-artifact-root "file://$T/root"
$PY "$HAMF_ROOT/tests/server/mlflow_ui_api.py" root "$SRV_URL" "$T/art3" "$T/root"
server_stop TERM
[ "$SRV_RC" -eq 0 ]
echo OK
