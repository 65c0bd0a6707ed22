/*
 * csv_read.c — RFC 4180 CSV reading into frames.
 *
 * Reading is two steps over each block of bytes, like Spark's
 * `inferSchema=True`: step 1 tokenizes every row, checks the shape and
 * UTF-8, and records which kinds of values (int, double, bool, other) each
 * column holds; step 2 converts fields straight into typed column arrays
 * (no allocation per field: numbers go into the column, strings into a
 * per-range dictionary). Both steps find fields from 64-byte masks of
 * delimiters and line ends (a count-trailing-zeros per field, a popcount
 * to jump over a row's unused columns); step 1 hands fields with quotes,
 * CR or non-ASCII bytes to the tokenizer of csv_scan.c, step 2 (on bytes
 * step 1 has checked) takes quotes from the prefix XOR of the quote mask.
 *
 * Nothing runs on one thread alone: a block is read with pread in equal
 * chunks by parallel threads that also find the chunk's row ends for both
 * quote states at its start (chained afterwards by the quote parities), so
 * the block's end (its last complete row) and its split into ranges, one
 * per thread, come without a serial scan; step 2 knows every block's
 * offset, length and ranges from step 1, and each range job reads its own
 * bytes again. The per-range dictionaries are merged afterwards. Memory is
 * one block plus one block's frame, so `hamf_csv_transform` handles files
 * larger than RAM.
 *
 * Errors carry file:line:column (1-based, bytes).
 */
#include "data/csv_int.h"
#include "util/num.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ROW_BYTES ((size_t)1 << 30)

static bool pread_all(int fd, char *p, size_t n, uint64_t off, int *err);

/* ---- range jobs (pass 1 and pass 2) ------------------------------------- */

struct job {
    const struct hamf__csv_ctx *c;
    const char *buf;
    size_t begin, end;
    bool build;
    /* pass 1 */
    bool settled; /* the columns' types are fixed: check the shape only */
    uint8_t *kinds, *hasnull;
    size_t rows;
    /* pass 2 */
    size_t row0, maxrows;
    struct hamf__col *cols;
    struct hamf__dict **dicts;
    const uint8_t *mode; /* per column: HAMF__CSV_NEED_* for this block */
    uint8_t *act; /* pass 1: 4 * ncols bytes of scratch; pass 2: ncols, 1 when a text is not whole */
    /* result */
    hamf_status st;
    bool perr;
    struct hamf__csv_perr e;
    struct hamf__buf tmp;
    /* pass 2 of a file: the job reads buf[rlo, end) itself */
    int fd;
    uint64_t off;
    size_t rlo;
    int rerr; /* errno of a failed read, -1 short */
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

__attribute__((always_inline)) static inline bool store_field(struct job *j, size_t k, size_t row,
                                                              const struct hamf__csv_field *f)
{
    const struct hamf__csv_ctx *c = j->c;
    struct hamf__col *col = &j->cols[k];
    bool null = hamf__csv_is_null(c, f);
    const char *p;
    size_t n;
    switch (col->type) {
    case HAMF_DTYPE_STRING: {
        int32_t *codes = col->data;
        if (null) {
            codes[row] = -1;
            return true;
        }
        if ((j->st = hamf__csv_field_text(f, &j->tmp, &p, &n))) return false;
        size_t had = j->dicts[k]->n, bad;
        if ((j->st = hamf__dict_intern(j->dicts[k], p, n, &codes[row]))) return false;
        /* pass 1 checked the text; a new string is checked again in case
         * the file changed since (repeated ones were checked when new) */
        if (j->dicts[k]->n != had && !hamf__csv_check_utf8(p, n, &bad)) {
            job_fail(j, (size_t)(f->p - j->buf), "invalid UTF-8 byte 0x%02x (file changed while reading?)",
                     (unsigned char)p[bad]);
            return false;
        }
        return true;
    }
    case HAMF_DTYPE_INT64: {
        int64_t *v = col->data;
        if (null || !hamf__csv_parse_i64(f->p, f->n, &v[row])) goto bad;
        return true;
    }
    case HAMF_DTYPE_DOUBLE: {
        double *v = col->data;
        int64_t iv;
        if (null) goto bad;
        if (hamf__csv_parse_i64(f->p, f->n, &iv)) v[row] = (double)iv;
        else if (f->escaped || f->n >= 400 || !hamf__csv_parse_dbl(f->p, f->n, &v[row])) goto bad;
        return true;
    }
    case HAMF_DTYPE_BOOL: {
        uint8_t *v = col->data;
        if (null || !hamf__csv_parse_bool(f->p, f->n, &v[row])) goto bad;
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

/* Pass 1: classify the value of column k (act[k] set). */
__attribute__((always_inline)) static inline bool scan_value(struct job *j, size_t k, const struct hamf__csv_field *f,
                                                 size_t fstart)
{
    const struct hamf__csv_ctx *c = j->c;
    if (hamf__csv_is_null(c, f)) {
        j->hasnull[k] = 1;
        return true;
    }
    uint8_t kd = (uint8_t)hamf__csv_classify(f);
    if (c->forced[k] && !hamf__csv_kind_fits(kd, c->types[k])) {
        job_fail(j, fstart, "column '%s' is %s (schema) but holds '%.*s'", c->names[k],
                 hamf__dtype_name(c->types[k]), (int)(f->n > 40 ? 40 : f->n), f->p);
        return false;
    }
    j->kinds[k] |= kd;
    if (j->kinds[k] & K_STR && !c->forced[k]) j->act[k] = 0; /* a string column stays one */
    return true;
}

/* Where unused columns end a row (columns >= skipk, k = the current one,
 * sep = the separators left in the window at base, n = its '\n' bits):
 * jump over their delimiters up to the row's end in one step, when their
 * count keeps the row within ncols fields (else the field by field walk
 * finds the error). */
static inline void skip_unused(size_t *k, size_t ncols, uint64_t *sep, uint64_t n, size_t base, size_t *fs)
{
    uint64_t nls = *sep & n;
    uint64_t dl = *sep & (nls ? (nls & (0 - nls)) - 1 : ~(uint64_t)0);
    if (!dl) return;
    size_t cnt = (size_t)__builtin_popcountll(dl);
    if (*k + cnt >= ncols) return;
    *k += cnt;
    *fs = base + 64 - (size_t)__builtin_clzll(dl);
    *sep &= ~dl;
}

__attribute__((noinline)) static void fail_shape(struct job *j, size_t k, size_t at, bool many)
{
    if (many) job_fail(j, at, "too many fields: expected %zu", j->c->ncols);
    else job_fail(j, at, "too few fields: got %zu, expected %zu", k, j->c->ncols);
}

/* Pass 1 over one range: check every row and classify values. Runs of
 * plain bytes (no '"', '\r' or byte >= 0x80) go by whole-window masks:
 * each delimiter or '\n' ends a field, one count-trailing-zeros each, and
 * nothing else is looked at. A field with a special byte goes through the
 * tokenizer (quotes, CRLF, UTF-8 checks, the error messages), and the
 * masks start again after it. */
__attribute__((noinline)) static void job_scan(struct job *j)
{
    const struct hamf__csv_ctx *c = j->c;
    const char *buf = j->buf;
    const size_t begin = j->begin, end = j->end, ncols = c->ncols;
    const char delim = c->delim;
    uint8_t *act = j->act;
    size_t skipk = 1; /* columns from skipk on need no look (act only turns off) */
    for (size_t k = 0; k < ncols; k++) {
        act[k] = (c->need[k] && j->kinds[k] != K_STR) || c->forced[k];
        /* settled (hamf__csv_stream_rounds_hint after its first block): a
         * typed column's values are checked by pass 2's parse, which takes
         * exactly the kinds its type stands for; only a column of no value
         * yet (all null) still needs a look to get its type */
        if (j->settled && !c->forced[k] && c->types[k] != HAMF_DTYPE_STRING) act[k] = 0;
        if (act[k]) skipk = k + 1;
    }
    /* intfast[k]: a field of digits alone is classified K_INT from the
     * masks, unless a --schema type must be checked or a null word is
     * digits (then it is a null) */
    bool digit_null = false;
    for (size_t i = 0; i < c->nnull; i++) {
        size_t d = 0;
        while (d < c->nulllen[i] && (unsigned)(c->nulls[i][d] - '0') <= 9) d++;
        digit_null |= d == c->nulllen[i];
    }
    uint8_t *intfast = act + ncols;
    for (size_t k = 0; k < ncols; k++) intfast[k] = !c->forced[k] && !digit_null;
    hamf__csv_smask_fn smask = hamf__csv_smask_get();
    struct hamf__csv_scan sc;
    hamf__csv_scan_init(&sc, buf, end, delim);
    struct hamf__csv_field f;
    size_t rows = 0, k = 0, fs = begin, rowstart = begin;
    for (;;) {
        bool special = false;
        for (size_t base = fs; base < end && !special; base += 64) {
            struct hamf__csv_smask m;
            if (end - base >= 64) {
                smask(buf + base, delim, &m);
            } else {
                char tmp[64];
                memset(tmp, 0, sizeof tmp);
                memcpy(tmp, buf + base, end - base);
                smask(tmp, delim, &m);
            }
            uint64_t sep = m.d | m.n;
            if (m.x) { /* the fields ended before the first special byte */
                sep &= (m.x & (0 - m.x)) - 1;
                special = true;
            }
            while (sep) {
                if (k >= skipk) {
                    skip_unused(&k, ncols, &sep, m.n, base, &fs);
                    if (!sep) break;
                }
                unsigned b = (unsigned)__builtin_ctzll(sep);
                sep &= sep - 1;
                size_t at = base + b;
                bool eol = (m.n >> b) & 1;
                if (k == 0 && eol && at == fs) { /* blank line */
                    rowstart = fs = at + 1;
                    continue;
                }
                if (k >= ncols) {
                    fail_shape(j, k, fs, true);
                    return;
                }
                if (act[k]) {
                    size_t n = at - fs;
                    /* 1 to 18 digits (the window's mask says so): an integer */
                    if (fs >= base && n - 1 < 18 && !((m.nd >> (fs - base)) & (((uint64_t)1 << n) - 1)) &&
                        intfast[k]) {
                        j->kinds[k] |= K_INT;
                    } else {
                        f.p = buf + fs;
                        f.n = n;
                        f.quoted = f.escaped = false;
                        if (!scan_value(j, k, &f, fs)) return;
                    }
                }
                k++;
                fs = at + 1;
                if (eol) {
                    if (k < ncols) {
                        fail_shape(j, k, at, false);
                        return;
                    }
                    k = 0;
                    rows++;
                    rowstart = fs;
                }
            }
        }
        if (!special) break;
        /* the field holding the special byte, as the tokenizer reads it */
        if (k == 0) {
            if (buf[fs] == '\n') {
                rowstart = ++fs;
                continue;
            }
            if (buf[fs] == '\r' && (fs + 1 == end || buf[fs + 1] == '\n')) { /* blank CRLF line */
                fs += fs + 1 < end ? 2 : 1;
                rowstart = fs;
                continue;
            }
        }
        size_t fstart = fs;
        int term;
        if (!hamf__csv_next_field(&sc, &fs, &f, &term, &j->e)) {
            j->perr = true;
            j->st = HAMF_ERR_PARSE;
            return;
        }
        if (k >= ncols) {
            fail_shape(j, k, fstart, true);
            return;
        }
        if (act[k] && !scan_value(j, k, &f, fstart)) return;
        k++;
        if (term != T_DELIM) {
            if (k < ncols) {
                size_t at = fs; /* the end of the short line */
                if (term == T_EOL) {
                    at = fs - 1;
                    if (buf[at] == '\n' && at > rowstart && buf[at - 1] == '\r') at--;
                }
                fail_shape(j, k, at, false);
                return;
            }
            k = 0;
            rows++;
            rowstart = fs;
            if (fs >= end) break;
        }
    }
    if (fs < end || k > 0) { /* the last row has no line end */
        if (k >= ncols) {
            fail_shape(j, k, fs, true);
            return;
        }
        f.p = buf + fs;
        f.n = end - fs;
        f.quoted = f.escaped = false;
        if (act[k] && !scan_value(j, k, &f, fs)) return;
        if (++k < ncols) {
            fail_shape(j, k, end, false);
            return;
        }
        rows++;
    }
    j->rows = rows;
}

/* Pass 2: store quoted field [fs, fe) of column k. */
__attribute__((noinline)) static bool build_quoted(struct job *j, size_t k, size_t row, size_t fs, size_t fe)
{
    const char *buf = j->buf;
    struct hamf__csv_field f;
    {
        if (fe - fs < 2 || buf[fe - 1] != '"') {
            job_fail(j, fs, "unterminated quoted field (file changed while reading?)");
            return false;
        }
        f.p = buf + fs + 1;
        f.n = fe - fs - 2;
        f.quoted = true;
        f.escaped = f.n && memchr(f.p, '"', f.n);
    }
    return store_field(j, k, row, &f);
}

/* Pass 2: store field [fs, fe) of column k (quotes still on). */
__attribute__((always_inline)) static inline bool build_value(struct job *j, size_t k, size_t row, size_t fs,
                                                              size_t fe)
{
    if (fe > fs && j->buf[fs] == '"') return build_quoted(j, k, row, fs, fe);
    struct hamf__csv_field f = {j->buf + fs, fe - fs, false, false};
    return store_field(j, k, row, &f);
}

/* 1 for the bytes that make the writer quote a string (as csv_write.c),
 * and the bytes >= 0x80 (the UTF-8 check). */
static const uint8_t text_tab[256] = {
    [','] = 1, ['"'] = 1, ['\n'] = 1, ['\r'] = 1,
#define R16(x) [x] = 1, [x + 1] = 1, [x + 2] = 1, [x + 3] = 1, [x + 4] = 1, [x + 5] = 1, [x + 6] = 1, [x + 7] = 1, \
                [x + 8] = 1, [x + 9] = 1, [x + 10] = 1, [x + 11] = 1, [x + 12] = 1, [x + 13] = 1, [x + 14] = 1, [x + 15] = 1
    R16(0x80), R16(0x90), R16(0xa0), R16(0xb0), R16(0xc0), R16(0xd0), R16(0xe0), R16(0xf0)
#undef R16
};

/* Pass 2, text of column k, the cases off the fast path of build_text:
 * the value's text as the writer writes it is found in the field when it
 * can be (the field itself; a quoted field's content that needs no quotes;
 * "+5", "007", "-0" without the sign or zeros; empty for a null), else the
 * row is TYPED and its value stored (have_value: it is already). */
__attribute__((noinline)) static bool build_text_slow(struct job *j, size_t k, size_t row, size_t fs, size_t fe,
                                                      bool have_value)
{
    const char *buf = j->buf;
    struct hamf__col *col = &j->cols[k];
    struct hamf__rawref *ref = &col->raw->ref[row * col->raw->stride];
    struct hamf__csv_field f = {buf + fs, fe - fs, false, false};
    if (fe > fs && buf[fs] == '"') {
        if (fe - fs < 2 || buf[fe - 1] != '"') {
            job_fail(j, fs, "unterminated quoted field (file changed while reading?)");
            return false;
        }
        f.p = buf + fs + 1;
        f.n = fe - fs - 2;
        f.quoted = true;
        f.escaped = f.n && memchr(f.p, '"', f.n);
    }
    const char *t = NULL; /* the text in the field, n bytes; NULL: TYPED */
    size_t n = 0;
    if (hamf__csv_is_null(j->c, &f)) {
        t = f.p; /* written as nothing */
    } else {
        switch (col->type) {
        case HAMF_DTYPE_INT64: {
            int64_t v;
            char tmp[24];
            if (!hamf__csv_parse_i64(f.p, f.n, &v)) break; /* store_field reports it */
            n = (size_t)hamf__num_fmt_i64(tmp, v);
            if (n <= f.n && memcmp(f.p + f.n - n, tmp, n) == 0) t = f.p + f.n - n;
            break;
        }
        case HAMF_DTYPE_BOOL: {
            uint8_t v;
            if (!hamf__csv_parse_bool(f.p, f.n, &v)) break;
            n = f.n;
            if (memcmp(f.p, v ? "true" : "false", n) == 0) t = f.p;
            break;
        }
        case HAMF_DTYPE_STRING: {
            bool quote = f.n == 0, high = false;
            for (size_t i = 0; i < f.n; i++) {
                if (!text_tab[(unsigned char)f.p[i]]) continue;
                if ((unsigned char)f.p[i] >= 0x80) high = true;
                else quote = true;
            }
            size_t bad;
            if (high && !hamf__csv_check_utf8(f.p, f.n, &bad)) {
                job_fail(j, (size_t)(f.p - buf) + bad, "invalid UTF-8 byte 0x%02x (file changed while reading?)",
                         (unsigned char)f.p[bad]);
                return false;
            }
            if (quote == f.quoted) t = buf + fs, n = fe - fs; /* the field as the writer quotes it */
            else if (f.quoted) t = f.p, n = f.n;              /* quotes the writer leaves out */
            break;
        }
        case HAMF_DTYPE_DOUBLE: break; /* not read as text */
        }
    }
    if (!t) {
        ref->off = 0;
        ref->len = HAMF__RAW_TYPED;
        j->act[k] = 1;
        return have_value || store_field(j, k, row, &f);
    }
    ref->off = (uint32_t)(t - buf);
    ref->len = (uint32_t)n;
    if (t != buf + fs || n != fe - fs) j->act[k] = 1;
    return true;
}

/* Pass 2: the text of field [fs, fe) of column k (see struct hamf__raw).
 * The fast path takes the fields that are already what the writer writes:
 * a canonical integer (no '+', no leading zero, not "-0"), "true" or
 * "false", an unquoted string with no byte to quote or check; an empty
 * field is a null, written as nothing; a quoted string without '"', CR
 * or UTF-8 inside is the field, or its content when it needs no quotes.
 * inwin: the field is inside the window of masks m, from bit sh on; else
 * its bytes are looked at. */
__attribute__((always_inline)) static inline bool build_text(struct job *j, size_t k, size_t row, size_t fs,
                                                             size_t fe, bool have_value, bool inwin,
                                                             const struct hamf__csv_smask *m, unsigned sh)
{
    const char *p = j->buf + fs;
    size_t n = fe - fs;
    struct hamf__col *col = &j->cols[k];
    if (n && !j->c->nnull) {
        switch (col->type) {
        case HAMF_DTYPE_INT64: {
            size_t i = p[0] == '-';
            if (n > i && n <= 18 && (p[i] != '0' || n == 1)) {
                if (inwin) {
                    if ((m->nd >> (sh + i)) & (((uint64_t)1 << (n - i)) - 1)) goto slow;
                    goto whole;
                }
                for (; i < n; i++)
                    if ((unsigned)(p[i] - '0') > 9) goto slow;
                goto whole;
            }
            break;
        }
        case HAMF_DTYPE_STRING:
            if (inwin && j->c->delim == ',') {
                uint64_t all = ((uint64_t)1 << n) - 1, x = m->x >> sh;
                if (p[0] == '"') { /* quoted: whole if the writer quotes it */
                    uint64_t in = (all >> 1) & ~(uint64_t)1; /* between the quotes */
                    if (n < 2 || p[n - 1] != '"' || (x & in)) goto slow; /* '"', '\r' or UTF-8 inside */
                    if (((m->d | m->n) >> sh) & in) goto whole;                                /* ',' or '\n' inside */
                    col->raw->ref[row * col->raw->stride] = (struct hamf__rawref){(uint32_t)fs + 1, (uint32_t)n - 2};
                    j->act[k] = 1;
                    return true;
                }
                /* unquoted: ',' and '\n' end it, so only the bytes of x matter */
                if (x & all) goto slow;
                goto whole;
            }
            for (size_t i = 0; i < n; i++)
                if (text_tab[(unsigned char)p[i]]) goto slow;
            goto whole;
        case HAMF_DTYPE_BOOL:
            if ((n == 4 && memcmp(p, "true", 4) == 0) || (n == 5 && memcmp(p, "false", 5) == 0)) goto whole;
            break;
        case HAMF_DTYPE_DOUBLE: break;
        }
    }
slow:
    return build_text_slow(j, k, row, fs, fe, have_value);
whole:
    col->raw->ref[row * col->raw->stride] = (struct hamf__rawref){(uint32_t)fs, (uint32_t)n};
    return true;
}

/* Pass 2 over one range: store the values of the columns in use. Pass 1
 * has checked the range (shape, quotes, UTF-8), so fields are found from
 * whole-window masks alone: the separators are the delimiters and '\n'
 * bytes outside quotes (the prefix XOR of the quote mask), one
 * count-trailing-zeros each, with no look at the bytes in between. What
 * pass 1 rejects is still caught if the file changed in between: a wrong
 * field count, more rows, a quoted field without its closing quote,
 * invalid UTF-8 in a new string, a value that is not of the column's type. */
__attribute__((noinline)) static void job_build(struct job *j)
{
    const struct hamf__csv_ctx *c = j->c;
    const char *buf = j->buf;
    const size_t begin = j->begin, end = j->end, ncols = c->ncols, maxrows = j->maxrows, row0 = j->row0;
    const char delim = c->delim;
    const uint8_t *mode = j->mode;
    hamf__csv_smask_fn smask = hamf__csv_smask_get();
    size_t rows = 0, k = 0, fs = begin, skipk = 1; /* columns from skipk on are not stored */
    for (size_t i = 0; i < ncols; i++)
        if (mode[i]) skipk = i + 1;
    memset(j->act, 0, ncols);
    uint64_t carry = 0;
    for (size_t base = begin;; base += 64) {
        struct hamf__csv_smask m;
        uint64_t sep;
        if (base >= end) { /* the last row has no line end: one more separator */
            if (fs >= end && k == 0) break;
            m.n = 1;
            m.x = m.nd = m.d = ~(uint64_t)0;
            sep = 1;
            base = end;
        } else {
            if (end - base >= 64) {
                smask(buf + base, delim, &m);
            } else {
                char tmp[64];
                memset(tmp, 0, sizeof tmp);
                memcpy(tmp, buf + base, end - base);
                smask(tmp, delim, &m);
            }
            uint64_t inside = hamf__csv_prefix_xor(m.q) ^ carry;
            carry = (uint64_t)0 - (inside >> 63);
            sep = (m.d | m.n) & ~inside;
        }
        while (sep) {
            if (k >= skipk) {
                skip_unused(&k, ncols, &sep, m.n, base, &fs);
                if (!sep) break;
            }
            unsigned b = (unsigned)__builtin_ctzll(sep);
            sep &= sep - 1;
            size_t at = base + b, fe = at;
            bool eol = (m.n >> b) & 1;
            if (eol) {
                if (fe > fs && buf[fe - 1] == '\r') fe--;
                if (k == 0 && fe == fs) { /* blank line */
                    fs = at + 1;
                    continue;
                }
            }
            if (k >= ncols || (k == 0 && rows >= maxrows)) {
                if (k) fail_shape(j, k, fs, true);
                else job_fail(j, fs, "more rows than on the first pass (file changed while reading?)");
                return;
            }
            if (mode[k]) {
                bool values = mode[k] & HAMF__CSV_NEED_VALUES;
                if (values && !build_value(j, k, row0 + rows, fs, fe)) return;
                if (mode[k] & HAMF__CSV_NEED_TEXT) {
                    bool inwin = fs >= base;
                    unsigned sh = inwin ? (unsigned)(fs - base) : 0;
                    if (!build_text(j, k, row0 + rows, fs, fe, values, inwin, &m, sh)) return;
                }
            }
            k++;
            fs = at + 1;
            if (eol) {
                if (k < ncols) {
                    fail_shape(j, k, fe, false);
                    return;
                }
                k = 0;
                rows++;
            }
        }
        if (base >= end) break;
    }
    j->rows = rows;
}

static void *job_run(void *arg)
{
    struct job *j = arg;
    uint8_t one;
    if (j->fd >= 0 && j->end > j->rlo &&
        !pread_all(j->fd, (char *)j->buf + j->rlo, j->end - j->rlo, j->off + j->rlo, &j->rerr)) {
        j->st = HAMF_ERR_IO;
        return NULL;
    }
    bool own = !j->act; /* pass 2's are the caller's (it reads them after) */
    size_t nc = j->c->ncols;
    uint8_t *mem = NULL; /* 64 bytes free on both sides: lines of this thread's own */
    if (own) j->act = nc ? (mem = hamf__malloc(4 * nc + 128)) ? mem + 64 : NULL : &one;
    if (!j->act) {
        j->st = HAMF_ERR_NOMEM;
        return NULL;
    }
    if (j->build) {
        job_build(j);
    } else if (nc) {
        /* kinds and hasnull on this thread's own lines: the caller's are
         * next to the other ranges' (a shared cache line written per field
         * made pass 1 up to 3x slower, depending on where malloc put it) */
        uint8_t *kinds = j->kinds, *hasnull = j->hasnull, *mine = j->act + 2 * nc;
        memcpy(mine, kinds, nc);
        memcpy(mine + nc, hasnull, nc);
        j->kinds = mine;
        j->hasnull = mine + nc;
        job_scan(j);
        memcpy(kinds, mine, nc);
        memcpy(hasnull, mine + nc, nc);
        j->kinds = kinds;
        j->hasnull = hasnull;
    }
    if (own) {
        hamf__free(mem);
        j->act = NULL;
    }
    return NULL;
}

static void job_task(void *ctx, size_t i, int tid)
{
    (void)tid;
    job_run(&((struct job *)ctx)[i]);
}

/* The ranges run on the shared pool (util/threads.c). */
static hamf_status run_jobs(struct job *jobs, size_t n)
{
    hamf__run_parallel(n, job_task, jobs);
    return HAMF_OK;
}

/* ---- block source -------------------------------------------------------- */

/* A block is read with pread at its file offset, in chunks read and
 * scanned for row ends by parallel threads (no serial copy or scan), and
 * ends after its last complete row (except at the end of the file). Pass 2
 * knows each block's length and ranges from pass 1: its range jobs read
 * their own bytes. */
struct src {
    int fd; /* -1: the bytes are mem[0..memlen) */
    const char *mem;
    size_t memlen;
    char *buf;
    size_t cap;
    size_t blocksz;
    uint64_t fsize; /* the file's size when opened */
    int threads;
    /* current block */
    uint64_t off; /* its file offset */
    const char *data;
    size_t len;
    size_t nl; /* '\n' bytes in it */
    bool first, done;
    uint64_t line0; /* physical lines before it */
    /* its chunks (pass 1), to split it in ranges */
    size_t nck;
    size_t cklo[HAMF__CSV_MAX_THREADS + 1];
    struct hamf__csv_chunk ck[HAMF__CSV_MAX_THREADS];
    uint8_t ckin[HAMF__CSV_MAX_THREADS]; /* 1: the chunk starts inside quotes */
    int ckerr[HAMF__CSV_MAX_THREADS];    /* errno of a failed read, -1 short */
};

/* Blocks and ranges below this are not split between threads. */
#define SPLIT_MIN ((size_t)2 << 20)

/* n bytes at off into p; false with *err = errno, or -1 when the file ends
 * first. */
static bool pread_all(int fd, char *p, size_t n, uint64_t off, int *err)
{
    while (n) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0) {
            if (errno == EINTR) continue;
            *err = errno;
            return false;
        }
        if (r == 0) {
            *err = -1;
            return false;
        }
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return true;
}

static void chunk_task(void *ctx, size_t i, int tid)
{
    (void)tid;
    struct src *s = ctx;
    size_t lo = s->cklo[i], hi = s->cklo[i + 1];
    s->ckerr[i] = 0;
    if (s->fd >= 0 && !pread_all(s->fd, s->buf + lo, hi - lo, s->off + lo, &s->ckerr[i])) return;
    hamf__csv_chunk_scan(s->data, lo, hi, &s->ck[i]);
}

static hamf_status ensure_cap(struct src *s, size_t n, const char *name)
{
    if (s->cap >= n + 1) return HAMF_OK;
    char *nb = hamf__realloc(s->buf, n + 1);
    if (!nb) return hamf__err(HAMF_ERR_NOMEM, "csv: %s: out of memory", name);
    s->buf = nb;
    s->cap = n + 1;
    return HAMF_OK;
}

/* Next block (pass 1): complete rows only (except at the end). false at
 * end. The first block is given even when the input is empty. */
static hamf_status src_next(struct src *s, const char *name, bool *got)
{
    hamf_status st;
    *got = false;
    if (s->done) return HAMF_OK;
    s->off += s->len;
    s->line0 += s->nl;
    s->len = s->nl = 0;
    uint64_t total = s->fd < 0 ? s->memlen : s->fsize;
    uint64_t avail = total - s->off;
    if (avail == 0 && !s->first) {
        s->done = true;
        return HAMF_OK;
    }
    size_t want = s->fd < 0 ? (size_t)avail : s->blocksz;
    for (;;) {
        size_t n = avail < want ? (size_t)avail : want;
        bool eof = n == avail;
        if (s->fd >= 0) {
            if ((st = ensure_cap(s, n, name))) return st;
            s->data = s->buf;
        } else {
            s->data = s->mem + s->off;
        }
        s->nck = n >= SPLIT_MIN && s->threads > 1 ? (size_t)s->threads : 1;
        for (size_t i = 0; i <= s->nck; i++) s->cklo[i] = (size_t)((uint64_t)n * i / s->nck);
        hamf__run_parallel(s->nck, chunk_task, s);
        for (size_t i = 0; i < s->nck; i++) {
            if (s->ckerr[i] > 0) return hamf__err(HAMF_ERR_IO, "csv: %s: read: %s", name, strerror(s->ckerr[i]));
            if (s->ckerr[i]) return hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", name);
        }
        size_t nl = 0, end = eof ? n : 0;
        s->ckin[0] = 0;
        for (size_t i = 0; i < s->nck; i++) {
            if (i) s->ckin[i] = s->ckin[i - 1] ^ (uint8_t)s->ck[i - 1].odd;
            nl += s->ck[i].nl;
        }
        for (size_t i = s->nck; i-- > 0 && !end;) end = s->ck[i].last[s->ckin[i]];
        if (end == 0 && !eof) {
            size_t cr = hamf__csv_lone_cr(s->data, n);
            if (cr < n) {
                size_t col = cr + 1;
                return hamf__err(HAMF_ERR_PARSE,
                                 "csv: %s:%llu:%zu: carriage return without a line feed (CR-only line endings "
                                 "are not supported: convert the file to LF or CRLF line endings)",
                                 name, (unsigned long long)s->line0 + 1, col);
            }
            if (want >= MAX_ROW_BYTES)
                return hamf__err(HAMF_ERR_PARSE, "csv: %s:%llu: row longer than %zu bytes (unterminated quote?)",
                                 name, (unsigned long long)s->line0 + 1, MAX_ROW_BYTES);
            want *= 2;
            continue;
        }
        s->len = end;
        s->nl = nl - hamf__csv_count_nl(s->data + end, n - end);
        s->first = false;
        *got = true;
        return HAMF_OK;
    }
}

/* Ranges of the current block for the threads: [begin, len) cut after the
 * first row end of each chunk (chunks are equal parts of the block). */
static size_t src_split(const struct src *s, size_t begin, size_t nthreads, size_t *bounds)
{
    size_t nr = 0, end = s->len;
    bounds[nr++] = begin;
    if (nthreads > 1 && end - begin >= SPLIT_MIN) {
        for (size_t i = 1; i < s->nck && nr < nthreads; i++) {
            size_t b = 0;
            for (size_t j = i; j < s->nck && !b; j++) b = s->ck[j].first[s->ckin[j]];
            if (!b || b >= end) break;
            if (b > bounds[nr - 1]) bounds[nr++] = b;
        }
    }
    bounds[nr] = end;
    return nr;
}

static hamf_status src_open(struct src *s, const char *path, const char *mem, size_t memlen, size_t blocksz,
                            int threads)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->first = true;
    s->threads = threads;
    s->blocksz = blocksz ? blocksz : 16u << 20;
    if (path) {
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0)
            return hamf__err(errno == ENOENT ? HAMF_ERR_NOTFOUND : HAMF_ERR_IO, "csv: %s: %s", path, strerror(errno));
        struct stat sb;
        if (fstat(s->fd, &sb) != 0) return hamf__err(HAMF_ERR_IO, "csv: %s: %s", path, strerror(errno));
        /* read twice (schema, then values) at offsets: pipes cannot be */
        if (!S_ISREG(sb.st_mode))
            return hamf__err(HAMF_ERR_IO, "csv: %s: not a regular file (the reader reads files twice)", path);
        s->fsize = (uint64_t)sb.st_size;
        if (blocksz == 0 && sb.st_size > 0) s->blocksz = (size_t)sb.st_size + 1;
    } else {
        s->mem = mem;
        s->memlen = memlen;
    }
    return HAMF_OK;
}

static void src_close(struct src *s)
{
    if (s->fd >= 0) close(s->fd);
    hamf__free(s->buf);
}

static hamf_status pos_err(const struct hamf__csv_ctx *c, const struct src *s, size_t pos, const char *msg)
{
    size_t line = (size_t)s->line0 + hamf__csv_count_nl(s->data, pos) + 1;
    const char *ls = pos ? memrchr(s->data, '\n', pos) : NULL;
    size_t col = ls ? pos - (size_t)(ls - s->data) : pos + 1;
    return hamf__err(HAMF_ERR_PARSE, "csv: %s:%zu:%zu: %s", c->name, line, col, msg);
}

/* Parse the header row of the first block; returns where data begins. */
static hamf_status parse_header(struct hamf__csv_ctx *c, struct src *s, size_t *data_start)
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
    struct hamf__csv_scan sc;
    hamf__csv_scan_init(&sc, buf, len, c->delim);
    for (;;) {
        struct hamf__csv_field f;
        struct hamf__csv_perr e;
        int term;
        if (!hamf__csv_next_field(&sc, &pos, &f, &term, &e)) {
            st = pos_err(c, s, e.pos, e.msg);
            goto cleanup;
        }
        const char *nul = memchr(f.p, '\0', f.n);
        if (nul) { /* names are C strings: a NUL would cut the name short */
            st = pos_err(c, s, (size_t)(nul - buf), "NUL byte in a column name");
            goto cleanup;
        }
        const char *p;
        size_t n;
        if ((st = hamf__csv_field_text(&f, &tmp, &p, &n))) goto cleanup;
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
    c->need = hamf__malloc(c->ncols);
    if (!c->types || !c->forced || !c->kinds || !c->hasnull || !c->need) {
        st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
        goto cleanup;
    }
    memset(c->need, 1, c->ncols);
    if ((st = hamf__csv_apply_schema(c, c->schema_spec))) goto cleanup;
    if (c->need_fn) st = c->need_fn(c->names, c->ncols, c->need, c->need_user);
cleanup:
    hamf__buf_free(&tmp);
    return st;
}

/* Per-block record from pass 1, reused by pass 2. */
struct blockinfo {
    uint64_t off, line0;
    size_t len, nl, nr;
    size_t bounds[HAMF__CSV_MAX_THREADS + 1];
    size_t rows[HAMF__CSV_MAX_THREADS];
};

static hamf_status finish_jobs(const struct hamf__csv_ctx *c, const struct src *s, struct job *jobs, size_t nr)
{
    for (size_t i = 0; i < nr; i++) {
        if (jobs[i].st == HAMF_OK) continue;
        if (jobs[i].perr) return pos_err(c, s, jobs[i].e.pos, jobs[i].e.msg);
        if (jobs[i].rerr > 0) return hamf__err(HAMF_ERR_IO, "csv: %s: read: %s", c->name, strerror(jobs[i].rerr));
        if (jobs[i].rerr) return hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", c->name);
        /* the worker's message went to its own thread: say it again here */
        return hamf__err(jobs[i].st, "csv: %s: %s", c->name, jobs[i].st == HAMF_ERR_NOMEM ? "out of memory" : "parse failed");
    }
    return HAMF_OK;
}

/* Pass 1 over the next block (the header first): its ranges, their row
 * counts and value kinds into a new blockinfo. *got false at the end. */
static hamf_status pass1_next(struct hamf__csv_ctx *c, struct src *s, struct blockinfo **infos, size_t *ninfo,
                              size_t *cap, bool *has_header, bool settled, bool *got)
{
    hamf_status st = HAMF_OK;
    struct job jobs[HAMF__CSV_MAX_THREADS];
    bool more;
    *got = false;
    if ((st = src_next(s, c->name, &more))) return st;
    if (!more) return HAMF_OK;
    size_t begin = 0;
    if (!*has_header) {
        if ((st = parse_header(c, s, &begin))) return st;
        if (c->ncols == 0) return HAMF_OK;
        *has_header = true;
    }
    if (*ninfo == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        struct blockinfo *ni = hamf__realloc(*infos, *cap * sizeof *ni);
        if (!ni) return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
        *infos = ni;
    }
    struct blockinfo *bi = &(*infos)[(*ninfo)++];
    memset(bi, 0, sizeof *bi);
    bi->off = s->off;
    bi->line0 = s->line0;
    bi->len = s->len;
    bi->nl = s->nl;
    bi->nr = src_split(s, begin, (size_t)c->threads, bi->bounds);
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
        jobs[i].fd = -1;
        jobs[i].settled = settled;
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
    if (!st) *got = true;
    return st;
}

/* Column types from the kinds pass 1 has seen so far. */
static void pass1_types(struct hamf__csv_ctx *c)
{
    for (size_t k = 0; k < c->ncols; k++) {
        if (!c->forced[k]) c->types[k] = hamf__csv_kinds_type(c->kinds[k]);
        if (!c->need[k]) { /* placeholder: zeroed bytes, never read */
            c->types[k] = HAMF_DTYPE_BOOL;
            c->hasnull[k] = 0;
        }
    }
}

static hamf_status pass1(struct hamf__csv_ctx *c, struct src *s, struct blockinfo **infos, size_t *ninfo,
                         bool *has_header)
{
    size_t cap = 0;
    *has_header = false;
    *ninfo = 0;
    *infos = NULL;
    for (;;) {
        bool got;
        hamf_status st = pass1_next(c, s, infos, ninfo, &cap, has_header, false, &got);
        if (st) return st;
        if (!got) break;
    }
    if (*has_header) pass1_types(c);
    return HAMF_OK;
}

static hamf_status build_block(const struct hamf__csv_ctx *c, struct src *s, const struct blockinfo *bi,
                               bool resident, hamf_frame **out);

/* Round 0 of hamf__csv_stream_rounds_hint: pass 1 and round 0 block by
 * block, each block typed with the kinds seen so far. It gives the frames
 * the schema pass would have only when no later block changes a column's
 * type and the file has rows_hint rows: else *redo. After the first block,
 * pass 1 checks the shape only (settled) and the block stays in the buffer
 * for pass 2 (resident): a value that does not fit its column's type fails
 * pass 2, and any failure here means *redo (the caller's schema pass then
 * finds the types, or the error with its position). */
static hamf_status lazy_round0(struct hamf__csv_ctx *c, struct src *s, struct blockinfo **infos, size_t *ninfo,
                               bool *has_header, size_t rows_hint, hamf__csv_block_fn fn, void *user, bool *redo)
{
    hamf_status st = HAMF_OK;
    hamf_dtype *used = NULL;
    size_t cap = 0, total = 0;
    *redo = true;
    *has_header = false;
    *ninfo = 0;
    *infos = NULL;
    for (;;) {
        bool got;
        if ((st = pass1_next(c, s, infos, ninfo, &cap, has_header, used != NULL, &got))) goto done;
        if (!got) break;
        pass1_types(c);
        if (!used) {
            if (!(used = hamf__malloc(c->ncols * sizeof *used))) { st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory"); goto done; }
            memcpy(used, c->types, c->ncols * sizeof *used);
        } else if (memcmp(used, c->types, c->ncols * sizeof *used)) {
            goto done; /* a type changed: the blocks given out were read otherwise */
        }
        struct blockinfo *b = &(*infos)[*ninfo - 1];
        for (size_t r = 0; r < b->nr; r++) total += b->rows[r];
        hamf_frame *f = NULL;
        if ((st = build_block(c, s, b, true, &f))) goto done;
        if ((st = fn(f, user))) goto done;
    }
    *redo = !*has_header || total != rows_hint;
done:
    hamf__free(used);
    return st;
}

/* What a block gives of column k: the need, except that double columns
 * give values, not texts (the shortest text of a double is rarely the one
 * read), and texts need offsets that fit the references. */
static uint8_t col_mode(const struct hamf__csv_ctx *c, size_t k, size_t block_len)
{
    uint8_t m = c->need[k];
    if (m & HAMF__CSV_NEED_TEXT && (c->types[k] == HAMF_DTYPE_DOUBLE || block_len >= HAMF__RAW_TYPED))
        m = HAMF__CSV_NEED_VALUES;
    return m;
}

/* The frame's columns for nrows rows; mode: col_mode of each (NULL: the
 * need). A text column without values gets room for the values of its
 * TYPED rows only (not filled) and no validity (nulls are empty texts). */
static hamf_status alloc_cols(const struct hamf__csv_ctx *c, size_t nrows, const uint8_t *mode, hamf_frame *f)
{
    size_t ntext = 0, t = 0;
    for (size_t k = 0; k < c->ncols && mode; k++) ntext += (mode[k] & HAMF__CSV_NEED_TEXT) != 0;
    struct hamf__rawbuf *rb = NULL;
    if (ntext) {
        rb = hamf__calloc(1, sizeof *rb);
        if (!rb || !(rb->data = hamf__malloc((nrows ? nrows : 1) * ntext * sizeof *rb->data))) {
            hamf__free(rb);
            return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory (%zu rows)", nrows);
        }
        rb->users = 1; /* this function's, dropped at the end */
    }
    hamf_status st = HAMF_OK;
    for (size_t k = 0; k < c->ncols && !st; k++) {
        hamf_dtype ty = c->types[k];
        uint8_t m = mode ? mode[k] : c->need[k] ? HAMF__CSV_NEED_VALUES : 0;
        void *data = m ? hamf__malloc(nrows * hamf__dtype_size(ty)) : hamf__calloc(nrows ? nrows : 1, 1);
        uint8_t *valid = NULL;
        if (data && c->hasnull[k] && ty != HAMF_DTYPE_STRING && m & HAMF__CSV_NEED_VALUES) {
            valid = hamf__malloc(nrows);
            if (valid) memset(valid, 1, nrows);
        }
        if (!data || (c->hasnull[k] && ty != HAMF_DTYPE_STRING && m & HAMF__CSV_NEED_VALUES && !valid)) {
            hamf__free(data);
            hamf__free(valid);
            st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory (%zu rows)", nrows);
            break;
        }
        if ((st = hamf__frame_push(f, hamf__strdup(c->names[k]), ty, data, valid, NULL, nrows))) break;
        if (m & HAMF__CSV_NEED_TEXT) {
            struct hamf__raw *r = hamf__calloc(1, sizeof *r);
            if (!r) {
                st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory (%zu rows)", nrows);
                break;
            }
            r->buf = rb;
            rb->users++;
            r->ref = rb->data + t++;
            r->stride = ntext;
            r->src = k;
            r->delim = c->delim;
            r->partial = !(m & HAMF__CSV_NEED_VALUES);
            f->cols[f->ncols - 1].raw = r;
        }
    }
    if (rb && --rb->users == 0) {
        hamf__free(rb->data);
        hamf__free(rb);
    }
    return st;
}

/* Build the frame of the current block with the ranges from pass 1
 * (resident: pass 1 has just read it into the buffer, else the range jobs
 * read it again). */
static hamf_status build_block(const struct hamf__csv_ctx *c, struct src *s, const struct blockinfo *bi,
                               bool resident, hamf_frame **out)
{
    hamf_status st;
    hamf_frame *f = NULL;
    struct job jobs[HAMF__CSV_MAX_THREADS];
    struct hamf__dict **dicts = NULL;
    int32_t *remap = NULL;
    size_t nrows = 0, nr = bi->nr;
    uint8_t *mode = NULL, *notwhole = NULL;
    memset(jobs, 0, sizeof jobs);
    for (size_t i = 0; i < nr; i++) nrows += bi->rows[i];
    /* the block again: its bytes are read by the range jobs */
    s->off = bi->off;
    s->line0 = bi->line0;
    s->len = bi->len;
    s->nl = bi->nl;
    if (s->fd >= 0) {
        if ((st = ensure_cap(s, bi->len, c->name))) return st;
        s->data = s->buf;
    } else {
        s->data = s->mem + bi->off;
    }
    mode = hamf__malloc(c->ncols ? c->ncols : 1);
    size_t nwstep = (c->ncols + 127) & ~(size_t)63; /* each range's on lines of its own */
    notwhole = hamf__malloc(nr * nwstep);
    if (!mode || !notwhole) {
        hamf__free(mode);
        hamf__free(notwhole);
        return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
    }
    for (size_t k = 0; k < c->ncols; k++) mode[k] = col_mode(c, k, bi->len);
    if ((st = hamf_frame_new(&f))) goto cleanup;
    if ((st = alloc_cols(c, nrows, mode, f))) goto cleanup;
    for (size_t k = 0; k < c->ncols; k++) {
        if (!f->cols[k].raw) continue;
        f->cols[k].raw->base = s->data;
        f->cols[k].raw->size = bi->len;
    }
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
        jobs[i].mode = mode;
        jobs[i].act = notwhole + i * nwstep;
        jobs[i].fd = resident ? -1 : s->fd;
        jobs[i].off = bi->off;
        jobs[i].rlo = i ? bi->bounds[i] : 0; /* range 0 reads the header too (error positions) */
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
    for (size_t k = 0; k < c->ncols; k++) {
        struct hamf__raw *r = f->cols[k].raw;
        if (!r) continue;
        r->whole = true;
        for (size_t i = 0; i < nr; i++) r->whole &= !jobs[i].act[k];
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
            const struct hamf__raw *raw = f->cols[k].raw;
            for (size_t r = jobs[i].row0; r < jobs[i].row0 + jobs[i].rows; r++) {
                if (raw && raw->partial && !(raw->ref[r * raw->stride].len & HAMF__RAW_TYPED)) continue; /* no code */
                if (codes[r] >= 0) codes[r] = remap[codes[r]];
            }
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
    hamf__free(mode);
    hamf__free(notwhole);
    hamf_frame_free(f);
    return st;
}

static hamf_status run_csv(const char *name, const char *path, const char *mem, size_t memlen,
                           const hamf_csv_options *opt, size_t blocksz, hamf__csv_need_fn need_fn, void *need_user,
                           int rounds, size_t rows_hint, hamf__csv_round_fn round_fn, hamf__csv_block_fn fn,
                           void *user, bool *redo)
{
    struct hamf__csv_ctx c;
    struct src s;
    struct blockinfo *infos = NULL;
    size_t ninfo = 0, bi = 0;
    bool has_header = false, called = false;
    hamf_status st = hamf__csv_ctx_init(&c, name, opt);
    c.need_fn = need_fn;
    c.need_user = need_user;
    memset(&s, 0, sizeof s);
    s.fd = -1;
    if (st) goto cleanup;
    if ((st = src_open(&s, path, mem, memlen, blocksz, c.threads))) goto cleanup;
    int round = 0;
    if (redo) { /* round 0 with pass 1 (rows_hint: the caller's count) */
        *redo = true;
        if (round_fn && (st = round_fn(0, rows_hint, user))) goto cleanup;
        if ((st = lazy_round0(&c, &s, &infos, &ninfo, &has_header, rows_hint, fn, user, redo)) || *redo) goto cleanup;
        round = 1;
    } else if ((st = pass1(&c, &s, &infos, &ninfo, &has_header))) { /* the header first: the schema option names columns */
        goto cleanup;
    }
    size_t total = 0;
    for (size_t i = 0; i < ninfo; i++)
        for (size_t r = 0; r < infos[i].nr; r++) total += infos[i].rows[r];
    for (; round < rounds; round++) {
        if (round_fn && (st = round_fn(round, total, user))) goto cleanup;
        if (!has_header) {
            hamf_frame *f;
            if ((st = hamf_frame_new(&f))) goto cleanup;
            if ((st = fn(f, user))) goto cleanup;
            continue;
        }
        called = false;
        for (bi = 0; bi < ninfo; bi++) {
            hamf_frame *f = NULL;
            if ((st = build_block(&c, &s, &infos[bi], false, &f))) goto cleanup;
            called = true;
            if ((st = fn(f, user))) goto cleanup;
        }
        /* a file that grew after pass 1 (a shorter one fails its reads) */
        struct stat sb;
        if (s.fd >= 0 && (fstat(s.fd, &sb) != 0 || (uint64_t)sb.st_size != s.fsize)) {
            st = hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", name);
            goto cleanup;
        }
        if (!called) {
            hamf_frame *f = NULL;
            if ((st = hamf_frame_new(&f))) goto cleanup;
            if ((st = alloc_cols(&c, 0, NULL, f))) {
                hamf_frame_free(f);
                goto cleanup;
            }
            if ((st = fn(f, user))) goto cleanup;
        }
    }
cleanup:
    hamf__free(infos);
    src_close(&s);
    hamf__csv_ctx_free(&c);
    return st;
}

hamf_status hamf__csv_stream(const char *path, const hamf_csv_options *opt, size_t block_bytes,
                             hamf__csv_block_fn fn, void *user)
{
    if (!path || !fn) return hamf__err(HAMF_ERR_MISUSE, "csv: NULL argument");
    return run_csv(path, path, NULL, 0, opt, block_bytes, NULL, NULL, 1, 0, NULL, fn, user, NULL);
}

hamf_status hamf__csv_stream_cols(const char *path, const hamf_csv_options *opt, size_t block_bytes,
                                  hamf__csv_need_fn need_fn, void *need_user, hamf__csv_block_fn fn, void *user)
{
    if (!path || !fn) return hamf__err(HAMF_ERR_MISUSE, "csv: NULL argument");
    return run_csv(path, path, NULL, 0, opt, block_bytes, need_fn, need_user, 1, 0, NULL, fn, user, NULL);
}

hamf_status hamf__csv_stream_rounds(const char *path, const hamf_csv_options *opt, size_t block_bytes, int rounds,
                                    hamf__csv_round_fn round_fn, hamf__csv_block_fn fn, void *user)
{
    if (!path || !fn || rounds < 1) return hamf__err(HAMF_ERR_MISUSE, "csv: NULL argument");
    return run_csv(path, path, NULL, 0, opt, block_bytes, NULL, NULL, rounds, 0, round_fn, fn, user, NULL);
}

hamf_status hamf__csv_stream_rounds_hint(const char *path, const hamf_csv_options *opt, size_t block_bytes,
                                         int rounds, size_t rows_hint, hamf__csv_round_fn round_fn,
                                         hamf__csv_block_fn fn, void *user, bool *redo)
{
    if (!path || !fn || rounds < 1 || !redo) return hamf__err(HAMF_ERR_MISUSE, "csv: NULL argument");
    *redo = false;
    return run_csv(path, path, NULL, 0, opt, block_bytes, NULL, NULL, rounds, rows_hint, round_fn, fn, user, redo);
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
    hamf_status st = run_csv(path, path, NULL, 0, opt, 0, NULL, NULL, 1, 0, NULL, keep_frame, &f, NULL);
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
    hamf_status st = run_csv(source_name ? source_name : "<memory>", NULL, data ? data : "", len, opt, 0, NULL,
                             NULL, 1, 0, NULL, keep_frame, &f, NULL);
    if (st) {
        hamf_frame_free(f);
        return st;
    }
    *out = f;
    return HAMF_OK;
}

