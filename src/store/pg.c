/*
 * pg.c — the PostgreSQL backend of db.h, on libpq. SQL written with '?'
 * placeholders is rewritten to $1..$n (outside quotes) and prepared once
 * per connection under a generated name (prepared statements outlive
 * transactions, so they are cached by SQL text and never deallocated
 * before the connection closes). Values travel as text; results are read
 * as text and converted.
 *
 * Connecting is bounded: connect_timeout is set unless the URL sets it, so
 * an unreachable server fails within seconds. Lock waits are bounded by
 * lock_timeout. Server notices are swallowed (the library never prints).
 * Errors keep the SQLSTATE in the message and map to hamf_status.
 */
#include "store/db_impl.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pg_prep {
    char *sql;
    char name[24];
    int nparams;
    struct pg_prep *next;
};

struct pg_db {
    struct hamf__db base;
    PGconn *h;
    struct pg_prep *preps;
    unsigned next_id;
};

#define PG_MAX_PARAMS 64

struct pg_stmt {
    struct hamf__stmt base;
    const struct pg_prep *prep;
    char *vals[PG_MAX_PARAMS];
    PGresult *res;
    int row, nrows;
    bool executed;
};

/* libpq messages end in "\n" and may span lines: make them one line. */
static void one_line(char *dst, size_t cap, const char *src)
{
    size_t j = 0;
    for (size_t i = 0; src && src[i] && j + 1 < cap; i++) {
        char c = src[i];
        if (c == '\n' || c == '\r') {
            if (src[i + 1] && j + 2 < cap && j > 0 && dst[j - 1] != ' ') {
                dst[j++] = ';';
                dst[j++] = ' ';
            }
            continue;
        }
        if (c == '\t') c = ' ';
        if (c == ' ' && j > 0 && dst[j - 1] == ' ') continue;
        dst[j++] = c;
    }
    while (j > 0 && (dst[j - 1] == ' ' || dst[j - 1] == ';')) j--;
    dst[j] = '\0';
}

static hamf_status map_sqlstate(const char *state)
{
    if (!state) return HAMF_ERR_INTERNAL;
    if (!strcmp(state, "23505")) return HAMF_ERR_EXISTS;
    if (!strncmp(state, "23", 2)) return HAMF_ERR_CONSTRAINT;
    if (!strcmp(state, "22P02") || !strcmp(state, "22003")) return HAMF_ERR_CONSTRAINT;
    if (!strcmp(state, "55P03") || !strcmp(state, "40P01") || !strcmp(state, "40001")) return HAMF_ERR_BUSY;
    if (!strcmp(state, "57014")) return HAMF_ERR_TIMEOUT;
    if (!strncmp(state, "08", 2) || !strncmp(state, "57P", 3)) return HAMF_ERR_CONNECT;
    if (!strcmp(state, "53100")) return HAMF_ERR_FULL; /* disk_full */
    if (!strcmp(state, "53200")) return HAMF_ERR_NOMEM;
    if (!strncmp(state, "42", 2)) return HAMF_ERR_SCHEMA;
    return HAMF_ERR_INTERNAL;
}

static hamf_status fail_res(struct pg_db *d, const PGresult *r)
{
    char msg[768];
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    one_line(msg, sizeof msg, primary ? primary : PQerrorMessage(d->h));
    hamf_status s = state ? map_sqlstate(state) : (PQstatus(d->h) == CONNECTION_BAD ? HAMF_ERR_CONNECT
                                                                                    : HAMF_ERR_INTERNAL);
    if (s == HAMF_ERR_BUSY)
        return hamf__err(s, "store: %s: database is locked: %s (SQLSTATE %s)", d->base.name, msg, state);
    return hamf__err(s, "store: %s: %s%s%s%s", d->base.name, msg, state ? " (SQLSTATE " : "",
                     state ? state : "", state ? ")" : "");
}

static void pg_close(struct hamf__db *db)
{
    struct pg_db *d = (struct pg_db *)db;
    if (d->h) PQfinish(d->h);
    for (struct pg_prep *p = d->preps, *n; p; p = n) {
        n = p->next;
        hamf__free(p->sql);
        hamf__free(p);
    }
    hamf__free(d->base.name);
    hamf__free(d);
}

static hamf_status pg_exec(struct hamf__db *db, const char *sql)
{
    struct pg_db *d = (struct pg_db *)db;
    PGresult *r = PQexec(d->h, sql);
    ExecStatusType t = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    hamf_status s = HAMF_OK;
    if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) s = fail_res(d, r);
    PQclear(r);
    return s;
}

/* '?' -> $n outside '...' and "..." literals; returns NULL on NOMEM. */
static char *rewrite(const char *sql, int *nparams)
{
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    int n = 0;
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        hamf_status s;
        if (quote) {
            if (*p == quote) quote = 0;
            s = hamf__buf_putc(&b, *p);
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
            s = hamf__buf_putc(&b, *p);
        } else if (*p == '?') {
            s = hamf__buf_printf(&b, "$%d", ++n);
        } else {
            s = hamf__buf_putc(&b, *p);
        }
        if (s) {
            hamf__buf_free(&b);
            return NULL;
        }
    }
    *nparams = n;
    return hamf__buf_detach(&b, NULL);
}

static hamf_status pg_prepare(struct hamf__db *db, const char *sql, struct hamf__stmt **out)
{
    struct pg_db *d = (struct pg_db *)db;
    struct pg_prep *p = d->preps;
    while (p && strcmp(p->sql, sql) != 0) p = p->next;
    if (!p) {
        int n = 0;
        char *text = rewrite(sql, &n);
        if (!text) return hamf__err(HAMF_ERR_NOMEM, "store: out of memory preparing a statement");
        if (n > PG_MAX_PARAMS) {
            hamf__free(text);
            return hamf__err(HAMF_ERR_MISUSE, "store: statement has %d parameters (max %d)", n, PG_MAX_PARAMS);
        }
        p = hamf__calloc(1, sizeof *p);
        char *copy = hamf__strdup(sql);
        if (!p || !copy) {
            hamf__free(text);
            hamf__free(p);
            hamf__free(copy);
            return hamf__err(HAMF_ERR_NOMEM, "store: out of memory preparing a statement");
        }
        snprintf(p->name, sizeof p->name, "hamf_%u", d->next_id++);
        PGresult *r = PQprepare(d->h, p->name, text, 0, NULL);
        hamf__free(text);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
            hamf_status s = fail_res(d, r);
            PQclear(r);
            hamf__free(p);
            hamf__free(copy);
            return s;
        }
        PQclear(r);
        p->sql = copy;
        p->nparams = n;
        p->next = d->preps;
        d->preps = p;
    }
    struct pg_stmt *st = hamf__calloc(1, sizeof *st);
    if (!st) return hamf__err(HAMF_ERR_NOMEM, "store: out of memory preparing a statement");
    st->base.db = db;
    st->prep = p;
    *out = &st->base;
    return HAMF_OK;
}

static hamf_status set_val(struct hamf__stmt *st, int idx, char *v, bool owned_nomem_check)
{
    struct pg_stmt *s = (struct pg_stmt *)st;
    if (idx < 1 || idx > s->prep->nparams) {
        hamf__free(v);
        return hamf__err(HAMF_ERR_MISUSE, "store: %s: bind index %d out of range 1..%d",
                         st->db->name, idx, s->prep->nparams);
    }
    if (owned_nomem_check && !v) return hamf__err(HAMF_ERR_NOMEM, "store: out of memory binding a value");
    hamf__free(s->vals[idx - 1]);
    s->vals[idx - 1] = v;
    return HAMF_OK;
}

static hamf_status pg_bind_i64(struct hamf__stmt *st, int idx, int64_t v)
{
    return set_val(st, idx, hamf__asprintf("%lld", (long long)v), true);
}

static hamf_status pg_bind_f64(struct hamf__stmt *st, int idx, double v)
{
    char tmp[32];
    hamf__fmt_double(tmp, v);
    return set_val(st, idx, hamf__strdup(tmp), true);
}

static hamf_status pg_bind_text(struct hamf__stmt *st, int idx, const char *v)
{
    if (!v) return set_val(st, idx, NULL, false);
    return set_val(st, idx, hamf__strdup(v), true);
}

static hamf_status pg_step(struct hamf__stmt *st, bool *row)
{
    struct pg_stmt *s = (struct pg_stmt *)st;
    struct pg_db *d = (struct pg_db *)st->db;
    if (!s->executed) {
        PGresult *r = PQexecPrepared(d->h, s->prep->name, s->prep->nparams,
                                     (const char *const *)s->vals, NULL, NULL, 0);
        ExecStatusType t = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
            hamf_status e = fail_res(d, r);
            PQclear(r);
            return e;
        }
        s->res = r;
        s->executed = true;
        s->nrows = t == PGRES_TUPLES_OK ? PQntuples(r) : 0;
        s->row = 0;
    } else if (s->row < s->nrows) {
        s->row++;
    }
    *row = s->row < s->nrows;
    return HAMF_OK;
}

static bool pg_col_null(struct hamf__stmt *st, int col)
{
    struct pg_stmt *s = (struct pg_stmt *)st;
    return PQgetisnull(s->res, s->row, col) != 0;
}

static const char *pg_col_text(struct hamf__stmt *st, int col)
{
    struct pg_stmt *s = (struct pg_stmt *)st;
    if (!s->res || s->row >= s->nrows || PQgetisnull(s->res, s->row, col)) return "";
    return PQgetvalue(s->res, s->row, col);
}

static int64_t pg_col_i64(struct hamf__stmt *st, int col)
{
    return strtoll(pg_col_text(st, col), NULL, 10);
}

static double pg_col_f64(struct hamf__stmt *st, int col)
{
    return strtod(pg_col_text(st, col), NULL);
}

static void pg_reset(struct hamf__stmt *st)
{
    struct pg_stmt *s = (struct pg_stmt *)st;
    PQclear(s->res);
    s->res = NULL;
    s->executed = false;
    s->row = s->nrows = 0;
    for (int i = 0; i < PG_MAX_PARAMS; i++) {
        hamf__free(s->vals[i]);
        s->vals[i] = NULL;
    }
}

static void pg_finalize(struct hamf__stmt *st)
{
    pg_reset(st);
    hamf__free(st);
}

static const struct hamf__db_ops pg_ops = {
    pg_close, pg_exec, pg_prepare, pg_bind_i64, pg_bind_f64, pg_bind_text, pg_step,
    pg_col_null, pg_col_i64, pg_col_f64, pg_col_text, pg_reset, pg_finalize,
};

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* The URL with the password (user:PASSWORD@) replaced by ***. */
static char *redact(const char *url)
{
    const char *scheme = strstr(url, "://");
    const char *host = scheme ? scheme + 3 : url;
    const char *at = strchr(host, '@');
    const char *slash = strchr(host, '/');
    if (!at || (slash && slash < at)) return hamf__strdup(url);
    const char *colon = memchr(host, ':', (size_t)(at - host));
    if (!colon) return hamf__strdup(url);
    return hamf__asprintf("%.*s:***%s", (int)(colon - url), url, at);
}

hamf_status hamf__pg_open(const char *url, const struct hamf__db_limits *lim, struct hamf__db **out)
{
    hamf_status s = HAMF_OK;
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    if (!opts) {
        char msg[512];
        one_line(msg, sizeof msg, perr ? perr : "out of memory");
        char *shown = redact(url);
        s = hamf__err(HAMF_ERR_PARSE, "store: malformed URL '%s': %s", shown ? shown : "?", msg);
        hamf__free(shown);
        PQfreemem(perr);
        return s;
    }
    /* libpq checks the port only when connecting: a URL with a bad one is
     * malformed, not unreachable. */
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (strcmp(o->keyword, "port") != 0 || !o->val) continue;
        const char *p = o->val;
        bool ok = true;
        while (ok) {
            long v = 0;
            int digits = 0;
            for (; *p >= '0' && *p <= '9' && digits < 6; p++, digits++) v = v * 10 + (*p - '0');
            ok = (digits == 0 || (v >= 1 && v <= 65535)) && (*p == ',' || *p == '\0');
            if (!ok || *p == '\0') break;
            p++;
        }
        if (!ok) {
            char *shown = redact(url);
            s = hamf__err(HAMF_ERR_PARSE, "store: malformed URL '%s': port '%s' is not a number in 1..65535",
                          shown ? shown : "?", o->val);
            hamf__free(shown);
            PQconninfoFree(opts);
            return s;
        }
    }
    PQconninfoFree(opts);

    struct pg_db *d = hamf__calloc(1, sizeof *d);
    if (!d) return hamf__err(HAMF_ERR_NOMEM, "store: out of memory connecting");
    d->base.ops = &pg_ops;
    d->base.backend = HAMF__DB_PG;
    d->base.name = redact(url);
    if (!d->base.name) {
        s = hamf__err(HAMF_ERR_NOMEM, "store: out of memory connecting");
        goto cleanup;
    }
    char ct[16];
    snprintf(ct, sizeof ct, "%d", lim->connect_timeout_s);
    /* Later keywords win, and the URL expands in place of "dbname": so
     * our connect_timeout is only a default. */
    const char *const keys[] = {"connect_timeout", "dbname", NULL};
    const char *const vals[] = {ct, url, NULL};
    d->h = PQconnectdbParams(keys, vals, 1);
    if (!d->h) {
        s = hamf__err(HAMF_ERR_NOMEM, "store: out of memory connecting");
        goto cleanup;
    }
    if (PQstatus(d->h) != CONNECTION_OK) {
        char msg[768];
        one_line(msg, sizeof msg, PQerrorMessage(d->h));
        s = hamf__err(HAMF_ERR_CONNECT, "store: cannot connect to PostgreSQL at %s: %s", d->base.name, msg);
        goto cleanup;
    }
    PQsetNoticeProcessor(d->h, quiet_notice, NULL);
    char setup[160];
    snprintf(setup, sizeof setup,
             "SET client_min_messages = warning; SET lock_timeout = %d; SET TIME ZONE 'UTC'",
             lim->busy_timeout_ms);
    if ((s = pg_exec(&d->base, setup))) goto cleanup;
    *out = &d->base;
    return HAMF_OK;
cleanup:
    pg_close(&d->base);
    return s;
}
