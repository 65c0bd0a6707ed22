#!/usr/bin/env bash
# test_registry_api_pg.sh — registry_client.py against `hamf server` on a
# real PostgreSQL server (tests/lib/pg.sh): the registry SQL and its
# migration over the loop tables must behave as on SQLite.
set -euo pipefail
source "$HAMF_ROOT/tests/lib/pg.sh"
pg_start
url=$(pg_newdb registry)
source "$HAMF_ROOT/tests/server/lib.sh"
trap 'server_stop KILL; pg_stop' EXIT
server_start "$url" "$T/art"
/usr/bin/python3 "$HAMF_ROOT/tests/registry/registry_client.py" "$SRV_URL" "$url" "$HAMF"
server_stop TERM
[ "$SRV_RC" -eq 0 ]
echo OK
