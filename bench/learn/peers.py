#!/usr/bin/python3
"""peers.py WHAT TRAIN.csv TEST.csv [THREADS] — the Python peers of
bench/learn, from Debian's python3-sklearn and python3-xgboost. Prints one
JSON object: fit_seconds (fit only, data already in memory), accuracy
(percent), and for xgb also batch predict rows/s and single-row latency.

WHAT: xgb  XGBoost hist, 1000 trees, depth 6, lr 0.1 (categorical support)
      hgb  scikit-learn HistGradientBoosting, 1000 iterations, depth 6
      skgb scikit-learn GradientBoostingClassifier(n_estimators=1000,
           random_state=42) - the seed's train.py
      skrf scikit-learn RandomForestClassifier(100, n_jobs=THREADS)
Missing values: xgb and hgb handle NaN natively; skgb/skrf (no NaN support
in scikit-learn 1.2 trees) get -1, as the seed's pipeline would have to.
"""
import json, sys, time
import numpy as np
import pandas as pd

what, trp, tep = sys.argv[1], sys.argv[2], sys.argv[3]
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
tr = pd.read_csv(trp)
te = pd.read_csv(tep)
ytr = tr.pop("phishing").values
yte = te.pop("phishing").values
cats = [c for c in tr.columns if tr[c].dtype == object]
for c in cats:
    tr[c] = tr[c].astype("category")
    te[c] = pd.Categorical(te[c], categories=tr[c].cat.categories)
out = {"what": what, "n_train": len(tr), "n_test": len(te)}


def ordinal(df):
    d = df.copy()
    for c in cats:
        d[c] = d[c].cat.codes.astype(np.float64)
        d.loc[d[c] < 0, c] = np.nan
    return d.values.astype(np.float64)


def timed(f):
    t = time.perf_counter()
    r = f()
    return r, time.perf_counter() - t


if what == "xgb":
    import xgboost as xgb
    m = xgb.XGBClassifier(n_estimators=1000, max_depth=6, learning_rate=0.1, tree_method="hist", n_jobs=threads,
                          enable_categorical=True, max_cat_to_onehot=1, random_state=42)
    _, out["fit_seconds"] = timed(lambda: m.fit(tr, ytr))
    proba, pt = timed(lambda: m.predict_proba(te)[:, 1])
    proba, pt2 = timed(lambda: m.predict_proba(te)[:, 1])
    out["predict_seconds"] = min(pt, pt2)
    out["predict_rows_per_s"] = len(te) / out["predict_seconds"]
    lat = []
    for i in range(200):
        row = te.iloc[i:i + 1]
        _, s = timed(lambda: m.predict_proba(row))
        lat.append(s)
    out["single_row_ms"] = float(np.median(lat) * 1000)
elif what == "hgb":
    from sklearn.ensemble import HistGradientBoostingClassifier
    X, Xt = ordinal(tr), ordinal(te)
    mask = [c in cats for c in tr.columns]
    m = HistGradientBoostingClassifier(max_iter=1000, max_depth=6, max_leaf_nodes=None, learning_rate=0.1,
                                       early_stopping=False, categorical_features=mask, random_state=42)
    _, out["fit_seconds"] = timed(lambda: m.fit(X, ytr))
    proba = m.predict_proba(Xt)[:, 1]
    lat = []
    for i in range(50):
        row = Xt[i:i + 1]
        _, s = timed(lambda: m.predict_proba(row))
        lat.append(s)
    out["single_row_ms"] = float(np.median(lat) * 1000)
elif what in ("skgb", "skrf"):
    X, Xt = np.nan_to_num(ordinal(tr), nan=-1), np.nan_to_num(ordinal(te), nan=-1)
    if what == "skgb":
        from sklearn.ensemble import GradientBoostingClassifier
        m = GradientBoostingClassifier(n_estimators=1000, random_state=42)
    else:
        from sklearn.ensemble import RandomForestClassifier
        m = RandomForestClassifier(n_estimators=100, n_jobs=threads, random_state=42)
    _, out["fit_seconds"] = timed(lambda: m.fit(X, ytr))
    proba = m.predict_proba(Xt)[:, 1]
else:
    sys.exit("unknown peer " + what)
out["accuracy"] = float(((proba > 0.5) == (yte == 1)).mean() * 100)
print(json.dumps(out))
