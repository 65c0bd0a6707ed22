/*
 * tracking_impl.h — what the files of the tracking store share (store/
 * only): the fixed statements, the connection with its statement cache,
 * and the write section of the group-commit writer.
 *
 *   tracking_schema.c  the trk_* tables: the "tracking" migrations
 *   tracking_writer.c  connections, statement cache, group commit, WAL
 *                      checkpointer thread, open / close
 *   tracking.c         the queries (experiments, runs, metrics, search)
 *   tracking_token.c   page tokens
 */
#ifndef HAMF_STORE_TRACKING_IMPL_H
#define HAMF_STORE_TRACKING_IMPL_H

#include "store/db.h"
#include "store/tracking.h"

#include <stdint.h>

/* ---- the fixed statements (SQL text in tracking.c) ---- */

enum {
    Q_EXP_GET,
    Q_EXP_TAGS,
    Q_EXP_BY_NAME,
    Q_EXP_NEXT_ID,
    Q_EXP_INSERT,
    Q_EXP_TAG_UPSERT,
    Q_EXP_STAGE,
    Q_EXP_RENAME,
    Q_EXP_SET_STAGE,
    Q_EXP_DELETE_RUNS,
    Q_EXP_RESTORE_RUNS,
    Q_EXP_TOUCH,
    Q_RUN_INSERT,
    Q_RUN_INFO,
    Q_RUN_STAGE,
    Q_RUN_METRICS,
    Q_RUN_PARAMS,
    Q_RUN_TAGS,
    Q_RUN_INPUTS,
    Q_RUN_SET_STAGE,
    Q_RUN_SET_STATUS,
    Q_RUN_SET_END,
    Q_RUN_SET_NAME,
    Q_PARAM_GET,
    Q_PARAM_INSERT,
    Q_TAG_UPSERT,
    Q_TAG_DELETE,
    Q_METRIC_INSERT,
    Q_LATEST_UPSERT,
    Q_INPUT_INSERT,
    Q_HISTORY,
    Q_DEFAULT_EXISTS,
    Q_DEFAULT_INSERT,
    Q_SP_BEGIN,
    Q_SP_RELEASE,
    Q_SP_ROLLBACK,
    Q_COUNT
};

extern const char *const hamf__trk_sql[Q_COUNT];

/* ---- one connection ---- */

#define CACHE_N 32

struct cached {
    char *sql;
    struct hamf__stmt *st;
};

struct group;

struct hamf__trk {
    struct hamf__db *db;
    struct hamf__stmt *st[Q_COUNT];
    struct cached cache[CACHE_N];
    unsigned cache_next;
    /* statements stepped since the last reset_all: one bit per st[] and
     * per cache[] entry, so a reset touches only those */
    uint64_t st_used;
    uint32_t cache_used;
    struct group *g; /* the write group of this store (NULL for the writer itself) */
    bool borrowed;   /* db is a hamf_store's (hamf__trk_open_store): no group, not closed here */
    bool own_tx;     /* borrowed: this write section began the transaction */
    char *artifact_root; /* NULL = mlflow-artifacts:/; see hamf__trk_options */
};

_Static_assert(Q_COUNT <= 64, "st_used has one bit per fixed statement");
_Static_assert(CACHE_N <= 32, "cache_used has one bit per cached statement");

/* Bring the trk_* tables up to date (tracking_schema.c). */
hamf_status hamf__trk_migrate(struct hamf__db *db);

/* Statement `q`, prepared once per connection (inside a write section: the
 * writer's), reset and marked used. */
hamf_status hamf__trk_stmt(struct hamf__trk *t, int q, struct hamf__stmt **out);
/* A statement built at run time (search), from a small cache by SQL text. */
hamf_status hamf__trk_stmt_sql(struct hamf__trk *t, const char *sql, struct hamf__stmt **out);
/* Reset every statement stepped since the last call (each entry point
 * starts with this, so no read snapshot stays open). */
void hamf__trk_reset(struct hamf__trk *t);
/* A write section: join the group's open transaction (write_begin), then
 * keep or undo this request's changes and commit or leave the commit to
 * the batch (write_end, which returns s or the commit's failure). */
hamf_status hamf__trk_write_begin(struct hamf__trk *t);
hamf_status hamf__trk_write_end(struct hamf__trk *t, hamf_status s);

#endif
