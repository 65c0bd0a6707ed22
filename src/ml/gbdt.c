/*
 * gbdt.c — binary logistic gradient boosting on binned features.
 *
 * Start from the base log-odds, then each iteration computes gradients
 * g = p - y and hessians h = p(1-p) (float pairs), grows one tree with the
 * histogram learner (depth-wise by default, leaf-wise with max_leaves) on an
 * optional row subsample and feature subsample, and adds lr * leaf values to
 * the scores. With validation_fraction > 0 a stratified, seeded part of the
 * rows is held out and training stops when its log loss has not improved for
 * n_iter_no_change iterations. The train (and valid) log loss of every
 * iteration is kept as the model's loss history.
 *
 * Every parallel step works on fixed 16k-row chunks with per-chunk outputs
 * summed in chunk order, so results are bit-identical for any thread count.
 */
#include "ml.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 16384

struct gb_ctx {
    size_t n;
    const double *y;
    double *score;
    float *gh;
    const uint32_t *rows;  /* rows to compute (train rows) */
    size_t nrows;
    double *chunk_loss;
    /* tree update */
    const struct hamf__tree *tree;
    const uint8_t *codes;
    const uint32_t *idx, *nbeg, *nend;
    const uint32_t *leaves;
    size_t nleaves;
};

/* log loss of one row from its raw score, stable for large |s| */
static inline double row_loss(double s, double y)
{
    double z = y > 0.5 ? -s : s; /* loss = log(1 + exp(z)) */
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

static void task_grad(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct gb_ctx *c = vctx;
    size_t k0 = task * CHUNK, k1 = k0 + CHUNK < c->nrows ? k0 + CHUNK : c->nrows;
    double loss = 0;
    for (size_t k = k0; k < k1; k++) {
        uint32_t i = c->rows[k];
        float s = (float)c->score[i], y = (float)c->y[i];
        /* p = sigmoid(s); loss = log(1 + exp(-s)) for y = 1, log(1 + exp(s)) for y = 0 */
        float e = expf(-fabsf(s));
        float p = s >= 0 ? 1 / (1 + e) : e / (1 + e);
        float z = y > 0.5f ? -s : s;
        loss += (double)((z > 0 ? z : 0) + logf(1 + e));
        float h = p * (1 - p);
        c->gh[2 * i] = p - y;
        c->gh[2 * i + 1] = h < 1e-16f ? 1e-16f : h;
    }
    c->chunk_loss[task] = loss;
}

static void task_loss(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct gb_ctx *c = vctx;
    size_t k0 = task * CHUNK, k1 = k0 + CHUNK < c->nrows ? k0 + CHUNK : c->nrows;
    double loss = 0;
    for (size_t k = k0; k < k1; k++) {
        uint32_t i = c->rows[k];
        loss += row_loss(c->score[i], c->y[i]);
    }
    c->chunk_loss[task] = loss;
}

static void task_leaf_update(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct gb_ctx *c = vctx;
    uint32_t node = c->leaves[task];
    double v = c->tree->nodes[node].value;
    for (uint32_t k = c->nbeg[node]; k < c->nend[node]; k++) c->score[c->idx[k]] += v;
}

static void task_traverse_update(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct gb_ctx *c = vctx;
    size_t k0 = task * CHUNK, k1 = k0 + CHUNK < c->nrows ? k0 + CHUNK : c->nrows;
    for (size_t k = k0; k < k1; k++) {
        uint32_t i = c->rows[k];
        c->score[i] += hamf__tree_leaf(c->tree, c->codes, c->n, i)->value;
    }
}

static double sum_chunks(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i];
    return s;
}

static hamf_status push_history(struct hamf_ensemble *m, size_t *cap, double tl, double vl)
{
    if (m->n_iter == *cap) {
        size_t nc = *cap ? *cap * 2 : 128;
        double *a = hamf__realloc(m->train_loss, nc * sizeof *a);
        if (!a) return hamf__err(HAMF_ERR_NOMEM, "gbdt: out of memory");
        m->train_loss = a;
        double *b = hamf__realloc(m->valid_loss, nc * sizeof *b);
        if (!b) return hamf__err(HAMF_ERR_NOMEM, "gbdt: out of memory");
        m->valid_loss = b;
        *cap = nc;
    }
    m->train_loss[m->n_iter] = tl;
    m->valid_loss[m->n_iter] = vl;
    m->n_iter++;
    return HAMF_OK;
}

hamf_status hamf__gbdt_fit(const struct hamf_dataset *d, const hamf_train_params *p, struct hamf_ensemble *m)
{
    hamf_status st = HAMF_OK;
    struct hamf__pool *pool = NULL;
    struct hamf__learner *lr = NULL;
    uint8_t *codes = NULL, *rowsmaj = NULL, *fmask = NULL;
    uint32_t *train = NULL, *valid = NULL, *sub = NULL;
    float *gh = NULL;
    double *score = NULL, *closs = NULL;
    int *nbins = NULL;
    bool *is_cat = NULL;
    size_t ntrain = 0, nvalid = 0, hist_cap = 0;
    const size_t n = d->n;

    if ((st = hamf__pool_new(p->threads, &pool))) goto cleanup;
    if ((st = hamf__binmap_build(d, p->max_bins, pool, &m->bins))) goto cleanup;
    if ((st = hamf__binmap_apply(&m->bins, d, NULL, pool, &codes))) goto cleanup;
    const size_t nf = m->bins.nf;
    if ((st = hamf__codes_transpose(codes, n, nf, &rowsmaj))) goto cleanup;
    nbins = hamf__calloc(nf + 1, sizeof *nbins);
    is_cat = hamf__calloc(nf + 1, sizeof *is_cat);
    fmask = hamf__calloc(nf + 1, 1);
    train = hamf__malloc((n + 1) * sizeof *train);
    valid = hamf__malloc((n + 1) * sizeof *valid);
    sub = hamf__malloc((n + 1) * sizeof *sub);
    gh = hamf__calloc(2 * n + 2, sizeof *gh);
    score = hamf__malloc((n + 1) * sizeof *score);
    closs = hamf__malloc(((n + CHUNK - 1) / CHUNK + 1) * sizeof *closs);
    if (!nbins || !is_cat || !fmask || !train || !valid || !sub || !gh || !score || !closs) {
        st = hamf__err(HAMF_ERR_NOMEM, "gbdt: out of memory");
        goto cleanup;
    }
    for (size_t f = 0; f < nf; f++) { nbins[f] = m->bins.f[f].nbins; is_cat[f] = m->bins.f[f].is_cat; }

    /* validation hold-out for early stopping */
    if (p->validation_fraction > 0 && p->validation_fraction < 1) {
        size_t *tr = NULL, *te = NULL, ntr = 0, nte = 0;
        if ((st = hamf_split_train_test(n, p->validation_fraction, p->seed, d->y, &tr, &ntr, &te, &nte)))
            goto cleanup;
        for (size_t k = 0; k < ntr; k++) train[k] = (uint32_t)tr[k];
        for (size_t k = 0; k < nte; k++) valid[k] = (uint32_t)te[k];
        ntrain = ntr;
        nvalid = nte;
        hamf_free_indices(tr);
        hamf_free_indices(te);
    } else {
        for (size_t i = 0; i < n; i++) train[i] = (uint32_t)i;
        ntrain = n;
    }
    if (ntrain == 0) { st = hamf__err(HAMF_ERR_CONSTRAINT, "gbdt: empty training set"); goto cleanup; }
    double pos = 0;
    for (size_t k = 0; k < ntrain; k++) pos += d->y[train[k]];
    if (pos <= 0 || pos >= (double)ntrain) {
        st = hamf__err(HAMF_ERR_CONSTRAINT, "gbdt: the target has a single class in the training rows");
        goto cleanup;
    }
    double prior = pos / (double)ntrain;
    m->init_score = log(prior / (1 - prior));
    for (size_t i = 0; i < n; i++) score[i] = m->init_score;

    struct hamf__train_data td = {n, nf, codes, rowsmaj, nbins, is_cat};
    if ((st = hamf__learner_new(&td, pool, &lr))) goto cleanup;
    struct hamf__learn_params lp = {
        .max_depth = p->max_depth, .max_leaves = p->max_leaves,
        .min_hess = p->min_child_weight > 0 ? p->min_child_weight : 1e-12,
        .l2 = p->l2, .min_gain = 0, .scale = p->learning_rate, .mtry = 0, .newton = true,
    };
    struct hamf__rng rng;
    hamf__rng_seed(&rng, p->seed, 0x6762);
    struct gb_ctx c = {.n = n, .y = d->y, .score = score, .gh = gh, .chunk_loss = closs, .codes = codes};
    uint32_t *leaves = hamf__malloc(sizeof *leaves * 1024);
    size_t cap_leaves = 1024;
    if (!leaves) { st = hamf__err(HAMF_ERR_NOMEM, "gbdt: out of memory"); goto cleanup; }
    double best_valid = INFINITY;
    int since_best = 0;
    size_t total = (size_t)p->n_estimators;
    m->trees = hamf__calloc(total, sizeof *m->trees);
    if (!m->trees) { hamf__free(leaves); st = hamf__err(HAMF_ERR_NOMEM, "gbdt: out of memory"); goto cleanup; }
    m->cap_trees = total;
    for (size_t it = 0; it < total; it++) {
        /* gradients on the train rows (+ loss of the current scores) */
        c.rows = train;
        c.nrows = ntrain;
        size_t nch = (ntrain + CHUNK - 1) / CHUNK;
        hamf__pool_run(pool, nch, task_grad, &c);
        double tl = sum_chunks(closs, nch) / (double)ntrain;
        double vl = NAN;
        if (nvalid) {
            c.rows = valid;
            c.nrows = nvalid;
            size_t vch = (nvalid + CHUNK - 1) / CHUNK;
            hamf__pool_run(pool, vch, task_loss, &c);
            vl = sum_chunks(closs, vch) / (double)nvalid;
        }
        if (it > 0 && (st = push_history(m, &hist_cap, tl, vl))) { hamf__free(leaves); goto cleanup; }
        if (nvalid && p->n_iter_no_change > 0) {
            if (vl < best_valid - 1e-7) { best_valid = vl; since_best = 0; }
            else if (++since_best >= p->n_iter_no_change) break;
        }
        /* row subsample (without replacement, sorted) */
        const uint32_t *rows = train;
        size_t m_rows = ntrain;
        if (p->subsample > 0 && p->subsample < 1) {
            size_t want = (size_t)((double)ntrain * p->subsample + 0.5);
            if (want < 2) want = ntrain < 2 ? ntrain : 2;
            /* selection sampling keeps order (Knuth's algorithm S) */
            size_t got = 0;
            for (size_t k = 0; k < ntrain && got < want; k++)
                if (hamf__rng_below(&rng, ntrain - k) < want - got) sub[got++] = train[k];
            rows = sub;
            m_rows = got;
        }
        /* feature subsample per tree */
        if (p->colsample > 0 && p->colsample < 1) {
            size_t want = (size_t)((double)nf * p->colsample + 0.5);
            if (want < 1) want = 1;
            memset(fmask, 0, nf);
            size_t got = 0;
            for (size_t f = 0; f < nf && got < want; f++)
                if (hamf__rng_below(&rng, nf - f) < want - got) { fmask[f] = 1; got++; }
        } else {
            memset(fmask, 1, nf);
        }
        struct hamf__tree *t = &m->trees[m->n_trees];
        if ((st = hamf__learner_grow(lr, &lp, rows, m_rows, gh, fmask, t))) { hamf__free(leaves); goto cleanup; }
        m->n_trees++;
        /* score update */
        c.tree = t;
        if (rows == train && !nvalid) {
            hamf__learner_leaf_rows(lr, &c.idx, &c.nbeg, &c.nend);
            size_t nl = 0;
            if (t->n_nodes > cap_leaves) {
                uint32_t *nlv = hamf__realloc(leaves, t->n_nodes * sizeof *nlv);
                if (!nlv) { hamf__free(leaves); st = hamf__err(HAMF_ERR_NOMEM, "gbdt: out of memory"); goto cleanup; }
                leaves = nlv;
                cap_leaves = t->n_nodes;
            }
            for (uint32_t k = 0; k < t->n_nodes; k++)
                if (t->nodes[k].left < 0) leaves[nl++] = k;
            c.leaves = leaves;
            c.nleaves = nl;
            hamf__pool_run(pool, nl, task_leaf_update, &c);
        } else {
            c.rows = train;
            c.nrows = ntrain;
            hamf__pool_run(pool, (ntrain + CHUNK - 1) / CHUNK, task_traverse_update, &c);
            if (nvalid) {
                c.rows = valid;
                c.nrows = nvalid;
                hamf__pool_run(pool, (nvalid + CHUNK - 1) / CHUNK, task_traverse_update, &c);
            }
        }
        if (p->progress) p->progress(p->progress_ctx, m->n_trees, total);
    }
    hamf__free(leaves);
    /* final losses */
    {
        c.rows = train;
        c.nrows = ntrain;
        size_t nch = (ntrain + CHUNK - 1) / CHUNK;
        hamf__pool_run(pool, nch, task_loss, &c);
        double tl = sum_chunks(closs, nch) / (double)ntrain, vl = NAN;
        if (nvalid) {
            c.rows = valid;
            c.nrows = nvalid;
            size_t vch = (nvalid + CHUNK - 1) / CHUNK;
            hamf__pool_run(pool, vch, task_loss, &c);
            vl = sum_chunks(closs, vch) / (double)nvalid;
        }
        if (m->n_iter < m->n_trees && (st = push_history(m, &hist_cap, tl, vl))) goto cleanup;
    }
cleanup:
    hamf__learner_free(lr);
    hamf__pool_free(pool);
    hamf__free(codes);
    hamf__free(rowsmaj);
    hamf__free(nbins);
    hamf__free(is_cat);
    hamf__free(fmask);
    hamf__free(train);
    hamf__free(valid);
    hamf__free(sub);
    hamf__free(gh);
    hamf__free(score);
    hamf__free(closs);
    return st;
}
