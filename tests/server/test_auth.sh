#!/usr/bin/env bash
# test_auth.sh — HTTP basic auth of `hamf server` over real loopback HTTP
# (curl as the independent client): open without --auth-file; with it, 401
# + WWW-Authenticate + MLflow error JSON for missing or wrong credentials,
# 200 for API, UI, artifacts (and HEAD); /metrics protected unless
# --metrics-public; `hamf exporter --tracking-uri` through
# MLFLOW_TRACKING_USERNAME/PASSWORD; non-loopback --host refused without
# --insecure; `hamf server passwd` (mode 0600, yescrypt, nothing in argv,
# empty password refused); a malformed auth file named by file:line.
set -euo pipefail
source "$HAMF_ROOT/tests/server/lib.sh"
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND"' ERR
EXP_PID=
cleanup() { server_stop KILL; [ -z "$EXP_PID" ] || kill -KILL "$EXP_PID" 2>/dev/null || true; }
trap cleanup EXIT
API=/api/2.0/mlflow
ART=/api/2.0/mlflow-artifacts/artifacts

code() { curl -s -o body.out -w '%{http_code}' "$@"; }
refute() { if "$@"; then echo "FAIL: should not hold: $*"; exit 1; fi; }
expect() { # expect CODE curl-args... : status must be CODE
  local want=$1; shift
  local got; got=$(code "$@")
  [ "$got" = "$want" ] || { echo "FAIL: curl $* -> $got, want $want"; cat body.out; exit 1; }
}

# ---- passwd ----
# The password comes through a pipe that stays open while we look at the
# process: its command line holds the file and the user, nothing else.
mkfifo pwpipe
"$HAMF" server passwd users alice < pwpipe 2> passwd.err &
PW_PID=$!
exec 3>pwpipe
sleep 0.2
args=$(tr '\0' ' ' < /proc/$PW_PID/cmdline)
echo "passwd argv: $args"
[ "$args" = "$HAMF server passwd users alice " ]
printf 'c0rrect horse\n' >&3
exec 3>&-
wait "$PW_PID"
printf 'hunter2\n' | "$HAMF" server passwd users bob
[ "$(stat -c %a users)" = 600 ]
[ "$(wc -l < users)" -eq 2 ]
grep -Eq '^alice:\$y\$[./0-9A-Za-z]+\$[./0-9A-Za-z]+\$[./0-9A-Za-z]{43}$' users
grep -Eq '^bob:\$y\$' users
refute grep -q 'c0rrect\|hunter2' users
rc=0; printf '\n' | "$HAMF" server passwd users carol 2> empty.err || rc=$?
[ "$rc" -eq 1 ]; grep -q 'empty password refused' empty.err
refute grep -q '^carol:' users
rc=0; "$HAMF" server passwd users carol secretpw < /dev/null 2> argv.err || rc=$?
[ "$rc" -eq 2 ]; grep -q 'never argv' argv.err
# changing bob's password replaces his line, keeps alice's
alice_line=$(grep '^alice:' users)
printf 'hunter3\n' | "$HAMF" server passwd users bob
[ "$(wc -l < users)" -eq 2 ]; grep -qxF "$alice_line" users

# on a terminal: asked twice with echo off; different answers change nothing
cat > ttypw.py <<'PY'
import os, pty, sys, time
hamf, path, user, p1, p2, want_rc = sys.argv[1:7]
pid, fd = pty.fork()
if pid == 0:
    os.execv(hamf, [hamf, "server", "passwd", path, user])
out = b""
def read_until(tok):
    global out
    end = time.time() + 10
    while tok not in out and time.time() < end:
        try:
            out += os.read(fd, 1024)
        except OSError:
            break
    assert tok in out, out
read_until(b"Password: ")
os.write(fd, p1.encode() + b"\n")
read_until(b"Again: ")
os.write(fd, p2.encode() + b"\n")
read_until(b"\n" if want_rc == "0" else b"differ")
_, st = os.waitpid(pid, 0)
assert os.WEXITSTATUS(st) == int(want_rc), (st, out)
assert p1.encode() not in out and p2.encode() not in out, out   # never echoed
PY
timeout 30 /usr/bin/python3 ttypw.py "$HAMF" users tina 'tty-Pass 1' 'tty-Pass 1' 0
timeout 30 /usr/bin/python3 ttypw.py "$HAMF" users tina 'new one' 'new 0ne' 1
[ "$(wc -l < users)" -eq 3 ]
grep -Eq '^tina:\$y\$' users

# ---- a malformed auth file is named by file:line ----
printf '# users\nalice:%s\nbob:not-a-hash\n' "$(grep '^alice:' users | cut -d: -f2)" > bad-users
rc=0; "$HAMF" server --port 0 --db "$T/t.db" --artifacts-dir "$T/art" --auth-file bad-users > bad.log 2>&1 || rc=$?
cat bad.log
[ "$rc" -eq 1 ]; grep -q 'bad-users:3: hash must be yescrypt' bad.log
printf 'alice\n' > bad-users
rc=0; "$HAMF" server --port 0 --db "$T/t.db" --artifacts-dir "$T/art" --auth-file bad-users > bad.log 2>&1 || rc=$?
[ "$rc" -eq 1 ]; grep -q "bad-users:1: expected 'user:hash'" bad.log

# ---- without --auth-file: open ----
server_start "$T/t.db" "$T/art"
expect 200 "$SRV_URL$API/experiments/search?max_results=10"
expect 200 "$SRV_URL/"
server_stop

# ---- with --auth-file ----
server_start "$T/t.db" "$T/art" --auth-file users
U=$SRV_URL
# no credentials: 401, the challenge header and MLflow's error JSON
curl -s -D hdr.out -o body.out "$U$API/experiments/search?max_results=10"
head -n 1 hdr.out | grep -q ' 401'
grep -qi '^WWW-Authenticate: Basic realm="hamf"' hdr.out
/usr/bin/python3 -c 'import json; j = json.load(open("body.out")); assert j["error_code"] == "UNAUTHENTICATED" and j["message"], j'
for p in / /index.html /static/app.js "$ART/x.txt" "$ART?path=" /metrics "$API/runs/get?run_id=0"; do
  expect 401 "$U$p"
  expect 401 -u alice:wrong "$U$p"
done
expect 401 -u mallory:hunter2 "$U$API/experiments/search?max_results=10"
expect 401 -u bob:hunter2 "$U$API/experiments/search?max_results=10"   # the old password
# writes without credentials change nothing
expect 401 -X POST -H 'Content-Type: application/json' -d '{"name":"sneaky"}' "$U$API/experiments/create"
expect 401 -X PUT --data-binary sneaky "$U$ART/sneaky.txt"
[ ! -e "$T/art/sneaky.txt" ]
# the right credentials: API, UI, artifacts
A=(-u 'alice:c0rrect horse')
expect 200 "${A[@]}" -X POST -H 'Content-Type: application/json' -d '{"name":"auth-exp"}' "$U$API/experiments/create"
exp=$(/usr/bin/python3 -c 'import json; print(json.load(open("body.out"))["experiment_id"])')
expect 200 -u bob:hunter3 "$U$API/experiments/get?experiment_id=$exp"
grep -q '"auth-exp"' body.out
refute grep -q sneaky body.out
expect 200 -u 'tina:tty-Pass 1' "$U$API/experiments/get?experiment_id=$exp"
expect 401 -u 'tina:new one' "$U$API/experiments/get?experiment_id=$exp"
expect 200 "${A[@]}" "$U/"
grep -qi '<html' body.out
expect 200 "${A[@]}" -X PUT --data-binary 'model bytes' "$U$ART/$exp/model.bin"
expect 200 "${A[@]}" "$U$ART/$exp/model.bin"
[ "$(cat body.out)" = "model bytes" ]
expect 200 "${A[@]}" "$U/metrics"
grep -q '^hamf_exporter_up' body.out
# HEAD on GET routes: headers only, same status
curl -s -I "${A[@]}" "$U$ART/$exp/model.bin" > head.out
head -n 1 head.out | grep -q ' 200'; grep -qi '^Content-Length: 11' head.out
curl -s -I "${A[@]}" "$U$API/experiments/get?experiment_id=$exp" | head -n 1 | grep -q ' 200'
curl -s -I "$U/" | head -n 1 | grep -q ' 401'

# a finished run with an accuracy, for the exporter below
expect 200 "${A[@]}" -H 'Content-Type: application/json' -d "{\"experiment_id\":\"$exp\",\"start_time\":1700000000000}" "$U$API/runs/create"
rid=$(/usr/bin/python3 -c 'import json; print(json.load(open("body.out"))["run"]["info"]["run_id"])')
expect 200 "${A[@]}" -H 'Content-Type: application/json' -d "{\"run_id\":\"$rid\",\"key\":\"accuracy\",\"value\":97.25,\"timestamp\":1700000000000,\"step\":0}" "$U$API/runs/log-metric"
expect 200 "${A[@]}" -H 'Content-Type: application/json' -d "{\"run_id\":\"$rid\",\"status\":\"FINISHED\",\"end_time\":1700000001000}" "$U$API/runs/update"

# the REST client (exporter's REST source) with MLFLOW_TRACKING_USERNAME/PASSWORD
exporter_scrape() { # exporter_scrape [env...] -> prints its /metrics after the first refresh
  env "$@" "$HAMF" exporter --tracking-uri "$U" --port 0 --interval 10s --experiment auth-exp > exp.log 2>&1 &
  EXP_PID=$!
  local url= i
  for i in $(seq 1 100); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/metrics' exp.log | head -n 1 || true)
    [ -n "$url" ] && break
    sleep 0.05
  done
  [ -n "$url" ] || { cat exp.log; return 1; }
  curl -s "$url" > scrape.out
  kill -TERM "$EXP_PID"; wait "$EXP_PID" || true; EXP_PID=
}
exporter_scrape MLFLOW_TRACKING_USERNAME=alice 'MLFLOW_TRACKING_PASSWORD=c0rrect horse'
cat scrape.out
grep -q '^hamf_exporter_up 1$' scrape.out
grep -q "^mlflow_model_accuracy{.*experiment=\"auth-exp\".*run_id=\"$rid\".*} 97.25$" scrape.out
exporter_scrape -u MLFLOW_TRACKING_USERNAME -u MLFLOW_TRACKING_PASSWORD
cat exp.log
grep -q '^hamf_exporter_up 0$' scrape.out
grep -q 'UNAUTHENTICATED' exp.log
refute grep -q '^mlflow_model_accuracy' scrape.out
server_stop
[ "$SRV_RC" -eq 0 ]

# ---- --metrics-public: /metrics open, everything else still protected ----
server_start "$T/t.db" "$T/art" --auth-file users --metrics-public
expect 200 "$SRV_URL/metrics"
expect 401 "$SRV_URL/"
expect 401 "$SRV_URL$API/experiments/search?max_results=10"
server_stop
rc=0; "$HAMF" server --metrics-public --port 0 2> mp.err || rc=$?
[ "$rc" -eq 2 ]

# ---- non-loopback --host ----
rc=0; "$HAMF" server --host 0.0.0.0 --port 0 --db "$T/t.db" --artifacts-dir "$T/art" > nl.log 2>&1 || rc=$?
cat nl.log
[ "$rc" -eq 2 ]
grep -q "refusing to serve on non-loopback host '0.0.0.0' without authentication" nl.log
grep -q -- '--insecure' nl.log
# with --insecure it starts (open); with --auth-file it starts (protected)
for extra in --insecure "--auth-file users"; do
  # shellcheck disable=SC2086
  "$HAMF" server --host 0.0.0.0 --port 0 --db "$T/t.db" --artifacts-dir "$T/art" $extra > nl.log 2>&1 &
  SRV_PID=$!
  port=
  for i in $(seq 1 100); do
    port=$(grep -o 'http://0\.0\.0\.0:[0-9]*' nl.log | head -n 1 | cut -d: -f3 || true)
    [ -n "$port" ] && break
    kill -0 "$SRV_PID" 2>/dev/null || { cat nl.log; exit 1; }
    sleep 0.05
  done
  [ -n "$port" ]
  if [ "$extra" = --insecure ]; then
    grep -q 'NO AUTH' nl.log
    expect 200 "http://127.0.0.1:$port/"
  else
    expect 401 "http://127.0.0.1:$port/"
  fi
  server_stop
  [ "$SRV_RC" -eq 0 ]
done
echo OK
