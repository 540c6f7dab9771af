/* tasks_install.c — the `install` built-in: installs the wheel and its
 * dependencies offline into the job's venv, inside the sandbox (pip from
 * the wheelhouse, --no-index, with the job's staged files and the
 * wheelhouse as the only sources), and records what was installed.
 * A dependency that is not available offline is pyti's limitation
 * (error), not the package's failure. Produces `installed` {name,
 * version, top_level, files}. */
#include "exec/sbtask.h"
#include "exec/tasks_internal.h"
#include "exec/wheelhouse.h"
#include "common/jsonutil.h"
#include "common/str.h"
#include "pkg/name.h"

#include <string.h>

pyti_task_status task_builtin_install(pyti_task_ctx *ctx)
{
    const json_t *wheel = task_input(ctx, "wheel");
    const char *path = json_get_str(wheel, "path");
    const char *filename = json_get_str(wheel, "filename");
    if (!path || !filename)
        return task_error(ctx, "no 'wheel' item with a path");
    pyti_dist_filename fn;
    pyti_error err;
    if (dist_filename_parse(filename, &fn, &err) != PYTI_OK)
        return task_error(ctx, "%s", err.msg);
    if (wheelhouse_ensure(ctx->job->wheelhouse, &err) != PYTI_OK) {
        dist_filename_free(&fn);
        return task_error(ctx, "the local wheelhouse is unusable: %s", err.msg);
    }
    const char *args[] = {"--python", SB_VENV_PYTHON, "--wheelhouse", SB_WHEELHOUSE,
                          "--find-links", SB_INPUT, "--wheel", path, "--name", fn.name, NULL};
    json_t *res = NULL;
    pyti_task_status st = sbtask_helper(ctx, "install", args, 0, &res);
    dist_filename_free(&fn);
    if (st == PYTI_TASK_TIMEOUT || st == PYTI_TASK_ERROR || !res) {
        json_decref(res);
        return st == PYTI_TASK_PASSED ? task_error(ctx, "the install helper reported nothing") : st;
    }
    const char *outcome = json_get_str(res, "outcome");
    const char *reason = json_get_str(res, "reason");
    const char *tail = json_get_str(res, "log_tail");
    if (tail)
        task_log(ctx, "--- pip (tail)\n%s", tail);
    json_object_set(ctx->data, "outcome", json_object_get(res, "outcome"));
    json_t *installed = json_object_get(res, "installed");
    if (json_is_array(installed))
        json_object_set(ctx->data, "installed", installed);
    if (!outcome)
        outcome = "error";
    if (strcmp(outcome, "installed") == 0) {
        json_t *dist = json_object_get(res, "distribution");
        if (!json_is_object(dist) || !json_get_str(dist, "name")) {
            st = task_error(ctx, "the install helper did not say what was installed");
        } else {
            json_object_set(ctx->data, "distribution", dist);
            size_t i;
            json_t *name;
            json_array_foreach(json_object_get(dist, "top_level_txt_not_installed"), i, name) {
                if (json_is_string(name) && i < 20)
                    findings_add(&ctx->findings, "install.top-level-not-installed", PYTI_SEV_LOW,
                                 "top_level.txt",
                                 "top_level.txt names '%s', which the wheel does not install",
                                 json_string_value(name));
            }
            task_produce(ctx, "installed", json_deep_copy(dist));
            st = PYTI_TASK_PASSED;
        }
    } else if (strcmp(outcome, "unavailable") == 0) {
        st = task_error(ctx, "%s (pyti cannot stage dependencies from an index yet)",
                        reason ? reason : "a dependency is not available offline");
    } else if (strcmp(outcome, "failed") == 0) {
        st = task_fail(ctx, "%s", reason ? reason : "the wheel does not install");
    } else {
        st = task_error(ctx, "the install helper failed: %s", reason ? reason : outcome);
    }
    json_decref(res);
    return st;
}
