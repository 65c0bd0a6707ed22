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

#include "hamf.h"
#include "util/util.h"

/* The options, the component records and hamf_stack_up / _down / _status
 * are public (include/hamf.h, "Servers"); this header adds what only the
 * layer uses. */

/* The deploy/ directory: `flag` if given, else $HAMF_DEPLOY_DIR, else
 * <dir of the hamf binary>/../deploy, /usr/share/hamf/deploy, ./deploy —
 * the first holding prometheus/prometheus.yml. [owned: hamf__free] */
hamf_status hamf__stack_find_deploy(const char *flag, const char *hamf_exe, char **out);

#endif
