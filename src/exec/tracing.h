/* tracing.h — behaviour tracing of the sandboxed tasks: turns on the
 * sandbox's tracer for a task's run, seeds the decoy home and environment
 * (honeytoken.h), judges every traced event with the behaviour policy
 * (policy.h) as it happens, and after the run adds what only shows at the
 * end (limits hit, fork counts, bait files read behind the tracer's back,
 * combinations such as "read a secret, then reached out").
 *
 * Each event kept is annotated with its task and phase (the built-in's
 * name: build, install, import, test, lint, venv; "command" for run
 * tasks) and, when the policy made a finding of it, the finding's id and
 * severity. Findings carry where = "<phase>: pid N (comm) at T s" and the
 * event's text as excerpt. docs/tracing.md describes it all. */
#ifndef PYTI_TRACING_H
#define PYTI_TRACING_H

#include "common/err.h"
#include "common/strv.h"
#include "exec/task.h"
#include "sandbox/sandbox.h"

typedef struct pyti_tracing pyti_tracing;

/* Prepares the tracing of one sandbox run of ctx's task: loads the policy,
 * prepares the job's honeytokens, sets spec->trace, keep_event, user,
 * home_source and max_events, and appends the bait environment to env.
 * NULL with err (PYTI_ERR_INPUT for a broken policy file, PYTI_ERR_IO for
 * the decoy home) on failure: the task must not run untraced. */
pyti_tracing *tracing_begin(pyti_task_ctx *ctx, pyti_sandbox_spec *spec, pyti_strv *env,
                            pyti_error *err);

/* After the run: limits, fork counts, the access-time check of the bait
 * files, combinations; writes ctx->data "trace" (counts, bait list). */
void tracing_end(pyti_tracing *t, const pyti_sandbox_result *res);

void tracing_free(pyti_tracing *t);

/* The phase of a task: its built-in's name, or "command". */
const char *tracing_phase(const pyti_task_def *def);

/* True unless the job's pyti.ini says [sandbox] trace = no: then every
 * sandboxed run of the job is traced. */
bool tracing_enabled(const pyti_job *job);

#endif
