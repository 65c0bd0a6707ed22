/* test_util.c — the shared helpers: errors, buffers, JSON, number text. */
#include "t.h"
#include "util/util.h"

#include <stdlib.h>

static void test_error_message(void)
{
    T_STATUS(hamf__err(HAMF_ERR_PARSE, "csv: %s:%d:%d: bad", "a.csv", 3, 7), HAMF_ERR_PARSE);
    T_EQ_STR(hamf_last_error(), "csv: a.csv:3:7: bad");
    hamf__err_prefix(HAMF_ERR_PARSE, "load");
    T_EQ_STR(hamf_last_error(), "load: csv: a.csv:3:7: bad");
    T_EQ_STR(hamf_status_str(HAMF_ERR_NOTFOUND), "not found");
}

static void test_buf_limit(void)
{
    struct hamf__buf b;
    hamf__buf_init(&b, 8);
    T_OK(hamf__buf_puts(&b, "12345678"));
    T_STATUS(hamf__buf_putc(&b, 'x'), HAMF_ERR_CONSTRAINT);
    T_EQ_STR(b.data, "12345678");
    hamf__buf_free(&b);
}

static void test_json_escape(void)
{
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    T_OK(hamf__json_str(&b, "a\"b\\c\n\x01\xc3\xa9", (size_t)-1));
    T_EQ_STR(b.data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
    hamf__buf_reset(&b);
    T_OK(hamf__json_num(&b, 99.83));
    T_OK(hamf__buf_putc(&b, ','));
    T_OK(hamf__json_num(&b, NAN));
    T_EQ_STR(b.data, "99.83,null");
    hamf__buf_free(&b);
}

/* issue 18 item 4: bytes that are not UTF-8 (0xff 0xfe, a lone
 * continuation byte, an overlong, a surrogate, a cut-off sequence) are
 * written as \ufffd; valid 2-, 3- and 4-byte sequences pass unchanged. */
static void test_json_invalid_utf8(void)
{
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    T_OK(hamf__json_str(&b, "x\xff\xfe.txt", (size_t)-1));
    T_EQ_STR(b.data, "\"x\\ufffd\\ufffd.txt\"");
    hamf__buf_reset(&b);
    T_OK(hamf__json_str(&b, "\x80|\xc0\xaf|\xed\xa0\x80|\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xe2\x82", (size_t)-1));
    T_EQ_STR(b.data, "\"\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\\ufffd\\ufffd\"");
    T_TRUE(hamf__utf8_valid("\xc3\xa9" "abc", 5));
    T_TRUE(!hamf__utf8_valid("ab\xff", 3));
    hamf__buf_free(&b);
}

static void test_fmt_roundtrip(void)
{
    char s[32];
    hamf__fmt_double(s, 0.1);
    T_EQ_STR(s, "0.1");
    hamf__fmt_double(s, 1.0 / 3.0);
    T_EQ_DBL(strtod(s, NULL), 1.0 / 3.0, 0);
    hamf__fmt_double(s, 1e-7);
    T_EQ_STR(s, "1e-07");
    hamf__fmt_double(s, 90);
    T_EQ_STR(s, "90");
    hamf__fmt_double(s, 99.83);
    T_EQ_STR(s, "99.83");
    hamf__fmt_double(s, 0.0001);
    T_EQ_STR(s, "0.0001");
    hamf__fmt_double(s, 1795480087129.0);
    T_EQ_STR(s, "1795480087129");
    hamf__fmt_double(s, 1e16);
    T_EQ_STR(s, "1e+16");
    hamf__fmt_double(s, -2.5e-5);
    T_EQ_STR(s, "-2.5e-05");
    srand(42);
    for (int i = 0; i < 10000; i++) {
        double v = (double)rand() / RAND_MAX * pow(10, rand() % 40 - 20);
        hamf__fmt_double(s, v);
        if (strtod(s, NULL) != v) T_FAILF("no round trip for %.17g: %s", v, s);
    }
}

static void test_parse_strict(void)
{
    int64_t i;
    double d;
    T_TRUE(hamf__parse_i64("-42", 3, &i) && i == -42);
    T_TRUE(!hamf__parse_i64("42x", 3, &i));
    T_TRUE(!hamf__parse_i64("", 0, &i));
    T_TRUE(!hamf__parse_i64("99999999999999999999", 20, &i));
    T_TRUE(hamf__parse_double("1.5e3", 5, &d) && d == 1500);
    T_TRUE(!hamf__parse_double(" 1", 2, &d));
}

static void test_alloc_fail_hook(void)
{
    hamf__alloc_fail_after(1);
    void *a = hamf__malloc(8);
    void *b = hamf__malloc(8);
    hamf__alloc_fail_after(-1);
    T_TRUE(a != NULL);
    T_TRUE(b == NULL);
    hamf__free(a);
}

int main(void)
{
    T_RUN(test_error_message);
    T_RUN(test_buf_limit);
    T_RUN(test_json_escape);
    T_RUN(test_json_invalid_utf8);
    T_RUN(test_fmt_roundtrip);
    T_RUN(test_parse_strict);
    T_RUN(test_alloc_fail_hook);
    return T_DONE();
}
