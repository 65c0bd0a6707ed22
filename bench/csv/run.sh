#!/usr/bin/env bash
# bench/csv/run.sh [BUILD] — CSV ingest and the seed's preprocessing step on
# one generated file (ROWS=1000000 by default, ~61 MB), peers in the same
# run, interleaved (each repetition runs every tool once, in a rotating
# order), REPEAT times (default 5); medians reported:
#   cat FILE                       the floor: reading the bytes
#   select: one column in, one column out
#     hamf preprocess --select urllength          (2 threads: one per CPU)
#     DuckDB COPY (SELECT urllength FROM read_csv(..)) TO   (2 threads)
#     pandas read_csv(usecols=[..]) + to_csv
#   seed: read + 3 expressions + drop + write (the seed's step)
#   HAMF_OLD=<binary of an older commit>: its select and seed run in the
#   same rotation (old_select, old_seed), for before/after in one run
#     hamf preprocess --with ... --drop ...
#     DuckDB COPY (SELECT ... ) TO   (npm @duckdb/node-api, 2 threads)
#     pandas (Debian python3-pandas) bench/csv/pandas_step.py
# Wall time, CPU time and peak RSS come from /usr/bin/time. DuckDB is
# installed by this script with npm into bench/out/duckdb (ignored by git).
# Targets (issue 15): hamf select >= 400 MB/s; hamf seed >= 3x DuckDB and
# >= 10x pandas in wall time; hamf peak RSS <= 1x the file.
# CALLGRIND=1 also counts instructions (valgrind, 1 thread, 100k rows) of
# this build and of HAMF_OLD (a binary of an older commit) if given —
# figures that do not depend on the machine's load.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HAMF="$ROOT/$BUILD/hamf"
ROWS=${ROWS:-1000000}
REPEAT=${REPEAT:-5}
OUT="$ROOT/bench/out/csv"
DUCK="$ROOT/bench/out/duckdb"
mkdir -p "$OUT" "$DUCK"
IN="$OUT/raw_$ROWS.csv"
[ -x "$HAMF" ] || { echo "bench-csv: build $HAMF first (make)"; exit 1; }
if [ ! -d "$DUCK/node_modules/@duckdb/node-api" ]; then
  [ -f "$DUCK/package.json" ] || echo '{"private": true}' > "$DUCK/package.json"
  (cd "$DUCK" && npm install --no-audit --no-fund --silent @duckdb/node-api)
fi
"$HAMF" datagen phishing --rows "$ROWS" --seed 42 -o "$IN"
size=$(stat -c %s "$IN")
step=(--with 'alexa_rank_scaled = alexa_rank / 1000000'
  --with 'pathlength_normalized = pathlength / urllength'
  --with "hassecureconnection_encoded = CASE WHEN hassecureconnection = 'yes' THEN 1 ELSE 0 END"
  --drop alexa_rank,pathlength,hassecureconnection)

run_tool() { # name -> runs it once, stdout discarded
  case $1 in
    cat) cat "$IN" >/dev/null ;;
    hamf_select) "$HAMF" preprocess "$IN" -o "$OUT/hamf_select.csv" -q --select urllength ;;
    duckdb_select) node "$ROOT/bench/csv/duckdb_step.mjs" "$DUCK/node_modules" "$IN" "$OUT/duckdb_select.csv" select ;;
    pandas_select) /usr/bin/python3 "$ROOT/bench/csv/pandas_select.py" "$IN" "$OUT/pandas_select.csv" ;;
    hamf_seed) "$HAMF" preprocess "$IN" -o "$OUT/hamf_seed.csv" -q "${step[@]}" ;;
    old_select) "$HAMF_OLD" preprocess "$IN" -o "$OUT/old_select.csv" -q --select urllength ;;
    old_seed) "$HAMF_OLD" preprocess "$IN" -o "$OUT/old_seed.csv" -q "${step[@]}" ;;
    duckdb_seed) node "$ROOT/bench/csv/duckdb_step.mjs" "$DUCK/node_modules" "$IN" "$OUT/duckdb_seed.csv" seed ;;
    pandas_seed) /usr/bin/python3 "$ROOT/bench/csv/pandas_step.py" "$IN" "$OUT/pandas_seed.csv" ;;
  esac
}
export -f run_tool
export IN OUT HAMF ROOT DUCK HAMF_OLD
tools=(cat hamf_select duckdb_select pandas_select hamf_seed duckdb_seed pandas_seed)
# HAMF_OLD (a binary of an older commit) also runs in the rotation
[ -n "${HAMF_OLD:-}" ] && tools+=(old_select old_seed)
RES="$OUT/results.txt"
: > "$RES"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
cat "$IN" >/dev/null # warm the page cache for everyone alike
for rep in $(seq "$REPEAT"); do
  n=${#tools[@]}
  for i in $(seq 0 $((n - 1))); do
    t=${tools[$(( (i + rep) % n ))]}
    /usr/bin/time -f "%e %U %S %M" -o "$OUT/time.txt" bash -c "$(declare -p step); $(declare -f run_tool); run_tool $t"
    read -r wall user sys rss < "$OUT/time.txt"
    echo "$t $wall $user $sys $rss" >> "$RES"
  done
done
# the outputs agree: same rows; hamf and pandas value for value (the parity
# test checks that in detail), DuckDB same row count
lines() { wc -l < "$1"; }
if [ -n "${HAMF_OLD:-}" ]; then
  if cmp -s "$OUT/hamf_seed.csv" "$OUT/old_seed.csv" && cmp -s "$OUT/hamf_select.csv" "$OUT/old_select.csv"; then
    echo "HAMF_OLD and this build: byte-identical outputs (select and seed)"
  else
    echo "WARNING: HAMF_OLD and this build write different outputs"
  fi
fi
[ "$(lines "$OUT/hamf_seed.csv")" = "$(lines "$OUT/duckdb_seed.csv")" ] || echo "WARNING: DuckDB row count differs"
[ "$(lines "$OUT/hamf_seed.csv")" = "$(lines "$OUT/pandas_seed.csv")" ] || echo "WARNING: pandas row count differs"
# pandas turns an int column with empty fields into floats (130 -> 130.0)
# and quotes an empty field of a one-column file (""): compare as numbers
/usr/bin/python3 - "$OUT/hamf_select.csv" "$OUT/pandas_select.csv" <<'PY' || echo "WARNING: select outputs differ"
import sys
a, b = ([x if x != '""' else "" for x in open(p).read().split("\n")[1:]] for p in sys.argv[1:3])
same = len(a) == len(b) and all((x == y) or (x and y and float(x) == float(y)) for x, y in zip(a, b))
sys.exit(0 if same else 1)
PY
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
info="$(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit, load average $load0 -> $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$size" "$ROWS" "$RES" "$REPEAT" "$info" <<'PY'
import statistics, sys
size, rows, res, rep = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
runs = {}
for line in open(res):
    n, w, u, s, r = line.split()
    runs.setdefault(n, []).append((float(w), float(u) + float(s), int(r) * 1024))
med = {n: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v), max(x[2] for x in v))
       for n, v in runs.items()}
print("csv: %d rows, %.1f MB, %d interleaved repetitions, medians; %s" % (rows, size / 1e6, rep, sys.argv[5]))
print("%-14s %8s %8s %9s %9s %9s" % ("tool", "wall s", "cpu s", "MB/s", "peak MB", "RSS/size"))
for n in ("cat", "hamf_select", "old_select", "duckdb_select", "pandas_select", "hamf_seed", "old_seed", "duckdb_seed",
          "pandas_seed"):
    if n not in med:
        continue
    w, c, r = med[n]
    print("%-14s %8.3f %8.3f %9.0f %9.1f %9.2f" % (n, w, c, size / 1e6 / max(w, 1e-6), r / 1e6, r / size))
# /usr/bin/time has 10 ms steps: a tiny ROWS can give 0 s
nz = lambda t: tuple(max(x, 0.005) for x in t[:2]) + t[2:]
hs, ds, ps = nz(med["hamf_select"]), med["duckdb_select"], med["pandas_select"]
h, d, p = nz(med["hamf_seed"]), med["duckdb_seed"], med["pandas_seed"]
mbs = size / 1e6 / hs[0]
print("select: hamf %.0f MB/s wall (target >= 400: %s), %.0f MB per CPU-second; %.1fx DuckDB, %.1fx pandas"
      % (mbs, "met" if mbs >= 400 else "MISSED", size / 1e6 / hs[1], ds[0] / hs[0], ps[0] / hs[0]))
print("seed:   hamf %.2f s = %.1fx DuckDB (target >= 3x: %s), %.1fx pandas (target >= 10x: %s) in wall time"
      % (h[0], d[0] / h[0], "met" if d[0] / h[0] >= 3 else "MISSED", p[0] / h[0], "met" if p[0] / h[0] >= 10 else "MISSED"))
print("        CPU time: %.1fx less than DuckDB, %.1fx less than pandas" % (d[1] / h[1], p[1] / h[1]))
print("memory: hamf peak RSS %.2fx the file in select, %.2fx in seed (target <= 1x: %s)"
      % (hs[2] / size, h[2] / size, "met" if max(hs[2], h[2]) <= size else "MISSED"))
PY
if [ "${CALLGRIND:-0}" = 1 ]; then
  SMALL="$OUT/raw_100000.csv"
  "$HAMF" datagen phishing --rows 100000 --seed 42 -o "$SMALL"
  for b in "$HAMF" ${HAMF_OLD:+"$HAMF_OLD"}; do
    for task in select seed; do
      if [ $task = select ]; then args=(--select urllength); else args=("${step[@]}"); fi
      ir=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$b" preprocess "$SMALL" -o "$OUT/cg.csv" -q \
        --threads 1 "${args[@]}" 2>&1 | awk '/refs:/{gsub(",","",$NF); print $NF}')
      echo "callgrind: $b $task: $ir instructions (100k rows, 1 thread)"
    done
  done
fi
