/*
 * mlflow_json.h — MLflow REST JSON of the tracking store's rows (the shapes
 * of shared/specs/mlflow-rest-subset.md): each function reads through
 * store/tracking.h's sink and appends the JSON to `out`. The server sends
 * it as it is; `hamf runs` reads it back with the JSON parser, so there is
 * one serializer.
 */
#ifndef HAMF_SERVER_MLFLOW_JSON_H
#define HAMF_SERVER_MLFLOW_JSON_H

#include "store/tracking.h"

/* The Experiment object. */
hamf_status hamf__mlflow_exp_json(struct hamf__trk *t, const char *exp_id, struct hamf__buf *out);
hamf_status hamf__mlflow_exp_by_name_json(struct hamf__trk *t, const char *name, struct hamf__buf *out);
/* The members `"experiments":[...]` / `"runs":[...]` and
 * `"next_page_token":"..."` (each only when non-empty, comma-separated,
 * without the enclosing braces). */
hamf_status hamf__mlflow_exp_search_json(struct hamf__trk *t, const struct hamf__trk_search *q, struct hamf__buf *out);
hamf_status hamf__mlflow_run_search_json(struct hamf__trk *t, const struct hamf__trk_search *q, struct hamf__buf *out);
/* The Run object. */
hamf_status hamf__mlflow_run_json(struct hamf__trk *t, const char *run_id, struct hamf__buf *out);
/* Create a run, then its Run object. */
hamf_status hamf__mlflow_run_create_json(struct hamf__trk *t, const struct hamf__trk_run_new *r,
                                         struct hamf__buf *out);
/* Update a run (hamf__trk_run_update), then its RunInfo object. */
hamf_status hamf__mlflow_run_update_json(struct hamf__trk *t, const char *run_id, const char *status,
                                         bool has_end_time, int64_t end_time, const char *run_name,
                                         struct hamf__buf *out);
/* `"metrics":[...]` and `"next_page_token"` members (or nothing). */
hamf_status hamf__mlflow_metric_history_json(struct hamf__trk *t, const char *run_id, const char *key,
                                             int64_t max_results, const char *page_token, struct hamf__buf *out);

#endif
