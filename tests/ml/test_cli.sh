#!/usr/bin/env bash
# test_cli.sh — hamf train / evaluate / predict end to end on a small
# generated CSV, and the bad-input rules (exit codes and messages).
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
/usr/bin/python3 "$HAMF_ROOT/bench/learn/gen.py" 3000 5 data.csv
# a constant target and a non-binary target
awk -F, 'BEGIN{OFS=","} NR==1{print;next} {$NF=1; print}' data.csv > const.csv
awk -F, 'BEGIN{OFS=","} NR==1{print;next} {$NF=NR%3; print}' data.csv > three.csv

out=$("$HAMF" train data.csv --target phishing -o gb.hamf --n-estimators 50 --json)
echo "$out"
for k in accuracy f1_score precision recall roc_auc log_loss n_train n_test fit_seconds; do
  echo "$out" | grep -q "\"$k\":" || fail "train --json lacks $k"
done
echo "$out" | grep -q '"n_train":2400,"n_test":600' || fail "80/20 split expected"
acc=$(echo "$out" | sed 's/.*"accuracy":\([0-9.]*\).*/\1/')
awk "BEGIN{exit !($acc > 90)}" || fail "GB accuracy $acc too low"

out=$("$HAMF" train data.csv --target phishing -o rf.hamf --algorithm random-forest --n-estimators 20 --json --threads 1)
echo "$out" | grep -q '"oob_accuracy":' || fail "RF reports OOB accuracy"
# same seed, other thread count: same model bytes
"$HAMF" train data.csv --target phishing -o rf2.hamf --algorithm random-forest --n-estimators 20 --threads 2 -q >/dev/null
cmp rf.hamf rf2.hamf || fail "RF model differs between 1 and 2 threads"
"$HAMF" train data.csv --target phishing -o gb1.hamf --n-estimators 50 --threads 1 -q >/dev/null
cmp gb.hamf gb1.hamf || fail "GB model differs between thread counts"

# evaluate on the training file and a --test file
"$HAMF" evaluate gb.hamf data.csv | grep -q '^accuracy' || fail "evaluate text output"
"$HAMF" evaluate gb.hamf data.csv --json | grep -q '"n_test":3000' || fail "evaluate json"
"$HAMF" train data.csv --target phishing -o gbt.hamf --test data.csv --n-estimators 5 --json | grep -q '"n_test":3000' \
  || fail "--test FILE"

# predict adds probability and prediction
"$HAMF" predict gb.hamf data.csv -o pred.csv
head -1 pred.csv | grep -q ',probability,prediction$' || fail "predict header"
[ "$(wc -l < pred.csv)" -eq 3001 ] || fail "predict row count"
# unseen categories are scored (as missing)
sed 's/registrar0[0-4]/brand-new-registrar/' data.csv > unseen.csv
"$HAMF" predict gb.hamf unseen.csv -o pred2.csv

# a model trained with --pipeline scores raw rows
"$HAMF" datagen phishing --rows 2000 --seed 3 -o raw.csv
cat > spec.txt <<'SPEC'
with alexa_rank_scaled = alexa_rank / 1000000
with pathlength_normalized = pathlength / urllength
with hassecureconnection_encoded = CASE WHEN hassecureconnection = 'yes' THEN 1 ELSE 0 END
drop alexa_rank, pathlength, hassecureconnection
SPEC
"$HAMF" train raw.csv --target phishing --pipeline spec.txt -o pipe.hamf --n-estimators 20 -q >/dev/null
"$HAMF" evaluate pipe.hamf raw.csv --json | grep -q '"n_test":2000' || fail "evaluate raw rows through the stored pipeline"
"$HAMF" predict pipe.hamf raw.csv -o praw.csv
head -1 praw.csv | grep -q '^urllength,.*,hassecureconnection,.*,probability,prediction$' || fail "predict keeps raw columns"
"$HAMF" preprocess raw.csv -o processed.csv --spec spec.txt -q
"$HAMF" evaluate pipe.hamf processed.csv --no-pipeline --json > a.json
"$HAMF" evaluate pipe.hamf raw.csv --json > b.json
cmp a.json b.json || fail "pipeline in the model = preprocess + --no-pipeline"

# registry: models_master + features_models_map + training_results
"$HAMF" train data.csv --target phishing -o reg.hamf --n-estimators 5 --db "$T/reg.db" -q >/dev/null
"$HAMF" train data.csv --target phishing -o reg2.hamf --algorithm random-forest --n-estimators 5 --db "$T/reg.db" --json \
  | grep -q '"model_id":2,"result_id":2,"model_version":"v2"' || fail "second registration"
[ "$(sqlite3 "$T/reg.db" "select algorithm from models_master order by model_id")" = "$(printf 'GradientBoosting\nRandomForest')" ] \
  || fail "models_master rows"
[ "$(sqlite3 "$T/reg.db" "select count(*) from features_models_map where model_id = 2")" = 14 ] || fail "feature map"
sqlite3 "$T/reg.db" "select accuracy > 90 and f1_score > 0.9 from training_results where model_id = 1" | grep -qx 1 \
  || fail "training_results"
[ "$(sqlite3 "$T/reg.db" "select feature_type from features_master where feature_name = 'registrarname'")" = categorical ] \
  || fail "features_master type"

# bad input
set +e
"$HAMF" train data.csv --target nosuch -o x.hamf 2>err; rc=$?
[ $rc -eq 1 ] && grep -q "nosuch" err || fail "missing target: rc=$rc $(cat err)"
"$HAMF" train const.csv --target phishing -o x.hamf 2>err; rc=$?
[ $rc -eq 1 ] && grep -q "single class" err || fail "constant target: rc=$rc $(cat err)"
"$HAMF" train three.csv --target phishing -o x.hamf 2>err; rc=$?
[ $rc -eq 1 ] && grep -q "not a binary label" err || fail "non-binary target: rc=$rc $(cat err)"
"$HAMF" train data.csv --target phishing -o x.hamf --n-estimators 0 2>err; rc=$?
[ $rc -eq 2 ] || fail "n-estimators 0: rc=$rc"
"$HAMF" train data.csv --target phishing -o x.hamf --algorithm svm 2>err; rc=$?
[ $rc -eq 2 ] || fail "unknown algorithm: rc=$rc"
cut -d, -f1-5,7- data.csv > lacks.csv
"$HAMF" predict gb.hamf lacks.csv -o p.csv 2>err; rc=$?
[ $rc -eq 1 ] && grep -q "'hostlength'" err || fail "missing column: rc=$rc $(cat err)"
"$HAMF" evaluate data.csv data.csv 2>err; rc=$?
[ $rc -eq 1 ] && grep -q "not a hamf model" err || fail "wrong model file: rc=$rc $(cat err)"
head -c 300 gb.hamf > trunc.hamf
"$HAMF" evaluate trunc.hamf data.csv 2>err; rc=$?
[ $rc -eq 1 ] || fail "truncated model: rc=$rc"
[ ! -e x.hamf ] || fail "failed train left a model file"
head -1 data.csv > empty.csv
"$HAMF" train empty.csv --target phishing -o x.hamf 2>err; rc=$?
[ $rc -eq 1 ] || fail "empty training set: rc=$rc"
set -e
"$HAMF" train --help | grep -q -- '--n-estimators' || fail "train --help"
echo ok
