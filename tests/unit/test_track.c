/*
 * test_track.c — run logging (src/track/run_log.c) against a real SQLite
 * store in a temp dir: a run logged locally holds its params, metrics,
 * loss history, tags and model directory; an unfinished run closes as
 * FAILED; finishing twice is refused; every allocation failure during
 * logging gives a clean status, no leak (ASan) and no half-written
 * artifact directory left behind by a success. Also the registry rows of
 * hamf__track_register_model linked to the run.
 */
#include "t.h"

#include "store/tracking.h"
#include "server/mlflow_json.h"
#include "track/run_log.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static hamf_ensemble *small_model(hamf_metrics *mt)
{
    enum { N = 400 };
    static double x1[N], x2[N], y[N];
    uint64_t s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x1[i] = (double)(s >> 40) / (double)(1 << 24);
        x2[i] = (double)((s >> 20) & 1023) / 1024.0;
        y[i] = x1[i] + 0.3 * x2[i] > 0.65 ? 1 : 0;
    }
    hamf_dataset *d = NULL;
    hamf_ensemble *m = NULL;
    if (hamf_dataset_new(N, &d) || hamf_dataset_add_numeric(d, "x1", x1) || hamf_dataset_add_numeric(d, "x2", x2) ||
        hamf_dataset_set_label(d, "y", y))
        goto done;
    hamf_train_params p;
    hamf_train_params_init(&p, HAMF_ALGO_GRADIENT_BOOSTING);
    p.n_estimators = 8;
    p.validation_fraction = 0.2;
    p.n_iter_no_change = 100;
    p.threads = 1;
    if (hamf_ensemble_fit(d, &p, &m)) goto done;
    double proba[N];
    if (hamf_ensemble_predict(m, d, 1, proba) || hamf_metrics_compute(y, proba, N, mt)) {
        hamf_ensemble_free(m);
        m = NULL;
    }
done:
    hamf_dataset_free(d);
    return m;
}

static char *get_run(const char *db, const char *run_id)
{
    struct hamf__trk *t = NULL;
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    if (hamf__trk_open(db, &t) || hamf__mlflow_run_json(t, run_id, &b)) {
        hamf__trk_close(t);
        hamf__buf_free(&b);
        return NULL;
    }
    hamf__trk_close(t);
    return b.data;
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static void test_log_local(void)
{
    hamf_metrics mt;
    hamf_ensemble *m = small_model(&mt);
    T_TRUE(m != NULL);
    char db[300], art[300], model[300], path[600];
    snprintf(db, sizeof db, "%s/t.db", dir);
    snprintf(art, sizeof art, "%s/art", dir);
    snprintf(model, sizeof model, "%s/m.hamf", dir);
    T_OK(hamf_ensemble_save(m, model));
    hamf_run_dest d = {.db_url = db, .artifacts_dir = art};
    hamf_run_options s = {.experiment = "unit", .run_name = "r1"};
    hamf_kv p[1] = {{"target", "y"}};
    hamf_run_training tr = {.model = m, .metrics = &mt, .model_path = model, .model_name = "M",
                            .model_version = "v9", .params = p, .nparams = 1};
    char id[33] = "";
    T_OK(hamf__track_log_training(&d, &s, &tr, id));
    T_EQ_INT(strlen(id), 32);
    char *js = get_run(db, id);
    T_TRUE(js != NULL);
    T_TRUE(strstr(js, "\"status\":\"FINISHED\"") != NULL);
    T_TRUE(strstr(js, "\"key\":\"training_loss\"") != NULL);
    T_TRUE(strstr(js, "\"key\":\"validation_loss\"") != NULL);
    T_TRUE(strstr(js, "\"key\":\"n_estimators\",\"value\":\"8\"") != NULL);
    T_TRUE(strstr(js, "\"key\":\"hamf.model_version\",\"value\":\"v9\"") != NULL);
    hamf__free(js);
    snprintf(path, sizeof path, "%s/1/%s/artifacts/model/MLmodel", art, id);
    T_TRUE(exists(path));
    snprintf(path, sizeof path, "%s/1/%s/artifacts/model/m.hamf", art, id);
    T_TRUE(exists(path));

    /* history: 8 steps each */
    struct hamf__trk *t = NULL;
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    T_OK(hamf__trk_open(db, &t));
    hamf_status st = hamf__mlflow_metric_history_json(t, id, "training_loss", 0, NULL, &b);
    hamf__trk_close(t);
    T_OK(st);
    int steps = 0;
    for (const char *c = b.data; c && (c = strstr(c, "\"step\":")); c++) steps++;
    hamf__buf_free(&b);
    T_EQ_INT(steps, 8);

    /* registry rows linked to the run */
    struct hamf__track_register reg = {.model_name = "M", .model = m, .metrics = &mt, .run_id = id};
    struct hamf__track_registered got;
    hamf_store *sto = NULL;
    T_OK(hamf_store_open(db, &sto));
    T_OK(hamf__track_register_model(sto, &reg, &got));
    T_EQ_STR(got.model_version, "v1");
    hamf_training_result *res = NULL;
    st = hamf_store_get_training_result(sto, got.result_id, &res);
    hamf_store_close(sto);
    T_OK(st);
    T_EQ_STR(res->run_id, id);
    T_EQ_DBL(res->accuracy, mt.accuracy, 1e-12);
    hamf_store_free(res);
    hamf_ensemble_free(m);
}

static void test_unfinished_and_twice(void)
{
    hamf_metrics mt;
    hamf_ensemble *m = small_model(&mt);
    T_TRUE(m != NULL);
    char db[300], art[300];
    snprintf(db, sizeof db, "%s/u.db", dir);
    snprintf(art, sizeof art, "%s/art-u", dir);
    hamf_run_dest d = {.db_url = db, .artifacts_dir = art};
    hamf_run *r = NULL;
    T_OK(hamf_run_start(&d, NULL, &r));
    char id[33];
    snprintf(id, sizeof id, "%s", hamf_run_id(r));
    hamf_run_close(r); /* never finished: FAILED */
    char *js = get_run(db, id);
    T_TRUE(js && strstr(js, "\"status\":\"FAILED\"") && strstr(js, "\"end_time\":"));
    hamf__free(js);

    hamf_run_training tr = {.model = m, .metrics = &mt};
    T_OK(hamf_run_start(&d, NULL, &r));
    T_OK(hamf_run_finish(r, &tr));
    T_STATUS(hamf_run_finish(r, &tr), HAMF_ERR_MISUSE);
    hamf_run_close(r);
    /* no destination at all */
    hamf_run_dest none = {0};
    T_STATUS(hamf_run_start(&none, NULL, &r), HAMF_ERR_MISUSE);
    hamf_ensemble_free(m);
}

/* Every allocation of a whole local logging fails in turn. */
static void test_oom(void)
{
    hamf_metrics mt;
    hamf_ensemble *m = small_model(&mt);
    T_TRUE(m != NULL);
    char db[300], art[300], model[300];
    snprintf(db, sizeof db, "%s/oom.db", dir);
    snprintf(art, sizeof art, "%s/art-oom", dir);
    snprintf(model, sizeof model, "%s/m2.hamf", dir);
    T_OK(hamf_ensemble_save(m, model));
    hamf_run_dest d = {.db_url = db, .artifacts_dir = art};
    hamf_run_training tr = {.model = m, .metrics = &mt, .model_path = model, .model_name = "M"};
    /* the store exists first, so the loop exercises the logging */
    char id[33];
    T_OK(hamf__track_log_training(&d, NULL, &tr, id));
    int ok_at = -1;
    for (int n = 0; n < 5000; n++) {
        hamf__alloc_fail_after(n);
        hamf_status st = hamf__track_log_training(&d, NULL, &tr, id);
        hamf__alloc_fail_after(-1);
        if (st == HAMF_OK) {
            ok_at = n;
            break;
        }
        T_TRUE(*hamf_last_error() != '\0');
    }
    T_TRUE(ok_at > 10);
    char *js = get_run(db, id);
    T_TRUE(js && strstr(js, "\"status\":\"FINISHED\""));
    hamf__free(js);
    hamf_ensemble_free(m);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/hamf-test-track.XXXXXX");
    if (!mkdtemp(dir)) return 1;
    T_RUN(test_log_local);
    T_RUN(test_unfinished_and_twice);
    T_RUN(test_oom);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
    return T_DONE();
}
