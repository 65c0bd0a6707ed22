/*
 * threads.c — the library's small pthread pool (the learner's tree builds,
 * binning) and the one-off parallel run (CSV ranges and writer), with the
 * CPU count both use.
 *
 * The pool runs "task sets": tasks 0..n-1 are handed out through an atomic
 * counter to the workers and the calling thread, and the call returns when
 * all are done. Which thread runs which task varies from run to run, so
 * callers keep results deterministic by giving every task its own output
 * (never a shared float accumulator). Workers spin (up to SPIN_NS) before
 * sleeping on a condition variable, since a tree build issues many short
 * task sets; the caller likewise spins for the last task.
 */
#include "util/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

/* How long a thread spins before it sleeps: a worker waiting for the next
 * task set, the caller waiting for the last task. A tree level issues a
 * task set every few tens of microseconds with a little serial work in
 * between; sleeping there costs a futex wake and a context switch on both
 * sides (measured: 15k context switches and 0.88 of 2 CPUs busy for 1000
 * depth-3 trees on 100k rows with a 10 us spin). */
#define SPIN_NS 250000

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* A task set is published as one atomic word, claim = (set number << 32) |
 * next task index: a thread takes task k of set g by moving the word from
 * (g, k) to (g, k + 1), so a worker that wakes up late can never take a task
 * of a set that has moved on. The set's fn/ctx/ntasks sit in one of two
 * slots (set number parity), written before the set is published and not
 * rewritten until the set after next, which cannot start before this one is
 * done. The caller waits for the tasks to be done, not for every worker to
 * check in: a worker the scheduler has not run yet costs nothing. */
struct pool_set { _Atomic(hamf__task_fn) fn; _Atomic(void *) ctx; _Atomic size_t ntasks; };

struct hamf__pool {
    int n;                    /* threads including the caller */
    pthread_t *th;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    _Atomic uint64_t gen;     /* bumped per task set (wakes workers) */
    _Atomic uint64_t claim;   /* (set << 32) | next task */
    _Atomic size_t done;      /* tasks of the current set finished */
    _Atomic int sleepers;     /* workers in (or entering) cv_work waits */
    _Atomic int caller_waits; /* the caller is in (or entering) cv_done */
    struct pool_set set[2];
    uint32_t nset;            /* sets published so far */
    bool stop;
};

struct worker_arg { struct hamf__pool *p; int tid; };

int hamf__ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)(n > 256 ? 256 : n);
}

/* run tasks of the current set until none is left; a worker finishing the
 * set's last task wakes the caller */
static void drain(struct hamf__pool *p, int tid, bool worker)
{
    for (;;) {
        uint64_t c = atomic_load_explicit(&p->claim, memory_order_acquire);
        const struct pool_set *st = &p->set[(c >> 32) & 1];
        size_t ntasks = atomic_load_explicit(&st->ntasks, memory_order_relaxed);
        hamf__task_fn fn = atomic_load_explicit(&st->fn, memory_order_relaxed);
        void *ctx = atomic_load_explicit(&st->ctx, memory_order_relaxed);
        uint32_t k = (uint32_t)c;
        if (k >= ntasks) return;
        if (!atomic_compare_exchange_weak_explicit(&p->claim, &c, c + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue;
        fn(ctx, k, tid);
        /* the caller spins for the last task; it is woken only when it
         * went to sleep (seq_cst: the done count and its flag cannot both
         * be missed, see hamf__pool_run) */
        if (atomic_fetch_add(&p->done, 1) + 1 == ntasks && worker && atomic_load(&p->caller_waits)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->cv_done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

static void *worker(void *arg)
{
    struct hamf__pool *p = ((struct worker_arg *)arg)->p;
    int tid = ((struct worker_arg *)arg)->tid;
    hamf__free(arg);
    uint64_t seen = 0;
    for (;;) {
        uint64_t g = atomic_load(&p->gen);
        if (g == seen) {
            uint64_t t0 = now_ns();
            for (unsigned spin = 1; (g = atomic_load(&p->gen)) == seen; spin++) {
                cpu_relax();
                if (!(spin & 63) && now_ns() - t0 > SPIN_NS) break;
            }
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while ((g = atomic_load(&p->gen)) == seen && !p->stop) pthread_cond_wait(&p->cv_work, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            bool stop = p->stop;
            pthread_mutex_unlock(&p->mu);
            if (stop) return NULL;
        }
        seen = g;
        if (p->stop) return NULL;
        drain(p, tid, true);
    }
}

hamf_status hamf__pool_new(int nthreads, struct hamf__pool **out)
{
    if (nthreads <= 0) nthreads = hamf__ncpu();
    if (nthreads > 256) nthreads = 256;
    struct hamf__pool *p = hamf__calloc(1, sizeof *p);
    if (!p) return hamf__err(HAMF_ERR_NOMEM, "threads: out of memory");
    p->n = nthreads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    if (nthreads > 1) {
        p->th = hamf__calloc((size_t)nthreads - 1, sizeof *p->th);
        if (!p->th) { hamf__pool_free(p); return hamf__err(HAMF_ERR_NOMEM, "threads: out of memory"); }
        for (int i = 1; i < nthreads; i++) {
            struct worker_arg *a = hamf__malloc(sizeof *a);
            if (!a || (a->p = p, a->tid = i, pthread_create(&p->th[i - 1], NULL, worker, a)) != 0) {
                hamf__free(a);
                p->n = i; /* threads 1..i-1 exist */
                hamf__pool_free(p);
                return hamf__err(HAMF_ERR_NOMEM, "threads: cannot start worker %d", i);
            }
        }
    }
    *out = p;
    return HAMF_OK;
}

void hamf__pool_free(struct hamf__pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    atomic_fetch_add(&p->gen, 1);
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->th[i - 1], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    hamf__free(p->th);
    hamf__free(p);
}

int hamf__pool_size(const struct hamf__pool *p) { return p ? p->n : 1; }

void hamf__pool_run(struct hamf__pool *p, size_t ntasks, hamf__task_fn fn, void *ctx)
{
    if (ntasks == 0) return;
    if (!p || p->n == 1 || ntasks == 1) {
        for (size_t t = 0; t < ntasks; t++) fn(ctx, t, 0);
        return;
    }
    uint32_t g = ++p->nset;
    atomic_store_explicit(&p->set[g & 1].fn, fn, memory_order_relaxed);
    atomic_store_explicit(&p->set[g & 1].ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&p->set[g & 1].ntasks, ntasks, memory_order_relaxed);
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    atomic_store_explicit(&p->claim, (uint64_t)g << 32, memory_order_release);
    /* Spinning workers see the new generation; sleeping ones need the
     * broadcast. A worker about to sleep counts itself in `sleepers` and
     * re-reads gen after that (both seq_cst), so either it sees this bump
     * or this thread sees its count: no wake-up is lost. */
    atomic_fetch_add(&p->gen, 1);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv_work);
        pthread_mutex_unlock(&p->mu);
    }
    drain(p, 0, false);
    if (atomic_load(&p->done) < ntasks) {
        uint64_t t0 = now_ns();
        for (unsigned spin = 1; atomic_load(&p->done) < ntasks; spin++) {
            cpu_relax();
            if (!(spin & 63) && now_ns() - t0 > SPIN_NS) break;
        }
    }
    if (atomic_load(&p->done) < ntasks) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->caller_waits, 1);
        while (atomic_load(&p->done) < ntasks) pthread_cond_wait(&p->cv_done, &p->mu);
        atomic_store(&p->caller_waits, 0);
        pthread_mutex_unlock(&p->mu);
    }
}

struct once_arg {
    hamf__task_fn fn;
    void *ctx;
    size_t task;
};

static void *once_run(void *arg)
{
    struct once_arg *a = arg;
    a->fn(a->ctx, a->task, (int)a->task);
    return NULL;
}

void hamf__run_parallel(size_t ntasks, hamf__task_fn fn, void *ctx)
{
    if (ntasks == 0) return;
    enum { MAX = 256 }; /* tasks past it run on the caller's thread */
    size_t nth = ntasks < MAX ? ntasks : MAX;
    pthread_t th[MAX];
    struct once_arg args[MAX];
    bool started[MAX] = {false};
    for (size_t i = 1; i < nth; i++) {
        args[i] = (struct once_arg){fn, ctx, i};
        started[i] = pthread_create(&th[i], NULL, once_run, &args[i]) == 0;
    }
    for (size_t i = 1; i < ntasks; i++)
        if (i >= nth || !started[i]) fn(ctx, i, (int)i);
    fn(ctx, 0, 0);
    for (size_t i = 1; i < nth; i++)
        if (started[i]) pthread_join(th[i], NULL);
}
