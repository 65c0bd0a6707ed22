/*
 * register.c — the HAMF registry side of one training (run_log.h,
 * hamf__track_register_model): the model in models_master (versions v1,
 * v2, ... numbered when not given), its input features in features_master
 * (added when new) mapped in features_models_map with the held-out
 * accuracy, and the training_results row linked to the tracked run.
 */
#include "track/run_log.h"

#include "store/db.h"
#include "store/store.h"
#include "track/loop.h"
#include "store/loop.h"

#include <stdio.h>
#include <string.h>

hamf_status hamf__track_register_model(hamf_store *s, const struct hamf__track_register *r,
                                       struct hamf__track_registered *out)
{
    if (!s || !r || !r->model || !r->metrics || !out) return hamf__err(HAMF_ERR_MISUSE, "register: NULL argument");
    const hamf_ensemble *m = r->model;
    const char *name = r->model_name && *r->model_name ? r->model_name : "PhishingDetectionModel";
    const char *algo = r->algorithm && *r->algorithm ? r->algorithm
                       : hamf_ensemble_algorithm(m) == HAMF_ALGO_RANDOM_FOREST ? "RandomForest"
                                                                              : "GradientBoosting";
    const char **names = NULL;
    struct hamf__track_registered res = {0};
    hamf_status st = HAMF_OK;
    if (r->model_version && *r->model_version) {
        snprintf(res.model_version, sizeof res.model_version, "%s", r->model_version);
    } else {
        for (int k = 1;; k++) {
            snprintf(res.model_version, sizeof res.model_version, "v%d", k);
            hamf_model *found = NULL;
            st = hamf_store_find_model(s, name, res.model_version, &found);
            hamf_store_free(found);
            if (st == HAMF_ERR_NOTFOUND) break;
            if (st) goto cleanup;
        }
    }
    char desc[160];
    snprintf(desc, sizeof desc, "hamf %s, %zu trees",
             hamf_ensemble_algorithm(m) == HAMF_ALGO_RANDOM_FOREST ? "random-forest" : "gradient-boosting",
             hamf_ensemble_ntrees(m));
    if ((st = hamf_store_insert_model(s, name, res.model_version, algo, desc, &res.model_id))) goto cleanup;
    size_t nf = hamf_ensemble_nfeatures(m);
    if (!(names = hamf__calloc(nf + 1, sizeof *names))) {
        st = hamf__err(HAMF_ERR_NOMEM, "register: out of memory");
        goto cleanup;
    }
    for (size_t f = 0; f < nf; f++) {
        names[f] = hamf_ensemble_feature_name(m, f);
        hamf_feature *feat = NULL;
        st = hamf_store_find_feature(s, names[f], &feat);
        hamf_store_free(feat);
        if (st == HAMF_ERR_NOTFOUND)
            st = hamf_store_insert_feature(s, names[f],
                                           hamf_ensemble_feature_is_categorical(m, f) ? "categorical" : "numerical",
                                           NULL, NULL);
        if (st) goto cleanup;
    }
    if ((st = hamf_store_map_features_by_name(s, res.model_id, names, nf, &r->metrics->accuracy))) goto cleanup;
    hamf_training_result tr = {0};
    tr.model_id = res.model_id;
    tr.accuracy = r->metrics->accuracy;
    tr.f1_score = r->metrics->f1_score;
    tr.precision = r->metrics->precision;
    tr.recall = r->metrics->recall;
    tr.training_status = r->status;
    tr.run_id = r->run_id;
    if ((st = hamf_store_insert_training_result(s, &tr, &res.result_id))) goto cleanup;
    *out = res;
cleanup:
    if (st) hamf__err_prefix(st, "register: model %s %s", name, res.model_version);
    hamf__free(names);
    return st;
}

hamf_status hamf__loop_register_training(hamf_store *s, const char *name, int64_t model_id, const char *artifact,
                                         const char *run_id, const hamf_ensemble *m, const hamf_dataset *train,
                                         int64_t *version)
{
    char *bins = NULL;
    hamf_status st = hamf__drift_train_bins(m, train, &bins);
    if (!st) st = hamf__loop_version_add(s, name, model_id, artifact, run_id, bins, "train", version);
    hamf__free(bins);
    return st;
}

hamf_status hamf__track_register_training(hamf_store *s, const struct hamf__track_register *r, const char *artifact,
                                          const hamf_dataset *train, struct hamf__track_registered *out,
                                          int64_t *registry_version)
{
    char *bins = NULL;
    hamf_status st = hamf__drift_train_bins(r->model, train, &bins); /* the CPU work before the write lock */
    if (st) return st;
    struct hamf__db *db = hamf__store_db(s);
    bool own = false;
    const char *name = r->model_name && *r->model_name ? r->model_name : "PhishingDetectionModel";
    if (!(st = hamf__db_tx_begin(db, &own)) && !(st = hamf__track_register_model(s, r, out)))
        st = hamf__loop_version_add(s, name, out->model_id, artifact, r->run_id, bins, "train", registry_version);
    if (own) st = hamf__db_tx_end(db, own, st);
    hamf__free(bins);
    return st;
}

hamf_status hamf_registry_register(hamf_store *s, const hamf_register_options *o, hamf_registration *out)
{
    if (!s || !o || !o->model || !o->metrics || !o->reference || !o->artifact || !out)
        return hamf__err(HAMF_ERR_MISUSE, "register: NULL argument");
    const struct hamf__track_register reg = {.model_name = o->name, .model_version = o->version, .model = o->model,
                                             .metrics = o->metrics, .run_id = o->run_id};
    struct hamf__track_registered got;
    int64_t rv = 0;
    hamf_status st = hamf__track_register_training(s, &reg, o->artifact, o->reference, &got, &rv);
    if (st) return st;
    memset(out, 0, sizeof *out);
    out->model_id = got.model_id;
    out->result_id = got.result_id;
    out->registry_version = rv;
    snprintf(out->model_version, sizeof out->model_version, "%s", got.model_version);
    return HAMF_OK;
}

hamf_status hamf_register_model(const char *db_url, const hamf_register_options *o, int64_t *model_id,
                                char *model_version, int64_t *registry_version)
{
    if (!db_url || !o || !o->model || !o->metrics || !o->reference || !o->artifact)
        return hamf__err(HAMF_ERR_MISUSE, "register: NULL argument");
    hamf_store *s = NULL;
    hamf_status st = hamf__loop_open(db_url, &s);
    if (st) return st;
    hamf_registration got;
    st = hamf_registry_register(s, o, &got);
    hamf_store_close(s);
    if (st) return st;
    if (model_id) *model_id = got.model_id;
    if (model_version) snprintf(model_version, 64, "%s", got.model_version);
    if (registry_version) *registry_version = got.registry_version;
    return HAMF_OK;
}
