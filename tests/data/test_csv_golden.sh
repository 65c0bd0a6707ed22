#!/usr/bin/env bash
# test_csv_golden.sh — old-vs-new differential for the CSV reader/writer
# rewrite (issue 15): tests/data/csv_golden/*.out.csv were written by the
# scalar reader/writer before the rewrite (commit b4fb044) from the inputs
# next to them (random numbers of every shape: long mantissas, exponents,
# int64 limits, 1e999, subnormals; quoted/escaped/multi-line/UTF-8
# strings, CRLF, BOM, blank lines, null spellings, duplicate names). The
# current reader must write the same bytes with every SIMD level (scalar,
# SSE2, AVX2), with 1 and 2 threads and with tiny blocks (so block and
# range boundaries fall everywhere), and with column projection.
set -uo pipefail
G="$HAMF_ROOT/tests/data/csv_golden"
fail=0
check() { # name expected input args...
  local name=$1 want=$2 in=$3; shift 3
  local simd threads bs
  for simd in scalar sse2 avx2; do
    for threads in 1 2; do
      for bs in 0 4096; do
        local extra=()
        [ "$bs" != 0 ] && extra=(--block-size "$bs")
        rm -f out.csv
        if ! HAMF_CSV_SIMD=$simd "$HAMF" preprocess "$G/$in" -o out.csv -q --threads "$threads" "${extra[@]}" "$@" 2>err.txt; then
          echo "FAIL $name ($simd, $threads threads, block $bs): exit $?"; cat err.txt; fail=1; continue
        fi
        if ! cmp -s out.csv "$G/$want"; then
          echo "FAIL $name ($simd, $threads threads, block $bs): output differs"
          diff <(head -c 100000 out.csv) <(head -c 100000 "$G/$want") | head -5
          fail=1
        fi
      done
    done
  done
  echo "ok $name"
}
check numbers numbers.out.csv numbers.csv --with 'x = d * 3' --with 'y = i / 7'
check numbers_schema numbers_schema.out.csv numbers.csv --schema i:double,mix:string
check strings strings.out.csv strings.csv --null-values NA,null
check strings_select strings_sel.out.csv strings.csv --select n,flag
# column projection (only the columns the steps read are converted): names
# resolved case-insensitively, replaced in place, dropped after use
check proj_case proj_case.out.csv numbers.csv --with 'D = i + 1' --select d,MIX
check proj_replace proj_replace.out.csv strings.csv --with 'n = length(NAME0)' --drop name0,FLAG --select n,empty
check proj_chain proj_chain.out.csv numbers.csv --with 'z = i * 2' --with 'w = z + 1' --drop z,d --select w
exit $fail
