/* tasks_internal.h — the entry points of the built-in tasks, one per
 * tasks_<name>.c, listed in task.c's table. Private to src/exec/. */
#ifndef PYTI_TASKS_INTERNAL_H
#define PYTI_TASKS_INTERNAL_H

#include "exec/task.h"
#include "index/resolver.h"

/* Reads the core metadata of the `wheel` item's file (which must lie in
 * the job's input, where package code cannot change it) into out. */
pyti_status deps_read_wheel_metadata(const pyti_job *job, const json_t *wheel,
                                     pyti_dist_metadata *out, pyti_error *err);

pyti_task_status task_builtin_extract(pyti_task_ctx *ctx);
/* If dir holds exactly one entry and it is a directory (not a link), its
 * path (new string); else NULL. An sdist's top-level directory. */
char *extract_single_top_dir(const char *dir);
/* The arguments of build.py's build phase (python/pyti_helper/build.py)
 * into *args (emptied first): hook "wheel" or "metadata", whether to skip
 * get_requires_for_build_wheel, the staged wheels to install first. */
void build_phase_args(pyti_strv *args, const char *hook, bool no_get_requires,
                      const pyti_strv *install);
pyti_task_status task_builtin_metadata(pyti_task_ctx *ctx);
pyti_task_status task_builtin_record(pyti_task_ctx *ctx);
pyti_task_status task_builtin_facts(pyti_task_ctx *ctx);
pyti_task_status task_builtin_scan(pyti_task_ctx *ctx);
pyti_task_status task_builtin_venv(pyti_task_ctx *ctx);
pyti_task_status task_builtin_build(pyti_task_ctx *ctx);
pyti_task_status task_builtin_deps(pyti_task_ctx *ctx);
/* Runs the native installer (pyti-core install, bound into the sandbox)
 * on the venv: deps first as dependencies (no REQUESTED, no
 * direct_url.json), then wheels (direct_url.json if asked). *report gets
 * its install.json (with "error" when the install was refused); NULL,
 * with the status TIMEOUT or ERROR and the reason set, when it did not
 * report. */
pyti_task_status install_run_core(pyti_task_ctx *ctx, const pyti_strv *deps,
                                  const pyti_strv *wheels, bool direct_url, json_t **report);
pyti_task_status task_builtin_install(pyti_task_ctx *ctx);
pyti_task_status task_builtin_import(pyti_task_ctx *ctx);
pyti_task_status task_builtin_testdeps(pyti_task_ctx *ctx);
pyti_task_status task_builtin_test(pyti_task_ctx *ctx);
pyti_task_status task_builtin_lint(pyti_task_ctx *ctx);
/* Runs a recipe's command task (`run =`) in the sandbox. */
pyti_task_status task_command(pyti_task_ctx *ctx);

#endif
