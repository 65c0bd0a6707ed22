#include <pthread.h>
/*
 * model_io.c — the model file.
 *
 * Layout (all integers little-endian, doubles as IEEE-754 bit patterns):
 *   "HAMFMDL\0"  magic, 8 bytes
 *   u32 version  (1)
 *   u32 flags    (bit 0: a node-cover section ends the payload)
 *   u64 length   of the payload
 *   payload
 *   u32 crc32    (IEEE 802.3 polynomial) of the payload
 * Payload: algorithm, target name, pipeline spec text, params JSON, init
 * score, OOB accuracy; per feature its name, kind, bin count and either its
 * bin edges or its category dictionary (string -> bin); the trees (nodes
 * and categorical bitsets); the per-iteration loss history; with flag bit 0,
 * per tree its nodes' training covers (f64 each, used by SHAP). Strings are
 * u32 length + bytes. Every read is bounds-checked and every tree is
 * validated (children after their parent, features, bins and bitset
 * indices in range), so a truncated, corrupt or foreign file is an error,
 * never a crash. Files are written to a temp file in the same directory,
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
#define VERSION 1u
#define FLAG_COVER 1u

static uint32_t crc_table[256];
static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, crc_init);
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
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

static hamf_status serialize(const struct hamf_ensemble *m, struct hamf__buf *out)
{
    struct w w = {{0}, HAMF_OK};
    hamf__buf_init(&w.b, 0);
    put(&w, MAGIC, 8);
    put_u32(&w, VERSION);
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
    put_u32(&w, (uint32_t)m->n_trees);
    for (size_t t = 0; t < m->n_trees; t++) {
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
    if (m->cover) {
        size_t o = 0;
        for (size_t t = 0; t < m->n_trees; t++)
            for (uint32_t k = 0; k < m->trees[t].n_nodes; k++) put_f64(&w, m->cover[o++]);
    }
    if (w.st) { hamf__buf_free(&w.b); return hamf__err(w.st, "model: out of memory while serializing"); }
    uint64_t len = w.b.len - start;
    for (int i = 0; i < 8; i++) w.b.data[16 + i] = (char)(uint8_t)(len >> (8 * i));
    put_u32(&w, crc32_of((const unsigned char *)w.b.data + start, (size_t)len));
    if (w.st) { hamf__buf_free(&w.b); return hamf__err(w.st, "model: out of memory while serializing"); }
    *out = w.b;
    return HAMF_OK;
}

hamf_status hamf_ensemble_save(const hamf_ensemble *m, const char *path)
{
    if (!m || !path) return hamf__err(HAMF_ERR_MISUSE, "model: NULL argument");
    struct hamf__buf b;
    hamf_status st = serialize(m, &b);
    if (st) return st;
    if ((st = hamf__file_write_atomic(path, b.data, b.len, 0644))) hamf__err_prefix(st, "model");
    hamf__buf_free(&b);
    return st;
}

/* ---- reader ---- */

struct r { const unsigned char *p; size_t n, off; bool bad; };

static bool need(struct r *r, size_t k)
{
    if (r->bad || r->n - r->off < k) { r->bad = true; return false; }
    return true;
}
static uint8_t get_u8(struct r *r) { return need(r, 1) ? r->p[r->off++] : 0; }
static uint16_t get_u16(struct r *r)
{
    if (!need(r, 2)) return 0;
    uint16_t v = (uint16_t)(r->p[r->off] | (r->p[r->off + 1] << 8));
    r->off += 2;
    return v;
}
static uint32_t get_u32(struct r *r)
{
    if (!need(r, 4)) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)r->p[r->off + (size_t)i] << (8 * i);
    r->off += 4;
    return v;
}
static uint64_t get_u64(struct r *r)
{
    if (!need(r, 8)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
    r->off += 8;
    return v;
}
static double get_f64(struct r *r) { uint64_t u = get_u64(r); double d; memcpy(&d, &u, 8); return d; }
static float get_f32(struct r *r) { uint32_t u = get_u32(r); float f; memcpy(&f, &u, 4); return f; }
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

static hamf_status parse(const char *path, const unsigned char *buf, size_t len, struct hamf_ensemble **out)
{
    hamf_status st = HAMF_OK;
    struct hamf_ensemble *m = NULL;
    if (len < 28 || memcmp(buf, MAGIC, 8) != 0)
        return hamf__err(HAMF_ERR_CORRUPT, "model: %s is not a hamf model file", path);
    struct r r = {buf, len, 8, false};
    uint32_t ver = get_u32(&r);
    uint32_t flags = get_u32(&r);
    uint64_t plen = get_u64(&r);
    if (ver != VERSION)
        return hamf__err(HAMF_ERR_UNSUPPORTED, "model: %s has format version %u; this hamf reads version %u", path, ver,
                         VERSION);
    if (flags & ~FLAG_COVER) return hamf__err(HAMF_ERR_UNSUPPORTED, "model: %s uses unknown format flags 0x%x", path, flags);
    if (plen > len - 24 || len - 24 - plen < 4)
        return hamf__err(HAMF_ERR_CORRUPT, "model: %s is truncated (%zu bytes)", path, len);
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
    uint32_t nf = get_u32(&r);
    if (r.bad || nf == 0 || nf > 65535 || nf > r.n - r.off) BAD("model: %s: bad feature count", path);
    m->bins.f = hamf__calloc(nf, sizeof *m->bins.f);
    if (!m->bins.f) { st = hamf__err(HAMF_ERR_NOMEM, "model: out of memory"); goto fail; }
    m->bins.nf = nf;
    for (uint32_t f = 0; f < nf; f++) {
        struct hamf__feat *ft = &m->bins.f[f];
        RD_STR(ft->name);
        if (!ft->name) BAD("model: %s: feature %u has no name", path, f);
        ft->is_cat = get_u8(&r) != 0;
        ft->nbins = get_u16(&r);
        if (r.bad || ft->nbins < 2 || ft->nbins > HAMF_MAX_BINS) BAD("model: %s: feature '%s': bad bin count", path, ft->name);
        if (ft->is_cat) {
            uint32_t nc = get_u32(&r);
            if (r.bad || nc > (r.n - r.off) / 5) BAD("model: %s: feature '%s': bad category count", path, ft->name);
            ft->cats = hamf__calloc((size_t)nc + 1, sizeof *ft->cats);
            ft->cat_bin = hamf__calloc((size_t)nc + 1, 1);
            if (!ft->cats || !ft->cat_bin) { st = hamf__err(HAMF_ERR_NOMEM, "model: out of memory"); goto fail; }
            ft->ncat = nc;
            for (uint32_t k = 0; k < nc; k++) {
                RD_STR(ft->cats[k]);
                if (!ft->cats[k]) BAD("model: %s: null category", path);
                ft->cat_bin[k] = get_u8(&r);
                if (ft->cat_bin[k] == 0 || ft->cat_bin[k] >= ft->nbins) BAD("model: %s: bad category bin", path);
            }
        } else {
            ft->edges = hamf__malloc((size_t)ft->nbins * sizeof *ft->edges);
            if (!ft->edges) { st = hamf__err(HAMF_ERR_NOMEM, "model: out of memory"); goto fail; }
            for (int k = 0; k < ft->nbins - 1; k++) {
                ft->edges[k] = get_f64(&r);
                if (isnan(ft->edges[k]) || (k > 0 && !(ft->edges[k] > ft->edges[k - 1])))
                    BAD("model: %s: feature '%s': bin edges not increasing", path, ft->name);
            }
        }
        if (r.bad) BAD("model: %s: truncated", path);
    }
    uint32_t nt = get_u32(&r);
    if (r.bad || nt == 0 || nt > (r.n - r.off) / 8) BAD("model: %s: bad tree count", path);
    m->trees = hamf__calloc(nt, sizeof *m->trees);
    if (!m->trees) { st = hamf__err(HAMF_ERR_NOMEM, "model: out of memory"); goto fail; }
    m->cap_trees = nt;
    for (uint32_t t = 0; t < nt; t++) {
        struct hamf__tree *tr = &m->trees[t];
        uint32_t nn = get_u32(&r), nc = get_u32(&r);
        if (r.bad || nn == 0 || nn > (r.n - r.off) / 28 || nc > (r.n - r.off) / 32)
            BAD("model: %s: tree %u: bad sizes", path, t);
        tr->nodes = hamf__malloc((size_t)nn * sizeof *tr->nodes);
        tr->cat_bits = hamf__malloc(((size_t)nc * 8 + 1) * sizeof *tr->cat_bits);
        m->n_trees = t + 1;
        if (!tr->nodes || !tr->cat_bits) { st = hamf__err(HAMF_ERR_NOMEM, "model: out of memory"); goto fail; }
        tr->n_nodes = tr->cap_nodes = nn;
        tr->n_cats = tr->cap_cats = nc;
        for (uint32_t k = 0; k < nn; k++) {
            struct hamf__node *nd = &tr->nodes[k];
            nd->left = (int32_t)get_u32(&r);
            nd->right = (int32_t)get_u32(&r);
            nd->feat = get_u16(&r);
            nd->thr = get_u8(&r);
            nd->flags = get_u8(&r);
            nd->cat = get_u32(&r);
            nd->gain = get_f32(&r);
            nd->value = get_f64(&r);
            if (r.bad) BAD("model: %s: truncated in tree %u", path, t);
            if (nd->left < 0) {
                if (nd->left != -1 || !isfinite(nd->value)) BAD("model: %s: tree %u node %u: bad leaf", path, t, k);
                continue;
            }
            if ((uint32_t)nd->left <= k || (uint32_t)nd->right <= k || (uint32_t)nd->left >= nn ||
                (uint32_t)nd->right >= nn || nd->left == nd->right)
                BAD("model: %s: tree %u node %u: bad child index", path, t, k);
            if (nd->feat >= nf) BAD("model: %s: tree %u node %u: bad feature", path, t, k);
            if (nd->flags & HAMF_NODE_CAT) {
                if (nd->cat >= nc) BAD("model: %s: tree %u node %u: bad category set", path, t, k);
            } else if (nd->thr == 0 || nd->thr >= m->bins.f[nd->feat].nbins) {
                BAD("model: %s: tree %u node %u: bad threshold", path, t, k);
            }
        }
        for (size_t k = 0; k < (size_t)nc * 8; k++) tr->cat_bits[k] = get_u32(&r);
        if (r.bad) BAD("model: %s: truncated in tree %u", path, t);
        /* each node must have exactly one parent (a tree, not a DAG) */
        uint8_t *seen = hamf__calloc(nn, 1);
        if (!seen) { st = hamf__err(HAMF_ERR_NOMEM, "model: out of memory"); goto fail; }
        bool dag = false;
        for (uint32_t k = 0; k < nn; k++) {
            const struct hamf__node *nd = &tr->nodes[k];
            if (nd->left < 0) continue;
            if (seen[nd->left]++ || seen[nd->right]++) dag = true;
        }
        hamf__free(seen);
        if (dag) BAD("model: %s: tree %u: a node has two parents", path, t);
    }
    uint32_t ni = get_u32(&r);
    if (r.bad || ni > (r.n - r.off) / 16) BAD("model: %s: bad loss history", path);
    if (ni) {
        m->train_loss = hamf__malloc(ni * sizeof(double));
        m->valid_loss = hamf__malloc(ni * sizeof(double));
        if (!m->train_loss || !m->valid_loss) { st = hamf__err(HAMF_ERR_NOMEM, "model: out of memory"); goto fail; }
        for (uint32_t i = 0; i < ni; i++) {
            m->train_loss[i] = get_f64(&r);
            m->valid_loss[i] = get_f64(&r);
        }
        m->n_iter = ni;
    }
    if (flags & FLAG_COVER) {
        size_t tot = 0;
        for (size_t t = 0; t < m->n_trees; t++) tot += m->trees[t].n_nodes;
        if (r.bad || tot > (r.n - r.off) / 8) BAD("model: %s: truncated node covers", path);
        m->cover = hamf__malloc((tot + 1) * sizeof *m->cover);
        if (!m->cover) { st = hamf__err(HAMF_ERR_NOMEM, "model: out of memory"); goto fail; }
        for (size_t k = 0; k < tot; k++) {
            m->cover[k] = get_f64(&r);
            if (!(m->cover[k] >= 0) || isinf(m->cover[k])) BAD("model: %s: bad node cover", path);
        }
    }
    if (r.bad || r.off != r.n) BAD("model: %s: trailing or missing bytes in the payload", path);
    if ((st = hamf__model_prepare(m))) goto fail;
    *out = m;
    return HAMF_OK;
fail:
    hamf_ensemble_free(m);
    return st;
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
