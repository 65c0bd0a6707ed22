/* fuzz_alerts.c — libFuzzer target for the Alertmanager webhook body that
 * POST /api/hamf/v1/alerts takes (src/server/alerts.c): the input is the
 * request body, handled by the real route against a real SQLite store
 * (in /dev/shm when writable; jobs are enqueued there; no worker runs them). Checked: the answer is
 * 200 or a 4xx with MLflow's error JSON, never a 5xx, and its body is
 * valid UTF-8 JSON. Built by `make fuzz`; fuzz/corpus/alerts is replayed
 * by `make check`. */
#include "server/alerts.h"
#include "server/api.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hamf__server_ctx fa_ctx;
static char fa_db[64];

static void fa_cleanup(void)
{
    char p[80];
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", fa_db, sfx[i]);
        unlink(p);
    }
}

static void fa_setup(void)
{
    /* on tmpfs when there is one: the same SQLite code, without waiting on
     * the disk; named by the process id, so that fuzz/run.sh can remove it
     * after stopping the fuzzer with SIGINT (which skips atexit) */
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(fa_db, sizeof fa_db, "%s/hamf-fuzz-alerts-%ld", dir, (long)getpid());
    int fd = open(fa_db, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) abort();
    close(fd);
    unlink(fa_db);
    atexit(fa_cleanup);
    fa_ctx.db_url = fa_db;
    /* a long cooldown keeps most models' jobs from piling up */
    struct hamf__alerts_config c;
    hamf__alerts_config_init(&c);
    if (hamf__alerts_configure(&c)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fa_ctx.db_url) fa_setup();
    if (size > 65536) return 0;
    char *body = malloc(size + 1);
    memcpy(body, data, size);
    body[size] = '\0';
    struct hamf__http_req req = {.method = "POST", .path = "/api/hamf/v1/alerts", .content_type = "application/json",
                                 .body = body, .body_len = size};
    struct hamf__http_resp resp = {.status = 200, .content_type = "application/json", .fd = -1};
    hamf__buf_init(&resp.body, 0);
    hamf__alerts_route(&fa_ctx, &req, &resp);
    if (resp.status >= 500 || resp.status < 200) {
        fprintf(stderr, "fuzz_alerts: status %d: %.*s\n", resp.status, (int)resp.body.len,
                resp.body.data ? resp.body.data : "");
        abort();
    }
    if (!hamf__utf8_valid(resp.body.data ? resp.body.data : "", resp.body.len)) abort();
    struct hamf__jdoc *d = NULL;
    if (hamf__json_parse(resp.body.data ? resp.body.data : "", resp.body.len, 64, &d)) {
        fprintf(stderr, "fuzz_alerts: answer is not JSON: %s\n", hamf_last_error());
        abort();
    }
    hamf__jdoc_free(d);
    hamf__buf_free(&resp.body);
    free(body);
    return 0;
}
