/* sbtask.h — how a task runs something inside the sandbox: the job's
 * standard mounts and environment, output capture into the task's out dir,
 * resource usage and denied calls recorded in the task's data, and safe
 * reading of what package code left behind.
 *
 * Inside, every sandboxed task sees:
 *   /job/input       the distribution (and staged files), read-only
 *   /job/work        the job's work dir, writable (shared by the tasks)
 *   /job/work/dist   the unpacked distribution, read-only (so host-side
 *                    tasks can trust it after package code ran)
 *   /job/out         this task's out dir, writable
 *   /pyti            pyti's in-sandbox helpers (python/), read-only
 *   /wheelhouse      the local wheelhouse, read-only
 *   /pyti/bin/pyti-core  pyti's own binary, read-only (the native wheel
 *                    installer runs inside, where package code's symlinks
 *                    in /job/work can redirect nothing outside)
 * with the venv's bin first on PATH once the venv task made it. */
#ifndef PYTI_SBTASK_H
#define PYTI_SBTASK_H

#include <jansson.h>

#include "common/err.h"
#include "exec/job.h"
#include "exec/task.h"

#define SB_INPUT "/job/input"
#define SB_WORK "/job/work"
#define SB_DIST "/job/work/dist"
#define SB_OUT "/job/out"
#define SB_HELPERS "/pyti"
#define SB_WHEELHOUSE "/wheelhouse"
#define SB_VENV "/job/work/venv"
#define SB_VENV_PYTHON "/job/work/venv/bin/python"
#define SB_CORE "/pyti/bin/pyti-core"

/* Largest helper result read back from the out dir. */
#define SBTASK_RESULT_MAX (16u << 20)

typedef struct sbtask_opts {
    char *const *argv;          /* what to run (argv[0] searched in PATH) */
    const char *cwd;            /* inside; NULL = /job/work */
    const char *const *env;     /* extra NAME=VALUE entries, NULL-terminated, or NULL */
    double timeout_s;           /* 0 = the task's timeout */
} sbtask_opts;

/* Runs o->argv for the task in the sandbox and waits. The tails of the
 * captured stdout and stderr go to the task's log (and the whole of them,
 * up to the output limit, to <job>/logs/<task>.stdout and .stderr when the
 * job directory is kept); ctx->data gets "sandbox" (usage, limit, exit status, denied
 * calls) and "resources" {wall_s, cpu_s, peak_memory_bytes}. Returns:
 * PYTI_TASK_PASSED when the command exited 0, PYTI_TASK_FAILED when it
 * exited non-zero or hit a limit (the reason names it), PYTI_TASK_TIMEOUT,
 * or PYTI_TASK_ERROR when the sandbox itself failed (reason set).
 * *exit_code (may be NULL) gets the exit code or -1. */
pyti_task_status sbtask_run(pyti_task_ctx *ctx, const sbtask_opts *o, int *exit_code);

/* Reads <out>/<name> (written by a helper inside: untrusted) as JSON: a
 * regular file reached without symlinks, at most SBTASK_RESULT_MAX bytes,
 * a JSON object. NULL with err otherwise. */
json_t *sbtask_read_json(const pyti_task_ctx *ctx, const char *name, pyti_error *err);

/* The host path of an inside path under /job/work or /job/input, or NULL
 * for anything else (including paths with ".." components). */
char *sbtask_host_path(const pyti_job *job, const char *inside);

/* The inside path of a host path under the job's work or input dir, or
 * NULL. */
char *sbtask_inside_path(const pyti_job *job, const char *host);

/* Runs pyti's in-sandbox helper python/pyti_helper/<helper>.py with the
 * job's interpreter in isolated mode (-I) and the NULL-terminated args,
 * plus "--result /job/out/helper.json"; then reads that result into
 * *result (NULL if the helper left none or it is unusable; the reason is
 * logged). Returns as sbtask_run does. */
pyti_task_status sbtask_helper(pyti_task_ctx *ctx, const char *helper, const char *const *args,
                               double timeout_s, json_t **result);

/* Opens an inside path under /job/work or /job/input for reading on the
 * host side, refusing symlinks anywhere on the way (openat2
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): package code cannot redirect
 * pyti to a host file. Returns an fd or -1 with err. */
int sbtask_open_beneath(const pyti_job *job, const char *inside, pyti_error *err);

/* The host path of the pyti-core binary mounted at SB_CORE: $PYTI_CORE_BIN,
 * else this process when it is pyti-core, else the build tree's, else the
 * installed one. Static storage. */
const char *sbtask_core_binary(void);

/* Checks once per process that the sandbox offers full isolation, and
 * warns once about missing cgroups. PYTI_ERR_INTERNAL naming what is
 * missing: pyti then refuses to run package code. */
pyti_status sbtask_check_isolation(pyti_error *err);

#endif
