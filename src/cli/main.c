/* main.c — pyti's entry point: global options, then dispatch to a
 * subcommand (see cli.h for the table, commands.c for the help texts). */
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
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    /* "+" stops at the first non-option: the command's own options follow. */
    while ((c = getopt_long(argc, argv, "+qvh", opts, NULL)) != -1) {
        switch (c) {
        case 'q': g.quiet = true; break;
        case 'v': g.verbose++; break;
        case 'c': g.config_path = optarg; break;
        case 'h': print_main_help(stdout); return EXIT_PASSED;
        case 'V': printf("pyti %s\n", PYTI_VERSION); return EXIT_PASSED;
        default:
            fprintf(stderr, "Try 'pyti --help'.\n");
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        print_main_help(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[optind];
    const cli_command *cmd = cli_find_command(name);
    if (!cmd) {
        fprintf(stderr, "pyti: unknown command '%s'. Try 'pyti --help'.\n", name);
        return EXIT_USAGE;
    }
    if (g.verbose > 1)
        log_set_level(PYTI_LOG_DEBUG);
    /* Subcommands parse argv from their own name, with getopt reset. */
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    optind = 0;
    return cmd->run(sub_argc, sub_argv, &g);
}
