/*
 * api_args.c — request fields for the MLflow API handlers (see api_args.h):
 * one reader for the tracking and the registry routes, with each API's
 * wording of a wrong value kept as MLflow clients see it today.
 */
#include "server/api.h"
#include "server/api_args.h"

#include <string.h>
#include <strings.h>

void hamf__args_free(struct hamf__args *a)
{
    hamf__jdoc_free(a->doc);
    for (int i = 0; i < a->nowned; i++) hamf__free(a->owned[i]);
    a->doc = NULL;
    a->nowned = 0;
}

static bool only_space(const struct hamf__http_req *req)
{
    size_t i = 0;
    while (i < req->body_len && strchr(" \t\r\n", req->body[i])) i++;
    return i == req->body_len;
}

bool hamf__args_init(struct hamf__args *a, const struct hamf__http_req *req, struct hamf__http_resp *resp,
                         enum hamf__api_style style)
{
    memset(a, 0, sizeof *a);
    a->req = req;
    a->resp = resp;
    a->style = style;
    if (style == HAMF__API_TRACKING ? strcmp(req->method, "POST") != 0 : !strcmp(req->method, "GET")) return true;
    /* the registry takes an empty body of any type; tracking wants JSON first */
    if (style == HAMF__API_REGISTRY && only_space(req)) return true;
    const char *ct = req->content_type;
    if (!ct || strncasecmp(ct, "application/json", 16) || (ct[16] && ct[16] != ';' && ct[16] != ' ')) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Content-Type must be one of ['application/json']");
        return false;
    }
    if (only_space(req)) return true; /* empty body: no fields */
    if (hamf__json_parse(req->body, req->body_len, HAMF__JSON_MAX_DEPTH, &a->doc)) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Malformed JSON request body: %s", hamf_last_error());
        return false;
    }
    a->obj = hamf__jdoc_root(a->doc);
    if (a->obj->type != HAMF__JOBJ) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "The request body must be a JSON object");
        return false;
    }
    return true;
}

bool hamf__args_keep(struct hamf__args *a, void *p)
{
    if (a->nowned == (int)HAMF_ARRAY_LEN(a->owned)) {
        hamf__free(p);
        hamf__api_error(a->resp, 503, "TEMPORARILY_UNAVAILABLE", "out of memory");
        return false;
    }
    a->owned[a->nowned++] = p;
    return true;
}

const struct hamf__jval *hamf__args_field(const struct hamf__args *a, const char *name)
{
    const struct hamf__jval *v = a->obj ? hamf__jobj_get(a->obj, name) : NULL;
    return v && v->type != HAMF__JNULL ? v : NULL;
}

static const char *brief_type(const struct hamf__jval *v)
{
    switch (v->type) {
    case HAMF__JSTR: return "str";
    case HAMF__JNUM: return v->is_int ? "int" : "float";
    case HAMF__JBOOL: return "bool";
    case HAMF__JARR: return "list";
    case HAMF__JOBJ: return "dict";
    default: return "NoneType";
    }
}

void hamf__args_bad(struct hamf__args *a, const char *name, const struct hamf__jval *v)
{
    if (a->style == HAMF__API_TRACKING) {
        hamf__api_bad_value(a->resp, name, v);
        return;
    }
    struct hamf__buf b;
    hamf__buf_init(&b, 4096);
    if (v->type == HAMF__JSTR) (void)hamf__buf_puts(&b, v->str);
    else if (v->type == HAMF__JNUM && v->is_int) (void)hamf__buf_printf(&b, "%lld", (long long)v->i);
    else if (v->type == HAMF__JNUM) (void)hamf__json_num(&b, v->num);
    else if (v->type == HAMF__JBOOL) (void)hamf__buf_puts(&b, v->b ? "True" : "False");
    else if (v->type == HAMF__JARR) (void)hamf__buf_puts(&b, "[...]");
    else (void)hamf__buf_puts(&b, "{...}");
    hamf__api_error(a->resp, 400, "INVALID_PARAMETER_VALUE",
                    "Invalid value %s for parameter '%s' supplied. Hint: Value was of type '%s'. See the API docs for "
                    "more information about request parameters.",
                    b.data ? b.data : "", name, brief_type(v));
    hamf__buf_free(&b);
}

int hamf__arg_str(struct hamf__args *a, const char *name, const char **out)
{
    if (!a->obj) {
        const char *v = a->req ? hamf__http_query(a->req, name) : NULL;
        if (!v) return 0;
        *out = v;
        return 1;
    }
    const struct hamf__jval *v = hamf__args_field(a, name);
    if (!v) return 0;
    if (v->type == HAMF__JSTR && strlen(v->str) != v->len && a->style == HAMF__API_TRACKING) {
        hamf__api_error(a->resp, 400, "INVALID_PARAMETER_VALUE", "Parameter '%s' must not contain NUL characters",
                        name);
        return -1;
    }
    if (v->type != HAMF__JSTR || strlen(v->str) != v->len) {
        hamf__args_bad(a, name, v);
        return -1;
    }
    *out = v->str;
    return 1;
}

int hamf__arg_required(struct hamf__args *a, const char *name, bool nonempty, const char **out)
{
    int r = hamf__arg_str(a, name, out);
    if (r == 0 || (r == 1 && nonempty && !**out)) {
        hamf__api_missing(a->resp, name);
        return -1;
    }
    return r;
}

int hamf__arg_i64(struct hamf__args *a, const char *name, int64_t *out)
{
    if (!a->obj) {
        const char *v = a->req ? hamf__http_query(a->req, name) : NULL;
        if (!v) return 0;
        if (hamf__parse_i64(v, strlen(v), out)) return 1;
        if (a->style == HAMF__API_TRACKING)
            hamf__api_bad_query_value(a->resp, name, v);
        else
            hamf__api_error(a->resp, 400, "INVALID_PARAMETER_VALUE",
                            "Invalid value %s for parameter '%s' supplied. Hint: Value was of type 'str'. See the API "
                            "docs for more information about request parameters.",
                            v, name);
        return -1;
    }
    const struct hamf__jval *v = hamf__args_field(a, name);
    if (!v) return 0;
    if (!hamf__jval_to_i64(v, out)) {
        hamf__args_bad(a, name, v);
        return -1;
    }
    return 1;
}

int hamf__arg_list(struct hamf__args *a, const char *name, const char ***out, size_t *n)
{
    const char **v = NULL;
    size_t k = 0;
    if (!a->obj) {
        size_t cnt = 0;
        for (size_t i = 0; a->req && i < a->req->nquery; i++)
            if (!strcmp(a->req->query[i].key, name)) cnt++;
        if (!cnt) return 0;
        if (!(v = hamf__calloc(cnt, sizeof *v))) goto nomem;
        for (size_t i = 0; i < a->req->nquery; i++)
            if (!strcmp(a->req->query[i].key, name)) v[k++] = a->req->query[i].value;
    } else {
        const struct hamf__jval *j = hamf__args_field(a, name);
        if (!j) return 0;
        if (j->type != HAMF__JARR) {
            hamf__args_bad(a, name, j);
            return -1;
        }
        if (!j->len) return 0;
        if (!(v = hamf__calloc(j->len, sizeof *v))) goto nomem;
        for (size_t i = 0; i < j->len; i++) {
            const struct hamf__jval *e = &j->items[i];
            if (e->type != HAMF__JSTR || strlen(e->str) != e->len) {
                hamf__free(v);
                hamf__args_bad(a, name, j);
                return -1;
            }
            v[k++] = e->str;
        }
    }
    if (!hamf__args_keep(a, v)) return -1;
    *out = v;
    *n = k;
    return 1;
nomem:
    hamf__api_error(a->resp, 503, "TEMPORARILY_UNAVAILABLE", "out of memory");
    return -1;
}
