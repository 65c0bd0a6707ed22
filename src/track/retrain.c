/*
 * retrain.c — champion/challenger retraining (`hamf retrain` and the
 * server's retrain jobs). The newest rows of the new labelled data are held
 * out (--holdout fraction, default 0.2); a challenger is trained with the
 * champion's algorithm, hyperparameters and preprocessing pipeline on the
 * last --window rows before them; both models are scored on the same
 * held-out slice and logged as runs (experiment "hamf retrain", through
 * track/run_log.h, the model file as artifact; the one that remains
 * champion is logged last); the
 * challenger becomes a new version (models_master, features map,
 * training_results with status challenger-promoted / challenger-rejected,
 * model_versions with its training bin counts, alias challenger) and is
 * promoted to champion only when its accuracy beats the champion's by
 * more than 0 and at least min_gain points
 * and its F1 is not lower than the champion's by more than the tolerance.
 * The decision and its reasons go to retrain_decisions and audit_log.
 * Everything runs on the caller's one store handle: the two runs are logged
 * first, then every registry record of the challenger (models_master,
 * features map, training_results, version, challenger alias, decision,
 * promotion) is written in ONE transaction, so a failure leaves the
 * registry as it was.
 */
#include "ml/ml.h"
#include "store/db.h"
#include "store/store.h"
#include "track/run_log.h"
#include "track/loop.h"

#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRAIN_EXPERIMENT "hamf retrain"

void hamf_retrain_options_init(hamf_retrain_options *o)
{
    memset(o, 0, sizeof *o);
    o->holdout = 0.2;
    o->min_gain = 0;
    o->tolerance = 0.01;
    o->trigger = "cli";
}

/* Log one evaluated model as a FINISHED run (track/run_log.h: params,
 * metrics, tags, the model file as artifact) in experiment "hamf retrain". */
static hamf_status log_run(hamf_store *s, const char *artifacts_dir, const char *name, int64_t version,
                           const char *mver, const char *role, const hamf_metrics *m, const hamf_ensemble *e,
                           const char *model_path, size_t n_train, size_t n_holdout, const char *data_path,
                           char *run_id, size_t cap)
{
    /* hamf.model_version (the exporter's model_version label) is the
     * models_master version string, as `hamf train` tags it ("v3"); the
     * registry's integer version is in the run name. */
    char ver[64], run_name[160];
    snprintf(ver, sizeof ver, "%s", mver);
    snprintf(run_name, sizeof run_name, "%s v%lld %s", name, (long long)version, role);
    hamf_run_dest d = {.store = s, .artifacts_dir = artifacts_dir};
    hamf_kv tags[] = {{"hamf.role", role}};
    hamf_run_options st = {.experiment = RETRAIN_EXPERIMENT, .run_name = run_name,
                           .source_name = "hamf retrain"};
    hamf_kv params[] = {{"data", data_path}};
    hamf_run_metric extra[] = {{"n_train", (double)n_train, 0}, {"n_holdout", (double)n_holdout, 0}};
    hamf_run_training t = {.model = e, .metrics = m, .model_path = model_path, .model_name = name,
                           .model_version = ver, .params = params, .nparams = HAMF_ARRAY_LEN(params),
                           .extra = extra, .nextra = HAMF_ARRAY_LEN(extra), .tags = tags,
                           .ntags = HAMF_ARRAY_LEN(tags)};
    char id[33] = "";
    hamf_status rc = hamf__track_log_training(&d, &st, &t, id);
    if (!rc) snprintf(run_id, cap, "%s", id);
    return rc;
}

static hamf_status score(const hamf_ensemble *m, const hamf_dataset *d, hamf_metrics *out)
{
    size_t n = hamf_dataset_nrows(d);
    double *p = hamf__malloc((n + 1) * sizeof *p);
    if (!p) return hamf__err(HAMF_ERR_NOMEM, "retrain: out of memory");
    hamf_status s = hamf_ensemble_predict(m, d, 0, p);
    if (!s) s = hamf_metrics_compute(hamf_dataset_label(d), p, n, out);
    hamf__free(p);
    return s;
}

hamf_status hamf__retrain_result_json(const hamf_retrain_result *r, struct hamf__buf *out)
{
    return hamf__buf_printf(out,
                            "{\"champion_version\":%lld,\"challenger_version\":%lld,\"promoted\":%s,"
                            "\"champion_accuracy\":%.6f,\"challenger_accuracy\":%.6f,\"champion_f1\":%.6f,"
                            "\"challenger_f1\":%.6f,\"n_train\":%zu,\"n_holdout\":%zu,\"champion_run\":\"%s\","
                            "\"challenger_run\":\"%s\",\"reason\":",
                            (long long)r->champion_version, (long long)r->challenger_version,
                            r->promoted ? "true" : "false", r->champion.accuracy, r->challenger.accuracy,
                            r->champion.f1_score, r->challenger.f1_score, r->n_train, r->n_holdout, r->champion_run,
                            r->challenger_run) ||
                   hamf__json_str(out, r->reason, (size_t)-1) || hamf__buf_putc(out, '}')
               ? hamf__err(HAMF_ERR_NOMEM, "retrain: out of memory")
               : HAMF_OK;
}

hamf_status hamf_retrain_result_json(const hamf_retrain_result *r, char **out)
{
    if (!r || !out) return hamf__err(HAMF_ERR_MISUSE, "retrain: NULL argument");
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_status st = hamf__retrain_result_json(r, &b);
    if (st) {
        hamf__buf_free(&b);
        return st;
    }
    if (!(*out = hamf__buf_detach(&b, NULL))) return hamf__err(HAMF_ERR_NOMEM, "retrain: out of memory");
    return HAMF_OK;
}

hamf_status hamf_retrain(hamf_store *s, const char *name, const char *data_path, const hamf_retrain_options *o,
                         hamf_retrain_result *out)
{
    if (!s || !name || !data_path || !out) return hamf__err(HAMF_ERR_MISUSE, "retrain: NULL argument");
    hamf_retrain_options defaults;
    if (!o) {
        hamf_retrain_options_init(&defaults);
        o = &defaults;
    }
    /* models:/NAME@champion (or any URI naming the champion) works as NAME */
    struct hamf__loop_version ref;
    if (name && (!strncmp(name, "models:/", 8) || !strncmp(name, "runs:/", 6))) {
        char *file = NULL;
        hamf_status rs = hamf__model_ref_resolve_store(s, name, &ref, &file);
        bool plain = file != NULL;
        hamf__free(file);
        if (rs) return rs;
        if (plain || !ref.champion)
            return hamf__err(HAMF_ERR_CONSTRAINT,
                             "retrain: '%s' is not the champion of a registered model; retraining starts from the "
                             "champion (models:/NAME@champion)",
                             name);
        name = ref.model_name;
    }
    hamf_retrain_result r;
    memset(&r, 0, sizeof r);
    hamf_ensemble *champ = NULL, *chal = NULL;
    hamf_dataset *all = NULL, *tr = NULL, *ho = NULL;
    size_t *idx = NULL;
    char *bins = NULL, *dir_copy = NULL;
    const char **names = NULL;
    struct hamf__buf details;
    hamf__buf_init(&details, 0);
    struct hamf__loop_version cv;
    hamf_status st;
    if ((st = hamf__loop_version_get(s, name, 0, &cv))) goto cleanup;
    r.champion_version = cv.version;
    if ((st = hamf__loop_version_load(&cv, &champ))) goto cleanup;
    hamf_train_params p;
    hamf_train_params_init(&p, hamf_ensemble_algorithm(champ));
    const char *pj = hamf_ensemble_params_json(champ);
    if (pj && *pj && (st = hamf_train_params_parse_json(&p, pj))) {
        hamf__err_prefix(st, "retrain: the champion's parameters");
        goto cleanup;
    }
    p.progress = NULL;
    p.threads = 0;
    if ((st = hamf__drift_load_data(data_path, champ, true, &all))) goto cleanup;
    size_t n = hamf_dataset_nrows(all);
    size_t nh = (size_t)llround((double)n * o->holdout);
    if (nh < 1) nh = 1;
    if (n < nh + 2) {
        st = hamf__err(HAMF_ERR_CONSTRAINT, "retrain: %s has %zu rows; too few to hold out %zu and train", data_path,
                       n, nh);
        goto cleanup;
    }
    size_t pool_n = n - nh, w = o->window && o->window < pool_n ? o->window : pool_n;
    if (w < 2) {
        st = hamf__err(HAMF_ERR_CONSTRAINT, "retrain: --window %zu leaves fewer than 2 training rows", o->window);
        goto cleanup;
    }
    idx = hamf__malloc(n * sizeof *idx);
    if (!idx) {
        st = hamf__err(HAMF_ERR_NOMEM, "retrain: out of memory");
        goto cleanup;
    }
    /* newest rows are last in the file: hold out the tail, train on the window before it */
    for (size_t i = 0; i < n; i++) idx[i] = i;
    if ((st = hamf_dataset_subset(all, idx + pool_n - w, w, &tr)) || (st = hamf_dataset_subset(all, idx + pool_n, nh, &ho)))
        goto cleanup;
    r.n_train = w;
    r.n_holdout = nh;
    if ((st = hamf_ensemble_fit(tr, &p, &chal))) goto cleanup;
    if (hamf_ensemble_pipeline(champ) && (st = hamf_ensemble_set_pipeline(chal, hamf_ensemble_pipeline(champ))))
        goto cleanup;
    if ((st = score(champ, ho, &r.champion)) || (st = score(chal, ho, &r.challenger))) goto cleanup;

    /* decision */
    double gain = r.challenger.accuracy - r.champion.accuracy;
    double f1_loss = r.champion.f1_score - r.challenger.f1_score;
    /* "beats": strictly better, and by at least min_gain points */
    bool acc_ok = gain > 0 && gain >= o->min_gain, f1_ok = f1_loss <= o->tolerance;
    r.promoted = acc_ok && f1_ok;
    snprintf(r.reason, sizeof r.reason,
             "accuracy %.2f %% vs champion %.2f %% (gain %+.2f points, required > 0 and >= %g): %s; F1 %.4f vs %.4f (loss %.4f, "
             "tolerance %g): %s; held-out %zu newest rows, trained on %zu",
             r.challenger.accuracy, r.champion.accuracy, gain, o->min_gain, acc_ok ? "ok" : "insufficient",
             r.challenger.f1_score, r.champion.f1_score, f1_loss, o->tolerance, f1_ok ? "ok" : "too large", nh, w);

    /* the challenger's file and registry records */
    struct hamf__loop_version *vs = NULL;
    size_t nv = 0;
    if ((st = hamf__loop_versions(s, name, &vs, &nv))) goto cleanup;
    int64_t next = nv ? vs[nv - 1].version + 1 : 1;
    hamf__free(vs);
    /* beside the champion's own file (not the registry's content store) */
    dir_copy = hamf__strdup(cv.user_file[0] ? cv.user_file : cv.artifact);
    if (!dir_copy) {
        st = hamf__err(HAMF_ERR_NOMEM, "retrain: out of memory");
        goto cleanup;
    }
    char path[2048];
    snprintf(path, sizeof path, "%s/%s-v%lld.hamf", o->out_dir ? o->out_dir : dirname(dir_copy), name,
             (long long)next);
    for (char *c = strrchr(path, '/') + 1; *c; c++)
        if (*c == ' ') *c = '_';
    if ((st = hamf_ensemble_save(chal, path))) goto cleanup;
    char mver[64];
    for (int k = 1;; k++) {
        snprintf(mver, sizeof mver, "v%d", k);
        hamf_model *found = NULL;
        st = hamf_store_find_model(s, name, mver, &found);
        hamf_store_free(found);
        if (st == HAMF_ERR_NOTFOUND) break;
        if (st) goto cleanup;
    }
    st = HAMF_OK; /* the free version string was found */
    char desc[200];
    snprintf(desc, sizeof desc, "hamf retrain challenger (%s), %zu trees, %zu rows", o->trigger,
             hamf_ensemble_ntrees(chal), w);
    /* runs: the model that stays champion is logged last, so the latest run
     * of the experiment (what the exporter publishes) is the champion's */
    {
        char champ_mver[64] = "";
        hamf_model *cm = NULL;
        if (hamf_store_get_model(s, cv.model_id, &cm) == HAMF_OK && cm->model_version)
            snprintf(champ_mver, sizeof champ_mver, "%s", cm->model_version);
        else
            snprintf(champ_mver, sizeof champ_mver, "%lld", (long long)r.champion_version);
        hamf_store_free(cm);
        struct {
            int64_t v;
            const char *mver;
            const char *role;
            const hamf_metrics *m;
            const hamf_ensemble *e;
            const char *path;
            size_t ntr;
            char *id;
        } runs[2] = {{r.champion_version, champ_mver, "champion", &r.champion, champ, cv.artifact, 0, r.champion_run},
                     {next, mver, "challenger", &r.challenger, chal, path, w, r.challenger_run}};
        for (int k = 0; k < 2 && !st; k++) {
            int i = r.promoted ? k : 1 - k;
            st = log_run(s, o->artifacts_dir, name, runs[i].v, runs[i].mver, runs[i].role, runs[i].m, runs[i].e, runs[i].path,
                         runs[i].ntr, nh, data_path, runs[i].id, sizeof r.champion_run);
        }
    }
    if (st) goto cleanup;

    /* the registry's records, all or nothing: models_master, features map,
     * training_results, the version with its bin counts, the challenger
     * alias, the decision, and the promotion */
    if ((st = hamf__drift_train_bins(chal, tr, &bins))) goto cleanup; /* the CPU work before the write lock */
    size_t nf = hamf_ensemble_nfeatures(chal);
    if (!(names = hamf__calloc(nf + 1, sizeof *names))) {
        st = hamf__err(HAMF_ERR_NOMEM, "retrain: out of memory");
        goto cleanup;
    }
    for (size_t f = 0; f < nf; f++) names[f] = hamf_ensemble_feature_name(chal, f);
    struct hamf__db *db = hamf__store_db(s);
    bool own = false;
    if ((st = hamf__db_tx_begin(db, &own))) goto cleanup;
    int64_t model_id = 0, result_id = 0, got = 0;
    st = hamf_store_insert_model(s, name, mver,
                                 hamf_ensemble_algorithm(chal) == HAMF_ALGO_RANDOM_FOREST ? "RandomForest"
                                                                                          : "GradientBoosting",
                                 desc, &model_id);
    if (!st) {
        st = hamf_store_map_features_by_name(s, model_id, names, nf, &r.challenger.accuracy);
        if (st == HAMF_ERR_NOTFOUND) st = HAMF_OK; /* features the registry lacks stay unmapped */
    }
    if (!st) {
        hamf_training_result tres = {0};
        tres.model_id = model_id;
        tres.accuracy = r.challenger.accuracy;
        tres.f1_score = r.challenger.f1_score;
        tres.precision = r.challenger.precision;
        tres.recall = r.challenger.recall;
        tres.training_status = r.promoted ? "challenger-promoted" : "challenger-rejected";
        tres.run_id = r.challenger_run[0] ? r.challenger_run : NULL;
        st = hamf_store_insert_training_result(s, &tres, &result_id);
    }
    if (!st) st = hamf__loop_version_add(s, name, model_id, path, r.challenger_run, bins, "retrain", &got);
    if (!st) {
        r.challenger_version = got;
        st = hamf__loop_set_challenger(s, name, got);
    }
    if (!st) st = hamf__retrain_result_json(&r, &details);
    if (!st) st = hamf__loop_decision_record(s, name, r.champion_version, got, r.promoted, r.reason, details.data);
    if (!st && r.promoted) st = hamf__loop_promote(s, name, got, r.reason);
    st = hamf__db_tx_end(db, own, st);
    if (!st) *out = r;
cleanup:
    hamf__buf_free(&details);
    hamf__free(dir_copy);
    hamf__free(bins);
    hamf__free(idx);
    hamf_dataset_free(all);
    hamf_dataset_free(tr);
    hamf_dataset_free(ho);
    hamf_ensemble_free(champ);
    hamf_ensemble_free(chal);
    hamf__free(names);
    return st;
}
