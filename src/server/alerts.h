/*
 * alerts.h — the closed loop's trigger inside `hamf server` (alerts.c):
 * POST /api/hamf/v1/alerts takes Alertmanager webhook notifications
 * (version 4) and enqueues retrain jobs in the store; GET /api/hamf/v1/jobs
 * lists them; a worker thread runs queued jobs with `hamf retrain`'s
 * library code on the data given by --retrain-data.
 */
#ifndef HAMF_SERVER_ALERTS_H
#define HAMF_SERVER_ALERTS_H

#include "server/http.h"

struct hamf__alerts_config {
    const char *retrain_data; /* CSV file, or directory whose newest *.csv is used; NULL = none */
    double cooldown_s;        /* no new job for a model this long after its last one finished */
    size_t window;            /* retrain --window (0 = all) */
    double min_gain;          /* retrain --min-gain */
    double tolerance;         /* retrain --tolerance */
};

/* Defaults: no data, cooldown 600 s, window 0, min_gain 0, tolerance 0.01. */
void hamf__alerts_config_init(struct hamf__alerts_config *c);
/* Set before hamf__server_start (copied). */
hamf_status hamf__alerts_configure(const struct hamf__alerts_config *c);
/* Start / stop the worker (called by hamf__server_start / _stop). Start
 * marks jobs left 'running' by a previous server as failed (interrupted). */
hamf_status hamf__alerts_start(const char *db_url, const char *artifacts_dir);
void hamf__alerts_stop(void);

/* Route handlers; ctx is the server's struct hamf__server_ctx. */
void hamf__alerts_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__jobs_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);

#endif
