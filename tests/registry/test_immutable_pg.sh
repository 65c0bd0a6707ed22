#!/usr/bin/env bash
# test_immutable_pg.sh — test_immutable.sh with the store on a real
# PostgreSQL server: the same sha256 copies under the artifact root, the
# same refusal of a changed copy.
set -euo pipefail
source "$HAMF_ROOT/tests/lib/pg.sh"
pg_start
trap 'pg_stop' EXIT
export HAMF_DB=$(pg_newdb immutable) HAMF_ARTIFACTS_DIR="$T/mlartifacts"
source "$HAMF_ROOT/tests/registry/immutable_body.sh"
