/* cmd_server.c — `hamf server`: the MLflow-compatible tracking server
 * (REST API 2.0 subset and proxied artifacts) on the tracking store. Runs
 * until SIGTERM or SIGINT, then stops accepting, finishes the requests in
 * flight and exits 0. Optional HTTP basic auth (--auth-file) and the
 * `hamf server passwd` helper that writes its entries. */
#include "cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static void help(void)
{
    printf("Usage: hamf server [--host 127.0.0.1] [--port 5000] [--db URL] [--artifacts-dir DIR]\n"
           "                   [--default-artifact-root URI] [--max-artifact-bytes N]\n"
           "                   [--threads N] [--sync normal|full] [--retrain-data PATH]\n"
           "                   [--retrain-cooldown SECONDS] [--retrain-window N] [--retrain-min-gain X]\n"
           "                   [--auth-file FILE [--metrics-public] [--auth-max-failures N]] [--insecure]\n"
           "                   [--max-connections N] [--max-connections-per-ip N]\n"
           "                   [--header-timeout S] [--body-timeout S] [--wal-max-mb N]\n"
           "       hamf server passwd FILE USER\n"
           "\n"
           "Serve the MLflow tracking REST API (/api/2.0/mlflow/...) and proxied\n"
           "artifacts (/api/2.0/mlflow-artifacts/artifacts/...) from the hamf store, so\n"
           "MLflow clients, notebooks and scripts can log and read runs. Also answers\n"
           "GET /api/2.0/mlflow/runs/search?experiment_ids=... like the POST form, and\n"
           "every /api/2.0/mlflow/... route under /ajax-api/2.0/mlflow/... too (MLflow's\n"
           "web UI prefix), with the UI's extras: metrics/get-history-bulk(-interval),\n"
           "experiments/search-datasets, upload-artifact; /get-artifact and\n"
           "/model-versions/get-artifact download one file (as an attachment, with\n"
           "MLflow's MIME type for its name).\n"
           "The Model Registry API too (/api/2.0/mlflow/registered-models/... and\n"
           "/model-versions/...: versions, aliases, stages, tags, search), on the same\n"
           "registry as `hamf model versions`, `hamf retrain` and promote/rollback.\n"
           "Also serves:\n"
           "  /          the web UI (runs table, run pages with metric charts, artifacts,\n"
           "             #/models: registered models, versions, aliases, promotions)\n"
           "  /metrics   Prometheus metrics of the store's latest finished runs (the\n"
           "             exporter, started on the first scrape; refreshed every\n"
           "             $HAMF_METRICS_INTERVAL, default 15s)\n"
           "Every GET route answers HEAD too.\n"
           "\n"
           "Options:\n"
           "  --host HOST           address to bind (default 127.0.0.1, loopback only); a\n"
           "                        non-loopback address needs --auth-file or --insecure\n"
           "  --port N              TCP port (default 5000; 0 picks a free port)\n"
           "  --db URL              store: a path, sqlite:///abs/path or postgresql://...\n"
           "                        (default $HAMF_DB, else ./hamf.db)\n"
           "  --artifacts-dir DIR   root of uploaded artifacts (default ./mlartifacts)\n"
           "  --default-artifact-root URI\n"
           "                        give new experiments URI/<id> as artifact location\n"
           "                        (MLflow's flag): a local directory or file:// URI the\n"
           "                        clients write to directly (the server then serves it\n"
           "                        read-only through get-artifact and artifacts/list),\n"
           "                        or a remote URI. Default: mlflow-artifacts:/<id>,\n"
           "                        proxied into --artifacts-dir\n"
           "  --max-artifact-bytes N\n"
           "                        refuse an uploaded file larger than N bytes with 413\n"
           "                        (nothing of it is kept); default no limit\n"
           "  --threads N           HTTP worker threads (default 8)\n"
           "  --sync MODE           SQLite commits: 'normal' (default; WAL, an answered\n"
           "                        write survives kill -9 of the server, the newest ones\n"
           "                        may be lost on power loss) or 'full' (fsync every\n"
           "                        commit, shared by concurrent writers; also survives\n"
           "                        power loss)\n"
           "  --auth-file FILE      require HTTP basic auth on every request (API,\n"
           "                        artifacts, UI and /metrics): FILE holds 'user:hash'\n"
           "                        lines (yescrypt $y$ or sha512-crypt $6$; '#' comments);\n"
           "                        make entries with 'hamf server passwd'. Without valid\n"
           "                        credentials: 401 with WWW-Authenticate: Basic\n"
           "                        realm=\"hamf\" and {\"error_code\":\"UNAUTHENTICATED\"}.\n"
           "                        Read once at start; verified credentials are cached\n"
           "                        in memory (salted SHA-256, never the password) for 60 s.\n"
           "                        MLflow clients send them from MLFLOW_TRACKING_USERNAME\n"
           "                        and MLFLOW_TRACKING_PASSWORD (hamf too).\n"
           "  --auth-max-failures N with --auth-file: past N failed attempts from one\n"
           "                        client address within 60 s, that address gets 429\n"
           "                        with Retry-After (no password check) until the\n"
           "                        window ends; cached valid credentials still pass\n"
           "                        (default 10; 0 = no limit). An auth file readable by\n"
           "                        group or others is used with a warning.\n"
           "  --metrics-public      with --auth-file: leave /metrics open (for a\n"
           "                        Prometheus without credentials); default protected\n"
           "  --insecure            allow a non-loopback --host without --auth-file\n"
           "  --max-connections N   open connections at most (default 1024); more wait\n"
           "                        in the kernel's backlog\n"
           "  --max-connections-per-ip N\n"
           "                        open connections from one client address at most\n"
           "                        (default 256); more are closed at once\n"
           "  --header-timeout S    a request's line and headers must arrive within S\n"
           "                        seconds of the connection (or of the request line on\n"
           "                        a kept-alive one), however slowly bytes trickle in;\n"
           "                        else the connection is closed (default 10)\n"
           "  --wal-max-mb N        SQLite: checkpoint the WAL into the database once it\n"
           "                        holds N MiB (default 64), or a quarter of the free\n"
           "                        disk space if that is less; the WAL file is cut back\n"
           "                        to N MiB when it restarts\n"
           "  --body-timeout S      a request's body must arrive within S seconds of its\n"
           "                        headers (default 300). A kept-alive connection must\n"
           "                        send its next request within 60 s of an answer.\n"
           "                        Request line over 64 KiB or more than 1024 query\n"
           "                        arguments: 414; headers over 64 KiB: 431 (JSON body;\n"
           "                        past 128 KiB libmicrohttpd answers itself, HTML body)\n"
           "  --retrain-data PATH   new labelled data for alert-triggered retrains: a CSV\n"
           "                        file, a `hamf serve --log-dir` prediction log (its\n"
           "                        served rows with fed-back labels), or a directory\n"
           "                        whose newest *.csv is used\n"
           "  --retrain-cooldown S  no new retrain of a model within S seconds of its last\n"
           "                        one finishing (default 600)\n"
           "  --retrain-window N    train challengers on the last N rows (default all)\n"
           "  --retrain-min-gain X  accuracy points a challenger must gain (default 0)\n"
           "  -h, --help            show this help\n"
           "\n"
           "Closed loop: POST /api/hamf/v1/alerts takes Alertmanager webhook\n"
           "notifications (version 4); each firing ModelAccuracyLow, ModelF1Low or\n"
           "FeatureDriftHigh alert with a `model` label enqueues one retrain job for\n"
           "that model (once per alert group and firing episode, at most one queued or\n"
           "running per model, none during the cooldown). Jobs live in the store, so\n"
           "they survive a restart; a worker thread runs them like `hamf retrain`.\n"
           "GET /api/hamf/v1/jobs lists them (JSON).\n"
           "\n"
           "hamf server passwd FILE USER\n"
           "  Add USER to FILE or change its password (yescrypt, fresh salt; other lines\n"
           "  kept). The password is read from the terminal without echo (asked twice),\n"
           "  or as one line from stdin when it is not a terminal; never from the\n"
           "  command line. Empty passwords are refused. FILE is replaced atomically,\n"
           "  mode 0600.\n"
           "\n"
           "Prints 'listening on http://HOST:PORT' once ready. SIGTERM or SIGINT stops\n"
           "accepting, waits up to 30 s for requests in flight, and exits 0.\n");
}

/* One line of at most PASS_LINE-2 bytes from fd, without its line end;
 * false at EOF before any byte, on a read error or an over-long line. */
#define PASS_LINE 1100
static bool read_pass_line(FILE *f, char *buf)
{
    if (!fgets(buf, PASS_LINE, f)) return false;
    size_t n = strlen(buf);
    if (n == PASS_LINE - 1 && buf[n - 1] != '\n') return false;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
    return true;
}

/* Prompt on the terminal with echo off. Echo goes off before the prompt
 * appears and back on without flushing, so nothing typed is lost. */
static bool tty_pass(const char *prompt, char *buf)
{
    struct termios old, quiet;
    if (tcgetattr(STDIN_FILENO, &old)) return false;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &quiet)) return false;
    fputs(prompt, stderr);
    fflush(stderr);
    bool ok = read_pass_line(stdin, buf);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    fputc('\n', stderr);
    return ok;
}

static int cmd_passwd(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        help();
        return CLI_OK;
    }
    if (argc != 3)
        return cli_usage("server", "passwd takes FILE USER (the password is read from stdin, never argv)");
    const char *file = argv[1], *user = argv[2];
    char p1[PASS_LINE], p2[PASS_LINE];
    int rc;
    if (isatty(STDIN_FILENO)) {
        if (!tty_pass("Password: ", p1) || !tty_pass("Again: ", p2)) {
            rc = cli_fail("server passwd: no password read");
            goto out;
        }
        if (strcmp(p1, p2)) {
            rc = cli_fail("server passwd: the passwords differ");
            goto out;
        }
    } else if (!read_pass_line(stdin, p1)) {
        rc = cli_fail("server passwd: no password on stdin (one line, at most %d bytes)", PASS_LINE - 2);
        goto out;
    }
    hamf_status st = hamf_server_passwd_set(file, user, p1);
    rc = st ? cli_fail_status(st) : CLI_OK;
    if (!st) fprintf(stderr, "hamf server passwd: %s: password set for '%s'\n", file, user);
out:
    memset(p1, 0, sizeof p1);
    memset(p2, 0, sizeof p2);
    return rc;
}

int cmd_server(int argc, char **argv)
{
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'H'}, {"port", required_argument, NULL, 'p'},
        {"db", required_argument, NULL, 'd'},   {"artifacts-dir", required_argument, NULL, 'a'},
        {"threads", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {"retrain-data", required_argument, NULL, 'R'}, {"retrain-cooldown", required_argument, NULL, 'C'},
        {"retrain-window", required_argument, NULL, 'W'}, {"retrain-min-gain", required_argument, NULL, 'G'},
        {"sync", required_argument, NULL, 's'}, {"auth-file", required_argument, NULL, 'A'},
        {"metrics-public", no_argument, NULL, 'M'}, {"insecure", no_argument, NULL, 'I'},
        {"max-connections", required_argument, NULL, 1001}, {"max-connections-per-ip", required_argument, NULL, 1002},
        {"header-timeout", required_argument, NULL, 1003}, {"body-timeout", required_argument, NULL, 1004},
        {"auth-max-failures", required_argument, NULL, 1005}, {"wal-max-mb", required_argument, NULL, 1006},
        {"default-artifact-root", required_argument, NULL, 'D'}, {"max-artifact-bytes", required_argument, NULL, 'B'},
        {NULL, 0, NULL, 0},
    };
    hamf_server_options so;
    hamf_server_options_init(&so);
    const char *db = NULL;
    long long port = so.port, threads = so.threads;
    long long win, lv, max_art = 0, auth_max_failures = so.auth_max_failures;
    bool insecure = false;
    int c;
    if (argc > 1 && !strcmp(argv[1], "passwd")) return cmd_passwd(argc - 1, argv + 1);
    optind = 1;
    while ((c = cli_getopt("server", argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 'H': so.host = optarg; break;
        case 'p':
            if (!cli_parse_i64(optarg, &port) || port < 0 || port > 65535)
                return cli_usage("server", "--port must be 0..65535, got '%s'", optarg);
            break;
        case 'd': db = optarg; break;
        case 'a': so.artifacts_dir = optarg; break;
        case 't':
            if (!cli_parse_i64(optarg, &threads) || threads < 1 || threads > 256)
                return cli_usage("server", "--threads must be 1..256, got '%s'", optarg);
            break;
        case 's':
            if (!strcmp(optarg, "full")) so.sync_full = 1;
            else if (!strcmp(optarg, "normal")) so.sync_full = 0;
            else return cli_usage("server", "--sync must be 'normal' or 'full', got '%s'", optarg);
            break;
        case 'R': so.retrain_data = optarg; break;
        case 'C':
            if (!cli_parse_double(optarg, &so.retrain_cooldown_s) || so.retrain_cooldown_s < 0)
                return cli_usage("server", "--retrain-cooldown must be seconds >= 0, got '%s'", optarg);
            break;
        case 'W':
            if (!cli_parse_i64(optarg, &win) || win < 2)
                return cli_usage("server", "--retrain-window must be an integer >= 2, got '%s'", optarg);
            so.retrain_window = (size_t)win;
            break;
        case 'G':
            if (!cli_parse_double(optarg, &so.retrain_min_gain))
                return cli_usage("server", "--retrain-min-gain must be a number, got '%s'", optarg);
            break;
        case 'A': so.auth_file = optarg; break;
        case 'D': so.default_artifact_root = optarg; break;
        case 'B':
            if (!cli_parse_i64(optarg, &max_art) || max_art < 1)
                return cli_usage("server", "--max-artifact-bytes must be a number of bytes >= 1, got '%s'", optarg);
            break;
        case 'M': so.metrics_public = 1; break;
        case 'I': insecure = true; break;
        case 1001:
        case 1002:
            if (!cli_parse_i64(optarg, &lv) || lv < 1 || lv > 1000000)
                return cli_usage("server", "--%s must be 1..1000000, got '%s'",
                                 c == 1001 ? "max-connections" : "max-connections-per-ip", optarg);
            if (c == 1001) so.max_connections = (unsigned)lv;
            else so.max_connections_per_ip = (unsigned)lv;
            break;
        case 1003:
        case 1004:
            if (!cli_parse_i64(optarg, &lv) || lv < 1 || lv > 86400)
                return cli_usage("server", "--%s must be 1..86400 seconds, got '%s'",
                                 c == 1003 ? "header-timeout" : "body-timeout", optarg);
            if (c == 1003) so.header_timeout_s = (unsigned)lv;
            else so.body_timeout_s = (unsigned)lv;
            break;
        case 1006:
            if (!cli_parse_i64(optarg, &lv) || lv < 1 || lv > 1024 * 1024)
                return cli_usage("server", "--wal-max-mb must be 1..1048576, got '%s'", optarg);
            hamf_store_set_wal_limit((int64_t)lv * 1024 * 1024);
            break;
        case 1005:
            if (!cli_parse_i64(optarg, &auth_max_failures) || auth_max_failures < 0 || auth_max_failures > 1000000)
                return cli_usage("server", "--auth-max-failures must be 0..1000000, got '%s'", optarg);
            break;
        case 'h': help(); return CLI_OK;
        default: return CLI_USAGE;
        }
    }
    if (optind < argc) return cli_usage("server", "unexpected argument '%s'", argv[optind]);
    if (so.metrics_public && !so.auth_file) return cli_usage("server", "--metrics-public needs --auth-file");
    if (!so.auth_file && !insecure) {
        int loopback = 0;
        hamf_status hs = hamf_host_is_loopback(so.host, &loopback);
        if (hs) return cli_fail_status(hs);
        if (!loopback)
            return cli_usage("server",
                             "refusing to serve on non-loopback host '%s' without authentication: "
                             "give --auth-file FILE (see 'hamf server passwd'), or --insecure to serve it open",
                             so.host);
    }
    so.port = (int)port;
    so.threads = (int)threads;
    so.max_artifact_bytes = (uint64_t)max_art;
    so.auth_max_failures = (int)auth_max_failures;
    so.db_url = cli_db_url(db);

    /* Block the stop signals in every thread (the HTTP threads inherit the
     * mask) and take them synchronously below. */
    sigset_t set;
    cli_block_stop_signals(&set);

    /* checks the store, loads the auth file, starts the job runner */
    hamf_server *s = NULL;
    hamf_status st = hamf_server_start(&so, &s);
    if (st) return cli_fail_status(st);
    printf("hamf server: listening on http://%s:%d (store %s, artifacts %s%s)\n", so.host, hamf_server_port(s),
           so.db_url, so.artifacts_dir, so.auth_file ? ", basic auth" : (insecure ? ", NO AUTH (--insecure)" : ""));
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    printf("hamf server: %s received, finishing requests in flight\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    fflush(stdout);
    hamf_server_stop(s, 30.0);
    printf("hamf server: stopped\n");
    return CLI_OK;
}
