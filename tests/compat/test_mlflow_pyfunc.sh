#!/usr/bin/env bash
# MLflow 2.12's own Python client loads a model that `hamf train` logged to a
# `hamf server`, through mlflow.pyfunc.load_model("runs:/<id>/model") (the
# python_function flavor) and mlflow.xgboost.load_model (the xgboost
# flavor), and predicts hamf's probabilities (|d| <= 1e-6) for GB and RF.
# Uses MLflow's fetched source ($MLFLOW_SRC, default /work/ext/mlflow-2.12.2;
# never committed) with Debian's Python packages; skipped when absent.
set -euo pipefail
MLFLOW_SRC=${MLFLOW_SRC:-/work/ext/mlflow-2.12.2}
if [ ! -d "$MLFLOW_SRC/mlflow" ]; then echo "skipped: no MLflow source at $MLFLOW_SRC"; exit 0; fi
PY=/usr/bin/python3
if ! PYTHONPATH="$MLFLOW_SRC" $PY -c "import mlflow.pyfunc, mlflow.xgboost" 2>import.err; then
  echo "skipped: MLflow's client does not import with the installed packages:"; tail -n 3 import.err; exit 0
fi
. "$HAMF_ROOT/tests/server/lib.sh"
server_start "$T/srv.db" "$T/art"
"$HAMF" datagen phishing --rows 2000 --seed 21 -o train.csv >/dev/null
"$HAMF" datagen phishing --rows 400 --seed 22 -o rows.csv >/dev/null
for algo in gradient-boosting random-forest; do
  "$HAMF" train train.csv --target phishing -o "$algo.hamf" -q --algorithm "$algo" --n-estimators 40 \
    --tracking-uri "$SRV_URL" --experiment compat --json > "$algo.train.json"
  "$HAMF" predict "$algo.hamf" rows.csv -o "$algo.pred.csv"
  run_id=$($PY -c "import json,sys; print(json.load(open('$algo.train.json'))['run_id'])")
  MLFLOW_TRACKING_URI="$SRV_URL" PYTHONPATH="$MLFLOW_SRC" $PY - "$run_id" "$algo" <<'PY'
import sys
import numpy as np, pandas as pd
import mlflow, mlflow.pyfunc, mlflow.xgboost, xgboost
run_id, algo = sys.argv[1:3]
df = pd.read_csv("rows.csv", keep_default_na=False, na_values=[""]).drop(columns=["phishing"])
for c in df.columns:            # the logged signature types numeric columns as double
    if df[c].dtype != object:
        df[c] = df[c].astype("float64")
want = pd.read_csv(algo + ".pred.csv", float_precision="round_trip")["probability"].to_numpy()
model = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
meta = model.metadata
assert set(meta.flavors) >= {"hamf", "python_function", "xgboost"}, meta.flavors
assert meta.flavors["xgboost"]["model_class"] == "xgboost.core.Booster"
got = np.asarray(model.predict(df), dtype=np.float64)
d = float(np.max(np.abs(got - want)))
print(algo, "pyfunc max |d|", d)
assert d <= 1e-6, d
booster = mlflow.xgboost.load_model(f"runs:/{run_id}/model")
assert isinstance(booster, xgboost.Booster)
assert booster.feature_names == list(df.columns), booster.feature_names
# the whole run directory (hamf's server answers 400, not MLflow's empty
# listing, when a single file path is listed; see the report of issue 16)
import json, os
root = mlflow.artifacts.download_artifacts(run_id=run_id)
imp = json.load(open(os.path.join(root, "shap_importance.json")))
assert open(os.path.join(root, "shap_importance.svg")).read().startswith("<svg")
assert len(imp["features"]) == len(df.columns) and imp["rows"] > 0
print(algo, "ok")
PY
done
server_stop
echo "mlflow pyfunc ok"
