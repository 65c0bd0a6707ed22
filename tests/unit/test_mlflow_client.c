/* test_mlflow_client.c — the MLflow REST client against a real `hamf
 * server` started in-process on a loopback port (SQLite store and artifact
 * root in a temp dir): get-or-create experiment, create run, log-batch
 * (split past MLflow's per-request limits), update run, runs/search,
 * experiment listing, artifact upload through mlflow-artifacts PUT, the
 * exporter's REST source on top of it, and the error paths (not found,
 * refused connection, a server that never answers, bad URIs and paths). */
#include "t.h"
#include "server/api.h"
#include "server/exporter.h"
#include "track/mlflow_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/hamf-mlflow-client.XXXXXX";
static char uri[64];
static struct hamf__server *srv;

static const struct hamf__jval *first_run(struct hamf__jdoc *d)
{
    const struct hamf__jval *runs = hamf__jobj_get(hamf__jdoc_root(d), "runs");
    return runs && runs->type == HAMF__JARR && runs->len ? &runs->items[0] : NULL;
}

static const struct hamf__jval *kv(const struct hamf__jval *arr, const char *key)
{
    for (size_t i = 0; arr && i < arr->len; i++) {
        const struct hamf__jval *k = hamf__jobj_get(&arr->items[i], "key");
        if (k && k->type == HAMF__JSTR && !strcmp(k->str, key)) return hamf__jobj_get(&arr->items[i], "value");
    }
    return NULL;
}

static char run_id[64], exp_id[32];

static void test_log_run(void)
{
    struct hamf__mlflow *m = NULL;
    T_OK(hamf__mlflow_open(uri, NULL, &m));
    char *id = NULL, *id2 = NULL, *rid = NULL, *art = NULL;
    T_OK(hamf__mlflow_exp_get_or_create(m, "phish", &id));
    T_OK(hamf__mlflow_exp_get_or_create(m, "phish", &id2));
    T_EQ_STR(id, id2);
    snprintf(exp_id, sizeof exp_id, "%s", id);
    struct hamf__mlflow_kv tags[] = {{"hamf.model_name", "PhishingDetectionModel"}, {"hamf.model_version", "7"}};
    T_OK(hamf__mlflow_run_create(m, id, "c-client", 0, tags, 2, &rid, &art));
    snprintf(run_id, sizeof run_id, "%s", rid);
    T_EQ_INT(strlen(rid), 32);
    T_TRUE(strncmp(art, "mlflow-artifacts:/", 18) == 0);

    /* 1202 metrics: split into two requests (MLflow allows 1000 per batch) */
    size_t nm = 1202;
    struct hamf__mlflow_metric *ms = calloc(nm, sizeof *ms);
    T_TRUE(ms != NULL);
    for (size_t i = 0; i < 1200; i++) ms[i] = (struct hamf__mlflow_metric){"loss", 1.0 / (double)(i + 1), 0, (int64_t)i};
    ms[1200] = (struct hamf__mlflow_metric){"accuracy", 97.1, 0, 0};
    ms[1201] = (struct hamf__mlflow_metric){"f1_score", 0.99, 0, 0};
    struct hamf__mlflow_kv params[] = {{"n_estimators", "1000"}, {"random_state", "42"}};
    struct hamf__mlflow_kv t2[] = {{"stage", "candidate"}};
    hamf_status st = hamf__mlflow_log_batch(m, rid, ms, nm, params, 2, t2, 1);
    free(ms);
    T_OK(st);
    /* nothing FINISHED yet */
    struct hamf__jdoc *d = NULL;
    T_OK(hamf__mlflow_run_search(m, id, "attributes.status = 'FINISHED'", 1, &d));
    T_TRUE(first_run(d) == NULL);
    hamf__jdoc_free(d);
    T_OK(hamf__mlflow_run_update(m, rid, "FINISHED", 0));
    T_OK(hamf__mlflow_run_search(m, id, "attributes.status = 'FINISHED'", 1, &d));
    const struct hamf__jval *r = first_run(d);
    T_TRUE(r != NULL);
    const struct hamf__jval *info = hamf__jobj_get(r, "info"), *data = hamf__jobj_get(r, "data");
    T_EQ_STR(hamf__jobj_get(info, "run_id")->str, rid);
    T_EQ_STR(hamf__jobj_get(info, "status")->str, "FINISHED");
    double v = 0;
    T_TRUE(hamf__jval_to_f64(kv(hamf__jobj_get(data, "metrics"), "loss"), &v));
    T_EQ_DBL(v, 1.0 / 1200.0, 1e-15); /* latest step of the second batch */
    T_TRUE(hamf__jval_to_f64(kv(hamf__jobj_get(data, "metrics"), "accuracy"), &v));
    T_EQ_DBL(v, 97.1, 0);
    T_EQ_STR(kv(hamf__jobj_get(data, "params"), "random_state")->str, "42");
    T_EQ_STR(kv(hamf__jobj_get(data, "tags"), "hamf.model_version")->str, "7");
    T_EQ_STR(kv(hamf__jobj_get(data, "tags"), "stage")->str, "candidate");
    hamf__jdoc_free(d);

    /* a param is write-once: a different value is refused (4xx -> CONSTRAINT) */
    struct hamf__mlflow_kv p2[] = {{"random_state", "43"}};
    T_STATUS(hamf__mlflow_log_batch(m, rid, NULL, 0, p2, 1, NULL, 0), HAMF_ERR_CONSTRAINT);
    T_TRUE(strstr(hamf_last_error(), "INVALID_PARAMETER_VALUE") != NULL);

    /* artifacts through mlflow-artifacts PUT */
    char local[256], stored[512];
    snprintf(local, sizeof local, "%s/readme.txt", tmpdir);
    FILE *f = fopen(local, "w");
    T_TRUE(f != NULL);
    fputs("hello artifacts\n", f);
    fclose(f);
    T_OK(hamf__mlflow_artifact_put(m, art, "notes/read me.txt", local));
    snprintf(stored, sizeof stored, "%s/art/%s/%s/artifacts/notes/read me.txt", tmpdir, id, rid);
    char got[64] = {0};
    f = fopen(stored, "r");
    T_TRUE(f != NULL);
    T_TRUE(fgets(got, sizeof got, f) != NULL);
    fclose(f);
    T_EQ_STR(got, "hello artifacts\n");
    T_STATUS(hamf__mlflow_artifact_put(m, art, "../escape.txt", local), HAMF_ERR_CONSTRAINT);
    T_STATUS(hamf__mlflow_artifact_put(m, "s3://bucket/x", "a.txt", local), HAMF_ERR_UNSUPPORTED);
    T_STATUS(hamf__mlflow_artifact_put(m, art, "a.txt", "/nonexistent/file"), HAMF_ERR_IO);

    struct hamf__mlflow_exp *exps = NULL;
    size_t n = 0;
    T_OK(hamf__mlflow_exp_list(m, &exps, &n));
    bool found = false;
    for (size_t i = 0; i < n; i++) found |= !strcmp(exps[i].name, "phish") && !strcmp(exps[i].id, id);
    hamf__mlflow_exps_free(exps, n);
    T_TRUE(found);
    char *none = NULL;
    T_STATUS(hamf__mlflow_exp_id(m, "no such experiment", &none), HAMF_ERR_NOTFOUND);
    T_TRUE(none == NULL);
    hamf__free(id);
    hamf__free(id2);
    hamf__free(rid);
    hamf__free(art);
    hamf__mlflow_close(m);
}

static void test_exporter_rest_source(void)
{
    struct hamf__exporter_source *src = NULL;
    const char *names[] = {"phish"};
    T_OK(hamf__exporter_source_open(uri, names, 1, &src));
    T_TRUE(hamf__exporter_source_remote(src));
    struct hamf__samples s;
    hamf__samples_init(&s);
    hamf_status st = hamf__exporter_source_collect(src, &s);
    hamf__exporter_source_close(src);
    T_OK(st);
    T_EQ_INT(s.nq, 1);
    T_EQ_STR(s.q[0].experiment, "phish");
    T_EQ_STR(s.q[0].run_id, run_id);
    T_EQ_STR(s.q[0].model, "PhishingDetectionModel");
    T_EQ_STR(s.q[0].model_version, "7");
    T_TRUE(s.q[0].has[HAMF__Q_ACCURACY] && s.q[0].has[HAMF__Q_F1]);
    T_TRUE(!s.q[0].has[HAMF__Q_PRECISION] && !s.q[0].has[HAMF__Q_RECALL]);
    T_EQ_DBL(s.q[0].value[HAMF__Q_ACCURACY], 97.1, 0);
    T_TRUE(s.q[0].end_time_s > 1.7e9);
    hamf__samples_free(&s);
}

static void test_errors(void)
{
    struct hamf__mlflow *m = NULL;
    T_STATUS(hamf__mlflow_open("ftp://x", NULL, &m), HAMF_ERR_PARSE);
    T_STATUS(hamf__mlflow_open("http://", NULL, &m), HAMF_ERR_PARSE);
    T_TRUE(m == NULL);

    /* a listening socket that never answers: the request times out */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    T_TRUE(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 4) == 0);
    T_TRUE(getsockname(fd, (struct sockaddr *)&a, &al) == 0);
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    struct hamf__mlflow_opts o = {.connect_timeout_ms = 200, .timeout_ms = 300};
    T_OK(hamf__mlflow_open(u, &o, &m));
    char *id = NULL;
    double t0 = hamf__mono_seconds();
    T_STATUS(hamf__mlflow_exp_id(m, "x", &id), HAMF_ERR_TIMEOUT);
    T_TRUE(hamf__mono_seconds() - t0 < 2.0);
    hamf__mlflow_close(m);
    close(fd); /* now nothing listens there: refused */
    T_OK(hamf__mlflow_open(u, &o, &m));
    T_STATUS(hamf__mlflow_exp_id(m, "x", &id), HAMF_ERR_CONNECT);
    T_TRUE(strstr(hamf_last_error(), "cannot reach") != NULL);
    hamf__mlflow_close(m);

    /* an unknown endpoint (404 ENDPOINT_NOT_FOUND) is not "no such resource" */
    T_OK(hamf__mlflow_open(uri, NULL, &m));
    struct hamf__jdoc *d = NULL;
    T_STATUS(hamf__mlflow_call(m, "GET", "no/such/endpoint", NULL, &d), HAMF_ERR_UNSUPPORTED);
    T_STATUS(hamf__mlflow_call(m, "PATCH", "runs/get", NULL, &d), HAMF_ERR_MISUSE);
    hamf__mlflow_close(m);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) return 1;
    char db[128], art[128];
    snprintf(db, sizeof db, "%s/t.db", tmpdir);
    snprintf(art, sizeof art, "%s/art", tmpdir);
    struct hamf__server_config cfg = {.host = "127.0.0.1", .port = 0, .threads = 2, .db_url = db, .artifacts_dir = art};
    if (hamf__server_start(&cfg, &srv)) {
        fprintf(stderr, "server: %s\n", hamf_last_error());
        return 1;
    }
    snprintf(uri, sizeof uri, "http://127.0.0.1:%d", hamf__server_port(srv));
    T_RUN(test_log_run);
    T_RUN(test_exporter_rest_source);
    T_RUN(test_errors);
    hamf__server_stop(srv, 5.0);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup of %s failed\n", tmpdir);
    return T_DONE();
}
