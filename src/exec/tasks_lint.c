/* tasks_lint.c — the `lint` built-in: pycodestyle issues and pyflakes
 * warnings over the package's Python sources, with rates per KLOC, as data
 * (a quality signal, never a failure). Runs inside the sandbox; neither
 * tool imports the code it reads. Neutral when there is no Python code. */
#include "exec/sbtask.h"
#include "exec/tasks_internal.h"
#include "common/jsonutil.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

pyti_task_status task_builtin_lint(pyti_task_ctx *ctx)
{
    const json_t *source = task_input(ctx, "source");
    const char *root = json_get_str(source, "root");
    if (!root)
        return task_error(ctx, "no 'source' item with a root");
    char *src = sbtask_inside_path(ctx->job, root);
    if (!src)
        return task_error(ctx, "the source tree %s is not in the job's work dir", root);
    const char *args[] = {"--source", src, NULL};
    json_t *res = NULL;
    pyti_task_status st = sbtask_helper(ctx, "lint", args, 0, &res);
    free(src);
    if (st != PYTI_TASK_PASSED || !res) {
        json_decref(res);
        return st == PYTI_TASK_PASSED ? task_error(ctx, "the lint helper reported nothing") : st;
    }
    const char *keys[] = {"python_files", "lines", "pycodestyle_issues", "pycodestyle_per_kloc",
                          "pycodestyle_codes", "pyflakes_warnings", "pyflakes_per_kloc", NULL};
    for (size_t i = 0; keys[i]; i++) {
        json_t *v = json_object_get(res, keys[i]);
        if (v)
            json_object_set(ctx->data, keys[i], v);
    }
    json_int_t files = json_integer_value(json_object_get(res, "python_files"));
    json_decref(res);
    if (files == 0)
        return task_neutral(ctx, "no Python files to check");
    return PYTI_TASK_PASSED;
}
