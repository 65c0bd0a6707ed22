/*
 * tracking.h — the experiment-tracking store: experiments, runs, params,
 * metrics (full history plus the latest value per key), tags, dataset
 * inputs, lifecycle stages. Written once on db.h, so it runs on SQLite and
 * PostgreSQL. Reads hand rows to a sink (struct hamf__trk_sink); the store
 * writes no JSON. server/mlflow_json.c renders the rows as MLflow REST JSON
 * (the one serializer: the server sends it, the CLI reads it back).
 *
 * A struct hamf__trk is one database connection with its prepared
 * statements [owned: free with hamf__trk_close]; it is not shared between
 * threads (the server opens one per worker thread). Writes in one process
 * are serialized by a process-wide lock, so SQLite connections never wait
 * on each other's write locks.
 *
 * Status mapping used by the server: HAMF_ERR_NOTFOUND -> 404
 * RESOURCE_DOES_NOT_EXIST, HAMF_ERR_EXISTS -> 400 RESOURCE_ALREADY_EXISTS,
 * HAMF_ERR_CONSTRAINT / HAMF_ERR_PARSE -> 400 INVALID_PARAMETER_VALUE.
 */
#ifndef HAMF_STORE_TRACKING_H
#define HAMF_STORE_TRACKING_H

#include "util/util.h"

struct hamf__trk;

/* Limits, as MLflow 2.12. */
#define HAMF__TRK_MAX_KEY 250
#define HAMF__TRK_MAX_PARAM_VALUE 6000
#define HAMF__TRK_MAX_TAG_VALUE 5000
#define HAMF__TRK_MAX_BATCH_METRICS 1000
#define HAMF__TRK_MAX_BATCH_PARAMS 100
#define HAMF__TRK_MAX_BATCH_TAGS 100
#define HAMF__TRK_MAX_BATCH_TOTAL 1000
#define HAMF__TRK_MAX_RESULTS 50000
#define HAMF__TRK_DEFAULT_RESULTS 1000

/* Open the store at `url` (path, sqlite:///..., postgresql://...), create
 * or migrate the tracking tables and the Default experiment "0". */
hamf_status hamf__trk_open(const char *url, struct hamf__trk **out);
void hamf__trk_close(struct hamf__trk *t);
/* Tracking on the connection of an open registry store (one handle per
 * command): writes join a transaction the caller opened on it, else each
 * is its own. The store must outlive t; closing t leaves it open. */
hamf_status hamf__trk_open_store(hamf_store *s, struct hamf__trk **out);

struct hamf__trk_options {
    /* SQLite only: synchronous=NORMAL on the tracking connections. In WAL
     * mode a commit is then durable against a crash or kill -9 of the
     * process (it is in the WAL file), but the last commits can be lost if
     * the machine itself loses power, because the WAL is fsynced at
     * checkpoints rather than at every commit. Default (false): the store's
     * synchronous=FULL, an fsync per commit (group commit shares it between
     * concurrent writers). */
    bool sync_normal;
    /* Per connection: experiments created without an artifact_location
     * (and the Default experiment of a new store) get
     * "<artifact_root>/<id>" (e.g. a file:// URI the clients write to
     * directly, as MLflow's --default-artifact-root). NULL or "" =
     * "mlflow-artifacts:/<id>" (proxied through the server). */
    const char *artifact_root;
};
/* The options apply to the first connection opened for `url` in the
 * process (connections to one URL share a writer). */
hamf_status hamf__trk_open_opts(const char *url, const struct hamf__trk_options *opts, struct hamf__trk **out);

struct hamf__trk_kv {
    const char *key;
    const char *value;
};

struct hamf__trk_metric {
    const char *key;
    double value;
    int64_t timestamp;
    int64_t step;
};

struct hamf__trk_input {
    const char *name, *digest, *source_type, *source, *schema, *profile; /* NULL = absent */
    const struct hamf__trk_kv *tags;
    size_t ntags;
};

/* ---- reading: rows to a sink ---- */

struct hamf__trk_exp_row {
    int64_t id;
    const char *name, *artifact_location, *lifecycle_stage;
    int64_t creation_time, last_update_time;
};
struct hamf__trk_run_row {
    const char *run_id, *name; /* name "" = none */
    int64_t experiment_id;
    const char *user_id;       /* "" = none */
    const char *status;
    int64_t start_time;
    bool has_end_time;
    int64_t end_time;
    const char *artifact_uri, *lifecycle_stage;
};
struct hamf__trk_metric_row {
    const char *key;
    double value;
    bool is_nan;
    int64_t timestamp, step;
};
struct hamf__trk_input_row {
    const char *name, *digest;
    const char *opt[4];    /* source_type, source, schema, profile; NULL = absent */
    const char *tags_json; /* a JSON array of {key,value}, "[]" when none */
};
enum hamf__trk_part { HAMF__TRK_INFO, HAMF__TRK_METRICS, HAMF__TRK_PARAMS, HAMF__TRK_TAGS, HAMF__TRK_INPUTS,
                      HAMF__TRK_NPARTS };
/* One row of a run's part: the member for `part` is set (kv for params
 * and tags). Strings are valid during the call. */
struct hamf__trk_row {
    const struct hamf__trk_run_row *info;
    const struct hamf__trk_metric_row *metric;
    const struct hamf__trk_kv *kv;
    const struct hamf__trk_input_row *input;
};
struct hamf__trk_sink {
    void *ctx;
    /* An experiment: exp, then exp_tag for each tag (by key), then exp_end. */
    hamf_status (*exp)(void *ctx, const struct hamf__trk_exp_row *e);
    hamf_status (*exp_tag)(void *ctx, const char *key, const char *value);
    hamf_status (*exp_end)(void *ctx);
    /* Runs, in chunks: runs_begin(first, n); run_row for rows of runs
     * first..first+n-1 (i is the run's place in the request), each part's
     * rows sorted by key; runs_ready(first, n) once every run of the chunk
     * is complete (each had its info row). */
    hamf_status (*runs_begin)(void *ctx, size_t first, size_t n);
    hamf_status (*run_row)(void *ctx, size_t i, enum hamf__trk_part part, const struct hamf__trk_row *r);
    hamf_status (*runs_ready)(void *ctx, size_t first, size_t n);
    /* A metric of a history, in (step, timestamp, value) order. */
    hamf_status (*metric)(void *ctx, const struct hamf__trk_metric_row *m);
};

/* ---- experiments ---- */

/* artifact_location NULL or "" = "mlflow-artifacts:/<id>". *out_id gets
 * the new id [owned: free with hamf__free]. */
hamf_status hamf__trk_exp_create(struct hamf__trk *t, const char *name, const char *artifact_location,
                                 const struct hamf__trk_kv *tags, size_t ntags, char **out_id);
/* The experiment (exp, exp_tag..., exp_end). */
hamf_status hamf__trk_exp_get(struct hamf__trk *t, const char *exp_id, const struct hamf__trk_sink *k);
/* The active experiment of that name if any, else a deleted one. */
hamf_status hamf__trk_exp_get_by_name(struct hamf__trk *t, const char *name, const struct hamf__trk_sink *k);
/* Id of the experiment named `name` [owned: hamf__free]. */
hamf_status hamf__trk_exp_id_by_name(struct hamf__trk *t, const char *name, char **out_id);
hamf_status hamf__trk_exp_rename(struct hamf__trk *t, const char *exp_id, const char *new_name);
hamf_status hamf__trk_exp_set_deleted(struct hamf__trk *t, const char *exp_id, bool deleted);
hamf_status hamf__trk_exp_set_tag(struct hamf__trk *t, const char *exp_id, const char *key, const char *value);

struct hamf__trk_search {
    const char *filter;          /* NULL = none */
    const char *const *order_by; /* n_order items */
    size_t n_order;
    int view;                    /* HAMF__VIEW_* of search.h */
    int64_t max_results;
    const char *page_token;      /* NULL or "" = first page */
    const char *const *exp_ids;  /* runs only */
    size_t nexp;
};

/* A page of experiments to the sink; *next_offset is the next page's
 * offset, or -1 when this is the last page. */
hamf_status hamf__trk_exp_search(struct hamf__trk *t, const struct hamf__trk_search *q, const struct hamf__trk_sink *k,
                                 int64_t *next_offset);

/* ---- runs ---- */

struct hamf__trk_run_new {
    const char *exp_id;   /* NULL = "0" */
    const char *user_id;  /* NULL = "" */
    const char *run_name; /* NULL = from tag mlflow.runName, else generated */
    int64_t start_time;   /* 0 when absent */
    const struct hamf__trk_kv *tags;
    size_t ntags;
};

/* Create a run (RUNNING); run_id gets its id. */
hamf_status hamf__trk_run_create(struct hamf__trk *t, const struct hamf__trk_run_new *r, char run_id[33]);
/* The Run (all parts) to the sink, as one chunk of one run. */
hamf_status hamf__trk_run_get(struct hamf__trk *t, const char *run_id, const struct hamf__trk_sink *k);
/* Only the run's info row: run_row(0, HAMF__TRK_INFO, ...). */
hamf_status hamf__trk_run_info(struct hamf__trk *t, const char *run_id, const struct hamf__trk_sink *k);
/* status / run_name NULL = unchanged, has_end_time false = unchanged. */
hamf_status hamf__trk_run_update(struct hamf__trk *t, const char *run_id, const char *status, bool has_end_time,
                                 int64_t end_time, const char *run_name);
hamf_status hamf__trk_run_set_deleted(struct hamf__trk *t, const char *run_id, bool deleted);
/* All-or-nothing: metrics appended, params write-once, tags overwrite (the
 * last value of a key in one batch wins). */
hamf_status hamf__trk_log_batch(struct hamf__trk *t, const char *run_id, const struct hamf__trk_metric *m,
                                size_t nm, const struct hamf__trk_kv *p, size_t np, const struct hamf__trk_kv *tags,
                                size_t ntags);
hamf_status hamf__trk_delete_tag(struct hamf__trk *t, const char *run_id, const char *key);
hamf_status hamf__trk_log_inputs(struct hamf__trk *t, const char *run_id, const struct hamf__trk_input *in,
                                 size_t n);
/* A page of runs to the sink; *next_offset as for experiments. */
hamf_status hamf__trk_run_search(struct hamf__trk *t, const struct hamf__trk_search *q, const struct hamf__trk_sink *k,
                                 int64_t *next_offset);
/* The metric's history to the sink. max_results <= 0 = all. An unknown run
 * gives nothing, as MLflow. */
hamf_status hamf__trk_metric_history(struct hamf__trk *t, const char *run_id, const char *key, int64_t max_results,
                                     const char *page_token, const struct hamf__trk_sink *k, int64_t *next_offset);
/* The run's artifact_uri [owned: hamf__free]. */
hamf_status hamf__trk_run_artifact_uri(struct hamf__trk *t, const char *run_id, char **uri);

/* Page tokens: base64 of {"offset": N}, as MLflow. */
hamf_status hamf__trk_token_decode(const char *token, int64_t *offset);
hamf_status hamf__trk_token_encode(int64_t offset, struct hamf__buf *out);

#endif
