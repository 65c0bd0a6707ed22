/*
 * tree_rf.c — the random forest's tree learner (hamf__rf_grow): one tree
 * per thread, depth-first, per node a fresh random subset of features whose
 * histograms are built from the rows' codes (the parent has no histogram
 * for those features). Rows move physically with each partition.
 */
#include "tree_int.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

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
    int32_t root = hamf__tree_add_node(&t);
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
                    hamf__split_eval_feature(h, f, td->nbins[f], td->is_cat[f], it.G, it.H, p, &best);
                }
                memset(h + 2 * lo, 0, (size_t)(hi - lo + 1) * 2 * sizeof *h);
            }
        }
        if (best.feat < 0) {
            double v = hamf__tree_leaf_value(p, it.G, it.H);
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
        if ((st = hamf__tree_apply_split(&t, it.id, &best))) goto fail;
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
