/*
 * pipeline.c — hamf_pipeline: an ordered list of preprocessing steps
 * (`with name = <Spark SQL expr>`, `drop a, b`, `select a, b`), parsed once
 * from spec text and applied to frames like chained Spark calls:
 * `with` replaces a column in place or appends a new one at the end
 * (withColumn), `drop` removes columns, `select` keeps and reorders.
 * Also hamf_csv_transform, which streams a CSV through a pipeline.
 *
 * Each step keeps its expression text; apply() parses it again (a few
 * microseconds) and binds it against the frame at hand, so one pipeline can
 * be applied to frames of different schemas and from several threads. A
 * caller applying it many times compiles it once (pipeline.h: an exec keeps
 * the parsed expressions, one thread at a time) and only binds per frame.
 */
#include "data/csv.h"
#include "data/expr.h"
#include "data/pipeline.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { STEP_WITH, STEP_DROP, STEP_SELECT };

struct step {
    int kind;
    size_t line;
    char *name;  /* STEP_WITH target */
    char *expr;  /* STEP_WITH expression text */
    char **cols; /* STEP_DROP / STEP_SELECT */
    size_t ncols;
};

struct hamf_pipeline {
    char *source;
    struct step *steps;
    size_t n;
    char *text;
};

static void step_clear(struct step *s)
{
    hamf__free(s->name);
    hamf__free(s->expr);
    for (size_t i = 0; i < s->ncols; i++) hamf__free(s->cols[i]);
    hamf__free(s->cols);
}

void hamf_pipeline_free(hamf_pipeline *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) step_clear(&p->steps[i]);
    hamf__free(p->steps);
    hamf__free(p->source);
    hamf__free(p->text);
    hamf__free(p);
}

/* Read one column name (plain identifier or `quoted`) at *s. */
static hamf_status read_name(const char *src, size_t line, const char **s, char **out)
{
    const char *p = *s;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '`') {
        struct hamf__buf b;
        hamf__buf_init(&b, 4096);
        p++;
        for (;;) {
            if (!*p) {
                hamf__buf_free(&b);
                return hamf__err(HAMF_ERR_PARSE, "pipeline: %s:%zu: unterminated `quoted name`", src, line);
            }
            if (*p == '`') {
                if (p[1] == '`') {
                    p++;
                } else {
                    p++;
                    break;
                }
            }
            if (hamf__buf_putc(&b, *p)) {
                hamf__buf_free(&b);
                return hamf__err(HAMF_ERR_CONSTRAINT, "pipeline: %s:%zu: name too long", src, line);
            }
            p++;
        }
        if (b.len == 0) {
            hamf__buf_free(&b);
            return hamf__err(HAMF_ERR_PARSE, "pipeline: %s:%zu: empty column name", src, line);
        }
        *out = hamf__buf_detach(&b, NULL);
        hamf__buf_free(&b);
    } else {
        const char *q = p;
        while (isalnum((unsigned char)*q) || *q == '_' || (unsigned char)*q >= 0x80) q++;
        if (q == p)
            return hamf__err(HAMF_ERR_PARSE, "pipeline: %s:%zu: expected a column name at '%.20s'", src, line, p);
        *out = hamf__strndup(p, (size_t)(q - p));
        p = q;
    }
    if (!*out) return hamf__err(HAMF_ERR_NOMEM, "pipeline: out of memory");
    while (*p == ' ' || *p == '\t') p++;
    *s = p;
    return HAMF_OK;
}

static bool plain_name(const char *s)
{
    if (!*s || isdigit((unsigned char)*s)) return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_') return false;
    return true;
}

static hamf_status put_name(struct hamf__buf *b, const char *name)
{
    if (plain_name(name)) return hamf__buf_puts(b, name);
    hamf_status st = hamf__buf_putc(b, '`');
    for (const char *p = name; *p && !st; p++) {
        if (*p == '`') st = hamf__buf_putc(b, '`');
        if (!st) st = hamf__buf_putc(b, *p);
    }
    if (!st) st = hamf__buf_putc(b, '`');
    return st;
}

/* Cut a '#' comment that is outside quotes. */
static void cut_comment(char *line)
{
    char q = 0;
    for (char *p = line; *p; p++) {
        if (q) {
            if (*p == '\\' && (q == '\'' || q == '"') && p[1]) p++;
            else if (*p == q) q = 0;
        } else if (*p == '\'' || *p == '"' || *p == '`') {
            q = *p;
        } else if (*p == '#') {
            *p = '\0';
            return;
        }
    }
}

static bool kw(const char **s, const char *word)
{
    size_t n = strlen(word);
    if (strncasecmp(*s, word, n) != 0) return false;
    char c = (*s)[n];
    if (c && c != ' ' && c != '\t') return false;
    *s += n;
    while (**s == ' ' || **s == '\t') (*s)++;
    return true;
}

static hamf_status parse_line(hamf_pipeline *p, char *line, size_t lineno, struct step *st_out)
{
    const char *src = p->source;
    const char *s = line;
    struct step st;
    hamf_status rc;
    memset(&st, 0, sizeof st);
    st.line = lineno;
    if (kw(&s, "with") || kw(&s, "withColumn")) {
        st.kind = STEP_WITH;
        if ((rc = read_name(src, lineno, &s, &st.name))) goto fail;
        if (*s != '=' || s[1] == '=') {
            rc = hamf__err(HAMF_ERR_PARSE, "pipeline: %s:%zu: expected '=' after the column name in 'with %s = <expr>'",
                           src, lineno, st.name);
            goto fail;
        }
        s++;
        while (*s == ' ' || *s == '\t') s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1])) n--;
        if (!(st.expr = hamf__strndup(s, n))) {
            rc = hamf__err(HAMF_ERR_NOMEM, "pipeline: out of memory");
            goto fail;
        }
        struct hamf__expr_prog *prog;
        if ((rc = hamf__expr_parse(st.expr, &prog))) {
            hamf__err_prefix(rc, "pipeline: %s:%zu: with %s", src, lineno, st.name);
            goto fail;
        }
        hamf__expr_prog_free(prog);
    } else if (kw(&s, "drop") || kw(&s, "select")) {
        st.kind = tolower((unsigned char)line[0]) == 'd' ? STEP_DROP : STEP_SELECT;
        for (;;) {
            char *name;
            if ((rc = read_name(src, lineno, &s, &name))) goto fail;
            char **nc = hamf__realloc(st.cols, (st.ncols + 1) * sizeof *nc);
            if (!nc) {
                hamf__free(name);
                rc = hamf__err(HAMF_ERR_NOMEM, "pipeline: out of memory");
                goto fail;
            }
            st.cols = nc;
            st.cols[st.ncols++] = name;
            if (*s == ',') {
                s++;
                continue;
            }
            if (*s && !isspace((unsigned char)*s)) {
                rc = hamf__err(HAMF_ERR_PARSE, "pipeline: %s:%zu: expected ',' between column names at '%.20s'", src,
                               lineno, s);
                goto fail;
            }
            while (isspace((unsigned char)*s)) s++;
            if (*s) {
                rc = hamf__err(HAMF_ERR_PARSE, "pipeline: %s:%zu: unexpected '%.20s'", src, lineno, s);
                goto fail;
            }
            break;
        }
    } else {
        rc = hamf__err(HAMF_ERR_PARSE, "pipeline: %s:%zu: expected 'with NAME = EXPR', 'drop A, B' or 'select A, B', got '%.30s'",
                       src, lineno, s);
        goto fail;
    }
    *st_out = st;
    return HAMF_OK;
fail:
    step_clear(&st);
    return rc;
}

static hamf_status build_text(hamf_pipeline *p)
{
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_status st = HAMF_OK;
    for (size_t i = 0; i < p->n && !st; i++) {
        const struct step *s = &p->steps[i];
        if (s->kind == STEP_WITH) {
            st = hamf__buf_puts(&b, "with ");
            if (!st) st = put_name(&b, s->name);
            if (!st) st = hamf__buf_printf(&b, " = %s\n", s->expr);
        } else {
            st = hamf__buf_puts(&b, s->kind == STEP_DROP ? "drop " : "select ");
            for (size_t k = 0; k < s->ncols && !st; k++) {
                if (k) st = hamf__buf_puts(&b, ", ");
                if (!st) st = put_name(&b, s->cols[k]);
            }
            if (!st) st = hamf__buf_putc(&b, '\n');
        }
    }
    if (st) {
        hamf__buf_free(&b);
        return hamf__err(HAMF_ERR_NOMEM, "pipeline: out of memory");
    }
    p->text = b.len ? hamf__buf_detach(&b, NULL) : hamf__strdup("");
    hamf__buf_free(&b);
    if (!p->text) return hamf__err(HAMF_ERR_NOMEM, "pipeline: out of memory");
    return HAMF_OK;
}

hamf_status hamf_pipeline_parse(const char *spec_text, const char *source_name, hamf_pipeline **out)
{
    if (!spec_text || !out) return hamf__err(HAMF_ERR_MISUSE, "pipeline: NULL argument");
    hamf_status st = HAMF_OK;
    char *copy = NULL;
    hamf_pipeline *p = hamf__calloc(1, sizeof *p);
    if (!p || !(p->source = hamf__strdup(source_name ? source_name : "<spec>")) || !(copy = hamf__strdup(spec_text))) {
        st = hamf__err(HAMF_ERR_NOMEM, "pipeline: out of memory");
        goto cleanup;
    }
    size_t cap = 0, lineno = 0;
    char *save = NULL;
    for (char *line = copy; line; line = save) {
        lineno++;
        save = strchr(line, '\n');
        if (save) *save++ = '\0';
        cut_comment(line);
        while (isspace((unsigned char)*line)) line++;
        if (!*line) continue;
        if (p->n == cap) {
            cap = cap ? cap * 2 : 8;
            struct step *ns = hamf__realloc(p->steps, cap * sizeof *ns);
            if (!ns) {
                st = hamf__err(HAMF_ERR_NOMEM, "pipeline: out of memory");
                goto cleanup;
            }
            p->steps = ns;
        }
        if ((st = parse_line(p, line, lineno, &p->steps[p->n]))) goto cleanup;
        p->n++;
    }
    if ((st = build_text(p))) goto cleanup;
    *out = p;
    p = NULL;
cleanup:
    hamf__free(copy);
    hamf_pipeline_free(p);
    return st;
}

const char *hamf_pipeline_text(const hamf_pipeline *p) { return p ? p->text : NULL; }

/* Turn an evaluated vector into owned column arrays of n rows. */
static hamf_status vec_to_col(struct hamf__vec *v, size_t n, hamf_dtype *t, void **data, uint8_t **valid,
                              struct hamf__dict **dict)
{
    *data = NULL;
    *valid = NULL;
    *dict = NULL;
    switch (v->t) {
    case VT_I64: *t = HAMF_DTYPE_INT64; break;
    case VT_F64: *t = HAMF_DTYPE_DOUBLE; break;
    case VT_BOOL: *t = HAMF_DTYPE_BOOL; break;
    default: *t = HAMF_DTYPE_STRING; break; /* strings and the untyped NULL */
    }
    size_t sz = hamf__dtype_size(*t);
    if (v->t == VT_NULL) {
        int32_t *codes = hamf__malloc(n * sizeof *codes);
        if (!codes) return hamf__err(HAMF_ERR_NOMEM, "pipeline: out of memory");
        memset(codes, 0xff, n * sizeof *codes);
        *data = codes;
        return HAMF_OK;
    }
    if (v->t == VT_STR) {
        if (v->own_dict) {
            *dict = v->dict;
            v->own_dict = false;
        } else {
            /* copy entry by entry: codes stay the same */
            hamf_status st = hamf__dict_new(dict);
            for (size_t k = 0; !st && k < v->dict->n; k++) {
                int32_t c;
                st = hamf__dict_intern(*dict, v->dict->str[k], v->dict->len[k], &c);
            }
            if (st) {
                hamf__dict_free(*dict);
                *dict = NULL;
                return st;
            }
        }
    }
    if (!v->scalar && v->own_data) {
        *data = v->data;
        v->own_data = false;
    } else {
        char *d = hamf__malloc(n * sz);
        if (!d) goto oom;
        if (v->scalar)
            for (size_t i = 0; i < n; i++) memcpy(d + i * sz, v->data, sz);
        else if (n)
            memcpy(d, v->data, n * sz);
        *data = d;
    }
    if (v->t != VT_STR && v->valid) {
        bool all = true;
        size_t m = v->scalar ? 1 : n;
        for (size_t i = 0; i < m && all; i++) all = v->valid[i] != 0;
        if (!all) {
            if (!v->scalar && v->own_valid) {
                *valid = v->valid;
                v->own_valid = false;
            } else {
                uint8_t *vv = hamf__malloc(n);
                if (!vv) goto oom;
                if (v->scalar) memset(vv, v->valid[0], n);
                else memcpy(vv, v->valid, n);
                *valid = vv;
            }
        }
    }
    return HAMF_OK;
oom:
    hamf__free(*data);
    hamf__dict_free(*dict);
    *data = NULL;
    *dict = NULL;
    return hamf__err(HAMF_ERR_NOMEM, "pipeline: out of memory");
}

/* `with`: the step's expression parsed here, or `parsed` (an exec's, kept). */
static hamf_status apply_with(const hamf_pipeline *p, const struct step *s, struct hamf__expr_prog *parsed,
                              hamf_frame *f)
{
    struct hamf__expr_prog *prog = parsed;
    struct hamf__vec v = {0};
    hamf_status st = prog ? HAMF_OK : hamf__expr_parse(s->expr, &prog);
    if (!st) st = hamf__expr_bind(prog, f);
    if (!st) st = hamf__expr_eval(prog, f, &v);
    if (st) {
        hamf__err_prefix(st, "pipeline: %s:%zu: with %s", p->source, s->line, s->name);
        goto cleanup;
    }
    hamf_dtype t;
    void *data;
    uint8_t *valid;
    struct hamf__dict *dict;
    if ((st = vec_to_col(&v, f->nrows, &t, &data, &valid, &dict))) goto cleanup;
    size_t idx;
    if (hamf__frame_resolve(f, s->name, &idx)) st = hamf__frame_replace(f, idx, t, data, valid, dict, f->nrows);
    else st = hamf__frame_push(f, hamf__strdup(s->name), t, data, valid, dict, f->nrows);
cleanup:
    hamf__vec_free(&v);
    if (prog != parsed) hamf__expr_prog_free(prog);
    return st;
}

static hamf_status apply_select(const hamf_pipeline *p, const struct step *s, hamf_frame *f)
{
    size_t *idx = hamf__malloc((s->ncols ? s->ncols : 1) * sizeof *idx);
    uint8_t *keep = hamf__calloc(f->ncols ? f->ncols : 1, 1);
    struct hamf__col *cols = hamf__malloc((s->ncols ? s->ncols : 1) * sizeof *cols);
    hamf_status st = HAMF_OK;
    if (!idx || !keep || !cols) {
        st = hamf__err(HAMF_ERR_NOMEM, "pipeline: out of memory");
        goto cleanup;
    }
    for (size_t k = 0; k < s->ncols; k++) {
        if (!hamf__frame_resolve(f, s->cols[k], &idx[k])) {
            st = hamf__err(HAMF_ERR_NOTFOUND, "pipeline: %s:%zu: select: unknown column '%s'", p->source, s->line,
                           s->cols[k]);
            goto cleanup;
        }
        if (keep[idx[k]]) {
            st = hamf__err(HAMF_ERR_SCHEMA, "pipeline: %s:%zu: select: column '%s' listed twice", p->source, s->line,
                           s->cols[k]);
            goto cleanup;
        }
        keep[idx[k]] = 1;
    }
    for (size_t k = 0; k < s->ncols; k++) cols[k] = f->cols[idx[k]];
    for (size_t i = 0; i < f->ncols; i++)
        if (!keep[i]) hamf__col_clear(&f->cols[i]);
    memcpy(f->cols, cols, s->ncols * sizeof *cols);
    f->ncols = s->ncols;
cleanup:
    hamf__free(idx);
    hamf__free(keep);
    hamf__free(cols);
    return st;
}

struct hamf__pipeline_exec {
    size_t n;
    struct hamf__expr_prog **prog; /* per step: the parsed `with` expression, else NULL */
};

void hamf__pipeline_exec_free(struct hamf__pipeline_exec *x)
{
    if (!x) return;
    for (size_t i = 0; i < x->n; i++) hamf__expr_prog_free(x->prog[i]);
    hamf__free(x->prog);
    hamf__free(x);
}

hamf_status hamf__pipeline_compile(const hamf_pipeline *p, struct hamf__pipeline_exec **out)
{
    if (!p || !out) return hamf__err(HAMF_ERR_MISUSE, "pipeline: NULL argument");
    struct hamf__pipeline_exec *x = hamf__calloc(1, sizeof *x);
    if (!x || !(x->prog = hamf__calloc(p->n + 1, sizeof *x->prog))) {
        hamf__free(x);
        return hamf__err(HAMF_ERR_NOMEM, "pipeline: out of memory");
    }
    x->n = p->n;
    for (size_t i = 0; i < p->n; i++) {
        if (p->steps[i].kind != STEP_WITH) continue;
        hamf_status st = hamf__expr_parse(p->steps[i].expr, &x->prog[i]);
        if (st) {
            hamf__err_prefix(st, "pipeline: %s:%zu: with %s", p->source, p->steps[i].line, p->steps[i].name);
            hamf__pipeline_exec_free(x);
            return st;
        }
    }
    *out = x;
    return HAMF_OK;
}

static hamf_status run_steps(const hamf_pipeline *p, struct hamf__pipeline_exec *x, hamf_frame *f)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct step *s = &p->steps[i];
        hamf_status st = HAMF_OK;
        switch (s->kind) {
        case STEP_WITH: st = apply_with(p, s, x ? x->prog[i] : NULL, f); break;
        case STEP_DROP:
            for (size_t k = 0; k < s->ncols && !st; k++) {
                size_t idx;
                if (!hamf__frame_resolve(f, s->cols[k], &idx))
                    st = hamf__err(HAMF_ERR_NOTFOUND, "pipeline: %s:%zu: drop: unknown column '%s'", p->source,
                                   s->line, s->cols[k]);
                else
                    st = hamf_frame_drop(f, f->cols[idx].name);
            }
            break;
        case STEP_SELECT: st = apply_select(p, s, f); break;
        }
        if (st) return st;
    }
    return HAMF_OK;
}

hamf_status hamf_pipeline_apply(const hamf_pipeline *p, hamf_frame *f)
{
    if (!p || !f) return hamf__err(HAMF_ERR_MISUSE, "pipeline: NULL argument");
    return run_steps(p, NULL, f);
}

hamf_status hamf__pipeline_run(const hamf_pipeline *p, struct hamf__pipeline_exec *x, hamf_frame *f)
{
    if (!p || !x || !f || x->n != p->n) return hamf__err(HAMF_ERR_MISUSE, "pipeline: NULL or mismatched argument");
    return run_steps(p, x, f);
}

/* ---- CSV -> pipeline -> CSV, streaming ----------------------------------- */

/* Which input columns the steps read as values and which they write out
 * unchanged (for the CSV reader to skip the rest and to give the texts of
 * the latter, passed through instead of parsed and formatted again): the
 * steps run on names only, with the frame's name resolution (exact, then
 * unique case-insensitive). Anything unexpected: every column's values. */
struct need_col {
    const char *name;
    long orig; /* input column index, -1 for a computed one */
};

static long need_resolve(const struct need_col *v, size_t n, const char *name)
{
    long hit = -1;
    size_t nhit = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0) return (long)i;
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(v[i].name, name) == 0) hit = (long)i, nhit++;
    return nhit == 1 ? hit : -1;
}

static void need_expr(const struct hamf__expr *e, const struct need_col *v, size_t n, uint8_t *need)
{
    if (!e) return;
    if (e->kind == E_COL && e->s) {
        long i = need_resolve(v, n, e->s);
        if (i >= 0 && v[i].orig >= 0) need[v[i].orig] |= HAMF__CSV_NEED_VALUES;
    }
    for (size_t i = 0; i < e->nargs; i++) need_expr(e->args[i], v, n, need);
}

static hamf_status pipeline_need(char *const *names, size_t ncols, uint8_t *need, void *user)
{
    const hamf_pipeline *p = user;
    struct need_col *v = hamf__malloc((ncols + p->n + 1) * sizeof *v);
    if (!v) return HAMF_OK; /* read everything */
    size_t n = ncols;
    for (size_t i = 0; i < ncols; i++) v[i] = (struct need_col){names[i], (long)i};
    uint8_t *want = hamf__calloc(ncols ? ncols : 1, 1);
    bool ok = want != NULL;
    for (size_t i = 0; i < p->n && ok; i++) {
        const struct step *s = &p->steps[i];
        if (s->kind == STEP_WITH) {
            struct hamf__expr_prog *prog = NULL;
            if (hamf__expr_parse(s->expr, &prog) != HAMF_OK) {
                ok = false;
                break;
            }
            need_expr(prog->root, v, n, want);
            hamf__expr_prog_free(prog);
            long at = need_resolve(v, n, s->name);
            if (at >= 0) v[at].orig = -1; /* replaced in place: keeps its name */
            else v[n++] = (struct need_col){s->name, -1};
        } else {
            struct need_col *nv = hamf__malloc((n + 1) * sizeof *nv);
            size_t nn = 0;
            if (!nv) {
                ok = false;
                break;
            }
            if (s->kind == STEP_DROP) {
                uint8_t *gone = hamf__calloc(n + 1, 1);
                if (!gone) {
                    hamf__free(nv);
                    ok = false;
                    break;
                }
                for (size_t k = 0; k < s->ncols; k++) {
                    long at = need_resolve(v, n, s->cols[k]);
                    if (at < 0) ok = false; /* the real step reports it */
                    else gone[at] = 1;
                }
                for (size_t k = 0; k < n; k++)
                    if (!gone[k]) nv[nn++] = v[k];
                hamf__free(gone);
            } else {
                for (size_t k = 0; k < s->ncols && nn <= n; k++) {
                    long at = need_resolve(v, n, s->cols[k]);
                    if (at < 0) ok = false;
                    else nv[nn++] = v[at];
                }
            }
            memcpy(v, nv, nn * sizeof *nv);
            n = nn;
            hamf__free(nv);
        }
    }
    if (ok) {
        for (size_t i = 0; i < n; i++)
            if (v[i].orig >= 0) want[v[i].orig] |= HAMF__CSV_NEED_TEXT;
        memcpy(need, want, ncols);
    }
    hamf__free(want);
    hamf__free(v);
    return HAMF_OK;
}

struct xform {
    const hamf_pipeline *p;
    struct hamf__csv_writer *w;
    const char *in;
    size_t rows;
};

static hamf_status xform_block(hamf_frame *f, void *user)
{
    struct xform *x = user;
    hamf_status st = HAMF_OK;
    if (f->ncols == 0) {
        st = hamf__err(HAMF_ERR_PARSE, "csv: %s: empty file (no header row)", x->in);
        goto cleanup;
    }
    if (x->p && (st = hamf_pipeline_apply(x->p, f))) goto cleanup;
    if ((st = hamf__csv_writer_put(x->w, f))) goto cleanup;
    x->rows += f->nrows;
cleanup:
    hamf_frame_free(f);
    return st;
}

/* Default block of a transform: 2 MiB per parser thread (a block is split
 * into per-thread ranges of at least 2 MiB), at least 4 MiB, at most 64 MiB.
 * Smaller blocks keep the reader, the steps and the writer's thread
 * overlapped to the end of the file: the seed's step on 1M rows (61 MB, 2
 * threads) takes 0.29-0.30 s with 4 MiB blocks, 0.32 s with 8 MiB and 16 MiB
 * (quiet machine, 5 runs each); 2-3 MiB blocks give one range, 0.32-0.46 s. */
static size_t transform_block_bytes(const hamf_csv_options *opt)
{
    size_t t = (size_t)(opt && opt->threads > 0 ? opt->threads : hamf__ncpu());
    size_t b = t * ((size_t)2 << 20);
    if (b < ((size_t)4 << 20)) b = (size_t)4 << 20;
    if (b > ((size_t)64 << 20)) b = (size_t)64 << 20;
    return b;
}

hamf_status hamf_csv_transform(const char *in_path, const hamf_csv_options *opt, const hamf_pipeline *p,
                               const char *out_path, size_t *rows)
{
    if (!in_path || !out_path) return hamf__err(HAMF_ERR_MISUSE, "csv: NULL argument");
    struct xform x = {p, NULL, in_path, 0};
    hamf_status st = hamf__csv_writer_open(out_path, &x.w);
    if (st) return st;
    st = hamf__csv_stream_cols(in_path, opt, opt && opt->block_bytes ? opt->block_bytes : transform_block_bytes(opt),
                               p ? pipeline_need : NULL, (void *)p, xform_block, &x);
    if (st) {
        hamf__csv_writer_abort(x.w);
        return st;
    }
    if ((st = hamf__csv_writer_commit(x.w))) return st;
    if (rows) *rows = x.rows;
    return HAMF_OK;
}
