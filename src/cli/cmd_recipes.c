/* cmd_recipes.c — `pyti recipes` (list) and `pyti recipe show NAME` (the
 * tasks in execution order, one per line, task name first). */
#include "cli/cli.h"
#include "common/strv.h"
#include "exec/taskgraph.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_recipes(int argc, char **argv, cli_globals *g)
{
    (void)g;
    const cli_command *self = cli_find_command("recipes");
    if (argc > 1) {
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
            cli_print_command_help(self, stdout);
            return EXIT_PASSED;
        }
        return cli_usage(self, "unexpected argument '%s'", argv[1]);
    }
    pyti_recipe_search search = cli_recipe_search();
    pyti_strv names = PYTI_STRV_INIT;
    recipe_list(&search, &names);
    int rc = EXIT_PASSED;
    for (size_t i = 0; i < names.len; i++) {
        pyti_error err;
        pyti_recipe *r = recipe_load(names.items[i], &search, &err);
        if (r) {
            printf("%-16s %s\n", r->name, r->description ? r->description : "");
            recipe_free(r);
        } else {
            printf("%-16s (broken: %s)\n", names.items[i], err.msg);
            rc = EXIT_USAGE;
        }
    }
    strv_free(&names);
    cli_recipe_search_free(&search);
    return rc;
}

static void print_list(const char *label, const pyti_strv *v)
{
    if (!v->len)
        return;
    char *j = strv_join(v, ",");
    printf("  %s=%s", label, j);
    free(j);
}

int cmd_recipe(int argc, char **argv, cli_globals *g)
{
    (void)g;
    const cli_command *self = cli_find_command("recipe");
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        cli_print_command_help(self, stdout);
        return EXIT_PASSED;
    }
    if (argc != 3 || strcmp(argv[1], "show") != 0)
        return cli_usage(self, "expected 'show NAME'");
    pyti_recipe_search search = cli_recipe_search();
    pyti_error err;
    pyti_recipe *r = recipe_load(argv[2], &search, &err);
    cli_recipe_search_free(&search);
    if (!r)
        return cli_fail(&err);
    pyti_plan *plan = plan_build(r, &err);
    if (!plan) {
        recipe_free(r);
        return cli_fail(&err);
    }
    for (size_t i = 0; i < plan_len(plan); i++) {
        const pyti_task_def *t = plan_task(plan, i);
        printf("%s", t->name);
        if (t->builtin)
            printf("  builtin=%s", t->builtin);
        else
            printf("  run=%s", t->run);
        print_list("requires", &t->requires);
        print_list("needs", &t->needs);
        print_list("produces", &t->produces);
        printf("  timeout=%gs\n", t->timeout_s);
    }
    plan_free(plan);
    recipe_free(r);
    return EXIT_PASSED;
}
