/*
 * predict_int.h — the compact predictor's arrays (struct hamf__fast), shared
 * by predict.c (which builds them from trees and walks them) and
 * model_io.c (which builds the deep form straight from a version 3 file, so
 * that opening a forest for scoring never materialises the learner's
 * nodes). Nothing else includes it but test_predict.c, which checks the
 * walks against each other.
 */
#ifndef HAMF_ML_PREDICT_INT_H
#define HAMF_ML_PREDICT_INT_H

#include "ml.h"

#include <stdint.h>

#define HAMF__SUB_CAT 2
/* a deep child reference with this bit is a leaf: the rest indexes leaf[] */
#define HAMF__LEAF_BIT 0x80000000u
/* a deep tree's first bitsets are named in the node itself (thr + 256 *
 * (sub >> 2)); later ones through aux[] */
#define HAMF__LOCAL_CATS 16384u

struct hamf__snode { uint16_t feat; uint8_t sub; uint8_t thr; };
/* Deep node, in the tree's own node order: children at child and child + 1
 * (node indices into dn); a leaf is {0, 0, 255, HAMF__LEAF_BIT | leaf
 * index}, so a step from it yields the leaf reference. */
struct hamf__dnode { uint16_t feat; uint8_t sub; uint8_t thr; uint32_t child; };

/* category string -> bin, for single rows (open addressing) */
struct hamf__cat_hash {
    uint32_t mask;
    uint32_t *slot; /* index + 1 into the feature's cats, 0 = empty */
};

struct hamf__fast {
    size_t ntrees;
    bool deep;
    bool has_cat;
    /* shallow */
    uint8_t *depth;        /* per tree */
    size_t *node_off;      /* per tree (+1): first node (shallow: into sn; deep: into dn) */
    size_t *leaf_off;      /* shallow, per tree: first leaf */
    uint32_t *cat_off;     /* per tree: first of its bitsets in cat */
    struct hamf__snode *sn;
    /* deep */
    struct hamf__dnode *dn; /* node_off[ntrees] nodes + the idle slots' self loop */
    uint32_t *aux;         /* deep, only when a tree has > HAMF__LOCAL_CATS bitsets: per node its bitset */
    double *leaf;
    uint32_t *cat;         /* cw words per bitset: bit b set = bin b goes left */
    size_t ncat;
    uint32_t cw;           /* words per bitset: enough for the widest feature a bitset split uses */
    struct hamf__cat_hash *ch; /* per feature (mask 0 = numeric) */
    uint8_t *lut;          /* shallow, cw <= 2: per bitset 64 bytes, 0xff = bin goes right (AVX2 path) */
    int simd;              /* 2: AVX2 (32-row steps), 1: SSE2 (16), 0: per-row walks only */
    uint64_t *lanes;       /* deep, AVX2: per mask of 8 lanes, the set lanes packed (bytes), then each lane's rank */
};

/* The category hash of every categorical feature of m (after m->fast->
 * arrays are in place); part of every prepare. */
hamf_status hamf__fast_finish(struct hamf_ensemble *m);
/* Would hamf__model_prepare pick the deep layout (a tree deeper than 8)? */
bool hamf__model_is_deep(const struct hamf_ensemble *m);

#endif
