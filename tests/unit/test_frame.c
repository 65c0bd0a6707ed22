/* test_frame.c — the columnar frame: adding, finding, reading and dropping
 * columns, nulls, dictionary encoding and length checks. */
#include "t.h"
#include "data/frame.h"

#include <math.h>

static void test_add_get(void)
{
    hamf_frame *f;
    T_OK(hamf_frame_new(&f));
    int64_t iv[3] = {1, -2, 3};
    uint8_t valid[3] = {1, 0, 1};
    double dv[3] = {0.5, 1.5, 2.5};
    T_OK(hamf_frame_add_i64(f, "a", iv, valid, 3));
    T_OK(hamf_frame_add_f64(f, "b", dv, NULL, 3));
    const char *s[3] = {"x", NULL, "x"};
    T_OK(hamf_frame_add_strings(f, "c", s, 3));
    T_EQ_INT(hamf_frame_nrows(f), 3);
    T_EQ_INT(hamf_frame_ncols(f), 3);
    size_t col;
    T_OK(hamf_frame_find(f, "b", &col));
    T_EQ_INT(col, 1);
    T_STATUS(hamf_frame_find(f, "B", &col), HAMF_ERR_NOTFOUND);
    double out[3];
    T_OK(hamf_frame_get_f64(f, 0, out));
    T_EQ_DBL(out[0], 1, 0);
    T_TRUE(isnan(out[1]));
    T_EQ_DBL(out[2], 3, 0);
    T_STATUS(hamf_frame_get_f64(f, 2, out), HAMF_ERR_SCHEMA);
    const int32_t *codes = hamf_frame_codes(f, 2);
    T_TRUE(codes != NULL);
    T_EQ_INT(codes[0], codes[2]);
    T_EQ_INT(codes[1], -1);
    T_EQ_INT(hamf_frame_dict_size(f, 2), 1);
    T_EQ_STR(hamf_frame_dict_value(f, 2, (size_t)codes[0]), "x");
    T_TRUE(hamf_frame_codes(f, 0) == NULL);
    T_EQ_INT(hamf_frame_col_type(f, 2), HAMF_DTYPE_STRING);
    /* wrong length, duplicate name */
    T_STATUS(hamf_frame_add_f64(f, "d", dv, NULL, 2), HAMF_ERR_SCHEMA);
    T_STATUS(hamf_frame_add_f64(f, "a", dv, NULL, 3), HAMF_ERR_EXISTS);
    T_OK(hamf_frame_drop(f, "a"));
    T_EQ_INT(hamf_frame_ncols(f), 2);
    T_EQ_STR(hamf_frame_col_name(f, 0), "b");
    T_STATUS(hamf_frame_drop(f, "zz"), HAMF_ERR_NOTFOUND);
    hamf_frame_free(f);
    hamf_frame_free(NULL);
}

static void test_dict_many(void)
{
    struct hamf__dict *d;
    T_OK(hamf__dict_new(&d));
    char buf[32];
    for (int i = 0; i < 5000; i++) {
        int32_t c;
        snprintf(buf, sizeof buf, "v%d", i % 1000);
        T_OK(hamf__dict_intern(d, buf, strlen(buf), &c));
        T_EQ_INT(c, i % 1000);
    }
    T_EQ_INT(d->n, 1000);
    hamf__dict_free(d);
}

static void test_oom(void)
{
    /* every allocation failing in turn gives NOMEM and leaks nothing (ASan) */
    for (int64_t n = 0; n < 40; n++) {
        hamf_frame *f = NULL;
        hamf__alloc_fail_after(n);
        hamf_status st = hamf_frame_new(&f);
        const char *s[2] = {"a", "b"};
        double d[2] = {1, 2};
        if (!st) st = hamf_frame_add_strings(f, "s", s, 2);
        if (!st) st = hamf_frame_add_f64(f, "d", d, NULL, 2);
        hamf__alloc_fail_after(-1);
        T_TRUE(st == HAMF_OK || st == HAMF_ERR_NOMEM);
        hamf_frame_free(f);
    }
}

int main(void)
{
    T_RUN(test_add_get);
    T_RUN(test_dict_many);
    T_RUN(test_oom);
    return T_DONE();
}
