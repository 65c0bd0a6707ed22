#!/usr/bin/env bash
# One number format: JSON output prints the shortest text that reads back
# exactly (Python's repr of the same double), human output one style per
# unit (accuracy "97.33 %", scores 4 decimals, seconds 3).
set -eu
"$HAMF" datagen phishing --rows 3000 --seed 5 -o raw.csv
"$HAMF" preprocess raw.csv -o data.csv --with "https = CASE WHEN hassecureconnection = 'yes' THEN 1 ELSE 0 END" \
  --drop hassecureconnection >/dev/null
"$HAMF" train data.csv --target phishing -o m.hamf --n-estimators 30 --json > train.json
"$HAMF" evaluate m.hamf data.csv --json > eval.json
"$HAMF" workflow run --db w.db --rows 3000 --dir wf --rf-estimators 10 --gb-estimators 20 --json -q > wf.json
python3 - <<'PY'
import json, re, sys
bad = 0
for f in ("train.json", "eval.json", "wf.json"):
    text = open(f).read()
    json.loads(text)  # valid JSON
    # every number token outside strings
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    toks = re.findall(r'-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?', stripped)
    fl = [t for t in toks if '.' in t or 'e' in t or 'E' in t]
    assert fl, f + ": no fractional numbers to check"
    for t in fl:
        if repr(float(t)) != t:
            print(f"{f}: {t} is not the shortest round-trip form ({repr(float(t))})"); bad += 1
print("checked", "ok" if not bad else "FAILED")
sys.exit(1 if bad else 0)
PY
out=$("$HAMF" train data.csv --target phishing -o m2.hamf --n-estimators 30)
grep -Eq '^accuracy   [0-9]+\.[0-9]{2} %$' <<<"$out" || { echo "FAIL accuracy style: $out"; exit 1; }
grep -Eq '^f1_score   [01]\.[0-9]{4}$' <<<"$out" || { echo "FAIL score style: $out"; exit 1; }
grep -Eq '^fit        [0-9]+\.[0-9]{3} s$' <<<"$out" || { echo "FAIL seconds style: $out"; exit 1; }
out=$("$HAMF" result list --db w.db)
grep -Eq ' [0-9]+\.[0-9]{2} % +[01]\.[0-9]{4} ' <<<"$out" || { echo "FAIL result table style: $out"; exit 1; }
echo ok
