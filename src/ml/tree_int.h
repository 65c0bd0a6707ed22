/*
 * tree_int.h — internals of the tree learners shared by tree.c (node
 * storage), tree_split.c (split finding), tree_hist.c (histogram builds and
 * feature bundles), tree_grow.c (the GB learner's growth) and tree_rf.c
 * (the random forest's growth). Nothing outside src/ml/tree*.c includes it.
 */
#ifndef HAMF_ML_TREE_INT_H
#define HAMF_ML_TREE_INT_H

#include "ml.h"

#include <stdatomic.h>

/* ---- node storage (tree.c) ---- */

/* A split candidate / the chosen split of a node. */
struct split {
    double gain;
    int feat;          /* -1 = none */
    uint8_t thr, flags;
    uint32_t bits[8];  /* categorical: left bins */
    double GL, HL;     /* left child sums */
};

/* New node (a leaf) appended to t; returns its index or -1 (out of memory). */
int32_t hamf__tree_add_node(struct hamf__tree *t);
/* New categorical bitset; returns its index or -1 (out of memory). */
int64_t hamf__tree_add_cat(struct hamf__tree *t, const uint32_t bits[8]);
/* Make node id an inner node with split s and two new leaf children. */
hamf_status hamf__tree_apply_split(struct hamf__tree *t, int32_t id, const struct split *s);
/* Leaf output for gradient/hessian (or weighted label) sums G, H. */
double hamf__tree_leaf_value(const struct hamf__learn_params *p, double G, double H);

/* does bin b go left under split s */
static inline int goes_left(const struct split *s, uint8_t b)
{
    if (s->flags & HAMF_NODE_CAT) return (s->bits[b >> 5] >> (b & 31)) & 1;
    if (b == 0) return s->flags & HAMF_NODE_DEFAULT_LEFT;
    return b <= s->thr;
}


/* ---- split finding (tree_split.c) ---- */

/* Best split of feature f from its histogram (stride 2: hist[2b] = G,
 * hist[2b+1] = H of bin b); updates *best when strictly better. */
void hamf__split_eval_feature(const double *hist, int f, int nb, bool is_cat, double G, double H,
                              const struct hamf__learn_params *p, struct split *best);

/* ---- the GB learner's state (tree_grow.c, tree_hist.c) ---- */

#define PART_CHUNK 16384
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
    uint32_t *nbeg, *nend;     /* per tree node, after grow: its rows are
                                * idx[nbeg..nend) (routed leaves: 0..count) */
    size_t n_grown;            /* nodes of the last grown tree */
    /* per-round scratch */
    uint32_t *chunk_node, *chunk_lo, *chunk_hi, *chunk_left, *chunk_off;
    size_t cap_chunks;
    int32_t *round, *build;    /* node ids */
    int32_t *bsib;             /* per build[] entry: its sibling (parent - it), or -1 */
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
    uint32_t *route_left;      /* final route: rows going left per (slice, node) */
    size_t route_slices, cap_route;
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
    bool fill_idx;             /* root build: shards also set idx[k] = k */
    bool root_ident;           /* the root's positions hold rows 0..n-1 in order */
    uint32_t *xtab;            /* per multi-feature bundle: joint code x feature -> node hist offset */
    size_t *xoff;              /* per bundle: start in xtab */
    struct hamf__grad_prep *prep; /* root build only: fill gh per shard first */
    /* called by the thread that completes build[r]'s histogram (NULL: none) */
    void (*post)(struct hamf__learner *l, size_t r, int tid);
    _Atomic uint32_t *mleft;   /* per multi-shard node: shards not finished yet */
    uint32_t *bt_multi;        /* per task: its multi-shard node */
};

/* ---- histograms (tree_hist.c) ---- */

/* Feature bundles, per-row bundle offsets and per-thread scratch (called
 * once by hamf__learner_new; hamf__learner_free frees what it allocated). */
hamf_status hamf__hist_init(struct hamf__learner *l);
/* A node histogram (l->hsize doubles) from the free list or the heap. */
double *hamf__hist_get(struct hamf__learner *l);
/* Give a node histogram back (NULL is fine). */
hamf_status hamf__hist_put(struct hamf__learner *l, double *h);
/* Build the histograms of nodes l->build[0..nbuild) (ident: the one node
 * covers all rows in order, read without the index); l->post, when set,
 * runs for each node as soon as its histogram is complete. */
hamf_status hamf__hist_build_nodes(struct hamf__learner *l, bool ident);

#endif
