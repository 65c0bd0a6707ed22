/*
 * api.h — what the server's handler files share: the MLflow error JSON
 * writer, the mapping from hamf_status to MLflow error codes, and the
 * artifact store under --artifacts-dir (artifacts.c) with its routes.
 */
#ifndef HAMF_SERVER_API_H
#define HAMF_SERVER_API_H

#include "server/http.h"

/* Fill resp with {"error_code": code, "message": ...} and the status. */
void hamf__api_error(struct hamf__http_resp *resp, int http_status, const char *code, const char *fmt, ...)
    HAMF_PRINTF(4, 5);
/* From a failed hamf_status and hamf_last_error(): NOTFOUND 404
 * RESOURCE_DOES_NOT_EXIST, EXISTS 400 RESOURCE_ALREADY_EXISTS, PARSE /
 * CONSTRAINT / MISUSE / SCHEMA 400 INVALID_PARAMETER_VALUE, BUSY 503
 * TEMPORARILY_UNAVAILABLE, anything else 500 INTERNAL_ERROR. */
void hamf__api_status_error(struct hamf__http_resp *resp, hamf_status st);

/* MLflow's wording for bad request parameters (mlflow_errors.c), 400
 * INVALID_PARAMETER_VALUE: "Invalid value <python str() of v> for parameter
 * '<name>' supplied. Hint: Value was of type '<python type>'. See the API
 * docs ...", the same for a query-string value (type 'str'), and "Missing
 * value for required parameter '<name>'. See the API docs ...". */
void hamf__api_bad_value(struct hamf__http_resp *resp, const char *name, const struct hamf__jval *v);
void hamf__api_bad_query_value(struct hamf__http_resp *resp, const char *name, const char *value);
void hamf__api_missing(struct hamf__http_resp *resp, const char *name);
/* Append Python's str() of a parsed JSON value (cut at 512 bytes). */
hamf_status hamf__api_pyrepr(struct hamf__buf *out, const struct hamf__jval *v);

/* ---- artifacts (artifacts.c) ---- */

struct hamf__artifacts;

/* Create `dir` if needed and hold it open as the root of every path. */
hamf_status hamf__artifacts_open(const char *dir, struct hamf__artifacts **out);
void hamf__artifacts_close(struct hamf__artifacts *a);
const char *hamf__artifacts_root(const struct hamf__artifacts *a);

/* Append `"files":[FileInfo...]` (or nothing when empty or missing) for
 * the directory `rel` under the root. Each FileInfo path is `prefix` +
 * name (prefix "" gives basenames). Paths with "..", absolute paths and
 * symlinks are refused with HAMF_ERR_CONSTRAINT. */
hamf_status hamf__artifacts_list(struct hamf__artifacts *a, const char *rel, const char *prefix,
                                 struct hamf__buf *out);

/* Refuse uploads of files larger than max_bytes (0 = no limit): 413, and
 * the partial upload is removed. */
void hamf__artifacts_set_max_bytes(struct hamf__artifacts *a, uint64_t max_bytes);
uint64_t hamf__artifacts_max_bytes(const struct hamf__artifacts *a);
/* MIME type for a file name, MLflow's rule (text-like names text/plain,
 * else by extension, else application/octet-stream). */
const char *hamf__artifacts_mime(const char *name);
/* Answer with the file `rel` under the root: its MIME type, as an
 * attachment; 404 / 400 with MLflow's error JSON otherwise. */
void hamf__artifacts_send(struct hamf__artifacts *a, const char *rel, struct hamf__http_resp *resp);
/* Write the file `rel` atomically (parents created; size limit applies). */
hamf_status hamf__artifacts_write(struct hamf__artifacts *a, const char *rel, const char *data, size_t n);

/* The proxied-artifact routes (PUT/GET/DELETE under
 * /api/2.0/mlflow-artifacts/artifacts/ and the list at .../artifacts).
 * ctx of their handlers is the server's struct hamf__server_ctx. */
extern const struct hamf__http_stream hamf__artifacts_upload;
void hamf__artifacts_get(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__artifacts_delete_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__artifacts_list_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);

/* ---- the server (mlflow_api.c) ---- */

struct hamf__server_ctx {
    const char *db_url;
    bool sync_full;
    struct hamf__artifacts *artifacts;
    /* --default-artifact-root: NULL = experiments proxy their artifacts
     * (mlflow-artifacts:/); else the root URI new experiments get, and
     * when it is local, that directory held open (read-only serving) */
    const char *artifact_root;
    struct hamf__artifacts *local_root;
};

/* The tracking-store connection of the calling worker thread (opened on
 * first use); NULL with resp filled (503) when it cannot be opened. */
struct hamf__trk *hamf__api_trk(void *ctx, struct hamf__http_resp *resp);

/* Where the artifacts at `uri` (a run's artifact_uri, or a model version's
 * source) live on this server: mlflow-artifacts:/REL under --artifacts-dir,
 * or a local path / file:// URI under --default-artifact-root or
 * --artifacts-dir. *rel is the path below that root [owned: hamf__free].
 * Other locations (remote stores, local paths elsewhere) are
 * HAMF_ERR_CONSTRAINT: the server does not serve them. */
hamf_status hamf__artifacts_resolve(const struct hamf__server_ctx *c, const char *uri, struct hamf__artifacts **a,
                                    char **rel);

/* The artifact location (source URI) of version `version` of registered
 * model `name` [owned: hamf__free] (registry_lookup.c); NOTFOUND when there
 * is no such version. */
hamf_status hamf__api_model_version_source(void *ctx, const char *name, const char *version, char **source);

/* Routes of mlflow_ui_api.c (the UI's /ajax-api/... extras, /get-artifact,
 * /model-versions/get-artifact). */
extern const struct hamf__http_route hamf__ui_api_routes[];
extern const size_t hamf__ui_api_nroutes;

/* MLflow's validate_path_is_safe for a request's artifact path: after
 * percent-decoding, no '#', backslash, ".." component, or absolute path. */
bool hamf__api_path_is_safe(const char *path);

struct hamf__server;

struct hamf__server_config {
    const char *host;
    int port;
    int threads;
    const char *db_url;
    const char *artifacts_dir;
    bool sync_full; /* SQLite: fsync every commit (default: WAL synchronous=NORMAL, see tracking.h) */
    struct hamf__auth *auth; /* NULL = open; else basic auth on every request (auth.h) [borrowed] */
    struct hamf__http_limits limits; /* connections and deadlines (http.h); zeros = defaults */
    const char *default_artifact_root; /* NULL = proxied (mlflow-artifacts:/); see hamf__server_ctx */
    uint64_t max_artifact_bytes;       /* 0 = no limit */
};

/* Open the store (creating tables), the artifact root, and start serving. */
hamf_status hamf__server_start(const struct hamf__server_config *cfg, struct hamf__server **out);
int hamf__server_port(const struct hamf__server *s);
/* Finish requests in flight (up to grace_seconds), then close everything. */
void hamf__server_stop(struct hamf__server *s, double grace_seconds);

#endif
