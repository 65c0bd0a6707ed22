#!/usr/bin/env bash
# demo.sh BUILD — the HAMF workflow on the embedded default: SQLite file
# ./hamf.db and generated sample data. SERVE=0 runs and exits (scripts, CI).
set -euo pipefail
BUILD=${1:-build}
HAMF="$(pwd)/$BUILD/hamf"
export HAMF_DB="${HAMF_DB:-./hamf.db}"
echo "== hamf demo (store: $HAMF_DB)"
"$HAMF" version

# ---- monitoring: the exporter on :8000 beside the server on :5000 ----------
# (SERVE=1 only; runs until Ctrl-C.) Reuses a server an earlier step left on
# :5000, else starts one; the exporter reads the demo store directly, so it
# works whatever ran before. Both are stopped by PID on exit.
if [ "${SERVE:-0}" = 1 ]; then
  demo_pids=()
  demo_stop() { local p; for p in "${demo_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
                for p in "${demo_pids[@]}"; do wait "$p" 2>/dev/null || true; done; demo_pids=(); }
  trap 'demo_stop' EXIT
  trap 'echo; echo "== stopping"; exit 0' INT TERM
  demo_up() { curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null; }
  if demo_up "http://127.0.0.1:5000/metrics"; then
    echo "== hamf server already on http://127.0.0.1:5000"
  else
    "$HAMF" server --port 5000 --db "$HAMF_DB" &
    demo_pids+=($!)
  fi
  if demo_up "http://127.0.0.1:8000/metrics"; then
    echo "== something already serves :8000; not starting the exporter"
  else
    "$HAMF" exporter --port 8000 --db "$HAMF_DB" &
    demo_pids+=($!)
  fi
  for _ in $(seq 50); do demo_up "http://127.0.0.1:8000/metrics" && break; sleep 0.1; done
  echo "== UI and MLflow API: http://127.0.0.1:5000/   metrics: http://127.0.0.1:8000/metrics (also :5000/metrics)"
  echo "== Prometheus/Alertmanager too: hamf stack up (see README). Ctrl-C to stop."
  if [ ${#demo_pids[@]} -gt 0 ]; then wait "${demo_pids[@]}" || true; fi
fi
