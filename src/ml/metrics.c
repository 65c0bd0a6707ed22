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
#include <string.h>

/* A probability as an order-preserving 64-bit key (sign bit flipped for
 * positives, all bits for negatives) and its label. */
struct ranked { uint64_t k; double y; };

static uint64_t key_of(double p)
{
    uint64_t u;
    memcpy(&u, &p, sizeof u);
    return u >> 63 ? ~u : u | 0x8000000000000000ull;
}

static double p_of(uint64_t k)
{
    uint64_t u = k >> 63 ? k & ~0x8000000000000000ull : ~k;
    double p;
    memcpy(&p, &u, sizeof p);
    return p;
}

/* Sorts r[0..n) by key: an LSD radix sort skipping the byte passes where
 * every key has the same byte (qsort took some 20 ms on 200k test rows).
 * Only the order of unequal probabilities matters below (ties share a
 * rank), so any correct sort gives the same AUC to the last bit. */
static hamf_status sort_ranked(struct ranked **r, size_t n)
{
    struct ranked *a = *r, *b = hamf__malloc((n + 1) * sizeof *b);
    if (!b) return hamf__err(HAMF_ERR_NOMEM, "metrics: out of memory");
    for (int shift = 0; shift < 64; shift += 8) {
        size_t cnt[256] = {0};
        for (size_t i = 0; i < n; i++) cnt[(a[i].k >> shift) & 255]++;
        if (cnt[(a[0].k >> shift) & 255] == n) continue;
        size_t pos = 0;
        for (int d = 0; d < 256; d++) {
            size_t c = cnt[d];
            cnt[d] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++) b[cnt[(a[i].k >> shift) & 255]++] = a[i];
        struct ranked *t = a;
        a = b;
        b = t;
    }
    hamf__free(b);
    *r = a;
    return HAMF_OK;
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
        for (size_t i = 0; i < n; i++) { r[i].k = key_of(proba[i]); r[i].y = y[i]; }
        hamf_status st = sort_ranked(&r, n);
        if (st) { hamf__free(r); return st; }
        double rank_sum = 0;
        for (size_t i = 0; i < n;) {
            size_t j = i;
            double pi = p_of(r[i].k);
            while (j < n && p_of(r[j].k) == pi) j++;
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
