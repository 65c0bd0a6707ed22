#!/usr/bin/env bash
# test_api.sh — the MLflow REST API subset end to end: `hamf server` on a
# real SQLite file, driven by an independent Python client (requests), then
# a clean SIGTERM stop, then `hamf runs` reading what the client logged.
set -euo pipefail
source "$HAMF_ROOT/tests/server/lib.sh"
mkdir -p art
server_start "$T/track.db" "$T/art"
/usr/bin/python3 "$HAMF_ROOT/tests/server/mlflow_client.py" "$SRV_URL" "$T/art"
server_stop TERM
[ "$SRV_RC" -eq 0 ] || { echo "server exit $SRV_RC"; exit 1; }
grep -q "stopped" "$SRV_LOG"

# hamf runs reads the same store
"$HAMF" runs list --db "$T/track.db" --experiment "Phishing Detection Experiment" > list.txt
cat list.txt
[ "$(grep -c '^[0-9a-f]\{32\} ' list.txt)" -eq 7 ]
grep -q 'first-run' list.txt
"$HAMF" runs list --db "$T/track.db" --json > list.json
/usr/bin/python3 - <<'PY'
import json
j = json.load(open("list.json"))
by_exp = {}
for r in j["runs"]:
    by_exp[r["info"]["experiment_id"]] = by_exp.get(r["info"]["experiment_id"], 0) + 1
assert by_exp.get("1") == 7 and by_exp.get("0", 0) >= 1, by_exp   # every active experiment
PY
rid=$(grep first-run list.txt | cut -d' ' -f1)
"$HAMF" runs show "$rid" --db "$T/track.db" > show.txt
cat show.txt
grep -q '^  max_depth  *6$' show.txt
grep -q '^  accuracy  *96.50% (step 0)$' show.txt
if "$HAMF" runs show 00000000000000000000000000000000 --db "$T/track.db"; then exit 1; fi
rc=0; "$HAMF" runs bogus 2>/dev/null || rc=$?; [ "$rc" -eq 2 ]
echo OK
