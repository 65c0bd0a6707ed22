/*
 * mlflow_api.c — the MLflow REST API 2.0 subset of `hamf server` (paths,
 * fields, JSON shapes and error codes as in
 * shared/specs/mlflow-rest-subset.md), plus the GET form of runs/search
 * the HAMF seed script uses, and the server's start/stop.
 *
 * Each handler reads its fields from the JSON body (POST) or the query
 * string (GET) through one accessor, so the GET and POST forms of a search
 * share their code; it validates types (ids are strings, int64 fields
 * numbers or numeric strings, enums names or numbers), calls the tracking
 * store and answers its JSON. Client mistakes are 4xx with MLflow's error
 * JSON, never 5xx. Every worker thread of the HTTP pool keeps its own
 * tracking-store connection, opened on first use and closed when the
 * thread ends.
 */
#include "server/alerts.h"
#include "server/api.h"
#include "server/api_args.h"
#include "server/auth.h"
#include "server/metrics_mount.h"
#include "server/registry_api.h"
#include "server/ui.h"

#include "store/search.h"
#include "store/tracking.h"
#include "server/mlflow_json.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define JSON_BODY_MAX (1024 * 1024)
#define BATCH_BODY_MAX 1000000 /* MLflow's log-batch request limit */
#define INPUTS_BODY_MAX (4 * 1024 * 1024)

/* ---- errors: hamf__api_error / hamf__api_status_error are api_error.c's ---- */

static void router_error(int status, const char *message, struct hamf__http_resp *resp)
{
    if (status == 404)
        hamf__api_error(resp, 404, "ENDPOINT_NOT_FOUND", "%s", message);
    else if (status == 405)
        hamf__api_error(resp, 405, "BAD_REQUEST", "%s", message);
    else if (status == 401)
        hamf__api_error(resp, 401, "UNAUTHENTICATED", "%s", message);
    else
        hamf__api_error(resp, status, status == 503 ? "TEMPORARILY_UNAVAILABLE" : "INVALID_PARAMETER_VALUE", "%s",
                        message);
}

/* ---- per-thread store connection ---- */

static pthread_key_t trk_key;
static pthread_once_t trk_once = PTHREAD_ONCE_INIT;

static void trk_destroy(void *p)
{
    hamf__trk_close(p);
}

static void trk_key_init(void)
{
    (void)pthread_key_create(&trk_key, trk_destroy);
}

struct hamf__trk *hamf__api_trk(void *ctx, struct hamf__http_resp *resp)
{
    pthread_once(&trk_once, trk_key_init);
    struct hamf__trk *t = pthread_getspecific(trk_key);
    if (t) return t;
    const struct hamf__server_ctx *c = ctx;
    struct hamf__trk_options o = {.sync_normal = !c->sync_full, .artifact_root = c->artifact_root};
    hamf_status s = hamf__trk_open_opts(c->db_url, &o, &t);
    if (s) {
        hamf__api_error(resp, 503, "TEMPORARILY_UNAVAILABLE", "%s", hamf_last_error());
        return NULL;
    }
    pthread_setspecific(trk_key, t);
    return t;
}

/* ---- request fields (api_args.c, the tracking API's style) ---- */

/* run_id, or its alias run_uuid. */
static int arg_run_id(struct hamf__args *a, const char **out)
{
    int r = hamf__arg_str(a, "run_id", out);
    if (r == 0) r = hamf__arg_str(a, "run_uuid", out);
    if (r == 0 || (r == 1 && !**out)) {
        hamf__api_missing(a->resp, "run_id");
        return -1;
    }
    return r;
}

/* view type: a name or MLflow's number */
static int arg_view(struct hamf__args *a, const char *name, int *out)
{
    const char *s = NULL;
    int64_t n;
    int r;
    if (a->obj) {
        const struct hamf__jval *v = hamf__args_field(a, name);
        if (!v) return 0;
        if (v->type == HAMF__JNUM) {
            if (!hamf__jval_to_i64(v, &n) || n < 1 || n > 3) goto bad;
            *out = (int)n;
            return 1;
        }
    }
    if ((r = hamf__arg_str(a, name, &s)) <= 0) return r;
    if (!strcmp(s, "ACTIVE_ONLY") || !strcmp(s, "1")) *out = HAMF__VIEW_ACTIVE_ONLY;
    else if (!strcmp(s, "DELETED_ONLY") || !strcmp(s, "2")) *out = HAMF__VIEW_DELETED_ONLY;
    else if (!strcmp(s, "ALL") || !strcmp(s, "3")) *out = HAMF__VIEW_ALL;
    else goto bad;
    return 1;
bad:
    hamf__api_error(a->resp, 400, "INVALID_PARAMETER_VALUE",
                    "Invalid value for parameter '%s': expected ACTIVE_ONLY, DELETED_ONLY or ALL", name);
    return -1;
}

/* Key/value pairs from a JSON array of {key, value} objects. */
static int arg_kvs(struct hamf__args *a, const struct hamf__jval *arr, const char *name, struct hamf__trk_kv **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!arr || arr->type == HAMF__JNULL) return 0;
    if (arr->type != HAMF__JARR) goto bad;
    if (!arr->len) return 0;
    struct hamf__trk_kv *kv = hamf__calloc(arr->len, sizeof *kv);
    if (!kv) {
        hamf__api_error(a->resp, 503, "TEMPORARILY_UNAVAILABLE", "out of memory");
        return -1;
    }
    for (size_t i = 0; i < arr->len; i++) {
        const struct hamf__jval *k = hamf__jobj_get(&arr->items[i], "key");
        const struct hamf__jval *v = hamf__jobj_get(&arr->items[i], "value");
        if (!k || k->type != HAMF__JSTR || strlen(k->str) != k->len ||
            (v && v->type != HAMF__JSTR && v->type != HAMF__JNULL) || (v && v->type == HAMF__JSTR && strlen(v->str) != v->len)) {
            hamf__free(kv);
            goto bad;
        }
        kv[i].key = k->str;
        kv[i].value = v && v->type == HAMF__JSTR ? v->str : NULL;
    }
    *out = kv;
    *n = arr->len;
    return 1;
bad:
    hamf__api_bad_value(a->resp, name, arr);
    return -1;
}

static void reply_ok_empty(struct hamf__http_resp *resp)
{
    hamf__buf_reset(&resp->body);
    (void)hamf__buf_puts(&resp->body, "{}");
}

/* A failure becomes MLflow's error answer (the body written so far is
 * replaced). */
static void finish(struct hamf__http_resp *resp, hamf_status s)
{
    if (s) hamf__api_status_error(resp, s);
}

/* The same for a handler whose success answer is {} */
static void finish_empty(struct hamf__http_resp *resp, hamf_status s)
{
    if (!s) reply_ok_empty(resp);
    finish(resp, s);
}

/* The same for a handler that opened an object ("{" or "{\"key\":") and
 * wrote its contents: close it on success. */
static void finish_obj(struct hamf__http_resp *resp, hamf_status s)
{
    if (!s) s = hamf__buf_putc(&resp->body, '}');
    finish(resp, s);
}

#define BEGIN(a)                                               \
    struct hamf__args a;                                       \
    if (!hamf__args_init(&a, req, resp, HAMF__API_TRACKING)) { \
        hamf__args_free(&a);                                   \
        return;                                                \
    }                                                          \
    struct hamf__trk *t = hamf__api_trk(ctx, resp);            \
    if (!t) {                                                  \
        hamf__args_free(&a);                                   \
        return;                                                \
    }

/* ---- experiments ---- */

/* "scheme:..." with an RFC 3986 scheme (letters, digits, + - .) */
static bool has_scheme(const char *uri)
{
    const char *p = uri;
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) return false;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '+' ||
           *p == '-' || *p == '.')
        p++;
    return *p == ':' && p - uri > 1; /* one letter: a Windows drive, not a scheme */
}

static void h_exp_create(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN(a);
    const char *name = NULL, *loc = NULL;
    struct hamf__trk_kv *tags = NULL;
    size_t ntags = 0;
    char *id = NULL, *abs = NULL;
    if (hamf__arg_required(&a, "name", false, &name) < 0 || hamf__arg_str(&a, "artifact_location", &loc) < 0 ||
        arg_kvs(&a, hamf__args_field(&a, "tags"), "tags", &tags, &ntags) < 0)
        goto done;
    /* a relative local path is made absolute against the server's working
     * directory, as MLflow stores it */
    if (loc && *loc && loc[0] != '/' && !has_scheme(loc)) {
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd)) {
            hamf__api_error(resp, 500, "INTERNAL_ERROR", "Cannot resolve artifact_location '%s'", loc);
            goto done;
        }
        const char *r = loc;
        while (r[0] == '.' && r[1] == '/') r += 2;
        if (!(abs = hamf__asprintf("%s/%s", cwd, r))) {
            hamf__api_error(resp, 503, "TEMPORARILY_UNAVAILABLE", "out of memory");
            goto done;
        }
        loc = abs;
    }
    hamf_status s = hamf__trk_exp_create(t, name, loc, tags, ntags, &id);
    if (!s) s = hamf__buf_printf(&resp->body, "{\"experiment_id\":\"%s\"}", id);
    finish(resp, s);
done:
    hamf__free(abs);
    hamf__free(id);
    hamf__free(tags);
    hamf__args_free(&a);
}

/* experiments/get {experiment_id} and experiments/get-by-name
 * {experiment_name}: the route's path says which */
static void h_exp_get(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    bool by_name = strstr(req->path, "/experiments/get-by-name") != NULL;
    BEGIN(a);
    const char *key;
    if (hamf__arg_required(&a, by_name ? "experiment_name" : "experiment_id", false, &key) < 0) goto done;
    hamf_status s = hamf__buf_puts(&resp->body, "{\"experiment\":");
    if (!s)
        s = by_name ? hamf__mlflow_exp_by_name_json(t, key, &resp->body) : hamf__mlflow_exp_json(t, key, &resp->body);
    finish_obj(resp, s);
done:
    hamf__args_free(&a);
}

static void search_common(struct hamf__args *a, struct hamf__trk_search *q, bool runs)
{
    size_t n;
    const char **list;
    int r;
    if ((r = hamf__arg_str(a, "filter", &q->filter)) < 0) goto bad;
    if ((r = hamf__arg_list(a, "order_by", &list, &n)) < 0) goto bad;
    if (r) {
        q->order_by = list;
        q->n_order = n;
    }
    if (arg_view(a, runs ? "run_view_type" : "view_type", &q->view) < 0) goto bad;
    if (hamf__arg_i64(a, "max_results", &q->max_results) < 0) goto bad;
    if (hamf__arg_str(a, "page_token", &q->page_token) < 0) goto bad;
    if (runs) {
        if ((r = hamf__arg_list(a, "experiment_ids", &list, &n)) < 0) goto bad;
        if (r) {
            q->exp_ids = list;
            q->nexp = n;
        }
    }
    return;
bad:
    q->view = -1;
}

/* experiments/search and runs/search: the same fields (runs add
 * experiment_ids and name their view run_view_type), GET or POST; the
 * route's path says which */
static void h_search(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    bool runs = strstr(req->path, "/mlflow/runs/") != NULL;
    BEGIN(a);
    struct hamf__trk_search q = {0};
    search_common(&a, &q, runs);
    if (q.view < 0) goto done;
    hamf_status s = hamf__buf_putc(&resp->body, '{');
    if (!s)
        s = runs ? hamf__mlflow_run_search_json(t, &q, &resp->body) : hamf__mlflow_exp_search_json(t, &q, &resp->body);
    finish_obj(resp, s);
done:
    hamf__args_free(&a);
}

static void h_exp_update(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN(a);
    const char *id, *name = NULL;
    if (hamf__arg_required(&a, "experiment_id", false, &id) < 0 || hamf__arg_str(&a, "new_name", &name) < 0) goto done;
    hamf_status s = name ? hamf__trk_exp_rename(t, id, name) : HAMF_OK;
    if (!name) {
        /* nothing to change, but the experiment must exist */
        struct hamf__buf tmp;
        hamf__buf_init(&tmp, 0);
        s = hamf__mlflow_exp_json(t, id, &tmp);
        hamf__buf_free(&tmp);
    }
    finish_empty(resp, s);
done:
    hamf__args_free(&a);
}

/* experiments/delete, experiments/restore, runs/delete, runs/restore
 * (MLflow's lifecycle_stage): the route's path says which */
static void h_set_deleted(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    bool run = strstr(req->path, "/mlflow/runs/") != NULL;
    size_t n = strlen(req->path);
    bool deleted = n >= 7 && !strcmp(req->path + n - 7, "/delete");
    BEGIN(a);
    const char *id;
    if ((run ? arg_run_id(&a, &id) : hamf__arg_required(&a, "experiment_id", false, &id)) < 0) goto done;
    hamf_status s = run ? hamf__trk_run_set_deleted(t, id, deleted) : hamf__trk_exp_set_deleted(t, id, deleted);
    finish_empty(resp, s);
done:
    hamf__args_free(&a);
}

static void h_exp_set_tag(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN(a);
    const char *id, *key, *value;
    if (hamf__arg_required(&a, "experiment_id", false, &id) < 0 || hamf__arg_required(&a, "key", false, &key) < 0 ||
        hamf__arg_required(&a, "value", false, &value) < 0)
        goto done;
    hamf_status s = hamf__trk_exp_set_tag(t, id, key, value);
    finish_empty(resp, s);
done:
    hamf__args_free(&a);
}

/* ---- runs ---- */

static void h_run_create(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN(a);
    struct hamf__trk_run_new r = {0};
    struct hamf__trk_kv *tags = NULL;
    if (hamf__arg_str(&a, "experiment_id", &r.exp_id) < 0 || hamf__arg_str(&a, "user_id", &r.user_id) < 0 ||
        hamf__arg_str(&a, "run_name", &r.run_name) < 0 || hamf__arg_i64(&a, "start_time", &r.start_time) < 0 ||
        arg_kvs(&a, hamf__args_field(&a, "tags"), "tags", &tags, &r.ntags) < 0)
        goto done;
    r.tags = tags;
    hamf_status s = hamf__buf_puts(&resp->body, "{\"run\":");
    if (!s) s = hamf__mlflow_run_create_json(t, &r, &resp->body);
    finish_obj(resp, s);
done:
    hamf__free(tags);
    hamf__args_free(&a);
}

static void h_run_get(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN(a);
    const char *id;
    if (arg_run_id(&a, &id) < 0) goto done;
    hamf_status s = hamf__buf_puts(&resp->body, "{\"run\":");
    if (!s) s = hamf__mlflow_run_json(t, id, &resp->body);
    finish_obj(resp, s);
done:
    hamf__args_free(&a);
}

static int arg_status(struct hamf__args *a, const char **out)
{
    static const char *const names[] = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"};
    const struct hamf__jval *v = hamf__args_field(a, "status");
    if (!v) return 0;
    int64_t n;
    if (v->type == HAMF__JNUM && hamf__jval_to_i64(v, &n) && n >= 1 && n <= 5) {
        *out = names[n - 1];
        return 1;
    }
    if (v->type == HAMF__JSTR) {
        for (int i = 0; i < 5; i++) {
            if (!strcmp(v->str, names[i])) {
                *out = names[i];
                return 1;
            }
        }
    }
    hamf__api_error(a->resp, 400, "INVALID_PARAMETER_VALUE",
                    "Invalid value for parameter 'status': expected RUNNING, SCHEDULED, FINISHED, FAILED or KILLED");
    return -1;
}

static void h_run_update(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN(a);
    const char *id, *status = NULL, *name = NULL;
    int64_t end = 0;
    int has_end;
    if (arg_run_id(&a, &id) < 0 || arg_status(&a, &status) < 0 || (has_end = hamf__arg_i64(&a, "end_time", &end)) < 0 ||
        hamf__arg_str(&a, "run_name", &name) < 0)
        goto done;
    hamf_status s = hamf__buf_puts(&resp->body, "{\"run_info\":");
    if (!s) s = hamf__mlflow_run_update_json(t, id, status, has_end == 1, end, name, &resp->body);
    finish_obj(resp, s);
done:
    hamf__args_free(&a);
}

/* One metric object {key, value, timestamp, step}; for log-metric the
 * object is the request itself. */
static int parse_metric(struct hamf__args *a, const struct hamf__jval *o, const struct hamf__jval *whole,
                        struct hamf__trk_metric *m)
{
    if (whole) {
        /* log-batch: MLflow reports any bad metric as the whole list */
        if (o->type != HAMF__JOBJ) goto bad_whole;
        int r = parse_metric(a, o, NULL, m);
        if (r < 0) goto bad_whole;
        return r;
    bad_whole:
        hamf__api_bad_value(a->resp, "metrics", whole);
        return -1;
    }
    const struct hamf__jval *k = hamf__jobj_get(o, "key");
    const struct hamf__jval *v = hamf__jobj_get(o, "value");
    const struct hamf__jval *ts = hamf__jobj_get(o, "timestamp");
    const struct hamf__jval *st = hamf__jobj_get(o, "step");
    if (!k || k->type == HAMF__JNULL || (k->type == HAMF__JSTR && !k->len)) {
        hamf__api_missing(a->resp, "key");
        return -1;
    }
    if (k->type != HAMF__JSTR || strlen(k->str) != k->len) {
        hamf__api_bad_value(a->resp, "key", k);
        return -1;
    }
    if (!v || v->type == HAMF__JNULL) {
        hamf__api_missing(a->resp, "value");
        return -1;
    }
    if (!hamf__jval_to_f64(v, &m->value)) {
        hamf__api_bad_value(a->resp, "value", v);
        return -1;
    }
    if (!ts || ts->type == HAMF__JNULL) {
        hamf__api_missing(a->resp, "timestamp");
        return -1;
    }
    if (!hamf__jval_to_i64(ts, &m->timestamp)) {
        hamf__api_bad_value(a->resp, "timestamp", ts);
        return -1;
    }
    m->step = 0;
    if (st && st->type != HAMF__JNULL && !hamf__jval_to_i64(st, &m->step)) {
        hamf__api_bad_value(a->resp, "step", st);
        return -1;
    }
    m->key = k->str;
    return 1;
}

static void h_log_metric(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN(a);
    const char *id;
    struct hamf__trk_metric m;
    if (arg_run_id(&a, &id) < 0) goto done;
    if (!a.obj) {
        hamf__api_missing(resp, "key");
        goto done;
    }
    if (parse_metric(&a, a.obj, NULL, &m) < 0) goto done;
    hamf_status s = hamf__trk_log_batch(t, id, &m, 1, NULL, 0, NULL, 0);
    finish_empty(resp, s);
done:
    hamf__args_free(&a);
}

/* runs/log-parameter and runs/set-tag: {run_id, key, value}; the route's
 * path says which */
static void h_log_kv(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    bool tag = strstr(req->path, "/runs/set-tag") != NULL;
    BEGIN(a);
    struct hamf__trk_kv kv;
    const char *id;
    if (arg_run_id(&a, &id) < 0 || hamf__arg_required(&a, "key", false, &kv.key) < 0 ||
        hamf__arg_required(&a, "value", false, &kv.value) < 0)
        goto done;
    finish_empty(resp, tag ? hamf__trk_log_batch(t, id, NULL, 0, NULL, 0, &kv, 1)
                           : hamf__trk_log_batch(t, id, NULL, 0, &kv, 1, NULL, 0));
done:
    hamf__args_free(&a);
}

static void h_delete_tag(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN(a);
    const char *id, *key;
    if (arg_run_id(&a, &id) < 0 || hamf__arg_required(&a, "key", false, &key) < 0) goto done;
    hamf_status s = hamf__trk_delete_tag(t, id, key);
    finish_empty(resp, s);
done:
    hamf__args_free(&a);
}

static void h_log_batch(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN(a);
    const char *id;
    struct hamf__trk_metric *m = NULL;
    struct hamf__trk_kv *p = NULL, *tg = NULL;
    size_t nm = 0, np = 0, nt = 0;
    if (arg_run_id(&a, &id) < 0) goto done;
    const struct hamf__jval *ms = hamf__args_field(&a, "metrics");
    if (ms) {
        if (ms->type != HAMF__JARR) {
            hamf__api_bad_value(resp, "metrics", ms);
            goto done;
        }
        if (ms->len > HAMF__TRK_MAX_BATCH_METRICS) {
            hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE",
                            "A batch logging request can contain at most %d metrics. Got %zu metrics.",
                            HAMF__TRK_MAX_BATCH_METRICS, ms->len);
            goto done;
        }
        if (ms->len && !(m = hamf__calloc(ms->len, sizeof *m))) {
            hamf__api_error(resp, 503, "TEMPORARILY_UNAVAILABLE", "out of memory");
            goto done;
        }
        for (size_t i = 0; i < ms->len; i++)
            if (parse_metric(&a, &ms->items[i], ms, &m[i]) < 0) goto done;
        nm = ms->len;
    }
    if (arg_kvs(&a, hamf__args_field(&a, "params"), "params", &p, &np) < 0 ||
        arg_kvs(&a, hamf__args_field(&a, "tags"), "tags", &tg, &nt) < 0)
        goto done;
    /* within one batch the last value of a tag key wins */
    for (size_t i = 0; i < nt; i++)
        for (size_t j = i + 1; j < nt; j++)
            if (tg[i].key && tg[j].key && !strcmp(tg[i].key, tg[j].key)) {
                tg[i] = tg[j];
                tg[j].key = NULL;
            }
    size_t w = 0;
    for (size_t i = 0; i < nt; i++)
        if (tg[i].key) tg[w++] = tg[i];
    hamf_status s = hamf__trk_log_batch(t, id, m, nm, p, np, tg, w);
    finish_empty(resp, s);
done:
    hamf__free(m);
    hamf__free(p);
    hamf__free(tg);
    hamf__args_free(&a);
}

static const char *jstr(const struct hamf__jval *o, const char *k)
{
    const struct hamf__jval *v = hamf__jobj_get(o, k);
    return v && v->type == HAMF__JSTR ? v->str : NULL;
}

static void h_log_inputs(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN(a);
    const char *id;
    struct hamf__trk_input *in = NULL;
    struct hamf__trk_kv **tagsv = NULL;
    size_t n = 0;
    if (arg_run_id(&a, &id) < 0) goto done;
    const struct hamf__jval *ds = hamf__args_field(&a, "datasets");
    if (!ds) { /* required (an empty list is accepted, as MLflow) */
        hamf__api_missing(resp, "datasets");
        goto done;
    }
    if (ds->type != HAMF__JARR) {
        hamf__api_bad_value(resp, "datasets", ds);
        goto done;
    }
    n = ds ? ds->len : 0;
    if (n && (!(in = hamf__calloc(n, sizeof *in)) || !(tagsv = hamf__calloc(n, sizeof *tagsv)))) {
        hamf__api_error(resp, 503, "TEMPORARILY_UNAVAILABLE", "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const struct hamf__jval *di = &ds->items[i];
        const struct hamf__jval *d = hamf__jobj_get(di, "dataset");
        if (!d || d->type != HAMF__JOBJ) {
            hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Each dataset input needs a 'dataset' object");
            goto done;
        }
        in[i].name = jstr(d, "name");
        in[i].digest = jstr(d, "digest");
        in[i].source_type = jstr(d, "source_type");
        in[i].source = jstr(d, "source");
        in[i].schema = jstr(d, "schema");
        in[i].profile = jstr(d, "profile");
        if (arg_kvs(&a, hamf__jobj_get(di, "tags"), "tags", &tagsv[i], &in[i].ntags) < 0) goto done;
        in[i].tags = tagsv[i];
    }
    hamf_status s = hamf__trk_log_inputs(t, id, in, n);
    finish_empty(resp, s);
done:
    for (size_t i = 0; tagsv && i < n; i++) hamf__free(tagsv[i]);
    hamf__free(tagsv);
    hamf__free(in);
    hamf__args_free(&a);
}

/* runs/log-model: append the model's JSON (the client's MLmodel as a dict)
 * to the run's mlflow.log-model.history tag, a JSON list, as MLflow's
 * record_logged_model does. */
#define LOGGED_MODELS_TAG "mlflow.log-model.history"

static void h_log_model(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN(a);
    const char *id, *mj;
    struct hamf__jdoc *model = NULL, *run = NULL;
    struct hamf__buf rb, val;
    hamf__buf_init(&rb, 0);
    hamf__buf_init(&val, 0);
    if (arg_run_id(&a, &id) < 0 || hamf__arg_required(&a, "model_json", false, &mj) < 0) goto done;
    if (!*mj) {
        hamf__api_missing(resp, "model_json");
        goto done;
    }
    if (hamf__json_parse(mj, strlen(mj), HAMF__JSON_MAX_DEPTH, &model) ||
        hamf__jdoc_root(model)->type != HAMF__JOBJ) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Malformed model info. \n %.512s \n is not a valid JSON.",
                        mj);
        goto done;
    }
    static const char *const required[] = {"artifact_path", "flavors", "utc_time_created", "run_id"};
    char missing[128] = "";
    for (size_t i = 0; i < HAMF_ARRAY_LEN(required); i++)
        if (!hamf__jobj_get(hamf__jdoc_root(model), required[i]))
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s'%s'", *missing ? ", " : "",
                     required[i]);
    if (*missing) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Model json is missing mandatory fields: {%s}", missing);
        goto done;
    }
    hamf_status s = hamf__mlflow_run_json(t, id, &rb);
    if (s) {
        finish(resp, s);
        goto done;
    }
    const char *prev = NULL;
    size_t prev_n = 0;
    if (!hamf__json_parse(rb.data, rb.len, HAMF__JSON_MAX_DEPTH, &run)) {
        const struct hamf__jval *tags = hamf__jobj_get(hamf__jobj_get(hamf__jdoc_root(run), "data"), "tags");
        for (size_t i = 0; tags && tags->type == HAMF__JARR && i < tags->len; i++) {
            const struct hamf__jval *k = hamf__jobj_get(&tags->items[i], "key");
            const struct hamf__jval *v = hamf__jobj_get(&tags->items[i], "value");
            if (k && k->type == HAMF__JSTR && !strcmp(k->str, LOGGED_MODELS_TAG) && v && v->type == HAMF__JSTR) {
                prev = v->str;
                prev_n = v->len;
            }
        }
    }
    /* the previous list without its closing bracket, if it is a list */
    size_t keep = 0;
    bool nonempty = false;
    if (prev) {
        struct hamf__jdoc *pd = NULL;
        if (!hamf__json_parse(prev, prev_n, HAMF__JSON_MAX_DEPTH, &pd) && hamf__jdoc_root(pd)->type == HAMF__JARR) {
            nonempty = hamf__jdoc_root(pd)->len > 0;
            keep = prev_n;
            while (keep && prev[keep - 1] != ']') keep--;
            if (keep) keep--;
        }
        hamf__jdoc_free(pd);
    }
    if (keep) s = hamf__buf_append(&val, prev, keep);
    else s = hamf__buf_putc(&val, '[');
    if (!s && nonempty) s = hamf__buf_puts(&val, ", ");
    if (!s) s = hamf__buf_puts(&val, mj);
    if (!s) s = hamf__buf_putc(&val, ']');
    if (s) {
        finish(resp, s);
        goto done;
    }
    struct hamf__trk_kv kv = {LOGGED_MODELS_TAG, val.data};
    s = hamf__trk_log_batch(t, id, NULL, 0, NULL, 0, &kv, 1);
    finish_empty(resp, s);
done:
    hamf__jdoc_free(model);
    hamf__jdoc_free(run);
    hamf__buf_free(&rb);
    hamf__buf_free(&val);
    hamf__args_free(&a);
}

static void h_get_history(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN(a);
    const char *id, *key, *token = NULL;
    int64_t max = 0;
    if (arg_run_id(&a, &id) < 0 || hamf__arg_required(&a, "metric_key", false, &key) < 0 ||
        hamf__arg_i64(&a, "max_results", &max) < 0 || hamf__arg_str(&a, "page_token", &token) < 0)
        goto done;
    if (max < 0) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Invalid value %lld for parameter 'max_results'",
                        (long long)max);
        goto done;
    }
    hamf_status s = hamf__buf_putc(&resp->body, '{');
    if (!s) s = hamf__mlflow_metric_history_json(t, id, key, max, token, &resp->body);
    finish_obj(resp, s);
done:
    hamf__args_free(&a);
}

static void h_artifacts_list(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN(a);
    const char *id, *path = NULL;
    char *uri = NULL, *rel = NULL, *prefix = NULL, *root_rel = NULL;
    if (arg_run_id(&a, &id) < 0 || hamf__arg_str(&a, "path", &path) < 0) goto done;
    if (path && !hamf__api_path_is_safe(path)) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Invalid path");
        goto done;
    }
    hamf_status s = hamf__trk_run_artifact_uri(t, id, &uri);
    if (s) {
        finish(resp, s);
        goto done;
    }
    struct hamf__artifacts *root = NULL;
    s = hamf__artifacts_resolve(ctx, uri, &root, &root_rel);
    if (s == HAMF_ERR_CONSTRAINT) {
        /* stored elsewhere (a remote store, or a local path outside the
         * server's roots): MLflow's clients read such locations
         * themselves; the server only names it */
        s = HAMF_OK;
        root = NULL;
    }
    if (s) {
        finish(resp, s);
        goto done;
    }
    if ((s = hamf__buf_puts(&resp->body, "{\"root_uri\":")) || (s = hamf__json_str(&resp->body, uri, (size_t)-1)))
        goto fail;
    if (root) {
        const char *p = path ? path : "";
        rel = hamf__asprintf("%s%s%s", root_rel, *root_rel ? "/" : "", p);
        size_t pl = strlen(p);
        while (pl && p[pl - 1] == '/') pl--;
        prefix = pl ? hamf__asprintf("%.*s/", (int)pl, p) : hamf__strdup("");
        if (!rel || !prefix) {
            hamf__api_error(resp, 503, "TEMPORARILY_UNAVAILABLE", "out of memory");
            goto done;
        }
        size_t mark = resp->body.len;
        if ((s = hamf__buf_putc(&resp->body, ','))) goto fail;
        size_t before = resp->body.len;
        if ((s = hamf__artifacts_list(root, rel, prefix, &resp->body))) goto fail;
        if (resp->body.len == before) { /* nothing listed: drop the comma */
            resp->body.len = mark;
            resp->body.data[mark] = '\0';
        }
    }
    if ((s = hamf__buf_putc(&resp->body, '}'))) goto fail;
    goto done;
fail:
    finish(resp, s);
done:
    hamf__free(rel);
    hamf__free(root_rel);
    hamf__free(prefix);
    hamf__free(uri);
    hamf__args_free(&a);
}

/* ---- routes and server ---- */

#define API "/api/2.0/mlflow/"
#define ART "/api/2.0/mlflow-artifacts/artifacts"

static const struct hamf__http_route routes[] = {
    {"POST", API "experiments/create", JSON_BODY_MAX, h_exp_create, NULL},
    {"GET", API "experiments/get", 0, h_exp_get, NULL},
    {"GET", API "experiments/get-by-name", 0, h_exp_get, NULL},
    {"POST", API "experiments/search", JSON_BODY_MAX, h_search, NULL},
    {"GET", API "experiments/search", 0, h_search, NULL},
    {"POST", API "experiments/update", JSON_BODY_MAX, h_exp_update, NULL},
    {"POST", API "experiments/delete", JSON_BODY_MAX, h_set_deleted, NULL},
    {"POST", API "experiments/restore", JSON_BODY_MAX, h_set_deleted, NULL},
    {"POST", API "experiments/set-experiment-tag", JSON_BODY_MAX, h_exp_set_tag, NULL},
    {"POST", API "runs/create", JSON_BODY_MAX, h_run_create, NULL},
    {"GET", API "runs/get", 0, h_run_get, NULL},
    {"POST", API "runs/update", JSON_BODY_MAX, h_run_update, NULL},
    {"POST", API "runs/delete", JSON_BODY_MAX, h_set_deleted, NULL},
    {"POST", API "runs/restore", JSON_BODY_MAX, h_set_deleted, NULL},
    {"POST", API "runs/search", JSON_BODY_MAX, h_search, NULL},
    {"GET", API "runs/search", 0, h_search, NULL},
    {"POST", API "runs/log-metric", JSON_BODY_MAX, h_log_metric, NULL},
    {"POST", API "runs/log-parameter", JSON_BODY_MAX, h_log_kv, NULL},
    {"POST", API "runs/log-batch", BATCH_BODY_MAX, h_log_batch, NULL},
    {"POST", API "runs/set-tag", JSON_BODY_MAX, h_log_kv, NULL},
    {"POST", API "runs/delete-tag", JSON_BODY_MAX, h_delete_tag, NULL},
    {"POST", API "runs/log-inputs", INPUTS_BODY_MAX, h_log_inputs, NULL},
    {"POST", API "runs/log-model", JSON_BODY_MAX, h_log_model, NULL},
    {"GET", API "metrics/get-history", 0, h_get_history, NULL},
    {"GET", API "artifacts/list", 0, h_artifacts_list, NULL},
    {"GET", ART, 0, hamf__artifacts_list_route, NULL},
    {"PUT", ART "/*", 0, NULL, &hamf__artifacts_upload},
    {"GET", ART "/*", 0, hamf__artifacts_get, NULL},
    {"DELETE", ART "/*", 0, hamf__artifacts_delete_route, NULL},
    HAMF__REGISTRY_ROUTES, /* the Model Registry (registry_api.c) */
    {"GET", "/metrics", 0, hamf__metrics_server_route, NULL}, /* metrics_mount.c */
    /* closed loop: Alertmanager webhook and retrain jobs (alerts.c) */
    {"POST", "/api/hamf/v1/alerts", JSON_BODY_MAX, hamf__alerts_route, NULL},
    {"GET", "/api/hamf/v1/jobs", 0, hamf__jobs_route, NULL},
    /* the web UI (src/server/ui.c, files embedded from web/) */
    {"GET", "/", 0, hamf__ui_route, NULL},
    {"GET", "/index.html", 0, hamf__ui_route, NULL},
    {"GET", "/static/*", 0, hamf__ui_route, NULL},
};

struct hamf__server {
    struct hamf__server_ctx ctx;
    struct hamf__http_server *http;
    char *db_url;
    char *artifact_root;
    struct hamf__trk *keep; /* holds the store's write group open while serving */
    /* the served table: routes[], mlflow_ui_api.c's, and every
     * /api/2.0/... route again under /ajax-api/2.0/... (the web UI's prefix,
     * as MLflow serves both) */
    struct hamf__http_route *table;
    size_t ntable;
    char **paths; /* the /ajax-api/ path strings [owned] */
    size_t npaths;
};

static hamf_status build_routes(struct hamf__server *s)
{
    size_t nbase = HAMF_ARRAY_LEN(routes) + hamf__ui_api_nroutes, ndup = 0;
    static const char api[] = "/api/2.0/";
    for (size_t i = 0; i < HAMF_ARRAY_LEN(routes); i++)
        if (!strncmp(routes[i].path, api, sizeof api - 1)) ndup++;
    s->table = hamf__calloc(nbase + ndup, sizeof *s->table);
    s->paths = hamf__calloc(ndup ? ndup : 1, sizeof *s->paths);
    if (!s->table || !s->paths) return hamf__err(HAMF_ERR_NOMEM, "server: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < HAMF_ARRAY_LEN(routes); i++) s->table[n++] = routes[i];
    for (size_t i = 0; i < hamf__ui_api_nroutes; i++) s->table[n++] = hamf__ui_api_routes[i];
    for (size_t i = 0; i < HAMF_ARRAY_LEN(routes); i++) {
        if (strncmp(routes[i].path, api, sizeof api - 1)) continue;
        char *p = hamf__asprintf("/ajax-api/2.0/%s", routes[i].path + sizeof api - 1);
        if (!p) return hamf__err(HAMF_ERR_NOMEM, "server: out of memory");
        s->paths[s->npaths++] = p;
        s->table[n] = routes[i];
        s->table[n++].path = p;
    }
    s->ntable = n;
    return HAMF_OK;
}

static void free_routes(struct hamf__server *s)
{
    for (size_t i = 0; i < s->npaths; i++) hamf__free(s->paths[i]);
    hamf__free(s->paths);
    hamf__free(s->table);
}

/* --default-artifact-root: a relative local path made absolute; for a
 * local root (a path or file:// URI), its directory opened as a served
 * root. */
static hamf_status open_artifact_root(struct hamf__server *s, const char *root)
{
    if (!root || !*root) return HAMF_OK;
    bool local = root[0] == '/' || !strncmp(root, "file:", 5) || !has_scheme(root);
    if (local && root[0] != '/' && strncmp(root, "file:", 5)) {
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd)) return hamf__err(HAMF_ERR_IO, "server: cannot resolve '%s'", root);
        s->artifact_root = hamf__asprintf("%s/%s", cwd, root);
    } else {
        s->artifact_root = hamf__strdup(root);
    }
    if (!s->artifact_root) return hamf__err(HAMF_ERR_NOMEM, "server: out of memory");
    size_t n = strlen(s->artifact_root);
    while (n > 1 && s->artifact_root[n - 1] == '/') s->artifact_root[--n] = '\0';
    s->ctx.artifact_root = s->artifact_root;
    if (!local) return HAMF_OK;
    const char *path = s->artifact_root;
    char *decoded = NULL;
    if (!strncmp(path, "file:", 5)) {
        path += 5;
        if (path[0] == '/' && path[1] == '/') {
            path += 2;
            if (!strncmp(path, "localhost/", 10)) path += 9;
            else if (*path != '/') return hamf__err(HAMF_ERR_CONSTRAINT, "--default-artifact-root: '%s' is not a local file URI", root);
        }
        if (!(decoded = hamf__http_unescape(path, strlen(path), false)))
            return hamf__err(HAMF_ERR_CONSTRAINT, "--default-artifact-root: bad escape in '%s'", root);
        path = decoded;
    }
    hamf_status st = hamf__artifacts_open(path, &s->ctx.local_root);
    hamf__free(decoded);
    return st;
}

hamf_status hamf__server_start(const struct hamf__server_config *cfg, struct hamf__server **out)
{
    struct hamf__server *s = hamf__calloc(1, sizeof *s);
    if (!s) return hamf__err(HAMF_ERR_NOMEM, "server: out of memory");
    hamf_status st;
    struct hamf__trk *t = NULL;
    s->db_url = hamf__strdup(cfg->db_url);
    if (!s->db_url) {
        st = hamf__err(HAMF_ERR_NOMEM, "server: out of memory");
        goto fail;
    }
    s->ctx.db_url = s->db_url;
    s->ctx.sync_full = cfg->sync_full;
    if ((st = open_artifact_root(s, cfg->default_artifact_root))) goto fail;
    /* open once here: creates the tables and reports a bad store before listening */
    struct hamf__trk_options o = {.sync_normal = !cfg->sync_full, .artifact_root = s->ctx.artifact_root};
    if ((st = hamf__trk_open_opts(cfg->db_url, &o, &t))) goto fail;
    if ((st = hamf__artifacts_open(cfg->artifacts_dir, &s->ctx.artifacts))) goto fail;
    hamf_store *reg = NULL; /* the model registry's tables, before the first request */
    if ((st = hamf__registry_open(cfg->db_url, &reg))) goto fail;
    hamf_store_close(reg);
    hamf__artifacts_set_max_bytes(s->ctx.artifacts, cfg->max_artifact_bytes);
    if (s->ctx.local_root) hamf__artifacts_set_max_bytes(s->ctx.local_root, cfg->max_artifact_bytes);
    if ((st = build_routes(s))) goto fail;
    struct hamf__http_config hc = {
        .host = cfg->host,
        .port = cfg->port,
        .threads = cfg->threads,
        .routes = s->table,
        .nroutes = s->ntable,
        /* room for MLflow's long query strings: get-history-bulk takes up
         * to 100 run ids and must answer 1000 with its 400, and each query
         * argument also costs libmicrohttpd about 64 bytes of this pool
         * (untouched pages cost nothing) */
        .max_header = 128 * 1024,
        .error = router_error,
        .ctx = &s->ctx,
        .auth = cfg->auth ? hamf__auth_check : NULL, /* auth.c */
        .limits = cfg->limits,
        .auth_ctx = cfg->auth,
    };
    if ((st = hamf__alerts_start(cfg->db_url, cfg->artifacts_dir))) goto fail;
    if ((st = hamf__http_start(&hc, &s->http))) {
        hamf__alerts_stop();
        goto fail;
    }
    s->keep = t;
    *out = s;
    return HAMF_OK;
fail:
    hamf__trk_close(t);
    hamf__artifacts_close(s->ctx.artifacts);
    hamf__artifacts_close(s->ctx.local_root);
    free_routes(s);
    hamf__free(s->artifact_root);
    hamf__free(s->db_url);
    hamf__free(s);
    return st;
}

int hamf__server_port(const struct hamf__server *s)
{
    return hamf__http_port(s->http);
}

void hamf__server_stop(struct hamf__server *s, double grace_seconds)
{
    if (!s) return;
    hamf__http_stop(s->http, grace_seconds);
    hamf__alerts_stop();
    hamf__metrics_server_unmount(&s->ctx);
    hamf__trk_close(s->keep);
    hamf__artifacts_close(s->ctx.artifacts);
    hamf__artifacts_close(s->ctx.local_root);
    free_routes(s);
    hamf__free(s->artifact_root);
    hamf__free(s->db_url);
    hamf__free(s);
}
