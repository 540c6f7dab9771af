/* cli.h — what the subcommands of the pyti command line share: the command
 * table, common options, exit codes, and small helpers to reach the rooms
 * below (configuration, recipes, store). src/cli/ only parses arguments
 * and prints; the work happens in src/exec, src/store and src/pkg. */
#ifndef PYTI_CLI_H
#define PYTI_CLI_H

#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>

#include "common/config.h"
#include "common/err.h"
#include "exec/recipe.h"
#include "store/store.h"

/* Exit codes of every pyti command (documented in docs/cli.md). */
enum {
    EXIT_PASSED = 0,   /* success / every task passed */
    EXIT_FLAGGED = 1,  /* the package failed a task or was flagged */
    EXIT_USAGE = 2,    /* usage error or rejected input */
    EXIT_INTERNAL = 3, /* pyti's own or the infrastructure's failure */
};

typedef struct cli_globals {
    bool quiet;
    int verbose;
    const char *config_path; /* --config, or NULL for the default */
} cli_globals;

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv, cli_globals *g);
    const char *synopsis; /* "pyti test TARGET [OPTIONS]" */
    const char *summary;  /* one line */
    const char *help;     /* the rest of `pyti help NAME` */
} cli_command;

/* What cli_parse_globals found before the command. */
typedef enum cli_globals_result {
    CLI_GLOBALS_COMMAND,    /* argv[*command_index] is the command's name */
    CLI_GLOBALS_HELP,       /* --help */
    CLI_GLOBALS_VERSION,    /* --version */
    CLI_GLOBALS_NO_COMMAND, /* nothing after the options */
    CLI_GLOBALS_BAD_OPTION, /* an unknown global option (getopt said so
                             * on stderr unless print_errors is false) */
} cli_globals_result;

/* Parses pyti's global options (-q, -v, --config, --help, --version) into
 * g. Leaves getopt's state for the caller to reset (optind = 0) before a
 * subcommand parses its own options. */
cli_globals_result cli_parse_globals(int argc, char **argv, cli_globals *g, int *command_index,
                                     bool print_errors);

/* The table, terminated by a NULL name. */
const cli_command *cli_commands(void);
const cli_command *cli_find_command(const char *name);
/* Prints `pyti help NAME` to out. */
void cli_print_command_help(const cli_command *c, FILE *out);

/* Maps an error status to an exit code (usage/input/not-found: 2, else 3). */
int cli_exit_for(pyti_status st);
/* Prints "pyti: error: <msg>" and returns cli_exit_for(err->code). */
int cli_fail(const pyti_error *err);
/* Prints a usage error for command c and returns EXIT_USAGE. */
int cli_usage(const cli_command *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Loads the configuration (--config or the default location). */
pyti_config *cli_load_config(const cli_globals *g, pyti_error *err);
/* The recipe search path: $XDG_CONFIG_HOME/pyti/recipes, then shipped.
 * Strings are owned by the returned struct; free with cli_recipe_search_free. */
pyti_recipe_search cli_recipe_search(void);
void cli_recipe_search_free(pyti_recipe_search *s);
/* Opens the store at --db, else [store] path in config, else the default. */
pyti_store *cli_open_store(const char *db_opt, const pyti_config *cfg, pyti_error *err);

/* $XDG_CONFIG_HOME/pyti/NAME: where pyti serve keeps the tokens it made
 * ("admin.token", "worker.token") and clients look for them. New string. */
char *cli_default_token_file(const char *name);

/* A client of the master at master_opt (else [client] master) with the
 * token of token_opt (else [client] token_file, else the admin.token file
 * pyti serve made, if any). NULL with err. */
struct mclient;
struct mclient *cli_master_client(const char *master_opt, const char *token_opt,
                                  const pyti_config *cfg, pyti_error *err);
/* Prints the master's error answer; returns the exit code for status. */
int cli_master_error(struct mclient *c, long status, const json_t *answer);

/* Subcommands. */
int cmd_test(int argc, char **argv, cli_globals *g);
int cmd_recipes(int argc, char **argv, cli_globals *g);
int cmd_recipe(int argc, char **argv, cli_globals *g);
int cmd_results(int argc, char **argv, cli_globals *g);
int cmd_report(int argc, char **argv, cli_globals *g);
int cmd_store(int argc, char **argv, cli_globals *g);
int cmd_resolve(int argc, char **argv, cli_globals *g);
int cmd_index(int argc, char **argv, cli_globals *g);
int cmd_install(int argc, char **argv, cli_globals *g);
int cmd_sandbox(int argc, char **argv, cli_globals *g);
int cmd_jobs(int argc, char **argv, cli_globals *g);
int cmd_help(int argc, char **argv, cli_globals *g);
int cmd_wheelhouse(int argc, char **argv, cli_globals *g);
int cmd_serve(int argc, char **argv, cli_globals *g);
int cmd_worker(int argc, char **argv, cli_globals *g);
int cmd_submit(int argc, char **argv, cli_globals *g);

#endif
