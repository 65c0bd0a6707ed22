/* cmd_exporter.c — `hamf exporter`: Prometheus exporter for model quality.
 * Picks the source (MLflow REST server or local store), starts the
 * exporter (hamf_exporter_start: background refresh, /metrics and / on
 * HTTP), reports refresh failures and recoveries on stderr, and stops
 * cleanly on SIGTERM or SIGINT. */
#include "cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf("Usage: hamf exporter [--tracking-uri URI | --db URL] [--host 127.0.0.1] [--port 8000]\n"
           "                     [--experiment NAME]... [--interval 15s]\n"
           "\n"
           "Export the latest FINISHED run of each experiment as Prometheus gauges at\n"
           "http://HOST:PORT/metrics (text format 0.0.4):\n"
           "  mlflow_model_accuracy (percent), mlflow_model_f1_score, mlflow_model_precision,\n"
           "  mlflow_model_recall, mlflow_model_last_run_timestamp_seconds\n"
           "    labels: experiment, run_id, model, model_version (from the run tags\n"
           "    hamf.model_name and hamf.model_version; empty when not set)\n"
           "  hamf_exporter_up, hamf_exporter_last_success_timestamp_seconds,\n"
           "  hamf_exporter_errors_total\n"
           "Metrics are read in the background every --interval and served from memory.\n"
           "When the source fails, the last values stay with hamf_exporter_up 0.\n"
           "\n"
           "Source:\n"
           "  --tracking-uri URI    an MLflow-compatible server (http:// or https://: hamf\n"
           "                        server or MLflow), read through its REST API; default\n"
           "                        $MLFLOW_TRACKING_URI when that is http(s)://. sqlite:///...\n"
           "                        and postgresql://... name a local store instead\n"
           "  --db URL              read the local store directly (a path, sqlite:///abs/path\n"
           "                        or postgresql://...); default $HAMF_DB, else ./hamf.db\n"
           "  --experiment NAME     export only this experiment (repeatable; default every\n"
           "                        active experiment); a missing one has no series yet\n"
           "\n"
           "Serving:\n"
           "  --host HOST           address to bind (default 127.0.0.1, loopback only)\n"
           "  --port N              TCP port (default 8000; 0 picks a free port)\n"
           "  --interval DURATION   refresh period: 500ms, 15s, 1m, 1h (default 15s)\n"
           "  --threads N           HTTP threads (default 2)\n"
           "  -h, --help            show this help\n"
           "\n"
           "Prints 'listening on http://HOST:PORT' once ready. SIGTERM or SIGINT stops it\n"
           "(exit 0). Usage errors exit 2, a source that cannot be opened exits 1.\n");
}

/* Reports on stderr when refreshing starts failing, when the reason
 * changes, and when it recovers (not on every retry). Runs on the
 * exporter's refresh thread. */
struct refresh_log {
    char last_err[512];
    bool failing;
};

static void log_refresh(void *ctx, hamf_status st, const char *msg)
{
    struct refresh_log *ls = ctx;
    if (st) {
        if (!ls->failing || strcmp(msg, ls->last_err) != 0) {
            fprintf(stderr, "hamf exporter: refresh failed (serving the last values, hamf_exporter_up 0): %s\n",
                    msg);
            snprintf(ls->last_err, sizeof ls->last_err, "%s", msg);
        }
        ls->failing = true;
    } else if (ls->failing) {
        fprintf(stderr, "hamf exporter: refresh works again\n");
        ls->failing = false;
        ls->last_err[0] = '\0';
    }
}

static bool local_url(const char *u)
{
    return !strncmp(u, "sqlite:", 7) || !strncmp(u, "postgresql://", 13) || !strncmp(u, "postgres://", 11);
}

int cmd_exporter(int argc, char **argv)
{
    static const struct option opts[] = {
        {"tracking-uri", required_argument, NULL, 'u'}, {"db", required_argument, NULL, 'd'},
        {"host", required_argument, NULL, 'H'},         {"port", required_argument, NULL, 'p'},
        {"experiment", required_argument, NULL, 'e'},   {"interval", required_argument, NULL, 'i'},
        {"threads", required_argument, NULL, 't'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *uri = NULL, *db = NULL, *host = "127.0.0.1";
    long long port = 8000, threads = 2;
    int64_t interval_ms = 15000;
    const char **exps = NULL;
    size_t nexp = 0;
    int rc = CLI_OK, c;
    hamf_exporter *exp = NULL;
    exps = calloc((size_t)argc + 1, sizeof *exps);
    if (!exps) return cli_fail("out of memory");
    optind = 1;
    while ((c = cli_getopt("exporter", argc, argv, ":h", opts)) != -1) {
        switch (c) {
        case 'u': uri = optarg; break;
        case 'd': db = optarg; break;
        case 'H':
            if (!*optarg) { rc = cli_usage("exporter", "--host must not be empty"); goto done; }
            host = optarg;
            break;
        case 'p':
            if (!cli_parse_i64(optarg, &port) || port < 0 || port > 65535) {
                rc = cli_usage("exporter", "--port must be 0..65535, got '%s'", optarg);
                goto done;
            }
            break;
        case 'e':
            if (!*optarg) { rc = cli_usage("exporter", "--experiment needs a name"); goto done; }
            exps[nexp++] = optarg;
            break;
        case 'i':
            if (hamf_duration_parse(optarg, &interval_ms) != HAMF_OK) {
                rc = cli_usage("exporter", "--interval: %s", hamf_last_error());
                goto done;
            }
            break;
        case 't':
            if (!cli_parse_i64(optarg, &threads) || threads < 1 || threads > 64) {
                rc = cli_usage("exporter", "--threads must be 1..64, got '%s'", optarg);
                goto done;
            }
            break;
        case 'h': help(); goto done;
        case ':': rc = CLI_USAGE; goto done;
        default: rc = CLI_USAGE; goto done;
        }
    }
    if (optind < argc) {
        rc = cli_usage("exporter", "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    if (uri && db) {
        rc = cli_usage("exporter", "give --tracking-uri or --db, not both");
        goto done;
    }
    if (uri && !hamf_tracking_uri_is_remote(uri) && !local_url(uri)) {
        rc = cli_usage("exporter", "--tracking-uri must be http://, https://, sqlite:/// or postgresql://, got '%s'",
                       uri);
        goto done;
    }
    if (!uri && !db) {
        const char *env = getenv("MLFLOW_TRACKING_URI");
        if (env && hamf_tracking_uri_is_remote(env)) uri = env;
    }
    const char *source = uri ? uri : cli_db_url(db);

    /* Block the stop signals in every thread (the refresh and HTTP threads
     * inherit the mask) and take them synchronously below. */
    sigset_t set;
    cli_block_stop_signals(&set);

    static struct refresh_log ls;
    hamf_exporter_options eo;
    hamf_exporter_options_init(&eo);
    eo.source = source;
    eo.experiments = exps;
    eo.nexperiments = nexp;
    eo.host = host;
    eo.port = (int)port;
    eo.threads = (int)threads;
    eo.interval_ms = interval_ms;
    eo.on_refresh = log_refresh;
    eo.ctx = &ls;
    hamf_status st;
    if ((st = hamf_exporter_start(&eo, &exp))) {
        rc = cli_fail_status(st);
        goto done;
    }
    printf("hamf exporter: listening on http://%s:%d/metrics (source %s%s, every %lld ms)\n", host,
           hamf_exporter_port(exp), hamf_exporter_source_is_remote(exp) ? "MLflow REST " : "store ", source,
           (long long)interval_ms);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    printf("hamf exporter: %s received, stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    fflush(stdout);
done:
    hamf_exporter_stop(exp, 5.0);
    free(exps);
    return rc;
}
