/*
 * exporter_source.c — where the exporter's samples come from: the local
 * tracking store (read directly through store/tracking.h) or any
 * MLflow-compatible server over REST (track/mlflow_client.h). Both ask the
 * same question — for each active experiment (or each one named with
 * --experiment), its newest run with status FINISHED — receive the same
 * MLflow JSON, and turn it into samples with one function,
 * hamf__samples_add_run_json.
 *
 * Labels: experiment = experiment name; run_id; model / model_version =
 * the run tags hamf.model_name / hamf.model_version (empty when absent).
 * Metric keys read: accuracy (percent), f1_score, precision, recall; a run
 * without one of them lacks only that series. Timestamp: the run's
 * end_time, else its start_time.
 */
#include "server/exporter.h"

#include "store/search.h"
#include "store/tracking.h"
#include "server/mlflow_json.h"
#include "store/loop.h"
#include "track/mlflow_client.h"

#include <string.h>

#define FINISHED_FILTER "attributes.status = 'FINISHED'"

/* ---- MLflow JSON -> samples ---- */

static const char *jstr(const struct hamf__jval *obj, const char *key)
{
    const struct hamf__jval *v = hamf__jobj_get(obj, key);
    return v && v->type == HAMF__JSTR ? v->str : NULL;
}

/* Value of the {key, value} item named `key` in array `arr` (last wins). */
static const struct hamf__jval *kv_find(const struct hamf__jval *arr, const char *key)
{
    const struct hamf__jval *found = NULL;
    for (size_t i = 0; arr && arr->type == HAMF__JARR && i < arr->len; i++) {
        const char *k = jstr(&arr->items[i], "key");
        if (k && strcmp(k, key) == 0) found = hamf__jobj_get(&arr->items[i], "value");
    }
    return found;
}

static const char *const metric_keys[HAMF__Q_COUNT] = {
    [HAMF__Q_ACCURACY] = "accuracy",
    [HAMF__Q_F1] = "f1_score",
    [HAMF__Q_PRECISION] = "precision",
    [HAMF__Q_RECALL] = "recall",
};

hamf_status hamf__samples_add_run_json(struct hamf__samples *s, const char *experiment, const struct hamf__jval *run)
{
    const struct hamf__jval *info = hamf__jobj_get(run, "info"), *data = hamf__jobj_get(run, "data");
    const char *run_id = jstr(info, "run_id");
    if (!run_id) run_id = jstr(info, "run_uuid");
    if (!run_id) return hamf__err(HAMF_ERR_PARSE, "exporter: run of experiment '%s' has no info.run_id", experiment);
    const struct hamf__jval *tags = hamf__jobj_get(data, "tags"), *metrics = hamf__jobj_get(data, "metrics");
    const struct hamf__jval *model = kv_find(tags, HAMF__TAG_MODEL_NAME);
    const struct hamf__jval *version = kv_find(tags, HAMF__TAG_MODEL_VERSION);
    int64_t t = -1;
    if (!hamf__jval_to_i64(hamf__jobj_get(info, "end_time"), &t) &&
        !hamf__jval_to_i64(hamf__jobj_get(info, "start_time"), &t))
        t = -1;
    struct hamf__qsample *q;
    hamf_status st = hamf__samples_add_quality(s, experiment, run_id,
                                               model && model->type == HAMF__JSTR ? model->str : "",
                                               version && version->type == HAMF__JSTR ? version->str : "",
                                               t >= 0 ? (double)t / 1000.0 : -1.0, &q);
    if (st) return st;
    for (int k = 0; k < HAMF__Q_COUNT; k++) {
        double v;
        if (hamf__jval_to_f64(kv_find(metrics, metric_keys[k]), &v)) {
            q->value[k] = v;
            q->has[k] = true;
        }
    }
    return HAMF_OK;
}

/* Add the first run of a runs/search answer `root` ({"runs":[...]} or {}). */
static hamf_status add_latest(struct hamf__samples *s, const char *experiment, const struct hamf__jval *root)
{
    const struct hamf__jval *runs = hamf__jobj_get(root, "runs");
    if (!runs) return HAMF_OK; /* no finished run yet */
    if (runs->type != HAMF__JARR)
        return hamf__err(HAMF_ERR_PARSE, "exporter: runs/search answer: 'runs' is not an array");
    if (runs->len == 0) return HAMF_OK;
    return hamf__samples_add_run_json(s, experiment, &runs->items[0]);
}

/* ---- the source object ---- */

struct hamf__exporter_source {
    char *uri;
    bool remote;
    char **names; /* --experiment filters; none = every active experiment */
    size_t nnames;
    struct hamf__trk *trk;      /* local: opened lazily, dropped after an error */
    struct hamf__mlflow *client; /* remote */
};

void hamf__exporter_source_close(struct hamf__exporter_source *src)
{
    if (!src) return;
    hamf__trk_close(src->trk);
    hamf__mlflow_close(src->client);
    for (size_t i = 0; i < src->nnames; i++) hamf__free(src->names[i]);
    hamf__free(src->names);
    hamf__free(src->uri);
    hamf__free(src);
}

hamf_status hamf__exporter_source_open(const char *uri, const char *const *experiments, size_t nexp,
                                       struct hamf__exporter_source **out)
{
    if (!uri || !*uri) return hamf__err(HAMF_ERR_MISUSE, "exporter: no tracking URI or store");
    hamf_status st;
    struct hamf__exporter_source *src = hamf__calloc(1, sizeof *src);
    if (!src) return hamf__err(HAMF_ERR_NOMEM, "exporter: out of memory");
    src->remote = hamf__mlflow_is_remote(uri);
    src->uri = hamf__strdup(uri);
    src->names = nexp ? hamf__calloc(nexp, sizeof *src->names) : NULL;
    if (!src->uri || (nexp && !src->names)) {
        st = hamf__err(HAMF_ERR_NOMEM, "exporter: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < nexp; i++) {
        if (!experiments[i] || !*experiments[i]) {
            st = hamf__err(HAMF_ERR_CONSTRAINT, "exporter: empty experiment name");
            goto fail;
        }
        if (!(src->names[i] = hamf__strdup(experiments[i]))) {
            st = hamf__err(HAMF_ERR_NOMEM, "exporter: out of memory");
            goto fail;
        }
        src->nnames++;
    }
    if (src->remote && (st = hamf__mlflow_open(uri, NULL, &src->client))) goto fail;
    if (!src->remote) {
        /* A malformed store URL fails now; a store that cannot be reached
         * yet (PostgreSQL down) is retried at every refresh. */
        st = hamf__trk_open(uri, &src->trk);
        if (st == HAMF_ERR_PARSE) goto fail;
        st = HAMF_OK;
    }
    *out = src;
    return HAMF_OK;
fail:
    hamf__exporter_source_close(src);
    return st;
}

bool hamf__exporter_source_remote(const struct hamf__exporter_source *src) { return src->remote; }

/* ---- remote ---- */

static hamf_status collect_one_remote(struct hamf__exporter_source *src, const char *id, const char *name,
                                      struct hamf__samples *out)
{
    struct hamf__jdoc *d = NULL;
    hamf_status st = hamf__mlflow_run_search(src->client, id, FINISHED_FILTER, 1, &d);
    if (st) return st;
    st = add_latest(out, name, hamf__jdoc_root(d));
    hamf__jdoc_free(d);
    return st;
}

static hamf_status collect_remote(struct hamf__exporter_source *src, struct hamf__samples *out)
{
    hamf_status st = HAMF_OK;
    if (src->nnames) {
        for (size_t i = 0; i < src->nnames && !st; i++) {
            char *id = NULL;
            st = hamf__mlflow_exp_id(src->client, src->names[i], &id);
            if (st == HAMF_ERR_NOTFOUND) { /* not created yet: no series */
                st = HAMF_OK;
                continue;
            }
            if (!st) st = collect_one_remote(src, id, src->names[i], out);
            hamf__free(id);
        }
        return st;
    }
    struct hamf__mlflow_exp *exps = NULL;
    size_t n = 0;
    if ((st = hamf__mlflow_exp_list(src->client, &exps, &n))) return st;
    for (size_t i = 0; i < n && !st; i++) st = collect_one_remote(src, exps[i].id, exps[i].name, out);
    hamf__mlflow_exps_free(exps, n);
    return st;
}

/* ---- local store ---- */

/* Parse "<members>" written by the tracking store as the object {<members>}. */
static hamf_status parse_members(struct hamf__buf *b, struct hamf__jdoc **out)
{
    struct hamf__buf w;
    hamf__buf_init(&w, 0);
    hamf_status st = hamf__buf_putc(&w, '{');
    if (!st && b->len) st = hamf__buf_append(&w, b->data, b->len);
    if (!st) st = hamf__buf_putc(&w, '}');
    if (!st) st = hamf__json_parse(w.data, w.len, HAMF__JSON_MAX_DEPTH, out);
    hamf__buf_free(&w);
    return st;
}

static hamf_status collect_one_local(struct hamf__exporter_source *src, const char *id, const char *name,
                                     struct hamf__samples *out)
{
    const char *ids[1] = {id};
    struct hamf__trk_search q = {
        .filter = FINISHED_FILTER, .view = HAMF__VIEW_ACTIVE_ONLY, .max_results = 1, .exp_ids = ids, .nexp = 1,
    };
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    struct hamf__jdoc *d = NULL;
    hamf_status st = hamf__mlflow_run_search_json(src->trk, &q, &b);
    if (!st) st = parse_members(&b, &d);
    if (!st) st = add_latest(out, name, hamf__jdoc_root(d));
    hamf__jdoc_free(d);
    hamf__buf_free(&b);
    return st;
}

static hamf_status collect_local(struct hamf__exporter_source *src, struct hamf__samples *out)
{
    hamf_status st;
    if (!src->trk && (st = hamf__trk_open(src->uri, &src->trk))) return st;
    if (src->nnames) {
        st = HAMF_OK;
        for (size_t i = 0; i < src->nnames && !st; i++) {
            char *id = NULL;
            st = hamf__trk_exp_id_by_name(src->trk, src->names[i], &id);
            if (st == HAMF_ERR_NOTFOUND) {
                st = HAMF_OK;
                continue;
            }
            if (!st) st = collect_one_local(src, id, src->names[i], out);
            hamf__free(id);
        }
        return st;
    }
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    char *token = NULL;
    st = HAMF_OK;
    for (int page = 0; page < 10000 && !st; page++) {
        struct hamf__trk_search q = {.view = HAMF__VIEW_ACTIVE_ONLY, .max_results = 1000, .page_token = token};
        hamf__buf_reset(&b);
        struct hamf__jdoc *d = NULL;
        if ((st = hamf__mlflow_exp_search_json(src->trk, &q, &b))) break;
        if ((st = parse_members(&b, &d))) break;
        const struct hamf__jval *root = hamf__jdoc_root(d), *exps = hamf__jobj_get(root, "experiments");
        for (size_t i = 0; !st && exps && exps->type == HAMF__JARR && i < exps->len; i++) {
            const char *id = jstr(&exps->items[i], "experiment_id"), *name = jstr(&exps->items[i], "name");
            if (id && name) st = collect_one_local(src, id, name, out);
        }
        const char *next = jstr(root, "next_page_token");
        hamf__free(token);
        token = NULL;
        if (!st && next && *next && exps && exps->len) {
            token = hamf__strdup(next);
            if (!token) st = hamf__err(HAMF_ERR_NOMEM, "exporter: out of memory");
        }
        hamf__jdoc_free(d);
        if (!token) break;
    }
    hamf__free(token);
    hamf__buf_free(&b);
    return st;
}

static hamf_status add_drift(void *ctx, const char *model, const char *feature, double value)
{
    return hamf__samples_add_drift(ctx, model, feature, value);
}

/* drift PSI and live accuracy recorded by `hamf drift` (store/loop.c) */
static hamf_status collect_drift(const char *url, struct hamf__samples *out)
{
    hamf_store *hs = NULL;
    hamf_status s = hamf__loop_open(url, &hs);
    if (!s) s = hamf__loop_drift_latest(hs, add_drift, out);
    hamf_store_close(hs);
    return s;
}

hamf_status hamf__exporter_source_collect(void *ctx, struct hamf__samples *out)
{
    struct hamf__exporter_source *src = ctx;
    if (src->remote) return collect_remote(src, out);
    hamf_status st = collect_local(src, out);
    if (!st) st = collect_drift(src->uri, out);
    if (st) {
        /* reconnect next time (a PostgreSQL server may have restarted) */
        hamf__trk_close(src->trk);
        src->trk = NULL;
    }
    return st;
}
