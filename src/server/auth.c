/*
 * auth.c — basic-auth credentials of `hamf server` (see auth.h): parsing
 * and checking the `user:hash` file, verifying passwords with libcrypt's
 * crypt_r behind a small cache, rewriting the file for `hamf server
 * passwd`, SHA-256 for the cache keys, and the loopback test for --host.
 */
#include "server/auth.h"

#include <crypt.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUTH_FILE_MAX (1u << 20)
#define USER_MAX 64
#define PASS_MAX 1024
#define CACHE_SLOTS 64
#define FAIL_SLOTS 1024

struct entry {
    char *user;
    char *hash;
};

struct cache_slot {
    uint8_t key[32];
    double expires; /* monotonic seconds; 0 = empty */
};

/* Failed attempts of one client address in the current window. */
struct fail_slot {
    char addr[48];
    unsigned count;
    double window_start; /* monotonic seconds; 0 = empty */
};

struct hamf__auth {
    struct entry *e;
    size_t n;
    bool metrics_public;
    uint8_t secret[32];
    pthread_mutex_t mu;
    struct cache_slot cache[CACHE_SLOTS];
    size_t next_slot;
    unsigned max_failures; /* per address and window; 0 = no limit */
    double window_s;
    struct fail_slot fails[FAIL_SLOTS];
};

/* ---- SHA-256 (FIPS 180-4) ---- */


/* ---- the file ---- */

/* 0 when equal; time depends only on n. */
static int ct_diff(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++) d |= (uint8_t)(x[i] ^ y[i]);
    return d;
}

static bool user_ok(const char *u, size_t n)
{
    if (n == 0 || n > USER_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (c <= ' ' || c == ':' || c == 0x7f) return false;
    }
    return true;
}

static bool b64c(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '/';
}

/* Shape of a crypt hash we accept: "$y$PARAMS$SALT$HASH" (HASH 43
 * characters) or "$6$[rounds=N$]SALT$HASH" (HASH 86 characters). Returns
 * NULL or what is wrong. */
static const char *hash_problem(const char *h)
{
    size_t want;
    int fields; /* '$'-separated fields after the id */
    if (!strncmp(h, "$y$", 3)) {
        want = 43;
        fields = 3;
    } else if (!strncmp(h, "$6$", 3)) {
        want = 86;
        fields = strncmp(h + 3, "rounds=", 7) ? 2 : 3;
    } else {
        return "hash must be yescrypt ($y$...) or sha512-crypt ($6$...); make one with 'hamf server passwd'";
    }
    int got = 1;
    for (const char *p = h + 3; *p; p++) got += *p == '$';
    if (got != fields) return "hash has the wrong number of '$' fields";
    const char *last = strrchr(h, '$') + 1;
    if (strlen(last) != want) return "hash has the wrong length";
    for (const char *p = last; *p; p++)
        if (!b64c(*p)) return "hash holds a character outside [./0-9A-Za-z]";
    return NULL;
}

static hamf_status read_all(const char *path, char **out, size_t *len, bool missing_ok)
{
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_status st = hamf__file_read(path, AUTH_FILE_MAX, &b);
    if (st == HAMF_ERR_NOTFOUND && missing_ok) {
        *out = NULL;
        *len = 0;
        return HAMF_OK;
    }
    if (!st) st = hamf__buf_putc(&b, '\0');
    if (st) {
        hamf__buf_free(&b);
        return hamf__err_prefix(st == HAMF_ERR_NOTFOUND ? HAMF_ERR_IO : st, "auth");
    }
    size_t l = 0;
    *out = hamf__buf_detach(&b, &l);
    *len = l ? l - 1 : 0;
    if (!*out) return hamf__err(HAMF_ERR_NOMEM, "auth: out of memory");
    return HAMF_OK;
}

void hamf__auth_free(struct hamf__auth *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) {
        hamf__free(a->e[i].user);
        hamf__free(a->e[i].hash);
    }
    hamf__free(a->e);
    pthread_mutex_destroy(&a->mu);
    memset(a, 0, sizeof *a);
    hamf__free(a);
}

hamf_status hamf__auth_load(const char *path, struct hamf__auth **out)
{
    char *text = NULL;
    size_t len = 0;
    hamf_status st = read_all(path, &text, &len, false);
    if (st) return st;
    struct hamf__auth *a = hamf__calloc(1, sizeof *a);
    if (!a) {
        hamf__free(text);
        return hamf__err(HAMF_ERR_NOMEM, "auth: out of memory");
    }
    pthread_mutex_init(&a->mu, NULL);
    a->max_failures = HAMF__AUTH_MAX_FAILURES;
    a->window_s = HAMF__AUTH_WINDOW_SECONDS;
    struct stat sb;
    if (!stat(path, &sb) && (sb.st_mode & 077))
        fprintf(stderr,
                "hamf: warning: auth file %s is accessible by group or others (mode %04o): anyone who can read "
                "it can try to crack the hashes offline; run 'chmod 600 %s'\n",
                path, (unsigned)(sb.st_mode & 07777), path);
    size_t cap = 0, lineno = 0;
    for (char *line = text; line && line < text + len;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        lineno++;
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r') line[--ll] = '\0';
        if (ll && line[0] != '#') {
            char *colon = strchr(line, ':');
            const char *why = NULL;
            if (!colon) why = "expected 'user:hash'";
            else if (!user_ok(line, (size_t)(colon - line)))
                why = "bad user name (1-64 characters, no ':', whitespace or control characters)";
            else why = hash_problem(colon + 1);
            for (size_t i = 0; !why && i < a->n; i++)
                if (strlen(a->e[i].user) == (size_t)(colon - line) && !strncmp(a->e[i].user, line, (size_t)(colon - line)))
                    why = "user listed twice";
            if (why) {
                st = hamf__err(HAMF_ERR_PARSE, "auth: %s:%zu: %s", path, lineno, why);
                goto fail;
            }
            if (a->n == cap) {
                size_t nc = cap ? cap * 2 : 8;
                struct entry *ne = hamf__realloc(a->e, nc * sizeof *ne);
                if (!ne) goto nomem;
                a->e = ne;
                cap = nc;
            }
            struct entry *e = &a->e[a->n];
            e->user = hamf__strndup(line, (size_t)(colon - line));
            e->hash = hamf__strdup(colon + 1);
            if (!e->user || !e->hash) {
                hamf__free(e->user);
                hamf__free(e->hash);
                goto nomem;
            }
            a->n++;
        }
        line = nl ? nl + 1 : NULL;
    }
    if (!a->n) {
        st = hamf__err(HAMF_ERR_PARSE, "auth: %s: no users (add one with 'hamf server passwd %s USER')", path, path);
        goto fail;
    }
    if (getrandom(a->secret, sizeof a->secret, 0) != (ssize_t)sizeof a->secret) {
        st = hamf__err(HAMF_ERR_IO, "auth: getrandom: %s", strerror(errno));
        goto fail;
    }
    hamf__free(text);
    *out = a;
    return HAMF_OK;
nomem:
    st = hamf__err(HAMF_ERR_NOMEM, "auth: out of memory");
fail:
    hamf__free(text);
    hamf__auth_free(a);
    return st;
}

void hamf__auth_set_metrics_public(struct hamf__auth *a, bool on)
{
    a->metrics_public = on;
}

void hamf__auth_set_limit(struct hamf__auth *a, unsigned max_failures, double window_s)
{
    a->max_failures = max_failures;
    a->window_s = window_s > 0 ? window_s : HAMF__AUTH_WINDOW_SECONDS;
}

/* ---- verifying ---- */

static bool crypt_matches(const char *pass, const char *hash)
{
    struct crypt_data *cd = hamf__calloc(1, sizeof *cd);
    if (!cd) return false;
    const char *r = crypt_r(pass, hash, cd);
    size_t hl = strlen(hash);
    bool ok = r && r[0] != '*' && strlen(r) == hl && !ct_diff(r, hash, hl);
    memset(cd, 0, sizeof *cd);
    hamf__free(cd);
    return ok;
}

static void cache_key(const struct hamf__auth *a, const char *user, const char *pass, uint8_t key[32])
{
    size_t ul = strlen(user), pl = strlen(pass);
    uint8_t buf[32 + USER_MAX + 1 + PASS_MAX];
    memcpy(buf, a->secret, 32);
    memcpy(buf + 32, user, ul);
    buf[32 + ul] = 0;
    memcpy(buf + 33 + ul, pass, pl);
    hamf__sha256(buf, 33 + ul + pl, key);
    memset(buf, 0, sizeof buf);
}

/* The slot of `addr` (locked), or NULL; with `make`, a fresh slot in place
 * of an expired or the oldest one. */
static struct fail_slot *fail_slot(struct hamf__auth *a, const char *addr, double now, bool make)
{
    struct fail_slot *oldest = &a->fails[0];
    for (size_t i = 0; i < FAIL_SLOTS; i++) {
        struct fail_slot *f = &a->fails[i];
        if (f->window_start > 0 && now - f->window_start >= a->window_s) f->window_start = 0; /* expired */
        if (f->window_start > 0 && !strcmp(f->addr, addr)) return f;
        if (f->window_start < oldest->window_start) oldest = f;
    }
    if (!make) return NULL;
    memset(oldest, 0, sizeof *oldest);
    snprintf(oldest->addr, sizeof oldest->addr, "%s", addr);
    oldest->window_start = now;
    return oldest;
}

/* 0 when verified, 401 when not; 429 (with *retry_after) without checking
 * when `client` is blocked and the credentials are not in the cache. */
static int verify(struct hamf__auth *a, const char *user, const char *pass, const char *client, int *retry_after)
{
    if (!a || !user || !pass) return 401;
    size_t ul = strlen(user), pl = strlen(pass);
    bool well_formed = user_ok(user, ul) && pl > 0 && pl <= PASS_MAX;
    uint8_t key[32];
    if (well_formed) cache_key(a, user, pass, key);
    double now = hamf__mono_seconds();
    bool hit = false;
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; well_formed && i < CACHE_SLOTS; i++)
        hit |= !ct_diff(a->cache[i].key, key, 32) && a->cache[i].expires > now;
    if (!hit && client && a->max_failures) {
        struct fail_slot *f = fail_slot(a, client, now, false);
        if (f && f->count >= a->max_failures) {
            double left = f->window_start + a->window_s - now;
            *retry_after = (int)left + 1;
            pthread_mutex_unlock(&a->mu);
            return 429;
        }
    }
    pthread_mutex_unlock(&a->mu);
    if (hit) return 0;
    bool ok = false;
    if (well_formed) {

    const struct entry *e = NULL;
    for (size_t i = 0; i < a->n; i++)
        if (!strcmp(a->e[i].user, user)) e = &a->e[i];
    /* an unknown user costs a hash computation too, so timing does not tell
     * which users exist */
    ok = crypt_matches(pass, e ? e->hash : a->e[0].hash) && e;
    }
    pthread_mutex_lock(&a->mu);
    if (ok) {
        struct cache_slot *s = &a->cache[a->next_slot];
        a->next_slot = (a->next_slot + 1) % CACHE_SLOTS;
        memcpy(s->key, key, 32);
        s->expires = now + HAMF__AUTH_CACHE_SECONDS;
    } else if (client && a->max_failures) {
        struct fail_slot *f = fail_slot(a, client, now, true);
        f->count++;
    }
    pthread_mutex_unlock(&a->mu);
    return ok ? 0 : 401;
}

bool hamf__auth_verify(struct hamf__auth *a, const char *user, const char *pass)
{
    int retry = 0;
    return verify(a, user, pass, NULL, &retry) == 0;
}

int hamf__auth_check(void *ctx, const char *path, const char *user, const char *pass, const char *client,
                     int *retry_after)
{
    struct hamf__auth *a = ctx;
    if (a->metrics_public && !strcmp(path, "/metrics")) return 0;
    return verify(a, user, pass, client, retry_after);
}

bool hamf__auth_request(void *ctx, const char *path, const char *user, const char *pass)
{
    int retry = 0;
    return hamf__auth_check(ctx, path, user, pass, NULL, &retry) == 0;
}

/* ---- writing ---- */

hamf_status hamf__auth_passwd_set(const char *path, const char *user, const char *password)
{
    size_t ul = strlen(user);
    if (!user_ok(user, ul))
        return hamf__err(HAMF_ERR_CONSTRAINT,
                         "auth: bad user name '%s' (1-64 characters, no ':', whitespace or control characters)", user);
    size_t pl = strlen(password);
    if (pl == 0) return hamf__err(HAMF_ERR_CONSTRAINT, "auth: empty password refused");
    if (pl > PASS_MAX) return hamf__err(HAMF_ERR_CONSTRAINT, "auth: password longer than %d bytes", PASS_MAX);
    for (size_t i = 0; i < pl; i++)
        if (password[i] == '\n' || password[i] == '\r')
            return hamf__err(HAMF_ERR_CONSTRAINT, "auth: password holds a line break");

    hamf_status st = HAMF_OK;
    char *old = NULL;
    size_t oldlen = 0;
    struct hamf__buf nb;
    hamf__buf_init(&nb, AUTH_FILE_MAX + 4096);
    struct crypt_data *cd = hamf__calloc(1, sizeof *cd);
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!cd) {
        st = hamf__err(HAMF_ERR_NOMEM, "auth: out of memory");
        goto cleanup;
    }
    if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof salt)) {
        st = hamf__err(HAMF_ERR_INTERNAL, "auth: crypt_gensalt: %s", strerror(errno));
        goto cleanup;
    }
    const char *hash = crypt_r(password, salt, cd);
    if (!hash || hash[0] == '*' || hash_problem(hash)) {
        st = hamf__err(HAMF_ERR_INTERNAL, "auth: crypt_r failed: %s", strerror(errno));
        goto cleanup;
    }
    if ((st = read_all(path, &old, &oldlen, true))) goto cleanup;
    /* keep every line except this user's; its new line goes where the old one was, or at the end */
    bool placed = false;
    for (char *line = old; line && line < old + oldlen && !st;) {
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        if (ll > ul && !strncmp(line, user, ul) && line[ul] == ':') {
            if (!placed) st = hamf__buf_printf(&nb, "%s:%s\n", user, hash);
            placed = true;
        } else {
            st = hamf__buf_append(&nb, line, ll);
            if (!st) st = hamf__buf_putc(&nb, '\n');
        }
        line = nl ? nl + 1 : NULL;
    }
    if (!st && !placed) st = hamf__buf_printf(&nb, "%s:%s\n", user, hash);
    if (st) {
        st = hamf__err(HAMF_ERR_CONSTRAINT, "auth: %s would be over 1 MiB", path);
        goto cleanup;
    }
    if ((st = hamf__file_write_atomic(path, nb.data, nb.len, 0600))) hamf__err_prefix(st, "auth");
cleanup:
    if (cd) memset(cd, 0, sizeof *cd);
    hamf__free(cd);
    hamf__free(old);
    hamf__buf_free(&nb);
    return st;
}

/* ---- bind address ---- */

hamf_status hamf__host_is_loopback(const char *host, bool *loopback)
{
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(host, NULL, &hints, &ai);
    if (rc || !ai) return hamf__err(HAMF_ERR_CONNECT, "server: cannot resolve host '%s': %s", host, gai_strerror(rc));
    bool all = true;
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        if (p->ai_family == AF_INET) {
            const struct sockaddr_in *s4 = (const void *)p->ai_addr;
            if ((ntohl(s4->sin_addr.s_addr) >> 24) != 127) all = false;
        } else if (p->ai_family == AF_INET6) {
            const struct sockaddr_in6 *s6 = (const void *)p->ai_addr;
            if (!IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr)) all = false;
        } else {
            all = false;
        }
    }
    freeaddrinfo(ai);
    *loopback = all;
    return HAMF_OK;
}
