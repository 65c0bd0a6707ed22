/*
 * main.c — `hamf <verb> ...`: finds the verb in commands.def and hands it
 * the remaining arguments. Exit codes: 0 ok, 1 failure, 2 usage error.
 */
#include "cli.h"

#include <string.h>

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
#define CMD(name, summary) {#name, cmd_##name, summary},
#include "commands.def"
#undef CMD
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: hamf <command> [options]\n"
            "\n"
            "hamf runs the HAMF workflow for a phishing-detection model: a metadata\n"
            "registry, preprocessing, training, tracking and monitoring.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "Global environment:\n"
            "  HAMF_DB      store URL when --db is not given (default ./hamf.db);\n"
            "               a path, sqlite:///abs/path, or postgresql://...\n"
            "\n"
            "Run 'hamf <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *verb = argv[1];
    if (!strcmp(verb, "--help") || !strcmp(verb, "-h") || !strcmp(verb, "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(verb, "--version")) verb = "version";
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(commands[i].name, verb)) {
            cli_set_verb(commands[i].name);
            return commands[i].fn(argc - 1, argv + 1);
        }
    fprintf(stderr, "hamf: unknown command '%s'\nTry 'hamf --help'.\n", verb);
    return CLI_USAGE;
}
