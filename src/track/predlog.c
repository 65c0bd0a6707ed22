/*
 * predlog.c — the prediction log of `hamf serve --log-dir` (format in
 * predlog.h and docs/reference.md): a writer thread that appends served
 * rows and fed-back labels to rotated CSV files, and the join that turns a
 * log directory into one labelled CSV for `hamf retrain --from-log`.
 *
 * Why files and not a store table: appending a line costs a write(2) off
 * the request path and no transaction or lock shared with the registry;
 * rotation and the size bound are a rename and an unlink; and retraining
 * reads CSV anyway (the model's pipeline starts from raw columns).
 *
 * Crash safety: lines only ever get appended to an active file, in whole
 * records per write(2); a kill -9 loses what was still queued and at most
 * leaves a torn last record, which readers skip and the next start cuts
 * off before anything else is appended. A file gets its final name only
 * after an fsync, so a finished file is always complete.
 */
#include "track/predlog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PREDLOG_DEFAULT_BYTES ((size_t)64 << 20)
#define PREDLOG_DEFAULT_FILES 10
#define PREDLOG_READ_MAX ((size_t)1 << 31)
#define WRITE_CHUNK ((size_t)1 << 20)
/* After waking for new entries the writer lets more gather this long, so
 * under load it makes a few write(2) calls a second, not one per request
 * (and requests do not wake it each time). A kill -9 loses at most this
 * much plus what was queued. */
#define GATHER_NS 10000000L

static const char *const PRED_META = "hamf_request_id,hamf_row,hamf_time,hamf_model,hamf_model_version,hamf_score";
static const char *const FB_HEADER = "hamf_request_id,hamf_row,hamf_time,hamf_label";
#define PRED_NMETA 6

/* ---- CSV records (RFC 4180 quoting; records may span lines) ---- */

/* The record starting at p[start]: *body_end is where its text ends (before
 * the \r\n or \n), the return value where the next record starts. *complete
 * is false when the text ends inside the record (no terminator, or inside
 * quotes): a torn tail. */
static size_t record_scan(const char *p, size_t len, size_t start, size_t *body_end, bool *complete)
{
    bool q = false;
    for (size_t i = start; i < len; i++) {
        char c = p[i];
        if (c == '"') q = !q;
        else if (c == '\n' && !q) {
            *body_end = i > start && p[i - 1] == '\r' ? i - 1 : i;
            *complete = true;
            return i + 1;
        }
    }
    *body_end = len;
    *complete = false;
    return len;
}

struct span {
    const char *p;
    size_t n;
};

/* Split one record's text into raw fields (quotes kept); returns the count
 * (may exceed cap: only the first cap are stored). */
static size_t split_fields(const char *p, size_t n, struct span *out, size_t cap)
{
    size_t k = 0, s = 0;
    bool q = false;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] == '"') q = !q;
        if (i == n || (p[i] == ',' && !q)) {
            if (k < cap) out[k] = (struct span){p + s, i - s};
            k++;
            s = i + 1;
        }
    }
    return k;
}

/* A raw field's value: quotes removed, "" -> " (into a fresh string). */
static char *unquote(struct span f)
{
    if (f.n < 2 || f.p[0] != '"') return hamf__strndup(f.p, f.n);
    char *o = hamf__malloc(f.n);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 1; i + 1 < f.n; i++) {
        o[k++] = f.p[i];
        if (f.p[i] == '"' && i + 2 < f.n && f.p[i + 1] == '"') i++;
    }
    o[k] = '\0';
    return o;
}

static bool span_i64(struct span f, int64_t *v)
{
    return f.n > 0 && hamf__parse_i64(f.p, f.n, v);
}

static hamf_status put_field(struct hamf__buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) return hamf__buf_puts(b, s);
    hamf_status st = hamf__buf_putc(b, '"');
    for (; *s && !st; s++) {
        if (*s == '"') st = hamf__buf_putc(b, '"');
        if (!st) st = hamf__buf_putc(b, *s);
    }
    return st ? st : hamf__buf_putc(b, '"');
}

/* UTC time as 2026-12-06T23:45:01.123Z (iso) or 20261206T234501123Z (file names). */
static void stamp(int64_t ms, char *out, size_t cap, bool iso)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (tm.tm_year < 0 || tm.tm_year > 8099) tm.tm_year = 0; /* 4 digits */
    if (iso)
        snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    else
        snprintf(out, cap, "%04d%02d%02dT%02d%02d%02d%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* ---- the writer ---- */

enum { SER_PRED = 0, SER_FB = 1 };
static const char *const SER_PREFIX[2] = {"predictions", "feedback"};

struct entry {
    struct entry *next;
    bool labels;
    uint64_t id;
    int64_t ms;
    size_t n, bytes;
    char *csv; /* rows: the request text [owned] */
    size_t csv_len;
    char model[128], version[64];
    double *scores;   /* rows: n scores (in this block) */
    uint8_t *label;   /* labels: n labels (in this block) */
};

struct series {
    int fd;              /* -1: no active file */
    size_t size;         /* bytes in the active file, pending included */
    size_t data_lines;
    int64_t start_ms;    /* when the active file was started */
    char *header;        /* predictions: the request columns' header (canon_header) */
    char *raw;           /* the last request header text seen, and its length: */
    size_t raw_len;      /* the same text needs no canon_header */
    struct hamf__buf pending;
};

struct hamf__predlog {
    char *dir;
    int lock_fd; /* DIR/.hamf-serve.lock, flock'ed: one writer per directory */
    size_t max_bytes, max_queue;
    int max_files;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv, idle_cv;
    struct entry *head, *tail;
    size_t queued_bytes;
    uint64_t enq, done; /* entries queued / handled, for flush */
    bool stop;
    bool waiting; /* the writer sleeps on cv: enqueue must signal */
    struct hamf__predlog_stats stats; /* under mu */
    struct series ser[2];             /* writer thread only */
    unsigned seq;
    char path[4096], path2[4096];     /* writer thread only */
};

static void count(struct hamf__predlog *l, uint64_t rows, uint64_t labels, uint64_t dropped, uint64_t errors,
                  uint64_t files)
{
    pthread_mutex_lock(&l->mu);
    l->stats.rows += rows;
    l->stats.labels += labels;
    l->stats.dropped += dropped;
    l->stats.errors += errors;
    l->stats.files += files;
    pthread_mutex_unlock(&l->mu);
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Finished files of a series in dir, sorted oldest first [owned: each and the array]. */
static hamf_status list_series(const char *dir, const char *prefix, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return hamf__err(errno == ENOENT ? HAMF_ERR_NOTFOUND : HAMF_ERR_IO, "prediction log: cannot open %s: %s",
                             dir, strerror(errno));
    size_t cap = 0, k = 0, pl = strlen(prefix);
    char **v = NULL;
    hamf_status st = HAMF_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < pl + 5 || strncmp(e->d_name, prefix, pl) || e->d_name[pl] != '-' ||
            strcmp(e->d_name + len - 4, ".csv"))
            continue;
        if (k == cap) {
            cap = cap ? 2 * cap : 16;
            char **nv = hamf__realloc(v, cap * sizeof *v);
            if (!nv) { st = hamf__err(HAMF_ERR_NOMEM, "prediction log: out of memory"); break; }
            v = nv;
        }
        if (!(v[k] = hamf__strdup(e->d_name))) { st = hamf__err(HAMF_ERR_NOMEM, "prediction log: out of memory"); break; }
        k++;
    }
    closedir(d);
    if (st) {
        for (size_t i = 0; i < k; i++) hamf__free(v[i]);
        hamf__free(v);
        return st;
    }
    if (k) qsort(v, k, sizeof *v, cmp_str);
    *out = v;
    *n = k;
    return HAMF_OK;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) hamf__free(v[i]);
    hamf__free(v);
}

/* Delete the oldest finished files of a series past max_files. */
static void prune(struct hamf__predlog *l, int s)
{
    char **v = NULL;
    size_t n = 0;
    if (list_series(l->dir, SER_PREFIX[s], &v, &n)) return;
    for (size_t i = 0; i + (size_t)l->max_files < n; i++) {
        snprintf(l->path, sizeof l->path, "%s/%s", l->dir, v[i]);
        if (unlink(l->path) != 0) fprintf(stderr, "hamf serve: prediction log: cannot delete %s: %s\n", l->path, strerror(errno));
    }
    free_list(v, n);
}

/* Rename a finished file to <prefix>-<stamp>-<seq>.csv (a free name). */
static bool rename_finished(struct hamf__predlog *l, int s, const char *from, int64_t start_ms)
{
    char st[64];
    stamp(start_ms, st, sizeof st, false);
    for (int tries = 0; tries < 1000; tries++) {
        snprintf(l->path2, sizeof l->path2, "%s/%s-%s-%06u.csv", l->dir, SER_PREFIX[s], st, ++l->seq);
        if (access(l->path2, F_OK) != 0) break;
    }
    if (rename(from, l->path2) != 0) {
        fprintf(stderr, "hamf serve: prediction log: cannot rename %s: %s\n", from, strerror(errno));
        return false;
    }
    fsync_dir(l->dir);
    return true;
}

static bool series_write_pending(struct hamf__predlog *l, struct series *se)
{
    if (!se->pending.len || se->fd < 0) return true;
    bool ok = write_all(se->fd, se->pending.data, se->pending.len);
    hamf__buf_reset(&se->pending);
    if (!ok) {
        fprintf(stderr, "hamf serve: prediction log: write failed in %s: %s\n", l->dir, strerror(errno));
        count(l, 0, 0, 0, 1, 0);
    }
    return ok;
}

/* Write what is pending, fsync, close and rename the active file. */
static void series_finish(struct hamf__predlog *l, int s)
{
    struct series *se = &l->ser[s];
    if (se->fd < 0) return;
    series_write_pending(l, se);
    bool ok = fsync(se->fd) == 0;
    close(se->fd);
    se->fd = -1;
    snprintf(l->path, sizeof l->path, "%s/%s.active.csv", l->dir, SER_PREFIX[s]);
    if (se->data_lines == 0) {
        (void)unlink(l->path);
        return;
    }
    if (!ok || !rename_finished(l, s, l->path, se->start_ms)) {
        count(l, 0, 0, 0, 1, 0);
        return;
    }
    count(l, 0, 0, 0, 0, 1);
    prune(l, s);
}

/* Start a new active file with the series' header line. */
static bool series_start(struct hamf__predlog *l, int s, int64_t ms)
{
    struct series *se = &l->ser[s];
    snprintf(l->path, sizeof l->path, "%s/%s.active.csv", l->dir, SER_PREFIX[s]);
    se->fd = open(l->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (se->fd < 0) {
        fprintf(stderr, "hamf serve: prediction log: cannot create %s: %s\n", l->path, strerror(errno));
        count(l, 0, 0, 0, 1, 0);
        return false;
    }
    se->start_ms = ms;
    se->data_lines = 0;
    hamf__buf_reset(&se->pending);
    hamf_status st = s == SER_PRED ? hamf__buf_printf(&se->pending, "%s,%s\n", PRED_META, se->header)
                                   : hamf__buf_printf(&se->pending, "%s\n", FB_HEADER);
    se->size = se->pending.len;
    return st == HAMF_OK;
}

/* Make room for a line of `len` bytes: rotate past max_bytes. */
static bool series_room(struct hamf__predlog *l, int s, size_t len, int64_t ms)
{
    struct series *se = &l->ser[s];
    if (se->fd >= 0 && se->data_lines > 0 && se->size + len > l->max_bytes) series_finish(l, s);
    if (se->fd < 0 && !series_start(l, s, ms)) return false;
    if (se->pending.len >= WRITE_CHUNK) return series_write_pending(l, se);
    return true;
}

static void write_labels(struct hamf__predlog *l, const struct entry *e)
{
    struct series *se = &l->ser[SER_FB];
    char ts[64];
    stamp(e->ms, ts, sizeof ts, true);
    uint64_t ok = 0;
    for (size_t i = 0; i < e->n; i++) {
        char line[128];
        int len = snprintf(line, sizeof line, "%llu,%zu,%s,%d\n", (unsigned long long)e->id, i, ts, e->label[i]);
        if (!series_room(l, SER_FB, (size_t)len, e->ms) || hamf__buf_append(&se->pending, line, (size_t)len)) break;
        se->size += (size_t)len;
        se->data_lines++;
        ok++;
    }
    count(l, 0, ok, e->n - ok, 0, 0);
}

/* A header record in one spelling (quotes only where CSV needs them), so
 * the same columns sent as JSON (quoted names) and as CSV share a file. */
static char *canon_header(const char *p, size_t n)
{
    size_t k = split_fields(p, n, NULL, 0);
    struct span *f = hamf__calloc(k + 1, sizeof *f);
    if (!f) return NULL;
    split_fields(p, n, f, k);
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_status st = HAMF_OK;
    for (size_t i = 0; i < k && !st; i++) {
        char *name = unquote(f[i]);
        if (!name) st = HAMF_ERR_NOMEM;
        if (!st && i) st = hamf__buf_putc(&b, ',');
        if (!st) st = put_field(&b, name);
        hamf__free(name);
    }
    hamf__free(f);
    char *out = st ? NULL : hamf__buf_detach(&b, NULL);
    hamf__buf_free(&b);
    return out;
}

static void write_rows(struct hamf__predlog *l, const struct entry *e)
{
    struct series *se = &l->ser[SER_PRED];
    const char *p = e->csv;
    size_t len = e->csv_len, pos = 0, body = 0;
    bool complete = false;
    /* the header (after any blank lines), then exactly n non-blank records */
    size_t hs = 0, he = 0;
    while (pos < len) {
        hs = pos;
        pos = record_scan(p, len, pos, &he, &complete);
        if (he > hs) break;
    }
    size_t first = pos, nrec = 0;
    for (size_t q = pos; q < len;) {
        size_t s0 = q;
        q = record_scan(p, len, q, &body, &complete);
        if (body > s0) nrec++;
    }
    if (he <= hs || nrec != e->n) {
        fprintf(stderr, "hamf serve: prediction log: request %llu: %zu records in its text for %zu scored rows; not logged\n",
                (unsigned long long)e->id, nrec, e->n);
        count(l, 0, 0, e->n, 1, 0);
        return;
    }
    /* the same header text as the last request: the file's header already */
    if (!se->header || !se->raw || se->raw_len != he - hs || memcmp(se->raw, p + hs, he - hs)) {
        char *hdr = canon_header(p + hs, he - hs);
        hamf__free(se->raw);
        se->raw = hamf__strndup(p + hs, he - hs);
        se->raw_len = he - hs;
        if (!hdr || !se->raw) {
            hamf__free(hdr);
            count(l, 0, 0, e->n, 1, 0);
            return;
        }
        if (!se->header || strcmp(se->header, hdr)) {
            series_finish(l, SER_PRED); /* other columns: a new file */
            hamf__free(se->header);
            se->header = hdr;
        } else {
            hamf__free(hdr);
        }
    }
    char ts[64], meta[512];
    stamp(e->ms, ts, sizeof ts, true);
    struct hamf__buf mb;
    hamf__buf_init(&mb, 0);
    (void)put_field(&mb, e->model);
    (void)hamf__buf_putc(&mb, ',');
    (void)put_field(&mb, e->version);
    snprintf(meta, sizeof meta, "%s", mb.data ? mb.data : ",");
    hamf__buf_free(&mb);
    char mid[640];
    size_t midlen = (size_t)snprintf(mid, sizeof mid, ",%s,%s,", ts, meta);
    if (midlen >= sizeof mid) midlen = sizeof mid - 1;
    uint64_t ok = 0;
    size_t i = 0;
    for (pos = first; pos < len && i < e->n;) {
        size_t s0 = pos;
        pos = record_scan(p, len, pos, &body, &complete);
        if (body == s0) continue; /* blank line: the reader skips it too */
        /* id and row as integers; the score with 17 significant digits,
         * which read back exactly, in one snprintf (the shortest form
         * costs up to 17 snprintf + strtod rounds) */
        char pre[768];
        int pl = hamf__fmt_i64(pre, (int64_t)e->id);
        pre[pl++] = ',';
        pl += hamf__fmt_i64(pre + pl, (int64_t)i);
        memcpy(pre + pl, mid, midlen); /* ,time,model,version, */
        pl += (int)midlen;
        pl += snprintf(pre + pl, sizeof pre - (size_t)pl, "%.17g,", e->scores[i]);
        size_t line = (size_t)pl + (body - s0) + 1;
        i++;
        if (!series_room(l, SER_PRED, line, e->ms)) break;
        if (hamf__buf_append(&se->pending, pre, (size_t)pl) || hamf__buf_append(&se->pending, p + s0, body - s0) ||
            hamf__buf_putc(&se->pending, '\n'))
            break;
        se->size += line;
        se->data_lines++;
        ok++;
    }
    count(l, ok, 0, e->n - ok, 0, 0);
}

static void *writer_main(void *arg)
{
    struct hamf__predlog *l = arg;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        while (!l->head && !l->stop) {
            l->waiting = true;
            pthread_cond_wait(&l->cv, &l->mu);
            l->waiting = false;
        }
        if (!l->stop && l->queued_bytes < WRITE_CHUNK) {
            pthread_mutex_unlock(&l->mu);
            struct timespec d = {0, GATHER_NS};
            nanosleep(&d, NULL);
            pthread_mutex_lock(&l->mu);
        }
        struct entry *batch = l->head;
        bool stop = l->stop && !batch;
        l->head = l->tail = NULL;
        size_t nb = 0;
        for (struct entry *e = batch; e; e = e->next) nb += e->bytes;
        l->queued_bytes -= nb;
        pthread_mutex_unlock(&l->mu);
        if (stop) break;
        uint64_t handled = 0;
        while (batch) {
            struct entry *e = batch;
            batch = e->next;
            if (e->labels) write_labels(l, e);
            else write_rows(l, e);
            hamf__free(e->csv);
            hamf__free(e);
            handled++;
        }
        for (int s = 0; s < 2; s++) series_write_pending(l, &l->ser[s]);
        pthread_mutex_lock(&l->mu);
        l->done += handled;
        pthread_cond_broadcast(&l->idle_cv);
        pthread_mutex_unlock(&l->mu);
    }
    for (int s = 0; s < 2; s++) series_finish(l, s);
    return NULL;
}

static void enqueue(struct hamf__predlog *l, struct entry *e, uint64_t n)
{
    pthread_mutex_lock(&l->mu);
    if (l->stop || l->queued_bytes + e->bytes > l->max_queue) {
        l->stats.dropped += n;
        pthread_mutex_unlock(&l->mu);
        hamf__free(e->csv);
        hamf__free(e);
        return;
    }
    e->next = NULL;
    if (l->tail) l->tail->next = e;
    else l->head = e;
    l->tail = e;
    l->queued_bytes += e->bytes;
    l->enq++;
    if (l->waiting) pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void hamf__predlog_rows(struct hamf__predlog *l, uint64_t request_id, const char *model, const char *version,
                        char *csv, size_t csv_len, const double *scores, size_t n)
{
    if (!l || !n) {
        hamf__free(csv);
        return;
    }
    struct entry *e = hamf__malloc(sizeof *e + n * sizeof(double));
    if (!e) {
        hamf__free(csv);
        count(l, 0, 0, n, 0, 0);
        return;
    }
    memset(e, 0, sizeof *e);
    e->id = request_id;
    e->ms = hamf__now_ms();
    e->n = n;
    e->csv = csv;
    e->csv_len = csv_len;
    e->scores = (double *)(e + 1);
    memcpy(e->scores, scores, n * sizeof(double));
    snprintf(e->model, sizeof e->model, "%s", model);
    snprintf(e->version, sizeof e->version, "%s", version);
    e->bytes = sizeof *e + n * sizeof(double) + csv_len;
    enqueue(l, e, n);
}

void hamf__predlog_labels(struct hamf__predlog *l, uint64_t request_id, const uint8_t *labels, size_t n)
{
    if (!l || !n) return;
    struct entry *e = hamf__malloc(sizeof *e + n);
    if (!e) {
        count(l, 0, 0, n, 0, 0);
        return;
    }
    memset(e, 0, sizeof *e);
    e->labels = true;
    e->id = request_id;
    e->ms = hamf__now_ms();
    e->n = n;
    e->label = (uint8_t *)(e + 1);
    memcpy(e->label, labels, n);
    e->bytes = sizeof *e + n;
    enqueue(l, e, n);
}

void hamf__predlog_get_stats(struct hamf__predlog *l, struct hamf__predlog_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    *out = l->stats;
    pthread_mutex_unlock(&l->mu);
}

void hamf__predlog_flush(struct hamf__predlog *l)
{
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    uint64_t want = l->enq;
    while (l->done < want) pthread_cond_wait(&l->idle_cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
}

/* An active file a crash left: cut at its last complete record, then give
 * it a finished name (or delete it when it holds no data line). */
static hamf_status recover(struct hamf__predlog *l, int s)
{
    snprintf(l->path, sizeof l->path, "%s/%s.active.csv", l->dir, SER_PREFIX[s]);
    struct stat sb;
    if (stat(l->path, &sb) != 0) return HAMF_OK;
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_status st = hamf__file_read(l->path, PREDLOG_READ_MAX, &b);
    if (st) return hamf__err_prefix(st, "prediction log: recovering %s", l->path);
    size_t pos = 0, keep = 0, recs = 0, body;
    bool complete = true;
    while (pos < b.len) {
        size_t s0 = pos;
        pos = record_scan(b.data, b.len, pos, &body, &complete);
        if (!complete) break;
        keep = pos;
        if (body > s0) recs++;
    }
    hamf__buf_free(&b);
    if (recs < 2) {
        (void)unlink(l->path);
        return HAMF_OK;
    }
    if ((size_t)sb.st_size != keep) {
        if (truncate(l->path, (off_t)keep) != 0)
            return hamf__err(HAMF_ERR_IO, "prediction log: cannot cut the torn tail of %s: %s", l->path, strerror(errno));
        fprintf(stderr, "hamf serve: prediction log: %s: cut a torn last record (%lld bytes)\n", l->path,
                (long long)sb.st_size - (long long)keep);
    }
    int fd = open(l->path, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    char from[4096];
    snprintf(from, sizeof from, "%s", l->path);
    if (!rename_finished(l, s, from, (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000))
        return hamf__err(HAMF_ERR_IO, "prediction log: cannot rename %s", from);
    prune(l, s);
    return HAMF_OK;
}

hamf_status hamf__predlog_open(const struct hamf__predlog_opts *o, struct hamf__predlog **out)
{
    if (!o || !o->dir || !*o->dir || !out) return hamf__err(HAMF_ERR_MISUSE, "prediction log: no directory");
    hamf_status st = hamf__file_mkdirs(o->dir);
    if (st) return hamf__err_prefix(st, "prediction log: --log-dir %s", o->dir);
    struct hamf__predlog *l = hamf__calloc(1, sizeof *l);
    if (!l || !(l->dir = hamf__strdup(o->dir))) {
        hamf__free(l);
        return hamf__err(HAMF_ERR_NOMEM, "prediction log: out of memory");
    }
    l->max_bytes = o->max_bytes ? o->max_bytes : PREDLOG_DEFAULT_BYTES;
    l->max_files = o->max_files > 0 ? o->max_files : PREDLOG_DEFAULT_FILES;
    l->max_queue = o->max_queue_bytes ? o->max_queue_bytes : PREDLOG_DEFAULT_BYTES;
    for (int s = 0; s < 2; s++) {
        l->ser[s].fd = -1;
        hamf__buf_init(&l->ser[s].pending, 0);
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    pthread_cond_init(&l->idle_cv, NULL);
    /* one server per directory: a second one would take the first one's
     * active files for a crash's leftovers */
    snprintf(l->path, sizeof l->path, "%s/.hamf-serve.lock", l->dir);
    l->lock_fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (l->lock_fd < 0)
        st = hamf__err(HAMF_ERR_IO, "prediction log: cannot create %s: %s", l->path, strerror(errno));
    else if (flock(l->lock_fd, LOCK_EX | LOCK_NB) != 0)
        st = hamf__err(HAMF_ERR_BUSY, "prediction log: another hamf serve writes to %s (each replica needs its own --log-dir)",
                       l->dir);
    for (int s = 0; s < 2 && !st; s++) st = recover(l, s);
    /* can we create files there? (fail at start, not on the first request) */
    if (!st) {
        snprintf(l->path, sizeof l->path, "%s/.hamf-write-test-%d", l->dir, (int)getpid());
        int fd = open(l->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) st = hamf__err(HAMF_ERR_IO, "prediction log: cannot create files in %s: %s", l->dir, strerror(errno));
        else {
            close(fd);
            unlink(l->path);
        }
    }
    if (!st && pthread_create(&l->thread, NULL, writer_main, l))
        st = hamf__err(HAMF_ERR_IO, "prediction log: cannot start the writer thread");
    if (st) {
        if (l->lock_fd >= 0) close(l->lock_fd);
        for (int s = 0; s < 2; s++) hamf__buf_free(&l->ser[s].pending);
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        pthread_cond_destroy(&l->idle_cv);
        hamf__free(l->dir);
        hamf__free(l);
        return st;
    }
    *out = l;
    return HAMF_OK;
}

void hamf__predlog_close(struct hamf__predlog *l)
{
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_signal(&l->cv); /* (a writer in its gather sleep sees stop next) */
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    close(l->lock_fd);
    for (int s = 0; s < 2; s++) {
        hamf__buf_free(&l->ser[s].pending);
        hamf__free(l->ser[s].header);
        hamf__free(l->ser[s].raw);
    }
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    pthread_cond_destroy(&l->idle_cv);
    hamf__free(l->dir);
    hamf__free(l);
}

bool hamf__predlog_is_dir(const char *dir)
{
    char **v = NULL;
    size_t n = 0;
    if (list_series(dir, SER_PREFIX[SER_PRED], &v, &n)) return false;
    free_list(v, n);
    if (n) return true;
    char act[4096];
    struct stat sb;
    snprintf(act, sizeof act, "%s/%s.active.csv", dir, SER_PREFIX[SER_PRED]);
    return stat(act, &sb) == 0;
}

/* ---- the join ---- */

/* (request id, row) -> label: open addressing, grown at half load. */
struct lab_slot {
    uint64_t id; /* 0 = empty (request ids start past 0) */
    uint64_t row;
    uint8_t label;
};
struct lab_map {
    struct lab_slot *t;
    size_t cap, n;
};

static size_t lab_hash(uint64_t id, uint64_t row, size_t cap)
{
    uint64_t h = id * 0x9E3779B97F4A7C15ull ^ (row + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 29;
    return (size_t)h & (cap - 1);
}

static hamf_status lab_put(struct lab_map *m, uint64_t id, uint64_t row, uint8_t label)
{
    if (2 * (m->n + 1) > m->cap) {
        size_t nc = m->cap ? 2 * m->cap : 1024;
        struct lab_slot *nt = hamf__calloc(nc, sizeof *nt);
        if (!nt) return hamf__err(HAMF_ERR_NOMEM, "prediction log: out of memory");
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->t[i].id) continue;
            size_t k = lab_hash(m->t[i].id, m->t[i].row, nc);
            while (nt[k].id) k = (k + 1) & (nc - 1);
            nt[k] = m->t[i];
        }
        hamf__free(m->t);
        m->t = nt;
        m->cap = nc;
    }
    size_t k = lab_hash(id, row, m->cap);
    while (m->t[k].id && !(m->t[k].id == id && m->t[k].row == row)) k = (k + 1) & (m->cap - 1);
    if (!m->t[k].id) m->n++;
    m->t[k] = (struct lab_slot){id, row, label}; /* a later label wins */
    return HAMF_OK;
}

static int lab_get(const struct lab_map *m, uint64_t id, uint64_t row)
{
    if (!m->cap) return -1;
    size_t k = lab_hash(id, row, m->cap);
    while (m->t[k].id) {
        if (m->t[k].id == id && m->t[k].row == row) return m->t[k].label;
        k = (k + 1) & (m->cap - 1);
    }
    return -1;
}

/* Finished files then the active one, as full paths [owned]. */
static hamf_status series_files(const char *dir, int s, char ***out, size_t *n)
{
    char **v = NULL;
    size_t k = 0;
    hamf_status st = list_series(dir, SER_PREFIX[s], &v, &k);
    if (st) return st;
    char **full = hamf__calloc(k + 2, sizeof *full);
    if (!full) {
        free_list(v, k);
        return hamf__err(HAMF_ERR_NOMEM, "prediction log: out of memory");
    }
    size_t m = 0;
    for (size_t i = 0; i < k && !st; i++)
        if (!(full[m++] = hamf__asprintf("%s/%s", dir, v[i]))) st = hamf__err(HAMF_ERR_NOMEM, "prediction log: out of memory");
    free_list(v, k);
    char *act = st ? NULL : hamf__asprintf("%s/%s.active.csv", dir, SER_PREFIX[s]);
    struct stat sb;
    if (act && stat(act, &sb) == 0) full[m++] = act;
    else hamf__free(act);
    if (st) {
        free_list(full, m);
        return st;
    }
    *out = full;
    *n = m;
    return HAMF_OK;
}

/* Hard links to every file of the join in snap/, so a rotation (the
 * active file renamed) or a prune by a running server between the join's
 * two passes changes nothing it reads: paths[i] becomes the link, or NULL
 * when the file vanished before it could be linked. */
static hamf_status snapshot(const char *snap, char **paths, size_t n, size_t *seq)
{
    for (size_t i = 0; i < n; i++) {
        const char *base = strrchr(paths[i], '/');
        char *lnk = hamf__asprintf("%s/%06zu-%s", snap, (*seq)++, base ? base + 1 : paths[i]);
        if (!lnk) return hamf__err(HAMF_ERR_NOMEM, "prediction log: out of memory");
        if (link(paths[i], lnk) == 0) {
            hamf__free(paths[i]);
            paths[i] = lnk;
        } else {
            int e = errno;
            hamf__free(lnk);
            if (e == ENOENT) {
                hamf__free(paths[i]);
                paths[i] = NULL;
            } /* else (no hard links there): read in place */
        }
    }
    return HAMF_OK;
}

/* Leave a file out of the join (its snapshot link removed). */
static void drop_file(const char *snap, char **path)
{
    size_t sl = strlen(snap);
    if (!strncmp(*path, snap, sl) && (*path)[sl] == '/') (void)unlink(*path);
    hamf__free(*path);
    *path = NULL;
}

static void snapshot_remove(const char *snap, char **paths, size_t n)
{
    size_t sl = strlen(snap);
    for (size_t i = 0; i < n; i++)
        if (paths[i] && !strncmp(paths[i], snap, sl) && paths[i][sl] == '/') (void)unlink(paths[i]);
}

/* Read a log file; *hdr gets its header fields (up to cap). Returns the
 * offset of the first data record in *first. */
static hamf_status read_log(const char *path, struct hamf__buf *b, size_t *first, struct span *hdr, size_t cap,
                            size_t *nh)
{
    hamf__buf_reset(b);
    hamf_status st = hamf__file_read(path, PREDLOG_READ_MAX, b);
    if (st) return st;
    size_t he = 0;
    bool complete = false;
    *first = record_scan(b->data ? b->data : "", b->len, 0, &he, &complete);
    *nh = complete ? split_fields(b->data, he, hdr, cap) : 0;
    return HAMF_OK;
}

#define MAX_COLS 4096

hamf_status hamf__predlog_join(const char *dir, const char *label_col, const char *out_path, size_t *rows,
                               size_t *served)
{
    char **pf = NULL, **ff = NULL;
    size_t npf = 0, nff = 0, nrows = 0, nserved = 0, nunion = 0;
    struct lab_map labs = {0};
    struct hamf__buf b, o;
    hamf__buf_init(&b, 0);
    hamf__buf_init(&o, 0);
    struct span *hdr = hamf__calloc(MAX_COLS, sizeof *hdr), *fld = hamf__calloc(MAX_COLS, sizeof *fld);
    char **uni = hamf__calloc(MAX_COLS, sizeof *uni), **uni_raw = hamf__calloc(MAX_COLS, sizeof *uni_raw);
    size_t *map = hamf__calloc(MAX_COLS, sizeof *map);
    struct span *row = hamf__calloc(MAX_COLS, sizeof *row);
    char *tmp = NULL, *snap = NULL;
    FILE *fo = NULL;
    hamf_status st = HAMF_OK;
    if (!hdr || !fld || !uni || !uni_raw || !map || !row) {
        st = hamf__err(HAMF_ERR_NOMEM, "prediction log: out of memory");
        goto cleanup;
    }
    if ((st = series_files(dir, SER_PRED, &pf, &npf))) goto cleanup;
    if (npf == 0) {
        st = hamf__err(HAMF_ERR_NOTFOUND, "prediction log: %s holds no predictions-*.csv (is it a `hamf serve --log-dir`?)",
                       dir);
        goto cleanup;
    }
    if ((st = series_files(dir, SER_FB, &ff, &nff))) goto cleanup;
    if (!(snap = hamf__asprintf("%s/joined/.snapshot-%d", dir, (int)getpid()))) {
        st = hamf__err(HAMF_ERR_NOMEM, "prediction log: out of memory");
        goto cleanup;
    }
    size_t seq = 0;
    if ((st = hamf__file_mkdirs(snap)) || (st = snapshot(snap, pf, npf, &seq)) || (st = snapshot(snap, ff, nff, &seq)))
        goto cleanup;
    /* the labels */
    for (size_t f = 0; f < nff && !st; f++) {
        size_t pos, nh, body;
        if (!ff[f]) continue;
        if ((st = read_log(ff[f], &b, &pos, hdr, MAX_COLS, &nh))) break;
        if (nh == 0) continue; /* an active file whose header is not written yet */
        if (nh < 4 || hdr[0].n != 15 || memcmp(hdr[0].p, "hamf_request_id", 15) || hdr[3].n != 10 ||
            memcmp(hdr[3].p, "hamf_label", 10)) {
            st = hamf__err(HAMF_ERR_PARSE, "prediction log: %s:1: not a feedback log header (%s)", ff[f], FB_HEADER);
            break;
        }
        size_t line = 1;
        bool complete;
        while (pos < b.len && !st) {
            size_t s0 = pos;
            pos = record_scan(b.data, b.len, pos, &body, &complete);
            line++;
            if (!complete) break; /* a torn tail */
            if (body == s0) continue;
            int64_t id, r, y;
            if (split_fields(b.data + s0, body - s0, fld, 4) != 4 || !span_i64(fld[0], &id) || id <= 0 ||
                !span_i64(fld[1], &r) || r < 0 || !span_i64(fld[3], &y) || (y != 0 && y != 1)) {
                st = hamf__err(HAMF_ERR_PARSE, "prediction log: %s:%zu: malformed feedback line", ff[f], line);
                break;
            }
            st = lab_put(&labs, (uint64_t)id, (uint64_t)r, (uint8_t)y);
        }
    }
    if (st) goto cleanup;
    /* pass 1: the union of the request columns */
    for (size_t f = 0; f < npf && !st; f++) {
        size_t pos, nh;
        if (!pf[f]) continue;
        if ((st = read_log(pf[f], &b, &pos, hdr, MAX_COLS, &nh))) break;
        if (nh == 0) { /* an active file whose header is not written yet: not in pass 2 either */
            drop_file(snap, &pf[f]);
            continue;
        }
        if (nh < PRED_NMETA || nh > MAX_COLS || hdr[0].n != 15 || memcmp(hdr[0].p, "hamf_request_id", 15) ||
            hdr[5].n != 10 || memcmp(hdr[5].p, "hamf_score", 10)) {
            st = hamf__err(HAMF_ERR_PARSE, "prediction log: %s:1: not a prediction log header (%s,...)", pf[f], PRED_META);
            break;
        }
        for (size_t j = PRED_NMETA; j < nh && !st; j++) {
            char *name = unquote(hdr[j]);
            if (!name) { st = hamf__err(HAMF_ERR_NOMEM, "prediction log: out of memory"); break; }
            size_t k = 0;
            while (k < nunion && strcmp(uni[k], name)) k++;
            if (k < nunion || !strcmp(name, label_col)) {
                hamf__free(name);
                continue;
            }
            if (nunion == MAX_COLS - 1) {
                hamf__free(name);
                st = hamf__err(HAMF_ERR_CONSTRAINT, "prediction log: more than %d columns", MAX_COLS - 1);
                break;
            }
            uni[nunion] = name;
            uni_raw[nunion++] = hamf__strndup(hdr[j].p, hdr[j].n);
        }
    }
    if (st) goto cleanup;
    if (!(tmp = hamf__asprintf("%s.tmp-%d", out_path, (int)getpid()))) {
        st = hamf__err(HAMF_ERR_NOMEM, "prediction log: out of memory");
        goto cleanup;
    }
    if ((st = hamf__file_mkdirs_parent(out_path))) goto cleanup;
    if (!(fo = fopen(tmp, "w"))) {
        st = hamf__err(HAMF_ERR_IO, "prediction log: cannot create %s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    for (size_t k = 0; k < nunion; k++) {
        if (!uni_raw[k]) { st = hamf__err(HAMF_ERR_NOMEM, "prediction log: out of memory"); goto cleanup; }
        (void)hamf__buf_puts(&o, uni_raw[k]);
        (void)hamf__buf_putc(&o, ',');
    }
    (void)put_field(&o, label_col);
    (void)hamf__buf_putc(&o, '\n');
    /* pass 2: the labelled rows */
    for (size_t f = 0; f < npf && !st; f++) {
        size_t pos, nh, body;
        if (!pf[f]) continue;
        if ((st = read_log(pf[f], &b, &pos, hdr, MAX_COLS, &nh))) break;
        if (nh > MAX_COLS) {
            st = hamf__err(HAMF_ERR_CONSTRAINT, "prediction log: %s: more than %d columns", pf[f], MAX_COLS);
            break;
        }
        for (size_t j = PRED_NMETA; j < nh && !st; j++) {
            char *name = unquote(hdr[j]);
            if (!name) { st = hamf__err(HAMF_ERR_NOMEM, "prediction log: out of memory"); break; }
            size_t k = 0;
            while (k < nunion && strcmp(uni[k], name)) k++;
            map[j] = k; /* nunion: the label column, or dropped */
            hamf__free(name);
        }
        size_t line = 1;
        bool complete;
        while (pos < b.len && !st) {
            size_t s0 = pos;
            pos = record_scan(b.data, b.len, pos, &body, &complete);
            line++;
            if (!complete) break;
            if (body == s0) continue;
            size_t nfl = split_fields(b.data + s0, body - s0, fld, MAX_COLS);
            int64_t id, r;
            if (nfl != nh || !span_i64(fld[0], &id) || id <= 0 || !span_i64(fld[1], &r) || r < 0) {
                st = hamf__err(HAMF_ERR_PARSE, "prediction log: %s:%zu: malformed line (%zu fields, header has %zu)", pf[f],
                               line, nfl, nh);
                break;
            }
            nserved++;
            int y = lab_get(&labs, (uint64_t)id, (uint64_t)r);
            if (y < 0) continue;
            for (size_t k = 0; k < nunion; k++) row[k] = (struct span){"", 0};
            for (size_t j = PRED_NMETA; j < nh; j++)
                if (map[j] < nunion) row[map[j]] = fld[j];
            for (size_t k = 0; k < nunion; k++) {
                (void)hamf__buf_append(&o, row[k].p, row[k].n);
                (void)hamf__buf_putc(&o, ',');
            }
            if (hamf__buf_printf(&o, "%d\n", y)) {
                st = hamf__err(HAMF_ERR_NOMEM, "prediction log: out of memory");
                break;
            }
            nrows++;
            if (o.len >= WRITE_CHUNK) {
                if (fwrite(o.data, 1, o.len, fo) != o.len) st = hamf__err(HAMF_ERR_IO, "prediction log: writing %s failed", tmp);
                hamf__buf_reset(&o);
            }
        }
    }
    if (st) goto cleanup;
    if ((o.len && fwrite(o.data, 1, o.len, fo) != o.len) || fflush(fo) || fsync(fileno(fo))) {
        st = hamf__err(HAMF_ERR_IO, "prediction log: writing %s failed: %s", tmp, strerror(errno));
        goto cleanup;
    }
    fclose(fo);
    fo = NULL;
    if (rename(tmp, out_path) != 0) {
        st = hamf__err(HAMF_ERR_IO, "prediction log: cannot rename %s to %s: %s", tmp, out_path, strerror(errno));
        goto cleanup;
    }
    if (rows) *rows = nrows;
    if (served) *served = nserved;
cleanup:
    if (fo) fclose(fo);
    if (st && tmp) (void)unlink(tmp);
    hamf__free(tmp);
    if (snap) {
        if (pf) snapshot_remove(snap, pf, npf);
        if (ff) snapshot_remove(snap, ff, nff);
        (void)rmdir(snap);
        hamf__free(snap);
    }
    free_list(pf, npf);
    free_list(ff, nff);
    if (uni)
        for (size_t k = 0; k < nunion; k++) hamf__free(uni[k]);
    if (uni_raw)
        for (size_t k = 0; k < nunion; k++) hamf__free(uni_raw[k]);
    hamf__free(uni);
    hamf__free(uni_raw);
    hamf__free(hdr);
    hamf__free(fld);
    hamf__free(map);
    hamf__free(row);
    hamf__free(labs.t);
    hamf__buf_free(&b);
    hamf__buf_free(&o);
    return st;
}
