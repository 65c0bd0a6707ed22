/*
 * alerts.c — alert-triggered retraining in `hamf server`.
 *
 * POST /api/hamf/v1/alerts: an Alertmanager webhook notification (JSON,
 * "version": "4": receiver, status, alerts[] {status, labels, annotations,
 * startsAt, endsAt, generatorURL, fingerprint}, groupLabels, commonLabels,
 * commonAnnotations, externalURL, groupKey, truncatedAlerts). Each firing
 * ModelAccuracyLow, ModelF1Low or FeatureDriftHigh alert with a `model`
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
 * The worker thread claims the oldest queued job (state kept in the store,
 * so jobs survive a restart), runs hamf__retrain_run on --retrain-data
 * (a CSV file, or the newest *.csv in a directory) and records the result.
 */
#include "server/alerts.h"

#include "server/api.h"
#include "track/loop.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static struct hamf__alerts_config g_cfg = {NULL, 600, 0, 0, 0.01};
static char *g_data;    /* owned copy of g_cfg.retrain_data */
static char *g_db;      /* the server's store URL */
static char *g_art;     /* the server's --artifacts-dir (retrain runs' artifacts) */
static bool g_running, g_stop;
static pthread_t g_thread;

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

/* The data file for a job: the path itself, or the newest *.csv in it. */
static hamf_status resolve_data(const char *path, char *out, size_t cap)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return hamf__err(HAMF_ERR_IO, "retrain: --retrain-data %s: cannot stat it", path);
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(out, cap, "%s", path);
        return HAMF_OK;
    }
    DIR *d = opendir(path);
    if (!d) return hamf__err(HAMF_ERR_IO, "retrain: --retrain-data %s: cannot open the directory", path);
    struct dirent *e;
    struct timespec best = {0, 0};
    bool found = false;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".csv") || e->d_name[0] == '.') continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        if (stat(full, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        if (!found || sb.st_mtim.tv_sec > best.tv_sec ||
            (sb.st_mtim.tv_sec == best.tv_sec && sb.st_mtim.tv_nsec > best.tv_nsec) ||
            (sb.st_mtim.tv_sec == best.tv_sec && sb.st_mtim.tv_nsec == best.tv_nsec && strcmp(full, out) > 0)) {
            best = sb.st_mtim;
            snprintf(out, cap, "%s", full);
            found = true;
        }
    }
    closedir(d);
    if (!found) return hamf__err(HAMF_ERR_NOTFOUND, "retrain: --retrain-data %s holds no .csv file", path);
    return HAMF_OK;
}

static void run_one(int64_t id, const char *model)
{
    struct hamf__retrain_opts o;
    hamf__retrain_opts_init(&o);
    char data[4096] = "", trigger[64];
    snprintf(trigger, sizeof trigger, "alert job %lld", (long long)id);
    o.trigger = trigger;
    o.artifacts_dir = g_art;
    pthread_mutex_lock(&g_mu);
    char *cfg_data = g_cfg.retrain_data ? hamf__strdup(g_cfg.retrain_data) : NULL;
    o.window = g_cfg.window;
    o.min_gain = g_cfg.min_gain;
    o.tolerance = g_cfg.tolerance;
    pthread_mutex_unlock(&g_mu);
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    struct hamf__retrain_result r;
    hamf_status st;
    if (!cfg_data)
        st = hamf__err(HAMF_ERR_MISUSE, "retrain: the server has no --retrain-data (new labelled data) to retrain on");
    else
        st = resolve_data(cfg_data, data, sizeof data);
    if (!st) st = hamf__retrain_run(g_db, model, data, &o, &r);
    if (!st) {
        st = hamf__retrain_result_json(&r, &b);
        /* add the data file used */
        if (!st && b.len) {
            b.data[--b.len] = '\0';
            st = hamf__buf_puts(&b, ",\"data\":");
            if (!st) st = hamf__json_str(&b, data, (size_t)-1);
            if (!st) st = hamf__buf_putc(&b, '}');
        }
    }
    bool ok = st == HAMF_OK;
    if (!ok) {
        hamf__buf_reset(&b);
        hamf__buf_puts(&b, "{\"error\":");
        hamf__json_str(&b, hamf_last_error(), (size_t)-1);
        hamf__buf_putc(&b, '}');
    }
    hamf_store *s = NULL;
    if (!hamf__loop_open(g_db, &s)) {
        if (hamf__loop_job_finish(s, id, ok, b.data ? b.data : "{}"))
            fprintf(stderr, "hamf server: retrain job %lld: recording the result failed: %s\n", (long long)id,
                    hamf_last_error());
        hamf_store_close(s);
    }
    fprintf(stderr, "hamf server: retrain job %lld (%s) %s: %s\n", (long long)id, model, ok ? "succeeded" : "failed",
            b.data ? b.data : "");
    hamf__buf_free(&b);
    hamf__free(cfg_data);
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&g_mu);
        bool stop = g_stop;
        pthread_mutex_unlock(&g_mu);
        if (stop) break;
        hamf_store *s = NULL;
        bool found = false;
        int64_t id = 0;
        char model[256] = "";
        if (!hamf__loop_open(g_db, &s)) {
            if (hamf__loop_job_claim(s, &id, model, sizeof model, &found)) found = false;
            hamf_store_close(s);
        }
        if (found) {
            run_one(id, model);
            continue;
        }
        pthread_mutex_lock(&g_mu);
        if (!g_stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 500 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&g_cv, &g_mu, &ts);
        }
        pthread_mutex_unlock(&g_mu);
    }
    return NULL;
}

hamf_status hamf__alerts_start(const char *db_url, const char *artifacts_dir)
{
    if (g_running) return hamf__err(HAMF_ERR_MISUSE, "alerts: worker already running");
    hamf_store *s = NULL;
    hamf_status st = hamf__loop_open(db_url, &s);
    if (st) return st;
    st = hamf__loop_job_requeue_running(s);
    hamf_store_close(s);
    if (st) return st;
    g_db = hamf__strdup(db_url);
    g_art = artifacts_dir ? hamf__strdup(artifacts_dir) : NULL;
    if (!g_db || (artifacts_dir && !g_art)) {
        hamf__free(g_db);
        hamf__free(g_art);
        g_db = g_art = NULL;
        return hamf__err(HAMF_ERR_NOMEM, "alerts: out of memory");
    }
    g_stop = false;
    if (pthread_create(&g_thread, NULL, worker, NULL) != 0) {
        hamf__free(g_db);
        hamf__free(g_art);
        g_db = g_art = NULL;
        return hamf__err(HAMF_ERR_INTERNAL, "alerts: cannot start the retrain worker thread");
    }
    g_running = true;
    return HAMF_OK;
}

void hamf__alerts_stop(void)
{
    if (!g_running) return;
    pthread_mutex_lock(&g_mu);
    g_stop = true;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    pthread_join(g_thread, NULL);
    g_running = false;
    hamf__free(g_db);
    hamf__free(g_art);
    g_db = g_art = NULL;
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
                    !strcmp(name, "FeatureDriftHigh"));
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
    if (any) {
        pthread_mutex_lock(&g_mu);
        pthread_cond_broadcast(&g_cv);
        pthread_mutex_unlock(&g_mu);
    }
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
