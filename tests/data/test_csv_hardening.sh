#!/usr/bin/env bash
# test_csv_hardening.sh — issue 18 item 8, reproduced then fixed:
# - a file with CR-only line endings used to read as one header row of
#   thousands of columns and "0 rows", exit 0; now it is refused with
#   file:line:column and a message naming CR-only line endings (also when the
#   CR-only file is larger than a block, and inside the data rows);
# - a NUL byte in a header name used to cut the name short; now refused;
# - 1e999 reads as +infinity (as Spark's Double parsing does) and is written
#   back as Spark's CSV writer writes it (Java's Double.toString):
#   "Infinity" / "-Infinity", which both read back as doubles.
set -uo pipefail
fail=0
expect_fail() { # name want args...
  local name=$1 want=$2; shift 2
  rm -f out.csv
  "$HAMF" preprocess "$@" -o out.csv 2>err.txt >/dev/null
  local rc=$?
  if [ $rc -eq 0 ]; then echo "FAIL $name: exit 0"; fail=1; fi
  if ! grep -qF -- "$want" err.txt; then echo "FAIL $name: message lacks [$want]:"; cat err.txt; fail=1; fi
  if [ -e out.csv ]; then echo "FAIL $name: output written"; fail=1; fi
  echo "ok $name: $(head -1 err.txt)"
}
# CR-only: 3 rows
printf 'a,b\r1,2\r3,4\r' > cr.csv
expect_fail cr_only "cr.csv:1:4: carriage return without a line feed (CR-only line endings" cr.csv
# CR-only and bigger than one block: refused before reading it all
python3 -c "
import sys
sys.stdout.write('a,b,c\r' + ''.join('%d,%d,x\r' % (i, i * 2) for i in range(200000)))" > crbig.csv
expect_fail cr_only_big "crbig.csv:1:6: carriage return without a line feed" crbig.csv --block-size 65536
# a lone CR inside a data row (LF file otherwise)
printf 'a,b\n1,2\n3\r5,4\n' > crmid.csv
expect_fail cr_in_row "crmid.csv:3:2: carriage return without a line feed" crmid.csv
# CRLF and a CR inside a quoted field stay fine
printf 'a,b\r\n1,"x\ry"\r\n' > crlf.csv
if ! "$HAMF" preprocess crlf.csv -o out.csv -q; then echo "FAIL crlf: refused"; fail=1; fi
# NUL in a header name
printf 'ab\0cd,e\n1,2\n' > nul.csv
expect_fail nul_name "nul.csv:1:3: NUL byte in a column name" nul.csv
# infinities: read 1e999 / -1e999 / Infinity, write Spark's spelling, read back
printf 'v,w\n1e999,1.5\n-1e999,2\nInfinity,-Infinity\n0.25,3\n' > inf.csv
if "$HAMF" preprocess inf.csv -o out.csv -q --with 'z = v * 2'; then
  want=$'v,w,z\nInfinity,1.5,Infinity\n-Infinity,2.0,-Infinity\nInfinity,-Infinity,Infinity\n0.25,3.0,0.5'
  got=$(cat out.csv)
  if [ "$got" != "$want" ]; then echo "FAIL infinity: got:"; cat out.csv; fail=1; else echo "ok infinity"; fi
  # what we write reads back as the same doubles
  if "$HAMF" preprocess out.csv -o back.csv -q && cmp -s out.csv back.csv; then echo "ok infinity round trip"
  else echo "FAIL infinity round trip"; cat back.csv; fail=1; fi
else
  echo "FAIL infinity: exit $?"; fail=1
fi
exit $fail
