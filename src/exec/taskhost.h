/* taskhost.h — the task host: one forked child of the runner that runs a
 * job's built-in and command tasks one after another, so that a job pays
 * one fork (and one set-up of the per-process caches: the sandbox's mount
 * plan and seccomp filter, the isolation check) instead of one per task.
 *
 * Isolation from the runner is the same as with a child per task: the
 * runner asks for one task at a time and waits for its result with the
 * task's deadline. A host that crashes, exits or sends anything but a
 * well-formed result ends the task it was running as `error`; one that
 * misses the deadline is killed and the task ends as `timeout`. In both
 * cases the host is gone and the runner starts a fresh one (a new fork of
 * the runner, so it sees the runner's state, not the dead host's) for the
 * next task. So a parser that crashes or hangs on hostile input still
 * costs one task, never the runner, and never a later task.
 *
 * The host keeps its own copy of the data items the tasks produced (by
 * the same rule as the runner: declared items of tasks that ended well),
 * so inputs are never serialised; any disagreement is impossible because
 * a host whose result the runner could not take is discarded. */
#ifndef PYTI_TASKHOST_H
#define PYTI_TASKHOST_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"
#include "common/strv.h"
#include "exec/job.h"
#include "exec/recipe.h"
#include "exec/taskgraph.h"

/* What one task ended with, as the runner reports it. */
typedef struct pyti_task_outcome {
    pyti_task_status status;
    char *reason;
    json_t *data;
    json_t *produced;
    json_t *findings;
    bool input_rejected;
    char *log;
} pyti_task_outcome;

void task_outcome_free(pyti_task_outcome *o);

typedef struct pyti_taskhost pyti_taskhost;

/* Forks a task host for job and recipe; it starts with a copy of items
 * (the data items produced so far). Returns NULL with err (PYTI_ERR_IO) if
 * it cannot fork. */
pyti_taskhost *taskhost_start(const pyti_job *job, const pyti_recipe *recipe,
                              const json_t *items, pyti_error *err);

/* Runs def (a task of the host's recipe; its out dir must exist) in the
 * host and waits at most timeout_s for its result; fills o. Can't fail:
 * whatever goes wrong is the task's outcome (error or timeout). Afterwards
 * the host may be dead (taskhost_alive false): then stop it and start
 * another for the next task. */
void taskhost_run(pyti_taskhost *h, const pyti_task_def *def, double timeout_s,
                  pyti_task_outcome *o);

/* True while the host can take another task. */
bool taskhost_alive(const pyti_taskhost *h);

/* The host's process id (for tests). */
pid_t taskhost_pid(const pyti_taskhost *h);

/* Tells an idle host to exit (closes the channel) without waiting, so
 * that its exit overlaps the caller's next work. NULL is fine. */
void taskhost_close(pyti_taskhost *h);

/* Ends the host (it exits on the closed channel; killed if it was
 * discarded), reaps it and frees h. NULL is fine. */
void taskhost_stop(pyti_taskhost *h);

/* Records in items the values of def's declared `produces` found in
 * produced, when status ended well; their names are appended to names
 * (may be NULL). The one rule the runner and the host both apply. */
void taskhost_record_items(json_t *items, const pyti_task_def *def, pyti_task_status status,
                           const json_t *produced, pyti_strv *names);

#endif
