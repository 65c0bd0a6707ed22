/*
 * test_ml_stream.c — hamf_dataset_read_csv_binned (the streamed, pre-binned
 * training data) against the in-memory path (hamf_csv_read + pipeline +
 * hamf_dataset_from_frame + split + subset): the same model file bytes for
 * GB and RF, the same test predictions and SHAP importances, on a file read
 * in many small blocks with a binning sample step > 1, missing values, a
 * categorical column with more than 255 categories and a pipeline that
 * makes a string column. Plus the errors.
 */
#include "t.h"
#include "ml/ml.h"

#include <stdlib.h>
#include <unistd.h>

static char dir[64], csv[128];
static const char *PIPE = "with ratio = d / (a + 1)\n"
                          "with band = CASE WHEN few = 'a' THEN 'hi' ELSE 'lo' END\n"
                          "drop e\n";

/* What write_csv puts in besides (the streamed reader counts the rows and
 * takes the first block's types on trust, and checks both): */
enum {
    PLAIN,
    LATE_DOUBLE, /* 'a' is an integer column until row 150,000 */
    BLANK_LINE,  /* a blank line after row 1,000: one row fewer than lines */
    QUOTED_NL,   /* a line break in a quoted field at row 2,000 */
    NO_LAST_NL,  /* no line feed after the last row */
    WIDE_VALUES, /* 'a' and 'd' held in other widths from block to block */
    /* after the first block the reader checks the shape only and leaves the
     * values of a typed column to the parse (a value of another kind fails
     * it: the reader starts over): */
    LATE_NULL,   /* 'a' has its first (and only) missing value at row 150,000 */
    EMPTY_START, /* 'a' is empty in the first 120,000 rows (no type yet) */
    LATE_INT     /* 'flag' (true/false) holds a 1 at row 150,000: text */
};
static int variant = PLAIN;

/* 260,000 rows: 208,000 training rows, so the binning sample takes every
 * second one (hamf__bin_sample_step). */
static int write_csv(size_t n)
{
    FILE *f = fopen(csv, "w");
    if (!f) return -1;
    fprintf(f, "a,d,many,few,flag,e,w,label\n");
    uint64_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        uint32_t r = (uint32_t)(s >> 33);
        int a = (int)(r % 97);
        double d = (double)(r % 100003) / 7.0 - 3000;
        unsigned many = (r >> 7) & 1 ? (r >> 9) % 20 : (r >> 12) % 400; /* skewed, 400 values */
        const char *few = (r >> 3) % 3 == 0 ? "a" : (r >> 3) % 3 == 1 ? "b" : "";
        int label = ((a > 40) ^ (d > 1000) ^ (many % 3 == 0)) ^ ((r >> 20) % 50 == 0);
        if (variant == WIDE_VALUES && i > 100000) {
            a = i < 180000 ? (int)(r % 60000) - 30000 : (int)(r % 3000000) - 1500000;
            d = i < 200000 ? (double)(r % 1000) / 4 : d;
        }
        if (variant == LATE_NULL ? i == 150000 : variant == EMPTY_START ? i < 120000 : i % 101 == 7) fprintf(f, ",");
        else if (variant == LATE_DOUBLE && i == 150000) fprintf(f, "%d.5,", a);
        else fprintf(f, "%d,", a);
        if (i % 89 == 3) fprintf(f, ",");
        else fprintf(f, "%.6g,", d);
        if (variant == QUOTED_NL && i == 2000) fprintf(f, "\"cat\n%u\",", many);
        else fprintf(f, "\"cat %u\",", many);
        /* w: whole numbers, never missing; in WIDE_VALUES 8, 16, 32 and
         * over 32 bits wide from block to block */
        long long w = (long long)(r % 200) - 100;
        if (variant == WIDE_VALUES && i > 60000)
            w = i < 120000 ? (long long)(r % 60000) - 30000 : i < 200000 ? (long long)(r % 3000000) - 1500000
                                                                          : (long long)r * 3 - 5000000000LL;
        fprintf(f, "%s,%s,%u,%lld,%s", few, variant == LATE_INT && i == 150000 ? "1" : (r >> 11) & 1 ? "true" : "false",
                r % 13, w, label ? "yes" : "no");
        if (variant != NO_LAST_NL || i + 1 < n) fputc('\n', f);
        if (variant == BLANK_LINE && i == 1000) fputc('\n', f);
    }
    return fclose(f);
}

static char *model_bytes(const hamf_ensemble *m, size_t *len)
{
    char path[160];
    snprintf(path, sizeof path, "%s/m.hamf", dir);
    if (hamf_ensemble_save(m, path)) return NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    unlink(path);
    *len = (size_t)n;
    return b;
}

/* The in-memory path of `hamf train` before streaming. */
static hamf_status memory_path(double test_size, hamf_dataset **tr, hamf_dataset **te)
{
    hamf_frame *f = NULL;
    hamf_pipeline *pl = NULL;
    hamf_dataset *all = NULL;
    size_t *itr = NULL, *ite = NULL, ntr = 0, nte = 0;
    hamf_status st = hamf_csv_read(csv, NULL, &f);
    if (!st) st = hamf_pipeline_parse(PIPE, "t", &pl);
    if (!st) st = hamf_pipeline_apply(pl, f);
    if (!st) st = hamf_dataset_from_frame(f, "label", &all);
    if (!st && test_size == 0) {
        *tr = all;
        all = NULL;
        *te = NULL;
    } else if (!st) {
        st = hamf_split_train_test(hamf_dataset_nrows(all), test_size, 42, NULL, &itr, &ntr, &ite, &nte);
        if (!st) st = hamf_dataset_subset(all, itr, ntr, tr);
        if (!st) st = hamf_dataset_subset(all, ite, nte, te);
    }
    hamf_free_indices(itr);
    hamf_free_indices(ite);
    hamf_dataset_free(all);
    hamf_pipeline_free(pl);
    hamf_frame_free(f);
    return st;
}

static void same_fit(hamf_algorithm algo, int threads, double test_size)
{
    hamf_dataset *atr = NULL, *ate = NULL, *btr = NULL, *bte = NULL;
    hamf_ensemble *ma = NULL, *mb = NULL;
    char *ba = NULL, *bb = NULL;
    double *pa = NULL, *pb = NULL, ia[16], ib[16];
    hamf_train_params p;
    hamf_train_params_init(&p, algo);
    p.n_estimators = 4;
    p.max_depth = algo == HAMF_ALGO_RANDOM_FOREST ? 8 : 4;
    p.threads = threads;
    hamf_csv_train_options o;
    hamf_csv_train_options_init(&o);
    o.target = "label";
    o.pipeline = PIPE;
    o.test_size = test_size;
    o.block_bytes = 200000; /* ~50 blocks */
    o.threads = threads;
    T_OK(memory_path(test_size, &atr, &ate));
    T_OK(hamf_dataset_read_csv_binned(csv, &o, &btr, test_size > 0 ? &bte : NULL));
    T_EQ_INT(hamf_dataset_nrows(btr), hamf_dataset_nrows(atr));
    T_EQ_INT(hamf_dataset_ncols(btr), hamf_dataset_ncols(atr));
    T_TRUE(memcmp(hamf_dataset_label(btr), hamf_dataset_label(atr), hamf_dataset_nrows(atr) * sizeof(double)) == 0);
    T_OK(hamf_ensemble_fit(atr, &p, &ma));
    T_OK(hamf_ensemble_fit(btr, &p, &mb));
    size_t la = 0, lb = 0;
    ba = model_bytes(ma, &la);
    bb = model_bytes(mb, &lb);
    if (!ba || !bb) { T_TRUE(ba && bb); goto out; }
    if (la != lb || memcmp(ba, bb, la)) {
        free(ba); free(bb);
        hamf_ensemble_free(ma); hamf_ensemble_free(mb);
        hamf_dataset_free(atr); hamf_dataset_free(ate); hamf_dataset_free(btr); hamf_dataset_free(bte);
        T_FAILF("model files differ (%zu vs %zu bytes), algorithm %d, %d threads", la, lb, (int)algo, threads);
    }
    if (test_size > 0) {
        size_t n = hamf_dataset_nrows(ate);
        T_EQ_INT(hamf_dataset_nrows(bte), n);
        T_TRUE(memcmp(hamf_dataset_label(bte), hamf_dataset_label(ate), n * sizeof(double)) == 0);
        pa = malloc((n + 1) * sizeof *pa);
        pb = malloc((n + 1) * sizeof *pb);
        T_TRUE(pa && pb);
        T_OK(hamf_ensemble_predict(ma, ate, threads, pa));
        T_OK(hamf_ensemble_predict(mb, bte, threads, pb));
        T_TRUE(memcmp(pa, pb, n * sizeof *pa) == 0);
        /* a subset of a binned dataset (as `hamf train` takes for the
         * run's SHAP importances) gives the same predictions and SHAP */
        size_t rows[500];
        for (size_t k = 0; k < 500; k++) rows[k] = (k * 7919) % n;
        hamf_dataset *sa = NULL, *sb = NULL;
        T_OK(hamf_dataset_subset(ate, rows, 500, &sa));
        T_OK(hamf_dataset_subset(bte, rows, 500, &sb));
        T_OK(hamf_ensemble_predict(ma, sa, 1, pa));
        T_OK(hamf_ensemble_predict(mb, sb, 1, pb));
        bool same = memcmp(pa, pb, 500 * sizeof *pa) == 0;
        bool shap = hamf_ensemble_nfeatures(ma) < 16 && !hamf_ensemble_shap_importance(ma, sa, threads, ia) &&
                    !hamf_ensemble_shap_importance(mb, sb, threads, ib) &&
                    memcmp(ia, ib, hamf_ensemble_nfeatures(ma) * sizeof *ia) == 0;
        hamf_dataset_free(sa);
        hamf_dataset_free(sb);
        T_TRUE(same);
        T_TRUE(shap);
    }
out:
    free(ba);
    free(bb);
    free(pa);
    free(pb);
    hamf_ensemble_free(ma);
    hamf_ensemble_free(mb);
    hamf_dataset_free(atr);
    hamf_dataset_free(ate);
    hamf_dataset_free(btr);
    hamf_dataset_free(bte);
}

static void test_gb_same_model(void) { same_fit(HAMF_ALGO_GRADIENT_BOOSTING, 2, 0.2); }
static void test_gb_same_model_1thread(void) { same_fit(HAMF_ALGO_GRADIENT_BOOSTING, 1, 0.25); }
static void test_rf_same_model(void) { same_fit(HAMF_ALGO_RANDOM_FOREST, 2, 0.2); }
static void test_no_split_same_model(void) { same_fit(HAMF_ALGO_GRADIENT_BOOSTING, 2, 0); }

/* Files where the row count from the line feeds or the first block's
 * column types are wrong (the reader starts over with its schema pass), or
 * right in a way worth a look: the same model as the in-memory path. */
static void test_unusual_files(void)
{
    static const int vs[] = {LATE_DOUBLE, BLANK_LINE, QUOTED_NL, NO_LAST_NL, WIDE_VALUES, LATE_NULL, EMPTY_START, LATE_INT};
    for (size_t k = 0; k < sizeof vs / sizeof *vs; k++) {
        variant = vs[k];
        T_TRUE(write_csv(260000) == 0);
        same_fit(HAMF_ALGO_GRADIENT_BOOSTING, 2, 0.2);
    }
    variant = PLAIN;
    T_TRUE(write_csv(260000) == 0);
}

/* The binning really is what hamf__binmap_build does on the training rows
 * (a categorical column with > 255 categories bins by frequency). */
static void test_bins_match(void)
{
    hamf_dataset *atr = NULL, *ate = NULL, *btr = NULL, *bte = NULL;
    hamf_csv_train_options o;
    hamf_csv_train_options_init(&o);
    o.target = "label";
    o.pipeline = PIPE;
    o.block_bytes = 100000;
    T_OK(memory_path(0.2, &atr, &ate));
    T_OK(hamf_dataset_read_csv_binned(csv, &o, &btr, &bte));
    struct hamf__binmap m = {0};
    T_OK(hamf__binmap_build(atr, 255, NULL, &m));
    bool same = hamf__binmap_same(&m, btr->binned);
    size_t many = 0;
    for (size_t f = 0; f < m.nf; f++)
        if (!strcmp(m.f[f].name, "many")) many = f;
    T_EQ_INT(m.f[many].ncat, 400);
    T_EQ_INT(m.f[many].nbins, 256);
    uint8_t *codes = NULL;
    T_OK(hamf__binmap_apply(&m, atr, NULL, NULL, &codes));
    bool codes_same = memcmp(codes, btr->bcodes, m.nf * atr->n) == 0;
    free(codes);
    hamf__binmap_clear(&m);
    hamf_dataset_free(atr);
    hamf_dataset_free(ate);
    hamf_dataset_free(btr);
    hamf_dataset_free(bte);
    T_TRUE(same);
    T_TRUE(codes_same);
}

static void test_errors(void)
{
    hamf_dataset *tr = NULL, *te = NULL;
    hamf_ensemble *m = NULL;
    hamf_csv_train_options o;
    hamf_csv_train_options_init(&o);
    o.target = "nope";
    T_STATUS(hamf_dataset_read_csv_binned(csv, &o, &tr, &te), HAMF_ERR_SCHEMA);
    T_TRUE(strstr(hamf_last_error(), "no target column 'nope'") != NULL);
    o.target = "few"; /* 'a', 'b' and empty: not a binary label */
    T_STATUS(hamf_dataset_read_csv_binned(csv, &o, &tr, &te), HAMF_ERR_SCHEMA);
    T_TRUE(strstr(hamf_last_error(), "data row 1 (CSV line 2)") != NULL);
    o.target = "label";
    o.pipeline = "with x = nosuchcol + 1\n";
    T_STATUS(hamf_dataset_read_csv_binned(csv, &o, &tr, &te), HAMF_ERR_NOTFOUND);
    o.pipeline = NULL;
    T_STATUS(hamf_dataset_read_csv_binned("/nonexistent/x.csv", &o, &tr, &te), HAMF_ERR_NOTFOUND);
    o.test_size = 1.5;
    T_STATUS(hamf_dataset_read_csv_binned(csv, &o, &tr, &te), HAMF_ERR_CONSTRAINT);
    o.test_size = 0.2;
    o.max_bins = 64;
    T_OK(hamf_dataset_read_csv_binned(csv, &o, &tr, &te));
    /* a pre-binned dataset takes no columns and fits only with its bins */
    double v = 1;
    T_STATUS(hamf_dataset_add_numeric(tr, "x", &v), HAMF_ERR_MISUSE);
    hamf_train_params p;
    hamf_train_params_init(&p, HAMF_ALGO_GRADIENT_BOOSTING);
    p.n_estimators = 2;
    T_STATUS(hamf_ensemble_fit(tr, &p, &m), HAMF_ERR_CONSTRAINT);
    T_TRUE(strstr(hamf_last_error(), "64 value bins") != NULL);
    p.max_bins = 64;
    T_OK(hamf_ensemble_fit(tr, &p, &m));
    /* codes made with other bins than a model's are refused, not misread */
    hamf_dataset *tr2 = NULL, *te2 = NULL;
    o.max_bins = 32;
    T_OK(hamf_dataset_read_csv_binned(csv, &o, &tr2, &te2));
    double *pr = malloc((hamf_dataset_nrows(te2) + 1) * sizeof *pr);
    hamf_status st = hamf_ensemble_predict(m, te2, 1, pr);
    free(pr);
    hamf_ensemble_free(m);
    hamf_dataset_free(tr);
    hamf_dataset_free(te);
    hamf_dataset_free(tr2);
    hamf_dataset_free(te2);
    T_EQ_INT(st, HAMF_ERR_SCHEMA);
}

static void test_tiny_files(void)
{
    char p[160];
    snprintf(p, sizeof p, "%s/tiny.csv", dir);
    FILE *f = fopen(p, "w");
    T_TRUE(f != NULL);
    fputs("a,label\n1,1\n", f);
    fclose(f);
    hamf_dataset *tr = NULL, *te = NULL;
    hamf_csv_train_options o;
    hamf_csv_train_options_init(&o);
    o.target = "label";
    T_STATUS(hamf_dataset_read_csv_binned(p, &o, &tr, &te), HAMF_ERR_CONSTRAINT);
    T_TRUE(strstr(hamf_last_error(), "has 1 data rows; need at least 2 to split") != NULL);
    o.test_size = 0;
    T_OK(hamf_dataset_read_csv_binned(p, &o, &tr, NULL));
    T_EQ_INT(hamf_dataset_nrows(tr), 1);
    hamf_dataset_free(tr);
    unlink(p);
}

/* Random small files read in blocks of a few KiB (so a column's kinds and
 * nulls change between blocks at random places): the streamed read gives
 * the in-memory path's labels, bins and codes (or the same error). Columns
 * of whole numbers, decimals, true/false, text, quoted text with commas,
 * empty cells (some, or all), and each may turn to another kind from some
 * row on. */
static void random_cell(uint64_t *s, int kind, char *out, size_t cap)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    uint32_t r = (uint32_t)(*s >> 33);
    if (kind == 6 || r % 23 == 0) { out[0] = 0; return; } /* missing */
    switch (kind) {
    case 0: snprintf(out, cap, "%d", (int)(r % 400) - 200); break;
    case 1: snprintf(out, cap, "%lld", (long long)(r % 100000) * 100003 - 3000000000LL); break;
    case 2: snprintf(out, cap, "%.4f", (double)(r % 100000) / 37.0 - 900); break;
    case 3: snprintf(out, cap, "%s", r & 1 ? "true" : "false"); break;
    case 4: snprintf(out, cap, "t%u", r % 40); break;
    default: snprintf(out, cap, "\"q %u, \"\"x\"\"\"", r % 7); break;
    }
}

static void test_random_files(void)
{
    char p[160];
    snprintf(p, sizeof p, "%s/r.csv", dir);
    uint64_t s = 99;
    for (int it = 0; it < 60; it++) {
        enum { NC = 5, ROWS = 1500 };
        int kind[NC], later[NC];
        size_t from[NC];
        FILE *f = fopen(p, "w");
        T_TRUE(f != NULL);
        for (int c = 0; c < NC; c++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            uint32_t r = (uint32_t)(s >> 33);
            kind[c] = (int)(r % 7);
            later[c] = (int)((r >> 8) % 6);
            from[c] = (r >> 16) % 3 == 0 ? (r >> 4) % ROWS : ROWS; /* a third turn kind somewhere */
            fprintf(f, "c%d,", c);
        }
        fprintf(f, "label\n");
        for (size_t i = 0; i < ROWS; i++) {
            char cell[64];
            for (int c = 0; c < NC; c++) {
                random_cell(&s, i >= from[c] ? later[c] : kind[c], cell, sizeof cell);
                fprintf(f, "%s,", cell);
            }
            fprintf(f, "%d\n", (int)((s >> 40) & 1));
        }
        fclose(f);
        /* the in-memory path */
        hamf_frame *fr = NULL;
        hamf_dataset *all = NULL, *atr = NULL, *btr = NULL, *bte = NULL;
        size_t *itr = NULL, *ite = NULL, ntr = 0, nte = 0;
        hamf_status sa = hamf_csv_read(p, NULL, &fr);
        if (!sa) sa = hamf_dataset_from_frame(fr, "label", &all);
        if (!sa) sa = hamf_split_train_test(hamf_dataset_nrows(all), 0.2, 42, NULL, &itr, &ntr, &ite, &nte);
        if (!sa) sa = hamf_dataset_subset(all, itr, ntr, &atr);
        hamf_csv_train_options o;
        hamf_csv_train_options_init(&o);
        o.target = "label";
        o.block_bytes = 2048 + (size_t)it * 97; /* 10-20 blocks */
        hamf_status sb = hamf_dataset_read_csv_binned(p, &o, &btr, &bte);
        bool same = sa == sb;
        if (same && !sa) {
            struct hamf__binmap m = {0};
            uint8_t *codes = NULL;
            same = hamf__binmap_build(atr, 255, NULL, &m) == HAMF_OK && hamf__binmap_same(&m, btr->binned) &&
                   hamf__binmap_apply(&m, atr, NULL, NULL, &codes) == HAMF_OK &&
                   hamf_dataset_nrows(btr) == ntr &&
                   memcmp(codes, btr->bcodes, m.nf * ntr) == 0 &&
                   memcmp(hamf_dataset_label(btr), hamf_dataset_label(atr), ntr * sizeof(double)) == 0;
            free(codes);
            hamf__binmap_clear(&m);
        }
        hamf_free_indices(itr);
        hamf_free_indices(ite);
        hamf_dataset_free(all);
        hamf_dataset_free(atr);
        hamf_dataset_free(btr);
        hamf_dataset_free(bte);
        hamf_frame_free(fr);
        if (!same) {
            unlink(p);
            T_FAILF("file %d: the streamed read differs (status %d vs %d; kinds %d>%d@%zu %d>%d@%zu %d>%d@%zu ...)", it,
                    (int)sa, (int)sb, kind[0], later[0], from[0], kind[1], later[1], from[1], kind[2], later[2], from[2]);
        }
    }
    unlink(p);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/hamf-stream-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    snprintf(csv, sizeof csv, "%s/d.csv", dir);
    if (write_csv(260000)) return 1;
    T_RUN(test_gb_same_model);
    T_RUN(test_gb_same_model_1thread);
    T_RUN(test_rf_same_model);
    T_RUN(test_no_split_same_model);
    T_RUN(test_bins_match);
    T_RUN(test_errors);
    T_RUN(test_tiny_files);
    T_RUN(test_unusual_files);
    T_RUN(test_random_files);
    unlink(csv);
    rmdir(dir);
    return T_DONE();
}
