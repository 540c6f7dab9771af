/* main.c — the entry point of pyti-core, the full command line: global
 * options, then dispatch to a subcommand (see cli.h for the table,
 * commands.c for the help texts). `pyti` itself is the small front
 * (front.c), which runs `pyti sandbox` and hands every other command to
 * this program. */
#include "cli/cli.h"
#include "common/log.h"
#include "pyti_config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_main_help(FILE *out)
{
    fprintf(out,
            "pyti %s — testing infrastructure for the Python Package Index\n"
            "\n"
            "usage: pyti [--quiet] [--verbose] [--config FILE] COMMAND [ARGS]\n"
            "\n"
            "commands:\n",
            PYTI_VERSION);
    for (const cli_command *c = cli_commands(); c->name; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out,
            "\n"
            "options:\n"
            "  -q, --quiet        no progress, only the verdict and errors\n"
            "  -v, --verbose      more detail (repeat for debug output)\n"
            "      --config FILE  settings file (default $XDG_CONFIG_HOME/pyti/pyti.ini)\n"
            "  -h, --help         this help; `pyti help COMMAND` for a command\n"
            "      --version      print the version\n"
            "\n"
            "exit codes: 0 passed, 1 the package failed or was flagged,\n"
            "            2 usage error or rejected input, 3 pyti's own failure\n");
}

int main(int argc, char **argv)
{
    cli_globals g = {0};
    int at = 0;
    switch (cli_parse_globals(argc, argv, &g, &at, true)) {
    case CLI_GLOBALS_COMMAND: break;
    case CLI_GLOBALS_HELP: print_main_help(stdout); return EXIT_PASSED;
    case CLI_GLOBALS_VERSION: printf("pyti %s\n", PYTI_VERSION); return EXIT_PASSED;
    case CLI_GLOBALS_NO_COMMAND: print_main_help(stderr); return EXIT_USAGE;
    case CLI_GLOBALS_BAD_OPTION:
        fprintf(stderr, "Try 'pyti --help'.\n");
        return EXIT_USAGE;
    }
    const char *name = argv[at];
    const cli_command *cmd = cli_find_command(name);
    if (!cmd) {
        fprintf(stderr, "pyti: unknown command '%s'. Try 'pyti --help'.\n", name);
        return EXIT_USAGE;
    }
    if (g.verbose > 1)
        log_set_level(PYTI_LOG_DEBUG);
    /* Subcommands parse argv from their own name, with getopt reset. */
    optind = 0;
    return cmd->run(argc - at, argv + at, &g);
}
