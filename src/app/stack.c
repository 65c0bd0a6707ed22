/*
 * stack.c — `hamf stack` (see stack.h): renders deploy/'s Prometheus and
 * Alertmanager configs to the chosen loopback ports, starts hamf server,
 * hamf exporter, Alertmanager and Prometheus as detached processes with
 * PID files and logs in the state directory, waits for each to answer its
 * readiness URL, and stops them by PID (TERM, then KILL).
 *
 * Rendering is a literal, single-pass replacement of the default addresses
 * deploy/ is written with (127.0.0.1:5000 server, :8000 exporter, :9090
 * Prometheus, :9093 Alertmanager); each must be found, so a deploy/ edit
 * that drops one fails loudly instead of silently monitoring the wrong
 * port. Rule files are copied beside prometheus.yml (its rule_files path is
 * relative). Written in C rather than a script so the stack needs nothing
 * beyond hamf and the two Debian binaries.
 */
#include "app/stack.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const comp_names[HAMF_STACK_N] = {
    [HAMF_STACK_SERVER] = "server",
    [HAMF_STACK_EXPORTER] = "exporter",
    [HAMF_STACK_ALERTMANAGER] = "alertmanager",
    [HAMF_STACK_PROMETHEUS] = "prometheus",
};

/* ---- small file helpers ---- */

static hamf_status read_file(const char *path, struct hamf__buf *out)
{
    hamf_status st = hamf__file_read(path, 0, out);
    return st ? hamf__err_prefix(st, "stack") : st;
}

/* Write atomically (util/file.c). */
static hamf_status write_file(const char *path, const char *data, size_t n)
{
    hamf_status st = hamf__file_write_atomic(path, data, n, 0644);
    return st ? hamf__err_prefix(st, "stack") : st;
}

static hamf_status make_dir(const char *path)
{
    hamf_status st = hamf__file_mkdirs(path);
    return st ? hamf__err_prefix(st, "stack") : st;
}

/* ---- rendering ---- */

struct subst {
    const char *from;
    char to[64];
    int seen;
};

/* Single pass: at each position the first matching pattern is replaced. */
static hamf_status render(const char *src_path, const char *dst_path, struct subst *s, size_t ns)
{
    struct hamf__buf in, out;
    hamf__buf_init(&in, 16u << 20);
    hamf__buf_init(&out, 0);
    hamf_status st = read_file(src_path, &in);
    for (size_t i = 0; !st && i < in.len;) {
        size_t k;
        for (k = 0; k < ns; k++) {
            size_t fl = strlen(s[k].from);
            if (i + fl <= in.len && memcmp(in.data + i, s[k].from, fl) == 0) {
                st = hamf__buf_puts(&out, s[k].to);
                s[k].seen++;
                i += fl;
                break;
            }
        }
        if (k == ns) st = hamf__buf_putc(&out, in.data[i++]);
    }
    for (size_t k = 0; !st && k < ns; k++)
        if (!s[k].seen)
            st = hamf__err(HAMF_ERR_SCHEMA, "stack: %s: expected address '%s' not found (cannot point it at the stack)",
                           src_path, s[k].from);
    if (!st) st = write_file(dst_path, out.data ? out.data : "", out.len);
    hamf__buf_free(&in);
    hamf__buf_free(&out);
    return st;
}

static hamf_status copy_rules(const char *deploy, const char *dir)
{
    char *src = hamf__asprintf("%s/prometheus/rules", deploy), *dst = hamf__asprintf("%s/rules", dir);
    hamf_status st = HAMF_OK;
    DIR *d = NULL;
    int copied = 0;
    if (!src || !dst) {
        st = hamf__err(HAMF_ERR_NOMEM, "stack: out of memory");
        goto cleanup;
    }
    if ((st = make_dir(dst))) goto cleanup;
    if (!(d = opendir(src))) {
        st = hamf__err(HAMF_ERR_IO, "stack: %s: %s", src, strerror(errno));
        goto cleanup;
    }
    struct dirent *e;
    while (!st && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".yml") != 0) continue;
        char *from = hamf__asprintf("%s/%s", src, e->d_name), *to = hamf__asprintf("%s/%s", dst, e->d_name);
        if (!from || !to) {
            st = hamf__err(HAMF_ERR_NOMEM, "stack: out of memory");
        } else {
            struct hamf__buf b;
            hamf__buf_init(&b, 16u << 20);
            st = read_file(from, &b);
            if (!st) st = write_file(to, b.data ? b.data : "", b.len);
            hamf__buf_free(&b);
            copied++;
        }
        hamf__free(from);
        hamf__free(to);
    }
    if (!st && !copied) st = hamf__err(HAMF_ERR_NOTFOUND, "stack: no rule files (*.yml) in %s", src);
cleanup:
    if (d) closedir(d);
    hamf__free(src);
    hamf__free(dst);
    return st;
}

/* ---- locating things ---- */

static bool is_deploy(const char *d)
{
    char *p = hamf__asprintf("%s/prometheus/prometheus.yml", d);
    bool ok = p && access(p, R_OK) == 0;
    hamf__free(p);
    return ok;
}

hamf_status hamf__stack_find_deploy(const char *flag, const char *hamf_exe, char **out)
{
    if (flag) {
        if (!is_deploy(flag))
            return hamf__err(HAMF_ERR_NOTFOUND, "stack: %s has no prometheus/prometheus.yml (not a deploy/ directory)",
                             flag);
        char *r = realpath(flag, NULL);
        *out = r ? hamf__strdup(r) : NULL;
        free(r);
        return *out ? HAMF_OK : hamf__err(HAMF_ERR_NOMEM, "stack: out of memory");
    }
    char *cand[4] = {0};
    const char *env = getenv("HAMF_DEPLOY_DIR");
    if (env && *env) cand[0] = hamf__strdup(env);
    if (hamf_exe) {
        char *exe = realpath(hamf_exe, NULL);
        if (exe) {
            char *slash = strrchr(exe, '/');
            if (slash) *slash = '\0';
            cand[1] = hamf__asprintf("%s/../deploy", exe);
            free(exe);
        }
    }
    cand[2] = hamf__strdup("/usr/share/hamf/deploy");
    cand[3] = hamf__strdup("./deploy");
    hamf_status st = hamf__err(HAMF_ERR_NOTFOUND,
                               "stack: cannot find deploy/ (give --deploy DIR or set HAMF_DEPLOY_DIR)");
    for (int i = 0; i < 4; i++) {
        if (cand[i] && is_deploy(cand[i])) {
            char *r = realpath(cand[i], NULL);
            *out = r ? hamf__strdup(r) : NULL;
            free(r);
            st = *out ? HAMF_OK : hamf__err(HAMF_ERR_NOMEM, "stack: out of memory");
            break;
        }
    }
    for (int i = 0; i < 4; i++) hamf__free(cand[i]);
    return st;
}

/* First executable among `names` on $PATH, /usr/bin, /usr/sbin. */
static char *find_exe(const char *const *names, size_t n)
{
    const char *path = getenv("PATH");
    char *dirs = hamf__asprintf("%s:/usr/bin:/usr/sbin", path ? path : "");
    if (!dirs) return NULL;
    char *found = NULL;
    for (size_t k = 0; k < n && !found; k++) {
        char *save = NULL, *copy = hamf__strdup(dirs);
        if (!copy) break;
        for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
            if (!*d) continue;
            char *p = hamf__asprintf("%s/%s", d, names[k]);
            if (p && access(p, X_OK) == 0) found = p;
            else hamf__free(p);
        }
        hamf__free(copy);
    }
    hamf__free(dirs);
    return found;
}

/* ---- processes ---- */

/* Start time (clock ticks since boot) of pid, 0 if it does not exist. */
static unsigned long long proc_start(pid_t pid)
{
    char p[64], buf[1024];
    snprintf(p, sizeof p, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(p, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *s = strrchr(buf, ')');
    if (!s) return 0;
    /* after ") ": field 3 (state) ... field 22 (starttime) */
    char state = s[2];
    if (state == 'Z' || state == 'X') return 0;
    s += 2;
    for (int field = 3; field < 22; field++) {
        s = strchr(s, ' ');
        if (!s) return 0;
        s++;
    }
    return strtoull(s, NULL, 10);
}

static hamf_status spawn(char *const argv[], const char *log, pid_t *out)
{
    int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0) return hamf__err(HAMF_ERR_IO, "stack: %s: %s", log, strerror(errno));
    int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (nullfd < 0) {
        close(logfd);
        return hamf__err(HAMF_ERR_IO, "stack: /dev/null: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(logfd);
        close(nullfd);
        return hamf__err(HAMF_ERR_IO, "stack: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        /* child: only async-signal-safe calls until exec */
        setsid();
        dup2(nullfd, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execv(argv[0], argv);
        static const char msg[] = "hamf stack: exec failed\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(127);
    }
    close(logfd);
    close(nullfd);
    *out = pid;
    return HAMF_OK;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Alive and ours: exists, not a zombie, same start time. Reaps our own
 * children that exited. */
static bool alive(pid_t pid, unsigned long long start)
{
    if (pid <= 0) return false;
    int wst;
    if (waitpid(pid, &wst, WNOHANG) == pid) return false;
    unsigned long long s = proc_start(pid);
    return s != 0 && (start == 0 || s == start);
}

static bool stop_pid(pid_t pid, unsigned long long start, double grace_s)
{
    if (!alive(pid, start)) return false;
    kill(pid, SIGTERM);
    double until = hamf__mono_seconds() + grace_s;
    while (hamf__mono_seconds() < until) {
        if (!alive(pid, start)) return true;
        sleep_ms(50);
    }
    if (alive(pid, start)) kill(pid, SIGKILL);
    for (int i = 0; i < 100 && alive(pid, start); i++) sleep_ms(20);
    return true;
}

static bool http_ok(CURL *c, const char *url)
{
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1000L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 500L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, NULL);
    FILE *devnull = fopen("/dev/null", "w");
    if (!devnull) return false;
    curl_easy_setopt(c, CURLOPT_WRITEDATA, devnull);
    long code = 0;
    bool ok = curl_easy_perform(c) == CURLE_OK && curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
              code >= 200 && code < 300;
    fclose(devnull);
    return ok;
}

/* ---- pid files ---- */

struct pidrec {
    pid_t pid;
    unsigned long long start;
    char url[128];
    char ready[160];
};

static hamf_status read_pidfile(const char *dir, int i, struct pidrec *r)
{
    memset(r, 0, sizeof *r);
    char *p = hamf__asprintf("%s/%s.pid", dir, comp_names[i]);
    if (!p) return hamf__err(HAMF_ERR_NOMEM, "stack: out of memory");
    FILE *f = fopen(p, "r");
    hamf__free(p);
    if (!f) return HAMF_OK; /* not started */
    long pid = 0;
    if (fscanf(f, "%ld %llu %127s %159s", &pid, &r->start, r->url, r->ready) < 2) pid = 0;
    fclose(f);
    r->pid = (pid_t)pid;
    return HAMF_OK;
}

static hamf_status write_pidfile(const char *dir, int i, const struct pidrec *r)
{
    char *p = hamf__asprintf("%s/%s.pid", dir, comp_names[i]);
    char *line = hamf__asprintf("%ld %llu %s %s\n", (long)r->pid, r->start, r->url, r->ready);
    hamf_status st = p && line ? write_file(p, line, strlen(line)) : hamf__err(HAMF_ERR_NOMEM, "stack: out of memory");
    hamf__free(p);
    hamf__free(line);
    return st;
}

static void remove_pidfile(const char *dir, int i)
{
    char *p = hamf__asprintf("%s/%s.pid", dir, comp_names[i]);
    if (p) unlink(p);
    hamf__free(p);
}

static void fill_comp(const char *dir, int i, const struct pidrec *r, hamf_stack_component *c)
{
    memset(c, 0, sizeof *c);
    c->name = comp_names[i];
    c->pid = r->pid;
    snprintf(c->url, sizeof c->url, "%s", r->url);
    snprintf(c->log, sizeof c->log, "%s/%s.log", dir, comp_names[i]);
}

/* ---- up / down / status ---- */

static hamf_status abs_dir(const char *dir, bool create, char **out)
{
    if (!dir || !*dir) return hamf__err(HAMF_ERR_MISUSE, "stack: no state directory");
    if (create) {
        hamf_status st = make_dir(dir);
        if (st) return st;
    }
    char *r = realpath(dir, NULL);
    if (!r) return hamf__err(HAMF_ERR_NOTFOUND, "stack: %s: %s", dir, strerror(errno));
    *out = hamf__strdup(r);
    free(r);
    return *out ? HAMF_OK : hamf__err(HAMF_ERR_NOMEM, "stack: out of memory");
}

/* The last line of a log file, for error messages. */
static void log_tail(const char *log, char *out, size_t n)
{
    out[0] = '\0';
    FILE *f = fopen(log, "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r')) line[--l] = '\0';
        if (l) { /* keep the last non-empty line, cut to fit */
            size_t k = l < n - 1 ? l : n - 1;
            memcpy(out, line, k);
            out[k] = '\0';
        }
    }
    fclose(f);
}

hamf_status hamf_stack_up(const hamf_stack_options *c, hamf_stack_component out[HAMF_STACK_N])
{
    hamf_status st;
    char *dir = NULL, *deploy = NULL, *prom_bin = NULL, *am_bin = NULL;
    char *argv_mem[HAMF_STACK_N][12];
    memset(argv_mem, 0, sizeof argv_mem);
    struct pidrec rec[HAMF_STACK_N];
    memset(rec, 0, sizeof rec);
    int started = 0;
    CURL *curl = NULL;

    if ((st = abs_dir(c->dir, true, &dir))) return st;
    for (int i = 0; i < HAMF_STACK_N; i++) {
        struct pidrec r;
        if ((st = read_pidfile(dir, i, &r))) goto cleanup;
        if (alive(r.pid, r.start)) {
            st = hamf__err(HAMF_ERR_EXISTS, "stack: already up in %s (%s is pid %ld); run 'hamf stack down' first",
                           dir, comp_names[i], (long)r.pid);
            goto cleanup;
        }
    }
    if ((st = hamf__stack_find_deploy(c->deploy_dir, c->hamf_exe, &deploy))) goto cleanup;
    static const char *const prom_names[] = {"prometheus"};
    static const char *const am_names[] = {"prometheus-alertmanager", "alertmanager"};
    prom_bin = find_exe(prom_names, 1);
    am_bin = find_exe(am_names, 2);
    if (!prom_bin || !am_bin) {
        st = hamf__err(HAMF_ERR_NOTFOUND, "stack: %s not found (apt-get install prometheus prometheus-alertmanager)",
                       !prom_bin ? "prometheus" : "prometheus-alertmanager");
        goto cleanup;
    }
    const int *port = c->port;
    for (int i = 0; i < HAMF_STACK_N; i++)
        for (int j = i + 1; j < HAMF_STACK_N; j++)
            if (port[i] == port[j]) {
                st = hamf__err(HAMF_ERR_CONSTRAINT, "stack: %s and %s cannot share port %d", comp_names[i],
                               comp_names[j], port[i]);
                goto cleanup;
            }

    /* 1. configs */
    struct subst ps[] = {
        {"127.0.0.1:5000", "", 0}, {"127.0.0.1:8000", "", 0}, {"127.0.0.1:9090", "", 0}, {"127.0.0.1:9093", "", 0},
    };
    snprintf(ps[0].to, sizeof ps[0].to, "127.0.0.1:%d", port[HAMF_STACK_SERVER]);
    snprintf(ps[1].to, sizeof ps[1].to, "127.0.0.1:%d", port[HAMF_STACK_EXPORTER]);
    snprintf(ps[2].to, sizeof ps[2].to, "127.0.0.1:%d", port[HAMF_STACK_PROMETHEUS]);
    snprintf(ps[3].to, sizeof ps[3].to, "127.0.0.1:%d", port[HAMF_STACK_ALERTMANAGER]);
    struct subst as[] = {{"http://127.0.0.1:5000/", "", 0}};
    snprintf(as[0].to, sizeof as[0].to, "http://127.0.0.1:%d/", port[HAMF_STACK_SERVER]);
    {
        char *src = hamf__asprintf("%s/prometheus/prometheus.yml", deploy);
        char *dst = hamf__asprintf("%s/prometheus.yml", dir);
        char *asrc = hamf__asprintf("%s/alertmanager/alertmanager.yml", deploy);
        char *adst = hamf__asprintf("%s/alertmanager.yml", dir);
        char *pdata = hamf__asprintf("%s/prometheus-data", dir), *adata = hamf__asprintf("%s/alertmanager-data", dir);
        if (!src || !dst || !asrc || !adst || !pdata || !adata) st = hamf__err(HAMF_ERR_NOMEM, "stack: out of memory");
        if (!st) st = render(src, dst, ps, HAMF_ARRAY_LEN(ps));
        if (!st) st = render(asrc, adst, as, HAMF_ARRAY_LEN(as));
        if (!st) st = copy_rules(deploy, dir);
        if (!st) st = make_dir(pdata);
        if (!st) st = make_dir(adata);
        hamf__free(src);
        hamf__free(dst);
        hamf__free(asrc);
        hamf__free(adst);
        hamf__free(pdata);
        hamf__free(adata);
        if (st) goto cleanup;
    }

    /* 2. command lines and readiness URLs */
    char portbuf[HAMF_STACK_N][16];
    for (int i = 0; i < HAMF_STACK_N; i++) snprintf(portbuf[i], sizeof portbuf[i], "%d", port[i]);
    char **a;
    a = argv_mem[HAMF_STACK_SERVER];
    a[0] = hamf__strdup(c->hamf_exe);
    a[1] = hamf__strdup("server");
    a[2] = hamf__strdup("--host=127.0.0.1");
    a[3] = hamf__asprintf("--port=%d", port[HAMF_STACK_SERVER]);
    a[4] = hamf__asprintf("--db=%s", c->db_url);
    a[5] = hamf__asprintf("--artifacts-dir=%s/mlartifacts", dir);
    a = argv_mem[HAMF_STACK_EXPORTER];
    a[0] = hamf__strdup(c->hamf_exe);
    a[1] = hamf__strdup("exporter");
    a[2] = hamf__asprintf("--tracking-uri=http://127.0.0.1:%d", port[HAMF_STACK_SERVER]);
    a[3] = hamf__strdup("--host=127.0.0.1");
    a[4] = hamf__asprintf("--port=%d", port[HAMF_STACK_EXPORTER]);
    a[5] = hamf__asprintf("--interval=%s", c->interval ? c->interval : "15s");
    a = argv_mem[HAMF_STACK_ALERTMANAGER];
    a[0] = hamf__strdup(am_bin);
    a[1] = hamf__asprintf("--config.file=%s/alertmanager.yml", dir);
    a[2] = hamf__asprintf("--storage.path=%s/alertmanager-data", dir);
    a[3] = hamf__asprintf("--web.listen-address=127.0.0.1:%d", port[HAMF_STACK_ALERTMANAGER]);
    a[4] = hamf__strdup("--cluster.listen-address=");
    a = argv_mem[HAMF_STACK_PROMETHEUS];
    a[0] = hamf__strdup(prom_bin);
    a[1] = hamf__asprintf("--config.file=%s/prometheus.yml", dir);
    a[2] = hamf__asprintf("--storage.tsdb.path=%s/prometheus-data", dir);
    a[3] = hamf__asprintf("--web.listen-address=127.0.0.1:%d", port[HAMF_STACK_PROMETHEUS]);
    static const int nargs[HAMF_STACK_N] = {6, 6, 5, 4};
    for (int i = 0; i < HAMF_STACK_N; i++)
        for (int k = 0; k < nargs[i]; k++)
            if (!argv_mem[i][k]) {
                st = hamf__err(HAMF_ERR_NOMEM, "stack: out of memory");
                goto cleanup;
            }
    static const char *const url_fmt[HAMF_STACK_N] = {"http://127.0.0.1:%d/", "http://127.0.0.1:%d/metrics",
                                                       "http://127.0.0.1:%d/", "http://127.0.0.1:%d/"};
    static const char *const ready_fmt[HAMF_STACK_N] = {
        "http://127.0.0.1:%d/api/2.0/mlflow/experiments/search?max_results=1", "http://127.0.0.1:%d/metrics",
        "http://127.0.0.1:%d/-/ready", "http://127.0.0.1:%d/-/ready"};
    for (int i = 0; i < HAMF_STACK_N; i++) {
        snprintf(rec[i].url, sizeof rec[i].url, url_fmt[i], port[i]);
        snprintf(rec[i].ready, sizeof rec[i].ready, ready_fmt[i], port[i]);
    }

    /* 3. start and wait, in order */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!(curl = curl_easy_init())) {
        st = hamf__err(HAMF_ERR_NOMEM, "stack: out of memory");
        goto cleanup;
    }
    double timeout = c->ready_timeout_s > 0 ? c->ready_timeout_s : 30;
    for (int i = 0; i < HAMF_STACK_N; i++) {
        char *log = hamf__asprintf("%s/%s.log", dir, comp_names[i]);
        if (!log) {
            st = hamf__err(HAMF_ERR_NOMEM, "stack: out of memory");
            goto cleanup;
        }
        /* a port already answering belongs to someone else: refuse */
        if (http_ok(curl, rec[i].ready) || http_ok(curl, rec[i].url)) {
            st = hamf__err(HAMF_ERR_EXISTS, "stack: port %d (%s) is already in use", port[i], comp_names[i]);
            hamf__free(log);
            goto cleanup;
        }
        st = spawn(argv_mem[i], log, &rec[i].pid);
        if (!st) {
            started = i + 1;
            for (int k = 0; k < 20 && !(rec[i].start = proc_start(rec[i].pid)); k++) sleep_ms(5);
            st = write_pidfile(dir, i, &rec[i]);
        }
        double until = hamf__mono_seconds() + timeout;
        while (!st) {
            if (http_ok(curl, rec[i].ready)) break;
            int wst;
            if (waitpid(rec[i].pid, &wst, WNOHANG) == rec[i].pid) {
                char tail[300];
                log_tail(log, tail, sizeof tail);
                st = hamf__err(HAMF_ERR_IO, "stack: %s exited (status %d) before it was ready; see %s: %s",
                               comp_names[i], WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst), log, tail);
                rec[i].pid = 0;
                break;
            }
            if (hamf__mono_seconds() > until) {
                st = hamf__err(HAMF_ERR_TIMEOUT, "stack: %s not ready at %s after %.0f s; see %s", comp_names[i],
                               rec[i].ready, timeout, log);
                break;
            }
            sleep_ms(100);
        }
        hamf__free(log);
        if (st) goto cleanup;
    }
    for (int i = 0; i < HAMF_STACK_N; i++) {
        fill_comp(dir, i, &rec[i], &out[i]);
        out[i].running = out[i].ready = true;
    }
cleanup:
    if (st) {
        for (int i = started - 1; i >= 0; i--) {
            stop_pid(rec[i].pid, rec[i].start, 5.0);
            remove_pidfile(dir, i);
        }
    }
    if (curl) curl_easy_cleanup(curl);
    for (int i = 0; i < HAMF_STACK_N; i++)
        for (int k = 0; k < 12; k++) hamf__free(argv_mem[i][k]);
    hamf__free(prom_bin);
    hamf__free(am_bin);
    hamf__free(deploy);
    hamf__free(dir);
    return st;
}

hamf_status hamf_stack_down(const char *dir_in, double grace_s, hamf_stack_component out[HAMF_STACK_N])
{
    char *dir = NULL;
    hamf_status st = abs_dir(dir_in, false, &dir);
    if (st) return st;
    for (int i = HAMF_STACK_N - 1; i >= 0; i--) {
        struct pidrec r;
        if ((st = read_pidfile(dir, i, &r))) break;
        fill_comp(dir, i, &r, &out[i]);
        out[i].running = stop_pid(r.pid, r.start, grace_s);
        remove_pidfile(dir, i);
    }
    hamf__free(dir);
    return st;
}

hamf_status hamf_stack_status(const char *dir_in, hamf_stack_component out[HAMF_STACK_N])
{
    char *dir = NULL;
    hamf_status st = abs_dir(dir_in, false, &dir);
    if (st) return st;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    for (int i = 0; i < HAMF_STACK_N; i++) {
        struct pidrec r;
        if ((st = read_pidfile(dir, i, &r))) break;
        fill_comp(dir, i, &r, &out[i]);
        out[i].running = alive(r.pid, r.start);
        out[i].ready = out[i].running && curl && r.ready[0] && http_ok(curl, r.ready);
    }
    if (curl) curl_easy_cleanup(curl);
    hamf__free(dir);
    return st;
}
