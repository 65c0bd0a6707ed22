/*
 * csv.c — RFC 4180 CSV reading into frames and writing from frames.
 *
 * Reading is two passes over the same bytes, like Spark's
 * `inferSchema=True`: pass 1 tokenizes every row, checks the shape and
 * UTF-8, and records which kinds of values (int, double, bool, other) each
 * column holds; pass 2 converts fields straight into typed column arrays.
 * Files are read in blocks that end on a row boundary (a newline outside
 * quotes, found by tracking quote parity), and each block is split the same
 * way into ranges parsed by parallel threads; strings go to per-thread
 * dictionaries that are merged afterwards. Memory is one block plus one
 * block's frame, so `hamf_csv_transform` handles files larger than RAM.
 *
 * Strictness: a quote may only open a field or be doubled inside a quoted
 * field, so quote parity always tells where rows end. Errors carry
 * file:line:column (1-based, bytes).
 *
 * Writing formats rows in parallel into per-thread buffers, writes a temp
 * file in the target directory, fsyncs and renames it into place.
 */
#include "data/csv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_THREADS 8
#define MAX_ROW_BYTES ((size_t)1 << 30)
#define MIN_RANGE_BYTES ((size_t)1 << 20)

enum { K_INT = 1, K_DBL = 2, K_BOOL = 4, K_STR = 8 };
enum { T_DELIM, T_EOL, T_END };

void hamf_csv_options_init(hamf_csv_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->delimiter = ',';
}

/* ---- options ------------------------------------------------------------- */

struct ctx {
    const char *name; /* file name for messages */
    char delim;
    char **nulls;
    size_t nnull;
    int threads;
    const char *schema_spec;
    /* schema */
    size_t ncols;
    char **names;
    hamf_dtype *types;
    uint8_t *forced; /* 1 when --schema fixed the type */
    uint8_t *kinds;  /* pass 1 result */
    uint8_t *hasnull;
    uint8_t tbl[256]; /* byte classes for unquoted scanning */
};

static void ctx_free(struct ctx *c)
{
    for (size_t i = 0; i < c->nnull; i++) hamf__free(c->nulls[i]);
    hamf__free(c->nulls);
    for (size_t i = 0; i < c->ncols; i++) hamf__free(c->names[i]);
    hamf__free(c->names);
    hamf__free(c->types);
    hamf__free(c->forced);
    hamf__free(c->kinds);
    hamf__free(c->hasnull);
}

static int cpu_count(void)
{
    int n = hamf__ncpu();
    return n > MAX_THREADS ? MAX_THREADS : n;
}

static hamf_status ctx_init(struct ctx *c, const char *name, const hamf_csv_options *o)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    c->delim = o && o->delimiter ? o->delimiter : ',';
    c->schema_spec = o ? o->schema : NULL;
    c->threads = o && o->threads > 0 ? (o->threads > MAX_THREADS ? MAX_THREADS : o->threads) : cpu_count();
    if (c->delim == '"' || c->delim == '\n' || c->delim == '\r')
        return hamf__err(HAMF_ERR_MISUSE, "csv: invalid delimiter");
    c->tbl[(unsigned char)c->delim] = 1;
    c->tbl['\n'] = 2;
    c->tbl['\r'] = 3;
    c->tbl['"'] = 4;
    for (int i = 0x80; i < 256; i++) c->tbl[i] = 5;
    if (o && o->null_values && *o->null_values) {
        const char *p = o->null_values;
        for (;;) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            char **nn = hamf__realloc(c->nulls, (c->nnull + 1) * sizeof *nn);
            if (!nn) return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
            c->nulls = nn;
            if (!(c->nulls[c->nnull] = hamf__strndup(p, n))) return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
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
static hamf_status apply_schema(struct ctx *c, const char *spec)
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

/* ---- tokenizer ----------------------------------------------------------- */

struct field {
    const char *p;
    size_t n;
    bool quoted, escaped;
};

struct perr {
    size_t pos;
    char msg[200];
};

/* Length of the valid UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80) return 0;
        if (c == 0xe0 && s[1] < 0xa0) return 0;
        if (c == 0xed && s[1] > 0x9f) return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80) return 0;
        if (c == 0xf0 && s[1] < 0x90) return 0;
        if (c == 0xf4 && s[1] > 0x8f) return 0;
        return 4;
    }
    return 0;
}

static bool check_utf8(const char *p, size_t n, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)p;
    for (size_t i = 0; i < n;) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_len(s + i, n - i);
        if (!k) {
            *bad = i;
            return false;
        }
        i += k;
    }
    return true;
}

/* Parse one field starting at *pos; returns false with e set on error. */
static inline bool next_field(const struct ctx *c, const char *buf, size_t len, size_t *pos, struct field *f,
                       int *term, struct perr *e)
{
    size_t i = *pos;
    if (i < len && buf[i] == '"') {
        size_t start = ++i;
        f->escaped = false;
        for (;;) {
            const char *q = memchr(buf + i, '"', len - i);
            if (!q) {
                e->pos = start - 1;
                snprintf(e->msg, sizeof e->msg, "unterminated quoted field");
                return false;
            }
            size_t j = (size_t)(q - buf);
            if (j + 1 < len && buf[j + 1] == '"') {
                f->escaped = true;
                i = j + 2;
                continue;
            }
            f->p = buf + start;
            f->n = j - start;
            f->quoted = true;
            i = j + 1;
            break;
        }
        size_t bad;
        if (!check_utf8(f->p, f->n, &bad)) {
            e->pos = (size_t)(f->p - buf) + bad;
            snprintf(e->msg, sizeof e->msg, "invalid UTF-8 byte 0x%02x", (unsigned char)f->p[bad]);
            return false;
        }
        if (i >= len) *term = T_END;
        else if (buf[i] == c->delim) *term = T_DELIM, i++;
        else if (buf[i] == '\n') *term = T_EOL, i++;
        else if (buf[i] == '\r' && (i + 1 == len || buf[i + 1] == '\n')) *term = T_EOL, i += i + 1 < len ? 2 : 1;
        else {
            e->pos = i;
            snprintf(e->msg, sizeof e->msg, "expected '%c' or end of line after closing quote", c->delim);
            return false;
        }
        *pos = i;
        return true;
    }
    size_t start = i;
    f->quoted = f->escaped = false;
    for (;;) {
        while (i < len && !c->tbl[(unsigned char)buf[i]]) i++;
        if (i >= len) {
            *term = T_END;
            f->p = buf + start;
            f->n = i - start;
            *pos = i;
            return true;
        }
        switch (c->tbl[(unsigned char)buf[i]]) {
        case 1:
            *term = T_DELIM;
            f->p = buf + start;
            f->n = i - start;
            *pos = i + 1;
            return true;
        case 2:
            *term = T_EOL;
            f->p = buf + start;
            f->n = i - start;
            *pos = i + 1;
            return true;
        case 3:
            if (i + 1 == len || buf[i + 1] == '\n') {
                *term = T_EOL;
                f->p = buf + start;
                f->n = i - start;
                *pos = i + 1 < len ? i + 2 : i + 1;
                return true;
            }
            i++;
            break;
        case 4:
            e->pos = i;
            snprintf(e->msg, sizeof e->msg, "unexpected '\"' inside an unquoted field (quote the whole field)");
            return false;
        default: {
            size_t k = utf8_len((const unsigned char *)buf + i, len - i);
            if (!k) {
                e->pos = i;
                snprintf(e->msg, sizeof e->msg, "invalid UTF-8 byte 0x%02x", (unsigned char)buf[i]);
                return false;
            }
            i += k;
        }
        }
    }
}

/* Unescape a field's text ("" -> ") into tmp when needed. */
static hamf_status field_text(const struct field *f, struct hamf__buf *tmp, const char **p, size_t *n)
{
    if (!f->escaped) {
        *p = f->p;
        *n = f->n;
        return HAMF_OK;
    }
    hamf__buf_reset(tmp);
    /* between the quotes, every '"' is the first of a "" pair */
    for (size_t i = 0; i < f->n; i++) {
        if (f->p[i] == '"') i++;
        if (hamf__buf_putc(tmp, f->p[i])) return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
    }
    *p = tmp->len ? tmp->data : "";
    *n = tmp->len;
    return HAMF_OK;
}

static inline bool is_null(const struct ctx *c, const struct field *f)
{
    if (f->n == 0) return true;
    if (f->quoted) return false;
    for (size_t i = 0; i < c->nnull; i++)
        if (strlen(c->nulls[i]) == f->n && memcmp(c->nulls[i], f->p, f->n) == 0) return true;
    return false;
}

/* ---- value parsing ------------------------------------------------------- */

static inline bool fast_i64(const char *p, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n && (p[0] == '-' || p[0] == '+')) {
        neg = p[0] == '-';
        i = 1;
    }
    if (i == n || n - i > 19) return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (d > 9) return false;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) return false;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX) return false;
        *out = (int64_t)v;
    }
    return true;
}

static const double pow10tab[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static bool word_eq(const char *p, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(p, w, n) == 0;
}

/* Decimal syntax check (no hex, no inf/nan words) plus a fast exact path. */
static bool parse_dbl(const char *p, size_t n, double *out)
{
    size_t i = 0;
    bool neg = false;
    if (n && (p[0] == '-' || p[0] == '+')) {
        neg = p[0] == '-';
        i = 1;
    }
    if (word_eq(p + i, n - i, "NaN") && i == 0) {
        *out = NAN;
        return true;
    }
    if (word_eq(p + i, n - i, "Infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        return true;
    }
    uint64_t m = 0;
    int digits = 0, frac = 0, nd = 0;
    bool dot = false;
    for (; i < n; i++) {
        char ch = p[i];
        if (ch >= '0' && ch <= '9') {
            nd++;
            if (m || ch != '0') digits++;
            if (digits <= 18) m = m * 10 + (uint64_t)(ch - '0');
            if (dot) frac++;
        } else if (ch == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (!nd) return false;
    bool exp = false;
    if (i < n) {
        if (p[i] != 'e' && p[i] != 'E') return false;
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-')) i++;
        if (i == n) return false;
        for (; i < n; i++)
            if (p[i] < '0' || p[i] > '9') return false;
        exp = true;
    }
    if (!exp && digits <= 15 && frac <= 22) {
        double v = (double)m / pow10tab[frac];
        *out = neg ? -v : v;
        return true;
    }
    char tmp[128];
    char *heap = NULL, *s = tmp;
    if (n >= sizeof tmp) {
        if (!(heap = hamf__malloc(n + 1))) return false;
        s = heap;
    }
    memcpy(s, p, n);
    s[n] = '\0';
    *out = strtod(s, NULL);
    hamf__free(heap);
    return true;
}

static bool parse_bool(const char *p, size_t n, uint8_t *out)
{
    if (n == 4 && strncasecmp(p, "true", 4) == 0) return *out = 1, true;
    if (n == 5 && strncasecmp(p, "false", 5) == 0) return *out = 0, true;
    return false;
}

static int classify(const struct field *f)
{
    if (f->escaped) return K_STR;
    int64_t iv;
    double dv;
    uint8_t bv;
    if (fast_i64(f->p, f->n, &iv)) return K_INT;
    if (f->n < 400 && parse_dbl(f->p, f->n, &dv)) return K_DBL;
    if (parse_bool(f->p, f->n, &bv)) return K_BOOL;
    return K_STR;
}

static hamf_dtype kinds_type(uint8_t k)
{
    if (k & K_STR) return HAMF_DTYPE_STRING;
    if ((k & K_BOOL) && (k & (K_INT | K_DBL))) return HAMF_DTYPE_STRING;
    if (k & K_DBL) return HAMF_DTYPE_DOUBLE;
    if (k & K_INT) return HAMF_DTYPE_INT64;
    if (k & K_BOOL) return HAMF_DTYPE_BOOL;
    return HAMF_DTYPE_STRING;
}

static bool kind_fits(uint8_t k, hamf_dtype t)
{
    switch (t) {
    case HAMF_DTYPE_INT64: return k == K_INT;
    case HAMF_DTYPE_DOUBLE: return k == K_INT || k == K_DBL;
    case HAMF_DTYPE_BOOL: return k == K_BOOL;
    case HAMF_DTYPE_STRING: return true;
    }
    return false;
}

/* ---- range jobs (pass 1 and pass 2) ------------------------------------- */

struct job {
    const struct ctx *c;
    const char *buf;
    size_t begin, end;
    bool build;
    /* pass 1 */
    uint8_t *kinds, *hasnull;
    size_t rows;
    /* pass 2 */
    size_t row0, maxrows;
    struct hamf__col *cols;
    struct hamf__dict **dicts;
    /* result */
    hamf_status st;
    bool perr;
    struct perr e;
    struct hamf__buf tmp;
};

static void job_fail(struct job *j, size_t pos, const char *fmt, ...) HAMF_PRINTF(3, 4);
static void job_fail(struct job *j, size_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->e.msg, sizeof j->e.msg, fmt, ap);
    va_end(ap);
    j->e.pos = pos;
    j->perr = true;
    j->st = HAMF_ERR_PARSE;
}

static bool store_field(struct job *j, size_t k, size_t row, const struct field *f)
{
    const struct ctx *c = j->c;
    struct hamf__col *col = &j->cols[k];
    bool null = is_null(c, f);
    const char *p;
    size_t n;
    switch (col->type) {
    case HAMF_DTYPE_STRING: {
        int32_t *codes = col->data;
        if (null) {
            codes[row] = -1;
            return true;
        }
        if ((j->st = field_text(f, &j->tmp, &p, &n))) return false;
        if ((j->st = hamf__dict_intern(j->dicts[k], p, n, &codes[row]))) return false;
        return true;
    }
    case HAMF_DTYPE_INT64: {
        int64_t *v = col->data;
        if (null || !fast_i64(f->p, f->n, &v[row])) goto bad;
        return true;
    }
    case HAMF_DTYPE_DOUBLE: {
        double *v = col->data;
        int64_t iv;
        if (null) goto bad;
        if (fast_i64(f->p, f->n, &iv)) v[row] = (double)iv;
        else if (f->escaped || f->n >= 400 || !parse_dbl(f->p, f->n, &v[row])) goto bad;
        return true;
    }
    case HAMF_DTYPE_BOOL: {
        uint8_t *v = col->data;
        if (null || !parse_bool(f->p, f->n, &v[row])) goto bad;
        return true;
    }
    }
bad:
    if (null && col->valid) {
        col->valid[row] = 0;
        memset((char *)col->data + row * hamf__dtype_size(col->type), 0, hamf__dtype_size(col->type));
        return true;
    }
    job_fail(j, (size_t)(f->p - j->buf), "column '%s' (%s): cannot read '%.*s'%s", c->names[k],
             hamf__dtype_name(col->type), (int)(f->n > 40 ? 40 : f->n), f->p,
             null ? " (file changed while reading?)" : "");
    return false;
}

static void *job_run(void *arg)
{
    struct job *j = arg;
    const struct ctx *c = j->c;
    size_t pos = j->begin, end = j->end;
    const char *buf = j->buf;
    struct field f;
    int term = T_END;
    size_t rows = 0;
    while (pos < end) {
        size_t rowstart = pos;
        if (buf[pos] == '\n') { /* blank line */
            pos++;
            continue;
        }
        if (buf[pos] == '\r' && (pos + 1 == end || buf[pos + 1] == '\n')) {
            pos += pos + 1 < end ? 2 : 1;
            continue;
        }
        if (j->build && rows >= j->maxrows) {
            job_fail(j, rowstart, "more rows than on the first pass (file changed while reading?)");
            return NULL;
        }
        size_t k = 0;
        for (;;) {
            size_t fstart = pos;
            if (!next_field(c, buf, end, &pos, &f, &term, &j->e)) {
                j->perr = true;
                j->st = HAMF_ERR_PARSE;
                return NULL;
            }
            if (k >= c->ncols) {
                job_fail(j, fstart, "too many fields: expected %zu", c->ncols);
                return NULL;
            }
            if (j->build) {
                if (!store_field(j, k, j->row0 + rows, &f)) return NULL;
            } else if (is_null(c, &f)) {
                j->hasnull[k] = 1;
            } else if (j->kinds[k] != K_STR || c->forced[k]) {
                uint8_t kd = (uint8_t)classify(&f);
                if (c->forced[k] && !kind_fits(kd, c->types[k])) {
                    job_fail(j, fstart, "column '%s' is %s (schema) but holds '%.*s'", c->names[k],
                             hamf__dtype_name(c->types[k]), (int)(f.n > 40 ? 40 : f.n), f.p);
                    return NULL;
                }
                j->kinds[k] |= kd;
            }
            k++;
            if (term != T_DELIM) break;
        }
        if (k < c->ncols) {
            /* point at the end of the short line */
            size_t at = pos;
            if (term == T_EOL) {
                at = pos - 1;
                if (buf[at] == '\n' && at > rowstart && buf[at - 1] == '\r') at--;
            }
            job_fail(j, at, "too few fields: got %zu, expected %zu", k, c->ncols);
            return NULL;
        }
        rows++;
    }
    j->rows = rows;
    return NULL;
}

/* Split [begin,end) into up to n ranges at row starts outside quotes. */
static size_t split_ranges(const char *buf, size_t begin, size_t end, size_t n, size_t *bounds)
{
    size_t nr = 0;
    bounds[nr++] = begin;
    if (n > 1 && end - begin >= 2 * MIN_RANGE_BYTES) {
        size_t step = (end - begin) / n;
        size_t next = begin + step;
        size_t p = begin;
        bool inq = false;
        while (p < end && nr < n) {
            if (!inq) {
                const char *q = memchr(buf + p, '"', end - p);
                size_t qe = q ? (size_t)(q - buf) : end;
                /* newlines in [p, qe) are row ends */
                while (nr < n && next < qe) {
                    size_t from = next > p ? next : p;
                    const char *nl = memchr(buf + from, '\n', qe - from);
                    if (!nl) break;
                    size_t b = (size_t)(nl - buf) + 1;
                    if (b >= end) break;
                    bounds[nr++] = b;
                    next = b + step;
                }
                if (!q) break;
                p = qe + 1;
                inq = true;
            } else {
                const char *q = memchr(buf + p, '"', end - p);
                if (!q) break;
                p = (size_t)(q - buf) + 1;
                inq = false;
            }
        }
    }
    bounds[nr] = end;
    return nr;
}

static void job_task(void *ctx, size_t i, int tid)
{
    (void)tid;
    job_run(&((struct job *)ctx)[i]);
}

static hamf_status run_jobs(struct job *jobs, size_t n)
{
    hamf__run_parallel(n, job_task, jobs);
    return HAMF_OK;
}

/* ---- block source -------------------------------------------------------- */

struct src {
    int fd;
    const char *mem;
    size_t memlen;
    char *buf;
    size_t cap, have; /* bytes in buf */
    size_t blocksz;
    /* current block */
    const char *data;
    size_t len;
    size_t consumed; /* bytes of buf given out as the current block */
    bool eof, first, done;
    uint64_t line0; /* physical lines before the current block */
};

/* Position after the last newline outside quotes in [0,len), or 0. */
static size_t last_row_end(const char *buf, size_t len)
{
    size_t p = 0, last = 0;
    bool inq = false;
    while (p < len) {
        const char *q = memchr(buf + p, '"', len - p);
        size_t qe = q ? (size_t)(q - buf) : len;
        if (!inq && qe > p) {
            const char *nl = memrchr(buf + p, '\n', qe - p);
            if (nl) last = (size_t)(nl - buf) + 1;
        }
        if (!q) break;
        inq = !inq;
        p = qe + 1;
    }
    return last;
}

static size_t count_nl(const char *p, size_t n)
{
    size_t c = 0;
    const char *e = p + n;
    while (p < e && (p = memchr(p, '\n', (size_t)(e - p)))) {
        c++;
        p++;
    }
    return c;
}

/* Next block: complete rows only (except at EOF). false at end. */
static hamf_status src_next(struct src *s, const char *name, bool *got)
{
    *got = false;
    if (s->done) return HAMF_OK;
    if (s->len) s->line0 += count_nl(s->data, s->len);
    if (s->fd < 0) {
        if (!s->first) {
            s->done = true;
            return HAMF_OK;
        }
        s->first = false;
        s->data = s->mem;
        s->len = s->memlen;
        s->done = true;
        *got = true;
        return HAMF_OK;
    }
    /* drop the consumed part */
    if (s->consumed) {
        memmove(s->buf, s->buf + s->consumed, s->have - s->consumed);
        s->have -= s->consumed;
        s->consumed = 0;
    }
    size_t want = s->blocksz;
    for (;;) {
        while (!s->eof && s->have < want) {
            if (s->cap < want + 1) {
                size_t nc = want + 1;
                char *nb = hamf__realloc(s->buf, nc);
                if (!nb) return hamf__err(HAMF_ERR_NOMEM, "csv: %s: out of memory", name);
                s->buf = nb;
                s->cap = nc;
            }
            ssize_t r = read(s->fd, s->buf + s->have, want - s->have);
            if (r < 0) {
                if (errno == EINTR) continue;
                return hamf__err(HAMF_ERR_IO, "csv: %s: read: %s", name, strerror(errno));
            }
            if (r == 0) s->eof = true;
            s->have += (size_t)r;
        }
        size_t end = s->eof ? s->have : last_row_end(s->buf, s->have);
        if (end == 0 && !s->eof) {
            if (want >= MAX_ROW_BYTES)
                return hamf__err(HAMF_ERR_PARSE, "csv: %s:%llu: row longer than %zu bytes (unterminated quote?)",
                                 name, (unsigned long long)s->line0 + 1, MAX_ROW_BYTES);
            want *= 2;
            continue;
        }
        if (end == 0 && s->eof && !s->first) {
            s->done = true;
            return HAMF_OK;
        }
        s->data = s->buf;
        s->len = end;
        s->consumed = end;
        s->first = false;
        *got = true;
        return HAMF_OK;
    }
}

static hamf_status src_open(struct src *s, const char *path, const char *mem, size_t memlen, size_t blocksz)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->first = true;
    s->blocksz = blocksz ? blocksz : 16u << 20;
    if (path) {
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0)
            return hamf__err(errno == ENOENT ? HAMF_ERR_NOTFOUND : HAMF_ERR_IO, "csv: %s: %s", path, strerror(errno));
        if (blocksz == 0) {
            struct stat sb;
            if (fstat(s->fd, &sb) == 0 && sb.st_size > 0) s->blocksz = (size_t)sb.st_size + 1;
        }
    } else {
        s->mem = mem;
        s->memlen = memlen;
    }
    return HAMF_OK;
}

static hamf_status src_rewind(struct src *s, const char *name)
{
    s->first = true;
    s->done = s->eof = false;
    s->have = s->consumed = s->len = 0;
    s->line0 = 0;
    if (s->fd >= 0 && lseek(s->fd, 0, SEEK_SET) < 0)
        return hamf__err(HAMF_ERR_IO, "csv: %s: seek: %s", name, strerror(errno));
    return HAMF_OK;
}

static void src_close(struct src *s)
{
    if (s->fd >= 0) close(s->fd);
    hamf__free(s->buf);
}

static hamf_status pos_err(const struct ctx *c, const struct src *s, size_t pos, const char *msg)
{
    size_t line = (size_t)s->line0 + count_nl(s->data, pos) + 1;
    const char *ls = pos ? memrchr(s->data, '\n', pos) : NULL;
    size_t col = ls ? pos - (size_t)(ls - s->data) : pos + 1;
    return hamf__err(HAMF_ERR_PARSE, "csv: %s:%zu:%zu: %s", c->name, line, col, msg);
}

/* Parse the header row of the first block; returns where data begins. */
static hamf_status parse_header(struct ctx *c, struct src *s, size_t *data_start)
{
    const char *buf = s->data;
    size_t len = s->len, pos = 0;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) pos = 3;
    while (pos < len && (buf[pos] == '\n' || buf[pos] == '\r')) pos++;
    *data_start = pos;
    if (pos >= len) return HAMF_OK; /* empty file: no columns */
    struct hamf__buf tmp;
    hamf__buf_init(&tmp, 0);
    hamf_status st = HAMF_OK;
    size_t cap = 0;
    for (;;) {
        struct field f;
        struct perr e;
        int term;
        if (!next_field(c, buf, len, &pos, &f, &term, &e)) {
            st = pos_err(c, s, e.pos, e.msg);
            goto cleanup;
        }
        const char *p;
        size_t n;
        if ((st = field_text(&f, &tmp, &p, &n))) goto cleanup;
        if (c->ncols == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = hamf__realloc(c->names, cap * sizeof *nn);
            if (!nn) {
                st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
                goto cleanup;
            }
            c->names = nn;
        }
        c->names[c->ncols] = n ? hamf__strndup(p, n) : hamf__asprintf("_c%zu", c->ncols);
        if (!c->names[c->ncols]) {
            st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
            goto cleanup;
        }
        c->ncols++;
        if (c->ncols > 100000) {
            st = pos_err(c, s, pos, "more than 100000 columns");
            goto cleanup;
        }
        if (term != T_DELIM) break;
    }
    *data_start = pos;
    /* Spark renames duplicate header names to name + column index. */
    for (size_t i = 0; i < c->ncols; i++) {
        bool dup = false;
        for (size_t k = 0; k < c->ncols && !dup; k++)
            dup = k != i && strcmp(c->names[i], c->names[k]) == 0;
        if (!dup) continue;
        for (size_t k = i + 1; k < c->ncols; k++) {
            if (strcmp(c->names[i], c->names[k]) != 0) continue;
            char *nn = hamf__asprintf("%s%zu", c->names[k], k);
            if (!nn) {
                st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
                goto cleanup;
            }
            hamf__free(c->names[k]);
            c->names[k] = nn;
        }
        char *nn = hamf__asprintf("%s%zu", c->names[i], i);
        if (!nn) {
            st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
            goto cleanup;
        }
        hamf__free(c->names[i]);
        c->names[i] = nn;
    }
    c->types = hamf__calloc(c->ncols, sizeof *c->types);
    c->forced = hamf__calloc(c->ncols, 1);
    c->kinds = hamf__calloc(c->ncols, 1);
    c->hasnull = hamf__calloc(c->ncols, 1);
    if (!c->types || !c->forced || !c->kinds || !c->hasnull) st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
    else st = apply_schema(c, c->schema_spec);
cleanup:
    hamf__buf_free(&tmp);
    return st;
}

/* Per-block record from pass 1, reused by pass 2. */
struct blockinfo {
    size_t len, nr;
    size_t bounds[MAX_THREADS + 1];
    size_t rows[MAX_THREADS];
};

static hamf_status finish_jobs(const struct ctx *c, const struct src *s, struct job *jobs, size_t nr)
{
    for (size_t i = 0; i < nr; i++) {
        if (jobs[i].st == HAMF_OK) continue;
        if (jobs[i].perr) return pos_err(c, s, jobs[i].e.pos, jobs[i].e.msg);
        /* the worker's message went to its own thread: say it again here */
        return hamf__err(jobs[i].st, "csv: %s: %s", c->name, jobs[i].st == HAMF_ERR_NOMEM ? "out of memory" : "parse failed");
    }
    return HAMF_OK;
}

static hamf_status pass1(struct ctx *c, struct src *s, struct blockinfo **infos, size_t *ninfo,
                         bool *has_header)
{
    hamf_status st = HAMF_OK;
    struct job jobs[MAX_THREADS];
    size_t cap = 0;
    *has_header = false;
    *ninfo = 0;
    *infos = NULL;
    for (;;) {
        bool got;
        if ((st = src_next(s, c->name, &got))) return st;
        if (!got) break;
        size_t begin = 0;
        if (!*has_header) {
            if ((st = parse_header(c, s, &begin))) return st;
            if (c->ncols == 0) return HAMF_OK;
            *has_header = true;
        }
        if (*ninfo == cap) {
            cap = cap ? cap * 2 : 8;
            struct blockinfo *ni = hamf__realloc(*infos, cap * sizeof *ni);
            if (!ni) return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
            *infos = ni;
        }
        struct blockinfo *bi = &(*infos)[(*ninfo)++];
        memset(bi, 0, sizeof *bi);
        bi->len = s->len;
        bi->nr = split_ranges(s->data, begin, s->len, (size_t)c->threads, bi->bounds);
        uint8_t *scratch = hamf__calloc(bi->nr * 2, c->ncols);
        if (!scratch) return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
        for (size_t i = 0; i < bi->nr; i++) {
            memset(&jobs[i], 0, sizeof jobs[i]);
            jobs[i].c = c;
            jobs[i].buf = s->data;
            jobs[i].begin = bi->bounds[i];
            jobs[i].end = bi->bounds[i + 1];
            jobs[i].kinds = scratch + 2 * i * c->ncols;
            jobs[i].hasnull = jobs[i].kinds + c->ncols;
            memcpy(jobs[i].kinds, c->kinds, c->ncols);
        }
        run_jobs(jobs, bi->nr);
        st = finish_jobs(c, s, jobs, bi->nr);
        for (size_t i = 0; i < bi->nr && !st; i++) {
            bi->rows[i] = jobs[i].rows;
            for (size_t k = 0; k < c->ncols; k++) {
                c->kinds[k] |= jobs[i].kinds[k];
                c->hasnull[k] |= jobs[i].hasnull[k];
            }
        }
        hamf__free(scratch);
        if (st) return st;
    }
    if (*has_header)
        for (size_t k = 0; k < c->ncols; k++)
            if (!c->forced[k]) c->types[k] = kinds_type(c->kinds[k]);
    return HAMF_OK;
}

static hamf_status alloc_cols(const struct ctx *c, size_t nrows, hamf_frame *f)
{
    for (size_t k = 0; k < c->ncols; k++) {
        hamf_dtype t = c->types[k];
        void *data = hamf__malloc(nrows * hamf__dtype_size(t));
        uint8_t *valid = NULL;
        if (data && c->hasnull[k] && t != HAMF_DTYPE_STRING) {
            valid = hamf__malloc(nrows);
            if (valid) memset(valid, 1, nrows);
        }
        if (!data || (c->hasnull[k] && t != HAMF_DTYPE_STRING && !valid)) {
            hamf__free(data);
            hamf__free(valid);
            return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory (%zu rows)", nrows);
        }
        hamf_status st = hamf__frame_push(f, hamf__strdup(c->names[k]), t, data, valid, NULL, nrows);
        if (st) return st;
    }
    return HAMF_OK;
}

/* Build the frame of the current block with the ranges from pass 1. */
static hamf_status build_block(const struct ctx *c, const struct src *s, const struct blockinfo *bi,
                               hamf_frame **out)
{
    hamf_status st;
    hamf_frame *f = NULL;
    struct job jobs[MAX_THREADS];
    struct hamf__dict **dicts = NULL;
    int32_t *remap = NULL;
    size_t nrows = 0, nr = bi->nr;
    memset(jobs, 0, sizeof jobs);
    for (size_t i = 0; i < nr; i++) nrows += bi->rows[i];
    if (bi->len != s->len) return hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", c->name);
    if ((st = hamf_frame_new(&f))) return st;
    if ((st = alloc_cols(c, nrows, f))) goto cleanup;
    dicts = hamf__calloc(nr * c->ncols, sizeof *dicts);
    if (!dicts) {
        st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < nr; i++) {
        for (size_t k = 0; k < c->ncols; k++) {
            if (c->types[k] != HAMF_DTYPE_STRING) continue;
            if (i == 0) {
                dicts[k] = f->cols[k].dict; /* range 0 fills the column's own dictionary */
            } else if ((st = hamf__dict_new(&dicts[i * c->ncols + k]))) {
                goto cleanup;
            }
        }
    }
    size_t row0 = 0;
    for (size_t i = 0; i < nr; i++) {
        jobs[i].c = c;
        jobs[i].buf = s->data;
        jobs[i].begin = bi->bounds[i];
        jobs[i].end = bi->bounds[i + 1];
        jobs[i].build = true;
        jobs[i].row0 = row0;
        jobs[i].maxrows = bi->rows[i];
        jobs[i].cols = f->cols;
        jobs[i].dicts = dicts + i * c->ncols;
        hamf__buf_init(&jobs[i].tmp, 0);
        row0 += bi->rows[i];
    }
    run_jobs(jobs, nr);
    if ((st = finish_jobs(c, s, jobs, nr))) goto cleanup;
    for (size_t i = 0; i < nr; i++) {
        if (jobs[i].rows != bi->rows[i]) {
            st = hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", c->name);
            goto cleanup;
        }
    }
    /* merge per-range dictionaries into each column's own */
    for (size_t i = 1; i < nr; i++) {
        for (size_t k = 0; k < c->ncols; k++) {
            struct hamf__dict *d = dicts[i * c->ncols + k];
            if (!d) continue;
            int32_t *nm = hamf__realloc(remap, (d->n ? d->n : 1) * sizeof *nm);
            if (!nm) {
                st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
                goto cleanup;
            }
            remap = nm;
            for (size_t m = 0; m < d->n; m++)
                if ((st = hamf__dict_intern(f->cols[k].dict, d->str[m], d->len[m], &remap[m]))) goto cleanup;
            int32_t *codes = f->cols[k].data;
            for (size_t r = jobs[i].row0; r < jobs[i].row0 + jobs[i].rows; r++)
                if (codes[r] >= 0) codes[r] = remap[codes[r]];
        }
    }
    *out = f;
    f = NULL;
cleanup:
    for (size_t i = 0; i < nr; i++) hamf__buf_free(&jobs[i].tmp);
    if (dicts)
        for (size_t i = c->ncols; i < nr * c->ncols; i++) hamf__dict_free(dicts[i]);
    hamf__free(dicts);
    hamf__free(remap);
    hamf_frame_free(f);
    return st;
}

static hamf_status run_csv(const char *name, const char *path, const char *mem, size_t memlen,
                           const hamf_csv_options *opt, size_t blocksz, hamf__csv_block_fn fn, void *user)
{
    struct ctx c;
    struct src s;
    struct blockinfo *infos = NULL;
    size_t ninfo = 0, bi = 0;
    bool has_header = false, called = false;
    hamf_status st = ctx_init(&c, name, opt);
    memset(&s, 0, sizeof s);
    s.fd = -1;
    if (st) goto cleanup;
    if ((st = src_open(&s, path, mem, memlen, blocksz))) goto cleanup;
    /* the header comes first so that the schema option can name columns */
    if ((st = pass1(&c, &s, &infos, &ninfo, &has_header))) goto cleanup;
    if ((st = src_rewind(&s, name))) goto cleanup;
    if (!has_header) {
        hamf_frame *f;
        if ((st = hamf_frame_new(&f))) goto cleanup;
        called = true;
        st = fn(f, user);
        goto cleanup;
    }
    for (;;) {
        bool got;
        if ((st = src_next(&s, name, &got))) goto cleanup;
        if (!got) break;
        if (bi >= ninfo) {
            st = hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", name);
            goto cleanup;
        }
        struct blockinfo *b = &infos[bi++];
        hamf_frame *f = NULL;
        if ((st = build_block(&c, &s, b, &f))) goto cleanup;
        called = true;
        if ((st = fn(f, user))) goto cleanup;
    }
    if (!called) {
        hamf_frame *f = NULL;
        if ((st = hamf_frame_new(&f))) goto cleanup;
        if ((st = alloc_cols(&c, 0, f))) {
            hamf_frame_free(f);
            goto cleanup;
        }
        st = fn(f, user);
    }
cleanup:
    hamf__free(infos);
    src_close(&s);
    ctx_free(&c);
    return st;
}

hamf_status hamf__csv_stream(const char *path, const hamf_csv_options *opt, size_t block_bytes,
                             hamf__csv_block_fn fn, void *user)
{
    if (!path || !fn) return hamf__err(HAMF_ERR_MISUSE, "csv: NULL argument");
    return run_csv(path, path, NULL, 0, opt, block_bytes, fn, user);
}

static hamf_status keep_frame(hamf_frame *f, void *user)
{
    hamf_frame **dst = user;
    if (*dst) { /* only one block is expected when reading whole */
        hamf_frame_free(f);
        return hamf__err(HAMF_ERR_INTERNAL, "csv: unexpected second block");
    }
    *dst = f;
    return HAMF_OK;
}

hamf_status hamf_csv_read(const char *path, const hamf_csv_options *opt, hamf_frame **out)
{
    if (!path || !out) return hamf__err(HAMF_ERR_MISUSE, "csv: NULL argument");
    hamf_frame *f = NULL;
    hamf_status st = run_csv(path, path, NULL, 0, opt, 0, keep_frame, &f);
    if (st) {
        hamf_frame_free(f);
        return st;
    }
    *out = f;
    return HAMF_OK;
}

hamf_status hamf_csv_read_mem(const char *data, size_t len, const char *source_name,
                              const hamf_csv_options *opt, hamf_frame **out)
{
    if ((!data && len) || !out) return hamf__err(HAMF_ERR_MISUSE, "csv: NULL argument");
    hamf_frame *f = NULL;
    hamf_status st = run_csv(source_name ? source_name : "<memory>", NULL, data ? data : "", len, opt, 0,
                             keep_frame, &f);
    if (st) {
        hamf_frame_free(f);
        return st;
    }
    *out = f;
    return HAMF_OK;
}

/* ---- writing ------------------------------------------------------------- */

/* Fixed notation for 1e-5 <= |v| < 1e15 with the fewest fraction digits
 * that read back as exactly v, without printf: a = M * 2^-sh exactly, and
 * a candidate m / 10^k reads back as a iff it lies within half an ulp,
 * checked exactly in 128-bit integers: |m * 2^sh - M * 10^k| < 10^k / 2
 * (a quarter below a power of two). Of the candidates at one k the closest
 * wins, like repr(). */
struct fixed_try {
    uint64_t M;
    int sh;
};

/* The m for k digits after the point, or false. m is the integer nearest
 * to a * 10^k, computed exactly; if any m reads back as a, that one does. */
static bool try_k(const struct fixed_try *t, int k, uint64_t *out)
{
    static const unsigned __int128 cap = (unsigned __int128)1 << 125;
    if (k < 0 || k > 22) return false;
    unsigned __int128 p10 = 1;
    for (int i = 0; i < k; i++) p10 *= 10;
    unsigned __int128 rhs = (unsigned __int128)t->M * p10; /* a * 10^k * 2^sh */
    if (rhs >= cap) return false;
    unsigned __int128 c = t->sh ? (rhs + ((unsigned __int128)1 << (t->sh - 1))) >> t->sh : rhs;
    if (c >> 63) return false;
    unsigned __int128 lhs = c << t->sh;
    if (lhs >= cap) return false;
    bool below = lhs < rhs;
    unsigned __int128 diff = below ? rhs - lhs : lhs - rhs;
    bool ok = (below && t->M == ((uint64_t)1 << 52)) ? 4 * diff < p10 : 2 * diff < p10;
    if (ok) *out = (uint64_t)c;
    return ok;
}

static int fmt_fixed(char out[32], double v)
{
    double a = fabs(v);
    int e2;
    double fr = frexp(a, &e2);
    struct fixed_try t = {(uint64_t)ldexp(fr, 53), 53 - e2};
    if (t.sh < 0 || t.sh > 80) return 0;
    /* k for 15 significant digits; 15 always suffice or 16/17 are needed */
    int k15 = 14 - (int)floor(log10(a));
    uint64_t m = 0;
    int k;
    if (try_k(&t, k15, &m)) {
        /* success is monotone in k: binary search the smallest */
        int lo = 0, hi = k15;
        uint64_t mm;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (try_k(&t, mid, &mm)) hi = mid;
            else lo = mid + 1;
        }
        k = lo;
        if (!try_k(&t, k, &m)) return 0;
    } else if (try_k(&t, k15 + 1, &m)) {
        k = k15 + 1;
    } else if (try_k(&t, k15 + 2, &m)) {
        k = k15 + 2;
    } else {
        return 0;
    }
    if (k < 0) return 0;
    char dig[24];
    int nd = 0;
    do {
        dig[nd++] = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    int n = 0;
    if (signbit(v)) out[n++] = '-';
    if (nd <= k) {
        out[n++] = '0';
        out[n++] = '.';
        for (int z = 0; z < k - nd; z++) out[n++] = '0';
        while (nd) out[n++] = dig[--nd];
    } else {
        while (nd > k) out[n++] = dig[--nd];
        out[n++] = '.';
        if (k == 0) out[n++] = '0';
        while (nd) out[n++] = dig[--nd];
    }
    out[n] = '\0';
    return n;
}

int hamf__csv_fmt_double(char out[32], double v)
{
    if (isnan(v)) return snprintf(out, 32, "NaN");
    if (isinf(v)) return snprintf(out, 32, v > 0 ? "Infinity" : "-Infinity");
    double a = fabs(v);
    if (a < 1e15 && a >= 1e-5) {
        int n = fmt_fixed(out, v);
        if (n > 0) return n;
    }
    if (v == 0) return snprintf(out, 32, signbit(v) ? "-0.0" : "0.0");
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v) break;
    }
    if (!strpbrk(out, ".eEn")) {
        out[n++] = '.';
        out[n++] = '0';
        out[n] = '\0';
    }
    return n;
}

struct wjob {
    const hamf_frame *f;
    size_t r0, r1;
    struct hamf__buf out;
    hamf_status st;
};

static bool needs_quote(const char *s, size_t n)
{
    if (n == 0) return true; /* empty string, not null */
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') return true;
    return false;
}

static hamf_status put_str(struct hamf__buf *b, const char *s, size_t n)
{
    if (!needs_quote(s, n)) return hamf__buf_append(b, s, n);
    hamf_status st = hamf__buf_putc(b, '"');
    for (size_t i = 0; i < n && !st; i++) {
        if (s[i] == '"') st = hamf__buf_putc(b, '"');
        if (!st) st = hamf__buf_putc(b, s[i]);
    }
    if (!st) st = hamf__buf_putc(b, '"');
    return st;
}

static void *wjob_run(void *arg)
{
    struct wjob *j = arg;
    const hamf_frame *f = j->f;
    struct hamf__buf *b = &j->out;
    for (size_t r = j->r0; r < j->r1; r++) {
        if (hamf__buf_reserve(b, 64 * f->ncols + 2)) goto oom;
        for (size_t k = 0; k < f->ncols; k++) {
            const struct hamf__col *c = &f->cols[k];
            if (k) b->data[b->len++] = ',';
            if (c->valid && !c->valid[r]) continue;
            int n;
            switch (c->type) {
            case HAMF_DTYPE_INT64:
                n = hamf__fmt_i64(b->data + b->len, ((const int64_t *)c->data)[r]);
                b->len += (size_t)n;
                break;
            case HAMF_DTYPE_DOUBLE: {
                n = hamf__csv_fmt_double(b->data + b->len, ((const double *)c->data)[r]);
                b->len += (size_t)n;
                break;
            }
            case HAMF_DTYPE_BOOL:
                if (((const uint8_t *)c->data)[r]) memcpy(b->data + b->len, "true", 4), b->len += 4;
                else memcpy(b->data + b->len, "false", 5), b->len += 5;
                break;
            case HAMF_DTYPE_STRING: {
                int32_t code = ((const int32_t *)c->data)[r];
                if (code < 0) break;
                b->data[b->len] = '\0';
                if (put_str(b, c->dict->str[code], c->dict->len[code])) goto oom;
                if (hamf__buf_reserve(b, 64 * (f->ncols - k) + 2)) goto oom;
                break;
            }
            }
        }
        b->data[b->len++] = '\n';
        b->data[b->len] = '\0';
    }
    return NULL;
oom:
    j->st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory while writing");
    return NULL;
}

static void wjob_task(void *ctx, size_t i, int tid)
{
    (void)tid;
    wjob_run(&((struct wjob *)ctx)[i]);
}

struct hamf__csv_writer {
    int fd;
    char *path, *tmp;
    bool header;
};

static hamf_status write_all(struct hamf__csv_writer *w, const char *p, size_t n)
{
    while (n) {
        ssize_t r = write(w->fd, p, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            return hamf__err(HAMF_ERR_IO, "csv: %s: write: %s", w->path, strerror(errno));
        }
        p += r;
        n -= (size_t)r;
    }
    return HAMF_OK;
}

hamf_status hamf__csv_writer_raw(struct hamf__csv_writer *w, const char *p, size_t n)
{
    w->header = true;
    return write_all(w, p, n);
}

hamf_status hamf__csv_writer_open(const char *path, struct hamf__csv_writer **out)
{
    struct hamf__csv_writer *w = hamf__calloc(1, sizeof *w);
    if (!w) return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
    w->fd = -1;
    w->path = hamf__strdup(path);
    w->tmp = hamf__asprintf("%s.tmp.XXXXXX", path);
    if (!w->path || !w->tmp) {
        hamf__csv_writer_abort(w);
        return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
    }
    w->fd = mkstemp(w->tmp);
    if (w->fd < 0) {
        hamf_status st = hamf__err(HAMF_ERR_IO, "csv: %s: cannot create: %s", path, strerror(errno));
        hamf__free(w->tmp);
        w->tmp = NULL;
        hamf__csv_writer_abort(w);
        return st;
    }
    fchmod(w->fd, 0644);
    *out = w;
    return HAMF_OK;
}

hamf_status hamf__csv_writer_put(struct hamf__csv_writer *w, const hamf_frame *f)
{
    hamf_status st = HAMF_OK;
    struct wjob jobs[MAX_THREADS];
    size_t nj = 0;
    if (!w->header) {
        struct hamf__buf h;
        hamf__buf_init(&h, 0);
        for (size_t k = 0; k < f->ncols && !st; k++) {
            if (k) st = hamf__buf_putc(&h, ',');
            if (!st) st = put_str(&h, f->cols[k].name, strlen(f->cols[k].name));
        }
        if (!st) st = hamf__buf_putc(&h, '\n');
        if (st) st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
        else st = write_all(w, h.data, h.len);
        hamf__buf_free(&h);
        if (st) return st;
        w->header = true;
    }
    if (f->nrows == 0 || f->ncols == 0) return HAMF_OK;
    size_t nt = f->nrows >= 20000 ? (size_t)cpu_count() : 1;
    size_t per = (f->nrows + nt - 1) / nt;
    for (size_t i = 0; i < nt; i++) {
        size_t r0 = i * per, r1 = r0 + per > f->nrows ? f->nrows : r0 + per;
        if (r0 >= r1) break;
        memset(&jobs[nj], 0, sizeof jobs[nj]);
        jobs[nj].f = f;
        jobs[nj].r0 = r0;
        jobs[nj].r1 = r1;
        hamf__buf_init(&jobs[nj].out, 0);
        nj++;
    }
    hamf__run_parallel(nj, wjob_task, jobs);
    for (size_t i = 0; i < nj; i++) {
        if (!st && jobs[i].st) st = hamf__err(jobs[i].st, "csv: %s: out of memory while writing", w->path);
        if (!st && jobs[i].out.len) st = write_all(w, jobs[i].out.data, jobs[i].out.len);
        hamf__buf_free(&jobs[i].out);
    }
    return st;
}

hamf_status hamf__csv_writer_commit(struct hamf__csv_writer *w)
{
    hamf_status st = HAMF_OK;
    if (fsync(w->fd) != 0) st = hamf__err(HAMF_ERR_IO, "csv: %s: fsync: %s", w->path, strerror(errno));
    if (!st && close(w->fd) != 0) st = hamf__err(HAMF_ERR_IO, "csv: %s: close: %s", w->path, strerror(errno));
    w->fd = -1;
    if (!st && rename(w->tmp, w->path) != 0)
        st = hamf__err(HAMF_ERR_IO, "csv: %s: rename: %s", w->path, strerror(errno));
    if (st) {
        hamf__csv_writer_abort(w);
        return st;
    }
    hamf__free(w->tmp);
    w->tmp = NULL;
    hamf__csv_writer_abort(w);
    return HAMF_OK;
}

void hamf__csv_writer_abort(struct hamf__csv_writer *w)
{
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    if (w->tmp) unlink(w->tmp);
    hamf__free(w->tmp);
    hamf__free(w->path);
    hamf__free(w);
}

hamf_status hamf_csv_write(const hamf_frame *f, const char *path)
{
    if (!f || !path) return hamf__err(HAMF_ERR_MISUSE, "csv: NULL argument");
    struct hamf__csv_writer *w;
    hamf_status st = hamf__csv_writer_open(path, &w);
    if (st) return st;
    if ((st = hamf__csv_writer_put(w, f))) {
        hamf__csv_writer_abort(w);
        return st;
    }
    return hamf__csv_writer_commit(w);
}
