/* test_fuzz_server.c — replays the committed corpora of the issue-18 fuzz
 * targets (fuzz/corpus/json, http, search, alerts) through the same entry
 * points, built without libFuzzer: every input that once found new coverage
 * stays a regression test in `make check` (and under ASan in
 * `make check-asan`); a target's own checks abort on a failure. */
#include "t.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>

#define LLVMFuzzerTestOneInput fuzz_json_one
#include "../../fuzz/fuzz_json.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_http_one
#include "../../fuzz/fuzz_http.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_search_one
#include "../../fuzz/fuzz_search.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_alerts_one
#include "../../fuzz/fuzz_alerts.c"
#undef LLVMFuzzerTestOneInput

#include "corpus.h"

#define CORPUS_TEST(name)                                 \
    static void test_##name##_corpus(void)                \
    {                                                     \
        int n = replay(#name, fuzz_##name##_one);         \
        printf("  %d %s inputs\n", n, #name);             \
        T_TRUE(n >= 10);                                  \
    }
CORPUS_TEST(json)
CORPUS_TEST(http)
CORPUS_TEST(search)
CORPUS_TEST(alerts)

int main(void)
{
    T_RUN(test_json_corpus);
    T_RUN(test_http_corpus);
    T_RUN(test_search_corpus);
    T_RUN(test_alerts_corpus);
    if (fz_srv) hamf__http_stop(fz_srv, 1.0);
    return T_DONE();
}
