/*
 * pipeline.h — a pipeline's expressions parsed once, for a caller that
 * applies the same pipeline to many frames (the scoring server: one per
 * request). hamf_pipeline_apply parses each `with` expression again on
 * every call so that one pipeline can serve any number of threads; an exec
 * keeps the parsed expressions instead and is used by one thread at a time
 * (binding writes column indices and types into it). Results and error
 * messages are those of hamf_pipeline_apply.
 */
#ifndef HAMF_DATA_PIPELINE_H
#define HAMF_DATA_PIPELINE_H

#include "util/util.h"

struct hamf__pipeline_exec;

hamf_status hamf__pipeline_compile(const hamf_pipeline *p, struct hamf__pipeline_exec **out);
/* Apply p to f with the expressions of x (compiled from p). */
hamf_status hamf__pipeline_run(const hamf_pipeline *p, struct hamf__pipeline_exec *x, hamf_frame *f);
void hamf__pipeline_exec_free(struct hamf__pipeline_exec *x);

#endif
