/* fuzz_json.c — libFuzzer target for the JSON parser (src/util/json_parse.c)
 * and the string writer (json.c): any input either fails with a message or
 * parses into a tree whose every string is valid UTF-8 and is written back
 * by hamf__json_str as text the parser accepts again with the same bytes;
 * hamf__json_str of the raw input is always valid UTF-8 and parses back.
 * Built by `make fuzz`; fuzz/corpus/json is replayed by `make check`. */
#include "util/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fj_check_str(const char *s, size_t n)
{
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    if (hamf__json_str(&b, s, n)) abort();
    if (!hamf__utf8_valid(b.data, b.len)) abort();
    struct hamf__jdoc *d = NULL;
    if (hamf__json_parse(b.data, b.len, 4, &d)) {
        fprintf(stderr, "fuzz_json: written string does not parse: %s\n", hamf_last_error());
        abort();
    }
    const struct hamf__jval *v = hamf__jdoc_root(d);
    /* valid input comes back byte for byte */
    if (v->type != HAMF__JSTR || (hamf__utf8_valid(s, n) && (v->len != n || memcmp(v->str, s, n)))) abort();
    hamf__jdoc_free(d);
    hamf__buf_free(&b);
}

static void fj_walk(const struct hamf__jval *v, int depth)
{
    if (depth > HAMF__JSON_MAX_DEPTH + 1) abort();
    switch (v->type) {
    case HAMF__JSTR:
        if (!hamf__utf8_valid(v->str, v->len) || v->str[v->len]) abort();
        fj_check_str(v->str, v->len);
        break;
    case HAMF__JARR:
        for (size_t i = 0; i < v->len; i++) fj_walk(&v->items[i], depth + 1);
        break;
    case HAMF__JOBJ:
        for (size_t i = 0; i < v->len; i++) {
            if (!hamf__utf8_valid(v->members[i].key, v->members[i].key_len)) abort();
            if (hamf__jobj_get(v, v->members[i].key) == NULL && !memchr(v->members[i].key, 0, v->members[i].key_len))
                abort();
            fj_walk(&v->members[i].val, depth + 1);
        }
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hamf__jdoc *d = NULL;
    if (hamf__json_parse((const char *)data, size, HAMF__JSON_MAX_DEPTH, &d) == HAMF_OK) {
        fj_walk(hamf__jdoc_root(d), 0);
        hamf__jdoc_free(d);
    } else if (!*hamf_last_error()) {
        abort(); /* a failure always says why */
    }
    if (size <= 4096) fj_check_str((const char *)data, size);
    return 0;
}
