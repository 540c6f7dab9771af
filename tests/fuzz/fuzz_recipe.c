/* fuzz_recipe.c — libFuzzer target for the recipe loader and the task
 * graph: the input is written as a recipe file, loaded (with a user and a
 * shipped recipe directory holding a few recipes to include), planned, and
 * the plan is driven with outcomes taken from the input; then everything
 * is freed. A "parser out of step with inih" error (PYTI_ERR_INTERNAL)
 * counts as a crash: it means recipe.c misjudged how inih reads a line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "exec/recipe.h"
#include "exec/taskgraph.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *root, *user_dir, *shipped_dir, *input_path;

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        abort();
}

static void cleanup(void)
{
    if (root)
        path_rmtree(root, NULL);
}

static bool fake_is_builtin(const char *name)
{
    return strcmp(name, "extract") == 0 || strcmp(name, "metadata") == 0 ||
           strcmp(name, "lint") == 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    pyti_error err;
    root = path_mkdtemp(NULL, "pyti-fuzz-recipe-", &err);
    if (!root)
        abort();
    atexit(cleanup);
    user_dir = path_join(root, "user");
    shipped_dir = path_join(root, "shipped");
    if (path_mkdirs(user_dir, 0755, &err) != PYTI_OK ||
        path_mkdirs(shipped_dir, 0755, &err) != PYTI_OK)
        abort();
    static const char base[] =
        "[recipe]\ndescription = base\n"
        "[task extract]\nbuiltin = extract\nproduces = source\n"
        "[task metadata]\nbuiltin = metadata\nneeds = source\nproduces = metadata\n";
    static const char lint[] =
        "[recipe]\ninclude = base\n"
        "[task lint]\nbuiltin = lint\nrequires = extract\nneeds = source\n";
    char *p = path_join(shipped_dir, "base.ini");
    write_file(p, base, sizeof base - 1);
    free(p);
    p = path_join(user_dir, "lint.ini");
    write_file(p, lint, sizeof lint - 1);
    free(p);
    input_path = path_join(user_dir, "fuzz.ini");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Includes may name any path; keep the fuzzer away from files that
     * block or never end when read. */
    if (memmem(data, size, "proc", 4) || memmem(data, size, "sys", 3) ||
        memmem(data, size, "dev", 3))
        return 0;
    write_file(input_path, data, size);
    pyti_recipe_search search = {user_dir, shipped_dir, size % 2 ? fake_is_builtin : NULL};
    pyti_error err;
    pyti_recipe *r = recipe_load(size % 3 ? input_path : "fuzz", &search, &err);
    if (!r) {
        if (err.code == PYTI_ERR_INTERNAL) {
            fprintf(stderr, "internal error: %s\n", err.msg);
            abort();
        }
        if (err.code == PYTI_OK || !err.msg[0])
            abort(); /* failure without a message */
        return 0;
    }
    for (size_t i = 0; i < r->ntasks; i++) {
        const pyti_task_def *t = &r->tasks[i];
        if (!t->name || (!t->builtin == !t->run) || !(t->timeout_s > 0) || !t->file || !t->line)
            abort();
        if (recipe_find_task(r, t->name) != t)
            abort(); /* names are unique after merging */
        for (size_t j = 0; j < t->option_keys.len; j++) {
            if (!task_def_option(t, t->option_keys.items[j]))
                abort();
        }
    }
    pyti_plan *p = plan_build(r, &err);
    if (p) {
        size_t n = plan_len(p);
        if (n != r->ntasks)
            abort();
        for (size_t i = 0; i < n; i++) {
            size_t nd;
            const size_t *d = plan_deps(p, i, &nd);
            for (size_t j = 0; j < nd; j++) {
                if (d[j] >= i || (j && d[j - 1] >= d[j]))
                    abort(); /* not a topological order */
            }
            char *why = plan_skip_reason(p, i);
            pyti_task_status st;
            if (why)
                st = PYTI_TASK_SKIPPED;
            else
                st = (pyti_task_status)(PYTI_TASK_PASSED + data[i % size] % 6);
            free(why);
            const pyti_task_def *t = plan_task(p, i);
            pyti_strv produced = PYTI_STRV_INIT;
            for (size_t j = 0; j < t->produces.len; j++) {
                if ((data[(i + j) % size] >> 3) & 1)
                    strv_push(&produced, t->produces.items[j]);
            }
            plan_record(p, i, st, &produced);
            strv_free(&produced);
        }
        plan_free(p);
    } else if (err.code == PYTI_OK || !err.msg[0]) {
        abort();
    }
    recipe_free(r);
    return 0;
}
