/*
 * ingest.c — hamf_dataset_read_csv_binned: training data straight from a
 * CSV into u8 bin codes, without a column of doubles for every value.
 *
 * The file is parsed once. A memchr count of its line feeds gives the rows,
 * so the (unstratified) train/test split is known before the first block;
 * the reader (hamf__csv_stream_rounds_hint) types each block with the
 * kinds seen so far instead of a schema pass of its own. Each block goes
 * through the pipeline (as the in-memory path applies it to the whole
 * frame), then:
 *   labels; the categorical dictionaries (merged block by block in block
 *   order: the whole-file dictionary order) with counts over the training
 *   rows; the mixed-type check of the raw columns; every feature value kept
 *   in the narrowest type that holds it exactly (struct sblock).
 * After the file: per numeric column the same deterministic sample
 * hamf__binmap_build takes (every step-th training row), the bins, and the
 * codes of every kept block (column-major), the blocks freed as they go.
 * When the count or a column's type turns out wrong (a blank line, a line
 * break in quotes, a column that is whole numbers in the first block only)
 * or round 0 fails, all of it is done again with the reader's schema pass.
 * The bins, the split and so the models are the same as reading the whole
 * file into a frame and calling hamf_dataset_from_frame, subset and fit.
 * The features of a block run on the --threads pool; the pool threads
 * allocate nothing (struct scratch).
 */
#include "ml.h"
#include "data/csv.h"
#include "data/frame.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

void hamf_csv_train_options_init(hamf_csv_train_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->test_size = 0.2;
    o->seed = 42;
    o->max_bins = 255;
}

struct icol {
    char *name;
    bool is_cat;
    hamf_dtype type;
    struct hamf__dict *dict; /* categorical: the whole file's dictionary */
    size_t *count, cap;      /* categorical: training rows per category */
    double *samp;            /* numeric: the binning sample */
    size_t ns, scap;
    /* numeric: the range of the blocks held as ENC_I8/ENC_I16, and the
     * code of every value in it (built before the codes) */
    bool have_int, not_int; /* some block ENC_I8/16; some other */
    int32_t ilo, ihi;
    uint8_t *table;
};

struct mixed { size_t nnum, ntext, first; char *first_val; };

/* per pool thread: a block column as doubles, a block dictionary's remap.
 * Grown on the caller's thread before the feature tasks run (need_bufs):
 * what a worker thread allocates lands in its own malloc arena, which stays
 * resident through the fit (+13 MiB at 1M rows when the samples grew
 * there), so the tasks allocate nothing. */
struct scratch {
    double *buf;
    size_t cap;
    int32_t *remap;
    size_t rcap;
    struct hamf__bin_scratch bs; /* the numeric bins' sort */
};

/* A block's feature values after round 0, as narrow as holds them exactly
 * (ENC_I8..ENC_I32: integers, the type's minimum standing for NaN; for a
 * categorical feature the whole-file code, -1 missing), so the codes come
 * from memory once the bins are known instead of from a second parse of
 * the file (some 34 bytes a row on the benchmark data, < 1/2 of its CSV). */
enum { ENC_I8, ENC_I16, ENC_I32, ENC_F32, ENC_F64 };
struct sblock {
    size_t n;
    uint8_t *enc;  /* per feature */
    void **val;    /* per feature: n values */
};

static size_t enc_size(int e)
{
    static const size_t sz[] = {1, 2, 4, 4, 8};
    return sz[e];
}

struct ing {
    const char *path;
    const hamf_csv_train_options *o;
    hamf_pipeline *pl;
    int max_bins;
    /* split */
    size_t n, ntr, nte, step;
    uint64_t *test_bits; /* NULL: every row trains */
    bool too_few;
    /* position in the current round */
    int round;
    size_t row0, tr_at, te_at;
    /* schema after the pipeline */
    bool have_schema;
    size_t ncols, tcol, nf;
    struct icol *c;          /* nf features */
    size_t *fcol;            /* feature f -> frame column */
    /* raw columns (mixed-type check) */
    size_t nraw;
    struct mixed *mx;
    char **raw_names;
    /* results */
    uint8_t *ltr, *lte;      /* labels (doubles only once the stored values are gone) */
    double *ytr, *yte;
    struct hamf__binmap bins;
    uint8_t *ctr, *cte;
    /* the feature columns of a block are done in parallel */
    struct hamf__pool *pool;
    struct scratch *scr; /* one per pool thread */
    int nscr;
    hamf_status *fst;    /* per feature */
    size_t *numf, nnum;  /* the numeric features (pool tasks) */
    const hamf_frame *cur;
    /* round 0's blocks */
    struct sblock *blk;
    size_t nblk, blkcap, bi; /* bi: the block being coded */
    size_t *spos, *sblk;     /* the binning sample's rows (sample_rows) */
    size_t grp0;             /* the first numeric feature being sampled */
};

static bool is_test(const struct ing *g, size_t row)
{
    return g->test_bits && (g->test_bits[row >> 6] >> (row & 63)) & 1;
}

static bool is_number_text(const char *s)
{
    if (!*s) return false;
    char *end;
    (void)strtod(s, &end);
    return *end == '\0';
}

/* The raw block's text columns: cells that are numbers vs text. */
static hamf_status mixed_block(struct ing *g, const hamf_frame *f)
{
    size_t nc = hamf_frame_ncols(f), n = hamf_frame_nrows(f);
    if (!g->mx) {
        g->nraw = nc;
        g->mx = hamf__calloc(nc + 1, sizeof *g->mx);
        g->raw_names = hamf__calloc(nc + 1, sizeof *g->raw_names);
        if (!g->mx || !g->raw_names) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
        for (size_t c = 0; c < nc; c++)
            if (!(g->raw_names[c] = hamf__strdup(hamf_frame_col_name(f, c))))
                return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
    }
    if (nc != g->nraw) return hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", g->path);
    for (size_t c = 0; c < nc; c++) {
        if (hamf_frame_col_type(f, c) != HAMF_DTYPE_STRING) continue;
        size_t nd = hamf_frame_dict_size(f, c);
        bool *num = hamf__calloc(nd + 1, sizeof *num);
        if (!num) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
        for (size_t k = 0; k < nd; k++) num[k] = is_number_text(hamf_frame_dict_value(f, c, k));
        const int32_t *codes = hamf_frame_codes(f, c);
        struct mixed *m = &g->mx[c];
        for (size_t i = 0; i < n; i++) {
            if (codes[i] < 0) continue;
            if (num[codes[i]]) m->nnum++;
            else {
                if (!m->ntext) {
                    m->first = g->row0 + i;
                    m->first_val = hamf__strdup(hamf_frame_dict_value(f, c, (size_t)codes[i]));
                    if (!m->first_val) { hamf__free(num); return hamf__err(HAMF_ERR_NOMEM, "train: out of memory"); }
                }
                m->ntext++;
            }
        }
        hamf__free(num);
    }
    return HAMF_OK;
}

/* Same rule and wording as the in-memory reader's check (cmd_train.c). */
static hamf_status mixed_report(struct ing *g)
{
    for (size_t c = 0; c < g->nraw; c++) {
        const struct mixed *m = &g->mx[c];
        if (m->nnum == 0 || m->ntext == 0 || m->nnum <= m->ntext) continue;
        char msg[1024];
        snprintf(msg, sizeof msg,
                 "column '%s' is read as text: %zu of %zu cells %s not a number (first at %s:%zu, '%.40s')",
                 g->raw_names[c], m->ntext, m->ntext + m->nnum, m->ntext == 1 ? "is" : "are", g->path, m->first + 2,
                 m->first_val ? m->first_val : "");
        if (g->o->strict_types) return hamf__err(HAMF_ERR_SCHEMA, "%s (--strict-types)", msg);
        if (g->o->warn) {
            char w[1200];
            snprintf(w, sizeof w, "%s; fix the cell%s, or --strict-types to refuse such data", msg,
                     m->ntext == 1 ? "" : "s");
            g->o->warn(g->o->warn_ctx, w);
        }
    }
    return HAMF_OK;
}

static hamf_status schema(struct ing *g, const hamf_frame *f)
{
    const char *target = g->o->target;
    size_t nc = hamf_frame_ncols(f);
    if (!g->have_schema) {
        if (hamf_frame_find(f, target, &g->tcol) != HAMF_OK)
            return hamf__err(HAMF_ERR_SCHEMA, "dataset: no target column '%s' in the data", target);
        g->ncols = nc;
        g->nf = nc - 1;
        g->c = hamf__calloc(nc + 1, sizeof *g->c);
        g->fcol = hamf__calloc(nc + 1, sizeof *g->fcol);
        g->fst = hamf__calloc(nc + 1, sizeof *g->fst);
        if (!g->c || !g->fcol || !g->fst) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
        size_t f_ = 0;
        for (size_t k = 0; k < nc; k++) {
            if (k == g->tcol) continue;
            struct icol *ic = &g->c[f_];
            g->fcol[f_++] = k;
            ic->type = hamf_frame_col_type(f, k);
            ic->is_cat = ic->type == HAMF_DTYPE_STRING;
            if (!(ic->name = hamf__strdup(hamf_frame_col_name(f, k)))) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
            if (ic->is_cat && hamf__dict_new(&ic->dict)) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
        }
        for (size_t a = 0; a < g->nf; a++)
            for (size_t b = 0; b < a; b++)
                if (!strcmp(g->c[a].name, g->c[b].name))
                    return hamf__err(HAMF_ERR_EXISTS, "dataset: duplicate column '%s'", g->c[a].name);
        if (g->nf > 65535) return hamf__err(HAMF_ERR_CONSTRAINT, "dataset: too many columns");
        g->have_schema = true;
        return HAMF_OK;
    }
    bool same = nc == g->ncols && !strcmp(hamf_frame_col_name(f, g->tcol), target);
    for (size_t k = 0; same && k < g->nf; k++)
        same = hamf_frame_col_type(f, g->fcol[k]) == g->c[k].type && !strcmp(hamf_frame_col_name(f, g->fcol[k]), g->c[k].name);
    if (!same) return hamf__err(HAMF_ERR_INTERNAL, "train: %s: the pipeline gave blocks of different columns", g->path);
    return HAMF_OK;
}

/* (no error message: this runs on pool threads; the caller reports) */
static hamf_status need_buf(struct scratch *x, size_t n)
{
    if (n + 1 <= x->cap) return HAMF_OK;
    double *b = hamf__realloc(x->buf, (n + 1) * sizeof *b);
    if (!b) return HAMF_ERR_NOMEM;
    x->buf = b;
    x->cap = n + 1;
    return HAMF_OK;
}

static hamf_status need_remap(struct scratch *x, size_t n)
{
    if (n + 1 <= x->rcap) return HAMF_OK;
    int32_t *r = hamf__realloc(x->remap, (n + 1) * sizeof *r);
    if (!r) return HAMF_ERR_NOMEM;
    x->remap = r;
    x->rcap = n + 1;
    return HAMF_OK;
}

static hamf_status labels(struct ing *g, const hamf_frame *f)
{
    size_t n = hamf_frame_nrows(f), t = g->tcol;
    const char *target = g->o->target;
    hamf_status st = need_buf(&g->scr[0], n);
    if (st) return hamf__err(st, "train: out of memory");
    double *y = g->scr[0].buf;
    if (hamf_frame_col_type(f, t) == HAMF_DTYPE_STRING) {
        const int32_t *codes = hamf_frame_codes(f, t);
        for (size_t i = 0; i < n; i++) {
            int v = codes[i] < 0 ? -1 : hamf__label_of_string(hamf_frame_dict_value(f, t, (size_t)codes[i]));
            if (v < 0)
                return hamf__err(HAMF_ERR_SCHEMA, "dataset: target '%s' in data row %zu (CSV line %zu) is '%s', not a binary label (0/1, yes/no, true/false)",
                                 target, g->row0 + i + 1, g->row0 + i + 2,
                                 codes[i] < 0 ? "" : hamf_frame_dict_value(f, t, (size_t)codes[i]));
            y[i] = v;
        }
    } else {
        if ((st = hamf_frame_get_f64(f, t, y))) return st;
        for (size_t i = 0; i < n; i++)
            if (!(y[i] == 0 || y[i] == 1))
                return hamf__err(HAMF_ERR_SCHEMA, "dataset: target '%s' in data row %zu (CSV line %zu) is %g, not a binary label (0 or 1)",
                                 target, g->row0 + i + 1, g->row0 + i + 2, y[i]);
    }
    size_t a = g->tr_at, b = g->te_at;
    for (size_t i = 0; i < n; i++) {
        if (is_test(g, g->row0 + i)) g->lte[b++] = (uint8_t)y[i];
        else g->ltr[a++] = (uint8_t)y[i];
    }
    return HAMF_OK;
}

/* An int64 column within [-2147483647, 2147483647]: its range with 0 in
 * it (as collect's loop keeps it). */
static bool int32_range(const int64_t *v, size_t n, double *lo, double *hi)
{
    int64_t a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        a = v[i] < a ? v[i] : a;
        b = v[i] > b ? v[i] : b;
    }
    if (a < -2147483647 || b > 2147483647) return false;
    *lo = (double)a;
    *hi = (double)b;
    return true;
}

/* Column k of block frame f as doubles: in place when it holds doubles and
 * no nulls, else converted into x->buf (its room checked by the caller). */
static hamf_status block_doubles(const hamf_frame *f, size_t k, struct scratch *x, const double **v)
{
    const uint8_t *valid;
    const void *raw = hamf__frame_data(f, k, &valid);
    if (hamf_frame_col_type(f, k) == HAMF_DTYPE_DOUBLE && !valid) {
        *v = raw;
        return HAMF_OK;
    }
    *v = x->buf;
    return hamf_frame_get_f64(f, k, x->buf);
}

/* Round 0 for one feature column of the block. */
static hamf_status collect(struct ing *g, struct scratch *x, const hamf_frame *f, size_t fi)
{
    struct icol *ic = &g->c[fi];
    size_t k = g->fcol[fi], n = hamf_frame_nrows(f);
    hamf_status st;
    if (ic->is_cat) {
        size_t nd = hamf_frame_dict_size(f, k);
        if ((st = need_remap(x, nd))) return st;
        for (size_t j = 0; j < nd; j++) {
            const char *s = hamf_frame_dict_value(f, k, j);
            if ((st = hamf__dict_intern(ic->dict, s, strlen(s), &x->remap[j]))) return st;
        }
        if (ic->dict->n > ic->cap) {
            size_t nc = ic->cap ? ic->cap : 64;
            while (nc < ic->dict->n) nc *= 2;
            size_t *cnt = hamf__realloc(ic->count, nc * sizeof *cnt);
            if (!cnt) return HAMF_ERR_NOMEM;
            memset(cnt + ic->cap, 0, (nc - ic->cap) * sizeof *cnt);
            ic->count = cnt;
            ic->cap = nc;
        }
        const int32_t *codes = hamf_frame_codes(f, k);
        for (size_t i = 0; i < n; i++)
            if (codes[i] >= 0 && !is_test(g, g->row0 + i)) ic->count[x->remap[codes[i]]]++;
        /* (this runs on the caller's thread: it may allocate) */
        struct sblock *b = &g->blk[g->nblk - 1];
        int e = ic->dict->n <= 127 ? ENC_I8 : ic->dict->n <= 32767 ? ENC_I16 : ENC_I32;
        b->enc[fi] = (uint8_t)e;
        if (!(b->val[fi] = hamf__malloc(n * enc_size(e) + 1))) return HAMF_ERR_NOMEM;
        for (size_t i = 0; i < n; i++) {
            int32_t c = codes[i] >= 0 ? x->remap[codes[i]] : -1;
            if (e == ENC_I8) ((int8_t *)b->val[fi])[i] = (int8_t)c;
            else if (e == ENC_I16) ((int16_t *)b->val[fi])[i] = (int16_t)c;
            else ((int32_t *)b->val[fi])[i] = c;
        }
        return HAMF_OK;
    }
    if (x->cap < n + 1) return HAMF_ERR_INTERNAL;
    /* the narrowest exact encoding (-0 may come back as 0: the same bin) */
    bool ints = true, floats = true;
    double lo = 0, hi = 0;
    const double *v = NULL;
    const uint8_t *valid;
    const void *raw = hamf__frame_data(f, k, &valid);
    size_t nv = n; /* values to look at */
    if (hamf_frame_col_type(f, k) == HAMF_DTYPE_INT64 && !valid && int32_range(raw, n, &lo, &hi))
        nv = 0; /* whole numbers in the int32 range (the usual): no doubles */
    else if ((st = block_doubles(f, k, x, &v)))
        return st;
    for (size_t i = 0; i < nv && (ints || floats); i++) {
        double d = v[i];
        if (isnan(d)) continue;
        if (ints && d >= -2147483647.0 && d <= 2147483647.0 && d == (double)(int32_t)d) {
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        } else {
            ints = false;
        }
        if (floats && (double)(float)d != d) floats = false;
    }
    int e = ints ? (lo >= -127 && hi <= 127 ? ENC_I8 : lo >= -32767 && hi <= 32767 ? ENC_I16 : ENC_I32)
                 : floats ? ENC_F32 : ENC_F64;
    g->blk[g->nblk - 1].enc[fi] = (uint8_t)e;
    if (e <= ENC_I16) { /* (only this task touches feature fi) */
        ic->ilo = ic->have_int && ic->ilo < (int32_t)lo ? ic->ilo : (int32_t)lo;
        ic->ihi = ic->have_int && ic->ihi > (int32_t)hi ? ic->ihi : (int32_t)hi;
        ic->have_int = true;
    } else {
        ic->not_int = true;
    }
    return HAMF_OK;
}

/* Round 0, after the encodings are chosen and the block's arrays allocated:
 * a numeric feature's values into them. */
static hamf_status store_num(struct ing *g, struct scratch *x, const hamf_frame *f, size_t fi)
{
    struct sblock *b = &g->blk[g->nblk - 1];
    size_t n = b->n;
    hamf_status st;
    if (x->cap < n + 1) return HAMF_ERR_INTERNAL;
    const uint8_t *valid;
    const void *raw = hamf__frame_data(f, g->fcol[fi], &valid);
    if (hamf_frame_col_type(f, g->fcol[fi]) == HAMF_DTYPE_INT64 && !valid && b->enc[fi] <= ENC_I32) {
        /* (collect saw the range) */
        const int64_t *iv = raw;
        switch (b->enc[fi]) {
        case ENC_I8: for (size_t i = 0; i < n; i++) ((int8_t *)b->val[fi])[i] = (int8_t)iv[i]; break;
        case ENC_I16: for (size_t i = 0; i < n; i++) ((int16_t *)b->val[fi])[i] = (int16_t)iv[i]; break;
        default: for (size_t i = 0; i < n; i++) ((int32_t *)b->val[fi])[i] = (int32_t)iv[i];
        }
        return HAMF_OK;
    }
    const double *v;
    if ((st = block_doubles(f, g->fcol[fi], x, &v))) return st;
    switch (b->enc[fi]) {
    case ENC_I8: {
        int8_t *o = b->val[fi];
        for (size_t i = 0; i < n; i++) o[i] = isnan(v[i]) ? INT8_MIN : (int8_t)v[i];
        break;
    }
    case ENC_I16: {
        int16_t *o = b->val[fi];
        for (size_t i = 0; i < n; i++) o[i] = isnan(v[i]) ? INT16_MIN : (int16_t)v[i];
        break;
    }
    case ENC_I32: {
        int32_t *o = b->val[fi];
        for (size_t i = 0; i < n; i++) o[i] = isnan(v[i]) ? INT32_MIN : (int32_t)v[i];
        break;
    }
    case ENC_F32: {
        float *o = b->val[fi];
        for (size_t i = 0; i < n; i++) o[i] = (float)v[i];
        break;
    }
    default:
        memcpy(b->val[fi], v, n * sizeof *v);
    }
    return HAMF_OK;
}

/* A stored feature of block b back to doubles (numeric) or codes. */
static void load_num(const struct sblock *b, size_t fi, double *v)
{
    size_t n = b->n;
    switch (b->enc[fi]) {
    case ENC_I8: {
        const int8_t *s = b->val[fi];
        for (size_t i = 0; i < n; i++) v[i] = s[i] == INT8_MIN ? NAN : (double)s[i];
        break;
    }
    case ENC_I16: {
        const int16_t *s = b->val[fi];
        for (size_t i = 0; i < n; i++) v[i] = s[i] == INT16_MIN ? NAN : (double)s[i];
        break;
    }
    case ENC_I32: {
        const int32_t *s = b->val[fi];
        for (size_t i = 0; i < n; i++) v[i] = s[i] == INT32_MIN ? NAN : (double)s[i];
        break;
    }
    case ENC_F32: {
        const float *s = b->val[fi];
        for (size_t i = 0; i < n; i++) v[i] = (double)s[i];
        break;
    }
    default:
        memcpy(v, b->val[fi], n * sizeof *v);
    }
}

static int32_t load_code(const struct sblock *b, size_t fi, size_t i)
{
    switch (b->enc[fi]) {
    case ENC_I8: return ((const int8_t *)b->val[fi])[i];
    case ENC_I16: return ((const int16_t *)b->val[fi])[i];
    default: return ((const int32_t *)b->val[fi])[i];
    }
}

/* hamf__bin_value of v[0..n), the same codes: the same branch-free lower
 * bound, LANES values at a time. Every search over one feature takes the
 * same steps, so the lanes' loads overlap instead of waiting one on the
 * other (the search was 9 % of a 1M-row train on one value at a time). */
enum { LANES = 8 };
static void bin_values(const struct hamf__feat *ft, const double *v, size_t n, uint8_t *out)
{
    const double *e = ft->edges;
    const size_t len0 = (size_t)ft->nbins - 1;
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        size_t at[LANES] = {0};
        for (size_t len = len0; len > 1;) {
            size_t h = len / 2;
            for (int j = 0; j < LANES; j++) at[j] = e[at[j] + h - 1] < v[i + j] ? at[j] + h : at[j];
            len -= h;
        }
        for (int j = 0; j < LANES; j++)
            out[i + j] = isnan(v[i + j]) ? 0 : (uint8_t)(at[j] + (e[at[j]] < v[i + j]) + 1);
    }
    for (; i < n; i++) out[i] = hamf__bin_value(ft, v[i]);
}

/* The codes of one feature of stored block g->bi. */
static hamf_status code_col(struct ing *g, struct scratch *x, size_t fi)
{
    const struct sblock *sb = &g->blk[g->bi];
    const struct hamf__feat *ft = &g->bins.f[fi];
    size_t n = sb->n;
    uint8_t *otr = g->ctr + fi * g->ntr, *ote = g->cte + fi * g->nte;
    size_t a = g->tr_at, b = g->te_at;
    /* the codes, then the training and the test rows' ones: 3 (n + 1) of
     * the remap's 4 (n + 1) bytes */
    uint8_t *v = (uint8_t *)x->remap, *vt = v + n + 1, *ve = vt + n + 1;
    if (x->cap < n + 1 || x->rcap < n + 1) return HAMF_ERR_INTERNAL;
    if (ft->is_cat) {
        for (size_t i = 0; i < n; i++) {
            int32_t c = load_code(sb, fi, i);
            v[i] = c >= 0 ? ft->cat_bin[c] : 0;
        }
    } else if (g->c[fi].table && sb->enc[fi] <= ENC_I16) {
        /* small whole numbers: the code from the feature's table */
        const uint8_t *t = g->c[fi].table;
        int32_t lo = g->c[fi].ilo;
        if (sb->enc[fi] == ENC_I8) {
            const int8_t *s = sb->val[fi];
            for (size_t i = 0; i < n; i++) v[i] = s[i] == INT8_MIN ? 0 : t[s[i] - lo];
        } else {
            const int16_t *s = sb->val[fi];
            for (size_t i = 0; i < n; i++) v[i] = s[i] == INT16_MIN ? 0 : t[s[i] - lo];
        }
    } else {
        load_num(sb, fi, x->buf);
        bin_values(ft, x->buf, n, v);
    }
    if (!g->test_bits) {
        memcpy(otr + a, v, n);
        return HAMF_OK;
    }
    /* without a branch: a fifth of the rows test, at random */
    size_t na = 0, nb = 0;
    for (size_t i = 0; i < n; i++) {
        size_t row = g->row0 + i;
        size_t t = (size_t)(g->test_bits[row >> 6] >> (row & 63)) & 1;
        vt[na] = v[i];
        ve[nb] = v[i];
        na += 1 - t;
        nb += t;
    }
    memcpy(otr + a, vt, na);
    memcpy(ote + b, ve, nb);
    return HAMF_OK;
}

/* Stored value i of numeric feature fi of block b (NaN: missing). */
static double stored_num(const struct sblock *b, size_t fi, size_t i)
{
    switch (b->enc[fi]) {
    case ENC_I8: { int8_t v = ((const int8_t *)b->val[fi])[i]; return v == INT8_MIN ? NAN : v; }
    case ENC_I16: { int16_t v = ((const int16_t *)b->val[fi])[i]; return v == INT16_MIN ? NAN : v; }
    case ENC_I32: { int32_t v = ((const int32_t *)b->val[fi])[i]; return v == INT32_MIN ? NAN : v; }
    case ENC_F32: return ((const float *)b->val[fi])[i];
    default: return ((const double *)b->val[fi])[i];
    }
}

/* The rows of the binning sample, the same for every numeric feature
 * (every step-th training row): their places in the stored blocks, block
 * bi's from g->sblk[bi] to g->sblk[bi + 1] (found once, not per feature). */
static hamf_status sample_rows(struct ing *g)
{
    size_t cap = (g->ntr + g->step - 1) / g->step + 1;
    g->spos = hamf__malloc(cap * sizeof *g->spos);
    g->sblk = hamf__malloc((g->nblk + 1) * sizeof *g->sblk);
    if (!g->spos || !g->sblk) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
    size_t row0 = 0, skip = 0, m = 0; /* skip: training rows to pass before the next one taken */
    for (size_t bi = 0; bi < g->nblk; bi++) {
        g->sblk[bi] = m;
        for (size_t i = 0; i < g->blk[bi].n; i++) {
            if (is_test(g, row0 + i)) continue;
            if (skip) {
                skip--;
                continue;
            }
            skip = g->step - 1;
            if (m == cap) return hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", g->path);
            g->spos[m++] = i;
        }
        row0 += g->blk[bi].n;
    }
    g->sblk[g->nblk] = m;
    return HAMF_OK;
}

/* The binning sample of numeric feature fi from the stored blocks (the
 * rows of sample_rows), NaN left out: what hamf__binmap_build takes from
 * the training column. */
static hamf_status sample_col(struct ing *g, struct scratch *x, size_t fi)
{
    struct icol *ic = &g->c[fi];
    /* small whole numbers only: counted per value, then written in order
     * (the sort is a scan of the counts: ~5x faster than the radix sort) */
    uint64_t *cnt = x->bs.a;
    x->bs.sorted = ic->have_int && !ic->not_int && x->bs.cap > (size_t)(ic->ihi - ic->ilo);
    if (x->bs.sorted) {
        memset(cnt, 0, ((size_t)(ic->ihi - ic->ilo) + 1) * sizeof *cnt);
        for (size_t bi = 0; bi < g->nblk; bi++) {
            const struct sblock *b = &g->blk[bi];
            const size_t *pos = g->spos + g->sblk[bi], np = g->sblk[bi + 1] - g->sblk[bi];
            if (b->enc[fi] == ENC_I8) {
                const int8_t *s8 = b->val[fi];
                for (size_t k = 0; k < np; k++)
                    if (s8[pos[k]] != INT8_MIN) cnt[s8[pos[k]] - ic->ilo]++;
            } else {
                const int16_t *s16 = b->val[fi];
                for (size_t k = 0; k < np; k++)
                    if (s16[pos[k]] != INT16_MIN) cnt[s16[pos[k]] - ic->ilo]++;
            }
        }
        for (int32_t v = ic->ilo; v <= ic->ihi; v++)
            for (uint64_t k = cnt[v - ic->ilo]; k; k--) ic->samp[ic->ns++] = (double)v;
    } else {
        for (size_t bi = 0; bi < g->nblk; bi++) {
            const struct sblock *b = &g->blk[bi];
            for (size_t k = g->sblk[bi]; k < g->sblk[bi + 1]; k++) {
                double v = stored_num(b, fi, g->spos[k]);
                if (!isnan(v)) ic->samp[ic->ns++] = v;
            }
        }
    }
    /* the bins, here (they allocate only the edges) */
    double *smp = ic->samp;
    ic->samp = NULL;
    return hamf__bin_numeric_sample(smp, ic->ns, g->max_bins, &g->bins.f[fi], &x->bs);
}

/* Numeric feature fi's table: hamf__bin_value of every whole number in
 * [ilo, ihi] (at most 65,535 of them: cheaper than a search per row). */
static hamf_status table_col(struct ing *g, size_t fi)
{
    struct icol *ic = &g->c[fi];
    if (!ic->table) return HAMF_OK;
    for (int32_t v = ic->ilo; v <= ic->ihi; v++) ic->table[v - ic->ilo] = hamf__bin_value(&g->bins.f[fi], (double)v);
    return HAMF_OK;
}

/* g->round 0: look at a numeric feature of the block; 1: store it;
 * 2: a feature's codes from stored block g->bi; 3: a numeric sample;
 * 4: a numeric feature's table */
static void feat_task(void *ctx, size_t task, int tid)
{
    struct ing *g = ctx;
    struct scratch *x = &g->scr[tid];
    size_t fi = g->round == 2 ? task : g->numf[g->round == 3 ? g->grp0 + task : task];
    switch (g->round) {
    case 0: g->fst[fi] = collect(g, x, g->cur, fi); break;
    case 1: g->fst[fi] = store_num(g, x, g->cur, fi); break;
    case 2: g->fst[fi] = code_col(g, x, fi); break;
    case 3: g->fst[fi] = sample_col(g, x, fi); break;
    default: g->fst[fi] = table_col(g, fi);
    }
}

static hamf_status feat_status(struct ing *g)
{
    for (size_t fi = 0; fi < g->nf; fi++) {
        if (g->fst[fi] == HAMF_OK) continue;
        if (g->fst[fi] == HAMF_ERR_IO) return hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", g->path);
        if (g->fst[fi] == HAMF_ERR_INTERNAL) return hamf__err(HAMF_ERR_INTERNAL, "train: scratch too small for '%s'", g->c[fi].name);
        return hamf__err(g->fst[fi], "train: out of memory reading '%s' of %s", g->c[fi].name, g->path);
    }
    return HAMF_OK;
}

/* Every thread's scratch for a block of n rows, grown here on the caller's
 * thread (see struct scratch). */
static hamf_status need_bufs(struct ing *g, size_t n)
{
    for (int t = 0; t < g->nscr; t++) {
        hamf_status st;
        if ((st = need_buf(&g->scr[t], n)) || (st = need_remap(&g->scr[t], n)))
            return hamf__err(st, "train: out of memory");
    }
    return HAMF_OK;
}

/* A new stored block of n rows (its arrays come with the features). */
static hamf_status new_block(struct ing *g, size_t n)
{
    if (g->nblk == g->blkcap) {
        size_t nc = g->blkcap ? g->blkcap * 2 : 16;
        struct sblock *nb = hamf__realloc(g->blk, nc * sizeof *nb);
        if (!nb) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
        g->blk = nb;
        g->blkcap = nc;
    }
    struct sblock *b = &g->blk[g->nblk];
    memset(b, 0, sizeof *b);
    b->n = n;
    b->enc = hamf__calloc(g->nf + 1, 1);
    b->val = hamf__calloc(g->nf + 1, sizeof *b->val);
    g->nblk++;
    if (!b->enc || !b->val) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
    return HAMF_OK;
}

static void free_block(struct ing *g, struct sblock *b)
{
    if (b->val)
        for (size_t fi = 0; fi < g->nf; fi++) hamf__free(b->val[fi]);
    hamf__free(b->val);
    hamf__free(b->enc);
    b->val = NULL;
    b->enc = NULL;
}

static void account_rows(struct ing *g, size_t n)
{
    size_t nte = 0;
    if (g->test_bits)
        for (size_t i = 0; i < n; i++) nte += is_test(g, g->row0 + i);
    g->te_at += nte;
    g->tr_at += n - nte;
    g->row0 += n;
}

/* Round 0 for a block: labels, dictionaries, samples, and the values kept
 * (categorical features on this thread: interning allocates; the numeric
 * ones on the pool, their arrays allocated here in between). */
static hamf_status on_block(hamf_frame *f, void *user)
{
    struct ing *g = user;
    hamf_status st = HAMF_OK;
    size_t n = hamf_frame_nrows(f);
    if ((st = mixed_block(g, f))) goto done;
    if (g->pl && (st = hamf_pipeline_apply(g->pl, f))) goto done;
    if ((st = schema(g, f))) goto done;
    if (g->row0 + n > g->n) { st = hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", g->path); goto done; }
    if ((st = labels(g, f))) goto done;
    if ((st = need_bufs(g, n)) || (st = new_block(g, n))) goto done;
    for (size_t fi = 0; fi < g->nf; fi++) {
        g->fst[fi] = HAMF_OK;
        if (g->c[fi].is_cat) g->fst[fi] = collect(g, &g->scr[0], f, fi);
    }
    if (!g->numf) {
        g->numf = hamf__calloc(g->nf + 1, sizeof *g->numf);
        if (!g->numf) { st = hamf__err(HAMF_ERR_NOMEM, "train: out of memory"); goto done; }
        for (size_t fi = 0; fi < g->nf; fi++)
            if (!g->c[fi].is_cat) g->numf[g->nnum++] = fi;
    }
    g->cur = f;
    g->round = 0;
    hamf__pool_run(g->pool, g->nnum, feat_task, g);
    if ((st = feat_status(g))) goto done;
    struct sblock *b = &g->blk[g->nblk - 1];
    for (size_t k = 0; k < g->nnum; k++) {
        size_t fi = g->numf[k];
        if (!(b->val[fi] = hamf__malloc(n * enc_size(b->enc[fi]) + 1))) {
            st = hamf__err(HAMF_ERR_NOMEM, "train: out of memory (%zu rows)", g->n);
            goto done;
        }
    }
    g->round = 1;
    hamf__pool_run(g->pool, g->nnum, feat_task, g);
    if ((st = feat_status(g))) goto done;
    account_rows(g, n);
done:
    g->cur = NULL;
    hamf_frame_free(f);
    return st;
}

/* The bins. A numeric feature's sample is gathered from the stored blocks
 * and binned on the pool, as many features at a time as the pool has
 * threads (their samples and sort scratch allocated here: a sort's buffers
 * freed in a worker's arena stayed resident through the fit, +3 MB): only
 * that many samples are ever held besides the stored values. */
static hamf_status build_bins(struct ing *g)
{
    hamf_status st;
    g->bins.f = hamf__calloc(g->nf + 1, sizeof *g->bins.f);
    if (!g->bins.f) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
    g->bins.nf = g->nf;
    for (size_t fi = 0; fi < g->nf; fi++) {
        struct icol *ic = &g->c[fi];
        struct hamf__feat *ft = &g->bins.f[fi];
        ft->is_cat = ic->is_cat;
        if (!(ft->name = hamf__strdup(ic->name))) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
        if (!ic->is_cat) continue;
        size_t *cnt = ic->count;
        size_t one = 0;
        if ((st = hamf__bin_categories((const char *const *)ic->dict->str, NULL, ic->dict->n, cnt ? cnt : &one, ft)))
            return hamf__err(st, "bin: out of memory binning '%s'", ic->name);
    }
    size_t maxn = 0, cap = (g->ntr + g->step - 1) / g->step + 1, per = (size_t)g->nscr;
    for (size_t bi = 0; bi < g->nblk; bi++) maxn = g->blk[bi].n > maxn ? g->blk[bi].n : maxn;
    if ((st = need_bufs(g, maxn))) return st;
    if (g->nnum && (st = sample_rows(g))) return st;
    for (int t = 0; t < g->nscr && g->nnum; t++) {
        struct hamf__bin_scratch *bs = &g->scr[t].bs;
        if (!(bs->a = hamf__malloc(cap * sizeof *bs->a)) || !(bs->b = hamf__malloc(cap * sizeof *bs->b)))
            return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
        bs->cap = cap;
    }
    g->round = 3;
    for (g->grp0 = 0; g->grp0 < g->nnum; g->grp0 += per) {
        size_t k1 = g->grp0 + per < g->nnum ? g->grp0 + per : g->nnum;
        for (size_t k = g->grp0; k < k1; k++) {
            struct icol *ic = &g->c[g->numf[k]];
            g->fst[g->numf[k]] = HAMF_OK;
            if (!(ic->samp = hamf__malloc(cap * sizeof *ic->samp))) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
            ic->scap = cap;
            ic->ns = 0;
        }
        hamf__pool_run(g->pool, k1 - g->grp0, feat_task, g);
        if ((st = feat_status(g))) return st;
    }
    hamf__free(g->spos);
    hamf__free(g->sblk);
    g->spos = g->sblk = NULL;
    for (int t = 0; t < g->nscr; t++) {
        hamf__free(g->scr[t].bs.a);
        hamf__free(g->scr[t].bs.b);
        memset(&g->scr[t].bs, 0, sizeof g->scr[t].bs);
    }
    return HAMF_OK;
}

static hamf_status on_round(int round, size_t nrows, void *user)
{
    struct ing *g = user;
    hamf_status st;
    if (round != 0) return hamf__err(HAMF_ERR_INTERNAL, "train: one round expected");
    g->row0 = g->tr_at = g->te_at = 0;
    {
        if (g->o->stage) {
            char what[4200];
            snprintf(what, sizeof what, "reading %s", g->path);
            g->o->stage(g->o->stage_ctx, what);
        }
        g->n = nrows;
        if (g->o->test_size > 0 && nrows >= 2) {
            size_t *itr = NULL, *ite = NULL, ntr = 0, nte = 0;
            if ((st = hamf_split_train_test(nrows, g->o->test_size, g->o->seed, NULL, &itr, &ntr, &ite, &nte))) return st;
            g->test_bits = hamf__calloc(nrows / 64 + 1, sizeof *g->test_bits);
            if (!g->test_bits) {
                hamf_free_indices(itr);
                hamf_free_indices(ite);
                return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
            }
            for (size_t k = 0; k < nte; k++) g->test_bits[ite[k] >> 6] |= (uint64_t)1 << (ite[k] & 63);
            hamf_free_indices(itr);
            hamf_free_indices(ite);
            g->ntr = ntr;
            g->nte = nte;
        } else {
            g->too_few = g->o->test_size > 0;
            g->ntr = nrows;
            g->nte = 0;
        }
        g->step = hamf__bin_sample_step(g->ntr);
        g->ltr = hamf__malloc(g->ntr + 1);
        g->lte = hamf__malloc(g->nte + 1);
        if (!g->ltr || !g->lte) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
        return HAMF_OK;
    }
}

/* After the file: bins from the samples and dictionaries, then every stored
 * block's codes (its features on the pool), the block freed as it goes. */
static hamf_status finish(struct ing *g)
{
    hamf_status st;
    if (g->row0 != g->n || g->tr_at != g->ntr || g->te_at != g->nte)
        return hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", g->path);
    if (g->mx && (st = mixed_report(g))) return st;
    if (g->o->stage) {
        char what[4200];
        snprintf(what, sizeof what, "preparing features and labels: binning %s", g->path);
        g->o->stage(g->o->stage_ctx, what);
    }
    if (g->too_few)
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: %s has %zu data rows; need at least 2 to split", g->path, g->n);
    if ((st = build_bins(g))) return st;
    for (size_t fi = 0; fi < g->nf; fi++) {
        hamf__free(g->c[fi].count);
        g->c[fi].count = NULL;
    }
    g->ctr = hamf__malloc(g->nf * g->ntr + 1);
    g->cte = hamf__malloc(g->nf * g->nte + 1);
    if (!g->ctr || !g->cte) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory (%zu rows)", g->n);
    for (size_t k = 0; k < g->nnum; k++) {
        struct icol *ic = &g->c[g->numf[k]];
        g->fst[g->numf[k]] = HAMF_OK;
        if (ic->have_int && !(ic->table = hamf__malloc((size_t)(ic->ihi - ic->ilo) + 1)))
            return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
    }
    g->round = 4;
    hamf__pool_run(g->pool, g->nnum, feat_task, g);
    if ((st = feat_status(g))) return st;
    g->row0 = g->tr_at = g->te_at = 0;
    g->round = 2;
    for (g->bi = 0; g->bi < g->nblk; g->bi++) {
        struct sblock *b = &g->blk[g->bi];
        if ((st = need_bufs(g, b->n))) return st;
        for (size_t fi = 0; fi < g->nf; fi++) g->fst[fi] = HAMF_OK;
        hamf__pool_run(g->pool, g->nf, feat_task, g);
        if ((st = feat_status(g))) return st;
        account_rows(g, b->n);
        free_block(g, b);
        /* the block's pages back now, not at the end: the codes grow as
         * the stored values go (else the peak is both) */
        hamf__alloc_release();
    }
    g->ytr = hamf__malloc((g->ntr + 1) * sizeof *g->ytr);
    g->yte = hamf__malloc((g->nte + 1) * sizeof *g->yte);
    if (!g->ytr || !g->yte) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
    for (size_t i = 0; i < g->ntr; i++) g->ytr[i] = g->ltr[i];
    for (size_t i = 0; i < g->nte; i++) g->yte[i] = g->lte[i];
    return HAMF_OK;
}

static void ing_free(struct ing *g)
{
    hamf_pipeline_free(g->pl);
    hamf__free(g->test_bits);
    hamf__free(g->spos);
    hamf__free(g->sblk);
    if (g->c)
        for (size_t f = 0; f < g->nf; f++) {
            hamf__free(g->c[f].name);
            hamf__dict_free(g->c[f].dict);
            hamf__free(g->c[f].count);
            hamf__free(g->c[f].samp);
            hamf__free(g->c[f].table);
        }
    hamf__free(g->c);
    hamf__free(g->fcol);
    if (g->mx)
        for (size_t c = 0; c < g->nraw; c++) hamf__free(g->mx[c].first_val);
    hamf__free(g->mx);
    if (g->raw_names)
        for (size_t c = 0; c < g->nraw; c++) hamf__free(g->raw_names[c]);
    hamf__free(g->raw_names);
    hamf__free(g->ltr);
    hamf__free(g->lte);
    hamf__free(g->ytr);
    hamf__free(g->yte);
    hamf__binmap_clear(&g->bins);
    hamf__free(g->ctr);
    hamf__free(g->cte);
    for (int t = 0; t < g->nscr; t++) {
        hamf__free(g->scr[t].buf);
        hamf__free(g->scr[t].remap);
        hamf__free(g->scr[t].bs.a);
        hamf__free(g->scr[t].bs.b);
    }
    hamf__free(g->scr);
    hamf__free(g->fst);
    hamf__free(g->numf);
    for (size_t b = 0; b < g->nblk; b++) free_block(g, &g->blk[b]);
    hamf__free(g->blk);
    hamf__pool_free(g->pool);
}

/* Part of count_rows: the line feeds in bytes [lo, hi) of the file. */
struct nlcount {
    int fd;
    uint64_t lo, hi;
    char *buf; /* CHUNK bytes, the caller's */
    size_t nl;
    bool ok;
};
enum { CHUNK = 96 << 10 }; /* under malloc's mmap threshold: no page to give back */

static void count_task(void *ctx, size_t i, int tid)
{
    (void)tid;
    struct nlcount *c = &((struct nlcount *)ctx)[i];
    c->nl = 0;
    c->ok = true;
    for (uint64_t off = c->lo; off < c->hi;) {
        size_t want = c->hi - off < CHUNK ? (size_t)(c->hi - off) : CHUNK;
        ssize_t r = pread(c->fd, c->buf, want, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            c->ok = false;
            return;
        }
        const char *p = c->buf, *end = c->buf + r, *q;
        while ((q = memchr(p, '\n', (size_t)(end - p)))) {
            c->nl++;
            p = q + 1;
        }
        off += (uint64_t)r;
    }
}

/* The data rows of a plain CSV file: its line feeds, one more when the
 * last line has none, less the header; the file's parts counted on
 * `threads` threads (they allocate nothing). A blank line or a line break
 * in quotes makes it wrong; the reader then finds another count and the
 * ingest is done again with the schema pass (hamf__csv_stream_rounds_hint).
 * A memchr scan is some 20 times faster than the schema pass's parse. */
static bool count_rows(const char *path, int threads, size_t *rows)
{
    enum { MAXPART = 8 };
    struct nlcount part[MAXPART];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat sb;
    char last = '\n';
    size_t np = (size_t)(threads > 0 ? threads : hamf__ncpu());
    np = np > MAXPART ? MAXPART : np;
    char *bufs = NULL;
    bool ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 &&
              pread(fd, &last, 1, sb.st_size - 1) == 1 && (bufs = hamf__malloc(np * CHUNK)) != NULL;
    if (ok) {
        uint64_t size = (uint64_t)sb.st_size;
        np = size < np * (uint64_t)CHUNK ? 1 : np; /* small files: one part */
        for (size_t i = 0; i < np; i++)
            part[i] = (struct nlcount){.fd = fd, .lo = size * i / np, .hi = size * (i + 1) / np, .buf = bufs + i * CHUNK};
        hamf__run_parallel(np, count_task, part);
        size_t nl = 0;
        for (size_t i = 0; i < np; i++) {
            ok = ok && part[i].ok;
            nl += part[i].nl;
        }
        *rows = nl + (last != '\n') - 1;
    }
    hamf__free(bufs);
    close(fd);
    return ok;
}

/* One ingest: with hint (redo non-NULL), round 0 also finds the schema;
 * *redo says its result is not to be used. */
static hamf_status ingest(const char *path, const hamf_csv_train_options *o, size_t hint, bool *redo,
                          hamf_dataset **train, hamf_dataset **test)
{
    struct ing g;
    memset(&g, 0, sizeof g);
    g.path = path;
    g.o = o;
    g.max_bins = o->max_bins < 2 || o->max_bins > 255 ? 255 : o->max_bins;
    hamf_status st = HAMF_OK;
    if (o->pipeline && (st = hamf_pipeline_parse(o->pipeline, "model pipeline", &g.pl))) goto cleanup;
    /* the numeric feature tasks of a block on o->threads; they allocate
     * nothing (see struct scratch) */
    if ((st = hamf__pool_new(o->threads, &g.pool))) goto cleanup;
    g.nscr = hamf__pool_size(g.pool);
    if (!(g.scr = hamf__calloc((size_t)g.nscr, sizeof *g.scr))) {
        st = hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
        goto cleanup;
    }
    hamf_csv_options co;
    hamf_csv_options_init(&co);
    co.threads = o->threads > 0 ? o->threads : 0;
    size_t bb = o->block_bytes ? o->block_bytes : 4u << 20;
    if (redo) st = hamf__csv_stream_rounds_hint(path, &co, bb, 1, hint, on_round, on_block, &g, redo);
    else st = hamf__csv_stream_rounds(path, &co, bb, 1, on_round, on_block, &g);
    if (st || (redo && *redo) || (st = finish(&g))) goto cleanup;
    hamf_dataset *tr = NULL, *te = NULL;
    if ((st = hamf__dataset_binned(g.ntr, &g.bins, g.max_bins, g.ctr, g.ytr, o->target, &tr))) goto cleanup;
    g.ctr = NULL;
    g.ytr = NULL;
    if (test) {
        if ((st = hamf__dataset_binned(g.nte, &g.bins, g.max_bins, g.cte, g.yte, o->target, &te))) {
            hamf_dataset_free(tr);
            goto cleanup;
        }
        g.cte = NULL;
        g.yte = NULL;
        *test = te;
    }
    *train = tr;
cleanup:
    ing_free(&g);
    hamf__alloc_release(); /* the blocks' frames and buffers are gone: their pages too */
    return st;
}

hamf_status hamf_dataset_read_csv_binned(const char *path, const hamf_csv_train_options *o, hamf_dataset **train,
                                         hamf_dataset **test)
{
    if (!path || !o || !o->target || !train || (o->test_size > 0 && !test))
        return hamf__err(HAMF_ERR_MISUSE, "train: NULL argument");
    if (!(o->test_size >= 0 && o->test_size < 1))
        return hamf__err(HAMF_ERR_CONSTRAINT, "split: test size must be in [0, 1), got %g", o->test_size);
    /* the file parsed once, not three times, when the row count and the
     * first block's column types hold for the whole file (else as before) */
    size_t hint;
    if (count_rows(path, o->threads, &hint)) {
        bool redo = false;
        hamf_status st = ingest(path, o, hint, &redo, train, test);
        if (!redo) return st;
    }
    return ingest(path, o, 0, NULL, train, test);
}
