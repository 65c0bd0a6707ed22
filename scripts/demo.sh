#!/usr/bin/env bash
# demo.sh BUILD — the HAMF workflow on the embedded default: SQLite file
# ./hamf.db and generated sample data. SERVE=0 runs and exits (scripts, CI).
set -euo pipefail
BUILD=${1:-build}
HAMF="$(pwd)/$BUILD/hamf"
export HAMF_DB="${HAMF_DB:-./hamf.db}"
echo "== hamf demo (store: $HAMF_DB)"
"$HAMF" version
