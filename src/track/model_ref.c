/*
 * model_ref.c — one resolver for every place hamf takes a model
 * (predict, evaluate, importance, drift, retrain): a file path, or an
 * MLflow model URI against the registry in the store:
 *
 *   models:/NAME/VERSION   that version (a positive integer)
 *   models:/NAME/STAGE     the newest version in None|Staging|Production|Archived
 *   models:/NAME/latest    the newest version
 *   models:/NAME@ALIAS     the version the alias points at (champion, ...)
 *   runs:/RUN_ID/PATH      the newest registered version made by that run,
 *                          else the run's logged model folder PATH
 *
 * A registered version is loaded from the registry's own content-addressed
 * copy, after checking that its bytes still hash to the recorded digest.
 */
#include "track/loop.h"

#include "store/model_registry.h"
#include "store/tracking.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

hamf_status hamf__loop_version_load(const struct hamf__loop_version *v, hamf_ensemble **out)
{
    if (v->digest[0]) {
        hamf_status s = hamf__mreg_blob_verify(v->model_name, v->version, v->artifact, v->digest);
        if (s) return s;
    }
    return hamf_ensemble_load(v->artifact, out);
}

static hamf_status bad_ref(const char *ref, const char *why)
{
    return hamf__err(HAMF_ERR_PARSE, "model: '%s': %s", ref, why);
}

/* The newest live version of `name` with `run_id`, or of a stage, or any. */
static hamf_status newest(hamf_store *s, const char *sql, const char *a, const char *b, int64_t *v, bool *found)
{
    return b ? hamf__db_query_i64(hamf__store_db(s), found, v, sql, "tt", a, b)
             : hamf__db_query_i64(hamf__store_db(s), found, v, sql, "t", a);
}

#define LIVE " AND (current_stage IS NULL OR current_stage <> 'Deleted_Internal')"

hamf_status hamf__model_ref_resolve(const char *ref, const char *db_url, struct hamf__loop_version *out,
                                    char **file)
{
    *file = NULL;
    memset(out, 0, sizeof *out);
    if (!ref || !*ref) return hamf__err(HAMF_ERR_MISUSE, "model: no model given");
    bool models = !strncmp(ref, "models:/", 8), runs = !strncmp(ref, "runs:/", 6);
    if (!models && !runs) return hamf__model_ref_resolve_store(NULL, ref, out, file);
    hamf_store *s = NULL;
    hamf_status st = hamf__model_ref_open(ref, db_url, &s);
    if (st) return st;
    st = hamf__model_ref_resolve_store(s, ref, out, file);
    hamf_store_close(s);
    return st;
}

hamf_status hamf__model_ref_open(const char *ref, const char *db_url, hamf_store **out)
{
    /* a registry reference never creates a store */
    if (strncmp(db_url, "postgres", 8)) {
        const char *f = !strncmp(db_url, "sqlite://", 9) ? db_url + 9 : db_url;
        struct stat sb;
        if (stat(f, &sb))
            return hamf__err(HAMF_ERR_NOTFOUND, "model: '%s' names a registered model but there is no store at %s "
                                                "(give --db or set HAMF_DB)",
                             ref, db_url);
    }
    hamf_status st = hamf__loop_open(db_url, out);
    if (st) return hamf__err_prefix(st, "model: '%s' needs the registry", ref);
    return HAMF_OK;
}

hamf_status hamf__model_ref_resolve_store(hamf_store *s, const char *ref, struct hamf__loop_version *out, char **file)
{
    *file = NULL;
    memset(out, 0, sizeof *out);
    if (!ref || !*ref) return hamf__err(HAMF_ERR_MISUSE, "model: no model given");
    bool models = !strncmp(ref, "models:/", 8), runs = !strncmp(ref, "runs:/", 6);
    if (!models && !runs) {
        if (!(*file = hamf__strdup(ref))) return hamf__err(HAMF_ERR_NOMEM, "model: out of memory");
        return HAMF_OK;
    }
    if (!s) return hamf__err(HAMF_ERR_MISUSE, "model: '%s' needs the registry (no store)", ref);
    hamf_status st = HAMF_OK;
    char *name = NULL, *sel = NULL;
    int64_t version = 0;
    bool found = false;
    if (models) {
        const char *p = ref + 8, *at = strchr(p, '@'), *slash = strchr(p, '/');
        if (at && (!slash || at < slash)) {
            name = hamf__strndup(p, (size_t)(at - p));
            sel = hamf__strdup(at + 1);
        } else if (slash) {
            name = hamf__strndup(p, (size_t)(slash - p));
            sel = hamf__strdup(slash + 1);
        } else {
            st = bad_ref(ref, "expected models:/NAME/VERSION, models:/NAME/STAGE or models:/NAME@ALIAS");
            goto out;
        }
        if (!name || !sel) {
            st = hamf__err(HAMF_ERR_NOMEM, "model: out of memory");
            goto out;
        }
        if (!*name || !*sel || strchr(sel, '/')) {
            st = bad_ref(ref, "expected models:/NAME/VERSION, models:/NAME/STAGE or models:/NAME@ALIAS");
            goto out;
        }
        if (at && (!slash || at < slash)) {
            if ((st = hamf__db_query_i64(hamf__store_db(s), &found, &version,
                                         "SELECT version FROM model_aliases WHERE model_name = ? AND alias = ?", "tt",
                                         name, sel)))
                goto out;
            if (!found) {
                st = hamf__err(HAMF_ERR_NOTFOUND, "model: '%s': model '%s' has no alias '%s'", ref, name, sel);
                goto out;
            }
        } else if (hamf__parse_i64(sel, strlen(sel), &version)) {
            if (version <= 0) {
                st = bad_ref(ref, "a version is a positive integer");
                goto out;
            }
            found = true;
        } else if (!strcasecmp(sel, "latest")) {
            if ((st = newest(s, "SELECT MAX(version) FROM model_versions WHERE model_name = ?" LIVE, name, NULL,
                             &version, &found)))
                goto out;
        } else {
            static const char *const stages[] = {"None", "Staging", "Production", "Archived"};
            const char *stage = NULL;
            for (size_t i = 0; i < 4; i++)
                if (!strcasecmp(sel, stages[i])) stage = stages[i];
            if (!stage) {
                st = bad_ref(ref, "the part after the name is a version number, a stage (None, Staging, Production, "
                                  "Archived), 'latest', or '@alias'");
                goto out;
            }
            if ((st = newest(s, "SELECT MAX(version) FROM model_versions WHERE model_name = ? AND"
                                " COALESCE(current_stage, 'None') = ?" LIVE,
                             name, stage, &version, &found)))
                goto out;
        }
        if (!found) {
            st = hamf__err(HAMF_ERR_NOTFOUND, "model: '%s': model '%s' has no such version", ref, name);
            goto out;
        }
        st = hamf__loop_version_get(s, name, version, out);
        if (st) st = hamf__err_prefix(st, "model: '%s'", ref);
        goto out;
    }
    /* runs:/RUN_ID/PATH */
    const char *p = ref + 6;
    while (*p == '/') p++;
    const char *slash = strchr(p, '/');
    char *run = slash ? hamf__strndup(p, (size_t)(slash - p)) : hamf__strdup(p);
    const char *path = slash ? slash + 1 : "";
    if (!run || !*run || !*path || strstr(path, "..")) {
        hamf__free(run);
        st = bad_ref(ref, "expected runs:/RUN_ID/PATH (e.g. runs:/<run id>/model)");
        goto out;
    }
    char *vname = NULL;
    {
        struct hamf__stmt *q = NULL;
        if (!(st = hamf__db_prepf(hamf__store_db(s), &q,
                                  "SELECT model_name, version FROM model_versions WHERE run_id = ?" LIVE
                                  " ORDER BY creation_time DESC, version DESC LIMIT 1",
                                  "t", run))) {
            bool row = false;
            if (!(st = hamf__db_step(q, &row)) && row) {
                vname = hamf__strdup(hamf__db_col_text(q, 0));
                version = hamf__db_col_i64(q, 1);
                found = vname != NULL;
            }
            hamf__db_finalize(q);
        }
    }
    if (!st && found) {
        st = hamf__loop_version_get(s, vname, version, out);
        if (st) st = hamf__err_prefix(st, "model: '%s'", ref);
    } else if (!st) {
        /* not registered: the model folder the run logged */
        struct hamf__trk *t = NULL;
        char *uri = NULL;
        if (!(st = hamf__trk_open_store(s, &t)) && !(st = hamf__trk_run_artifact_uri(t, run, &uri))) {
            char *dir = NULL;
            if (!strncmp(uri, "mlflow-artifacts:", 17)) {
                const char *rel = uri + 17;
                while (*rel == '/') rel++;
                dir = hamf__asprintf("%s/%s/%s", hamf__mreg_store_root(), rel, path);
            } else if (!strncmp(uri, "file://", 7)) {
                dir = hamf__asprintf("%s/%s", uri + 7, path);
            } else if (uri[0] == '/') {
                dir = hamf__asprintf("%s/%s", uri, path);
            } else {
                st = hamf__err(HAMF_ERR_UNSUPPORTED, "model: '%s': the run's artifacts (%s) are not on this machine",
                               ref, uri);
            }
            struct stat sb;
            if (dir && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)) {
                *file = hamf__asprintf("%s/model.hamf", dir);
                hamf__free(dir);
            } else if (dir) {
                *file = dir;
            } else if (!st) {
                st = hamf__err(HAMF_ERR_NOMEM, "model: out of memory");
            }
        } else {
            st = hamf__err_prefix(st, "model: '%s'", ref);
        }
        hamf__free(uri);
        hamf__trk_close(t);
    }
    hamf__free(vname);
    hamf__free(run);
out:
    hamf__free(name);
    hamf__free(sel);
    return st;
}

hamf_status hamf_model_load(const char *ref, const char *db_url, hamf_ensemble **out, hamf_model_info *info)
{
    struct hamf__loop_version v;
    char *file = NULL;
    hamf_status st = hamf__model_ref_resolve(ref, db_url ? db_url : "./hamf.db", &v, &file);
    if (st) return st;
    hamf_ensemble *m = NULL;
    st = file ? hamf_ensemble_load(file, &m) : hamf__loop_version_load(&v, &m);
    if (!st && info) {
        memset(info, 0, sizeof *info);
        snprintf(info->name, sizeof info->name, "%s", file ? "" : v.model_name);
        info->version = file ? 0 : v.version;
        snprintf(info->path, sizeof info->path, "%s", file ? file : v.artifact);
        snprintf(info->digest, sizeof info->digest, "%s", file ? "" : v.digest);
    }
    hamf__free(file);
    if (st) return st;
    *out = m;
    return HAMF_OK;
}
