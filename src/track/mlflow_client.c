/*
 * mlflow_client.c — the MLflow REST client (see mlflow_client.h): one
 * libcurl easy handle per client (so connections are kept alive between
 * calls), request bodies written with the JSON helpers of util.h, answers
 * read into a capped buffer and parsed with the strict JSON parser, MLflow
 * error JSON turned into hamf_status with the server's message.
 */
#include "track/mlflow_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define API_PREFIX "/api/2.0/mlflow/"
#define ARTIFACT_PREFIX "/api/2.0/mlflow-artifacts/artifacts/"
#define MAX_METRICS_PER_BATCH 1000
#define MAX_PARAMS_PER_BATCH 100
#define MAX_TAGS_PER_BATCH 100

struct hamf__mlflow {
    char *base; /* without trailing '/' */
    CURL *curl;
    struct hamf__mlflow_opts opts;
    char *user, *pass; /* HTTP basic auth from MLFLOW_TRACKING_USERNAME/PASSWORD, or NULL */
    char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_global(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool hamf__mlflow_is_remote(const char *uri)
{
    return uri && (strncmp(uri, "http://", 7) == 0 || strncmp(uri, "https://", 8) == 0);
}

hamf_status hamf__mlflow_open(const char *uri, const struct hamf__mlflow_opts *opts, struct hamf__mlflow **out)
{
    if (!hamf__mlflow_is_remote(uri))
        return hamf__err(HAMF_ERR_PARSE, "mlflow: tracking URI '%s' is not http:// or https://", uri ? uri : "");
    size_t n = strlen(uri);
    while (n > 0 && uri[n - 1] == '/') n--;
    size_t scheme_len = uri[4] == ':' ? strlen("http://") : strlen("https://");
    if (n <= scheme_len)
        return hamf__err(HAMF_ERR_PARSE, "mlflow: tracking URI '%s' has no host", uri);
    pthread_once(&curl_once, curl_global);
    if (curl_init_rc != CURLE_OK)
        return hamf__err(HAMF_ERR_INTERNAL, "mlflow: curl_global_init: %s", curl_easy_strerror(curl_init_rc));
    struct hamf__mlflow *m = hamf__calloc(1, sizeof *m);
    if (!m) return hamf__err(HAMF_ERR_NOMEM, "mlflow: out of memory");
    m->base = hamf__strndup(uri, n);
    m->curl = curl_easy_init();
    if (!m->base || !m->curl) {
        hamf__mlflow_close(m);
        return hamf__err(HAMF_ERR_NOMEM, "mlflow: out of memory");
    }
    if (opts) m->opts = *opts;
    /* the MLflow clients' convention: basic auth when both variables are set */
    const char *eu = getenv("MLFLOW_TRACKING_USERNAME"), *ep = getenv("MLFLOW_TRACKING_PASSWORD");
    if (eu && *eu && ep) {
        m->user = hamf__strdup(eu);
        m->pass = hamf__strdup(ep);
        if (!m->user || !m->pass) {
            hamf__mlflow_close(m);
            return hamf__err(HAMF_ERR_NOMEM, "mlflow: out of memory");
        }
    }
    if (m->opts.connect_timeout_ms <= 0) m->opts.connect_timeout_ms = 2000;
    if (m->opts.timeout_ms <= 0) m->opts.timeout_ms = 5000;
    if (m->opts.max_response == 0) m->opts.max_response = 16u << 20;
    *out = m;
    return HAMF_OK;
}

void hamf__mlflow_close(struct hamf__mlflow *m)
{
    if (!m) return;
    if (m->curl) curl_easy_cleanup(m->curl);
    if (m->pass) memset(m->pass, 0, strlen(m->pass));
    hamf__free(m->user);
    hamf__free(m->pass);
    hamf__free(m->base);
    hamf__free(m);
}

/* ---- transport ---- */

struct sink {
    struct hamf__buf *b;
    bool overflow;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
    struct sink *s = arg;
    size_t n = size * nmemb;
    if (hamf__buf_append(s->b, p, n) != HAMF_OK) {
        s->overflow = true;
        return 0; /* aborts the transfer */
    }
    return n;
}

static hamf_status curl_status(struct hamf__mlflow *m, CURLcode rc, const char *what)
{
    const char *detail = m->errbuf[0] ? m->errbuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return hamf__err(HAMF_ERR_CONNECT, "mlflow: %s: cannot reach %s: %s", what, m->base, detail);
    case CURLE_OPERATION_TIMEDOUT:
        return hamf__err(HAMF_ERR_TIMEOUT, "mlflow: %s: %s did not answer in time: %s", what, m->base, detail);
    default: return hamf__err(HAMF_ERR_IO, "mlflow: %s: %s", what, detail);
    }
}

/* Map a non-200 answer to a status, using MLflow's error JSON if present. */
static hamf_status http_status(long code, const char *what, const struct hamf__buf *body)
{
    const char *ecode = "", *msg = "";
    struct hamf__jdoc *d = NULL;
    if (body->len && hamf__json_parse(body->data, body->len, 16, &d) == HAMF_OK) {
        const struct hamf__jval *r = hamf__jdoc_root(d);
        const struct hamf__jval *c = hamf__jobj_get(r, "error_code"), *mm = hamf__jobj_get(r, "message");
        if (c && c->type == HAMF__JSTR) ecode = c->str;
        if (mm && mm->type == HAMF__JSTR) msg = mm->str;
    }
    hamf_status st;
    if (strcmp(ecode, "RESOURCE_DOES_NOT_EXIST") == 0)
        st = HAMF_ERR_NOTFOUND;
    else if (code == 404 || code == 405 || code == 501)
        st = HAMF_ERR_UNSUPPORTED; /* the endpoint itself is missing: not "no such experiment" */
    else if (strcmp(ecode, "RESOURCE_ALREADY_EXISTS") == 0)
        st = HAMF_ERR_EXISTS;
    else if (code >= 400 && code < 500)
        st = HAMF_ERR_CONSTRAINT;
    else
        st = HAMF_ERR_IO;
    if (*ecode)
        hamf__err(st, "mlflow: %s: HTTP %ld %s: %s", what, code, ecode, msg);
    else
        hamf__err(st, "mlflow: %s: HTTP %ld", what, code);
    hamf__jdoc_free(d);
    return st;
}

/* Perform the prepared request into `resp`; returns the HTTP code. */
static hamf_status perform(struct hamf__mlflow *m, const char *what, struct hamf__buf *resp, long *code)
{
    struct sink s = {resp, false};
    m->errbuf[0] = '\0';
    curl_easy_setopt(m->curl, CURLOPT_ERRORBUFFER, m->errbuf);
    curl_easy_setopt(m->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(m->curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(m->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(m->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)m->opts.connect_timeout_ms);
    curl_easy_setopt(m->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(m->curl, CURLOPT_FOLLOWLOCATION, 0L);
    if (m->user) {
        curl_easy_setopt(m->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(m->curl, CURLOPT_USERNAME, m->user);
        curl_easy_setopt(m->curl, CURLOPT_PASSWORD, m->pass);
    }
    CURLcode rc = curl_easy_perform(m->curl);
    if (s.overflow)
        return hamf__err(HAMF_ERR_CONSTRAINT, "mlflow: %s: answer larger than %zu bytes", what,
                         m->opts.max_response);
    if (rc != CURLE_OK) return curl_status(m, rc, what);
    curl_easy_getinfo(m->curl, CURLINFO_RESPONSE_CODE, code);
    return HAMF_OK;
}

hamf_status hamf__mlflow_call(struct hamf__mlflow *m, const char *method, const char *endpoint, const char *body,
                              struct hamf__jdoc **out)
{
    if (!m || !method || !endpoint) return hamf__err(HAMF_ERR_MISUSE, "mlflow: bad arguments");
    bool post = strcmp(method, "POST") == 0;
    if (!post && strcmp(method, "GET") != 0)
        return hamf__err(HAMF_ERR_MISUSE, "mlflow: method %s not supported", method);
    hamf_status st;
    struct hamf__buf resp;
    hamf__buf_init(&resp, m->opts.max_response);
    struct curl_slist *hdr = NULL;
    char *url = hamf__asprintf("%s" API_PREFIX "%s", m->base, endpoint);
    if (!url) {
        st = hamf__err(HAMF_ERR_NOMEM, "mlflow: out of memory");
        goto cleanup;
    }
    curl_easy_reset(m->curl);
    curl_easy_setopt(m->curl, CURLOPT_URL, url);
    curl_easy_setopt(m->curl, CURLOPT_TIMEOUT_MS, (long)m->opts.timeout_ms);
    hdr = curl_slist_append(hdr, "Accept: application/json");
    if (post) {
        struct curl_slist *h2 = curl_slist_append(hdr, "Content-Type: application/json");
        if (h2) hdr = h2;
        curl_easy_setopt(m->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(m->curl, CURLOPT_COPYPOSTFIELDS, body ? body : "{}");
    } else {
        curl_easy_setopt(m->curl, CURLOPT_HTTPGET, 1L);
    }
    if (!hdr) {
        st = hamf__err(HAMF_ERR_NOMEM, "mlflow: out of memory");
        goto cleanup;
    }
    curl_easy_setopt(m->curl, CURLOPT_HTTPHEADER, hdr);
    long code = 0;
    char what[160];
    snprintf(what, sizeof what, "%s %s", method, endpoint);
    char *q = strchr(what, '?');
    if (q) *q = '\0';
    if ((st = perform(m, what, &resp, &code))) goto cleanup;
    if (code != 200) {
        st = http_status(code, what, &resp);
        goto cleanup;
    }
    struct hamf__jdoc *d = NULL;
    if ((st = hamf__json_parse(resp.len ? resp.data : "{}", resp.len ? resp.len : 2, HAMF__JSON_MAX_DEPTH, &d))) {
        st = hamf__err_prefix(st, "mlflow: %s: answer is not JSON", what);
        goto cleanup;
    }
    if (hamf__jdoc_root(d)->type != HAMF__JOBJ) {
        hamf__jdoc_free(d);
        st = hamf__err(HAMF_ERR_PARSE, "mlflow: %s: answer is not a JSON object", what);
        goto cleanup;
    }
    *out = d;
cleanup:
    curl_slist_free_all(hdr);
    hamf__free(url);
    hamf__buf_free(&resp);
    return st;
}

/* ---- helpers ---- */

static const char *jstr(const struct hamf__jval *obj, const char *key)
{
    const struct hamf__jval *v = hamf__jobj_get(obj, key);
    return v && v->type == HAMF__JSTR ? v->str : NULL;
}

static char *escape(struct hamf__mlflow *m, const char *s)
{
    char *e = curl_easy_escape(m->curl, s, 0);
    if (!e) return NULL;
    char *copy = hamf__strdup(e);
    curl_free(e);
    return copy;
}

/* ---- reading ---- */

void hamf__mlflow_exps_free(struct hamf__mlflow_exp *e, size_t n)
{
    if (!e) return;
    for (size_t i = 0; i < n; i++) {
        hamf__free(e[i].id);
        hamf__free(e[i].name);
    }
    hamf__free(e);
}

hamf_status hamf__mlflow_exp_list(struct hamf__mlflow *m, struct hamf__mlflow_exp **out, size_t *nout)
{
    struct hamf__mlflow_exp *list = NULL;
    size_t n = 0, cap = 0;
    char *token = NULL;
    hamf_status st = HAMF_OK;
    struct hamf__buf body;
    hamf__buf_init(&body, 0);
    for (int page = 0; page < 10000; page++) {
        hamf__buf_reset(&body);
        st = hamf__buf_puts(&body, "{\"max_results\":1000,\"view_type\":\"ACTIVE_ONLY\"");
        if (!st && token) {
            st = hamf__buf_puts(&body, ",\"page_token\":");
            if (!st) st = hamf__json_str(&body, token, (size_t)-1);
        }
        if (!st) st = hamf__buf_putc(&body, '}');
        if (st) goto cleanup;
        struct hamf__jdoc *d = NULL;
        if ((st = hamf__mlflow_call(m, "POST", "experiments/search", body.data, &d))) goto cleanup;
        const struct hamf__jval *r = hamf__jdoc_root(d);
        const struct hamf__jval *exps = hamf__jobj_get(r, "experiments");
        for (size_t i = 0; exps && exps->type == HAMF__JARR && i < exps->len; i++) {
            const char *id = jstr(&exps->items[i], "experiment_id"), *name = jstr(&exps->items[i], "name");
            const char *stage = jstr(&exps->items[i], "lifecycle_stage");
            if (!id || !name) continue;
            if (stage && strcmp(stage, "active") != 0) continue;
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 16;
                void *np = hamf__realloc(list, nc * sizeof *list);
                if (!np) {
                    st = hamf__err(HAMF_ERR_NOMEM, "mlflow: out of memory");
                    hamf__jdoc_free(d);
                    goto cleanup;
                }
                list = np;
                cap = nc;
            }
            list[n].id = hamf__strdup(id);
            list[n].name = hamf__strdup(name);
            n++;
            if (!list[n - 1].id || !list[n - 1].name) {
                st = hamf__err(HAMF_ERR_NOMEM, "mlflow: out of memory");
                hamf__jdoc_free(d);
                goto cleanup;
            }
        }
        const char *next = jstr(r, "next_page_token");
        hamf__free(token);
        token = next && *next && exps && exps->type == HAMF__JARR && exps->len > 0 ? hamf__strdup(next) : NULL;
        hamf__jdoc_free(d);
        if (!token) break;
    }
    *out = list;
    *nout = n;
    list = NULL;
    n = 0;
cleanup:
    hamf__mlflow_exps_free(list, n);
    hamf__free(token);
    hamf__buf_free(&body);
    return st;
}

hamf_status hamf__mlflow_exp_id(struct hamf__mlflow *m, const char *name, char **id)
{
    char *en = escape(m, name);
    if (!en) return hamf__err(HAMF_ERR_NOMEM, "mlflow: out of memory");
    char *ep = hamf__asprintf("experiments/get-by-name?experiment_name=%s", en);
    hamf__free(en);
    if (!ep) return hamf__err(HAMF_ERR_NOMEM, "mlflow: out of memory");
    struct hamf__jdoc *d = NULL;
    hamf_status st = hamf__mlflow_call(m, "GET", ep, NULL, &d);
    hamf__free(ep);
    if (st) return st;
    const char *v = jstr(hamf__jobj_get(hamf__jdoc_root(d), "experiment"), "experiment_id");
    if (!v) {
        hamf__jdoc_free(d);
        return hamf__err(HAMF_ERR_PARSE, "mlflow: experiments/get-by-name: answer has no experiment.experiment_id");
    }
    char *copy = hamf__strdup(v);
    hamf__jdoc_free(d);
    if (!copy) return hamf__err(HAMF_ERR_NOMEM, "mlflow: out of memory");
    *id = copy;
    return HAMF_OK;
}

hamf_status hamf__mlflow_run_search(struct hamf__mlflow *m, const char *exp_id, const char *filter,
                                    int64_t max_results, struct hamf__jdoc **out)
{
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_status st = hamf__buf_puts(&b, "{\"experiment_ids\":[");
    if (!st) st = hamf__json_str(&b, exp_id, (size_t)-1);
    if (!st) st = hamf__buf_printf(&b, "],\"run_view_type\":\"ACTIVE_ONLY\",\"max_results\":%" PRId64, max_results);
    if (!st && filter) {
        st = hamf__buf_puts(&b, ",\"filter\":");
        if (!st) st = hamf__json_str(&b, filter, (size_t)-1);
    }
    if (!st) st = hamf__buf_putc(&b, '}');
    if (!st) st = hamf__mlflow_call(m, "POST", "runs/search", b.data, out);
    hamf__buf_free(&b);
    return st;
}

/* ---- writing ---- */

hamf_status hamf__mlflow_exp_get_or_create(struct hamf__mlflow *m, const char *name, char **id)
{
    hamf_status st = hamf__mlflow_exp_id(m, name, id);
    if (st != HAMF_ERR_NOTFOUND) return st;
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    st = hamf__buf_puts(&b, "{\"name\":");
    if (!st) st = hamf__json_str(&b, name, (size_t)-1);
    if (!st) st = hamf__buf_putc(&b, '}');
    struct hamf__jdoc *d = NULL;
    if (!st) st = hamf__mlflow_call(m, "POST", "experiments/create", b.data, &d);
    hamf__buf_free(&b);
    if (st == HAMF_ERR_EXISTS) return hamf__mlflow_exp_id(m, name, id); /* created meanwhile */
    if (st) return st;
    const char *v = jstr(hamf__jdoc_root(d), "experiment_id");
    char *copy = v ? hamf__strdup(v) : NULL;
    hamf__jdoc_free(d);
    if (!v) return hamf__err(HAMF_ERR_PARSE, "mlflow: experiments/create: answer has no experiment_id");
    if (!copy) return hamf__err(HAMF_ERR_NOMEM, "mlflow: out of memory");
    *id = copy;
    return HAMF_OK;
}

static hamf_status put_kvs(struct hamf__buf *b, const char *field, const struct hamf__mlflow_kv *kv, size_t n)
{
    hamf_status st = hamf__buf_printf(b, "\"%s\":[", field);
    for (size_t i = 0; !st && i < n; i++) {
        st = hamf__buf_puts(b, i ? ",{\"key\":" : "{\"key\":");
        if (!st) st = hamf__json_str(b, kv[i].key, (size_t)-1);
        if (!st) st = hamf__buf_puts(b, ",\"value\":");
        if (!st) st = hamf__json_str(b, kv[i].value ? kv[i].value : "", (size_t)-1);
        if (!st) st = hamf__buf_putc(b, '}');
    }
    if (!st) st = hamf__buf_putc(b, ']');
    return st;
}

hamf_status hamf__mlflow_run_create(struct hamf__mlflow *m, const char *exp_id, const char *run_name,
                                    int64_t start_time, const struct hamf__mlflow_kv *tags, size_t ntags,
                                    char **run_id, char **artifact_uri)
{
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_status st = hamf__buf_puts(&b, "{\"experiment_id\":");
    if (!st) st = hamf__json_str(&b, exp_id ? exp_id : "0", (size_t)-1);
    if (!st && run_name) {
        st = hamf__buf_puts(&b, ",\"run_name\":");
        if (!st) st = hamf__json_str(&b, run_name, (size_t)-1);
    }
    if (!st)
        st = hamf__buf_printf(&b, ",\"start_time\":%" PRId64 ",",
                              start_time > 0 ? start_time : hamf__now_ms());
    if (!st) st = put_kvs(&b, "tags", tags, ntags);
    if (!st) st = hamf__buf_putc(&b, '}');
    struct hamf__jdoc *d = NULL;
    if (!st) st = hamf__mlflow_call(m, "POST", "runs/create", b.data, &d);
    hamf__buf_free(&b);
    if (st) return st;
    const struct hamf__jval *info = hamf__jobj_get(hamf__jobj_get(hamf__jdoc_root(d), "run"), "info");
    const char *id = jstr(info, "run_id"), *uri = jstr(info, "artifact_uri");
    if (!id) {
        hamf__jdoc_free(d);
        return hamf__err(HAMF_ERR_PARSE, "mlflow: runs/create: answer has no run.info.run_id");
    }
    char *id_copy = hamf__strdup(id), *uri_copy = hamf__strdup(uri ? uri : "");
    hamf__jdoc_free(d);
    if (!id_copy || !uri_copy) {
        hamf__free(id_copy);
        hamf__free(uri_copy);
        return hamf__err(HAMF_ERR_NOMEM, "mlflow: out of memory");
    }
    if (run_id) *run_id = id_copy;
    else hamf__free(id_copy);
    if (artifact_uri) *artifact_uri = uri_copy;
    else hamf__free(uri_copy);
    return HAMF_OK;
}

hamf_status hamf__mlflow_log_batch(struct hamf__mlflow *m, const char *run_id,
                                   const struct hamf__mlflow_metric *metrics, size_t nm,
                                   const struct hamf__mlflow_kv *params, size_t np, const struct hamf__mlflow_kv *tags,
                                   size_t nt)
{
    hamf_status st = HAMF_OK;
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    size_t im = 0, ip = 0, it = 0;
    int64_t now = hamf__now_ms();
    do {
        size_t cm = nm - im < MAX_METRICS_PER_BATCH ? nm - im : MAX_METRICS_PER_BATCH;
        size_t cp = np - ip < MAX_PARAMS_PER_BATCH ? np - ip : MAX_PARAMS_PER_BATCH;
        size_t ct = nt - it < MAX_TAGS_PER_BATCH ? nt - it : MAX_TAGS_PER_BATCH;
        if (cm + cp + ct > MAX_METRICS_PER_BATCH) cm = MAX_METRICS_PER_BATCH - cp - ct;
        hamf__buf_reset(&b);
        st = hamf__buf_puts(&b, "{\"run_id\":");
        if (!st) st = hamf__json_str(&b, run_id, (size_t)-1);
        if (!st) st = hamf__buf_puts(&b, ",\"metrics\":[");
        for (size_t i = 0; !st && i < cm; i++) {
            const struct hamf__mlflow_metric *x = &metrics[im + i];
            st = hamf__buf_puts(&b, i ? ",{\"key\":" : "{\"key\":");
            if (!st) st = hamf__json_str(&b, x->key, (size_t)-1);
            if (!st) st = hamf__buf_puts(&b, ",\"value\":");
            if (!st) {
                char num[32];
                hamf__fmt_double(num, x->value);
                /* NaN/Infinity go as protobuf-JSON strings */
                st = (x->value != x->value || x->value - x->value != 0) ? hamf__json_str(&b, num, (size_t)-1)
                                                                        : hamf__buf_puts(&b, num);
            }
            if (!st)
                st = hamf__buf_printf(&b, ",\"timestamp\":%" PRId64 ",\"step\":%" PRId64 "}",
                                      x->timestamp > 0 ? x->timestamp : now, x->step);
        }
        if (!st) st = hamf__buf_puts(&b, "],");
        if (!st) st = put_kvs(&b, "params", params + ip, cp);
        if (!st) st = hamf__buf_putc(&b, ',');
        if (!st) st = put_kvs(&b, "tags", tags + it, ct);
        if (!st) st = hamf__buf_putc(&b, '}');
        struct hamf__jdoc *d = NULL;
        if (!st) st = hamf__mlflow_call(m, "POST", "runs/log-batch", b.data, &d);
        hamf__jdoc_free(d);
        im += cm;
        ip += cp;
        it += ct;
    } while (!st && (im < nm || ip < np || it < nt));
    hamf__buf_free(&b);
    return st;
}

hamf_status hamf__mlflow_run_update(struct hamf__mlflow *m, const char *run_id, const char *status, int64_t end_time)
{
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_status st = hamf__buf_puts(&b, "{\"run_id\":");
    if (!st) st = hamf__json_str(&b, run_id, (size_t)-1);
    if (!st && status) {
        st = hamf__buf_puts(&b, ",\"status\":");
        if (!st) st = hamf__json_str(&b, status, (size_t)-1);
    }
    if (!st) st = hamf__buf_printf(&b, ",\"end_time\":%" PRId64 "}", end_time > 0 ? end_time : hamf__now_ms());
    struct hamf__jdoc *d = NULL;
    if (!st) st = hamf__mlflow_call(m, "POST", "runs/update", b.data, &d);
    hamf__jdoc_free(d);
    hamf__buf_free(&b);
    return st;
}

/* Append `path` to `b`, escaping each '/'-separated segment; refuses empty,
 * "." and ".." segments. */
static hamf_status put_path(struct hamf__mlflow *m, struct hamf__buf *b, const char *path)
{
    const char *p = path;
    bool first = true;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return hamf__err(HAMF_ERR_CONSTRAINT, "mlflow: bad artifact path '%s'", path);
        char *seg = curl_easy_escape(m->curl, p, (int)n);
        if (!seg) return hamf__err(HAMF_ERR_NOMEM, "mlflow: out of memory");
        hamf_status st = first ? HAMF_OK : hamf__buf_putc(b, '/');
        if (!st) st = hamf__buf_puts(b, seg);
        curl_free(seg);
        if (st) return st;
        first = false;
        p += n;
        if (*p == '/') p++;
    }
    if (first) return hamf__err(HAMF_ERR_CONSTRAINT, "mlflow: empty artifact path");
    return HAMF_OK;
}

hamf_status hamf__mlflow_artifact_put(struct hamf__mlflow *m, const char *artifact_uri, const char *rel,
                                      const char *path)
{
    static const char scheme[] = "mlflow-artifacts:";
    if (!artifact_uri || strncmp(artifact_uri, scheme, sizeof scheme - 1) != 0)
        return hamf__err(HAMF_ERR_UNSUPPORTED, "mlflow: artifact URI '%s' is not mlflow-artifacts:/...",
                         artifact_uri ? artifact_uri : "");
    const char *root = artifact_uri + sizeof scheme - 1;
    while (*root == '/') root++;
    hamf_status st;
    FILE *f = NULL;
    struct hamf__buf url, resp;
    hamf__buf_init(&url, 0);
    hamf__buf_init(&resp, 1u << 20);
    if ((st = hamf__buf_printf(&url, "%s" ARTIFACT_PREFIX, m->base))) goto cleanup;
    if ((st = put_path(m, &url, root))) goto cleanup;
    if ((st = hamf__buf_putc(&url, '/'))) goto cleanup;
    if ((st = put_path(m, &url, rel))) goto cleanup;
    f = fopen(path, "rb");
    struct stat sb;
    if (!f || fstat(fileno(f), &sb) != 0) {
        st = hamf__err(HAMF_ERR_IO, "mlflow: %s: %s", path, strerror(errno));
        goto cleanup;
    }
    curl_easy_reset(m->curl);
    curl_easy_setopt(m->curl, CURLOPT_URL, url.data);
    curl_easy_setopt(m->curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(m->curl, CURLOPT_READDATA, f);
    curl_easy_setopt(m->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)sb.st_size);
    /* no total timeout for a file of any size: give up when stalled 5 s */
    curl_easy_setopt(m->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(m->curl, CURLOPT_LOW_SPEED_TIME, (long)((m->opts.timeout_ms + 999) / 1000));
    long code = 0;
    char what[96];
    snprintf(what, sizeof what, "PUT mlflow-artifacts/%s", rel);
    if ((st = perform(m, what, &resp, &code))) goto cleanup;
    if (code != 200) st = http_status(code, what, &resp);
cleanup:
    if (f) fclose(f);
    hamf__buf_free(&url);
    hamf__buf_free(&resp);
    return st;
}
