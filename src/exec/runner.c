/* runner.c — runs a recipe's tasks on a job (see runner.h). */
#include "exec/runner.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/str.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "exec/report.h"
#include "exec/sbtask.h"
#include "exec/task.h"
#include "exec/tasks_internal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define RESULT_MAX_BYTES (64u << 20)
#define LOG_KEEP_BYTES (64u << 10)

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

/* In the child: run the built-in and write result.json + log.txt. */
static void child_run(const pyti_builtin *b, const pyti_job *job, const pyti_task_def *def,
                      const char *out_dir, const json_t *inputs)
{
    pyti_task_ctx ctx;
    task_ctx_init(&ctx, job, def, out_dir, inputs);
    pyti_task_status st = b ? b->run(&ctx) : task_command(&ctx);
    json_t *res = json_object();
    json_object_set_new(res, "status", json_string(task_status_name(st)));
    json_set_text(res, "reason", ctx.reason);
    json_object_set(res, "data", ctx.data);
    json_object_set(res, "produced", ctx.produced);
    json_object_set_new(res, "findings", findings_to_json(&ctx.findings));
    json_object_set_new(res, "input_rejected", json_boolean(ctx.input_rejected));
    char *result_path = path_join(out_dir, "result.json");
    char *log_path = path_join(out_dir, "log.txt");
    /* Scratch files, read once by the parent and removed with the job: no
     * fsync (two per task were ~6% of a small job on a slow disk). */
    char *text = json_dump_pretty(res);
    int rc = path_write_file_scratch(result_path, text, strlen(text), NULL) == PYTI_OK &&
                     path_write_file_scratch(log_path, buf_cstr(&ctx.log), ctx.log.len, NULL) ==
                         PYTI_OK
                 ? 0
                 : 1;
    free(text);
    free(result_path);
    free(log_path);
    json_decref(res);
    task_ctx_free(&ctx);
    fflush(NULL);
    _exit(rc);
}

/* Waits for pid for at most timeout_s. Returns 0 with *status set, or 1
 * on timeout (the child is killed and reaped). */
static int wait_with_timeout(pid_t pid, double timeout_s, int *status)
{
    int pfd = pidfd_open(pid, 0);
    double deadline = time_monotonic() + timeout_s;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            *status = 0;
            break;
        }
        double left = deadline - time_monotonic();
        if (left <= 0) {
            kill(pid, SIGKILL);
            while (waitpid(pid, status, 0) < 0 && errno == EINTR)
                ;
            if (pfd >= 0)
                close(pfd);
            return 1;
        }
        if (pfd >= 0) {
            struct pollfd p = {pfd, POLLIN, 0};
            int ms = left > 1000 ? 1000000 : (int)(left * 1000) + 1;
            poll(&p, 1, ms);
        } else {
            usleep(left > 0.01 ? 10000 : (useconds_t)(left * 1e6) + 1);
        }
    }
    if (pfd >= 0)
        close(pfd);
    return 0;
}

typedef struct task_outcome {
    pyti_task_status status;
    char *reason;
    json_t *data;
    json_t *produced;
    json_t *findings;
    bool input_rejected;
    char *log;
} task_outcome;

static void outcome_free(task_outcome *o)
{
    free(o->reason);
    json_decref(o->data);
    json_decref(o->produced);
    json_decref(o->findings);
    free(o->log);
}

static void run_builtin(const pyti_job *job, const pyti_task_def *def, const char *out_dir,
                        const json_t *inputs, task_outcome *o)
{
    const pyti_builtin *b = def->builtin ? builtin_find(def->builtin) : NULL;
    /* A sandboxed task enforces its own timeout inside; the child gets a
     * grace period to report it before the runner kills it. */
    double grace = runs_package_code(def) ? 30 : 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        o->status = PYTI_TASK_ERROR;
        o->reason = xasprintf("cannot fork for the task: %s", strerror(errno));
        return;
    }
    if (pid == 0)
        child_run(b, job, def, out_dir, inputs);

    int wstatus = 0;
    if (wait_with_timeout(pid, def->timeout_s + grace, &wstatus)) {
        o->status = PYTI_TASK_TIMEOUT;
        o->reason = xasprintf("exceeded its timeout of %g s", def->timeout_s);
        return;
    }
    if (WIFSIGNALED(wstatus)) {
        o->status = PYTI_TASK_ERROR;
        o->reason = xasprintf("task '%s' crashed (signal %d: %s)", def->name,
                              WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
        return;
    }
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        o->status = PYTI_TASK_ERROR;
        o->reason = xasprintf("task '%s' could not write its result", def->name);
        return;
    }
    char *result_path = path_join(out_dir, "result.json");
    pyti_error err;
    json_t *res = json_read_file(result_path, RESULT_MAX_BYTES, &err);
    free(result_path);
    if (!res) {
        o->status = PYTI_TASK_ERROR;
        o->reason = xasprintf("reading the task's result: %s", err.msg);
        return;
    }
    int st = task_status_from_name(json_get_str(res, "status"));
    o->status = st > 0 ? (pyti_task_status)st : PYTI_TASK_ERROR;
    const char *reason = json_get_str(res, "reason");
    o->reason = reason ? xstrdup(reason) : NULL;
    o->data = json_incref(json_object_get(res, "data"));
    o->produced = json_incref(json_object_get(res, "produced"));
    o->findings = json_incref(json_object_get(res, "findings"));
    o->input_rejected = json_is_true(json_object_get(res, "input_rejected"));
    json_decref(res);

    char *log_path = path_join(out_dir, "log.txt");
    pyti_buf log = PYTI_BUF_INIT;
    if (path_read_file(log_path, 0, &log, NULL) == PYTI_OK && log.len > LOG_KEEP_BYTES) {
        buf_truncate(&log, LOG_KEEP_BYTES);
        buf_puts(&log, "\n[log truncated]\n");
    }
    o->log = buf_detach(&log);
    free(log_path);
}

json_t *runner_run(pyti_job *job, const pyti_recipe *recipe, const pyti_run_events *ev,
                   pyti_error *err)
{
    if (runner_check_recipe(recipe, err) != PYTI_OK)
        return NULL;
    pyti_plan *plan = plan_build(recipe, err);
    if (!plan)
        return NULL;

    pyti_report_builder rb;
    report_builder_init(&rb, job, recipe);
    json_t *items = json_object(); /* every produced item so far */
    size_t total = plan_len(plan);
    for (size_t i = 0; i < total; i++) {
        const pyti_task_def *def = plan_task(plan, i);
        char started[40];
        time_utc_iso8601(started, sizeof started);
        task_outcome o = {0};
        double t0 = time_monotonic();
        char *skip = plan_skip_reason(plan, i);
        if (skip) {
            o.status = PYTI_TASK_SKIPPED;
            o.reason = skip;
        } else {
            if (ev && ev->task_started)
                ev->task_started(ev->user, i, total, def);
            char *out_dir = path_join(job->out_dir, def->name);
            pyti_error merr;
            if (path_mkdirs(out_dir, 0755, &merr) != PYTI_OK) {
                o.status = PYTI_TASK_ERROR;
                o.reason = xstrdup(merr.msg);
            } else {
                json_t *inputs = json_object();
                for (size_t k = 0; k < def->needs.len; k++) {
                    json_t *v = json_object_get(items, def->needs.items[k]);
                    if (v)
                        json_object_set(inputs, def->needs.items[k], v);
                }
                run_builtin(job, def, out_dir, inputs, &o);
                json_decref(inputs);
            }
            free(out_dir);
        }
        double dur = o.status == PYTI_TASK_SKIPPED ? 0 : time_monotonic() - t0;

        /* Only declared items count, and only from tasks that ended well. */
        pyti_strv produced = PYTI_STRV_INIT;
        if (task_status_ok(o.status) && json_is_object(o.produced)) {
            for (size_t k = 0; k < def->produces.len; k++) {
                json_t *v = json_object_get(o.produced, def->produces.items[k]);
                if (v) {
                    json_object_set(items, def->produces.items[k], v);
                    strv_push(&produced, def->produces.items[k]);
                }
            }
        }
        plan_record(plan, i, o.status, &produced);
        strv_free(&produced);

        report_add_task(&rb, def, o.status, o.reason, started, dur, o.data, o.findings, o.log,
                        o.input_rejected);
        if (ev && ev->task_finished)
            ev->task_finished(ev->user, i, total, def, o.status, o.reason, dur);
        outcome_free(&o);
    }
    report_set_items(&rb, items);
    json_decref(items);
    plan_free(plan);
    return report_builder_finish(&rb);
}
