/*
 * buf.c — a growable byte buffer with a hard cap (curl's dynbuf idea): every
 * buffer that grows from outside input is created with a limit and fails
 * cleanly at it instead of eating memory.
 */
#include "util.h"

#include <stdio.h>
#include <string.h>

void hamf__buf_init(struct hamf__buf *b, size_t limit)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->limit = limit;
}

void hamf__buf_free(struct hamf__buf *b)
{
    hamf__free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void hamf__buf_reset(struct hamf__buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

hamf_status hamf__buf_reserve(struct hamf__buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return hamf__err(HAMF_ERR_NOMEM, "buffer size overflow");
    size_t need = b->len + extra + 1;
    if (b->limit && need - 1 > b->limit)
        return hamf__err(HAMF_ERR_CONSTRAINT, "buffer limit of %zu bytes exceeded", b->limit);
    if (need <= b->cap) return HAMF_OK;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need) ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    char *p = hamf__realloc(b->data, ncap);
    if (!p) return hamf__err(HAMF_ERR_NOMEM, "out of memory growing buffer to %zu bytes", ncap);
    b->data = p;
    b->cap = ncap;
    return HAMF_OK;
}

hamf_status hamf__buf_append(struct hamf__buf *b, const void *p, size_t n)
{
    hamf_status s = hamf__buf_reserve(b, n);
    if (s) return s;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return HAMF_OK;
}

hamf_status hamf__buf_puts(struct hamf__buf *b, const char *s)
{
    return hamf__buf_append(b, s, strlen(s));
}

hamf_status hamf__buf_putc(struct hamf__buf *b, char c)
{
    return hamf__buf_append(b, &c, 1);
}

hamf_status hamf__buf_printf(struct hamf__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return hamf__err(HAMF_ERR_INTERNAL, "bad format string");
    hamf_status s = hamf__buf_reserve(b, (size_t)n);
    if (s) return s;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return HAMF_OK;
}

char *hamf__buf_detach(struct hamf__buf *b, size_t *len)
{
    if (!b->data && hamf__buf_reserve(b, 0)) return NULL;
    char *d = b->data;
    if (len) *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}
