/* task.c — the task context helpers and the table of built-in tasks
 * (see task.h). Each built-in lives in its own tasks_<name>.c. */
#include "exec/task.h"
#include "common/xalloc.h"
#include "exec/tasks_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const pyti_builtin builtins[] = {
    {"extract", "Unpack the distribution safely into the work directory", task_builtin_extract, false},
    {"metadata", "Read and validate the core metadata (PKG-INFO / METADATA)", task_builtin_metadata, false},
    {"record", "Check a wheel's WHEEL file and verify every RECORD hash and size", task_builtin_record, false},
    {"facts", "Count files, sizes, languages; find tests, docs, build files, native code", task_builtin_facts, false},
    {"scan", "Static red flags: rules over the sources (PCRE2), obfuscation, typosquatting", task_builtin_scan, false},
    {"venv", "Create the job's virtual environment (sandboxed)", task_builtin_venv, true},
    {"build", "Build a wheel from an sdist with its PEP 517 backend, offline (sandboxed)", task_builtin_build, true},
    {"deps", "Resolve the wheel's dependencies and stage them from the indexes (host, no package code)", task_builtin_deps, false},
    {"install", "Install the wheel and its staged dependencies with the native installer (sandboxed)", task_builtin_install, true},
    {"import", "Import every top-level module, each in a fresh interpreter (sandboxed)", task_builtin_import, true},
    {"testdeps", "Find the test requirements, stage them from the indexes and install them (sandboxed)", task_builtin_testdeps, true},
    {"test", "Run the package's own tests against the installed package (sandboxed)", task_builtin_test, true},
    {"lint", "Count pycodestyle issues and pyflakes warnings per KLOC (sandboxed)", task_builtin_lint, true},
    {NULL, NULL, NULL, false},
};

const pyti_builtin *builtin_all(void) { return builtins; }

const pyti_builtin *builtin_find(const char *name)
{
    for (const pyti_builtin *b = builtins; b->name; b++)
        if (strcmp(b->name, name) == 0)
            return b;
    return NULL;
}

bool builtin_exists(const char *name) { return builtin_find(name) != NULL; }

void task_ctx_init(pyti_task_ctx *ctx, const pyti_job *job, const pyti_task_def *def,
                   const char *out_dir, const json_t *inputs)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->job = job;
    ctx->def = def;
    ctx->out_dir = out_dir;
    ctx->inputs = inputs;
    ctx->data = json_object();
    ctx->produced = json_object();
}

void task_ctx_free(pyti_task_ctx *ctx)
{
    json_decref(ctx->data);
    json_decref(ctx->produced);
    findings_free(&ctx->findings);
    buf_free(&ctx->log);
    free(ctx->reason);
    memset(ctx, 0, sizeof *ctx);
}

void task_produce(pyti_task_ctx *ctx, const char *item, json_t *value)
{
    json_object_set_new(ctx->produced, item, value);
}

const json_t *task_input(const pyti_task_ctx *ctx, const char *item)
{
    return ctx->inputs ? json_object_get(ctx->inputs, item) : NULL;
}

void task_log(pyti_task_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&ctx->log, fmt, ap);
    va_end(ap);
    buf_putc(&ctx->log, '\n');
}

__attribute__((format(printf, 3, 0)))
static pyti_task_status set_reason(pyti_task_ctx *ctx, pyti_task_status st, const char *fmt,
                                   va_list ap)
{
    free(ctx->reason);
    if (vasprintf(&ctx->reason, fmt, ap) < 0)
        ctx->reason = xstrdup("(reason lost)");
    task_log(ctx, "%s: %s", task_status_name(st), ctx->reason);
    return st;
}

#define DEFINE_SETTER(fn, status)                                  \
    pyti_task_status fn(pyti_task_ctx *ctx, const char *fmt, ...)  \
    {                                                              \
        va_list ap;                                                \
        va_start(ap, fmt);                                         \
        pyti_task_status st = set_reason(ctx, status, fmt, ap);    \
        va_end(ap);                                                \
        return st;                                                 \
    }

DEFINE_SETTER(task_fail, PYTI_TASK_FAILED)
DEFINE_SETTER(task_error, PYTI_TASK_ERROR)
DEFINE_SETTER(task_neutral, PYTI_TASK_NEUTRAL)
DEFINE_SETTER(task_timeout, PYTI_TASK_TIMEOUT)
