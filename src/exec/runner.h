/* runner.h — the job runner: runs a recipe's tasks on a prepared job in
 * the task graph's order, skipping what depends on a failure, and returns
 * the job's report.
 *
 * Tasks run in the job's task host (taskhost.h), a forked child that runs
 * them one after another, each with its timeout: a host that crashes or
 * hangs ends its task as `error` or `timeout` and is replaced for the next
 * task; the runner itself survives. A kept job (job->keep) also gets each
 * task's out/<task>/result.json and log.txt. Tasks that run package code — the sandboxed
 * built-ins (venv, build, install, import, test, lint) and command tasks
 * (`run =`) — run only inside the sandbox (see sbtask.h); a job that has
 * any is refused before anything runs when the host cannot give full
 * isolation. There is no unsandboxed path. */
#ifndef PYTI_RUNNER_H
#define PYTI_RUNNER_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "exec/job.h"
#include "exec/recipe.h"
#include "exec/taskgraph.h"

typedef struct pyti_run_events {
    /* Called before task index (0-based, in execution order) of total. */
    void (*task_started)(void *user, size_t index, size_t total, const pyti_task_def *def);
    /* Called after it ended (also for skipped tasks, with duration 0). */
    void (*task_finished)(void *user, size_t index, size_t total, const pyti_task_def *def,
                          pyti_task_status status, const char *reason, double duration_s);
    void *user;
} pyti_run_events;

/* Runs recipe on job. Returns the report (new reference; see report.h).
 * Returns NULL with err only when nothing could run: an invalid task graph
 * (PYTI_ERR_INPUT, file:line), package code to run on a host without
 * full isolation (PYTI_ERR_INTERNAL). events may be NULL. */
json_t *runner_run(pyti_job *job, const pyti_recipe *recipe, const pyti_run_events *events,
                   pyti_error *err);

/* Checks that every task of recipe can run here: the plan is valid, the
 * built-ins exist, and the sandbox offers full isolation if any task runs
 * package code. */
pyti_status runner_check_recipe(const pyti_recipe *recipe, pyti_error *err);

#endif
