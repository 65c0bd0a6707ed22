/*
 * expr_parse.c — lexer and parser for Spark SQL column expressions.
 *
 * The lexer turns text into tokens (numbers, 'strings' or "strings" with
 * backslash escapes, identifiers or `quoted identifiers`, operators).
 * The parser is precedence climbing over one table of binary operators,
 * lowest first:
 *     OR  <  AND  <  NOT (prefix)  <  = == != <> < <= > >= <=> IS IN BETWEEN
 *         <  + -  <  * / %  <  unary - +
 * Every recursion goes through enter(), which stops at
 * HAMF_EXPR_MAX_DEPTH so that hostile input cannot overflow the stack.
 * IF(c, a, b) is read as CASE WHEN c THEN a ELSE b END.
 */
#include "data/expr.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum tok { TK_EOF, TK_INT, TK_DBL, TK_STR, TK_IDENT, TK_QIDENT, TK_OP };

struct parser {
    const char *src;
    size_t len, pos;
    /* current token */
    enum tok t;
    size_t tpos;
    char op[4];
    char *text; /* TK_STR/TK_IDENT/TK_QIDENT value (owned) */
    int64_t i;
    double d;
    int depth;
    hamf_status st;
};

const char *hamf__vt_name(int vt)
{
    switch (vt) {
    case VT_NULL: return "null";
    case VT_I64: return "int64";
    case VT_F64: return "double";
    case VT_BOOL: return "boolean";
    case VT_STR: return "string";
    }
    return "?";
}

hamf_status hamf__expr_error(hamf_status st, const char *text, size_t pos, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t len = strlen(text);
    if (pos > len) pos = len;
    /* show at most 200 bytes around the caret, on one line */
    size_t from = pos > 150 ? pos - 150 : 0;
    size_t to = len - from > 200 ? from + 200 : len;
    char line[256];
    size_t k = 0;
    for (size_t i = from; i < to && k < sizeof line - 1; i++)
        line[k++] = (text[i] == '\n' || text[i] == '\r' || text[i] == '\t') ? ' ' : text[i];
    line[k] = '\0';
    char caret[256];
    size_t c = 0;
    for (size_t i = from; i < pos && c < sizeof caret - 2; i++) caret[c++] = ' ';
    caret[c++] = '^';
    caret[c] = '\0';
    return hamf__err(st, "expr: %s at column %zu\n  %s\n  %s", msg, pos + 1, line, caret);
}

static bool perr(struct parser *p, size_t pos, const char *fmt, ...) HAMF_PRINTF(3, 4);
static bool perr(struct parser *p, size_t pos, const char *fmt, ...)
{
    if (p->st) return false;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->st = hamf__expr_error(HAMF_ERR_PARSE, p->src, pos, "%s", msg);
    return false;
}

static bool oom(struct parser *p)
{
    if (!p->st) p->st = hamf__err(HAMF_ERR_NOMEM, "expr: out of memory");
    return false;
}

/* ---- lexer --------------------------------------------------------------- */

static bool lex_string(struct parser *p, char quote)
{
    struct hamf__buf b;
    hamf__buf_init(&b, HAMF_EXPR_MAX_LEN);
    size_t i = p->pos + 1;
    for (;;) {
        if (i >= p->len) {
            hamf__buf_free(&b);
            return perr(p, p->tpos, "unterminated string literal");
        }
        char c = p->src[i];
        if (c == quote) {
            if (i + 1 < p->len && p->src[i + 1] == quote) { /* '' inside '...' */
                if (hamf__buf_putc(&b, c)) goto nomem;
                i += 2;
                continue;
            }
            i++;
            break;
        }
        if (c == '\\' && i + 1 < p->len) {
            char e = p->src[i + 1];
            char out = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == '0' ? '\0' : e;
            if (hamf__buf_putc(&b, out)) goto nomem;
            i += 2;
            continue;
        }
        if (hamf__buf_putc(&b, c)) goto nomem;
        i++;
    }
    p->text = b.len ? hamf__buf_detach(&b, NULL) : hamf__strdup("");
    hamf__buf_free(&b);
    if (!p->text) return oom(p);
    p->pos = i;
    p->t = TK_STR;
    return true;
nomem:
    hamf__buf_free(&b);
    return oom(p);
}

static bool next(struct parser *p)
{
    hamf__free(p->text);
    p->text = NULL;
    if (p->st) return false;
    while (p->pos < p->len && isspace((unsigned char)p->src[p->pos])) p->pos++;
    p->tpos = p->pos;
    if (p->pos >= p->len) {
        p->t = TK_EOF;
        return true;
    }
    const char *s = p->src;
    char c = s[p->pos];
    if (isdigit((unsigned char)c) || (c == '.' && p->pos + 1 < p->len && isdigit((unsigned char)s[p->pos + 1]))) {
        size_t i = p->pos;
        bool dbl = false;
        while (i < p->len && isdigit((unsigned char)s[i])) i++;
        if (i < p->len && s[i] == '.') {
            dbl = true;
            i++;
            while (i < p->len && isdigit((unsigned char)s[i])) i++;
        }
        if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
            size_t j = i + 1;
            if (j < p->len && (s[j] == '+' || s[j] == '-')) j++;
            if (j < p->len && isdigit((unsigned char)s[j])) {
                dbl = true;
                i = j;
                while (i < p->len && isdigit((unsigned char)s[i])) i++;
            }
        }
        if (i < p->len && (isalpha((unsigned char)s[i]) || s[i] == '_'))
            return perr(p, i, "unexpected character '%c' after number", s[i]);
        char tmp[400];
        if (i - p->pos >= sizeof tmp) return perr(p, p->pos, "number too long");
        memcpy(tmp, s + p->pos, i - p->pos);
        tmp[i - p->pos] = '\0';
        if (!dbl && hamf__parse_i64(tmp, i - p->pos, &p->i)) {
            p->t = TK_INT;
        } else {
            p->d = strtod(tmp, NULL); /* integers too big for int64 become doubles */
            p->t = TK_DBL;
        }
        p->pos = i;
        return true;
    }
    if (isalpha((unsigned char)c) || c == '_') {
        size_t i = p->pos;
        while (i < p->len && (isalnum((unsigned char)s[i]) || s[i] == '_')) i++;
        if (!(p->text = hamf__strndup(s + p->pos, i - p->pos))) return oom(p);
        p->pos = i;
        p->t = TK_IDENT;
        return true;
    }
    if (c == '`') {
        struct hamf__buf b;
        hamf__buf_init(&b, HAMF_EXPR_MAX_LEN);
        size_t i = p->pos + 1;
        for (;;) {
            if (i >= p->len) {
                hamf__buf_free(&b);
                return perr(p, p->tpos, "unterminated `quoted identifier`");
            }
            if (s[i] == '`') {
                if (i + 1 < p->len && s[i + 1] == '`') {
                    if (hamf__buf_putc(&b, '`')) goto nomem;
                    i += 2;
                    continue;
                }
                i++;
                break;
            }
            if (hamf__buf_putc(&b, s[i])) goto nomem;
            i++;
        }
        if (b.len == 0) {
            hamf__buf_free(&b);
            return perr(p, p->tpos, "empty `quoted identifier`");
        }
        p->text = hamf__buf_detach(&b, NULL);
        hamf__buf_free(&b);
        if (!p->text) return oom(p);
        p->pos = i;
        p->t = TK_QIDENT;
        return true;
    nomem:
        hamf__buf_free(&b);
        return oom(p);
    }
    if (c == '\'' || c == '"') return lex_string(p, c);
    static const char *ops[] = {"<=>", "==", "!=", "<>", "<=", ">=", "+", "-", "*", "/", "%",
                                "=",   "<",  ">",  "(",  ")",  ",",  "!"};
    for (size_t k = 0; k < HAMF_ARRAY_LEN(ops); k++) {
        size_t n = strlen(ops[k]);
        if (p->pos + n <= p->len && memcmp(s + p->pos, ops[k], n) == 0) {
            memcpy(p->op, ops[k], n + 1);
            p->pos += n;
            p->t = TK_OP;
            return true;
        }
    }
    if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f) return perr(p, p->pos, "unexpected character '%c'", c);
    return perr(p, p->pos, "unexpected byte 0x%02x", (unsigned char)c);
}

static bool is_op(const struct parser *p, const char *op)
{
    return p->t == TK_OP && strcmp(p->op, op) == 0;
}

static bool is_kw(const struct parser *p, const char *kw)
{
    return p->t == TK_IDENT && strcasecmp(p->text, kw) == 0;
}

static const char *tok_desc(const struct parser *p, char *buf, size_t n)
{
    switch (p->t) {
    case TK_EOF: return "end of expression";
    case TK_INT:
    case TK_DBL: return "a number";
    case TK_STR: return "a string";
    case TK_IDENT:
    case TK_QIDENT: snprintf(buf, n, "'%.40s'", p->text); return buf;
    case TK_OP: snprintf(buf, n, "'%s'", p->op); return buf;
    }
    return "?";
}

static bool expect_op(struct parser *p, const char *op)
{
    if (!is_op(p, op)) {
        char b[64];
        return perr(p, p->tpos, "expected '%s', found %s", op, tok_desc(p, b, sizeof b));
    }
    return next(p);
}

static bool expect_kw(struct parser *p, const char *kw)
{
    if (!is_kw(p, kw)) {
        char b[64];
        return perr(p, p->tpos, "expected %s, found %s", kw, tok_desc(p, b, sizeof b));
    }
    return next(p);
}

/* ---- AST ----------------------------------------------------------------- */

static void node_free(struct hamf__expr *e)
{
    if (!e) return;
    for (size_t i = 0; i < e->nargs; i++) node_free(e->args[i]);
    hamf__free(e->args);
    hamf__free(e->s);
    hamf__free(e);
}

static struct hamf__expr *node(struct parser *p, enum hamf__ekind k, size_t pos)
{
    struct hamf__expr *e = hamf__calloc(1, sizeof *e);
    if (!e) {
        oom(p);
        return NULL;
    }
    e->kind = k;
    e->pos = pos;
    return e;
}

/* Append child `c` to e; on failure frees c. */
static bool add_arg(struct parser *p, struct hamf__expr *e, struct hamf__expr *c)
{
    if (!c) return false;
    struct hamf__expr **na = hamf__realloc(e->args, (e->nargs + 1) * sizeof *na);
    if (!na) {
        node_free(c);
        return oom(p);
    }
    e->args = na;
    e->args[e->nargs++] = c;
    return true;
}

static struct hamf__expr *parse_expr(struct parser *p, int minprec);

static bool enter(struct parser *p)
{
    if (++p->depth > HAMF_EXPR_MAX_DEPTH)
        return perr(p, p->tpos, "expression nested too deeply (limit %d)", HAMF_EXPR_MAX_DEPTH);
    return true;
}

static bool parse_type(struct parser *p, int *vt)
{
    static const struct { const char *n; int vt; } tab[] = {
        {"int", VT_I64},    {"integer", VT_I64}, {"bigint", VT_I64},  {"long", VT_I64},
        {"smallint", VT_I64}, {"tinyint", VT_I64}, {"double", VT_F64}, {"float", VT_F64},
        {"real", VT_F64},   {"boolean", VT_BOOL}, {"bool", VT_BOOL},  {"string", VT_STR},
    };
    if (p->t == TK_IDENT)
        for (size_t i = 0; i < HAMF_ARRAY_LEN(tab); i++)
            if (strcasecmp(p->text, tab[i].n) == 0) {
                *vt = tab[i].vt;
                return next(p);
            }
    char b[64];
    return perr(p, p->tpos, "unknown type %s (int, bigint, double, boolean, string)", tok_desc(p, b, sizeof b));
}

static const struct { const char *name; int fn; int min, max; } functions[] = {
    {"coalesce", FN_COALESCE, 1, 1000}, {"nvl", FN_COALESCE, 2, 2}, {"ifnull", FN_COALESCE, 2, 2},
    {"least", FN_LEAST, 1, 1000}, {"greatest", FN_GREATEST, 1, 1000},
    {"abs", FN_ABS, 1, 1}, {"ln", FN_LN, 1, 1}, {"log10", FN_LOG10, 1, 1},
    {"log1p", FN_LOG1P, 1, 1}, {"sqrt", FN_SQRT, 1, 1}, {"exp", FN_EXP, 1, 1},
    {"pow", FN_POW, 2, 2}, {"power", FN_POW, 2, 2},
    {"lower", FN_LOWER, 1, 1}, {"lcase", FN_LOWER, 1, 1}, {"upper", FN_UPPER, 1, 1},
    {"ucase", FN_UPPER, 1, 1}, {"length", FN_LENGTH, 1, 1}, {"char_length", FN_LENGTH, 1, 1},
};

static struct hamf__expr *parse_call(struct parser *p, char *name, size_t pos)
{
    struct hamf__expr *e = NULL;
    bool is_if = strcasecmp(name, "if") == 0;
    int fn = 0, min = 0, max = 0;
    for (size_t i = 0; i < HAMF_ARRAY_LEN(functions) && !is_if; i++)
        if (strcasecmp(name, functions[i].name) == 0) {
            fn = functions[i].fn;
            min = functions[i].min;
            max = functions[i].max;
        }
    if (!is_if && !fn) {
        perr(p, pos, "unknown function '%s'", name);
        goto fail;
    }
    if (is_if) {
        min = max = 3;
    }
    if (!(e = node(p, is_if ? E_CASE : E_FUNC, pos))) goto fail;
    e->op = fn;
    if (!next(p)) goto fail; /* '(' */
    if (!is_op(p, ")")) {
        for (;;) {
            if (!add_arg(p, e, parse_expr(p, 1))) goto fail;
            if (!is_op(p, ",")) break;
            if (!next(p)) goto fail;
        }
    }
    if (!expect_op(p, ")")) goto fail;
    if ((int)e->nargs < min || (int)e->nargs > max) {
        if (min == max) perr(p, pos, "%s takes %d argument%s, got %zu", name, min, min == 1 ? "" : "s", e->nargs);
        else perr(p, pos, "%s takes at least %d argument%s, got %zu", name, min, min == 1 ? "" : "s", e->nargs);
        goto fail;
    }
    if (is_if) e->has_else = true; /* args: cond, then, else */
    hamf__free(name);
    return e;
fail:
    hamf__free(name);
    node_free(e);
    return NULL;
}

static struct hamf__expr *parse_case(struct parser *p)
{
    struct hamf__expr *e = node(p, E_CASE, p->tpos);
    if (!e || !next(p)) goto fail;
    if (!is_kw(p, "when")) {
        e->has_operand = true;
        if (!add_arg(p, e, parse_expr(p, 1))) goto fail;
    }
    if (!is_kw(p, "when")) {
        char b[64];
        perr(p, p->tpos, "expected WHEN, found %s", tok_desc(p, b, sizeof b));
        goto fail;
    }
    while (is_kw(p, "when")) {
        if (!next(p)) goto fail;
        if (!add_arg(p, e, parse_expr(p, 1))) goto fail;
        if (!expect_kw(p, "then")) goto fail;
        if (!add_arg(p, e, parse_expr(p, 1))) goto fail;
    }
    if (is_kw(p, "else")) {
        if (!next(p)) goto fail;
        if (!add_arg(p, e, parse_expr(p, 1))) goto fail;
        e->has_else = true;
    }
    if (!expect_kw(p, "end")) goto fail;
    return e;
fail:
    node_free(e);
    return NULL;
}

static const char *reserved[] = {"and", "or", "not", "case", "when", "then", "else", "end", "is",
                                 "in", "between", "as", "null", "true", "false", "cast"};

static struct hamf__expr *parse_primary(struct parser *p)
{
    struct hamf__expr *e = NULL;
    size_t pos = p->tpos;
    char b[64];
    switch (p->t) {
    case TK_INT:
        if (!(e = node(p, E_LIT, pos))) return NULL;
        e->vt = VT_I64;
        e->i = p->i;
        break;
    case TK_DBL:
        if (!(e = node(p, E_LIT, pos))) return NULL;
        e->vt = VT_F64;
        e->d = p->d;
        break;
    case TK_STR:
        if (!(e = node(p, E_LIT, pos))) return NULL;
        e->vt = VT_STR;
        e->s = p->text;
        p->text = NULL;
        break;
    case TK_QIDENT:
        if (!(e = node(p, E_COL, pos))) return NULL;
        e->s = p->text;
        p->text = NULL;
        break;
    case TK_OP:
        if (is_op(p, "(")) {
            if (!next(p)) return NULL;
            e = parse_expr(p, 1);
            if (!e || !expect_op(p, ")")) {
                node_free(e);
                return NULL;
            }
            return e;
        }
        perr(p, pos, "expected a value, found %s", tok_desc(p, b, sizeof b));
        return NULL;
    case TK_EOF:
        perr(p, pos, "expected a value, found end of expression");
        return NULL;
    case TK_IDENT:
        if (is_kw(p, "null")) {
            if (!(e = node(p, E_LIT, pos))) return NULL;
            e->vt = VT_NULL;
            break;
        }
        if (is_kw(p, "true") || is_kw(p, "false")) {
            if (!(e = node(p, E_LIT, pos))) return NULL;
            e->vt = VT_BOOL;
            e->i = is_kw(p, "true");
            break;
        }
        if (is_kw(p, "case")) return parse_case(p);
        if (is_kw(p, "cast")) {
            if (!(e = node(p, E_CAST, pos)) || !next(p) || !expect_op(p, "(") ||
                !add_arg(p, e, parse_expr(p, 1)) || !expect_kw(p, "as") || !parse_type(p, &e->vt) ||
                !expect_op(p, ")")) {
                node_free(e);
                return NULL;
            }
            return e;
        }
        {
            /* a name: function call if '(' follows, else a column */
            char *name = p->text;
            p->text = NULL;
            size_t save = p->pos;
            while (save < p->len && isspace((unsigned char)p->src[save])) save++;
            if (save < p->len && p->src[save] == '(') {
                if (!next(p)) {
                    hamf__free(name);
                    return NULL;
                }
                return parse_call(p, name, pos);
            }
            for (size_t i = 0; i < HAMF_ARRAY_LEN(reserved); i++)
                if (strcasecmp(name, reserved[i]) == 0) {
                    perr(p, pos, "expected a value, found keyword %s (quote column names with `backticks`)", name);
                    hamf__free(name);
                    return NULL;
                }
            if (!(e = node(p, E_COL, pos))) {
                hamf__free(name);
                return NULL;
            }
            e->s = name;
        }
        break;
    }
    if (!next(p)) {
        node_free(e);
        return NULL;
    }
    return e;
}

static struct hamf__expr *parse_prefix(struct parser *p)
{
    if (!enter(p)) return NULL;
    struct hamf__expr *e = NULL;
    size_t pos = p->tpos;
    if (is_kw(p, "not") || is_op(p, "!")) {
        if (!(e = node(p, E_NOT, pos)) || !next(p) || !add_arg(p, e, parse_expr(p, 3))) goto fail;
    } else if (is_op(p, "-") || is_op(p, "+")) {
        bool neg = is_op(p, "-");
        if (!next(p)) goto fail;
        struct hamf__expr *x = parse_prefix(p);
        if (!x) goto fail;
        if (!neg) {
            e = x;
        } else if (x->kind == E_LIT && x->vt == VT_I64 && x->i != INT64_MIN) {
            x->i = -x->i; /* fold literal */
            x->pos = pos;
            e = x;
        } else if (x->kind == E_LIT && x->vt == VT_F64) {
            x->d = -x->d;
            x->pos = pos;
            e = x;
        } else {
            if (!(e = node(p, E_NEG, pos))) {
                node_free(x);
                goto fail;
            }
            if (!add_arg(p, e, x)) goto fail;
        }
    } else {
        e = parse_primary(p);
    }
    p->depth--;
    return e;
fail:
    node_free(e);
    return NULL;
}

/* Binary operator at the current token: precedence (0 = none) and op. */
static int infix(const struct parser *p, int *kind, int *op)
{
    if (p->t == TK_IDENT) {
        if (is_kw(p, "or")) return *kind = E_OR, 1;
        if (is_kw(p, "and")) return *kind = E_AND, 2;
        if (is_kw(p, "is")) return *kind = E_ISNULL, 4;
        if (is_kw(p, "in")) return *kind = E_IN, 4;
        if (is_kw(p, "between")) return *kind = E_BETWEEN, 4;
        if (is_kw(p, "not")) { /* NOT IN / NOT BETWEEN */
            size_t i = p->pos;
            while (i < p->len && isspace((unsigned char)p->src[i])) i++;
            if (p->len - i >= 2 && strncasecmp(p->src + i, "in", 2) == 0 &&
                (p->len - i == 2 || !(isalnum((unsigned char)p->src[i + 2]) || p->src[i + 2] == '_')))
                return *kind = E_IN, 4;
            if (p->len - i >= 7 && strncasecmp(p->src + i, "between", 7) == 0 &&
                (p->len - i == 7 || !(isalnum((unsigned char)p->src[i + 7]) || p->src[i + 7] == '_')))
                return *kind = E_BETWEEN, 4;
        }
        return 0;
    }
    if (p->t != TK_OP) return 0;
    static const struct { const char *s; int kind, op, prec; } tab[] = {
        {"=", E_CMP, OP_EQ, 4},   {"==", E_CMP, OP_EQ, 4},  {"!=", E_CMP, OP_NE, 4},
        {"<>", E_CMP, OP_NE, 4},  {"<", E_CMP, OP_LT, 4},   {"<=", E_CMP, OP_LE, 4},
        {">", E_CMP, OP_GT, 4},   {">=", E_CMP, OP_GE, 4},  {"<=>", E_CMP, OP_NSEQ, 4},
        {"+", E_ARITH, OP_ADD, 6}, {"-", E_ARITH, OP_SUB, 6}, {"*", E_ARITH, OP_MUL, 7},
        {"/", E_ARITH, OP_DIV, 7}, {"%", E_ARITH, OP_MOD, 7},
    };
    for (size_t i = 0; i < HAMF_ARRAY_LEN(tab); i++)
        if (strcmp(p->op, tab[i].s) == 0) {
            *kind = tab[i].kind;
            *op = tab[i].op;
            return tab[i].prec;
        }
    return 0;
}

static struct hamf__expr *parse_expr(struct parser *p, int minprec)
{
    if (!enter(p)) return NULL;
    struct hamf__expr *lhs = parse_prefix(p), *e = NULL;
    if (!lhs) return NULL;
    for (;;) {
        int kind = 0, op = 0;
        int prec = infix(p, &kind, &op);
        if (prec == 0 || prec < minprec) break;
        size_t pos = p->tpos;
        if (!(e = node(p, (enum hamf__ekind)kind, pos))) goto fail;
        e->op = op;
        if (!add_arg(p, e, lhs)) {
            lhs = NULL;
            goto fail;
        }
        lhs = NULL;
        if (kind == E_ISNULL) {
            if (!next(p)) goto fail;
            if (is_kw(p, "not")) {
                e->negated = true;
                if (!next(p)) goto fail;
            }
            if (!expect_kw(p, "null")) goto fail;
        } else if (kind == E_IN || kind == E_BETWEEN) {
            if (is_kw(p, "not")) {
                e->negated = true;
                if (!next(p)) goto fail;
            }
            if (!next(p)) goto fail; /* IN / BETWEEN */
            if (kind == E_IN) {
                if (!expect_op(p, "(")) goto fail;
                for (;;) {
                    if (!add_arg(p, e, parse_expr(p, 1))) goto fail;
                    if (!is_op(p, ",")) break;
                    if (!next(p)) goto fail;
                }
                if (!expect_op(p, ")")) goto fail;
            } else {
                if (!add_arg(p, e, parse_expr(p, 5))) goto fail;
                if (!expect_kw(p, "and")) goto fail;
                if (!add_arg(p, e, parse_expr(p, 5))) goto fail;
            }
        } else {
            if (!next(p)) goto fail;
            /* comparisons do not chain: a = b = c needs parentheses in
             * Spark too, so the right side binds one level tighter */
            if (!add_arg(p, e, parse_expr(p, prec + 1))) goto fail;
        }
        lhs = e;
        e = NULL;
    }
    p->depth--;
    return lhs;
fail:
    node_free(lhs);
    node_free(e);
    return NULL;
}

hamf_status hamf__expr_parse(const char *text, struct hamf__expr_prog **out)
{
    if (!text || !out) return hamf__err(HAMF_ERR_MISUSE, "expr: NULL argument");
    size_t len = strlen(text);
    if (len > HAMF_EXPR_MAX_LEN) return hamf__err(HAMF_ERR_CONSTRAINT, "expr: expression longer than %d bytes", HAMF_EXPR_MAX_LEN);
    struct parser p;
    memset(&p, 0, sizeof p);
    p.src = text;
    p.len = len;
    struct hamf__expr_prog *prog = hamf__calloc(1, sizeof *prog);
    if (!prog || !(prog->text = hamf__strdup(text))) {
        hamf__free(prog);
        return hamf__err(HAMF_ERR_NOMEM, "expr: out of memory");
    }
    p.src = prog->text;
    struct hamf__expr *root = NULL;
    if (next(&p)) {
        if (p.t == TK_EOF) perr(&p, 0, "empty expression");
        else root = parse_expr(&p, 1);
    }
    if (root && p.t != TK_EOF) {
        char b[64];
        perr(&p, p.tpos, "unexpected %s after the expression", tok_desc(&p, b, sizeof b));
    }
    hamf__free(p.text);
    if (p.st || !root) {
        hamf_status st = p.st ? p.st : hamf__err(HAMF_ERR_INTERNAL, "expr: parse failed");
        node_free(root);
        hamf__free(prog->text);
        hamf__free(prog);
        return st;
    }
    prog->root = root;
    *out = prog;
    return HAMF_OK;
}

void hamf__expr_prog_free(struct hamf__expr_prog *p)
{
    if (!p) return;
    node_free(p->root);
    hamf__free(p->text);
    hamf__free(p);
}
