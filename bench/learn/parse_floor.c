/*
 * parse_floor.c — how fast the bare minimum of reading a CSV can be on this
 * machine: the file read into memory, its rows split between THREADS
 * threads at line ends, each field found by a byte loop, whole numbers
 * converted and kept, other numbers converted with hamf's own decimal
 * parser (util/num.c) and summed, a quoted field skipped to its closing
 * quote. No checks, no types, no columns, no binning: a floor under any
 * real reader, for `bench/learn/run`'s end-to-end section.
 *
 *   parse_floor FILE.csv [THREADS]   -> one JSON line: rows, seconds
 */
#include "util/num.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct part {
    const char *p, *end;
    size_t rows, nint;
    int32_t *ints; /* whole numbers kept (as a reader keeps its columns) */
    double sum;
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *run(void *arg)
{
    struct part *pt = arg;
    const char *p = pt->p, *e = pt->end;
    while (p < e) {
        for (;;) { /* one field */
            if (*p == '"') {
                const char *q = memchr(p + 1, '"', (size_t)(e - p - 1));
                p = q ? q + 1 : e;
            } else {
                const char *q = p;
                bool neg = *q == '-';
                int64_t v = 0;
                q += neg;
                while (q < e && (unsigned)(*q - '0') < 10) v = v * 10 + (*q++ - '0');
                if (q < e && *q != ',' && *q != '\n') { /* not a whole number */
                    const char *f = p;
                    while (q < e && *q != ',' && *q != '\n') q++;
                    double d;
                    if (hamf__num_parse_f64(f, (size_t)(q - f), &d)) pt->sum += d;
                } else if (q > p) {
                    pt->ints[pt->nint++] = (int32_t)(neg ? -v : v);
                }
                p = q;
            }
            if (p >= e || *p++ == '\n') break;
        }
        pt->rows++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: parse_floor FILE.csv [THREADS]\n");
        return 2;
    }
    int nt = argc > 2 ? atoi(argv[2]) : 2;
    if (nt < 1 || nt > 64) nt = 2;
    int fd = open(argv[1], O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        perror(argv[1]);
        return 1;
    }
    size_t n = (size_t)sb.st_size;
    double t0 = now();
    char *buf = malloc(n + 1);
    size_t got = 0;
    while (buf && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (!buf || got != n) {
        fprintf(stderr, "parse_floor: cannot read %s\n", argv[1]);
        return 1;
    }
    close(fd);
    const char *start = memchr(buf, '\n', n);
    start = start ? start + 1 : buf + n; /* after the header */
    struct part pt[64];
    pthread_t th[64];
    const char *lo = start;
    for (int i = 0; i < nt; i++) {
        const char *hi = buf + n;
        if (i + 1 < nt) {
            hi = start + (size_t)(buf + n - start) * (size_t)(i + 1) / (size_t)nt;
            const char *nl = hi < buf + n ? memchr(hi, '\n', (size_t)(buf + n - hi)) : NULL;
            hi = nl ? nl + 1 : buf + n;
        }
        pt[i] = (struct part){lo, hi, 0, 0, malloc((size_t)(hi - lo) / 2 * sizeof(int32_t) + 4), 0};
        if (!pt[i].ints) return 1;
        lo = hi;
    }
    for (int i = 0; i < nt; i++) pthread_create(&th[i], NULL, run, &pt[i]);
    size_t rows = 0, nint = 0;
    double sum = 0;
    for (int i = 0; i < nt; i++) {
        pthread_join(th[i], NULL);
        rows += pt[i].rows;
        nint += pt[i].nint;
        sum += pt[i].sum;
    }
    double t = now() - t0;
    printf("{\"rows\": %zu, \"whole_numbers\": %zu, \"seconds\": %.4f, \"threads\": %d, \"check\": %.6g}\n", rows, nint, t,
           nt, sum);
    for (int i = 0; i < nt; i++) free(pt[i].ints);
    free(buf);
    return 0;
}
