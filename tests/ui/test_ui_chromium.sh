#!/usr/bin/env bash
# test_ui_chromium.sh — the web UI end to end: starts `hamf server` on a free
# loopback port with a fresh SQLite store and artifacts dir, logs an
# experiment, runs, metric histories and artifacts through the REST API
# (populate.py, python3-requests), then drives the UI in Debian's headless
# Chromium with playwright-core (ui.test.mjs): runs table, server-side sort
# and paging, filter (and a rejected one), run page with its SVG chart,
# artifact download, compare view, the Models pages (registry: versions,
# aliases, digests, promotion history, a retrain decision's reasons, run
# page "registered as"), MLflow's own run URL, no request to another origin.
# Screenshots: $HAMF_BUILD/test-artifacts/ui-*.png.
#
# playwright-core comes from the npm registry at the version in
# package-lock.json, installed once into tests/ui/node_modules (npm ci); it
# never downloads a browser: /usr/bin/chromium is Debian's `chromium`.
set -euo pipefail
: "${HAMF:?run through tests/run.sh}" "${HAMF_ROOT:?}"
T=${T:-$(mktemp -d)}
BUILD_DIR=${HAMF_BUILD:-$(dirname "$HAMF")}
UI_DIR="$HAMF_ROOT/tests/ui"
SHOTS="$BUILD_DIR/test-artifacts"
mkdir -p "$SHOTS"

[ -x /usr/bin/chromium ] || { echo "FAIL: /usr/bin/chromium missing (scripts/install-deps.sh installs Debian's chromium)"; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "FAIL: node and npm are needed"; exit 1; }

# --- playwright-core, exactly as locked (idempotent; one installer at a time)
locked_ok() {
  node -e '
    const fs = require("fs"), dir = process.argv[1];
    const want = JSON.parse(fs.readFileSync(dir + "/package-lock.json")).packages["node_modules/playwright-core"].version;
    const have = JSON.parse(fs.readFileSync(dir + "/node_modules/playwright-core/package.json")).version;
    process.exit(want === have ? 0 : 1);' "$UI_DIR" 2>/dev/null
}
(
  flock -w 300 9
  if ! locked_ok; then
    echo "installing playwright-core from package-lock.json"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$UI_DIR" --no-audit --no-fund --loglevel=error
  fi
) 9>/tmp/hamf-ui-npm.lock
locked_ok || { echo "FAIL: playwright-core not installed in $UI_DIR/node_modules"; exit 1; }

# --- a fresh server on a free port
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
}
trap cleanup EXIT
start_server() {
  local tries
  for tries in 1 2 3; do
    port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$HAMF" server --host 127.0.0.1 --port "$port" --db "$T/store.db" --artifacts-dir "$T/artifacts" \
      >"$T/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
      if curl -sf -o /dev/null "http://127.0.0.1:$port/api/2.0/mlflow/experiments/get?experiment_id=0"; then
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    cleanup; pid=
    echo "server did not come up on port $port (try $tries):"; cat "$T/server.log"
  done
  return 1
}
start_server
BASE="http://127.0.0.1:$port"
echo "hamf server on $BASE"

/usr/bin/python3 "$UI_DIR/populate.py" "$BASE" "$T"

# --- the registry seen by hamf itself: a trained champion and one retrain
# decision (small data), written to the server's store while it serves
(
  cd "$T"
  export HAMF_ARTIFACTS_DIR="$T/artifacts"
  "$HAMF" datagen phishing --rows 1200 --seed 5 -o tr.csv
  "$HAMF" datagen phishing --rows 1200 --seed 6 --drift 1 -o new.csv
  "$HAMF" train tr.csv --target phishing --n-estimators 10 --db "$T/store.db" -o champ.hamf -q >/dev/null
  "$HAMF" retrain --model PhishingDetectionModel --data new.csv --db "$T/store.db" --artifacts-dir "$T/artifacts" >/dev/null
  "$HAMF" model versions PhishingDetectionModel --db "$T/store.db" --json > loop.json
)

mkdir -p "$T/chromium-profile"
UI_BASE="$BASE" UI_DATA="$T/data.json" UI_LOOP="$T/loop.json" UI_SHOTS="$SHOTS" UI_PROFILE="$T/chromium-profile" \
  node --test-reporter=spec "$UI_DIR/ui.test.mjs"
ls -l "$SHOTS"/ui-*.png
