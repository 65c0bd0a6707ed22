/*
 * tracking_writer.c — the connections of the tracking store: each
 * struct hamf__trk keeps its prepared statements (fixed ones by index,
 * search queries in a small cache by SQL text); every connection to one
 * URL in the process shares one writer connection and its open
 * transaction (group commit: N concurrent writers share one fsync), and on
 * SQLite a checkpointer thread keeps the WAL bounded outside the writers'
 * critical section. Open / close live here too.
 */
#include "store/tracking_impl.h"
#include "store/db_impl.h"

#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>


/* Group commit. Every connection to one store URL in this process shares
 * one writer connection and one open transaction: a write joins the open
 * transaction under the group mutex (inside its own SAVEPOINT, so a failed
 * request undoes only itself; the request that began the transaction needs
 * none: it can roll the whole transaction back), and the commit, with its
 * fsync, is done by the last request of the batch: a request that finishes
 * while others are queued to join leaves the commit to them and waits for
 * it. It waits on its own record in a list under a second, small mutex,
 * not on the group mutex, which the next writer may already hold: the
 * committer fills in every waiting member's outcome and wakes them. So N
 * concurrent writers share one fsync, and each still answers only after
 * its data is committed. A batch is cut at BATCH_MAX requests so waiting
 * stays bounded under any load. */
#define BATCH_MAX 64

/* A member of the open batch waiting for its commit (on its own stack). */
struct waiter {
    struct waiter *next;
    bool done;
    hamf_status status;
    char msg[512];
};

struct group {
    struct group *next;
    char *url;
    int refs;
    struct hamf__trk *w;   /* the writer connection, opened on first write */
    pthread_mutex_t mu;    /* the writer and its open transaction */
    pthread_cond_t cv;     /* broadcast when a transaction ends (checkpointer) */
    pthread_mutex_t wait_mu; /* waiters; taken after mu, never before */
    pthread_cond_t wait_cv;
    struct waiter *waiters; /* members of the open batch waiting for its end */
    _Atomic int queued;    /* threads waiting for mu to join a batch */
    bool sync_normal;      /* see hamf__trk_open_opts */
    bool tx_open;
    int members;           /* requests in the open batch */
    /* WAL checkpointer (SQLite only), see ckpt_main */
    bool ckpt_running;
    bool ckpt_stop;        /* under ckpt_mu */
    pthread_t ckpt;
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cv;
    bool ckpt_kick;        /* under ckpt_mu: the WAL passed its bound, check now */
    _Atomic int64_t wal_frames_lim; /* the checkpointer's current bound (0: not yet known) */
};

static pthread_mutex_t groups_mu = PTHREAD_MUTEX_INITIALIZER;
static struct group *groups;
static _Thread_local struct hamf__trk *tl_writer; /* set inside a write section */
static _Thread_local bool tl_first; /* this write section began the transaction */

static struct group *group_ref(const char *url, bool sync_normal)
{
    pthread_mutex_lock(&groups_mu);
    struct group *g;
    for (g = groups; g; g = g->next)
        if (!strcmp(g->url, url)) break;
    if (!g) {
        g = hamf__calloc(1, sizeof *g);
        if (g && !(g->url = hamf__strdup(url))) {
            hamf__free(g);
            g = NULL;
        }
        if (g) {
            pthread_mutex_init(&g->mu, NULL);
            pthread_cond_init(&g->cv, NULL);
            pthread_mutex_init(&g->wait_mu, NULL);
            pthread_cond_init(&g->wait_cv, NULL);
            pthread_mutex_init(&g->ckpt_mu, NULL);
            pthread_cond_init(&g->ckpt_cv, NULL);
            g->sync_normal = sync_normal;
            g->next = groups;
            groups = g;
        }
    }
    if (g) g->refs++;
    pthread_mutex_unlock(&groups_mu);
    return g;
}

static void group_unref(struct group *g)
{
    if (!g) return;
    pthread_mutex_lock(&groups_mu);
    if (--g->refs > 0) {
        pthread_mutex_unlock(&groups_mu);
        return;
    }
    for (struct group **pp = &groups; *pp; pp = &(*pp)->next) {
        if (*pp == g) {
            *pp = g->next;
            break;
        }
    }
    pthread_mutex_unlock(&groups_mu);
    if (g->ckpt_running) {
        pthread_mutex_lock(&g->ckpt_mu);
        g->ckpt_stop = true;
        pthread_cond_signal(&g->ckpt_cv);
        pthread_mutex_unlock(&g->ckpt_mu);
        pthread_join(g->ckpt, NULL);
    }
    hamf__trk_close(g->w);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->wait_mu);
    pthread_cond_destroy(&g->wait_cv);
    pthread_mutex_destroy(&g->ckpt_mu);
    pthread_cond_destroy(&g->ckpt_cv);
    hamf__free(g->url);
    hamf__free(g);
}

/* Reset every statement of the connection stepped since the last call. A
 * SQLite statement left mid-result keeps the connection's read snapshot
 * open, which would hide other connections' commits: each public entry
 * point starts with this. */
void hamf__trk_reset(struct hamf__trk *t)
{
    for (uint64_t m = t->st_used; m; m &= m - 1) hamf__db_reset(t->st[__builtin_ctzll(m)]);
    for (uint32_t m = t->cache_used; m; m &= m - 1) hamf__db_reset(t->cache[__builtin_ctz(m)].st);
    t->st_used = 0;
    t->cache_used = 0;
}

hamf_status hamf__trk_stmt(struct hamf__trk *t, int q, struct hamf__stmt **out)
{
    if (tl_writer) t = tl_writer; /* inside a write section: the group's connection */
    if (!t->st[q]) {
        hamf_status s = hamf__db_prepare(t->db, hamf__trk_sql[q], &t->st[q]);
        if (s) return s;
    } else {
        hamf__db_reset(t->st[q]);
    }
    t->st_used |= (uint64_t)1 << q;
    *out = t->st[q];
    return HAMF_OK;
}

hamf_status hamf__trk_stmt_sql(struct hamf__trk *t, const char *sql, struct hamf__stmt **out)
{
    for (int i = 0; i < CACHE_N; i++) {
        if (t->cache[i].sql && !strcmp(t->cache[i].sql, sql)) {
            hamf__db_reset(t->cache[i].st);
            t->cache_used |= (uint32_t)1 << i;
            *out = t->cache[i].st;
            return HAMF_OK;
        }
    }
    struct hamf__stmt *st = NULL;
    hamf_status s = hamf__db_prepare(t->db, sql, &st);
    if (s) return s;
    char *copy = hamf__strdup(sql);
    if (!copy) {
        hamf__db_finalize(st);
        return hamf__err(HAMF_ERR_NOMEM, "tracking: out of memory");
    }
    unsigned i = t->cache_next++ % CACHE_N;
    struct cached *c = &t->cache[i];
    if (c->st) hamf__db_finalize(c->st);
    hamf__free(c->sql);
    c->sql = copy;
    c->st = st;
    t->cache_used |= (uint32_t)1 << i;
    *out = st;
    return HAMF_OK;
}



/* The writer's WAL hook, after each commit: past the bound it wakes the
 * checkpointer at once instead of at its next 100 ms tick (a fast machine
 * writes megabytes in 100 ms: 32k tag writes in 6 s overshot an 8 MiB
 * disk's 2 MiB bound by 25 %); past WRITER_AUTOCKPT_FRAMES it checkpoints
 * itself, as SQLite's auto-checkpoint (which this hook replaces) would. */
#define WRITER_AUTOCKPT_FRAMES 16384
static int writer_wal_hook(void *arg, sqlite3 *h, const char *name, int frames)
{
    struct group *g = arg;
    int64_t lim = atomic_load(&g->wal_frames_lim);
    if (frames >= WRITER_AUTOCKPT_FRAMES) {
        (void)sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (lim > 0 && frames >= lim) {
        pthread_mutex_lock(&g->ckpt_mu);
        g->ckpt_kick = true;
        pthread_cond_signal(&g->ckpt_cv);
        pthread_mutex_unlock(&g->ckpt_mu);
    }
    return SQLITE_OK;
}

static hamf_status open_writer(struct group *g, struct hamf__trk **out);

/* Run a savepoint statement (Q_SP_*) on the writer: prepared once on
 * SQLite (it runs twice per request), through exec on PostgreSQL. */
static hamf_status wexec(struct group *g, int q)
{
    struct hamf__trk *w = g->w;
    if (hamf__db_backend(w->db) != HAMF__DB_SQLITE) return hamf__db_exec(w->db, hamf__trk_sql[q]);
    if (!w->st[q]) {
        hamf_status s = hamf__db_prepare(w->db, hamf__trk_sql[q], &w->st[q]);
        if (s) return s;
    }
    hamf_status s = hamf__db_run(w->st[q]);
    hamf__db_reset(w->st[q]);
    return s;
}

/* End the open transaction (already committed or rolled back, with
 * `status`) for every member waiting on it. Called with mu held. */
static void batch_end(struct group *g, hamf_status status, const char *msg)
{
    g->tx_open = false;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_lock(&g->wait_mu);
    struct waiter *w = g->waiters;
    g->waiters = NULL;
    bool any = w != NULL;
    for (; w; w = w->next) {
        w->status = status;
        if (status) snprintf(w->msg, sizeof w->msg, "%s", msg);
        w->done = true;
    }
    if (any) pthread_cond_broadcast(&g->wait_cv);
    pthread_mutex_unlock(&g->wait_mu);
}

/* Join the open transaction (beginning one if needed), inside a savepoint
 * unless this request began it. On success the group mutex is held until
 * write_end. */
hamf_status hamf__trk_write_begin(struct hamf__trk *t)
{
    if (t->borrowed) return hamf__db_tx_begin(t->db, &t->own_tx);
    struct group *g = t->g;
    hamf_status s;
    atomic_fetch_add(&g->queued, 1);
    pthread_mutex_lock(&g->mu);
    atomic_fetch_sub(&g->queued, 1);
    if (!g->w && (s = open_writer(g, &g->w))) goto fail;
    tl_first = !g->tx_open;
    if (tl_first) {
        if ((s = hamf__db_begin(g->w->db))) goto fail;
        g->tx_open = true;
        g->members = 0;
    } else if ((s = wexec(g, Q_SP_BEGIN))) {
        /* the open transaction is unusable: end it for everyone in it */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", hamf_last_error());
        hamf__db_rollback(g->w->db);
        batch_end(g, s, msg);
        goto fail;
    }
    g->members++;
    tl_writer = g->w;
    return HAMF_OK;
fail:
    pthread_mutex_unlock(&g->mu);
    return s;
}

/* Keep (s == OK) or undo this request's changes, then commit the batch, or
 * leave the commit to the requests queued behind and wait for it. Returns
 * s, or the commit's failure. Always releases the group mutex. */
hamf_status hamf__trk_write_end(struct hamf__trk *t, hamf_status s)
{
    if (t->borrowed) {
        hamf__trk_reset(t);
        return hamf__db_tx_end(t->db, t->own_tx, s);
    }
    struct group *g = t->g;
    hamf__trk_reset(g->w);
    tl_writer = NULL;
    char msg[512] = "";
    if (s) snprintf(msg, sizeof msg, "%s", hamf_last_error());
    if (tl_first && s) {
        /* alone in the transaction (nobody joins before write_end): undo it all */
        hamf__db_rollback(g->w->db);
        batch_end(g, s, msg);
        pthread_mutex_unlock(&g->mu);
        return hamf__err(s, "%s", msg);
    }
    if (!tl_first) {
        hamf_status ss = wexec(g, s ? Q_SP_ROLLBACK : Q_SP_RELEASE);
        if (!ss && s) ss = wexec(g, Q_SP_RELEASE);
        if (ss) {
            /* this request's changes cannot be kept or undone alone: the
             * transaction ends for everyone in it */
            char smsg[512];
            snprintf(smsg, sizeof smsg, "%s", hamf_last_error());
            hamf__db_rollback(g->w->db);
            batch_end(g, ss, smsg);
            pthread_mutex_unlock(&g->mu);
            return s ? hamf__err(s, "%s", msg) : hamf__err(ss, "%s", smsg);
        }
    }
    if (atomic_load(&g->queued) == 0 || g->members >= BATCH_MAX) {
        char cmsg[512] = "";
        hamf_status cs = hamf__db_commit(g->w->db); /* rolls back when it fails */
        if (cs) snprintf(cmsg, sizeof cmsg, "%s", hamf_last_error());
        batch_end(g, cs, cmsg);
        pthread_mutex_unlock(&g->mu);
        if (s) return hamf__err(s, "%s", msg);
        if (cs) return hamf__err(cs, "%s", cmsg);
        return HAMF_OK;
    }
    if (s) {
        /* undone: nothing of this request waits for the commit */
        pthread_mutex_unlock(&g->mu);
        return hamf__err(s, "%s", msg);
    }
    struct waiter w = {0};
    pthread_mutex_lock(&g->wait_mu);
    w.next = g->waiters;
    g->waiters = &w;
    pthread_mutex_unlock(&g->mu);
    while (!w.done) pthread_cond_wait(&g->wait_cv, &g->wait_mu);
    pthread_mutex_unlock(&g->wait_mu);
    if (w.status) return hamf__err(w.status, "%s", w.msg);
    return HAMF_OK;
}

/* ---- open / close ---- */

static hamf_status open_conn(const char *url, bool sync_normal, struct hamf__trk **out)
{
    struct hamf__trk *t = hamf__calloc(1, sizeof *t);
    if (!t) return hamf__err(HAMF_ERR_NOMEM, "tracking: out of memory");
    hamf_status s = hamf__db_open(url, &t->db);
    if (s) goto fail;
    if (hamf__db_backend(t->db) == HAMF__DB_SQLITE) {
        /* LIKE is case-sensitive in MLflow (and PostgreSQL); ILIKE lowers. */
        if ((s = hamf__db_exec(t->db, "PRAGMA case_sensitive_like = ON"))) goto fail;
        /* Reads map the file instead of copying pages through read(), and
         * a bigger page cache keeps a 10,000-run search in memory. */
        if ((s = hamf__db_exec(t->db, "PRAGMA mmap_size = 268435456; PRAGMA cache_size = -16384"))) goto fail;
        if (sync_normal && (s = hamf__db_exec(t->db, "PRAGMA synchronous = NORMAL"))) goto fail;
    }
    *out = t;
    return HAMF_OK;
fail:
    hamf__trk_close(t);
    return s;
}

/* WAL checkpointer. SQLite's auto-checkpoint would run inside the commit
 * of a batch, under the group mutex, so every queued request waited for it
 * (a 20 ms p99). Instead the writer's auto-checkpoint is replaced by a
 * WAL hook (a safety bound, and a wake-up for this thread once the WAL
 * passes its bound) and this thread, on its own connection, every CKPT_MS
 * or when woken:
 * copies the WAL into the database without the mutex (PASSIVE: it cannot
 * finish under steady writes, new frames keep coming), then, if the WAL
 * has grown past CKPT_FRAMES, takes the group mutex between batches (no
 * transaction open) and copies the few frames written meanwhile. The
 * checkpoint is then complete, so the next write restarts the WAL from
 * its beginning: its size stays bounded. Durability is unchanged: only
 * committed frames are copied, and SQLite syncs the WAL before copying. */
#define CKPT_MS 100
/* The WAL bound (hamf_store_set_wal_limit): 64 MiB by default; under
 * sustained logging the locked pass then runs about once a second instead
 * of ten times, which measured ~12 % more log-metric throughput at 8
 * connections with the same p99. It shrinks to a quarter of the free space
 * on the store's file system when that is less (an 8 MiB disk keeps the WAL
 * under 2 MiB instead of filling up), never below 32 frames. The writer's
 * journal_size_limit truncates the WAL file back to the bound when it
 * restarts. */
#define WAL_MAX_DEFAULT (64LL * 1024 * 1024)
#define WAL_FRAMES_MIN 32
static _Atomic int64_t g_wal_max = WAL_MAX_DEFAULT;

void hamf_store_set_wal_limit(int64_t max_bytes)
{
    atomic_store(&g_wal_max, max_bytes > 0 ? max_bytes : WAL_MAX_DEFAULT);
}

/* Frames the WAL of the store at `path` may hold before a full checkpoint. */
static int64_t wal_limit_frames(const char *path, int64_t page)
{
    int64_t lim = atomic_load(&g_wal_max);
    char dir[4096];
    const char *sl = strrchr(path, '/');
    if (!sl) snprintf(dir, sizeof dir, ".");
    else snprintf(dir, sizeof dir, "%.*s", sl == path ? 1 : (int)(sl - path), path);
    struct statvfs v;
    if (!statvfs(dir, &v)) {
        int64_t avail = (int64_t)v.f_bavail * (int64_t)v.f_frsize;
        if (avail / 4 < lim) lim = avail / 4;
    }
    int64_t frames = lim / (page + 24); /* a frame: 24-byte header + page */
    return frames < WAL_FRAMES_MIN ? WAL_FRAMES_MIN : frames;
}

static bool ckpt_sleep(struct group *g)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += CKPT_MS * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&g->ckpt_mu);
    while (!g->ckpt_stop && !g->ckpt_kick && pthread_cond_timedwait(&g->ckpt_cv, &g->ckpt_mu, &ts) == 0) {
    }
    bool stop = g->ckpt_stop;
    g->ckpt_kick = false;
    pthread_mutex_unlock(&g->ckpt_mu);
    return !stop;
}

/* PRAGMA wal_checkpoint(PASSIVE); *frames = frames in the WAL (-1 if not in WAL mode). */
static bool ckpt_pass(struct hamf__stmt *st, int64_t *frames)
{
    bool row = false;
    hamf__db_reset(st);
    if (hamf__db_step(st, &row) || !row) {
        hamf__db_reset(st);
        return false;
    }
    *frames = hamf__db_col_i64(st, 1);
    hamf__db_reset(st);
    return true;
}

static void *ckpt_main(void *arg)
{
    struct group *g = arg;
    struct hamf__db *db = NULL;
    struct hamf__stmt *st = NULL;
    if (hamf__db_open(g->url, &db)) goto cleanup;
    int64_t page = 4096;
    if (!hamf__db_prepare(db, "PRAGMA page_size", &st)) {
        bool row = false;
        if (!hamf__db_step(st, &row) && row && hamf__db_col_i64(st, 0) > 0) page = hamf__db_col_i64(st, 0);
        hamf__db_finalize(st);
        st = NULL;
    }
    if (hamf__db_prepare(db, "PRAGMA wal_checkpoint(PASSIVE)", &st)) goto cleanup;
    atomic_store(&g->wal_frames_lim, wal_limit_frames(hamf__db_name(db), page));
    while (ckpt_sleep(g)) {
        int64_t frames = 0, lim = wal_limit_frames(hamf__db_name(db), page);
        atomic_store(&g->wal_frames_lim, lim);
        if (!ckpt_pass(st, &frames) || frames < lim) continue;
        /* catch up without the mutex until a pass is short: each copies
         * (and syncs) only what was written during the one before */
        for (int np = 1; np < 6; np++) {
            double a = hamf__mono_seconds();
            if (!ckpt_pass(st, &frames)) break;
            if (hamf__mono_seconds() - a < 0.002) break;
        }
        /* then the rest between batches, with the mutex: a few ms */
        pthread_mutex_lock(&g->mu);
        while (g->tx_open) pthread_cond_wait(&g->cv, &g->mu);
        ckpt_pass(st, &frames);
        pthread_mutex_unlock(&g->mu);
    }
cleanup:
    hamf__db_finalize(st);
    hamf__db_close(db);
    return NULL;
}

static hamf_status open_writer(struct group *g, struct hamf__trk **out)
{
    hamf_status s = open_conn(g->url, g->sync_normal, out);
    if (s) {
        hamf__err_prefix(s, "tracking: opening the writer connection");
        return s;
    }
    if (hamf__db_backend((*out)->db) == HAMF__DB_SQLITE && !g->ckpt_running) {
        g->ckpt_stop = false;
        char lim[64];
        snprintf(lim, sizeof lim, "PRAGMA journal_size_limit = %lld", (long long)atomic_load(&g_wal_max));
        (void)hamf__db_exec((*out)->db, lim);
        sqlite3 *h = hamf__sqlite_handle((*out)->db);
        if (h && !pthread_create(&g->ckpt, NULL, ckpt_main, g)) {
            g->ckpt_running = true;
            sqlite3_wal_hook(h, writer_wal_hook, g);
        } else {
            hamf__db_exec((*out)->db, "PRAGMA wal_autocheckpoint = 1000");
        }
    }
    return HAMF_OK;
}

static hamf_status open_finish(struct hamf__trk *t);

hamf_status hamf__trk_open(const char *url, struct hamf__trk **out)
{
    return hamf__trk_open_opts(url, NULL, out);
}

hamf_status hamf__trk_open_opts(const char *url, const struct hamf__trk_options *opts, struct hamf__trk **out)
{
    struct hamf__trk *t = NULL;
    bool sync_normal = opts && opts->sync_normal;
    hamf_status s = open_conn(url, sync_normal, &t);
    if (s) goto fail;
    if (!(t->g = group_ref(url, sync_normal))) {
        s = hamf__err(HAMF_ERR_NOMEM, "tracking: out of memory");
        goto fail;
    }
    if (opts && opts->artifact_root && *opts->artifact_root) {
        size_t n = strlen(opts->artifact_root);
        while (n > 1 && opts->artifact_root[n - 1] == '/') n--;
        if (!(t->artifact_root = hamf__strndup(opts->artifact_root, n))) {
            s = hamf__err(HAMF_ERR_NOMEM, "tracking: out of memory");
            goto fail;
        }
    }
    if ((s = open_finish(t))) goto fail;
    *out = t;
    return HAMF_OK;
fail:
    hamf__err_prefix(s, "tracking");
    hamf__trk_close(t);
    return s;
}

hamf_status hamf__trk_open_store(hamf_store *hs, struct hamf__trk **out)
{
    struct hamf__trk *t = hamf__calloc(1, sizeof *t);
    if (!t) return hamf__err(HAMF_ERR_NOMEM, "tracking: out of memory");
    t->db = hamf__store_db(hs);
    t->borrowed = true;
    hamf_status s = t->db ? open_finish(t) : hamf__err(HAMF_ERR_MISUSE, "NULL store");
    if (s) {
        hamf__err_prefix(s, "tracking");
        hamf__trk_close(t);
        return s;
    }
    *out = t;
    return HAMF_OK;
}

/* Tables up to date and the Default experiment present. */
static hamf_status open_finish(struct hamf__trk *t)
{
    hamf_status s;
    if ((s = hamf__trk_migrate(t->db))) return s;
    struct hamf__stmt *st;
    bool row;
    if ((s = hamf__trk_stmt(t, Q_DEFAULT_EXISTS, &st)) || (s = hamf__db_step(st, &row))) return s;
    bool have = row && hamf__db_col_i64(st, 0) > 0;
    hamf__db_reset(st);
    if (have) return HAMF_OK;
    if ((s = hamf__trk_write_begin(t))) return s;
    int64_t now = hamf__now_ms();
    /* the Default experiment's location follows the artifact root */
    char *loc = t->artifact_root ? hamf__asprintf("%s/0", t->artifact_root) : hamf__strdup("mlflow-artifacts:/0");
    if (!loc) s = hamf__err(HAMF_ERR_NOMEM, "tracking: out of memory");
    else if (!(s = hamf__trk_stmt(t, Q_DEFAULT_INSERT, &st)) && !(s = hamf__db_bindf(st, "tii", loc, now, now)))
        s = hamf__db_run(st);
    hamf__free(loc);
    return hamf__trk_write_end(t, s);
}

void hamf__trk_close(struct hamf__trk *t)
{
    if (!t) return;
    for (int i = 0; i < Q_COUNT; i++) hamf__db_finalize(t->st[i]);
    for (int i = 0; i < CACHE_N; i++) {
        hamf__db_finalize(t->cache[i].st);
        hamf__free(t->cache[i].sql);
    }
    if (!t->borrowed) hamf__db_close(t->db);
    group_unref(t->g);
    hamf__free(t->artifact_root);
    hamf__free(t);
}

