/*
 * ml_cli.h — helpers shared by the learning verbs (train, evaluate,
 * predict, model importance); implemented in cmd_train.c.
 */
#ifndef HAMF_ML_CLI_H
#define HAMF_ML_CLI_H

#include "cli.h"

/* Set by --strict-types: a mostly-numeric column holding text is an error
 * (HAMF_ERR_SCHEMA, the column and first cell named) instead of a warning. */
extern bool ml_cli_strict_types;
/* Read a CSV into a frame (CLI reports errors itself). A column inferred as
 * text although most of its cells are numbers gets a warning on stderr
 * naming the column, the count and the first text cell's CSV line. */
hamf_status ml_cli_read_csv(const char *path, int threads, hamf_frame **out);
/* Read a CSV and apply a preprocessing pipeline given as spec text (NULL:
 * none). */
hamf_status ml_cli_load(const char *path, int threads, const char *pipeline, hamf_frame **out);
/* Print metrics as aligned text or one JSON object (extra_json: more
 * members, already formatted as "key":value pairs, or NULL). */
void ml_cli_print_metrics(const hamf_metrics *m, bool json, const char *extra_json, FILE *out);
/* A progress bar on stderr for the fit callback (ctx = const char *label). */
void ml_cli_progress(void *ctx, size_t done, size_t total);
/* Status of predict/evaluate on stderr when it is a terminal and !quiet:
 * ml_cli_stage(q, "reading data.csv") replaces the line, and
 * ml_cli_rows_progress (a hamf_progress_fn, ctx = &q) draws a bar of rows
 * scored; ml_cli_stage(q, NULL) clears the line. */
struct ml_cli_status { bool on; };
void ml_cli_stage(struct ml_cli_status *q, const char *what);
void ml_cli_rows_progress(void *ctx, size_t done, size_t total);

#endif
