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
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

struct hamf__artifacts {
    int rootfd;
    char *root;
};

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

void hamf__artifacts_get(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp)
{
    struct hamf__artifacts *a = ctx_artifacts(ctx);
    struct rpath p;
    hamf_status st = split_path(req->route_rest, &p);
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
            hamf__api_error(resp, 404, "RESOURCE_DOES_NOT_EXIST", "Artifact '%s' does not exist", req->route_rest);
        else
            hamf__api_status_error(resp, st);
        goto cleanup;
    }
    fd = openat(dfd, p.seg[p.n - 1], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            hamf__api_error(resp, 404, "RESOURCE_DOES_NOT_EXIST", "Artifact '%s' does not exist", req->route_rest);
        else if (errno == ELOOP)
            hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Invalid path '%s': symlinks are not served", req->route_rest);
        else
            hamf__api_error(resp, 500, "INTERNAL_ERROR", "Cannot open artifact: %s", strerror(errno));
        goto cleanup;
    }
    struct stat sb;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "Artifact '%s' is not a file", req->route_rest);
        goto cleanup;
    }
    resp->fd = fd;
    fd = -1;
    resp->fd_size = (uint64_t)sb.st_size;
    resp->content_type = "application/octet-stream";
    const char *base = p.seg[p.n - 1];
    /* quote-safe filename: drop quotes and control bytes */
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    if (!hamf__buf_puts(&b, "attachment; filename=\"")) {
        for (const char *c = base; *c; c++)
            if (*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20) (void)hamf__buf_putc(&b, *c);
        if (!hamf__buf_putc(&b, '"')) resp->disposition = hamf__buf_detach(&b, NULL);
    }
    hamf__buf_free(&b);
cleanup:
    if (fd >= 0) close(fd);
    if (dfd >= 0) close(dfd);
    hamf__free(p.buf);
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
