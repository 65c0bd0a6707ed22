/*
 * exporter.c — model-quality metrics for Prometheus. Owns the sample set,
 * the exposition-format renderer (text format 0.0.4) and the background
 * refresher that keeps a ready-rendered copy in memory, so a scrape never
 * waits on the store or on a remote tracking server.
 *
 * When a refresh fails, the last good samples stay published and
 * hamf_exporter_up drops to 0; when a newer run takes over an experiment,
 * its label set simply replaces the old one (each render starts from an
 * empty text), so no stale series linger.
 */
#include "exporter.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

/* ---- samples ---- */

void hamf__samples_init(struct hamf__samples *s) { memset(s, 0, sizeof *s); }

void hamf__samples_free(struct hamf__samples *s)
{
    for (size_t i = 0; i < s->nq; i++) {
        hamf__free(s->q[i].experiment);
        hamf__free(s->q[i].run_id);
        hamf__free(s->q[i].model);
        hamf__free(s->q[i].model_version);
    }
    for (size_t i = 0; i < s->nd; i++) {
        hamf__free(s->d[i].model);
        hamf__free(s->d[i].feature);
    }
    hamf__free(s->q);
    hamf__free(s->d);
    memset(s, 0, sizeof *s);
}

static hamf_status grow(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap) return HAMF_OK;
    size_t nc = *cap ? *cap * 2 : 8;
    void *np = hamf__realloc(*p, nc * elem);
    if (!np) return hamf__err(HAMF_ERR_NOMEM, "exporter: out of memory");
    *p = np;
    *cap = nc;
    return HAMF_OK;
}

hamf_status hamf__samples_add_quality(struct hamf__samples *s, const char *experiment,
                                      const char *run_id, const char *model,
                                      const char *model_version, double end_time_s,
                                      struct hamf__qsample **out)
{
    if (grow((void **)&s->q, &s->capq, s->nq, sizeof *s->q)) return HAMF_ERR_NOMEM;
    struct hamf__qsample *q = &s->q[s->nq];
    memset(q, 0, sizeof *q);
    q->experiment = hamf__strdup(experiment ? experiment : "");
    q->run_id = hamf__strdup(run_id ? run_id : "");
    q->model = hamf__strdup(model ? model : "");
    q->model_version = hamf__strdup(model_version ? model_version : "");
    if (!q->experiment || !q->run_id || !q->model || !q->model_version) {
        hamf__free(q->experiment);
        hamf__free(q->run_id);
        hamf__free(q->model);
        hamf__free(q->model_version);
        return hamf__err(HAMF_ERR_NOMEM, "exporter: out of memory");
    }
    q->end_time_s = end_time_s;
    s->nq++;
    if (out) *out = q;
    return HAMF_OK;
}

hamf_status hamf__samples_add_drift(struct hamf__samples *s, const char *model,
                                    const char *feature, double value)
{
    if (grow((void **)&s->d, &s->capd, s->nd, sizeof *s->d)) return HAMF_ERR_NOMEM;
    struct hamf__dsample *d = &s->d[s->nd];
    d->model = hamf__strdup(model ? model : "");
    d->feature = feature ? hamf__strdup(feature) : NULL;
    if (!d->model || (feature && !d->feature)) {
        hamf__free(d->model);
        hamf__free(d->feature);
        return hamf__err(HAMF_ERR_NOMEM, "exporter: out of memory");
    }
    d->value = value;
    s->nd++;
    return HAMF_OK;
}

/* ---- exposition format ---- */

/* Label values escape backslash, double quote and line feed. */
static hamf_status put_label(struct hamf__buf *b, const char *name, const char *v, bool first)
{
    hamf_status st;
    if (!first && (st = hamf__buf_putc(b, ','))) return st;
    if ((st = hamf__buf_printf(b, "%s=\"", name))) return st;
    for (const char *p = v; *p; p++) {
        const char *esc = NULL;
        if (*p == '\\') esc = "\\\\";
        else if (*p == '"') esc = "\\\"";
        else if (*p == '\n') esc = "\\n";
        st = esc ? hamf__buf_puts(b, esc) : hamf__buf_putc(b, *p);
        if (st) return st;
    }
    return hamf__buf_putc(b, '"');
}

static hamf_status put_value(struct hamf__buf *b, double v)
{
    char tmp[32];
    if (isnan(v)) return hamf__buf_puts(b, " NaN\n");
    if (isinf(v)) return hamf__buf_puts(b, v > 0 ? " +Inf\n" : " -Inf\n");
    /* whole numbers (timestamps, counts) in plain digits, not 1.79562766e+09 */
    if (v == floor(v) && fabs(v) < 1e15) return hamf__buf_printf(b, " %.0f\n", v);
    hamf__fmt_double(tmp, v);
    return hamf__buf_printf(b, " %s\n", tmp);
}

static hamf_status put_header(struct hamf__buf *b, const char *name, const char *type,
                              const char *help)
{
    return hamf__buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static hamf_status put_quality_labels(struct hamf__buf *b, const struct hamf__qsample *q)
{
    hamf_status st;
    if ((st = hamf__buf_putc(b, '{'))) return st;
    if ((st = put_label(b, "experiment", q->experiment, true))) return st;
    if ((st = put_label(b, "run_id", q->run_id, false))) return st;
    if ((st = put_label(b, "model", q->model, false))) return st;
    if ((st = put_label(b, "model_version", q->model_version, false))) return st;
    return hamf__buf_putc(b, '}');
}

static const struct {
    const char *name, *help;
} quality_families[HAMF__Q_COUNT] = {
    [HAMF__Q_ACCURACY] = {"mlflow_model_accuracy",
                          "Accuracy in percent of the latest finished run per experiment."},
    [HAMF__Q_F1] = {"mlflow_model_f1_score",
                    "F1 score in [0,1] of the latest finished run per experiment."},
    [HAMF__Q_PRECISION] = {"mlflow_model_precision",
                           "Precision in [0,1] of the latest finished run per experiment."},
    [HAMF__Q_RECALL] = {"mlflow_model_recall",
                        "Recall in [0,1] of the latest finished run per experiment."},
};

hamf_status hamf__exporter_format(const struct hamf__samples *s, bool up, double last_success_s,
                                  uint64_t errors_total, struct hamf__buf *out)
{
    hamf_status st = HAMF_OK;
    for (int k = 0; k < HAMF__Q_COUNT; k++) {
        bool any = false;
        for (size_t i = 0; i < s->nq; i++) any |= s->q[i].has[k];
        if (!any) continue;
        if ((st = put_header(out, quality_families[k].name, "gauge", quality_families[k].help)))
            return st;
        for (size_t i = 0; i < s->nq; i++) {
            if (!s->q[i].has[k]) continue;
            if ((st = hamf__buf_puts(out, quality_families[k].name))) return st;
            if ((st = put_quality_labels(out, &s->q[i]))) return st;
            if ((st = put_value(out, s->q[i].value[k]))) return st;
        }
    }
    bool any_time = false;
    for (size_t i = 0; i < s->nq; i++) any_time |= s->q[i].end_time_s >= 0;
    if (any_time) {
        if ((st = put_header(out, "mlflow_model_last_run_timestamp_seconds", "gauge",
                             "End time (start time while running) of the latest finished run, "
                             "in seconds since the epoch.")))
            return st;
        for (size_t i = 0; i < s->nq; i++) {
            if (s->q[i].end_time_s < 0) continue;
            if ((st = hamf__buf_puts(out, "mlflow_model_last_run_timestamp_seconds"))) return st;
            if ((st = put_quality_labels(out, &s->q[i]))) return st;
            if ((st = put_value(out, s->q[i].end_time_s))) return st;
        }
    }
    bool any_psi = false, any_live = false;
    for (size_t i = 0; i < s->nd; i++) {
        if (s->d[i].feature) any_psi = true;
        else any_live = true;
    }
    if (any_psi) {
        if ((st = put_header(out, "hamf_feature_drift_psi", "gauge",
                             "Population stability index of a feature on the newest data "
                             "against the model's training data.")))
            return st;
        for (size_t i = 0; i < s->nd; i++) {
            if (!s->d[i].feature) continue;
            if ((st = hamf__buf_puts(out, "hamf_feature_drift_psi{"))) return st;
            if ((st = put_label(out, "model", s->d[i].model, true))) return st;
            if ((st = put_label(out, "feature", s->d[i].feature, false))) return st;
            if ((st = hamf__buf_putc(out, '}'))) return st;
            if ((st = put_value(out, s->d[i].value))) return st;
        }
    }
    if (any_live) {
        if ((st = put_header(out, "hamf_model_live_accuracy", "gauge",
                             "Accuracy in percent of the champion model on the newest "
                             "labelled data.")))
            return st;
        for (size_t i = 0; i < s->nd; i++) {
            if (s->d[i].feature) continue;
            if ((st = hamf__buf_puts(out, "hamf_model_live_accuracy{"))) return st;
            if ((st = put_label(out, "model", s->d[i].model, true))) return st;
            if ((st = hamf__buf_putc(out, '}'))) return st;
            if ((st = put_value(out, s->d[i].value))) return st;
        }
    }
    if ((st = put_header(out, "hamf_exporter_up", "gauge",
                         "1 when the last refresh from the tracking source succeeded.")))
        return st;
    if ((st = hamf__buf_printf(out, "hamf_exporter_up %d\n", up ? 1 : 0))) return st;
    if ((st = put_header(out, "hamf_exporter_last_success_timestamp_seconds", "gauge",
                         "Time of the last successful refresh, in seconds since the epoch.")))
        return st;
    if ((st = hamf__buf_puts(out, "hamf_exporter_last_success_timestamp_seconds"))) return st;
    if ((st = put_value(out, last_success_s))) return st;
    if ((st = put_header(out, "hamf_exporter_errors_total", "counter",
                         "Refreshes from the tracking source that failed.")))
        return st;
    return hamf__buf_printf(out, "hamf_exporter_errors_total %llu\n",
                            (unsigned long long)errors_total);
}

/* ---- the refreshing exporter ---- */

struct hamf__exporter {
    hamf__exporter_source_fn fn;
    void *ctx;
    int64_t interval_ms;

    pthread_mutex_t lock;  /* guards text, stop */
    pthread_cond_t wake;
    char *text;            /* current exposition; owned */
    size_t text_len;
    bool stop;
    pthread_t thread;
    bool thread_started;

    /* touched only by the refreshing thread (or create, before it starts) */
    struct hamf__samples last; /* last good samples */
    double last_success_s;
    uint64_t errors_total;
};

void hamf__exporter_refresh(struct hamf__exporter *e)
{
    struct hamf__samples fresh;
    hamf__samples_init(&fresh);
    bool up = e->fn(e->ctx, &fresh) == HAMF_OK;
    if (up) {
        hamf__samples_free(&e->last);
        e->last = fresh;
        e->last_success_s = (double)hamf__now_ms() / 1000.0;
    } else {
        hamf__samples_free(&fresh);
        e->errors_total++;
    }
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    if (hamf__exporter_format(&e->last, up, e->last_success_s, e->errors_total, &b) != HAMF_OK) {
        hamf__buf_free(&b);
        return; /* out of memory: keep serving the previous text */
    }
    size_t len;
    char *text = hamf__buf_detach(&b, &len);
    if (!text) return;
    pthread_mutex_lock(&e->lock);
    char *old = e->text;
    e->text = text;
    e->text_len = len;
    pthread_mutex_unlock(&e->lock);
    hamf__free(old);
}

static void *refresher(void *arg)
{
    struct hamf__exporter *e = arg;
    pthread_mutex_lock(&e->lock);
    while (!e->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = (int64_t)until.tv_nsec + (e->interval_ms % 1000) * 1000000;
        until.tv_sec += (time_t)(e->interval_ms / 1000 + ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        while (!e->stop && pthread_cond_timedwait(&e->wake, &e->lock, &until) != ETIMEDOUT) {
        }
        if (e->stop) break;
        pthread_mutex_unlock(&e->lock);
        hamf__exporter_refresh(e);
        pthread_mutex_lock(&e->lock);
    }
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

hamf_status hamf__exporter_create(hamf__exporter_source_fn fn, void *ctx, int64_t interval_ms,
                                  struct hamf__exporter **out)
{
    if (!fn || interval_ms <= 0) return hamf__err(HAMF_ERR_MISUSE, "exporter: bad arguments");
    struct hamf__exporter *e = hamf__calloc(1, sizeof *e);
    if (!e) return hamf__err(HAMF_ERR_NOMEM, "exporter: out of memory");
    e->fn = fn;
    e->ctx = ctx;
    e->interval_ms = interval_ms;
    e->last_success_s = 0;
    hamf__samples_init(&e->last);
    pthread_mutex_init(&e->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->wake, &ca);
    pthread_condattr_destroy(&ca);
    hamf__exporter_refresh(e);
    if (!e->text) {
        hamf__exporter_destroy(e);
        return hamf__err(HAMF_ERR_NOMEM, "exporter: out of memory rendering metrics");
    }
    if (pthread_create(&e->thread, NULL, refresher, e) != 0) {
        hamf__exporter_destroy(e);
        return hamf__err(HAMF_ERR_INTERNAL, "exporter: cannot start refresh thread");
    }
    e->thread_started = true;
    *out = e;
    return HAMF_OK;
}

void hamf__exporter_destroy(struct hamf__exporter *e)
{
    if (!e) return;
    if (e->thread_started) {
        pthread_mutex_lock(&e->lock);
        e->stop = true;
        pthread_cond_signal(&e->wake);
        pthread_mutex_unlock(&e->lock);
        pthread_join(e->thread, NULL);
    }
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->wake);
    hamf__samples_free(&e->last);
    hamf__free(e->text);
    hamf__free(e);
}

hamf_status hamf__exporter_render(struct hamf__exporter *e, char **text, size_t *len)
{
    pthread_mutex_lock(&e->lock);
    char *copy = hamf__malloc(e->text_len + 1);
    if (copy) {
        memcpy(copy, e->text, e->text_len + 1);
        *len = e->text_len;
    }
    pthread_mutex_unlock(&e->lock);
    if (!copy) return hamf__err(HAMF_ERR_NOMEM, "exporter: out of memory");
    *text = copy;
    return HAMF_OK;
}

hamf_status hamf__exporter_render_into(struct hamf__exporter *e, struct hamf__buf *out)
{
    pthread_mutex_lock(&e->lock);
    hamf_status st = hamf__buf_append(out, e->text, e->text_len);
    pthread_mutex_unlock(&e->lock);
    return st;
}
