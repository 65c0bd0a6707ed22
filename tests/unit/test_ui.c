/* test_ui.c — the embedded web UI lookup (src/server/ui.c): paths map to
 * the files of web/ compiled in by tools/embed.c, byte for byte, with the
 * right content type; anything else is "not found". The expected bytes are
 * read from the source files in web/ (HAMF_ROOT, or the working directory
 * when run from the repo root). */
#include "t.h"
#include "server/http.h"
#include "server/ui.h"
#include "util/util.h"

#include <stdlib.h>

/* Whole file into a malloc'd buffer; NULL if it cannot be read. */
static unsigned char *slurp(const char *name, size_t *len)
{
    char path[4096];
    const char *root = getenv("HAMF_ROOT");
    snprintf(path, sizeof path, "%s/web/%s", root ? root : ".", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static void expect_file(const char *url, const char *file, const char *type)
{
    const unsigned char *data = NULL;
    size_t len = 0;
    const char *ct = NULL;
    T_OK(hamf__ui_asset(url, &data, &len, &ct));
    T_EQ_STR(ct, type);
    size_t want_len = 0;
    unsigned char *want = slurp(file, &want_len);
    if (!want)
        T_FAILF("cannot read web/%s (set HAMF_ROOT to the repo root)", file);
    int same = want_len == len && memcmp(want, data, len) == 0;
    free(want);
    T_EQ_INT(len, want_len);
    T_TRUE(same);
}

static void test_index(void)
{
    expect_file("/", "index.html", "text/html; charset=utf-8");
    expect_file("/index.html", "index.html", "text/html; charset=utf-8");
    expect_file("/?x=1", "index.html", "text/html; charset=utf-8");
}

static void test_static(void)
{
    expect_file("/static/app.js", "app.js", "text/javascript; charset=utf-8");
    expect_file("/static/app.css", "app.css", "text/css; charset=utf-8");
    expect_file("/static/favicon.svg", "favicon.svg", "image/svg+xml");
    expect_file("/static/app.js?v=2", "app.js", "text/javascript; charset=utf-8");
}

static void test_every_embedded_file_is_served(void)
{
    T_TRUE(hamf__ui_nfiles >= 4);
    for (size_t i = 0; i < hamf__ui_nfiles; i++) {
        char url[256];
        snprintf(url, sizeof url, "/static/%s", hamf__ui_files[i].name);
        const unsigned char *data;
        size_t len;
        const char *ct;
        T_OK(hamf__ui_asset(url, &data, &len, &ct));
        T_TRUE(data == hamf__ui_files[i].data);
        T_EQ_INT(len, hamf__ui_files[i].len);
    }
}

static void test_not_found(void)
{
    static const char *const bad[] = {
        "",  "/static/", "/static/nope.js", "/app.js", "/static/../web/app.js",
        "/static/./app.js", "/static/app.js/", "/static//app.js", "/STATIC/app.js",
        "/static/app.j", "/static/app.jsx", "/index.htm", "//", "/api/2.0/mlflow/runs/get",
        "static/app.js", "/static/%61pp.js",
    };
    for (size_t i = 0; i < HAMF_ARRAY_LEN(bad); i++) {
        const unsigned char *data = (const unsigned char *)"untouched";
        size_t len = 42;
        const char *ct = "untouched";
        T_STATUS(hamf__ui_asset(bad[i], &data, &len, &ct), HAMF_ERR_NOTFOUND);
        T_TRUE(strstr(hamf_last_error(), "ui: no such file") != NULL);
        /* out-params untouched on failure */
        T_EQ_INT(len, 42);
        T_EQ_STR(ct, "untouched");
    }
}

static void test_misuse(void)
{
    const unsigned char *data;
    size_t len;
    const char *ct;
    T_STATUS(hamf__ui_asset(NULL, &data, &len, &ct), HAMF_ERR_MISUSE);
    T_STATUS(hamf__ui_asset("/", NULL, &len, &ct), HAMF_ERR_MISUSE);
    T_STATUS(hamf__ui_asset("/", &data, NULL, &ct), HAMF_ERR_MISUSE);
    T_STATUS(hamf__ui_asset("/", &data, &len, NULL), HAMF_ERR_MISUSE);
}

/* The page must work under Content-Security-Policy default-src 'self':
 * no inline script or style, no absolute or protocol-relative URLs to
 * another origin in what is served. */
static void test_index_is_csp_clean(void)
{
    const unsigned char *data;
    size_t len;
    const char *ct;
    T_OK(hamf__ui_asset("/", &data, &len, &ct));
    char *html = hamf__strndup((const char *)data, len);
    T_TRUE(html != NULL);
    int inline_script = strstr(html, "<script>") != NULL;
    int style_tag = strstr(html, "<style") != NULL;
    int style_attr = strstr(html, "style=") != NULL;
    int handler = strstr(html, "onclick=") != NULL || strstr(html, "onload=") != NULL;
    int foreign = strstr(html, "http://") != NULL || strstr(html, "https://") != NULL ||
                  strstr(html, "src=\"//") != NULL || strstr(html, "href=\"//") != NULL;
    int has_js = strstr(html, "src=\"static/app.js\"") != NULL;
    hamf__free(html);
    T_TRUE(!inline_script);
    T_TRUE(!style_tag);
    T_TRUE(!style_attr);
    T_TRUE(!handler);
    T_TRUE(!foreign);
    T_TRUE(has_js);
}

/* The route handler the server mounts: bytes and type on a hit, MLflow's
 * error JSON with 404 on a miss. */
static void test_route(void)
{
    struct hamf__http_req req = { .method = "GET", .path = "/static/app.css", .body = "" };
    struct hamf__http_resp resp = { .status = 200, .content_type = "application/json", .fd = -1 };
    hamf__buf_init(&resp.body, 0);
    const unsigned char *data;
    size_t len;
    const char *ct;
    T_OK(hamf__ui_asset("/static/app.css", &data, &len, &ct));
    hamf__ui_route(NULL, &req, &resp);
    int same = resp.body.len == len && memcmp(resp.body.data, data, len) == 0;
    T_EQ_INT(resp.status, 200);
    T_EQ_STR(resp.content_type, "text/css; charset=utf-8");
    T_TRUE(same);

    req.path = "/static/missing.js";
    hamf__ui_route(NULL, &req, &resp);
    T_EQ_INT(resp.status, 404);
    T_EQ_STR(resp.content_type, "application/json");
    int is_err = resp.body.data && strstr(resp.body.data, "\"error_code\":\"ENDPOINT_NOT_FOUND\"") != NULL;
    if (!is_err)
        fprintf(stderr, "  body: %s\n", resp.body.data ? resp.body.data : "(empty)");
    hamf__buf_free(&resp.body);
    T_TRUE(is_err);
}

int main(void)
{
    T_RUN(test_index);
    T_RUN(test_static);
    T_RUN(test_every_embedded_file_is_served);
    T_RUN(test_not_found);
    T_RUN(test_misuse);
    T_RUN(test_index_is_csp_clean);
    T_RUN(test_route);
    return T_DONE();
}
