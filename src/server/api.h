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
};

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
};

/* Open the store (creating tables), the artifact root, and start serving. */
hamf_status hamf__server_start(const struct hamf__server_config *cfg, struct hamf__server **out);
int hamf__server_port(const struct hamf__server *s);
/* Finish requests in flight (up to grace_seconds), then close everything. */
void hamf__server_stop(struct hamf__server *s, double grace_seconds);

#endif
