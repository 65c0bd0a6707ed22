/*
 * json.c — writing JSON text into a hamf__buf: string literals with full
 * escaping (invalid UTF-8 bytes become \ufffd) and numbers in shortest
 * round-trip form. Parsing JSON lives in
 * json_parse.c.
 */
#include "util.h"

#include <math.h>
#include <string.h>

hamf_status hamf__json_str(struct hamf__buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (n == (size_t)-1) n = strlen(s);
    hamf_status st = hamf__buf_reserve(b, n + 2);
    if (st) return st;
    b->data[b->len++] = '"';
    size_t run = 0; /* start of the pending run of bytes needing no escape */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c >= 0x80) {
                /* valid sequences go out as they are; each byte of an
                 * invalid one becomes U+FFFD, so every reply is UTF-8 */
                size_t l = hamf__utf8_len((const unsigned char *)s + i, n - i);
                if (l) {
                    i += l - 1;
                    continue;
                }
                esc = "\\ufffd";
            } else if (c < 0x20) {
                u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
                u[4] = hex[c >> 4]; u[5] = hex[c & 15]; u[6] = '\0';
                esc = u;
            }
        }
        if (esc) {
            if ((st = hamf__buf_append(b, s + run, i - run))) return st;
            if ((st = hamf__buf_puts(b, esc))) return st;
            run = i + 1;
        }
    }
    if ((st = hamf__buf_append(b, s + run, n - run))) return st;
    return hamf__buf_putc(b, '"');
}

hamf_status hamf__json_num(struct hamf__buf *b, double v)
{
    if (!isfinite(v)) return hamf__buf_puts(b, "null");
    char tmp[32];
    int n = hamf__fmt_double(tmp, v);
    return hamf__buf_append(b, tmp, (size_t)n);
}

hamf_status hamf__json_kv(struct hamf__buf *b, const char *k, const char *v)
{
    hamf_status s;
    if ((s = hamf__buf_puts(b, "{\"key\":")) || (s = hamf__json_str(b, k, (size_t)-1)) ||
        (s = hamf__buf_puts(b, ",\"value\":")) || (s = hamf__json_str(b, v, (size_t)-1)))
        return s;
    return hamf__buf_putc(b, '}');
}

hamf_status hamf_json_quote(const char *s, char **out)
{
    if (!s || !out) return hamf__err(HAMF_ERR_MISUSE, "json: NULL argument");
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_status st = hamf__json_str(&b, s, (size_t)-1);
    char *d = st ? NULL : hamf__buf_detach(&b, NULL);
    hamf__buf_free(&b);
    if (st) return st;
    if (!d) return hamf__err(HAMF_ERR_NOMEM, "json: out of memory");
    *out = d;
    return HAMF_OK;
}
