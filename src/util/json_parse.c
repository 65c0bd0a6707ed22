/*
 * json_parse.c — a strict JSON (RFC 8259) reader into a small DOM, for
 * request bodies of the tracking server and answers read by REST clients.
 *
 * Everything a parse allocates lives in one arena owned by the
 * struct hamf__jdoc, so freeing is one call and a failed parse frees all.
 * Children of arrays and objects are gathered on a shared scratch stack and
 * copied into the arena when their container closes, so the tree is made
 * of plain arrays. Recursion is bounded by max_depth; strings are checked
 * to be valid UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF);
 * numbers follow the JSON grammar exactly and must be finite.
 */
#include "util.h"
#include "util/num.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct chunk {
    struct chunk *next;
    size_t used, cap;
    max_align_t data[];
};

struct hamf__jdoc {
    struct chunk *chunks;
    struct hamf__jval root;
};

struct parser {
    const char *s;
    size_t n, pos;
    int max_depth;
    struct hamf__jdoc *doc;
    /* scratch stacks for container children */
    struct hamf__jval *vals;
    size_t nvals, capvals;
    struct hamf__jmember *mems;
    size_t nmems, capmems;
    hamf_status err;
};

static void *arena_alloc(struct hamf__jdoc *d, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (n == 0) n = sizeof(max_align_t);
    struct chunk *c = d->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 8192 ? n : 8192;
        c = hamf__malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = d->chunks;
        c->used = 0;
        c->cap = cap;
        d->chunks = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static hamf_status fail(struct parser *p, const char *what)
{
    size_t line = 1, col = 1;
    for (size_t i = 0; i < p->pos && i < p->n; i++) {
        if (p->s[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    p->err = hamf__err(HAMF_ERR_PARSE, "json: line %zu col %zu (byte %zu): %s", line, col,
                       p->pos, what);
    return p->err;
}

static hamf_status nomem(struct parser *p)
{
    p->err = hamf__err(HAMF_ERR_NOMEM, "json: out of memory");
    return p->err;
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->n) {
        char c = p->s[p->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            p->pos++;
        else
            break;
    }
}

static hamf_status parse_value(struct parser *p, struct hamf__jval *v, int depth);

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_hex4(struct parser *p, unsigned *out)
{
    if (p->n - p->pos < 4) return false;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p->s[p->pos + (size_t)i]);
        if (h < 0) return false;
        v = v * 16 + (unsigned)h;
    }
    p->pos += 4;
    *out = v;
    return true;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t hamf__utf8_len(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    unsigned min, cp;
    if ((c & 0xE0) == 0xC0) {
        n = 2; min = 0x80; cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3; min = 0x800; cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4; min = 0x10000; cp = c & 0x07;
    } else {
        return 0;
    }
    if (avail < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

bool hamf__utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = hamf__utf8_len(u + i, n - i);
        if (!l) return false;
        i += l;
    }
    return true;
}

/* Parse a string at p->pos (which is at the opening quote) into the arena. */
static hamf_status parse_string(struct parser *p, const char **out, size_t *out_len)
{
    size_t start = ++p->pos;
    /* First pass: find the end and check; decoded length <= raw length. */
    size_t i = start;
    while (i < p->n && p->s[i] != '"') {
        if (p->s[i] == '\\') i++;
        i++;
    }
    if (i >= p->n) {
        p->pos = start - 1;
        return fail(p, "unterminated string");
    }
    char *o = arena_alloc(p->doc, i - start + 1);
    if (!o) return nomem(p);
    size_t k = 0;
    while (p->pos < p->n) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') { /* plain ASCII: copied as is */
            o[k++] = (char)c;
            p->pos++;
            continue;
        }
        if (c == '"') {
            p->pos++;
            o[k] = '\0';
            *out = o;
            *out_len = k;
            return HAMF_OK;
        }
        if (c < 0x20) return fail(p, "control character in string");
        if (c == '\\') {
            p->pos++;
            if (p->pos >= p->n) return fail(p, "unterminated string");
            char e = p->s[p->pos++];
            switch (e) {
            case '"': o[k++] = '"'; break;
            case '\\': o[k++] = '\\'; break;
            case '/': o[k++] = '/'; break;
            case 'b': o[k++] = '\b'; break;
            case 'f': o[k++] = '\f'; break;
            case 'n': o[k++] = '\n'; break;
            case 'r': o[k++] = '\r'; break;
            case 't': o[k++] = '\t'; break;
            case 'u': {
                unsigned cp;
                size_t at = p->pos - 2;
                if (!read_hex4(p, &cp)) {
                    p->pos = at;
                    return fail(p, "bad \\u escape");
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (p->n - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
                        p->pos = at;
                        return fail(p, "lone high surrogate in \\u escape");
                    }
                    p->pos += 2;
                    if (!read_hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                        p->pos = at;
                        return fail(p, "bad low surrogate in \\u escape");
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    p->pos = at;
                    return fail(p, "lone low surrogate in \\u escape");
                }
                /* \uXXXX is 6 raw bytes and decodes to at most 3; a pair is
                 * 12 raw bytes for 4: the buffer is always large enough. */
                k += put_utf8(o + k, cp);
                break;
            }
            default:
                p->pos -= 2;
                return fail(p, "bad escape in string");
            }
            continue;
        }
        size_t l = hamf__utf8_len((const unsigned char *)p->s + p->pos, p->n - p->pos);
        if (!l) return fail(p, "invalid UTF-8 in string");
        memcpy(o + k, p->s + p->pos, l);
        k += l;
        p->pos += l;
    }
    return fail(p, "unterminated string");
}

static hamf_status parse_number(struct parser *p, struct hamf__jval *v)
{
    size_t start = p->pos;
    const char *s = p->s;
    size_t i = p->pos;
    bool integral = true;
    if (i < p->n && s[i] == '-') i++;
    if (i >= p->n || s[i] < '0' || s[i] > '9') {
        p->pos = start;
        return fail(p, "bad number");
    }
    if (s[i] == '0') {
        i++;
        if (i < p->n && s[i] >= '0' && s[i] <= '9') {
            p->pos = start;
            return fail(p, "leading zero in number");
        }
    } else {
        while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < p->n && s[i] == '.') {
        integral = false;
        i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9') {
            p->pos = i;
            return fail(p, "expected digit after '.'");
        }
        while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < p->n && (s[i] == 'e' || s[i] == 'E')) {
        integral = false;
        i++;
        if (i < p->n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9') {
            p->pos = i;
            return fail(p, "expected digit in exponent");
        }
        while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
    }
    size_t len = i - start;
    /* the syntax is checked above: an integer of up to 15 digits is exact
     * as a double; anything else goes to the exact parsers of util/num.h
     * (correctly rounded, as strtod), in place */
    if (integral && len - (s[start] == '-') <= 15) {
        uint64_t u = 0;
        for (size_t k = start + (s[start] == '-'); k < i; k++) u = u * 10 + (uint64_t)(s[k] - '0');
        int64_t iv = s[start] == '-' ? -(int64_t)u : (int64_t)u;
        v->type = HAMF__JNUM;
        v->is_int = true;
        v->i = iv;
        v->num = s[start] == '-' ? -(double)u : (double)u; /* "-0" is -0.0, as strtod reads it */
        p->pos = i;
        return HAMF_OK;
    }
    double d;
    if (!hamf__num_parse_f64(s + start, len, &d) || !isfinite(d)) {
        p->pos = start;
        return fail(p, "number out of range");
    }
    v->type = HAMF__JNUM;
    v->num = d;
    v->is_int = false;
    if (integral) {
        /* an int64 when it fits: up to 19 digits, overflow checked */
        size_t k = start, nd = len;
        bool neg = s[k] == '-';
        if (neg) k++, nd--;
        if (nd <= 19) {
            uint64_t u = 0;
            for (; k < i; k++) u = u * 10 + (uint64_t)(s[k] - '0');
            if (neg && u <= (uint64_t)INT64_MAX + 1) {
                v->is_int = true;
                v->i = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
            } else if (!neg && u <= (uint64_t)INT64_MAX) {
                v->is_int = true;
                v->i = (int64_t)u;
            }
        }
    }
    p->pos = i;
    return HAMF_OK;
}

static bool match_word(struct parser *p, const char *w)
{
    size_t l = strlen(w);
    if (p->n - p->pos < l || memcmp(p->s + p->pos, w, l)) return false;
    p->pos += l;
    return true;
}

static hamf_status push_val(struct parser *p, const struct hamf__jval *v)
{
    if (p->nvals == p->capvals) {
        size_t nc = p->capvals ? p->capvals * 2 : 32;
        struct hamf__jval *nv = hamf__realloc(p->vals, nc * sizeof *nv);
        if (!nv) return nomem(p);
        p->vals = nv;
        p->capvals = nc;
    }
    p->vals[p->nvals++] = *v;
    return HAMF_OK;
}

static hamf_status push_mem(struct parser *p, const struct hamf__jmember *m)
{
    if (p->nmems == p->capmems) {
        size_t nc = p->capmems ? p->capmems * 2 : 32;
        struct hamf__jmember *nm = hamf__realloc(p->mems, nc * sizeof *nm);
        if (!nm) return nomem(p);
        p->mems = nm;
        p->capmems = nc;
    }
    p->mems[p->nmems++] = *m;
    return HAMF_OK;
}

static hamf_status parse_array(struct parser *p, struct hamf__jval *v, int depth)
{
    p->pos++; /* '[' */
    size_t base = p->nvals;
    hamf_status st;
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == ']') {
        p->pos++;
    } else {
        for (;;) {
            struct hamf__jval item;
            skip_ws(p);
            if ((st = parse_value(p, &item, depth + 1))) return st;
            if ((st = push_val(p, &item))) return st;
            skip_ws(p);
            if (p->pos >= p->n) return fail(p, "unterminated array");
            char c = p->s[p->pos];
            if (c == ',') {
                p->pos++;
                continue;
            }
            if (c == ']') {
                p->pos++;
                break;
            }
            return fail(p, "expected ',' or ']' in array");
        }
    }
    size_t cnt = p->nvals - base;
    memset(v, 0, sizeof *v);
    v->type = HAMF__JARR;
    v->len = cnt;
    if (cnt) {
        v->items = arena_alloc(p->doc, cnt * sizeof *v->items);
        if (!v->items) return nomem(p);
        memcpy(v->items, p->vals + base, cnt * sizeof *v->items);
    }
    p->nvals = base;
    return HAMF_OK;
}

static hamf_status parse_object(struct parser *p, struct hamf__jval *v, int depth)
{
    p->pos++; /* '{' */
    size_t base = p->nmems;
    hamf_status st;
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == '}') {
        p->pos++;
    } else {
        for (;;) {
            struct hamf__jmember m;
            skip_ws(p);
            if (p->pos >= p->n || p->s[p->pos] != '"') return fail(p, "expected string key in object");
            if ((st = parse_string(p, &m.key, &m.key_len))) return st;
            skip_ws(p);
            if (p->pos >= p->n || p->s[p->pos] != ':') return fail(p, "expected ':' after object key");
            p->pos++;
            skip_ws(p);
            if ((st = parse_value(p, &m.val, depth + 1))) return st;
            if ((st = push_mem(p, &m))) return st;
            skip_ws(p);
            if (p->pos >= p->n) return fail(p, "unterminated object");
            char c = p->s[p->pos];
            if (c == ',') {
                p->pos++;
                continue;
            }
            if (c == '}') {
                p->pos++;
                break;
            }
            return fail(p, "expected ',' or '}' in object");
        }
    }
    size_t cnt = p->nmems - base;
    memset(v, 0, sizeof *v);
    v->type = HAMF__JOBJ;
    v->len = cnt;
    if (cnt) {
        v->members = arena_alloc(p->doc, cnt * sizeof *v->members);
        if (!v->members) return nomem(p);
        memcpy(v->members, p->mems + base, cnt * sizeof *v->members);
    }
    p->nmems = base;
    return HAMF_OK;
}

static hamf_status parse_value(struct parser *p, struct hamf__jval *v, int depth)
{
    if (depth > p->max_depth) return fail(p, "nesting too deep");
    if (p->pos >= p->n) return fail(p, "unexpected end of input");
    memset(v, 0, sizeof *v);
    char c = p->s[p->pos];
    switch (c) {
    case '{': return parse_object(p, v, depth);
    case '[': return parse_array(p, v, depth);
    case '"':
        v->type = HAMF__JSTR;
        return parse_string(p, &v->str, &v->len);
    case 't':
        if (!match_word(p, "true")) break;
        v->type = HAMF__JBOOL;
        v->b = true;
        return HAMF_OK;
    case 'f':
        if (!match_word(p, "false")) break;
        v->type = HAMF__JBOOL;
        return HAMF_OK;
    case 'n':
        if (!match_word(p, "null")) break;
        v->type = HAMF__JNULL;
        return HAMF_OK;
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, v);
    }
    return fail(p, "unexpected character");
}

hamf_status hamf__json_parse(const char *text, size_t len, int max_depth, struct hamf__jdoc **out)
{
    if (!text || !out) return hamf__err(HAMF_ERR_MISUSE, "json: NULL argument");
    struct hamf__jdoc *d = hamf__calloc(1, sizeof *d);
    if (!d) return hamf__err(HAMF_ERR_NOMEM, "json: out of memory");
    struct parser p = {.s = text, .n = len, .max_depth = max_depth > 0 ? max_depth : HAMF__JSON_MAX_DEPTH,
                       .doc = d};
    hamf_status st;
    /* A UTF-8 byte order mark is not allowed (RFC 8259 section 8.1). */
    skip_ws(&p);
    if ((st = parse_value(&p, &d->root, 1))) goto cleanup;
    skip_ws(&p);
    if (p.pos != p.n) {
        st = fail(&p, "trailing characters after JSON value");
        goto cleanup;
    }
    *out = d;
    d = NULL;
cleanup:
    hamf__free(p.vals);
    hamf__free(p.mems);
    hamf__jdoc_free(d);
    return st;
}

void hamf__jdoc_free(struct hamf__jdoc *d)
{
    if (!d) return;
    struct chunk *c = d->chunks;
    while (c) {
        struct chunk *n = c->next;
        hamf__free(c);
        c = n;
    }
    hamf__free(d);
}

const struct hamf__jval *hamf__jdoc_root(const struct hamf__jdoc *d)
{
    return d ? &d->root : NULL;
}

const struct hamf__jval *hamf__jobj_get(const struct hamf__jval *obj, const char *key)
{
    if (!obj || obj->type != HAMF__JOBJ) return NULL;
    size_t kl = strlen(key);
    for (size_t i = obj->len; i-- > 0;) {
        const struct hamf__jmember *m = &obj->members[i];
        if (m->key_len == kl && !memcmp(m->key, key, kl)) return &m->val;
    }
    return NULL;
}

bool hamf__jval_to_i64(const struct hamf__jval *v, int64_t *out)
{
    if (!v) return false;
    if (v->type == HAMF__JNUM) {
        if (v->is_int) {
            *out = v->i;
            return true;
        }
        /* 1e3 or 5.0: integral values written as floats are accepted when exact. */
        if (v->num == floor(v->num) && fabs(v->num) < 9007199254740992.0) {
            *out = (int64_t)v->num;
            return true;
        }
        return false;
    }
    if (v->type == HAMF__JSTR) return hamf__parse_i64(v->str, v->len, out);
    return false;
}

bool hamf__jval_to_f64(const struct hamf__jval *v, double *out)
{
    if (!v) return false;
    if (v->type == HAMF__JNUM) {
        *out = v->num;
        return true;
    }
    if (v->type != HAMF__JSTR) return false;
    if (!strcmp(v->str, "NaN")) {
        *out = NAN;
        return true;
    }
    if (!strcmp(v->str, "Infinity")) {
        *out = INFINITY;
        return true;
    }
    if (!strcmp(v->str, "-Infinity")) {
        *out = -INFINITY;
        return true;
    }
    /* Plain decimal text only: no hex floats, no "inf"/"nan" spellings. */
    for (size_t i = 0; i < v->len; i++) {
        char c = v->str[i];
        if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'))
            return false;
    }
    return hamf__parse_double(v->str, v->len, out);
}
