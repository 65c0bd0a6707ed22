/*
 * tree_hist.c — gradient/hessian histograms of the GB learner.
 *
 * Features with few bins are packed into bundles (first-fit decreasing,
 * joint code = mixed-radix combination, <= 256 values) so one histogram
 * update serves several features; each row stores its bundles' offsets in
 * the joint histogram (u16), or the u8 joint codes when the offsets do not
 * fit. Builds work on shards of a node's positions whose number depends
 * only on the node's size; each shard sums float (g, h) pairs in row order
 * into two interleaved copies, and shards are widened to double and added
 * in shard order, then expanded into per-feature histograms, so the result
 * does not depend on the thread count. The root of a tree on all rows
 * reads rows in order, without an index, and may compute the gradients of
 * each shard right before reading them (hamf__grad_prep).
 */
#include "tree_int.h"

#include <stdatomic.h>
#include <string.h>

hamf_status hamf__hist_init(struct hamf__learner *l)
{
    const struct hamf__train_data *td = l->td;
    int nt = l->nthreads;
    l->boff = hamf__malloc((td->nf + 1) * sizeof *l->boff);
    l->bfirst = hamf__malloc((td->nf + 1) * sizeof *l->bfirst);
    l->bfeat = hamf__malloc((td->nf + 1) * sizeof *l->bfeat);
    l->bstride = hamf__malloc((td->nf + 1) * sizeof *l->bstride);
    l->bdbl = hamf__calloc((size_t)nt, sizeof *l->bdbl);
    l->bscr = hamf__calloc((size_t)nt, sizeof *l->bscr);
    if (!l->boff || !l->bfirst || !l->bfeat || !l->bstride || !l->bdbl || !l->bscr) {
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
    /* expansion table of the multi-feature bundles: for joint code c and
     * the bundle's q-th feature f, the offset of f's bin (c / stride) %
     * nbins in the node histogram (no divisions per node) */
    l->xoff = hamf__malloc((nb + 1) * sizeof *l->xoff);
    if (!l->xoff) return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
    size_t nx = 0;
    for (size_t j = 0; j < nb; j++) {
        l->xoff[j] = nx;
        size_t nq = l->bfirst[j + 1] - l->bfirst[j];
        if (nq > 1) nx += nq * ((l->boff[j + 1] - l->boff[j]) / 2);
    }
    l->xoff[nb] = nx;
    l->xtab = hamf__malloc((nx + 1) * sizeof *l->xtab);
    if (!l->xtab) return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
    for (size_t j = 0; j < nb; j++) {
        size_t q0 = l->bfirst[j], nq = l->bfirst[j + 1] - q0;
        if (nq <= 1) continue;
        uint32_t joint = (uint32_t)((l->boff[j + 1] - l->boff[j]) / 2);
        for (uint32_t c = 0; c < joint; c++)
            for (size_t q = 0; q < nq; q++) {
                size_t f = l->bfeat[q0 + q];
                uint32_t comp = (c / l->bstride[q0 + q]) % (uint32_t)td->nbins[f];
                l->xtab[l->xoff[j] + c * nq + q] = (uint32_t)(l->hoff[f] + 2 * comp);
            }
    }
    /* u16 histogram offsets save two instructions per update; past 4 MiB
     * of them (about 200k rows of 10 bundles: more than a core's L2) the
     * histogram builds wait on memory more than on instructions, and the
     * u8 codes take half of it (measured at 320k rows, depth 6: fit 3.05
     * -> 2.95 s; the sums are the same either way) */
    if (boff + 2 <= 65535 && td->n * (nb ? nb : 1) * sizeof(uint16_t) <= ((size_t)4 << 20)) l->brows16 = hamf__malloc((td->n * (nb ? nb : 1) + 1) * sizeof *l->brows16);
    else l->brows = hamf__malloc(td->n * (nb ? nb : 1) + 1);
    if (!l->brows && !l->brows16) { return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory"); }
    /* bundle codes from the column-major codes, a block of rows at a time
     * (no row-major copy needed) */
    enum { BLK = 2048 };
    uint32_t acc[BLK];
    for (size_t i0 = 0; i0 < td->n; i0 += BLK) {
        size_t m = td->n - i0 < BLK ? td->n - i0 : BLK;
        for (size_t j = 0; j < nb; j++) {
            memset(acc, 0, m * sizeof *acc);
            for (size_t q = l->bfirst[j]; q < l->bfirst[j + 1]; q++) {
                const uint8_t *col = td->codes + (size_t)l->bfeat[q] * td->n + i0;
                uint32_t st = l->bstride[q];
                for (size_t i = 0; i < m; i++) acc[i] += (uint32_t)col[i] * st;
            }
            if (l->brows16)
                for (size_t i = 0; i < m; i++) l->brows16[(i0 + i) * nb + j] = (uint16_t)(l->boff[j] + 2 * acc[i]);
            else
                for (size_t i = 0; i < m; i++) l->brows[(i0 + i) * nb + j] = (uint8_t)acc[i];
        }
    }
    for (int i = 0; i < nt; i++) {
        l->bdbl[i] = hamf__malloc((boff + 2) * sizeof(double));
        l->bscr[i] = hamf__malloc((boff + 2) * sizeof(float));
        l->spare[i] = hamf__malloc(3 * (boff + 2) * sizeof(float));
        if (!l->bdbl[i] || !l->bscr[i] || !l->spare[i]) { return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory"); }
    }
    return HAMF_OK;
}

double *hamf__hist_get(struct hamf__learner *l)
{
    if (l->n_free) return l->free_hist[--l->n_free];
    return hamf__malloc(l->hsize * sizeof(double));
}

hamf_status hamf__hist_put(struct hamf__learner *l, double *h)
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
        /* Interleaved copies: neighbouring rows, which often share a bin
         * (binary features, sorted indices), update different memory, so
         * the load-add-store chains overlap; four rows per step. Two copies
         * (even rows, odd rows), or four (row k mod 4) on long runs, where
         * clearing and merging the extra two costs little; merged below in
         * a fixed order. */
        const bool four = e - b >= 16384;
        const size_t cs = hs + 2;
        float *s1 = spare, *s2 = four ? spare + cs : hist, *s3 = four ? spare + 2 * cs : spare;
        memset(spare, 0, (four ? 3 : 1) * cs * sizeof(float));
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
                HIST_ADD(s2 + CELL(r2, f), v2);
                HIST_ADD(s3 + CELL(r3, f), v3);
            }
        }
        for (; k < e; k++) {
            uint32_t i = ROW(k);
            const uint8_t *r = rb + (size_t)i * rs;
            GH_T v = GH_LOAD(gh, i);
            for (size_t f = 0; f < nf; f++) HIST_ADD(hist + CELL(r, f), v);
        }
        if (four)
            for (size_t q = 0; q < hs; q++) hist[q] = ((hist[q] + s1[q]) + s2[q]) + s3[q];
        else
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
        const uint32_t nq = (uint32_t)(q1 - q0);
        const uint32_t *xt = l->xtab + l->xoff[j];
        for (uint32_t c = 0; c < joint; c++) {
            double g = bh[2 * c], h = bh[2 * c + 1];
            if (g == 0 && h == 0) continue;
            for (uint32_t q = 0; q < nq; q++) {
                double *o = out + xt[c * nq + q];
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
 * the thread's scratch; shards of larger nodes go to their slots in tbuf and
 * the thread finishing a node's last shard merges them (in slot order, so
 * the sums do not depend on which thread that is). Then l->post. */
static void task_build(void *vctx, size_t task, int tid)
{
    struct hamf__learner *l = vctx;
    const size_t hs = l->boff[l->nbund];
    uint32_t slot = l->bt_slot[task];
    float *buf = slot == UINT32_MAX ? l->bscr[tid] : l->tbuf + (size_t)slot * hs;
    if (l->fill_idx)
        for (uint32_t k = l->bt_lo[task]; k < l->bt_hi[task]; k++) l->idx[k] = k;
    if (l->prep) l->prep->fn(l->prep->ctx, l->bt_lo[task], l->bt_hi[task], task);
    build_hist(l, l->bt_ident ? NULL : l->idx, l->bt_lo[task], l->bt_hi[task], buf, l->spare[tid]);
    size_t r = l->bt_node[task];
    if (slot == UINT32_MAX) {
        const float *src[1] = {buf};
        finish_hist(l, &l->nodes[l->build[r]], src, 1, 0, l->nbund, tid);
    } else {
        uint32_t k = l->bt_multi[task];
        if (atomic_fetch_sub_explicit(&l->mleft[k], 1, memory_order_acq_rel) != 1) return;
        uint32_t s0 = l->mslot[k], s1 = l->mslot[k + 1];
        const float *src[4];
        for (uint32_t t = s0; t < s1; t++) src[t - s0] = l->tbuf + (size_t)t * hs;
        finish_hist(l, &l->nodes[l->build[r]], src, s1 - s0, 0, l->nbund, tid);
    }
    if (l->post) l->post(l, r, tid);
}

/* build the histograms of nodes l->build[0..nbuild) */
hamf_status hamf__hist_build_nodes(struct hamf__learner *l, bool ident)
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
        uint32_t **arrs[4] = {&l->bt_lo, &l->bt_hi, &l->bt_slot, &l->bt_multi};
        for (int i = 0; i < 4; i++) {
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
        _Atomic uint32_t *c = hamf__realloc(l->mleft, nc * sizeof *c);
        if (c) l->mleft = c;
        if (!a || !b || !c) return hamf__err(HAMF_ERR_NOMEM, "tree: out of memory");
        l->cap_multi = nc;
    }
    nt = 0;
    nslot = 0;
    nmulti = 0;
    for (size_t r = 0; r < l->nbuild; r++) {
        const struct gnode *g = &l->nodes[l->build[r]];
        uint32_t sc = shard_count(g->end - g->begin), len = g->end - g->begin;
        if (sc > 1) {
            l->mnode[nmulti] = (uint32_t)r;
            l->mslot[nmulti] = (uint32_t)nslot;
            atomic_store_explicit(&l->mleft[nmulti++], sc, memory_order_relaxed);
        }
        for (uint32_t k = 0; k < sc; k++) {
            l->bt_lo[nt] = g->begin + (uint32_t)((uint64_t)len * k / sc);
            l->bt_hi[nt] = g->begin + (uint32_t)((uint64_t)len * (k + 1) / sc);
            l->bt_node[nt] = r;
            l->bt_slot[nt] = sc > 1 ? (uint32_t)nslot++ : UINT32_MAX;
            l->bt_multi[nt] = sc > 1 ? (uint32_t)nmulti - 1 : UINT32_MAX;
            nt++;
        }
    }
    l->mslot[nmulti] = (uint32_t)nslot;
    /* Largest shards first (stable): the small ones and their nodes' split
     * evaluations fill in at the end instead of one thread finishing a big
     * shard while the other waits. Only the order the tasks are taken in
     * changes: each keeps its node, rows and slot. Not for a build with
     * the gradient callback, whose slots are the loss's summation order. */
    if (!l->prep && nt > 2 && nt <= 512) {
        for (size_t a = 1; a < nt; a++) {
            uint32_t lo = l->bt_lo[a], hi = l->bt_hi[a], sl = l->bt_slot[a], mu = l->bt_multi[a];
            size_t nd = l->bt_node[a], b = a;
            while (b > 0 && l->bt_hi[b - 1] - l->bt_lo[b - 1] < hi - lo) {
                l->bt_lo[b] = l->bt_lo[b - 1]; l->bt_hi[b] = l->bt_hi[b - 1];
                l->bt_slot[b] = l->bt_slot[b - 1]; l->bt_multi[b] = l->bt_multi[b - 1];
                l->bt_node[b] = l->bt_node[b - 1];
                b--;
            }
            l->bt_lo[b] = lo; l->bt_hi[b] = hi; l->bt_slot[b] = sl; l->bt_multi[b] = mu; l->bt_node[b] = nd;
        }
    }
    l->bt_ident = ident;
    if (l->prep) l->prep->nslots = nt;
    /* two or more nodes are worth a thread for their split evaluation alone */
    bool par = nt >= 2 && (rows >= BUILD_PAR_ROWS || (l->post && l->nbuild >= 2));
    hamf__pool_run(par ? l->pool : NULL, nt, task_build, l);
    return HAMF_OK;
}

