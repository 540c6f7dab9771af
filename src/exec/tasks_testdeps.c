/* tasks_testdeps.c — the `testdeps` built-in: finds the package's test
 * requirements, stages them on the host and installs them into the venv,
 * so that a test failing for a missing test dependency is not blamed on
 * the package. Sources, the first that declares any requirement is used
 * (docs/tasks.md):
 *
 *   1. extras    the package's extras test, tests, testing (its METADATA,
 *                read on the host from the wheel in the job's input)
 *   2. dependency-groups, requirements-files, tox.ini — found inside the
 *                sandbox by testreqs.py (untrusted files are read only there;
 *                sdists only: a wheel has no such files)
 *
 * The requirements are resolved together with the distribution (as an
 * installed one, with what the install task put in the venv and what the
 * venv sees installed), the missing wheels staged (staging.h) and
 * installed with the native installer inside the sandbox. The source used
 * — or that there is none — is recorded. Needs `venv`, `wheel`, `source`
 * (and `deps` when the recipe has it); produces `testdeps`. A requirement
 * that cannot be staged or installed is `error`; no test requirements is
 * `neutral`. */
#include "exec/pyfacts.h"
#include "exec/sbtask.h"
#include "exec/staging.h"
#include "exec/tasks_internal.h"
#include "common/jsonutil.h"
#include "common/str.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "pkg/name.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const TEST_EXTRAS[] = {"test", "tests", "testing", NULL};

/* The extras source: the test extras the distribution provides. */
static json_t *extras_source(const pyti_dist_metadata *self, pyti_strv *extras)
{
    for (size_t i = 0; TEST_EXTRAS[i]; i++)
        for (size_t k = 0; k < self->provides_extra.len; k++) {
            char *n = name_normalize(self->provides_extra.items[k]);
            if (strcmp(n, TEST_EXTRAS[i]) == 0)
                strv_push_unique(extras, TEST_EXTRAS[i]);
            free(n);
        }
    if (!extras->len)
        return NULL;
    json_t *s = json_object();
    json_set_text(s, "source", "extras");
    pyti_buf w = PYTI_BUF_INIT;
    buf_puts(&w, "METADATA Provides-Extra: ");
    for (size_t i = 0; i < extras->len; i++)
        buf_printf(&w, "%s%s", i ? ", " : "", extras->items[i]);
    json_object_set_new(s, "where", json_text(buf_cstr(&w)));
    buf_free(&w);
    json_t *reqs = json_array();
    for (size_t i = 0; i < extras->len; i++) {
        char *r = xasprintf("%s[%s]", self->name, extras->items[i]);
        json_array_append_new(reqs, json_text(r));
        free(r);
    }
    json_object_set_new(s, "requirements", reqs);
    return s;
}

/* Sources found by testreqs.py inside the sandbox, appended to sources. */
static pyti_task_status find_in_tree(pyti_task_ctx *ctx, const json_t *source, json_t *sources)
{
    char *src = sbtask_inside_path(ctx->job, json_get_str(source, "root"));
    if (!src)
        return task_error(ctx, "the source tree is not in the job's work dir");
    const char *args[] = {"--source", src, NULL};
    json_t *res = NULL;
    pyti_task_status st = sbtask_helper(ctx, "testreqs", args, 120, &res);
    free(src);
    if (st == PYTI_TASK_PASSED && res && json_get_str(res, "error"))
        st = task_error(ctx, "finding test requirements: %s", json_get_str(res, "error"));
    else if (st == PYTI_TASK_PASSED && !res)
        st = task_error(ctx, "the test requirements helper reported nothing");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(res, "found"), i, f) {
        const char *kind = json_get_str(f, "source");
        if (!kind || !json_is_array(json_object_get(f, "requirements")) || i >= 8)
            continue;
        json_t *s = json_object();
        json_set_text(s, "source", kind);
        json_set_text(s, "where", json_get_str(f, "where"));
        json_t *reqs = json_array(), *skipped = json_array();
        size_t k;
        json_t *r;
        json_array_foreach(json_object_get(f, "requirements"), k, r)
            if (json_is_string(r) && json_string_length(r) < 4096 && k < 500)
                json_array_append_new(reqs, json_text(json_string_value(r)));
        json_array_foreach(json_object_get(f, "skipped"), k, r)
            if (json_is_string(r) && json_string_length(r) < 4096 && k < 100)
                json_array_append_new(skipped, json_text(json_string_value(r)));
        json_object_set_new(s, "requirements", reqs);
        json_object_set_new(s, "skipped", skipped);
        json_array_append_new(sources, s);
    }
    json_decref(res);
    return st;
}

/* Installs the staged wheels into the venv with the native installer,
 * inside the sandbox. */
static pyti_task_status install_staged(pyti_task_ctx *ctx, const pyti_strv *paths)
{
    json_t *res = NULL;
    pyti_task_status st = install_run_core(ctx, NULL, paths, false, &res);
    json_t *e = json_object_get(res, "error");
    if (e)
        st = task_error(ctx, "the test requirements do not install: %s",
                        json_get_str(e, "message") ? json_get_str(e, "message") : "refused");
    json_decref(res);
    return st;
}

/* Whether a wheel's tree has a directory the test task would run (the
 * places tests.py looks for a wheel: test directories only). lstat, so a
 * link is not one; the tree is pyti's extraction, read-only to package
 * code. */
static bool wheel_has_tests(const json_t *source, const json_t *installed)
{
    const char *root = json_get_str(source, "root");
    if (!root)
        return false;
    static const char *const dirs[] = {"tests", "test", "testing", "src/tests", "src/test", NULL};
    pyti_strv cands = PYTI_STRV_INIT;
    for (size_t i = 0; dirs[i]; i++)
        strv_push(&cands, dirs[i]);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(installed, "top_level"), i, t) {
        const char *pkg = json_string_value(t);
        if (!pkg || strchr(pkg, '/') || i >= 100)
            continue;
        strv_push_owned(&cands, xasprintf("%s/tests", pkg));
        strv_push_owned(&cands, xasprintf("src/%s/tests", pkg));
        strv_push_owned(&cands, xasprintf("%s/test", pkg));
    }
    bool found = false;
    for (size_t k = 0; k < cands.len && !found; k++) {
        char *p = xasprintf("%s/%s", root, cands.items[k]);
        struct stat st;
        found = lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
        free(p);
    }
    strv_free(&cands);
    return found;
}

pyti_task_status task_builtin_testdeps(pyti_task_ctx *ctx)
{
    const json_t *venv = task_input(ctx, "venv");
    const json_t *wheel = task_input(ctx, "wheel");
    const json_t *source = task_input(ctx, "source");
    const json_t *deps = task_input(ctx, "deps");
    if (!venv || !wheel || !source)
        return task_error(ctx, "the testdeps task needs the 'venv', 'wheel' and 'source' items");
    const char *kind = json_get_str(source, "kind");
    bool is_wheel = kind && strcmp(kind, "wheel") == 0;
    if (is_wheel && !wheel_has_tests(source, task_input(ctx, "installed"))) {
        json_t *item = json_object();
        json_object_set_new(item, "source", json_null());
        task_produce(ctx, "testdeps", item);
        return task_neutral(ctx, "the wheel ships no test directory: no test requirements needed");
    }
    pyti_error err;
    pyti_dist_metadata self;
    if (deps_read_wheel_metadata(ctx->job, wheel, &self, &err) != PYTI_OK) {
        dist_metadata_free(&self);
        return task_error(ctx, "reading the wheel's metadata: %s", err.msg);
    }
    json_t *sources = json_array();
    json_object_set_new(ctx->data, "sources", sources);
    pyti_strv extras = PYTI_STRV_INIT, reqs = PYTI_STRV_INIT, paths = PYTI_STRV_INIT;
    pyti_dist_metadata *inst = NULL;
    size_t ninst = 0;
    json_t *rec = NULL;
    pyti_task_status st = PYTI_TASK_PASSED;
    json_t *ex = extras_source(&self, &extras);
    if (ex)
        json_array_append_new(sources, ex);
    if (!is_wheel) {
        st = find_in_tree(ctx, source, sources);
        if (st != PYTI_TASK_PASSED)
            goto out;
    }
    /* The first source that names any requirement. */
    json_t *used = NULL;
    size_t i;
    json_t *s;
    json_array_foreach(sources, i, s) {
        if (json_array_size(json_object_get(s, "requirements"))) {
            used = s;
            break;
        }
    }
    if (!used) {
        json_object_set_new(ctx->data, "used", json_null());
        json_t *item = json_object();
        json_object_set_new(item, "source", json_null());
        task_produce(ctx, "testdeps", item);
        st = task_neutral(ctx, "the package declares no test requirements (no test extra, "
                               "dependency group, requirements/test*.txt, test-requirements.txt "
                               "or tox.ini deps)");
        goto out;
    }
    json_object_set(ctx->data, "used", used);
    const char *used_kind = json_get_str(used, "source");
    task_log(ctx, "test requirements from %s (%s)", used_kind, json_get_str(used, "where"));
    if (strcmp(used_kind, "extras") == 0) {
        pyti_buf r = PYTI_BUF_INIT;
        buf_printf(&r, "%s[", self.name);
        for (size_t k = 0; k < extras.len; k++)
            buf_printf(&r, "%s%s", k ? "," : "", extras.items[k]);
        buf_printf(&r, "]===%s", self.version);
        strv_push_owned(&reqs, buf_detach(&r));
    } else {
        strv_push_owned(&reqs, xasprintf("%s===%s", self.name, self.version));
        json_t *r;
        json_array_foreach(json_object_get(used, "requirements"), i, r)
            strv_push(&reqs, json_string_value(r));
    }
    /* What the venv has: the distribution, what the install task put
     * there, then the system's. */
    inst = xcalloc(1, sizeof *inst);
    dist_metadata_copy(&inst[0], &self);
    ninst = 1;
    if (deps)
        staging_as_installed(deps, &inst, &ninst);
    pyti_dist_metadata *sys = NULL;
    size_t nsys = 0;
    if (pyfacts_installed(venv, &sys, &nsys, &err) != PYTI_OK) {
        st = task_error(ctx, "%s", err.msg);
        goto out;
    }
    inst = xreallocarray(inst, ninst + nsys + 1, sizeof *inst);
    memcpy(inst + ninst, sys, nsys * sizeof *sys);
    ninst += nsys;
    free(sys);
    pyti_stage_spec spec = {"test requirements", &reqs, venv, inst, ninst, false, ctx, NULL};
    bool ok = false;
    rec = staging_run(ctx->job, &spec, &ok);
    json_object_set(ctx->data, "staging", rec);
    if (!ok) {
        st = task_error(ctx, "%s", json_get_str(rec, "reason") ? json_get_str(rec, "reason")
                                                              : "the test requirements were not "
                                                                "staged");
        goto out;
    }
    staging_paths(rec, &paths);
    if (paths.len) {
        st = install_staged(ctx, &paths);
        if (st != PYTI_TASK_PASSED)
            goto out;
    }
    json_t *item = json_object();
    json_set_text(item, "source", used_kind);
    json_object_set(item, "requirements", json_object_get(used, "requirements"));
    json_object_set(item, "staged", json_object_get(rec, "staged"));
    task_produce(ctx, "testdeps", item);
    task_log(ctx, "%zu test requirements staged and installed, the rest satisfied by installed "
             "distributions", paths.len);
    st = PYTI_TASK_PASSED;
out:
    json_decref(rec);
    strv_free(&extras);
    strv_free(&reqs);
    strv_free(&paths);
    pyfacts_installed_free(inst, ninst);
    dist_metadata_free(&self);
    return st;
}
