/*
 * hamf.h — the whole public API of libhamf.
 *
 * hamf keeps a tabular phishing-detection model accurate over time: a metadata
 * registry (features, models, their mapping, training results, audit log) on
 * SQLite or PostgreSQL, CSV preprocessing, tree ensembles, experiment tracking
 * and monitoring.
 *
 * Conventions that hold for every function below:
 *  - Every function that can fail returns hamf_status. HAMF_OK is 0; on any
 *    other value hamf_last_error() describes what failed and where.
 *  - Handles are opaque. Resources pair open/close, values pair new/free, and
 *    every close/free accepts NULL and does nothing.
 *  - Out-parameters are written only on success.
 *  - Strings passed in are borrowed for the duration of the call. Strings
 *    returned through const char * getters are owned by the handle and stay
 *    valid until the handle is freed, unless the comment says otherwise.
 *  - accuracy is a percent in [0,100]; f1, precision and recall are in [0,1].
 */
#ifndef HAMF_H
#define HAMF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Status codes and errors                                                  */
/* ------------------------------------------------------------------------ */

/* Numbers are fixed forever: never renumber, never reuse. */
typedef enum hamf_status {
    HAMF_OK = 0,
    HAMF_ERR_NOMEM = 1,       /* allocation failed */
    HAMF_ERR_IO = 2,          /* read/write/open failed (errno in message) */
    HAMF_ERR_PARSE = 3,       /* malformed input text (CSV, JSON, expr, URL) */
    HAMF_ERR_SCHEMA = 4,      /* wrong columns/types/shape */
    HAMF_ERR_CONSTRAINT = 5,  /* value out of range, foreign key, check */
    HAMF_ERR_NOTFOUND = 6,    /* no such id/name/file */
    HAMF_ERR_EXISTS = 7,      /* unique key already present */
    HAMF_ERR_BUSY = 8,        /* locked by someone else past the wait bound */
    HAMF_ERR_TIMEOUT = 9,     /* peer did not answer in time */
    HAMF_ERR_UNSUPPORTED = 10,/* feature/backend/version not supported */
    HAMF_ERR_MISUSE = 11,     /* NULL handle, bad argument from the caller */
    HAMF_ERR_INTERNAL = 12,   /* a bug; please report */
    HAMF_ERR_CORRUPT = 13,    /* file or database damaged */
    HAMF_ERR_CONNECT = 14,    /* could not reach a server */
    HAMF_STATUS_LAST          /* not a status; one past the last */
} hamf_status;

/* Message of the last failing call on this thread. Owned by the library,
 * valid until the next failing call on the same thread. Never NULL. */
const char *hamf_last_error(void);

/* A short static description of a bare status code ("not found"). */
const char *hamf_status_str(hamf_status s);

/* The library version, "MAJOR.MINOR.PATCH". */
const char *hamf_version(void);

/* ------------------------------------------------------------------------ */
/* Store: HAMF metadata registry (SQLite or PostgreSQL)                     */
/* ------------------------------------------------------------------------ */
/* @@STORE-API@@ (owned by src/store/) */

/* ------------------------------------------------------------------------ */
/* Data: frames, CSV, expressions                                           */
/* ------------------------------------------------------------------------ */
/* @@DATA-API@@ (owned by src/data/) */

/* A frame is an in-memory table of named, typed columns (struct of arrays).
 * STRING columns are dictionary-encoded: int32 codes into a per-column
 * dictionary (categoricals such as registrarname). Every column may hold
 * nulls. Column pointers returned below are borrowed: valid until the frame
 * is changed or freed. */
typedef struct hamf_frame hamf_frame;

typedef enum hamf_dtype {
    HAMF_DTYPE_INT64 = 1,
    HAMF_DTYPE_DOUBLE = 2,
    HAMF_DTYPE_BOOL = 3,
    HAMF_DTYPE_STRING = 4
} hamf_dtype;

hamf_status hamf_frame_new(hamf_frame **out);
void hamf_frame_free(hamf_frame *f);
size_t hamf_frame_nrows(const hamf_frame *f);
size_t hamf_frame_ncols(const hamf_frame *f);
const char *hamf_frame_col_name(const hamf_frame *f, size_t col);
hamf_dtype hamf_frame_col_type(const hamf_frame *f, size_t col);
/* Index of the column called `name`; HAMF_ERR_NOTFOUND if none. */
hamf_status hamf_frame_find(const hamf_frame *f, const char *name, size_t *col);
/* Column `col` as doubles into out[nrows]: INT64, DOUBLE and BOOL (0/1)
 * columns; null becomes NaN. STRING columns give HAMF_ERR_SCHEMA. */
hamf_status hamf_frame_get_f64(const hamf_frame *f, size_t col, double *out);
/* STRING columns: codes (-1 = null) and the dictionary. */
const int32_t *hamf_frame_codes(const hamf_frame *f, size_t col);
size_t hamf_frame_dict_size(const hamf_frame *f, size_t col);
const char *hamf_frame_dict_value(const hamf_frame *f, size_t col, size_t code);
/* Append columns (all columns of a frame have the same length). `valid`
 * may be NULL (no nulls) or hold 1 for present and 0 for null per row;
 * strings[i] == NULL is null. Data is copied. */
hamf_status hamf_frame_add_f64(hamf_frame *f, const char *name, const double *v,
                               const uint8_t *valid, size_t n);
hamf_status hamf_frame_add_i64(hamf_frame *f, const char *name, const int64_t *v,
                               const uint8_t *valid, size_t n);
hamf_status hamf_frame_add_strings(hamf_frame *f, const char *name,
                                   const char *const *strings, size_t n);
hamf_status hamf_frame_drop(hamf_frame *f, const char *name);

/* A preprocessing pipeline: ordered steps `with name = <Spark SQL expr>`,
 * `drop a, b`, `select a, b`, one per line, '#' comments. Parsed once,
 * applied to many frames (training data, then rows to score). */
typedef struct hamf_pipeline hamf_pipeline;
hamf_status hamf_pipeline_parse(const char *spec_text, const char *source_name,
                                hamf_pipeline **out);
hamf_status hamf_pipeline_apply(const hamf_pipeline *p, hamf_frame *f);
/* Canonical spec text (parses back to the same pipeline). Owned by p. */
const char *hamf_pipeline_text(const hamf_pipeline *p);
void hamf_pipeline_free(hamf_pipeline *p);

/* CSV (RFC 4180): header row, quoted fields with embedded delimiters,
 * quotes ("") and newlines, LF or CRLF, optional UTF-8 BOM, strict UTF-8.
 * An empty field is null; more null spellings can be configured. Column
 * types are inferred over all rows like Spark's inferSchema
 * (int64 -> double -> bool -> string) unless `schema` overrides them. */
typedef struct hamf_csv_options {
    char delimiter;          /* default ',' */
    const char *null_values; /* extra null spellings, comma-separated,
                                e.g. "NA,null,NaN"; NULL = only empty */
    const char *schema;      /* "col:type,..." with type int64|double|bool|
                                string (also int, bigint, long, float,
                                boolean); NULL = infer every column */
    int threads;             /* parser threads; 0 = one per CPU (max 8) */
    size_t block_bytes;      /* hamf_csv_transform reads this much at a
                                time; 0 = 8 MiB */
} hamf_csv_options;
/* Defaults: ',', no extra nulls, infer everything, threads 0. */
void hamf_csv_options_init(hamf_csv_options *o);
/* Read a whole CSV file into a new frame [owned: free with
 * hamf_frame_free]. `opt` may be NULL (defaults). A 0-byte file gives a
 * frame with no columns; a header-only file gives typed-as-string columns
 * with no rows. Errors name file:line:column. */
hamf_status hamf_csv_read(const char *path, const hamf_csv_options *opt, hamf_frame **out);
/* The same from memory; `source_name` is used in messages. */
hamf_status hamf_csv_read_mem(const char *data, size_t len, const char *source_name,
                              const hamf_csv_options *opt, hamf_frame **out);
/* Write `f` as CSV with a header: nulls as empty fields, numbers in the
 * shortest text that parses back to the same value (doubles keep a ".0" or
 * a fraction so that they read back as doubles), bools as true/false. The
 * file appears atomically (temp file in the same directory, fsync, rename);
 * on failure `path` is untouched. */
hamf_status hamf_csv_write(const hamf_frame *f, const char *path);

/* Read IN (streaming: memory stays bounded for any file size), apply the
 * pipeline `p` (may be NULL) and write OUT atomically. Schema inference sees
 * all rows first, as Spark's inferSchema does. `rows` (may be NULL) gets
 * the number of data rows written. */
hamf_status hamf_csv_transform(const char *in_path, const hamf_csv_options *opt,
                               const hamf_pipeline *p, const char *out_path, size_t *rows);

/* Synthetic raw phishing data with the seed's 15 columns (urllength ...
 * phishing). Same seed and options give a byte-identical file. drift in
 * [0,1] moves phishing pages towards https, aged domains and free-hosting
 * subdomains. Written atomically. */
typedef struct hamf_datagen_options {
    uint64_t rows;
    uint64_t seed;
    double drift;
} hamf_datagen_options;
hamf_status hamf_datagen_phishing(const hamf_datagen_options *o, const char *path);

/* ------------------------------------------------------------------------ */
/* Learning: binning, trees, ensembles, metrics, model files                */
/* ------------------------------------------------------------------------ */
/* @@ML-API@@ (owned by src/ml/) */

#ifdef __cplusplus
}
#endif
#endif /* HAMF_H */
