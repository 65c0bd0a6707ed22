/*
 * alloc.c — the one allocator every part of libhamf uses. It forwards to the
 * C library, and has a test hook that makes allocation number N fail so that
 * out-of-memory paths can be exercised (libuv test-loop-oom, curl torture).
 * The counter is process-wide and atomic: fault-injection tests run one
 * thread at a time, but the counter must stay correct with many.
 */
#include "util.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Atomic int64_t fail_at = -1; /* allocation index that fails; -1 off */
static _Atomic int64_t count = 0;

int64_t hamf__alloc_fail_after(int64_t n)
{
    int64_t c = atomic_exchange(&count, 0);
    atomic_store(&fail_at, n);
    return c;
}

static bool should_fail(void)
{
    int64_t c = atomic_fetch_add(&count, 1);
    int64_t f = atomic_load(&fail_at);
    return f >= 0 && c == f;
}

void *hamf__malloc(size_t n)
{
    if (should_fail()) return NULL;
    return malloc(n ? n : 1);
}

void *hamf__calloc(size_t nmemb, size_t size)
{
    if (should_fail()) return NULL;
    if (nmemb == 0 || size == 0) nmemb = size = 1;
    return calloc(nmemb, size);
}

void *hamf__realloc(void *p, size_t n)
{
    if (should_fail()) return NULL;
    return realloc(p, n ? n : 1);
}

void hamf__free(void *p) { free(p); }

void hamf__alloc_release(void)
{
#ifdef __GLIBC__
    malloc_trim(0); /* also returns whole free pages inside the heaps */
#endif
}

char *hamf__strndup(const char *s, size_t n)
{
    char *d = hamf__malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *hamf__strdup(const char *s) { return hamf__strndup(s, strlen(s)); }

char *hamf__asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *d = hamf__malloc((size_t)n + 1);
    if (!d) return NULL;
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}
