/*
 * maint.c — store maintenance for SQLite stores (hamf.h): checking
 * (quick_check / integrity_check), online backup with SQLite's backup API,
 * and restore from such a backup. PostgreSQL stores use pg_dump and
 * pg_restore (README); these calls say so.
 */
#include "store/db_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_pg(const char *url)
{
    return !strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11);
}

static hamf_status pg_unsupported(const char *what)
{
    return hamf__err(HAMF_ERR_UNSUPPORTED,
                     "store %s: PostgreSQL stores are backed up with pg_dump and restored with pg_restore "
                     "(see README, 'Backups'); this command is for SQLite stores",
                     what);
}

/* The SQLite path in `url` (a path or sqlite:///abs/path). */
static const char *sqlite_path(const char *url)
{
    return !strncmp(url, "sqlite:///", 10) ? url + 9 : url;
}

/* Run PRAGMA quick_check / integrity_check on h; HAMF_ERR_CORRUPT with the
 * first findings when it is not "ok". */
static hamf_status run_check(sqlite3 *h, const char *name, bool full)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(h, full ? "PRAGMA integrity_check(20)" : "PRAGMA quick_check(20)", -1, &q, NULL);
    if (rc != SQLITE_OK)
        return hamf__err(HAMF_ERR_CORRUPT, "store: %s: cannot check: %s", name, sqlite3_errmsg(h));
    struct hamf__buf b;
    hamf__buf_init(&b, 2048);
    int rows = 0;
    bool ok = false;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(q, 0);
        if (rows == 0 && m && !strcmp(m, "ok")) ok = true;
        if (m && strcmp(m, "ok")) {
            (void)hamf__buf_puts(&b, rows ? "; " : "");
            for (const char *p = m; *p; p++) (void)hamf__buf_putc(&b, *p == '\n' ? ' ' : *p);
            rows++;
        }
    }
    if (rc != SQLITE_DONE) {
        (void)hamf__buf_puts(&b, rows ? "; " : "");
        (void)hamf__buf_puts(&b, sqlite3_errmsg(h));
        ok = false;
        rows++;
    }
    sqlite3_finalize(q);
    hamf_status s = HAMF_OK;
    if (!ok || rows)
        s = hamf__err(HAMF_ERR_CORRUPT, "store: %s: damaged (%s): %s", name, full ? "integrity_check" : "quick_check",
                      b.data ? b.data : "?");
    hamf__buf_free(&b);
    return s;
}

hamf_status hamf_store_check(const char *url, int full)
{
    if (!url) return hamf__err(HAMF_ERR_MISUSE, "store check: NULL url");
    if (is_pg(url)) return pg_unsupported("check");
    struct hamf__db *db = NULL;
    hamf_status s = hamf__db_open(url, &db);
    if (s) return s;
    s = run_check(hamf__sqlite_handle(db), hamf__db_name(db), full != 0);
    hamf__db_close(db);
    return s;
}

static hamf_status fsync_path(const char *path, bool dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) return hamf__err(HAMF_ERR_IO, "store: cannot open %s: %s", path, strerror(errno));
    int r = fsync(fd);
    int e = errno;
    close(fd);
    if (r) return hamf__err(e == ENOSPC ? HAMF_ERR_FULL : HAMF_ERR_IO, "store: fsync %s: %s", path, strerror(e));
    return HAMF_OK;
}

static void dir_of(const char *path, char *out, size_t n)
{
    const char *sl = strrchr(path, '/');
    if (!sl) snprintf(out, n, ".");
    else if (sl == path) snprintf(out, n, "/");
    else snprintf(out, n, "%.*s", (int)(sl - path), path);
}

/* Copy everything from `from` into the new file `tmp` (backup API, one
 * step: one read transaction, a consistent snapshot), check the copy, leave
 * it in rollback-journal mode DELETE or WAL as asked, fsync it. */
static hamf_status copy_to(sqlite3 *from, const char *from_name, const char *tmp, bool wal)
{
    sqlite3 *to = NULL;
    hamf_status s = HAMF_OK;
    int rc = sqlite3_open_v2(tmp, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        s = hamf__err(HAMF_ERR_IO, "store: cannot create %s: %s", tmp, to ? sqlite3_errmsg(to) : "out of memory");
        goto done;
    }
    sqlite3_busy_timeout(to, 5000);
    sqlite3_backup *bk = sqlite3_backup_init(to, "main", from, "main");
    if (!bk) {
        s = hamf__err(HAMF_ERR_IO, "store: backup of %s: %s", from_name, sqlite3_errmsg(to));
        goto done;
    }
    for (;;) {
        rc = sqlite3_backup_step(bk, -1);
        if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
        sqlite3_sleep(20);
    }
    int fin = sqlite3_backup_finish(bk);
    if (rc != SQLITE_DONE || fin != SQLITE_OK) {
        int e = rc != SQLITE_DONE ? rc : fin;
        s = hamf__err((e & 0xff) == SQLITE_FULL ? HAMF_ERR_FULL : (e & 0xff) == SQLITE_CORRUPT ? HAMF_ERR_CORRUPT
                                                                                              : HAMF_ERR_IO,
                      "store: backup of %s to %s: %s", from_name, tmp, sqlite3_errstr(e));
        goto done;
    }
    if ((s = run_check(to, tmp, true))) goto done;
    rc = sqlite3_exec(to, wal ? "PRAGMA journal_mode=WAL" : "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        s = hamf__err(HAMF_ERR_IO, "store: %s: %s", tmp, sqlite3_errmsg(to));
        goto done;
    }
done:
    if (to && sqlite3_close(to) != SQLITE_OK && !s) s = hamf__err(HAMF_ERR_IO, "store: cannot close %s", tmp);
    if (!s) s = fsync_path(tmp, false);
    return s;
}

hamf_status hamf_store_backup(const char *url, const char *dest)
{
    if (!url || !dest || !*dest) return hamf__err(HAMF_ERR_MISUSE, "store backup: NULL url or destination");
    if (is_pg(url)) return pg_unsupported("backup");
    struct stat sb;
    if (!stat(dest, &sb)) return hamf__err(HAMF_ERR_EXISTS, "store backup: %s already exists", dest);
    struct hamf__db *db = NULL;
    hamf_status s = hamf__db_open(url, &db);
    if (s) return s;
    char tmp[4096], dir[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", dest, (long)getpid());
    unlink(tmp);
    s = copy_to(hamf__sqlite_handle(db), hamf__db_name(db), tmp, false);
    hamf__db_close(db);
    if (!s && link(tmp, dest)) /* link, not rename: never replaces a dest made meanwhile */
        s = hamf__err(errno == EEXIST ? HAMF_ERR_EXISTS : HAMF_ERR_IO, "store backup: cannot create %s: %s", dest,
                      strerror(errno));
    unlink(tmp);
    dir_of(dest, dir, sizeof dir);
    if (!s) s = fsync_path(dir, true);
    return s;
}

hamf_status hamf_store_restore(const char *src, const char *url)
{
    if (!src || !url) return hamf__err(HAMF_ERR_MISUSE, "store restore: NULL source or url");
    if (is_pg(url)) return pg_unsupported("restore");
    const char *path = sqlite_path(url);
    if (!*path || !strcmp(path, ":memory:")) return hamf__err(HAMF_ERR_MISUSE, "store restore: no store path");
    sqlite3 *from = NULL;
    hamf_status s = HAMF_OK;
    char tmp[4096], side[4200], dir[4096];
    snprintf(tmp, sizeof tmp, "%s.restore-%ld", path, (long)getpid());
    unlink(tmp);
    int rc = sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        s = hamf__err(HAMF_ERR_IO, "store restore: cannot open %s: %s", src,
                      from ? sqlite3_errmsg(from) : "out of memory");
        goto done;
    }
    sqlite3_stmt *q = NULL;
    rc = sqlite3_prepare_v2(from, "SELECT count(*) FROM sqlite_master", -1, &q, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && sqlite3_column_int(q, 0) == 0) rc = SQLITE_EMPTY; /* an empty file reads as a 0-table db */
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW) {
        s = hamf__err(HAMF_ERR_CORRUPT, "store restore: %s is not a hamf store backup: %s", src,
                      sqlite3_errmsg(from));
        goto done;
    }
    if ((s = run_check(from, src, true))) goto done;
    if ((s = copy_to(from, src, tmp, true))) goto done;
    /* the old store's WAL must not be replayed into the new file */
    snprintf(side, sizeof side, "%s-wal", path);
    if (unlink(side) && errno != ENOENT) {
        s = hamf__err(HAMF_ERR_IO, "store restore: cannot remove %s: %s", side, strerror(errno));
        goto done;
    }
    snprintf(side, sizeof side, "%s-shm", path);
    (void)unlink(side);
    if (rename(tmp, path)) {
        s = hamf__err(HAMF_ERR_IO, "store restore: cannot replace %s: %s", path, strerror(errno));
        goto done;
    }
    dir_of(path, dir, sizeof dir);
    s = fsync_path(dir, true);
done:
    if (from) sqlite3_close(from);
    unlink(tmp);
    snprintf(side, sizeof side, "%s-wal", tmp);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", tmp);
    unlink(side);
    return s;
}
