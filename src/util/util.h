/*
 * util.h — internal helpers shared by every module of libhamf: error
 * reporting, the counting allocator with a fail-Nth hook, a capped growable
 * byte buffer, JSON string/number writing and exact number formatting.
 *
 * Nothing here is public: names carry the hamf__ prefix. Buffers returned by
 * hamf__buf_* are owned by the struct hamf__buf; free them with
 * hamf__buf_free.
 */
#ifndef HAMF_UTIL_H
#define HAMF_UTIL_H

#include "hamf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define HAMF_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define HAMF_UNUSED __attribute__((unused))
#else
#define HAMF_PRINTF(a, b)
#define HAMF_UNUSED
#endif

#define HAMF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors (err.c) ---- */

/* Set this thread's error message and return `s`, so a failing path is one
 * line: `return hamf__err(HAMF_ERR_PARSE, "csv: %s:%d: ...", ...);` */
hamf_status hamf__err(hamf_status s, const char *fmt, ...) HAMF_PRINTF(2, 3);
hamf_status hamf__verr(hamf_status s, const char *fmt, va_list ap);
/* Prefix the current message with "prefix: " (keeps the status). */
hamf_status hamf__err_prefix(hamf_status s, const char *fmt, ...) HAMF_PRINTF(2, 3);

/* ---- allocation (alloc.c) ---- */

/* All library allocation goes through these, so tests can make the Nth
 * allocation fail (hamf__alloc_fail_after) and check that every path
 * returns HAMF_ERR_NOMEM cleanly and leaks nothing. */
void *hamf__malloc(size_t n);
void *hamf__calloc(size_t count, size_t size);
void *hamf__realloc(void *p, size_t n);
void hamf__free(void *p);
char *hamf__strdup(const char *s);
char *hamf__strndup(const char *s, size_t n);
char *hamf__asprintf(const char *fmt, ...) HAMF_PRINTF(1, 2);
/* Test hook: allocation number n (0-based, counting from this call) fails;
 * n < 0 disables. Returns how many allocations happened since the last call. */
int64_t hamf__alloc_fail_after(int64_t n);

/* ---- growable byte buffer with a cap (buf.c) ---- */

struct hamf__buf {
    char *data;   /* NUL-terminated whenever len > 0 or after any append */
    size_t len;
    size_t cap;
    size_t limit; /* 0 = unlimited; appends past it fail with HAMF_ERR_CONSTRAINT */
};

void hamf__buf_init(struct hamf__buf *b, size_t limit);
void hamf__buf_free(struct hamf__buf *b);
void hamf__buf_reset(struct hamf__buf *b);
hamf_status hamf__buf_reserve(struct hamf__buf *b, size_t extra);
hamf_status hamf__buf_append(struct hamf__buf *b, const void *p, size_t n);
hamf_status hamf__buf_puts(struct hamf__buf *b, const char *s);
hamf_status hamf__buf_putc(struct hamf__buf *b, char c);
hamf_status hamf__buf_printf(struct hamf__buf *b, const char *fmt, ...) HAMF_PRINTF(2, 3);
/* Take ownership of the bytes (free with hamf__free); the buffer is reset. */
char *hamf__buf_detach(struct hamf__buf *b, size_t *len);

/* ---- JSON writing (json.c) ---- */

/* Append `s` (n bytes, or strlen if n == (size_t)-1) as a JSON string
 * literal with quotes, escaping control characters, quotes and backslashes. */
hamf_status hamf__json_str(struct hamf__buf *b, const char *s, size_t n);
/* Append a finite double in shortest round-trip form; NaN/inf become null. */
hamf_status hamf__json_num(struct hamf__buf *b, double v);

/* ---- numbers (fmt.c) ---- */

/* Shortest decimal text that parses back to exactly `v` ("0.1", "1e-07",
 * "99.83", "3"). `out` must hold 32 bytes. Returns the length. NaN gives
 * "NaN", infinities "Infinity"/"-Infinity" (Spark's spelling). */
int hamf__fmt_double(char out[32], double v);
/* Strict parsers: whole string must be consumed, no leading/trailing space. */
bool hamf__parse_i64(const char *s, size_t n, int64_t *out);
bool hamf__parse_double(const char *s, size_t n, double *out);

/* ---- time (fmt.c) ---- */

/* Milliseconds since the Unix epoch (wall clock). */
int64_t hamf__now_ms(void);
/* Seconds on a monotonic clock, for measuring durations. */
double hamf__mono_seconds(void);

#endif /* HAMF_UTIL_H */
