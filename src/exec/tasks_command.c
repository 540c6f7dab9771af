/* tasks_command.c — command tasks (`run = ...` in a recipe): the command
 * line runs with /bin/sh -c inside the sandbox, in the unpacked source
 * tree when the task needs `source` (else /job/work), with the venv's bin
 * first on PATH. Passed on exit status 0, failed otherwise. */
#include "exec/sbtask.h"
#include "exec/tasks_internal.h"
#include "common/jsonutil.h"
#include "common/xalloc.h"

#include <stdlib.h>

pyti_task_status task_command(pyti_task_ctx *ctx)
{
    char *const argv[] = {"/bin/sh", "-c", ctx->def->run, NULL};
    const char *root = json_get_str(task_input(ctx, "source"), "root");
    char *cwd = root ? sbtask_inside_path(ctx->job, root) : NULL;
    sbtask_opts o = {argv, cwd, NULL, 0};
    int code = -1;
    pyti_task_status st = sbtask_run(ctx, &o, &code);
    json_object_set_new(ctx->data, "exit_code", json_integer(code));
    free(cwd);
    return st;
}
