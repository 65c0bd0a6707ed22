"""xgb_check.py MODEL.json DATA.csv PRED.csv CONTRIB.csv ALGO

Independent check of a hamf model exported as XGBoost JSON, with Debian's
python3-xgboost as the reference: XGBoost's probabilities must equal
hamf's (predict output), XGBoost's pred_contribs must equal `hamf explain`,
and hamf's SHAP rows must sum to the margin (GB) / probability (RF).
Prints one JSON object of maximum deviations; exits 1 past a tolerance.
"""
import json
import sys

import numpy as np
import pandas as pd
import xgboost as xgb

model_path, data_path, pred_path, contrib_path, algo = sys.argv[1:6]
b = xgb.Booster(model_file=model_path)
cats = json.loads(b.attr("hamf_categories") or "{}")
df = pd.read_csv(data_path, keep_default_na=False, na_values=[""])
X = pd.DataFrame(index=df.index)
for name, ty in zip(b.feature_names, b.feature_types):
    col = df[name]
    if ty == "c":
        X[name] = pd.Categorical(col.where(col.notna(), None), categories=cats[name])
    else:
        X[name] = pd.to_numeric(col).astype("float64")
dm = xgb.DMatrix(X, enable_categorical=True)
px = b.predict(dm).astype(np.float64)
ph = pd.read_csv(pred_path, float_precision="round_trip")["probability"].to_numpy()
cx = b.predict(dm, pred_contribs=True).astype(np.float64)
ch = pd.read_csv(contrib_path, float_precision="round_trip")
assert list(ch.columns) == list(b.feature_names) + ["bias"], ch.columns
ch = ch.to_numpy()
sums = ch.sum(axis=1)
if algo == "gb":
    target = np.log(ph) - np.log1p(-ph)     # hamf's margin from its probability
else:
    target = ph
res = {
    "rows": int(len(df)),
    "max_abs_pred": float(np.max(np.abs(px - ph))),
    "max_abs_contrib": float(np.max(np.abs(cx - ch))),
    "max_rel_sum": float(np.max(np.abs(sums - target) / np.maximum(1.0, np.abs(target)))),
    "missing_cells": int(df[b.feature_names].isna().sum().sum()),
}
print(json.dumps(res))
ok = res["max_abs_pred"] <= 1e-6 and res["max_abs_contrib"] <= 1e-5 and res["max_rel_sum"] <= 1e-9
sys.exit(0 if ok else 1)
