/*
 * mlflow_json.c — renders the tracking store's rows as MLflow REST JSON
 * (see mlflow_json.h). A context collects what a call writes: a count of
 * the list items so far, and for runs, the parts of each run of a chunk
 * (the store deals rows part by part across the chunk; a Run is assembled
 * in request order once its chunk is complete).
 */
#include "server/mlflow_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jctx {
    struct hamf__buf *out;
    size_t n;                /* list items written so far */
    size_t ntags;            /* tags of the current experiment */
    struct hamf__buf *parts; /* runs: HAMF__TRK_NPARTS buffers per run of the chunk */
    size_t first, nruns;     /* the chunk */
};

static void jctx_free_parts(struct jctx *c)
{
    for (size_t i = 0; c->parts && i < c->nruns * HAMF__TRK_NPARTS; i++) hamf__buf_free(&c->parts[i]);
    hamf__free(c->parts);
    c->parts = NULL;
    c->nruns = 0;
}

/* A metric value in protobuf JSON: numbers, or "NaN"/"Infinity" strings. */
static hamf_status json_metric_value(struct hamf__buf *b, double v, bool is_nan)
{
    if (is_nan || isnan(v)) return hamf__buf_puts(b, "\"NaN\"");
    if (isinf(v)) return hamf__buf_puts(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    /* integral values as Python writes them ("90.0", not "9e+01") */
    if (v == floor(v) && fabs(v) < 1e16) return hamf__buf_printf(b, "%.1f", v);
    /* Shortest of 15, 16 or 17 significant digits that reads back exactly:
     * one or two formatting passes for typical values, where a search from
     * one digit up costs up to seventeen (a page of 1000 runs has 4000+). */
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v) break;
    }
    return hamf__buf_puts(b, tmp);
}

static hamf_status json_metric(struct hamf__buf *b, const struct hamf__trk_metric_row *m)
{
    hamf_status s;
    if ((s = hamf__buf_puts(b, "{\"key\":")) || (s = hamf__json_str(b, m->key, (size_t)-1)) ||
        (s = hamf__buf_puts(b, ",\"value\":")) || (s = json_metric_value(b, m->value, m->is_nan)))
        return s;
    return hamf__buf_printf(b, ",\"timestamp\":%lld,\"step\":%lld}", (long long)m->timestamp, (long long)m->step);
}

static hamf_status json_run_info(struct hamf__buf *b, const struct hamf__trk_run_row *r)
{
    hamf_status s;
    if ((s = hamf__buf_puts(b, "{\"run_id\":")) || (s = hamf__json_str(b, r->run_id, (size_t)-1)) ||
        (s = hamf__buf_puts(b, ",\"run_uuid\":")) || (s = hamf__json_str(b, r->run_id, (size_t)-1)))
        return s;
    if (*r->name && ((s = hamf__buf_puts(b, ",\"run_name\":")) || (s = hamf__json_str(b, r->name, (size_t)-1))))
        return s;
    if ((s = hamf__buf_printf(b, ",\"experiment_id\":\"%lld\"", (long long)r->experiment_id))) return s;
    if (*r->user_id &&
        ((s = hamf__buf_puts(b, ",\"user_id\":")) || (s = hamf__json_str(b, r->user_id, (size_t)-1))))
        return s;
    if ((s = hamf__buf_puts(b, ",\"status\":")) || (s = hamf__json_str(b, r->status, (size_t)-1)) ||
        (s = hamf__buf_printf(b, ",\"start_time\":%lld", (long long)r->start_time)))
        return s;
    if (r->has_end_time && (s = hamf__buf_printf(b, ",\"end_time\":%lld", (long long)r->end_time))) return s;
    if ((s = hamf__buf_puts(b, ",\"artifact_uri\":")) || (s = hamf__json_str(b, r->artifact_uri, (size_t)-1)) ||
        (s = hamf__buf_puts(b, ",\"lifecycle_stage\":")) || (s = hamf__json_str(b, r->lifecycle_stage, (size_t)-1)))
        return s;
    return hamf__buf_putc(b, '}');
}

static hamf_status json_input(struct hamf__buf *b, const struct hamf__trk_input_row *in)
{
    hamf_status s;
    if ((s = hamf__buf_putc(b, '{'))) return s;
    if (strcmp(in->tags_json, "[]") && ((s = hamf__buf_puts(b, "\"tags\":")) || (s = hamf__buf_puts(b, in->tags_json)) ||
                                        (s = hamf__buf_putc(b, ','))))
        return s;
    if ((s = hamf__buf_puts(b, "\"dataset\":{\"name\":")) || (s = hamf__json_str(b, in->name, (size_t)-1)) ||
        (s = hamf__buf_puts(b, ",\"digest\":")) || (s = hamf__json_str(b, in->digest, (size_t)-1)))
        return s;
    static const char *const opt[] = {"source_type", "source", "schema", "profile"};
    for (int i = 0; i < 4; i++) {
        if (!in->opt[i]) continue;
        if ((s = hamf__buf_printf(b, ",\"%s\":", opt[i])) || (s = hamf__json_str(b, in->opt[i], (size_t)-1)))
            return s;
    }
    return hamf__buf_puts(b, "}}");
}

static hamf_status page_token_member(struct hamf__buf *out, int64_t next_offset, bool any)
{
    if (next_offset < 0) return HAMF_OK;
    hamf_status s = hamf__buf_printf(out, "%s\"next_page_token\":\"", any ? "," : "");
    if (!s) s = hamf__trk_token_encode(next_offset, out);
    if (!s) s = hamf__buf_putc(out, '"');
    return s;
}

/* ---- sink callbacks ---- */

static hamf_status on_exp(void *ctx, const struct hamf__trk_exp_row *e)
{
    struct jctx *c = ctx;
    struct hamf__buf *b = c->out;
    hamf_status s;
    c->ntags = 0;
    if ((c->n++ && (s = hamf__buf_putc(b, ','))) ||
        (s = hamf__buf_printf(b, "{\"experiment_id\":\"%lld\",\"name\":", (long long)e->id)) ||
        (s = hamf__json_str(b, e->name, (size_t)-1)) || (s = hamf__buf_puts(b, ",\"artifact_location\":")) ||
        (s = hamf__json_str(b, e->artifact_location, (size_t)-1)) ||
        (s = hamf__buf_puts(b, ",\"lifecycle_stage\":")) || (s = hamf__json_str(b, e->lifecycle_stage, (size_t)-1)))
        return s;
    return hamf__buf_printf(b, ",\"last_update_time\":%lld,\"creation_time\":%lld", (long long)e->last_update_time,
                            (long long)e->creation_time);
}

static hamf_status on_exp_tag(void *ctx, const char *key, const char *value)
{
    struct jctx *c = ctx;
    hamf_status s = hamf__buf_puts(c->out, c->ntags++ ? "," : ",\"tags\":[");
    return s ? s : hamf__json_kv(c->out, key, value);
}

static hamf_status on_exp_end(void *ctx)
{
    struct jctx *c = ctx;
    hamf_status s;
    if (c->ntags && (s = hamf__buf_putc(c->out, ']'))) return s;
    return hamf__buf_putc(c->out, '}');
}

static hamf_status on_runs_begin(void *ctx, size_t first, size_t n)
{
    struct jctx *c = ctx;
    jctx_free_parts(c);
    c->parts = hamf__calloc(n * HAMF__TRK_NPARTS, sizeof *c->parts);
    if (!c->parts) return hamf__err(HAMF_ERR_NOMEM, "tracking: out of memory");
    for (size_t i = 0; i < n * HAMF__TRK_NPARTS; i++) hamf__buf_init(&c->parts[i], 0);
    c->first = first;
    c->nruns = n;
    return HAMF_OK;
}

static hamf_status on_run_row(void *ctx, size_t i, enum hamf__trk_part part, const struct hamf__trk_row *r)
{
    struct jctx *c = ctx;
    if (!c->parts) return json_run_info(c->out, r->info); /* hamf__trk_run_info: the info alone */
    struct hamf__buf *b = &c->parts[(i - c->first) * HAMF__TRK_NPARTS + part];
    hamf_status s;
    if (part != HAMF__TRK_INFO && b->len && (s = hamf__buf_putc(b, ','))) return s;
    switch (part) {
    case HAMF__TRK_INFO: return json_run_info(b, r->info);
    case HAMF__TRK_METRICS: return json_metric(b, r->metric);
    case HAMF__TRK_PARAMS:
    case HAMF__TRK_TAGS: return hamf__json_kv(b, r->kv->key, r->kv->value);
    case HAMF__TRK_INPUTS: return json_input(b, r->input);
    default: return HAMF_OK;
    }
}

static hamf_status on_runs_ready(void *ctx, size_t first, size_t n)
{
    struct jctx *c = ctx;
    struct hamf__buf *out = c->out;
    hamf_status s = HAMF_OK;
    for (size_t i = 0; i < n && !s; i++) {
        struct hamf__buf *part = &c->parts[i * HAMF__TRK_NPARTS];
        bool first_member = true;
        if ((first + i && (s = hamf__buf_putc(out, ','))) || (s = hamf__buf_puts(out, "{\"info\":")) ||
            (s = hamf__buf_append(out, part[HAMF__TRK_INFO].data, part[HAMF__TRK_INFO].len)) ||
            (s = hamf__buf_puts(out, ",\"data\":{")))
            break;
        static const char *const names[] = {NULL, "metrics", "params", "tags"};
        for (int k = HAMF__TRK_METRICS; k <= HAMF__TRK_TAGS && !s; k++) {
            if (!part[k].len) continue;
            if ((s = hamf__buf_printf(out, "%s\"%s\":[", first_member ? "" : ",", names[k])) ||
                (s = hamf__buf_append(out, part[k].data, part[k].len)) || (s = hamf__buf_putc(out, ']')))
                break;
            first_member = false;
        }
        if (s || (s = hamf__buf_puts(out, "},\"inputs\":{"))) break;
        if (part[HAMF__TRK_INPUTS].len &&
            ((s = hamf__buf_puts(out, "\"dataset_inputs\":[")) ||
             (s = hamf__buf_append(out, part[HAMF__TRK_INPUTS].data, part[HAMF__TRK_INPUTS].len)) ||
             (s = hamf__buf_putc(out, ']'))))
            break;
        s = hamf__buf_puts(out, "}}");
    }
    c->n += n;
    jctx_free_parts(c);
    return s;
}

static hamf_status on_metric(void *ctx, const struct hamf__trk_metric_row *m)
{
    struct jctx *c = ctx;
    hamf_status s = hamf__buf_puts(c->out, c->n++ ? "," : "\"metrics\":[");
    return s ? s : json_metric(c->out, m);
}

static const struct hamf__trk_sink sink_tmpl = {
    NULL, on_exp, on_exp_tag, on_exp_end, on_runs_begin, on_run_row, on_runs_ready, on_metric,
};

static void sink_init(struct hamf__trk_sink *k, struct jctx *c, struct hamf__buf *out)
{
    memset(c, 0, sizeof *c);
    c->out = out;
    *k = sink_tmpl;
    k->ctx = c;
}

/* ---- the JSON calls ---- */

hamf_status hamf__mlflow_exp_json(struct hamf__trk *t, const char *exp_id, struct hamf__buf *out)
{
    struct jctx c;
    struct hamf__trk_sink k;
    sink_init(&k, &c, out);
    return hamf__trk_exp_get(t, exp_id, &k);
}

hamf_status hamf__mlflow_exp_by_name_json(struct hamf__trk *t, const char *name, struct hamf__buf *out)
{
    struct jctx c;
    struct hamf__trk_sink k;
    sink_init(&k, &c, out);
    return hamf__trk_exp_get_by_name(t, name, &k);
}

typedef hamf_status (*search_fn)(struct hamf__trk *t, const struct hamf__trk_search *q,
                                 const struct hamf__trk_sink *k, int64_t *next_offset);

/* `"<name>":[...]` and the next page token; `"<name>":[` is written before
 * the list and taken back when the page is empty. */
static hamf_status search_json(struct hamf__trk *t, const struct hamf__trk_search *q, struct hamf__buf *out,
                               const char *name, search_fn fn)
{
    struct jctx c;
    struct hamf__trk_sink k;
    sink_init(&k, &c, out);
    int64_t next = -1;
    size_t mark = out->len;
    hamf_status s = hamf__buf_printf(out, "\"%s\":[", name);
    if (!s) s = fn(t, q, &k, &next);
    jctx_free_parts(&c);
    if (s) return s;
    if (!c.n) {
        out->len = mark;
        if (out->data) out->data[mark] = '\0';
    } else if ((s = hamf__buf_putc(out, ']'))) {
        return s;
    }
    return page_token_member(out, next, c.n > 0);
}

hamf_status hamf__mlflow_exp_search_json(struct hamf__trk *t, const struct hamf__trk_search *q, struct hamf__buf *out)
{
    return search_json(t, q, out, "experiments", hamf__trk_exp_search);
}

hamf_status hamf__mlflow_run_search_json(struct hamf__trk *t, const struct hamf__trk_search *q, struct hamf__buf *out)
{
    return search_json(t, q, out, "runs", hamf__trk_run_search);
}

hamf_status hamf__mlflow_run_json(struct hamf__trk *t, const char *run_id, struct hamf__buf *out)
{
    struct jctx c;
    struct hamf__trk_sink k;
    sink_init(&k, &c, out);
    hamf_status s = hamf__trk_run_get(t, run_id, &k);
    jctx_free_parts(&c);
    return s;
}

hamf_status hamf__mlflow_run_create_json(struct hamf__trk *t, const struct hamf__trk_run_new *r, struct hamf__buf *out)
{
    char id[33];
    hamf_status s = hamf__trk_run_create(t, r, id);
    return s ? s : hamf__mlflow_run_json(t, id, out);
}

hamf_status hamf__mlflow_run_update_json(struct hamf__trk *t, const char *run_id, const char *status,
                                         bool has_end_time, int64_t end_time, const char *run_name,
                                         struct hamf__buf *out)
{
    hamf_status s = hamf__trk_run_update(t, run_id, status, has_end_time, end_time, run_name);
    if (s) return s;
    struct jctx c;
    struct hamf__trk_sink k;
    sink_init(&k, &c, out);
    return hamf__trk_run_info(t, run_id, &k);
}

hamf_status hamf__mlflow_metric_history_json(struct hamf__trk *t, const char *run_id, const char *key,
                                             int64_t max_results, const char *page_token, struct hamf__buf *out)
{
    struct jctx c;
    struct hamf__trk_sink k;
    sink_init(&k, &c, out);
    int64_t next = -1;
    hamf_status s = hamf__trk_metric_history(t, run_id, key, max_results, page_token, &k, &next);
    if (!s && c.n) s = hamf__buf_putc(out, ']');
    if (!s) s = page_token_member(out, next, c.n > 0);
    return s;
}
