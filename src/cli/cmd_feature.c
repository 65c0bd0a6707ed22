/*
 * cmd_feature.c — `hamf feature add|list`: register features in the
 * registry's features_master table and list them (table or --json).
 */
#include "cli.h"
#include "rows.h"

#include <getopt.h>
#include <string.h>

static const char feature_help[] =
    "Usage: hamf feature <subcommand> [options]\n"
    "\n"
    "Features known to the HAMF registry (table features_master).\n"
    "\n"
    "Subcommands:\n"
    "  add NAME --type numerical|categorical [--status S]\n"
    "                 register a feature (status defaults to 'active'); prints its id\n"
    "  list [--json]  list features in id order\n"
    "\n"
    "Options for every subcommand:\n"
    "  --db URL       store: a path, sqlite:///abs/path or postgresql://...\n"
    "                 (default $HAMF_DB, else ./hamf.db)\n"
    "  -h, --help     show this help\n";

static int feature_add(int argc, char **argv)
{
    static const struct option opts[] = {
        {"type", required_argument, NULL, 't'}, {"status", required_argument, NULL, 's'},
        {"db", required_argument, NULL, 'd'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *type = NULL, *status = NULL, *db = NULL;
    int c;
    optind = 1;
    while ((c = cli_getopt("feature", argc, argv, ":h", opts)) != -1) {
        switch (c) {
        case 't': type = optarg; break;
        case 's': status = optarg; break;
        case 'd': db = optarg; break;
        case 'h': fputs(feature_help, stdout); return CLI_OK;
        case ':': return CLI_USAGE;
        default: return CLI_USAGE;
        }
    }
    if (optind + 1 != argc) return cli_usage("feature", "add takes exactly one NAME");
    if (!type) return cli_usage("feature", "add needs --type numerical|categorical");
    hamf_store *st = NULL;
    hamf_status s = hamf_store_open(cli_db_url(db), &st);
    if (s) return cli_fail_status(s);
    int64_t id = 0;
    s = hamf_store_insert_feature(st, argv[optind], type, status, &id);
    hamf_store_close(st);
    if (s) return cli_fail_status(s);
    printf("%lld\n", (long long)id);
    return CLI_OK;
}

static int feature_list(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"db", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = cli_getopt("feature", argc, argv, ":h", opts)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'd': db = optarg; break;
        case 'h': fputs(feature_help, stdout); return CLI_OK;
        case ':': return CLI_USAGE;
        default: return CLI_USAGE;
        }
    }
    if (optind != argc) return cli_usage("feature", "unexpected argument '%s'", argv[optind]);
    hamf_store *st = NULL;
    hamf_store_list *l = NULL;
    hamf_status s = hamf_store_open(cli_db_url(db), &st);
    if (!s) s = hamf_store_list_features(st, &l);
    hamf_store_close(st);
    if (s) return cli_fail_status(s);
    static const char *const cols[] = {"feature_id", "feature_name", "feature_type", "feature_status",
                                       "last_updated"};
    static const enum rows_kind kinds[] = {ROWS_NUM, ROWS_TEXT, ROWS_TEXT, ROWS_TEXT, ROWS_TEXT};
    struct rows *r = rows_new(5, cols, kinds, json);
    for (size_t i = 0; i < l->count; i++) {
        const hamf_feature *f = l->u.features[i];
        char id[32];
        const char *cells[] = {rows_int(id, f->feature_id), f->feature_name, f->feature_type, f->feature_status,
                               f->last_updated};
        rows_add(r, cells);
    }
    rows_finish(r, stdout);
    hamf_store_list_free(l);
    return CLI_OK;
}

int cmd_feature(int argc, char **argv)
{
    if (argc < 2) return cli_usage("feature", "missing subcommand (add, list)");
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        fputs(feature_help, stdout);
        return CLI_OK;
    }
    if (!strcmp(sub, "add")) return feature_add(argc - 1, argv + 1);
    if (!strcmp(sub, "list")) return feature_list(argc - 1, argv + 1);
    return cli_usage("feature", "unknown subcommand '%s' (add, list)", sub);
}
