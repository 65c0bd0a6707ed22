/*
 * loop.h — the closed-loop maintenance layer (issue 8), shared by the CLI
 * (model versions/promote/rollback, drift, retrain), the server (alert
 * webhook, retrain jobs, worker) and the exporter:
 *
 *  - store/loop.h: the "loop" store component (versions, aliases, drift
 *    reports, retrain decisions and jobs; all the SQL).
 *  - register.c: hamf__loop_register_training.
 *  - ml/drift.h: training bin counts and PSI against the model's bins.
 *  - retrain.c: champion/challenger retraining and the promotion decision
 *    (public: hamf_retrain).
 *
 * Names are internal (hamf__loop_*); the server and app/ include this header,
 * the CLI uses the public wrappers (hamf.h, loop_api.c).
 */
#ifndef HAMF_TRACK_LOOP_H
#define HAMF_TRACK_LOOP_H

#include "hamf.h"
#include "ml/drift.h"
#include "store/loop.h"
#include "util/util.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- loading versions (model_ref.c) ---- */
/* Load a version's model file, verifying its digest first when it has one. */
hamf_status hamf__loop_version_load(const struct hamf__loop_version *v, hamf_ensemble **out);
/* Resolve a model reference (see hamf_model_load): a registered version
 * into *v, or a plain file into *file [owned: hamf__free]. */
hamf_status hamf__model_ref_resolve(const char *ref, const char *db_url, struct hamf__loop_version *v, char **file);
/* Open the registry store for reference `ref` (never creates a SQLite
 * file; the error names ref and the store). `hamf serve` keeps one open to
 * poll an alias with hamf__model_ref_resolve_store, without a new
 * connection and schema check per poll. */
hamf_status hamf__model_ref_open(const char *ref, const char *db_url, hamf_store **out);

/* ---- registering a training ---- */
/* After a training was registered in models_master (`model_id`): in store
 * `s` (joining an open transaction) add the next version of `name` with the bin counts of
 * the training rows `train` (for drift); artifact = the saved model file,
 * run_id may be NULL. Used by `hamf train --db` and `hamf workflow run`. */
hamf_status hamf__loop_register_training(hamf_store *s, const char *name, int64_t model_id, const char *artifact,
                                         const char *run_id, const hamf_ensemble *m, const hamf_dataset *train,
                                         int64_t *version);
/* ---- retrain (retrain.c): hamf_retrain and its types are public (hamf.h) ---- */
/* JSON object of a result (appended). */
hamf_status hamf__retrain_result_json(const hamf_retrain_result *r, struct hamf__buf *out);

/* The model reference resolver of hamf_model_load on an open store (one
 * opened with hamf_registry_open). */
hamf_status hamf__model_ref_resolve_store(hamf_store *s, const char *ref, struct hamf__loop_version *v, char **file);

#endif
