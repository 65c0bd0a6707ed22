/*
 * registry_lookup.c — where a registered model version's files are, for
 * GET /model-versions/get-artifact (mlflow_ui_api.c): the Model Registry's
 * answer (registry_api.c): MLflow's download URI of the version, with a
 * runs:/ source resolved to its run's artifact location.
 */
#include "server/api.h"
#include "server/registry_api.h"

hamf_status hamf__api_model_version_source(void *ctx, const char *name, const char *version, char **source)
{
    *source = NULL;
    return hamf__registry_download_uri(ctx, name, version, source);
}
