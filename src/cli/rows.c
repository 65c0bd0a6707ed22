/*
 * rows.c — see rows.h: one printer for registry rows, as a table or as a
 * JSON array (string escaping and number text come from libhamf:
 * hamf_json_quote, hamf_format_double).
 */
#include "rows.h"

#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* The JSON text so far: a growing string (aborts when out of memory, as
 * the rest of this printer). */
struct text {
    char *data;
    size_t len, cap;
};

struct rows {
    int ncols;
    const char *const *names;
    const enum rows_kind *kinds;
    bool json;
    size_t n;
    struct text buf;         /* json */
    struct cli_table *table; /* table */
};

struct rows *rows_new(int ncols, const char *const *names, const enum rows_kind *kinds, bool json)
{
    struct rows *r = calloc(1, sizeof *r);
    if (!r) abort();
    r->ncols = ncols;
    r->names = names;
    r->kinds = kinds;
    r->json = json;
    if (!json) {
        r->table = table_new(ncols, names);
        for (int c = 0; c < ncols; c++)
            if (kinds[c] == ROWS_NUM) table_numeric(r->table, c);
    }
    return r;
}

static void must(hamf_status s)
{
    if (s) {
        exit(cli_fail_status(s));
    }
}

static void puts_n(struct text *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) abort();
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void put(struct text *b, const char *s) { puts_n(b, s, strlen(s)); }

static void put_quoted(struct text *b, const char *s)
{
    char *q = NULL;
    must(hamf_json_quote(s, &q));
    put(b, q);
    hamf_free(q);
}

void rows_add(struct rows *r, const char *const *cells)
{
    r->n++;
    if (!r->json) {
        table_add(r->table, cells);
        return;
    }
    put(&r->buf, r->n == 1 ? "[\n  {" : ",\n  {");
    for (int c = 0; c < r->ncols; c++) {
        if (c) put(&r->buf, ",");
        put_quoted(&r->buf, r->names[c]);
        put(&r->buf, ":");
        if (!cells[c]) put(&r->buf, "null");
        else if (r->kinds[c] == ROWS_NUM) put(&r->buf, cells[c]);
        else put_quoted(&r->buf, cells[c]);
    }
    put(&r->buf, "}");
}

void rows_fit(struct rows *r, size_t width, unsigned cols)
{
    if (r->table) table_fit(r->table, width, cols);
}

void rows_finish(struct rows *r, FILE *out)
{
    if (r->json) {
        if (r->n == 0) fputs("[]\n", out);
        else fprintf(out, "%s\n]\n", r->buf.data);
    } else {
        table_print(r->table, out);
        table_free(r->table);
    }
    free(r->buf.data);
    free(r);
}

const char *rows_num(char out[32], double v)
{
    hamf_format_double(out, v);
    return out;
}

const char *rows_pct(const struct rows *r, char out[32], double v)
{
    if (r->json) return rows_num(out, v);
    snprintf(out, 32, "%.2f %%", v);
    return out;
}

const char *rows_score(const struct rows *r, char out[32], double v)
{
    if (r->json) return rows_num(out, v);
    snprintf(out, 32, "%.4f", v);
    return out;
}

const char *rows_int(char out[32], int64_t v)
{
    snprintf(out, 32, "%lld", (long long)v);
    return out;
}
