/*
 * sqlite.c — the SQLite backend of db.h. A connection is one database file
 * opened read-write (created if missing) in WAL mode, with foreign keys on,
 * synchronous=FULL (a returned COMMIT is on disk, even across power loss),
 * extended result codes, and a busy timeout so a writer waits a bounded time
 * for the lock and then fails with HAMF_ERR_BUSY ("database is locked").
 * A file that is not a database, or is damaged, gives HAMF_ERR_CORRUPT
 * naming the file; so does an existing file of 0 bytes (a truncated store
 * is not silently made a new empty one: only a path that did not exist, or
 * one this process created, starts a store) and a file that is not a whole
 * number of pages (cut short).
 */
#include "store/db_impl.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* The transaction statements run once or twice per write: prepared on
 * first use and kept, instead of parsed by sqlite3_exec every time. */
static const char *const TX_SQL[] = {"BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"};
#define TX_N (sizeof TX_SQL / sizeof TX_SQL[0])

struct sq_db {
    struct hamf__db base;
    sqlite3 *h;
    int busy_ms;
    sqlite3_stmt *tx[TX_N];
};

struct sq_stmt {
    struct hamf__stmt base;
    sqlite3_stmt *h;
};

static hamf_status map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) return HAMF_ERR_EXISTS;
        return HAMF_ERR_CONSTRAINT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return HAMF_ERR_BUSY;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return HAMF_ERR_CORRUPT;
    case SQLITE_NOMEM: return HAMF_ERR_NOMEM;
    case SQLITE_FULL: return HAMF_ERR_FULL;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: return HAMF_ERR_IO;
    case SQLITE_MISUSE:
    case SQLITE_RANGE: return HAMF_ERR_MISUSE;
    default: return HAMF_ERR_INTERNAL;
    }
}

static hamf_status fail(struct sq_db *d, int rc)
{
    hamf_status s = map_rc(rc);
    const char *msg = d->h ? sqlite3_errmsg(d->h) : sqlite3_errstr(rc);
    if (s == HAMF_ERR_BUSY)
        return hamf__err(s, "store: %s: database is locked (another writer held it past %d ms; "
                            "HAMF_BUSY_TIMEOUT_MS sets the wait)",
                         d->base.name, d->busy_ms);
    if (s == HAMF_ERR_CORRUPT)
        return hamf__err(s, "store: %s: not a hamf database or damaged: %s", d->base.name, msg);
    return hamf__err(s, "store: %s: %s", d->base.name, msg);
}

static void sq_close(struct hamf__db *db)
{
    struct sq_db *d = (struct sq_db *)db;
    for (size_t i = 0; i < TX_N; i++) sqlite3_finalize(d->tx[i]);
    sqlite3_close_v2(d->h);
    hamf__free(d->base.name);
    hamf__free(d);
}

static hamf_status tx_exec(struct sq_db *d, size_t i)
{
    if (!d->tx[i] && sqlite3_prepare_v3(d->h, TX_SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &d->tx[i], NULL) != SQLITE_OK)
        return fail(d, sqlite3_extended_errcode(d->h));
    hamf_status s = sqlite3_step(d->tx[i]) == SQLITE_DONE ? HAMF_OK : fail(d, sqlite3_extended_errcode(d->h));
    sqlite3_reset(d->tx[i]);
    return s;
}

static hamf_status sq_exec(struct hamf__db *db, const char *sql)
{
    struct sq_db *d = (struct sq_db *)db;
    for (size_t i = 0; i < TX_N; i++)
        if (!strcmp(sql, TX_SQL[i])) return tx_exec(d, i);
    int rc = sqlite3_exec(d->h, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? HAMF_OK : fail(d, sqlite3_extended_errcode(d->h));
}

static hamf_status sq_prepare(struct hamf__db *db, const char *sql, struct hamf__stmt **out)
{
    struct sq_db *d = (struct sq_db *)db;
    struct sq_stmt *st = hamf__calloc(1, sizeof *st);
    if (!st) return hamf__err(HAMF_ERR_NOMEM, "store: out of memory preparing a statement");
    int rc = sqlite3_prepare_v2(d->h, sql, -1, &st->h, NULL);
    if (rc != SQLITE_OK) {
        hamf_status s = fail(d, sqlite3_extended_errcode(d->h));
        sqlite3_finalize(st->h);
        hamf__free(st);
        return s;
    }
    st->base.db = db;
    *out = &st->base;
    return HAMF_OK;
}

static hamf_status bind_rc(struct hamf__stmt *st, int rc)
{
    return rc == SQLITE_OK ? HAMF_OK : fail((struct sq_db *)st->db, rc);
}

static hamf_status sq_bind_i64(struct hamf__stmt *st, int idx, int64_t v)
{
    return bind_rc(st, sqlite3_bind_int64(((struct sq_stmt *)st)->h, idx, v));
}

static hamf_status sq_bind_f64(struct hamf__stmt *st, int idx, double v)
{
    return bind_rc(st, sqlite3_bind_double(((struct sq_stmt *)st)->h, idx, v));
}

static hamf_status sq_bind_text(struct hamf__stmt *st, int idx, const char *s)
{
    sqlite3_stmt *h = ((struct sq_stmt *)st)->h;
    return bind_rc(st, s ? sqlite3_bind_text(h, idx, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(h, idx));
}

static hamf_status sq_step(struct hamf__stmt *st, bool *row)
{
    struct sq_stmt *s = (struct sq_stmt *)st;
    int rc = sqlite3_step(s->h);
    if (rc == SQLITE_ROW) {
        *row = true;
        return HAMF_OK;
    }
    if (rc == SQLITE_DONE) {
        *row = false;
        return HAMF_OK;
    }
    struct sq_db *d = (struct sq_db *)st->db;
    return fail(d, sqlite3_extended_errcode(d->h));
}

static bool sq_col_null(struct hamf__stmt *st, int col)
{
    return sqlite3_column_type(((struct sq_stmt *)st)->h, col) == SQLITE_NULL;
}

static int64_t sq_col_i64(struct hamf__stmt *st, int col)
{
    return sqlite3_column_int64(((struct sq_stmt *)st)->h, col);
}

static double sq_col_f64(struct hamf__stmt *st, int col)
{
    return sqlite3_column_double(((struct sq_stmt *)st)->h, col);
}

static const char *sq_col_text(struct hamf__stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(((struct sq_stmt *)st)->h, col);
    return t ? (const char *)t : "";
}

static void sq_reset(struct hamf__stmt *st)
{
    sqlite3_stmt *h = ((struct sq_stmt *)st)->h;
    sqlite3_reset(h);
    sqlite3_clear_bindings(h);
}

static void sq_finalize(struct hamf__stmt *st)
{
    sqlite3_finalize(((struct sq_stmt *)st)->h);
    hamf__free(st);
}

static const struct hamf__db_ops sq_ops = {
    sq_close, sq_exec, sq_prepare, sq_bind_i64, sq_bind_f64, sq_bind_text, sq_step,
    sq_col_null, sq_col_i64, sq_col_f64, sq_col_text, sq_reset, sq_finalize,
};

/* Paths this process created (stat said ENOENT before it opened them): a
 * 0-byte file there is a store being started, not a truncated one. */
static pthread_mutex_t g_created_mu = PTHREAD_MUTEX_INITIALIZER;
static char *g_created[16];
static size_t g_ncreated;

static bool created_here(const char *path, bool add)
{
    bool found = false;
    pthread_mutex_lock(&g_created_mu);
    for (size_t i = 0; i < g_ncreated && !found; i++) found = !strcmp(g_created[i], path);
    if (!found && add) {
        char *c = hamf__strdup(path);
        if (c) {
            if (g_ncreated == HAMF_ARRAY_LEN(g_created)) {
                hamf__free(g_created[0]);
                memmove(g_created, g_created + 1, (g_ncreated - 1) * sizeof *g_created);
                g_ncreated--;
            }
            g_created[g_ncreated++] = c;
        }
    }
    pthread_mutex_unlock(&g_created_mu);
    return found;
}

/* Refuse an existing file that cannot be a store: 0 bytes (unless another
 * opener is just creating it: it gets its header within moments). Only
 * stat(2): opening and closing the file here would drop every POSIX lock
 * SQLite holds on it in this process (close releases them all), which
 * breaks the other connections' locking (disk I/O errors). */
static hamf_status check_file(const char *path)
{
    if (!strcmp(path, ":memory:") || !*path) return HAMF_OK;
    struct stat sb;
    if (stat(path, &sb)) {
        if (errno == ENOENT) (void)created_here(path, true);
        return HAMF_OK; /* sqlite3_open_v2 reports anything else */
    }
    if (!S_ISREG(sb.st_mode)) return HAMF_OK;
    if (sb.st_size == 0 && !created_here(path, false)) {
        for (int i = 0; i < 50 && sb.st_size == 0; i++) {
            struct timespec nap = {0, 10 * 1000 * 1000};
            nanosleep(&nap, NULL);
            if (stat(path, &sb)) return HAMF_OK;
        }
        if (sb.st_size == 0)
            return hamf__err(HAMF_ERR_CORRUPT,
                             "store: %s: the file is empty (0 bytes), not a hamf store (truncated?); "
                             "restore it from a backup ('hamf store restore'), or delete it to start a new store",
                             path);
    }
    return HAMF_OK;
}

/* After the header was read: a file that is not a whole number of pages
 * was cut short. */
static hamf_status check_pages(struct sq_db *d, const char *path)
{
    struct stat sb;
    if (!strcmp(path, ":memory:") || !*path || stat(path, &sb) || !S_ISREG(sb.st_mode) || sb.st_size == 0)
        return HAMF_OK;
    sqlite3_stmt *q = NULL;
    long long page = 0;
    if (sqlite3_prepare_v2(d->h, "PRAGMA page_size", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        page = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (page >= 512 && (sb.st_size % page) != 0)
        return hamf__err(HAMF_ERR_CORRUPT,
                         "store: %s: damaged: %lld bytes is not a whole number of %lld-byte pages (cut short?); "
                         "restore it from a backup ('hamf store restore')",
                         path, (long long)sb.st_size, page);
    return HAMF_OK;
}

sqlite3 *hamf__sqlite_handle(struct hamf__db *db)
{
    return db && db->backend == HAMF__DB_SQLITE ? ((struct sq_db *)db)->h : NULL;
}

hamf_status hamf__sqlite_open(const char *path, const struct hamf__db_limits *lim,
                              struct hamf__db **out)
{
    hamf_status s = check_file(path);
    if (s) return s;
    struct sq_db *d = hamf__calloc(1, sizeof *d);
    if (!d) return hamf__err(HAMF_ERR_NOMEM, "store: out of memory opening %s", path);
    d->base.ops = &sq_ops;
    d->base.backend = HAMF__DB_SQLITE;
    d->busy_ms = lim->busy_timeout_ms;
    d->base.name = hamf__strdup(path);
    if (!d->base.name) {
        s = hamf__err(HAMF_ERR_NOMEM, "store: out of memory opening %s", path);
        goto cleanup;
    }
    int rc = sqlite3_open_v2(path, &d->h,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if (!d->h) {
            s = hamf__err(HAMF_ERR_NOMEM, "store: out of memory opening %s", path);
        } else {
            s = map_rc(sqlite3_extended_errcode(d->h));
            if (s == HAMF_ERR_INTERNAL || s == HAMF_ERR_MISUSE) s = HAMF_ERR_IO;
            s = hamf__err(s, "store: %s: cannot open: %s", path, sqlite3_errmsg(d->h));
        }
        goto cleanup;
    }
    sqlite3_extended_result_codes(d->h, 1);
    sqlite3_busy_timeout(d->h, d->busy_ms);
    /* Switching a fresh file to WAL needs an exclusive lock, and SQLite
     * returns SQLITE_BUSY for it at once, without the busy handler, when
     * another connection is opening the same new file: retry it within the
     * same bound. journal_mode also reads the header first, so a
     * non-database file fails here. */
    double deadline = hamf__mono_seconds() + d->busy_ms / 1000.0;
    for (;;) {
        rc = sqlite3_exec(d->h, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if ((rc & 0xff) != SQLITE_BUSY || hamf__mono_seconds() >= deadline) break;
        struct timespec nap = {0, 5 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    if (rc != SQLITE_OK) {
        s = fail(d, sqlite3_extended_errcode(d->h));
        goto cleanup;
    }
    if ((s = check_pages(d, path))) goto cleanup;
    static const char *const pragmas[] = {
        "PRAGMA foreign_keys=ON",
        "PRAGMA synchronous=FULL",
    };
    for (size_t i = 0; i < HAMF_ARRAY_LEN(pragmas); i++) {
        if ((s = sq_exec(&d->base, pragmas[i]))) goto cleanup;
    }
    /* A WAL switch can silently fail (e.g. on a read-only medium): say so. */
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(d->h, "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(q, 0);
        if (strcmp(path, ":memory:") != 0 && (!m || strcmp(m, "wal") != 0))
            s = hamf__err(HAMF_ERR_IO, "store: %s: cannot switch to WAL journal (mode is %s)", path,
                          m ? m : "?");
    } else {
        s = fail(d, sqlite3_extended_errcode(d->h));
    }
    sqlite3_finalize(q);
    if (s) goto cleanup;
    *out = &d->base;
    return HAMF_OK;
cleanup:
    sq_close(&d->base);
    return s;
}
