/*
 * expr.h — Spark SQL expressions for derived columns (the syntax of
 * F.expr / selectExpr): the AST made by expr_parse.c (hand-written lexer and
 * precedence-climbing parser, depth-limited), type binding against a frame
 * and column-at-a-time evaluation in expr_eval.c.
 *
 * Semantics follow Spark's default (non-ANSI) mode: `/` always gives a
 * double, x/0 and x%0 give NULL, NULL propagates through operators and
 * functions, AND/OR use three-valued logic, strings compare bytewise and
 * exactly, a string used in arithmetic is cast to double (NULL when it is
 * not a number), integer overflow wraps.
 */
#ifndef HAMF_DATA_EXPR_H
#define HAMF_DATA_EXPR_H

#include "data/frame.h"

#define HAMF_EXPR_MAX_DEPTH 200
#define HAMF_EXPR_MAX_LEN 65536

/* Value types during evaluation; VT_NULL is the type of the NULL literal. */
enum hamf__vt { VT_NULL = 0, VT_I64 = 1, VT_F64 = 2, VT_BOOL = 3, VT_STR = 4 };

enum hamf__ekind {
    E_LIT, E_COL, E_NEG, E_NOT, E_ARITH, E_CMP, E_AND, E_OR, E_CASE, E_ISNULL,
    E_IN, E_BETWEEN, E_FUNC, E_CAST
};

enum hamf__eop {
    OP_ADD = 1, OP_SUB, OP_MUL, OP_DIV, OP_MOD,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_NSEQ
};

enum hamf__efn {
    FN_COALESCE = 1, FN_LEAST, FN_GREATEST, FN_ABS, FN_LN, FN_LOG10, FN_LOG1P, FN_SQRT,
    FN_EXP, FN_POW, FN_LOWER, FN_UPPER, FN_LENGTH
};

struct hamf__expr {
    enum hamf__ekind kind;
    int op;           /* hamf__eop for E_ARITH/E_CMP, hamf__efn for E_FUNC */
    size_t pos;       /* byte offset of the token in the source, for carets */
    bool negated;     /* IS NOT NULL, NOT IN, NOT BETWEEN */
    bool has_else;    /* E_CASE: last arg is the ELSE branch */
    bool has_operand; /* E_CASE: first arg is the CASE operand */
    int vt;           /* literal type (E_LIT), target type (E_CAST); after
                         binding: the result type of every node */
    int64_t i;
    double d;
    char *s;          /* string literal or column name */
    size_t col;       /* bound column index (E_COL) */
    struct hamf__expr **args;
    size_t nargs;
};

/* A parsed expression with its source text (kept for error carets). */
struct hamf__expr_prog {
    char *text;
    struct hamf__expr *root;
};

hamf_status hamf__expr_parse(const char *text, struct hamf__expr_prog **out);
void hamf__expr_prog_free(struct hamf__expr_prog *p);
/* Resolve columns against f and compute types; errors carry a caret. */
hamf_status hamf__expr_bind(struct hamf__expr_prog *p, const hamf_frame *f);

/* A column of values; scalar vectors have one row broadcast to all. */
struct hamf__vec {
    int t;
    size_t n;
    bool scalar;
    void *data;       /* int64_t / double / uint8_t / int32_t codes */
    uint8_t *valid;   /* NULL: no nulls (STR: codes -1 are nulls) */
    struct hamf__dict *dict;
    bool own_data, own_valid, own_dict;
};

void hamf__vec_free(struct hamf__vec *v);
/* Evaluate a bound program over every row of f. */
hamf_status hamf__expr_eval(const struct hamf__expr_prog *p, const hamf_frame *f, struct hamf__vec *out);
/* Error with the expression and a caret under byte `pos`. */
hamf_status hamf__expr_error(hamf_status st, const char *text, size_t pos, const char *fmt, ...) HAMF_PRINTF(4, 5);
const char *hamf__vt_name(int vt);

#endif
