#!/usr/bin/env bash
# test_client_errors.sh — issue 18 items 3 and 4: client mistakes are 4xx
# (filter too complex, artifact name too long, non-UTF-8 names), a full disk
# is 507 with a clear message and recovers, every reply is UTF-8
# (client_errors.py). The disk is a 4 MiB tmpfs mounted here (root only;
# without it the disk-full part is skipped and says so).
set -euo pipefail
source "$HAMF_ROOT/tests/server/lib.sh"
mkdir -p small
MOUNTED=
cleanup() { server_stop KILL; [ -z "$MOUNTED" ] || umount "$T/small" 2>/dev/null || true; }
trap cleanup EXIT
FILLER=
if mount -t tmpfs -o size=4m tmpfs "$T/small" 2>/dev/null; then
  MOUNTED=1; FILLER="$T/small/filler"
else
  echo "SKIP disk-full part: cannot mount a tmpfs here"
fi
server_start "$T/small/e.db" "$T/small/art" --threads 2
/usr/bin/python3 "$HAMF_ROOT/tests/server/client_errors.py" "$SRV_URL" "$T/small/art" "$FILLER"
server_stop TERM
[ "$SRV_RC" -eq 0 ]
echo OK
