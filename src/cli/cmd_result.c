/*
 * cmd_result.c — `hamf result add|list`: training results in the
 * registry's training_results table (accuracy in percent, f1/precision/
 * recall in [0,1]), optionally linked to a tracking run.
 */
#include "cli.h"
#include "rows.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char result_help[] =
    "Usage: hamf result <subcommand> [options]\n"
    "\n"
    "Training results in the HAMF registry (table training_results).\n"
    "\n"
    "Subcommands:\n"
    "  add --model-id N --accuracy X --f1 X --precision X --recall X\n"
    "      [--status S] [--run-id R] [--fraction]\n"
    "      record a result; accuracy is a percent in [0,100] (a value in [0,1]\n"
    "      is refused unless --fraction says it is a fraction), f1 (alias\n"
    "      --f1-score), precision and recall are in [0,1]; status defaults to\n"
    "      'completed'; prints result_id\n"
    "  list [--model-id N] [--json]\n"
    "      list results in id order, of one model or of all\n"
    "\n"
    "Options for every subcommand:\n"
    "  --db URL       store: a path, sqlite:///abs/path or postgresql://...\n"
    "                 (default $HAMF_DB, else ./hamf.db)\n"
    "  -h, --help     show this help\n";

enum { O_MODEL = 1, O_ACC, O_F1, O_PREC, O_REC, O_STATUS, O_RUN, O_JSON, O_DB, O_FRAC };

static const struct option result_opts[] = {
    {"model-id", required_argument, NULL, O_MODEL}, {"accuracy", required_argument, NULL, O_ACC},
    {"f1", required_argument, NULL, O_F1},          {"precision", required_argument, NULL, O_PREC},
    {"recall", required_argument, NULL, O_REC},     {"status", required_argument, NULL, O_STATUS},
    {"run-id", required_argument, NULL, O_RUN},     {"json", no_argument, NULL, O_JSON},
    {"db", required_argument, NULL, O_DB},          {"help", no_argument, NULL, 'h'},
    {"f1-score", required_argument, NULL, O_F1},    {"fraction", no_argument, NULL, O_FRAC},
    {NULL, 0, NULL, 0},
};

/* A number as typed; nan/inf are passed on so the library names the field. */
static bool metric(const char *flag, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE) {
        fprintf(stderr, "hamf result add: --%s '%s' is not a number\n", flag, s);
        return false;
    }
    *out = v;
    return true;
}

static bool model_id(const char *s, int64_t *out)
{
    long long v;
    if (!cli_parse_i64(s, &v) || v <= 0 || s[0] == '+' || s[0] == ' ') {
        fprintf(stderr, "hamf result: --model-id '%s' is not a model id (1, 2, ...)\n", s);
        return false;
    }
    *out = v;
    return true;
}

static int result_add(int argc, char **argv)
{
    const char *v[O_FRAC + 1] = {0};
    bool fraction = false;
    int c;
    optind = 1;
    while ((c = cli_getopt("result", argc, argv, ":h", result_opts)) != -1) {
        if (c == 'h') {
            fputs(result_help, stdout);
            return CLI_OK;
        }
        if (c == '?') return CLI_USAGE;
        if (c == O_JSON) return cli_usage("result", "add: unknown option '%s'", argv[optind - 1]);
        if (c == O_FRAC) {
            fraction = true;
            continue;
        }
        v[c] = optarg;
    }
    if (optind != argc) return cli_usage("result", "add: unexpected argument '%s'", argv[optind]);
    static const struct {
        int opt;
        const char *name;
    } need[] = {{O_MODEL, "model-id"}, {O_ACC, "accuracy"}, {O_F1, "f1"}, {O_PREC, "precision"}, {O_REC, "recall"}};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!v[need[i].opt]) return cli_usage("result", "add needs --%s", need[i].name);
    hamf_training_result r = {0};
    if (!model_id(v[O_MODEL], &r.model_id) || !cli_parse_percent("result", "accuracy", v[O_ACC], fraction, &r.accuracy) ||
        !metric("f1", v[O_F1], &r.f1_score) || !metric("precision", v[O_PREC], &r.precision) ||
        !metric("recall", v[O_REC], &r.recall))
        return CLI_USAGE;
    r.training_status = v[O_STATUS];
    r.run_id = v[O_RUN];
    hamf_store *st = NULL;
    int64_t id = 0;
    hamf_status s = hamf_store_open(cli_db_url(v[O_DB]), &st);
    if (!s) s = hamf_store_insert_training_result(st, &r, &id);
    hamf_store_close(st);
    if (s) return cli_fail_status(s);
    printf("%lld\n", (long long)id);
    return CLI_OK;
}

static int result_list(int argc, char **argv)
{
    const char *db = NULL, *model = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = cli_getopt("result", argc, argv, ":h", result_opts)) != -1) {
        switch (c) {
        case 'h': fputs(result_help, stdout); return CLI_OK;
        case O_MODEL: model = optarg; break;
        case O_JSON: json = true; break;
        case O_DB: db = optarg; break;
        case '?': return CLI_USAGE;
        default: return cli_usage("result", "list: option '%s' is for add", cli_optname());
        }
    }
    if (optind != argc) return cli_usage("result", "list: unexpected argument '%s'", argv[optind]);
    int64_t mid = 0;
    if (model && !model_id(model, &mid)) return CLI_USAGE;
    hamf_store *st = NULL;
    hamf_store_list *l = NULL;
    hamf_status s = hamf_store_open(cli_db_url(db), &st);
    if (!s) s = hamf_store_list_training_results(st, mid, &l);
    hamf_store_close(st);
    if (s) return cli_fail_status(s);
    static const char *const cols[] = {"result_id", "model_id",        "accuracy",  "f1_score", "precision",
                                       "recall",    "training_status", "timestamp", "run_id"};
    static const enum rows_kind kinds[] = {ROWS_NUM, ROWS_NUM,  ROWS_NUM,  ROWS_NUM, ROWS_NUM,
                                           ROWS_NUM, ROWS_TEXT, ROWS_TEXT, ROWS_TEXT};
    struct rows *out = rows_new(9, cols, kinds, json);
    for (size_t i = 0; i < l->count; i++) {
        const hamf_training_result *r = l->u.results[i];
        char a[32], b[32], x[32], f[32], p[32], rc[32];
        const char *cells[] = {rows_int(a, r->result_id), rows_int(b, r->model_id), rows_pct(out, x, r->accuracy),
                               rows_score(out, f, r->f1_score), rows_score(out, p, r->precision),
                               rows_score(out, rc, r->recall),
                               r->training_status,        r->timestamp,              r->run_id};
        rows_add(out, cells);
    }
    rows_finish(out, stdout);
    hamf_store_list_free(l);
    return CLI_OK;
}

int cmd_result(int argc, char **argv)
{
    if (argc < 2) return cli_usage("result", "missing subcommand (add, list)");
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        fputs(result_help, stdout);
        return CLI_OK;
    }
    if (!strcmp(sub, "add")) return result_add(argc - 1, argv + 1);
    if (!strcmp(sub, "list")) return result_list(argc - 1, argv + 1);
    return cli_usage("result", "unknown subcommand '%s' (add, list)", sub);
}
