/* test_fuzz_replay.c — replays the committed fuzz corpora (fuzz/corpus/csv
 * and fuzz/corpus/expr) through the same entry points the libFuzzer
 * targets use, built without libFuzzer, so every input that once found new
 * coverage (or a crash) stays a regression test in `make check` and, under
 * `make check-asan`, is checked for memory errors and leaks. */
#include "t.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>

#define LLVMFuzzerTestOneInput fuzz_csv_one
#include "../../fuzz/fuzz_csv.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_csv_diff_one
#include "../../fuzz/fuzz_csv_diff.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_expr_one
#include "../../fuzz/fuzz_expr.c"
#undef LLVMFuzzerTestOneInput

#include "corpus.h"

static void test_csv_corpus(void)
{
    int n = replay("csv", fuzz_csv_one);
    printf("  %d csv inputs\n", n);
    T_TRUE(n >= 10);
}

/* The differential target (scalar vs SSE2 vs AVX2 scanner, Eisel-Lemire
 * vs strtod, fast vs exact shortest doubles) on its own corpus and on the
 * reader's. */
static void test_csv_diff_corpus(void)
{
    int n = replay("csv_diff", fuzz_csv_diff_one);
    int m = replay("csv", fuzz_csv_diff_one);
    printf("  %d csv_diff inputs, %d csv inputs\n", n, m);
    T_TRUE(n >= 10);
}

static void test_expr_corpus(void)
{
    int n = replay("expr", fuzz_expr_one);
    printf("  %d expr inputs\n", n);
    T_TRUE(n >= 10);
}

int main(void)
{
    T_RUN(test_csv_corpus);
    T_RUN(test_csv_diff_corpus);
    T_RUN(test_expr_corpus);
    return T_DONE();
}
