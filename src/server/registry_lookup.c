/*
 * registry_lookup.c — where a registered model version's files are, for
 * GET /model-versions/get-artifact (mlflow_ui_api.c): the hook between the
 * UI download route and the Model Registry. Until the registry lands in
 * this tree every lookup answers RESOURCE_DOES_NOT_EXIST; the registry
 * owner fills the body (see /work/wt/HARNESS.md).
 */
#include "server/api.h"

hamf_status hamf__api_model_version_source(void *ctx, const char *name, const char *version, char **source)
{
    (void)ctx;
    *source = NULL;
    return hamf__err(HAMF_ERR_NOTFOUND, "Model Version (name=%s, version=%s) not found", name, version);
}
