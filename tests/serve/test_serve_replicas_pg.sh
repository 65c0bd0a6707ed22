#!/usr/bin/env bash
# tests/serve/test_serve_replicas_pg.sh — two `hamf serve models:/NAME@champion`
# replicas on one PostgreSQL registry (a real PostgreSQL 15 started here,
# tests/lib/pg.sh) both follow the alias under load: 8 keep-alive client
# connections (4 per replica) send single-row requests while
#   1. `hamf model promote NAME 2 --db postgresql://...` and then
#   2. the MLflow REST call registered-models/alias (champion -> 3) made
#      against a `hamf server` on the same database
#   3. every connection to the database is killed (pg_terminate_backend:
#      the replicas' kept poll connections die), then `hamf model promote
#      NAME 1` — the replicas reconnect and follow
# move the alias. After each move both replicas must answer with the new
# version (X-Hamf-Model-Version and hamf_serve_model_info on /metrics)
# within 2 s (default --poll 1), every answer must score exactly as the
# version it names (`hamf predict models:/NAME/V`), and 0 requests may fail.
# Assertions: serve_replicas.py.
set -euo pipefail
# shellcheck source=tests/lib/pg.sh
source "$HAMF_ROOT/tests/lib/pg.sh"
fail() { echo "FAIL: $*"; exit 1; }
NAME=PhishingDetectionModel
cd "$T"
export HAMF_ARTIFACTS_DIR="$T/mlartifacts"
SRV_PID=
stop_all() {
  if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
    kill -TERM "$SRV_PID" 2>/dev/null || true
    wait "$SRV_PID" 2>/dev/null || true
  fi
  pg_stop
}

pg_start
trap stop_all EXIT
DB=$(pg_newdb serve)
"$HAMF" datagen phishing --rows 1500 --seed 1 --drift 0 -o a.csv
"$HAMF" datagen phishing --rows 1500 --seed 2 --drift 1 -o b.csv
"$HAMF" datagen phishing --rows 1500 --seed 4 --drift 0.5 -o c.csv
"$HAMF" datagen phishing --rows 50 --seed 3 --drift 0.3 -o score.csv
"$HAMF" train a.csv --target phishing --n-estimators 20 --db "$DB" -o v1.hamf -q >/dev/null
"$HAMF" train b.csv --target phishing --n-estimators 20 --max-depth 2 --db "$DB" -o v2.hamf -q >/dev/null
"$HAMF" train c.csv --target phishing --n-estimators 10 --db "$DB" -o v3.hamf -q >/dev/null
for v in 1 2 3; do "$HAMF" predict "models:/$NAME/$v" score.csv --db "$DB" -o "p$v.csv"; done
"$HAMF" predict "models:/$NAME@champion" score.csv --db "$DB" -o champ.csv
cmp -s p1.csv champ.csv || fail "the champion is not version 1 before the moves"
for x in 1:2 1:3 2:3; do
  cmp -s "p${x%:*}.csv" "p${x#*:}.csv" && fail "versions ${x%:*} and ${x#*:} score alike; the test could not tell them apart"
done

# the MLflow-compatible server on the same PostgreSQL database
"$HAMF" server --port 0 --db "$DB" --artifacts-dir "$T/art" >srv.log 2>&1 &
SRV_PID=$!
for _ in $(seq 300); do
  SRV_PORT=$(grep -o 'listening on http://[^:]*:[0-9]*' srv.log 2>/dev/null | head -n1 | sed 's/.*://') || true
  [ -n "${SRV_PORT:-}" ] && break
  kill -0 "$SRV_PID" 2>/dev/null || { cat srv.log; fail "hamf server died"; }
  sleep 0.1
done
[ -n "${SRV_PORT:-}" ] || { cat srv.log; fail "hamf server not listening after 30 s"; }
ALIAS_URL="http://127.0.0.1:$SRV_PORT/api/2.0/mlflow/registered-models/alias"
curl -fsS "$ALIAS_URL?name=$NAME&alias=champion" >alias0.json
grep -q '"version":"1"' alias0.json ||
  fail "hamf server does not see version 1 as champion: $(curl -sS "$ALIAS_URL?name=$NAME&alias=champion")"

KILL_SQL="SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = 'serve' AND pid <> pg_backend_pid()) t"
PSQL="psql -X -q -v ON_ERROR_STOP=1 -h $PG_HOST -p $PG_PORT -U hamf -d postgres -tA"
MOVES=$(/usr/bin/python3 -c 'import json, sys
hamf, db, name, url, psql, kill_sql = sys.argv[1:7]
print(json.dumps([
  {"label": "hamf model promote %s 2" % name, "version": "2",
   "cmd": [hamf, "model", "promote", name, "2", "--db", db]},
  {"label": "MLflow REST registered-models/alias champion -> 3", "version": "3",
   "cmd": ["curl", "-fsS", "--max-time", "10", "-X", "POST", "-H", "Content-Type: application/json", url,
           "-d", json.dumps({"name": name, "alias": "champion", "version": "3"})]},
  {"label": "connections killed, then hamf model promote %s 1" % name, "version": "1",
   "cmd": ["bash", "-c", "n=$(%s -c \"%s\") && [ \"$n\" -ge 2 ] || { echo \"killed $n connections\"; exit 1; }; "
           "\"$0\" model promote \"$1\" 1 --db \"$2\"" % (psql, kill_sql), hamf, name, db]},
]))' "$HAMF" "$DB" "$NAME" "$ALIAS_URL" "$PSQL" "$KILL_SQL")
/usr/bin/python3 "$HAMF_ROOT/tests/serve/serve_replicas.py" --hamf "$HAMF" --db "$DB" --name "$NAME" \
  --score score.csv --want 1=p1.csv --want 2=p2.csv --want 3=p3.csv --move "$MOVES" --replicas 2 --conns 8
"$HAMF" model versions "$NAME" --db "$DB" --json | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [v["version"] for v in d if "champion" in v["aliases"].split(",")] == [1], d' ||
  fail "the registry does not name version 1 as champion after the moves"
for k in 0 1; do
  grep -q "following models:/$NAME@champion: .*(reconnecting)" "replica-$k.log" ||
    fail "replica $k did not notice its poll connection was killed: $(cat "replica-$k.log")"
done
echo "ok   two replicas on PostgreSQL followed every alias move, reconnecting after their connections were killed"
