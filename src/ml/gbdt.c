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
 * Every parallel step works on fixed 8k-row chunks (or the learner's
 * size-determined shards) with per-chunk outputs summed in chunk order, so
 * results are bit-identical for any thread count. When a tree trains on all
 * rows in order (no validation part, no subsample) the gradients are
 * computed by the learner's root histogram build, shard by shard, right
 * before it reads them (see hamf__grad_prep in ml.h).
 */
#include "ml.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 8192

struct gb_ctx {
    size_t n;
    const double *y;
    const float *yf;       /* y as float (0/1), read by the gradient pass */
    double *score;
    float *gh;
    const uint32_t *rows;  /* rows to compute (train rows) */
    size_t nrows;
    double *chunk_loss;
    /* tree update */
    const struct hamf__tree *tree;
    const uint8_t *codes;
};

/* log loss of one row from its raw score, stable for large |s| */
static inline double row_loss(double s, double y)
{
    double z = y > 0.5 ? -s : s; /* loss = log(1 + exp(z)) */
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

/* exp(x) for x <= 0 (x >= -87 after clamping): 2^(x log2 e) as 2^n times a
 * degree-6 polynomial for 2^f, f in [0,1); relative error ~1e-7. Plain
 * arithmetic so the gradient loop stays branch-free. */
static inline float fast_exp_neg(float x)
{
    x = x < -87.0f ? -87.0f : x;
    float t = x * 1.44269504f;
    float tr = (float)(int32_t)t;
    float n = tr > t ? tr - 1.0f : tr, f = t - n;
    float p = 1.5403530e-4f;
    p = p * f + 1.3333558e-3f;
    p = p * f + 9.6181291e-3f;
    p = p * f + 5.5504109e-2f;
    p = p * f + 0.24022651f;
    p = p * f + 0.69314718f;
    p = p * f + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* log(1 + e) for e in [0, 1]: 2 atanh(e / (2 + e)) by its odd series. */
static inline float log1p_unit(float e)
{
    float t = e / (2.0f + e), t2 = t * t;
    float s = 1.0f / 11;
    s = s * t2 + 1.0f / 9;
    s = s * t2 + 1.0f / 7;
    s = s * t2 + 1.0f / 5;
    s = s * t2 + 1.0f / 3;
    s = s * t2 + 1.0f;
    return 2.0f * t * s;
}

#if defined(__SSE2__)
#include <emmintrin.h>
/* Four rows at a time, the same arithmetic as the scalar loop below
 * (fast_exp_neg, log1p_unit), so results do not depend on alignment. */
struct grad_acc { __m128 acc; int blocks; double tot; }; /* loss: 4 lanes, folded every 256 blocks */

static size_t grad_sse2(struct gb_ctx *c, size_t k0, size_t k1, struct grad_acc *ga)
{
    const __m128 one = _mm_set1_ps(1.0f), two = _mm_set1_ps(2.0f), half = _mm_set1_ps(0.5f);
    const __m128 sign = _mm_set1_ps(-0.0f), lo = _mm_set1_ps(-87.0f), hmin = _mm_set1_ps(1e-16f);
    __m128 acc = ga->acc;
    size_t k = k0;
    int blocks = ga->blocks;
    double tot = ga->tot;
    for (; k + 4 <= k1; k += 4) {
        __m128 s = _mm_movelh_ps(_mm_cvtpd_ps(_mm_loadu_pd(c->score + k)), _mm_cvtpd_ps(_mm_loadu_pd(c->score + k + 2)));
        __m128 y = _mm_loadu_ps(c->yf + k);
        __m128 as = _mm_andnot_ps(sign, s);
        __m128 x = _mm_max_ps(_mm_sub_ps(_mm_setzero_ps(), as), lo);
        __m128 t = _mm_mul_ps(x, _mm_set1_ps(1.44269504f));
        __m128i ti = _mm_cvttps_epi32(t);
        __m128 tf = _mm_cvtepi32_ps(ti);
        __m128 adj = _mm_and_ps(_mm_cmpgt_ps(tf, t), one); /* floor for negatives */
        __m128 n = _mm_sub_ps(tf, adj);
        __m128 f = _mm_sub_ps(t, n);
        __m128 p = _mm_set1_ps(1.5403530e-4f);
        p = _mm_add_ps(_mm_mul_ps(p, f), _mm_set1_ps(1.3333558e-3f));
        p = _mm_add_ps(_mm_mul_ps(p, f), _mm_set1_ps(9.6181291e-3f));
        p = _mm_add_ps(_mm_mul_ps(p, f), _mm_set1_ps(5.5504109e-2f));
        p = _mm_add_ps(_mm_mul_ps(p, f), _mm_set1_ps(0.24022651f));
        p = _mm_add_ps(_mm_mul_ps(p, f), _mm_set1_ps(0.69314718f));
        p = _mm_add_ps(_mm_mul_ps(p, f), one);
        __m128i bits = _mm_slli_epi32(_mm_add_epi32(_mm_cvttps_epi32(n), _mm_set1_epi32(127)), 23);
        __m128 e = _mm_mul_ps(p, _mm_castsi128_ps(bits));
        __m128 inv = _mm_div_ps(one, _mm_add_ps(one, e));
        __m128 pos = _mm_cmpge_ps(s, _mm_setzero_ps());
        __m128 pr = _mm_or_ps(_mm_and_ps(pos, inv), _mm_andnot_ps(pos, _mm_mul_ps(e, inv)));
        __m128 ispos = _mm_cmpgt_ps(y, half);
        __m128 z = _mm_or_ps(_mm_and_ps(ispos, _mm_sub_ps(_mm_setzero_ps(), s)), _mm_andnot_ps(ispos, s));
        __m128 tt = _mm_div_ps(e, _mm_add_ps(two, e)), t2 = _mm_mul_ps(tt, tt);
        __m128 q = _mm_set1_ps(1.0f / 11);
        q = _mm_add_ps(_mm_mul_ps(q, t2), _mm_set1_ps(1.0f / 9));
        q = _mm_add_ps(_mm_mul_ps(q, t2), _mm_set1_ps(1.0f / 7));
        q = _mm_add_ps(_mm_mul_ps(q, t2), _mm_set1_ps(1.0f / 5));
        q = _mm_add_ps(_mm_mul_ps(q, t2), _mm_set1_ps(1.0f / 3));
        q = _mm_add_ps(_mm_mul_ps(q, t2), one);
        __m128 l1p = _mm_mul_ps(_mm_mul_ps(two, tt), q);
        acc = _mm_add_ps(acc, _mm_add_ps(_mm_max_ps(z, _mm_setzero_ps()), l1p));
        if (++blocks == 256) {
            float a[4];
            _mm_storeu_ps(a, acc);
            tot += ((double)a[0] + a[1]) + ((double)a[2] + a[3]);
            acc = _mm_setzero_ps();
            blocks = 0;
        }
        __m128 g = _mm_sub_ps(pr, y);
        __m128 h = _mm_max_ps(_mm_mul_ps(pr, _mm_sub_ps(one, pr)), hmin);
        _mm_storeu_ps(c->gh + 2 * k, _mm_unpacklo_ps(g, h));
        _mm_storeu_ps(c->gh + 2 * k + 4, _mm_unpackhi_ps(g, h));
    }
    ga->acc = acc;
    ga->blocks = blocks;
    ga->tot = tot;
    return k;
}

static double grad_acc_total(const struct grad_acc *ga)
{
    float a[4];
    _mm_storeu_ps(a, ga->acc);
    return ga->tot + (((double)a[0] + a[1]) + ((double)a[2] + a[3]));
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define GRAD_AVX2 1
/* Eight rows at a time with the arithmetic of grad_sse2 lane for lane (no
 * FMA: target avx2 only), and the loss summed into the same four-lane
 * accumulator in the same order (the low four rows, then the high four),
 * so gradients, hessians and the loss history are bit-identical to the
 * SSE2 and scalar paths. */
__attribute__((target("avx2"))) static size_t grad_avx2(struct gb_ctx *c, size_t k0, size_t k1, struct grad_acc *ga)
{
    const __m256 one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f), half = _mm256_set1_ps(0.5f);
    const __m256 sign = _mm256_set1_ps(-0.0f), lo = _mm256_set1_ps(-87.0f), hmin = _mm256_set1_ps(1e-16f);
    const __m256 zero = _mm256_setzero_ps();
    __m128 acc = ga->acc;
    size_t k = k0;
    int blocks = ga->blocks;
    double tot = ga->tot;
#define FLUSH()                                                                  \
    if (++blocks == 256) {                                                       \
        float a_[4];                                                             \
        _mm_storeu_ps(a_, acc);                                                  \
        tot += ((double)a_[0] + a_[1]) + ((double)a_[2] + a_[3]);                \
        acc = _mm_setzero_ps();                                                  \
        blocks = 0;                                                              \
    }
    for (; k + 8 <= k1; k += 8) {
        __m256 s = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(_mm256_loadu_pd(c->score + k))),
                                        _mm256_cvtpd_ps(_mm256_loadu_pd(c->score + k + 4)), 1);
        __m256 y = _mm256_loadu_ps(c->yf + k);
        __m256 as = _mm256_andnot_ps(sign, s);
        __m256 x = _mm256_max_ps(_mm256_sub_ps(zero, as), lo);
        __m256 t = _mm256_mul_ps(x, _mm256_set1_ps(1.44269504f));
        __m256i ti = _mm256_cvttps_epi32(t);
        __m256 tf = _mm256_cvtepi32_ps(ti);
        __m256 adj = _mm256_and_ps(_mm256_cmp_ps(tf, t, _CMP_GT_OS), one);
        __m256 n = _mm256_sub_ps(tf, adj);
        __m256 f = _mm256_sub_ps(t, n);
        __m256 p = _mm256_set1_ps(1.5403530e-4f);
        p = _mm256_add_ps(_mm256_mul_ps(p, f), _mm256_set1_ps(1.3333558e-3f));
        p = _mm256_add_ps(_mm256_mul_ps(p, f), _mm256_set1_ps(9.6181291e-3f));
        p = _mm256_add_ps(_mm256_mul_ps(p, f), _mm256_set1_ps(5.5504109e-2f));
        p = _mm256_add_ps(_mm256_mul_ps(p, f), _mm256_set1_ps(0.24022651f));
        p = _mm256_add_ps(_mm256_mul_ps(p, f), _mm256_set1_ps(0.69314718f));
        p = _mm256_add_ps(_mm256_mul_ps(p, f), one);
        __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23);
        __m256 e = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
        __m256 inv = _mm256_div_ps(one, _mm256_add_ps(one, e));
        __m256 pos = _mm256_cmp_ps(s, zero, _CMP_GE_OS);
        __m256 pr = _mm256_or_ps(_mm256_and_ps(pos, inv), _mm256_andnot_ps(pos, _mm256_mul_ps(e, inv)));
        __m256 ispos = _mm256_cmp_ps(y, half, _CMP_GT_OS);
        __m256 z = _mm256_or_ps(_mm256_and_ps(ispos, _mm256_sub_ps(zero, s)), _mm256_andnot_ps(ispos, s));
        __m256 tt = _mm256_div_ps(e, _mm256_add_ps(two, e)), t2 = _mm256_mul_ps(tt, tt);
        __m256 q = _mm256_set1_ps(1.0f / 11);
        q = _mm256_add_ps(_mm256_mul_ps(q, t2), _mm256_set1_ps(1.0f / 9));
        q = _mm256_add_ps(_mm256_mul_ps(q, t2), _mm256_set1_ps(1.0f / 7));
        q = _mm256_add_ps(_mm256_mul_ps(q, t2), _mm256_set1_ps(1.0f / 5));
        q = _mm256_add_ps(_mm256_mul_ps(q, t2), _mm256_set1_ps(1.0f / 3));
        q = _mm256_add_ps(_mm256_mul_ps(q, t2), one);
        __m256 l1p = _mm256_mul_ps(_mm256_mul_ps(two, tt), q);
        __m256 l = _mm256_add_ps(_mm256_max_ps(z, zero), l1p);
        acc = _mm_add_ps(acc, _mm256_castps256_ps128(l));
        FLUSH()
        acc = _mm_add_ps(acc, _mm256_extractf128_ps(l, 1));
        FLUSH()
        __m256 g = _mm256_sub_ps(pr, y);
        __m256 h = _mm256_max_ps(_mm256_mul_ps(pr, _mm256_sub_ps(one, pr)), hmin);
        __m256 a = _mm256_unpacklo_ps(g, h), b = _mm256_unpackhi_ps(g, h);
        _mm256_storeu_ps(c->gh + 2 * k, _mm256_permute2f128_ps(a, b, 0x20));
        _mm256_storeu_ps(c->gh + 2 * k + 8, _mm256_permute2f128_ps(a, b, 0x31));
    }
#undef FLUSH
    ga->acc = acc;
    ga->blocks = blocks;
    ga->tot = tot;
    return k;
}
#endif


/* gradients of positions [k0, k1) of c->rows (NULL: rows themselves);
 * returns the summed log loss of the current scores */
static double grad_range(struct gb_ctx *c, size_t k0, size_t k1)
{
    float loss = 0;
    double total = 0;
#if defined(__SSE2__)
    if (!c->rows) {
        struct grad_acc ga = {_mm_setzero_ps(), 0, 0};
#if defined(GRAD_AVX2)
        if (hamf__learn_avx2()) k0 = grad_avx2(c, k0, k1, &ga);
#endif
        k0 = grad_sse2(c, k0, k1, &ga);
        total = grad_acc_total(&ga);
    }
#endif
    for (size_t k = k0; k < k1; k++) {
        uint32_t i = c->rows ? c->rows[k] : (uint32_t)k;
        float s = (float)c->score[i], y = c->yf[i];
        /* p = sigmoid(s); loss = log(1 + exp(-s)) for y = 1, log(1 + exp(s)) for y = 0 */
        float as = fabsf(s);
        float e = fast_exp_neg(-as);
        float inv = 1.0f / (1.0f + e);
        float p = s >= 0 ? inv : e * inv;
        float z = y > 0.5f ? -s : s;
        loss += (z > 0 ? z : 0) + log1p_unit(e);
        if (((k - k0) & 1023) == 1023) { total += loss; loss = 0; }
        float h = p * (1 - p);
        c->gh[2 * i] = p - y;
        c->gh[2 * i + 1] = h < 1e-16f ? 1e-16f : h;
    }
    return total + loss;
}

static void task_grad(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct gb_ctx *c = vctx;
    size_t k0 = task * CHUNK, k1 = k0 + CHUNK < c->nrows ? k0 + CHUNK : c->nrows;
    c->chunk_loss[task] = grad_range(c, k0, k1);
}

/* the learner's gradient callback (rows in order): loss into slot */
static void prep_rows(void *ctx, size_t k0, size_t k1, size_t slot)
{
    struct gb_ctx *c = ctx;
    c->chunk_loss[slot] = grad_range(c, k0, k1);
}

static void task_loss(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct gb_ctx *c = vctx;
    size_t k0 = task * CHUNK, k1 = k0 + CHUNK < c->nrows ? k0 + CHUNK : c->nrows;
    double loss = 0;
    for (size_t k = k0; k < k1; k++) {
        uint32_t i = c->rows ? c->rows[k] : (uint32_t)k;
        loss += row_loss(c->score[i], c->y[i]);
    }
    c->chunk_loss[task] = loss;
}

static void task_traverse_update(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct gb_ctx *c = vctx;
    size_t k0 = task * CHUNK, k1 = k0 + CHUNK < c->nrows ? k0 + CHUNK : c->nrows;
    for (size_t k = k0; k < k1; k++) {
        uint32_t i = c->rows ? c->rows[k] : (uint32_t)k;
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
    const uint8_t *codes = NULL;
    uint8_t *own_codes = NULL, *fmask = NULL;
    uint32_t *train = NULL, *valid = NULL, *sub = NULL;
    float *gh = NULL, *yf = NULL;
    double *score = NULL, *closs = NULL;
    int *nbins = NULL;
    bool *is_cat = NULL;
    size_t ntrain = 0, nvalid = 0, hist_cap = 0;
    double *cover = NULL;
    size_t ncover = 0, cap_cover = 0;
    const size_t n = d->n;
    struct hamf__pool *rp = NULL; /* the pool for row-wide steps, NULL when rows are few */

    if ((st = hamf__pool_new(p->threads, &pool))) goto cleanup;
    if ((st = hamf__binmap_build(d, p->max_bins, pool, &m->bins))) goto cleanup;
    if ((st = hamf__binmap_codes(&m->bins, d, pool, &codes, &own_codes))) goto cleanup;
    rp = n >= 32768 ? pool : NULL;
    const size_t nf = m->bins.nf;
    /* the learner bundles the column-major codes itself: no row-major copy */
    nbins = hamf__calloc(nf + 1, sizeof *nbins);
    is_cat = hamf__calloc(nf + 1, sizeof *is_cat);
    fmask = hamf__calloc(nf + 1, 1);
    valid = hamf__malloc((n + 1) * sizeof *valid);
    sub = hamf__malloc((n + 1) * sizeof *sub);
    gh = hamf__calloc(2 * n + 2, sizeof *gh);
    yf = hamf__malloc((n + 1) * sizeof *yf);
    score = hamf__malloc((n + 1) * sizeof *score);
    closs = hamf__malloc(((n + CHUNK - 1) / CHUNK + 8) * sizeof *closs);
    if (!nbins || !is_cat || !fmask || !valid || !sub || !gh || !yf || !score || !closs) {
        st = hamf__err(HAMF_ERR_NOMEM, "gbdt: out of memory");
        goto cleanup;
    }
    for (size_t f = 0; f < nf; f++) { nbins[f] = m->bins.f[f].nbins; is_cat[f] = m->bins.f[f].is_cat; }

    /* validation hold-out for early stopping */
    if (p->validation_fraction > 0 && p->validation_fraction < 1) {
        size_t *tr = NULL, *te = NULL, ntr = 0, nte = 0;
        if ((st = hamf_split_train_test(n, p->validation_fraction, p->seed, d->y, &tr, &ntr, &te, &nte)))
            goto cleanup;
        train = hamf__malloc((ntr + 1) * sizeof *train);
        if (!train) {
            hamf_free_indices(tr);
            hamf_free_indices(te);
            st = hamf__err(HAMF_ERR_NOMEM, "gbdt: out of memory");
            goto cleanup;
        }
        for (size_t k = 0; k < ntr; k++) train[k] = (uint32_t)tr[k];
        for (size_t k = 0; k < nte; k++) valid[k] = (uint32_t)te[k];
        ntrain = ntr;
        nvalid = nte;
        hamf_free_indices(tr);
        hamf_free_indices(te);
    } else {
        ntrain = n; /* train stays NULL: rows 0..n-1 */
    }
    if (ntrain == 0) { st = hamf__err(HAMF_ERR_CONSTRAINT, "gbdt: empty training set"); goto cleanup; }
    double pos = 0;
    for (size_t k = 0; k < ntrain; k++) pos += d->y[train ? train[k] : k];
    if (pos <= 0 || pos >= (double)ntrain) {
        st = hamf__err(HAMF_ERR_CONSTRAINT, "gbdt: the target has a single class in the training rows");
        goto cleanup;
    }
    double prior = pos / (double)ntrain;
    m->init_score = log(prior / (1 - prior));
    for (size_t i = 0; i < n; i++) score[i] = m->init_score;

    struct hamf__train_data td = {n, nf, codes, NULL, nbins, is_cat};
    if ((st = hamf__learner_new(&td, pool, &lr))) goto cleanup;
    struct hamf__learn_params lp = {
        .max_depth = p->max_depth, .max_leaves = p->max_leaves,
        .min_hess = p->min_child_weight > 0 ? p->min_child_weight : 1e-12,
        .l2 = p->l2, .min_gain = 0, .scale = p->learning_rate, .mtry = 0, .newton = true,
    };
    struct hamf__rng rng;
    hamf__rng_seed(&rng, p->seed, 0x6762);
    for (size_t i = 0; i < n; i++) yf[i] = (float)d->y[i];
    struct gb_ctx c = {.n = n, .y = d->y, .yf = yf, .score = score, .gh = gh, .chunk_loss = closs, .codes = codes};
    double best_valid = INFINITY;
    bool keep_cover = ntrain == n && !nvalid && !(p->subsample > 0 && p->subsample < 1);
    int since_best = 0;
    size_t total = (size_t)p->n_estimators;
    m->trees = hamf__calloc(total, sizeof *m->trees);
    if (!m->trees) { st = hamf__err(HAMF_ERR_NOMEM, "gbdt: out of memory"); goto cleanup; }
    m->cap_trees = total;
    for (size_t it = 0; it < total; it++) {
        /* gradients on the train rows (+ loss of the current scores); on
         * all rows in order without a validation part or subsample, the
         * learner computes them shard by shard right before the root
         * histogram reads them (fused: one pass, still in cache) */
        bool fused = ntrain == n && !nvalid && !(p->subsample > 0 && p->subsample < 1);
        c.rows = ntrain == n ? NULL : train; /* NULL: rows 0..n-1 */
        c.nrows = ntrain;
        double tl = NAN;
        if (!fused) {
            size_t nch = (ntrain + CHUNK - 1) / CHUNK;
            hamf__pool_run(rp, nch, task_grad, &c);
            tl = sum_chunks(closs, nch) / (double)ntrain;
        }
        double vl = NAN;
        if (nvalid) {
            c.rows = valid;
            c.nrows = nvalid;
            size_t vch = (nvalid + CHUNK - 1) / CHUNK;
            hamf__pool_run(rp, vch, task_loss, &c);
            vl = sum_chunks(closs, vch) / (double)nvalid;
        }
        if (!fused && it > 0 && (st = push_history(m, &hist_cap, tl, vl))) goto cleanup;
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
                if (hamf__rng_below(&rng, ntrain - k) < want - got) sub[got++] = train ? train[k] : (uint32_t)k;
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
        bool direct = rows == train && !nvalid;
        struct hamf__grad_prep prep = {prep_rows, &c, 0};
        if ((st = hamf__learner_grow(lr, &lp, rows, m_rows, gh, fmask, direct ? score : NULL,
                                     fused ? &prep : NULL, t))) goto cleanup;
        m->n_trees++;
        /* on every training row, the learner's node row counts are the
         * SHAP covers (what hamf__shap_fill_covers would route) */
        if (keep_cover) {
            if (ncover + t->n_nodes > cap_cover) {
                size_t nc = cap_cover ? 2 * cap_cover : 1024;
                while (nc < ncover + t->n_nodes) nc *= 2;
                double *b = hamf__realloc(cover, nc * sizeof *b);
                if (!b) { st = hamf__err(HAMF_ERR_NOMEM, "gbdt: out of memory"); goto cleanup; }
                cover = b;
                cap_cover = nc;
            }
            hamf__learner_covers(lr, cover + ncover);
            ncover += t->n_nodes;
        }
        if (fused) {
            tl = sum_chunks(closs, prep.nslots) / (double)ntrain;
            if (it > 0 && (st = push_history(m, &hist_cap, tl, vl))) goto cleanup;
        }
        /* score update for rows the learner did not see */
        c.tree = t;
        if (!direct) {
            c.rows = train;
            c.nrows = ntrain;
            hamf__pool_run(rp, (ntrain + CHUNK - 1) / CHUNK, task_traverse_update, &c);
            if (nvalid) {
                c.rows = valid;
                c.nrows = nvalid;
                hamf__pool_run(rp, (nvalid + CHUNK - 1) / CHUNK, task_traverse_update, &c);
            }
        }
        if (p->progress) p->progress(p->progress_ctx, m->n_trees, total);
    }
    /* final losses */
    {
        c.rows = train;
        c.nrows = ntrain;
        size_t nch = (ntrain + CHUNK - 1) / CHUNK;
        hamf__pool_run(rp, nch, task_loss, &c);
        double tl = sum_chunks(closs, nch) / (double)ntrain, vl = NAN;
        if (nvalid) {
            c.rows = valid;
            c.nrows = nvalid;
            size_t vch = (nvalid + CHUNK - 1) / CHUNK;
            hamf__pool_run(rp, vch, task_loss, &c);
            vl = sum_chunks(closs, vch) / (double)nvalid;
        }
        if (m->n_iter < m->n_trees && (st = push_history(m, &hist_cap, tl, vl))) goto cleanup;
    }
    if (keep_cover && !m->cover) {
        m->cover = cover ? cover : hamf__malloc(sizeof *cover);
        if (!m->cover) { st = hamf__err(HAMF_ERR_NOMEM, "gbdt: out of memory"); goto cleanup; }
        cover = NULL;
    }
cleanup:
    hamf__free(cover);
    hamf__learner_free(lr);
    hamf__pool_free(pool);
    hamf__free(own_codes);
    hamf__free(nbins);
    hamf__free(is_cat);
    hamf__free(fmask);
    hamf__free(train);
    hamf__free(valid);
    hamf__free(sub);
    hamf__free(gh);
    hamf__free(yf);
    hamf__free(score);
    hamf__free(closs);
    return st;
}
