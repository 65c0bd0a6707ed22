/*
 * ml.h — internal structures of the learning module (src/ml/): the thread
 * pool, the seeded RNG, the bin mapper (raw value -> u8 bin), binned data,
 * trees in bin space, the shared histogram tree learner, and the model.
 *
 * Everything here works on plain arrays (double per numeric column with NaN
 * for missing, int32 codes for categoricals); the frame glue lives in
 * dataset.c. Trees split on bins, never on raw values: a model is a bin
 * mapper plus trees, so scoring raw rows bins them first and training-time
 * and load-time predictions are identical by construction.
 */
#ifndef HAMF_ML_H
#define HAMF_ML_H

#include "hamf.h"
#include "util/util.h"
#include "ml/xgb_json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The thread pool (hamf__pool_*) is util.h's. */

/* ---- RNG (rng.c): splitmix64-seeded xoshiro256** ---- */
struct hamf__rng { uint64_t s[4]; };
void hamf__rng_seed(struct hamf__rng *r, uint64_t seed, uint64_t stream);
uint64_t hamf__rng_next(struct hamf__rng *r);
/* Uniform integer in [0, n). */
uint64_t hamf__rng_below(struct hamf__rng *r, uint64_t n);
double hamf__rng_unit(struct hamf__rng *r); /* [0,1) */

/* ---- raw columns (the ML core's input) ---- */
struct hamf__ml_col {
    char *name;
    bool is_cat;
    double *num;      /* numeric: n values, NaN = missing */
    int32_t *codes;   /* categorical: n codes, -1 = missing */
    size_t ncat;      /* categorical: dictionary size */
    char **dict;      /* categorical: ncat strings */
};

struct hamf_dataset {
    size_t n;
    size_t ncols, capcols;
    struct hamf__ml_col *cols;
    double *y;        /* 0/1 labels or NULL */
    char *target;     /* name of the label column, or NULL */
    /* Pre-binned (hamf_dataset_read_csv_binned): no values, only the bin
     * codes of every column (column-major, ncols x n) made with `binned`
     * (built for binned_max value bins); cols hold names and kinds. */
    struct hamf__binmap *binned;
    uint8_t *bcodes;
    int binned_max;
};

/* A pre-binned dataset (dataset.c) over n rows, taking ownership of
 * `codes` (bins->nf x n, column-major) and `y` (NULL or n labels); the
 * bins are copied. On failure nothing is taken. */
struct hamf__binmap;
hamf_status hamf__dataset_binned(size_t n, const struct hamf__binmap *bins, int max_bins, uint8_t *codes, double *y,
                                 const char *target, hamf_dataset **out);

/* ---- bin mapper ---- */
#define HAMF_MAX_BINS 256 /* bins per feature incl. the missing bin 0 */

struct hamf__feat {
    char *name;
    bool is_cat;
    int nbins;        /* 2..256; bin 0 = missing */
    /* numeric: nbins-1 upper edges; value v goes to the first bin b >= 1 with
     * v <= edges[b-1] (last edge is +inf) */
    double *edges;
    /* categorical: ncat strings and the bin of each (1..255; 0 never) */
    size_t ncat;
    char **cats;
    uint8_t *cat_bin;
};

struct hamf__binmap {
    size_t nf;
    struct hamf__feat *f;
};

void hamf__binmap_clear(struct hamf__binmap *m);
/* Build bin boundaries from a dataset (all its columns, in order). */
hamf_status hamf__binmap_build(const struct hamf_dataset *d, int max_bins, struct hamf__pool *pool,
                               struct hamf__binmap *out);
/* Column-major codes[f*n + i] for dataset `d` whose columns colmap[f] match
 * model feature f (colmap NULL = same order). Categorical codes are remapped
 * through the dictionaries by string; unseen categories become missing. */
hamf_status hamf__binmap_apply(const struct hamf__binmap *m, const struct hamf_dataset *d,
                               const size_t *colmap, struct hamf__pool *pool, uint8_t **codes);
/* Codes of d under m without a copy when d is pre-binned with m's bins
 * (*owned NULL), else built (*owned = *codes, free it). */
hamf_status hamf__binmap_codes(const struct hamf__binmap *m, const struct hamf_dataset *d, struct hamf__pool *pool,
                               const uint8_t **codes, uint8_t **owned);
hamf_status hamf__binmap_copy(const struct hamf__binmap *src, struct hamf__binmap *out);
bool hamf__binmap_same(const struct hamf__binmap *a, const struct hamf__binmap *b);
/* The pieces of hamf__binmap_build, for callers that see the rows in
 * blocks: every step-th of n training rows is the numeric sample; edges
 * from the sample's m non-NaN values (takes `s`: sorted, then freed);
 * categorical bins
 * from the dictionary (lens NULL: C strings) and per-category counts over
 * the training rows. */
size_t hamf__bin_sample_step(size_t n);
/* Sort scratch for hamf__bin_numeric_sample: two arrays of cap 64-bit
 * words (a caller binning on pool threads allocates them on its own; NULL
 * or too small: allocated and freed inside); sorted: s is in ascending
 * order already (no sort). */
struct hamf__bin_scratch { uint64_t *a, *b; size_t cap; bool sorted; };
hamf_status hamf__bin_numeric_sample(double *s, size_t m, int max_bins, struct hamf__feat *ft,
                                     struct hamf__bin_scratch *x);
hamf_status hamf__bin_categories(const char *const *dict, const size_t *lens, size_t ncat, const size_t *count,
                                 struct hamf__feat *ft);
/* Bin of one raw numeric value. */
uint8_t hamf__bin_value(const struct hamf__feat *f, double v);

/* ---- trees in bin space ---- */
enum { HAMF_NODE_DEFAULT_LEFT = 1, HAMF_NODE_CAT = 2 };

struct hamf__node {
    int32_t left, right;  /* child indices; left < 0 marks a leaf */
    uint16_t feat;
    uint8_t thr;          /* numeric: bins 1..thr go left */
    uint8_t flags;        /* HAMF_NODE_* */
    uint32_t cat;         /* categorical: index of its 8-word left-bin bitset */
    float gain;           /* split gain (importance) */
    double value;         /* leaf output (GB: already scaled by lr) */
};

struct hamf__tree {
    uint32_t n_nodes, cap_nodes;
    struct hamf__node *nodes;
    uint32_t n_cats, cap_cats; /* bitsets of 8 uint32 words each */
    uint32_t *cat_bits;
};

void hamf__tree_clear(struct hamf__tree *t);
/* Leaf reached by one row of column-major codes (row i of n). */
static inline const struct hamf__node *hamf__tree_leaf(const struct hamf__tree *t,
                                                       const uint8_t *codes, size_t n, size_t i)
{
    const struct hamf__node *nd = t->nodes;
    while (nd->left >= 0) {
        uint8_t b = codes[(size_t)nd->feat * n + i];
        int left;
        if (nd->flags & HAMF_NODE_CAT) left = (t->cat_bits[nd->cat * 8 + (b >> 5)] >> (b & 31)) & 1;
        else if (b == 0) left = nd->flags & HAMF_NODE_DEFAULT_LEFT;
        else left = b <= nd->thr;
        nd = &t->nodes[left ? nd->left : nd->right];
    }
    return nd;
}

/* ---- the tree learner (tree.c) ---- */
struct hamf__learn_params {
    int max_depth;      /* 0 = unlimited */
    int max_leaves;     /* 0 = unlimited (depth-wise); > 0 = leaf-wise */
    double min_hess;    /* per child */
    double l2;
    double min_gain;
    double scale;       /* leaf value multiplier (learning rate) */
    int mtry;           /* > 0: features sampled per node (random forest) */
    bool newton;        /* leaf = -G/(H+l2)*scale (GB); else G/H (RF mean) */
};

/* Shared, read-only training data for one fit. */
struct hamf__train_data {
    size_t n;
    size_t nf;
    const uint8_t *codes;  /* column-major */
    const uint8_t *rows;   /* row-major copy (n*nf) for the RF learner (GB: NULL) */
    const int *nbins;
    const bool *is_cat;
};

struct hamf__learner;
hamf_status hamf__learner_new(const struct hamf__train_data *td, struct hamf__pool *pool,
                              struct hamf__learner **out);
void hamf__learner_free(struct hamf__learner *l);
/* GB: grow one tree on rows idx[0..m) (sorted; NULL: rows 0..m-1) with float pairs gh[2*i],
 * gh[2*i+1]; `fmask` (may be NULL) enables features. When `score` is not
 * NULL the new tree's leaf values are added to score[i] of rows idx[..]
 * (the last level is routed, not partitioned). Uses the pool. */
/* Optional gradient callback for a tree on all rows in order (idx[k] = k):
 * the learner calls fn(ctx, k0, k1, slot) to fill gh for rows [k0, k1)
 * right before reading them, with slots 0..nslots-1 (set by the grow)
 * in row order; nothing else reads gh before that. */
struct hamf__grad_prep {
    void (*fn)(void *ctx, size_t k0, size_t k1, size_t slot);
    void *ctx;
    size_t nslots;             /* out: slots used (at most 4) */
};
hamf_status hamf__learner_grow(struct hamf__learner *l, const struct hamf__learn_params *p,
                               const uint32_t *idx, size_t m, const float *gh,
                               const uint8_t *fmask, double *score, struct hamf__grad_prep *prep,
                               struct hamf__tree *out);

/* Whether the learner's AVX2 paths run (gradients, split search,
 * partitions): the CPU has AVX2 and HAMF_LEARN_SIMD is not "sse2" (which
 * compares the paths: their results are the same bits). */
int hamf__learn_avx2(void);

/* The training cover (rows reaching it) of every node of the tree the
 * last grow made, into cover[0..n_nodes). */
void hamf__learner_covers(const struct hamf__learner *l, double *cover);

/* RF: grow one tree single-threaded (tree parallelism is outside), rows
 * idx[0..m) with per-row weight w[i] and label y[i]; needs td->rows. The
 * out-of-bag rows oob_idx[0..moob) are partitioned alongside and the leaf
 * they reach is added to oob_sum[i] (value * 2^40) and oob_cnt[i] (both may
 * be NULL). */
struct hamf__rf_scratch;
hamf_status hamf__rf_scratch_new(size_t n, struct hamf__rf_scratch **out);
void hamf__rf_scratch_free(struct hamf__rf_scratch *s);
hamf_status hamf__rf_grow(const struct hamf__train_data *td, struct hamf__rf_scratch *s,
                          const struct hamf__learn_params *p, const uint32_t *idx, size_t m,
                          const float *w, const float *y, const uint32_t *oob_idx, size_t moob,
                          _Atomic int64_t *oob_sum, _Atomic int32_t *oob_cnt, struct hamf__rng *rng,
                          struct hamf__tree *out);

/* ---- the model ---- */
struct hamf_ensemble {
    hamf_algorithm algorithm;
    struct hamf__binmap bins;
    char *target;
    char *pipeline;          /* preprocessing spec text or NULL */
    char *params_json;       /* the training parameters, for the record */
    double init_score;       /* GB: base log-odds */
    size_t n_trees, cap_trees;
    struct hamf__tree *trees;
    size_t n_iter;           /* GB loss history length */
    double *train_loss, *valid_loss;
    double oob_accuracy;     /* RF: percent, NaN if unknown */
    struct hamf__fast *fast; /* packed predictor (lazy) */
    double *cover;           /* SHAP: training rows per node, every tree's
                                nodes concatenated in tree order; NULL =
                                unknown (see shap.c) */
};

void hamf__model_drop_fast(struct hamf_ensemble *m);
/* Validate trees and build the packed predictor (after fit or load). */
hamf_status hamf__model_prepare(struct hamf_ensemble *m);
/* Cap the vector path of models prepared from now on (2 AVX2, 1 SSE2, 0
 * per-row walks only; the CPU's best is used when lower): for tests. */
void hamf__predict_set_simd(int level);
/* Raw scores for column-major codes (n rows): GB log-odds / RF mean prob. */
hamf_status hamf__model_score_codes(const struct hamf_ensemble *m, const uint8_t *codes, size_t n,
                                    int threads, double *out);
/* P(label = 1) of n rows given in model feature order (values[i*nf + f],
 * cats[i*nf + f]; either may be NULL), on the caller's thread, binned in
 * stack blocks: no allocation. */
hamf_status hamf__model_predict_rows(const struct hamf_ensemble *m, size_t n, const double *values,
                                     const char *const *cats, double *proba);

/* model_io.c: the file format in memory (version 1 or 2) and back */
hamf_status hamf__model_serialize(const struct hamf_ensemble *m, unsigned version, struct hamf__buf *out);
hamf_status hamf__model_parse(const char *name, const void *buf, size_t len, struct hamf_ensemble **out);
/* The same for scoring only: a version 3 file of a deep forest is checked
 * whole but gives only the predictor (m->fast) and n_trees empty trees
 * (tree 0 has no node); parse the same bytes again for the trees. Any other
 * file loads fully. */
hamf_status hamf__model_parse_scoring(const char *name, const void *buf, size_t len, struct hamf_ensemble **out);

/* gbdt.c / forest.c */
hamf_status hamf__gbdt_fit(const struct hamf_dataset *d, const hamf_train_params *p,
                           struct hamf_ensemble *m);
hamf_status hamf__forest_fit(const struct hamf_dataset *d, const hamf_train_params *p,
                             struct hamf_ensemble *m);

/* ---- SHAP (shap.c) ---- */
/* Fill m->cover by routing the training set `d` (columns = model features,
 * in order) through every tree. */
hamf_status hamf__shap_fill_covers(struct hamf_ensemble *m, const struct hamf_dataset *d, int threads);
/* A copy of the covers SHAP uses (m->cover, or leaf counts without them),
 * every tree's nodes concatenated. [owned: hamf__free] */
hamf_status hamf__shap_covers(const struct hamf_ensemble *m, double **out);
/* SHAP values of column-major codes: out[i*(nf+1) + f], bias last. */
hamf_status hamf__shap_codes(const struct hamf_ensemble *m, const uint8_t *codes, size_t n, int threads,
                             double *out);

/* ---- XGBoost JSON (xgb_json.c; hamf__xgb_export is in xgb_json.h) ---- */
/* A model from XGBoost JSON text; `source` names it in errors. */
hamf_status hamf__xgb_import(const char *text, size_t len, const char *source, struct hamf_ensemble **out);

/* Row-major copy of column-major codes. */
hamf_status hamf__codes_transpose(const uint8_t *codes, size_t n, size_t nf, uint8_t **rows);

/* A text label as a class: 1/yes/true/y/t -> 1, 0/no/false/n/f -> 0
 * (case-insensitive), anything else -> -1 (frame_glue.c; the in-memory and
 * the streaming ingest read labels the same way). */
int hamf__label_of_string(const char *s);

#endif
