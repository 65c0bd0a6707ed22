/*
 * cmd_importance.c — `hamf model importance MODEL`: per-feature total split
 * gain of a saved model, largest first, with each feature's share. Exposed
 * as cli_model_importance() for cmd_model.c's dispatch.
 */
#include "ml_cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

struct imp { const char *name; double gain; int cat; };
static int cmp_imp(const void *a, const void *b)
{
    const struct imp *x = a, *y = b;
    if (x->gain != y->gain) return x->gain < y->gain ? 1 : -1;
    return strcmp(x->name, y->name);
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') printf("\\%c", ch);
        else if (ch < 0x20) printf("\\u%04x", ch);
        else putchar(ch);
    }
    putchar('"');
}

int cli_model_importance(int argc, char **argv)
{
    static const struct option lo[] = {{"json", 0, 0, 'j'}, {"help", 0, 0, 'h'}, {"db", 1, 0, 'd'}, {0, 0, 0, 0}};
    bool json = false;
    const char *db = NULL;
    optind = 1;
    int c;
    while ((c = cli_getopt("model importance", argc, argv, "h", lo)) != -1) {
        switch (c) {
        case 'h':
            printf("Usage: hamf model importance MODEL [--json] [--db URL]\n\n"
                   "Total split gain per feature over all trees (largest first) and its share\n"
                   "of the total. --json prints [{\"feature\":...,\"gain\":...,\"share\":...}].\n"
                   "MODEL is a file or models:/NAME/VERSION, models:/NAME@ALIAS, runs:/RUN_ID/model\n"
                   "(resolved in the store --db, default $HAMF_DB, else ./hamf.db).\n");
            return CLI_OK;
        case 'j': json = true; break;
        case 'd': db = optarg; break;
        default: return CLI_USAGE;
        }
    }
    if (argc - optind != 1) return cli_usage("model importance", "expected MODEL");
    hamf_ensemble *m = NULL;
    hamf_status st = hamf_model_load(argv[optind], cli_db_url(db), &m, NULL);
    if (st) return cli_fail_status(st);
    size_t nf = hamf_ensemble_nfeatures(m);
    double *g = malloc((nf + 1) * sizeof *g);
    struct imp *v = malloc((nf + 1) * sizeof *v);
    if (!g || !v) { free(g); free(v); hamf_ensemble_free(m); return cli_fail("model importance: out of memory"); }
    hamf_ensemble_importance(m, g);
    double tot = 0;
    for (size_t f = 0; f < nf; f++) {
        v[f].name = hamf_ensemble_feature_name(m, f);
        v[f].gain = g[f];
        v[f].cat = hamf_ensemble_feature_is_categorical(m, f);
        tot += g[f];
    }
    qsort(v, nf, sizeof *v, cmp_imp);
    if (json) {
        printf("[");
        for (size_t f = 0; f < nf; f++)
        {
            printf("%s{\"feature\":", f ? "," : "");
            json_str(v[f].name);
            printf(",\"type\":\"%s\",\"gain\":%s,\"share\":%s}", v[f].cat ? "categorical" : "numerical",
                   cli_jnum(v[f].gain), cli_jnum(tot > 0 ? v[f].gain / tot : 0));
        }
        printf("]\n");
    } else {
        const char *hdr[] = {"feature", "type", "gain", "share"};
        struct cli_table *t = table_new(4, hdr);
        table_numeric(t, 2);
        table_numeric(t, 3);
        for (size_t f = 0; f < nf; f++) {
            char gs[32], ss[32];
            snprintf(gs, sizeof gs, "%.6g", v[f].gain);
            snprintf(ss, sizeof ss, "%.2f %%", tot > 0 ? 100 * v[f].gain / tot : 0);
            const char *cells[] = {v[f].name, v[f].cat ? "categorical" : "numerical", gs, ss};
            table_add(t, cells);
        }
        table_print(t, stdout);
        table_free(t);
    }
    free(g);
    free(v);
    hamf_ensemble_free(m);
    return CLI_OK;
}
