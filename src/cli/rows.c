/*
 * rows.c — see rows.h: one printer for registry rows, as a table or as a
 * JSON array (string escaping and number text come from libhamf's util).
 */
#include "rows.h"

#include "cli.h"
#include "util/util.h"

#include <stdlib.h>

struct rows {
    int ncols;
    const char *const *names;
    const enum rows_kind *kinds;
    bool json;
    size_t n;
    struct hamf__buf buf;    /* json */
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
    hamf__buf_init(&r->buf, 0);
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

void rows_add(struct rows *r, const char *const *cells)
{
    r->n++;
    if (!r->json) {
        table_add(r->table, cells);
        return;
    }
    must(hamf__buf_puts(&r->buf, r->n == 1 ? "[\n  {" : ",\n  {"));
    for (int c = 0; c < r->ncols; c++) {
        if (c) must(hamf__buf_putc(&r->buf, ','));
        must(hamf__json_str(&r->buf, r->names[c], (size_t)-1));
        must(hamf__buf_putc(&r->buf, ':'));
        if (!cells[c]) must(hamf__buf_puts(&r->buf, "null"));
        else if (r->kinds[c] == ROWS_NUM) must(hamf__buf_puts(&r->buf, cells[c]));
        else must(hamf__json_str(&r->buf, cells[c], (size_t)-1));
    }
    must(hamf__buf_putc(&r->buf, '}'));
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
    hamf__buf_free(&r->buf);
    free(r);
}

const char *rows_num(char out[32], double v)
{
    hamf__fmt_double(out, v);
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
