/*
 * expr_eval.c — type binding and column-at-a-time evaluation of Spark SQL
 * expressions (see expr.h for the semantics).
 *
 * Binding resolves column names the way Spark does (exact, then a unique
 * case-insensitive match) and gives every node a static type, so type
 * errors are reported with a caret before any row is touched.
 *
 * Evaluation works on whole columns (struct hamf__vec): each node
 * evaluates its children to vectors, casts them to the operand type and
 * runs one tight loop. Literals are one-row "scalar" vectors broadcast
 * with a zero stride. Frame columns are borrowed, not copied. String
 * vectors are dictionary codes, so string functions and comparisons
 * against a literal run once per distinct value rather than once per row.
 */
#include "data/expr.h"
#include "data/csv.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ST(v, i) ((v)->scalar ? 0 : (i))

/* ---- binding ------------------------------------------------------------- */

static int dtype_vt(hamf_dtype t)
{
    switch (t) {
    case HAMF_DTYPE_INT64: return VT_I64;
    case HAMF_DTYPE_DOUBLE: return VT_F64;
    case HAMF_DTYPE_BOOL: return VT_BOOL;
    case HAMF_DTYPE_STRING: return VT_STR;
    }
    return VT_NULL;
}

static bool numeric(int t) { return t == VT_I64 || t == VT_F64; }

/* Common type of CASE branches / COALESCE arguments; -1 if none. */
static int unify(int a, int b)
{
    if (a == VT_NULL) return b;
    if (b == VT_NULL || a == b) return a;
    if (numeric(a) && numeric(b)) return VT_F64;
    if (a == VT_STR || b == VT_STR) return VT_STR;
    return -1;
}

/* Type both sides of a comparison are cast to; -1 if not comparable. */
static int cmp_type(int a, int b)
{
    if (a == VT_NULL || b == VT_NULL) return VT_NULL;
    if (a == b) return a;
    if (numeric(a) && numeric(b)) return VT_F64;
    if ((a == VT_STR && numeric(b)) || (b == VT_STR && numeric(a))) return VT_F64;
    if ((a == VT_BOOL && b == VT_STR) || (a == VT_STR && b == VT_BOOL)) return VT_BOOL;
    if ((a == VT_BOOL && numeric(b)) || (b == VT_BOOL && numeric(a))) return VT_F64;
    return -1;
}

static const char *op_name(const struct hamf__expr *e)
{
    static const char *names[] = {"?", "+", "-", "*", "/", "%", "=", "!=", "<", "<=", ">", ">=", "<=>"};
    return e->op > 0 && e->op < (int)HAMF_ARRAY_LEN(names) ? names[e->op] : "?";
}

static hamf_status bind(const char *text, struct hamf__expr *e, const hamf_frame *f)
{
    hamf_status st;
    for (size_t i = 0; i < e->nargs; i++)
        if ((st = bind(text, e->args[i], f))) return st;
    struct hamf__expr **a = e->args;
    switch (e->kind) {
    case E_LIT:
    case E_CAST:
        return HAMF_OK;
    case E_COL:
        if (!hamf__frame_resolve(f, e->s, &e->col)) {
            size_t n = f->ncols > 12 ? 12 : f->ncols;
            char cols[400];
            size_t k = 0;
            cols[0] = '\0';
            for (size_t i = 0; i < n && k < sizeof cols - 60; i++) /* names are cut at 40 bytes */
                k += (size_t)snprintf(cols + k, sizeof cols - k, "%s%.40s", i ? ", " : "", f->cols[i].name);
            if (n < f->ncols && k < sizeof cols - 8) snprintf(cols + k, sizeof cols - k, ", ...");
            return hamf__expr_error(HAMF_ERR_NOTFOUND, text, e->pos, "unknown column '%s' (columns: %s)", e->s, cols);
        }
        if (f->cols[e->col].raw && f->cols[e->col].raw->partial) /* texts only (CSV pass-through) */
            return hamf__expr_error(HAMF_ERR_INTERNAL, text, e->pos, "column '%s' was read as text only", e->s);
        e->vt = dtype_vt(f->cols[e->col].type);
        return HAMF_OK;
    case E_NEG:
        if (a[0]->vt == VT_BOOL)
            return hamf__expr_error(HAMF_ERR_SCHEMA, text, e->pos, "cannot negate a boolean");
        e->vt = a[0]->vt == VT_STR ? VT_F64 : a[0]->vt;
        return HAMF_OK;
    case E_NOT:
        if (a[0]->vt != VT_BOOL && a[0]->vt != VT_NULL)
            return hamf__expr_error(HAMF_ERR_SCHEMA, text, e->pos, "NOT needs a boolean, got %s", hamf__vt_name(a[0]->vt));
        e->vt = VT_BOOL;
        return HAMF_OK;
    case E_AND:
    case E_OR:
        for (int i = 0; i < 2; i++)
            if (a[i]->vt != VT_BOOL && a[i]->vt != VT_NULL)
                return hamf__expr_error(HAMF_ERR_SCHEMA, text, e->pos, "%s needs boolean operands, got %s",
                                        e->kind == E_AND ? "AND" : "OR", hamf__vt_name(a[i]->vt));
        e->vt = VT_BOOL;
        return HAMF_OK;
    case E_ARITH:
        for (int i = 0; i < 2; i++)
            if (a[i]->vt == VT_BOOL)
                return hamf__expr_error(HAMF_ERR_SCHEMA, text, e->pos, "'%s' needs numbers, got boolean", op_name(e));
        if (e->op == OP_DIV) e->vt = VT_F64;
        else if (a[0]->vt == VT_NULL && a[1]->vt == VT_NULL) e->vt = VT_NULL;
        else if ((a[0]->vt == VT_I64 || a[0]->vt == VT_NULL) && (a[1]->vt == VT_I64 || a[1]->vt == VT_NULL)) e->vt = VT_I64;
        else e->vt = VT_F64;
        return HAMF_OK;
    case E_CMP:
        if (cmp_type(a[0]->vt, a[1]->vt) < 0)
            return hamf__expr_error(HAMF_ERR_SCHEMA, text, e->pos, "cannot compare %s with %s",
                                    hamf__vt_name(a[0]->vt), hamf__vt_name(a[1]->vt));
        e->vt = VT_BOOL;
        return HAMF_OK;
    case E_ISNULL:
        e->vt = VT_BOOL;
        return HAMF_OK;
    case E_IN:
    case E_BETWEEN:
        for (size_t i = 1; i < e->nargs; i++)
            if (cmp_type(a[0]->vt, a[i]->vt) < 0)
                return hamf__expr_error(HAMF_ERR_SCHEMA, text, a[i]->pos, "cannot compare %s with %s",
                                        hamf__vt_name(a[0]->vt), hamf__vt_name(a[i]->vt));
        e->vt = VT_BOOL;
        return HAMF_OK;
    case E_CASE: {
        size_t i = 0, end = e->nargs - (e->has_else ? 1 : 0);
        if (e->has_operand) i = 1;
        int t = VT_NULL;
        for (; i + 1 < end + 1 && i < end; i += 2) {
            const struct hamf__expr *w = a[i];
            if (e->has_operand) {
                if (cmp_type(a[0]->vt, w->vt) < 0)
                    return hamf__expr_error(HAMF_ERR_SCHEMA, text, w->pos, "cannot compare %s with %s",
                                            hamf__vt_name(a[0]->vt), hamf__vt_name(w->vt));
            } else if (w->vt != VT_BOOL && w->vt != VT_NULL) {
                return hamf__expr_error(HAMF_ERR_SCHEMA, text, w->pos, "WHEN condition must be boolean, got %s",
                                        hamf__vt_name(w->vt));
            }
            int u = unify(t, a[i + 1]->vt);
            if (u < 0)
                return hamf__expr_error(HAMF_ERR_SCHEMA, text, a[i + 1]->pos,
                                        "branches have no common type (%s and %s)", hamf__vt_name(t),
                                        hamf__vt_name(a[i + 1]->vt));
            t = u;
        }
        if (e->has_else) {
            int u = unify(t, a[e->nargs - 1]->vt);
            if (u < 0)
                return hamf__expr_error(HAMF_ERR_SCHEMA, text, a[e->nargs - 1]->pos,
                                        "branches have no common type (%s and %s)", hamf__vt_name(t),
                                        hamf__vt_name(a[e->nargs - 1]->vt));
            t = u;
        }
        e->vt = t;
        return HAMF_OK;
    }
    case E_FUNC:
        switch (e->op) {
        case FN_COALESCE:
        case FN_LEAST:
        case FN_GREATEST: {
            int t = VT_NULL;
            for (size_t i = 0; i < e->nargs; i++) {
                int u = unify(t, a[i]->vt);
                if (u < 0)
                    return hamf__expr_error(HAMF_ERR_SCHEMA, text, a[i]->pos, "arguments have no common type (%s and %s)",
                                            hamf__vt_name(t), hamf__vt_name(a[i]->vt));
                t = u;
            }
            if (e->op != FN_COALESCE && t == VT_BOOL)
                return hamf__expr_error(HAMF_ERR_SCHEMA, text, e->pos, "LEAST/GREATEST need numbers or strings");
            e->vt = t;
            return HAMF_OK;
        }
        case FN_ABS:
            if (a[0]->vt == VT_BOOL) return hamf__expr_error(HAMF_ERR_SCHEMA, text, a[0]->pos, "ABS needs a number, got boolean");
            e->vt = a[0]->vt == VT_STR ? VT_F64 : a[0]->vt;
            return HAMF_OK;
        case FN_LN:
        case FN_LOG10:
        case FN_LOG1P:
        case FN_SQRT:
        case FN_EXP:
        case FN_POW:
            for (size_t i = 0; i < e->nargs; i++)
                if (a[i]->vt == VT_BOOL)
                    return hamf__expr_error(HAMF_ERR_SCHEMA, text, a[i]->pos, "needs a number, got boolean");
            e->vt = VT_F64;
            return HAMF_OK;
        case FN_LOWER:
        case FN_UPPER:
            e->vt = VT_STR;
            return HAMF_OK;
        case FN_LENGTH:
            e->vt = VT_I64;
            return HAMF_OK;
        }
        break;
    }
    return hamf__err(HAMF_ERR_INTERNAL, "expr: unknown node kind %d", (int)e->kind);
}

hamf_status hamf__expr_bind(struct hamf__expr_prog *p, const hamf_frame *f)
{
    if (!p || !f) return hamf__err(HAMF_ERR_MISUSE, "expr: NULL argument");
    return bind(p->text, p->root, f);
}

/* ---- vectors ------------------------------------------------------------- */

void hamf__vec_free(struct hamf__vec *v)
{
    if (!v) return;
    if (v->own_data) hamf__free(v->data);
    if (v->own_valid) hamf__free(v->valid);
    if (v->own_dict) hamf__dict_free(v->dict);
    memset(v, 0, sizeof *v);
}

static hamf_status nomem(void) { return hamf__err(HAMF_ERR_NOMEM, "expr: out of memory"); }

/* A new owned vector of type t with n rows, all valid. */
static hamf_status vec_new(struct hamf__vec *v, int t, size_t n, bool scalar)
{
    memset(v, 0, sizeof *v);
    v->t = t;
    v->n = scalar ? 1 : n;
    v->scalar = scalar;
    size_t sz = t == VT_I64 ? 8 : t == VT_F64 ? 8 : t == VT_STR ? 4 : 1;
    v->data = hamf__malloc(v->n * sz);
    v->own_data = true;
    if (!v->data) return nomem();
    if (t == VT_STR) {
        v->own_dict = true;
        if (hamf__dict_new(&v->dict)) return nomem();
    } else {
        v->valid = hamf__malloc(v->n);
        v->own_valid = true;
        if (!v->valid) return nomem();
        memset(v->valid, 1, v->n);
    }
    if (t == VT_NULL) v->valid[0] = 0;
    return HAMF_OK;
}

static inline bool isnull(const struct hamf__vec *v, size_t i)
{
    size_t k = ST(v, i);
    if (v->t == VT_NULL) return true;
    if (v->t == VT_STR) return ((const int32_t *)v->data)[k] < 0;
    return v->valid && !v->valid[k];
}

/* Set row i null in an owned result vector. */
static inline void setnull(struct hamf__vec *v, size_t i)
{
    if (v->t == VT_STR) ((int32_t *)v->data)[i] = -1;
    else v->valid[i] = 0;
}

static hamf_status vec_all_null(struct hamf__vec *v, int t, size_t n)
{
    hamf_status st = vec_new(v, t == VT_NULL ? VT_I64 : t, n, true);
    if (st) return st;
    v->t = t;
    if (t == VT_STR) ((int32_t *)v->data)[0] = -1;
    else {
        v->valid[0] = 0;
        memset(v->data, 0, t == VT_BOOL ? 1 : 8);
    }
    return HAMF_OK;
}

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1])) (*n)--;
}

static bool str_to_f64(const char *s, size_t n, double *out)
{
    trim(&s, &n);
    if (n == 0) return false;
    if (n == 3 && strncmp(s, "NaN", 3) == 0) return *out = NAN, true;
    if ((n == 8 && strncmp(s, "Infinity", 8) == 0) || (n == 9 && strncmp(s, "+Infinity", 9) == 0)) return *out = INFINITY, true;
    if (n == 9 && strncmp(s, "-Infinity", 9) == 0) return *out = -INFINITY, true;
    for (size_t i = 0; i < n; i++) /* digits, sign, dot and exponent only */
        if (!strchr("0123456789+-.eE", s[i])) return false;
    return hamf__parse_double(s, n, out);
}

static bool f64_to_i64(double d, int64_t *out)
{
    if (isnan(d)) *out = 0;
    else if (d >= 9223372036854775807.0) *out = INT64_MAX;
    else if (d <= -9223372036854775808.0) *out = INT64_MIN;
    else *out = (int64_t)d;
    return true;
}

static bool str_to_i64(const char *s, size_t n, int64_t *out)
{
    trim(&s, &n);
    if (hamf__parse_i64(s, n, out)) return true;
    double d;
    if (!str_to_f64(s, n, &d) || !isfinite(d)) return false;
    /* Spark (non-ANSI) truncates "1.5" to 1 and gives NULL when out of range */
    if (d >= 9223372036854775807.0 || d < -9223372036854775808.0) return false;
    *out = (int64_t)d;
    return true;
}

static bool str_to_bool(const char *s, size_t n, uint8_t *out)
{
    static const char *t[] = {"t", "true", "y", "yes", "1"}, *f[] = {"f", "false", "n", "no", "0"};
    trim(&s, &n);
    for (size_t i = 0; i < 5; i++) {
        if (strlen(t[i]) == n && strncasecmp(s, t[i], n) == 0) return *out = 1, true;
        if (strlen(f[i]) == n && strncasecmp(s, f[i], n) == 0) return *out = 0, true;
    }
    return false;
}

/* Cast `in` to type t. Same type gives a borrowed view. */
static hamf_status vcast(const struct hamf__vec *in, int t, struct hamf__vec *out)
{
    if (in->t == t) {
        *out = *in;
        out->own_data = out->own_valid = out->own_dict = false;
        return HAMF_OK;
    }
    if (in->t == VT_NULL || t == VT_NULL) return vec_all_null(out, t, in->n);
    size_t n = in->n;
    hamf_status st = vec_new(out, t, n, in->scalar);
    if (st) return st;
    if (in->t == VT_STR) {
        /* convert each distinct value once */
        const struct hamf__dict *d = in->dict;
        const int32_t *codes = in->data;
        if (t == VT_STR) return HAMF_OK;
        size_t sz = t == VT_BOOL ? 1 : 8;
        char *vals = hamf__malloc((d->n ? d->n : 1) * sz);
        uint8_t *ok = hamf__malloc(d->n ? d->n : 1);
        if (!vals || !ok) {
            hamf__free(vals);
            hamf__free(ok);
            return nomem();
        }
        for (size_t k = 0; k < d->n; k++) {
            if (t == VT_F64) ok[k] = str_to_f64(d->str[k], d->len[k], (double *)(vals + k * sz));
            else if (t == VT_I64) ok[k] = str_to_i64(d->str[k], d->len[k], (int64_t *)(vals + k * sz));
            else ok[k] = str_to_bool(d->str[k], d->len[k], (uint8_t *)(vals + k * sz));
        }
        for (size_t i = 0; i < n; i++) {
            int32_t c = codes[i];
            if (c < 0 || !ok[c]) {
                out->valid[i] = 0;
                memset((char *)out->data + i * sz, 0, sz);
            } else {
                memcpy((char *)out->data + i * sz, vals + (size_t)c * sz, sz);
            }
        }
        hamf__free(vals);
        hamf__free(ok);
        return HAMF_OK;
    }
    if (t == VT_STR) {
        char tmp[32];
        int32_t *codes = out->data;
        for (size_t i = 0; i < n; i++) {
            if (isnull(in, i)) {
                codes[i] = -1;
                continue;
            }
            int len;
            if (in->t == VT_I64) len = snprintf(tmp, sizeof tmp, "%lld", (long long)((const int64_t *)in->data)[i]);
            else if (in->t == VT_F64) len = hamf__csv_fmt_double(tmp, ((const double *)in->data)[i]);
            else len = snprintf(tmp, sizeof tmp, "%s", ((const uint8_t *)in->data)[i] ? "true" : "false");
            if ((st = hamf__dict_intern(out->dict, tmp, (size_t)len, &codes[i]))) return st;
        }
        return HAMF_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (isnull(in, i)) {
            out->valid[i] = 0;
            if (t == VT_BOOL) ((uint8_t *)out->data)[i] = 0;
            else ((int64_t *)out->data)[i] = 0;
            continue;
        }
        double dv = 0;
        int64_t iv = 0;
        switch (in->t) {
        case VT_I64: iv = ((const int64_t *)in->data)[i]; dv = (double)iv; break;
        case VT_F64: dv = ((const double *)in->data)[i]; f64_to_i64(dv, &iv); break;
        case VT_BOOL: iv = ((const uint8_t *)in->data)[i]; dv = (double)iv; break;
        }
        if (t == VT_F64) ((double *)out->data)[i] = dv;
        else if (t == VT_I64) ((int64_t *)out->data)[i] = iv;
        else ((uint8_t *)out->data)[i] = in->t == VT_F64 ? dv != 0 : iv != 0;
    }
    return HAMF_OK;
}

/* ---- evaluation ---------------------------------------------------------- */

struct ectx {
    const hamf_frame *f;
    size_t n;
    const char *text;
};

static hamf_status eval(const struct ectx *c, const struct hamf__expr *e, struct hamf__vec *out);

/* Evaluate child e and cast it to t. `tmp` holds the uncast value. */
static hamf_status eval_as(const struct ectx *c, const struct hamf__expr *e, int t, struct hamf__vec *tmp,
                           struct hamf__vec *out)
{
    hamf_status st = eval(c, e, tmp);
    if (st) return st;
    return vcast(tmp, t, out);
}

static hamf_status eval_arith(const struct ectx *c, const struct hamf__expr *e, struct hamf__vec *out)
{
    struct hamf__vec a0 = {0}, b0 = {0}, a = {0}, b = {0};
    int t = e->op == OP_DIV ? VT_F64 : e->vt;
    hamf_status st;
    if (t == VT_NULL) return vec_all_null(out, VT_NULL, c->n);
    if ((st = eval_as(c, e->args[0], t, &a0, &a))) goto cleanup;
    if ((st = eval_as(c, e->args[1], t, &b0, &b))) goto cleanup;
    bool scalar = a.scalar && b.scalar;
    size_t n = scalar ? 1 : c->n;
    size_t sa = a.scalar ? 0 : 1, sb = b.scalar ? 0 : 1;
    if ((st = vec_new(out, t, n, scalar))) goto cleanup;
    uint8_t *ov = out->valid;
    const uint8_t *va = a.valid, *vb = b.valid;
    for (size_t i = 0; i < n; i++) ov[i] = (!va || va[i * sa]) && (!vb || vb[i * sb]);
    if (t == VT_I64) {
        const int64_t *x = a.data, *y = b.data;
        int64_t *o = out->data;
        for (size_t i = 0; i < n; i++) {
            uint64_t u = (uint64_t)x[i * sa], v = (uint64_t)y[i * sb];
            switch (e->op) { /* wrap around like Spark's non-ANSI mode */
            case OP_ADD: o[i] = (int64_t)(u + v); break;
            case OP_SUB: o[i] = (int64_t)(u - v); break;
            case OP_MUL: o[i] = (int64_t)(u * v); break;
            case OP_MOD:
                if (y[i * sb] == 0) {
                    o[i] = 0;
                    ov[i] = 0;
                } else if (y[i * sb] == -1) {
                    o[i] = 0;
                } else {
                    o[i] = x[i * sa] % y[i * sb];
                }
                break;
            }
        }
    } else {
        const double *x = a.data, *y = b.data;
        double *o = out->data;
        switch (e->op) {
        case OP_ADD: for (size_t i = 0; i < n; i++) o[i] = x[i * sa] + y[i * sb]; break;
        case OP_SUB: for (size_t i = 0; i < n; i++) o[i] = x[i * sa] - y[i * sb]; break;
        case OP_MUL: for (size_t i = 0; i < n; i++) o[i] = x[i * sa] * y[i * sb]; break;
        case OP_DIV:
            for (size_t i = 0; i < n; i++) {
                double d = y[i * sb];
                if (d == 0) { /* Spark: division by zero is NULL */
                    o[i] = 0;
                    ov[i] = 0;
                } else {
                    o[i] = x[i * sa] / d;
                }
            }
            break;
        case OP_MOD:
            for (size_t i = 0; i < n; i++) {
                double d = y[i * sb];
                if (d == 0) {
                    o[i] = 0;
                    ov[i] = 0;
                } else {
                    o[i] = fmod(x[i * sa], d);
                }
            }
            break;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!ov[i]) {
            if (t == VT_I64) ((int64_t *)out->data)[i] = 0;
            else ((double *)out->data)[i] = 0;
        }
cleanup:
    hamf__vec_free(&a);
    hamf__vec_free(&b);
    hamf__vec_free(&a0);
    hamf__vec_free(&b0);
    return st;
}

static inline int cmp_result(int op, int c)
{
    switch (op) {
    case OP_EQ: case OP_NSEQ: return c == 0;
    case OP_NE: return c != 0;
    case OP_LT: return c < 0;
    case OP_LE: return c <= 0;
    case OP_GT: return c > 0;
    case OP_GE: return c >= 0;
    }
    return 0;
}

static inline int cmp_str(const struct hamf__dict *da, int32_t ca, const struct hamf__dict *db, int32_t cb)
{
    size_t la = da->len[ca], lb = db->len[cb];
    int r = memcmp(da->str[ca], db->str[cb], la < lb ? la : lb);
    return r ? r : (la < lb ? -1 : la > lb);
}

/* Compare two vectors already cast to a common type t into a BOOL vector. */
static hamf_status compare(const struct ectx *c, int op, const struct hamf__vec *a, const struct hamf__vec *b, int t,
                           struct hamf__vec *out)
{
    bool scalar = a->scalar && b->scalar;
    size_t n = scalar ? 1 : c->n;
    size_t sa = a->scalar ? 0 : 1, sb = b->scalar ? 0 : 1;
    hamf_status st = vec_new(out, VT_BOOL, n, scalar);
    if (st) return st;
    uint8_t *o = out->data, *ov = out->valid;
    if (t == VT_NULL) {
        for (size_t i = 0; i < n; i++) {
            o[i] = op == OP_NSEQ ? (isnull(a, i * sa) && isnull(b, i * sb)) : 0;
            ov[i] = op == OP_NSEQ;
        }
        return HAMF_OK;
    }
    if (t == VT_STR && b->scalar && !a->scalar && ((const int32_t *)b->data)[0] >= 0) {
        /* column vs literal: compare each distinct value once */
        const struct hamf__dict *d = a->dict;
        int32_t cb = ((const int32_t *)b->data)[0];
        uint8_t *tab = hamf__malloc(d->n ? d->n : 1);
        if (!tab) return nomem();
        for (size_t k = 0; k < d->n; k++) tab[k] = (uint8_t)cmp_result(op, cmp_str(d, (int32_t)k, b->dict, cb));
        const int32_t *ca = a->data;
        for (size_t i = 0; i < n; i++) {
            if (ca[i] < 0) {
                o[i] = 0;
                ov[i] = op == OP_NSEQ;
            } else {
                o[i] = tab[ca[i]];
            }
        }
        hamf__free(tab);
        return HAMF_OK;
    }
    for (size_t i = 0; i < n; i++) {
        size_t ia = i * sa, ib = i * sb;
        bool na = isnull(a, ia), nb = isnull(b, ib);
        if (na || nb) {
            o[i] = op == OP_NSEQ ? (na && nb) : 0;
            ov[i] = op == OP_NSEQ;
            continue;
        }
        int r = 0;
        switch (t) {
        case VT_I64: {
            int64_t x = ((const int64_t *)a->data)[ia], y = ((const int64_t *)b->data)[ib];
            r = (x > y) - (x < y);
            break;
        }
        case VT_F64: {
            /* Spark orders NaN above every number and equal to itself */
            double x = ((const double *)a->data)[ia], y = ((const double *)b->data)[ib];
            if (isnan(x) || isnan(y)) r = isnan(x) - isnan(y);
            else r = (x > y) - (x < y);
            break;
        }
        case VT_BOOL: r = (int)((const uint8_t *)a->data)[ia] - (int)((const uint8_t *)b->data)[ib]; break;
        case VT_STR:
            r = cmp_str(a->dict, ((const int32_t *)a->data)[ia], b->dict, ((const int32_t *)b->data)[ib]);
            break;
        }
        o[i] = (uint8_t)cmp_result(op, r);
    }
    return HAMF_OK;
}

static hamf_status eval_compare(const struct ectx *c, int op, const struct hamf__expr *x, const struct hamf__expr *y,
                                const struct hamf__vec *xv, struct hamf__vec *out)
{
    /* xv: x already evaluated (may be NULL) */
    struct hamf__vec a0 = {0}, b0 = {0}, a = {0}, b = {0};
    int t = cmp_type(x->vt, y->vt);
    hamf_status st;
    if (xv) st = vcast(xv, t, &a);
    else st = eval_as(c, x, t, &a0, &a);
    if (!st) st = eval_as(c, y, t, &b0, &b);
    if (!st) {
        if (t == VT_STR && a.scalar && !b.scalar) /* keep the fast path: literal on the right */
            st = compare(c, op == OP_LT ? OP_GT : op == OP_GT ? OP_LT : op == OP_LE ? OP_GE : op == OP_GE ? OP_LE : op,
                         &b, &a, t, out);
        else
            st = compare(c, op, &a, &b, t, out);
    }
    hamf__vec_free(&a);
    hamf__vec_free(&b);
    hamf__vec_free(&a0);
    hamf__vec_free(&b0);
    return st;
}

/* Three-valued AND/OR of two BOOL vectors into out (owned). */
static hamf_status logic(const struct ectx *c, bool is_and, const struct hamf__vec *a, const struct hamf__vec *b,
                         struct hamf__vec *out)
{
    bool scalar = a->scalar && b->scalar;
    size_t n = scalar ? 1 : c->n, sa = a->scalar ? 0 : 1, sb = b->scalar ? 0 : 1;
    hamf_status st = vec_new(out, VT_BOOL, n, scalar);
    if (st) return st;
    uint8_t *o = out->data, *ov = out->valid;
    for (size_t i = 0; i < n; i++) {
        bool na = isnull(a, i * sa), nb = isnull(b, i * sb);
        bool x = !na && ((const uint8_t *)a->data)[i * sa], y = !nb && ((const uint8_t *)b->data)[i * sb];
        if (is_and) {
            if ((!na && !x) || (!nb && !y)) o[i] = 0, ov[i] = 1;
            else if (na || nb) o[i] = 0, ov[i] = 0;
            else o[i] = 1, ov[i] = 1;
        } else {
            if (x || y) o[i] = 1, ov[i] = 1;
            else if (na || nb) o[i] = 0, ov[i] = 0;
            else o[i] = 0, ov[i] = 1;
        }
    }
    return HAMF_OK;
}

/* Copy row `from` of src (type t) to row `to` of dst, remapping strings. */
static inline void put_row(struct hamf__vec *dst, size_t to, const struct hamf__vec *src, size_t from, const int32_t *remap)
{
    if (isnull(src, from)) {
        setnull(dst, to);
        if (dst->t == VT_I64 || dst->t == VT_F64) ((int64_t *)dst->data)[to] = 0;
        else if (dst->t == VT_BOOL) ((uint8_t *)dst->data)[to] = 0;
        return;
    }
    size_t k = ST(src, from);
    switch (dst->t) {
    case VT_I64:
    case VT_F64: ((int64_t *)dst->data)[to] = ((const int64_t *)src->data)[k]; break;
    case VT_BOOL: ((uint8_t *)dst->data)[to] = ((const uint8_t *)src->data)[k]; break;
    case VT_STR: ((int32_t *)dst->data)[to] = remap[((const int32_t *)src->data)[k]]; break;
    }
}

/* remap[k] = code of src->dict entry k in dst->dict. */
static hamf_status make_remap(struct hamf__vec *dst, const struct hamf__vec *src, int32_t **remap)
{
    *remap = NULL;
    if (dst->t != VT_STR || src->t != VT_STR) return HAMF_OK;
    size_t m = src->dict->n;
    int32_t *r = hamf__malloc((m ? m : 1) * sizeof *r);
    if (!r) return nomem();
    for (size_t k = 0; k < m; k++) {
        hamf_status st = hamf__dict_intern(dst->dict, src->dict->str[k], src->dict->len[k], &r[k]);
        if (st) {
            hamf__free(r);
            return st;
        }
    }
    *remap = r;
    return HAMF_OK;
}

/* Pick per row among `nb` value vectors by `choice` (-1 = null). */
static hamf_status select_rows(const struct ectx *c, int t, struct hamf__vec *vals, size_t nb, const int32_t *choice,
                               bool scalar, struct hamf__vec *out)
{
    size_t n = scalar ? 1 : c->n;
    hamf_status st = vec_new(out, t, n, scalar);
    if (st) return st;
    int32_t **remaps = hamf__calloc(nb ? nb : 1, sizeof *remaps);
    if (!remaps) return nomem();
    for (size_t k = 0; k < nb && !st; k++) st = make_remap(out, &vals[k], &remaps[k]);
    if (!st) {
        for (size_t i = 0; i < n; i++) {
            int32_t ch = choice[i];
            if (ch < 0) {
                setnull(out, i);
                if (t != VT_STR) memset((char *)out->data + i * (t == VT_BOOL ? 1 : 8), 0, t == VT_BOOL ? 1 : 8);
            } else {
                put_row(out, i, &vals[ch], i, remaps[ch]);
            }
        }
    }
    for (size_t k = 0; k < nb; k++) hamf__free(remaps[k]);
    hamf__free(remaps);
    return st;
}

static bool all_scalar(const struct hamf__vec *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!v[i].scalar) return false;
    return true;
}

static hamf_status eval_case(const struct ectx *c, const struct hamf__expr *e, struct hamf__vec *out)
{
    size_t first = e->has_operand ? 1 : 0;
    size_t nwhen = (e->nargs - first - (e->has_else ? 1 : 0)) / 2;
    size_t nb = nwhen + (e->has_else ? 1 : 0);
    int t = e->vt;
    hamf_status st = HAMF_OK;
    struct hamf__vec *conds = hamf__calloc(nwhen + 1, sizeof *conds);
    struct hamf__vec *raw = hamf__calloc(nb + 1, sizeof *raw);
    struct hamf__vec *vals = hamf__calloc(nb + 1, sizeof *vals);
    struct hamf__vec opv = {0};
    int32_t *choice = NULL;
    if (!conds || !raw || !vals) {
        st = nomem();
        goto cleanup;
    }
    if (t == VT_NULL) {
        st = vec_all_null(out, VT_NULL, c->n);
        goto cleanup;
    }
    if (e->has_operand && (st = eval(c, e->args[0], &opv))) goto cleanup;
    for (size_t w = 0; w < nwhen; w++) {
        const struct hamf__expr *we = e->args[first + 2 * w];
        if (e->has_operand) st = eval_compare(c, OP_EQ, e->args[0], we, &opv, &conds[w]);
        else {
            struct hamf__vec tmp = {0};
            st = eval_as(c, we, VT_BOOL, &tmp, &conds[w]);
            if (!st && !conds[w].own_data) { /* keep it: it borrows tmp's arrays */
                conds[w] = tmp;
                tmp.own_data = tmp.own_valid = tmp.own_dict = false;
            }
            hamf__vec_free(&tmp);
        }
        if (st) goto cleanup;
        if ((st = eval_as(c, e->args[first + 2 * w + 1], t, &raw[w], &vals[w]))) goto cleanup;
    }
    if (e->has_else && (st = eval_as(c, e->args[e->nargs - 1], t, &raw[nwhen], &vals[nwhen]))) goto cleanup;
    bool scalar = all_scalar(conds, nwhen) && all_scalar(vals, nb);
    size_t n = scalar ? 1 : c->n;
    if (!(choice = hamf__malloc(n * sizeof *choice))) {
        st = nomem();
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        int32_t ch = e->has_else ? (int32_t)nwhen : -1;
        for (size_t w = 0; w < nwhen; w++) {
            if (!isnull(&conds[w], i) && ((const uint8_t *)conds[w].data)[ST(&conds[w], i)]) {
                ch = (int32_t)w;
                break;
            }
        }
        choice[i] = ch;
    }
    st = select_rows(c, t, vals, nb, choice, scalar, out);
cleanup:
    for (size_t w = 0; conds && w < nwhen; w++) hamf__vec_free(&conds[w]);
    for (size_t k = 0; vals && raw && k < nb; k++) {
        hamf__vec_free(&vals[k]);
        hamf__vec_free(&raw[k]);
    }
    hamf__vec_free(&opv);
    hamf__free(conds);
    hamf__free(raw);
    hamf__free(vals);
    hamf__free(choice);
    return st;
}

static hamf_status eval_multi(const struct ectx *c, const struct hamf__expr *e, struct hamf__vec *out)
{
    /* COALESCE, LEAST, GREATEST */
    size_t na = e->nargs;
    int t = e->vt;
    hamf_status st = HAMF_OK;
    struct hamf__vec *raw = hamf__calloc(na, sizeof *raw), *vals = hamf__calloc(na, sizeof *vals);
    int32_t *choice = NULL;
    if (!raw || !vals) {
        st = nomem();
        goto cleanup;
    }
    if (t == VT_NULL) {
        st = vec_all_null(out, VT_NULL, c->n);
        goto cleanup;
    }
    for (size_t k = 0; k < na; k++)
        if ((st = eval_as(c, e->args[k], t, &raw[k], &vals[k]))) goto cleanup;
    bool scalar = all_scalar(vals, na);
    size_t n = scalar ? 1 : c->n;
    if (!(choice = hamf__malloc(n * sizeof *choice))) {
        st = nomem();
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        int32_t ch = -1;
        for (size_t k = 0; k < na; k++) {
            if (isnull(&vals[k], i)) continue;
            if (ch < 0) {
                ch = (int32_t)k;
                if (e->op == FN_COALESCE) break;
                continue;
            }
            const struct hamf__vec *a = &vals[k], *b = &vals[ch];
            size_t ia = ST(a, i), ib = ST(b, i);
            int r = 0;
            if (t == VT_I64) {
                int64_t x = ((const int64_t *)a->data)[ia], y = ((const int64_t *)b->data)[ib];
                r = (x > y) - (x < y);
            } else if (t == VT_F64) {
                double x = ((const double *)a->data)[ia], y = ((const double *)b->data)[ib];
                r = isnan(x) || isnan(y) ? isnan(x) - isnan(y) : (x > y) - (x < y);
            } else if (t == VT_STR) {
                r = cmp_str(a->dict, ((const int32_t *)a->data)[ia], b->dict, ((const int32_t *)b->data)[ib]);
            }
            if ((e->op == FN_LEAST && r < 0) || (e->op == FN_GREATEST && r > 0)) ch = (int32_t)k;
        }
        choice[i] = ch;
    }
    st = select_rows(c, t, vals, na, choice, scalar, out);
cleanup:
    for (size_t k = 0; vals && raw && k < na; k++) {
        hamf__vec_free(&vals[k]);
        hamf__vec_free(&raw[k]);
    }
    hamf__free(raw);
    hamf__free(vals);
    hamf__free(choice);
    return st;
}

static hamf_status eval_math(const struct ectx *c, const struct hamf__expr *e, struct hamf__vec *out)
{
    struct hamf__vec a0 = {0}, a = {0}, b0 = {0}, b = {0};
    hamf_status st;
    int t = e->op == FN_ABS ? e->vt : VT_F64;
    if (t == VT_NULL) return vec_all_null(out, VT_NULL, c->n);
    if ((st = eval_as(c, e->args[0], t, &a0, &a))) goto cleanup;
    if (e->op == FN_POW && (st = eval_as(c, e->args[1], VT_F64, &b0, &b))) goto cleanup;
    bool scalar = a.scalar && (e->op != FN_POW || b.scalar);
    size_t n = scalar ? 1 : c->n, sa = a.scalar ? 0 : 1, sb = b.scalar ? 0 : 1;
    if ((st = vec_new(out, t, n, scalar))) goto cleanup;
    uint8_t *ov = out->valid;
    for (size_t i = 0; i < n; i++) ov[i] = !isnull(&a, i * sa) && (e->op != FN_POW || !isnull(&b, i * sb));
    if (t == VT_I64) {
        const int64_t *x = a.data;
        int64_t *o = out->data;
        for (size_t i = 0; i < n; i++) o[i] = x[i * sa] < 0 ? (int64_t)(0 - (uint64_t)x[i * sa]) : x[i * sa];
    } else {
        const double *x = a.data;
        double *o = out->data;
        for (size_t i = 0; i < n; i++) {
            double v = x[i * sa], r = 0;
            switch (e->op) {
            case FN_ABS: r = fabs(v); break;
            case FN_LN: if (v <= 0) ov[i] = 0; else r = log(v); break;
            case FN_LOG10: if (v <= 0) ov[i] = 0; else r = log10(v); break;
            case FN_LOG1P: if (v <= -1) ov[i] = 0; else r = log1p(v); break;
            case FN_SQRT: r = sqrt(v); break;
            case FN_EXP: r = exp(v); break;
            case FN_POW: r = pow(v, ((const double *)b.data)[i * sb]); break;
            }
            o[i] = ov[i] ? r : 0;
        }
    }
cleanup:
    hamf__vec_free(&a);
    hamf__vec_free(&a0);
    hamf__vec_free(&b);
    hamf__vec_free(&b0);
    return st;
}

static hamf_status eval_strfn(const struct ectx *c, const struct hamf__expr *e, struct hamf__vec *out)
{
    struct hamf__vec a0 = {0}, a = {0};
    hamf_status st;
    int32_t *map = NULL;
    char *tmp = NULL;
    if ((st = eval_as(c, e->args[0], VT_STR, &a0, &a))) goto cleanup;
    size_t n = a.scalar ? 1 : c->n;
    if (a.t == VT_NULL) {
        st = vec_all_null(out, e->vt, c->n);
        goto cleanup;
    }
    const struct hamf__dict *d = a.dict;
    const int32_t *codes = a.data;
    if ((st = vec_new(out, e->vt, n, a.scalar))) goto cleanup;
    if (!(map = hamf__malloc((d->n ? d->n : 1) * sizeof *map))) {
        st = nomem();
        goto cleanup;
    }
    if (e->op == FN_LENGTH) {
        int64_t *o = out->data;
        for (size_t k = 0; k < d->n; k++) { /* characters, not bytes */
            int32_t cnt = 0;
            for (size_t j = 0; j < d->len[k]; j++) cnt += ((unsigned char)d->str[k][j] & 0xc0) != 0x80;
            map[k] = cnt;
        }
        for (size_t i = 0; i < n; i++) {
            if (codes[i] < 0) {
                o[i] = 0;
                out->valid[i] = 0;
            } else {
                o[i] = map[codes[i]];
            }
        }
    } else {
        for (size_t k = 0; k < d->n; k++) {
            hamf__free(tmp);
            if (!(tmp = hamf__strndup(d->str[k], d->len[k]))) {
                st = nomem();
                goto cleanup;
            }
            for (size_t j = 0; j < d->len[k]; j++) /* ASCII letters only */
                tmp[j] = (char)(e->op == FN_LOWER ? tolower((unsigned char)tmp[j]) : toupper((unsigned char)tmp[j]));
            if ((st = hamf__dict_intern(out->dict, tmp, d->len[k], &map[k]))) goto cleanup;
        }
        int32_t *o = out->data;
        for (size_t i = 0; i < n; i++) o[i] = codes[i] < 0 ? -1 : map[codes[i]];
    }
cleanup:
    hamf__free(tmp);
    hamf__free(map);
    hamf__vec_free(&a);
    hamf__vec_free(&a0);
    return st;
}

static hamf_status eval_in(const struct ectx *c, const struct hamf__expr *e, struct hamf__vec *out)
{
    struct hamf__vec x = {0}, acc = {0};
    hamf_status st;
    if ((st = eval(c, e->args[0], &x))) return st;
    if (e->kind == E_BETWEEN) {
        struct hamf__vec ge = {0}, le = {0};
        st = eval_compare(c, OP_GE, e->args[0], e->args[1], &x, &ge);
        if (!st) st = eval_compare(c, OP_LE, e->args[0], e->args[2], &x, &le);
        if (!st) st = logic(c, true, &ge, &le, &acc);
        hamf__vec_free(&ge);
        hamf__vec_free(&le);
    } else {
        /* x IN (a, b, ...) is x = a OR x = b OR ... in three-valued logic */
        for (size_t k = 1; k < e->nargs && !st; k++) {
            struct hamf__vec eq = {0}, nacc = {0};
            st = eval_compare(c, OP_EQ, e->args[0], e->args[k], &x, &eq);
            if (!st && k == 1) {
                acc = eq;
                continue;
            }
            if (!st) st = logic(c, false, &acc, &eq, &nacc);
            hamf__vec_free(&eq);
            hamf__vec_free(&acc);
            acc = nacc;
        }
    }
    hamf__vec_free(&x);
    if (st) {
        hamf__vec_free(&acc);
        return st;
    }
    if (e->negated) {
        uint8_t *o = acc.data;
        for (size_t i = 0; i < acc.n; i++) o[i] = !o[i];
    }
    *out = acc;
    return HAMF_OK;
}

static hamf_status eval_node(const struct ectx *c, const struct hamf__expr *e, struct hamf__vec *out)
{
    hamf_status st;
    switch (e->kind) {
    case E_LIT:
        if (e->vt == VT_NULL) return vec_all_null(out, VT_NULL, c->n);
        if ((st = vec_new(out, e->vt, 1, true))) return st;
        switch (e->vt) {
        case VT_I64: ((int64_t *)out->data)[0] = e->i; break;
        case VT_F64: ((double *)out->data)[0] = e->d; break;
        case VT_BOOL: ((uint8_t *)out->data)[0] = (uint8_t)e->i; break;
        case VT_STR: return hamf__dict_intern(out->dict, e->s, strlen(e->s), (int32_t *)out->data);
        }
        return HAMF_OK;
    case E_COL: {
        const struct hamf__col *col = &c->f->cols[e->col];
        out->t = dtype_vt(col->type);
        out->n = c->n;
        out->data = col->data;
        out->valid = col->valid;
        out->dict = col->dict;
        return HAMF_OK;
    }
    case E_CAST: {
        struct hamf__vec a0 = {0}, a = {0};
        st = eval_as(c, e->args[0], e->vt, &a0, &a);
        if (!st && !a.own_data) { /* same type: a borrows a0 */
            *out = a0;
            return HAMF_OK;
        }
        hamf__vec_free(&a0);
        if (!st) *out = a;
        else hamf__vec_free(&a);
        return st;
    }
    case E_NEG: {
        struct hamf__vec z = {0};
        struct hamf__expr zero = {0}, neg = *e;
        zero.kind = E_LIT;
        zero.vt = e->vt == VT_F64 ? VT_F64 : VT_I64;
        struct hamf__expr *args[2] = {&zero, e->args[0]};
        neg.kind = E_ARITH;
        neg.op = OP_SUB;
        neg.args = args;
        neg.nargs = 2;
        (void)z;
        return eval_arith(c, &neg, out);
    }
    case E_NOT: {
        struct hamf__vec a0 = {0}, a = {0};
        if ((st = eval_as(c, e->args[0], VT_BOOL, &a0, &a))) goto not_done;
        if ((st = vec_new(out, VT_BOOL, a.n, a.scalar))) goto not_done;
        for (size_t i = 0; i < a.n; i++) {
            out->valid[i] = !isnull(&a, i);
            ((uint8_t *)out->data)[i] = out->valid[i] && !((const uint8_t *)a.data)[i];
        }
    not_done:
        hamf__vec_free(&a);
        hamf__vec_free(&a0);
        return st;
    }
    case E_ARITH: return eval_arith(c, e, out);
    case E_CMP: return eval_compare(c, e->op, e->args[0], e->args[1], NULL, out);
    case E_AND:
    case E_OR: {
        struct hamf__vec a0 = {0}, a = {0}, b0 = {0}, b = {0};
        st = eval_as(c, e->args[0], VT_BOOL, &a0, &a);
        if (!st) st = eval_as(c, e->args[1], VT_BOOL, &b0, &b);
        if (!st) st = logic(c, e->kind == E_AND, &a, &b, out);
        hamf__vec_free(&a);
        hamf__vec_free(&b);
        hamf__vec_free(&a0);
        hamf__vec_free(&b0);
        return st;
    }
    case E_ISNULL: {
        struct hamf__vec a = {0};
        if ((st = eval(c, e->args[0], &a))) return st;
        size_t n = a.scalar ? 1 : c->n;
        if (!(st = vec_new(out, VT_BOOL, n, a.scalar)))
            for (size_t i = 0; i < n; i++) ((uint8_t *)out->data)[i] = isnull(&a, i) != e->negated;
        hamf__vec_free(&a);
        return st;
    }
    case E_IN:
    case E_BETWEEN: return eval_in(c, e, out);
    case E_CASE: return eval_case(c, e, out);
    case E_FUNC:
        switch (e->op) {
        case FN_COALESCE:
        case FN_LEAST:
        case FN_GREATEST: return eval_multi(c, e, out);
        case FN_LOWER:
        case FN_UPPER:
        case FN_LENGTH: return eval_strfn(c, e, out);
        default: return eval_math(c, e, out);
        }
    }
    return hamf__err(HAMF_ERR_INTERNAL, "expr: unknown node kind %d", (int)e->kind);
}

/* On failure `out` is left empty: partial results are freed here. */
static hamf_status eval(const struct ectx *c, const struct hamf__expr *e, struct hamf__vec *out)
{
    memset(out, 0, sizeof *out);
    hamf_status st = eval_node(c, e, out);
    if (st) hamf__vec_free(out);
    return st;
}

hamf_status hamf__expr_eval(const struct hamf__expr_prog *p, const hamf_frame *f, struct hamf__vec *out)
{
    if (!p || !f || !out) return hamf__err(HAMF_ERR_MISUSE, "expr: NULL argument");
    struct ectx c = {f, f->nrows, p->text};
    struct hamf__vec v;
    hamf_status st = eval(&c, p->root, &v);
    if (st) return st;
    *out = v;
    return HAMF_OK;
}
