/* fuzz_csv_diff.c — differential libFuzzer target for the vectorised CSV
 * scanner: the same bytes read with the scalar path (the reference), SSE2
 * and AVX2 (where the CPU has them) must give the same status, the same
 * error message and the same frame (names, types, every value's bits and
 * null flag, string bytes). The number code is checked on the way: the
 * Eisel-Lemire parser against glibc's strtod on the input as text, and the
 * fast shortest formatter against its exact reference on the first 8
 * bytes as a double. The first byte picks reader options as in fuzz_csv.
 * hamf_csv_transform with no steps (every column passed through as its
 * text, see csv.h) must write what the reference frame writes, at every
 * level (files in /dev/shm, blocks of 4 KiB when mode bit 4 is set).
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
#include <unistd.h>

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

static char *slurp(const char *path)
{
    char *t = NULL;
    size_t n = 0;
    return hamf_file_read(path, &t, &n) == HAMF_OK ? t : NULL;
}

/* The transform's output against the reference frame's, written. */
static void check_transform(const uint8_t *data, size_t size, hamf_csv_options *o, const hamf_frame *ref, int best)
{
    if (!ref || ref->ncols == 0) return;
    char in[64], out[64], want[64];
    snprintf(in, sizeof in, "/dev/shm/hamf-fuzz-csv_diff-%d-in.csv", (int)getpid());
    snprintf(out, sizeof out, "/dev/shm/hamf-fuzz-csv_diff-%d-out.csv", (int)getpid());
    snprintf(want, sizeof want, "/dev/shm/hamf-fuzz-csv_diff-%d-want.csv", (int)getpid());
    FILE *fp = fopen(in, "wb");
    if (!fp) return;
    fwrite(data, 1, size, fp);
    fclose(fp);
    if (hamf_csv_write(ref, want) != HAMF_OK) abort();
    char *w = slurp(want);
    hamf_pipeline *p = NULL;
    if (!w || hamf_pipeline_parse("", "fuzz", &p) != HAMF_OK) abort();
    for (int level = 0; level <= best; level++) {
        hamf__csv_set_simd(level);
        if (hamf_csv_transform(in, o, p, out, NULL) != HAMF_OK) abort();
        char *got = slurp(out);
        if (!got || strcmp(got, w) != 0) abort();
        hamf_free(got);
    }
    hamf_pipeline_free(p);
    hamf_free(w);
    unlink(in);
    unlink(out);
    unlink(want);
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
    if (!rst) {
        if (mode & 16) o.block_bytes = 4096;
        check_transform(data, size, &o, ref, best);
    }
    hamf_frame_free(ref);
    hamf__csv_set_simd(best);
    return 0;
}
