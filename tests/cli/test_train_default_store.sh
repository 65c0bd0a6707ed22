#!/usr/bin/env bash
# `hamf train` registers in the same default store as every other command
# ($HAMF_DB, else ./hamf.db); --no-register opens no store at all.
set -eu
"$HAMF" datagen phishing --rows 1500 --seed 2 -o raw.csv
mkdir a b c
(cd a && "$HAMF" train ../raw.csv --target phishing --n-estimators 10 -o m.hamf -q >/dev/null)
[ -f a/hamf.db ] || { echo "FAIL: no ./hamf.db after train"; exit 1; }
n=$(cd a && "$HAMF" model versions PhishingDetectionModel --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 1 ] || { echo "FAIL: $n versions in ./hamf.db"; exit 1; }
(cd a && "$HAMF" result list --json) | grep -q '"accuracy"' || { echo "FAIL: no training result"; exit 1; }
(cd b && HAMF_DB=$PWD/env.db "$HAMF" train ../raw.csv --target phishing --n-estimators 10 -o m.hamf -q >/dev/null)
[ -f b/env.db ] && [ ! -e b/hamf.db ] || { echo "FAIL: \$HAMF_DB not used"; exit 1; }
(cd c && "$HAMF" train ../raw.csv --target phishing --n-estimators 10 -o m.hamf -q --no-register >/dev/null)
[ -f c/m.hamf ] && [ ! -e c/hamf.db ] && [ ! -e c/mlartifacts ] || { echo "FAIL: --no-register wrote a store"; ls c; exit 1; }
echo ok
