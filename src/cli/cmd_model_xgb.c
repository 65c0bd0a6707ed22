/*
 * cmd_model_xgb.c — `hamf model export MODEL --format xgboost-json -o
 * model.json` and `hamf model import model.json --name NAME -o MODEL.hamf
 * [--pipeline SPEC] [--data REF.csv] [--db URL]`.
 */
#include "model_xgb.h"
#include "ml_cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void export_usage(FILE *o)
{
    fprintf(o,
        "Usage: hamf model export MODEL --format xgboost-json -o model.json\n"
        "\n"
        "Write MODEL as an XGBoost JSON model that XGBoost (>= 1.7) loads with\n"
        "xgboost.Booster(model_file=\"model.json\") and that predicts the same\n"
        "probabilities: gradient boosting as binary:logistic, random forest as\n"
        "reg:squarederror returning the averaged probability. Its\n"
        "pred_contribs equal `hamf explain`.\n"
        "The exported model takes the OUTPUT columns of the model's\n"
        "preprocessing pipeline (apply `hamf preprocess` first; the spec is kept\n"
        "in the learner attribute hamf_pipeline). Categorical features are\n"
        "XGBoost categoricals (feature type \"c\") whose codes index the sorted\n"
        "category lists in the attribute hamf_categories, e.g. in pandas\n"
        "pd.Categorical(col, categories=json.loads(b.attr('hamf_categories'))[name]).\n"
        "XGBoost compares float32 values, so a value within half a float32 ulp\n"
        "of a split threshold may take the other branch.\n"
        "\n"
        "Options:\n"
        "  --format F         xgboost-json (the only format)\n"
        "  -o, --output FILE  file to write (appears atomically)\n"
        "  -h, --help         this help\n");
}

int cli_model_export(int argc, char **argv)
{
    static const struct option lo[] = {{"format", 1, 0, 'F'}, {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *out = NULL, *fmt = NULL;
    optind = 1;
    int c;
    while ((c = cli_getopt("model export", argc, argv, "o:h", lo)) != -1) {
        switch (c) {
        case 'h': export_usage(stdout); return CLI_OK;
        case 'o': out = optarg; break;
        case 'F': fmt = optarg; break;
        default: return CLI_USAGE;
        }
    }
    if (argc - optind != 1) return cli_usage("model export", "expected one MODEL file");
    if (!fmt) return cli_usage("model export", "--format xgboost-json is required");
    if (strcmp(fmt, "xgboost-json")) return cli_usage("model export", "unknown --format '%s' (supported: xgboost-json)", fmt);
    if (!out) return cli_usage("model export", "-o FILE is required");
    hamf_ensemble *m = NULL;
    hamf_status st = hamf_ensemble_load(argv[optind], &m);
    if (!st) st = hamf_ensemble_export_xgboost(m, out);
    hamf_ensemble_free(m);
    return st ? cli_fail_status(st) : CLI_OK;
}

static void import_usage(FILE *o)
{
    fprintf(o,
        "Usage: hamf model import model.json --name NAME -o MODEL.hamf [--pipeline SPEC]\n"
        "                         [--data REF.csv [--target COL]] [--db URL] [--version V]\n"
        "\n"
        "Read an XGBoost JSON model (Booster.save_model(\"x.json\"), XGBoost >= 1.7:\n"
        "gbtree booster, binary:logistic, one output; or a random forest exported\n"
        "by hamf) and save it as a hamf model that predict, evaluate, explain,\n"
        "drift, retrain and export treat like a native one. Split thresholds\n"
        "become bin edges (at most 254 per feature), categorical features keep\n"
        "their codes (names from hamf_categories when present, else \"0\", \"1\",\n"
        "...). Anything hamf cannot represent (objective, booster, multi-class,\n"
        "vector leaves) is an error naming it, and nothing is written.\n"
        "\n"
        "--data REF.csv: labelled rows the model was trained on (raw rows when\n"
        "the model has a pipeline): metrics are printed, and with a store\n"
        "(--db, else $HAMF_DB) the model is registered in one transaction as the\n"
        "next version of NAME (models_master, features, training_results with\n"
        "those metrics, the model registry with their bins as drift's baseline).\n"
        "\n"
        "Options:\n"
        "  --name NAME        registry name of the model (required)\n"
        "  -o, --output FILE  hamf model file to write (required)\n"
        "  --pipeline SPEC    preprocessing spec file stored with the model\n"
        "                     (replaces one the JSON carries)\n"
        "  --data REF.csv     labelled reference rows (needed to register)\n"
        "  --target COL       their label column (default: the model's target)\n"
        "  --version V        models_master version (default: next free vN)\n"
        "  --db URL           store to register in\n"
        "  -h, --help         this help\n");
}

static char *slurp_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *b = malloc(cap);
    while (b) {
        size_t k = fread(b + len, 1, cap - len - 1, f);
        len += k;
        if (k == 0) break;
        if (len + 1 == cap) {
            char *nb = cap < (1u << 24) ? realloc(b, cap * 2) : NULL;
            if (!nb) { free(b); b = NULL; break; }
            b = nb;
            cap *= 2;
        }
    }
    if (b) b[len] = 0;
    fclose(f);
    return b;
}

int cli_model_import(int argc, char **argv)
{
    enum { O_NAME = 1000, O_PIPE, O_DATA, O_DB, O_VER, O_TARGET };
    static const struct option lo[] = {{"name", 1, 0, O_NAME}, {"output", 1, 0, 'o'}, {"pipeline", 1, 0, O_PIPE},
                                       {"data", 1, 0, O_DATA}, {"db", 1, 0, O_DB}, {"version", 1, 0, O_VER},
                                       {"target", 1, 0, O_TARGET}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *name = NULL, *out = NULL, *pipe_path = NULL, *data = NULL, *db = NULL, *version = NULL, *target = NULL;
    optind = 1;
    int c;
    while ((c = cli_getopt("model import", argc, argv, "o:h", lo)) != -1) {
        switch (c) {
        case 'h': import_usage(stdout); return CLI_OK;
        case 'o': out = optarg; break;
        case O_NAME: name = optarg; break;
        case O_PIPE: pipe_path = optarg; break;
        case O_DATA: data = optarg; break;
        case O_DB: db = optarg; break;
        case O_VER: version = optarg; break;
        case O_TARGET: target = optarg; break;
        default: return CLI_USAGE;
        }
    }
    if (argc - optind != 1) return cli_usage("model import", "expected one model.json");
    if (!name || !*name) return cli_usage("model import", "--name NAME is required");
    if (!out) return cli_usage("model import", "-o MODEL.hamf is required");
    const char *env_db = getenv("HAMF_DB");
    if (!db && env_db && *env_db) db = env_db;
    if (db && !data) return cli_usage("model import", "registering in a store needs --data REF.csv (labelled reference rows)");
    int rc = CLI_FAIL;
    hamf_ensemble *m = NULL;
    hamf_pipeline *pl = NULL;
    hamf_frame *fr = NULL;
    hamf_dataset *d = NULL;
    char *spec = NULL;
    double *proba = NULL;
    hamf_metrics mt;
    hamf_status st;
    if ((st = hamf_ensemble_import_xgboost(argv[optind], &m))) { rc = cli_fail_status(st); goto cleanup; }
    if (pipe_path) {
        if (!(spec = slurp_text(pipe_path))) { rc = cli_fail("model import: cannot read pipeline %s", pipe_path); goto cleanup; }
        if ((st = hamf_pipeline_parse(spec, pipe_path, &pl)) || (st = hamf_ensemble_set_pipeline(m, hamf_pipeline_text(pl)))) {
            rc = cli_fail_status(st);
            goto cleanup;
        }
    }
    if (data) {
        /* the reference rows must fit the model before anything is written */
        if (!target || !*target) target = *hamf_ensemble_target(m) ? hamf_ensemble_target(m) : NULL;
        if (!target) { rc = cli_fail("model import: the model names no target column; give --target COL for %s", data); goto cleanup; }
        if ((st = ml_cli_load(data, 0, hamf_ensemble_pipeline(m), &fr)) || (st = hamf_dataset_from_frame(fr, target, &d))) {
            rc = cli_fail_status(st);
            goto cleanup;
        }
        size_t n = hamf_dataset_nrows(d);
        if (!(proba = malloc((n + 1) * sizeof *proba))) { rc = cli_fail("model import: out of memory"); goto cleanup; }
        if ((st = hamf_ensemble_predict(m, d, 0, proba)) || (st = hamf_metrics_compute(hamf_dataset_label(d), proba, n, &mt))) {
            rc = cli_fail_status(st);
            goto cleanup;
        }
    }
    if ((st = hamf_ensemble_save(m, out))) { rc = cli_fail_status(st); goto cleanup; }
    const char *algo = hamf_ensemble_algorithm(m) == HAMF_ALGO_RANDOM_FOREST ? "random-forest" : "gradient-boosting";
    printf("model      %s (%s, %zu trees, %zu features)\n", out, algo, hamf_ensemble_ntrees(m), hamf_ensemble_nfeatures(m));
    if (data) printf("reference %s: accuracy %.4f %%, f1_score %.6f on %zu rows\n", data, mt.accuracy, mt.f1_score, mt.n);
    if (db) {
        int64_t model_id = 0, reg_version = 0;
        char ver[64] = "";
        const hamf_register_options ro = {.name = name, .version = version, .model = m, .metrics = &mt,
                                          .artifact = out, .reference = d, .run_id = NULL};
        if ((st = hamf_register_model(db, &ro, &model_id, ver, &reg_version))) {
            rc = cli_fail("model import: the model was saved to %s but registering it failed: %s", out, hamf_last_error());
            goto cleanup;
        }
        printf("registry   model_id %lld (%s %s), registry version %lld\n", (long long)model_id, name, ver,
               (long long)reg_version);
    }
    rc = CLI_OK;
cleanup:
    free(proba);
    hamf_dataset_free(d);
    hamf_frame_free(fr);
    hamf_pipeline_free(pl);
    free(spec);
    hamf_ensemble_free(m);
    return rc;
}
