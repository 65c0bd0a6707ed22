/*
 * workflow.c — `hamf workflow run` as library code (hamf.h,
 * hamf_workflow_*): the seed's four steps in one call, and the serving
 * that follows it:
 *
 *   1. registry: the seed's 15 features (features_master), the models
 *      PhishingDetectionModel v1.0 (RandomForest) and v1.1
 *      (GradientBoosting) (models_master), the 14 input features mapped to
 *      v1.0 with the seed's 99.83 accuracy (features_models_map), and the
 *      seed's result for v1.1 (training_results) when it has none. Only what
 *      is missing is added, so it can run again on the same store.
 *   2. data: raw data (the given CSV, or `hamf datagen phishing` output),
 *      then the seed's preprocessing step (alexa_rank_scaled,
 *      pathlength_normalized, hassecureconnection_encoded; the three source
 *      columns dropped).
 *   3. training: Random Forest and Gradient Boosting on one seeded 80/20
 *      split (seed 42, as the seed's train.py), each saved, registered as a
 *      new auto-numbered version of PhishingDetectionModel with its
 *      training_results row, and logged as an MLflow run (hamf_run_*)
 *      linked to that row.
 *   4. export: the exporter's snapshot of the store (latest FINISHED run per
 *      experiment) as Prometheus text, as `hamf exporter` serves it.
 *
 * The library prints nothing: progress goes to an optional callback and the
 * figures into hamf_workflow_report. Serving (the tracking server with UI
 * and /metrics on :5000, the exporter on :8000) is started and stopped
 * in-process with hamf_workflow_serve_*.
 */
#include "hamf.h"
#include "util/util.h"

#include "app/retrain_jobs.h"

#include "server/api.h"
#include "server/exporter.h"
#include "server/metrics_mount.h"
#include "track/loop.h"
#include "track/run_log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* ---- step 1: the seed's registry rows ---- */

static const char *const seed_features[15] = {
    "urllength",  "numberofdots", "hostage",    "hassecureconnection", "has_equal",
    "alexa_rank", "has_digits",   "hostlength", "pathlength",          "registrarname",
    "hyperlinks", "foreignlinks", "brokenhyperlinks", "trickyforms",   "phishing"};

static bool seed_numerical(const char *f)
{
    static const char *const num[] = {"urllength", "numberofdots", "alexa_rank", "hostlength", "pathlength"};
    for (size_t i = 0; i < HAMF_ARRAY_LEN(num); i++)
        if (!strcmp(f, num[i])) return true;
    return false;
}

static hamf_status seed_model(hamf_store *s, const char *version, const char *algo, int64_t *id, int *added)
{
    hamf_model *m = NULL;
    hamf_status st = hamf_store_find_model(s, HAMF_WORKFLOW_MODEL_NAME, version, &m);
    if (!st) {
        *id = m->model_id;
        *added = 0;
    } else if (st == HAMF_ERR_NOTFOUND) {
        st = hamf_store_insert_model(s, HAMF_WORKFLOW_MODEL_NAME, version, algo, NULL, id);
        *added = 1;
    }
    hamf_store_free(m);
    return st;
}

static hamf_status step_registry(hamf_store *s, hamf_workflow_report *r)
{
    hamf_status st = HAMF_OK;
    for (size_t i = 0; i < HAMF_ARRAY_LEN(seed_features); i++) {
        hamf_feature *f = NULL;
        st = hamf_store_find_feature(s, seed_features[i], &f);
        hamf_store_free(f);
        if (st == HAMF_ERR_NOTFOUND) {
            st = hamf_store_insert_feature(s, seed_features[i], seed_numerical(seed_features[i]) ? "numerical" : "categorical",
                                           NULL, NULL);
            if (!st) r->features_added++;
        }
        if (st) goto cleanup;
        r->features_total++;
    }
    if ((st = seed_model(s, "v1.0", "RandomForest", &r->seed_models[0], &r->seed_models_new[0])) ||
        (st = seed_model(s, "v1.1", "GradientBoosting", &r->seed_models[1], &r->seed_models_new[1])))
        goto cleanup;
    /* the seed maps feature ids 1-14: every feature but the target */
    const double acc = 99.83;
    if ((st = hamf_store_map_features_by_name(s, r->seed_models[0], seed_features, 14, &acc))) goto cleanup;
    hamf_training_result *last = NULL;
    st = hamf_store_latest_result(s, r->seed_models[1], &last);
    hamf_store_free(last);
    if (st == HAMF_ERR_NOTFOUND) {
        hamf_training_result tr = {.model_id = r->seed_models[1], .accuracy = 99.83, .f1_score = 0.998,
                                   .precision = 0.999, .recall = 0.997, .training_status = "completed"};
        st = hamf_store_insert_training_result(s, &tr, &r->seed_result_id);
    }
cleanup:
    return st;
}

/* ---- step 2: data ---- */

/* The seed's preprocess_data.py as a pipeline. */
static const char seed_pipeline[] =
    "with alexa_rank_scaled = alexa_rank / 1000000\n"
    "with pathlength_normalized = pathlength / urllength\n"
    "with hassecureconnection_encoded = CASE WHEN hassecureconnection = 'yes' THEN 1 ELSE 0 END\n"
    "drop alexa_rank, pathlength, hassecureconnection\n";


static hamf_status mkdir_p(const char *dir)
{
    hamf_status st = hamf__file_mkdirs(dir);
    return st ? hamf__err_prefix(st, "workflow") : st;
}

static hamf_status path_in(char out[HAMF_WORKFLOW_PATH_MAX], const char *dir, const char *file)
{
    if (snprintf(out, HAMF_WORKFLOW_PATH_MAX, "%s/%s", dir, file) >= HAMF_WORKFLOW_PATH_MAX)
        return hamf__err(HAMF_ERR_CONSTRAINT, "workflow: path too long: %s/%s", dir, file);
    return HAMF_OK;
}

static hamf_status step_data(const hamf_workflow_options *o, const char *work, hamf_workflow_report *r)
{
    hamf_status st;
    if ((st = mkdir_p(work))) return st;
    if (o->data) {
        if (snprintf(r->raw_path, sizeof r->raw_path, "%s", o->data) >= (int)sizeof r->raw_path)
            return hamf__err(HAMF_ERR_CONSTRAINT, "workflow: path too long: %s", o->data);
    } else {
        if ((st = path_in(r->raw_path, work, "raw_data.csv"))) return st;
        hamf_datagen_options g = {.rows = o->rows ? o->rows : 20000, .seed = o->has_data_seed ? o->data_seed : 1,
                                  .drift = 0,
                                  .label_noise = o->has_label_noise ? o->label_noise : HAMF_DATAGEN_LABEL_NOISE};
        if ((st = hamf_datagen_phishing(&g, r->raw_path))) return st;
        r->generated = true;
    }
    if ((st = path_in(r->processed_path, work, "processed_data.csv"))) return st;
    hamf_pipeline *pl = NULL;
    if ((st = hamf_pipeline_parse(seed_pipeline, "seed preprocessing", &pl))) return st;
    hamf_csv_options co;
    hamf_csv_options_init(&co);
    co.threads = o->threads > 0 ? o->threads : 0;
    st = hamf_csv_transform(r->raw_path, &co, pl, r->processed_path, &r->rows);
    hamf_pipeline_free(pl);
    return st;
}

/* ---- step 3: training ---- */

struct split {
    hamf_dataset *tr, *te;
};

static hamf_status load_split(const hamf_workflow_options *o, const char *path, struct split *sp)
{
    hamf_frame *f = NULL;
    hamf_dataset *all = NULL;
    size_t *itr = NULL, *ite = NULL, ntr = 0, nte = 0;
    hamf_csv_options co;
    hamf_csv_options_init(&co);
    co.threads = o->threads > 0 ? o->threads : 0;
    hamf_status st = hamf_csv_read(path, &co, &f);
    if (!st) st = hamf_dataset_from_frame(f, "phishing", &all);
    hamf_frame_free(f);
    if (!st && hamf_dataset_nrows(all) < 10)
        st = hamf__err(HAMF_ERR_CONSTRAINT, "workflow: %s has %zu rows; need at least 10", path, hamf_dataset_nrows(all));
    if (!st)
        st = hamf_split_train_test(hamf_dataset_nrows(all), o->test_size > 0 ? o->test_size : 0.2,
                                   o->has_train_seed ? o->train_seed : 42, NULL, &itr, &ntr, &ite, &nte);
    if (!st) st = hamf_dataset_subset(all, itr, ntr, &sp->tr);
    if (!st) st = hamf_dataset_subset(all, ite, nte, &sp->te);
    hamf_free_indices(itr);
    hamf_free_indices(ite);
    hamf_dataset_free(all);
    return st;
}

static hamf_status train_one(const hamf_workflow_options *o, hamf_store *store, const char *work,
                             const struct split *sp, hamf_algorithm algo, hamf_workflow_model *wm)
{
    double t0 = hamf__mono_seconds();
    bool rf = algo == HAMF_ALGO_RANDOM_FOREST;
    wm->algorithm = rf ? "random-forest" : "gradient-boosting";
    wm->oob_accuracy = NAN;
    hamf_status st = path_in(wm->path, work, rf ? "rf.hamf" : "gb.hamf");
    if (st) return st;
    hamf_train_params p;
    hamf_train_params_init(&p, algo);
    p.n_estimators = rf ? (o->rf_estimators > 0 ? o->rf_estimators : 100) : (o->gb_estimators > 0 ? o->gb_estimators : 1000);
    p.seed = o->has_train_seed ? o->train_seed : 42;
    p.threads = o->threads;

    hamf_run *run = NULL;
    hamf_ensemble *m = NULL;
    double *proba = NULL;
    hamf_run_dest dest = {.tracking_uri = o->tracking_uri, .db_url = o->db_url, .store = store,
                          .artifacts_dir = o->artifacts_dir};
    if (!o->no_track) {
        hamf_kv tags[2] = {{"hamf.algorithm", wm->algorithm}, {"hamf.model_name", HAMF_WORKFLOW_MODEL_NAME}};
        hamf_run_options ts = {.experiment = o->experiment, .source_name = "hamf workflow run", .tags = tags,
                               .ntags = 2};
        if ((st = hamf_run_start(&dest, &ts, &run))) goto cleanup;
        snprintf(wm->run_id, sizeof wm->run_id, "%s", hamf_run_id(run));
        snprintf(wm->experiment_id, sizeof wm->experiment_id, "%s", hamf_run_experiment_id(run));
    }
    double f0 = hamf__mono_seconds();
    if ((st = hamf_ensemble_fit(sp->tr, &p, &m))) goto cleanup;
    wm->fit_seconds = hamf__mono_seconds() - f0;
    wm->n_train = hamf_dataset_nrows(sp->tr);
    wm->n_test = hamf_dataset_nrows(sp->te);
    wm->n_trees = hamf_ensemble_ntrees(m);
    wm->oob_accuracy = hamf_ensemble_oob_accuracy(m);
    if (!(proba = hamf__malloc((wm->n_test + 1) * sizeof *proba))) {
        st = hamf__err(HAMF_ERR_NOMEM, "workflow: out of memory");
        goto cleanup;
    }
    if ((st = hamf_ensemble_predict(m, sp->te, o->threads, proba)) ||
        (st = hamf_metrics_compute(hamf_dataset_label(sp->te), proba, wm->n_test, &wm->metrics)) ||
        (st = hamf_ensemble_save(m, wm->path)))
        goto cleanup;
    struct hamf__track_register reg = {.model_name = HAMF_WORKFLOW_MODEL_NAME, .model = m, .metrics = &wm->metrics,
                                       .run_id = run ? wm->run_id : NULL};
    struct hamf__track_registered got;
    /* registry rows and a model registry version (the first becomes
     * champion), in one transaction */
    int64_t loop_version = 0;
    if ((st = hamf__track_register_training(store, &reg, wm->path, sp->tr, &got, &loop_version))) goto cleanup;
    wm->model_id = got.model_id;
    wm->result_id = got.result_id;
    snprintf(wm->model_version, sizeof wm->model_version, "%s", got.model_version);
    if (run) {
        char ts[32], name[128];
        snprintf(ts, sizeof ts, "%g", o->test_size > 0 ? o->test_size : 0.2);
        snprintf(name, sizeof name, "%s-%s-%s", wm->algorithm, HAMF_WORKFLOW_MODEL_NAME, wm->model_version);
        hamf_kv params[2] = {{"target", "phishing"}, {"test_size", ts}};
        hamf_kv tags[1] = {{"mlflow.runName", name}};
        hamf_run_metric extra[4] = {{"fit_seconds", wm->fit_seconds, 0},
                                    {"n_train", (double)wm->n_train, 0},
                                    {"n_test", (double)wm->n_test, 0},
                                    {"oob_accuracy", wm->oob_accuracy, 0}};
        hamf_run_training t = {.model = m, .metrics = &wm->metrics, .model_path = wm->path,
                               .model_name = HAMF_WORKFLOW_MODEL_NAME, .model_version = wm->model_version,
                               .model_id = wm->model_id, .result_id = wm->result_id, .params = params,
                               .nparams = 2, .extra = extra, .nextra = 4, .tags = tags, .ntags = 1};
        if ((st = hamf_run_finish(run, &t))) goto cleanup;
        size_t nit = 0;
        const double *tr = NULL, *va = NULL;
        hamf_ensemble_loss_history(m, &nit, &tr, &va);
        wm->n_iterations_logged = tr ? nit : 0;
    }
    wm->seconds = hamf__mono_seconds() - t0;
cleanup:
    hamf_run_close(run); /* FAILED when not finished */
    hamf__free(proba);
    hamf_ensemble_free(m);
    return st;
}

/* ---- step 4: export ---- */

static hamf_status step_export(const hamf_workflow_options *o, hamf_workflow_report *r)
{
    const char *uri = o->tracking_uri && *o->tracking_uri ? o->tracking_uri : o->db_url;
    const char *exp[1] = {o->experiment && *o->experiment ? o->experiment : HAMF_DEFAULT_EXPERIMENT};
    struct hamf__exporter_source *src = NULL;
    struct hamf__exporter *e = NULL;
    size_t len = 0;
    hamf_status st = hamf__exporter_source_open(uri, exp, 1, &src);
    /* one refresh happens inside create; the long interval keeps the thread idle */
    if (!st) st = hamf__exporter_create(hamf__exporter_source_collect, src, 3600 * 1000, &e);
    if (!st) st = hamf__exporter_render(e, &r->exposition, &len);
    hamf__exporter_destroy(e);
    hamf__exporter_source_close(src);
    return st;
}

/* ---- the four steps ---- */

static void emit(const hamf_workflow_options *o, hamf_workflow_event ev, int step,
                 const hamf_workflow_report *r)
{
    if (o->progress) o->progress(o->progress_ctx, ev, step, r);
}

hamf_status hamf_workflow_run(const hamf_workflow_options *o, hamf_workflow_report *r)
{
    if (!o || !r) return hamf__err(HAMF_ERR_MISUSE, "workflow: NULL argument");
    memset(r, 0, sizeof *r);
    if (!o->db_url || !*o->db_url) return hamf__err(HAMF_ERR_MISUSE, "workflow: no store given");
    const char *work = o->work_dir && *o->work_dir ? o->work_dir : "hamf-workflow";
    double t0 = hamf__mono_seconds(), ts;
    hamf_status st;
    struct split sp = {0};
    hamf_store *store = NULL; /* the one store handle of the run */

    emit(o, HAMF_WORKFLOW_STEP_BEGIN, 1, r);
    ts = hamf__mono_seconds();
    if ((st = hamf__loop_open(o->db_url, &store)) || (st = step_registry(store, r))) {
        hamf__err_prefix(st, "workflow: step 1 (registry, %s)", o->db_url);
        goto done;
    }
    r->step_seconds[1] = hamf__mono_seconds() - ts;
    emit(o, HAMF_WORKFLOW_STEP_END, 1, r);

    emit(o, HAMF_WORKFLOW_STEP_BEGIN, 2, r);
    ts = hamf__mono_seconds();
    if ((st = step_data(o, work, r))) {
        hamf__err_prefix(st, "workflow: step 2 (data)");
        goto done;
    }
    r->step_seconds[2] = hamf__mono_seconds() - ts;
    emit(o, HAMF_WORKFLOW_STEP_END, 2, r);

    emit(o, HAMF_WORKFLOW_STEP_BEGIN, 3, r);
    ts = hamf__mono_seconds();
    if (!o->no_track)
        snprintf(r->tracking, sizeof r->tracking, "%s",
                 o->tracking_uri && *o->tracking_uri ? o->tracking_uri : o->db_url);
    if ((st = load_split(o, r->processed_path, &sp))) {
        hamf__err_prefix(st, "workflow: step 3 (training data)");
        goto done;
    }
    static const hamf_algorithm algos[2] = {HAMF_ALGO_RANDOM_FOREST, HAMF_ALGO_GRADIENT_BOOSTING};
    for (size_t i = 0; i < 2; i++) {
        emit(o, HAMF_WORKFLOW_MODEL_BEGIN, 3, r);
        if ((st = train_one(o, store, work, &sp, algos[i], &r->models[i]))) {
            hamf__err_prefix(st, "workflow: step 3 (%s)", r->models[i].algorithm);
            goto done;
        }
        r->nmodels = i + 1;
        emit(o, HAMF_WORKFLOW_MODEL_END, 3, r);
    }
    r->step_seconds[3] = hamf__mono_seconds() - ts;
    emit(o, HAMF_WORKFLOW_STEP_END, 3, r);

    emit(o, HAMF_WORKFLOW_STEP_BEGIN, 4, r);
    ts = hamf__mono_seconds();
    if ((st = step_export(o, r))) {
        hamf__err_prefix(st, "workflow: step 4 (export)");
        goto done;
    }
    r->step_seconds[4] = hamf__mono_seconds() - ts;
    emit(o, HAMF_WORKFLOW_STEP_END, 4, r);
done:
    hamf_store_close(store);
    hamf_dataset_free(sp.tr);
    hamf_dataset_free(sp.te);
    r->total_seconds = hamf__mono_seconds() - t0;
    return st;
}

void hamf_workflow_report_free(hamf_workflow_report *r)
{
    if (!r) return;
    hamf__free(r->exposition);
    r->exposition = NULL;
}

/* ---- serving ---- */

struct hamf_workflow_server {
    struct hamf__server *server;
    struct hamf__exporter_source *src;
    struct hamf__exporter *exp;
    struct hamf__http_server *http;
};

void hamf_workflow_serve_stop(hamf_workflow_server *s)
{
    if (!s) return;
    if (s->http) hamf__http_stop(s->http, 5.0);
    hamf__exporter_destroy(s->exp);
    hamf__exporter_source_close(s->src);
    if (s->server) hamf__server_stop(s->server, 10.0);
    hamf__free(s);
}

hamf_status hamf_workflow_serve_start(const hamf_workflow_serve_options *o, hamf_workflow_server **out)
{
    if (!o || !o->db_url || !out) return hamf__err(HAMF_ERR_MISUSE, "workflow: serve: NULL argument");
    hamf_workflow_server *s = hamf__calloc(1, sizeof *s);
    if (!s) return hamf__err(HAMF_ERR_NOMEM, "workflow: out of memory");
    const char *host = o->host && *o->host ? o->host : "127.0.0.1";
    struct hamf__server_config sc = {.host = host, .port = o->server_port < 0 ? 5000 : o->server_port, .threads = 8,
                                     .db_url = o->db_url,
                                     .artifacts_dir = o->artifacts_dir && *o->artifacts_dir ? o->artifacts_dir
                                                                                             : HAMF_DEFAULT_ARTIFACTS_DIR};
    hamf__retrain_jobs_install();
    hamf_status st = hamf__server_start(&sc, &s->server);
    if (st) {
        hamf__err_prefix(st, "workflow: serve: tracking server on %s:%d", host, sc.port);
        goto fail;
    }
    if ((st = hamf__exporter_source_open(o->db_url, NULL, 0, &s->src)) ||
        (st = hamf__exporter_create(hamf__exporter_source_collect, s->src, o->interval_ms > 0 ? o->interval_ms : 15000,
                                    &s->exp))) {
        hamf__err_prefix(st, "workflow: serve: exporter");
        goto fail;
    }
    static const struct hamf__http_route routes[] = {
        {"GET", "/metrics", 0, hamf__metrics_route, NULL},
        {"GET", "/", 0, hamf__metrics_index_route, NULL},
    };
    struct hamf__http_config hc = {.host = host, .port = o->exporter_port < 0 ? 8000 : o->exporter_port, .threads = 2,
                                   .routes = routes, .nroutes = HAMF_ARRAY_LEN(routes), .ctx = s->exp};
    if ((st = hamf__http_start(&hc, &s->http))) {
        hamf__err_prefix(st, "workflow: serve: exporter on %s:%d", host, hc.port);
        goto fail;
    }
    *out = s;
    return HAMF_OK;
fail:
    hamf_workflow_serve_stop(s);
    return st;
}

int hamf_workflow_serve_server_port(const hamf_workflow_server *s) { return s ? hamf__server_port(s->server) : 0; }
int hamf_workflow_serve_exporter_port(const hamf_workflow_server *s) { return s ? hamf__http_port(s->http) : 0; }
