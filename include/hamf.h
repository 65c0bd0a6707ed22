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

/* A trained binary classifier: bin boundaries, category dictionaries, trees,
 * the preprocessing pipeline text and the training loss history. */
typedef struct hamf_model hamf_model;

/* Fit on d (which must carry labels). */
hamf_status hamf_model_fit(const hamf_dataset *d, const hamf_train_params *p, hamf_model **out);
void hamf_model_free(hamf_model *m);
/* P(label = 1) for every row of d into proba[nrows]. Columns are matched to
 * the model's features by name (extra columns are ignored; a missing one is
 * HAMF_ERR_SCHEMA naming it); unseen categories are treated as missing. */
hamf_status hamf_model_predict(const hamf_model *m, const hamf_dataset *d, int threads,
                               double *proba);
/* One row given in model feature order: numeric values (NaN = missing) and,
 * for categorical features, the category string in cats[f] (NULL = missing;
 * values[f] is then ignored). `cats` may be NULL if there are none. */
hamf_status hamf_model_predict_row(const hamf_model *m, const double *values,
                                   const char *const *cats, double *proba);
/* Versioned, little-endian, CRC-checked file, written atomically. */
hamf_status hamf_model_save(const hamf_model *m, const char *path);
hamf_status hamf_model_load(const char *path, hamf_model **out);

hamf_algorithm hamf_model_algorithm(const hamf_model *m);
size_t hamf_model_ntrees(const hamf_model *m);
size_t hamf_model_nfeatures(const hamf_model *m);
const char *hamf_model_feature_name(const hamf_model *m, size_t f);
/* 1 if feature f is categorical. */
int hamf_model_feature_is_categorical(const hamf_model *m, size_t f);
/* Name of the label column the model was trained on ("" if unknown). */
const char *hamf_model_target(const hamf_model *m);
/* Total split gain per feature into gain[nfeatures] (unnormalised). */
hamf_status hamf_model_importance(const hamf_model *m, double *gain);
/* Preprocessing pipeline spec text stored with the model (NULL if none). */
const char *hamf_model_pipeline(const hamf_model *m);
hamf_status hamf_model_set_pipeline(hamf_model *m, const char *spec_text);
/* Training parameters as a JSON object. */
const char *hamf_model_params_json(const hamf_model *m);
/* GB: per-iteration log loss on the training rows and on the validation
 * fraction (NaN when there was none); n = iterations. Arrays are owned by m. */
void hamf_model_loss_history(const hamf_model *m, size_t *n, const double **train,
                             const double **valid);
/* RF: out-of-bag accuracy in percent (NaN when not available). */
double hamf_model_oob_accuracy(const hamf_model *m);

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

#ifdef __cplusplus
}
#endif
#endif /* HAMF_H */
