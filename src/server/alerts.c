/*
 * alerts.c — alert-triggered retraining in `hamf server`.
 *
 * POST /api/hamf/v1/alerts: an Alertmanager webhook notification (JSON,
 * "version": "4": receiver, status, alerts[] {status, labels, annotations,
 * startsAt, endsAt, generatorURL, fingerprint}, groupLabels, commonLabels,
 * commonAnnotations, externalURL, groupKey, truncatedAlerts). Each firing
 * ModelAccuracyLow, ModelF1Low, FeatureDriftHigh or ServingFeatureDriftHigh alert with a `model`
 * label asks for a retrain of that model. Per model, one job is enqueued in
 * the store (retrain_jobs) under the key groupKey|model|earliest startsAt
 * of those alerts, so re-sent notifications of the same alert group and
 * firing episode (repeat_interval, a restart of either side) never make a
 * second job; no job is made while one for the model is queued or running,
 * nor within the cooldown after its last one finished. The answer is 200
 * with what was decided per model (Alertmanager retries non-2xx answers).
 *
 * GET /api/hamf/v1/jobs: {"jobs":[...]} with state queued / running /
 * succeeded / failed, alert group, model, timestamps and the result (the
 * retrain decision) or error.
 *
 * The jobs are run by a runner above the server (src/app/retrain_jobs.c:
 * a worker thread that claims the oldest queued job, runs the retrain on
 * --retrain-data and records the result); it registers itself with
 * hamf__alerts_set_runner, and hamf__server_start / _stop start and stop
 * it through that hook. Without a runner, jobs wait in the store.
 */
#include "server/alerts.h"

#include "server/api.h"
#include "store/loop.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct hamf__alerts_config g_cfg = {NULL, 600, 0, 0, 0.01};
static char *g_data;    /* owned copy of g_cfg.retrain_data */

void hamf__alerts_config_init(struct hamf__alerts_config *c)
{
    c->retrain_data = NULL;
    c->cooldown_s = 600;
    c->window = 0;
    c->min_gain = 0;
    c->tolerance = 0.01;
}

hamf_status hamf__alerts_configure(const struct hamf__alerts_config *c)
{
    char *d = NULL;
    if (c->retrain_data && !(d = hamf__strdup(c->retrain_data)))
        return hamf__err(HAMF_ERR_NOMEM, "alerts: out of memory");
    pthread_mutex_lock(&g_mu);
    hamf__free(g_data);
    g_data = d;
    g_cfg = *c;
    g_cfg.retrain_data = g_data;
    pthread_mutex_unlock(&g_mu);
    return HAMF_OK;
}

hamf_status hamf__alerts_config_get(struct hamf__alerts_config *c, char **data)
{
    pthread_mutex_lock(&g_mu);
    *c = g_cfg;
    *data = g_cfg.retrain_data ? hamf__strdup(g_cfg.retrain_data) : NULL;
    bool oom = g_cfg.retrain_data && !*data;
    pthread_mutex_unlock(&g_mu);
    c->retrain_data = *data;
    return oom ? hamf__err(HAMF_ERR_NOMEM, "alerts: out of memory") : HAMF_OK;
}

/* ---- the job runner hook ---- */

static const struct hamf__job_runner *g_runner; /* registered by src/app/ */

void hamf__alerts_set_runner(const struct hamf__job_runner *r)
{
    pthread_mutex_lock(&g_mu);
    g_runner = r;
    pthread_mutex_unlock(&g_mu);
}

static const struct hamf__job_runner *runner(void)
{
    pthread_mutex_lock(&g_mu);
    const struct hamf__job_runner *r = g_runner;
    pthread_mutex_unlock(&g_mu);
    return r;
}

hamf_status hamf__alerts_start(const char *db_url, const char *artifacts_dir)
{
    const struct hamf__job_runner *r = runner();
    return r ? r->start(db_url, artifacts_dir) : HAMF_OK;
}

void hamf__alerts_stop(void)
{
    const struct hamf__job_runner *r = runner();
    if (r) r->stop();
}

/* ---- routes ---- */

static const char *jstr(const struct hamf__jval *obj, const char *key)
{
    const struct hamf__jval *v = hamf__jobj_get(obj, key);
    return v && v->type == HAMF__JSTR ? v->str : NULL;
}

static bool retrain_alert(const char *name)
{
    return name && (!strcmp(name, "ModelAccuracyLow") || !strcmp(name, "ModelF1Low") ||
                    !strcmp(name, "FeatureDriftHigh") || !strcmp(name, "ServingFeatureDriftHigh"));
}

#define MAX_MODELS 32

void hamf__alerts_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    struct hamf__server_ctx *sc = ctx;
    struct hamf__jdoc *doc = NULL;
    hamf_store *s = NULL;
    hamf_status st = hamf__json_parse(req->body, req->body_len, 16, &doc);
    if (st) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "alerts: %s", hamf_last_error());
        return;
    }
    const struct hamf__jval *root = hamf__jdoc_root(doc), *alerts = hamf__jobj_get(root, "alerts");
    const char *version = jstr(root, "version"), *group = jstr(root, "groupKey");
    if (root->type != HAMF__JOBJ || !version || strcmp(version, "4") || !group || !alerts ||
        alerts->type != HAMF__JARR) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE",
                        "alerts: expected an Alertmanager webhook notification (version \"4\", groupKey, alerts[])");
        goto done;
    }
    /* per model: the earliest startsAt and the alert names asking for it */
    struct {
        const char *model, *starts, *alertname;
    } want[MAX_MODELS];
    size_t nw = 0, ignored = 0;
    for (size_t i = 0; i < alerts->len; i++) {
        const struct hamf__jval *a = &alerts->items[i], *labels = hamf__jobj_get(a, "labels");
        const char *status = jstr(a, "status"), *name = jstr(labels, "alertname"), *model = jstr(labels, "model");
        const char *starts = jstr(a, "startsAt");
        if (!status || strcmp(status, "firing") || !retrain_alert(name) || !model || !*model) {
            ignored++;
            continue;
        }
        if (!starts) starts = "";
        size_t k = 0;
        while (k < nw && strcmp(want[k].model, model)) k++;
        if (k == nw) {
            if (nw == MAX_MODELS) {
                ignored++;
                continue;
            }
            want[nw].model = model;
            want[nw].starts = starts;
            want[nw].alertname = name;
            nw++;
        } else if (strcmp(starts, want[k].starts) < 0) {
            want[k].starts = starts;
            want[k].alertname = name;
        }
    }
    if ((st = hamf__loop_open(sc->db_url, &s))) {
        hamf__api_status_error(resp, st);
        goto done;
    }
    pthread_mutex_lock(&g_mu);
    double cooldown = g_cfg.cooldown_s;
    pthread_mutex_unlock(&g_mu);
    struct hamf__buf *b = &resp->body;
    st = hamf__buf_printf(b, "{\"ignored\":%zu,\"models\":[", ignored);
    bool any = false;
    for (size_t k = 0; k < nw && !st; k++) {
        struct hamf__buf key;
        hamf__buf_init(&key, 0);
        st = hamf__buf_printf(&key, "%s|%s|%s", group, want[k].model, want[k].starts);
        bool created = false;
        int64_t id = 0;
        char why[256] = "";
        if (!st)
            st = hamf__loop_job_enqueue(s, want[k].model, key.data, want[k].alertname, cooldown, &created, &id, why,
                                        sizeof why);
        hamf__buf_free(&key);
        if (st) break;
        any |= created;
        st = hamf__buf_printf(b, "%s{\"model\":", k ? "," : "");
        if (!st) st = hamf__json_str(b, want[k].model, (size_t)-1);
        if (!st) st = hamf__buf_printf(b, ",\"job_id\":%lld,\"enqueued\":%s,\"reason\":", (long long)id,
                                       created ? "true" : "false");
        if (!st) st = hamf__json_str(b, why, (size_t)-1);
        if (!st) st = hamf__buf_putc(b, '}');
    }
    if (!st) st = hamf__buf_puts(b, "]}");
    if (st) {
        hamf__buf_reset(b);
        hamf__api_status_error(resp, st);
        goto done;
    }
    const struct hamf__job_runner *jr = runner();
    if (any && jr) jr->wake();
done:
    hamf_store_close(s);
    hamf__jdoc_free(doc);
}

void hamf__jobs_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    (void)req;
    struct hamf__server_ctx *sc = ctx;
    hamf_store *s = NULL;
    hamf_status st = hamf__loop_open(sc->db_url, &s);
    if (!st) st = hamf__loop_jobs_json(s, &resp->body);
    hamf_store_close(s);
    if (st) {
        hamf__buf_reset(&resp->body);
        hamf__api_status_error(resp, st);
    }
}
