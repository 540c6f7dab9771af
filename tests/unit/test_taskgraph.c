/* test_taskgraph.c — unit tests for src/exec/taskgraph.c: ordering
 * (linear, diamond, many dependencies, data edges, determinism, a large
 * random DAG), validation errors with file:line (cycles, missing and
 * double producers, unknown and self requires) and skip propagation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/buf.h"
#include "common/err.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "exec/recipe.h"
#include "exec/taskgraph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- building recipes in memory ------------------------------------------ */

static pyti_recipe *new_recipe(void)
{
    pyti_recipe *r = xcalloc(1, sizeof *r);
    r->name = xstrdup("mem");
    r->file = xstrdup("recipes/mem.ini");
    return r;
}

/* Adds a task; the lists are space-separated (NULL for none). Its "line"
 * is 10 * (its definition index + 1) so messages are easy to predict. */
static pyti_task_def *add_task(pyti_recipe *r, const char *name, const char *requires,
                               const char *needs, const char *produces)
{
    r->tasks = xreallocarray(r->tasks, r->ntasks + 1, sizeof *r->tasks);
    pyti_task_def *t = &r->tasks[r->ntasks++];
    memset(t, 0, sizeof *t);
    t->name = xstrdup(name);
    t->run = xstrdup("true");
    t->timeout_s = 600;
    if (requires)
        strv_split(&t->requires, requires, " ");
    if (needs)
        strv_split(&t->needs, needs, " ");
    if (produces)
        strv_split(&t->produces, produces, " ");
    t->file = xstrdup("recipes/x.ini");
    t->line = (unsigned)(10 * r->ntasks);
    return t;
}

static pyti_plan *build_ok(const pyti_recipe *r)
{
    pyti_error err;
    pyti_plan *p = plan_build(r, &err);
    if (!p)
        fprintf(stderr, "plan_build: %s\n", err.msg);
    assert_non_null(p);
    return p;
}

static void expect_plan_error(const pyti_recipe *r, const char *msg)
{
    pyti_error err;
    pyti_error_clear(&err);
    pyti_plan *p = plan_build(r, &err);
    assert_null(p);
    if (strcmp(err.msg, msg) != 0)
        fprintf(stderr, "want: %s\ngot:  %s\n", msg, err.msg);
    assert_string_equal(err.msg, msg);
    assert_int_equal(err.code, PYTI_ERR_INPUT);
}

/* The execution order as "a b c". */
static char *order_of(const pyti_plan *p)
{
    pyti_strv v = PYTI_STRV_INIT;
    for (size_t i = 0; i < plan_len(p); i++)
        strv_push(&v, plan_task(p, i)->name);
    char *s = strv_join(&v, " ");
    strv_free(&v);
    return s;
}

static void assert_order(const pyti_plan *p, const char *want)
{
    char *got = order_of(p);
    assert_string_equal(got, want);
    free(got);
}

static long pos_of(const pyti_plan *p, const char *name)
{
    for (size_t i = 0; i < plan_len(p); i++) {
        if (strcmp(plan_task(p, i)->name, name) == 0)
            return (long)i;
    }
    return -1;
}

/* The names of task i's dependencies as "a b". */
static char *deps_of(const pyti_plan *p, size_t i)
{
    size_t n;
    const size_t *d = plan_deps(p, i, &n);
    pyti_strv v = PYTI_STRV_INIT;
    for (size_t j = 0; j < n; j++)
        strv_push(&v, plan_task(p, d[j])->name);
    char *s = strv_join(&v, " ");
    strv_free(&v);
    return s;
}

static void assert_deps(const pyti_plan *p, const char *task, const char *want)
{
    long i = pos_of(p, task);
    assert_true(i >= 0);
    char *got = deps_of(p, (size_t)i);
    assert_string_equal(got, want);
    free(got);
}

static void record(pyti_plan *p, const char *task, pyti_task_status s, const char *produced)
{
    long i = pos_of(p, task);
    assert_true(i >= 0);
    pyti_strv v = PYTI_STRV_INIT;
    if (produced)
        strv_split(&v, produced, " ");
    plan_record(p, (size_t)i, s, &v);
    assert_int_equal(plan_status(p, (size_t)i), s);
    strv_free(&v);
}

static void assert_skip(const pyti_plan *p, const char *task, const char *want)
{
    long i = pos_of(p, task);
    assert_true(i >= 0);
    char *got = plan_skip_reason(p, (size_t)i);
    if (!want) {
        if (got)
            fprintf(stderr, "%s: unexpected skip: %s\n", task, got);
        assert_null(got);
    } else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
    free(got);
}

/* ---- statuses ---------------------------------------------------------- */

static void test_status_names(void **state)
{
    for (int s = PYTI_TASK_PENDING; s <= PYTI_TASK_NEUTRAL; s++)
        assert_int_equal(task_status_from_name(task_status_name((pyti_task_status)s)), s);
    assert_string_equal(task_status_name(PYTI_TASK_PASSED), "passed");
    assert_string_equal(task_status_name(PYTI_TASK_TIMEOUT), "timeout");
    assert_string_equal(task_status_name(PYTI_TASK_NEUTRAL), "neutral");
    assert_int_equal(task_status_from_name("nope"), -1);
    assert_int_equal(task_status_from_name(NULL), -1);
    assert_true(task_status_ok(PYTI_TASK_PASSED));
    assert_true(task_status_ok(PYTI_TASK_NEUTRAL));
    assert_false(task_status_ok(PYTI_TASK_FAILED));
    assert_false(task_status_ok(PYTI_TASK_SKIPPED));
    assert_false(task_status_ok(PYTI_TASK_TIMEOUT));
    assert_false(task_status_ok(PYTI_TASK_ERROR));
    assert_false(task_status_ok(PYTI_TASK_PENDING));
}

/* ---- ordering ---------------------------------------------------------- */

static void test_linear(void **state)
{
    pyti_recipe *r = new_recipe();
    add_task(r, "test", "install", NULL, NULL);
    add_task(r, "install", "build", NULL, NULL);
    add_task(r, "build", NULL, NULL, NULL);
    pyti_plan *p = build_ok(r);
    assert_int_equal(plan_len(p), 3);
    assert_order(p, "build install test");
    assert_deps(p, "build", "");
    assert_deps(p, "install", "build");
    assert_deps(p, "test", "install");
    for (size_t i = 0; i < plan_len(p); i++)
        assert_int_equal(plan_status(p, i), PYTI_TASK_PENDING);
    assert_null(plan_task(p, 3));
    size_t n = 99;
    assert_null(plan_deps(p, 3, &n));
    assert_int_equal(n, 0);
    plan_free(p);
    recipe_free(r);
}

static void test_empty(void **state)
{
    pyti_recipe *r = new_recipe();
    pyti_plan *p = build_ok(r);
    assert_int_equal(plan_len(p), 0);
    plan_free(p);
    recipe_free(r);
}

static void test_diamond(void **state)
{
    pyti_recipe *r = new_recipe();
    add_task(r, "d", "c b", NULL, NULL);
    add_task(r, "c", "a", NULL, NULL);
    add_task(r, "b", "a", NULL, NULL);
    add_task(r, "a", NULL, NULL, NULL);
    pyti_plan *p = build_ok(r);
    assert_order(p, "a c b d");
    assert_deps(p, "d", "c b"); /* ascending execution positions */
    plan_free(p);
    recipe_free(r);
}

static void test_many_dependencies(void **state)
{
    pyti_recipe *r = new_recipe();
    pyti_buf reqs = PYTI_BUF_INIT;
    for (int i = 999; i >= 0; i--)
        buf_printf(&reqs, " t%d", i);
    add_task(r, "all", buf_cstr(&reqs), NULL, NULL);
    buf_free(&reqs);
    /* Add the dependencies in a scrambled definition order. */
    for (int k = 0; k < 1000; k++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", (k * 7919) % 1000);
        add_task(r, name, NULL, NULL, NULL);
    }
    pyti_plan *p = build_ok(r);
    assert_int_equal(plan_len(p), 1001);
    assert_string_equal(plan_task(p, 1000)->name, "all");
    size_t n;
    const size_t *d = plan_deps(p, 1000, &n);
    assert_int_equal(n, 1000);
    for (size_t j = 0; j < n; j++)
        assert_int_equal(d[j], j);
    /* Independent tasks keep their definition order. */
    for (size_t i = 0; i < 1000; i++)
        assert_string_equal(plan_task(p, i)->name, r->tasks[i + 1].name);
    plan_free(p);
    recipe_free(r);
}

static void test_data_dependencies(void **state)
{
    pyti_recipe *r = new_recipe();
    add_task(r, "test", NULL, "installed tests", NULL);
    add_task(r, "install", NULL, "wheel", "installed");
    add_task(r, "build", NULL, "source", "wheel");
    add_task(r, "extract", NULL, NULL, "source tests");
    pyti_plan *p = build_ok(r);
    assert_order(p, "extract build install test");
    assert_deps(p, "test", "extract install");
    assert_deps(p, "install", "build");
    plan_free(p);
    recipe_free(r);
}

static void test_mixed_edges(void **state)
{
    pyti_recipe *r = new_recipe();
    add_task(r, "report", "lint test", "coverage", NULL);
    add_task(r, "lint", "extract", "source", NULL);
    add_task(r, "test", "install", "source", "coverage");
    add_task(r, "install", "extract", NULL, NULL);
    add_task(r, "extract", NULL, NULL, "source");
    pyti_plan *p = build_ok(r);
    assert_order(p, "extract lint install test report");
    /* requires and needs of the same task are one edge. */
    assert_deps(p, "report", "lint test");
    assert_deps(p, "lint", "extract");
    plan_free(p);
    recipe_free(r);
}

static void test_deterministic_order(void **state)
{
    /* Among ready tasks the one defined first runs first, whatever the
     * order of names inside the lists. */
    const char *const lists[][2] = {{"a b", "b a"}, {"b a", "a b"}};
    for (int k = 0; k < 2; k++) {
        pyti_recipe *r = new_recipe();
        add_task(r, "x", NULL, NULL, NULL);
        add_task(r, "y", "z", NULL, NULL);
        add_task(r, "z", NULL, NULL, NULL);
        add_task(r, "c", lists[k][0], NULL, NULL);
        add_task(r, "b", NULL, NULL, NULL);
        add_task(r, "a", NULL, NULL, NULL);
        add_task(r, "w", lists[k][1], NULL, NULL);
        pyti_plan *p = build_ok(r);
        assert_order(p, "x z y b a c w");
        plan_free(p);
        p = build_ok(r); /* twice: same answer */
        assert_order(p, "x z y b a c w");
        plan_free(p);
        recipe_free(r);
    }
}

/* ---- validation errors ---------------------------------------------------- */

static void test_unknown_task(void **state)
{
    pyti_recipe *r = new_recipe();
    add_task(r, "build", NULL, NULL, NULL);
    add_task(r, "lint", "build biuld", NULL, NULL);
    expect_plan_error(r, "recipes/x.ini:20: task 'lint' requires unknown task 'biuld'");
    recipe_free(r);
}

static void test_self_requires(void **state)
{
    pyti_recipe *r = new_recipe();
    add_task(r, "a", NULL, NULL, NULL);
    add_task(r, "b", "a b", NULL, NULL);
    expect_plan_error(r, "recipes/x.ini:20: task 'b' requires itself");
    recipe_free(r);

    r = new_recipe();
    add_task(r, "a", NULL, "x", "x");
    expect_plan_error(r, "recipes/x.ini:10: task 'a' needs 'x' which it produces itself");
    recipe_free(r);
}

static void test_missing_producer(void **state)
{
    pyti_recipe *r = new_recipe();
    add_task(r, "a", NULL, NULL, "source");
    add_task(r, "b", NULL, "source wheel", NULL);
    expect_plan_error(r, "recipes/x.ini:20: task 'b' needs 'wheel' which no task produces");
    recipe_free(r);
}

static void test_two_producers(void **state)
{
    pyti_recipe *r = new_recipe();
    add_task(r, "a", NULL, NULL, "source");
    add_task(r, "b", NULL, NULL, "wheel");
    add_task(r, "c", NULL, NULL, "docs wheel");
    r->tasks[2].file = (free(r->tasks[2].file), xstrdup("recipes/other.ini"));
    expect_plan_error(r, "recipes/other.ini:30: item 'wheel' is produced by two tasks: "
                         "'b' (recipes/x.ini:20) and 'c' (recipes/other.ini:30)");
    recipe_free(r);

    /* A task listing an item twice is still its only producer. */
    r = new_recipe();
    add_task(r, "a", NULL, NULL, "x x");
    add_task(r, "b", NULL, "x", NULL);
    pyti_plan *p = build_ok(r);
    assert_order(p, "a b");
    plan_free(p);
    recipe_free(r);
}

static void test_duplicate_task_names(void **state)
{
    pyti_recipe *r = new_recipe();
    add_task(r, "a", NULL, NULL, NULL);
    add_task(r, "a", NULL, NULL, NULL);
    expect_plan_error(r, "recipes/x.ini:20: task 'a' is defined twice (first at recipes/x.ini:10)");
    recipe_free(r);
}

static void test_cycles(void **state)
{
    /* 2-cycle through requires. */
    pyti_recipe *r = new_recipe();
    add_task(r, "ok", NULL, NULL, NULL);
    add_task(r, "a", "b", NULL, NULL);
    add_task(r, "b", "a ok", NULL, NULL);
    expect_plan_error(r, "recipes/x.ini:20: dependency cycle: a -> b -> a");
    recipe_free(r);

    /* 3-cycle through data edges only: a needs z (from c), c needs y (from
     * b), b needs x (from a). */
    r = new_recipe();
    add_task(r, "b", NULL, "x", "y");
    add_task(r, "a", NULL, "z", "x");
    add_task(r, "c", NULL, "y", "z");
    expect_plan_error(r, "recipes/x.ini:10: dependency cycle: b -> a -> c -> b");
    recipe_free(r);

    /* Mixed edges; a task hanging off the cycle is not part of the path. */
    r = new_recipe();
    add_task(r, "entry", "p", NULL, NULL);
    add_task(r, "p", "q", NULL, NULL);
    add_task(r, "q", NULL, "item", NULL);
    add_task(r, "r", "p", NULL, "item");
    expect_plan_error(r, "recipes/x.ini:20: dependency cycle: p -> q -> r -> p");
    recipe_free(r);
}

/* ---- skips ------------------------------------------------------------- */

static pyti_recipe *pipeline(void)
{
    pyti_recipe *r = new_recipe();
    add_task(r, "extract", NULL, NULL, "source");
    add_task(r, "build", NULL, "source", "wheel");
    add_task(r, "install", "build", "wheel", "installed");
    add_task(r, "test", "install", "installed source", NULL);
    add_task(r, "import", NULL, "installed", NULL);
    add_task(r, "lint", NULL, "source", NULL);
    add_task(r, "metadata", "extract", NULL, NULL);
    return r;
}

static void test_skip_failed_propagates(void **state)
{
    pyti_recipe *r = pipeline();
    pyti_plan *p = build_ok(r);
    assert_order(p, "extract build install test import lint metadata");
    assert_skip(p, "extract", NULL);
    record(p, "extract", PYTI_TASK_PASSED, "source");
    assert_skip(p, "build", NULL);
    record(p, "build", PYTI_TASK_FAILED, "wheel");
    /* Direct dependant: requires comes first in the reason. */
    assert_skip(p, "install", "requires task 'build' which failed");
    record(p, "install", PYTI_TASK_SKIPPED, NULL);
    /* Transitive, through requires and through data. */
    assert_skip(p, "test", "requires task 'install' which was skipped");
    record(p, "test", PYTI_TASK_SKIPPED, NULL);
    assert_skip(p, "import", "needs 'installed' from task 'install' which was skipped");
    record(p, "import", PYTI_TASK_SKIPPED, NULL);
    /* Independent tasks still run. */
    assert_skip(p, "lint", NULL);
    assert_skip(p, "metadata", NULL);
    plan_free(p);
    recipe_free(r);
}

static void test_skip_not_produced(void **state)
{
    pyti_recipe *r = pipeline();
    pyti_plan *p = build_ok(r);
    record(p, "extract", PYTI_TASK_PASSED, "source");
    /* Passed, but without its declared item (an undeclared one is ignored). */
    record(p, "build", PYTI_TASK_PASSED, "somethingelse source");
    assert_skip(p, "install", "needs 'wheel' which task 'build' did not produce");
    record(p, "install", PYTI_TASK_SKIPPED, NULL);
    assert_skip(p, "test", "requires task 'install' which was skipped");
    assert_skip(p, "import", "needs 'installed' from task 'install' which was skipped");
    assert_skip(p, "lint", NULL);

    /* Recording again replaces the earlier outcome. */
    record(p, "build", PYTI_TASK_PASSED, "wheel");
    assert_skip(p, "install", NULL);
    record(p, "build", PYTI_TASK_PASSED, NULL);
    assert_skip(p, "install", "needs 'wheel' which task 'build' did not produce");
    plan_free(p);
    recipe_free(r);
}

static void test_skip_timeout_error_neutral(void **state)
{
    pyti_recipe *r = pipeline();
    pyti_plan *p = build_ok(r);
    record(p, "extract", PYTI_TASK_TIMEOUT, NULL);
    assert_skip(p, "build", "needs 'source' from task 'extract' which timed out");
    assert_skip(p, "lint", "needs 'source' from task 'extract' which timed out");
    assert_skip(p, "metadata", "requires task 'extract' which timed out");
    record(p, "extract", PYTI_TASK_ERROR, NULL);
    assert_skip(p, "metadata", "requires task 'extract' which ended in error");
    assert_skip(p, "build", "needs 'source' from task 'extract' which ended in error");
    record(p, "extract", PYTI_TASK_FAILED, NULL);
    assert_skip(p, "lint", "needs 'source' from task 'extract' which failed");
    /* Neutral (ran, nothing to judge) does not propagate. */
    record(p, "extract", PYTI_TASK_NEUTRAL, "source");
    assert_skip(p, "build", NULL);
    assert_skip(p, "metadata", NULL);
    record(p, "build", PYTI_TASK_NEUTRAL, "wheel");
    assert_skip(p, "install", NULL);
    plan_free(p);
    recipe_free(r);
}

static void test_skip_pending(void **state)
{
    pyti_recipe *r = new_recipe();
    add_task(r, "a", NULL, NULL, "x");
    add_task(r, "b", NULL, NULL, NULL);
    add_task(r, "c", "a b", "x", NULL);
    pyti_plan *p = build_ok(r);
    /* Nothing recorded: not skipped (yet). */
    assert_skip(p, "c", NULL);
    record(p, "a", PYTI_TASK_PASSED, "x");
    assert_skip(p, "c", NULL);
    /* One dependency failed while another is still pending: skipped. */
    record(p, "a", PYTI_TASK_PASSED, NULL);
    assert_skip(p, "c", "needs 'x' which task 'a' did not produce");
    record(p, "a", PYTI_TASK_PASSED, "x");
    record(p, "b", PYTI_TASK_FAILED, NULL);
    assert_skip(p, "c", "requires task 'b' which failed");
    plan_record(p, 99, PYTI_TASK_FAILED, NULL); /* out of range: ignored */
    assert_null(plan_skip_reason(p, 99));
    plan_free(p);
    recipe_free(r);
}

/* ---- a large random DAG ----------------------------------------------------- */

static unsigned long long rng_state = 88172645463325252ULL;
static unsigned long long rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A random DAG of n tasks: task k (in topological "rank" order) depends on
 * up to maxdeps lower-ranked tasks, half through requires and half through
 * data items; tasks are defined in a shuffled order. */
static pyti_recipe *random_dag(size_t n, size_t maxdeps)
{
    size_t *def_of_rank = xmalloc(n * sizeof *def_of_rank);
    for (size_t i = 0; i < n; i++)
        def_of_rank[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = rnd() % i;
        size_t t = def_of_rank[i - 1];
        def_of_rank[i - 1] = def_of_rank[j];
        def_of_rank[j] = t;
    }
    size_t *rank_of_def = xmalloc(n * sizeof *rank_of_def);
    for (size_t k = 0; k < n; k++)
        rank_of_def[def_of_rank[k]] = k;
    pyti_recipe *r = new_recipe();
    for (size_t d = 0; d < n; d++) {
        size_t k = rank_of_def[d];
        char *name = xasprintf("t%zu", k);
        char *item = xasprintf("i%zu", k);
        pyti_task_def *t = add_task(r, name, NULL, NULL, item);
        size_t ndeps = k ? rnd() % (maxdeps + 1) : 0;
        for (size_t j = 0; j < ndeps; j++) {
            size_t dep = rnd() % k;
            char *s = xasprintf(rnd() % 2 ? "t%zu" : "i%zu", dep);
            if (s[0] == 't')
                strv_push_owned(&t->requires, s);
            else
                strv_push_owned(&t->needs, s);
        }
        free(name);
        free(item);
    }
    free(def_of_rank);
    free(rank_of_def);
    return r;
}

static void check_topological(const pyti_recipe *r, const pyti_plan *p)
{
    size_t n = r->ntasks;
    assert_int_equal(plan_len(p), n);
    /* Map names to positions through the plan_deps of every task: each
     * dependency comes strictly earlier, and plan_deps is ascending. */
    for (size_t i = 0; i < n; i++) {
        size_t nd;
        const size_t *d = plan_deps(p, i, &nd);
        for (size_t j = 0; j < nd; j++) {
            assert_true(d[j] < i);
            if (j)
                assert_true(d[j - 1] < d[j]);
        }
    }
    /* And every declared requires / needs is among plan_deps. */
    for (size_t i = 0; i < n; i++) {
        const pyti_task_def *t = plan_task(p, i);
        size_t nd;
        const size_t *d = plan_deps(p, i, &nd);
        for (size_t j = 0; j < t->requires.len; j++) {
            bool found = false;
            for (size_t m = 0; m < nd && !found; m++)
                found = strcmp(plan_task(p, d[m])->name, t->requires.items[j]) == 0;
            assert_true(found);
        }
        for (size_t j = 0; j < t->needs.len; j++) {
            bool found = false;
            for (size_t m = 0; m < nd && !found; m++)
                found = strv_contains(&plan_task(p, d[m])->produces, t->needs.items[j]);
            assert_true(found);
        }
    }
}

/* The reference order: repeatedly the first-defined task whose
 * dependencies are all placed (quadratic, for checking only). */
static void check_reference_order(const pyti_recipe *r, const pyti_plan *p)
{
    size_t n = r->ntasks;
    bool *done = xcalloc(n, sizeof *done);
    for (size_t step = 0; step < n; step++) {
        size_t pick = n;
        for (size_t d = 0; d < n && pick == n; d++) {
            if (done[d])
                continue;
            const pyti_task_def *t = &r->tasks[d];
            bool ready = true;
            for (size_t j = 0; j < t->requires.len && ready; j++) {
                for (size_t e = 0; e < n; e++) {
                    if (strcmp(r->tasks[e].name, t->requires.items[j]) == 0)
                        ready = done[e];
                }
            }
            for (size_t j = 0; j < t->needs.len && ready; j++) {
                for (size_t e = 0; e < n; e++) {
                    if (strv_contains(&r->tasks[e].produces, t->needs.items[j]))
                        ready = done[e];
                }
            }
            if (ready)
                pick = d;
        }
        assert_true(pick < n);
        assert_ptr_equal(plan_task(p, step), &r->tasks[pick]);
        done[pick] = true;
    }
    free(done);
}

static void test_random_dag(void **state)
{
    for (int round = 0; round < 5; round++) {
        pyti_recipe *r = random_dag(300, 8);
        pyti_plan *p = build_ok(r);
        check_topological(r, p);
        check_reference_order(r, p);
        plan_free(p);
        recipe_free(r);
    }
    /* Large: thousands of tasks with many dependencies each. */
    pyti_recipe *r = random_dag(5000, 200);
    pyti_plan *p = build_ok(r);
    check_topological(r, p);
    plan_free(p);
    recipe_free(r);
}

static void test_random_dag_with_back_edge(void **state)
{
    pyti_recipe *r = random_dag(2000, 20);
    /* t1999 needs t0's item; t0 requiring t1999 closes a cycle (every
     * cycle goes through t0, the only task with a backward edge). */
    for (size_t d = 0; d < r->ntasks; d++) {
        if (strcmp(r->tasks[d].name, "t0") == 0)
            strv_push(&r->tasks[d].requires, "t1999");
        if (strcmp(r->tasks[d].name, "t1999") == 0)
            strv_push(&r->tasks[d].needs, "i0");
    }
    pyti_error err;
    assert_null(plan_build(r, &err));
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, ": dependency cycle: "));
    assert_non_null(strstr(err.msg, " t0 -> "));
    /* The same message every time. */
    pyti_error err2;
    assert_null(plan_build(r, &err2));
    assert_string_equal(err.msg, err2.msg);
    recipe_free(r);
}

/* ---- through the recipe loader --------------------------------------------- */

static void test_from_recipe_file(void **state)
{
    char *dir = t_tmpdir();
    char *path = t_write(dir, "x.ini",
                         "[task build]\n"
                         "run = make\n"
                         "\n"
                         "[task lint]\n"
                         "run = flake8\n"
                         "requires = biuld\n");
    pyti_error err;
    pyti_recipe *r = recipe_load(path, NULL, &err);
    assert_non_null(r);
    assert_null(plan_build(r, &err));
    char *want = xasprintf("%s:4: task 'lint' requires unknown task 'biuld'", path);
    assert_string_equal(err.msg, want);
    free(want);
    recipe_free(r);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_diamond),
        cmocka_unit_test(test_many_dependencies),
        cmocka_unit_test(test_data_dependencies),
        cmocka_unit_test(test_mixed_edges),
        cmocka_unit_test(test_deterministic_order),
        cmocka_unit_test(test_unknown_task),
        cmocka_unit_test(test_self_requires),
        cmocka_unit_test(test_missing_producer),
        cmocka_unit_test(test_two_producers),
        cmocka_unit_test(test_duplicate_task_names),
        cmocka_unit_test(test_cycles),
        cmocka_unit_test(test_skip_failed_propagates),
        cmocka_unit_test(test_skip_not_produced),
        cmocka_unit_test(test_skip_timeout_error_neutral),
        cmocka_unit_test(test_skip_pending),
        cmocka_unit_test(test_random_dag),
        cmocka_unit_test(test_random_dag_with_back_edge),
        cmocka_unit_test(test_from_recipe_file),
    };
    return cmocka_run_group_tests_name("taskgraph", tests, NULL, NULL);
}
