/*
 * tree.c — the histogram tree learner shared by gradient boosting and the
 * random forest, plus split evaluation and tree node storage.
 *
 * GB learner (hamf__learner_grow): rounds of splits over a row-index
 * partition. Each round picks the nodes to split (depth-wise: every open
 * node; leaf-wise: the open node with the best gain), partitions their rows
 * stably (one pass per chunk into two scratch runs, then placed), builds
 * the gradient/hessian histogram of the smaller child only and derives the
 * larger child's as parent minus smaller (the subtraction trick).
 * Histogram builds work on shards of a node's positions whose number
 * depends only on the node's size; each shard sums float (g, h) pairs in
 * row order into two interleaved copies over row-major per-row bundle
 * offsets, and shards are widened to double and added in shard order, so
 * the result does not depend on the thread count. The root of a tree on
 * all rows reads rows in order, without an index.
 *
 * RF learner (hamf__rf_grow): one tree per thread, depth-first, per node a
 * fresh random subset of features whose histograms are built directly from
 * the column-major codes (the parent has no histogram for those features).
 *
 * Splits: numeric features scan bins left to right with missing (bin 0)
 * tried on both sides; categorical features order their categories by
 * G/(H+l2) and scan prefixes of that order (the left set is stored as a
 * 256-bit bitset). Gain = GL^2/(HL+l2) + GR^2/(HR+l2) - G^2/(H+l2), which is
 * the Newton gain for GB and the (weighted) Gini/variance reduction for RF.
 */
#include "ml.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- tree storage ---- */

void hamf__tree_clear(struct hamf__tree *t)
{
    if (!t) return;
    hamf__free(t->nodes);
    hamf__free(t->cat_bits);
    memset(t, 0, sizeof *t);
}

static int32_t tree_add(struct hamf__tree *t)
{
    if (t->n_nodes == t->cap_nodes) {
        uint32_t nc = t->cap_nodes ? t->cap_nodes * 2 : 64;
        struct hamf__node *nn = hamf__realloc(t->nodes, nc * sizeof *nn);
        if (!nn) return -1;
        t->nodes = nn;
        t->cap_nodes = nc;
    }
    struct hamf__node *nd = &t->nodes[t->n_nodes];
    memset(nd, 0, sizeof *nd);
    nd->left = nd->right = -1;
    return (int32_t)t->n_nodes++;
}

static int64_t tree_add_cat(struct hamf__tree *t, const uint32_t bits[8])
{
    if (t->n_cats == t->cap_cats) {
        uint32_t nc = t->cap_cats ? t->cap_cats * 2 : 8;
        uint32_t *nb = hamf__realloc(t->cat_bits, (size_t)nc * 8 * sizeof *nb);
        if (!nb) return -1;
        t->cat_bits = nb;
        t->cap_cats = nc;
    }
    memcpy(t->cat_bits + (size_t)t->n_cats * 8, bits, 8 * sizeof *bits);
    return t->n_cats++;
}

/* ---- split evaluation ---- */

struct split {
    double gain;
    int feat;          /* -1 = none */
    uint8_t thr, flags;
    uint32_t bits[8];  /* categorical: left bins */
    double GL, HL;     /* left child sums */
};

static inline double score(double g, double h, double l2) { return g * g / (h + l2); }

struct catent { double key; int bin; };
static int cmp_catent(const void *a, const void *b)
{
    const struct catent *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->bin - y->bin;
}

/* Best split of one feature given its histogram hg/hh (stride 2: hist[2b],
 * hist[2b+1]); updates *best when strictly better. */
static void eval_feature(const double *hist, int f, int nb, bool is_cat, double G, double H,
                         const struct hamf__learn_params *p, struct split *best)
{
    const double l2 = p->l2, mh = p->min_hess;
    const double parent = score(G, H, l2);
    double floor_gain = best->gain > p->min_gain ? best->gain : p->min_gain;
    if (!is_cat) {
        double Gm = hist[0], Hm = hist[1];
        double GL = 0, HL = 0;
        for (int t = 1; t < nb - 1; t++) {
            GL += hist[2 * t];
            HL += hist[2 * t + 1];
            /* missing right */
            double HR = H - HL;
            if (HL >= mh && HR >= mh && HL > 0 && HR > 0) {
                double gn = score(GL, HL, l2) + score(G - GL, HR, l2) - parent;
                if (gn > floor_gain + 1e-12 * fabs(parent)) {
                    floor_gain = gn;
                    best->gain = gn; best->feat = f; best->thr = (uint8_t)t; best->flags = 0;
                    best->GL = GL; best->HL = HL;
                }
            }
            if (Hm > 0) {
                double gl = GL + Gm, hl = HL + Hm, hr = H - hl;
                if (hl >= mh && hr >= mh && hr > 0) {
                    double gn = score(gl, hl, l2) + score(G - gl, hr, l2) - parent;
                    if (gn > floor_gain + 1e-12 * fabs(parent)) {
                        floor_gain = gn;
                        best->gain = gn; best->feat = f; best->thr = (uint8_t)t;
                        best->flags = HAMF_NODE_DEFAULT_LEFT;
                        best->GL = gl; best->HL = hl;
                    }
                }
            }
        }
        /* all values left, missing right */
        if (Hm > 0 && nb >= 2) {
            double gl = G - Gm, hl = H - Hm;
            if (hl >= mh && Hm >= mh && hl > 0) {
                double gn = score(gl, hl, l2) + score(Gm, Hm, l2) - parent;
                if (gn > floor_gain + 1e-12 * fabs(parent)) {
                    best->gain = gn; best->feat = f; best->thr = (uint8_t)(nb - 1); best->flags = 0;
                    best->GL = gl; best->HL = hl;
                }
            }
        }
        return;
    }
    struct catent ent[HAMF_MAX_BINS];
    int ne = 0;
    for (int b = 0; b < nb; b++)
        if (hist[2 * b + 1] > 0) {
            ent[ne].key = hist[2 * b] / (hist[2 * b + 1] + l2);
            ent[ne].bin = b;
            ne++;
        }
    if (ne < 2) return;
    qsort(ent, (size_t)ne, sizeof *ent, cmp_catent);
    double GL = 0, HL = 0;
    int bestk = -1;
    double bgl = 0, bhl = 0;
    for (int k = 0; k < ne - 1; k++) {
        GL += hist[2 * ent[k].bin];
        HL += hist[2 * ent[k].bin + 1];
        double HR = H - HL;
        if (HL < mh || HR < mh || HR <= 0) continue;
        double gn = score(GL, HL, l2) + score(G - GL, HR, l2) - parent;
        if (gn > floor_gain + 1e-12 * fabs(parent)) {
            floor_gain = gn;
            bestk = k; bgl = GL; bhl = HL;
        }
    }
    if (bestk < 0) return;
    best->gain = floor_gain; best->feat = f; best->thr = 0; best->flags = HAMF_NODE_CAT;
    best->GL = bgl; best->HL = bhl;
    memset(best->bits, 0, sizeof best->bits);
    for (int k = 0; k <= bestk; k++) best->bits[ent[k].bin >> 5] |= 1u << (ent[k].bin & 31);
}

static inline int goes_left(const struct split *s, uint8_t b)
{
    if (s->flags & HAMF_NODE_CAT) return (s->bits[b >> 5] >> (b & 31)) & 1;
    if (b == 0) return s->flags & HAMF_NODE_DEFAULT_LEFT;
    return b <= s->thr;
}

static hamf_status apply_split(struct hamf__tree *t, int32_t id, const struct split *s)
{
    int64_t cat = 0;
    if (s->flags & HAMF_NODE_CAT) {
        cat = tree_add_cat(t, s->bits);
        if (cat < 0) return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
    }
    int32_t l = tree_add(t), r = l >= 0 ? tree_add(t) : -1;
    if (l < 0 || r < 0) return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
    struct hamf__node *nd = &t->nodes[id];
    nd->left = l;
    nd->right = r;
    nd->feat = (uint16_t)s->feat;
    nd->thr = s->thr;
    nd->flags = s->flags;
    nd->cat = (uint32_t)cat;
    nd->gain = (float)s->gain;
    return HAMF_OK;
}

static double leaf_value(const struct hamf__learn_params *p, double G, double H)
{
    if (p->newton) return -G / (H + p->l2) * p->scale;
    return H > 0 ? G / H : 0;
}

/* ======================================================================== */
/* GB learner                                                               */
/* ======================================================================== */

#define PART_CHUNK 8192
#define PAR_MIN_ROWS 32768

struct gnode {
    uint32_t begin, end;
    int depth;
    int32_t tid;        /* tree node */
    double G, H;
    double *hist;       /* nf*512 doubles or NULL */
    struct split best;
    bool open;          /* may still be split */
    uint8_t lut[HAMF_MAX_BINS]; /* bin -> goes left, for the chosen split */
    bool routed;        /* leaf whose rows were scored by routing, not by range */
    double hG, hH;      /* sums of the built histogram (first bundle's bins) */
};

struct hamf__learner {
    const struct hamf__train_data *td;
    struct hamf__pool *pool;
    size_t hsize;              /* doubles per histogram */
    size_t *hoff;              /* per feature: offset (in doubles) of its bins */
    uint32_t *idx, *tmp;
    uint32_t *tmp2;            /* partition scratch: right rows */
    struct gnode *nodes;       /* indexed by tree node id */
    size_t cap_nodes;
    double **free_hist;
    size_t n_free, cap_free;
    uint32_t *nbeg, *nend;     /* per tree node, after grow */
    /* per-round scratch */
    uint32_t *chunk_node, *chunk_lo, *chunk_hi, *chunk_left, *chunk_off;
    size_t cap_chunks;
    int32_t *round, *build;    /* node ids */
    int32_t *evalq;            /* node ids to evaluate this round */
    size_t nround, nbuild;
    const float *gh;
    const uint8_t *fmask;
    const struct hamf__learn_params *p;
    int feat_order_n;
    double *score;             /* GB scores to update with the new tree, or NULL */
    float **spare;             /* per thread: second bundle histogram for interleaving */
    int nthreads;
    /* Feature bundles: features with few bins are packed together (joint
     * code = mixed-radix combination, <= 256 values) so one histogram update
     * serves several features; the joint histogram is then expanded back
     * into per-feature histograms. Singletons hold one feature each. */
    size_t nbund;
    uint8_t *brows;            /* n x nbund joint codes, row-major (or NULL) */
    uint16_t *brows16;         /* or: n x nbund histogram offsets (boff + 2 code) */
    size_t *boff;              /* per bundle: offset (doubles) in bundle hist */
    size_t *bfirst;            /* per bundle: first index into bfeat */
    uint16_t *bfeat;           /* features of each bundle, in order */
    uint32_t *bstride;         /* radix of each entry of bfeat */
    uint32_t *leaf_ids;
    size_t n_leaf_ids, cap_leaf_ids;
    /* histogram build tasks (node shards) */
    uint32_t *bt_lo, *bt_hi;   /* per task: positions */
    size_t *bt_node;           /* per task: index into build[] */
    uint32_t *bt_slot;         /* per task: tbuf slot, UINT32_MAX = one-shard node */
    size_t cap_bt;
    uint32_t *mnode, *mslot;   /* multi-shard nodes: build index, first slot */
    size_t cap_multi, cap_slots;
    float *tbuf;               /* per slot: bundle histogram (float) */
    float **bscr;              /* per thread: bundle histogram of a one-shard node */
    double **bdbl;             /* per thread: merged bundle histogram */
    bool bt_ident;
    struct hamf__grad_prep *prep; /* root build only: fill gh per shard first */
};

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
    /* bundles */
    l->boff = hamf__malloc((td->nf + 1) * sizeof *l->boff);
    l->bfirst = hamf__malloc((td->nf + 1) * sizeof *l->bfirst);
    l->bfeat = hamf__malloc((td->nf + 1) * sizeof *l->bfeat);
    l->bstride = hamf__malloc((td->nf + 1) * sizeof *l->bstride);
    l->bdbl = hamf__calloc((size_t)nt, sizeof *l->bdbl);
    l->bscr = hamf__calloc((size_t)nt, sizeof *l->bscr);
    if (!l->boff || !l->bfirst || !l->bfeat || !l->bstride || !l->bdbl || !l->bscr) {
        hamf__learner_free(l);
        return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
    }
    /* First-fit decreasing: features by bin count, largest first (ties in
     * feature order); each joins the first bundle whose joint size times
     * its bin count stays <= 256, else opens a bundle. */
    size_t nb = 0, ne = 0, boff = 0;
    uint32_t *bj = hamf__malloc((td->nf + 1) * sizeof *bj);
    uint16_t *order = hamf__malloc((td->nf + 1) * sizeof *order);
    size_t *asg = hamf__malloc((td->nf + 1) * sizeof *asg);
    if (!bj || !order || !asg) {
        hamf__free(bj); hamf__free(order); hamf__free(asg);
        hamf__learner_free(l);
        return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
    }
    for (size_t f = 0; f < td->nf; f++) {
        size_t q = f;
        while (q > 0 && td->nbins[order[q - 1]] < td->nbins[f]) { order[q] = order[q - 1]; q--; }
        order[q] = (uint16_t)f;
    }
    for (size_t q = 0; q < td->nf; q++) {
        size_t f = order[q];
        uint32_t k = (uint32_t)(td->nbins[f] > 0 ? td->nbins[f] : 1);
        size_t j = 0;
        while (j < nb && bj[j] * k > 256) j++;
        if (j == nb) bj[nb++] = 1;
        asg[f] = j;
        bj[j] *= k;
    }
    for (size_t j = 0; j < nb; j++) {
        l->boff[j] = boff;
        l->bfirst[j] = ne;
        uint32_t stride = 1;
        for (size_t q = 0; q < td->nf; q++) {
            size_t f = order[q];
            if (asg[f] != j) continue;
            l->bfeat[ne] = (uint16_t)f;
            l->bstride[ne] = stride;
            stride *= (uint32_t)(td->nbins[f] > 0 ? td->nbins[f] : 1);
            ne++;
        }
        boff += 2 * (size_t)bj[j];
    }
    hamf__free(bj);
    hamf__free(order);
    hamf__free(asg);
    l->boff[nb] = boff;
    l->bfirst[nb] = ne;
    l->nbund = nb;
    if (boff + 2 <= 65535) l->brows16 = hamf__malloc((td->n * (nb ? nb : 1) + 1) * sizeof *l->brows16);
    else l->brows = hamf__malloc(td->n * (nb ? nb : 1) + 1);
    if (!l->brows && !l->brows16) { hamf__learner_free(l); return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory"); }
    for (size_t i = 0; i < td->n; i++)
        for (size_t j = 0; j < nb; j++) {
            uint32_t c = 0;
            for (size_t q = l->bfirst[j]; q < l->bfirst[j + 1]; q++)
                c += (uint32_t)td->rows[i * td->nf + l->bfeat[q]] * l->bstride[q];
            if (l->brows16) l->brows16[i * nb + j] = (uint16_t)(l->boff[j] + 2 * c);
            else l->brows[i * nb + j] = (uint8_t)c;
        }
    for (int i = 0; i < nt; i++) {
        l->bdbl[i] = hamf__malloc((boff + 2) * sizeof(double));
        l->bscr[i] = hamf__malloc((boff + 2) * sizeof(float));
        l->spare[i] = hamf__malloc((boff + 2) * sizeof(float));
        if (!l->bdbl[i] || !l->bscr[i] || !l->spare[i]) { hamf__learner_free(l); return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory"); }
    }
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
    hamf__free(l->evalq);
    hamf__free(l->leaf_ids);
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

static double *hist_get(struct hamf__learner *l)
{
    if (l->n_free) return l->free_hist[--l->n_free];
    return hamf__malloc(l->hsize * sizeof(double));
}

static hamf_status hist_put(struct hamf__learner *l, double *h)
{
    if (!h) return HAMF_OK;
    if (l->n_free == l->cap_free) {
        size_t nc = l->cap_free ? l->cap_free * 2 : 16;
        double **nf = hamf__realloc(l->free_hist, nc * sizeof *nf);
        if (!nf) { hamf__free(h); return HAMF_OK; }
        l->free_hist = nf;
        l->cap_free = nc;
    }
    l->free_hist[l->n_free++] = h;
    return HAMF_OK;
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
    int32_t *eq = hamf__realloc(l->evalq, nc * sizeof *eq);
    if (eq) l->evalq = eq;
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

/* histogram of rows idx[b..e) for features [f0,f1) into hist (zeroed here).
 * Each feature's bins are summed in row order, whatever the blocking. The
 * scratch sums are (g, h) float pairs: the whole bundle histogram (and its
 * interleaved twin) then stays in L1, which is what bounds the build. They
 * are widened to doubles when expanded into the node histogram, so the
 * subtraction trick and split evaluation work in double. With SSE2 a row's
 * pair is added to a bin's pair with one 64-bit load, add and store. */
#if defined(__SSE2__)
#include <emmintrin.h>
static inline __m128 load_gh(const float *gh, uint32_t i)
{
    return _mm_castpd_ps(_mm_load_sd((const double *)(const void *)(gh + 2 * (size_t)i)));
}
#define HIST_ADD(c, v) _mm_store_sd((double *)(void *)(c), \
    _mm_castps_pd(_mm_add_ps(_mm_castpd_ps(_mm_load_sd((const double *)(const void *)(c))), (v))))
#define GH_T __m128
#define GH_LOAD(gh, i) load_gh((gh), (i))
#else
struct ghp { float g, h; };
static inline struct ghp load_gh(const float *gh, uint32_t i)
{
    struct ghp r = {gh[2 * (size_t)i], gh[2 * (size_t)i + 1]};
    return r;
}
#define HIST_ADD(c, v) do { (c)[0] += (v).g; (c)[1] += (v).h; } while (0)
#define GH_T struct ghp
#define GH_LOAD(gh, i) load_gh((gh), (i))
#endif

/* Joint histogram of all bundles over positions [b, e) into `hist` (bundle
 * layout, float (g, h) pairs, zeroed here). Position k is row idx[k], or row
 * k itself when `ident` (the root of a tree on all rows: no index loads).
 * With `wide` the rows hold each bundle's float offset in the histogram
 * (u16, bundle offset + 2 * code precomputed), which saves two instructions
 * per update; otherwise the u8 joint codes. */
static inline __attribute__((always_inline)) void
hist_rows(const struct hamf__learner *l, const uint32_t *idx, bool ident, bool wide, uint32_t b,
          uint32_t e, float *hist, float *spare)
{
    const size_t nf = l->nbund;
    const size_t rs = wide ? 2 * nf : nf; /* bytes per row */
    const uint8_t *rb = wide ? (const uint8_t *)l->brows16 : l->brows;
    const float *gh = l->gh;
    const size_t *ho = l->boff;
    const size_t hs = ho[nf];
    const uint32_t PF = 24;
#define ROW(k) (ident ? (uint32_t)(k) : idx[k])
#define CELL(r, f) (wide ? (size_t)((const uint16_t *)(const void *)(r))[f] : ho[f] + 2 * (size_t)(r)[f])
    memset(hist, 0, hs * sizeof(float));
    uint32_t k = b;
    if (spare && e - b >= 4096) {
        /* Two interleaved copies (even rows, odd rows): neighbouring rows,
         * which often share a bin (binary features, sorted indices), update
         * different memory, so the load-add-store chains overlap; four rows
         * per step. Merged below in a fixed order. (Four copies measured
         * slower: the copies no longer fit in L1.) */
        float *s1 = spare;
        memset(spare, 0, hs * sizeof(float));
        uint32_t e4 = b + ((e - b - PF) & ~3u);
        for (; k < e4; k += 4) {
            uint32_t i0 = ROW(k), i1 = ROW(k + 1), i2 = ROW(k + 2), i3 = ROW(k + 3);
            if (!ident) {
                uint32_t j = idx[k + PF], j2 = idx[k + PF + 2];
                __builtin_prefetch(rb + (size_t)j * rs);
                __builtin_prefetch(gh + 2 * (size_t)j);
                __builtin_prefetch(rb + (size_t)j2 * rs);
                __builtin_prefetch(gh + 2 * (size_t)j2);
            }
            const uint8_t *r0 = rb + (size_t)i0 * rs, *r1 = rb + (size_t)i1 * rs;
            const uint8_t *r2 = rb + (size_t)i2 * rs, *r3 = rb + (size_t)i3 * rs;
            GH_T v0 = GH_LOAD(gh, i0), v1 = GH_LOAD(gh, i1), v2 = GH_LOAD(gh, i2), v3 = GH_LOAD(gh, i3);
            for (size_t f = 0; f < nf; f++) {
                HIST_ADD(hist + CELL(r0, f), v0);
                HIST_ADD(s1 + CELL(r1, f), v1);
                HIST_ADD(hist + CELL(r2, f), v2);
                HIST_ADD(s1 + CELL(r3, f), v3);
            }
        }
        for (; k < e; k++) {
            uint32_t i = ROW(k);
            const uint8_t *r = rb + (size_t)i * rs;
            GH_T v = GH_LOAD(gh, i);
            for (size_t f = 0; f < nf; f++) HIST_ADD(hist + CELL(r, f), v);
        }
        for (size_t q = 0; q < hs; q++) hist[q] += s1[q];
    } else {
        uint32_t e_pf = e > b + PF ? e - PF : b;
        for (; k < e_pf; k++) {
            uint32_t i = ROW(k);
            if (!ident) {
                uint32_t j = idx[k + PF];
                __builtin_prefetch(rb + (size_t)j * rs);
                __builtin_prefetch(gh + 2 * (size_t)j);
            }
            const uint8_t *r = rb + (size_t)i * rs;
            GH_T v = GH_LOAD(gh, i);
            for (size_t f = 0; f < nf; f++) HIST_ADD(hist + CELL(r, f), v);
        }
        for (; k < e; k++) {
            uint32_t i = ROW(k);
            const uint8_t *r = rb + (size_t)i * rs;
            GH_T v = GH_LOAD(gh, i);
            for (size_t f = 0; f < nf; f++) HIST_ADD(hist + CELL(r, f), v);
        }
    }
#undef CELL
#undef ROW
}

static void build_hist(const struct hamf__learner *l, const uint32_t *idx, uint32_t b, uint32_t e,
                       float *hist, float *spare)
{
    if (l->brows16) {
        if (idx) hist_rows(l, idx, false, true, b, e, hist, spare);
        else hist_rows(l, NULL, true, true, b, e, hist, spare);
    } else {
        if (idx) hist_rows(l, idx, false, false, b, e, hist, spare);
        else hist_rows(l, NULL, true, false, b, e, hist, spare);
    }
}

/* expand a joint (bundle layout, double) histogram into the node histogram
 * `out` (feature layout), in a fixed order */
static void expand_bundles(const struct hamf__learner *l, const double *bhist, size_t j0, size_t j1,
                           double *out)
{
    for (size_t j = j0; j < j1; j++) {
        size_t q0 = l->bfirst[j], q1 = l->bfirst[j + 1];
        const double *bh = bhist + l->boff[j];
        if (q1 - q0 == 1) {
            size_t f = l->bfeat[q0];
            memcpy(out + l->hoff[f], bh, 2 * (size_t)l->td->nbins[f] * sizeof(double));
            continue;
        }
        for (size_t q = q0; q < q1; q++)
            memset(out + l->hoff[l->bfeat[q]], 0, 2 * (size_t)l->td->nbins[l->bfeat[q]] * sizeof(double));
        uint32_t joint = (uint32_t)((l->boff[j + 1] - l->boff[j]) / 2);
        for (uint32_t c = 0; c < joint; c++) {
            double g = bh[2 * c], h = bh[2 * c + 1];
            if (g == 0 && h == 0) continue;
            for (size_t q = q0; q < q1; q++) {
                size_t f = l->bfeat[q];
                uint32_t comp = (c / l->bstride[q]) % (uint32_t)l->td->nbins[f];
                double *o = out + l->hoff[f] + 2 * comp;
                o[0] += g;
                o[1] += h;
            }
        }
    }
}

/* Histogram builds are split into shards of a node's positions: the shard
 * count depends only on the node's size (1, 2 or 4 shards of at least
 * SHARD_ROWS positions), never on the thread count. Each shard sums in
 * float in row order; shards are widened and added in shard order. */
#define SHARD_ROWS 6144
#define BUILD_PAR_ROWS 8192
static uint32_t shard_count(uint32_t rows)
{
    uint32_t s = 1;
    while (s < 4 && (uint64_t)2 * s * SHARD_ROWS <= rows) s *= 2;
    return s;
}

/* widen the float bundle histograms of slots [t0, t1) (added in slot
 * order) for bundles [j0, j1) and expand them into node g's histogram;
 * the part with bundle 0 also sets the node's sums */
static void finish_hist(struct hamf__learner *l, struct gnode *g, const float *const *src, size_t ns,
                        size_t j0, size_t j1, int tid)
{
    const size_t q0 = l->boff[j0], q1 = l->boff[j1];
    double *d = l->bdbl[tid];
    for (size_t q = q0; q < q1; q++) d[q] = src[0][q];
    for (size_t t = 1; t < ns; t++)
        for (size_t q = q0; q < q1; q++) d[q] += src[t][q];
    expand_bundles(l, d, j0, j1, g->hist);
    if (j0 == 0) {
        double G = 0, H = 0;
        for (size_t q = l->boff[0]; q < l->boff[1]; q += 2) { G += d[q]; H += d[q + 1]; }
        g->hG = G;
        g->hH = H;
    }
}

/* One shard of a node. A node with one shard is finished right here from
 * the thread's scratch; shards of larger nodes go to their slots in tbuf
 * and are merged by task_merge. */
static void task_build(void *vctx, size_t task, int tid)
{
    struct hamf__learner *l = vctx;
    const size_t hs = l->boff[l->nbund];
    uint32_t slot = l->bt_slot[task];
    float *buf = slot == UINT32_MAX ? l->bscr[tid] : l->tbuf + (size_t)slot * hs;
    if (l->prep) l->prep->fn(l->prep->ctx, l->bt_lo[task], l->bt_hi[task], task);
    build_hist(l, l->bt_ident ? NULL : l->idx, l->bt_lo[task], l->bt_hi[task], buf, l->spare[tid]);
    if (slot == UINT32_MAX) {
        const float *src[1] = {buf};
        finish_hist(l, &l->nodes[l->build[l->bt_node[task]]], src, 1, 0, l->nbund, tid);
    }
}

/* task 2k + b: merge the shards of the k-th multi-shard node for bundle
 * half b (the halves are independent) */
static void task_merge(void *vctx, size_t task, int tid)
{
    struct hamf__learner *l = vctx;
    size_t k = task / 2, nb = l->nbund;
    size_t j0 = task % 2 ? nb / 2 : 0, j1 = task % 2 ? nb : nb / 2;
    if (j0 >= j1) return;
    const size_t hs = l->boff[nb];
    uint32_t r = l->mnode[k], s0 = l->mslot[k], s1 = l->mslot[k + 1];
    const float *src[4];
    for (uint32_t t = s0; t < s1; t++) src[t - s0] = l->tbuf + (size_t)t * hs;
    finish_hist(l, &l->nodes[l->build[r]], src, s1 - s0, j0, j1, tid);
}

/* build the histograms of nodes l->build[0..nbuild) */
static hamf_status run_builds(struct hamf__learner *l, bool ident)
{
    size_t nt = 0, rows = 0, nslot = 0, nmulti = 0;
    for (size_t r = 0; r < l->nbuild; r++) {
        const struct gnode *g = &l->nodes[l->build[r]];
        uint32_t sc = shard_count(g->end - g->begin);
        nt += sc;
        if (sc > 1) { nslot += sc; nmulti++; }
        rows += g->end - g->begin;
    }
    if (nt > l->cap_bt) {
        size_t nc = nt + 16;
        uint32_t **arrs[3] = {&l->bt_lo, &l->bt_hi, &l->bt_slot};
        for (int i = 0; i < 3; i++) {
            uint32_t *a = hamf__realloc(*arrs[i], nc * sizeof *a);
            if (!a) return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
            *arrs[i] = a;
        }
        size_t *bn = hamf__realloc(l->bt_node, nc * sizeof *bn);
        if (!bn) return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
        l->bt_node = bn;
        l->cap_bt = nc;
    }
    if (nslot > l->cap_slots) {
        float *f = hamf__realloc(l->tbuf, (nslot + 4) * (l->boff[l->nbund] + 2) * sizeof *f);
        if (!f) return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
        l->tbuf = f;
        l->cap_slots = nslot + 4;
    }
    if (nmulti + 1 > l->cap_multi) {
        size_t nc = nmulti + 16;
        uint32_t *a = hamf__realloc(l->mnode, nc * sizeof *a);
        if (a) l->mnode = a;
        uint32_t *b = hamf__realloc(l->mslot, nc * sizeof *b);
        if (b) l->mslot = b;
        if (!a || !b) return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
        l->cap_multi = nc;
    }
    nt = 0;
    nslot = 0;
    nmulti = 0;
    for (size_t r = 0; r < l->nbuild; r++) {
        const struct gnode *g = &l->nodes[l->build[r]];
        uint32_t sc = shard_count(g->end - g->begin), len = g->end - g->begin;
        if (sc > 1) { l->mnode[nmulti] = (uint32_t)r; l->mslot[nmulti++] = (uint32_t)nslot; }
        for (uint32_t k = 0; k < sc; k++) {
            l->bt_lo[nt] = g->begin + (uint32_t)((uint64_t)len * k / sc);
            l->bt_hi[nt] = g->begin + (uint32_t)((uint64_t)len * (k + 1) / sc);
            l->bt_node[nt] = r;
            l->bt_slot[nt] = sc > 1 ? (uint32_t)nslot++ : UINT32_MAX;
            nt++;
        }
    }
    l->mslot[nmulti] = (uint32_t)nslot;
    l->bt_ident = ident;
    if (l->prep) l->prep->nslots = nt;
    hamf__pool_run(nt >= 2 && rows >= BUILD_PAR_ROWS ? l->pool : NULL, nt, task_build, l);
    if (nmulti) hamf__pool_run(rows >= BUILD_PAR_ROWS ? l->pool : NULL, 2 * nmulti, task_merge, l);
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
        eval_feature(g->hist + l->hoff[f], (int)f, td->nbins[f], td->is_cat[f], g->G, g->H,
                     l->p, &g->best);
    }
}

struct sub_ctx { struct hamf__learner *l; int32_t *pairs; size_t n; int32_t *eval; size_t neval; };

/* task: for child pair k: larger = parent - smaller (in place in the
 * larger's buffer, which holds the parent) */
static void task_sub(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct sub_ctx *c = vctx;
    struct hamf__learner *l = c->l;
    struct gnode *small = &l->nodes[c->pairs[2 * task]];
    struct gnode *large = &l->nodes[c->pairs[2 * task + 1]];
    if (large->hist && small->hist) {
        double *a = large->hist;
        const double *s = small->hist;
        for (size_t f = 0; f < l->td->nf; f++) {
            if (l->fmask && !l->fmask[f]) continue;
            size_t o = l->hoff[f], e = l->hoff[f + 1];
            for (size_t k = o; k < e; k++) a[k] -= s[k];
        }
    }
}

/* task: evaluate the best split of node c->eval[task] */
static void task_eval(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct sub_ctx *c = vctx;
    eval_node(c->l, &c->l->nodes[c->eval[task]]);
}

static void task_part(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct hamf__learner *l = vctx;
    const struct gnode *g = &l->nodes[l->chunk_node[task]];
    const uint8_t *col = l->td->codes + (size_t)g->best.feat * l->td->n;
    const uint8_t *lut = g->lut;
    const uint32_t *idx = l->idx;
    uint32_t *tl = l->tmp, *tr = l->tmp2;
    uint32_t lo = l->chunk_lo[task], hi = l->chunk_hi[task];
    uint32_t lp = lo, rp = lo;
    for (uint32_t k = lo; k < hi; k++) {
        uint32_t i = idx[k], d = lut[col[i]];
        tl[lp] = i;
        tr[rp] = i;
        lp += d;
        rp += 1 - d;
    }
    l->chunk_left[task] = lp - lo;
}

/* pass 2: copy the chunk's left and right runs to their places in idx
 * (chunk_off = where its left rows go; nbeg[node] = the node's left total) */
static void task_place(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct hamf__learner *l = vctx;
    const struct gnode *g = &l->nodes[l->chunk_node[task]];
    uint32_t lo = l->chunk_lo[task], hi = l->chunk_hi[task];
    uint32_t nl = l->chunk_left[task], nr = hi - lo - nl;
    uint32_t lpos = l->chunk_off[task];
    uint32_t left_before = lpos - g->begin;
    uint32_t rpos = g->begin + l->nbeg[g->tid] + ((lo - g->begin) - left_before);
    memcpy(l->idx + lpos, l->tmp + lo, (size_t)nl * sizeof *l->idx);
    memcpy(l->idx + rpos, l->tmp2 + lo, (size_t)nr * sizeof *l->idx);
}

/* last round: add the children's values to the scores without partitioning */
static void task_route(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct hamf__learner *l = vctx;
    const struct gnode *g = &l->nodes[l->chunk_node[task]];
    const uint8_t *col = l->td->codes + (size_t)g->best.feat * l->td->n;
    const double v[2] = {l->nodes[g->tid].H, l->nodes[g->tid].G}; /* stashed child values: right, left */
    const uint8_t *lut = g->lut;
    double *score = l->score;
    for (uint32_t k = l->chunk_lo[task]; k < l->chunk_hi[task]; k++) {
        uint32_t i = l->idx[k];
        score[i] += v[lut[col[i]]];
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
    memcpy(l->idx, idx, m * sizeof *idx);
    if ((st = ensure_nodes(l, 64))) goto fail;
    int32_t root = tree_add(&t);
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
        g0->hist = hist_get(l);
        if (!g0->hist) { st = hamf__err(HAMF_ERR_NOMEM, "tree: out of memory"); goto fail; }
        l->build[0] = 0;
        l->nbuild = 1;
        bool ident = m == l->td->n && idx[0] == 0 && idx[m - 1] == m - 1; /* sorted, unique */
        if (prep && !ident) { prep->fn(prep->ctx, 0, m, 0); prep->nslots = 1; }
        l->prep = ident ? prep : NULL;
        st = run_builds(l, ident);
        l->prep = NULL;
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
    else if (g0->hist) { hist_put(l, g0->hist); g0->hist = NULL; }
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
                hist_put(l, g->hist);
                g->hist = NULL;
            }
        }
        if (!l->nround) break;
        if ((st = ensure_nodes(l, t.n_nodes + 2 * l->nround + 2))) goto fail;
        for (size_t r = 0; r < l->nround; r++) {
            struct gnode *g = &l->nodes[l->round[r]];
            for (int b = 0; b < HAMF_MAX_BINS; b++) g->lut[b] = (uint8_t)(goes_left(&g->best, (uint8_t)b) ? 1 : 0);
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
                if ((st = apply_split(&t, id, &sp))) goto fail;
                struct gnode *g = &l->nodes[id];
                int32_t li = t.nodes[id].left, ri = t.nodes[id].right;
                double vl = leaf_value(p, sp.GL, sp.HL), vr = leaf_value(p, g->G - sp.GL, g->H - sp.HL);
                t.nodes[li].value = vl;
                t.nodes[ri].value = vr;
                memset(&l->nodes[li], 0, sizeof l->nodes[li]);
                memset(&l->nodes[ri], 0, sizeof l->nodes[ri]);
                l->nodes[li].routed = l->nodes[ri].routed = true;
                l->nodes[li].tid = li;
                l->nodes[ri].tid = ri;
                hist_put(l, g->hist);
                g->hist = NULL;
                g->open = false;
                /* stash the child values in the parent's G/H for task_route */
                g->G = vl;
                g->H = vr;
            }
            hamf__pool_run(rp, nch, task_route, l);
            break;
        }
        if (!rp || l->nthreads <= 1) {
            /* one thread: a single stable pass per node; left rows are
             * compacted in place (the write position never passes the read
             * position), right rows go to tmp and are copied after them */
            for (size_t r = 0; r < l->nround; r++) {
                const struct gnode *g = &l->nodes[l->round[r]];
                const uint8_t *col = l->td->codes + (size_t)g->best.feat * l->td->n;
                const uint8_t *lut = g->lut;
                uint32_t *ix = l->idx, *tp = l->tmp;
                uint32_t lp = g->begin, rpos = g->begin;
                for (uint32_t k = g->begin; k < g->end; k++) {
                    uint32_t i = ix[k], d = lut[col[i]];
                    ix[lp] = i;
                    tp[rpos] = i;
                    lp += d;
                    rpos += 1 - d;
                }
                memcpy(ix + lp, tp + g->begin, (size_t)(rpos - g->begin) * sizeof *ix);
                l->nbeg[g->tid] = lp - g->begin;
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
        hamf__pool_run(rp, nch, task_place, l);
        }
        /* children */
        l->nbuild = 0;
        int32_t *pairs = hamf__malloc(l->nround * 2 * sizeof *pairs);
        if (!pairs) { st = hamf__err(HAMF_ERR_NOMEM, "tree: out of memory"); goto fail; }
        for (size_t r = 0; r < l->nround; r++) {
            int32_t id = l->round[r];
            struct split s = l->nodes[id].best;
            if ((st = apply_split(&t, id, &s))) { hamf__free(pairs); goto fail; }
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
                S->hist = hist_get(l);
                if (!S->hist) { hamf__free(pairs); st = hamf__err(HAMF_ERR_NOMEM, "tree: out of memory"); goto fail; }
                l->build[l->nbuild++] = S->tid;
            } else {
                hist_put(l, ph);
                if (S->open) {
                    S->hist = hist_get(l);
                    if (!S->hist) { hamf__free(pairs); st = hamf__err(HAMF_ERR_NOMEM, "tree: out of memory"); goto fail; }
                    l->build[l->nbuild++] = S->tid;
                }
            }
            pairs[2 * r] = S->tid;
            pairs[2 * r + 1] = B->tid;
            nleaves++;
        }
        size_t build_rows = 0;
        for (size_t r = 0; r < l->nbuild; r++) build_rows += l->nodes[l->build[r]].end - l->nodes[l->build[r]].begin;
        (void)build_rows;
        if ((st = run_builds(l, false))) { hamf__free(pairs); goto fail; }
        struct sub_ctx sc = {l, pairs, l->nround, l->evalq, 0};
        hamf__pool_run(l->nround >= 16 ? l->pool : NULL, l->nround, task_sub, &sc);
        /* children to evaluate: each is a task (an evaluation scans every
         * bin of every feature, worth a thread from two nodes on) */
        for (size_t r = 0; r < 2 * l->nround; r++) {
            const struct gnode *c = &l->nodes[pairs[r]];
            if (c->open && c->hist) sc.eval[sc.neval++] = pairs[r];
        }
        hamf__pool_run(l->pool, sc.neval, task_eval, &sc);
        /* small children that cannot split do not need their histogram */
        for (size_t r = 0; r < l->nround; r++) {
            struct gnode *S = &l->nodes[pairs[2 * r]];
            if (!S->open && S->hist) { hist_put(l, S->hist); S->hist = NULL; }
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
        if (g->hist) { hist_put(l, g->hist); g->hist = NULL; }
        l->nbeg[i] = g->begin;
        l->nend[i] = g->end;
        if (t.nodes[i].left < 0 && !g->routed) {
            t.nodes[i].value = leaf_value(p, g->G, g->H);
            g->G = t.nodes[i].value; /* stash for task_leaf_score */
            l->leaf_ids[l->n_leaf_ids++] = i;
        }
    }
    if (score) hamf__pool_run(pool_for(l, m), l->n_leaf_ids, task_leaf_score, l);
    (void)nf;
    *out = t;
    return HAMF_OK;
fail:
    for (uint32_t i = 0; i < t.n_nodes && i < l->cap_nodes; i++)
        if (l->nodes[i].hist) { hist_put(l, l->nodes[i].hist); l->nodes[i].hist = NULL; }
    hamf__tree_clear(&t);
    return st;
}

/* ======================================================================== */
/* RF learner                                                               */
/* ======================================================================== */

struct rf_item { uint32_t begin, end, ob, oe; int depth; int32_t id; double G, H; };

/* The forest learner keeps its rows physically in node order: row-major
 * codes (stride rs bytes) and (w*y, w) float pairs move with each
 * partition, so histogram builds and partitions stream through memory. */
struct hamf__rf_scratch {
    size_t cap, rs;
    uint8_t *rc, *trc;   /* codes in node order, and the right-side spill */
    float *ww, *tww;     /* (w*y, w) pairs in node order, and the spill */
    uint8_t *orc, *torc; /* out-of-bag rows: codes in node order, spill */
    uint32_t *oid, *toid;/* out-of-bag rows: row ids in node order, spill */
    struct rf_item *stack;
    size_t cap_stack;
    double hist[HAMF_MAX_BINS * 2];
    int *feats;
    size_t nfeats;
};

hamf_status hamf__rf_scratch_new(size_t n, struct hamf__rf_scratch **out)
{
    struct hamf__rf_scratch *s = hamf__calloc(1, sizeof *s);
    if (!s) return hamf__err(HAMF_ERR_NOMEM, "forest: out of memory");
    s->cap = n;
    *out = s;
    return HAMF_OK;
}

void hamf__rf_scratch_free(struct hamf__rf_scratch *s)
{
    if (!s) return;
    hamf__free(s->rc);
    hamf__free(s->trc);
    hamf__free(s->ww);
    hamf__free(s->tww);
    hamf__free(s->orc);
    hamf__free(s->torc);
    hamf__free(s->oid);
    hamf__free(s->toid);
    hamf__free(s->stack);
    hamf__free(s->feats);
    hamf__free(s);
}

static hamf_status rf_push(struct hamf__rf_scratch *s, size_t *top, struct rf_item it)
{
    if (*top == s->cap_stack) {
        size_t nc = s->cap_stack ? s->cap_stack * 2 : 64;
        struct rf_item *ns = hamf__realloc(s->stack, nc * sizeof *ns);
        if (!ns) return hamf__err(HAMF_ERR_NOMEM, "forest: out of memory");
        s->stack = ns;
        s->cap_stack = nc;
    }
    s->stack[(*top)++] = it;
    return HAMF_OK;
}

static inline void copy_row(uint8_t *dst, const uint8_t *src, size_t rs)
{
    for (size_t w = 0; w < rs; w += 8) {
        uint64_t v;
        memcpy(&v, src + w, 8);
        memcpy(dst + w, &v, 8);
    }
}

hamf_status hamf__rf_grow(const struct hamf__train_data *td, struct hamf__rf_scratch *s,
                          const struct hamf__learn_params *p, const uint32_t *idx, size_t m,
                          const float *w, const float *y, const uint32_t *oob_idx, size_t moob,
                          _Atomic int64_t *oob_sum, _Atomic int32_t *oob_cnt, struct hamf__rng *rng,
                          struct hamf__tree *out)
{
    hamf_status st = HAMF_OK;
    struct hamf__tree t = {0};
    const size_t nf = td->nf, rs = (nf + 7) & ~(size_t)7;
    if (!oob_sum) moob = 0;
    if (!s->rc || s->rs != rs) {
        hamf__free(s->rc); hamf__free(s->trc); hamf__free(s->ww); hamf__free(s->tww);
        s->rs = rs;
        s->rc = hamf__malloc(s->cap * rs + 8);
        s->trc = hamf__malloc(s->cap * rs + 8);
        s->ww = hamf__malloc((2 * s->cap + 2) * sizeof(float));
        s->tww = hamf__malloc((2 * s->cap + 2) * sizeof(float));
        if (!s->rc || !s->trc || !s->ww || !s->tww) {
            hamf__free(s->rc); hamf__free(s->trc); hamf__free(s->ww); hamf__free(s->tww);
            s->rc = s->trc = NULL;
            s->ww = s->tww = NULL;
            return hamf__err(HAMF_ERR_NOMEM, "forest: out of memory");
        }
        hamf__free(s->orc); hamf__free(s->torc); hamf__free(s->oid); hamf__free(s->toid);
        s->orc = hamf__malloc(s->cap * rs + 8);
        s->torc = hamf__malloc(s->cap * rs + 8);
        s->oid = hamf__malloc((s->cap + 1) * sizeof(uint32_t));
        s->toid = hamf__malloc((s->cap + 1) * sizeof(uint32_t));
        if (!s->orc || !s->torc || !s->oid || !s->toid) {
            s->rs = 0; /* reallocate everything next time */
            return hamf__err(HAMF_ERR_NOMEM, "forest: out of memory");
        }
    }
    if (s->nfeats < nf) {
        int *nfp = hamf__realloc(s->feats, nf * sizeof *nfp);
        if (!nfp) return hamf__err(HAMF_ERR_NOMEM, "forest: out of memory");
        s->feats = nfp;
        s->nfeats = nf;
    }
    uint8_t *rc = s->rc;
    float *ww = s->ww;
    double G = 0, H = 0;
    for (size_t k = 0; k < m; k++) {
        uint32_t i = idx[k];
        memcpy(rc + k * rs, td->rows + (size_t)i * nf, nf);
        ww[2 * k] = w[i] * y[i];
        ww[2 * k + 1] = w[i];
        G += (double)w[i] * y[i];
        H += w[i];
    }
    uint8_t *orc = s->orc;
    uint32_t *oid = s->oid;
    for (size_t k = 0; k < moob; k++) {
        memcpy(orc + k * rs, td->rows + (size_t)oob_idx[k] * nf, nf);
        oid[k] = oob_idx[k];
    }
    int32_t root = tree_add(&t);
    if (root < 0) return hamf__err(HAMF_ERR_NOMEM, "forest: out of memory");
    size_t top = 0;
    if ((st = rf_push(s, &top, (struct rf_item){0, (uint32_t)m, 0, (uint32_t)moob, 0, root, G, H}))) goto fail;
    int mtry = p->mtry > 0 ? p->mtry : (int)nf;
    while (top) {
        struct rf_item it = s->stack[--top];
        bool pure = it.G <= 0 || it.G >= it.H;
        bool stop = pure || (p->max_depth > 0 && it.depth >= p->max_depth) ||
                    it.end - it.begin < 2 || it.H < 2 * p->min_hess;
        struct split best;
        best.gain = 0;
        best.feat = -1;
        if (!stop) {
            for (size_t f = 0; f < nf; f++) s->feats[f] = (int)f;
            int informative = 0;
            for (size_t j = 0; j < nf && informative < mtry; j++) {
                size_t r = j + (size_t)hamf__rng_below(rng, nf - j);
                int f = s->feats[r];
                s->feats[r] = s->feats[j];
                s->feats[j] = f;
                const uint8_t *col = rc + f;
                double *h = s->hist;
                int lo = 255, hi = 0;
                for (uint32_t k = it.begin; k < it.end; k++) {
                    int b = col[(size_t)k * rs];
                    h[2 * b] += ww[2 * k];
                    h[2 * b + 1] += ww[2 * k + 1];
                    lo = b < lo ? b : lo;
                    hi = b > hi ? b : hi;
                }
                if (hi > lo) {
                    informative++;
                    eval_feature(h, f, td->nbins[f], td->is_cat[f], it.G, it.H, p, &best);
                }
                memset(h + 2 * lo, 0, (size_t)(hi - lo + 1) * 2 * sizeof *h);
            }
        }
        if (best.feat < 0) {
            double v = leaf_value(p, it.G, it.H);
            t.nodes[it.id].value = v;
            /* out-of-bag rows landing here: exact fixed-point sums, so the
             * total does not depend on which thread adds first */
            int64_t fx = (int64_t)llround(v * 1099511627776.0); /* 2^40 */
            for (uint32_t k = it.ob; k < it.oe; k++) {
                atomic_fetch_add_explicit(&oob_sum[oid[k]], fx, memory_order_relaxed);
                atomic_fetch_add_explicit(&oob_cnt[oid[k]], 1, memory_order_relaxed);
            }
            continue;
        }
        if ((st = apply_split(&t, it.id, &best))) goto fail;
        uint8_t lut[HAMF_MAX_BINS];
        for (int b = 0; b < HAMF_MAX_BINS; b++) lut[b] = (uint8_t)(goes_left(&best, (uint8_t)b) ? 1 : 0);
        /* stable partition: left rows compact forward in place, right rows spill */
        uint32_t nl = it.begin, nr = 0;
        for (uint32_t k = it.begin; k < it.end; k++) {
            if (lut[rc[(size_t)k * rs + (size_t)best.feat]]) {
                if (nl != k) {
                    copy_row(rc + (size_t)nl * rs, rc + (size_t)k * rs, rs);
                    ww[2 * nl] = ww[2 * k];
                    ww[2 * nl + 1] = ww[2 * k + 1];
                }
                nl++;
            } else {
                copy_row(s->trc + (size_t)nr * rs, rc + (size_t)k * rs, rs);
                s->tww[2 * nr] = ww[2 * k];
                s->tww[2 * nr + 1] = ww[2 * k + 1];
                nr++;
            }
        }
        memcpy(rc + (size_t)nl * rs, s->trc, (size_t)nr * rs);
        memcpy(ww + 2 * (size_t)nl, s->tww, (size_t)nr * 2 * sizeof *ww);
        uint32_t onl = it.ob, onr = 0;
        for (uint32_t k = it.ob; k < it.oe; k++) {
            if (lut[orc[(size_t)k * rs + (size_t)best.feat]]) {
                if (onl != k) {
                    copy_row(orc + (size_t)onl * rs, orc + (size_t)k * rs, rs);
                    oid[onl] = oid[k];
                }
                onl++;
            } else {
                copy_row(s->torc + (size_t)onr * rs, orc + (size_t)k * rs, rs);
                s->toid[onr] = oid[k];
                onr++;
            }
        }
        memcpy(orc + (size_t)onl * rs, s->torc, (size_t)onr * rs);
        memcpy(oid + onl, s->toid, (size_t)onr * sizeof *oid);
        int32_t li = t.nodes[it.id].left, ri = t.nodes[it.id].right;
        if ((st = rf_push(s, &top, (struct rf_item){nl, it.end, onl, it.oe, it.depth + 1, ri, it.G - best.GL,
                                                    it.H - best.HL})))
            goto fail;
        if ((st = rf_push(s, &top, (struct rf_item){it.begin, nl, it.ob, onl, it.depth + 1, li, best.GL, best.HL})))
            goto fail;
    }
    *out = t;
    return HAMF_OK;
fail:
    hamf__tree_clear(&t);
    return st;
}
