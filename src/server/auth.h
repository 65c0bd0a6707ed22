/*
 * auth.h — HTTP basic authentication for `hamf server --auth-file`: the
 * credentials file (one `user:hash` a line, hashes made by libcrypt:
 * yescrypt `$y$` or sha512-crypt `$6$`), verifying a user's password
 * against it with a short per-process cache of verified credentials (a
 * yescrypt check costs tens of milliseconds on purpose), adding or
 * replacing an entry (written atomically, mode 0600), and the question
 * whether a bind address is loopback-only.
 *
 * The cache never holds a password: an entry is SHA-256(per-process random
 * key || user || NUL || password) and a deadline. Entries expire after
 * HAMF__AUTH_CACHE_SECONDS; the file is read once at start (restart the
 * server after editing it).
 */
#ifndef HAMF_SERVER_AUTH_H
#define HAMF_SERVER_AUTH_H

#include "util/util.h"

#define HAMF__AUTH_CACHE_SECONDS 60.0
/* Past this many failed attempts from one client address within the
 * window, that address gets 429 (Retry-After: the rest of the window)
 * without a password check, except for credentials already in the cache,
 * so a valid user is never held up by someone guessing. */
#define HAMF__AUTH_MAX_FAILURES 10
#define HAMF__AUTH_WINDOW_SECONDS 60.0

struct hamf__auth;

/* Read and check `path` (blank lines and lines starting with '#' are
 * skipped). A malformed line fails with HAMF_ERR_PARSE naming path:line;
 * a file without users fails too. A file accessible by group or others
 * (mode & 077) is loaded with a warning on stderr. [owned: hamf__auth_free] */
hamf_status hamf__auth_load(const char *path, struct hamf__auth **out);
void hamf__auth_free(struct hamf__auth *a);

/* Leave GET/HEAD /metrics open to requests without credentials. */
void hamf__auth_set_metrics_public(struct hamf__auth *a, bool on);

/* True when user/pass match an entry. Takes the same time for an unknown
 * user as for a wrong password; compares in constant time. */
bool hamf__auth_verify(struct hamf__auth *a, const char *user, const char *pass);

/* Failed attempts allowed per client address and window (0 = no limit). */
void hamf__auth_set_limit(struct hamf__auth *a, unsigned max_failures, double window_s);

/* The http.c auth hook (ctx is a struct hamf__auth, see hamf__http_auth_fn):
 * 0 when the request for `path` may be served, 401, or 429 when `client`
 * is past its failed attempts (see HAMF__AUTH_MAX_FAILURES). user/pass are
 * NULL without credentials; a request without them is not a failed attempt. */
int hamf__auth_check(void *ctx, const char *path, const char *user, const char *pass, const char *client,
                     int *retry_after);
/* The same without a client address (no rate limit): true = serve. */
bool hamf__auth_request(void *ctx, const char *path, const char *user, const char *pass);

/* Add `user` to the file at `path` or replace its hash (yescrypt, fresh
 * salt), keeping every other line. The file is written to a temporary
 * file in the same directory with mode 0600, fsynced and renamed. An empty
 * password, or a user name that is empty, too long or holds ':',
 * whitespace or control characters, fails with HAMF_ERR_CONSTRAINT. */
hamf_status hamf__auth_passwd_set(const char *path, const char *user, const char *password);

/* *loopback = true when every address `host` resolves to is a loopback
 * address (127.0.0.0/8, ::1). HAMF_ERR_CONNECT when it does not resolve. */
hamf_status hamf__host_is_loopback(const char *host, bool *loopback);

#endif
