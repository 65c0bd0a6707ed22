/*
 * http.c — the HTTP layer of `hamf server` on libmicrohttpd (see http.h).
 *
 * One struct request per HTTP request, created by the request-line
 * callback (uri_log_cb) and freed by the completion callback or, when
 * libmicrohttpd refuses the request itself and skips that callback, when
 * the connection ends (struct conn keeps it). MHD's own unescaping is turned
 * off, so the path and the query arguments are decoded here, each by its
 * own rule. The
 * access handler is called by MHD first with the headers, then once per
 * body chunk, then once more at the end: the route is chosen and the
 * declared Content-Length checked on the first call, the body is buffered
 * (bounded) or streamed on the next ones, and the handler runs on the last.
 * A counter of requests in flight lets hamf__http_stop finish them before
 * closing.
 *
 * Limits (see struct hamf__http_limits): libmicrohttpd enforces the total
 * and per-address connection counts and the idle timeout, but resets that
 * timeout on every byte, so a client sending a header byte a second keeps
 * its connection forever. The request-line callback and the connection
 * notifications keep a deadline per connection instead; a watchdog thread
 * shuts down (shutdown(2), which libmicrohttpd sees as the peer closing)
 * any connection past it. The request line is copied in that callback and
 * the query parsed here, and libmicrohttpd is kept from parsing the
 * arguments itself: it stores each one in the 16 KiB per-connection pool
 * and, when the pool runs out there, answers nothing at all.
 */
#include "http.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NO_DEADLINE INT64_MAX

/* One per TCP connection, from libmicrohttpd's STARTED notification to its
 * CLOSED one (which comes before the socket is closed, so the watchdog,
 * holding the list lock, never shuts down a reused descriptor). The
 * deadline is written by the connection's own polling thread. The request
 * begun on it is also kept here: libmicrohttpd does not always notify a
 * request's completion (one it refuses itself after the request line, say
 * 431 when its pool runs out, can go straight to closed), but it always
 * notifies the connection's end, which frees a request left over. */
struct request;
struct conn {
    struct conn *prev, *next;
    struct request *req; /* begun (request line seen), its completion not yet notified */
    int fd;
    int64_t shut_ms;             /* when the watchdog last shut it down; 0 = never */
    _Atomic int64_t deadline_ms; /* monotonic milliseconds */
};

struct hamf__http_server {
    struct MHD_Daemon *d;
    /* the answer `200 {}` of most writes, built once and queued on every
     * connection that sends it (MHD counts its users) */
    struct MHD_Response *empty_json;
    struct hamf__http_config cfg;
    _Atomic long inflight;
    int port;
    struct hamf__http_limits lim;
    pthread_mutex_t mu; /* guards conns, stopping */
    pthread_cond_t wake;
    struct conn *conns;
    bool stopping, watchdog_on;
    pthread_t watchdog;
    _Atomic long deadline_kills;
};

struct request {
    struct hamf__http_server *srv;
    char *raw_uri;     /* request target as sent (NULL when over max_uri) */
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

/* MHD hands over the path undecoded (see identity_unescape) and never sees
 * the query (see uri_log_cb); decode both here, each by its own rule.
 * Returns 0, or the status to refuse the request with (400 bad escape,
 * NUL or invalid UTF-8; 414 too many arguments; 503 out of memory). */
static int parse_uri(struct request *r, const char *url, const char **why)
{
    r->path = hamf__http_unescape(url, strlen(url), false);
    if (!r->path) {
        *why = "malformed request path (bad percent-escape or NUL)";
        return 400;
    }
    /* leading repeated slashes count as one, as in MLflow's router:
     * //model-versions/get-artifact is /model-versions/get-artifact (inner
     * ones stay: an artifact path "//etc" must still be refused) */
    size_t lead = 0;
    while (r->path[lead] == '/' && r->path[lead + 1] == '/') lead++;
    if (lead) memmove(r->path, r->path + lead, strlen(r->path + lead) + 1);
    if (!hamf__utf8_valid(r->path, strlen(r->path))) {
        *why = "request path is not valid UTF-8";
        return 400;
    }
    /* a path segment can name a file (artifacts): none longer than a file
     * name may be (NAME_MAX), so that is a client mistake, not ENAMETOOLONG */
    for (const char *p = r->path; *p;) {
        size_t n = strcspn(p, "/");
        if (n > 255) {
            *why = "a path segment is longer than 255 bytes (the file-name limit)";
            return 400;
        }
        p += n;
        if (*p) p++;
    }
    const char *q = r->raw_uri ? strchr(r->raw_uri, '?') : NULL;
    if (!q) return 0;
    size_t cap = 0;
    for (const char *p = q + 1; *p;) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n) {
            if (r->nquery == r->srv->lim.max_args) {
                *why = "too many query arguments";
                return 414;
            }
            if (r->nquery == cap) {
                size_t nc = cap ? cap * 2 : 8;
                struct hamf__http_qarg *na = hamf__realloc(r->query, nc * sizeof *na);
                if (!na) {
                    *why = "out of memory";
                    return 503;
                }
                r->query = na;
                cap = nc;
            }
            const char *eq = memchr(p, '=', n);
            struct hamf__http_qarg *a = &r->query[r->nquery];
            a->key = hamf__http_unescape(p, eq ? (size_t)(eq - p) : n, true);
            a->value = eq ? hamf__http_unescape(eq + 1, n - (size_t)(eq + 1 - p), true) : hamf__strdup("");
            if (!a->key || !a->value) {
                hamf__free(a->key);
                hamf__free(a->value);
                *why = "malformed query argument (bad percent-escape or NUL)";
                return 400;
            }
            r->nquery++;
            if (!hamf__utf8_valid(a->key, strlen(a->key)) || !hamf__utf8_valid(a->value, strlen(a->value))) {
                *why = "query argument is not valid UTF-8";
                return 400;
            }
        }
        if (!end) break;
        p = end + 1;
    }
    return 0;
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

static int b64v(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* `Authorization: Basic <base64 of user:pass>`, the scheme matched
 * case-insensitively (RFC 9110 section 11.1; libmicrohttpd 0.9.75 wants
 * "Basic" exactly). Fills out (NUL-separated user and password) and
 * returns true when the header is well formed. */
#define AUTH_HEADER_MAX 4096
static bool parse_basic(const char *h, char *out, const char **user, const char **pass)
{
    if (!h || strncasecmp(h, "basic", 5) || (h[5] != ' ' && h[5] != '\t')) return false;
    h += 5;
    while (*h == ' ' || *h == '\t') h++;
    size_t n = strlen(h);
    while (n && (h[n - 1] == ' ' || h[n - 1] == '\t')) n--;
    while (n && h[n - 1] == '=') n--;
    if (!n || n >= AUTH_HEADER_MAX) return false;
    size_t k = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64v((unsigned char)h[i]);
        if (v < 0) return false;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            char c = (char)((acc >> bits) & 0xFF);
            if (!c) return false;
            out[k++] = c;
        }
    }
    out[k] = '\0';
    char *colon = strchr(out, ':');
    if (!colon) return false;
    *colon = '\0';
    *user = out;
    *pass = colon + 1;
    return true;
}

static void client_text(struct MHD_Connection *con, char *buf, size_t n)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(buf, n, "?");
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf, (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf, (socklen_t)n);
}

/* Basic credentials from the Authorization header through the configured
 * hook: 0, 401 or 429 (with *retry_after). */
static int check_auth(const struct hamf__http_config *c, struct MHD_Connection *con, const char *path,
                      int *retry_after)
{
    const char *h = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    char buf[AUTH_HEADER_MAX];
    const char *user = NULL, *pass = NULL;
    if (!parse_basic(h, buf, &user, &pass)) user = pass = NULL;
    char client[INET6_ADDRSTRLEN + 1];
    client_text(con, client, sizeof client);
    int st = c->auth(c->auth_ctx, path, user, pass, client, retry_after);
    memset(buf, 0, sizeof buf);
    return st;
}

/* ---- connections and their deadlines ---- */

static int64_t now_ms(void)
{
    return (int64_t)(hamf__mono_seconds() * 1000.0);
}

static struct conn *conn_of(struct MHD_Connection *con)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void conn_deadline(struct MHD_Connection *con, int64_t at, bool only_earlier)
{
    struct conn *c = conn_of(con);
    if (!c) return;
    if (only_earlier && atomic_load(&c->deadline_ms) <= at) return;
    atomic_store(&c->deadline_ms, at);
}

static int64_t after(const struct hamf__http_server *s, unsigned units)
{
    return units ? now_ms() + (int64_t)units * s->lim.timeout_unit_ms : NO_DEADLINE;
}

static void request_free(struct request *r);

static void notify_conn_cb(void *cls, struct MHD_Connection *con, void **socket_context,
                           enum MHD_ConnectionNotificationCode toe)
{
    struct hamf__http_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn *c = hamf__calloc(1, sizeof *c);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!c || !ci) {
            hamf__free(c); /* untracked: only libmicrohttpd's idle timeout applies */
            return;
        }
        c->fd = ci->connect_fd;
        atomic_init(&c->deadline_ms, after(s, s->lim.header_timeout));
        pthread_mutex_lock(&s->mu);
        c->next = s->conns;
        if (s->conns) s->conns->prev = c;
        s->conns = c;
        pthread_mutex_unlock(&s->mu);
        *socket_context = c;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct conn *c = *socket_context;
        if (!c) return;
        if (c->req) request_free(c->req);
        pthread_mutex_lock(&s->mu);
        if (c->prev) c->prev->next = c->next;
        else s->conns = c->next;
        if (c->next) c->next->prev = c->prev;
        pthread_mutex_unlock(&s->mu);
        hamf__free(c);
        *socket_context = NULL;
    }
}

/* Shut down every connection past its deadline (called with s->mu held). */
static void watchdog_scan(struct hamf__http_server *s)
{
    int64_t now = now_ms();
    for (struct conn *c = s->conns; c; c = c->next) {
        if (atomic_load(&c->deadline_ms) > now) continue;
        if (c->shut_ms && now - c->shut_ms < (int64_t)s->lim.timeout_unit_ms) continue;
        /* the peer appears to have closed: libmicrohttpd drops the
         * connection when it reads the end (and notifies CLOSED). Its
         * edge-triggered epoll can miss that end when it arrived with
         * the last bytes (a short read clears the ready flag), so a
         * connection still here a unit later is shut down again: each
         * shutdown wakes the socket's waiters anew. */
        shutdown(c->fd, SHUT_RDWR);
        if (!c->shut_ms) atomic_fetch_add(&s->deadline_kills, 1);
        c->shut_ms = now;
    }
}

static void *watchdog_main(void *arg)
{
    struct hamf__http_server *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)s->lim.timeout_unit_ms * 200 * 1000; /* a fifth of the unit */
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->wake, &s->mu, &ts);
        watchdog_scan(s);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static struct request *request_new(struct hamf__http_server *s)
{
    struct request *r = hamf__calloc(1, sizeof *r);
    if (!r) return NULL;
    r->srv = s;
    hamf__buf_init(&r->body, 0);
    resp_init(&r->resp);
    atomic_fetch_add(&s->inflight, 1);
    return r;
}

static void request_free(struct request *r)
{
    struct hamf__http_server *s = r->srv;
    if (r->stream_state && r->route && r->route->stream) r->route->stream->abort(r->stream_state);
    for (size_t i = 0; i < r->nquery; i++) {
        hamf__free(r->query[i].key);
        hamf__free(r->query[i].value);
    }
    hamf__free(r->query);
    hamf__free(r->path);
    hamf__free(r->raw_uri);
    hamf__buf_free(&r->body);
    resp_free(&r->resp);
    hamf__free(r);
    atomic_fetch_sub(&s->inflight, 1);
}

/* r becomes the request of con's connection (freed when the connection
 * ends unless its completion comes first); one that libmicrohttpd left
 * without a completion is freed now. */
static void request_attach(struct MHD_Connection *con, struct request *r)
{
    struct conn *c = conn_of(con);
    if (!c) return; /* untracked connection (out of memory at its start) */
    if (c->req && c->req != r) request_free(c->req);
    c->req = r;
}

/* Called with the request line, before libmicrohttpd parses the query: the
 * target is copied (the query is parsed from the copy), and the query is
 * cut off MHD's buffer so that it stores no arguments in its pool. The
 * returned request becomes the access handler's *con_cls; libmicrohttpd
 * calls completed_cb for it however the request ends. */
static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *con)
{
    struct hamf__http_server *s = cls;
    conn_deadline(con, after(s, s->lim.header_timeout), true);
    struct request *r = request_new(s);
    if (r) request_attach(con, r);
    char *q = strchr(uri, '?');
    if (r && strlen(uri) <= s->lim.max_uri) {
        r->raw_uri = hamf__strdup(uri);
        if (!r->raw_uri) r->resp.status = 503;
    }
    if (q && q[1]) q[1] = '\0'; /* libmicrohttpd wrote this buffer; it reads the query from q + 1 next */
    return r;
}

static void completed_cb(void *cls, struct MHD_Connection *con, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct hamf__http_server *s = cls;
    struct request *r = *con_cls;
    if (!r) return; /* neither callback made one: nothing was counted */
    struct conn *c = conn_of(con);
    if (c && c->req == r) c->req = NULL;
    request_free(r);
    *con_cls = NULL;
    /* the answer is out: a kept-alive connection has idle_timeout seconds
     * to send the whole head of its next request */
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) conn_deadline(con, after(s, s->lim.idle_timeout), false);
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
    if (hr->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", hr->retry_after);
        MHD_add_response_header(mr, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
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

/* What a request head costs libmicrohttpd's per-connection pool: its bytes
 * (request line and header lines stay in the pool while the request is
 * handled), a record of HEAD_LINE_COST bytes (56, aligned) for each header
 * line, cookie and (when a NUL hid the query from uri_log_cb) query
 * argument, and a copy of the Cookie header. *lines counts the records. */
#define HEAD_LINE_COST 64
static void head_cost(struct MHD_Connection *con, size_t *bytes, size_t *lines)
{
    const union MHD_ConnectionInfo *hi = MHD_get_connection_info(con, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    int n = MHD_get_connection_values(con, MHD_HEADER_KIND | MHD_COOKIE_KIND | MHD_GET_ARGUMENT_KIND, NULL, NULL);
    const char *cookie = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
    *lines = n > 0 ? (size_t)n : 0;
    *bytes = (hi ? hi->header_size : 0) + *lines * HEAD_LINE_COST + (cookie ? strlen(cookie) + 1 : 0);
}

/* The answer to a head refused for its size, written straight to the
 * socket: such a head may have filled libmicrohttpd's pool, which then
 * has no room to format the answer's headers and closes the connection
 * without a word. Returning MHD_NO makes it close the connection (its own
 * answers to oversized heads do the same). A client that does not read
 * can get the answer cut short (the socket is not waited on). */
static enum MHD_Result send_direct(struct MHD_Connection *con, struct hamf__http_resp *hr, bool head_only)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return MHD_NO;
    const char *reason = MHD_get_reason_phrase_for((unsigned)hr->status);
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_status st = hamf__buf_printf(&b,
                                      "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Type: %s\r\n"
                                      "Content-Length: %zu\r\nX-Content-Type-Options: nosniff\r\n"
                                      "Content-Security-Policy: default-src 'none'\r\n\r\n",
                                      hr->status, reason && *reason ? reason : "Error",
                                      hr->content_type ? hr->content_type : "application/json", hr->body.len);
    if (!st && !head_only) st = hamf__buf_append(&b, hr->body.data ? hr->body.data : "", hr->body.len);
    for (size_t off = 0; !st && off < b.len;) {
        ssize_t w = send(ci->connect_fd, b.data + off, b.len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    hamf__buf_free(&b);
    return MHD_NO;
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
        /* uri_log_cb ran out of memory */
        r = request_new(s);
        if (!r) return MHD_NO; /* out of memory: drop the connection */
        request_attach(con, r);
        *con_cls = r;
        r->resp.status = 503;
    }

    if (!r->started) {
        r->started = true;
        /* the head is in: the body has body_timeout seconds */
        conn_deadline(con, after(s, s->lim.body_timeout), false);
        /* HEAD is served by the GET handler; MHD sends the headers only */
        r->req.method = strcmp(method, "HEAD") ? method : "GET";
        r->req.content_type = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (r->resp.status == 503) {
            router_error(r, 503, "out of memory");
            return send_resp(s, con, &r->resp);
        }
        if (!r->raw_uri) {
            char msg[128];
            snprintf(msg, sizeof msg, "request target is over the limit of %zu bytes", s->lim.max_uri);
            router_error(r, 414, msg);
            return send_direct(con, &r->resp, !strcmp(method, "HEAD"));
        }
        size_t head = 0, lines = 0;
        head_cost(con, &head, &lines);
        if (head > s->lim.max_head) {
            char msg[200];
            snprintf(msg, sizeof msg,
                     "request head of %zu bytes (counting %d more for each of its %zu header lines) is over the "
                     "limit of %zu bytes",
                     head, HEAD_LINE_COST, lines, s->lim.max_head);
            router_error(r, 431, msg);
            return send_direct(con, &r->resp, !strcmp(method, "HEAD"));
        }
        /* uri_log_cb hides the query from libmicrohttpd; if it parsed
         * arguments anyway, a NUL byte in the target hid the '?' from us */
        if (MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, NULL, NULL) > 0) {
            router_error(r, 400, "malformed request target (NUL byte)");
            return send_resp(s, con, &r->resp);
        }
        const char *why = NULL;
        int bad = parse_uri(r, url, &why);
        if (bad) {
            router_error(r, bad, why);
            return send_resp(s, con, &r->resp);
        }
        if (c->auth) {
            int retry = 0;
            int ast = check_auth(c, con, r->path, &retry);
            if (ast == 429) {
                char msg[128];
                snprintf(msg, sizeof msg, "Too many failed authentication attempts from this address; retry in %d s",
                         retry);
                router_error(r, 429, msg);
                r->resp.retry_after = retry > 0 ? retry : 1;
                return send_resp(s, con, &r->resp);
            }
            if (ast) {
                router_error(r, 401, "Authentication required: send valid HTTP basic credentials");
                return send_resp(s, con, &r->resp);
            }
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

    /* the whole request is in; answering may take as long as it takes */
    conn_deadline(con, NO_DEADLINE, false);
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
    struct hamf__http_limits *L = &s->lim;
    *L = cfg->limits;
    if (!L->max_connections) L->max_connections = 1024;
    if (!L->max_per_ip) L->max_per_ip = 256;
    if (!L->header_timeout) L->header_timeout = 10;
    if (!L->body_timeout) L->body_timeout = 300;
    if (!L->idle_timeout) L->idle_timeout = 60;
    /* half the per-connection memory (at least 8 KiB), so that an accepted
     * head leaves libmicrohttpd room to format the answer; a head past it
     * gets hamf's JSON 414/431 (send_direct: even one that filled the
     * pool), one that overflows the pool libmicrohttpd's own answer */
    size_t pool = cfg->max_header ? cfg->max_header : 16 * 1024;
    if (!L->max_uri) L->max_uri = pool / 2 > 8192 ? pool / 2 : 8192;
    if (!L->max_head) L->max_head = pool / 2 > 8192 ? pool / 2 : 8192;
    if (!L->max_args) L->max_args = 1024;
    if (!L->timeout_unit_ms || L->timeout_unit_ms > 1000) L->timeout_unit_ms = 1000;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->wake, NULL);
    const char *host = cfg->host && *cfg->host ? cfg->host : "127.0.0.1";
    char port[16];
    snprintf(port, sizeof port, "%d", cfg->port);
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc || !ai) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->wake);
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
    int threads = cfg->threads > 0 ? cfg->threads : 4;
    /* fuzzing: no socket, no thread; hamf__http_run polls (select(2),
     * level-triggered; libmicrohttpd's poll mode needs its own thread) in
     * the caller's thread */
    if (cfg->no_listen) {
        flags = MHD_USE_NO_LISTEN_SOCKET;
        threads = 1;
    }
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    /* libmicrohttpd clears the used part of this pool for every request on
     * a kept-alive connection: 16 KiB holds any sane request head (bodies
     * are copied out as they arrive) and costs less than 64 KiB did. */
    size_t mem = cfg->max_header ? cfg->max_header : 16 * 1024;
    s->d = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, access_cb, s,
                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
                            MHD_OPTION_CONNECTION_LIMIT, L->max_connections,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, L->max_per_ip,
                            MHD_OPTION_CONNECTION_TIMEOUT, L->idle_timeout,
                            MHD_OPTION_UNESCAPE_CALLBACK, identity_unescape, NULL,
                            MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, s,
                            MHD_OPTION_NOTIFY_CONNECTION, notify_conn_cb, s,
                            MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
                            MHD_OPTION_END);
    int err = errno;
    freeaddrinfo(ai);
    if (s->d && !cfg->no_listen && pthread_create(&s->watchdog, NULL, watchdog_main, s) == 0)
        s->watchdog_on = true;
    if (s->d && !cfg->no_listen && !s->watchdog_on) {
        MHD_stop_daemon(s->d);
        s->d = NULL;
        err = EAGAIN;
    }
    if (!s->d) {
        if (s->empty_json) MHD_destroy_response(s->empty_json);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->wake);
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

hamf_status hamf__http_add_connection(struct hamf__http_server *s, int fd)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(40000)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (MHD_add_connection(s->d, fd, (const struct sockaddr *)&sa, sizeof sa) != MHD_YES)
        return hamf__err(HAMF_ERR_IO, "http: cannot add a connection");
    return HAMF_OK;
}

hamf_status hamf__http_run(struct hamf__http_server *s, int wait_ms)
{
    if (!s->cfg.no_listen) return hamf__err(HAMF_ERR_MISUSE, "http: hamf__http_run needs a no_listen server");
    if (MHD_run_wait(s->d, wait_ms) != MHD_YES) return hamf__err(HAMF_ERR_IO, "http: polling failed");
    pthread_mutex_lock(&s->mu);
    watchdog_scan(s);
    pthread_mutex_unlock(&s->mu);
    return HAMF_OK;
}

long hamf__http_deadline_kills(const struct hamf__http_server *s)
{
    return s ? atomic_load(&s->deadline_kills) : 0;
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
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    if (s->watchdog_on) pthread_join(s->watchdog, NULL);
    MHD_stop_daemon(s->d);
    if (s->empty_json) MHD_destroy_response(s->empty_json);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->wake);
    hamf__free(s);
}
