#!/usr/bin/env bash
# hamf models exported as XGBoost JSON, checked with Debian's python3-xgboost
# as the independent reference, on generated phishing data (categorical
# registrarname and hassecureconnection, empty cells): XGBoost's
# probabilities equal hamf's (|d| <= 1e-6), XGBoost's pred_contribs equal
# `hamf explain` (<= 1e-5), SHAP rows sum to the margin / probability
# (1e-9 relative), import(export(m)) predicts and explains identically,
# results do not depend on --threads, and a model trained by XGBoost itself
# imports and predicts/explains like XGBoost.
set -euo pipefail
PY=/usr/bin/python3
CHECK="$HAMF_ROOT/tests/explain/xgb_check.py"
"$HAMF" datagen phishing --rows 3000 --seed 11 -o train.csv >/dev/null
"$HAMF" datagen phishing --rows 800 --seed 12 -o rows.csv >/dev/null
head -n 301 rows.csv > rows300.csv
missing=$(awk -F, 'NR>1{for(i=1;i<=NF;i++) if($i=="") n++} END{print n+0}' rows.csv)
[ "$missing" -gt 0 ] || { echo "expected empty cells in the generated rows"; exit 1; }

check() { # name algo rows.csv train-args...
  local name=$1 algo=$2 rows=$3; shift 3
  "$HAMF" train train.csv --target phishing -o "$name.hamf" -q --threads 2 "$@" >/dev/null
  "$HAMF" model export "$name.hamf" --format xgboost-json -o "$name.json"
  "$HAMF" predict "$name.hamf" "$rows" -o "$name.pred.csv"
  "$HAMF" explain "$name.hamf" "$rows" -o "$name.contrib.csv" --threads 2
  echo "== $name"
  $PY "$CHECK" "$name.json" "$rows" "$name.pred.csv" "$name.contrib.csv" "$algo"
  # the exported model has categorical splits
  grep -q '"split_type":\[[0-9,]*1' "$name.json"
  # deterministic for any thread count
  "$HAMF" explain "$name.hamf" "$rows" -o "$name.contrib1.csv" --threads 1
  cmp "$name.contrib.csv" "$name.contrib1.csv"
  # import(export(m)) predicts and explains identically
  "$HAMF" model import "$name.json" --name "Imported_$name" -o "$name.imp.hamf" >/dev/null
  "$HAMF" predict "$name.imp.hamf" "$rows" -o "$name.imp.pred.csv"
  cmp "$name.pred.csv" "$name.imp.pred.csv"
  "$HAMF" explain "$name.imp.hamf" "$rows" -o "$name.imp.contrib.csv"
  cmp "$name.contrib.csv" "$name.imp.contrib.csv"
}
check gb3 gb rows.csv --n-estimators 250 --max-depth 3
check gb6 gb rows.csv --n-estimators 200 --max-depth 6
check rf rf rows300.csv --algorithm random-forest --n-estimators 50

# --top and --json agree with the full table
"$HAMF" explain gb6.hamf rows300.csv -o top.csv --top 3
"$HAMF" explain gb6.hamf rows300.csv -o all.json --json
"$HAMF" explain gb6.hamf rows300.csv -o top.json --json --top 2
$PY - <<'PY'
import json, numpy as np, pandas as pd
full = pd.read_csv("gb6.contrib.csv", float_precision="round_trip").iloc[:300]
top = pd.read_csv("top.csv", float_precision="round_trip")
assert list(top.columns) == ["feature_1", "shap_1", "feature_2", "shap_2", "feature_3", "shap_3", "bias"], top.columns
feats = full.columns[:-1]
for i in range(len(full)):
    row = full.iloc[i][feats]
    order = sorted(range(len(feats)), key=lambda k: (-abs(row.iloc[k]), k))[:3]
    for k in range(3):
        assert top.iloc[i][f"feature_{k+1}"] == feats[order[k]], (i, k)
        assert top.iloc[i][f"shap_{k+1}"] == row.iloc[order[k]], (i, k)
    assert top.iloc[i]["bias"] == full.iloc[i]["bias"]
js = json.load(open("all.json"))
assert len(js) == 300
for i, o in enumerate(js):
    assert o["bias"] == full.iloc[i]["bias"]
    for f in feats:
        assert o["contributions"][f] == full.iloc[i][f]
tj = json.load(open("top.json"))
assert [t["feature"] for t in tj[0]["top"]] == list(top.iloc[0][["feature_1", "feature_2"]])
print("top/json ok")
PY

# a model trained by XGBoost itself: import, then hamf predicts and explains like XGBoost
$PY - <<'PY'
import json, pandas as pd, xgboost as xgb
df = pd.read_csv("train.csv", keep_default_na=False, na_values=[""])
y = df.pop("phishing")
cats = {}
for c in ["hassecureconnection", "registrarname"]:
    cats[c] = sorted(df[c].dropna().unique())
    df[c] = pd.Categorical(df[c], categories=cats[c])
d = xgb.DMatrix(df, label=y, enable_categorical=True)
b = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.2, "tree_method": "hist",
               "max_cat_to_onehot": 1, "max_bin": 64, "base_score": 0.3, "nthread": 2}, d, 60)
b.set_attr(hamf_categories=json.dumps(cats))
b.save_model("native.json")
bad = xgb.train({"objective": "reg:squarederror", "max_depth": 2, "nthread": 1},
                xgb.DMatrix(df.drop(columns=list(cats)), label=y), 2)
bad.save_model("regression.json")
PY
grep -q NaN native.json  # XGBoost writes NaN for categorical conditions
"$HAMF" model import native.json --name Native -o native.hamf
"$HAMF" predict native.hamf rows.csv -o native.pred.csv
"$HAMF" explain native.hamf rows.csv -o native.contrib.csv
echo "== native"
$PY "$CHECK" native.json rows.csv native.pred.csv native.contrib.csv gb
echo "parity ok"
