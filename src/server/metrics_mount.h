/*
 * metrics_mount.h — the HTTP side of the exporter: the /metrics handler
 * (exposition text straight from the exporter's in-memory copy) and the
 * small / page, mounted on the http.c layer by `hamf exporter`, and the
 * same exporter mounted at /metrics in `hamf server` (one implementation,
 * two mounts). Also the strict duration parser both use for intervals.
 */
#ifndef HAMF_SERVER_METRICS_MOUNT_H
#define HAMF_SERVER_METRICS_MOUNT_H

#include "server/exporter.h"
#include "server/http.h"

/* "500ms", "15s", "1.5s", "1m", "2h": a positive decimal number and a unit
 * (ms, s, m, h), nothing else; 10 ms .. 24 h. HAMF_ERR_PARSE with a message
 * naming the problem otherwise. */
hamf_status hamf__duration_parse(const char *s, int64_t *ms);

/* Handlers for a server whose ctx is a struct hamf__exporter: GET /metrics
 * and GET / (an HTML page linking to /metrics). */
void hamf__metrics_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__metrics_index_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);

/* ---- the mount in `hamf server` ----
 * The route handler takes the server's struct hamf__server_ctx (api.h):
 * on the first scrape it starts an exporter on the server's store (local
 * source, refresh interval $HAMF_METRICS_INTERVAL, default 15s) and keeps
 * it for that ctx; hamf__metrics_server_unmount(ctx) stops it when the
 * server stops. */
void hamf__metrics_server_route(void *ctx, const struct hamf__http_req *req, struct hamf__http_resp *resp);
void hamf__metrics_server_unmount(void *ctx);

#endif
