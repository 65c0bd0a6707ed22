/*
 * cmd_train.c — `hamf train DATA.csv --target COL -o MODEL`: read a CSV,
 * hold out a seeded test part (or read --test FILE), fit gradient boosting
 * or a random forest, print held-out metrics and save the model file. Also
 * the helpers the other learning verbs share (ml_cli.h).
 */
#include "ml_cli.h"
#include "model_registry.h"
#include "track_cli.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool ml_cli_strict_types;

/* A whole field that is a number (strtod takes all of it). */
static bool is_number_text(const char *s)
{
    if (!*s) return false;
    char *end;
    (void)strtod(s, &end);
    return *end == '\0';
}

/* Type inference reads a column with one non-numeric cell as text: say so
 * (column, how many cells, the first one's CSV line and value), or refuse
 * with --strict-types. Only for columns mostly made of numbers; a real text
 * column with a few numeric-looking values is left alone. */
static hamf_status check_mixed_columns(const char *path, const hamf_frame *f)
{
    size_t n = hamf_frame_nrows(f);
    for (size_t c = 0; c < hamf_frame_ncols(f); c++) {
        if (hamf_frame_col_type(f, c) != HAMF_DTYPE_STRING) continue;
        size_t nd = hamf_frame_dict_size(f, c);
        bool *num = calloc(nd ? nd : 1, sizeof *num);
        if (!num) return HAMF_ERR_NOMEM;
        size_t nnum_vals = 0;
        for (size_t k = 0; k < nd; k++) nnum_vals += num[k] = is_number_text(hamf_frame_dict_value(f, c, k));
        if (nnum_vals == 0) { free(num); continue; }
        const int32_t *codes = hamf_frame_codes(f, c);
        size_t nnum = 0, ntext = 0, first = (size_t)-1;
        for (size_t i = 0; i < n; i++) {
            if (codes[i] < 0) continue;
            if (num[codes[i]]) nnum++;
            else {
                if (!ntext) first = i;
                ntext++;
            }
        }
        free(num);
        if (ntext == 0 || nnum <= ntext) continue;
        char msg[1024];
        snprintf(msg, sizeof msg,
                 "column '%s' is read as text: %zu of %zu cells %s not a number (first at %s:%zu, '%.40s')",
                 hamf_frame_col_name(f, c), ntext, ntext + nnum, ntext == 1 ? "is" : "are", path, first + 2,
                 hamf_frame_dict_value(f, c, (size_t)codes[first]));
        if (ml_cli_strict_types) return cli_fail("%s (--strict-types)", msg), HAMF_ERR_SCHEMA;
        cli_warn("%s; fix the cell%s, or --strict-types to refuse such data", msg, ntext == 1 ? "" : "s");
    }
    return HAMF_OK;
}

hamf_status ml_cli_read_csv(const char *path, int threads, hamf_frame **out)
{
    hamf_csv_options o;
    hamf_csv_options_init(&o);
    o.threads = threads > 0 ? threads : 0;
    hamf_frame *f = NULL;
    hamf_status st = hamf_csv_read(path, &o, &f);
    if (st) return st;
    if ((st = check_mixed_columns(path, f))) {
        hamf_frame_free(f);
        if (st == HAMF_ERR_SCHEMA) exit(CLI_FAIL); /* the error line is printed */
        return st;
    }
    *out = f;
    return HAMF_OK;
}

hamf_status ml_cli_load(const char *path, int threads, const char *pipeline, hamf_frame **out)
{
    hamf_frame *f = NULL;
    hamf_pipeline *pl = NULL;
    hamf_status st = ml_cli_read_csv(path, threads, &f);
    if (!st && pipeline) {
        st = hamf_pipeline_parse(pipeline, "model pipeline", &pl);
        if (!st) st = hamf_pipeline_apply(pl, f);
        hamf_pipeline_free(pl);
    }
    if (st) { hamf_frame_free(f); return st; }
    *out = f;
    return HAMF_OK;
}

void ml_cli_print_metrics(const hamf_metrics *m, bool json, const char *extra_json, FILE *out)
{
    if (json) {
        fprintf(out, "{\"accuracy\":%s,\"f1_score\":%s,\"precision\":%s,\"recall\":%s,", cli_jnum(m->accuracy),
                cli_jnum(m->f1_score), cli_jnum(m->precision), cli_jnum(m->recall));
        fprintf(out, "\"roc_auc\":%s,", cli_jnum(m->roc_auc));
        fprintf(out, "\"log_loss\":%s,\"confusion_matrix\":{\"tn\":%lld,\"fp\":%lld,\"fn\":%lld,\"tp\":%lld}",
                cli_jnum(m->log_loss), (long long)m->tn, (long long)m->fp, (long long)m->fn, (long long)m->tp);
        if (extra_json && *extra_json) fprintf(out, ",%s", extra_json);
        fprintf(out, "}\n");
        return;
    }
    fprintf(out, "accuracy   %s\n", cli_pct(m->accuracy));
    fprintf(out, "f1_score   %s\n", cli_score(m->f1_score));
    fprintf(out, "precision  %s\n", cli_score(m->precision));
    fprintf(out, "recall     %s\n", cli_score(m->recall));
    if (isnan(m->roc_auc)) fprintf(out, "roc_auc    n/a (one class)\n");
    else fprintf(out, "roc_auc    %s\n", cli_score(m->roc_auc));
    fprintf(out, "log_loss   %s\n", cli_score(m->log_loss));
    fprintf(out, "confusion  tn=%lld fp=%lld fn=%lld tp=%lld\n", (long long)m->tn, (long long)m->fp,
            (long long)m->fn, (long long)m->tp);
}

void ml_cli_progress(void *ctx, size_t done, size_t total)
{
    static int last = -1;
    int pct = total ? (int)(100 * done / total) : 100;
    if (pct == last && done != total) return;
    last = pct;
    int w = 30, fill = pct * w / 100;
    fprintf(stderr, "\r\033[K%s [", ctx ? (const char *)ctx : "");
    for (int i = 0; i < w; i++) fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %3d%% %zu/%zu trees", pct, done, total);
    if (done >= total) { fputc('\n', stderr); last = -1; }
    fflush(stderr);
}

static void usage(FILE *o)
{
    fprintf(o,
        "Usage: hamf train DATA.csv --target COL -o MODEL [options]\n"
        "\n"
        "Fit a binary classifier on DATA.csv (every column but the target is a\n"
        "feature; text columns are categorical), hold out a test part, print its\n"
        "metrics and save the model (bins, category dictionaries, trees).\n"
        "\n"
        "Options:\n"
        "  --target COL            label column: 0/1, true/false or yes/no (required)\n"
        "  -o, --output MODEL      model file to write (required)\n"
        "  --algorithm A           gradient-boosting (default) or random-forest\n"
        "  --n-estimators N        trees (default 100)\n"
        "  --learning-rate X       GB shrinkage (default 0.1)\n"
        "  --max-depth D           GB default 3; RF default 0 = unlimited\n"
        "  --max-leaves N          grow leaf-wise up to N leaves per tree (GB)\n"
        "  --min-samples-leaf N    RF: rows per leaf (default 1)\n"
        "  --min-child-weight X    GB: minimum hessian per leaf (default 1e-3)\n"
        "  --l2 X                  GB: L2 on leaf values (default 1)\n"
        "  --subsample X           GB: row fraction per tree (default 1)\n"
        "  --colsample X           GB: feature fraction per tree (default 1)\n"
        "  --max-features X        RF: feature fraction per split (default sqrt)\n"
        "  --validation-fraction X GB: hold out X of the training rows for early\n"
        "                          stopping after --n-iter-no-change (10) rounds\n"
        "  --max-bins N            value bins per numeric feature (default 255)\n"
        "  --params JSON           any of the above as a JSON object, e.g.\n"
        "                          '{\"max_depth\":6,\"l2\":0}'\n"
        "  --seed S                seed for the split and the learner (default 42)\n"
        "  --test-size X           held-out fraction (default 0.2)\n"
        "  --test FILE.csv         use this file as the test set instead\n"
        "  --pipeline SPEC         preprocessing steps ('with NAME = EXPR', 'drop A, B',\n"
        "                          'select A, B', one per line, as 'hamf preprocess\n"
        "                          --spec') applied to DATA (and --test) before\n"
        "                          training and stored in the model, so evaluate and\n"
        "                          predict take raw rows\n"
        "  --threads N             worker threads (default: all cores); results\n"
        "                          are identical for any N\n"
        "  --json                  print one JSON object: accuracy (percent),\n"
        "                          f1_score, precision, recall, roc_auc, log_loss,\n"
        "                          n_train, n_test, fit_seconds, ...\n"
        "  -q, --quiet             no progress bar\n"
        "  --db URL                register the model in this store (default $HAMF_DB,\n"
        "                          else ./hamf.db, as every command): models_master,\n"
        "                          features_models_map (features are added to\n"
        "                          features_master when new), training_results, a\n"
        "                          registry version, and the run (unless --no-track)\n"
        "  --no-register           register nothing (no store is opened or created)\n"
        "  --strict-types          refuse a mostly-numeric column that holds text\n"
        "                          (by default it is read as text, with a warning\n"
        "                          naming the column and the first such cell)\n"
        "  --model-name NAME       registry name (default PhishingDetectionModel)\n"
        "  --model-version V       registry version (default: next free v1, v2, ...)\n");
    track_cli_help(o);
    fprintf(o,
        "  -h, --help              this help\n"
        "\n"
        "Missing values (empty fields, NaN) are learned as their own bin; at\n"
        "prediction time categories never seen in training count as missing.\n");
}

enum { O_TARGET = 256, O_ALGO, O_NEST, O_LR, O_DEPTH, O_LEAVES, O_MSL, O_MCW, O_L2, O_SUB, O_COL, O_MF, O_VF,
       O_NINC, O_BINS, O_PARAMS, O_SEED, O_TSIZE, O_TEST, O_THREADS, O_JSON, O_DB, O_MNAME, O_MVER, O_PIPE, O_NOREG, O_STRICT };

int cmd_train(int argc, char **argv)
{
    static const struct option lo[] = {
        {"target", 1, 0, O_TARGET}, {"output", 1, 0, 'o'}, {"algorithm", 1, 0, O_ALGO},
        {"n-estimators", 1, 0, O_NEST}, {"learning-rate", 1, 0, O_LR}, {"max-depth", 1, 0, O_DEPTH},
        {"max-leaves", 1, 0, O_LEAVES}, {"min-samples-leaf", 1, 0, O_MSL}, {"min-child-weight", 1, 0, O_MCW},
        {"l2", 1, 0, O_L2}, {"subsample", 1, 0, O_SUB}, {"colsample", 1, 0, O_COL}, {"max-features", 1, 0, O_MF},
        {"validation-fraction", 1, 0, O_VF}, {"n-iter-no-change", 1, 0, O_NINC}, {"max-bins", 1, 0, O_BINS},
        {"params", 1, 0, O_PARAMS}, {"seed", 1, 0, O_SEED}, {"test-size", 1, 0, O_TSIZE}, {"test", 1, 0, O_TEST},
        {"threads", 1, 0, O_THREADS}, {"json", 0, 0, O_JSON}, {"db", 1, 0, O_DB}, {"no-register", 0, 0, O_NOREG}, {"strict-types", 0, 0, O_STRICT},
        {"model-name", 1, 0, O_MNAME}, {"model-version", 1, 0, O_MVER}, {"pipeline", 1, 0, O_PIPE}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'},
        TRACK_CLI_LONGOPTS,
        {0, 0, 0, 0}};
    const char *target = NULL, *out = NULL, *test_path = NULL, *params = NULL;
    const char *algo = "gradient-boosting";
    const char *pipe_path = NULL;
    const char *db = NULL, *model_name = "PhishingDetectionModel", *model_version = NULL;
    bool json = false, quiet = false, no_register = false;
    double test_size = 0.2;
    /* flags are applied after the algorithm defaults */
    struct { int opt; const char *val; } set[64];
    int nset = 0;
    long long threads = 0;
    struct track_cli tc = {0};
    optind = 1;
    int c;
    while ((c = cli_getopt("train", argc, argv, "o:qh", lo)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return CLI_OK;
        case 'o': out = optarg; break;
        case 'q': quiet = true; break;
        case O_TARGET: target = optarg; break;
        case O_ALGO: algo = optarg; break;
        case O_TEST: test_path = optarg; break;
        case O_PARAMS: params = optarg; break;
        case O_JSON: json = true; break;
        case O_DB: db = optarg; break;
        case O_NOREG: no_register = true; break;
        case O_STRICT: ml_cli_strict_types = true; break;
        case O_PIPE: pipe_path = optarg; break;
        case O_MNAME: model_name = optarg; break;
        case O_MVER: model_version = optarg; break;
        TRACK_CLI_CASES: track_cli_option(&tc, c, optarg); break;
        case O_TSIZE:
            if (!cli_parse_double(optarg, &test_size) || !(test_size > 0 && test_size < 1))
                return cli_usage("train", "--test-size must be a number in (0, 1), got '%s'", optarg);
            break;
        case O_THREADS:
            if (!cli_parse_i64(optarg, &threads) || threads < 0 || threads > 256)
                return cli_usage("train", "--threads must be in 0..256, got '%s'", optarg);
            break;
        case '?':
            return CLI_USAGE;
        default:
            if (nset < 64) { set[nset].opt = c; set[nset].val = optarg; nset++; }
        }
    }
    if (optind >= argc) return cli_usage("train", "missing DATA.csv");
    if (optind + 1 < argc) return cli_usage("train", "unexpected argument '%s'", argv[optind + 1]);
    const char *data_path = argv[optind];
    if (!target) return cli_usage("train", "--target is required");
    if (!out) return cli_usage("train", "-o MODEL is required");
    hamf_algorithm a;
    if (!strcmp(algo, "gradient-boosting") || !strcmp(algo, "gb")) a = HAMF_ALGO_GRADIENT_BOOSTING;
    else if (!strcmp(algo, "random-forest") || !strcmp(algo, "rf")) a = HAMF_ALGO_RANDOM_FOREST;
    else return cli_usage("train", "--algorithm must be gradient-boosting or random-forest, got '%s'", algo);
    hamf_train_params p;
    hamf_train_params_init(&p, a);
    if (params && hamf_train_params_parse_json(&p, params) != HAMF_OK)
        return cli_usage("train", "--params: %s", hamf_last_error());
    for (int i = 0; i < nset; i++) {
        double v;
        long long iv;
        const char *s = set[i].val;
        bool isint = set[i].opt == O_NEST || set[i].opt == O_DEPTH || set[i].opt == O_LEAVES ||
                     set[i].opt == O_MSL || set[i].opt == O_NINC || set[i].opt == O_BINS || set[i].opt == O_SEED;
        if (isint ? !cli_parse_i64(s, &iv) : !cli_parse_double(s, &v))
            return cli_usage("train", "option value '%s' is not %s", s, isint ? "an integer" : "a number");
        if (isint && (iv < (set[i].opt == O_SEED ? 0 : -2000000000LL) || iv > 2000000000LL) && set[i].opt != O_SEED)
            return cli_usage("train", "option value '%s' is out of range", s);
        if (set[i].opt == O_SEED && iv < 0) return cli_usage("train", "--seed must be >= 0");
        switch (set[i].opt) {
        case O_NEST: p.n_estimators = (int)iv; break;
        case O_LR: p.learning_rate = v; break;
        case O_DEPTH: p.max_depth = (int)iv; break;
        case O_LEAVES: p.max_leaves = (int)iv; break;
        case O_MSL: p.min_samples_leaf = (int)iv; break;
        case O_MCW: p.min_child_weight = v; break;
        case O_L2: p.l2 = v; break;
        case O_SUB: p.subsample = v; break;
        case O_COL: p.colsample = v; break;
        case O_MF: p.max_features = v; break;
        case O_VF: p.validation_fraction = v; break;
        case O_NINC: p.n_iter_no_change = (int)iv; break;
        case O_BINS: p.max_bins = (int)iv; break;
        case O_SEED: p.seed = (uint64_t)iv; break;
        }
    }
    if (p.n_estimators <= 0) return cli_usage("train", "--n-estimators must be > 0, got %d", p.n_estimators);
    p.threads = (int)threads;
    if (!quiet && cli_isatty(2)) {
        p.progress = ml_cli_progress;
        p.progress_ctx = (void *)"training";
    }

    int rc = CLI_FAIL;
    hamf_frame *fr = NULL, *ft = NULL;
    hamf_dataset *all = NULL, *tr = NULL, *te = NULL;
    hamf_ensemble *m = NULL;
    size_t *itr = NULL, *ite = NULL, ntr = 0, nte = 0;
    double *proba = NULL;
    hamf_status st;
    char *pipe_text = NULL;
    hamf_store *store = NULL; /* the one store handle of the command: run, registry rows and version */
    db = no_register ? NULL : cli_db_url(db);
    if (db && (st = hamf_registry_open(db, &store))) { rc = cli_fail("train: %s", hamf_last_error()); goto cleanup; }
    if ((rc = track_cli_begin(&tc, db, store, algo, model_name)) != CLI_OK) goto cleanup;
    rc = CLI_FAIL;
    if (pipe_path) {
        hamf_pipeline *pl = NULL;
        char *raw = NULL;
        if ((st = hamf_file_read(pipe_path, &raw, NULL))) { rc = cli_fail("train: cannot read pipeline %s", pipe_path); goto cleanup; }
        st = hamf_pipeline_parse(raw, pipe_path, &pl);
        hamf_free(raw);
        if (st) { rc = cli_fail_status(st); goto cleanup; }
        pipe_text = strdup(hamf_pipeline_text(pl));
        hamf_pipeline_free(pl);
        if (!pipe_text) { rc = cli_fail("train: out of memory"); goto cleanup; }
    }
    /* Each step over about a second shows on a terminal: a status line for
     * read / prepare / bin / score / write, the tree bar for the fit. */
    struct ml_cli_status q = {!quiet && cli_isatty(2)};
    char what[4200];
    snprintf(what, sizeof what, "reading %s", data_path);
    ml_cli_stage(&q, what);
    if ((st = ml_cli_load(data_path, p.threads, pipe_text, &fr))) { ml_cli_stage(&q, NULL); rc = cli_fail_status(st); goto cleanup; }
    ml_cli_stage(&q, "preparing features and labels");
    if ((st = hamf_dataset_from_frame(fr, target, &all))) { ml_cli_stage(&q, NULL); rc = cli_fail_status(st); goto cleanup; }
    hamf_frame_free(fr);
    fr = NULL;
    if (test_path) {
        snprintf(what, sizeof what, "reading %s", test_path);
        ml_cli_stage(&q, what);
        if ((st = ml_cli_load(test_path, p.threads, pipe_text, &ft))) { ml_cli_stage(&q, NULL); rc = cli_fail_status(st); goto cleanup; }
        if ((st = hamf_dataset_from_frame(ft, target, &te))) { rc = cli_fail_status(st); goto cleanup; }
        hamf_frame_free(ft);
        ft = NULL;
        tr = all;
        all = NULL;
    } else {
        size_t n = hamf_dataset_nrows(all);
        if (n < 2) { rc = cli_fail("train: %s has %zu data rows; need at least 2 to split", data_path, n); goto cleanup; }
        if ((st = hamf_split_train_test(n, test_size, p.seed, NULL, &itr, &ntr, &ite, &nte))) { rc = cli_fail_status(st); goto cleanup; }
        if ((st = hamf_dataset_subset(all, itr, ntr, &tr)) || (st = hamf_dataset_subset(all, ite, nte, &te))) {
            rc = cli_fail_status(st);
            goto cleanup;
        }
        hamf_dataset_free(all);
        all = NULL;
    }
    if (hamf_dataset_nrows(tr) == 0) { ml_cli_stage(&q, NULL); rc = cli_fail("train: empty training set"); goto cleanup; }
    snprintf(what, sizeof what, "binning %zu rows", hamf_dataset_nrows(tr));
    ml_cli_stage(&q, what);
    double t0 = mono();
    if ((st = hamf_ensemble_fit(tr, &p, &m))) { ml_cli_stage(&q, NULL); rc = cli_fail_status(st); goto cleanup; }
    double fit_seconds = mono() - t0;
    if (pipe_text && (st = hamf_ensemble_set_pipeline(m, pipe_text))) { rc = cli_fail_status(st); goto cleanup; }
    size_t n_test = hamf_dataset_nrows(te);
    proba = malloc((n_test + 1) * sizeof *proba);
    if (!proba) { rc = cli_fail("train: out of memory"); goto cleanup; }
    snprintf(what, sizeof what, "scoring %zu test rows", n_test);
    ml_cli_stage(&q, what);
    if ((st = hamf_ensemble_predict(m, te, p.threads, proba))) { ml_cli_stage(&q, NULL); rc = cli_fail_status(st); goto cleanup; }
    hamf_metrics mt;
    if ((st = hamf_metrics_compute(hamf_dataset_label(te), proba, n_test, &mt))) { ml_cli_stage(&q, NULL); rc = cli_fail_status(st); goto cleanup; }
    snprintf(what, sizeof what, "writing %s", out);
    ml_cli_stage(&q, what);
    st = hamf_ensemble_save(m, out);
    ml_cli_stage(&q, NULL);
    if (st) { rc = cli_fail_status(st); goto cleanup; }
    char extra[768], reg_line[256] = "";
    double oob = hamf_ensemble_oob_accuracy(m);
    int k = snprintf(extra, sizeof extra, "\"n_train\":%zu,\"n_test\":%zu,\"fit_seconds\":%s,\"algorithm\":\"%s\",\"n_trees\":%zu",
                     hamf_dataset_nrows(tr), n_test, cli_jnum(fit_seconds),
                     a == HAMF_ALGO_RANDOM_FOREST ? "random-forest" : "gradient-boosting", hamf_ensemble_ntrees(m));
    if (!isnan(oob) && k > 0 && (size_t)k < sizeof extra) snprintf(extra + k, sizeof extra - (size_t)k, ",\"oob_accuracy\":%s", cli_jnum(oob));
    int64_t model_id = 0, result_id = 0;
    char ver[64] = "";
    if (db) {
        const hamf_register_options reg = {.name = model_name, .version = model_version, .model = m, .metrics = &mt,
                                           .artifact = out, .reference = tr, .run_id = track_cli_run_id(&tc)};
        hamf_registration got;
        /* registry rows and the registry version: one transaction, on the command's store */
        if ((st = hamf_registry_register(store, &reg, &got))) {
            rc = cli_fail("train: the model was saved to %s but registering it failed: %s", out,
                          st == HAMF_ERR_NOMEM ? "out of memory" : hamf_last_error());
            goto cleanup;
        }
        model_id = got.model_id;
        result_id = got.result_id;
        snprintf(ver, sizeof ver, "%s", got.model_version);
        size_t k2 = strlen(extra);
        snprintf(extra + k2, sizeof extra - k2, ",\"model_id\":%lld,\"result_id\":%lld,\"model_version\":\"%s\",\"registry_version\":%lld",
                 (long long)model_id, (long long)result_id, ver, (long long)got.registry_version);
        snprintf(reg_line, sizeof reg_line, "registry   model_id %lld (%s %s), result_id %lld\n", (long long)model_id,
                 model_name, ver, (long long)result_id);
    }
    if ((rc = track_cli_end(&tc, m, &mt, out, model_name, db ? ver : model_version, model_id, result_id, data_path,
                            target, test_path ? 0 : test_size, fit_seconds, hamf_dataset_nrows(tr), n_test, te)))
        goto cleanup;
    rc = CLI_FAIL;
    if (track_cli_run_id(&tc)) {
        size_t k3 = strlen(extra);
        snprintf(extra + k3, sizeof extra - k3, ",\"run_id\":\"%s\"", track_cli_run_id(&tc));
        size_t k4 = strlen(reg_line);
        snprintf(reg_line + k4, sizeof reg_line - k4, "run        %s (%s)\n", track_cli_run_id(&tc), tc.where);
    }
    if (json) {
        ml_cli_print_metrics(&mt, true, extra, stdout);
    } else {
        printf("model      %s (%s, %zu trees)\n", out, a == HAMF_ALGO_RANDOM_FOREST ? "random-forest" : "gradient-boosting",
               hamf_ensemble_ntrees(m));
        printf("rows       train %zu, test %zu\n", hamf_dataset_nrows(tr), n_test);
        printf("fit        %s\n", cli_secs(fit_seconds));
        if (!isnan(oob)) printf("oob        %s\n", cli_pct(oob));
        ml_cli_print_metrics(&mt, false, NULL, stdout);
        fputs(reg_line, stdout);
    }
    rc = CLI_OK;
cleanup:
    track_cli_close(&tc); /* before the store: a local run uses its connection */
    hamf_store_close(store);
    free(pipe_text);
    free(proba);
    hamf_free_indices(itr);
    hamf_free_indices(ite);
    hamf_ensemble_free(m);
    hamf_dataset_free(all);
    hamf_dataset_free(tr);
    hamf_dataset_free(te);
    hamf_frame_free(fr);
    hamf_frame_free(ft);
    return rc;
}
