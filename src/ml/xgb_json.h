/*
 * xgb_json.h — the one XGBoost JSON call the layers above src/ml/ use (the
 * run logger writes the model's `xgboost` MLflow flavor with it).
 */
#ifndef HAMF_ML_XGB_JSON_H
#define HAMF_ML_XGB_JSON_H

#include "hamf.h"

#include <stddef.h>

/* The model as XGBoost JSON text (NUL-terminated, *len bytes without the
 * NUL). [owned: hamf__free] */
hamf_status hamf__xgb_export(const hamf_ensemble *m, char **json, size_t *len);

#endif
