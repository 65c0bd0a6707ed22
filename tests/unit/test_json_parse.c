/* test_json_parse.c — the strict JSON reader: values, escapes, UTF-8,
 * numbers, depth limit, error positions and allocation failure. */
#include "t.h"
#include "util/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

static hamf_status parse(const char *s, struct hamf__jdoc **d)
{
    return hamf__json_parse(s, strlen(s), 0, d);
}

static void test_values(void)
{
    struct hamf__jdoc *d = NULL;
    const char *s = " {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\"],"
                    " \"b\": {\"c\": 9007199254740993}, \"a\": 3} ";
    T_OK(parse(s, &d));
    const struct hamf__jval *r = hamf__jdoc_root(d);
    T_EQ_INT(r->type, HAMF__JOBJ);
    T_EQ_INT(r->len, 3);
    /* duplicate keys: the last one wins */
    const struct hamf__jval *a = hamf__jobj_get(r, "a");
    T_EQ_INT(a->type, HAMF__JNUM);
    T_EQ_INT(a->i, 3);
    const struct hamf__jval *arr = &r->members[0].val;
    T_EQ_INT(arr->type, HAMF__JARR);
    T_EQ_INT(arr->len, 6);
    T_EQ_INT(arr->items[0].i, 1);
    T_TRUE(arr->items[0].is_int);
    T_TRUE(!arr->items[1].is_int);
    T_EQ_DBL(arr->items[1].num, -2500.0, 0);
    T_TRUE(arr->items[2].type == HAMF__JBOOL && arr->items[2].b);
    T_TRUE(arr->items[3].type == HAMF__JBOOL && !arr->items[3].b);
    T_EQ_INT(arr->items[4].type, HAMF__JNULL);
    T_EQ_STR(arr->items[5].str, "x\xc3\xa9\xf0\x9f\x98\x80");
    T_EQ_INT(arr->items[5].len, 7);
    const struct hamf__jval *c = hamf__jobj_get(hamf__jobj_get(r, "b"), "c");
    int64_t i;
    T_TRUE(hamf__jval_to_i64(c, &i));
    T_EQ_INT(i, 9007199254740993LL); /* exact, not rounded through double */
    T_TRUE(hamf__jobj_get(r, "zz") == NULL);
    hamf__jdoc_free(d);
}

static void test_embedded_nul_and_escapes(void)
{
    struct hamf__jdoc *d = NULL;
    T_OK(parse("\"a\\u0000b\\n\\t\\\"\\\\\\/\"", &d));
    const struct hamf__jval *r = hamf__jdoc_root(d);
    T_EQ_INT(r->len, 8);
    T_TRUE(!memcmp(r->str, "a\0b\n\t\"\\/", 8));
    hamf__jdoc_free(d);
}

static void test_conversions(void)
{
    struct hamf__jdoc *d = NULL;
    T_OK(parse("[\"123\", \"-7\", \"1.5\", \"NaN\", \"Infinity\", \"0x10\", \"abc\", 5.0, 5.5, \"inf\"]", &d));
    const struct hamf__jval *r = hamf__jdoc_root(d);
    int64_t i;
    double f;
    T_TRUE(hamf__jval_to_i64(&r->items[0], &i) && i == 123);
    T_TRUE(hamf__jval_to_i64(&r->items[1], &i) && i == -7);
    T_TRUE(!hamf__jval_to_i64(&r->items[2], &i));
    T_TRUE(hamf__jval_to_f64(&r->items[2], &f) && f == 1.5);
    T_TRUE(hamf__jval_to_f64(&r->items[3], &f) && isnan(f));
    T_TRUE(hamf__jval_to_f64(&r->items[4], &f) && isinf(f) && f > 0);
    T_TRUE(!hamf__jval_to_f64(&r->items[5], &f));
    T_TRUE(!hamf__jval_to_f64(&r->items[6], &f));
    T_TRUE(hamf__jval_to_i64(&r->items[7], &i) && i == 5);
    T_TRUE(!hamf__jval_to_i64(&r->items[8], &i));
    T_TRUE(!hamf__jval_to_f64(&r->items[9], &f));
    hamf__jdoc_free(d);
}

/* numbers read as strtod and strtoll read them (values, int-ness, sign of zero) */
static void test_numbers_like_libc(void)
{
    static const char *const nums[] = {
        "0", "-0", "7", "-7", "123456789012345", "-999999999999999", "1234567890123456", "9007199254740993",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "99999999999999999999", "1.5", "-0.0", "0.1", "1e3", "1E-5", "2.2250738585072014e-308", "4.9e-324",
        "1e-400", "-1e-400", "0.30000000000000004", "123456789012345678901234567890", "1.7976931348623157e308",
        "3.14159265358979323846264338327950288", "5e-324", "2.4703282292062328e-324"};
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
        struct hamf__jdoc *d = NULL;
        T_OK(parse(nums[k], &d));
        const struct hamf__jval *v = hamf__jdoc_root(d);
        T_EQ_INT(v->type, HAMF__JNUM);
        double want = strtod(nums[k], NULL);
        T_TRUE(v->num == want && signbit(v->num) == signbit(want));
        errno = 0;
        char *end;
        long long ll = strtoll(nums[k], &end, 10);
        bool is_int = errno == 0 && *end == '\0';
        T_EQ_INT(v->is_int, is_int);
        if (is_int) T_TRUE(v->i == ll);
        hamf__jdoc_free(d);
    }
    struct hamf__jdoc *d = NULL;
    T_STATUS(parse("1e400", &d), HAMF_ERR_PARSE);
    T_STATUS(parse("-1e400", &d), HAMF_ERR_PARSE);
}

static void test_errors(void)
{
    static const struct { const char *text, *msg; } cases[] = {
        {"", "json: line 1 col 1 (byte 0): unexpected end of input"},
        {"{\"a\" 1}", "json: line 1 col 6 (byte 5): expected ':' after object key"},
        {"[1,]", "json: line 1 col 4 (byte 3): unexpected character"},
        {"{\"a\":1,}", "json: line 1 col 8 (byte 7): expected string key in object"},
        {"\n\n  01", "json: line 3 col 3 (byte 4): leading zero in number"},
        {"1.", "json: line 1 col 3 (byte 2): expected digit after '.'"},
        {"1e", "json: line 1 col 3 (byte 2): expected digit in exponent"},
        {"+1", "json: line 1 col 1 (byte 0): unexpected character"},
        {"NaN", "json: line 1 col 1 (byte 0): unexpected character"},
        {"1e999", "json: line 1 col 1 (byte 0): number out of range"},
        {"\"abc", "json: line 1 col 1 (byte 0): unterminated string"},
        {"\"a\tb\"", "json: line 1 col 3 (byte 2): control character in string"},
        {"\"\\x\"", "json: line 1 col 2 (byte 1): bad escape in string"},
        {"\"\\ud800\"", "json: line 1 col 2 (byte 1): lone high surrogate in \\u escape"},
        {"\"\\udc00\"", "json: line 1 col 2 (byte 1): lone low surrogate in \\u escape"},
        {"\"\\u12g4\"", "json: line 1 col 2 (byte 1): bad \\u escape"},
        {"\"\xc0\xaf\"", "json: line 1 col 2 (byte 1): invalid UTF-8 in string"},     /* overlong */
        {"\"\xed\xa0\x80\"", "json: line 1 col 2 (byte 1): invalid UTF-8 in string"}, /* surrogate */
        {"\"\xf4\x90\x80\x80\"", "json: line 1 col 2 (byte 1): invalid UTF-8 in string"},
        {"\"\xe2\x82\"", "json: line 1 col 2 (byte 1): invalid UTF-8 in string"},
        {"{} x", "json: line 1 col 4 (byte 3): trailing characters after JSON value"},
        {"[1 2]", "json: line 1 col 4 (byte 3): expected ',' or ']' in array"},
        {"tru", "json: line 1 col 1 (byte 0): unexpected character"},
        {"/* c */ 1", "json: line 1 col 1 (byte 0): unexpected character"},
    };
    for (size_t k = 0; k < HAMF_ARRAY_LEN(cases); k++) {
        struct hamf__jdoc *d = NULL;
        hamf_status st = parse(cases[k].text, &d);
        if (st != HAMF_ERR_PARSE) T_FAILF("case %zu (%s): status %d", k, cases[k].text, st);
        T_TRUE(d == NULL);
        T_EQ_STR(hamf_last_error(), cases[k].msg);
    }
}

static void test_depth_limit(void)
{
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    struct hamf__jdoc *d = NULL;
    T_STATUS(hamf__json_parse(deep, 200, 64, &d), HAMF_ERR_PARSE);
    T_TRUE(strstr(hamf_last_error(), "nesting too deep") != NULL);
    T_OK(hamf__json_parse(deep + 40, 120, 64, &d)); /* 60 levels fit */
    hamf__jdoc_free(d);
}

static void test_big_array(void)
{
    /* enough members to grow the scratch stacks and spill arena chunks */
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    T_OK(hamf__buf_putc(&b, '['));
    for (int i = 0; i < 5000; i++) T_OK(hamf__buf_printf(&b, "%s{\"k\":\"v%d\",\"n\":%d}", i ? "," : "", i, i));
    T_OK(hamf__buf_putc(&b, ']'));
    struct hamf__jdoc *d = NULL;
    T_OK(hamf__json_parse(b.data, b.len, 0, &d));
    const struct hamf__jval *r = hamf__jdoc_root(d);
    T_EQ_INT(r->len, 5000);
    T_EQ_STR(hamf__jobj_get(&r->items[4321], "k")->str, "v4321");
    T_EQ_INT(hamf__jobj_get(&r->items[4999], "n")->i, 4999);
    hamf__jdoc_free(d);
    hamf__buf_free(&b);
}

static void test_alloc_failure(void)
{
    const char *s = "{\"a\":[1,2,{\"b\":\"cccccccccccccccccccccccccccccccc\"}],\"d\":\"e\"}";
    for (int64_t n = 0; n < 50; n++) {
        struct hamf__jdoc *d = NULL;
        hamf__alloc_fail_after(n);
        hamf_status st = parse(s, &d);
        hamf__alloc_fail_after(-1);
        if (st == HAMF_OK) {
            T_EQ_STR(hamf__jobj_get(hamf__jdoc_root(d), "d")->str, "e");
            hamf__jdoc_free(d);
            return;
        }
        T_EQ_INT(st, HAMF_ERR_NOMEM);
        T_TRUE(d == NULL);
    }
    T_FAILF("never succeeded");
}

int main(void)
{
    T_RUN(test_values);
    T_RUN(test_embedded_nul_and_escapes);
    T_RUN(test_conversions);
    T_RUN(test_numbers_like_libc);
    T_RUN(test_errors);
    T_RUN(test_depth_limit);
    T_RUN(test_big_array);
    T_RUN(test_alloc_failure);
    return T_DONE();
}
