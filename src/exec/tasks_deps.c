/* tasks_deps.c — the `deps` built-in: stages the dependencies of the wheel
 * to install (the distribution itself, or the wheel the build made), on
 * the host, before the install task needs them. Reads the wheel's METADATA
 * (the wheel lies in the job's input, which package code cannot change),
 * resolves `name[extras]===version` with the wheel as an installed
 * distribution (so only its dependencies are chosen, and a dependency
 * cycling back to it is satisfied by it) for the interpreter the venv
 * task described, with what the venv sees installed, against the job's
 * indexes; downloads the chosen wheels into /job/input/deps/ (staging.h).
 * Runs no package code.
 *
 * Options: `extras = a, b` (the distribution's extras to install too).
 * Needs `venv`, `wheel`; produces `deps` {wheels, staged, installed}.
 * Fails only when the wheel's Requires-Python excludes the interpreter
 * (pip refuses to install it); a dependency that cannot be staged
 * (unreachable index, no satisfying version, only an sdist) is `error`:
 * pyti's limitation, never the package's failure. */
#include "exec/pyfacts.h"
#include "exec/sbtask.h"
#include "exec/staging.h"
#include "exec/tasks_internal.h"
#include "common/jsonutil.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "index/index.h"
#include "pkg/name.h"
#include "pkg/specifier.h"
#include "pkg/version.h"

#include <stdlib.h>
#include <string.h>

/* Reads the metadata of the wheel item (a file in the job's input). */
pyti_status deps_read_wheel_metadata(const pyti_job *job, const json_t *wheel,
                                     pyti_dist_metadata *out, pyti_error *err)
{
    memset(out, 0, sizeof *out);
    const char *path = json_get_str(wheel, "path");
    const char *filename = json_get_str(wheel, "filename");
    if (!path || !filename || strncmp(path, SB_INPUT "/", strlen(SB_INPUT) + 1) != 0)
        return pyti_error_set(err, PYTI_ERR_INTERNAL,
                              "the 'wheel' item is not a file in the job's input");
    char *host = sbtask_host_path(job, path);
    if (!host)
        return pyti_error_set(err, PYTI_ERR_INTERNAL, "%s is not in the job's input", path);
    char *text = NULL;
    size_t len = 0;
    pyti_status st = index_read_dist_metadata(host, filename, &text, &len, err);
    if (st == PYTI_OK)
        st = index_metadata_from_text(text, len, filename, false, out, NULL, err);
    free(text);
    free(host);
    return st;
}

/* "name[a,b]===version" for the wheel, extras from the option. */
static char *self_requirement(const pyti_dist_metadata *m, const char *extras_opt)
{
    pyti_buf b = PYTI_BUF_INIT;
    buf_puts(&b, m->name);
    if (extras_opt && !str_blank(extras_opt)) {
        char *copy = xstrdup(extras_opt);
        bool first = true;
        for (char *tok = strtok(copy, ", "); tok; tok = strtok(NULL, ", ")) {
            buf_puts(&b, first ? "[" : ",");
            buf_puts(&b, tok);
            first = false;
        }
        if (!first)
            buf_putc(&b, ']');
        free(copy);
    }
    buf_printf(&b, "===%s", m->version);
    return buf_detach(&b);
}

pyti_task_status task_builtin_deps(pyti_task_ctx *ctx)
{
    const json_t *venv = task_input(ctx, "venv");
    const json_t *wheel = task_input(ctx, "wheel");
    if (!venv || !wheel)
        return task_error(ctx, "the deps task needs the 'venv' and 'wheel' items");
    pyti_error err;
    pyti_dist_metadata self;
    if (deps_read_wheel_metadata(ctx->job, wheel, &self, &err) != PYTI_OK) {
        dist_metadata_free(&self);
        return task_error(ctx, "reading the wheel's metadata: %s", err.msg);
    }
    json_t *dist = json_object();
    json_set_text(dist, "name", self.name);
    json_set_text(dist, "version", self.version);
    json_set_text(dist, "requires_python", self.requires_python);
    json_object_set_new(ctx->data, "distribution", dist);

    /* pip refuses a wheel whose Requires-Python excludes the interpreter. */
    const char *pyver = json_get_str(venv, "version");
    if (self.requires_python && pyver) {
        pyti_specset *rp = specset_parse(self.requires_python, NULL);
        bool fits = !rp || specset_contains_str(rp, pyver, 1);
        specset_free(rp);
        if (!fits) {
            pyti_task_status st = task_fail(ctx, "%s %s requires Python %s; the interpreter is %s",
                                            self.name, self.version, self.requires_python,
                                            pyver);
            dist_metadata_free(&self);
            return st;
        }
    }

    pyti_dist_metadata *installed = NULL;
    size_t ninst = 0;
    if (pyfacts_installed(venv, &installed, &ninst, &err) != PYTI_OK) {
        dist_metadata_free(&self);
        return task_error(ctx, "%s", err.msg);
    }
    /* The wheel first: it is what the venv will have, whatever version
     * of it the system has. */
    installed = xreallocarray(installed, ninst + 1, sizeof *installed);
    memmove(installed + 1, installed, ninst * sizeof *installed);
    dist_metadata_copy(&installed[0], &self);
    ninst++;

    pyti_strv reqs = PYTI_STRV_INIT;
    /* Without any Requires-Dist there is nothing to resolve (and no index
     * to ask): the common case of small pure-Python wheels. */
    if (self.requires_dist.len)
        strv_push_owned(&reqs, self_requirement(&self, task_def_option(ctx->def, "extras")));
    pyti_stage_spec spec = {"dependencies", &reqs, venv, installed, ninst, false, ctx, NULL};
    bool ok = false;
    json_t *rec = staging_run(ctx->job, &spec, &ok);

    /* The distribution itself is not one of its dependencies. */
    char *self_norm = name_normalize(self.name);
    json_t *inst = json_object_get(rec, "installed");
    for (size_t i = 0; i < json_array_size(inst);) {
        char *n = name_normalize(json_get_str(json_array_get(inst, i), "name"));
        if (strcmp(n, self_norm) == 0)
            json_array_remove(inst, i);
        else
            i++;
        free(n);
    }
    free(self_norm);
    json_object_set(ctx->data, "staging", rec);

    pyti_task_status st;
    if (!ok) {
        st = task_error(ctx, "%s", json_get_str(rec, "reason") ? json_get_str(rec, "reason")
                                                              : "the dependencies were not staged");
    } else {
        json_t *item = json_object();
        pyti_strv paths = PYTI_STRV_INIT;
        staging_paths(rec, &paths);
        json_t *wheels = json_array();
        for (size_t i = 0; i < paths.len; i++)
            json_array_append_new(wheels, json_text(paths.items[i]));
        strv_free(&paths);
        json_object_set_new(item, "wheels", wheels);
        json_object_set(item, "staged", json_object_get(rec, "staged"));
        json_object_set(item, "installed", inst);
        task_produce(ctx, "deps", item);
        task_log(ctx, "%zu dependencies staged, %zu satisfied by installed distributions",
                 json_array_size(json_object_get(rec, "staged")), json_array_size(inst));
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(rec, "staged"), i, e)
            task_log(ctx, "  staged %s %s (%s from %s)", json_get_str(e, "name"),
                     json_get_str(e, "version"), json_get_str(e, "filename"),
                     json_get_str(e, "index"));
        json_array_foreach(inst, i, e)
            task_log(ctx, "  installed already: %s %s", json_get_str(e, "name"),
                     json_get_str(e, "version"));
        st = PYTI_TASK_PASSED;
    }
    json_decref(rec);
    strv_free(&reqs);
    pyfacts_installed_free(installed, ninst);
    dist_metadata_free(&self);
    return st;
}
