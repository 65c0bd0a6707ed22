/*
 * workflow.h — the HAMF workflow's four steps in one call (`hamf workflow
 * run`), and the serving that follows it:
 *
 *   1. registry: the seed's 15 features (features_master), the models
 *      PhishingDetectionModel v1.0 (RandomForest) and v1.1
 *      (GradientBoosting) (models_master), the 14 input features mapped to
 *      v1.0 with the seed's 99.83 accuracy (features_models_map), and the
 *      seed's result for v1.1 (training_results) when it has none. Only what
 *      is missing is added, so it can run again on the same store.
 *   2. data: raw data (the given CSV, or `hamf datagen phishing` output),
 *      then the seed's preprocessing step (alexa_rank_scaled,
 *      pathlength_normalized, hassecureconnection_encoded; the three source
 *      columns dropped).
 *   3. training: Random Forest and Gradient Boosting on one seeded 80/20
 *      split (seed 42, as the seed's train.py), each saved, registered as a
 *      new auto-numbered version of PhishingDetectionModel with its
 *      training_results row, and logged as an MLflow run (run_log.h)
 *      linked to that row.
 *   4. export: the exporter's snapshot of the store (latest FINISHED run per
 *      experiment) as Prometheus text, as `hamf exporter` serves it.
 *
 * The library prints nothing: progress goes to an optional callback and the
 * figures into struct hamf__workflow_report. Serving (the tracking server
 * with UI and /metrics on :5000, the exporter on :8000) is started and
 * stopped in-process with hamf__workflow_serve_*.
 */
#ifndef HAMF_APP_WORKFLOW_H
#define HAMF_APP_WORKFLOW_H

#include "hamf.h"
#include "util/util.h"

#define HAMF__WF_MODEL_NAME "PhishingDetectionModel"
#define HAMF__WF_PATH_MAX 1024

enum hamf__wf_event {
    HAMF__WF_STEP_BEGIN = 1, /* step (1..4) starts */
    HAMF__WF_STEP_END,       /* step done; its report fields are filled */
    HAMF__WF_MODEL_BEGIN,    /* step 3: training models[nmodels] starts */
    HAMF__WF_MODEL_END       /* step 3: models[nmodels - 1] is done */
};

struct hamf__workflow_report;
typedef void (*hamf__wf_progress_fn)(void *ctx, enum hamf__wf_event ev, int step,
                                     const struct hamf__workflow_report *r);

struct hamf__workflow_opts {
    const char *db_url;        /* the store (required) */
    const char *data;          /* raw CSV; NULL = generate one */
    const char *work_dir;      /* outputs (raw_data.csv, processed_data.csv,
                                  rf.hamf, gb.hamf); NULL = "hamf-workflow" */
    uint64_t rows;             /* generated rows; 0 = 20000 */
    uint64_t data_seed;        /* datagen seed; default 1 (0 is a valid seed:
                                  set has_data_seed) */
    bool has_data_seed;
    double label_noise;        /* generated data's flipped-label fraction;
                                  default HAMF_DATAGEN_LABEL_NOISE (set
                                  has_label_noise for another, 0 included) */
    bool has_label_noise;
    int rf_estimators;         /* 0 = 100 (scikit-learn's default) */
    int gb_estimators;         /* 0 = 1000 (the seed's train.py) */
    uint64_t train_seed;       /* split and learners; default 42 */
    bool has_train_seed;
    double test_size;          /* 0 = 0.2 */
    int threads;               /* 0 = all cores */
    const char *experiment;    /* NULL = "Phishing Detection Experiment" */
    const char *tracking_uri;  /* runs: NULL = the store; http(s):// = REST */
    const char *artifacts_dir; /* local runs' artifacts; NULL = ./mlartifacts */
    bool no_track;             /* register results without logging runs */
    hamf__wf_progress_fn progress; /* may be NULL */
    void *progress_ctx;
};

struct hamf__workflow_model {
    const char *algorithm;     /* "random-forest" / "gradient-boosting" (static) */
    char path[HAMF__WF_PATH_MAX];
    char run_id[33];           /* "" when not tracked */
    char experiment_id[32];
    int64_t model_id, result_id;
    char model_version[64];
    hamf_metrics metrics;
    double fit_seconds, oob_accuracy; /* oob: RF only, else NaN */
    size_t n_trees, n_train, n_test, n_iterations_logged;
    double seconds;            /* whole model: fit, score, save, register, log */
};

struct hamf__workflow_report {
    /* 1 */
    int features_added, features_total;
    int64_t seed_models[2];      /* v1.0 RandomForest, v1.1 GradientBoosting */
    bool seed_models_new[2];
    int64_t seed_result_id;      /* > 0 when logged by this run, else 0 */
    /* 2 */
    bool generated;
    char raw_path[HAMF__WF_PATH_MAX], processed_path[HAMF__WF_PATH_MAX];
    size_t rows;
    /* 3 */
    struct hamf__workflow_model models[2];
    size_t nmodels;
    char tracking[HAMF__WF_PATH_MAX]; /* where runs went ("" = not tracked) */
    /* 4 */
    char *exposition;            /* Prometheus text [owned: freed by hamf__workflow_report_free] */
    double step_seconds[5];      /* [1..4] */
    double total_seconds;
};

/* Run steps 1-4. On failure the report holds what was done until then and
 * the message names the step. Free the report with
 * hamf__workflow_report_free in both cases. */
hamf_status hamf__workflow_run(const struct hamf__workflow_opts *o, struct hamf__workflow_report *r);
void hamf__workflow_report_free(struct hamf__workflow_report *r);

/* ---- serving ---- */

struct hamf__workflow_serve_opts {
    const char *db_url;         /* required */
    const char *artifacts_dir;  /* NULL = ./mlartifacts */
    const char *host;           /* NULL = 127.0.0.1 */
    int server_port;            /* tracking server, UI and /metrics; -1 = 5000, 0 = any free */
    int exporter_port;          /* exporter /metrics; -1 = 8000, 0 = any free */
    int64_t interval_ms;        /* exporter refresh; 0 = 15000 */
};

struct hamf__workflow_serve;

/* Start `hamf server` and `hamf exporter` in this process (both on the
 * store at db_url). [owned: hamf__workflow_serve_stop] */
hamf_status hamf__workflow_serve_start(const struct hamf__workflow_serve_opts *o, struct hamf__workflow_serve **out);
int hamf__workflow_serve_server_port(const struct hamf__workflow_serve *s);
int hamf__workflow_serve_exporter_port(const struct hamf__workflow_serve *s);
/* Finish requests in flight and stop both. NULL is a no-op. */
void hamf__workflow_serve_stop(struct hamf__workflow_serve *s);

#endif
