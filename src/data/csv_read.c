/*
 * csv_read.c — RFC 4180 CSV reading into frames.
 *
 * Reading is two steps over each block of bytes, like Spark's
 * `inferSchema=True`: step 1 tokenizes every row, checks the shape and
 * UTF-8, and records which kinds of values (int, double, bool, other) each
 * column holds; step 2 converts fields straight into typed column arrays
 * (no allocation per field: numbers go into the column, strings into a
 * per-range dictionary). Files are read in blocks that end on a row
 * boundary (a newline outside quotes, found by the quote-parity scan of
 * csv_scan.c), and each block is split the same way into ranges parsed by
 * parallel threads; the per-range dictionaries are merged afterwards.
 * Memory is one block plus one block's frame, so `hamf_csv_transform`
 * handles files larger than RAM.
 *
 * Errors carry file:line:column (1-based, bytes).
 */
#include "data/csv_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ROW_BYTES ((size_t)1 << 30)

/* ---- range jobs (pass 1 and pass 2) ------------------------------------- */

struct job {
    const struct hamf__csv_ctx *c;
    const char *buf;
    size_t begin, end;
    bool build;
    /* pass 1 */
    uint8_t *kinds, *hasnull;
    size_t rows;
    /* pass 2 */
    size_t row0, maxrows;
    struct hamf__col *cols;
    struct hamf__dict **dicts;
    uint8_t *act; /* ncols bytes of scratch */
    /* result */
    hamf_status st;
    bool perr;
    struct hamf__csv_perr e;
    struct hamf__buf tmp;
};

static void job_fail(struct job *j, size_t pos, const char *fmt, ...) HAMF_PRINTF(3, 4);
static void job_fail(struct job *j, size_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->e.msg, sizeof j->e.msg, fmt, ap);
    va_end(ap);
    j->e.pos = pos;
    j->perr = true;
    j->st = HAMF_ERR_PARSE;
}

static bool store_field(struct job *j, size_t k, size_t row, const struct hamf__csv_field *f)
{
    const struct hamf__csv_ctx *c = j->c;
    struct hamf__col *col = &j->cols[k];
    bool null = hamf__csv_is_null(c, f);
    const char *p;
    size_t n;
    switch (col->type) {
    case HAMF_DTYPE_STRING: {
        int32_t *codes = col->data;
        if (null) {
            codes[row] = -1;
            return true;
        }
        if ((j->st = hamf__csv_field_text(f, &j->tmp, &p, &n))) return false;
        if ((j->st = hamf__dict_intern(j->dicts[k], p, n, &codes[row]))) return false;
        return true;
    }
    case HAMF_DTYPE_INT64: {
        int64_t *v = col->data;
        if (null || !hamf__csv_parse_i64(f->p, f->n, &v[row])) goto bad;
        return true;
    }
    case HAMF_DTYPE_DOUBLE: {
        double *v = col->data;
        int64_t iv;
        if (null) goto bad;
        if (hamf__csv_parse_i64(f->p, f->n, &iv)) v[row] = (double)iv;
        else if (f->escaped || f->n >= 400 || !hamf__csv_parse_dbl(f->p, f->n, &v[row])) goto bad;
        return true;
    }
    case HAMF_DTYPE_BOOL: {
        uint8_t *v = col->data;
        if (null || !hamf__csv_parse_bool(f->p, f->n, &v[row])) goto bad;
        return true;
    }
    }
bad:
    if (null && col->valid) {
        col->valid[row] = 0;
        memset((char *)col->data + row * hamf__dtype_size(col->type), 0, hamf__dtype_size(col->type));
        return true;
    }
    job_fail(j, (size_t)(f->p - j->buf), "column '%s' (%s): cannot read '%.*s'%s", c->names[k],
             hamf__dtype_name(col->type), (int)(f->n > 40 ? 40 : f->n), f->p,
             null ? " (file changed while reading?)" : "");
    return false;
}

/* One range, one pass: step 1 (build = false) classifies values, step 2
 * stores them. The scan window (64 bytes and their mask of special bytes)
 * lives in locals so the common field, plain bytes up to a delimiter or
 * '\n', costs a count-trailing-zeros and a compare; quotes, CR, non-ASCII
 * and window ends go through hamf__csv_next_field. */
static inline void job_loop(struct job *j, const bool build)
{
    const struct hamf__csv_ctx *c = j->c;
    size_t pos = j->begin, end = j->end;
    const char *buf = j->buf;
    const char delim = c->delim;
    const size_t ncols = c->ncols;
    struct hamf__csv_field f;
    struct hamf__csv_scan sc;
    int term = T_END;
    size_t rows = 0;
    hamf__csv_scan_init(&sc, buf, end, delim);
    size_t base = 0;
    uint64_t mask = 0;
    bool have = false;
    /* per column: 0 nothing to do, 1 classify / store */
    uint8_t *act = j->act;
    for (size_t k = 0; k < ncols; k++)
        act[k] = build ? c->need[k] : ((c->need[k] && j->kinds[k] != K_STR) || c->forced[k]);
    while (pos < end) {
        size_t rowstart = pos;
        if (buf[pos] == '\n') { /* blank line */
            pos++;
            continue;
        }
        if (buf[pos] == '\r' && (pos + 1 == end || buf[pos + 1] == '\n')) { /* blank CRLF line */
            pos += pos + 1 < end ? 2 : 1;
            continue;
        }
        if (build && rows >= j->maxrows) {
            job_fail(j, rowstart, "more rows than on the first pass (file changed while reading?)");
            return;
        }
        size_t k = 0;
        for (;;) {
            size_t fstart = pos;
            uint64_t m = have && pos - base < 64 ? mask & (~(uint64_t)0 << (pos - base)) : 0;
            size_t at;
            char ch;
            if (m && buf[pos] != '"' && ((ch = buf[at = base + (size_t)__builtin_ctzll(m)]) == delim || ch == '\n')) {
                f.p = buf + pos;
                f.n = at - pos;
                f.quoted = f.escaped = false;
                term = ch == '\n' ? T_EOL : T_DELIM;
                pos = at + 1;
            } else {
                sc.base = base;
                sc.mask = mask;
                sc.have = have;
                bool ok = hamf__csv_next_field(&sc, &pos, &f, &term, &j->e);
                base = sc.base;
                mask = sc.mask;
                have = sc.have;
                if (!ok) {
                    j->perr = true;
                    j->st = HAMF_ERR_PARSE;
                    return;
                }
            }
            if (k >= ncols) {
                job_fail(j, fstart, "too many fields: expected %zu", ncols);
                return;
            }
            if (act[k]) {
                if (build) {
                    if (!store_field(j, k, j->row0 + rows, &f)) return;
                } else if (hamf__csv_is_null(c, &f)) {
                    j->hasnull[k] = 1;
                } else {
                    uint8_t kd = (uint8_t)hamf__csv_classify(&f);
                    if (c->forced[k] && !hamf__csv_kind_fits(kd, c->types[k])) {
                        job_fail(j, fstart, "column '%s' is %s (schema) but holds '%.*s'", c->names[k],
                                 hamf__dtype_name(c->types[k]), (int)(f.n > 40 ? 40 : f.n), f.p);
                        return;
                    }
                    j->kinds[k] |= kd;
                    if (j->kinds[k] & K_STR && !c->forced[k]) act[k] = 0; /* a string column stays one */
                }
            }
            k++;
            if (term != T_DELIM) break;
        }
        if (k < ncols) {
            /* point at the end of the short line */
            size_t at = pos;
            if (term == T_EOL) {
                at = pos - 1;
                if (buf[at] == '\n' && at > rowstart && buf[at - 1] == '\r') at--;
            }
            job_fail(j, at, "too few fields: got %zu, expected %zu", k, ncols);
            return;
        }
        rows++;
    }
    j->rows = rows;
}

static void *job_run(void *arg)
{
    struct job *j = arg;
    uint8_t one;
    j->act = j->c->ncols ? hamf__malloc(j->c->ncols) : &one;
    if (!j->act) {
        j->st = HAMF_ERR_NOMEM;
        return NULL;
    }
    if (j->build) job_loop(j, true);
    else job_loop(j, false);
    if (j->c->ncols) hamf__free(j->act);
    j->act = NULL;
    return NULL;
}

static void job_task(void *ctx, size_t i, int tid)
{
    (void)tid;
    job_run(&((struct job *)ctx)[i]);
}

/* The ranges run on the shared pool (util/threads.c). */
static hamf_status run_jobs(struct job *jobs, size_t n)
{
    hamf__run_parallel(n, job_task, jobs);
    return HAMF_OK;
}

/* ---- block source -------------------------------------------------------- */

struct src {
    int fd;
    const char *mem;
    size_t memlen;
    char *buf;
    size_t cap, have; /* bytes in buf */
    size_t blocksz;
    /* current block */
    const char *data;
    size_t len;
    size_t consumed; /* bytes of buf given out as the current block */
    bool eof, first, done;
    uint64_t line0; /* physical lines before the current block */
};

/* Next block: complete rows only (except at EOF). false at end. */
static hamf_status src_next(struct src *s, const char *name, bool *got)
{
    *got = false;
    if (s->done) return HAMF_OK;
    if (s->len) s->line0 += hamf__csv_count_nl(s->data, s->len);
    if (s->fd < 0) {
        if (!s->first) {
            s->done = true;
            return HAMF_OK;
        }
        s->first = false;
        s->data = s->mem;
        s->len = s->memlen;
        s->done = true;
        *got = true;
        return HAMF_OK;
    }
    /* drop the consumed part */
    if (s->consumed) {
        memmove(s->buf, s->buf + s->consumed, s->have - s->consumed);
        s->have -= s->consumed;
        s->consumed = 0;
    }
    size_t want = s->blocksz;
    for (;;) {
        while (!s->eof && s->have < want) {
            if (s->cap < want + 1) {
                size_t nc = want + 1;
                char *nb = hamf__realloc(s->buf, nc);
                if (!nb) return hamf__err(HAMF_ERR_NOMEM, "csv: %s: out of memory", name);
                s->buf = nb;
                s->cap = nc;
            }
            ssize_t r = read(s->fd, s->buf + s->have, want - s->have);
            if (r < 0) {
                if (errno == EINTR) continue;
                return hamf__err(HAMF_ERR_IO, "csv: %s: read: %s", name, strerror(errno));
            }
            if (r == 0) s->eof = true;
            s->have += (size_t)r;
        }
        size_t end = s->eof ? s->have : hamf__csv_last_row_end(s->buf, s->have);
        if (end == 0 && !s->eof) {
            size_t cr = hamf__csv_lone_cr(s->buf, s->have);
            if (cr < s->have) {
                size_t col = cr + 1;
                return hamf__err(HAMF_ERR_PARSE,
                                 "csv: %s:%llu:%zu: carriage return without a line feed (CR-only line endings "
                                 "are not supported: convert the file to LF or CRLF line endings)",
                                 name, (unsigned long long)s->line0 + 1, col);
            }
            if (want >= MAX_ROW_BYTES)
                return hamf__err(HAMF_ERR_PARSE, "csv: %s:%llu: row longer than %zu bytes (unterminated quote?)",
                                 name, (unsigned long long)s->line0 + 1, MAX_ROW_BYTES);
            want *= 2;
            continue;
        }
        if (end == 0 && s->eof && !s->first) {
            s->done = true;
            return HAMF_OK;
        }
        s->data = s->buf;
        s->len = end;
        s->consumed = end;
        s->first = false;
        *got = true;
        return HAMF_OK;
    }
}

static hamf_status src_open(struct src *s, const char *path, const char *mem, size_t memlen, size_t blocksz)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->first = true;
    s->blocksz = blocksz ? blocksz : 16u << 20;
    if (path) {
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0)
            return hamf__err(errno == ENOENT ? HAMF_ERR_NOTFOUND : HAMF_ERR_IO, "csv: %s: %s", path, strerror(errno));
        if (blocksz == 0) {
            struct stat sb;
            if (fstat(s->fd, &sb) == 0 && sb.st_size > 0) s->blocksz = (size_t)sb.st_size + 1;
        }
    } else {
        s->mem = mem;
        s->memlen = memlen;
    }
    return HAMF_OK;
}

static hamf_status src_rewind(struct src *s, const char *name)
{
    s->first = true;
    s->done = s->eof = false;
    s->have = s->consumed = s->len = 0;
    s->line0 = 0;
    if (s->fd >= 0 && lseek(s->fd, 0, SEEK_SET) < 0)
        return hamf__err(HAMF_ERR_IO, "csv: %s: seek: %s", name, strerror(errno));
    return HAMF_OK;
}

static void src_close(struct src *s)
{
    if (s->fd >= 0) close(s->fd);
    hamf__free(s->buf);
}

static hamf_status pos_err(const struct hamf__csv_ctx *c, const struct src *s, size_t pos, const char *msg)
{
    size_t line = (size_t)s->line0 + hamf__csv_count_nl(s->data, pos) + 1;
    const char *ls = pos ? memrchr(s->data, '\n', pos) : NULL;
    size_t col = ls ? pos - (size_t)(ls - s->data) : pos + 1;
    return hamf__err(HAMF_ERR_PARSE, "csv: %s:%zu:%zu: %s", c->name, line, col, msg);
}

/* Parse the header row of the first block; returns where data begins. */
static hamf_status parse_header(struct hamf__csv_ctx *c, struct src *s, size_t *data_start)
{
    const char *buf = s->data;
    size_t len = s->len, pos = 0;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) pos = 3;
    while (pos < len && (buf[pos] == '\n' || buf[pos] == '\r')) pos++;
    *data_start = pos;
    if (pos >= len) return HAMF_OK; /* empty file: no columns */
    struct hamf__buf tmp;
    hamf__buf_init(&tmp, 0);
    hamf_status st = HAMF_OK;
    size_t cap = 0;
    struct hamf__csv_scan sc;
    hamf__csv_scan_init(&sc, buf, len, c->delim);
    for (;;) {
        struct hamf__csv_field f;
        struct hamf__csv_perr e;
        int term;
        if (!hamf__csv_next_field(&sc, &pos, &f, &term, &e)) {
            st = pos_err(c, s, e.pos, e.msg);
            goto cleanup;
        }
        const char *nul = memchr(f.p, '\0', f.n);
        if (nul) { /* names are C strings: a NUL would cut the name short */
            st = pos_err(c, s, (size_t)(nul - buf), "NUL byte in a column name");
            goto cleanup;
        }
        const char *p;
        size_t n;
        if ((st = hamf__csv_field_text(&f, &tmp, &p, &n))) goto cleanup;
        if (c->ncols == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = hamf__realloc(c->names, cap * sizeof *nn);
            if (!nn) {
                st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
                goto cleanup;
            }
            c->names = nn;
        }
        c->names[c->ncols] = n ? hamf__strndup(p, n) : hamf__asprintf("_c%zu", c->ncols);
        if (!c->names[c->ncols]) {
            st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
            goto cleanup;
        }
        c->ncols++;
        if (c->ncols > 100000) {
            st = pos_err(c, s, pos, "more than 100000 columns");
            goto cleanup;
        }
        if (term != T_DELIM) break;
    }
    *data_start = pos;
    /* Spark renames duplicate header names to name + column index. */
    for (size_t i = 0; i < c->ncols; i++) {
        bool dup = false;
        for (size_t k = 0; k < c->ncols && !dup; k++)
            dup = k != i && strcmp(c->names[i], c->names[k]) == 0;
        if (!dup) continue;
        for (size_t k = i + 1; k < c->ncols; k++) {
            if (strcmp(c->names[i], c->names[k]) != 0) continue;
            char *nn = hamf__asprintf("%s%zu", c->names[k], k);
            if (!nn) {
                st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
                goto cleanup;
            }
            hamf__free(c->names[k]);
            c->names[k] = nn;
        }
        char *nn = hamf__asprintf("%s%zu", c->names[i], i);
        if (!nn) {
            st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
            goto cleanup;
        }
        hamf__free(c->names[i]);
        c->names[i] = nn;
    }
    c->types = hamf__calloc(c->ncols, sizeof *c->types);
    c->forced = hamf__calloc(c->ncols, 1);
    c->kinds = hamf__calloc(c->ncols, 1);
    c->hasnull = hamf__calloc(c->ncols, 1);
    c->need = hamf__malloc(c->ncols);
    if (!c->types || !c->forced || !c->kinds || !c->hasnull || !c->need) {
        st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
        goto cleanup;
    }
    memset(c->need, 1, c->ncols);
    if ((st = hamf__csv_apply_schema(c, c->schema_spec))) goto cleanup;
    if (c->need_fn) st = c->need_fn(c->names, c->ncols, c->need, c->need_user);
cleanup:
    hamf__buf_free(&tmp);
    return st;
}

/* Per-block record from pass 1, reused by pass 2. */
struct blockinfo {
    size_t len, nr;
    size_t bounds[HAMF__CSV_MAX_THREADS + 1];
    size_t rows[HAMF__CSV_MAX_THREADS];
};

static hamf_status finish_jobs(const struct hamf__csv_ctx *c, const struct src *s, struct job *jobs, size_t nr)
{
    for (size_t i = 0; i < nr; i++) {
        if (jobs[i].st == HAMF_OK) continue;
        if (jobs[i].perr) return pos_err(c, s, jobs[i].e.pos, jobs[i].e.msg);
        /* the worker's message went to its own thread: say it again here */
        return hamf__err(jobs[i].st, "csv: %s: %s", c->name, jobs[i].st == HAMF_ERR_NOMEM ? "out of memory" : "parse failed");
    }
    return HAMF_OK;
}

/* Pass 1 over the next block (the header first): its ranges, their row
 * counts and value kinds into a new blockinfo. *got false at the end. */
static hamf_status pass1_next(struct hamf__csv_ctx *c, struct src *s, struct blockinfo **infos, size_t *ninfo,
                              size_t *cap, bool *has_header, bool *got)
{
    hamf_status st = HAMF_OK;
    struct job jobs[HAMF__CSV_MAX_THREADS];
    bool more;
    *got = false;
    if ((st = src_next(s, c->name, &more))) return st;
    if (!more) return HAMF_OK;
    size_t begin = 0;
    if (!*has_header) {
        if ((st = parse_header(c, s, &begin))) return st;
        if (c->ncols == 0) return HAMF_OK;
        *has_header = true;
    }
    if (*ninfo == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        struct blockinfo *ni = hamf__realloc(*infos, *cap * sizeof *ni);
        if (!ni) return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
        *infos = ni;
    }
    struct blockinfo *bi = &(*infos)[(*ninfo)++];
    memset(bi, 0, sizeof *bi);
    bi->len = s->len;
    bi->nr = hamf__csv_split_ranges(s->data, begin, s->len, (size_t)c->threads, bi->bounds);
    uint8_t *scratch = hamf__calloc(bi->nr * 2, c->ncols);
    if (!scratch) return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
    for (size_t i = 0; i < bi->nr; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].c = c;
        jobs[i].buf = s->data;
        jobs[i].begin = bi->bounds[i];
        jobs[i].end = bi->bounds[i + 1];
        jobs[i].kinds = scratch + 2 * i * c->ncols;
        jobs[i].hasnull = jobs[i].kinds + c->ncols;
        memcpy(jobs[i].kinds, c->kinds, c->ncols);
    }
    run_jobs(jobs, bi->nr);
    st = finish_jobs(c, s, jobs, bi->nr);
    for (size_t i = 0; i < bi->nr && !st; i++) {
        bi->rows[i] = jobs[i].rows;
        for (size_t k = 0; k < c->ncols; k++) {
            c->kinds[k] |= jobs[i].kinds[k];
            c->hasnull[k] |= jobs[i].hasnull[k];
        }
    }
    hamf__free(scratch);
    if (!st) *got = true;
    return st;
}

/* Column types from the kinds pass 1 has seen so far. */
static void pass1_types(struct hamf__csv_ctx *c)
{
    for (size_t k = 0; k < c->ncols; k++) {
        if (!c->forced[k]) c->types[k] = hamf__csv_kinds_type(c->kinds[k]);
        if (!c->need[k]) { /* placeholder: zeroed bytes, never read */
            c->types[k] = HAMF_DTYPE_BOOL;
            c->hasnull[k] = 0;
        }
    }
}

static hamf_status pass1(struct hamf__csv_ctx *c, struct src *s, struct blockinfo **infos, size_t *ninfo,
                         bool *has_header)
{
    size_t cap = 0;
    *has_header = false;
    *ninfo = 0;
    *infos = NULL;
    for (;;) {
        bool got;
        hamf_status st = pass1_next(c, s, infos, ninfo, &cap, has_header, &got);
        if (st) return st;
        if (!got) break;
    }
    if (*has_header) pass1_types(c);
    return HAMF_OK;
}

static hamf_status build_block(const struct hamf__csv_ctx *c, const struct src *s, const struct blockinfo *bi,
                               hamf_frame **out);

/* Round 0 of hamf__csv_stream_rounds_hint: pass 1 and round 0 block by
 * block, each block typed with the kinds seen so far. It gives the frames
 * the schema pass would have only when no later block changes a column's
 * type and the file has rows_hint rows: else *redo. */
static hamf_status lazy_round0(struct hamf__csv_ctx *c, struct src *s, struct blockinfo **infos, size_t *ninfo,
                               bool *has_header, size_t rows_hint, hamf__csv_block_fn fn, void *user, bool *redo)
{
    hamf_status st = HAMF_OK;
    hamf_dtype *used = NULL;
    size_t cap = 0, total = 0;
    *redo = true;
    *has_header = false;
    *ninfo = 0;
    *infos = NULL;
    for (;;) {
        bool got;
        if ((st = pass1_next(c, s, infos, ninfo, &cap, has_header, &got))) goto done;
        if (!got) break;
        pass1_types(c);
        if (!used) {
            if (!(used = hamf__malloc(c->ncols * sizeof *used))) { st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory"); goto done; }
            memcpy(used, c->types, c->ncols * sizeof *used);
        } else if (memcmp(used, c->types, c->ncols * sizeof *used)) {
            goto done; /* a type changed: the blocks given out were read otherwise */
        }
        struct blockinfo *b = &(*infos)[*ninfo - 1];
        for (size_t r = 0; r < b->nr; r++) total += b->rows[r];
        hamf_frame *f = NULL;
        if ((st = build_block(c, s, b, &f))) goto done;
        if ((st = fn(f, user))) goto done;
    }
    *redo = !*has_header || total != rows_hint;
done:
    hamf__free(used);
    return st;
}

static hamf_status alloc_cols(const struct hamf__csv_ctx *c, size_t nrows, hamf_frame *f)
{
    for (size_t k = 0; k < c->ncols; k++) {
        hamf_dtype t = c->types[k];
        void *data = c->need[k] ? hamf__malloc(nrows * hamf__dtype_size(t)) : hamf__calloc(nrows ? nrows : 1, 1);
        uint8_t *valid = NULL;
        if (data && c->hasnull[k] && t != HAMF_DTYPE_STRING) {
            valid = hamf__malloc(nrows);
            if (valid) memset(valid, 1, nrows);
        }
        if (!data || (c->hasnull[k] && t != HAMF_DTYPE_STRING && !valid)) {
            hamf__free(data);
            hamf__free(valid);
            return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory (%zu rows)", nrows);
        }
        hamf_status st = hamf__frame_push(f, hamf__strdup(c->names[k]), t, data, valid, NULL, nrows);
        if (st) return st;
    }
    return HAMF_OK;
}

/* Build the frame of the current block with the ranges from pass 1. */
static hamf_status build_block(const struct hamf__csv_ctx *c, const struct src *s, const struct blockinfo *bi,
                               hamf_frame **out)
{
    hamf_status st;
    hamf_frame *f = NULL;
    struct job jobs[HAMF__CSV_MAX_THREADS];
    struct hamf__dict **dicts = NULL;
    int32_t *remap = NULL;
    size_t nrows = 0, nr = bi->nr;
    memset(jobs, 0, sizeof jobs);
    for (size_t i = 0; i < nr; i++) nrows += bi->rows[i];
    if (bi->len != s->len) return hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", c->name);
    if ((st = hamf_frame_new(&f))) return st;
    if ((st = alloc_cols(c, nrows, f))) goto cleanup;
    dicts = hamf__calloc(nr * c->ncols, sizeof *dicts);
    if (!dicts) {
        st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < nr; i++) {
        for (size_t k = 0; k < c->ncols; k++) {
            if (c->types[k] != HAMF_DTYPE_STRING) continue;
            if (i == 0) {
                dicts[k] = f->cols[k].dict; /* range 0 fills the column's own dictionary */
            } else if ((st = hamf__dict_new(&dicts[i * c->ncols + k]))) {
                goto cleanup;
            }
        }
    }
    size_t row0 = 0;
    for (size_t i = 0; i < nr; i++) {
        jobs[i].c = c;
        jobs[i].buf = s->data;
        jobs[i].begin = bi->bounds[i];
        jobs[i].end = bi->bounds[i + 1];
        jobs[i].build = true;
        jobs[i].row0 = row0;
        jobs[i].maxrows = bi->rows[i];
        jobs[i].cols = f->cols;
        jobs[i].dicts = dicts + i * c->ncols;
        hamf__buf_init(&jobs[i].tmp, 0);
        row0 += bi->rows[i];
    }
    run_jobs(jobs, nr);
    if ((st = finish_jobs(c, s, jobs, nr))) goto cleanup;
    for (size_t i = 0; i < nr; i++) {
        if (jobs[i].rows != bi->rows[i]) {
            st = hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", c->name);
            goto cleanup;
        }
    }
    /* merge per-range dictionaries into each column's own */
    for (size_t i = 1; i < nr; i++) {
        for (size_t k = 0; k < c->ncols; k++) {
            struct hamf__dict *d = dicts[i * c->ncols + k];
            if (!d) continue;
            int32_t *nm = hamf__realloc(remap, (d->n ? d->n : 1) * sizeof *nm);
            if (!nm) {
                st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
                goto cleanup;
            }
            remap = nm;
            for (size_t m = 0; m < d->n; m++)
                if ((st = hamf__dict_intern(f->cols[k].dict, d->str[m], d->len[m], &remap[m]))) goto cleanup;
            int32_t *codes = f->cols[k].data;
            for (size_t r = jobs[i].row0; r < jobs[i].row0 + jobs[i].rows; r++)
                if (codes[r] >= 0) codes[r] = remap[codes[r]];
        }
    }
    *out = f;
    f = NULL;
cleanup:
    for (size_t i = 0; i < nr; i++) hamf__buf_free(&jobs[i].tmp);
    if (dicts)
        for (size_t i = c->ncols; i < nr * c->ncols; i++) hamf__dict_free(dicts[i]);
    hamf__free(dicts);
    hamf__free(remap);
    hamf_frame_free(f);
    return st;
}

static hamf_status run_csv(const char *name, const char *path, const char *mem, size_t memlen,
                           const hamf_csv_options *opt, size_t blocksz, hamf__csv_need_fn need_fn, void *need_user,
                           int rounds, size_t rows_hint, hamf__csv_round_fn round_fn, hamf__csv_block_fn fn,
                           void *user, bool *redo)
{
    struct hamf__csv_ctx c;
    struct src s;
    struct blockinfo *infos = NULL;
    size_t ninfo = 0, bi = 0;
    bool has_header = false, called = false;
    hamf_status st = hamf__csv_ctx_init(&c, name, opt);
    c.need_fn = need_fn;
    c.need_user = need_user;
    memset(&s, 0, sizeof s);
    s.fd = -1;
    if (st) goto cleanup;
    if ((st = src_open(&s, path, mem, memlen, blocksz))) goto cleanup;
    int round = 0;
    if (redo) { /* round 0 with pass 1 (rows_hint: the caller's count) */
        *redo = true;
        if (round_fn && (st = round_fn(0, rows_hint, user))) goto cleanup;
        if ((st = lazy_round0(&c, &s, &infos, &ninfo, &has_header, rows_hint, fn, user, redo)) || *redo) goto cleanup;
        round = 1;
    } else if ((st = pass1(&c, &s, &infos, &ninfo, &has_header))) { /* the header first: the schema option names columns */
        goto cleanup;
    }
    size_t total = 0;
    for (size_t i = 0; i < ninfo; i++)
        for (size_t r = 0; r < infos[i].nr; r++) total += infos[i].rows[r];
    for (; round < rounds; round++) {
        if ((st = src_rewind(&s, name))) goto cleanup;
        if (round_fn && (st = round_fn(round, total, user))) goto cleanup;
        if (!has_header) {
            hamf_frame *f;
            if ((st = hamf_frame_new(&f))) goto cleanup;
            if ((st = fn(f, user))) goto cleanup;
            continue;
        }
        called = false;
        bi = 0;
        for (;;) {
            bool got;
            if ((st = src_next(&s, name, &got))) goto cleanup;
            if (!got) break;
            if (bi >= ninfo) {
                st = hamf__err(HAMF_ERR_IO, "csv: %s: file changed while reading", name);
                goto cleanup;
            }
            struct blockinfo *b = &infos[bi++];
            hamf_frame *f = NULL;
            if ((st = build_block(&c, &s, b, &f))) goto cleanup;
            called = true;
            if ((st = fn(f, user))) goto cleanup;
        }
        if (!called) {
            hamf_frame *f = NULL;
            if ((st = hamf_frame_new(&f))) goto cleanup;
            if ((st = alloc_cols(&c, 0, f))) {
                hamf_frame_free(f);
                goto cleanup;
            }
            if ((st = fn(f, user))) goto cleanup;
        }
    }
cleanup:
    hamf__free(infos);
    src_close(&s);
    hamf__csv_ctx_free(&c);
    return st;
}

hamf_status hamf__csv_stream(const char *path, const hamf_csv_options *opt, size_t block_bytes,
                             hamf__csv_block_fn fn, void *user)
{
    if (!path || !fn) return hamf__err(HAMF_ERR_MISUSE, "csv: NULL argument");
    return run_csv(path, path, NULL, 0, opt, block_bytes, NULL, NULL, 1, 0, NULL, fn, user, NULL);
}

hamf_status hamf__csv_stream_cols(const char *path, const hamf_csv_options *opt, size_t block_bytes,
                                  hamf__csv_need_fn need_fn, void *need_user, hamf__csv_block_fn fn, void *user)
{
    if (!path || !fn) return hamf__err(HAMF_ERR_MISUSE, "csv: NULL argument");
    return run_csv(path, path, NULL, 0, opt, block_bytes, need_fn, need_user, 1, 0, NULL, fn, user, NULL);
}

hamf_status hamf__csv_stream_rounds(const char *path, const hamf_csv_options *opt, size_t block_bytes, int rounds,
                                    hamf__csv_round_fn round_fn, hamf__csv_block_fn fn, void *user)
{
    if (!path || !fn || rounds < 1) return hamf__err(HAMF_ERR_MISUSE, "csv: NULL argument");
    return run_csv(path, path, NULL, 0, opt, block_bytes, NULL, NULL, rounds, 0, round_fn, fn, user, NULL);
}

hamf_status hamf__csv_stream_rounds_hint(const char *path, const hamf_csv_options *opt, size_t block_bytes,
                                         int rounds, size_t rows_hint, hamf__csv_round_fn round_fn,
                                         hamf__csv_block_fn fn, void *user, bool *redo)
{
    if (!path || !fn || rounds < 1 || !redo) return hamf__err(HAMF_ERR_MISUSE, "csv: NULL argument");
    *redo = false;
    return run_csv(path, path, NULL, 0, opt, block_bytes, NULL, NULL, rounds, rows_hint, round_fn, fn, user, redo);
}

static hamf_status keep_frame(hamf_frame *f, void *user)
{
    hamf_frame **dst = user;
    if (*dst) { /* only one block is expected when reading whole */
        hamf_frame_free(f);
        return hamf__err(HAMF_ERR_INTERNAL, "csv: unexpected second block");
    }
    *dst = f;
    return HAMF_OK;
}

hamf_status hamf_csv_read(const char *path, const hamf_csv_options *opt, hamf_frame **out)
{
    if (!path || !out) return hamf__err(HAMF_ERR_MISUSE, "csv: NULL argument");
    hamf_frame *f = NULL;
    hamf_status st = run_csv(path, path, NULL, 0, opt, 0, NULL, NULL, 1, 0, NULL, keep_frame, &f, NULL);
    if (st) {
        hamf_frame_free(f);
        return st;
    }
    *out = f;
    return HAMF_OK;
}

hamf_status hamf_csv_read_mem(const char *data, size_t len, const char *source_name,
                              const hamf_csv_options *opt, hamf_frame **out)
{
    if ((!data && len) || !out) return hamf__err(HAMF_ERR_MISUSE, "csv: NULL argument");
    hamf_frame *f = NULL;
    hamf_status st = run_csv(source_name ? source_name : "<memory>", NULL, data ? data : "", len, opt, 0, NULL,
                             NULL, 1, 0, NULL, keep_frame, &f, NULL);
    if (st) {
        hamf_frame_free(f);
        return st;
    }
    *out = f;
    return HAMF_OK;
}

