/*
 * rows.h — output of registry rows for `hamf feature|model|result|audit
 * list`: either an aligned table (cli.h table_*) or, with --json, a JSON
 * array of objects whose keys are the column names. Cells are text; a NULL
 * cell is SQL NULL (JSON null, empty in the table); ROWS_NUM cells are
 * written unquoted in JSON (they must already be JSON numbers).
 */
#ifndef HAMF_CLI_ROWS_H
#define HAMF_CLI_ROWS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum rows_kind { ROWS_TEXT = 0, ROWS_NUM = 1 };

struct rows;
struct rows *rows_new(int ncols, const char *const *names, const enum rows_kind *kinds, bool json);
void rows_add(struct rows *r, const char *const *cells);
/* Print everything to `out` and free r. */
/* Table output only: fit into `width` columns, narrowing the columns whose
 * bit is set in `cols` (see table_fit). */
void rows_fit(struct rows *r, size_t width, unsigned cols);
void rows_finish(struct rows *r, FILE *out);

/* Number cells: shortest round-trip text. `out` holds 32 bytes. */
const char *rows_num(char out[32], double v);
const char *rows_int(char out[32], int64_t v);
/* Unit-styled number cells: exact in JSON, "97.33 %" (percent) or "0.9678"
 * (score) in the table. */
const char *rows_pct(const struct rows *r, char out[32], double v);
const char *rows_score(const struct rows *r, char out[32], double v);

#endif
