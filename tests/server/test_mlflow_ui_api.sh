#!/usr/bin/env bash
# test_mlflow_ui_api.sh — MLflow 2.12's server routes beyond the protobuf
# API (the UI's /ajax-api/ prefix and extras, /get-artifact, MIME types,
# error texts, ?path=<file>, log-model, log-inputs validation) over real
# HTTP against `hamf server` on a SQLite file; then --max-artifact-bytes
# (413, nothing partial kept) and --default-artifact-root (file:// roots
# served read-only) on fresh servers. tests/server/mlflow_ui_api.py holds
# the checks.
set -euo pipefail
source "$HAMF_ROOT/tests/server/lib.sh"
PY=/usr/bin/python3
mkdir -p work && cd work   # the server's cwd: relative artifact locations resolve here

server_start "$T/ui.db" "$T/art"
$PY "$HAMF_ROOT/tests/server/mlflow_ui_api.py" proxied "$SRV_URL" "$T/art"
server_stop TERM
[ "$SRV_RC" -eq 0 ]

server_start "$T/limit.db" "$T/art2" --max-artifact-bytes 1000
$PY "$HAMF_ROOT/tests/server/mlflow_ui_api.py" limit "$SRV_URL" "$T/art2"
server_stop TERM
[ "$SRV_RC" -eq 0 ]

mkdir -p "$T/root"
server_start "$T/root.db" "$T/art3" --default-artifact-root "file://$T/root"
$PY "$HAMF_ROOT/tests/server/mlflow_ui_api.py" root "$SRV_URL" "$T/art3" "$T/root"
server_stop TERM
[ "$SRV_RC" -eq 0 ]

# bad flags are refused before serving
rc=0; "$HAMF" server --port 0 --max-artifact-bytes 0 2>err.txt || rc=$?
[ "$rc" -eq 2 ] && grep -q "max-artifact-bytes" err.txt
rc=0; "$HAMF" server --port 0 --db "$T/x.db" --default-artifact-root "file://otherhost/x" 2>err.txt || rc=$?
[ "$rc" -ne 0 ] && grep -q "not a local file URI" err.txt
echo OK
