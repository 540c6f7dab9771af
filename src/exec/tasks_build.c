/* tasks_build.c — the `build` built-in: a PEP 517 build of a wheel from an
 * sdist, inside the sandbox, offline, in rounds with the host staging the
 * build requirements between them (docs/tasks.md, "Build rounds"):
 *
 *   1. sandbox: build.py prepare — copy the tree, read [build-system]
 *      (untrusted TOML is read only inside), make the isolated build env;
 *   2. host: resolve build-system.requires for the interpreter (the venv
 *      item's facts) against the job's indexes pooled with the local
 *      wheelhouse (the wheelhouse alone when the indexes cannot be
 *      reached), stage the wheels (staging.h);
 *   3. sandbox: build.py build — install them natively into the build env,
 *      ask get_requires_for_build_wheel (package code); if all it asks for
 *      is installed, build_wheel;
 *   4. otherwise host: resolve what it asked for, with step 2's set as
 *      installed, stage; sandbox: install those and build_wheel.
 *
 * A wheel needs no build: the task is neutral and passes the wheel on. The
 * built wheel is copied by pyti, without following links, into the job's
 * read-only input (/job/input/built/), so later package code cannot swap
 * it. A build requirement that cannot be staged is `error` (pyti's
 * limitation); a backend that fails is `failed`. Produces `wheel` {path,
 * filename, built}. */
#include "exec/pyfacts.h"
#include "exec/sbtask.h"
#include "exec/staging.h"
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

/* The data a sandbox run left in ctx->data, kept per round. */
static void keep_round(pyti_task_ctx *ctx, json_t *rounds, const char *phase, json_t *res)
{
    json_t *r = json_object();
    json_set_text(r, "phase", phase);
    json_object_set(r, "outcome", json_object_get(res, "outcome"));
    json_t *rs = json_object_get(ctx->data, "resources");
    if (rs)
        json_object_set(r, "resources", rs);
    json_array_append_new(rounds, r);
}

/* The venv item's facts, else the cached facts of the job's interpreter
 * (a recipe whose build does not need `venv`); NULL if neither. */
static json_t *target_facts(pyti_task_ctx *ctx)
{
    const json_t *venv = task_input(ctx, "venv");
    if (venv)
        return json_incref((json_t *)venv);
    return ctx->job->python ? pyfacts_cache_load(ctx->job->python) : NULL;
}

/* Stages reqs with inst counting as installed, appending the staged
 * files' inside paths to paths. *rec gets the staging record (also kept in
 * stagings). */
static bool stage_round(pyti_task_ctx *ctx, const json_t *facts, const pyti_strv *reqs,
                        const pyti_dist_metadata *inst, size_t ninst, json_t *stagings,
                        pyti_strv *paths, json_t **rec)
{
    pyti_stage_spec spec = {"build requirements", reqs, facts, inst, ninst, true, ctx, NULL};
    bool ok = false;
    *rec = staging_run(ctx->job, &spec, &ok);
    json_array_append(stagings, *rec);
    if (ok)
        staging_paths(*rec, paths);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(*rec, "staged"), i, e)
        task_log(ctx, "build requirement %s %s staged (%s)", json_get_str(e, "name"),
                 json_get_str(e, "version"), json_get_str(e, "index"));
    return ok;
}

static void json_to_strv(const json_t *a, pyti_strv *out)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) if (json_is_string(v)) strv_push(out, json_string_value(v));
}

void build_phase_args(pyti_strv *args, const char *hook, bool no_get_requires,
                      const pyti_strv *install)
{
    strv_free(args);
    const char *fixed[] = {"--phase", "build", "--work", SB_WORK, "--hook", hook};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        strv_push(args, fixed[i]);
    if (no_get_requires)
        strv_push(args, "--no-get-requires");
    for (size_t i = 0; i < install->len; i++) {
        strv_push(args, "--install");
        strv_push(args, install->items[i]);
    }
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
    json_t *facts = target_facts(ctx);
    if (!facts)
        return task_error(ctx, "no facts about the target interpreter: the build needs the "
                               "'venv' item to resolve its requirements");
    char *src = sbtask_inside_path(ctx->job, root);
    if (!src) {
        json_decref(facts);
        return task_error(ctx, "the source tree %s is not in the job's work dir", root);
    }
    json_t *rounds = json_array(), *stagings = json_array();
    json_object_set_new(ctx->data, "rounds", rounds);
    json_object_set_new(ctx->data, "staging", stagings);
    pyti_strv reqs = PYTI_STRV_INIT, paths = PYTI_STRV_INIT, args = PYTI_STRV_INIT;
    pyti_dist_metadata *inst = NULL;
    size_t ninst = 0;
    json_t *res = NULL, *rec = NULL;
    pyti_task_status st;

    /* 1. prepare */
    const char *pargs[] = {"--phase", "prepare", "--source", src, "--work", SB_WORK, NULL};
    st = sbtask_helper(ctx, "build", pargs, 0, &res);
    if (res)
        keep_round(ctx, rounds, "prepare", res);
    const char *outcome = json_get_str(res, "outcome");
    if (st == PYTI_TASK_TIMEOUT || st == PYTI_TASK_ERROR)
        goto out;
    if (!outcome || strcmp(outcome, "prepared") != 0)
        goto finish;
    static const char *const keep[] = {"backend", "requires", "build_system_from", NULL};
    for (size_t i = 0; keep[i]; i++) {
        json_t *v = json_object_get(res, keep[i]);
        if (v)
            json_object_set(ctx->data, keep[i], v);
    }
    /* 2. stage build-system.requires */
    json_to_strv(json_object_get(res, "requires"), &reqs);
    if (!stage_round(ctx, facts, &reqs, NULL, 0, stagings, &paths, &rec)) {
        /* pip refuses an invalid build-system.requires too: the package's */
        st = json_get_str(rec, "invalid_requirement")
                 ? task_fail(ctx, "%s", json_get_str(rec, "reason"))
                 : task_error(ctx, "%s", json_get_str(rec, "reason"));
        goto out;
    }
    /* 3. install, get_requires_for_build_wheel, build */
    for (int round = 0; round < 2; round++) {
        build_phase_args(&args, "wheel", round == 1, &paths);
        json_decref(res);
        res = NULL;
        st = sbtask_helper(ctx, "build", (const char *const *)args.items, 0, &res);
        if (res)
            keep_round(ctx, rounds, round ? "build" : "get-requires", res);
        if (st == PYTI_TASK_TIMEOUT || st == PYTI_TASK_ERROR)
            goto out;
        outcome = json_get_str(res, "outcome");
        json_t *extra = json_object_get(res, "extra_requires");
        if (extra)
            json_object_set(ctx->data, "extra_requires", extra);
        if (!outcome || strcmp(outcome, "needs-more") != 0)
            break;
        /* 4. the backend asked for more: stage it, with what step 2
         * staged counting as installed (so it stays). */
        strv_free(&reqs);
        json_to_strv(json_object_get(res, "missing"), &reqs);
        task_log(ctx, "the backend asks for %zu more build requirements", reqs.len);
        staging_as_installed(rec, &inst, &ninst);
        strv_free(&paths);
        if (!stage_round(ctx, facts, &reqs, inst, ninst, stagings, &paths, &rec)) {
            st = json_get_str(rec, "invalid_requirement")
                     ? task_fail(ctx, "%s", json_get_str(rec, "reason"))
                     : task_error(ctx, "%s", json_get_str(rec, "reason"));
            goto out;
        }
    }
finish:
    if (!res) {
        st = st == PYTI_TASK_PASSED ? task_error(ctx, "the build helper reported nothing") : st;
        goto out;
    }
    const char *reason = json_get_str(res, "reason");
    const char *tail = json_get_str(res, "log_tail");
    if (tail)
        task_log(ctx, "--- build log (tail)\n%s", tail);
    json_object_set(ctx->data, "outcome", json_object_get(res, "outcome"));
    if (reason)
        json_object_set(ctx->data, "reason", json_object_get(res, "reason"));
    if (!outcome)
        outcome = "error";
    if (strcmp(outcome, "built") == 0) {
        const char *wheel = json_get_str(res, "wheel");
        const char *filename = json_get_str(res, "filename");
        char *taken = NULL;
        json_object_set(ctx->data, "filename", json_object_get(res, "filename"));
        if (!wheel || !filename || take_wheel(ctx, wheel, filename, &taken, &err) != PYTI_OK)
            st = task_fail(ctx, "the build did not leave a usable wheel: %s",
                           wheel && filename ? err.msg : "no wheel named");
        else {
            task_produce(ctx, "wheel", wheel_item(taken, filename, true));
            task_log(ctx, "built %s with %s", filename, json_get_str(res, "backend"));
            st = PYTI_TASK_PASSED;
        }
        free(taken);
    } else if (strcmp(outcome, "needs-more") == 0) {
        st = task_error(ctx, "the backend still asks for %s after they were installed",
                        reason ? reason : "build requirements");
    } else if (strcmp(outcome, "failed") == 0) {
        st = task_fail(ctx, "%s", reason ? reason : "the build failed");
    } else {
        st = task_error(ctx, "the build helper failed: %s", reason ? reason : outcome);
    }
out:
    json_decref(res);
    json_decref(rec);
    json_decref(facts);
    pyfacts_installed_free(inst, ninst);
    strv_free(&reqs);
    strv_free(&paths);
    strv_free(&args);
    free(src);
    return st;
}
