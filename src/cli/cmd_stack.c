/* cmd_stack.c — `hamf stack up|down|status`: a local monitoring stack
 * (hamf server, hamf exporter, Prometheus, Alertmanager) run as detached
 * processes from a state directory, without Docker. Flag parsing and
 * printing only; the work is hamf_stack_up/_down/_status (hamf.h,
 * src/app/stack.c). */
#include "cli.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void help(void)
{
    printf("Usage: hamf stack up [--dir DIR] [--db URL] [--deploy DIR] [--interval 15s]\n"
           "                     [--server-port 5000] [--exporter-port 8000]\n"
           "                     [--prometheus-port 9090] [--alertmanager-port 9093]\n"
           "       hamf stack down [--dir DIR]\n"
           "       hamf stack status [--dir DIR]\n"
           "\n"
           "Run a local monitoring stack without Docker: hamf server (MLflow REST API and\n"
           "/metrics), hamf exporter (reading that server), Prometheus and Alertmanager\n"
           "(Debian's prometheus and prometheus-alertmanager), all on 127.0.0.1, started as\n"
           "detached processes. deploy/'s configs are rendered into DIR with these ports\n"
           "(same rules, routes and receivers); PIDs (DIR/<name>.pid), logs (DIR/<name>.log)\n"
           "and Prometheus/Alertmanager data live in DIR too. Grafana is not in Debian: point\n"
           "an existing Grafana at deploy/grafana/provisioning (see deploy/README.md).\n"
           "\n"
           "  up       render configs, start the four, wait until each answers, print URLs\n"
           "  down     stop them by PID: SIGTERM, then SIGKILL after 10 s\n"
           "  status   show each component up/down; exit 0 only when all four are up\n"
           "\n"
           "Options:\n"
           "  --dir DIR              state directory (default ./hamf-stack)\n"
           "  --db URL               store of hamf server (default $HAMF_DB, else ./hamf.db)\n"
           "  --deploy DIR           deploy/ directory (default $HAMF_DEPLOY_DIR, else the\n"
           "                         one beside the hamf binary's directory, else ./deploy)\n"
           "  --interval DURATION    exporter refresh period (default 15s)\n"
           "  --server-port N        hamf server (default 5000)\n"
           "  --exporter-port N      hamf exporter (default 8000)\n"
           "  --prometheus-port N    Prometheus (default 9090)\n"
           "  --alertmanager-port N  Alertmanager (default 9093)\n"
           "  -h, --help             show this help\n"
           "\n"
           "Alertmanager sends email and Slack as configured in deploy/alertmanager; their\n"
           "secrets are read from /etc/hamf/secrets (deploy/README.md, 'Secrets').\n");
}

static int parse_port(const char *flag, const char *v, int *out)
{
    long long p;
    if (!cli_parse_i64(v, &p) || p < 1 || p > 65535)
        return cli_usage("stack", "%s must be 1..65535, got '%s'", flag, v);
    *out = (int)p;
    return CLI_OK;
}

int cmd_stack(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'D'},
        {"db", required_argument, NULL, 'd'},
        {"deploy", required_argument, NULL, 'y'},
        {"interval", required_argument, NULL, 'i'},
        {"server-port", required_argument, NULL, 's'},
        {"exporter-port", required_argument, NULL, 'e'},
        {"prometheus-port", required_argument, NULL, 'p'},
        {"alertmanager-port", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    hamf_stack_options cfg = {.dir = "./hamf-stack", .interval = "15s"};
    cfg.port[HAMF_STACK_SERVER] = 5000;
    cfg.port[HAMF_STACK_EXPORTER] = 8000;
    cfg.port[HAMF_STACK_PROMETHEUS] = 9090;
    cfg.port[HAMF_STACK_ALERTMANAGER] = 9093;
    const char *db = NULL;
    bool up_only = false;
    int c, rc;
    optind = 1;
    while ((c = cli_getopt("stack", argc, argv, ":h", opts)) != -1) {
        switch (c) {
        case 'D':
            if (!*optarg) return cli_usage("stack", "--dir must not be empty");
            cfg.dir = optarg;
            break;
        case 'd': db = optarg; up_only = true; break;
        case 'y': cfg.deploy_dir = optarg; up_only = true; break;
        case 'i': {
            int64_t ms;
            if (hamf_duration_parse(optarg, &ms) != HAMF_OK)
                return cli_usage("stack", "--interval: %s", hamf_last_error());
            cfg.interval = optarg;
            up_only = true;
            break;
        }
        case 's': if ((rc = parse_port("--server-port", optarg, &cfg.port[HAMF_STACK_SERVER]))) return rc; up_only = true; break;
        case 'e': if ((rc = parse_port("--exporter-port", optarg, &cfg.port[HAMF_STACK_EXPORTER]))) return rc; up_only = true; break;
        case 'p': if ((rc = parse_port("--prometheus-port", optarg, &cfg.port[HAMF_STACK_PROMETHEUS]))) return rc; up_only = true; break;
        case 'a': if ((rc = parse_port("--alertmanager-port", optarg, &cfg.port[HAMF_STACK_ALERTMANAGER]))) return rc; up_only = true; break;
        case 'h': help(); return CLI_OK;
        case ':': return CLI_USAGE;
        default: return CLI_USAGE;
        }
    }
    if (optind >= argc) return cli_usage("stack", "missing action: up, down or status");
    const char *action = argv[optind];
    if (optind + 1 < argc) return cli_usage("stack", "unexpected argument '%s'", argv[optind + 1]);
    hamf_stack_component comp[HAMF_STACK_N];
    memset(comp, 0, sizeof comp);
    hamf_status st;

    if (!strcmp(action, "up")) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) return cli_fail("cannot find the hamf binary (/proc/self/exe)");
        exe[n] = '\0';
        cfg.hamf_exe = exe;
        /* the server runs in DIR's parent's view: make a relative store path absolute */
        const char *url = cli_db_url(db);
        char *abs = NULL;
        if (!strstr(url, "://") && url[0] != '/') {
            char cwd[PATH_MAX];
            if (!getcwd(cwd, sizeof cwd)) return cli_fail("getcwd failed");
            size_t len = strlen(cwd) + strlen(url) + 2;
            abs = malloc(len);
            if (!abs) return cli_fail("out of memory");
            snprintf(abs, len, "%s/%s", cwd, url);
            url = abs;
        }
        cfg.db_url = url;
        st = hamf_stack_up(&cfg, comp);
        free(abs);
        if (st) return cli_fail_status(st);
        printf("hamf stack: up (state, logs and PIDs in %s)\n", cfg.dir);
        for (int i = 0; i < HAMF_STACK_N; i++)
            printf("  %-13s %-32s pid %ld\n", comp[i].name, comp[i].url, (long)comp[i].pid);
        printf("Grafana: point it at deploy/grafana/provisioning with its Prometheus data source\n"
               "at %s (deploy/README.md). Stop with: hamf stack down --dir %s\n",
               comp[HAMF_STACK_PROMETHEUS].url, cfg.dir);
        return CLI_OK;
    }
    if (up_only) return cli_usage("stack", "only --dir applies to '%s'", action);
    if (!strcmp(action, "down")) {
        if ((st = hamf_stack_down(cfg.dir, 10.0, comp))) return cli_fail_status(st);
        int n = 0;
        for (int i = HAMF_STACK_N - 1; i >= 0; i--) {
            if (!comp[i].running) continue;
            printf("hamf stack: stopped %s (pid %ld)\n", comp[i].name, (long)comp[i].pid);
            n++;
        }
        if (!n) printf("hamf stack: nothing was running in %s\n", cfg.dir);
        return CLI_OK;
    }
    if (!strcmp(action, "status")) {
        if ((st = hamf_stack_status(cfg.dir, comp))) return cli_fail_status(st);
        int up = 0;
        for (int i = 0; i < HAMF_STACK_N; i++) {
            const char *state = comp[i].ready ? "up" : comp[i].running ? "starting" : "down";
            up += comp[i].ready;
            if (comp[i].running)
                printf("%-13s %-9s %-32s pid %ld\n", comp[i].name, state, comp[i].url, (long)comp[i].pid);
            else
                printf("%-13s %-9s %s\n", comp[i].name, state, comp[i].url[0] ? comp[i].url : "-");
        }
        return up == HAMF_STACK_N ? CLI_OK : CLI_FAIL;
    }
    return cli_usage("stack", "unknown action '%s' (use up, down or status)", action);
}
