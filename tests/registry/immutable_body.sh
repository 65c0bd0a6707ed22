# immutable_body.sh — sourced by test_immutable.sh (SQLite) and
# test_immutable_pg.sh (PostgreSQL) with HAMF_DB and HAMF_ARTIFACTS_DIR set:
# the bytes of every version live in the content store under the artifact
# root on both backends.
NAME=PhishingDetectionModel
fail() { echo "FAIL: $*"; exit 1; }
"$HAMF" datagen phishing --rows 2000 --seed 1 --drift 0 -o a.csv
"$HAMF" datagen phishing --rows 2000 --seed 2 --drift 1 -o b.csv
"$HAMF" datagen phishing --rows 500 --seed 3 --drift 0 -o score.csv
"$HAMF" train a.csv --target phishing --n-estimators 20 --db "$HAMF_DB" -o champion.hamf -q >/dev/null
"$HAMF" predict champion.hamf score.csv -o v1_before.csv
"$HAMF" predict "models:/$NAME/1" score.csv -o v1_uri.csv
cmp v1_before.csv v1_uri.csv || fail "models:/NAME/1 scores differently from the file it was trained to"
# the second training overwrites the user's file
"$HAMF" train b.csv --target phishing --n-estimators 20 --max-depth 2 --db "$HAMF_DB" -o champion.hamf -q >/dev/null
"$HAMF" predict champion.hamf score.csv -o file_after.csv
cmp -s v1_before.csv file_after.csv && fail "the second training did not change champion.hamf (test is void)"
"$HAMF" predict "models:/$NAME/1" score.csv -o v1_after.csv
cmp v1_before.csv v1_after.csv || fail "version 1 changed when champion.hamf was overwritten"
"$HAMF" predict "models:/$NAME@champion" score.csv -o champ.csv
cmp v1_before.csv champ.csv || fail "models:/NAME@champion is not version 1"
"$HAMF" predict "models:/$NAME/2" score.csv -o v2.csv
cmp file_after.csv v2.csv || fail "models:/NAME/2 is not the second training"
"$HAMF" evaluate "models:/$NAME/latest" score.csv --target phishing >/dev/null
"$HAMF" model importance "models:/$NAME/1" >/dev/null
run=$("$HAMF" model versions "$NAME" --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["run_id"] or "")')
[ -n "$run" ] || fail "hamf train --db logged no run for version 1"
"$HAMF" predict "runs:/$run/model" score.csv -o v1_run.csv
cmp v1_before.csv v1_run.csv || fail "runs:/RUN/model is not version 1"
# the stored copies: sha256-named, read-only, under the artifact root
"$HAMF" model versions "$NAME" --json > versions.json
/usr/bin/python3 - <<'PY'
import hashlib, json, os, stat
v = json.load(open("versions.json"))
assert len(v) == 2, v
for x in v:
    p = x["stored_copy"]
    assert p.startswith(os.environ["HAMF_ARTIFACTS_DIR"]) and "/registry/sha256/" in p, p
    assert os.path.basename(p) == x["digest"] + ".hamf", x
    assert hashlib.sha256(open(p, "rb").read()).hexdigest() == x["digest"], x
    assert not os.stat(p).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), oct(os.stat(p).st_mode)
    assert x["artifact_path"].endswith("/champion.hamf"), x
assert v[0]["digest"] != v[1]["digest"]
open("v1", "w").write(v[0]["stored_copy"] + "\n" + v[0]["digest"] + "\n")
PY
stored=$(sed -n 1p v1); digest=$(sed -n 2p v1)
# bad references
for ref in "models:/$NAME/9" "models:/$NAME@nope" "models:/Nope/1" "models:/$NAME" "models:/$NAME/abc"; do
  if "$HAMF" predict "$ref" score.csv -o x.csv 2>err.txt; then fail "$ref was accepted"; fi
  grep -q "$ref" err.txt || { cat err.txt; fail "error for $ref does not name it"; }
done
# the user's file is not needed
rm champion.hamf
"$HAMF" predict "models:/$NAME/1" score.csv -o v1_nofile.csv
cmp v1_before.csv v1_nofile.csv || fail "version 1 needs the user's file"
# a changed copy is refused, naming version and digest
chmod u+w "$stored"
printf 'X' | dd of="$stored" bs=1 seek=100 conv=notrunc 2>/dev/null
if "$HAMF" predict "models:/$NAME/1" score.csv -o bad.csv 2>err.txt; then fail "a corrupted version 1 was loaded"; fi
cat err.txt
grep -q "version 1 of model '$NAME'" err.txt && grep -q "$digest" err.txt || fail "the error does not name version 1 and its digest"
[ ! -e bad.csv ] || fail "a failed predict wrote its output"
if "$HAMF" drift --model "models:/$NAME/1" score.csv 2>err.txt; then fail "drift loaded a corrupted version"; fi
grep -q "$digest" err.txt || fail "drift's error does not name the digest"
# a missing copy likewise
rm -f "$stored"
if "$HAMF" predict "models:/$NAME@champion" score.csv -o bad.csv 2>err.txt; then fail "a missing version 1 was loaded"; fi
grep -q "$digest" err.txt && grep -q "missing" err.txt || { cat err.txt; fail "missing copy: wrong error"; }
if "$HAMF" retrain --model "models:/$NAME@champion" a.csv 2>err.txt; then fail "retrain started from a missing champion"; fi
grep -q "$digest" err.txt || { cat err.txt; fail "retrain's error does not name the digest"; }
if "$HAMF" retrain --model "models:/$NAME/2" a.csv 2>err.txt; then fail "retrain accepted a version that is not the champion"; fi
grep -q "champion" err.txt || { cat err.txt; fail "retrain: wrong error for a non-champion"; }
# version 2 is untouched
"$HAMF" predict "models:/$NAME/2" score.csv -o v2b.csv
cmp v2.csv v2b.csv
echo OK
