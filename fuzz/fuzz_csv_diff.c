/* fuzz_csv_diff.c — differential libFuzzer target for the vectorised CSV
 * scanner: the same bytes read with the scalar path (the reference), SSE2
 * and AVX2 (where the CPU has them) must give the same status, the same
 * error message and the same frame (names, types, every value's bits and
 * null flag, string bytes). The number code is checked on the way: the
 * Eisel-Lemire parser against glibc's strtod on the input as text, and the
 * fast shortest formatter against its exact reference on the first 8
 * bytes as a double. The first byte picks reader options as in fuzz_csv.
 * Built by `make fuzz`; the corpus in fuzz/corpus/csv_diff is replayed by
 * tests/unit/test_fuzz_replay.c in `make check`. */
#include "hamf.h"
#include "data/csv_int.h"
#include "data/frame.h"
#include "util/num.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_numbers(const uint8_t *data, size_t size)
{
    if (size >= 8) {
        double v;
        memcpy(&v, data, sizeof v);
        char a[32], b[32];
        if (hamf__num_fmt_f64(a, v) != hamf__num_fmt_f64_exact(b, v) || strcmp(a, b) != 0) abort();
    }
    if (size == 0 || size > 80) return;
    char s[96];
    memcpy(s, data, size);
    s[size] = '\0';
    double got;
    if (!hamf__num_parse_f64(s, size, &got)) return;
    char *end;
    double want = strtod(s, &end);
    if (end != s + size) abort(); /* we accepted what strtod does not read whole */
    if (memcmp(&got, &want, sizeof got) != 0) abort();
}

static hamf_status read_at(int level, const uint8_t *data, size_t size, const hamf_csv_options *o, hamf_frame **f,
                           char *msg, size_t msgcap)
{
    hamf__csv_set_simd(level);
    *f = NULL;
    hamf_status st = hamf_csv_read_mem((const char *)data, size, "fuzz.csv", o, f);
    snprintf(msg, msgcap, "%s", st ? hamf_last_error() : "");
    return st;
}

static void same_frames(const hamf_frame *a, const hamf_frame *b)
{
    if (a->ncols != b->ncols || a->nrows != b->nrows) abort();
    for (size_t k = 0; k < a->ncols; k++) {
        const struct hamf__col *x = &a->cols[k], *y = &b->cols[k];
        if (strcmp(x->name, y->name) != 0 || x->type != y->type) abort();
        if (!x->valid != !y->valid) abort();
        if (x->valid && memcmp(x->valid, y->valid, a->nrows) != 0) abort();
        if (x->type == HAMF_DTYPE_STRING) {
            const int32_t *cx = x->data, *cy = y->data;
            for (size_t r = 0; r < a->nrows; r++) {
                if ((cx[r] < 0) != (cy[r] < 0)) abort();
                if (cx[r] < 0) continue;
                size_t nx = x->dict->len[cx[r]], ny = y->dict->len[cy[r]];
                if (nx != ny || memcmp(x->dict->str[cx[r]], y->dict->str[cy[r]], nx) != 0) abort();
            }
        } else if (a->nrows && memcmp(x->data, y->data, a->nrows * hamf__dtype_size(x->type)) != 0) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_numbers(data, size);
    hamf_csv_options o;
    hamf_csv_options_init(&o);
    uint8_t mode = size ? data[0] : 0;
    if (size) {
        data++;
        size--;
    }
    if (mode & 1) o.null_values = "NA,null,NaN";
    if (mode & 2) o.delimiter = ';';
    if (mode & 4) o.schema = "a:int64";
    if (mode & 8) o.schema = "b:string,a:double";
    o.threads = 1 + (mode >> 6);
    int best = hamf__csv_set_simd(2);
    hamf_frame *ref = NULL;
    char refmsg[512], msg[512];
    hamf_status rst = read_at(0, data, size, &o, &ref, refmsg, sizeof refmsg);
    for (int level = 1; level <= best; level++) {
        hamf_frame *f = NULL;
        hamf_status st = read_at(level, data, size, &o, &f, msg, sizeof msg);
        if (st != rst || strcmp(msg, refmsg) != 0) abort();
        if (!st) same_frames(ref, f);
        hamf_frame_free(f);
    }
    hamf_frame_free(ref);
    hamf__csv_set_simd(best);
    return 0;
}
