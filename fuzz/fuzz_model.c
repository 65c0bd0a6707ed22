/* fuzz_model.c — libFuzzer target for the model-file loader: any bytes must
 * give a model or a clean error (no crash, leak, hang or undefined
 * behaviour). A model that loads must score rows to probabilities in [0, 1]
 * the same way through the single-row and the batch path, the same through
 * the scoring-only parse (which must accept exactly the same inputs), and
 * re-serialise (versions 2 and 3) to bytes that load again to the same
 * scores. Built by `make fuzz`; the corpus in fuzz/corpus/model (seeded
 * with small GB, deep GB and RF models in the three format versions) is
 * replayed by
 * tests/unit/test_fuzz_model.c in `make check`. */
#include "hamf.h"
#include "ml/ml.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int score_rows(const hamf_ensemble *m, double *out, size_t nrows)
{
    size_t nf = hamf_ensemble_nfeatures(m);
    if (nf > 64) nf = 64; /* only the first features vary; the rest are missing */
    size_t all = hamf_ensemble_nfeatures(m);
    double *vals = malloc(nrows * all * sizeof *vals);
    const char **cats = calloc(nrows * all, sizeof *cats);
    static const char *const names[4] = {"0", "1", "a", ""};
    if (!vals || !cats) abort();
    for (size_t i = 0; i < nrows; i++)
        for (size_t f = 0; f < all; f++) {
            vals[i * all + f] = f < nf ? (double)((int)(i * 7 + f * 3) % 11) - 3.5 : NAN;
            if (i % 5 == 4) vals[i * all + f] = NAN;
            cats[i * all + f] = f < nf && i % 3 ? names[(i + f) % 4] : NULL;
        }
    if (hamf__model_predict_rows(m, nrows, vals, cats, out)) abort();
    for (size_t i = 0; i < nrows; i++) {
        double q;
        if (hamf_ensemble_predict_row(m, vals + i * all, cats + i * all, &q)) abort();
        if (!(q >= 0 && q <= 1) || q != out[i]) { fprintf(stderr, "row %zu q %.17g batch %.17g\n", i, q, out[i]); abort(); }
    }
    free(vals);
    free(cats);
    return 0;
}

static void one(const uint8_t *data, size_t size)
{
    hamf_ensemble *m = NULL, *m2 = NULL, *l = NULL;
    /* the scoring-only parse (hamf_predictor_open) accepts exactly what the
     * full parse accepts and scores the same */
    hamf_status sl = hamf__model_parse_scoring("fuzz", data, size, &l);
    if (hamf__model_parse("fuzz", data, size, &m) != HAMF_OK) {
        if (!hamf_last_error()[0]) abort(); /* an error always says what */
        if (sl == HAMF_OK) abort();
        return;
    }
    if (sl != HAMF_OK) abort();
    double a[16], b[16], c[16];
    score_rows(m, a, 16);
    score_rows(l, c, 16);
    if (memcmp(a, c, sizeof a)) abort();
    hamf_ensemble_free(l);
    struct hamf__buf buf;
    for (unsigned v = 2; v <= 3; v++) { /* re-serialised (version 3 when it holds the model) */
        hamf_status st = hamf__model_serialize(m, v, &buf);
        if (st == HAMF_ERR_UNSUPPORTED && v == 3) continue;
        if (st) abort();
        if (hamf__model_parse("again", buf.data, buf.len, &m2)) abort();
        score_rows(m2, b, 16);
        if (memcmp(a, b, sizeof a)) abort();
        hamf__buf_free(&buf);
        hamf_ensemble_free(m2);
    }
    hamf_ensemble_free(m);
}

/* The input as given, then (so that mutations get past the checksum to the
 * field checks) with the checksum recomputed when the length field fits. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size);
    if (size < 28) return 0;
    uint64_t plen = 0;
    for (int i = 0; i < 8; i++) plen |= (uint64_t)data[16 + i] << (8 * i);
    if (plen > size - 28) return 0;
    uint8_t *c = malloc(size);
    if (!c) abort();
    memcpy(c, data, size);
    uint32_t crc = 0xFFFFFFFFu, poly = c[8] >= 3 ? 0x82F63B78u : 0xEDB88320u; /* v3: CRC-32C */
    for (size_t i = 24; i < 24 + plen; i++) {
        crc ^= c[i];
        for (int k = 0; k < 8; k++) crc = crc & 1 ? poly ^ (crc >> 1) : crc >> 1;
    }
    crc ^= 0xFFFFFFFFu;
    for (int i = 0; i < 4; i++) c[24 + plen + (size_t)i] = (uint8_t)(crc >> (8 * i));
    one(c, size);
    free(c);
    return 0;
}
