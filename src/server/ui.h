/*
 * ui.h — the web UI's embedded files and the lookup the HTTP server uses to
 * serve them. The files come from web/ and are compiled into the library by
 * tools/embed.c (build/gen/web_assets.c defines the table below), so serving
 * the UI never touches the filesystem.
 *
 * URL layout (hash-routed single page; the page's URLs are all relative):
 *   /                  -> index.html
 *   /index.html        -> index.html
 *   /static/<name>     -> web/<name> (app.js, app.css, favicon.svg, ...)
 * Everything returned is borrowed from static storage: valid forever.
 */
#ifndef HAMF_SERVER_UI_H
#define HAMF_SERVER_UI_H

#include "hamf.h"

#include <stddef.h>

struct hamf__ui_file {
    const char *name;          /* basename in web/, e.g. "app.js" */
    const unsigned char *data; /* file bytes */
    size_t len;
};

/* Defined in the generated build/gen/web_assets.c. */
extern const struct hamf__ui_file hamf__ui_files[];
extern const size_t hamf__ui_nfiles;

/* Look up the UI file for request path `path` (as received, starting with
 * '/'; a query string or fragment after '?' or '#' is ignored). On success
 * sets *data and *len to the bytes and *content_type to a MIME type with
 * charset where it applies. Unknown path: HAMF_ERR_NOTFOUND; NULL
 * arguments: HAMF_ERR_MISUSE. Thread-safe, allocation-free. */
hamf_status hamf__ui_asset(const char *path, const unsigned char **data, size_t *len,
                           const char **content_type);

/* The HTTP route serving the UI (mounted by mlflow_api.c for GET /,
 * /index.html and /static/...): the file's bytes with its content type, or
 * 404 ENDPOINT_NOT_FOUND. The security headers (Content-Security-Policy,
 * X-Content-Type-Options) are added to every response by http.c. */
struct hamf__http_req;
struct hamf__http_resp;
void hamf__ui_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);

#endif /* HAMF_SERVER_UI_H */
