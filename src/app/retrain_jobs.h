/*
 * retrain_jobs.h — the retrain job runner behind `hamf server`'s alert
 * webhook (see retrain_jobs.c).
 */
#ifndef HAMF_APP_RETRAIN_JOBS_H
#define HAMF_APP_RETRAIN_JOBS_H

/* Register the runner with the server (server/alerts.h's hook): call
 * before hamf__server_start so the server runs queued jobs. */
void hamf__retrain_jobs_install(void);

#endif
