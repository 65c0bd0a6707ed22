/*
 * cmd_audit.c — `hamf audit list`: the registry's audit_log, one row per
 * change with the row's old and new contents as JSON text.
 */
#include "cli.h"
#include "rows.h"

#include <getopt.h>
#include <string.h>

static const char audit_help[] =
    "Usage: hamf audit list [--table T] [--wide] [--json] [--db URL]\n"
    "\n"
    "The HAMF registry's audit log (table audit_log): every insert and update of\n"
    "features_master, models_master, features_models_map and training_results,\n"
    "written in the same transaction as the change. old_data/new_data hold the\n"
    "row as JSON text.\n"
    "\n"
    "Options:\n"
    "  --table T      only entries for table T\n"
    "  --wide         print old_data/new_data in full (the table is cut to\n"
    "                 100 columns by default, long cells ending in ...)\n"
    "  --json         print a JSON array of objects keyed by column\n"
    "  --db URL       store: a path, sqlite:///abs/path or postgresql://...\n"
    "                 (default $HAMF_DB, else ./hamf.db)\n"
    "  -h, --help     show this help\n";

static int audit_list(int argc, char **argv)
{
    static const struct option opts[] = {
        {"table", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'}, {"wide", no_argument, NULL, 'w'},
        {"db", required_argument, NULL, 'd'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *table = NULL;
    bool json = false, wide = false;
    int c;
    optind = 1;
    while ((c = cli_getopt("audit", argc, argv, ":h", opts)) != -1) {
        switch (c) {
        case 't': table = optarg; break;
        case 'j': json = true; break;
        case 'w': wide = true; break;
        case 'd': db = optarg; break;
        case 'h': fputs(audit_help, stdout); return CLI_OK;
        case ':': return CLI_USAGE;
        default: return CLI_USAGE;
        }
    }
    if (optind != argc) return cli_usage("audit", "unexpected argument '%s'", argv[optind]);
    hamf_store *st = NULL;
    hamf_store_list *l = NULL;
    hamf_status s = hamf_store_open(cli_db_url(db), &st);
    if (!s) s = hamf_store_list_audit(st, table, &l);
    hamf_store_close(st);
    if (s) return cli_fail_status(s);
    static const char *const cols[] = {"log_id",   "table_name", "operation_type",
                                       "old_data", "new_data",   "operation_timestamp"};
    static const enum rows_kind kinds[] = {ROWS_NUM, ROWS_TEXT, ROWS_TEXT, ROWS_TEXT, ROWS_TEXT, ROWS_TEXT};
    struct rows *r = rows_new(6, cols, kinds, json);
    if (!wide) rows_fit(r, 100, 1u << 3 | 1u << 4); /* old_data, new_data */
    for (size_t i = 0; i < l->count; i++) {
        const hamf_audit_entry *a = l->u.audit[i];
        char id[32];
        const char *cells[] = {rows_int(id, a->log_id), a->table_name, a->operation_type,
                               a->old_data,             a->new_data,   a->operation_timestamp};
        rows_add(r, cells);
    }
    rows_finish(r, stdout);
    hamf_store_list_free(l);
    return CLI_OK;
}

int cmd_audit(int argc, char **argv)
{
    if (argc < 2) return cli_usage("audit", "missing subcommand (list)");
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        fputs(audit_help, stdout);
        return CLI_OK;
    }
    if (!strcmp(sub, "list")) return audit_list(argc - 1, argv + 1);
    return cli_usage("audit", "unknown subcommand '%s' (list)", sub);
}
