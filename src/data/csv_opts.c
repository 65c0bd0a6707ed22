/*
 * csv_opts.c — reader options: the context every reading step shares
 * (delimiter, null spellings, thread count, column names and types) and
 * the --schema override.
 */
#include "data/csv_int.h"

#include <string.h>
#include <strings.h>

void hamf_csv_options_init(hamf_csv_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->delimiter = ',';
}

void hamf__csv_ctx_free(struct hamf__csv_ctx *c)
{
    for (size_t i = 0; i < c->nnull; i++) hamf__free(c->nulls[i]);
    hamf__free(c->nulls);
    hamf__free(c->nulllen);
    for (size_t i = 0; i < c->ncols; i++) hamf__free(c->names[i]);
    hamf__free(c->names);
    hamf__free(c->types);
    hamf__free(c->forced);
    hamf__free(c->kinds);
    hamf__free(c->hasnull);
    hamf__free(c->need);
}

int hamf__csv_cpu_count(void)
{
    int n = hamf__ncpu();
    return n > HAMF__CSV_MAX_THREADS ? HAMF__CSV_MAX_THREADS : n;
}

hamf_status hamf__csv_ctx_init(struct hamf__csv_ctx *c, const char *name, const hamf_csv_options *o)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    c->delim = o && o->delimiter ? o->delimiter : ',';
    c->schema_spec = o ? o->schema : NULL;
    c->threads = o && o->threads > 0 ? (o->threads > HAMF__CSV_MAX_THREADS ? HAMF__CSV_MAX_THREADS : o->threads)
                                     : hamf__csv_cpu_count();
    if (c->delim == '"' || c->delim == '\n' || c->delim == '\r')
        return hamf__err(HAMF_ERR_MISUSE, "csv: invalid delimiter");
    if ((unsigned char)c->delim >= 0x80)
        return hamf__err(HAMF_ERR_MISUSE, "csv: the delimiter must be an ASCII character");
    if (o && o->null_values && *o->null_values) {
        const char *p = o->null_values;
        for (;;) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            char **nn = hamf__realloc(c->nulls, (c->nnull + 1) * sizeof *nn);
            if (!nn) return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
            c->nulls = nn;
            size_t *nl = hamf__realloc(c->nulllen, (c->nnull + 1) * sizeof *nl);
            if (!nl) return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
            c->nulllen = nl;
            if (!(c->nulls[c->nnull] = hamf__strndup(p, n))) return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
            c->nulllen[c->nnull] = n;
            c->nnull++;
            if (!e) break;
            p = e + 1;
        }
    }
    return HAMF_OK;
}

static bool parse_dtype(const char *s, size_t n, hamf_dtype *t)
{
    static const struct { const char *name; hamf_dtype t; } tab[] = {
        {"int64", HAMF_DTYPE_INT64}, {"int", HAMF_DTYPE_INT64}, {"integer", HAMF_DTYPE_INT64},
        {"bigint", HAMF_DTYPE_INT64}, {"long", HAMF_DTYPE_INT64}, {"double", HAMF_DTYPE_DOUBLE},
        {"float", HAMF_DTYPE_DOUBLE}, {"bool", HAMF_DTYPE_BOOL}, {"boolean", HAMF_DTYPE_BOOL},
        {"string", HAMF_DTYPE_STRING}, {"str", HAMF_DTYPE_STRING},
    };
    for (size_t i = 0; i < HAMF_ARRAY_LEN(tab); i++) {
        if (strlen(tab[i].name) == n && strncasecmp(tab[i].name, s, n) == 0) {
            *t = tab[i].t;
            return true;
        }
    }
    return false;
}

/* Apply "--schema col:type,..." after the header is known. */
hamf_status hamf__csv_apply_schema(struct hamf__csv_ctx *c, const char *spec)
{
    if (!spec || !*spec) return HAMF_OK;
    const char *p = spec;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *colon = memchr(p, ':', n);
        if (!colon || colon == p)
            return hamf__err(HAMF_ERR_PARSE, "csv: schema: expected 'column:type', got '%.*s'", (int)n, p);
        size_t nl = (size_t)(colon - p);
        hamf_dtype t;
        if (!parse_dtype(colon + 1, n - nl - 1, &t))
            return hamf__err(HAMF_ERR_PARSE, "csv: schema: unknown type '%.*s' (int64, double, bool, string)",
                             (int)(n - nl - 1), colon + 1);
        size_t k;
        for (k = 0; k < c->ncols; k++)
            if (strlen(c->names[k]) == nl && memcmp(c->names[k], p, nl) == 0) break;
        if (k == c->ncols)
            return hamf__err(HAMF_ERR_NOTFOUND, "csv: schema: %s has no column '%.*s'", c->name, (int)nl, p);
        c->types[k] = t;
        c->forced[k] = 1;
        if (!e) break;
        p = e + 1;
    }
    return HAMF_OK;
}
