/*
 * api_args.h — a request's fields for the MLflow API handlers (tracking in
 * mlflow_api.c, Model Registry in registry_api.c): read from the JSON body
 * or from the query string through one accessor, so the GET and POST forms
 * of a route share their code. Getters return 1 (present), 0 (absent; a
 * JSON null is absent too) or -1 (bad: resp holds MLflow's error JSON,
 * 400 INVALID_PARAMETER_VALUE, or 503 when out of memory).
 *
 * The two APIs keep their own (tested, MLflow-compatible) answers, chosen
 * by the style given to hamf__args_init:
 *  - TRACKING: only POST has a body, and its Content-Type must be JSON even
 *    when empty; a wrong-typed value is shown as Python's str() of it (cut
 *    at 512 bytes, hamf__api_bad_value); a string holding NUL is its own
 *    error; a bad integer in the query string is cut at 512 bytes.
 *  - REGISTRY: every method but GET may have a body, an empty one needs no
 *    Content-Type; a wrong-typed value is shown briefly (strings and
 *    numbers as they are, True/False, "[...]" and "{...}"); a string
 *    holding NUL is a wrong-typed value; query values are shown whole.
 */
#ifndef HAMF_SERVER_API_ARGS_H
#define HAMF_SERVER_API_ARGS_H

#include "server/http.h"

enum hamf__api_style { HAMF__API_TRACKING, HAMF__API_REGISTRY };

struct hamf__args {
    const struct hamf__http_req *req; /* may be NULL: no query string */
    struct hamf__jdoc *doc;
    const struct hamf__jval *obj;     /* NULL: fields come from the query string */
    struct hamf__http_resp *resp;
    enum hamf__api_style style;
    void *owned[4];                   /* freed with the args (lists, key/value arrays) */
    int nowned;
};

/* Set up field access; false (with resp filled) on a bad body. Free with
 * hamf__args_free either way. */
bool hamf__args_init(struct hamf__args *a, const struct hamf__http_req *req, struct hamf__http_resp *resp,
                         enum hamf__api_style style);
void hamf__args_free(struct hamf__args *a);
/* Keep p until the args are freed; false (p freed, resp filled: 503) when
 * there is no room. */
bool hamf__args_keep(struct hamf__args *a, void *p);

/* The JSON field `name` (NULL when absent, null, or a query request). */
const struct hamf__jval *hamf__args_field(const struct hamf__args *a, const char *name);
/* Report v as the wrong value for `name`, in the args' style. */
void hamf__args_bad(struct hamf__args *a, const char *name, const struct hamf__jval *v);

int hamf__arg_str(struct hamf__args *a, const char *name, const char **out);
/* A required string: absent (or, with nonempty, "") is MLflow's
 * "Missing value for required parameter" error. */
int hamf__arg_required(struct hamf__args *a, const char *name, bool nonempty, const char **out);
/* An integer: a JSON number or numeric string, or a query value. */
int hamf__arg_i64(struct hamf__args *a, const char *name, int64_t *out);
/* A list of strings: a JSON array, or the repeated query parameter. The
 * array belongs to the args. */
int hamf__arg_list(struct hamf__args *a, const char *name, const char ***out, size_t *n);

#endif
