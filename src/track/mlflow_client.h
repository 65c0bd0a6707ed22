/*
 * mlflow_client.h — a client for any MLflow-compatible tracking server
 * (hamf server or a real MLflow) over its REST API 2.0, on libcurl. Owns
 * the wire side: URLs, JSON request bodies, bounded timeouts (connect 2 s,
 * whole request 5 s by default), the response size cap, and the mapping of
 * MLflow error JSON to hamf_status. Shapes follow
 * shared/specs/mlflow-rest-subset.md.
 *
 * Used by the exporter (read the latest FINISHED run of experiments) and by
 * `hamf train` to log runs to a remote server (get-or-create experiment,
 * create run, log-batch, update run, upload artifacts through the proxied
 * mlflow-artifacts PUT).
 *
 * A struct hamf__mlflow is one connection (keep-alive) [owned: free with
 * hamf__mlflow_close]; use it from one thread at a time. Strings returned
 * through out-params are [owned: free with hamf__free]; parsed documents
 * are [owned: free with hamf__jdoc_free].
 *
 * Credentials: when MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD
 * are set at hamf__mlflow_open, every request carries them as HTTP basic
 * auth (as the MLflow Python client does).
 *
 * Errors: HAMF_ERR_CONNECT server unreachable, HAMF_ERR_TIMEOUT no answer
 * in time, HAMF_ERR_NOTFOUND RESOURCE_DOES_NOT_EXIST (404), HAMF_ERR_EXISTS
 * RESOURCE_ALREADY_EXISTS, HAMF_ERR_UNSUPPORTED any other 404/405/501 (the
 * server lacks the endpoint — never mistaken for "no such experiment"), HAMF_ERR_CONSTRAINT other 4xx, HAMF_ERR_IO 5xx
 * or a transfer error, HAMF_ERR_PARSE a body that is not the expected
 * JSON. Messages carry the endpoint, HTTP status and MLflow's message.
 */
#ifndef HAMF_TRACK_MLFLOW_CLIENT_H
#define HAMF_TRACK_MLFLOW_CLIENT_H

#include "util/util.h"

struct hamf__mlflow;

struct hamf__mlflow_opts {
    int64_t connect_timeout_ms; /* 0 = 2000 */
    int64_t timeout_ms;         /* whole request; 0 = 5000 */
    size_t max_response;        /* bytes; 0 = 16 MiB */
};

/* `uri`: http:// or https:// base of the server (a trailing '/' is fine).
 * Nothing is sent until the first call. opts NULL = defaults. */
hamf_status hamf__mlflow_open(const char *uri, const struct hamf__mlflow_opts *opts,
                              struct hamf__mlflow **out);
void hamf__mlflow_close(struct hamf__mlflow *m);
/* True when `uri` names a REST server (http:// or https://). */
bool hamf__mlflow_is_remote(const char *uri);

/* One API call: method "GET" or "POST", `endpoint` below /api/2.0/mlflow/
 * (with its query string for GET), `body` a JSON object for POST (NULL =
 * "{}"). On 200, *out is the parsed answer. */
hamf_status hamf__mlflow_call(struct hamf__mlflow *m, const char *method, const char *endpoint,
                              const char *body, struct hamf__jdoc **out);

/* ---- reading ---- */

struct hamf__mlflow_exp {
    char *id;
    char *name;
};
/* Every active experiment (all pages). [owned: hamf__mlflow_exps_free] */
hamf_status hamf__mlflow_exp_list(struct hamf__mlflow *m, struct hamf__mlflow_exp **out, size_t *n);
void hamf__mlflow_exps_free(struct hamf__mlflow_exp *e, size_t n);
/* The id of the experiment named `name` (HAMF_ERR_NOTFOUND if none). */
hamf_status hamf__mlflow_exp_id(struct hamf__mlflow *m, const char *name, char **id);
/* runs/search for experiment `exp_id` with `filter` (NULL = none),
 * max_results, the server's default order (newest first). *out holds the
 * answer: {"runs":[...]} or {} when nothing matches. */
hamf_status hamf__mlflow_run_search(struct hamf__mlflow *m, const char *exp_id, const char *filter,
                                    int64_t max_results, struct hamf__jdoc **out);

/* ---- writing (for `hamf train --tracking-uri`) ---- */

struct hamf__mlflow_kv {
    const char *key, *value;
};
struct hamf__mlflow_metric {
    const char *key;
    double value;
    int64_t timestamp; /* ms; 0 = now */
    int64_t step;
};

/* The id of the experiment `name`, created if absent (a concurrent create
 * by someone else is handled by reading it back). */
hamf_status hamf__mlflow_exp_get_or_create(struct hamf__mlflow *m, const char *name, char **id);
/* Create a RUNNING run; start_time 0 = now. run_id and artifact_uri may be
 * NULL when not wanted. */
hamf_status hamf__mlflow_run_create(struct hamf__mlflow *m, const char *exp_id, const char *run_name,
                                    int64_t start_time, const struct hamf__mlflow_kv *tags, size_t ntags,
                                    char **run_id, char **artifact_uri);
/* runs/log-batch; larger inputs are split into batches within MLflow's
 * limits (1000 metrics, 100 params, 100 tags per request). */
hamf_status hamf__mlflow_log_batch(struct hamf__mlflow *m, const char *run_id,
                                   const struct hamf__mlflow_metric *metrics, size_t nm,
                                   const struct hamf__mlflow_kv *params, size_t np,
                                   const struct hamf__mlflow_kv *tags, size_t nt);
/* runs/update: status ("FINISHED", "FAILED", "KILLED"), end_time 0 = now. */
hamf_status hamf__mlflow_run_update(struct hamf__mlflow *m, const char *run_id, const char *status,
                                    int64_t end_time);
/* Upload local file `path` as `rel` under the run's artifact_uri
 * ("mlflow-artifacts:/<exp>/<run>/artifacts"), through
 * PUT /api/2.0/mlflow-artifacts/artifacts/<exp>/<run>/artifacts/<rel>. */
hamf_status hamf__mlflow_artifact_put(struct hamf__mlflow *m, const char *artifact_uri, const char *rel,
                                      const char *path);

#endif
