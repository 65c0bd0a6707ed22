/* test_fuzz_model.c — replays the committed model-loader fuzz corpus
 * (fuzz/corpus/model) through fuzz/fuzz_model.c's entry point, built
 * without libFuzzer, so every input that once found new coverage stays a
 * regression test in `make check` (and under ASan in `make check-asan`).
 * The corpus must include loadable models of every format version. */
#include "t.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>

#define LLVMFuzzerTestOneInput fuzz_model_one
#include "../../fuzz/fuzz_model.c"
#undef LLVMFuzzerTestOneInput

static void test_model_corpus(void)
{
    const char *root = getenv("HAMF_ROOT");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/fuzz/corpus/model", root ? root : ".");
    DIR *d = opendir(dir);
    T_TRUE(d != NULL);
    struct dirent *e;
    int n = 0, loads[4] = {0, 0, 0, 0};
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *fp = fopen(path, "rb");
        if (!fp) continue;
        uint8_t *buf = malloc(1 << 22);
        size_t len = fread(buf, 1, 1 << 22, fp);
        fclose(fp);
        fuzz_model_one(buf, len);
        hamf_ensemble *m;
        if (hamf__model_parse(e->d_name, buf, len, &m) == HAMF_OK) {
            loads[buf[8] <= 3 ? buf[8] : 0]++;
            hamf_ensemble_free(m);
        }
        free(buf);
        n++;
    }
    closedir(d);
    printf("  %d model inputs, %d load as version 1, %d as version 2, %d as version 3\n", n, loads[1], loads[2], loads[3]);
    T_TRUE(n >= 10);
    T_TRUE(loads[1] >= 1 && loads[2] >= 1 && loads[3] >= 1);
}

int main(void)
{
    T_RUN(test_model_corpus);
    return T_DONE();
}
