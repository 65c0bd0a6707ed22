/*
 * tracking.c — the queries of the experiment-tracking store (see
 * tracking.h; schema, connections and the writer are in the other
 * tracking_*.c files, see tracking_impl.h): writes
 * (experiments, runs, metrics with history and latest value, write-once
 * params, tags, dataset inputs, lifecycle), and reads that write MLflow
 * REST JSON directly.
 *
 * Every statement is prepared once per connection and kept (fixed ones in
 * an array by index, search queries in a small cache keyed by their SQL
 * text). Writes take a process-wide mutex and then a database transaction:
 * the mutex keeps the server's per-thread SQLite connections from queueing
 * on SQLite's file lock (a busy wait) and makes the write order the mutex
 * order. The latest value of each metric is kept in trk_latest_metrics by
 * an upsert that only replaces a row with a greater (step, timestamp,
 * value), which is what MLflow's run.data.metrics shows and what search
 * filters and sorts on.
 */
#include "store/tracking_impl.h"

#include "store/db.h"
#include "store/search.h"
#include "store/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>


const char *const hamf__trk_sql[Q_COUNT] = {
    [Q_EXP_GET] = "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time "
                  "FROM trk_experiments WHERE experiment_id = ?",
    [Q_EXP_TAGS] = "SELECT key, value FROM trk_experiment_tags WHERE experiment_id = ? ORDER BY key",
    [Q_EXP_BY_NAME] = "SELECT experiment_id FROM trk_experiments WHERE name = ? "
                      "ORDER BY CASE WHEN lifecycle_stage = 'active' THEN 0 ELSE 1 END, experiment_id",
    [Q_EXP_NEXT_ID] = "SELECT COALESCE(MAX(experiment_id), -1) + 1 FROM trk_experiments",
    [Q_EXP_INSERT] = "INSERT INTO trk_experiments (experiment_id, name, artifact_location, lifecycle_stage, "
                     "creation_time, last_update_time) VALUES (?, ?, ?, 'active', ?, ?)",
    [Q_EXP_TAG_UPSERT] = "INSERT INTO trk_experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) "
                         "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
    [Q_EXP_STAGE] = "SELECT lifecycle_stage FROM trk_experiments WHERE experiment_id = ?",
    [Q_EXP_RENAME] = "UPDATE trk_experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?",
    [Q_EXP_SET_STAGE] = "UPDATE trk_experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?",
    [Q_EXP_DELETE_RUNS] = "UPDATE trk_runs SET lifecycle_stage = 'deleted', deleted_time = ? "
                          "WHERE experiment_id = ? AND lifecycle_stage = 'active'",
    [Q_EXP_RESTORE_RUNS] = "UPDATE trk_runs SET lifecycle_stage = 'active', deleted_time = NULL "
                           "WHERE experiment_id = ? AND lifecycle_stage = 'deleted' AND deleted_time >= ?",
    [Q_EXP_TOUCH] = "SELECT last_update_time FROM trk_experiments WHERE experiment_id = ?",
    [Q_RUN_INSERT] = "INSERT INTO trk_runs (run_uuid, name, experiment_id, user_id, status, start_time, end_time, "
                     "artifact_uri, lifecycle_stage) VALUES (?, ?, ?, ?, 'RUNNING', ?, NULL, ?, 'active')",
    [Q_RUN_INFO] = "SELECT run_uuid, name, experiment_id, user_id, status, start_time, end_time, artifact_uri, "
                   "lifecycle_stage FROM trk_runs WHERE run_uuid = ?",
    [Q_RUN_STAGE] = "SELECT lifecycle_stage FROM trk_runs WHERE run_uuid = ?",
    [Q_RUN_METRICS] = "SELECT key, value, is_nan, timestamp, step FROM trk_latest_metrics WHERE run_uuid = ? ORDER BY key",
    [Q_RUN_PARAMS] = "SELECT key, value FROM trk_params WHERE run_uuid = ? ORDER BY key",
    [Q_RUN_TAGS] = "SELECT key, value FROM trk_tags WHERE run_uuid = ? ORDER BY key",
    [Q_RUN_INPUTS] = "SELECT name, digest, source_type, source, schema, profile, tags_json FROM trk_inputs "
                     "WHERE run_uuid = ? ORDER BY name, digest",
    [Q_RUN_SET_STAGE] = "UPDATE trk_runs SET lifecycle_stage = ?, deleted_time = ? WHERE run_uuid = ?",
    [Q_RUN_SET_STATUS] = "UPDATE trk_runs SET status = ? WHERE run_uuid = ?",
    [Q_RUN_SET_END] = "UPDATE trk_runs SET end_time = ? WHERE run_uuid = ?",
    [Q_RUN_SET_NAME] = "UPDATE trk_runs SET name = ? WHERE run_uuid = ?",
    [Q_PARAM_GET] = "SELECT value FROM trk_params WHERE run_uuid = ? AND key = ?",
    [Q_PARAM_INSERT] = "INSERT INTO trk_params (run_uuid, key, value) VALUES (?, ?, ?)",
    [Q_TAG_UPSERT] = "INSERT INTO trk_tags (run_uuid, key, value) VALUES (?, ?, ?) "
                     "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value",
    [Q_TAG_DELETE] = "DELETE FROM trk_tags WHERE run_uuid = ? AND key = ?",
    [Q_METRIC_INSERT] = "INSERT INTO trk_metrics (run_uuid, key, step, timestamp, value, is_nan) "
                        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    [Q_LATEST_UPSERT] = "INSERT INTO trk_latest_metrics (run_uuid, key, step, timestamp, value, is_nan) "
                        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_uuid, key) DO UPDATE SET "
                        "step = excluded.step, timestamp = excluded.timestamp, value = excluded.value, "
                        "is_nan = excluded.is_nan WHERE (excluded.step, excluded.timestamp, excluded.value) > "
                        "(trk_latest_metrics.step, trk_latest_metrics.timestamp, trk_latest_metrics.value)",
    [Q_INPUT_INSERT] = "INSERT INTO trk_inputs (run_uuid, name, digest, source_type, source, schema, profile, "
                       "context, tags_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    [Q_HISTORY] = "SELECT key, value, is_nan, timestamp, step FROM trk_metrics WHERE run_uuid = ? AND key = ? "
                  "ORDER BY step, timestamp, value LIMIT ? OFFSET ?",
    [Q_DEFAULT_EXISTS] = "SELECT count(*) FROM trk_experiments WHERE experiment_id = 0",
    [Q_DEFAULT_INSERT] = "INSERT INTO trk_experiments (experiment_id, name, artifact_location, lifecycle_stage, "
                         "creation_time, last_update_time) VALUES (0, 'Default', ?, 'active', ?, ?) "
                         "ON CONFLICT DO NOTHING",
    [Q_SP_BEGIN] = "SAVEPOINT trk_write",
    [Q_SP_RELEASE] = "RELEASE trk_write",
    [Q_SP_ROLLBACK] = "ROLLBACK TO trk_write",
};

/* ---- helpers ---- */

static bool parse_exp_id(const char *s, int64_t *id)
{
    return s && hamf__parse_i64(s, strlen(s), id) && *id >= 0;
}

static hamf_status exp_not_found(const char *id)
{
    return hamf__err(HAMF_ERR_NOTFOUND, "No Experiment with id=%s exists", id ? id : "");
}

static hamf_status run_not_found(const char *id)
{
    return hamf__err(HAMF_ERR_NOTFOUND, "Run with id=%s not found", id ? id : "");
}

/* ---- experiments ---- */

static hamf_status exp_read(struct hamf__trk *t, int64_t id, const char *id_text, const struct hamf__trk_sink *k)
{
    struct hamf__stmt *st = NULL;
    hamf_status s;
    bool row;
    if ((s = hamf__trk_stmt(t, Q_EXP_GET, &st)) || (s = hamf__db_bindf(st, "i", id)) || (s = hamf__db_step(st, &row)))
        return s;
    if (!row) return exp_not_found(id_text);
    struct hamf__trk_exp_row e = {hamf__db_col_i64(st, 0), hamf__db_col_text(st, 1), hamf__db_col_text(st, 2),
                                  hamf__db_col_text(st, 3), hamf__db_col_i64(st, 4), hamf__db_col_i64(st, 5)};
    s = k->exp(k->ctx, &e);
    hamf__db_reset(st);
    if (s || (s = hamf__trk_stmt(t, Q_EXP_TAGS, &st)) || (s = hamf__db_bindf(st, "i", id))) return s;
    while (!(s = hamf__db_step(st, &row)) && row)
        if ((s = k->exp_tag(k->ctx, hamf__db_col_text(st, 0), hamf__db_col_text(st, 1)))) break;
    hamf__db_reset(st);
    return s ? s : k->exp_end(k->ctx);
}

hamf_status hamf__trk_exp_get(struct hamf__trk *t, const char *exp_id, const struct hamf__trk_sink *k)
{
    hamf__trk_reset(t);
    int64_t id;
    if (!parse_exp_id(exp_id, &id)) return exp_not_found(exp_id);
    return exp_read(t, id, exp_id, k);
}

static hamf_status exp_id_by_name(struct hamf__trk *t, const char *name, int64_t *id)
{
    struct hamf__stmt *st = NULL;
    hamf_status s;
    bool row;
    if ((s = hamf__trk_stmt(t, Q_EXP_BY_NAME, &st)) || (s = hamf__db_bindf(st, "t", name)) || (s = hamf__db_step(st, &row))) return s;
    if (!row) {
        hamf__db_reset(st);
        return hamf__err(HAMF_ERR_NOTFOUND, "Could not find experiment with name '%s'", name);
    }
    *id = hamf__db_col_i64(st, 0);
    hamf__db_reset(st);
    return HAMF_OK;
}

hamf_status hamf__trk_exp_get_by_name(struct hamf__trk *t, const char *name, const struct hamf__trk_sink *k)
{
    hamf__trk_reset(t);
    int64_t id;
    hamf_status s = exp_id_by_name(t, name, &id);
    if (s) return s;
    return exp_read(t, id, NULL, k);
}

hamf_status hamf__trk_exp_id_by_name(struct hamf__trk *t, const char *name, char **out_id)
{
    hamf__trk_reset(t);
    int64_t id;
    hamf_status s = exp_id_by_name(t, name, &id);
    if (s) return s;
    char *r = hamf__asprintf("%lld", (long long)id);
    if (!r) return hamf__err(HAMF_ERR_NOMEM, "tracking: out of memory");
    *out_id = r;
    return HAMF_OK;
}

static hamf_status check_tag(const char *key, const char *value)
{
    if (!key || !*key) return hamf__err(HAMF_ERR_CONSTRAINT, "Tag key must be a non-empty string");
    if (strlen(key) > HAMF__TRK_MAX_KEY)
        return hamf__err(HAMF_ERR_CONSTRAINT, "Tag key '%.40s...' had length %zu, which exceeded length limit of %d",
                         key, strlen(key), HAMF__TRK_MAX_KEY);
    if (!value) return hamf__err(HAMF_ERR_CONSTRAINT, "Missing value for tag '%s'", key);
    if (strlen(value) > HAMF__TRK_MAX_TAG_VALUE)
        return hamf__err(HAMF_ERR_CONSTRAINT, "Tag value for '%s' had length %zu, which exceeded length limit of %d",
                         key, strlen(value), HAMF__TRK_MAX_TAG_VALUE);
    return HAMF_OK;
}

hamf_status hamf__trk_exp_create(struct hamf__trk *t, const char *name, const char *artifact_location,
                                 const struct hamf__trk_kv *tags, size_t ntags, char **out_id)
{
    hamf__trk_reset(t);
    if (!name || !*name) return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid experiment name: ''. Must be a non-empty string");
    if (strlen(name) > 500) return hamf__err(HAMF_ERR_CONSTRAINT, "Experiment name is longer than 500 characters");
    for (size_t i = 0; i < ntags; i++) {
        hamf_status s = check_tag(tags[i].key, tags[i].value);
        if (s) return s;
    }
    hamf_status s = hamf__trk_write_begin(t);
    if (s) return s;
    struct hamf__stmt *st = NULL;
    bool row;
    int64_t id = 0;
    char *loc = NULL;
    if ((s = hamf__trk_stmt(t, Q_EXP_BY_NAME, &st)) || (s = hamf__db_bindf(st, "t", name)) || (s = hamf__db_step(st, &row))) goto done;
    if (row) {
        s = hamf__err(HAMF_ERR_EXISTS, "Experiment(name=%s) already exists.", name);
        goto done;
    }
    if ((s = hamf__trk_stmt(t, Q_EXP_NEXT_ID, &st)) || (s = hamf__db_step(st, &row))) goto done;
    id = hamf__db_col_i64(st, 0);
    hamf__db_reset(st);
    loc = artifact_location && *artifact_location ? hamf__strdup(artifact_location)
          : t->artifact_root                      ? hamf__asprintf("%s/%lld", t->artifact_root, (long long)id)
                                                   : hamf__asprintf("mlflow-artifacts:/%lld", (long long)id);
    if (!loc) {
        s = hamf__err(HAMF_ERR_NOMEM, "tracking: out of memory");
        goto done;
    }
    int64_t now = hamf__now_ms();
    if ((s = hamf__trk_stmt(t, Q_EXP_INSERT, &st)) || (s = hamf__db_bindf(st, "ittii", id, name, loc, now, now)) || (s = hamf__db_run(st))) {
        if (s == HAMF_ERR_EXISTS) s = hamf__err(HAMF_ERR_EXISTS, "Experiment(name=%s) already exists.", name);
        goto done;
    }
    for (size_t i = 0; i < ntags; i++) {
        if ((s = hamf__trk_stmt(t, Q_EXP_TAG_UPSERT, &st)) || (s = hamf__db_bindf(st, "itt", id, tags[i].key, tags[i].value)) || (s = hamf__db_run(st)))
            goto done;
    }
done:
    hamf__free(loc);
    hamf__trk_reset(t);
    if ((s = hamf__trk_write_end(t, s))) return s;
    char *r = hamf__asprintf("%lld", (long long)id);
    if (!r) return hamf__err(HAMF_ERR_NOMEM, "tracking: out of memory");
    *out_id = r;
    return HAMF_OK;
}

/* Inside a write: the stage of an experiment, or NOTFOUND. */
static hamf_status exp_stage(struct hamf__trk *t, int64_t id, const char *id_text, bool *active)
{
    struct hamf__stmt *st = NULL;
    bool row;
    hamf_status s;
    if ((s = hamf__trk_stmt(t, Q_EXP_STAGE, &st)) || (s = hamf__db_bindf(st, "i", id)) || (s = hamf__db_step(st, &row))) return s;
    if (!row) return exp_not_found(id_text);
    *active = !strcmp(hamf__db_col_text(st, 0), "active");
    hamf__db_reset(st);
    return HAMF_OK;
}

hamf_status hamf__trk_exp_rename(struct hamf__trk *t, const char *exp_id, const char *new_name)
{
    hamf__trk_reset(t);
    int64_t id;
    if (!parse_exp_id(exp_id, &id)) return exp_not_found(exp_id);
    if (!new_name || !*new_name)
        return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid experiment name: ''. Must be a non-empty string");
    hamf_status s = hamf__trk_write_begin(t);
    if (s) return s;
    bool active;
    struct hamf__stmt *st = NULL;
    if ((s = exp_stage(t, id, exp_id, &active))) goto done;
    if (!active) {
        s = hamf__err(HAMF_ERR_CONSTRAINT, "Cannot rename a non-active experiment.");
        goto done;
    }
    if ((s = hamf__trk_stmt(t, Q_EXP_RENAME, &st)) || (s = hamf__db_bindf(st, "tii", new_name, (int64_t)(hamf__now_ms()), id)) || (s = hamf__db_run(st))) {
        if (s == HAMF_ERR_EXISTS) s = hamf__err(HAMF_ERR_EXISTS, "Experiment(name=%s) already exists.", new_name);
    }
done:
    return hamf__trk_write_end(t, s);
}

hamf_status hamf__trk_exp_set_deleted(struct hamf__trk *t, const char *exp_id, bool deleted)
{
    hamf__trk_reset(t);
    int64_t id;
    if (!parse_exp_id(exp_id, &id)) return exp_not_found(exp_id);
    hamf_status s = hamf__trk_write_begin(t);
    if (s) return s;
    bool active;
    struct hamf__stmt *st = NULL;
    int64_t now = hamf__now_ms();
    if ((s = exp_stage(t, id, exp_id, &active))) goto done;
    if (deleted) {
        if (!active) goto done; /* already deleted: nothing to do */
        if ((s = hamf__trk_stmt(t, Q_EXP_DELETE_RUNS, &st)) || (s = hamf__db_bindf(st, "ii", now, id)) ||
            (s = hamf__db_run(st)))
            goto done;
    } else {
        if (active) goto done;
        /* runs deleted together with the experiment come back with it */
        bool row;
        if ((s = hamf__trk_stmt(t, Q_EXP_TOUCH, &st)) || (s = hamf__db_bindf(st, "i", id)) || (s = hamf__db_step(st, &row))) goto done;
        int64_t when = row ? hamf__db_col_i64(st, 0) : 0;
        hamf__db_reset(st);
        if ((s = hamf__trk_stmt(t, Q_EXP_RESTORE_RUNS, &st)) || (s = hamf__db_bindf(st, "ii", id, when)) ||
            (s = hamf__db_run(st)))
            goto done;
    }
    if ((s = hamf__trk_stmt(t, Q_EXP_SET_STAGE, &st)) || (s = hamf__db_bindf(st, "tii", deleted ? "deleted" : "active", now, id)) || (s = hamf__db_run(st)))
        goto done;
done:
    return hamf__trk_write_end(t, s);
}

hamf_status hamf__trk_exp_set_tag(struct hamf__trk *t, const char *exp_id, const char *key, const char *value)
{
    hamf__trk_reset(t);
    int64_t id;
    if (!parse_exp_id(exp_id, &id)) return exp_not_found(exp_id);
    hamf_status s = check_tag(key, value);
    if (s) return s;
    if ((s = hamf__trk_write_begin(t))) return s;
    bool active;
    struct hamf__stmt *st = NULL;
    if ((s = exp_stage(t, id, exp_id, &active))) goto done;
    if (!active) {
        s = hamf__err(HAMF_ERR_CONSTRAINT, "The experiment %s must be in the 'active' state. Current state is deleted.",
                      exp_id);
        goto done;
    }
    if ((s = hamf__trk_stmt(t, Q_EXP_TAG_UPSERT, &st)) || (s = hamf__db_bindf(st, "itt", id, key, value)) || (s = hamf__db_run(st)))
        goto done;
done:
    return hamf__trk_write_end(t, s);
}

struct search_args {
    struct hamf__search_filter *f;
    struct hamf__search_order *o;
    size_t no;
    int64_t limit, offset;
};

static void search_args_free(struct search_args *a)
{
    hamf__search_filter_free(a->f);
    for (size_t i = 0; i < a->no; i++) hamf__search_order_free(&a->o[i]);
    hamf__free(a->o);
}

static hamf_status search_args_parse(const struct hamf__trk_search *q, enum hamf__search_kind kind,
                                     struct search_args *a)
{
    memset(a, 0, sizeof *a);
    hamf_status s;
    a->limit = q->max_results ? q->max_results : HAMF__TRK_DEFAULT_RESULTS;
    if (a->limit > HAMF__TRK_MAX_RESULTS || a->limit < 1)
        return hamf__err(HAMF_ERR_CONSTRAINT,
                         "Invalid value %lld for parameter 'max_results' supplied. It must be between 1 and %d.",
                         (long long)a->limit, HAMF__TRK_MAX_RESULTS);
    if (q->page_token && *q->page_token && (s = hamf__trk_token_decode(q->page_token, &a->offset))) return s;
    if ((s = hamf__search_parse_filter(q->filter, kind, &a->f))) return s;
    if (q->n_order) {
        if (q->n_order > 16) {
            s = hamf__err(HAMF_ERR_CONSTRAINT, "Too many order_by items (at most 16)");
            goto fail;
        }
        a->o = hamf__calloc(q->n_order, sizeof *a->o);
        if (!a->o) {
            s = hamf__err(HAMF_ERR_NOMEM, "tracking: out of memory");
            goto fail;
        }
        for (size_t i = 0; i < q->n_order; i++) {
            if ((s = hamf__search_parse_order(q->order_by[i], kind, &a->o[i]))) goto fail;
            a->no++;
        }
    }
    return HAMF_OK;
fail:
    search_args_free(a);
    return s;
}

/* Run the id query; ids (text) into a list, one extra to know if more follow. */
struct idlist {
    char **v;
    size_t n, cap;
};

static void idlist_free(struct idlist *l)
{
    for (size_t i = 0; i < l->n; i++) hamf__free(l->v[i]);
    hamf__free(l->v);
}

static hamf_status collect_ids(struct hamf__trk *t, const struct hamf__sqlq *q, struct idlist *l)
{
    struct hamf__stmt *st = NULL;
    hamf_status s;
    if ((s = hamf__trk_stmt_sql(t, q->sql.data, &st)) || (s = hamf__db_bind_values(st, q->binds, q->nbinds))) return s;
    bool row;
    while (!(s = hamf__db_step(st, &row)) && row) {
        if (l->n == l->cap) {
            size_t nc = l->cap ? l->cap * 2 : 64;
            char **nv = hamf__realloc(l->v, nc * sizeof *nv);
            if (!nv) {
                s = hamf__err(HAMF_ERR_NOMEM, "tracking: out of memory");
                break;
            }
            l->v = nv;
            l->cap = nc;
        }
        char *id = hamf__strdup(hamf__db_col_text(st, 0));
        if (!id) {
            s = hamf__err(HAMF_ERR_NOMEM, "tracking: out of memory");
            break;
        }
        l->v[l->n++] = id;
    }
    hamf__db_reset(st);
    return s;
}

hamf_status hamf__trk_exp_search(struct hamf__trk *t, const struct hamf__trk_search *q, const struct hamf__trk_sink *k,
                                 int64_t *next_offset)
{
    hamf__trk_reset(t);
    struct search_args a;
    hamf_status s = search_args_parse(q, HAMF__SEARCH_EXPERIMENTS, &a);
    if (s) return s;
    struct hamf__sqlq sq;
    hamf__sqlq_init(&sq);
    struct idlist ids = {0};
    if ((s = hamf__search_experiments_sql(q->view ? q->view : HAMF__VIEW_ACTIVE_ONLY, a.f, a.o, a.no, a.limit + 1,
                                          a.offset, &sq)))
        goto cleanup;
    if ((s = collect_ids(t, &sq, &ids))) goto cleanup;
    bool more = ids.n > (size_t)a.limit;
    size_t n = more ? (size_t)a.limit : ids.n;
    for (size_t i = 0; i < n; i++) {
        int64_t id;
        if (!parse_exp_id(ids.v[i], &id)) continue;
        if ((s = exp_read(t, id, ids.v[i], k))) goto cleanup;
    }
    *next_offset = more ? a.offset + a.limit : -1;
cleanup:
    idlist_free(&ids);
    hamf__sqlq_free(&sq);
    search_args_free(&a);
    return s;
}

/* ---- runs ---- */

static const char *const status_names[] = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"};

/* RunInfo from a row of (run_uuid, name, experiment_id, user_id, status,
 * start_time, end_time, artifact_uri, lifecycle_stage) starting at col0. */
static void read_info(struct hamf__stmt *st, int c0, struct hamf__trk_run_row *r)
{
    r->run_id = hamf__db_col_text(st, c0);
    r->name = hamf__db_col_text(st, c0 + 1);
    r->experiment_id = hamf__db_col_i64(st, c0 + 2);
    r->user_id = hamf__db_col_text(st, c0 + 3);
    r->status = hamf__db_col_text(st, c0 + 4);
    r->start_time = hamf__db_col_i64(st, c0 + 5);
    r->has_end_time = !hamf__db_col_null(st, c0 + 6);
    r->end_time = r->has_end_time ? hamf__db_col_i64(st, c0 + 6) : 0;
    r->artifact_uri = hamf__db_col_text(st, c0 + 7);
    r->lifecycle_stage = hamf__db_col_text(st, c0 + 8);
}

hamf_status hamf__trk_run_info(struct hamf__trk *t, const char *run_id, const struct hamf__trk_sink *k)
{
    hamf__trk_reset(t);
    struct hamf__stmt *st = NULL;
    hamf_status s;
    bool row;
    if ((s = hamf__trk_stmt(t, Q_RUN_INFO, &st)) || (s = hamf__db_bindf(st, "t", run_id)) ||
        (s = hamf__db_step(st, &row)))
        return s;
    if (!row) return run_not_found(run_id);
    struct hamf__trk_run_row info;
    read_info(st, 0, &info);
    struct hamf__trk_row r = {.info = &info};
    s = k->run_row(k->ctx, 0, HAMF__TRK_INFO, &r);
    hamf__db_reset(st);
    return s;
}

/* ---- Run objects, a page at a time ----
 * A page of runs is read with one query per part (info, latest metrics,
 * params, tags, inputs) over `run_uuid IN (...)` rather than five queries
 * per run; the rows come sorted by run_uuid and are dealt to the runs
 * through a sorted index, then each Run is assembled in page order. */

enum { P_INFO = HAMF__TRK_INFO, P_METRICS, P_PARAMS, P_TAGS, P_INPUTS, P_COUNT };

static const char *const part_sql[P_COUNT][2] = {
    [P_INFO] = {"SELECT run_uuid, run_uuid, name, experiment_id, user_id, status, start_time, end_time, artifact_uri, "
                "lifecycle_stage FROM trk_runs WHERE run_uuid IN (",
                ") ORDER BY run_uuid"},
    [P_METRICS] = {"SELECT run_uuid, key, value, is_nan, timestamp, step FROM trk_latest_metrics WHERE run_uuid IN (",
                   ") ORDER BY run_uuid, key"},
    [P_PARAMS] = {"SELECT run_uuid, key, value FROM trk_params WHERE run_uuid IN (", ") ORDER BY run_uuid, key"},
    [P_TAGS] = {"SELECT run_uuid, key, value FROM trk_tags WHERE run_uuid IN (", ") ORDER BY run_uuid, key"},
    [P_INPUTS] = {"SELECT run_uuid, name, digest, source_type, source, schema, profile, tags_json FROM trk_inputs "
                  "WHERE run_uuid IN (",
                  ") ORDER BY run_uuid, name, digest"},
};

struct page_run {
    const char *id;
    size_t i;      /* place in the request */
    bool has_info;
};

static int page_run_cmp(const void *a, const void *b)
{
    return strcmp((*(struct page_run *const *)a)->id, (*(struct page_run *const *)b)->id);
}

/* One row of `part` (columns after run_uuid) to the sink. */
static hamf_status part_row(struct hamf__stmt *st, int part, size_t i, const struct hamf__trk_sink *k)
{
    struct hamf__trk_row r = {0};
    struct hamf__trk_run_row info;
    struct hamf__trk_metric_row m;
    struct hamf__trk_kv kv;
    struct hamf__trk_input_row in;
    switch (part) {
    case P_INFO:
        read_info(st, 1, &info);
        r.info = &info;
        break;
    case P_METRICS:
        m = (struct hamf__trk_metric_row){hamf__db_col_text(st, 1), hamf__db_col_f64(st, 2),
                                          hamf__db_col_i64(st, 3) != 0, hamf__db_col_i64(st, 4),
                                          hamf__db_col_i64(st, 5)};
        r.metric = &m;
        break;
    case P_PARAMS:
    case P_TAGS:
        kv = (struct hamf__trk_kv){hamf__db_col_text(st, 1), hamf__db_col_text(st, 2)};
        r.kv = &kv;
        break;
    default:
        in.name = hamf__db_col_text(st, 1);
        in.digest = hamf__db_col_text(st, 2);
        for (int c = 0; c < 4; c++) in.opt[c] = hamf__db_col_null(st, 3 + c) ? NULL : hamf__db_col_text(st, 3 + c);
        in.tags_json = hamf__db_col_text(st, 7);
        r.input = &in;
        break;
    }
    return k->run_row(k->ctx, i, (enum hamf__trk_part)part, &r);
}

#define PAGE_CHUNK 500

/* The Runs of ids[0..n) to the sink, in chunks of PAGE_CHUNK. A missing
 * run gives HAMF_ERR_NOTFOUND. */
static hamf_status runs_read(struct hamf__trk *t, char *const *ids, size_t n, const struct hamf__trk_sink *k)
{
    hamf_status s = HAMF_OK;
    for (size_t start = 0; start < n && !s; start += PAGE_CHUNK) {
        size_t m = n - start < PAGE_CHUNK ? n - start : PAGE_CHUNK;
        struct page_run *pr = hamf__calloc(m, sizeof *pr);
        struct page_run **sorted = hamf__calloc(m, sizeof *sorted);
        struct hamf__buf sql;
        hamf__buf_init(&sql, 0);
        if (!pr || !sorted) {
            s = hamf__err(HAMF_ERR_NOMEM, "tracking: out of memory");
            goto chunk_done;
        }
        for (size_t i = 0; i < m; i++) {
            pr[i].id = ids[start + i];
            pr[i].i = start + i;
            sorted[i] = &pr[i];
        }
        qsort(sorted, m, sizeof *sorted, page_run_cmp);
        if ((s = k->runs_begin(k->ctx, start, m))) goto chunk_done;
        for (int part = 0; part < P_COUNT && !s; part++) {
            hamf__buf_reset(&sql);
            if ((s = hamf__buf_puts(&sql, part_sql[part][0]))) break;
            for (size_t i = 0; i < m && !s; i++) s = hamf__buf_puts(&sql, i ? ",?" : "?");
            if (s || (s = hamf__buf_puts(&sql, part_sql[part][1]))) break;
            struct hamf__stmt *st;
            if ((s = hamf__trk_stmt_sql(t, sql.data, &st))) break;
            for (size_t i = 0; i < m && !s; i++) s = hamf__db_bind_text(st, (int)i + 1, sorted[i]->id);
            bool row;
            size_t j = 0;
            while (!s && !(s = hamf__db_step(st, &row)) && row) {
                const char *rid = hamf__db_col_text(st, 0);
                int c = 1;
                while (j < m && (c = strcmp(sorted[j]->id, rid)) < 0) j++;
                if (j == m) break;
                if (c) continue;
                if (part == P_INFO) sorted[j]->has_info = true;
                s = part_row(st, part, sorted[j]->i, k);
            }
            hamf__db_reset(st);
        }
        for (size_t i = 0; i < m && !s; i++)
            if (!pr[i].has_info) s = run_not_found(pr[i].id);
        if (!s) s = k->runs_ready(k->ctx, start, m);
    chunk_done:
        hamf__free(pr);
        hamf__free(sorted);
        hamf__buf_free(&sql);
    }
    return s;
}

static hamf_status run_read(struct hamf__trk *t, const char *run_id, const struct hamf__trk_sink *k)
{
    char *ids[1] = {(char *)run_id};
    return runs_read(t, ids, 1, k);
}

hamf_status hamf__trk_run_get(struct hamf__trk *t, const char *run_id, const struct hamf__trk_sink *k)
{
    hamf__trk_reset(t);
    if (!run_id || !*run_id) return hamf__err(HAMF_ERR_CONSTRAINT, "Missing value for required parameter 'run_id'");
    return run_read(t, run_id, k);
}

hamf_status hamf__trk_run_artifact_uri(struct hamf__trk *t, const char *run_id, char **uri)
{
    hamf__trk_reset(t);
    struct hamf__stmt *st = NULL;
    hamf_status s;
    bool row;
    if ((s = hamf__trk_stmt(t, Q_RUN_INFO, &st)) || (s = hamf__db_bindf(st, "t", run_id)) || (s = hamf__db_step(st, &row))) return s;
    if (!row) return run_not_found(run_id);
    char *u = hamf__strdup(hamf__db_col_text(st, 7));
    hamf__db_reset(st);
    if (!u) return hamf__err(HAMF_ERR_NOMEM, "tracking: out of memory");
    *uri = u;
    return HAMF_OK;
}

/* Inside a write: the run exists and is active. */
static hamf_status run_active(struct hamf__trk *t, const char *run_id)
{
    struct hamf__stmt *st = NULL;
    bool row;
    hamf_status s;
    if ((s = hamf__trk_stmt(t, Q_RUN_STAGE, &st)) || (s = hamf__db_bindf(st, "t", run_id)) || (s = hamf__db_step(st, &row))) return s;
    if (!row) return run_not_found(run_id);
    bool active = !strcmp(hamf__db_col_text(st, 0), "active");
    hamf__db_reset(st);
    if (!active)
        return hamf__err(HAMF_ERR_CONSTRAINT, "The run %s must be in the 'active' state. Current state is deleted.",
                         run_id);
    return HAMF_OK;
}

static void random_hex(char out[33])
{
    unsigned char r[16];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
    }
    if (got < sizeof r) { /* no entropy source: time and address still give a unique id */
        uint64_t x = (uint64_t)hamf__now_ms() ^ (uint64_t)(uintptr_t)out ^ (uint64_t)hamf__mono_seconds();
        for (size_t i = got; i < sizeof r; i++) r[i] = (unsigned char)(x >> (8 * (i % 8)));
    }
    for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static void random_name(char out[64])
{
    static const char *const adj[] = {"amber",  "brave",  "calm",   "clever", "crisp",  "dapper", "eager",
                                      "fancy",  "gentle", "glossy", "honest", "jolly",  "keen",   "lucky",
                                      "merry",  "nimble", "polite", "quiet",  "rapid",  "silent", "sunny",
                                      "tidy",   "upbeat", "vivid",  "witty",  "zesty"};
    static const char *const noun[] = {"badger", "bison", "crane", "dolphin", "eagle", "falcon", "gecko",
                                       "heron",  "ibis",  "jay",   "koala",   "lark",  "lynx",   "marten",
                                       "newt",   "otter", "panda", "quail",   "raven", "seal",   "tern",
                                       "urchin", "vole",  "wren",  "yak",     "zebra"};
    unsigned char r[4];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        int64_t x = hamf__now_ms();
        memcpy(r, &x, sizeof r);
    }
    snprintf(out, 64, "%s-%s-%d", adj[r[0] % HAMF_ARRAY_LEN(adj)], noun[r[1] % HAMF_ARRAY_LEN(noun)],
             (r[2] << 8 | r[3]) % 1000);
}

static hamf_status tag_upsert(struct hamf__trk *t, const char *run_id, const char *key, const char *value)
{
    struct hamf__stmt *st = NULL;
    hamf_status s;
    if ((s = hamf__trk_stmt(t, Q_TAG_UPSERT, &st)) || (s = hamf__db_bindf(st, "ttt", run_id, key, value)) || (s = hamf__db_run(st)))
        return s;
    if (!strcmp(key, "mlflow.runName")) {
        if ((s = hamf__trk_stmt(t, Q_RUN_SET_NAME, &st)) || (s = hamf__db_bindf(st, "tt", value, run_id)) ||
            (s = hamf__db_run(st)))
            return s;
    }
    return HAMF_OK;
}

hamf_status hamf__trk_run_create(struct hamf__trk *t, const struct hamf__trk_run_new *r, char run_id[33])
{
    hamf__trk_reset(t);
    const char *exp = r->exp_id && *r->exp_id ? r->exp_id : "0";
    int64_t eid;
    if (!parse_exp_id(exp, &eid)) return exp_not_found(exp);
    const char *name = r->run_name && *r->run_name ? r->run_name : NULL;
    for (size_t i = 0; i < r->ntags; i++) {
        hamf_status s = check_tag(r->tags[i].key, r->tags[i].value);
        if (s) return s;
        if (!name && !strcmp(r->tags[i].key, "mlflow.runName") && *r->tags[i].value) name = r->tags[i].value;
    }
    char gen[64];
    if (!name) {
        random_name(gen);
        name = gen;
    }
    char id[33];
    random_hex(id);
    hamf_status s = hamf__trk_write_begin(t);
    if (s) return s;
    struct hamf__stmt *st = NULL;
    char *uri = NULL;
    bool row;
    if ((s = hamf__trk_stmt(t, Q_EXP_GET, &st)) || (s = hamf__db_bindf(st, "i", eid)) || (s = hamf__db_step(st, &row))) goto done;
    if (!row) {
        s = exp_not_found(exp);
        goto done;
    }
    if (strcmp(hamf__db_col_text(st, 3), "active")) {
        s = hamf__err(HAMF_ERR_CONSTRAINT, "The experiment %s must be in the 'active' state. Current state is deleted.",
                      exp);
        goto done;
    }
    uri = hamf__asprintf("%s/%s/artifacts", hamf__db_col_text(st, 2), id);
    hamf__db_reset(st);
    if (!uri) {
        s = hamf__err(HAMF_ERR_NOMEM, "tracking: out of memory");
        goto done;
    }
    if ((s = hamf__trk_stmt(t, Q_RUN_INSERT, &st)) || (s = hamf__db_bindf(st, "ttitit", id, name, eid, r->user_id ? r->user_id : "", (int64_t)(r->start_time), uri)) || (s = hamf__db_run(st)))
        goto done;
    for (size_t i = 0; i < r->ntags; i++)
        if (strcmp(r->tags[i].key, "mlflow.runName") && (s = tag_upsert(t, id, r->tags[i].key, r->tags[i].value)))
            goto done;
    s = tag_upsert(t, id, "mlflow.runName", name);
done:
    hamf__free(uri);
    if ((s = hamf__trk_write_end(t, s))) return s;
    memcpy(run_id, id, sizeof id);
    return HAMF_OK;
}

static bool valid_status(const char *s)
{
    for (size_t i = 0; i < HAMF_ARRAY_LEN(status_names); i++)
        if (!strcmp(s, status_names[i])) return true;
    return false;
}

hamf_status hamf__trk_run_update(struct hamf__trk *t, const char *run_id, const char *status, bool has_end_time,
                                 int64_t end_time, const char *run_name)
{
    hamf__trk_reset(t);
    if (status && !valid_status(status))
        return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid value '%s' for parameter 'status'", status);
    hamf_status s = hamf__trk_write_begin(t);
    if (s) return s;
    struct hamf__stmt *st = NULL;
    if ((s = run_active(t, run_id))) goto done;
    if (status && ((s = hamf__trk_stmt(t, Q_RUN_SET_STATUS, &st)) || (s = hamf__db_bindf(st, "tt", status, run_id)) || (s = hamf__db_run(st))))
        goto done;
    if (has_end_time && ((s = hamf__trk_stmt(t, Q_RUN_SET_END, &st)) || (s = hamf__db_bindf(st, "it", end_time, run_id)) || (s = hamf__db_run(st))))
        goto done;
    if (run_name && *run_name) s = tag_upsert(t, run_id, "mlflow.runName", run_name);
done:
    return hamf__trk_write_end(t, s);
}

hamf_status hamf__trk_run_set_deleted(struct hamf__trk *t, const char *run_id, bool deleted)
{
    hamf__trk_reset(t);
    hamf_status s = hamf__trk_write_begin(t);
    if (s) return s;
    struct hamf__stmt *st = NULL;
    bool row;
    if ((s = hamf__trk_stmt(t, Q_RUN_STAGE, &st)) || (s = hamf__db_bindf(st, "t", run_id)) || (s = hamf__db_step(st, &row))) goto done;
    if (!row) {
        s = run_not_found(run_id);
        goto done;
    }
    hamf__db_reset(st);
    if ((s = hamf__trk_stmt(t, Q_RUN_SET_STAGE, &st)) || (s = hamf__db_bindf(st, "t", deleted ? "deleted" : "active"))) goto done;
    s = deleted ? hamf__db_bind_i64(st, 2, hamf__now_ms()) : hamf__db_bind_null(st, 2);
    if (s || (s = hamf__db_bind_text(st, 3, run_id)) || (s = hamf__db_run(st))) goto done;
done:
    return hamf__trk_write_end(t, s);
}

static hamf_status check_key(const char *what, const char *key)
{
    if (!key || !*key) return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid %s name: ''. Names must be non-empty", what);
    size_t n = strlen(key);
    if (n > HAMF__TRK_MAX_KEY)
        return hamf__err(HAMF_ERR_CONSTRAINT, "%s name '%.40s...' had length %zu, which exceeded length limit of %d",
                         what, key, n, HAMF__TRK_MAX_KEY);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (!(c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              c == '-' || c == '.' || c == ' ' || c == '/'))
            return hamf__err(HAMF_ERR_CONSTRAINT,
                             "Invalid %s name: '%s'. Names may only contain alphanumerics, underscores (_), dashes (-), "
                             "periods (.), spaces ( ), and slashes (/).",
                             what, key);
    }
    if (key[0] == '/') return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid %s name: '%s'. Names may not start with '/'", what, key);
    return HAMF_OK;
}

hamf_status hamf__trk_log_batch(struct hamf__trk *t, const char *run_id, const struct hamf__trk_metric *m, size_t nm,
                                const struct hamf__trk_kv *p, size_t np, const struct hamf__trk_kv *tags, size_t ntags)
{
    hamf__trk_reset(t);
    hamf_status s;
    if (nm > HAMF__TRK_MAX_BATCH_METRICS || np > HAMF__TRK_MAX_BATCH_PARAMS || ntags > HAMF__TRK_MAX_BATCH_TAGS ||
        nm + np + ntags > HAMF__TRK_MAX_BATCH_TOTAL)
        return hamf__err(HAMF_ERR_CONSTRAINT,
                         "A batch logging request can contain at most %d metrics, %d params and %d tags, and at most %d "
                         "items in total; got %zu metrics, %zu params and %zu tags",
                         HAMF__TRK_MAX_BATCH_METRICS, HAMF__TRK_MAX_BATCH_PARAMS, HAMF__TRK_MAX_BATCH_TAGS,
                         HAMF__TRK_MAX_BATCH_TOTAL, nm, np, ntags);
    for (size_t i = 0; i < nm; i++)
        if ((s = check_key("metric", m[i].key))) return s;
    for (size_t i = 0; i < np; i++) {
        if ((s = check_key("param", p[i].key))) return s;
        if (!p[i].value) return hamf__err(HAMF_ERR_CONSTRAINT, "Missing value for param '%s'", p[i].key);
        if (strlen(p[i].value) > HAMF__TRK_MAX_PARAM_VALUE)
            return hamf__err(HAMF_ERR_CONSTRAINT,
                             "Param value for '%s' had length %zu, which exceeded length limit of %d", p[i].key,
                             strlen(p[i].value), HAMF__TRK_MAX_PARAM_VALUE);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(p[i].key, p[j].key) && strcmp(p[i].value, p[j].value))
                return hamf__err(HAMF_ERR_CONSTRAINT,
                                 "Duplicate parameter keys have been submitted: '%s' with different values", p[i].key);
    }
    for (size_t i = 0; i < ntags; i++) {
        if ((s = check_key("tag", tags[i].key)) || (s = check_tag(tags[i].key, tags[i].value))) return s;
    }
    if ((s = hamf__trk_write_begin(t))) return s;
    struct hamf__stmt *st = NULL;
    bool row;
    if ((s = run_active(t, run_id))) goto done;
    for (size_t i = 0; i < np; i++) {
        if ((s = hamf__trk_stmt(t, Q_PARAM_GET, &st)) || (s = hamf__db_bindf(st, "tt", run_id, p[i].key)) ||
            (s = hamf__db_step(st, &row)))
            goto done;
        if (row) {
            bool same = !strcmp(hamf__db_col_text(st, 0), p[i].value);
            if (!same) {
                s = hamf__err(HAMF_ERR_CONSTRAINT,
                              "Changing param values is not allowed. Param with key='%s' was already logged with "
                              "value='%s' for run ID='%s'. Attempted logging new value '%s'.",
                              p[i].key, hamf__db_col_text(st, 0), run_id, p[i].value);
                hamf__db_reset(st);
                goto done;
            }
            hamf__db_reset(st);
            continue;
        }
        if ((s = hamf__trk_stmt(t, Q_PARAM_INSERT, &st)) || (s = hamf__db_bindf(st, "ttt", run_id, p[i].key, p[i].value)) || (s = hamf__db_run(st))) {
            if (s == HAMF_ERR_EXISTS) s = HAMF_OK; /* the same key twice in this batch, same value */
            else goto done;
        }
    }
    for (size_t i = 0; i < ntags; i++)
        if ((s = tag_upsert(t, run_id, tags[i].key, tags[i].value))) goto done;
    for (size_t i = 0; i < nm; i++) {
        bool nan = isnan(m[i].value);
        double v = nan ? 0.0 : m[i].value;
        for (int q = Q_METRIC_INSERT; q <= Q_LATEST_UPSERT; q++) {
            if ((s = hamf__trk_stmt(t, q, &st)) || (s = hamf__db_bindf(st, "ttii", run_id, m[i].key, (int64_t)(m[i].step), (int64_t)(m[i].timestamp))) ||
                (s = hamf__db_bind_f64(st, 5, v)) || (s = hamf__db_bind_i64(st, 6, nan)) || (s = hamf__db_run(st)))
                goto done;
        }
    }
done:
    return hamf__trk_write_end(t, s);
}

hamf_status hamf__trk_delete_tag(struct hamf__trk *t, const char *run_id, const char *key)
{
    hamf__trk_reset(t);
    if (!key || !*key) return hamf__err(HAMF_ERR_CONSTRAINT, "Missing value for required parameter 'key'");
    hamf_status s = hamf__trk_write_begin(t);
    if (s) return s;
    struct hamf__stmt *st = NULL;
    bool row;
    if ((s = run_active(t, run_id))) goto done;
    if ((s = hamf__trk_stmt(t, Q_RUN_TAGS, &st)) || (s = hamf__db_bindf(st, "t", run_id))) goto done;
    bool found = false;
    while (!(s = hamf__db_step(st, &row)) && row)
        if (!strcmp(hamf__db_col_text(st, 0), key)) found = true;
    if (s) goto done;
    if (!found) {
        s = hamf__err(HAMF_ERR_NOTFOUND, "No tag with name: %s in run with id %s", key, run_id);
        goto done;
    }
    if ((s = hamf__trk_stmt(t, Q_TAG_DELETE, &st)) || (s = hamf__db_bindf(st, "tt", run_id, key)) || (s = hamf__db_run(st)))
        goto done;
done:
    return hamf__trk_write_end(t, s);
}

hamf_status hamf__trk_log_inputs(struct hamf__trk *t, const char *run_id, const struct hamf__trk_input *in, size_t n)
{
    hamf__trk_reset(t);
    for (size_t i = 0; i < n; i++) {
        if (!in[i].name || !*in[i].name || !in[i].digest || !*in[i].digest)
            return hamf__err(HAMF_ERR_CONSTRAINT, "Dataset name and digest are required");
        if (!in[i].source_type || !in[i].source)
            return hamf__err(HAMF_ERR_CONSTRAINT, "Dataset source_type and source are required");
        for (size_t k = 0; k < in[i].ntags; k++) {
            hamf_status s = check_tag(in[i].tags[k].key, in[i].tags[k].value);
            if (s) return s;
        }
    }
    hamf_status s = hamf__trk_write_begin(t);
    if (s) return s;
    struct hamf__stmt *st = NULL;
    struct hamf__buf tags;
    hamf__buf_init(&tags, 0);
    if ((s = run_active(t, run_id))) goto done;
    for (size_t i = 0; i < n; i++) {
        hamf__buf_reset(&tags);
        const char *context = NULL;
        if ((s = hamf__buf_putc(&tags, '['))) goto done;
        for (size_t k = 0; k < in[i].ntags; k++) {
            if (k && (s = hamf__buf_putc(&tags, ','))) goto done;
            if ((s = hamf__json_kv(&tags, in[i].tags[k].key, in[i].tags[k].value))) goto done;
            if (!strcmp(in[i].tags[k].key, "mlflow.data.context")) context = in[i].tags[k].value;
        }
        if ((s = hamf__buf_putc(&tags, ']'))) goto done;
        if ((s = hamf__trk_stmt(t, Q_INPUT_INSERT, &st)) || (s = hamf__db_bindf(st, "ttttttttt", run_id, in[i].name, in[i].digest, in[i].source_type, in[i].source, in[i].schema, in[i].profile, context, tags.data)) ||
            (s = hamf__db_run(st)))
            goto done;
    }
done:
    hamf__buf_free(&tags);
    return hamf__trk_write_end(t, s);
}

hamf_status hamf__trk_run_search(struct hamf__trk *t, const struct hamf__trk_search *q, const struct hamf__trk_sink *k,
                                 int64_t *next_offset)
{
    hamf__trk_reset(t);
    struct search_args a;
    hamf_status s = search_args_parse(q, HAMF__SEARCH_RUNS, &a);
    if (s) return s;
    struct hamf__sqlq sq;
    hamf__sqlq_init(&sq);
    struct idlist ids = {0};
    if ((s = hamf__search_runs_sql(q->exp_ids, q->nexp, q->view ? q->view : HAMF__VIEW_ACTIVE_ONLY, a.f, a.o, a.no,
                                   a.limit + 1, a.offset, &sq)))
        goto cleanup;
    if ((s = collect_ids(t, &sq, &ids))) goto cleanup;
    bool more = ids.n > (size_t)a.limit;
    size_t n = more ? (size_t)a.limit : ids.n;
    if (n && (s = runs_read(t, ids.v, n, k))) goto cleanup;
    *next_offset = more ? a.offset + a.limit : -1;
cleanup:
    idlist_free(&ids);
    hamf__sqlq_free(&sq);
    search_args_free(&a);
    return s;
}

hamf_status hamf__trk_metric_history(struct hamf__trk *t, const char *run_id, const char *key, int64_t max_results,
                                     const char *page_token, const struct hamf__trk_sink *k, int64_t *next_offset)
{
    hamf__trk_reset(t);
    int64_t offset = 0;
    hamf_status s;
    if (page_token && *page_token && (s = hamf__trk_token_decode(page_token, &offset))) return s;
    int64_t limit = max_results > 0 ? max_results : INT64_MAX / 4;
    struct hamf__stmt *st = NULL;
    if ((s = hamf__trk_stmt(t, Q_HISTORY, &st)) || (s = hamf__db_bindf(st, "ttii", run_id, key, (int64_t)(limit == INT64_MAX / 4 ? limit : limit + 1), offset)))
        return s;
    bool row;
    int64_t n = 0;
    bool more = false;
    while (!(s = hamf__db_step(st, &row)) && row) {
        if (n == limit) {
            more = true;
            break;
        }
        struct hamf__trk_metric_row m = {hamf__db_col_text(st, 0), hamf__db_col_f64(st, 1),
                                         hamf__db_col_i64(st, 2) != 0, hamf__db_col_i64(st, 3),
                                         hamf__db_col_i64(st, 4)};
        if ((s = k->metric(k->ctx, &m))) break;
        n++;
    }
    hamf__db_reset(st);
    if (s) return s;
    *next_offset = more ? offset + limit : -1;
    return HAMF_OK;
}

