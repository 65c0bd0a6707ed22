/*
 * cmd_retrain.c — `hamf retrain --model NAME NEW.csv [--window N]
 * [--min-gain X] [--tolerance T] [--holdout F] [--json]`: champion /
 * challenger retraining on new labelled data (hamf.h: hamf_retrain, in
 * src/track/retrain.c), on one store handle for the whole command.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: hamf retrain --model NAME (NEW.csv | --from-log DIR) [--window N] [--min-gain X]\n"
            "                    [--tolerance T] [--holdout F] [--out-dir DIR] [--artifacts-dir DIR]\n"
            "                    [--json] [--db URL]\n\n"
            "Train a challenger for NAME's champion with the champion's algorithm,\n"
            "hyperparameters and preprocessing pipeline on the newest labelled data:\n"
            "the last F of NEW.csv's rows (the newest; default 0.2) are held out, the\n"
            "challenger learns from the N rows before them (--window; default all).\n"
            "Both models are scored on the held-out rows and logged as runs\n"
            "(experiment \"hamf retrain\"). The challenger becomes a new version\n"
            "(alias challenger) and is promoted to champion only when its accuracy beats\n"
            "the champion's, by at least X points (--min-gain, default 0), and its F1\n"
            "is at most T below (--tolerance, default 0.01). The decision and its\n"
            "reasons go to retrain_decisions, training_results (status\n"
            "challenger-promoted / challenger-rejected) and audit_log.\n\n"
            "Options:\n"
            "  --model NAME     registered model name (or models:/NAME@champion)\n"
            "  NEW.csv          new labelled CSV, oldest rows first (--data FILE also works)\n"
            "  --from-log DIR   the new data is a `hamf serve --log-dir` prediction log:\n"
            "                   its served rows with fed-back labels, oldest first, joined\n"
            "                   on request id + row into DIR/joined/retrain-<UTC>.csv\n"
            "  --window N       train on the last N rows before the held-out slice\n"
            "  --min-gain X     required accuracy gain in percentage points (default 0)\n"
            "  --tolerance T    allowed F1 loss (default 0.01)\n"
            "  --holdout F      fraction of newest rows held out (default 0.2)\n"
            "  --out-dir DIR    where the challenger model file goes (default: beside\n"
            "                   the champion's file)\n"
            "  --artifacts-dir DIR  root for the runs' artifacts, as `hamf server\n"
            "                   --artifacts-dir` (default ./mlartifacts)\n"
            "  --json           print the result as JSON\n"
            "  --db URL         store (default $HAMF_DB, else ./hamf.db)\n"
            "  -h, --help       show this help\n"
            "Exit status: 0 whether or not the challenger was promoted; 1 on errors.\n");
}

int cmd_retrain(int argc, char **argv)
{
    static const struct option lo[] = {{"model", 1, 0, 'm'},     {"data", 1, 0, 'D'}, {"from-log", 1, 0, 'L'},    {"window", 1, 0, 'w'},
                                       {"min-gain", 1, 0, 'g'},  {"tolerance", 1, 0, 't'}, {"holdout", 1, 0, 'H'},
                                       {"out-dir", 1, 0, 'o'}, {"artifacts-dir", 1, 0, 'A'},   {"json", 0, 0, 'j'},    {"db", 1, 0, 'd'},
                                       {"help", 0, 0, 'h'},      {0, 0, 0, 0}};
    const char *model = NULL, *data = NULL, *db = NULL, *from_log = NULL;
    bool json = false;
    hamf_retrain_options o;
    hamf_retrain_options_init(&o);
    optind = 1;
    int c;
    long long ll;
    while ((c = cli_getopt("retrain", argc, argv, "h", lo)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'D': data = optarg; break;
        case 'L': from_log = optarg; break;
        case 'w':
            if (!cli_parse_i64(optarg, &ll) || ll < 2)
                return cli_usage("retrain", "--window must be an integer >= 2, got '%s'", optarg);
            o.window = (size_t)ll;
            break;
        case 'g':
            if (!cli_parse_double(optarg, &o.min_gain))
                return cli_usage("retrain", "--min-gain must be a number, got '%s'", optarg);
            break;
        case 't':
            if (!cli_parse_double(optarg, &o.tolerance) || o.tolerance < 0)
                return cli_usage("retrain", "--tolerance must be a number >= 0, got '%s'", optarg);
            break;
        case 'H':
            if (!cli_parse_double(optarg, &o.holdout) || !(o.holdout > 0 && o.holdout < 1))
                return cli_usage("retrain", "--holdout must be in (0, 1), got '%s'", optarg);
            break;
        case 'o': o.out_dir = optarg; break;
        case 'A': o.artifacts_dir = optarg; break;
        case 'j': json = true; break;
        case 'd': db = optarg; break;
        case 'h': usage(stdout); return CLI_OK;
        default: return CLI_USAGE;
        }
    }
    if (!model) return cli_usage("retrain", "--model NAME is required");
    if (!data && optind < argc) data = argv[optind++];
    if (data && from_log) return cli_usage("retrain", "give NEW.csv or --from-log DIR, not both");
    if (!data && !from_log) return cli_usage("retrain", "missing NEW.csv or --from-log DIR (the new labelled data)");
    if (optind < argc) return cli_usage("retrain", "unexpected argument '%s'", argv[optind]);
    hamf_retrain_result r;
    hamf_store *s = NULL; /* the command's one store handle: versions, runs, decision */
    if (cli_registry_open_existing(db, model, &s)) return CLI_FAIL;
    hamf_status st = from_log ? hamf_retrain_from_log(s, model, from_log, &o, &r) : hamf_retrain(s, model, data, &o, &r);
    hamf_store_close(s);
    if (st) return cli_fail_status(st);
    if (json) {
        char *text = NULL;
        st = hamf_retrain_result_json(&r, &text);
        if (!st) printf("%s\n", text);
        hamf_free(text);
        if (st) return cli_fail_status(st);
    } else {
        printf("champion   version %lld: accuracy %s, f1 %s (run %s)\n", (long long)r.champion_version,
               cli_pct(r.champion.accuracy), cli_score(r.champion.f1_score), r.champion_run);
        printf("challenger version %lld: accuracy %s, f1 %s (run %s)\n", (long long)r.challenger_version,
               cli_pct(r.challenger.accuracy), cli_score(r.challenger.f1_score), r.challenger_run);
        printf("decision   %s: %s\n", r.promoted ? "PROMOTED" : "kept the champion", r.reason);
    }
    return CLI_OK;
}
