#!/usr/bin/env bash
# `make demo` tells the same story every time: each run starts from its own
# fresh demo/ store, so a second run ends with the same features, versions,
# champion and retrain decision as the first; the healthy model clears the
# seed's thresholds (accuracy >= 98 %, F1 >= 0.95), the drifted batch does not.
set -eu
mkdir -p build && ln -sf "$HAMF" build/hamf
facts() { # store -> one line of facts
  local db=demo/hamf.db
  printf 'features=%s ' "$("$HAMF" feature list --db "$db" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
  "$HAMF" model versions PhishingDetectionModel --db "$db" --json | python3 -c '
import json, sys
v = json.load(sys.stdin)
v = v.get("versions", v) if isinstance(v, dict) else v
print("versions=%d champion=%s sources=%s" % (len(v), [x["version"] for x in v if "champion" in (x.get("aliases") or "")],
      ",".join(x.get("source", "") for x in v)))'
}
SERVE=0 bash "$HAMF_ROOT/scripts/demo.sh" build > run1.txt 2>&1 || { tail -20 run1.txt; exit 1; }
f1=$(facts)
SERVE=0 bash "$HAMF_ROOT/scripts/demo.sh" build > run2.txt 2>&1 || { tail -20 run2.txt; exit 1; }
f2=$(facts)
echo "run 1: $f1"; echo "run 2: $f2"
[[ "$f1" == *"champion=[3]"* ]] || { echo "FAIL: the retrained version 3 should be champion"; exit 1; }
[ "$f1" = "$f2" ] || { echo "FAIL: the second demo run tells another story"; exit 1; }
grep -q "fresh store" run2.txt || { echo "FAIL: second run does not say it starts fresh"; exit 1; }
d1=$(grep 'decision:' run1.txt); d2=$(grep 'decision:' run2.txt)
[ "$d1" = "$d2" ] && [[ "$d1" == *PROMOTED* ]] || { echo "FAIL: decisions '$d1' / '$d2'"; exit 1; }
# the exported (latest) run clears the seed's alert thresholds
python3 - run1.txt <<'PY'
import re, sys
t = open(sys.argv[1]).read()
acc = float(re.search(r'^\s*mlflow_model_accuracy\{.*\} (\S+)$', t, re.M).group(1))
f1 = float(re.search(r'^\s*mlflow_model_f1_score\{.*\} (\S+)$', t, re.M).group(1))
live = float(re.search(r'live\s+accuracy (\S+) %', t).group(1))
print("exported accuracy", acc, "f1", f1, "drifted live accuracy", live)
assert acc >= 98 and f1 >= 0.95, "healthy model under the seed's thresholds"
assert live < 98, "drifted batch should fall under the threshold"
PY
# make demo-clean's rule
rm -rf demo; [ ! -e demo ]
echo ok
