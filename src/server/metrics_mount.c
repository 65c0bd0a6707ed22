/*
 * metrics_mount.c — serving the exporter over HTTP (see metrics_mount.h):
 * the /metrics and / handlers of `hamf exporter`, the /metrics mount of
 * `hamf server` (an exporter per server, started on the first scrape and
 * stopped with the server), and the duration parser for --interval.
 *
 * A scrape copies the pre-rendered text under the exporter's lock into the
 * response; it never touches the store or the network, so its cost does not
 * depend on the tracking source.
 */
#include "server/metrics_mount.h"

#include "server/api.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- durations ---- */

hamf_status hamf__duration_parse(const char *s, int64_t *ms)
{
    if (!s || !*s) return hamf__err(HAMF_ERR_PARSE, "duration: empty (expected e.g. 500ms, 15s, 1m)");
    size_t n = strlen(s), i = 0;
    while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) i++;
    if (i == 0)
        return hamf__err(HAMF_ERR_PARSE, "duration '%s': expected a number first (e.g. 500ms, 15s, 1m)", s);
    double v;
    if (!hamf__parse_double(s, i, &v) || !isfinite(v))
        return hamf__err(HAMF_ERR_PARSE, "duration '%s': '%.*s' is not a number", s, (int)i, s);
    const char *unit = s + i;
    double scale;
    if (!*unit)
        return hamf__err(HAMF_ERR_PARSE, "duration '%s': missing unit (ms, s, m or h)", s);
    else if (!strcmp(unit, "ms")) scale = 1;
    else if (!strcmp(unit, "s")) scale = 1000;
    else if (!strcmp(unit, "m")) scale = 60000;
    else if (!strcmp(unit, "h")) scale = 3600000;
    else return hamf__err(HAMF_ERR_PARSE, "duration '%s': unknown unit '%s' (use ms, s, m or h)", s, unit);
    double total = v * scale;
    if (total < 10 || total > 86400000.0)
        return hamf__err(HAMF_ERR_PARSE, "duration '%s': must be between 10ms and 24h", s);
    if (total != floor(total))
        return hamf__err(HAMF_ERR_PARSE, "duration '%s': finer than a millisecond", s);
    *ms = (int64_t)total;
    return HAMF_OK;
}

/* ---- handlers ---- */

static void serve_metrics(struct hamf__exporter *e, struct hamf__http_resp *resp)
{
    if (hamf__exporter_render_into(e, &resp->body) != HAMF_OK) {
        hamf__buf_reset(&resp->body);
        resp->status = 503;
        resp->content_type = "text/plain; charset=utf-8";
        (void)hamf__buf_puts(&resp->body, "out of memory\n");
        return;
    }
    resp->status = 200;
    resp->content_type = HAMF__EXPOSITION_CONTENT_TYPE;
}

void hamf__metrics_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    serve_metrics(ctx, resp);
}

void hamf__metrics_index_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    resp->status = 200;
    resp->content_type = "text/html; charset=utf-8";
    (void)hamf__buf_puts(&resp->body,
                         "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>hamf exporter</title></head>\n"
                         "<body><h1>hamf exporter</h1>\n"
                         "<p>Model-quality metrics of the latest finished run per experiment, in the "
                         "Prometheus text format: <a href=\"/metrics\">/metrics</a></p>\n</body></html>\n");
}

/* ---- the mount in hamf server ---- */

struct mount {
    const void *ctx;
    struct hamf__exporter_source *src;
    struct hamf__exporter *exp;
    struct mount *next;
};

static pthread_mutex_t mounts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mount *mounts;

static int64_t server_interval_ms(void)
{
    const char *env = getenv("HAMF_METRICS_INTERVAL");
    int64_t ms;
    if (env && *env && hamf__duration_parse(env, &ms) == HAMF_OK) return ms;
    return 15000;
}

void hamf__metrics_server_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    const struct hamf__server_ctx *sc = ctx;
    pthread_mutex_lock(&mounts_lock);
    struct mount *m = mounts;
    while (m && m->ctx != ctx) m = m->next;
    if (!m) {
        hamf_status st;
        m = hamf__calloc(1, sizeof *m);
        if (!m) {
            st = hamf__err(HAMF_ERR_NOMEM, "metrics: out of memory");
        } else if (!(st = hamf__exporter_source_open(sc->db_url, NULL, 0, &m->src))) {
            st = hamf__exporter_create(hamf__exporter_source_collect, m->src, server_interval_ms(), &m->exp);
        }
        if (st) {
            pthread_mutex_unlock(&mounts_lock);
            if (m) hamf__exporter_source_close(m->src);
            hamf__free(m);
            hamf__api_status_error(resp, st);
            return;
        }
        m->ctx = ctx;
        m->next = mounts;
        mounts = m;
    }
    struct hamf__exporter *e = m->exp;
    pthread_mutex_unlock(&mounts_lock);
    /* the mount lives until the server stops, after its requests finished */
    serve_metrics(e, resp);
}

void hamf__metrics_server_unmount(void *ctx)
{
    pthread_mutex_lock(&mounts_lock);
    struct mount **pp = &mounts, *m = NULL;
    while (*pp && (*pp)->ctx != ctx) pp = &(*pp)->next;
    if (*pp) {
        m = *pp;
        *pp = m->next;
    }
    pthread_mutex_unlock(&mounts_lock);
    if (!m) return;
    hamf__exporter_destroy(m->exp);
    hamf__exporter_source_close(m->src);
    hamf__free(m);
}
