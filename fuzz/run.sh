#!/usr/bin/env bash
# fuzz/run.sh TARGET CPU_SECONDS [WALL_SECONDS] — run build-fuzz/fuzz_TARGET
# (make fuzz) until the process has used CPU_SECONDS of CPU time (user +
# system, all threads; the machine may be shared, so wall time says little)
# or WALL_SECONDS have passed, then stop it with SIGINT and print its final
# stats (executions) and the CPU time used. New inputs go to a scratch copy
# of fuzz/corpus/TARGET; FORK=N runs N worker processes (libFuzzer
# -fork; their CPU time counts once each job ends); with MERGE=1 they are merged back (minimized) into
# the committed corpus. Crashes land in build-fuzz/crash-TARGET-*.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
t=$1 cpu=$2 wall=${3:-86400}
bin="$ROOT/build-fuzz/fuzz_$t"
[ -x "$bin" ] || { echo "no $bin: run 'make fuzz'" >&2; exit 2; }
work="$ROOT/build-fuzz/work-$t"; rm -rf "$work"; mkdir -p "$work/corpus"
cp "$ROOT/fuzz/corpus/$t/"* "$work/corpus/" 2>/dev/null || true
tick=$(getconf CLK_TCK)
cd "$work"
fork=()
[ "${FORK:-0}" -gt 1 ] && fork=(-fork="$FORK" -ignore_crashes=0)
"$bin" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${fork[@]}" \
  -artifact_prefix="$ROOT/build-fuzz/crash-$t-" corpus > log.txt 2>&1 &
pid=$!
start=$SECONDS used=0
while kill -0 "$pid" 2>/dev/null; do
  sleep 5
  read -r -a st < "/proc/$pid/stat" 2>/dev/null || break
  # own time plus that of waited-for children (the -fork workers)
  used=$(( (st[13] + st[14] + st[15] + st[16]) / tick ))
  if [ "$used" -ge "$cpu" ] || [ $((SECONDS - start)) -ge "$wall" ]; then kill -INT "$pid"; break; fi
done
rc=0; wait "$pid" || rc=$?
# a store the target made (fuzz_alerts, fuzz_search), left behind by SIGINT
rm -f "/dev/shm/hamf-fuzz-$t-$pid" "/dev/shm/hamf-fuzz-$t-$pid"-* "/tmp/hamf-fuzz-$t-$pid" "/tmp/hamf-fuzz-$t-$pid"-*
execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' log.txt | awk '{print $2}' | tail -1)
[ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' log.txt | tail -1 | tr -d '#')
echo "fuzz_$t: ${execs:-?} executions, $used CPU seconds, $((SECONDS - start)) s wall, exit $rc"
grep -E '^==[0-9]+==ERROR|deadly signal|SUMMARY|fuzz_[a-z]+: ' log.txt | head -5 || true
if [ "${MERGE:-0}" = 1 ]; then
  mkdir -p merged
  "$bin" -merge=1 -max_len=4096 merged "$ROOT/fuzz/corpus/$t" corpus > merge.txt 2>&1
  rm -f "$ROOT/fuzz/corpus/$t/"*; cp merged/* "$ROOT/fuzz/corpus/$t/"
  echo "fuzz_$t: corpus now $(ls "$ROOT/fuzz/corpus/$t" | wc -l) inputs"
fi
# libFuzzer exits 0 after SIGINT (or 72 on -max_total_time); a finding exits 1 or 77
[ "$rc" -eq 0 ] || [ "$rc" -eq 72 ] || [ "$rc" -eq 130 ]
