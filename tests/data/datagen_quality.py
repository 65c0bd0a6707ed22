#!/usr/bin/python3
"""datagen_quality.py TRAIN.csv TEST.csv [DRIFTED.csv] — how hard is the
generated phishing data? Trains a tree ensemble (HistGradientBoosting) and a
linear model (LogisticRegression on standardized, imputed features) on TRAIN,
reports accuracy (percent) on TEST
(HAMF_QUALITY_ITERS sets the boosting rounds, default 300), and, given DRIFTED, the accuracy of the
same models on drifted data. Prints one JSON object."""
import json
import os
import sys

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def features(path, registrars=None):
    df = pd.read_csv(path)
    y = df.pop("phishing").to_numpy()
    df["hassecureconnection"] = (df["hassecureconnection"] == "yes").astype(float)
    if registrars is None:
        registrars = sorted(df["registrarname"].dropna().unique())
    df["registrarname"] = pd.Categorical(df["registrarname"], categories=registrars).codes.astype(float)
    df.loc[df["registrarname"] < 0, "registrarname"] = np.nan
    return df.to_numpy(dtype=float), y, registrars


def main():
    xtr, ytr, regs = features(sys.argv[1])
    xte, yte, _ = features(sys.argv[2], regs)
    iters = int(os.environ.get("HAMF_QUALITY_ITERS", "300"))
    tree = HistGradientBoostingClassifier(max_iter=iters, random_state=0).fit(xtr, ytr)
    lin = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                        LogisticRegression(max_iter=2000)).fit(xtr, ytr)
    out = {
        "rows_train": int(len(ytr)),
        "phishing_share": round(float(ytr.mean()), 4),
        "tree_accuracy": round(100 * float((tree.predict(xte) == yte).mean()), 2),
        "linear_accuracy": round(100 * float((lin.predict(xte) == yte).mean()), 2),
    }
    if len(sys.argv) > 3:
        xd, yd, _ = features(sys.argv[3], regs)
        out["tree_accuracy_drifted"] = round(100 * float((tree.predict(xd) == yd).mean()), 2)
        out["linear_accuracy_drifted"] = round(100 * float((lin.predict(xd) == yd).mean()), 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
