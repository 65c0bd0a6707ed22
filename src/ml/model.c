/*
 * model.c — the public face of the learner: training parameters (struct
 * defaults and a JSON form), hamf_ensemble_fit, accessors, and prediction.
 *
 * Prediction bins raw values with the model's bin mapper and walks the trees
 * in bin space. Shallow trees (depth <= 8, the GB case) are packed into a
 * "fast" form: each tree padded to a complete binary tree whose internal
 * nodes hold a feature and a 256-bit "goes right" set over that feature's
 * bins, so a row descends with d = 2d+1+bit and no branches; rows are scored
 * in blocks of 64 against one tree at a time so the tree stays in L1. Deep
 * trees (random forest) are walked node by node.
 */
#include "ml.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void hamf_train_params_init(hamf_train_params *p, hamf_algorithm algo)
{
    memset(p, 0, sizeof *p);
    p->algorithm = algo == HAMF_ALGO_RANDOM_FOREST ? HAMF_ALGO_RANDOM_FOREST : HAMF_ALGO_GRADIENT_BOOSTING;
    p->n_estimators = 100;
    p->learning_rate = 0.1;
    p->max_depth = p->algorithm == HAMF_ALGO_RANDOM_FOREST ? 0 : 3;
    p->max_leaves = 0;
    p->min_samples_leaf = 1;
    p->min_child_weight = 1e-3;
    p->l2 = 1.0;
    p->subsample = 1.0;
    p->colsample = 1.0;
    p->max_features = 0;
    p->bootstrap = 1;
    p->validation_fraction = 0;
    p->n_iter_no_change = 10;
    p->max_bins = 255;
    p->seed = 42;
    p->threads = 0;
}

/* ---- tiny JSON object reader for parameters ---- */

static const char *skip_ws(const char *s)
{
    while (*s && isspace((unsigned char)*s)) s++;
    return s;
}

hamf_status hamf_train_params_parse_json(hamf_train_params *p, const char *json)
{
    if (!p || !json) return hamf__err(HAMF_ERR_MISUSE, "params: NULL argument");
    hamf_train_params q = *p;
    const char *s = skip_ws(json);
    if (*s != '{') return hamf__err(HAMF_ERR_PARSE, "params: col %d: expected '{'", (int)(s - json) + 1);
    s = skip_ws(s + 1);
    if (*s == '}') { *p = q; return HAMF_OK; }
    for (;;) {
        if (*s != '"') return hamf__err(HAMF_ERR_PARSE, "params: col %d: expected a key", (int)(s - json) + 1);
        const char *k0 = ++s;
        while (*s && *s != '"') s++;
        if (!*s) return hamf__err(HAMF_ERR_PARSE, "params: unterminated key");
        size_t klen = (size_t)(s - k0);
        char key[64];
        if (klen >= sizeof key) return hamf__err(HAMF_ERR_PARSE, "params: key too long");
        memcpy(key, k0, klen);
        key[klen] = 0;
        s = skip_ws(s + 1);
        if (*s != ':') return hamf__err(HAMF_ERR_PARSE, "params: col %d: expected ':'", (int)(s - json) + 1);
        s = skip_ws(s + 1);
        if (*s == '"') {
            const char *v0 = ++s;
            while (*s && *s != '"') s++;
            if (!*s) return hamf__err(HAMF_ERR_PARSE, "params: unterminated string");
            size_t vlen = (size_t)(s - v0);
            s++;
            if (strcmp(key, "algorithm")) return hamf__err(HAMF_ERR_PARSE, "params: key '%s' takes a number", key);
            if (vlen == 17 && !strncmp(v0, "gradient-boosting", 17)) q.algorithm = HAMF_ALGO_GRADIENT_BOOSTING;
            else if (vlen == 13 && !strncmp(v0, "random-forest", 13)) q.algorithm = HAMF_ALGO_RANDOM_FOREST;
            else return hamf__err(HAMF_ERR_CONSTRAINT, "params: unknown algorithm '%.*s'", (int)vlen, v0);
        } else {
            char *end;
            double v = strtod(s, &end);
            if (end == s || !isfinite(v)) return hamf__err(HAMF_ERR_PARSE, "params: key '%s': expected a number", key);
            s = end;
            struct { const char *k; int *i; double *d; } keys[] = {
                {"n_estimators", &q.n_estimators, NULL}, {"learning_rate", NULL, &q.learning_rate},
                {"max_depth", &q.max_depth, NULL}, {"max_leaves", &q.max_leaves, NULL},
                {"min_samples_leaf", &q.min_samples_leaf, NULL}, {"min_child_weight", NULL, &q.min_child_weight},
                {"l2", NULL, &q.l2}, {"subsample", NULL, &q.subsample}, {"colsample", NULL, &q.colsample},
                {"max_features", NULL, &q.max_features}, {"bootstrap", &q.bootstrap, NULL},
                {"validation_fraction", NULL, &q.validation_fraction},
                {"n_iter_no_change", &q.n_iter_no_change, NULL}, {"max_bins", &q.max_bins, NULL},
                {"threads", &q.threads, NULL},
            };
            size_t ki = 0;
            while (ki < HAMF_ARRAY_LEN(keys) && strcmp(keys[ki].k, key)) ki++;
            if (ki < HAMF_ARRAY_LEN(keys)) {
                if (keys[ki].d) *keys[ki].d = v;
                else if (v != floor(v) || fabs(v) > 2e9)
                    return hamf__err(HAMF_ERR_CONSTRAINT, "params: %s must be an integer", key);
                else *keys[ki].i = (int)v;
            } else if (!strcmp(key, "seed")) {
                if (v < 0 || v != floor(v)) return hamf__err(HAMF_ERR_CONSTRAINT, "params: seed must be a non-negative integer");
                q.seed = (uint64_t)v;
            } else return hamf__err(HAMF_ERR_PARSE, "params: unknown key '%s'", key);
        }
        s = skip_ws(s);
        if (*s == ',') { s = skip_ws(s + 1); continue; }
        if (*s == '}') break;
        return hamf__err(HAMF_ERR_PARSE, "params: col %d: expected ',' or '}'", (int)(s - json) + 1);
    }
    if (*skip_ws(s + 1)) return hamf__err(HAMF_ERR_PARSE, "params: trailing text after '}'");
    *p = q;
    return HAMF_OK;
}

static hamf_status check_params(const hamf_train_params *p)
{
    if (p->algorithm != HAMF_ALGO_GRADIENT_BOOSTING && p->algorithm != HAMF_ALGO_RANDOM_FOREST)
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: unknown algorithm %d", (int)p->algorithm);
    if (p->n_estimators <= 0 || p->n_estimators > 1000000)
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: n_estimators must be in 1..1000000, got %d", p->n_estimators);
    if (!(p->learning_rate > 0 && p->learning_rate <= 10))
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: learning_rate must be in (0, 10], got %g", p->learning_rate);
    if (p->max_depth < 0 || p->max_depth > 64)
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: max_depth must be in 0..64, got %d", p->max_depth);
    if (p->max_leaves < 0 || p->max_leaves == 1)
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: max_leaves must be 0 or >= 2, got %d", p->max_leaves);
    if (p->algorithm == HAMF_ALGO_GRADIENT_BOOSTING && p->max_depth == 0 && p->max_leaves == 0)
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: gradient boosting needs max_depth or max_leaves");
    if (!(p->subsample > 0 && p->subsample <= 1))
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: subsample must be in (0, 1], got %g", p->subsample);
    if (!(p->colsample > 0 && p->colsample <= 1))
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: colsample must be in (0, 1], got %g", p->colsample);
    if (!(p->max_features >= 0 && p->max_features <= 1))
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: max_features must be in [0, 1] (0 = sqrt), got %g", p->max_features);
    if (!(p->validation_fraction >= 0 && p->validation_fraction < 1))
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: validation_fraction must be in [0, 1), got %g", p->validation_fraction);
    if (!(p->l2 >= 0) || !(p->min_child_weight >= 0) || p->min_samples_leaf < 0)
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: l2, min_child_weight and min_samples_leaf must be >= 0");
    if (p->max_bins < 2 || p->max_bins > 255)
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: max_bins must be in 2..255, got %d", p->max_bins);
    return HAMF_OK;
}

static char *params_json(const hamf_train_params *p)
{
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf__buf_printf(&b, "{\"algorithm\":\"%s\",\"n_estimators\":%d",
                     p->algorithm == HAMF_ALGO_RANDOM_FOREST ? "random-forest" : "gradient-boosting",
                     p->n_estimators);
#define NUM(k, v) do { hamf__buf_puts(&b, ",\"" k "\":"); hamf__json_num(&b, (double)(v)); } while (0)
    if (p->algorithm == HAMF_ALGO_GRADIENT_BOOSTING) {
        NUM("learning_rate", p->learning_rate);
        NUM("max_depth", p->max_depth);
        NUM("max_leaves", p->max_leaves);
        NUM("min_child_weight", p->min_child_weight);
        NUM("l2", p->l2);
        NUM("subsample", p->subsample);
        NUM("colsample", p->colsample);
        NUM("validation_fraction", p->validation_fraction);
        NUM("n_iter_no_change", p->n_iter_no_change);
    } else {
        NUM("max_depth", p->max_depth);
        NUM("min_samples_leaf", p->min_samples_leaf);
        NUM("max_features", p->max_features);
        NUM("bootstrap", p->bootstrap);
    }
    NUM("max_bins", p->max_bins);
    NUM("seed", (double)p->seed);
#undef NUM
    hamf__buf_putc(&b, '}');
    return hamf__buf_detach(&b, NULL);
}

/* ---- model ---- */

static struct hamf_ensemble *model_alloc(void)
{
    struct hamf_ensemble *m = hamf__calloc(1, sizeof *m);
    if (m) m->oob_accuracy = NAN;
    return m;
}

void hamf_ensemble_free(hamf_ensemble *m)
{
    if (!m) return;
    hamf__model_drop_fast(m);
    hamf__binmap_clear(&m->bins);
    for (size_t t = 0; t < m->n_trees; t++) hamf__tree_clear(&m->trees[t]);
    hamf__free(m->trees);
    hamf__free(m->target);
    hamf__free(m->pipeline);
    hamf__free(m->params_json);
    hamf__free(m->train_loss);
    hamf__free(m->valid_loss);
    hamf__free(m->cover);
    hamf__free(m);
}

hamf_status hamf__model_prepare(struct hamf_ensemble *m);

hamf_status hamf_ensemble_fit(const hamf_dataset *d, const hamf_train_params *p, hamf_ensemble **out)
{
    if (!d || !p || !out) return hamf__err(HAMF_ERR_MISUSE, "train: NULL argument");
    hamf_status st = check_params(p);
    if (st) return st;
    if (!d->y) return hamf__err(HAMF_ERR_MISUSE, "train: the dataset has no label");
    if (d->n == 0) return hamf__err(HAMF_ERR_CONSTRAINT, "train: empty training set");
    if (d->ncols == 0) return hamf__err(HAMF_ERR_SCHEMA, "train: the dataset has no feature columns");
    if (d->n > UINT32_MAX - 1) return hamf__err(HAMF_ERR_CONSTRAINT, "train: too many rows (%zu)", d->n);
    struct hamf_ensemble *m = model_alloc();
    if (!m) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
    m->algorithm = p->algorithm;
    m->target = hamf__strdup(d->target ? d->target : "");
    m->params_json = params_json(p);
    if (!m->target || !m->params_json) { st = hamf__err(HAMF_ERR_NOMEM, "train: out of memory"); goto fail; }
    st = p->algorithm == HAMF_ALGO_RANDOM_FOREST ? hamf__forest_fit(d, p, m) : hamf__gbdt_fit(d, p, m);
    if (st) goto fail;
    if ((st = hamf__model_prepare(m))) goto fail;
    if ((st = hamf__shap_fill_covers(m, d, p->threads))) goto fail;
    *out = m;
    return HAMF_OK;
fail:
    hamf_ensemble_free(m);
    return st;
}

hamf_algorithm hamf_ensemble_algorithm(const hamf_ensemble *m) { return m ? m->algorithm : HAMF_ALGO_GRADIENT_BOOSTING; }
size_t hamf_ensemble_ntrees(const hamf_ensemble *m) { return m ? m->n_trees : 0; }
size_t hamf_ensemble_nfeatures(const hamf_ensemble *m) { return m ? m->bins.nf : 0; }
const char *hamf_ensemble_feature_name(const hamf_ensemble *m, size_t f)
{
    return m && f < m->bins.nf ? m->bins.f[f].name : NULL;
}
int hamf_ensemble_feature_is_categorical(const hamf_ensemble *m, size_t f)
{
    return m && f < m->bins.nf && m->bins.f[f].is_cat;
}
const char *hamf_ensemble_target(const hamf_ensemble *m) { return m && m->target ? m->target : ""; }
const char *hamf_ensemble_pipeline(const hamf_ensemble *m) { return m ? m->pipeline : NULL; }
const char *hamf_ensemble_params_json(const hamf_ensemble *m) { return m && m->params_json ? m->params_json : "{}"; }
double hamf_ensemble_oob_accuracy(const hamf_ensemble *m) { return m ? m->oob_accuracy : NAN; }

hamf_status hamf_ensemble_set_pipeline(hamf_ensemble *m, const char *spec_text)
{
    if (!m) return hamf__err(HAMF_ERR_MISUSE, "model: NULL handle");
    char *s = NULL;
    if (spec_text && !(s = hamf__strdup(spec_text))) return hamf__err(HAMF_ERR_NOMEM, "model: out of memory");
    hamf__free(m->pipeline);
    m->pipeline = s;
    return HAMF_OK;
}

void hamf_ensemble_loss_history(const hamf_ensemble *m, size_t *n, const double **train, const double **valid)
{
    *n = m ? m->n_iter : 0;
    *train = m ? m->train_loss : NULL;
    *valid = m ? m->valid_loss : NULL;
}

hamf_status hamf_ensemble_importance(const hamf_ensemble *m, double *gain)
{
    if (!m || !gain) return hamf__err(HAMF_ERR_MISUSE, "model: NULL argument");
    for (size_t f = 0; f < m->bins.nf; f++) gain[f] = 0;
    for (size_t t = 0; t < m->n_trees; t++)
        for (uint32_t k = 0; k < m->trees[t].n_nodes; k++) {
            const struct hamf__node *nd = &m->trees[t].nodes[k];
            if (nd->left >= 0 && nd->feat < m->bins.nf) gain[nd->feat] += nd->gain;
        }
    return HAMF_OK;
}

/* ======================================================================== */
/* prediction                                                               */
/* ======================================================================== */

#define FAST_MAX_DEPTH 8
#define BLOCK 64

struct fast_tree {
    int depth;
    size_t node_off;  /* into feat[] and bits[] (internal nodes, 2^depth - 1) */
    size_t leaf_off;  /* into leaf[] (2^depth) */
};

/* deep trees: 12-byte nodes in breadth-first order, children adjacent
 * (right = left + 1); a leaf holds -1 - (index of its value) */
struct cnode {
    int32_t child;
    uint16_t feat;
    uint8_t thr;
    uint8_t flags;
    uint32_t cat;
};

struct hamf__fast {
    size_t ntrees;
    bool deep;
    struct cnode *cn;   /* deep: all trees' nodes */
    size_t *cn_off;     /* deep: first node of each tree */
    double *cval;       /* deep: leaf values */
    struct fast_tree *t;
    uint16_t *feat;
    uint8_t *bits;    /* 32 bytes per internal node: bit b set = bin b goes right */
    double *leaf;
};

void hamf__model_drop_fast(struct hamf_ensemble *m)
{
    if (!m->fast) return;
    hamf__free(m->fast->t);
    hamf__free(m->fast->cn);
    hamf__free(m->fast->cn_off);
    hamf__free(m->fast->cval);
    hamf__free(m->fast->feat);
    hamf__free(m->fast->bits);
    hamf__free(m->fast->leaf);
    hamf__free(m->fast);
    m->fast = NULL;
}

static int tree_depth(const struct hamf__tree *t, int32_t k, int d)
{
    const struct hamf__node *nd = &t->nodes[k];
    if (nd->left < 0) return d;
    int a = tree_depth(t, nd->left, d + 1), b = tree_depth(t, nd->right, d + 1);
    return a > b ? a : b;
}

static int node_left_bin(const struct hamf__tree *t, const struct hamf__node *nd, int b)
{
    if (nd->flags & HAMF_NODE_CAT) return (t->cat_bits[nd->cat * 8 + (b >> 5)] >> (b & 31)) & 1;
    if (b == 0) return nd->flags & HAMF_NODE_DEFAULT_LEFT;
    return b <= nd->thr;
}

static void pad(const struct hamf__tree *t, int32_t k, size_t pos, int d, int D, struct hamf__fast *fs,
                const struct fast_tree *ft)
{
    const struct hamf__node *nd = &t->nodes[k];
    if (d == D) {
        fs->leaf[ft->leaf_off + (pos - (((size_t)1 << D) - 1))] = nd->value;
        return;
    }
    uint8_t *bits = fs->bits + (ft->node_off + pos) * 32;
    memset(bits, 0, 32);
    if (nd->left < 0) {
        fs->feat[ft->node_off + pos] = 0;
        pad(t, k, 2 * pos + 1, d + 1, D, fs, ft);
        pad(t, k, 2 * pos + 2, d + 1, D, fs, ft);
        return;
    }
    fs->feat[ft->node_off + pos] = nd->feat;
    for (int b = 0; b < 256; b++)
        if (!node_left_bin(t, nd, b)) bits[b >> 3] |= (uint8_t)(1u << (b & 7));
    pad(t, nd->left, 2 * pos + 1, d + 1, D, fs, ft);
    pad(t, nd->right, 2 * pos + 2, d + 1, D, fs, ft);
}

static hamf_status prepare_deep(struct hamf_ensemble *m)
{
    size_t total = 0, leaves = 0;
    for (size_t t = 0; t < m->n_trees; t++) {
        total += m->trees[t].n_nodes;
        for (uint32_t k = 0; k < m->trees[t].n_nodes; k++) leaves += m->trees[t].nodes[k].left < 0;
    }
    struct hamf__fast *fs = hamf__calloc(1, sizeof *fs);
    if (!fs) return hamf__err(HAMF_ERR_NOMEM, "model: out of memory");
    m->fast = fs;
    fs->deep = true;
    fs->ntrees = m->n_trees;
    fs->cn = hamf__malloc((total + 1) * sizeof *fs->cn);
    fs->cn_off = hamf__malloc((m->n_trees + 1) * sizeof *fs->cn_off);
    fs->cval = hamf__malloc((leaves + 1) * sizeof *fs->cval);
    int32_t *queue = hamf__malloc((total + 1) * sizeof *queue);
    if (!fs->cn || !fs->cn_off || !fs->cval || !queue) {
        hamf__free(queue);
        hamf__model_drop_fast(m);
        return hamf__err(HAMF_ERR_NOMEM, "model: out of memory");
    }
    size_t pos = 0, lv = 0;
    for (size_t t = 0; t < m->n_trees; t++) {
        const struct hamf__tree *tr = &m->trees[t];
        fs->cn_off[t] = pos;
        /* breadth-first: queue[q] = source node placed at pos0 + q */
        size_t head = 0, tail = 0, base = pos;
        queue[tail++] = 0;
        while (head < tail) {
            const struct hamf__node *nd = &tr->nodes[queue[head]];
            struct cnode *c = &fs->cn[base + head];
            head++;
            c->feat = nd->feat;
            c->thr = nd->thr;
            c->flags = nd->flags;
            c->cat = nd->cat;
            if (nd->left < 0) {
                c->child = -1 - (int32_t)lv;
                fs->cval[lv++] = nd->value;
            } else {
                c->child = (int32_t)(tail - 0);
                queue[tail++] = nd->left;
                queue[tail++] = nd->right;
            }
        }
        pos += tail;
    }
    fs->cn_off[m->n_trees] = pos;
    hamf__free(queue);
    return HAMF_OK;
}

/* Validate trees (also guards loaded files) and build the fast form when
 * every tree is shallow. */
hamf_status hamf__model_prepare(struct hamf_ensemble *m)
{
    hamf__model_drop_fast(m);
    size_t nodes = 0, leaves = 0;
    for (size_t t = 0; t < m->n_trees; t++) {
        const struct hamf__tree *tr = &m->trees[t];
        if (tr->n_nodes == 0) return hamf__err(HAMF_ERR_CORRUPT, "model: tree %zu is empty", t);
        int D = tree_depth(tr, 0, 0);
        if (D > FAST_MAX_DEPTH) return prepare_deep(m);
        nodes += ((size_t)1 << D) - 1;
        leaves += (size_t)1 << D;
    }
    struct hamf__fast *fs = hamf__calloc(1, sizeof *fs);
    if (!fs) return hamf__err(HAMF_ERR_NOMEM, "model: out of memory");
    fs->ntrees = m->n_trees;
    fs->t = hamf__calloc(m->n_trees + 1, sizeof *fs->t);
    fs->feat = hamf__calloc(nodes + 1, sizeof *fs->feat);
    fs->bits = hamf__calloc(nodes + 1, 32);
    fs->leaf = hamf__calloc(leaves + 1, sizeof *fs->leaf);
    m->fast = fs;
    if (!fs->t || !fs->feat || !fs->bits || !fs->leaf) {
        hamf__model_drop_fast(m);
        return hamf__err(HAMF_ERR_NOMEM, "model: out of memory");
    }
    size_t no = 0, lo = 0;
    for (size_t t = 0; t < m->n_trees; t++) {
        const struct hamf__tree *tr = &m->trees[t];
        struct fast_tree *ft = &fs->t[t];
        ft->depth = tree_depth(tr, 0, 0);
        ft->node_off = no;
        ft->leaf_off = lo;
        pad(tr, 0, 0, 0, ft->depth, fs, ft);
        no += ((size_t)1 << ft->depth) - 1;
        lo += (size_t)1 << ft->depth;
    }
    return HAMF_OK;
}

/* Score rows of a row-major block x[nr][nf] into out[nr] (raw sums). */
static void score_block(const struct hamf_ensemble *m, const uint8_t *x, size_t nr, double *out)
{
    const size_t nf = m->bins.nf;
    for (size_t r = 0; r < nr; r++) out[r] = 0;
    const struct hamf__fast *fs = m->fast;
    if (fs && !fs->deep) {
        uint32_t pos[BLOCK];
        for (size_t t = 0; t < fs->ntrees; t++) {
            const struct fast_tree *ft = &fs->t[t];
            const uint16_t *feat = fs->feat + ft->node_off;
            const uint8_t *bits = fs->bits + ft->node_off * 32;
            const double *leaf = fs->leaf + ft->leaf_off;
            for (size_t r = 0; r < nr; r++) pos[r] = 0;
            for (int d = 0; d < ft->depth; d++)
                for (size_t r = 0; r < nr; r++) {
                    uint32_t p = pos[r];
                    unsigned b = x[r * nf + feat[p]];
                    pos[r] = 2 * p + 1 + ((bits[p * 32 + (b >> 3)] >> (b & 7)) & 1);
                }
            uint32_t base = (1u << ft->depth) - 1;
            for (size_t r = 0; r < nr; r++) out[r] += leaf[pos[r] - base];
        }
        return;
    }
    if (fs && fs->deep) {
        /* all rows of the block descend together, one level per sweep, so
         * the cache misses of different rows overlap */
        int32_t cur[BLOCK];
        for (size_t t = 0; t < fs->ntrees; t++) {
            const struct cnode *cn = fs->cn + fs->cn_off[t];
            const uint32_t *bits = m->trees[t].cat_bits;
            for (size_t r = 0; r < nr; r++) cur[r] = 0;
            size_t active = nr;
            while (active) {
                active = 0;
                for (size_t r = 0; r < nr; r++) {
                    const struct cnode *c = cn + cur[r];
                    if (c->child < 0) continue;
                    unsigned b = x[r * nf + c->feat];
                    int left;
                    if (c->flags & HAMF_NODE_CAT) left = (bits[c->cat * 8 + (b >> 5)] >> (b & 31)) & 1;
                    else left = b == 0 ? (c->flags & HAMF_NODE_DEFAULT_LEFT) : b <= c->thr;
                    cur[r] = c->child + !left;
                    __builtin_prefetch(cn + cur[r]);
                    active++;
                }
            }
            for (size_t r = 0; r < nr; r++) out[r] += fs->cval[-1 - cn[cur[r]].child];
        }
        return;
    }
    for (size_t t = 0; t < m->n_trees; t++) {
        const struct hamf__tree *tr = &m->trees[t];
        for (size_t r = 0; r < nr; r++) {
            const struct hamf__node *nd = tr->nodes;
            const uint8_t *row = x + r * nf;
            while (nd->left >= 0) nd = &tr->nodes[node_left_bin(tr, nd, row[nd->feat]) ? nd->left : nd->right];
            out[r] += nd->value;
        }
    }
}

static double finish(const struct hamf_ensemble *m, double s)
{
    if (m->algorithm == HAMF_ALGO_RANDOM_FOREST) return m->n_trees ? s / (double)m->n_trees : 0.5;
    s += m->init_score;
    return s >= 0 ? 1 / (1 + exp(-s)) : exp(s) / (1 + exp(s));
}

struct pred_ctx {
    const struct hamf_ensemble *m;
    const uint8_t *codes;
    size_t n;
    double *out;
    bool proba;
};

#define PRED_TASK (BLOCK * 16)

static void task_predict(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct pred_ctx *c = vctx;
    const size_t nf = c->m->bins.nf;
    uint8_t x[BLOCK * 64];
    uint8_t *xb = nf <= 64 ? x : hamf__malloc(BLOCK * nf);
    if (!xb) { /* fall back to one row at a time on the stack-free path */
        for (size_t i = task * PRED_TASK; i < c->n && i < (task + 1) * PRED_TASK; i++) c->out[i] = NAN;
        return;
    }
    size_t i0 = task * PRED_TASK, i1 = i0 + PRED_TASK < c->n ? i0 + PRED_TASK : c->n;
    for (size_t b0 = i0; b0 < i1; b0 += BLOCK) {
        size_t nr = b0 + BLOCK < i1 ? BLOCK : i1 - b0;
        for (size_t f = 0; f < nf; f++) {
            const uint8_t *col = c->codes + f * c->n + b0;
            for (size_t r = 0; r < nr; r++) xb[r * nf + f] = col[r];
        }
        score_block(c->m, xb, nr, c->out + b0);
        for (size_t r = 0; r < nr; r++)
            c->out[b0 + r] = c->proba ? finish(c->m, c->out[b0 + r])
                                      : (c->m->algorithm == HAMF_ALGO_RANDOM_FOREST
                                             ? c->out[b0 + r] / (double)(c->m->n_trees ? c->m->n_trees : 1)
                                             : c->out[b0 + r] + c->m->init_score);
    }
    if (xb != x) hamf__free(xb);
}

static hamf_status predict_codes(const struct hamf_ensemble *m, const uint8_t *codes, size_t n, int threads,
                                 bool proba, double *out)
{
    struct hamf__pool *pool = NULL;
    size_t ntask = (n + PRED_TASK - 1) / PRED_TASK;
    if (ntask > 1) {
        hamf_status st = hamf__pool_new(threads, &pool);
        if (st) return st;
    }
    struct pred_ctx c = {m, codes, n, out, proba};
    hamf__pool_run(pool, ntask, task_predict, &c);
    hamf__pool_free(pool);
    return HAMF_OK;
}

hamf_status hamf__model_score_codes(const struct hamf_ensemble *m, const uint8_t *codes, size_t n, int threads,
                                    double *out)
{
    return predict_codes(m, codes, n, threads, false, out);
}

hamf_status hamf_ensemble_predict(const hamf_ensemble *m, const hamf_dataset *d, int threads, double *proba)
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
    st = predict_codes(m, codes, d->n, threads, true, proba);
cleanup:
    hamf__buf_free(&miss);
    hamf__pool_free(pool);
    hamf__free(codes);
    hamf__free(colmap);
    return st;
}

hamf_status hamf_ensemble_predict_row(const hamf_ensemble *m, const double *values, const char *const *cats,
                                   double *proba)
{
    if (!m || !proba) return hamf__err(HAMF_ERR_MISUSE, "predict: NULL argument");
    const size_t nf = m->bins.nf;
    uint8_t stackx[256] = {0};
    uint8_t *x = nf <= sizeof stackx ? stackx : hamf__malloc(nf);
    if (!x) return hamf__err(HAMF_ERR_NOMEM, "predict: out of memory");
    for (size_t f = 0; f < nf; f++) {
        const struct hamf__feat *ft = &m->bins.f[f];
        if (ft->is_cat) {
            const char *s = cats ? cats[f] : NULL;
            uint8_t b = 0;
            if (s)
                for (size_t k = 0; k < ft->ncat; k++)
                    if (!strcmp(ft->cats[k], s)) { b = ft->cat_bin[k]; break; }
            x[f] = b;
        } else {
            x[f] = values ? hamf__bin_value(ft, values[f]) : 0;
        }
    }
    double s;
    score_block(m, x, 1, &s);
    if (x != stackx) hamf__free(x);
    *proba = finish(m, s);
    return HAMF_OK;
}
