/*
 * exporter.h — the Prometheus side of hamf: a snapshot of model-quality
 * samples (one per experiment's latest FINISHED run, plus drift and live
 * accuracy per model) rendered into the text exposition format 0.0.4.
 *
 * A background thread refreshes the snapshot from a source (the local
 * store or an MLflow REST server) every interval and swaps in the newly
 * rendered text; a scrape only copies the current text under a mutex, so
 * it costs microseconds whatever the source is doing. The same exporter
 * object serves `hamf exporter` (:8000) and `hamf server` (/metrics).
 */
#ifndef HAMF_SERVER_EXPORTER_H
#define HAMF_SERVER_EXPORTER_H

#include "util/util.h"

enum {
    HAMF__Q_ACCURACY, /* percent */
    HAMF__Q_F1,
    HAMF__Q_PRECISION,
    HAMF__Q_RECALL,
    HAMF__Q_COUNT
};

/* One experiment's latest finished run. Strings are owned by the sample set. */
struct hamf__qsample {
    char *experiment;
    char *run_id;
    char *model;          /* "" when unknown */
    char *model_version;  /* "" when unknown */
    double value[HAMF__Q_COUNT];
    bool has[HAMF__Q_COUNT]; /* a run missing a metric lacks that series */
    double end_time_s;    /* run end (or start) time, seconds since epoch; <0 unknown */
};

/* Per-model, per-feature drift and live accuracy (closed-loop maintenance). */
struct hamf__dsample {
    char *model;
    char *feature;   /* NULL for the live-accuracy sample */
    double value;    /* PSI, or live accuracy in percent when feature == NULL */
};

struct hamf__samples {
    struct hamf__qsample *q;
    size_t nq, capq;
    struct hamf__dsample *d;
    size_t nd, capd;
};

void hamf__samples_init(struct hamf__samples *s);
void hamf__samples_free(struct hamf__samples *s);
/* Copies the strings. */
hamf_status hamf__samples_add_quality(struct hamf__samples *s, const char *experiment,
                                      const char *run_id, const char *model,
                                      const char *model_version, double end_time_s,
                                      struct hamf__qsample **out);
hamf_status hamf__samples_add_drift(struct hamf__samples *s, const char *model,
                                    const char *feature, double value);

/* Collects the current samples; returns non-OK (message set) when the
 * source could not be read. `ctx` is the source's own state. */
typedef hamf_status (*hamf__exporter_source_fn)(void *ctx, struct hamf__samples *out);

struct hamf__exporter;

/* interval_ms: time between refreshes. The first refresh runs inside
 * create, so the first scrape already has data (or hamf_exporter_up 0). */
hamf_status hamf__exporter_create(hamf__exporter_source_fn fn, void *ctx, int64_t interval_ms,
                                  struct hamf__exporter **out);
/* Stops the refresh thread and frees everything. NULL is a no-op. */
void hamf__exporter_destroy(struct hamf__exporter *e);
/* Run a refresh now (also what the thread does each interval). */
void hamf__exporter_refresh(struct hamf__exporter *e);
/* A copy of the current exposition text. [owned: free with hamf__free] */
hamf_status hamf__exporter_render(struct hamf__exporter *e, char **text, size_t *len);
/* Append the current exposition text to `out` (one copy, under the lock). */
hamf_status hamf__exporter_render_into(struct hamf__exporter *e, struct hamf__buf *out);

/* Render samples plus exporter health into exposition text (pure; used by
 * the exporter and by tests). */
hamf_status hamf__exporter_format(const struct hamf__samples *s, bool up, double last_success_s,
                                  uint64_t errors_total, struct hamf__buf *out);

/* ---- sources (exporter_source.c) ---- */

/* Run tags that give a sample its model / model_version labels. `hamf
 * train` sets them; any MLflow client can (mlflow.set_tag). */
#define HAMF__TAG_MODEL_NAME "hamf.model_name"
#define HAMF__TAG_MODEL_VERSION "hamf.model_version"

/* Add one MLflow Run object (JSON {info, data}) as experiment's sample. */
hamf_status hamf__samples_add_run_json(struct hamf__samples *s, const char *experiment,
                                       const struct hamf__jval *run);

/* A source of samples: `uri` http(s)://... = an MLflow-compatible REST
 * server, anything else = a local store URL (path, sqlite:///...,
 * postgresql://...). experiments: names to export (nexp 0 = every active
 * experiment); a named experiment that does not exist yet has no series.
 * [owned: free with hamf__exporter_source_close] */
struct hamf__exporter_source;
hamf_status hamf__exporter_source_open(const char *uri, const char *const *experiments, size_t nexp,
                                       struct hamf__exporter_source **out);
void hamf__exporter_source_close(struct hamf__exporter_source *src);
bool hamf__exporter_source_remote(const struct hamf__exporter_source *src);
/* A hamf__exporter_source_fn; ctx is the struct hamf__exporter_source.
 * Only the exporter's refresh thread calls it. */
hamf_status hamf__exporter_source_collect(void *ctx, struct hamf__samples *out);

#define HAMF__EXPOSITION_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
