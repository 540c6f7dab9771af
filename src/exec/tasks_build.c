/* tasks_build.c — the `build` built-in: a PEP 517 build of a wheel from an
 * sdist, inside the sandbox, offline, with build requirements from the
 * local wheelhouse (and the job's staged files). A wheel needs no build:
 * the task is neutral and passes the wheel on. The built wheel is copied
 * by pyti, without following links, into the job's read-only input
 * (/job/input/built/), so later package code cannot swap it. Produces
 * `wheel` {path, filename, built}. */
#include "exec/sbtask.h"
#include "exec/tasks_internal.h"
#include "exec/wheelhouse.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "pkg/name.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUILT_WHEEL_MAX (2ull << 30)

static json_t *wheel_item(const char *inside, const char *filename, bool built)
{
    json_t *w = json_object();
    json_set_text(w, "path", inside);
    json_set_text(w, "filename", filename);
    json_object_set_new(w, "built", json_boolean(built));
    return w;
}

/* Copies the built wheel (inside path, untrusted) to input/built/. */
static pyti_status take_wheel(pyti_task_ctx *ctx, const char *inside, const char *filename,
                              char **taken, pyti_error *err)
{
    pyti_dist_filename fn;
    if (strchr(filename, '/') || dist_filename_parse(filename, &fn, err) != PYTI_OK)
        return pyti_error_set(err, PYTI_ERR_INPUT, "the backend built '%s', not a wheel file name",
                              filename);
    bool wheel = fn.kind == PYTI_DIST_WHEEL;
    dist_filename_free(&fn);
    if (!wheel)
        return pyti_error_set(err, PYTI_ERR_INPUT, "the backend built '%s', not a wheel", filename);
    int in = sbtask_open_beneath(ctx->job, inside, err);
    if (in < 0)
        return PYTI_ERR_INPUT;
    char *dir = path_join(ctx->job->input_dir, "built");
    char *dest = path_join(dir, filename);
    pyti_status rc = path_mkdirs(dir, 0755, err);
    int out = rc == PYTI_OK ? open(dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644) : -1;
    if (rc == PYTI_OK && out < 0)
        rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "creating %s", dest);
    unsigned long long total = 0;
    while (rc == PYTI_OK) {
        ssize_t n = sendfile(out, in, NULL, 1 << 24);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "copying the built wheel");
        if (n <= 0)
            break;
        total += (unsigned long long)n;
        if (total > BUILT_WHEEL_MAX)
            rc = pyti_error_set(err, PYTI_ERR_LIMIT, "the built wheel is larger than 2 GiB");
    }
    close(in);
    if (out >= 0 && close(out) != 0 && rc == PYTI_OK)
        rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "writing %s", dest);
    if (rc != PYTI_OK && out >= 0)
        unlink(dest);
    if (rc == PYTI_OK)
        *taken = xasprintf(SB_INPUT "/built/%s", filename);
    free(dir);
    free(dest);
    return rc;
}

pyti_task_status task_builtin_build(pyti_task_ctx *ctx)
{
    const json_t *source = task_input(ctx, "source");
    const char *kind = json_get_str(source, "kind");
    const char *root = json_get_str(source, "root");
    if (!kind || !root)
        return task_error(ctx, "no 'source' item with a root and kind");
    if (strcmp(kind, "wheel") == 0) {
        char *inside = xasprintf(SB_INPUT "/%s", ctx->job->dist_filename);
        task_produce(ctx, "wheel", wheel_item(inside, ctx->job->dist_filename, false));
        free(inside);
        return task_neutral(ctx, "a wheel needs no build");
    }
    pyti_error err;
    if (wheelhouse_ensure(ctx->job->wheelhouse, &err) != PYTI_OK)
        return task_error(ctx, "the local wheelhouse is unusable: %s", err.msg);
    char *src = sbtask_inside_path(ctx->job, root);
    if (!src)
        return task_error(ctx, "the source tree %s is not in the job's work dir", root);
    const char *args[] = {"--source", src, "--work", SB_WORK, "--wheelhouse", SB_WHEELHOUSE,
                          "--find-links", SB_INPUT, NULL};
    json_t *res = NULL;
    pyti_task_status st = sbtask_helper(ctx, "build", args, 0, &res);
    free(src);
    if (st == PYTI_TASK_TIMEOUT || st == PYTI_TASK_ERROR) {
        json_decref(res);
        return st;
    }
    if (!res)
        return st == PYTI_TASK_PASSED ? task_error(ctx, "the build helper reported nothing") : st;
    static const char *const keep[] = {"backend", "requires", "extra_requires",
                                       "build_system_from", "outcome", "reason", "filename", NULL};
    for (size_t i = 0; keep[i]; i++) {
        json_t *v = json_object_get(res, keep[i]);
        if (v)
            json_object_set(ctx->data, keep[i], v);
    }
    const char *outcome = json_get_str(res, "outcome");
    const char *reason = json_get_str(res, "reason");
    const char *tail = json_get_str(res, "log_tail");
    if (tail)
        task_log(ctx, "--- build log (tail)\n%s", tail);
    if (!outcome)
        outcome = "error";
    if (strcmp(outcome, "built") == 0) {
        const char *wheel = json_get_str(res, "wheel");
        const char *filename = json_get_str(res, "filename");
        char *taken = NULL;
        if (!wheel || !filename || take_wheel(ctx, wheel, filename, &taken, &err) != PYTI_OK)
            st = task_fail(ctx, "the build did not leave a usable wheel: %s",
                           wheel && filename ? err.msg : "no wheel named");
        else {
            task_produce(ctx, "wheel", wheel_item(taken, filename, true));
            task_log(ctx, "built %s with %s", filename, json_get_str(res, "backend"));
            st = PYTI_TASK_PASSED;
        }
        free(taken);
    } else if (strcmp(outcome, "unavailable") == 0) {
        st = task_error(ctx, "%s (pyti cannot stage build requirements from an index yet)",
                        reason ? reason : "a build requirement is not available offline");
    } else if (strcmp(outcome, "failed") == 0) {
        st = task_fail(ctx, "%s", reason ? reason : "the build failed");
    } else {
        st = task_error(ctx, "the build helper failed: %s", reason ? reason : outcome);
    }
    json_decref(res);
    return st;
}
