/*
 * predict_api.c — hamf_predictor: the embeddable scoring handle of hamf.h.
 * A predictor owns one prepared ensemble and only reads it, so any number
 * of threads may score through it at once; the scoring paths (predict.c)
 * bin rows on the stack and allocate nothing.
 *
 * Opening a version 3 file of a deep forest builds only what scoring reads
 * (model_io.c: the features and the predictor's node arrays, straight from
 * the file's columns); the learner's trees and SHAP covers, which only
 * hamf_predictor_ensemble's callers need, are parsed from the kept file
 * bytes the first time it is called.
 */
#include "ml.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

struct hamf_predictor {
    struct hamf_ensemble *m;       /* scores; without learner trees when `file` is kept */
    struct hamf__buf file;         /* the file bytes while the full model is not built */
    pthread_mutex_t lock;          /* builds `full` once */
    _Atomic(struct hamf_ensemble *) full; /* the whole model (m itself when it has its trees) */
    char *path;                    /* for errors of the later parse */
};

hamf_status hamf_predictor_from_ensemble(hamf_ensemble *m, hamf_predictor **out)
{
    if (!m || !out) {
        hamf_ensemble_free(m);
        return hamf__err(HAMF_ERR_MISUSE, "predictor: NULL argument");
    }
    hamf_status st = m->fast ? HAMF_OK : hamf__model_prepare(m);
    struct hamf_predictor *p = st ? NULL : hamf__calloc(1, sizeof *p);
    if (!p) {
        hamf_ensemble_free(m);
        return st ? st : hamf__err(HAMF_ERR_NOMEM, "predictor: out of memory");
    }
    p->m = m;
    pthread_mutex_init(&p->lock, NULL);
    atomic_init(&p->full, m);
    *out = p;
    return HAMF_OK;
}

static bool is_lite(const struct hamf_ensemble *m) { return m->n_trees && m->trees[0].n_nodes == 0; }

hamf_status hamf_predictor_open(const char *path, hamf_predictor **out)
{
    if (!path || !out) return hamf__err(HAMF_ERR_MISUSE, "predictor: NULL argument");
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_status st = hamf__file_read(path, 0, &b);
    if (st) {
        hamf__buf_free(&b);
        return hamf__err_prefix(st, "model");
    }
    hamf_ensemble *m;
    if ((st = hamf__model_parse_scoring(path, b.data ? b.data : "", b.len, &m))) {
        hamf__buf_free(&b);
        return st;
    }
    if (!is_lite(m)) {
        hamf__buf_free(&b);
        return hamf_predictor_from_ensemble(m, out);
    }
    struct hamf_predictor *p = hamf__calloc(1, sizeof *p);
    char *name = hamf__strdup(path);
    if (!p || !name) {
        hamf__free(p);
        hamf__free(name);
        hamf__buf_free(&b);
        hamf_ensemble_free(m);
        return hamf__err(HAMF_ERR_NOMEM, "predictor: out of memory");
    }
    p->m = m;
    p->file = b;
    p->path = name;
    pthread_mutex_init(&p->lock, NULL);
    atomic_init(&p->full, NULL);
    *out = p;
    return HAMF_OK;
}

void hamf_predictor_close(hamf_predictor *p)
{
    if (!p) return;
    struct hamf_ensemble *full = atomic_load(&p->full);
    if (full != p->m) hamf_ensemble_free(full);
    hamf_ensemble_free(p->m);
    hamf__buf_free(&p->file);
    hamf__free(p->path);
    pthread_mutex_destroy(&p->lock);
    hamf__free(p);
}

size_t hamf_predictor_nfeatures(const hamf_predictor *p) { return p ? p->m->bins.nf : 0; }

const char *hamf_predictor_feature_name(const hamf_predictor *p, size_t f)
{
    return p && f < p->m->bins.nf ? p->m->bins.f[f].name : NULL;
}

int hamf_predictor_feature_is_categorical(const hamf_predictor *p, size_t f)
{
    return p && f < p->m->bins.nf && p->m->bins.f[f].is_cat;
}

hamf_status hamf_predictor_feature_index(const hamf_predictor *p, const char *name, size_t *f)
{
    if (!p || !name || !f) return hamf__err(HAMF_ERR_MISUSE, "predictor: NULL argument");
    for (size_t k = 0; k < p->m->bins.nf; k++)
        if (!strcmp(p->m->bins.f[k].name, name)) { *f = k; return HAMF_OK; }
    return hamf__err(HAMF_ERR_NOTFOUND, "predictor: the model has no feature '%s'", name);
}

const hamf_ensemble *hamf_predictor_ensemble(const hamf_predictor *p)
{
    if (!p) return NULL;
    struct hamf_ensemble *full = atomic_load_explicit(&p->full, memory_order_acquire);
    if (full) return full;
    /* first call on a lightly opened file: the whole model from the same
     * bytes (already checked whole at open, so only memory can fail) */
    struct hamf_predictor *q = (struct hamf_predictor *)p; /* a cache: the model p answers for does not change */
    pthread_mutex_lock(&q->lock);
    full = atomic_load_explicit(&q->full, memory_order_relaxed);
    if (!full && !hamf__model_parse(q->path, q->file.data, q->file.len, &full))
        atomic_store_explicit(&q->full, full, memory_order_release);
    pthread_mutex_unlock(&q->lock);
    return full;
}

hamf_status hamf_predictor_score_row(const hamf_predictor *p, const double *values, const char *const *cats,
                                     double *proba)
{
    if (!p) return hamf__err(HAMF_ERR_MISUSE, "predictor: NULL handle");
    return hamf_ensemble_predict_row(p->m, values, cats, proba);
}

hamf_status hamf_predictor_score_batch(const hamf_predictor *p, size_t n, const double *values,
                                       const char *const *cats, double *proba)
{
    if (!p) return hamf__err(HAMF_ERR_MISUSE, "predictor: NULL handle");
    return hamf__model_predict_rows(p->m, n, values, cats, proba);
}
