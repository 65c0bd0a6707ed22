/*
 * mlflow_ui_api.c — the endpoints MLflow 2.12's server has beside its
 * protobuf services, which its web UI (and MLflow's server tests) use:
 *
 *   GET  /ajax-api/2.0/mlflow/metrics/get-history-bulk        (run_id=..&run_id=..)
 *   GET  /ajax-api/2.0/mlflow/metrics/get-history-bulk-interval
 *   POST /ajax-api/2.0/mlflow/experiments/search-datasets
 *   POST /ajax-api/2.0/mlflow/runs/create-promptlab-run      (validation only)
 *   POST /ajax-api/2.0/mlflow/upload-artifact                 (?run_uuid=&path=, body = file)
 *   GET  /ajax-api/2.0/mlflow/gateway-proxy                   (no deployments target)
 *   GET  /get-artifact                  (?run_id|run_uuid=&path=: one file of a run)
 *   GET  /model-versions/get-artifact   (?name=&version=&path=: one file of a version)
 *
 * Same validation order, error codes and messages as MLflow's handlers
 * (mlflow/server/handlers.py); results in MLflow's order. Everything reads
 * the store through its functions (runs, metric history, run search) and
 * artifacts through artifacts.c, so paths never leave the artifact roots.
 */
#include "server/api.h"

#include "store/search.h"
#include "server/mlflow_json.h"
#include "store/tracking.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define API_DOCS " See the API docs for more information about request parameters."

/* ---- query helpers ---- */

/* The values of a repeated query parameter; `key` or `key[]`/`key[N]`
 * (the forms MLflow's query parser accepts). [owned array: hamf__free] */
static const char **query_list(const struct hamf__http_req *req, const char *key, size_t *n)
{
    size_t kl = strlen(key), cnt = 0;
    const char **v = hamf__calloc(req->nquery + 1, sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < req->nquery; i++) {
        const char *k = req->query[i].key;
        if (strncmp(k, key, kl)) continue;
        const char *r = k + kl;
        if (*r == '[') {
            r++;
            while (*r >= '0' && *r <= '9') r++;
            if (*r++ != ']') continue;
        }
        if (*r) continue;
        v[cnt++] = req->query[i].value;
    }
    *n = cnt;
    return v;
}

static bool parse_i64_str(const char *s, int64_t *out)
{
    while (*s == ' ') s++;
    return *s && hamf__parse_i64(s, strlen(s), out);
}

/* ---- metrics of several runs ---- */

struct mrow {
    const char *run_id;
    const struct hamf__jval *v; /* the Metric object from the store */
    double value;
    int64_t ts, step;
};

static int cmp_ts_step_value(const void *x, const void *y)
{
    const struct mrow *a = x, *b = y;
    if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
    if (a->step != b->step) return a->step < b->step ? -1 : 1;
    return a->value < b->value ? -1 : a->value > b->value;
}

static int cmp_step_ts_value(const void *x, const void *y)
{
    const struct mrow *a = x, *b = y;
    if (a->step != b->step) return a->step < b->step ? -1 : 1;
    if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
    return a->value < b->value ? -1 : a->value > b->value;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

/* One run's full history of `key` from the store, parsed. */
struct history {
    struct hamf__jdoc *doc;
    const struct hamf__jval *metrics; /* array or NULL */
};

static hamf_status history_load(struct hamf__trk *t, const char *run_id, const char *key, struct history *h)
{
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    memset(h, 0, sizeof *h);
    hamf_status s = hamf__buf_putc(&b, '{');
    if (!s) s = hamf__mlflow_metric_history_json(t, run_id, key, 0, NULL, &b);
    if (!s) s = hamf__buf_putc(&b, '}');
    if (!s) s = hamf__json_parse(b.data, b.len, HAMF__JSON_MAX_DEPTH, &h->doc);
    hamf__buf_free(&b);
    if (s) return s;
    const struct hamf__jval *m = hamf__jobj_get(hamf__jdoc_root(h->doc), "metrics");
    h->metrics = m && m->type == HAMF__JARR ? m : NULL;
    return HAMF_OK;
}

static void mrow_fill(struct mrow *r, const char *run_id, const struct hamf__jval *m)
{
    r->run_id = run_id;
    r->v = m;
    r->value = 0;
    (void)hamf__jval_to_f64(hamf__jobj_get(m, "value"), &r->value);
    r->ts = r->step = 0;
    (void)hamf__jval_to_i64(hamf__jobj_get(m, "timestamp"), &r->ts);
    (void)hamf__jval_to_i64(hamf__jobj_get(m, "step"), &r->step);
}

static hamf_status put_metric(struct hamf__buf *out, const struct mrow *r, bool first)
{
    const struct hamf__jval *k = hamf__jobj_get(r->v, "key"), *v = hamf__jobj_get(r->v, "value");
    hamf_status s = hamf__buf_puts(out, first ? "{\"key\":" : ",{\"key\":");
    if (!s) s = hamf__json_str(out, k && k->type == HAMF__JSTR ? k->str : "", (size_t)-1);
    if (!s) s = hamf__buf_puts(out, ",\"value\":");
    if (!s) s = v && v->type == HAMF__JSTR ? hamf__json_str(out, v->str, v->len) : hamf__json_num(out, r->value);
    if (!s)
        s = hamf__buf_printf(out, ",\"timestamp\":%lld,\"step\":%lld,\"run_id\":", (long long)r->ts,
                             (long long)r->step);
    if (!s) s = hamf__json_str(out, r->run_id, (size_t)-1);
    if (!s) s = hamf__buf_putc(out, '}');
    return s;
}

#define BULK_MAX_RUNS 100
#define BULK_MAX_RESULTS 25000

static void h_history_bulk(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    size_t nrun = 0, total = 0, cap = 0;
    const char **runs = query_list(req, "run_id", &nrun);
    struct history *hs = NULL;
    struct mrow *rows = NULL;
    if (!runs) goto nomem;
    if (!nrun) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE",
                        "GetMetricHistoryBulk request must specify at least one run_id.");
        goto done;
    }
    if (nrun > BULK_MAX_RUNS) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE",
                        "GetMetricHistoryBulk request cannot specify more than %d run_ids. Received %zu run_ids.",
                        BULK_MAX_RUNS, nrun);
        goto done;
    }
    const char *key = hamf__http_query(req, "metric_key");
    if (!key) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "GetMetricHistoryBulk request must specify a metric_key.");
        goto done;
    }
    int64_t max = BULK_MAX_RESULTS;
    const char *mr = hamf__http_query(req, "max_results");
    if (mr && !parse_i64_str(mr, &max)) {
        hamf__api_bad_query_value(resp, "max_results", mr);
        goto done;
    }
    if (max > BULK_MAX_RESULTS) max = BULK_MAX_RESULTS;
    struct hamf__trk *t = hamf__api_trk(ctx, resp);
    if (!t) goto done;
    qsort(runs, nrun, sizeof *runs, cmp_str);
    if (!(hs = hamf__calloc(nrun, sizeof *hs))) goto nomem;
    hamf_status s = HAMF_OK;
    for (size_t i = 0; i < nrun && !s && (int64_t)total < max; i++) {
        if (i && !strcmp(runs[i], runs[i - 1])) continue; /* a run named twice counts once */
        if ((s = history_load(t, runs[i], key, &hs[i]))) break;
        size_t n = hs[i].metrics ? hs[i].metrics->len : 0;
        if (!n) continue;
        if (total + n > cap) {
            size_t nc = (total + n) * 2;
            struct mrow *nr = hamf__realloc(rows, nc * sizeof *nr);
            if (!nr) goto nomem;
            rows = nr;
            cap = nc;
        }
        for (size_t j = 0; j < n; j++) mrow_fill(&rows[total + j], runs[i], &hs[i].metrics->items[j]);
        qsort(rows + total, n, sizeof *rows, cmp_ts_step_value);
        total += n;
    }
    if (!s) s = hamf__buf_puts(&resp->body, "{\"metrics\":[");
    for (size_t i = 0; !s && i < total && (int64_t)i < max; i++) s = put_metric(&resp->body, &rows[i], i == 0);
    if (!s) s = hamf__buf_puts(&resp->body, "]}");
    if (s) hamf__api_status_error(resp, s);
    goto done;
nomem:
    hamf__api_error(resp, 503, "TEMPORARILY_UNAVAILABLE", "out of memory");
done:
    for (size_t i = 0; hs && i < nrun; i++) hamf__jdoc_free(hs[i].doc);
    hamf__free(hs);
    hamf__free(rows);
    hamf__free(runs);
}

#define INTERVAL_MAX_RESULTS 2500

/* MLflow's _get_sampled_steps_from_steps: from the sorted distinct steps in
 * [start, end], about max evenly spaced ones plus the last. */
static size_t sample_steps(const int64_t *all, size_t n, int64_t start, int64_t end, int64_t max, int64_t *out)
{
    size_t lo = 0, hi = 0;
    while (lo < n && all[lo] < start) lo++;
    hi = lo;
    while (hi < n && all[hi] <= end) hi++;
    size_t k = 0;
    if ((int64_t)(hi - lo) <= max) {
        for (size_t i = lo; i < hi; i++) out[k++] = all[i];
        return k;
    }
    size_t num = hi - lo;
    double interval = (double)num / (double)max;
    for (int64_t i = 0; i < max; i++) {
        size_t idx = lo + (size_t)((double)i * interval);
        if (idx < num) out[k++] = all[idx]; /* sic: compared with the count, as MLflow */
    }
    out[k++] = all[hi - 1];
    return k;
}

static void h_history_bulk_interval(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    size_t nrun = 0, total = 0, cap = 0, nall = 0;
    const char **runs = query_list(req, "run_ids", &nrun);
    struct history *hs = NULL;
    struct mrow *rows = NULL;
    int64_t *all = NULL, *keep = NULL;
    if (!runs) goto nomem;
    if (!nrun) {
        hamf__api_missing(resp, "run_ids");
        goto done;
    }
    if (nrun > BULK_MAX_RUNS) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE",
                        "GetMetricHistoryBulkInterval request must specify at most %d run_ids. Received %zu "
                        "run_ids." API_DOCS,
                        BULK_MAX_RUNS, nrun);
        goto done;
    }
    const char *key = hamf__http_query(req, "metric_key");
    if (!key || !*key) {
        hamf__api_missing(resp, "metric_key");
        goto done;
    }
    const char *ss = hamf__http_query(req, "start_step"), *es = hamf__http_query(req, "end_step");
    const char *mr = hamf__http_query(req, "max_results");
    int64_t start = 0, end = 0, max = INTERVAL_MAX_RESULTS;
    if (ss && !parse_i64_str(ss, &start)) {
        hamf__api_bad_query_value(resp, "start_step", ss);
        goto done;
    }
    if (es && !parse_i64_str(es, &end)) {
        hamf__api_bad_query_value(resp, "end_step", es);
        goto done;
    }
    if (mr && !parse_i64_str(mr, &max)) {
        hamf__api_bad_query_value(resp, "max_results", mr);
        goto done;
    }
    if (max < 1 || max > INTERVAL_MAX_RESULTS) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "max_results must be between 1 and %d." API_DOCS,
                        INTERVAL_MAX_RESULTS);
        goto done;
    }
    if (ss && es && start > end) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE",
                        "end_step must be greater than start_step. Found start_step=%lld and end_step=%lld.",
                        (long long)start, (long long)end);
        goto done;
    }
    if ((ss != NULL) != (es != NULL)) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE",
                        "If either start step or end step are specified, both must be specified.");
        goto done;
    }
    struct hamf__trk *t = hamf__api_trk(ctx, resp);
    if (!t) goto done;
    if (!(hs = hamf__calloc(nrun, sizeof *hs))) goto nomem;
    hamf_status s = HAMF_OK;
    size_t nsteps = 0;
    for (size_t i = 0; i < nrun && !s; i++) {
        if ((s = history_load(t, runs[i], key, &hs[i]))) break;
        nsteps += hs[i].metrics ? hs[i].metrics->len : 0;
    }
    if (s) {
        hamf__api_status_error(resp, s);
        goto done;
    }
    /* every step of every run, and each run's first and last step */
    if (!(all = hamf__calloc(nsteps + 1, sizeof *all)) || !(keep = hamf__calloc(nsteps + 2 * nrun + (size_t)max + 2, sizeof *keep)))
        goto nomem;
    size_t nkeep = 0;
    for (size_t i = 0; i < nrun; i++) {
        size_t n = hs[i].metrics ? hs[i].metrics->len : 0;
        int64_t mn = 0, mx = 0;
        for (size_t j = 0; j < n; j++) {
            int64_t st = 0;
            (void)hamf__jval_to_i64(hamf__jobj_get(&hs[i].metrics->items[j], "step"), &st);
            all[nall++] = st;
            if (!j || st < mn) mn = st;
            if (!j || st > mx) mx = st;
        }
        if (n) {
            keep[nkeep++] = mn;
            keep[nkeep++] = mx;
        }
    }
    qsort(all, nall, sizeof *all, cmp_i64);
    size_t w = 0;
    for (size_t i = 0; i < nall; i++)
        if (!w || all[i] != all[w - 1]) all[w++] = all[i];
    nall = w;
    if (!ss && !es) {
        start = 0;
        end = nall ? all[nall - 1] : 0;
    }
    /* min/max steps outside [start, end] are dropped */
    w = 0;
    for (size_t i = 0; i < nkeep; i++)
        if (keep[i] >= start && keep[i] <= end) keep[w++] = keep[i];
    nkeep = w;
    nkeep += sample_steps(all, nall, start, end, max, keep + nkeep);
    qsort(keep, nkeep, sizeof *keep, cmp_i64);
    w = 0;
    for (size_t i = 0; i < nkeep; i++)
        if (!w || keep[i] != keep[w - 1]) keep[w++] = keep[i];
    nkeep = w;
    /* each run's metrics at those steps (step, timestamp, value order),
     * runs in the order asked, at most BULK_MAX_RESULTS per run */
    for (size_t i = 0; i < nrun; i++) {
        size_t n = hs[i].metrics ? hs[i].metrics->len : 0, first = total, added = 0;
        if (total + n > cap) {
            size_t nc = (total + n) * 2 + 1;
            struct mrow *nr = hamf__realloc(rows, nc * sizeof *nr);
            if (!nr) goto nomem;
            rows = nr;
            cap = nc;
        }
        for (size_t j = 0; j < n; j++) {
            struct mrow r;
            mrow_fill(&r, runs[i], &hs[i].metrics->items[j]);
            if (bsearch(&r.step, keep, nkeep, sizeof *keep, cmp_i64)) rows[total + added++] = r;
        }
        qsort(rows + first, added, sizeof *rows, cmp_step_ts_value);
        total += added < BULK_MAX_RESULTS ? added : BULK_MAX_RESULTS;
    }
    s = hamf__buf_puts(&resp->body, "{\"metrics\":[");
    for (size_t i = 0; !s && i < total; i++) s = put_metric(&resp->body, &rows[i], i == 0);
    if (!s) s = hamf__buf_puts(&resp->body, "]}");
    if (s) hamf__api_status_error(resp, s);
    goto done;
nomem:
    hamf__api_error(resp, 503, "TEMPORARILY_UNAVAILABLE", "out of memory");
done:
    for (size_t i = 0; hs && i < nrun; i++) hamf__jdoc_free(hs[i].doc);
    hamf__free(hs);
    hamf__free(rows);
    hamf__free(all);
    hamf__free(keep);
    hamf__free(runs);
}

/* ---- JSON bodies ---- */

static bool json_body(const struct hamf__http_req *req, struct hamf__http_resp *resp, struct hamf__jdoc **doc)
{
    const char *ct = req->content_type;
    if (!ct || strncasecmp(ct, "application/json", 16)) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Content-Type must be one of ['application/json']");
        return false;
    }
    if (hamf__json_parse(req->body, req->body_len, HAMF__JSON_MAX_DEPTH, doc) ||
        hamf__jdoc_root(*doc)->type != HAMF__JOBJ) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "The request body must be a JSON object");
        return false;
    }
    return true;
}

/* ---- search-datasets ---- */

#define DATASETS_MAX_EXPERIMENTS 20
#define DATASETS_MAX_RESULTS 1000

struct dsum {
    char *exp, *name, *digest, *context; /* context NULL = none */
};

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static void h_search_datasets(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    struct hamf__jdoc *doc = NULL, *page = NULL;
    struct dsum *sums = NULL;
    size_t nsum = 0;
    struct hamf__buf b, tok;
    hamf__buf_init(&b, 0);
    hamf__buf_init(&tok, 0);
    if (!json_body(req, resp, &doc)) goto done;
    const struct hamf__jval *ids = hamf__jobj_get(hamf__jdoc_root(doc), "experiment_ids");
    if (!ids || ids->type != HAMF__JARR || !ids->len) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "SearchDatasets request must specify at least one experiment_id.");
        goto done;
    }
    if (ids->len > DATASETS_MAX_EXPERIMENTS) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE",
                        "SearchDatasets request cannot specify more than %d experiment_ids. Received %zu experiment_ids.",
                        DATASETS_MAX_EXPERIMENTS, ids->len);
        goto done;
    }
    const char *exp_ids[DATASETS_MAX_EXPERIMENTS];
    for (size_t i = 0; i < ids->len; i++) {
        if (ids->items[i].type != HAMF__JSTR) {
            hamf__api_bad_value(resp, "experiment_ids", ids);
            goto done;
        }
        exp_ids[i] = ids->items[i].str;
    }
    struct hamf__trk *t = hamf__api_trk(ctx, resp);
    if (!t) goto done;
    if (!(sums = hamf__calloc(DATASETS_MAX_RESULTS, sizeof *sums))) {
        hamf__api_error(resp, 503, "TEMPORARILY_UNAVAILABLE", "out of memory");
        goto done;
    }
    /* every run of those experiments (deleted ones too), page by page */
    hamf_status s = HAMF_OK;
    char *token = NULL;
    do {
        struct hamf__trk_search q = {
            .view = HAMF__VIEW_ALL, .max_results = 1000, .page_token = token, .exp_ids = exp_ids, .nexp = ids->len};
        hamf__buf_reset(&b);
        s = hamf__buf_putc(&b, '{');
        if (!s) s = hamf__mlflow_run_search_json(t, &q, &b);
        if (!s) s = hamf__buf_putc(&b, '}');
        hamf__free(token);
        token = NULL;
        hamf__jdoc_free(page);
        page = NULL;
        if (!s) s = hamf__json_parse(b.data, b.len, HAMF__JSON_MAX_DEPTH, &page);
        if (s) break;
        const struct hamf__jval *rs = hamf__jobj_get(hamf__jdoc_root(page), "runs");
        for (size_t i = 0; rs && rs->type == HAMF__JARR && i < rs->len && nsum < DATASETS_MAX_RESULTS; i++) {
            const struct hamf__jval *run = &rs->items[i];
            const struct hamf__jval *exp = hamf__jobj_get(hamf__jobj_get(run, "info"), "experiment_id");
            const struct hamf__jval *ins = hamf__jobj_get(hamf__jobj_get(run, "inputs"), "dataset_inputs");
            for (size_t j = 0; ins && ins->type == HAMF__JARR && j < ins->len && nsum < DATASETS_MAX_RESULTS; j++) {
                const struct hamf__jval *ds = hamf__jobj_get(&ins->items[j], "dataset");
                const struct hamf__jval *nm = hamf__jobj_get(ds, "name"), *dg = hamf__jobj_get(ds, "digest");
                const struct hamf__jval *tags = hamf__jobj_get(&ins->items[j], "tags");
                const char *context = NULL;
                for (size_t k = 0; tags && tags->type == HAMF__JARR && k < tags->len; k++) {
                    const struct hamf__jval *tk = hamf__jobj_get(&tags->items[k], "key");
                    const struct hamf__jval *tv = hamf__jobj_get(&tags->items[k], "value");
                    if (tk && tk->type == HAMF__JSTR && !strcmp(tk->str, "mlflow.data.context") && tv &&
                        tv->type == HAMF__JSTR)
                        context = tv->str;
                }
                struct dsum d = {
                    .exp = exp && exp->type == HAMF__JSTR ? (char *)exp->str : "",
                    .name = nm && nm->type == HAMF__JSTR ? (char *)nm->str : "",
                    .digest = dg && dg->type == HAMF__JSTR ? (char *)dg->str : "",
                    .context = (char *)context,
                };
                bool dup = false;
                for (size_t k = 0; k < nsum && !dup; k++)
                    dup = !strcmp(sums[k].exp, d.exp) && !strcmp(sums[k].name, d.name) &&
                          !strcmp(sums[k].digest, d.digest) && same(sums[k].context, d.context);
                if (dup) continue;
                sums[nsum].exp = hamf__strdup(d.exp);
                sums[nsum].name = hamf__strdup(d.name);
                sums[nsum].digest = hamf__strdup(d.digest);
                sums[nsum].context = d.context ? hamf__strdup(d.context) : NULL;
                nsum++;
                if (!sums[nsum - 1].exp || !sums[nsum - 1].name || !sums[nsum - 1].digest ||
                    (d.context && !sums[nsum - 1].context)) {
                    s = hamf__err(HAMF_ERR_NOMEM, "search-datasets: out of memory");
                    break;
                }
            }
        }
        const struct hamf__jval *nt = hamf__jobj_get(hamf__jdoc_root(page), "next_page_token");
        if (!s && nt && nt->type == HAMF__JSTR && *nt->str && nsum < DATASETS_MAX_RESULTS) {
            if (!(token = hamf__strdup(nt->str))) s = hamf__err(HAMF_ERR_NOMEM, "search-datasets: out of memory");
        }
    } while (!s && token);
    hamf__free(token);
    if (s) {
        hamf__api_status_error(resp, s);
        goto done;
    }
    s = hamf__buf_puts(&resp->body, "{\"dataset_summaries\":[");
    for (size_t i = 0; !s && i < nsum; i++) {
        s = hamf__buf_puts(&resp->body, i ? ",{\"experiment_id\":" : "{\"experiment_id\":");
        if (!s) s = hamf__json_str(&resp->body, sums[i].exp, (size_t)-1);
        if (!s) s = hamf__buf_puts(&resp->body, ",\"name\":");
        if (!s) s = hamf__json_str(&resp->body, sums[i].name, (size_t)-1);
        if (!s) s = hamf__buf_puts(&resp->body, ",\"digest\":");
        if (!s) s = hamf__json_str(&resp->body, sums[i].digest, (size_t)-1);
        if (!s) s = hamf__buf_puts(&resp->body, ",\"context\":");
        if (!s) s = sums[i].context ? hamf__json_str(&resp->body, sums[i].context, (size_t)-1)
                                    : hamf__buf_puts(&resp->body, "null");
        if (!s) s = hamf__buf_putc(&resp->body, '}');
    }
    if (!s) s = hamf__buf_puts(&resp->body, "]}");
    if (s) hamf__api_status_error(resp, s);
done:
    for (size_t i = 0; sums && i < nsum; i++) {
        hamf__free(sums[i].exp);
        hamf__free(sums[i].name);
        hamf__free(sums[i].digest);
        hamf__free(sums[i].context);
    }
    hamf__free(sums);
    hamf__jdoc_free(page);
    hamf__jdoc_free(doc);
    hamf__buf_free(&b);
    hamf__buf_free(&tok);
}

/* ---- create-promptlab-run ---- */

/* MLflow's prompt-engineering UI creates a run holding a "promptlab"
 * pyfunc model (a pickled Python model and its environment files); hamf
 * cannot write that format, so after MLflow's validation it answers 501
 * NOT_IMPLEMENTED and creates nothing. */
static void h_promptlab(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    struct hamf__jdoc *doc = NULL;
    if (!json_body(req, resp, &doc)) goto done;
    static const char *const required[] = {"experiment_id", "prompt_template", "prompt_parameters",
                                           "model_route", "model_input", "mlflow_version"};
    for (size_t i = 0; i < HAMF_ARRAY_LEN(required); i++) {
        const struct hamf__jval *v = hamf__jobj_get(hamf__jdoc_root(doc), required[i]);
        bool empty = !v || v->type == HAMF__JNULL || (v->type == HAMF__JSTR && !v->len) ||
                     ((v->type == HAMF__JARR || v->type == HAMF__JOBJ) && !v->len) ||
                     (v->type == HAMF__JBOOL && !v->b) || (v->type == HAMF__JNUM && v->num == 0);
        if (empty) {
            hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "CreatePromptlabRun request must specify %s.",
                            required[i]);
            goto done;
        }
    }
    hamf__api_error(resp, 501, "NOT_IMPLEMENTED",
                    "hamf server does not create prompt-engineering runs: their promptlab model is a pickled "
                    "Python model that only MLflow's Python server can write");
done:
    hamf__jdoc_free(doc);
}

/* ---- gateway-proxy ---- */

/* Without a deployments target MLflow answers an empty endpoint list;
 * hamf never has one. */
static void h_gateway_proxy(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    (void)hamf__buf_puts(&resp->body, "{\"endpoints\":[]}");
}

/* ---- artifacts of a run ---- */

/* The root and relative directory of run `id`'s artifacts. */
static bool run_artifacts(void *ctx, const char *id, struct hamf__http_resp *resp, struct hamf__artifacts **root,
                          char **rel)
{
    struct hamf__trk *t = hamf__api_trk(ctx, resp);
    if (!t) return false;
    char *uri = NULL;
    hamf_status s = hamf__trk_run_artifact_uri(t, id, &uri);
    if (!s) s = hamf__artifacts_resolve(ctx, uri, root, rel);
    hamf__free(uri);
    if (s) hamf__api_status_error(resp, s);
    return !s;
}

static void h_get_artifact(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    const char *id = hamf__http_query(req, "run_id");
    if (!id || !*id) id = hamf__http_query(req, "run_uuid");
    const char *path = hamf__http_query(req, "path");
    if (!path) {
        hamf__api_missing(resp, "path");
        return;
    }
    if (!hamf__api_path_is_safe(path)) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Invalid path");
        return;
    }
    if (!id || !*id) {
        hamf__api_missing(resp, "run_id");
        return;
    }
    struct hamf__artifacts *root;
    char *rel = NULL;
    if (!run_artifacts(ctx, id, resp, &root, &rel)) return;
    char *full = hamf__asprintf("%s%s%s", rel, *rel ? "/" : "", path);
    if (full) hamf__artifacts_send(root, full, resp);
    else hamf__api_error(resp, 503, "TEMPORARILY_UNAVAILABLE", "out of memory");
    hamf__free(full);
    hamf__free(rel);
}

#define UPLOAD_MAX (16 * 1024 * 1024)

static void h_upload_artifact(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    const char *id = hamf__http_query(req, "run_uuid");
    if (!id || !*id) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Request must specify run_uuid.");
        return;
    }
    const char *path = hamf__http_query(req, "path");
    if (!path || !*path) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Request must specify path.");
        return;
    }
    if (!hamf__api_path_is_safe(path)) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Invalid path");
        return;
    }
    if (!req->body_len) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Request must specify data.");
        return;
    }
    struct hamf__artifacts *root;
    char *rel = NULL;
    if (!run_artifacts(ctx, id, resp, &root, &rel)) return;
    uint64_t max = hamf__artifacts_max_bytes(root);
    if (max && req->body_len > max) {
        hamf__api_error(resp, 413, "RESOURCE_LIMIT_EXCEEDED",
                        "Artifact upload is larger than the server's limit of %llu bytes (--max-artifact-bytes)",
                        (unsigned long long)max);
        hamf__free(rel);
        return;
    }
    char *full = hamf__asprintf("%s%s%s", rel, *rel ? "/" : "", path);
    hamf_status s = full ? hamf__artifacts_write(root, full, req->body, req->body_len)
                         : hamf__err(HAMF_ERR_NOMEM, "out of memory");
    if (s) hamf__api_status_error(resp, s);
    else (void)hamf__buf_puts(&resp->body, "{}");
    hamf__free(full);
    hamf__free(rel);
}

/* ---- artifacts of a model version ---- */

static void h_mv_get_artifact(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    const char *name = hamf__http_query(req, "name"), *version = hamf__http_query(req, "version");
    const char *path = hamf__http_query(req, "path");
    if (!path) {
        hamf__api_missing(resp, "path");
        return;
    }
    if (!hamf__api_path_is_safe(path)) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Invalid path");
        return;
    }
    if (!name || !*name) {
        hamf__api_missing(resp, "name");
        return;
    }
    if (!version || !*version) {
        hamf__api_missing(resp, "version");
        return;
    }
    char *source = NULL, *rel = NULL, *full = NULL;
    struct hamf__artifacts *root;
    hamf_status s = hamf__api_model_version_source(ctx, name, version, &source);
    if (!s) s = hamf__artifacts_resolve(ctx, source, &root, &rel);
    if (!s && !(full = hamf__asprintf("%s%s%s", rel, *rel ? "/" : "", path))) s = hamf__err(HAMF_ERR_NOMEM, "out of memory");
    if (s) hamf__api_status_error(resp, s);
    else hamf__artifacts_send(root, full, resp);
    hamf__free(full);
    hamf__free(rel);
    hamf__free(source);
}

/* ---- routes ---- */

#define AJAX "/ajax-api/2.0/mlflow/"

const struct hamf__http_route hamf__ui_api_routes[] = {
    {"GET", AJAX "metrics/get-history-bulk", 0, h_history_bulk, NULL},
    {"GET", AJAX "metrics/get-history-bulk-interval", 0, h_history_bulk_interval, NULL},
    {"POST", AJAX "experiments/search-datasets", 1024 * 1024, h_search_datasets, NULL},
    {"POST", AJAX "runs/create-promptlab-run", 4 * 1024 * 1024, h_promptlab, NULL},
    {"GET", AJAX "gateway-proxy", 0, h_gateway_proxy, NULL},
    {"POST", AJAX "gateway-proxy", 1024 * 1024, h_gateway_proxy, NULL},
    {"POST", AJAX "upload-artifact", UPLOAD_MAX, h_upload_artifact, NULL},
    {"GET", "/get-artifact", 0, h_get_artifact, NULL},
    {"GET", "/model-versions/get-artifact", 0, h_mv_get_artifact, NULL},
};
const size_t hamf__ui_api_nroutes = HAMF_ARRAY_LEN(hamf__ui_api_routes);
