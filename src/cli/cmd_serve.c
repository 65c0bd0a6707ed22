/*
 * cmd_serve.c — `hamf serve MODEL`: score rows over HTTP with MLflow's
 * scoring protocol (POST /invocations). Parsing only; the server is
 * hamf_serve_start() in src/server/scoring.c.
 */
#include "cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *o)
{
    fprintf(o,
        "Usage: hamf serve MODEL [--host 127.0.0.1] [--port 5001] [options]\n"
        "\n"
        "Serve MODEL with MLflow's scoring protocol. MODEL is a model file or a\n"
        "registry reference: models:/NAME/VERSION, models:/NAME@ALIAS (followed:\n"
        "when the alias moves, new requests get the new version within --poll\n"
        "seconds; requests in flight finish on the old one), runs:/RUN_ID/model.\n"
        "  POST /invocations  application/json (dataframe_split, dataframe_records,\n"
        "                     instances, inputs) or text/csv with a header row\n"
        "                     -> {\"predictions\": [...]}\n"
        "  GET /ping, /health -> 200; GET /version -> the hamf version\n"
        "  GET /metrics       Prometheus text: requests, errors, latency and score\n"
        "                     histograms, positive rate; live accuracy (percent),\n"
        "                     F1, precision, recall over the last 1000 fed-back rows\n"
        "                     of the version now answering (its own answers only)\n"
        "                     as mlflow_model_accuracy{source=\"serving\"} etc.\n"
        "  POST /feedback     {\"request_id\": ID, \"labels\": [0, 1, ...]}: the true\n"
        "                     labels of the rows of a scoring answer (its ID is in\n"
        "                     the X-Hamf-Request-Id header; the last 1024 requests,\n"
        "                     or with --log-dir any earlier one, labels then logged)\n"
        "Raw rows are accepted: the model's stored pipeline is applied, as in\n"
        "`hamf predict`. Extra columns are ignored; a missing one is a 400 naming it.\n"
        "Every answer carries the model version in X-Hamf-Model-Version.\n"
        "\n"
        "Options:\n"
        "  --host HOST            address to bind (default 127.0.0.1)\n"
        "  --port N               port (default 5001; 0 = any free port)\n"
        "  --output KIND          probability (default; of class 1), label (1 if\n"
        "                         probability > 0.5) or both; a request may\n"
        "                         override it with ?output=KIND\n"
        "  --threads N            HTTP threads (default 4)\n"
        "  --max-body BYTES       largest request body (default 67108864)\n"
        "  --db URL               registry store for models:/ and runs:/ (default:\n"
        "                         $HAMF_DB, then ./hamf.db)\n"
        "  --poll SECONDS         how often to check a models:/NAME@ALIAS (default 1)\n"
        "  --model-version TEXT   version in the header and the model_version label\n"
        "                         on /metrics (default: the registry version, or\n"
        "                         MODEL's file name)\n"
        "  --model-name TEXT      model label on /metrics (default: MODEL's file\n"
        "                         name without its extension)\n"
        "  --log-dir DIR          prediction log: append every served row (its columns\n"
        "                         as sent), its score, request id, model version and\n"
        "                         time to DIR/predictions-*.csv, and fed-back labels\n"
        "                         to DIR/feedback-*.csv (a writer thread; files are\n"
        "                         renamed into place when full). `hamf retrain\n"
        "                         --from-log DIR` trains on the labelled rows\n"
        "  --log-max-bytes N      rotate a log file past N bytes (default 67108864)\n"
        "  --log-max-files N      finished files kept per series (default 10)\n"
        "  --drift-window N       serving drift: PSI of the last N served rows per\n"
        "                         feature against the registry version's training\n"
        "                         bins, as hamf_feature_drift_psi{source=\"serving\"}\n"
        "                         on /metrics (default 10000; registry models only)\n"
        "  -h, --help             this help\n"
        "Stops on SIGINT/SIGTERM after the requests in flight are answered.\n");
}

int cmd_serve(int argc, char **argv)
{
    static const struct option lo[] = {{"host", 1, 0, 'H'},    {"port", 1, 0, 'p'},     {"output", 1, 0, 'o'},
                                       {"threads", 1, 0, 'T'}, {"max-body", 1, 0, 'B'}, {"model-version", 1, 0, 'V'},
                                       {"model-name", 1, 0, 'N'}, {"db", 1, 0, 'D'},
                                       {"poll", 1, 0, 'P'},       {"log-dir", 1, 0, 'L'},
                                       {"log-max-bytes", 1, 0, 'S'}, {"log-max-files", 1, 0, 'F'},
                                       {"drift-window", 1, 0, 'W'}, {"help", 0, 0, 'h'},    {0, 0, 0, 0}};
    hamf_serve_options o;
    hamf_serve_options_init(&o);
    long long v = 0;
    optind = 1;
    int c;
    while ((c = cli_getopt("serve", argc, argv, "h", lo)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return CLI_OK;
        case 'H': o.host = optarg; break;
        case 'p':
            if (!cli_parse_i64(optarg, &v) || v < 0 || v > 65535)
                return cli_usage("serve", "--port must be 0..65535, got '%s'", optarg);
            o.port = (int)v;
            break;
        case 'T':
            if (!cli_parse_i64(optarg, &v) || v < 1 || v > 256)
                return cli_usage("serve", "--threads must be in 1..256, got '%s'", optarg);
            o.threads = (int)v;
            break;
        case 'B':
            if (!cli_parse_i64(optarg, &v) || v < 1)
                return cli_usage("serve", "--max-body must be a number of bytes >= 1, got '%s'", optarg);
            o.max_body = (size_t)v;
            break;
        case 'o':
            if (!strcmp(optarg, "probability")) o.output = HAMF_SERVE_PROBABILITY;
            else if (!strcmp(optarg, "label")) o.output = HAMF_SERVE_LABEL;
            else if (!strcmp(optarg, "both")) o.output = HAMF_SERVE_BOTH;
            else return cli_usage("serve", "--output must be probability, label or both, got '%s'", optarg);
            break;
        case 'V': o.model_version = optarg; break;
        case 'N': o.model_name = optarg; break;
        case 'D': o.db_url = optarg; break;
        case 'P':
            if (!cli_parse_double(optarg, &o.poll_seconds) || !(o.poll_seconds > 0) || o.poll_seconds > 3600)
                return cli_usage("serve", "--poll must be seconds in (0, 3600], got '%s'", optarg);
            break;
        case 'L': o.log_dir = optarg; break;
        case 'S':
            if (!cli_parse_i64(optarg, &v) || v < 4096)
                return cli_usage("serve", "--log-max-bytes must be a number of bytes >= 4096, got '%s'", optarg);
            o.log_max_bytes = (size_t)v;
            break;
        case 'F':
            if (!cli_parse_i64(optarg, &v) || v < 1 || v > 100000)
                return cli_usage("serve", "--log-max-files must be in 1..100000, got '%s'", optarg);
            o.log_max_files = (int)v;
            break;
        case 'W':
            if (!cli_parse_i64(optarg, &v) || v < 1 || v > 10000000)
                return cli_usage("serve", "--drift-window must be rows in 1..10000000, got '%s'", optarg);
            o.drift_window = (size_t)v;
            break;
        default: return CLI_USAGE;
        }
    }
    if (argc - optind != 1) return cli_usage("serve", "expected one MODEL");
    sigset_t set;
    cli_block_stop_signals(&set);
    hamf_scoring_server *s = NULL;
    o.db_url = cli_db_url(o.db_url);
    hamf_status st = hamf_serve_start(argv[optind], &o, &s);
    if (st) return cli_fail_status(st);
    char ver[64];
    printf("hamf serve: listening on http://%s:%d (model %s, version %s)\n", o.host, hamf_serve_port(s), argv[optind],
           hamf_serve_model_version(s, ver, sizeof ver));
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    printf("hamf serve: %s received, finishing requests in flight\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    fflush(stdout);
    hamf_serve_stop(s, 30.0);
    printf("hamf serve: stopped\n");
    return CLI_OK;
}
