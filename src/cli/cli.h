/*
 * cli.h — what the subcommands share: exit codes, the error printer, the
 * store URL rule (--db, then $HAMF_DB, then ./hamf.db) and an aligned-table
 * printer. The CLI parses flags and calls libhamf; it holds no logic of its
 * own beyond presentation.
 */
#ifndef HAMF_CLI_H
#define HAMF_CLI_H

#include "hamf.h"

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

#define CMD(name, summary) int cmd_##name(int argc, char **argv);
#include "commands.def"
#undef CMD

/* The command being run ("train"), set once by main; errors name it. */
void cli_set_verb(const char *verb);
/* Print "hamf <verb>: warning: <formatted>" to stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Open the registry at cli_db_url(flag) for a command about `model` that
 * needs an existing store: a missing SQLite file is an error naming it
 * (never created). Returns CLI_OK with *out set, or CLI_FAIL (printed). */
int cli_registry_open_existing(const char *flag, const char *model, hamf_store **out);
/* Print "hamf <verb>: <last library error>" to stderr and return CLI_FAIL. */
int cli_fail_status(hamf_status s);
/* Print "hamf <verb>: <formatted>" to stderr and return CLI_FAIL (a leading
 * "<verb>: " in the text is not repeated). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "hamf <verb>: <formatted>\nTry 'hamf <verb> --help'." and return CLI_USAGE. */
int cli_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* getopt_long for subcommands, stricter and quieter: long options must be
 * spelled out (no silent prefixes: "--n-estimator" is refused and the
 * full name suggested), and every mistake (unknown option, missing value,
 * value given to a flag) prints exactly one usage line naming `verb` and
 * returns '?'. Callers treat '?' (and any unhandled code) as CLI_USAGE
 * without printing again. getopt's own messages are off. */
int cli_getopt(const char *verb, int argc, char **argv, const char *shortopts, const struct option *longopts);
/* The option cli_getopt returned last, as typed ("--accuracy", "-o"). */
const char *cli_optname(void);

/* The store URL, resolved one way for every command: `flag` (--db) if
 * given, else $HAMF_DB, else "./hamf.db". */
const char *cli_db_url(const char *flag);

/* Strict number parsing of flag values; false on junk, NaN or overflow. */
bool cli_parse_double(const char *s, double *out);
bool cli_parse_i64(const char *s, long long *out);

/* An accuracy flag value: a percent in [0,100] as the seed records it.
 * A value in [0,1] is refused ("did you mean 98?") unless `fraction` says
 * the user gave a fraction on purpose (then it is scaled to a percent).
 * Prints one error line and returns false on a bad value (exit CLI_USAGE). */
bool cli_parse_percent(const char *verb, const char *flag, const char *s, bool fraction, double *out);

/* Numbers as the CLI prints them. JSON: cli_jnum, the shortest text that
 * reads back exactly ("null" for NaN/inf). Human output, one style per
 * unit: cli_pct "97.33 %" (accuracy, a percent), cli_score "0.9678"
 * (F1, precision, recall, AUC, PSI...), cli_secs "0.442 s". Each returns
 * one of a few rotating static buffers: use the result within the same
 * printf (up to 16 numbers per call). */
const char *cli_jnum(double v);
const char *cli_pct(double v);
const char *cli_score(double v);
const char *cli_secs(double v);
/* A logged metric's value by its key: accuracy "97.33%", *seconds "0.442s",
 * other values in [-1,1] as scores "0.9678", larger ones shortest-exact. */
const char *cli_metric(const char *key, double v);

/* Aligned text table: add a header row, then rows, then print. Cells are
 * copied. Numbers should be right-aligned: mark columns with table_numeric. */
struct cli_table;
struct cli_table *table_new(int ncols, const char *const *headers);
void table_numeric(struct cli_table *t, int col);
void table_add(struct cli_table *t, const char *const *cells);
/* Fit the printed table into `width` columns by narrowing the columns whose
 * bit is set in `cols` (cells cut with an ellipsis); width 0 (the default)
 * prints cells in full. */
void table_fit(struct cli_table *t, size_t width, unsigned cols);
void table_print(struct cli_table *t, FILE *out);
void table_free(struct cli_table *t);

/* `hamf model importance MODEL` (cmd_importance.c), dispatched from
 * cmd_model.c; argv[0] is "importance". */
int cli_model_importance(int argc, char **argv);

/* For long-running serving commands: block SIGTERM and SIGINT in this
 * thread and every thread started after it (they inherit the mask), so the
 * caller takes them synchronously with sigwait(set, ...); ignore SIGPIPE.
 * Call before starting any thread. */
void cli_block_stop_signals(sigset_t *set);

/* True when stdout/stderr is a terminal (for progress bars). */
bool cli_isatty(int fd);

#endif
