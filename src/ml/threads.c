/*
 * threads.c — the learner's small pthread pool and its seeded RNG.
 *
 * The pool runs "task sets": tasks 0..n-1 are handed out through an atomic
 * counter to the workers and the calling thread, and the call returns when
 * all are done. Which thread runs which task varies from run to run, so
 * callers keep results deterministic by giving every task its own output
 * (never a shared float accumulator). Workers spin briefly before sleeping
 * on a condition variable, since a tree build issues many short task sets.
 */
#include "ml.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

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
        if (atomic_fetch_add_explicit(&p->done, 1, memory_order_acq_rel) + 1 == ntasks && worker) {
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
        for (int spin = 0; g == seen && spin < 200; spin++) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
            g = atomic_load(&p->gen);
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load(&p->gen)) == seen && !p->stop) pthread_cond_wait(&p->cv_work, &p->mu);
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
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->gen, 1);
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    drain(p, 0, false);
    for (int spin = 0; atomic_load(&p->done) < ntasks && spin < 200; spin++) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    if (atomic_load(&p->done) < ntasks) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->done) < ntasks) pthread_cond_wait(&p->cv_done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

/* ---- RNG ---- */

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void hamf__rng_seed(struct hamf__rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t hamf__rng_next(struct hamf__rng *r)
{
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return res;
}

uint64_t hamf__rng_below(struct hamf__rng *r, uint64_t n)
{
    if (n <= 1) return 0;
    /* Lemire's multiply-shift with rejection for exact uniformity. */
    uint64_t x = hamf__rng_next(r);
    __uint128_t m = (__uint128_t)x * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = -n % n;
        while (l < t) {
            x = hamf__rng_next(r);
            m = (__uint128_t)x * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double hamf__rng_unit(struct hamf__rng *r) { return (double)(hamf__rng_next(r) >> 11) * 0x1.0p-53; }
