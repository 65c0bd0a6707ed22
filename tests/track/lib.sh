# shellcheck shell=bash
# tests/track/lib.sh — sourced by tests/track/test_*.sh: the monitor tests'
# helpers (start_server / start_exporter on free loopback ports, stopped by
# PID on exit) plus small readers of `hamf ... --json` output.
set -euo pipefail
ROOT=${HAMF_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/monitor/lib.sh
source "$ROOT/tests/monitor/lib.sh"
PY=/usr/bin/python3

# jget EXPR: evaluate a python expression over the JSON on stdin (bound to d).
jget() { "$PY" -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

# newest_run DB: run id of the newest run in the store.
newest_run() { "$HAMF" runs list --db "$1" --json | jget 'd["runs"][0]["info"]["run_id"]'; }
