/* tasks_venv.c — the `venv` built-in: a fresh virtual environment for the
 * job's interpreter at /job/work/venv, without pip, seeing the system's
 * site-packages unless the recipe says `system_site_packages = no` (so
 * the host's test tools — pytest, coverage, pycodestyle, pyflakes from
 * Debian — are available to the package's tests). Created inside the
 * sandbox by the in-sandbox helper, which also reports the interpreter's
 * facts (version, PEP 508 environment, wheel tags, scheme paths). Produces
 * `venv`. */
#include "exec/sbtask.h"
#include "exec/tasks_internal.h"
#include "common/jsonutil.h"

#include <string.h>

pyti_task_status task_builtin_venv(pyti_task_ctx *ctx)
{
    const char *ssp = task_def_option(ctx->def, "system_site_packages");
    bool system_site = !ssp || !(strcmp(ssp, "no") == 0 || strcmp(ssp, "false") == 0 ||
                                 strcmp(ssp, "0") == 0);
    const char *args[] = {"--dest", SB_VENV, system_site ? "--system-site-packages" : NULL, NULL};
    json_t *res = NULL;
    pyti_task_status st = sbtask_helper(ctx, "venv", args, 0, &res);
    if (res) {
        json_object_set(ctx->data, "interpreter", res);
        const char *error = json_get_str(res, "error");
        if (error && st == PYTI_TASK_PASSED)
            st = task_error(ctx, "creating the venv: %s", error);
    }
    if (st == PYTI_TASK_PASSED && !res)
        st = task_error(ctx, "the venv helper reported nothing");
    if (st == PYTI_TASK_PASSED) {
        json_t *venv = json_object();
        json_set_text(venv, "path", SB_VENV);
        json_set_text(venv, "python", SB_VENV_PYTHON);
        json_object_set(venv, "version", json_object_get(res, "version"));
        json_object_set(venv, "markers", json_object_get(res, "markers"));
        json_object_set(venv, "tags", json_object_get(res, "tags"));
        json_object_set(venv, "paths", json_object_get(res, "paths"));
        json_object_set_new(venv, "system_site_packages", json_boolean(system_site));
        /* absent members were set to NULL above, which json drops: fine */
        task_produce(ctx, "venv", venv);
        task_log(ctx, "venv for Python %s at %s", json_get_str(res, "version"), SB_VENV);
    }
    json_decref(res);
    return st;
}
