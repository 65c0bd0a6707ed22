/*
 * predlog.h — the prediction log of `hamf serve --log-dir DIR` (predlog.c):
 * the rows a scoring server answered, their scores and, once fed back, their
 * true labels, as bounded, rotated CSV files that `hamf retrain --from-log`
 * trains on. The format is documented in docs/reference.md ("Prediction
 * log"); in short, DIR holds two series of files:
 *
 *   predictions-<UTC start>-<seq>.csv   hamf_request_id, hamf_row, hamf_time,
 *                                       hamf_model, hamf_model_version,
 *                                       hamf_score, then the request's own
 *                                       columns, verbatim (one file = one
 *                                       header; a request with other columns
 *                                       starts a new file)
 *   feedback-<UTC start>-<seq>.csv      hamf_request_id, hamf_row, hamf_time,
 *                                       hamf_label (one line per labelled row)
 *
 * and the files being written, predictions.active.csv and
 * feedback.active.csv, renamed (after fsync) to their final name when they
 * reach max_bytes, when the server stops, or at the next start after a crash.
 * Labels join rows on (request id, row index). A writer thread does the I/O:
 * the request path only queues a buffer (bounded: past max_queue_bytes rows
 * are dropped and counted, never waited for).
 */
#ifndef HAMF_TRACK_PREDLOG_H
#define HAMF_TRACK_PREDLOG_H

#include "hamf.h"
#include "util/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hamf__predlog_opts {
    const char *dir;        /* created when missing */
    size_t max_bytes;       /* rotate a file past this size (0 = 64 MiB) */
    int max_files;          /* finished files kept per series (0 = 10); the oldest are deleted */
    size_t max_queue_bytes; /* queued but unwritten bytes before rows are dropped (0 = 64 MiB) */
};

struct hamf__predlog;

/* Open DIR for writing: recover active files a crash left (cut at the last
 * complete record, renamed to a finished name) and start the writer thread. */
hamf_status hamf__predlog_open(const struct hamf__predlog_opts *o, struct hamf__predlog **out);
/* Queue the n scored rows of request `request_id`: csv[csv_len] is the
 * request's rows as CSV text with a header row (ownership taken: a block
 * from hamf__malloc, freed by the writer), scores[n] their probabilities.
 * Never blocks on I/O. */
void hamf__predlog_rows(struct hamf__predlog *l, uint64_t request_id, const char *model, const char *version,
                        char *csv, size_t csv_len, const double *scores, size_t n);
/* Queue the true labels of the n rows of request `request_id`. */
void hamf__predlog_labels(struct hamf__predlog *l, uint64_t request_id, const uint8_t *labels, size_t n);
struct hamf__predlog_stats {
    uint64_t rows, labels;   /* written */
    uint64_t dropped;        /* rows and labels dropped (queue full, or a write error) */
    uint64_t errors;         /* failed writes, renames, malformed request text */
    uint64_t files;          /* files finished (rotated) */
};
void hamf__predlog_get_stats(struct hamf__predlog *l, struct hamf__predlog_stats *out);
/* Write everything queued (waits for the writer). */
void hamf__predlog_flush(struct hamf__predlog *l);
/* Flush, finish the active files (fsync + rename), stop the writer, free. */
void hamf__predlog_close(struct hamf__predlog *l);

/* Whether dir holds a prediction log (a predictions file, finished or active). */
bool hamf__predlog_is_dir(const char *dir);
/* Join a log directory into one CSV at out_path (written atomically): every
 * logged row that has a fed-back label, oldest first, with the requests'
 * own columns (the union over the files, in order first seen; a column a
 * file lacks is empty) and the label as column `label_col` (a request
 * column of that name is replaced). *rows and *served (may be NULL) get the
 * rows written and the rows logged. NOTFOUND when DIR holds no prediction
 * log. */
hamf_status hamf__predlog_join(const char *dir, const char *label_col, const char *out_path, size_t *rows,
                               size_t *served);

#endif
