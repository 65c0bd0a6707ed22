/*
 * retrain_jobs.c — the runner of the retrain jobs that the alert webhook
 * (server/alerts.c) enqueues: a worker thread claims the oldest queued job
 * (state kept in the store, so jobs survive a restart), runs the retrain
 * (track/retrain.c) on --retrain-data (a CSV file, a `hamf serve --log-dir`
 * prediction log — its labelled served rows, track/predlog.h — or the
 * newest *.csv in another directory) and records the result. The worker
 * holds ONE store connection for all of it (claim, the retrain's reads,
 * runs and registry writes, the result), opened when the runner starts;
 * after a store error it opens a fresh one before the next claim. The
 * server reaches it only through the struct hamf__job_runner hook
 * installed here.
 */
#include "app/retrain_jobs.h"

#include "server/alerts.h"
#include "track/loop.h"
#include "track/predlog.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static char *g_db;      /* the server's store URL */
static char *g_art;     /* the server's --artifacts-dir (retrain runs' artifacts) */
static bool g_running, g_stop;
static hamf_store *g_store; /* the worker's connection (only the worker uses it once started) */
static pthread_t g_thread;

/* The data file for a job: the path itself, or the newest *.csv in it. */
static hamf_status resolve_data(const char *path, char *out, size_t cap)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return hamf__err(HAMF_ERR_IO, "retrain: --retrain-data %s: cannot stat it", path);
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(out, cap, "%s", path);
        return HAMF_OK;
    }
    DIR *d = opendir(path);
    if (!d) return hamf__err(HAMF_ERR_IO, "retrain: --retrain-data %s: cannot open the directory", path);
    struct dirent *e;
    struct timespec best = {0, 0};
    bool found = false;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".csv") || e->d_name[0] == '.') continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        if (stat(full, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        if (!found || sb.st_mtim.tv_sec > best.tv_sec ||
            (sb.st_mtim.tv_sec == best.tv_sec && sb.st_mtim.tv_nsec > best.tv_nsec) ||
            (sb.st_mtim.tv_sec == best.tv_sec && sb.st_mtim.tv_nsec == best.tv_nsec && strcmp(full, out) > 0)) {
            best = sb.st_mtim;
            snprintf(out, cap, "%s", full);
            found = true;
        }
    }
    closedir(d);
    if (!found) return hamf__err(HAMF_ERR_NOTFOUND, "retrain: --retrain-data %s holds no .csv file", path);
    return HAMF_OK;
}

static void run_one(hamf_store *s, int64_t id, const char *model)
{
    hamf_retrain_options o;
    hamf_retrain_options_init(&o);
    char data[4096] = "", trigger[64];
    snprintf(trigger, sizeof trigger, "alert job %lld", (long long)id);
    o.trigger = trigger;
    o.artifacts_dir = g_art;
    struct hamf__alerts_config cfg;
    char *cfg_data = NULL;
    if (hamf__alerts_config_get(&cfg, &cfg_data)) cfg.retrain_data = NULL;
    o.window = cfg.window;
    o.min_gain = cfg.min_gain;
    o.tolerance = cfg.tolerance;
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_retrain_result r;
    hamf_status st;
    bool from_log = false;
    if (!cfg_data)
        st = hamf__err(HAMF_ERR_MISUSE, "retrain: the server has no --retrain-data (new labelled data) to retrain on");
    else if ((from_log = hamf__predlog_is_dir(cfg_data)))
        st = (size_t)snprintf(data, sizeof data, "%s", cfg_data) < sizeof data
                 ? HAMF_OK
                 : hamf__err(HAMF_ERR_CONSTRAINT, "retrain: --retrain-data path too long");
    else
        st = resolve_data(cfg_data, data, sizeof data);
    /* on the worker's connection */
    if (!st) st = from_log ? hamf_retrain_from_log(s, model, data, &o, &r) : hamf_retrain(s, model, data, &o, &r);
    if (!st) {
        st = hamf__retrain_result_json(&r, &b);
        /* add the data file used */
        if (!st && b.len) {
            b.data[--b.len] = '\0';
            st = hamf__buf_puts(&b, ",\"data\":");
            if (!st) st = hamf__json_str(&b, data, (size_t)-1);
            if (!st) st = hamf__buf_putc(&b, '}');
        }
    }
    bool ok = st == HAMF_OK;
    if (!ok) {
        hamf__buf_reset(&b);
        hamf__buf_puts(&b, "{\"error\":");
        hamf__json_str(&b, hamf_last_error(), (size_t)-1);
        hamf__buf_putc(&b, '}');
    }
    if (hamf__loop_job_finish(s, id, ok, b.data ? b.data : "{}"))
        fprintf(stderr, "hamf server: retrain job %lld: recording the result failed: %s\n", (long long)id,
                hamf_last_error());
    fprintf(stderr, "hamf server: retrain job %lld (%s) %s: %s\n", (long long)id, model, ok ? "succeeded" : "failed",
            b.data ? b.data : "");
    hamf__buf_free(&b);
    hamf__free(cfg_data);
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&g_mu);
        bool stop = g_stop;
        pthread_mutex_unlock(&g_mu);
        if (stop) break;
        bool found = false;
        int64_t id = 0;
        char model[256] = "";
        if (!g_store && hamf__loop_open(g_db, &g_store)) g_store = NULL;
        if (g_store && hamf__loop_job_claim(g_store, &id, model, sizeof model, &found)) {
            /* a broken connection (a restarted PostgreSQL): a fresh one next time */
            hamf_store_close(g_store);
            g_store = NULL;
            found = false;
        }
        if (found) {
            run_one(g_store, id, model);
            continue;
        }
        pthread_mutex_lock(&g_mu);
        if (!g_stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 500 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&g_cv, &g_mu, &ts);
        }
        pthread_mutex_unlock(&g_mu);
    }
    return NULL;
}

static hamf_status jobs_start(const char *db_url, const char *artifacts_dir)
{
    if (g_running) return hamf__err(HAMF_ERR_MISUSE, "alerts: worker already running");
    hamf_store *s = NULL;
    hamf_status st = hamf__loop_open(db_url, &s);
    if (st) return st;
    if ((st = hamf__loop_job_requeue_running(s))) {
        hamf_store_close(s);
        return st;
    }
    g_db = hamf__strdup(db_url);
    g_art = artifacts_dir ? hamf__strdup(artifacts_dir) : NULL;
    if (!g_db || (artifacts_dir && !g_art)) {
        st = hamf__err(HAMF_ERR_NOMEM, "alerts: out of memory");
        goto fail;
    }
    g_store = s; /* handed to the worker */
    g_stop = false;
    if (pthread_create(&g_thread, NULL, worker, NULL) != 0) {
        st = hamf__err(HAMF_ERR_INTERNAL, "alerts: cannot start the retrain worker thread");
        goto fail;
    }
    g_running = true;
    return HAMF_OK;
fail:
    hamf_store_close(s);
    g_store = NULL;
    hamf__free(g_db);
    hamf__free(g_art);
    g_db = g_art = NULL;
    return st;
}

static void jobs_stop(void)
{
    if (!g_running) return;
    pthread_mutex_lock(&g_mu);
    g_stop = true;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    pthread_join(g_thread, NULL);
    hamf_store_close(g_store);
    g_store = NULL;
    g_running = false;
    hamf__free(g_db);
    hamf__free(g_art);
    g_db = g_art = NULL;
}

static void jobs_wake(void)
{
    pthread_mutex_lock(&g_mu);
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static const struct hamf__job_runner runner = {jobs_start, jobs_stop, jobs_wake};

void hamf__retrain_jobs_install(void) { hamf__alerts_set_runner(&runner); }
