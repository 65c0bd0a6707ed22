/*
 * tracking_token.c — page tokens of the tracking store: base64 of
 * {"offset": N}, as MLflow writes them (URL-safe letters accepted).
 */
#include "store/tracking.h"

#include <stdio.h>
#include <string.h>

/* ---- page tokens ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

hamf_status hamf__trk_token_encode(int64_t offset, struct hamf__buf *out)
{
    char json[48];
    int n = snprintf(json, sizeof json, "{\"offset\": %lld}", (long long)offset);
    hamf_status s = HAMF_OK;
    for (int i = 0; i < n && !s; i += 3) {
        unsigned v = (unsigned char)json[i] << 16;
        if (i + 1 < n) v |= (unsigned char)json[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)json[i + 2];
        char q[4] = {b64[(v >> 18) & 63], b64[(v >> 12) & 63], i + 1 < n ? b64[(v >> 6) & 63] : '=',
                     i + 2 < n ? b64[v & 63] : '='};
        s = hamf__buf_append(out, q, 4);
    }
    return s;
}

hamf_status hamf__trk_token_decode(const char *token, int64_t *offset)
{
    size_t n = strlen(token);
    if (n > 256) return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid page token, could not base64-decode");
    char dec[200];
    size_t k = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        char c = token[i];
        if (c == '=') break;
        const char *p = c == '-' ? b64 + 62 : c == '_' ? b64 + 63 : strchr(b64, c);
        if (!p || !c) return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid page token, could not base64-decode");
        acc = (acc << 6) | (unsigned)(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (k + 1 >= sizeof dec) return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid page token");
            dec[k++] = (char)((acc >> bits) & 0xFF);
        }
    }
    struct hamf__jdoc *d = NULL;
    if (hamf__json_parse(dec, k, 4, &d))
        return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid page token, decoded value=%.*s", (int)k, dec);
    int64_t off;
    bool ok = hamf__jval_to_i64(hamf__jobj_get(hamf__jdoc_root(d), "offset"), &off) && off >= 0;
    hamf__jdoc_free(d);
    if (!ok) return hamf__err(HAMF_ERR_CONSTRAINT, "Invalid page token: no valid offset");
    *offset = off;
    return HAMF_OK;
}

/* Parsed search arguments shared by runs and experiments. */
