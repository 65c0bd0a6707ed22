/*
 * cmd_drift.c — `hamf drift --model NAME DATA.csv [--json]`: per-feature
 * population stability index of DATA against the champion's training
 * distribution (the model's own bins), and, when DATA carries the label
 * column, the champion's accuracy / F1 on it. The report is recorded in the
 * store (drift_reports, drift_features), which the exporter publishes as
 * hamf_feature_drift_psi{model,feature} and hamf_model_live_accuracy{model}.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: hamf drift --model NAME DATA.csv [--json] [--no-record] [--db URL]\n\n"
            "Compare DATA.csv with the training data of NAME's champion version:\n"
            "per feature, the population stability index (PSI) over the model's own\n"
            "bins (numeric features: the model's bin edges merged into about ten\n"
            "buckets of equal training mass, plus missing; categorical: per category);\n"
            "PSI > 0.25 is read as a significant shift (FeatureDriftHigh). When DATA\n"
            "has the model's label column, the champion's live accuracy (percent) and\n"
            "F1 on it are reported too. The model's preprocessing pipeline is applied.\n"
            "The report is stored (drift_reports) for the exporter's\n"
            "hamf_feature_drift_psi{model,feature} and hamf_model_live_accuracy{model}.\n\n"
            "Options:\n"
            "  --model NAME   registered model name (its champion is used), or a\n"
            "                 registered version: models:/NAME/VERSION, models:/NAME@ALIAS\n"
            "  --json         print one JSON object\n"
            "  --no-record    do not store the report\n"
            "  --db URL       store (default $HAMF_DB, else ./hamf.db)\n"
            "  -h, --help     show this help\n");
}

int cmd_drift(int argc, char **argv)
{
    static const struct option lo[] = {{"model", 1, 0, 'm'}, {"json", 0, 0, 'j'}, {"db", 1, 0, 'd'},
                                       {"no-record", 0, 0, 'n'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL, *db = NULL;
    bool json = false, record = true;
    optind = 1;
    int c;
    while ((c = cli_getopt("drift", argc, argv, "h", lo)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'j': json = true; break;
        case 'd': db = optarg; break;
        case 'n': record = false; break;
        case 'h': usage(stdout); return CLI_OK;
        default: return CLI_USAGE;
        }
    }
    if (!model) return cli_usage("drift", "--model NAME is required");
    if (argc - optind != 1) return cli_usage("drift", "expected one DATA.csv argument");
    const char *data = argv[optind];
    int rc = CLI_FAIL;
    hamf_store *s = NULL;
    hamf_drift_report *r = NULL;
    if (cli_registry_open_existing(db, model, &s)) return CLI_FAIL;
    hamf_status st = hamf_drift_check(s, model, data, record, &r);
    if (st) {
        rc = cli_fail_status(st);
        goto cleanup;
    }
    model = hamf_drift_report_model(r); /* a models:/ or runs:/ reference: the registered name */
    long long version = (long long)hamf_drift_report_version(r);
    size_t nf = hamf_drift_report_nfeatures(r);
    hamf_metrics mt;
    bool labels = hamf_drift_report_metrics(r, &mt);
    if (json) {
        printf("{\"model\":\"%s\",\"version\":%lld,\"rows\":%zu,\"features\":{", model, version, hamf_drift_report_rows(r));
        for (size_t i = 0; i < nf; i++)
            printf("%s\"%s\":%s", i ? "," : "", hamf_drift_report_feature(r, i), cli_jnum(hamf_drift_report_psi(r, i)));
        printf("}");
        if (labels)
            printf(",\"accuracy\":%s,\"f1_score\":%s,\"precision\":%s,\"recall\":%s", cli_jnum(mt.accuracy),
                   cli_jnum(mt.f1_score), cli_jnum(mt.precision), cli_jnum(mt.recall));
        printf("}\n");
    } else {
        printf("model      %s (champion version %lld)\n", model, version);
        printf("rows       %zu\n", hamf_drift_report_rows(r));
        static const char *const hdr[] = {"feature", "type", "psi", "shift"};
        struct cli_table *t = table_new(4, hdr);
        if (!t) {
            rc = cli_fail("drift: out of memory");
            goto cleanup;
        }
        table_numeric(t, 2);
        for (size_t i = 0; i < nf; i++) {
            double psi = hamf_drift_report_psi(r, i);
            const char *cells[] = {hamf_drift_report_feature(r, i),
                                   hamf_drift_report_feature_is_categorical(r, i) ? "categorical" : "numerical",
                                   cli_score(psi), psi > 0.25 ? "significant" : psi > 0.1 ? "moderate" : "none"};
            table_add(t, cells);
        }
        table_print(t, stdout);
        table_free(t);
        if (labels)
            printf("live       accuracy %s, f1 %s (champion on this data)\n", cli_pct(mt.accuracy), cli_score(mt.f1_score));
    }
    rc = CLI_OK;
cleanup:
    hamf_drift_report_free(r);
    hamf_store_close(s);
    return rc;
}
