/*
 * csv.h — internals of the CSV module shared with pipeline.c and the
 * fuzz/test drivers: the block-streaming reader (two passes: infer the
 * schema over every row, then build one frame per block) and the
 * incremental atomic writer.
 */
#ifndef HAMF_DATA_CSV_H
#define HAMF_DATA_CSV_H

#include "data/frame.h"

/* Called once per block of rows with a frame that the callee owns. At least
 * once, even when the file has no data rows (then with a 0-row frame). */
typedef hamf_status (*hamf__csv_block_fn)(hamf_frame *block, void *user);

/* Called once with the header's column names and need[k] =
 * HAMF__CSV_NEED_VALUES for every column. need[k] = 0 for columns nobody
 * will read: they are still checked for shape and UTF-8 (and a --schema
 * type) but not converted, and appear in each block as 0-row-cost
 * placeholders that must not be read (only dropped). HAMF__CSV_NEED_TEXT
 * for columns written out unchanged: the block's frame carries their value
 * texts (hamf__col.raw, valid while the block callback runs) for the CSV
 * writer to copy; without HAMF__CSV_NEED_VALUES their typed values are not
 * there (raw->partial). The reader may give values instead of texts (it
 * does for double columns). */
enum { HAMF__CSV_NEED_VALUES = 1, HAMF__CSV_NEED_TEXT = 2 };
typedef hamf_status (*hamf__csv_need_fn)(char *const *names, size_t ncols, uint8_t *need, void *user);

/* Stream `path` in blocks of about `block_bytes` (0 = whole file at once). */
hamf_status hamf__csv_stream(const char *path, const hamf_csv_options *opt, size_t block_bytes,
                             hamf__csv_block_fn fn, void *user);

/* The same with a column filter (need_fn may be NULL). */
hamf_status hamf__csv_stream_cols(const char *path, const hamf_csv_options *opt, size_t block_bytes,
                                  hamf__csv_need_fn need_fn, void *need_user, hamf__csv_block_fn fn, void *user);

/* A frame from JSON cells (csv_json.c): cell(ctx, row, col) gives the
 * cell (NULL = missing = null), typed and valued as the CSV reader would
 * read the cells written as CSV text. *out is NULL (and the status OK) when
 * the cells need the CSV text route to be read the same way (see the file);
 * name_len may be NULL (then strlen). */
struct hamf__jval;
hamf_status hamf__csv_frame_from_json(const char *const *names, const size_t *name_len, size_t ncol, size_t nrows,
                                      const struct hamf__jval *(*cell)(void *ctx, size_t row, size_t col), void *ctx,
                                      hamf_frame **out);

/* Called before each round of hamf__csv_stream_rounds with the number of
 * data rows the schema pass counted (every round delivers exactly them). */
typedef hamf_status (*hamf__csv_round_fn)(int round, size_t nrows, void *user);

/* One schema pass, then `rounds` passes over the blocks (the same blocks,
 * the same frames: a file that changes in between is an error). */
hamf_status hamf__csv_stream_rounds(const char *path, const hamf_csv_options *opt, size_t block_bytes, int rounds,
                                    hamf__csv_round_fn round_fn, hamf__csv_block_fn fn, void *user);

/* The same without a pass of its own for the schema: round 0 runs with it,
 * each block typed by the blocks so far, on the caller's count of data rows
 * (rows_hint, given to round_fn(0)). When a later block changes a column's
 * type, the file has another number of rows, or anything in round 0 fails,
 * the rounds stop with *redo set (and perhaps an error): then the caller
 * discards what round 0 gave and calls hamf__csv_stream_rounds. */
hamf_status hamf__csv_stream_rounds_hint(const char *path, const hamf_csv_options *opt, size_t block_bytes,
                                         int rounds, size_t rows_hint, hamf__csv_round_fn round_fn,
                                         hamf__csv_block_fn fn, void *user, bool *redo);

struct hamf__csv_writer;
hamf_status hamf__csv_writer_open(const char *path, struct hamf__csv_writer **out);
/* The first call writes the header from f's column names. */
hamf_status hamf__csv_writer_put(struct hamf__csv_writer *w, const hamf_frame *f);
/* Append raw bytes (callers that format rows themselves). */
hamf_status hamf__csv_writer_raw(struct hamf__csv_writer *w, const char *p, size_t n);
/* Flush, fsync, rename into place and free the writer. */
hamf_status hamf__csv_writer_commit(struct hamf__csv_writer *w);
/* Remove the temp file and free the writer (NULL is fine). */
void hamf__csv_writer_abort(struct hamf__csv_writer *w);

/* Shortest text that reads back as the same double, always with a '.', an
 * exponent or a NaN/Infinity word so it reads back as a double. `out` holds
 * 32 bytes; returns the length. */
int hamf__csv_fmt_double(char out[32], double v);

#endif
