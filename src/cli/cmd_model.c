/*
 * cmd_model.c — `hamf model <subcommand>`: models in the registry
 * (models_master) and their feature mappings (features_models_map).
 *
 * Subcommands live in one table, `subcommands[]` below: to add one, write
 * `static int model_<name>(int argc, char **argv)` (argv[0] is the
 * subcommand name) and add a row; help and dispatch follow from the table.
 */
#include "cli.h"
#include "model_registry.h"
#include "model_xgb.h"
#include "rows.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MAP_IDS 100000 /* bound on what one --feature-ids may expand to */

static int model_add(int argc, char **argv);
static int model_list(int argc, char **argv);
static int model_map(int argc, char **argv);
static int model_mappings(int argc, char **argv);

static const struct subcommand {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
    const char *summary;
} subcommands[] = {
    {"add", model_add, "add NAME --algorithm ALG --version V [--description D] (--model-version V also works)",
     "register a model version; prints its model_id"},
    {"list", model_list, "list [--json]", "list models in id order"},
    {"map", model_map, "map MODEL_ID (--feature-ids 1-14,16 | --features a,b,c) [--accuracy X [--fraction]]",
     "map features to a model (all or nothing; re-mapping updates accuracy and last_used)"},
    {"mappings", model_mappings, "mappings [MODEL_ID] [--json]",
     "list feature mappings, of one model or of all"},
    {"versions", cli_model_versions, "versions NAME [--json]",
     "list the versions of a named model with aliases (champion, challenger), runs and files"},
    {"promote", cli_model_promote, "promote NAME VERSION", "make VERSION the champion (audited)"},
    {"rollback", cli_model_rollback, "rollback NAME", "make the previous champion the champion again (audited)"},
    {"importance", cli_model_importance, "importance MODEL_FILE [--json]",
     "per-feature total split gain of a saved model file, largest first"},
    {"export", cli_model_export, "export MODEL_FILE --format xgboost-json -o model.json",
     "write the model as XGBoost JSON (loads in xgboost.Booster, same probabilities)"},
    {"import", cli_model_import, "import model.json --name NAME -o MODEL_FILE [--pipeline SPEC] [--data REF.csv]",
     "read an XGBoost JSON binary classifier as a hamf model (registered with --db)"},
};

static void model_help(FILE *out)
{
    fprintf(out, "Usage: hamf model <subcommand> [options]\n\n"
                 "Models in the HAMF registry (models_master) and their features\n"
                 "(features_models_map).\n\nSubcommands:\n");
    for (size_t i = 0; i < (sizeof subcommands / sizeof subcommands[0]); i++)
        fprintf(out, "  %s\n      %s\n", subcommands[i].usage, subcommands[i].summary);
    fprintf(out, "\nOptions for every subcommand:\n"
                 "  --db URL       store: a path, sqlite:///abs/path or postgresql://...\n"
                 "                 (default $HAMF_DB, else ./hamf.db)\n"
                 "  --json         (list, mappings) print a JSON array of objects keyed by column\n"
                 "  -h, --help     show this help\n"
                 "\nFeature id lists: comma-separated ids and inclusive ranges, e.g. 1-14,16;\n"
                 "no spaces, no empty items, ranges low-high.\n");
}

/* Flags shared by the subcommands; each subcommand rejects the ones it does
 * not take. */
struct model_flags {
    const char *db, *algorithm, *version, *description, *feature_ids, *features, *accuracy;
    bool json, fraction;
    int npos;
    char **pos;
};

enum { F_DB = 1, F_ALG = 2, F_VER = 4, F_DESC = 8, F_IDS = 16, F_NAMES = 32, F_ACC = 64, F_JSON = 128, F_FRAC = 256 };

/* Returns -1 on success, else the exit code to return (help or usage). */
static int parse_flags(const char *sub, int argc, char **argv, unsigned allowed, struct model_flags *f)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, F_DB},
        {"algorithm", required_argument, NULL, F_ALG},
        {"version", required_argument, NULL, F_VER},
        {"model-version", required_argument, NULL, F_VER}, /* as `hamf train --model-version` */
        {"description", required_argument, NULL, F_DESC},
        {"feature-ids", required_argument, NULL, F_IDS},
        {"features", required_argument, NULL, F_NAMES},
        {"accuracy", required_argument, NULL, F_ACC},
        {"json", no_argument, NULL, F_JSON},
        {"fraction", no_argument, NULL, F_FRAC},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(f, 0, sizeof *f);
    int c;
    optind = 1;
    while ((c = cli_getopt("model", argc, argv, ":h", opts)) != -1) {
        if (c == 'h') {
            model_help(stdout);
            return CLI_OK;
        }
        if (c == '?') return CLI_USAGE;
        if (!((unsigned)c & allowed)) return cli_usage("model", "%s: option '%s' is not for %s", sub, cli_optname(), sub);
        switch (c) {
        case F_DB: f->db = optarg; break;
        case F_ALG: f->algorithm = optarg; break;
        case F_VER: f->version = optarg; break;
        case F_DESC: f->description = optarg; break;
        case F_IDS: f->feature_ids = optarg; break;
        case F_NAMES: f->features = optarg; break;
        case F_ACC: f->accuracy = optarg; break;
        case F_JSON: f->json = true; break;
        case F_FRAC: f->fraction = true; break;
        }
    }
    f->npos = argc - optind;
    f->pos = argv + optind;
    return -1;
}

/* Strict positive id: digits only, no sign, fits int64, > 0. */
static bool parse_id(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 18) return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v <= 0) return false;
    *out = v;
    return true;
}

/* "1-14,16" -> ids. One-line message and false on any defect. */
static bool parse_id_list(const char *spec, int64_t **ids, size_t *n)
{
    size_t cap = 16, cnt = 0;
    int64_t *v = malloc(cap * sizeof *v);
    if (!v) abort();
    const char *p = spec;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *dash = memchr(p, '-', len);
        int64_t lo, hi;
        bool ok = dash ? parse_id(p, (size_t)(dash - p), &lo) && parse_id(dash + 1, len - (size_t)(dash - p) - 1, &hi)
                       : parse_id(p, len, &lo);
        if (!dash) hi = lo;
        if (!ok) {
            fprintf(stderr, "hamf model: --feature-ids '%s': '%.*s' is not a feature id (1, 2, ...) or range (1-14)\n",
                    spec, (int)len, p);
            free(v);
            return false;
        }
        if (lo > hi) {
            fprintf(stderr, "hamf model: --feature-ids '%s': range '%.*s' goes backwards\n", spec, (int)len, p);
            free(v);
            return false;
        }
        if (hi - lo >= MAX_MAP_IDS || cnt + (size_t)(hi - lo + 1) > MAX_MAP_IDS) {
            fprintf(stderr, "hamf model: --feature-ids '%s': more than %d ids\n", spec, MAX_MAP_IDS);
            free(v);
            return false;
        }
        for (int64_t x = lo; x <= hi; x++) {
            if (cnt == cap) {
                cap *= 2;
                v = realloc(v, cap * sizeof *v);
                if (!v) abort();
            }
            v[cnt++] = x;
        }
        if (!end) break;
        p = end + 1;
    }
    *ids = v;
    *n = cnt;
    return true;
}

static int model_add(int argc, char **argv)
{
    struct model_flags f;
    int rc = parse_flags("add", argc, argv, F_DB | F_ALG | F_VER | F_DESC, &f);
    if (rc >= 0) return rc;
    if (f.npos != 1) return cli_usage("model", "add takes exactly one NAME");
    if (!f.algorithm) return cli_usage("model", "add needs --algorithm ALG");
    if (!f.version) return cli_usage("model", "add needs --version V");
    hamf_store *st = NULL;
    hamf_status s = hamf_store_open(cli_db_url(f.db), &st);
    int64_t id = 0;
    if (!s) s = hamf_store_insert_model(st, f.pos[0], f.version, f.algorithm, f.description, &id);
    hamf_store_close(st);
    if (s) return cli_fail_status(s);
    printf("%lld\n", (long long)id);
    return CLI_OK;
}

static int model_list(int argc, char **argv)
{
    struct model_flags f;
    int rc = parse_flags("list", argc, argv, F_DB | F_JSON, &f);
    if (rc >= 0) return rc;
    if (f.npos) return cli_usage("model", "list: unexpected argument '%s'", f.pos[0]);
    hamf_store *st = NULL;
    hamf_store_list *l = NULL;
    hamf_status s = hamf_store_open(cli_db_url(f.db), &st);
    if (!s) s = hamf_store_list_models(st, &l);
    hamf_store_close(st);
    if (s) return cli_fail_status(s);
    static const char *const cols[] = {"model_id",      "model_name",    "model_version",
                                       "algorithm",     "creation_date", "description"};
    static const enum rows_kind kinds[] = {ROWS_NUM, ROWS_TEXT, ROWS_TEXT, ROWS_TEXT, ROWS_TEXT, ROWS_TEXT};
    struct rows *r = rows_new(6, cols, kinds, f.json);
    for (size_t i = 0; i < l->count; i++) {
        const hamf_model *m = l->u.models[i];
        char id[32];
        const char *cells[] = {rows_int(id, m->model_id), m->model_name,  m->model_version,
                               m->algorithm,              m->creation_date, m->description};
        rows_add(r, cells);
    }
    rows_finish(r, stdout);
    hamf_store_list_free(l);
    return CLI_OK;
}

static int model_map(int argc, char **argv)
{
    struct model_flags f;
    int rc = parse_flags("map", argc, argv, F_DB | F_IDS | F_NAMES | F_ACC | F_FRAC, &f);
    if (rc >= 0) return rc;
    if (f.npos != 1) return cli_usage("model", "map takes exactly one MODEL_ID");
    if (!!f.feature_ids == !!f.features) return cli_usage("model", "map needs exactly one of --feature-ids and --features");
    int64_t model_id;
    if (!parse_id(f.pos[0], strlen(f.pos[0]), &model_id)) {
        fprintf(stderr, "hamf model map: MODEL_ID '%s' is not a model id (1, 2, ...)\n", f.pos[0]);
        return CLI_USAGE;
    }
    double acc = 0;
    if (f.accuracy && !cli_parse_percent("model", "accuracy", f.accuracy, f.fraction, &acc)) return CLI_USAGE;
    int64_t *ids = NULL;
    size_t n = 0;
    char *names_buf = NULL;
    const char **names = NULL;
    if (f.feature_ids) {
        if (!parse_id_list(f.feature_ids, &ids, &n)) return CLI_USAGE;
    } else {
        names_buf = strdup(f.features);
        if (!names_buf) abort();
        size_t cap = 1;
        for (const char *p = names_buf; *p; p++) cap += *p == ',';
        names = calloc(cap, sizeof *names);
        if (!names) abort();
        for (char *p = names_buf;;) {
            char *end = strchr(p, ',');
            if (end) *end = '\0';
            if (!*p) {
                fprintf(stderr, "hamf model map: --features '%s' has an empty name\n", f.features);
                free(names);
                free(names_buf);
                return CLI_USAGE;
            }
            names[n++] = p;
            if (!end) break;
            p = end + 1;
        }
    }
    hamf_store *st = NULL;
    hamf_status s = hamf_store_open(cli_db_url(f.db), &st);
    if (!s)
        s = ids ? hamf_store_map_features(st, model_id, ids, n, f.accuracy ? &acc : NULL)
                : hamf_store_map_features_by_name(st, model_id, names, n, f.accuracy ? &acc : NULL);
    hamf_store_close(st);
    free(ids);
    free(names);
    free(names_buf);
    if (s) return cli_fail_status(s);
    printf("mapped %zu feature%s to model %lld\n", n, n == 1 ? "" : "s", (long long)model_id);
    return CLI_OK;
}

static int model_mappings(int argc, char **argv)
{
    struct model_flags f;
    int rc = parse_flags("mappings", argc, argv, F_DB | F_JSON, &f);
    if (rc >= 0) return rc;
    if (f.npos > 1) return cli_usage("model", "mappings takes at most one MODEL_ID");
    int64_t model_id = 0;
    if (f.npos == 1 && !parse_id(f.pos[0], strlen(f.pos[0]), &model_id)) {
        fprintf(stderr, "hamf model mappings: MODEL_ID '%s' is not a model id (1, 2, ...)\n", f.pos[0]);
        return CLI_USAGE;
    }
    hamf_store *st = NULL;
    hamf_store_list *l = NULL;
    hamf_status s = hamf_store_open(cli_db_url(f.db), &st);
    if (!s) s = hamf_store_list_feature_maps(st, model_id, &l);
    hamf_store_close(st);
    if (s) return cli_fail_status(s);
    static const char *const cols[] = {"map_id", "model_id", "feature_id", "accuracy", "last_used"};
    static const enum rows_kind kinds[] = {ROWS_NUM, ROWS_NUM, ROWS_NUM, ROWS_NUM, ROWS_TEXT};
    struct rows *r = rows_new(5, cols, kinds, f.json);
    for (size_t i = 0; i < l->count; i++) {
        const hamf_feature_map *m = l->u.maps[i];
        char a[32], b[32], c[32], d[32];
        const char *cells[] = {rows_int(a, m->map_id), rows_int(b, m->model_id), rows_int(c, m->feature_id),
                               m->has_accuracy ? rows_pct(r, d, m->accuracy) : NULL, m->last_used};
        rows_add(r, cells);
    }
    rows_finish(r, stdout);
    hamf_store_list_free(l);
    return CLI_OK;
}

int cmd_model(int argc, char **argv)
{
    if (argc < 2) {
        model_help(stderr);
        return CLI_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        model_help(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < (sizeof subcommands / sizeof subcommands[0]); i++)
        if (!strcmp(subcommands[i].name, sub)) return subcommands[i].fn(argc - 1, argv + 1);
    return cli_usage("model", "unknown subcommand '%s'", sub);
}
