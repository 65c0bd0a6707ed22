/* cmd_server.c — `hamf server`: the MLflow-compatible tracking server
 * (REST API 2.0 subset and proxied artifacts) on the tracking store. Runs
 * until SIGTERM or SIGINT, then stops accepting, finishes the requests in
 * flight and exits 0. */
#include "cli.h"

#include "server/alerts.h"
#include "server/api.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf("Usage: hamf server [--host 127.0.0.1] [--port 5000] [--db URL] [--artifacts-dir DIR]\n"
           "                   [--threads N] [--sync normal|full] [--retrain-data PATH]\n"
           "                   [--retrain-cooldown SECONDS] [--retrain-window N] [--retrain-min-gain X]\n"
           "\n"
           "Serve the MLflow tracking REST API (/api/2.0/mlflow/...) and proxied\n"
           "artifacts (/api/2.0/mlflow-artifacts/artifacts/...) from the hamf store, so\n"
           "MLflow clients, notebooks and scripts can log and read runs. Also answers\n"
           "GET /api/2.0/mlflow/runs/search?experiment_ids=... like the POST form.\n"
           "\n"
           "Options:\n"
           "  --host HOST           address to bind (default 127.0.0.1, loopback only)\n"
           "  --port N              TCP port (default 5000; 0 picks a free port)\n"
           "  --db URL              store: a path, sqlite:///abs/path or postgresql://...\n"
           "                        (default $HAMF_DB, else ./hamf.db)\n"
           "  --artifacts-dir DIR   root of uploaded artifacts (default ./mlartifacts)\n"
           "  --threads N           HTTP worker threads (default 8)\n"
           "  --sync MODE           SQLite commits: 'normal' (default; WAL, an answered\n"
           "                        write survives kill -9 of the server, the newest ones\n"
           "                        may be lost on power loss) or 'full' (fsync every\n"
           "                        commit, shared by concurrent writers; also survives\n"
           "                        power loss)\n"
           "  --retrain-data PATH   new labelled data for alert-triggered retrains: a CSV\n"
           "                        file, or a directory whose newest *.csv is used\n"
           "  --retrain-cooldown S  no new retrain of a model within S seconds of its last\n"
           "                        one finishing (default 600)\n"
           "  --retrain-window N    train challengers on the last N rows (default all)\n"
           "  --retrain-min-gain X  accuracy points a challenger must gain (default 0)\n"
           "  -h, --help            show this help\n"
           "\n"
           "Closed loop: POST /api/hamf/v1/alerts takes Alertmanager webhook\n"
           "notifications (version 4); each firing ModelAccuracyLow, ModelF1Low or\n"
           "FeatureDriftHigh alert with a `model` label enqueues one retrain job for\n"
           "that model (once per alert group and firing episode, at most one queued or\n"
           "running per model, none during the cooldown). Jobs live in the store, so\n"
           "they survive a restart; a worker thread runs them like `hamf retrain`.\n"
           "GET /api/hamf/v1/jobs lists them (JSON).\n"
           "\n"
           "Prints 'listening on http://HOST:PORT' once ready. SIGTERM or SIGINT stops\n"
           "accepting, waits up to 30 s for requests in flight, and exits 0.\n");
}

int cmd_server(int argc, char **argv)
{
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'H'}, {"port", required_argument, NULL, 'p'},
        {"db", required_argument, NULL, 'd'},   {"artifacts-dir", required_argument, NULL, 'a'},
        {"threads", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {"sync", required_argument, NULL, 's'},
        {"retrain-data", required_argument, NULL, 'R'}, {"retrain-cooldown", required_argument, NULL, 'C'},
        {"retrain-window", required_argument, NULL, 'W'}, {"retrain-min-gain", required_argument, NULL, 'G'},
        {NULL, 0, NULL, 0},
    };
    const char *host = "127.0.0.1", *db = NULL, *art = "./mlartifacts";
    long long port = 5000, threads = 8;
    bool sync_full = false;
    struct hamf__alerts_config ac;
    hamf__alerts_config_init(&ac);
    long long win;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'H': host = optarg; break;
        case 'p':
            if (!cli_parse_i64(optarg, &port) || port < 0 || port > 65535)
                return cli_usage("server", "--port must be 0..65535, got '%s'", optarg);
            break;
        case 'd': db = optarg; break;
        case 'a': art = optarg; break;
        case 't':
            if (!cli_parse_i64(optarg, &threads) || threads < 1 || threads > 256)
                return cli_usage("server", "--threads must be 1..256, got '%s'", optarg);
            break;
        case 's':
            if (!strcmp(optarg, "full")) sync_full = true;
            else if (!strcmp(optarg, "normal")) sync_full = false;
            else return cli_usage("server", "--sync must be 'normal' or 'full', got '%s'", optarg);
            break;
        case 'R': ac.retrain_data = optarg; break;
        case 'C':
            if (!cli_parse_double(optarg, &ac.cooldown_s) || ac.cooldown_s < 0)
                return cli_usage("server", "--retrain-cooldown must be seconds >= 0, got '%s'", optarg);
            break;
        case 'W':
            if (!cli_parse_i64(optarg, &win) || win < 2)
                return cli_usage("server", "--retrain-window must be an integer >= 2, got '%s'", optarg);
            ac.window = (size_t)win;
            break;
        case 'G':
            if (!cli_parse_double(optarg, &ac.min_gain))
                return cli_usage("server", "--retrain-min-gain must be a number, got '%s'", optarg);
            break;
        case 'h': help(); return CLI_OK;
        default: return cli_usage("server", "unknown option");
        }
    }
    if (optind < argc) return cli_usage("server", "unexpected argument '%s'", argv[optind]);

    /* Block the stop signals in every thread (the HTTP threads inherit the
     * mask) and take them synchronously below. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct hamf__server_config cfg = {
        .host = host, .port = (int)port, .threads = (int)threads, .db_url = cli_db_url(db), .artifacts_dir = art,
        .sync_full = sync_full,
    };
    struct hamf__server *s = NULL;
    hamf_status st = hamf__alerts_configure(&ac);
    if (!st) st = hamf__server_start(&cfg, &s);
    if (st) return cli_fail_status(st);
    printf("hamf server: listening on http://%s:%d (store %s, artifacts %s)\n", host, hamf__server_port(s),
           cfg.db_url, art);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    printf("hamf server: %s received, finishing requests in flight\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    fflush(stdout);
    hamf__server_stop(s, 30.0);
    printf("hamf server: stopped\n");
    return CLI_OK;
}
