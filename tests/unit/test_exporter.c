/* test_exporter.c — exposition text, missing metrics, label escaping, and
 * the refresher's behaviour when the source fails or a newer run appears. */
#include "t.h"
#include "server/exporter.h"

#include <stdlib.h>

static const char *has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n')) return p;
    return NULL;
}

static void test_format_basic(void)
{
    struct hamf__samples s;
    hamf__samples_init(&s);
    struct hamf__qsample *q;
    T_OK(hamf__samples_add_quality(&s, "Phishing Detection Experiment", "abc", "PhishingDetectionModel",
                                   "3", 1795480087.5, &q));
    q->value[HAMF__Q_ACCURACY] = 99.83; q->has[HAMF__Q_ACCURACY] = true;
    q->value[HAMF__Q_F1] = 0.998; q->has[HAMF__Q_F1] = true;
    /* no precision, no recall: those series must be absent */
    T_OK(hamf__samples_add_quality(&s, "we\"ird\\name\nx", "def", "", "", -1, &q));
    q->value[HAMF__Q_ACCURACY] = 97.1; q->has[HAMF__Q_ACCURACY] = true;
    T_OK(hamf__samples_add_drift(&s, "PhishingDetectionModel", "hostage", 0.31));
    T_OK(hamf__samples_add_drift(&s, "PhishingDetectionModel", NULL, 91.5));
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    T_OK(hamf__exporter_format(&s, true, 1795480000, 2, &b));
    const char *t = b.data;
    T_TRUE(has_line(t, "mlflow_model_accuracy{experiment=\"Phishing Detection Experiment\",run_id=\"abc\","
                       "model=\"PhishingDetectionModel\",model_version=\"3\"} 99.83"));
    T_TRUE(has_line(t, "mlflow_model_accuracy{experiment=\"we\\\"ird\\\\name\\nx\",run_id=\"def\",model=\"\","
                       "model_version=\"\"} 97.1"));
    T_TRUE(has_line(t, "# TYPE mlflow_model_f1_score gauge"));
    T_TRUE(strstr(t, "mlflow_model_precision") == NULL);
    T_TRUE(strstr(t, "mlflow_model_recall") == NULL);
    T_TRUE(has_line(t, "hamf_feature_drift_psi{model=\"PhishingDetectionModel\",feature=\"hostage\"} 0.31"));
    T_TRUE(has_line(t, "hamf_model_live_accuracy{model=\"PhishingDetectionModel\"} 91.5"));
    T_TRUE(has_line(t, "hamf_exporter_up 1"));
    T_TRUE(has_line(t, "hamf_exporter_errors_total 2"));
    /* whole numbers in plain digits (shortest form would be 1.79548e+09) */
    T_TRUE(has_line(t, "hamf_exporter_last_success_timestamp_seconds 1795480000"));
    T_TRUE(has_line(t, "# TYPE hamf_exporter_errors_total counter"));
    /* only the run with a timestamp gets the timestamp series */
    T_TRUE(strstr(t, "mlflow_model_last_run_timestamp_seconds{experiment=\"Phishing") != NULL);
    T_TRUE(strstr(t, "mlflow_model_last_run_timestamp_seconds{experiment=\"we") == NULL);
    hamf__buf_free(&b);
    hamf__samples_free(&s);
}

/* A scripted source: each call plays the next step. */
struct script {
    int step;
};

static hamf_status scripted(void *ctx, struct hamf__samples *out)
{
    struct script *sc = ctx;
    int step = sc->step++;
    struct hamf__qsample *q;
    if (step == 1) return hamf__err(HAMF_ERR_CONNECT, "tracking server down");
    hamf_status st = hamf__samples_add_quality(out, "exp", step == 0 ? "run-old" : "run-new", "m", "1",
                                               100, &q);
    if (st) return st;
    q->value[HAMF__Q_ACCURACY] = step == 0 ? 97.1 : 99.5;
    q->has[HAMF__Q_ACCURACY] = true;
    return HAMF_OK;
}

static void test_refresh_failure_and_takeover(void)
{
    struct script sc = {0};
    struct hamf__exporter *e;
    T_OK(hamf__exporter_create(scripted, &sc, 3600 * 1000, &e)); /* step 0 */
    char *t;
    size_t n;
    T_OK(hamf__exporter_render(e, &t, &n));
    T_TRUE(strstr(t, "run_id=\"run-old\"") && has_line(t, "hamf_exporter_up 1"));
    hamf__free(t);
    hamf__exporter_refresh(e); /* step 1: source down, last values kept */
    T_OK(hamf__exporter_render(e, &t, &n));
    T_TRUE(strstr(t, "run_id=\"run-old\"") != NULL);
    T_TRUE(has_line(t, "hamf_exporter_up 0"));
    T_TRUE(has_line(t, "hamf_exporter_errors_total 1"));
    hamf__free(t);
    hamf__exporter_refresh(e); /* step 2: newer run replaces the old series */
    T_OK(hamf__exporter_render(e, &t, &n));
    T_TRUE(strstr(t, "run-old") == NULL);
    T_TRUE(strstr(t, "run_id=\"run-new\"") != NULL);
    T_TRUE(has_line(t, "hamf_exporter_up 1"));
    T_EQ_INT(n, strlen(t));
    hamf__free(t);
    hamf__exporter_destroy(e);
}

static void test_oom_paths(void)
{
    /* every allocation in a format run may fail: clean status, no leak */
    for (int64_t k = 0; k < 200; k++) {
        struct hamf__samples s;
        hamf__samples_init(&s);
        struct hamf__buf b;
        hamf__buf_init(&b, 0);
        hamf__alloc_fail_after(k);
        struct hamf__qsample *q;
        hamf_status st = hamf__samples_add_quality(&s, "e", "r", "m", "v", 1, &q);
        if (!st) {
            q->has[0] = true;
            st = hamf__exporter_format(&s, true, 1, 0, &b);
        }
        int64_t used = hamf__alloc_fail_after(-1);
        hamf__buf_free(&b);
        hamf__samples_free(&s);
        if (st == HAMF_OK && used <= k) break; /* no failure injected: done */
        T_TRUE(st == HAMF_ERR_NOMEM);
    }
}

int main(void)
{
    T_RUN(test_format_basic);
    T_RUN(test_refresh_failure_and_takeover);
    T_RUN(test_oom_paths);
    return T_DONE();
}
