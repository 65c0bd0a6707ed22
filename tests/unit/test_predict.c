/*
 * test_predict.c — the compact predictor and the model file format:
 * scores equal a reference walk of the trees (shallow, deep, categorical and
 * missing bins), batch = single row = predictor API, format versions 1, 2
 * and 3 load to identical trees, version 2 is smaller, and the loader refuses
 * trailing bytes, unknown versions/flags and out-of-range fields (every
 * single-byte change of a small file gives a clean error or a valid model).
 */
#include "t.h"
#include "hamf.h"
#include "ml/ml.h"
#include "ml/predict_int.h"

#include <stdlib.h>
#include <unistd.h>

static hamf_dataset *data(size_t n, uint64_t seed)
{
    struct hamf__rng r;
    hamf__rng_seed(&r, seed, 7);
    double *x1 = malloc(n * sizeof *x1), *x2 = malloc(n * sizeof *x2), *y = malloc(n * sizeof *y);
    int32_t *c = malloc(n * sizeof *c);
    for (size_t i = 0; i < n; i++) {
        x1[i] = hamf__rng_unit(&r) * 10;
        x2[i] = hamf__rng_unit(&r) < 0.15 ? NAN : hamf__rng_unit(&r) - 0.5;
        c[i] = hamf__rng_unit(&r) < 0.05 ? -1 : (int32_t)hamf__rng_below(&r, 40);
        double z = (x1[i] - 5) * 0.5 + (isnan(x2[i]) ? 1 : x2[i] * 3) + (c[i] % 3 == 0 ? 1.5 : -0.5) +
                   (hamf__rng_unit(&r) - 0.5) * 4;
        y[i] = z > 0;
    }
    hamf_dataset *d = NULL;
    if (hamf_dataset_new(n, &d) || hamf_dataset_add_numeric(d, "x1", x1) || hamf_dataset_add_numeric(d, "x2", x2) ||
        hamf_dataset_add_categorical(d, "cat", c, 40, NULL) || hamf_dataset_set_label(d, "y", y)) {
        hamf_dataset_free(d);
        d = NULL;
    }
    free(x1); free(x2); free(y); free(c);
    return d;
}

static hamf_ensemble *fit(const hamf_dataset *d, int kind)
{
    hamf_train_params p;
    hamf_train_params_init(&p, kind == 2 ? HAMF_ALGO_RANDOM_FOREST : HAMF_ALGO_GRADIENT_BOOSTING);
    if (kind == 0) { p.n_estimators = 40; p.max_depth = 4; }        /* shallow */
    if (kind == 1) { p.n_estimators = 15; p.max_depth = 0; p.max_leaves = 64; } /* GB deeper than 8 */
    if (kind == 2) p.n_estimators = 12;                            /* RF, deep */
    if (kind == 3) { p.n_estimators = 30; p.max_depth = 3; }       /* the seed's depth */
    if (kind == 4) { p.n_estimators = 20; p.max_depth = 6; }       /* the benchmark's GB depth */
    if (kind == 5) { p.n_estimators = 10; p.max_depth = 8; }       /* the deepest vector path */
    p.threads = 2;
    hamf_ensemble *m = NULL;
    if (hamf_ensemble_fit(d, &p, &m)) return NULL;
    return m;
}

/* compact predictor == a plain walk of the trees on random codes, for
 * every vector path (AVX2, SSE2, per-row walks; each capped to what the CPU
 * has) and row counts that leave partial 16- and 32-row groups */
static void test_matches_reference_walk(void)
{
    hamf_dataset *d = data(6000, 1);
    T_TRUE(d != NULL);
    for (int run = 0; run < 18; run++) {
        int kind = run % 6, simd = 2 - run / 6;
        hamf__predict_set_simd(simd);
        hamf_ensemble *m = fit(d, kind);
        T_TRUE(m != NULL);
        const size_t n = 3001, nf = m->bins.nf;
        uint8_t *codes = malloc(n * nf);
        struct hamf__rng r;
        hamf__rng_seed(&r, 99, (uint64_t)kind);
        for (size_t f = 0; f < nf; f++)
            for (size_t i = 0; i < n; i++) codes[f * n + i] = (uint8_t)hamf__rng_below(&r, (uint64_t)m->bins.f[f].nbins);
        double *got = malloc(n * sizeof *got);
        T_OK(hamf__model_score_codes(m, codes, n, 2, got));
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t t = 0; t < m->n_trees; t++) s += hamf__tree_leaf(&m->trees[t], codes, n, i)->value;
            s = m->algorithm == HAMF_ALGO_RANDOM_FOREST ? s / (double)m->n_trees : s + m->init_score;
            bad += s != got[i];
        }
        printf("  kind %d, simd cap %d: %zu trees, %zu mismatches\n", kind, simd, m->n_trees, bad);
        T_EQ_INT(bad, 0);
        free(codes);
        free(got);
        hamf_ensemble_free(m);
    }
    hamf__predict_set_simd(2);
    hamf_dataset_free(d);
}

/* Two numeric columns and, unless ncat is 0, one categorical column of ncat
 * categories that the label depends on. */
static hamf_dataset *data_cat(size_t n, uint64_t seed, int ncat)
{
    struct hamf__rng r;
    hamf__rng_seed(&r, seed, 11);
    double *x1 = malloc(n * sizeof *x1), *x2 = malloc(n * sizeof *x2), *y = malloc(n * sizeof *y);
    int32_t *c = malloc(n * sizeof *c);
    for (size_t i = 0; i < n; i++) {
        x1[i] = hamf__rng_unit(&r) * 10;
        x2[i] = hamf__rng_unit(&r) < 0.1 ? NAN : hamf__rng_unit(&r);
        c[i] = ncat == 0 || hamf__rng_unit(&r) < 0.05 ? -1 : (int32_t)hamf__rng_below(&r, (uint64_t)ncat);
        double z = (x1[i] - 5) * 0.3 + (isnan(x2[i]) ? 0.5 : x2[i] - 0.5) + (c[i] >= 0 && c[i] % 4 == 1 ? 1.2 : -0.3) +
                   (hamf__rng_unit(&r) - 0.5) * 3;
        y[i] = z > 0;
    }
    hamf_dataset *d = NULL;
    if (hamf_dataset_new(n, &d) || hamf_dataset_add_numeric(d, "x1", x1) || hamf_dataset_add_numeric(d, "x2", x2) ||
        (ncat && hamf_dataset_add_categorical(d, "cat", c, (size_t)ncat, NULL)) || hamf_dataset_set_label(d, "y", y)) {
        hamf_dataset_free(d);
        d = NULL;
    }
    free(x1); free(x2); free(y); free(c);
    return d;
}

/* The deep walks (AVX2: lanes that take the next row from a log, when the
 * CPU has it; per-row groups otherwise) equal a plain walk of the trees to
 * the bit: forests without bitsets and with bitsets of 1, 2 and 4 words,
 * blocks around the vector walk's minimum, partial lane groups and a
 * task's 4096 rows, for the fitted model and files of versions 1, 2 and 3
 * (full and scoring-only parse). */
static void test_deep_walks(void)
{
    static const int ncats[4] = {0, 20, 40, 100};
    static const size_t sizes[] = {1, 31, 63, 64, 65, 97, 300, 4096, 4097, 9001};
    for (int run = 0; run < 8; run++) {
        const int ncat = ncats[run % 4], simd = run < 4 ? 2 : 0;
        hamf__predict_set_simd(simd);
        hamf_dataset *d = data_cat(3000, 40 + (uint64_t)run, ncat);
        T_TRUE(d != NULL);
        hamf_train_params p;
        hamf_train_params_init(&p, HAMF_ALGO_RANDOM_FOREST);
        p.n_estimators = 6;
        p.threads = 2;
        hamf_ensemble *m = NULL;
        T_OK(hamf_ensemble_fit(d, &p, &m));
        T_TRUE(m->fast && m->fast->deep);
        hamf_ensemble *v[5] = {m, NULL, NULL, NULL, NULL};
        for (unsigned ver = 1; ver <= 3; ver++) {
            struct hamf__buf b;
            T_OK(hamf__model_serialize(m, ver, &b));
            T_OK(hamf__model_parse("v", b.data, b.len, &v[ver]));
            if (ver == 3) T_OK(hamf__model_parse_scoring("v3", b.data, b.len, &v[4]));
            hamf__buf_free(&b);
        }
        const size_t nf = m->bins.nf;
        size_t bad = 0;
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
            const size_t n = sizes[si];
            uint8_t *codes = malloc(n * nf);
            double *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
            struct hamf__rng r;
            hamf__rng_seed(&r, 5 + si, (uint64_t)run);
            for (size_t f = 0; f < nf; f++)
                for (size_t i = 0; i < n; i++) codes[f * n + i] = (uint8_t)hamf__rng_below(&r, (uint64_t)m->bins.f[f].nbins);
            for (size_t i = 0; i < n; i++) {
                double s = 0;
                for (size_t t = 0; t < m->n_trees; t++) s += hamf__tree_leaf(&m->trees[t], codes, n, i)->value;
                want[i] = s / (double)m->n_trees;
            }
            for (int k = 0; k < 5; k++) {
                T_TRUE(v[k] != NULL && v[k]->fast && v[k]->fast->deep);
                T_OK(hamf__model_score_codes(v[k], codes, n, 2, got));
                for (size_t i = 0; i < n; i++) bad += memcmp(&got[i], &want[i], sizeof *got) != 0;
            }
            free(codes);
            free(want);
            free(got);
        }
        printf("  %d categories, simd cap %d (AVX2 walk %s), bitset words %u: %zu mismatches\n", ncat, simd,
               m->fast->lanes ? "on" : "off", m->fast->cw, bad);
        T_EQ_INT(bad, 0);
        for (int k = 0; k < 5; k++) hamf_ensemble_free(v[k]);
        hamf_dataset_free(d);
    }
    hamf__predict_set_simd(2);
}

static int same_trees(const hamf_ensemble *a, const hamf_ensemble *b)
{
    if (a->n_trees != b->n_trees || a->init_score != b->init_score) return 0;
    size_t tot = 0;
    for (size_t t = 0; t < a->n_trees; t++) tot += a->trees[t].n_nodes;
    if (!a->cover != !b->cover || (a->cover && memcmp(a->cover, b->cover, tot * sizeof *a->cover))) return 0;
    for (size_t t = 0; t < a->n_trees; t++) {
        const struct hamf__tree *x = &a->trees[t], *y = &b->trees[t];
        if (x->n_nodes != y->n_nodes || x->n_cats != y->n_cats) return 0;
        if (memcmp(x->cat_bits, y->cat_bits, (size_t)x->n_cats * 32)) return 0;
        for (uint32_t k = 0; k < x->n_nodes; k++) {
            const struct hamf__node *p = &x->nodes[k], *q = &y->nodes[k];
            if (p->left != q->left || p->right != q->right || p->feat != q->feat || p->thr != q->thr ||
                p->flags != q->flags || p->cat != q->cat || memcmp(&p->gain, &q->gain, 4) || memcmp(&p->value, &q->value, 8))
                return 0;
        }
    }
    return 1;
}

/* batch (threads), single row and the predictor API agree exactly */
static void test_row_batch_predictor(void)
{
    hamf_dataset *d = data(3000, 2);
    T_TRUE(d != NULL);
    const size_t n = hamf_dataset_nrows(d);
    char path[] = "/tmp/hamf-predict-XXXXXX";
    int fd = mkstemp(path);
    T_TRUE(fd >= 0);
    close(fd);
    for (int kind = 0; kind < 3; kind++) {
        hamf_ensemble *m = fit(d, kind);
        T_TRUE(m != NULL);
        double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        double *vals = malloc(n * 3 * sizeof *vals);
        const char **cats = calloc(n * 3, sizeof *cats);
        char names[40][16];
        for (int k = 0; k < 40; k++) snprintf(names[k], sizeof names[k], "%d", k);
        T_OK(hamf_ensemble_predict(m, d, 2, a));
        for (size_t i = 0; i < n; i++) {
            vals[i * 3 + 0] = d->cols[0].num[i];
            vals[i * 3 + 1] = d->cols[1].num[i];
            vals[i * 3 + 2] = NAN;
            cats[i * 3 + 2] = d->cols[2].codes[i] < 0 ? NULL : names[d->cols[2].codes[i]];
        }
        T_OK(hamf_ensemble_save(m, path));
        hamf_predictor *p;
        T_OK(hamf_predictor_open(path, &p));
        T_EQ_INT(hamf_predictor_nfeatures(p), 3);
        size_t fi;
        T_OK(hamf_predictor_feature_index(p, "cat", &fi));
        T_EQ_INT(fi, 2);
        T_STATUS(hamf_predictor_feature_index(p, "nope", &fi), HAMF_ERR_NOTFOUND);
        T_OK(hamf_predictor_score_batch(p, n, vals, cats, b));
        T_TRUE(!memcmp(a, b, n * sizeof *a));
        size_t diff = 0;
        for (size_t i = 0; i < n; i++) {
            double q, q2;
            T_OK(hamf_predictor_score_row(p, vals + i * 3, cats + i * 3, &q));
            T_OK(hamf_ensemble_predict_row(m, vals + i * 3, cats + i * 3, &q2));
            diff += q != a[i] || q2 != a[i];
        }
        T_EQ_INT(diff, 0);
        /* an unseen category and all-missing rows score like missing */
        const char *unseen[3] = {NULL, NULL, "never-seen"};
        double nanrow[3] = {NAN, NAN, NAN}, q1, q2;
        T_OK(hamf_predictor_score_row(p, nanrow, unseen, &q1));
        T_OK(hamf_predictor_score_row(p, nanrow, NULL, &q2));
        T_TRUE(q1 == q2 && q1 >= 0 && q1 <= 1);
        /* the whole model behind a lightly opened file (built on first
         * use) is the saved one, covers included */
        const hamf_ensemble *full = hamf_predictor_ensemble(p);
        T_TRUE(full != NULL && same_trees(m, full));
        T_TRUE(hamf_predictor_ensemble(p) == full);
        hamf_predictor_close(p);
        free(a); free(b); free(vals); free(cats);
        hamf_ensemble_free(m);
    }
    unlink(path);
    hamf_dataset_free(d);
}

/* versions 1, 2 and 3 hold the same model; 2 is smaller; re-saving is
 * stable; a model whose node numbering has no version 3 rule (leaf-wise
 * GB) is refused by version 3 and saved as version 2; the scoring-only
 * parse of version 3 scores like the full one */
static void test_versions(void)
{
    hamf_dataset *d = data(4000, 3);
    T_TRUE(d != NULL);
    for (int kind = 0; kind < 3; kind++) {
        hamf_ensemble *m = fit(d, kind), *m1, *m2;
        T_TRUE(m != NULL);
        struct hamf__buf b1, b2, b3;
        T_OK(hamf__model_serialize(m, 1, &b1));
        T_OK(hamf__model_serialize(m, 2, &b2));
        printf("  kind %d: version 1 %zu bytes, version 2 %zu bytes\n", kind, b1.len, b2.len);
        T_TRUE(b2.len * 2 < b1.len);
        T_OK(hamf__model_parse("v1", b1.data, b1.len, &m1));
        T_OK(hamf__model_parse("v2", b2.data, b2.len, &m2));
        T_TRUE(same_trees(m, m1));
        T_TRUE(same_trees(m, m2));
        T_TRUE(m->cover != NULL); /* the learner fills SHAP's covers; both versions keep them */
        T_OK(hamf__model_serialize(m1, 2, &b3));
        T_TRUE(b3.len == b2.len && !memcmp(b3.data, b2.data, b2.len));
        struct hamf__buf c3, c4;
        hamf_status s3 = hamf__model_serialize(m, 3, &c3);
        if (kind == 1) {
            T_STATUS(s3, HAMF_ERR_UNSUPPORTED);
        } else {
            T_OK(s3);
            hamf_ensemble *m3, *l3;
            T_OK(hamf__model_parse("v3", c3.data, c3.len, &m3));
            T_TRUE(same_trees(m, m3));
            T_OK(hamf__model_serialize(m3, 3, &c4));
            T_TRUE(c4.len == c3.len && !memcmp(c4.data, c3.data, c3.len));
            printf("  kind %d: version 3 %zu bytes\n", kind, c3.len);
            T_OK(hamf__model_parse_scoring("v3", c3.data, c3.len, &l3));
            double pa[64], pb[64], vals[64 * 3];
            const char *cats[64 * 3] = {0};
            for (int i = 0; i < 64; i++) {
                vals[i * 3] = i * 0.17;
                vals[i * 3 + 1] = i % 5 == 0 ? NAN : (i % 7) * 0.1 - 0.3;
                vals[i * 3 + 2] = NAN;
                static const char *cn[4] = {"3", "6", "11", NULL};
                cats[i * 3 + 2] = cn[i % 4];
            }
            T_OK(hamf__model_predict_rows(m3, 64, vals, cats, pa));
            T_OK(hamf__model_predict_rows(l3, 64, vals, cats, pb));
            T_TRUE(!memcmp(pa, pb, sizeof pa));
            hamf__buf_free(&c4);
            hamf_ensemble_free(m3);
            hamf_ensemble_free(l3);
            hamf__buf_free(&c3);
        }
        hamf__buf_free(&b1);
        hamf__buf_free(&b2);
        hamf__buf_free(&b3);
        hamf_ensemble_free(m);
        hamf_ensemble_free(m1);
        hamf_ensemble_free(m2);
    }
    hamf_dataset_free(d);
}

static void fix_crc(struct hamf__buf *b)
{
    /* recompute the checksum so the loader's field checks are reached */
    uint64_t plen = 0;
    for (int i = 0; i < 8; i++) plen |= (uint64_t)(uint8_t)b->data[16 + i] << (8 * i);
    if (24 + plen + 4 > b->len) return;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 24; i < 24 + plen; i++) {
        c ^= (uint8_t)b->data[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    c ^= 0xFFFFFFFFu;
    for (int i = 0; i < 4; i++) b->data[24 + plen + (size_t)i] = (char)(uint8_t)(c >> (8 * i));
}

static void test_refuses_bad_files(void)
{
    hamf_dataset *d = data(800, 4);
    T_TRUE(d != NULL);
    hamf_train_params p;
    hamf_train_params_init(&p, HAMF_ALGO_GRADIENT_BOOSTING);
    p.n_estimators = 3;
    p.max_depth = 2;
    hamf_ensemble *m, *x;
    T_OK(hamf_ensemble_fit(d, &p, &m));
    struct hamf__buf b;
    T_OK(hamf__model_serialize(m, 2, &b));
    /* trailing bytes after the checksum */
    char *pad = malloc(b.len + 1);
    memcpy(pad, b.data, b.len);
    pad[b.len] = '\n';
    T_STATUS(hamf__model_parse("pad", pad, b.len + 1, &x), HAMF_ERR_CORRUPT);
    T_TRUE(strstr(hamf_last_error(), "trailing") != NULL);
    free(pad);
    /* version 4 and unknown flags */
    b.data[8] = 4;
    T_STATUS(hamf__model_parse("v4", b.data, b.len, &x), HAMF_ERR_UNSUPPORTED);
    b.data[8] = 2;
    char f0 = b.data[12];
    b.data[12] = (char)(f0 | 2); /* bit 0 = covers; bit 1 is unknown */
    T_STATUS(hamf__model_parse("flags", b.data, b.len, &x), HAMF_ERR_UNSUPPORTED);
    b.data[12] = f0;
    /* every byte of the payload changed: a clean error or a model whose
     * scores are probabilities; a change in a tree must not go unnoticed
     * unless it only touches a gain or a value */
    size_t ok = 0, refused = 0;
    for (size_t i = 24; i + 4 < b.len; i++) {
        for (int v = 0; v < 3; v++) {
            struct hamf__buf c = {0};
            hamf__buf_init(&c, b.len);
            hamf__buf_append(&c, b.data, b.len);
            static const uint8_t delta[3] = {0xFF, 1, 0x80};
            c.data[i] = (char)((uint8_t)c.data[i] ^ delta[v]);
            fix_crc(&c);
            if (hamf__model_parse("mut", c.data, c.len, &x) == HAMF_OK) {
                double q;
                double row[3] = {1, 0.2, NAN};
                const char *cats[3] = {NULL, NULL, "3"};
                if (hamf_ensemble_predict_row(x, row, cats, &q) || !(q >= 0 && q <= 1)) refused = 1000000;
                hamf_ensemble_free(x);
                ok++;
            } else {
                refused++;
            }
            hamf__buf_free(&c);
        }
    }
    printf("  %zu mutations load, %zu refused\n", ok, refused);
    T_TRUE(refused > 1000 && ok > 0 && refused < 1000000);
    hamf__buf_free(&b);
    hamf_ensemble_free(m);
    hamf_dataset_free(d);
}

static uint32_t crc32c_bits(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

/* version 3 of a deep forest: every single-byte change (checksum fixed)
 * is refused or loads, and the scoring-only parse accepts exactly what the
 * full parse accepts (the full model is built from the same bytes later
 * and must not fail then) and scores the same; an unfixed checksum is
 * named as such */
static void test_v3_mutations(void)
{
    hamf_dataset *d = data(600, 5);
    T_TRUE(d != NULL);
    hamf_train_params p;
    hamf_train_params_init(&p, HAMF_ALGO_RANDOM_FOREST);
    p.n_estimators = 2;
    p.threads = 1;
    hamf_ensemble *m, *x, *y;
    T_OK(hamf_ensemble_fit(d, &p, &m));
    struct hamf__buf b;
    T_OK(hamf__model_serialize(m, 3, &b));
    T_TRUE((uint8_t)b.data[12] == 3); /* covers and deep */
    size_t ok = 0, refused = 0, disagree = 0;
    double vals[8 * 3];
    const char *cats[8 * 3] = {0};
    for (int i = 0; i < 8; i++) {
        vals[i * 3] = i * 1.3;
        vals[i * 3 + 1] = i % 3 ? (i % 4) * 0.2 - 0.3 : NAN;
        vals[i * 3 + 2] = NAN;
        cats[i * 3 + 2] = i % 2 ? "7" : NULL;
    }
    uint64_t plen = 0;
    for (int i = 0; i < 8; i++) plen |= (uint64_t)(uint8_t)b.data[16 + i] << (8 * i);
    for (size_t i = 8; i + 4 < b.len; i++) {
        for (int v = 0; v < 3; v++) {
            static const uint8_t delta[3] = {0xFF, 1, 0x80};
            uint8_t *c = malloc(b.len);
            memcpy(c, b.data, b.len);
            c[i] ^= delta[v];
            if (i >= 24) {
                uint32_t crc = crc32c_bits(c + 24, (size_t)plen);
                for (int k = 0; k < 4; k++) c[24 + plen + (size_t)k] = (uint8_t)(crc >> (8 * k));
            }
            hamf_status s1 = hamf__model_parse("mut", c, b.len, &x);
            hamf_status s2 = hamf__model_parse_scoring("mut", c, b.len, &y);
            if ((s1 == HAMF_OK) != (s2 == HAMF_OK)) disagree++;
            if (s1 == HAMF_OK && s2 == HAMF_OK) {
                double pa[8], pb[8];
                if (hamf__model_predict_rows(x, 8, vals, cats, pa) || hamf__model_predict_rows(y, 8, vals, cats, pb) ||
                    memcmp(pa, pb, sizeof pa))
                    disagree++;
                for (int r = 0; r < 8; r++)
                    if (!(pa[r] >= 0 && pa[r] <= 1)) disagree++;
                ok++;
            } else {
                refused++;
            }
            if (!s1) hamf_ensemble_free(x);
            if (!s2) hamf_ensemble_free(y);
            free(c);
        }
    }
    printf("  %zu mutations load, %zu refused, %zu disagreements\n", ok, refused, disagree);
    T_EQ_INT(disagree, 0);
    T_TRUE(refused > 1000 && ok > 0);
    /* a changed byte without a fixed checksum */
    b.data[b.len / 2] ^= 0x10;
    T_STATUS(hamf__model_parse_scoring("crc", b.data, b.len, &x), HAMF_ERR_CORRUPT);
    T_TRUE(strstr(hamf_last_error(), "checksum") != NULL);
    T_STATUS(hamf__model_parse("crc", b.data, b.len, &x), HAMF_ERR_CORRUPT);
    T_TRUE(strstr(hamf_last_error(), "checksum") != NULL);
    hamf__buf_free(&b);
    hamf_ensemble_free(m);
    hamf_dataset_free(d);
}

int main(void)
{
    T_RUN(test_matches_reference_walk);
    T_RUN(test_deep_walks);
    T_RUN(test_row_batch_predictor);
    T_RUN(test_versions);
    T_RUN(test_refuses_bad_files);
    T_RUN(test_v3_mutations);
    return T_DONE();
}
