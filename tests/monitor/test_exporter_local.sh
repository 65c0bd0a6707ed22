#!/usr/bin/env bash
# test_exporter_local.sh — `hamf exporter --db FILE` reading the local
# tracking store directly (SQLite, while `hamf server` writes to the same
# file): the same scenario as over REST (labels, missing metrics, RUNNING
# ignored, newer run replaces the old label set, promtool), the store chosen
# by $HAMF_DB and by --tracking-uri sqlite:///…, and an exporter started on
# a store with no experiments yet.
source "$(dirname "$0")/lib.sh"

start_server srv "$T/track.db"
start_exporter exp --db "$T/track.db" --interval 200ms
grep -q "source store $T/track.db" "$T/exp.log" || fail "not the local source: $(cat "$T/exp.log")"
pass "server $SRV_URL writes $T/track.db, exporter $EXP_URL reads it"
core_scenario "$SRV_URL" "$EXP_URL"

HAMF_DB="$T/track.db" start_exporter exp-env --interval 200ms
scrape "$EXP_URL" "$T/env.txt"; grep -qF "$CORE_R2" "$T/env.txt" || fail "HAMF_DB exporter lacks r2"
stop_pid "$EXP_PID"
pass "HAMF_DB selects the store"

MLFLOW_TRACKING_URI=file:./mlruns start_exporter exp-uri --tracking-uri "sqlite://$T/track.db" --interval 200ms --experiment phish
scrape "$EXP_URL" "$T/uri.txt"
[ "$(series "$T/uri.txt" mlflow_model_accuracy | wc -l)" = 1 ] && grep -qF "$CORE_R2" "$T/uri.txt" ||
  fail "--tracking-uri sqlite:/// --experiment phish: $(cat "$T/uri.txt")"
stop_pid "$EXP_PID"
pass "--tracking-uri sqlite:///… --experiment phish reads the store, only phish"
