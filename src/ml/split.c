/*
 * split.c — seeded row splits: shuffle train/test split (optionally
 * stratified by the 0/1 label) and k-fold assignment. The permutation comes
 * from the module's xoshiro RNG (Fisher-Yates), so a seed always gives the
 * same rows on every platform.
 */
#include "ml.h"

#include <math.h>
#include <stdlib.h>

static void shuffle(size_t *v, size_t n, struct hamf__rng *r)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)hamf__rng_below(r, i);
        size_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

void hamf_free_indices(size_t *idx) { hamf__free(idx); }

hamf_status hamf_split_train_test(size_t n, double test_size, uint64_t seed, const double *y, size_t **train,
                                  size_t *ntrain, size_t **test, size_t *ntest)
{
    if (!train || !ntrain || !test || !ntest) return hamf__err(HAMF_ERR_MISUSE, "split: NULL argument");
    if (!(test_size > 0 && test_size < 1))
        return hamf__err(HAMF_ERR_CONSTRAINT, "split: test size must be in (0, 1), got %g", test_size);
    size_t *perm = hamf__malloc((n + 1) * sizeof *perm);
    size_t *tr = hamf__malloc((n + 1) * sizeof *tr), *te = hamf__malloc((n + 1) * sizeof *te);
    if (!perm || !tr || !te) {
        hamf__free(perm); hamf__free(tr); hamf__free(te);
        return hamf__err(HAMF_ERR_NOMEM, "split: out of memory");
    }
    struct hamf__rng r;
    hamf__rng_seed(&r, seed, 0x5370);
    size_t a = 0, b = 0;
    int nclass = y ? 2 : 1;
    for (int cls = 0; cls < nclass; cls++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (!y || (y[i] > 0.5) == (cls == 1)) perm[m++] = i;
        shuffle(perm, m, &r);
        size_t nt = (size_t)ceil(test_size * (double)m);
        if (y) nt = (size_t)floor(test_size * (double)m + 0.5);
        if (nt > m) nt = m;
        for (size_t k = 0; k < nt; k++) perm[k] |= (size_t)1 << 63; /* the top bit marks a test row */
        for (size_t k = 0; k < m; k++) te[a++] = perm[k];
    }
    /* te[0..n) holds every row once; put each mark at its row, then one scan
     * gives both sides in row order (no sort) */
    for (size_t k = 0; k < n; k++) perm[te[k] & ~((size_t)1 << 63)] = te[k];
    a = b = 0;
    for (size_t i = 0; i < n; i++) {
        if (perm[i] >> 63) te[b++] = i;
        else tr[a++] = i;
    }
    hamf__free(perm);
    *train = tr;
    *ntrain = a;
    *test = te;
    *ntest = b;
    return HAMF_OK;
}

hamf_status hamf_split_kfold(size_t n, int k, uint64_t seed, const double *y, int *fold)
{
    if (!fold && n) return hamf__err(HAMF_ERR_MISUSE, "split: NULL argument");
    if (k < 2 || (size_t)k > n) return hamf__err(HAMF_ERR_CONSTRAINT, "split: k must be in 2..%zu, got %d", n, k);
    size_t *perm = hamf__malloc((n + 1) * sizeof *perm);
    if (!perm) return hamf__err(HAMF_ERR_NOMEM, "split: out of memory");
    struct hamf__rng r;
    hamf__rng_seed(&r, seed, 0x4b66);
    int nclass = y ? 2 : 1;
    size_t next = 0; /* continue the round-robin across classes so folds stay balanced */
    for (int cls = 0; cls < nclass; cls++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (!y || (y[i] > 0.5) == (cls == 1)) perm[m++] = i;
        shuffle(perm, m, &r);
        for (size_t j = 0; j < m; j++) fold[perm[j]] = (int)(next++ % (size_t)k);
    }
    hamf__free(perm);
    return HAMF_OK;
}
