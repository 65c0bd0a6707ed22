/*
 * http.h — the HTTP layer of `hamf server`, on GNU libmicrohttpd: a pool
 * of polling threads (each serving many keep-alive connections), a router
 * by method and path, bounded header and body sizes, query-string parsing,
 * and a stop that finishes the requests in flight.
 *
 * Handlers are plain functions that read a struct hamf__http_req and fill a
 * struct hamf__http_resp. Everything in a request is borrowed for the
 * duration of the handler call. Routes with a `stream` table receive the
 * body in chunks instead (artifact uploads of any size).
 */
#ifndef HAMF_SERVER_HTTP_H
#define HAMF_SERVER_HTTP_H

#include "util/util.h"

struct hamf__http_qarg {
    char *key, *value; /* decoded ('+' is a space, %XX escapes) */
};

struct hamf__http_req {
    const char *method;
    const char *path;         /* decoded path, without the query */
    const char *content_type; /* NULL if absent */
    const char *body;         /* NUL-terminated; "" when none */
    size_t body_len;
    const struct hamf__http_qarg *query;
    size_t nquery;
    const char *route_rest;   /* for prefix routes: the part after the prefix */
};

struct hamf__http_resp {
    int status;               /* 200 unless set */
    const char *content_type; /* static string; default application/json */
    struct hamf__buf body;
    int fd;                   /* >= 0: send this file (fd_size bytes) instead of body; closed by the layer */
    uint64_t fd_size;
    char *disposition;        /* Content-Disposition value [owned by resp] */
    const char *xheader_name[2]; /* extra response headers (static names), or NULL */
    char xheader_value[2][64];   /* their values (scoring: model version, request id) */
};

typedef void (*hamf__http_handler)(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);

/* A streamed body: begin() returns per-request state or NULL after filling
 * resp with an error; chunk() returns false after filling resp with an
 * error; finish() is called once the whole body is in; abort() frees the
 * state when the request ends any other way. */
struct hamf__http_stream {
    void *(*begin)(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
    bool (*chunk)(void *state, const char *data, size_t n, struct hamf__http_resp *resp);
    void (*finish)(void *state, const struct hamf__http_req *req, struct hamf__http_resp *resp);
    void (*abort)(void *state);
};

struct hamf__http_route {
    const char *method;  /* "GET" (also answers HEAD), "POST", "PUT", "DELETE" */
    const char *path;    /* exact; a trailing '*' makes it a prefix */
    size_t max_body;     /* buffered bodies past this are refused (400) */
    hamf__http_handler fn;
    const struct hamf__http_stream *stream; /* instead of fn, when set */
};

/* Decides whether a request for `path` may be served; user/pass are the
 * HTTP basic credentials, NULL when the request has none. false = 401
 * with `WWW-Authenticate: Basic realm="hamf"` (body from the error hook). */
typedef bool (*hamf__http_auth_fn)(void *auth_ctx, const char *path, const char *user, const char *pass);

/* Called when no route matches the path (404) or the method (405). */
typedef void (*hamf__http_error_fn)(int status, const char *message, struct hamf__http_resp *resp);

struct hamf__http_config {
    const char *host;     /* default 127.0.0.1 */
    int port;             /* 0 = any free port */
    int threads;          /* polling threads; <= 0 = 4 */
    size_t max_header;    /* per-connection memory for the request head; 0 = 16 KiB */
    const struct hamf__http_route *routes;
    size_t nroutes;
    hamf__http_error_fn error; /* formats router errors (JSON for the API) */
    void *ctx;            /* passed to every handler */
    hamf__http_auth_fn auth; /* NULL: every request is served */
    void *auth_ctx;
};

struct hamf__http_server;

hamf_status hamf__http_start(const struct hamf__http_config *cfg, struct hamf__http_server **out);
int hamf__http_port(const struct hamf__http_server *s);
/* Stop accepting, wait up to grace_seconds for requests in flight to be
 * answered, then close every connection and free the server. */
void hamf__http_stop(struct hamf__http_server *s, double grace_seconds);

/* First value of query parameter `key`, or NULL. */
const char *hamf__http_query(const struct hamf__http_req *req, const char *key);

/* Decode %XX escapes (and '+' as space when plus_space) of s[0..n) into a
 * new string [owned: hamf__free]; NULL on a bad escape or a NUL byte. */
char *hamf__http_unescape(const char *s, size_t n, bool plus_space);

#endif
