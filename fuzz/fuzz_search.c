/* fuzz_search.c — libFuzzer target for MLflow's search grammar
 * (src/store/search.c): the input's first line is a runs/search and
 * experiments/search `filter`, each further line an `order_by` item, and
 * the first byte picks the view and page size. The query runs against a
 * real SQLite tracking store holding a few runs with metrics, params and
 * tags, so the SQL the grammar produces is executed too. Checked: the
 * answer is OK or a client mistake (HAMF_ERR_PARSE / CONSTRAINT / SCHEMA /
 * NOTFOUND), never an internal or SQL error (those were 500s), and an
 * answer is valid UTF-8 that parses as JSON. Built by `make fuzz`;
 * fuzz/corpus/search is replayed by `make check`. */
#include "server/mlflow_json.h"
#include "store/search.h"
#include "store/tracking.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hamf__trk *fs_trk;
static char fs_exp[64];
static char fs_path[64];

static void fs_cleanup(void)
{
    char p[80];
    hamf__trk_close(fs_trk);
    fs_trk = NULL;
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", fs_path, sfx[i]);
        unlink(p);
    }
}

static void fs_setup(void)
{
    /* on tmpfs when there is one: the same SQLite code, without waiting on
     * the disk; named by the process id, so that fuzz/run.sh can remove it
     * after stopping the fuzzer with SIGINT (which skips atexit) */
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(fs_path, sizeof fs_path, "%s/hamf-fuzz-search-%ld", dir, (long)getpid());
    int fd = open(fs_path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) abort();
    close(fd);
    unlink(fs_path); /* a fresh store at that name */
    atexit(fs_cleanup);
    struct hamf__trk_options o = {.sync_normal = true};
    if (hamf__trk_open_opts(fs_path, &o, &fs_trk)) {
        fprintf(stderr, "fuzz_search: %s\n", hamf_last_error());
        abort();
    }
    char *id = NULL;
    if (hamf__trk_exp_create(fs_trk, "fz", NULL, NULL, 0, &id)) abort();
    snprintf(fs_exp, sizeof fs_exp, "%s", id);
    hamf__free(id);
    for (int i = 0; i < 4; i++) {
        struct hamf__trk_kv tag = {"mlflow.runName", i % 2 ? "odd" : "even \xc3\xa9"};
        struct hamf__trk_run_new rn = {.exp_id = fs_exp, .start_time = 1000 + i, .tags = &tag, .ntags = 1};
        char rid[33];
        if (hamf__trk_run_create(fs_trk, &rn, rid)) abort();
        struct hamf__trk_metric m[2] = {{"acc", 90.0 + i, 1, 0}, {"loss", i ? 1.0 / i : 0.0, 1, 0}};
        struct hamf__trk_kv pr[2] = {{"model", i % 2 ? "gbdt" : "forest"}, {"depth", i ? "8" : "x"}};
        struct hamf__trk_kv tg[1] = {{"team", i % 3 ? "a" : "b"}};
        if (hamf__trk_log_batch(fs_trk, rid, m, i % 2 + 1, pr, 2, tg, 1)) abort();
    }
}

static bool fs_client_mistake(hamf_status s)
{
    return s == HAMF_ERR_PARSE || s == HAMF_ERR_CONSTRAINT || s == HAMF_ERR_SCHEMA || s == HAMF_ERR_NOTFOUND;
}

static void fs_check_out(const struct hamf__buf *b)
{
    struct hamf__buf w;
    hamf__buf_init(&w, 0);
    if (hamf__buf_putc(&w, '{') || hamf__buf_append(&w, b->data ? b->data : "", b->len) || hamf__buf_putc(&w, '}'))
        abort();
    if (!hamf__utf8_valid(w.data, w.len)) abort();
    struct hamf__jdoc *d = NULL;
    if (hamf__json_parse(w.data, w.len, 64, &d)) {
        fprintf(stderr, "fuzz_search: answer is not JSON: %s\n", hamf_last_error());
        abort();
    }
    hamf__jdoc_free(d);
    hamf__buf_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fs_trk) fs_setup();
    if (!size || size > 8192) return 0;
    char *text = malloc(size + 1);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    unsigned char mode = data[0];
    const char *order[16];
    size_t norder = 0;
    char *nl = strchr(text, '\n');
    if (nl) {
        *nl = '\0';
        for (char *p = nl + 1; p && norder < 16;) {
            char *e = strchr(p, '\n');
            if (e) *e = '\0';
            order[norder++] = p;
            p = e ? e + 1 : NULL;
        }
    }
    const char *ids[1] = {fs_exp};
    struct hamf__trk_search q = {
        .filter = *text ? text : NULL,
        .order_by = order,
        .n_order = norder,
        .view = 1 + mode % 3,
        .max_results = 1 + (mode >> 2) % 8,
        .exp_ids = ids,
        .nexp = 1,
    };
    struct hamf__buf out;
    hamf__buf_init(&out, 0);
    hamf_status s = hamf__mlflow_run_search_json(fs_trk, &q, &out);
    if (s && !fs_client_mistake(s)) {
        fprintf(stderr, "fuzz_search: runs/search status %d: %s\n", s, hamf_last_error());
        abort();
    }
    if (!s) fs_check_out(&out);
    hamf__buf_reset(&out);
    q.exp_ids = NULL;
    q.nexp = 0;
    s = hamf__mlflow_exp_search_json(fs_trk, &q, &out);
    if (s && !fs_client_mistake(s)) {
        fprintf(stderr, "fuzz_search: experiments/search status %d: %s\n", s, hamf_last_error());
        abort();
    }
    if (!s) fs_check_out(&out);
    hamf__buf_free(&out);
    free(text);
    return 0;
}
