/*
 * db.c — the front of db.h: classifies a store URL (plain path,
 * sqlite:///abs/path, postgresql:// or postgres://), resolves the wait
 * bounds, and forwards every call through the backend's function table.
 * Transactions are plain SQL (BEGIN IMMEDIATE on SQLite so the write lock is
 * taken, and waited for, up front).
 */
#include "store/db_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int env_int(const char *name, int def, int lo, int hi)
{
    const char *v = getenv(name);
    int64_t x;
    if (!v || !*v || !hamf__parse_i64(v, strlen(v), &x) || x < lo || x > hi) return def;
    return (int)x;
}

static bool has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

hamf_status hamf__db_open_limits(const char *url, const struct hamf__db_limits *lim,
                                 struct hamf__db **out)
{
    if (!url || !out) return hamf__err(HAMF_ERR_MISUSE, "store: NULL url or out pointer");
    struct hamf__db_limits l = {0, 0};
    if (lim) l = *lim;
    if (l.busy_timeout_ms <= 0)
        l.busy_timeout_ms = env_int("HAMF_BUSY_TIMEOUT_MS", 5000, 0, 3600 * 1000);
    if (l.connect_timeout_s <= 0) l.connect_timeout_s = 5;

    if (!*url) return hamf__err(HAMF_ERR_PARSE, "store: malformed URL '': empty");
    if (has_prefix(url, "postgresql://") || has_prefix(url, "postgres://"))
        return hamf__pg_open(url, &l, out);
    if (has_prefix(url, "sqlite:")) {
        /* sqlite:///abs/path — exactly three slashes, then the absolute path. */
        const char *p = url + strlen("sqlite:");
        if (strncmp(p, "///", 3) != 0 || p[3] == '/' || p[3] == '\0')
            return hamf__err(HAMF_ERR_PARSE,
                             "store: malformed URL '%s': expected sqlite:///absolute/path", url);
        if (strchr(p, '?') || strchr(p, '#'))
            return hamf__err(HAMF_ERR_PARSE,
                             "store: malformed URL '%s': query and fragment are not supported", url);
        return hamf__sqlite_open(p + 2, &l, out);
    }
    /* Any other scheme:// is a mistake, not a file name. */
    const char *colon = strstr(url, "://");
    if (colon) {
        bool scheme = colon > url;
        for (const char *c = url; c < colon; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                  *c == '+' || *c == '-' || *c == '.'))
                scheme = false;
        if (scheme)
            return hamf__err(HAMF_ERR_PARSE,
                             "store: malformed URL '%s': unknown scheme '%.*s' (use a path, "
                             "sqlite:///abs/path or postgresql://...)",
                             url, (int)(colon - url), url);
    }
    return hamf__sqlite_open(url, &l, out);
}

hamf_status hamf__db_open(const char *url, struct hamf__db **out)
{
    return hamf__db_open_limits(url, NULL, out);
}

void hamf__db_close(struct hamf__db *db)
{
    if (!db) return;
    if (db->in_tx) hamf__db_rollback(db);
    db->ops->close(db);
}

enum hamf__db_backend hamf__db_backend(const struct hamf__db *db) { return db->backend; }
const char *hamf__db_name(const struct hamf__db *db) { return db->name; }
bool hamf__db_in_tx(const struct hamf__db *db) { return db->in_tx; }

hamf_status hamf__db_exec(struct hamf__db *db, const char *sql) { return db->ops->exec(db, sql); }

hamf_status hamf__db_begin(struct hamf__db *db)
{
    if (db->in_tx) return hamf__err(HAMF_ERR_MISUSE, "store: %s: nested transaction", db->name);
    hamf_status s = db->ops->exec(db, db->backend == HAMF__DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN");
    if (s) return s;
    db->in_tx = true;
    return HAMF_OK;
}

hamf_status hamf__db_commit(struct hamf__db *db)
{
    if (!db->in_tx) return hamf__err(HAMF_ERR_MISUSE, "store: %s: commit without begin", db->name);
    hamf_status s = db->ops->exec(db, "COMMIT");
    if (s) {
        /* A failed COMMIT leaves SQLite's transaction open (e.g. BUSY) and
         * ends PostgreSQL's; roll back so the connection is usable again. */
        char keep[1024];
        snprintf(keep, sizeof keep, "%s", hamf_last_error());
        hamf__db_rollback(db);
        return hamf__err(s, "%s", keep);
    }
    db->in_tx = false;
    return HAMF_OK;
}

void hamf__db_rollback(struct hamf__db *db)
{
    if (!db || !db->in_tx) return;
    char keep[1024]; /* rollback must not overwrite the error that caused it */
    snprintf(keep, sizeof keep, "%s", hamf_last_error());
    (void)db->ops->exec(db, "ROLLBACK");
    db->in_tx = false;
    hamf__err(HAMF_OK, "%s", keep);
}

hamf_status hamf__db_prepare(struct hamf__db *db, const char *sql, struct hamf__stmt **out)
{
    return db->ops->prepare(db, sql, out);
}

hamf_status hamf__db_bind_i64(struct hamf__stmt *st, int idx, int64_t v)
{
    return st->db->ops->bind_i64(st, idx, v);
}

hamf_status hamf__db_bind_f64(struct hamf__stmt *st, int idx, double v)
{
    return st->db->ops->bind_f64(st, idx, v);
}

hamf_status hamf__db_bind_text(struct hamf__stmt *st, int idx, const char *s)
{
    return st->db->ops->bind_text(st, idx, s);
}

hamf_status hamf__db_bind_null(struct hamf__stmt *st, int idx)
{
    return st->db->ops->bind_text(st, idx, NULL);
}

hamf_status hamf__db_step(struct hamf__stmt *st, bool *row) { return st->db->ops->step(st, row); }
bool hamf__db_col_null(struct hamf__stmt *st, int col) { return st->db->ops->col_null(st, col); }
int64_t hamf__db_col_i64(struct hamf__stmt *st, int col) { return st->db->ops->col_i64(st, col); }
double hamf__db_col_f64(struct hamf__stmt *st, int col) { return st->db->ops->col_f64(st, col); }
const char *hamf__db_col_text(struct hamf__stmt *st, int col) { return st->db->ops->col_text(st, col); }
void hamf__db_reset(struct hamf__stmt *st) { st->db->ops->reset(st); }

void hamf__db_finalize(struct hamf__stmt *st)
{
    if (st) st->db->ops->finalize(st);
}
