/* tasks_import.c — the `import` built-in: imports every top-level module
 * the installed distribution provides, each in a fresh interpreter inside
 * the sandbox, recording success, time and error. Fails if any module
 * does not import; neutral if the distribution installs no module. */
#include "exec/sbtask.h"
#include "exec/tasks_internal.h"
#include "common/jsonutil.h"
#include "common/strv.h"
#include "common/xalloc.h"

#include <stdio.h>
#include <string.h>

#define MAX_MODULES 200

static bool module_name_ok(const char *m)
{
    if (!*m || strlen(m) > 200)
        return false;
    for (const char *c = m; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '.'))
            return false;
    return true;
}

pyti_task_status task_builtin_import(pyti_task_ctx *ctx)
{
    const json_t *inst = task_input(ctx, "installed");
    const json_t *tops = json_object_get(inst, "top_level");
    pyti_strv args = PYTI_STRV_INIT;
    strv_push(&args, "--python");
    strv_push(&args, SB_VENV_PYTHON);
    size_t i, n = 0;
    json_t *t;
    json_array_foreach(tops, i, t) {
        const char *m = json_string_value(t);
        if (m && module_name_ok(m) && n < MAX_MODULES) {
            strv_push(&args, "--module");
            strv_push(&args, m);
            n++;
        }
    }
    if (n == 0) {
        strv_free(&args);
        return task_neutral(ctx, "the distribution installs no importable top-level module");
    }
    json_t *res = NULL;
    pyti_task_status st = sbtask_helper(ctx, "importer", (const char *const *)args.items, 0, &res);
    strv_free(&args);
    if (st == PYTI_TASK_TIMEOUT || st == PYTI_TASK_ERROR || !res) {
        json_decref(res);
        return st == PYTI_TASK_PASSED ? task_error(ctx, "the import helper reported nothing") : st;
    }
    json_t *mods = json_object_get(res, "modules");
    json_object_set(ctx->data, "modules", json_is_array(mods) ? mods : json_array());
    size_t failed = 0, total = json_array_size(mods);
    const char *first = NULL, *first_err = NULL;
    json_t *m;
    json_array_foreach(mods, i, m) {
        if (!json_is_true(json_object_get(m, "ok"))) {
            if (!failed++) {
                first = json_get_str(m, "module");
                first_err = json_get_str(m, "error");
            }
        }
    }
    json_object_set_new(ctx->data, "imported", json_integer((json_int_t)(total - failed)));
    json_object_set_new(ctx->data, "failed", json_integer((json_int_t)failed));
    if (total == 0)
        st = task_error(ctx, "the import helper imported nothing");
    else if (failed)
        st = task_fail(ctx, "%zu of %zu module%s failed to import; first: %s (%s)", failed, total,
                       total == 1 ? "" : "s", first ? first : "?", first_err ? first_err : "?");
    else {
        task_log(ctx, "imported %zu module%s", total, total == 1 ? "" : "s");
        st = PYTI_TASK_PASSED;
    }
    json_decref(res);
    return st;
}
