#!/usr/bin/env bash
# test_predict_api.sh — the embedding example (examples/score.c, built by
# make) scores every row of a CSV through hamf_predictor_* exactly as
# `hamf predict` does, for a GB and an RF model; a model file with bytes
# after its checksum is refused by predict and by the example.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
SCORE="$HAMF_BUILD/examples/score"
[ -x "$SCORE" ] || fail "examples/score not built"
/usr/bin/python3 "$HAMF_ROOT/bench/learn/gen.py" 2000 5 data.csv
"$HAMF" train data.csv --target phishing -o gb.hamf --n-estimators 30 -q >/dev/null
"$HAMF" train data.csv --target phishing -o rf.hamf --algorithm random-forest --n-estimators 10 -q >/dev/null
for m in gb rf; do
  "$HAMF" predict $m.hamf data.csv -o $m.out.csv
  "$SCORE" $m.hamf data.csv > $m.api.txt
  /usr/bin/python3 - $m.out.csv $m.api.txt <<'PY' || fail "$m: example and hamf predict differ"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
api = [float(l) for l in open(sys.argv[2])]
assert len(rows) == len(api) == 2000, (len(rows), len(api))
bad = [i for i, (r, a) in enumerate(zip(rows, api)) if float(r["probability"]) != a]
assert not bad, "rows %s differ" % bad[:5]
PY
done
cp gb.hamf padded.hamf; printf 'x' >> padded.hamf
if "$HAMF" predict padded.hamf data.csv -o p.csv 2> err.txt; then fail "predict accepted trailing bytes"; fi
grep -q "trailing" err.txt || fail "no 'trailing' in: $(cat err.txt)"
[ ! -e p.csv ] || fail "an output appeared"
if "$SCORE" padded.hamf data.csv > /dev/null 2> err.txt; then fail "example accepted trailing bytes"; fi
grep -q "trailing" err.txt || fail "example: $(cat err.txt)"
echo "ok"
# progress: on a terminal only (a pty here), never on a pipe, never with -q
/usr/bin/python3 - "$HAMF" <<'PY' || fail "progress on a terminal"
import os, pty, subprocess, sys
hamf = sys.argv[1]
def run(args):
    m, s = pty.openpty()
    p = subprocess.Popen([hamf] + args, stdout=subprocess.DEVNULL, stderr=s)
    os.close(s)
    out = b""
    while True:
        try:
            b = os.read(m, 4096)
        except OSError:
            break
        if not b:
            break
        out += b
    assert p.wait() == 0, out
    return out.decode()
o = run(["predict", "gb.hamf", "data.csv", "-o", "tty.csv"])
assert "scoring [" in o and "2000/2000 rows" in o and "reading data.csv" in o, repr(o)
o = run(["evaluate", "rf.hamf", "data.csv"])
assert "2000/2000 rows" in o, repr(o)
o = run(["predict", "gb.hamf", "data.csv", "-o", "tty.csv", "-q"])
assert "scoring" not in o, repr(o)
PY
"$HAMF" predict gb.hamf data.csv -o pipe.csv 2> pipe.err
[ ! -s pipe.err ] || fail "progress written to a pipe: $(cat pipe.err)"
cmp pipe.csv tty.csv || fail "output differs with progress"
echo "ok progress"
