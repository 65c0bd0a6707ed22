#!/usr/bin/env bash
# test_learn_simd.sh — the GB learner's vector paths (AVX2 gradients, split
# search and partitions; four-copy histograms on long shards) give the same
# model bytes as the SSE2/scalar paths (HAMF_LEARN_SIMD=sse2) and for any
# thread count, on data with missing values, a categorical column and
# enough rows for multi-chunk partitions (> 16,384 rows per node) and
# four-copy histogram shards. On a CPU without AVX2 both runs take the
# same path (the thread-count check still bites).
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
"$HAMF" datagen phishing --rows 90000 --seed 7 -o raw.csv >/dev/null
common=(--target phishing --n-estimators 25 --learning-rate 0.3 -q --no-track)
for d in 3 7; do
  "$HAMF" train raw.csv "${common[@]}" --max-depth "$d" --threads 2 -o v2-$d.hamf >/dev/null
  HAMF_LEARN_SIMD=sse2 "$HAMF" train raw.csv "${common[@]}" --max-depth "$d" --threads 2 -o s2-$d.hamf >/dev/null
  HAMF_LEARN_SIMD=sse2 "$HAMF" train raw.csv "${common[@]}" --max-depth "$d" --threads 1 -o s1-$d.hamf >/dev/null
  "$HAMF" train raw.csv "${common[@]}" --max-depth "$d" --threads 3 -o v3-$d.hamf >/dev/null
  cmp v2-$d.hamf s2-$d.hamf || fail "depth $d: AVX2 and SSE2 paths give different models"
  cmp s2-$d.hamf s1-$d.hamf || fail "depth $d: 1 and 2 threads give different models"
  cmp v2-$d.hamf v3-$d.hamf || fail "depth $d: 2 and 3 threads give different models"
done
# the models are not trivial: they split on numeric and categorical features
"$HAMF" evaluate v2-7.hamf raw.csv --json | grep -q '"accuracy":9[5-9]' || fail "depth 7 model accuracy"
echo "ok: learner vector paths = scalar paths, any thread count"
