/* trace_overhead.c — benchmark helper: runs one pip-install workload in
 * pyti's sandbox, untraced or traced exactly as `pyti test` traces a task
 * (tracing.h: the behaviour tracer, the decoy home and environment, the
 * policy judging every event), and prints the wall-clock seconds, the
 * traced calls and the events kept. bench/trace_overhead drives it (and
 * strace around it) and summarises.
 *
 * The workload: `python3 -m venv` (ensurepip installs Debian's pip and
 * setuptools wheels) into /tmp/v, then pip installs every wheel of the
 * read-only WHEELS dir (--no-index --no-deps --no-compile).
 *
 * usage: trace_overhead untraced|traced WHEELS_DIR NAME... */
#include "common/path.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "exec/job.h"
#include "exec/recipe.h"
#include "exec/task.h"
#include "exec/tracing.h"
#include "sandbox/sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "untraced") && strcmp(argv[1], "traced"))) {
        fprintf(stderr, "usage: trace_overhead untraced|traced WHEELS_DIR NAME...\n");
        return 2;
    }
    bool traced = strcmp(argv[1], "traced") == 0;
    pyti_strv cmd = PYTI_STRV_INIT;
    strv_push(&cmd, "/usr/bin/python3 -m venv /tmp/v && /tmp/v/bin/python -m pip install -q "
                    "--no-index --find-links /wheels --no-deps --no-compile "
                    "--disable-pip-version-check");
    for (int i = 3; i < argc; i++)
        strv_push(&cmd, argv[i]);
    char *line = strv_join(&cmd, " ");
    char *sh[] = {"/bin/sh", "-c", line, NULL};

    pyti_error err;
    char *jobdir = path_mkdtemp(NULL, "pyti-bench-", &err);
    if (!jobdir) {
        fprintf(stderr, "%s\n", err.msg);
        return 3;
    }
    pyti_sandbox_spec spec;
    sandbox_spec_init(&spec);
    pyti_sandbox_mount m[] = {{SANDBOX_MOUNT_RO_BIND, argv[2], "/wheels", 0}};
    spec.argv = sh;
    spec.mounts = m;
    spec.n_mounts = 1;
    spec.limits.timeout_s = 600;
    spec.limits.memory_bytes = 2ull << 30;
    spec.limits.pids = 512;
    spec.give_writable_dirs = true;

    /* The same set-up as a task of `pyti test`: a job directory for the
     * decoy home, an install task's context, tracing_begin. */
    pyti_job job;
    memset(&job, 0, sizeof job);
    job.job_dir = jobdir;
    pyti_task_def def;
    memset(&def, 0, sizeof def);
    def.name = "install";
    def.builtin = "install";
    pyti_task_ctx ctx;
    task_ctx_init(&ctx, &job, &def, jobdir, NULL);
    pyti_strv env = PYTI_STRV_INIT;
    strv_push(&env, "PATH=/usr/bin:/bin");
    strv_push(&env, "HOME=/home/pyti");
    strv_push(&env, "LANG=C.UTF-8");
    strv_push(&env, "TMPDIR=/tmp");
    pyti_tracing *t = NULL;
    double tb = now();
    if (traced && !(t = tracing_begin(&ctx, &spec, &env, &err))) {
        fprintf(stderr, "tracing: %s\n", err.msg);
        return 3;
    }
    spec.envp = env.items;
    if (traced)
        fprintf(stderr, "setup %.4f s (policy, decoy home)\n", now() - tb);

    pyti_sandbox_result res;
    double t0 = now();
    pyti_status st = sandbox_run(&spec, &res, &err);
    double wall = now() - t0;
    int rc = 0;
    if (st != PYTI_OK) {
        fprintf(stderr, "sandbox: %s\n", err.msg);
        rc = 3;
    } else if (res.exit_code != 0) {
        fprintf(stderr, "workload exited %d\n", res.exit_code);
        rc = 1;
    } else {
        if (t)
            tracing_end(t, &res);
        printf("%.4f %llu %zu %zu\n", wall, (unsigned long long)res.traced_calls, res.n_events,
               ctx.findings.len);
        struct rusage self;
        getrusage(RUSAGE_SELF, &self);
        fprintf(stderr, "supervisor CPU %.3f s (user %.3f, sys %.3f); sandbox CPU %.3f s\n",
                (double)self.ru_utime.tv_sec + (double)self.ru_utime.tv_usec / 1e6 +
                    (double)self.ru_stime.tv_sec + (double)self.ru_stime.tv_usec / 1e6,
                (double)self.ru_utime.tv_sec + (double)self.ru_utime.tv_usec / 1e6,
                (double)self.ru_stime.tv_sec + (double)self.ru_stime.tv_usec / 1e6,
                res.user_s + res.sys_s);
        for (size_t i = 0; i < ctx.findings.len; i++)
            fprintf(stderr, "finding %s: %s (%s)\n", ctx.findings.items[i].id,
                    ctx.findings.items[i].excerpt ? ctx.findings.items[i].excerpt : "",
                    ctx.findings.items[i].where ? ctx.findings.items[i].where : "");
    }
    sandbox_result_free(&res);
    tracing_free(t);
    task_ctx_free(&ctx);
    strv_free(&env);
    strv_free(&cmd);
    free(line);
    path_rmtree(jobdir, NULL);
    free(jobdir);
    return rc;
}
