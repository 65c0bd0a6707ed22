#!/usr/bin/env bash
# `hamf audit list` fits 100 columns (old_data/new_data cut with an
# ellipsis); --wide prints them whole, as --json has them.
set -eu
"$HAMF" feature add a_rather_long_feature_name_for_the_audit_table --type numerical --db a.db >/dev/null
"$HAMF" model add M --algorithm RandomForest --version v1 --description "a description long enough to be cut in the table" --db a.db >/dev/null
width() { python3 -c "import sys; print(max(len(l.rstrip('\n')) for l in sys.stdin))"; }
w=$("$HAMF" audit list --db a.db | width)
[ "$w" -le 100 ] || { echo "FAIL: audit list is $w columns wide"; exit 1; }
"$HAMF" audit list --db a.db | grep -q '…' || { echo "FAIL: no cut cell"; exit 1; }
full=$("$HAMF" audit list --db a.db --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["new_data"])')
"$HAMF" audit list --db a.db --wide | grep -qF "$full" || { echo "FAIL: --wide lacks $full"; exit 1; }
w=$("$HAMF" audit list --db a.db --wide | width)
[ "$w" -gt 100 ] || { echo "FAIL: --wide is only $w columns"; exit 1; }
echo ok
