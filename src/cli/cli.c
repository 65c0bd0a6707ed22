/*
 * cli.c — shared CLI helpers: error printing, store URL resolution, strict
 * flag-value parsing and the aligned table printer.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *cur_verb;

void cli_set_verb(const char *verb) { cur_verb = verb; }

/* "hamf <verb>: msg", without repeating a "verb: " the message starts with. */
static void print_fail(const char *msg)
{
    if (!cur_verb) {
        fprintf(stderr, "hamf: %s\n", msg);
        return;
    }
    size_t n = strlen(cur_verb);
    if (strncmp(msg, cur_verb, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ') msg += n + 2;
    fprintf(stderr, "hamf %s: %s\n", cur_verb, msg);
}

void cli_warn(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "hamf%s%s: warning: %s\n", cur_verb ? " " : "", cur_verb ? cur_verb : "", msg);
}

int cli_fail_status(hamf_status s)
{
    (void)s;
    print_fail(hamf_last_error());
    return CLI_FAIL;
}

int cli_fail(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_fail(msg);
    return CLI_FAIL;
}

int cli_usage(const char *verb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hamf %s: ", verb);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'hamf %s --help'.\n", verb);
    va_end(ap);
    return CLI_USAGE;
}

/* The long option named by argv token `tok` ("--name" or "--name=v"), or
 * NULL; *exact tells whether the spelling matched in full. */
static const struct option *find_long(const struct option *lo, const char *tok, bool *exact)
{
    const char *name = tok + 2, *eq = strchr(name, '=');
    size_t n = eq ? (size_t)(eq - name) : strlen(name);
    const struct option *prefix = NULL;
    int nprefix = 0;
    *exact = false;
    for (; lo && lo->name; lo++) {
        if (strlen(lo->name) == n && strncmp(lo->name, name, n) == 0) {
            *exact = true;
            return lo;
        }
        if (strncmp(lo->name, name, n) == 0) prefix = lo, nprefix++;
    }
    return nprefix == 1 ? prefix : NULL;
}

/* Options this getopt call sequence already checked (per argv). */
static char **checked_argv;
static char last_opt[64];

const char *cli_optname(void) { return last_opt; }

int cli_getopt(const char *verb, int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    if (optind <= 1 || checked_argv != argv) {
        checked_argv = argv;
        /* One pass over the long options before getopt sees them: refuse
         * abbreviations, which getopt_long would silently accept. */
        for (int i = 1; i < argc; i++) {
            const char *a = argv[i];
            if (strcmp(a, "--") == 0) break;
            if (strncmp(a, "--", 2) != 0) continue;
            bool exact;
            const struct option *o = find_long(longopts, a, &exact);
            const char *eq = strchr(a, '=');
            int n = eq ? (int)(eq - a) : (int)strlen(a);
            if (!exact) {
                checked_argv = NULL;
                if (o) return cli_usage(verb, "unknown option '%.*s' (did you mean --%s?)", n, a, o->name), '?';
                return cli_usage(verb, "unknown option '%.*s'", n, a), '?';
            }
            if (o->has_arg == required_argument && !eq) i++; /* its value */
        }
    }
    opterr = 0;
    char sbuf[128];
    /* A leading ':' makes getopt tell a missing value (':') from an
     * unknown option ('?'). */
    snprintf(sbuf, sizeof sbuf, ":%s", shortopts[0] == ':' ? shortopts + 1 : shortopts);
    int idx = -1;
    int c = getopt_long(argc, argv, sbuf, longopts, &idx);
    if (c == ':') {
        const char *tok = argv[optind - 1];
        if (tok && strncmp(tok, "--", 2) == 0) return cli_usage(verb, "%s needs a value", tok), '?';
        return cli_usage(verb, "-%c needs a value", optopt), '?';
    }
    if (c == '?') {
        const char *tok = argv[optind - 1];
        if (optopt && !(tok && strncmp(tok, "--", 2) == 0))
            return cli_usage(verb, "unknown option '-%c'", optopt), '?';
        if (tok && strchr(tok, '=')) return cli_usage(verb, "option '%.*s' takes no value", (int)(strchr(tok, '=') - tok), tok), '?';
        return cli_usage(verb, "unknown option '%s'", tok ? tok : "?"), '?';
    }
    if (c != -1) {
        if (idx >= 0) snprintf(last_opt, sizeof last_opt, "--%s", longopts[idx].name);
        else snprintf(last_opt, sizeof last_opt, "-%c", c);
    }
    return c;
}

bool cli_parse_percent(const char *verb, const char *flag, const char *s, bool fraction, double *out)
{
    /* NaN and inf parse on purpose: the library refuses them with the field
     * named, like any other out-of-range value. */
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE) {
        fprintf(stderr, "hamf %s: --%s '%s' is not a number\n", verb, flag, s);
        return false;
    }
    if (fraction && isfinite(v)) {
        if (v < 0 || v > 1) {
            fprintf(stderr, "hamf %s: --%s %s is not a fraction in [0,1] (--fraction was given)\n", verb, flag, s);
            return false;
        }
        *out = v * 100.0;
        return true;
    }
    if (v >= 0 && v <= 1) {
        fprintf(stderr, "hamf %s: %s is a percent (0-100); did you mean %.4g? (add --fraction if %s is a fraction)\n",
                verb, flag, v * 100.0, s);
        return false;
    }
    *out = v; /* out-of-range percents are refused by the library, field named */
    return true;
}

static char *num_slot(void)
{
    static char ring[16][40];
    static unsigned next;
    return ring[next++ % 16];
}

const char *cli_jnum(double v)
{
    char *b = num_slot();
    if (!isfinite(v)) return "null";
    hamf_format_double(b, v);
    return b;
}

const char *cli_pct(double v)
{
    char *b = num_slot();
    if (isnan(v)) return "n/a";
    snprintf(b, 40, "%.2f %%", v);
    return b;
}

const char *cli_score(double v)
{
    char *b = num_slot();
    if (isnan(v)) return "n/a";
    snprintf(b, 40, "%.4f", v);
    return b;
}

const char *cli_secs(double v)
{
    char *b = num_slot();
    snprintf(b, 40, "%.3f s", v);
    return b;
}

const char *cli_metric(const char *key, double v)
{
    char *b = num_slot();
    size_t n = strlen(key);
    if (!isfinite(v)) hamf_format_double(b, v);
    else if (strstr(key, "accuracy")) snprintf(b, 40, "%.2f%%", v);
    else if (n >= 7 && strcmp(key + n - 7, "seconds") == 0) snprintf(b, 40, "%.3fs", v);
    else if (v >= -1 && v <= 1) snprintf(b, 40, "%.4f", v);
    else hamf_format_double(b, v);
    return b;
}

const char *cli_db_url(const char *flag)
{
    if (flag && *flag) return flag;
    const char *env = getenv("HAMF_DB");
    if (env && *env) return env;
    return "./hamf.db";
}

int cli_registry_open_existing(const char *flag, const char *model, hamf_store **out)
{
    const char *url = cli_db_url(flag);
    *out = NULL;
    if (strncmp(url, "postgres", 8)) { /* a SQLite file: a command that reads the registry never creates one */
        const char *path = !strncmp(url, "sqlite://", 9) ? url + 9 : url;
        if (access(path, F_OK))
            return cli_fail("model '%s' names a registered model but there is no store at %s (give --db or set HAMF_DB)",
                            model, url);
    }
    hamf_status st = hamf_registry_open(url, out);
    return st ? cli_fail_status(st) : CLI_OK;
}

bool cli_parse_double(const char *s, double *out)
{
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || isnan(v) || isinf(v)) return false;
    *out = v;
    return true;
}

bool cli_parse_i64(const char *s, long long *out)
{
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno) return false;
    *out = v;
    return true;
}

bool cli_isatty(int fd) { return isatty(fd) == 1; }

void cli_block_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

struct cli_table {
    int ncols;
    size_t nrows, cap;
    char **cells; /* nrows * ncols, row 0 is the header */
    bool *numeric;
    size_t max_width;  /* 0: no limit */
    unsigned cut_cols; /* bit c: column c may be narrowed */
};

struct cli_table *table_new(int ncols, const char *const *headers)
{
    struct cli_table *t = calloc(1, sizeof *t);
    if (!t) abort();
    t->ncols = ncols;
    t->numeric = calloc((size_t)ncols, sizeof *t->numeric);
    if (!t->numeric) abort();
    table_add(t, headers);
    return t;
}

void table_numeric(struct cli_table *t, int col) { t->numeric[col] = true; }

void table_add(struct cli_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cells = realloc(t->cells, t->cap * (size_t)t->ncols * sizeof *t->cells);
        if (!t->cells) abort();
    }
    for (int c = 0; c < t->ncols; c++) {
        t->cells[t->nrows * (size_t)t->ncols + (size_t)c] = strdup(cells[c] ? cells[c] : "");
        if (!t->cells[t->nrows * (size_t)t->ncols + (size_t)c]) abort();
    }
    t->nrows++;
}

/* Display width of UTF-8 text: count code points, not bytes. */
static size_t utf8_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) w++;
    return w;
}

void table_fit(struct cli_table *t, size_t width, unsigned cols)
{
    t->max_width = width;
    t->cut_cols = cols;
}

/* The columns in cut_cols are narrowed (widest first, never below 8 or the header)
 * until the table fits max_width; their cells are cut with an ellipsis. */
static void fit_widths(const struct cli_table *t, size_t *w)
{
    size_t total = 2 * (size_t)(t->ncols - 1);
    for (int c = 0; c < t->ncols; c++) total += w[c];
    while (total > t->max_width) {
        int widest = -1;
        for (int c = 0; c < t->ncols; c++) {
            size_t floor = utf8_width(t->cells[c]);
            if (floor < 8) floor = 8;
            if (c < 32 && (t->cut_cols >> c & 1) && w[c] > floor && (widest < 0 || w[c] > w[widest])) widest = c;
        }
        if (widest < 0) return;
        w[widest]--;
        total--;
    }
}

/* Print `cell` cut to `width` columns, the last one an ellipsis when cut;
 * returns the columns printed. */
static size_t put_cut(const char *cell, size_t width, FILE *out)
{
    size_t n = utf8_width(cell);
    if (n <= width) {
        fputs(cell, out);
        return n;
    }
    size_t cols = 0;
    const char *p = cell;
    while (*p && cols < width - 1) {
        const char *q = p + 1;
        while ((*q & 0xC0) == 0x80) q++;
        fwrite(p, 1, (size_t)(q - p), out);
        p = q;
        cols++;
    }
    fputs("\xe2\x80\xa6", out); /* U+2026 HORIZONTAL ELLIPSIS */
    return cols + 1;
}

void table_print(struct cli_table *t, FILE *out)
{
    size_t *w = calloc((size_t)t->ncols, sizeof *w);
    if (!w) abort();
    for (size_t r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols; c++) {
            size_t l = utf8_width(t->cells[r * (size_t)t->ncols + (size_t)c]);
            if (l > w[c]) w[c] = l;
        }
    if (t->max_width) fit_widths(t, w);
    for (size_t r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * (size_t)t->ncols + (size_t)c];
            size_t cw = utf8_width(cell);
            if (cw > w[c]) { /* a narrowed text column */
                size_t put = put_cut(cell, w[c], out);
                if (c != t->ncols - 1) fprintf(out, "%*s  ", (int)(w[c] - put), "");
                continue;
            }
            size_t pad = w[c] - cw;
            bool last = c == t->ncols - 1;
            if (t->numeric[c] && r > 0) {
                fprintf(out, "%*s%s", (int)pad, "", cell);
            } else {
                fputs(cell, out);
                if (!last) fprintf(out, "%*s", (int)pad, "");
            }
            if (!last) fputs("  ", out);
        }
        fputc('\n', out);
    }
    free(w);
}

void table_free(struct cli_table *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++) free(t->cells[i]);
    free(t->cells);
    free(t->numeric);
    free(t);
}
