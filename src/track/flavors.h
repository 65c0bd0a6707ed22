/*
 * flavors.h — what a logged hamf model directory carries besides the hamf
 * flavor, so Python's MLflow can load it: the `xgboost` flavor (the model as
 * XGBoost JSON, fields as MLflow 2.12's mlflow.xgboost writes them) and
 * `python_function` (a small loader module shipped in model/code/ that
 * feeds pandas frames with string categories to that XGBoost model), plus
 * the SHAP importance artifacts of a run.
 */
#ifndef HAMF_TRACK_FLAVORS_H
#define HAMF_TRACK_FLAVORS_H

#include "hamf.h"
#include "util/util.h"

/* File name of the XGBoost JSON inside model/. */
#define HAMF__FLAVOR_XGB_FILE "model.json"

/* The python_function and xgboost entries of MLmodel's flavors map
 * (YAML, two-space indented, keys sorted as MLflow writes them). */
hamf_status hamf__flavors_yaml(struct hamf__buf *y);
/* The same two flavors as JSON members (", \"python_function\": {...}, ...")
 * for the mlflow.log-model.history tag. */
hamf_status hamf__flavors_json(struct hamf__buf *j);

/* One extra file of the model directory. */
struct hamf__flavor_file {
    const char *rel;   /* path under model/ */
    const char *text;  /* contents */
};
/* The static files: code/hamf_pyfunc.py, requirements.txt, python_env.yaml,
 * conda.yaml. */
const struct hamf__flavor_file *hamf__flavor_files(size_t *n);

/* Global SHAP importance (mean |SHAP| per feature on the test rows) as a
 * JSON document and as an SVG horizontal bar chart, largest first. */
hamf_status hamf__shap_importance_json(const hamf_ensemble *m, const double *imp, size_t nrows,
                                       struct hamf__buf *out);
hamf_status hamf__shap_importance_svg(const hamf_ensemble *m, const double *imp, struct hamf__buf *out);

#endif
