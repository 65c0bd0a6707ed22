/*
 * db_impl.h — what db.c shares with the two backends: the function table
 * each backend fills, and the common head of every connection and
 * statement. Only db.c, sqlite.c and pg.c include it; everyone else sees
 * the opaque types of db.h.
 */
#ifndef HAMF_STORE_DB_IMPL_H
#define HAMF_STORE_DB_IMPL_H

#include "store/db.h"

struct hamf__db_ops {
    void (*close)(struct hamf__db *db);
    hamf_status (*exec)(struct hamf__db *db, const char *sql);
    hamf_status (*prepare)(struct hamf__db *db, const char *sql, struct hamf__stmt **out);
    hamf_status (*bind_i64)(struct hamf__stmt *st, int idx, int64_t v);
    hamf_status (*bind_f64)(struct hamf__stmt *st, int idx, double v);
    hamf_status (*bind_text)(struct hamf__stmt *st, int idx, const char *s);
    hamf_status (*step)(struct hamf__stmt *st, bool *row);
    bool (*col_null)(struct hamf__stmt *st, int col);
    int64_t (*col_i64)(struct hamf__stmt *st, int col);
    double (*col_f64)(struct hamf__stmt *st, int col);
    const char *(*col_text)(struct hamf__stmt *st, int col);
    void (*reset)(struct hamf__stmt *st);
    void (*finalize)(struct hamf__stmt *st);
};

/* First member of every backend connection. */
struct hamf__db {
    const struct hamf__db_ops *ops;
    enum hamf__db_backend backend;
    bool in_tx;
    char *name; /* for messages; owned */
};

/* First member of every backend statement. */
struct hamf__stmt {
    struct hamf__db *db;
};

/* Backend constructors: `target` is the SQLite path, or the PostgreSQL URL
 * as given. Limits are already resolved (no zeros). */
hamf_status hamf__sqlite_open(const char *path, const struct hamf__db_limits *lim,
                              struct hamf__db **out);
hamf_status hamf__pg_open(const char *url, const struct hamf__db_limits *lim,
                          struct hamf__db **out);
/* The SQLite connection under db, NULL for another backend (maint.c). */
struct sqlite3;
struct sqlite3 *hamf__sqlite_handle(struct hamf__db *db);

#endif
