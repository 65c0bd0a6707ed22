/*
 * shap.c — exact SHAP values of tree ensembles: the polynomial-time
 * path-dependent TreeSHAP algorithm of Lundberg, Erion and Lee ("Consistent
 * individualized feature attribution for tree ensembles", 2018, Algorithm 2;
 * Nature MI 2020).
 *
 * For one row and one tree the algorithm walks the tree once, carrying the
 * "path" of distinct features split on between the root and the current
 * node. Each path element holds the feature, the fraction of training cover
 * that flows this way when the feature is unknown (z), whether the row
 * itself flows this way (o, 0 or 1), and the permutation weight of every
 * subset size. EXTEND adds a feature to the path (updating the weights for
 * subsets with and without it), UNWIND removes one again (its exact
 * inverse); at a leaf the contribution of each path feature i is
 * leaf value * (o_i - z_i) * sum of the weights with i unwound. A feature
 * split on twice along one path is unwound at the second split and re-added
 * with the product of its fractions. Branches with z = o = 0 (no cover, not
 * taken by the row) carry no weight and are skipped (exact; avoids 0/0).
 *
 * The "training cover" of a node is the number of training rows that reach
 * it: computed once after fit by routing the training set through every
 * tree (hamf__shap_fill_covers) and stored in the model file; imported
 * XGBoost models bring theirs (sum_hessian). Models without covers (files
 * written before covers existed) fall back to leaf counts, which keeps
 * hamf and an exported XGBoost model consistent but is not data-weighted.
 *
 * Output: per row, one value per model feature plus the bias (the expected
 * model output over the training cover). GB values are in raw margin
 * (log-odds) units, the bias includes the initial score; RF values are in
 * probability units (every tree scaled by 1/n_trees). A row sums to the
 * margin (GB) or the probability (RF). Rows are independent tasks with
 * their own outputs and trees are added in a fixed order, so the result
 * is bit-identical for any thread count.
 */
#include "ml.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- covers ---- */

static size_t total_nodes(const struct hamf_ensemble *m)
{
    size_t n = 0;
    for (size_t t = 0; t < m->n_trees; t++) n += m->trees[t].n_nodes;
    return n;
}

struct cover_ctx {
    const struct hamf_ensemble *m;
    const uint8_t *codes;
    size_t n;
    size_t *off;
    double *cover;
};

/* one task per tree: the tree's node range is its own output */
static void task_cover(void *vctx, size_t t, int tid)
{
    (void)tid;
    struct cover_ctx *c = vctx;
    const struct hamf__tree *tr = &c->m->trees[t];
    double *cv = c->cover + c->off[t];
    for (uint32_t k = 0; k < tr->n_nodes; k++) cv[k] = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct hamf__node *nd = tr->nodes;
        cv[0] += 1;
        while (nd->left >= 0) {
            uint8_t b = c->codes[(size_t)nd->feat * c->n + i];
            int left;
            if (nd->flags & HAMF_NODE_CAT) left = (tr->cat_bits[nd->cat * 8 + (b >> 5)] >> (b & 31)) & 1;
            else if (b == 0) left = nd->flags & HAMF_NODE_DEFAULT_LEFT;
            else left = b <= nd->thr;
            int32_t k = left ? nd->left : nd->right;
            cv[k] += 1;
            nd = &tr->nodes[k];
        }
    }
}

hamf_status hamf__shap_fill_covers(struct hamf_ensemble *m, const struct hamf_dataset *d, int threads)
{
    size_t tot = total_nodes(m);
    size_t *off = hamf__malloc((m->n_trees + 1) * sizeof *off);
    double *cover = hamf__malloc((tot + 1) * sizeof *cover);
    const uint8_t *codes = NULL;
    uint8_t *own_codes = NULL;
    struct hamf__pool *pool = NULL;
    hamf_status st = HAMF_OK;
    if (!off || !cover) { st = hamf__err(HAMF_ERR_NOMEM, "shap: out of memory"); goto cleanup; }
    size_t o = 0;
    for (size_t t = 0; t < m->n_trees; t++) { off[t] = o; o += m->trees[t].n_nodes; }
    if ((st = hamf__pool_new(threads, &pool))) goto cleanup;
    /* the training dataset's columns are the model's features, in order */
    if ((st = hamf__binmap_codes(&m->bins, d, pool, &codes, &own_codes))) goto cleanup;
    struct cover_ctx c = {m, codes, d->n, off, cover};
    hamf__pool_run(pool, m->n_trees, task_cover, &c);
    hamf__free(m->cover);
    m->cover = cover;
    cover = NULL;
cleanup:
    hamf__pool_free(pool);
    hamf__free(own_codes);
    hamf__free(cover);
    hamf__free(off);
    return st;
}

/* Covers for SHAP: the model's own, or leaf counts when it has none.
 * [owned by the caller when *owned is set] */
static hamf_status covers_of(const struct hamf_ensemble *m, const double **cover, double **owned)
{
    *owned = NULL;
    if (m->cover) { *cover = m->cover; return HAMF_OK; }
    double *cv = hamf__malloc((total_nodes(m) + 1) * sizeof *cv);
    if (!cv) return hamf__err(HAMF_ERR_NOMEM, "shap: out of memory");
    size_t o = 0;
    for (size_t t = 0; t < m->n_trees; t++) {
        const struct hamf__tree *tr = &m->trees[t];
        /* children come after their parent: a reverse sweep sums leaves up */
        for (uint32_t k = tr->n_nodes; k-- > 0;) {
            const struct hamf__node *nd = &tr->nodes[k];
            cv[o + k] = nd->left < 0 ? 1 : cv[o + (size_t)nd->left] + cv[o + (size_t)nd->right];
        }
        o += tr->n_nodes;
    }
    *cover = *owned = cv;
    return HAMF_OK;
}

hamf_status hamf__shap_covers(const struct hamf_ensemble *m, double **out)
{
    const double *cv;
    double *owned;
    hamf_status st = covers_of(m, &cv, &owned);
    if (st) return st;
    if (!owned) {
        size_t n = total_nodes(m);
        owned = hamf__malloc((n + 1) * sizeof *owned);
        if (!owned) return hamf__err(HAMF_ERR_NOMEM, "shap: out of memory");
        memcpy(owned, cv, n * sizeof *owned);
    }
    *out = owned;
    return HAMF_OK;
}

/* ---- the algorithm ---- */

struct elem {
    int feat;   /* -1 for the root placeholder */
    double z;   /* fraction of cover flowing this way with the feature unknown */
    double o;   /* 1 if the row flows this way, else 0 */
    double w;   /* permutation weight */
};

/* 1/k for the path lengths that occur (a path holds at most depth + 1
 * elements; deeper trees fall back to division). */
#define INV_MAX 128
static double inv_tab[INV_MAX + 1];
static void inv_init(void)
{
    for (int k = 1; k <= INV_MAX; k++) inv_tab[k] = 1.0 / (double)k;
}
static inline double inv(int k) { return k <= INV_MAX ? inv_tab[k] : 1.0 / (double)k; }

/* EXTEND: append (feat, z, o) to a path of `len` elements. o is 0 or 1. */
static void extend(struct elem *p, int len, double z, double o, int feat)
{
    p[len].feat = feat;
    p[len].z = z;
    p[len].o = o;
    p[len].w = len == 0 ? 1.0 : 0.0;
    const double r = inv(len + 1);
    for (int i = len - 1; i >= 0; i--) {
        p[i + 1].w += o * p[i].w * (double)(i + 1) * r;
        p[i].w = z * p[i].w * (double)(len - i) * r;
    }
}

/* UNWIND: remove element `k` from a path of `len` elements (inverse of
 * EXTEND for that element). Its o is 0 or 1; with o = 0, z > 0 (a cold
 * branch of zero cover is never entered). */
static void unwind(struct elem *p, int len, int k)
{
    const double o = p[k].o, z = p[k].z;
    double nxt = p[len - 1].w;
    if (o != 0) {
        const double zr = z * inv(len);
        for (int j = len - 2; j >= 0; j--) {
            double t = p[j].w;
            p[j].w = nxt * (double)len * inv(j + 1);
            nxt = t - p[j].w * zr * (double)(len - 1 - j);
        }
    } else {
        const double lz = (double)len / z;
        for (int j = len - 2; j >= 0; j--) p[j].w = p[j].w * lz * inv(len - 1 - j);
    }
    for (int j = k; j < len - 1; j++) {
        p[j].feat = p[j + 1].feat;
        p[j].z = p[j + 1].z;
        p[j].o = p[j + 1].o;
    }
}

/* Sum of the weights the path would have with element `k` unwound. */
static double unwound_sum(const struct elem *p, int len, int k)
{
    const double o = p[k].o, z = p[k].z;
    double total = 0;
    if (o != 0) {
        const double zr = z * inv(len);
        double nxt = p[len - 1].w;
        for (int j = len - 2; j >= 0; j--) {
            double t = nxt * inv(j + 1);
            total += t;
            nxt = p[j].w - t * (double)len * zr * (double)(len - 1 - j);
        }
        return total * (double)len;
    }
    for (int j = len - 2; j >= 0; j--) total += p[j].w * inv(len - 1 - j);
    return total * (double)len / z;
}

struct walk {
    const struct hamf__tree *tr;
    const double *cover;  /* this tree's node covers */
    const uint8_t *x;     /* the row's bins, model feature order */
    double scale;         /* 1 (GB) or 1/n_trees (RF) */
    double *phi;          /* nf outputs */
};

static int goes_left(const struct hamf__tree *tr, const struct hamf__node *nd, uint8_t b)
{
    if (nd->flags & HAMF_NODE_CAT) return (tr->cat_bits[nd->cat * 8 + (b >> 5)] >> (b & 31)) & 1;
    if (b == 0) return nd->flags & HAMF_NODE_DEFAULT_LEFT;
    return b <= nd->thr;
}

/* RECURSE: `parent` holds a path of `len` elements; this level's path is
 * written right after it (parent + len + 1 ... ), so each level owns its
 * copy and siblings start from the same parent path. */
static void recurse(const struct walk *w, int32_t node, struct elem *parent, int len, double z, double o, int feat)
{
    struct elem *p = parent + len + 1;
    if (len) memcpy(p, parent, (size_t)len * sizeof *p);
    extend(p, len, z, o, feat);
    len++;
    const struct hamf__node *nd = &w->tr->nodes[node];
    if (nd->left < 0) {
        double v = nd->value * w->scale;
        for (int i = 1; i < len; i++) {
            double s = unwound_sum(p, len, i);
            w->phi[p[i].feat] += s * (p[i].o - p[i].z) * v;
        }
        return;
    }
    int32_t hot = goes_left(w->tr, nd, w->x[nd->feat]) ? nd->left : nd->right;
    int32_t cold = hot == nd->left ? nd->right : nd->left;
    double iz = 1, io = 1;
    int k = 1;
    while (k < len && p[k].feat != (int)nd->feat) k++;
    if (k < len) {
        iz = p[k].z;
        io = p[k].o;
        unwind(p, len, k);
        len--;
    }
    double c = w->cover[node];
    double zh = c > 0 ? w->cover[hot] / c : 0, zc = c > 0 ? w->cover[cold] / c : 0;
    /* a branch with no cover that the row does not take either (z = o = 0)
     * carries no weight: skipping it is exact and avoids 0/0 */
    if (iz * zh > 0 || io != 0) recurse(w, hot, p, len, iz * zh, io, nd->feat);
    if (iz * zc > 0) recurse(w, cold, p, len, iz * zc, 0, nd->feat);
}

static int depth_of(const struct hamf__tree *t)
{
    /* children come after their parent: one forward sweep */
    int *d = hamf__calloc(t->n_nodes + 1, sizeof *d);
    if (!d) return -1;
    int mx = 0;
    for (uint32_t k = 0; k < t->n_nodes; k++) {
        const struct hamf__node *nd = &t->nodes[k];
        if (d[k] > mx) mx = d[k];
        if (nd->left >= 0) d[nd->left] = d[nd->right] = d[k] + 1;
    }
    hamf__free(d);
    return mx;
}

/* expected value of a tree over its cover */
static double tree_mean(const struct hamf__tree *t, const double *cover)
{
    double s = 0;
    for (uint32_t k = 0; k < t->n_nodes; k++)
        if (t->nodes[k].left < 0) s += t->nodes[k].value * cover[k];
    return cover[0] > 0 ? s / cover[0] : 0;
}

/* ---- per-leaf tables for shallow trees ----
 *
 * The path at a leaf is, up to the order of EXTEND calls (the weights are
 * symmetric in it), the root placeholder extended by each distinct feature
 * e on the way with z_e = the product of its cover fractions along the path
 * and o_e = 1 iff the row takes the path's direction at every node of that
 * feature. So a leaf's contributions depend on the row only through the
 * bit pattern (o_e). For trees whose leaves have at most TABLE_MAX_K
 * distinct path features, the contributions of every leaf and pattern are
 * computed once with EXTEND/UNWIND (the same algorithm) and a row then
 * costs one pass over the leaves: its pattern (one compare per path node)
 * and k additions. Deeper trees use the recursion above. */
#define TABLE_MAX_K 8
#define TABLE_MAX_BYTES ((size_t)256 << 20)

struct leaf_tab {
    uint16_t k;          /* distinct path features */
    uint16_t npath;      /* internal nodes on the path */
    uint32_t path;       /* first entry in pnode/pelem/pdir */
    size_t tab;          /* (1 << k) * k contributions, pattern-major */
    uint16_t feat[TABLE_MAX_K];
};

struct tree_tab {
    uint32_t nleaves;
    struct leaf_tab *leaf;
    uint32_t *pnode;     /* path node */
    uint8_t *pelem;      /* its element (distinct feature) index */
    uint8_t *pdir;       /* 1 = the path goes left there */
    double *tab;
};

static void tree_tab_free(struct tree_tab *t)
{
    if (!t) return;
    hamf__free(t->leaf);
    hamf__free(t->pnode);
    hamf__free(t->pelem);
    hamf__free(t->pdir);
    hamf__free(t->tab);
}

/* Tables of one tree; *ok = false (and nothing allocated) when a leaf has
 * more than TABLE_MAX_K distinct features or the size passes *budget. */
static hamf_status tree_tab_build(const struct hamf__tree *tr, const double *cover, double scale, size_t nrows,
                                  size_t *budget, struct tree_tab *out, bool *ok)
{
    *ok = false;
    memset(out, 0, sizeof *out);
    uint32_t nn = tr->n_nodes;
    int32_t *parent = hamf__malloc((nn + 1) * sizeof *parent);
    if (!parent) return hamf__err(HAMF_ERR_NOMEM, "shap: out of memory");
    parent[0] = -1;
    uint32_t nleaves = 0;
    for (uint32_t k = 0; k < nn; k++) {
        if (tr->nodes[k].left < 0) { nleaves++; continue; }
        parent[tr->nodes[k].left] = parent[tr->nodes[k].right] = (int32_t)k;
    }
    /* sizes first */
    size_t npath = 0, ntab = 0;
    double build = 0, walk = 0; /* table build vs. per-row recursion cost, ~k^2 per leaf pattern */
    for (uint32_t k = 0; k < nn; k++) {
        if (tr->nodes[k].left >= 0) continue;
        int feats[TABLE_MAX_K], nf = 0, d = 0;
        for (int32_t pn = parent[k]; pn >= 0; pn = parent[pn]) {
            d++;
            int f = tr->nodes[pn].feat, e = 0;
            while (e < nf && feats[e] != f) e++;
            if (e == nf) {
                if (nf == TABLE_MAX_K || d > 60000) { hamf__free(parent); return HAMF_OK; }
                feats[nf++] = f;
            }
        }
        npath += (size_t)d;
        ntab += ((size_t)1 << nf) * (size_t)nf;
        build += (double)((size_t)1 << nf) * (nf + 1) * (nf + 1);
        walk += (double)(d + 1) * (nf + 1);
    }
    /* a table pays off once the rows outnumber its patterns */
    if (ntab * sizeof(double) > *budget || build > (double)nrows * walk) { hamf__free(parent); return HAMF_OK; }
    out->nleaves = nleaves;
    out->leaf = hamf__calloc(nleaves + 1, sizeof *out->leaf);
    out->pnode = hamf__malloc((npath + 1) * sizeof *out->pnode);
    out->pelem = hamf__malloc(npath + 1);
    out->pdir = hamf__malloc(npath + 1);
    out->tab = hamf__malloc((ntab + 1) * sizeof *out->tab);
    if (!out->leaf || !out->pnode || !out->pelem || !out->pdir || !out->tab) {
        hamf__free(parent);
        tree_tab_free(out);
        return hamf__err(HAMF_ERR_NOMEM, "shap: out of memory");
    }
    struct elem p[TABLE_MAX_K + 2];
    size_t po = 0, to = 0;
    uint32_t li = 0;
    for (uint32_t k = 0; k < nn; k++) {
        const struct hamf__node *lf = &tr->nodes[k];
        if (lf->left >= 0) continue;
        struct leaf_tab *L = &out->leaf[li++];
        double z[TABLE_MAX_K];
        L->path = (uint32_t)po;
        L->tab = to;
        for (int32_t c = (int32_t)k, pn = parent[k]; pn >= 0; c = pn, pn = parent[pn]) {
            const struct hamf__node *nd = &tr->nodes[pn];
            int e = 0;
            while (e < L->k && L->feat[e] != nd->feat) e++;
            if (e == L->k) { L->feat[L->k++] = nd->feat; z[e] = 1; }
            z[e] *= cover[pn] > 0 ? cover[c] / cover[pn] : 0;
            out->pnode[po] = (uint32_t)pn;
            out->pelem[po] = (uint8_t)e;
            out->pdir[po] = nd->left == c;
            po++;
        }
        L->npath = (uint16_t)(po - L->path);
        const double v = lf->value * scale;
        for (uint32_t pat = 0; pat < (1u << L->k); pat++) {
            double *row = out->tab + to + (size_t)pat * L->k;
            bool dead = false;
            p[0].feat = -1; p[0].z = 1; p[0].o = 1; p[0].w = 1;
            int len = 1;
            for (int e = 0; e < L->k; e++) {
                double o = (pat >> e) & 1;
                if (o == 0 && z[e] == 0) dead = true;
                extend(p, len++, z[e], o, e);
            }
            for (int e = 0; e < L->k; e++)
                row[e] = dead ? 0 : unwound_sum(p, len, e + 1) * (p[e + 1].o - p[e + 1].z) * v;
        }
        to += ((size_t)1 << L->k) * L->k;
    }
    hamf__free(parent);
    *budget -= ntab * sizeof(double);
    *ok = true;
    return HAMF_OK;
}

struct shap_ctx {
    const struct hamf_ensemble *m;
    const double *cover;
    const size_t *off;
    const struct tree_tab *tabs; /* per tree; nleaves 0 = use the recursion */
    const uint8_t *rows;   /* row-major bins */
    size_t n, nf;
    int maxdepth;
    double bias;
    double *out;           /* n * (nf + 1) */
    struct elem **scratch; /* per thread */
    uint8_t **goleft;      /* per thread: one byte per node */
};

#define SHAP_TASK 64

static void task_shap(void *vctx, size_t task, int tid)
{
    struct shap_ctx *c = vctx;
    const struct hamf_ensemble *m = c->m;
    struct elem *path = c->scratch[tid];
    uint8_t *gl = c->goleft[tid];
    double scale = m->algorithm == HAMF_ALGO_RANDOM_FOREST ? 1.0 / (double)m->n_trees : 1.0;
    size_t i0 = task * SHAP_TASK, i1 = (task + 1) * SHAP_TASK < c->n ? (task + 1) * SHAP_TASK : c->n;
    for (size_t i = i0; i < i1; i++)
        for (size_t f = 0; f <= c->nf; f++) c->out[i * (c->nf + 1) + f] = 0;
    /* trees outer, rows inner: a tree's tables stay in cache for the block */
    for (size_t t = 0; t < m->n_trees; t++) {
        const struct hamf__tree *tr = &m->trees[t];
        if (tr->nodes[0].left < 0) continue; /* a stump has no features */
        const struct tree_tab *tt = &c->tabs[t];
        for (size_t i = i0; i < i1; i++) {
            double *phi = c->out + i * (c->nf + 1);
            const uint8_t *x = c->rows + i * c->nf;
            if (!tt->nleaves) {
                struct walk w = {tr, c->cover + c->off[t], x, scale, phi};
                /* the root placeholder occupies path slot 0 of the first level */
                recurse(&w, 0, path - 1, 0, 1, 1, -1);
                continue;
            }
            for (uint32_t k = 0; k < tr->n_nodes; k++) {
                const struct hamf__node *nd = &tr->nodes[k];
                gl[k] = nd->left >= 0 ? (uint8_t)goes_left(tr, nd, x[nd->feat]) : 0;
            }
            for (uint32_t l = 0; l < tt->nleaves; l++) {
                const struct leaf_tab *L = &tt->leaf[l];
                uint32_t pat = (1u << L->k) - 1;
                for (uint32_t q = L->path; q < L->path + L->npath; q++)
                    if (gl[tt->pnode[q]] != tt->pdir[q]) pat &= ~(1u << tt->pelem[q]);
                const double *row = tt->tab + L->tab + (size_t)pat * L->k;
                for (int e = 0; e < L->k; e++) phi[L->feat[e]] += row[e];
            }
        }
    }
    for (size_t i = i0; i < i1; i++) c->out[i * (c->nf + 1) + c->nf] = c->bias;
}

hamf_status hamf__shap_codes(const struct hamf_ensemble *m, const uint8_t *codes, size_t n, int threads,
                             double *out)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, inv_init);
    const size_t nf = m->bins.nf;
    const double *cover;
    double *owned = NULL;
    size_t *off = NULL;
    uint8_t *rows = NULL;
    struct hamf__pool *pool = NULL;
    struct elem **scratch = NULL;
    uint8_t **goleft = NULL;
    struct tree_tab *tabs = NULL;
    int nth = 0;
    hamf_status st = covers_of(m, &cover, &owned);
    if (st) return st;
    off = hamf__malloc((m->n_trees + 1) * sizeof *off);
    if (!off) { st = hamf__err(HAMF_ERR_NOMEM, "shap: out of memory"); goto cleanup; }
    int maxdepth = 0;
    double bias = 0;
    size_t o = 0;
    for (size_t t = 0; t < m->n_trees; t++) {
        off[t] = o;
        int dd = depth_of(&m->trees[t]);
        if (dd < 0) { st = hamf__err(HAMF_ERR_NOMEM, "shap: out of memory"); goto cleanup; }
        if (dd > maxdepth) maxdepth = dd;
        bias += tree_mean(&m->trees[t], cover + o);
        o += m->trees[t].n_nodes;
    }
    if (m->algorithm == HAMF_ALGO_RANDOM_FOREST) bias /= (double)(m->n_trees ? m->n_trees : 1);
    else bias += m->init_score;
    if (n == 0) goto cleanup;
    if ((st = hamf__codes_transpose(codes, n, nf, &rows))) goto cleanup;
    tabs = hamf__calloc(m->n_trees + 1, sizeof *tabs);
    if (!tabs) { st = hamf__err(HAMF_ERR_NOMEM, "shap: out of memory"); goto cleanup; }
    size_t budget = TABLE_MAX_BYTES, maxnodes = 1;
    /* tables pay off when there are more rows than a leaf has patterns */
    for (size_t t = 0; t < m->n_trees && n >= 64; t++) {
        bool ok;
        if ((st = tree_tab_build(&m->trees[t], cover + off[t], m->algorithm == HAMF_ALGO_RANDOM_FOREST
                                     ? 1.0 / (double)m->n_trees : 1.0, n, &budget, &tabs[t], &ok)))
            goto cleanup;
    }
    for (size_t t = 0; t < m->n_trees; t++)
        if (m->trees[t].n_nodes > maxnodes) maxnodes = m->trees[t].n_nodes;
    size_t ntask = (n + SHAP_TASK - 1) / SHAP_TASK;
    if ((st = hamf__pool_new(ntask > 1 ? threads : 1, &pool))) goto cleanup;
    nth = hamf__pool_size(pool);
    scratch = hamf__calloc((size_t)nth, sizeof *scratch);
    goleft = hamf__calloc((size_t)nth, sizeof *goleft);
    for (int k = 0; goleft && k < nth; k++)
        if (!(goleft[k] = hamf__malloc(maxnodes + 1))) { st = hamf__err(HAMF_ERR_NOMEM, "shap: out of memory"); goto cleanup; }
    if (!scratch || !goleft) { st = hamf__err(HAMF_ERR_NOMEM, "shap: out of memory"); goto cleanup; }
    /* levels 0..maxdepth+1, each a path of at most level+1 elements */
    size_t slots = (size_t)(maxdepth + 2) * (size_t)(maxdepth + 3) / 2 + 2;
    for (int k = 0; k < nth; k++)
        if (!(scratch[k] = hamf__calloc(slots, sizeof **scratch))) {
            st = hamf__err(HAMF_ERR_NOMEM, "shap: out of memory");
            goto cleanup;
        }
    /* recurse() writes a level's path at parent + len + 1; the first call
     * passes parent = scratch - 1 with len 0, so level 0 starts at slot 0 */
    struct shap_ctx c = {m, cover, off, tabs, rows, n, nf, maxdepth, bias, out, NULL, goleft};
    for (int k = 0; k < nth; k++) scratch[k] += 1;
    c.scratch = scratch;
    hamf__pool_run(pool, ntask, task_shap, &c);
    for (int k = 0; k < nth; k++) scratch[k] -= 1;
cleanup:
    if (scratch)
        for (int k = 0; k < nth; k++) hamf__free(scratch[k]);
    hamf__free(scratch);
    if (goleft)
        for (int k = 0; k < nth; k++) hamf__free(goleft[k]);
    hamf__free(goleft);
    if (tabs)
        for (size_t t = 0; t < m->n_trees; t++) tree_tab_free(&tabs[t]);
    hamf__free(tabs);
    hamf__pool_free(pool);
    hamf__free(rows);
    hamf__free(off);
    hamf__free(owned);
    return st;
}

/* ---- public API ---- */

static hamf_status bin_dataset(const hamf_ensemble *m, const hamf_dataset *d, int threads, uint8_t **codes)
{
    hamf_status st = HAMF_OK;
    size_t *colmap = hamf__calloc(m->bins.nf + 1, sizeof *colmap);
    struct hamf__pool *pool = NULL;
    struct hamf__buf miss;
    hamf__buf_init(&miss, 4096);
    if (!colmap) { st = hamf__err(HAMF_ERR_NOMEM, "explain: out of memory"); goto cleanup; }
    size_t nmiss = 0;
    for (size_t f = 0; f < m->bins.nf; f++) {
        size_t c = 0;
        while (c < d->ncols && strcmp(d->cols[c].name, m->bins.f[f].name)) c++;
        if (c == d->ncols) hamf__buf_printf(&miss, "%s'%s'", nmiss++ ? ", " : "", m->bins.f[f].name);
        colmap[f] = c;
    }
    if (nmiss) {
        st = hamf__err(HAMF_ERR_SCHEMA, "explain: the data lacks %zu column%s the model needs: %s", nmiss,
                       nmiss == 1 ? "" : "s", miss.data ? miss.data : "");
        goto cleanup;
    }
    if ((st = hamf__pool_new(threads, &pool))) goto cleanup;
    st = hamf__binmap_apply(&m->bins, d, colmap, pool, codes);
cleanup:
    hamf__buf_free(&miss);
    hamf__pool_free(pool);
    hamf__free(colmap);
    return st;
}

hamf_status hamf_ensemble_shap(const hamf_ensemble *m, const hamf_dataset *d, int threads, double *contrib)
{
    if (!m || !d || !contrib) return hamf__err(HAMF_ERR_MISUSE, "explain: NULL argument");
    uint8_t *codes = NULL;
    hamf_status st = bin_dataset(m, d, threads, &codes);
    if (!st) st = hamf__shap_codes(m, codes, d->n, threads, contrib);
    hamf__free(codes);
    return st;
}

hamf_status hamf_ensemble_shap_importance(const hamf_ensemble *m, const hamf_dataset *d, int threads,
                                          double *importance)
{
    if (!m || !d || !importance) return hamf__err(HAMF_ERR_MISUSE, "explain: NULL argument");
    const size_t nf = m->bins.nf, n = d->n;
    double *phi = hamf__malloc((n * (nf + 1) + 1) * sizeof *phi);
    if (!phi) return hamf__err(HAMF_ERR_NOMEM, "explain: out of memory");
    hamf_status st = hamf_ensemble_shap(m, d, threads, phi);
    if (!st) {
        for (size_t f = 0; f < nf; f++) importance[f] = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t f = 0; f < nf; f++) importance[f] += fabs(phi[i * (nf + 1) + f]);
        for (size_t f = 0; f < nf; f++) importance[f] = n ? importance[f] / (double)n : 0;
    }
    hamf__free(phi);
    return st;
}
