/* test_ml_metrics.c — metrics against scikit-learn (via /usr/bin/python3)
 * on random inputs with ties, a hand-checked confusion matrix, and the
 * seeded splits (reproducible, disjoint, stratified, k-fold balance). */
#include "t.h"
#include "ml/ml.h"

#include <stdlib.h>
#include <unistd.h>

static void test_hand_example(void)
{
    double y[6] = {1, 1, 1, 0, 0, 0}, p[6] = {0.9, 0.6, 0.4, 0.7, 0.2, 0.5};
    hamf_metrics m;
    T_OK(hamf_metrics_compute(y, p, 6, &m));
    /* predicted positive: 0.9, 0.6, 0.7 (0.5 is not > 0.5) */
    T_EQ_INT(m.tp, 2);
    T_EQ_INT(m.fp, 1);
    T_EQ_INT(m.fn, 1);
    T_EQ_INT(m.tn, 2);
    T_EQ_DBL(m.accuracy, 100.0 * 4 / 6, 1e-12);
    T_EQ_DBL(m.precision, 2.0 / 3, 1e-12);
    T_EQ_DBL(m.recall, 2.0 / 3, 1e-12);
    T_EQ_DBL(m.f1_score, 2.0 / 3, 1e-12);
    /* pairs (pos, neg) ranked right: 0.9>all 3, 0.6>{0.2,0.5}, 0.4>{0.2} -> 6/9 */
    T_EQ_DBL(m.roc_auc, 6.0 / 9, 1e-12);
    double y1[2] = {1, 1}, p1[2] = {0.3, 0.8};
    T_OK(hamf_metrics_compute(y1, p1, 2, &m));
    T_TRUE(isnan(m.roc_auc));
    T_STATUS(hamf_metrics_compute(y1, p1, 0, &m), HAMF_ERR_CONSTRAINT);
}

static void test_against_sklearn(void)
{
    if (access("/usr/bin/python3", X_OK) != 0) T_FAILF("/usr/bin/python3 is required (scripts/install-deps.sh)");
    char path[] = "/tmp/hamf-metrics-XXXXXX";
    int fd = mkstemp(path);
    T_TRUE(fd >= 0);
    FILE *f = fdopen(fd, "w");
    struct hamf__rng r;
    hamf__rng_seed(&r, 2024, 0);
    enum { ROUNDS = 5, N = 3000 };
    static double y[ROUNDS][N], p[ROUNDS][N];
    for (int k = 0; k < ROUNDS; k++) {
        for (int i = 0; i < N; i++) {
            y[k][i] = hamf__rng_unit(&r) < 0.3 + 0.1 * k;
            /* coarse probabilities give many ties; some exact 0.5, 0 and 1 */
            double q = (double)hamf__rng_below(&r, 21) / 20;
            if (y[k][i] && hamf__rng_unit(&r) < 0.6) q = q * 0.5 + 0.5;
            p[k][i] = q;
            fprintf(f, "%s%.17g %.17g", i ? "," : "", y[k][i], p[k][i]);
        }
        fputc('\n', f);
    }
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c '\n"
             "import sys\n"
             "from sklearn import metrics as M\n"
             "for line in open(sys.argv[1]):\n"
             "    pr = [tuple(map(float, t.split())) for t in line.strip().split(\",\")]\n"
             "    y = [a for a, b in pr]; p = [b for a, b in pr]; yh = [1 if b > 0.5 else 0 for b in p]\n"
             "    print(\"%%.17g %%.17g %%.17g %%.17g %%.17g %%.17g\" %% (M.accuracy_score(y, yh) * 100, M.f1_score(y, yh),\n"
             "          M.precision_score(y, yh), M.recall_score(y, yh), M.roc_auc_score(y, p), M.log_loss(y, p)))\n"
             "' %s",
             path);
    FILE *py = popen(cmd, "r");
    T_TRUE(py != NULL);
    for (int k = 0; k < ROUNDS; k++) {
        double ref[6];
        if (fscanf(py, "%lf %lf %lf %lf %lf %lf", &ref[0], &ref[1], &ref[2], &ref[3], &ref[4], &ref[5]) != 6) {
            pclose(py);
            unlink(path);
            T_FAILF("could not read scikit-learn's answer (is python3-sklearn installed?)");
        }
        hamf_metrics m;
        T_OK(hamf_metrics_compute(y[k], p[k], N, &m));
        T_EQ_DBL(m.accuracy, ref[0], 1e-9);
        T_EQ_DBL(m.f1_score, ref[1], 1e-12);
        T_EQ_DBL(m.precision, ref[2], 1e-12);
        T_EQ_DBL(m.recall, ref[3], 1e-12);
        T_EQ_DBL(m.roc_auc, ref[4], 1e-12);
        T_EQ_DBL(m.log_loss, ref[5], 1e-9 * fabs(ref[5]));
    }
    T_EQ_INT(pclose(py), 0);
    unlink(path);
}

static void test_split(void)
{
    enum { N = 1000 };
    double y[N];
    for (int i = 0; i < N; i++) y[i] = i % 10 < 3;
    size_t *tr, *te, ntr, nte, *tr2, *te2, ntr2, nte2;
    T_OK(hamf_split_train_test(N, 0.2, 42, NULL, &tr, &ntr, &te, &nte));
    T_EQ_INT(nte, 200);
    T_EQ_INT(ntr, 800);
    T_OK(hamf_split_train_test(N, 0.2, 42, NULL, &tr2, &ntr2, &te2, &nte2));
    T_TRUE(!memcmp(te, te2, nte * sizeof *te));
    char seen[N] = {0};
    for (size_t k = 0; k < ntr; k++) seen[tr[k]]++;
    for (size_t k = 0; k < nte; k++) seen[te[k]]++;
    for (int i = 0; i < N; i++) T_EQ_INT(seen[i], 1);
    hamf_free_indices(tr2);
    hamf_free_indices(te2);
    T_OK(hamf_split_train_test(N, 0.2, 43, NULL, &tr2, &ntr2, &te2, &nte2));
    T_TRUE(memcmp(te, te2, nte * sizeof *te) != 0);
    hamf_free_indices(tr); hamf_free_indices(te); hamf_free_indices(tr2); hamf_free_indices(te2);
    /* stratified: exactly 30% positives in both parts */
    T_OK(hamf_split_train_test(N, 0.2, 42, y, &tr, &ntr, &te, &nte));
    int pos = 0;
    for (size_t k = 0; k < nte; k++) pos += y[te[k]] > 0;
    T_EQ_INT(nte, 200);
    T_EQ_INT(pos, 60);
    hamf_free_indices(tr); hamf_free_indices(te);
    T_STATUS(hamf_split_train_test(N, 1.5, 42, NULL, &tr, &ntr, &te, &nte), HAMF_ERR_CONSTRAINT);
    int fold[N], cnt[5] = {0}, cpos[5] = {0};
    T_OK(hamf_split_kfold(N, 5, 1, y, fold));
    for (int i = 0; i < N; i++) { cnt[fold[i]]++; cpos[fold[i]] += y[i] > 0; }
    for (int k = 0; k < 5; k++) { T_EQ_INT(cnt[k], 200); T_EQ_INT(cpos[k], 60); }
    T_STATUS(hamf_split_kfold(N, 1, 1, NULL, fold), HAMF_ERR_CONSTRAINT);
}

int main(void)
{
    T_RUN(test_hand_example);
    T_RUN(test_against_sklearn);
    T_RUN(test_split);
    return T_DONE();
}
