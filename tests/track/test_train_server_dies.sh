#!/usr/bin/env bash
# The tracking server dies (kill -9) while `hamf train --tracking-uri` is
# fitting: train exits 1 saying the run could not be logged; the model file
# and the registry row (linked to the run id) are kept, as documented; the
# run on the dead server's store is left RUNNING (nobody could end it).
source "$HAMF_ROOT/tests/track/lib.sh"
cd "$T"
"$HAMF" datagen phishing --rows 30000 --seed 2 -o raw.csv
start_server victim victim.db

# a deliberately slow fit (~2 s on one thread, ~10 s under ASan) so the kill lands during it
"$HAMF" train raw.csv --target phishing --n-estimators 800 --max-depth 6 --threads 1 -o slow.hamf \
  --db reg.db --tracking-uri "$SRV_URL" -q 2> train.err > train.out &
tpid=$!; mon_register_pid "$tpid"
run=""
for _ in $(seq 100); do
  run=$(curl -fsS "$SRV_URL/api/2.0/mlflow/runs/search?experiment_ids=1" 2>/dev/null |
        jget 'd["runs"][0]["info"]["run_id"] if d.get("runs") and d["runs"][0]["info"]["status"] == "RUNNING" else ""' 2>/dev/null) || true
  [ -n "$run" ] && break
  sleep 0.05
done
[ -n "$run" ] || fail "no RUNNING run appeared"
kill -9 "$SRV_PID"
rc=0; wait "$tpid" || rc=$?
[ "$rc" = 1 ] || fail "train exit $rc after the server died, want 1 ($(cat train.err))"
grep -q "the model was saved to slow.hamf but logging its run $run failed" train.err || fail "message: $(cat train.err)"
[ -s slow.hamf ] || fail "the model file should be kept"
[ "$("$HAMF" result list --db reg.db --json | jget 'd[-1]["run_id"]')" = "$run" ] || fail "registry row not linked to $run"
"$HAMF" runs show "$run" --db victim.db | grep -Eq '^status: +RUNNING' || fail "run should stay RUNNING on the dead server"
pass "server killed mid-training: exit 1, model + registry row kept, run $run left RUNNING: $(head -c 200 train.err)"
