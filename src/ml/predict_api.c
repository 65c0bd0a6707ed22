/*
 * predict_api.c — hamf_predictor: the embeddable scoring handle of hamf.h.
 * A predictor owns one prepared ensemble and only reads it, so any number
 * of threads may score through it at once; the scoring paths (predict.c)
 * bin rows on the stack and allocate nothing.
 */
#include "ml.h"

#include <string.h>

struct hamf_predictor {
    struct hamf_ensemble *m;
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
    *out = p;
    return HAMF_OK;
}

hamf_status hamf_predictor_open(const char *path, hamf_predictor **out)
{
    if (!path || !out) return hamf__err(HAMF_ERR_MISUSE, "predictor: NULL argument");
    hamf_ensemble *m;
    hamf_status st = hamf_ensemble_load(path, &m);
    if (st) return st;
    return hamf_predictor_from_ensemble(m, out);
}

void hamf_predictor_close(hamf_predictor *p)
{
    if (!p) return;
    hamf_ensemble_free(p->m);
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

const hamf_ensemble *hamf_predictor_ensemble(const hamf_predictor *p) { return p ? p->m : NULL; }

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
