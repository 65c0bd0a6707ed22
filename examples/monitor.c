/*
 * monitor.c — embedding hamf's servers: the MLflow-compatible tracking
 * server on a store and a Prometheus exporter reading that server over its
 * REST API, both on 127.0.0.1, until SIGTERM or SIGINT.
 *
 *   cc -Iinclude examples/monitor.c build/libhamf.a $(pkg-config --libs hamf) -o monitor
 *   monitor STORE [INTERVAL]
 *
 * Prints "server http://127.0.0.1:PORT" and "exporter http://127.0.0.1:PORT/metrics"
 * (free ports), then serves. Refresh failures of the exporter are reported
 * on stderr. Exit status 0 after a clean stop, 1 if anything fails.
 */
#include "hamf.h"

#include <signal.h>
#include <stdio.h>

static void on_refresh(void *ctx, hamf_status st, const char *message)
{
    (void)ctx;
    if (st) fprintf(stderr, "monitor: exporter refresh failed: %s\n", message);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: monitor STORE [INTERVAL]\n");
        return 2;
    }
    /* block the stop signals before any server thread starts (they inherit the mask) */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    int rc = 1;
    hamf_server *srv = NULL;
    hamf_exporter *exp = NULL;
    hamf_server_options so;
    hamf_server_options_init(&so);
    so.db_url = argv[1];
    so.port = 0;
    so.artifacts_dir = "monitor-artifacts";
    if (hamf_server_start(&so, &srv)) goto fail;
    char uri[64];
    snprintf(uri, sizeof uri, "http://127.0.0.1:%d", hamf_server_port(srv));
    printf("server %s\n", uri);

    hamf_exporter_options eo;
    hamf_exporter_options_init(&eo);
    eo.source = uri;
    eo.port = 0;
    eo.on_refresh = on_refresh;
    if (argc == 3 && hamf_duration_parse(argv[2], &eo.interval_ms)) goto fail;
    if (hamf_exporter_start(&eo, &exp)) goto fail;
    printf("exporter http://127.0.0.1:%d/metrics (%s)\n", hamf_exporter_port(exp),
           hamf_exporter_source_is_remote(exp) ? "REST" : "store");
    fflush(stdout);

    int sig = 0;
    sigwait(&set, &sig);
    rc = 0;
fail:
    if (rc) fprintf(stderr, "monitor: %s\n", hamf_last_error());
    hamf_exporter_stop(exp, 5.0);
    hamf_server_stop(srv, 5.0);
    return rc;
}
