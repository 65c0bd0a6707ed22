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
    int retry_after;          /* > 0: a Retry-After header (seconds) */
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
 * HTTP basic credentials (scheme matched case-insensitively), NULL when the
 * request has none; client is the peer address as text. Returns 0 to
 * serve, 401 (answered with `WWW-Authenticate: Basic realm="hamf"`) or 429
 * (answered with `Retry-After: *retry_after`); bodies from the error hook. */
typedef int (*hamf__http_auth_fn)(void *auth_ctx, const char *path, const char *user, const char *pass,
                                  const char *client, int *retry_after);

/* Connection limits and deadlines; a zero field takes the default shown.
 * libmicrohttpd resets its idle timeout on every byte received, so the
 * header and body deadlines are kept here: a watchdog thread shuts down a
 * connection whose request head has not fully arrived header_timeout
 * seconds after its request line (or its accept), or whose body has not
 * fully arrived body_timeout seconds after its head. A kept-alive
 * connection must start its next request within idle_timeout seconds of
 * the previous answer, however slowly it dribbles bytes. */
struct hamf__http_limits {
    unsigned max_connections;  /* 1024; past it new connections wait in the backlog */
    unsigned max_per_ip;       /* 256; past it a new connection from that address is closed */
    unsigned header_timeout;   /* seconds, 10 */
    unsigned body_timeout;     /* seconds, 300 */
    unsigned idle_timeout;     /* seconds, 60 */
    size_t max_uri;            /* bytes of the request target, half of max_header (>= 8 KiB); past it 414 */
    size_t max_head;           /* what the request head costs the per-connection memory: its bytes plus
                                * 64 per header line (and cookie), half of max_header (>= 8 KiB);
                                * past it 431 */
    size_t max_args;           /* query arguments, 1024; past it 414 */
    unsigned timeout_unit_ms;  /* the unit of the three timeouts: 1000 (seconds); the HTTP fuzzer uses 10 */
};

/* Called when no route matches the path (404) or the method (405), and for
 * the layer's own refusals (400, 401, 413, 414, 429, 431, 503). */
typedef void (*hamf__http_error_fn)(int status, const char *message, struct hamf__http_resp *resp);

struct hamf__http_config {
    const char *host;     /* default 127.0.0.1 */
    int port;             /* 0 = any free port */
    int threads;          /* polling threads; <= 0 = 4 */
    size_t max_header;    /* per-connection memory (request head, libmicrohttpd's pool); 0 = 16 KiB.
                           * Heads past limits.max_uri/max_head but within it get 414/431 with
                           * a body from the error hook (written straight to the socket, then
                           * the connection is closed); heads that overflow it (bytes plus 64
                           * per header line) get libmicrohttpd's own 414/431 (HTML body),
                           * also at once: it offers no hook for those */
    struct hamf__http_limits limits;
    const struct hamf__http_route *routes;
    size_t nroutes;
    hamf__http_error_fn error; /* formats router errors (JSON for the API) */
    void *ctx;            /* passed to every handler */
    hamf__http_auth_fn auth; /* NULL: every request is served */
    void *auth_ctx;
    bool no_listen;       /* fuzzing: no socket and no threads; connections come from
                           * hamf__http_add_connection and are served (deadlines included)
                           * by hamf__http_run in the caller's thread */
};

struct hamf__http_server;

hamf_status hamf__http_start(const struct hamf__http_config *cfg, struct hamf__http_server **out);
int hamf__http_port(const struct hamf__http_server *s);
/* Connections shut down so far for missing a header, body or idle deadline. */
long hamf__http_deadline_kills(const struct hamf__http_server *s);
/* Stop accepting, wait up to grace_seconds for requests in flight to be
 * answered, then close every connection and free the server. */
void hamf__http_stop(struct hamf__http_server *s, double grace_seconds);

/* Serve an already connected socket (from socketpair(2) say) as if a
 * client at 127.0.0.1 had connected; the server owns fd from here on. */
hamf_status hamf__http_add_connection(struct hamf__http_server *s, int fd);
/* A no_listen server: handle whatever its connections have ready, waiting
 * up to wait_ms (0: not at all) for something to happen, then shut down the
 * connections past their deadlines. */
hamf_status hamf__http_run(struct hamf__http_server *s, int wait_ms);

/* First value of query parameter `key`, or NULL. */
const char *hamf__http_query(const struct hamf__http_req *req, const char *key);

/* Decode %XX escapes (and '+' as space when plus_space) of s[0..n) into a
 * new string [owned: hamf__free]; NULL on a bad escape or a NUL byte. */
char *hamf__http_unescape(const char *s, size_t n, bool plus_space);

#endif
