/*
 * cmd_workflow.c — `hamf workflow run`: the seed's four steps in one
 * command (hamf.h: hamf_workflow_run, in src/app/workflow.c), printed as a
 * step-by-step report, then
 * with --serve the tracking server (UI, MLflow API, /metrics) and the
 * exporter kept running in this process until Ctrl-C / SIGTERM.
 */
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf("Usage: hamf workflow run [--data RAW.csv] [--serve] [--db URL] [--rows N] [--seed S] [options]\n"
           "       hamf workflow serve [--db URL] [--artifacts-dir DIR] [--host H] [--port P] [--exporter-port P]\n"
           "\n"
           "The HAMF workflow in one command, idempotent on an existing store:\n"
           "  1. registry: the seed's 15 features, PhishingDetectionModel v1.0\n"
           "     (RandomForest) and v1.1 (GradientBoosting), the feature map and the\n"
           "     seed's training result (only what is missing is added)\n"
           "  2. data: RAW.csv, or generated ('hamf datagen phishing', N rows, seed S),\n"
           "     then the seed's preprocessing step -> DIR/processed_data.csv\n"
           "  3. training: Random Forest and Gradient Boosting on an 80/20 split\n"
           "     (seed 42), saved to DIR/rf.hamf and DIR/gb.hamf, registered as new\n"
           "     versions of PhishingDetectionModel with their training_results, and\n"
           "     logged as MLflow runs (params, metrics, loss history, model artifacts)\n"
           "  4. export: the Prometheus metrics of the latest run, as 'hamf exporter'\n"
           "     serves them\n"
           "With --serve, then serves the tracking UI and MLflow API (with /metrics)\n"
           "on :5000 and the exporter on :8000 until Ctrl-C (SIGINT/SIGTERM: exit 0).\n"
           "'hamf workflow serve' does only that serving, on the store as it is.\n"
           "\n"
           "Options:\n"
           "  --data RAW.csv          raw data with the seed's 15 columns (default: generate)\n"
           "  --rows N                generated rows (default 20000)\n"
           "  --data-seed S           datagen seed (default 1)\n"
           "  --label-noise P         generated data's flipped-label fraction, 0..0.5\n"
           "                          (default 0.008, as 'hamf datagen'; 0 = clean labels)\n"
           "  --db URL                store (default $HAMF_DB, else ./hamf.db)\n"
           "  --dir DIR               output files (default ./hamf-workflow)\n"
           "  --rf-estimators N       Random Forest trees (default 100)\n"
           "  --gb-estimators N       Gradient Boosting trees (default 1000, the seed's)\n"
           "  --seed S                split and learner seed, as 'hamf train --seed'\n"
           "                          (default 42; --train-seed is the same)\n"
           "  --test-size X           held-out fraction (default 0.2)\n"
           "  --threads N             worker threads (default: all cores)\n"
           "  --experiment NAME       default \"" HAMF_DEFAULT_EXPERIMENT "\"\n"
           "  --tracking-uri URI      log runs there (http(s):// = REST) instead of the store\n"
           "                          (default $MLFLOW_TRACKING_URI, else the store)\n"
           "  --artifacts-dir DIR     local runs' artifacts, also served (default ./mlartifacts)\n"
           "  --no-track              register results without logging runs\n"
           "  --serve                 keep the server and the exporter running\n"
           "  --host H                serve on H (default 127.0.0.1)\n"
           "  --port P                tracking server port (default 5000; 0 = any free)\n"
           "  --exporter-port P       exporter port (default 8000; 0 = any free)\n"
           "  --json                  print the report as one JSON object\n"
           "  -q, --quiet             only the final summary\n"
           "  -h, --help              this help\n");
}

struct out {
    bool quiet;
};

static void print_model(const hamf_workflow_model *m)
{
    printf("   %-17s %zu trees, fit %s: accuracy %s, f1 %s, precision %s, recall %s", m->algorithm, m->n_trees,
           cli_secs(m->fit_seconds), cli_pct(m->metrics.accuracy), cli_score(m->metrics.f1_score),
           cli_score(m->metrics.precision), cli_score(m->metrics.recall));
    if (!isnan(m->metrics.roc_auc)) printf(", roc_auc %s", cli_score(m->metrics.roc_auc));
    printf("\n");
    printf("   %-17s -> %s; registry model_id %lld (%s %s), result_id %lld\n", "", m->path, (long long)m->model_id,
           HAMF_WORKFLOW_MODEL_NAME, m->model_version, (long long)m->result_id);
    if (m->run_id[0])
        printf("   %-17s run %s (experiment %s)%s\n", "", m->run_id, m->experiment_id,
               m->n_iterations_logged ? ", loss history logged" : "");
}

static void progress(void *ctx, hamf_workflow_event ev, int step, const hamf_workflow_report *r)
{
    const struct out *o = ctx;
    if (o->quiet) return;
    static const char *const titles[5] = {"", "registry (features, models, feature map, seed result)",
                                          "data (raw -> the seed's preprocessing)",
                                          "training (Random Forest, Gradient Boosting) with tracking",
                                          "export (Prometheus metrics of the latest run)"};
    if (ev == HAMF_WORKFLOW_STEP_BEGIN) {
        printf("== Step %d: %s\n", step, titles[step]);
    } else if (ev == HAMF_WORKFLOW_MODEL_END) {
        print_model(&r->models[r->nmodels - 1]);
    } else if (ev == HAMF_WORKFLOW_STEP_END) {
        if (step == 1) {
            printf("   features: %d added, %d already registered\n", r->features_added,
                   r->features_total - r->features_added);
            printf("   models: v1.0 RandomForest id %lld (%s), v1.1 GradientBoosting id %lld (%s)\n",
                   (long long)r->seed_models[0], r->seed_models_new[0] ? "registered" : "already registered",
                   (long long)r->seed_models[1], r->seed_models_new[1] ? "registered" : "already registered");
            if (r->seed_result_id) printf("   seed result for v1.1: logged as result %lld\n", (long long)r->seed_result_id);
            else printf("   seed result for v1.1: already logged\n");
        } else if (step == 2) {
            printf("   raw: %s%s\n", r->raw_path, r->generated ? " (generated)" : "");
            printf("   processed: %s (%zu rows)\n", r->processed_path, r->rows);
        } else if (step == 3) {
            if (r->tracking[0]) printf("   runs logged to %s\n", r->tracking);
        } else if (step == 4) {
            const char *e = r->exposition ? r->exposition : "";
            while (*e) { /* the model-quality samples only */
                const char *nl = strchr(e, '\n');
                size_t n = nl ? (size_t)(nl - e) : strlen(e);
                if (!strncmp(e, "mlflow_model_", 13)) printf("   %.*s\n", (int)n, e);
                e += n + (nl ? 1 : 0);
            }
        }
        printf("   (%s)\n", cli_secs(r->step_seconds[step]));
    }
    fflush(stdout);
}

static void print_json(const hamf_workflow_report *r)
{
    printf("{\"features_added\":%d,\"seed_models\":[%lld,%lld],\"raw\":\"%s\",\"processed\":\"%s\",\"rows\":%zu,"
           "\"models\":[",
           r->features_added, (long long)r->seed_models[0], (long long)r->seed_models[1], r->raw_path,
           r->processed_path, r->rows);
    for (size_t i = 0; i < r->nmodels; i++) {
        const hamf_workflow_model *m = &r->models[i];
        printf("%s{\"algorithm\":\"%s\",\"path\":\"%s\",\"run_id\":\"%s\",\"experiment_id\":\"%s\",\"model_id\":%lld,"
               "\"model_version\":\"%s\",\"result_id\":%lld,\"accuracy\":%s,\"f1_score\":%s,\"precision\":%s,"
               "\"recall\":%s,\"fit_seconds\":%s,\"n_trees\":%zu,\"n_train\":%zu,\"n_test\":%zu}",
               i ? "," : "", m->algorithm, m->path, m->run_id, m->experiment_id, (long long)m->model_id, m->model_version,
               (long long)m->result_id, cli_jnum(m->metrics.accuracy), cli_jnum(m->metrics.f1_score),
               cli_jnum(m->metrics.precision), cli_jnum(m->metrics.recall), cli_jnum(m->fit_seconds), m->n_trees,
               m->n_train, m->n_test);
    }
    printf("],\"step_seconds\":[%s,%s,%s,%s],\"total_seconds\":%s}\n", cli_jnum(r->step_seconds[1]),
           cli_jnum(r->step_seconds[2]), cli_jnum(r->step_seconds[3]), cli_jnum(r->step_seconds[4]),
           cli_jnum(r->total_seconds));
}

enum { O_DATA = 256, O_ROWS, O_NOISE, O_DSEED, O_DB, O_DIR, O_RFN, O_GBN, O_TSEED, O_TSIZE, O_THREADS, O_EXP, O_URI, O_ART,
       O_NOTRACK, O_SERVE, O_HOST, O_PORT, O_EPORT, O_JSON };

static bool parse_int(const char *s, long long lo, long long hi, long long *out)
{
    return cli_parse_i64(s, out) && *out >= lo && *out <= hi;
}

/* Serve the store in-process until SIGINT/SIGTERM (blocked in `set`). */
static int serve_until_signal(const char *db, const char *art, const char *host, int port, int eport,
                              const sigset_t *set)
{
    hamf_workflow_serve_options so = {.db_url = db, .artifacts_dir = art, .host = host, .server_port = port,
                                      .exporter_port = eport};
    hamf_workflow_server *sv = NULL;
    hamf_status st = hamf_workflow_serve_start(&so, &sv);
    if (st) return cli_fail_status(st);
    printf("== Serving: UI and MLflow API http://%s:%d/ (metrics also at /metrics), exporter http://%s:%d/metrics\n"
           "   (store %s, artifacts %s). Ctrl-C to stop.\n",
           host, hamf_workflow_serve_server_port(sv), host, hamf_workflow_serve_exporter_port(sv), db,
           art ? art : HAMF_DEFAULT_ARTIFACTS_DIR);
    fflush(stdout);
    int sig = 0;
    sigwait(set, &sig);
    printf("== %s received, stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    fflush(stdout);
    hamf_workflow_serve_stop(sv);
    return CLI_OK;
}

static int workflow_serve(int argc, char **argv)
{
    static const struct option lo[] = {{"db", 1, 0, O_DB}, {"artifacts-dir", 1, 0, O_ART}, {"host", 1, 0, O_HOST},
                                       {"port", 1, 0, O_PORT}, {"exporter-port", 1, 0, O_EPORT},
                                       {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *db = NULL, *art = NULL, *host = "127.0.0.1";
    long long v, port = 5000, eport = 8000;
    int c;
    optind = 2;
    while ((c = cli_getopt("workflow", argc, argv, "h", lo)) != -1) {
        switch (c) {
        case 'h': help(); return CLI_OK;
        case O_DB: db = optarg; break;
        case O_ART: art = optarg; break;
        case O_HOST: host = optarg; break;
        case O_PORT:
        case O_EPORT:
            if (!parse_int(optarg, 0, 65535, &v))
                return cli_usage("workflow", "--%s must be 0..65535, got '%s'", c == O_PORT ? "port" : "exporter-port", optarg);
            *(c == O_PORT ? &port : &eport) = v;
            break;
        default: return CLI_USAGE;
        }
    }
    if (optind < argc) return cli_usage("workflow", "unexpected argument '%s'", argv[optind]);
    sigset_t set;
    cli_block_stop_signals(&set);
    return serve_until_signal(cli_db_url(db), art, host, (int)port, (int)eport, &set);
}

int cmd_workflow(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        if (argc < 2) return cli_usage("workflow", "missing subcommand (run)");
        help();
        return CLI_OK;
    }
    if (!strcmp(argv[1], "serve")) return workflow_serve(argc, argv);
    if (strcmp(argv[1], "run")) return cli_usage("workflow", "unknown subcommand '%s' (expected run or serve)", argv[1]);
    static const struct option lo[] = {
        {"data", 1, 0, O_DATA}, {"rows", 1, 0, O_ROWS}, {"db", 1, 0, O_DB},
        {"label-noise", 1, 0, O_NOISE}, {"data-seed", 1, 0, O_DSEED}, {"seed", 1, 0, O_TSEED},
        {"dir", 1, 0, O_DIR}, {"rf-estimators", 1, 0, O_RFN}, {"gb-estimators", 1, 0, O_GBN},
        {"train-seed", 1, 0, O_TSEED}, {"test-size", 1, 0, O_TSIZE}, {"threads", 1, 0, O_THREADS},
        {"experiment", 1, 0, O_EXP}, {"tracking-uri", 1, 0, O_URI}, {"artifacts-dir", 1, 0, O_ART},
        {"no-track", 0, 0, O_NOTRACK}, {"serve", 0, 0, O_SERVE}, {"host", 1, 0, O_HOST}, {"port", 1, 0, O_PORT},
        {"exporter-port", 1, 0, O_EPORT}, {"json", 0, 0, O_JSON}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    hamf_workflow_options o = {0};
    const char *db = NULL, *host = "127.0.0.1";
    long long v, port = 5000, eport = 8000;
    bool serve = false, json = false;
    struct out po = {0};
    int c;
    optind = 2;
    while ((c = cli_getopt("workflow", argc, argv, "qh", lo)) != -1) {
        switch (c) {
        case 'h': help(); return CLI_OK;
        case 'q': po.quiet = true; break;
        case O_DATA: o.data = optarg; break;
        case O_DB: db = optarg; break;
        case O_DIR: o.work_dir = optarg; break;
        case O_EXP: o.experiment = optarg; break;
        case O_URI: o.tracking_uri = optarg; break;
        case O_ART: o.artifacts_dir = optarg; break;
        case O_NOTRACK: o.no_track = true; break;
        case O_SERVE: serve = true; break;
        case O_HOST: host = optarg; break;
        case O_JSON: json = true; break;
        case O_ROWS:
            if (!parse_int(optarg, 10, 100000000, &v)) return cli_usage("workflow", "--rows must be 10..1e8, got '%s'", optarg);
            o.rows = (uint64_t)v;
            break;
        case O_NOISE:
            if (!cli_parse_double(optarg, &o.label_noise) || o.label_noise < 0 || o.label_noise > 0.5)
                return cli_usage("workflow", "--label-noise needs a fraction from 0 to 0.5, got '%s'", optarg);
            o.has_label_noise = true;
            break;
        case O_DSEED:
            if (!parse_int(optarg, 0, INT64_MAX, &v)) return cli_usage("workflow", "--data-seed must be >= 0, got '%s'", optarg);
            o.data_seed = (uint64_t)v;
            o.has_data_seed = true;
            break;
        case O_TSEED:
            if (!parse_int(optarg, 0, INT64_MAX, &v))
                return cli_usage("workflow", "%s must be >= 0, got '%s'", cli_optname(), optarg);
            o.train_seed = (uint64_t)v;
            o.has_train_seed = true;
            break;
        case O_RFN:
        case O_GBN:
            if (!parse_int(optarg, 1, 100000, &v))
                return cli_usage("workflow", "--%s must be 1..100000, got '%s'", c == O_RFN ? "rf-estimators" : "gb-estimators", optarg);
            *(c == O_RFN ? &o.rf_estimators : &o.gb_estimators) = (int)v;
            break;
        case O_TSIZE:
            if (!cli_parse_double(optarg, &o.test_size) || !(o.test_size > 0 && o.test_size < 1))
                return cli_usage("workflow", "--test-size must be in (0, 1), got '%s'", optarg);
            break;
        case O_THREADS:
            if (!parse_int(optarg, 0, 256, &v)) return cli_usage("workflow", "--threads must be 0..256, got '%s'", optarg);
            o.threads = (int)v;
            break;
        case O_PORT:
        case O_EPORT:
            if (!parse_int(optarg, 0, 65535, &v)) return cli_usage("workflow", "--%s must be 0..65535, got '%s'", c == O_PORT ? "port" : "exporter-port", optarg);
            *(c == O_PORT ? &port : &eport) = v;
            break;
        default: return CLI_USAGE;
        }
    }
    if (optind < argc) return cli_usage("workflow", "unexpected argument '%s'", argv[optind]);
    o.db_url = cli_db_url(db);
    if (!o.tracking_uri) {
        const char *env = getenv("MLFLOW_TRACKING_URI");
        if (env && *env) o.tracking_uri = env;
    }
    if (json) po.quiet = true;
    o.progress = progress;
    o.progress_ctx = &po;

    /* Stop signals are taken synchronously (sigwait) while serving; the
     * server threads started later inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    if (serve) cli_block_stop_signals(&set);

    if (!po.quiet) printf("== hamf workflow run (store %s)\n", o.db_url);
    hamf_workflow_report r;
    hamf_status st = hamf_workflow_run(&o, &r);
    if (st) {
        hamf_workflow_report_free(&r);
        return cli_fail_status(st);
    }
    if (json) {
        print_json(&r);
    } else {
        printf("== Done in %s:", cli_secs(r.total_seconds));
        for (size_t i = 0; i < r.nmodels; i++)
            printf(" %s %s%s", r.models[i].algorithm, cli_pct(r.models[i].metrics.accuracy), i + 1 < r.nmodels ? "," : "");
        printf(" (held-out accuracy)\n");
    }
    fflush(stdout);
    hamf_workflow_report_free(&r);
    if (!serve) return CLI_OK;

    return serve_until_signal(o.db_url, o.artifacts_dir, host, (int)port, (int)eport, &set);
}
