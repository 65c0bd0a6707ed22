#!/usr/bin/env bash
# `hamf model importance`: gain importance of a trained model, via the model
# subcommand table; largest first, every model feature listed once, JSON form.
set -euo pipefail
"$HAMF" datagen phishing --rows 3000 --seed 5 -o raw.csv
"$HAMF" train raw.csv --target phishing --n-estimators 30 --max-depth 3 --seed 1 -o m.hamf --no-track >/dev/null
"$HAMF" model importance m.hamf > imp.txt
cat imp.txt
"$HAMF" model importance m.hamf --json > imp.json
/usr/bin/python3 - <<'PY'
import json
rows = json.load(open("imp.json"))
names = [r.get("feature") or r.get("name") for r in rows]
assert len(names) == 14 and len(set(names)) == 14, names
assert "phishing" not in names
gains = [r["gain"] for r in rows]
assert gains == sorted(gains, reverse=True), gains
assert gains[0] > 0
text = open("imp.txt").read()
assert names[0] in text.splitlines()[1], "table's first row is the top feature"
print("ok", names[:3])
PY
if "$HAMF" model importance nonexistent.hamf 2>err.txt; then echo "expected failure"; exit 1; fi
grep -q "nonexistent.hamf" err.txt
echo "not a model" > bogus.hamf
if "$HAMF" model importance bogus.hamf 2>err.txt; then echo "expected failure"; exit 1; fi
cat err.txt
