/*
 * csv_write.c — CSV writing from frames: rows are formatted in parallel
 * into per-thread buffers (integers by a digit loop, doubles by the
 * shortest round-trip formatter of util/num.h), written to a temp file in
 * the target directory, fsynced and renamed into place.
 */
#include "data/csv_int.h"
#include "util/num.h"

#include <errno.h>
#include <fcntl.h>
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

struct wjob {
    const hamf_frame *f;
    size_t r0, r1;
    struct hamf__buf out;
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

static inline hamf_status room(struct hamf__buf *b, size_t n)
{
    return b->cap - b->len > n ? HAMF_OK : hamf__buf_reserve(b, n);
}

static hamf_status put_str(struct hamf__buf *b, const char *s, size_t n)
{
    if (room(b, 2 * n + 3)) return HAMF_ERR_NOMEM;
    char *o = b->data + b->len;
    if (!needs_quote(s, n)) {
        memcpy(o, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return HAMF_OK;
    }
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') *o++ = '"';
        *o++ = s[i];
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return HAMF_OK;
}

static void *wjob_run(void *arg)
{
    struct wjob *j = arg;
    const hamf_frame *f = j->f;
    struct hamf__buf *b = &j->out;
    for (size_t r = j->r0; r < j->r1; r++) {
        if (room(b, 64 * f->ncols + 2)) goto oom;
        for (size_t k = 0; k < f->ncols; k++) {
            const struct hamf__col *c = &f->cols[k];
            if (k) b->data[b->len++] = ',';
            if (c->valid && !c->valid[r]) continue;
            int n;
            switch (c->type) {
            case HAMF_DTYPE_INT64:
                n = hamf__num_fmt_i64(b->data + b->len, ((const int64_t *)c->data)[r]);
                b->len += (size_t)n;
                break;
            case HAMF_DTYPE_DOUBLE: {
                n = hamf__num_fmt_f64(b->data + b->len, ((const double *)c->data)[r]);
                b->len += (size_t)n;
                break;
            }
            case HAMF_DTYPE_BOOL:
                if (((const uint8_t *)c->data)[r]) memcpy(b->data + b->len, "true", 4), b->len += 4;
                else memcpy(b->data + b->len, "false", 5), b->len += 5;
                break;
            case HAMF_DTYPE_STRING: {
                int32_t code = ((const int32_t *)c->data)[r];
                if (code < 0) break;
                b->data[b->len] = '\0';
                if (put_str(b, c->dict->str[code], c->dict->len[code])) goto oom;
                if (room(b, 64 * (f->ncols - k) + 2)) goto oom;
                break;
            }
            }
        }
        b->data[b->len++] = '\n';
        b->data[b->len] = '\0';
    }
    return NULL;
oom:
    j->st = hamf__err(HAMF_ERR_NOMEM, "csv: out of memory while writing");
    return NULL;
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
};

static hamf_status write_all(struct hamf__csv_writer *w, const char *p, size_t n)
{
    while (n) {
        ssize_t r = write(w->fd, p, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            return hamf__err(HAMF_ERR_IO, "csv: %s: write: %s", w->path, strerror(errno));
        }
        p += r;
        n -= (size_t)r;
        w->written += (uint64_t)r;
    }
    return HAMF_OK;
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
    hamf_status st = HAMF_OK;
    struct wjob jobs[HAMF__CSV_MAX_THREADS];
    size_t nj = 0;
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
    size_t nt = f->nrows >= 20000 ? (size_t)hamf__csv_cpu_count() : 1;
    size_t per = (f->nrows + nt - 1) / nt;
    for (size_t i = 0; i < nt; i++) {
        size_t r0 = i * per, r1 = r0 + per > f->nrows ? f->nrows : r0 + per;
        if (r0 >= r1) break;
        memset(&jobs[nj], 0, sizeof jobs[nj]);
        jobs[nj].f = f;
        jobs[nj].r0 = r0;
        jobs[nj].r1 = r1;
        hamf__buf_init(&jobs[nj].out, 0);
        nj++;
    }
    hamf__run_parallel(nj, wjob_task, jobs);
    for (size_t i = 0; i < nj; i++) {
        if (!st && jobs[i].st) st = hamf__err(jobs[i].st, "csv: %s: out of memory while writing", w->path);
        if (!st && jobs[i].out.len) st = write_all(w, jobs[i].out.data, jobs[i].out.len);
        hamf__buf_free(&jobs[i].out);
    }
    if (!st) start_writeback(w);
    return st;
}

hamf_status hamf__csv_writer_commit(struct hamf__csv_writer *w)
{
    hamf_status st = HAMF_OK;
    if (fsync(w->fd) != 0) st = hamf__err(HAMF_ERR_IO, "csv: %s: fsync: %s", w->path, strerror(errno));
    if (!st && close(w->fd) != 0) st = hamf__err(HAMF_ERR_IO, "csv: %s: close: %s", w->path, strerror(errno));
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
