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

int cli_fail_status(hamf_status s)
{
    (void)s;
    fprintf(stderr, "hamf: %s\n", hamf_last_error());
    return CLI_FAIL;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hamf: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
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

const char *cli_db_url(const char *flag)
{
    if (flag && *flag) return flag;
    const char *env = getenv("HAMF_DB");
    if (env && *env) return env;
    return "./hamf.db";
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

void table_print(struct cli_table *t, FILE *out)
{
    size_t *w = calloc((size_t)t->ncols, sizeof *w);
    if (!w) abort();
    for (size_t r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols; c++) {
            size_t l = utf8_width(t->cells[r * (size_t)t->ncols + (size_t)c]);
            if (l > w[c]) w[c] = l;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * (size_t)t->ncols + (size_t)c];
            size_t pad = w[c] - utf8_width(cell);
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
