/*
 * cmd_evaluate.c — `hamf evaluate MODEL DATA.csv`: score a labelled CSV with
 * a saved model and print accuracy (percent), F1, precision, recall, ROC AUC,
 * log loss and the confusion matrix.
 */
#include "ml_cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *o)
{
    fprintf(o,
        "Usage: hamf evaluate MODEL DATA.csv [--target COL] [--json] [--threads N] [--db URL]\n"
        "\n"
        "MODEL is a model file or an MLflow model URI resolved in the registry:\n"
        "models:/NAME/VERSION, models:/NAME@ALIAS (e.g. @champion),\n"
        "models:/NAME/STAGE, models:/NAME/latest, runs:/RUN_ID/model. A registered\n"
        "version is read from the registry's read-only copy after its SHA-256 is\n"
        "checked.\n"
        "\n"
        "Score DATA.csv with MODEL and compare with its label column (by default\n"
        "the column the model was trained on). Prints accuracy (percent),\n"
        "f1_score, precision, recall, roc_auc, log_loss and the confusion matrix.\n"
        "Columns are matched by name; a column the model needs but the data lacks\n"
        "is an error; categories never seen in training count as missing.\n"
        "\n"
        "Options:\n"
        "  --target COL   label column (default: the model's)\n"
        "  --json         one JSON object (same keys as 'hamf train --json')\n"
        "  --threads N    worker threads (default: all cores)\n"
        "  --no-pipeline  do not apply the preprocessing stored in the model (the\n"
        "                 data is already preprocessed)\n"
        "  --db URL       store for models:/ and runs:/ (default $HAMF_DB, else ./hamf.db)\n"
        "  --strict-types        refuse a mostly-numeric column that holds text\n"
        "  -q, --quiet    no progress line (shown only when stderr is a terminal)\n"
        "  -h, --help     this help\n");
}

int cmd_evaluate(int argc, char **argv)
{
    static const struct option lo[] = {{"target", 1, 0, 't'}, {"json", 0, 0, 'j'}, {"threads", 1, 0, 'T'}, {"no-pipeline", 0, 0, 'N'},
                                       {"quiet", 0, 0, 'q'}, {"strict-types", 0, 0, 'S'}, {"help", 0, 0, 'h'}, {"db", 1, 0, 'd'}, {0, 0, 0, 0}};
    const char *target = NULL, *db = NULL;
    bool json = false;
    long long threads = 0;
    bool no_pipe = false, quiet = false;
    optind = 1;
    int c;
    while ((c = cli_getopt("evaluate", argc, argv, "hq", lo)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return CLI_OK;
        case 't': target = optarg; break;
        case 'j': json = true; break;
        case 'N': no_pipe = true; break;
        case 'd': db = optarg; break;
        case 'q': quiet = true; break;
        case 'S': ml_cli_strict_types = true; break;
        case 'T':
            if (!cli_parse_i64(optarg, &threads) || threads < 0 || threads > 256)
                return cli_usage("evaluate", "--threads must be in 0..256, got '%s'", optarg);
            break;
        default: return CLI_USAGE;
        }
    }
    if (argc - optind != 2) return cli_usage("evaluate", "expected MODEL and DATA.csv");
    const char *model_path = argv[optind], *data_path = argv[optind + 1];
    int rc = CLI_FAIL;
    hamf_ensemble *m = NULL;
    hamf_frame *fr = NULL;
    hamf_dataset *d = NULL;
    double *proba = NULL;
    hamf_status st;
    struct ml_cli_status q = {!quiet && cli_isatty(2)};
    char what[4200];
    snprintf(what, sizeof what, "loading %s", model_path);
    ml_cli_stage(&q, what);
    if ((st = hamf_model_load(model_path, cli_db_url(db), &m, NULL))) { rc = cli_fail_status(st); goto cleanup; }
    snprintf(what, sizeof what, "reading %s", data_path);
    ml_cli_stage(&q, what);
    if (!target) target = hamf_ensemble_target(m);
    if (!target || !*target) { rc = cli_fail("evaluate: the model does not name its label column; pass --target"); goto cleanup; }
    if ((st = ml_cli_load(data_path, (int)threads, no_pipe ? NULL : hamf_ensemble_pipeline(m), &fr))) { rc = cli_fail_status(st); goto cleanup; }
    if ((st = hamf_dataset_from_frame(fr, target, &d))) { rc = cli_fail_status(st); goto cleanup; }
    size_t n = hamf_dataset_nrows(d);
    if (n == 0) { rc = cli_fail("evaluate: %s has no data rows", data_path); goto cleanup; }
    proba = malloc(n * sizeof *proba);
    if (!proba) { rc = cli_fail("evaluate: out of memory"); goto cleanup; }
    if ((st = hamf_ensemble_predict_progress(m, d, (int)threads, proba, ml_cli_rows_progress, &q))) { rc = cli_fail_status(st); goto cleanup; }
    ml_cli_stage(&q, NULL);
    hamf_metrics mt;
    if ((st = hamf_metrics_compute(hamf_dataset_label(d), proba, n, &mt))) { rc = cli_fail_status(st); goto cleanup; }
    char extra[64];
    snprintf(extra, sizeof extra, "\"n_test\":%zu", n);
    if (!json) printf("rows       %zu\n", n);
    ml_cli_print_metrics(&mt, json, extra, stdout);
    rc = CLI_OK;
cleanup:
    ml_cli_stage(&q, NULL);
    free(proba);
    hamf_dataset_free(d);
    hamf_frame_free(fr);
    hamf_ensemble_free(m);
    return rc;
}
