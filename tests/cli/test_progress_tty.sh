#!/usr/bin/env bash
# Long work shows progress on a terminal: a 1M-row train and predict under a
# pty show each step (reading, preparing, binning, the tree bar, scoring,
# writing; predict's row bar); on a pipe, or with -q, stderr stays empty.
set -eu
"$HAMF" datagen phishing --rows 1000000 --seed 9 -o big.csv
cat > pty_run.py <<'PY'
import os, pty, subprocess, sys
m, s = pty.openpty()
p = subprocess.Popen(sys.argv[2:], stdin=s, stdout=subprocess.DEVNULL, stderr=s, close_fds=True)
os.close(s)
out = b""
while True:
    try:
        b = os.read(m, 65536)
    except OSError:
        break
    if not b:
        break
    out += b
rc = p.wait()
open(sys.argv[1], "wb").write(out)
sys.exit(rc)
PY
python3 pty_run.py train.tty "$HAMF" train big.csv --target phishing --n-estimators 20 -o m.hamf --no-register
for w in "reading big.csv" "preparing features and labels" "binning 800000 rows" "20/20 trees" "scoring 200000 test rows" "writing m.hamf"; do
  grep -qF "$w" train.tty || { echo "FAIL: train progress lacks '$w'"; cat -v train.tty | tail -c 600; exit 1; }
done
python3 pty_run.py predict.tty "$HAMF" predict m.hamf big.csv -o scored.csv
grep -qF "reading big.csv" predict.tty && grep -qF "1000000/1000000 rows" predict.tty \
  || { echo "FAIL: predict progress"; cat -v predict.tty | tail -c 600; exit 1; }
# not a terminal: nothing on stderr; -q on a terminal: nothing either
"$HAMF" train big.csv --target phishing --n-estimators 5 -o m2.hamf --no-register >/dev/null 2>pipe.err
[ ! -s pipe.err ] || { echo "FAIL: progress on a pipe: $(cat -v pipe.err | head -c 300)"; exit 1; }
python3 pty_run.py quiet.tty "$HAMF" train big.csv --target phishing --n-estimators 5 -o m3.hamf --no-register -q
[ ! -s quiet.tty ] || { echo "FAIL: progress with -q: $(cat -v quiet.tty | head -c 300)"; exit 1; }
echo ok
