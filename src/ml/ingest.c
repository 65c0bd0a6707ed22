/*
 * ingest.c — hamf_dataset_read_csv_binned: training data straight from a
 * CSV into u8 bin codes, without a column of doubles for every value.
 *
 * The CSV reader's schema pass counts the rows, so the (unstratified)
 * train/test split is known before the first block. Then two rounds over
 * the file's blocks (each block through the pipeline, as the in-memory path
 * applies it to the whole frame):
 *   round 0  labels; the categorical dictionaries (merged block by block in
 *            block order: the whole-file dictionary order) with counts over
 *            the training rows; per numeric column the same deterministic
 *            sample hamf__binmap_build takes (every step-th training row);
 *            the mixed-type check of the raw columns
 *   round 1  every value binned with those bins into the training or the
 *            test part's codes (column-major).
 * The bins, the split and so the models are the same as reading the whole
 * file into a frame and calling hamf_dataset_from_frame, subset and fit.
 */
#include "ml.h"
#include "data/csv.h"
#include "data/frame.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
};

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

/* The numeric samples at their final size: every step-th of ntr training
 * rows (allocated here, not grown by the pool threads). */
static hamf_status alloc_samples(struct ing *g)
{
    size_t cap = (g->ntr + g->step - 1) / g->step + 1;
    for (size_t fi = 0; fi < g->nf; fi++) {
        struct icol *ic = &g->c[fi];
        if (ic->is_cat || ic->samp) continue;
        if (!(ic->samp = hamf__malloc(cap * sizeof *ic->samp))) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
        ic->scap = cap;
    }
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
        if (is_test(g, g->row0 + i)) g->yte[b++] = y[i];
        else g->ytr[a++] = y[i];
    }
    return HAMF_OK;
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
        return HAMF_OK;
    }
    if (x->cap < n + 1) return HAMF_ERR_INTERNAL;
    if ((st = hamf_frame_get_f64(f, k, x->buf))) return st;
    size_t r = g->tr_at;
    for (size_t i = 0; i < n; i++) {
        if (is_test(g, g->row0 + i)) continue;
        if (r++ % g->step || isnan(x->buf[i])) continue;
        if (ic->ns == ic->scap) return HAMF_ERR_IO; /* more training rows than counted */
        ic->samp[ic->ns++] = x->buf[i];
    }
    return HAMF_OK;
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

/* Round 1 for one feature column of the block: bin codes. */
static hamf_status bin_col(struct ing *g, struct scratch *x, const hamf_frame *f, size_t fi)
{
    struct icol *ic = &g->c[fi];
    const struct hamf__feat *ft = &g->bins.f[fi];
    size_t k = g->fcol[fi], n = hamf_frame_nrows(f);
    uint8_t *otr = g->ctr + fi * g->ntr, *ote = g->cte + fi * g->nte;
    size_t a = g->tr_at, b = g->te_at;
    hamf_status st;
    if (ic->is_cat) {
        size_t nd = hamf_frame_dict_size(f, k);
        if ((st = need_remap(x, nd))) return st;
        size_t before = ic->dict->n;
        for (size_t j = 0; j < nd; j++) {
            const char *s = hamf_frame_dict_value(f, k, j);
            if ((st = hamf__dict_intern(ic->dict, s, strlen(s), &x->remap[j]))) return st;
        }
        if (ic->dict->n != before) return HAMF_ERR_IO; /* a category round 0 did not see */
        const int32_t *codes = hamf_frame_codes(f, k);
        for (size_t i = 0; i < n; i++) {
            uint8_t v = codes[i] >= 0 ? ft->cat_bin[x->remap[codes[i]]] : 0;
            if (is_test(g, g->row0 + i)) ote[b++] = v;
            else otr[a++] = v;
        }
        return HAMF_OK;
    }
    if (x->cap < n + 1) return HAMF_ERR_INTERNAL;
    if ((st = hamf_frame_get_f64(f, k, x->buf))) return st;
    uint8_t *v = (uint8_t *)x->remap; /* n + 1 int32s: room for n codes */
    if (x->rcap < n + 1) return HAMF_ERR_INTERNAL;
    bin_values(ft, x->buf, n, v);
    if (!g->test_bits) {
        memcpy(otr + a, v, n);
        return HAMF_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (is_test(g, g->row0 + i)) ote[b++] = v[i];
        else otr[a++] = v[i];
    }
    return HAMF_OK;
}

static void feat_task(void *ctx, size_t task, int tid)
{
    struct ing *g = ctx;
    struct scratch *x = &g->scr[tid];
    size_t fi = g->numf[task];
    g->fst[fi] = g->round == 0 ? collect(g, x, g->cur, fi) : bin_col(g, x, g->cur, fi);
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

static hamf_status on_block(hamf_frame *f, void *user)
{
    struct ing *g = user;
    hamf_status st = HAMF_OK;
    size_t n = hamf_frame_nrows(f);
    if (g->round == 0 && (st = mixed_block(g, f))) goto done;
    if (g->pl && (st = hamf_pipeline_apply(g->pl, f))) goto done;
    if ((st = schema(g, f))) goto done;
    if (g->round == 0 && g->row0 == 0 && (st = alloc_samples(g))) goto done;
    if (g->row0 + n > g->n) { st = hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", g->path); goto done; }
    if (g->round == 0 && (st = labels(g, f))) goto done;
    if ((st = need_bufs(g, n))) goto done;
    /* categorical features here: interning allocates (see struct scratch) */
    for (size_t fi = 0; fi < g->nf; fi++)
        if (g->c[fi].is_cat) g->fst[fi] = g->round == 0 ? collect(g, &g->scr[0], f, fi) : bin_col(g, &g->scr[0], f, fi);
    if (!g->numf) {
        g->numf = hamf__calloc(g->nf + 1, sizeof *g->numf);
        if (!g->numf) { st = hamf__err(HAMF_ERR_NOMEM, "train: out of memory"); goto done; }
        for (size_t fi = 0; fi < g->nf; fi++)
            if (!g->c[fi].is_cat) g->numf[g->nnum++] = fi;
    }
    g->cur = f;
    hamf__pool_run(g->pool, g->nnum, feat_task, g);
    g->cur = NULL;
    for (size_t fi = 0; fi < g->nf; fi++) {
        if (g->fst[fi] == HAMF_OK) continue;
        if (g->fst[fi] == HAMF_ERR_IO) st = hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", g->path);
        else if (g->fst[fi] == HAMF_ERR_INTERNAL) st = hamf__err(HAMF_ERR_INTERNAL, "train: scratch too small for '%s'", g->c[fi].name);
        else st = hamf__err(g->fst[fi], "train: out of memory reading '%s' of %s", g->c[fi].name, g->path);
        goto done;
    }
    size_t nte = 0;
    if (g->test_bits)
        for (size_t i = 0; i < n; i++) nte += is_test(g, g->row0 + i);
    g->te_at += nte;
    g->tr_at += n - nte;
    g->row0 += n;
done:
    hamf_frame_free(f);
    return st;
}

static hamf_status build_bins(struct ing *g)
{
    g->bins.f = hamf__calloc(g->nf + 1, sizeof *g->bins.f);
    if (!g->bins.f) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
    g->bins.nf = g->nf;
    for (size_t fi = 0; fi < g->nf; fi++) {
        struct icol *ic = &g->c[fi];
        struct hamf__feat *ft = &g->bins.f[fi];
        ft->is_cat = ic->is_cat;
        if (!(ft->name = hamf__strdup(ic->name))) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
        hamf_status st;
        if (ic->is_cat) {
            size_t *cnt = ic->count;
            size_t one = 0;
            st = hamf__bin_categories((const char *const *)ic->dict->str, NULL, ic->dict->n, cnt ? cnt : &one, ft);
        } else {
            double *s = ic->samp ? ic->samp : hamf__malloc(sizeof *s);
            if (!s) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
            ic->samp = NULL;
            st = hamf__bin_numeric_sample(s, ic->ns, g->max_bins, ft);
        }
        if (st) return hamf__err(st, "bin: out of memory binning '%s'", ic->name);
    }
    return HAMF_OK;
}

static hamf_status on_round(int round, size_t nrows, void *user)
{
    struct ing *g = user;
    hamf_status st;
    g->round = round;
    if (round > 0 && (g->row0 != g->n || g->tr_at != g->ntr || g->te_at != g->nte))
        return hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", g->path);
    g->row0 = g->tr_at = g->te_at = 0;
    if (round == 0) {
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
        g->ytr = hamf__malloc((g->ntr + 1) * sizeof *g->ytr);
        g->yte = hamf__malloc((g->nte + 1) * sizeof *g->yte);
        if (!g->ytr || !g->yte) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
        return HAMF_OK;
    }
    /* between the rounds: everything read once */
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
    return HAMF_OK;
}

static void ing_free(struct ing *g)
{
    hamf_pipeline_free(g->pl);
    hamf__free(g->test_bits);
    if (g->c)
        for (size_t f = 0; f < g->nf; f++) {
            hamf__free(g->c[f].name);
            hamf__dict_free(g->c[f].dict);
            hamf__free(g->c[f].count);
            hamf__free(g->c[f].samp);
        }
    hamf__free(g->c);
    hamf__free(g->fcol);
    if (g->mx)
        for (size_t c = 0; c < g->nraw; c++) hamf__free(g->mx[c].first_val);
    hamf__free(g->mx);
    if (g->raw_names)
        for (size_t c = 0; c < g->nraw; c++) hamf__free(g->raw_names[c]);
    hamf__free(g->raw_names);
    hamf__free(g->ytr);
    hamf__free(g->yte);
    hamf__binmap_clear(&g->bins);
    hamf__free(g->ctr);
    hamf__free(g->cte);
    for (int t = 0; t < g->nscr; t++) {
        hamf__free(g->scr[t].buf);
        hamf__free(g->scr[t].remap);
    }
    hamf__free(g->scr);
    hamf__free(g->fst);
    hamf__free(g->numf);
    hamf__pool_free(g->pool);
}

hamf_status hamf_dataset_read_csv_binned(const char *path, const hamf_csv_train_options *o, hamf_dataset **train,
                                         hamf_dataset **test)
{
    if (!path || !o || !o->target || !train || (o->test_size > 0 && !test))
        return hamf__err(HAMF_ERR_MISUSE, "train: NULL argument");
    if (!(o->test_size >= 0 && o->test_size < 1))
        return hamf__err(HAMF_ERR_CONSTRAINT, "split: test size must be in [0, 1), got %g", o->test_size);
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
    if ((st = hamf__csv_stream_rounds(path, &co, o->block_bytes ? o->block_bytes : 8u << 20, 2, on_round, on_block, &g)))
        goto cleanup;
    if (g.row0 != g.n || g.tr_at != g.ntr || g.te_at != g.nte) {
        st = hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", path);
        goto cleanup;
    }
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
