/*
 * model_registry.h — `hamf model versions|promote|rollback` (the model
 * registry of the closed loop, cmd_model_registry.c), dispatched from the
 * subcommand table in cmd_model.c; argv[0] is the subcommand name.
 */
#ifndef HAMF_CLI_MODEL_REGISTRY_H
#define HAMF_CLI_MODEL_REGISTRY_H

int cli_model_versions(int argc, char **argv);
int cli_model_promote(int argc, char **argv);
int cli_model_rollback(int argc, char **argv);

#include "hamf.h"
/* After `hamf train --db` registered models_master row `model_id`: add the
 * next version of `name` (artifact = the saved model file, run_id = its
 * tracked run or NULL) with the
 * training rows' bin counts (for drift); the first version becomes champion. */

#endif
