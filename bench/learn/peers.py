#!/usr/bin/python3
"""peers.py WHAT TRAIN.csv TEST.csv [THREADS [DEPTH [TREES [PREDICT]]]] — the
Python peers of bench/learn, from Debian's python3-sklearn (1.2) and
python3-xgboost (1.7). Prints one JSON object: fit_seconds (fit only, data
already in memory), accuracy (percent), peak_rss_mb (of this process,
pandas included), and with PREDICT=1 batch predict rows/s and single-row
latency.

WHAT: xgb      XGBoost hist, ordinal codes for string columns (NaN missing):
               XGBoost's fastest setup (nthread=THREADS, tree_method hist,
               max_bin 256); the headline peer
      xgbcat   XGBoost hist, enable_categorical=True, max_cat_to_onehot=1
               (the partition-based categorical path, slower in 1.7)
      hgb      scikit-learn HistGradientBoosting (categorical_features mask)
      skgb     scikit-learn GradientBoostingClassifier(n_estimators=1000,
               random_state=42) - the seed's train.py
      skrf     scikit-learn RandomForestClassifier(100, n_jobs=THREADS)
DEPTH (default 6) and TREES (default 1000) apply to xgb, xgbcat and hgb;
learning rate 0.1, min_child_weight 1, lambda 1 (XGBoost's defaults).
Missing values: xgb and hgb handle NaN natively; skgb/skrf (no NaN support
in scikit-learn 1.2 trees) get -1, as the seed's pipeline would have to.
"""
import json, resource, sys, time
import numpy as np
import pandas as pd

what, trp, tep = sys.argv[1], sys.argv[2], sys.argv[3]
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
depth = int(sys.argv[5]) if len(sys.argv) > 5 else 6
trees = int(sys.argv[6]) if len(sys.argv) > 6 else 1000
want_predict = len(sys.argv) > 7 and sys.argv[7] == "1"
tr = pd.read_csv(trp)
te = pd.read_csv(tep)
ytr = tr.pop("phishing").values
yte = te.pop("phishing").values
cats = [c for c in tr.columns if tr[c].dtype == object]
for c in cats:
    tr[c] = tr[c].astype("category")
    te[c] = pd.Categorical(te[c], categories=tr[c].cat.categories)
out = {"what": what, "n_train": len(tr), "n_test": len(te), "depth": depth, "trees": trees}


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


def latency(m, X, n):
    lat = []
    for i in range(n):
        row = X[i:i + 1]
        _, s = timed(lambda: m.predict_proba(row))
        lat.append(s)
    return float(np.median(lat) * 1000)


if what in ("xgb", "xgbcat"):
    import xgboost as xgb
    kw = dict(n_estimators=trees, max_depth=depth, learning_rate=0.1, tree_method="hist", max_bin=256,
              n_jobs=threads, random_state=42)
    if what == "xgbcat":
        X, Xt = tr, te
        m = xgb.XGBClassifier(enable_categorical=True, max_cat_to_onehot=1, **kw)
    else:
        X, Xt = ordinal(tr), ordinal(te)
        m = xgb.XGBClassifier(**kw)
    _, out["fit_seconds"] = timed(lambda: m.fit(X, ytr))
    proba, pt = timed(lambda: m.predict_proba(Xt)[:, 1])
    if want_predict:
        _, pt2 = timed(lambda: m.predict_proba(Xt)[:, 1])
        out["predict_seconds"] = min(pt, pt2)
        out["predict_rows_per_s"] = len(te) / out["predict_seconds"]
        out["single_row_ms"] = latency(m, Xt, 200)
elif what == "hgb":
    from sklearn.ensemble import HistGradientBoostingClassifier
    X, Xt = ordinal(tr), ordinal(te)
    mask = [c in cats for c in tr.columns]
    m = HistGradientBoostingClassifier(max_iter=trees, max_depth=depth, max_leaf_nodes=None, learning_rate=0.1,
                                       early_stopping=False, categorical_features=mask, random_state=42)
    _, out["fit_seconds"] = timed(lambda: m.fit(X, ytr))
    proba = m.predict_proba(Xt)[:, 1]
    if want_predict:
        out["single_row_ms"] = latency(m, Xt, 50)
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
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
print(json.dumps(out))
