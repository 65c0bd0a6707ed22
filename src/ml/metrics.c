/*
 * metrics.c — binary classification metrics from probabilities: accuracy
 * (percent, as the HAMF workflow logs it), precision, recall, F1, ROC AUC
 * (Mann-Whitney with tied scores sharing ranks), log loss and the confusion
 * matrix. A row is predicted positive when its probability is > 0.5 (the
 * argmax rule: ties go to class 0). Definitions follow scikit-learn: an
 * undefined precision/recall/F1 is 0, and log loss clips probabilities to
 * [eps, 1-eps] with eps = 2^-52 (scikit-learn's "auto").
 */
#include "ml.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

struct ranked { double p; double y; };
static int cmp_ranked(const void *a, const void *b)
{
    double x = ((const struct ranked *)a)->p, y = ((const struct ranked *)b)->p;
    return (x > y) - (x < y);
}

hamf_status hamf_metrics_compute(const double *y, const double *proba, size_t n, hamf_metrics *out)
{
    if (!out || ((!y || !proba) && n)) return hamf__err(HAMF_ERR_MISUSE, "metrics: NULL argument");
    if (n == 0) return hamf__err(HAMF_ERR_CONSTRAINT, "metrics: no rows to evaluate");
    hamf_metrics m = {0};
    m.n = n;
    double ll = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(y[i] == 0 || y[i] == 1)) return hamf__err(HAMF_ERR_CONSTRAINT, "metrics: label %zu is %g, not 0 or 1", i, y[i]);
        if (isnan(proba[i])) return hamf__err(HAMF_ERR_CONSTRAINT, "metrics: probability %zu is NaN", i);
        int pred = proba[i] > 0.5, truth = y[i] == 1;
        if (pred && truth) m.tp++;
        else if (pred) m.fp++;
        else if (truth) m.fn++;
        else m.tn++;
        double p = proba[i];
        if (p < DBL_EPSILON) p = DBL_EPSILON;
        if (p > 1 - DBL_EPSILON) p = 1 - DBL_EPSILON;
        ll -= truth ? log(p) : log(1 - p);
    }
    m.log_loss = ll / (double)n;
    m.accuracy = 100.0 * (double)(m.tp + m.tn) / (double)n;
    m.precision = m.tp + m.fp ? (double)m.tp / (double)(m.tp + m.fp) : 0;
    m.recall = m.tp + m.fn ? (double)m.tp / (double)(m.tp + m.fn) : 0;
    m.f1_score = 2 * m.tp + m.fp + m.fn ? 2.0 * (double)m.tp / (double)(2 * m.tp + m.fp + m.fn) : 0;
    int64_t npos = m.tp + m.fn, nneg = m.tn + m.fp;
    if (npos == 0 || nneg == 0) {
        m.roc_auc = NAN;
    } else {
        struct ranked *r = hamf__malloc(n * sizeof *r);
        if (!r) return hamf__err(HAMF_ERR_NOMEM, "metrics: out of memory");
        for (size_t i = 0; i < n; i++) { r[i].p = proba[i]; r[i].y = y[i]; }
        qsort(r, n, sizeof *r, cmp_ranked);
        double rank_sum = 0;
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && r[j].p == r[i].p) j++;
            double avg = ((double)i + 1 + (double)j) / 2; /* ranks i+1..j */
            for (size_t k = i; k < j; k++)
                if (r[k].y == 1) rank_sum += avg;
            i = j;
        }
        hamf__free(r);
        m.roc_auc = (rank_sum - (double)npos * ((double)npos + 1) / 2) / ((double)npos * (double)nneg);
    }
    *out = m;
    return HAMF_OK;
}
