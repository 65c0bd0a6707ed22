/*
 * frame.h — internals of the columnar frame (struct of arrays) shared by
 * csv.c, expr_eval.c and pipeline.c: the column layout, a string interning
 * dictionary, and ownership-taking column insertion.
 *
 * Layout: INT64 columns hold int64_t[nrows], DOUBLE double[nrows], BOOL
 * uint8_t[nrows] (0/1), STRING int32_t[nrows] codes into `dict` (-1 = null).
 * For non-STRING columns `valid` is NULL (no nulls) or uint8_t[nrows] with 1
 * present / 0 null; STRING columns never have `valid`.
 */
#ifndef HAMF_DATA_FRAME_H
#define HAMF_DATA_FRAME_H

#include "util/util.h"

/* Interned strings: code i <-> str[i] (NUL-terminated, len[i] bytes). */
struct hamf__dict {
    char **str;
    uint32_t *len;
    size_t n, cap;
    int32_t *slots; /* open addressing, -1 empty; nslots is a power of 2 */
    size_t nslots;
};

/* The texts of a column's values as the CSV writer writes them, found in
 * the bytes of the CSV block the column was read from: hamf_csv_transform
 * passes the columns its steps leave alone through this way instead of
 * parsing and formatting them again. Row i's text is base[off, off + len)
 * unless len has HAMF__RAW_TYPED set: then the text is not in the block
 * (e.g. "-007", written "-7") and the writer formats the typed value of
 * row i. A null value's text is empty. */
struct hamf__rawref {
    uint32_t off, len;
};
#define HAMF__RAW_TYPED 0x80000000u

/* The references of a block's text columns, row after row (one stream for
 * the reader to write and the writer to read, whatever the number of
 * columns), shared by the columns: freed with the last. */
struct hamf__rawbuf {
    struct hamf__rawref *data;
    size_t users;
};

struct hamf__raw {
    const char *base; /* the block (borrowed: valid while its frame is handled) */
    size_t size;      /* bytes at base */
    struct hamf__rawref *ref; /* row i's: ref[i * stride], in buf */
    size_t stride;
    struct hamf__rawbuf *buf;
    size_t src;       /* the column's index in the input */
    char delim;       /* the input's delimiter */
    bool whole;       /* every text is its field's bytes as read (quotes
                         included), none TYPED: the fields of adjacent
                         input columns are then one span of base */
    bool partial;     /* the typed values are there only for TYPED rows:
                         the column must not be read as values */
};

struct hamf__col {
    char *name;
    hamf_dtype type;
    void *data;
    uint8_t *valid;
    struct hamf__dict *dict;
    struct hamf__raw *raw; /* NULL, or the value texts (owned) */
};

struct hamf_frame {
    size_t nrows, ncols, cap;
    struct hamf__col *cols;
};

hamf_status hamf__dict_new(struct hamf__dict **out);
void hamf__dict_free(struct hamf__dict *d);
/* Code of `s` (n bytes), adding it if new. */
hamf_status hamf__dict_intern(struct hamf__dict *d, const char *s, size_t n, int32_t *code);
uint64_t hamf__hash_bytes(const char *s, size_t n);

/* Append a column, taking ownership of name, data, valid and dict in every
 * case (they are freed on failure). The first column fixes nrows. */
hamf_status hamf__frame_push(hamf_frame *f, char *name, hamf_dtype type, void *data,
                             uint8_t *valid, struct hamf__dict *dict, size_t n);
/* Replace column `idx` in place (keeps its position and name); same
 * ownership rule as hamf__frame_push. */
hamf_status hamf__frame_replace(hamf_frame *f, size_t idx, hamf_dtype type, void *data,
                                uint8_t *valid, struct hamf__dict *dict, size_t n);
/* Column lookup the way Spark resolves names: exact match first, then a
 * unique case-insensitive match. */
bool hamf__frame_resolve(const hamf_frame *f, const char *name, size_t *col);
void hamf__col_clear(struct hamf__col *c);
/* The values of column col as stored (see the layout above; NULL past the
 * last column) and its valid bytes (*valid NULL: no nulls). */
const void *hamf__frame_data(const hamf_frame *f, size_t col, const uint8_t **valid);
void hamf__raw_free(struct hamf__raw *r);
size_t hamf__dtype_size(hamf_dtype t);
const char *hamf__dtype_name(hamf_dtype t);

#endif
