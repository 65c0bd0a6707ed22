/*
 * run_log.h — logging one training of a hamf model as an MLflow run, and
 * recording it in the HAMF registry. Used by `hamf train`, `hamf workflow
 * run` and the closed-loop retraining (challenger runs).
 *
 * Where a run goes follows MLflow's convention: a tracking URI starting
 * with http:// or https:// logs through the REST API 2.0 (mlflow_client.h)
 * to any MLflow-compatible server (hamf server or a real MLflow); any other
 * tracking URI, or none, names a hamf store (a path, sqlite:///...,
 * postgresql://...) which is written directly through tracking.h, with the
 * artifacts written as files under an artifacts directory in the layout
 * `hamf server --artifacts-dir DIR` serves: DIR/<experiment_id>/<run_id>/
 * artifacts/... (the run's artifact_uri "mlflow-artifacts:/<exp>/<run>/
 * artifacts" with the scheme replaced by DIR). A run whose artifact_uri is
 * a local path or file:// URI (a real MLflow without proxied artifacts, on
 * this machine) gets its files written there.
 *
 * What one run holds (hamf_run_finish):
 *   params   every hyperparameter of the model (hamf_ensemble_params_json),
 *            plus the caller's extra params (test_size, target, data, ...)
 *   metrics  accuracy (percent), f1_score, precision, recall, roc_auc (when
 *            defined), log_loss, and per GB iteration `training_loss` and
 *            `validation_loss` (when a validation fraction was held out) as
 *            history with step = iteration (0-based); plus the caller's
 *            extra metrics (fit_seconds, n_train, ...)
 *   tags     mlflow.runName, mlflow.source.name, mlflow.source.type,
 *            mlflow.user, mlflow.log-model.history, hamf.model_name,
 *            hamf.model_version, hamf.algorithm, hamf.model_id,
 *            hamf.result_id (when known), plus the caller's tags
 *   artifacts model/MLmodel (YAML: flavor "hamf" with the model file name,
 *            hamf version, algorithm, target, trees; a signature listing
 *            the model's input features) and model/<model file name>
 *   status   RUNNING from start; FINISHED with end_time at finish; FAILED
 *            with end_time when finishing fails or the caller gives up.
 *
 * Lifetime: start creates the run (RUNNING) so a training that fails later
 * can still be recorded as FAILED; finish logs everything and ends it;
 * close frees the handle and, if the run was neither finished nor failed,
 * marks it FAILED (best effort, like MLflow's `with start_run()` on an
 * exception). Strings passed in are borrowed for the duration of the call.
 * A hamf_run is [owned: free with hamf_run_close] and
 * used from one thread at a time.
 */
#ifndef HAMF_TRACK_RUN_LOG_H
#define HAMF_TRACK_RUN_LOG_H

#include "hamf.h"
#include "util/util.h"

/* The run types and hamf_run_start / _finish / _fail / _close are public
 * (hamf.h, "Tracking, runs, ..."); this header adds what only libhamf uses. */

/* True when `d` logs over REST. */
bool hamf__track_is_remote(const hamf_run_dest *d);

/* start + finish + close in one call. run_id (may be NULL) gets the 32-hex
 * id and NUL on success. */
hamf_status hamf__track_log_training(const hamf_run_dest *d, const hamf_run_options *s,
                                     const hamf_run_training *t, char run_id[33]);

/* ---- the HAMF registry side ---- */

struct hamf__track_register {
    const char *model_name;    /* NULL = "PhishingDetectionModel" */
    const char *model_version; /* NULL = next free v1, v2, ... */
    const char *algorithm;     /* models_master.algorithm; NULL = from the model
                                  ("GradientBoosting" / "RandomForest") */
    const hamf_ensemble *model;
    const hamf_metrics *metrics;
    const char *run_id;        /* training_results.run_id; NULL = none */
    const char *status;        /* training_status; NULL = "completed" */
};

struct hamf__track_registered {
    int64_t model_id, result_id;
    char model_version[64];
};

/* In store `s` (the command's one handle): insert the model (models_master, version
 * auto-numbered unless given), its features (features_master, added when
 * new; categorical/numerical from the model) mapped in features_models_map
 * with the held-out accuracy, and one training_results row linked to
 * run_id. */
hamf_status hamf__track_register_model(hamf_store *s, const struct hamf__track_register *r,
                                       struct hamf__track_registered *out);
/* The whole registration of one training in one transaction: the rows
 * above, then the next model registry version of the name (store/loop.h,
 * with the training rows' bin counts for drift; the first version becomes
 * champion). *registry_version gets that version. `s` must have the loop
 * tables (hamf__loop_open). */
hamf_status hamf__track_register_training(hamf_store *s, const struct hamf__track_register *r, const char *artifact,
                                          const hamf_dataset *train, struct hamf__track_registered *out,
                                          int64_t *registry_version);

#endif
