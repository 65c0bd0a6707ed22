/*
 * search.h — MLflow's search syntax for runs/search and experiments/search:
 * the `filter` string (comparisons on metrics./params./tags./attributes./
 * datasets. joined with AND) and `order_by` items ("metrics.acc DESC"),
 * parsed into clauses and then translated to one SQL query whose values are
 * all bound parameters (never pasted into the text). The SQL is written for
 * the tracking tables of tracking.c and is accepted by SQLite and
 * PostgreSQL alike.
 *
 * Ownership: a parsed filter or order [owned: free with
 * hamf__search_filter_free / hamf__search_order_free]. A struct hamf__sqlq
 * owns its SQL text and bind array, but bound strings are borrowed from the
 * filter/order/ids it was built from, which must outlive it.
 */
#ifndef HAMF_STORE_SEARCH_H
#define HAMF_STORE_SEARCH_H

#include "store/db.h"
#include "util/util.h"

enum hamf__search_kind { HAMF__SEARCH_RUNS = 1, HAMF__SEARCH_EXPERIMENTS = 2 };

enum hamf__search_entity {
    HAMF__SE_METRIC = 1,
    HAMF__SE_PARAM,
    HAMF__SE_TAG,
    HAMF__SE_ATTR,
    HAMF__SE_DATASET
};

enum hamf__search_op {
    HAMF__SO_EQ = 1,
    HAMF__SO_NE,
    HAMF__SO_GT,
    HAMF__SO_GE,
    HAMF__SO_LT,
    HAMF__SO_LE,
    HAMF__SO_LIKE,
    HAMF__SO_ILIKE,
    HAMF__SO_IN,
    HAMF__SO_NOT_IN
};

struct hamf__search_clause {
    enum hamf__search_entity entity;
    char *key;          /* metric/param/tag key, or canonical attribute name */
    enum hamf__search_op op;
    bool is_num;        /* value is a number (metrics, numeric attributes) */
    double num;
    char **strs;        /* one string, or the IN list */
    size_t nstrs;
};

struct hamf__search_filter {
    struct hamf__search_clause *c;
    size_t n;
};

struct hamf__search_order {
    enum hamf__search_entity entity;
    char *key; /* canonical attribute name for HAMF__SE_ATTR */
    bool asc;
};

/* Parse `text` (NULL or blank = no clauses). Bad syntax, OR, unknown
 * entities or attributes give HAMF_ERR_PARSE with a message naming the
 * problem and position. */
hamf_status hamf__search_parse_filter(const char *text, enum hamf__search_kind kind,
                                      struct hamf__search_filter **out);
void hamf__search_filter_free(struct hamf__search_filter *f);

/* Parse one order_by item into *out (key owned by *out). */
hamf_status hamf__search_parse_order(const char *text, enum hamf__search_kind kind,
                                     struct hamf__search_order *out);
void hamf__search_order_free(struct hamf__search_order *o);

/* SQL text and its parameters (bound with hamf__db_bind_values). */
struct hamf__sqlq {
    struct hamf__buf sql;
    struct hamf__db_value *binds;
    size_t nbinds, capbinds;
};

void hamf__sqlq_init(struct hamf__sqlq *q);
void hamf__sqlq_free(struct hamf__sqlq *q);

/* View types, as MLflow's enum numbers. */
enum { HAMF__VIEW_ACTIVE_ONLY = 1, HAMF__VIEW_DELETED_ONLY = 2, HAMF__VIEW_ALL = 3 };

/* SELECT r.run_uuid ... for runs/search: experiment ids (decimal strings),
 * the view type, the filter (may be NULL), order items, then LIMIT ? OFFSET ?. */
hamf_status hamf__search_runs_sql(const char *const *exp_ids, size_t nexp, int view,
                                  const struct hamf__search_filter *f,
                                  const struct hamf__search_order *orders, size_t norders,
                                  int64_t limit, int64_t offset, struct hamf__sqlq *q);

/* SELECT e.experiment_id ... for experiments/search. */
hamf_status hamf__search_experiments_sql(int view, const struct hamf__search_filter *f,
                                         const struct hamf__search_order *orders, size_t norders,
                                         int64_t limit, int64_t offset, struct hamf__sqlq *q);

#endif
