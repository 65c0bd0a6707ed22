/* cmd_runs.c — `hamf runs list|show`: the tracking store's runs from the
 * command line. Reads the same MLflow-shaped JSON the server answers (one
 * serializer), as a table or as JSON. */
#include "cli.h"

#include "store/search.h"
#include "store/tracking.h"
#include "server/mlflow_json.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

static void help(void)
{
    printf("Usage: hamf runs list [--experiment NAME] [--json] [--db URL]\n"
           "       hamf runs show RUN_ID [--db URL]\n"
           "\n"
           "List the tracked runs (newest first) or show one run with its params,\n"
           "latest metrics and tags.\n"
           "\n"
           "Options:\n"
           "  --experiment NAME   only runs of this experiment (default: every active one)\n"
           "  --json              print {\"runs\": [...]} as the REST API does\n"
           "  --db URL            store (default $HAMF_DB, else ./hamf.db)\n"
           "  -h, --help          show this help\n");
}

static const char *jstr(const struct hamf__jval *o, const char *k)
{
    const struct hamf__jval *v = hamf__jobj_get(o, k);
    return v && v->type == HAMF__JSTR ? v->str : "";
}

static int64_t jint(const struct hamf__jval *o, const char *k)
{
    int64_t x = 0;
    hamf__jval_to_i64(hamf__jobj_get(o, k), &x);
    return x;
}

static void fmt_time(int64_t ms, char out[32])
{
    if (ms <= 0) {
        strcpy(out, "-");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static int list_runs(struct hamf__trk *t, const char *experiment, bool json)
{
    struct hamf__buf b, ids;
    hamf__buf_init(&b, 0);
    hamf__buf_init(&ids, 0);
    struct hamf__jdoc *doc = NULL, *edoc = NULL;
    const char **exp_ids = NULL;
    size_t nexp = 0;
    char *one = NULL;
    int rc = CLI_FAIL;
    hamf_status s;
    if (experiment) {
        if ((s = hamf__trk_exp_id_by_name(t, experiment, &one))) goto fail;
        exp_ids = hamf__calloc(1, sizeof *exp_ids);
        if (!exp_ids) goto oom;
        exp_ids[0] = one;
        nexp = 1;
    } else {
        struct hamf__trk_search q = {.view = HAMF__VIEW_ACTIVE_ONLY, .max_results = HAMF__TRK_MAX_RESULTS};
        if ((s = hamf__buf_putc(&ids, '{')) || (s = hamf__mlflow_exp_search_json(t, &q, &ids)) || (s = hamf__buf_putc(&ids, '}')))
            goto fail;
        if ((s = hamf__json_parse(ids.data, ids.len, 0, &edoc))) goto fail;
        const struct hamf__jval *ex = hamf__jobj_get(hamf__jdoc_root(edoc), "experiments");
        size_t n = ex ? ex->len : 0;
        exp_ids = hamf__calloc(n ? n : 1, sizeof *exp_ids);
        if (!exp_ids) goto oom;
        for (size_t i = 0; i < n; i++) exp_ids[nexp++] = jstr(&ex->items[i], "experiment_id");
    }
    struct hamf__trk_search q = {.view = HAMF__VIEW_ACTIVE_ONLY, .max_results = HAMF__TRK_MAX_RESULTS,
                                 .exp_ids = exp_ids, .nexp = nexp};
    if ((s = hamf__buf_putc(&b, '{')) || (s = hamf__mlflow_run_search_json(t, &q, &b)) || (s = hamf__buf_putc(&b, '}')))
        goto fail;
    if (json) {
        printf("%s\n", b.data);
        rc = CLI_OK;
        goto cleanup;
    }
    if ((s = hamf__json_parse(b.data, b.len, 0, &doc))) goto fail;
    const struct hamf__jval *runs = hamf__jobj_get(hamf__jdoc_root(doc), "runs");
    static const char *const hdr[] = {"RUN_ID", "EXPERIMENT", "NAME", "STATUS", "START", "METRICS"};
    struct cli_table *tab = table_new(6, hdr);
    for (size_t i = 0; runs && i < runs->len; i++) {
        const struct hamf__jval *info = hamf__jobj_get(&runs->items[i], "info");
        const struct hamf__jval *data = hamf__jobj_get(&runs->items[i], "data");
        const struct hamf__jval *ms = hamf__jobj_get(data, "metrics");
        struct hamf__buf mb;
        hamf__buf_init(&mb, 0);
        for (size_t k = 0; ms && k < ms->len && k < 4; k++) {
            const struct hamf__jval *v = hamf__jobj_get(&ms->items[k], "value");
            char num[32] = "NaN";
            if (v && v->type == HAMF__JNUM) snprintf(num, sizeof num, "%s", cli_metric(jstr(&ms->items[k], "key"), v->num));
            (void)hamf__buf_printf(&mb, "%s%s=%s", k ? " " : "", jstr(&ms->items[k], "key"), num);
        }
        if (ms && ms->len > 4) (void)hamf__buf_puts(&mb, " ...");
        char when[32];
        fmt_time(jint(info, "start_time"), when);
        const char *cells[6] = {jstr(info, "run_id"), jstr(info, "experiment_id"), jstr(info, "run_name"),
                                jstr(info, "status"), when, mb.data ? mb.data : ""};
        table_add(tab, cells);
        hamf__buf_free(&mb);
    }
    table_print(tab, stdout);
    table_free(tab);
    rc = CLI_OK;
    goto cleanup;
oom:
    s = hamf__err(HAMF_ERR_NOMEM, "runs: out of memory");
fail:
    rc = cli_fail_status(s);
cleanup:
    hamf__jdoc_free(doc);
    hamf__jdoc_free(edoc);
    hamf__free((void *)exp_ids);
    hamf__free(one);
    hamf__buf_free(&b);
    hamf__buf_free(&ids);
    return rc;
}

static void print_kv(const struct hamf__jval *arr, const char *title)
{
    if (!arr || !arr->len) return;
    printf("%s:\n", title);
    for (size_t i = 0; i < arr->len; i++) printf("  %-28s %s\n", jstr(&arr->items[i], "key"), jstr(&arr->items[i], "value"));
}

static int show_run(struct hamf__trk *t, const char *id)
{
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    struct hamf__jdoc *doc = NULL;
    hamf_status s = hamf__mlflow_run_json(t, id, &b);
    if (!s) s = hamf__json_parse(b.data, b.len, 0, &doc);
    if (s) {
        hamf__buf_free(&b);
        return cli_fail_status(s);
    }
    const struct hamf__jval *run = hamf__jdoc_root(doc);
    const struct hamf__jval *info = hamf__jobj_get(run, "info");
    const struct hamf__jval *data = hamf__jobj_get(run, "data");
    char st[32], en[32];
    fmt_time(jint(info, "start_time"), st);
    fmt_time(jint(info, "end_time"), en);
    printf("run_id:          %s\nrun_name:        %s\nexperiment_id:   %s\nstatus:          %s\n"
           "lifecycle_stage: %s\nuser_id:         %s\nstart_time:      %s\nend_time:        %s\nartifact_uri:    %s\n",
           jstr(info, "run_id"), jstr(info, "run_name"), jstr(info, "experiment_id"), jstr(info, "status"),
           jstr(info, "lifecycle_stage"), jstr(info, "user_id"), st, en, jstr(info, "artifact_uri"));
    print_kv(hamf__jobj_get(data, "params"), "params");
    const struct hamf__jval *ms = hamf__jobj_get(data, "metrics");
    if (ms && ms->len) {
        printf("metrics (latest):\n");
        for (size_t i = 0; i < ms->len; i++) {
            const struct hamf__jval *v = hamf__jobj_get(&ms->items[i], "value");
            char num[32] = "NaN";
            if (v && v->type == HAMF__JNUM) snprintf(num, sizeof num, "%s", cli_metric(jstr(&ms->items[i], "key"), v->num));
            else if (v && v->type == HAMF__JSTR) snprintf(num, sizeof num, "%s", v->str);
            printf("  %-28s %s (step %lld)\n", jstr(&ms->items[i], "key"), num, (long long)jint(&ms->items[i], "step"));
        }
    }
    print_kv(hamf__jobj_get(data, "tags"), "tags");
    hamf__jdoc_free(doc);
    hamf__buf_free(&b);
    return CLI_OK;
}

int cmd_runs(int argc, char **argv)
{
    static const struct option opts[] = {
        {"experiment", required_argument, NULL, 'e'}, {"json", no_argument, NULL, 'j'},
        {"db", required_argument, NULL, 'd'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2) return cli_usage("runs", "expected 'list' or 'show RUN_ID'");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        help();
        return CLI_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "list") && strcmp(sub, "show")) return cli_usage("runs", "unknown subcommand '%s'", sub);
    const char *experiment = NULL, *db = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = cli_getopt("runs", argc - 1, argv + 1, "h", opts)) != -1) {
        switch (c) {
        case 'e': experiment = optarg; break;
        case 'j': json = true; break;
        case 'd': db = optarg; break;
        case 'h': help(); return CLI_OK;
        default: return CLI_USAGE;
        }
    }
    int rest = argc - 1 - optind;
    char **args = argv + 1 + optind;
    if (!strcmp(sub, "list") && rest > 0) return cli_usage("runs", "unexpected argument '%s'", args[0]);
    if (!strcmp(sub, "show") && rest != 1) return cli_usage("runs", "show takes exactly one RUN_ID");
    if (!strcmp(sub, "show") && (experiment || json)) return cli_usage("runs", "show takes no --experiment/--json");
    struct hamf__trk *t = NULL;
    hamf_status s = hamf__trk_open(cli_db_url(db), &t);
    if (s) return cli_fail_status(s);
    int rc = !strcmp(sub, "list") ? list_runs(t, experiment, json) : show_run(t, args[0]);
    hamf__trk_close(t);
    return rc;
}
