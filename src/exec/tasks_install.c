/* tasks_install.c — the `install` built-in: installs the wheel and its
 * staged dependencies (the `deps` item, when the recipe gives it) into
 * the job's venv with pyti's native installer (pkg/install.h), run inside
 * the sandbox: `pyti-core install` bound read-only at /pyti/bin, the
 * dependencies first (as pip installs them: no REQUESTED, no
 * direct_url.json), then the wheel. Why inside: the build ran package code
 * with /job/work writable, so the venv may hold symlinks planted to
 * redirect writes; inside the sandbox a redirected write can only reach
 * what the sandbox can (docs/installer.md). The installer writes what it
 * installed (from the RECORDs) to /job/out/install.json, read back without
 * following links. Installing runs no package code.
 *
 * A wheel the installer refuses (bad RECORD, unsafe paths, conflicts) is
 * the package's failure; an installer that cannot run is pyti's error.
 * Produces `installed` {name, version, top_level, files,
 * top_level_txt_not_installed}. */
#include "exec/sbtask.h"
#include "exec/tasks_internal.h"
#include "common/jsonutil.h"
#include "common/str.h"
#include "common/strv.h"
#include "common/xalloc.h"

#include <string.h>

pyti_task_status install_run_core(pyti_task_ctx *ctx, const pyti_strv *deps,
                                  const pyti_strv *wheels, bool direct_url, json_t **report)
{
    *report = NULL;
    pyti_strv argv = PYTI_STRV_INIT;
    strv_push(&argv, SB_CORE);
    strv_push(&argv, "install");
    strv_push(&argv, "--venv");
    strv_push(&argv, SB_VENV);
    strv_push(&argv, "--json");
    strv_push(&argv, SB_OUT "/install.json");
    strv_push(&argv, "--staging-dir");
    strv_push(&argv, "/tmp");
    /* pip replaces files another distribution installed; so does pyti here */
    strv_push(&argv, "--overwrite");
    if (!direct_url)
        strv_push(&argv, "--no-direct-url");
    for (size_t i = 0; deps && i < deps->len; i++) {
        strv_push(&argv, "--dependency");
        strv_push(&argv, deps->items[i]);
    }
    strv_extend(&argv, wheels);
    sbtask_opts o = {argv.items, NULL, NULL, 0};
    int code = -1;
    pyti_task_status st = sbtask_run(ctx, &o, &code);
    strv_free(&argv);
    if (st == PYTI_TASK_TIMEOUT || st == PYTI_TASK_ERROR)
        return st;
    pyti_error err;
    *report = sbtask_read_json(ctx, "install.json", &err);
    if (!*report)
        return task_error(ctx, "the installer did not report (exit status %d): %s", code,
                          err.msg);
    if (st != PYTI_TASK_PASSED && !json_object_get(*report, "error"))
        return task_error(ctx, "the installer exited with status %d without an error", code);
    return PYTI_TASK_PASSED;
}

pyti_task_status task_builtin_install(pyti_task_ctx *ctx)
{
    const json_t *wheel = task_input(ctx, "wheel");
    const json_t *deps = task_input(ctx, "deps");
    const char *path = json_get_str(wheel, "path");
    const char *filename = json_get_str(wheel, "filename");
    if (!path || !filename)
        return task_error(ctx, "no 'wheel' item with a path");
    pyti_strv dpaths = PYTI_STRV_INIT, wheels = PYTI_STRV_INIT;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(deps, "wheels"), i, d) {
        const char *p = json_string_value(d);
        if (p && (strncmp(p, SB_INPUT "/", strlen(SB_INPUT) + 1) == 0 ||
                  strncmp(p, SB_WHEELHOUSE "/", strlen(SB_WHEELHOUSE) + 1) == 0))
            strv_push(&dpaths, p);
    }
    size_t ndeps = dpaths.len;
    strv_push(&wheels, path);
    json_t *res = NULL;
    pyti_task_status st = install_run_core(ctx, &dpaths, &wheels, true, &res);
    strv_free(&dpaths);
    strv_free(&wheels);
    if (!res)
        return st;
    json_t *installed = json_object_get(res, "installed");
    json_t *summary = json_array();
    json_t *dist = NULL;
    json_array_foreach(installed, i, d) {
        json_t *e = json_object();
        json_object_set(e, "name", json_object_get(d, "name"));
        json_object_set(e, "version", json_object_get(d, "version"));
        json_object_set(e, "files", json_object_get(d, "files"));
        json_object_set(e, "dependency", json_object_get(d, "dependency"));
        json_array_append_new(summary, e);
        if (!json_is_true(json_object_get(d, "dependency")))
            dist = d;
    }
    json_object_set_new(ctx->data, "installer", json_string("pyti"));
    json_object_set_new(ctx->data, "installed", summary);
    json_object_set_new(ctx->data, "dependencies_installed", json_integer((json_int_t)ndeps));
    json_t *error = json_object_get(res, "error");
    if (error) {
        const char *ecode = json_get_str(error, "code");
        const char *msg = json_get_str(error, "message");
        json_object_set_new(ctx->data, "outcome", json_string("failed"));
        /* A refused wheel or a conflict is the package's doing; the file
         * system failing is not. */
        if (ecode && (strcmp(ecode, "io") == 0 || strcmp(ecode, "internal") == 0))
            st = task_error(ctx, "the installer failed: %s", msg ? msg : ecode);
        else
            st = task_fail(ctx, "does not install: %s", msg ? msg : "refused");
    } else if (st != PYTI_TASK_PASSED) {
        /* the reason is set */
    } else if (!json_is_object(dist) || !json_get_str(dist, "name")) {
        st = task_error(ctx, "the installer did not say what was installed");
    } else {
        json_object_set_new(ctx->data, "outcome", json_string("installed"));
        json_t *item = json_object();
        static const char *const keep[] = {"name", "version", "top_level", "files",
                                           "top_level_txt_not_installed", "dist_info", NULL};
        for (size_t k = 0; keep[k]; k++) {
            json_t *v = json_object_get(dist, keep[k]);
            if (v)
                json_object_set(item, keep[k], v);
        }
        json_object_set(ctx->data, "distribution", item);
        json_t *name;
        json_array_foreach(json_object_get(dist, "top_level_txt_not_installed"), i, name) {
            if (json_is_string(name) && i < 20)
                findings_add(&ctx->findings, "install.top-level-not-installed", PYTI_SEV_LOW,
                             "top_level.txt",
                             "top_level.txt names '%s', which the wheel does not install",
                             json_string_value(name));
        }
        task_produce(ctx, "installed", item);
        task_log(ctx, "installed %s %s and %zu dependencies natively",
                 json_get_str(dist, "name"), json_get_str(dist, "version"), ndeps);
        st = PYTI_TASK_PASSED;
    }
    json_decref(res);
    return st;
}
