/*
 * predict.c — scoring: the compact predictor built from an ensemble's trees
 * (after fit or load) and the batch and single-row paths on u8 bin codes.
 *
 * The trees (struct hamf__tree) stay the model's source of truth; this file
 * derives a read-only form from them (struct hamf__fast, predict_int.h)
 * that only prediction reads:
 *
 *   shallow  every tree of depth <= 8 (the GB case) is padded to a complete
 *            binary tree of 4-byte nodes {feature, sub, thr}; a row goes
 *            from node p to 2p+1+right with no branch and no child pointer,
 *            leaves are the 2^depth doubles after the last level.
 *   deep     any deeper tree (random forest) is laid out breadth first as
 *            8-byte nodes {feature, sub, thr, child}, the two children
 *            adjacent (right = child + 1); a leaf node's
 *            child is a leaf reference (top bit set, then the index of its
 *            value), so a step from a leaf yields the reference and a
 *            group of rows can step together until each holds one. A
 *            version 3 model file carries exactly this order, so
 *            model_io.c builds the same arrays without the trees.
 *
 * A numeric split "bins 1..thr go left, missing (bin 0) goes left or right"
 * becomes one unsigned byte compare: right = (uint8)(bin - sub) > thr', with
 * sub = 0, thr' = thr when missing goes left and sub = 1, thr' = thr - 1
 * when it goes right (bin 0 wraps to 255). Categorical splits (sub = 2) and
 * any split that compare cannot express read a 256-bit "goes left" set.
 *
 * Batches are scored in blocks of rows binned once (row-major), one tree at
 * a time over the whole block so the tree stays in cache; deep trees walk 8
 * rows at a time so their cache misses overlap, or 32 in AVX2 gathers
 * (deep_block_avx2) where a lane whose row reached its leaf takes the next
 * row without a branch. One row bins into a stack buffer and allocates
 * nothing.
 */
#include "predict_int.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

#define SHALLOW_MAX_DEPTH 8
#define SUB_CAT HAMF__SUB_CAT
#define GROUP 8
/* deep blocks of at least this many rows take the AVX2 walk */
#define DEEP_VEC_MIN 64
/* readable bytes a block of codes needs after its rows (the AVX2 deep walk
 * reads 4 bytes for each code, and an idle lane reads the row past the end) */
#define DEEP_PAD 4
#define LEAF_BIT HAMF__LEAF_BIT

#define snode hamf__snode
#define dnode hamf__dnode

void hamf__model_drop_fast(struct hamf_ensemble *m)
{
    struct hamf__fast *fs = m->fast;
    if (!fs) return;
    hamf__free(fs->depth);
    hamf__free(fs->node_off);
    hamf__free(fs->leaf_off);
    hamf__free(fs->cat_off);
    hamf__free(fs->sn);
    hamf__free(fs->dn);
    hamf__free(fs->aux);
    hamf__free(fs->leaf);
    hamf__free(fs->cat);
    hamf__free(fs->lut);
    hamf__free(fs->lanes);
    if (fs->ch) {
        for (size_t f = 0; f < m->bins.nf; f++) hamf__free(fs->ch[f].slot);
        hamf__free(fs->ch);
    }
    hamf__free(fs);
    m->fast = NULL;
}

static inline unsigned cat_right(const uint32_t *set, unsigned b)
{
    return !((set[b >> 5] >> (b & 31)) & 1);
}

static int node_left_bin(const struct hamf__tree *t, const struct hamf__node *nd, int b)
{
    if (nd->flags & HAMF_NODE_CAT) return (t->cat_bits[nd->cat * 8 + (b >> 5)] >> (b & 31)) & 1;
    if (b == 0) return nd->flags & HAMF_NODE_DEFAULT_LEFT;
    return b <= nd->thr;
}

/* The compare form of a node, or false when it needs a bitset. */
static bool numeric_form(const struct hamf__node *nd, uint8_t *sub, uint8_t *thr)
{
    if ((nd->flags & HAMF_NODE_CAT) || nd->thr == 0) return false;
    if (nd->flags & HAMF_NODE_DEFAULT_LEFT) { *sub = 0; *thr = nd->thr; }
    else { *sub = 1; *thr = (uint8_t)(nd->thr - 1); }
    return true;
}

static void fill_bitset(const struct hamf__tree *t, const struct hamf__node *nd, uint32_t *w, uint32_t cw)
{
    if (nd->flags & HAMF_NODE_CAT) { /* the learner's own "goes left" words */
        memcpy(w, t->cat_bits + (size_t)nd->cat * 8, cw * 4);
        return;
    }
    memset(w, 0, cw * 4);
    for (int b = 0; b < (int)cw * 32; b++)
        if (node_left_bin(t, nd, b)) w[b >> 5] |= 1u << (b & 31);
}

static uint32_t str_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static int simd_level(void);

hamf_status hamf__fast_finish(struct hamf_ensemble *m)
{
    struct hamf__fast *fs = m->fast;
    fs->ch = hamf__calloc(m->bins.nf + 1, sizeof *fs->ch);
    if (!fs->ch) return HAMF_ERR_NOMEM;
    if (fs->deep) fs->simd = simd_level();
    if (fs->deep && fs->simd == 2) { /* the AVX2 deep walk's tables, per mask of 8 lanes */
        if (!(fs->lanes = hamf__malloc(512 * sizeof *fs->lanes))) return HAMF_ERR_NOMEM;
        for (unsigned m8 = 0; m8 < 256; m8++) {
            uint64_t pack = 0, rank = 0;
            unsigned k = 0;
            for (unsigned j = 0; j < 8; j++) {
                rank |= (uint64_t)k << (8 * j); /* set lanes before lane j */
                if ((m8 >> j) & 1) pack |= (uint64_t)j << (8 * k++);
            }
            fs->lanes[m8] = pack;
            fs->lanes[256 + m8] = rank;
        }
    }
    for (size_t f = 0; f < m->bins.nf; f++) {
        const struct hamf__feat *ft = &m->bins.f[f];
        if (!ft->is_cat) continue;
        size_t cap = 4;
        while (cap < 2 * ft->ncat + 2) cap *= 2;
        if (cap > UINT32_MAX / 2) return HAMF_ERR_NOMEM;
        fs->ch[f].slot = hamf__calloc(cap, sizeof(uint32_t));
        if (!fs->ch[f].slot) return HAMF_ERR_NOMEM;
        fs->ch[f].mask = (uint32_t)cap - 1;
        for (size_t k = 0; k < ft->ncat; k++) {
            uint32_t h = str_hash(ft->cats[k]) & fs->ch[f].mask;
            bool dup = false;
            while (fs->ch[f].slot[h]) {
                if (!strcmp(ft->cats[fs->ch[f].slot[h] - 1], ft->cats[k])) { dup = true; break; } /* first wins */
                h = (h + 1) & fs->ch[f].mask;
            }
            if (!dup) fs->ch[f].slot[h] = (uint32_t)k + 1;
        }
    }
    return HAMF_OK;
}

/* Depth of every tree without recursion: children come after their parent
 * (checked by the loader and true of the learner), so one pass in index
 * order sees each parent's depth first. Returns -1 on a malformed tree. */
static int tree_depth(const struct hamf__tree *t, uint8_t *dep, int cap)
{
    int D = 0;
    dep[0] = 0;
    for (uint32_t k = 0; k < t->n_nodes; k++) {
        const struct hamf__node *nd = &t->nodes[k];
        if (nd->left < 0) continue;
        if ((uint32_t)nd->left <= k || (uint32_t)nd->right <= k || (uint32_t)nd->left >= t->n_nodes ||
            (uint32_t)nd->right >= t->n_nodes)
            return -1;
        int d = dep[k] + 1;
        if (d > cap) return cap + 1;
        dep[nd->left] = dep[nd->right] = (uint8_t)d;
        if (d > D) D = d;
    }
    return D;
}

bool hamf__model_is_deep(const struct hamf_ensemble *m)
{
    if (m->fast) return m->fast->deep;
    size_t maxn = 1;
    for (size_t t = 0; t < m->n_trees; t++)
        if (m->trees[t].n_nodes > maxn) maxn = m->trees[t].n_nodes;
    uint8_t *dep = hamf__malloc(maxn);
    bool deep = false;
    for (size_t t = 0; dep && t < m->n_trees && !deep; t++)
        deep = m->trees[t].n_nodes && tree_depth(&m->trees[t], dep, SHALLOW_MAX_DEPTH) > SHALLOW_MAX_DEPTH;
    hamf__free(dep);
    return deep;
}

static void pad(const struct hamf__tree *t, int32_t k, size_t pos, int d, int D, struct hamf__fast *fs, size_t tr,
                uint32_t *ncat)
{
    const struct hamf__node *nd = &t->nodes[k];
    if (d == D) {
        fs->leaf[fs->leaf_off[tr] + (pos - (((size_t)1 << D) - 1))] = nd->value;
        return;
    }
    struct snode *sn = &fs->sn[fs->node_off[tr] + pos];
    if (nd->left < 0) { /* a leaf above the last level: every bin goes left */
        *sn = (struct snode){0, 0, 255};
        pad(t, k, 2 * pos + 1, d + 1, D, fs, tr, ncat);
        pad(t, k, 2 * pos + 2, d + 1, D, fs, tr, ncat);
        return;
    }
    uint8_t sub, thr;
    if (numeric_form(nd, &sub, &thr)) {
        *sn = (struct snode){nd->feat, sub, thr};
    } else {
        uint32_t c = (*ncat)++;
        fill_bitset(t, nd, fs->cat + ((size_t)fs->cat_off[tr] + c) * fs->cw, fs->cw);
        *sn = (struct snode){nd->feat, SUB_CAT, (uint8_t)c};
        fs->has_cat = true;
    }
    pad(t, nd->left, 2 * pos + 1, d + 1, D, fs, tr, ncat);
    pad(t, nd->right, 2 * pos + 2, d + 1, D, fs, tr, ncat);
}

static _Atomic int simd_cap = 2;

void hamf__predict_set_simd(int level) { simd_cap = level; }

/* The widest vector path this CPU runs, capped by hamf__predict_set_simd. */
static int simd_level(void)
{
    int best = 0;
#if HAVE_X86
    __builtin_cpu_init();
    best = __builtin_cpu_supports("avx2") ? 2 : 1;
#elif defined(__SSE2__)
    best = 1;
#endif
#if !defined(__SSE2__)
    if (best == 1) best = 0;
#endif
    return best < simd_cap ? best : simd_cap;
}

static hamf_status prepare_shallow(struct hamf_ensemble *m, struct hamf__fast *fs)
{
    size_t nodes = 0, leaves = 0, cats = 0;
    for (size_t t = 0; t < m->n_trees; t++) {
        nodes += ((size_t)1 << fs->depth[t]) - 1;
        leaves += (size_t)1 << fs->depth[t];
        for (uint32_t k = 0; k < m->trees[t].n_nodes; k++) {
            const struct hamf__node *nd = &m->trees[t].nodes[k];
            uint8_t s, h;
            if (nd->left >= 0 && !numeric_form(nd, &s, &h)) cats++;
        }
    }
    fs->node_off = hamf__malloc((m->n_trees + 1) * sizeof *fs->node_off);
    fs->leaf_off = hamf__malloc((m->n_trees + 1) * sizeof *fs->leaf_off);
    fs->cat_off = hamf__malloc((m->n_trees + 1) * sizeof *fs->cat_off);
    fs->sn = hamf__malloc((nodes + 1) * sizeof *fs->sn);
    fs->leaf = hamf__malloc((leaves + 1) * sizeof *fs->leaf);
    fs->cat = hamf__malloc((cats + 1) * fs->cw * 4);
    if (!fs->node_off || !fs->leaf_off || !fs->cat_off || !fs->sn || !fs->leaf || !fs->cat || cats > UINT32_MAX)
        return HAMF_ERR_NOMEM;
    size_t no = 0, lo = 0, co = 0;
    for (size_t t = 0; t < m->n_trees; t++) {
        fs->node_off[t] = no;
        fs->leaf_off[t] = lo;
        fs->cat_off[t] = (uint32_t)co;
        uint32_t nc = 0;
        pad(&m->trees[t], 0, 0, 0, fs->depth[t], fs, t, &nc);
        no += ((size_t)1 << fs->depth[t]) - 1;
        lo += (size_t)1 << fs->depth[t];
        co += nc;
    }
    fs->ncat = co;
    fs->simd = simd_level();
    if (fs->simd == 2 && fs->cw <= 2 && co) { /* bins < 64: a byte table per bitset for vpshufb */
        if (!(fs->lut = hamf__malloc(co * 64))) return HAMF_ERR_NOMEM;
        for (size_t c = 0; c < co; c++)
            for (unsigned b = 0; b < 64; b++)
                fs->lut[c * 64 + b] = (uint8_t)(0u - cat_right(fs->cat + c * fs->cw, b & (fs->cw * 32 - 1)));
    }
    return HAMF_OK;
}

static hamf_status prepare_deep(struct hamf_ensemble *m, struct hamf__fast *fs)
{
    size_t total = 0, leaves = 0, cats = 0, maxn = 0;
    bool many = false;
    for (size_t t = 0; t < m->n_trees; t++) {
        const struct hamf__tree *tr = &m->trees[t];
        total += tr->n_nodes;
        if (tr->n_nodes > maxn) maxn = tr->n_nodes;
        size_t tc = tr->n_cats;
        for (uint32_t k = 0; k < tr->n_nodes; k++) {
            uint8_t s, h;
            if (tr->nodes[k].left < 0) leaves++;
            else if (!(tr->nodes[k].flags & HAMF_NODE_CAT) && !numeric_form(&tr->nodes[k], &s, &h)) tc++;
        }
        if (tc > HAMF__LOCAL_CATS) many = true;
        cats += tc;
    }
    if (total >= LEAF_BIT - 1 || leaves >= LEAF_BIT || cats >= UINT32_MAX) return HAMF_ERR_NOMEM;
    fs->deep = true;
    fs->node_off = hamf__malloc((m->n_trees + 1) * sizeof *fs->node_off);
    fs->cat_off = hamf__malloc((m->n_trees + 1) * sizeof *fs->cat_off);
    fs->dn = hamf__malloc((total + 1) * sizeof *fs->dn);
    fs->leaf = hamf__malloc((leaves + 1) * sizeof *fs->leaf);
    fs->cat = hamf__malloc((cats + 1) * fs->cw * 4);
    if (many) fs->aux = hamf__calloc(total + 1, sizeof *fs->aux);
    uint32_t *pos = hamf__malloc((maxn + 1) * sizeof *pos);
    int32_t *queue = hamf__malloc((maxn + 1) * sizeof *queue);
    if (!fs->node_off || !fs->cat_off || !fs->dn || !fs->leaf || !fs->cat || (many && !fs->aux) || !pos || !queue) {
        hamf__free(pos);
        hamf__free(queue);
        return HAMF_ERR_NOMEM;
    }
    size_t base = 0, lv = 0, nc = 0;
    for (size_t t = 0; t < m->n_trees; t++) {
        const struct hamf__tree *tr = &m->trees[t];
        fs->node_off[t] = base;
        fs->cat_off[t] = (uint32_t)nc;
        /* breadth first: the node taken from queue[q] goes to q, so the two
         * children of a node are adjacent and the top levels share cache
         * lines (a version 3 file stores the trees in this order) */
        size_t head = 0, tail = 0;
        queue[tail++] = 0;
        while (head < tail) {
            const struct hamf__node *nd = &tr->nodes[queue[head]];
            pos[queue[head]] = (uint32_t)head;
            head++;
            if (nd->left < 0) continue;
            if (tail + 2 > tr->n_nodes) { hamf__free(pos); hamf__free(queue); return HAMF_ERR_CORRUPT; }
            queue[tail++] = nd->left;
            queue[tail++] = nd->right;
        }
        if (tail != tr->n_nodes) { hamf__free(pos); hamf__free(queue); return HAMF_ERR_CORRUPT; }
        for (uint32_t c = 0; c < tr->n_cats; c++)
            memcpy(fs->cat + (nc + c) * fs->cw, tr->cat_bits + (size_t)c * 8, fs->cw * 4);
        size_t extra = tr->n_cats;
        for (uint32_t k = 0; k < tr->n_nodes; k++) {
            const struct hamf__node *nd = &tr->nodes[k];
            const size_t p = base + pos[k];
            struct dnode *c = &fs->dn[p];
            uint8_t sub, thr;
            if (nd->left < 0) {
                *c = (struct dnode){0, 0, 255, LEAF_BIT | (uint32_t)lv};
                fs->leaf[lv++] = nd->value;
                continue;
            }
            const uint32_t child = (uint32_t)(base + pos[nd->left]);
            if (numeric_form(nd, &sub, &thr)) {
                *c = (struct dnode){nd->feat, sub, thr, child};
                continue;
            }
            size_t local = nd->flags & HAMF_NODE_CAT ? nd->cat : extra++;
            if (!(nd->flags & HAMF_NODE_CAT)) fill_bitset(tr, nd, fs->cat + (nc + local) * fs->cw, fs->cw);
            if (local < HAMF__LOCAL_CATS)
                *c = (struct dnode){nd->feat, (uint8_t)(SUB_CAT | (local >> 8) << 2), (uint8_t)local, child};
            else
                *c = (struct dnode){nd->feat, SUB_CAT | 1, 0, child};
            if (fs->aux) fs->aux[p] = (uint32_t)(nc + local);
            fs->has_cat = true;
        }
        base += tr->n_nodes;
        nc += extra;
    }
    fs->node_off[m->n_trees] = base;
    fs->dn[base] = (struct dnode){0, 0, 255, (uint32_t)base}; /* the idle slots' self loop */
    if (fs->aux) fs->aux[base] = 0;
    fs->ncat = nc;
    hamf__free(pos);
    hamf__free(queue);
    return HAMF_OK;
}

/* Validate the trees' shape and build the predictor (after fit or load). */
hamf_status hamf__model_prepare(struct hamf_ensemble *m)
{
    hamf__model_drop_fast(m);
    if (m->bins.nf == 0 || m->bins.nf > 65535) return hamf__err(HAMF_ERR_CORRUPT, "model: bad feature count");
    struct hamf__fast *fs = hamf__calloc(1, sizeof *fs);
    if (!fs) return hamf__err(HAMF_ERR_NOMEM, "model: out of memory");
    m->fast = fs;
    fs->ntrees = m->n_trees;
    fs->depth = hamf__malloc(m->n_trees + 1);
    size_t maxn = 1;
    for (size_t t = 0; t < m->n_trees; t++)
        if (m->trees[t].n_nodes > maxn) maxn = m->trees[t].n_nodes;
    uint8_t *dep = hamf__malloc(maxn);
    hamf_status st = HAMF_OK;
    if (!fs->depth || !dep) { st = HAMF_ERR_NOMEM; goto done; }
    bool deep = false;
    for (size_t t = 0; t < m->n_trees; t++) {
        const struct hamf__tree *tr = &m->trees[t];
        if (tr->n_nodes == 0) { hamf__free(dep); hamf__model_drop_fast(m); return hamf__err(HAMF_ERR_CORRUPT, "model: tree %zu is empty", t); }
        int D = tree_depth(tr, dep, SHALLOW_MAX_DEPTH);
        if (D < 0) { hamf__free(dep); hamf__model_drop_fast(m); return hamf__err(HAMF_ERR_CORRUPT, "model: tree %zu: bad child index", t); }
        if (D > SHALLOW_MAX_DEPTH) deep = true;
        fs->depth[t] = (uint8_t)(D > SHALLOW_MAX_DEPTH ? 0 : D);
        for (uint32_t k = 0; k < tr->n_nodes; k++) {
            const struct hamf__node *nd = &tr->nodes[k];
            if (nd->left < 0) continue;
            if (nd->feat >= m->bins.nf || ((nd->flags & HAMF_NODE_CAT) && nd->cat >= tr->n_cats)) {
                hamf__free(dep);
                hamf__model_drop_fast(m);
                return hamf__err(HAMF_ERR_CORRUPT, "model: tree %zu node %u: feature or category set out of range", t, k);
            }
        }
    }
    /* bitset width: the widest feature a bitset split reads */
    fs->cw = 1;
    for (size_t t = 0; t < m->n_trees; t++)
        for (uint32_t k = 0; k < m->trees[t].n_nodes; k++) {
            const struct hamf__node *nd = &m->trees[t].nodes[k];
            uint8_t s, h;
            if (nd->left < 0 || numeric_form(nd, &s, &h)) continue;
            uint32_t w = (uint32_t)(m->bins.f[nd->feat].nbins + 31) / 32;
            if (w > fs->cw) fs->cw = w;
        }
    st = deep ? prepare_deep(m, fs) : prepare_shallow(m, fs);
    if (!st) st = hamf__fast_finish(m);
done:
    hamf__free(dep);
    if (st) {
        hamf__model_drop_fast(m);
        return st == HAMF_ERR_NOMEM ? hamf__err(st, "model: out of memory") : hamf__err(st, "model: malformed tree");
    }
    return HAMF_OK;
}

/* ---- walks ---- */

/* Shallow trees: rows x[nr][nf] (row-major), raw sums added to out.
 *
 * A tree of depth <= VEC_MAX_DEPTH goes 16 (SSE2) or 32 (AVX2) rows at a
 * time over a column-major copy of the block: at level d each row's node
 * index k in 0..2^d-1 is a byte, and every node of the level is applied to
 * all the rows, keeping the answer (2k or 2k+1 at the next level) of the
 * rows that sit on it. That is 2^D - 1 vector steps per 16/32 rows instead
 * of D dependent steps per row, and no data-dependent load: faster at
 * every shallow depth (measured single-threaded, AVX2, 20k rows: GB 1000 x
 * depth 6 0.20 -> 0.062 s CPU; 200 x depth 7 / 8 1.3-2.7x; the cap was
 * 5 before). Node indices stay bytes: a level-7 node is < 128. A bitset
 * split looks its 64 bins up with vpshufb (AVX2, bins < 64) or tests the
 * bits one by one. Every tree adds its leaves to one accumulator per row in
 * tree order, as the per-row path does, so the sums are the same bits.
 * Other trees (no SSE2) take the per-row walk. */
#define VEC_MAX_DEPTH SHALLOW_MAX_DEPTH
#define BLOCK_ROWS 256

static void shallow_tree_rows(const struct hamf__fast *fs, size_t t, const uint8_t *xb, size_t nf, size_t k,
                              double *ob)
{
    uint32_t pos[BLOCK_ROWS];
    const struct snode *sn = fs->sn + fs->node_off[t];
    const double *leaf = fs->leaf + fs->leaf_off[t];
    const int D = fs->depth[t];
    if (D == 0) {
        for (size_t r = 0; r < k; r++) ob[r] += leaf[0];
        return;
    }
    for (size_t r = 0; r < k; r++) pos[r] = 0;
    if (!fs->has_cat) {
        for (int d = 0; d < D; d++)
            for (size_t r = 0; r < k; r++) {
                struct snode n = sn[pos[r]];
                unsigned b = xb[r * nf + n.feat];
                pos[r] = 2 * pos[r] + 1 + ((uint8_t)(b - n.sub) > n.thr);
            }
    } else {
        const uint32_t *cat = fs->cat + (size_t)fs->cat_off[t] * fs->cw;
        for (int d = 0; d < D; d++)
            for (size_t r = 0; r < k; r++) {
                struct snode n = sn[pos[r]];
                unsigned b = xb[r * nf + n.feat];
                unsigned right = n.sub == SUB_CAT ? cat_right(cat + (size_t)n.thr * fs->cw, b)
                                                  : (uint8_t)(b - n.sub) > n.thr;
                pos[r] = 2 * pos[r] + 1 + right;
            }
    }
    const uint32_t base = (1u << D) - 1;
    for (size_t r = 0; r < k; r++) ob[r] += leaf[pos[r] - base];
}

#if defined(__SSE2__)
#include <emmintrin.h>

/* One tree of depth D over rows [0, kp) (kp a multiple of 16): xc[f * kp +
 * i] is row i's code of feature f; leaves added to acc[i]. */
static void tree_sse2(const struct hamf__fast *fs, size_t t, const uint8_t *xc, size_t kp, double *acc)
{
    const struct snode *sn = fs->sn + fs->node_off[t];
    const double *leaf = fs->leaf + fs->leaf_off[t];
    const uint32_t *cat = fs->cat + (size_t)fs->cat_off[t] * fs->cw;
    const int D = fs->depth[t];
    for (size_t i = 0; i < kp; i += 16) {
        __m128i pos = _mm_setzero_si128();
        for (int d = 0; d < D; d++) {
            const struct snode *lv = sn + ((1u << d) - 1);
            __m128i next = _mm_setzero_si128();
            for (unsigned k = 0; k < (1u << d); k++) {
                const struct snode n = lv[k];
                const uint8_t *col = xc + (size_t)n.feat * kp + i;
                __m128i right;
                if (n.sub == SUB_CAT) {
                    const uint32_t *set = cat + (size_t)n.thr * fs->cw;
                    uint8_t rt[16];
                    for (int j = 0; j < 16; j++) rt[j] = (uint8_t)(0u - cat_right(set, col[j]));
                    right = _mm_loadu_si128((const __m128i *)(const void *)rt);
                } else {
                    __m128i a = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)col),
                                             _mm_set1_epi8((char)n.sub));
                    /* right: a > thr, i.e. max(a, thr + 1) == a (never when thr is 255) */
                    right = n.thr == 255 ? _mm_setzero_si128()
                                         : _mm_cmpeq_epi8(_mm_max_epu8(a, _mm_set1_epi8((char)(n.thr + 1))), a);
                }
                __m128i child = _mm_sub_epi8(_mm_set1_epi8((char)(2 * k)), right); /* 2k or 2k + 1 */
                if (d) child = _mm_and_si128(child, _mm_cmpeq_epi8(pos, _mm_set1_epi8((char)k)));
                next = _mm_or_si128(next, child);
            }
            pos = next;
        }
        uint8_t lf[16];
        _mm_storeu_si128((__m128i *)(void *)lf, pos);
        for (int j = 0; j < 16; j++) acc[i + j] += leaf[lf[j]];
    }
}
#endif

#if HAVE_X86
/* The same, 32 rows at a time (kp a multiple of 32), node by node over all
 * the block's row groups so each node's constants are set up once; the
 * rows' node indices live in pos[] between levels. */
__attribute__((target("avx2"))) static void tree_avx2(const struct hamf__fast *fs, size_t t, const uint8_t *xc,
                                                      size_t kp, double *acc)
{
    const struct snode *sn = fs->sn + fs->node_off[t];
    const double *leaf = fs->leaf + fs->leaf_off[t];
    const uint32_t *cat = fs->cat + (size_t)fs->cat_off[t] * fs->cw;
    const uint8_t *lut = fs->lut ? fs->lut + (size_t)fs->cat_off[t] * 64 : NULL;
    const int D = fs->depth[t];
    const __m256i nib = _mm256_set1_epi8(0x0f);
    _Alignas(32) uint8_t buf[2][BLOCK_ROWS];
    uint8_t *pos = buf[0], *next = buf[1];
    /* One node over every 32-row group: RIGHT sets `right` (0xff = goes
     * right) from the group's codes `b`; at level 0 the child is stored, below
     * it is kept for the rows on this node (the loops are written out per
     * case so that no test is left inside them). */
#define NODE_LOOP(...)                                                                                      \
    do {                                                                                                    \
        if (d == 0)                                                                                         \
            for (size_t i = 0; i < kp; i += 32) {                                                           \
                __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(col + i)), right;          \
                __VA_ARGS__                                                                                 \
                _mm256_store_si256((__m256i *)(void *)(next + i), _mm256_sub_epi8(two_k, right));           \
            }                                                                                               \
        else                                                                                                \
            for (size_t i = 0; i < kp; i += 32) {                                                           \
                __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(col + i)), right;          \
                __VA_ARGS__                                                                                 \
                __m256i here = _mm256_cmpeq_epi8(_mm256_load_si256((const __m256i *)(const void *)(pos + i)), at); \
                __m256i *nx = (__m256i *)(void *)(next + i);                                                \
                _mm256_store_si256(nx, _mm256_or_si256(_mm256_load_si256(nx),                               \
                                                       _mm256_and_si256(here, _mm256_sub_epi8(two_k, right)))); \
            }                                                                                               \
    } while (0)
    for (int d = 0; d < D; d++) {
        const struct snode *lv = sn + ((1u << d) - 1);
        if (d) memset(next, 0, kp);
        for (unsigned k = 0; k < (1u << d); k++) {
            const struct snode n = lv[k];
            const uint8_t *col = xc + (size_t)n.feat * kp;
            const __m256i two_k = _mm256_set1_epi8((char)(2 * k)), at = _mm256_set1_epi8((char)k);
            if (n.sub == SUB_CAT && lut) { /* 64-byte table: quarter q answers bins 16q..16q+15 */
                const uint8_t *tb = lut + (size_t)n.thr * 64;
                const __m256i t0 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)tb));
                const __m256i t1 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(tb + 16)));
                const __m256i t2 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(tb + 32)));
                const __m256i t3 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(tb + 48)));
                const __m256i q1 = _mm256_set1_epi8(1), q2 = _mm256_set1_epi8(2), q3 = _mm256_set1_epi8(3);
                NODE_LOOP({
                    __m256i lo = _mm256_and_si256(b, nib), hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), nib);
                    right = _mm256_and_si256(_mm256_cmpeq_epi8(hi, _mm256_setzero_si256()), _mm256_shuffle_epi8(t0, lo));
                    right = _mm256_or_si256(right, _mm256_and_si256(_mm256_cmpeq_epi8(hi, q1), _mm256_shuffle_epi8(t1, lo)));
                    right = _mm256_or_si256(right, _mm256_and_si256(_mm256_cmpeq_epi8(hi, q2), _mm256_shuffle_epi8(t2, lo)));
                    right = _mm256_or_si256(right, _mm256_and_si256(_mm256_cmpeq_epi8(hi, q3), _mm256_shuffle_epi8(t3, lo)));
                });
            } else if (n.sub == SUB_CAT) {
                const uint32_t *set = cat + (size_t)n.thr * fs->cw;
                NODE_LOOP({
                    _Alignas(32) uint8_t rt[32];
                    _mm256_store_si256((__m256i *)(void *)rt, b);
                    for (int j = 0; j < 32; j++) rt[j] = (uint8_t)(0u - cat_right(set, rt[j]));
                    right = _mm256_load_si256((const __m256i *)(const void *)rt);
                });
            } else if (n.thr == 255) { /* nothing goes right (padding above a leaf) */
                NODE_LOOP({
                    (void)b;
                    right = _mm256_setzero_si256();
                });
            } else {
                /* right: b - sub > thr, i.e. max(b - sub, thr + 1) == b - sub */
                const __m256i sub = _mm256_set1_epi8((char)n.sub), thr1 = _mm256_set1_epi8((char)(n.thr + 1));
                NODE_LOOP({
                    __m256i a = _mm256_sub_epi8(b, sub);
                    right = _mm256_cmpeq_epi8(_mm256_max_epu8(a, thr1), a);
                });
            }
        }
        uint8_t *tmp = pos;
        pos = next;
        next = tmp;
    }
#undef NODE_LOOP
    /* leaves: 8 rows per step, gathered as doubles and added in place */
    for (size_t i = 0; i < kp; i += 8) {
        __m256i ix = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(pos + i)));
        double *o = acc + i;
        __m256d g0 = _mm256_i32gather_pd(leaf, _mm256_castsi256_si128(ix), 8);
        __m256d g1 = _mm256_i32gather_pd(leaf, _mm256_extracti128_si256(ix, 1), 8);
        _mm256_storeu_pd(o, _mm256_add_pd(_mm256_loadu_pd(o), g0));
        _mm256_storeu_pd(o + 4, _mm256_add_pd(_mm256_loadu_pd(o + 4), g1));
    }
}
#endif

static void shallow_block(const struct hamf__fast *fs, const uint8_t *x, size_t nf, size_t nr, double *out)
{
    const size_t lanes = fs->simd == 2 ? 32 : 16;
    uint8_t xc[65536]; /* the block, column-major: at most 64 KiB */
    double acc[BLOCK_ROWS];
    size_t rb = sizeof xc / nf;
    if (rb > BLOCK_ROWS) rb = BLOCK_ROWS;
    rb -= rb % lanes;
    const bool vec = fs->simd > 0 && rb > 0;
    const size_t step = vec ? rb : BLOCK_ROWS;
    for (size_t r0 = 0; r0 < nr; r0 += step) {
        size_t k = nr - r0 < step ? nr - r0 : step;
        const uint8_t *xb = x + r0 * nf;
        if (!vec) {
            for (size_t t = 0; t < fs->ntrees; t++) shallow_tree_rows(fs, t, xb, nf, k, out + r0);
            continue;
        }
        const size_t kp = (k + lanes - 1) / lanes * lanes;
        for (size_t f = 0; f < nf; f++) {
            uint8_t *col = xc + f * kp;
            for (size_t r = 0; r < k; r++) col[r] = xb[r * nf + f];
            for (size_t r = k; r < kp; r++) col[r] = 0; /* padding rows: scored, never read */
        }
        for (size_t r = 0; r < kp; r++) acc[r] = 0;
        for (size_t t = 0; t < fs->ntrees; t++) {
            const int D = fs->depth[t];
            if (D == 0 || D > VEC_MAX_DEPTH) shallow_tree_rows(fs, t, xb, nf, k, acc);
#if HAVE_X86
            else if (fs->simd == 2) tree_avx2(fs, t, xc, kp, acc);
#endif
#if defined(__SSE2__)
            else if (fs->simd == 1) tree_sse2(fs, t, xc, kp, acc);
#endif
            else shallow_tree_rows(fs, t, xb, nf, k, acc);
        }
        for (size_t r = 0; r < k; r++) out[r0 + r] += acc[r];
    }
}

/* One step from node p; `cat` is the tree's first bitset. */
static inline uint32_t deep_step(const struct hamf__fast *fs, const uint32_t *cat, uint32_t p, const uint8_t *row,
                                 bool cats)
{
    struct dnode n = fs->dn[p];
    unsigned b = row[n.feat];
    if (cats && n.sub >= SUB_CAT) {
        const uint32_t *set = (n.sub & 3) == SUB_CAT ? cat + ((size_t)n.thr | (size_t)(n.sub >> 2) << 8) * fs->cw
                                                    : fs->cat + (size_t)fs->aux[p] * fs->cw;
        return n.child + cat_right(set, b);
    }
    return n.child + ((uint8_t)(b - n.sub) > n.thr);
}

/* One deep tree over rows x[nr][nf]: GROUP slots step together; a slot
 * whose row reached its leaf takes the next row, so no slot waits for the
 * deepest row of a group. Idle slots sit on the sentinel node. */
static inline void deep_tree(const struct hamf__fast *fs, size_t t, const uint8_t *x, size_t nf, size_t nr,
                             double *out, bool cats)
{
    const uint32_t root = (uint32_t)fs->node_off[t], idle = (uint32_t)fs->node_off[fs->ntrees];
    const uint32_t *cat = fs->cat + (size_t)fs->cat_off[t] * fs->cw;
    const double *leaf = fs->leaf;
    uint32_t p[GROUP];
    const uint8_t *xr[GROUP];
    size_t row[GROUP], next = 0, live = 0;
    for (int j = 0; j < GROUP; j++) {
        if (next < nr) { p[j] = root; row[j] = next; xr[j] = x + next * nf; next++; live++; }
        else { p[j] = idle; row[j] = 0; xr[j] = x; }
    }
    while (live) {
        for (int j = 0; j < GROUP; j++) {
            uint32_t q = deep_step(fs, cat, p[j], xr[j], cats);
            if (!(q & LEAF_BIT)) { p[j] = q; continue; } /* idle slots loop here too */
            out[row[j]] += leaf[q & ~LEAF_BIT];
            if (next < nr) { p[j] = root; row[j] = next; xr[j] = x + next * nf; next++; }
            else { p[j] = idle; live--; }
        }
    }
}

#if HAVE_X86
/* Deep trees on AVX2: four vectors of 8 lanes walk one tree, a lane per row.
 * A step gathers the lanes' nodes (as two 32-bit halves), their rows'
 * codes and, when bitsets are at most 64 bits wide, both words of the
 * lane's bitset (the first bitset of the tree for a numeric split), so no
 * lane's test branches. The lanes a step took to a leaf reference are
 * packed to the front (a permutation looked up by the mask of those lanes)
 * and appended to a log of (reference, row); each takes the next row
 * (its rank among them, from a second table) or, past the last row, the
 * idle self loop. After the tree the log is added to the sums in one pass:
 * each row gets its leaf of every tree in tree order, the sums of
 * deep_tree to the bit. x needs DEEP_PAD readable bytes after its rows. */

/* One gather into a register just zeroed: a gather merges into its
 * destination, and gcc (seeing an all-ones mask) may otherwise pick a
 * register whose last writer is a long chain of the previous step. */
#define GATHER_DEF(name, scale)                                                                         \
    __attribute__((target("avx2"), always_inline)) static inline __m256i name(const int *base, __m256i ix) \
    {                                                                                                   \
        __m256i z = _mm256_setzero_si256(), all = _mm256_set1_epi32(-1);                                \
        __asm__("" : "+x"(z), "+x"(all));                                                               \
        return _mm256_mask_i32gather_epi32(z, base, ix, all, scale);                                    \
    }
GATHER_DEF(gather_s1, 1)
GATHER_DEF(gather_s4, 4)
GATHER_DEF(gather_s8, 8)

struct vwalk {
    const int *dlo, *dhi; /* the nodes' {feat, sub, thr} and child words */
    const int *cat;       /* the tree's first bitset */
    const uint8_t *x;
    const uint64_t *pack, *rank; /* per mask of lanes: the lanes in order; each lane's rank (bytes) */
    uint32_t *logq, *logr;
    __m256i root, idle, nf, nr, cw;
    size_t cnt;
    uint32_t next;
};

enum { VCAT_NONE, VCAT_WIDE1, VCAT_WIDE2, VCAT_ANY };

/* One step of 8 lanes (nodes *pp, rows *rowp); kind: VCAT_NONE (no
 * bitsets), VCAT_WIDE1 / VCAT_WIDE2 (bitsets of 1 / 2 words, no branch),
 * VCAT_ANY (any width, gathered only when a lane is on a bitset split). */
__attribute__((target("avx2,popcnt"), always_inline)) static inline void vstep(struct vwalk *w, __m256i *pp,
                                                                               __m256i *rowp, const int kind)
{
    const __m256i ff = _mm256_set1_epi32(0xff), c31 = _mm256_set1_epi32(31), one = _mm256_set1_epi32(1);
    const __m256i p = *pp, row = *rowp;
    const __m256i lo = gather_s8(w->dlo, p), hi = gather_s8(w->dhi, p);
    const __m256i feat = _mm256_and_si256(lo, _mm256_set1_epi32(0xffff));
    const __m256i sub = _mm256_and_si256(_mm256_srli_epi32(lo, 16), ff), thr = _mm256_srli_epi32(lo, 24);
    const __m256i b = _mm256_and_si256(
        gather_s1((const int *)(const void *)w->x, _mm256_add_epi32(_mm256_mullo_epi32(row, w->nf), feat)), ff);
    /* numeric: right = (uint8)(b - sub) > thr, as -1 */
    __m256i right = _mm256_cmpgt_epi32(_mm256_and_si256(_mm256_sub_epi32(b, sub), ff), thr);
    if (kind != VCAT_NONE) {
        const __m256i iscat = _mm256_cmpeq_epi32(_mm256_and_si256(sub, _mm256_set1_epi32(3)), _mm256_set1_epi32(SUB_CAT));
        __m256i local = _mm256_or_si256(thr, _mm256_slli_epi32(_mm256_srli_epi32(sub, 2), 8));
        __m256i word = _mm256_setzero_si256();
        bool any = true;
        if (kind == VCAT_WIDE1) {
            word = gather_s4(w->cat, _mm256_and_si256(local, iscat));
        } else if (kind == VCAT_WIDE2) { /* words 2 * local and 2 * local + 1: bins 0..31 and 32..63 */
            local = _mm256_and_si256(local, iscat);
            const __m256i w0 = gather_s8(w->cat, local), w1 = gather_s8(w->cat + 1, local);
            word = _mm256_blendv_epi8(w0, w1, _mm256_cmpgt_epi32(b, c31));
        } else if ((any = _mm256_movemask_epi8(iscat) != 0)) {
            const __m256i ix = _mm256_add_epi32(_mm256_mullo_epi32(local, w->cw), _mm256_srli_epi32(b, 5));
            word = _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), w->cat, ix, iscat, 4);
        }
        if (any) { /* bit clear = goes right: bit - 1 */
            const __m256i bit = _mm256_and_si256(_mm256_srlv_epi32(word, _mm256_and_si256(b, c31)), one);
            right = _mm256_blendv_epi8(right, _mm256_sub_epi32(bit, one), iscat);
        }
    }
    const __m256i q = _mm256_sub_epi32(hi, right);
    const unsigned m = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(q)); /* leaf references */
    const __m256i perm = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)&w->pack[m]));
    _mm256_storeu_si256((__m256i *)(void *)(w->logq + w->cnt), _mm256_permutevar8x32_epi32(q, perm));
    _mm256_storeu_si256((__m256i *)(void *)(w->logr + w->cnt), _mm256_permutevar8x32_epi32(row, perm));
    const unsigned k = (unsigned)_mm_popcnt_u32(m);
    w->cnt += k;
    const __m256i rank = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)&w->rank[m]));
    const __m256i nrow = _mm256_min_epu32(_mm256_add_epi32(_mm256_set1_epi32((int)w->next), rank), w->nr);
    const __m256i done = _mm256_srai_epi32(q, 31);
    *rowp = _mm256_blendv_epi8(row, nrow, done);
    *pp = _mm256_blendv_epi8(q, _mm256_blendv_epi8(w->root, w->idle, _mm256_cmpeq_epi32(nrow, w->nr)), done);
    w->next += k;
}

__attribute__((target("avx2,popcnt"), always_inline)) static inline void vtree(struct vwalk *w, uint32_t nr,
                                                                               const int kind)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i p[4], row[4];
    for (int v = 0; v < 4; v++) {
        row[v] = _mm256_min_epu32(_mm256_add_epi32(_mm256_set1_epi32(8 * v), iota), w->nr);
        p[v] = _mm256_blendv_epi8(w->root, w->idle, _mm256_cmpeq_epi32(row[v], w->nr));
    }
    w->next = nr < 32 ? nr : 32;
    w->cnt = 0;
    while (w->cnt < nr) { /* written out: four independent chains of loads */
        vstep(w, &p[0], &row[0], kind);
        vstep(w, &p[1], &row[1], kind);
        vstep(w, &p[2], &row[2], kind);
        vstep(w, &p[3], &row[3], kind);
        if (w->next > nr) w->next = nr;
    }
}

#define VTREE_DEF(name, kind)                                                                             \
    __attribute__((target("avx2,popcnt"), noinline)) static void name(struct vwalk *w, uint32_t nr) \
    {                                                                                                     \
        vtree(w, nr, kind);                                                                               \
    }
VTREE_DEF(vtree_plain, VCAT_NONE)
VTREE_DEF(vtree_wide1, VCAT_WIDE1)
VTREE_DEF(vtree_wide2, VCAT_WIDE2)
VTREE_DEF(vtree_any, VCAT_ANY)

/* The deep block on AVX2; false when it cannot run (then nothing is added). */
__attribute__((target("avx2,popcnt"))) static bool deep_block_avx2(const struct hamf__fast *fs, const uint8_t *x,
                                                                 size_t nf, size_t nr, double *out)
{
    if (!fs->lanes || fs->aux || nr < DEEP_VEC_MIN || nr >= (size_t)INT32_MAX / (nf + 1)) return false;
    uint32_t *log = hamf__malloc(2 * (nr + 8) * sizeof *log);
    if (!log) return false;
    struct vwalk w;
    w.dlo = (const int *)(const void *)fs->dn;
    w.dhi = w.dlo + 1;
    w.x = x;
    w.pack = fs->lanes;
    w.rank = fs->lanes + 256;
    w.logq = log;
    w.logr = log + nr + 8;
    w.idle = _mm256_set1_epi32((int)fs->node_off[fs->ntrees]);
    w.nf = _mm256_set1_epi32((int)nf);
    w.nr = _mm256_set1_epi32((int)nr);
    w.cw = _mm256_set1_epi32((int)fs->cw);
    for (size_t t = 0; t < fs->ntrees; t++) {
        w.root = _mm256_set1_epi32((int)fs->node_off[t]);
        w.cat = (const int *)(const void *)(fs->cat + (size_t)fs->cat_off[t] * fs->cw);
        if (!fs->has_cat) vtree_plain(&w, (uint32_t)nr);
        else if (fs->cw == 1) vtree_wide1(&w, (uint32_t)nr);
        else if (fs->cw == 2) vtree_wide2(&w, (uint32_t)nr);
        else vtree_any(&w, (uint32_t)nr);
        for (size_t i = 0; i < w.cnt; i++) out[w.logr[i]] += fs->leaf[w.logq[i] & ~LEAF_BIT];
    }
    hamf__free(log);
    return true;
}
#endif

static void deep_block(const struct hamf__fast *fs, const uint8_t *x, size_t nf, size_t nr, double *out)
{
#if HAVE_X86
    if (fs->simd == 2 && deep_block_avx2(fs, x, nf, nr, out)) return;
#endif
    if (fs->has_cat)
        for (size_t t = 0; t < fs->ntrees; t++) deep_tree(fs, t, x, nf, nr, out, true);
    else
        for (size_t t = 0; t < fs->ntrees; t++) deep_tree(fs, t, x, nf, nr, out, false);
}

/* Raw sums of row-major codes x[nr][nf] into out (overwritten). */
static double score_one(const struct hamf__fast *fs, const uint8_t *x);

/* Below this many rows a shallow model scores row by row: a vector step
 * costs the same for 1 row as for 32. */
#define FEW_ROWS 8

static void score_block(const struct hamf_ensemble *m, const uint8_t *x, size_t nr, double *out)
{
    if (!m->fast->deep && nr < FEW_ROWS) { /* the same sums, in the same tree order */
        for (size_t r = 0; r < nr; r++) out[r] = score_one(m->fast, x + r * m->bins.nf);
        return;
    }
    for (size_t r = 0; r < nr; r++) out[r] = 0;
    if (m->fast->deep) deep_block(m->fast, x, m->bins.nf, nr, out);
    else shallow_block(m->fast, x, m->bins.nf, nr, out);
}

static inline unsigned shallow_dir(struct snode n, const uint8_t *x, const uint32_t *cat, uint32_t cw)
{
    unsigned b = x[n.feat];
    return n.sub == SUB_CAT ? cat_right(cat + (size_t)n.thr * cw, b) : (uint8_t)(b - n.sub) > n.thr;
}

static double shallow_one(const struct hamf__fast *fs, size_t t, const uint8_t *x);

/* One row: all trees, no allocation. */
static double score_one(const struct hamf__fast *fs, const uint8_t *x)
{
    double s = 0;
    if (fs->deep) {
        for (size_t t = 0; t < fs->ntrees; t++) {
            uint32_t p = (uint32_t)fs->node_off[t], q;
            const uint32_t *cat = fs->cat + (size_t)fs->cat_off[t] * fs->cw;
            while (!((q = deep_step(fs, cat, p, x, true)) & LEAF_BIT)) p = q;
            s += fs->leaf[q & ~LEAF_BIT];
        }
        return s;
    }
    size_t t = 0;
    /* four trees of one depth at a time: four independent chains of loads */
    for (; t + 4 <= fs->ntrees; t += 4) {
        const int D = fs->depth[t];
        if (fs->depth[t + 1] != D || fs->depth[t + 2] != D || fs->depth[t + 3] != D) {
            for (size_t u = t; u < t + 4; u++) s += shallow_one(fs, u, x);
            continue;
        }
        const struct snode *s0 = fs->sn + fs->node_off[t], *s1 = fs->sn + fs->node_off[t + 1],
                           *s2 = fs->sn + fs->node_off[t + 2], *s3 = fs->sn + fs->node_off[t + 3];
        uint32_t p0 = 0, p1 = 0, p2 = 0, p3 = 0;
        if (fs->has_cat) {
            const uint32_t cw = fs->cw;
            const uint32_t *c0 = fs->cat + (size_t)fs->cat_off[t] * cw, *c1 = fs->cat + (size_t)fs->cat_off[t + 1] * cw,
                           *c2 = fs->cat + (size_t)fs->cat_off[t + 2] * cw, *c3 = fs->cat + (size_t)fs->cat_off[t + 3] * cw;
            for (int d = 0; d < D; d++) {
                p0 = 2 * p0 + 1 + shallow_dir(s0[p0], x, c0, cw);
                p1 = 2 * p1 + 1 + shallow_dir(s1[p1], x, c1, cw);
                p2 = 2 * p2 + 1 + shallow_dir(s2[p2], x, c2, cw);
                p3 = 2 * p3 + 1 + shallow_dir(s3[p3], x, c3, cw);
            }
        } else {
            for (int d = 0; d < D; d++) {
                p0 = 2 * p0 + 1 + ((uint8_t)(x[s0[p0].feat] - s0[p0].sub) > s0[p0].thr);
                p1 = 2 * p1 + 1 + ((uint8_t)(x[s1[p1].feat] - s1[p1].sub) > s1[p1].thr);
                p2 = 2 * p2 + 1 + ((uint8_t)(x[s2[p2].feat] - s2[p2].sub) > s2[p2].thr);
                p3 = 2 * p3 + 1 + ((uint8_t)(x[s3[p3].feat] - s3[p3].sub) > s3[p3].thr);
            }
        }
        const uint32_t base = (1u << D) - 1;
        s += fs->leaf[fs->leaf_off[t] + p0 - base];     /* in tree order, as the batch path adds */
        s += fs->leaf[fs->leaf_off[t + 1] + p1 - base];
        s += fs->leaf[fs->leaf_off[t + 2] + p2 - base];
        s += fs->leaf[fs->leaf_off[t + 3] + p3 - base];
    }
    for (; t < fs->ntrees; t++) s += shallow_one(fs, t, x);
    return s;
}

static double shallow_one(const struct hamf__fast *fs, size_t t, const uint8_t *x)
{
    {
        const struct snode *sn = fs->sn + fs->node_off[t];
        const int D = fs->depth[t];
        uint32_t p = 0;
        if (fs->has_cat) {
            const uint32_t *cat = fs->cat + (size_t)fs->cat_off[t] * fs->cw;
            for (int d = 0; d < D; d++) {
                struct snode n = sn[p];
                unsigned b = x[n.feat];
                p = 2 * p + 1 + (n.sub == SUB_CAT ? cat_right(cat + (size_t)n.thr * fs->cw, b) : (uint8_t)(b - n.sub) > n.thr);
            }
        } else {
            for (int d = 0; d < D; d++) {
                struct snode n = sn[p];
                p = 2 * p + 1 + ((uint8_t)(x[n.feat] - n.sub) > n.thr);
            }
        }
        return fs->leaf[fs->leaf_off[t] + p - ((1u << D) - 1)];
    }
}

static double finish(const struct hamf_ensemble *m, double s)
{
    if (m->algorithm == HAMF_ALGO_RANDOM_FOREST) return m->n_trees ? s / (double)m->n_trees : 0.5;
    s += m->init_score;
    return s >= 0 ? 1 / (1 + exp(-s)) : exp(s) / (1 + exp(s));
}

static double raw_score(const struct hamf_ensemble *m, double s)
{
    return m->algorithm == HAMF_ALGO_RANDOM_FOREST ? s / (double)(m->n_trees ? m->n_trees : 1) : s + m->init_score;
}

/* ---- batch over a dataset ---- */

struct pred_ctx {
    const struct hamf_ensemble *m;
    const uint8_t *codes;
    size_t n, rows_per_task;
    double *out;
    bool proba;
    hamf_progress_fn progress;
    void *progress_ctx;
    _Atomic size_t done;
};

#define TASK_BYTES (64 * 1024)

static void task_predict(void *vctx, size_t task, int tid)
{
    struct pred_ctx *c = vctx;
    const size_t nf = c->m->bins.nf;
    size_t i0 = task * c->rows_per_task, i1 = i0 + c->rows_per_task < c->n ? i0 + c->rows_per_task : c->n;
    uint8_t *x = hamf__malloc((i1 - i0) * nf + DEEP_PAD);
    if (!x) { /* degrade to small stack blocks */
        uint8_t xs[4096];
        size_t step = nf <= sizeof xs - DEEP_PAD ? (sizeof xs - DEEP_PAD) / nf : 0;
        for (size_t b0 = i0; b0 < i1; b0 += step ? step : 1) {
            size_t nr = step ? (b0 + step < i1 ? step : i1 - b0) : 1;
            for (size_t r = 0; r < nr && step; r++)
                for (size_t f = 0; f < nf; f++) xs[r * nf + f] = c->codes[f * c->n + b0 + r];
            if (step) memset(xs + nr * nf, 0, DEEP_PAD);
            if (step) score_block(c->m, xs, nr, c->out + b0);
            else c->out[b0] = NAN;
        }
    } else {
        const size_t nr = i1 - i0;
        for (size_t f = 0; f < nf; f++) {
            const uint8_t *col = c->codes + f * c->n + i0;
            for (size_t r = 0; r < nr; r++) x[r * nf + f] = col[r];
        }
        memset(x + nr * nf, 0, DEEP_PAD);
        score_block(c->m, x, nr, c->out + i0);
        hamf__free(x);
    }
    for (size_t i = i0; i < i1; i++) c->out[i] = c->proba ? finish(c->m, c->out[i]) : raw_score(c->m, c->out[i]);
    size_t d = atomic_fetch_add(&c->done, i1 - i0) + (i1 - i0);
    if (tid == 0 && c->progress) c->progress(c->progress_ctx, d, c->n);
}

static hamf_status predict_codes(const struct hamf_ensemble *m, const uint8_t *codes, size_t n, int threads,
                                 bool proba, double *out, hamf_progress_fn progress, void *pctx)
{
    if (!m->fast) return hamf__err(HAMF_ERR_MISUSE, "predict: model not prepared");
    struct hamf__pool *pool = NULL;
    /* tasks of ~64 KiB of codes (>= 256 rows), at most 4096 rows: a deep
     * tree is read once per task */
    size_t rows = TASK_BYTES / m->bins.nf;
    if (rows < 256) rows = 256;
    if (rows > 4096) rows = 4096;
    size_t ntask = (n + rows - 1) / rows;
    if (ntask > 1) {
        hamf_status st = hamf__pool_new(threads, &pool);
        if (st) return st;
    }
    struct pred_ctx c = {m, codes, n, rows, out, proba, progress, pctx, 0};
    hamf__pool_run(pool, ntask, task_predict, &c);
    hamf__pool_free(pool);
    if (progress) progress(pctx, n, n);
    return HAMF_OK;
}

hamf_status hamf__model_score_codes(const struct hamf_ensemble *m, const uint8_t *codes, size_t n, int threads,
                                    double *out)
{
    return predict_codes(m, codes, n, threads, false, out, NULL, NULL);
}

hamf_status hamf_ensemble_predict_progress(const hamf_ensemble *m, const hamf_dataset *d, int threads, double *proba,
                                           hamf_progress_fn progress, void *progress_ctx)
{
    if (!m || !d || !proba) return hamf__err(HAMF_ERR_MISUSE, "predict: NULL argument");
    hamf_status st = HAMF_OK;
    size_t *colmap = hamf__calloc(m->bins.nf + 1, sizeof *colmap);
    uint8_t *codes = NULL;
    struct hamf__pool *pool = NULL;
    struct hamf__buf miss;
    hamf__buf_init(&miss, 4096);
    if (!colmap) { st = hamf__err(HAMF_ERR_NOMEM, "predict: out of memory"); goto cleanup; }
    size_t nmiss = 0;
    for (size_t f = 0; f < m->bins.nf; f++) {
        size_t c = 0;
        while (c < d->ncols && strcmp(d->cols[c].name, m->bins.f[f].name)) c++;
        if (c == d->ncols) {
            hamf__buf_printf(&miss, "%s'%s'", nmiss ? ", " : "", m->bins.f[f].name);
            nmiss++;
        }
        colmap[f] = c;
    }
    if (nmiss) {
        st = hamf__err(HAMF_ERR_SCHEMA, "the data lacks %zu column%s the model needs: %s", nmiss,
                       nmiss == 1 ? "" : "s", miss.data ? miss.data : "");
        goto cleanup;
    }
    if (d->n == 0) goto cleanup;
    if ((st = hamf__pool_new(threads, &pool))) goto cleanup;
    if ((st = hamf__binmap_apply(&m->bins, d, colmap, pool, &codes))) goto cleanup;
    hamf__pool_free(pool);
    pool = NULL;
    st = predict_codes(m, codes, d->n, threads, true, proba, progress, progress_ctx);
cleanup:
    hamf__buf_free(&miss);
    hamf__pool_free(pool);
    hamf__free(codes);
    hamf__free(colmap);
    return st;
}

hamf_status hamf_ensemble_predict(const hamf_ensemble *m, const hamf_dataset *d, int threads, double *proba)
{
    return hamf_ensemble_predict_progress(m, d, threads, proba, NULL, NULL);
}

/* ---- single rows ---- */

static uint8_t cat_bin(const struct hamf_ensemble *m, size_t f, const char *s)
{
    const struct hamf__feat *ft = &m->bins.f[f];
    const struct hamf__cat_hash *h = &m->fast->ch[f];
    if (!s || !h->slot) return 0;
    for (uint32_t i = str_hash(s) & h->mask; h->slot[i]; i = (i + 1) & h->mask)
        if (!strcmp(ft->cats[h->slot[i] - 1], s)) return ft->cat_bin[h->slot[i] - 1];
    return 0;
}

static void bin_row(const struct hamf_ensemble *m, const double *values, const char *const *cats, uint8_t *x)
{
    for (size_t f = 0; f < m->bins.nf; f++) {
        const struct hamf__feat *ft = &m->bins.f[f];
        if (ft->is_cat) x[f] = cat_bin(m, f, cats ? cats[f] : NULL);
        else x[f] = values ? hamf__bin_value(ft, values[f]) : 0;
    }
}

hamf_status hamf_ensemble_predict_row(const hamf_ensemble *m, const double *values, const char *const *cats,
                                      double *proba)
{
    if (!m || !proba) return hamf__err(HAMF_ERR_MISUSE, "predict: NULL argument");
    if (!m->fast) return hamf__err(HAMF_ERR_MISUSE, "predict: model not prepared");
    uint8_t x[m->bins.nf]; /* at most 64 KiB (nf <= 65535): no allocation */
    bin_row(m, values, cats, x);
    *proba = finish(m, score_one(m->fast, x));
    return HAMF_OK;
}

/* Rows values[i*nf + f] / cats[i*nf + f], in blocks binned on the stack. */
hamf_status hamf__model_predict_rows(const struct hamf_ensemble *m, size_t n, const double *values,
                                     const char *const *cats, double *proba)
{
    if (!m || !proba || (n && !values && !cats)) return hamf__err(HAMF_ERR_MISUSE, "predict: NULL argument");
    if (!m->fast) return hamf__err(HAMF_ERR_MISUSE, "predict: model not prepared");
    const size_t nf = m->bins.nf;
    uint8_t x[65536 + DEEP_PAD];
    size_t step = 65536 / nf;
    if (step > 256) step = 256;
    for (size_t i0 = 0; i0 < n; i0 += step) {
        size_t nr = n - i0 < step ? n - i0 : step;
        for (size_t r = 0; r < nr; r++)
            bin_row(m, values ? values + (i0 + r) * nf : NULL, cats ? cats + (i0 + r) * nf : NULL, x + r * nf);
        memset(x + nr * nf, 0, DEEP_PAD);
        score_block(m, x, nr, proba + i0);
        for (size_t r = 0; r < nr; r++) proba[i0 + r] = finish(m, proba[i0 + r]);
    }
    return HAMF_OK;
}
