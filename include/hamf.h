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
    HAMF_ERR_FULL = 15,       /* disk or quota full (ENOSPC, EDQUOT, SQLITE_FULL) */
    HAMF_STATUS_LAST          /* not a status; one past the last */
} hamf_status;

/* Message of the last failing call on this thread. Owned by the library,
 * valid until the next failing call on the same thread. Never NULL. */
const char *hamf_last_error(void);

/* A short static description of a bare status code ("not found"). */
const char *hamf_status_str(hamf_status s);

/* The library version, "MAJOR.MINOR.PATCH". */
const char *hamf_version(void);

/* The shortest decimal text that reads back as exactly v (99.461,
 * 0.9079754601226994, 1e-07), as hamf writes numbers in JSON and CSV;
 * "NaN", "Infinity", "-Infinity" for the non-finite. Returns the length. */
int hamf_format_double(char out[32], double v);

/* Memory the library hands out (strings, file contents) goes back here. */
void hamf_free(void *p);

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

/* Read a whole file, NUL-terminated [owned: hamf_free]; *len (may be NULL)
 * gets its size. A missing file is HAMF_ERR_NOTFOUND, the message names
 * the path. */
hamf_status hamf_file_read(const char *path, char **out, size_t *len);
/* Write a file atomically: whole or not at all (temp + fsync + rename). */
hamf_status hamf_file_write(const char *path, const void *data, size_t len);

/* ------------------------------------------------------------------------ */
/* Store: HAMF metadata registry (SQLite or PostgreSQL)                     */
/* ------------------------------------------------------------------------ */
/* (implemented in src/store/) */

/* The registry behind Step 1 of the HAMF workflow: five tables, the same on
 * both backends (column names below are the SQL column names and the keys
 * of `--json` output):
 *   features_master(feature_id, feature_name UNIQUE, feature_type
 *     'numerical'|'categorical', feature_status DEFAULT 'active', last_updated)
 *   models_master(model_id, model_name, model_version, algorithm,
 *     creation_date, description), UNIQUE(model_name, model_version)
 *   features_models_map(map_id, model_id, feature_id, accuracy [0,100] or
 *     NULL, last_used), one row per (model_id, feature_id)
 *   training_results(result_id, model_id, accuracy [0,100], f1_score,
 *     precision, recall [0,1], training_status DEFAULT 'completed',
 *     timestamp, run_id NULL)
 *   audit_log(log_id, table_name, operation_type 'INSERT'|'UPDATE',
 *     old_data, new_data (JSON text of the row), operation_timestamp)
 * Every change writes its audit_log row in the same transaction. Times are
 * ISO-8601 UTC text, "2026-01-31T12:00:00.000Z", on both backends. Ids are
 * assigned by the store, start at 1 and are never reused. A call that fails
 * leaves the store unchanged. */
typedef struct hamf_store hamf_store; /* one connection; one thread at a time */

/* url: a file path ("./hamf.db", created if missing), "sqlite:///abs/path",
 * or "postgresql://user@host:port/db" / "postgres://..." (libpq URI).
 * Creates or migrates the schema forward as needed (HAMF_ERR_UNSUPPORTED if
 * the store was made by a newer hamf). Errors: HAMF_ERR_PARSE malformed URL,
 * HAMF_ERR_CORRUPT not a database / damaged file, HAMF_ERR_IO cannot open,
 * HAMF_ERR_BUSY locked past the wait bound, HAMF_ERR_CONNECT server
 * unreachable (within the connect timeout). [owned: close with
 * hamf_store_close] */
hamf_status hamf_store_open(const char *url, hamf_store **out);

/* Wait bounds; 0 means the default. */
typedef struct hamf_store_options {
    int busy_timeout_ms;   /* lock wait before HAMF_ERR_BUSY: default 5000, or
                              $HAMF_BUSY_TIMEOUT_MS */
    int connect_timeout_s; /* PostgreSQL connect bound: default 5 (a
                              connect_timeout in the URL wins) */
} hamf_store_options;
hamf_status hamf_store_open_opts(const char *url, const hamf_store_options *opts,
                                 hamf_store **out);
void hamf_store_close(hamf_store *s);

/* "sqlite" or "postgresql". */
const char *hamf_store_backend(const hamf_store *s);
/* Registry schema version of the open store (after migration). */
int hamf_store_schema_version(const hamf_store *s);

/* Records. Strings are never NULL unless the comment says so. Each record
 * returned by a get is ONE allocation (strings included) [owned: free with
 * hamf_store_free]; a list owns its records [owned: free with
 * hamf_store_list_free]. */
typedef struct hamf_feature {
    int64_t feature_id;
    const char *feature_name;
    const char *feature_type; /* "numerical" or "categorical" */
    const char *feature_status;
    const char *last_updated;
} hamf_feature;

typedef struct hamf_model {
    int64_t model_id;
    const char *model_name;
    const char *model_version;
    const char *algorithm;
    const char *creation_date;
    const char *description; /* NULL when none */
} hamf_model;

typedef struct hamf_feature_map {
    int64_t map_id;
    int64_t model_id;
    int64_t feature_id;
    int has_accuracy; /* 0: accuracy is NULL in the store */
    double accuracy;
    const char *last_used;
} hamf_feature_map;

typedef struct hamf_training_result {
    int64_t result_id;
    int64_t model_id;
    double accuracy; /* percent */
    double f1_score;
    double precision;
    double recall;
    const char *training_status;
    const char *timestamp;
    const char *run_id; /* NULL when none */
} hamf_training_result;

typedef struct hamf_audit_entry {
    int64_t log_id;
    const char *table_name;
    const char *operation_type; /* "INSERT", "UPDATE" */
    const char *old_data;       /* JSON object text; NULL for INSERT */
    const char *new_data;       /* JSON object text */
    const char *operation_timestamp;
} hamf_audit_entry;

/* Which record type a list holds. */
typedef enum hamf_store_table {
    HAMF_TABLE_FEATURES = 1,
    HAMF_TABLE_MODELS = 2,
    HAMF_TABLE_FEATURE_MAP = 3,
    HAMF_TABLE_TRAINING_RESULTS = 4,
    HAMF_TABLE_AUDIT_LOG = 5
} hamf_store_table;

/* Rows of one table in id order. Use the member matching `table`. */
typedef struct hamf_store_list {
    hamf_store_table table;
    size_t count;
    union {
        hamf_feature **features;
        hamf_model **models;
        hamf_feature_map **maps;
        hamf_training_result **results;
        hamf_audit_entry **audit;
    } u;
} hamf_store_list;

void hamf_store_free(void *record);
void hamf_store_list_free(hamf_store_list *l);

/* ---- writes (each one transaction, audited) ---- */

/* type: "numerical" or "categorical"; status NULL means "active". Errors:
 * HAMF_ERR_EXISTS duplicate name, HAMF_ERR_CONSTRAINT bad type/empty name.
 * `id` may be NULL. */
hamf_status hamf_store_insert_feature(hamf_store *s, const char *name, const char *type,
                                      const char *status, int64_t *id);
/* description may be NULL. HAMF_ERR_EXISTS when (name, version) exists. */
hamf_status hamf_store_insert_model(hamf_store *s, const char *name, const char *version,
                                    const char *algorithm, const char *description,
                                    int64_t *id);
/* Map features to a model, all or nothing. accuracy NULL stores NULL,
 * else it must be in [0,100] (NaN is rejected). A pair already mapped gets
 * its accuracy and last_used updated (audited as UPDATE). Errors:
 * HAMF_ERR_NOTFOUND unknown model or feature id/name (named), 
 * HAMF_ERR_CONSTRAINT bad accuracy or the same feature listed twice. */
hamf_status hamf_store_map_features(hamf_store *s, int64_t model_id, const int64_t *feature_ids,
                                    size_t n, const double *accuracy);
hamf_status hamf_store_map_features_by_name(hamf_store *s, int64_t model_id,
                                            const char *const *names, size_t n,
                                            const double *accuracy);
hamf_status hamf_store_map_feature(hamf_store *s, int64_t model_id, int64_t feature_id,
                                   const double *accuracy);
/* Reads model_id, accuracy, f1_score, precision, recall, training_status
 * (NULL = "completed") and run_id (NULL = none) from `r`; result_id and
 * timestamp are assigned. HAMF_ERR_CONSTRAINT names the field out of range
 * or NaN; HAMF_ERR_NOTFOUND unknown model. `id` may be NULL. */
hamf_status hamf_store_insert_training_result(hamf_store *s, const hamf_training_result *r,
                                              int64_t *id);

/* ---- reads ---- */

hamf_status hamf_store_get_feature(hamf_store *s, int64_t id, hamf_feature **out);
hamf_status hamf_store_find_feature(hamf_store *s, const char *name, hamf_feature **out);
hamf_status hamf_store_get_model(hamf_store *s, int64_t id, hamf_model **out);
hamf_status hamf_store_find_model(hamf_store *s, const char *name, const char *version,
                                  hamf_model **out);
hamf_status hamf_store_get_training_result(hamf_store *s, int64_t id, hamf_training_result **out);
/* The model's newest result (highest result_id); HAMF_ERR_NOTFOUND if none. */
hamf_status hamf_store_latest_result(hamf_store *s, int64_t model_id, hamf_training_result **out);

hamf_status hamf_store_list_features(hamf_store *s, hamf_store_list **out);
hamf_status hamf_store_list_models(hamf_store *s, hamf_store_list **out);
/* model_id 0: every mapping. */
hamf_status hamf_store_list_feature_maps(hamf_store *s, int64_t model_id, hamf_store_list **out);
/* model_id 0: every result. */
hamf_status hamf_store_list_training_results(hamf_store *s, int64_t model_id, hamf_store_list **out);
/* table NULL: every entry; else only entries for that table_name (other
 * modules audit their own tables too, so any name is accepted). */
hamf_status hamf_store_list_audit(hamf_store *s, const char *table, hamf_store_list **out);

/* ---- maintenance (SQLite stores; PostgreSQL: pg_dump / pg_restore) ---- */

/* Check the store at `url` (any hamf store: registry and tracking share a
 * file). full != 0: PRAGMA integrity_check, else quick_check. HAMF_OK when
 * sound; HAMF_ERR_CORRUPT with SQLite's first findings when not (also for a
 * 0-byte or cut-short file); HAMF_ERR_UNSUPPORTED for PostgreSQL. */
hamf_status hamf_store_check(const char *url, int full);
/* Copy the live store at `url` to the new file `dest` with SQLite's online
 * backup API: one consistent snapshot, taken while others keep writing
 * (WAL readers do not block writers). The copy is checked, written to a
 * temporary file next to dest, fsynced and renamed; dest must not exist. */
hamf_status hamf_store_backup(const char *url, const char *dest);
/* Replace the store at `url` (a path or sqlite:///) with the backup file
 * `src` after checking src. Stop servers using the store first. The new
 * file is built next to the store, fsynced, and renamed over it (after its
 * old -wal/-shm files are removed), so a crash leaves the old or the new
 * store, never a mix. */
hamf_status hamf_store_restore(const char *src, const char *url);
/* Process-wide bound on a SQLite store's WAL file for tracking writes
 * (hamf server): once the WAL holds max_bytes (default 64 MiB), or a
 * quarter of the free space on the store's file system if that is less,
 * the checkpointer copies it into the database and the WAL restarts (its
 * file truncated back to max_bytes). <= 0 restores the default. */
void hamf_store_set_wal_limit(int64_t max_bytes);

/* ------------------------------------------------------------------------ */
/* Data: frames, CSV, expressions                                           */
/* ------------------------------------------------------------------------ */
/* (implemented in src/data/) */

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
 * subdomains. label_noise in [0,0.5] is the fraction of flipped labels
 * (HAMF_DATAGEN_LABEL_NOISE, 0.008, is what `hamf datagen` uses; 0 gives
 * clean labels). Written atomically. */
#define HAMF_DATAGEN_LABEL_NOISE 0.008
typedef struct hamf_datagen_options {
    uint64_t rows;
    uint64_t seed;
    double drift;
    double label_noise;
} hamf_datagen_options;
hamf_status hamf_datagen_phishing(const hamf_datagen_options *o, const char *path);

/* ------------------------------------------------------------------------ */
/* Learning: binning, trees, ensembles, metrics, model files                */
/* ------------------------------------------------------------------------ */
/* (implemented in src/ml/) */

/* A dataset is the learner's input: named numeric columns (double, NaN =
 * missing) and categorical columns (int32 codes, -1 = missing, with a string
 * dictionary), plus an optional 0/1 label. Data is copied in. */
typedef struct hamf_dataset hamf_dataset;

hamf_status hamf_dataset_new(size_t nrows, hamf_dataset **out);
void hamf_dataset_free(hamf_dataset *d);
size_t hamf_dataset_nrows(const hamf_dataset *d);
size_t hamf_dataset_ncols(const hamf_dataset *d);
/* Numeric column; +-inf are kept (they bin to the outermost bins). */
hamf_status hamf_dataset_add_numeric(hamf_dataset *d, const char *name, const double *v);
/* Categorical column: codes in [0, ncat) or -1; `dict` may be NULL (then
 * the categories are named "0", "1", ...). */
hamf_status hamf_dataset_add_categorical(hamf_dataset *d, const char *name, const int32_t *codes,
                                         size_t ncat, const char *const *dict);
/* Labels: every value must be 0 or 1. */
hamf_status hamf_dataset_set_label(hamf_dataset *d, const char *name, const double *y);
/* The label array (NULL when none). [borrowed: valid until d is freed] */
const double *hamf_dataset_label(const hamf_dataset *d);
/* A new dataset holding rows[0..n) of d, in that order. */
hamf_status hamf_dataset_subset(const hamf_dataset *d, const size_t *rows, size_t n,
                                hamf_dataset **out);
/* From a frame: every column except `target` becomes a feature (STRING ->
 * categorical, INT64/DOUBLE/BOOL -> numeric). `target` (may be NULL for
 * scoring) must hold exactly the values 0/1 (numbers or booleans) or
 * yes/no / true/false strings; a constant or non-binary target is an error. */
hamf_status hamf_dataset_from_frame(const hamf_frame *f, const char *target, hamf_dataset **out);

/* Training data from a CSV file without holding its values: the file is
 * read three times in blocks (schema, then two rounds), each block goes
 * through `pipeline`, and every value is binned straight into one byte.
 * The result is the same as hamf_csv_read + hamf_pipeline_apply +
 * hamf_dataset_from_frame + hamf_split_train_test(n, test_size, seed, NULL)
 * + hamf_dataset_subset, and a fit with the same max_bins gives the same
 * model file, at about (features + 8) bytes per row. The datasets hold bin
 * codes only: hamf_ensemble_fit (with this max_bins), and prediction,
 * SHAP and drift with the model fitted on `train` accept them; adding
 * columns to them is an error. */
typedef struct hamf_csv_train_options {
    const char *target;   /* label column (required), as hamf_dataset_from_frame */
    const char *pipeline; /* preprocessing spec text, or NULL */
    double test_size;     /* held-out fraction in (0, 1), or 0: every row trains (default 0.2) */
    uint64_t seed;        /* the split's seed (default 42) */
    int max_bins;         /* value bins per numeric column (default 255) */
    int threads;          /* CSV parser threads; 0 = one per CPU */
    size_t block_bytes;   /* read this much at a time; 0 = 8 MiB */
    int strict_types;     /* non-zero: a mostly-numeric column with text cells is an error */
    void (*warn)(void *ctx, const char *msg); /* else it is reported here (may be NULL) */
    void *warn_ctx;
    void (*stage)(void *ctx, const char *what); /* "reading PATH", then "preparing features
                                                   and labels: binning PATH" (may be NULL) */
    void *stage_ctx;
} hamf_csv_train_options;
void hamf_csv_train_options_init(hamf_csv_train_options *o);
/* `test` may be NULL when test_size is 0. */
hamf_status hamf_dataset_read_csv_binned(const char *path, const hamf_csv_train_options *o,
                                         hamf_dataset **train, hamf_dataset **test);

typedef enum hamf_algorithm {
    HAMF_ALGO_GRADIENT_BOOSTING = 1,
    HAMF_ALGO_RANDOM_FOREST = 2
} hamf_algorithm;

/* Progress callback: `done` of `total` trees. */
typedef void (*hamf_progress_fn)(void *ctx, size_t done, size_t total);

typedef struct hamf_train_params {
    hamf_algorithm algorithm;
    int n_estimators;            /* 100 */
    double learning_rate;        /* GB: 0.1 */
    int max_depth;               /* GB: 3; RF: 0 = unlimited */
    int max_leaves;              /* 0 = depth-wise growth; > 0 leaf-wise, at most this many */
    int min_samples_leaf;        /* RF: 1 (rows per leaf, bootstrap-weighted) */
    double min_child_weight;     /* GB: minimum hessian per leaf, 1e-3 */
    double l2;                   /* GB: L2 on leaf values, 1.0 */
    double subsample;            /* GB: row fraction per tree (no replacement), 1.0 */
    double colsample;            /* GB: feature fraction per tree, 1.0 */
    double max_features;         /* RF: fraction of features per split; 0 = sqrt */
    int bootstrap;               /* RF: 1 */
    double validation_fraction;  /* GB: > 0 holds out this fraction for early stopping */
    int n_iter_no_change;        /* GB: early-stopping patience (10) */
    int max_bins;                /* 255 value bins per numeric feature (2..255) */
    uint64_t seed;               /* 42 */
    int threads;                 /* 0 = all cores; results do not depend on it */
    hamf_progress_fn progress;   /* may be NULL */
    void *progress_ctx;
} hamf_train_params;

/* Defaults for `algo` (scikit-learn's where the concept exists). */
void hamf_train_params_init(hamf_train_params *p, hamf_algorithm algo);
/* Fill fields from a JSON object string such as
 * {"n_estimators":1000,"max_depth":6,"learning_rate":0.1}; unknown keys are
 * an error. */
hamf_status hamf_train_params_parse_json(hamf_train_params *p, const char *json);

/* A trained tree ensemble (a binary classifier; named apart from the store's
 * hamf_model registry record): bin boundaries, category dictionaries, trees,
 * the preprocessing pipeline text and the training loss history. */
typedef struct hamf_ensemble hamf_ensemble;

/* Fit on d (which must carry labels). */
hamf_status hamf_ensemble_fit(const hamf_dataset *d, const hamf_train_params *p, hamf_ensemble **out);
void hamf_ensemble_free(hamf_ensemble *m);
/* P(label = 1) for every row of d into proba[nrows]. Columns are matched to
 * the model's features by name (extra columns are ignored; a missing one is
 * HAMF_ERR_SCHEMA naming it); unseen categories are treated as missing. */
hamf_status hamf_ensemble_predict(const hamf_ensemble *m, const hamf_dataset *d, int threads,
                               double *proba);
/* The same, calling progress(ctx, rows_done, rows_total) now and then from
 * one thread (and once at the end). */
hamf_status hamf_ensemble_predict_progress(const hamf_ensemble *m, const hamf_dataset *d, int threads,
                                           double *proba, hamf_progress_fn progress, void *progress_ctx);
/* One row given in model feature order: numeric values (NaN = missing) and,
 * for categorical features, the category string in cats[f] (NULL = missing;
 * values[f] is then ignored). `cats` may be NULL if there are none. */
hamf_status hamf_ensemble_predict_row(const hamf_ensemble *m, const double *values,
                                   const char *const *cats, double *proba);
/* Versioned, little-endian, CRC-checked file, written atomically. */
hamf_status hamf_ensemble_save(const hamf_ensemble *m, const char *path);
hamf_status hamf_ensemble_load(const char *path, hamf_ensemble **out);

hamf_algorithm hamf_ensemble_algorithm(const hamf_ensemble *m);
size_t hamf_ensemble_ntrees(const hamf_ensemble *m);
size_t hamf_ensemble_nfeatures(const hamf_ensemble *m);
const char *hamf_ensemble_feature_name(const hamf_ensemble *m, size_t f);
/* 1 if feature f is categorical. */
int hamf_ensemble_feature_is_categorical(const hamf_ensemble *m, size_t f);
/* Name of the label column the model was trained on ("" if unknown). */
const char *hamf_ensemble_target(const hamf_ensemble *m);
/* Total split gain per feature into gain[nfeatures] (unnormalised). */
hamf_status hamf_ensemble_importance(const hamf_ensemble *m, double *gain);
/* Preprocessing pipeline spec text stored with the model (NULL if none). */
const char *hamf_ensemble_pipeline(const hamf_ensemble *m);
hamf_status hamf_ensemble_set_pipeline(hamf_ensemble *m, const char *spec_text);
/* Training parameters as a JSON object. */
const char *hamf_ensemble_params_json(const hamf_ensemble *m);
/* GB: per-iteration log loss on the training rows and on the validation
 * fraction (NaN when there was none); n = iterations. Arrays are owned by m. */
void hamf_ensemble_loss_history(const hamf_ensemble *m, size_t *n, const double **train,
                             const double **valid);
/* RF: out-of-bag accuracy in percent (NaN when not available). */
double hamf_ensemble_oob_accuracy(const hamf_ensemble *m);

/* Embedded scoring: a model opened read-only for scoring from any number
 * of threads at once. Scoring calls allocate nothing (rows are binned on
 * the stack) and run on the caller's thread. Rows are given in the model's
 * feature order (hamf_predictor_feature_name / hamf_predictor_feature_index):
 * numeric values (NaN = missing) and, for categorical features, the
 * category string (NULL = missing; a category not seen in training counts
 * as missing). */
typedef struct hamf_predictor hamf_predictor;

/* Open a model file (any format version). A version 3 file of a deep
 * forest is checked whole but only its scoring arrays are built; the rest
 * of the model waits for hamf_predictor_ensemble. */
hamf_status hamf_predictor_open(const char *path, hamf_predictor **out);
/* Wrap a trained or loaded ensemble; the predictor takes ownership of m
 * (also on failure). */
hamf_status hamf_predictor_from_ensemble(hamf_ensemble *m, hamf_predictor **out);
void hamf_predictor_close(hamf_predictor *p);
size_t hamf_predictor_nfeatures(const hamf_predictor *p);
const char *hamf_predictor_feature_name(const hamf_predictor *p, size_t f);
int hamf_predictor_feature_is_categorical(const hamf_predictor *p, size_t f);
/* Position of the feature called `name` (HAMF_ERR_NOTFOUND if none). */
hamf_status hamf_predictor_feature_index(const hamf_predictor *p, const char *name, size_t *f);
/* The model behind p, built from the opened file on the first call (safe
 * from any thread; NULL only when memory runs out). [borrowed: valid until
 * p is closed] */
const hamf_ensemble *hamf_predictor_ensemble(const hamf_predictor *p);
/* P(label = 1) of one row: values[nfeatures] (may be NULL when every
 * feature is categorical), cats[nfeatures] (may be NULL when none is). */
hamf_status hamf_predictor_score_row(const hamf_predictor *p, const double *values, const char *const *cats,
                                     double *proba);
/* P(label = 1) of n rows, row-major: row i is values[i*nf .. i*nf+nf) and
 * cats[i*nf ..] (nf = hamf_predictor_nfeatures); proba[n]. Rows are scored
 * in blocks, tree by tree, on the caller's thread. */
hamf_status hamf_predictor_score_batch(const hamf_predictor *p, size_t n, const double *values,
                                       const char *const *cats, double *proba);

/* Exact SHAP values (path-dependent TreeSHAP, Lundberg et al.) of every
 * row of d: contrib[i * (nfeatures + 1) + f] for model feature f (order of
 * hamf_ensemble_feature_name) and the bias (expected output) last. Gradient
 * boosting: raw margin (log-odds) units, a row sums to the margin; random
 * forest: probability units, a row sums to P(label = 1). Columns are matched
 * as in hamf_ensemble_predict. Deterministic for any thread count. */
hamf_status hamf_ensemble_shap(const hamf_ensemble *m, const hamf_dataset *d, int threads,
                               double *contrib);
/* Global importance: mean |SHAP| per feature over the rows of d into
 * importance[nfeatures]. */
hamf_status hamf_ensemble_shap_importance(const hamf_ensemble *m, const hamf_dataset *d, int threads,
                                          double *importance);

/* XGBoost JSON model (what XGBoost's Booster.save_model writes; loads in
 * XGBoost >= 1.7 with xgboost.Booster(model_file=path)), written
 * atomically. It takes the pipeline's output columns, categorical features
 * as codes into the sorted category lists kept in the learner attribute
 * "hamf_categories". GB: binary:logistic, XGBoost's probability equals
 * hamf's; RF: reg:squarederror returning hamf's averaged probability. Its
 * pred_contribs equal hamf_ensemble_shap. */
hamf_status hamf_ensemble_export_xgboost(const hamf_ensemble *m, const char *path);
/* A model from an XGBoost JSON file: gbtree booster with binary:logistic
 * (or a random forest exported by hamf). Anything hamf cannot represent
 * (objective, multi-class, vector leaves, more than 254 thresholds or 255
 * categories per feature) is HAMF_ERR_UNSUPPORTED naming it; a file that is
 * not an XGBoost model is HAMF_ERR_PARSE or HAMF_ERR_SCHEMA. */
hamf_status hamf_ensemble_import_xgboost(const char *path, hamf_ensemble **out);

/* Register a saved model as the next version of a named model, the way
 * `hamf train --db` does, in ONE transaction (on failure the store is
 * unchanged): models_master (version "vN" numbered unless given), its
 * features (features_master, features_models_map), a training_results row
 * from `metrics`, and a model-registry version (artifact = the model file)
 * holding the bin counts of the `reference` rows for drift; the first
 * version of a name becomes champion. model_version (may be NULL) gets the
 * models_master version (64 bytes). */
typedef struct hamf_register_options {
    const char *name;            /* required */
    const char *version;         /* NULL = next free v1, v2, ... */
    const hamf_ensemble *model;
    const struct hamf_metrics *metrics; /* e.g. on the reference rows */
    const char *artifact;        /* the saved model file */
    const hamf_dataset *reference; /* rows the model was trained on (drift's baseline) */
    const char *run_id;          /* tracked run or NULL */
} hamf_register_options;
hamf_status hamf_register_model(const char *db_url, const hamf_register_options *o, int64_t *model_id,
                                char *model_version, int64_t *registry_version);

/* Metrics of probabilities against 0/1 labels at a 0.5 threshold. */
typedef struct hamf_metrics {
    double accuracy;   /* percent */
    double f1_score, precision, recall; /* [0,1]; 0 when undefined */
    double roc_auc;    /* NaN when only one class is present */
    double log_loss;   /* probabilities clipped to [1e-15, 1-1e-15] */
    int64_t tp, fp, tn, fn;
    size_t n;
} hamf_metrics;
hamf_status hamf_metrics_compute(const double *y, const double *proba, size_t n, hamf_metrics *out);

/* Seeded shuffle split: test rows are the first round(n*test_size) of a
 * permutation (stratified by y when y != NULL: each class split separately).
 * Outputs are sorted row indices. [owned: free with hamf_free_indices] */
hamf_status hamf_split_train_test(size_t n, double test_size, uint64_t seed, const double *y,
                                  size_t **train, size_t *ntrain, size_t **test, size_t *ntest);
/* k-fold: fold[i] in [0,k) for every row (stratified when y != NULL). */
hamf_status hamf_split_kfold(size_t n, int k, uint64_t seed, const double *y, int *fold);
void hamf_free_indices(size_t *idx);

/* ---- Scoring server: MLflow's scoring protocol (src/server/scoring.c) ----
 * POST /invocations (application/json: dataframe_split, dataframe_records,
 * instances, inputs; text/csv with a header) -> {"predictions": [...]};
 * GET /ping, /health, /version; GET /metrics (Prometheus); POST /feedback
 * {"request_id", "labels"} -> live accuracy/F1/precision/recall on /metrics
 * (X-Hamf-Request-Id names each scoring answer; ids grow across restarts). Raw rows go through the model's stored
 * pipeline, as in `hamf predict`. Every answer carries the model version
 * in the X-Hamf-Model-Version header. */
typedef enum hamf_serve_output {
    HAMF_SERVE_PROBABILITY = 0, /* P(class 1) per row (default) */
    HAMF_SERVE_LABEL = 1,       /* 1 when P > 0.5, else 0 */
    HAMF_SERVE_BOTH = 2         /* {"probability": p, "label": l} per row */
} hamf_serve_output;
typedef struct hamf_serve_options {
    const char *host;          /* default 127.0.0.1 */
    int port;                  /* default 5001; 0 = any free port */
    int threads;               /* HTTP polling threads; default 4 */
    hamf_serve_output output;  /* default; a request may override with ?output= */
    size_t max_body;           /* request bodies past this get 400; default 64 MiB */
    const char *model_version; /* header value; NULL = the model file's name */
    const char *model_name;    /* `model` label on /metrics; NULL = registered name, or file name without extension */
    const char *db_url;        /* registry store for models:/ and runs:/ references; NULL = ./hamf.db */
    double poll_seconds;       /* models:/NAME@ALIAS: how often to check the alias (0 = 1 s; < 0 = never) */
    /* Prediction log (docs/reference.md "Prediction log"): served rows,
     * scores and fed-back labels appended to rotated CSV files in log_dir
     * by a writer thread; `hamf retrain --from-log` trains on them. */
    const char *log_dir;       /* NULL = no log */
    size_t log_max_bytes;      /* rotate a file past this size (0 = 64 MiB) */
    int log_max_files;         /* finished files kept per series (0 = 10) */
    /* Serving drift: per-feature PSI of the last drift_window served rows
     * against the registry version's training bins, on /metrics as
     * hamf_feature_drift_psi{source="serving"} (registry models only). */
    size_t drift_window;       /* rows (default 10000) */
} hamf_serve_options;
void hamf_serve_options_init(hamf_serve_options *o);
typedef struct hamf_scoring_server hamf_scoring_server;
/* Load the model (a file, or models:/NAME/VERSION, models:/NAME@ALIAS,
 * runs:/RUN_ID/model resolved with hamf_model_load) and start serving it
 * [owned: stop with hamf_serve_stop]. For models:/NAME@ALIAS the alias is
 * re-resolved every poll_seconds; when it moves the new version is loaded
 * and answers new requests, while requests in flight finish on the old
 * one. The version header and metric label are the registry version. */
hamf_status hamf_serve_start(const char *model_path, const hamf_serve_options *o, hamf_scoring_server **out);
int hamf_serve_port(const hamf_scoring_server *s);
/* The version answering new requests, copied into buf[n]; returns buf. */
const char *hamf_serve_model_version(hamf_scoring_server *s, char *buf, size_t n);
/* Stop accepting, let requests in flight finish (up to grace_seconds), free. */
void hamf_serve_stop(hamf_scoring_server *s, double grace_seconds);

/* ------------------------------------------------------------------------ */
/* Servers: tracking server, exporter, local stack                          */
/* ------------------------------------------------------------------------ */
/* (implemented in src/app/public_api.c and src/server/public_api.c)
 * Each server binds the given host (default loopback), serves from its own
 * threads, and is stopped by its _stop function; a program that runs one
 * until SIGTERM/SIGINT blocks those signals before starting it and then
 * waits for them (sigwait), as `hamf server` does. */

/* "500ms", "15s", "1.5s", "1m", "2h": a positive decimal number and a unit
 * (ms, s, m, h), 10 ms .. 24 h, into milliseconds. HAMF_ERR_PARSE naming
 * the problem otherwise. */
hamf_status hamf_duration_parse(const char *s, int64_t *ms);
/* 1 when every address `host` resolves to is a loopback address
 * (127.0.0.0/8, ::1), else 0. HAMF_ERR_CONNECT when it does not resolve. */
hamf_status hamf_host_is_loopback(const char *host, int *loopback);
/* 1 when a tracking URI names an MLflow REST server (http:// or https://),
 * 0 when it names a store (a path, sqlite:///..., postgresql://...). */
int hamf_tracking_uri_is_remote(const char *uri);

/* ---- The tracking and registry server (`hamf server`) ----
 * MLflow's REST API 2.0 (tracking and Model Registry), proxied artifacts,
 * the web UI, /metrics (the exporter on the server's store, started on
 * the first scrape) and the closed loop's alert webhook: POST
 * /api/hamf/v1/alerts takes Alertmanager notifications and queues retrain
 * jobs in the store, which a worker thread runs like `hamf retrain` (on
 * one store connection per job, the registry writes of a job in one
 * transaction); GET /api/hamf/v1/jobs lists them. */
typedef struct hamf_server_options {
    const char *host;          /* default 127.0.0.1 */
    int port;                  /* default 5000; 0 = any free port */
    int threads;               /* HTTP worker threads; default 8 */
    const char *db_url;        /* the store; required */
    const char *artifacts_dir; /* root of proxied artifacts; default ./mlartifacts */
    const char *default_artifact_root; /* new experiments' artifact root URI; NULL = mlflow-artifacts:/ (proxied) */
    uint64_t max_artifact_bytes;       /* uploads past this get 413; 0 = no limit */
    int sync_full;             /* SQLite: fsync every commit (default 0: WAL, synchronous=NORMAL) */
    /* HTTP basic auth */
    const char *auth_file;     /* 'user:hash' lines (hamf_server_passwd_set); NULL = no auth */
    int metrics_public;        /* with auth_file: leave /metrics open */
    int auth_max_failures;     /* failed attempts per client address per 60 s before 429;
                                  default 10, 0 = no limit */
    /* connections and deadlines; 0 = the default */
    unsigned max_connections;        /* default 1024 */
    unsigned max_connections_per_ip; /* default 256 */
    unsigned header_timeout_s;       /* default 10 */
    unsigned body_timeout_s;         /* default 300 */
    /* the alert webhook's retrain jobs */
    const char *retrain_data;  /* CSV file, or a directory whose newest *.csv is used; NULL = none
                                  (jobs then fail, saying so) */
    double retrain_cooldown_s; /* no new job for a model this long after its last one; default 600 */
    size_t retrain_window;     /* train challengers on the last N rows; 0 = all */
    double retrain_min_gain;   /* accuracy points a challenger must gain; default 0 */
} hamf_server_options;
void hamf_server_options_init(hamf_server_options *o);
typedef struct hamf_server hamf_server;
/* Check the store (a damaged SQLite store is HAMF_ERR_CORRUPT before
 * anything is served), read the auth file, start the retrain job runner
 * and serve [owned: stop with hamf_server_stop]. Does not refuse a
 * non-loopback host: the caller decides (hamf_host_is_loopback). */
hamf_status hamf_server_start(const hamf_server_options *o, hamf_server **out);
int hamf_server_port(const hamf_server *s);
/* Stop accepting, let requests in flight finish (up to grace_seconds),
 * stop the job runner and the /metrics exporter, free. */
void hamf_server_stop(hamf_server *s, double grace_seconds);
/* Add `user` to the auth file at `path` or change its password (yescrypt,
 * fresh salt; other lines kept; written atomically with mode 0600). An
 * empty password or a user name that is empty, too long or holds ':',
 * white space or control characters is HAMF_ERR_CONSTRAINT. */
hamf_status hamf_server_passwd_set(const char *path, const char *user, const char *password);

/* ---- The Prometheus exporter (`hamf exporter`) ----
 * Serves the latest FINISHED run of each experiment as gauges at
 * GET /metrics (text format 0.0.4) and a small page at GET /. A background
 * thread refreshes the values from the source every interval; a scrape
 * copies them from memory. When the source fails the last values stay,
 * with hamf_exporter_up 0. */
typedef struct hamf_exporter_options {
    const char *source;   /* http(s)://... = an MLflow REST server; else a store URL; required */
    const char *const *experiments; /* names to export; NULL/0 = every active experiment */
    size_t nexperiments;
    const char *host;     /* default 127.0.0.1 */
    int port;             /* default 8000; 0 = any free port */
    int threads;          /* HTTP threads; default 2 */
    int64_t interval_ms;  /* refresh period; default 15000 */
    /* Called on the refresh thread after every refresh (the first one
     * inside hamf_exporter_start): st is HAMF_OK or the failure, message
     * its hamf_last_error() text ("" on success). May be NULL. */
    void (*on_refresh)(void *ctx, hamf_status st, const char *message);
    void *ctx;
} hamf_exporter_options;
void hamf_exporter_options_init(hamf_exporter_options *o);
typedef struct hamf_exporter hamf_exporter;
/* Set up the source, run the first refresh (a source that cannot be read
 * yet is no error: hamf_exporter_up 0 until it can) and start serving
 * [owned: stop with hamf_exporter_stop]. */
hamf_status hamf_exporter_start(const hamf_exporter_options *o, hamf_exporter **out);
int hamf_exporter_port(const hamf_exporter *e);
/* 1 when the source is an MLflow REST server, 0 for a store. */
int hamf_exporter_source_is_remote(const hamf_exporter *e);
/* Stop serving (requests in flight get up to grace_seconds), stop the
 * refresh thread, close the source, free. */
void hamf_exporter_stop(hamf_exporter *e, double grace_seconds);

/* ---- The local monitoring stack (`hamf stack`) ----
 * hamf server, hamf exporter (reading that server over REST), Prometheus
 * and Alertmanager (Debian's binaries) as detached processes on 127.0.0.1,
 * with deploy/'s configs rendered to the chosen ports, and PID files
 * ("PID STARTTIME URL": a reused PID is never signalled), logs and data in
 * a state directory. */
typedef enum hamf_stack_part {
    HAMF_STACK_SERVER = 0,
    HAMF_STACK_EXPORTER = 1,
    HAMF_STACK_ALERTMANAGER = 2,
    HAMF_STACK_PROMETHEUS = 3,
    HAMF_STACK_N = 4 /* not a part; how many */
} hamf_stack_part;
typedef struct hamf_stack_options {
    const char *dir;        /* state directory (configs, data, logs, PID files); required */
    const char *deploy_dir; /* NULL = $HAMF_DEPLOY_DIR, else <hamf_exe's dir>/../deploy,
                               /usr/share/hamf/deploy, ./deploy (the first with
                               prometheus/prometheus.yml) */
    const char *hamf_exe;   /* the hamf binary that runs server and exporter; required */
    const char *db_url;     /* the server's store, as that process sees it; required */
    const char *interval;   /* exporter refresh ("15s"); NULL = 15s */
    int port[HAMF_STACK_N]; /* one loopback port per part, all different */
    double ready_timeout_s; /* per part; 0 = 30 */
} hamf_stack_options;
/* One part's state. */
typedef struct hamf_stack_component {
    const char *name;  /* "server", "exporter", "alertmanager", "prometheus" (static) */
    long pid;          /* 0 when not running / no PID file */
    int running;       /* the process is alive and really ours */
    int ready;         /* its readiness URL answered 2xx (up, status) */
    char url[128];
    char log[4096];
} hamf_stack_component;
/* Render the configs and start the four parts in order, waiting until each
 * is ready; on any failure stop what was started and name the log to read.
 * HAMF_ERR_EXISTS when a stack already runs in dir or a port is taken. */
hamf_status hamf_stack_up(const hamf_stack_options *o, hamf_stack_component out[HAMF_STACK_N]);
/* Stop every part by PID (SIGTERM, then SIGKILL after grace_seconds), in
 * reverse order; out[i].running says which were running. */
hamf_status hamf_stack_down(const char *dir, double grace_seconds, hamf_stack_component out[HAMF_STACK_N]);
/* Each part's PID, liveness and readiness. */
hamf_status hamf_stack_status(const char *dir, hamf_stack_component out[HAMF_STACK_N]);

/* ------------------------------------------------------------------------ */
/* Tracking, runs, registry versions and aliases, drift, retrain, workflow  */
/* ------------------------------------------------------------------------ */
/* (runs: src/track/run_log.c; registry, drift, retrain: src/track/; reading
 * runs back: src/server/runs_api.c; the workflow: src/app/workflow.c) */

/* Defaults shared by `hamf train`, `hamf workflow run` and `hamf server`. */
#define HAMF_DEFAULT_EXPERIMENT "Phishing Detection Experiment"
#define HAMF_DEFAULT_ARTIFACTS_DIR "./mlartifacts"

/* s as a JSON string literal, quotes included, escaped as every JSON hamf
 * writes (control characters as \uXXXX, each byte of invalid UTF-8 as
 * \ufffd) [owned: hamf_free]. */
hamf_status hamf_json_quote(const char *s, char **out);

/* ---- logging a training as an MLflow run ----
 * Where a run goes follows MLflow's convention: a tracking URI starting
 * with http:// or https:// logs through the REST API 2.0 to any
 * MLflow-compatible server (hamf server or MLflow); any other URI, or none,
 * names a hamf store written directly, with the artifacts as files under
 * an artifacts directory in the layout `hamf server --artifacts-dir DIR`
 * serves (DIR/<experiment_id>/<run_id>/artifacts/...).
 *
 * One run holds: params (every hyperparameter of the model, plus the
 * caller's), metrics (accuracy in percent, f1_score, precision, recall,
 * roc_auc when defined, log_loss, the GB loss history per iteration, plus
 * the caller's), tags (mlflow.runName, mlflow.source.*, mlflow.user,
 * hamf.model_name, hamf.model_version, hamf.algorithm, hamf.model_id,
 * hamf.result_id, plus the caller's) and the model directory (model/MLmodel
 * and the model file) as artifacts.
 *
 * Lifetime: hamf_run_start creates the run (RUNNING), so a training that
 * fails later is still recorded; hamf_run_finish logs everything and sets
 * FINISHED; hamf_run_close frees the handle and marks a run that was
 * neither finished nor failed FAILED (best effort). A hamf_run is used from
 * one thread at a time. */
typedef struct hamf_kv {
    const char *key, *value;
} hamf_kv;

typedef struct hamf_run_metric {
    const char *key;
    double value;
    int64_t step;
} hamf_run_metric;

/* Where to log. */
typedef struct hamf_run_dest {
    const char *tracking_uri; /* http(s)://... = REST; else a store URL; NULL or "" = db_url */
    const char *db_url;       /* the local store used when tracking_uri is NULL or "" */
    hamf_store *store;        /* that store already open (the command's one handle):
                                 local logging uses its connection; may be NULL */
    const char *artifacts_dir;/* local logging: artifacts root; NULL = HAMF_DEFAULT_ARTIFACTS_DIR */
    int64_t timeout_ms;       /* REST: per-request timeout; 0 = 5 s */
} hamf_run_dest;

typedef struct hamf_run_options {
    const char *experiment;  /* NULL = HAMF_DEFAULT_EXPERIMENT (created if absent) */
    const char *run_name;    /* NULL = the store's generated name */
    const char *source_name; /* tag mlflow.source.name; NULL = "hamf" */
    const hamf_kv *tags;     /* extra tags set at creation */
    size_t ntags;
} hamf_run_options;

typedef struct hamf_run hamf_run;

/* Create the run (RUNNING). Errors: those of the store or the REST client
 * (HAMF_ERR_CONNECT when the server is unreachable), naming the
 * destination. [owned: hamf_run_close] */
hamf_status hamf_run_start(const hamf_run_dest *d, const hamf_run_options *o, hamf_run **out);
/* 32-hex run id, experiment id, artifact URI ("" for NULL). */
const char *hamf_run_id(const hamf_run *r);
const char *hamf_run_experiment_id(const hamf_run *r);
const char *hamf_run_artifact_uri(const hamf_run *r);

typedef struct hamf_run_training {
    const hamf_ensemble *model;   /* required: params, loss history, features */
    const hamf_metrics *metrics;  /* required: held-out metrics */
    const char *model_path;       /* saved model file, logged as model/<basename>; NULL = no artifact */
    const char *model_name;       /* tag hamf.model_name; NULL = not set */
    const char *model_version;    /* tag hamf.model_version; NULL = not set */
    int64_t model_id, result_id;  /* registry ids as tags when > 0 */
    const hamf_kv *params;        /* extra params */
    size_t nparams;
    const hamf_run_metric *extra; /* extra metrics (NaN values skipped) */
    size_t nextra;
    const hamf_kv *tags;          /* extra tags */
    size_t ntags;
    const double *shap_importance;/* mean |SHAP| per feature on shap_rows rows, logged as
                                     shap_importance.json/.svg; NULL = none */
    size_t shap_rows;
} hamf_run_training;

/* Log params, metrics, history, tags and the model directory, then set
 * FINISHED with end_time. On failure the run is marked FAILED (best effort)
 * and the first failure is returned. */
hamf_status hamf_run_finish(hamf_run *r, const hamf_run_training *t);
/* Set FAILED with end_time now (no-op if already ended). */
hamf_status hamf_run_fail(hamf_run *r);
void hamf_run_close(hamf_run *r);

/* ---- reading runs back (`hamf runs`) ----
 * The runs as the tracking server answers them: the list keeps the JSON
 * text of MLflow's REST API and the records read from it, so both views
 * come from one serializer. Times are ms since the epoch (0 = none). */
typedef struct hamf_run_value {
    const char *key;
    const char *value;  /* params and tags; for metrics the JSON text of a
                           non-number value ("NaN", "Infinity"), else NULL */
    double number;      /* metrics: the value when it is a number */
    int is_number;      /* metrics: 1 when `number` holds the value */
    int64_t step;       /* metrics: step of the latest value */
} hamf_run_value;

typedef struct hamf_run_record {
    const char *run_id, *run_name, *experiment_id, *status, *lifecycle_stage, *user_id, *artifact_uri;
    int64_t start_time, end_time;
    const hamf_run_value *params, *metrics, *tags; /* sorted by key */
    size_t nparams, nmetrics, ntags;
} hamf_run_record;

typedef struct hamf_run_list hamf_run_list;

/* Active runs, newest first, of the experiment named `experiment` (NULL =
 * every active experiment), up to 50000. HAMF_ERR_NOTFOUND for an unknown
 * experiment. [owned: hamf_run_list_free] */
hamf_status hamf_runs_search(hamf_store *s, const char *experiment, hamf_run_list **out);
/* One run (a list of one). HAMF_ERR_NOTFOUND for an unknown id. */
hamf_status hamf_run_get(hamf_store *s, const char *run_id, hamf_run_list **out);
size_t hamf_run_list_count(const hamf_run_list *l);
const hamf_run_record *hamf_run_list_get(const hamf_run_list *l, size_t i);
/* The REST JSON: {"runs":[...]} for a search, the Run object for a get. */
const char *hamf_run_list_json(const hamf_run_list *l);
void hamf_run_list_free(hamf_run_list *l);

/* ---- model registry: versions and aliases ----
 * A named model has versions 1, 2, ... (model_versions), each linked to
 * its models_master row, the run that made it, and a read-only,
 * SHA-256-checked copy of its model file, with the training bin counts
 * drift compares against. Aliases point at versions: champion (the version
 * in service; the first version of a name gets it), challenger (the last
 * retrain's candidate), and any alias set through MLflow's API.
 * Promotions and rollbacks are recorded (model_promotions, audit_log). */

/* Open the store at `url` with the registry's tables (versions, aliases,
 * drift reports, retrain decisions and jobs) brought up to date, as every
 * function of this section expects. [owned: hamf_store_close] */
hamf_status hamf_registry_open(const char *url, hamf_store **out);

/* Register a trained model in store s the way `hamf train --db` does, in
 * ONE transaction (see hamf_register_model), on the caller's connection. */
typedef struct hamf_registration {
    int64_t model_id;         /* models_master row */
    int64_t result_id;        /* training_results row */
    int64_t registry_version; /* model registry version */
    char model_version[64];   /* models_master version ("v3") */
} hamf_registration;
hamf_status hamf_registry_register(hamf_store *s, const hamf_register_options *o, hamf_registration *out);

typedef struct hamf_model_versions hamf_model_versions;
/* The versions of `name`, oldest first (none: an empty list).
 * [owned: hamf_model_versions_free] */
hamf_status hamf_registry_versions(hamf_store *s, const char *name, hamf_model_versions **out);
size_t hamf_model_versions_count(const hamf_model_versions *l);
int64_t hamf_model_versions_version(const hamf_model_versions *l, size_t i);
int64_t hamf_model_versions_model_id(const hamf_model_versions *l, size_t i); /* 0 = none */
/* Every alias on version i, comma-separated ("champion", "" when none). */
const char *hamf_model_versions_aliases(const hamf_model_versions *l, size_t i);
const char *hamf_model_versions_run_id(const hamf_model_versions *l, size_t i);     /* "" = none */
const char *hamf_model_versions_source(const hamf_model_versions *l, size_t i);     /* "train", "retrain" */
const char *hamf_model_versions_created_at(const hamf_model_versions *l, size_t i);
const char *hamf_model_versions_digest(const hamf_model_versions *l, size_t i);     /* SHA-256 hex, "" = none */
const char *hamf_model_versions_artifact(const hamf_model_versions *l, size_t i);   /* the file loaded */
void hamf_model_versions_free(hamf_model_versions *l);
/* The same as a JSON array (`hamf model versions --json`) [owned: hamf_free]. */
hamf_status hamf_registry_versions_json(hamf_store *s, const char *name, char **out);
/* Make `version` of `name` the champion; `reason` is recorded. */
hamf_status hamf_registry_promote(hamf_store *s, const char *name, int64_t version, const char *reason);
/* Roll back: the version the current champion replaced becomes the
 * champion again (from the promotion history); *version (may be NULL)
 * gets it. */
hamf_status hamf_registry_rollback(hamf_store *s, const char *name, int64_t *version);

/* ---- drift ---- */
typedef struct hamf_drift_report hamf_drift_report;

/* Compare the CSV at data_path with the training data of a registered
 * version: `model` is a name (its champion) or models:/NAME/VERSION,
 * models:/NAME@ALIAS, runs:/RUN_ID/model naming a registered version. The
 * model's pipeline is applied; per feature, the population stability
 * index over the model's own bins (numeric: the bin edges merged into about
 * ten buckets of equal training mass, plus missing; categorical: per
 * category); when the data has the model's label column, the version's
 * metrics on it. record != 0 stores the report (drift_reports) for the
 * exporter. [owned: hamf_drift_report_free] */
hamf_status hamf_drift_check(hamf_store *s, const char *model, const char *data_path, int record,
                             hamf_drift_report **out);
const char *hamf_drift_report_model(const hamf_drift_report *r);
int64_t hamf_drift_report_version(const hamf_drift_report *r);
size_t hamf_drift_report_rows(const hamf_drift_report *r);
size_t hamf_drift_report_nfeatures(const hamf_drift_report *r);
const char *hamf_drift_report_feature(const hamf_drift_report *r, size_t i);
int hamf_drift_report_feature_is_categorical(const hamf_drift_report *r, size_t i);
double hamf_drift_report_psi(const hamf_drift_report *r, size_t i);
/* 1 and *m filled when the data had labels, else 0. */
int hamf_drift_report_metrics(const hamf_drift_report *r, hamf_metrics *m);
void hamf_drift_report_free(hamf_drift_report *r);

/* ---- champion / challenger retraining ---- */
typedef struct hamf_retrain_options {
    size_t window;             /* train on the last N rows before the held-out slice; 0 = all */
    double holdout;            /* fraction of the newest rows held out (0.2) */
    double min_gain;           /* required accuracy gain in points (0) */
    double tolerance;          /* allowed F1 loss (0.01) */
    const char *out_dir;       /* the challenger's file; NULL = beside the champion's */
    const char *trigger;       /* recorded with the decision: "cli", "alert job <id>" */
    const char *artifacts_dir; /* runs' artifacts; NULL = HAMF_DEFAULT_ARTIFACTS_DIR */
} hamf_retrain_options;
void hamf_retrain_options_init(hamf_retrain_options *o);

typedef struct hamf_retrain_result {
    int64_t champion_version, challenger_version;
    hamf_metrics champion, challenger; /* on the held-out rows */
    size_t n_train, n_holdout;
    int promoted;
    char reason[512];
    char champion_run[64], challenger_run[64];
} hamf_retrain_result;

/* Retrain the champion of `model` (a name or models:/NAME@champion) in
 * store s on the labelled CSV at data_path: the newest rows (the file's
 * last) are held out, a challenger is trained with the champion's
 * algorithm, parameters and pipeline on the window before them, both are
 * scored on the held-out rows and logged as runs (experiment "hamf
 * retrain", in s), the challenger becomes a new version (alias challenger)
 * and is promoted when its accuracy beats the champion's by more than 0
 * and at least min_gain points and its F1 is at most `tolerance` lower.
 * The decision goes to retrain_decisions and audit_log. Everything (the
 * versions, both runs, the decision) goes through s; o NULL = defaults. */
hamf_status hamf_retrain(hamf_store *s, const char *model, const char *data_path, const hamf_retrain_options *o,
                         hamf_retrain_result *out);
/* The same on a `hamf serve --log-dir` prediction log (docs/reference.md,
 * "Prediction log"): the served rows that have fed-back labels (joined on
 * request id + row), oldest first, are written to
 * LOG_DIR/joined/retrain-<UTC>-<pid>.csv with the champion's target as the
 * label column and are the new data (the runs' "data" parameter names that
 * file; the newest 5 are kept). HAMF_ERR_NOTFOUND when log_dir holds no
 * prediction log or no labelled row. */
hamf_status hamf_retrain_from_log(hamf_store *s, const char *model, const char *log_dir,
                                  const hamf_retrain_options *o, hamf_retrain_result *out);
/* A result as one JSON object [owned: hamf_free]. */
hamf_status hamf_retrain_result_json(const hamf_retrain_result *r, char **out);

/* ---- the HAMF workflow in one call (`hamf workflow run`) ----
 *   1. registry: the seed's 15 features, PhishingDetectionModel v1.0
 *      (RandomForest) and v1.1 (GradientBoosting), the 14 input features
 *      mapped to v1.0 with the seed's accuracy, and the seed's result for
 *      v1.1; only what is missing is added, so it can run again.
 *   2. data: the given raw CSV or generated phishing data, then the seed's
 *      preprocessing step (processed_data.csv).
 *   3. training: Random Forest and Gradient Boosting on one seeded split,
 *      each saved, registered as a new version of PhishingDetectionModel
 *      with its training_results row, and logged as an MLflow run.
 *   4. export: the exporter's Prometheus text for the store.
 * The library prints nothing: progress goes to a callback, figures into
 * the report. */
#define HAMF_WORKFLOW_MODEL_NAME "PhishingDetectionModel"
#define HAMF_WORKFLOW_PATH_MAX 1024

typedef enum hamf_workflow_event {
    HAMF_WORKFLOW_STEP_BEGIN = 1, /* step (1..4) starts */
    HAMF_WORKFLOW_STEP_END = 2,   /* step done; its report fields are filled */
    HAMF_WORKFLOW_MODEL_BEGIN = 3,/* step 3: training models[nmodels] starts */
    HAMF_WORKFLOW_MODEL_END = 4   /* step 3: models[nmodels - 1] is done */
} hamf_workflow_event;

typedef struct hamf_workflow_report hamf_workflow_report;
typedef void (*hamf_workflow_progress_fn)(void *ctx, hamf_workflow_event ev, int step, const hamf_workflow_report *r);

typedef struct hamf_workflow_options {
    const char *db_url;        /* the store (required) */
    const char *data;          /* raw CSV; NULL = generate one */
    const char *work_dir;      /* outputs (raw_data.csv, processed_data.csv, rf.hamf,
                                  gb.hamf); NULL = "hamf-workflow" */
    uint64_t rows;             /* generated rows; 0 = 20000 */
    uint64_t data_seed;        /* datagen seed; default 1 (set has_data_seed for 0) */
    int has_data_seed;
    double label_noise;        /* generated data's flipped-label fraction; default
                                  HAMF_DATAGEN_LABEL_NOISE (set has_label_noise) */
    int has_label_noise;
    int rf_estimators;         /* 0 = 100 */
    int gb_estimators;         /* 0 = 1000 (the seed's train.py) */
    uint64_t train_seed;       /* split and learners; default 42 (set has_train_seed) */
    int has_train_seed;
    double test_size;          /* 0 = 0.2 */
    int threads;               /* 0 = all cores */
    const char *experiment;    /* NULL = HAMF_DEFAULT_EXPERIMENT */
    const char *tracking_uri;  /* runs: NULL = the store; http(s):// = REST */
    const char *artifacts_dir; /* local runs' artifacts; NULL = HAMF_DEFAULT_ARTIFACTS_DIR */
    int no_track;              /* register results without logging runs */
    hamf_workflow_progress_fn progress; /* may be NULL */
    void *progress_ctx;
} hamf_workflow_options;

typedef struct hamf_workflow_model {
    const char *algorithm;     /* "random-forest" / "gradient-boosting" (static) */
    char path[HAMF_WORKFLOW_PATH_MAX];
    char run_id[33];           /* "" when not tracked */
    char experiment_id[32];
    int64_t model_id, result_id;
    char model_version[64];
    hamf_metrics metrics;
    double fit_seconds, oob_accuracy; /* oob: RF only, else NaN */
    size_t n_trees, n_train, n_test, n_iterations_logged;
    double seconds;            /* whole model: fit, score, save, register, log */
} hamf_workflow_model;

struct hamf_workflow_report {
    /* 1 */
    int features_added, features_total;
    int64_t seed_models[2];    /* v1.0 RandomForest, v1.1 GradientBoosting */
    int seed_models_new[2];
    int64_t seed_result_id;    /* > 0 when logged by this run, else 0 */
    /* 2 */
    int generated;
    char raw_path[HAMF_WORKFLOW_PATH_MAX], processed_path[HAMF_WORKFLOW_PATH_MAX];
    size_t rows;
    /* 3 */
    hamf_workflow_model models[2];
    size_t nmodels;
    char tracking[HAMF_WORKFLOW_PATH_MAX]; /* where runs went ("" = not tracked) */
    /* 4 */
    char *exposition;          /* Prometheus text [owned: hamf_workflow_report_free] */
    double step_seconds[5];    /* [1..4] */
    double total_seconds;
};

/* Run steps 1-4. On failure the report holds what was done until then and
 * the message names the step. Free the report in both cases. */
hamf_status hamf_workflow_run(const hamf_workflow_options *o, hamf_workflow_report *r);
void hamf_workflow_report_free(hamf_workflow_report *r);

/* Serving after the workflow: the tracking server (UI, MLflow API,
 * /metrics) and the exporter in this process, on the store at db_url. */
typedef struct hamf_workflow_serve_options {
    const char *db_url;        /* required */
    const char *artifacts_dir; /* NULL = HAMF_DEFAULT_ARTIFACTS_DIR */
    const char *host;          /* NULL = 127.0.0.1 */
    int server_port;           /* -1 = 5000, 0 = any free */
    int exporter_port;         /* -1 = 8000, 0 = any free */
    int64_t interval_ms;       /* exporter refresh; 0 = 15000 */
} hamf_workflow_serve_options;
typedef struct hamf_workflow_server hamf_workflow_server;
/* [owned: hamf_workflow_serve_stop] */
hamf_status hamf_workflow_serve_start(const hamf_workflow_serve_options *o, hamf_workflow_server **out);
int hamf_workflow_serve_server_port(const hamf_workflow_server *s);
int hamf_workflow_serve_exporter_port(const hamf_workflow_server *s);
/* Finish requests in flight and stop both. */
void hamf_workflow_serve_stop(hamf_workflow_server *s);

/* ------------------------------------------------------------------------ */
/* Model references: files and MLflow model URIs                            */
/* ------------------------------------------------------------------------ */
/* (src/track/model_ref.c) */

/* What a reference resolved to. */
typedef struct hamf_model_info {
    char name[128];   /* registered model name; "" for a plain file */
    int64_t version;  /* registered version; 0 for a plain file */
    char path[1024];  /* the file that was loaded */
    char digest[72];  /* SHA-256 it was verified against; "" when none */
} hamf_model_info;

/* Load a model from `ref`: a file path, or an MLflow model URI resolved
 * against the registry in the store at db_url (NULL = "./hamf.db"):
 * models:/NAME/VERSION, models:/NAME/STAGE (None, Staging, Production,
 * Archived: the newest version there), models:/NAME/latest,
 * models:/NAME@ALIAS (champion, challenger or any alias set through
 * MLflow's API), runs:/RUN_ID/PATH (the newest version registered from that
 * run, else the model folder the run logged). A registered version is read
 * from the registry's own read-only copy and its SHA-256 checked first:
 * a changed or missing copy is HAMF_ERR_CORRUPT naming the version and
 * digest. HAMF_ERR_PARSE for a malformed URI, HAMF_ERR_NOTFOUND for an
 * unknown model, version or alias. `info` may be NULL. */
hamf_status hamf_model_load(const char *ref, const char *db_url, hamf_ensemble **out, hamf_model_info *info);

#ifdef __cplusplus
}
#endif
#endif /* HAMF_H */
