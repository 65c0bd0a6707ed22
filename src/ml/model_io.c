#include <pthread.h>
/*
 * model_io.c — the model file.
 *
 * Layout (all integers little-endian, doubles as IEEE-754 bit patterns):
 *   "HAMFMDL\0"  magic, 8 bytes
 *   u32 version  (2 is written; 1 and 2 are read)
 *   u32 flags    (bit 0: a node-cover section ends the payload; other bits
 *                are refused)
 *   u64 length   of the payload
 *   payload
 *   u32 crc32    (IEEE 802.3 polynomial) of the payload
 * Payload: algorithm, target name, pipeline spec text, params JSON, init
 * score, OOB accuracy; per feature its name, kind, bin count and either its
 * bin edges or its category dictionary (string -> bin); the trees (nodes
 * and categorical bitsets); the per-iteration loss history. Strings are
 * u32 length + bytes.
 *
 * Trees, version 1: per node 28 bytes (left, right, feature, threshold,
 * flags, bitset index, gain, value). Version 2 (compact): a dictionary of the
 * model's distinct node values when that is smaller (a random forest's
 * leaves are mostly 0 and 1), then per tree varint node and bitset counts and
 * per node in index order a tag byte (internal, default-left, categorical,
 * explicit right child, non-zero value) followed, for an internal node, by
 * varint (left - index), [varint (right - index)], the feature (1 byte when
 * the model has <= 256 features, else 2), u8 threshold or varint bitset
 * index, f32 gain, [value]; for a leaf only its value (dictionary index of 1
 * or 2 bytes, or f64). Node fields a format does not carry are zero, as the
 * learner leaves them.
 *
 * Every read is bounds-checked and every field range-checked (algorithm,
 * counts, bins, edges, tag bits, child indices, features, thresholds, bitset
 * indices, finite gains and values, each node one parent), the file must end
 * right after the checksum, so a truncated, padded, corrupt or foreign file
 * is an error, never a crash. Files are written to a temp file in the same directory,
 * fsynced and renamed into place.
 */
#include "predict_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define MAGIC "HAMFMDL"
#define VERSION 3u
#define FLAG_COVER 1u
#define FLAG_DEEP 2u /* v3: a tree deeper than 8 (a hint: the reader builds the deep predictor directly) */

/* Reflected CRCs by table, eight lookups per 8 bytes ("slicing by 8"):
 * CRC-32 (IEEE, 0xEDB88320) for files of versions 1 and 2, CRC-32C
 * (Castagnoli, 0x82F63B78) for version 3 where the CPU lacks SSE4.2. */
static uint32_t crc_table[8][256], crc32c_table[8][256];

static void crc_tables_fill(uint32_t t[8][256], uint32_t poly)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? poly ^ (c >> 1) : c >> 1;
        t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int k = 1; k < 8; k++) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
}
static void crc_init(void) { crc_tables_fill(crc_table, 0xEDB88320u); }
static void crc32c_init(void) { crc_tables_fill(crc32c_table, 0x82F63B78u); }

static uint32_t crc_slice8(const uint32_t t[8][256], const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (; n >= 8; n -= 8, p += 8) {
        uint32_t a = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        c = t[7][a & 0xFF] ^ t[6][(a >> 8) & 0xFF] ^ t[5][(a >> 16) & 0xFF] ^ t[4][a >> 24] ^ t[3][p[4]] ^
            t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    }
    for (; n; n--) c = t[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, crc_init);
    return crc_slice8((const uint32_t(*)[256])crc_table, p, n);
}

#if defined(__x86_64__)
#include <nmmintrin.h>
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(const unsigned char *p, size_t n)
{
    uint64_t c = 0xFFFFFFFFu;
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
    }
    uint32_t c32 = (uint32_t)c;
    for (; n; n--) c32 = _mm_crc32_u8(c32, *p++);
    return c32 ^ 0xFFFFFFFFu;
}
#endif

static uint32_t crc32c_of(const unsigned char *p, size_t n)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2")) return crc32c_hw(p, n);
#endif
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, crc32c_init);
    return crc_slice8((const uint32_t(*)[256])crc32c_table, p, n);
}

/* ---- writer ---- */

struct w { struct hamf__buf b; hamf_status st; struct hamf__buf cov; /* v3: the covers column */ };

static void put(struct w *w, const void *p, size_t n)
{
    if (w->st == HAMF_OK) w->st = hamf__buf_append(&w->b, p, n);
}
static void put_u8(struct w *w, uint8_t v) { put(w, &v, 1); }
static void put_u16(struct w *w, uint16_t v) { uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)}; put(w, b, 2); }
static void put_u32(struct w *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
    put(w, b, 4);
}
static void put_u64(struct w *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    put(w, b, 8);
}
static void put_f64(struct w *w, double d) { uint64_t u; memcpy(&u, &d, 8); put_u64(w, u); }
static void put_f32(struct w *w, float f) { uint32_t u; memcpy(&u, &f, 4); put_u32(w, u); }
static void put_str(struct w *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    put_u32(w, s ? (uint32_t)n : 0xFFFFFFFFu);
    if (s) put(w, s, n);
}

static void put_var(struct w *w, uint64_t v)
{
    uint8_t b[10];
    int n = 0;
    do {
        uint8_t c = v & 0x7F;
        v >>= 7;
        b[n++] = (uint8_t)(c | (v ? 0x80 : 0));
    } while (v);
    put(w, b, (size_t)n);
}

enum { TAG_INTERNAL = 1, TAG_DEFAULT_LEFT = 2, TAG_CAT = 4, TAG_RIGHT = 8, TAG_VALUE = 16 };

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t dbits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

/* The value dictionary of versions 2 and 3 from the nz non-zero leaf value
 * bit patterns in vals: sorted and made distinct in place (returns how
 * many), and the width of a reference into it (*vw: 1 or 2 bytes, 0 = no
 * dictionary when it would not save space). */
static size_t value_dict(uint64_t *vals, size_t nz, int *vw)
{
    qsort(vals, nz, sizeof *vals, cmp_u64);
    size_t u = 0;
    for (size_t i = 0; i < nz; i++)
        if (!u || vals[i] != vals[u - 1]) vals[u++] = vals[i];
    *vw = u <= 256 ? 1 : u <= 65536 ? 2 : 0;
    if (*vw && u * 8 + nz * (size_t)*vw >= nz * 8) *vw = 0; /* no saving */
    return u;
}

/* Version 2 trees (see the top of the file). */
static void put_trees_v2(struct w *w, const struct hamf_ensemble *m)
{
    put_u32(w, (uint32_t)m->n_trees);
    const int fw = m->bins.nf <= 256 ? 1 : 2;
    put_u8(w, (uint8_t)fw);
    /* the value dictionary: distinct non-zero bit patterns */
    size_t nv = 0, nodes = 0;
    for (size_t t = 0; t < m->n_trees; t++) nodes += m->trees[t].n_nodes;
    uint64_t *vals = hamf__malloc((nodes + 1) * sizeof *vals);
    if (!vals) { if (w->st == HAMF_OK) w->st = HAMF_ERR_NOMEM; return; }
    for (size_t t = 0; t < m->n_trees; t++)
        for (uint32_t k = 0; k < m->trees[t].n_nodes; k++)
            if (dbits(m->trees[t].nodes[k].value)) vals[nv++] = dbits(m->trees[t].nodes[k].value);
    size_t nz = nv;
    int vw;
    nv = value_dict(vals, nz, &vw);
    put_u8(w, (uint8_t)vw);
    if (vw) {
        put_u32(w, (uint32_t)nv);
        for (size_t i = 0; i < nv; i++) put_u64(w, vals[i]);
    }
    for (size_t t = 0; t < m->n_trees; t++) {
        const struct hamf__tree *tr = &m->trees[t];
        put_var(w, tr->n_nodes);
        put_var(w, tr->n_cats);
        for (uint32_t k = 0; k < tr->n_nodes; k++) {
            const struct hamf__node *nd = &tr->nodes[k];
            uint8_t tag = dbits(nd->value) ? TAG_VALUE : 0;
            if (nd->left >= 0) {
                tag |= TAG_INTERNAL;
                if (nd->flags & HAMF_NODE_DEFAULT_LEFT) tag |= TAG_DEFAULT_LEFT;
                if (nd->flags & HAMF_NODE_CAT) tag |= TAG_CAT;
                if (nd->right != nd->left + 1) tag |= TAG_RIGHT;
            }
            put_u8(w, tag);
            if (nd->left >= 0) {
                put_var(w, (uint64_t)nd->left - k);
                if (tag & TAG_RIGHT) put_var(w, (uint64_t)nd->right - k);
                if (fw == 1) put_u8(w, (uint8_t)nd->feat);
                else put_u16(w, nd->feat);
                if (tag & TAG_CAT) put_var(w, nd->cat);
                else put_u8(w, nd->thr);
                put_f32(w, nd->gain);
            }
            if (tag & TAG_VALUE) {
                if (!vw) { put_f64(w, nd->value); continue; }
                uint64_t key = dbits(nd->value);
                const uint64_t *hit = bsearch(&key, vals, nv, sizeof *vals, cmp_u64);
                size_t ix = (size_t)(hit - vals);
                if (vw == 1) put_u8(w, (uint8_t)ix);
                else put_u16(w, (uint16_t)ix);
            }
        }
        for (size_t k = 0; k < (size_t)tr->n_cats * 8; k++) put_u32(w, tr->cat_bits[k]);
    }
    hamf__free(vals);
}

/* ---- version 3: the deep predictor's order ----
 *
 * Trees are stored breadth first (the order predict.c walks), so the j-th
 * inner node of a tree has its children at 2j+1 and 2j+2 and no child index
 * is stored; every field is a column of fixed width over all trees, so
 * opening a forest for scoring is one pass that turns each node into its
 * 8-byte predictor form. The learner's own node numbering is given per tree
 * by a rule (0: breadth first itself; 1: the forest learner's, where each
 * node popped from a depth-first stack, left child first, numbers its two
 * children next); a model whose numbering follows neither is written as
 * version 2.
 *
 * Payload after the features:
 *   u32 trees; u8 feature width fw (1|2); u8 value kind vw (0 f64, 1|2
 *   dictionary index bytes); u8 bitset index width xw (1|2|4);
 *   [vw: u32 nv, nv f64 dictionary];
 *   per tree: u32 nodes, u32 bitsets, u32 categorical inner nodes,
 *   u32 nodes with a value, u8 numbering rule;
 *   columns, each over all trees in tree order, nodes breadth first:
 *   tags[nodes] (TAG_INTERNAL / DEFAULT_LEFT / CAT / VALUE), feature[inner]
 *   (fw bytes), threshold[inner] (u8, 0 for a categorical split),
 *   bitset index[categorical] (xw bytes), value[valued] (f64 or dictionary
 *   index), bitsets[bitsets] (8 u32 each), gain[inner] (f32);
 *   then the loss history and the covers as in version 2 (nodes breadth
 *   first). The checksum is CRC-32C (Castagnoli; the SSE4.2 instruction
 *   where the CPU has it). */

/* Breadth-first position of every node: bfs[q] = node at position q.
 * False when some node is reached twice or never. */
static bool tree_bfs(const struct hamf__tree *tr, uint32_t *bfs)
{
    size_t head = 0, tail = 0;
    bfs[tail++] = 0;
    while (head < tail) {
        const struct hamf__node *nd = &tr->nodes[bfs[head++]];
        if (nd->left < 0) continue;
        if (tail + 2 > tr->n_nodes) return false;
        bfs[tail++] = (uint32_t)nd->left;
        bfs[tail++] = (uint32_t)nd->right;
    }
    return tail == tr->n_nodes;
}

/* The learner's numbering under rule 1 from the breadth-first shape
 * (inner[q]: position q is an inner node): num[q]. stack holds nn entries. */
static void rule1_numbers(const uint8_t *inner, uint32_t nn, uint32_t *rank, uint32_t *num, uint32_t *stack)
{
    uint32_t j = 0;
    for (uint32_t q = 0; q < nn; q++) { rank[q] = j; j += inner[q] & 1; }
    uint32_t top = 0, next = 1;
    num[0] = 0;
    stack[top++] = 0;
    while (top) {
        uint32_t q = stack[--top];
        if (!(inner[q] & 1)) continue;
        uint32_t c = 2 * rank[q] + 1;
        num[c] = next;
        num[c + 1] = next + 1;
        next += 2;
        stack[top++] = c + 1;
        stack[top++] = c;
    }
}

struct cols { struct w tags, feat, thr, cat, val, bits, gain, cover; };

/* Version 3 trees into w (see above); false (nothing written) when a tree's
 * numbering follows no rule. */
static bool put_trees_v3(struct w *w, const struct hamf_ensemble *m, bool cover_whole, bool *ok)
{
    *ok = true;
    size_t maxn = 1, nodes = 0;
    uint32_t maxc = 0;
    for (size_t t = 0; t < m->n_trees; t++) {
        if (m->trees[t].n_nodes > maxn) maxn = m->trees[t].n_nodes;
        if (m->trees[t].n_cats > maxc) maxc = m->trees[t].n_cats;
        nodes += m->trees[t].n_nodes;
    }
    uint32_t *bfs = hamf__malloc(maxn * sizeof *bfs), *rank = hamf__malloc(maxn * sizeof *rank),
             *num = hamf__malloc(maxn * sizeof *num), *stack = hamf__malloc(maxn * sizeof *stack);
    uint8_t *inner = hamf__malloc(maxn), *rule = hamf__malloc(m->n_trees + 1);
    uint64_t *vals = hamf__malloc((nodes + 1) * sizeof *vals);
    struct cols c;
    struct w *all[] = {&c.tags, &c.feat, &c.thr, &c.cat, &c.val, &c.bits, &c.gain, &c.cover};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) { hamf__buf_init(&all[i]->b, 0); all[i]->st = HAMF_OK; }
    bool fits = true;
    if (!bfs || !rank || !num || !stack || !inner || !rule || !vals) { *ok = false; goto out; }
    /* numbering rules first: nothing is written for a model that has none */
    for (size_t t = 0; t < m->n_trees && fits; t++) {
        const struct hamf__tree *tr = &m->trees[t];
        if (tr->n_nodes == 0 || !tree_bfs(tr, bfs)) { fits = false; break; }
        bool r0 = true;
        for (uint32_t q = 0; q < tr->n_nodes; q++) {
            inner[q] = tr->nodes[bfs[q]].left >= 0;
            if (bfs[q] != q) r0 = false;
        }
        if (r0) { rule[t] = 0; continue; }
        rule1_numbers(inner, tr->n_nodes, rank, num, stack);
        for (uint32_t q = 0; q < tr->n_nodes && fits; q++) fits = num[q] == bfs[q];
        rule[t] = 1;
    }
    if (!fits) goto out;
    const int fw = m->bins.nf <= 256 ? 1 : 2, xw = maxc <= 256 ? 1 : maxc <= 65536 ? 2 : 4;
    size_t nv = 0, nz;
    for (size_t t = 0; t < m->n_trees; t++)
        for (uint32_t k = 0; k < m->trees[t].n_nodes; k++)
            if (dbits(m->trees[t].nodes[k].value)) vals[nv++] = dbits(m->trees[t].nodes[k].value);
    nz = nv;
    int vw;
    nv = value_dict(vals, nz, &vw);
    put_u32(w, (uint32_t)m->n_trees);
    put_u8(w, (uint8_t)fw);
    put_u8(w, (uint8_t)vw);
    put_u8(w, (uint8_t)xw);
    if (vw) {
        put_u32(w, (uint32_t)nv);
        for (size_t i = 0; i < nv; i++) put_u64(w, vals[i]);
    }
    size_t cbase = 0;
    for (size_t t = 0; t < m->n_trees; t++) {
        const struct hamf__tree *tr = &m->trees[t];
        tree_bfs(tr, bfs);
        uint32_t ncn = 0, nval = 0;
        for (uint32_t q = 0; q < tr->n_nodes; q++) {
            const struct hamf__node *nd = &tr->nodes[bfs[q]];
            uint8_t tag = dbits(nd->value) ? TAG_VALUE : 0;
            if (nd->left >= 0) {
                tag |= TAG_INTERNAL;
                if (nd->flags & HAMF_NODE_DEFAULT_LEFT) tag |= TAG_DEFAULT_LEFT;
                if (nd->flags & HAMF_NODE_CAT) { tag |= TAG_CAT; ncn++; }
                if (fw == 1) put_u8(&c.feat, (uint8_t)nd->feat);
                else put_u16(&c.feat, nd->feat);
                put_u8(&c.thr, (nd->flags & HAMF_NODE_CAT) ? 0 : nd->thr);
                if (nd->flags & HAMF_NODE_CAT) {
                    if (xw == 1) put_u8(&c.cat, (uint8_t)nd->cat);
                    else if (xw == 2) put_u16(&c.cat, (uint16_t)nd->cat);
                    else put_u32(&c.cat, nd->cat);
                }
                put_f32(&c.gain, nd->gain);
            }
            put_u8(&c.tags, tag);
            if (tag & TAG_VALUE) {
                nval++;
                if (!vw) put_f64(&c.val, nd->value);
                else {
                    uint64_t key = dbits(nd->value);
                    const uint64_t *hit = bsearch(&key, vals, nv, sizeof *vals, cmp_u64);
                    size_t ix = (size_t)(hit - vals);
                    if (vw == 1) put_u8(&c.val, (uint8_t)ix);
                    else put_u16(&c.val, (uint16_t)ix);
                }
            }
            if (m->cover) {
                double cv = m->cover[cbase + bfs[q]];
                if (cover_whole) put_var(&c.cover, (uint64_t)cv);
                else put_f64(&c.cover, cv);
            }
        }
        for (size_t k = 0; k < (size_t)tr->n_cats * 8; k++) put_u32(&c.bits, tr->cat_bits[k]);
        cbase += tr->n_nodes;
        put_u32(w, tr->n_nodes);
        put_u32(w, tr->n_cats);
        put_u32(w, ncn);
        put_u32(w, nval);
        put_u8(w, rule[t]);
    }
    for (size_t i = 0; i < 7; i++) {
        if (all[i]->st) *ok = false;
        put(w, all[i]->b.data ? all[i]->b.data : "", all[i]->b.len);
    }
out:
    if (c.cover.st) *ok = false;
    hamf__free(bfs);
    hamf__free(rank);
    hamf__free(num);
    hamf__free(stack);
    hamf__free(inner);
    hamf__free(rule);
    hamf__free(vals);
    /* the covers column goes after the loss history: the caller appends it */
    for (size_t i = 0; i < 7; i++) hamf__buf_free(&all[i]->b);
    if (fits && *ok) w->cov = c.cover.b;
    else hamf__buf_free(&c.cover.b);
    return fits;
}

static bool covers_whole(const struct hamf_ensemble *m)
{
    size_t tot = 0;
    for (size_t t = 0; t < m->n_trees; t++) tot += m->trees[t].n_nodes;
    bool whole = true;
    for (size_t k = 0; k < tot && whole; k++)
        whole = m->cover[k] >= 0 && m->cover[k] <= 9007199254740992.0 && m->cover[k] == floor(m->cover[k]);
    return whole;
}

/* The file of m in `version`; HAMF_ERR_UNSUPPORTED (no message set) when
 * version 3 cannot hold its node numbering. */
static hamf_status serialize(const struct hamf_ensemble *m, unsigned version, struct hamf__buf *out)
{
    struct w w = {{0}, HAMF_OK, {0}};
    hamf__buf_init(&w.b, 0);
    hamf__buf_init(&w.cov, 0);
    const bool whole = m->cover && covers_whole(m);
    put(&w, MAGIC, 8);
    put_u32(&w, version);
    put_u32(&w, (m->cover ? FLAG_COVER : 0) | (version >= 3 && hamf__model_is_deep(m) ? FLAG_DEEP : 0));
    put_u64(&w, 0); /* length, patched below */
    size_t start = w.b.len;
    put_u32(&w, (uint32_t)m->algorithm);
    put_str(&w, m->target);
    put_str(&w, m->pipeline);
    put_str(&w, m->params_json);
    put_f64(&w, m->init_score);
    put_f64(&w, m->oob_accuracy);
    put_u32(&w, (uint32_t)m->bins.nf);
    for (size_t f = 0; f < m->bins.nf; f++) {
        const struct hamf__feat *ft = &m->bins.f[f];
        put_str(&w, ft->name);
        put_u8(&w, ft->is_cat);
        put_u16(&w, (uint16_t)ft->nbins);
        if (ft->is_cat) {
            put_u32(&w, (uint32_t)ft->ncat);
            for (size_t k = 0; k < ft->ncat; k++) {
                put_str(&w, ft->cats[k]);
                put_u8(&w, ft->cat_bin[k]);
            }
        } else {
            for (int k = 0; k < ft->nbins - 1; k++) put_f64(&w, ft->edges[k]);
        }
    }
    if (version >= 3) {
        bool ok;
        if (!put_trees_v3(&w, m, whole, &ok)) {
            hamf__buf_free(&w.b);
            return HAMF_ERR_UNSUPPORTED;
        }
        if (!ok && w.st == HAMF_OK) w.st = HAMF_ERR_NOMEM;
    } else if (version == 2) {
        put_trees_v2(&w, m);
    } else {
        put_u32(&w, (uint32_t)m->n_trees);
    }
    for (size_t t = 0; version < 2 && t < m->n_trees; t++) {
        const struct hamf__tree *tr = &m->trees[t];
        put_u32(&w, tr->n_nodes);
        put_u32(&w, tr->n_cats);
        for (uint32_t k = 0; k < tr->n_nodes; k++) {
            const struct hamf__node *nd = &tr->nodes[k];
            put_u32(&w, (uint32_t)nd->left);
            put_u32(&w, (uint32_t)nd->right);
            put_u16(&w, nd->feat);
            put_u8(&w, nd->thr);
            put_u8(&w, nd->flags);
            put_u32(&w, nd->cat);
            put_f32(&w, nd->gain);
            put_f64(&w, nd->value);
        }
        for (size_t k = 0; k < (size_t)tr->n_cats * 8; k++) put_u32(&w, tr->cat_bits[k]);
    }
    put_u32(&w, (uint32_t)m->n_iter);
    for (size_t i = 0; i < m->n_iter; i++) {
        put_f64(&w, m->train_loss[i]);
        put_f64(&w, m->valid_loss[i]);
    }
    if (m->cover && version >= 3) { /* the column put_trees_v3 made, breadth first */
        put_u8(&w, whole);
        put(&w, w.cov.data ? w.cov.data : "", w.cov.len);
    } else if (m->cover) { /* SHAP's node covers: f64 each (v1); v2: varints when all are whole numbers */
        size_t tot = 0;
        for (size_t t = 0; t < m->n_trees; t++) tot += m->trees[t].n_nodes;
        bool vwhole = version >= 2 && whole;
        if (version >= 2) put_u8(&w, vwhole);
        for (size_t k = 0; k < tot; k++) {
            if (vwhole) put_var(&w, (uint64_t)m->cover[k]);
            else put_f64(&w, m->cover[k]);
        }
    }
    hamf__buf_free(&w.cov);
    if (w.st) { hamf__buf_free(&w.b); return hamf__err(w.st, "model: out of memory while serializing"); }
    uint64_t len = w.b.len - start;
    for (int i = 0; i < 8; i++) w.b.data[16 + i] = (char)(uint8_t)(len >> (8 * i));
    const unsigned char *pl = (const unsigned char *)w.b.data + start;
    put_u32(&w, version >= 3 ? crc32c_of(pl, (size_t)len) : crc32_of(pl, (size_t)len));
    if (w.st) { hamf__buf_free(&w.b); return hamf__err(w.st, "model: out of memory while serializing"); }
    *out = w.b;
    return HAMF_OK;
}

hamf_status hamf__model_serialize(const struct hamf_ensemble *m, unsigned version, struct hamf__buf *out)
{
    if (!m || !out || version < 1 || version > VERSION) return hamf__err(HAMF_ERR_MISUSE, "model: bad serialize call");
    hamf_status st = serialize(m, version, out);
    if (st == HAMF_ERR_UNSUPPORTED)
        return hamf__err(st, "model: version %u cannot hold this model's node numbering (version 2 can)", version);
    return st;
}

hamf_status hamf_ensemble_save(const hamf_ensemble *m, const char *path)
{
    if (!m || !path) return hamf__err(HAMF_ERR_MISUSE, "model: NULL argument");
    struct hamf__buf b;
    hamf_status st = serialize(m, VERSION, &b);
    if (st == HAMF_ERR_UNSUPPORTED) st = serialize(m, 2, &b); /* numbering without a version 3 rule */
    if (st) return st;
    if ((st = hamf__file_write_atomic(path, b.data, b.len, 0644))) hamf__err_prefix(st, "model");
    hamf__buf_free(&b);
    return st;
}

/* ---- reader ---- */

struct r { const unsigned char *p; size_t n, off; bool bad; };

static inline bool need(struct r *r, size_t k)
{
    if (r->bad || r->n - r->off < k) { r->bad = true; return false; }
    return true;
}
static inline uint8_t get_u8(struct r *r) { return need(r, 1) ? r->p[r->off++] : 0; }
static inline uint16_t get_u16(struct r *r)
{
    if (!need(r, 2)) return 0;
    uint16_t v = (uint16_t)(r->p[r->off] | (r->p[r->off + 1] << 8));
    r->off += 2;
    return v;
}
static inline uint32_t get_u32(struct r *r)
{
    if (!need(r, 4)) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)r->p[r->off + (size_t)i] << (8 * i);
    r->off += 4;
    return v;
}
static inline uint64_t get_u64(struct r *r)
{
    if (!need(r, 8)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
    r->off += 8;
    return v;
}
static inline double get_f64(struct r *r) { uint64_t u = get_u64(r); double d; memcpy(&d, &u, 8); return d; }
static inline float get_f32(struct r *r) { uint32_t u = get_u32(r); float f; memcpy(&f, &u, 4); return f; }
/* returns 0 and sets *s (NULL for a null string) or -1 on OOM/bad */
static int get_str(struct r *r, char **s)
{
    uint32_t n = get_u32(r);
    *s = NULL;
    if (r->bad) return -1;
    if (n == 0xFFFFFFFFu) return 0;
    if (!need(r, n)) return -1;
    if (memchr(r->p + r->off, 0, n)) { r->bad = true; return -1; }
    *s = hamf__strndup((const char *)r->p + r->off, n);
    r->off += n;
    return *s ? 0 : -2;
}

#define BAD(...) do { st = hamf__err(HAMF_ERR_CORRUPT, __VA_ARGS__); goto fail; } while (0)
#define RD_STR(dst) do { int _k = get_str(&r, &(dst)); \
    if (_k == -2) { st = hamf__err(HAMF_ERR_NOMEM, "model: out of memory"); goto fail; } \
    if (_k < 0) BAD("model: %s: truncated or corrupt", path); } while (0)

static inline uint64_t get_var(struct r *r)
{
    uint64_t v = 0;
    for (int sh = 0; sh < 64; sh += 7) {
        if (!need(r, 1)) return 0;
        uint8_t c = r->p[r->off++];
        if (sh == 63 && c > 1) break;
        v |= (uint64_t)(c & 0x7F) << sh;
        if (!(c & 0x80)) {
            if (sh && !c) break; /* over-long encoding */
            return v;
        }
    }
    r->bad = true;
    return 0;
}

#define OOM() do { st = hamf__err(HAMF_ERR_NOMEM, "model: out of memory"); goto fail; } while (0)

/* Checks shared by both versions for node k of tree t (nn nodes, nc
 * bitsets, nf features); leaves are normalised. Returns an error text. */
static const char *check_node(struct hamf__node *nd, uint32_t k, uint32_t nn, uint32_t nc,
                              const struct hamf__binmap *bm, bool rf)
{
    /* RF nodes hold a fraction of positives; GB values are log-odds steps,
     * bounded so that no sum of up to 2^32 trees overflows */
    if (rf ? !(nd->value >= 0 && nd->value <= 1) : !(fabs(nd->value) <= 1e30))
        return rf ? "value outside [0, 1]" : "value not finite or beyond 1e30";
    if (nd->left < 0) {
        if (nd->left != -1) return "bad leaf";
        nd->right = -1;
        nd->feat = 0;
        nd->thr = 0;
        nd->flags = 0;
        nd->cat = 0;
        nd->gain = 0;
        return NULL;
    }
    if ((uint32_t)nd->left <= k || (uint32_t)nd->right <= k || (uint32_t)nd->left >= nn ||
        (uint32_t)nd->right >= nn || nd->left == nd->right)
        return "bad child index";
    if (nd->feat >= bm->nf) return "feature out of range";
    if (nd->flags & ~(HAMF_NODE_DEFAULT_LEFT | HAMF_NODE_CAT)) return "unknown flags";
    if (!isfinite(nd->gain)) return "gain not finite";
    if (nd->flags & HAMF_NODE_CAT) {
        if (nd->cat >= nc) return "category set out of range";
        if (!bm->f[nd->feat].is_cat) return "category split on a numeric feature";
    } else {
        if (nd->thr == 0 || nd->thr >= bm->f[nd->feat].nbins) return "threshold out of range";
        if (bm->f[nd->feat].is_cat) return "threshold split on a categorical feature";
        if (nd->cat != 0) return "bitset index on a numeric split";
    }
    return NULL;
}

/* ---- version 3 reader ---- */

/* n whole-number varints exactly fill p[0..len), none over-long or above
 * 2^53 (what get_var and the version 2 reader accept), in one branch-free
 * pass; varints of 8 bytes or more are rechecked one by one. */
static bool varints_ok(const unsigned char *p, size_t len, uint64_t n)
{
    if (len == 0) return n == 0;
    if (p[len - 1] & 0x80) return false;
    uint64_t ends = 0;
    unsigned run = 0, maxrun = 0, overlong = 0;
    size_t k = 0;
#if defined(__SSE2__)
    /* 16 bytes a step: continuation bits as a mask; a zero byte after a
     * continuation is over-long; 7 continuations in a row (a varint of 8
     * bytes or more) sends the stream to the exact check below */
    uint32_t prev = 0, longrun = 0;
    for (; k + 16 <= len; k += 16) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + k));
        const uint32_t cont = (uint32_t)_mm_movemask_epi8(v);
        const uint32_t zero = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128()));
        uint32_t pc = cont - ((cont >> 1) & 0x5555u); /* popcount of 16 bits, no libgcc call */
        pc = (pc & 0x3333u) + ((pc >> 2) & 0x3333u);
        pc = (pc + (pc >> 4)) & 0x0F0Fu;
        ends += 16 - ((pc + (pc >> 8)) & 0x1Fu);
        overlong |= zero & ((cont << 1) | (prev >> 15));
        const uint32_t w = prev | cont << 16;
        longrun |= w & w >> 1 & w >> 2 & w >> 3 & w >> 4 & w >> 5 & w >> 6;
        prev = cont;
    }
    if (longrun) maxrun = 7;
    for (size_t q = k; q > 0 && (p[q - 1] & 0x80) && run < 8; q--) run++; /* continuations carried into the tail */
#endif
    for (; k < len; k++) {
        const unsigned cont = p[k] >> 7;
        ends += !cont;
        overlong |= (run != 0) & (p[k] == 0);
        run = cont ? run + 1 : 0;
        maxrun = run > maxrun ? run : maxrun;
    }
    if (ends != n || overlong) return false;
    if (maxrun < 7) return true; /* every value < 2^49 */
    struct r rr = {p, len, 0, false};
    for (uint64_t q = 0; q < n; q++)
        if (get_var(&rr) > 9007199254740992ull || rr.bad) return false;
    return true;
}


static inline uint32_t rd16(const unsigned char *q) { return (uint32_t)q[0] | (uint32_t)q[1] << 8; }
static inline uint32_t rd32(const unsigned char *q)
{
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
}
static inline uint64_t rd64(const unsigned char *q) { return (uint64_t)rd32(q) | (uint64_t)rd32(q + 4) << 32; }

struct v3tree { uint32_t nn, nc, ncn, nval; uint8_t rule; };

/* Where the columns of a version 3 file are (after the checks in parse_v3). */
struct v3 {
    uint32_t nt;
    int fw, vw, xw;
    uint32_t nv;
    double *dict;
    struct v3tree *tt;
    uint64_t N, I, B, C, V;
    const unsigned char *tags, *feat, *thr, *cat, *val, *bits, *gain, *cover;
    size_t cover_len;
    int cover_kind; /* -1 none, 0 f64, 1 varints */
};

static bool value_ok(double v, bool rf)
{
    return rf ? v >= 0 && v <= 1 : fabs(v) <= 1e30;
}

/* Every node checked as check_node does for version 2, one by one, to say
 * what is wrong: the slow twin of v3_fast_nodes (run before building a
 * shallow model's trees, or after v3_fast_nodes refused a deep one). */
static const char *v3_nodes(const struct v3 *x, const struct hamf_ensemble *m, uint32_t *bad_tree)
{
    const bool rf = m->algorithm == HAMF_ALGO_RANDOM_FOREST;
    const uint32_t nf = (uint32_t)m->bins.nf;
    const int vb = x->vw ? x->vw : 8;
    uint64_t g = 0, i = 0, c = 0, v = 0;
    for (uint32_t t = 0; t < x->nt; t++) {
        *bad_tree = t;
        const struct v3tree *tt = &x->tt[t];
        const uint32_t nn = tt->nn, ni = (nn - 1) / 2;
        const uint64_t cend = c + tt->ncn, vend = v + tt->nval;
        uint32_t j = 0;
        for (uint32_t k = 0; k < nn; k++, g++) {
            const uint8_t tag = x->tags[g];
            if (tag & TAG_INTERNAL) {
                if (tag & ~(TAG_INTERNAL | TAG_DEFAULT_LEFT | TAG_CAT | TAG_VALUE)) return "bad tag";
                if (j >= ni) return "more inner nodes than a tree of its size has";
                const uint32_t f = x->fw == 1 ? x->feat[i] : rd16(x->feat + 2 * i);
                const uint8_t th = x->thr[i];
                if (f >= nf) return "feature out of range";
                const struct hamf__feat *ft = &m->bins.f[f];
                if (tag & TAG_CAT) {
                    if (c >= cend) return "more categorical splits than counted";
                    const unsigned char *q = x->cat + c * (uint64_t)x->xw;
                    const uint32_t ci = x->xw == 1 ? q[0] : x->xw == 2 ? rd16(q) : rd32(q);
                    c++;
                    if (ci >= tt->nc) return "category set out of range";
                    if (!ft->is_cat) return "category split on a numeric feature";
                    if (th) return "threshold on a categorical split";
                } else {
                    if (th == 0 || th >= ft->nbins) return "threshold out of range";
                    if (ft->is_cat) return "threshold split on a categorical feature";
                }
                i++;
                j++;
            } else if (tag & ~TAG_VALUE) {
                return "bad tag";
            }
            if (tag & TAG_VALUE) {
                if (v >= vend) return "more values than counted";
                const unsigned char *q = x->val + v * (uint64_t)vb;
                if (x->vw == 0) {
                    double d;
                    uint64_t u = rd64(q);
                    memcpy(&d, &u, 8);
                    if (!u || !value_ok(d, rf)) return "bad value";
                } else if ((x->vw == 1 ? q[0] : rd16(q)) >= x->nv) {
                    return "value index out of range";
                }
                v++;
            }
        }
        if (j != ni) return "not a tree (inner and leaf counts disagree)";
        if (c != cend || v != vend) return "counts disagree with the columns";
    }
    return NULL;
}

/* The deep predictor's nodes of one tree, checked and written in one pass
 * with no branch on the node kind (inner or leaf nodes come in no
 * predictable order): both forms are computed and one kept, and the checks
 * of v3_nodes are or-ed into one flag; only a categorical split branches.
 * fi[f]: feature f's bin count, bit 15 = categorical, 0 past the last
 * feature; dict: vw's whole index range and as much again (zero past nv;
 * a node without a value reads the first zero past the range). Returns false when
 * anything is wrong (v3_nodes then says what). Counters are the columns'
 * positions, advanced past the tree. */
struct v3pos { uint64_t g, i, c, v, b, l; };

static inline __attribute__((always_inline)) bool v3_tree_fast(const struct v3 *x, const struct v3tree *tt, const uint16_t *fi,
                                                               const uint8_t *badnum,
                                                               struct hamf__fast *fs, struct v3pos *ps, const int fw,
                                                               const int vw, uint64_t spare)
{
    const uint32_t nn = tt->nn, ni = nn / 2;
    const uint64_t cend = ps->c + tt->ncn, vend = ps->v + tt->nval;
    const uint32_t base = (uint32_t)ps->g;
    uint64_t g = ps->g, i = ps->i, c = ps->c, v = ps->v, l = ps->l;
    const uint64_t lend = l + ni + 1; /* past the tree's leaves: another thread's */
    uint32_t j = 0;
    unsigned bad = 0;
    const int vb = vw ? vw : 8;
    struct hamf__dnode *dn = fs->dn;
    double *leaf = fs->leaf;
    for (uint32_t k = 0; k < nn; k++, g++) {
        const unsigned tag = x->tags[g]; /* tag bits and values: checked by columns_ok */
        const unsigned in = tag & TAG_INTERNAL, hasv = (tag >> 4) & 1;
        const uint32_t f = fw == 1 ? x->feat[i] : rd16(x->feat + 2 * i);
        const unsigned th = x->thr[i];
        const unsigned sub = !(tag & TAG_DEFAULT_LEFT);
        const unsigned char *q = x->val + v * (uint64_t)vb;
        double d = 0;
        uint32_t lix = 0;
        if (vw == 0) {
            uint64_t u = rd64(q) & (0 - (uint64_t)hasv); /* no value: +0.0 */
            memcpy(&d, &u, 8);
        } else {
            const uint32_t ix = vw == 1 ? q[0] : rd16(q);
            /* no value: the zero after the dictionary (masks, not a
             * branch: values come in no predictable order; a bad index
             * fails columns_ok) */
            lix = (ix & (0u - hasv)) | (x->nv & (hasv - 1u));
        }
        /* the node as one little-endian word {feat, sub, thr, child} */
        const uint64_t child = (uint64_t)(base + 2 * j + 1) << 32;
        uint64_t node = f | (uint64_t)sub << 16 | (uint64_t)((th - sub) & 0xFF) << 24 | child;
        const unsigned nb = fw == 1 ? badnum[f << 8 | th]
                                    : ((fi[f] >> 15) | (th == 0) | (th >= (fi[f] & 0x7FFFu)));
        bad |= in & nb & !(tag & TAG_CAT);
        if (__builtin_expect(tag & TAG_CAT, 0)) {
            const unsigned info = fi[f];
            const unsigned char *cq = x->cat + c * (uint64_t)x->xw;
            const uint32_t ci = c < cend ? (x->xw == 1 ? cq[0] : x->xw == 2 ? rd16(cq) : rd32(cq)) : UINT32_MAX;
            c++;
            bad |= (ci >= tt->nc) | !(info >> 15) | (th != 0);
            if (ci < HAMF__LOCAL_CATS)
                node = f | (uint64_t)(HAMF__SUB_CAT | (ci >> 8) << 2) << 16 | (uint64_t)(ci & 0xFF) << 24 | child;
            else
                node = f | (uint64_t)(HAMF__SUB_CAT | 1) << 16 | child;
            if (fs->aux && ci < tt->nc) fs->aux[g] = (uint32_t)(ps->b + ci);
        }
        /* a leaf's reference: with a dictionary its value's index there
         * (fs->leaf is the dictionary), else its own slot in fs->leaf */
        const uint64_t lf = (uint64_t)255 << 24 | (uint64_t)(HAMF__LEAF_BIT | (vw ? lix : (uint32_t)l)) << 32;
        const uint64_t mask = 0 - (uint64_t)in;
        const uint64_t w = (node & mask) | (lf & ~mask);
        dn[g] = (struct hamf__dnode){(uint16_t)w, (uint8_t)(w >> 16), (uint8_t)(w >> 24), (uint32_t)(w >> 32)};
        if (!vw) leaf[l < lend ? l : spare] = d; /* kept only when this is a leaf: l moves past it */
        i += in;
        j += in;
        l += !in;
        v += hasv;
        if (__builtin_expect((j > ni) | (v > vend) | (l > lend), 0)) return false; /* every access inside the arrays */
    }
    if (bad || j != ni || c != cend || v != vend) return false;
    ps->g = g;
    ps->i = i;
    ps->c = c;
    ps->v = v;
    ps->l = l;
    ps->b += tt->nc;
    return true;
}

/* The column checks the node pass leaves out: tag bits (no unknown bit; a
 * leaf is neither default-left nor categorical) and values (dictionary
 * index in range; an inline value non-zero and in range). One simple pass
 * each, no early exit. */
static bool columns_ok(const struct v3 *x, bool rf)
{
    unsigned bad = 0;
    for (uint64_t g = 0; g < x->N; g++) {
        const uint8_t t = x->tags[g];
        bad |= (t & (uint8_t)~(TAG_INTERNAL | TAG_DEFAULT_LEFT | TAG_CAT | TAG_VALUE)) |
               (t & (TAG_DEFAULT_LEFT | TAG_CAT) & (uint8_t)((t & TAG_INTERNAL) - 1));
    }
    if (x->vw == 1)
        for (uint64_t v = 0; v < x->V; v++) bad |= x->val[v] >= x->nv;
    else if (x->vw == 2)
        for (uint64_t v = 0; v < x->V; v++) bad |= rd16(x->val + 2 * v) >= x->nv;
    else
        for (uint64_t v = 0; v < x->V; v++) {
            uint64_t u = rd64(x->val + 8 * v);
            double d;
            memcpy(&d, &u, 8);
            bad |= (u == 0) | !value_ok(d, rf);
        }
    return !bad;
}

/* Work of the parallel open: trees [t0, t1) of task k, and on top the
 * checksum (task 0) and the gain and cover checks (task 1). */
struct v3job {
    const struct v3 *x;
    const struct hamf_ensemble *m;
    struct hamf__fast *fs;
    const uint16_t *fi;
    const uint8_t *badnum;     /* fw 1: [feature << 8 | threshold] = not a valid numeric split */
    uint32_t split;            /* task 0: trees [0, split); task 1: [split, nt) */
    struct v3pos mid;          /* the columns' positions at tree `split` */
    const unsigned char *payload;
    size_t plen;
    uint32_t crc_want;
    bool crc_bad;
    bool ok[2];
    bool gains_bad, covers_bad, columns_bad;
};

static bool gains_finite(const unsigned char *p, uint64_t n)
{
    uint32_t acc = 0;
    for (uint64_t i = 0; i < n; i++) { /* no early exit: vectorisable */
        uint32_t u;
        memcpy(&u, p + 4 * i, 4);
        acc |= ((u & 0x7F800000u) == 0x7F800000u);
    }
    return !acc;
}

static bool covers_check(const struct v3 *x)
{
    if (x->cover_kind == 1) return varints_ok(x->cover, x->cover_len, x->N);
    if (x->cover_kind == 0) {
        if (x->cover_len != x->N * 8) return false;
        for (uint64_t k = 0; k < x->N; k++) {
            uint64_t u = rd64(x->cover + 8 * k);
            double d;
            memcpy(&d, &u, 8);
            if (!(d >= 0) || isinf(d)) return false;
        }
    }
    return true;
}

static void v3_task(void *vctx, size_t task, int tid)
{
    (void)tid;
    struct v3job *j = vctx;
    const struct v3 *x = j->x;
    struct hamf__fast *fs = j->fs;
    const bool rf = j->m->algorithm == HAMF_ALGO_RANDOM_FOREST;
    if (task == 0) j->crc_bad = crc32c_of(j->payload, j->plen) != j->crc_want;
    else {
        j->gains_bad = !gains_finite(x->gain, x->I);
        j->covers_bad = !covers_check(x);
        j->columns_bad = !columns_ok(x, rf);
    }
    struct v3pos ps = task == 0 ? (struct v3pos){0, 0, 0, 0, 0, 0} : j->mid;
    const uint32_t t0 = task == 0 ? 0 : j->split, t1 = task == 0 ? j->split : x->nt;
    const uint64_t spare = x->N - x->I + 1 + task;
    bool ok = true;
    for (uint32_t t = t0; t < t1 && ok; t++) {
        const struct v3tree *tt = &x->tt[t];
        fs->node_off[t] = ps.g;
        fs->cat_off[t] = (uint32_t)ps.b;
        for (uint64_t k = 0; k < tt->nc; k++)
            for (uint32_t w = 0; w < fs->cw; w++)
                fs->cat[(ps.b + k) * fs->cw + w] = rd32(x->bits + ((ps.b + k) * 8 + w) * 4);
        if (x->fw == 1 && x->vw == 2) ok = v3_tree_fast(x, tt, j->fi, j->badnum, fs, &ps, 1, 2, spare);
        else if (x->fw == 1 && x->vw == 1) ok = v3_tree_fast(x, tt, j->fi, j->badnum, fs, &ps, 1, 1, spare);
        else if (x->fw == 1 && x->vw == 0) ok = v3_tree_fast(x, tt, j->fi, j->badnum, fs, &ps, 1, 0, spare);
        else ok = v3_tree_fast(x, tt, j->fi, j->badnum, fs, &ps, x->fw, x->vw, spare);
    }
    j->ok[task] = ok;
}

/* Below this many nodes the open stays on the caller's thread. */
#define V3_PAR_NODES 100000

/* The predictor's nodes, the checksum, gains and covers, on two threads
 * for a big model; *crc_bad reports the checksum. */
static bool v3_fast_nodes(const struct v3 *x, const struct hamf_ensemble *m, struct hamf__fast *fs,
                          const unsigned char *payload, size_t plen, uint32_t crc, bool *crc_bad)
{
    uint16_t *fi = hamf__calloc(x->fw == 1 ? 256 : 65536, sizeof *fi);
    uint8_t *badnum = x->fw == 1 ? hamf__malloc(65536) : NULL;
    if (!fi || (x->fw == 1 && !badnum)) {
        hamf__free(fi);
        hamf__free(badnum);
        *crc_bad = crc32c_of(payload, plen) != crc;
        return false;
    }
    for (size_t f = 0; f < m->bins.nf; f++)
        fi[f] = (uint16_t)((uint16_t)m->bins.f[f].nbins | (m->bins.f[f].is_cat ? 0x8000 : 0));
    if (x->vw) { /* the leaves' values: the dictionary and a zero */
        memcpy(fs->leaf, x->dict, x->nv * sizeof *fs->leaf);
        fs->leaf[x->nv] = 0;
    }
    for (uint32_t f = 0; badnum && f < 256; f++)
        for (uint32_t th = 0; th < 256; th++)
            badnum[f << 8 | th] = (uint8_t)((fi[f] >> 15) | (th == 0) | (th >= (fi[f] & 0x7FFFu)));
    struct v3job j;
    memset(&j, 0, sizeof j);
    j.x = x;
    j.m = m;
    j.fs = fs;
    j.fi = fi;
    j.badnum = badnum;
    j.payload = payload;
    j.plen = plen;
    j.crc_want = crc;
    /* split the nodes so that both tasks do about the same work: task 0
     * also sums the checksum, task 1 checks gains and covers (costs
     * relative to one node, measured) */
    const bool par = x->N >= V3_PAR_NODES && hamf__ncpu() > 1;
    j.split = x->nt;
    if (par) {
        double extra0 = (double)plen / 64, extra1 = (double)x->cover_len / 10 + (double)x->I / 20;
        double want = ((double)x->N + extra1 - extra0) / 2, acc = 0;
        uint32_t t = 0;
        for (; t < x->nt && acc + x->tt[t].nn / 2.0 < want; t++) {
            acc += x->tt[t].nn;
            j.mid.g += x->tt[t].nn;
            j.mid.i += x->tt[t].nn / 2;
            j.mid.c += x->tt[t].ncn;
            j.mid.v += x->tt[t].nval;
            j.mid.b += x->tt[t].nc;
        }
        j.mid.l = j.mid.g - j.mid.i;
        j.split = t;
        hamf__run_parallel(2, v3_task, &j);
    } else {
        j.mid = (struct v3pos){x->N, x->I, x->C, x->V, x->B, x->N - x->I};
        v3_task(&j, 0, 0);
        v3_task(&j, 1, 0);
    }
    hamf__free(fi);
    hamf__free(badnum);
    *crc_bad = j.crc_bad;
    if (!j.ok[0] || !j.ok[1] || j.gains_bad || j.covers_bad || j.columns_bad) return false;
    fs->node_off[x->nt] = x->N;
    fs->cat_off[x->nt] = (uint32_t)x->B;
    fs->dn[x->N] = (struct hamf__dnode){0, 0, 255, (uint32_t)x->N}; /* the idle slots' self loop */
    fs->ncat = x->B;
    fs->has_cat = x->C > 0;
    return true;
}

/* The deep predictor of a checked version 3 file. */
static hamf_status v3_fast(const struct v3 *x, struct hamf_ensemble *m, const unsigned char *payload, size_t plen,
                           uint32_t crc, bool *crc_bad)
{
    *crc_bad = false;
    struct hamf__fast *fs = hamf__calloc(1, sizeof *fs);
    if (!fs) return HAMF_ERR_NOMEM;
    m->fast = fs;
    fs->ntrees = x->nt;
    fs->deep = true;
    fs->cw = 1;
    for (size_t f = 0; f < m->bins.nf; f++)
        if (m->bins.f[f].is_cat && (uint32_t)(m->bins.f[f].nbins + 31) / 32 > fs->cw)
            fs->cw = (uint32_t)(m->bins.f[f].nbins + 31) / 32;
    bool many = false;
    for (uint32_t t = 0; t < x->nt; t++) many |= x->tt[t].nc > HAMF__LOCAL_CATS;
    fs->node_off = hamf__malloc((x->nt + 1) * sizeof *fs->node_off);
    fs->cat_off = hamf__malloc((x->nt + 1) * sizeof *fs->cat_off);
    fs->dn = hamf__malloc((x->N + 1) * sizeof *fs->dn);
    /* the leaves' values: the dictionary (+ a zero) or one per leaf (+ a
     * spare slot per task, see v3_tree_fast) */
    fs->leaf = hamf__malloc((x->vw ? (size_t)x->nv + 1 : x->N - x->I + 3) * sizeof *fs->leaf);
    fs->cat = hamf__malloc((x->B + 1) * fs->cw * 4);
    if (many) fs->aux = hamf__calloc(x->N + 1, sizeof *fs->aux);
    if (!fs->node_off || !fs->cat_off || !fs->dn || !fs->leaf || !fs->cat || (many && !fs->aux)) {
        *crc_bad = crc32c_of(payload, plen) != crc;
        return HAMF_ERR_NOMEM;
    }
    if (!v3_fast_nodes(x, m, fs, payload, plen, crc, crc_bad)) return HAMF_ERR_CORRUPT;
    return hamf__fast_finish(m);
}

/* The learner's trees (and covers) of a checked version 3 file. */
static hamf_status v3_trees(const struct v3 *x, struct hamf_ensemble *m)
{
    uint32_t maxn = 1;
    for (uint32_t t = 0; t < x->nt; t++)
        if (x->tt[t].nn > maxn) maxn = x->tt[t].nn;
    uint32_t *rank = hamf__malloc(maxn * sizeof *rank), *num = hamf__malloc(maxn * sizeof *num),
             *stack = hamf__malloc(maxn * sizeof *stack);
    uint8_t *inner = hamf__malloc(maxn);
    hamf_status st = HAMF_OK;
    if (!rank || !num || !stack || !inner) { st = HAMF_ERR_NOMEM; goto out; }
    if (x->cover_kind >= 0 && !(m->cover = hamf__malloc((x->N + 1) * sizeof *m->cover))) { st = HAMF_ERR_NOMEM; goto out; }
    const int vb = x->vw ? x->vw : 8;
    uint64_t g = 0, i = 0, c = 0, v = 0, b = 0;
    size_t co = 0;
    struct r cr = {x->cover, x->cover_len, 0, false};
    for (uint32_t t = 0; t < x->nt; t++) {
        const struct v3tree *tt = &x->tt[t];
        struct hamf__tree *tr = &m->trees[t];
        const uint32_t nn = tt->nn;
        tr->nodes = hamf__malloc((size_t)nn * sizeof *tr->nodes);
        tr->cat_bits = hamf__malloc(((size_t)tt->nc * 8 + 1) * sizeof *tr->cat_bits);
        if (!tr->nodes || !tr->cat_bits) { st = HAMF_ERR_NOMEM; goto out; }
        tr->n_nodes = tr->cap_nodes = nn;
        tr->n_cats = tr->cap_cats = tt->nc;
        for (size_t k = 0; k < (size_t)tt->nc * 8; k++) tr->cat_bits[k] = rd32(x->bits + (b * 8 + k) * 4);
        b += tt->nc;
        for (uint32_t q = 0; q < nn; q++) inner[q] = x->tags[g + q] & TAG_INTERNAL;
        if (tt->rule == 1) rule1_numbers(inner, nn, rank, num, stack);
        else
            for (uint32_t q = 0; q < nn; q++) num[q] = q;
        uint32_t j = 0;
        for (uint32_t q = 0; q < nn; q++, g++) {
            const uint8_t tag = x->tags[g];
            struct hamf__node *nd = &tr->nodes[num[q]];
            memset(nd, 0, sizeof *nd);
            nd->left = nd->right = -1;
            if (tag & TAG_INTERNAL) {
                nd->left = (int32_t)num[2 * j + 1];
                nd->right = (int32_t)num[2 * j + 2];
                j++;
                nd->feat = (uint16_t)(x->fw == 1 ? x->feat[i] : rd16(x->feat + 2 * i));
                nd->flags = (uint8_t)(((tag & TAG_DEFAULT_LEFT) ? HAMF_NODE_DEFAULT_LEFT : 0) |
                                      ((tag & TAG_CAT) ? HAMF_NODE_CAT : 0));
                if (tag & TAG_CAT) {
                    const unsigned char *p = x->cat + c * (uint64_t)x->xw;
                    nd->cat = x->xw == 1 ? p[0] : x->xw == 2 ? rd16(p) : rd32(p);
                    c++;
                } else {
                    nd->thr = x->thr[i];
                }
                uint32_t gb = rd32(x->gain + 4 * i);
                memcpy(&nd->gain, &gb, 4);
                i++;
            }
            if (tag & TAG_VALUE) {
                const unsigned char *p = x->val + v * (uint64_t)vb;
                if (x->vw == 0) {
                    uint64_t u = rd64(p);
                    memcpy(&nd->value, &u, 8);
                } else {
                    nd->value = x->dict[x->vw == 1 ? p[0] : rd16(p)];
                }
                v++;
            }
        }
        if (x->cover_kind >= 0) {
            for (uint32_t q = 0; q < nn; q++) {
                double cv;
                if (x->cover_kind == 0) {
                    uint64_t u = rd64(x->cover + 8 * (co + q));
                    memcpy(&cv, &u, 8);
                } else {
                    cv = (double)get_var(&cr); /* checked by parse_v3 */
                }
                m->cover[co + num[q]] = cv;
            }
        }
        co += nn;
    }
out:
    hamf__free(rank);
    hamf__free(num);
    hamf__free(stack);
    hamf__free(inner);
    return st;
}

/* Loss history (every version): u32 count, then (train, valid) f64 pairs. */
static const char *get_losses(struct r *r, struct hamf_ensemble *m, bool *oom)
{
    uint32_t ni = get_u32(r);
    if (r->bad || ni > (r->n - r->off) / 16) return "bad loss history";
    if (!ni) return NULL;
    m->train_loss = hamf__malloc(ni * sizeof(double));
    m->valid_loss = hamf__malloc(ni * sizeof(double));
    if (!m->train_loss || !m->valid_loss) { *oom = true; return "out of memory"; }
    for (uint32_t i = 0; i < ni; i++) {
        m->train_loss[i] = get_f64(r);
        m->valid_loss[i] = get_f64(r);
        if (!(m->train_loss[i] >= 0) || isinf(m->train_loss[i]) ||
            (!isnan(m->valid_loss[i]) && !(m->valid_loss[i] >= 0 && !isinf(m->valid_loss[i]))))
            return "loss history value out of range";
    }
    m->n_iter = ni;
    return NULL;
}

/* The rest of a version 3 payload (after the features): trees, losses,
 * covers. lite: a deep model gets its predictor and no learner trees (n_trees
 * empty trees); the caller keeps the bytes to build them later. */
static hamf_status parse_v3(const char *path, struct r *r, struct hamf_ensemble *m, uint32_t flags, bool lite, uint32_t crc,
                            bool *crc_done)
{
    hamf_status st = HAMF_OK;
    const unsigned char *payload = r->p + 24;
    const size_t plen = r->n - 24;
    const bool deep = flags & FLAG_DEEP;
    bool crc_bad = false;
    if (!deep) { /* a deep model's checksum is summed beside its nodes (v3_fast) */
        *crc_done = true;
        if (crc32c_of(payload, plen) != crc) return hamf__err(HAMF_ERR_CORRUPT, "model: %s: checksum mismatch (file damaged)", path);
    }
    struct v3 x;
    memset(&x, 0, sizeof x);
    x.cover_kind = -1;
    const bool rf = m->algorithm == HAMF_ALGO_RANDOM_FOREST;
    const char *why = NULL;
    uint32_t nt = get_u32(r);
    if (r->bad || nt == 0 || nt > (r->n - r->off) / 17) BAD("model: %s: bad tree count", path);
    x.nt = nt;
    x.fw = get_u8(r);
    x.vw = get_u8(r);
    x.xw = get_u8(r);
    if (r->bad || (x.fw != 1 && x.fw != 2) || (x.fw == 1 && m->bins.nf > 256)) BAD("model: %s: bad feature width", path);
    if (x.vw > 2) BAD("model: %s: bad value dictionary kind", path);
    if (x.xw != 1 && x.xw != 2 && x.xw != 4) BAD("model: %s: bad bitset index width", path);
    if (x.vw) {
        x.nv = get_u32(r);
        if (r->bad || x.nv == 0 || x.nv > (x.vw == 1 ? 256u : 65536u) || x.nv > (r->n - r->off) / 8)
            BAD("model: %s: bad value dictionary size", path);
        x.dict = hamf__malloc((size_t)x.nv * sizeof *x.dict);
        if (!x.dict) OOM();
        for (uint32_t i = 0; i < x.nv; i++) {
            x.dict[i] = get_f64(r);
            if (!isfinite(x.dict[i]) || dbits(x.dict[i]) == 0 || !value_ok(x.dict[i], rf))
                BAD("model: %s: bad dictionary value", path);
        }
    }
    x.tt = hamf__malloc((size_t)nt * sizeof *x.tt);
    if (!x.tt) OOM();
    const size_t left0 = r->n - r->off;
    for (uint32_t t = 0; t < nt; t++) {
        struct v3tree *tt = &x.tt[t];
        tt->nn = get_u32(r);
        tt->nc = get_u32(r);
        tt->ncn = get_u32(r);
        tt->nval = get_u32(r);
        tt->rule = get_u8(r);
        if (r->bad || tt->nn == 0 || !(tt->nn & 1) || tt->nn >= HAMF__LEAF_BIT || tt->ncn > tt->nn / 2 ||
            tt->nval > tt->nn || tt->rule > 1 || tt->nc > left0 / 32)
            BAD("model: %s: tree %u: bad sizes", path, t);
        x.N += tt->nn;
        x.I += tt->nn / 2;
        x.B += tt->nc;
        x.C += tt->ncn;
        x.V += tt->nval;
        if (x.N > left0 || x.B > left0 / 32) BAD("model: %s: tree %u: bad sizes", path, t);
    }
    if (x.N >= HAMF__LEAF_BIT - 1) BAD("model: %s: too many nodes", path);
    const uint64_t vb = x.vw ? (uint64_t)x.vw : 8;
    const uint64_t cols = x.N + x.I * (uint64_t)x.fw + x.I + x.C * (uint64_t)x.xw + x.V * vb + x.B * 32 + x.I * 4;
    if ((uint64_t)(size_t)cols != cols || !need(r, (size_t)cols)) BAD("model: %s: truncated in the tree columns", path);
    x.tags = r->p + r->off;
    x.feat = x.tags + x.N;
    x.thr = x.feat + x.I * (uint64_t)x.fw;
    x.cat = x.thr + x.I;
    x.val = x.cat + x.C * (uint64_t)x.xw;
    x.bits = x.val + x.V * vb;
    x.gain = x.bits + x.B * 32;
    r->off += (size_t)cols;
    bool oom = false;
    if ((why = get_losses(r, m, &oom))) {
        if (oom) OOM();
        BAD("model: %s: %s", path, why);
    }
    if (flags & FLAG_COVER) { /* checked with the nodes (v3_fast) or below */
        int whole = get_u8(r);
        if (r->bad || whole > 1) BAD("model: %s: truncated node covers", path);
        x.cover = r->p + r->off;
        x.cover_len = r->n - r->off;
        x.cover_kind = whole;
        r->off = r->n;
    }
    if (r->bad || r->off != r->n) BAD("model: %s: trailing or missing bytes in the payload", path);
    uint32_t bt = 0;
    /* a deep model's predictor checks every node as it is built; the
     * per-node checks below run first otherwise, or to name a fault */
    if (deep) {
        *crc_done = true;
        st = v3_fast(&x, m, payload, plen, crc, &crc_bad);
        if (crc_bad) BAD("model: %s: checksum mismatch (file damaged)", path);
        if (st == HAMF_ERR_NOMEM) OOM();
    } else {
        st = HAMF_ERR_CORRUPT;
    }
    if (st) {
        hamf__model_drop_fast(m);
        if (!gains_finite(x.gain, x.I)) BAD("model: %s: gain not finite", path);
        if (!covers_check(&x)) BAD("model: %s: bad node covers", path);
        if ((why = v3_nodes(&x, m, &bt))) BAD("model: %s: tree %u: %s", path, bt, why);
        if (deep) BAD("model: %s: malformed tree columns", path); /* v3_fast_nodes refused what v3_nodes accepts: never */
        st = HAMF_OK;
    }
    m->trees = hamf__calloc(nt, sizeof *m->trees);
    if (!m->trees) OOM();
    m->n_trees = m->cap_trees = nt;
    if (!lite || !deep) {
        if ((st = v3_trees(&x, m))) OOM();
        if (!deep && (st = hamf__model_prepare(m))) goto fail;
    }
fail:
    hamf__free(x.dict);
    hamf__free(x.tt);
    return st;
}

static hamf_status parse(const char *path, const unsigned char *buf, size_t len, bool lite, struct hamf_ensemble **out)
{
    hamf_status st = HAMF_OK;
    struct hamf_ensemble *m = NULL;
    double *dict = NULL;
    uint8_t *seen = NULL;
    if (len < 28 || memcmp(buf, MAGIC, 8) != 0)
        return hamf__err(HAMF_ERR_CORRUPT, "model: %s is not a hamf model file", path);
    struct r r = {buf, len, 8, false};
    uint32_t ver = get_u32(&r);
    uint32_t flags = get_u32(&r);
    uint64_t plen = get_u64(&r);
    if (ver < 1 || ver > VERSION)
        return hamf__err(HAMF_ERR_UNSUPPORTED, "model: %s has format version %u; this hamf reads versions 1 to %u",
                         path, ver, VERSION);
    if (flags & ~(ver >= 3 ? FLAG_COVER | FLAG_DEEP : FLAG_COVER))
        return hamf__err(HAMF_ERR_UNSUPPORTED, "model: %s uses unknown format flags 0x%x", path, flags);
    if (plen > len - 24 || len - 24 - plen < 4)
        return hamf__err(HAMF_ERR_CORRUPT, "model: %s is truncated (%zu bytes)", path, len);
    if (len - 24 - plen > 4)
        return hamf__err(HAMF_ERR_CORRUPT, "model: %s has %zu trailing bytes after the checksum (file damaged or not a model)",
                         path, (size_t)(len - 24 - plen - 4));
    uint32_t crc = 0;
    for (int i = 0; i < 4; i++) crc |= (uint32_t)buf[24 + plen + (size_t)i] << (8 * i);
    /* version 3 sums its checksum while it reads (parse_v3); an error
     * found before that still reports a damaged file as damaged */
    bool crc_done = ver < 3;
    if (ver < 3 && crc32_of(buf + 24, (size_t)plen) != crc)
        return hamf__err(HAMF_ERR_CORRUPT, "model: %s: checksum mismatch (file damaged)", path);
    r.n = 24 + (size_t)plen;
    m = hamf__calloc(1, sizeof *m);
    if (!m) return hamf__err(HAMF_ERR_NOMEM, "model: out of memory");
    uint32_t algo = get_u32(&r);
    if (algo != HAMF_ALGO_GRADIENT_BOOSTING && algo != HAMF_ALGO_RANDOM_FOREST) BAD("model: %s: unknown algorithm %u", path, algo);
    m->algorithm = (hamf_algorithm)algo;
    RD_STR(m->target);
    RD_STR(m->pipeline);
    RD_STR(m->params_json);
    m->init_score = get_f64(&r);
    m->oob_accuracy = get_f64(&r);
    if (!(fabs(m->init_score) <= 1e30) || (algo == HAMF_ALGO_RANDOM_FOREST && m->init_score != 0))
        BAD("model: %s: initial score out of range", path);
    if (!isnan(m->oob_accuracy) && !(m->oob_accuracy >= 0 && m->oob_accuracy <= 100))
        BAD("model: %s: out-of-bag accuracy %g out of range", path, m->oob_accuracy);
    uint32_t nf = get_u32(&r);
    if (r.bad || nf == 0 || nf > 65535 || nf > r.n - r.off) BAD("model: %s: bad feature count", path);
    m->bins.f = hamf__calloc(nf, sizeof *m->bins.f);
    if (!m->bins.f) OOM();
    m->bins.nf = nf;
    for (uint32_t f = 0; f < nf; f++) {
        struct hamf__feat *ft = &m->bins.f[f];
        RD_STR(ft->name);
        if (!ft->name) BAD("model: %s: feature %u has no name", path, f);
        uint8_t kind = get_u8(&r);
        if (kind > 1) BAD("model: %s: feature '%s': bad kind %u", path, ft->name, kind);
        ft->is_cat = kind;
        ft->nbins = get_u16(&r);
        if (r.bad || ft->nbins < 2 || ft->nbins > HAMF_MAX_BINS) BAD("model: %s: feature '%s': bad bin count", path, ft->name);
        if (ft->is_cat) {
            uint32_t nc = get_u32(&r);
            if (r.bad || nc > (r.n - r.off) / 5) BAD("model: %s: feature '%s': bad category count", path, ft->name);
            ft->cats = hamf__calloc((size_t)nc + 1, sizeof *ft->cats);
            ft->cat_bin = hamf__calloc((size_t)nc + 1, 1);
            if (!ft->cats || !ft->cat_bin) OOM();
            ft->ncat = nc;
            for (uint32_t k = 0; k < nc; k++) {
                RD_STR(ft->cats[k]);
                if (!ft->cats[k]) BAD("model: %s: null category", path);
                ft->cat_bin[k] = get_u8(&r);
                if (ft->cat_bin[k] == 0 || ft->cat_bin[k] >= ft->nbins) BAD("model: %s: bad category bin", path);
            }
        } else {
            ft->edges = hamf__malloc((size_t)ft->nbins * sizeof *ft->edges);
            if (!ft->edges) OOM();
            for (int k = 0; k < ft->nbins - 1; k++) {
                ft->edges[k] = get_f64(&r);
                if (isnan(ft->edges[k]) || (k > 0 && !(ft->edges[k] > ft->edges[k - 1])))
                    BAD("model: %s: feature '%s': bin edges not increasing", path, ft->name);
            }
        }
        if (r.bad) BAD("model: %s: truncated", path);
    }
    if (ver >= 3) {
        if ((st = parse_v3(path, &r, m, flags, lite, crc, &crc_done))) goto fail;
        *out = m;
        return HAMF_OK;
    }
    uint32_t nt = get_u32(&r);
    if (r.bad || nt == 0 || nt > (r.n - r.off) / 3) BAD("model: %s: bad tree count", path);
    int fw = 0, vw = 0;
    uint32_t nv = 0;
    if (ver >= 2) {
        fw = get_u8(&r);
        vw = get_u8(&r);
        if (r.bad || (fw != 1 && fw != 2) || (fw == 1 && nf > 256)) BAD("model: %s: bad feature width", path);
        if (vw > 2) BAD("model: %s: bad value dictionary kind", path);
        if (vw) {
            nv = get_u32(&r);
            if (r.bad || nv == 0 || nv > (vw == 1 ? 256u : 65536u) || nv > (r.n - r.off) / 8)
                BAD("model: %s: bad value dictionary size", path);
            dict = hamf__malloc((size_t)nv * sizeof *dict);
            if (!dict) OOM();
            for (uint32_t i = 0; i < nv; i++) {
                dict[i] = get_f64(&r);
                if (!isfinite(dict[i]) || dbits(dict[i]) == 0) BAD("model: %s: bad dictionary value", path);
            }
        }
    }
    m->trees = hamf__calloc(nt, sizeof *m->trees);
    if (!m->trees) OOM();
    m->cap_trees = nt;
    for (uint32_t t = 0; t < nt; t++) {
        struct hamf__tree *tr = &m->trees[t];
        uint64_t nn, nc;
        if (ver >= 2) { nn = get_var(&r); nc = get_var(&r); }
        else { nn = get_u32(&r); nc = get_u32(&r); }
        size_t left = r.n - r.off;
        if (r.bad || nn == 0 || nn > left / (ver >= 2 ? 1 : 28) || nc > left / 32) BAD("model: %s: tree %u: bad sizes", path, t);
        tr->nodes = hamf__malloc((size_t)nn * sizeof *tr->nodes);
        tr->cat_bits = hamf__malloc(((size_t)nc * 8 + 1) * sizeof *tr->cat_bits);
        m->n_trees = t + 1;
        if (!tr->nodes || !tr->cat_bits) OOM();
        tr->n_nodes = tr->cap_nodes = (uint32_t)nn;
        tr->n_cats = tr->cap_cats = (uint32_t)nc;
        for (uint32_t k = 0; k < nn; k++) {
            struct hamf__node *nd = &tr->nodes[k];
            if (ver >= 2) {
                memset(nd, 0, sizeof *nd);
                uint8_t tag = get_u8(&r);
                if (tag & ~(TAG_INTERNAL | TAG_DEFAULT_LEFT | TAG_CAT | TAG_RIGHT | TAG_VALUE) ||
                    (!(tag & TAG_INTERNAL) && (tag & (TAG_DEFAULT_LEFT | TAG_CAT | TAG_RIGHT))))
                    BAD("model: %s: tree %u node %u: bad tag 0x%x", path, t, k, tag);
                nd->left = nd->right = -1;
                if (tag & TAG_INTERNAL) {
                    uint64_t l = get_var(&r), rr = 0;
                    if (tag & TAG_RIGHT) rr = get_var(&r);
                    if (l == 0 || l >= nn - k || ((tag & TAG_RIGHT) && (rr == 0 || rr >= nn - k)))
                        BAD("model: %s: tree %u node %u: bad child index", path, t, k);
                    nd->left = (int32_t)(k + l);
                    nd->right = (tag & TAG_RIGHT) ? (int32_t)(k + rr) : nd->left + 1;
                    nd->feat = fw == 1 ? get_u8(&r) : get_u16(&r);
                    nd->flags = (uint8_t)(((tag & TAG_DEFAULT_LEFT) ? HAMF_NODE_DEFAULT_LEFT : 0) |
                                          ((tag & TAG_CAT) ? HAMF_NODE_CAT : 0));
                    if (tag & TAG_CAT) {
                        uint64_t c = get_var(&r);
                        if (c >= nc) BAD("model: %s: tree %u node %u: category set out of range", path, t, k);
                        nd->cat = (uint32_t)c;
                    } else {
                        nd->thr = get_u8(&r);
                    }
                    nd->gain = get_f32(&r);
                }
                if (tag & TAG_VALUE) {
                    if (!vw) nd->value = get_f64(&r);
                    else {
                        uint32_t ix = vw == 1 ? get_u8(&r) : get_u16(&r);
                        if (ix >= nv) BAD("model: %s: tree %u node %u: value index out of range", path, t, k);
                        nd->value = dict[ix];
                    }
                    if (dbits(nd->value) == 0) BAD("model: %s: tree %u node %u: zero value flagged", path, t, k);
                }
            } else {
                nd->left = (int32_t)get_u32(&r);
                nd->right = (int32_t)get_u32(&r);
                nd->feat = get_u16(&r);
                nd->thr = get_u8(&r);
                nd->flags = get_u8(&r);
                nd->cat = get_u32(&r);
                nd->gain = get_f32(&r);
                nd->value = get_f64(&r);
            }
            if (r.bad) BAD("model: %s: truncated in tree %u", path, t);
            const char *why = check_node(nd, k, (uint32_t)nn, (uint32_t)nc, &m->bins, algo == HAMF_ALGO_RANDOM_FOREST);
            if (why) BAD("model: %s: tree %u node %u: %s", path, t, k, why);
        }
        if (!need(&r, (size_t)nc * 32)) BAD("model: %s: truncated in tree %u", path, t);
        for (size_t k = 0; k < (size_t)nc * 8; k++) {
            const unsigned char *q = r.p + r.off + 4 * k;
            tr->cat_bits[k] = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        }
        r.off += (size_t)nc * 32;
        /* each node but the root must have exactly one parent (a tree, not a DAG) */
        seen = hamf__calloc((size_t)nn, 1);
        if (!seen) OOM();
        bool dag = false;
        for (uint32_t k = 0; k < nn; k++) {
            const struct hamf__node *nd = &tr->nodes[k];
            if (nd->left < 0) continue;
            if (seen[nd->left]++ || seen[nd->right]++) dag = true;
        }
        for (uint32_t k = 1; k < nn && !dag; k++) dag = !seen[k];
        hamf__free(seen);
        seen = NULL;
        if (dag) BAD("model: %s: tree %u: not a tree (a node has no parent or two)", path, t);
    }
    uint32_t ni = get_u32(&r);
    if (r.bad || ni > (r.n - r.off) / 16) BAD("model: %s: bad loss history", path);
    if (ni) {
        m->train_loss = hamf__malloc(ni * sizeof(double));
        m->valid_loss = hamf__malloc(ni * sizeof(double));
        if (!m->train_loss || !m->valid_loss) OOM();
        for (uint32_t i = 0; i < ni; i++) {
            m->train_loss[i] = get_f64(&r);
            m->valid_loss[i] = get_f64(&r);
            if (!(m->train_loss[i] >= 0) || isinf(m->train_loss[i]) || (!isnan(m->valid_loss[i]) && !(m->valid_loss[i] >= 0 && !isinf(m->valid_loss[i]))))
                BAD("model: %s: loss history value out of range", path);
        }
        m->n_iter = ni;
    }
    if (flags & FLAG_COVER) {
        size_t tot = 0;
        for (size_t t = 0; t < m->n_trees; t++) tot += m->trees[t].n_nodes;
        int whole = ver >= 2 ? get_u8(&r) : 0;
        if (r.bad || whole > 1 || tot > (r.n - r.off) / (whole ? 1 : 8)) BAD("model: %s: truncated node covers", path);
        m->cover = hamf__malloc((tot + 1) * sizeof *m->cover);
        if (!m->cover) OOM();
        for (size_t k = 0; k < tot; k++) {
            if (whole) {
                uint64_t v = get_var(&r);
                if (v > 9007199254740992ull) BAD("model: %s: bad node cover", path);
                m->cover[k] = (double)v;
            } else {
                m->cover[k] = get_f64(&r);
                if (!(m->cover[k] >= 0) || isinf(m->cover[k])) BAD("model: %s: bad node cover", path);
            }
        }
    }
    if (r.bad || r.off != r.n) BAD("model: %s: trailing or missing bytes in the payload", path);
    if ((st = hamf__model_prepare(m))) goto fail;
    hamf__free(dict);
    *out = m;
    return HAMF_OK;
fail:
    if (!crc_done && st != HAMF_ERR_NOMEM && crc32c_of(buf + 24, (size_t)plen) != crc)
        st = hamf__err(HAMF_ERR_CORRUPT, "model: %s: checksum mismatch (file damaged)", path);
    hamf__free(dict);
    hamf__free(seen);
    hamf_ensemble_free(m);
    return st;
}

hamf_status hamf__model_parse(const char *name, const void *buf, size_t len, struct hamf_ensemble **out)
{
    if (!name || (!buf && len) || !out) return hamf__err(HAMF_ERR_MISUSE, "model: NULL argument");
    return parse(name, buf, len, false, out);
}

hamf_status hamf__model_parse_scoring(const char *name, const void *buf, size_t len, struct hamf_ensemble **out)
{
    if (!name || (!buf && len) || !out) return hamf__err(HAMF_ERR_MISUSE, "model: NULL argument");
    return parse(name, buf, len, true, out);
}

hamf_status hamf_ensemble_load(const char *path, hamf_ensemble **out)
{
    if (!path || !out) return hamf__err(HAMF_ERR_MISUSE, "model: NULL argument");
    struct hamf__buf b;
    hamf__buf_init(&b, 0);
    hamf_status st = hamf__file_read(path, 0, &b);
    if (st) {
        hamf__buf_free(&b);
        return hamf__err_prefix(st, "model");
    }
    st = parse(path, (const unsigned char *)(b.data ? b.data : ""), b.len, false, out);
    hamf__buf_free(&b);
    return st;
}
