/*
 * tree.c — tree node storage shared by the learners: nodes are appended to
 * a growing array (children after their parent), categorical splits keep
 * their left-bin set as a 256-bit bitset beside the nodes.
 *
 * The learners are split by concern: tree_split.c finds the best split of
 * a node from its histogram, tree_hist.c builds histograms (feature
 * bundles, shards, the subtraction trick's inputs), tree_grow.c grows GB
 * trees level by level over a row-index partition, tree_rf.c grows random
 * forest trees depth-first.
 */
#include "tree_int.h"

#include <stdlib.h>

#include <string.h>

void hamf__tree_clear(struct hamf__tree *t)
{
    if (!t) return;
    hamf__free(t->nodes);
    hamf__free(t->cat_bits);
    memset(t, 0, sizeof *t);
}

int32_t hamf__tree_add_node(struct hamf__tree *t)
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

int64_t hamf__tree_add_cat(struct hamf__tree *t, const uint32_t bits[8])
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


hamf_status hamf__tree_apply_split(struct hamf__tree *t, int32_t id, const struct split *s)
{
    int64_t cat = 0;
    if (s->flags & HAMF_NODE_CAT) {
        cat = hamf__tree_add_cat(t, s->bits);
        if (cat < 0) return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
    }
    int32_t l = hamf__tree_add_node(t), r = l >= 0 ? hamf__tree_add_node(t) : -1;
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

double hamf__tree_leaf_value(const struct hamf__learn_params *p, double G, double H)
{
    if (p->newton) return -G / (H + p->l2) * p->scale;
    return H > 0 ? G / H : 0;
}

int hamf__learn_avx2(void)
{
    static int level = -1;
    int v = __atomic_load_n(&level, __ATOMIC_ACQUIRE);
    if (v >= 0) return v;
#if defined(__x86_64__) && defined(__GNUC__)
    const char *e = getenv("HAMF_LEARN_SIMD");
    v = __builtin_cpu_supports("avx2") && !(e && strcmp(e, "sse2") == 0);
#else
    v = 0;
#endif
    __atomic_store_n(&level, v, __ATOMIC_RELEASE);
    return v;
}
