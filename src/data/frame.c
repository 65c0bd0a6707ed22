/*
 * frame.c — the in-memory columnar table (hamf_frame) and the string
 * dictionary used for categorical columns. Columns are typed arrays plus an
 * optional validity array; strings are interned once per column, so a
 * million rows of `registrarname` cost four bytes each.
 */
#include "data/frame.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- dictionary ---------------------------------------------------------- */

uint64_t hamf__hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

hamf_status hamf__dict_new(struct hamf__dict **out)
{
    struct hamf__dict *d = hamf__calloc(1, sizeof *d);
    if (!d) return hamf__err(HAMF_ERR_NOMEM, "frame: out of memory (dictionary)");
    *out = d;
    return HAMF_OK;
}

void hamf__dict_free(struct hamf__dict *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) hamf__free(d->str[i]);
    hamf__free(d->str);
    hamf__free(d->len);
    hamf__free(d->slots);
    hamf__free(d);
}

static hamf_status dict_rehash(struct hamf__dict *d, size_t nslots)
{
    int32_t *s = hamf__malloc(nslots * sizeof *s);
    if (!s) return hamf__err(HAMF_ERR_NOMEM, "frame: out of memory (dictionary)");
    memset(s, 0xff, nslots * sizeof *s);
    for (size_t i = 0; i < d->n; i++) {
        size_t j = hamf__hash_bytes(d->str[i], d->len[i]) & (nslots - 1);
        while (s[j] >= 0) j = (j + 1) & (nslots - 1);
        s[j] = (int32_t)i;
    }
    hamf__free(d->slots);
    d->slots = s;
    d->nslots = nslots;
    return HAMF_OK;
}

hamf_status hamf__dict_intern(struct hamf__dict *d, const char *s, size_t n, int32_t *code)
{
    if (n > UINT32_MAX) return hamf__err(HAMF_ERR_CONSTRAINT, "frame: string too long");
    if ((d->n + 1) * 2 > d->nslots) {
        hamf_status st = dict_rehash(d, d->nslots ? d->nslots * 2 : 16);
        if (st) return st;
    }
    size_t mask = d->nslots - 1;
    size_t j = hamf__hash_bytes(s, n) & mask;
    while (d->slots[j] >= 0) {
        int32_t c = d->slots[j];
        if (d->len[c] == n && memcmp(d->str[c], s, n) == 0) {
            *code = c;
            return HAMF_OK;
        }
        j = (j + 1) & mask;
    }
    if (d->n >= INT32_MAX) return hamf__err(HAMF_ERR_CONSTRAINT, "frame: too many distinct strings");
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 16;
        char **ns = hamf__realloc(d->str, nc * sizeof *ns);
        if (!ns) return hamf__err(HAMF_ERR_NOMEM, "frame: out of memory (dictionary)");
        d->str = ns;
        uint32_t *nl = hamf__realloc(d->len, nc * sizeof *nl);
        if (!nl) return hamf__err(HAMF_ERR_NOMEM, "frame: out of memory (dictionary)");
        d->len = nl;
        d->cap = nc;
    }
    char *copy = hamf__strndup(s, n);
    if (!copy) return hamf__err(HAMF_ERR_NOMEM, "frame: out of memory (dictionary)");
    d->str[d->n] = copy;
    d->len[d->n] = (uint32_t)n;
    d->slots[j] = (int32_t)d->n;
    *code = (int32_t)d->n++;
    return HAMF_OK;
}

/* ---- frame --------------------------------------------------------------- */

size_t hamf__dtype_size(hamf_dtype t)
{
    switch (t) {
    case HAMF_DTYPE_INT64: return sizeof(int64_t);
    case HAMF_DTYPE_DOUBLE: return sizeof(double);
    case HAMF_DTYPE_BOOL: return 1;
    case HAMF_DTYPE_STRING: return sizeof(int32_t);
    }
    return 1;
}

const char *hamf__dtype_name(hamf_dtype t)
{
    switch (t) {
    case HAMF_DTYPE_INT64: return "int64";
    case HAMF_DTYPE_DOUBLE: return "double";
    case HAMF_DTYPE_BOOL: return "bool";
    case HAMF_DTYPE_STRING: return "string";
    }
    return "?";
}

void hamf__raw_free(struct hamf__raw *r)
{
    if (!r) return;
    if (r->buf && --r->buf->users == 0) {
        hamf__free(r->buf->data);
        hamf__free(r->buf);
    }
    hamf__free(r);
}

void hamf__col_clear(struct hamf__col *c)
{
    hamf__raw_free(c->raw);
    hamf__free(c->name);
    hamf__free(c->data);
    hamf__free(c->valid);
    hamf__dict_free(c->dict);
    memset(c, 0, sizeof *c);
}

hamf_status hamf_frame_new(hamf_frame **out)
{
    if (!out) return hamf__err(HAMF_ERR_MISUSE, "frame: NULL out");
    hamf_frame *f = hamf__calloc(1, sizeof *f);
    if (!f) return hamf__err(HAMF_ERR_NOMEM, "frame: out of memory");
    *out = f;
    return HAMF_OK;
}

void hamf_frame_free(hamf_frame *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->ncols; i++) hamf__col_clear(&f->cols[i]);
    hamf__free(f->cols);
    hamf__free(f);
}

size_t hamf_frame_nrows(const hamf_frame *f) { return f ? f->nrows : 0; }
size_t hamf_frame_ncols(const hamf_frame *f) { return f ? f->ncols : 0; }

const char *hamf_frame_col_name(const hamf_frame *f, size_t col)
{
    return f && col < f->ncols ? f->cols[col].name : NULL;
}

hamf_dtype hamf_frame_col_type(const hamf_frame *f, size_t col)
{
    return f && col < f->ncols ? f->cols[col].type : (hamf_dtype)0;
}

hamf_status hamf_frame_find(const hamf_frame *f, const char *name, size_t *col)
{
    if (!f || !name || !col) return hamf__err(HAMF_ERR_MISUSE, "frame: NULL argument");
    for (size_t i = 0; i < f->ncols; i++) {
        if (strcmp(f->cols[i].name, name) == 0) {
            *col = i;
            return HAMF_OK;
        }
    }
    return hamf__err(HAMF_ERR_NOTFOUND, "frame: no column '%s'", name);
}

bool hamf__frame_resolve(const hamf_frame *f, const char *name, size_t *col)
{
    size_t hit = 0, nhit = 0;
    for (size_t i = 0; i < f->ncols; i++) {
        if (strcmp(f->cols[i].name, name) == 0) {
            *col = i;
            return true;
        }
    }
    for (size_t i = 0; i < f->ncols; i++) {
        if (strcasecmp(f->cols[i].name, name) == 0) {
            hit = i;
            nhit++;
        }
    }
    if (nhit != 1) return false;
    *col = hit;
    return true;
}

hamf_status hamf_frame_get_f64(const hamf_frame *f, size_t col, double *out)
{
    if (!f || !out || col >= f->ncols) return hamf__err(HAMF_ERR_MISUSE, "frame: bad column index");
    const struct hamf__col *c = &f->cols[col];
    size_t n = f->nrows;
    switch (c->type) {
    case HAMF_DTYPE_INT64: {
        const int64_t *v = c->data;
        for (size_t i = 0; i < n; i++) out[i] = (double)v[i];
        break;
    }
    case HAMF_DTYPE_DOUBLE:
        if (n) memcpy(out, c->data, n * sizeof(double));
        break;
    case HAMF_DTYPE_BOOL: {
        const uint8_t *v = c->data;
        for (size_t i = 0; i < n; i++) out[i] = v[i] ? 1.0 : 0.0;
        break;
    }
    case HAMF_DTYPE_STRING:
    default:
        return hamf__err(HAMF_ERR_SCHEMA, "frame: column '%s' is a string column, not numeric", c->name);
    }
    if (c->valid)
        for (size_t i = 0; i < n; i++)
            if (!c->valid[i]) out[i] = NAN;
    return HAMF_OK;
}

const void *hamf__frame_data(const hamf_frame *f, size_t col, const uint8_t **valid)
{
    *valid = NULL;
    if (!f || col >= f->ncols) return NULL;
    *valid = f->cols[col].valid;
    return f->cols[col].data;
}

const int32_t *hamf_frame_codes(const hamf_frame *f, size_t col)
{
    if (!f || col >= f->ncols || f->cols[col].type != HAMF_DTYPE_STRING) return NULL;
    return f->cols[col].data;
}

size_t hamf_frame_dict_size(const hamf_frame *f, size_t col)
{
    if (!f || col >= f->ncols || f->cols[col].type != HAMF_DTYPE_STRING) return 0;
    return f->cols[col].dict ? f->cols[col].dict->n : 0;
}

const char *hamf_frame_dict_value(const hamf_frame *f, size_t col, size_t code)
{
    if (!f || col >= f->ncols || f->cols[col].type != HAMF_DTYPE_STRING) return NULL;
    const struct hamf__dict *d = f->cols[col].dict;
    return d && code < d->n ? d->str[code] : NULL;
}

static void free_parts(char *name, void *data, uint8_t *valid, struct hamf__dict *dict)
{
    hamf__free(name);
    hamf__free(data);
    hamf__free(valid);
    hamf__dict_free(dict);
}

static hamf_status check_len(hamf_frame *f, size_t n)
{
    if (f->ncols > 0 && n != f->nrows)
        return hamf__err(HAMF_ERR_SCHEMA, "frame: column has %zu rows, frame has %zu", n, f->nrows);
    return HAMF_OK;
}

/* Install a column's parts: strings keep the dictionary (no validity:
 * missing is a code), other types keep the validity bytes; the unused
 * part is freed. */
static void col_set(struct hamf__col *c, hamf_dtype type, void *data, uint8_t *valid, struct hamf__dict *dict)
{
    c->type = type;
    c->data = data;
    c->valid = type == HAMF_DTYPE_STRING ? NULL : valid;
    c->dict = type == HAMF_DTYPE_STRING ? dict : NULL;
    if (type == HAMF_DTYPE_STRING) hamf__free(valid);
    else hamf__dict_free(dict);
}

hamf_status hamf__frame_push(hamf_frame *f, char *name, hamf_dtype type, void *data,
                             uint8_t *valid, struct hamf__dict *dict, size_t n)
{
    hamf_status st = HAMF_OK;
    if (!name || (!data && n)) {
        st = hamf__err(HAMF_ERR_NOMEM, "frame: out of memory (column)");
        goto fail;
    }
    if ((st = check_len(f, n))) goto fail;
    if (f->ncols == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 16;
        struct hamf__col *cols = hamf__realloc(f->cols, nc * sizeof *cols);
        if (!cols) {
            st = hamf__err(HAMF_ERR_NOMEM, "frame: out of memory (columns)");
            goto fail;
        }
        f->cols = cols;
        f->cap = nc;
    }
    if (type == HAMF_DTYPE_STRING && !dict) {
        if ((st = hamf__dict_new(&dict))) goto fail;
    }
    struct hamf__col *c = &f->cols[f->ncols++];
    c->name = name;
    c->raw = NULL;
    col_set(c, type, data, valid, dict);
    f->nrows = n;
    return HAMF_OK;
fail:
    free_parts(name, data, valid, dict);
    return st;
}

hamf_status hamf__frame_replace(hamf_frame *f, size_t idx, hamf_dtype type, void *data,
                                uint8_t *valid, struct hamf__dict *dict, size_t n)
{
    hamf_status st;
    if (idx >= f->ncols) {
        free_parts(NULL, data, valid, dict);
        return hamf__err(HAMF_ERR_MISUSE, "frame: bad column index");
    }
    if (f->ncols > 1 && n != f->nrows) {
        free_parts(NULL, data, valid, dict);
        return hamf__err(HAMF_ERR_SCHEMA, "frame: column has %zu rows, frame has %zu", n, f->nrows);
    }
    if (type == HAMF_DTYPE_STRING && !dict) {
        if ((st = hamf__dict_new(&dict))) {
            free_parts(NULL, data, valid, NULL);
            return st;
        }
    }
    struct hamf__col *c = &f->cols[idx];
    hamf__free(c->data);
    hamf__free(c->valid);
    hamf__dict_free(c->dict);
    hamf__raw_free(c->raw); /* new values: the texts read are not theirs */
    c->raw = NULL;
    col_set(c, type, data, valid, dict);
    f->nrows = n;
    return HAMF_OK;
}

static hamf_status copy_valid(const uint8_t *valid, size_t n, uint8_t **out)
{
    *out = NULL;
    if (!valid) return HAMF_OK;
    bool all = true;
    for (size_t i = 0; i < n && all; i++) all = valid[i] != 0;
    if (all) return HAMF_OK;
    uint8_t *v = hamf__malloc(n);
    if (!v) return hamf__err(HAMF_ERR_NOMEM, "frame: out of memory");
    for (size_t i = 0; i < n; i++) v[i] = valid[i] ? 1 : 0;
    *out = v;
    return HAMF_OK;
}

static hamf_status add_numeric(hamf_frame *f, const char *name, hamf_dtype t, const void *v,
                               const uint8_t *valid, size_t n)
{
    if (!f || !name || (!v && n)) return hamf__err(HAMF_ERR_MISUSE, "frame: NULL argument");
    size_t idx;
    if (hamf_frame_find(f, name, &idx) == HAMF_OK)
        return hamf__err(HAMF_ERR_EXISTS, "frame: column '%s' already exists", name);
    hamf_status st = check_len(f, n);
    if (st) return st;
    void *data = hamf__malloc(n * hamf__dtype_size(t));
    uint8_t *vv = NULL;
    if (!data) return hamf__err(HAMF_ERR_NOMEM, "frame: out of memory");
    if (n) memcpy(data, v, n * hamf__dtype_size(t));
    if ((st = copy_valid(valid, n, &vv))) {
        hamf__free(data);
        return st;
    }
    return hamf__frame_push(f, hamf__strdup(name), t, data, vv, NULL, n);
}

hamf_status hamf_frame_add_f64(hamf_frame *f, const char *name, const double *v,
                               const uint8_t *valid, size_t n)
{
    return add_numeric(f, name, HAMF_DTYPE_DOUBLE, v, valid, n);
}

hamf_status hamf_frame_add_i64(hamf_frame *f, const char *name, const int64_t *v,
                               const uint8_t *valid, size_t n)
{
    return add_numeric(f, name, HAMF_DTYPE_INT64, v, valid, n);
}

hamf_status hamf_frame_add_strings(hamf_frame *f, const char *name,
                                   const char *const *strings, size_t n)
{
    if (!f || !name || (!strings && n)) return hamf__err(HAMF_ERR_MISUSE, "frame: NULL argument");
    size_t idx;
    if (hamf_frame_find(f, name, &idx) == HAMF_OK)
        return hamf__err(HAMF_ERR_EXISTS, "frame: column '%s' already exists", name);
    hamf_status st = check_len(f, n);
    if (st) return st;
    struct hamf__dict *d = NULL;
    int32_t *codes = hamf__malloc(n * sizeof *codes);
    if (!codes) return hamf__err(HAMF_ERR_NOMEM, "frame: out of memory");
    if ((st = hamf__dict_new(&d))) goto fail;
    for (size_t i = 0; i < n; i++) {
        if (!strings[i]) {
            codes[i] = -1;
            continue;
        }
        if ((st = hamf__dict_intern(d, strings[i], strlen(strings[i]), &codes[i]))) goto fail;
    }
    return hamf__frame_push(f, hamf__strdup(name), HAMF_DTYPE_STRING, codes, NULL, d, n);
fail:
    hamf__free(codes);
    hamf__dict_free(d);
    return st;
}

hamf_status hamf_frame_drop(hamf_frame *f, const char *name)
{
    if (!f || !name) return hamf__err(HAMF_ERR_MISUSE, "frame: NULL argument");
    size_t idx;
    if (!hamf__frame_resolve(f, name, &idx))
        return hamf__err(HAMF_ERR_NOTFOUND, "frame: no column '%s'", name);
    hamf__col_clear(&f->cols[idx]);
    memmove(&f->cols[idx], &f->cols[idx + 1], (f->ncols - idx - 1) * sizeof *f->cols);
    f->ncols--;
    return HAMF_OK;
}
