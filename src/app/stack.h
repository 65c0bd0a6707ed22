/*
 * stack.h — `hamf stack`: a local monitoring stack without Docker. Four
 * components run as detached processes (own session, stdin /dev/null,
 * output to DIR/<name>.log): hamf server, hamf exporter (reading the server
 * over REST), Prometheus and Alertmanager (Debian's binaries). deploy/'s
 * configs are rendered into DIR with the loopback ports chosen (the
 * default addresses 127.0.0.1:5000/8000/9090/9093 written in deploy/ are
 * replaced; everything else — rules, routes, receivers — is unchanged).
 *
 * DIR/<name>.pid holds "PID STARTTIME URL": the process start time (from
 * /proc/PID/stat) makes `down` and `status` immune to PID reuse — a pid
 * whose start time differs is not ours and is never signalled.
 */
#ifndef HAMF_APP_STACK_H
#define HAMF_APP_STACK_H

#include "util/util.h"

#include <sys/types.h>

enum {
    HAMF__STACK_SERVER,
    HAMF__STACK_EXPORTER,
    HAMF__STACK_ALERTMANAGER,
    HAMF__STACK_PROMETHEUS,
    HAMF__STACK_N
};

struct hamf__stack_config {
    const char *dir;        /* state dir: configs, data, logs, pid files */
    const char *deploy_dir; /* NULL = find it (see hamf__stack_find_deploy) */
    const char *hamf_exe;   /* the hamf binary to run server/exporter with */
    const char *db_url;     /* store of hamf server */
    const char *interval;   /* exporter refresh, e.g. "15s" */
    int port[HAMF__STACK_N];
    double ready_timeout_s; /* per component; 0 = 30 */
};

struct hamf__stack_comp {
    const char *name;  /* "server", "exporter", "alertmanager", "prometheus" */
    pid_t pid;         /* 0 when not running / no pid file */
    bool running;      /* process alive and really ours */
    bool ready;        /* its readiness URL answered 2xx (status only) */
    char url[128];
    char log[4096];
};

/* The deploy/ directory: `flag` if given, else $HAMF_DEPLOY_DIR, else
 * <dir of the hamf binary>/../deploy, /usr/share/hamf/deploy, ./deploy —
 * the first holding prometheus/prometheus.yml. [owned: hamf__free] */
hamf_status hamf__stack_find_deploy(const char *flag, const char *hamf_exe, char **out);

/* Render configs, start the four components in order, wait for each to be
 * ready. On any failure, stops what it started and returns the error
 * (naming the log to read). HAMF_ERR_EXISTS if a stack already runs in dir. */
hamf_status hamf__stack_up(const struct hamf__stack_config *c, struct hamf__stack_comp out[HAMF__STACK_N]);
/* Stop every component by PID (TERM, then KILL after grace_s), reverse
 * order; out[i].running tells which were running. */
hamf_status hamf__stack_down(const char *dir, double grace_s, struct hamf__stack_comp out[HAMF__STACK_N]);
hamf_status hamf__stack_status(const char *dir, struct hamf__stack_comp out[HAMF__STACK_N]);

#endif
