/*
 * track_cli.c — `hamf train`'s tracking flags and the begin/end calls
 * around the fit (see track_cli.h); the logging itself is hamf.h's
 * hamf_run_* (src/track/run_log.c).
 */
#include "track_cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void track_cli_option(struct track_cli *tc, int opt, const char *arg)
{
    switch (opt) {
    case TRACK_OPT_URI: tc->uri = arg; break;
    case TRACK_OPT_EXPERIMENT: tc->experiment = arg; break;
    case TRACK_OPT_RUN_NAME: tc->run_name = arg; break;
    case TRACK_OPT_ARTIFACTS: tc->artifacts_dir = arg; break;
    case TRACK_OPT_NO_TRACK: tc->off = true; break;
    }
}

void track_cli_help(FILE *o)
{
    fprintf(o,
        "  --tracking-uri URI      log an MLflow run: http(s):// = REST server, else a\n"
        "                          hamf store (default $MLFLOW_TRACKING_URI, else --db);\n"
        "                          on when a URI or a store is given; created before\n"
        "                          training (unreachable: nothing is written)\n"
        "  --experiment NAME       default \"" HAMF_DEFAULT_EXPERIMENT "\"\n"
        "  --run-name NAME         default ALGORITHM-MODEL_NAME-VERSION\n"
        "  --artifacts-dir DIR     local runs' artifacts (default ./mlartifacts)\n"
        "  --no-track              do not log a run\n");
}

int track_cli_begin(struct track_cli *tc, const char *db, hamf_store *store, const char *algorithm,
                    const char *model_name)
{
    tc->where = NULL;
    if (tc->off) return CLI_OK;
    const char *env = getenv("MLFLOW_TRACKING_URI");
    const char *uri = tc->uri && *tc->uri ? tc->uri : env && *env ? env : NULL;
    if (!uri && !db) return CLI_OK;
    hamf_run_dest d = {.tracking_uri = uri, .db_url = db, .store = store, .artifacts_dir = tc->artifacts_dir};
    hamf_kv tags[2] = {{"hamf.algorithm", algorithm}, {"hamf.model_name", model_name}};
    hamf_run_options s = {.experiment = tc->experiment, .run_name = tc->run_name,
                          .source_name = "hamf train", .tags = tags, .ntags = 2};
    hamf_status st = hamf_run_start(&d, &s, &tc->run);
    if (st) return cli_fail("train: tracking is on but no run could be created (nothing was trained; --no-track "
                            "trains without it): %s", hamf_last_error());
    tc->where = uri ? uri : db;
    return CLI_OK;
}

int track_cli_end(struct track_cli *tc, const hamf_ensemble *m, const hamf_metrics *mt, const char *model_path,
                  const char *model_name, const char *model_version, int64_t model_id, int64_t result_id,
                  const char *data_path, const char *target, double test_size, double fit_seconds, size_t n_train,
                  size_t n_test, const hamf_dataset *test_rows)
{
    if (!tc->run) return CLI_OK;
    /* global SHAP importance on (at most TRACK_SHAP_ROWS evenly spaced) test rows */
    double *imp = NULL;
    size_t shap_rows = 0;
    if (test_rows && hamf_dataset_nrows(test_rows) > 0) {
        size_t cap = hamf_ensemble_algorithm(m) == HAMF_ALGO_RANDOM_FOREST ? TRACK_SHAP_ROWS_RF : TRACK_SHAP_ROWS;
        size_t n = hamf_dataset_nrows(test_rows), k = n < cap ? n : cap;
        size_t *idx = malloc(k * sizeof *idx);
        hamf_dataset *sub = NULL;
        imp = malloc((hamf_ensemble_nfeatures(m) + 1) * sizeof *imp);
        if (!idx || !imp) { free(idx); free(imp); return cli_fail("train: out of memory"); }
        for (size_t i = 0; i < k; i++) idx[i] = (size_t)((double)i * (double)n / (double)k);
        hamf_status st0 = hamf_dataset_subset(test_rows, idx, k, &sub);
        if (!st0) st0 = hamf_ensemble_shap_importance(m, sub, 0, imp);
        hamf_dataset_free(sub);
        free(idx);
        if (st0) { free(imp); return cli_fail_status(st0); }
        shap_rows = k;
    }
    char ts[32], name[256];
    snprintf(ts, sizeof ts, "%g", test_size);
    hamf_kv params[3] = {{"target", target}, {"data", data_path}, {"test_size", ts}};
    size_t np = test_size > 0 ? 3 : 2; /* a --test file: no split fraction */
    hamf_run_metric extra[4] = {{"fit_seconds", fit_seconds, 0},
                                {"n_train", (double)n_train, 0},
                                {"n_test", (double)n_test, 0},
                                {"oob_accuracy", hamf_ensemble_oob_accuracy(m), 0}};
    hamf_kv tags[1];
    size_t ntags = 0;
    if (!tc->run_name) {
        snprintf(name, sizeof name, "%s-%s%s%s",
                 hamf_ensemble_algorithm(m) == HAMF_ALGO_RANDOM_FOREST ? "random-forest" : "gradient-boosting",
                 model_name, model_version && *model_version ? "-" : "", model_version ? model_version : "");
        tags[ntags++] = (hamf_kv){"mlflow.runName", name};
    }
    hamf_run_training t = {.model = m, .metrics = mt, .model_path = model_path, .model_name = model_name,
                           .model_version = model_version, .model_id = model_id, .result_id = result_id,
                           .params = params, .nparams = np, .extra = extra,
                           .nextra = isnan(extra[3].value) ? 3 : 4, .tags = tags, .ntags = ntags,
                           .shap_importance = imp, .shap_rows = shap_rows};
    hamf_status st = hamf_run_finish(tc->run, &t);
    free(imp);
    if (st) return cli_fail("train: the model was saved to %s but logging its run %s failed (marked FAILED if the tracking store can still be reached): %s",
                            model_path, hamf_run_id(tc->run), hamf_last_error());
    return CLI_OK;
}

const char *track_cli_run_id(const struct track_cli *tc)
{
    return tc->run ? hamf_run_id(tc->run) : NULL;
}

void track_cli_close(struct track_cli *tc)
{
    hamf_run_close(tc->run);
    tc->run = NULL;
}
