#!/usr/bin/env bash
# test_registry_pg.sh — the same registry CLI suite (registry_suite.sh)
# against a real PostgreSQL 15 server started for this test (tests/lib/pg.sh);
# dumps compare rows, sequence positions, columns and constraints.
set -euo pipefail
source "$HAMF_ROOT/tests/lib/pg.sh"
pg_start
BACKEND=pg
newdb() { DB=$(pg_newdb "$1"); DBNAME=$1; }
# The whole store in one psql round trip (pg_dump takes 0.2 s a call, and
# the suite dumps twice per bad-input case): every table's rows in key
# order, every sequence's position, the columns and the constraints.
dump() {
  local t q=""
  for t in schema_version features_master models_master features_models_map training_results audit_log; do
    q+="SELECT '$t', row_to_json(x)::text FROM (SELECT * FROM $t ORDER BY 1) x;"
  done
  q+="SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1;"
  q+="SELECT table_name, column_name, data_type, column_default, is_nullable FROM information_schema.columns"
  q+=" WHERE table_schema = 'public' ORDER BY 1, 2;"
  q+="SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
  q+=" WHERE connamespace = 'public'::regnamespace ORDER BY 1;"
  pg_psql "$DBNAME" -A -t -c "$q"
}
source "$HAMF_ROOT/tests/store/registry_suite.sh"
run_suite
