/*
 * artifacts.c — the proxied artifact store of `hamf server` (MLflow's
 * mlflow-artifacts API): files under --artifacts-dir, uploaded with PUT,
 * downloaded with GET, removed with DELETE and listed one level at a time.
 *
 * Safety: every path is relative to the root directory, which is held open;
 * paths are walked one component at a time with openat(O_NOFOLLOW), so ".."
 * and absolute paths are refused up front and a symlink anywhere in the
 * tree is refused rather than followed (nothing can lead outside the
 * root). Uploads stream into a temporary file in the target directory,
 * which is fsynced and renamed over the final name: a file is either
 * absent or complete, and complete once 200 is sent.
 */
#include "server/api.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

struct hamf__artifacts {
    int rootfd;
    char *root;
    uint64_t max_bytes; /* 0 = no limit on one uploaded file */
};

void hamf__artifacts_set_max_bytes(struct hamf__artifacts *a, uint64_t max_bytes)
{
    a->max_bytes = max_bytes;
}

uint64_t hamf__artifacts_max_bytes(const struct hamf__artifacts *a)
{
    return a->max_bytes;
}

hamf_status hamf__artifacts_open(const char *dir, struct hamf__artifacts **out)
{
    if (mkdir(dir, 0755) && errno != EEXIST)
        return hamf__err(HAMF_ERR_IO, "artifacts: cannot create %s: %s", dir, strerror(errno));
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return hamf__err(HAMF_ERR_IO, "artifacts: cannot open %s: %s", dir, strerror(errno));
    struct hamf__artifacts *a = hamf__calloc(1, sizeof *a);
    char *rp = realpath(dir, NULL);
    if (!a || !rp) {
        free(rp);
        hamf__free(a);
        close(fd);
        return hamf__err(HAMF_ERR_NOMEM, "artifacts: out of memory");
    }
    a->root = hamf__strdup(rp);
    free(rp);
    if (!a->root) {
        hamf__free(a);
        close(fd);
        return hamf__err(HAMF_ERR_NOMEM, "artifacts: out of memory");
    }
    a->rootfd = fd;
    *out = a;
    return HAMF_OK;
}

void hamf__artifacts_close(struct hamf__artifacts *a)
{
    if (!a) return;
    close(a->rootfd);
    hamf__free(a->root);
    hamf__free(a);
}

const char *hamf__artifacts_root(const struct hamf__artifacts *a)
{
    return a->root;
}

/* ---- path handling ---- */

#define MAX_DEPTH 64

struct rpath {
    char *buf;          /* copy of the path, split in place */
    char *seg[MAX_DEPTH];
    int n;
};

/* Split `rel` into components; refuse "..", absolute paths, backslashes
 * and over-deep paths; "." and empty components are dropped. */
static hamf_status split_path(const char *rel, struct rpath *p)
{
    memset(p, 0, sizeof *p);
    if (rel[0] == '/') return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid path '%s': absolute paths are not allowed", rel);
    if (strchr(rel, '\\')) return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid path '%s': backslashes are not allowed", rel);
    p->buf = hamf__strdup(rel);
    if (!p->buf) return hamf__err(HAMF_ERR_NOMEM, "artifacts: out of memory");
    char *save = NULL;
    for (char *s = strtok_r(p->buf, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
        if (!strcmp(s, ".")) continue;
        if (!strcmp(s, "..")) {
            hamf__free(p->buf);
            p->buf = NULL;
            return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid path '%s': '..' is not allowed", rel);
        }
        if (p->n == MAX_DEPTH) {
            hamf__free(p->buf);
            p->buf = NULL;
            return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid path '%s': too deep", rel);
        }
        p->seg[p->n++] = s;
    }
    return HAMF_OK;
}

/* Open the directory made of the first `n` components (creating them when
 * `create`), never following a symlink. */
static hamf_status open_dir(struct hamf__artifacts *a, const struct rpath *p, int n, bool create, int *out)
{
    int fd = dup(a->rootfd);
    if (fd < 0) return hamf__err(HAMF_ERR_IO, "artifacts: dup: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        int nfd = openat(fd, p->seg[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, p->seg[i], 0755) && errno != EEXIST) {
                int e = errno;
                close(fd);
                return hamf__err(HAMF_ERR_IO, "artifacts: mkdir %s: %s", p->seg[i], strerror(e));
            }
            nfd = openat(fd, p->seg[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        int e = errno;
        close(fd);
        if (nfd < 0) {
            if (e == ENOENT) return hamf__err(HAMF_ERR_NOTFOUND, "No such artifact directory: %s", p->seg[i]);
            if (e == ELOOP || e == ENOTDIR)
                return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid path: '%s' is a symlink or not a directory", p->seg[i]);
            return hamf__err(HAMF_ERR_IO, "artifacts: open %s: %s", p->seg[i], strerror(e));
        }
        fd = nfd;
    }
    *out = fd;
    return HAMF_OK;
}

/* Is the path a regular file (no symlink anywhere)? */
static bool is_file(struct hamf__artifacts *a, const struct rpath *p)
{
    int dfd = -1;
    if (open_dir(a, p, p->n - 1, false, &dfd)) {

        return false;
    }
    struct stat sb;
    bool f = !fstatat(dfd, p->seg[p->n - 1], &sb, AT_SYMLINK_NOFOLLOW) && S_ISREG(sb.st_mode);
    close(dfd);
    return f;
}

/* ---- MIME types ---- */

/* MLflow's rule (mlflow/utils/mime_type_utils.py): text-like extensions
 * and the extension-less files MLmodel and mlproject (its spelling) are
 * text/plain;
 * otherwise the type of the extension (Python's mimetypes table; the common
 * entries below), else application/octet-stream. Every download is sent as
 * an attachment with X-Content-Type-Options: nosniff (http.c), so a
 * browser never renders HTML, SVG or scripts from the server inline; .js
 * and .xml are text/plain. */
static const char *const text_exts[] = {
    "txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop", "hocon", "toml", "yaml",
    "yml", "xml", "json", "js", "py", "py3", "csv", "tsv", "md", "rst", "MLmodel", "mlproject",
};

static const struct {
    const char *ext, *type;
} mime_table[] = {
    {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"jpe", "image/jpeg"},
    {"gif", "image/gif"}, {"bmp", "image/bmp"}, {"ico", "image/vnd.microsoft.icon"}, {"tif", "image/tiff"},
    {"tiff", "image/tiff"}, {"svg", "image/svg+xml"}, {"webp", "image/webp"}, {"pdf", "application/pdf"},
    {"html", "text/html"}, {"htm", "text/html"}, {"css", "text/css"}, {"mjs", "text/javascript"},
    {"zip", "application/zip"}, {"gz", "application/gzip"}, {"tar", "application/x-tar"},
    {"bz2", "application/x-bzip2"}, {"xz", "application/x-xz"}, {"mp3", "audio/mpeg"}, {"wav", "audio/x-wav"},
    {"mp4", "video/mp4"}, {"mpeg", "video/mpeg"}, {"webm", "video/webm"}, {"parquet", "application/vnd.apache.parquet"},
    {"wasm", "application/wasm"}, {"ps", "application/postscript"}, {"rtf", "application/rtf"},
    {"ipynb", "application/x-ipynb+json"}, {"h5", "application/x-hdf5"},
};

const char *hamf__artifacts_mime(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');
    /* like os.path.splitext: a leading dot is not an extension */
    const char *ext = dot && dot != base ? dot + 1 : base;
    for (size_t i = 0; i < HAMF_ARRAY_LEN(text_exts); i++)
        if (!strcmp(ext, text_exts[i])) return "text/plain";
    if (ext == base) return "application/octet-stream";
    for (size_t i = 0; i < HAMF_ARRAY_LEN(mime_table); i++)
        if (!strcasecmp(ext, mime_table[i].ext)) return mime_table[i].type;
    return "application/octet-stream";
}

/* ---- list ---- */

struct entry {
    char *name;
    bool dir;
    int64_t size;
};

static int entry_cmp(const void *x, const void *y)
{
    return strcmp(((const struct entry *)x)->name, ((const struct entry *)y)->name);
}

hamf_status hamf__artifacts_list(struct hamf__artifacts *a, const char *rel, const char *prefix, struct hamf__buf *out)
{
    struct rpath p;
    hamf_status st = split_path(rel ? rel : "", &p);
    if (st) return st;
    int fd = -1;
    DIR *d = NULL;
    struct entry *ents = NULL;
    size_t n = 0, cap = 0;
    st = open_dir(a, &p, p.n, false, &fd);
    if (st == HAMF_ERR_NOTFOUND) {
        st = HAMF_OK; /* nothing there yet: an empty listing */
        goto cleanup;
    }
    if (st == HAMF_ERR_CONSTRAINT && p.n && is_file(a, &p)) {
        /* a file lists as nothing, as MLflow answers: that is how its
         * client tells a file from a directory */

        st = HAMF_OK;
        goto cleanup;
    }
    if (st) goto cleanup;
    d = fdopendir(fd);
    if (!d) {
        st = hamf__err(HAMF_ERR_IO, "artifacts: opendir: %s", strerror(errno));
        goto cleanup;
    }
    fd = -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (!strncmp(de->d_name, ".hamf-upload-", 13)) continue;
        struct stat sb;
        if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW)) continue;
        if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode)) continue; /* symlinks are not served */
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct entry *ne = hamf__realloc(ents, nc * sizeof *ne);
            if (!ne) {
                st = hamf__err(HAMF_ERR_NOMEM, "artifacts: out of memory");
                goto cleanup;
            }
            ents = ne;
            cap = nc;
        }
        ents[n].name = hamf__strdup(de->d_name);
        if (!ents[n].name) {
            st = hamf__err(HAMF_ERR_NOMEM, "artifacts: out of memory");
            goto cleanup;
        }
        ents[n].dir = S_ISDIR(sb.st_mode);
        ents[n].size = (int64_t)sb.st_size;
        n++;
    }
    if (!n) goto cleanup;
    qsort(ents, n, sizeof *ents, entry_cmp);
    if ((st = hamf__buf_puts(out, "\"files\":["))) goto cleanup;
    for (size_t i = 0; i < n; i++) {
        if (i && (st = hamf__buf_putc(out, ','))) goto cleanup;
        char *path = hamf__asprintf("%s%s", prefix ? prefix : "", ents[i].name);
        if (!path) {
            st = hamf__err(HAMF_ERR_NOMEM, "artifacts: out of memory");
            goto cleanup;
        }
        st = hamf__buf_puts(out, "{\"path\":");
        if (!st) st = hamf__json_str(out, path, (size_t)-1);
        hamf__free(path);
        if (!st) {
            if (ents[i].dir)
                st = hamf__buf_puts(out, ",\"is_dir\":true}");
            else
                st = hamf__buf_printf(out, ",\"is_dir\":false,\"file_size\":%lld}", (long long)ents[i].size);
        }
        if (st) goto cleanup;
    }
    st = hamf__buf_putc(out, ']');
cleanup:
    for (size_t i = 0; i < n; i++) hamf__free(ents[i].name);
    hamf__free(ents);
    if (d) closedir(d);
    if (fd >= 0) close(fd);
    hamf__free(p.buf);
    return st;
}

/* ---- handlers ---- */

static struct hamf__artifacts *ctx_artifacts(void *ctx)
{
    return ((struct hamf__server_ctx *)ctx)->artifacts;
}

void hamf__artifacts_list_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    const char *path = hamf__http_query(req, "path");
    hamf_status st = hamf__buf_putc(&resp->body, '{');
    if (!st) st = hamf__artifacts_list(ctx_artifacts(ctx), path ? path : "", "", &resp->body);
    if (!st) st = hamf__buf_putc(&resp->body, '}');
    if (st) hamf__api_status_error(resp, st);
}

void hamf__artifacts_send(struct hamf__artifacts *a, const char *rel, struct hamf__http_resp *resp)
{
    struct rpath p;
    hamf_status st = split_path(rel, &p);
    if (st) {
        hamf__api_status_error(resp, st);
        return;
    }
    int dfd = -1, fd = -1;
    if (!p.n) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Artifact path is empty");
        goto cleanup;
    }
    if ((st = open_dir(a, &p, p.n - 1, false, &dfd))) {
        if (st == HAMF_ERR_NOTFOUND)
            hamf__api_error(resp, 404, "RESOURCE_DOES_NOT_EXIST", "Artifact '%s' does not exist", rel);
        else
            hamf__api_status_error(resp, st);
        goto cleanup;
    }
    fd = openat(dfd, p.seg[p.n - 1], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            hamf__api_error(resp, 404, "RESOURCE_DOES_NOT_EXIST", "Artifact '%s' does not exist", rel);
        else if (errno == ELOOP)
            hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Invalid path '%s': symlinks are not served", rel);
        else
            hamf__api_error(resp, 500, "INTERNAL_ERROR", "Cannot open artifact: %s", strerror(errno));
        goto cleanup;
    }
    struct stat sb;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Artifact '%s' is not a file", rel);
        goto cleanup;
    }
    resp->fd = fd;
    fd = -1;
    resp->fd_size = (uint64_t)sb.st_size;
    const char *base = p.seg[p.n - 1];
    resp->content_type = hamf__artifacts_mime(base);
    /* always an attachment (never rendered inline); quote-safe filename:
     * drop quotes, backslashes and control bytes */
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    if (!hamf__buf_puts(&b, "attachment; filename=\"")) {
        for (const char *c = base; *c; c++)
            if (*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20 && *c != 0x7f) (void)hamf__buf_putc(&b, *c);
        if (!hamf__buf_putc(&b, '"')) resp->disposition = hamf__buf_detach(&b, NULL);
    }
    hamf__buf_free(&b);
cleanup:
    if (fd >= 0) close(fd);
    if (dfd >= 0) close(dfd);
    hamf__free(p.buf);
}

void hamf__artifacts_get(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    hamf__artifacts_send(ctx_artifacts(ctx), req->route_rest, resp);
}

/* Write a whole file atomically (temp file, fsync, rename). */
hamf_status hamf__artifacts_write(struct hamf__artifacts *a, const char *rel, const char *data, size_t n)
{
    if (a->max_bytes && n > a->max_bytes)
        return hamf__err(HAMF_ERR_CONSTRAINT, "Artifact '%s' is %zu bytes, more than the server's limit of %llu bytes",
                         rel, n, (unsigned long long)a->max_bytes);
    struct rpath p;
    hamf_status st = split_path(rel, &p);
    if (st) return st;
    int dfd = -1, fd = -1;
    char tmp[40] = "";
    if (!p.n) {
        st = hamf__err(HAMF_ERR_CONSTRAINT, "Artifact path is empty");
        goto done;
    }
    if ((st = open_dir(a, &p, p.n - 1, true, &dfd))) goto done;
    for (int tries = 0; tries < 10 && fd < 0; tries++) {
        unsigned char rnd[8];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) memset(rnd, tries, sizeof rnd);
        snprintf(tmp, sizeof tmp, ".hamf-upload-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
                 rnd[4], rnd[5], rnd[6], rnd[7]);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        st = hamf__err(HAMF_ERR_IO, "Cannot create artifact file: %s", strerror(errno));
        goto done;
    }
    while (n) {
        ssize_t w = write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            st = hamf__err(HAMF_ERR_IO, "Cannot write artifact: %s", strerror(errno));
            goto done;
        }
        data += w;
        n -= (size_t)w;
    }
    if (fsync(fd)) {
        st = hamf__err(HAMF_ERR_IO, "Cannot sync artifact: %s", strerror(errno));
        goto done;
    }
    if (renameat(dfd, tmp, dfd, p.seg[p.n - 1])) {
        st = errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST
                 ? hamf__err(HAMF_ERR_CONSTRAINT, "Artifact path '%s' is a directory", rel)
                 : hamf__err(HAMF_ERR_IO, "Cannot store artifact: %s", strerror(errno));
        goto done;
    }
    close(fd);
    fd = -1;
    tmp[0] = '\0';
    (void)fsync(dfd);
done:
    if (fd >= 0) close(fd);
    if (tmp[0] && dfd >= 0) unlinkat(dfd, tmp, 0);
    if (dfd >= 0) close(dfd);
    hamf__free(p.buf);
    return st;
}

static hamf_status remove_tree(int dfd, const char *name)
{
    if (!unlinkat(dfd, name, 0)) return HAMF_OK;
    if (errno != EISDIR && errno != EPERM) {
        if (errno == ENOENT) return HAMF_OK;
        return hamf__err(HAMF_ERR_IO, "artifacts: unlink %s: %s", name, strerror(errno));
    }
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return hamf__err(HAMF_ERR_IO, "artifacts: open %s: %s", name, strerror(errno));
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return hamf__err(HAMF_ERR_IO, "artifacts: opendir %s: %s", name, strerror(errno));
    }
    hamf_status st = HAMF_OK;
    struct dirent *de;
    while (!st && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        st = remove_tree(dirfd(d), de->d_name);
    }
    closedir(d);
    if (!st && unlinkat(dfd, name, AT_REMOVEDIR) && errno != ENOENT)
        st = hamf__err(HAMF_ERR_IO, "artifacts: rmdir %s: %s", name, strerror(errno));
    return st;
}

void hamf__artifacts_delete_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    struct hamf__artifacts *a = ctx_artifacts(ctx);
    struct rpath p;
    hamf_status st = split_path(req->route_rest, &p);
    if (st) {
        hamf__api_status_error(resp, st);
        return;
    }
    int dfd = -1;
    if (!p.n) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Artifact path is empty");
        goto cleanup;
    }
    st = open_dir(a, &p, p.n - 1, false, &dfd);
    if (st == HAMF_ERR_NOTFOUND) {
        (void)hamf__buf_puts(&resp->body, "{}");
        goto cleanup;
    }
    if (!st) st = remove_tree(dfd, p.seg[p.n - 1]);
    if (!st && fsync(dfd)) st = hamf__err(HAMF_ERR_IO, "artifacts: fsync: %s", strerror(errno));
    if (st)
        hamf__api_status_error(resp, st);
    else
        (void)hamf__buf_puts(&resp->body, "{}");
cleanup:
    if (dfd >= 0) close(dfd);
    hamf__free(p.buf);
}

/* ---- upload (streamed) ---- */

struct upload {
    int dfd, fd;
    char tmp[40];
    char *name;
    uint64_t written, max_bytes;
};

static void up_abort(void *state)
{
    struct upload *u = state;
    if (!u) return;
    if (u->fd >= 0) {
        close(u->fd);
        unlinkat(u->dfd, u->tmp, 0);
    }
    if (u->dfd >= 0) close(u->dfd);
    hamf__free(u->name);
    hamf__free(u);
}

static void *up_begin(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    struct hamf__artifacts *a = ctx_artifacts(ctx);
    struct rpath p;
    hamf_status st = split_path(req->route_rest, &p);
    if (st) {
        hamf__api_status_error(resp, st);
        return NULL;
    }
    struct upload *u = NULL;
    if (!p.n) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Artifact path is empty");
        goto fail;
    }
    u = hamf__calloc(1, sizeof *u);
    if (!u) {
        hamf__api_status_error(resp, hamf__err(HAMF_ERR_NOMEM, "artifacts: out of memory"));
        goto fail;
    }
    u->dfd = u->fd = -1;
    u->max_bytes = a->max_bytes;
    u->name = hamf__strdup(p.seg[p.n - 1]);
    if (!u->name) {
        hamf__api_status_error(resp, hamf__err(HAMF_ERR_NOMEM, "artifacts: out of memory"));
        goto fail;
    }
    if ((st = open_dir(a, &p, p.n - 1, true, &u->dfd))) {
        hamf__api_status_error(resp, st);
        goto fail;
    }
    for (int tries = 0; tries < 10 && u->fd < 0; tries++) {
        unsigned char rnd[8];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) memset(rnd, tries, sizeof rnd);
        snprintf(u->tmp, sizeof u->tmp, ".hamf-upload-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
                 rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
        u->fd = openat(u->dfd, u->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (u->fd < 0 && errno != EEXIST) break;
    }
    if (u->fd < 0) {
        hamf__api_error(resp, 500, "INTERNAL_ERROR", "Cannot create artifact file: %s", strerror(errno));
        goto fail;
    }
    hamf__free(p.buf);
    return u;
fail:
    hamf__free(p.buf);
    up_abort(u);
    return NULL;
}

static bool up_chunk(void *state, const char *data, size_t n, struct hamf__http_resp *resp)
{
    struct upload *u = state;
    if (u->max_bytes && (u->written + n > u->max_bytes || u->written + n < u->written)) {
        /* the temporary file is removed by abort: nothing partial appears */
        hamf__api_error(resp, 413, "RESOURCE_LIMIT_EXCEEDED",
                        "Artifact upload is larger than the server's limit of %llu bytes (--max-artifact-bytes)",
                        (unsigned long long)u->max_bytes);
        return false;
    }
    u->written += n;
    while (n) {
        ssize_t w = write(u->fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOSPC || errno == EDQUOT)
                hamf__api_error(resp, 507, "RESOURCE_EXHAUSTED", "Cannot write artifact: %s", strerror(errno));
            else
                hamf__api_error(resp, 500, "INTERNAL_ERROR", "Cannot write artifact: %s", strerror(errno));
            return false;
        }
        data += w;
        n -= (size_t)w;
    }
    return true;
}

static void up_finish(void *state, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    struct upload *u = state;
    if (fsync(u->fd)) {
        hamf__api_error(resp, 500, "INTERNAL_ERROR", "Cannot sync artifact: %s", strerror(errno));
        goto done;
    }
    if (renameat(u->dfd, u->tmp, u->dfd, u->name)) {
        if (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST)
            hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Artifact path '%s' is a directory", req->route_rest);
        else
            hamf__api_error(resp, 500, "INTERNAL_ERROR", "Cannot store artifact: %s", strerror(errno));
        goto done;
    }
    close(u->fd);
    u->fd = -1;
    (void)fsync(u->dfd);
    (void)hamf__buf_puts(&resp->body, "{}");
done:
    up_abort(u);
}

const struct hamf__http_stream hamf__artifacts_upload = {up_begin, up_chunk, up_finish, up_abort};

/* ---- locations ---- */

/* rest of `path` below `root` ("" for the root itself), or NULL */
static const char *below(const char *root, const char *path)
{
    size_t n = strlen(root);
    if (strncmp(path, root, n)) return NULL;
    if (path[n] == '\0') return path + n;
    if (path[n] == '/' || (n && root[n - 1] == '/')) return path + n + (path[n] == '/');
    return NULL;
}

hamf_status hamf__artifacts_resolve(const struct hamf__server_ctx *c, const char *uri, struct hamf__artifacts **a,
                                    char **rel)
{
    static const char proxied[] = "mlflow-artifacts:", file[] = "file:";
    if (!strncmp(uri, proxied, sizeof proxied - 1)) {
        const char *r = uri + sizeof proxied - 1;
        if (r[0] == '/' && r[1] == '/') { /* mlflow-artifacts://host:port/path */
            r = strchr(r + 2, '/');
            if (!r) r = "";
        }
        while (*r == '/') r++;
        if (!(*rel = hamf__strdup(r))) return hamf__err(HAMF_ERR_NOMEM, "artifacts: out of memory");
        *a = c->artifacts;
        return HAMF_OK;
    }
    const char *path = uri;
    char *decoded = NULL;
    if (!strncmp(uri, file, sizeof file - 1)) {
        path = uri + sizeof file - 1;
        if (path[0] == '/' && path[1] == '/') { /* file://[localhost]/path */
            path += 2;
            if (!strncmp(path, "localhost/", 10)) path += 9;
            else if (*path != '/') goto elsewhere;
        }
        if (!(decoded = hamf__http_unescape(path, strlen(path), false)))
            return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid artifact location '%s'", uri);
        path = decoded;
    }
    if (path[0] == '/') {
        struct hamf__artifacts *roots[2] = {c->local_root, c->artifacts};
        for (int i = 0; i < 2; i++) {
            const char *r = roots[i] ? below(roots[i]->root, path) : NULL;
            if (!r) continue;
            *rel = hamf__strdup(r);
            hamf__free(decoded);
            if (!*rel) return hamf__err(HAMF_ERR_NOMEM, "artifacts: out of memory");
            *a = roots[i];
            return HAMF_OK;
        }
    }
elsewhere:
    hamf__free(decoded);
    return hamf__err(HAMF_ERR_CONSTRAINT,
                     "The artifact location '%s' is not served by this server (only mlflow-artifacts:/ and "
                     "local paths under its artifact roots are)",
                     uri);
}

bool hamf__api_path_is_safe(const char *path)
{
    /* decode until stable, as MLflow does (at most a few rounds) */
    char *cur = hamf__strdup(path);
    if (!cur) return false;
    for (int i = 0; i < 8 && strchr(cur, '%'); i++) {
        char *d = hamf__http_unescape(cur, strlen(cur), false);
        if (!d) break; /* a '%' that is not an escape stays as it is */
        bool same = !strcmp(d, cur);
        hamf__free(cur);
        cur = d;
        if (same) break;
    }
    const char *p = cur;
    if (!strncmp(p, "file://", 7)) p += 7;
    else if (!strncmp(p, "file:", 5)) p += 5;
    bool ok = !strchr(cur, '#') && !strchr(p, '\\') && p[0] != '/' &&
              !(((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':');
    for (const char *s = p; ok && *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 2 && s[0] == '.' && s[1] == '.') ok = false;
        s += n + (e != NULL);
    }
    hamf__free(cur);
    return ok;
}
