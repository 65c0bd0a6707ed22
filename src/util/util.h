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
/* Give the free pages of the C library's heaps back to the system (after a
 * phase that freed a lot in small pieces, so that they stop counting in the
 * resident size); a no-op where the C library has no such call. */
void hamf__alloc_release(void);
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
/* UTF-8 (json_parse.c): length of the valid sequence at s[0..avail) or 0
 * when invalid (overlong, surrogate, past U+10FFFF, truncated); whether all
 * of s[0..n) is valid. hamf__json_str writes each invalid byte as \ufffd. */
size_t hamf__utf8_len(const unsigned char *s, size_t avail);
bool hamf__utf8_valid(const char *s, size_t n);
/* Append a finite double in shortest round-trip form; NaN/inf become null. */
hamf_status hamf__json_num(struct hamf__buf *b, double v);
/* Append {"key":k,"value":v} (MLflow's tags and params). */
hamf_status hamf__json_kv(struct hamf__buf *b, const char *k, const char *v);

/* ---- numbers (fmt.c) ---- */

/* Shortest decimal text that parses back to exactly `v` ("0.1", "1e-07",
 * "99.83", "3"). `out` must hold 32 bytes. Returns the length. NaN gives
 * "NaN", infinities "Infinity"/"-Infinity" (Spark's spelling). */
int hamf__fmt_double(char out[32], double v);
/* Decimal text of v into out (no NUL; at most 20 bytes); returns the length.
 * Inline: CSV writing and data generation call it once per cell. */
static inline int hamf__fmt_i64(char *out, int64_t v)
{
    char tmp[20];
    int n = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    int k = 0;
    if (v < 0) out[k++] = '-';
    while (n) out[k++] = tmp[--n];
    return k;
}
/* Strict parsers: whole string must be consumed, no leading/trailing space. */
bool hamf__parse_i64(const char *s, size_t n, int64_t *out);
bool hamf__parse_double(const char *s, size_t n, double *out);

/* ---- files (file.c) ----
 * Messages name the path ("cannot read PATH: reason"); callers prefix their
 * module with hamf__err_prefix. */

/* Append the whole file to out. A missing file is HAMF_ERR_NOTFOUND; more
 * than max_bytes (0 = no bound) is HAMF_ERR_CONSTRAINT. */
hamf_status hamf__file_read(const char *path, size_t max_bytes, struct hamf__buf *out);
/* mkdir -p dir (0755); an existing directory is fine. */
hamf_status hamf__file_mkdirs(const char *dir);
/* mkdir -p the directory part of path. */
hamf_status hamf__file_mkdirs_parent(const char *path);
/* Write data atomically: a temp file beside path (created exclusively, mode
 * `mode`), every byte written, fsync, rename over path, fsync of the
 * directory. On failure path is untouched and the temp file removed. */
hamf_status hamf__file_write_atomic(const char *path, const void *data, size_t len, int mode);

/* ---- threads (threads.c): the one pool and CPU count of the library ---- */

/* A task function: runs task `task` on pool thread `tid` (0..nthreads-1).
 * Tasks of one run must write disjoint outputs; results then do not depend
 * on which thread ran which task. */
typedef void (*hamf__task_fn)(void *ctx, size_t task, int tid);
struct hamf__pool;
/* nthreads <= 0: one per online CPU. */
hamf_status hamf__pool_new(int nthreads, struct hamf__pool **out);
void hamf__pool_free(struct hamf__pool *p);
int hamf__pool_size(const struct hamf__pool *p);
/* Run tasks 0..ntasks-1 (the caller's thread works too) and wait. */
void hamf__pool_run(struct hamf__pool *p, size_t ntasks, hamf__task_fn fn, void *ctx);
/* One-off: run tasks 0..ntasks-1 on ntasks threads (task 0 on the caller's;
 * a thread that cannot start runs its task on the caller's) and wait. */
void hamf__run_parallel(size_t ntasks, hamf__task_fn fn, void *ctx);
/* Number of online CPUs (1..256). */
int hamf__ncpu(void);

/* ---- time (fmt.c) ---- */

/* Milliseconds since the Unix epoch (wall clock). */
int64_t hamf__now_ms(void);

/* SHA-256 of data[0..n) into out (FIPS 180-4; src/util/sha256.c). */
void hamf__sha256(const void *data, size_t n, uint8_t out[32]);
/* Seconds on a monotonic clock, for measuring durations. */
double hamf__mono_seconds(void);


/* ==== JSON parsing (json_parse.c) — owned by the server/tracking work ====
 *
 * A small DOM parser: hamf__json_parse() reads one JSON text (RFC 8259,
 * strict: UTF-8 validated, no trailing commas, no comments, no NaN, no
 * leading zeros, lone surrogates refused) into a tree owned by one
 * struct hamf__jdoc [owned: free with hamf__jdoc_free]. Every value
 * pointer is borrowed from the doc. Errors name the line, column and byte
 * offset: "json: line 1 col 7 (byte 6): expected ':' after object key".
 * Nesting deeper than max_depth fails (bounded recursion). Strings are
 * NUL-terminated and also carry their length (a "\u0000" escape is kept).
 * Numbers keep a double and, when the text is an integer that fits, the
 * exact int64. Duplicate object keys are kept; lookups return the last. */
enum hamf__jtype {
    HAMF__JNULL = 0,
    HAMF__JBOOL,
    HAMF__JNUM,
    HAMF__JSTR,
    HAMF__JARR,
    HAMF__JOBJ
};

struct hamf__jmember;

struct hamf__jval {
    enum hamf__jtype type;
    bool b;                 /* JBOOL */
    bool is_int;            /* JNUM: integer text that fits in int64 */
    int64_t i;              /* JNUM when is_int */
    double num;             /* JNUM */
    const char *str;        /* JSTR: NUL-terminated */
    size_t len;             /* JSTR: bytes; JARR/JOBJ: element count */
    struct hamf__jval *items;     /* JARR */
    struct hamf__jmember *members; /* JOBJ */
};

struct hamf__jmember {
    const char *key;
    size_t key_len;
    struct hamf__jval val;
};

struct hamf__jdoc;

#define HAMF__JSON_MAX_DEPTH 64

hamf_status hamf__json_parse(const char *text, size_t len, int max_depth,
                             struct hamf__jdoc **out);
void hamf__jdoc_free(struct hamf__jdoc *d);
const struct hamf__jval *hamf__jdoc_root(const struct hamf__jdoc *d);
/* Member `key` of an object (the last one if repeated); NULL if absent or
 * if `obj` is not an object. */
const struct hamf__jval *hamf__jobj_get(const struct hamf__jval *obj, const char *key);
/* An int64 from a JSON integer or a string holding one (MLflow accepts
 * both); false otherwise. */
bool hamf__jval_to_i64(const struct hamf__jval *v, int64_t *out);
/* A double from a number or a numeric string, including "NaN",
 * "Infinity" and "-Infinity" (protobuf JSON spellings). */
bool hamf__jval_to_f64(const struct hamf__jval *v, double *out);
/* ==== end JSON parsing ==== */

#endif /* HAMF_UTIL_H */
