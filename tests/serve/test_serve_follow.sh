#!/usr/bin/env bash
# tests/serve/test_serve_follow.sh — `hamf serve models:/NAME@champion`
# follows the registry: 8 client threads send requests while
# `hamf model promote` moves the alias; 0 requests may fail, every answer
# must score with the version its header names, and version 2 must answer
# within 2 s of the promotion (default 1 s poll). Assertions: serve_follow.py.
set -euo pipefail
export HAMF_DB="$T/reg.db" HAMF_ARTIFACTS_DIR="$T/mlartifacts"
NAME=PhishingDetectionModel
cd "$T"
"$HAMF" datagen phishing --rows 1500 --seed 1 --drift 0 -o a.csv
"$HAMF" datagen phishing --rows 1500 --seed 2 --drift 1 -o b.csv
"$HAMF" datagen phishing --rows 50 --seed 3 --drift 0 -o score.csv
"$HAMF" train a.csv --target phishing --n-estimators 20 --db "$HAMF_DB" -o champion.hamf -q >/dev/null
"$HAMF" train b.csv --target phishing --n-estimators 20 --max-depth 2 --db "$HAMF_DB" -o champion.hamf -q >/dev/null
"$HAMF" predict "models:/$NAME/1" score.csv -o v1.csv
"$HAMF" predict "models:/$NAME/2" score.csv -o v2.csv
"$HAMF" predict "models:/$NAME@champion" score.csv -o champ.csv
cmp -s v1.csv champ.csv || { echo "FAIL: the champion is not version 1 before the promotion"; exit 1; }
cmp -s v1.csv v2.csv && { echo "FAIL: versions 1 and 2 score alike; the test could not tell them apart"; exit 1; }
python3 "$HAMF_ROOT/tests/serve/serve_follow.py" "$HAMF" "$NAME" score.csv v1.csv v2.csv
