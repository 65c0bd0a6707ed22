/*
 * predict_bench.c — scoring speed of a saved hamf model on a CSV, through the
 * public API only: batch hamf_ensemble_predict rows/s (best of 3, CSV read
 * excluded) and single-row hamf_ensemble_predict_row latency (median and
 * p99 over up to 20000 rows, values already parsed). Prints one JSON object.
 *   cc -O2 -Iinclude bench/learn/predict_bench.c build/libhamf.a -lsqlite3 -lpq -lpthread -lm
 *   predict_bench MODEL TEST.csv [THREADS]
 */
#include "hamf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define CHECK(e) do { hamf_status _s = (e); if (_s) { fprintf(stderr, "%s: %s\n", #e, hamf_last_error()); return 1; } } while (0)

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: predict_bench MODEL TEST.csv [THREADS]\n"); return 2; }
    int threads = argc > 3 ? atoi(argv[3]) : 0;
    hamf_ensemble *m;
    hamf_frame *f;
    hamf_dataset *d;
    CHECK(hamf_ensemble_load(argv[1], &m));
    CHECK(hamf_csv_read(argv[2], NULL, &f));
    CHECK(hamf_dataset_from_frame(f, NULL, &d));
    size_t n = hamf_dataset_nrows(d);
    double *p = malloc(n * sizeof *p);
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        double t = now();
        CHECK(hamf_ensemble_predict(m, d, threads, p));
        t = now() - t;
        if (t < best) best = t;
    }
    /* single rows: values in model feature order */
    size_t nf = hamf_ensemble_nfeatures(m), nrow = n < 20000 ? n : 20000;
    double *vals = calloc(nrow * nf, sizeof *vals);
    const char **cats = calloc(nrow * nf, sizeof *cats);
    double *col = malloc(n * sizeof *col);
    for (size_t j = 0; j < nf; j++) {
        size_t c;
        CHECK(hamf_frame_find(f, hamf_ensemble_feature_name(m, j), &c));
        if (hamf_frame_col_type(f, c) == HAMF_DTYPE_STRING) {
            const int32_t *codes = hamf_frame_codes(f, c);
            for (size_t i = 0; i < nrow; i++)
                cats[i * nf + j] = codes[i] < 0 ? NULL : hamf_frame_dict_value(f, c, (size_t)codes[i]);
        } else {
            CHECK(hamf_frame_get_f64(f, c, col));
            for (size_t i = 0; i < nrow; i++) vals[i * nf + j] = col[i];
        }
    }
    double *lat = malloc(nrow * sizeof *lat), maxdiff = 0;
    for (size_t i = 0; i < nrow; i++) {
        double q, t = now();
        CHECK(hamf_ensemble_predict_row(m, vals + i * nf, cats + i * nf, &q));
        lat[i] = now() - t;
        if (fabs(q - p[i]) > maxdiff) maxdiff = fabs(q - p[i]);
    }
    qsort(lat, nrow, sizeof *lat, cmp_d);
    printf("{\"rows\":%zu,\"trees\":%zu,\"predict_seconds\":%.6f,\"predict_rows_per_s\":%.0f,"
           "\"single_row_us_median\":%.3f,\"single_row_us_p99\":%.3f,\"row_vs_batch_maxdiff\":%.3g}\n",
           n, hamf_ensemble_ntrees(m), best, (double)n / best, lat[nrow / 2] * 1e6, lat[nrow * 99 / 100] * 1e6, maxdiff);
    free(lat); free(vals); free(cats); free(col); free(p);
    hamf_dataset_free(d);
    hamf_frame_free(f);
    hamf_ensemble_free(m);
    return maxdiff == 0 ? 0 : 1;
}
