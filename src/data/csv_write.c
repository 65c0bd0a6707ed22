/*
 * csv_write.c — CSV writing from frames: rows are formatted in parallel
 * into per-thread buffers (integers by a digit loop, doubles by the
 * shortest round-trip formatter of util/num.h), written to a temp file in
 * the target directory, fsynced and renamed into place. A block's buffers
 * are written by a thread of their own while the caller goes on (reading
 * the next block); the next block waits for that write before it formats
 * into the same buffers, so memory stays one block's text.
 */
#include "data/csv_int.h"
#include "util/num.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hamf__csv_fmt_double(char out[32], double v)
{
    return hamf__num_fmt_f64(out, v);
}

/* ---- writing ------------------------------------------------------------- */

/* A column as the row loop reads it (copied out of the frame so the
 * loop's char stores cannot make the compiler reload it). A column with
 * texts (raw) copies them; span > 0 when it is the first of span columns
 * whose texts are whole fields of adjacent input columns read with ','
 * between them: one copy of the bytes from the first field's start to the
 * last one's end writes them all. */
struct wcol {
    hamf_dtype type;
    const void *data;
    const uint8_t *valid;
    const struct hamf__dict *dict;
    const struct hamf__rawref *ref; /* row r's: ref[r * stride] */
    const char *base, *base_end;
    const struct hamf__rawref *last; /* the span's last column's references (same stride) */
    size_t stride, span;
};

struct wjob {
    const struct wcol *cols;
    struct dcol *dc; /* per column */
    size_t ncols, r0, r1;
    struct hamf__buf *out;
    hamf_status st;
};

/* 1 for the bytes that force quoting: ',', '"', '\n', '\r'. */
static const uint8_t quote_tab[256] = {[','] = 1, ['"'] = 1, ['\n'] = 1, ['\r'] = 1};

static inline bool needs_quote(const char *s, size_t n)
{
    if (n == 0) return true; /* empty string, not null */
    for (size_t i = 0; i < n; i++)
        if (quote_tab[(unsigned char)s[i]]) return true;
    return false;
}

/* s as a CSV field at o (room for 2n + 2 bytes); returns the end. */
static inline char *put_str_at(char *o, const char *s, size_t n)
{
    if (!needs_quote(s, n)) {
        memcpy(o, s, n);
        return o + n;
    }
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') *o++ = '"';
        *o++ = s[i];
    }
    *o++ = '"';
    return o;
}

static hamf_status put_str(struct hamf__buf *b, const char *s, size_t n)
{
    if (hamf__buf_reserve(b, 2 * n + 3)) return HAMF_ERR_NOMEM;
    b->len = (size_t)(put_str_at(b->data + b->len, s, n) - b->data);
    b->data[b->len] = '\0';
    return HAMF_OK;
}

/* The text of recently formatted doubles of one column, by their bits: a
 * column of ratios of small counts repeats a few thousand values whose
 * shortest text takes the slow 16-17 digit search (the seed's
 * pathlength / urllength: 14,465 values in 1M rows), and the few values
 * below 1e-5 take snprintf + strtod (the seed's alexa_rank / 1000000:
 * 1e-06 .. 9e-06, 5 % of rows). Direct-mapped, 16384 entries per column
 * and thread, kept from block to block (the writer's dcol): with a cache
 * per block of 4096 entries, ~30 % of the ratios missed. 640 KiB each: the
 * first DC_COLS double columns of a frame have one. */
enum { DC_BITS = 14, DC_COLS = 6 };
struct dcache {
    uint64_t bits;
    uint32_t len; /* 0: empty */
    char text[28];
};

struct dcol {
    struct dcache *e; /* 1 << DC_BITS entries, or NULL */
};

/* n bytes from s to o, in 32-byte steps when both sides have the room
 * (o has n + 32 bytes; s's block ends at end). */
static inline char *copy_text(char *o, const char *s, size_t n, const char *end)
{
    if ((size_t)(end - s) >= n + 32) {
        for (size_t i = 0; i < n; i += 32) memcpy(o + i, s + i, 32);
    } else {
        memcpy(o, s, n);
    }
    return o + n;
}

/* Rows [r0, r1) appended to the job's buffer. Every value but a string
 * takes at most 32 bytes, so one room check per row covers them; a string
 * or a text checks for its own. */
static void wjob_run(struct wjob *j)
{
    const struct wcol *cols = j->cols;
    const size_t nc = j->ncols, fixed = 33 * nc + 2;
    struct hamf__buf *b = j->out;
    struct dcol *dcs = j->dc; /* per column; NULL: none */
    for (size_t k = 0, nd = 0; k < nc && dcs; k++)
        if (cols[k].type == HAMF_DTYPE_DOUBLE && nd++ < DC_COLS && !dcs[k].e)
            dcs[k].e = hamf__calloc((size_t)1 << DC_BITS, sizeof *dcs[k].e);
    if (hamf__buf_reserve(b, fixed)) goto oom_early;
    char *o = b->data + b->len, *lim = b->data + b->cap;
#define ROOM(n)                                                                                               \
    do {                                                                                                      \
        if ((size_t)(lim - o) <= (n)) {                                                                       \
            b->len = (size_t)(o - b->data);                                                                   \
            if (hamf__buf_reserve(b, (n) + (b->len >> 1))) goto oom;                                          \
            o = b->data + b->len;                                                                             \
            lim = b->data + b->cap;                                                                           \
        }                                                                                                     \
    } while (0)
    for (size_t r = j->r0; r < j->r1; r++) {
        ROOM(fixed);
        for (size_t k = 0; k < nc; k++) {
            const struct wcol *c = &cols[k];
            if (k) *o++ = ',';
            if (c->ref) {
                const struct hamf__rawref *rf = &c->ref[r * c->stride];
                size_t a = rf->off, n;
                if (c->span) {
                    rf = &c->last[r * c->stride];
                    n = rf->off + rf->len - a;
                    k += c->span - 1;
                } else {
                    n = rf->len;
                    if (n & HAMF__RAW_TYPED) goto typed;
                }
                ROOM(n + 32 + 33 * (nc - k) + 2);
                o = copy_text(o, c->base + a, n, c->base_end);
                continue;
            }
        typed:
            if (c->valid && !c->valid[r]) continue;
            switch (c->type) {
            case HAMF_DTYPE_INT64: o += hamf__num_fmt_i64(o, ((const int64_t *)c->data)[r]); break;
            case HAMF_DTYPE_DOUBLE: {
                double v = ((const double *)c->data)[r];
                struct dcol *dc = dcs ? &dcs[k] : NULL;
                if (!dc || !dc->e) {
                    o += hamf__num_fmt_f64(o, v);
                    break;
                }
                uint64_t bits;
                memcpy(&bits, &v, sizeof bits);
                struct dcache *e = &dc->e[(bits * 0x9e3779b97f4a7c15ull) >> (64 - DC_BITS)];
                if (e->len && e->bits == bits) {
                    memcpy(o, e->text, sizeof e->text); /* room: 33 bytes per value */
                    o += e->len;
                } else {
                    int n = hamf__num_fmt_f64(o, v);
                    if ((size_t)n <= sizeof e->text) {
                        e->bits = bits;
                        e->len = (uint32_t)n;
                        memcpy(e->text, o, (size_t)n);
                    }
                    o += n;
                }
                break;
            }
            case HAMF_DTYPE_BOOL:
                if (((const uint8_t *)c->data)[r]) memcpy(o, "true", 4), o += 4;
                else memcpy(o, "false", 5), o += 5;
                break;
            case HAMF_DTYPE_STRING: {
                int32_t code = ((const int32_t *)c->data)[r];
                if (code < 0) break;
                size_t n = c->dict->len[code];
                ROOM(2 * n + 2 + 33 * (nc - k) + 2);
                o = put_str_at(o, c->dict->str[code], n);
                break;
            }
            }
        }
        *o++ = '\n';
    }
#undef ROOM
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    goto done;
oom:
    b->len = (size_t)(o - b->data);
oom_early:
    j->st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory while writing");
done:;
}

static void dcol_free(struct dcol *dc, size_t n)
{
    for (size_t k = 0; k < n && dc; k++) hamf__free(dc[k].e);
    hamf__free(dc);
}

static void wjob_task(void *ctx, size_t i, int tid)
{
    (void)tid;
    wjob_run(&((struct wjob *)ctx)[i]);
}

struct hamf__csv_writer {
    int fd;
    char *path, *tmp;
    bool header;
    uint64_t written, synced; /* bytes written; bytes handed to writeback */
    struct hamf__buf out[HAMF__CSV_MAX_THREADS]; /* kept from block to block */
    struct dcol *dc[HAMF__CSV_MAX_THREADS];      /* per thread, ndc columns (or NULL) */
    size_t ndc;
    /* the write of out[0..nout) in progress on thread th */
    pthread_t th;
    bool busy;
    size_t nout;
    int werr; /* errno of that write, 0 if fine */
};

/* p[0..n) to the file; 0 or an errno (no message: may run off the caller's
 * thread). */
static int write_raw(struct hamf__csv_writer *w, const char *p, size_t n)
{
    while (n) {
        ssize_t r = write(w->fd, p, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        p += r;
        n -= (size_t)r;
        w->written += (uint64_t)r;
    }
    return 0;
}

static void start_writeback(struct hamf__csv_writer *w);

static void *write_bufs(void *arg)
{
    struct hamf__csv_writer *w = arg;
    for (size_t i = 0; i < w->nout && !w->werr; i++) w->werr = write_raw(w, w->out[i].data, w->out[i].len);
    if (!w->werr) start_writeback(w);
    return NULL;
}

/* Wait for the write in progress; its error, if any. */
static hamf_status write_wait(struct hamf__csv_writer *w)
{
    if (w->busy) {
        pthread_join(w->th, NULL);
        w->busy = false;
    }
    if (w->werr) return hamf__err(HAMF_ERR_IO, "csv: %s: write: %s", w->path, strerror(w->werr));
    return HAMF_OK;
}

static hamf_status write_all(struct hamf__csv_writer *w, const char *p, size_t n)
{
    hamf_status st = write_wait(w);
    if (st) return st;
    int e = write_raw(w, p, n);
    return e ? hamf__err(HAMF_ERR_IO, "csv: %s: write: %s", w->path, strerror(e)) : HAMF_OK;
}

/* Start writing back what is written so far without waiting for it, so
 * that the one fsync of the commit (needed for an atomic replace) finds
 * most of the file on disk already instead of flushing it all at the end.
 * Only a hint: errors show up at the fsync. */
static void start_writeback(struct hamf__csv_writer *w)
{
#ifdef SYNC_FILE_RANGE_WRITE
    if (w->written - w->synced < ((uint64_t)4 << 20)) return;
    (void)sync_file_range(w->fd, (off_t)w->synced, (off_t)(w->written - w->synced), SYNC_FILE_RANGE_WRITE);
    w->synced = w->written;
#else
    (void)w;
#endif
}

hamf_status hamf__csv_writer_raw(struct hamf__csv_writer *w, const char *p, size_t n)
{
    w->header = true;
    return write_all(w, p, n);
}

hamf_status hamf__csv_writer_open(const char *path, struct hamf__csv_writer **out)
{
    struct hamf__csv_writer *w = hamf__calloc(1, sizeof *w);
    if (!w) return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
    w->fd = -1;
    w->path = hamf__strdup(path);
    w->tmp = hamf__asprintf("%s.tmp.XXXXXX", path);
    if (!w->path || !w->tmp) {
        hamf__csv_writer_abort(w);
        return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
    }
    w->fd = mkstemp(w->tmp);
    if (w->fd < 0) {
        hamf_status st = hamf__err(HAMF_ERR_IO, "csv: %s: cannot create: %s", path, strerror(errno));
        hamf__free(w->tmp);
        w->tmp = NULL;
        hamf__csv_writer_abort(w);
        return st;
    }
    fchmod(w->fd, 0644);
    *out = w;
    return HAMF_OK;
}

hamf_status hamf__csv_writer_put(struct hamf__csv_writer *w, const hamf_frame *f)
{
    hamf_status st = write_wait(w); /* the buffers are free again */
    struct wjob jobs[HAMF__CSV_MAX_THREADS];
    size_t nj = 0;
    if (st) return st;
    if (!w->header) {
        struct hamf__buf h;
        hamf__buf_init(&h, 0);
        for (size_t k = 0; k < f->ncols && !st; k++) {
            if (k) st = hamf__buf_putc(&h, ',');
            if (!st) st = put_str(&h, f->cols[k].name, strlen(f->cols[k].name));
        }
        if (!st) st = hamf__buf_putc(&h, '\n');
        if (st) st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
        else st = write_all(w, h.data, h.len);
        hamf__buf_free(&h);
        if (st) return st;
        w->header = true;
    }
    if (f->nrows == 0 || f->ncols == 0) return HAMF_OK;
    struct wcol *cols = hamf__malloc(f->ncols * sizeof *cols);
    if (!cols) return hamf__err(HAMF_ERR_NOMEM, "csv: out of memory");
    for (size_t k = 0; k < f->ncols; k++) {
        const struct hamf__col *fc = &f->cols[k];
        cols[k] = (struct wcol){fc->type, fc->data, fc->valid, fc->dict, NULL, NULL, NULL, NULL, 0, 0};
        if (fc->raw) {
            cols[k].ref = fc->raw->ref;
            cols[k].stride = fc->raw->stride;
            cols[k].base = fc->raw->base;
            cols[k].base_end = fc->raw->base + fc->raw->size;
        }
    }
    /* spans of whole texts of adjacent input columns, read with ',' */
    for (size_t k = 0; k < f->ncols;) {
        const struct hamf__raw *r = f->cols[k].raw;
        size_t e = k + 1;
        if (r && r->whole && r->delim == ',') {
            for (; e < f->ncols; e++) {
                const struct hamf__raw *q = f->cols[e].raw;
                if (!q || !q->whole || q->base != r->base || q->buf != r->buf || q->src != r->src + (e - k)) break;
            }
            cols[k].span = e - k;
            cols[k].last = f->cols[e - 1].raw->ref;
        }
        k = e;
    }
    if (w->ndc != f->ncols) { /* the caches are per column */
        for (size_t i = 0; i < HAMF__CSV_MAX_THREADS; i++) dcol_free(w->dc[i], w->ndc);
        w->ndc = f->ncols;
        for (size_t i = 0; i < HAMF__CSV_MAX_THREADS; i++) w->dc[i] = hamf__calloc(w->ndc, sizeof *w->dc[i]);
    }
    size_t nt = f->nrows >= 20000 ? (size_t)hamf__csv_cpu_count() : 1;
    if (nt > HAMF__CSV_MAX_THREADS) nt = HAMF__CSV_MAX_THREADS;
    size_t per = (f->nrows + nt - 1) / nt;
    for (size_t i = 0; i < nt; i++) {
        size_t r0 = i * per, r1 = r0 + per > f->nrows ? f->nrows : r0 + per;
        if (r0 >= r1) break;
        memset(&jobs[nj], 0, sizeof jobs[nj]);
        jobs[nj].cols = cols;
        jobs[nj].dc = w->dc[nj];
        jobs[nj].ncols = f->ncols;
        jobs[nj].r0 = r0;
        jobs[nj].r1 = r1;
        jobs[nj].out = &w->out[nj];
        hamf__buf_reset(jobs[nj].out);
        nj++;
    }
    hamf__run_parallel(nj, wjob_task, jobs);
    hamf__free(cols);
    for (size_t i = 0; i < nj; i++)
        if (jobs[i].st) return hamf__err(jobs[i].st, "csv: %s: out of memory while writing", w->path);
    w->nout = nj;
    if (pthread_create(&w->th, NULL, write_bufs, w) == 0) w->busy = true;
    else write_bufs(w); /* no thread: write here */
    return HAMF_OK;
}

hamf_status hamf__csv_writer_commit(struct hamf__csv_writer *w)
{
    hamf_status st = write_wait(w);
    if (!st && fsync(w->fd) != 0) st = hamf__err(HAMF_ERR_IO, "csv: %s: fsync: %s", w->path, strerror(errno));
    if (st) { /* abort closes the file */
        hamf__csv_writer_abort(w);
        return st;
    }
    if (close(w->fd) != 0) st = hamf__err(HAMF_ERR_IO, "csv: %s: close: %s", w->path, strerror(errno));
    w->fd = -1;
    if (!st && rename(w->tmp, w->path) != 0)
        st = hamf__err(HAMF_ERR_IO, "csv: %s: rename: %s", w->path, strerror(errno));
    if (st) {
        hamf__csv_writer_abort(w);
        return st;
    }
    hamf__free(w->tmp);
    w->tmp = NULL;
    hamf__csv_writer_abort(w);
    return HAMF_OK;
}

void hamf__csv_writer_abort(struct hamf__csv_writer *w)
{
    if (!w) return;
    if (w->busy) pthread_join(w->th, NULL);
    for (size_t i = 0; i < HAMF__CSV_MAX_THREADS; i++) {
        hamf__buf_free(&w->out[i]);
        dcol_free(w->dc[i], w->ndc);
    }
    if (w->fd >= 0) close(w->fd);
    if (w->tmp) unlink(w->tmp);
    hamf__free(w->tmp);
    hamf__free(w->path);
    hamf__free(w);
}

hamf_status hamf_csv_write(const hamf_frame *f, const char *path)
{
    if (!f || !path) return hamf__err(HAMF_ERR_MISUSE, "csv: NULL argument");
    struct hamf__csv_writer *w;
    hamf_status st = hamf__csv_writer_open(path, &w);
    if (st) return st;
    if ((st = hamf__csv_writer_put(w, f))) {
        hamf__csv_writer_abort(w);
        return st;
    }
    return hamf__csv_writer_commit(w);
}
