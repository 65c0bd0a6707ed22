/*
 * registry_api.c — MLflow's Model Registry REST API 2.0 under
 * /api/2.0/mlflow/registered-models/... and /model-versions/... (methods,
 * fields, JSON and errors as MLflow 2.12 serves them), on the store of
 * src/store/model_registry.c. Fields come from the JSON body (POST, PATCH,
 * DELETE) or the query string (GET), through one accessor; type errors use
 * MLflow's schema-validation wording. Each worker thread keeps its own
 * store connection.
 */
#include "server/api.h"
#include "server/api_args.h"
#include "server/registry_api.h"

#include "store/model_registry.h"
#include "store/tracking.h"
#include "store/loop.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- per-thread store ---- */

static pthread_key_t reg_key;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;

static void reg_destroy(void *p)
{
    hamf_store_close(p);
}

static void reg_key_init(void)
{
    (void)pthread_key_create(&reg_key, reg_destroy);
}

hamf_status hamf__registry_open(const char *url, hamf_store **out)
{
    return hamf__loop_open(url, out); /* the loop and model-registry tables */
}

static hamf_store *get_store(void *ctx, struct hamf__http_resp *resp)
{
    pthread_once(&reg_once, reg_key_init);
    hamf_store *s = pthread_getspecific(reg_key);
    if (s) return s;
    const struct hamf__server_ctx *c = ctx;
    if (hamf__registry_open(c->db_url, &s)) {
        hamf__api_error(resp, 503, "TEMPORARILY_UNAVAILABLE", "%s", hamf_last_error());
        return NULL;
    }
    pthread_setspecific(reg_key, s);
    return s;
}

/* ---- request fields (api_args.c, the registry API's style) ---- */

/* A required string: absent or "" is MLflow's missing-value error. */
static int need_str(struct hamf__args *a, const char *name, const char **out)
{
    return hamf__arg_required(a, name, true, out);
}

/* The version: a string, or a number (MLflow's proto parsing accepts both). */
static int need_version(struct hamf__args *a, const char **out, char buf[32])
{
    if (a->obj) {
        const struct hamf__jval *v = hamf__jobj_get(a->obj, "version");
        if (v && v->type == HAMF__JNUM && v->is_int) {
            snprintf(buf, 32, "%lld", (long long)v->i);
            *out = buf;
            return 1;
        }
    }
    return need_str(a, "version", out);
}

/* tags: [{"key": .., "value": ..}] (JSON bodies only). */
static int get_tags(struct hamf__args *a, struct hamf__mreg_kv **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!a->obj) return 0;
    const struct hamf__jval *arr = hamf__jobj_get(a->obj, "tags");
    if (!arr || arr->type == HAMF__JNULL) return 0;
    if (arr->type != HAMF__JARR) {
        hamf__args_bad(a, "tags", arr);
        return -1;
    }
    if (!arr->len) return 0;
    struct hamf__mreg_kv *kv = hamf__calloc(arr->len, sizeof *kv);
    if (!kv) {
        hamf__api_error(a->resp, 503, "TEMPORARILY_UNAVAILABLE", "out of memory");
        return -1;
    }
    if (!hamf__args_keep(a, kv)) return -1;
    for (size_t i = 0; i < arr->len; i++) {
        const struct hamf__jval *k = hamf__jobj_get(&arr->items[i], "key");
        const struct hamf__jval *v = hamf__jobj_get(&arr->items[i], "value");
        if (!k || k->type != HAMF__JSTR || (v && v->type != HAMF__JSTR && v->type != HAMF__JNULL)) {
            hamf__args_bad(a, "tags", arr);
            return -1;
        }
        kv[i].key = k->str;
        kv[i].value = v && v->type == HAMF__JSTR ? v->str : NULL;
    }
    *out = kv;
    *n = arr->len;
    return 1;
}

/* Send {prefix store-output suffix} or the error. */
static void finish(struct hamf__http_resp *resp, hamf_status st, bool wrap)
{
    if (st) {
        hamf__api_status_error(resp, st);
        return;
    }
    if (wrap) {
        struct hamf__buf b;
        hamf__buf_init(&b, 0);
        hamf_status s = hamf__buf_putc(&b, '{');
        if (!s) s = hamf__buf_append(&b, resp->body.data ? resp->body.data : "", resp->body.len);
        if (!s) s = hamf__buf_putc(&b, '}');
        if (s) {
            hamf__buf_free(&b);
            hamf__api_error(resp, 503, "TEMPORARILY_UNAVAILABLE", "out of memory");
            return;
        }
        hamf__buf_free(&resp->body);
        resp->body = b;
    }
    if (!resp->body.len) (void)hamf__buf_puts(&resp->body, "{}");
    resp->content_type = "application/json";
}

#define BEGIN()                                                        \
    struct hamf__args a;                                               \
    if (!hamf__args_init(&a, req, resp, HAMF__API_REGISTRY)) goto out; \
    hamf_store *s = get_store(ctx, resp);                              \
    if (!s) goto out;                                                  \
    hamf__buf_reset(&resp->body)

/* ---- registered models ---- */

void hamf__reg_rm_create(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name = NULL, *desc = NULL;
    struct hamf__mreg_kv *tags;
    size_t nt;
    if (need_str(&a, "name", &name) < 0 || get_tags(&a, &tags, &nt) < 0 || hamf__arg_str(&a, "description", &desc) < 0)
        goto out;
    finish(resp, hamf__mreg_rm_create(s, name, tags, nt, desc, &resp->body), false);
out:
    hamf__args_free(&a);
}

void hamf__reg_rm_get(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name;
    if (need_str(&a, "name", &name) < 0) goto out;
    finish(resp, hamf__mreg_rm_get(s, name, &resp->body), false);
out:
    hamf__args_free(&a);
}

void hamf__reg_rm_rename(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name, *nn;
    if (need_str(&a, "name", &name) < 0 || need_str(&a, "new_name", &nn) < 0) goto out;
    finish(resp, hamf__mreg_rm_rename(s, name, nn, &resp->body), false);
out:
    hamf__args_free(&a);
}

void hamf__reg_rm_update(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name, *desc = NULL;
    if (need_str(&a, "name", &name) < 0 || hamf__arg_str(&a, "description", &desc) < 0) goto out;
    finish(resp, hamf__mreg_rm_update(s, name, desc ? desc : "", &resp->body), false);
out:
    hamf__args_free(&a);
}

void hamf__reg_rm_delete(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name;
    if (need_str(&a, "name", &name) < 0) goto out;
    finish(resp, hamf__mreg_rm_delete(s, name), false);
out:
    hamf__args_free(&a);
}

/* registered-models/search and model-versions/search: the same fields;
 * max_results defaults to def_max and may not pass max_max */
typedef hamf_status (*search_fn)(hamf_store *s, const char *filter, int64_t max_results, const char *const *order_by,
                                 size_t n_order, const char *page_token, struct hamf__buf *out);
static void search_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp, search_fn fn,
                         int64_t def_max, int64_t max_max)
{
    BEGIN();
    const char *filter = NULL, *tok = NULL, **order = NULL;
    size_t no = 0;
    int64_t max = def_max;
    if (hamf__arg_str(&a, "filter", &filter) < 0 || hamf__arg_i64(&a, "max_results", &max) < 0 ||
        hamf__arg_list(&a, "order_by", &order, &no) < 0 || hamf__arg_str(&a, "page_token", &tok) < 0)
        goto out;
    if (max > max_max) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE",
                        "Invalid value %lld for parameter 'max_results' supplied. Hint: Value was of type 'int'. See "
                        "the API docs for more information about request parameters.",
                        (long long)max);
        goto out;
    }
    finish(resp, fn(s, filter, max, order, no, tok, &resp->body), true);
out:
    hamf__args_free(&a);
}

void hamf__reg_rm_search(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    search_route(ctx, req, resp, hamf__mreg_rm_search, HAMF__MREG_RM_DEFAULT_RESULTS, HAMF__MREG_RM_MAX_RESULTS);
}

void hamf__reg_rm_latest(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name, **stages = NULL;
    size_t ns = 0;
    if (need_str(&a, "name", &name) < 0 || hamf__arg_list(&a, "stages", &stages, &ns) < 0) goto out;
    finish(resp, hamf__mreg_rm_latest(s, name, stages, ns, &resp->body), true);
out:
    hamf__args_free(&a);
}

void hamf__reg_rm_set_tag(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name, *key, *value = NULL;
    if (need_str(&a, "name", &name) < 0 || need_str(&a, "key", &key) < 0 || hamf__arg_str(&a, "value", &value) < 0)
        goto out;
    finish(resp, hamf__mreg_rm_set_tag(s, name, key, value ? value : ""), false);
out:
    hamf__args_free(&a);
}

void hamf__reg_rm_delete_tag(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name, *key;
    if (need_str(&a, "name", &name) < 0 || need_str(&a, "key", &key) < 0) goto out;
    finish(resp, hamf__mreg_rm_delete_tag(s, name, key), false);
out:
    hamf__args_free(&a);
}

void hamf__reg_alias_set(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name, *alias, *version;
    char vb[32];
    if (need_str(&a, "name", &name) < 0 || need_str(&a, "alias", &alias) < 0 || need_version(&a, &version, vb) < 0)
        goto out;
    finish(resp, hamf__mreg_alias_set(s, name, alias, version), false);
out:
    hamf__args_free(&a);
}

void hamf__reg_alias_delete(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name, *alias;
    if (need_str(&a, "name", &name) < 0 || need_str(&a, "alias", &alias) < 0) goto out;
    finish(resp, hamf__mreg_alias_delete(s, name, alias), false);
out:
    hamf__args_free(&a);
}

void hamf__reg_alias_get(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name, *alias;
    if (need_str(&a, "name", &name) < 0 || need_str(&a, "alias", &alias) < 0) goto out;
    finish(resp, hamf__mreg_mv_by_alias(s, name, alias, &resp->body), false);
out:
    hamf__args_free(&a);
}

/* ---- model version sources (MLflow's _validate_source) ---- */

/* URL scheme length of s ("" -> 0): letters, digits, + - . before ':'. */
static size_t scheme_len(const char *s)
{
    size_t i = 0;
    if (!isalpha((unsigned char)s[0])) return 0;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.') i++;
    return s[i] == ':' ? i : 0;
}

/* Lexically normalize an absolute or relative path in place: collapse
 * '//', drop '.', resolve '..', drop a trailing '/'. */
static void normalize(char *p)
{
    bool abs = *p == '/';
    char *w = p + (abs ? 1 : 0), *start = w, *seg = w;
    while (*seg) {
        char *e = strchr(seg, '/');
        size_t n = e ? (size_t)(e - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.')) {
            /* skip */
        } else if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            if (w > start) {
                w--;
                while (w > start && w[-1] != '/') w--;
                if (w > start) w--;
                if (w > start) *w++ = '/';
            }
        } else {
            if (w > start && w[-1] != '/') *w++ = '/';
            memmove(w, seg, n);
            w += n;
        }
        seg += n + (e ? 1 : 0);
    }
    if (w > start && w[-1] == '/') w--;
    *w = 0;
}

static char *unquote_all(const char *s)
{
    char *cur = hamf__strdup(s);
    for (int i = 0; cur && i < 8; i++) {
        char *n = hamf__http_unescape(cur, strlen(cur), true);
        if (!n) { /* a bad escape or an escaped NUL: refused by the caller */
            hamf__free(cur);
            return NULL;
        }
        bool same = !strcmp(n, cur);
        hamf__free(cur);
        cur = n;
        if (same) break;
    }
    return cur;
}

/* The path part of a URI (after scheme:// and host, or scheme:). */
static const char *uri_path(const char *u)
{
    size_t k = scheme_len(u);
    if (!k) return u;
    const char *p = u + k + 1;
    if (p[0] == '/' && p[1] == '/') {
        p += 2;
        while (*p && *p != '/') p++;
    }
    return p;
}

static bool is_local(const char *src)
{
    size_t k = scheme_len(src);
    if (!k) return true;
    if (k == 4 && !strncasecmp(src, "file", 4)) {
        const char *h = src + 5;
        if (h[0] == '/' && h[1] == '/') {
            h += 2;
            return *h == '/' || !strncmp(h, "localhost", 9) || !strncmp(h, "127.0.0.1", 9) || *h == '.';
        }
        return true;
    }
    return false;
}

/* The local path of a local URI [owned: hamf__free]. */
static char *local_path(const char *u)
{
    const char *p = is_local(u) && scheme_len(u) ? uri_path(u) : u;
    char *r = hamf__http_unescape(p, strlen(p), false);
    return r;
}

static bool source_ok(void *ctx, struct hamf__args *a, const char *source, const char *run_id)
{
    /* file://HOST/... with a remote host: MLflow's is_local_uri raises (500) */
    if (scheme_len(source) == 4 && !strncasecmp(source, "file://", 7) && source[7] && source[7] != '/' &&
        !is_local(source)) {
        hamf__api_error(a->resp, 500, "INTERNAL_ERROR",
                        "%s is not a valid remote uri. For remote access on windows, please consider using a "
                        "different scheme such as SMB (e.g. smb://<hostname>/<path>).",
                        source);
        return false;
    }
    if (is_local(source)) {
        bool ok = false;
        if (run_id && *run_id) {
            const struct hamf__server_ctx *c = ctx;
            struct hamf__trk *t = NULL;
            char *uri = NULL;
            hamf_status st = hamf__trk_open(c->db_url, &t);
            if (!st) st = hamf__trk_run_artifact_uri(t, run_id, &uri);
            hamf__trk_close(t);
            if (st) {
                hamf__api_status_error(a->resp, st);
                return false;
            }
            if (is_local(uri)) {
                char *sp = local_path(source), *rp = local_path(uri);
                if (sp && rp) {
                    normalize(sp);
                    normalize(rp);
                    size_t n = strlen(rp);
                    ok = sp[0] == '/' && !strncmp(sp, rp, n) && (sp[n] == 0 || sp[n] == '/');
                }
                hamf__free(sp);
                hamf__free(rp);
            }
            hamf__free(uri);
        }
        if (!ok)
            hamf__api_error(a->resp, 400, "INVALID_PARAMETER_VALUE",
                            "Invalid model version source: '%s'. To use a local path as a model version source, the "
                            "run_id request parameter has to be specified and the local path has to be contained "
                            "within the artifact directory of the run specified by the run_id.",
                            source);
        return ok;
    }
    /* no relative references in remote sources (after every unquoting) */
    char *u = unquote_all(source);
    bool ok = false;
    if (u) {
        char *path = hamf__strdup(uri_path(u));
        if (path) {
            /* collapse repeated slashes and a trailing slash, as MLflow does before comparing */
            char *w = path;
            for (char *r = path; *r; r++)
                if (!(*r == '/' && w > path && w[-1] == '/')) *w++ = *r;
            *w = 0;
            while (w > path + 1 && w[-1] == '/') *--w = 0;
            char *norm = hamf__strdup(path);
            if (norm) {
                normalize(norm);
                ok = !strcmp(norm, path) || (!*path && !*norm);
                hamf__free(norm);
            }
        }
        hamf__free(path);
        hamf__free(u);
    }
    if (!ok)
        hamf__api_error(a->resp, 400, "INVALID_PARAMETER_VALUE",
                        "Invalid model version source: '%s'. If supplying a source as an http, https, local file path, "
                        "ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative "
                        "path references present. Please provide an absolute path.",
                        source);
    return ok;
}

/* ---- model versions ---- */

void hamf__reg_mv_create(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name, *source, *run_id = NULL, *link = NULL, *desc = NULL;
    struct hamf__mreg_kv *tags;
    size_t nt;
    if (need_str(&a, "name", &name) < 0 || need_str(&a, "source", &source) < 0 ||
        hamf__arg_str(&a, "run_id", &run_id) < 0 || get_tags(&a, &tags, &nt) < 0 ||
        hamf__arg_str(&a, "run_link", &link) < 0 || hamf__arg_str(&a, "description", &desc) < 0)
        goto out;
    if (!source_ok(ctx, &a, source, run_id)) goto out;
    finish(resp, hamf__mreg_mv_create(s, name, source, run_id ? run_id : "", tags, nt, link, desc,
                                      &resp->body),
           false);
out:
    hamf__args_free(&a);
}

void hamf__reg_mv_get(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name, *version;
    char vb[32];
    if (need_str(&a, "name", &name) < 0 || need_version(&a, &version, vb) < 0) goto out;
    finish(resp, hamf__mreg_mv_get(s, name, version, &resp->body), false);
out:
    hamf__args_free(&a);
}

void hamf__reg_mv_update(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name, *version, *desc = NULL;
    char vb[32];
    if (need_str(&a, "name", &name) < 0 || need_version(&a, &version, vb) < 0 ||
        hamf__arg_str(&a, "description", &desc) < 0)
        goto out;
    finish(resp, hamf__mreg_mv_update(s, name, version, desc, &resp->body), false);
out:
    hamf__args_free(&a);
}

void hamf__reg_mv_transition(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name, *version, *stage;
    char vb[32];
    bool archive = false;
    if (need_str(&a, "name", &name) < 0 || need_version(&a, &version, vb) < 0 || need_str(&a, "stage", &stage) < 0)
        goto out;
    if (a.obj) {
        const struct hamf__jval *v = hamf__jobj_get(a.obj, "archive_existing_versions");
        if (v && v->type == HAMF__JBOOL) archive = v->b;
        else if (v && v->type == HAMF__JSTR) archive = !strcasecmp(v->str, "true");
        else if (v && v->type != HAMF__JNULL) {
            hamf__args_bad(&a, "archive_existing_versions", v);
            goto out;
        }
    } else {
        const char *v = hamf__http_query(req, "archive_existing_versions");
        archive = v && !strcasecmp(v, "true");
    }
    finish(resp, hamf__mreg_mv_transition(s, name, version, stage, archive, &resp->body), false);
out:
    hamf__args_free(&a);
}

void hamf__reg_mv_delete(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name, *version;
    char vb[32];
    if (need_str(&a, "name", &name) < 0 || need_version(&a, &version, vb) < 0) goto out;
    finish(resp, hamf__mreg_mv_delete(s, name, version), false);
out:
    hamf__args_free(&a);
}

void hamf__reg_mv_download_uri(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name = "", *version = "";
    char vb[32];
    if (hamf__arg_str(&a, "name", &name) < 0) goto out;
    if (a.obj) {
        if (need_version(&a, &version, vb) < 0) goto out;
    } else if (hamf__arg_str(&a, "version", &version) < 0) {
        goto out;
    }
    finish(resp, hamf__mreg_mv_download_uri(s, name, version, &resp->body), true);
out:
    hamf__args_free(&a);
}

void hamf__reg_mv_search(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    search_route(ctx, req, resp, hamf__mreg_mv_search, HAMF__MREG_MV_MAX_RESULTS, HAMF__MREG_MV_MAX_RESULTS);
}

void hamf__reg_mv_set_tag(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name, *version, *key, *value = NULL;
    char vb[32];
    if (need_str(&a, "name", &name) < 0 || need_version(&a, &version, vb) < 0 || need_str(&a, "key", &key) < 0 ||
        hamf__arg_str(&a, "value", &value) < 0)
        goto out;
    finish(resp, hamf__mreg_mv_set_tag(s, name, version, key, value ? value : ""), false);
out:
    hamf__args_free(&a);
}

void hamf__reg_mv_delete_tag(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name, *version, *key;
    char vb[32];
    if (need_str(&a, "name", &name) < 0 || need_version(&a, &version, vb) < 0 || need_str(&a, "key", &key) < 0)
        goto out;
    finish(resp, hamf__mreg_mv_delete_tag(s, name, version, key), false);
out:
    hamf__args_free(&a);
}

/* ---- hamf's own views for the UI ---- */

void hamf__reg_ui_models(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    finish(resp, hamf__mreg_models_json(s, &resp->body), false);
out:
    hamf__args_free(&a);
}

void hamf__reg_ui_model(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *name;
    if (need_str(&a, "name", &name) < 0) goto out;
    finish(resp, hamf__mreg_model_detail_json(s, name, &resp->body), false);
out:
    hamf__args_free(&a);
}

void hamf__reg_ui_run_versions(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    BEGIN();
    const char *run_id;
    if (need_str(&a, "run_id", &run_id) < 0) goto out;
    finish(resp, hamf__mreg_run_versions_json(s, run_id, &resp->body), false);
out:
    hamf__args_free(&a);
}

/* ---- for the UI's download route (/model-versions/get-artifact) ---- */

hamf_status hamf__registry_download_uri(void *ctx, const char *name, const char *version, char **uri)
{
    struct hamf__http_resp dummy;
    memset(&dummy, 0, sizeof dummy);
    dummy.fd = -1;
    hamf_store *s = get_store(ctx, &dummy);
    hamf__buf_free(&dummy.body);
    if (!s) return hamf__err(HAMF_ERR_CONNECT, "registry: the store is not available");
    char *u = NULL;
    hamf_status st = hamf__mreg_mv_download_uri_str(s, name ? name : "", version ? version : "", &u);
    if (st) return st;
    /* runs:/RUN_ID/PATH is the run's artifact location + PATH (what MLflow's
     * runs artifact repository resolves it to) */
    if (!strncmp(u, "runs:/", 6)) {
        const char *p = u + 6;
        while (*p == '/') p++;
        const char *slash = strchr(p, '/');
        char *run = slash ? hamf__strndup(p, (size_t)(slash - p)) : hamf__strdup(p);
        struct hamf__trk *t = NULL;
        char *root = NULL;
        const struct hamf__server_ctx *c = ctx;
        if (!run) st = hamf__err(HAMF_ERR_NOMEM, "registry: out of memory");
        if (!st) st = hamf__trk_open(c->db_url, &t);
        if (!st) st = hamf__trk_run_artifact_uri(t, run, &root);
        hamf__trk_close(t);
        if (!st) {
            char *full = slash && slash[1] ? hamf__asprintf("%s/%s", root, slash + 1) : hamf__strdup(root);
            if (!full) st = hamf__err(HAMF_ERR_NOMEM, "registry: out of memory");
            hamf__free(u);
            u = full;
        }
        hamf__free(root);
        hamf__free(run);
        if (st) {
            hamf__free(u);
            return st;
        }
    }
    *uri = u;
    return HAMF_OK;
}
