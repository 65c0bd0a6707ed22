/*
 * flavors.c — MLflow flavors beside `hamf` and the SHAP importance
 * artifacts (see flavors.h).
 *
 * The xgboost flavor's fields are those MLflow 2.12's mlflow.xgboost
 * save_model writes (xgb_version, data, model_class, model_format, code),
 * so mlflow.xgboost.load_model returns an xgboost.Booster. The
 * python_function flavor names our own loader module (code/hamf_pyfunc.py):
 * MLflow's stock xgboost pyfunc builds DMatrix(df) without categorical
 * support, which cannot take the string columns (registrarname) hamf
 * models use; ours turns them into pandas categoricals with the category
 * lists the exported model carries, then returns XGBoost's probabilities,
 * which equal hamf's.
 */
#include "track/flavors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

hamf_status hamf__flavors_yaml(struct hamf__buf *y)
{
    return hamf__buf_puts(y,
                          "  python_function:\n"
                          "    code: code\n"
                          "    data: " HAMF__FLAVOR_XGB_FILE "\n"
                          "    env:\n"
                          "      conda: conda.yaml\n"
                          "      virtualenv: python_env.yaml\n"
                          "    loader_module: hamf_pyfunc\n"
                          "    python_version: 3.11.2\n"
                          "  xgboost:\n"
                          "    code: null\n"
                          "    data: " HAMF__FLAVOR_XGB_FILE "\n"
                          "    model_class: xgboost.core.Booster\n"
                          "    model_format: json\n"
                          "    xgb_version: 1.7.4\n");
}

hamf_status hamf__flavors_json(struct hamf__buf *j)
{
    return hamf__buf_puts(j, ", \"python_function\": {\"code\": \"code\", \"data\": \"" HAMF__FLAVOR_XGB_FILE "\", "
                             "\"env\": {\"conda\": \"conda.yaml\", \"virtualenv\": \"python_env.yaml\"}, "
                             "\"loader_module\": \"hamf_pyfunc\", \"python_version\": \"3.11.2\"}, "
                             "\"xgboost\": {\"code\": null, \"data\": \"" HAMF__FLAVOR_XGB_FILE "\", "
                             "\"model_class\": \"xgboost.core.Booster\", \"model_format\": \"json\", "
                             "\"xgb_version\": \"1.7.4\"}");
}

static const char pyfunc_src[] =
    "\"\"\"hamf_pyfunc: MLflow python_function loader for models logged by hamf.\n"
    "\n"
    "The model is the XGBoost JSON of the run's hamf model (the `xgboost`\n"
    "flavor). Input: a pandas DataFrame with the model's feature columns (the\n"
    "output columns of the hamf preprocessing pipeline); string columns are\n"
    "categorical and are encoded with the category lists stored in the\n"
    "model's `hamf_categories` attribute (unknown categories count as\n"
    "missing, as in hamf). Output: P(label = 1) per row, as hamf predicts.\n"
    "\"\"\"\n"
    "import json\n"
    "\n"
    "import numpy as np\n"
    "import pandas as pd\n"
    "import xgboost as xgb\n"
    "\n"
    "\n"
    "class HamfXGBModel:\n"
    "    def __init__(self, path):\n"
    "        self.booster = xgb.Booster(model_file=path)\n"
    "        self.categories = json.loads(self.booster.attr(\"hamf_categories\") or \"{}\")\n"
    "\n"
    "    def get_raw_model(self):\n"
    "        return self.booster\n"
    "\n"
    "    def frame(self, data):\n"
    "        df = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)\n"
    "        cols = {}\n"
    "        for name, kind in zip(self.booster.feature_names, self.booster.feature_types):\n"
    "            if name not in df.columns:\n"
    "                raise ValueError(\"hamf model: the input lacks column %r\" % name)\n"
    "            col = df[name]\n"
    "            if kind == \"c\":\n"
    "                values = col.astype(object).where(col.notna(), None)\n"
    "                values = values.map(lambda v: v if v is None else str(v))\n"
    "                cols[name] = pd.Categorical(values, categories=self.categories.get(name, []))\n"
    "            else:\n"
    "                cols[name] = pd.to_numeric(col, errors=\"coerce\").astype(np.float64)\n"
    "        return pd.DataFrame(cols, index=df.index)\n"
    "\n"
    "    def predict(self, data, params=None):\n"
    "        dm = xgb.DMatrix(self.frame(data), enable_categorical=True)\n"
    "        return self.booster.predict(dm, **(params or {}))\n"
    "\n"
    "\n"
    "def _load_pyfunc(path):\n"
    "    return HamfXGBModel(path)\n";

static const struct hamf__flavor_file files[] = {
    {"code/hamf_pyfunc.py", pyfunc_src},
    {"requirements.txt", "xgboost>=1.7\npandas\nnumpy\n"},
    {"python_env.yaml", "python: 3.11.2\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n"},
    {"conda.yaml", "channels:\n- conda-forge\ndependencies:\n- python=3.11.2\n- pip\n- pip:\n  - xgboost>=1.7\n"
                   "  - pandas\n  - numpy\nname: hamf_env\n"},
};

const struct hamf__flavor_file *hamf__flavor_files(size_t *n)
{
    *n = sizeof files / sizeof files[0];
    return files;
}

/* feature indices by importance, largest first (ties by index) */
static const double *sort_imp;
static int by_imp(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (sort_imp[x] != sort_imp[y]) return sort_imp[x] > sort_imp[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

static size_t *order_of(const double *imp, size_t nf)
{
    size_t *o = hamf__malloc((nf + 1) * sizeof *o);
    if (!o) return NULL;
    for (size_t f = 0; f < nf; f++) o[f] = f;
    /* single-threaded callers only: the comparator reads a file-level pointer */
    sort_imp = imp;
    qsort(o, nf, sizeof *o, by_imp);
    sort_imp = NULL;
    return o;
}

hamf_status hamf__shap_importance_json(const hamf_ensemble *m, const double *imp, size_t nrows, struct hamf__buf *out)
{
    size_t nf = hamf_ensemble_nfeatures(m);
    size_t *o = order_of(imp, nf);
    if (!o) return hamf__err(HAMF_ERR_NOMEM, "track: out of memory");
    hamf_status s = hamf__buf_printf(out, "{\"method\": \"TreeSHAP (path-dependent, exact)\", \"statistic\": \"mean |SHAP|\", "
                                          "\"units\": \"%s\", \"rows\": %zu, \"features\": [",
                                     hamf_ensemble_algorithm(m) == HAMF_ALGO_RANDOM_FOREST ? "probability" : "log-odds",
                                     nrows);
    for (size_t k = 0; k < nf && !s; k++) {
        s = hamf__buf_puts(out, k ? ", {\"feature\": " : "{\"feature\": ");
        if (!s) s = hamf__json_str(out, hamf_ensemble_feature_name(m, o[k]), (size_t)-1);
        if (!s) s = hamf__buf_puts(out, ", \"mean_abs_shap\": ");
        if (!s) s = hamf__json_num(out, imp[o[k]]);
        if (!s) s = hamf__buf_putc(out, '}');
    }
    if (!s) s = hamf__buf_puts(out, "]}\n");
    hamf__free(o);
    return s;
}

static hamf_status xml_text(struct hamf__buf *b, const char *s)
{
    hamf_status st = HAMF_OK;
    for (; *s && !st; s++) {
        switch (*s) {
        case '<': st = hamf__buf_puts(b, "&lt;"); break;
        case '>': st = hamf__buf_puts(b, "&gt;"); break;
        case '&': st = hamf__buf_puts(b, "&amp;"); break;
        case '"': st = hamf__buf_puts(b, "&quot;"); break;
        default: st = hamf__buf_putc(b, *s);
        }
    }
    return st;
}

hamf_status hamf__shap_importance_svg(const hamf_ensemble *m, const double *imp, struct hamf__buf *out)
{
    size_t nf = hamf_ensemble_nfeatures(m);
    size_t *o = order_of(imp, nf);
    if (!o) return hamf__err(HAMF_ERR_NOMEM, "track: out of memory");
    const int bar_h = 18, gap = 6, left = 170, width = 640, top = 34;
    int plot_w = width - left - 80;
    int height = top + (int)nf * (bar_h + gap) + 10;
    double mx = nf ? imp[o[0]] : 0;
    hamf_status s = hamf__buf_printf(out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n"
        "<title>Global feature importance: mean |SHAP| on the test rows</title>\n"
        "<text x=\"%d\" y=\"18\" font-size=\"13\" font-weight=\"bold\">mean |SHAP| (%s) on the test rows</text>\n",
        width, height, width, height, left, hamf_ensemble_algorithm(m) == HAMF_ALGO_RANDOM_FOREST ? "probability" : "log-odds");
    for (size_t k = 0; k < nf && !s; k++) {
        double v = imp[o[k]];
        int y = top + (int)k * (bar_h + gap);
        int w = mx > 0 && isfinite(v) ? (int)lround(v / mx * plot_w) : 0;
        char num[32];
        hamf__fmt_double(num, v < 1e-4 ? v : round(v * 1e4) / 1e4);
        s = hamf__buf_printf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"feature\">", left - 8, y + bar_h - 5);
        if (!s) s = xml_text(out, hamf_ensemble_feature_name(m, o[k]));
        if (!s) s = hamf__buf_printf(out, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#1f77b4\"/>"
                                          "<text x=\"%d\" y=\"%d\">%s</text>\n",
                                     left, y, w, bar_h, left + w + 6, y + bar_h - 5, num);
    }
    if (!s) s = hamf__buf_puts(out, "</svg>\n");
    hamf__free(o);
    return s;
}
