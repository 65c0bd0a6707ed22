"""bench/serve/mlflow_peer.py — the peer model for bench/serve/run.

Trains the seed's scikit-learn GradientBoostingClassifier(n_estimators=1000,
max_depth=3) on the same raw rows hamf trains on (raw.csv), with the seed's
preprocessing inside an sklearn Pipeline so that MLflow's scoring server
takes the same raw request bodies as `hamf serve`:

  alexa_rank_scaled = alexa_rank / 1000000
  pathlength_normalized = pathlength / urllength
  hassecureconnection_encoded = 1 if hassecureconnection == 'yes' else 0
  drop alexa_rank, pathlength, hassecureconnection
  registrarname: ordinal codes (unknown -> -1, missing -> -2)
  numeric gaps (the data has some): the training median

and saves it with mlflow.sklearn.save_model (with a signature, so the
server checks the input schema as it does for the seed's logged model).

  python3 mlflow_peer.py RAW_CSV MODEL_DIR     (Debian's python3 with
  PYTHONPATH pointing at the fetched MLflow 2.12.2 source)
"""
import sys

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder

import mlflow
import mlflow.sklearn
from mlflow.models import infer_signature


def seed_features(df):
    out = df.copy()
    out["alexa_rank_scaled"] = out["alexa_rank"] / 1000000
    out["pathlength_normalized"] = (out["pathlength"] / out["urllength"]).replace([np.inf, -np.inf], np.nan)
    out["hassecureconnection_encoded"] = (out["hassecureconnection"] == "yes").astype(np.int64)
    return out.drop(columns=["alexa_rank", "pathlength", "hassecureconnection"])


def main():
    raw_csv, model_dir = sys.argv[1], sys.argv[2]
    df = pd.read_csv(raw_csv)
    y = df.pop("phishing")
    numeric = [c for c in seed_features(df.head(1)).columns if c != "registrarname"]
    pre = ColumnTransformer(
        [
            ("num", SimpleImputer(strategy="median"), numeric),
            (
                "cat",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2),
                ["registrarname"],
            ),
        ]
    )
    model = Pipeline(
        [
            ("seed", FunctionTransformer(seed_features)),
            ("pre", pre),
            ("gb", GradientBoostingClassifier(n_estimators=1000, max_depth=3, random_state=42)),
        ]
    )
    model.fit(df, y)
    signature = infer_signature(df, model.predict(df.head(100)))
    mlflow.sklearn.save_model(model, model_dir, signature=signature, pip_requirements=["scikit-learn"])
    print("mlflow %s: saved %s (train accuracy %.4f)" % (mlflow.__version__, model_dir, model.score(df, y)))


if __name__ == "__main__":
    main()
