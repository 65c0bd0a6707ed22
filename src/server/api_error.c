/*
 * api_error.c — the MLflow error answer every handler file of the server
 * writes ({"error_code", "message"} and the HTTP status), and the mapping
 * from hamf_status to MLflow error codes (api.h). Its own file, so the
 * handler files (mlflow_api.c, artifacts.c, alerts.c, metrics_mount.c) all
 * call down to it and not into each other.
 */
#include "server/api.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

void hamf__api_error(struct hamf__http_resp *resp, int http_status, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hamf__buf_reset(&resp->body);
    if (resp->fd >= 0) {
        /* a file was about to be sent; the error replaces it */
        close(resp->fd);
        resp->fd = -1;
    }
    resp->status = http_status;
    resp->content_type = "application/json";
    hamf_status s = hamf__buf_puts(&resp->body, "{\"error_code\":");
    if (!s) s = hamf__json_str(&resp->body, code, (size_t)-1);
    if (!s) s = hamf__buf_puts(&resp->body, ",\"message\":");
    if (!s) s = hamf__json_str(&resp->body, msg, (size_t)-1);
    if (!s) s = hamf__buf_putc(&resp->body, '}');
    if (s) {
        hamf__buf_reset(&resp->body);
        resp->status = 503;
    }
}

void hamf__api_status_error(struct hamf__http_resp *resp, hamf_status st)
{
    const char *m = hamf_last_error();
    switch (st) {
    case HAMF_ERR_NOTFOUND: hamf__api_error(resp, 404, "RESOURCE_DOES_NOT_EXIST", "%s", m); break;
    case HAMF_ERR_EXISTS: hamf__api_error(resp, 400, "RESOURCE_ALREADY_EXISTS", "%s", m); break;
    case HAMF_ERR_PARSE:
    case HAMF_ERR_CONSTRAINT:
    case HAMF_ERR_MISUSE:
    case HAMF_ERR_SCHEMA: hamf__api_error(resp, 400, "INVALID_PARAMETER_VALUE", "%s", m); break;
    case HAMF_ERR_BUSY:
    case HAMF_ERR_TIMEOUT:
    case HAMF_ERR_NOMEM: hamf__api_error(resp, 503, "TEMPORARILY_UNAVAILABLE", "%s", m); break;
    case HAMF_ERR_FULL:
        hamf__api_error(resp, 507, "RESOURCE_EXHAUSTED", "%s (free space on the server's disk, then retry)", m);
        break;
    default: hamf__api_error(resp, 500, "INTERNAL_ERROR", "%s", m); break;
    }
}

