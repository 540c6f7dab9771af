/* task.h — what a built-in task sees and how it reports back.
 *
 * The runner gives each task a pyti_task_ctx: the job, its definition from
 * the recipe, the values of the data items it `needs`, and an out dir. The
 * task fills ctx->data (its raw data), adds findings, writes to its log,
 * produces data items with task_produce(), and returns a status. Built-in
 * tasks run in a forked child of the runner (the task host, taskhost.h),
 * so a crash or hang in a parser of hostile input costs one task, not the
 * worker. Several tasks of a job run in the same host, one after another:
 * a task must not leave process state behind that changes another's
 * result (working directory, signal dispositions, environment).
 *
 * Built-in tasks never run package code: they only read files. Tasks that
 * run package code exist only as sandboxed tasks (see SECURITY.md). */
#ifndef PYTI_TASK_H
#define PYTI_TASK_H

#include <jansson.h>
#include <stdbool.h>

#include "common/buf.h"
#include "common/finding.h"
#include "exec/job.h"
#include "exec/recipe.h"
#include "exec/taskgraph.h"

typedef struct pyti_task_ctx {
    const pyti_job *job;
    const pyti_task_def *def;
    const char *out_dir;      /* <job>/out/<task>/; made on first use by
                                 sbtask_run (tasks that write there
                                 themselves make it first) */
    const json_t *inputs;     /* {item: value} of the items this task needs */
    json_t *data;             /* the task's raw data (an object it fills) */
    json_t *produced;         /* {item: value}; fill via task_produce */
    pyti_findings findings;
    pyti_buf log;             /* human-readable log, capped on output */
    char *reason;             /* why it did not pass (set by task_fail...) */
    bool input_rejected;      /* the distribution itself was refused */
} pyti_task_ctx;

typedef pyti_task_status (*pyti_builtin_fn)(pyti_task_ctx *ctx);

typedef struct pyti_builtin {
    const char *name;
    const char *summary;
    pyti_builtin_fn run;
    bool sandboxed; /* runs package code, in the sandbox (see sbtask.h) */
} pyti_builtin;

/* The built-in task called name, or NULL. */
const pyti_builtin *builtin_find(const char *name);
/* True if name is a built-in task (for recipe_search.is_builtin). */
bool builtin_exists(const char *name);
/* All built-ins, terminated by an entry with name NULL. */
const pyti_builtin *builtin_all(void);

/* Records item = value (value is stolen). */
void task_produce(pyti_task_ctx *ctx, const char *item, json_t *value);
/* The value of a needed item, or NULL. */
const json_t *task_input(const pyti_task_ctx *ctx, const char *item);
/* Appends a formatted line to the task's log. */
void task_log(pyti_task_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets the reason and returns PYTI_TASK_FAILED. */
pyti_task_status task_fail(pyti_task_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets the reason and returns PYTI_TASK_ERROR (pyti's own failure). */
pyti_task_status task_error(pyti_task_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets the reason and returns PYTI_TASK_NEUTRAL (nothing to judge). */
pyti_task_status task_neutral(pyti_task_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets the reason and returns PYTI_TASK_TIMEOUT. */
pyti_task_status task_timeout(pyti_task_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Initialises / frees a context (the runner does this; tests too). */
void task_ctx_init(pyti_task_ctx *ctx, const pyti_job *job, const pyti_task_def *def,
                   const char *out_dir, const json_t *inputs);
void task_ctx_free(pyti_task_ctx *ctx);

#endif
