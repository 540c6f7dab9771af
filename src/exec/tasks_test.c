/* tasks_test.c — the `test` built-in: runs the package's own tests the way
 * its authors run them (pytest with the project's configuration, else
 * unittest discovery), from a copy of the source tree, against the
 * installed package, inside the sandbox. Counts come from JUnit XML or
 * unittest's result. No tests found is `neutral`, never passed; tests that
 * cannot run because a test dependency is missing are pyti's limitation
 * (`error`, with the modules named), not the package's failure. */
#include "exec/sbtask.h"
#include "exec/tasks_internal.h"
#include "common/jsonutil.h"
#include "common/strv.h"
#include "common/xalloc.h"

#include <stdio.h>
#include <string.h>

static long long count(const json_t *counts, const char *key)
{
    return (long long)json_integer_value(json_object_get(counts, key));
}

pyti_task_status task_builtin_test(pyti_task_ctx *ctx)
{
    const json_t *source = task_input(ctx, "source");
    const json_t *inst = task_input(ctx, "installed");
    const char *root = json_get_str(source, "root");
    if (!root)
        return task_error(ctx, "no 'source' item with a root");
    char *src = sbtask_inside_path(ctx->job, root);
    if (!src)
        return task_error(ctx, "the source tree %s is not in the job's work dir", root);
    pyti_strv args = PYTI_STRV_INIT;
    strv_push(&args, "--python");
    strv_push(&args, SB_VENV_PYTHON);
    strv_push(&args, "--source");
    strv_push(&args, src);
    strv_push(&args, "--work");
    strv_push(&args, SB_WORK);
    const char *kind = json_get_str(source, "kind");
    strv_push(&args, "--kind");
    strv_push(&args, kind && strcmp(kind, "wheel") == 0 ? "wheel" : "sdist");
    /* Leave the helper a little time to report after the tests' own limit. */
    double limit = ctx->def->timeout_s > 60 ? ctx->def->timeout_s - 30 : ctx->def->timeout_s * 0.8;
    strv_push_owned(&args, xasprintf("--timeout=%g", limit));
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(inst, "top_level"), i, t) {
        if (json_is_string(t) && i < 100) {
            strv_push(&args, "--package");
            strv_push(&args, json_string_value(t));
        }
    }
    free(src);
    json_t *res = NULL;
    pyti_task_status st = sbtask_helper(ctx, "tests", (const char *const *)args.items, 0, &res);
    strv_free(&args);
    if (st == PYTI_TASK_TIMEOUT || st == PYTI_TASK_ERROR || !res) {
        json_decref(res);
        return st == PYTI_TASK_PASSED ? task_error(ctx, "the test helper reported nothing") : st;
    }
    static const char *const keep[] = {"runner", "counts", "failed_tests", "collection_errors",
                                       "missing_test_dependencies", "pytest_config", "testpaths",
                                       "targets", "start_dir", "outcome", NULL};
    for (size_t k = 0; keep[k]; k++) {
        json_t *v = json_object_get(res, keep[k]);
        if (v)
            json_object_set(ctx->data, keep[k], v);
    }
    const char *outcome = json_get_str(res, "outcome");
    const char *reason = json_get_str(res, "reason");
    const char *runner = json_get_str(res, "runner");
    const json_t *c = json_object_get(res, "counts");
    if (!outcome)
        outcome = "error";
    if (strcmp(outcome, "passed") == 0) {
        st = PYTI_TASK_PASSED;
        task_log(ctx, "%s: %lld passed, %lld skipped", runner ? runner : "tests",
                 count(c, "passed"), count(c, "skipped"));
    } else if (strcmp(outcome, "failed") == 0) {
        st = task_fail(ctx, "%s: %lld failed, %lld errors, %lld collection errors, %lld passed",
                       runner ? runner : "tests", count(c, "failures"), count(c, "errors"),
                       count(c, "collection_errors"), count(c, "passed"));
    } else if (strcmp(outcome, "none") == 0) {
        st = task_neutral(ctx, "%s", reason ? reason : "no tests found");
    } else if (strcmp(outcome, "missing-dependencies") == 0) {
        /* Not blamed on the package: its declared test requirements were
         * staged (testdeps), so these are undeclared or named otherwise. */
        const json_t *td = task_input(ctx, "testdeps");
        const char *from = json_get_str(td, "source");
        st = task_error(ctx, "%s (%s%s)", reason ? reason : "test dependencies are missing",
                        from ? "not provided by the test requirements staged from " : "",
                        from ? from : "the package declares no test requirements pyti could "
                                      "stage");
    } else if (strcmp(outcome, "timeout") == 0) {
        st = task_timeout(ctx, "the test run exceeded %g s", limit);
    } else {
        st = task_error(ctx, "the test helper failed: %s", reason ? reason : outcome);
    }
    json_decref(res);
    return st;
}
