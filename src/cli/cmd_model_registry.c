/*
 * cmd_model_registry.c — `hamf model versions NAME [--json]`,
 * `hamf model promote NAME VERSION` and `hamf model rollback NAME`: the
 * versions of a named model (each linked to its models_master row, run and
 * model file), the champion / challenger aliases, and manual promotion and
 * rollback (audited in audit_log), through hamf.h's hamf_registry_*.
 */
#include "cli.h"
#include "model_registry.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(FILE *out, const char *sub)
{
    if (!strcmp(sub, "versions"))
        fprintf(out, "Usage: hamf model versions NAME [--json] [--db URL]\n\n"
                     "List the versions of model NAME (oldest first): version, aliases\n"
                     "(champion / challenger), models_master id, run id, source (train or\n"
                     "retrain), the latest retrain decision about it and the model file.\n"
                     "A version is created by `hamf train --db` (the first version of a name\n"
                     "becomes champion) and by `hamf retrain`.\n");
    else if (!strcmp(sub, "promote"))
        fprintf(out, "Usage: hamf model promote NAME VERSION [--db URL]\n\n"
                     "Make VERSION the champion of NAME (recorded in model_promotions and\n"
                     "audit_log).\n");
    else
        fprintf(out, "Usage: hamf model rollback NAME [--db URL]\n\n"
                     "Make the previous champion of NAME the champion again (the version the\n"
                     "current champion replaced); recorded in model_promotions and audit_log.\n");
    fprintf(out, "\nOptions:\n"
                 "  --db URL    store (default $HAMF_DB, else ./hamf.db)\n"
                 "  --json      (versions) print a JSON array\n"
                 "  -h, --help  show this help\n");
}

/* Parse --db/--json/--help; positional args into pos[]. Returns -1 to go on. */
static int parse(const char *sub, int argc, char **argv, const char **db, bool *json, const char **pos, int npos)
{
    static const struct option lo[] = {{"db", 1, 0, 'd'}, {"json", 0, 0, 'j'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = cli_getopt("model", argc, argv, "h", lo)) != -1) {
        switch (c) {
        case 'd': *db = optarg; break;
        case 'j':
            if (!json) return cli_usage("model", "%s: --json is not an option of %s", sub, sub);
            *json = true;
            break;
        case 'h': help(stdout, sub); return CLI_OK;
        default: return CLI_USAGE;
        }
    }
    if (argc - optind != npos)
        return cli_usage("model", "%s: expected %d argument%s, got %d", sub, npos, npos == 1 ? "" : "s",
                         argc - optind);
    for (int i = 0; i < npos; i++) pos[i] = argv[optind + i];
    return -1;
}

int cli_model_versions(int argc, char **argv)
{
    const char *db = NULL, *pos[1];
    bool json = false;
    int rc = parse("versions", argc, argv, &db, &json, pos, 1);
    if (rc >= 0) return rc;
    hamf_store *s = NULL;
    hamf_status st = hamf_registry_open(cli_db_url(db), &s);
    if (st) return cli_fail_status(st);
    if (json) {
        char *text = NULL;
        st = hamf_registry_versions_json(s, pos[0], &text);
        if (!st) printf("%s\n", text);
        hamf_free(text);
        hamf_store_close(s);
        return st ? cli_fail_status(st) : CLI_OK;
    }
    hamf_model_versions *v = NULL;
    st = hamf_registry_versions(s, pos[0], &v); /* with every alias: champion/challenger and MLflow's */
    hamf_store_close(s);
    if (st) return cli_fail_status(st);
    static const char *const hdr[] = {"version", "aliases", "model_id", "source", "created_at", "run_id", "sha256"};
    struct cli_table *t = table_new(7, hdr);
    if (!t) {
        hamf_model_versions_free(v);
        return cli_fail("model versions: out of memory");
    }
    table_numeric(t, 0);
    table_numeric(t, 2);
    for (size_t i = 0; i < hamf_model_versions_count(v); i++) {
        char ver[32], mid[32];
        snprintf(ver, sizeof ver, "%lld", (long long)hamf_model_versions_version(v, i));
        snprintf(mid, sizeof mid, "%lld", (long long)hamf_model_versions_model_id(v, i));
        char dg[16];
        snprintf(dg, sizeof dg, "%.12s", hamf_model_versions_digest(v, i));
        const char *cells[] = {ver, hamf_model_versions_aliases(v, i), hamf_model_versions_model_id(v, i) ? mid : "",
                               hamf_model_versions_source(v, i), hamf_model_versions_created_at(v, i),
                               hamf_model_versions_run_id(v, i), dg};
        table_add(t, cells);
    }
    table_print(t, stdout);
    table_free(t);
    hamf_model_versions_free(v);
    return CLI_OK;
}

int cli_model_promote(int argc, char **argv)
{
    const char *db = NULL, *pos[2];
    int rc = parse("promote", argc, argv, &db, NULL, pos, 2);
    if (rc >= 0) return rc;
    long long ver;
    if (!cli_parse_i64(pos[1], &ver) || ver <= 0)
        return cli_usage("model", "promote: VERSION must be a positive integer, got '%s'", pos[1]);
    hamf_store *s = NULL;
    hamf_status st = hamf_registry_open(cli_db_url(db), &s);
    if (!st) st = hamf_registry_promote(s, pos[0], ver, "manual promotion (hamf model promote)");
    hamf_store_close(s);
    if (st) return cli_fail_status(st);
    printf("%s: version %lld is now the champion\n", pos[0], ver);
    return CLI_OK;
}

int cli_model_rollback(int argc, char **argv)
{
    const char *db = NULL, *pos[1];
    int rc = parse("rollback", argc, argv, &db, NULL, pos, 1);
    if (rc >= 0) return rc;
    hamf_store *s = NULL;
    int64_t v = 0;
    hamf_status st = hamf_registry_open(cli_db_url(db), &s);
    if (!st) st = hamf_registry_rollback(s, pos[0], &v);
    hamf_store_close(s);
    if (st) return cli_fail_status(st);
    printf("%s: rolled back; version %lld is the champion again\n", pos[0], (long long)v);
    return CLI_OK;
}
