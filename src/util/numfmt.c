/*
 * numfmt.c — the shortest double text that reads back exactly (see num.h).
 *
 * Fixed notation for 1e-5 <= |v| < 1e15: the answer is the smallest k
 * (fraction digits, 0..22) for which the integer m nearest to |v| * 10^k
 * reads back as |v|, i.e. |m - |v| * 10^k| < half an ulp scaled by 10^k
 * (a quarter below a power of two). Success is monotone in k, so the
 * search starts at 15 significant digits and, when those read back, drops
 * m's trailing zeros (the reference path bisects down instead), else steps
 * up to 16 and 17.
 *
 * Each test has two exact implementations:
 * - fast, in doubles, when P = |v| * 10^k < 2^50: p = fl(P) is within
 *   2^-53 P of P, and a reading-back m is within 2^-53 P too, so
 *   |p - m| < 2^-52 * 2^50 = 1/4 and rint(p) = m; m / 10^k (both exact
 *   doubles) is then correctly rounded, and no decimal with P < 2^50 can
 *   lie exactly between two doubles (that needs k + e >= 53 with
 *   2^e * 10^k < 2^50), so "rounds to v" and "within half an ulp" agree;
 * - exact, in 128-bit integers: |v| = M * 2^-sh, and m reads back iff
 *   |m * 2^sh - M * 10^k| < 10^k / 2 (10^k / 4 below a power of two).
 * Outside that range, %.15g, %.16g or %.17g, whichever is first to read
 * back (exponent forms are rare in data).
 */
#include "util/num.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double p10d[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

const char hamf__num_digit_pairs[200] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                         "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                         "8081828384858687888990919293949596979899";

static unsigned __int128 p10q(int k)
{
    static unsigned __int128 tab[23];
    static int ready; /* benign: every thread computes the same values */
    if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
        unsigned __int128 t = 1;
        for (int i = 0; i < 23; i++, t *= 10) tab[i] = t;
        __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    }
    return tab[k];
}

struct fixed_try {
    double a;
    uint64_t M;
    int sh;
    bool exact_only;
};

/* Exact test for k fraction digits; *out gets m. */
static bool try_exact(const struct fixed_try *t, int k, uint64_t *out)
{
    static const unsigned __int128 cap = (unsigned __int128)1 << 125;
    if (k < 0 || k > 22) return false;
    unsigned __int128 p10 = p10q(k);
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

static bool try_k(const struct fixed_try *t, int k, uint64_t *out)
{
    if (k < 0 || k > 22) return false;
    if (!t->exact_only) {
        double p = t->a * p10d[k];
        if (p < 0x1p50) {
            /* round half up, not rint(): a tie never reads back (it is 1/2
             * away, more than the 1/4 bound), so either choice fails alike */
            uint64_t m = (uint64_t)(p + 0.5);
            if ((double)m / p10d[k] != t->a) return false;
            *out = m;
            return true;
        }
    }
    return try_exact(t, k, out);
}

static int fmt_fixed(char out[32], double v, bool exact_only)
{
    double a = fabs(v);
    uint64_t bits;
    memcpy(&bits, &a, sizeof bits);
    int E = (int)(bits >> 52); /* a is normal here: 1e-5 <= a < 1e15 */
    int e2 = E - 1022;         /* frexp's exponent */
    struct fixed_try t = {a, (bits & (((uint64_t)1 << 52) - 1)) | ((uint64_t)1 << 52), 53 - e2, exact_only};
    if (t.sh < 0 || t.sh > 80) return 0;
    /* floor(log10(a)) from the binary exponent, corrected by one step */
    int d = (int)floor((e2 - 1) * 0.30102999566398120);
    static const double neg10[8] = {1, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7};
#define P10(x) ((x) >= 0 ? ((x) <= 22 ? p10d[(x)] : 1e23) : ((x) >= -7 ? neg10[-(x)] : 1e-8))
    if (a >= P10(d + 1)) d++; /* an estimate: the search below is exact whatever d is */
    else if (a < P10(d)) d--;
#undef P10
    int k15 = 14 - d;
    uint64_t m = 0;
    int k;
    if (!exact_only && try_k(&t, k15, &m) && m >= 100000000000000u && m < 1000000000000000u) {
        /* One ulp of a is less than the spacing of 15-digit decimals near
         * a, so m is the only 15-digit decimal that reads back, and a
         * shorter one that does, padded with zeros, is m: the shortest is
         * m without its trailing zeros (what the search below finds too;
         * fuzz_csv_diff checks the two against each other). */
        k = k15; /* at most 14 zeros: 8, 4, 2 and 1 at a time */
        if (k >= 8 && m % 100000000 == 0) m /= 100000000, k -= 8;
        if (k >= 4 && m % 10000 == 0) m /= 10000, k -= 4;
        if (k >= 2 && m % 100 == 0) m /= 100, k -= 2;
        if (k >= 1 && m % 10 == 0) m /= 10, k -= 1;
    } else if (try_k(&t, k15, &m)) {
        int lo = 0, hi = k15;
        uint64_t mm;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (try_k(&t, mid, &mm)) hi = mid;
            else lo = mid + 1;
        }
        k = lo;
        if (!try_k(&t, k, &m)) return 0;
    } else {
        for (k = k15 + 1; k <= 22; k++)
            if (try_k(&t, k, &m)) break;
        if (k > 22) return 0;
    }
    if (k < 0) return 0;
    /* m's digits, written once: the integer part, '.', the fraction */
    char fw[24];
    int nd = hamf__num_fmt_u64(fw, m);
    int n = 0;
    if (signbit(v)) out[n++] = '-';
    if (nd <= k) {
        out[n++] = '0';
        out[n++] = '.';
        for (int z = 0; z < k - nd; z++) out[n++] = '0';
        memcpy(out + n, fw, (size_t)nd);
        n += nd;
    } else {
        memcpy(out + n, fw, (size_t)(nd - k));
        n += nd - k;
        out[n++] = '.';
        if (k == 0) out[n++] = '0';
        memcpy(out + n, fw + nd - k, (size_t)k);
        n += k;
    }
    out[n] = '\0';
    return n;
}

static int fmt_f64(char out[32], double v, bool exact_only)
{
    if (isnan(v)) return snprintf(out, 32, "NaN");
    if (isinf(v)) return snprintf(out, 32, v > 0 ? "Infinity" : "-Infinity");
    double a = fabs(v);
    if (a < 1e15 && a >= 1e-5) {
        int n = fmt_fixed(out, v, exact_only);
        if (n > 0) return n;
    }
    if (v == 0) {
        int n = signbit(v) ? 4 : 3;
        memcpy(out, signbit(v) ? "-0.0" : "0.0", (size_t)n + 1);
        return n;
    }
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

int hamf__num_fmt_f64(char out[32], double v)
{
    return fmt_f64(out, v, false);
}

int hamf__num_fmt_f64_exact(char out[32], double v)
{
    return fmt_f64(out, v, true);
}
