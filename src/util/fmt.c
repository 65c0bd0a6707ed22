/*
 * fmt.c — exact number text. hamf__fmt_double finds the shortest %.Ng form
 * (N = 1..17) that strtod parses back to the same bits, so written numbers
 * round-trip exactly and look like what people typed (99.83, 0.1). The
 * strict parsers accept a whole field or nothing.
 */
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int hamf__fmt_double(char out[32], double v)
{
    if (isnan(v)) return snprintf(out, 32, "NaN");
    if (isinf(v)) return snprintf(out, 32, v > 0 ? "Infinity" : "-Infinity");
    if (v == 0) return snprintf(out, 32, signbit(v) ? "-0.0" : "0");
    /* Fewest significant digits that read back exactly. */
    int prec = 1;
    for (; prec < 17; prec++) {
        snprintf(out, 32, "%.*e", prec - 1, v);
        if (strtod(out, NULL) == v) break;
    }
    int n = snprintf(out, 32, "%.*e", prec - 1, v);
    int exp10 = atoi(strchr(out, 'e') + 1);
    /* Positional where Python's repr is (1e-4 <= |v| < 1e16): 90, not 9e+01. */
    if (exp10 >= -4 && exp10 < 16) {
        int decimals = prec - 1 - exp10;
        n = snprintf(out, 32, "%.*f", decimals > 0 ? decimals : 0, v);
    }
    return n;
}

int hamf_format_double(char out[32], double v) { return hamf__fmt_double(out, v); }

bool hamf__parse_i64(const char *s, size_t n, int64_t *out)
{
    char tmp[32];
    if (n == 0 || n >= sizeof tmp) return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    const char *p = tmp;
    if (*p == '+' || *p == '-') p++;
    if (*p < '0' || *p > '9') return false;
    errno = 0;
    char *end;
    long long v = strtoll(tmp, &end, 10);
    if (errno || *end) return false;
    *out = (int64_t)v;
    return true;
}

bool hamf__parse_double(const char *s, size_t n, double *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp) return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (tmp[0] == ' ' || tmp[0] == '\t' || tmp[n - 1] == ' ' || tmp[n - 1] == '\t') return false;
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (*end || end == tmp) return false;
    /* strtod also accepts hex floats, "inf", "nan": callers that care
     * (CSV inference) check those spellings themselves. */
    *out = v;
    return true;
}

int64_t hamf__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double hamf__mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
