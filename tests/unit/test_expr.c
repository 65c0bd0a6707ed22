/* test_expr.c — Spark SQL expressions and pipelines. Runs every case in
 * the tests/expr/ .test files (expression / CSV header / CSV row / expected, see
 * tests/expr/README), then checks what data files cannot: the nesting limit,
 * canonical pipeline text, column order of withColumn/drop/select,
 * column-at-a-time evaluation over many rows, and out-of-memory paths. */
#include "t.h"
#include "data/pipeline.h"
#include "data/csv.h"
#include "data/expr.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

static int file_fail;

static void value_text(const hamf_frame *f, size_t k, size_t row, char *out, size_t n)
{
    const struct hamf__col *c = &f->cols[k];
    const char *tn = hamf__dtype_name(c->type);
    if (c->type == HAMF_DTYPE_STRING) {
        int32_t code = ((const int32_t *)c->data)[row];
        if (code < 0) snprintf(out, n, "%s NULL", tn);
        else snprintf(out, n, "%s %s", tn, c->dict->str[code]);
        return;
    }
    if (c->valid && !c->valid[row]) {
        snprintf(out, n, "%s NULL", tn);
        return;
    }
    char num[32];
    switch (c->type) {
    case HAMF_DTYPE_INT64: snprintf(out, n, "%s %lld", tn, (long long)((const int64_t *)c->data)[row]); break;
    case HAMF_DTYPE_DOUBLE:
        hamf__csv_fmt_double(num, ((const double *)c->data)[row]);
        snprintf(out, n, "%s %s", tn, num);
        break;
    case HAMF_DTYPE_BOOL: snprintf(out, n, "%s %s", tn, ((const uint8_t *)c->data)[row] ? "true" : "false"); break;
    default: break;
    }
}

/* One case; returns false (and prints why) on mismatch. */
static bool run_case(const char *file, int line, const char *expr, const char *header, const char *row,
                     const char *want)
{
    char names[1024] = "", schema[1024] = "", csv[4096];
    size_t nl = 0, sl = 0;
    /* split "a:int64,b" into names and a schema option */
    char *h = strdup(header);
    for (char *tok = strtok(h, ","); tok; tok = strtok(NULL, ",")) {
        char *colon = strrchr(tok, ':');
        if (colon && (strcmp(colon + 1, "int64") == 0 || strcmp(colon + 1, "double") == 0 ||
                      strcmp(colon + 1, "string") == 0 || strcmp(colon + 1, "bool") == 0)) {
            *colon = '\0';
            sl += (size_t)snprintf(schema + sl, sizeof schema - sl, "%s%s:%s", sl ? "," : "", tok, colon + 1);
        }
        nl += (size_t)snprintf(names + nl, sizeof names - nl, "%s%s", nl ? "," : "", tok);
    }
    free(h);
    snprintf(csv, sizeof csv, "%s\n%s\n", names, row);
    hamf_csv_options o;
    hamf_csv_options_init(&o);
    o.schema = sl ? schema : NULL;
    hamf_frame *f = NULL;
    hamf_pipeline *p = NULL;
    char spec[4096], got[1024];
    snprintf(spec, sizeof spec, "with __result = %s", expr);
    hamf_status st = hamf_csv_read_mem(csv, strlen(csv), file, &o, &f);
    if (st) {
        fprintf(stderr, "  %s:%d: bad test input: %s\n", file, line, hamf_last_error());
        return false;
    }
    st = hamf_pipeline_parse(spec, file, &p);
    if (!st) st = hamf_pipeline_apply(p, f);
    bool ok;
    if (st) {
        snprintf(got, sizeof got, "error %s", hamf_last_error());
        ok = strncmp(want, "error ", 6) == 0 && strstr(hamf_last_error(), want + 6) != NULL;
    } else {
        size_t k = hamf_frame_ncols(f) - 1;
        value_text(f, k, 0, got, sizeof got);
        ok = strcmp(got, want) == 0 && hamf_frame_nrows(f) == 1;
    }
    if (!ok) fprintf(stderr, "  %s:%d: %s\n    want: %s\n    got:  %s\n", file, line, expr, want, got);
    hamf_pipeline_free(p);
    hamf_frame_free(f);
    return ok;
}

static int run_file(const char *path, const char *name)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return -1;
    char *lines[4];
    int lineno = 0, have = 0, start = 0, cases = 0;
    char buf[4096];
    while (fgets(buf, sizeof buf, fp)) {
        lineno++;
        buf[strcspn(buf, "\n")] = '\0';
        if (buf[0] == '#') continue;
        if (buf[0] == '\0' && have == 0) continue;
        if (have == 0) start = lineno;
        lines[have++] = strdup(buf);
        if (have == 4) {
            if (strncmp(lines[3], "=> ", 3) != 0) {
                fprintf(stderr, "  %s:%d: expected '=> ...'\n", name, lineno);
                file_fail++;
            } else if (!run_case(name, start, lines[0], lines[1], lines[2], lines[3] + 3)) {
                file_fail++;
            }
            cases++;
            for (int i = 0; i < 4; i++) free(lines[i]);
            have = 0;
        }
    }
    for (int i = 0; i < have; i++) free(lines[i]);
    fclose(fp);
    return cases;
}

static void test_data_files(void)
{
    const char *root = getenv("HAMF_ROOT");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/expr", root ? root : ".");
    DIR *d = opendir(dir);
    if (!d) T_FAILF("cannot open %s (set HAMF_ROOT)", dir);
    struct dirent *e;
    int files = 0, cases = 0;
    file_fail = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".test") != 0) continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int c = run_file(path, e->d_name);
        if (c > 0) cases += c;
        files++;
    }
    closedir(d);
    printf("  %d cases in %d files, %d failed\n", cases, files, file_fail);
    T_TRUE(files >= 4 && cases >= 100);
    T_EQ_INT(file_fail, 0);
}

static void test_depth_limit(void)
{
    /* deep nesting is an error, not a stack overflow */
    size_t n = 100000;
    char *s = malloc(2 * n + 2);
    memset(s, '(', n);
    s[n] = '1';
    memset(s + n + 1, ')', n);
    s[2 * n + 1] = '\0';
    struct hamf__expr_prog *p = NULL;
    T_STATUS(hamf__expr_parse(s, &p), HAMF_ERR_CONSTRAINT); /* longer than the limit */
    memset(s, '-', 5000);
    strcpy(s + 5000, "1");
    T_STATUS(hamf__expr_parse(s, &p), HAMF_ERR_PARSE);
    T_TRUE(strstr(hamf_last_error(), "nested too deeply") != NULL);
    for (int i = 0; i < 5000; i++) memcpy(s + 2 * i, "(", 1), s[2 * i + 1] = ' ';
    strcpy(s + 10000, "1");
    T_STATUS(hamf__expr_parse(s, &p), HAMF_ERR_PARSE);
    free(s);
    /* moderate nesting is fine */
    T_OK(hamf__expr_parse("((((((((((1))))))))))+NOT NOT NOT true", &p) == HAMF_OK ? HAMF_OK : HAMF_ERR_PARSE);
    hamf__expr_prog_free(p);
}

static void test_caret(void)
{
    struct hamf__expr_prog *p = NULL;
    T_STATUS(hamf__expr_parse("a + * b", &p), HAMF_ERR_PARSE);
    T_EQ_STR(hamf_last_error(), "expr: expected a value, found '*' at column 5\n  a + * b\n      ^");
}

/* the file's text of f (written with hamf_csv_write), into buf */
static void frame_text(const hamf_frame *f, char *buf, size_t n)
{
    char path[] = "/tmp/hamf-expr-XXXXXX";
    int fd = mkstemp(path);
    T_TRUE(fd >= 0);
    close(fd);
    T_OK(hamf_csv_write(f, path));
    FILE *fp = fopen(path, "rb");
    T_TRUE(fp != NULL);
    size_t k = fread(buf, 1, n - 1, fp);
    buf[k] = '\0';
    fclose(fp);
    unlink(path);
}

/* a compiled pipeline (parsed once, bound per frame) = hamf_pipeline_apply,
 * frame after frame of other column types, and after a failed frame */
static void test_pipeline_compiled(void)
{
    hamf_pipeline *p;
    T_OK(hamf_pipeline_parse("with d = a + b\nwith e = CASE WHEN c = 'x' THEN a ELSE b / 2 END\n"
                             "with g = COALESCE(a, b, 0) * 2\nwith h = a = 1\ndrop b\n",
                             "spec", &p));
    struct hamf__pipeline_exec *x;
    T_OK(hamf__pipeline_compile(p, &x));
    static const char *const inputs[] = {
        "a,b,c\n1,2,x\n3,4,y\n",          "a,b,c\n1.5,2,x\n,4.25,y\n", "a,b,c\n1,2.5,x\n3,,\n",
        "a,c\n1,x\n",                      /* no b: both fail the same way */
        "a,b,c\n7,8,true\n9,10,false\n", "b,a,c\n1,2,x\n3,4,y\n",
    };
    for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
        hamf_frame *f1, *f2;
        T_OK(hamf_csv_read_mem(inputs[k], strlen(inputs[k]), "t", NULL, &f1));
        T_OK(hamf_csv_read_mem(inputs[k], strlen(inputs[k]), "t", NULL, &f2));
        hamf_status s1 = hamf_pipeline_apply(p, f1);
        char e1[512], t1[4096], t2[4096];
        snprintf(e1, sizeof e1, "%s", s1 ? hamf_last_error() : "");
        hamf_status s2 = hamf__pipeline_run(p, x, f2);
        T_EQ_INT(s1, s2);
        if (s1) {
            T_EQ_STR(hamf_last_error(), e1);
        } else {
            frame_text(f1, t1, sizeof t1);
            frame_text(f2, t2, sizeof t2);
            T_EQ_STR(t2, t1);
        }
        hamf_frame_free(f1);
        hamf_frame_free(f2);
    }
    hamf__pipeline_exec_free(x);
    hamf_pipeline_free(p);
}

static void test_pipeline_order_and_text(void)
{
    const char *csv = "a,b,c\n1,2,x\n3,4,y\n";
    hamf_frame *f;
    T_OK(hamf_csv_read_mem(csv, strlen(csv), "t", NULL, &f));
    hamf_pipeline *p;
    T_OK(hamf_pipeline_parse("# comment\n  with d = a + b   # sum\nwith a = a * 10\n\ndrop b\nwith `odd#name` = '#'\n"
                             "select c, d, a, `odd#name`\n",
                             "spec", &p));
    T_EQ_STR(hamf_pipeline_text(p),
             "with d = a + b\nwith a = a * 10\ndrop b\nwith `odd#name` = '#'\nselect c, d, a, `odd#name`\n");
    /* canonical text parses back to the same text */
    hamf_pipeline *p2;
    T_OK(hamf_pipeline_parse(hamf_pipeline_text(p), "again", &p2));
    T_EQ_STR(hamf_pipeline_text(p2), hamf_pipeline_text(p));
    hamf_pipeline_free(p2);
    T_OK(hamf_pipeline_apply(p, f));
    T_EQ_INT(hamf_frame_ncols(f), 4);
    T_EQ_STR(hamf_frame_col_name(f, 0), "c");
    T_EQ_STR(hamf_frame_col_name(f, 1), "d");
    T_EQ_STR(hamf_frame_col_name(f, 2), "a");
    T_EQ_STR(hamf_frame_col_name(f, 3), "odd#name");
    double v[2];
    T_OK(hamf_frame_get_f64(f, 2, v));
    T_EQ_DBL(v[1], 30, 0);
    T_OK(hamf_frame_get_f64(f, 1, v));
    T_EQ_DBL(v[1], 7, 0);
    /* the same pipeline on a frame without b fails cleanly, naming the step */
    hamf_frame *g;
    T_OK(hamf_csv_read_mem("a,c\n1,x\n", 8, "t", NULL, &g));
    T_STATUS(hamf_pipeline_apply(p, g), HAMF_ERR_NOTFOUND);
    T_TRUE(strstr(hamf_last_error(), "spec:2: with d") != NULL);
    hamf_frame_free(g);
    hamf_pipeline_free(p);
    hamf_frame_free(f);
    T_STATUS(hamf_pipeline_parse("with x == 1", "s", &p), HAMF_ERR_PARSE);
    T_STATUS(hamf_pipeline_parse("frobnicate x", "s", &p), HAMF_ERR_PARSE);
    T_TRUE(strstr(hamf_last_error(), "s:1:") != NULL);
    T_STATUS(hamf_pipeline_parse("drop a,,b", "s", &p), HAMF_ERR_PARSE);
    T_STATUS(hamf_pipeline_parse("\n\nwith x = (1", "s", &p), HAMF_ERR_PARSE);
    T_TRUE(strstr(hamf_last_error(), "s:3: with x") != NULL);
}

/* Column-at-a-time evaluation over many rows agrees with a scalar loop. */
static void test_many_rows(void)
{
    size_t n = 50000;
    hamf_frame *f;
    T_OK(hamf_frame_new(&f));
    int64_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    uint8_t *va = malloc(n);
    const char **s = malloc(n * sizeof *s);
    for (size_t i = 0; i < n; i++) {
        a[i] = (int64_t)(i % 97) - 10;
        b[i] = (int64_t)(i % 13);
        va[i] = i % 11 != 0;
        s[i] = i % 7 == 0 ? NULL : (i % 3 ? "yes" : "no");
    }
    T_OK(hamf_frame_add_i64(f, "a", a, va, n));
    T_OK(hamf_frame_add_i64(f, "b", b, NULL, n));
    T_OK(hamf_frame_add_strings(f, "s", s, n));
    hamf_pipeline *p;
    T_OK(hamf_pipeline_parse("with r = a / b\nwith e = CASE WHEN s = 'yes' THEN 1 ELSE 0 END\n"
                             "with m = IF(a > b, a, b) + 0.5",
                             "t", &p));
    T_OK(hamf_pipeline_apply(p, f));
    double *r = malloc(n * sizeof *r), *e = malloc(n * sizeof *e), *m = malloc(n * sizeof *m);
    T_OK(hamf_frame_get_f64(f, 3, r));
    T_OK(hamf_frame_get_f64(f, 4, e));
    T_OK(hamf_frame_get_f64(f, 5, m));
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double want_r = (!va[i] || b[i] == 0) ? NAN : (double)a[i] / (double)b[i];
        double want_e = s[i] && !strcmp(s[i], "yes") ? 1 : 0;
        double want_m = !va[i] ? (double)b[i] + 0.5 : (double)(a[i] > b[i] ? a[i] : b[i]) + 0.5;
        if (isnan(want_r) != isnan(r[i]) || (!isnan(want_r) && want_r != r[i])) bad++;
        if (want_e != e[i] || want_m != m[i]) bad++;
    }
    T_EQ_INT(bad, 0);
    free(a), free(b), free(va), free(s), free(r), free(e), free(m);
    hamf_pipeline_free(p);
    hamf_frame_free(f);
}

static void test_oom(void)
{
    const char *csv = "a,s\n1,x\n,y\n";
    const char *spec = "with b = CASE WHEN s = 'x' THEN upper(s) ELSE 'z' END\nwith c = coalesce(a, 2) / 3\n"
                       "with d = a IN (1, 2)\nselect d, c, b";
    for (int64_t k = 0; k < 300; k++) {
        hamf_frame *f = NULL;
        hamf_pipeline *p = NULL;
        hamf__alloc_fail_after(k);
        hamf_status st = hamf_csv_read_mem(csv, strlen(csv), "t", NULL, &f);
        if (!st) st = hamf_pipeline_parse(spec, "t", &p);
        if (!st) st = hamf_pipeline_apply(p, f);
        hamf__alloc_fail_after(-1);
        T_TRUE(st == HAMF_OK || st == HAMF_ERR_NOMEM);
        hamf_pipeline_free(p);
        hamf_frame_free(f);
    }
}

int main(void)
{
    T_RUN(test_data_files);
    T_RUN(test_depth_limit);
    T_RUN(test_caret);
    T_RUN(test_pipeline_order_and_text);
    T_RUN(test_pipeline_compiled);
    T_RUN(test_many_rows);
    T_RUN(test_oom);
    return T_DONE();
}
