#!/usr/bin/env bash
# tests/compat/run_mlflow_tests.sh MLFLOW_SRC [hamf|mlflow] [PYTEST_ARGS...]
#
# Runs MLflow's own server tests, unmodified, from a fetched MLflow source
# tree (tag v2.12.2; never committed here):
#   tests/tracking/test_rest_tracking.py
#   tests/tracking/test_mlflow_artifacts.py
#   tests/tracking/test_model_registry.py
# against a fresh server per test: `hamf server --port 0` on a fresh temp store
# (default), or MLflow's own server from MLFLOW_SRC ("mlflow"). Only the
# server-starting function/fixture is replaced (tests/compat/hamf_compat.py).
# PYTEST_ARGS go to pytest (e.g. -k get_history_bulk, or -x); FILES=... picks
# other test files (paths relative to MLFLOW_SRC).
#
# Uses Debian's python3 (/usr/bin/python3) and Debian packages only; installs
# the missing ones with apt-get. Says "skipped" and exits 0 when MLFLOW_SRC
# is absent. Prints per-file counts (passed/failed/skipped/errors) last and
# writes the JUnit XML and server logs under $OUT (default a temp dir,
# printed). Exit status: pytest's (0 = every test passed).
#
# Environment: HAMF (binary; default BUILD=build under the repo), OUT.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRC=${1:-}
MODE=${2:-hamf}
[ $# -ge 2 ] && shift 2 || shift $#
if [ -z "$SRC" ] || [ ! -f "$SRC/tests/tracking/test_rest_tracking.py" ] || [ ! -f "$SRC/mlflow/__init__.py" ]; then
  echo "skipped: no MLflow source at '${SRC}' (fetch mlflow v2.12.2 into e.g. /work/ext/mlflow-2.12.2)"
  exit 0
fi
SRC=$(cd "$SRC" && pwd)
case "$MODE" in hamf|mlflow) ;; *) echo "mode must be hamf or mlflow, not '$MODE'" >&2; exit 2 ;; esac

# Debian packages MLflow's client, server and these tests import.
PKGS="python3-pytest python3-pytest-timeout python3-flask python3-sqlalchemy python3-alembic
python3-protobuf python3-yaml python3-requests python3-packaging python3-cloudpickle
python3-sqlparse python3-git python3-click python3-pandas python3-numpy python3-scipy
python3-sklearn python3-entrypoints python3-tz python3-importlib-metadata python3-docker
python3-gunicorn python3-markdown python3-jinja2 python3-graphene python3-psutil"
missing=
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing Debian packages:$missing"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >/dev/null; then
    apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >/dev/null ||
      { echo "could not install:$missing" >&2; exit 1; }
  fi
fi

PY=/usr/bin/python3
HAMF=${HAMF:-$ROOT/${BUILD:-build}/hamf}
if [ "$MODE" = hamf ] && [ ! -x "$HAMF" ]; then
  echo "no hamf binary at $HAMF (run make, or set HAMF)" >&2; exit 2
fi
HAMF=$(cd "$(dirname "$HAMF")" && pwd)/$(basename "$HAMF")
OUT=${OUT:-$(mktemp -d /tmp/hamf-compat.XXXXXX)}
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/hamf-compat-work.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

FILES=${FILES:-tests/tracking/test_rest_tracking.py tests/tracking/test_mlflow_artifacts.py tests/tracking/test_model_registry.py}
args=()
for f in $FILES; do args+=("$SRC/$f"); done

echo "MLflow $(sed -n 's/^VERSION = "\(.*\)"/\1/p' "$SRC/mlflow/version.py") tests against: $MODE$([ "$MODE" = hamf ] && echo " ($HAMF)")"
echo "results: $OUT"
# cwd: a scratch dir (some tests create relative paths there)
(cd "$WORK" &&
  env -u MLFLOW_TRACKING_URI HAMF="$HAMF" HAMF_COMPAT_SERVER="$MODE" HAMF_COMPAT_LOGDIR="$OUT/logs" \
    PYTHONPATH="$SRC:$ROOT/tests/compat:$ROOT/tests/compat/py" PYTHONDONTWRITEBYTECODE=1 \
    "$PY" -m pytest -c "$SRC/pytest.ini" --rootdir="$SRC" -p hamf_compat -p no:cacheprovider \
    --color=no --timeout=300 -o addopts="-p no:legacypath --strict-markers -rfE" \
    --junitxml="$OUT/junit.xml" "${args[@]}" "$@") >"$OUT/pytest.log" 2>&1
rc=$?
tail -n 5 "$OUT/pytest.log"
"$PY" "$ROOT/tests/compat/summarize.py" "$OUT/junit.xml" | tee "$OUT/summary.txt"
exit $rc
