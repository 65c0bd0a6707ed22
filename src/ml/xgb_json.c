/*
 * xgb_json.c — hamf ensembles as XGBoost JSON models (the format of
 * XGBoost's Booster.save_model("x.json"), schema doc/model.schema in
 * XGBoost's repository; written for and checked against XGBoost 1.7).
 *
 * Export. One XGBoost tree per hamf tree, node ids = hamf node indices.
 *  - Numeric split "bin <= thr goes left" is "value <= e" on the raw value
 *    with e = the bin's upper edge. XGBoost compares float32 values with
 *    "x < split_condition", so the condition is the next float32 above
 *    (float)e: every value that rounds to at most (float)e goes left, which
 *    agrees with hamf except for values within half a float32 ulp of e.
 *    A split whose left side is every non-missing value (edge +inf) gets
 *    FLT_MAX: only +inf (and FLT_MAX itself) then differ.
 *  - Missing values follow default_left (hamf's missing bin 0).
 *  - Categorical features have feature_types "c"; category code k is the
 *    rank of the category string in the sorted dictionary (stored in the
 *    learner attribute "hamf_categories" as {"feature":[...]}, so a caller
 *    builds pandas categoricals with exactly these categories). XGBoost
 *    sends the categories listed for a node to the right child, so the list
 *    is every category whose hamf bin goes right (XGBoost refuses an empty
 *    list, so "none" is the code one past the dictionary).
 *  - Gradient boosting: objective binary:logistic, base_score 0.5 (margin
 *    0) and a leading one-leaf tree holding the initial log-odds, so the
 *    margin is exactly hamf's sum. Random forest: objective
 *    reg:squarederror, base_score 0 and every leaf scaled by 1/n_trees, so
 *    XGBoost's output is hamf's averaged probability.
 *  - base_weights hold the exact (double, unscaled) leaf values and
 *    sum_hessian the node covers SHAP uses, so XGBoost's pred_contribs
 *    compute the same TreeSHAP values as `hamf explain`.
 *  - Learner attributes keep what XGBoost has no field for: hamf_algorithm,
 *    hamf_target, hamf_pipeline (spec text), hamf_params, hamf_categories.
 * The exported model takes the pipeline's output columns, not raw rows.
 *
 * Import reads any XGBoost JSON binary classifier hamf can represent
 * (gbtree booster, binary:logistic, one output; or a hamf-exported random
 * forest), rebuilding bin edges from the split conditions (at most 254
 * distinct thresholds per feature) and category bins from the category
 * lists (at most 255 categories). Everything else is refused with an error
 * naming the field. XGBoost writes NaN for categorical split conditions,
 * which is not JSON: bare NaN/Infinity tokens are read as null.
 */
#include "ml.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ======================================================================== */
/* export                                                                   */
/* ======================================================================== */

/* XGBoost's JSON reader types numbers: a float field must not look like
 * an integer, so "3" is written "3.0". */
static void put_real(struct hamf__buf *b, double v, int digits)
{
    char tmp[48];
    int n = snprintf(tmp, sizeof tmp, "%.*g", digits, v);
    if (n > 0 && !strpbrk(tmp, ".eEn")) n += snprintf(tmp + n, sizeof tmp - (size_t)n, ".0");
    hamf__buf_append(b, tmp, (size_t)n);
}
static void put_f32(struct hamf__buf *b, float v) { put_real(b, (double)v, 9); }
static void put_f64(struct hamf__buf *b, double v) { put_real(b, v, 17); }

/* The float32 split condition for "value <= e goes left". */
static float xgb_threshold(double e)
{
    float fe = (float)e;
    if (isinf(fe)) return fe > 0 ? FLT_MAX : -FLT_MAX;
    return nextafterf(fe, INFINITY);
}

/* Sorted order of a feature's categories: rank[k] = code of category k. */
static int cmp_str_idx(const void *a, const void *b, void *ctx)
{
    char **c = ctx;
    return strcmp(c[*(const size_t *)a], c[*(const size_t *)b]);
}

static hamf_status category_ranks(const struct hamf__feat *ft, size_t **rank_out, size_t **order_out)
{
    size_t *order = hamf__malloc((ft->ncat + 1) * sizeof *order);
    size_t *rank = hamf__malloc((ft->ncat + 1) * sizeof *rank);
    if (!order || !rank) { hamf__free(order); hamf__free(rank); return hamf__err(HAMF_ERR_NOMEM, "export: out of memory"); }
    for (size_t k = 0; k < ft->ncat; k++) order[k] = k;
    qsort_r(order, ft->ncat, sizeof *order, cmp_str_idx, ft->cats);
    for (size_t k = 0; k < ft->ncat; k++) rank[order[k]] = k;
    *rank_out = rank;
    *order_out = order;
    return HAMF_OK;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

struct xtree {
    /* one exported tree: either a hamf tree or the leading constant */
    const struct hamf__tree *tr;
    const double *cover;
    double constant;
};

static void put_tree(struct hamf__buf *b, const struct hamf_ensemble *m, const struct xtree *x, size_t id,
                     size_t *const *rank, double scale, double root_cover)
{
    const size_t nf = m->bins.nf;
    const struct hamf__tree *tr = x->tr;
    uint32_t nn = tr ? tr->n_nodes : 1;
    int32_t *parent = hamf__malloc((nn + 1) * sizeof *parent);
    if (!parent) { hamf__buf_reserve(b, (size_t)1 << 62); return; } /* poison the buffer */
    parent[0] = 2147483647;
    if (tr)
        for (uint32_t k = 0; k < nn; k++)
            if (tr->nodes[k].left >= 0) parent[tr->nodes[k].left] = parent[tr->nodes[k].right] = (int32_t)k;
#define ARR(key, expr) do { \
        hamf__buf_puts(b, ",\"" key "\":["); \
        for (uint32_t k = 0; k < nn; k++) { if (k) hamf__buf_putc(b, ','); expr; } \
        hamf__buf_putc(b, ']'); } while (0)
#define LEAF(k) (!tr || tr->nodes[k].left < 0)
    hamf__buf_puts(b, "{\"base_weights\":[");
    for (uint32_t k = 0; k < nn; k++) {
        if (k) hamf__buf_putc(b, ',');
        put_f64(b, !tr ? x->constant : LEAF(k) ? tr->nodes[k].value : 0.0);
    }
    hamf__buf_putc(b, ']');
    /* categories: per categorical node, the codes going right */
    struct hamf__buf cats, cnodes, csegs, csizes;
    hamf__buf_init(&cats, 0);
    hamf__buf_init(&cnodes, 0);
    hamf__buf_init(&csegs, 0);
    hamf__buf_init(&csizes, 0);
    size_t ncatnodes = 0, ncats = 0;
    size_t *codes = NULL;
    for (uint32_t k = 0; tr && k < nn; k++) {
        const struct hamf__node *nd = &tr->nodes[k];
        if (nd->left < 0 || !(nd->flags & HAMF_NODE_CAT)) continue;
        const struct hamf__feat *ft = &m->bins.f[nd->feat];
        hamf__free(codes);
        codes = hamf__malloc((ft->ncat + 1) * sizeof *codes);
        if (!codes) { hamf__buf_reserve(b, (size_t)1 << 62); break; }
        size_t nc = 0;
        for (size_t c = 0; c < ft->ncat; c++) {
            uint8_t bin = ft->cat_bin[c];
            if (!((tr->cat_bits[nd->cat * 8 + (bin >> 5)] >> (bin & 31)) & 1)) codes[nc++] = rank[nd->feat][c];
        }
        qsort(codes, nc, sizeof *codes, cmp_size);
        /* XGBoost refuses an empty list: name a code no data can have */
        if (nc == 0) codes[nc++] = ft->ncat;
        hamf__buf_printf(&cnodes, "%s%u", ncatnodes ? "," : "", k);
        hamf__buf_printf(&csegs, "%s%zu", ncatnodes ? "," : "", ncats);
        hamf__buf_printf(&csizes, "%s%zu", ncatnodes ? "," : "", nc);
        for (size_t c = 0; c < nc; c++) hamf__buf_printf(&cats, "%s%zu", ncats + c ? "," : "", codes[c]);
        ncats += nc;
        ncatnodes++;
    }
    hamf__free(codes);
    hamf__buf_puts(b, ",\"categories\":[");
    if (cats.len) hamf__buf_append(b, cats.data, cats.len);
    hamf__buf_puts(b, "],\"categories_nodes\":[");
    if (cnodes.len) hamf__buf_append(b, cnodes.data, cnodes.len);
    hamf__buf_puts(b, "],\"categories_segments\":[");
    if (csegs.len) hamf__buf_append(b, csegs.data, csegs.len);
    hamf__buf_puts(b, "],\"categories_sizes\":[");
    if (csizes.len) hamf__buf_append(b, csizes.data, csizes.len);
    hamf__buf_putc(b, ']');
    hamf__buf_free(&cats);
    hamf__buf_free(&cnodes);
    hamf__buf_free(&csegs);
    hamf__buf_free(&csizes);
    ARR("default_left", hamf__buf_putc(b, !LEAF(k) && (tr->nodes[k].flags & HAMF_NODE_CAT
                                                           ? (tr->cat_bits[tr->nodes[k].cat * 8] & 1)
                                                           : (tr->nodes[k].flags & HAMF_NODE_DEFAULT_LEFT))
                                             ? '1' : '0'));
    hamf__buf_printf(b, ",\"id\":%zu", id);
    ARR("left_children", hamf__buf_printf(b, "%d", LEAF(k) ? -1 : tr->nodes[k].left));
    ARR("loss_changes", put_f32(b, LEAF(k) ? 0.0f : tr->nodes[k].gain));
    ARR("parents", hamf__buf_printf(b, "%d", parent[k]));
    ARR("right_children", hamf__buf_printf(b, "%d", LEAF(k) ? -1 : tr->nodes[k].right));
    ARR("split_conditions", {
        if (!tr) put_f32(b, (float)(x->constant * scale));
        else if (LEAF(k)) put_f32(b, (float)(tr->nodes[k].value * scale));
        else if (tr->nodes[k].flags & HAMF_NODE_CAT) hamf__buf_puts(b, "0.0");
        else put_f32(b, xgb_threshold(m->bins.f[tr->nodes[k].feat].edges[tr->nodes[k].thr - 1]));
    });
    ARR("split_indices", hamf__buf_printf(b, "%u", LEAF(k) ? 0u : (unsigned)tr->nodes[k].feat));
    ARR("split_type", hamf__buf_putc(b, !LEAF(k) && (tr->nodes[k].flags & HAMF_NODE_CAT) ? '1' : '0'));
    ARR("sum_hessian", put_f64(b, tr ? x->cover[k] : root_cover));
    hamf__buf_printf(b, ",\"tree_param\":{\"num_deleted\":\"0\",\"num_feature\":\"%zu\",\"num_nodes\":\"%u\","
                        "\"size_leaf_vector\":\"0\"}}", nf, nn);
#undef ARR
#undef LEAF
    hamf__free(parent);
}

static void put_attr(struct hamf__buf *b, const char *key, const char *val, bool *first)
{
    if (!val) return;
    hamf__buf_puts(b, *first ? "" : ",");
    *first = false;
    hamf__json_str(b, key, (size_t)-1);
    hamf__buf_putc(b, ':');
    hamf__json_str(b, val, (size_t)-1);
}

hamf_status hamf__xgb_export(const struct hamf_ensemble *m, char **json, size_t *len)
{
    const size_t nf = m->bins.nf;
    const bool rf = m->algorithm == HAMF_ALGO_RANDOM_FOREST;
    const double scale = rf ? 1.0 / (double)(m->n_trees ? m->n_trees : 1) : 1.0;
    double *cover = NULL;
    size_t **rank = hamf__calloc(nf + 1, sizeof *rank), **order = hamf__calloc(nf + 1, sizeof *order);
    hamf_status st = hamf__shap_covers(m, &cover);
    struct hamf__buf b, cj;
    hamf__buf_init(&b, 0);
    hamf__buf_init(&cj, 0);
    if (st) goto cleanup;
    if (!rank || !order) { st = hamf__err(HAMF_ERR_NOMEM, "export: out of memory"); goto cleanup; }
    bool anycat = false;
    for (size_t f = 0; f < nf; f++)
        if (m->bins.f[f].is_cat) {
            if ((st = category_ranks(&m->bins.f[f], &rank[f], &order[f]))) goto cleanup;
            hamf__buf_puts(&cj, anycat ? "," : "{");
            anycat = true;
            hamf__json_str(&cj, m->bins.f[f].name, (size_t)-1);
            hamf__buf_puts(&cj, ":[");
            for (size_t k = 0; k < m->bins.f[f].ncat; k++) {
                if (k) hamf__buf_putc(&cj, ',');
                hamf__json_str(&cj, m->bins.f[f].cats[order[f][k]], (size_t)-1);
            }
            hamf__buf_putc(&cj, ']');
        }
    if (anycat) hamf__buf_putc(&cj, '}');
    size_t ntrees = m->n_trees + (rf ? 0 : 1);
    hamf__buf_puts(&b, "{\"learner\":{\"attributes\":{");
    bool first = true;
    put_attr(&b, "hamf_algorithm", rf ? "random-forest" : "gradient-boosting", &first);
    if (anycat) put_attr(&b, "hamf_categories", cj.data, &first);
    put_attr(&b, "hamf_params", m->params_json, &first);
    put_attr(&b, "hamf_pipeline", m->pipeline, &first);
    put_attr(&b, "hamf_target", m->target, &first);
    hamf__buf_puts(&b, "},\"feature_names\":[");
    for (size_t f = 0; f < nf; f++) {
        if (f) hamf__buf_putc(&b, ',');
        hamf__json_str(&b, m->bins.f[f].name, (size_t)-1);
    }
    hamf__buf_puts(&b, "],\"feature_types\":[");
    for (size_t f = 0; f < nf; f++) hamf__buf_puts(&b, f ? (m->bins.f[f].is_cat ? ",\"c\"" : ",\"float\"")
                                                       : (m->bins.f[f].is_cat ? "\"c\"" : "\"float\""));
    hamf__buf_printf(&b, "],\"gradient_booster\":{\"model\":{\"gbtree_model_param\":{\"num_parallel_tree\":\"1\","
                         "\"num_trees\":\"%zu\",\"size_leaf_vector\":\"0\"},\"tree_info\":[", ntrees);
    for (size_t t = 0; t < ntrees; t++) hamf__buf_puts(&b, t ? ",0" : "0");
    hamf__buf_puts(&b, "],\"trees\":[");
    size_t id = 0, off = 0;
    double root_cover = m->n_trees ? cover[0] : 1;
    if (!rf) {
        struct xtree x = {NULL, NULL, m->init_score};
        put_tree(&b, m, &x, id++, rank, scale, root_cover);
    }
    for (size_t t = 0; t < m->n_trees; t++) {
        if (id) hamf__buf_putc(&b, ',');
        struct xtree x = {&m->trees[t], cover + off, 0};
        put_tree(&b, m, &x, id++, rank, scale, root_cover);
        off += m->trees[t].n_nodes;
    }
    hamf__buf_printf(&b, "]},\"name\":\"gbtree\"},\"learner_model_param\":{\"base_score\":\"%s\","
                         "\"boost_from_average\":\"1\",\"num_class\":\"0\",\"num_feature\":\"%zu\","
                         "\"num_target\":\"1\"},\"objective\":",
                     rf ? "0E0" : "5E-1", nf);
    if (rf) hamf__buf_puts(&b, "{\"name\":\"reg:squarederror\",\"reg_loss_param\":{\"scale_pos_weight\":\"1\"}}");
    else hamf__buf_puts(&b, "{\"name\":\"binary:logistic\",\"reg_loss_param\":{\"scale_pos_weight\":\"1\"}}");
    hamf__buf_puts(&b, "},\"version\":[1,7,4]}\n");
    if (hamf__buf_putc(&b, 0)) { st = hamf__err(HAMF_ERR_NOMEM, "export: out of memory"); goto cleanup; }
    *len = b.len - 1;
    *json = hamf__buf_detach(&b, NULL);
cleanup:
    for (size_t f = 0; rank && f < nf; f++) hamf__free(rank[f]);
    for (size_t f = 0; order && f < nf; f++) hamf__free(order[f]);
    hamf__free(rank);
    hamf__free(order);
    hamf__free(cover);
    hamf__buf_free(&b);
    hamf__buf_free(&cj);
    return st;
}

static hamf_status write_atomic(const char *path, const char *data, size_t len)
{
    char *tmp = hamf__asprintf("%s.tmp.%ld", path, (long)getpid());
    if (!tmp) return hamf__err(HAMF_ERR_NOMEM, "export: out of memory");
    hamf_status st = HAMF_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) { st = hamf__err(HAMF_ERR_IO, "export: cannot create %s: %s", tmp, strerror(errno)); goto done; }
    size_t off = 0;
    while (off < len) {
        ssize_t k = write(fd, data + off, len - off);
        if (k < 0) {
            if (errno == EINTR) continue;
            st = hamf__err(HAMF_ERR_IO, "export: write %s: %s", tmp, strerror(errno));
            break;
        }
        off += (size_t)k;
    }
    if (!st && fsync(fd) != 0) st = hamf__err(HAMF_ERR_IO, "export: fsync %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && !st) st = hamf__err(HAMF_ERR_IO, "export: close %s: %s", tmp, strerror(errno));
    if (!st && rename(tmp, path) != 0) st = hamf__err(HAMF_ERR_IO, "export: rename to %s: %s", path, strerror(errno));
    if (st) unlink(tmp);
done:
    hamf__free(tmp);
    return st;
}

hamf_status hamf_ensemble_export_xgboost(const hamf_ensemble *m, const char *path)
{
    if (!m || !path) return hamf__err(HAMF_ERR_MISUSE, "export: NULL argument");
    char *json = NULL;
    size_t len = 0;
    hamf_status st = hamf__xgb_export(m, &json, &len);
    if (!st) st = write_atomic(path, json, len);
    hamf__free(json);
    return st;
}

/* ======================================================================== */
/* import                                                                   */
/* ======================================================================== */

#define IMPERR(code, ...) do { st = hamf__err(code, __VA_ARGS__); goto fail; } while (0)

/* Copy of `s` with bare NaN / Infinity / -Infinity (outside strings)
 * replaced by null: XGBoost writes NaN for categorical split conditions. */
static char *denan(const char *s, size_t n, size_t *outlen)
{
    char *o = hamf__malloc(2 * n + 1);
    if (!o) return NULL;
    size_t k = 0;
    bool instr = false;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (instr) {
            o[k++] = c;
            if (c == '\\' && i + 1 < n) o[k++] = s[++i];
            else if (c == '"') instr = false;
            i++;
            continue;
        }
        if (c == '"') instr = true;
        size_t skip = 0;
        if (n - i >= 3 && !memcmp(s + i, "NaN", 3)) skip = 3;
        else if (n - i >= 8 && !memcmp(s + i, "Infinity", 8)) skip = 8;
        else if (n - i >= 9 && !memcmp(s + i, "-Infinity", 9)) skip = 9;
        if (skip) {
            memcpy(o + k, "null", 4);
            k += 4;
            i += skip;
            continue;
        }
        o[k++] = c;
        i++;
    }
    o[k] = 0;
    *outlen = k;
    return o;
}

static const struct hamf__jval *jarr(const struct hamf__jval *obj, const char *key, size_t n)
{
    const struct hamf__jval *v = hamf__jobj_get(obj, key);
    return v && v->type == HAMF__JARR && v->len == n ? v : NULL;
}

/* a string parameter such as "14" or "5E-1" */
static bool jparam(const struct hamf__jval *obj, const char *key, double *out)
{
    const struct hamf__jval *v = hamf__jobj_get(obj, key);
    if (!v) return false;
    if (v->type == HAMF__JNUM) { *out = v->num; return true; }
    if (v->type != HAMF__JSTR) return false;
    char *end;
    errno = 0;
    *out = strtod(v->str, &end);
    return end != v->str && !*end && errno == 0;
}

static const char *jstr(const struct hamf__jval *obj, const char *key)
{
    const struct hamf__jval *v = hamf__jobj_get(obj, key);
    return v && v->type == HAMF__JSTR ? v->str : NULL;
}

/* The largest double that rounds (to nearest float) below float t. */
static double edge_below(float t)
{
    float p = nextafterf(t, -INFINITY);
    double mid = ((double)p + (double)t) / 2;
    uint32_t bits;
    memcpy(&bits, &p, 4);
    /* a tie rounds to the even mantissa: to p when p's last bit is 0 */
    return (bits & 1) == 0 ? mid : nextafter(mid, -INFINITY);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct src_tree {
    const struct hamf__jval *left, *right, *idx, *cond, *dleft, *stype, *hess, *gain, *bw;
    size_t nn;
    /* categories per node: start and size into cats */
    const struct hamf__jval *cats;
    size_t *cstart, *csize;
};

static bool jint(const struct hamf__jval *a, size_t k, int64_t *out)
{
    const struct hamf__jval *v = &a->items[k];
    if (v->type == HAMF__JBOOL) { *out = v->b; return true; }
    if (v->type != HAMF__JNUM || !v->is_int) return false;
    *out = v->i;
    return true;
}

static double jnum(const struct hamf__jval *a, size_t k)
{
    if (!a) return NAN;
    const struct hamf__jval *v = &a->items[k];
    return v->type == HAMF__JNUM ? v->num : NAN;
}

hamf_status hamf__xgb_import(const char *text, size_t len, const char *source, struct hamf_ensemble **out)
{
    hamf_status st = HAMF_OK;
    struct hamf__jdoc *doc = NULL, *cdoc = NULL;
    struct hamf_ensemble *m = NULL;
    struct src_tree *src = NULL;
    size_t ntr = 0;
    double **th = NULL;   /* per feature: thresholds as edges */
    size_t *nth = NULL, *capth = NULL, nfeat = 0;
    size_t clean_len = 0;
    char *clean = denan(text, len, &clean_len);
    if (!clean) return hamf__err(HAMF_ERR_NOMEM, "import: out of memory");
    if ((st = hamf__json_parse(clean, clean_len, HAMF__JSON_MAX_DEPTH, &doc))) {
        char why[512];
        snprintf(why, sizeof why, "%s", hamf_last_error());
        st = hamf__err(HAMF_ERR_PARSE, "import: %s is not an XGBoost JSON model: %s", source, why);
        goto fail;
    }
    const struct hamf__jval *root = hamf__jdoc_root(doc);
    const struct hamf__jval *L = hamf__jobj_get(root, "learner");
    if (!L || L->type != HAMF__JOBJ)
        IMPERR(HAMF_ERR_SCHEMA, "import: %s is not an XGBoost JSON model (no \"learner\" object)", source);
    const struct hamf__jval *gb = hamf__jobj_get(L, "gradient_booster");
    const char *bname = jstr(gb, "name");
    if (!bname) IMPERR(HAMF_ERR_SCHEMA, "import: %s: learner.gradient_booster.name is missing", source);
    if (strcmp(bname, "gbtree"))
        IMPERR(HAMF_ERR_UNSUPPORTED, "import: %s: booster '%s' is not supported (hamf imports tree models: gbtree)", source, bname);
    const struct hamf__jval *attrs = hamf__jobj_get(L, "attributes");
    const char *halgo = jstr(attrs, "hamf_algorithm");
    const char *obj = jstr(hamf__jobj_get(L, "objective"), "name");
    if (!obj) IMPERR(HAMF_ERR_SCHEMA, "import: %s: learner.objective.name is missing", source);
    bool rf = false;
    if (!strcmp(obj, "binary:logistic")) rf = false;
    else if (!strcmp(obj, "reg:squarederror") && halgo && !strcmp(halgo, "random-forest")) rf = true;
    else
        IMPERR(HAMF_ERR_UNSUPPORTED, "import: %s: objective '%s' is not supported (hamf models are binary "
                                     "classifiers: binary:logistic, or a random forest exported by hamf)", source, obj);
    const struct hamf__jval *mp = hamf__jobj_get(L, "learner_model_param");
    double v;
    if (jparam(mp, "num_class", &v) && v > 1)
        IMPERR(HAMF_ERR_UNSUPPORTED, "import: %s: learner_model_param.num_class %g: multi-class models are not supported", source, v);
    if (jparam(mp, "num_target", &v) && v != 1)
        IMPERR(HAMF_ERR_UNSUPPORTED, "import: %s: learner_model_param.num_target %g: multi-output models are not supported", source, v);
    double base_score = 0.5;
    if (!jparam(mp, "base_score", &base_score))
        IMPERR(HAMF_ERR_SCHEMA, "import: %s: learner_model_param.base_score is missing", source);
    double nfd;
    if (!jparam(mp, "num_feature", &nfd) || nfd < 1 || nfd > 65535 || nfd != floor(nfd))
        IMPERR(HAMF_ERR_SCHEMA, "import: %s: learner_model_param.num_feature is missing or out of range", source);
    size_t nf = (size_t)nfd;
    const struct hamf__jval *model = hamf__jobj_get(gb, "model");
    const struct hamf__jval *trees = hamf__jobj_get(model, "trees");
    if (!trees || trees->type != HAMF__JARR || trees->len == 0)
        IMPERR(HAMF_ERR_SCHEMA, "import: %s: learner.gradient_booster.model.trees is missing or empty", source);
    const struct hamf__jval *tinfo = hamf__jobj_get(model, "tree_info");
    if (tinfo && tinfo->type == HAMF__JARR)
        for (size_t t = 0; t < tinfo->len; t++)
            if (tinfo->items[t].type != HAMF__JNUM || tinfo->items[t].num != 0)
                IMPERR(HAMF_ERR_UNSUPPORTED, "import: %s: tree_info[%zu] is not 0: multi-class models are not supported", source, t);
    const struct hamf__jval *fnames = jarr(L, "feature_names", nf), *ftypes = jarr(L, "feature_types", nf);
    if (hamf__jobj_get(L, "feature_names") && !fnames && hamf__jobj_get(L, "feature_names")->len)
        IMPERR(HAMF_ERR_SCHEMA, "import: %s: learner.feature_names does not have num_feature (%zu) names", source, nf);
    if (!fnames)
        IMPERR(HAMF_ERR_SCHEMA, "import: %s: the model has no feature_names; hamf matches columns by name "
                                "(set Booster.feature_names before saving)", source);

    m = hamf__calloc(1, sizeof *m);
    if (!m) IMPERR(HAMF_ERR_NOMEM, "import: out of memory");
    m->oob_accuracy = NAN;
    m->algorithm = rf ? HAMF_ALGO_RANDOM_FOREST : HAMF_ALGO_GRADIENT_BOOSTING;
    m->bins.f = hamf__calloc(nf, sizeof *m->bins.f);
    th = hamf__calloc(nf, sizeof *th);
    nth = hamf__calloc(nf, sizeof *nth);
    capth = hamf__calloc(nf, sizeof *capth);
    if (!m->bins.f || !th || !nth || !capth) IMPERR(HAMF_ERR_NOMEM, "import: out of memory");
    m->bins.nf = nf;
    nfeat = nf;
    const char *cjson = jstr(attrs, "hamf_categories");
    const struct hamf__jval *cobj = NULL;
    if (cjson) {
        if (hamf__json_parse(cjson, strlen(cjson), 8, &cdoc) == HAMF_OK) cobj = hamf__jdoc_root(cdoc);
        else IMPERR(HAMF_ERR_PARSE, "import: %s: attribute hamf_categories is not JSON", source);
    }
    for (size_t f = 0; f < nf; f++) {
        const struct hamf__jval *nm = &fnames->items[f];
        if (nm->type != HAMF__JSTR || !nm->len) IMPERR(HAMF_ERR_SCHEMA, "import: %s: feature_names[%zu] is not a name", source, f);
        if (!(m->bins.f[f].name = hamf__strdup(nm->str))) IMPERR(HAMF_ERR_NOMEM, "import: out of memory");
        const char *ty = ftypes && ftypes->items[f].type == HAMF__JSTR ? ftypes->items[f].str : "float";
        if (!strcmp(ty, "c")) m->bins.f[f].is_cat = true;
        else if (strcmp(ty, "float") && strcmp(ty, "int") && strcmp(ty, "i") && strcmp(ty, "q"))
            IMPERR(HAMF_ERR_UNSUPPORTED, "import: %s: feature '%s' has type '%s' (supported: float, int, i, q, c)", source, nm->str, ty);
    }

    /* ---- first pass: trees, thresholds, category counts ---- */
    ntr = trees->len;
    src = hamf__calloc(ntr, sizeof *src);
    size_t *maxcat = hamf__calloc(nf + 1, sizeof *maxcat);
    if (!src || !maxcat) { hamf__free(maxcat); IMPERR(HAMF_ERR_NOMEM, "import: out of memory"); }
    for (size_t t = 0; t < ntr && !st; t++) {
        const struct hamf__jval *T = &trees->items[t];
        struct src_tree *s = &src[t];
        double nnd, slv = 0;
        const struct hamf__jval *tp = hamf__jobj_get(T, "tree_param");
        if (!jparam(tp, "num_nodes", &nnd) || nnd < 1 || nnd > 1e8 || nnd != floor(nnd)) {
            st = hamf__err(HAMF_ERR_SCHEMA, "import: %s: trees[%zu].tree_param.num_nodes is missing or bad", source, t);
            break;
        }
        if (jparam(tp, "size_leaf_vector", &slv) && slv > 1) {
            st = hamf__err(HAMF_ERR_UNSUPPORTED, "import: %s: trees[%zu] has vector leaves (size_leaf_vector %g)", source, t, slv);
            break;
        }
        s->nn = (size_t)nnd;
        s->left = jarr(T, "left_children", s->nn);
        s->right = jarr(T, "right_children", s->nn);
        s->idx = jarr(T, "split_indices", s->nn);
        s->cond = jarr(T, "split_conditions", s->nn);
        s->dleft = jarr(T, "default_left", s->nn);
        s->stype = jarr(T, "split_type", s->nn);
        s->hess = jarr(T, "sum_hessian", s->nn);
        s->gain = jarr(T, "loss_changes", s->nn);
        s->bw = jarr(T, "base_weights", s->nn);
        if (!s->left || !s->right || !s->idx || !s->cond || !s->dleft) {
            st = hamf__err(HAMF_ERR_SCHEMA, "import: %s: trees[%zu]: left_children, right_children, split_indices, "
                                            "split_conditions and default_left must be arrays of num_nodes (%zu)", source, t, s->nn);
            break;
        }
        s->cstart = hamf__calloc(s->nn, sizeof *s->cstart);
        s->csize = hamf__calloc(s->nn, sizeof *s->csize);
        if (!s->cstart || !s->csize) { st = hamf__err(HAMF_ERR_NOMEM, "import: out of memory"); break; }
        const struct hamf__jval *cn = hamf__jobj_get(T, "categories_nodes"), *cseg = hamf__jobj_get(T, "categories_segments"),
                                *csz = hamf__jobj_get(T, "categories_sizes");
        s->cats = hamf__jobj_get(T, "categories");
        if (cn && cn->type == HAMF__JARR && cn->len) {
            if (!cseg || !csz || !s->cats || cseg->type != HAMF__JARR || csz->type != HAMF__JARR ||
                s->cats->type != HAMF__JARR || cseg->len != cn->len || csz->len != cn->len) {
                st = hamf__err(HAMF_ERR_SCHEMA, "import: %s: trees[%zu]: categories_* arrays do not match", source, t);
                break;
            }
            for (size_t j = 0; j < cn->len; j++) {
                int64_t node, a, b;
                if (!jint(cn, j, &node) || !jint(cseg, j, &a) || !jint(csz, j, &b) || node < 0 || (size_t)node >= s->nn ||
                    a < 0 || b < 0 || (size_t)(a + b) > s->cats->len) {
                    st = hamf__err(HAMF_ERR_SCHEMA, "import: %s: trees[%zu]: categories entry %zu out of range", source, t, j);
                    break;
                }
                s->cstart[node] = (size_t)a;
                s->csize[node] = (size_t)b;
            }
            if (st) break;
        }
        for (size_t k = 0; k < s->nn; k++) {
            int64_t l, r, fi, ty = 0;
            if (!jint(s->left, k, &l) || !jint(s->right, k, &r) || !jint(s->idx, k, &fi) ||
                (s->stype && !jint(s->stype, k, &ty))) {
                st = hamf__err(HAMF_ERR_SCHEMA, "import: %s: trees[%zu] node %zu: non-integer child, index or type", source, t, k);
                break;
            }
            if (l < 0) continue;
            if ((size_t)l >= s->nn || r < 0 || (size_t)r >= s->nn || fi < 0 || (size_t)fi >= nf) {
                st = hamf__err(HAMF_ERR_SCHEMA, "import: %s: trees[%zu] node %zu: child or feature index out of range", source, t, k);
                break;
            }
            struct hamf__feat *ft = &m->bins.f[fi];
            if (ty == 1) {
                if (!ft->is_cat) {
                    st = hamf__err(HAMF_ERR_SCHEMA, "import: %s: trees[%zu] node %zu: categorical split on numeric feature '%s'", source, t, k, ft->name);
                    break;
                }
                for (size_t j = 0; j < s->csize[k]; j++) {
                    const struct hamf__jval *cv = &s->cats->items[s->cstart[k] + j];
                    if (cv->type != HAMF__JNUM || cv->num < 0 || cv->num != floor(cv->num) || cv->num > 1e6) {
                        st = hamf__err(HAMF_ERR_SCHEMA, "import: %s: trees[%zu] node %zu: bad category", source, t, k);
                        break;
                    }
                    if ((size_t)cv->num + 1 > maxcat[fi]) maxcat[fi] = (size_t)cv->num + 1;
                }
                if (st) break;
            } else if (ty == 0) {
                if (ft->is_cat) {
                    st = hamf__err(HAMF_ERR_UNSUPPORTED, "import: %s: trees[%zu] node %zu: numeric split on categorical feature '%s'", source, t, k, ft->name);
                    break;
                }
                double c = jnum(s->cond, k);
                if (!isfinite(c) || isinf((float)c)) {
                    st = hamf__err(HAMF_ERR_SCHEMA, "import: %s: trees[%zu] node %zu: split condition is not a finite number", source, t, k);
                    break;
                }
                if (nth[fi] == capth[fi]) {
                    size_t nc = capth[fi] ? capth[fi] * 2 : 16;
                    double *p = hamf__realloc(th[fi], nc * sizeof *p);
                    if (!p) { st = hamf__err(HAMF_ERR_NOMEM, "import: out of memory"); break; }
                    th[fi] = p;
                    capth[fi] = nc;
                }
                if ((float)c != FLT_MAX) th[fi][nth[fi]++] = edge_below((float)c);
            } else {
                st = hamf__err(HAMF_ERR_UNSUPPORTED, "import: %s: trees[%zu] node %zu: split_type %lld", source, t, k, (long long)ty);
                break;
            }
        }
    }
    if (st) { hamf__free(maxcat); goto fail; }

    /* ---- features: bins ---- */
    for (size_t f = 0; f < nf && !st; f++) {
        struct hamf__feat *ft = &m->bins.f[f];
        if (!ft->is_cat) {
            if (nth[f]) qsort(th[f], nth[f], sizeof **th, cmp_double);
            size_t u = 0;
            for (size_t i = 0; i < nth[f]; i++)
                if (!u || th[f][i] != th[f][u - 1]) th[f][u++] = th[f][i];
            if (u > HAMF_MAX_BINS - 2) {
                st = hamf__err(HAMF_ERR_UNSUPPORTED, "import: %s: feature '%s' is split at %zu distinct thresholds; hamf supports at most %d",
                               source, ft->name, u, HAMF_MAX_BINS - 2);
                break;
            }
            ft->edges = hamf__malloc((u + 1) * sizeof *ft->edges);
            if (!ft->edges) { st = hamf__err(HAMF_ERR_NOMEM, "import: out of memory"); break; }
            if (u) memcpy(ft->edges, th[f], u * sizeof *ft->edges);
            ft->edges[u] = INFINITY;
            ft->nbins = (int)u + 2;
            nth[f] = u;
        } else {
            const struct hamf__jval *names = cobj ? hamf__jobj_get(cobj, ft->name) : NULL;
            if (names && names->type != HAMF__JARR) names = NULL;
            /* with the category names, codes past them cannot occur */
            size_t nc = names ? names->len : maxcat[f];
            if (nc > HAMF_MAX_BINS - 1) {
                st = hamf__err(HAMF_ERR_UNSUPPORTED, "import: %s: categorical feature '%s' has %zu categories; hamf supports at most %d",
                               source, ft->name, nc, HAMF_MAX_BINS - 1);
                break;
            }
            ft->cats = hamf__calloc(nc + 1, sizeof *ft->cats);
            ft->cat_bin = hamf__calloc(nc + 1, 1);
            if (!ft->cats || !ft->cat_bin) { st = hamf__err(HAMF_ERR_NOMEM, "import: out of memory"); break; }
            ft->ncat = nc;
            ft->nbins = (int)nc + 1 < 2 ? 2 : (int)nc + 1;
            for (size_t k = 0; k < nc; k++) {
                char num[32];
                const char *s = NULL;
                if (names && names->items[k].type == HAMF__JSTR) s = names->items[k].str;
                if (!s) { snprintf(num, sizeof num, "%zu", k); s = num; }
                if (!(ft->cats[k] = hamf__strdup(s))) { st = hamf__err(HAMF_ERR_NOMEM, "import: out of memory"); break; }
                ft->cat_bin[k] = (uint8_t)(k + 1);
            }
        }
    }
    hamf__free(maxcat);
    if (st) goto fail;

    /* ---- trees: breadth-first renumbering (children after parents) ---- */
    m->trees = hamf__calloc(ntr, sizeof *m->trees);
    size_t totnodes = 0;
    for (size_t t = 0; t < ntr; t++) totnodes += src[t].nn;
    m->cover = hamf__calloc(totnodes + 1, sizeof *m->cover);
    if (!m->trees || !m->cover) IMPERR(HAMF_ERR_NOMEM, "import: out of memory");
    m->cap_trees = ntr;
    const double scale = rf ? (double)ntr : 1.0;
    bool have_cover = true;
    size_t coff = 0;
    int maxdepth = 0;
    for (size_t t = 0; t < ntr; t++) {
        struct src_tree *s = &src[t];
        struct hamf__tree *tr = &m->trees[t];
        m->n_trees = t + 1;
        tr->nodes = hamf__calloc(s->nn, sizeof *tr->nodes);
        tr->cat_bits = hamf__calloc(s->nn * 8 + 1, sizeof *tr->cat_bits);
        size_t *queue = hamf__malloc((s->nn + 1) * sizeof *queue);
        int *depth = hamf__calloc(s->nn + 1, sizeof *depth);
        if (!tr->nodes || !tr->cat_bits || !queue || !depth) {
            hamf__free(queue);
            hamf__free(depth);
            IMPERR(HAMF_ERR_NOMEM, "import: out of memory");
        }
        tr->cap_nodes = (uint32_t)s->nn;
        tr->cap_cats = (uint32_t)s->nn;
        size_t head = 0, tail = 0;
        queue[tail++] = 0;
        while (head < tail) {
            size_t k = queue[head];
            struct hamf__node *nd = &tr->nodes[head];
            head++;
            int64_t l, r, fi, ty = 0, dl;
            jint(s->left, k, &l);
            jint(s->right, k, &r);
            jint(s->idx, k, &fi);
            if (s->stype) jint(s->stype, k, &ty);
            if (!jint(s->dleft, k, &dl)) dl = 0;
            double hv = jnum(s->hess, k);
            if (!(hv >= 0) || isinf(hv)) have_cover = false;
            else m->cover[coff + head - 1] = hv;
            nd->gain = (float)(isfinite(jnum(s->gain, k)) ? jnum(s->gain, k) : 0);
            if (l < 0) {
                double c = jnum(s->cond, k), bw = jnum(s->bw, k);
                if (!isfinite(c)) { hamf__free(queue); hamf__free(depth); IMPERR(HAMF_ERR_SCHEMA, "import: %s: trees[%zu] leaf %zu: value is not a number", source, t, k); }
                /* hamf exports the exact unscaled value in base_weights */
                double val = c * scale;
                if (halgo && isfinite(bw) && (float)(bw / scale) == (float)c) val = bw;
                nd->left = nd->right = -1;
                nd->value = val;
                continue;
            }
            if (tail + 2 > s->nn || depth[head - 1] > 200) {
                hamf__free(queue);
                hamf__free(depth);
                IMPERR(HAMF_ERR_SCHEMA, "import: %s: trees[%zu]: nodes do not form a tree", source, t);
            }
            nd->feat = (uint16_t)fi;
            nd->left = (int32_t)tail;
            nd->right = (int32_t)tail + 1;
            depth[tail] = depth[tail + 1] = depth[head - 1] + 1;
            if (depth[tail] > maxdepth) maxdepth = depth[tail];
            queue[tail++] = (size_t)l;
            queue[tail++] = (size_t)r;
            if (ty == 1) {
                nd->flags = HAMF_NODE_CAT;
                nd->cat = tr->n_cats++;
                uint32_t *bits = tr->cat_bits + (size_t)nd->cat * 8;
                const struct hamf__feat *ft = &m->bins.f[fi];
                /* listed categories go right; the rest left; missing by default_left */
                for (size_t c = 0; c < ft->ncat; c++) {
                    bool right = false;
                    for (size_t j = 0; j < s->csize[k] && !right; j++)
                        right = (size_t)s->cats->items[s->cstart[k] + j].num == c;
                    if (!right) bits[ft->cat_bin[c] >> 5] |= 1u << (ft->cat_bin[c] & 31);
                }
                if (dl) bits[0] |= 1u;
            } else {
                const struct hamf__feat *ft = &m->bins.f[fi];
                /* FLT_MAX: every non-missing value goes left (the +inf edge) */
                float cf = (float)jnum(s->cond, k);
                double e = cf == FLT_MAX ? INFINITY : edge_below(cf);
                size_t lo = 0, hi = nth[fi];
                while (lo < hi) {
                    size_t mid = (lo + hi) / 2;
                    if (ft->edges[mid] < e) lo = mid + 1;
                    else hi = mid;
                }
                nd->thr = (uint8_t)(lo + 1);
                if (dl) nd->flags |= HAMF_NODE_DEFAULT_LEFT;
            }
        }
        /* unreachable nodes (deleted ones) are dropped */
        tr->n_nodes = (uint32_t)tail;
        coff += tail;
        hamf__free(queue);
        hamf__free(depth);
    }
    if (!have_cover) { hamf__free(m->cover); m->cover = NULL; }
    else if (coff < totnodes) { /* compact: covers were written per tree at coff */ }

    /* initial score: base_score is a probability for binary:logistic */
    if (!rf) {
        if (!(base_score > 0 && base_score < 1))
            IMPERR(HAMF_ERR_UNSUPPORTED, "import: %s: base_score %g is not a probability in (0, 1)", source, base_score);
        float bsf = (float)base_score;
        m->init_score = -log(1.0 / (double)bsf - 1.0);
        /* a hamf export carries the initial score as a leading one-leaf tree */
        if (halgo && m->n_trees > 1 && m->trees[0].n_nodes == 1 && m->init_score == 0) {
            m->init_score = m->trees[0].nodes[0].value;
            hamf__tree_clear(&m->trees[0]);
            memmove(m->trees, m->trees + 1, (m->n_trees - 1) * sizeof *m->trees);
            m->n_trees--;
            if (m->cover) memmove(m->cover, m->cover + 1, (coff - 1) * sizeof *m->cover);
        }
    } else if (base_score != 0) {
        IMPERR(HAMF_ERR_UNSUPPORTED, "import: %s: a random forest needs base_score 0, got %g", source, base_score);
    }
    const char *tgt = jstr(attrs, "hamf_target"), *pipe = jstr(attrs, "hamf_pipeline"), *params = jstr(attrs, "hamf_params");
    m->target = hamf__strdup(tgt ? tgt : "");
    if (pipe && !(m->pipeline = hamf__strdup(pipe))) IMPERR(HAMF_ERR_NOMEM, "import: out of memory");
    if (params) m->params_json = hamf__strdup(params);
    else m->params_json = hamf__asprintf("{\"algorithm\":\"gradient-boosting\",\"n_estimators\":%zu,\"learning_rate\":0.3,"
                                         "\"max_depth\":%d,\"min_child_weight\":1,\"l2\":1}", m->n_trees, maxdepth ? maxdepth : 1);
    if (!m->target || !m->params_json) IMPERR(HAMF_ERR_NOMEM, "import: out of memory");
    if ((st = hamf__model_prepare(m))) goto fail;
    *out = m;
    m = NULL;
fail:
    if (src)
        for (size_t t = 0; t < ntr; t++) { hamf__free(src[t].cstart); hamf__free(src[t].csize); }
    hamf__free(src);
    for (size_t f = 0; th && f < nfeat; f++) hamf__free(th[f]);
    hamf__free(th);
    hamf__free(nth);
    hamf__free(capth);
    hamf_ensemble_free(m);
    hamf__jdoc_free(cdoc);
    hamf__jdoc_free(doc);
    hamf__free(clean);
    return st;
}

hamf_status hamf_ensemble_import_xgboost(const char *path, hamf_ensemble **out)
{
    if (!path || !out) return hamf__err(HAMF_ERR_MISUSE, "import: NULL argument");
    FILE *f = fopen(path, "rb");
    if (!f) return hamf__err(errno == ENOENT ? HAMF_ERR_NOTFOUND : HAMF_ERR_IO, "import: cannot open %s: %s", path, strerror(errno));
    struct hamf__buf b;
    hamf__buf_init(&b, (size_t)1 << 31);
    char chunk[65536];
    size_t k;
    hamf_status st = HAMF_OK;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
        if ((st = hamf__buf_append(&b, chunk, k))) break;
    if (!st && ferror(f)) st = hamf__err(HAMF_ERR_IO, "import: read %s failed", path);
    else if (st) st = hamf__err(st, "import: %s is too large", path);
    fclose(f);
    if (!st) st = hamf__xgb_import(b.data ? b.data : "", b.len, path, out);
    hamf__buf_free(&b);
    return st;
}
