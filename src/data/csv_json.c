/*
 * csv_json.c — a frame straight from parsed JSON cells, typed and valued
 * exactly as the CSV reader types and values the same cells written as CSV
 * text the way `hamf serve` writes them (numbers unquoted in the shortest
 * text that reads back, strings quoted, booleans true/false, null empty).
 * The scoring server used to build that text and read it back; this skips
 * the round trip (no number printing, no second parse) and keeps the rules:
 *
 *   cell                      kind (csv_infer.c's lattice)
 *   null, ""                  null
 *   true / false              bool
 *   integer (fits int64)      int
 *   other number v            int when v is integral and |v| < 1e16 (the
 *                             shortest text has no '.' then), else double;
 *                             -0.0 is a double ("-0.0")
 *   string without '"'        classified by its text, as a quoted CSV field
 *   string with '"'           string (an escaped CSV field)
 *
 * Anything this path does not reproduce cell for cell (an array or object
 * as a cell, a NUL in a string, an empty or duplicate column name, rows of
 * different lengths, no rows) makes it answer "unsupported": the caller
 * then takes the CSV text route, whose messages and renaming rules apply.
 */
#include "data/csv_int.h"
#include "util/num.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The kind of one cell (0 = null); *unsup when the fast path cannot take it. */
static int cell_kind(const struct hamf__jval *v, bool *unsup)
{
    if (!v) return 0;
    switch (v->type) {
    case HAMF__JNULL: return 0;
    case HAMF__JBOOL: return K_BOOL;
    case HAMF__JNUM:
        if (v->is_int) return K_INT;
        if (v->num == 0) return signbit(v->num) ? K_DBL : K_INT;
        return v->num == floor(v->num) && fabs(v->num) < 1e16 ? K_INT : K_DBL;
    case HAMF__JSTR: {
        if (v->len == 0) return 0;
        if (memchr(v->str, '\0', v->len)) {
            *unsup = true;
            return 0;
        }
        if (memchr(v->str, '"', v->len)) return K_STR;
        struct hamf__csv_field f = {.p = v->str, .n = v->len, .quoted = true, .escaped = false};
        return hamf__csv_classify(&f);
    }
    default: *unsup = true; return 0;
    }
}

/* The CSV text of a non-string cell in a string column. */
static size_t cell_text(const struct hamf__jval *v, char tmp[32], const char **p)
{
    if (v->type == HAMF__JSTR) {
        *p = v->str;
        return v->len;
    }
    *p = tmp;
    if (v->type == HAMF__JBOOL) return (size_t)snprintf(tmp, 32, "%s", v->b ? "true" : "false");
    if (v->is_int) return (size_t)hamf__num_fmt_i64(tmp, v->i);
    return (size_t)hamf__fmt_double(tmp, v->num);
}

static hamf_status fill_col(const struct hamf__jval *(*cell)(void *, size_t, size_t), void *ctx, size_t col,
                            size_t n, hamf_dtype t, void *data, uint8_t *valid, struct hamf__dict *dict)
{
    for (size_t r = 0; r < n; r++) {
        const struct hamf__jval *v = cell(ctx, r, col);
        bool unsup = false;
        int k = cell_kind(v, &unsup);
        if (k == 0) { /* null: the column has a valid array (or is a string) */
            if (t == HAMF_DTYPE_STRING) ((int32_t *)data)[r] = -1;
            else {
                valid[r] = 0;
                memset((char *)data + r * hamf__dtype_size(t), 0, hamf__dtype_size(t));
            }
            continue;
        }
        switch (t) {
        case HAMF_DTYPE_STRING: {
            char tmp[32];
            const char *p;
            size_t len = cell_text(v, tmp, &p);
            hamf_status st = hamf__dict_intern(dict, p, len, &((int32_t *)data)[r]);
            if (st) return st;
            break;
        }
        case HAMF_DTYPE_INT64: {
            int64_t *x = data;
            if (v->type == HAMF__JNUM) x[r] = v->is_int ? v->i : (int64_t)v->num;
            else if (!hamf__csv_parse_i64(v->str, v->len, &x[r])) return HAMF_ERR_INTERNAL;
            break;
        }
        case HAMF_DTYPE_DOUBLE: {
            double *x = data;
            int64_t iv;
            if (v->type == HAMF__JNUM) x[r] = v->is_int ? (double)v->i : v->num;
            else if (hamf__csv_parse_i64(v->str, v->len, &iv)) x[r] = (double)iv;
            else if (!hamf__csv_parse_dbl(v->str, v->len, &x[r])) return HAMF_ERR_INTERNAL;
            break;
        }
        case HAMF_DTYPE_BOOL: {
            uint8_t *x = data;
            if (v->type == HAMF__JBOOL) x[r] = v->b;
            else if (!hamf__csv_parse_bool(v->str, v->len, &x[r])) return HAMF_ERR_INTERNAL;
            break;
        }
        }
    }
    return HAMF_OK;
}

hamf_status hamf__csv_frame_from_json(const char *const *names, const size_t *name_len, size_t ncol, size_t nrows,
                                      const struct hamf__jval *(*cell)(void *ctx, size_t row, size_t col), void *ctx,
                                      hamf_frame **out)
{
    *out = NULL;
    if (ncol == 0 || nrows == 0 || nrows > INT32_MAX) return HAMF_OK;
    for (size_t j = 0; j < ncol; j++) {
        size_t len = name_len ? name_len[j] : strlen(names[j]);
        if (len == 0 || memchr(names[j], '\0', len)) return HAMF_OK;
        for (size_t k = 0; k < j; k++)
            if (!strcmp(names[j], names[k])) return HAMF_OK;
    }
    uint8_t *kinds = hamf__calloc(ncol, 2);
    if (!kinds) return hamf__err(HAMF_ERR_NOMEM, "frame: out of memory");
    uint8_t *hasnull = kinds + ncol;
    /* pass 1: the kinds of every column (column by column: the cells of a
     * row are far apart in records, close in split) */
    bool unsup = false;
    for (size_t j = 0; j < ncol && !unsup; j++)
        for (size_t r = 0; r < nrows && !unsup; r++) {
            int k = cell_kind(cell(ctx, r, j), &unsup);
            if (k) kinds[j] |= (uint8_t)k;
            else hasnull[j] = 1;
        }
    hamf_frame *f = NULL;
    hamf_status st = HAMF_OK;
    if (unsup) goto done;
    if ((st = hamf_frame_new(&f))) goto done;
    for (size_t j = 0; j < ncol; j++) {
        hamf_dtype t = hamf__csv_kinds_type(kinds[j]);
        void *data = hamf__malloc(nrows * hamf__dtype_size(t));
        uint8_t *valid = NULL;
        struct hamf__dict *dict = NULL;
        if (data && hasnull[j] && t != HAMF_DTYPE_STRING && (valid = hamf__malloc(nrows))) memset(valid, 1, nrows);
        if (data && t == HAMF_DTYPE_STRING) st = hamf__dict_new(&dict);
        if (!st && (!data || (hasnull[j] && t != HAMF_DTYPE_STRING && !valid)))
            st = hamf__err(HAMF_ERR_NOMEM, "frame: out of memory (%zu rows)", nrows);
        if (!st) st = fill_col(cell, ctx, j, nrows, t, data, valid, dict);
        if (st == HAMF_ERR_INTERNAL) st = hamf__err(st, "frame: column '%s': a cell does not fit its type", names[j]);
        if (st) {
            hamf__free(data);
            hamf__free(valid);
            hamf__dict_free(dict);
            goto done;
        }
        if ((st = hamf__frame_push(f, hamf__strdup(names[j]), t, data, valid, dict, nrows))) goto done;
    }
    *out = f;
    f = NULL;
done:
    hamf_frame_free(f);
    hamf__free(kinds);
    return st;
}
