/* taskgraph.h — the task manager's plan: a recipe's tasks in a valid,
 * deterministic order, and the bookkeeping that decides which tasks to skip
 * when others fail.
 *
 * Edges: a task depends on every task it `requires`, and on the producer of
 * every item it `needs`. plan_build checks, before anything runs: unknown
 * required tasks, needed items nobody produces, items produced by two
 * tasks, and cycles (reported as a path "a -> b -> c -> a"); every error
 * names the recipe file:line of the offending task.
 *
 * Order: Kahn's algorithm choosing, among ready tasks, the one defined
 * first in the recipe — so the order is deterministic and follows the
 * author's order where the dependencies allow.
 *
 * Skips: once a task ends, plan_record() stores its status and the items it
 * actually produced. plan_skip_reason() then tells, for a later task,
 * whether it must be skipped and why: "requires task 'build' which failed",
 * "needs 'installed' which task 'install' did not produce", or
 * "requires task 'x' which was skipped". Skips are transitive because a
 * skipped task produces nothing and counts as not passed.
 *
 * The exact reasons (requires are checked first, in order, then needs):
 *   requires task 'T' which failed | timed out | was skipped | ended in error
 *   needs 'I' from task 'T' which failed | timed out | was skipped | ended in error
 *   needs 'I' which task 'T' did not produce      (T passed or was neutral)
 * Cycles are found deterministically: walking from the earliest-defined
 * task that could not be ordered to its earliest-defined unordered
 * dependency; the loop is printed from its earliest-defined task, whose
 * file:line the message names. See docs/recipes.md. */
#ifndef PYTI_TASKGRAPH_H
#define PYTI_TASKGRAPH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/strv.h"
#include "exec/recipe.h"

typedef enum pyti_task_status {
    PYTI_TASK_PENDING = 0,
    PYTI_TASK_PASSED,
    PYTI_TASK_FAILED,
    PYTI_TASK_SKIPPED,
    PYTI_TASK_TIMEOUT,
    PYTI_TASK_ERROR,   /* pyti's or the infrastructure's fault */
    PYTI_TASK_NEUTRAL, /* ran, nothing to judge (e.g. no tests found) */
} pyti_task_status;

/* "passed", "failed", ... */
const char *task_status_name(pyti_task_status s);
/* Inverse of task_status_name; -1 if unknown. */
int task_status_from_name(const char *name);
/* True for passed and neutral: the statuses dependants may run after. */
bool task_status_ok(pyti_task_status s);

typedef struct pyti_plan pyti_plan; /* opaque */

/* Builds the plan for r (which must outlive the plan). NULL with err
 * (PYTI_ERR_INPUT) on any of the problems above; only the first problem
 * (in definition order) is reported. O((n + e) log n) for n tasks and e
 * dependencies. The caller owns the plan (plan_free, NULL is fine). */
pyti_plan *plan_build(const pyti_recipe *r, pyti_error *err);
void plan_free(pyti_plan *p);

/* Number of tasks, and the i-th task in execution order. */
size_t plan_len(const pyti_plan *p);
const pyti_task_def *plan_task(const pyti_plan *p, size_t i);
/* Indices (into execution order) of the tasks task i depends on directly,
 * deduplicated, ascending; *n gets their count. Owned by the plan. */
const size_t *plan_deps(const pyti_plan *p, size_t i, size_t *n);

/* Records the outcome of task i: its status and the data items it
 * produced (only items it declared count; others are ignored). produced
 * may be NULL (nothing). Recording again replaces the earlier outcome. An
 * out-of-range i is ignored. */
void plan_record(pyti_plan *p, size_t i, pyti_task_status status, const pyti_strv *produced);
pyti_task_status plan_status(const pyti_plan *p, size_t i);

/* If task i must be skipped given the outcomes recorded so far, returns a
 * new string with the reason; else NULL. Tasks whose dependencies have not
 * all been recorded are reported as skipped only once a dependency has
 * failed; call in execution order. */
char *plan_skip_reason(const pyti_plan *p, size_t i);

#endif
