/*
 * ui.c — serves the embedded web UI: maps a request path to one of the
 * files tools/embed.c compiled in from web/, with its content type. The
 * HTTP layer adds the headers (Content-Security-Policy, nosniff, caching);
 * this file only answers "which bytes, which type".
 */
#include "server/ui.h"

#include "server/api.h"
#include "util/util.h"

#include <string.h>

#define STATIC_PREFIX "/static/"

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".svg", "image/svg+xml" },
    { ".json", "application/json" },
    { ".png", "image/png" },
    { ".ico", "image/x-icon" },
    { ".txt", "text/plain; charset=utf-8" },
};

static const char *type_of(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < HAMF_ARRAY_LEN(content_types); i++) {
        size_t e = strlen(content_types[i].ext);
        if (n > e && memcmp(name + n - e, content_types[i].ext, e) == 0)
            return content_types[i].type;
    }
    return "application/octet-stream";
}

hamf_status hamf__ui_asset(const char *path, const unsigned char **data, size_t *len,
                           const char **content_type)
{
    if (!path || !data || !len || !content_type)
        return hamf__err(HAMF_ERR_MISUSE, "ui: NULL argument");
    size_t plen = strcspn(path, "?#");
    const char *name = NULL;
    size_t nlen = 0;
    if ((plen == 1 && path[0] == '/') || (plen == 11 && memcmp(path, "/index.html", 11) == 0)) {
        name = "index.html";
        nlen = 10;
    } else if (plen > strlen(STATIC_PREFIX) &&
               memcmp(path, STATIC_PREFIX, strlen(STATIC_PREFIX)) == 0) {
        name = path + strlen(STATIC_PREFIX);
        nlen = plen - strlen(STATIC_PREFIX);
    }
    /* Names are compared whole against the table, so "/static/../x" or
     * "/static/a/b" can only miss: there is no path to walk. */
    if (name)
        for (size_t i = 0; i < hamf__ui_nfiles; i++) {
            const struct hamf__ui_file *f = &hamf__ui_files[i];
            if (strlen(f->name) == nlen && memcmp(f->name, name, nlen) == 0) {
                *data = f->data;
                *len = f->len;
                *content_type = type_of(f->name);
                return HAMF_OK;
            }
        }
    return hamf__err(HAMF_ERR_NOTFOUND, "ui: no such file: %.*s", (int)(plen > 200 ? 200 : plen),
                     path);
}

void hamf__ui_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    (void)ctx;
    const unsigned char *data;
    size_t len;
    const char *type;
    if (hamf__ui_asset(req->path, &data, &len, &type) != HAMF_OK) {
        hamf__api_error(resp, 404, "ENDPOINT_NOT_FOUND", "No UI file at '%s'", req->path);
        return;
    }
    hamf__buf_reset(&resp->body);
    if (hamf__buf_append(&resp->body, data, len) != HAMF_OK) {
        hamf__api_error(resp, 503, "TEMPORARILY_UNAVAILABLE", "out of memory");
        return;
    }
    resp->status = 200;
    resp->content_type = type;
}
