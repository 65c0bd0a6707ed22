/*
 * csv_int.h — what the csv_*.c files share (not for other modules):
 *   csv_opts.c   options, the reading context, --schema
 *   csv_scan.c   structural scan (SSE2/AVX2/scalar, chosen at run time),
 *                tokenizer, UTF-8 checks, row-boundary search
 *   csv_infer.c  value parsing, type inference, storing typed values
 *   csv_read.c   blocks, parallel ranges, header, frames, public readers
 *   csv_write.c  the parallel atomic writer
 */
#ifndef HAMF_DATA_CSV_INT_H
#define HAMF_DATA_CSV_INT_H

#include "data/csv.h"

#include <stdbool.h>
#include <stdint.h>

#define HAMF__CSV_MAX_THREADS 8

enum { K_INT = 1, K_DBL = 2, K_BOOL = 4, K_STR = 8 };
enum { T_DELIM, T_EOL, T_END };

struct hamf__csv_ctx {
    const char *name; /* file name for messages */
    char delim;
    char **nulls;
    size_t *nulllen;
    size_t nnull;
    int threads;
    const char *schema_spec;
    /* schema */
    size_t ncols;
    char **names;
    hamf_dtype *types;
    uint8_t *forced;  /* 1 when --schema fixed the type */
    uint8_t *kinds;   /* inference result */
    uint8_t *hasnull;
    uint8_t *need;    /* 0: nobody reads the column (kept as a placeholder) */
    hamf__csv_need_fn need_fn;
    void *need_user;
};

hamf_status hamf__csv_ctx_init(struct hamf__csv_ctx *c, const char *name, const hamf_csv_options *o);
void hamf__csv_ctx_free(struct hamf__csv_ctx *c);
hamf_status hamf__csv_apply_schema(struct hamf__csv_ctx *c, const char *spec);
int hamf__csv_cpu_count(void);

/* ---- scanning (csv_scan.c) ---- */

struct hamf__csv_field {
    const char *p;
    size_t n;
    bool quoted, escaped;
};

struct hamf__csv_perr {
    size_t pos;
    char msg[200];
};

/* Bit i of the mask is set when p[i] is the delimiter, '\n', '\r', '"' or a
 * byte >= 0x80 (the bytes the tokenizer must look at). */
typedef uint64_t (*hamf__csv_mask_fn)(const char *p, char delim);

/* A cursor over buf[0..len) that keeps the mask of one 64-byte window. */
struct hamf__csv_scan {
    const char *buf;
    size_t len;
    size_t base;
    uint64_t mask;
    bool have;
    char delim;
    hamf__csv_mask_fn fn;
};

/* SIMD level: 0 scalar, 1 SSE2, 2 AVX2. hamf__csv_simd_level() is the
 * level in use (the best the CPU has, or HAMF_CSV_SIMD=scalar|sse2|avx2);
 * hamf__csv_set_simd() forces one (tests, the differential fuzzer) and
 * returns the level actually set (capped at what the CPU has). */
int hamf__csv_simd_level(void);
int hamf__csv_set_simd(int level);

/* The structural masks of 64 bytes: delimiters, quotes and '\n' (the
 * delimiter is never '"' or '\n', so a byte is in one of them at most),
 * x: the bytes the plain-field fast path cannot take ('"', '\r', bytes
 * >= 0x80), and nd: the bytes that are not ASCII digits (a field of digits
 * alone is an integer without looking at its bytes). */
struct hamf__csv_smask {
    uint64_t d, q, n, x, nd;
};
typedef void (*hamf__csv_smask_fn)(const char *p, char delim, struct hamf__csv_smask *m);
hamf__csv_smask_fn hamf__csv_smask_get(void);
/* Bit i: an odd number of set bits in x[0..i] (inside quotes). */
static inline uint64_t hamf__csv_prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

void hamf__csv_scan_init(struct hamf__csv_scan *s, const char *buf, size_t len, char delim);
size_t hamf__csv_scan_refill(struct hamf__csv_scan *s, size_t i);

/* Position of the next special byte at or after i, or len. */
static inline size_t hamf__csv_scan_next(struct hamf__csv_scan *s, size_t i)
{
    if (s->have && i >= s->base && i - s->base < 64) {
        uint64_t m = s->mask & (~(uint64_t)0 << (i - s->base));
        if (m) return s->base + (size_t)__builtin_ctzll(m);
        i = s->base + 64;
    }
    return hamf__csv_scan_refill(s, i);
}

size_t hamf__csv_utf8_len(const unsigned char *s, size_t n);
bool hamf__csv_check_utf8(const char *p, size_t n, size_t *bad);
/* One field starting at *pos; false with e set on a syntax error. */
bool hamf__csv_next_field(struct hamf__csv_scan *s, size_t *pos, struct hamf__csv_field *f, int *term,
                          struct hamf__csv_perr *e);
/* The common case inline: an unquoted field ended by the delimiter or
 * '\n' inside the current window; anything else takes the full path. */
static inline bool hamf__csv_next_field_fast(struct hamf__csv_scan *s, size_t *pos, struct hamf__csv_field *f,
                                             int *term, struct hamf__csv_perr *e)
{
    size_t i = *pos;
    const char *buf = s->buf;
    if (i < s->len && buf[i] != '"') {
        size_t j = hamf__csv_scan_next(s, i);
        if (j < s->len) {
            char ch = buf[j];
            if (ch == s->delim || ch == '\n') {
                f->p = buf + i;
                f->n = j - i;
                f->quoted = f->escaped = false;
                *term = ch == '\n' ? T_EOL : T_DELIM;
                *pos = j + 1;
                return true;
            }
            if (ch == '\r' && j + 1 < s->len && buf[j + 1] == '\n') {
                f->p = buf + i;
                f->n = j - i;
                f->quoted = f->escaped = false;
                *term = T_EOL;
                *pos = j + 2;
                return true;
            }
        }
    }
    return hamf__csv_next_field(s, pos, f, term, e);
}

/* Unescape a field's text ("" -> ") into tmp when needed. */
hamf_status hamf__csv_field_text(const struct hamf__csv_field *f, struct hamf__buf *tmp, const char **p,
                                 size_t *n);
/* Position of the first carriage return outside quotes that is not
 * followed by '\n' (old Mac line endings), or len. A CR that is the last
 * byte is not counted (its '\n' may follow). */
size_t hamf__csv_lone_cr(const char *buf, size_t len);
size_t hamf__csv_count_nl(const char *p, size_t n);

/* Row ends in buf[lo,hi) for both quote states at lo, from one scan: a
 * block is cut into chunks scanned in parallel (with their reads), and the
 * chunks' quote parities, chained afterwards, pick each chunk's answer. */
struct hamf__csv_chunk {
    size_t first[2], last[2]; /* [s]: position after the first / last '\n'
                                 outside quotes when the chunk starts inside
                                 quotes (s = 1) or not; 0 = none */
    size_t nl;                /* every '\n' (physical lines) */
    bool odd;                 /* an odd number of '"' in the chunk */
};
void hamf__csv_chunk_scan(const char *buf, size_t lo, size_t hi, struct hamf__csv_chunk *out);

/* ---- values (csv_infer.c) ---- */

bool hamf__csv_is_null_word(const struct hamf__csv_ctx *c, const struct hamf__csv_field *f);
static inline bool hamf__csv_is_null(const struct hamf__csv_ctx *c, const struct hamf__csv_field *f)
{
    if (f->n == 0) return true;
    if (!c->nnull || f->quoted) return false;
    return hamf__csv_is_null_word(c, f);
}

/* A whole-field int64 (optional sign, 1..19 digits, overflow checked). */
static inline bool hamf__csv_parse_i64(const char *p, size_t n, int64_t *out)
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
bool hamf__csv_parse_dbl(const char *p, size_t n, double *out);
bool hamf__csv_parse_bool(const char *p, size_t n, uint8_t *out);
int hamf__csv_classify_slow(const struct hamf__csv_field *f);
/* K_INT / K_DBL / K_BOOL / K_STR of a non-null field. */
static inline int hamf__csv_classify(const struct hamf__csv_field *f)
{
    if (!f->escaped && f->n && f->n <= 18) { /* <= 18 plain digits cannot overflow */
        size_t i = f->p[0] == '-' || f->p[0] == '+';
        if (i < f->n) {
            for (; i < f->n; i++)
                if ((unsigned)(f->p[i] - '0') > 9) break;
            if (i == f->n) return K_INT;
        }
    }
    return hamf__csv_classify_slow(f);
}
hamf_dtype hamf__csv_kinds_type(uint8_t k);
bool hamf__csv_kind_fits(uint8_t k, hamf_dtype t);

#endif
