/*
 * err.c — the thread-local "last error" behind hamf_last_error(), status
 * names, and the library version. Modeled on per-thread error buffers in
 * tree libraries' C APIs: the message is owned by the library and valid until
 * the next failing call on the same thread.
 */
#include "util.h"

#include <stdio.h>
#include <string.h>

#define HAMF_ERRMSG_MAX 1024

static _Thread_local char errmsg[HAMF_ERRMSG_MAX];

const char *hamf_last_error(void) { return errmsg; }

const char *hamf_version(void) { return "0.1.0"; }

const char *hamf_status_str(hamf_status s)
{
    switch (s) {
    case HAMF_OK: return "ok";
    case HAMF_ERR_NOMEM: return "out of memory";
    case HAMF_ERR_IO: return "I/O error";
    case HAMF_ERR_PARSE: return "parse error";
    case HAMF_ERR_SCHEMA: return "schema mismatch";
    case HAMF_ERR_CONSTRAINT: return "constraint violated";
    case HAMF_ERR_NOTFOUND: return "not found";
    case HAMF_ERR_EXISTS: return "already exists";
    case HAMF_ERR_BUSY: return "busy";
    case HAMF_ERR_TIMEOUT: return "timed out";
    case HAMF_ERR_UNSUPPORTED: return "unsupported";
    case HAMF_ERR_MISUSE: return "misuse of the API";
    case HAMF_ERR_INTERNAL: return "internal error";
    case HAMF_ERR_CORRUPT: return "corrupt data";
    case HAMF_ERR_CONNECT: return "cannot connect";
    case HAMF_ERR_FULL: return "storage full";
    case HAMF_STATUS_LAST: break;
    }
    return "unknown status";
}

hamf_status hamf__verr(hamf_status s, const char *fmt, va_list ap)
{
    vsnprintf(errmsg, sizeof errmsg, fmt, ap);
    return s;
}

hamf_status hamf__err(hamf_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hamf__verr(s, fmt, ap);
    va_end(ap);
    return s;
}

hamf_status hamf__err_prefix(hamf_status s, const char *fmt, ...)
{
    char prefix[256], old[HAMF_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, errmsg, sizeof old);
    size_t pl = strlen(prefix);
    if (pl > sizeof errmsg - 3) pl = sizeof errmsg - 3;
    memcpy(errmsg, prefix, pl);
    errmsg[pl] = ':';
    errmsg[pl + 1] = ' ';
    size_t room = sizeof errmsg - pl - 3;
    size_t ol = strnlen(old, room);
    memcpy(errmsg + pl + 2, old, ol);
    errmsg[pl + 2 + ol] = '\0';
    return s;
}
