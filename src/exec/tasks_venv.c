/* tasks_venv.c — the `venv` built-in: a fresh virtual environment for the
 * job's interpreter at /job/work/venv, without pip, seeing the system's
 * site-packages unless the recipe says `system_site_packages = no` (so
 * the host's test tools — pytest, coverage, pycodestyle, pyflakes from
 * Debian — are available to the package's tests). Created inside the
 * sandbox by the in-sandbox helper, which also reports the interpreter's
 * facts (version, PEP 508 environment, wheel tags, scheme paths, the
 * distributions installed in the system site-packages). The costly facts
 * (tags, installed distributions) are cached on the host per interpreter
 * (pyfacts.h) and only asked for when the cache does not hold. Produces
 * `venv`: what the staging tasks resolve for. */
#include "exec/pyfacts.h"
#include "exec/sbtask.h"
#include "exec/tasks_internal.h"
#include "common/buf.h"
#include "common/hash.h"
#include "common/jsonutil.h"

#include <string.h>

/* The interpreter's wheel tags are ~1,000 strings (30 KiB, a third of a
 * report) that say nothing about the job: they are a fact of the worker's
 * interpreter, used by staging through the venv item. The report keeps
 * their count, the most specific one and a digest of the list (one tag a
 * line), which tells two workers' interpreters apart. */
static void summarize_tags(json_t *interp)
{
    const json_t *tags = json_object_get(interp, "tags");
    if (!json_is_array(tags))
        return;
    pyti_buf all = PYTI_BUF_INIT;
    size_t i;
    const json_t *t;
    json_array_foreach(tags, i, t) {
        buf_puts(&all, json_is_string(t) ? json_string_value(t) : "");
        buf_putc(&all, '\n');
    }
    char hex[PYTI_SHA256_HEX_LEN + 1];
    hash_sha256_hex(all.data ? all.data : "", all.len, hex);
    buf_free(&all);
    json_object_set_new(interp, "tags_count", json_integer((json_int_t)json_array_size(tags)));
    if (json_is_string(json_array_get(tags, 0)))
        json_object_set(interp, "tags_first", json_array_get(tags, 0));
    json_object_set_new(interp, "tags_sha256", json_string(hex));
    json_object_del(interp, "tags");
}

pyti_task_status task_builtin_venv(pyti_task_ctx *ctx)
{
    const char *ssp = task_def_option(ctx->def, "system_site_packages");
    bool system_site = !ssp || !(strcmp(ssp, "no") == 0 || strcmp(ssp, "false") == 0 ||
                                 strcmp(ssp, "0") == 0);
    json_t *cached = ctx->job->python ? pyfacts_cache_load(ctx->job->python) : NULL;
    const char *args[5] = {"--dest", SB_VENV};
    size_t n = 2;
    if (cached)
        args[n++] = "--no-facts";
    if (system_site)
        args[n++] = "--system-site-packages";
    json_t *res = NULL;
    pyti_task_status st = sbtask_helper(ctx, "venv", args, 0, &res);
    if (res && cached) {
        /* The cheap facts come fresh; the costly ones from the cache. */
        json_object_set(res, "tags", json_object_get(cached, "tags"));
        json_object_set(res, "installed", json_object_get(cached, "installed"));
    }
    if (res) {
        json_t *shown = json_deep_copy(res);
        json_object_del(shown, "installed"); /* long; the venv item has it */
        summarize_tags(shown);
        json_object_set_new(ctx->data, "interpreter", shown);
        json_object_set_new(ctx->data, "facts_cached", json_boolean(cached != NULL));
        const char *error = json_get_str(res, "error");
        if (error && st == PYTI_TASK_PASSED)
            st = task_error(ctx, "creating the venv: %s", error);
    }
    if (st == PYTI_TASK_PASSED && !res)
        st = task_error(ctx, "the venv helper reported nothing");
    pyti_target t;
    pyti_error err;
    if (st == PYTI_TASK_PASSED && pyfacts_target(res, &t, &err) != PYTI_OK)
        st = task_error(ctx, "%s", err.msg);
    else if (st == PYTI_TASK_PASSED)
        target_free(&t);
    if (st == PYTI_TASK_PASSED) {
        if (!cached)
            pyfacts_cache_store(ctx->job->python, res);
        json_t *venv = json_object();
        json_set_text(venv, "path", SB_VENV);
        json_set_text(venv, "python", SB_VENV_PYTHON);
        json_object_set(venv, "version", json_object_get(res, "version"));
        json_object_set(venv, "markers", json_object_get(res, "markers"));
        json_object_set(venv, "tags", json_object_get(res, "tags"));
        json_object_set(venv, "paths", json_object_get(res, "paths"));
        json_object_set_new(venv, "system_site_packages", json_boolean(system_site));
        /* What the venv sees installed (pip would too): only through the
         * system site-packages. */
        if (system_site)
            json_object_set(venv, "installed", json_object_get(res, "installed"));
        /* absent members were set to NULL above, which json drops: fine */
        task_produce(ctx, "venv", venv);
        task_log(ctx, "venv for Python %s at %s%s", json_get_str(res, "version"), SB_VENV,
                 cached ? " (interpreter facts from the cache)" : "");
    }
    json_decref(cached);
    json_decref(res);
    return st;
}
