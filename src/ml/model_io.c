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
#include "ml.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "HAMFMDL"
#define VERSION 2u
#define FLAG_COVER 1u

/* CRC-32 (IEEE), eight table lookups per 8 bytes ("slicing by 8") */
static uint32_t crc_table[8][256];
static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int k = 1; k < 8; k++) crc_table[k][i] = (crc_table[k - 1][i] >> 8) ^ crc_table[0][crc_table[k - 1][i] & 0xFF];
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, crc_init);
    uint32_t c = 0xFFFFFFFFu;
    for (; n >= 8; n -= 8, p += 8) {
        uint32_t a = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        c = crc_table[7][a & 0xFF] ^ crc_table[6][(a >> 8) & 0xFF] ^ crc_table[5][(a >> 16) & 0xFF] ^
            crc_table[4][a >> 24] ^ crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
    }
    for (; n; n--) c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* ---- writer ---- */

struct w { struct hamf__buf b; hamf_status st; };

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
    qsort(vals, nv, sizeof *vals, cmp_u64);
    size_t u = 0;
    for (size_t i = 0; i < nv; i++)
        if (!u || vals[i] != vals[u - 1]) vals[u++] = vals[i];
    nv = u;
    int vw = nv <= 256 ? 1 : nv <= 65536 ? 2 : 0;
    if (vw && nv * 8 + nz * (size_t)vw >= nz * 8) vw = 0; /* no saving */
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

static hamf_status serialize(const struct hamf_ensemble *m, unsigned version, struct hamf__buf *out)
{
    struct w w = {{0}, HAMF_OK};
    hamf__buf_init(&w.b, 0);
    put(&w, MAGIC, 8);
    put_u32(&w, version);
    put_u32(&w, m->cover ? FLAG_COVER : 0);
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
    if (version >= 2) put_trees_v2(&w, m);
    else put_u32(&w, (uint32_t)m->n_trees);
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
    if (m->cover) { /* SHAP's node covers: f64 each (v1); v2: varints when all are whole numbers */
        size_t tot = 0;
        for (size_t t = 0; t < m->n_trees; t++) tot += m->trees[t].n_nodes;
        bool whole = version >= 2;
        for (size_t k = 0; k < tot && whole; k++)
            whole = m->cover[k] >= 0 && m->cover[k] <= 9007199254740992.0 && m->cover[k] == floor(m->cover[k]);
        if (version >= 2) put_u8(&w, whole);
        for (size_t k = 0; k < tot; k++) {
            if (whole) put_var(&w, (uint64_t)m->cover[k]);
            else put_f64(&w, m->cover[k]);
        }
    }
    if (w.st) { hamf__buf_free(&w.b); return hamf__err(w.st, "model: out of memory while serializing"); }
    uint64_t len = w.b.len - start;
    for (int i = 0; i < 8; i++) w.b.data[16 + i] = (char)(uint8_t)(len >> (8 * i));
    put_u32(&w, crc32_of((const unsigned char *)w.b.data + start, (size_t)len));
    if (w.st) { hamf__buf_free(&w.b); return hamf__err(w.st, "model: out of memory while serializing"); }
    *out = w.b;
    return HAMF_OK;
}

hamf_status hamf__model_serialize(const struct hamf_ensemble *m, unsigned version, struct hamf__buf *out)
{
    if (!m || !out || version < 1 || version > VERSION) return hamf__err(HAMF_ERR_MISUSE, "model: bad serialize call");
    return serialize(m, version, out);
}

hamf_status hamf_ensemble_save(const hamf_ensemble *m, const char *path)
{
    if (!m || !path) return hamf__err(HAMF_ERR_MISUSE, "model: NULL argument");
    struct hamf__buf b;
    hamf_status st = serialize(m, VERSION, &b);
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

static hamf_status parse(const char *path, const unsigned char *buf, size_t len, struct hamf_ensemble **out)
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
    if (flags & ~FLAG_COVER) return hamf__err(HAMF_ERR_UNSUPPORTED, "model: %s uses unknown format flags 0x%x", path, flags);
    if (plen > len - 24 || len - 24 - plen < 4)
        return hamf__err(HAMF_ERR_CORRUPT, "model: %s is truncated (%zu bytes)", path, len);
    if (len - 24 - plen > 4)
        return hamf__err(HAMF_ERR_CORRUPT, "model: %s has %zu trailing bytes after the checksum (file damaged or not a model)",
                         path, (size_t)(len - 24 - plen - 4));
    uint32_t crc = 0;
    for (int i = 0; i < 4; i++) crc |= (uint32_t)buf[24 + plen + (size_t)i] << (8 * i);
    if (crc32_of(buf + 24, (size_t)plen) != crc)
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
    hamf__free(dict);
    hamf__free(seen);
    hamf_ensemble_free(m);
    return st;
}

hamf_status hamf__model_parse(const char *name, const void *buf, size_t len, struct hamf_ensemble **out)
{
    if (!name || (!buf && len) || !out) return hamf__err(HAMF_ERR_MISUSE, "model: NULL argument");
    return parse(name, buf, len, out);
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
    st = parse(path, (const unsigned char *)(b.data ? b.data : ""), b.len, out);
    hamf__buf_free(&b);
    return st;
}
