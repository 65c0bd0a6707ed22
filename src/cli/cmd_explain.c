/*
 * cmd_explain.c — `hamf explain MODEL DATA.csv -o CONTRIB.csv [--top K]
 * [--json]`: exact SHAP values (TreeSHAP) of every row, one column per model
 * feature plus `bias`; or the K largest by magnitude per row.
 */
#include "ml_cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *o)
{
    fprintf(o,
        "Usage: hamf explain MODEL DATA.csv -o CONTRIB.csv [--top K] [--json] [--threads N]\n"
        "\n"
        "Exact SHAP values (path-dependent TreeSHAP) of every row of DATA.csv:\n"
        "one column per model feature (model order) and `bias`, the expected\n"
        "output. Gradient boosting explains the raw margin (log-odds): a row\n"
        "sums to the margin. Random forest explains the probability of class 1:\n"
        "a row sums to it. The model's preprocessing pipeline is applied first\n"
        "(features are its output columns). Columns are matched by name; a\n"
        "column the model needs but the data lacks is an error. Results do not\n"
        "depend on --threads. The output appears atomically.\n"
        "\n"
        "Options:\n"
        "  -o, --output FILE  file to write (required; '-' = stdout with --json)\n"
        "  --top K            per row only the K features of largest |SHAP|:\n"
        "                     columns feature_1, shap_1, ..., feature_K, shap_K, bias\n"
        "  --json             a JSON array, one object per row:\n"
        "                     {\"bias\":b,\"contributions\":{\"feature\":v,...}} or,\n"
        "                     with --top, {\"bias\":b,\"top\":[{\"feature\":f,\"shap\":v},...]}\n"
        "  --threads N        worker threads (default: all cores)\n"
        "  --no-pipeline      do not apply the preprocessing stored in the model\n"
        "  -h, --help         this help\n");
}

struct ranked { size_t f; double v; };

static int by_magnitude(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    double ax = fabs(x->v), ay = fabs(y->v);
    if (ax != ay) return ax > ay ? -1 : 1;
    return x->f < y->f ? -1 : x->f > y->f;
}

static void json_string(FILE *o, const char *s)
{
    fputc('"', o);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(o, "\\%c", *p);
        else if (*p < 0x20) fprintf(o, "\\u%04x", *p);
        else fputc(*p, o);
    }
    fputc('"', o);
}

static void json_number(FILE *o, double v)
{
    if (isfinite(v)) fprintf(o, "%.17g", v);
    else fputs("null", o);
}

/* JSON to `path` (temp file + fsync + rename) or stdout for "-". */
static int write_json(const char *path, const hamf_ensemble *m, const double *phi, size_t n, size_t top)
{
    const size_t nf = hamf_ensemble_nfeatures(m);
    char *tmp = NULL;
    FILE *o = stdout;
    if (strcmp(path, "-")) {
        size_t L = strlen(path) + 32;
        tmp = malloc(L);
        if (!tmp) return cli_fail("explain: out of memory");
        snprintf(tmp, L, "%s.tmp.%ld", path, (long)getpid());
        if (!(o = fopen(tmp, "w"))) {
            int rc = cli_fail("explain: cannot create %s: %s", tmp, strerror(errno));
            free(tmp);
            return rc;
        }
    }
    struct ranked *rk = malloc((nf + 1) * sizeof *rk);
    if (!rk) { if (tmp) { fclose(o); unlink(tmp); free(tmp); } return cli_fail("explain: out of memory"); }
    fputc('[', o);
    for (size_t i = 0; i < n; i++) {
        const double *r = phi + i * (nf + 1);
        fputs(i ? ",\n{\"bias\":" : "\n{\"bias\":", o);
        json_number(o, r[nf]);
        if (top) {
            for (size_t f = 0; f < nf; f++) rk[f] = (struct ranked){f, r[f]};
            qsort(rk, nf, sizeof *rk, by_magnitude);
            fputs(",\"top\":[", o);
            for (size_t k = 0; k < top && k < nf; k++) {
                fputs(k ? ",{\"feature\":" : "{\"feature\":", o);
                json_string(o, hamf_ensemble_feature_name(m, rk[k].f));
                fputs(",\"shap\":", o);
                json_number(o, rk[k].v);
                fputc('}', o);
            }
            fputs("]}", o);
        } else {
            fputs(",\"contributions\":{", o);
            for (size_t f = 0; f < nf; f++) {
                if (f) fputc(',', o);
                json_string(o, hamf_ensemble_feature_name(m, f));
                fputc(':', o);
                json_number(o, r[f]);
            }
            fputs("}}", o);
        }
    }
    fputs("\n]\n", o);
    free(rk);
    if (!tmp) return fflush(o) == 0 ? CLI_OK : cli_fail("explain: write to stdout failed");
    int bad = ferror(o) || fflush(o) != 0 || fsync(fileno(o)) != 0;
    bad |= fclose(o) != 0;
    if (bad || rename(tmp, path) != 0) {
        int rc = cli_fail("explain: cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    return CLI_OK;
}

static hamf_status write_csv(const char *path, const hamf_ensemble *m, const double *phi, size_t n, size_t top)
{
    const size_t nf = hamf_ensemble_nfeatures(m);
    hamf_frame *o = NULL;
    hamf_status st = hamf_frame_new(&o);
    double *col = malloc((n + 1) * sizeof *col);
    const char **names = malloc((n + 1) * sizeof *names);
    struct ranked *rk = malloc((n * (top ? top : 1) + 1) * sizeof *rk);
    struct ranked *tmp = malloc((nf + 1) * sizeof *tmp);
    if (!st && (!col || !names || !rk || !tmp)) { st = HAMF_ERR_NOMEM; fprintf(stderr, "hamf: explain: out of memory\n"); }
    if (!st && top) {
        for (size_t i = 0; i < n; i++) {
            for (size_t f = 0; f < nf; f++) tmp[f] = (struct ranked){f, phi[i * (nf + 1) + f]};
            qsort(tmp, nf, sizeof *tmp, by_magnitude);
            for (size_t k = 0; k < top; k++) rk[i * top + k] = k < nf ? tmp[k] : (struct ranked){(size_t)-1, NAN};
        }
        char cname[64];
        for (size_t k = 0; k < top && !st; k++) {
            for (size_t i = 0; i < n; i++) {
                const struct ranked *r = &rk[i * top + k];
                names[i] = r->f == (size_t)-1 ? NULL : hamf_ensemble_feature_name(m, r->f);
                col[i] = r->v;
            }
            snprintf(cname, sizeof cname, "feature_%zu", k + 1);
            if ((st = hamf_frame_add_strings(o, cname, names, n))) break;
            snprintf(cname, sizeof cname, "shap_%zu", k + 1);
            st = hamf_frame_add_f64(o, cname, col, NULL, n);
        }
    } else {
        for (size_t f = 0; f < nf && !st; f++) {
            for (size_t i = 0; i < n; i++) col[i] = phi[i * (nf + 1) + f];
            st = hamf_frame_add_f64(o, hamf_ensemble_feature_name(m, f), col, NULL, n);
        }
    }
    if (!st) {
        for (size_t i = 0; i < n; i++) col[i] = phi[i * (nf + 1) + nf];
        size_t c;
        st = hamf_frame_add_f64(o, hamf_frame_find(o, "bias", &c) == HAMF_OK ? "_bias" : "bias", col, NULL, n);
    }
    if (!st) st = hamf_csv_write(o, path);
    free(col);
    free(names);
    free(rk);
    free(tmp);
    hamf_frame_free(o);
    return st;
}

int cmd_explain(int argc, char **argv)
{
    static const struct option lo[] = {{"output", 1, 0, 'o'}, {"top", 1, 0, 'K'}, {"json", 0, 0, 'J'},
                                       {"threads", 1, 0, 'T'}, {"no-pipeline", 0, 0, 'N'}, {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
    const char *out = NULL;
    long long threads = 0, top = 0;
    bool json = false, no_pipe = false;
    optind = 1;
    int c;
    while ((c = cli_getopt("explain", argc, argv, "o:h", lo)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return CLI_OK;
        case 'o': out = optarg; break;
        case 'J': json = true; break;
        case 'N': no_pipe = true; break;
        case 'K':
            if (!cli_parse_i64(optarg, &top) || top < 1 || top > 100000)
                return cli_usage("explain", "--top must be a positive integer, got '%s'", optarg);
            break;
        case 'T':
            if (!cli_parse_i64(optarg, &threads) || threads < 0 || threads > 256)
                return cli_usage("explain", "--threads must be in 0..256, got '%s'", optarg);
            break;
        default: return CLI_USAGE;
        }
    }
    if (argc - optind != 2) return cli_usage("explain", "expected MODEL and DATA.csv");
    if (!out) return cli_usage("explain", "-o FILE is required");
    if (!json && !strcmp(out, "-")) return cli_usage("explain", "-o - (stdout) needs --json");
    const char *model_path = argv[optind], *data_path = argv[optind + 1];
    int rc = CLI_FAIL;
    hamf_ensemble *m = NULL;
    hamf_frame *fr = NULL;
    hamf_dataset *d = NULL;
    double *phi = NULL;
    hamf_status st;
    if ((st = hamf_ensemble_load(model_path, &m))) { rc = cli_fail_status(st); goto cleanup; }
    if ((st = ml_cli_load(data_path, (int)threads, no_pipe ? NULL : hamf_ensemble_pipeline(m), &fr))) { rc = cli_fail_status(st); goto cleanup; }
    if ((st = hamf_dataset_from_frame(fr, NULL, &d))) { rc = cli_fail_status(st); goto cleanup; }
    hamf_frame_free(fr);
    fr = NULL;
    size_t n = hamf_dataset_nrows(d), nf = hamf_ensemble_nfeatures(m);
    phi = malloc((n * (nf + 1) + 1) * sizeof *phi);
    if (!phi) { rc = cli_fail("explain: out of memory"); goto cleanup; }
    if ((st = hamf_ensemble_shap(m, d, (int)threads, phi))) { rc = cli_fail_status(st); goto cleanup; }
    if (json) rc = write_json(out, m, phi, n, (size_t)top);
    else if ((st = write_csv(out, m, phi, n, (size_t)top))) rc = st == HAMF_ERR_NOMEM ? CLI_FAIL : cli_fail_status(st);
    else rc = CLI_OK;
cleanup:
    free(phi);
    hamf_dataset_free(d);
    hamf_frame_free(fr);
    hamf_ensemble_free(m);
    return rc;
}
