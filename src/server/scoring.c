/*
 * scoring.c — `hamf serve`: MLflow's scoring protocol over the HTTP layer.
 *
 *   POST /invocations  application/json (dataframe_split, dataframe_records,
 *                      instances, inputs) or text/csv with a header row
 *                      -> {"predictions": [...]}
 *   GET  /ping, /health -> 200;  GET /version -> the bare hamf version
 *   GET  /metrics       Prometheus text: requests, errors, latency and score
 *                       histograms, positive rate, live quality from feedback
 *   POST /feedback      {"request_id": "...", "labels": [0, 1, ...]}: the true
 *                       labels of a scored request's rows, in order
 *
 * A row scores the same here as in a file under `hamf predict`: a CSV body
 * goes through the same reader and type inference; a JSON body becomes a
 * frame directly, each cell typed and valued as the reader would read the
 * CSV text of it (data/csv_json.c; bodies that path does not take, and
 * their errors, go through that CSV text). Then the stored pipeline,
 * compiled once per model version (data/pipeline.h), and the compact
 * scorer: vector steps over blocks of rows, in the same tree order as one
 * row, so the sums are the same bits (ml/predict.c). Errors use MLflow's shape: 400
 * {"error_code": "BAD_REQUEST" | "INVALID_PARAMETER_VALUE", "message"}
 * naming the field, column or row; 415 for other content types. Every
 * answer from a handler carries X-Hamf-Model-Version; each scoring answer
 * also X-Hamf-Request-Id, the key for /feedback.
 *
 * Live quality: the predicted labels of the last FB_REQS scored requests
 * (up to FB_MAX_ROWS rows each) are remembered with the version that
 * scored them; fed-back labels join them into that version's window of its
 * last FB_WINDOW labelled rows. The window of the version now answering
 * gives accuracy (percent), F1, precision and recall, exported under the
 * names the shipped ModelAccuracyLow / ModelF1Low rules read
 * (mlflow_model_accuracy, mlflow_model_f1_score, ...) with
 * source="serving". Per version, because after the alias moves the old
 * version's mistakes must not be reported as the new one's (nor keep a
 * quality alert firing against it); a rollback brings its window back.
 */
#include "hamf.h"
#include "data/csv.h"
#include "data/pipeline.h"
#include "server/api.h"
#include "server/http.h"
#include "store/loop.h"
#include "track/loop.h"
#include "util/num.h"
#include "track/predlog.h"
#include "util/util.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define VERSION_HEADER "X-Hamf-Model-Version"
#define REQUEST_ID_HEADER "X-Hamf-Request-Id"
#define FB_REQS 1024       /* scored requests remembered for feedback */
#define FB_MAX_ROWS 10000  /* rows remembered per request */
#define FB_WINDOW 1000     /* labelled rows in the live-quality window */
#define PX_KEEP 16         /* compiled pipelines kept per model version */

static const double lat_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define NLAT (sizeof lat_bounds / sizeof lat_bounds[0])
#define NSCORE 10 /* score buckets 0.1, 0.2, ... 1.0 */

/* Counters of one model version (kept for /metrics after a switch). */
struct vstats {
    char version[64];
    atomic_ullong requests, errors, rows, positives;
    atomic_ullong lat_count[NLAT + 1], score_count[NSCORE];
    _Atomic double lat_sum, score_sum;
    /* live quality, under the server's fb_lock: this version's labelled rows */
    uint8_t win_pred[FB_WINDOW], win_true[FB_WINDOW];
    size_t win_n, win_pos;
    unsigned long long feedback_rows;
};

struct fb_req {
    uint64_t id;
    uint8_t *pred;     /* predicted labels [owned] */
    size_t n;
    bool used;         /* feedback already given */
    struct vstats *st; /* the version that scored them */
};
#define MAX_VERSIONS 16

/* A loaded model version: reference-counted, so requests in flight finish
 * on the version they started with while a new one takes over. */
struct served {
    hamf_predictor *pred;       /* the compact scoring layout [owned] */
    const hamf_ensemble *model; /* borrowed from pred */
    hamf_pipeline *pipeline; /* parsed once; NULL when the model has none */
    /* its expressions parsed once too: idle execs, one per request in flight
     * at most (an exec serves one thread at a time) */
    pthread_mutex_t px_lock;
    struct hamf__pipeline_exec *px[PX_KEEP];
    size_t npx;
    /* serving drift: the last rows' bins vs the training bins recorded with
     * this registry version (NULL for files and versions without them) */
    struct hamf__drift_window *drift;
    pthread_mutex_t drift_lock;
    char version[64];
    struct vstats *st;
    atomic_int refs;
};

struct hamf_scoring_server {
    char model_name[128];
    pthread_mutex_t cur_lock; /* guards cur (the pointer, not the model) */
    struct served *cur;
    struct vstats stats[MAX_VERSIONS];
    size_t nstats; /* under cur_lock */
    atomic_ullong next_id;
    /* feedback: a ring of scored requests; the windows are in stats[] */
    pthread_mutex_t fb_lock;
    struct fb_req fb[FB_REQS];
    hamf_serve_output output;
    struct hamf__predlog *log; /* --log-dir; NULL = no prediction log */
    size_t drift_rows;         /* serving drift window */
    /* following a registry alias: a thread polls the reference */
    char *ref, *db_url;
    double poll_s;
    int64_t cur_version; /* registry version in use (poll thread only) */
    pthread_t poller;
    bool polling;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    bool stopping;
    struct hamf__http_route routes[7];
    struct hamf__http_server *http;
};

static void served_free(struct served *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->npx; i++) hamf__pipeline_exec_free(m->px[i]);
    pthread_mutex_destroy(&m->px_lock);
    hamf__drift_window_free(m->drift);
    pthread_mutex_destroy(&m->drift_lock);
    hamf_pipeline_free(m->pipeline);
    hamf_predictor_close(m->pred);
    hamf__free(m);
}

static struct served *served_acquire(struct hamf_scoring_server *s)
{
    pthread_mutex_lock(&s->cur_lock);
    struct served *m = s->cur;
    atomic_fetch_add(&m->refs, 1);
    pthread_mutex_unlock(&s->cur_lock);
    return m;
}

static void served_release(struct served *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1) served_free(m);
}

/* The counters for `version` (created on first use; past MAX_VERSIONS the
 * last slot is shared). Under cur_lock. */
static struct vstats *stats_for(struct hamf_scoring_server *s, const char *version)
{
    for (size_t i = 0; i < s->nstats; i++)
        if (!strcmp(s->stats[i].version, version)) return &s->stats[i];
    if (s->nstats == MAX_VERSIONS) return &s->stats[MAX_VERSIONS - 1];
    struct vstats *v = &s->stats[s->nstats++];
    snprintf(v->version, sizeof v->version, "%s", version);
    return v;
}

/* Make `m` the version new requests use (takes the caller's reference). */
static void served_install(struct hamf_scoring_server *s, struct served *m)
{
    pthread_mutex_lock(&s->cur_lock);
    m->st = stats_for(s, m->version);
    struct served *old = s->cur;
    s->cur = m;
    pthread_mutex_unlock(&s->cur_lock);
    served_release(old);
}

/* The part both constructors share: with the predictor in place (st is
 * its status), parse the model's pipeline, set the version shown in
 * headers and hand out the first reference; on failure free m. */
static hamf_status served_finish(struct served *m, hamf_status st, const char *version, struct served **out)
{
    if (!st) m->model = hamf_predictor_ensemble(m->pred);
    if (!st && hamf_ensemble_pipeline(m->model))
        st = hamf_pipeline_parse(hamf_ensemble_pipeline(m->model), "model pipeline", &m->pipeline);
    if (!st && m->pipeline && !hamf__pipeline_compile(m->pipeline, &m->px[0])) m->npx = 1; /* ready before the first request */
    if (st) {
        served_free(m);
        return st;
    }
    snprintf(m->version, sizeof m->version, "%s", version);
    for (char *p = m->version; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '_'; /* a header value */
    atomic_init(&m->refs, 1);
    *out = m;
    return HAMF_OK;
}

/* A loaded ensemble into a new handle with one reference (takes e). */
static hamf_status served_wrap(hamf_ensemble *e, const char *version, struct served **out)
{
    struct served *m = hamf__calloc(1, sizeof *m);
    if (!m) {
        hamf_ensemble_free(e);
        return hamf__err(HAMF_ERR_NOMEM, "serve: out of memory");
    }
    pthread_mutex_init(&m->px_lock, NULL);
    pthread_mutex_init(&m->drift_lock, NULL);
    hamf_status st = hamf_predictor_from_ensemble(e, &m->pred); /* takes e */
    return served_finish(m, st, version, out);
}

/* Load a model file into a new handle with one reference. */
static hamf_status served_load_file(const char *path, const char *version, struct served **out)
{
    struct served *m = hamf__calloc(1, sizeof *m);
    if (!m) return hamf__err(HAMF_ERR_NOMEM, "serve: out of memory");
    pthread_mutex_init(&m->px_lock, NULL);
    pthread_mutex_init(&m->drift_lock, NULL);
    hamf_status st = hamf_predictor_open(path, &m->pred);
    return served_finish(m, st, version, out);
}

/* Serving drift for a registry version: its recorded training bin counts
 * (none: no drift window, said once on stderr). */
static void served_attach_drift(struct served *m, const char *db_url, const char *name, int64_t version, size_t rows)
{
    hamf_store *st = NULL;
    char *bins = NULL;
    hamf_status rc = hamf__loop_open(db_url, &st);
    if (!rc) rc = hamf__loop_version_bins(st, name, version, &bins);
    if (!rc) rc = hamf__drift_window_new(m->model, bins, rows, &m->drift);
    if (rc)
        fprintf(stderr, "hamf serve: no serving drift for %s version %lld: %s\n", name, (long long)version,
                hamf_last_error());
    hamf__free(bins);
    if (st) hamf_store_close(st);
}

void hamf_serve_options_init(hamf_serve_options *o)
{
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 5001;
    o->threads = 4;
    o->output = HAMF_SERVE_PROBABILITY;
    o->max_body = 64u << 20;
    o->drift_window = 10000;
}

static void set_version(const struct served *m, struct hamf__http_resp *resp)
{
    resp->xheader_name[0] = VERSION_HEADER;
    memcpy(resp->xheader_value[0], m->version, sizeof resp->xheader_value[0]);
}

/* The version header of the version in use, for answers that score nothing. */
static void set_current_version(struct hamf_scoring_server *s, struct hamf__http_resp *resp)
{
    struct served *m = served_acquire(s);
    set_version(m, resp);
    served_release(m);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void atomic_add_double(_Atomic double *a, double v)
{
    double old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, old + v, memory_order_relaxed, memory_order_relaxed)) {
    }
}

/* Remember a scored request's labels, and the version that scored it, for
 * /feedback (the ring drops the oldest). Takes ownership of pred. */
static void fb_remember(struct hamf_scoring_server *s, uint64_t id, uint8_t *pred, size_t n, struct vstats *st)
{
    pthread_mutex_lock(&s->fb_lock);
    struct fb_req *r = &s->fb[id % FB_REQS];
    hamf__free(r->pred);
    r->id = id;
    r->pred = pred;
    r->n = n;
    r->used = false;
    r->st = st;
    pthread_mutex_unlock(&s->fb_lock);
}

static void text(struct hamf__http_resp *resp, const char *t)
{
    resp->content_type = "text/plain; charset=utf-8";
    hamf__buf_reset(&resp->body);
    (void)hamf__buf_puts(&resp->body, t);
}

static void h_ping(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    set_current_version(ctx, resp);
    text(resp, "\n");
}

static void h_version(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    set_current_version(ctx, resp);
    text(resp, hamf_version());
}

/* The model's pipeline on a request's frame, through an idle compiled
 * exec of this version (or a new one); plain apply if compiling fails. */
static hamf_status served_pipeline(struct served *m, hamf_frame *fr)
{
    struct hamf__pipeline_exec *x = NULL;
    pthread_mutex_lock(&m->px_lock);
    if (m->npx) x = m->px[--m->npx];
    pthread_mutex_unlock(&m->px_lock);
    if (!x && hamf__pipeline_compile(m->pipeline, &x)) return hamf_pipeline_apply(m->pipeline, fr);
    hamf_status st = hamf__pipeline_run(m->pipeline, x, fr);
    pthread_mutex_lock(&m->px_lock);
    if (m->npx < PX_KEEP) {
        m->px[m->npx++] = x;
        x = NULL;
    }
    pthread_mutex_unlock(&m->px_lock);
    hamf__pipeline_exec_free(x);
    return st;
}

/* ---- JSON bodies -> CSV text ---- */

struct conv {
    struct hamf__buf csv;
    char err[512];
    const char *code; /* MLflow error code when err is set */
};

static bool conv_fail(struct conv *c, const char *code, const char *fmt, ...) HAMF_PRINTF(3, 4);
static bool conv_fail(struct conv *c, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    c->code = code;
    return false;
}

static bool put_quoted(struct hamf__buf *b, const char *s, size_t n)
{
    if (hamf__buf_putc(b, '"')) return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' && hamf__buf_putc(b, '"')) return false;
        if (hamf__buf_putc(b, s[i])) return false;
    }
    return hamf__buf_putc(b, '"') == HAMF_OK;
}

/* One cell; `row` and `col` only name the place in an error. */
static bool put_cell(struct conv *c, const struct hamf__jval *v, size_t row, const char *col)
{
    struct hamf__buf *b = &c->csv;
    switch (v ? v->type : HAMF__JNULL) {
    case HAMF__JNULL: return true;
    case HAMF__JBOOL: return hamf__buf_puts(b, v->b ? "true" : "false") == HAMF_OK;
    case HAMF__JNUM:
        if (v->is_int) return hamf__buf_printf(b, "%lld", (long long)v->i) == HAMF_OK;
        return hamf__json_num(b, v->num) == HAMF_OK;
    case HAMF__JSTR:
        if (memchr(v->str, '\0', v->len))
            return conv_fail(c, "BAD_REQUEST", "row %zu, column '%s': a NUL character in a string", row, col);
        return put_quoted(b, v->str, v->len);
    default:
        return conv_fail(c, "BAD_REQUEST", "row %zu, column '%s': expected a number, string, boolean or null, got %s",
                         row, col, v->type == HAMF__JARR ? "an array" : "an object");
    }
}

static bool put_header(struct conv *c, const char *const *cols, size_t ncol)
{
    for (size_t j = 0; j < ncol; j++) {
        if (j && hamf__buf_putc(&c->csv, ',')) return false;
        if (!put_quoted(&c->csv, cols[j], strlen(cols[j]))) return false;
    }
    return hamf__buf_putc(&c->csv, '\n') == HAMF_OK;
}

static bool column_names(struct conv *c, const struct hamf__jval *arr, const char *field, const char ***out)
{
    const char **cols = hamf__calloc(arr->len + 1, sizeof *cols);
    if (!cols) return conv_fail(c, "BAD_REQUEST", "out of memory");
    for (size_t j = 0; j < arr->len; j++) {
        if (arr->items[j].type != HAMF__JSTR) {
            hamf__free(cols);
            return conv_fail(c, "BAD_REQUEST", "%s.columns[%zu] must be a string", field, j);
        }
        cols[j] = arr->items[j].str;
    }
    *out = cols;
    return true;
}

/* {"columns": [...], "data": [[...], ...]} */
static bool conv_split(struct conv *c, const struct hamf__jval *v, const char *field)
{
    if (v->type != HAMF__JOBJ) return conv_fail(c, "BAD_REQUEST", "%s must be an object with columns and data", field);
    const struct hamf__jval *cv = hamf__jobj_get(v, "columns"), *dv = hamf__jobj_get(v, "data");
    if (!cv || cv->type != HAMF__JARR)
        return conv_fail(c, "BAD_REQUEST", "%s.columns is missing or not an array of column names", field);
    if (!dv || dv->type != HAMF__JARR) return conv_fail(c, "BAD_REQUEST", "%s.data is missing or not an array of rows", field);
    const char **cols = NULL;
    if (!column_names(c, cv, field, &cols)) return false;
    bool ok = put_header(c, cols, cv->len);
    for (size_t i = 0; ok && i < dv->len; i++) {
        const struct hamf__jval *r = &dv->items[i];
        if (r->type != HAMF__JARR || r->len != cv->len) {
            ok = conv_fail(c, "BAD_REQUEST", "%s.data row %zu: expected an array of %zu values, got %s%zu", field, i,
                           cv->len, r->type == HAMF__JARR ? "" : "a non-array, ",
                           r->type == HAMF__JARR ? r->len : (size_t)0);
            break;
        }
        for (size_t j = 0; ok && j < r->len; j++) {
            if (j && hamf__buf_putc(&c->csv, ',')) ok = false;
            if (ok) ok = put_cell(c, &r->items[j], i, cols[j]);
        }
        if (ok && hamf__buf_putc(&c->csv, '\n')) ok = false;
    }
    hamf__free(cols);
    if (!ok && !c->code) conv_fail(c, "BAD_REQUEST", "out of memory");
    return ok;
}

/* [{"col": value, ...}, ...]: the columns are the union of the keys in the
 * order first seen; a key a row lacks is null there. */
static bool conv_records(struct conv *c, const struct hamf__jval *v, const char *field)
{
    size_t cap = 16, ncol = 0;
    const char **cols = hamf__calloc(cap, sizeof *cols);
    if (!cols) return conv_fail(c, "BAD_REQUEST", "out of memory");
    bool ok = true;
    for (size_t i = 0; ok && i < v->len; i++) {
        const struct hamf__jval *r = &v->items[i];
        if (r->type != HAMF__JOBJ) {
            ok = conv_fail(c, "BAD_REQUEST", "%s[%zu] must be an object of column: value", field, i);
            break;
        }
        for (size_t k = 0; k < r->len; k++) {
            const char *key = r->members[k].key;
            size_t j = 0;
            while (j < ncol && strcmp(cols[j], key)) j++;
            if (j < ncol) continue;
            if (ncol == cap) {
                const char **nc = hamf__realloc(cols, 2 * cap * sizeof *cols);
                if (!nc) { ok = conv_fail(c, "BAD_REQUEST", "out of memory"); break; }
                cols = nc;
                cap *= 2;
            }
            cols[ncol++] = key;
        }
    }
    if (ok && ncol == 0 && v->len) ok = conv_fail(c, "BAD_REQUEST", "%s: the rows have no columns", field);
    if (ok) ok = put_header(c, cols, ncol);
    for (size_t i = 0; ok && i < v->len; i++) {
        for (size_t j = 0; ok && j < ncol; j++) {
            if (j && hamf__buf_putc(&c->csv, ',')) ok = false;
            if (ok) ok = put_cell(c, hamf__jobj_get(&v->items[i], cols[j]), i, cols[j]);
        }
        if (ok && hamf__buf_putc(&c->csv, '\n')) ok = false;
    }
    hamf__free(cols);
    if (!ok && !c->code) conv_fail(c, "BAD_REQUEST", "out of memory");
    return ok;
}

/* {"col": [v0, v1, ...], ...} (or scalars: one row) */
static bool conv_columns(struct conv *c, const struct hamf__jval *v, const char *field)
{
    size_t n = 0;
    for (size_t j = 0; j < v->len; j++) {
        const struct hamf__jval *cv = &v->members[j].val;
        size_t len = cv->type == HAMF__JARR ? cv->len : 1;
        if (j && len != n)
            return conv_fail(c, "BAD_REQUEST", "%s: column '%s' has %zu values, column '%s' has %zu", field,
                             v->members[j].key, len, v->members[0].key, n);
        n = len;
    }
    const char **cols = hamf__calloc(v->len + 1, sizeof *cols);
    if (!cols) return conv_fail(c, "BAD_REQUEST", "out of memory");
    for (size_t j = 0; j < v->len; j++) cols[j] = v->members[j].key;
    bool ok = put_header(c, cols, v->len);
    for (size_t i = 0; ok && i < n; i++) {
        for (size_t j = 0; ok && j < v->len; j++) {
            const struct hamf__jval *cv = &v->members[j].val;
            if (j && hamf__buf_putc(&c->csv, ',')) ok = false;
            if (ok) ok = put_cell(c, cv->type == HAMF__JARR ? &cv->items[i] : cv, i, cols[j]);
        }
        if (ok && hamf__buf_putc(&c->csv, '\n')) ok = false;
    }
    hamf__free(cols);
    if (!ok && !c->code) conv_fail(c, "BAD_REQUEST", "out of memory");
    return ok;
}

/* ---- JSON bodies -> a frame directly (data/csv_json.c) ---- */

struct jcells {
    const struct hamf__jval *v;    /* the input field's value */
    const struct hamf__jval *rows; /* split: its data */
    const char **cols;          /* records: the column names */
};

static const struct hamf__jval *cell_split(void *ctx, size_t r, size_t c)
{
    const struct jcells *j = ctx;
    return &j->rows->items[r].items[c];
}

static const struct hamf__jval *cell_records(void *ctx, size_t r, size_t c)
{
    const struct jcells *j = ctx;
    return hamf__jobj_get(&j->v->items[r], j->cols[c]);
}

static const struct hamf__jval *cell_columns(void *ctx, size_t r, size_t c)
{
    const struct jcells *j = ctx;
    const struct hamf__jval *cv = &j->v->members[c].val;
    return cv->type == HAMF__JARR ? &cv->items[r] : cv;
}

/* The frame of a well-formed body without CSV text; *fr stays NULL when
 * the body needs the CSV route (its checks and messages, or cells the
 * direct path does not take). False only when out of memory. */
static bool json_direct(const struct hamf__jval *v, const char *field, hamf_frame **fr)
{
    *fr = NULL;
    struct jcells j = {v, NULL, NULL};
    size_t ncol = 0, nrows = 0;
    const char **names = NULL;
    size_t *lens = NULL;
    const struct hamf__jval *(*cell)(void *, size_t, size_t) = NULL;
    bool ok = true;
    if (!strcmp(field, "dataframe_split")) {
        const struct hamf__jval *cv = v->type == HAMF__JOBJ ? hamf__jobj_get(v, "columns") : NULL,
                                *dv = v->type == HAMF__JOBJ ? hamf__jobj_get(v, "data") : NULL;
        if (!cv || cv->type != HAMF__JARR || !dv || dv->type != HAMF__JARR) return true;
        ncol = cv->len;
        nrows = dv->len;
        j.rows = dv;
        for (size_t i = 0; i < nrows; i++)
            if (dv->items[i].type != HAMF__JARR || dv->items[i].len != ncol) return true;
        names = hamf__calloc(ncol + 1, sizeof *names);
        lens = hamf__calloc(ncol + 1, sizeof *lens);
        if (!names || !lens) { ok = false; goto done; }
        for (size_t c = 0; c < ncol; c++) {
            if (cv->items[c].type != HAMF__JSTR) goto done;
            names[c] = cv->items[c].str;
            lens[c] = cv->items[c].len;
        }
        cell = cell_split;
    } else if (v->type == HAMF__JARR && v->len > 0 && v->items[0].type == HAMF__JOBJ) {
        /* records: the columns are the union of the keys in the order first seen */
        size_t cap = 16;
        nrows = v->len;
        names = hamf__calloc(cap, sizeof *names);
        lens = hamf__calloc(cap, sizeof *lens);
        if (!names || !lens) { ok = false; goto done; }
        for (size_t i = 0; i < nrows; i++) {
            const struct hamf__jval *r = &v->items[i];
            if (r->type != HAMF__JOBJ) goto done;
            for (size_t k = 0; k < r->len; k++) {
                size_t c = 0;
                while (c < ncol && strcmp(names[c], r->members[k].key)) c++;
                if (c < ncol) continue;
                if (ncol == cap) {
                    const char **nn = hamf__realloc(names, 2 * cap * sizeof *nn);
                    if (nn) names = nn;
                    size_t *nl = nn ? hamf__realloc(lens, 2 * cap * sizeof *nl) : NULL;
                    if (nl) lens = nl;
                    if (!nn || !nl) { ok = false; goto done; }
                    cap *= 2;
                }
                names[ncol] = r->members[k].key;
                lens[ncol++] = r->members[k].key_len;
            }
        }
        j.cols = names;
        cell = cell_records;
    } else if (v->type == HAMF__JOBJ && strcmp(field, "dataframe_records")) {
        ncol = v->len;
        for (size_t c = 0; c < ncol; c++) {
            const struct hamf__jval *cv = &v->members[c].val;
            size_t len = cv->type == HAMF__JARR ? cv->len : 1;
            if (c && len != nrows) return true;
            nrows = len;
        }
        names = hamf__calloc(ncol + 1, sizeof *names);
        lens = hamf__calloc(ncol + 1, sizeof *lens);
        if (!names || !lens) { ok = false; goto done; }
        for (size_t c = 0; c < ncol; c++) {
            names[c] = v->members[c].key;
            lens[c] = v->members[c].key_len;
        }
        cell = cell_columns;
    } else {
        return true;
    }
    if (hamf__csv_frame_from_json(names, lens, ncol, nrows, cell, &j, fr)) ok = false;
done:
    hamf__free(names);
    hamf__free(lens);
    return ok;
}

/* The request's frame from a JSON body: directly when `direct` and the
 * body allows it, else through CSV text (c->csv) that the caller reads.
 * False with c->err set on a malformed body. */
static bool conv_json(struct conv *c, const char *body, size_t len, bool direct, hamf_frame **fr)
{
    *fr = NULL;
    struct hamf__jdoc *doc = NULL;
    if (hamf__json_parse(body, len, HAMF__JSON_MAX_DEPTH, &doc))
        return conv_fail(c, "BAD_REQUEST", "invalid JSON body: %s", hamf_last_error());
    const struct hamf__jval *root = hamf__jdoc_root(doc);
    static const char *const fields[] = {"dataframe_split", "dataframe_records", "instances", "inputs"};
    const struct hamf__jval *v = NULL;
    const char *field = NULL;
    size_t nfound = 0;
    if (root->type == HAMF__JOBJ)
        for (size_t k = 0; k < 4; k++) {
            const struct hamf__jval *x = hamf__jobj_get(root, fields[k]);
            if (x) { v = x; field = fields[k]; nfound++; }
        }
    bool ok;
    if (nfound != 1) {
        ok = conv_fail(c, "BAD_REQUEST",
                       "The input must be a JSON object with exactly one of the input fields "
                       "'dataframe_split', 'dataframe_records', 'instances' or 'inputs'; got %s",
                       root->type != HAMF__JOBJ ? "a non-object" : nfound ? "several" : "none");
    } else if (direct && !json_direct(v, field, fr)) {
        ok = conv_fail(c, "BAD_REQUEST", "out of memory");
    } else if (*fr) {
        ok = true;
    } else if (!strcmp(field, "dataframe_split")) {
        ok = conv_split(c, v, field);
    } else if (v->type == HAMF__JARR && (v->len == 0 || v->items[0].type == HAMF__JOBJ)) {
        ok = conv_records(c, v, field);
    } else if (!strcmp(field, "dataframe_records")) {
        ok = conv_fail(c, "BAD_REQUEST", "dataframe_records must be an array of objects (column: value)");
    } else if (v->type == HAMF__JOBJ) {
        ok = conv_columns(c, v, field);
    } else {
        ok = conv_fail(c, "BAD_REQUEST",
                       "%s must be a list of objects (column: value) or an object of columns; "
                       "this model needs named columns",
                       field);
    }
    hamf__jdoc_free(doc);
    return ok;
}

/* ---- scoring ---- */

/* A probability as JSON: the shortest text that reads back exactly
 * (util/num.h; hamf__json_num's printf search is ~20x slower). */
static bool put_num(struct hamf__buf *b, double v)
{
    if (!isfinite(v)) return hamf__buf_puts(b, "null") == HAMF_OK;
    char t[32];
    int n = hamf__num_fmt_f64(t, v);
    return hamf__buf_append(b, t, (size_t)n) == HAMF_OK;
}

static bool media_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    while (*ct == ' ') ct++;
    if (strncasecmp(ct, type, n)) return false;
    ct += n;
    while (*ct == ' ') ct++;
    return *ct == '\0' || *ct == ';';
}

/* The frame's columns as the model needs them: a numeric feature given only
 * as nulls (typed string by inference) becomes a NaN column; any other
 * string in a numeric feature is a type error naming column and row. */
static bool check_types(const hamf_ensemble *m, hamf_frame *fr, struct hamf__http_resp *resp)
{
    size_t nf = hamf_ensemble_nfeatures(m), n = hamf_frame_nrows(fr);
    struct hamf__buf miss;
    hamf__buf_init(&miss, 4096);
    size_t nmiss = 0;
    for (size_t f = 0; f < nf; f++) {
        const char *name = hamf_ensemble_feature_name(m, f);
        size_t col;
        if (hamf_frame_find(fr, name, &col)) {
            (void)hamf__buf_printf(&miss, "%s'%s'", nmiss++ ? ", " : "", name);
            continue;
        }
        if (hamf_ensemble_feature_is_categorical(m, f) || hamf_frame_col_type(fr, col) != HAMF_DTYPE_STRING) continue;
        const int32_t *codes = hamf_frame_codes(fr, col);
        size_t bad = 0, firstval = n;
        for (; bad < n; bad++) {
            if (codes[bad] < 0) continue;
            if (firstval == n) firstval = bad;
            const char *t = hamf_frame_dict_value(fr, col, (size_t)codes[bad]);
            char *end = NULL;
            (void)strtod(t, &end);
            if (end == t || *end) break; /* not a number: the culprit */
        }
        if (bad == n) bad = firstval;
        if (bad < n) {
            hamf__api_error(resp, 400, "BAD_REQUEST",
                            "column '%s' must be numeric: row %zu has the string '%.64s'", name, bad,
                            hamf_frame_dict_value(fr, col, (size_t)codes[bad]));
            hamf__buf_free(&miss);
            return false;
        }
        double *nan = hamf__malloc((n + 1) * sizeof *nan);
        char *keep = hamf__strdup(name);
        bool ok = nan && keep;
        for (size_t i = 0; ok && i < n; i++) nan[i] = NAN;
        if (ok) ok = !hamf_frame_drop(fr, keep) && !hamf_frame_add_f64(fr, keep, nan, NULL, n);
        hamf__free(nan);
        hamf__free(keep);
        if (!ok) {
            hamf__api_error(resp, 500, "INTERNAL_ERROR", "%s", hamf_last_error());
            hamf__buf_free(&miss);
            return false;
        }
    }
    if (nmiss) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "the input lacks %zu column%s the model needs: %s",
                        nmiss, nmiss == 1 ? "" : "s", miss.data);
        hamf__buf_free(&miss);
        return false;
    }
    hamf__buf_free(&miss);
    return true;
}

static void score_request(struct hamf_scoring_server *s, struct served *m, const struct hamf__http_req *req,
                          struct hamf__http_resp *resp)
{
    hamf_serve_output out = s->output;
    const char *q = hamf__http_query(req, "output");
    if (q) {
        if (!strcmp(q, "probability")) out = HAMF_SERVE_PROBABILITY;
        else if (!strcmp(q, "label")) out = HAMF_SERVE_LABEL;
        else if (!strcmp(q, "both")) out = HAMF_SERVE_BOTH;
        else {
            hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE",
                            "query parameter output must be probability, label or both, got '%.64s'", q);
            return;
        }
    }
    const char *ct = req->content_type;
    bool json = ct && media_is(ct, "application/json"), csv = ct && media_is(ct, "text/csv");
    if (!json && !csv) {
        hamf__api_error(resp, 415, "BAD_REQUEST",
                        "content type must be application/json or text/csv, got '%.100s'", ct ? ct : "(none)");
        return;
    }
    struct conv c = {.code = NULL};
    hamf__buf_init(&c.csv, 0);
    hamf_frame *fr = NULL;
    double *proba = NULL, *values = NULL, *colv = NULL;
    const char **cats = NULL;
    hamf_csv_options o;
    hamf_csv_options_init(&o);
    o.threads = 1;
    if (json) {
        /* the prediction log takes the rows as CSV text: with a log, JSON
         * bodies keep the CSV route (the text is moved to the log) */
        if (!conv_json(&c, req->body, req->body_len, !s->log, &fr)) {
            hamf__api_error(resp, 400, c.code, "%s", c.err);
            goto done;
        }
        if (!fr && hamf_csv_read_mem(c.csv.data ? c.csv.data : "", c.csv.len, "request", &o, &fr)) {
            hamf__api_error(resp, 400, "BAD_REQUEST", "%s", hamf_last_error());
            goto done;
        }
    } else if (hamf_csv_read_mem(req->body, req->body_len, "request body", &o, &fr)) {
        hamf__api_error(resp, 400, "BAD_REQUEST", "%s", hamf_last_error());
        goto done;
    }
    if (m->pipeline && hamf_frame_nrows(fr) > 0 && served_pipeline(m, fr)) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "the model's pipeline failed on the input: %s",
                        hamf_last_error());
        goto done;
    }
    size_t n = hamf_frame_nrows(fr);
    if (n > 0) {
        if (!check_types(m->model, fr, resp)) goto done;
        /* the model's features, row-major, for the compact scorer */
        size_t nf = hamf_predictor_nfeatures(m->pred);
        proba = hamf__malloc(n * sizeof *proba);
        values = hamf__calloc(n * nf + 1, sizeof *values);
        cats = hamf__calloc(n * nf + 1, sizeof *cats);
        colv = hamf__malloc((n + 1) * sizeof *colv);
        if (!proba || !values || !cats || !colv) {
            hamf__api_error(resp, 500, "INTERNAL_ERROR", "out of memory");
            goto done;
        }
        for (size_t f = 0; f < nf; f++) {
            size_t col = 0;
            (void)hamf_frame_find(fr, hamf_predictor_feature_name(m->pred, f), &col); /* checked above */
            if (hamf_predictor_feature_is_categorical(m->pred, f)) {
                if (hamf_frame_col_type(fr, col) == HAMF_DTYPE_STRING) {
                    const int32_t *codes = hamf_frame_codes(fr, col);
                    for (size_t i = 0; i < n; i++)
                        cats[i * nf + f] = codes[i] < 0 ? NULL : hamf_frame_dict_value(fr, col, (size_t)codes[i]);
                } else {
                    hamf__api_error(resp, 400, "BAD_REQUEST", "column '%s' must be a category (string)",
                                    hamf_predictor_feature_name(m->pred, f));
                    goto done;
                }
            } else {
                if (hamf_frame_get_f64(fr, col, colv)) {
                    hamf__api_error(resp, 400, "BAD_REQUEST", "%s", hamf_last_error());
                    goto done;
                }
                for (size_t i = 0; i < n; i++) values[i * nf + f] = colv[i];
            }
        }
        if (hamf_predictor_score_batch(m->pred, n, values, cats, proba)) {
            hamf__api_error(resp, 400, "BAD_REQUEST", "%s", hamf_last_error());
            goto done;
        }
    }
    hamf__buf_reset(&resp->body);
    struct hamf__buf *b = &resp->body;
    bool ok = !hamf__buf_reserve(b, 24 + n * (out == HAMF_SERVE_BOTH ? 48 : 24)) &&
              !hamf__buf_puts(b, "{\"predictions\": [");
    for (size_t i = 0; ok && i < n; i++) {
        if (i) ok = !hamf__buf_puts(b, ", ");
        int label = proba[i] > 0.5;
        if (out == HAMF_SERVE_PROBABILITY) ok = ok && put_num(b, proba[i]);
        else if (out == HAMF_SERVE_LABEL) ok = ok && !hamf__buf_putc(b, label ? '1' : '0');
        else
            ok = ok && !hamf__buf_puts(b, "{\"probability\": ") && put_num(b, proba[i]) &&
                 !hamf__buf_printf(b, ", \"label\": %d}", label);
    }
    if (ok) ok = !hamf__buf_puts(b, "]}");
    if (!ok) {
        hamf__api_error(resp, 500, "INTERNAL_ERROR", "out of memory");
        goto done;
    }
    resp->status = 200;
    resp->content_type = "application/json";
    /* the scores' distribution and a request id for feedback */
    size_t npos = 0;
    double ssum = 0;
    for (size_t i = 0; i < n; i++) {
        npos += proba[i] > 0.5;
        ssum += proba[i];
        int k = proba[i] >= 1 ? NSCORE - 1 : proba[i] > 0 ? (int)(proba[i] * NSCORE) : 0;
        if (k > 0 && proba[i] <= (double)k / NSCORE) k--; /* buckets are le= */
        atomic_fetch_add_explicit(&m->st->score_count[k], 1, memory_order_relaxed);
    }
    atomic_add_double(&m->st->score_sum, ssum);
    atomic_fetch_add_explicit(&m->st->rows, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->st->positives, npos, memory_order_relaxed);
    uint64_t id = atomic_fetch_add_explicit(&s->next_id, 1, memory_order_relaxed) + 1;
    resp->xheader_name[1] = REQUEST_ID_HEADER;
    snprintf(resp->xheader_value[1], sizeof resp->xheader_value[1], "%llu", (unsigned long long)id);
    if (n > 0 && n <= FB_MAX_ROWS) {
        uint8_t *pl = hamf__malloc(n);
        if (pl) {
            for (size_t i = 0; i < n; i++) pl[i] = proba[i] > 0.5;
            fb_remember(s, id, pl, n, m->st);
        }
    }
    if (n > 0 && m->drift) {
        pthread_mutex_lock(&m->drift_lock);
        hamf__drift_window_add(m->drift, n, values, cats);
        pthread_mutex_unlock(&m->drift_lock);
    }
    if (n > 0 && s->log) {
        /* the request's rows as CSV text, handed to the log's writer thread:
         * a JSON body's conversion is moved, a CSV body copied */
        size_t tl = 0;
        char *text = NULL;
        if (json) {
            text = hamf__buf_detach(&c.csv, &tl);
        } else if ((text = hamf__malloc(req->body_len + 1))) {
            memcpy(text, req->body, req->body_len);
            tl = req->body_len;
        }
        if (text) hamf__predlog_rows(s->log, id, s->model_name, m->version, text, tl, proba, n);
    }
done:
    hamf__free(proba);
    hamf__free(values);
    hamf__free(colv);
    hamf__free(cats);
    hamf_frame_free(fr);
    hamf__buf_free(&c.csv);
}

static void h_invocations(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    struct hamf_scoring_server *s = ctx;
    double t0 = now_s();
    struct served *m = served_acquire(s);
    set_version(m, resp);
    score_request(s, m, req, resp);
    double dt = now_s() - t0;
    struct vstats *v = m->st;
    atomic_fetch_add_explicit(&v->requests, 1, memory_order_relaxed);
    if (resp->status != 200) atomic_fetch_add_explicit(&v->errors, 1, memory_order_relaxed);
    size_t k = 0;
    while (k < NLAT && dt > lat_bounds[k]) k++;
    atomic_fetch_add_explicit(&v->lat_count[k], 1, memory_order_relaxed);
    atomic_add_double(&v->lat_sum, dt);
    served_release(m);
}

/* {"request_id": "17", "labels": [0, 1, ...]} — one true label per row of
 * that request, in order. */
static void h_feedback(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    struct hamf_scoring_server *s = ctx;
    set_current_version(s, resp);
    struct hamf__jdoc *doc = NULL;
    if (hamf__json_parse(req->body, req->body_len, HAMF__JSON_MAX_DEPTH, &doc)) {
        hamf__api_error(resp, 400, "BAD_REQUEST", "invalid JSON body: %s", hamf_last_error());
        return;
    }
    const struct hamf__jval *root = hamf__jdoc_root(doc);
    const struct hamf__jval *idv = hamf__jobj_get(root, "request_id"), *lv = hamf__jobj_get(root, "labels");
    int64_t id = 0;
    if (!idv || !hamf__jval_to_i64(idv, &id) || id <= 0) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE",
                        "request_id must be the X-Hamf-Request-Id of a scored request");
        goto done;
    }
    if (!lv || lv->type != HAMF__JARR) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "labels must be an array of 0/1, one per row");
        goto done;
    }
    uint8_t stack[64];
    uint8_t *lab = lv->len <= sizeof stack ? stack : hamf__malloc(lv->len);
    if (!lab) {
        hamf__api_error(resp, 500, "INTERNAL_ERROR", "out of memory");
        goto done;
    }
    for (size_t i = 0; i < lv->len; i++) {
        int64_t y = -1;
        const struct hamf__jval *e = &lv->items[i];
        if (e->type == HAMF__JBOOL) y = e->b;
        else if (e->type == HAMF__JNUM && e->is_int) y = e->i;
        if (y != 0 && y != 1) {
            hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "labels[%zu] must be 0 or 1", i);
            if (lab != stack) hamf__free(lab);
            goto done;
        }
        lab[i] = (uint8_t)y;
    }
    pthread_mutex_lock(&s->fb_lock);
    struct fb_req *r = &s->fb[(uint64_t)id % FB_REQS];
    if ((r->id != (uint64_t)id || !r->pred) && s->log && (uint64_t)id <= atomic_load(&s->next_id)) {
        /* too old for the live window (or from before a restart), but ids
         * only grow, so it may have been answered: the labels go to the
         * prediction log, where only a matching logged row joins them */
        pthread_mutex_unlock(&s->fb_lock);
        hamf__predlog_labels(s->log, (uint64_t)id, lab, lv->len);
        hamf__buf_reset(&resp->body);
        (void)hamf__buf_printf(&resp->body, "{\"request_id\": \"%lld\", \"rows\": %zu, \"live\": false}",
                               (long long)id, lv->len);
    } else if (r->id != (uint64_t)id || !r->pred) {
        pthread_mutex_unlock(&s->fb_lock);
        hamf__api_error(resp, 404, "RESOURCE_DOES_NOT_EXIST",
                        "request %lld is unknown or too old (the last %d requests of up to %d rows are kept)",
                        (long long)id, FB_REQS, FB_MAX_ROWS);
    } else if (r->used) {
        pthread_mutex_unlock(&s->fb_lock);
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "request %lld already has feedback", (long long)id);
    } else if (r->n != lv->len) {
        size_t want = r->n;
        pthread_mutex_unlock(&s->fb_lock);
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "request %lld scored %zu rows, got %zu labels",
                        (long long)id, want, lv->len);
    } else {
        r->used = true;
        struct vstats *v = r->st;
        for (size_t i = 0; i < r->n; i++) {
            v->win_pred[v->win_pos] = r->pred[i];
            v->win_true[v->win_pos] = lab[i];
            v->win_pos = (v->win_pos + 1) % FB_WINDOW;
            if (v->win_n < FB_WINDOW) v->win_n++;
        }
        v->feedback_rows += r->n;
        pthread_mutex_unlock(&s->fb_lock);
        hamf__predlog_labels(s->log, (uint64_t)id, lab, lv->len);
        hamf__buf_reset(&resp->body);
        (void)hamf__buf_printf(&resp->body, "{\"request_id\": \"%lld\", \"rows\": %zu, \"live\": true}", (long long)id,
                               lv->len);
    }
    if (lab != stack) hamf__free(lab);
done:
    hamf__jdoc_free(doc);
}

static void put_labels(struct hamf__buf *b, const char *model, const char *version, const char *extra)
{
    (void)hamf__buf_putc(b, '{');
    const char *names[2] = {"model", "model_version"}, *vals[2] = {model, version};
    for (int k = 0; k < 2; k++) {
        (void)hamf__buf_printf(b, "%s%s=\"", k ? "," : "", names[k]);
        for (const char *p = vals[k]; *p; p++) {
            if (*p == '\\' || *p == '"') (void)hamf__buf_putc(b, '\\');
            (void)hamf__buf_putc(b, *p);
        }
        (void)hamf__buf_putc(b, '"');
    }
    if (extra) (void)hamf__buf_printf(b, ",%s", extra);
    (void)hamf__buf_putc(b, '}');
}

static void put_metric(struct hamf__buf *b, const char *model, const char *version, const char *name,
                       const char *extra, double v)
{
    (void)hamf__buf_puts(b, name);
    put_labels(b, model, version, extra);
    (void)hamf__buf_putc(b, ' ');
    if (isnan(v)) (void)hamf__buf_puts(b, "NaN");
    else (void)hamf__buf_printf(b, "%.17g", v);
    (void)hamf__buf_putc(b, '\n');
}

#define RD(x) ((double)atomic_load_explicit(&(x), memory_order_relaxed))

/* One counter family over every version served so far. */
static void put_family(struct hamf__buf *b, const struct hamf_scoring_server *s, size_t nv, const char *name,
                       const char *type, const char *help, int which)
{
    (void)hamf__buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    for (size_t i = 0; i < nv; i++) {
        const struct vstats *v = &s->stats[i];
        double x = which == 0   ? RD(v->requests)
                   : which == 1 ? RD(v->errors)
                   : which == 2 ? RD(v->rows)
                   : which == 3 ? RD(v->positives)
                                : (RD(v->rows) > 0 ? RD(v->positives) / RD(v->rows) : NAN);
        put_metric(b, s->model_name, v->version, name, NULL, x);
    }
}

static void h_metrics(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    struct hamf_scoring_server *s = ctx;
    struct served *cur = served_acquire(s);
    set_version(cur, resp);
    pthread_mutex_lock(&s->cur_lock);
    size_t nv = s->nstats;
    pthread_mutex_unlock(&s->cur_lock);
    struct hamf__buf *b = &resp->body;
    hamf__buf_reset(b);
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    const char *mn = s->model_name;
    (void)hamf__buf_puts(b, "# HELP hamf_serve_model_info The model version answering new requests (1).\n"
                            "# TYPE hamf_serve_model_info gauge\n");
    put_metric(b, mn, cur->version, "hamf_serve_model_info", NULL, 1);
    put_family(b, s, nv, "hamf_serve_requests_total", "counter", "Scoring requests (POST /invocations) answered.", 0);
    put_family(b, s, nv, "hamf_serve_errors_total", "counter", "Scoring requests answered with an error (4xx/5xx).", 1);
    put_family(b, s, nv, "hamf_serve_rows_total", "counter", "Rows scored.", 2);
    put_family(b, s, nv, "hamf_serve_positive_rows_total", "counter", "Rows scored as phishing (probability > 0.5).", 3);
    put_family(b, s, nv, "hamf_serve_positive_rate", "gauge", "Share of scored rows labelled phishing, in [0,1].", 4);
    char le[48];
    (void)hamf__buf_puts(b, "# HELP hamf_serve_request_duration_seconds Time to answer a scoring request.\n"
                            "# TYPE hamf_serve_request_duration_seconds histogram\n");
    for (size_t i = 0; i < nv; i++) {
        const struct vstats *v = &s->stats[i];
        double cum = 0;
        for (size_t k = 0; k <= NLAT; k++) {
            cum += RD(v->lat_count[k]);
            if (k < NLAT) snprintf(le, sizeof le, "le=\"%g\"", lat_bounds[k]);
            else snprintf(le, sizeof le, "le=\"+Inf\"");
            put_metric(b, mn, v->version, "hamf_serve_request_duration_seconds_bucket", le, cum);
        }
        put_metric(b, mn, v->version, "hamf_serve_request_duration_seconds_sum", NULL, atomic_load(&v->lat_sum));
        put_metric(b, mn, v->version, "hamf_serve_request_duration_seconds_count", NULL, cum);
    }
    (void)hamf__buf_puts(b, "# HELP hamf_serve_score Phishing probability of each scored row.\n"
                            "# TYPE hamf_serve_score histogram\n");
    for (size_t i = 0; i < nv; i++) {
        const struct vstats *v = &s->stats[i];
        double cum = 0;
        for (int k = 0; k < NSCORE; k++) {
            cum += RD(v->score_count[k]);
            snprintf(le, sizeof le, "le=\"%g\"", (k + 1) / (double)NSCORE);
            put_metric(b, mn, v->version, "hamf_serve_score_bucket", le, cum);
        }
        put_metric(b, mn, v->version, "hamf_serve_score_bucket", "le=\"+Inf\"", cum);
        put_metric(b, mn, v->version, "hamf_serve_score_sum", NULL, atomic_load(&v->score_sum));
        put_metric(b, mn, v->version, "hamf_serve_score_count", NULL, cum);
    }
    /* feedback counts per version; live quality from the window of the
     * version now answering (its own answers only) */
    const char *cv = cur->version;
    const struct vstats *cs = cur->st;
    unsigned long long fbr[MAX_VERSIONS];
    pthread_mutex_lock(&s->fb_lock);
    for (size_t i = 0; i < nv; i++) fbr[i] = s->stats[i].feedback_rows;
    size_t tp = 0, fp = 0, tn = 0, fn = 0;
    for (size_t i = 0; i < cs->win_n; i++) {
        int p = cs->win_pred[i], y = cs->win_true[i];
        tp += p && y;
        fp += p && !y;
        tn += !p && !y;
        fn += !p && y;
    }
    size_t wn = cs->win_n;
    pthread_mutex_unlock(&s->fb_lock);
    (void)hamf__buf_puts(b, "# HELP hamf_serve_feedback_rows_total Rows with a true label fed back.\n"
                            "# TYPE hamf_serve_feedback_rows_total counter\n");
    for (size_t i = 0; i < nv; i++)
        put_metric(b, mn, s->stats[i].version, "hamf_serve_feedback_rows_total", NULL, (double)fbr[i]);
    if (wn > 0) {
        double prec = tp + fp ? (double)tp / (double)(tp + fp) : 0, rec = tp + fn ? (double)tp / (double)(tp + fn) : 0;
        double f1 = prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
        const char *ex = "experiment=\"serving\",source=\"serving\"";
        (void)hamf__buf_printf(b, "# HELP hamf_serve_feedback_window_rows Labelled rows in the live-quality window (max %d).\n"
                                  "# TYPE hamf_serve_feedback_window_rows gauge\n", FB_WINDOW);
        put_metric(b, mn, cv, "hamf_serve_feedback_window_rows", NULL, (double)wn);
        (void)hamf__buf_puts(b, "# HELP mlflow_model_accuracy Accuracy in percent (source=serving: served rows with fed-back labels).\n"
                                "# TYPE mlflow_model_accuracy gauge\n");
        put_metric(b, mn, cv, "mlflow_model_accuracy", ex, 100.0 * (double)(tp + tn) / (double)wn);
        (void)hamf__buf_puts(b, "# HELP mlflow_model_f1_score F1 in [0,1] (source=serving: served rows with fed-back labels).\n"
                                "# TYPE mlflow_model_f1_score gauge\n");
        put_metric(b, mn, cv, "mlflow_model_f1_score", ex, f1);
        (void)hamf__buf_puts(b, "# HELP mlflow_model_precision Precision in [0,1] (source=serving).\n"
                                "# TYPE mlflow_model_precision gauge\n");
        put_metric(b, mn, cv, "mlflow_model_precision", ex, prec);
        (void)hamf__buf_puts(b, "# HELP mlflow_model_recall Recall in [0,1] (source=serving).\n"
                                "# TYPE mlflow_model_recall gauge\n");
        put_metric(b, mn, cv, "mlflow_model_recall", ex, rec);
    }
    if (cur->drift) {
        size_t nf = hamf_predictor_nfeatures(cur->pred);
        double *psi = hamf__malloc((nf + 1) * sizeof *psi);
        pthread_mutex_lock(&cur->drift_lock);
        size_t wr = hamf__drift_window_rows(cur->drift);
        if (psi && wr > 0) hamf__drift_window_psi(cur->drift, psi);
        pthread_mutex_unlock(&cur->drift_lock);
        (void)hamf__buf_printf(b, "# HELP hamf_serve_drift_window_rows Served rows in the serving-drift window (max %zu).\n"
                                  "# TYPE hamf_serve_drift_window_rows gauge\n", s->drift_rows);
        put_metric(b, mn, cv, "hamf_serve_drift_window_rows", NULL, (double)wr);
        if (psi && wr > 0) {
            (void)hamf__buf_puts(b, "# HELP hamf_feature_drift_psi Population stability index of a feature vs the "
                                    "model's training bins (source=serving: the served rows of the drift window).\n"
                                    "# TYPE hamf_feature_drift_psi gauge\n");
            struct hamf__buf ex;
            hamf__buf_init(&ex, 0);
            for (size_t f = 0; f < nf; f++) {
                hamf__buf_reset(&ex);
                (void)hamf__buf_puts(&ex, "feature=\"");
                for (const char *p = hamf_predictor_feature_name(cur->pred, f); *p; p++) {
                    if (*p == '\\' || *p == '"') (void)hamf__buf_putc(&ex, '\\');
                    if (*p == '\n') (void)hamf__buf_puts(&ex, "\\n");
                    else (void)hamf__buf_putc(&ex, *p);
                }
                (void)hamf__buf_puts(&ex, "\",source=\"serving\"");
                put_metric(b, mn, cv, "hamf_feature_drift_psi", ex.data, psi[f]);
            }
            hamf__buf_free(&ex);
        }
        hamf__free(psi);
    }
    if (s->log) {
        struct hamf__predlog_stats ls;
        hamf__predlog_get_stats(s->log, &ls);
        const struct { const char *name, *help; uint64_t v; } lc[] = {
            {"hamf_serve_log_rows_total", "Served rows written to the prediction log.", ls.rows},
            {"hamf_serve_log_labels_total", "Fed-back labels written to the prediction log.", ls.labels},
            {"hamf_serve_log_dropped_total", "Rows and labels not logged (queue full or a write error).", ls.dropped},
            {"hamf_serve_log_errors_total", "Prediction-log write, rename or format errors.", ls.errors},
        };
        for (size_t i = 0; i < sizeof lc / sizeof *lc; i++) {
            (void)hamf__buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", lc[i].name, lc[i].help, lc[i].name);
            put_metric(b, mn, cv, lc[i].name, NULL, (double)lc[i].v);
        }
    }
    served_release(cur);
}
#undef RD

static void router_error(int status, const char *message, struct hamf__http_resp *resp)
{
    hamf__api_error(resp, status, status == 404 ? "ENDPOINT_NOT_FOUND" : "BAD_REQUEST", "%s", message);
}

/* Follow models:/NAME@ALIAS: resolve the reference every poll_s seconds
 * (one or two indexed queries on a store connection kept open across polls
 * — on PostgreSQL a new connection and schema check per poll cost 14-17
 * statements and a backend start per replica per second; when a query on
 * the kept connection fails, the same poll retries once on a new one) and
 * load + install the version it names when it changed. Requests in flight
 * keep the handle they took. A failing registry is reported once, and again
 * when it recovers. */
static void *poll_main(void *arg)
{
    struct hamf_scoring_server *s = arg;
    hamf_store *store = NULL;
    bool failing = false;
    for (;;) {
        pthread_mutex_lock(&s->stop_lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        double t = (double)until.tv_nsec / 1e9 + s->poll_s;
        until.tv_sec += (time_t)t;
        until.tv_nsec = (long)((t - (double)(time_t)t) * 1e9);
        while (!s->stopping && pthread_cond_timedwait(&s->stop_cond, &s->stop_lock, &until) == 0) {
        }
        bool stop = s->stopping;
        pthread_mutex_unlock(&s->stop_lock);
        if (stop) break;
        struct hamf__loop_version v;
        char *file = NULL;
        bool kept = store != NULL;
        hamf_status st = kept ? HAMF_OK : hamf__model_ref_open(s->ref, s->db_url, &store);
        if (!st) st = hamf__model_ref_resolve_store(store, s->ref, &v, &file);
        hamf__free(file);
        file = NULL;
        if (st && kept) { /* the kept connection may have died (server restart, idle kill): once more on a new one */
            fprintf(stderr, "hamf serve: following %s: %s (reconnecting)\n", s->ref, hamf_last_error());
            hamf_store_close(store);
            store = NULL;
            st = hamf__model_ref_open(s->ref, s->db_url, &store);
            if (!st) st = hamf__model_ref_resolve_store(store, s->ref, &v, &file);
            hamf__free(file);
        }
        if (st) {
            if (!failing)
                fprintf(stderr, "hamf serve: following %s: %s (keeping version %lld; retrying every %g s)\n", s->ref,
                        hamf_last_error(), (long long)s->cur_version, s->poll_s);
            failing = true;
            hamf_store_close(store);
            store = NULL;
            continue;
        }
        if (failing) fprintf(stderr, "hamf serve: following %s again\n", s->ref);
        failing = false;
        if (v.version == s->cur_version) continue;
        hamf_ensemble *e = NULL;
        struct served *m = NULL;
        char ver[32];
        snprintf(ver, sizeof ver, "%lld", (long long)v.version);
        if ((st = hamf__loop_version_load(&v, &e)) || (st = served_wrap(e, ver, &m))) {
            fprintf(stderr, "hamf serve: loading %s version %lld: %s (keeping version %lld)\n", s->ref,
                    (long long)v.version, hamf_last_error(), (long long)s->cur_version);
            continue;
        }
        served_attach_drift(m, s->db_url, v.model_name, v.version, s->drift_rows);
        served_install(s, m);
        fprintf(stderr, "hamf serve: %s moved: now serving version %lld (was %lld)\n", s->ref, (long long)v.version,
                (long long)s->cur_version);
        s->cur_version = v.version;
    }
    hamf_store_close(store);
    return NULL;
}

/* Everything start made, after the HTTP server and poller are stopped:
 * the prediction log last (it flushes and finishes its files). */
static void serve_free(struct hamf_scoring_server *s)
{
    hamf__predlog_close(s->log);
    for (size_t i = 0; i < FB_REQS; i++) hamf__free(s->fb[i].pred);
    served_release(s->cur);
    pthread_mutex_destroy(&s->cur_lock);
    pthread_mutex_destroy(&s->fb_lock);
    pthread_mutex_destroy(&s->stop_lock);
    pthread_cond_destroy(&s->stop_cond);
    hamf__free(s->ref);
    hamf__free(s->db_url);
    hamf__free(s);
}

hamf_status hamf_serve_start(const char *model_path, const hamf_serve_options *opt, hamf_scoring_server **out)
{
    if (!model_path || !out) return hamf__err(HAMF_ERR_MISUSE, "serve: NULL argument");
    hamf_serve_options def;
    if (!opt) {
        hamf_serve_options_init(&def);
        opt = &def;
    }
    struct hamf_scoring_server *s = hamf__calloc(1, sizeof *s);
    if (!s) return hamf__err(HAMF_ERR_NOMEM, "serve: out of memory");
    pthread_mutex_init(&s->cur_lock, NULL);
    pthread_mutex_init(&s->fb_lock, NULL);
    pthread_mutex_init(&s->stop_lock, NULL);
    pthread_cond_init(&s->stop_cond, NULL);
    const char *base = strrchr(model_path, '/');
    base = base ? base + 1 : model_path;
    struct served *m = NULL;
    hamf_status st;
    bool is_ref = !strncmp(model_path, "models:/", 8) || !strncmp(model_path, "runs:/", 6);
    if (is_ref) {
        hamf_ensemble *e = NULL;
        hamf_model_info info;
        if ((st = hamf_model_load(model_path, opt->db_url, &e, &info))) goto fail;
        char ver[32];
        snprintf(ver, sizeof ver, "%lld", (long long)info.version);
        if ((st = served_wrap(e, opt->model_version && *opt->model_version ? opt->model_version : ver, &m)))
            goto fail;
        s->cur_version = info.version;
        s->drift_rows = opt->drift_window ? opt->drift_window : 10000;
        if (info.name[0])
            served_attach_drift(m, opt->db_url ? opt->db_url : "./hamf.db", info.name, info.version, s->drift_rows);
        snprintf(s->model_name, sizeof s->model_name, "%s",
                 opt->model_name && *opt->model_name ? opt->model_name : info.name[0] ? info.name : model_path);
        /* an alias moves: follow it */
        if (!strncmp(model_path, "models:/", 8) && strchr(model_path, '@') && opt->poll_seconds >= 0) {
            s->ref = hamf__strdup(model_path);
            s->db_url = hamf__strdup(opt->db_url ? opt->db_url : "./hamf.db");
            s->poll_s = opt->poll_seconds > 0 ? opt->poll_seconds : 1.0;
            if (!s->ref || !s->db_url) {
                served_free(m);
                st = hamf__err(HAMF_ERR_NOMEM, "serve: out of memory");
                goto fail;
            }
        }
    } else {
        const char *ver = opt->model_version && *opt->model_version ? opt->model_version : base;
        if ((st = served_load_file(model_path, ver, &m))) goto fail;
        snprintf(s->model_name, sizeof s->model_name, "%s", opt->model_name && *opt->model_name ? opt->model_name : base);
        char *dot = opt->model_name && *opt->model_name ? NULL : strrchr(s->model_name, '.');
        if (dot && dot != s->model_name) *dot = '\0';
    }
    served_install(s, m);
    for (char *p = s->model_name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '_';
    s->output = opt->output;
    /* request ids: microseconds since the epoch at start, then +1 each, so
     * they keep growing across restarts and key the prediction log */
    atomic_init(&s->next_id, (unsigned long long)hamf__now_ms() * 1000ull);
    if (opt->log_dir && *opt->log_dir) {
        struct hamf__predlog_opts lo = {.dir = opt->log_dir, .max_bytes = opt->log_max_bytes,
                                        .max_files = opt->log_max_files};
        if ((st = hamf__predlog_open(&lo, &s->log))) goto fail;
    }
    size_t max_body = opt->max_body ? opt->max_body : 64u << 20;
    struct hamf__http_route r[] = {
        {"GET", "/ping", 0, h_ping, NULL},
        {"GET", "/health", 0, h_ping, NULL},
        {"GET", "/version", 0, h_version, NULL},
        {"POST", "/invocations", max_body, h_invocations, NULL},
        {"GET", "/metrics", 0, h_metrics, NULL},
        {"POST", "/feedback", 1u << 20, h_feedback, NULL},
    };
    memcpy(s->routes, r, sizeof r);
    struct hamf__http_config hc = {
        .host = opt->host ? opt->host : "127.0.0.1",
        .port = opt->port,
        .threads = opt->threads,
        .routes = s->routes,
        .nroutes = sizeof r / sizeof r[0],
        .error = router_error,
        .ctx = s,
    };
    if ((st = hamf__http_start(&hc, &s->http))) goto fail;
    if (s->ref) {
        if (pthread_create(&s->poller, NULL, poll_main, s)) {
            hamf__http_stop(s->http, 0);
            st = hamf__err(HAMF_ERR_IO, "serve: cannot start the registry poller");
            goto fail;
        }
        s->polling = true;
    }
    *out = s;
    return HAMF_OK;
fail:
    serve_free(s);
    return st;
}

int hamf_serve_port(const hamf_scoring_server *s)
{
    return s ? hamf__http_port(s->http) : -1;
}

const char *hamf_serve_model_version(hamf_scoring_server *s, char *buf, size_t n)
{
    if (!s || !buf || !n) return NULL;
    struct served *m = served_acquire(s);
    snprintf(buf, n, "%s", m->version);
    served_release(m);
    return buf;
}

void hamf_serve_stop(hamf_scoring_server *s, double grace_seconds)
{
    if (!s) return;
    if (s->polling) {
        pthread_mutex_lock(&s->stop_lock);
        s->stopping = true;
        pthread_cond_signal(&s->stop_cond);
        pthread_mutex_unlock(&s->stop_lock);
        pthread_join(s->poller, NULL);
    }
    hamf__http_stop(s->http, grace_seconds);
    serve_free(s);
}
