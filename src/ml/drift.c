/*
 * drift.c — data drift against a model's own bins: the training bin counts
 * recorded with a model version (JSON {"feature":[count per bin]}), the
 * population stability index (PSI) of new data per feature, and loading a
 * CSV through a model's preprocessing pipeline for drift and retraining.
 *
 * PSI = sum over buckets of (a - e) * ln(a / e), with e the training share
 * and a the new share of a bucket, both smoothed by half a row so empty
 * buckets stay finite. A numeric feature's buckets are runs of the model's
 * consecutive bins holding about a tenth of the training rows each (the
 * model's own edges, coarsened: 255 fine bins would make PSI of a
 * few-thousand-row batch mostly sampling noise), plus the missing bin;
 * a categorical feature's buckets are its categories (one bin each).
 */
#include "ml/ml.h"
#include "ml/drift.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRIFT_GROUPS 10

static hamf_status colmap_for(const hamf_ensemble *m, const hamf_dataset *d, size_t **out)
{
    size_t *colmap = hamf__calloc(m->bins.nf + 1, sizeof *colmap);
    if (!colmap) return hamf__err(HAMF_ERR_NOMEM, "drift: out of memory");
    for (size_t f = 0; f < m->bins.nf; f++) {
        size_t c = 0;
        while (c < d->ncols && strcmp(d->cols[c].name, m->bins.f[f].name)) c++;
        if (c == d->ncols) {
            hamf__free(colmap);
            return hamf__err(HAMF_ERR_SCHEMA, "drift: the data lacks column '%s' the model needs", m->bins.f[f].name);
        }
        colmap[f] = c;
    }
    *out = colmap;
    return HAMF_OK;
}

/* counts[f * HAMF_MAX_BINS + b] over the rows of d. */
static hamf_status bin_counts(const hamf_ensemble *m, const hamf_dataset *d, double **out)
{
    size_t *colmap = NULL;
    uint8_t *codes = NULL;
    hamf_status st = colmap_for(m, d, &colmap);
    if (st) return st;
    double *counts = hamf__calloc(m->bins.nf * HAMF_MAX_BINS + 1, sizeof *counts);
    if (!counts) {
        st = hamf__err(HAMF_ERR_NOMEM, "drift: out of memory");
        goto cleanup;
    }
    if (d->n && (st = hamf__binmap_apply(&m->bins, d, colmap, NULL, &codes))) goto cleanup;
    /* four tables of integer counts: a run of equal codes is not one chain
     * of dependent adds (one double add per row was ~20 ms at 800k rows
     * x 14 features) */
    _Static_assert(HAMF_MAX_BINS == 256, "u8 codes");
    uint64_t h[4][HAMF_MAX_BINS];
    for (size_t f = 0; f < m->bins.nf; f++) {
        const uint8_t *c = codes + f * d->n;
        size_t i = 0, n = d->n;
        memset(h, 0, sizeof h);
        for (; i + 4 <= n; i += 4) {
            h[0][c[i]]++;
            h[1][c[i + 1]]++;
            h[2][c[i + 2]]++;
            h[3][c[i + 3]]++;
        }
        for (; i < n; i++) h[0][c[i]]++;
        for (size_t k = 0; k < HAMF_MAX_BINS; k++)
            counts[f * HAMF_MAX_BINS + k] = (double)(h[0][k] + h[1][k] + h[2][k] + h[3][k]);
    }
    *out = counts;
    counts = NULL;
cleanup:
    hamf__free(counts);
    hamf__free(codes);
    hamf__free(colmap);
    return st;
}

hamf_status hamf__drift_train_bins(const hamf_ensemble *m, const hamf_dataset *d, char **json)
{
    double *counts = NULL;
    hamf_status st = bin_counts(m, d, &counts);
    if (st) return st;
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    st = hamf__buf_putc(&b, '{');
    for (size_t f = 0; f < m->bins.nf && !st; f++) {
        if (f) st = hamf__buf_putc(&b, ',');
        if (!st) st = hamf__json_str(&b, m->bins.f[f].name, (size_t)-1);
        if (!st) st = hamf__buf_puts(&b, ":[");
        for (int k = 0; k < m->bins.f[f].nbins && !st; k++)
            st = hamf__buf_printf(&b, "%s%.0f", k ? "," : "", counts[f * HAMF_MAX_BINS + (size_t)k]);
        if (!st) st = hamf__buf_putc(&b, ']');
    }
    if (!st) st = hamf__buf_putc(&b, '}');
    hamf__free(counts);
    if (st) {
        hamf__buf_free(&b);
        return st;
    }
    *json = hamf__buf_detach(&b, NULL);
    return *json ? HAMF_OK : hamf__err(HAMF_ERR_NOMEM, "drift: out of memory");
}

static double psi_of(const double *e, const double *a, size_t n, double ne, double na)
{
    double psi = 0;
    for (size_t k = 0; k < n; k++) {
        double pe = (e[k] + 0.5) / (ne + 0.5 * (double)n), pa = (a[k] + 0.5) / (na + 0.5 * (double)n);
        psi += (pa - pe) * log(pa / pe);
    }
    return psi;
}

/* Training counts e[f * HAMF_MAX_BINS + b] from the JSON of
 * hamf__drift_train_bins, checked against the model's features. */
static hamf_status train_counts(const hamf_ensemble *m, const char *train_bins_json, double **out)
{
    struct hamf__jdoc *doc = NULL;
    hamf_status st = hamf__json_parse(train_bins_json, strlen(train_bins_json), 4, &doc);
    if (st) return hamf__err_prefix(st, "drift: training bin counts");
    double *e = hamf__calloc(m->bins.nf * HAMF_MAX_BINS + 1, sizeof *e);
    if (!e) {
        hamf__jdoc_free(doc);
        return hamf__err(HAMF_ERR_NOMEM, "drift: out of memory");
    }
    for (size_t f = 0; f < m->bins.nf; f++) {
        const struct hamf__feat *ft = &m->bins.f[f];
        const struct hamf__jval *arr = hamf__jobj_get(hamf__jdoc_root(doc), ft->name);
        if (!arr || arr->type != HAMF__JARR || arr->len != (size_t)ft->nbins) {
            st = hamf__err(HAMF_ERR_SCHEMA, "drift: the recorded training counts do not match feature '%s' of the model",
                           ft->name);
            break;
        }
        for (int k = 0; k < ft->nbins; k++) e[f * HAMF_MAX_BINS + (size_t)k] = arr->items[k].num;
    }
    hamf__jdoc_free(doc);
    if (st) {
        hamf__free(e);
        return st;
    }
    *out = e;
    return HAMF_OK;
}

/* PSI of one feature: training counts e[] vs new counts a[] (nbins each),
 * in the buckets described at the top of this file. */
static double feature_psi(const struct hamf__feat *ft, const double *e, const double *a)
{
    double ge[HAMF_MAX_BINS] = {0}, ga[HAMF_MAX_BINS] = {0};
    double ne = 0, na = 0;
    for (int k = 0; k < ft->nbins; k++) {
        ne += e[k];
        na += a[k];
    }
    size_t ng = 0;
    if (ft->is_cat) {
        for (int k = 0; k < ft->nbins; k++) {
            ge[ng] = e[k];
            ga[ng++] = a[k];
        }
    } else {
        /* bucket 0: missing; then runs of bins of >= ne/DRIFT_GROUPS training rows */
        ge[0] = e[0];
        ga[0] = a[0];
        ng = 1;
        double target = (ne - e[0]) / DRIFT_GROUPS, acc_e = 0, acc_a = 0;
        for (int k = 1; k < ft->nbins; k++) {
            acc_e += e[k];
            acc_a += a[k];
            if (acc_e >= target || k == ft->nbins - 1) {
                ge[ng] = acc_e;
                ga[ng++] = acc_a;
                acc_e = acc_a = 0;
            }
        }
    }
    return (ne > 0 && na > 0) ? psi_of(ge, ga, ng, ne, na) : 0;
}

hamf_status hamf__drift_compute(const hamf_ensemble *m, const char *train_bins_json, const hamf_dataset *d,
                                struct hamf__drift_report *out)
{
    double *counts = NULL, *e = NULL;
    struct hamf__drift_feature *feats = NULL;
    size_t nf = m->bins.nf;
    hamf_status st = train_counts(m, train_bins_json, &e);
    if (st) return st;
    if ((st = bin_counts(m, d, &counts))) goto cleanup;
    feats = hamf__calloc(nf + 1, sizeof *feats);
    if (!feats) {
        st = hamf__err(HAMF_ERR_NOMEM, "drift: out of memory");
        goto cleanup;
    }
    for (size_t f = 0; f < nf; f++) {
        const struct hamf__feat *ft = &m->bins.f[f];
        feats[f].name = hamf__strdup(ft->name);
        if (!feats[f].name) {
            st = hamf__err(HAMF_ERR_NOMEM, "drift: out of memory");
            goto cleanup;
        }
        feats[f].is_cat = ft->is_cat;
        feats[f].psi = feature_psi(ft, e + f * HAMF_MAX_BINS, counts + f * HAMF_MAX_BINS);
    }
    out->n_rows = d->n;
    out->has_labels = false;
    if (d->y && d->n) {
        double *proba = hamf__malloc(d->n * sizeof *proba);
        if (!proba) {
            st = hamf__err(HAMF_ERR_NOMEM, "drift: out of memory");
            goto cleanup;
        }
        st = hamf_ensemble_predict(m, d, 0, proba);
        if (!st) st = hamf_metrics_compute(d->y, proba, d->n, &out->metrics);
        hamf__free(proba);
        if (st) goto cleanup;
        out->has_labels = true;
    }
    out->nf = nf;
    out->f = feats;
    feats = NULL;
cleanup:
    if (feats)
        for (size_t f = 0; f < nf; f++) hamf__free(feats[f].name);
    hamf__free(feats);
    hamf__free(counts);
    hamf__free(e);
    return st;
}

/* ---- a sliding window of served rows (hamf serve) ---- */

struct hamf__drift_window {
    const hamf_ensemble *m; /* borrowed */
    size_t nf, cap, n, pos; /* n rows in the ring, pos = next slot */
    double *expected;       /* training counts, nf * HAMF_MAX_BINS */
    double *counts;         /* the window's counts, nf * HAMF_MAX_BINS */
    uint8_t *ring;          /* cap rows of nf bin codes */
};

hamf_status hamf__drift_window_new(const hamf_ensemble *m, const char *train_bins_json, size_t rows,
                                   struct hamf__drift_window **out)
{
    if (!m || !train_bins_json || !out || rows == 0) return hamf__err(HAMF_ERR_MISUSE, "drift window: bad argument");
    struct hamf__drift_window *w = hamf__calloc(1, sizeof *w);
    if (!w) return hamf__err(HAMF_ERR_NOMEM, "drift window: out of memory");
    w->m = m;
    w->nf = m->bins.nf;
    w->cap = rows;
    hamf_status st = train_counts(m, train_bins_json, &w->expected);
    if (!st) {
        w->counts = hamf__calloc(w->nf * HAMF_MAX_BINS + 1, sizeof *w->counts);
        w->ring = hamf__calloc(rows * w->nf + 1, 1);
        if (!w->counts || !w->ring) st = hamf__err(HAMF_ERR_NOMEM, "drift window: out of memory");
    }
    if (st) {
        hamf__drift_window_free(w);
        return st;
    }
    *out = w;
    return HAMF_OK;
}

void hamf__drift_window_free(struct hamf__drift_window *w)
{
    if (!w) return;
    hamf__free(w->expected);
    hamf__free(w->counts);
    hamf__free(w->ring);
    hamf__free(w);
}

/* The bin of a category: the model's dictionary, unseen = missing (0). */
static uint8_t cat_bin(const struct hamf__feat *ft, const char *v)
{
    if (!v) return 0;
    for (size_t j = 0; j < ft->ncat; j++)
        if (!strcmp(ft->cats[j], v)) return ft->cat_bin[j];
    return 0;
}

void hamf__drift_window_add(struct hamf__drift_window *w, size_t n, const double *values, const char *const *cats)
{
    const struct hamf__feat *fts = w->m->bins.f;
    size_t nf = w->nf;
    /* only the last cap rows of a big batch can stay in the window */
    size_t i0 = n > w->cap ? n - w->cap : 0;
    for (size_t i = i0; i < n; i++) {
        uint8_t *slot = w->ring + w->pos * nf;
        if (w->n == w->cap)
            for (size_t f = 0; f < nf; f++) w->counts[f * HAMF_MAX_BINS + slot[f]] -= 1;
        for (size_t f = 0; f < nf; f++) {
            uint8_t b = fts[f].is_cat ? cat_bin(&fts[f], cats ? cats[i * nf + f] : NULL)
                                      : hamf__bin_value(&fts[f], values[i * nf + f]);
            slot[f] = b;
            w->counts[f * HAMF_MAX_BINS + b] += 1;
        }
        w->pos = (w->pos + 1) % w->cap;
        if (w->n < w->cap) w->n++;
    }
}

size_t hamf__drift_window_rows(const struct hamf__drift_window *w)
{
    return w ? w->n : 0;
}

void hamf__drift_window_psi(const struct hamf__drift_window *w, double *psi)
{
    for (size_t f = 0; f < w->nf; f++)
        psi[f] = feature_psi(&w->m->bins.f[f], w->expected + f * HAMF_MAX_BINS, w->counts + f * HAMF_MAX_BINS);
}

hamf_status hamf__drift_load_data(const char *path, const hamf_ensemble *m, bool need_labels, hamf_dataset **out)
{
    hamf_frame *fr = NULL;
    hamf_pipeline *pl = NULL;
    hamf_status st = hamf_csv_read(path, NULL, &fr);
    if (st) return st;
    if (m->pipeline) {
        st = hamf_pipeline_parse(m->pipeline, "model pipeline", &pl);
        if (!st) st = hamf_pipeline_apply(pl, fr);
        hamf_pipeline_free(pl);
        if (st) goto cleanup;
    }
    const char *target = m->target && *m->target ? m->target : NULL;
    size_t col;
    if (target && hamf_frame_find(fr, target, &col) != HAMF_OK) {
        if (need_labels) {
            st = hamf__err(HAMF_ERR_SCHEMA, "%s: no label column '%s' (the model's target)", path, target);
            goto cleanup;
        }
        target = NULL;
    }
    st = hamf_dataset_from_frame(fr, target, out);
cleanup:
    hamf_frame_free(fr);
    return st;
}
