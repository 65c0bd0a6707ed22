#!/usr/bin/env bash
# test_auth_limits.sh — issue 18 item 9: failed basic-auth attempts are
# rate-limited per client address (429 + Retry-After, no password check)
# while a valid user from another address keeps being served; the scheme
# is matched case-insensitively; an auth file readable by group or others
# is used with a warning (auth_flood.py; about 6 s).
set -euo pipefail
source "$HAMF_ROOT/tests/server/lib.sh"
printf 's3cret-pw\n' | "$HAMF" server passwd users alice
chmod 600 users
server_start "$T/a.db" "$T/art" --auth-file users --auth-max-failures 5 --threads 4
if grep -q 'warning: auth file' "$SRV_LOG"; then echo "FAIL: warned about a 0600 file"; exit 1; fi
/usr/bin/python3 "$HAMF_ROOT/tests/server/auth_flood.py" "$SRV_URL" alice s3cret-pw 5
server_stop TERM
[ "$SRV_RC" -eq 0 ]
chmod 644 users
server_start "$T/a.db" "$T/art" --auth-file users
grep -q "warning: auth file users is accessible by group or others (mode 0644)" "$SRV_LOG"
server_stop TERM
echo OK
