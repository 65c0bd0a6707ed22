/*
 * http.c — the HTTP layer of `hamf server` on libmicrohttpd (see http.h).
 *
 * One struct request per HTTP request, created on the first call of the
 * access handler and freed by the completion callback (MHD guarantees that
 * pairing only once the handler has run). MHD's own unescaping is turned
 * off, so the path and the query arguments are decoded here, each by its
 * own rule. The
 * access handler is called by MHD first with the headers, then once per
 * body chunk, then once more at the end: the route is chosen and the
 * declared Content-Length checked on the first call, the body is buffered
 * (bounded) or streamed on the next ones, and the handler runs on the last.
 * A counter of requests in flight lets hamf__http_stop finish them before
 * closing.
 */
#include "http.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct hamf__http_server {
    struct MHD_Daemon *d;
    /* the answer `200 {}` of most writes, built once and queued on every
     * connection that sends it (MHD counts its users) */
    struct MHD_Response *empty_json;
    struct hamf__http_config cfg;
    _Atomic long inflight;
    int port;
};

struct request {
    struct hamf__http_server *srv;
    bool started;
    bool refused;  /* body too big or stream failed: discard the rest */
    bool bad_uri;
    const struct hamf__http_route *route;
    int route_status; /* 0, 404 or 405 */
    struct hamf__http_req req;
    char *path;
    struct hamf__http_qarg *query;
    size_t nquery;
    struct hamf__buf body;
    void *stream_state;
    struct hamf__http_resp resp;
};

static void resp_init(struct hamf__http_resp *r)
{
    memset(r, 0, sizeof *r);
    r->status = 200;
    r->content_type = "application/json";
    r->fd = -1;
    hamf__buf_init(&r->body, 0);
}

static void resp_free(struct hamf__http_resp *r)
{
    hamf__buf_free(&r->body);
    if (r->fd >= 0) close(r->fd);
    r->fd = -1;
    hamf__free(r->disposition);
    r->disposition = NULL;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *hamf__http_unescape(const char *s, size_t n, bool plus_space)
{
    char *o = hamf__malloc(n + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int h, l;
            if (i + 2 >= n) goto bad;
            h = hexv(s[i + 1]);
            l = hexv(s[i + 2]);
            if (h < 0 || l < 0) goto bad;
            c = (char)(h * 16 + l);
            if (!c) goto bad;
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        o[k++] = c;
    }
    o[k] = '\0';
    return o;
bad:
    hamf__free(o);
    return NULL;
}

/* MHD hands over the path and the query arguments undecoded (see
 * identity_unescape); decode them here, each by its own rule. */
struct qcollect {
    struct request *r;
    size_t cap;
    bool failed;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct qcollect *qc = cls;
    struct request *r = qc->r;
    if (r->nquery == qc->cap) {
        size_t nc = qc->cap ? qc->cap * 2 : 8;
        struct hamf__http_qarg *na = nc > 1024 ? NULL : hamf__realloc(r->query, nc * sizeof *na);
        if (!na) {
            qc->failed = true;
            return MHD_NO;
        }
        r->query = na;
        qc->cap = nc;
    }
    struct hamf__http_qarg *a = &r->query[r->nquery];
    a->key = hamf__http_unescape(key, strlen(key), true);
    a->value = value ? hamf__http_unescape(value, strlen(value), true) : hamf__strdup("");
    if (!a->key || !a->value) {
        hamf__free(a->key);
        hamf__free(a->value);
        qc->failed = true;
        return MHD_NO;
    }
    r->nquery++;
    return MHD_YES;
}

static bool parse_uri(struct request *r, struct MHD_Connection *con, const char *url)
{
    r->path = hamf__http_unescape(url, strlen(url), false);
    if (!r->path) return false;
    /* leading repeated slashes count as one, as in MLflow's router:
     * //model-versions/get-artifact is /model-versions/get-artifact (inner
     * ones stay: an artifact path "//etc" must still be refused) */
    size_t lead = 0;
    while (r->path[lead] == '/' && r->path[lead + 1] == '/') lead++;
    if (lead) memmove(r->path, r->path + lead, strlen(r->path + lead) + 1);
    struct qcollect qc = {r, 0, false};
    MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, collect_arg, &qc);
    return !qc.failed;
}

/* MHD's unescape step is skipped: the path and the arguments need
 * different rules ('+' is a space only in the query). */
static size_t identity_unescape(void *cls, struct MHD_Connection *con, char *s)
{
    return strlen(s);
}

const char *hamf__http_query(const struct hamf__http_req *req, const char *key)
{
    for (size_t i = 0; i < req->nquery; i++)
        if (!strcmp(req->query[i].key, key)) return req->query[i].value;
    return NULL;
}

static void route_match(struct request *r)
{
    const struct hamf__http_config *c = &r->srv->cfg;
    bool path_seen = false;
    for (size_t i = 0; i < c->nroutes; i++) {
        const struct hamf__http_route *rt = &c->routes[i];
        size_t pl = strlen(rt->path);
        const char *rest = NULL;
        if (pl && rt->path[pl - 1] == '*') {
            if (!strncmp(r->path, rt->path, pl - 1)) rest = r->path + pl - 1;
        } else if (!strcmp(r->path, rt->path)) {
            rest = "";
        }
        if (!rest) continue;
        path_seen = true;
        if (strcmp(rt->method, r->req.method)) continue; /* HEAD was mapped to GET */
        r->route = rt;
        r->req.route_rest = rest;
        return;
    }
    r->route_status = path_seen ? 405 : 404;
}

/* Basic credentials from the Authorization header (decoded by MHD) through
 * the configured hook. */
static bool check_auth(const struct hamf__http_config *c, struct MHD_Connection *con, const char *path)
{
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(con, &pass);
    bool ok = c->auth(c->auth_ctx, path, user, user ? pass : NULL);
    if (pass) {
        memset(pass, 0, strlen(pass));
        MHD_free(pass);
    }
    if (user) MHD_free(user);
    return ok;
}

static void completed_cb(void *cls, struct MHD_Connection *con, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct hamf__http_server *s = cls;
    struct request *r = *con_cls;
    if (!r) return; /* the access handler never ran: nothing was counted */
    {
        if (r->stream_state && r->route && r->route->stream) r->route->stream->abort(r->stream_state);
        for (size_t i = 0; i < r->nquery; i++) {
            hamf__free(r->query[i].key);
            hamf__free(r->query[i].value);
        }
        hamf__free(r->query);
        hamf__free(r->path);
        hamf__buf_free(&r->body);
        resp_free(&r->resp);
        hamf__free(r);
        *con_cls = NULL;
    }
    atomic_fetch_sub(&s->inflight, 1);
}

static void add_headers(struct MHD_Response *mr, const struct hamf__http_resp *hr)
{
    if (hr->content_type) MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, hr->content_type);
    if (hr->disposition) MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_DISPOSITION, hr->disposition);
    for (int i = 0; i < 2; i++)
        if (hr->xheader_name[i]) MHD_add_response_header(mr, hr->xheader_name[i], hr->xheader_value[i]);
    /* Every answer: no MIME sniffing, and the web UI (and anything else a
     * browser renders from here) may load only from this origin. */
    if (hr->status == 401) MHD_add_response_header(mr, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"hamf\"");
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(mr, "Content-Security-Policy",
                            "default-src 'self'; object-src 'none'; base-uri 'none'; "
                            "frame-ancestors 'none'; form-action 'self'");
}

static bool is_empty_json(const struct hamf__http_resp *hr)
{
    return hr->fd < 0 && hr->status == 200 && !hr->disposition && hr->content_type &&
           !strcmp(hr->content_type, "application/json") && hr->body.len == 2 && !memcmp(hr->body.data, "{}", 2);
}

static enum MHD_Result send_resp(struct hamf__http_server *s, struct MHD_Connection *con, struct hamf__http_resp *hr)
{
    if (s->empty_json && is_empty_json(hr)) return MHD_queue_response(con, MHD_HTTP_OK, s->empty_json);
    struct MHD_Response *mr;
    if (hr->fd >= 0) {
        mr = MHD_create_response_from_fd64(hr->fd_size, hr->fd);
        if (mr) hr->fd = -1; /* owned by MHD now */
    } else {
        size_t len = hr->body.len;
        char *data = hamf__buf_detach(&hr->body, &len);
        if (!data) {
            mr = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        } else {
            mr = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
            if (!mr) hamf__free(data);
        }
    }
    if (!mr) return MHD_NO;
    add_headers(mr, hr);
    enum MHD_Result ret = MHD_queue_response(con, (unsigned)hr->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static void router_error(struct request *r, int status, const char *msg)
{
    hamf__buf_reset(&r->resp.body);
    r->resp.status = status;
    r->resp.content_type = "application/json";
    if (r->srv->cfg.error) {
        r->srv->cfg.error(status, msg, &r->resp);
    } else {
        (void)hamf__buf_puts(&r->resp.body, msg);
        r->resp.content_type = "text/plain";
    }
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *con, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    struct hamf__http_server *s = cls;
    struct request *r = *con_cls;
    const struct hamf__http_config *c = &s->cfg;
    if (!r) {
        /* first call: from here on MHD calls completed_cb for this request */
        r = hamf__calloc(1, sizeof *r);
        if (!r) return MHD_NO; /* out of memory: drop the connection */
        r->srv = s;
        hamf__buf_init(&r->body, 0);
        resp_init(&r->resp);
        *con_cls = r;
        atomic_fetch_add(&s->inflight, 1);
    }

    if (!r->started) {
        r->started = true;
        /* HEAD is served by the GET handler; MHD sends the headers only */
        r->req.method = strcmp(method, "HEAD") ? method : "GET";
        r->req.content_type = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!parse_uri(r, con, url)) {
            router_error(r, 400, "malformed request URI (bad percent-escape or too many arguments)");
            return send_resp(s, con, &r->resp);
        }
        if (c->auth && !check_auth(c, con, r->path)) {
            router_error(r, 401, "Authentication required: send valid HTTP basic credentials");
            return send_resp(s, con, &r->resp);
        }
        r->req.path = r->path;
        r->req.query = r->query;
        r->req.nquery = r->nquery;
        route_match(r);
        if (!r->route) {
            char msg[200];
            if (r->route_status == 404)
                snprintf(msg, sizeof msg, "No endpoint at %.150s", r->path);
            else
                snprintf(msg, sizeof msg, "Method %.10s is not allowed on %.150s", method, r->path);
            router_error(r, r->route_status, msg);
            return send_resp(s, con, &r->resp);
        }
        const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (!r->route->stream && cl) {
            int64_t n;
            if (hamf__parse_i64(cl, strlen(cl), &n) && n >= 0 && (uint64_t)n > r->route->max_body) {
                char msg[128];
                snprintf(msg, sizeof msg, "request body of %lld bytes is over the limit of %zu bytes",
                         (long long)n, r->route->max_body);
                router_error(r, 400, msg);
                return send_resp(s, con, &r->resp);
            }
        }
        if (r->route->stream) {
            r->stream_state = r->route->stream->begin(c->ctx, &r->req, &r->resp);
            if (!r->stream_state) return send_resp(s, con, &r->resp);
        }
        return MHD_YES;
    }

    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->refused) return MHD_YES;
        if (r->route->stream) {
            if (!r->route->stream->chunk(r->stream_state, upload_data, n, &r->resp)) {
                r->route->stream->abort(r->stream_state);
                r->stream_state = NULL;
                r->refused = true;
            }
            return MHD_YES;
        }
        if (r->body.len + n > r->route->max_body) {
            char msg[128];
            snprintf(msg, sizeof msg, "request body is over the limit of %zu bytes", r->route->max_body);
            router_error(r, 400, msg);
            r->refused = true;
            return MHD_YES;
        }
        if (hamf__buf_append(&r->body, upload_data, n)) {
            router_error(r, 503, "out of memory");
            r->refused = true;
        }
        return MHD_YES;
    }

    /* the whole request is in */
    if (r->refused) return send_resp(s, con, &r->resp);
    r->req.body = r->body.data ? r->body.data : "";
    r->req.body_len = r->body.len;
    if (r->route->stream) {
        void *st = r->stream_state;
        r->stream_state = NULL;
        r->route->stream->finish(st, &r->req, &r->resp);
    } else {
        r->route->fn(c->ctx, &r->req, &r->resp);
    }
    return send_resp(s, con, &r->resp);
}

hamf_status hamf__http_start(const struct hamf__http_config *cfg, struct hamf__http_server **out)
{
    struct hamf__http_server *s = hamf__calloc(1, sizeof *s);
    if (!s) return hamf__err(HAMF_ERR_NOMEM, "http: out of memory");
    s->cfg = *cfg;
    const char *host = cfg->host && *cfg->host ? cfg->host : "127.0.0.1";
    char port[16];
    snprintf(port, sizeof port, "%d", cfg->port);
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc || !ai) {
        hamf__free(s);
        return hamf__err(HAMF_ERR_CONNECT, "http: cannot resolve host '%s': %s", host, gai_strerror(rc));
    }
    /* NULL (out of memory) only costs speed: send_resp then builds it each time */
    s->empty_json = MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
    if (s->empty_json) {
        struct hamf__http_resp proto = {.status = 200, .content_type = "application/json", .fd = -1};
        add_headers(s->empty_json, &proto);
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    int threads = cfg->threads > 0 ? cfg->threads : 4;
    /* libmicrohttpd clears the used part of this pool for every request on
     * a kept-alive connection: 16 KiB holds any sane request head (bodies
     * are copied out as they arrive) and costs less than 64 KiB did. */
    size_t mem = cfg->max_header ? cfg->max_header : 16 * 1024;
    s->d = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, access_cb, s,
                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                            MHD_OPTION_UNESCAPE_CALLBACK, identity_unescape, NULL,
                            MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
                            MHD_OPTION_END);
    int err = errno;
    freeaddrinfo(ai);
    if (!s->d) {
        if (s->empty_json) MHD_destroy_response(s->empty_json);
        hamf__free(s);
        return hamf__err(HAMF_ERR_IO, "http: cannot listen on %s:%d: %s", host, cfg->port,
                         err ? strerror(err) : "libmicrohttpd refused to start");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    *out = s;
    return HAMF_OK;
}

int hamf__http_port(const struct hamf__http_server *s)
{
    return s ? s->port : 0;
}

void hamf__http_stop(struct hamf__http_server *s, double grace_seconds)
{
    if (!s) return;
    MHD_socket ls = MHD_quiesce_daemon(s->d);
    if (ls != MHD_INVALID_SOCKET) close(ls);
    double until = hamf__mono_seconds() + grace_seconds;
    while (atomic_load(&s->inflight) > 0 && hamf__mono_seconds() < until) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->d);
    if (s->empty_json) MHD_destroy_response(s->empty_json);
    hamf__free(s);
}
