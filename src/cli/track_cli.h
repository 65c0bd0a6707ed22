/*
 * track_cli.h — the tracking flags of `hamf train` (--tracking-uri,
 * --experiment, --run-name, --artifacts-dir, --no-track) and the calls that
 * log the training as an MLflow run through hamf.h's hamf_run_*, so
 * cmd_train.c only forwards its options and calls begin/end.
 *
 * When tracking is on: --no-track turns it off; else a tracking URI
 * (--tracking-uri, else $MLFLOW_TRACKING_URI) turns it on (http(s):// =
 * REST, anything else = that store); else a registry store (--db, else
 * $HAMF_DB) turns it on, logging into that store; else it is off.
 */
#ifndef HAMF_CLI_TRACK_CLI_H
#define HAMF_CLI_TRACK_CLI_H

#include "cli.h"

#include <stdint.h>

enum { TRACK_OPT_URI = 1000, TRACK_OPT_EXPERIMENT, TRACK_OPT_RUN_NAME, TRACK_OPT_ARTIFACTS, TRACK_OPT_NO_TRACK };

#define TRACK_CLI_LONGOPTS                                                                                   \
    {"tracking-uri", 1, 0, TRACK_OPT_URI}, {"experiment", 1, 0, TRACK_OPT_EXPERIMENT},                     \
        {"run-name", 1, 0, TRACK_OPT_RUN_NAME}, {"artifacts-dir", 1, 0, TRACK_OPT_ARTIFACTS},               \
        {"no-track", 0, 0, TRACK_OPT_NO_TRACK}

#define TRACK_CLI_CASES \
    case TRACK_OPT_URI: case TRACK_OPT_EXPERIMENT: case TRACK_OPT_RUN_NAME: case TRACK_OPT_ARTIFACTS: case TRACK_OPT_NO_TRACK

struct track_cli {
    const char *uri, *experiment, *run_name, *artifacts_dir;
    bool off;
    const char *where; /* resolved destination (NULL = off) */
    hamf_run *run;
};

/* Record one of the TRACK_OPT_* options. */
void track_cli_option(struct track_cli *tc, int opt, const char *arg);
/* The option lines for --help. */
void track_cli_help(FILE *out);
/* Decide whether to track (db = the registry store or NULL; store = it
 * open, the command's one handle, used for local logging) and, if so,
 * create the RUNNING run. Prints the error and returns CLI_FAIL when the
 * destination cannot be reached. */
int track_cli_begin(struct track_cli *tc, const char *db, hamf_store *store, const char *algorithm,
                    const char *model_name);
/* Log the training and finish the run (no-op when off); with test_rows,
 * also the global SHAP importance (shap_importance.json and .svg). Fills run_id
 * (33 bytes) on success. Prints the error and returns CLI_FAIL. */
int track_cli_end(struct track_cli *tc, const hamf_ensemble *m, const hamf_metrics *mt, const char *model_path,
                  const char *model_name, const char *model_version, int64_t model_id, int64_t result_id,
                  const char *data_path, const char *target, double test_size, double fit_seconds, size_t n_train,
                  size_t n_test, const hamf_dataset *test_rows);
/* Rows of the test set the logged SHAP importance is computed on (evenly
 * spaced when there are more): random forests' deep trees cost more. */
#define TRACK_SHAP_ROWS 1000
#define TRACK_SHAP_ROWS_RF 200
/* Run id of the started run, or NULL when off. */
const char *track_cli_run_id(const struct track_cli *tc);
/* Mark an unfinished run FAILED and free it (safe to call twice). */
void track_cli_close(struct track_cli *tc);

#endif
