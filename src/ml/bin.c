/*
 * bin.c — feature binning: numeric columns into at most 255 quantile bins
 * (u8 codes 1..255, bin 0 reserved for missing), categorical columns kept as
 * categories (one bin per category, the 254 most frequent kept when there
 * are more, the rest sharing bin 255). Codes are stored column-major:
 * codes[f*n + i]. Also the row-major transpose used by the GB learner.
 */
#include "ml.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hamf__binmap_clear(struct hamf__binmap *m)
{
    if (!m || !m->f) return;
    for (size_t f = 0; f < m->nf; f++) {
        struct hamf__feat *ft = &m->f[f];
        hamf__free(ft->name);
        hamf__free(ft->edges);
        if (ft->cats)
            for (size_t c = 0; c < ft->ncat; c++) hamf__free(ft->cats[c]);
        hamf__free(ft->cats);
        hamf__free(ft->cat_bin);
    }
    hamf__free(m->f);
    m->f = NULL;
    m->nf = 0;
}

/* A cut strictly between a < b: values <= cut go to a's bin. */
static double cut_between(double a, double b)
{
    double mid = a + (b - a) / 2;
    if (isnan(mid) || isinf(mid) || mid < a || mid >= b) return a;
    return mid;
}

/* Sorts m non-NaN doubles ascending: an LSD radix sort on order-preserving
 * 64-bit keys (sign bit flipped for positives, all bits for negatives),
 * skipping the byte passes where every key has the same byte. */
static hamf_status sort_doubles(double *s, size_t m, struct hamf__bin_scratch *x)
{
    bool own = !x || x->cap < m + 1;
    uint64_t *a = own ? hamf__malloc((m + 1) * sizeof *a) : x->a, *b = own ? hamf__malloc((m + 1) * sizeof *b) : x->b;
    if (!a || !b) { hamf__free(a); hamf__free(b); return hamf__err(HAMF_ERR_NOMEM, "bin: out of memory"); }
    uint64_t *a0 = a, *b0 = b;
    for (size_t i = 0; i < m; i++) {
        uint64_t u;
        memcpy(&u, &s[i], sizeof u);
        a[i] = u >> 63 ? ~u : u | 0x8000000000000000ull;
    }
    for (int shift = 0; shift < 64; shift += 8) {
        size_t cnt[256] = {0};
        for (size_t i = 0; i < m; i++) cnt[(a[i] >> shift) & 255]++;
        if (m && cnt[(a[0] >> shift) & 255] == m) continue; /* all equal here */
        size_t pos = 0;
        for (int k = 0; k < 256; k++) { size_t c = cnt[k]; cnt[k] = pos; pos += c; }
        for (size_t i = 0; i < m; i++) b[cnt[(a[i] >> shift) & 255]++] = a[i];
        uint64_t *t = a; a = b; b = t;
    }
    for (size_t i = 0; i < m; i++) {
        uint64_t u = a[i] >> 63 ? a[i] & ~0x8000000000000000ull : ~a[i];
        memcpy(&s[i], &u, sizeof u);
    }
    if (own) {
        hamf__free(a0);
        hamf__free(b0);
    }
    return HAMF_OK;
}

/* Numeric edges: distinct values (sampled deterministically when the column
 * is long) cut at quantiles; edges are midpoints between neighbouring
 * distinct values so thresholds sit between observed values. */
size_t hamf__bin_sample_step(size_t n)
{
    const size_t cap = 200000;
    return n > cap ? (n + cap - 1) / cap : 1;
}

static hamf_status numeric_edges(const double *v, size_t n, int max_bins, struct hamf__feat *ft)
{
    size_t step = hamf__bin_sample_step(n);
    size_t m = 0;
    double *s = hamf__malloc(((n + step - 1) / step + 1) * sizeof *s);
    if (!s) return hamf__err(HAMF_ERR_NOMEM, "bin: out of memory");
    for (size_t i = 0; i < n; i += step)
        if (!isnan(v[i])) s[m++] = v[i];
    return hamf__bin_numeric_sample(s, m, max_bins, ft, NULL);
}

hamf_status hamf__bin_numeric_sample(double *s, size_t m, int max_bins, struct hamf__feat *ft,
                                     struct hamf__bin_scratch *x)
{
    if (max_bins < 2 || max_bins > 255) max_bins = 255;
    hamf_status st = x && x->sorted ? HAMF_OK : sort_doubles(s, m, x);
    if (st) { hamf__free(s); return st; }
    /* distinct values with counts (in the scratch's first array: the sort
     * is done with it) */
    size_t nd = 0;
    _Static_assert(sizeof(size_t) <= sizeof(uint64_t), "counts fit the scratch words");
    bool own = !x || x->cap < m + 1;
    size_t *cnt = own ? hamf__malloc((m + 1) * sizeof *cnt) : (size_t *)x->a;
    if (!cnt) { hamf__free(s); return hamf__err(HAMF_ERR_NOMEM, "bin: out of memory"); }
    for (size_t i = 0; i < m; i++) {
        if (nd && s[nd - 1] == s[i]) { cnt[nd - 1]++; continue; }
        s[nd] = s[i];
        cnt[nd++] = 1;
    }
    double *edges = hamf__malloc((size_t)(max_bins + 1) * sizeof *edges);
    if (!edges) { hamf__free(s); if (own) hamf__free(cnt); return hamf__err(HAMF_ERR_NOMEM, "bin: out of memory"); }
    int ne = 0;
    if (nd <= (size_t)max_bins) {
        for (size_t i = 0; i + 1 < nd; i++) edges[ne++] = cut_between(s[i], s[i + 1]);
    } else {
        /* Greedy quantile cut over distinct values: close a bin when its
         * cumulative count reaches the next quantile target. */
        double per = (double)m / max_bins, acc = 0, target = per;
        for (size_t i = 0; i + 1 < nd && ne < max_bins - 1; i++) {
            acc += (double)cnt[i];
            if (acc >= target) {
                edges[ne++] = cut_between(s[i], s[i + 1]);
                double remaining = (double)m - acc;
                int bins_left = max_bins - ne;
                per = remaining / bins_left;
                target = acc + per;
            }
        }
    }
    edges[ne++] = INFINITY;
    ft->edges = edges;
    ft->nbins = ne + 1;
    hamf__free(s);
    if (own) hamf__free(cnt);
    return HAMF_OK;
}

struct catfreq { size_t count; size_t code; };
static int cmp_freq(const void *a, const void *b)
{
    const struct catfreq *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return (x->code > y->code) - (x->code < y->code);
}

hamf_status hamf__bin_categories(const char *const *dict, const size_t *lens, size_t ncat, const size_t *count,
                                 struct hamf__feat *ft)
{
    hamf_status st = HAMF_OK;
    struct catfreq *fr = hamf__calloc(ncat + 1, sizeof *fr);
    ft->cats = hamf__calloc(ncat + 1, sizeof *ft->cats);
    ft->cat_bin = hamf__calloc(ncat + 1, 1);
    if (!fr || !ft->cats || !ft->cat_bin) { st = hamf__err(HAMF_ERR_NOMEM, "bin: out of memory"); goto cleanup; }
    ft->ncat = ncat;
    for (size_t k = 0; k < ncat; k++) {
        fr[k].code = k;
        fr[k].count = count[k];
        const char *s = dict[k] ? dict[k] : "";
        ft->cats[k] = lens ? hamf__strndup(s, lens[k]) : hamf__strdup(s);
        if (!ft->cats[k]) { st = hamf__err(HAMF_ERR_NOMEM, "bin: out of memory"); goto cleanup; }
    }
    if (ncat <= 255) {
        for (size_t k = 0; k < ncat; k++) ft->cat_bin[k] = (uint8_t)(k + 1);
        ft->nbins = (int)ncat + 1;
    } else {
        qsort(fr, ncat, sizeof *fr, cmp_freq);
        for (size_t r = 0; r < ncat; r++) ft->cat_bin[fr[r].code] = (uint8_t)(r < 254 ? r + 1 : 255);
        ft->nbins = 256;
    }
    if (ft->nbins < 2) ft->nbins = 2;
cleanup:
    hamf__free(fr);
    return st;
}

static hamf_status cat_bins(const struct hamf__ml_col *c, size_t n, struct hamf__feat *ft)
{
    size_t *count = hamf__calloc(c->ncat + 1, sizeof *count);
    if (!count) return hamf__err(HAMF_ERR_NOMEM, "bin: out of memory");
    for (size_t i = 0; i < n; i++)
        if (c->codes[i] >= 0 && (size_t)c->codes[i] < c->ncat) count[c->codes[i]]++;
    hamf_status st = hamf__bin_categories((const char *const *)c->dict, NULL, c->ncat, count, ft);
    hamf__free(count);
    return st;
}

struct build_ctx {
    const struct hamf_dataset *d;
    int max_bins;
    struct hamf__binmap *m;
    hamf_status *st;
};

static void build_task(void *vctx, size_t f, int tid)
{
    (void)tid;
    struct build_ctx *c = vctx;
    const struct hamf__ml_col *col = &c->d->cols[f];
    struct hamf__feat *ft = &c->m->f[f];
    ft->is_cat = col->is_cat;
    c->st[f] = col->is_cat ? cat_bins(col, c->d->n, ft) : numeric_edges(col->num, c->d->n, c->max_bins, ft);
}

hamf_status hamf__binmap_build(const struct hamf_dataset *d, int max_bins, struct hamf__pool *pool,
                               struct hamf__binmap *out)
{
    if (max_bins < 2 || max_bins > 255) max_bins = 255;
    if (d->binned) {
        if (d->binned_max != max_bins)
            return hamf__err(HAMF_ERR_CONSTRAINT, "train: the data was binned into %d value bins, the fit asks for %d",
                             d->binned_max, max_bins);
        return hamf__binmap_copy(d->binned, out);
    }
    struct hamf__binmap m = {0};
    m.f = hamf__calloc(d->ncols ? d->ncols : 1, sizeof *m.f);
    hamf_status *sts = hamf__calloc(d->ncols + 1, sizeof *sts);
    if (!m.f || !sts) { hamf__free(m.f); hamf__free(sts); return hamf__err(HAMF_ERR_NOMEM, "bin: out of memory"); }
    m.nf = d->ncols;
    hamf_status st = HAMF_OK;
    for (size_t f = 0; f < d->ncols; f++) {
        m.f[f].name = hamf__strdup(d->cols[f].name);
        if (!m.f[f].name) { st = hamf__err(HAMF_ERR_NOMEM, "bin: out of memory"); goto fail; }
    }
    struct build_ctx c = {d, max_bins, &m, sts};
    hamf__pool_run(pool, d->ncols, build_task, &c);
    for (size_t f = 0; f < d->ncols; f++)
        if (sts[f]) { st = hamf__err(sts[f], "bin: out of memory binning '%s'", d->cols[f].name); goto fail; }
    hamf__free(sts);
    *out = m;
    return HAMF_OK;
fail:
    hamf__free(sts);
    hamf__binmap_clear(&m);
    return st;
}

uint8_t hamf__bin_value(const struct hamf__feat *f, double v)
{
    if (isnan(v)) return 0;
    /* first edge >= v among edges[0..nbins-2] (the last is +inf): a
     * branch-free lower bound (the comparisons compile to conditional
     * moves, so unpredictable values cost no mispredictions) */
    const double *b = f->edges;
    size_t n = (size_t)f->nbins - 1;
    while (n > 1) {
        size_t h = n / 2;
        b = b[h - 1] < v ? b + h : b;
        n -= h;
    }
    return (uint8_t)(b - f->edges + (*b < v) + 1);
}

struct apply_ctx {
    const struct hamf__binmap *m;
    const struct hamf_dataset *d;
    const size_t *colmap;
    uint8_t **remap; /* per categorical feature: dataset code -> bin */
    uint8_t *codes;
};

#define APPLY_CHUNK 65536

static void apply_task(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct apply_ctx *c = vctx;
    size_t n = c->d->n, nchunks = (n + APPLY_CHUNK - 1) / APPLY_CHUNK;
    size_t f = task / nchunks, ch = task % nchunks;
    size_t i0 = ch * APPLY_CHUNK, i1 = i0 + APPLY_CHUNK < n ? i0 + APPLY_CHUNK : n;
    const struct hamf__feat *ft = &c->m->f[f];
    const struct hamf__ml_col *col = &c->d->cols[c->colmap ? c->colmap[f] : f];
    uint8_t *out = c->codes + f * n;
    if (ft->is_cat) {
        const uint8_t *rm = c->remap[f];
        size_t nc = col->ncat;
        for (size_t i = i0; i < i1; i++) {
            int32_t k = col->codes[i];
            out[i] = (k >= 0 && (size_t)k < nc) ? rm[k] : 0;
        }
    } else {
        for (size_t i = i0; i < i1; i++) out[i] = hamf__bin_value(ft, col->num[i]);
    }
}

hamf_status hamf__binmap_copy(const struct hamf__binmap *src, struct hamf__binmap *out)
{
    struct hamf__binmap m = {0};
    m.f = hamf__calloc(src->nf + 1, sizeof *m.f);
    if (!m.f) return hamf__err(HAMF_ERR_NOMEM, "bin: out of memory");
    m.nf = src->nf;
    for (size_t f = 0; f < src->nf; f++) {
        const struct hamf__feat *a = &src->f[f];
        struct hamf__feat *b = &m.f[f];
        b->is_cat = a->is_cat;
        b->nbins = a->nbins;
        b->ncat = a->ncat;
        b->name = hamf__strdup(a->name);
        if (!b->name) goto oom;
        if (a->edges) {
            b->edges = hamf__malloc((size_t)a->nbins * sizeof *b->edges);
            if (!b->edges) goto oom;
            memcpy(b->edges, a->edges, (size_t)(a->nbins - 1) * sizeof *b->edges);
        }
        if (a->is_cat) {
            b->cats = hamf__calloc(a->ncat + 1, sizeof *b->cats);
            b->cat_bin = hamf__malloc(a->ncat + 1);
            if (!b->cats || !b->cat_bin) goto oom;
            memcpy(b->cat_bin, a->cat_bin, a->ncat);
            for (size_t k = 0; k < a->ncat; k++)
                if (!(b->cats[k] = hamf__strdup(a->cats[k]))) goto oom;
        }
    }
    *out = m;
    return HAMF_OK;
oom:
    hamf__binmap_clear(&m);
    return hamf__err(HAMF_ERR_NOMEM, "bin: out of memory");
}

bool hamf__binmap_same(const struct hamf__binmap *a, const struct hamf__binmap *b)
{
    if (a->nf != b->nf) return false;
    for (size_t f = 0; f < a->nf; f++) {
        const struct hamf__feat *x = &a->f[f], *y = &b->f[f];
        if (x->is_cat != y->is_cat || x->nbins != y->nbins || strcmp(x->name, y->name)) return false;
        if (!x->is_cat && memcmp(x->edges, y->edges, (size_t)(x->nbins - 1) * sizeof *x->edges)) return false;
        if (x->is_cat) {
            if (x->ncat != y->ncat || memcmp(x->cat_bin, y->cat_bin, x->ncat)) return false;
            for (size_t k = 0; k < x->ncat; k++)
                if (strcmp(x->cats[k], y->cats[k])) return false;
        }
    }
    return true;
}

/* A pre-binned dataset's codes serve model `m` when they were made with the
 * same bins and the columns are the model's features in order. */
static hamf_status binned_check(const struct hamf__binmap *m, const struct hamf_dataset *d, const size_t *colmap)
{
    bool ok = hamf__binmap_same(m, d->binned);
    for (size_t f = 0; ok && colmap && f < m->nf; f++) ok = colmap[f] == f;
    if (!ok)
        return hamf__err(HAMF_ERR_SCHEMA, "model: the data holds bin codes made for other bins than the model's "
                                          "(bin it from raw values instead)");
    return HAMF_OK;
}

hamf_status hamf__binmap_codes(const struct hamf__binmap *m, const struct hamf_dataset *d, struct hamf__pool *pool,
                               const uint8_t **codes, uint8_t **owned)
{
    *owned = NULL;
    if (d->binned) {
        hamf_status st = binned_check(m, d, NULL);
        if (!st) *codes = d->bcodes;
        return st;
    }
    hamf_status st = hamf__binmap_apply(m, d, NULL, pool, owned);
    if (!st) *codes = *owned;
    return st;
}

hamf_status hamf__binmap_apply(const struct hamf__binmap *m, const struct hamf_dataset *d,
                               const size_t *colmap, struct hamf__pool *pool, uint8_t **codes)
{
    hamf_status st = HAMF_OK;
    if (d->binned) {
        if ((st = binned_check(m, d, colmap))) return st;
        uint8_t *c = hamf__malloc(m->nf * d->n + 1);
        if (!c) return hamf__err(HAMF_ERR_NOMEM, "bin: out of memory");
        if (m->nf && d->n) memcpy(c, d->bcodes, m->nf * d->n);
        *codes = c;
        return HAMF_OK;
    }
    struct apply_ctx c = {m, d, colmap, NULL, NULL};
    c.codes = hamf__malloc(m->nf * d->n + 1);
    c.remap = hamf__calloc(m->nf + 1, sizeof *c.remap);
    if (!c.codes || !c.remap) { st = hamf__err(HAMF_ERR_NOMEM, "bin: out of memory"); goto cleanup; }
    for (size_t f = 0; f < m->nf; f++) {
        const struct hamf__feat *ft = &m->f[f];
        const struct hamf__ml_col *col = &d->cols[colmap ? colmap[f] : f];
        if (ft->is_cat != col->is_cat) {
            st = hamf__err(HAMF_ERR_SCHEMA, "model: column '%s' is %s in the data but %s in the model",
                           ft->name, col->is_cat ? "categorical" : "numeric",
                           ft->is_cat ? "categorical" : "numeric");
            goto cleanup;
        }
        if (!ft->is_cat) continue;
        c.remap[f] = hamf__calloc(col->ncat + 1, 1);
        if (!c.remap[f]) { st = hamf__err(HAMF_ERR_NOMEM, "bin: out of memory"); goto cleanup; }
        /* Same dictionary (training) is the common case: try position first. */
        for (size_t k = 0; k < col->ncat; k++) {
            const char *s = col->dict[k] ? col->dict[k] : "";
            if (k < ft->ncat && !strcmp(ft->cats[k], s)) { c.remap[f][k] = ft->cat_bin[k]; continue; }
            for (size_t j = 0; j < ft->ncat; j++)
                if (!strcmp(ft->cats[j], s)) { c.remap[f][k] = ft->cat_bin[j]; break; }
        }
    }
    size_t nchunks = (d->n + APPLY_CHUNK - 1) / APPLY_CHUNK;
    hamf__pool_run(pool, nchunks * m->nf, apply_task, &c);
    *codes = c.codes;
    c.codes = NULL;
cleanup:
    if (c.remap)
        for (size_t f = 0; f < m->nf; f++) hamf__free(c.remap[f]);
    hamf__free(c.remap);
    hamf__free(c.codes);
    return st;
}

hamf_status hamf__codes_transpose(const uint8_t *codes, size_t n, size_t nf, uint8_t **rows)
{
    uint8_t *r = hamf__malloc(n * nf + 16);
    if (!r) return hamf__err(HAMF_ERR_NOMEM, "bin: out of memory");
    const size_t B = 4096;
    for (size_t i0 = 0; i0 < n; i0 += B) {
        size_t i1 = i0 + B < n ? i0 + B : n;
        for (size_t f = 0; f < nf; f++) {
            const uint8_t *c = codes + f * n;
            for (size_t i = i0; i < i1; i++) r[i * nf + f] = c[i];
        }
    }
    *rows = r;
    return HAMF_OK;
}
