/*
 * search.c — MLflow search filters and order_by items: a hand-written
 * lexer and parser producing clauses (search.h), and the translation of
 * clauses into SQL over the tracking tables with every value bound.
 *
 * Grammar (keywords case-insensitive):
 *   filter := clause { AND clause }
 *   clause := ident op value
 *   ident  := [entity '.'] key        key: bare word, "double" or `back` quoted
 *   op     := = | != | <> | > | >= | < | <= | LIKE | ILIKE | IN | NOT IN
 *   value  := number | 'string' | "string" | '(' string { ',' string } ')'
 * A bare identifier is an attribute. Entities: metric(s), param(s),
 * parameter(s), tag(s), attribute(s), attr, run, dataset(s).
 */
#include "search.h"

#include <ctype.h>
#include <math.h>
#include <string.h>
#include <strings.h>

/* ---- lexer ---- */

struct lex {
    const char *s;
    size_t pos;
};

static void ws(struct lex *l)
{
    while (l->s[l->pos] == ' ' || l->s[l->pos] == '\t' || l->s[l->pos] == '\n' || l->s[l->pos] == '\r')
        l->pos++;
}

static hamf_status perr(const struct lex *l, const char *what)
{
    return hamf__err(HAMF_ERR_PARSE, "search: col %zu: %s in '%s'", l->pos + 1, what, l->s);
}

static bool is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '/' || c == ':' || c == '-';
}

/* Read a quoted string starting at the quote; a doubled quote inside is
 * one quote character. */
static hamf_status read_quoted(struct lex *l, char **out)
{
    char q = l->s[l->pos];
    size_t start = ++l->pos;
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_status st = HAMF_OK;
    for (;;) {
        char c = l->s[l->pos];
        if (!c) {
            l->pos = start - 1;
            st = perr(l, "unterminated quoted string");
            goto cleanup;
        }
        if (c == q) {
            if (l->s[l->pos + 1] == q) {
                if ((st = hamf__buf_putc(&b, q))) goto cleanup;
                l->pos += 2;
                continue;
            }
            l->pos++;
            break;
        }
        if ((st = hamf__buf_putc(&b, c))) goto cleanup;
        l->pos++;
    }
    if ((st = hamf__buf_reserve(&b, 1))) goto cleanup;
    b.data[b.len] = '\0';
    *out = hamf__buf_detach(&b, NULL);
    return HAMF_OK;
cleanup:
    hamf__buf_free(&b);
    return st;
}

static bool kw(struct lex *l, const char *word)
{
    size_t n = strlen(word);
    if (strncasecmp(l->s + l->pos, word, n)) return false;
    char after = l->s[l->pos + n];
    if (is_word_char(after)) return false;
    l->pos += n;
    return true;
}

/* ---- identifiers ---- */

struct ent_name {
    const char *name;
    enum hamf__search_entity e;
};

static const struct ent_name entities[] = {
    {"metric", HAMF__SE_METRIC},     {"metrics", HAMF__SE_METRIC},   {"param", HAMF__SE_PARAM},
    {"params", HAMF__SE_PARAM},      {"parameter", HAMF__SE_PARAM},  {"parameters", HAMF__SE_PARAM},
    {"tag", HAMF__SE_TAG},           {"tags", HAMF__SE_TAG},         {"attribute", HAMF__SE_ATTR},
    {"attributes", HAMF__SE_ATTR},   {"attr", HAMF__SE_ATTR},        {"run", HAMF__SE_ATTR},
    {"dataset", HAMF__SE_DATASET},   {"datasets", HAMF__SE_DATASET},
};

/* Attributes: name, numeric?, kind where valid. */
struct attr_def {
    const char *name;
    bool numeric;
    enum hamf__search_kind kind;
};

static const struct attr_def attrs[] = {
    {"run_id", false, HAMF__SEARCH_RUNS},        {"run_name", false, HAMF__SEARCH_RUNS},
    {"status", false, HAMF__SEARCH_RUNS},        {"user_id", false, HAMF__SEARCH_RUNS},
    {"artifact_uri", false, HAMF__SEARCH_RUNS},  {"start_time", true, HAMF__SEARCH_RUNS},
    {"end_time", true, HAMF__SEARCH_RUNS},       {"name", false, HAMF__SEARCH_EXPERIMENTS},
    {"experiment_id", false, HAMF__SEARCH_EXPERIMENTS},
    {"creation_time", true, HAMF__SEARCH_EXPERIMENTS},
    {"last_update_time", true, HAMF__SEARCH_EXPERIMENTS},
};

static const struct attr_def *find_attr(const char *name, enum hamf__search_kind kind)
{
    /* MLflow's aliases for run attributes */
    if (kind == HAMF__SEARCH_RUNS) {
        if (!strcmp(name, "created") || !strcmp(name, "Created")) name = "start_time";
        else if (!strcmp(name, "run name") || !strcmp(name, "Run name")) name = "run_name";
    }
    for (size_t i = 0; i < HAMF_ARRAY_LEN(attrs); i++)
        if (attrs[i].kind == kind && !strcmp(attrs[i].name, name)) return &attrs[i];
    return NULL;
}

/* entity '.' key, or bare key (an attribute). */
static hamf_status read_ident(struct lex *l, enum hamf__search_kind kind, enum hamf__search_entity *ent,
                              char **key)
{
    ws(l);
    size_t start = l->pos;
    char *k = NULL;
    hamf_status st;
    char c = l->s[l->pos];
    if (c == '"' || c == '`') {
        if ((st = read_quoted(l, &k))) return st;
        *ent = HAMF__SE_ATTR;
    } else {
        size_t i = l->pos;
        while (isalpha((unsigned char)l->s[i]) || l->s[i] == '_') i++;
        size_t wl = i - l->pos;
        if (wl == 0) return perr(l, "expected an identifier");
        if (l->s[i] == '.') {
            bool found = false;
            for (size_t e = 0; e < HAMF_ARRAY_LEN(entities); e++) {
                if (strlen(entities[e].name) == wl && !strncasecmp(entities[e].name, l->s + l->pos, wl)) {
                    *ent = entities[e].e;
                    found = true;
                }
            }
            if (!found) return perr(l, "unknown entity type (expected metrics., params., tags., attributes. or datasets.)");
            l->pos = i + 1;
            c = l->s[l->pos];
            if (c == '"' || c == '`') {
                if ((st = read_quoted(l, &k))) return st;
            } else {
                size_t ks = l->pos;
                while (is_word_char(l->s[l->pos])) l->pos++;
                if (l->pos == ks) return perr(l, "expected a key after the entity");
                k = hamf__strndup(l->s + ks, l->pos - ks);
                if (!k) return hamf__err(HAMF_ERR_NOMEM, "search: out of memory");
            }
        } else {
            *ent = HAMF__SE_ATTR;
            while (is_word_char(l->s[l->pos])) l->pos++;
            k = hamf__strndup(l->s + start, l->pos - start);
            if (!k) return hamf__err(HAMF_ERR_NOMEM, "search: out of memory");
        }
    }
    if (!*k) {
        hamf__free(k);
        l->pos = start;
        return perr(l, "empty key");
    }
    if (*ent == HAMF__SE_DATASET) {
        if (kind != HAMF__SEARCH_RUNS || (strcmp(k, "name") && strcmp(k, "digest") && strcmp(k, "context"))) {
            hamf__free(k);
            l->pos = start;
            return perr(l, "invalid dataset attribute (expected name, digest or context)");
        }
    } else if (*ent == HAMF__SE_ATTR) {
        const struct attr_def *a = find_attr(k, kind);
        if (!a) {
            hamf__free(k);
            l->pos = start;
            return perr(l, "invalid attribute key");
        }
        if (strcmp(a->name, k)) {
            char *canon = hamf__strdup(a->name);
            hamf__free(k);
            if (!canon) return hamf__err(HAMF_ERR_NOMEM, "search: out of memory");
            k = canon;
        }
    } else if (*ent == HAMF__SE_METRIC || *ent == HAMF__SE_PARAM) {
        if (kind != HAMF__SEARCH_RUNS) {
            hamf__free(k);
            l->pos = start;
            return perr(l, "only tags and attributes can be used for experiments");
        }
    }
    *key = k;
    return HAMF_OK;
}

static bool attr_numeric(const char *key, enum hamf__search_kind kind)
{
    const struct attr_def *a = find_attr(key, kind);
    return a && a->numeric;
}

/* ---- filter ---- */

static void clause_free(struct hamf__search_clause *c)
{
    hamf__free(c->key);
    for (size_t i = 0; i < c->nstrs; i++) hamf__free(c->strs[i]);
    hamf__free(c->strs);
}

void hamf__search_filter_free(struct hamf__search_filter *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->n; i++) clause_free(&f->c[i]);
    hamf__free(f->c);
    hamf__free(f);
}

static hamf_status read_op(struct lex *l, enum hamf__search_op *op)
{
    ws(l);
    const char *s = l->s + l->pos;
    if (s[0] == '!' && s[1] == '=') { l->pos += 2; *op = HAMF__SO_NE; return HAMF_OK; }
    if (s[0] == '<' && s[1] == '>') { l->pos += 2; *op = HAMF__SO_NE; return HAMF_OK; }
    if (s[0] == '>' && s[1] == '=') { l->pos += 2; *op = HAMF__SO_GE; return HAMF_OK; }
    if (s[0] == '<' && s[1] == '=') { l->pos += 2; *op = HAMF__SO_LE; return HAMF_OK; }
    if (s[0] == '=') { l->pos += s[1] == '=' ? 2 : 1; *op = HAMF__SO_EQ; return HAMF_OK; }
    if (s[0] == '>') { l->pos++; *op = HAMF__SO_GT; return HAMF_OK; }
    if (s[0] == '<') { l->pos++; *op = HAMF__SO_LT; return HAMF_OK; }
    if (kw(l, "LIKE")) { *op = HAMF__SO_LIKE; return HAMF_OK; }
    if (kw(l, "ILIKE")) { *op = HAMF__SO_ILIKE; return HAMF_OK; }
    if (kw(l, "IN")) { *op = HAMF__SO_IN; return HAMF_OK; }
    size_t save = l->pos;
    if (kw(l, "NOT")) {
        ws(l);
        if (kw(l, "IN")) { *op = HAMF__SO_NOT_IN; return HAMF_OK; }
        l->pos = save;
    }
    return perr(l, "expected a comparison operator");
}

#define SEARCH_MAX_CLAUSES 200
#define SEARCH_MAX_IN 1000
#define SEARCH_MAX_VALUES 10000 /* bound parameters: SQLite allows 32766 */

static hamf_status add_str(struct hamf__search_clause *c, char *s)
{
    if (c->nstrs == SEARCH_MAX_IN) {
        hamf__free(s);
        return hamf__err(HAMF_ERR_PARSE, "search: filter too complex: an IN list of more than %d values", SEARCH_MAX_IN);
    }
    char **n = hamf__realloc(c->strs, (c->nstrs + 1) * sizeof *n);
    if (!n) {
        hamf__free(s);
        return hamf__err(HAMF_ERR_NOMEM, "search: out of memory");
    }
    c->strs = n;
    c->strs[c->nstrs++] = s;
    return HAMF_OK;
}

static hamf_status read_number(struct lex *l, double *out)
{
    ws(l);
    size_t start = l->pos, i = l->pos;
    if (l->s[i] == '-' || l->s[i] == '+') i++;
    size_t digits = 0;
    while (isdigit((unsigned char)l->s[i])) { i++; digits++; }
    if (l->s[i] == '.') {
        i++;
        while (isdigit((unsigned char)l->s[i])) { i++; digits++; }
    }
    if (!digits) return perr(l, "expected a number");
    if (l->s[i] == 'e' || l->s[i] == 'E') {
        size_t j = i + 1;
        if (l->s[j] == '-' || l->s[j] == '+') j++;
        if (!isdigit((unsigned char)l->s[j])) { l->pos = j; return perr(l, "bad exponent"); }
        while (isdigit((unsigned char)l->s[j])) j++;
        i = j;
    }
    if (is_word_char(l->s[i]) && l->s[i] != '-') { l->pos = i; return perr(l, "expected a number"); }
    double v;
    if (!hamf__parse_double(l->s + start, i - start, &v) || !isfinite(v))
        return perr(l, "number out of range");
    l->pos = i;
    *out = v;
    return HAMF_OK;
}

static hamf_status read_clause(struct lex *l, enum hamf__search_kind kind, struct hamf__search_clause *c)
{
    hamf_status st;
    memset(c, 0, sizeof *c);
    if ((st = read_ident(l, kind, &c->entity, &c->key))) return st;
    size_t oppos = l->pos;
    if ((st = read_op(l, &c->op))) return st;
    bool numeric = c->entity == HAMF__SE_METRIC || (c->entity == HAMF__SE_ATTR && attr_numeric(c->key, kind));
    bool list_ok = (c->entity == HAMF__SE_ATTR && kind == HAMF__SEARCH_RUNS && !numeric) ||
                   c->entity == HAMF__SE_DATASET;
    if (numeric) {
        if (c->op >= HAMF__SO_LIKE) {
            l->pos = oppos;
            return perr(l, "this operator is not valid for a numeric comparison");
        }
        c->is_num = true;
        return read_number(l, &c->num);
    }
    if (c->op >= HAMF__SO_GT && c->op <= HAMF__SO_LE) {
        l->pos = oppos;
        return perr(l, "this operator is not valid for a string comparison (use =, !=, LIKE or ILIKE)");
    }
    ws(l);
    if (c->op == HAMF__SO_IN || c->op == HAMF__SO_NOT_IN) {
        if (!list_ok) {
            l->pos = oppos;
            return perr(l, "IN is only valid for run attributes and datasets");
        }
        if (l->s[l->pos] != '(') return perr(l, "expected '(' after IN");
        l->pos++;
        for (;;) {
            ws(l);
            char q = l->s[l->pos];
            if (q != '\'' && q != '"') return perr(l, "expected a quoted string in the IN list");
            char *s;
            if ((st = read_quoted(l, &s))) return st;
            if ((st = add_str(c, s))) return st;
            ws(l);
            if (l->s[l->pos] == ',') { l->pos++; continue; }
            if (l->s[l->pos] == ')') { l->pos++; break; }
            return perr(l, "expected ',' or ')' in the IN list");
        }
        return HAMF_OK;
    }
    char q = l->s[l->pos];
    if (q != '\'' && q != '"') return perr(l, "expected a quoted string value");
    char *s;
    if ((st = read_quoted(l, &s))) return st;
    return add_str(c, s);
}

hamf_status hamf__search_parse_filter(const char *text, enum hamf__search_kind kind,
                                      struct hamf__search_filter **out)
{
    struct hamf__search_filter *f = hamf__calloc(1, sizeof *f);
    if (!f) return hamf__err(HAMF_ERR_NOMEM, "search: out of memory");
    hamf_status st = HAMF_OK;
    struct lex l = {text ? text : "", 0};
    ws(&l);
    size_t cap = 0, nvalues = 0;
    while (l.s[l.pos]) {
        if (f->n) {
            if (kw(&l, "OR")) { l.pos -= 2; st = perr(&l, "OR is not supported (clauses join with AND)"); goto cleanup; }
            if (!kw(&l, "AND")) { st = perr(&l, "expected AND between clauses"); goto cleanup; }
        }
        if (f->n == SEARCH_MAX_CLAUSES) {
            /* SQLite refuses deep expression trees (a 500 otherwise) */
            st = hamf__err(HAMF_ERR_PARSE, "search: filter too complex: more than %d clauses", SEARCH_MAX_CLAUSES);
            goto cleanup;
        }
        if (f->n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            struct hamf__search_clause *nclauses = hamf__realloc(f->c, nc * sizeof *nclauses);
            if (!nclauses) { st = hamf__err(HAMF_ERR_NOMEM, "search: out of memory"); goto cleanup; }
            f->c = nclauses;
            cap = nc;
        }
        st = read_clause(&l, kind, &f->c[f->n]);
        f->n++; /* counted even on failure so its parts are freed */
        if (st) goto cleanup;
        nvalues += f->c[f->n - 1].nstrs;
        if (nvalues > SEARCH_MAX_VALUES) {
            st = hamf__err(HAMF_ERR_PARSE, "search: filter too complex: more than %d values in all", SEARCH_MAX_VALUES);
            goto cleanup;
        }
        ws(&l);
    }
    *out = f;
    return HAMF_OK;
cleanup:
    hamf__search_filter_free(f);
    return st;
}

/* ---- order_by ---- */

void hamf__search_order_free(struct hamf__search_order *o)
{
    if (!o) return;
    hamf__free(o->key);
    o->key = NULL;
}

hamf_status hamf__search_parse_order(const char *text, enum hamf__search_kind kind, struct hamf__search_order *out)
{
    struct lex l = {text ? text : "", 0};
    struct hamf__search_order o = {0};
    o.asc = true;
    hamf_status st = read_ident(&l, kind, &o.entity, &o.key);
    if (st) return hamf__err_prefix(st, "order_by");
    if (o.entity == HAMF__SE_DATASET) {
        st = hamf__err(HAMF_ERR_PARSE, "order_by: cannot order by datasets in '%s'", l.s);
        goto cleanup;
    }
    ws(&l);
    if (kw(&l, "ASC")) o.asc = true;
    else if (kw(&l, "DESC")) o.asc = false;
    ws(&l);
    if (l.s[l.pos]) {
        st = hamf__err(HAMF_ERR_PARSE, "order_by: col %zu: expected ASC or DESC in '%s'", l.pos + 1, l.s);
        goto cleanup;
    }
    *out = o;
    return HAMF_OK;
cleanup:
    hamf__free(o.key);
    return st;
}

/* ---- SQL ---- */

void hamf__sqlq_init(struct hamf__sqlq *q)
{
    memset(q, 0, sizeof *q);
    hamf__buf_init(&q->sql, 0);
}

void hamf__sqlq_free(struct hamf__sqlq *q)
{
    hamf__buf_free(&q->sql);
    hamf__free(q->binds);
    memset(q, 0, sizeof *q);
}

static hamf_status bind(struct hamf__sqlq *q, enum hamf__db_type t, const char *s, double f, int64_t i)
{
    if (q->nbinds == q->capbinds) {
        size_t nc = q->capbinds ? q->capbinds * 2 : 16;
        struct hamf__db_value *nb = hamf__realloc(q->binds, nc * sizeof *nb);
        if (!nb) return hamf__err(HAMF_ERR_NOMEM, "search: out of memory");
        q->binds = nb;
        q->capbinds = nc;
    }
    q->binds[q->nbinds++] = (struct hamf__db_value){t, s, f, i};
    return hamf__buf_putc(&q->sql, '?');
}

static hamf_status bind_text(struct hamf__sqlq *q, const char *s) { return bind(q, HAMF__DB_T_TEXT, s, 0, 0); }
static hamf_status bind_i64(struct hamf__sqlq *q, int64_t v) { return bind(q, HAMF__DB_T_I64, NULL, 0, v); }

static hamf_status bind_num(struct hamf__sqlq *q, double v)
{
    /* integral values bind as integers so integer columns compare exactly */
    if (v == floor(v) && fabs(v) < 9007199254740992.0) return bind_i64(q, (int64_t)v);
    return bind(q, HAMF__DB_T_F64, NULL, v, 0);
}

static const char *op_sql(enum hamf__search_op op)
{
    switch (op) {
    case HAMF__SO_EQ: return " = ";
    case HAMF__SO_NE: return " <> ";
    case HAMF__SO_GT: return " > ";
    case HAMF__SO_GE: return " >= ";
    case HAMF__SO_LT: return " < ";
    case HAMF__SO_LE: return " <= ";
    case HAMF__SO_LIKE: return " LIKE ";
    case HAMF__SO_ILIKE: return " LIKE ";
    case HAMF__SO_IN: return " IN ";
    case HAMF__SO_NOT_IN: return " NOT IN ";
    }
    return " = ";
}

/* "<col> <op> <value>" with the value(s) bound; ILIKE lowers both sides. */
static hamf_status cmp_sql(struct hamf__sqlq *q, const char *col, const struct hamf__search_clause *c)
{
    hamf_status st;
    struct hamf__buf *b = &q->sql;
    if (c->op == HAMF__SO_ILIKE) {
        if ((st = hamf__buf_printf(b, "LOWER(%s) LIKE LOWER(", col))) return st;
        if ((st = bind_text(q, c->strs[0]))) return st;
        return hamf__buf_putc(b, ')');
    }
    if ((st = hamf__buf_puts(b, col)) || (st = hamf__buf_puts(b, op_sql(c->op)))) return st;
    if (c->is_num) return bind_num(q, c->num);
    if (c->op == HAMF__SO_IN || c->op == HAMF__SO_NOT_IN) {
        if ((st = hamf__buf_putc(b, '('))) return st;
        for (size_t i = 0; i < c->nstrs; i++) {
            if (i && (st = hamf__buf_putc(b, ','))) return st;
            if ((st = bind_text(q, c->strs[i]))) return st;
        }
        return hamf__buf_putc(b, ')');
    }
    return bind_text(q, c->strs[0]);
}

static const char *run_attr_col(const char *key)
{
    if (!strcmp(key, "run_id")) return "r.run_uuid";
    if (!strcmp(key, "run_name")) return "r.name";
    if (!strcmp(key, "status")) return "r.status";
    if (!strcmp(key, "user_id")) return "r.user_id";
    if (!strcmp(key, "artifact_uri")) return "r.artifact_uri";
    if (!strcmp(key, "start_time")) return "r.start_time";
    if (!strcmp(key, "end_time")) return "r.end_time";
    return NULL;
}

static const char *exp_attr_col(const char *key)
{
    if (!strcmp(key, "name")) return "e.name";
    if (!strcmp(key, "experiment_id")) return "e.experiment_id";
    if (!strcmp(key, "creation_time")) return "e.creation_time";
    if (!strcmp(key, "last_update_time")) return "e.last_update_time";
    return NULL;
}

static hamf_status clause_sql(struct hamf__sqlq *q, enum hamf__search_kind kind, const struct hamf__search_clause *c)
{
    hamf_status st;
    struct hamf__buf *b = &q->sql;
    if ((st = hamf__buf_puts(b, " AND "))) return st;
    const char *sub = NULL, *col = NULL;
    switch (c->entity) {
    case HAMF__SE_METRIC:
        sub = "EXISTS (SELECT 1 FROM trk_latest_metrics x WHERE x.run_uuid = r.run_uuid AND x.is_nan = 0 AND x.key = ";
        col = "x.value";
        break;
    case HAMF__SE_PARAM:
        sub = "EXISTS (SELECT 1 FROM trk_params x WHERE x.run_uuid = r.run_uuid AND x.key = ";
        col = "x.value";
        break;
    case HAMF__SE_TAG:
        sub = kind == HAMF__SEARCH_RUNS
                  ? "EXISTS (SELECT 1 FROM trk_tags x WHERE x.run_uuid = r.run_uuid AND x.key = "
                  : "EXISTS (SELECT 1 FROM trk_experiment_tags x WHERE x.experiment_id = e.experiment_id AND x.key = ";
        col = "x.value";
        break;
    case HAMF__SE_DATASET:
        if ((st = hamf__buf_puts(b, "EXISTS (SELECT 1 FROM trk_inputs x WHERE x.run_uuid = r.run_uuid AND "))) return st;
        col = !strcmp(c->key, "name") ? "x.name" : !strcmp(c->key, "digest") ? "x.digest" : "x.context";
        if ((st = cmp_sql(q, col, c))) return st;
        return hamf__buf_putc(b, ')');
    case HAMF__SE_ATTR:
        col = kind == HAMF__SEARCH_RUNS ? run_attr_col(c->key) : exp_attr_col(c->key);
        if (!col) return hamf__err(HAMF_ERR_PARSE, "search: invalid attribute '%s'", c->key);
        if (kind == HAMF__SEARCH_EXPERIMENTS && !strcmp(c->key, "experiment_id")) {
            /* ids are integers in the table but strings in the API */
            if ((st = hamf__buf_puts(b, "CAST(e.experiment_id AS TEXT)"))) return st;
            if ((st = hamf__buf_puts(b, op_sql(c->op)))) return st;
            return bind_text(q, c->strs[0]);
        }
        return cmp_sql(q, col, c);
    }
    if ((st = hamf__buf_puts(b, sub))) return st;
    if ((st = bind_text(q, c->key))) return st;
    if ((st = hamf__buf_puts(b, " AND "))) return st;
    if ((st = cmp_sql(q, col, c))) return st;
    return hamf__buf_putc(b, ')');
}

/* ORDER BY for the given items: the joins (o0, o1, ...) come first, then
 * the key list; missing keys sort last whatever the direction. */
static hamf_status order_joins(struct hamf__sqlq *q, enum hamf__search_kind kind,
                               const struct hamf__search_order *o, size_t from, size_t n)
{
    hamf_status st;
    for (size_t i = from; i < n; i++) {
        const char *t = NULL;
        if (o[i].entity == HAMF__SE_METRIC) t = "trk_latest_metrics";
        else if (o[i].entity == HAMF__SE_PARAM) t = "trk_params";
        else if (o[i].entity == HAMF__SE_TAG) t = kind == HAMF__SEARCH_RUNS ? "trk_tags" : "trk_experiment_tags";
        if (!t) continue;
        if (kind == HAMF__SEARCH_RUNS)
            st = hamf__buf_printf(&q->sql, " LEFT JOIN %s o%zu ON o%zu.run_uuid = r.run_uuid AND o%zu.key = ", t, i, i, i);
        else
            st = hamf__buf_printf(&q->sql, " LEFT JOIN %s o%zu ON o%zu.experiment_id = e.experiment_id AND o%zu.key = ", t, i, i, i);
        if (st || (st = bind_text(q, o[i].key))) return st;
    }
    return HAMF_OK;
}

static hamf_status order_keys(struct hamf__sqlq *q, enum hamf__search_kind kind,
                              const struct hamf__search_order *o, size_t from, size_t n)
{
    hamf_status st;
    struct hamf__buf *b = &q->sql;
    for (size_t i = from; i < n; i++) {
        const char *dir = o[i].asc ? "ASC" : "DESC";
        if (o[i].entity == HAMF__SE_ATTR) {
            const char *col = kind == HAMF__SEARCH_RUNS ? run_attr_col(o[i].key) : exp_attr_col(o[i].key);
            if (!col) return hamf__err(HAMF_ERR_PARSE, "order_by: invalid attribute '%s'", o[i].key);
            st = hamf__buf_printf(b, "CASE WHEN %s IS NULL THEN 1 ELSE 0 END, %s %s, ", col, col, dir);
        } else if (o[i].entity == HAMF__SE_METRIC) {
            /* missing last, then NaN after every number, then the value */
            st = hamf__buf_printf(b, "CASE WHEN o%zu.run_uuid IS NULL THEN 2 WHEN o%zu.is_nan = 1 THEN 1 ELSE 0 END, o%zu.value %s, ",
                                  i, i, i, dir);
        } else {
            st = hamf__buf_printf(b, "CASE WHEN o%zu.key IS NULL THEN 1 ELSE 0 END, o%zu.value %s, ", i, i, dir);
        }
        if (st) return st;
    }
    return HAMF_OK;
}

static hamf_status stage_sql(struct hamf__sqlq *q, const char *col, int view)
{
    if (view == HAMF__VIEW_ALL) return HAMF_OK;
    hamf_status st = hamf__buf_printf(&q->sql, " AND %s = ", col);
    if (st) return st;
    return bind_text(q, view == HAMF__VIEW_DELETED_ONLY ? "deleted" : "active");
}

/* True when a filter clause compares the metric the first order key sorts
 * by: then every run in the result has that metric (not NaN), and the
 * query can walk the (key, value) index of the latest metrics in order and
 * stop after one page, instead of sorting every run of the experiments. */
static bool drive_by_metric(const struct hamf__search_filter *f, const struct hamf__search_order *o, size_t n)
{
    if (!n || o[0].entity != HAMF__SE_METRIC || !f) return false;
    for (size_t i = 0; i < f->n; i++)
        if (f->c[i].entity == HAMF__SE_METRIC && !strcmp(f->c[i].key, o[0].key)) return true;
    return false;
}

hamf_status hamf__search_runs_sql(const char *const *exp_ids, size_t nexp, int view,
                                  const struct hamf__search_filter *f,
                                  const struct hamf__search_order *orders, size_t norders,
                                  int64_t limit, int64_t offset, struct hamf__sqlq *q)
{
    hamf_status st;
    struct hamf__buf *b = &q->sql;
    bool drive = drive_by_metric(f, orders, norders);
    if (drive) {
        /* CROSS JOIN fixes the join order in SQLite: the metric index first */
        if ((st = hamf__buf_puts(b, "SELECT r.run_uuid FROM trk_latest_metrics o0 CROSS JOIN trk_runs r"))) return st;
        if ((st = order_joins(q, HAMF__SEARCH_RUNS, orders, 1, norders))) return st;
        if ((st = hamf__buf_puts(b, " WHERE r.run_uuid = o0.run_uuid AND o0.is_nan = 0 AND o0.key = ")) ||
            (st = bind_text(q, orders[0].key)) || (st = hamf__buf_puts(b, " AND r.experiment_id IN (")))
            return st;
    } else {
        if ((st = hamf__buf_puts(b, "SELECT r.run_uuid FROM trk_runs r"))) return st;
        if ((st = order_joins(q, HAMF__SEARCH_RUNS, orders, 0, norders))) return st;
        if ((st = hamf__buf_puts(b, " WHERE r.experiment_id IN ("))) return st;
    }
    for (size_t i = 0; i < nexp; i++) {
        int64_t id;
        if (!hamf__parse_i64(exp_ids[i], strlen(exp_ids[i]), &id)) id = -1; /* matches nothing */
        if (i && (st = hamf__buf_putc(b, ','))) return st;
        if ((st = bind_i64(q, id))) return st;
    }
    if (!nexp && (st = hamf__buf_puts(b, "NULL"))) return st;
    if ((st = hamf__buf_putc(b, ')'))) return st;
    if ((st = stage_sql(q, "r.lifecycle_stage", view))) return st;
    for (size_t i = 0; f && i < f->n; i++) {
        const struct hamf__search_clause *c = &f->c[i];
        if (drive && c->entity == HAMF__SE_METRIC && !strcmp(c->key, orders[0].key)) {
            /* on the driving row itself: a range of the index */
            if ((st = hamf__buf_puts(b, " AND ")) || (st = cmp_sql(q, "o0.value", c))) return st;
            continue;
        }
        if ((st = clause_sql(q, HAMF__SEARCH_RUNS, c))) return st;
    }
    if ((st = hamf__buf_puts(b, " ORDER BY "))) return st;
    if (drive && (st = hamf__buf_printf(b, "o0.value %s, ", orders[0].asc ? "ASC" : "DESC"))) return st;
    if ((st = order_keys(q, HAMF__SEARCH_RUNS, orders, drive ? 1 : 0, norders))) return st;
    if ((st = hamf__buf_puts(b, "r.start_time DESC, r.run_uuid LIMIT "))) return st;
    if ((st = bind_i64(q, limit)) || (st = hamf__buf_puts(b, " OFFSET ")) || (st = bind_i64(q, offset))) return st;
    return HAMF_OK;
}

hamf_status hamf__search_experiments_sql(int view, const struct hamf__search_filter *f,
                                         const struct hamf__search_order *orders, size_t norders,
                                         int64_t limit, int64_t offset, struct hamf__sqlq *q)
{
    hamf_status st;
    struct hamf__buf *b = &q->sql;
    if ((st = hamf__buf_puts(b, "SELECT e.experiment_id FROM trk_experiments e"))) return st;
    if ((st = order_joins(q, HAMF__SEARCH_EXPERIMENTS, orders, 0, norders))) return st;
    if ((st = hamf__buf_puts(b, " WHERE 1 = 1"))) return st;
    if ((st = stage_sql(q, "e.lifecycle_stage", view))) return st;
    for (size_t i = 0; f && i < f->n; i++)
        if ((st = clause_sql(q, HAMF__SEARCH_EXPERIMENTS, &f->c[i]))) return st;
    if ((st = hamf__buf_puts(b, " ORDER BY "))) return st;
    if ((st = order_keys(q, HAMF__SEARCH_EXPERIMENTS, orders, 0, norders))) return st;
    if ((st = hamf__buf_puts(b, "e.creation_time DESC, e.experiment_id LIMIT "))) return st;
    if ((st = bind_i64(q, limit)) || (st = hamf__buf_puts(b, " OFFSET ")) || (st = bind_i64(q, offset))) return st;
    return HAMF_OK;
}
