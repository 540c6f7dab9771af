/* recipe.h — recipes: INI files (libinih) that bundle tasks.
 *
 *   [recipe]
 *   description = Extract, check metadata, count facts
 *   include = base            ; other recipes, by name or path, comma-separated
 *
 *   [task metadata]
 *   builtin = metadata        ; a task implemented in C (src/exec/tasks_*.c)
 *   requires = extract        ; tasks that must pass first
 *   needs = source            ; data items some other task produces
 *   produces = metadata
 *   timeout = 60              ; seconds
 *   description = Read and validate core metadata
 *
 *   [task mytests]
 *   run = python -m pytest    ; a command task: runs package code, so it
 *                               may only ever run inside the sandbox
 *
 * Any other key in a task section is an option passed to the task
 * (`opt.<key>` in the task's view). Including a recipe merges its tasks; a
 * task defined again in the including recipe replaces the included one.
 * Every error names file:line.
 *
 * Details (docs/recipes.md is the full reference):
 * - Lists (requires, needs, produces, include) are separated by commas
 *   and/or whitespace; empty items are dropped, repeats kept once.
 * - An indented line continues the previous key: lists get more items,
 *   other values are joined with a single space. Lines are at most 198
 *   characters (libinih's buffer); longer ones are rejected.
 * - timeout: positive decimal seconds with an optional unit s, m or h
 *   ("90", "1.5m", "2h"), at most 7 days.
 * - Task, item, option and recipe names: [A-Za-z0-9_.-], not starting
 *   with '.' or '-', at most 64 characters.
 * - Merge order: each include's tasks (in include order, recursively),
 *   then the file's own. A task name seen again replaces the earlier
 *   definition entirely, in the earlier definition's position. A file
 *   reached twice through includes is merged once. */
#ifndef PYTI_RECIPE_H
#define PYTI_RECIPE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/strv.h"

typedef struct pyti_task_def {
    char *name;
    char *builtin;       /* built-in task name, or NULL */
    char *run;           /* command line of a command task, or NULL */
    char *description;   /* may be NULL */
    pyti_strv requires;  /* task names */
    pyti_strv needs;     /* data item names */
    pyti_strv produces;  /* data item names */
    double timeout_s;    /* > 0; default 600 */
    pyti_strv option_keys;   /* other keys, in file order */
    pyti_strv option_values; /* parallel to option_keys */
    char *file;          /* where the section was defined */
    unsigned line;       /* line of the [task ...] header */
} pyti_task_def;

typedef struct pyti_recipe {
    char *name;          /* file name without ".ini" */
    char *description;   /* may be NULL */
    char *file;          /* absolute path of the recipe file */
    pyti_task_def *tasks; /* in definition order, included tasks first */
    size_t ntasks;
} pyti_recipe;

/* Where recipes are looked up by name: first user_dir (the user's
 * $XDG_CONFIG_HOME/pyti/recipes), then shipped_dir (pyti's recipes/). Either
 * may be NULL. is_builtin, if set, rejects unknown `builtin =` names at load
 * time with file:line. */
typedef struct pyti_recipe_search {
    const char *user_dir;
    const char *shipped_dir;
    bool (*is_builtin)(const char *name);
} pyti_recipe_search;

/* Loads a recipe by name (looked up in search) or by path (anything
 * containing '/' or ending in ".ini"). Resolves includes (by name or path
 * relative to the including file), detecting include cycles. Checks every
 * section and key: unknown keys in [recipe], a task with both or neither of
 * builtin/run, bad timeouts, unknown builtins, duplicate task sections in
 * one file. Returns NULL with err (PYTI_ERR_NOTFOUND or PYTI_ERR_INPUT)
 * naming file:line.
 *
 * Also: PYTI_ERR_IO when the system refuses to read a file; files larger
 * than 1 MiB are PYTI_ERR_INPUT. An include by name never resolves to the
 * including file itself (the lookup moves on to the next directory), so a
 * user recipe can include the shipped recipe of the same name. The caller
 * owns the result (recipe_free); on error nothing is left allocated. */
pyti_recipe *recipe_load(const char *name_or_path, const pyti_recipe_search *search,
                         pyti_error *err);
/* Frees r and everything in it. r may be NULL. */
void recipe_free(pyti_recipe *r);

/* The task definition with this name, or NULL. */
const pyti_task_def *recipe_find_task(const pyti_recipe *r, const char *name);
/* A task's option value, or NULL. */
const char *task_def_option(const pyti_task_def *t, const char *key);

/* Appends the names of every recipe visible in search (user recipes
 * shadow shipped ones of the same name), sorted, without duplicates. */
void recipe_list(const pyti_recipe_search *search, pyti_strv *names);

#endif
