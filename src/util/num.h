/*
 * num.h — number text both ways, exact and fast (layer 1, no deps).
 *
 * hamf__num_fmt_f64: the shortest text that reads back as the same double,
 * always with a '.', an exponent or a NaN/Infinity word so it reads back as
 * a double (CSV writing; JSON can use it too). Fixed notation for
 * 1e-5 <= |v| < 1e15 with the fewest fraction digits (a double-arithmetic
 * fast path proven exact for products below 2^50, then an exact 128-bit
 * integer check), %.{15,16,17}g outside that range. NaN -> "NaN",
 * ±inf -> "Infinity"/"-Infinity" (how Spark's CSV writer spells them:
 * Java's Double.toString).
 *
 * hamf__num_parse_f64: a decimal number (optional sign, digits with at
 * most one '.', optional exponent) to the correctly rounded double.
 * Clinger's exact fast path (<= 15 digits, |q| <= 22), then the
 * Eisel-Lemire algorithm with a 128-bit table of powers of five computed
 * once at first use (exact big-integer arithmetic), then strtod for the
 * rare cases the algorithm cannot decide (> 19 digits, ambiguous
 * products). Written in C here rather than linking fast_float (C++) so the
 * library stays plain C11 with no C++ runtime.
 */
#ifndef HAMF_UTIL_NUM_H
#define HAMF_UTIL_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* `out` holds 32 bytes; returns the length (no NUL needed by callers, but
 * one is written). */
int hamf__num_fmt_f64(char out[32], double v);
/* The same, exact path only (no fast path): the reference for tests. */
int hamf__num_fmt_f64_exact(char out[32], double v);

extern const char hamf__num_digit_pairs[200];

/* Decimal digits of v into out (no NUL, at most 20 bytes); the length. */
static inline int hamf__num_fmt_u64(char *out, uint64_t v)
{
    static const uint64_t p10[19] = {10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
                                     100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
                                     1000000000000ull, 10000000000000ull, 100000000000000ull,
                                     1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
                                     1000000000000000000ull, 10000000000000000000ull};
    /* digits from the bit length: t = floor(bits * log10(2)) is the
     * count or one less */
    int t = ((64 - __builtin_clzll(v | 1)) * 1233) >> 12;
    int n = t == 0 ? 1 : t + (v >= p10[t - 1]);
    int i = n;
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        out[--i] = hamf__num_digit_pairs[d + 1];
        out[--i] = hamf__num_digit_pairs[d];
    }
    if (v >= 10) {
        unsigned d = (unsigned)v * 2;
        out[--i] = hamf__num_digit_pairs[d + 1];
        out[--i] = hamf__num_digit_pairs[d];
    } else {
        out[--i] = (char)('0' + v);
    }
    return n;
}

/* The same for a signed value (at most 20 bytes). */
static inline int hamf__num_fmt_i64(char *out, int64_t v)
{
    if (v >= 0) return hamf__num_fmt_u64(out, (uint64_t)v);
    out[0] = '-';
    return 1 + hamf__num_fmt_u64(out + 1, 0 - (uint64_t)v);
}

/* Parse p[0..n) as a whole decimal number (no spaces, no hex, no words).
 * Returns false when the text is not one. */
bool hamf__num_parse_f64(const char *p, size_t n, double *out);
/* w * 10^q correctly rounded (w != 0 or any q); neg flips the sign. */
double hamf__num_decimal_to_f64(uint64_t w, int64_t q, bool neg);

#endif
