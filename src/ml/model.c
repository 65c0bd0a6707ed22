/*
 * model.c — the public face of the learner: training parameters (struct
 * defaults and a JSON form), hamf_ensemble_fit, accessors, and prediction.
 *
 * Prediction bins raw values with the model's bin mapper and walks the trees
 * in bin space. Shallow trees (depth <= 8, the GB case) are packed into a
 * "fast" form: each tree padded to a complete binary tree whose internal
 * nodes hold a feature and a 256-bit "goes right" set over that feature's
 * bins, so a row descends with d = 2d+1+bit and no branches; rows are scored
 * in blocks of 64 against one tree at a time so the tree stays in L1. Deep
 * trees (random forest) are walked node by node.
 */
#include "ml.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void hamf_train_params_init(hamf_train_params *p, hamf_algorithm algo)
{
    memset(p, 0, sizeof *p);
    p->algorithm = algo == HAMF_ALGO_RANDOM_FOREST ? HAMF_ALGO_RANDOM_FOREST : HAMF_ALGO_GRADIENT_BOOSTING;
    p->n_estimators = 100;
    p->learning_rate = 0.1;
    p->max_depth = p->algorithm == HAMF_ALGO_RANDOM_FOREST ? 0 : 3;
    p->max_leaves = 0;
    p->min_samples_leaf = 1;
    p->min_child_weight = 1e-3;
    p->l2 = 1.0;
    p->subsample = 1.0;
    p->colsample = 1.0;
    p->max_features = 0;
    p->bootstrap = 1;
    p->validation_fraction = 0;
    p->n_iter_no_change = 10;
    p->max_bins = 255;
    p->seed = 42;
    p->threads = 0;
}

/* ---- tiny JSON object reader for parameters ---- */

static const char *skip_ws(const char *s)
{
    while (*s && isspace((unsigned char)*s)) s++;
    return s;
}

hamf_status hamf_train_params_parse_json(hamf_train_params *p, const char *json)
{
    if (!p || !json) return hamf__err(HAMF_ERR_MISUSE, "params: NULL argument");
    hamf_train_params q = *p;
    const char *s = skip_ws(json);
    if (*s != '{') return hamf__err(HAMF_ERR_PARSE, "params: col %d: expected '{'", (int)(s - json) + 1);
    s = skip_ws(s + 1);
    if (*s == '}') { *p = q; return HAMF_OK; }
    for (;;) {
        if (*s != '"') return hamf__err(HAMF_ERR_PARSE, "params: col %d: expected a key", (int)(s - json) + 1);
        const char *k0 = ++s;
        while (*s && *s != '"') s++;
        if (!*s) return hamf__err(HAMF_ERR_PARSE, "params: unterminated key");
        size_t klen = (size_t)(s - k0);
        char key[64];
        if (klen >= sizeof key) return hamf__err(HAMF_ERR_PARSE, "params: key too long");
        memcpy(key, k0, klen);
        key[klen] = 0;
        s = skip_ws(s + 1);
        if (*s != ':') return hamf__err(HAMF_ERR_PARSE, "params: col %d: expected ':'", (int)(s - json) + 1);
        s = skip_ws(s + 1);
        if (*s == '"') {
            const char *v0 = ++s;
            while (*s && *s != '"') s++;
            if (!*s) return hamf__err(HAMF_ERR_PARSE, "params: unterminated string");
            size_t vlen = (size_t)(s - v0);
            s++;
            if (strcmp(key, "algorithm")) return hamf__err(HAMF_ERR_PARSE, "params: key '%s' takes a number", key);
            if (vlen == 17 && !strncmp(v0, "gradient-boosting", 17)) q.algorithm = HAMF_ALGO_GRADIENT_BOOSTING;
            else if (vlen == 13 && !strncmp(v0, "random-forest", 13)) q.algorithm = HAMF_ALGO_RANDOM_FOREST;
            else return hamf__err(HAMF_ERR_CONSTRAINT, "params: unknown algorithm '%.*s'", (int)vlen, v0);
        } else {
            char *end;
            double v = strtod(s, &end);
            if (end == s || !isfinite(v)) return hamf__err(HAMF_ERR_PARSE, "params: key '%s': expected a number", key);
            s = end;
            struct { const char *k; int *i; double *d; } keys[] = {
                {"n_estimators", &q.n_estimators, NULL}, {"learning_rate", NULL, &q.learning_rate},
                {"max_depth", &q.max_depth, NULL}, {"max_leaves", &q.max_leaves, NULL},
                {"min_samples_leaf", &q.min_samples_leaf, NULL}, {"min_child_weight", NULL, &q.min_child_weight},
                {"l2", NULL, &q.l2}, {"subsample", NULL, &q.subsample}, {"colsample", NULL, &q.colsample},
                {"max_features", NULL, &q.max_features}, {"bootstrap", &q.bootstrap, NULL},
                {"validation_fraction", NULL, &q.validation_fraction},
                {"n_iter_no_change", &q.n_iter_no_change, NULL}, {"max_bins", &q.max_bins, NULL},
                {"threads", &q.threads, NULL},
            };
            size_t ki = 0;
            while (ki < HAMF_ARRAY_LEN(keys) && strcmp(keys[ki].k, key)) ki++;
            if (ki < HAMF_ARRAY_LEN(keys)) {
                if (keys[ki].d) *keys[ki].d = v;
                else if (v != floor(v) || fabs(v) > 2e9)
                    return hamf__err(HAMF_ERR_CONSTRAINT, "params: %s must be an integer", key);
                else *keys[ki].i = (int)v;
            } else if (!strcmp(key, "seed")) {
                if (v < 0 || v != floor(v)) return hamf__err(HAMF_ERR_CONSTRAINT, "params: seed must be a non-negative integer");
                q.seed = (uint64_t)v;
            } else return hamf__err(HAMF_ERR_PARSE, "params: unknown key '%s'", key);
        }
        s = skip_ws(s);
        if (*s == ',') { s = skip_ws(s + 1); continue; }
        if (*s == '}') break;
        return hamf__err(HAMF_ERR_PARSE, "params: col %d: expected ',' or '}'", (int)(s - json) + 1);
    }
    if (*skip_ws(s + 1)) return hamf__err(HAMF_ERR_PARSE, "params: trailing text after '}'");
    *p = q;
    return HAMF_OK;
}

static hamf_status check_params(const hamf_train_params *p)
{
    if (p->algorithm != HAMF_ALGO_GRADIENT_BOOSTING && p->algorithm != HAMF_ALGO_RANDOM_FOREST)
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: unknown algorithm %d", (int)p->algorithm);
    if (p->n_estimators <= 0 || p->n_estimators > 1000000)
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: n_estimators must be in 1..1000000, got %d", p->n_estimators);
    if (!(p->learning_rate > 0 && p->learning_rate <= 10))
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: learning_rate must be in (0, 10], got %g", p->learning_rate);
    if (p->max_depth < 0 || p->max_depth > 64)
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: max_depth must be in 0..64, got %d", p->max_depth);
    if (p->max_leaves < 0 || p->max_leaves == 1)
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: max_leaves must be 0 or >= 2, got %d", p->max_leaves);
    if (p->algorithm == HAMF_ALGO_GRADIENT_BOOSTING && p->max_depth == 0 && p->max_leaves == 0)
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: gradient boosting needs max_depth or max_leaves");
    if (!(p->subsample > 0 && p->subsample <= 1))
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: subsample must be in (0, 1], got %g", p->subsample);
    if (!(p->colsample > 0 && p->colsample <= 1))
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: colsample must be in (0, 1], got %g", p->colsample);
    if (!(p->max_features >= 0 && p->max_features <= 1))
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: max_features must be in [0, 1] (0 = sqrt), got %g", p->max_features);
    if (!(p->validation_fraction >= 0 && p->validation_fraction < 1))
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: validation_fraction must be in [0, 1), got %g", p->validation_fraction);
    if (!(p->l2 >= 0) || !(p->min_child_weight >= 0) || p->min_samples_leaf < 0)
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: l2, min_child_weight and min_samples_leaf must be >= 0");
    if (p->max_bins < 2 || p->max_bins > 255)
        return hamf__err(HAMF_ERR_CONSTRAINT, "train: max_bins must be in 2..255, got %d", p->max_bins);
    return HAMF_OK;
}

static char *params_json(const hamf_train_params *p)
{
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf__buf_printf(&b, "{\"algorithm\":\"%s\",\"n_estimators\":%d",
                     p->algorithm == HAMF_ALGO_RANDOM_FOREST ? "random-forest" : "gradient-boosting",
                     p->n_estimators);
#define NUM(k, v) do { hamf__buf_puts(&b, ",\"" k "\":"); hamf__json_num(&b, (double)(v)); } while (0)
    if (p->algorithm == HAMF_ALGO_GRADIENT_BOOSTING) {
        NUM("learning_rate", p->learning_rate);
        NUM("max_depth", p->max_depth);
        NUM("max_leaves", p->max_leaves);
        NUM("min_child_weight", p->min_child_weight);
        NUM("l2", p->l2);
        NUM("subsample", p->subsample);
        NUM("colsample", p->colsample);
        NUM("validation_fraction", p->validation_fraction);
        NUM("n_iter_no_change", p->n_iter_no_change);
    } else {
        NUM("max_depth", p->max_depth);
        NUM("min_samples_leaf", p->min_samples_leaf);
        NUM("max_features", p->max_features);
        NUM("bootstrap", p->bootstrap);
    }
    NUM("max_bins", p->max_bins);
    NUM("seed", (double)p->seed);
#undef NUM
    hamf__buf_putc(&b, '}');
    return hamf__buf_detach(&b, NULL);
}

/* ---- model ---- */

static struct hamf_ensemble *model_alloc(void)
{
    struct hamf_ensemble *m = hamf__calloc(1, sizeof *m);
    if (m) m->oob_accuracy = NAN;
    return m;
}

void hamf_ensemble_free(hamf_ensemble *m)
{
    if (!m) return;
    hamf__model_drop_fast(m);
    hamf__binmap_clear(&m->bins);
    for (size_t t = 0; t < m->n_trees; t++) hamf__tree_clear(&m->trees[t]);
    hamf__free(m->trees);
    hamf__free(m->target);
    hamf__free(m->pipeline);
    hamf__free(m->params_json);
    hamf__free(m->train_loss);
    hamf__free(m->valid_loss);
    hamf__free(m->cover);
    hamf__free(m);
}

hamf_status hamf__model_prepare(struct hamf_ensemble *m);

hamf_status hamf_ensemble_fit(const hamf_dataset *d, const hamf_train_params *p, hamf_ensemble **out)
{
    if (!d || !p || !out) return hamf__err(HAMF_ERR_MISUSE, "train: NULL argument");
    hamf_status st = check_params(p);
    if (st) return st;
    if (!d->y) return hamf__err(HAMF_ERR_MISUSE, "train: the dataset has no label");
    if (d->n == 0) return hamf__err(HAMF_ERR_CONSTRAINT, "train: empty training set");
    if (d->ncols == 0) return hamf__err(HAMF_ERR_SCHEMA, "train: the dataset has no feature columns");
    if (d->n > UINT32_MAX - 1) return hamf__err(HAMF_ERR_CONSTRAINT, "train: too many rows (%zu)", d->n);
    struct hamf_ensemble *m = model_alloc();
    if (!m) return hamf__err(HAMF_ERR_NOMEM, "train: out of memory");
    m->algorithm = p->algorithm;
    m->target = hamf__strdup(d->target ? d->target : "");
    m->params_json = params_json(p);
    if (!m->target || !m->params_json) { st = hamf__err(HAMF_ERR_NOMEM, "train: out of memory"); goto fail; }
    st = p->algorithm == HAMF_ALGO_RANDOM_FOREST ? hamf__forest_fit(d, p, m) : hamf__gbdt_fit(d, p, m);
    if (st) goto fail;
    if ((st = hamf__model_prepare(m))) goto fail;
    /* GB on every training row brings its covers from the learner */
    if (!m->cover && (st = hamf__shap_fill_covers(m, d, p->threads))) goto fail;
    *out = m;
    return HAMF_OK;
fail:
    hamf_ensemble_free(m);
    return st;
}

hamf_algorithm hamf_ensemble_algorithm(const hamf_ensemble *m) { return m ? m->algorithm : HAMF_ALGO_GRADIENT_BOOSTING; }
size_t hamf_ensemble_ntrees(const hamf_ensemble *m) { return m ? m->n_trees : 0; }
size_t hamf_ensemble_nfeatures(const hamf_ensemble *m) { return m ? m->bins.nf : 0; }
const char *hamf_ensemble_feature_name(const hamf_ensemble *m, size_t f)
{
    return m && f < m->bins.nf ? m->bins.f[f].name : NULL;
}
int hamf_ensemble_feature_is_categorical(const hamf_ensemble *m, size_t f)
{
    return m && f < m->bins.nf && m->bins.f[f].is_cat;
}
const char *hamf_ensemble_target(const hamf_ensemble *m) { return m && m->target ? m->target : ""; }
const char *hamf_ensemble_pipeline(const hamf_ensemble *m) { return m ? m->pipeline : NULL; }
const char *hamf_ensemble_params_json(const hamf_ensemble *m) { return m && m->params_json ? m->params_json : "{}"; }
double hamf_ensemble_oob_accuracy(const hamf_ensemble *m) { return m ? m->oob_accuracy : NAN; }

hamf_status hamf_ensemble_set_pipeline(hamf_ensemble *m, const char *spec_text)
{
    if (!m) return hamf__err(HAMF_ERR_MISUSE, "model: NULL handle");
    char *s = NULL;
    if (spec_text && !(s = hamf__strdup(spec_text))) return hamf__err(HAMF_ERR_NOMEM, "model: out of memory");
    hamf__free(m->pipeline);
    m->pipeline = s;
    return HAMF_OK;
}

void hamf_ensemble_loss_history(const hamf_ensemble *m, size_t *n, const double **train, const double **valid)
{
    *n = m ? m->n_iter : 0;
    *train = m ? m->train_loss : NULL;
    *valid = m ? m->valid_loss : NULL;
}

hamf_status hamf_ensemble_importance(const hamf_ensemble *m, double *gain)
{
    if (!m || !gain) return hamf__err(HAMF_ERR_MISUSE, "model: NULL argument");
    for (size_t f = 0; f < m->bins.nf; f++) gain[f] = 0;
    for (size_t t = 0; t < m->n_trees; t++)
        for (uint32_t k = 0; k < m->trees[t].n_nodes; k++) {
            const struct hamf__node *nd = &m->trees[t].nodes[k];
            if (nd->left >= 0 && nd->feat < m->bins.nf) gain[nd->feat] += nd->gain;
        }
    return HAMF_OK;
}

