/* runner.c — runs a recipe's tasks on a job (see runner.h). */
#include "exec/runner.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "exec/report.h"
#include "exec/sbtask.h"
#include "exec/task.h"
#include "exec/honeytoken.h"
#include "exec/taskhost.h"
#include "exec/tracing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* True if the task runs package code (so only inside the sandbox). */
static bool runs_package_code(const pyti_task_def *t)
{
    if (t->run)
        return true;
    const pyti_builtin *b = t->builtin ? builtin_find(t->builtin) : NULL;
    return b && b->sandboxed;
}

pyti_status runner_check_recipe(const pyti_recipe *recipe, pyti_error *err)
{
    bool needs_sandbox = false;
    for (size_t i = 0; i < recipe->ntasks; i++) {
        const pyti_task_def *t = &recipe->tasks[i];
        if (t->builtin && !builtin_exists(t->builtin))
            return pyti_error_set(err, PYTI_ERR_INPUT, "%s:%u: task '%s': unknown built-in '%s'",
                                  t->file, t->line, t->name, t->builtin);
        needs_sandbox |= runs_package_code(t);
    }
    pyti_plan *plan = plan_build(recipe, err);
    if (!plan)
        return PYTI_ERR_INPUT;
    plan_free(plan);
    /* Package code runs only with full isolation: refuse the whole job
     * before anything runs rather than fail half-way. */
    if (needs_sandbox && sbtask_check_isolation(err) != PYTI_OK)
        return PYTI_ERR_INTERNAL;
    return PYTI_OK;
}

/* A kept job directory (pyti test --keep) also gets each task's
 * out/<task>/result.json and log.txt, for whoever looks at it afterwards
 * (the worker collects the logs from there). Scratch files: no fsync. */
static void write_task_files(const char *out_dir, const pyti_task_outcome *o)
{
    json_t *res = json_object();
    json_object_set_new(res, "status", json_string(task_status_name(o->status)));
    json_set_text(res, "reason", o->reason);
    json_object_set(res, "data", o->data);
    json_object_set(res, "produced", o->produced);
    json_object_set(res, "findings", o->findings);
    json_object_set_new(res, "input_rejected", json_boolean(o->input_rejected));
    char *text = json_dump_pretty(res);
    char *result_path = path_join(out_dir, "result.json");
    char *log_path = path_join(out_dir, "log.txt");
    pyti_error err;
    if (path_mkdirs(out_dir, 0755, &err) != PYTI_OK ||
        path_write_file_scratch(result_path, text, strlen(text), &err) != PYTI_OK ||
        path_write_file_scratch(log_path, o->log ? o->log : "", o->log ? strlen(o->log) : 0,
                                &err) != PYTI_OK)
        log_warn("keeping the task's files: %s", err.msg);
    free(text);
    free(result_path);
    free(log_path);
    json_decref(res);
}

/* Runs def in the task host (started, or restarted after the previous
 * host died, here). */
static void run_task(pyti_taskhost **host, pyti_job *job, const pyti_recipe *recipe,
                     const json_t *items, const pyti_task_def *def, const char *out_dir,
                     pyti_task_outcome *o)
{
    if (*host && !taskhost_alive(*host)) {
        taskhost_stop(*host);
        *host = NULL;
    }
    pyti_error err;
    if (!*host && !(*host = taskhost_start(job, recipe, items, &err))) {
        o->status = PYTI_TASK_ERROR;
        o->reason = xasprintf("cannot start the task: %s", err.msg);
        return;
    }
    /* A sandboxed task enforces its own timeout inside; the host gets a
     * grace period to report it before the runner kills it. */
    double grace = runs_package_code(def) ? 30 : 0;
    taskhost_run(*host, def, def->timeout_s + grace, o);
    if (job->keep)
        write_task_files(out_dir, o);
}

json_t *runner_run(pyti_job *job, const pyti_recipe *recipe, const pyti_run_events *ev,
                   pyti_error *err)
{
    if (runner_check_recipe(recipe, err) != PYTI_OK)
        return NULL;
    pyti_plan *plan = plan_build(recipe, err);
    if (!plan)
        return NULL;

    /* The decoy home of the traced runs is made while the first tasks
     * run (honeytoken.h). */
    bool package_code = false;
    for (size_t i = 0; i < recipe->ntasks; i++)
        package_code |= runs_package_code(&recipe->tasks[i]);
    pid_t seeder = package_code && tracing_enabled(job) ? honeytokens_prepare_async(job) : -1;

    pyti_report_builder rb;
    report_builder_init(&rb, job, recipe);
    json_t *items = json_object(); /* every produced item so far */
    pyti_taskhost *host = NULL;
    size_t total = plan_len(plan);
    for (size_t i = 0; i < total; i++) {
        const pyti_task_def *def = plan_task(plan, i);
        char started[40];
        time_utc_iso8601(started, sizeof started);
        pyti_task_outcome o = {0};
        double t0 = time_monotonic();
        char *skip = plan_skip_reason(plan, i);
        if (skip) {
            o.status = PYTI_TASK_SKIPPED;
            o.reason = skip;
        } else {
            if (seeder > 0 && runs_package_code(def)) {
                /* it is done or nearly: the task would wait for its lock */
                honeytokens_prepare_wait(seeder);
                seeder = -1;
            }
            if (ev && ev->task_started)
                ev->task_started(ev->user, i, total, def);
            /* The task's out dir is made by what needs it: sbtask_run for
             * the sandbox's /job/out, write_task_files in a kept job (a
             * directory is an inode, ~1 ms on an ext4 without journal
             * that just removed the previous job's). */
            char *out_dir = path_join(job->out_dir, def->name);
            run_task(&host, job, recipe, items, def, out_dir, &o);
            free(out_dir);
        }
        double dur = o.status == PYTI_TASK_SKIPPED ? 0 : time_monotonic() - t0;

        /* Only declared items count, and only from tasks that ended well. */
        pyti_strv produced = PYTI_STRV_INIT;
        taskhost_record_items(items, def, o.status, o.produced, &produced);
        plan_record(plan, i, o.status, &produced);
        strv_free(&produced);

        report_add_task(&rb, def, o.status, o.reason, started, dur, o.data, o.findings, o.log,
                        o.input_rejected);
        if (ev && ev->task_finished)
            ev->task_finished(ev->user, i, total, def, o.status, o.reason, dur);
        task_outcome_free(&o);
    }
    taskhost_close(host); /* it exits while the report is built */
    report_set_items(&rb, items);
    json_decref(items);
    plan_free(plan);
    json_t *report = report_builder_finish(&rb);
    taskhost_stop(host);
    honeytokens_prepare_wait(seeder);
    return report;
}
