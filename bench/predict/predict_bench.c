/*
 * predict_bench.c — scoring speed of a saved hamf model on a CSV, through the
 * public API only (built by `make` as build/bench/predict_bench):
 *   - load: hamf_predictor_open of MODEL, median of 7 (file bytes / second;
 *     also the first of the 7, which pays for fresh memory pages)
 *   - batch: hamf_ensemble_predict over every row with THREADS threads, the
 *     median of 3 runs (CSV reading excluded; binning included)
 *   - single row: hamf_predictor_score_row latency, median and p99 over up to
 *     20000 rows (values already parsed), after one warm-up pass
 * Every single-row score must equal the batch score (exit 1 otherwise).
 * Prints one JSON object.
 *   predict_bench MODEL TEST.csv [THREADS]
 */
#include "hamf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    struct stat sb;
    if (stat(argv[1], &sb) != 0) { perror(argv[1]); return 1; }
    double loads[7];
    for (int r = 0; r < 7; r++) {
        hamf_predictor *q;
        double t = now();
        CHECK(hamf_predictor_open(argv[1], &q));
        loads[r] = now() - t;
        hamf_predictor_close(q);
    }
    const double first = loads[0];
    qsort(loads, 7, sizeof *loads, cmp_d);
    hamf_predictor *pr;
    hamf_frame *f;
    hamf_dataset *d;
    CHECK(hamf_predictor_open(argv[1], &pr));
    const hamf_ensemble *m = hamf_predictor_ensemble(pr);
    CHECK(hamf_csv_read(argv[2], NULL, &f));
    CHECK(hamf_dataset_from_frame(f, NULL, &d));
    size_t n = hamf_dataset_nrows(d);
    double *p = malloc(n * sizeof *p), bt[3];
    for (int r = 0; r < 3; r++) {
        double t = now();
        CHECK(hamf_ensemble_predict(m, d, threads, p));
        bt[r] = now() - t;
    }
    qsort(bt, 3, sizeof *bt, cmp_d);
    /* single rows: values in model feature order */
    size_t nf = hamf_predictor_nfeatures(pr), nrow = n < 20000 ? n : 20000;
    double *vals = calloc(nrow * nf, sizeof *vals);
    const char **cats = calloc(nrow * nf, sizeof *cats);
    double *col = malloc(n * sizeof *col);
    for (size_t j = 0; j < nf; j++) {
        size_t c;
        CHECK(hamf_frame_find(f, hamf_predictor_feature_name(pr, j), &c));
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
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < nrow; i++) {
            double q, t = now();
            CHECK(hamf_predictor_score_row(pr, vals + i * nf, cats + i * nf, &q));
            lat[i] = now() - t;
            if (fabs(q - p[i]) > maxdiff) maxdiff = fabs(q - p[i]);
        }
    qsort(lat, nrow, sizeof *lat, cmp_d);
    printf("{\"rows\":%zu,\"trees\":%zu,\"file_bytes\":%lld,\"load_seconds\":%.6f,\"load_bytes_per_s\":%.0f,"
           "\"load_first_seconds\":%.6f,"
           "\"predict_seconds\":%.6f,\"predict_rows_per_s\":%.0f,"
           "\"single_row_us_median\":%.3f,\"single_row_us_p99\":%.3f,\"row_vs_batch_maxdiff\":%.3g}\n",
           n, hamf_ensemble_ntrees(m), (long long)sb.st_size, loads[3], (double)sb.st_size / loads[3], first, bt[1],
           (double)n / bt[1], lat[nrow / 2] * 1e6, lat[nrow * 99 / 100] * 1e6, maxdiff);
    free(lat); free(vals); free(cats); free(col); free(p);
    hamf_dataset_free(d);
    hamf_frame_free(f);
    hamf_predictor_close(pr);
    return maxdiff == 0 ? 0 : 1;
}
