#!/usr/bin/env bash
# install-deps.sh — install every Debian package hamf's build, tests, demo
# and benchmarks need. Idempotent: when everything is present it does
# nothing (no apt-get update), so `make check` stays fast on a warm machine.
set -euo pipefail

PKGS=(
  # build
  build-essential pkg-config clang libclang-rt-14-dev
  libsqlite3-dev sqlite3 libpq-dev libmicrohttpd-dev libcurl4-openssl-dev libcrypt-dev
  # tests: real servers and peers
  postgresql postgresql-client curl procps psmisc
  prometheus prometheus-alertmanager python3-yaml
  python3 python3-pandas python3-requests
  chromium
  # benchmarks: the tools users would pick instead
  python3-sklearn python3-xgboost wrk hyperfine  # python3-xgboost: also tests/explain (reference)
)

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Services that packages try to start on install (postgresql, prometheus)
# are not needed: tests start their own on temp dirs and free ports.
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/hamf-install-deps.log 2>&1 || {
  tail -n 40 /tmp/hamf-install-deps.log >&2
  echo "install-deps: apt-get install failed (full log: /tmp/hamf-install-deps.log)" >&2
  exit 1
}
echo "install-deps: done"
