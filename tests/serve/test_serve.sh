#!/usr/bin/env bash
# tests/serve/test_serve.sh — `hamf serve`: MLflow's scoring protocol over
# real HTTP on loopback. Each request format must give the probabilities
# `hamf predict` writes for the same raw rows (bit for bit), and each bad
# input MLflow's error shape. The assertions are in serve_protocol.py.
set -euo pipefail
cd "$T"
"$HAMF" datagen phishing --rows 400 --seed 11 -o raw.csv
cat > spec.txt <<'SPEC'
with alexa_rank_scaled = alexa_rank / 1000000
with pathlength_normalized = pathlength / urllength
with hassecureconnection_encoded = CASE WHEN hassecureconnection = 'yes' THEN 1 ELSE 0 END
drop alexa_rank, pathlength, hassecureconnection
SPEC
"$HAMF" train raw.csv --target phishing --pipeline spec.txt -o pipe.hamf --n-estimators 30 -q >/dev/null
"$HAMF" predict pipe.hamf raw.csv -o pred.csv
"$HAMF" serve --help | grep -q -- '--output KIND' || { echo "FAIL: serve --help"; exit 1; }
# usage errors exit 2 and name the option
set +e
"$HAMF" serve pipe.hamf --output maybe 2>err.txt; rc=$?
set -e
[ "$rc" = 2 ] && grep -q -- '--output' err.txt || { echo "FAIL: bad --output rc=$rc"; cat err.txt; exit 1; }
set +e
"$HAMF" serve nope.hamf --port 0 2>err.txt; rc=$?
set -e
[ "$rc" != 0 ] && grep -q 'nope.hamf' err.txt || { echo "FAIL: missing model rc=$rc"; cat err.txt; exit 1; }
python3 "$HAMF_ROOT/tests/serve/serve_protocol.py" "$HAMF" pipe.hamf raw.csv pred.csv
