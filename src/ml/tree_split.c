/*
 * tree_split.c — split finding from a node's histogram. Numeric features
 * scan bins left to right with missing (bin 0) tried on both sides;
 * categorical features order their categories by G/(H+l2) and scan
 * prefixes of that order (the left set is stored as a 256-bit bitset).
 * Gain = GL^2/(HL+l2) + GR^2/(HR+l2) - G^2/(H+l2), which is the Newton gain
 * for GB and the (weighted) Gini/variance reduction for RF.
 */
#include "tree_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline double score(double g, double h, double l2) { return g * g / (h + l2); }

struct catent { double key; int bin; };
static int cmp_catent(const void *a, const void *b)
{
    const struct catent *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->bin - y->bin;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SPLIT_AVX2 1


/* The numeric scan of hamf__split_eval_feature in two passes: the prefix
 * sums in bin order (the same additions: an empty bin adds +0.0, which
 * changes nothing since a sum that starts at +0.0 is never -0.0), then
 * both candidates' gains of four bins per AVX step (lane by lane the scalar
 * expression's operations, no FMA), with the candidate's conditions and
 * "gain > the best so far at entry" as a bit mask. Only candidates with
 * their bit set can be chosen (the bar only rises during the scan); they go
 * through the scalar loop's sequential rule in the same order, so the
 * chosen split is the same bits. */
__attribute__((target("avx2"))) static void eval_numeric_avx2(const double *hist, int f, int nb, double G,
                                                                double H, const struct hamf__learn_params *p,
                                                                double parent, double floor_gain,
                                                                struct split *best)
{
    const double l2 = p->l2, mh = p->min_hess;
    const double Gm = hist[0], Hm = hist[1];
    double GLa[HAMF_MAX_BINS + 4], HLa[HAMF_MAX_BINS + 4];
    double gr[HAMF_MAX_BINS + 4], gm[HAMF_MAX_BINS + 4];
    __m128d acc = _mm_setzero_pd();
    for (int t = 1; t < nb - 1; t++) {
        acc = _mm_add_pd(acc, _mm_loadu_pd(hist + 2 * t));
        _mm_storel_pd(GLa + t, acc);
        _mm_storeh_pd(HLa + t, acc);
    }
    const double eps = 1e-12 * fabs(parent);
    const __m256d vG = _mm256_set1_pd(G), vH = _mm256_set1_pd(H), vl2 = _mm256_set1_pd(l2);
    const __m256d vpar = _mm256_set1_pd(parent), vGm = _mm256_set1_pd(Gm), vHm = _mm256_set1_pd(Hm);
    const __m256d vmh = _mm256_set1_pd(mh), z = _mm256_setzero_pd(), bar = _mm256_set1_pd(floor_gain + eps);
    const int last = nb - 1; /* candidates t = 1 .. nb-2 */
    for (int t0 = 1; t0 < last; t0 += 4) {
        int mr, ml = 0;
        if (t0 + 4 <= last) {
            __m256d gl = _mm256_loadu_pd(GLa + t0), hl = _mm256_loadu_pd(HLa + t0);
            __m256d hr = _mm256_sub_pd(vH, hl), grr = _mm256_sub_pd(vG, gl);
            __m256d a = _mm256_div_pd(_mm256_mul_pd(gl, gl), _mm256_add_pd(hl, vl2));
            __m256d b = _mm256_div_pd(_mm256_mul_pd(grr, grr), _mm256_add_pd(hr, vl2));
            __m256d g = _mm256_sub_pd(_mm256_add_pd(a, b), vpar);
            _mm256_storeu_pd(gr + t0, g);
            __m256d ok = _mm256_and_pd(_mm256_and_pd(_mm256_cmp_pd(hl, vmh, _CMP_GE_OQ), _mm256_cmp_pd(hr, vmh, _CMP_GE_OQ)),
                                       _mm256_and_pd(_mm256_cmp_pd(hl, z, _CMP_GT_OQ), _mm256_cmp_pd(hr, z, _CMP_GT_OQ)));
            mr = _mm256_movemask_pd(_mm256_and_pd(ok, _mm256_cmp_pd(g, bar, _CMP_GT_OQ)));
            if (Hm > 0) {
                __m256d gl2 = _mm256_add_pd(gl, vGm), hl2 = _mm256_add_pd(hl, vHm);
                __m256d hr2 = _mm256_sub_pd(vH, hl2), gr2 = _mm256_sub_pd(vG, gl2);
                __m256d c = _mm256_div_pd(_mm256_mul_pd(gl2, gl2), _mm256_add_pd(hl2, vl2));
                __m256d d = _mm256_div_pd(_mm256_mul_pd(gr2, gr2), _mm256_add_pd(hr2, vl2));
                __m256d g2 = _mm256_sub_pd(_mm256_add_pd(c, d), vpar);
                _mm256_storeu_pd(gm + t0, g2);
                __m256d ok2 = _mm256_and_pd(_mm256_and_pd(_mm256_cmp_pd(hl2, vmh, _CMP_GE_OQ), _mm256_cmp_pd(hr2, vmh, _CMP_GE_OQ)),
                                            _mm256_cmp_pd(hr2, z, _CMP_GT_OQ));
                ml = _mm256_movemask_pd(_mm256_and_pd(ok2, _mm256_cmp_pd(g2, bar, _CMP_GT_OQ)));
            }
        } else {
            mr = 0;
            for (int t = t0; t < last; t++) {
                double gl = GLa[t], hl = HLa[t], hr = H - hl;
                gr[t] = score(gl, hl, l2) + score(G - gl, hr, l2) - parent;
                if (hl >= mh && hr >= mh && hl > 0 && hr > 0 && gr[t] > floor_gain + eps) mr |= 1 << (t - t0);
                if (Hm > 0) {
                    double g2 = gl + Gm, h2 = hl + Hm, r2 = H - h2;
                    gm[t] = score(g2, h2, l2) + score(G - g2, r2, l2) - parent;
                    if (h2 >= mh && r2 >= mh && r2 > 0 && gm[t] > floor_gain + eps) ml |= 1 << (t - t0);
                }
            }
        }
        if (!(mr | ml)) continue;
        for (int k = 0; k < 4 && t0 + k < last; k++) {
            int t = t0 + k;
            if (!(((mr | ml) >> k) & 1)) continue;
            if (t > 1 && hist[2 * t] == 0 && hist[2 * t + 1] == 0) continue;
            if (((mr >> k) & 1) && gr[t] > floor_gain + eps) {
                floor_gain = gr[t];
                best->gain = gr[t]; best->feat = f; best->thr = (uint8_t)t; best->flags = 0;
                best->GL = GLa[t]; best->HL = HLa[t];
            }
            if (((ml >> k) & 1) && gm[t] > floor_gain + eps) {
                floor_gain = gm[t];
                best->gain = gm[t]; best->feat = f; best->thr = (uint8_t)t;
                best->flags = HAMF_NODE_DEFAULT_LEFT;
                best->GL = GLa[t] + Gm; best->HL = HLa[t] + Hm;
            }
        }
    }
    /* all values left, missing right */
    if (Hm > 0) {
        double gl = G - Gm, hl = H - Hm;
        if (hl >= mh && Hm >= mh && hl > 0) {
            double gn = score(gl, hl, l2) + score(Gm, Hm, l2) - parent;
            if (gn > floor_gain + eps) {
                best->gain = gn; best->feat = f; best->thr = (uint8_t)(nb - 1); best->flags = 0;
                best->GL = gl; best->HL = hl;
            }
        }
    }
}
#endif

/* Best split of one feature given its histogram hg/hh (stride 2: hist[2b],
 * hist[2b+1]); updates *best when strictly better. */
void hamf__split_eval_feature(const double *hist, int f, int nb, bool is_cat, double G, double H,
                         const struct hamf__learn_params *p, struct split *best)
{
    const double l2 = p->l2, mh = p->min_hess;
    const double parent = score(G, H, l2);
    double floor_gain = best->gain > p->min_gain ? best->gain : p->min_gain;
    if (!is_cat) {
#if defined(SPLIT_AVX2)
        if (nb > 8 && hamf__learn_avx2()) {
            eval_numeric_avx2(hist, f, nb, G, H, p, parent, floor_gain, best);
            return;
        }
#endif
        double Gm = hist[0], Hm = hist[1];
        double GL = 0, HL = 0;
        for (int t = 1; t < nb - 1; t++) {
            /* an empty bin repeats the previous bin's two candidates, which
             * were tried already and cannot win a strict comparison now */
            if (t > 1 && hist[2 * t] == 0 && hist[2 * t + 1] == 0) continue;
            GL += hist[2 * t];
            HL += hist[2 * t + 1];
            /* missing right */
            double HR = H - HL;
            if (HL >= mh && HR >= mh && HL > 0 && HR > 0) {
                double gn = score(GL, HL, l2) + score(G - GL, HR, l2) - parent;
                if (gn > floor_gain + 1e-12 * fabs(parent)) {
                    floor_gain = gn;
                    best->gain = gn; best->feat = f; best->thr = (uint8_t)t; best->flags = 0;
                    best->GL = GL; best->HL = HL;
                }
            }
            if (Hm > 0) {
                double gl = GL + Gm, hl = HL + Hm, hr = H - hl;
                if (hl >= mh && hr >= mh && hr > 0) {
                    double gn = score(gl, hl, l2) + score(G - gl, hr, l2) - parent;
                    if (gn > floor_gain + 1e-12 * fabs(parent)) {
                        floor_gain = gn;
                        best->gain = gn; best->feat = f; best->thr = (uint8_t)t;
                        best->flags = HAMF_NODE_DEFAULT_LEFT;
                        best->GL = gl; best->HL = hl;
                    }
                }
            }
        }
        /* all values left, missing right */
        if (Hm > 0 && nb >= 2) {
            double gl = G - Gm, hl = H - Hm;
            if (hl >= mh && Hm >= mh && hl > 0) {
                double gn = score(gl, hl, l2) + score(Gm, Hm, l2) - parent;
                if (gn > floor_gain + 1e-12 * fabs(parent)) {
                    best->gain = gn; best->feat = f; best->thr = (uint8_t)(nb - 1); best->flags = 0;
                    best->GL = gl; best->HL = hl;
                }
            }
        }
        return;
    }
    struct catent ent[HAMF_MAX_BINS];
    int ne = 0;
    for (int b = 0; b < nb; b++)
        if (hist[2 * b + 1] > 0) {
            ent[ne].key = hist[2 * b] / (hist[2 * b + 1] + l2);
            ent[ne].bin = b;
            ne++;
        }
    if (ne < 2) return;
    qsort(ent, (size_t)ne, sizeof *ent, cmp_catent);
    double GL = 0, HL = 0;
    int bestk = -1;
    double bgl = 0, bhl = 0;
    for (int k = 0; k < ne - 1; k++) {
        GL += hist[2 * ent[k].bin];
        HL += hist[2 * ent[k].bin + 1];
        double HR = H - HL;
        if (HL < mh || HR < mh || HR <= 0) continue;
        double gn = score(GL, HL, l2) + score(G - GL, HR, l2) - parent;
        if (gn > floor_gain + 1e-12 * fabs(parent)) {
            floor_gain = gn;
            bestk = k; bgl = GL; bhl = HL;
        }
    }
    if (bestk < 0) return;
    best->gain = floor_gain; best->feat = f; best->thr = 0; best->flags = HAMF_NODE_CAT;
    best->GL = bgl; best->HL = bhl;
    memset(best->bits, 0, sizeof best->bits);
    for (int k = 0; k <= bestk; k++) best->bits[ent[k].bin >> 5] |= 1u << (ent[k].bin & 31);
}

