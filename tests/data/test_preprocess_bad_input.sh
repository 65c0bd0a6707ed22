#!/usr/bin/env bash
# test_preprocess_bad_input.sh — every kind of bad input to `hamf preprocess`
# fails with exit status != 0, a message that says where (file:line:column
# for CSV, the expression with a caret for expressions), and leaves no
# output file (not even a temp file); 0-byte and header-only inputs.
set -uo pipefail
fail=0
# expect_fail NAME WANT_SUBSTRING ARGS... : must exit non-zero, print WANT, create no out.csv
expect_fail() {
  local name=$1 want=$2; shift 2
  rm -f out.csv
  "$HAMF" preprocess "$@" -o out.csv 2>err.txt >/dev/null
  local rc=$?
  if [ $rc -eq 0 ]; then echo "FAIL $name: exit 0"; fail=1; fi
  if ! grep -qF -- "$want" err.txt; then echo "FAIL $name: message lacks [$want]:"; cat err.txt; fail=1; fi
  if [ -e out.csv ] || ls out.csv.tmp.* >/dev/null 2>&1; then echo "FAIL $name: output file left behind"; fail=1; fi
}
ok_step=(--with 'r = a / b')
printf 'a,b\n1,2\n3\n' > ragged.csv
expect_fail ragged "ragged.csv:3:2: too few fields: got 1, expected 2" ragged.csv "${ok_step[@]}"
printf 'a,b\n1,2\n3,4,5\n' > extra.csv
expect_fail extra "extra.csv:3:5: too many fields" extra.csv "${ok_step[@]}"
printf 'a,b\n1,2\n3,"4\n5,6\n' > unterminated.csv
expect_fail unterminated "unterminated.csv:3:3: unterminated quoted field" unterminated.csv "${ok_step[@]}"
printf 'a,b\n1,2\n3,\xe9t\xe9\n' > latin1.csv
expect_fail utf8 "latin1.csv:3:3: invalid UTF-8 byte 0xe9" latin1.csv "${ok_step[@]}"
printf 'a,b\n1,x"y\n' > stray.csv
expect_fail stray_quote "stray.csv:2:4: unexpected '\"'" stray.csv "${ok_step[@]}"
printf 'a,b\n1,2\n' > good.csv
expect_fail unknown_column "unknown column 'c'" good.csv --with 'r = a / c'
expect_fail unknown_column_caret "at column 13" good.csv --with 'r = a + b + b / c'
# the caret sits under the 13th character of the expression
[ "$(tail -n 2 err.txt)" = "$(printf '  a + b + b / c\n              ^')" ] || { echo "FAIL caret:"; cat err.txt; fail=1; }
expect_fail syntax "expected a value, found end of expression at column 4" good.csv --with 'r = a +'
[ "$(tail -n 2 err.txt)" = "$(printf '  a +\n     ^')" ] || { echo "FAIL caret2:"; cat err.txt; fail=1; }
expect_fail type_error "'*' needs numbers, got boolean" good.csv --with 'r = (a > 1) * 2'
expect_fail unknown_function "unknown function 'frob'" good.csv --with 'r = frob(a)'
expect_fail drop_unknown "drop: unknown column 'zz'" good.csv --drop zz
expect_fail select_unknown "select: unknown column 'zz'" good.csv --select a,zz
expect_fail bad_step "expected '='" good.csv --with 'r a'
expect_fail missing_input "nosuch.csv" nosuch.csv "${ok_step[@]}"
printf 'with r = a / b\nwith s = (a\n' > bad.spec
expect_fail spec_line "bad.spec:2: with s" good.csv --spec bad.spec
: > empty.csv
expect_fail empty_file "empty.csv: empty file (no header row)" empty.csv "${ok_step[@]}"
expect_fail schema_mismatch "good.csv:2:1: column 'a' is bool (schema) but holds '1'" good.csv --schema a:bool "${ok_step[@]}"
# the spec's error does not clobber an existing output either
printf 'keep\n' > out2.csv
"$HAMF" preprocess good.csv -o out2.csv --with 'r = nope' 2>/dev/null && { echo "FAIL clobber: exit 0"; fail=1; }
[ "$(cat out2.csv)" = keep ] || { echo "FAIL clobber: out2.csv changed"; fail=1; }
# usage errors exit 2
"$HAMF" preprocess good.csv 2>/dev/null; [ $? -eq 2 ] || { echo "FAIL usage: want exit 2"; fail=1; }
"$HAMF" preprocess --bogus 2>/dev/null; [ $? -eq 2 ] || { echo "FAIL usage2: want exit 2"; fail=1; }
# header-only input gives a header-only output with the new columns
printf 'a,b\n' > header.csv
"$HAMF" preprocess header.csv -o out.csv --with 'r = a / b' --drop b -q || { echo "FAIL header-only: exit != 0"; fail=1; }
[ "$(cat out.csv)" = "a,r" ] || { echo "FAIL header-only: got [$(cat out.csv)]"; fail=1; }
# --help documents the seed's step
"$HAMF" preprocess --help | grep -q "hassecureconnection_encoded" || { echo "FAIL help"; fail=1; }
exit $fail
