/*
 * store/loop.h — the "loop" store component (src/store/loop.c): the tables
 * of the closed loop on both backends, with their own migrations
 * (hamf__loop_open brings them up to date):
 *
 *  - model_versions (a named model's versions, each linked to its
 *    models_master row, run and artifact file, with the training bin counts
 *    used for drift), model_aliases (champion / challenger) and
 *    model_promotions,
 *  - drift_reports and drift_features,
 *  - retrain_decisions and retrain_jobs.
 *
 * Every change is audited in audit_log in the same transaction. Writes join
 * a transaction the caller already opened on the store's connection
 * (hamf__db_tx_begin), so several steps can commit together.
 */
#ifndef HAMF_STORE_LOOP_H
#define HAMF_STORE_LOOP_H

#include "hamf.h"
#include "util/util.h"

#include <stdbool.h>
#include <stdint.h>

/* Open the store and bring the "loop" component's tables up to date. */
hamf_status hamf__loop_open(const char *url, hamf_store **out);

/* ---- versions and aliases ---- */
struct hamf__loop_version {
    char model_name[128];
    int64_t version;        /* 1, 2, ... per name */
    int64_t model_id;       /* models_master row */
    char run_id[64];        /* "" when none */
    char artifact[1024];    /* the model file to load: the registry's own read-only copy
                               (content-addressed, see store/model_registry.h), or for
                               versions from before that copy existed, the user's file */
    char digest[72];        /* SHA-256 of the copy ("" for old versions); loads verify it */
    char user_file[1024];   /* the file training wrote (-o), for display only */
    char created_at[32];
    char source[32];        /* "train", "retrain" */
    bool champion, challenger;
};

/* Add the next version of `name` (linked to models_master `model_id`, the
 * artifact path made absolute, `run_id` may be NULL, `train_bins_json` the
 * training bin counts from hamf__drift_train_bins or NULL). The first
 * version of a name becomes champion. */
hamf_status hamf__loop_version_add(hamf_store *s, const char *name, int64_t model_id, const char *artifact,
                                   const char *run_id, const char *train_bins_json, const char *source,
                                   int64_t *version);
/* Every alias pointing at (name, version), comma-separated, into out. */
hamf_status hamf__loop_version_aliases(hamf_store *s, const char *name, int64_t version, char *out, size_t cap);
/* All versions of `name`, oldest first [owned: hamf__free]. */
hamf_status hamf__loop_versions(hamf_store *s, const char *name, struct hamf__loop_version **out, size_t *n);
/* Version `version` of `name` (0 = the champion). */
hamf_status hamf__loop_version_get(hamf_store *s, const char *name, int64_t version,
                                   struct hamf__loop_version *out);
/* Training bin counts JSON of a version [owned: hamf__free]; NOTFOUND when none. */
hamf_status hamf__loop_version_bins(hamf_store *s, const char *name, int64_t version, char **out);
/* Make `version` the champion (audited, `reason` recorded). */
hamf_status hamf__loop_promote(hamf_store *s, const char *name, int64_t version, const char *reason);
/* Set the challenger alias. */
hamf_status hamf__loop_set_challenger(hamf_store *s, const char *name, int64_t version);
/* Champion back to the one before the current (from the promotion history);
 * *version gets it. */
hamf_status hamf__loop_rollback(hamf_store *s, const char *name, int64_t *version);
/* Append the versions as a JSON array to out. */
hamf_status hamf__loop_versions_json(hamf_store *s, const char *name, struct hamf__buf *out);

/* ---- drift reports ---- */
struct hamf__drift_feature {
    char *name;
    bool is_cat;
    double psi;
};
struct hamf__drift_report {
    char model_name[128];
    int64_t version;
    size_t n_rows;
    bool has_labels;
    hamf_metrics metrics;   /* when has_labels */
    size_t nf;
    struct hamf__drift_feature *f;
};
void hamf__drift_report_free(struct hamf__drift_report *r);
hamf_status hamf__loop_drift_record(hamf_store *s, const struct hamf__drift_report *r, const char *data_path);
/* The latest drift report of every model: fn(ctx, model, NULL, accuracy)
 * once a model when the report had labels, then fn(ctx, model, feature,
 * psi) a feature; a non-OK return from fn stops the walk. */
typedef hamf_status (*hamf__loop_drift_fn)(void *ctx, const char *model, const char *feature, double value);
hamf_status hamf__loop_drift_latest(hamf_store *s, hamf__loop_drift_fn fn, void *ctx);

/* Record a champion/challenger decision (retrain_decisions + audit_log). */
hamf_status hamf__loop_decision_record(hamf_store *s, const char *name, int64_t champion, int64_t challenger,
                                       bool promoted, const char *reason, const char *details_json);

/* ---- retrain jobs ---- */
/* Enqueue unless a job with `dedup_key` exists, or a job for that model is
 * queued/running, or one finished less than cooldown_s ago. *created is
 * true when a job was made (*job_id then its id, else the existing one or 0). */
hamf_status hamf__loop_job_enqueue(hamf_store *s, const char *model, const char *dedup_key,
                                   const char *alertname, double cooldown_s, bool *created, int64_t *job_id,
                                   char *why, size_t why_cap);
/* Claim the oldest queued job (state -> running); *found false when none. */
hamf_status hamf__loop_job_claim(hamf_store *s, int64_t *job_id, char *model, size_t model_cap, bool *found);
hamf_status hamf__loop_job_finish(hamf_store *s, int64_t job_id, bool ok, const char *result_json);
/* Jobs found 'running' at start (the server died mid-run) are marked
 * failed ("interrupted"), never run a second time. */
hamf_status hamf__loop_job_requeue_running(hamf_store *s);
hamf_status hamf__loop_jobs_json(hamf_store *s, struct hamf__buf *out);

#endif
