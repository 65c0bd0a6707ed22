/* test_shap.c — TreeSHAP against its definition: brute-force Shapley values
 * of the path-dependent conditional expectation (Lundberg et al.,
 * Algorithm 1: features outside S are integrated out by node cover), for
 * both code paths (the recursion, used for < 64 rows, and the per-leaf
 * tables); rows sum to the raw margin / probability; identical results for
 * 1 and 2 threads and after save -> load. */
#include "t.h"
#include "ml/ml.h"

#include <stdlib.h>
#include <unistd.h>

#define N 600
#define NF 4

static hamf_dataset *make_data(void)
{
    double a[N], b[N], c[N], y[N];
    int32_t cat[N];
    const char *dict[] = {"red", "green", "blue", "black"};
    struct hamf__rng r;
    hamf__rng_seed(&r, 7, 0);
    for (int i = 0; i < N; i++) {
        a[i] = hamf__rng_unit(&r) * 10;
        b[i] = hamf__rng_unit(&r) < 0.1 ? NAN : hamf__rng_unit(&r);
        c[i] = (double)hamf__rng_below(&r, 5);
        cat[i] = hamf__rng_unit(&r) < 0.05 ? -1 : (int32_t)hamf__rng_below(&r, 4);
        double s = (a[i] > 5) + (isnan(b[i]) ? 0.5 : b[i]) + (cat[i] == 1) - 0.3 * c[i] + hamf__rng_unit(&r);
        y[i] = s > 1.2;
    }
    hamf_dataset *d = NULL;
    if (hamf_dataset_new(N, &d) || hamf_dataset_add_numeric(d, "a", a) || hamf_dataset_add_numeric(d, "b", b) ||
        hamf_dataset_add_numeric(d, "c", c) || hamf_dataset_add_categorical(d, "color", cat, 4, dict) ||
        hamf_dataset_set_label(d, "y", y)) {
        hamf_dataset_free(d);
        return NULL;
    }
    return d;
}

/* E[f(x) | x_S] of one tree, features outside S integrated out by cover */
static double expval(const struct hamf__tree *t, const double *cover, int32_t k, const uint8_t *x, unsigned S)
{
    const struct hamf__node *nd = &t->nodes[k];
    if (nd->left < 0) return nd->value;
    if (S >> nd->feat & 1) {
        uint8_t bn = x[nd->feat];
        int left;
        if (nd->flags & HAMF_NODE_CAT) left = (t->cat_bits[nd->cat * 8 + (bn >> 5)] >> (bn & 31)) & 1;
        else if (bn == 0) left = nd->flags & HAMF_NODE_DEFAULT_LEFT;
        else left = bn <= nd->thr;
        return expval(t, cover, left ? nd->left : nd->right, x, S);
    }
    return (cover[nd->left] * expval(t, cover, nd->left, x, S) + cover[nd->right] * expval(t, cover, nd->right, x, S)) /
           cover[k];
}

static double fact(int n) { return n <= 1 ? 1 : n * fact(n - 1); }

/* brute-force Shapley values of row x into phi[NF + 1] */
static void brute(const hamf_ensemble *m, const uint8_t *x, double *phi)
{
    double scale = m->algorithm == HAMF_ALGO_RANDOM_FOREST ? 1.0 / (double)m->n_trees : 1.0;
    for (int f = 0; f <= NF; f++) phi[f] = 0;
    size_t off = 0;
    for (size_t t = 0; t < m->n_trees; t++) {
        const double *cv = m->cover + off;
        off += m->trees[t].n_nodes;
        phi[NF] += scale * expval(&m->trees[t], cv, 0, x, 0);
        for (int i = 0; i < NF; i++)
            for (unsigned S = 0; S < (1u << NF); S++) {
                if (S >> i & 1) continue;
                int s = __builtin_popcount(S);
                double wgt = fact(s) * fact(NF - s - 1) / fact(NF);
                phi[i] += scale * wgt * (expval(&m->trees[t], cv, 0, x, S | 1u << i) - expval(&m->trees[t], cv, 0, x, S));
            }
    }
    if (m->algorithm == HAMF_ALGO_GRADIENT_BOOSTING) phi[NF] += m->init_score;
}

static void check_model(hamf_algorithm algo)
{
    hamf_dataset *d = make_data();
    T_TRUE(d != NULL);
    hamf_train_params p;
    hamf_train_params_init(&p, algo);
    p.n_estimators = algo == HAMF_ALGO_RANDOM_FOREST ? 8 : 30;
    p.max_depth = algo == HAMF_ALGO_RANDOM_FOREST ? 6 : 4;
    p.threads = 2;
    hamf_ensemble *m = NULL;
    T_OK(hamf_ensemble_fit(d, &p, &m));
    T_TRUE(m->cover != NULL);
    uint8_t *codes = NULL;
    struct hamf__pool *pool = NULL;
    T_OK(hamf__pool_new(1, &pool));
    T_OK(hamf__binmap_apply(&m->bins, d, NULL, pool, &codes));
    hamf__pool_free(pool);
    double *all = malloc(N * (NF + 1) * sizeof *all), *few = malloc(10 * (NF + 1) * sizeof *few);
    double *one = malloc(N * (NF + 1) * sizeof *one), *raw = malloc(N * sizeof *raw);
    uint8_t *codes10 = malloc(10 * NF);
    T_TRUE(all && few && one && raw && codes10);
    T_OK(hamf__shap_codes(m, codes, N, 2, all));  /* tables */
    T_OK(hamf__shap_codes(m, codes, N, 1, one));
    T_TRUE(memcmp(all, one, N * (NF + 1) * sizeof *all) == 0); /* any thread count: same bits */
    for (int f = 0; f < NF; f++) memcpy(codes10 + f * 10, codes + (size_t)f * N, 10);
    T_OK(hamf__shap_codes(m, codes10, 10, 1, few)); /* recursion */
    T_OK(hamf__model_score_codes(m, codes, N, 1, raw));
    double worst_sum = 0, worst_bf = 0;
    for (int i = 0; i < N; i++) {
        uint8_t x[NF];
        for (int f = 0; f < NF; f++) x[f] = codes[(size_t)f * N + i];
        double s = 0;
        for (int f = 0; f <= NF; f++) s += all[i * (NF + 1) + f];
        double rel = fabs(s - raw[i]) / fmax(1, fabs(raw[i]));
        if (rel > worst_sum) worst_sum = rel;
        if (i < 40) {
            double bf[NF + 1];
            brute(m, x, bf);
            for (int f = 0; f <= NF; f++) {
                double e = fabs(bf[f] - all[i * (NF + 1) + f]);
                if (i < 10) e = fmax(e, fabs(bf[f] - few[i * (NF + 1) + f]));
                if (e > worst_bf) worst_bf = e;
            }
        }
    }
    printf("  %s: max rel |sum - margin| %.3g, max |TreeSHAP - brute force| %.3g\n",
           algo == HAMF_ALGO_RANDOM_FOREST ? "rf" : "gb", worst_sum, worst_bf);
    T_TRUE(worst_sum <= 1e-9);
    T_TRUE(worst_bf <= 1e-9);
    /* covers survive save -> load */
    char path[] = "/tmp/hamf-test-shap-XXXXXX";
    int fd = mkstemp(path);
    T_TRUE(fd >= 0);
    close(fd);
    T_OK(hamf_ensemble_save(m, path));
    hamf_ensemble *m2 = NULL;
    T_OK(hamf_ensemble_load(path, &m2));
    unlink(path);
    T_OK(hamf_ensemble_shap(m2, d, 2, one));
    T_TRUE(memcmp(all, one, N * (NF + 1) * sizeof *all) == 0);
    hamf_ensemble_free(m2);
    free(all); free(few); free(one); free(raw); free(codes10);
    hamf__free(codes);
    hamf_ensemble_free(m);
    hamf_dataset_free(d);
}

/* The GB learner's own node row counts (kept as covers when every
 * training row grows every tree) equal routing the training set through
 * the trees afterwards, on data big enough for several partition and
 * routing chunks on two threads; depth-limited (last level routed),
 * leaf-wise, and with a validation part (covers routed after the fit). */
static void test_gb_learner_covers(void)
{
    enum { M = 70000 };
    double *a = malloc(M * sizeof *a), *b = malloc(M * sizeof *b), *y = malloc(M * sizeof *y);
    T_TRUE(a && b && y);
    struct hamf__rng r;
    hamf__rng_seed(&r, 11, 0);
    for (int i = 0; i < M; i++) {
        a[i] = hamf__rng_unit(&r) * 100;
        b[i] = hamf__rng_unit(&r) < 0.2 ? NAN : (double)hamf__rng_below(&r, 7);
        y[i] = a[i] / 100 + (isnan(b[i]) ? 0.3 : b[i] / 10) + 0.5 * hamf__rng_unit(&r) > 1.0;
    }
    hamf_dataset *d = NULL;
    T_OK(hamf_dataset_new(M, &d));
    T_OK(hamf_dataset_add_numeric(d, "a", a));
    T_OK(hamf_dataset_add_numeric(d, "b", b));
    T_OK(hamf_dataset_set_label(d, "y", y));
    for (int v = 0; v < 4; v++) {
        hamf_train_params p;
        hamf_train_params_init(&p, HAMF_ALGO_GRADIENT_BOOSTING);
        p.n_estimators = 6;
        p.max_depth = v == 1 ? 2 : 5;
        if (v == 2) { p.max_depth = 0; p.max_leaves = 9; }
        if (v == 3) p.validation_fraction = 0.2;
        p.threads = 2;
        hamf_ensemble *m = NULL;
        T_OK(hamf_ensemble_fit(d, &p, &m));
        size_t tot = 0;
        for (size_t t = 0; t < m->n_trees; t++) tot += m->trees[t].n_nodes;
        double *mine = malloc(tot * sizeof *mine);
        T_TRUE(mine != NULL && m->cover != NULL);
        memcpy(mine, m->cover, tot * sizeof *mine);
        T_OK(hamf__shap_fill_covers(m, d, 1));
        T_TRUE(memcmp(mine, m->cover, tot * sizeof *mine) == 0);
        T_TRUE(m->cover[0] == M);
        free(mine);
        hamf_ensemble_free(m);
    }
    hamf_dataset_free(d);
    free(a); free(b); free(y);
}

static void test_gb(void) { check_model(HAMF_ALGO_GRADIENT_BOOSTING); }
static void test_rf(void) { check_model(HAMF_ALGO_RANDOM_FOREST); }

/* one split at 49.5 with leaves -2/+2 and equal covers: E[f] = 0, and the
 * whole deviation goes to x */
static void test_single_split(void)
{
    double x[100], y[100];
    for (int i = 0; i < 100; i++) { x[i] = i; y[i] = i >= 50; }
    hamf_dataset *d;
    T_OK(hamf_dataset_new(100, &d));
    T_OK(hamf_dataset_add_numeric(d, "x", x));
    T_OK(hamf_dataset_set_label(d, "y", y));
    hamf_train_params p;
    hamf_train_params_init(&p, HAMF_ALGO_GRADIENT_BOOSTING);
    p.n_estimators = 1; p.max_depth = 1; p.learning_rate = 1; p.l2 = 0; p.min_child_weight = 0; p.threads = 1;
    hamf_ensemble *m;
    T_OK(hamf_ensemble_fit(d, &p, &m));
    double phi[100 * 2];
    T_OK(hamf_ensemble_shap(m, d, 1, phi));
    T_EQ_DBL(phi[0], -2, 1e-9);      /* row x = 0 */
    T_EQ_DBL(phi[1], 0, 1e-9);       /* bias */
    T_EQ_DBL(phi[2 * 99], 2, 1e-9);  /* row x = 99 */
    double imp;
    T_OK(hamf_ensemble_shap_importance(m, d, 1, &imp));
    T_EQ_DBL(imp, 2, 1e-9);
    hamf_ensemble_free(m);
    hamf_dataset_free(d);
}

int main(void)
{
    T_RUN(test_single_split);
    T_RUN(test_gb);
    T_RUN(test_gb_learner_covers);
    T_RUN(test_rf);
    return T_DONE();
}
