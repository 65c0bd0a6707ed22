/*
 * loop_api.c — the public face (hamf.h, "Tracking, runs, registry versions
 * and aliases, drift, retrain, workflow") of the closed loop's registry
 * and drift: thin wrappers over store/loop.h (versions, aliases,
 * promotions, drift reports), ml/drift.h (PSI) and model_ref.c (model
 * references), all on the caller's one store handle.
 */
#include "track/loop.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

hamf_status hamf_registry_open(const char *url, hamf_store **out)
{
    if (!url || !out) return hamf__err(HAMF_ERR_MISUSE, "registry: NULL argument");
    return hamf__loop_open(url, out);
}

/* ---- versions and aliases ---- */

struct hamf_model_versions {
    size_t n;
    struct hamf__loop_version *v;
    char (*aliases)[512]; /* every alias on v[i], comma-separated */
};

hamf_status hamf_registry_versions(hamf_store *s, const char *name, hamf_model_versions **out)
{
    if (!s || !name || !out) return hamf__err(HAMF_ERR_MISUSE, "model versions: NULL argument");
    hamf_model_versions *l = hamf__calloc(1, sizeof *l);
    if (!l) return hamf__err(HAMF_ERR_NOMEM, "model versions: out of memory");
    hamf_status st = hamf__loop_versions(s, name, &l->v, &l->n);
    if (!st && !(l->aliases = hamf__calloc(l->n ? l->n : 1, sizeof *l->aliases)))
        st = hamf__err(HAMF_ERR_NOMEM, "model versions: out of memory");
    for (size_t i = 0; !st && i < l->n; i++)
        st = hamf__loop_version_aliases(s, name, l->v[i].version, l->aliases[i], sizeof l->aliases[i]);
    if (st) {
        hamf_model_versions_free(l);
        return st;
    }
    *out = l;
    return HAMF_OK;
}

size_t hamf_model_versions_count(const hamf_model_versions *l) { return l ? l->n : 0; }

static const struct hamf__loop_version *at(const hamf_model_versions *l, size_t i)
{
    return l && i < l->n ? &l->v[i] : NULL;
}

int64_t hamf_model_versions_version(const hamf_model_versions *l, size_t i) { return at(l, i) ? at(l, i)->version : 0; }
int64_t hamf_model_versions_model_id(const hamf_model_versions *l, size_t i) { return at(l, i) ? at(l, i)->model_id : 0; }
const char *hamf_model_versions_aliases(const hamf_model_versions *l, size_t i) { return at(l, i) ? l->aliases[i] : ""; }
const char *hamf_model_versions_run_id(const hamf_model_versions *l, size_t i) { return at(l, i) ? at(l, i)->run_id : ""; }
const char *hamf_model_versions_source(const hamf_model_versions *l, size_t i) { return at(l, i) ? at(l, i)->source : ""; }
const char *hamf_model_versions_created_at(const hamf_model_versions *l, size_t i)
{
    return at(l, i) ? at(l, i)->created_at : "";
}
const char *hamf_model_versions_digest(const hamf_model_versions *l, size_t i) { return at(l, i) ? at(l, i)->digest : ""; }
const char *hamf_model_versions_artifact(const hamf_model_versions *l, size_t i)
{
    return at(l, i) ? at(l, i)->artifact : "";
}

void hamf_model_versions_free(hamf_model_versions *l)
{
    if (!l) return;
    hamf__free(l->v);
    hamf__free(l->aliases);
    hamf__free(l);
}

hamf_status hamf_registry_versions_json(hamf_store *s, const char *name, char **out)
{
    if (!s || !name || !out) return hamf__err(HAMF_ERR_MISUSE, "model versions: NULL argument");
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_status st = hamf__loop_versions_json(s, name, &b);
    char *d = st ? NULL : hamf__buf_detach(&b, NULL);
    hamf__buf_free(&b);
    if (st) return st;
    if (!d) return hamf__err(HAMF_ERR_NOMEM, "model versions: out of memory");
    *out = d;
    return HAMF_OK;
}

hamf_status hamf_registry_promote(hamf_store *s, const char *name, int64_t version, const char *reason)
{
    if (!s || !name) return hamf__err(HAMF_ERR_MISUSE, "model promote: NULL argument");
    return hamf__loop_promote(s, name, version, reason ? reason : "");
}

hamf_status hamf_registry_rollback(hamf_store *s, const char *name, int64_t *version)
{
    if (!s || !name) return hamf__err(HAMF_ERR_MISUSE, "model rollback: NULL argument");
    int64_t v = 0;
    hamf_status st = hamf__loop_rollback(s, name, &v);
    if (!st && version) *version = v;
    return st;
}

/* ---- drift ---- */

struct hamf_drift_report {
    struct hamf__drift_report r;
};

hamf_status hamf_drift_check(hamf_store *s, const char *model, const char *data_path, int record,
                             hamf_drift_report **out)
{
    if (!s || !model || !data_path || !out) return hamf__err(HAMF_ERR_MISUSE, "drift: NULL argument");
    hamf_drift_report *dr = hamf__calloc(1, sizeof *dr);
    if (!dr) return hamf__err(HAMF_ERR_NOMEM, "drift: out of memory");
    hamf_ensemble *m = NULL;
    hamf_dataset *d = NULL;
    char *bins = NULL, *file = NULL;
    struct hamf__loop_version v;
    hamf_status st;
    /* NAME (its champion) or a models:/ / runs:/ URI naming a registered version */
    if (!strncmp(model, "models:/", 8) || !strncmp(model, "runs:/", 6)) {
        st = hamf__model_ref_resolve_store(s, model, &v, &file);
        if (!st && file) st = hamf__err(HAMF_ERR_NOTFOUND, "drift: '%s' is not a registered version", model);
        if (!st) model = v.model_name;
    } else {
        st = hamf__loop_version_get(s, model, 0, &v);
    }
    if (!st) st = hamf__loop_version_bins(s, model, v.version, &bins);
    if (!st) st = hamf__loop_version_load(&v, &m);
    if (!st) st = hamf__drift_load_data(data_path, m, false, &d);
    if (!st) st = hamf__drift_compute(m, bins, d, &dr->r);
    if (!st) {
        snprintf(dr->r.model_name, sizeof dr->r.model_name, "%s", model);
        dr->r.version = v.version;
        if (record) st = hamf__loop_drift_record(s, &dr->r, data_path);
    }
    hamf__free(file);
    hamf__free(bins);
    hamf_dataset_free(d);
    hamf_ensemble_free(m);
    if (st) {
        hamf_drift_report_free(dr);
        return st;
    }
    *out = dr;
    return HAMF_OK;
}

const char *hamf_drift_report_model(const hamf_drift_report *r) { return r ? r->r.model_name : ""; }
int64_t hamf_drift_report_version(const hamf_drift_report *r) { return r ? r->r.version : 0; }
size_t hamf_drift_report_rows(const hamf_drift_report *r) { return r ? r->r.n_rows : 0; }
size_t hamf_drift_report_nfeatures(const hamf_drift_report *r) { return r ? r->r.nf : 0; }

const char *hamf_drift_report_feature(const hamf_drift_report *r, size_t i)
{
    return r && i < r->r.nf ? r->r.f[i].name : "";
}

int hamf_drift_report_feature_is_categorical(const hamf_drift_report *r, size_t i)
{
    return r && i < r->r.nf && r->r.f[i].is_cat;
}

double hamf_drift_report_psi(const hamf_drift_report *r, size_t i)
{
    return r && i < r->r.nf ? r->r.f[i].psi : NAN;
}

int hamf_drift_report_metrics(const hamf_drift_report *r, hamf_metrics *m)
{
    if (!r || !r->r.has_labels) return 0;
    if (m) *m = r->r.metrics;
    return 1;
}

void hamf_drift_report_free(hamf_drift_report *r)
{
    if (!r) return;
    hamf__drift_report_free(&r->r);
    hamf__free(r);
}
