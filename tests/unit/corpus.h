/*
 * corpus.h — replay a committed libFuzzer corpus (fuzz/corpus/SUB under
 * $HAMF_ROOT) through a fuzz target's entry point, as `make check` does for
 * every target. Returns the number of inputs run, -1 when the folder is
 * missing. Inputs are read up to 1 MiB.
 */
#ifndef HAMF_TEST_CORPUS_H
#define HAMF_TEST_CORPUS_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int replay(const char *sub, int (*fn)(const uint8_t *, size_t))
{
    const char *root = getenv("HAMF_ROOT");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/fuzz/corpus/%s", root ? root : ".", sub);
    DIR *d = opendir(dir);
    if (!d) return -1;
    uint8_t *buf = malloc(1 << 20);
    if (!buf) {
        closedir(d);
        return -1;
    }
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *fp = fopen(path, "rb");
        if (!fp) continue;
        size_t len = fread(buf, 1, 1 << 20, fp);
        fclose(fp);
        fn(buf, len);
        n++;
    }
    free(buf);
    closedir(d);
    return n;
}

#endif
