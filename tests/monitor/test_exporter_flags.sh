#!/usr/bin/env bash
# test_exporter_flags.sh — `hamf exporter` refuses bad flags with exit 2 and
# a message naming the problem (strict durations, ports, URIs), fails with
# exit 1 on a malformed store URL or a port in use, and starts (serving
# hamf_exporter_up 0) when the tracking server is not reachable yet.
source "$(dirname "$0")/lib.sh"

usage() { # EXPECTED_MESSAGE ARGS...
  local want=$1 out rc; shift
  set +e; out=$("$HAMF" exporter "$@" 2>&1); rc=$?; set -e
  [ "$rc" = 2 ] || fail "hamf exporter $*: exit $rc, want 2 ($out)"
  grep -qF -- "$want" <<<"$out" || fail "hamf exporter $*: message '$out' lacks '$want'"
  grep -qF "Try 'hamf exporter --help'" <<<"$out" || fail "no help hint: $out"
}
usage "missing unit (ms, s, m or h)" --interval 15
usage "unknown unit 'sec'" --interval 15sec
usage "expected a number first" --interval s
usage "must be between 10ms and 24h" --interval 0s
usage "must be between 10ms and 24h" --interval 25h
usage "finer than a millisecond" --interval 10.5ms
usage "is not a number" --interval 1.2.3s
usage "--port must be 0..65535, got '70000'" --port 70000
usage "--port must be 0..65535, got '80x'" --port 80x
usage "needs a value" --port
usage "unknown option '--bogus'" --bogus
usage "unexpected argument 'extra'" extra
usage "not both" --tracking-uri http://127.0.0.1:1 --db x.db
usage "must be http://, https://, sqlite:/// or postgresql://" --tracking-uri ftp://example.org
usage "--experiment needs a name" --experiment ""
pass "bad flags: exit 2 with a message naming the problem"
"$HAMF" exporter --help | grep "mlflow_model_accuracy" >/dev/null || fail "--help"
"$HAMF" exporter --help | grep -- "--interval DURATION" >/dev/null || fail "--help lacks --interval"
pass "--help documents metrics and flags"

set +e; out=$("$HAMF" exporter --db sqlite://relative.db --port 0 2>&1); rc=$?; set -e
[ "$rc" = 1 ] && grep -q "malformed URL" <<<"$out" || fail "malformed store URL: exit $rc: $out"
pass "malformed store URL: exit 1 ($out)"

# Nothing listens on the tracking URI: the exporter still serves, up 0.
dead=$(mon_free_port)
start_exporter dead --tracking-uri "http://127.0.0.1:$dead" --interval 100ms
scrape "$EXP_URL" "$T/d.txt"
[ "$(value "$T/d.txt" hamf_exporter_up)" = 0 ] || fail "up should be 0: $(cat "$T/d.txt")"
[ "$(value "$T/d.txt" hamf_exporter_last_success_timestamp_seconds)" = 0 ] || fail "never succeeded, yet last success set"
grep -q "cannot reach http://127.0.0.1:$dead" "$T/dead.log" || fail "no reason on stderr: $(cat "$T/dead.log")"
mon_check_metrics "$EXP_URL" || fail "promtool on the unreachable-source output"
pass "unreachable tracking server: serves hamf_exporter_up 0, says why on stderr"

# Port already taken: exit 1.
set +e; out=$(timeout 10 "$HAMF" exporter --tracking-uri "http://127.0.0.1:$dead" --port "$EXP_PORT" 2>&1); rc=$?; set -e
[ "$rc" = 1 ] || fail "port in use: exit $rc: $out"
pass "port in use: exit 1 ($out)"
stop_pid "$EXP_PID"
