/*
 * csv_scan.c — the structural scan and the tokenizer.
 *
 * Bytes are classified 64 at a time into bit masks (AVX2: two 32-byte
 * compares, SSE2: four 16-byte ones, or a scalar loop; the level is chosen
 * once at run time from the CPU, or forced by HAMF_CSV_SIMD=scalar|sse2|
 * avx2). The tokenizer walks the set bits of the "special" mask (delimiter,
 * '\n', '\r', '"', bytes >= 0x80) with count-trailing-zeros instead of
 * looking at every byte; plain ASCII between specials is skipped whole.
 *
 * Row boundaries for blocks and thread ranges come from the quote and
 * newline masks: the prefix XOR of the quote mask marks the bytes inside
 * quotes (a quote may only open a field or be doubled inside one, so the
 * parity is exact), and a newline outside quotes ends a row.
 *
 * Strictness (errors give the byte position; csv_read.c turns it into
 * file:line:column): a quote inside an unquoted field, anything but a
 * delimiter or line end after a closing quote, an unterminated quote,
 * invalid UTF-8, and a carriage return not followed by '\n' (old Mac line
 * endings: refused with a message saying so rather than read as one huge
 * row).
 */
#include "data/csv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

/* ---- masks ---------------------------------------------------------------- */

static uint64_t mask_scalar(const char *p, char delim)
{
    uint64_t m = 0;
    for (int i = 0; i < 64; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == (unsigned char)delim || ch == '\n' || ch == '\r' || ch == '"' || ch >= 0x80)
            m |= (uint64_t)1 << i;
    }
    return m;
}

struct qmasks {
    uint64_t q, nl, cr;
};

static struct qmasks qmask_scalar(const char *p)
{
    struct qmasks r = {0, 0, 0};
    for (int i = 0; i < 64; i++) {
        if (p[i] == '"') r.q |= (uint64_t)1 << i;
        else if (p[i] == '\n') r.nl |= (uint64_t)1 << i;
        else if (p[i] == '\r') r.cr |= (uint64_t)1 << i;
    }
    return r;
}

static void smask_scalar(const char *p, char delim, struct hamf__csv_smask *m)
{
    uint64_t d = 0, q = 0, n = 0, x = 0, nd = 0;
    for (int i = 0; i < 64; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == (unsigned char)delim) d |= (uint64_t)1 << i;
        else if (ch == '"') q |= (uint64_t)1 << i;
        else if (ch == '\n') n |= (uint64_t)1 << i;
        if (ch == '"' || ch == '\r' || ch >= 0x80) x |= (uint64_t)1 << i;
        if ((unsigned)(ch - '0') > 9) nd |= (uint64_t)1 << i;
    }
    m->d = d;
    m->q = q;
    m->n = n;
    m->x = x;
    m->nd = nd;
}

#if HAVE_X86
static void smask_sse2(const char *p, char delim, struct hamf__csv_smask *m)
{
    const __m128i d = _mm_set1_epi8(delim), n = _mm_set1_epi8('\n'), q = _mm_set1_epi8('"'),
                  r = _mm_set1_epi8('\r'), zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
    uint64_t md = 0, mq = 0, mn = 0, mx = 0, mdig = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        __m128i vq = _mm_cmpeq_epi8(v, q);
        __m128i t = _mm_sub_epi8(v, zero); /* a digit: t <= 9 unsigned */
        mdig |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(t, nine), nine)) << (16 * k);
        md |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, d)) << (16 * k);
        mq |= (uint64_t)(uint32_t)_mm_movemask_epi8(vq) << (16 * k);
        mn |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, n)) << (16 * k);
        mx |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(vq, _mm_cmpeq_epi8(v, r)), v))
              << (16 * k);
    }
    m->x = mx;
    m->nd = ~mdig;
    /* a delimiter that is '"' or '\n' counts as that byte (as in the scalar) */
    m->q = mq;
    m->n = mn & ~mq;
    m->d = md & ~mq & ~mn;
}

__attribute__((target("avx2"))) static void smask_avx2(const char *p, char delim, struct hamf__csv_smask *m)
{
    const __m256i d = _mm256_set1_epi8(delim), n = _mm256_set1_epi8('\n'), q = _mm256_set1_epi8('"'),
                  r = _mm256_set1_epi8('\r'), zero = _mm256_set1_epi8('0'), nine = _mm256_set1_epi8(9);
    uint64_t md = 0, mq = 0, mn = 0, mx = 0, mdig = 0;
    for (int k = 0; k < 2; k++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32 * k));
        __m256i vq = _mm256_cmpeq_epi8(v, q);
        __m256i t = _mm256_sub_epi8(v, zero); /* a digit: t <= 9 unsigned */
        mdig |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_max_epu8(t, nine), nine))
                << (32 * k);
        md |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, d)) << (32 * k);
        mq |= (uint64_t)(uint32_t)_mm256_movemask_epi8(vq) << (32 * k);
        mn |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, n)) << (32 * k);
        mx |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_or_si256(_mm256_or_si256(vq, _mm256_cmpeq_epi8(v, r)), v))
              << (32 * k);
    }
    m->x = mx;
    m->nd = ~mdig;
    m->q = mq;
    m->n = mn & ~mq;
    m->d = md & ~mq & ~mn;
}

static uint64_t mask_sse2(const char *p, char delim)
{
    const __m128i d = _mm_set1_epi8(delim), n = _mm_set1_epi8('\n'), r = _mm_set1_epi8('\r'),
                  q = _mm_set1_epi8('"');
    uint64_t m = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        __m128i x = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, d), _mm_cmpeq_epi8(v, n)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, r), _mm_cmpeq_epi8(v, q)));
        x = _mm_or_si128(x, v); /* the top bit of bytes >= 0x80 */
        m |= (uint64_t)(uint32_t)_mm_movemask_epi8(x) << (16 * k);
    }
    return m;
}

__attribute__((target("avx2"))) static uint64_t mask_avx2(const char *p, char delim)
{
    const __m256i d = _mm256_set1_epi8(delim), n = _mm256_set1_epi8('\n'), r = _mm256_set1_epi8('\r'),
                  q = _mm256_set1_epi8('"');
    uint64_t m = 0;
    for (int k = 0; k < 2; k++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32 * k));
        __m256i x = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, d), _mm256_cmpeq_epi8(v, n)),
                                    _mm256_or_si256(_mm256_cmpeq_epi8(v, r), _mm256_cmpeq_epi8(v, q)));
        x = _mm256_or_si256(x, v);
        m |= (uint64_t)(uint32_t)_mm256_movemask_epi8(x) << (32 * k);
    }
    return m;
}

static struct qmasks qmask_sse2(const char *p)
{
    const __m128i n = _mm_set1_epi8('\n'), r = _mm_set1_epi8('\r'), q = _mm_set1_epi8('"');
    struct qmasks m = {0, 0, 0};
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        m.q |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, q)) << (16 * k);
        m.nl |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, n)) << (16 * k);
        m.cr |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, r)) << (16 * k);
    }
    return m;
}

__attribute__((target("avx2"))) static struct qmasks qmask_avx2(const char *p)
{
    const __m256i n = _mm256_set1_epi8('\n'), r = _mm256_set1_epi8('\r'), q = _mm256_set1_epi8('"');
    struct qmasks m = {0, 0, 0};
    for (int k = 0; k < 2; k++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32 * k));
        m.q |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, q)) << (32 * k);
        m.nl |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, n)) << (32 * k);
        m.cr |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, r)) << (32 * k);
    }
    return m;
}
#endif

static int simd_level = -1; /* -1: not chosen yet */

static int cpu_best(void)
{
#if HAVE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) return 2;
    return 1;
#else
    return 0;
#endif
}

int hamf__csv_simd_level(void)
{
    int l = __atomic_load_n(&simd_level, __ATOMIC_ACQUIRE);
    if (l >= 0) return l;
    l = cpu_best();
    const char *e = getenv("HAMF_CSV_SIMD");
    if (e && strcmp(e, "scalar") == 0) l = 0;
    else if (e && strcmp(e, "sse2") == 0 && l >= 1) l = 1;
    __atomic_store_n(&simd_level, l, __ATOMIC_RELEASE);
    return l;
}

int hamf__csv_set_simd(int level)
{
    int best = cpu_best();
    if (level > best) level = best;
    if (level < 0) level = 0;
    __atomic_store_n(&simd_level, level, __ATOMIC_RELEASE);
    return level;
}

static hamf__csv_mask_fn mask_fn(void)
{
#if HAVE_X86
    switch (hamf__csv_simd_level()) {
    case 2: return mask_avx2;
    case 1: return mask_sse2;
    default: return mask_scalar;
    }
#else
    (void)hamf__csv_simd_level();
    return mask_scalar;
#endif
}

hamf__csv_smask_fn hamf__csv_smask_get(void)
{
#if HAVE_X86
    switch (hamf__csv_simd_level()) {
    case 2: return smask_avx2;
    case 1: return smask_sse2;
    default: return smask_scalar;
    }
#else
    (void)hamf__csv_simd_level();
    return smask_scalar;
#endif
}

static struct qmasks qmask(int level, const char *p)
{
#if HAVE_X86
    if (level == 2) return qmask_avx2(p);
    if (level == 1) return qmask_sse2(p);
#else
    (void)level;
#endif
    return qmask_scalar(p);
}

/* Masks of buf[i..i+64) with bytes past len treated as absent. */
static struct qmasks qmask_at(int level, const char *buf, size_t len, size_t i)
{
    if (len - i >= 64) return qmask(level, buf + i);
    char tmp[64];
    memset(tmp, 0, sizeof tmp);
    memcpy(tmp, buf + i, len - i);
    return qmask(level, tmp);
}


/* ---- cursor --------------------------------------------------------------- */

void hamf__csv_scan_init(struct hamf__csv_scan *s, const char *buf, size_t len, char delim)
{
    s->buf = buf;
    s->len = len;
    s->base = 0;
    s->mask = 0;
    s->have = false;
    s->delim = delim;
    s->fn = mask_fn();
}

size_t hamf__csv_scan_refill(struct hamf__csv_scan *s, size_t i)
{
    while (i < s->len) {
        uint64_t m;
        if (s->len - i >= 64) {
            m = s->fn(s->buf + i, s->delim);
        } else {
            char tmp[64];
            memset(tmp, 0, sizeof tmp);
            memcpy(tmp, s->buf + i, s->len - i);
            m = s->fn(tmp, s->delim) & (((uint64_t)1 << (s->len - i)) - 1);
        }
        s->base = i;
        s->mask = m;
        s->have = true;
        if (m) return i + (size_t)__builtin_ctzll(m);
        i += 64;
    }
    return s->len;
}

/* ---- UTF-8 ---------------------------------------------------------------- */

size_t hamf__csv_utf8_len(const unsigned char *s, size_t n)
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

bool hamf__csv_check_utf8(const char *p, size_t n, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)p;
    for (size_t i = 0; i < n;) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = hamf__csv_utf8_len(s + i, n - i);
        if (!k) {
            *bad = i;
            return false;
        }
        i += k;
    }
    return true;
}

/* ---- tokenizer ------------------------------------------------------------ */

static bool quoted_field(struct hamf__csv_scan *s, size_t *pos, struct hamf__csv_field *f, int *term,
                         struct hamf__csv_perr *e)
{
    const char *buf = s->buf;
    size_t len = s->len;
    size_t i = *pos;
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
    if (!hamf__csv_check_utf8(f->p, f->n, &bad)) {
        e->pos = (size_t)(f->p - buf) + bad;
        snprintf(e->msg, sizeof e->msg, "invalid UTF-8 byte 0x%02x", (unsigned char)f->p[bad]);
        return false;
    }
    if (i >= len) *term = T_END;
    else if (buf[i] == s->delim) *term = T_DELIM, i++;
    else if (buf[i] == '\n') *term = T_EOL, i++;
    else if (buf[i] == '\r' && (i + 1 == len || buf[i + 1] == '\n')) *term = T_EOL, i += i + 1 < len ? 2 : 1;
    else {
        e->pos = i;
        snprintf(e->msg, sizeof e->msg, "expected '%c' or end of line after closing quote", s->delim);
        return false;
    }
    *pos = i;
    return true;
}

bool hamf__csv_next_field(struct hamf__csv_scan *s, size_t *pos, struct hamf__csv_field *f, int *term,
                          struct hamf__csv_perr *e)
{
    const char *buf = s->buf;
    size_t len = s->len;
    size_t i = *pos;
    if (i < len && buf[i] == '"') return quoted_field(s, pos, f, term, e);
    size_t start = i;
    f->quoted = f->escaped = false;
    f->p = buf + start;
    for (;;) {
        i = hamf__csv_scan_next(s, i);
        if (i >= len) {
            *term = T_END;
            f->n = len - start;
            *pos = len;
            return true;
        }
        unsigned char ch = (unsigned char)buf[i];
        if (ch == (unsigned char)s->delim) {
            *term = T_DELIM;
            f->n = i - start;
            *pos = i + 1;
            return true;
        }
        if (ch == '\n') {
            *term = T_EOL;
            f->n = i - start;
            *pos = i + 1;
            return true;
        }
        if (ch == '\r') {
            if (i + 1 == len || buf[i + 1] == '\n') {
                *term = T_EOL;
                f->n = i - start;
                *pos = i + 1 < len ? i + 2 : i + 1;
                return true;
            }
            e->pos = i;
            snprintf(e->msg, sizeof e->msg,
                     "carriage return without a line feed (CR-only line endings are not supported: "
                     "convert the file to LF or CRLF line endings, or quote the field)");
            return false;
        }
        if (ch == '"') {
            e->pos = i;
            snprintf(e->msg, sizeof e->msg, "unexpected '\"' inside an unquoted field (quote the whole field)");
            return false;
        }
        size_t k = hamf__csv_utf8_len((const unsigned char *)buf + i, len - i);
        if (!k) {
            e->pos = i;
            snprintf(e->msg, sizeof e->msg, "invalid UTF-8 byte 0x%02x", ch);
            return false;
        }
        i += k;
    }
}

hamf_status hamf__csv_field_text(const struct hamf__csv_field *f, struct hamf__buf *tmp, const char **p,
                                 size_t *n)
{
    if (!f->escaped) {
        *p = f->p;
        *n = f->n;
        return HAMF_OK;
    }
    hamf__buf_reset(tmp);
    if (hamf__buf_reserve(tmp, f->n + 1)) return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
    /* between the quotes, every '"' is the first of a "" pair */
    for (size_t i = 0; i < f->n; i++) {
        if (f->p[i] == '"') i++;
        tmp->data[tmp->len++] = f->p[i];
    }
    *p = tmp->len ? tmp->data : "";
    *n = tmp->len;
    return HAMF_OK;
}

/* ---- row boundaries ------------------------------------------------------- */

void hamf__csv_chunk_scan(const char *buf, size_t lo, size_t hi, struct hamf__csv_chunk *out)
{
    int level = hamf__csv_simd_level();
    struct hamf__csv_chunk c = {{0, 0}, {0, 0}, 0, false};
    uint64_t carry = 0;
    for (size_t i = lo; i < hi; i += 64) {
        struct qmasks m = qmask_at(level, buf, hi, i);
        uint64_t inside = hamf__csv_prefix_xor(m.q) ^ carry;
        carry = (uint64_t)0 - (inside >> 63);
        c.nl += (size_t)__builtin_popcountll(m.nl);
        /* starting inside quotes flips every byte's state */
        uint64_t rows[2] = {m.nl & ~inside, m.nl & inside};
        for (int s = 0; s < 2; s++) {
            if (!rows[s]) continue;
            if (!c.first[s]) c.first[s] = i + (size_t)__builtin_ctzll(rows[s]) + 1;
            c.last[s] = i + 63 - (size_t)__builtin_clzll(rows[s]) + 1;
        }
    }
    c.odd = carry & 1;
    *out = c;
}

size_t hamf__csv_lone_cr(const char *buf, size_t len)
{
    int level = hamf__csv_simd_level();
    uint64_t carry = 0;
    for (size_t i = 0; i < len; i += 64) {
        struct qmasks m = qmask_at(level, buf, len, i);
        uint64_t inside = hamf__csv_prefix_xor(m.q) ^ carry;
        carry = (uint64_t)0 - (inside >> 63);
        uint64_t crs = m.cr & ~inside & ~(m.nl >> 1);
        while (crs) {
            size_t p = i + (size_t)__builtin_ctzll(crs);
            crs &= crs - 1;
            if (p + 1 >= len) return len;
            if (buf[p + 1] != '\n') return p;
        }
    }
    return len;
}

size_t hamf__csv_count_nl(const char *p, size_t n)
{
    size_t c = 0, i = 0;
#if HAVE_X86
    const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
    while (i + 16 <= n) {
        /* byte lanes count down by one per match (at most 255 rounds), then
         * a sum of absolute differences adds the lanes up */
        __m128i acc = zero;
        for (int r = 0; r < 255 && i + 16 <= n; r++, i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, nl));
        }
        __m128i s = _mm_sad_epu8(acc, zero);
        c += (size_t)_mm_cvtsi128_si32(s) + (size_t)_mm_extract_epi16(s, 4);
    }
#endif
    for (; i < n; i++) c += p[i] == '\n';
    return c;
}
