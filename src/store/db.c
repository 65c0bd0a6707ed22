/*
 * db.c — the front of db.h: classifies a store URL (plain path,
 * sqlite:///abs/path, postgresql:// or postgres://), resolves the wait
 * bounds, and forwards every call through the backend's function table.
 * Transactions are plain SQL (BEGIN IMMEDIATE on SQLite so the write lock is
 * taken, and waited for, up front).
 */
#include "store/db_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* ------------------------------------------------------------------------ */
/* Bind / query helpers                                                     */
/* ------------------------------------------------------------------------ */

hamf_status hamf__db_vbindf(struct hamf__stmt *st, const char *types, va_list ap)
{
    hamf_status s = HAMF_OK;
    for (int i = 0; types[i] && !s; i++) {
        switch (types[i]) {
        case 't': s = hamf__db_bind_text(st, i + 1, va_arg(ap, const char *)); break;
        case 'i': s = hamf__db_bind_i64(st, i + 1, va_arg(ap, int64_t)); break;
        case 'd': {
            double d = va_arg(ap, double);
            s = isnan(d) ? hamf__db_bind_null(st, i + 1) : hamf__db_bind_f64(st, i + 1, d);
            break;
        }
        case 'n': s = hamf__db_bind_null(st, i + 1); break;
        default: s = hamf__err(HAMF_ERR_MISUSE, "store: bad bind type '%c'", types[i]); break;
        }
    }
    return s;
}

hamf_status hamf__db_bindf(struct hamf__stmt *st, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    hamf_status s = hamf__db_vbindf(st, types, ap);
    va_end(ap);
    return s;
}

hamf_status hamf__db_bind_values(struct hamf__stmt *st, const struct hamf__db_value *v, size_t n)
{
    hamf_status s = HAMF_OK;
    for (size_t i = 0; i < n && !s; i++) {
        int idx = (int)i + 1;
        if (v[i].type == HAMF__DB_T_TEXT) s = hamf__db_bind_text(st, idx, v[i].s);
        else if (v[i].type == HAMF__DB_T_I64) s = hamf__db_bind_i64(st, idx, v[i].i);
        else s = hamf__db_bind_f64(st, idx, v[i].f);
    }
    return s;
}

static hamf_status vprepf(struct hamf__db *db, struct hamf__stmt **out, const char *sql, const char *types,
                          va_list ap)
{
    struct hamf__stmt *st = NULL;
    hamf_status s = hamf__db_prepare(db, sql, &st);
    if (s) return s;
    if ((s = hamf__db_vbindf(st, types, ap))) {
        hamf__db_finalize(st);
        return s;
    }
    *out = st;
    return HAMF_OK;
}

hamf_status hamf__db_prepf(struct hamf__db *db, struct hamf__stmt **out, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    hamf_status s = vprepf(db, out, sql, types, ap);
    va_end(ap);
    return s;
}

hamf_status hamf__db_run(struct hamf__stmt *st)
{
    bool row;
    return hamf__db_step(st, &row);
}

/* Prepare, bind, step once; when `v` is given read column 0 of the row:
 * *found false when there is no row (or it is NULL). */
static hamf_status vstep_one(struct hamf__db *db, const char *sql, const char *types, va_list ap, bool *found,
                             int64_t *v)
{
    struct hamf__stmt *st = NULL;
    hamf_status s = vprepf(db, &st, sql, types, ap);
    if (s) return s;
    bool row = false;
    if (!(s = hamf__db_step(st, &row)) && v) {
        *found = row && !hamf__db_col_null(st, 0);
        if (*found) *v = hamf__db_col_i64(st, 0);
    }
    hamf__db_finalize(st);
    return s;
}

hamf_status hamf__db_execf(struct hamf__db *db, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    hamf_status s = vstep_one(db, sql, types, ap, NULL, NULL);
    va_end(ap);
    return s;
}

hamf_status hamf__db_insert_id(struct hamf__db *db, int64_t *id, const char *sql, const char *types, ...)
{
    bool found = false;
    va_list ap;
    va_start(ap, types);
    hamf_status s = vstep_one(db, sql, types, ap, &found, id);
    va_end(ap);
    if (!s && !found) s = hamf__err(HAMF_ERR_INTERNAL, "store: %.60s... returned no id", sql);
    return s;
}

hamf_status hamf__db_query_i64(struct hamf__db *db, bool *found, int64_t *v, const char *sql, const char *types,
                               ...)
{
    va_list ap;
    va_start(ap, types);
    hamf_status s = vstep_one(db, sql, types, ap, found, v);
    va_end(ap);
    return s;
}

/* ------------------------------------------------------------------------ */
/* The audited write                                                        */
/* ------------------------------------------------------------------------ */

hamf_status hamf__db_tx_begin(struct hamf__db *db, bool *own)
{
    *own = !db->in_tx;
    return *own ? hamf__db_begin(db) : HAMF_OK;
}

hamf_status hamf__db_tx_end(struct hamf__db *db, bool own, hamf_status s)
{
    if (!own) return s;
    if (s) {
        hamf__db_rollback(db);
        return s;
    }
    return hamf__db_commit(db);
}

hamf_status hamf__db_tx(struct hamf__db *db, hamf__db_tx_fn fn, void *arg)
{
    bool own;
    hamf_status s = hamf__db_tx_begin(db, &own);
    if (s) return s;
    return hamf__db_tx_end(db, own, fn(db, arg));
}

/* ------------------------------------------------------------------------ */
/* Audit rows, times and the JSON of a row                                  */
/* ------------------------------------------------------------------------ */

void hamf__store_now(char out[32])
{
    int64_t ms = hamf__now_ms();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char tmp[96]; /* room for any int the compiler imagines; real output is 24 bytes */
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    snprintf(out, 32, "%.31s", tmp);
}

void hamf__jobj_init(struct hamf__jobj *j)
{
    hamf__buf_init(&j->buf, 0);
    j->first = true;
    j->st = hamf__buf_putc(&j->buf, '{');
}

static void jkey(struct hamf__jobj *j, const char *key)
{
    if (j->st) return;
    if (!j->first) j->st = hamf__buf_putc(&j->buf, ',');
    j->first = false;
    if (!j->st) j->st = hamf__json_str(&j->buf, key, (size_t)-1);
    if (!j->st) j->st = hamf__buf_putc(&j->buf, ':');
}

void hamf__jobj_str(struct hamf__jobj *j, const char *key, const char *v)
{
    jkey(j, key);
    if (!j->st) j->st = v ? hamf__json_str(&j->buf, v, (size_t)-1) : hamf__buf_puts(&j->buf, "null");
}

void hamf__jobj_i64(struct hamf__jobj *j, const char *key, int64_t v)
{
    jkey(j, key);
    if (!j->st) j->st = hamf__buf_printf(&j->buf, "%lld", (long long)v);
}

void hamf__jobj_num(struct hamf__jobj *j, const char *key, bool has, double v)
{
    jkey(j, key);
    if (!j->st) j->st = has ? hamf__json_num(&j->buf, v) : hamf__buf_puts(&j->buf, "null");
}

hamf_status hamf__jobj_finish(struct hamf__jobj *j)
{
    if (!j->st) j->st = hamf__buf_putc(&j->buf, '}');
    if (j->st) return hamf__err(j->st, "store: out of memory writing JSON");
    return HAMF_OK;
}

void hamf__jobj_free(struct hamf__jobj *j) { hamf__buf_free(&j->buf); }

hamf_status hamf__store_audit(struct hamf__db *db, const char *table, const char *op,
                              const char *old_json, const char *new_json)
{
    char now[32];
    hamf__store_now(now);
    struct hamf__stmt *st = NULL;
    hamf_status s = hamf__db_prepare(db,
                                     "INSERT INTO audit_log (table_name, operation_type, old_data, "
                                     "new_data, operation_timestamp) VALUES (?, ?, ?, ?, ?)",
                                     &st);
    if (s) return s;
    bool row;
    if ((s = hamf__db_bind_text(st, 1, table)) || (s = hamf__db_bind_text(st, 2, op)) ||
        (s = hamf__db_bind_text(st, 3, old_json)) || (s = hamf__db_bind_text(st, 4, new_json)) ||
        (s = hamf__db_bind_text(st, 5, now)) || (s = hamf__db_step(st, &row)))
        hamf__err_prefix(s, "store: writing audit_log");
    hamf__db_finalize(st);
    return s;
}

hamf_status hamf__db_audit(struct hamf__db *db, const char *table, const char *op, struct hamf__jobj *old,
                           struct hamf__jobj *nw)
{
    hamf_status s = HAMF_OK;
    if (old && (s = hamf__jobj_finish(old))) goto out;
    if (nw && (s = hamf__jobj_finish(nw))) goto out;
    s = hamf__store_audit(db, table, op, old ? old->buf.data : NULL, nw ? nw->buf.data : NULL);
out:
    if (old) hamf__jobj_free(old);
    if (nw) hamf__jobj_free(nw);
    return s;
}
