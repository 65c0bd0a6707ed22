/*
 * frame_glue.c — hamf_dataset_from_frame: turns a hamf_frame (the Data
 * module's column store) into the learner's dataset. STRING columns become
 * categoricals with the frame's dictionary; INT64/DOUBLE/BOOL columns become
 * numeric (nulls are NaN). Kept apart from dataset.c so programs that only
 * use arrays do not pull in the frame code.
 */
#include "ml.h"

#include <string.h>
#include <strings.h>

/* ---- frame glue ---- */

int hamf__label_of_string(const char *s)
{
    if (!strcasecmp(s, "1") || !strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcasecmp(s, "y") ||
        !strcasecmp(s, "t"))
        return 1;
    if (!strcasecmp(s, "0") || !strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcasecmp(s, "n") ||
        !strcasecmp(s, "f"))
        return 0;
    return -1;
}

hamf_status hamf_dataset_from_frame(const hamf_frame *f, const char *target, hamf_dataset **out)
{
    if (!f || !out) return hamf__err(HAMF_ERR_MISUSE, "dataset: NULL argument");
    size_t n = hamf_frame_nrows(f), nc = hamf_frame_ncols(f);
    size_t tcol = (size_t)-1;
    if (target) {
        if (hamf_frame_find(f, target, &tcol) != HAMF_OK)
            return hamf__err(HAMF_ERR_SCHEMA, "dataset: no target column '%s' in the data", target);
    }
    hamf_dataset *d = NULL;
    hamf_status st = hamf_dataset_new(n, &d);
    if (st) return st;
    double *buf = hamf__malloc((n + 1) * sizeof *buf);
    if (!buf) { st = hamf__err(HAMF_ERR_NOMEM, "dataset: out of memory"); goto fail; }
    for (size_t c = 0; c < nc; c++) {
        if (c == tcol) continue;
        const char *name = hamf_frame_col_name(f, c);
        if (hamf_frame_col_type(f, c) == HAMF_DTYPE_STRING) {
            size_t k = hamf_frame_dict_size(f, c);
            const char **dict = hamf__calloc(k + 1, sizeof *dict);
            if (!dict) { st = hamf__err(HAMF_ERR_NOMEM, "dataset: out of memory"); goto fail; }
            for (size_t j = 0; j < k; j++) dict[j] = hamf_frame_dict_value(f, c, j);
            st = hamf_dataset_add_categorical(d, name, hamf_frame_codes(f, c), k, dict);
            hamf__free(dict);
        } else {
            if ((st = hamf_frame_get_f64(f, c, buf))) goto fail;
            st = hamf_dataset_add_numeric(d, name, buf);
        }
        if (st) goto fail;
    }
    if (target) {
        if (hamf_frame_col_type(f, tcol) == HAMF_DTYPE_STRING) {
            const int32_t *codes = hamf_frame_codes(f, tcol);
            for (size_t i = 0; i < n; i++) {
                int v = codes[i] < 0 ? -1 : hamf__label_of_string(hamf_frame_dict_value(f, tcol, (size_t)codes[i]));
                if (v < 0) {
                    st = hamf__err(HAMF_ERR_SCHEMA, "dataset: target '%s' in data row %zu (CSV line %zu) is '%s', not a binary label (0/1, yes/no, true/false)",
                                   target, i + 1, i + 2, codes[i] < 0 ? "" : hamf_frame_dict_value(f, tcol, (size_t)codes[i]));
                    goto fail;
                }
                buf[i] = v;
            }
        } else {
            if ((st = hamf_frame_get_f64(f, tcol, buf))) goto fail;
            for (size_t i = 0; i < n; i++)
                if (!(buf[i] == 0 || buf[i] == 1)) {
                    st = hamf__err(HAMF_ERR_SCHEMA, "dataset: target '%s' in data row %zu (CSV line %zu) is %g, not a binary label (0 or 1)",
                                   target, i + 1, i + 2, buf[i]);
                    goto fail;
                }
        }
        if ((st = hamf_dataset_set_label(d, target, buf))) goto fail;
    }
    hamf__free(buf);
    *out = d;
    return HAMF_OK;
fail:
    hamf__free(buf);
    hamf_dataset_free(d);
    return st;
}
