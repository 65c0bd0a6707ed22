/* fuzz_http.c — libFuzzer target for the HTTP request -> route path of
 * `hamf server`, in process: the input is the raw bytes a client sends on
 * one connection (any number of pipelined requests). A server of the real
 * HTTP layer (src/server/http.c on libmicrohttpd, basic auth hook, limits,
 * buffered and streamed routes) runs without a listening socket and without
 * threads: each input arrives over a socketpair, the client half-closes,
 * and this thread drives libmicrohttpd (hamf__http_run: level-triggered
 * select, then the deadline check) until the server closes, reading
 * everything back. No thread hand-offs, so a run is CPU-bound and
 * deterministic; the production polling threads (epoll) and the watchdog
 * thread are what tests/server exercise. Checked: an answer or a close
 * comes within 5 s (never a hang; deadlines here are 20 ms), every byte
 * sent back is valid UTF-8 (headers ASCII, bodies JSON from
 * hamf__json_str), and each answer starts with an HTTP status line.
 * Built by `make fuzz`; fuzz/corpus/http is replayed by `make check`. */
#include "server/http.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_echo(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    struct hamf__buf *b = &resp->body;
    hamf_status st = hamf__buf_puts(b, "{\"method\":");
    if (!st) st = hamf__json_str(b, req->method, (size_t)-1);
    if (!st) st = hamf__buf_puts(b, ",\"path\":");
    if (!st) st = hamf__json_str(b, req->path, (size_t)-1);
    if (!st) st = hamf__buf_puts(b, ",\"rest\":");
    if (!st) st = hamf__json_str(b, req->route_rest, (size_t)-1);
    for (size_t i = 0; !st && i < req->nquery; i++) {
        st = hamf__buf_puts(b, ",\"q\":");
        if (!st) st = hamf__json_str(b, req->query[i].key, (size_t)-1);
        if (!st) st = hamf__buf_putc(b, ':');
        if (!st) st = hamf__json_str(b, req->query[i].value, (size_t)-1);
    }
    if (!st) st = hamf__buf_puts(b, ",\"body\":");
    if (!st) st = hamf__json_str(b, req->body, req->body_len);
    if (!st) st = hamf__buf_putc(b, '}');
    if (st) resp->status = 503;
}

struct fz_up {
    size_t n;
};

static void *fz_begin(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    return calloc(1, sizeof(struct fz_up));
}

static bool fz_chunk(void *state, const char *data, size_t n, struct hamf__http_resp *resp)
{
    struct fz_up *u = state;
    u->n += n;
    if (u->n > 4096) {
        resp->status = 413;
        (void)hamf__buf_puts(&resp->body, "{\"error_code\":\"X\",\"message\":\"too big\"}");
        return false;
    }
    return true;
}

static void fz_finish(void *state, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    struct fz_up *u = state;
    (void)hamf__buf_printf(&resp->body, "{\"bytes\":%zu}", u->n);
    free(u);
}

static void fz_abort(void *state)
{
    free(state);
}

static const struct hamf__http_stream fz_stream = {fz_begin, fz_chunk, fz_finish, fz_abort};

static const struct hamf__http_route fz_routes[] = {
    {"GET", "/api/x", 0, fz_echo, NULL},
    {"POST", "/api/x", 1024, fz_echo, NULL},
    {"GET", "/open/x", 0, fz_echo, NULL},
    {"PUT", "/art/*", 0, NULL, &fz_stream},
    {"GET", "/art/*", 0, fz_echo, NULL},
    {"DELETE", "/art/*", 0, fz_echo, NULL},
};

static void fz_error(int status, const char *msg, struct hamf__http_resp *resp)
{
    hamf__buf_reset(&resp->body);
    resp->status = status;
    resp->content_type = "application/json";
    hamf_status st = hamf__buf_puts(&resp->body, "{\"error_code\":\"E\",\"message\":");
    if (!st) st = hamf__json_str(&resp->body, msg, (size_t)-1);
    if (!st) (void)hamf__buf_putc(&resp->body, '}');
}

/* user "u" password "p"; /open/ needs none; a client past 3 failures gets 429 */
static int fz_fails;
static int fz_auth(void *ctx, const char *path, const char *user, const char *pass, const char *client,
                   int *retry_after)
{
    if (!strncmp(path, "/open/", 6)) return 0;
    if (user && pass && !strcmp(user, "u") && !strcmp(pass, "p")) return 0;
    if (user && ++fz_fails > 3) {
        fz_fails = 0;
        *retry_after = 7;
        return 429;
    }
    return 401;
}

static struct hamf__http_server *fz_srv;

static void fz_start(void)
{
    struct hamf__http_config c = {
        .host = "127.0.0.1",
        .threads = 1,
        .routes = fz_routes,
        .nroutes = sizeof fz_routes / sizeof fz_routes[0],
        .error = fz_error,
        .auth = fz_auth,
        .no_listen = true,
        .limits = {.header_timeout = 2, .body_timeout = 2, .max_uri = 2048, .max_head = 2048, .max_args = 64,
                   .timeout_unit_ms = 10},
    };
    if (hamf__http_start(&c, &fz_srv) != HAMF_OK) {
        fprintf(stderr, "fuzz_http: %s\n", hamf_last_error());
        abort();
    }
}

static bool fz_utf8(const uint8_t *s, size_t n)
{
    return hamf__utf8_valid((const char *)s, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fz_srv) fz_start();
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) abort();
    if (hamf__http_add_connection(fz_srv, sv[0]) != HAMF_OK) abort();
    size_t cap = 1 << 16, got = 0, sent = 0;
    uint8_t *out = malloc(cap);
    bool wr_closed = false, closed = false;
    double until = hamf__mono_seconds() + 5.0;
    while (!closed) {
        bool moved = false;
        if (sent < size) {
            ssize_t w = send(sv[1], data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) {
                sent += (size_t)w;
                moved = true;
            } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                sent = size; /* the server closed; stop sending */
            }
        }
        if (sent == size && !wr_closed) {
            shutdown(sv[1], SHUT_WR);
            wr_closed = true;
        }
        if (hamf__http_run(fz_srv, 0) != HAMF_OK) abort();
        for (;;) {
            if (got == cap) out = realloc(out, cap *= 2);
            ssize_t r = recv(sv[1], out + got, cap - got, MSG_DONTWAIT);
            if (r > 0) {
                got += (size_t)r;
                moved = true;
                continue;
            }
            if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) closed = true;
            break;
        }
        if (!closed && !moved) {
            if (hamf__mono_seconds() > until) {
                fprintf(stderr, "fuzz_http: no answer and no close within 5 s (%zu of %zu bytes sent)\n", sent,
                        size);
                abort();
            }
            /* nothing moved: let time pass (the deadlines) */
            if (hamf__http_run(fz_srv, 1) != HAMF_OK) abort();
        }
    }
    close(sv[1]);
    if (got && (got < 9 || memcmp(out, "HTTP/1.", 7))) {
        fprintf(stderr, "fuzz_http: answer does not start with a status line\n");
        abort();
    }
    if (!fz_utf8(out, got)) {
        fprintf(stderr, "fuzz_http: answer is not valid UTF-8\n");
        abort();
    }
    free(out);
    return 0;
}
