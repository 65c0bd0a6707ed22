/*
 * mlflow_errors.c — MLflow's wording for request-parameter errors, which
 * clients and MLflow's own tests match on:
 *
 *   Invalid value 31 for parameter 'run_id' supplied. Hint: Value was of
 *   type 'int'. See the API docs for more information about request
 *   parameters.
 *   Missing value for required parameter 'key'. See the API docs for more
 *   information about request parameters.
 *
 * The value is shown as Python shows the parsed JSON value (str() of it:
 * strings bare at the top level, repr inside lists and dicts, True/False/
 * None, floats with their shortest round-trip digits), and the type as
 * Python's name for it (str, int, float, bool, NoneType, list, dict).
 * Values longer than REPR_MAX bytes are cut with "...".
 */
#include "server/api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPR_MAX 512
#define API_DOCS " See the API docs for more information about request parameters."

/* Python's repr of a float: shortest digits that read back as v,
 * positional for decimal exponents -4..15, else d.ddde+XX. */
static hamf_status py_float(struct hamf__buf *b, double v)
{
    if (isnan(v)) return hamf__buf_puts(b, "nan");
    if (isinf(v)) return hamf__buf_puts(b, v < 0 ? "-inf" : "inf");
    char e[40];
    for (int p = 0; p < 17; p++) {
        snprintf(e, sizeof e, "%.*e", p, v);
        if (strtod(e, NULL) == v) break;
    }
    /* e = [-]d[.ddd]e[+-]XX */
    char digits[24];
    size_t nd = 0;
    const char *s = e;
    bool neg = *s == '-';
    if (neg) s++;
    for (; *s && *s != 'e'; s++)
        if (*s != '.' && nd < sizeof digits - 1) digits[nd++] = *s;
    digits[nd] = '\0';
    int exp10 = atoi(s + 1);
    while (nd > 1 && digits[nd - 1] == '0') digits[--nd] = '\0';
    hamf_status st = neg ? hamf__buf_putc(b, '-') : HAMF_OK;
    if (st) return st;
    if (exp10 < -4 || exp10 >= 16) {
        st = hamf__buf_putc(b, digits[0]);
        if (!st && nd > 1) st = hamf__buf_printf(b, ".%s", digits + 1);
        if (!st) st = hamf__buf_printf(b, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
        return st;
    }
    if (exp10 < 0) {
        st = hamf__buf_puts(b, "0.");
        for (int i = 0; !st && i < -exp10 - 1; i++) st = hamf__buf_putc(b, '0');
        if (!st) st = hamf__buf_puts(b, digits);
        return st;
    }
    /* integer part: digits[0..exp10], padded with zeros */
    for (int i = 0; !st && i <= exp10; i++) st = hamf__buf_putc(b, (size_t)i < nd ? digits[i] : '0');
    if (st) return st;
    if ((size_t)exp10 + 1 < nd) return hamf__buf_printf(b, ".%s", digits + exp10 + 1);
    return hamf__buf_puts(b, ".0");
}

static hamf_status py_str_repr(struct hamf__buf *b, const char *s, size_t n)
{
    bool has_sq = memchr(s, '\'', n) != NULL, has_dq = memchr(s, '"', n) != NULL;
    char q = has_sq && !has_dq ? '"' : '\'';
    hamf_status st = hamf__buf_putc(b, q);
    for (size_t i = 0; !st && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' || c == (unsigned char)q) st = hamf__buf_printf(b, "\\%c", c);
        else if (c == '\n') st = hamf__buf_puts(b, "\\n");
        else if (c == '\r') st = hamf__buf_puts(b, "\\r");
        else if (c == '\t') st = hamf__buf_puts(b, "\\t");
        else if (c < 0x20 || c == 0x7f) st = hamf__buf_printf(b, "\\x%02x", c);
        else st = hamf__buf_putc(b, (char)c);
    }
    if (!st) st = hamf__buf_putc(b, q);
    return st;
}

static hamf_status py_value(struct hamf__buf *b, const struct hamf__jval *v, bool top)
{
    hamf_status st = HAMF_OK;
    if (b->len > REPR_MAX) return HAMF_OK;
    switch (v->type) {
    case HAMF__JNULL: return hamf__buf_puts(b, "None");
    case HAMF__JBOOL: return hamf__buf_puts(b, v->b ? "True" : "False");
    case HAMF__JNUM:
        if (v->is_int) return hamf__buf_printf(b, "%lld", (long long)v->i);
        return py_float(b, v->num);
    case HAMF__JSTR: return top ? hamf__buf_append(b, v->str, v->len) : py_str_repr(b, v->str, v->len);
    case HAMF__JARR:
        st = hamf__buf_putc(b, '[');
        for (size_t i = 0; !st && i < v->len; i++) {
            if (i) st = hamf__buf_puts(b, ", ");
            if (!st) st = py_value(b, &v->items[i], false);
        }
        return st ? st : hamf__buf_putc(b, ']');
    case HAMF__JOBJ:
        st = hamf__buf_putc(b, '{');
        for (size_t i = 0; !st && i < v->len; i++) {
            if (i) st = hamf__buf_puts(b, ", ");
            if (!st) st = py_str_repr(b, v->members[i].key, v->members[i].key_len);
            if (!st) st = hamf__buf_puts(b, ": ");
            if (!st) st = py_value(b, &v->members[i].val, false);
        }
        return st ? st : hamf__buf_putc(b, '}');
    }
    return st;
}

static const char *py_type(const struct hamf__jval *v)
{
    switch (v->type) {
    case HAMF__JNULL: return "NoneType";
    case HAMF__JBOOL: return "bool";
    case HAMF__JNUM: return v->is_int ? "int" : "float";
    case HAMF__JSTR: return "str";
    case HAMF__JARR: return "list";
    case HAMF__JOBJ: return "dict";
    }
    return "object";
}

hamf_status hamf__api_pyrepr(struct hamf__buf *out, const struct hamf__jval *v)
{
    size_t start = out->len;
    hamf_status st = py_value(out, v, true);
    if (!st && out->len - start > REPR_MAX) {
        out->len = start + REPR_MAX;
        out->data[out->len] = '\0';
        st = hamf__buf_puts(out, "...");
    }
    return st;
}

void hamf__api_bad_value(struct hamf__http_resp *resp, const char *name, const struct hamf__jval *v)
{
    struct hamf__buf r;
    hamf__buf_init(&r, 0);
    if (hamf__api_pyrepr(&r, v)) {
        hamf__buf_free(&r);
        hamf__api_error(resp, 503, "TEMPORARILY_UNAVAILABLE", "out of memory");
        return;
    }
    hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE",
                    "Invalid value %s for parameter '%s' supplied. Hint: Value was of type '%s'." API_DOCS,
                    r.data ? r.data : "", name, py_type(v));
    hamf__buf_free(&r);
}

void hamf__api_bad_query_value(struct hamf__http_resp *resp, const char *name, const char *value)
{
    hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE",
                    "Invalid value %.512s for parameter '%s' supplied. Hint: Value was of type 'str'." API_DOCS, value,
                    name);
}

void hamf__api_missing(struct hamf__http_resp *resp, const char *name)
{
    hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter '%s'." API_DOCS, name);
}
