/*
 * cmd_predict.c — `hamf predict MODEL DATA.csv -o OUT.csv`: score every row
 * of a CSV and write it back with two more columns, `probability` (of the
 * positive class) and `prediction` (1 when probability > 0.5).
 */
#include "ml_cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

void ml_cli_stage(struct ml_cli_status *q, const char *what)
{
    if (!q || !q->on) return;
    fprintf(stderr, "\r\033[K");
    if (what) fprintf(stderr, "%s ...", what);
    fflush(stderr);
}

void ml_cli_rows_progress(void *ctx, size_t done, size_t total)
{
    struct ml_cli_status *q = ctx;
    if (!q || !q->on) return;
    int pct = total ? (int)(100.0 * (double)done / (double)total) : 100, w = 30, fill = pct * w / 100;
    fprintf(stderr, "\r\033[Kscoring [");
    for (int i = 0; i < w; i++) fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %3d%% %zu/%zu rows", pct, done, total);
    fflush(stderr);
}

static void usage(FILE *o)
{
    fprintf(o,
        "Usage: hamf predict MODEL DATA.csv -o OUT.csv [--threads N] [--db URL]\n"
        "\n"
        "MODEL is a model file or an MLflow model URI resolved in the registry:\n"
        "models:/NAME/VERSION, models:/NAME@ALIAS (e.g. @champion),\n"
        "models:/NAME/STAGE, models:/NAME/latest, runs:/RUN_ID/model. A registered\n"
        "version is read from the registry's read-only copy after its SHA-256 is\n"
        "checked.\n"
        "\n"
        "Score DATA.csv with MODEL; OUT.csv holds every input column plus\n"
        "`probability` (of class 1) and `prediction` (1 if probability > 0.5).\n"
        "Columns are matched by name (extra ones are kept and ignored); a column\n"
        "the model needs but the data lacks is an error; categories never seen\n"
        "in training count as missing. OUT.csv appears atomically.\n"
        "\n"
        "Options:\n"
        "  -o, --output OUT.csv  file to write (required)\n"
        "  --threads N           worker threads (default: all cores)\n"
        "  --no-pipeline         do not apply the preprocessing stored in the model\n"
        "  --db URL              store for models:/ and runs:/ (default $HAMF_DB,\n"
        "                        else ./hamf.db)\n"
        "  --strict-types        refuse a mostly-numeric column that holds text\n"
        "  -q, --quiet           no progress line (shown only when stderr is a terminal)\n"
        "  -h, --help            this help\n");
}

int cmd_predict(int argc, char **argv)
{
    static const struct option lo[] = {{"output", 1, 0, 'o'}, {"threads", 1, 0, 'T'}, {"no-pipeline", 0, 0, 'N'}, {"help", 0, 0, 'h'},
                                       {"db", 1, 0, 'd'}, {"quiet", 0, 0, 'q'}, {"strict-types", 0, 0, 'S'}, {0, 0, 0, 0}};
    const char *out = NULL, *db = NULL;
    long long threads = 0;
    bool no_pipe = false, quiet = false;
    optind = 1;
    int c;
    while ((c = cli_getopt("predict", argc, argv, "o:hq", lo)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return CLI_OK;
        case 'o': out = optarg; break;
        case 'N': no_pipe = true; break;
        case 'd': db = optarg; break;
        case 'q': quiet = true; break;
        case 'S': ml_cli_strict_types = true; break;
        case 'T':
            if (!cli_parse_i64(optarg, &threads) || threads < 0 || threads > 256)
                return cli_usage("predict", "--threads must be in 0..256, got '%s'", optarg);
            break;
        default: return CLI_USAGE;
        }
    }
    if (argc - optind != 2) return cli_usage("predict", "expected MODEL and DATA.csv");
    if (!out) return cli_usage("predict", "-o OUT.csv is required");
    const char *model_path = argv[optind], *data_path = argv[optind + 1];
    int rc = CLI_FAIL;
    hamf_ensemble *m = NULL;
    hamf_frame *fr = NULL, *raw = NULL;
    hamf_dataset *d = NULL;
    double *proba = NULL;
    int64_t *pred = NULL;
    hamf_status st;
    struct ml_cli_status q = {!quiet && cli_isatty(2)};
    char what[4200];
    snprintf(what, sizeof what, "loading %s", model_path);
    ml_cli_stage(&q, what);
    if ((st = hamf_model_load(model_path, cli_db_url(db), &m, NULL))) { rc = cli_fail_status(st); goto cleanup; }
    snprintf(what, sizeof what, "reading %s", data_path);
    ml_cli_stage(&q, what);
    if ((st = ml_cli_load(data_path, (int)threads, no_pipe ? NULL : hamf_ensemble_pipeline(m), &fr))) { rc = cli_fail_status(st); goto cleanup; }
    if ((st = hamf_dataset_from_frame(fr, NULL, &d))) { rc = cli_fail_status(st); goto cleanup; }
    size_t n = hamf_dataset_nrows(d);
    proba = malloc((n + 1) * sizeof *proba);
    pred = malloc((n + 1) * sizeof *pred);
    if (!proba || !pred) { rc = cli_fail("predict: out of memory"); goto cleanup; }
    if ((st = hamf_ensemble_predict_progress(m, d, (int)threads, proba, ml_cli_rows_progress, &q))) { rc = cli_fail_status(st); goto cleanup; }
    for (size_t i = 0; i < n; i++) pred[i] = proba[i] > 0.5;
    snprintf(what, sizeof what, "writing %s", out);
    ml_cli_stage(&q, what);
    /* the output keeps the input's own columns: re-read them when a
     * pipeline rewrote the frame */
    hamf_frame *o = fr;
    if (!no_pipe && hamf_ensemble_pipeline(m)) {
        if ((st = ml_cli_read_csv(data_path, (int)threads, &raw))) { rc = cli_fail_status(st); goto cleanup; }
        o = raw;
    }
    size_t col;
    if (hamf_frame_find(o, "probability", &col) == HAMF_OK) hamf_frame_drop(o, "probability");
    if (hamf_frame_find(o, "prediction", &col) == HAMF_OK) hamf_frame_drop(o, "prediction");
    if ((st = hamf_frame_add_f64(o, "probability", proba, NULL, n)) ||
        (st = hamf_frame_add_i64(o, "prediction", pred, NULL, n)) || (st = hamf_csv_write(o, out))) {
        rc = cli_fail_status(st);
        goto cleanup;
    }
    rc = CLI_OK;
cleanup:
    ml_cli_stage(&q, NULL);
    free(proba);
    free(pred);
    hamf_dataset_free(d);
    hamf_frame_free(fr);
    hamf_frame_free(raw);
    hamf_ensemble_free(m);
    return rc;
}
