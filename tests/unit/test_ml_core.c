/* test_ml_core.c — the learner on tiny hand-checkable data (a single split,
 * XOR, a categorical-only target), determinism across thread counts,
 * save -> load -> predict identity, corrupt model files, bad input, and
 * the thread pool's task sets. */
#include "t.h"
#include "ml/ml.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

static hamf_train_params gb_params(int trees, int depth, double lr)
{
    hamf_train_params p;
    hamf_train_params_init(&p, HAMF_ALGO_GRADIENT_BOOSTING);
    p.n_estimators = trees;
    p.max_depth = depth;
    p.learning_rate = lr;
    p.l2 = 0;
    p.min_child_weight = 0;
    p.threads = 1;
    return p;
}

/* The pool: when hamf__pool_run returns, every task of the set has run
 * exactly once, also when workers wake up late (a sleeping task holds one
 * thread while the others drain the set, and sets follow each other with
 * no pause, so a worker may still be waking for a set that is over). */
struct pool_t { _Atomic int *hits; size_t round; _Atomic int late; };
static void pool_task(void *vctx, size_t task, int tid)
{
    struct pool_t *c = vctx;
    if (task == 0 && c->round % 97 == 0 && tid != 0) { usleep(2000); atomic_fetch_add(&c->late, 1); }
    atomic_fetch_add(&c->hits[task], 1);
}

static void test_pool_sets(void)
{
    for (int nt = 2; nt <= 4; nt++) {
        struct hamf__pool *p = NULL;
        T_OK(hamf__pool_new(nt, &p));
        _Atomic int hits[16];
        struct pool_t c = {hits, 0, 0};
        int bad = 0;
        for (c.round = 0; c.round < 20000; c.round++) {
            size_t n = 1 + c.round % 16;
            for (size_t k = 0; k < 16; k++) atomic_store(&hits[k], 0);
            hamf__pool_run(p, n, pool_task, &c);
            for (size_t k = 0; k < 16; k++) bad += atomic_load(&hits[k]) != (k < n);
        }
        T_EQ_INT(bad, 0);
        hamf__pool_free(p);
    }
}

/* x = 0..99, y = x >= 50: one tree of depth 1 with lr 1 and no L2 must cut
 * between 49 and 50 with leaf values -G/H = -(+-0.5*50)/(0.25*50) = -+2. */
static void test_single_split(void)
{
    double x[100], y[100];
    for (int i = 0; i < 100; i++) { x[i] = i; y[i] = i >= 50; }
    hamf_dataset *d;
    T_OK(hamf_dataset_new(100, &d));
    T_OK(hamf_dataset_add_numeric(d, "x", x));
    T_OK(hamf_dataset_set_label(d, "y", y));
    hamf_train_params p = gb_params(1, 1, 1.0);
    hamf_ensemble *m;
    T_OK(hamf_ensemble_fit(d, &p, &m));
    T_EQ_INT(hamf_ensemble_ntrees(m), 1);
    T_EQ_INT(m->trees[0].n_nodes, 3);
    T_EQ_DBL(m->init_score, 0, 1e-12);
    double v, pr;
    v = 49.4;
    T_OK(hamf_ensemble_predict_row(m, &v, NULL, &pr));
    T_EQ_DBL(pr, 1 / (1 + exp(2.0)), 1e-6);
    v = 50;
    T_OK(hamf_ensemble_predict_row(m, &v, NULL, &pr));
    T_EQ_DBL(pr, 1 / (1 + exp(-2.0)), 1e-6);
    v = NAN; /* missing: the model never saw one, it goes right (documented default) */
    T_OK(hamf_ensemble_predict_row(m, &v, NULL, &pr));
    T_TRUE(pr > 0.5);
    double gain[1];
    T_OK(hamf_ensemble_importance(m, gain));
    /* gain = GL^2/HL + GR^2/HR - 0 = 25^2/12.5 * 2 = 100 */
    T_EQ_DBL(gain[0], 100, 1e-3);
    hamf_ensemble_free(m);
    hamf_dataset_free(d);
}

/* XOR of two binary features (cells of unequal size so the first greedy
 * split has a positive gain): depth 2 is exact for GB, and the forest
 * (unlimited depth) is exact too. */
static void test_xor(void)
{
    enum { N = 340 };
    double a[N], b[N], y[N];
    int k = 0, sizes[4] = {100, 90, 80, 70};
    for (int cell = 0; cell < 4; cell++)
        for (int j = 0; j < sizes[cell]; j++, k++) {
            a[k] = cell & 1;
            b[k] = cell >> 1;
            y[k] = (double)((cell & 1) ^ (cell >> 1));
        }
    hamf_dataset *d;
    T_OK(hamf_dataset_new(N, &d));
    T_OK(hamf_dataset_add_numeric(d, "a", a));
    T_OK(hamf_dataset_add_numeric(d, "b", b));
    T_OK(hamf_dataset_set_label(d, "y", y));
    for (int algo = 0; algo < 2; algo++) {
        hamf_train_params p = gb_params(20, 2, 0.5);
        if (algo) {
            hamf_train_params_init(&p, HAMF_ALGO_RANDOM_FOREST);
            p.n_estimators = 10;
            p.max_features = 1;
            p.threads = 1;
        }
        hamf_ensemble *m;
        T_OK(hamf_ensemble_fit(d, &p, &m));
        double pr[N];
        T_OK(hamf_ensemble_predict(m, d, 1, pr));
        hamf_metrics mt;
        T_OK(hamf_metrics_compute(y, pr, N, &mt));
        T_EQ_DBL(mt.accuracy, 100, 0);
        double row[2] = {1, 0};
        double q;
        T_OK(hamf_ensemble_predict_row(m, row, NULL, &q));
        T_TRUE(q > 0.9);
        row[1] = 1;
        T_OK(hamf_ensemble_predict_row(m, row, NULL, &q));
        T_TRUE(q < 0.1);
        hamf_ensemble_free(m);
    }
    hamf_dataset_free(d);
}

/* Only a categorical column; the label is 1 for categories {b, d, f}. One
 * categorical split must separate them exactly (a numeric split on codes
 * could not). Unseen categories are treated as missing. */
static void test_categorical_only(void)
{
    enum { N = 600 };
    const char *dict[] = {"a", "b", "c", "d", "e", "f"};
    int32_t codes[N];
    double y[N];
    for (int i = 0; i < N; i++) {
        codes[i] = (i * 7) % 6;
        y[i] = codes[i] == 1 || codes[i] == 3 || codes[i] == 5;
    }
    hamf_dataset *d;
    T_OK(hamf_dataset_new(N, &d));
    T_OK(hamf_dataset_add_categorical(d, "site", codes, 6, dict));
    T_OK(hamf_dataset_set_label(d, "y", y));
    hamf_train_params p = gb_params(1, 1, 1.0);
    hamf_ensemble *m;
    T_OK(hamf_ensemble_fit(d, &p, &m));
    T_EQ_INT(m->trees[0].n_nodes, 3);
    T_TRUE(m->trees[0].nodes[0].flags & HAMF_NODE_CAT);
    for (int c = 0; c < 6; c++) {
        const char *cat[1] = {dict[c]};
        double pr;
        T_OK(hamf_ensemble_predict_row(m, NULL, cat, &pr));
        if (c == 1 || c == 3 || c == 5) T_TRUE(pr > 0.5);
        else T_TRUE(pr < 0.5);
    }
    const char *unseen[1] = {"zzz"};
    double pr_unseen, pr_null;
    T_OK(hamf_ensemble_predict_row(m, NULL, unseen, &pr_unseen));
    T_OK(hamf_ensemble_predict_row(m, NULL, NULL, &pr_null));
    T_EQ_DBL(pr_unseen, pr_null, 0);
    /* a dataset with a different dictionary order is remapped by string */
    const char *dict2[] = {"f", "e", "d", "c", "b", "a", "new"};
    int32_t codes2[7] = {0, 1, 2, 3, 4, 5, 6};
    hamf_dataset *d2;
    T_OK(hamf_dataset_new(7, &d2));
    T_OK(hamf_dataset_add_categorical(d2, "site", codes2, 7, dict2));
    double pr2[7];
    T_OK(hamf_ensemble_predict(m, d2, 1, pr2));
    T_TRUE(pr2[0] > 0.5 && pr2[1] < 0.5 && pr2[2] > 0.5 && pr2[3] < 0.5 && pr2[4] > 0.5 && pr2[5] < 0.5);
    T_EQ_DBL(pr2[6], pr_null, 0);
    hamf_dataset_free(d2);
    hamf_ensemble_free(m);
    hamf_dataset_free(d);
}

/* Random data with numeric, missing and categorical columns. */
static hamf_dataset *random_data(size_t n, uint64_t seed)
{
    struct hamf__rng r;
    hamf__rng_seed(&r, seed, 1);
    double *x1 = malloc(n * sizeof *x1), *x2 = malloc(n * sizeof *x2), *x3 = malloc(n * sizeof *x3);
    double *y = malloc(n * sizeof *y);
    int32_t *c = malloc(n * sizeof *c);
    for (size_t i = 0; i < n; i++) {
        x1[i] = hamf__rng_unit(&r) * 10;
        x2[i] = hamf__rng_unit(&r) < 0.1 ? NAN : hamf__rng_unit(&r) - 0.5;
        x3[i] = (double)hamf__rng_below(&r, 5);
        c[i] = hamf__rng_unit(&r) < 0.05 ? -1 : (int32_t)hamf__rng_below(&r, 12);
        double z = (x1[i] - 5) * 0.6 + (isnan(x2[i]) ? 1 : x2[i] * 3) + (c[i] % 3 == 0 ? 1.5 : -0.5) +
                   (hamf__rng_unit(&r) - 0.5) * 3;
        y[i] = z > 0;
    }
    hamf_dataset *d = NULL;
    if (hamf_dataset_new(n, &d) || hamf_dataset_add_numeric(d, "x1", x1) || hamf_dataset_add_numeric(d, "x2", x2) ||
        hamf_dataset_add_numeric(d, "x3", x3) || hamf_dataset_add_categorical(d, "cat", c, 12, NULL) ||
        hamf_dataset_set_label(d, "y", y)) {
        hamf_dataset_free(d);
        d = NULL;
    }
    free(x1); free(x2); free(x3); free(y); free(c);
    return d;
}

static void test_threads_deterministic(void)
{
    hamf_dataset *d = random_data(40000, 3);
    T_TRUE(d != NULL);
    size_t n = hamf_dataset_nrows(d);
    double *ref = malloc(n * sizeof *ref), *got = malloc(n * sizeof *got);
    for (int algo = 0; algo < 3; algo++) {
        for (int th = 1; th <= 3; th++) {
            hamf_train_params p = gb_params(15, 4, 0.3);
            if (algo == 1) { p.max_depth = 0; p.max_leaves = 12; p.subsample = 0.7; p.colsample = 0.7; }
            if (algo == 2) {
                hamf_train_params_init(&p, HAMF_ALGO_RANDOM_FOREST);
                p.n_estimators = 6;
            }
            p.threads = th;
            hamf_ensemble *m;
            T_OK(hamf_ensemble_fit(d, &p, &m));
            T_OK(hamf_ensemble_predict(m, d, th, th == 1 ? ref : got));
            if (th > 1 && memcmp(ref, got, n * sizeof *ref)) {
                hamf_ensemble_free(m);
                free(ref); free(got); hamf_dataset_free(d);
                T_FAILF("algo %d: predictions differ between 1 and %d threads", algo, th);
            }
            hamf_metrics mt;
            T_OK(hamf_metrics_compute(hamf_dataset_label(d), th == 1 ? ref : got, n, &mt));
            T_TRUE(mt.accuracy > 80);
            hamf_ensemble_free(m);
        }
    }
    free(ref);
    free(got);
    hamf_dataset_free(d);
}

/* Many high-cardinality features: the learner's bundle histogram no longer
 * fits 16-bit offsets and it falls back to per-row 8-bit codes. Still
 * deterministic across thread counts and still learning. */
static void test_wide_features(void)
{
    const size_t n = 3000, nf = 140;
    struct hamf__rng r;
    hamf__rng_seed(&r, 7, 3);
    hamf_dataset *d;
    T_OK(hamf_dataset_new(n, &d));
    double *x = malloc(n * sizeof *x), *z = calloc(n, sizeof *z), *y = malloc(n * sizeof *y);
    char name[16];
    for (size_t f = 0; f < nf; f++) {
        for (size_t i = 0; i < n; i++) {
            x[i] = hamf__rng_unit(&r);
            if (f < 3) z[i] += (x[i] - 0.5) * (f == 1 ? -2.0 : 1.0);
        }
        snprintf(name, sizeof name, "f%zu", f);
        T_OK(hamf_dataset_add_numeric(d, name, x));
    }
    for (size_t i = 0; i < n; i++) y[i] = z[i] > 0;
    T_OK(hamf_dataset_set_label(d, "y", y));
    double *p1 = malloc(n * sizeof *p1), *p2 = malloc(n * sizeof *p2);
    for (int th = 1; th <= 2; th++) {
        hamf_train_params p = gb_params(30, 3, 0.3);
        p.threads = th;
        hamf_ensemble *m;
        T_OK(hamf_ensemble_fit(d, &p, &m));
        T_OK(hamf_ensemble_predict(m, d, 1, th == 1 ? p1 : p2));
        hamf_ensemble_free(m);
    }
    T_TRUE(memcmp(p1, p2, n * sizeof *p1) == 0);
    hamf_metrics mt;
    T_OK(hamf_metrics_compute(y, p1, n, &mt));
    T_TRUE(mt.accuracy > 85);
    free(x); free(z); free(y); free(p1); free(p2);
    hamf_dataset_free(d);
}

/* The training loss history (computed inside the tree learner's first pass
 * when GB trains on all rows) matches the log loss of the model cut at the
 * same iteration, computed independently from its predictions. */
static void test_loss_history(void)
{
    hamf_dataset *d = random_data(30000, 11);
    T_TRUE(d != NULL);
    size_t n = hamf_dataset_nrows(d);
    double *pr = malloc(n * sizeof *pr);
    hamf_train_params p = gb_params(12, 3, 0.3);
    p.threads = 2;
    hamf_ensemble *m12, *m11;
    T_OK(hamf_ensemble_fit(d, &p, &m12));
    p.n_estimators = 11;
    T_OK(hamf_ensemble_fit(d, &p, &m11));
    size_t nh;
    const double *tl, *vl;
    hamf_ensemble_loss_history(m12, &nh, &tl, &vl);
    T_EQ_INT(nh, 12);
    hamf_metrics mt;
    T_OK(hamf_ensemble_predict(m11, d, 1, pr));
    T_OK(hamf_metrics_compute(hamf_dataset_label(d), pr, n, &mt));
    T_EQ_DBL(tl[10], mt.log_loss, 1e-5 * mt.log_loss);
    T_OK(hamf_ensemble_predict(m12, d, 1, pr));
    T_OK(hamf_metrics_compute(hamf_dataset_label(d), pr, n, &mt));
    T_EQ_DBL(tl[11], mt.log_loss, 1e-9 * mt.log_loss);
    for (size_t k = 1; k < nh; k++) T_TRUE(tl[k] < tl[k - 1]);
    hamf_ensemble_free(m12);
    hamf_ensemble_free(m11);
    free(pr);
    hamf_dataset_free(d);
}

static void test_save_load_identical(void)
{
    hamf_dataset *d = random_data(5000, 9);
    T_TRUE(d != NULL);
    size_t n = hamf_dataset_nrows(d);
    char path[] = "/tmp/hamf-ml-XXXXXX";
    int fd = mkstemp(path);
    T_TRUE(fd >= 0);
    close(fd);
    for (int algo = 0; algo < 2; algo++) {
        hamf_train_params p = gb_params(30, 3, 0.1);
        p.validation_fraction = algo ? 0 : 0.2;
        if (algo) { hamf_train_params_init(&p, HAMF_ALGO_RANDOM_FOREST); p.n_estimators = 8; }
        hamf_ensemble *m, *m2;
        T_OK(hamf_ensemble_fit(d, &p, &m));
        T_OK(hamf_ensemble_set_pipeline(m, "with a = b + 1\ndrop b\n"));
        T_OK(hamf_ensemble_save(m, path));
        T_OK(hamf_ensemble_load(path, &m2));
        double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        T_OK(hamf_ensemble_predict(m, d, 2, a));
        T_OK(hamf_ensemble_predict(m2, d, 1, b));
        int same = !memcmp(a, b, n * sizeof *a);
        free(a);
        free(b);
        T_TRUE(same);
        T_EQ_STR(hamf_ensemble_pipeline(m2), "with a = b + 1\ndrop b\n");
        T_EQ_STR(hamf_ensemble_target(m2), "y");
        T_EQ_STR(hamf_ensemble_params_json(m2), hamf_ensemble_params_json(m));
        T_EQ_INT(hamf_ensemble_nfeatures(m2), 4);
        T_EQ_STR(hamf_ensemble_feature_name(m2, 3), "cat");
        T_TRUE(hamf_ensemble_feature_is_categorical(m2, 3));
        size_t h1, h2;
        const double *t1, *v1, *t2, *v2;
        hamf_ensemble_loss_history(m, &h1, &t1, &v1);
        hamf_ensemble_loss_history(m2, &h2, &t2, &v2);
        T_EQ_INT(h1, h2);
        if (!algo) {
            T_EQ_INT(h1, hamf_ensemble_ntrees(m));
            T_TRUE(t1[h1 - 1] < t1[0]);
            T_TRUE(!isnan(v1[0]));
            T_EQ_DBL(v2[h1 - 1], v1[h1 - 1], 0);
        } else {
            T_TRUE(hamf_ensemble_oob_accuracy(m2) > 70);
        }
        hamf_ensemble_free(m);
        hamf_ensemble_free(m2);
    }
    unlink(path);
    hamf_dataset_free(d);
}

static void test_corrupt_files(void)
{
    hamf_dataset *d = random_data(2000, 5);
    T_TRUE(d != NULL);
    hamf_train_params p = gb_params(5, 3, 0.1);
    hamf_ensemble *m;
    T_OK(hamf_ensemble_fit(d, &p, &m));
    char path[] = "/tmp/hamf-ml-XXXXXX";
    int fd = mkstemp(path);
    T_TRUE(fd >= 0);
    close(fd);
    T_OK(hamf_ensemble_save(m, path));
    FILE *f = fopen(path, "rb");
    T_TRUE(f != NULL);
    unsigned char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    T_TRUE(len > 100 && len < sizeof buf);
    hamf_ensemble *bad = NULL;
    /* every truncation */
    for (size_t cut = 0; cut < len; cut += (cut < 64 ? 1 : 37)) {
        f = fopen(path, "wb");
        fwrite(buf, 1, cut, f);
        fclose(f);
        hamf_status st = hamf_ensemble_load(path, &bad);
        if (st == HAMF_OK) { hamf_ensemble_free(bad); T_FAILF("truncated at %zu loaded", cut); }
    }
    /* flipped bytes: caught by the checksum */
    for (size_t pos = 0; pos < len; pos += 13) {
        buf[pos] ^= 0x5a;
        f = fopen(path, "wb");
        fwrite(buf, 1, len, f);
        fclose(f);
        buf[pos] ^= 0x5a;
        hamf_status st = hamf_ensemble_load(path, &bad);
        if (st == HAMF_OK) { hamf_ensemble_free(bad); T_FAILF("flipped byte %zu loaded", pos); }
    }
    /* a foreign file */
    f = fopen(path, "wb");
    fputs("urllength,phishing\n1,0\n", f);
    fclose(f);
    T_STATUS(hamf_ensemble_load(path, &bad), HAMF_ERR_CORRUPT);
    T_TRUE(strstr(hamf_last_error(), "not a hamf model") != NULL);
    unlink(path);
    T_STATUS(hamf_ensemble_load(path, &bad), HAMF_ERR_NOTFOUND);
    hamf_ensemble_free(m);
    hamf_dataset_free(d);
}

static void test_bad_input(void)
{
    double x[4] = {1, 2, 3, 4}, y1[4] = {1, 1, 1, 1}, y2[4] = {0, 1, 2, 1}, y[4] = {0, 1, 0, 1};
    hamf_dataset *d;
    T_OK(hamf_dataset_new(4, &d));
    T_OK(hamf_dataset_add_numeric(d, "x", x));
    T_STATUS(hamf_dataset_add_numeric(d, "x", x), HAMF_ERR_EXISTS);
    T_STATUS(hamf_dataset_set_label(d, "y", y2), HAMF_ERR_CONSTRAINT);
    hamf_ensemble *m;
    hamf_train_params p = gb_params(3, 2, 0.1);
    T_STATUS(hamf_ensemble_fit(d, &p, &m), HAMF_ERR_MISUSE); /* no label */
    T_OK(hamf_dataset_set_label(d, "y", y1));
    T_STATUS(hamf_ensemble_fit(d, &p, &m), HAMF_ERR_CONSTRAINT); /* constant target */
    T_TRUE(strstr(hamf_last_error(), "single class") != NULL);
    p.algorithm = HAMF_ALGO_RANDOM_FOREST;
    T_STATUS(hamf_ensemble_fit(d, &p, &m), HAMF_ERR_CONSTRAINT);
    p = gb_params(0, 2, 0.1);
    T_OK(hamf_dataset_set_label(d, "y", y));
    T_STATUS(hamf_ensemble_fit(d, &p, &m), HAMF_ERR_CONSTRAINT);
    T_TRUE(strstr(hamf_last_error(), "n_estimators") != NULL);
    p = gb_params(2, 2, 0.1);
    T_OK(hamf_ensemble_fit(d, &p, &m));
    hamf_dataset *other;
    T_OK(hamf_dataset_new(4, &other));
    T_OK(hamf_dataset_add_numeric(other, "z", x));
    double pr[4];
    T_STATUS(hamf_ensemble_predict(m, other, 1, pr), HAMF_ERR_SCHEMA);
    T_TRUE(strstr(hamf_last_error(), "'x'") != NULL);
    hamf_dataset_free(other);
    /* a numeric column given as categorical */
    int32_t codes[4] = {0, 1, 0, 1};
    T_OK(hamf_dataset_new(4, &other));
    T_OK(hamf_dataset_add_categorical(other, "x", codes, 2, NULL));
    T_STATUS(hamf_ensemble_predict(m, other, 1, pr), HAMF_ERR_SCHEMA);
    hamf_dataset_free(other);
    /* NaN and inf in numeric data are accepted (missing / outermost bins) */
    double xi[4] = {NAN, INFINITY, -INFINITY, 2};
    T_OK(hamf_dataset_new(4, &other));
    T_OK(hamf_dataset_add_numeric(other, "x", xi));
    T_OK(hamf_ensemble_predict(m, other, 1, pr));
    for (int i = 0; i < 4; i++) T_TRUE(pr[i] > 0 && pr[i] < 1);
    hamf_dataset_free(other);
    hamf_ensemble_free(m);
    hamf_dataset_free(d);
    /* empty training set */
    T_OK(hamf_dataset_new(0, &d));
    T_OK(hamf_dataset_add_numeric(d, "x", NULL));
    T_OK(hamf_dataset_set_label(d, "y", NULL));
    T_STATUS(hamf_ensemble_fit(d, &p, &m), HAMF_ERR_CONSTRAINT);
    hamf_dataset_free(d);
}

static void test_params_json(void)
{
    hamf_train_params p;
    hamf_train_params_init(&p, HAMF_ALGO_GRADIENT_BOOSTING);
    T_EQ_INT(p.n_estimators, 100);
    T_EQ_INT(p.max_depth, 3);
    T_EQ_DBL(p.learning_rate, 0.1, 0);
    T_OK(hamf_train_params_parse_json(&p, "{\"n_estimators\": 1000, \"max_depth\":6, \"algorithm\":\"random-forest\", \"seed\": 7}"));
    T_EQ_INT(p.n_estimators, 1000);
    T_EQ_INT(p.max_depth, 6);
    T_EQ_INT(p.seed, 7);
    T_EQ_INT(p.algorithm, HAMF_ALGO_RANDOM_FOREST);
    T_STATUS(hamf_train_params_parse_json(&p, "{\"nope\":1}"), HAMF_ERR_PARSE);
    T_STATUS(hamf_train_params_parse_json(&p, "{\"max_depth\":1.5}"), HAMF_ERR_CONSTRAINT);
    T_STATUS(hamf_train_params_parse_json(&p, "{\"max_depth\":2"), HAMF_ERR_PARSE);
    T_EQ_INT(p.max_depth, 6);
}

/* Early stopping holds out a fraction and stops when its loss stalls. */
static void test_early_stopping(void)
{
    hamf_dataset *d = random_data(3000, 11);
    T_TRUE(d != NULL);
    hamf_train_params p = gb_params(500, 6, 0.5);
    p.validation_fraction = 0.25;
    p.n_iter_no_change = 3;
    hamf_ensemble *m;
    T_OK(hamf_ensemble_fit(d, &p, &m));
    T_TRUE(hamf_ensemble_ntrees(m) < 500);
    size_t h;
    const double *t, *v;
    hamf_ensemble_loss_history(m, &h, &t, &v);
    T_EQ_INT(h, hamf_ensemble_ntrees(m));
    hamf_ensemble_free(m);
    hamf_dataset_free(d);
}

int main(void)
{
    T_RUN(test_single_split);
    T_RUN(test_xor);
    T_RUN(test_categorical_only);
    T_RUN(test_threads_deterministic);
    T_RUN(test_wide_features);
    T_RUN(test_loss_history);
    T_RUN(test_save_load_identical);
    T_RUN(test_corrupt_files);
    T_RUN(test_bad_input);
    T_RUN(test_params_json);
    T_RUN(test_early_stopping);
    T_RUN(test_pool_sets);
    return T_DONE();
}
