/*
 * public_api.c — include/hamf.h's tracking server (hamf_server_*): the
 * server of src/server/ wired to the retrain job runner of this layer
 * (retrain_jobs.c) and to basic auth, behind an opaque handle. The local
 * stack's functions (hamf_stack_*) are stack.c's own.
 */
#include "app/retrain_jobs.h"

#include "server/alerts.h"
#include "server/api.h"
#include "server/auth.h"

#include <string.h>

struct hamf_server {
    struct hamf__server *srv;
    struct hamf__auth *auth;
};

void hamf_server_options_init(hamf_server_options *o)
{
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 5000;
    o->threads = 8;
    o->artifacts_dir = "./mlartifacts";
    o->auth_max_failures = HAMF__AUTH_MAX_FAILURES;
    struct hamf__alerts_config ac;
    hamf__alerts_config_init(&ac);
    o->retrain_cooldown_s = ac.cooldown_s;
    o->retrain_window = ac.window;
    o->retrain_min_gain = ac.min_gain;
}

hamf_status hamf_server_start(const hamf_server_options *o, hamf_server **out)
{
    if (!o || !out || !o->db_url) return hamf__err(HAMF_ERR_MISUSE, "server: NULL options, handle or db_url");
    if (o->auth_max_failures < 0) return hamf__err(HAMF_ERR_MISUSE, "server: auth_max_failures < 0");
    hamf_server *h = hamf__calloc(1, sizeof *h);
    if (!h) return hamf__err(HAMF_ERR_NOMEM, "server: out of memory");
    hamf_status st = HAMF_OK;
    if (o->auth_file) {
        if ((st = hamf__auth_load(o->auth_file, &h->auth))) goto fail;
        hamf__auth_set_metrics_public(h->auth, o->metrics_public != 0);
        hamf__auth_set_limit(h->auth, (unsigned)o->auth_max_failures, HAMF__AUTH_WINDOW_SECONDS);
    }
    /* a damaged store is refused before serving anything from it */
    st = hamf_store_check(o->db_url, 0);
    if (st == HAMF_ERR_UNSUPPORTED) st = HAMF_OK; /* PostgreSQL checks itself */
    if (st) goto fail;
    struct hamf__alerts_config ac;
    hamf__alerts_config_init(&ac);
    ac.retrain_data = o->retrain_data;
    ac.cooldown_s = o->retrain_cooldown_s;
    ac.window = o->retrain_window;
    ac.min_gain = o->retrain_min_gain;
    hamf__retrain_jobs_install(); /* the alert webhook's jobs run here (retrain_jobs.c) */
    if ((st = hamf__alerts_configure(&ac))) goto fail;
    struct hamf__server_config cfg = {
        .host = o->host ? o->host : "127.0.0.1",
        .port = o->port,
        .threads = o->threads > 0 ? o->threads : 8,
        .db_url = o->db_url,
        .artifacts_dir = o->artifacts_dir ? o->artifacts_dir : "./mlartifacts",
        .sync_full = o->sync_full != 0,
        .auth = h->auth,
        .limits = {.max_connections = o->max_connections,
                   .max_per_ip = o->max_connections_per_ip,
                   .header_timeout = o->header_timeout_s,
                   .body_timeout = o->body_timeout_s},
        .default_artifact_root = o->default_artifact_root,
        .max_artifact_bytes = o->max_artifact_bytes,
    };
    if ((st = hamf__server_start(&cfg, &h->srv))) goto fail;
    *out = h;
    return HAMF_OK;
fail:
    hamf__auth_free(h->auth);
    hamf__free(h);
    return st;
}

int hamf_server_port(const hamf_server *s)
{
    return s ? hamf__server_port(s->srv) : -1;
}

void hamf_server_stop(hamf_server *s, double grace_seconds)
{
    if (!s) return;
    hamf__server_stop(s->srv, grace_seconds);
    hamf__auth_free(s->auth);
    hamf__free(s);
}
