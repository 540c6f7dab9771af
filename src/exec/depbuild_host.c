/* depbuild_host.c — a dependency-build session outside a job, for
 * `pyti resolve`: a throwaway job directory, the interpreter and its facts,
 * set up lazily on the first metadata build (see depbuild.h). */
#include "exec/depbuild.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "exec/pyfacts.h"
#include "exec/sbtask.h"
#include "exec/tasks_internal.h"
#include "exec/wheelhouse.h"

#include <stdlib.h>
#include <string.h>

struct pyti_depbuild_host {
    pyti_job job;
    pyti_task_def def;
    pyti_task_ctx ctx;
    json_t *facts;
    pyti_depbuild *session;
    char *python_spec;
    bool tried;            /* set-up attempted */
    pyti_error setup_err;  /* why it failed (session NULL) */
};

pyti_depbuild_host *depbuild_host_new(const pyti_config *cfg, const char *python_spec,
                                      const pyti_strv *urls, bool offline)
{
    pyti_depbuild_host *h = xcalloc(1, sizeof *h);
    h->job.config = cfg;
    h->job.index_offline = offline;
    for (size_t i = 0; i < urls->len; i++)
        strv_push(&h->job.index_urls, urls->items[i]);
    h->python_spec = python_spec ? xstrdup(python_spec) : NULL;
    /* --python 3.11.2 names the interpreter 3.11 (python_find's form) */
    char *dot = h->python_spec && python_spec[0] != '/' ? strchr(h->python_spec, '.') : NULL;
    if (dot && (dot = strchr(dot + 1, '.')))
        *dot = '\0';
    h->def.name = (char *)"resolve";
    h->def.timeout_s = 600;
    return h;
}

/* The throwaway job, the interpreter and its facts, the session. */
static pyti_status host_setup(pyti_depbuild_host *h, pyti_error *err)
{
    pyti_job *job = &h->job;
    const pyti_config *cfg = job->config;
    if (sbtask_check_isolation(err) != PYTI_OK)
        return PYTI_ERR_INTERNAL;
    const char *wh = cfg ? config_get(cfg, "jobs", "wheelhouse") : NULL;
    job->wheelhouse = wh ? xstrdup(wh) : wheelhouse_default_dir();
    pyti_status st = job_limits_from_config(cfg, &job->extract_limits, err);
    if (st == PYTI_OK && !(job->job_dir = path_mkdtemp(NULL, "pyti-resolve-", err)))
        st = PYTI_ERR_IO;
    if (st != PYTI_OK)
        return st;
    job->input_dir = path_join(job->job_dir, "input");
    job->work_dir = path_join(job->job_dir, "work");
    job->out_dir = path_join(job->job_dir, "out");
    job->dist_filename = xstrdup("(pyti resolve)");
    job->dist_path = xstrdup("");
    char *out = path_join(job->out_dir, "resolve");
    task_ctx_init(&h->ctx, job, &h->def, out, NULL);
    st = path_mkdirs(job->input_dir, 0755, err);
    if (st == PYTI_OK)
        st = path_mkdirs(job->work_dir, 0755, err);
    if (st == PYTI_OK)
        st = path_mkdirs(out, 0755, err);
    if (st == PYTI_OK)
        st = job_set_python(job, h->python_spec, err);
    if (st == PYTI_OK)
        st = wheelhouse_ensure(job->wheelhouse, err);
    if (st == PYTI_OK && !(h->facts = pyfacts_cache_load(job->python))) {
        /* No cached facts: ask the interpreter inside the sandbox, as the
         * venv task does (which also fills the cache). */
        pyti_task_status ts = task_builtin_venv(&h->ctx);
        h->facts = json_incref(json_object_get(h->ctx.produced, "venv"));
        if (ts != PYTI_TASK_PASSED || !h->facts)
            st = pyti_error_set(err, PYTI_ERR_INTERNAL, "asking %s for its facts in the "
                                "sandbox: %s", job->python,
                                h->ctx.reason ? h->ctx.reason : "no answer");
    }
    if (st == PYTI_OK)
        h->session = depbuild_new(&h->ctx, h->facts, NULL);
    return st;
}

pyti_status depbuild_host_metadata(void *user, const char *project, const pyti_dist_file *f,
                                   const char *path, pyti_dist_metadata *out, pyti_error *err)
{
    pyti_depbuild_host *h = user;
    if (!h->tried) {
        h->tried = true;
        if (host_setup(h, &h->setup_err) != PYTI_OK)
            pyti_error_prefix(&h->setup_err, "no metadata builds");
    }
    if (!h->session) {
        memset(out, 0, sizeof *out);
        if (err)
            *err = h->setup_err;
        return PYTI_ERR_NOTFOUND;
    }
    return depbuild_metadata(h->session, project, f, path, out, err);
}

bool depbuild_host_failed(const pyti_depbuild_host *h)
{
    return h && depbuild_failed(h->session);
}

json_t *depbuild_host_records(const pyti_depbuild_host *h)
{
    return depbuild_records(h ? h->session : NULL);
}

json_t *depbuild_host_findings(const pyti_depbuild_host *h)
{
    return h && h->ctx.data ? findings_to_json(&h->ctx.findings) : json_array();
}

const char *depbuild_host_log(const pyti_depbuild_host *h)
{
    return h && h->ctx.log.len ? buf_cstr(&h->ctx.log) : "";
}

void depbuild_host_free(pyti_depbuild_host *h)
{
    if (!h)
        return;
    depbuild_free(h->session);
    json_decref(h->facts);
    char *out = (char *)h->ctx.out_dir;
    if (h->ctx.data)
        task_ctx_free(&h->ctx);
    free(out);
    free(h->python_spec);
    job_cleanup(&h->job, false);
    free(h);
}
