/*
 * dataset.c — hamf_dataset: the learner's column arrays (numeric doubles
 * with NaN for missing, categorical int32 codes with a dictionary, 0/1
 * labels) and row subsets (the frame glue is in frame_glue.c).
 */
#include "ml.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

hamf_status hamf_dataset_new(size_t nrows, hamf_dataset **out)
{
    if (!out) return hamf__err(HAMF_ERR_MISUSE, "dataset: NULL argument");
    struct hamf_dataset *d = hamf__calloc(1, sizeof *d);
    if (!d) return hamf__err(HAMF_ERR_NOMEM, "dataset: out of memory");
    d->n = nrows;
    *out = d;
    return HAMF_OK;
}

static void col_clear(struct hamf__ml_col *c)
{
    hamf__free(c->name);
    hamf__free(c->num);
    hamf__free(c->codes);
    if (c->dict)
        for (size_t k = 0; k < c->ncat; k++) hamf__free(c->dict[k]);
    hamf__free(c->dict);
}

void hamf_dataset_free(hamf_dataset *d)
{
    if (!d) return;
    for (size_t c = 0; c < d->ncols; c++) col_clear(&d->cols[c]);
    hamf__free(d->cols);
    hamf__free(d->y);
    hamf__free(d->target);
    if (d->binned) hamf__binmap_clear(d->binned);
    hamf__free(d->binned);
    hamf__free(d->bcodes);
    hamf__free(d);
}

size_t hamf_dataset_nrows(const hamf_dataset *d) { return d ? d->n : 0; }
size_t hamf_dataset_ncols(const hamf_dataset *d) { return d ? d->ncols : 0; }
const double *hamf_dataset_label(const hamf_dataset *d) { return d ? d->y : NULL; }

static hamf_status add_col(hamf_dataset *d, const char *name, struct hamf__ml_col **out)
{
    if (!d || !name) return hamf__err(HAMF_ERR_MISUSE, "dataset: NULL argument");
    if (d->binned) return hamf__err(HAMF_ERR_MISUSE, "dataset: '%s': a pre-binned dataset takes no columns", name);
    for (size_t c = 0; c < d->ncols; c++)
        if (!strcmp(d->cols[c].name, name)) return hamf__err(HAMF_ERR_EXISTS, "dataset: duplicate column '%s'", name);
    if (d->ncols >= 65535) return hamf__err(HAMF_ERR_CONSTRAINT, "dataset: too many columns");
    if (d->ncols == d->capcols) {
        size_t nc = d->capcols ? d->capcols * 2 : 16;
        struct hamf__ml_col *cols = hamf__realloc(d->cols, nc * sizeof *cols);
        if (!cols) return hamf__err(HAMF_ERR_NOMEM, "dataset: out of memory");
        d->cols = cols;
        d->capcols = nc;
    }
    struct hamf__ml_col *c = &d->cols[d->ncols];
    memset(c, 0, sizeof *c);
    c->name = hamf__strdup(name);
    if (!c->name) return hamf__err(HAMF_ERR_NOMEM, "dataset: out of memory");
    *out = c;
    return HAMF_OK;
}

hamf_status hamf_dataset_add_numeric(hamf_dataset *d, const char *name, const double *v)
{
    struct hamf__ml_col *c;
    hamf_status st = add_col(d, name, &c);
    if (st) return st;
    if (!v && d->n) { col_clear(c); return hamf__err(HAMF_ERR_MISUSE, "dataset: NULL values for '%s'", name); }
    c->num = hamf__malloc((d->n + 1) * sizeof *c->num);
    if (!c->num) { col_clear(c); return hamf__err(HAMF_ERR_NOMEM, "dataset: out of memory"); }
    if (d->n) memcpy(c->num, v, d->n * sizeof *v);
    d->ncols++;
    return HAMF_OK;
}

hamf_status hamf_dataset_add_categorical(hamf_dataset *d, const char *name, const int32_t *codes, size_t ncat,
                                         const char *const *dict)
{
    struct hamf__ml_col *c;
    hamf_status st = add_col(d, name, &c);
    if (st) return st;
    if (!codes && d->n) { col_clear(c); return hamf__err(HAMF_ERR_MISUSE, "dataset: NULL codes for '%s'", name); }
    if (ncat > INT32_MAX) { col_clear(c); return hamf__err(HAMF_ERR_CONSTRAINT, "dataset: too many categories in '%s'", name); }
    c->is_cat = true;
    c->codes = hamf__malloc((d->n + 1) * sizeof *c->codes);
    c->dict = hamf__calloc(ncat + 1, sizeof *c->dict);
    if (!c->codes || !c->dict) { col_clear(c); return hamf__err(HAMF_ERR_NOMEM, "dataset: out of memory"); }
    c->ncat = ncat;
    for (size_t i = 0; i < d->n; i++) {
        if (codes[i] < -1 || (codes[i] >= 0 && (size_t)codes[i] >= ncat)) {
            col_clear(c);
            return hamf__err(HAMF_ERR_CONSTRAINT, "dataset: column '%s' row %zu: code %d outside [-1, %zu)", name, i,
                             (int)codes[i], ncat);
        }
        c->codes[i] = codes[i];
    }
    for (size_t k = 0; k < ncat; k++) {
        char tmp[32];
        if (!dict || !dict[k]) snprintf(tmp, sizeof tmp, "%zu", k);
        c->dict[k] = hamf__strdup(dict && dict[k] ? dict[k] : tmp);
        if (!c->dict[k]) { col_clear(c); return hamf__err(HAMF_ERR_NOMEM, "dataset: out of memory"); }
    }
    d->ncols++;
    return HAMF_OK;
}

hamf_status hamf_dataset_set_label(hamf_dataset *d, const char *name, const double *y)
{
    if (!d || (!y && d->n)) return hamf__err(HAMF_ERR_MISUSE, "dataset: NULL argument");
    for (size_t i = 0; i < d->n; i++)
        if (!(y[i] == 0 || y[i] == 1))
            return hamf__err(HAMF_ERR_CONSTRAINT, "dataset: label '%s' row %zu is %g, not 0 or 1", name ? name : "",
                             i + 1, y[i]);
    double *c = hamf__malloc((d->n + 1) * sizeof *c);
    char *nm = hamf__strdup(name ? name : "");
    if (!c || !nm) { hamf__free(c); hamf__free(nm); return hamf__err(HAMF_ERR_NOMEM, "dataset: out of memory"); }
    if (d->n) memcpy(c, y, d->n * sizeof *y);
    hamf__free(d->y);
    hamf__free(d->target);
    d->y = c;
    d->target = nm;
    return HAMF_OK;
}

/* A pre-binned dataset over `n` rows taking `codes` (ncols x n) and `y`
 * (may be NULL); the columns' names and kinds are those of `bins`. */
hamf_status hamf__dataset_binned(size_t n, const struct hamf__binmap *bins, int max_bins, uint8_t *codes, double *y,
                                 const char *target, hamf_dataset **out)
{
    hamf_dataset *d = NULL;
    hamf_status st = hamf_dataset_new(n, &d);
    if (st) return st;
    d->cols = hamf__calloc(bins->nf + 1, sizeof *d->cols);
    d->binned = hamf__calloc(1, sizeof *d->binned);
    d->target = target ? hamf__strdup(target) : NULL;
    if (!d->cols || !d->binned || (target && !d->target)) goto oom;
    d->capcols = bins->nf + 1;
    for (size_t f = 0; f < bins->nf; f++) {
        d->cols[f].is_cat = bins->f[f].is_cat;
        if (!(d->cols[f].name = hamf__strdup(bins->f[f].name))) goto oom;
        d->ncols++;
    }
    if ((st = hamf__binmap_copy(bins, d->binned))) goto fail;
    d->binned_max = max_bins;
    d->bcodes = codes;
    d->y = y;
    *out = d;
    return HAMF_OK;
oom:
    st = hamf__err(HAMF_ERR_NOMEM, "dataset: out of memory");
fail:
    hamf_dataset_free(d);
    return st;
}

static hamf_status subset_binned(const hamf_dataset *d, const size_t *rows, size_t n, hamf_dataset **out)
{
    size_t nf = d->binned->nf;
    uint8_t *codes = hamf__malloc(nf * n + 1);
    double *y = d->y ? hamf__malloc((n + 1) * sizeof *y) : NULL;
    if (!codes || (d->y && !y)) {
        hamf__free(codes);
        hamf__free(y);
        return hamf__err(HAMF_ERR_NOMEM, "dataset: out of memory");
    }
    for (size_t f = 0; f < nf; f++)
        for (size_t k = 0; k < n; k++) codes[f * n + k] = d->bcodes[f * d->n + rows[k]];
    if (y)
        for (size_t k = 0; k < n; k++) y[k] = d->y[rows[k]];
    hamf_status st = hamf__dataset_binned(n, d->binned, d->binned_max, codes, y, d->target, out);
    if (st) {
        hamf__free(codes);
        hamf__free(y);
    }
    return st;
}

hamf_status hamf_dataset_subset(const hamf_dataset *d, const size_t *rows, size_t n, hamf_dataset **out)
{
    if (!d || (!rows && n) || !out) return hamf__err(HAMF_ERR_MISUSE, "dataset: NULL argument");
    for (size_t k = 0; k < n; k++)
        if (rows[k] >= d->n) return hamf__err(HAMF_ERR_CONSTRAINT, "dataset: row %zu out of range", rows[k]);
    if (d->binned) return subset_binned(d, rows, n, out);
    hamf_dataset *s = NULL;
    hamf_status st = hamf_dataset_new(n, &s);
    if (st) return st;
    double *tmpd = hamf__malloc((n + 1) * sizeof *tmpd);
    int32_t *tmpi = hamf__malloc((n + 1) * sizeof *tmpi);
    if (!tmpd || !tmpi) { st = hamf__err(HAMF_ERR_NOMEM, "dataset: out of memory"); goto fail; }
    for (size_t c = 0; c < d->ncols; c++) {
        const struct hamf__ml_col *col = &d->cols[c];
        if (col->is_cat) {
            for (size_t k = 0; k < n; k++) tmpi[k] = col->codes[rows[k]];
            st = hamf_dataset_add_categorical(s, col->name, tmpi, col->ncat, (const char *const *)col->dict);
        } else {
            for (size_t k = 0; k < n; k++) tmpd[k] = col->num[rows[k]];
            st = hamf_dataset_add_numeric(s, col->name, tmpd);
        }
        if (st) goto fail;
    }
    if (d->y) {
        for (size_t k = 0; k < n; k++) tmpd[k] = d->y[rows[k]];
        if ((st = hamf_dataset_set_label(s, d->target, tmpd))) goto fail;
    }
    hamf__free(tmpd);
    hamf__free(tmpi);
    *out = s;
    return HAMF_OK;
fail:
    hamf__free(tmpd);
    hamf__free(tmpi);
    hamf_dataset_free(s);
    return st;
}

