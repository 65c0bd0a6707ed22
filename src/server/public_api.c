/*
 * public_api.c — include/hamf.h's functions of this layer: the Prometheus
 * exporter behind an opaque handle (hamf_exporter_*: the source of
 * exporter_source.c, the refresh of exporter.c, the routes of
 * metrics_mount.c on http.c), the duration parser, the loopback question
 * and the auth file's passwd helper (auth.c). The tracking server's
 * hamf_server_* live one layer up (src/app/public_api.c): they wire in the
 * retrain job runner.
 */
#include "server/auth.h"
#include "server/exporter.h"
#include "server/http.h"
#include "server/metrics_mount.h"

#include "track/mlflow_client.h"

#include <string.h>

struct hamf_exporter {
    struct hamf__exporter_source *src;
    struct hamf__exporter *exp;
    struct hamf__http_server *http;
    void (*on_refresh)(void *ctx, hamf_status st, const char *message);
    void *ctx;
};

/* The source's collect, reporting each outcome to the caller's hook. */
static hamf_status collect(void *ctx, struct hamf__samples *out)
{
    struct hamf_exporter *e = ctx;
    hamf_status st = hamf__exporter_source_collect(e->src, out);
    if (e->on_refresh) e->on_refresh(e->ctx, st, st ? hamf_last_error() : "");
    return st;
}

void hamf_exporter_options_init(hamf_exporter_options *o)
{
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 8000;
    o->threads = 2;
    o->interval_ms = 15000;
}

hamf_status hamf_exporter_start(const hamf_exporter_options *o, hamf_exporter **out)
{
    if (!o || !out || !o->source) return hamf__err(HAMF_ERR_MISUSE, "exporter: NULL options, handle or source");
    hamf_exporter *e = hamf__calloc(1, sizeof *e);
    if (!e) return hamf__err(HAMF_ERR_NOMEM, "exporter: out of memory");
    e->on_refresh = o->on_refresh;
    e->ctx = o->ctx;
    hamf_status st = hamf__exporter_source_open(o->source, o->experiments, o->nexperiments, &e->src);
    if (!st) st = hamf__exporter_create(collect, e, o->interval_ms > 0 ? o->interval_ms : 15000, &e->exp);
    if (!st) {
        static const struct hamf__http_route routes[] = { /* http.c keeps the pointer */
            {"GET", "/metrics", 0, hamf__metrics_route, NULL},
            {"GET", "/", 0, hamf__metrics_index_route, NULL},
        };
        struct hamf__http_config hc = {
            .host = o->host ? o->host : "127.0.0.1",
            .port = o->port,
            .threads = o->threads > 0 ? o->threads : 2,
            .routes = routes,
            .nroutes = HAMF_ARRAY_LEN(routes),
            .ctx = e->exp,
        };
        st = hamf__http_start(&hc, &e->http);
    }
    if (st) {
        hamf_exporter_stop(e, 0);
        return st;
    }
    *out = e;
    return HAMF_OK;
}

int hamf_exporter_port(const hamf_exporter *e)
{
    return e && e->http ? hamf__http_port(e->http) : -1;
}

int hamf_exporter_source_is_remote(const hamf_exporter *e)
{
    return e && e->src && hamf__exporter_source_remote(e->src);
}

void hamf_exporter_stop(hamf_exporter *e, double grace_seconds)
{
    if (!e) return;
    if (e->http) hamf__http_stop(e->http, grace_seconds);
    hamf__exporter_destroy(e->exp);
    hamf__exporter_source_close(e->src);
    hamf__free(e);
}

hamf_status hamf_duration_parse(const char *s, int64_t *ms)
{
    return hamf__duration_parse(s, ms);
}

hamf_status hamf_host_is_loopback(const char *host, int *loopback)
{
    bool lb = false;
    hamf_status st = hamf__host_is_loopback(host, &lb);
    if (!st) *loopback = lb;
    return st;
}

int hamf_tracking_uri_is_remote(const char *uri)
{
    return hamf__mlflow_is_remote(uri);
}

hamf_status hamf_server_passwd_set(const char *path, const char *user, const char *password)
{
    return hamf__auth_passwd_set(path, user, password);
}
