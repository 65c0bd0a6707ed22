/*
 * forest.c — Random Forest on binned features.
 *
 * Each tree draws a bootstrap sample (n draws with replacement, kept as
 * per-row weights), then grows depth-first without a depth limit by default,
 * choosing per node among a fresh random subset of max(1, floor(sqrt(F)))
 * features (like scikit-learn, constant features do not count towards that
 * number). The split criterion is the weighted variance reduction of the
 * 0/1 label, which is proportional to the Gini decrease for two classes;
 * leaves hold the weighted fraction of positives and the forest averages
 * them. Trees are built in parallel, each from its own seeded stream, so
 * the forest is the same for any thread count. Out-of-bag accuracy is
 * computed from the rows each tree did not draw.
 */
#include "ml.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define OOB_CHUNK 16384

struct rf_ctx {
    const struct hamf__train_data *td;
    const hamf_train_params *p;
    struct hamf__learn_params lp;
    const float *y;
    struct hamf_ensemble *m;
    struct hamf__rf_scratch **scr;
    float **w;
    uint32_t **idx, **oidx;    /* per thread: in-bag and out-of-bag rows */
    _Atomic int64_t *oob_sum;  /* per row: sum of OOB tree outputs * 2^40 */
    _Atomic int32_t *oob_cnt;  /* per row: number of trees it was OOB for */
    hamf_status *status;       /* per tree */
    _Atomic size_t done;
    /* oob */
    const double *yd;
    int64_t *chunk_correct, *chunk_count;
};

static void task_tree(void *vctx, size_t t, int tid)
{
    struct rf_ctx *c = vctx;
    const size_t n = c->td->n;
    struct hamf__rng rng;
    hamf__rng_seed(&rng, c->p->seed, 1000003u + t);
    float *w = c->w[tid];
    uint32_t *idx = c->idx[tid], *oidx = c->oidx[tid];
    size_t m = 0, mo = 0;
    if (c->p->bootstrap) {
        memset(w, 0, n * sizeof *w);
        for (size_t k = 0; k < n; k++) w[hamf__rng_below(&rng, n)] += 1;
        for (size_t i = 0; i < n; i++) {
            if (w[i] > 0) idx[m++] = (uint32_t)i;
            else oidx[mo++] = (uint32_t)i;
        }
    } else {
        for (size_t i = 0; i < n; i++) { w[i] = 1; idx[m++] = (uint32_t)i; }
    }
    c->status[t] = hamf__rf_grow(c->td, c->scr[tid], &c->lp, idx, m, w, c->y, oidx, mo, c->oob_sum, c->oob_cnt,
                                 &rng, &c->m->trees[t]);
    size_t d = atomic_fetch_add(&c->done, 1) + 1;
    if (tid == 0 && c->p->progress) c->p->progress(c->p->progress_ctx, d, (size_t)c->p->n_estimators);
}

static void task_oob(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct rf_ctx *c = vctx;
    const size_t n = c->td->n;
    size_t i0 = task * OOB_CHUNK, i1 = i0 + OOB_CHUNK < n ? i0 + OOB_CHUNK : n;
    int64_t correct = 0, count = 0;
    for (size_t i = i0; i < i1; i++) {
        int64_t k = atomic_load(&c->oob_cnt[i]);
        if (!k) continue;
        count++;
        /* mean > 0.5 <=> 2 * sum > k * 2^40, exactly */
        int pred = 2 * (__int128)atomic_load(&c->oob_sum[i]) > (__int128)k * 1099511627776LL;
        correct += pred == (c->yd[i] > 0.5);
    }
    c->chunk_correct[task] = correct;
    c->chunk_count[task] = count;
}

hamf_status hamf__forest_fit(const struct hamf_dataset *d, const hamf_train_params *p, struct hamf_ensemble *m)
{
    hamf_status st = HAMF_OK;
    struct hamf__pool *pool = NULL;
    const uint8_t *codes = NULL;
    uint8_t *own_codes = NULL, *rowsmaj = NULL;
    int *nbins = NULL;
    bool *is_cat = NULL;
    float *y = NULL;
    const size_t n = d->n, T = (size_t)p->n_estimators;
    struct rf_ctx c = {0};
    int nth = 0;

    if ((st = hamf__pool_new(p->threads, &pool))) goto cleanup;
    nth = hamf__pool_size(pool);
    if ((st = hamf__binmap_build(d, p->max_bins, pool, &m->bins))) goto cleanup;
    if ((st = hamf__binmap_codes(&m->bins, d, pool, &codes, &own_codes))) goto cleanup;
    const size_t nf = m->bins.nf;
    if ((st = hamf__codes_transpose(codes, n, nf, &rowsmaj))) goto cleanup;
    nbins = hamf__calloc(nf + 1, sizeof *nbins);
    is_cat = hamf__calloc(nf + 1, sizeof *is_cat);
    y = hamf__malloc((n + 1) * sizeof *y);
    c.scr = hamf__calloc((size_t)nth, sizeof *c.scr);
    c.w = hamf__calloc((size_t)nth, sizeof *c.w);
    c.idx = hamf__calloc((size_t)nth, sizeof *c.idx);
    c.oidx = hamf__calloc((size_t)nth, sizeof *c.oidx);
    c.oob_sum = hamf__calloc(n + 1, sizeof *c.oob_sum);
    c.oob_cnt = hamf__calloc(n + 1, sizeof *c.oob_cnt);
    c.status = hamf__calloc(T, sizeof *c.status);
    m->trees = hamf__calloc(T, sizeof *m->trees);
    if (!nbins || !is_cat || !y || !c.scr || !c.w || !c.idx || !c.oidx || !c.oob_sum || !c.oob_cnt || !c.status || !m->trees) {
        st = hamf__err(HAMF_ERR_NOMEM, "forest: out of memory");
        goto cleanup;
    }
    m->cap_trees = T;
    for (size_t f = 0; f < nf; f++) { nbins[f] = m->bins.f[f].nbins; is_cat[f] = m->bins.f[f].is_cat; }
    double pos = 0;
    for (size_t i = 0; i < n; i++) { y[i] = (float)d->y[i]; pos += d->y[i]; }
    if (pos <= 0 || pos >= (double)n) {
        st = hamf__err(HAMF_ERR_CONSTRAINT, "forest: the target has a single class in the training rows");
        goto cleanup;
    }
    for (int t = 0; t < nth; t++) {
        if ((st = hamf__rf_scratch_new(n, &c.scr[t]))) goto cleanup;
        c.w[t] = hamf__malloc((n + 1) * sizeof(float));
        c.idx[t] = hamf__malloc((n + 1) * sizeof(uint32_t));
        c.oidx[t] = hamf__malloc((n + 1) * sizeof(uint32_t));
        if (!c.w[t] || !c.idx[t] || !c.oidx[t]) { st = hamf__err(HAMF_ERR_NOMEM, "forest: out of memory"); goto cleanup; }
    }
    int mtry;
    if (p->max_features > 0 && p->max_features <= 1) mtry = (int)((double)nf * p->max_features);
    else mtry = (int)sqrt((double)nf);
    if (mtry < 1) mtry = 1;
    struct hamf__train_data td = {n, nf, codes, rowsmaj, nbins, is_cat};
    c.td = &td;
    c.p = p;
    c.y = y;
    c.m = m;
    c.lp = (struct hamf__learn_params){
        .max_depth = p->max_depth, .max_leaves = 0,
        .min_hess = p->min_samples_leaf > 0 ? p->min_samples_leaf : 1,
        .l2 = 0, .min_gain = 1e-12, .scale = 1, .mtry = mtry, .newton = false,
    };
    atomic_store(&c.done, 0);
    hamf__pool_run(pool, T, task_tree, &c);
    m->n_trees = T;
    for (size_t t = 0; t < T; t++)
        if (c.status[t]) { st = hamf__err(c.status[t], "forest: tree %zu could not be grown (out of memory)", t); goto cleanup; }
    if (p->progress) p->progress(p->progress_ctx, T, T);
    /* out-of-bag accuracy */
    m->oob_accuracy = NAN;
    if (p->bootstrap) {
        size_t nch = (n + OOB_CHUNK - 1) / OOB_CHUNK;
        c.chunk_correct = hamf__calloc(nch, sizeof(int64_t));
        c.chunk_count = hamf__calloc(nch, sizeof(int64_t));
        c.yd = d->y;
        if (!c.chunk_correct || !c.chunk_count) { st = hamf__err(HAMF_ERR_NOMEM, "forest: out of memory"); goto cleanup; }
        hamf__pool_run(pool, nch, task_oob, &c);
        int64_t corr = 0, cnt = 0;
        for (size_t k = 0; k < nch; k++) { corr += c.chunk_correct[k]; cnt += c.chunk_count[k]; }
        if (cnt) m->oob_accuracy = 100.0 * (double)corr / (double)cnt;
    }
cleanup:
    if (c.scr)
        for (int t = 0; t < nth; t++) {
            hamf__rf_scratch_free(c.scr[t]);
            hamf__free(c.w[t]);
            hamf__free(c.idx[t]);
            hamf__free(c.oidx[t]);
        }
    hamf__free(c.oidx);
    hamf__free(c.oob_sum);
    hamf__free(c.oob_cnt);
    hamf__free(c.scr);
    hamf__free(c.w);
    hamf__free(c.idx);
    hamf__free(c.status);
    hamf__free(c.chunk_correct);
    hamf__free(c.chunk_count);
    hamf__pool_free(pool);
    hamf__free(own_codes);
    hamf__free(rowsmaj);
    hamf__free(nbins);
    hamf__free(is_cat);
    hamf__free(y);
    return st;
}
