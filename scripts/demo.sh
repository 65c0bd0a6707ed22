#!/usr/bin/env bash
# demo.sh BUILD — the HAMF workflow on the embedded default: SQLite file
# ./hamf.db and generated sample data. SERVE=0 runs and exits (scripts, CI).
set -euo pipefail
BUILD=${1:-build}
HAMF="$(pwd)/$BUILD/hamf"
export HAMF_DB="${HAMF_DB:-./hamf.db}"
echo "== hamf demo (store: $HAMF_DB)"
"$HAMF" version

# --- Data: generate raw phishing data, then the seed's preprocessing step ---
mkdir -p demo
"$HAMF" datagen phishing --rows 20000 --seed 1 -o demo/raw_data.csv
"$HAMF" preprocess demo/raw_data.csv -o demo/processed_data.csv \
  --with 'alexa_rank_scaled = alexa_rank / 1000000' \
  --with 'pathlength_normalized = pathlength / urllength' \
  --with "hassecureconnection_encoded = CASE WHEN hassecureconnection = 'yes' THEN 1 ELSE 0 END" \
  --drop alexa_rank,pathlength,hassecureconnection
head -n 3 demo/processed_data.csv
