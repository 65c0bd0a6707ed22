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

/* Best split of one feature given its histogram hg/hh (stride 2: hist[2b],
 * hist[2b+1]); updates *best when strictly better. */
void hamf__split_eval_feature(const double *hist, int f, int nb, bool is_cat, double G, double H,
                         const struct hamf__learn_params *p, struct split *best)
{
    const double l2 = p->l2, mh = p->min_hess;
    const double parent = score(G, H, l2);
    double floor_gain = best->gain > p->min_gain ? best->gain : p->min_gain;
    if (!is_cat) {
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

