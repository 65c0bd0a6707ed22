/*
 * t.h — the tiny unit-test harness. A test file defines test functions and
 * lists them in main() with T_RUN(fn). Typed asserts print both sides and
 * the location, mark the test failed and return from it.
 */
#ifndef HAMF_T_H
#define HAMF_T_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int t_failed_now, t_pass, t_fail;

#define T_FAILF(...)                                                     \
    do {                                                                 \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                \
        fprintf(stderr, __VA_ARGS__);                                    \
        fputc('\n', stderr);                                             \
        t_failed_now = 1;                                                \
        return;                                                          \
    } while (0)

#define T_TRUE(c) do { if (!(c)) T_FAILF("expected true: %s", #c); } while (0)
#define T_EQ_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
    if (_a != _b) T_FAILF("%s == %s: %lld != %lld", #a, #b, _a, _b); } while (0)
#define T_EQ_DBL(a, b, eps) do { double _a = (a), _b = (b); \
    if (!(fabs(_a - _b) <= (eps))) T_FAILF("%s == %s: %.17g != %.17g", #a, #b, _a, _b); } while (0)
#define T_EQ_STR(a, b) do { const char *_a = (a), *_b = (b); \
    if (!_a || !_b || strcmp(_a, _b)) T_FAILF("%s == %s: \"%s\" != \"%s\"", #a, #b, _a ? _a : "(null)", _b ? _b : "(null)"); } while (0)
#define T_OK(expr) do { int _s = (int)(expr); \
    if (_s != 0) T_FAILF("%s: status %d: %s", #expr, _s, hamf_last_error()); } while (0)
#define T_STATUS(expr, want) do { int _s = (int)(expr), _w = (int)(want); \
    if (_s != _w) T_FAILF("%s: status %d, want %d (%s)", #expr, _s, _w, hamf_last_error()); } while (0)

#define T_RUN(fn) do {                                                   \
        t_failed_now = 0;                                                \
        fn();                                                            \
        if (t_failed_now) { t_fail++; fprintf(stderr, "FAIL %s\n", #fn); } \
        else { t_pass++; printf("ok %s\n", #fn); }                       \
    } while (0)

/* Last line of main(): prints the count and gives the exit status. */
#define T_DONE() (printf("%d passed, %d failed\n", t_pass, t_fail), t_fail ? 1 : 0)

#endif
