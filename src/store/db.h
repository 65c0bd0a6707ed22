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

#endif
