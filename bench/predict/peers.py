#!/usr/bin/python3
"""peers.py — the Python peers of bench/predict, from Debian's python3-sklearn
and python3-xgboost. Every mode prints one JSON object.

  peers.py fit-rf TRAIN.csv OUT.pkl        RandomForestClassifier(100, n_jobs=2,
                                           random_state=42), pickled (protocol 5)
  peers.py fit-xgb TRAIN.csv OUT.ubj       XGBoost hist, 1000 trees, depth 6
  peers.py rf TEST.csv MODEL.pkl REPS      predict() REPS times (data in memory)
  peers.py xgb TEST.csv MODEL.ubj REPS     inplace_predict() REPS times

Missing values: scikit-learn 1.2 trees have no NaN support, so its inputs get
-1 (as the seed's pipeline would have to); XGBoost takes NaN natively.
Categorical columns become ordinal codes (the generated data has none after
the seed's preprocessing).
"""
import json, pickle, sys, time
import numpy as np
import pandas as pd

what, csv = sys.argv[1], sys.argv[2]
d = pd.read_csv(csv)
y = d.pop("phishing").values
for c in d.columns:
    if d[c].dtype == object:
        d[c] = d[c].astype("category").cat.codes.astype(np.float64).replace(-1, np.nan)
X = d.values.astype(np.float64)
Xs = np.nan_to_num(X, nan=-1)
out = {"what": what, "rows": len(d)}


def timed(f):
    t = time.perf_counter()
    r = f()
    return r, time.perf_counter() - t


if what == "fit-rf":
    from sklearn.ensemble import RandomForestClassifier
    m = RandomForestClassifier(n_estimators=100, n_jobs=2, random_state=42)
    _, out["fit_seconds"] = timed(lambda: m.fit(Xs, y))
    with open(sys.argv[3], "wb") as f:
        pickle.dump(m, f, protocol=5)
    out["nodes"] = int(sum(e.tree_.node_count for e in m.estimators_))
elif what == "fit-xgb":
    import xgboost as xgb
    m = xgb.XGBClassifier(n_estimators=1000, max_depth=6, learning_rate=0.1, tree_method="hist", n_jobs=2,
                          random_state=42)
    _, out["fit_seconds"] = timed(lambda: m.fit(X, y))
    m.save_model(sys.argv[3])
elif what == "rf":
    with open(sys.argv[3], "rb") as f:
        m = pickle.load(f)
    m.n_jobs = 2
    ts = []
    for _ in range(int(sys.argv[4])):
        p, t = timed(lambda: m.predict(Xs))
        ts.append(t)
    out["seconds"] = ts
    out["accuracy"] = float((p == y).mean() * 100)
elif what == "xgb":
    import xgboost as xgb
    b = xgb.Booster()
    b.load_model(sys.argv[3])
    b.set_param({"nthread": 2})
    ts = []
    for _ in range(int(sys.argv[4])):
        p, t = timed(lambda: b.inplace_predict(X))
        ts.append(t)
    out["seconds"] = ts
    out["accuracy"] = float(((p > 0.5) == y).mean() * 100)
    lat = []
    for i in range(2000):
        row = X[i:i + 1]
        _, s = timed(lambda: b.inplace_predict(row))
        lat.append(s)
    out["single_row_us_median"] = float(np.median(lat) * 1e6)
print(json.dumps(out))
