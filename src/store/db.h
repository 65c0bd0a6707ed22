/*
 * db.h — the one SQL interface under every store: a connection, prepared
 * statements with '?' placeholders, typed binds and column reads, and
 * transactions. sqlite.c and pg.c each fill it (pg.c rewrites '?' to $n and
 * uses PQprepare/PQexecPrepared). The registry (store.c) and the tracking
 * store (tracking.c) are written once, in SQL both backends accept, on top
 * of it; only DDL differs per backend (see the migration lists).
 *
 * Every statement is prepared and bound: no value is ever pasted into SQL.
 * Errors are mapped to hamf_status: unique violation -> HAMF_ERR_EXISTS,
 * foreign key / check / not null -> HAMF_ERR_CONSTRAINT, lock wait past the
 * bound -> HAMF_ERR_BUSY, connection failure -> HAMF_ERR_CONNECT, damaged
 * file -> HAMF_ERR_CORRUPT; the backend's message (and SQLSTATE for
 * PostgreSQL) is kept in hamf_last_error().
 */
#ifndef HAMF_STORE_DB_H
#define HAMF_STORE_DB_H

#include "util/util.h"

#include <stdarg.h>

enum hamf__db_backend { HAMF__DB_SQLITE = 1, HAMF__DB_PG = 2 };

struct hamf__db;   /* one connection; not shared between threads */
struct hamf__stmt; /* one prepared statement of a connection */

/* url: a path, sqlite:///abs/path, postgresql://... or postgres://...
 * A malformed URL is HAMF_ERR_PARSE naming it. */
hamf_status hamf__db_open(const char *url, struct hamf__db **out);

/* Bounds on waiting; 0 picks the default. busy_timeout_ms: how long a
 * SQLite writer (and a PostgreSQL lock wait) waits for a lock before
 * HAMF_ERR_BUSY (default 5000, or $HAMF_BUSY_TIMEOUT_MS). connect_timeout_s:
 * how long connecting to PostgreSQL may take (default 5; a connect_timeout
 * in the URL wins). */
struct hamf__db_limits {
    int busy_timeout_ms;
    int connect_timeout_s;
};
hamf_status hamf__db_open_limits(const char *url, const struct hamf__db_limits *lim,
                                 struct hamf__db **out);
void hamf__db_close(struct hamf__db *db);
enum hamf__db_backend hamf__db_backend(const struct hamf__db *db);
/* What to call the store in messages: the SQLite path, or the PostgreSQL
 * URL with any password replaced by "***". Owned by db. */
const char *hamf__db_name(const struct hamf__db *db);
bool hamf__db_in_tx(const struct hamf__db *db);

/* Run SQL without parameters or results (DDL, PRAGMA); may hold several
 * statements separated by ';'. */
hamf_status hamf__db_exec(struct hamf__db *db, const char *sql);

/* A write transaction (SQLite: BEGIN IMMEDIATE, waiting a bounded time for
 * the lock). Nested begin is a misuse. */
hamf_status hamf__db_begin(struct hamf__db *db);
hamf_status hamf__db_commit(struct hamf__db *db);
void hamf__db_rollback(struct hamf__db *db); /* no-op when no transaction */

hamf_status hamf__db_prepare(struct hamf__db *db, const char *sql, struct hamf__stmt **out);
/* Parameters are numbered from 1. Text is copied. */
hamf_status hamf__db_bind_i64(struct hamf__stmt *st, int idx, int64_t v);
hamf_status hamf__db_bind_f64(struct hamf__stmt *st, int idx, double v);
hamf_status hamf__db_bind_text(struct hamf__stmt *st, int idx, const char *s); /* NULL binds NULL */
hamf_status hamf__db_bind_null(struct hamf__stmt *st, int idx);
/* Execute or advance. *row is true while a result row is available. */
hamf_status hamf__db_step(struct hamf__stmt *st, bool *row);
/* Columns are numbered from 0; valid until the next step/reset/finalize. */
bool hamf__db_col_null(struct hamf__stmt *st, int col);
int64_t hamf__db_col_i64(struct hamf__stmt *st, int col);
double hamf__db_col_f64(struct hamf__stmt *st, int col);
const char *hamf__db_col_text(struct hamf__stmt *st, int col); /* "" for NULL */
/* Clear results and bindings so the statement can run again. */
void hamf__db_reset(struct hamf__stmt *st);
void hamf__db_finalize(struct hamf__stmt *st);

/* ---- The one bind/query helper set every store file uses ----
 *
 * Binds by a type string, one letter a parameter from 1: 't' text (NULL
 * binds NULL), 'i' int64_t, 'd' double (NaN binds NULL), 'n' NULL (takes
 * no argument). */
hamf_status hamf__db_bindf(struct hamf__stmt *st, const char *types, ...);
hamf_status hamf__db_vbindf(struct hamf__stmt *st, const char *types, va_list ap);
/* A bound value, for statements whose parameters are built at run time
 * (search filters). */
enum hamf__db_type { HAMF__DB_T_TEXT = 1, HAMF__DB_T_F64, HAMF__DB_T_I64 };
struct hamf__db_value {
    enum hamf__db_type type;
    const char *s; /* borrowed */
    double f;
    int64_t i;
};
hamf_status hamf__db_bind_values(struct hamf__stmt *st, const struct hamf__db_value *v, size_t n);
/* Prepare `sql` and bind (types as above); *out is the caller's to finalize. */
hamf_status hamf__db_prepf(struct hamf__db *db, struct hamf__stmt **out, const char *sql, const char *types, ...);
/* Prepare, bind, step once and finalize: a write. */
hamf_status hamf__db_execf(struct hamf__db *db, const char *sql, const char *types, ...);
/* An INSERT ... RETURNING <id column>: prepare, bind, step, read the new id. */
hamf_status hamf__db_insert_id(struct hamf__db *db, int64_t *id, const char *sql, const char *types, ...);
/* Step a prepared write (no row expected). */
hamf_status hamf__db_run(struct hamf__stmt *st);
/* One int64 from the first row; *found false when no row or NULL. */
hamf_status hamf__db_query_i64(struct hamf__db *db, bool *found, int64_t *v, const char *sql, const char *types,
                               ...);

/* ---- Audit rows ---- */
/* Append one audit_log row; call inside the transaction of the change.
 * op: "INSERT", "UPDATE" or "DELETE"; old_json/new_json may be NULL. */
hamf_status hamf__store_audit(struct hamf__db *db, const char *table, const char *op,
                              const char *old_json, const char *new_json);

/* Now as ISO-8601 UTC with milliseconds: "2026-01-31T12:00:00.000Z". */
void hamf__store_now(char out[32]);

/* A flat JSON object built key by key (for audit rows and CLI output).
 * Errors are sticky: check once at finish. Strings may be NULL (JSON null);
 * has == false writes null. After finish, j->buf.data is the text. */
struct hamf__jobj {
    struct hamf__buf buf;
    hamf_status st;
    bool first;
};
void hamf__jobj_init(struct hamf__jobj *j);
void hamf__jobj_str(struct hamf__jobj *j, const char *key, const char *v);
void hamf__jobj_i64(struct hamf__jobj *j, const char *key, int64_t v);
void hamf__jobj_num(struct hamf__jobj *j, const char *key, bool has, double v);
hamf_status hamf__jobj_finish(struct hamf__jobj *j);
void hamf__jobj_free(struct hamf__jobj *j);
/* Append the audit row of one change from its row objects (finished here,
 * then freed; either may be NULL for SQL NULL). */
hamf_status hamf__db_audit(struct hamf__db *db, const char *table, const char *op, struct hamf__jobj *old,
                           struct hamf__jobj *nw);

/* ---- The audited write (insert -> audit -> commit) ----
 *
 * hamf__db_tx runs fn(db, arg) in one write transaction: begin, fn, commit,
 * and rollback when fn fails. Inside a transaction the caller already
 * opened (several changes that belong together), fn joins it and the
 * caller commits. */
typedef hamf_status (*hamf__db_tx_fn)(struct hamf__db *db, void *arg);
hamf_status hamf__db_tx(struct hamf__db *db, hamf__db_tx_fn fn, void *arg);
/* Begin unless a transaction is open; *own tells hamf__db_tx_end whether
 * to commit (the explicit form of hamf__db_tx for functions with early
 * outs). */
hamf_status hamf__db_tx_begin(struct hamf__db *db, bool *own);
/* s == HAMF_OK: commit if own; else roll back if own. Returns the result. */
hamf_status hamf__db_tx_end(struct hamf__db *db, bool own, hamf_status s);

#endif
