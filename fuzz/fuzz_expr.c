/* fuzz_expr.c — libFuzzer target for the expression parser and evaluator,
 * and the pipeline spec parser: the input is an expression; if it parses it
 * is bound and evaluated against a small frame holding every column type
 * with nulls, so type rules and NULL handling are fuzzed too. The input is
 * also parsed as a whole pipeline spec. Built by `make fuzz`; the corpus in
 * fuzz/corpus/expr is replayed by tests/unit/test_fuzz_replay.c. */
#include "hamf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hamf_frame *fuzz_expr_frame(void)
{
    static const char csv[] = "a,b,s,t,urllength,pathlength,hassecureconnection,`odd`\n"
                              "1,2.5,yes,true,10,5,yes,x\n"
                              ",0,,false,0,0,no,\n"
                              "-9223372036854775808,-0.0,\"Na,me\",,,3,,y\n"
                              "9223372036854775807,NaN,YES,true,7,,yes,z\n";
    hamf_frame *f = NULL;
    if (hamf_csv_read_mem(csv, sizeof csv - 1, "fuzz", NULL, &f) != HAMF_OK) abort();
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 32);
    if (!text) return 0;
    memcpy(text, "with r = ", 9);
    memcpy(text + 9, data, size);
    text[9 + size] = '\0';
    hamf_pipeline *p = NULL;
    /* as one expression (no newline inside: the spec is line based) */
    if (!memchr(data, '\n', size) && !memchr(data, '\0', size) &&
        hamf_pipeline_parse(text, "fuzz", &p) == HAMF_OK) {
        hamf_frame *f = fuzz_expr_frame();
        (void)hamf_pipeline_apply(p, f);
        if (!hamf_pipeline_text(p)) abort();
        hamf_frame_free(f);
    }
    hamf_pipeline_free(p);
    p = NULL;
    /* as a whole spec */
    memcpy(text, data, size);
    text[size] = '\0';
    if (hamf_pipeline_parse(text, "fuzz", &p) == HAMF_OK) {
        hamf_frame *f = fuzz_expr_frame();
        (void)hamf_pipeline_apply(p, f);
        /* canonical text must parse back */
        hamf_pipeline *q = NULL;
        if (hamf_pipeline_parse(hamf_pipeline_text(p), "canon", &q) != HAMF_OK) abort();
        if (strcmp(hamf_pipeline_text(p), hamf_pipeline_text(q)) != 0) abort();
        hamf_pipeline_free(q);
        hamf_frame_free(f);
    }
    hamf_pipeline_free(p);
    free(text);
    return 0;
}
