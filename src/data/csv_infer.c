/*
 * csv_infer.c — field values: null spellings, integer / decimal / bool
 * parsing and the type lattice of inference (like Spark's inferSchema:
 * ints widen to double; a bool mixed with numbers, or any other text,
 * makes a string column).
 *
 * Integers take a digit loop (<= 19 digits, overflow checked); decimals go
 * to hamf__num_parse_f64 (util/num.h: exact fast path, Eisel-Lemire, then
 * strtod for > 19 digits), so every double is correctly rounded.
 */
#include "data/csv_int.h"
#include "util/num.h"

#include <math.h>
#include <string.h>
#include <strings.h>

bool hamf__csv_is_null_word(const struct hamf__csv_ctx *c, const struct hamf__csv_field *f)
{
    for (size_t i = 0; i < c->nnull; i++)
        if (c->nulllen[i] == f->n && memcmp(c->nulls[i], f->p, f->n) == 0) return true;
    return false;
}

static bool word_eq(const char *p, size_t n, const char *w, size_t wn)
{
    return wn == n && memcmp(p, w, n) == 0;
}

/* Decimal syntax (no hex), plus the words NaN and [+-]Infinity. */
bool hamf__csv_parse_dbl(const char *p, size_t n, double *out)
{
    if (n && (p[n - 1] == 'N' || p[n - 1] == 'y')) {
        size_t i = n && (p[0] == '-' || p[0] == '+') ? 1 : 0;
        if (i == 0 && word_eq(p, n, "NaN", 3)) {
            *out = NAN;
            return true;
        }
        if (word_eq(p + i, n - i, "Infinity", 8)) {
            *out = p[0] == '-' ? -INFINITY : INFINITY;
            return true;
        }
        return false;
    }
    return hamf__num_parse_f64(p, n, out);
}

bool hamf__csv_parse_bool(const char *p, size_t n, uint8_t *out)
{
    if (n == 4 && strncasecmp(p, "true", 4) == 0) return *out = 1, true;
    if (n == 5 && strncasecmp(p, "false", 5) == 0) return *out = 0, true;
    return false;
}

int hamf__csv_classify_slow(const struct hamf__csv_field *f)
{
    if (f->escaped) return K_STR;
    int64_t iv;
    double dv;
    uint8_t bv;
    if (hamf__csv_parse_i64(f->p, f->n, &iv)) return K_INT;
    if (f->n < 400 && hamf__csv_parse_dbl(f->p, f->n, &dv)) return K_DBL;
    if (hamf__csv_parse_bool(f->p, f->n, &bv)) return K_BOOL;
    return K_STR;
}

hamf_dtype hamf__csv_kinds_type(uint8_t k)
{
    if (k & K_STR) return HAMF_DTYPE_STRING;
    if ((k & K_BOOL) && (k & (K_INT | K_DBL))) return HAMF_DTYPE_STRING;
    if (k & K_DBL) return HAMF_DTYPE_DOUBLE;
    if (k & K_INT) return HAMF_DTYPE_INT64;
    if (k & K_BOOL) return HAMF_DTYPE_BOOL;
    return HAMF_DTYPE_STRING;
}

bool hamf__csv_kind_fits(uint8_t k, hamf_dtype t)
{
    switch (t) {
    case HAMF_DTYPE_INT64: return k == K_INT;
    case HAMF_DTYPE_DOUBLE: return k == K_INT || k == K_DBL;
    case HAMF_DTYPE_BOOL: return k == K_BOOL;
    case HAMF_DTYPE_STRING: return true;
    }
    return false;
}
