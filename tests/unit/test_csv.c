/* test_csv.c — the CSV reader and writer: RFC 4180 quoting, CRLF, BOM,
 * nulls, type inference like Spark's inferSchema, schema overrides, every
 * malformed-input error with its line:column, multithreaded parsing agreeing
 * with single-threaded, and write/read round trips. */
#include "t.h"
#include "data/csv.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

static hamf_status rd(const char *s, hamf_frame **f)
{
    return hamf_csv_read_mem(s, strlen(s), "t.csv", NULL, f);
}

static void test_basic_types(void)
{
    hamf_frame *f;
    T_OK(rd("\xef\xbb\xbf" "a,b,c,d,e\r\n1,2.5,true,x,\r\n-3,4,FALSE,\"y,z\",7\r\n", &f));
    T_EQ_INT(hamf_frame_ncols(f), 5);
    T_EQ_INT(hamf_frame_nrows(f), 2);
    T_EQ_STR(hamf_frame_col_name(f, 0), "a");
    T_EQ_INT(hamf_frame_col_type(f, 0), HAMF_DTYPE_INT64);
    T_EQ_INT(hamf_frame_col_type(f, 1), HAMF_DTYPE_DOUBLE);
    T_EQ_INT(hamf_frame_col_type(f, 2), HAMF_DTYPE_BOOL);
    T_EQ_INT(hamf_frame_col_type(f, 3), HAMF_DTYPE_STRING);
    T_EQ_INT(hamf_frame_col_type(f, 4), HAMF_DTYPE_INT64);
    double v[2];
    T_OK(hamf_frame_get_f64(f, 1, v));
    T_EQ_DBL(v[0], 2.5, 0);
    T_EQ_DBL(v[1], 4, 0);
    T_OK(hamf_frame_get_f64(f, 4, v));
    T_TRUE(isnan(v[0]));
    T_EQ_DBL(v[1], 7, 0);
    T_OK(hamf_frame_get_f64(f, 2, v));
    T_EQ_DBL(v[0], 1, 0);
    T_EQ_DBL(v[1], 0, 0);
    const int32_t *c = hamf_frame_codes(f, 3);
    T_EQ_STR(hamf_frame_dict_value(f, 3, (size_t)c[1]), "y,z");
    hamf_frame_free(f);
}

static void test_quotes_newlines(void)
{
    hamf_frame *f;
    T_OK(rd("name,n\n\"he said \"\"hi\"\"\n2nd line\",1\n\"\",2\nplain,3", &f));
    T_EQ_INT(hamf_frame_nrows(f), 3);
    const int32_t *c = hamf_frame_codes(f, 0);
    T_EQ_STR(hamf_frame_dict_value(f, 0, (size_t)c[0]), "he said \"hi\"\n2nd line");
    T_EQ_INT(c[1], -1);
    T_EQ_STR(hamf_frame_dict_value(f, 0, (size_t)c[2]), "plain");
    hamf_frame_free(f);
}

static void test_inference_merge(void)
{
    hamf_frame *f;
    /* int+double -> double, bool+int -> string, all null -> string, big -> double */
    T_OK(rd("a,b,c,d\n1,true,,9223372036854775807\n2.5,1,,99999999999999999999\n", &f));
    T_EQ_INT(hamf_frame_col_type(f, 0), HAMF_DTYPE_DOUBLE);
    T_EQ_INT(hamf_frame_col_type(f, 1), HAMF_DTYPE_STRING);
    T_EQ_INT(hamf_frame_col_type(f, 2), HAMF_DTYPE_STRING);
    T_EQ_INT(hamf_frame_col_type(f, 3), HAMF_DTYPE_DOUBLE);
    hamf_frame_free(f);
}

static void test_null_values_and_schema(void)
{
    hamf_csv_options o;
    hamf_csv_options_init(&o);
    o.null_values = "NA,null";
    o.schema = "b:string,a:double";
    const char *s = "a,b\nNA,1\n2,null\n3,\"NA\"\n";
    hamf_frame *f;
    T_OK(hamf_csv_read_mem(s, strlen(s), "t.csv", &o, &f));
    T_EQ_INT(hamf_frame_col_type(f, 0), HAMF_DTYPE_DOUBLE);
    T_EQ_INT(hamf_frame_col_type(f, 1), HAMF_DTYPE_STRING);
    double v[3];
    T_OK(hamf_frame_get_f64(f, 0, v));
    T_TRUE(isnan(v[0]));
    const int32_t *c = hamf_frame_codes(f, 1);
    T_EQ_INT(c[1], -1);
    T_EQ_STR(hamf_frame_dict_value(f, 1, (size_t)c[2]), "NA"); /* quoted: a value */
    hamf_frame_free(f);
    o.schema = "a:int64";
    T_STATUS(hamf_csv_read_mem("a\n1\nx\n", 6, "t.csv", &o, &f), HAMF_ERR_PARSE);
    T_TRUE(strstr(hamf_last_error(), "t.csv:3:1") != NULL);
    o.schema = "zz:int64";
    T_STATUS(hamf_csv_read_mem("a\n1\n", 4, "t.csv", &o, &f), HAMF_ERR_NOTFOUND);
    o.schema = "a:decimal";
    T_STATUS(hamf_csv_read_mem("a\n1\n", 4, "t.csv", &o, &f), HAMF_ERR_PARSE);
}

static void expect_err(const char *s, const char *where)
{
    hamf_frame *f = NULL;
    hamf_status st = rd(s, &f);
    if (st != HAMF_ERR_PARSE) {
        fprintf(stderr, "  input %s: status %d\n", s, st);
        t_failed_now = 1;
    } else if (!strstr(hamf_last_error(), where)) {
        fprintf(stderr, "  input %s: message '%s' lacks '%s'\n", s, hamf_last_error(), where);
        t_failed_now = 1;
    }
    hamf_frame_free(f);
}

static void test_errors(void)
{
    expect_err("a,b\n1,2\n3\n", "t.csv:3:2: too few fields");
    expect_err("a,b\n1,2\n3,4,5\n", "t.csv:3:5: too many fields");
    expect_err("a,b\n1,\"2\n", "t.csv:2:3: unterminated quoted field");
    expect_err("a,b\n1,2\xff\n", "t.csv:2:4: invalid UTF-8");
    expect_err("a,b\n1,\"x\xc3\x28\"\n", "t.csv:2:5: invalid UTF-8");
    expect_err("a,b\n1,x\"y\n", "t.csv:2:4: unexpected '\"'");
    expect_err("a,b\n1,\"x\"y\n", "t.csv:2:6: expected ','");
    expect_err("a,b\r\n1,2\r\n3\r\n", "t.csv:3:2: too few");
}

static void test_empty_and_header_only(void)
{
    hamf_frame *f;
    T_OK(rd("", &f));
    T_EQ_INT(hamf_frame_ncols(f), 0);
    T_EQ_INT(hamf_frame_nrows(f), 0);
    hamf_frame_free(f);
    T_OK(rd("a,b\n", &f));
    T_EQ_INT(hamf_frame_ncols(f), 2);
    T_EQ_INT(hamf_frame_nrows(f), 0);
    hamf_frame_free(f);
    T_OK(rd("a,,a\n1,2,3\n\n", &f)); /* blank line skipped; Spark's header renaming */
    T_EQ_INT(hamf_frame_nrows(f), 1);
    T_EQ_STR(hamf_frame_col_name(f, 0), "a0");
    T_EQ_STR(hamf_frame_col_name(f, 1), "_c1");
    T_EQ_STR(hamf_frame_col_name(f, 2), "a2");
    hamf_frame_free(f);
}

/* A big input parsed with 1 and 4 threads gives identical frames, and the
 * streaming reader with small blocks agrees too. */
static void test_threads_agree(void)
{
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf__buf_puts(&b, "i,d,s,q\n");
    unsigned x = 12345;
    for (int r = 0; r < 120000; r++) {
        x = x * 1103515245u + 12345u;
        hamf__buf_printf(&b, "%d,%u.%u,reg%u,\"q\n%u\"\"\"\n", r, x % 1000, x % 7, x % 37, x % 5);
    }
    hamf_csv_options o;
    hamf_csv_options_init(&o);
    hamf_frame *f1, *f4;
    o.threads = 1;
    T_OK(hamf_csv_read_mem(b.data, b.len, "big", &o, &f1));
    o.threads = 4;
    T_OK(hamf_csv_read_mem(b.data, b.len, "big", &o, &f4));
    T_EQ_INT(hamf_frame_nrows(f1), 120000);
    T_EQ_INT(hamf_frame_nrows(f4), 120000);
    for (size_t k = 0; k < 2; k++) {
        double *a = malloc(120000 * sizeof *a), *c = malloc(120000 * sizeof *c);
        hamf_frame_get_f64(f1, k, a);
        hamf_frame_get_f64(f4, k, c);
        int same = memcmp(a, c, 120000 * sizeof *a) == 0;
        free(a);
        free(c);
        T_TRUE(same);
    }
    for (size_t k = 2; k < 4; k++) {
        const int32_t *c1 = hamf_frame_codes(f1, k), *c4 = hamf_frame_codes(f4, k);
        for (size_t r = 0; r < 120000; r++)
            if (strcmp(hamf_frame_dict_value(f1, k, (size_t)c1[r]), hamf_frame_dict_value(f4, k, (size_t)c4[r])))
                T_FAILF("row %zu col %zu differs", r, k);
    }
    /* write, then stream back in small blocks */
    char path[] = "/tmp/hamf-test-csv-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    T_OK(hamf_csv_write(f4, path));
    hamf_frame *f2;
    T_OK(hamf_csv_read(path, &o, &f2));
    T_EQ_INT(hamf_frame_nrows(f2), 120000);
    T_EQ_INT(hamf_frame_col_type(f2, 1), HAMF_DTYPE_DOUBLE);
    const int32_t *c2 = hamf_frame_codes(f2, 3), *c1 = hamf_frame_codes(f1, 3);
    T_EQ_STR(hamf_frame_dict_value(f2, 3, (size_t)c2[7]), hamf_frame_dict_value(f1, 3, (size_t)c1[7]));
    unlink(path);
    hamf_frame_free(f1);
    hamf_frame_free(f4);
    hamf_frame_free(f2);
    hamf__buf_free(&b);
}

static size_t stream_rows;
static hamf_status count_block(hamf_frame *f, void *u)
{
    (void)u;
    stream_rows += hamf_frame_nrows(f);
    hamf_frame_free(f);
    return HAMF_OK;
}

static void test_stream_blocks(void)
{
    char path[] = "/tmp/hamf-test-csv-XXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fdopen(fd, "w");
    fprintf(fp, "a,s\n");
    for (int i = 0; i < 5000; i++) fprintf(fp, "%d,\"multi\nline %d\"\n", i, i);
    fclose(fp);
    stream_rows = 0;
    T_OK(hamf__csv_stream(path, NULL, 4096, count_block, NULL));
    T_EQ_INT(stream_rows, 5000);
    /* an error deep in the file has the right line number */
    fp = fopen(path, "a");
    fprintf(fp, "1,2,3\n");
    fclose(fp);
    T_STATUS(hamf__csv_stream(path, NULL, 4096, count_block, NULL), HAMF_ERR_PARSE);
    char want[64];
    snprintf(want, sizeof want, ":%d:5: too many fields", 2 + 2 * 5000);
    T_TRUE(strstr(hamf_last_error(), want) != NULL);
    unlink(path);
}

static void test_fmt_double(void)
{
    char b[32];
    double vals[] = {0.1, 1.0, 123456.0, 0.123456, 1e-7, 1e300, -2.5, 0.40350877192982454, 5e-324, 1.0 / 3};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        hamf__csv_fmt_double(b, vals[i]);
        T_TRUE(strtod(b, NULL) == vals[i]);
        T_TRUE(strpbrk(b, ".e") != NULL);
    }
    hamf__csv_fmt_double(b, 0.1);
    T_EQ_STR(b, "0.1");
    hamf__csv_fmt_double(b, 3.0);
    T_EQ_STR(b, "3.0");
    hamf__csv_fmt_double(b, 0.123456);
    T_EQ_STR(b, "0.123456");
    hamf__csv_fmt_double(b, NAN);
    T_EQ_STR(b, "NaN");
}

/* The printf-free shortest form agrees with the slow reference (shortest
 * %.Ng that strtod reads back) on many random doubles of every magnitude. */
static void test_fmt_double_random(void)
{
    uint64_t x = 88172645463325252ull;
    int bad = 0;
    for (int i = 0; i < 200000 && bad < 5; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        if (i % 3 == 0) {
            uint64_t bits = x & 0x7fffffffffffffffull; /* any finite bit pattern */
            memcpy(&v, &bits, sizeof v);
            if (!isfinite(v)) continue;
        } else if (i % 3 == 1) {
            v = (double)(x % 100000) / (double)(1 + (x >> 20) % 1000); /* ratios like pathlength/urllength */
        } else {
            v = (double)(x % 10000000) / 1000000.0; /* like alexa_rank / 1e6 */
        }
        char got[32], ref[40];
        hamf__csv_fmt_double(got, v);
        int n = 0;
        for (int prec = 1; prec <= 17; prec++) {
            n = snprintf(ref, sizeof ref, "%.*g", prec, v);
            if (strtod(ref, NULL) == v) break;
        }
        /* same value, same number of significant digits */
        const char *g = got;
        int sig_got = 0, sig_ref = 0, lead = 1;
        for (; *g && *g != 'e'; g++) {
            if (*g >= '1' && *g <= '9') lead = 0;
            if (*g >= '0' && *g <= '9' && !lead) sig_got++;
        }
        lead = 1;
        for (const char *r = ref; *r && *r != 'e'; r++) {
            if (*r >= '1' && *r <= '9') lead = 0;
            if (*r >= '0' && *r <= '9' && !lead) sig_ref++;
        }
        /* trailing zeros of integers ("120.0") are not significant */
        const char *dot = strchr(got, '.');
        if (dot && !strchr(got, 'e')) {
            const char *e = got + strlen(got) - 1;
            while (e > dot && *e == '0') e--, sig_got--;
            if (e == dot) {
                for (const char *q = dot - 1; q >= got && *q == '0'; q--) sig_got--;
            }
        }
        if (strtod(got, NULL) != v || (v != 0 && sig_got > sig_ref)) {
            fprintf(stderr, "  %.17g: got %s, reference %s\n", v, got, ref);
            bad++;
        }
        (void)n;
    }
    T_EQ_INT(bad, 0);
}

static void test_oom(void)
{
    const char *s = "a,b,c\n1,x,2.5\n2,\"y\"\"\",\n";
    for (int64_t n = 0; n < 60; n++) {
        hamf_frame *f = NULL;
        hamf__alloc_fail_after(n);
        hamf_status st = rd(s, &f);
        hamf__alloc_fail_after(-1);
        T_TRUE(st == HAMF_OK || st == HAMF_ERR_NOMEM);
        hamf_frame_free(f);
    }
}

/* ---- hamf_csv_transform's pass-through -------------------------------- */

static char *slurp(const char *path)
{
    char *t = NULL;
    size_t n = 0;
    return hamf_file_read(path, &t, &n) == HAMF_OK ? t : NULL;
}

/* A file of odd spellings for the columns a transform passes through as
 * text: each must come out as the writer formats the value read. */
static void write_odd(const char *path, char delim, const char *eol, bool nulls, int rows)
{
    static const char *ints[] = {"5", "+5", "007", "-0", "-007", "", "\"3\"", "0", "-12", "+0", "00", "\"-0\"",
                                 "12345678901234567", "-9223372036854775808", "9223372036854775807", "+007", "\"\""};
    static const char *strs[] = {"plain", "\"quoted\"", "\"a,b\"", "\"say \"\"hi\"\"\"", "\"\"", "", "\"two\nlines\"",
                                 "\xc3\xbcn\xc3\xaf", "NA", "\"cr\r\nlf\"", "\"NA\"", "x y", "\"\xc3\xbc,\""};
    static const char *bools[] = {"true", "false", "TRUE", "\"true\"", "", "False", "\"false\""};
    static const char *dbls[] = {"5", "5.0", "1e3", "0.1", "-0.0", "", "\"2.50\"", "+1.5"};
    FILE *fp = fopen(path, "w");
    fprintf(fp, "i%cs%cz%cb%cd%ct%s", delim, delim, delim, delim, delim, eol);
    for (int r = 0; r < rows; r++) {
        const char *iv = ints[r % 17], *sv = strs[(r / 3) % 13];
        if (nulls && r % 11 == 0) iv = "NA";
        if (delim == ';' && r % 5 == 0) sv = "a,b"; /* unquoted, the writer quotes it */
        fprintf(fp, "%s%c%s%cz%c%s%c%s%c%d%s", iv, delim, sv, delim, delim, bools[(r / 7) % 7], delim, dbls[r % 8],
                delim, r - 50, eol);
    }
    fclose(fp);
}

static void test_transform_passthrough(void)
{
    char in[] = "/tmp/hamf-test-csv-XXXXXX", out[] = "/tmp/hamf-test-csv-XXXXXX", ref[] = "/tmp/hamf-test-csv-XXXXXX";
    close(mkstemp(in));
    close(mkstemp(out));
    close(mkstemp(ref));
    static const char *specs[] = {"drop z", "drop z\nwith w = i + 1", "select t, i, s\nwith i = i", ""};
    for (int v = 0; v < 12; v++) {
        char delim = v % 3 == 2 ? ';' : ',';
        const char *eol = v % 3 == 1 ? "\r\n" : "\n";
        bool nulls = v & 4;
        int rows = v < 8 ? 3000 : 150000; /* the last ones: blocks of two ranges */
        write_odd(in, delim, eol, nulls, rows);
        hamf_csv_options o;
        hamf_csv_options_init(&o);
        o.delimiter = delim;
        o.null_values = nulls ? "NA" : NULL;
        o.threads = v < 8 ? 1 : 2;
        o.block_bytes = v < 8 ? 4096 : 0;
        for (size_t sp = 0; sp < sizeof specs / sizeof *specs; sp++) {
            hamf_pipeline *p;
            hamf_frame *f;
            T_OK(hamf_pipeline_parse(specs[sp], "t", &p));
            T_OK(hamf_csv_transform(in, &o, p, out, NULL));
            /* the reference: every value read, the steps, every value formatted */
            T_OK(hamf_csv_read(in, &o, &f));
            T_OK(hamf_pipeline_apply(p, f));
            T_OK(hamf_csv_write(f, ref));
            hamf_frame_free(f);
            hamf_pipeline_free(p);
            char *a = slurp(out), *b = slurp(ref);
            bool same = a && b && strcmp(a, b) == 0;
            if (!same) {
                size_t i = 0;
                while (a && b && a[i] == b[i]) i++;
                fprintf(stderr, "  variant %d spec %zu: differs at byte %zu:\n%.80s\nwant:\n%.80s\n", v, sp, i,
                        a ? a + (i > 40 ? i - 40 : 0) : "", b ? b + (i > 40 ? i - 40 : 0) : "");
            }
            hamf_free(a);
            hamf_free(b);
            T_TRUE(same);
        }
    }
    /* the spellings themselves, as the writer formats them */
    write_odd(in, ',', "\r\n", false, 17);
    T_OK(hamf_csv_transform(in, NULL, NULL, out, NULL));
    hamf_pipeline *p;
    T_OK(hamf_pipeline_parse("select i, s, b", "t", &p));
    T_OK(hamf_csv_transform(in, NULL, p, out, NULL));
    hamf_pipeline_free(p);
    char *got = slurp(out);
    T_EQ_STR(got, "i,s,b\n5,plain,true\n5,plain,true\n7,plain,true\n0,quoted,true\n-7,quoted,true\n,quoted,true\n"
                  "3,\"a,b\",true\n0,\"a,b\",false\n-12,\"a,b\",false\n0,\"say \"\"hi\"\"\",false\n0,\"say \"\"hi\"\"\",false\n"
                  "0,\"say \"\"hi\"\"\",false\n12345678901234567,,false\n-9223372036854775808,,false\n"
                  "9223372036854775807,,true\n7,,true\n,,true\n");
    hamf_free(got);
    unlink(in);
    unlink(out);
    unlink(ref);
}

/* Out of memory anywhere in a transform that passes columns through: a
 * clean error, nothing leaked (ASan), no output file. */
static void test_transform_oom(void)
{
    char in[] = "/tmp/hamf-test-csv-XXXXXX", out[] = "/tmp/hamf-test-csv-XXXXXX";
    close(mkstemp(in));
    close(mkstemp(out));
    write_odd(in, ',', "\n", false, 40);
    hamf_pipeline *p;
    T_OK(hamf_pipeline_parse("drop z\nwith w = i + 1", "t", &p));
    for (int64_t n = 0; n < 400; n++) {
        unlink(out);
        hamf__alloc_fail_after(n);
        hamf_status st = hamf_csv_transform(in, NULL, p, out, NULL);
        hamf__alloc_fail_after(-1);
        T_TRUE(st == HAMF_OK || st == HAMF_ERR_NOMEM);
        T_TRUE(st == HAMF_OK || access(out, F_OK) != 0);
    }
    hamf_pipeline_free(p);
    unlink(in);
    unlink(out);
}

int main(void)
{
    T_RUN(test_basic_types);
    T_RUN(test_quotes_newlines);
    T_RUN(test_inference_merge);
    T_RUN(test_null_values_and_schema);
    T_RUN(test_errors);
    T_RUN(test_empty_and_header_only);
    T_RUN(test_threads_agree);
    T_RUN(test_stream_blocks);
    T_RUN(test_fmt_double);
    T_RUN(test_fmt_double_random);
    T_RUN(test_oom);
    T_RUN(test_transform_passthrough);
    T_RUN(test_transform_oom);
    return T_DONE();
}
