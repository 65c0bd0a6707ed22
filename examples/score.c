/*
 * score.c — embedding hamf's scorer: open a model file, score every row of a
 * CSV as one batch and again row by row, print one probability per line.
 *
 *   cc -Iinclude examples/score.c build/libhamf.a $(pkg-config --libs hamf) -o score
 *   score MODEL.hamf DATA.csv
 *
 * The CSV must hold the model's feature columns (by name, any order; extra
 * columns are ignored). Exit status 1 if anything fails or if a single-row
 * score differs from the batch score of the same row.
 */
#include "hamf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define TRY(e) do { if ((e) != HAMF_OK) { fprintf(stderr, "score: %s\n", hamf_last_error()); goto done; } } while (0)

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: score MODEL.hamf DATA.csv\n");
        return 2;
    }
    int rc = 1;
    hamf_predictor *p = NULL;
    hamf_frame *f = NULL;
    double *values = NULL, *col = NULL, *batch = NULL;
    const char **cats = NULL;
    TRY(hamf_predictor_open(argv[1], &p));
    TRY(hamf_csv_read(argv[2], NULL, &f));
    size_t nf = hamf_predictor_nfeatures(p), n = hamf_frame_nrows(f);
    /* row-major inputs in the model's feature order */
    values = calloc(n * nf + 1, sizeof *values);
    cats = calloc(n * nf + 1, sizeof *cats);
    col = calloc(n + 1, sizeof *col);
    batch = calloc(n + 1, sizeof *batch);
    if (!values || !cats || !col || !batch) { fprintf(stderr, "score: out of memory\n"); goto done; }
    for (size_t j = 0; j < nf; j++) {
        size_t c;
        TRY(hamf_frame_find(f, hamf_predictor_feature_name(p, j), &c));
        if (hamf_frame_col_type(f, c) == HAMF_DTYPE_STRING) {
            const int32_t *codes = hamf_frame_codes(f, c);
            for (size_t i = 0; i < n; i++)
                cats[i * nf + j] = codes[i] < 0 ? NULL : hamf_frame_dict_value(f, c, (size_t)codes[i]);
        } else {
            TRY(hamf_frame_get_f64(f, c, col));
            for (size_t i = 0; i < n; i++) values[i * nf + j] = col[i];
        }
    }
    TRY(hamf_predictor_score_batch(p, n, values, cats, batch));
    for (size_t i = 0; i < n; i++) {
        double q;
        TRY(hamf_predictor_score_row(p, values + i * nf, cats + i * nf, &q));
        if (q != batch[i]) {
            fprintf(stderr, "score: row %zu: single-row %.17g != batch %.17g\n", i + 1, q, batch[i]);
            goto done;
        }
        printf("%.17g\n", q);
    }
    rc = 0;
done:
    free(values);
    free(cats);
    free(col);
    free(batch);
    hamf_frame_free(f);
    hamf_predictor_close(p);
    return rc;
}
