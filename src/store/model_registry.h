/*
 * model_registry.h — the Model Registry as MLflow 2.12 serves it
 * (registered models, model versions, tags, aliases, stages, search), on
 * the SAME tables as hamf's own registry (model_versions, model_aliases of
 * the "loop" component): a version trained by `hamf train --db` is a model
 * version here, an alias set through MlflowClient is seen by `hamf model
 * versions`, and a champion promoted by `hamf retrain` is what
 * get_model_version_by_alias(name, "champion") answers.
 *
 * The "model_registry" component's migration adds the tables MLflow needs
 * beside them (registered_models, registered_model_tags,
 * model_version_tags), MLflow's columns on model_versions (millisecond
 * times, description, stage, source URI, run link, status, and the
 * immutable copy's digest and path), and frees model_aliases from the
 * champion/challenger-only CHECK. It runs after the "loop" component's.
 *
 * Entities come out as MLflow REST JSON appended to a caller's buffer (the
 * server sends them as they are). Errors carry MLflow's messages:
 * HAMF_ERR_NOTFOUND -> RESOURCE_DOES_NOT_EXIST (404), HAMF_ERR_EXISTS ->
 * RESOURCE_ALREADY_EXISTS (400), HAMF_ERR_CONSTRAINT / HAMF_ERR_PARSE ->
 * INVALID_PARAMETER_VALUE (400). A failing call changes nothing. Every
 * change writes its audit_log row in the same transaction.
 *
 * The seed's models_master(model_name, model_version) rows and these
 * versions are one concept: hamf's training writes the models_master row
 * and then version N of model_versions with model_id pointing at it; the
 * seed's model_version string (e.g. "v3" or a timestamp) stays in
 * models_master and the MLflow integer version is model_versions.version
 * (1, 2, ... per name, never reused). Versions created through MLflow's
 * API have no models_master row (model_id NULL).
 */
#ifndef HAMF_STORE_MODEL_REGISTRY_H
#define HAMF_STORE_MODEL_REGISTRY_H

#include "store/store.h"

/* Limits as MLflow 2.12's. */
#define HAMF__MREG_RM_MAX_RESULTS 1000
#define HAMF__MREG_RM_DEFAULT_RESULTS 100
#define HAMF__MREG_MV_MAX_RESULTS 200000

/* Bring the model-registry tables up to date (the loop component's must
 * already be). */
hamf_status hamf__mreg_migrate(hamf_store *s);

struct hamf__mreg_kv {
    const char *key;
    const char *value; /* NULL = "" */
};

/* ---- registered models (each appends {"registered_model": {...}} or a
 * list; `out` may be NULL for writes) ---- */
hamf_status hamf__mreg_rm_create(hamf_store *s, const char *name, const struct hamf__mreg_kv *tags, size_t ntags,
                                 const char *description, struct hamf__buf *out);
hamf_status hamf__mreg_rm_get(hamf_store *s, const char *name, struct hamf__buf *out);
hamf_status hamf__mreg_rm_rename(hamf_store *s, const char *name, const char *new_name, struct hamf__buf *out);
hamf_status hamf__mreg_rm_update(hamf_store *s, const char *name, const char *description, struct hamf__buf *out);
hamf_status hamf__mreg_rm_delete(hamf_store *s, const char *name);
/* Appends "registered_models":[...] (when any) and "next_page_token". */
hamf_status hamf__mreg_rm_search(hamf_store *s, const char *filter, int64_t max_results, const char *const *order_by,
                                 size_t norder, const char *page_token, struct hamf__buf *out);
/* Appends "model_versions":[...] (when any). */
hamf_status hamf__mreg_rm_latest(hamf_store *s, const char *name, const char *const *stages, size_t nstages,
                                 struct hamf__buf *out);
hamf_status hamf__mreg_rm_set_tag(hamf_store *s, const char *name, const char *key, const char *value);
hamf_status hamf__mreg_rm_delete_tag(hamf_store *s, const char *name, const char *key);
hamf_status hamf__mreg_alias_set(hamf_store *s, const char *name, const char *alias, const char *version);
hamf_status hamf__mreg_alias_delete(hamf_store *s, const char *name, const char *alias);
/* Appends {"model_version": {...}}. */
hamf_status hamf__mreg_mv_by_alias(hamf_store *s, const char *name, const char *alias, struct hamf__buf *out);

/* ---- model versions ---- */
hamf_status hamf__mreg_mv_create(hamf_store *s, const char *name, const char *source, const char *run_id,
                                 const struct hamf__mreg_kv *tags, size_t ntags, const char *run_link,
                                 const char *description, struct hamf__buf *out);
hamf_status hamf__mreg_mv_get(hamf_store *s, const char *name, const char *version, struct hamf__buf *out);
/* description NULL: unchanged (MLflow then still bumps the update time). */
hamf_status hamf__mreg_mv_update(hamf_store *s, const char *name, const char *version, const char *description,
                                 struct hamf__buf *out);
hamf_status hamf__mreg_mv_transition(hamf_store *s, const char *name, const char *version, const char *stage,
                                     bool archive_existing, struct hamf__buf *out);
hamf_status hamf__mreg_mv_delete(hamf_store *s, const char *name, const char *version);
/* Appends "artifact_uri": "...". */
hamf_status hamf__mreg_mv_download_uri(hamf_store *s, const char *name, const char *version, struct hamf__buf *out);
/* The same as a new string [owned: hamf__free]. */
hamf_status hamf__mreg_mv_download_uri_str(hamf_store *s, const char *name, const char *version, char **out);
hamf_status hamf__mreg_mv_search(hamf_store *s, const char *filter, int64_t max_results, const char *const *order_by,
                                 size_t norder, const char *page_token, struct hamf__buf *out);
hamf_status hamf__mreg_mv_set_tag(hamf_store *s, const char *name, const char *version, const char *key,
                                  const char *value);
hamf_status hamf__mreg_mv_delete_tag(hamf_store *s, const char *name, const char *version, const char *key);

/* ---- the immutable model store ----
 * A registered version's model file is copied to
 * <root>/registry/sha256/<hex digest>.hamf (mode 0444, written to a temp
 * file, fsynced, renamed), and the version records the digest and the
 * absolute path. The bytes live on the file system under the artifact
 * root for both backends: model files are megabytes, the SQL layer has no
 * blob type, and `hamf server` already serves that root to clients (a
 * team shares it like MLflow's artifact store). */
/* $HAMF_ARTIFACTS_DIR, else "mlartifacts" (the server's default root). */
const char *hamf__mreg_store_root(void);
/* Copy `src` into the store under `root` (NULL = hamf__mreg_store_root()):
 * digest gets the hex SHA-256, *path the stored file [owned: hamf__free]. */
hamf_status hamf__mreg_blob_put(const char *root, const char *src, char digest[65], char **path);
/* The stored file must exist and hash to `digest`: else HAMF_ERR_CORRUPT
 * naming the model, version and digest. */
hamf_status hamf__mreg_blob_verify(const char *name, int64_t version, const char *path, const char *digest);

/* ---- for hamf's own views (UI, CLI) ---- */
/* Appends a JSON array of every registered model (name order) with its
 * aliases {"alias":version,...}, latest version number, version count,
 * times and description. */
hamf_status hamf__mreg_models_json(hamf_store *s, struct hamf__buf *out);
/* Appends {"name":..., "versions":[{version, aliases:[...], digest,
 * run_id, source, stage, tags:{}, creation_timestamp, description,
 * origin}], "promotions":[...], "decisions":[...]}: the Models page's
 * model view. */
hamf_status hamf__mreg_model_detail_json(hamf_store *s, const char *name, struct hamf__buf *out);
/* Appends a JSON array [{"name":..,"version":..}] of versions whose run_id
 * is `run_id`. */
hamf_status hamf__mreg_run_versions_json(hamf_store *s, const char *run_id, struct hamf__buf *out);

#endif
