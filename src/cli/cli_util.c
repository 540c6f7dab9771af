/* cli_util.c — the helpers every subcommand shares that do not need the
 * command table: help and usage messages, exit codes for errors. Kept apart
 * from commands.c so that the front binary (front.c) links only what
 * `pyti sandbox` needs. */
#include "cli/cli.h"
#include "common/log.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

cli_globals_result cli_parse_globals(int argc, char **argv, cli_globals *g, int *command_index,
                                     bool print_errors)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    opterr = print_errors;
    int c;
    /* "+" stops at the first non-option: the command's own options follow. */
    while ((c = getopt_long(argc, argv, "+qvh", opts, NULL)) != -1) {
        switch (c) {
        case 'q': g->quiet = true; break;
        case 'v': g->verbose++; break;
        case 'c': g->config_path = optarg; break;
        case 'h': return CLI_GLOBALS_HELP;
        case 'V': return CLI_GLOBALS_VERSION;
        default: return CLI_GLOBALS_BAD_OPTION;
        }
    }
    opterr = 1;
    if (optind >= argc)
        return CLI_GLOBALS_NO_COMMAND;
    *command_index = optind;
    return CLI_GLOBALS_COMMAND;
}

void cli_print_command_help(const cli_command *c, FILE *out)
{
    fprintf(out, "usage: %s\n\n%s.\n", c->synopsis, c->summary);
    if (*c->help)
        fprintf(out, "\n%s", c->help);
}

int cli_exit_for(pyti_status st)
{
    switch (st) {
    case PYTI_OK: return EXIT_PASSED;
    case PYTI_ERR_INPUT:
    case PYTI_ERR_USAGE:
    case PYTI_ERR_NOTFOUND:
    case PYTI_ERR_LIMIT: return EXIT_USAGE;
    default: return EXIT_INTERNAL;
    }
}

int cli_fail(const pyti_error *err)
{
    log_error("%s", err->msg);
    return cli_exit_for(err->code);
}

int cli_usage(const cli_command *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pyti %s: ", c->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s\nTry 'pyti help %s'.\n", c->synopsis, c->name);
    return EXIT_USAGE;
}
