/*
 * cmd_store.c — `hamf store check|backup|restore`: maintenance of a SQLite
 * store through the public API (hamf_store_check, hamf_store_backup,
 * hamf_store_restore).
 */
#include "cli.h"

#include <getopt.h>
#include <string.h>

static const char store_help[] =
    "Usage: hamf store check [--full] [--db URL]\n"
    "       hamf store backup DEST [--db URL]\n"
    "       hamf store restore BACKUP [--db URL]\n"
    "\n"
    "Maintenance of a SQLite store (registry and tracking share the file).\n"
    "\n"
    "Subcommands:\n"
    "  check          PRAGMA quick_check (with --full: integrity_check, which\n"
    "                 also compares every index with its table); prints 'ok' or\n"
    "                 the damage found and exits 1. A 0-byte file or one cut\n"
    "                 short (not a whole number of pages) is damaged too.\n"
    "                 `hamf server` runs the quick check before it listens.\n"
    "  backup DEST    copy the store to the new file DEST with SQLite's online\n"
    "                 backup API: one consistent snapshot, taken while servers\n"
    "                 keep writing (they are not blocked); the copy is\n"
    "                 integrity-checked, fsynced and appears atomically. DEST\n"
    "                 must not exist.\n"
    "  restore BACKUP replace the store with BACKUP (checked first). Stop the\n"
    "                 servers using the store first. The new file is built next\n"
    "                 to the store and renamed over it: a crash leaves the old or\n"
    "                 the new store, never a mix.\n"
    "\n"
    "PostgreSQL stores: use pg_dump -Fc and pg_restore (see README, 'Backups').\n"
    "\n"
    "Options:\n"
    "  --db URL       store: a path or sqlite:///abs/path (default $HAMF_DB,\n"
    "                 else ./hamf.db)\n"
    "  --full         check: full integrity_check instead of quick_check\n"
    "  -h, --help     show this help\n";

int cmd_store(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"full", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2) return cli_usage("store", "expected a subcommand: check, backup or restore");
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
        fputs(store_help, stdout);
        return CLI_OK;
    }
    if (strcmp(sub, "check") && strcmp(sub, "backup") && strcmp(sub, "restore"))
        return cli_usage("store", "unknown subcommand '%s' (check, backup or restore)", sub);
    const char *db = NULL;
    bool full = false;
    int c;
    optind = 1;
    while ((c = cli_getopt("store", argc - 1, argv + 1, ":h", opts)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'f': full = true; break;
        case 'h': fputs(store_help, stdout); return CLI_OK;
        default: return CLI_USAGE;
        }
    }
    int nargs = argc - 1 - optind;
    char **args = argv + 1 + optind;
    const char *url = cli_db_url(db);
    hamf_status s;
    if (!strcmp(sub, "check")) {
        if (nargs) return cli_usage("store", "check takes no arguments, got '%s'", args[0]);
        s = hamf_store_check(url, full);
        if (s) return cli_fail_status(s);
        printf("ok\n");
        return CLI_OK;
    }
    if (full) return cli_usage("store", "--full is for check");
    if (nargs != 1)
        return cli_usage("store", "%s takes exactly one %s", sub, !strcmp(sub, "backup") ? "DEST" : "BACKUP");
    if (!strcmp(sub, "backup")) {
        s = hamf_store_backup(url, args[0]);
        if (s) return cli_fail_status(s);
        fprintf(stderr, "hamf store backup: %s -> %s\n", url, args[0]);
        return CLI_OK;
    }
    s = hamf_store_restore(args[0], url);
    if (s) return cli_fail_status(s);
    fprintf(stderr, "hamf store restore: %s -> %s\n", args[0], url);
    return CLI_OK;
}
