/* cmd_runs.c — `hamf runs list|show`: the tracking store's runs from the
 * command line, through hamf_runs_search / hamf_run_get: the same
 * MLflow-shaped JSON the server answers (one serializer), as a table or as
 * JSON. */
#include "cli.h"

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

static int list_runs(hamf_store *s, const char *experiment, bool json)
{
    hamf_run_list *l = NULL;
    hamf_status st = hamf_runs_search(s, experiment, &l);
    if (st) return cli_fail_status(st);
    if (json) {
        printf("%s\n", hamf_run_list_json(l));
        hamf_run_list_free(l);
        return CLI_OK;
    }
    static const char *const hdr[] = {"RUN_ID", "EXPERIMENT", "NAME", "STATUS", "START", "METRICS"};
    struct cli_table *tab = table_new(6, hdr);
    for (size_t i = 0; i < hamf_run_list_count(l); i++) {
        const hamf_run_record *r = hamf_run_list_get(l, i);
        char mb[4 * 300 + 8] = "";
        size_t k = 0;
        for (size_t m = 0; m < r->nmetrics && m < 4; m++) {
            const hamf_run_value *v = &r->metrics[m];
            k += (size_t)snprintf(mb + k, sizeof mb - k, "%s%.250s=%s", m ? " " : "", v->key,
                                  v->is_number ? cli_metric(v->key, v->number) : "NaN");
            if (k >= sizeof mb) k = sizeof mb - 1;
        }
        if (r->nmetrics > 4) snprintf(mb + k, sizeof mb - k, " ...");
        char when[32];
        fmt_time(r->start_time, when);
        const char *cells[6] = {r->run_id, r->experiment_id, r->run_name, r->status, when, mb};
        table_add(tab, cells);
    }
    table_print(tab, stdout);
    table_free(tab);
    hamf_run_list_free(l);
    return CLI_OK;
}

static void print_kv(const hamf_run_value *v, size_t n, const char *title)
{
    if (!n) return;
    printf("%s:\n", title);
    for (size_t i = 0; i < n; i++) printf("  %-28s %s\n", v[i].key, v[i].value ? v[i].value : "");
}

static int show_run(hamf_store *s, const char *id)
{
    hamf_run_list *l = NULL;
    hamf_status st = hamf_run_get(s, id, &l);
    if (st) return cli_fail_status(st);
    const hamf_run_record *r = hamf_run_list_get(l, 0);
    char t0[32], t1[32];
    fmt_time(r->start_time, t0);
    fmt_time(r->end_time, t1);
    printf("run_id:          %s\nrun_name:        %s\nexperiment_id:   %s\nstatus:          %s\n"
           "lifecycle_stage: %s\nuser_id:         %s\nstart_time:      %s\nend_time:        %s\nartifact_uri:    %s\n",
           r->run_id, r->run_name, r->experiment_id, r->status, r->lifecycle_stage, r->user_id, t0, t1,
           r->artifact_uri);
    print_kv(r->params, r->nparams, "params");
    if (r->nmetrics) {
        printf("metrics (latest):\n");
        for (size_t i = 0; i < r->nmetrics; i++) {
            const hamf_run_value *v = &r->metrics[i];
            char num[32] = "NaN";
            if (v->is_number) snprintf(num, sizeof num, "%s", cli_metric(v->key, v->number));
            else if (v->value) snprintf(num, sizeof num, "%s", v->value);
            printf("  %-28s %s (step %lld)\n", v->key, num, (long long)v->step);
        }
    }
    print_kv(r->tags, r->ntags, "tags");
    hamf_run_list_free(l);
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
    hamf_store *s = NULL;
    hamf_status st = hamf_store_open(cli_db_url(db), &s);
    if (st) return cli_fail_status(st);
    int rc = !strcmp(sub, "list") ? list_runs(s, experiment, json) : show_run(s, args[0]);
    hamf_store_close(s);
    return rc;
}
