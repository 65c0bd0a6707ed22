/*
 * model_registry.c — MLflow's Model Registry on hamf's registry tables
 * (see model_registry.h). Reads load a model's rows (versions, tags,
 * aliases) into small structs; searches filter, sort and page them in C,
 * so LIKE/ILIKE and ordering behave the same on SQLite and PostgreSQL (a
 * registry holds thousands of versions, not millions). Writes are one
 * transaction each, audited.
 */
#include "store/model_registry.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STAGE_DELETED "Deleted_Internal"

/* ---- schema ---- */

static const char mreg_v1_sqlite[] =
    "CREATE TABLE registered_models ("
    " name TEXT PRIMARY KEY CHECK (length(name) > 0),"
    " creation_time INTEGER NOT NULL,"
    " last_updated_time INTEGER NOT NULL,"
    " description TEXT"
    ") STRICT;"
    "CREATE TABLE registered_model_tags ("
    " name TEXT NOT NULL, key TEXT NOT NULL, value TEXT,"
    " PRIMARY KEY (name, key)"
    ") STRICT;"
    "CREATE TABLE model_version_tags ("
    " name TEXT NOT NULL, version INTEGER NOT NULL, key TEXT NOT NULL, value TEXT,"
    " PRIMARY KEY (name, version, key)"
    ") STRICT;"
    "ALTER TABLE model_versions ADD COLUMN creation_time INTEGER;"
    "ALTER TABLE model_versions ADD COLUMN last_updated_time INTEGER;"
    "ALTER TABLE model_versions ADD COLUMN description TEXT;"
    "ALTER TABLE model_versions ADD COLUMN user_id TEXT;"
    "ALTER TABLE model_versions ADD COLUMN current_stage TEXT;"
    "ALTER TABLE model_versions ADD COLUMN source_uri TEXT;"
    "ALTER TABLE model_versions ADD COLUMN run_link TEXT;"
    "ALTER TABLE model_versions ADD COLUMN status TEXT;"
    "ALTER TABLE model_versions ADD COLUMN status_message TEXT;"
    "ALTER TABLE model_versions ADD COLUMN digest TEXT;"
    "ALTER TABLE model_versions ADD COLUMN blob_path TEXT;"
    /* aliases: any MLflow alias name, not only champion/challenger */
    "CREATE TABLE model_aliases_new ("
    " model_name TEXT NOT NULL, alias TEXT NOT NULL CHECK (length(alias) > 0),"
    " version INTEGER NOT NULL, updated_at TEXT NOT NULL,"
    " PRIMARY KEY (model_name, alias)"
    ") STRICT;"
    "INSERT INTO model_aliases_new SELECT model_name, alias, version, updated_at FROM model_aliases;"
    "DROP TABLE model_aliases;"
    "ALTER TABLE model_aliases_new RENAME TO model_aliases;"
    "UPDATE model_versions SET"
    " creation_time = CAST(ROUND((julianday(created_at) - 2440587.5) * 86400000) AS INTEGER),"
    " last_updated_time = CAST(ROUND((julianday(created_at) - 2440587.5) * 86400000) AS INTEGER);"
    "INSERT INTO registered_models (name, creation_time, last_updated_time)"
    " SELECT model_name, MIN(creation_time), MAX(creation_time) FROM model_versions GROUP BY model_name;";

static const char mreg_v1_pg[] =
    "CREATE TABLE registered_models ("
    " name TEXT PRIMARY KEY CHECK (length(name) > 0),"
    " creation_time BIGINT NOT NULL,"
    " last_updated_time BIGINT NOT NULL,"
    " description TEXT"
    ");"
    "CREATE TABLE registered_model_tags ("
    " name TEXT NOT NULL, key TEXT NOT NULL, value TEXT,"
    " PRIMARY KEY (name, key)"
    ");"
    "CREATE TABLE model_version_tags ("
    " name TEXT NOT NULL, version BIGINT NOT NULL, key TEXT NOT NULL, value TEXT,"
    " PRIMARY KEY (name, version, key)"
    ");"
    "ALTER TABLE model_versions ADD COLUMN creation_time BIGINT, ADD COLUMN last_updated_time BIGINT,"
    " ADD COLUMN description TEXT, ADD COLUMN user_id TEXT, ADD COLUMN current_stage TEXT,"
    " ADD COLUMN source_uri TEXT, ADD COLUMN run_link TEXT, ADD COLUMN status TEXT,"
    " ADD COLUMN status_message TEXT, ADD COLUMN digest TEXT, ADD COLUMN blob_path TEXT;"
    "ALTER TABLE model_aliases DROP CONSTRAINT IF EXISTS model_aliases_alias_check;"
    "ALTER TABLE model_aliases DROP CONSTRAINT IF EXISTS model_aliases_model_name_version_fkey;"
    "ALTER TABLE model_aliases ADD CONSTRAINT model_aliases_alias_nonempty CHECK (length(alias) > 0);"
    "UPDATE model_versions SET"
    " creation_time = (EXTRACT(EPOCH FROM created_at::timestamptz) * 1000)::bigint,"
    " last_updated_time = (EXTRACT(EPOCH FROM created_at::timestamptz) * 1000)::bigint;"
    "INSERT INTO registered_models (name, creation_time, last_updated_time)"
    " SELECT model_name, MIN(creation_time), MAX(creation_time) FROM model_versions GROUP BY model_name;";

static const struct hamf__migration mreg_migrations[] = {
    {1, mreg_v1_sqlite, mreg_v1_pg},
};

hamf_status hamf__mreg_migrate(hamf_store *s)
{
    int v = 0;
    return hamf__store_migrate(hamf__store_db(s), "model_registry", mreg_migrations, HAMF_ARRAY_LEN(mreg_migrations),
                               &v);
}

/* ---- statement helpers ---- */

static hamf_status vprep(struct hamf__db *db, struct hamf__stmt **out, const char *sql, const char *types, va_list ap)
{
    struct hamf__stmt *st = NULL;
    hamf_status s = hamf__db_prepare(db, sql, &st);
    if (s) return s;
    for (int i = 0; types[i] && !s; i++) {
        switch (types[i]) {
        case 't': s = hamf__db_bind_text(st, i + 1, va_arg(ap, const char *)); break;
        case 'i': s = hamf__db_bind_i64(st, i + 1, va_arg(ap, int64_t)); break;
        default: s = hamf__db_bind_null(st, i + 1); break;
        }
    }
    if (s) {
        hamf__db_finalize(st);
        return s;
    }
    *out = st;
    return HAMF_OK;
}

static hamf_status prep(struct hamf__db *db, struct hamf__stmt **out, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    hamf_status s = vprep(db, out, sql, types, ap);
    va_end(ap);
    return s;
}

static hamf_status exec(struct hamf__db *db, const char *sql, const char *types, ...)
{
    struct hamf__stmt *st = NULL;
    va_list ap;
    va_start(ap, types);
    hamf_status s = vprep(db, &st, sql, types, ap);
    va_end(ap);
    if (s) return s;
    bool row;
    s = hamf__db_step(st, &row);
    hamf__db_finalize(st);
    return s;
}

static hamf_status query_i64(struct hamf__db *db, bool *found, int64_t *v, const char *sql, const char *types, ...)
{
    struct hamf__stmt *st = NULL;
    va_list ap;
    va_start(ap, types);
    hamf_status s = vprep(db, &st, sql, types, ap);
    va_end(ap);
    if (s) return s;
    bool row = false;
    *found = false;
    if (!(s = hamf__db_step(st, &row)) && row && !hamf__db_col_null(st, 0)) {
        *found = true;
        *v = hamf__db_col_i64(st, 0);
    }
    hamf__db_finalize(st);
    return s;
}

static hamf_status nomem(void)
{
    return hamf__err(HAMF_ERR_NOMEM, "model registry: out of memory");
}

static char *dup_or_null(struct hamf__stmt *st, int col)
{
    return hamf__db_col_null(st, col) ? NULL : hamf__strdup(hamf__db_col_text(st, col));
}

/* "2026-01-31T12:00:00.000Z" -> ms since the epoch (0 if unparsable). */
static int64_t iso_ms(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int ms = 0;
    if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                     &tm.tm_sec, &ms) < 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

/* ---- validation (MLflow's messages) ---- */

static hamf_status check_name(const char *name)
{
    if (!name || !*name) return hamf__err(HAMF_ERR_CONSTRAINT, "Registered model name cannot be empty.");
    return HAMF_OK;
}

static hamf_status parse_version(const char *v, int64_t *out)
{
    const char *p = v ? v : "";
    while (*p == ' ' || *p == '\t') p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    if (!n || !hamf__parse_i64(p, n, out))
        return hamf__err(HAMF_ERR_CONSTRAINT, "Model version must be an integer, got '%s'", v ? v : "None");
    return HAMF_OK;
}

static bool name_chars_ok(const char *k)
{
    for (const unsigned char *p = (const unsigned char *)k; *p; p++)
        if (!(isalnum(*p) || *p == '_' || *p == '-' || *p == '.' || *p == ' ' || *p == '/' || *p >= 0x80))
            return false;
    return true;
}

/* posixpath.normpath(name) != name, or ".", "..", "/..." */
static bool path_not_unique(const char *k)
{
    if (!*k) return false;
    if (k[0] == '/') return true;
    if (!strcmp(k, ".") || !strncmp(k, "..", 2)) return true;
    if (strstr(k, "//") || strstr(k, "/./") || strstr(k, "/../")) return true;
    size_t n = strlen(k);
    if (k[n - 1] == '/') return true;
    if (n >= 2 && !strcmp(k + n - 2, "/.")) return true;
    if (n >= 3 && !strcmp(k + n - 3, "/..")) return true;
    if (!strncmp(k, "./", 2)) return true;
    return false;
}

static hamf_status check_tag(const char *what, const char *key, const char *value)
{
    if (!key) return hamf__err(HAMF_ERR_CONSTRAINT, "Tag name cannot be None. A key name must be provided.");
    if (!name_chars_ok(key))
        return hamf__err(HAMF_ERR_CONSTRAINT,
                         "Invalid tag name: '%s'. Names may only contain alphanumerics, underscores (_), dashes (-),"
                         " periods (.), spaces ( ), and slashes (/).",
                         key);
    if (path_not_unique(key))
        return hamf__err(HAMF_ERR_CONSTRAINT,
                         "Invalid tag name: '%s'. Names may be treated as files in certain cases, and must not "
                         "resolve to other names when treated as such.",
                         key);
    if (strlen(key) > 250)
        return hamf__err(HAMF_ERR_CONSTRAINT, "%s key '%.250s' had length %zu, which exceeded length limit of 250",
                         what, key, strlen(key));
    if (value && strlen(value) > 5000)
        return hamf__err(HAMF_ERR_CONSTRAINT, "%s value '%.250s' had length %zu, which exceeded length limit of 5000",
                         what, value, strlen(value));
    return HAMF_OK;
}

static hamf_status check_alias(const char *a)
{
    if (!a || !*a) return hamf__err(HAMF_ERR_CONSTRAINT, "Registered model alias name cannot be empty.");
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        if (!(isalnum(*p) || *p == '_' || *p == '-'))
            return hamf__err(HAMF_ERR_CONSTRAINT,
                             "Invalid alias name: '%s'. Names may only contain alphanumerics, underscores (_), and "
                             "dashes (-).",
                             a);
    if (strlen(a) > 255)
        return hamf__err(HAMF_ERR_CONSTRAINT,
                         "Registered model alias name '%.250s' had length %zu, which exceeded length limit of 255", a,
                         strlen(a));
    if (!strcasecmp(a, "latest"))
        return hamf__err(HAMF_ERR_CONSTRAINT, "'latest' alias name (case insensitive) is reserved.");
    if ((a[0] == 'v' || a[0] == 'V') && a[1]) {
        const char *p = a + 1;
        while (isdigit((unsigned char)*p)) p++;
        if (!*p) return hamf__err(HAMF_ERR_CONSTRAINT, "Version alias name '%s' is reserved.", a);
    }
    return HAMF_OK;
}

static const char *const stages[] = {"None", "Staging", "Production", "Archived"};

static hamf_status canonical_stage(const char *s, const char **out)
{
    for (size_t i = 0; i < HAMF_ARRAY_LEN(stages); i++)
        if (s && !strcasecmp(s, stages[i])) {
            *out = stages[i];
            return HAMF_OK;
        }
    return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid Model Version stage: %s. Value must be one of None, Staging, "
                                          "Production, Archived.",
                     s ? s : "None");
}

/* ---- loaded rows ---- */

struct kv {
    char *key, *value;
};

struct mv {
    char *name;
    int64_t version;
    int64_t ctime, mtime;
    char *description, *user_id, *stage, *source, *run_id, *run_link, *status, *status_message;
    char *digest, *blob, *origin, *storage;
    int64_t model_id;
    struct kv *tags;
    size_t ntags;
    char **aliases;
    size_t naliases;
};

struct rm {
    char *name;
    int64_t ctime, mtime;
    char *description;
    struct kv *tags;
    size_t ntags;
    struct kv *aliases; /* alias -> version text */
    size_t naliases;
    struct mv *versions; /* every live version, version order */
    size_t nversions;
};

static void kvs_free(struct kv *k, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hamf__free(k[i].key);
        hamf__free(k[i].value);
    }
    hamf__free(k);
}

static void mv_clear(struct mv *m)
{
    hamf__free(m->name);
    hamf__free(m->description);
    hamf__free(m->user_id);
    hamf__free(m->stage);
    hamf__free(m->source);
    hamf__free(m->run_id);
    hamf__free(m->run_link);
    hamf__free(m->status);
    hamf__free(m->status_message);
    hamf__free(m->digest);
    hamf__free(m->blob);
    hamf__free(m->origin);
    hamf__free(m->storage);
    kvs_free(m->tags, m->ntags);
    for (size_t i = 0; i < m->naliases; i++) hamf__free(m->aliases[i]);
    hamf__free(m->aliases);
    memset(m, 0, sizeof *m);
}

static void mvs_free(struct mv *m, size_t n)
{
    for (size_t i = 0; i < n; i++) mv_clear(&m[i]);
    hamf__free(m);
}

static void rm_clear(struct rm *r)
{
    hamf__free(r->name);
    hamf__free(r->description);
    kvs_free(r->tags, r->ntags);
    kvs_free(r->aliases, r->naliases);
    mvs_free(r->versions, r->nversions);
    memset(r, 0, sizeof *r);
}

static void rms_free(struct rm *r, size_t n)
{
    for (size_t i = 0; i < n; i++) rm_clear(&r[i]);
    hamf__free(r);
}

static hamf_status grow(void **arr, size_t *cap, size_t len, size_t elem)
{
    if (len < *cap) return HAMF_OK;
    size_t nc = *cap ? *cap * 2 : 8;
    void *n = hamf__realloc(*arr, nc * elem);
    if (!n) return nomem();
    memset((char *)n + *cap * elem, 0, (nc - *cap) * elem);
    *arr = n;
    *cap = nc;
    return HAMF_OK;
}

static const char mv_cols[] =
    "SELECT model_name, version, creation_time, last_updated_time, created_at, description, user_id,"
    " current_stage, source_uri, artifact_path, run_id, run_link, status, status_message, digest, blob_path,"
    " source, model_id FROM model_versions";

static hamf_status read_mv(struct hamf__stmt *st, struct mv *m)
{
    memset(m, 0, sizeof *m);
    m->name = hamf__strdup(hamf__db_col_text(st, 0));
    m->version = hamf__db_col_i64(st, 1);
    const char *created = hamf__db_col_text(st, 4);
    m->ctime = hamf__db_col_null(st, 2) ? iso_ms(created) : hamf__db_col_i64(st, 2);
    m->mtime = hamf__db_col_null(st, 3) ? m->ctime : hamf__db_col_i64(st, 3);
    m->description = dup_or_null(st, 5);
    m->user_id = dup_or_null(st, 6);
    m->stage = hamf__strdup(hamf__db_col_null(st, 7) ? "None" : hamf__db_col_text(st, 7));
    m->run_id = dup_or_null(st, 10);
    if (!hamf__db_col_null(st, 8)) m->source = hamf__strdup(hamf__db_col_text(st, 8));
    else if (m->run_id && *m->run_id) m->source = hamf__asprintf("runs:/%s/model", m->run_id);
    else m->source = hamf__strdup(hamf__db_col_text(st, 9));
    m->run_link = dup_or_null(st, 11);
    m->status = hamf__strdup(hamf__db_col_null(st, 12) ? "READY" : hamf__db_col_text(st, 12));
    m->status_message = dup_or_null(st, 13);
    m->digest = dup_or_null(st, 14);
    m->blob = dup_or_null(st, 15);
    m->origin = hamf__strdup(hamf__db_col_text(st, 16));
    m->model_id = hamf__db_col_null(st, 17) ? 0 : hamf__db_col_i64(st, 17);
    /* MLflow's storage_location: versions made through the API keep it in
     * artifact_path (the source, or what a models:/ source pointed at) */
    m->storage = hamf__strdup(hamf__db_col_text(st, 9));
    if (!m->storage || !m->name || !m->stage || !m->source || !m->status || !m->origin) return nomem();
    return HAMF_OK;
}

static int mv_cmp_version(const void *a, const void *b)
{
    const struct mv *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c) return c;
    return x->version < y->version ? -1 : x->version > y->version;
}

/* Tags of the versions in m[0..n) (all of one name when `name` is set). */
static hamf_status attach_mv_tags(struct hamf__db *db, const char *name, struct mv *m, size_t n)
{
    if (!n) return HAMF_OK;
    struct hamf__stmt *st = NULL;
    hamf_status s = name ? prep(db, &st, "SELECT name, version, key, value FROM model_version_tags WHERE name = ?"
                                         " ORDER BY name, version, key", "t", name)
                         : prep(db, &st, "SELECT name, version, key, value FROM model_version_tags"
                                         " ORDER BY name, version, key", "");
    if (s) return s;
    bool row;
    size_t *caps = hamf__calloc(n, sizeof *caps);
    if (!caps) {
        hamf__db_finalize(st);
        return nomem();
    }
    while (!(s = hamf__db_step(st, &row)) && row) {
        struct mv key = {.name = (char *)hamf__db_col_text(st, 0), .version = hamf__db_col_i64(st, 1)};
        struct mv *hit = bsearch(&key, m, n, sizeof *m, mv_cmp_version);
        if (!hit) continue;
        size_t i = (size_t)(hit - m);
        if ((s = grow((void **)&hit->tags, &caps[i], hit->ntags, sizeof *hit->tags))) break;
        hit->tags[hit->ntags].key = hamf__strdup(hamf__db_col_text(st, 2));
        hit->tags[hit->ntags].value = hamf__strdup(hamf__db_col_text(st, 3));
        if (!hit->tags[hit->ntags].key || !hit->tags[hit->ntags].value) {
            s = nomem();
            break;
        }
        hit->ntags++;
    }
    hamf__free(caps);
    hamf__db_finalize(st);
    return s;
}

/* Versions (live only unless with_deleted), sorted by (name, version).
 * name NULL: every model. */
static hamf_status load_mvs(struct hamf__db *db, const char *name, bool with_deleted, struct mv **out, size_t *n)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "%s WHERE %s%s ORDER BY model_name, version", mv_cols, name ? "model_name = ?" : "1 = 1",
             with_deleted ? "" : " AND (current_stage IS NULL OR current_stage <> '" STAGE_DELETED "')");
    struct hamf__stmt *st = NULL;
    hamf_status s = name ? prep(db, &st, sql, "t", name) : prep(db, &st, sql, "");
    if (s) return s;
    struct mv *a = NULL;
    size_t len = 0, cap = 0;
    bool row;
    while (!(s = hamf__db_step(st, &row)) && row) {
        if ((s = grow((void **)&a, &cap, len, sizeof *a))) break;
        s = read_mv(st, &a[len++]);
        if (s) break;
    }
    hamf__db_finalize(st);
    /* the ORDER BY is the database's collation; C order is what bsearch needs */
    if (!s && len) qsort(a, len, sizeof *a, mv_cmp_version);
    if (!s) s = attach_mv_tags(db, name, a, len);
    if (s) {
        mvs_free(a, len);
        return s;
    }
    *out = a;
    *n = len;
    return HAMF_OK;
}

static hamf_status load_kvs(struct hamf__db *db, const char *sql, const char *name, struct kv **out, size_t *n)
{
    struct hamf__stmt *st = NULL;
    hamf_status s = prep(db, &st, sql, "t", name);
    if (s) return s;
    struct kv *a = NULL;
    size_t len = 0, cap = 0;
    bool row;
    while (!(s = hamf__db_step(st, &row)) && row) {
        if ((s = grow((void **)&a, &cap, len, sizeof *a))) break;
        a[len].key = hamf__strdup(hamf__db_col_text(st, 0));
        a[len].value = hamf__strdup(hamf__db_col_text(st, 1));
        len++;
        if (!a[len - 1].key || !a[len - 1].value) {
            s = nomem();
            break;
        }
    }
    hamf__db_finalize(st);
    if (s) {
        kvs_free(a, len);
        return s;
    }
    *out = a;
    *n = len;
    return HAMF_OK;
}

static hamf_status not_found_rm(const char *name)
{
    return hamf__err(HAMF_ERR_NOTFOUND, "Registered Model with name=%s not found", name);
}

/* Fill aliases of every version from the model's alias rows. */
static hamf_status attach_aliases(struct mv *v, size_t nv, const struct kv *al, size_t nal)
{
    for (size_t i = 0; i < nv; i++) {
        for (size_t j = 0; j < nal; j++) {
            int64_t ver;
            if (!hamf__parse_i64(al[j].value, strlen(al[j].value), &ver) || ver != v[i].version) continue;
            char **na = hamf__realloc(v[i].aliases, (v[i].naliases + 1) * sizeof *na);
            if (!na) return nomem();
            v[i].aliases = na;
            if (!(na[v[i].naliases] = hamf__strdup(al[j].key))) return nomem();
            v[i].naliases++;
        }
    }
    return HAMF_OK;
}

/* One registered model with tags, aliases and live versions. */
static hamf_status load_rm(struct hamf__db *db, const char *name, struct rm *r)
{
    memset(r, 0, sizeof *r);
    hamf_status s = check_name(name);
    if (s) return s;
    struct hamf__stmt *st = NULL;
    if ((s = prep(db, &st,
                  "SELECT name, creation_time, last_updated_time, description FROM registered_models WHERE name = ?",
                  "t", name)))
        return s;
    bool row = false;
    if (!(s = hamf__db_step(st, &row)) && row) {
        r->name = hamf__strdup(hamf__db_col_text(st, 0));
        r->ctime = hamf__db_col_i64(st, 1);
        r->mtime = hamf__db_col_i64(st, 2);
        r->description = dup_or_null(st, 3);
        if (!r->name) s = nomem();
    }
    hamf__db_finalize(st);
    if (s) goto fail;
    if (!row) return not_found_rm(name);
    if ((s = load_kvs(db, "SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key", name, &r->tags,
                      &r->ntags)))
        goto fail;
    if ((s = load_kvs(db, "SELECT alias, CAST(version AS TEXT) FROM model_aliases WHERE model_name = ? ORDER BY alias",
                      name, &r->aliases, &r->naliases)))
        goto fail;
    if ((s = load_mvs(db, name, false, &r->versions, &r->nversions))) goto fail;
    return HAMF_OK;
fail:
    rm_clear(r);
    return s;
}

/* ---- JSON ---- */

static void put_str(struct hamf__buf *b, hamf_status *s, const char *key, const char *v)
{
    if (*s || !v) return;
    if (!(*s = hamf__buf_printf(b, "%s\"%s\":", b->len && b->data[b->len - 1] != '{' ? "," : "", key)))
        *s = hamf__json_str(b, v, (size_t)-1);
}

static void put_i64(struct hamf__buf *b, hamf_status *s, const char *key, int64_t v)
{
    if (*s) return;
    *s = hamf__buf_printf(b, "%s\"%s\":%lld", b->len && b->data[b->len - 1] != '{' ? "," : "", key, (long long)v);
}

static void put_tags(struct hamf__buf *b, hamf_status *s, const struct kv *t, size_t n)
{
    if (*s || !n) return;
    *s = hamf__buf_puts(b, ",\"tags\":[");
    for (size_t i = 0; i < n && !*s; i++) {
        if (i) *s = hamf__buf_putc(b, ',');
        if (!*s) *s = hamf__buf_puts(b, "{\"key\":");
        if (!*s) *s = hamf__json_str(b, t[i].key, (size_t)-1);
        if (!*s) *s = hamf__buf_puts(b, ",\"value\":");
        if (!*s) *s = hamf__json_str(b, t[i].value, (size_t)-1);
        if (!*s) *s = hamf__buf_putc(b, '}');
    }
    if (!*s) *s = hamf__buf_putc(b, ']');
}

/* A ModelVersion object in proto field order; with_aliases false writes
 * none (MLflow's latest_versions and search results carry none). */
static hamf_status mv_json(struct hamf__buf *b, const struct mv *m, bool with_aliases)
{
    hamf_status s = hamf__buf_putc(b, '{');
    put_str(b, &s, "name", m->name);
    if (!s) s = hamf__buf_printf(b, ",\"version\":\"%lld\"", (long long)m->version);
    put_i64(b, &s, "creation_timestamp", m->ctime);
    put_i64(b, &s, "last_updated_timestamp", m->mtime);
    put_str(b, &s, "user_id", m->user_id);
    put_str(b, &s, "current_stage", m->stage);
    put_str(b, &s, "description", m->description);
    put_str(b, &s, "source", m->source);
    put_str(b, &s, "run_id", m->run_id);
    put_str(b, &s, "status", m->status);
    put_str(b, &s, "status_message", m->status_message && *m->status_message ? m->status_message : NULL);
    put_tags(b, &s, m->tags, m->ntags);
    put_str(b, &s, "run_link", m->run_link);
    if (with_aliases && m->naliases && !s) {
        s = hamf__buf_puts(b, ",\"aliases\":[");
        for (size_t i = 0; i < m->naliases && !s; i++) {
            if (i) s = hamf__buf_putc(b, ',');
            if (!s) s = hamf__json_str(b, m->aliases[i], (size_t)-1);
        }
        if (!s) s = hamf__buf_putc(b, ']');
    }
    if (!s) s = hamf__buf_putc(b, '}');
    return s;
}

/* Latest live version per stage, in order of first appearance as MLflow's
 * dict (by version order of the rows). */
static size_t latest_per_stage(const struct rm *r, const struct mv **pick)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nversions; i++) {
        const struct mv *v = &r->versions[i];
        size_t j;
        for (j = 0; j < n; j++)
            if (!strcmp(pick[j]->stage, v->stage)) break;
        if (j == n) pick[n++] = v;
        else if (pick[j]->version < v->version) pick[j] = v;
    }
    return n;
}

static hamf_status rm_json(struct hamf__buf *b, const struct rm *r)
{
    hamf_status s = hamf__buf_putc(b, '{');
    put_str(b, &s, "name", r->name);
    put_i64(b, &s, "creation_timestamp", r->ctime);
    if (r->mtime) put_i64(b, &s, "last_updated_timestamp", r->mtime);
    put_str(b, &s, "description", r->description && *r->description ? r->description : NULL);
    const struct mv *pick[8];
    size_t n = r->nversions ? latest_per_stage(r, pick) : 0;
    if (n && !s) {
        s = hamf__buf_puts(b, ",\"latest_versions\":[");
        for (size_t i = 0; i < n && !s; i++) {
            if (i) s = hamf__buf_putc(b, ',');
            if (!s) s = mv_json(b, pick[i], false);
        }
        if (!s) s = hamf__buf_putc(b, ']');
    }
    put_tags(b, &s, r->tags, r->ntags);
    if (r->naliases && !s) {
        s = hamf__buf_puts(b, ",\"aliases\":[");
        for (size_t i = 0; i < r->naliases && !s; i++) {
            if (i) s = hamf__buf_putc(b, ',');
            if (!s) s = hamf__buf_puts(b, "{\"alias\":");
            if (!s) s = hamf__json_str(b, r->aliases[i].key, (size_t)-1);
            if (!s) s = hamf__buf_printf(b, ",\"version\":\"%s\"}", r->aliases[i].value);
        }
        if (!s) s = hamf__buf_putc(b, ']');
    }
    if (!s) s = hamf__buf_putc(b, '}');
    return s;
}

static hamf_status emit_rm(struct hamf__db *db, const char *name, struct hamf__buf *out)
{
    if (!out) return HAMF_OK;
    struct rm r;
    hamf_status s = load_rm(db, name, &r);
    if (s) return s;
    s = hamf__buf_puts(out, "{\"registered_model\":");
    if (!s) s = rm_json(out, &r);
    if (!s) s = hamf__buf_putc(out, '}');
    rm_clear(&r);
    return s;
}

/* One live version of a model (with tags and aliases). */
static hamf_status load_one_mv(struct hamf__db *db, const char *name, int64_t version, struct mv *out)
{
    struct rm r;
    hamf_status s = load_rm(db, name, &r);
    if (s) {
        /* MLflow looks the version up directly: a missing model is a missing version */
        if (s == HAMF_ERR_NOTFOUND)
            return hamf__err(HAMF_ERR_NOTFOUND, "Model Version (name=%s, version=%lld) not found", name,
                             (long long)version);
        return s;
    }
    struct mv *hit = NULL;
    for (size_t i = 0; i < r.nversions; i++)
        if (r.versions[i].version == version) hit = &r.versions[i];
    if (!hit) {
        rm_clear(&r);
        return hamf__err(HAMF_ERR_NOTFOUND, "Model Version (name=%s, version=%lld) not found", name,
                         (long long)version);
    }
    s = attach_aliases(hit, 1, r.aliases, r.naliases);
    if (!s) {
        *out = *hit;
        memset(hit, 0, sizeof *hit);
    }
    rm_clear(&r);
    return s;
}

static hamf_status emit_mv(struct hamf__db *db, const char *name, int64_t version, struct hamf__buf *out)
{
    if (!out) return HAMF_OK;
    struct mv m;
    hamf_status s = load_one_mv(db, name, version, &m);
    if (s) return s;
    s = hamf__buf_puts(out, "{\"model_version\":");
    if (!s) s = mv_json(out, &m, true);
    if (!s) s = hamf__buf_putc(out, '}');
    mv_clear(&m);
    return s;
}

/* ---- audit ---- */

static hamf_status audit(struct hamf__db *db, const char *table, const char *op, const char *name, bool has_version,
                         int64_t version, const char *k1, const char *v1, const char *k2, const char *v2)
{
    struct hamf__jobj j;
    hamf__jobj_init(&j);
    hamf__jobj_str(&j, "name", name);
    if (has_version) hamf__jobj_i64(&j, "version", version);
    if (k1) hamf__jobj_str(&j, k1, v1);
    if (k2) hamf__jobj_str(&j, k2, v2);
    hamf__jobj_i64(&j, "time_ms", hamf__now_ms());
    hamf_status s = hamf__jobj_finish(&j);
    if (!s) s = hamf__store_audit(db, table, op, !strcmp(op, "DELETE") ? j.buf.data : NULL,
                                  strcmp(op, "DELETE") ? j.buf.data : NULL);
    hamf__jobj_free(&j);
    return s;
}

static hamf_status rm_exists(struct hamf__db *db, const char *name)
{
    bool found;
    int64_t x;
    hamf_status s = query_i64(db, &found, &x, "SELECT 1 FROM registered_models WHERE name = ?", "t", name);
    if (s) return s;
    return found ? HAMF_OK : not_found_rm(name);
}

static hamf_status mv_exists(struct hamf__db *db, const char *name, int64_t version)
{
    bool found;
    int64_t x;
    hamf_status s = query_i64(db, &found, &x,
                              "SELECT 1 FROM model_versions WHERE model_name = ? AND version = ? AND"
                              " (current_stage IS NULL OR current_stage <> '" STAGE_DELETED "')",
                              "ti", name, version);
    if (s) return s;
    if (!found)
        return hamf__err(HAMF_ERR_NOTFOUND, "Model Version (name=%s, version=%lld) not found", name,
                         (long long)version);
    return HAMF_OK;
}

static hamf_status touch_rm(struct hamf__db *db, const char *name, int64_t now)
{
    return exec(db, "UPDATE registered_models SET last_updated_time = ? WHERE name = ?", "it", now, name);
}

/* ---- registered models ---- */

hamf_status hamf__mreg_rm_create(hamf_store *hs, const char *name, const struct hamf__mreg_kv *tags, size_t ntags,
                                 const char *description, struct hamf__buf *out)
{
    struct hamf__db *db = hamf__store_db(hs);
    hamf_status s = check_name(name);
    for (size_t i = 0; i < ntags && !s; i++) s = check_tag("Registered model", tags[i].key, tags[i].value);
    if (s) return s;
    if ((s = hamf__db_begin(db))) return s;
    int64_t now = hamf__now_ms();
    s = exec(db, "INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (?, ?, ?, ?)",
             "tiit", name, now, now, description);
    if (s == HAMF_ERR_EXISTS || s == HAMF_ERR_CONSTRAINT)
        s = hamf__err(HAMF_ERR_EXISTS, "Registered Model (name=%s) already exists.", name);
    /* later duplicates of a key win, as in MLflow's dict */
    for (size_t i = 0; i < ntags && !s; i++) {
        if ((s = exec(db, "DELETE FROM registered_model_tags WHERE name = ? AND key = ?", "tt", name, tags[i].key)))
            break;
        s = exec(db, "INSERT INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)", "ttt", name, tags[i].key,
                 tags[i].value ? tags[i].value : "");
    }
    if (!s) s = audit(db, "registered_models", "INSERT", name, false, 0, "description", description, NULL, NULL);
    if (!s) s = emit_rm(db, name, out);
    return hamf__db_tx_end(db, true, s); /* commit, or roll back on failure */
}

hamf_status hamf__mreg_rm_get(hamf_store *hs, const char *name, struct hamf__buf *out)
{
    return emit_rm(hamf__store_db(hs), name, out);
}

hamf_status hamf__mreg_rm_update(hamf_store *hs, const char *name, const char *description, struct hamf__buf *out)
{
    struct hamf__db *db = hamf__store_db(hs);
    hamf_status s = check_name(name);
    if (s) return s;
    if ((s = hamf__db_begin(db))) return s;
    if (!(s = rm_exists(db, name)))
        s = exec(db, "UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?", "tit",
                 description, hamf__now_ms(), name);
    if (!s) s = audit(db, "registered_models", "UPDATE", name, false, 0, "description", description, NULL, NULL);
    if (!s) s = emit_rm(db, name, out);
    return hamf__db_tx_end(db, true, s); /* commit, or roll back on failure */
}

hamf_status hamf__mreg_rm_rename(hamf_store *hs, const char *name, const char *new_name, struct hamf__buf *out)
{
    struct hamf__db *db = hamf__store_db(hs);
    hamf_status s = check_name(new_name);
    if (!s) s = check_name(name);
    if (s) return s;
    if ((s = hamf__db_begin(db))) return s;
    int64_t now = hamf__now_ms();
    if ((s = rm_exists(db, name))) goto fail;
    if (strcmp(name, new_name)) {
        bool found;
        int64_t x;
        if ((s = query_i64(db, &found, &x, "SELECT 1 FROM registered_models WHERE name = ?", "t", new_name)))
            goto fail;
        if (found) {
            s = hamf__err(HAMF_ERR_EXISTS, "Registered Model (name=%s) already exists.", new_name);
            goto fail;
        }
        static const char *const renames[] = {
            "UPDATE registered_models SET name = ? WHERE name = ?",
            "UPDATE registered_model_tags SET name = ? WHERE name = ?",
            "UPDATE model_version_tags SET name = ? WHERE name = ?",
            "UPDATE model_aliases SET model_name = ? WHERE model_name = ?",
            "UPDATE model_versions SET model_name = ? WHERE model_name = ?",
            "UPDATE model_promotions SET model_name = ? WHERE model_name = ?",
            "UPDATE retrain_decisions SET model_name = ? WHERE model_name = ?",
            "UPDATE drift_reports SET model_name = ? WHERE model_name = ?",
        };
        for (size_t i = 0; i < HAMF_ARRAY_LEN(renames) && !s; i++) s = exec(db, renames[i], "tt", new_name, name);
        if (s) goto fail;
    }
    if ((s = exec(db, "UPDATE model_versions SET last_updated_time = ? WHERE model_name = ?", "it", now, new_name)))
        goto fail;
    if ((s = touch_rm(db, new_name, now))) goto fail;
    if ((s = audit(db, "registered_models", "UPDATE", new_name, false, 0, "old_name", name, NULL, NULL))) goto fail;
    if ((s = emit_rm(db, new_name, out))) goto fail;
    return hamf__db_commit(db);
fail:
    hamf__db_rollback(db);
    return s;
}

hamf_status hamf__mreg_rm_delete(hamf_store *hs, const char *name)
{
    struct hamf__db *db = hamf__store_db(hs);
    hamf_status s = check_name(name);
    if (s) return s;
    if ((s = hamf__db_begin(db))) return s;
    if ((s = rm_exists(db, name))) goto fail;
    /* versions made by hamf's training stay (their models_master rows,
     * retrain decisions and drift reports refer to them); they are marked
     * deleted, as MLflow marks a deleted version, and leave every view */
    static const char *const dels[] = {
        "DELETE FROM registered_model_tags WHERE name = ?",
        "DELETE FROM model_version_tags WHERE name = ?",
        "DELETE FROM model_aliases WHERE model_name = ?",
        "DELETE FROM model_versions WHERE model_name = ? AND model_id IS NULL",
        "UPDATE model_versions SET current_stage = '" STAGE_DELETED "' WHERE model_name = ?",
        "DELETE FROM registered_models WHERE name = ?",
    };
    for (size_t i = 0; i < HAMF_ARRAY_LEN(dels) && !s; i++) s = exec(db, dels[i], "t", name);
    if (s) goto fail;
    if ((s = audit(db, "registered_models", "DELETE", name, false, 0, NULL, NULL, NULL, NULL))) goto fail;
    return hamf__db_commit(db);
fail:
    hamf__db_rollback(db);
    return s;
}

hamf_status hamf__mreg_rm_set_tag(hamf_store *hs, const char *name, const char *key, const char *value)
{
    struct hamf__db *db = hamf__store_db(hs);
    hamf_status s = check_name(name);
    if (!s) s = check_tag("Registered model", key, value);
    if (s) return s;
    if ((s = hamf__db_begin(db))) return s;
    if (!(s = rm_exists(db, name)) &&
        !(s = exec(db, "DELETE FROM registered_model_tags WHERE name = ? AND key = ?", "tt", name, key)))
        s = exec(db, "INSERT INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)", "ttt", name, key,
                 value ? value : "");
    if (!s) s = audit(db, "registered_model_tags", "INSERT", name, false, 0, "key", key, "value", value ? value : "");
    return hamf__db_tx_end(db, true, s); /* commit, or roll back on failure */
}

hamf_status hamf__mreg_rm_delete_tag(hamf_store *hs, const char *name, const char *key)
{
    struct hamf__db *db = hamf__store_db(hs);
    hamf_status s = check_name(name);
    if (!s) s = check_tag("Registered model", key, NULL);
    if (s) return s;
    if ((s = hamf__db_begin(db))) return s;
    if (!(s = rm_exists(db, name)))
        s = exec(db, "DELETE FROM registered_model_tags WHERE name = ? AND key = ?", "tt", name, key);
    if (!s) s = audit(db, "registered_model_tags", "DELETE", name, false, 0, "key", key, NULL, NULL);
    return hamf__db_tx_end(db, true, s); /* commit, or roll back on failure */
}

hamf_status hamf__mreg_rm_latest(hamf_store *hs, const char *name, const char *const *st_list, size_t nst,
                                 struct hamf__buf *out)
{
    const char *want[8];
    size_t nwant = 0;
    hamf_status s;
    for (size_t i = 0; i < nst; i++) {
        const char *c;
        if ((s = canonical_stage(st_list[i], &c))) return s;
        if (nwant < HAMF_ARRAY_LEN(want)) want[nwant++] = c;
    }
    struct rm r;
    if ((s = load_rm(hamf__store_db(hs), name, &r))) return s;
    const struct mv *pick[8];
    size_t n = r.nversions ? latest_per_stage(&r, pick) : 0;
    bool first = true;
    for (size_t i = 0; i < n && !s; i++) {
        bool ok = nwant == 0;
        for (size_t j = 0; j < nwant && !ok; j++) ok = !strcmp(want[j], pick[i]->stage);
        if (!ok) continue;
        s = hamf__buf_puts(out, first ? "\"model_versions\":[" : ",");
        first = false;
        if (!s) s = mv_json(out, pick[i], false);
    }
    if (!first && !s) s = hamf__buf_putc(out, ']');
    rm_clear(&r);
    return s;
}

/* ---- aliases ---- */

hamf_status hamf__mreg_alias_set(hamf_store *hs, const char *name, const char *alias, const char *version)
{
    struct hamf__db *db = hamf__store_db(hs);
    int64_t v;
    hamf_status s = check_name(name);
    if (!s) s = check_alias(alias);
    if (!s) s = parse_version(version, &v);
    if (s) return s;
    if ((s = hamf__db_begin(db))) return s;
    bool found;
    int64_t old = 0;
    char now[32];
    hamf__store_now(now);
    if ((s = mv_exists(db, name, v))) goto fail;
    if ((s = query_i64(db, &found, &old, "SELECT version FROM model_aliases WHERE model_name = ? AND alias = ?", "tt",
                       name, alias)))
        goto fail;
    if (found)
        s = exec(db, "UPDATE model_aliases SET version = ?, updated_at = ? WHERE model_name = ? AND alias = ?", "itt"
                 "t", v, now, name, alias);
    else
        s = exec(db, "INSERT INTO model_aliases (model_name, alias, version, updated_at) VALUES (?, ?, ?, ?)", "ttit",
                 name, alias, v, now);
    if (s) goto fail;
    /* the champion alias is hamf's serving pointer: its history is the
     * promotion log that rollback and the Models page read */
    if (!strcmp(alias, "champion") && !(found && old == v)) {
        if (found)
            s = exec(db,
                     "INSERT INTO model_promotions (model_name, from_version, to_version, action, reason, created_at)"
                     " VALUES (?, ?, ?, 'promote', 'alias set through the MLflow API', ?)",
                     "tiit", name, old, v, now);
        else
            s = exec(db,
                     "INSERT INTO model_promotions (model_name, from_version, to_version, action, reason, created_at)"
                     " VALUES (?, NULL, ?, 'promote', 'alias set through the MLflow API', ?)",
                     "tit", name, v, now);
        if (!s) s = audit(db, "model_promotions", "INSERT", name, true, v, "action", "promote", "reason",
                          "alias set through the MLflow API");
        if (s) goto fail;
    }
    if ((s = audit(db, "model_aliases", found ? "UPDATE" : "INSERT", name, true, v, "alias", alias, "via", "mlflow-api")))
        goto fail;
    return hamf__db_commit(db);
fail:
    hamf__db_rollback(db);
    return s;
}

hamf_status hamf__mreg_alias_delete(hamf_store *hs, const char *name, const char *alias)
{
    struct hamf__db *db = hamf__store_db(hs);
    hamf_status s = check_name(name);
    if (!s) s = check_alias(alias);
    if (s) return s;
    if ((s = hamf__db_begin(db))) return s;
    if (!(s = rm_exists(db, name)))
        s = exec(db, "DELETE FROM model_aliases WHERE model_name = ? AND alias = ?", "tt", name, alias);
    if (!s) s = audit(db, "model_aliases", "DELETE", name, false, 0, "alias", alias, "via", "mlflow-api");
    return hamf__db_tx_end(db, true, s); /* commit, or roll back on failure */
}

hamf_status hamf__mreg_mv_by_alias(hamf_store *hs, const char *name, const char *alias, struct hamf__buf *out)
{
    struct hamf__db *db = hamf__store_db(hs);
    hamf_status s = check_name(name);
    if (!s) s = check_alias(alias);
    if (s) return s;
    bool found;
    int64_t v;
    if ((s = query_i64(db, &found, &v, "SELECT version FROM model_aliases WHERE model_name = ? AND alias = ?", "tt",
                       name, alias)))
        return s;
    if (!found) return hamf__err(HAMF_ERR_CONSTRAINT, "Registered model alias %s not found.", alias);
    return emit_mv(db, name, v, out);
}

/* ---- model versions ---- */

hamf_status hamf__mreg_mv_create(hamf_store *hs, const char *name, const char *source, const char *run_id,
                                 const struct hamf__mreg_kv *tags, size_t ntags, const char *run_link,
                                 const char *description, struct hamf__buf *out)
{
    struct hamf__db *db = hamf__store_db(hs);
    hamf_status s = check_name(name);
    for (size_t i = 0; i < ntags && !s; i++) s = check_tag("Model version", tags[i].key, tags[i].value);
    if (s) return s;
    /* a models:/ source: the storage location is that version's */
    char *storage = NULL;
    if (source && !strncmp(source, "models:/", 8)) {
        const char *p = source + 8, *slash = strrchr(p, '/'), *at = strrchr(p, '@');
        char *mname = NULL;
        int64_t mv = 0;
        bool ok = false;
        if (at && (!slash || at > slash)) {
            mname = hamf__strndup(p, (size_t)(at - p));
            if (mname && query_i64(db, &ok, &mv, "SELECT version FROM model_aliases WHERE model_name = ? AND alias = ?",
                                   "tt", mname, at + 1))
                ok = false;
        } else if (slash) {
            mname = hamf__strndup(p, (size_t)(slash - p));
            ok = hamf__parse_i64(slash + 1, strlen(slash + 1), &mv);
        }
        char vs[24];
        snprintf(vs, sizeof vs, "%lld", (long long)mv);
        if (!mname || !ok || hamf__mreg_mv_download_uri_str(hs, mname, vs, &storage)) {
            hamf__free(mname);
            return hamf__err(HAMF_ERR_INTERNAL,
                             "Unable to fetch model from model URI source artifact location '%s'.Error: %s", source,
                             hamf_last_error());
        }
        hamf__free(mname);
    }
    if ((s = hamf__db_begin(db))) {
        hamf__free(storage);
        return s;
    }
    int64_t now = hamf__now_ms(), v = 0;
    bool found;
    char created[32];
    hamf__store_now(created);
    if ((s = rm_exists(db, name))) goto fail;
    if ((s = query_i64(db, &found, &v, "SELECT MAX(version) FROM model_versions WHERE model_name = ?", "t", name)))
        goto fail;
    v = found ? v + 1 : 1;
    if ((s = exec(db,
                  "INSERT INTO model_versions (model_name, version, model_id, run_id, artifact_path, train_bins, source,"
                  " created_at, creation_time, last_updated_time, description, current_stage, source_uri, run_link,"
                  " status) VALUES (?, ?, NULL, ?, ?, NULL, 'mlflow', ?, ?, ?, ?, 'None', ?, ?, 'READY')",
                  "titttiittt", name, v, run_id, storage ? storage : source, created, now, now,
                  description ? description : "", source, run_link ? run_link : "")))
        goto fail;
    for (size_t i = 0; i < ntags && !s; i++) {
        if ((s = exec(db, "DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?", "tit", name, v,
                      tags[i].key)))
            break;
        s = exec(db, "INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)", "titt", name, v,
                 tags[i].key, tags[i].value ? tags[i].value : "");
    }
    if (s) goto fail;
    if ((s = touch_rm(db, name, now))) goto fail;
    if ((s = audit(db, "model_versions", "INSERT", name, true, v, "source", source, "run_id", run_id))) goto fail;
    if ((s = emit_mv(db, name, v, out))) goto fail;
    hamf__free(storage);
    return hamf__db_commit(db);
fail:
    hamf__free(storage);
    hamf__db_rollback(db);
    return s;
}

hamf_status hamf__mreg_mv_get(hamf_store *hs, const char *name, const char *version, struct hamf__buf *out)
{
    int64_t v;
    hamf_status s = check_name(name);
    if (!s) s = parse_version(version, &v);
    if (s) return s;
    return emit_mv(hamf__store_db(hs), name, v, out);
}

hamf_status hamf__mreg_mv_update(hamf_store *hs, const char *name, const char *version, const char *description,
                                 struct hamf__buf *out)
{
    struct hamf__db *db = hamf__store_db(hs);
    int64_t v;
    hamf_status s = check_name(name);
    if (!s) s = parse_version(version, &v);
    if (s) return s;
    if ((s = hamf__db_begin(db))) return s;
    if (!(s = mv_exists(db, name, v)))
        s = exec(db, "UPDATE model_versions SET description = ?, last_updated_time = ? WHERE model_name = ? AND version = ?",
                 "titi", description, hamf__now_ms(), name, v);
    if (!s) s = audit(db, "model_versions", "UPDATE", name, true, v, "description", description, NULL, NULL);
    if (!s) s = emit_mv(db, name, v, out);
    return hamf__db_tx_end(db, true, s); /* commit, or roll back on failure */
}

hamf_status hamf__mreg_mv_transition(hamf_store *hs, const char *name, const char *version, const char *stage,
                                     bool archive_existing, struct hamf__buf *out)
{
    struct hamf__db *db = hamf__store_db(hs);
    int64_t v;
    const char *canon;
    hamf_status s = canonical_stage(stage, &canon);
    if (s) return s;
    if (archive_existing && strcmp(canon, "Staging") && strcmp(canon, "Production"))
        return hamf__err(HAMF_ERR_INTERNAL,
                         "Model version transition cannot archive existing model versions because '%s' is not an "
                         "Active stage. Valid stages are ['Staging', 'Production']",
                         stage);
    if ((s = check_name(name)) || (s = parse_version(version, &v))) return s;
    if ((s = hamf__db_begin(db))) return s;
    int64_t now = hamf__now_ms();
    if (archive_existing &&
        (s = exec(db,
                  "UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ? WHERE model_name = ? AND"
                  " version <> ? AND current_stage = ?",
                  "itit", now, name, v, canon)))
        goto fail;
    if ((s = mv_exists(db, name, v))) goto fail;
    if ((s = exec(db, "UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE model_name = ? AND version = ?",
                  "titi", canon, now, name, v)))
        goto fail;
    if ((s = touch_rm(db, name, now))) goto fail;
    if ((s = audit(db, "model_versions", "UPDATE", name, true, v, "current_stage", canon, NULL, NULL))) goto fail;
    if ((s = emit_mv(db, name, v, out))) goto fail;
    return hamf__db_commit(db);
fail:
    hamf__db_rollback(db);
    return s;
}

hamf_status hamf__mreg_mv_delete(hamf_store *hs, const char *name, const char *version)
{
    struct hamf__db *db = hamf__store_db(hs);
    int64_t v;
    hamf_status s = check_name(name);
    if (!s) s = parse_version(version, &v);
    if (s) return s;
    if ((s = hamf__db_begin(db))) return s;
    int64_t now = hamf__now_ms();
    if ((s = mv_exists(db, name, v))) goto fail;
    if ((s = exec(db, "DELETE FROM model_aliases WHERE model_name = ? AND version = ?", "ti", name, v))) goto fail;
    /* kept as a tombstone so the number is never reused (MLflow's rule);
     * hamf's own copy of the model file stays in the content store */
    if ((s = exec(db,
                  "UPDATE model_versions SET current_stage = '" STAGE_DELETED "', last_updated_time = ?,"
                  " description = NULL, user_id = NULL, source_uri = 'REDACTED-SOURCE-PATH',"
                  " run_id = 'REDACTED-RUN-ID', run_link = 'REDACTED-RUN-LINK', status_message = NULL"
                  " WHERE model_name = ? AND version = ?",
                  "iti", now, name, v)))
        goto fail;
    if ((s = touch_rm(db, name, now))) goto fail;
    if ((s = audit(db, "model_versions", "DELETE", name, true, v, NULL, NULL, NULL, NULL))) goto fail;
    return hamf__db_commit(db);
fail:
    hamf__db_rollback(db);
    return s;
}

hamf_status hamf__mreg_mv_download_uri_str(hamf_store *hs, const char *name, const char *version, char **out)
{
    struct hamf__db *db = hamf__store_db(hs);
    int64_t v;
    hamf_status s = check_name(name);
    if (!s) s = parse_version(version, &v);
    if (s) return s;
    struct mv m;
    if ((s = load_one_mv(db, name, v, &m))) return s;
    /* MLflow: storage_location or source. hamf's versions made by
     * training: their run's model folder when there is a run */
    const char *uri = !strcmp(m.origin, "mlflow") ? (m.storage ? m.storage : m.source) : m.source;
    char *r = hamf__strdup(uri);
    mv_clear(&m);
    if (!r) return nomem();
    *out = r;
    return HAMF_OK;
}

hamf_status hamf__mreg_mv_download_uri(hamf_store *hs, const char *name, const char *version, struct hamf__buf *out)
{
    char *u = NULL;
    hamf_status s = hamf__mreg_mv_download_uri_str(hs, name, version, &u);
    if (s) return s;
    s = hamf__buf_puts(out, "\"artifact_uri\":");
    if (!s) s = hamf__json_str(out, u, (size_t)-1);
    hamf__free(u);
    return s;
}

hamf_status hamf__mreg_mv_set_tag(hamf_store *hs, const char *name, const char *version, const char *key,
                                  const char *value)
{
    struct hamf__db *db = hamf__store_db(hs);
    int64_t v;
    hamf_status s = check_name(name);
    if (!s) s = parse_version(version, &v);
    if (!s) s = check_tag("Model version", key, value);
    if (s) return s;
    if ((s = hamf__db_begin(db))) return s;
    if (!(s = mv_exists(db, name, v)) &&
        !(s = exec(db, "DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?", "tit", name, v, key)))
        s = exec(db, "INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)", "titt", name, v,
                 key, value ? value : "");
    if (!s) s = audit(db, "model_version_tags", "INSERT", name, true, v, "key", key, "value", value ? value : "");
    return hamf__db_tx_end(db, true, s); /* commit, or roll back on failure */
}

hamf_status hamf__mreg_mv_delete_tag(hamf_store *hs, const char *name, const char *version, const char *key)
{
    struct hamf__db *db = hamf__store_db(hs);
    int64_t v;
    hamf_status s = check_name(name);
    if (!s) s = parse_version(version, &v);
    if (!s) s = check_tag("Model version", key, NULL);
    if (s) return s;
    if ((s = hamf__db_begin(db))) return s;
    if (!(s = mv_exists(db, name, v)))
        s = exec(db, "DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?", "tit", name, v, key);
    if (!s) s = audit(db, "model_version_tags", "DELETE", name, true, v, "key", key, NULL, NULL);
    return hamf__db_tx_end(db, true, s); /* commit, or roll back on failure */
}

/* ---- search: filter grammar of SearchModelUtils / SearchModelVersionUtils ----
 *
 *   filter := clause { AND clause }
 *   clause := ident op value
 *   ident  := [ (attribute|tag|tags) '.' ] key   key: word, `back`, "dq" or 'sq'
 *   op     := = | != | <> | > | >= | < | <= | LIKE | ILIKE | IN
 *   value  := 'string' | "string" | number | '(' 'string' {, 'string'} ')'
 */

enum op { OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE, OP_LIKE, OP_ILIKE, OP_IN };
static const char *const op_names[] = {"=", "!=", ">", ">=", "<", "<=", "LIKE", "ILIKE", "IN"};

struct clause {
    bool tag;
    char *key;
    enum op op;
    bool is_num;
    int64_t num;
    char **strs;
    size_t nstrs;
};

struct filter {
    struct clause *c;
    size_t n;
};

static void filter_free(struct filter *f)
{
    for (size_t i = 0; i < f->n; i++) {
        hamf__free(f->c[i].key);
        for (size_t j = 0; j < f->c[i].nstrs; j++) hamf__free(f->c[i].strs[j]);
        hamf__free(f->c[i].strs);
    }
    hamf__free(f->c);
    memset(f, 0, sizeof *f);
}

static void skip_ws(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r') (*p)++;
}

static bool word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

static char *read_q(const char **p)
{
    char q = **p;
    const char *s = ++*p;
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    for (;;) {
        if (!**p) {
            hamf__buf_free(&b);
            return NULL;
        }
        if (**p == q) {
            if ((*p)[1] == q) {
                if (hamf__buf_putc(&b, q)) break;
                *p += 2;
                continue;
            }
            (*p)++;
            if (hamf__buf_putc(&b, '\0')) break;
            return hamf__buf_detach(&b, NULL);
        }
        if (hamf__buf_putc(&b, **p)) break;
        (*p)++;
    }
    (void)s;
    hamf__buf_free(&b);
    return NULL;
}

static hamf_status bad_filter(const char *text)
{
    return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid filter '%s'. Could not be parsed.", text);
}

/* versions: the model-version grammar (more attributes, numeric
 * version_number, run_id IN (...)). */
static hamf_status parse_filter(const char *text, bool versions, struct filter *f)
{
    memset(f, 0, sizeof *f);
    if (!text) return HAMF_OK;
    const char *p = text;
    skip_ws(&p);
    size_t cap = 0;
    hamf_status s = HAMF_OK;
    static const char valid_rm[] = "{'name'}";
    static const char valid_mv[] = "{'name', 'version_number', 'run_id', 'source_path'}";
    while (*p) {
        if (f->n) {
            if (strncasecmp(p, "AND", 3) || word_char(p[3])) {
                const char *e = p;
                while (*e && *e != ' ') e++;
                s = hamf__err(HAMF_ERR_CONSTRAINT, "Invalid clause(s) in filter string: %.*s", (int)(e - p), p);
                goto fail;
            }
            p += 3;
            skip_ws(&p);
        }
        if ((s = grow((void **)&f->c, &cap, f->n, sizeof *f->c))) goto fail;
        struct clause *c = &f->c[f->n++];
        /* identifier */
        const char *st = p;
        char *ent = NULL, *key = NULL;
        if (*p == '`' || *p == '"' || *p == '\'') {
            key = read_q(&p);
        } else {
            while (word_char(*p)) p++;
            if (*p == '.') {
                ent = hamf__strndup(st, (size_t)(p - st));
                p++;
                if (*p == '`' || *p == '"' || *p == '\'') key = read_q(&p);
                else {
                    const char *ks = p;
                    while (word_char(*p) || *p == '.' || *p == '-' || *p == '/') p++;
                    key = hamf__strndup(ks, (size_t)(p - ks));
                }
            } else {
                key = hamf__strndup(st, (size_t)(p - st));
            }
        }
        if (!key || !*key) {
            hamf__free(ent);
            hamf__free(key);
            s = bad_filter(text);
            goto fail;
        }
        c->key = key;
        if (ent) {
            if (!strcmp(ent, "tag") || !strcmp(ent, "tags")) c->tag = true;
            else if (strcmp(ent, "attribute")) {
                s = hamf__err(HAMF_ERR_CONSTRAINT,
                              "Invalid entity type '%s'. Valid entity types are ('attribute', 'tag', 'tags')", ent);
                hamf__free(ent);
                goto fail;
            }
            hamf__free(ent);
        }
        if (!c->tag) {
            bool ok = !strcmp(key, "name") ||
                      (versions && (!strcmp(key, "version_number") || !strcmp(key, "run_id") || !strcmp(key, "source_path")));
            if (!ok) {
                s = hamf__err(HAMF_ERR_CONSTRAINT, "Invalid attribute key '%s' specified. Valid keys are '%s'", key,
                              versions ? valid_mv : valid_rm);
                goto fail;
            }
        }
        /* operator */
        skip_ws(&p);
        if (p[0] == '!' && p[1] == '=') c->op = OP_NE, p += 2;
        else if (p[0] == '<' && p[1] == '>') c->op = OP_NE, p += 2;
        else if (p[0] == '>' && p[1] == '=') c->op = OP_GE, p += 2;
        else if (p[0] == '<' && p[1] == '=') c->op = OP_LE, p += 2;
        else if (p[0] == '=') c->op = OP_EQ, p += 1 + (p[1] == '=');
        else if (p[0] == '>') c->op = OP_GT, p++;
        else if (p[0] == '<') c->op = OP_LT, p++;
        else if (!strncasecmp(p, "ILIKE", 5) && !word_char(p[5])) c->op = OP_ILIKE, p += 5;
        else if (!strncasecmp(p, "LIKE", 4) && !word_char(p[4])) c->op = OP_LIKE, p += 4;
        else if (!strncasecmp(p, "IN", 2) && !word_char(p[2])) c->op = OP_IN, p += 2;
        else {
            s = bad_filter(text);
            goto fail;
        }
        skip_ws(&p);
        /* value */
        if (*p == '\'' || *p == '"') {
            char *v = read_q(&p);
            if (!v) {
                s = bad_filter(text);
                goto fail;
            }
            c->strs = hamf__malloc(sizeof *c->strs);
            if (!c->strs) {
                hamf__free(v);
                s = nomem();
                goto fail;
            }
            c->strs[0] = v;
            c->nstrs = 1;
        } else if (*p == '(') {
            if (c->tag || strcmp(key, "run_id")) {
                s = hamf__err(HAMF_ERR_CONSTRAINT,
                              "Only the 'run_id' attribute supports comparison with a list of quoted string values.");
                goto fail;
            }
            p++;
            size_t lcap = 0;
            for (;;) {
                skip_ws(&p);
                if (*p != '\'' && *p != '"') {
                    s = hamf__err(HAMF_ERR_CONSTRAINT, "While parsing a list in the query, expected a non-empty list"
                                                       " of string values, but got ill-formed list.");
                    goto fail;
                }
                char *v = read_q(&p);
                if (!v) {
                    s = bad_filter(text);
                    goto fail;
                }
                if ((s = grow((void **)&c->strs, &lcap, c->nstrs, sizeof *c->strs))) {
                    hamf__free(v);
                    goto fail;
                }
                c->strs[c->nstrs++] = v;
                skip_ws(&p);
                if (*p == ',') {
                    p++;
                    continue;
                }
                if (*p == ')') {
                    p++;
                    break;
                }
                s = bad_filter(text);
                goto fail;
            }
        } else if (isdigit((unsigned char)*p) || *p == '-') {
            const char *ns = p;
            if (*p == '-') p++;
            while (isdigit((unsigned char)*p)) p++;
            if (c->tag) {
                s = hamf__err(HAMF_ERR_CONSTRAINT,
                              "Expected a quoted string value for tag (e.g. 'my-value'). Got value %.*s",
                              (int)(p - ns), ns);
                goto fail;
            }
            if (!versions || strcmp(key, "version_number")) {
                s = versions ? hamf__err(HAMF_ERR_CONSTRAINT,
                                         "Only the '{'version_number', 'creation_timestamp', "
                                         "'last_updated_timestamp'}' attributes support comparison with numeric "
                                         "values.")
                             : hamf__err(HAMF_ERR_CONSTRAINT,
                                         "Expected a quoted string value for attributes. Got value %.*s",
                                         (int)(p - ns), ns);
                goto fail;
            }
            if (!hamf__parse_i64(ns, (size_t)(p - ns), &c->num)) {
                s = bad_filter(text);
                goto fail;
            }
            c->is_num = true;
        } else {
            const char *vs = p;
            while (*p && *p != ' ') p++;
            s = c->tag ? hamf__err(HAMF_ERR_CONSTRAINT,
                                   "Expected a quoted string value for tag (e.g. 'my-value'). Got value %.*s",
                                   (int)(p - vs), vs)
                       : hamf__err(HAMF_ERR_CONSTRAINT,
                                   "Expected a quoted string value or a list of quoted string values for attributes. "
                                   "Got value %.*s",
                                   (int)(p - vs), vs);
            goto fail;
        }
        /* comparator rules of the SQL store */
        bool numeric_attr = !c->tag && !strcmp(key, "version_number");
        if (c->tag) {
            if (c->op != OP_EQ && c->op != OP_NE && c->op != OP_LIKE && c->op != OP_ILIKE) {
                s = hamf__err(HAMF_ERR_CONSTRAINT, "Invalid comparator for tag: %s", op_names[c->op]);
                goto fail;
            }
        } else if (numeric_attr) {
            if (c->op > OP_LE) {
                s = hamf__err(HAMF_ERR_CONSTRAINT, "Invalid comparator for attribute %s: %s", key, op_names[c->op]);
                goto fail;
            }
            if (!c->is_num) {
                s = hamf__err(HAMF_ERR_CONSTRAINT, "Expected numeric value type for numeric attribute: %s. Found %s",
                              key, c->nstrs ? c->strs[0] : "");
                goto fail;
            }
        } else {
            bool ok = c->op == OP_EQ || c->op == OP_NE || c->op == OP_LIKE || c->op == OP_ILIKE ||
                      (c->op == OP_IN && versions && !strcmp(key, "run_id"));
            if (!ok) {
                s = hamf__err(HAMF_ERR_CONSTRAINT, "Invalid comparator for attribute: %s", op_names[c->op]);
                goto fail;
            }
            if ((c->op == OP_IN) != (c->nstrs != 1 || (p[-1] == ')'))) {
                /* IN needs a list; a list needs IN */
                if (c->op != OP_IN) {
                    s = bad_filter(text);
                    goto fail;
                }
            }
        }
        skip_ws(&p);
    }
    return HAMF_OK;
fail:
    filter_free(f);
    return s;
}

/* SQL LIKE: % any run, _ one character; ci folds ASCII case. */
static bool like(const char *s, const char *pat, bool ci)
{
    while (*pat) {
        if (*pat == '%') {
            while (*pat == '%') pat++;
            if (!*pat) return true;
            for (; *s; s++)
                if (like(s, pat, ci)) return true;
            return false;
        }
        if (!*s) return false;
        if (*pat != '_') {
            char a = *s, b = *pat;
            if (ci) {
                a = (char)tolower((unsigned char)a);
                b = (char)tolower((unsigned char)b);
            }
            if (a != b) return false;
        }
        s++;
        pat++;
    }
    return !*s;
}

static bool str_match(const char *lhs, const struct clause *c)
{
    if (!lhs) return false;
    switch (c->op) {
    case OP_EQ: return !strcmp(lhs, c->strs[0]);
    case OP_NE: return strcmp(lhs, c->strs[0]) != 0;
    case OP_LIKE: return like(lhs, c->strs[0], false);
    case OP_ILIKE: return like(lhs, c->strs[0], true);
    case OP_IN:
        for (size_t i = 0; i < c->nstrs; i++)
            if (!strcmp(lhs, c->strs[i])) return true;
        return false;
    default: return false;
    }
}

static const char *tag_value(const struct kv *t, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i].key, key)) return t[i].value;
    return NULL;
}

static bool mv_matches(const struct mv *m, const struct filter *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct clause *c = &f->c[i];
        if (c->tag) {
            if (!str_match(tag_value(m->tags, m->ntags, c->key), c)) return false;
        } else if (!strcmp(c->key, "version_number")) {
            int64_t a = m->version, b = c->num;
            bool ok = c->op == OP_EQ ? a == b : c->op == OP_NE ? a != b : c->op == OP_GT ? a > b
                    : c->op == OP_GE ? a >= b : c->op == OP_LT ? a < b : a <= b;
            if (!ok) return false;
        } else {
            const char *lhs = !strcmp(c->key, "name") ? m->name : !strcmp(c->key, "run_id") ? m->run_id : m->source;
            if (!str_match(lhs, c)) return false;
        }
    }
    return true;
}

/* ---- order_by ---- */

enum okey { K_NAME, K_VERSION, K_CTIME, K_MTIME };
struct order {
    enum okey key;
    bool asc;
};

static hamf_status parse_order(const char *text, bool versions, struct order *o)
{
    const char *p = text;
    skip_ws(&p);
    const char *ks = p;
    if (!strncmp(p, "attribute.", 10)) ks = p += 10;
    while (word_char(*p)) p++;
    size_t kl = (size_t)(p - ks);
    skip_ws(&p);
    o->asc = true;
    if (!strncasecmp(p, "ASC", 3) && !word_char(p[3])) p += 3;
    else if (!strncasecmp(p, "DESC", 4) && !word_char(p[4])) {
        o->asc = false;
        p += 4;
    }
    skip_ws(&p);
    if (*p || !kl) return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid order_by clause '%s'. Could not be parsed.", text);
#define IS(w) (kl == strlen(w) && !strncmp(ks, w, kl))
    if (IS("name")) o->key = K_NAME;
    else if (versions && IS("version_number")) o->key = K_VERSION;
    else if (IS("creation_timestamp") || (!versions && IS("timestamp"))) o->key = K_CTIME;
    else if (IS("last_updated_timestamp")) o->key = K_MTIME;
    else if (versions)
        return hamf__err(HAMF_ERR_CONSTRAINT,
                         "Invalid order by key '%.*s' specified. Valid keys are {'name', 'version_number', "
                         "'creation_timestamp', 'last_updated_timestamp'}",
                         (int)kl, ks);
    else
        return hamf__err(HAMF_ERR_CONSTRAINT,
                         "Invalid order by key '%.*s' specified.Valid keys are '{'name', 'timestamp'}'", (int)kl, ks);
#undef IS
    /* MLflow's SQL store orders registered models by timestamp = last update */
    if (!versions && o->key == K_CTIME && kl == 9) o->key = K_MTIME;
    return HAMF_OK;
}

static __thread const struct order *t_order;
static __thread size_t t_norder;

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

static int mv_cmp_order(const void *a, const void *b)
{
    const struct mv *x = a, *y = b;
    for (size_t i = 0; i < t_norder; i++) {
        int c = 0;
        switch (t_order[i].key) {
        case K_NAME: c = strcmp(x->name, y->name); break;
        case K_VERSION: c = cmp_i64(x->version, y->version); break;
        case K_CTIME: c = cmp_i64(x->ctime, y->ctime); break;
        case K_MTIME: c = cmp_i64(x->mtime, y->mtime); break;
        }
        if (c) return t_order[i].asc ? c : -c;
    }
    return 0;
}

static int rm_cmp_order(const void *a, const void *b)
{
    const struct rm *x = a, *y = b;
    for (size_t i = 0; i < t_norder; i++) {
        int c = 0;
        switch (t_order[i].key) {
        case K_NAME: c = strcmp(x->name, y->name); break;
        case K_CTIME: c = cmp_i64(x->ctime, y->ctime); break;
        case K_MTIME:
        case K_VERSION: c = cmp_i64(x->mtime, y->mtime); break;
        }
        if (c) return t_order[i].asc ? c : -c;
    }
    return 0;
}

/* Orders from the request plus MLflow's tie-breakers. */
static hamf_status build_order(const char *const *order_by, size_t norder, bool versions, struct order *o, size_t *n)
{
    size_t k = 0;
    bool seen[4] = {false};
    if (versions && !norder) {
        o[k++] = (struct order){K_MTIME, false};
        seen[K_MTIME] = true;
    }
    for (size_t i = 0; i < norder; i++) {
        if (k >= 6) return hamf__err(HAMF_ERR_CONSTRAINT, "`order_by` contains duplicate fields");
        struct order x;
        hamf_status s = parse_order(order_by[i], versions, &x);
        if (s) return s;
        if (seen[x.key]) {
            struct hamf__buf b;
            hamf__buf_init(&b, 4096);
            for (size_t j = 0; j < norder; j++) (void)hamf__buf_printf(&b, "%s'%s'", j ? ", " : "[", order_by[j]);
            (void)hamf__buf_puts(&b, "]");
            s = hamf__err(HAMF_ERR_INTERNAL, "`order_by` contains duplicate fields: %s", b.data ? b.data : "");
            hamf__buf_free(&b);
            return s;
        }
        seen[x.key] = true;
        o[k++] = x;
    }
    if (!seen[K_NAME]) o[k++] = (struct order){K_NAME, true};
    if (versions && !seen[K_VERSION]) o[k++] = (struct order){K_VERSION, false};
    *n = k;
    return HAMF_OK;
}

/* ---- page tokens: base64 of {"offset": N}, as MLflow's ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static hamf_status put_token(struct hamf__buf *b, int64_t offset)
{
    char js[48];
    int n = snprintf(js, sizeof js, "{\"offset\": %lld}", (long long)offset);
    hamf_status s = hamf__buf_puts(b, ",\"next_page_token\":\"");
    for (int i = 0; i < n && !s; i += 3) {
        unsigned v = (unsigned char)js[i] << 16 | (i + 1 < n ? (unsigned char)js[i + 1] << 8 : 0) |
                     (i + 2 < n ? (unsigned char)js[i + 2] : 0);
        char q[5] = {b64[v >> 18 & 63], b64[v >> 12 & 63], i + 1 < n ? b64[v >> 6 & 63] : '=',
                     i + 2 < n ? b64[v & 63] : '=', 0};
        s = hamf__buf_puts(b, q);
    }
    if (!s) s = hamf__buf_putc(b, '"');
    return s;
}

static hamf_status parse_token(const char *tok, int64_t *offset)
{
    *offset = 0;
    if (!tok || !*tok) return HAMF_OK;
    char dec[256];
    size_t n = 0, len = strlen(tok);
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        if (tok[i] == '=') break;
        const char *q = strchr(b64, tok[i]);
        if (!q || !tok[i] || n + 1 >= sizeof dec)
            return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid page token, could not base64-decode");
        acc = acc << 6 | (unsigned)(q - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dec[n++] = (char)(acc >> bits & 0xff);
        }
    }
    dec[n] = 0;
    struct hamf__jdoc *d = NULL;
    if (hamf__json_parse(dec, n, 4, &d))
        return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid page token, decoded value=b'%s'", dec);
    const struct hamf__jval *o = hamf__jobj_get(hamf__jdoc_root(d), "offset");
    int64_t v;
    bool ok = o && hamf__jval_to_i64(o, &v) && v > 0;
    hamf__jdoc_free(d);
    if (!ok) return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid page token, parsed value=%s", dec);
    *offset = v;
    return HAMF_OK;
}

hamf_status hamf__mreg_mv_search(hamf_store *hs, const char *filter, int64_t max_results, const char *const *order_by,
                                 size_t norder, const char *page_token, struct hamf__buf *out)
{
    if (max_results < 1)
        return hamf__err(HAMF_ERR_CONSTRAINT,
                         "Invalid value for max_results. It must be a positive integer, but got %lld",
                         (long long)max_results);
    if (max_results > HAMF__MREG_MV_MAX_RESULTS)
        return hamf__err(HAMF_ERR_CONSTRAINT,
                         "Invalid value for request parameter max_results. It must be at most 200000, but got value %lld",
                         (long long)max_results);
    struct filter f;
    hamf_status s = parse_filter(filter, true, &f);
    if (s) return s;
    struct order o[8];
    size_t no = 0;
    int64_t offset = 0;
    if ((s = build_order(order_by, norder, true, o, &no)) || (s = parse_token(page_token, &offset))) {
        filter_free(&f);
        return s;
    }
    struct mv *all = NULL;
    size_t n = 0;
    if ((s = load_mvs(hamf__store_db(hs), NULL, false, &all, &n))) {
        filter_free(&f);
        return s;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (mv_matches(&all[i], &f)) {
            if (k != i) {
                struct mv t = all[k];
                all[k] = all[i];
                all[i] = t;
            }
            k++;
        }
    }
    t_order = o;
    t_norder = no;
    if (k) qsort(all, k, sizeof *all, mv_cmp_order);
    size_t start = offset < 0 ? 0 : (size_t)offset, end = start + (size_t)max_results;
    if (end > k) end = k;
    bool first = true;
    for (size_t i = start; i < end && !s; i++) {
        s = hamf__buf_puts(out, first ? "\"model_versions\":[" : ",");
        first = false;
        if (!s) s = mv_json(out, &all[i], false);
    }
    if (!first && !s) s = hamf__buf_putc(out, ']');
    if (!s && start + (size_t)max_results < k) {
        s = put_token(out, (int64_t)(start + (size_t)max_results));
    }
    mvs_free(all, n);
    filter_free(&f);
    return s;
}

static bool rm_matches(const struct rm *r, const struct filter *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct clause *c = &f->c[i];
        const char *lhs = c->tag ? tag_value(r->tags, r->ntags, c->key) : r->name;
        if (!str_match(lhs, c)) return false;
    }
    return true;
}

hamf_status hamf__mreg_rm_search(hamf_store *hs, const char *filter, int64_t max_results, const char *const *order_by,
                                 size_t norder, const char *page_token, struct hamf__buf *out)
{
    if (max_results > HAMF__MREG_RM_MAX_RESULTS)
        return hamf__err(HAMF_ERR_CONSTRAINT,
                         "Invalid value for request parameter max_results. It must be at most 1000, but got value %lld",
                         (long long)max_results);
    if (max_results < 1) max_results = 1;
    struct filter f;
    hamf_status s = parse_filter(filter, false, &f);
    if (s) return s;
    struct order o[8];
    size_t no = 0;
    int64_t offset = 0;
    if ((s = build_order(order_by, norder, false, o, &no)) || (s = parse_token(page_token, &offset))) {
        filter_free(&f);
        return s;
    }
    struct hamf__db *db = hamf__store_db(hs);
    struct hamf__stmt *st = NULL;
    struct rm *all = NULL;
    size_t n = 0, cap = 0;
    if ((s = prep(db, &st, "SELECT name FROM registered_models", ""))) {
        filter_free(&f);
        return s;
    }
    char **names = NULL;
    size_t nn = 0, ncap = 0;
    bool row;
    while (!(s = hamf__db_step(st, &row)) && row) {
        if ((s = grow((void **)&names, &ncap, nn, sizeof *names))) break;
        if (!(names[nn++] = hamf__strdup(hamf__db_col_text(st, 0)))) s = nomem();
    }
    hamf__db_finalize(st);
    for (size_t i = 0; i < nn && !s; i++) {
        if ((s = grow((void **)&all, &cap, n, sizeof *all))) break;
        if ((s = load_rm(db, names[i], &all[n]))) break;
        if (rm_matches(&all[n], &f)) n++;
        else rm_clear(&all[n]);
    }
    for (size_t i = 0; i < nn; i++) hamf__free(names[i]);
    hamf__free(names);
    if (!s) {
        t_order = o;
        t_norder = no;
        if (n) qsort(all, n, sizeof *all, rm_cmp_order);
        size_t start = (size_t)offset, end = start + (size_t)max_results;
        if (end > n) end = n;
        bool first = true;
        for (size_t i = start; i < end && !s; i++) {
            s = hamf__buf_puts(out, first ? "\"registered_models\":[" : ",");
            first = false;
            if (!s) s = rm_json(out, &all[i]);
        }
        if (!first && !s) s = hamf__buf_putc(out, ']');
        if (!s && start + (size_t)max_results < n) s = put_token(out, (int64_t)(start + (size_t)max_results));
    }
    rms_free(all, n);
    filter_free(&f);
    return s;
}

/* ---- hamf's own views (Models pages) ---- */

hamf_status hamf__mreg_models_json(hamf_store *hs, struct hamf__buf *out)
{
    struct hamf__db *db = hamf__store_db(hs);
    struct hamf__stmt *st = NULL;
    hamf_status s = prep(db, &st, "SELECT name FROM registered_models ORDER BY name", "");
    if (s) return s;
    char **names = NULL;
    size_t nn = 0, ncap = 0;
    bool row;
    while (!(s = hamf__db_step(st, &row)) && row) {
        if ((s = grow((void **)&names, &ncap, nn, sizeof *names))) break;
        if (!(names[nn++] = hamf__strdup(hamf__db_col_text(st, 0)))) s = nomem();
    }
    hamf__db_finalize(st);
    if (!s) s = hamf__buf_puts(out, "{\"models\":[");
    for (size_t i = 0; i < nn && !s; i++) {
        struct rm r;
        if ((s = load_rm(db, names[i], &r))) break;
        if (i) s = hamf__buf_putc(out, ',');
        if (!s) s = rm_json(out, &r);
        if (!s) {
            /* rm_json ends with '}': add hamf's extras inside it */
            out->len--;
            s = hamf__buf_printf(out, ",\"version_count\":%zu,\"latest_version\":%lld}", r.nversions,
                                 (long long)(r.nversions ? r.versions[r.nversions - 1].version : 0));
        }
        rm_clear(&r);
    }
    if (!s) s = hamf__buf_puts(out, "]}");
    for (size_t i = 0; i < nn; i++) hamf__free(names[i]);
    hamf__free(names);
    return s;
}

hamf_status hamf__mreg_model_detail_json(hamf_store *hs, const char *name, struct hamf__buf *out)
{
    struct hamf__db *db = hamf__store_db(hs);
    struct rm r;
    hamf_status s = load_rm(db, name, &r);
    if (s) return s;
    s = attach_aliases(r.versions, r.nversions, r.aliases, r.naliases);
    if (!s) s = hamf__buf_puts(out, "{\"registered_model\":");
    if (!s) s = rm_json(out, &r);
    if (!s) s = hamf__buf_puts(out, ",\"versions\":[");
    for (size_t i = r.nversions; i-- > 0 && !s;) {
        const struct mv *m = &r.versions[i];
        if (i + 1 != r.nversions) s = hamf__buf_putc(out, ',');
        if (!s) s = mv_json(out, m, true);
        if (!s) {
            out->len--;
            s = hamf__buf_puts(out, ",\"origin\":");
            if (!s) s = hamf__json_str(out, m->origin, (size_t)-1);
            if (!s && m->digest) {
                s = hamf__buf_puts(out, ",\"digest\":");
                if (!s) s = hamf__json_str(out, m->digest, (size_t)-1);
            }
            if (!s && m->model_id) s = hamf__buf_printf(out, ",\"model_id\":%lld", (long long)m->model_id);
            if (!s) s = hamf__buf_putc(out, '}');
        }
    }
    if (!s) s = hamf__buf_puts(out, "],\"promotions\":[");
    struct hamf__stmt *st = NULL;
    if (!s && !(s = prep(db, &st,
                         "SELECT from_version, to_version, action, reason, created_at FROM model_promotions"
                         " WHERE model_name = ? ORDER BY promotion_id DESC",
                         "t", name))) {
        bool row, first = true;
        while (!s && !(s = hamf__db_step(st, &row)) && row) {
            struct hamf__jobj j;
            hamf__jobj_init(&j);
            hamf__jobj_num(&j, "from_version", !hamf__db_col_null(st, 0), (double)hamf__db_col_i64(st, 0));
            hamf__jobj_i64(&j, "to_version", hamf__db_col_i64(st, 1));
            hamf__jobj_str(&j, "action", hamf__db_col_text(st, 2));
            hamf__jobj_str(&j, "reason", hamf__db_col_null(st, 3) ? NULL : hamf__db_col_text(st, 3));
            hamf__jobj_str(&j, "created_at", hamf__db_col_text(st, 4));
            if (!(s = hamf__jobj_finish(&j))) {
                if (!first) s = hamf__buf_putc(out, ',');
                if (!s) s = hamf__buf_puts(out, j.buf.data);
                first = false;
            }
            hamf__jobj_free(&j);
        }
        hamf__db_finalize(st);
    }
    if (!s) s = hamf__buf_puts(out, "],\"decisions\":[");
    st = NULL;
    if (!s && !(s = prep(db, &st,
                         "SELECT champion_version, challenger_version, promoted, reason, details, created_at"
                         " FROM retrain_decisions WHERE model_name = ? ORDER BY decision_id DESC",
                         "t", name))) {
        bool row, first = true;
        while (!s && !(s = hamf__db_step(st, &row)) && row) {
            s = hamf__buf_printf(out, "%s{\"champion_version\":%lld,\"challenger_version\":%lld,\"promoted\":%s,",
                                 first ? "" : ",", (long long)hamf__db_col_i64(st, 0),
                                 (long long)hamf__db_col_i64(st, 1), hamf__db_col_i64(st, 2) ? "true" : "false");
            if (!s) s = hamf__buf_puts(out, "\"reason\":");
            if (!s) s = hamf__json_str(out, hamf__db_col_text(st, 3), (size_t)-1);
            /* details is JSON text written by retrain */
            if (!s) s = hamf__buf_puts(out, ",\"details\":");
            if (!s) s = hamf__json_str(out, hamf__db_col_text(st, 4), (size_t)-1);
            if (!s) s = hamf__buf_puts(out, ",\"created_at\":");
            if (!s) s = hamf__json_str(out, hamf__db_col_text(st, 5), (size_t)-1);
            if (!s) s = hamf__buf_putc(out, '}');
            first = false;
        }
        hamf__db_finalize(st);
    }
    if (!s) s = hamf__buf_puts(out, "]}");
    rm_clear(&r);
    return s;
}

hamf_status hamf__mreg_run_versions_json(hamf_store *hs, const char *run_id, struct hamf__buf *out)
{
    struct hamf__stmt *st = NULL;
    hamf_status s = prep(hamf__store_db(hs), &st,
                         "SELECT model_name, version FROM model_versions WHERE run_id = ? AND"
                         " (current_stage IS NULL OR current_stage <> '" STAGE_DELETED "') ORDER BY model_name, version",
                         "t", run_id);
    if (s) return s;
    s = hamf__buf_puts(out, "{\"model_versions\":[");
    bool row, first = true;
    while (!s && !(s = hamf__db_step(st, &row)) && row) {
        if (!first) s = hamf__buf_putc(out, ',');
        first = false;
        if (!s) s = hamf__buf_puts(out, "{\"name\":");
        if (!s) s = hamf__json_str(out, hamf__db_col_text(st, 0), (size_t)-1);
        if (!s) s = hamf__buf_printf(out, ",\"version\":\"%lld\"}", (long long)hamf__db_col_i64(st, 1));
    }
    hamf__db_finalize(st);
    if (!s) s = hamf__buf_puts(out, "]}");
    return s;
}

/* ---- the immutable model store ---- */

static hamf_status read_all(const char *path, char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return hamf__err(errno == ENOENT ? HAMF_ERR_NOTFOUND : HAMF_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        close(fd);
        return hamf__err(HAMF_ERR_IO, "%s: not a regular file", path);
    }
    size_t n = (size_t)sb.st_size, got = 0;
    char *b = hamf__malloc(n ? n : 1);
    if (!b) {
        close(fd);
        return nomem();
    }
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            hamf_status s = hamf__err(HAMF_ERR_IO, "%s: read failed: %s", path, r < 0 ? strerror(errno) : "short file");
            close(fd);
            hamf__free(b);
            return s;
        }
        got += (size_t)r;
    }
    close(fd);
    *data = b;
    *len = n;
    return HAMF_OK;
}

static void hex(const uint8_t d[32], char out[65])
{
    static const char x[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = x[d[i] >> 4];
        out[2 * i + 1] = x[d[i] & 15];
    }
    out[64] = 0;
}

static hamf_status mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        int r = mkdir(path, 0755);
        int e = errno;
        *p = '/';
        if (r && e != EEXIST) return hamf__err(HAMF_ERR_IO, "model store: cannot create %s: %s", path, strerror(e));
    }
    if (mkdir(path, 0755) && errno != EEXIST)
        return hamf__err(HAMF_ERR_IO, "model store: cannot create %s: %s", path, strerror(errno));
    return HAMF_OK;
}

const char *hamf__mreg_store_root(void)
{
    const char *r = getenv("HAMF_ARTIFACTS_DIR");
    return r && *r ? r : "mlartifacts";
}

hamf_status hamf__mreg_blob_put(const char *root, const char *src, char digest[65], char **path)
{
    char *data = NULL;
    size_t n = 0;
    hamf_status s = read_all(src, &data, &n);
    if (s) return hamf__err_prefix(s, "model store: cannot copy the model file");
    uint8_t d[32];
    hamf__sha256(data, n, d);
    hex(d, digest);
    char *absroot = NULL, *dir = NULL, *final = NULL, *tmp = NULL;
    if (!(dir = hamf__asprintf("%s/registry/sha256", root ? root : hamf__mreg_store_root()))) goto oom;
    if ((s = mkdirs(dir))) goto out;
    if (!(absroot = realpath(dir, NULL))) {
        s = hamf__err(HAMF_ERR_IO, "model store: %s: %s", dir, strerror(errno));
        goto out;
    }
    if (!(final = hamf__asprintf("%s/%s.hamf", absroot, digest))) goto oom;
    struct stat sb;
    if (stat(final, &sb) == 0) {
        /* already stored: the same bytes (the name is their hash), unless
         * someone changed them, which verify will report on load */
        *path = final;
        final = NULL;
        goto out;
    }
    if (!(tmp = hamf__asprintf("%s/.%s.%ld.tmp", absroot, digest, (long)getpid()))) goto oom;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
    if (fd < 0) {
        s = hamf__err(HAMF_ERR_IO, "model store: cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    size_t put = 0;
    while (put < n) {
        ssize_t w = write(fd, data + put, n - put);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        put += (size_t)w;
    }
    if (put != n || fsync(fd)) {
        s = hamf__err(HAMF_ERR_IO, "model store: cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, final)) {
        s = hamf__err(HAMF_ERR_IO, "model store: cannot rename %s: %s", tmp, strerror(errno));
        unlink(tmp);
        goto out;
    }
    int dfd = open(absroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    *path = final;
    final = NULL;
    goto out;
oom:
    s = nomem();
out:
    hamf__free(data);
    free(absroot);
    hamf__free(dir);
    hamf__free(final);
    hamf__free(tmp);
    return s;
}

hamf_status hamf__mreg_blob_verify(const char *name, int64_t version, const char *path, const char *digest)
{
    char *data = NULL;
    size_t n = 0;
    hamf_status s = read_all(path, &data, &n);
    if (s)
        return hamf__err(HAMF_ERR_CORRUPT,
                         "registry: version %lld of model '%s' (sha256 %s) cannot be loaded: its stored copy %s is "
                         "missing or unreadable (%s)",
                         (long long)version, name, digest, path, hamf_last_error());
    uint8_t d[32];
    char got[65];
    hamf__sha256(data, n, d);
    hex(d, got);
    hamf__free(data);
    if (strcmp(got, digest))
        return hamf__err(HAMF_ERR_CORRUPT,
                         "registry: version %lld of model '%s' was changed after it was registered: %s should have "
                         "sha256 %s but has %s; refusing to load it",
                         (long long)version, name, path, digest, got);
    return HAMF_OK;
}
