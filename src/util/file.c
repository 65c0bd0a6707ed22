/*
 * file.c — the file helpers every module uses: read a whole file, mkdir -p,
 * and the atomic write (temp file beside the target, fsync, rename, fsync
 * of the directory) that makes an output appear whole or not at all.
 */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

hamf_status hamf__file_read(const char *path, size_t max_bytes, struct hamf__buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hamf__err(errno == ENOENT ? HAMF_ERR_NOTFOUND : HAMF_ERR_IO, "cannot read %s: %s", path,
                         strerror(errno));
    hamf_status st = HAMF_OK;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
        st = hamf__err(HAMF_ERR_IO, "cannot read %s: %s", path, S_ISDIR(sb.st_mode) ? "is a directory" : strerror(errno));
        goto done;
    }
    size_t start = out->len;
    /* one read for a regular file of known size; chunks otherwise */
    if (S_ISREG(sb.st_mode) && sb.st_size > 0 && (!max_bytes || (size_t)sb.st_size <= max_bytes) &&
        (st = hamf__buf_reserve(out, (size_t)sb.st_size + 1)))
        goto done;
    /* a regular file of known size: straight into the buffer (a model
     * file is read once, not copied twice) */
    while (out->cap > out->len + 1) {
        ssize_t n = read(fd, out->data + out->len, out->cap - out->len - 1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            st = hamf__err(HAMF_ERR_IO, "cannot read %s: %s", path, strerror(errno));
            goto done;
        }
        if (n == 0) break;
        if (max_bytes && out->len - start + (size_t)n > max_bytes) {
            st = hamf__err(HAMF_ERR_CONSTRAINT, "%s is over %zu bytes", path, max_bytes);
            goto done;
        }
        out->len += (size_t)n;
        out->data[out->len] = 0;
    }
    for (;;) {
        char chunk[65536];
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            st = hamf__err(HAMF_ERR_IO, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0) break;
        if (max_bytes && out->len - start + (size_t)n > max_bytes) {
            st = hamf__err(HAMF_ERR_CONSTRAINT, "%s is over %zu bytes", path, max_bytes);
            break;
        }
        if ((st = hamf__buf_append(out, chunk, (size_t)n))) break;
    }
done:
    close(fd);
    return st;
}

hamf_status hamf__file_mkdirs(const char *dir)
{
    char *p = hamf__strdup(dir);
    if (!p) return hamf__err(HAMF_ERR_NOMEM, "out of memory");
    hamf_status s = HAMF_OK;
    for (char *c = p + 1;; c++) {
        if (*c && *c != '/') continue;
        char keep = *c;
        *c = '\0';
        if (mkdir(p, 0755) && errno != EEXIST) {
            s = hamf__err(HAMF_ERR_IO, "cannot create %s: %s", p, strerror(errno));
            break;
        }
        if (!keep) break;
        *c = keep;
    }
    hamf__free(p);
    return s;
}

hamf_status hamf__file_mkdirs_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return HAMF_OK;
    char *dir = hamf__strndup(path, (size_t)(slash - path));
    if (!dir) return hamf__err(HAMF_ERR_NOMEM, "out of memory");
    hamf_status s = hamf__file_mkdirs(dir);
    hamf__free(dir);
    return s;
}

hamf_status hamf__file_write_atomic(const char *path, const void *data, size_t len, int mode)
{
    char *tmp = hamf__asprintf("%s.tmp.XXXXXX", path);
    if (!tmp) return hamf__err(HAMF_ERR_NOMEM, "out of memory");
    hamf_status s = HAMF_OK;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        s = hamf__err(HAMF_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
        hamf__free(tmp);
        return s;
    }
    const char *c = data;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, c + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    /* fchmod: the mode exactly, whatever the umask */
    if (off < len || fchmod(fd, (mode_t)mode) || fsync(fd))
        s = hamf__err(HAMF_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    if (close(fd) && !s) s = hamf__err(HAMF_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    if (!s && rename(tmp, path)) s = hamf__err(HAMF_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (s) {
        unlink(tmp);
    } else {
        /* the rename itself survives a crash once the directory is synced */
        const char *slash = strrchr(path, '/');
        char *dir = slash ? hamf__strndup(path, slash == path ? 1 : (size_t)(slash - path)) : hamf__strdup(".");
        int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        hamf__free(dir);
    }
    hamf__free(tmp);
    return s;
}

/* ---- public (hamf.h) ---- */

void hamf_free(void *p) { hamf__free(p); }

hamf_status hamf_file_read(const char *path, char **out, size_t *len)
{
    if (!path || !out) return hamf__err(HAMF_ERR_MISUSE, "file: NULL argument");
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_status st = hamf__file_read(path, 0, &b);
    if (!st) st = hamf__buf_putc(&b, '\0');
    if (st) {
        hamf__buf_free(&b);
        return st;
    }
    size_t l = 0;
    *out = hamf__buf_detach(&b, &l);
    if (!*out) return hamf__err(HAMF_ERR_NOMEM, "out of memory reading %s", path);
    if (len) *len = l - 1;
    return HAMF_OK;
}

hamf_status hamf_file_write(const char *path, const void *data, size_t len)
{
    if (!path || (!data && len)) return hamf__err(HAMF_ERR_MISUSE, "file: NULL argument");
    return hamf__file_write_atomic(path, data ? data : "", len, 0644);
}
