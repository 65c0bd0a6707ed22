/*
 * numparse.c — decimal text to the correctly rounded double (see num.h).
 *
 * Eisel-Lemire: for w * 10^q with w < 2^64, multiply the normalised w by a
 * 128-bit truncated approximation of 5^q (scaled to [2^127, 2^128)); the
 * top 55 bits of the product give the mantissa plus rounding bits, and
 * the binary exponent is floor(q * log2(10)) + 63 + (top bit) - (leading
 * zeros of w). Exact halfway cases are recognised for the small exponents
 * where they can occur (-4 <= q <= 23). When the second 64-bit product is
 * needed and still leaves the low word all ones outside -27 <= q <= 55,
 * the answer is not certain and strtod decides (never seen in practice).
 *
 * The table T[q] for q in [-342, 308] is computed once with exact
 * big-integer arithmetic: 5^q truncated to its top 128 bits for q >= 0;
 * for q < 0 with z = bitlength(5^-q), floor(2^b / 5^-q) + 1 where
 * b = z + 127 (q >= -27) or b = 2z + 128 (then truncated to 128 bits).
 */
#include "util/num.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define Q_MIN (-342)
#define Q_MAX 308
#define NW 64 /* 32-bit words: 2048 bits, enough for 2^(2z+128) */

static uint64_t tab_hi[Q_MAX - Q_MIN + 1], tab_lo[Q_MAX - Q_MIN + 1];
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

struct big {
    uint32_t w[NW];
};

static int big_bitlen(const struct big *b)
{
    for (int i = NW - 1; i >= 0; i--)
        if (b->w[i]) return i * 32 + 32 - __builtin_clz(b->w[i]);
    return 0;
}

static void big_mul_small(struct big *b, uint32_t m)
{
    uint64_t carry = 0;
    for (int i = 0; i < NW; i++) {
        uint64_t t = (uint64_t)b->w[i] * m + carry;
        b->w[i] = (uint32_t)t;
        carry = t >> 32;
    }
}

static int bit_at(const struct big *b, int i)
{
    return i < 0 ? 0 : (int)((b->w[i / 32] >> (i % 32)) & 1);
}

/* Bits [from, from + 128) of b as hi:lo. */
static void big_take128(const struct big *b, int from, uint64_t *hi, uint64_t *lo)
{
    *hi = *lo = 0;
    for (int i = 127; i >= 0; i--) {
        int bit = bit_at(b, from + i);
        if (i >= 64) *hi |= (uint64_t)bit << (i - 64);
        else *lo |= (uint64_t)bit << i;
    }
}

static int big_cmp(const struct big *a, const struct big *b, int nw)
{
    for (int i = nw - 1; i >= 0; i--)
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

static void big_sub(struct big *a, const struct big *b, int nw)
{
    int64_t borrow = 0;
    for (int i = 0; i < nw; i++) {
        int64_t t = (int64_t)a->w[i] - b->w[i] - borrow;
        borrow = t < 0;
        a->w[i] = (uint32_t)(t + (borrow ? ((int64_t)1 << 32) : 0));
    }
}

static void build_table(void)
{
    struct big p;
    memset(&p, 0, sizeof p);
    p.w[0] = 1;
    for (int q = 0; q <= Q_MAX; q++) {
        int L = big_bitlen(&p);
        int from = L - 128; /* may be negative: bits below 0 read as 0 */
        big_take128(&p, from, &tab_hi[q - Q_MIN], &tab_lo[q - Q_MIN]);
        big_mul_small(&p, 5);
    }
    /* negative powers: long division of 2^b by D = 5^n */
    static struct big d, r, quo;
    memset(&d, 0, sizeof d);
    d.w[0] = 1;
    for (int n = 1; n <= -Q_MIN; n++) {
        big_mul_small(&d, 5);
        int z = big_bitlen(&d);
        int b = n <= 27 ? z + 127 : 2 * z + 128;
        int nw = (z + 1) / 32 + 2;
        memset(&r, 0, sizeof r);
        memset(&quo, 0, sizeof quo);
        for (int i = b; i >= 0; i--) {
            /* r = 2r + (bit i of 2^b) */
            uint32_t carry = i == b;
            for (int k = 0; k < nw; k++) {
                uint32_t nc = r.w[k] >> 31;
                r.w[k] = (r.w[k] << 1) | carry;
                carry = nc;
            }
            if (big_cmp(&r, &d, nw) >= 0) {
                big_sub(&r, &d, nw);
                quo.w[i / 32] |= (uint32_t)1 << (i % 32);
            }
        }
        /* + 1 */
        for (int k = 0; k < NW; k++)
            if (++quo.w[k]) break;
        int L = big_bitlen(&quo);
        big_take128(&quo, L - 128, &tab_hi[-n - Q_MIN], &tab_lo[-n - Q_MIN]);
    }
}

static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Eisel-Lemire; false when undecided. */
static bool eisel_lemire(uint64_t w, int64_t q, double *out)
{
    pthread_once(&tab_once, build_table);
    int lz = __builtin_clzll(w);
    w <<= lz;
    size_t idx = (size_t)(q - Q_MIN);
    unsigned __int128 first = (unsigned __int128)w * tab_hi[idx];
    uint64_t hi = (uint64_t)(first >> 64), lo = (uint64_t)first;
    if ((hi & 0x1FF) == 0x1FF) {
        unsigned __int128 second = (unsigned __int128)w * tab_lo[idx];
        uint64_t shi = (uint64_t)(second >> 64);
        lo += shi;
        if (lo < shi) hi++;
        if (lo == UINT64_MAX && (q < -27 || q > 55)) return false;
    }
    int upper = (int)(hi >> 63);
    uint64_t mant = hi >> (upper + 9);
    int64_t power2 = ((((int64_t)152170 + 65536) * q) >> 16) + 63 + upper - lz + 1023;
    if (power2 <= 0) { /* subnormal */
        if (-power2 + 1 >= 64) {
            *out = 0.0;
            return true;
        }
        mant >>= -power2 + 1;
        mant += mant & 1;
        mant >>= 1;
        power2 = mant < ((uint64_t)1 << 52) ? 0 : 1;
        uint64_t bits = (mant & (((uint64_t)1 << 52) - 1)) | ((uint64_t)power2 << 52);
        memcpy(out, &bits, sizeof bits);
        return true;
    }
    if (lo <= 1 && q >= -4 && q <= 23 && (mant & 3) == 1) {
        if ((mant << (upper + 9)) == hi) mant &= ~(uint64_t)1; /* exact tie: to even */
    }
    mant += mant & 1;
    mant >>= 1;
    if (mant >= ((uint64_t)2 << 52)) {
        mant = (uint64_t)1 << 52;
        power2++;
    }
    mant &= ~((uint64_t)1 << 52);
    if (power2 >= 0x7FF) {
        *out = INFINITY;
        return true;
    }
    uint64_t bits = mant | ((uint64_t)power2 << 52);
    memcpy(out, &bits, sizeof bits);
    return true;
}

double hamf__num_decimal_to_f64(uint64_t w, int64_t q, bool neg)
{
    double v;
    if (w == 0 || q < Q_MIN - 19) v = 0.0;
    else if (q > Q_MAX) v = INFINITY;
    else if (w <= ((uint64_t)1 << 53) && q >= -22 && q <= 22) v = q >= 0 ? (double)w * p10[q] : (double)w / p10[-q];
    else if (q < Q_MIN) v = 0.0; /* w < 2^64 and q < -342: below half the smallest subnormal */
    else if (!eisel_lemire(w, q, &v)) {
        char tmp[48];
        int n = 0;
        uint64_t t = w;
        char dig[24];
        int nd = 0;
        do {
            dig[nd++] = (char)('0' + t % 10);
            t /= 10;
        } while (t);
        while (nd) tmp[n++] = dig[--nd];
        tmp[n++] = 'e';
        int64_t e = q;
        if (e < 0) tmp[n++] = '-', e = -e;
        nd = 0;
        do {
            dig[nd++] = (char)('0' + e % 10);
            e /= 10;
        } while (e);
        while (nd) tmp[n++] = dig[--nd];
        tmp[n] = '\0';
        v = strtod(tmp, NULL);
    }
    return neg ? -v : v;
}

bool hamf__num_parse_f64(const char *p, size_t n, double *out)
{
    size_t i = 0;
    bool neg = false;
    if (n && (p[0] == '-' || p[0] == '+')) {
        neg = p[0] == '-';
        i = 1;
    }
    uint64_t w = 0;
    int sig = 0, nd = 0;
    int64_t drop = 0; /* exponent adjustment: fraction digits kept, integer digits dropped */
    bool dot = false, more = false;
    for (; i < n; i++) {
        char ch = p[i];
        if (ch >= '0' && ch <= '9') {
            nd++;
            if (w || ch != '0') {
                if (sig < 19) {
                    w = w * 10 + (uint64_t)(ch - '0');
                    sig++;
                    if (dot) drop--;
                } else {
                    if (ch != '0') more = true;
                    if (!dot) drop++;
                }
            } else if (dot) {
                drop--;
            }
        } else if (ch == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (!nd) return false;
    int64_t e = 0;
    if (i < n) {
        if (p[i] != 'e' && p[i] != 'E') return false;
        i++;
        bool eneg = false;
        if (i < n && (p[i] == '+' || p[i] == '-')) eneg = p[i++] == '-';
        if (i == n) return false;
        for (; i < n; i++) {
            if (p[i] < '0' || p[i] > '9') return false;
            if (e < 100000000) e = e * 10 + (p[i] - '0');
        }
        if (eneg) e = -e;
    }
    if (more) { /* > 19 significant digits: strtod rounds exactly */
        char tmp[128];
        char *heap = NULL, *s = tmp;
        if (n >= sizeof tmp) {
            if (!(heap = malloc(n + 1))) return false;
            s = heap;
        }
        memcpy(s, p, n);
        s[n] = '\0';
        *out = strtod(s, NULL);
        free(heap);
        return true;
    }
    *out = hamf__num_decimal_to_f64(w, e + drop, neg);
    return true;
}
