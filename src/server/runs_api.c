/*
 * runs_api.c — reading runs back through the public API (hamf.h,
 * hamf_runs_search / hamf_run_get, used by `hamf runs`): the same MLflow
 * REST JSON the server answers (mlflow_json.c, one serializer), kept as
 * text and read into records.
 */
#include "server/mlflow_json.h"
#include "store/search.h"

#include <string.h>

struct hamf_run_list {
    char *json;             /* the REST JSON */
    struct hamf__jdoc *doc; /* json parsed; records' strings point into it */
    size_t n;
    hamf_run_record *runs;
    hamf_run_value *values; /* every record's params, metrics and tags */
};

static hamf_status oom(void) { return hamf__err(HAMF_ERR_NOMEM, "runs: out of memory"); }

static const char *jstr(const struct hamf__jval *o, const char *k)
{
    const struct hamf__jval *v = hamf__jobj_get(o, k);
    return v && v->type == HAMF__JSTR ? v->str : "";
}

static int64_t jint(const struct hamf__jval *o, const char *k)
{
    int64_t x = 0;
    hamf__jval_to_i64(hamf__jobj_get(o, k), &x);
    return x;
}

static size_t nitems(const struct hamf__jval *a) { return a && a->type == HAMF__JARR ? a->len : 0; }

/* Values of a params/tags/metrics array into v[]; returns how many. */
static size_t read_values(const struct hamf__jval *a, bool metrics, hamf_run_value *v)
{
    size_t n = nitems(a);
    for (size_t i = 0; i < n; i++) {
        const struct hamf__jval *it = &a->items[i];
        memset(&v[i], 0, sizeof v[i]);
        v[i].key = jstr(it, "key");
        if (!metrics) {
            v[i].value = jstr(it, "value");
            continue;
        }
        const struct hamf__jval *x = hamf__jobj_get(it, "value");
        if (x && x->type == HAMF__JNUM) {
            v[i].number = x->num;
            v[i].is_number = 1;
        } else if (x && x->type == HAMF__JSTR) {
            v[i].value = x->str;
        }
        v[i].step = jint(it, "step");
    }
    return n;
}

/* l->json holds n Run objects at runs[] (or the one at the root): parse and read. */
static hamf_status read_runs(hamf_run_list *l, bool one)
{
    hamf_status s = hamf__json_parse(l->json, strlen(l->json), 0, &l->doc);
    if (s) return s;
    const struct hamf__jval *root = hamf__jdoc_root(l->doc);
    const struct hamf__jval *arr = one ? NULL : hamf__jobj_get(root, "runs");
    size_t n = one ? 1 : nitems(arr), nv = 0;
    for (size_t i = 0; i < n; i++) {
        const struct hamf__jval *data = hamf__jobj_get(one ? root : &arr->items[i], "data");
        nv += nitems(hamf__jobj_get(data, "params")) + nitems(hamf__jobj_get(data, "metrics")) +
              nitems(hamf__jobj_get(data, "tags"));
    }
    if (!(l->runs = hamf__calloc(n ? n : 1, sizeof *l->runs)) || !(l->values = hamf__calloc(nv ? nv : 1, sizeof *l->values)))
        return oom();
    hamf_run_value *v = l->values;
    for (size_t i = 0; i < n; i++) {
        const struct hamf__jval *run = one ? root : &arr->items[i];
        const struct hamf__jval *info = hamf__jobj_get(run, "info"), *data = hamf__jobj_get(run, "data");
        hamf_run_record *r = &l->runs[i];
        r->run_id = jstr(info, "run_id");
        r->run_name = jstr(info, "run_name");
        r->experiment_id = jstr(info, "experiment_id");
        r->status = jstr(info, "status");
        r->lifecycle_stage = jstr(info, "lifecycle_stage");
        r->user_id = jstr(info, "user_id");
        r->artifact_uri = jstr(info, "artifact_uri");
        r->start_time = jint(info, "start_time");
        r->end_time = jint(info, "end_time");
        r->params = v;
        v += r->nparams = read_values(hamf__jobj_get(data, "params"), false, v);
        r->metrics = v;
        v += r->nmetrics = read_values(hamf__jobj_get(data, "metrics"), true, v);
        r->tags = v;
        v += r->ntags = read_values(hamf__jobj_get(data, "tags"), false, v);
    }
    l->n = n;
    return HAMF_OK;
}

/* The ids of every active experiment. */
static hamf_status active_experiments(struct hamf__trk *t, struct hamf__jdoc **doc, const char ***ids, size_t *n)
{
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    struct hamf__trk_search q = {.view = HAMF__VIEW_ACTIVE_ONLY, .max_results = HAMF__TRK_MAX_RESULTS};
    hamf_status s;
    if ((s = hamf__buf_putc(&b, '{')) || (s = hamf__mlflow_exp_search_json(t, &q, &b)) || (s = hamf__buf_putc(&b, '}')) ||
        (s = hamf__json_parse(b.data, b.len, 0, doc))) {
        hamf__buf_free(&b);
        return s;
    }
    hamf__buf_free(&b);
    const struct hamf__jval *ex = hamf__jobj_get(hamf__jdoc_root(*doc), "experiments");
    size_t k = nitems(ex);
    if (!(*ids = hamf__calloc(k ? k : 1, sizeof **ids))) return oom();
    for (size_t i = 0; i < k; i++) (*ids)[i] = jstr(&ex->items[i], "experiment_id");
    *n = k;
    return HAMF_OK;
}

hamf_status hamf_runs_search(hamf_store *s, const char *experiment, hamf_run_list **out)
{
    if (!s || !out) return hamf__err(HAMF_ERR_MISUSE, "runs: NULL argument");
    struct hamf__trk *t = NULL;
    struct hamf__jdoc *edoc = NULL;
    const char **exp_ids = NULL;
    char *one = NULL;
    size_t nexp = 0;
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_run_list *l = hamf__calloc(1, sizeof *l);
    hamf_status st = l ? hamf__trk_open_store(s, &t) : oom();
    if (st) goto done;
    if (experiment) {
        if ((st = hamf__trk_exp_id_by_name(t, experiment, &one))) goto done;
        if (!(exp_ids = hamf__calloc(1, sizeof *exp_ids))) {
            st = oom();
            goto done;
        }
        exp_ids[0] = one;
        nexp = 1;
    } else if ((st = active_experiments(t, &edoc, &exp_ids, &nexp))) {
        goto done;
    }
    struct hamf__trk_search q = {.view = HAMF__VIEW_ACTIVE_ONLY, .max_results = HAMF__TRK_MAX_RESULTS,
                                 .exp_ids = exp_ids, .nexp = nexp};
    if ((st = hamf__buf_putc(&b, '{')) || (st = hamf__mlflow_run_search_json(t, &q, &b)) || (st = hamf__buf_putc(&b, '}')))
        goto done;
    if (!(l->json = hamf__buf_detach(&b, NULL))) {
        st = oom();
        goto done;
    }
    st = read_runs(l, false);
done:
    hamf__buf_free(&b);
    hamf__jdoc_free(edoc);
    hamf__free((void *)exp_ids);
    hamf__free(one);
    hamf__trk_close(t);
    if (st) {
        hamf_run_list_free(l);
        return st;
    }
    *out = l;
    return HAMF_OK;
}

hamf_status hamf_run_get(hamf_store *s, const char *run_id, hamf_run_list **out)
{
    if (!s || !run_id || !out) return hamf__err(HAMF_ERR_MISUSE, "runs: NULL argument");
    struct hamf__trk *t = NULL;
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_run_list *l = hamf__calloc(1, sizeof *l);
    hamf_status st = l ? hamf__trk_open_store(s, &t) : oom();
    if (!st) st = hamf__mlflow_run_json(t, run_id, &b);
    if (!st && !(l->json = hamf__buf_detach(&b, NULL))) st = oom();
    if (!st) st = read_runs(l, true);
    hamf__buf_free(&b);
    hamf__trk_close(t);
    if (st) {
        hamf_run_list_free(l);
        return st;
    }
    *out = l;
    return HAMF_OK;
}

size_t hamf_run_list_count(const hamf_run_list *l) { return l ? l->n : 0; }

const hamf_run_record *hamf_run_list_get(const hamf_run_list *l, size_t i) { return l && i < l->n ? &l->runs[i] : NULL; }

const char *hamf_run_list_json(const hamf_run_list *l) { return l && l->json ? l->json : ""; }

void hamf_run_list_free(hamf_run_list *l)
{
    if (!l) return;
    hamf__free(l->json);
    hamf__jdoc_free(l->doc);
    hamf__free(l->runs);
    hamf__free(l->values);
    hamf__free(l);
}
