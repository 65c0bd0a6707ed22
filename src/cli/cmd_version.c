/* cmd_version.c — `hamf version`: print the library version. */
#include "cli.h"

#include <string.h>

int cmd_version(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("Usage: hamf version\n\nPrint the hamf version.\n");
        return CLI_OK;
    }
    if (argc > 1) return cli_usage("version", "unexpected argument '%s'", argv[1]);
    printf("hamf %s\n", hamf_version());
    return CLI_OK;
}
