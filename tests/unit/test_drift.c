/*
 * test_drift.c — PSI against a model's bins (src/ml/drift.c): zero for the
 * training data itself, the textbook value for a categorical share shift,
 * large for a shifted numeric feature, live metrics when labels are given,
 * and a schema error when the recorded counts do not match the model.
 * The serving window (hamf serve) gives the same PSI as a report on the
 * same rows, and forgets rows that slid out.
 */
#include "t.h"

#include "hamf.h"
#include "track/loop.h"
#include "util/util.h"

#include <stdlib.h>

#define N 1000

/* x = i (shifted by `shift`), c = "a" for the first `na` rows else "b",
 * label = x < 500 (of the unshifted x). */
static hamf_dataset *make(double shift, int na, bool labels)
{
    hamf_dataset *d = NULL;
    double x[N], y[N];
    int32_t c[N];
    const char *dict[] = {"a", "b"};
    for (int i = 0; i < N; i++) {
        x[i] = i + shift;
        y[i] = i < 500;
        c[i] = i < na ? 0 : 1;
    }
    if (hamf_dataset_new(N, &d) || hamf_dataset_add_numeric(d, "x", x) ||
        hamf_dataset_add_categorical(d, "c", c, 2, dict) || (labels && hamf_dataset_set_label(d, "y", y))) {
        hamf_dataset_free(d);
        return NULL;
    }
    return d;
}

static double psi_of(const struct hamf__drift_report *r, const char *name)
{
    for (size_t i = 0; i < r->nf; i++)
        if (!strcmp(r->f[i].name, name)) return r->f[i].psi;
    return NAN;
}

static void test_psi(void)
{
    hamf_dataset *tr = make(0, 700, true), *same = make(0, 700, false), *cat = make(0, 300, true),
                 *num = make(500, 700, false);
    T_TRUE(tr && same && cat && num);
    hamf_train_params p;
    hamf_train_params_init(&p, HAMF_ALGO_GRADIENT_BOOSTING);
    p.n_estimators = 5;
    p.threads = 1;
    hamf_ensemble *m = NULL;
    T_OK(hamf_ensemble_fit(tr, &p, &m));
    char *bins = NULL;
    T_OK(hamf__drift_train_bins(m, tr, &bins));
    struct hamf__drift_report r = {0};
    T_OK(hamf__drift_compute(m, bins, same, &r));
    T_EQ_INT(r.nf, 2);
    T_EQ_DBL(psi_of(&r, "x"), 0, 1e-12);
    T_EQ_DBL(psi_of(&r, "c"), 0, 1e-12);
    T_TRUE(!r.has_labels);
    hamf__drift_report_free(&r);

    /* shares 0.7/0.3 -> 0.3/0.7: 0.8 * ln(7/3) = 0.678 (smoothing moves it a little) */
    T_OK(hamf__drift_compute(m, bins, cat, &r));
    T_EQ_DBL(psi_of(&r, "c"), 0.8 * log(7.0 / 3.0), 0.01);
    T_EQ_DBL(psi_of(&r, "x"), 0, 1e-12);
    T_TRUE(r.has_labels && r.metrics.n == N && r.metrics.accuracy > 90);
    hamf__drift_report_free(&r);

    /* half the rows beyond the training range: far above 0.25 */
    T_OK(hamf__drift_compute(m, bins, num, &r));
    T_TRUE(psi_of(&r, "x") > 1.0);
    T_EQ_DBL(psi_of(&r, "c"), 0, 1e-12);
    hamf__drift_report_free(&r);

    T_STATUS(hamf__drift_compute(m, "{\"x\":[1,2],\"c\":[1,2,3]}", same, &r), HAMF_ERR_SCHEMA);
    hamf__free(bins);
    hamf_ensemble_free(m);
    hamf_dataset_free(tr);
    hamf_dataset_free(same);
    hamf_dataset_free(cat);
    hamf_dataset_free(num);
}

/* Rows of make(shift, na) row-major over m's features, as hamf serve passes them. */
static void rows_for(const hamf_ensemble *m, double shift, int na, double *v, const char **cats)
{
    size_t nf = hamf_ensemble_nfeatures(m);
    for (int i = 0; i < N; i++)
        for (size_t f = 0; f < nf; f++) {
            bool is_x = !strcmp(hamf_ensemble_feature_name(m, f), "x");
            v[(size_t)i * nf + f] = is_x ? i + shift : 0;
            cats[(size_t)i * nf + f] = is_x ? NULL : i < na ? "a" : "b";
        }
}

static void test_window(void)
{
    hamf_dataset *tr = make(0, 700, true), *num = make(500, 300, false);
    T_TRUE(tr && num);
    hamf_train_params p;
    hamf_train_params_init(&p, HAMF_ALGO_GRADIENT_BOOSTING);
    p.n_estimators = 5;
    p.threads = 1;
    hamf_ensemble *m = NULL;
    T_OK(hamf_ensemble_fit(tr, &p, &m));
    T_EQ_INT(hamf_ensemble_nfeatures(m), 2);
    char *bins = NULL;
    T_OK(hamf__drift_train_bins(m, tr, &bins));
    struct hamf__drift_report r = {0};
    T_OK(hamf__drift_compute(m, bins, num, &r));
    struct hamf__drift_window *w = NULL;
    T_STATUS(hamf__drift_window_new(m, "{\"x\":[1]}", N, &w), HAMF_ERR_SCHEMA);
    T_OK(hamf__drift_window_new(m, bins, N, &w));
    T_EQ_INT(hamf__drift_window_rows(w), 0);
    double *v = malloc(2 * N * sizeof *v), psi[2];
    const char **cats = malloc(2 * N * sizeof *cats);
    T_TRUE(v && cats);
    /* training-like rows: 0; then the shifted rows fill the window in two
     * requests and give exactly the report's PSI */
    rows_for(m, 0, 700, v, cats);
    hamf__drift_window_add(w, N, v, cats);
    hamf__drift_window_psi(w, psi);
    T_EQ_DBL(psi[0], 0, 1e-12);
    T_EQ_DBL(psi[1], 0, 1e-12);
    rows_for(m, 500, 300, v, cats);
    hamf__drift_window_add(w, N / 2, v, cats);
    hamf__drift_window_add(w, N / 2, v + N / 2 * 2, cats + N / 2 * 2);
    T_EQ_INT(hamf__drift_window_rows(w), N);
    hamf__drift_window_psi(w, psi);
    for (size_t f = 0; f < 2; f++) T_EQ_DBL(psi[f], psi_of(&r, hamf_ensemble_feature_name(m, f)), 1e-12);
    T_TRUE(psi[0] > 0.25 && psi[1] > 0.25);
    /* a batch bigger than the window keeps its last N rows: training-like again */
    double *v2 = malloc(4 * N * sizeof *v2);
    const char **c2 = malloc(4 * N * sizeof *c2);
    T_TRUE(v2 && c2);
    rows_for(m, 500, 300, v2, c2);
    rows_for(m, 0, 700, v2 + 2 * N, c2 + 2 * N);
    hamf__drift_window_add(w, 2 * N, v2, c2);
    hamf__drift_window_psi(w, psi);
    T_EQ_DBL(psi[0], 0, 1e-12);
    T_EQ_DBL(psi[1], 0, 1e-12);
    free(v2);
    free(c2);
    free(v);
    free(cats);
    hamf__drift_window_free(w);
    hamf__drift_report_free(&r);
    hamf__free(bins);
    hamf_ensemble_free(m);
    hamf_dataset_free(tr);
    hamf_dataset_free(num);
}

int main(void)
{
    T_RUN(test_psi);
    T_RUN(test_window);
    return T_DONE();
}
