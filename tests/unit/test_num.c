/* test_num.c — util/num: the Eisel-Lemire parser agrees bit for bit with
 * glibc's correctly rounded strtod on random decimal texts of every shape
 * (short, 16-19 digits, > 19 digits, exponents to the subnormal and
 * overflow edges, halfway cases); the fast shortest formatter agrees with
 * its exact 128-bit reference on random doubles and reads back exactly;
 * integer formatting agrees with printf. */
#include "t.h"
#include "util/num.h"

#include <stdint.h>
#include <stdlib.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static void test_parse_known(void)
{
    const char *t[] = {"0",        "-0",     "1",      "0.1",         "3.14159", "1e308", "1.7976931348623157e308",
                       "1.7976931348623158e308", "1e309", "4.9e-324", "2.4703282292062327e-324",
                       "2.4703282292062328e-324", "2.2250738585072011e-308", "2.2250738585072014e-308",
                       "9007199254740993", "9007199254740992.5", "123456789012345678901234567890",
                       "0.000000000000000000000000000001", "1e-400", ".5", "5.", "+7", "-1e999",
                       "7.038531e-26", "1448997445238699", "0.1e-999999999999", "1e+99999999999999"};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        double got, want = strtod(t[i], NULL);
        T_TRUE(hamf__num_parse_f64(t[i], strlen(t[i]), &got));
        if (!same_bits(got, want)) T_FAILF("%s: got %.17g want %.17g", t[i], got, want);
    }
    const char *bad[] = {"", "-", ".", "e5", "1e", "1e+", "1.2.3", "0x10", "inf", "nan", " 1", "1 ", "1,5"};
    double v;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (hamf__num_parse_f64(bad[i], strlen(bad[i]), &v)) T_FAILF("accepted '%s'", bad[i]);
}

static void test_parse_random(void)
{
    char s[96];
    int bad = 0;
    for (int i = 0; i < 400000 && bad < 5; i++) {
        uint64_t x = next();
        int n = 0;
        if (x & 1) s[n++] = '-';
        int nd = 1 + (int)((x >> 1) % 22); /* 1..22 digits */
        int dot = (int)((x >> 6) % (unsigned)(nd + 1));
        for (int k = 0; k < nd; k++) {
            if (k == dot && (x >> 11) & 1) s[n++] = '.';
            s[n++] = (char)('0' + next() % 10);
        }
        switch ((x >> 12) % 4) {
        case 0: break;
        case 1: n += snprintf(s + n, sizeof s - (size_t)n, "e%d", (int)((x >> 16) % 700) - 350); break;
        case 2: n += snprintf(s + n, sizeof s - (size_t)n, "e%d", (int)((x >> 16) % 40) - 20); break;
        default: { /* a shortest repr of a random double: the near-halfway texts */
            uint64_t bits = next() & 0x7fefffffffffffffull;
            double d;
            memcpy(&d, &bits, sizeof d);
            n = snprintf(s, sizeof s, (x >> 16) & 1 ? "%.17g" : "%.16g", d);
        }
        }
        s[n] = '\0';
        double got, want = strtod(s, NULL);
        if (!hamf__num_parse_f64(s, (size_t)n, &got)) {
            bad++;
            fprintf(stderr, "  refused %s\n", s);
        } else if (!same_bits(got, want)) {
            bad++;
            fprintf(stderr, "  %s: got %.17g want %.17g\n", s, got, want);
        }
    }
    T_EQ_INT(bad, 0);
}

static void test_fmt_random(void)
{
    int bad = 0;
    for (int i = 0; i < 400000 && bad < 5; i++) {
        uint64_t x = next();
        double v;
        switch (i % 4) {
        case 0: {
            uint64_t bits = x;
            memcpy(&v, &bits, sizeof v);
            break;
        }
        case 1: v = (double)(x % 100000) / (double)(1 + (x >> 20) % 1000); break;
        case 2: v = (double)(x % 10000000) / 1000000.0; break;
        default: v = (double)(int64_t)(x % 2000000000000000ull) / 1e3 * ((x >> 60) & 1 ? -1 : 1); break;
        }
        char a[32], b[32];
        int na = hamf__num_fmt_f64(a, v), nb = hamf__num_fmt_f64_exact(b, v);
        if (na != nb || strcmp(a, b) != 0) {
            bad++;
            fprintf(stderr, "  %.17g: fast %s exact %s\n", v, a, b);
            continue;
        }
        double back = strtod(a, NULL);
        if (isnan(v) ? !isnan(back) : !same_bits(back, v)) {
            bad++;
            fprintf(stderr, "  %.17g wrote %s\n", v, a);
        }
    }
    T_EQ_INT(bad, 0);
    char o[32];
    hamf__num_fmt_f64(o, 1e300 * 1e300);
    T_EQ_STR(o, "Infinity");
    hamf__num_fmt_f64(o, -1e300 * 1e300);
    T_EQ_STR(o, "-Infinity");
    hamf__num_fmt_f64(o, 0.5);
    T_EQ_STR(o, "0.5");
    hamf__num_fmt_f64(o, 100.0);
    T_EQ_STR(o, "100.0");
}

static void test_fmt_int(void)
{
    int64_t vals[] = {0, 1, -1, 9, 10, 99, 100, 12345, -9876543210, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        char a[24], b[24];
        int n = hamf__num_fmt_i64(a, vals[i]);
        a[n] = '\0';
        snprintf(b, sizeof b, "%" PRId64, vals[i]);
        T_EQ_STR(a, b);
    }
    for (int i = 0; i < 100000; i++) {
        int64_t v = (int64_t)next() >> (next() % 64);
        char a[24], b[24];
        int n = hamf__num_fmt_i64(a, v);
        a[n] = '\0';
        snprintf(b, sizeof b, "%" PRId64, v);
        T_EQ_STR(a, b);
    }
}

int main(void)
{
    T_RUN(test_parse_known);
    T_RUN(test_parse_random);
    T_RUN(test_fmt_random);
    T_RUN(test_fmt_int);
    return T_DONE();
}
