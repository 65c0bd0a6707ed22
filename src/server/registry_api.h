/*
 * registry_api.h — the Model Registry REST routes (registry_api.c): MLflow
 * 2.12's registered-models/... and model-versions/... endpoints, plus the
 * JSON views of hamf's Models pages (/api/hamf/v1/models, /model,
 * /run-models). HAMF__REGISTRY_ROUTES is spliced into the server's route
 * table (mlflow_api.c); handler ctx is the server's struct hamf__server_ctx.
 */
#ifndef HAMF_SERVER_REGISTRY_API_H
#define HAMF_SERVER_REGISTRY_API_H

#include "server/http.h"

/* Open the store at url with the loop and model-registry tables up to
 * date (what every registry connection of the server uses). */
hamf_status hamf__registry_open(const char *url, hamf_store **out);

/* Where the files of (name, version) are [owned: hamf__free]: MLflow's
 * get-download-uri, with runs:/RUN_ID/PATH replaced by the run's
 * artifact_uri + PATH: what GET /model-versions/get-artifact serves from. ctx is the server's struct hamf__server_ctx. Errors
 * carry MLflow's messages (NOTFOUND: no such model or version). */
hamf_status hamf__registry_download_uri(void *ctx, const char *name, const char *version, char **uri);

void hamf__reg_rm_create(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_rm_get(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_rm_rename(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_rm_update(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_rm_delete(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_rm_search(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_rm_latest(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_rm_set_tag(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_rm_delete_tag(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_alias_set(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_alias_delete(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_alias_get(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_mv_create(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_mv_get(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_mv_update(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_mv_transition(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_mv_delete(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_mv_download_uri(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_mv_search(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_mv_set_tag(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_mv_delete_tag(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_ui_models(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_ui_model(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__reg_ui_run_versions(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);

#define HAMF__REGISTRY_BODY_MAX (1024 * 1024)
#define HAMF__REGISTRY_ROUTES \
    {"POST", "/api/2.0/mlflow/registered-models/create", HAMF__REGISTRY_BODY_MAX, hamf__reg_rm_create, NULL}, \
    {"POST", "/api/2.0/mlflow/registered-models/rename", HAMF__REGISTRY_BODY_MAX, hamf__reg_rm_rename, NULL}, \
    {"PATCH", "/api/2.0/mlflow/registered-models/update", HAMF__REGISTRY_BODY_MAX, hamf__reg_rm_update, NULL}, \
    {"DELETE", "/api/2.0/mlflow/registered-models/delete", HAMF__REGISTRY_BODY_MAX, hamf__reg_rm_delete, NULL}, \
    {"GET", "/api/2.0/mlflow/registered-models/get", 0, hamf__reg_rm_get, NULL}, \
    {"GET", "/api/2.0/mlflow/registered-models/search", 0, hamf__reg_rm_search, NULL}, \
    {"POST", "/api/2.0/mlflow/registered-models/get-latest-versions", HAMF__REGISTRY_BODY_MAX, hamf__reg_rm_latest, NULL}, \
    {"GET", "/api/2.0/mlflow/registered-models/get-latest-versions", 0, hamf__reg_rm_latest, NULL}, \
    {"POST", "/api/2.0/mlflow/registered-models/set-tag", HAMF__REGISTRY_BODY_MAX, hamf__reg_rm_set_tag, NULL}, \
    {"DELETE", "/api/2.0/mlflow/registered-models/delete-tag", HAMF__REGISTRY_BODY_MAX, hamf__reg_rm_delete_tag, NULL}, \
    {"POST", "/api/2.0/mlflow/registered-models/alias", HAMF__REGISTRY_BODY_MAX, hamf__reg_alias_set, NULL}, \
    {"DELETE", "/api/2.0/mlflow/registered-models/alias", HAMF__REGISTRY_BODY_MAX, hamf__reg_alias_delete, NULL}, \
    {"GET", "/api/2.0/mlflow/registered-models/alias", 0, hamf__reg_alias_get, NULL}, \
    {"POST", "/api/2.0/mlflow/model-versions/create", HAMF__REGISTRY_BODY_MAX, hamf__reg_mv_create, NULL}, \
    {"PATCH", "/api/2.0/mlflow/model-versions/update", HAMF__REGISTRY_BODY_MAX, hamf__reg_mv_update, NULL}, \
    {"POST", "/api/2.0/mlflow/model-versions/transition-stage", HAMF__REGISTRY_BODY_MAX, hamf__reg_mv_transition, NULL}, \
    {"DELETE", "/api/2.0/mlflow/model-versions/delete", HAMF__REGISTRY_BODY_MAX, hamf__reg_mv_delete, NULL}, \
    {"GET", "/api/2.0/mlflow/model-versions/get", 0, hamf__reg_mv_get, NULL}, \
    {"GET", "/api/2.0/mlflow/model-versions/search", 0, hamf__reg_mv_search, NULL}, \
    {"GET", "/api/2.0/mlflow/model-versions/get-download-uri", 0, hamf__reg_mv_download_uri, NULL}, \
    {"POST", "/api/2.0/mlflow/model-versions/set-tag", HAMF__REGISTRY_BODY_MAX, hamf__reg_mv_set_tag, NULL}, \
    {"DELETE", "/api/2.0/mlflow/model-versions/delete-tag", HAMF__REGISTRY_BODY_MAX, hamf__reg_mv_delete_tag, NULL}, \
    {"GET", "/api/hamf/v1/models", 0, hamf__reg_ui_models, NULL}, \
    {"GET", "/api/hamf/v1/model", 0, hamf__reg_ui_model, NULL}, \
    {"GET", "/api/hamf/v1/run-models", 0, hamf__reg_ui_run_versions, NULL}

#endif
