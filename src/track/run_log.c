/*
 * run_log.c — one training logged as an MLflow run (run_log.h): the two
 * destinations (the local tracking store through tracking.h, or any
 * MLflow-compatible server through mlflow_client.h) behind one small set of
 * operations (log a batch, set the status, store an artifact file), the
 * MLmodel document of the hamf flavor, and the registry rows of the
 * training (models_master, features_models_map, training_results).
 */
#include "track/run_log.h"

#include "store/tracking.h"
#include "track/mlflow_client.h"
#include "track/flavors.h"
#include "ml/xgb_json.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct hamf_run {
    struct hamf__trk *trk;     /* local store, or NULL */
    struct hamf__mlflow *rest; /* REST server, or NULL */
    char *where;               /* the URI or store, for messages */
    char *artifacts_dir;       /* local: root of mlflow-artifacts:/ */
    char *exp_id, *run_id, *artifact_uri;
    bool ended;
};

bool hamf__track_is_remote(const hamf_run_dest *d)
{
    return d && d->tracking_uri && hamf__mlflow_is_remote(d->tracking_uri);
}

const char *hamf_run_id(const hamf_run *r) { return r ? r->run_id : ""; }
const char *hamf_run_experiment_id(const hamf_run *r) { return r ? r->exp_id : ""; }
const char *hamf_run_artifact_uri(const hamf_run *r) { return r ? r->artifact_uri : ""; }

/* ---- the two destinations ---- */

static hamf_status oom(void) { return hamf__err(HAMF_ERR_NOMEM, "track: out of memory"); }

/* Local batches stay within the store's (MLflow's) per-request limits. */
static hamf_status local_batch(hamf_run *r, const struct hamf__mlflow_metric *m, size_t nm,
                               const struct hamf__mlflow_kv *p, size_t np, const struct hamf__mlflow_kv *tg,
                               size_t nt)
{
    hamf_status s = HAMF_OK;
    struct hamf__trk_metric *tm = NULL;
    struct hamf__trk_kv *kv = NULL;
    size_t nkv = np > nt ? np : nt;
    if (nm && !(tm = hamf__calloc(nm < HAMF__TRK_MAX_BATCH_METRICS ? nm : HAMF__TRK_MAX_BATCH_METRICS, sizeof *tm)))
        return oom();
    if (nkv && !(kv = hamf__calloc(nkv, sizeof *kv))) {
        hamf__free(tm);
        return oom();
    }
    for (size_t i = 0; i < np && !s; i += HAMF__TRK_MAX_BATCH_PARAMS) {
        size_t k = np - i < HAMF__TRK_MAX_BATCH_PARAMS ? np - i : HAMF__TRK_MAX_BATCH_PARAMS;
        for (size_t j = 0; j < k; j++) kv[j] = (struct hamf__trk_kv){p[i + j].key, p[i + j].value};
        s = hamf__trk_log_batch(r->trk, r->run_id, NULL, 0, kv, k, NULL, 0);
    }
    for (size_t i = 0; i < nt && !s; i += HAMF__TRK_MAX_BATCH_TAGS) {
        size_t k = nt - i < HAMF__TRK_MAX_BATCH_TAGS ? nt - i : HAMF__TRK_MAX_BATCH_TAGS;
        for (size_t j = 0; j < k; j++) kv[j] = (struct hamf__trk_kv){tg[i + j].key, tg[i + j].value};
        s = hamf__trk_log_batch(r->trk, r->run_id, NULL, 0, NULL, 0, kv, k);
    }
    int64_t now = hamf__now_ms();
    for (size_t i = 0; i < nm && !s; i += HAMF__TRK_MAX_BATCH_METRICS) {
        size_t k = nm - i < HAMF__TRK_MAX_BATCH_METRICS ? nm - i : HAMF__TRK_MAX_BATCH_METRICS;
        for (size_t j = 0; j < k; j++)
            tm[j] = (struct hamf__trk_metric){m[i + j].key, m[i + j].value, m[i + j].timestamp ? m[i + j].timestamp : now,
                                              m[i + j].step};
        s = hamf__trk_log_batch(r->trk, r->run_id, tm, k, NULL, 0, NULL, 0);
    }
    hamf__free(tm);
    hamf__free(kv);
    return s;
}

static hamf_status log_batch(hamf_run *r, const struct hamf__mlflow_metric *m, size_t nm,
                             const struct hamf__mlflow_kv *p, size_t np, const struct hamf__mlflow_kv *tg, size_t nt)
{
    hamf_status s = r->rest ? hamf__mlflow_log_batch(r->rest, r->run_id, m, nm, p, np, tg, nt)
                            : local_batch(r, m, nm, p, np, tg, nt);
    return s ? hamf__err_prefix(s, "track: %s: run %s: log-batch", r->where, r->run_id) : s;
}

static hamf_status set_status(hamf_run *r, const char *status)
{
    hamf_status s;
    if (r->rest) {
        s = hamf__mlflow_run_update(r->rest, r->run_id, status, 0);
    } else {
        s = hamf__trk_run_update(r->trk, r->run_id, status, true, hamf__now_ms(), NULL);
    }
    if (s) return hamf__err_prefix(s, "track: %s: run %s: set status %s", r->where, r->run_id, status);
    r->ended = true;
    return HAMF_OK;
}

/* Write `len` bytes to `path` atomically, creating its directory. */
static hamf_status write_atomic(const char *path, const void *data, size_t len)
{
    hamf_status s = hamf__file_mkdirs_parent(path);
    if (!s) s = hamf__file_write_atomic(path, data, len, 0644);
    return s ? hamf__err_prefix(s, "track") : s;
}

/* The local directory holding the run's artifacts, from its artifact_uri:
 * mlflow-artifacts:/X -> <artifacts_dir>/X; file:///p or /p -> /p. */
static hamf_status local_artifact_dir(const hamf_run *r, char **out)
{
    static const char proxied[] = "mlflow-artifacts:", file[] = "file://";
    const char *u = r->artifact_uri;
    char *d = NULL;
    if (!strncmp(u, proxied, sizeof proxied - 1)) {
        const char *rel = u + sizeof proxied - 1;
        while (*rel == '/') rel++;
        if (strstr(rel, "..")) return hamf__err(HAMF_ERR_CONSTRAINT, "track: artifact URI '%s' has '..'", u);
        d = hamf__asprintf("%s/%s", r->artifacts_dir, rel);
    } else if (!strncmp(u, file, sizeof file - 1) && u[sizeof file - 1] == '/') {
        d = hamf__strdup(u + sizeof file - 1);
    } else if (u[0] == '/') {
        d = hamf__strdup(u);
    } else {
        return hamf__err(HAMF_ERR_UNSUPPORTED,
                         "track: %s: run %s: artifact URI '%s' is neither mlflow-artifacts:/ (proxied) nor a local path",
                         r->where, r->run_id, u);
    }
    if (!d) return oom();
    *out = d;
    return HAMF_OK;
}

/* Store `data` (or, when data is NULL, the file `src`) as artifact `rel`. */
static hamf_status put_artifact(hamf_run *r, const char *rel, const void *data, size_t len,
                                const char *src)
{
    static const char proxied[] = "mlflow-artifacts:";
    hamf_status s = HAMF_OK;
    char *dir = NULL, *path = NULL, *tmp = NULL;
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    if (r->rest && !strncmp(r->artifact_uri, proxied, sizeof proxied - 1)) {
        if (!data) {
            s = hamf__mlflow_artifact_put(r->rest, r->artifact_uri, rel, src);
        } else {
            /* the client uploads files: stage the bytes in a temp file */
            const char *td = getenv("TMPDIR");
            if (!(tmp = hamf__asprintf("%s/hamf-artifact.XXXXXX", td && *td ? td : "/tmp"))) {
                s = oom();
                goto cleanup;
            }
            int fd = mkstemp(tmp);
            if (fd < 0) {
                s = hamf__err(HAMF_ERR_IO, "track: cannot create %s: %s", tmp, strerror(errno));
                hamf__free(tmp);
                tmp = NULL;
                goto cleanup;
            }
            size_t off = 0;
            while (off < len) {
                ssize_t w = write(fd, (const char *)data + off, len - off);
                if (w < 0 && errno == EINTR) continue;
                if (w < 0) break;
                off += (size_t)w;
            }
            close(fd);
            if (off < len) s = hamf__err(HAMF_ERR_IO, "track: cannot write %s: %s", tmp, strerror(errno));
            else s = hamf__mlflow_artifact_put(r->rest, r->artifact_uri, rel, tmp);
        }
    } else {
        if ((s = local_artifact_dir(r, &dir))) goto cleanup;
        if (!(path = hamf__asprintf("%s/%s", dir, rel))) {
            s = oom();
            goto cleanup;
        }
        if (!data) {
            if ((s = hamf__file_read(src, 0, &b))) {
                hamf__err_prefix(s, "track");
                goto cleanup;
            }
            data = b.data ? b.data : "";
            len = b.len;
        }
        s = write_atomic(path, data, len);
    }
cleanup:
    if (tmp) {
        unlink(tmp);
        hamf__free(tmp);
    }
    if (s) hamf__err_prefix(s, "track: %s: run %s: artifact %s", r->where, r->run_id, rel);
    hamf__buf_free(&b);
    hamf__free(path);
    hamf__free(dir);
    return s;
}

/* ---- start ---- */

static const char *user_name(void)
{
    const char *u = getenv("USER");
    if (!u || !*u) u = getenv("LOGNAME");
    if (!u || !*u) {
        struct passwd *pw = getpwuid(getuid());
        u = pw ? pw->pw_name : NULL;
    }
    return u && *u ? u : "";
}

static hamf_status local_start(hamf_run *r, const char *url, hamf_store *store, const char *experiment,
                               const char *run_name, const struct hamf__trk_kv *tags, size_t ntags)
{
    hamf_status s = store ? hamf__trk_open_store(store, &r->trk) : hamf__trk_open(url, &r->trk);
    if (s) return s;
    s = hamf__trk_exp_id_by_name(r->trk, experiment, &r->exp_id);
    if (s == HAMF_ERR_NOTFOUND) {
        s = hamf__trk_exp_create(r->trk, experiment, NULL, NULL, 0, &r->exp_id);
        if (s == HAMF_ERR_EXISTS) s = hamf__trk_exp_id_by_name(r->trk, experiment, &r->exp_id); /* raced */
    }
    if (s) return s;
    struct hamf__trk_run_new rn = {.exp_id = r->exp_id, .user_id = user_name(), .run_name = run_name,
                                   .start_time = hamf__now_ms(), .tags = tags, .ntags = ntags};
    char id[33];
    s = hamf__trk_run_create(r->trk, &rn, id);
    if (!s) s = hamf__trk_run_artifact_uri(r->trk, id, &r->artifact_uri);
    if (!s && !(r->run_id = hamf__strdup(id))) s = oom();
    return s;
}

static hamf_status rest_start(hamf_run *r, const hamf_run_dest *dst, const char *experiment,
                              const char *run_name, const struct hamf__mlflow_kv *tags, size_t ntags)
{
    struct hamf__mlflow_opts o = {.timeout_ms = dst->timeout_ms};
    hamf_status s = hamf__mlflow_open(dst->tracking_uri, &o, &r->rest);
    if (!s) s = hamf__mlflow_exp_get_or_create(r->rest, experiment, &r->exp_id);
    if (!s) s = hamf__mlflow_run_create(r->rest, r->exp_id, run_name, 0, tags, ntags, &r->run_id, &r->artifact_uri);
    return s;
}

hamf_status hamf_run_start(const hamf_run_dest *d, const hamf_run_options *st,
                           hamf_run **out)
{
    if (!d || !out) return hamf__err(HAMF_ERR_MISUSE, "track: NULL argument");
    static const hamf_run_options none = {0};
    if (!st) st = &none;
    bool remote = hamf__track_is_remote(d);
    const char *url = d->tracking_uri && *d->tracking_uri ? d->tracking_uri : d->db_url;
    if ((!url || !*url) && !d->store) return hamf__err(HAMF_ERR_MISUSE, "track: no tracking URI and no store given");
    if (!url || !*url) url = "the store"; /* an open store without its URL: for messages */
    const char *experiment = st->experiment && *st->experiment ? st->experiment : HAMF_DEFAULT_EXPERIMENT;
    hamf_run *r = hamf__calloc(1, sizeof *r);
    if (!r) return oom();
    hamf_status s = HAMF_OK;
    size_t ntags = 3 + st->ntags;
    struct hamf__mlflow_kv *tags = hamf__calloc(ntags, sizeof *tags);
    r->where = hamf__strdup(url);
    r->artifacts_dir = hamf__strdup(d->artifacts_dir && *d->artifacts_dir ? d->artifacts_dir : HAMF_DEFAULT_ARTIFACTS_DIR);
    if (!tags || !r->where || !r->artifacts_dir) {
        s = oom();
        goto cleanup;
    }
    tags[0] = (struct hamf__mlflow_kv){"mlflow.source.name", st->source_name && *st->source_name ? st->source_name : "hamf"};
    tags[1] = (struct hamf__mlflow_kv){"mlflow.source.type", "LOCAL"};
    tags[2] = (struct hamf__mlflow_kv){"mlflow.user", user_name()};
    for (size_t i = 0; i < st->ntags; i++) tags[3 + i] = (struct hamf__mlflow_kv){st->tags[i].key, st->tags[i].value};
    const char *run_name = st->run_name && *st->run_name ? st->run_name : NULL;
    if (remote) {
        s = rest_start(r, d, experiment, run_name, tags, ntags);
    } else {
        /* same layout, so the one array serves both */
        struct hamf__trk_kv *tk = (struct hamf__trk_kv *)hamf__calloc(ntags, sizeof *tk);
        if (!tk) {
            s = oom();
            goto cleanup;
        }
        for (size_t i = 0; i < ntags; i++) tk[i] = (struct hamf__trk_kv){tags[i].key, tags[i].value};
        s = local_start(r, url, d->tracking_uri && *d->tracking_uri ? NULL : d->store, experiment, run_name, tk,
                        ntags);
        hamf__free(tk);
    }
    if (s) hamf__err_prefix(s, "track: %s: cannot start a run in experiment '%s'", url, experiment);
cleanup:
    hamf__free(tags);
    if (s) {
        r->ended = true; /* nothing to mark */
        hamf_run_close(r);
        return s;
    }
    *out = r;
    return HAMF_OK;
}

/* ---- finish ---- */

struct mlist {
    struct hamf__mlflow_metric *m;
    size_t n, cap;
};

static hamf_status madd(struct mlist *l, const char *key, double v, int64_t step)
{
    if (!isfinite(v)) return HAMF_OK; /* NaN/inf: not logged (undefined metric) */
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct hamf__mlflow_metric *m = hamf__realloc(l->m, cap * sizeof *m);
        if (!m) return oom();
        l->m = m;
        l->cap = cap;
    }
    l->m[l->n++] = (struct hamf__mlflow_metric){key, v, 0, step};
    return HAMF_OK;
}

struct kvlist {
    struct hamf__mlflow_kv *kv;
    size_t n, cap;
};

static hamf_status kvadd(struct kvlist *l, const char *k, const char *v)
{
    if (!k || !v) return HAMF_OK;
    for (size_t i = 0; i < l->n; i++) /* later ones win (extra over derived) */
        if (!strcmp(l->kv[i].key, k)) {
            l->kv[i].value = v;
            return HAMF_OK;
        }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        struct hamf__mlflow_kv *kv = hamf__realloc(l->kv, cap * sizeof *kv);
        if (!kv) return oom();
        l->kv = kv;
        l->cap = cap;
    }
    l->kv[l->n++] = (struct hamf__mlflow_kv){k, v};
    return HAMF_OK;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* YAML single-quoted scalar (the signature is JSON text inside one). */
static hamf_status yaml_sq(struct hamf__buf *b, const char *s)
{
    hamf_status st = hamf__buf_putc(b, '\'');
    for (; !st && *s; s++) st = *s == '\'' ? hamf__buf_puts(b, "''") : hamf__buf_putc(b, *s);
    if (!st) st = hamf__buf_putc(b, '\'');
    return st;
}

/* "2026-01-31 12:00:00.123456" (UTC), as MLflow writes utc_time_created. */
static void utc_now(char out[40])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(out, 40, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out + k, 40 - k, ".%06d", (int)(ts.tv_nsec / 1000) % 1000000);
}

static void random_hex32(char out[33])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        uint64_t x = (uint64_t)hamf__now_ms() ^ (uint64_t)getpid() << 32;
        for (size_t i = 0; i < sizeof b; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            b[i] = (unsigned char)(x >> 56);
        }
    }
    for (size_t i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The input features as an MLflow column-based signature (JSON text). */
static hamf_status signature_inputs(const hamf_ensemble *m, struct hamf__buf *b)
{
    hamf_status s = hamf__buf_putc(b, '[');
    for (size_t f = 0; !s && f < hamf_ensemble_nfeatures(m); f++) {
        if (f) s = hamf__buf_puts(b, ", ");
        if (!s) s = hamf__buf_puts(b, "{\"type\": ");
        if (!s) s = hamf__buf_puts(b, hamf_ensemble_feature_is_categorical(m, f) ? "\"string\"" : "\"double\"");
        if (!s) s = hamf__buf_puts(b, ", \"name\": ");
        if (!s) s = hamf__json_str(b, hamf_ensemble_feature_name(m, f), (size_t)-1);
        if (!s) s = hamf__buf_puts(b, ", \"required\": true}");
    }
    if (!s) s = hamf__buf_putc(b, ']');
    return s;
}

static const char *algo_name(const hamf_ensemble *m)
{
    return hamf_ensemble_algorithm(m) == HAMF_ALGO_RANDOM_FOREST ? "random-forest" : "gradient-boosting";
}

/* model/MLmodel of the "hamf" flavor, and the mlflow.log-model.history tag. */
static hamf_status mlmodel_doc(const hamf_run *r, const hamf_ensemble *m, const char *file,
                               struct hamf__buf *y, struct hamf__buf *hist)
{
    char when[40], uuid[33];
    utc_now(when);
    random_hex32(uuid);
    struct hamf__buf sig;
    hamf__buf_init(&sig, 0);
    hamf_status s = signature_inputs(m, &sig);
    const char *pipe = hamf_ensemble_pipeline(m);
    if (!s) s = hamf__buf_printf(y,
                                 "artifact_path: model\n"
                                 "flavors:\n"
                                 "  hamf:\n"
                                 "    algorithm: %s\n"
                                 "    hamf_version: %s\n"
                                 "    model_file: ",
                                 algo_name(m), hamf_version());
    if (!s) s = yaml_sq(y, file);
    if (!s) s = hamf__buf_printf(y, "\n    n_features: %zu\n    n_trees: %zu\n    pipeline: %s\n    target: ",
                                 hamf_ensemble_nfeatures(m), hamf_ensemble_ntrees(m), pipe && *pipe ? "true" : "false");
    if (!s) s = yaml_sq(y, hamf_ensemble_target(m));
    if (!s) s = hamf__buf_putc(y, '\n');
    if (!s) s = hamf__flavors_yaml(y);
    if (!s) s = hamf__buf_printf(y, "model_uuid: %s\nrun_id: %s\nsignature:\n  inputs: ", uuid, r->run_id);
    if (!s) s = yaml_sq(y, sig.data ? sig.data : "[]");
    if (!s) s = hamf__buf_puts(y, "\n  outputs: '[{\"type\": \"double\", \"name\": \"probability\", \"required\": true}]'\n");
    if (!s) s = hamf__buf_printf(y, "utc_time_created: '%s'\n", when);
    /* the tag MLflow's UI reads to show the logged model */
    if (!s) s = hamf__buf_puts(hist, "[{\"run_id\": ");
    if (!s) s = hamf__json_str(hist, r->run_id, (size_t)-1);
    if (!s) s = hamf__buf_printf(hist, ", \"artifact_path\": \"model\", \"utc_time_created\": \"%s\", \"flavors\": "
                                       "{\"hamf\": {\"algorithm\": \"%s\", \"hamf_version\": \"%s\", \"model_file\": ",
                                 when, algo_name(m), hamf_version());
    if (!s) s = hamf__json_str(hist, file, (size_t)-1);
    if (!s) s = hamf__buf_putc(hist, '}');
    if (!s) s = hamf__flavors_json(hist);
    if (!s) s = hamf__buf_printf(hist, "}, \"model_uuid\": \"%s\"}]", uuid);
    hamf__buf_free(&sig);
    return s;
}

/* Every top-level member of the model's params JSON as a param. Values are
 * kept as text: strings unquoted, numbers as written. */
static hamf_status params_from_model(const hamf_ensemble *m, struct hamf__jdoc **doc, struct kvlist *p, char ***texts,
                                     size_t *ntexts)
{
    const char *js = hamf_ensemble_params_json(m);
    hamf_status s = hamf__json_parse(js, strlen(js), HAMF__JSON_MAX_DEPTH, doc);
    if (s) return hamf__err_prefix(s, "track: model params");
    const struct hamf__jval *o = hamf__jdoc_root(*doc);
    if (o->type != HAMF__JOBJ) return HAMF_OK;
    char **t = hamf__calloc(o->len ? o->len : 1, sizeof *t);
    if (!t) return oom();
    *texts = t;
    for (size_t i = 0; i < o->len && !s; i++) {
        const struct hamf__jval *v = &o->members[i].val;
        char num[32];
        const char *val;
        if (v->type == HAMF__JSTR) val = v->str;
        else if (v->type == HAMF__JBOOL) val = v->b ? "true" : "false";
        else if (v->type == HAMF__JNUM) {
            if (v->is_int) snprintf(num, sizeof num, "%lld", (long long)v->i);
            else if (v->num == (double)(long long)v->num && fabs(v->num) < 1e15)
                snprintf(num, sizeof num, "%lld", (long long)v->num); /* 10, not 1e+01 */
            else hamf__fmt_double(num, v->num);
            val = num;
        } else continue;
        if (!(t[(*ntexts)++] = hamf__strdup(val))) return oom();
        s = kvadd(p, o->members[i].key, t[*ntexts - 1]);
    }
    return s;
}

hamf_status hamf_run_finish(hamf_run *r, const hamf_run_training *t)
{
    if (!r || !t || !t->model || !t->metrics) return hamf__err(HAMF_ERR_MISUSE, "track: NULL argument");
    if (r->ended) return hamf__err(HAMF_ERR_MISUSE, "track: run %s has already ended", r->run_id);
    const hamf_ensemble *m = t->model;
    const hamf_metrics *mt = t->metrics;
    struct mlist ml = {0};
    struct kvlist pl = {0}, tl = {0};
    struct hamf__jdoc *pdoc = NULL;
    char **texts = NULL;
    size_t ntexts = 0;
    struct hamf__buf yaml, hist;
    hamf__buf_init(&yaml, 0);
    hamf__buf_init(&hist, 0);
    char ids[2][24], nfeat[24];
    hamf_status s;

    /* params: the model's hyperparameters, then the caller's */
    if ((s = params_from_model(m, &pdoc, &pl, &texts, &ntexts))) goto cleanup;
    for (size_t i = 0; i < t->nparams && !s; i++) s = kvadd(&pl, t->params[i].key, t->params[i].value);
    if (s) goto cleanup;

    /* metrics: held-out, then loss history per iteration, then extra */
    if ((s = madd(&ml, "accuracy", mt->accuracy, 0)) || (s = madd(&ml, "f1_score", mt->f1_score, 0)) ||
        (s = madd(&ml, "precision", mt->precision, 0)) || (s = madd(&ml, "recall", mt->recall, 0)) ||
        (s = madd(&ml, "roc_auc", mt->roc_auc, 0)) || (s = madd(&ml, "log_loss", mt->log_loss, 0)))
        goto cleanup;
    size_t nit = 0;
    const double *tr = NULL, *va = NULL;
    hamf_ensemble_loss_history(m, &nit, &tr, &va);
    for (size_t i = 0; i < nit && !s; i++) {
        if (tr) s = madd(&ml, "training_loss", tr[i], (int64_t)i);
        if (!s && va) s = madd(&ml, "validation_loss", va[i], (int64_t)i);
    }
    for (size_t i = 0; i < t->nextra && !s; i++) s = madd(&ml, t->extra[i].key, t->extra[i].value, t->extra[i].step);
    if (s) goto cleanup;

    /* tags */
    snprintf(nfeat, sizeof nfeat, "%zu", hamf_ensemble_nfeatures(m));
    if ((s = kvadd(&tl, "hamf.algorithm", algo_name(m))) || (s = kvadd(&tl, "hamf.n_features", nfeat)) ||
        (s = kvadd(&tl, "hamf.model_name", t->model_name)) || (s = kvadd(&tl, "hamf.model_version", t->model_version)))
        goto cleanup;
    if (t->model_id > 0) {
        snprintf(ids[0], sizeof ids[0], "%lld", (long long)t->model_id);
        if ((s = kvadd(&tl, "hamf.model_id", ids[0]))) goto cleanup;
    }
    if (t->result_id > 0) {
        snprintf(ids[1], sizeof ids[1], "%lld", (long long)t->result_id);
        if ((s = kvadd(&tl, "hamf.result_id", ids[1]))) goto cleanup;
    }
    const char *file = t->model_path ? base_name(t->model_path) : NULL;
    if (file && (!*file || !strcmp(file, "MLmodel") || !strcmp(file, ".") || !strcmp(file, ".."))) file = "model.hamf";
    if (file) {
        if ((s = mlmodel_doc(r, m, file, &yaml, &hist))) goto cleanup;
        if ((s = kvadd(&tl, "mlflow.log-model.history", hist.data))) goto cleanup;
    }
    for (size_t i = 0; i < t->ntags && !s; i++) s = kvadd(&tl, t->tags[i].key, t->tags[i].value);
    if (s) goto cleanup;

    if ((s = log_batch(r, ml.m, ml.n, pl.kv, pl.n, tl.kv, tl.n))) goto cleanup;
    if (file) {
        char rel[600];
        snprintf(rel, sizeof rel, "model/%s", file);
        if ((s = put_artifact(r, rel, NULL, 0, t->model_path))) goto cleanup;
        /* the xgboost and python_function flavors (flavors.h) */
        char *xj = NULL;
        size_t xlen = 0;
        if ((s = hamf__xgb_export(m, &xj, &xlen))) goto cleanup;
        s = put_artifact(r, "model/" HAMF__FLAVOR_XGB_FILE, xj, xlen, NULL);
        hamf__free(xj);
        if (s) goto cleanup;
        size_t nff = 0;
        const struct hamf__flavor_file *ff = hamf__flavor_files(&nff);
        for (size_t i = 0; i < nff; i++) {
            snprintf(rel, sizeof rel, "model/%s", ff[i].rel);
            if ((s = put_artifact(r, rel, ff[i].text, strlen(ff[i].text), NULL))) goto cleanup;
        }
        /* MLmodel last: a model directory with an MLmodel is complete */
        if ((s = put_artifact(r, "model/MLmodel", yaml.data, yaml.len, NULL))) goto cleanup;
    }
    if (t->shap_importance) {
        struct hamf__buf ij, isvg;
        hamf__buf_init(&ij, 0);
        hamf__buf_init(&isvg, 0);
        s = hamf__shap_importance_json(m, t->shap_importance, t->shap_rows, &ij);
        if (!s) s = hamf__shap_importance_svg(m, t->shap_importance, &isvg);
        if (!s) s = put_artifact(r, "shap_importance.json", ij.data, ij.len, NULL);
        if (!s) s = put_artifact(r, "shap_importance.svg", isvg.data, isvg.len, NULL);
        hamf__buf_free(&ij);
        hamf__buf_free(&isvg);
        if (s) goto cleanup;
    }
    s = set_status(r, "FINISHED");
cleanup:
    if (s) {
        char saved[1024];
        snprintf(saved, sizeof saved, "%s", hamf_last_error());
        hamf_run_fail(r);
        hamf__err(s, "%s", saved);
    }
    for (size_t i = 0; i < ntexts; i++) hamf__free(texts[i]);
    hamf__free(texts);
    hamf__jdoc_free(pdoc);
    hamf__free(ml.m);
    hamf__free(pl.kv);
    hamf__free(tl.kv);
    hamf__buf_free(&yaml);
    hamf__buf_free(&hist);
    return s;
}

hamf_status hamf_run_fail(hamf_run *r)
{
    if (!r) return hamf__err(HAMF_ERR_MISUSE, "track: NULL run");
    if (r->ended) return HAMF_OK;
    hamf_status s = set_status(r, "FAILED");
    r->ended = true; /* tried once: close does not wait on a dead server again */
    return s;
}

void hamf_run_close(hamf_run *r)
{
    if (!r) return;
    if (!r->ended && r->run_id) {
        /* best effort; keep the caller's error message */
        char saved[1024];
        snprintf(saved, sizeof saved, "%s", hamf_last_error());
        (void)hamf_run_fail(r);
        hamf__err(HAMF_ERR_IO, "%s", saved);
    }
    hamf__trk_close(r->trk);
    hamf__mlflow_close(r->rest);
    hamf__free(r->where);
    hamf__free(r->artifacts_dir);
    hamf__free(r->exp_id);
    hamf__free(r->run_id);
    hamf__free(r->artifact_uri);
    hamf__free(r);
}

hamf_status hamf__track_log_training(const hamf_run_dest *d, const hamf_run_options *s,
                                     const hamf_run_training *t, char run_id[33])
{
    hamf_run *r = NULL;
    hamf_status st = hamf_run_start(d, s, &r);
    if (st) return st;
    st = hamf_run_finish(r, t);
    if (!st && run_id) snprintf(run_id, 33, "%s", r->run_id);
    hamf_run_close(r);
    return st;
}
