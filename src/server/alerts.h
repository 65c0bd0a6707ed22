/*
 * alerts.h — the closed loop's trigger inside `hamf server` (alerts.c):
 * POST /api/hamf/v1/alerts takes Alertmanager webhook notifications
 * (version 4) and enqueues retrain jobs in the store; GET /api/hamf/v1/jobs
 * lists them. The jobs are run by a runner registered from above
 * (src/app/retrain_jobs.c) through struct hamf__job_runner.
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
/* A copy of the configuration; *data owns the retrain_data string
 * (hamf__free). */
hamf_status hamf__alerts_config_get(struct hamf__alerts_config *c, char **data);

/* The retrain job runner: start (mark jobs left 'running' as failed, start
 * the worker), stop (join it), wake (a job was enqueued). */
struct hamf__job_runner {
    hamf_status (*start)(const char *db_url, const char *artifacts_dir);
    void (*stop)(void);
    void (*wake)(void);
};
/* Register the runner (static storage; NULL = none). */
void hamf__alerts_set_runner(const struct hamf__job_runner *r);
/* Start / stop the registered runner, if any (called by hamf__server_start
 * / _stop). */
hamf_status hamf__alerts_start(const char *db_url, const char *artifacts_dir);
void hamf__alerts_stop(void);

/* Route handlers; ctx is the server's struct hamf__server_ctx. */
void hamf__alerts_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__jobs_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);

#endif
