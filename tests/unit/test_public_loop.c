/*
 * test_public_loop.c — the public API of tracking, runs, registry versions
 * and aliases, drift and retrain (hamf.h, issue 12 step 6), through hamf.h
 * only, on one store handle against a real SQLite file in a temp dir:
 * register two trainings (the first becomes champion), log a run and read
 * it back (records and REST JSON), promote and roll back, a drift report
 * on the training data (PSI ~ 0) and on shifted data (PSI high, labels
 * give metrics), a retrain whose two runs land in the same store, and the
 * errors of bad input (unknown model/run, NULL handle).
 */
#include "t.h"

#include "hamf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

enum { N = 400 };
static char dir[256], db[300], csv[300], shifted[300];
static double x1[N], x2[N], y[N];

static void make_data(void)
{
    uint64_t s = 777;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x1[i] = (double)(s >> 40) / (double)(1 << 24);
        x2[i] = (double)((s >> 20) & 1023) / 1024.0;
        y[i] = x1[i] + 0.3 * x2[i] > 0.65 ? 1 : 0;
    }
}

static int write_csv(const char *path, double shift)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "x1,x2,y\n");
    for (int i = 0; i < N; i++) fprintf(f, "%.9g,%.9g,%d\n", x1[i] + shift, x2[i], (int)y[i]);
    return fclose(f);
}

/* Train a small GB model on the data; *d keeps the dataset. */
static hamf_ensemble *train(hamf_dataset **d, hamf_metrics *mt)
{
    hamf_ensemble *m = NULL;
    *d = NULL;
    if (hamf_dataset_new(N, d) || hamf_dataset_add_numeric(*d, "x1", x1) || hamf_dataset_add_numeric(*d, "x2", x2) ||
        hamf_dataset_set_label(*d, "y", y))
        return NULL;
    hamf_train_params p;
    hamf_train_params_init(&p, HAMF_ALGO_GRADIENT_BOOSTING);
    p.n_estimators = 8;
    p.threads = 1;
    if (hamf_ensemble_fit(*d, &p, &m)) return NULL;
    double proba[N];
    if (hamf_ensemble_predict(m, *d, 1, proba) || hamf_metrics_compute(y, proba, N, mt)) {
        hamf_ensemble_free(m);
        return NULL;
    }
    return m;
}

static void test_register_runs_aliases(void)
{
    hamf_store *s = NULL;
    T_OK(hamf_registry_open(db, &s));
    hamf_dataset *d = NULL;
    hamf_metrics mt;
    hamf_ensemble *m = train(&d, &mt);
    T_TRUE(m != NULL);
    char path[400];
    snprintf(path, sizeof path, "%s/m1.hamf", dir);
    T_OK(hamf_ensemble_save(m, path));

    /* a run logged through the open store */
    hamf_run_dest dest = {.store = s, .artifacts_dir = dir};
    hamf_kv tags[] = {{"hamf.test", "yes"}};
    hamf_run_options ro = {.experiment = "public api", .run_name = "first", .tags = tags, .ntags = 1};
    hamf_run *run = NULL;
    T_OK(hamf_run_start(&dest, &ro, &run));
    char run_id[40];
    snprintf(run_id, sizeof run_id, "%s", hamf_run_id(run));
    T_EQ_INT(strlen(run_id), 32);
    hamf_run_metric extra[] = {{"n_train", N, 0}};
    hamf_run_training tr = {.model = m, .metrics = &mt, .model_path = path, .model_name = "PubModel",
                            .extra = extra, .nextra = 1};
    T_OK(hamf_run_finish(run, &tr));
    hamf_run_close(run);

    hamf_register_options o = {.name = "PubModel", .model = m, .metrics = &mt, .artifact = path, .reference = d,
                               .run_id = run_id};
    hamf_registration r1, r2;
    T_OK(hamf_registry_register(s, &o, &r1));
    T_EQ_INT(r1.registry_version, 1);
    T_EQ_STR(r1.model_version, "v1");
    T_TRUE(r1.model_id > 0 && r1.result_id > 0);
    o.run_id = NULL;
    T_OK(hamf_registry_register(s, &o, &r2));
    T_EQ_INT(r2.registry_version, 2);
    T_EQ_STR(r2.model_version, "v2");

    /* runs read back: the record and the REST JSON agree */
    hamf_run_list *l = NULL;
    T_OK(hamf_runs_search(s, "public api", &l));
    T_EQ_INT(hamf_run_list_count(l), 1);
    const hamf_run_record *rec = hamf_run_list_get(l, 0);
    T_EQ_STR(rec->run_id, run_id);
    T_EQ_STR(rec->run_name, "first");
    T_EQ_STR(rec->status, "FINISHED");
    T_TRUE(rec->start_time > 0 && rec->end_time >= rec->start_time);
    T_TRUE(strstr(hamf_run_list_json(l), run_id) != NULL);
    T_TRUE(!strncmp(hamf_run_list_json(l), "{\"runs\":[", 9));
    bool acc = false, ntrain = false, tag = false;
    for (size_t i = 0; i < rec->nmetrics; i++) {
        if (!strcmp(rec->metrics[i].key, "accuracy"))
            acc = rec->metrics[i].is_number && fabs(rec->metrics[i].number - mt.accuracy) < 1e-9;
        if (!strcmp(rec->metrics[i].key, "n_train")) ntrain = rec->metrics[i].number == N;
    }
    for (size_t i = 0; i < rec->ntags; i++)
        if (!strcmp(rec->tags[i].key, "hamf.test")) tag = !strcmp(rec->tags[i].value, "yes");
    T_TRUE(acc && ntrain && tag);
    hamf_run_list_free(l);
    T_OK(hamf_run_get(s, run_id, &l));
    T_EQ_INT(hamf_run_list_count(l), 1);
    T_EQ_STR(hamf_run_list_get(l, 0)->run_id, run_id);
    T_TRUE(hamf_run_list_json(l)[0] == '{');
    hamf_run_list_free(l);
    T_STATUS(hamf_run_get(s, "0123456789abcdef0123456789abcdef", &l), HAMF_ERR_NOTFOUND);
    T_STATUS(hamf_runs_search(s, "no such experiment", &l), HAMF_ERR_NOTFOUND);

    /* versions and aliases; promote and roll back */
    hamf_model_versions *v = NULL;
    T_OK(hamf_registry_versions(s, "PubModel", &v));
    T_EQ_INT(hamf_model_versions_count(v), 2);
    T_EQ_INT(hamf_model_versions_version(v, 0), 1);
    T_EQ_STR(hamf_model_versions_aliases(v, 0), "champion");
    T_EQ_STR(hamf_model_versions_aliases(v, 1), "");
    T_EQ_STR(hamf_model_versions_run_id(v, 0), run_id);
    T_EQ_STR(hamf_model_versions_source(v, 0), "train");
    T_EQ_INT(strlen(hamf_model_versions_digest(v, 0)), 64);
    T_EQ_INT(hamf_model_versions_model_id(v, 1), r2.model_id);
    T_EQ_STR(hamf_model_versions_aliases(v, 5), ""); /* out of range: empty, no crash */
    hamf_model_versions_free(v);
    T_OK(hamf_registry_promote(s, "PubModel", 2, "test"));
    T_OK(hamf_registry_versions(s, "PubModel", &v));
    T_EQ_STR(hamf_model_versions_aliases(v, 1), "champion");
    hamf_model_versions_free(v);
    char *json = NULL;
    T_OK(hamf_registry_versions_json(s, "PubModel", &json));
    T_TRUE(json[0] == '[' && strstr(json, "champion") != NULL);
    hamf_free(json);
    int64_t back = 0;
    T_OK(hamf_registry_rollback(s, "PubModel", &back));
    T_EQ_INT(back, 1);
    T_STATUS(hamf_registry_promote(s, "PubModel", 99, "no such version"), HAMF_ERR_NOTFOUND);
    T_STATUS(hamf_registry_versions(NULL, "PubModel", &v), HAMF_ERR_MISUSE);

    hamf_ensemble_free(m);
    hamf_dataset_free(d);
    hamf_store_close(s);
}

static void test_drift(void)
{
    hamf_store *s = NULL;
    T_OK(hamf_registry_open(db, &s));
    hamf_drift_report *r = NULL;
    T_OK(hamf_drift_check(s, "PubModel", csv, 1, &r));
    T_EQ_STR(hamf_drift_report_model(r), "PubModel");
    T_EQ_INT(hamf_drift_report_version(r), 1); /* the champion after the rollback */
    T_EQ_INT(hamf_drift_report_rows(r), N);
    T_EQ_INT(hamf_drift_report_nfeatures(r), 2);
    T_TRUE(hamf_drift_report_psi(r, 0) < 0.05 && hamf_drift_report_psi(r, 1) < 0.05);
    T_TRUE(!hamf_drift_report_feature_is_categorical(r, 0));
    hamf_metrics mt;
    T_TRUE(hamf_drift_report_metrics(r, &mt) == 1);
    T_TRUE(mt.accuracy > 80);
    hamf_drift_report_free(r);
    /* a registered version by URI; x1 shifted: large PSI for x1 only */
    T_OK(hamf_drift_check(s, "models:/PubModel/2", shifted, 0, &r));
    T_EQ_INT(hamf_drift_report_version(r), 2);
    T_EQ_STR(hamf_drift_report_feature(r, 0), "x1");
    T_TRUE(hamf_drift_report_psi(r, 0) > 0.25);
    T_TRUE(hamf_drift_report_psi(r, 1) < 0.05);
    hamf_drift_report_free(r);
    T_STATUS(hamf_drift_check(s, "NoSuchModel", csv, 0, &r), HAMF_ERR_NOTFOUND);
    T_STATUS(hamf_drift_check(s, "models:/PubModel@nosuchalias", csv, 0, &r), HAMF_ERR_NOTFOUND);
    hamf_store_close(s);
}

static void test_retrain(void)
{
    hamf_store *s = NULL;
    T_OK(hamf_registry_open(db, &s));
    hamf_retrain_options o;
    hamf_retrain_options_init(&o);
    T_EQ_DBL(o.holdout, 0.2, 0);
    o.out_dir = dir;
    o.artifacts_dir = dir;
    hamf_retrain_result r;
    T_OK(hamf_retrain(s, "models:/PubModel@champion", csv, &o, &r));
    T_EQ_INT(r.champion_version, 1);
    T_EQ_INT(r.challenger_version, 3);
    T_EQ_INT(r.n_holdout, N / 5);
    T_EQ_INT(r.n_train, N - N / 5);
    T_EQ_INT(strlen(r.champion_run), 32);
    T_EQ_INT(strlen(r.challenger_run), 32);
    T_TRUE(r.reason[0] != '\0');
    /* both runs went through the one handle into this store */
    hamf_run_list *l = NULL;
    T_OK(hamf_runs_search(s, "hamf retrain", &l));
    T_EQ_INT(hamf_run_list_count(l), 2);
    hamf_run_list_free(l);
    char *json = NULL;
    T_OK(hamf_retrain_result_json(&r, &json));
    T_TRUE(strstr(json, "\"challenger_version\":3") != NULL);
    T_TRUE(strstr(json, r.promoted ? "\"promoted\":true" : "\"promoted\":false") != NULL);
    hamf_free(json);
    hamf_model_versions *v = NULL;
    T_OK(hamf_registry_versions(s, "PubModel", &v));
    T_EQ_INT(hamf_model_versions_count(v), 3);
    T_EQ_STR(hamf_model_versions_source(v, 2), "retrain");
    T_TRUE(strstr(hamf_model_versions_aliases(v, 2), r.promoted ? "champion" : "challenger") != NULL);
    hamf_model_versions_free(v);
    T_STATUS(hamf_retrain(s, "NoSuchModel", csv, &o, &r), HAMF_ERR_NOTFOUND);
    T_STATUS(hamf_retrain(NULL, "PubModel", csv, &o, &r), HAMF_ERR_MISUSE);
    hamf_store_close(s);
}

static void test_json_quote(void)
{
    char *q = NULL;
    T_OK(hamf_json_quote("a\"b\\\n\x01\xff", &q));
    T_EQ_STR(q, "\"a\\\"b\\\\\\n\\u0001\\ufffd\"");
    hamf_free(q);
    T_STATUS(hamf_json_quote(NULL, &q), HAMF_ERR_MISUSE);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/hamf_public_loop_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    snprintf(db, sizeof db, "%s/hamf.db", dir);
    snprintf(csv, sizeof csv, "%s/data.csv", dir);
    snprintf(shifted, sizeof shifted, "%s/shifted.csv", dir);
    make_data();
    if (write_csv(csv, 0) || write_csv(shifted, 0.5)) return 1;
    T_RUN(test_register_runs_aliases);
    T_RUN(test_drift);
    T_RUN(test_retrain);
    T_RUN(test_json_quote);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
    return T_DONE();
}
