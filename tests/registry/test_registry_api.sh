#!/usr/bin/env bash
# test_registry_api.sh — MLflow's Model Registry REST API on `hamf server`
# with a SQLite store, driven by registry_client.py (JSON shapes, search,
# pages, MLflow's errors with the store unchanged, and the same registry
# seen through `hamf model versions/promote/rollback`).
set -euo pipefail
source "$HAMF_ROOT/tests/server/lib.sh"
server_start "$T/reg.db" "$T/art"
/usr/bin/python3 "$HAMF_ROOT/tests/registry/registry_client.py" "$SRV_URL" "$T/reg.db" "$HAMF"
server_stop TERM
[ "$SRV_RC" -eq 0 ]
echo OK
