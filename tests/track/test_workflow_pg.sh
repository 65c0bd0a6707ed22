#!/usr/bin/env bash
# hamf workflow run on a PostgreSQL store (tests/lib/pg.sh): registry rows,
# both runs FINISHED in the same database with training_results linked,
# and the exported accuracy of the newest (GB) run.
set -euo pipefail
ROOT=${HAMF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/lib/pg.sh
source "$ROOT/tests/lib/pg.sh"
pg_start || { echo "FAIL: PostgreSQL did not start"; exit 1; }
source "$ROOT/tests/track/lib.sh"     # chains its EXIT trap after pg_stop
cd "$T"
url=$(pg_newdb wf) || fail "create database"

"$HAMF" workflow run --db "$url" --rows 2000 --gb-estimators 50 --rf-estimators 20 --dir out --json > r.json ||
  fail "workflow run on PostgreSQL"
"$HAMF" result list --db "$url" --json > results.json
"$PY" - r.json results.json <<'PYEOF' || fail "PostgreSQL registry/runs"
import json, sys
r, res = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert [m["model_version"] for m in r["models"]] == ["v1", "v2"], r
assert [x["run_id"] for x in res[1:]] == [m["run_id"] for m in r["models"]], res
PYEOF
for run in $(jget '" ".join(m["run_id"] for m in d["models"])' < r.json); do
  "$HAMF" runs show "$run" --db "$url" | grep -Eq '^status: +FINISHED' || fail "run $run not FINISHED in PostgreSQL"
done
start_exporter exp --db "$url" --interval 1s
gb=$(jget 'd["models"][1]["run_id"]' < r.json)
curl -fsS "$EXP_URL" | grep -q "^mlflow_model_accuracy{.*run_id=\"$gb\"" || fail "exporter on PostgreSQL"
pass "workflow run on $url: registry, runs, /metrics"
