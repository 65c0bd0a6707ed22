/*
 * loop.h — the closed-loop maintenance layer (issue 8), shared by the CLI
 * (model versions/promote/rollback, drift, retrain), the server (alert
 * webhook, retrain jobs, worker) and the exporter:
 *
 *  - store/loop.h: the "loop" store component (versions, aliases, drift
 *    reports, retrain decisions and jobs; all the SQL).
 *  - register.c: hamf__loop_register_training.
 *  - ml/drift.h: training bin counts and PSI against the model's bins.
 *  - retrain.c: champion/challenger retraining and the promotion decision.
 *
 * Names are internal (hamf__loop_*); the CLI and server include this header.
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
 * file; the error names ref and the store). */
hamf_status hamf__model_ref_open(const char *ref, const char *db_url, hamf_store **out);
/* hamf__model_ref_resolve against a store the caller keeps open (from
 * hamf__model_ref_open; db_url is still needed for runs:/ references):
 * `hamf serve` polls an alias this way, without a new connection and
 * schema check per poll. */
hamf_status hamf__model_ref_resolve_in(hamf_store *s, const char *ref, const char *db_url,
                                       struct hamf__loop_version *v, char **file);

/* ---- registering a training ---- */
/* After a training was registered in models_master (`model_id`): in store
 * `s` (joining an open transaction) add the next version of `name` with the bin counts of
 * the training rows `train` (for drift); artifact = the saved model file,
 * run_id may be NULL. Used by `hamf train --db` and `hamf workflow run`. */
hamf_status hamf__loop_register_training(hamf_store *s, const char *name, int64_t model_id, const char *artifact,
                                         const char *run_id, const hamf_ensemble *m, const hamf_dataset *train,
                                         int64_t *version);
/* ---- retrain (retrain.c) ---- */
struct hamf__retrain_opts {
    size_t window;          /* last N rows before the held-out slice; 0 = all */
    double holdout;         /* fraction of the newest rows held out (0.2) */
    double min_gain;        /* accuracy points (percent) */
    double tolerance;       /* allowed F1 loss */
    const char *out_dir;    /* where the challenger file goes; NULL = beside the champion */
    const char *trigger;    /* "cli", "alert job <id>" */
    const char *artifacts_dir; /* run artifacts root (NULL = ./mlartifacts, as hamf server) */
};
void hamf__retrain_opts_init(struct hamf__retrain_opts *o);
struct hamf__retrain_result {
    int64_t champion_version, challenger_version;
    hamf_metrics champion, challenger;
    size_t n_train, n_holdout;
    bool promoted;
    char reason[512];
    char champion_run[64], challenger_run[64];
};
/* The whole retrain; the decision is recorded (retrain_decisions, audit). */
hamf_status hamf__retrain_run(const char *url, const char *name, const char *data_path,
                              const struct hamf__retrain_opts *o, struct hamf__retrain_result *out);
/* JSON object of a result (appended). */
hamf_status hamf__retrain_result_json(const struct hamf__retrain_result *r, struct hamf__buf *out);

#endif
