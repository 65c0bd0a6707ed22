/*
 * retrain_log.c — `hamf retrain --from-log DIR`: retraining on production
 * traffic. The labelled rows of a `hamf serve --log-dir` prediction log
 * (track/predlog.h: served rows joined with fed-back labels on request id
 * and row) are written to DIR/joined/retrain-<UTC>.csv with the champion's
 * target as the label column, and that file is the new data of an ordinary
 * champion/challenger retrain (retrain.c): the raw request columns go
 * through the champion's stored pipeline like any raw CSV.
 */
#include "track/loop.h"
#include "track/predlog.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define JOINED_KEEP 5

/* The target column of name's champion (name may be a models:/ URI). */
static hamf_status champion_target(hamf_store *s, const char *name, char *out, size_t cap)
{
    struct hamf__loop_version v;
    char *file = NULL;
    hamf_ensemble *m = NULL;
    hamf_status st;
    if (!strncmp(name, "models:/", 8) || !strncmp(name, "runs:/", 6)) {
        st = hamf__model_ref_resolve_store(s, name, &v, &file);
        if (!st && file) st = hamf__err(HAMF_ERR_CONSTRAINT, "retrain: '%s' is not a registered model", name);
    } else {
        st = hamf__loop_version_get(s, name, 0, &v);
    }
    if (!st) st = hamf__loop_version_load(&v, &m);
    if (!st) {
        const char *t = hamf_ensemble_target(m);
        if (!t || !*t) st = hamf__err(HAMF_ERR_SCHEMA, "retrain: the champion of '%s' records no target column", name);
        else snprintf(out, cap, "%s", t);
    }
    hamf_ensemble_free(m);
    hamf__free(file);
    return st;
}

static int is_joined(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 12 && !strncmp(e->d_name, "retrain-", 8) && !strcmp(e->d_name + n - 4, ".csv");
}

/* Keep the newest JOINED_KEEP joined files (names sort by time). */
static void prune_joined(const char *log_dir)
{
    char dir[4096], path[4096 + 256];
    snprintf(dir, sizeof dir, "%s/joined", log_dir);
    struct dirent **v = NULL;
    int n = scandir(dir, &v, is_joined, alphasort);
    if (n < 0) return;
    for (int i = 0; i < n; i++) {
        if (i + JOINED_KEEP < n) {
            snprintf(path, sizeof path, "%s/%s", dir, v[i]->d_name);
            (void)unlink(path);
        }
        free(v[i]);
    }
    free(v);
}

hamf_status hamf_retrain_from_log(hamf_store *s, const char *name, const char *log_dir, const hamf_retrain_options *o,
                                  hamf_retrain_result *out)
{
    if (!s || !name || !log_dir || !out) return hamf__err(HAMF_ERR_MISUSE, "retrain: NULL argument");
    if (!hamf__predlog_is_dir(log_dir))
        return hamf__err(HAMF_ERR_NOTFOUND,
                         "retrain: --from-log %s holds no prediction log (predictions-*.csv from `hamf serve --log-dir`)",
                         log_dir);
    char target[256];
    hamf_status st = champion_target(s, name, target, sizeof target);
    if (st) return st;
    char ts[96];
    int64_t ms = hamf__now_ms();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(ts, sizeof ts, "%04d%02d%02dT%02d%02d%02d%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    char *path = hamf__asprintf("%s/joined/retrain-%s-%d.csv", log_dir, ts, (int)getpid());
    if (!path) return hamf__err(HAMF_ERR_NOMEM, "retrain: out of memory");
    size_t rows = 0, served = 0;
    st = hamf__predlog_join(log_dir, target, path, &rows, &served);
    if (!st && rows == 0) {
        (void)unlink(path);
        st = hamf__err(HAMF_ERR_NOTFOUND,
                       "retrain: the prediction log %s has %zu served rows but none with a fed-back label "
                       "(POST /feedback to the scoring server)",
                       log_dir, served);
    }
    if (!st) {
        fprintf(stderr, "hamf retrain: %zu labelled rows of %zu served (from %s) -> %s\n", rows, served, log_dir, path);
        st = hamf_retrain(s, name, path, o, out);
        prune_joined(log_dir);
    }
    hamf__free(path);
    return st;
}
