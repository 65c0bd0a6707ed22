/*
 * drift.h — drift, ml's part of the closed loop (drift.c): the training bin
 * counts recorded with a model version, PSI of new data against them, and
 * loading a CSV through a model's pipeline. Reports are store/loop.h's
 * struct hamf__drift_report (recorded by hamf__loop_drift_record).
 */
#ifndef HAMF_ML_DRIFT_H
#define HAMF_ML_DRIFT_H

#include "hamf.h"
#include "store/loop.h"

/* Per-feature training bin counts of dataset d under the model's bins as
 * JSON {"feature":[count per bin], ...} [owned: hamf__free]. */
hamf_status hamf__drift_train_bins(const hamf_ensemble *m, const hamf_dataset *d, char **json);
/* PSI of every model feature: training counts (JSON above) vs d. Numeric
 * features' bins are merged into about 10 groups of equal training mass
 * (the model's edges, coarsened so small batches do not inflate PSI);
 * categorical features are compared category by category. */
hamf_status hamf__drift_compute(const hamf_ensemble *m, const char *train_bins_json, const hamf_dataset *d,
                                struct hamf__drift_report *out);
/* Serving drift (hamf serve): the bin codes of the last `rows` served rows
 * of model m (borrowed; it must outlive the window) against the training
 * counts recorded with its version (JSON above). Not thread-safe: the
 * caller locks. */
struct hamf__drift_window;
hamf_status hamf__drift_window_new(const hamf_ensemble *m, const char *train_bins_json, size_t rows,
                                   struct hamf__drift_window **out);
void hamf__drift_window_free(struct hamf__drift_window *w);
/* Add n rows, row-major over the model's features: values[i*nf+f] for
 * numeric features, cats[i*nf+f] (NULL = missing) for categorical ones
 * (cats may be NULL when the model has none). The oldest rows drop out. */
void hamf__drift_window_add(struct hamf__drift_window *w, size_t n, const double *values, const char *const *cats);
size_t hamf__drift_window_rows(const struct hamf__drift_window *w);
/* PSI of every model feature (psi[nf], in the model's feature order) over
 * the window, bucketed exactly as hamf__drift_compute does. */
void hamf__drift_window_psi(const struct hamf__drift_window *w, double *psi);
/* Load a CSV, apply the model's pipeline, build a dataset; target may be
 * NULL or absent from the file (then no labels). */
hamf_status hamf__drift_load_data(const char *path, const hamf_ensemble *m, bool need_labels, hamf_dataset **out);

#endif
