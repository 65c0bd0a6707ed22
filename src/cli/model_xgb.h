/*
 * model_xgb.h — `hamf model export` and `hamf model import` (XGBoost JSON,
 * cmd_model_xgb.c), dispatched from the subcommand table in cmd_model.c;
 * argv[0] is the subcommand name.
 */
#ifndef HAMF_CLI_MODEL_XGB_H
#define HAMF_CLI_MODEL_XGB_H

int cli_model_export(int argc, char **argv);
int cli_model_import(int argc, char **argv);

#endif
