/*
 * tree_grow.c — the GB tree learner (hamf__learner_grow): rounds of splits
 * over a row-index partition. Each round picks the nodes to split
 * (depth-wise: every open node; leaf-wise: the open node with the best
 * gain), partitions their rows stably (one pass per chunk into two scratch
 * runs, then placed), builds the gradient/hessian histogram of the smaller
 * child only (tree_hist.c) and derives the larger child's as parent minus
 * smaller (the subtraction trick), then evaluates the children's splits
 * (tree_split.c). The last level of a depth-limited tree is routed straight
 * into the scores instead of partitioned.
 */
#include "tree_int.h"

#include <stdlib.h>
#include <string.h>

hamf_status hamf__learner_new(const struct hamf__train_data *td, struct hamf__pool *pool,
                              struct hamf__learner **out)
{
    struct hamf__learner *l = hamf__calloc(1, sizeof *l);
    if (!l) return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
    l->td = td;
    l->pool = pool;
    l->idx = hamf__malloc((td->n + 1) * sizeof *l->idx);
    l->tmp = hamf__malloc((td->n + 1) * sizeof *l->tmp);
    l->tmp2 = hamf__malloc((td->n + 1) * sizeof *l->tmp2);
    l->hoff = hamf__malloc((td->nf + 1) * sizeof *l->hoff);
    if (!l->idx || !l->tmp || !l->tmp2 || !l->hoff) {
        hamf__learner_free(l);
        return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
    }
    size_t off = 0;
    for (size_t f = 0; f < td->nf; f++) { l->hoff[f] = off; off += 2 * (size_t)td->nbins[f]; }
    l->hoff[td->nf] = off;
    l->hsize = off ? off : 2;
    int nt = hamf__pool_size(pool);
    l->nthreads = nt;
    l->spare = hamf__calloc((size_t)nt, sizeof *l->spare);
    if (!l->spare) { hamf__learner_free(l); return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory"); }
    hamf_status st = hamf__hist_init(l);
    if (st) { hamf__learner_free(l); return st; }
    *out = l;
    return HAMF_OK;
}

void hamf__learner_free(struct hamf__learner *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n_free; i++) hamf__free(l->free_hist[i]);
    if (l->nodes)
        for (size_t i = 0; i < l->cap_nodes; i++) hamf__free(l->nodes[i].hist);
    hamf__free(l->free_hist);
    hamf__free(l->nodes);
    hamf__free(l->idx);
    hamf__free(l->tmp);
    hamf__free(l->tmp2);
    hamf__free(l->hoff);
    hamf__free(l->nbeg);
    hamf__free(l->nend);
    hamf__free(l->chunk_node);
    hamf__free(l->chunk_lo);
    hamf__free(l->chunk_hi);
    hamf__free(l->chunk_left);
    hamf__free(l->chunk_off);
    hamf__free(l->round);
    hamf__free(l->build);
    hamf__free(l->bsib);
    hamf__free(l->mleft);
    hamf__free(l->bt_multi);
    hamf__free(l->leaf_ids);
    hamf__free(l->route_left);
    hamf__free(l->xtab);
    hamf__free(l->xoff);
    if (l->spare)
        for (int i = 0; i < l->nthreads; i++) hamf__free(l->spare[i]);
    hamf__free(l->spare);
    if (l->bdbl)
        for (int i = 0; i < l->nthreads; i++) hamf__free(l->bdbl[i]);
    hamf__free(l->bdbl);
    hamf__free(l->bt_lo);
    hamf__free(l->bt_hi);
    hamf__free(l->bt_node);
    hamf__free(l->bt_slot);
    hamf__free(l->mnode);
    hamf__free(l->mslot);
    hamf__free(l->tbuf);
    if (l->bscr)
        for (int i = 0; i < l->nthreads; i++) hamf__free(l->bscr[i]);
    hamf__free(l->bscr);
    hamf__free(l->brows);
    hamf__free(l->brows16);
    hamf__free(l->boff);
    hamf__free(l->bfirst);
    hamf__free(l->bfeat);
    hamf__free(l->bstride);
    hamf__free(l);
}

static hamf_status ensure_nodes(struct hamf__learner *l, size_t need)
{
    if (need <= l->cap_nodes) return HAMF_OK;
    size_t nc = l->cap_nodes ? l->cap_nodes : 64;
    while (nc < need) nc *= 2;
    struct gnode *nn = hamf__realloc(l->nodes, nc * sizeof *nn);
    if (!nn) return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
    memset(nn + l->cap_nodes, 0, (nc - l->cap_nodes) * sizeof *nn);
    l->nodes = nn;
    uint32_t *b = hamf__realloc(l->nbeg, nc * sizeof *b);
    if (b) l->nbeg = b;
    uint32_t *e = hamf__realloc(l->nend, nc * sizeof *e);
    if (e) l->nend = e;
    int32_t *r = hamf__realloc(l->round, nc * sizeof *r);
    if (r) l->round = r;
    int32_t *bd = hamf__realloc(l->build, nc * sizeof *bd);
    if (bd) l->build = bd;
    int32_t *eq = hamf__realloc(l->bsib, nc * sizeof *eq);
    if (eq) l->bsib = eq;
    if (!b || !e || !r || !bd || !eq) return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
    l->cap_nodes = nc;
    return HAMF_OK;
}

static hamf_status ensure_chunks(struct hamf__learner *l, size_t need)
{
    if (need <= l->cap_chunks) return HAMF_OK;
    size_t nc = need + 64;
    uint32_t **arrs[5] = {&l->chunk_node, &l->chunk_lo, &l->chunk_hi, &l->chunk_left, &l->chunk_off};
    for (int i = 0; i < 5; i++) {
        uint32_t *a = hamf__realloc(*arrs[i], nc * sizeof **arrs[i]);
        if (!a) return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
        *arrs[i] = a;
    }
    l->cap_chunks = nc;
    return HAMF_OK;
}


/* evaluate node l->round[task]'s best split (its hist is complete) */
static void eval_node(struct hamf__learner *l, struct gnode *g)
{
    const struct hamf__train_data *td = l->td;
    g->best.gain = 0;
    g->best.feat = -1;
    for (size_t f = 0; f < td->nf; f++) {
        if (l->fmask && !l->fmask[f]) continue;
        hamf__split_eval_feature(g->hist + l->hoff[f], (int)f, td->nbins[f], td->is_cat[f], g->G, g->H,
                     l->p, &g->best);
    }
}

/* after build r's histogram is complete (hist build tasks call this): the
 * sibling's histogram becomes parent - this one, then the open ones of the
 * two get their best split */
static void node_post(struct hamf__learner *l, size_t r, int tid)
{
    (void)tid;
    struct gnode *S = &l->nodes[l->build[r]];
    int32_t b = l->bsib[r];
    if (b >= 0) {
        struct gnode *B = &l->nodes[b];
        if (B->hist) {
            double *a = B->hist;
            const double *sh = S->hist;
            for (size_t f = 0; f < l->td->nf; f++) {
                if (l->fmask && !l->fmask[f]) continue;
                for (size_t k = l->hoff[f], e = l->hoff[f + 1]; k < e; k++) a[k] -= sh[k];
            }
        }
        if (B->open) eval_node(l, B);
    }
    if (S->open) eval_node(l, S);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <pthread.h>
#define PART_AVX2 1
/* perm[m]: the lanes of the set bits of m in order, then the others */
static uint8_t perm8[256][8];
static pthread_once_t perm_once = PTHREAD_ONCE_INIT;
static void perm_init(void)
{
    for (int m = 0; m < 256; m++) {
        int n = 0;
        for (int b = 0; b < 8; b++)
            if (m >> b & 1) perm8[m][n++] = (uint8_t)b;
        for (int b = 0; b < 8; b++)
            if (!(m >> b & 1)) perm8[m][n++] = (uint8_t)b;
    }
}
static int part_use_avx2(void)
{
    if (!hamf__learn_avx2()) return 0;
    pthread_once(&perm_once, perm_init);
    return 1;
}

/* Rows k0..k1-1 of a numeric split one by one (the vector loops' heads
 * and tails): positions hold the rows themselves when idx is NULL. */
static inline void part_numeric_scalar(const uint8_t *col, const uint32_t *idx, const struct split *sp,
                                       uint32_t k0, uint32_t k1, uint32_t *dl, uint32_t *dr, uint32_t *lp,
                                       uint32_t *rp)
{
    const uint8_t dflt = (sp->flags & HAMF_NODE_DEFAULT_LEFT) ? 1 : 0;
    for (uint32_t k = k0; k < k1; k++) {
        uint32_t i = idx ? idx[k] : k;
        uint8_t c = col[i];
        uint32_t d = c == 0 ? dflt : c <= sp->thr;
        dl[*lp] = i;
        dr[*rp] = i;
        *lp += d;
        *rp += 1 - d;
    }
}

/* 8 row ids, the left ones (mask bits) packed to dl at *lp and the others
 * to dr at *rp, each in order; 8 lanes are stored at each cursor. */
__attribute__((target("avx2"))) static inline void pack8(__m256i ids, uint32_t mb, uint32_t *dl, uint32_t *dr,
                                                         uint32_t *lp, uint32_t *rp)
{
    __m256i pl = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)perm8[mb]));
    __m256i pr = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)perm8[~mb & 0xFF]));
    _mm256_storeu_si256((__m256i *)(void *)(dl + *lp), _mm256_permutevar8x32_epi32(ids, pl));
    _mm256_storeu_si256((__m256i *)(void *)(dr + *rp), _mm256_permutevar8x32_epi32(ids, pr));
    uint32_t n = (uint32_t)__builtin_popcount(mb);
    *lp += n;
    *rp += 8 - n;
}

/* Rows lo..hi-1 themselves (the root of a tree on all rows in order) under
 * a numeric split, 32 codes per step: bins 1..thr and, with default left,
 * the missing bin 0 go left; each group of 8 row ids is packed left and
 * right with a lane permutation (stable). A store writes 8 lanes at the
 * cursor, which never passes the rows read so far, so it stays below hi. */
__attribute__((target("avx2"))) static uint32_t part_ident_avx2(const uint8_t *col, const struct split *sp,
                                                                 uint32_t lo, uint32_t hi, uint32_t *dl,
                                                                 uint32_t *dr)
{
    const __m256i vthr = _mm256_set1_epi8((char)sp->thr), zero = _mm256_setzero_si256();
    const __m256i dlv = _mm256_set1_epi8((sp->flags & HAMF_NODE_DEFAULT_LEFT) ? -1 : 0);
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    uint32_t lp = lo, rp = lo, k = lo;
    for (; k + 32 <= hi; k += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(col + k));
        __m256i isz = _mm256_cmpeq_epi8(v, zero);
        __m256i le = _mm256_cmpeq_epi8(_mm256_min_epu8(v, vthr), v);
        __m256i left = _mm256_or_si256(_mm256_andnot_si256(isz, le), _mm256_and_si256(isz, dlv));
        uint32_t m = (uint32_t)_mm256_movemask_epi8(left);
        for (int q = 0; q < 4; q++)
            pack8(_mm256_add_epi32(_mm256_set1_epi32((int)(k + 8 * (uint32_t)q)), iota), (m >> (8 * q)) & 0xFF,
                  dl, dr, &lp, &rp);
    }
    part_numeric_scalar(col, NULL, sp, k, hi, dl, dr, &lp, &rp);
    return lp - lo;
}

/* Rows idx[lo..hi) under a numeric split, 8 per AVX2 step: the codes are
 * gathered as the top byte of the 32-bit word ending at col[i] (so
 * nothing past col[i] is read; positions whose row is below 3 are done
 * one by one), then packed left and right like part_ident_avx2. */
__attribute__((target("avx2"))) static uint32_t part_idx_avx2(const uint8_t *col, const uint32_t *idx,
                                                               const struct split *sp, uint32_t lo, uint32_t hi,
                                                               uint32_t *dl, uint32_t *dr)
{
    const __m256i vthr = _mm256_set1_epi32(sp->thr), zero = _mm256_setzero_si256();
    const __m256i dlv = _mm256_set1_epi32((sp->flags & HAMF_NODE_DEFAULT_LEFT) ? -1 : 0);
    uint32_t lp = lo, rp = lo, k = lo;
    /* rows are increasing: those below 3 come first */
    while (k < hi && idx[k] < 3) k++;
    part_numeric_scalar(col, idx, sp, lo, k, dl, dr, &lp, &rp);
    const int *base = (const int *)(const void *)(col - 3);
    for (; k + 8 <= hi; k += 8) {
        __m256i ids = _mm256_loadu_si256((const __m256i *)(const void *)(idx + k));
        __m256i w = _mm256_i32gather_epi32(base, ids, 1);
        __m256i c = _mm256_srli_epi32(w, 24);
        __m256i isz = _mm256_cmpeq_epi32(c, zero);
        __m256i le = _mm256_cmpeq_epi32(_mm256_min_epu32(c, vthr), c);
        __m256i left = _mm256_or_si256(_mm256_andnot_si256(isz, le), _mm256_and_si256(isz, dlv));
        pack8(ids, (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(left)), dl, dr, &lp, &rp);
    }
    part_numeric_scalar(col, idx, sp, k, hi, dl, dr, &lp, &rp);
    return lp - lo;
}
#endif

/* Stable partition of positions lo..hi-1 of node g: left rows to
 * dl[lo..], right rows to dr[lo..]; returns the left count. `ident`: the
 * positions hold the rows themselves (idx is not read). dl may be idx
 * itself (the write position never passes the read position). */
static uint32_t part_range(const struct hamf__learner *l, const struct gnode *g, bool ident, uint32_t lo,
                           uint32_t hi, uint32_t *dl, uint32_t *dr)
{
    const uint8_t *col = l->td->codes + (size_t)g->best.feat * l->td->n;
#if defined(PART_AVX2)
    if (!(g->best.flags & HAMF_NODE_CAT) && part_use_avx2())
        return ident ? part_ident_avx2(col, &g->best, lo, hi, dl, dr)
                     : part_idx_avx2(col, l->idx, &g->best, lo, hi, dl, dr);
#endif
    const uint8_t *lut = g->lut;
    const uint32_t *ix = l->idx;
    uint32_t lp = lo, rp = lo;
    if (ident) {
        for (uint32_t k = lo; k < hi; k++) {
            uint32_t d = lut[col[k]];
            dl[lp] = k;
            dr[rp] = k;
            lp += d;
            rp += 1 - d;
        }
        return lp - lo;
    }
    for (uint32_t k = lo; k < hi; k++) {
        uint32_t i = ix[k], d = lut[col[i]];
        dl[lp] = i;
        dr[rp] = i;
        lp += d;
        rp += 1 - d;
    }
    return lp - lo;
}

static void task_part(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct hamf__learner *l = vctx;
    const struct gnode *g = &l->nodes[l->chunk_node[task]];
    const bool ident = l->root_ident && g->tid == 0;
    uint32_t lo = l->chunk_lo[task], hi = l->chunk_hi[task];
    if (lo == g->begin && hi == g->end) {
        /* the whole node in one chunk: partition it in place here (left
         * rows compact forward, right rows go through tmp2); task_place
         * skips it */
        uint32_t nl = part_range(l, g, ident, lo, hi, l->idx, l->tmp2);
        memcpy(l->idx + lo + nl, l->tmp2 + lo, (size_t)(hi - lo - nl) * sizeof *l->idx);
        l->chunk_left[task] = nl;
        return;
    }
    l->chunk_left[task] = part_range(l, g, ident, lo, hi, l->tmp, l->tmp2);
}

/* pass 2: copy the chunk's left and right runs to their places in idx
 * (chunk_off = where its left rows go; nbeg[node] = the node's left total) */
static void task_place(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct hamf__learner *l = vctx;
    const struct gnode *g = &l->nodes[l->chunk_node[task]];
    uint32_t lo = l->chunk_lo[task], hi = l->chunk_hi[task];
    if (lo == g->begin && hi == g->end) return; /* done by task_part */
    uint32_t nl = l->chunk_left[task], nr = hi - lo - nl;
    uint32_t lpos = l->chunk_off[task];
    uint32_t left_before = lpos - g->begin;
    uint32_t rpos = g->begin + l->nbeg[g->tid] + ((lo - g->begin) - left_before);
    memcpy(l->idx + lpos, l->tmp + lo, (size_t)nl * sizeof *l->idx);
    memcpy(l->idx + rpos, l->tmp2 + lo, (size_t)nr * sizeof *l->idx);
}

/* last round: add the children's values to the scores without
 * partitioning. Task j takes the rows whose ids fall in slice j of the
 * row range, in every node of the round (a node's positions hold its rows
 * in increasing order, so each slice is one run of positions, found by
 * binary search): each thread writes its own part of the score array, not
 * rows interleaved with the other thread's (nodes' rows are spread over
 * the whole range). It counts the rows going left per (slice, node). */
static uint32_t lower_pos(const uint32_t *idx, uint32_t b, uint32_t e, uint32_t row)
{
    while (b < e) {
        uint32_t mid = b + (e - b) / 2;
        if (idx[mid] < row) b = mid + 1;
        else e = mid;
    }
    return b;
}

static void task_route(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct hamf__learner *l = vctx;
    const size_t n = l->td->n, ns = l->route_slices;
    uint32_t r0 = (uint32_t)((uint64_t)n * task / ns), r1 = (uint32_t)((uint64_t)n * (task + 1) / ns);
    double *score = l->score;
    const uint32_t *idx = l->idx;
    for (size_t r = 0; r < l->nround; r++) {
        const struct gnode *g = &l->nodes[l->round[r]];
        const uint8_t *col = l->td->codes + (size_t)g->best.feat * n;
        const double v[2] = {l->nodes[g->tid].H, l->nodes[g->tid].G}; /* stashed child values: right, left */
        const uint8_t *lut = g->lut;
        uint32_t lo = lower_pos(idx, g->begin, g->end, r0), hi = lower_pos(idx, lo, g->end, r1);
        uint32_t nl = 0; /* rows going left: the leaves' training cover */
        for (uint32_t k = lo; k < hi; k++) {
            uint32_t i = idx[k], d = lut[col[i]];
            score[i] += v[d];
            nl += d;
        }
        l->route_left[task * l->nround + r] = nl;
    }
}

static void task_leaf_score(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct hamf__learner *l = vctx;
    const struct gnode *g = &l->nodes[l->leaf_ids[task]];
    double v = g->G; /* stashed leaf value */
    for (uint32_t k = g->begin; k < g->end; k++) l->score[l->idx[k]] += v;
}

/* Small steps run on the calling thread: waking a worker costs more than
 * the work, and on a busy machine it can cost a scheduler time slice.
 * Results are the same either way. */
static inline struct hamf__pool *pool_for(const struct hamf__learner *l, size_t rows)
{
    return rows >= PAR_MIN_ROWS ? l->pool : NULL;
}

void hamf__learner_covers(const struct hamf__learner *l, double *cover)
{
    for (size_t i = 0; i < l->n_grown; i++) cover[i] = (double)(l->nend[i] - l->nbeg[i]);
}

/* lut[b] = 1 when bin b goes left under s (goes_left, without a call per
 * bin: the caller builds one per split node between parallel steps) */
static void set_lut(uint8_t *lut, const struct split *s)
{
    if (s->flags & HAMF_NODE_CAT) {
        for (int b = 0; b < HAMF_MAX_BINS; b++) lut[b] = (uint8_t)((s->bits[b >> 5] >> (b & 31)) & 1);
        return;
    }
    memset(lut, 0, HAMF_MAX_BINS);
    if (s->thr >= 1) memset(lut + 1, 1, s->thr);
    lut[0] = (s->flags & HAMF_NODE_DEFAULT_LEFT) ? 1 : 0;
}

static bool can_split(const struct hamf__learn_params *p, const struct gnode *g)
{
    if (p->max_depth > 0 && g->depth >= p->max_depth) return false;
    if (g->end - g->begin < 2) return false;
    if (g->H < 2 * p->min_hess) return false;
    return true;
}

hamf_status hamf__learner_grow(struct hamf__learner *l, const struct hamf__learn_params *p,
                               const uint32_t *idx, size_t m, const float *gh,
                               const uint8_t *fmask, double *score, struct hamf__grad_prep *prep,
                               struct hamf__tree *out)
{
    hamf_status st = HAMF_OK;
    struct hamf__tree t = {0};
    const size_t nf = l->td->nf;
    l->gh = gh;
    l->fmask = fmask;
    l->p = p;
    l->score = score;
    /* rows 0..n-1 with a root histogram to build: the build's shards
     * write idx[k] = k for their own positions (no serial pass) */
    bool fill_later = !idx && m == l->td->n && m >= 2 && l->nbund > 0;
    if (idx) memcpy(l->idx, idx, m * sizeof *idx);
    else if (!fill_later)
        for (size_t k = 0; k < m; k++) l->idx[k] = (uint32_t)k;
    idx = l->idx;
    l->root_ident = false;
    if ((st = ensure_nodes(l, 64))) goto fail;
    int32_t root = hamf__tree_add_node(&t);
    if (root < 0) { st = hamf__err(HAMF_ERR_NOMEM, "tree: out of memory"); goto fail; }
    struct gnode *g0 = &l->nodes[0];
    memset(g0, 0, sizeof *g0);
    g0->begin = 0;
    g0->end = (uint32_t)m;
    g0->tid = 0;
    g0->best.feat = -1;
    /* The root's histogram comes first when the root may split: its sums
     * (G, H) are then the sums of one bundle's bins, which saves a pass
     * over the rows. */
    size_t nleaves = 1;
    if (m >= 2 && l->nbund > 0) {
        g0->hist = hamf__hist_get(l);
        if (!g0->hist) { st = hamf__err(HAMF_ERR_NOMEM, "tree: out of memory"); goto fail; }
        l->build[0] = 0;
        l->nbuild = 1;
        bool ident = fill_later || (m == l->td->n && idx[0] == 0 && idx[m - 1] == m - 1); /* sorted, unique */
        if (prep && !ident) { prep->fn(prep->ctx, 0, m, 0); prep->nslots = 1; }
        l->prep = ident ? prep : NULL;
        l->fill_idx = fill_later;
        l->root_ident = ident;
        st = hamf__hist_build_nodes(l, ident);
        l->prep = NULL;
        l->fill_idx = false;
        if (st) goto fail;
        g0->G = g0->hG;
        g0->H = g0->hH;
    } else {
        if (prep) { prep->fn(prep->ctx, 0, m, 0); prep->nslots = 1; }
        double G = 0, H = 0;
        for (size_t k = 0; k < m; k++) { G += gh[2 * idx[k]]; H += gh[2 * idx[k] + 1]; }
        g0->G = G;
        g0->H = H;
    }
    g0->open = can_split(p, g0);
    if (g0->open) eval_node(l, g0);
    else if (g0->hist) { hamf__hist_put(l, g0->hist); g0->hist = NULL; }
    for (;;) {
        /* choose this round's nodes */
        l->nround = 0;
        if (p->max_leaves > 0) {
            if (nleaves >= (size_t)p->max_leaves) break;
            int32_t bi = -1;
            for (uint32_t i = 0; i < t.n_nodes; i++) {
                struct gnode *g = &l->nodes[i];
                if (g->open && g->best.feat >= 0 && (bi < 0 || g->best.gain > l->nodes[bi].best.gain)) bi = (int32_t)i;
            }
            if (bi >= 0) l->round[l->nround++] = bi;
        } else {
            for (uint32_t i = 0; i < t.n_nodes; i++) {
                struct gnode *g = &l->nodes[i];
                if (g->open && g->best.feat >= 0) l->round[l->nround++] = (int32_t)i;
            }
        }
        /* nodes that were open but have no split become closed */
        for (uint32_t i = 0; i < t.n_nodes; i++) {
            struct gnode *g = &l->nodes[i];
            if (g->open && g->best.feat < 0) {
                g->open = false;
                hamf__hist_put(l, g->hist);
                g->hist = NULL;
            }
        }
        if (!l->nround) break;
        if ((st = ensure_nodes(l, t.n_nodes + 2 * l->nround + 2))) goto fail;
        for (size_t r = 0; r < l->nround; r++) {
            struct gnode *g = &l->nodes[l->round[r]];
            set_lut(g->lut, &g->best);
        }
        /* chunks */
        size_t nch = 0, round_rows = 0;
        for (size_t r = 0; r < l->nround; r++) {
            struct gnode *g = &l->nodes[l->round[r]];
            nch += (g->end - g->begin + PART_CHUNK - 1) / PART_CHUNK;
            round_rows += g->end - g->begin;
        }
        struct hamf__pool *rp = pool_for(l, round_rows);
        if ((st = ensure_chunks(l, nch))) goto fail;
        nch = 0;
        for (size_t r = 0; r < l->nround; r++) {
            struct gnode *g = &l->nodes[l->round[r]];
            for (uint32_t lo = g->begin; lo < g->end; lo += PART_CHUNK) {
                l->chunk_node[nch] = (uint32_t)l->round[r];
                l->chunk_lo[nch] = lo;
                l->chunk_hi[nch] = lo + PART_CHUNK < g->end ? lo + PART_CHUNK : g->end;
                nch++;
            }
        }
        bool final = score && p->max_leaves == 0 && p->max_depth > 0;
        for (size_t r = 0; r < l->nround && final; r++)
            if (l->nodes[l->round[r]].depth + 1 < p->max_depth) final = false;
        if (final) {
            /* children are leaves: no partition, route rows straight to scores */
            for (size_t r = 0; r < l->nround; r++) {
                int32_t id = l->round[r];
                struct split sp = l->nodes[id].best;
                if ((st = hamf__tree_apply_split(&t, id, &sp))) goto fail;
                struct gnode *g = &l->nodes[id];
                int32_t li = t.nodes[id].left, ri = t.nodes[id].right;
                double vl = hamf__tree_leaf_value(p, sp.GL, sp.HL), vr = hamf__tree_leaf_value(p, g->G - sp.GL, g->H - sp.HL);
                t.nodes[li].value = vl;
                t.nodes[ri].value = vr;
                memset(&l->nodes[li], 0, sizeof l->nodes[li]);
                memset(&l->nodes[ri], 0, sizeof l->nodes[ri]);
                l->nodes[li].routed = l->nodes[ri].routed = true;
                l->nodes[li].tid = li;
                l->nodes[ri].tid = ri;
                hamf__hist_put(l, g->hist);
                g->hist = NULL;
                g->open = false;
                /* stash the child values in the parent's G/H for task_route */
                g->G = vl;
                g->H = vr;
            }
            size_t ns = round_rows / PART_CHUNK;
            ns = rp ? (ns < 1 ? 1 : ns > 64 ? 64 : ns) : 1;
            if (ns * l->nround > l->cap_route) {
                uint32_t *rl = hamf__realloc(l->route_left, ns * l->nround * sizeof *rl);
                if (!rl) { st = hamf__err(HAMF_ERR_NOMEM, "tree: out of memory"); goto fail; }
                l->route_left = rl;
                l->cap_route = ns * l->nround;
            }
            l->route_slices = ns;
            hamf__pool_run(rp, ns, task_route, l);
            /* the leaves' row counts (covers): left = sum over the slices */
            for (size_t r = 0; r < l->nround; r++) {
                int32_t id = l->round[r];
                const struct gnode *g = &l->nodes[id];
                uint32_t nl = 0;
                for (size_t j = 0; j < ns; j++) nl += l->route_left[j * l->nround + r];
                l->nodes[t.nodes[id].left].end = nl;
                l->nodes[t.nodes[id].right].end = g->end - g->begin - nl;
            }
            break;
        }
        if (!rp || l->nthreads <= 1) {
            /* one thread: a single stable pass per node; left rows are
             * compacted in place (the write position never passes the read
             * position), right rows go to tmp and are copied after them */
            for (size_t r = 0; r < l->nround; r++) {
                const struct gnode *g = &l->nodes[l->round[r]];
                uint32_t nl = part_range(l, g, l->root_ident && g->tid == 0, g->begin, g->end, l->idx, l->tmp);
                memcpy(l->idx + g->begin + nl, l->tmp + g->begin, (size_t)(g->end - g->begin - nl) * sizeof *l->idx);
                l->nbeg[g->tid] = nl;
            }
        } else {
        hamf__pool_run(rp, nch, task_part, l);
        /* prefix sums: chunk_off = absolute left write position; nbeg[node] = node's left total */
        for (size_t c = 0; c < nch;) {
            uint32_t node = l->chunk_node[c];
            uint32_t pos = l->nodes[node].begin, tot = 0;
            size_t c0 = c;
            for (; c < nch && l->chunk_node[c] == node; c++) {
                l->chunk_off[c] = pos;
                pos += l->chunk_left[c];
                tot += l->chunk_left[c];
            }
            l->nbeg[node] = tot;
            (void)c0;
        }
        if (nch > l->nround) hamf__pool_run(rp, nch, task_place, l); /* else every node was one chunk */
        }
        /* children */
        l->nbuild = 0;
        int32_t *pairs = hamf__malloc(l->nround * 2 * sizeof *pairs);
        if (!pairs) { st = hamf__err(HAMF_ERR_NOMEM, "tree: out of memory"); goto fail; }
        for (size_t r = 0; r < l->nround; r++) {
            int32_t id = l->round[r];
            struct split s = l->nodes[id].best;
            if ((st = hamf__tree_apply_split(&t, id, &s))) { hamf__free(pairs); goto fail; }
            struct gnode *g = &l->nodes[id];
            int32_t li = t.nodes[id].left, ri = t.nodes[id].right;
            struct gnode *L = &l->nodes[li], *R = &l->nodes[ri];
            memset(L, 0, sizeof *L);
            memset(R, 0, sizeof *R);
            uint32_t split = g->begin + l->nbeg[id];
            L->begin = g->begin; L->end = split;
            R->begin = split; R->end = g->end;
            L->depth = R->depth = g->depth + 1;
            L->tid = li; R->tid = ri;
            L->G = s.GL; L->H = s.HL;
            R->G = g->G - s.GL; R->H = g->H - s.HL;
            L->best.feat = R->best.feat = -1;
            L->open = can_split(p, L);
            R->open = can_split(p, R);
            bool lsmall = (L->end - L->begin) <= (R->end - R->begin);
            struct gnode *S = lsmall ? L : R, *B = lsmall ? R : L;
            double *ph = g->hist;
            g->hist = NULL;
            g->open = false;
            if (B->open) {
                B->hist = ph; /* becomes parent - small */
                S->hist = hamf__hist_get(l);
                if (!S->hist) { hamf__free(pairs); st = hamf__err(HAMF_ERR_NOMEM, "tree: out of memory"); goto fail; }
                l->bsib[l->nbuild] = B->tid;
                l->build[l->nbuild++] = S->tid;
            } else {
                hamf__hist_put(l, ph);
                if (S->open) {
                    S->hist = hamf__hist_get(l);
                    if (!S->hist) { hamf__free(pairs); st = hamf__err(HAMF_ERR_NOMEM, "tree: out of memory"); goto fail; }
                    l->bsib[l->nbuild] = -1;
                    l->build[l->nbuild++] = S->tid;
                }
            }
            pairs[2 * r] = S->tid;
            pairs[2 * r + 1] = B->tid;
            nleaves++;
        }
        /* histograms of the small children; as each completes, its
         * sibling's is derived and both are evaluated (node_post) */
        l->post = node_post;
        st = hamf__hist_build_nodes(l, false);
        l->post = NULL;
        if (st) { hamf__free(pairs); goto fail; }
        /* small children that cannot split do not need their histogram */
        for (size_t r = 0; r < l->nround; r++) {
            struct gnode *S = &l->nodes[pairs[2 * r]];
            if (!S->open && S->hist) { hamf__hist_put(l, S->hist); S->hist = NULL; }
        }
        hamf__free(pairs);
    }
    /* leaves */
    l->n_leaf_ids = 0;
    if (l->cap_leaf_ids < t.n_nodes) {
        uint32_t *nl = hamf__realloc(l->leaf_ids, t.n_nodes * sizeof *nl);
        if (!nl) { st = hamf__err(HAMF_ERR_NOMEM, "tree: out of memory"); goto fail; }
        l->leaf_ids = nl;
        l->cap_leaf_ids = t.n_nodes;
    }
    for (uint32_t i = 0; i < t.n_nodes; i++) {
        struct gnode *g = &l->nodes[i];
        if (g->hist) { hamf__hist_put(l, g->hist); g->hist = NULL; }
        l->nbeg[i] = g->begin;
        l->nend[i] = g->end;
        if (t.nodes[i].left < 0 && !g->routed) {
            t.nodes[i].value = hamf__tree_leaf_value(p, g->G, g->H);
            g->G = t.nodes[i].value; /* stash for task_leaf_score */
            l->leaf_ids[l->n_leaf_ids++] = i;
        }
    }
    if (score) hamf__pool_run(pool_for(l, m), l->n_leaf_ids, task_leaf_score, l);
    l->n_grown = t.n_nodes;
    (void)nf;
    *out = t;
    return HAMF_OK;
fail:
    for (uint32_t i = 0; i < t.n_nodes && i < l->cap_nodes; i++)
        if (l->nodes[i].hist) { hamf__hist_put(l, l->nodes[i].hist); l->nodes[i].hist = NULL; }
    hamf__tree_clear(&t);
    return st;
}

